/*
 * The server's guard: what keeps one peer, or many guessing one password,
 * from using what all peers share (DESIGN: "limits/bans" lead the
 * pipeline). Four defences, each with its options in [security]:
 *
 *   - bans: an address with auth_fail_limit failed authentications within
 *     auth_fail_window seconds is banned for ban_time seconds, doubling on
 *     each repeat up to ban_time_max. Everything from a banned address is
 *     dropped before parsing, the right password included;
 *   - flood limit (as Kamailio's pike): more than rate_limit messages per
 *     second from one address, averaged over rate_window seconds, are
 *     dropped; rate_ban_windows windows over the limit in a row ban it;
 *   - per-user slow-down: once a user name collects user_delay_after
 *     failures (from any address), failure answers wait a growing delay
 *     (sent later by the timer thread, never blocking a worker) and the
 *     credentials are checked at most once per delay: guesses from many
 *     addresses cost time too;
 *   - summaries: repeated failures and drops from one address are logged
 *     once, then counted and summarised every summary_interval seconds.
 *
 * Trusted CIDRs (trunks, monitoring) are exempt from all of them.
 *
 * Bans are kept in the store (table bans) by the timer thread, so that
 * `sipkit bans list|del` sees and lifts them; a ban deleted there is
 * lifted here at the next sync (every SYNC_MS).
 *
 * Memory: fixed-size tables (addresses and users, set-associative, the
 * least recently seen entry evicted, banned ones last) and a bounded queue
 * of delayed answers: the guard does not grow with the attack.
 *
 * Threads: every function may be called from any worker; the tick from
 * the timer thread only.
 */
#ifndef SK_SERVER_GUARD_H
#define SK_SERVER_GUARD_H

#include <sipkit/server.h>
#include <sipkit/store.h>
#include <sipkit/transport.h>

struct sk__guard;

/* Checks the trusted list of cfg; err gets a message. */
int sk__guard_check_config(const struct sk_server_config *cfg, char *err, size_t errsz);
int sk__guard_new(struct sk__guard **out, const struct sk_server_config *cfg);
void sk__guard_free(struct sk__guard *g);

/* Every received message, first thing: false means drop it (banned, or
 * over the rate limit). */
bool sk__guard_admit(struct sk__guard *g, const struct sk_addr *src, uint64_t now_ms);
bool sk__guard_trusted(const struct sk__guard *g, const struct sk_addr *src);

/* Per-user gate before credentials are checked. Returns the delay (ms) a
 * failure answer must wait (0: answer now); *check false means the
 * credentials are not to be looked at now (the user's budget is spent):
 * answer as a failure. */
uint32_t sk__guard_user_gate(struct sk__guard *g, const struct sk_addr *src, const char *user,
                             uint64_t now_ms, bool *check);
/* A failed authentication with credentials (cause for the log). Counts
 * toward the address's ban and the user's slow-down. Returns true when the
 * failure should be logged in full; false when it is counted for the
 * next summary instead. */
bool sk__guard_auth_failed(struct sk__guard *g, const struct sk_addr *src, const char *user,
                           const char *cause, uint64_t now_ms);
/* Good credentials: the user's failures are forgotten. */
void sk__guard_auth_ok(struct sk__guard *g, const char *user);

/* Send data to dst at due_ms (copied; bounded queue). Returns 0 or
 * SK_EAGAIN when the queue is full (the answer is dropped). */
int sk__guard_delay(struct sk__guard *g, const struct sk_addr *dst, const char *data, size_t len,
                    uint64_t due_ms);

typedef int (*sk__guard_send_cb)(void *arg, const struct sk_addr *dst, const char *data,
                                 size_t len);
/* Timer thread: send due delayed answers; once a second log summaries and
 * sync bans with the store (may be NULL). */
void sk__guard_tick(struct sk__guard *g, uint64_t now_ms, struct sk_store *store,
                    sk__guard_send_cb send, void *send_arg);
/* Earliest due delayed answer, or UINT64_MAX. */
uint64_t sk__guard_next_due(struct sk__guard *g);
/* Bans currently in force (tests, metrics). */
size_t sk__guard_ban_count(struct sk__guard *g, uint64_t now_ms);

/* What the guard did since it started, for the admin metrics. Bans
 * counted are the ones this process decided (not those read back from
 * the store); bans_active counts both. */
struct sk__guard_counts {
    uint64_t dropped_banned; /* messages dropped: their address is banned */
    uint64_t dropped_rate;   /* messages dropped: over the flood limit */
    uint64_t bans_auth;      /* bans for failed authentications */
    uint64_t bans_flood;     /* bans for flooding */
    size_t bans_active;
};
void sk__guard_counts(struct sk__guard *g, uint64_t now_ms, struct sk__guard_counts *out);

/* ---- guard_addr.c: address keys and trusted networks ---- */

#define SK__GUARD_MAX_TRUSTED 32
struct sk__cidr {
    unsigned char ip[16];
    unsigned bits; /* of the 128 */
};
/* The 16-octet key of an address (IPv4-mapped for IPv4; zero otherwise). */
void sk__ip_key(const struct sk_addr *a, unsigned char *ip);
/* "192.0.2.7" or "2001:db8::1". */
void sk__ip_text(const unsigned char *ip, char *out, size_t outsz);
/* The reverse; 0 or SK_EINVAL. */
int sk__ip_parse(const char *text, unsigned char *ip);
/* A list of ADDR or ADDR/BITS separated by spaces or commas, at most
 * SK__GUARD_MAX_TRUSTED. Returns 0 or SK_EINVAL with err set. */
int sk__cidrs_parse(const char *list, struct sk__cidr *out, size_t *n, char *err, size_t errsz);
bool sk__cidrs_match(const struct sk__cidr *list, size_t n, const unsigned char *ip);

#endif
