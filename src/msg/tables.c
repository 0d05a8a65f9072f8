/*
 * Name tables of the message layer: header names and compact forms
 * (RFC 3261 §7.3.3, the IANA header registry) mapped to enum sk_hdr_id,
 * and method names mapped to enum sk_method.
 *
 * Header lookup is a small open-addressing hash over lower-cased names,
 * built once before main() runs; afterwards it is read-only, so every
 * thread may use it without locking.
 */
#include <sipkit/msg.h>

#include <string.h>

struct hdr_def {
    const char *name;
    char compact;
};

static uint8_t hdr_name_len[SK_HDR__COUNT];

static const struct hdr_def hdr_defs[SK_HDR__COUNT] = {
    [SK_HDR_OTHER] = {"", 0},
#define SK_HDR_X(id, name, compact) [SK_HDR_##id] = {name, compact},
#include <sipkit/hdr_list.h>
#undef SK_HDR_X
};

#define HDR_HASH_SIZE 512 /* power of two, well above 2 x SK_HDR__COUNT */

static uint16_t hdr_hash_slots[HDR_HASH_SIZE];
static uint8_t compact_ids[26];

static inline unsigned char lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

static uint32_t name_hash(const char *p, size_t len)
{
    uint32_t h = 2166136261u; /* FNV-1a over lower-cased bytes */

    for (size_t i = 0; i < len; i++) {
        h ^= lower((unsigned char)p[i]);
        h *= 16777619u;
    }
    return h;
}

#if defined(__GNUC__)
__attribute__((constructor))
#endif
static void build_tables(void)
{
    for (int id = 1; id < SK_HDR__COUNT; id++) {
        const char *n = hdr_defs[id].name;
        hdr_name_len[id] = (uint8_t)strlen(n);
        uint32_t slot = name_hash(n, strlen(n)) & (HDR_HASH_SIZE - 1);
        while (hdr_hash_slots[slot] != 0)
            slot = (slot + 1) & (HDR_HASH_SIZE - 1);
        hdr_hash_slots[slot] = (uint16_t)id;
        if (hdr_defs[id].compact != 0)
            compact_ids[lower((unsigned char)hdr_defs[id].compact) - 'a'] = (uint8_t)id;
    }
}

enum sk_hdr_id sk_hdr_lookup(struct sk_slice name)
{
    uint32_t slot;

    if (name.len == 1) {
        unsigned char c = lower((unsigned char)name.p[0]);
        return (c >= 'a' && c <= 'z') ? (enum sk_hdr_id)compact_ids[c - 'a'] : SK_HDR_OTHER;
    }
    slot = name_hash(name.p, name.len) & (HDR_HASH_SIZE - 1);
    while (hdr_hash_slots[slot] != 0) {
        uint16_t id = hdr_hash_slots[slot];
        if (hdr_name_len[id] == name.len &&
            sk_slice_caseeq(name, sk_slice_make(hdr_defs[id].name, name.len)))
            return (enum sk_hdr_id)id;
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

static const char *const method_names[SK_METHOD__COUNT] = {
    [SK_METHOD_OTHER] = "",          [SK_METHOD_INVITE] = "INVITE",
    [SK_METHOD_ACK] = "ACK",         [SK_METHOD_BYE] = "BYE",
    [SK_METHOD_CANCEL] = "CANCEL",   [SK_METHOD_REGISTER] = "REGISTER",
    [SK_METHOD_OPTIONS] = "OPTIONS", [SK_METHOD_SUBSCRIBE] = "SUBSCRIBE",
    [SK_METHOD_NOTIFY] = "NOTIFY",   [SK_METHOD_PUBLISH] = "PUBLISH",
    [SK_METHOD_MESSAGE] = "MESSAGE", [SK_METHOD_INFO] = "INFO",
    [SK_METHOD_PRACK] = "PRACK",     [SK_METHOD_UPDATE] = "UPDATE",
    [SK_METHOD_REFER] = "REFER",
};

enum sk_method sk_method_from_slice(struct sk_slice s)
{
    /* RFC 3261 §7.1: the method name is case-sensitive. */
    for (int m = 1; m < SK_METHOD__COUNT; m++) {
        if (sk_slice_eq(s, sk_slice_cstr(method_names[m])))
            return (enum sk_method)m;
    }
    return SK_METHOD_OTHER;
}

const char *sk_method_name(enum sk_method m)
{
    return (m >= 0 && m < SK_METHOD__COUNT) ? method_names[m] : "";
}
