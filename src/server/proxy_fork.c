/*
 * The proxy's response context (RFC 3261 §16.7): the branches one request
 * was forked to, run in parallel within a serial group (contacts ordered by
 * q-value, §16.6 / RFC 3261 §8.1.3.4 style), Timer C for INVITE (§16.6 step
 * 11, §16.8), CANCEL of pending branches after a 2xx or 6xx (§16.7 step
 * 10) and from upstream (§16.10), and the choice of the best final
 * response (§16.7 step 6) with the challenges of every 401/407 gathered
 * into it (step 7) and 503 turned into 500.
 *
 * Pure logic: the caller holds whatever lock protects the fork, passes
 * the time, and carries out the returned struct sk__fork_acts after
 * unlocking. Memory: each branch keeps a copy of its 3xx-6xx response in
 * its own buffer, released by sk__fork_free().
 */
#include "server/proxy_int.h"

#include <string.h>

void sk__fork_init(struct sk__fork *f, bool invite, uint32_t timer_c_ms)
{
    memset(f, 0, sizeof(*f));
    f->invite = invite;
    f->timer_c_ms = timer_c_ms;
    for (size_t i = 0; i < SK__FORK_MAX; i++)
        sk_buf_init(&f->b[i].resp);
}

void sk__fork_free(struct sk__fork *f)
{
    for (size_t i = 0; i < SK__FORK_MAX; i++)
        sk_buf_free(&f->b[i].resp);
}

int sk__fork_add(struct sk__fork *f, unsigned group)
{
    if (f->n == SK__FORK_MAX)
        return SK_ETOOBIG;
    if (f->n > 0 && group < f->b[f->n - 1].group)
        return SK_EINVAL;
    f->b[f->n].group = group;
    return (int)f->n++;
}

static void acts_clear(struct sk__fork_acts *a)
{
    memset(a, 0, sizeof(*a));
    a->best = -1;
}

static bool pending(const struct sk__branch *b)
{
    return b->state == SK__BR_TRYING || b->state == SK__BR_PROCEEDING;
}

static void start_group(struct sk__fork *f, uint64_t now, struct sk__fork_acts *a)
{
    for (size_t i = 0; i < f->n; i++) {
        struct sk__branch *b = &f->b[i];
        if (b->group != f->group || b->state != SK__BR_IDLE)
            continue;
        b->state = SK__BR_TRYING;
        /* §16.6 step 11: Timer C guards an INVITE branch that never ends. */
        b->timer_c = f->invite ? now + f->timer_c_ms : 0;
        a->start |= 1u << i;
    }
}

void sk__fork_begin(struct sk__fork *f, uint64_t now, struct sk__fork_acts *a)
{
    acts_clear(a);
    f->begun = true;
    if (f->n == 0)
        return;
    f->group = f->b[0].group;
    start_group(f, now, a);
}

/* §9.1: a CANCEL may only follow a provisional response; until one comes
 * the wish is remembered. A branch that has answered nothing yet is given
 * up on at once (§9.1 allows the client transaction to be abandoned): it
 * counts as a 487, so the caller hears 487 now rather than 408 when Timer
 * B fires 32 s later. Its transaction stays, so that a late provisional
 * still gets the CANCEL and a late 2xx still reaches the caller (§16.7
 * step 5, §16.10). */
static void cancel_branch(struct sk__fork *f, size_t i, struct sk__fork_acts *a)
{
    struct sk__branch *b = &f->b[i];

    if (!pending(b) || b->cancel_wanted)
        return;
    b->cancel_wanted = true;
    b->timer_c = 0;
    if (b->state == SK__BR_PROCEEDING) {
        b->cancel_sent = true;
        a->cancel |= 1u << i;
    } else if (f->invite) {
        b->state = SK__BR_DONE;
        b->final = 487;
        b->given_up = true;
        sk_buf_reset(&b->resp);
    }
}

/* A response on a branch that already has its final one. */
static void late_response(struct sk__fork *f, size_t i, unsigned status, struct sk__fork_acts *a)
{
    struct sk__branch *b = &f->b[i];

    if (b->given_up && status < 200 && !b->cancel_sent) {
        /* §9.1: the provisional we waited for; now the CANCEL may go. */
        b->cancel_sent = true;
        a->cancel |= 1u << i;
    } else if (b->given_up && status / 100 == 2) {
        /* §16.7 step 5: every 2xx goes upstream, even after our 487; the
         * caller ACKs and hangs up (§16.10). */
        b->final = status;
        b->given_up = false;
        f->got_2xx = true;
        a->forward = true;
    } else {
        /* A 2xx after the branch's own 2xx: retransmissions and further
         * 2xx (forking downstream) all go upstream (§16.7 step 5). */
        a->forward = status / 100 == 2 && b->final / 100 == 2;
    }
}

static void cancel_others(struct sk__fork *f, size_t except, struct sk__fork_acts *a)
{
    for (size_t i = 0; i < f->n; i++) {
        if (i != except)
            cancel_branch(f, i, a);
    }
}

bool sk__fork_done(const struct sk__fork *f)
{
    for (size_t i = 0; i < f->n; i++) {
        if (pending(&f->b[i]))
            return false;
    }
    return true;
}

/* The lowest group above the running one that still has idle branches. */
static bool next_group(const struct sk__fork *f, unsigned *group)
{
    for (size_t i = 0; i < f->n; i++) {
        if (f->b[i].state == SK__BR_IDLE && f->b[i].group > f->group) {
            *group = f->b[i].group;
            return true;
        }
    }
    return false;
}

/* Once no branch is pending: the next serial group, or the best response. */
static void maybe_finish(struct sk__fork *f, uint64_t now, struct sk__fork_acts *a)
{
    unsigned st[SK__FORK_MAX] = {0}; /* filled below up to f->n; GCC -O2 cannot see it */
    unsigned g;

    if (!sk__fork_done(f))
        return;
    /* §16.7 step 5: after a 6xx no new branch starts; after a 2xx or an
     * upstream CANCEL there is nothing left to look for. */
    if (!f->got_2xx && !f->got_6xx && !f->cancelled && next_group(f, &g)) {
        f->group = g;
        start_group(f, now, a);
        return;
    }
    if (f->final_sent || f->got_2xx)
        return;
    for (size_t i = 0; i < f->n; i++)
        st[i] = f->b[i].state == SK__BR_DONE ? f->b[i].final : 0;
    a->final = true;
    a->best = sk__proxy_best(st, f->n);
    a->status = sk__fork_final_status(f, a->best);
    f->final_sent = true;
}

static void provisional(struct sk__fork *f, size_t i, unsigned status, uint64_t now,
                        struct sk__fork_acts *a)
{
    struct sk__branch *b = &f->b[i];

    b->state = SK__BR_PROCEEDING;
    /* §16.8: a provisional response restarts Timer C. */
    if (f->invite && !b->cancel_wanted)
        b->timer_c = now + f->timer_c_ms;
    if (b->cancel_wanted && !b->cancel_sent) {
        b->cancel_sent = true;
        a->cancel |= 1u << i;
    }
    /* §16.7 step 5: provisional responses other than 100 go upstream at
     * once, while the server transaction can still take them. */
    a->forward = status > 100 && !f->final_sent && !f->got_2xx;
}

int sk__fork_response(struct sk__fork *f, size_t i, unsigned status, const char *bytes, size_t len,
                      uint64_t now, struct sk__fork_acts *a)
{
    struct sk__branch *b;
    int err = 0;

    acts_clear(a);
    if (i >= f->n || status < 100 || status > 699)
        return SK_EINVAL;
    b = &f->b[i];
    if (b->state == SK__BR_IDLE)
        return 0;
    if (b->state == SK__BR_DONE) {
        late_response(f, i, status, a);
        return 0;
    }
    if (status < 200) {
        provisional(f, i, status, now, a);
        return 0;
    }
    b->state = SK__BR_DONE;
    b->final = status;
    b->timer_c = 0;
    if (status < 300) {
        /* §16.7 step 5 and 10: forward every 2xx, cancel the rest. */
        f->got_2xx = true;
        a->forward = true;
        cancel_others(f, i, a);
    } else {
        sk_buf_reset(&b->resp);
        if (bytes != NULL)
            sk_buf_append(&b->resp, bytes, len);
        if (!sk_buf_ok(&b->resp)) {
            sk_buf_free(&b->resp);
            sk_buf_init(&b->resp);
            b->final = 500;
            err = SK_ENOMEM;
        }
        if (status >= 600) {
            f->got_6xx = true;
            cancel_others(f, i, a);
        }
    }
    maybe_finish(f, now, a);
    return err;
}

void sk__fork_failed(struct sk__fork *f, size_t i, uint64_t now, struct sk__fork_acts *a)
{
    sk__fork_response(f, i, 503, NULL, 0, now, a);
}

void sk__fork_cancel(struct sk__fork *f, struct sk__fork_acts *a)
{
    acts_clear(a);
    f->cancelled = true;
    /* Not begun (its offer is with rtpengine): no branch will start, and
     * each counts as given up on, so the caller hears 487 (§16.10). */
    for (size_t i = 0; !f->begun && f->invite && i < f->n; i++) {
        if (f->b[i].state == SK__BR_IDLE) {
            f->b[i].state = SK__BR_DONE;
            f->b[i].final = 487;
            f->b[i].given_up = true;
        }
    }
    for (size_t i = 0; i < f->n; i++)
        cancel_branch(f, i, a);
    /* Branches given up on may leave nothing to wait for. No serial group
     * starts after a CANCEL, so the time is not needed. */
    maybe_finish(f, 0, a);
}

uint64_t sk__fork_tick(struct sk__fork *f, uint64_t now, struct sk__fork_acts *a)
{
    uint64_t next = UINT64_MAX;

    acts_clear(a);
    if (!f->begun)
        return next;
    for (size_t i = 0; i < f->n; i++) {
        struct sk__branch *b = &f->b[i];
        if (!pending(b) || b->timer_c == 0 || b->timer_c > now)
            continue;
        b->timer_c = 0;
        /* §16.8: Timer C fired: CANCEL a branch that is ringing; one that
         * never answered counts as a 408. */
        if (b->state == SK__BR_PROCEEDING) {
            cancel_branch(f, i, a);
        } else {
            b->state = SK__BR_DONE;
            b->final = 408;
            sk_buf_reset(&b->resp);
        }
    }
    maybe_finish(f, now, a);
    for (size_t i = 0; i < f->n; i++) {
        if (pending(&f->b[i]) && f->b[i].timer_c != 0 && f->b[i].timer_c < next)
            next = f->b[i].timer_c;
    }
    return next;
}

/* ---- §16.7 step 6: the best response --------------------------------------- */

/* Within a class: a 4xx that tells the caller what to change (§16.7 step
 * 6 names 401, 407, 415, 420 and 484) beats the others, and a timeout or
 * an overload (408, 503) is the least telling of all. */
static int preference(unsigned s)
{
    switch (s) {
    case 401:
    case 407:
    case 415:
    case 420:
    case 484:
        return 2;
    case 408:
    case 503:
        return 0;
    default:
        return 1;
    }
}

static bool better(unsigned a, unsigned b)
{
    /* A 6xx ends the search and wins over anything; otherwise the lowest
     * class wins. */
    if ((a >= 600) != (b >= 600))
        return a >= 600;
    if (a / 100 != b / 100)
        return a / 100 < b / 100;
    return preference(a) > preference(b);
}

int sk__proxy_best(const unsigned *status, size_t n)
{
    int best = -1;

    for (size_t i = 0; i < n; i++) {
        if (status[i] < 300 || status[i] > 699)
            continue;
        if (best < 0 || better(status[i], status[(size_t)best]))
            best = (int)i;
    }
    return best;
}

unsigned sk__fork_final_status(const struct sk__fork *f, int best)
{
    unsigned s;

    /* §16.7 step 6: with no final response at all, 408. */
    if (best < 0 || (size_t)best >= f->n)
        return 408;
    s = f->b[best].final;
    /* §16.7 step 6: a 503 is not passed on (it would tell the caller that
     * we are overloaded); it becomes a 500. */
    return s == 503 ? 500 : s;
}

/* A challenge header gathered from another branch's 401/407. */
struct challenge {
    bool proxy;
    size_t off, len;
};

#define MAX_CHALLENGES 24

/* Copy the challenge values of branch j's response into sc. */
static size_t gather(const struct sk__branch *b, struct sk_buf *sc, struct challenge *ch, size_t n)
{
    struct sk_msg m;

    sk_msg_init(&m);
    if (sk_msg_parse(&m, b->resp.p, b->resp.len, SK_MSG_DATAGRAM, NULL) == 0) {
        for (size_t i = 0; i < m.nhdrs && n < MAX_CHALLENGES; i++) {
            const struct sk_hdr *h = &m.hdrs[i];
            if (h->id != SK_HDR_WWW_AUTHENTICATE && h->id != SK_HDR_PROXY_AUTHENTICATE)
                continue;
            ch[n].proxy = h->id == SK_HDR_PROXY_AUTHENTICATE;
            ch[n].off = sc->len;
            ch[n].len = h->value.len;
            sk_buf_append_slice(sc, h->value);
            n++;
        }
    }
    sk_msg_free(&m);
    return n;
}

static int write_with(const struct sk_msg *m, const struct sk_msg *up, const struct sk_buf *sc,
                      const struct challenge *ch, size_t nch, struct sk_buf *out)
{
    struct sk_msg_edit e;
    struct sk_buf vsc;
    int err;

    sk_buf_init(&vsc);
    sk_msg_edit_init(&e, m);
    err = sk__proxy_edit_vias(&e, up, &vsc);
    for (size_t i = 0; i < nch && err == 0; i++) {
        struct sk_slice name =
            ch[i].proxy ? SK_SLICE_LIT("Proxy-Authenticate") : SK_SLICE_LIT("WWW-Authenticate");
        err = sk_msg_edit_insert(&e, m->nhdrs, name, sk_slice_make(sc->p + ch[i].off, ch[i].len));
    }
    if (err == 0)
        err = sk_msg_edit_write(&e, out);
    sk_buf_free(&vsc);
    return err;
}

int sk__fork_write_final(const struct sk__fork *f, int best, const struct sk_msg *up,
                         struct sk_buf *out)
{
    struct challenge ch[MAX_CHALLENGES];
    const struct sk__branch *b;
    struct sk_buf sc;
    struct sk_msg m;
    size_t nch = 0;
    int err;

    if (best < 0 || (size_t)best >= f->n)
        return SK_EINVAL;
    b = &f->b[best];
    if (b->resp.len == 0 || b->final == 503)
        return SK_EINVAL;
    sk_buf_init(&sc);
    /* §16.7 step 7: a 401/407 carries the challenges of every other
     * 401/407, so the caller can answer all branches at once. */
    if (b->final == 401 || b->final == 407) {
        for (size_t j = 0; j < f->n; j++) {
            const struct sk__branch *o = &f->b[j];
            if (j != (size_t)best && o->state == SK__BR_DONE && o->resp.len > 0 &&
                (o->final == 401 || o->final == 407))
                nch = gather(o, &sc, ch, nch);
        }
    }
    sk_msg_init(&m);
    err = sk_buf_ok(&sc) ? sk_msg_parse(&m, b->resp.p, b->resp.len, SK_MSG_DATAGRAM, NULL)
                         : SK_ENOMEM;
    if (err == 0)
        err = write_with(&m, up, &sc, ch, nch, out);
    sk_msg_free(&m);
    sk_buf_free(&sc);
    return err;
}
