/*
 * The registrar, RFC 3261 §10.3, with Path (RFC 3327) and the instance
 * and reg-id of RFC 5626 kept with each binding.
 *
 * Steps, as §10.3 numbers them:
 *   1. the Request-URI must name our domain (or one of our addresses):
 *      REGISTER for other domains gets 403 (forwarding may come later);
 *   2. Require was checked by the pipeline's sanity stage;
 *   3. digest authentication: 401 with WWW-Authenticate (auth.c);
 *   4. the authenticated user may register only its own AOR: 403 with the
 *      reason logged;
 *   5. the AOR comes from To and must be in our domain: 404 otherwise;
 *   6. Contact: * only alone and with Expires: 0 (400 otherwise) removes
 *      every binding; each other Contact gets its expiry from its expires
 *      parameter, else Expires, else the default; a non-zero expiry below
 *      the minimum gets 423 with Min-Expires, one above the maximum is
 *      capped;
 *   7. Call-ID / CSeq ordering: a binding last written with the same
 *      Call-ID and a CSeq not lower fails the request (500, nothing
 *      changes); sk_location_update() does the check atomically;
 *   8. the changes are committed (durably) before the 200 OK, which lists
 *      every current binding with its remaining expires, plus Date. The
 *      COMMIT happens on the store's writer thread: the request is held
 *      (a reference on its transaction) and answered after it, so the
 *      event loop goes on receiving meanwhile. A failed COMMIT gets 500
 *      with a reason naming the cause, and the previous bindings stay.
 * A REGISTER without Contact is a query: the 200 lists the bindings.
 *
 * The decisions that need only the message and the bounds (step 6, the
 * 200 OK's Contact list) are in functions of their own (registrar.h) for
 * the unit tests.
 *
 * Memory: one heap block per REGISTER (struct regjob: the contacts read,
 * the joined Path, the bindings returned) lives until the answer is sent;
 * the request itself is the transaction's copy, kept by the reference.
 */
#include "server/internal.h"
#include "server/registrar.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int sk__aor_key(const struct sk_uri *u, char *out, size_t outsz)
{
    int n;

    if ((u->scheme != SK_URI_SIP && u->scheme != SK_URI_SIPS) || u->user.len == 0 ||
        u->host.len == 0)
        return SK_EINVAL;
    n = sk_uri_unescape(u->user, out, outsz);
    if (n < 0)
        return SK_ETOOBIG;
    if ((size_t)n + 1 + u->host.len + 1 > outsz)
        return SK_ETOOBIG;
    out[n++] = '@';
    for (size_t i = 0; i < u->host.len; i++) {
        char c = u->host.p[i];
        out[n++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    out[n] = '\0';
    return 0;
}

/* §19.1.4 comparison of two Contact URIs (byte equality if one does not
 * parse). */
static bool same_uri(void *arg, struct sk_slice a, struct sk_slice b)
{
    struct sk_uri ua, ub;

    (void)arg;
    if (sk_uri_parse(a, &ua) != 0 || sk_uri_parse(b, &ub) != 0)
        return sk_slice_eq(a, b);
    return sk_uri_equal(&ua, &ub);
}

/* ---- the 200 OK ----------------------------------------------------------- */

static void add_date(struct sk_buf *b, int64_t now)
{
    char d[64];
    time_t t = (time_t)now;
    struct tm tm;

    /* §20.17: RFC 1123 date, always GMT. */
    gmtime_r(&t, &tm);
    strftime(d, sizeof(d), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    sk_msg_add_header(b, "Date", sk_slice_cstr(d));
}

void sk__reg_write_contacts(struct sk_buf *out, const struct sk_binding *b, size_t n, int64_t now)
{
    for (size_t i = 0; i < n; i++) {
        sk_buf_printf(out, "Contact: <%s>;expires=%u", b[i].contact,
                      sk_binding_remaining(&b[i], now));
        if (b[i].q >= 0)
            sk_buf_printf(out, ";q=%d.%03d", b[i].q / 1000, b[i].q % 1000);
        if (b[i].instance[0] != '\0')
            sk_buf_printf(out, ";+sip.instance=\"<%s>\"", b[i].instance);
        if (b[i].reg_id != 0)
            sk_buf_printf(out, ";reg-id=%u", b[i].reg_id);
        sk_buf_append_cstr(out, "\r\n");
    }
}

/* Whether a header of m lists option tag. */
static bool has_tag(const struct sk_msg *m, enum sk_hdr_id id, const char *tag)
{
    struct sk_hdr_iter it;
    struct sk_slice tok;

    sk_hdr_iter_init(&it, m, id);
    while (sk_msg_token_next(&it, &tok) == 1) {
        if (sk_slice_caseeq_cstr(tok, tag))
            return true;
    }
    return false;
}

/* RFC 5626 §5.2: a REGISTER uses Outbound when the UA supports it and a
 * Contact carries +sip.instance and reg-id; we are its first hop (one
 * Via, no Path from an edge proxy before us), so the flow is ours. */
static bool uses_outbound(const struct sk_msg *m, const struct sk__reg_contacts *k)
{
    struct sk_hdr_iter it;
    struct sk_via v;
    size_t vias = 0;
    bool flow = false;

    if (!has_tag(m, SK_HDR_SUPPORTED, "outbound") && !has_tag(m, SK_HDR_REQUIRE, "outbound"))
        return false;
    for (size_t i = 0; i < k->n && !flow; i++)
        flow = k->c[i].instance.len > 0 && k->c[i].reg_id != 0;
    sk_hdr_iter_init(&it, m, SK_HDR_VIA);
    while (sk_msg_via_next(&it, &v) == 1)
        vias++;
    return flow && vias == 1 && sk_msg_find(m, SK_HDR_PATH) == NULL;
}

static void reply_ok(struct sk__req *r, const struct sk_binding *b, size_t n, int64_t now,
                     struct sk_slice path, bool outbound)
{
    sk__resp_start(r, 200, NULL);
    sk__reg_write_contacts(&r->out, b, n, now);
    add_date(&r->out, now);
    /* RFC 3327 §5.3: the stored Path is returned to the UA. */
    if (path.len > 0)
        sk_msg_add_header(&r->out, "Path", path);
    sk_msg_add_header(&r->out, "Supported", SK_SLICE_LIT("path, outbound"));
    if (outbound) {
        /* RFC 5626 §5.2: the registrar tells the UA that Outbound is in
         * use; §4.4.1: Flow-Timer, how often the UA should send its
         * keep-alives on the flow. */
        sk_msg_add_header(&r->out, "Require", SK_SLICE_LIT("outbound"));
        if (r->s->cfg.nat_keepalive_interval > 0)
            sk_msg_add_headerf(&r->out, "Flow-Timer", "%u", r->s->cfg.nat_keepalive_interval);
    }
    sk__resp_send(r);
}

/* ---- reading the request ---------------------------------------------------- */

struct regctx {
    struct sk__reg_contacts k;
    char path[SK_LOC_PATH_MAX + 1];
    size_t pathlen;
};

/* A REGISTER from its handler to its answer: the request (r.txn holds a
 * reference, r.out is our own buffer), what was read from it and the
 * bindings the location service returns. */
struct regjob {
    struct sk__req r;
    struct sk_addr to;
    struct regctx x;
    int64_t now;
    bool outbound;                       /* RFC 5626 §5.2: the 200 says Require: outbound */
    char node_path[SK_LOC_PATH_MAX + 1]; /* cluster.c: stored, never echoed */
    char aor[SK_LOC_AOR_MAX + 1];
    struct sk_binding b[];
};

/* Every Path value, in order, joined with ", ". Returns false when too
 * long. */
static bool join_path(const struct sk_msg *m, struct regctx *x)
{
    x->pathlen = 0;
    for (size_t i = 0; i < m->nhdrs; i++) {
        struct sk_slice v = m->hdrs[i].value;
        if (m->hdrs[i].id != SK_HDR_PATH)
            continue;
        if (x->pathlen + v.len + 2 > SK_LOC_PATH_MAX)
            return false;
        if (x->pathlen > 0) {
            memcpy(x->path + x->pathlen, ", ", 2);
            x->pathlen += 2;
        }
        memcpy(x->path + x->pathlen, v.p, v.len);
        x->pathlen += v.len;
    }
    x->path[x->pathlen] = '\0';
    return true;
}

/* +sip.instance="<urn:...>" without quotes and angle brackets. */
static struct sk_slice instance_of(const struct sk_contact *c)
{
    struct sk_slice v;

    if (!sk_param_find(c->addr.params, "+sip.instance", &v))
        return SK_SLICE_NULL;
    if (v.len >= 2 && v.p[0] == '<' && v.p[v.len - 1] == '>')
        v = sk_slice_make(v.p + 1, v.len - 2);
    return v;
}

unsigned sk__reg_read_contacts(const struct sk_msg *m, const struct sk__reg_limits *lim,
                               struct sk__reg_contacts *x, const char **why)
{
    uint64_t hdr_exp = lim->default_expires, v;
    int got = sk_msg_get_uint(m, SK_HDR_EXPIRES, UINT64_MAX, &v);
    bool has_hdr = got == 1;
    struct sk_hdr_iter it;
    struct sk_contact c;
    int rc;

    x->n = 0;
    x->star = false;
    if (has_hdr)
        hdr_exp = v;
    else if (got < 0)
        return *why = "Invalid Expires", 400;
    sk_hdr_iter_init(&it, m, SK_HDR_CONTACT);
    while ((rc = sk_msg_contact_next(&it, &c)) == 1) {
        if (c.star) {
            x->star = true;
            continue;
        }
        if (x->n == SK__REG_MAX_CONTACTS)
            return *why = "Too Many Contacts", 400;
        if (c.addr.uri.raw.len > SK_LOC_URI_MAX)
            return *why = "Contact URI Too Long", 400;
        struct sk_location_contact *lc = &x->c[x->n++];
        uint64_t e = c.expires >= 0 ? (uint64_t)c.expires : hdr_exp;
        if (e != 0 && e < lim->min_expires)
            return *why = NULL, 423;
        lc->uri = c.addr.uri.raw;
        lc->expires = (uint32_t)(e > lim->max_expires ? lim->max_expires : e);
        lc->q = c.q;
        lc->instance = instance_of(&c);
        lc->reg_id = 0;
        struct sk_slice rid;
        if (sk_param_find(c.addr.params, "reg-id", &rid) &&
            sk_slice_to_u64(rid, UINT32_MAX, &v) == 0)
            lc->reg_id = (uint32_t)v;
        if (lc->instance.len > SK_LOC_INSTANCE_MAX)
            return *why = "+sip.instance Too Long", 400;
    }
    if (rc < 0)
        return *why = "Malformed Contact", 400;
    /* §10.3 step 6: "*" only alone and with Expires: 0. */
    if (x->star && (x->n > 0 || !has_hdr || hdr_exp != 0))
        return *why = "Invalid Contact: * needs Expires: 0 and no other Contact", 400;
    return 0;
}

/* Steps 4 and 5: the AOR from To, owned by the authenticated user. */
static bool check_aor(struct sk__req *r, char *aor, size_t aorsz)
{
    const struct sk_uri *to = &r->m->to.uri;
    char user[SK_AUTH_NAME_MAX + 1];
    int n;

    if (sk__aor_key(to, aor, aorsz) != 0 || !sk__is_our_domain(r->s, to->host)) {
        sk__log_reject(r, 404, NULL, "the To address is not in our domain");
        sk__reply(r, 404, NULL);
        return false;
    }
    n = sk_uri_unescape(to->user, user, sizeof(user));
    if (n < 0 || (size_t)n != strlen(r->user) || memcmp(user, r->user, (size_t)n) != 0) {
        SK_LOG(SK_LOG_INFO, "registrar",
               "event=register_forbidden user=\"%s\" aor=\"%s\" reason=\"may register only its "
               "own address-of-record\"",
               r->user, aor);
        sk__log_reject(r, 403, NULL, "not the authenticated user's AOR");
        sk__resp_start(r, 403, NULL);
        sk__resp_send(r);
        return false;
    }
    return true;
}

static void update_failed(struct sk__req *r, int rc, const char *aor)
{
    /* The store could not make the change durable: name the cause. */
    const char *why = rc == -ENOSPC ? "Storage Full" : rc == -EBUSY ? "Storage Busy" : NULL;

    if (rc == SK_ESTATE) {
        /* §10.3 step 7: same Call-ID, CSeq not higher: the update is
         * aborted and the request fails. */
        sk__log_reject(r, 500, "Out-of-Order CSeq", "CSeq not above the binding's");
        sk__resp_start(r, 500, "Out-of-Order CSeq");
        sk__resp_send(r);
    } else if (rc == SK_ETOOBIG) {
        sk__log_reject(r, 403, "Too Many Registered Contacts", NULL);
        sk__resp_start(r, 403, "Too Many Registered Contacts");
        sk__resp_send(r);
    } else {
        if (why == NULL)
            why = rc == SK_ENOMEM ? "Out of Memory" : "Storage Error";
        SK_LOG(SK_LOG_ERROR, "registrar", "event=update_failed aor=\"%s\" error=\"%s\"", aor,
               sk_strerror(rc));
        sk__reply_store_failed(r, rc, why);
    }
}

static void job_free(struct regjob *j)
{
    if (j->r.txn != NULL) {
        sk_buf_free(&j->r.out);
        sk_txn_unref(j->r.txn);
    }
    sk_free(j);
}

/* The location's completion, on the store's writer thread: the change is
 * committed (or failed and undone). */
static void update_done(void *arg, int rc, size_t n)
{
    struct regjob *j = arg;

    if (rc != 0) {
        update_failed(&j->r, rc, j->aor);
    } else {
        SK_LOG(SK_LOG_INFO, "registrar", "event=registered aor=\"%s\" contacts=%zu bindings=%zu%s",
               j->aor, j->x.k.n, n, j->x.k.star ? " remove_all=true" : "");
        reply_ok(&j->r, j->b, n, j->now, sk_slice_make(j->x.path, j->x.pathlen), j->outbound);
    }
    job_free(j);
}

/* Steps 7 and 8: hand the change to the location service; the answer
 * comes from update_done(). */
static void update(struct sk__req *r, struct regjob *j)
{
    const struct sk_msg *m = r->m;
    struct sk_location_update u;
    int rc;

    memset(&u, 0, sizeof(u));
    u.aor = sk_slice_cstr(j->aor);
    u.call_id = m->call_id;
    u.cseq = m->cseq.num;
    u.remove_all = j->x.k.star;
    u.contacts = j->x.k.c;
    u.ncontacts = j->x.k.n;
    u.path = sk_slice_make(j->x.path, j->x.pathlen);
    /* A cluster's other nodes reach a connection of ours through us. */
    if (j->x.pathlen == 0 && sk_transport_reliable(r->to->tp) && sk__cluster_mode(r->s) &&
        sk__cluster_path(r->s, r->to, j->node_path, sizeof(j->node_path)) == 0)
        u.path = sk_slice_cstr(j->node_path);
    if (sk_msg_find(m, SK_HDR_USER_AGENT) != NULL)
        u.user_agent = sk_msg_find(m, SK_HDR_USER_AGENT)->value;
    u.transport = r->to->tp;
    u.src_ip = m->src_ip;
    u.src_port = m->src_port;
    u.conn_id = r->to->conn_id;
    u.now = j->now;
    u.same_uri = same_uri;
    /* Answered later, from the store's writer thread, on the transaction. */
    j->r = *r;
    j->to = *r->to;
    j->r.to = &j->to;
    sk_buf_init(&j->r.out);
    sk_txn_ref(j->r.txn);
    rc = sk_location_update_async(r->s->loc, &u, j->b, r->s->cfg.max_contacts, update_done, j);
    if (rc != 0) {
        update_failed(r, rc, j->aor);
        job_free(j);
    }
}

void sk__registrar_handle(struct sk__req *r)
{
    const struct sk_msg *m = r->m;
    struct regjob *j;
    struct sk__reg_limits lim;
    const char *why = NULL;
    size_t n = 0;
    unsigned code;

    if (m->ruri.user.len > 0 || !sk__is_our_host(r->s, &m->ruri)) {
        sk__log_reject(r, 403, "Not Our Domain", "REGISTER for another domain");
        sk__resp_start(r, 403, "Not Our Domain");
        sk__resp_send(r);
        return;
    }
    /* Every field of a returned binding is written: no need to zero the
     * array (max_contacts * ~3 KB) on every REGISTER. */
    j = sk_malloc(sizeof(*j) + r->s->cfg.max_contacts * sizeof(j->b[0]));
    if (j == NULL) {
        sk__reply(r, 500, NULL);
        return;
    }
    memset(j, 0, sizeof(*j));
    j->now = sk_wall_s();
    if (!sk__auth_check(r, SK_AUTH_WWW) || !check_aor(r, j->aor, sizeof(j->aor)))
        goto out;
    if (!join_path(m, &j->x)) {
        sk__reply(r, 400, "Path Too Long");
        goto out;
    }
    lim.default_expires = r->s->cfg.default_expires;
    lim.min_expires = r->s->cfg.min_expires;
    lim.max_expires = r->s->cfg.max_expires;
    if ((code = sk__reg_read_contacts(m, &lim, &j->x.k, &why)) == 423) {
        sk__log_reject(r, 423, NULL, "expires below min_expires");
        sk__resp_start(r, 423, NULL);
        sk_msg_add_headerf(&r->out, "Min-Expires", "%u", r->s->cfg.min_expires);
        sk__resp_send(r);
        goto out;
    } else if (code != 0) {
        sk__reply(r, code, why);
        goto out;
    }
    if (j->x.k.n == 0 && !j->x.k.star) {
        /* A query: the current bindings. */
        sk_location_lookup(r->s->loc, sk_slice_cstr(j->aor), j->now, j->b, r->s->cfg.max_contacts,
                           &n);
        reply_ok(r, j->b, n, j->now, sk_slice_make(j->x.path, j->x.pathlen), false);
        goto out;
    }
    if (m->call_id.len > SK_LOC_CALLID_MAX) {
        sk__reply(r, 400, "Call-ID Too Long");
        goto out;
    }
    if (r->txn == NULL) {
        sk__reply(r, 500, "No Transaction"); /* the pipeline always makes one */
        goto out;
    }
    j->outbound = uses_outbound(m, &j->x.k);
    update(r, j);
    return; /* j is update_done()'s now */
out:
    sk_free(j);
}
