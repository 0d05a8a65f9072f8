/*
 * Name tables of the message layer: header names and compact forms
 * (RFC 3261 §7.3.3, the IANA header registry) mapped to enum sk_hdr_id,
 * and method names mapped to enum sk_method.
 *
 * Header lookup is a small open-addressing hash over lower-cased names,
 * built once before main() runs; afterwards it is read-only, so every
 * thread may use it without locking. Every header of every message is
 * looked up, so the hash takes constant time and names are compared
 * eight octets at a time.
 */
#include <sipkit/msg.h>

#include <string.h>

#include "msg/msg_int.h"

struct hdr_def {
    const char *name;
    char compact;
};

static const struct hdr_def hdr_defs[SK_HDR__COUNT] = {
    [SK_HDR_OTHER] = {"", 0},
#define SK_HDR_X(id, name, compact) [SK_HDR_##id] = {name, compact},
#include <sipkit/hdr_list.h>
#undef SK_HDR_X
};

/* Each name lower-cased, and a mask with 0x20 where it has a letter: an
 * octet x matches the name's lower-case octet k when (x | mask) == k, so
 * the comparison runs eight octets at a time and is exact for non-letters
 * (a CR never passes for "-"). Padded so eight-octet loads stay inside. */
#define HDR_NAME_MAX 32
struct hdr_key {
    uint8_t len;
    unsigned char lower[HDR_NAME_MAX];
    unsigned char mask[HDR_NAME_MAX];
};

#define HDR_HASH_BITS 9
#define HDR_HASH_SIZE (1u << HDR_HASH_BITS) /* well above 2 x SK_HDR__COUNT */

static struct hdr_key hdr_keys[SK_HDR__COUNT];
static uint16_t hdr_hash_slots[HDR_HASH_SIZE];
static uint8_t compact_ids[26];

static inline unsigned char lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

/* A hash of the length and three octets, case folded: constant time
 * whatever the name's length; the comparison settles collisions. */
static inline uint32_t name_hash(const char *p, size_t len)
{
    uint32_t h = (uint32_t)len;

    if (len > 0) {
        h = h << 24 | (uint32_t)((unsigned char)p[0] | 0x20) << 16 |
            (uint32_t)((unsigned char)p[len / 2] | 0x20) << 8 |
            (uint32_t)((unsigned char)p[len - 1] | 0x20);
    }
    return (h * 0x9e3779b1u) >> (32 - HDR_HASH_BITS);
}

#if defined(__GNUC__)
__attribute__((constructor))
#endif
static void
build_tables(void)
{
    for (int id = 1; id < SK_HDR__COUNT; id++) {
        const char *n = hdr_defs[id].name;
        size_t len = strlen(n);
        struct hdr_key *k = &hdr_keys[id];

        k->len = (uint8_t)len; /* every name is shorter than HDR_NAME_MAX */
        for (size_t i = 0; i < len; i++) {
            unsigned char c = (unsigned char)n[i];
            k->lower[i] = lower(c);
            k->mask[i] = (lower(c) >= 'a' && lower(c) <= 'z') ? 0x20 : 0;
        }
        uint32_t slot = name_hash(n, len);
        while (hdr_hash_slots[slot] != 0)
            slot = (slot + 1) & (HDR_HASH_SIZE - 1);
        hdr_hash_slots[slot] = (uint16_t)id;
        if (hdr_defs[id].compact != 0)
            compact_ids[lower((unsigned char)hdr_defs[id].compact) - 'a'] = (uint8_t)id;
    }
}

/* Compare w octets (2, 4 or 8) of the name at off with the key. The
 * loads go through memcpy: no alignment is assumed. */
static inline bool part_matches(const char *p, const struct hdr_key *k, size_t off, size_t w)
{
    uint64_t x = 0, m = 0, l = 0;

    memcpy(&x, p + off, w);
    memcpy(&m, k->mask + off, w);
    memcpy(&l, k->lower + off, w);
    return (x | m) == l;
}

/* Whether name (of k->len octets, at least 2) is k's name in any letter
 * case. Short names are covered by two overlapping loads, long ones word
 * by word with the last word ending the name. */
static bool name_matches(struct sk_slice name, const struct hdr_key *k)
{
    size_t n = name.len;

    if (n < 4)
        return part_matches(name.p, k, 0, 2) && part_matches(name.p, k, n - 2, 2);
    if (n < 8)
        return part_matches(name.p, k, 0, 4) && part_matches(name.p, k, n - 4, 4);
    for (size_t i = 0; i + 8 < n; i += 8) {
        if (!part_matches(name.p, k, i, 8))
            return false;
    }
    return part_matches(name.p, k, n - 8, 8);
}

enum sk_hdr_id sk_hdr_lookup(struct sk_slice name)
{
    uint32_t slot;

    if (name.len == 1) {
        unsigned char c = lower((unsigned char)name.p[0]);
        return (c >= 'a' && c <= 'z') ? (enum sk_hdr_id)compact_ids[c - 'a'] : SK_HDR_OTHER;
    }
    slot = name_hash(name.p, name.len);
    while (hdr_hash_slots[slot] != 0) {
        const struct hdr_key *k = &hdr_keys[hdr_hash_slots[slot]];
        if (k->len == name.len && name_matches(name, k))
            return (enum sk_hdr_id)hdr_hash_slots[slot];
        slot = (slot + 1) & (HDR_HASH_SIZE - 1);
    }
    return SK_HDR_OTHER;
}

const char *sk_hdr_name(enum sk_hdr_id id)
{
    return (id > 0 && id < SK_HDR__COUNT) ? hdr_defs[id].name : "";
}

char sk_hdr_compact(enum sk_hdr_id id)
{
    return (id > 0 && id < SK_HDR__COUNT) ? hdr_defs[id].compact : 0;
}

struct method_def {
    const char *name;
    uint8_t len;
};

#define M(s)                                                                                       \
    {                                                                                              \
        s, sizeof(s) - 1                                                                           \
    }
static const struct method_def methods[SK_METHOD__COUNT] = {
    [SK_METHOD_OTHER] = M(""),          [SK_METHOD_INVITE] = M("INVITE"),
    [SK_METHOD_ACK] = M("ACK"),         [SK_METHOD_BYE] = M("BYE"),
    [SK_METHOD_CANCEL] = M("CANCEL"),   [SK_METHOD_REGISTER] = M("REGISTER"),
    [SK_METHOD_OPTIONS] = M("OPTIONS"), [SK_METHOD_SUBSCRIBE] = M("SUBSCRIBE"),
    [SK_METHOD_NOTIFY] = M("NOTIFY"),   [SK_METHOD_PUBLISH] = M("PUBLISH"),
    [SK_METHOD_MESSAGE] = M("MESSAGE"), [SK_METHOD_INFO] = M("INFO"),
    [SK_METHOD_PRACK] = M("PRACK"),     [SK_METHOD_UPDATE] = M("UPDATE"),
    [SK_METHOD_REFER] = M("REFER"),
};
#undef M

enum sk_method sk_method_from_slice(struct sk_slice s)
{
    /* RFC 3261 §7.1: the method name is case-sensitive. Lengths and first
     * letters rule out most names before any memcmp. */
    for (int m = 1; m < SK_METHOD__COUNT; m++) {
        if (methods[m].len == s.len && methods[m].name[0] == s.p[0] &&
            memcmp(s.p, methods[m].name, s.len) == 0)
            return (enum sk_method)m;
    }
    return SK_METHOD_OTHER;
}

const char *sk_method_name(enum sk_method m)
{
    return (m >= 0 && m < SK_METHOD__COUNT) ? methods[m].name : "";
}
