/*
 * sipkit auth layer: HTTP Digest authentication as SIP uses it (RFC 3261
 * §22, RFC 8760, RFC 7616), server and client side.
 *
 * Server: struct sk_auth builds challenges (WWW-Authenticate for 401,
 * Proxy-Authenticate for 407; one per offered algorithm, in the configured
 * order of preference, or in a user's own order when the user requires
 * particular algorithms)
 * and verifies parsed credentials (struct sk_digest_hdr from msg.h) against
 * the request's method, Request-URI and body. Nonces are stateless
 * (timestamp, random, HMAC with a server secret persisted in the data
 * directory); nonce-counts are tracked in a fixed-size table so a replayed
 * nc is refused. Every refusal has a cause (enum sk_auth_cause), a sentence
 * and a decision: challenge again or 403. HA1 values come from a lookup
 * callback (sk_store_auth_lookup() in store.h is one); the auth layer never
 * sees a password on the server side and never logs passwords, HA1 values
 * or credentials.
 *
 * Client: struct sk_auth_client holds a username and password, reads the
 * challenges of a 401/407, picks the strongest algorithm it supports, and
 * writes Authorization / Proxy-Authorization values with an incrementing
 * nonce-count per realm.
 *
 * Memory: struct sk_auth and struct sk_auth_client own their state and are
 * released with sk_auth_free() / sk_auth_client_free() (NULL-safe). Inputs
 * (slices, struct sk_digest_hdr) are only read during the call. Output goes
 * to a caller-owned struct sk_buf. struct sk_auth_result holds no pointers
 * into the input.
 *
 * Threads: sk_auth_challenge() and sk_auth_verify() may be called from any
 * number of threads at once on one struct sk_auth (the nonce-count table is
 * sharded with a lock per shard); the lookup callback is called from those
 * threads. sk_auth_new()/sk_auth_free() are not concurrent with anything. A
 * struct sk_auth_client is used by one thread at a time.
 */
#ifndef SIPKIT_AUTH_H
#define SIPKIT_AUTH_H

#include <sipkit/base.h>
#include <sipkit/msg.h>

/* ---- algorithms and hashes -------------------------------------------- */

/* The hash functions behind the algorithms; HA1 is stored per hash. */
enum sk_auth_hash { SK_HASH_MD5 = 0, SK_HASH_SHA256, SK_HASH_SHA512_256, SK_HASH__COUNT };

/* RFC 7616 §3.3 / IANA "Hash Algorithms for HTTP Digest Authentication". */
enum sk_auth_algo {
    SK_ALGO_MD5 = 0,
    SK_ALGO_MD5_SESS,
    SK_ALGO_SHA256,
    SK_ALGO_SHA256_SESS,
    SK_ALGO_SHA512_256,
    SK_ALGO_SHA512_256_SESS,
    SK_ALGO__COUNT
};

#define SK_ALGO_BIT(a) (1u << (a))

/* An ordered list of algorithms, preferred first: RFC 8760 §2.4 has the
 * server send one challenge per algorithm in its order of preference, and
 * the client use the first one it supports. n == 0 means "the default" to
 * whoever holds the list. */
struct sk_auth_algos {
    uint8_t n;
    uint8_t list[SK_ALGO__COUNT]; /* enum sk_auth_algo values, each at most once */
};

/* Offered by default: MD5 alone. sipsak and SIPp read only the first
 * challenge and know only MD5, and baresip 1.0 and twinkle 1.10 give up on
 * a 401 as soon as any of its challenges names an algorithm they do not
 * know, whatever its place (docs/configuration.md lists the clients
 * tested). Stronger lists are opt-in, per server (auth.algorithms) or per
 * user (`sipkit users set NAME --algorithms SHA-256`). */
#define SK_AUTH_ALGOS_DEFAULT "MD5"

/* Parse a list such as "SHA-256 MD5" (names case-insensitive, separated by
 * spaces or commas; the -sess variants only when allow_sess). Returns 0,
 * or SK_EINVAL for an empty list, an unknown or repeated name. */
int sk_auth_algos_parse(const char *s, bool allow_sess, struct sk_auth_algos *out);
/* The list as an SK_ALGO_BIT set. */
uint32_t sk_auth_algos_set(const struct sk_auth_algos *l);
/* The list as "MD5 SHA-256" into out (empty for n == 0); out is cut to outsz. */
void sk_auth_algos_format(const struct sk_auth_algos *l, char *out, size_t outsz);

/* Longest hex digest (SHA-256, SHA-512/256), without the NUL. */
#define SK_AUTH_HEX_MAX 64
/* Bytes of the nonce secret (struct sk_auth_config.secret). */
#define SK_AUTH_SECRET_LEN 32
/* Longest username or realm the auth layer handles (octets). */
#define SK_AUTH_NAME_MAX 256

/* "MD5", "SHA-256-sess", ... */
const char *sk_auth_algo_name(enum sk_auth_algo a);
/* Case-insensitive token to algorithm. Returns 0 or SK_ENOTFOUND. */
int sk_auth_algo_parse(struct sk_slice s, enum sk_auth_algo *out);
enum sk_auth_hash sk_auth_algo_hash(enum sk_auth_algo a);
bool sk_auth_algo_is_sess(enum sk_auth_algo a);
/* Hex digest length: 32 for MD5, 64 for the others. */
size_t sk_auth_hash_hexlen(enum sk_auth_hash h);
const char *sk_auth_hash_name(enum sk_auth_hash h); /* "MD5", "SHA-256", "SHA-512-256" */

/* HA1 = H(username ":" realm ":" password) in lower-case hex, written with a
 * NUL into out (SK_AUTH_HEX_MAX + 1 bytes). Returns 0 or SK_EIO. */
int sk_auth_ha1(enum sk_auth_hash h, struct sk_slice user, struct sk_slice realm,
                struct sk_slice password, char *out);
/* RFC 7616 §3.4.4: userhash = H(username ":" realm), hex. */
int sk_auth_userhash(enum sk_auth_hash h, struct sk_slice user, struct sk_slice realm, char *out);

/* Every input of a response computation (RFC 7616 §3.4.1-3.4.3, RFC 2617
 * §3.2.2). qop empty means RFC 2069 (response = H(HA1:nonce:HA2)); for
 * qop=auth-int the body is hashed into A2. ha1 is the plain HA1 (hex); the
 * -sess algorithms derive H(HA1:nonce:cnonce) from it here. */
struct sk_auth_calc {
    enum sk_auth_algo algo;
    struct sk_slice ha1;
    struct sk_slice nonce;
    struct sk_slice nc;
    struct sk_slice cnonce;
    struct sk_slice qop;
    struct sk_slice method;
    struct sk_slice uri;
    struct sk_slice body;
};

/* The request-digest in lower-case hex, with a NUL, into out
 * (SK_AUTH_HEX_MAX + 1 bytes). Returns 0, SK_EINVAL (unknown qop) or SK_EIO. */
int sk_auth_compute(const struct sk_auth_calc *c, char *out);

/* ---- server ------------------------------------------------------------ */

/* Why a verification failed. */
enum sk_auth_cause {
    SK_AUTH_OK = 0,
    SK_AUTH_MALFORMED,       /* header value does not parse / not Digest */
    SK_AUTH_MISSING_PARAM,   /* a required parameter is absent */
    SK_AUTH_DUPLICATE_PARAM, /* a parameter is given twice */
    SK_AUTH_REALM_MISMATCH,  /* realm is not ours */
    SK_AUTH_BAD_ALGORITHM,   /* algorithm unknown or not offered */
    SK_AUTH_BAD_QOP,         /* qop unknown or not offered, or missing (RFC 2069 off) */
    SK_AUTH_URI_MISMATCH,    /* digest uri differs from the Request-URI */
    SK_AUTH_FORGED_NONCE,    /* nonce not ours (bad MAC, bad format, other realm) */
    SK_AUTH_OPAQUE_MISMATCH, /* opaque differs from the one we sent */
    SK_AUTH_UNKNOWN_USER,    /* no such user in this realm */
    SK_AUTH_WRONG_PASSWORD,  /* response does not match */
    SK_AUTH_STALE_NONCE,     /* correct response, expired nonce: stale=true */
    SK_AUTH_REPLAYED_NC,     /* nonce-count already used */
    SK_AUTH_INTERNAL,        /* lookup or crypto failure on our side */
    SK_AUTH_STORE_DOWN,      /* the lookup's store is unreachable for now (SK_EUNAVAIL) */
    SK_AUTH_CAUSE__COUNT
};

/* What the server answers to a failed verification. */
enum sk_auth_decision {
    SK_AUTH_ACCEPT = 0,   /* credentials good */
    SK_AUTH_CHALLENGE,    /* 401/407 with a fresh challenge (stale=true for a stale nonce) */
    SK_AUTH_FORBIDDEN,    /* 403 */
    SK_AUTH_SERVER_ERROR, /* 500: our storage or crypto failed */
    SK_AUTH_UNAVAILABLE,  /* 503 with Retry-After: the store is unreachable, try again */
};

/* Stable snake_case name ("wrong_password") and a human sentence. */
const char *sk_auth_cause_name(enum sk_auth_cause c);
const char *sk_auth_cause_text(enum sk_auth_cause c);
enum sk_auth_decision sk_auth_cause_decision(enum sk_auth_cause c);

/* The lookup callback fills ha1 (hex, NUL-terminated) for one user, realm
 * and hash. When is_userhash, username is H(user:realm) in hex (RFC 7616
 * §3.4.4) and the callback also writes the real name into user. It sets
 * algorithms to the user's own list when the user requires particular
 * algorithms (left at n == 0 otherwise): credentials in any other
 * algorithm are then refused. Returns 0, SK_ENOTFOUND (no such user),
 * SK_EUNAVAIL (the store is unreachable for now: SK_AUTH_STORE_DOWN) or
 * another negative code (storage failure: SK_AUTH_INTERNAL). */
struct sk_auth_lookup {
    struct sk_slice username;
    struct sk_slice realm;
    enum sk_auth_hash hash;
    bool is_userhash;
    char ha1[SK_AUTH_HEX_MAX + 1];
    char user[SK_AUTH_NAME_MAX + 1];
    struct sk_auth_algos algorithms;
};
typedef int (*sk_auth_lookup_cb)(void *arg, struct sk_auth_lookup *q);
/* Wall clock in milliseconds since the epoch; tests inject their own. */
typedef int64_t (*sk_auth_clock_cb)(void *arg);
/* Replays across processes sharing the secret (RFC 7616 §5.5 for a
 * cluster): called once this process's own table accepted nc with the
 * nonce for a correct response; expires_s is the nonce's end (wall clock
 * seconds). Returns 0 (first use anywhere), SK_EEXIST (used before, on
 * any process: refused as a replay) or another error (the check could
 * not be made: accepted, this process's own table having refused any
 * replay it saw). */
typedef int (*sk_auth_nc_cb)(void *arg, struct sk_slice nonce, uint32_t nc, int64_t expires_s);

struct sk_auth_config {
    const char *realm;               /* default realm; required */
    struct sk_auth_algos algorithms; /* offered, preferred first; n == 0: SK_AUTH_ALGOS_DEFAULT */
    unsigned nonce_lifetime_s;       /* 0 = 300 */
    bool offer_auth_int;             /* qop="auth,auth-int" (true) or "auth" */
    bool allow_rfc2069;              /* accept credentials without qop; off by default */
    bool userhash;                   /* offer userhash=true and accept hashed usernames */
    size_t nc_slots;                 /* nonce-count table entries; 0 = 65536 */
    /* Directory holding the nonce secret file "auth.secret" (created with
     * mode 0600 on first use). NULL: a random secret for this process only. */
    const char *data_dir;
    /* The secret itself, SK_AUTH_SECRET_LEN bytes (copied): servers sharing
     * one store share it, so a nonce one of them minted verifies on the
     * others. Takes precedence over data_dir; NULL: data_dir. */
    const unsigned char *secret;
    sk_auth_lookup_cb lookup;
    void *lookup_arg;
    sk_auth_nc_cb nc_shared; /* NULL: replays are tracked in this process only */
    void *nc_shared_arg;
    sk_auth_clock_cb clock; /* NULL = CLOCK_REALTIME in ms */
    void *clock_arg;
};

/* Fill cfg with the defaults (every field above at its default). */
void sk_auth_config_init(struct sk_auth_config *cfg);

struct sk_auth;

/* Returns 0, SK_EINVAL (no realm, no lookup, empty algorithm set), -errno
 * or SK_EIO (secret file unreadable / unwritable), SK_ENOMEM. */
int sk_auth_new(struct sk_auth **out, const struct sk_auth_config *cfg);
void sk_auth_free(struct sk_auth *a);

/* The configured list, as offered to users without one of their own. */
const struct sk_auth_algos *sk_auth_algorithms(const struct sk_auth *a);

/* 401 (WWW-Authenticate) or 407 (Proxy-Authenticate). */
enum sk_auth_kind { SK_AUTH_WWW = 0, SK_AUTH_PROXY = 1 };

/* Append challenge header lines ("WWW-Authenticate: Digest ...\r\n"), one
 * per offered algorithm in the configured order, all with one fresh nonce.
 * realm empty = the configured one. Returns 0 or SK_ENOMEM (out failed). */
int sk_auth_challenge(struct sk_auth *a, enum sk_auth_kind kind, struct sk_slice realm, bool stale,
                      struct sk_buf *out);
/* The same, offering the algorithms of list (a user's own, in its order)
 * instead; list NULL or empty = the configured ones. */
int sk_auth_challenge_algos(struct sk_auth *a, enum sk_auth_kind kind, struct sk_slice realm,
                            bool stale, const struct sk_auth_algos *list, struct sk_buf *out);
/* The same with a nonce made earlier by sk_auth_nonce_make() for this
 * realm (NULL: a fresh one), so that a retransmitted request can get the
 * very challenge it got before without the server keeping a transaction. */
int sk_auth_challenge_nonce(struct sk_auth *a, enum sk_auth_kind kind, struct sk_slice realm,
                            bool stale, const struct sk_auth_algos *list, const char *nonce,
                            struct sk_buf *out);

/* What a request offers to verification. */
struct sk_auth_request {
    struct sk_slice method; /* "REGISTER", "INVITE", ... (for ACK/CANCEL use INVITE's CSeq
                               method per RFC 3261 §22.1 only if the caller wants) */
    struct sk_slice uri;    /* the Request-URI exactly as in the start line */
    struct sk_slice body;   /* for qop=auth-int */
    struct sk_slice realm;  /* empty = the configured one */
};

struct sk_auth_result {
    enum sk_auth_cause cause;
    enum sk_auth_decision decision;
    bool stale;                      /* the next challenge carries stale=true */
    enum sk_auth_algo algo;          /* when known */
    char user[SK_AUTH_NAME_MAX + 1]; /* authenticated (or claimed) username, unescaped */
};

/* Verify credentials. Returns 0 (res->cause == SK_AUTH_OK) or SK_EAUTH with
 * res filled (cause, decision, stale). Never logs credentials. */
int sk_auth_verify(struct sk_auth *a, const struct sk_digest_hdr *h,
                   const struct sk_auth_request *req, struct sk_auth_result *res);

/* Write one nonce for realm (as the challenge would) into out: at most
 * SK_AUTH_NONCE_MAX + 1 bytes with the NUL. For tests and tools. */
#define SK_AUTH_NONCE_MAX 64
int sk_auth_nonce_make(struct sk_auth *a, struct sk_slice realm, char *out);

/* HMAC-SHA-256 keyed with the server secret (DATA_DIR/auth.secret, so a
 * value outlives a restart and every worker agrees) for tokens that other
 * layers mint, such as the proxy's Record-Route tokens. label names the
 * use and is hashed first with its NUL, so no two uses (nor the nonces)
 * share inputs; then the n parts (at most SK_AUTH_MAC_PARTS). Writes 32
 * bytes to out. Returns 0, SK_EINVAL, SK_ENOMEM or SK_EIO. Any thread. */
#define SK_AUTH_MAC_PARTS 15
int sk_auth_mac(struct sk_auth *a, const char *label, const struct sk_slice *parts, size_t n,
                unsigned char *out);

/* ---- client ------------------------------------------------------------- */

struct sk_auth_client;

/* Credentials for every realm. Returns 0, SK_EINVAL (empty user), SK_ENOMEM. */
int sk_auth_client_new(struct sk_auth_client **out, struct sk_slice user, struct sk_slice password);
void sk_auth_client_free(struct sk_auth_client *c);
/* Algorithms the client accepts (SK_ALGO_BIT set; default all six). */
void sk_auth_client_set_algorithms(struct sk_auth_client *c, uint32_t algorithms);

/* Read the challenges of one 401/407 (all WWW-Authenticate or all
 * Proxy-Authenticate values, parsed). Per realm, the first challenge whose
 * algorithm is supported wins (RFC 8760 §2.4: the server lists them by
 * preference), with qop auth preferred to auth-int. Returns 0 when a
 * retry makes sense; SK_EAUTH when it does not: no supported algorithm, or
 * credentials already sent with this realm's current nonce were refused
 * (a challenge without stale=true, or a second stale one in a row). */
int sk_auth_client_challenge(struct sk_auth_client *c, enum sk_auth_kind kind,
                             const struct sk_digest_hdr *ch, size_t n);

/* Append one header line per realm with state ("Authorization: Digest
 * ...\r\n" or "Proxy-Authorization: ..."), each with nc+1 and a new cnonce.
 * Returns 0, SK_ENOMEM or SK_EIO. */
int sk_auth_client_authorize(struct sk_auth_client *c, struct sk_slice method, struct sk_slice uri,
                             struct sk_slice body, struct sk_buf *out);
/* The same for one realm, writing only the header value. SK_ENOTFOUND when
 * no challenge for that realm was seen. */
int sk_auth_client_value(struct sk_auth_client *c, struct sk_slice realm, struct sk_slice method,
                         struct sk_slice uri, struct sk_slice body, struct sk_buf *out);
/* Fix the cnonce used from now on (tests); empty = random again. */
int sk_auth_client_set_cnonce(struct sk_auth_client *c, struct sk_slice cnonce);

#endif
