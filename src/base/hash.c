/*
 * The keyed hash: SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast
 * short-input PRF", 2012) under one process-wide key. Hash tables whose
 * keys a peer chooses (Call-IDs, branches, user names) must not let it
 * predict which chain an entry lands in, or it can make every lookup walk
 * one long chain; a secret key drawn from getrandom() at first use does
 * that, and one function serves every table.
 *
 * The one-shot sk_hash() and the incremental sk_hasher give the same value
 * for the same bytes.
 */
#include <sipkit/containers.h>

#include <pthread.h>
#include <string.h>
#include <sys/random.h>

static uint64_t key_state[4];
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static uint64_t rotl(uint64_t x, unsigned b)
{
    return (x << b) | (x >> (64 - b));
}

static uint64_t load_le64(const unsigned char *p)
{
    uint64_t v = 0;

    for (unsigned i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static void set_key(const uint8_t k[16])
{
    uint64_t k0 = load_le64(k), k1 = load_le64(k + 8);

    key_state[0] = k0 ^ 0x736f6d6570736575ull;
    key_state[1] = k1 ^ 0x646f72616e646f6dull;
    key_state[2] = k0 ^ 0x6c7967656e657261ull;
    key_state[3] = k1 ^ 0x7465646279746573ull;
}

static void draw_key(void)
{
    uint8_t k[16];

    if (getrandom(k, sizeof(k), 0) != (ssize_t)sizeof(k)) {
        /* No entropy yet (early boot): still differ between processes. */
        uint64_t a = sk_now_ms() ^ (uint64_t)(uintptr_t)&k, b = (uint64_t)sk_wall_s();
        memcpy(k, &a, 8);
        memcpy(k + 8, &b, 8);
    }
    set_key(k);
}

void sk_hash_set_key(const uint8_t key[16])
{
    pthread_once(&key_once, draw_key);
    set_key(key);
}

static void sipround(uint64_t v[4])
{
    v[0] += v[1];
    v[1] = rotl(v[1], 13);
    v[1] ^= v[0];
    v[0] = rotl(v[0], 32);
    v[2] += v[3];
    v[3] = rotl(v[3], 16);
    v[3] ^= v[2];
    v[0] += v[3];
    v[3] = rotl(v[3], 21);
    v[3] ^= v[0];
    v[2] += v[1];
    v[1] = rotl(v[1], 17);
    v[1] ^= v[2];
    v[2] = rotl(v[2], 32);
}

/* Two compression rounds per 8-byte word. */
static void compress(uint64_t v[4], uint64_t m)
{
    v[3] ^= m;
    sipround(v);
    sipround(v);
    v[0] ^= m;
}

void sk_hasher_init(struct sk_hasher *h)
{
    pthread_once(&key_once, draw_key);
    memcpy(h->v, key_state, sizeof(h->v));
    h->tail = 0;
    h->len = 0;
}

void sk_hasher_init_stable(struct sk_hasher *h)
{
    /* The key 00..00: "somepseudorandomlygeneratedbytes" is all that is left. */
    h->v[0] = 0x736f6d6570736575ull;
    h->v[1] = 0x646f72616e646f6dull;
    h->v[2] = 0x6c7967656e657261ull;
    h->v[3] = 0x7465646279746573ull;
    h->tail = 0;
    h->len = 0;
}

void sk_hasher_bytes(struct sk_hasher *h, const void *p, size_t len)
{
    const unsigned char *s = p;
    size_t fill = h->len & 7;

    h->len += len;
    /* Top up the pending word first. */
    if (fill != 0) {
        while (len > 0 && fill < 8) {
            h->tail |= (uint64_t)*s++ << (8 * fill++);
            len--;
        }
        if (fill < 8)
            return;
        compress(h->v, h->tail);
        h->tail = 0;
    }
    for (; len >= 8; s += 8, len -= 8)
        compress(h->v, load_le64(s));
    for (unsigned i = 0; i < len; i++)
        h->tail |= (uint64_t)s[i] << (8 * i);
}

void sk_hasher_u64(struct sk_hasher *h, uint64_t v)
{
    unsigned char b[8];

    for (unsigned i = 0; i < 8; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    sk_hasher_bytes(h, b, sizeof(b));
}

void sk_hasher_field(struct sk_hasher *h, struct sk_slice s)
{
    sk_hasher_bytes(h, s.p, s.len);
    sk_hasher_u64(h, s.len);
}

void sk_hasher_cstr(struct sk_hasher *h, const char *s)
{
    sk_hasher_field(h, sk_slice_cstr(s != NULL ? s : ""));
}

void sk_hasher_field_lower(struct sk_hasher *h, struct sk_slice s)
{
    unsigned char chunk[64];

    for (size_t done = 0; done < s.len;) {
        size_t n = s.len - done < sizeof(chunk) ? s.len - done : sizeof(chunk);
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)s.p[done + i];
            chunk[i] = c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
        }
        sk_hasher_bytes(h, chunk, n);
        done += n;
    }
    sk_hasher_u64(h, s.len);
}

uint64_t sk_hasher_end(const struct sk_hasher *h)
{
    uint64_t v[4], b = ((uint64_t)h->len << 56) | h->tail;

    memcpy(v, h->v, sizeof(v));
    compress(v, b);
    /* Four finalization rounds. */
    v[2] ^= 0xff;
    sipround(v);
    sipround(v);
    sipround(v);
    sipround(v);
    return v[0] ^ v[1] ^ v[2] ^ v[3];
}

uint64_t sk_hash(const void *p, size_t len)
{
    struct sk_hasher h;

    sk_hasher_init(&h);
    sk_hasher_bytes(&h, p, len);
    return sk_hasher_end(&h);
}
