/*
 * Digest authentication of requests (RFC 3261 §22, RFC 8760, RFC 7616),
 * shared by every request type: the registrar challenges with 401 and
 * WWW-Authenticate (§22.2), the proxy with 407 and Proxy-Authenticate
 * (§22.3). The realm is the served domain; HA1 values come from the user
 * store (sk_store_auth_lookup).
 *
 * A request may carry several credentials (one per realm it was
 * challenged for, §22.3); the one for our realm is verified. No
 * credentials for us -> a challenge; a failure -> what auth.h decides
 * for its cause: a new challenge (stale=true for a stale nonce, §22.4 /
 * RFC 7616 §3.3), 403, 503 with Retry-After when the store is
 * unreachable (a user not in the cache cannot be looked up: the client
 * should try again, it did nothing wrong), or 500 when our storage
 * failed otherwise. Every failure is
 * logged with its cause and the claimed user name, never with the
 * credentials themselves. Every failure with credentials also goes to the
 * guard (guard.h): it counts toward a ban of the source address and a
 * slow-down of the user name, and repeated ones are summarised in the
 * log rather than written one line each. Challenges and refusals leave
 * statelessly (sk__resp_send_stateless): they cost no transaction.
 *
 * The algorithms offered are the configured list (auth.algorithms, in its
 * order), or the claimed user's own list when that user requires
 * particular ones (`sipkit users add NAME --algorithms SHA-256`); the
 * claimed user is the From URI's user, who is the one asked to prove who
 * it is (§22.1). Requests the server answers itself (REGISTER, SUBSCRIBE,
 * PUBLISH) are challenged with 401, but some clients answer any challenge
 * with Proxy-Authorization: both headers are read for them, the one the
 * challenge named first. The digest does not cover the header's name.
 *
 * Memory: the challenge is written into the request's response buffer.
 */
#include "server/guard.h"
#include "server/internal.h"

#include <stdio.h>
#include <string.h>

/* The algorithms to offer: the From user's own list, else the server's. */
static void offered_algos(const struct sk__req *r, struct sk_auth_algos *out)
{
    const struct sk_uri *from = &r->m->from.uri;

    out->n = 0;
    if (from->user.len > 0)
        sk_store_user_algorithms(r->s->store, sk_slice_cstr(r->s->cfg.domain), from->user, out);
    if (out->n == 0)
        *out = *sk_auth_algorithms(r->s->auth);
}

/* Challenges and refusals cost no state: the nonce carries what
 * verification needs, so they go out statelessly; after repeated failures
 * of one user the guard has them wait (delay_ms) on its timer. */
static void send_answer(struct sk__req *r, uint32_t delay_ms)
{
    if (delay_ms == 0 || r->txn == NULL) {
        sk__resp_send_stateless(r);
        return;
    }
    sk_msg_finish(&r->out, SK_SLICE_NULL, SK_SLICE_NULL);
    if (sk_buf_ok(&r->out))
        sk__guard_delay(r->s->guard, r->to, r->out.p, r->out.len, sk_now_ms() + delay_ms);
    sk_txn_forget(r->txn);
}

static void challenge(struct sk__req *r, enum sk_auth_kind kind, bool stale, uint32_t delay_ms)
{
    unsigned code = kind == SK_AUTH_WWW ? 401 : 407;
    struct sk_auth_algos algos;
    char nonce[SK_AUTH_NONCE_MAX + 1];
    uint64_t now = sk_now_ms();

    offered_algos(r, &algos);
    /* A retransmission gets the challenge it got before (rechallenge.c). */
    if (!sk__rechallenge_get(r->s->rechallenge, r->m, now, nonce)) {
        if (sk_auth_nonce_make(r->s->auth, SK_SLICE_NULL, nonce) != 0) {
            sk__reply(r, 500, NULL);
            return;
        }
        sk__rechallenge_put(r->s->rechallenge, r->m, now, nonce);
    }
    sk__resp_start(r, code, NULL);
    if (sk_auth_challenge_nonce(r->s->auth, kind, SK_SLICE_NULL, stale, &algos, nonce, &r->out) !=
        0) {
        sk__reply(r, 500, NULL);
        return;
    }
    sk__authwatch_challenged(r->s->authwatch, r->m, &algos, sk_now_ms());
    send_answer(r, delay_ms);
}

/* The credentials for our realm, parsed; false when there are none. */
static bool find_credentials(const struct sk__req *r, enum sk_hdr_id id, struct sk_digest_hdr *h,
                             bool *malformed)
{
    struct sk_slice realm = sk_slice_cstr(r->s->cfg.domain);

    *malformed = false;
    for (size_t i = 0; i < r->m->nhdrs; i++) {
        const struct sk_hdr *hd = &r->m->hdrs[i];
        if (hd->id != id)
            continue;
        if (sk_digest_hdr_parse(hd->value, h) != 0) {
            *malformed = true; /* keep looking: another one may be for us */
            continue;
        }
        if (sk_slice_caseeq_cstr(h->scheme, "Digest") && sk_slice_eq(h->f[SK_DIG_REALM], realm))
            return true;
    }
    return false;
}

/* Every failure is counted for the metrics, the ones the guard
 * summarises instead of logging included. */
static void count_failure(struct sk__req *r, const struct sk_auth_result *res, bool throttled)
{
    if ((unsigned)res->cause < SK_AUTH_CAUSE__COUNT)
        atomic_fetch_add_explicit(&r->s->n_auth_failures[res->cause], 1, memory_order_relaxed);
    if (throttled)
        atomic_fetch_add_explicit(&r->s->n_auth_throttled, 1, memory_order_relaxed);
}

static void log_failure(struct sk__req *r, const struct sk_auth_result *res, const char *outcome)
{
    const struct sk_msg *m = r->m;

    SK_LOG(SK_LOG_INFO, "auth",
           "event=auth_failed cause=%s user=\"%s\" method=%.*s peer=%.*s:%u outcome=%s why=\"%s\"",
           sk_auth_cause_name(res->cause), res->user,
           (int)(m->method.len > 32 ? 32 : m->method.len), m->method.p, (int)m->src_ip.len,
           m->src_ip.p, m->src_port, outcome, sk_auth_cause_text(res->cause));
}

/* Where the request really came from (the packet's source, not a Via
 * sent-by or maddr): what the guard counts and bans. */
static void source_of(const struct sk_msg *m, struct sk_addr *a)
{
    memset(a, 0, sizeof(*a));
    if (sk_addr_parse(m->src_ip, m->src_port, a) != 0)
        a->sa.sa_family = AF_UNSPEC;
}

/* Failures that say nothing about guessing: an old nonce (stale, or lost
 * to a restart), a retransmitted nc, our own storage. */
static bool counts_as_guess(enum sk_auth_cause c)
{
    return c != SK_AUTH_STALE_NONCE && c != SK_AUTH_REPLAYED_NC && c != SK_AUTH_INTERNAL &&
           c != SK_AUTH_STORE_DOWN;
}

bool sk__auth_check(struct sk__req *r, enum sk_auth_kind kind)
{
    enum sk_hdr_id id = kind == SK_AUTH_WWW ? SK_HDR_AUTHORIZATION : SK_HDR_PROXY_AUTHORIZATION;
    struct sk_digest_hdr h;
    struct sk_auth_request q;
    struct sk_auth_result res;
    struct sk_addr src;
    char claimed[64];
    uint64_t now = sk_now_ms();
    uint32_t delay = 0;
    bool malformed, found, check = true, log_it = true;

    memset(&res, 0, sizeof(res));
    found = find_credentials(r, id, &h, &malformed);
    if (!found && kind == SK_AUTH_WWW) {
        bool other_malformed;
        found = find_credentials(r, SK_HDR_PROXY_AUTHORIZATION, &h, &other_malformed);
        malformed = malformed || other_malformed;
    }
    if (found)
        sk__authwatch_answered(r->s->authwatch, r->m);
    if (!found) {
        if (malformed) {
            res.cause = SK_AUTH_MALFORMED;
            count_failure(r, &res, false);
            log_failure(r, &res, "challenge");
        }
        /* §22.1: no credentials for our realm yet: challenge. */
        challenge(r, kind, false, 0);
        return false;
    }
    source_of(r->m, &src);
    sk_slice_to_cstr(h.f[SK_DIG_USERNAME], claimed, sizeof(claimed));
    delay = sk__guard_user_gate(r->s->guard, &src, claimed, now, &check);
    memset(&q, 0, sizeof(q));
    q.method = r->m->method;
    q.uri = r->m->ruri_raw;
    q.body = r->m->body;
    if (!check) {
        /* This user's budget of checks is spent: answered as a wrong
         * password would be, so a guess that happens to be right here
         * teaches nothing. */
        res.cause = SK_AUTH_WRONG_PASSWORD;
        res.decision = SK_AUTH_CHALLENGE;
        snprintf(res.user, sizeof(res.user), "%s", claimed);
    } else if (sk_auth_verify(r->s->auth, &h, &q, &res) == 0) {
        sk__guard_auth_ok(r->s->guard, claimed);
        memcpy(r->user, res.user, sizeof(r->user));
        return true;
    }
    count_failure(r, &res, !check);
    if (counts_as_guess(res.cause))
        log_it =
            sk__guard_auth_failed(r->s->guard, &src, claimed,
                                  check ? sk_auth_cause_name(res.cause) : "user_throttled", now);
    else
        delay = 0;
    switch (res.decision) {
    case SK_AUTH_CHALLENGE:
        if (log_it)
            log_failure(r, &res,
                        !check      ? "throttled"
                        : res.stale ? "stale_challenge"
                                    : "challenge");
        challenge(r, kind, res.stale, delay);
        break;
    case SK_AUTH_FORBIDDEN:
        if (log_it) {
            log_failure(r, &res, "forbidden");
            sk__log_reject(r, 403, NULL, sk_auth_cause_name(res.cause));
        } else {
            sk__count_rejected(r->s);
        }
        sk__resp_start(r, 403, NULL);
        send_answer(r, delay);
        break;
    case SK_AUTH_UNAVAILABLE:
        log_failure(r, &res, "unavailable");
        sk__reply_store_failed(r, SK_EUNAVAIL, NULL);
        break;
    default:
        log_failure(r, &res, "server_error");
        sk__reply(r, 500, NULL);
        break;
    }
    return false;
}
