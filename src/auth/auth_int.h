/*
 * Internals shared by the auth layer's files: EVP hashing helpers, hex,
 * quoted-string unescaping, the nonce codec and the nonce-count table.
 */
#ifndef SK_AUTH_INT_H
#define SK_AUTH_INT_H

/* OpenSSL is used with its 3.0 API only (CMakeLists.txt defines
 * OPENSSL_API_COMPAT and OPENSSL_NO_DEPRECATED for every file): its
 * pre-1.1 stack macros would redefine sk_free and sk_new, sipkit names. */

#include <sipkit/auth.h>

#include <openssl/evp.h>

/* The fetched digest for a hash (fetched once, process lifetime). NULL if
 * the provider lacks it (MD5 in FIPS mode). */
const EVP_MD *sk__md(enum sk_auth_hash h);

/* H(parts[0] ":" parts[1] ":" ...) in lower-case hex with a NUL, using ctx
 * (reinitialised here). Returns 0 or SK_EIO. */
int sk__hash_parts(EVP_MD_CTX *ctx, enum sk_auth_hash h, const struct sk_slice *parts, size_t n,
                   char *hex);
void sk__hex(const unsigned char *in, size_t n, char *out);

/* Remove quoted-pair escapes (RFC 3261 §25.1) from a quoted value: out
 * must hold in.len bytes. Returns the new length. */
size_t sk__unescape(struct sk_slice in, char *out);

/* Append s as a quoted-string, escaping '"' and '\'. */
void sk__buf_quoted(struct sk_buf *b, struct sk_slice s);

/* Secure random bytes. Returns 0 or SK_EIO. */
int sk__random(void *p, size_t n);

/* ---- nonces (nonce.c) ---- */

#define SK__SECRET_LEN    SK_AUTH_SECRET_LEN
#define SK__NONCE_BIN     32 /* AES(stamp 8, random 8) 16, MAC 16 */
#define SK__NONCE_KEY_LEN 16 /* AES-128 */
/* A nonce's stamp orders issues: milliseconds << 20 | issue counter. */
#define SK__STAMP_SHIFT     20
#define SK__STAMP_MS(stamp) ((int64_t)((uint64_t)(stamp) >> SK__STAMP_SHIFT))

struct sk__mac;
/* Keyed HMAC-SHA-256 template. */
int sk__mac_new(struct sk__mac **out, const unsigned char *key, size_t keylen);
void sk__mac_free(struct sk__mac *m);
/* HMAC over parts concatenated; writes 32 bytes. */
int sk__mac_compute(struct sk__mac *m, const struct sk_slice *parts, size_t n, unsigned char *out);

/* One AES-128 block (16 bytes) in -> out, encrypting or decrypting.
 * Returns 0 or SK_EIO. */
int sk__block_crypt(const unsigned char *key, const unsigned char *in, unsigned char *out,
                    bool encrypt);

/* Load DIR/auth.secret, creating it on first use. */
int sk__secret_load(const char *dir, unsigned char *secret);

/* base64url without padding (RFC 4648 §5). */
size_t sk__b64url_encode(const unsigned char *in, size_t n, char *out);
/* Returns the decoded length or -1 on a bad character / length. */
long sk__b64url_decode(struct sk_slice in, unsigned char *out, size_t outsz);

/* Nonce-count table: bounded, sharded. */
struct sk__nctab;
/* Nonces stamped at or before start_stamp were issued before the table
 * existed (before a restart): their use is unknown, so they count as
 * evicted. */
int sk__nctab_new(struct sk__nctab **out, size_t slots, uint64_t start_stamp);
void sk__nctab_free(struct sk__nctab *t);

enum sk__nc_verdict {
    SK__NC_OK = 0,
    SK__NC_REPLAY,  /* this nc was seen (or is too far behind) */
    SK__NC_EVICTED, /* state for this nonce was dropped under pressure: re-challenge */
};
/* Record nc for nonce (SK__NONCE_BIN bytes, with its stamp) at now_ms;
 * entries older than lifetime_ms age out. */
enum sk__nc_verdict sk__nctab_use(struct sk__nctab *t, const unsigned char *nonce, uint64_t stamp,
                                  uint32_t nc, int64_t now_ms, int64_t lifetime_ms);

#endif
