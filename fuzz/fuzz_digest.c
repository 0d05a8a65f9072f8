/*
 * libFuzzer target for the Digest challenge / credentials parser
 * (sk_digest_hdr_parse, RFC 3261 §25.1, RFC 7616 §3.3-3.4). Beyond "no
 * crash", it checks that every slice the parser returns lies inside the
 * input, that flags only name present fields, and that parsing is
 * deterministic.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sipkit/msg.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Not assert(): the fuzz build defines NDEBUG (RelWithDebInfo), and the
 * checks must run there. */
#define check(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

static void inside(struct sk_slice s, const char *base, size_t size)
{
    if (s.len == 0)
        return;
    check(s.p >= base && s.p + s.len <= base + size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A private copy so reads past the end are caught by ASan. */
    char *buf = malloc(size ? size : 1);
    struct sk_digest_hdr h, again;

    if (buf == NULL)
        return 0;
    memcpy(buf, data, size);
    int rc = sk_digest_hdr_parse(sk_slice_make(buf, size), &h);
    check(rc == 0 || rc == SK_EPARSE);
    if (rc == 0) {
        inside(h.raw, buf, size);
        inside(h.scheme, buf, size);
        inside(h.params, buf, size);
        check(h.scheme.len > 0);
        for (int i = 0; i < SK_DIG__COUNT; i++) {
            inside(h.f[i], buf, size);
            if (!(h.present & (1u << i)))
                check(h.f[i].len == 0);
        }
        check((h.duplicated & ~h.present) == 0);
        check((h.escaped & ~h.present) == 0);
        check(sk_digest_hdr_parse(sk_slice_make(buf, size), &again) == 0);
        check(memcmp(&h, &again, sizeof(h)) == 0);
    }
    free(buf);
    return 0;
}
