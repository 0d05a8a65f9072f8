/*
 * What the proxy changes in the messages it passes on: route information
 * preprocessing (RFC 3261 §16.4), the forwarded copy of a request (§16.6
 * steps 1-8, with RFC 3327 Path values as a pre-loaded route set), the
 * branch of a statelessly forwarded ACK (§16.11), and a response going
 * back with our Via removed (§16.7 step 9 / §16.11), the credentials for
 * our realm removed from what we forward (§22.3), and the loop-detection
 * hash of our branch that tells a loop from a spiral (§16.3 step 4,
 * §16.6 step 8).
 *
 * Every header the proxy does not have to touch is written byte for byte
 * (sk_msg_edit). Memory: slices point into the received message, the
 * caller's plan, or the caller's scratch buffer; nothing is allocated
 * here beyond the buffers' growth.
 */
#include "server/proxy_int.h"

#include <sipkit/containers.h>

#include <string.h>

bool sk__proxy_uri_is_self(const struct sk_uri *u, const struct sk_addr *self, size_t nself)
{
    struct sk_addr a;
    struct sk_slice tp;
    uint16_t def = u->scheme == SK_URI_SIPS ? 5061 : 5060;

    if (u->scheme != SK_URI_SIP && u->scheme != SK_URI_SIPS)
        return false;
    if (u->host_type != SK_HOST_IPV4 && u->host_type != SK_HOST_IPV6)
        return false;
    if (sk_uri_param(u, "transport", &tp) && !sk_slice_caseeq_cstr(tp, "udp") &&
        !sk_slice_caseeq_cstr(tp, "tcp") && !sk_slice_caseeq_cstr(tp, "tls") &&
        !sk_slice_caseeq_cstr(tp, "ws") && !sk_slice_caseeq_cstr(tp, "wss"))
        return false;
    if (sk_addr_parse(u->host, u->has_port ? u->port : def, &a) != 0)
        return false;
    for (size_t i = 0; i < nself; i++) {
        if (sk_addr_equal(&a, &self[i]))
            return true;
    }
    return false;
}

int sk__proxy_preprocess(const struct sk_msg *m, const struct sk_addr *self, size_t nself,
                         struct sk__route_pre *pre)
{
    struct sk_hdr_iter it;
    int r;

    memset(pre, 0, sizeof(*pre));
    pre->ruri = m->ruri_raw;
    pre->ruri_parsed = m->ruri;
    sk_hdr_iter_init(&it, m, SK_HDR_ROUTE);
    for (;;) {
        struct sk_nameaddr na;
        r = sk_msg_nameaddr_next(&it, &na);
        if (r == 0)
            break;
        if (r < 0)
            return SK_EPARSE;
        if (pre->nroutes == SK__PROXY_MAX_ROUTES)
            return SK_ETOOBIG;
        pre->routes[pre->nroutes++] = na;
    }
    /* §16.4: a Request-URI we put in a Record-Route means the previous hop
     * was a strict router; the real Request-URI is the last Route value. */
    if (pre->nroutes > 0 && sk__proxy_uri_is_self(&m->ruri, self, nself)) {
        pre->strict_prev = true;
        pre->ruri = pre->routes[pre->nroutes - 1].uri.raw;
        pre->ruri_parsed = pre->routes[pre->nroutes - 1].uri;
    }
    /* §16.4: a first Route value naming us is removed (loose routing);
     * so is every one after it that names us too (RFC 5658 double
     * record-routing, a spiral), in this one pass: going round once per
     * value would send the request to ourselves again each time. */
    while (sk__proxy_routes_left(pre) > 0 &&
           sk__proxy_uri_is_self(&pre->routes[pre->ndrop].uri, self, nself))
        pre->ndrop++;
    return 0;
}

size_t sk__proxy_routes_left(const struct sk__route_pre *pre)
{
    return pre->nroutes - (pre->strict_prev ? 1u : 0u) - pre->ndrop;
}

bool sk__proxy_routed_to_us(const struct sk__route_pre *pre)
{
    return pre->ndrop > 0 || pre->strict_prev;
}

const struct sk_uri *sk__proxy_last_self(const struct sk__route_pre *pre, const struct sk_msg *m)
{
    if (pre->ndrop > 0)
        return &pre->routes[pre->ndrop - 1].uri;
    return pre->strict_prev ? &m->ruri : NULL;
}

struct sk_slice sk__proxy_next_hop(const struct sk__route_pre *pre)
{
    if (sk__proxy_routes_left(pre) > 0)
        return pre->routes[pre->ndrop].uri.raw;
    return pre->ruri;
}

void sk__proxy_plan_target(struct sk__fwd_plan *plan, const char *uri, const char *path_list,
                           struct sk_slice *path)
{
    struct sk_slice cur = path_list != NULL ? sk_slice_cstr(path_list) : SK_SLICE_NULL, v;

    if (uri != NULL)
        plan->target = sk_slice_cstr(uri);
    plan->npath = 0;
    while (plan->npath < SK__PROXY_MAX_ROUTES && sk_list_next(&cur, &v) == 1)
        path[plan->npath++] = v;
    plan->path = path;
}

/* A piece of scratch: offsets stay valid while the buffer grows. */
struct piece {
    size_t off, len;
};

static struct piece piece_begin(const struct sk_buf *b)
{
    struct piece p = {b->len, 0};
    return p;
}

static void piece_end(const struct sk_buf *b, struct piece *p)
{
    p->len = b->len - p->off;
}

static struct sk_slice piece_slice(const struct sk_buf *b, struct piece p)
{
    return sk_slice_make(b->p + p.off, p.len);
}

/* The route set of the forwarded copy, before the §16.6 step 6 check. */
struct route_set {
    struct sk_slice v[SK__PROXY_MAX_ROUTES * 2];
    size_t n;
};

static void route_set_build(const struct sk__route_pre *pre, const struct sk__fwd_plan *plan,
                            struct route_set *rs)
{
    size_t first = pre->ndrop;
    size_t end = pre->nroutes - (pre->strict_prev ? 1 : 0);

    rs->n = 0;
    for (size_t i = 0; i < plan->npath && rs->n < SK__PROXY_MAX_ROUTES; i++)
        rs->v[rs->n++] = plan->path[i];
    for (size_t i = first; i < end; i++)
        rs->v[rs->n++] = pre->routes[i].raw;
}

/* Remove every Route header and insert one holding the joined values. */
static int rewrite_routes(struct sk_msg_edit *e, const struct sk_msg *m, struct sk_slice joined)
{
    size_t at = m->first[SK_HDR_ROUTE] ? (size_t)m->first[SK_HDR_ROUTE] - 1 : 0;
    int err = 0;

    for (size_t i = 0; i < m->nhdrs && err == 0; i++) {
        if (m->hdrs[i].id == SK_HDR_ROUTE)
            err = sk_msg_edit_remove(e, i);
    }
    if (err == 0 && joined.len > 0)
        err = sk_msg_edit_insert(e, at, SK_SLICE_LIT("Route"), joined);
    return err;
}

/* The value of the first Via header after the first Via value ("" or
 * ", other-via..."). */
static struct sk_slice via_rest(const struct sk_msg *m)
{
    const struct sk_hdr *h = sk_msg_find(m, SK_HDR_VIA);
    const char *end, *after;

    if (h == NULL || m->via.raw.p == NULL)
        return SK_SLICE_NULL;
    end = h->value.p + h->value.len;
    after = m->via.raw.p + m->via.raw.len;
    return sk_slice_make(after, (size_t)(end - after));
}

/* Scratch pieces of a forwarded copy. */
struct fwd_scratch {
    struct piece top_via, max_fwd, routes;
    bool route_changed;
    struct sk_slice ruri;
    struct sk_slice next_hop;
};

/* §16.6 step 6: a first Route value without ;lr is a strict router: the
 * Request-URI goes last in the route set and that value's URI becomes the
 * Request-URI. Otherwise the next hop is the first Route value's URI. */
static int build_routes(const struct sk__route_pre *pre, const struct sk__fwd_plan *plan,
                        struct sk_buf *sc, struct fwd_scratch *fs)
{
    struct route_set rs;
    struct sk_nameaddr first;
    struct sk_slice lr;
    bool strict_next = false;
    size_t from = 0;

    route_set_build(pre, plan, &rs);
    fs->ruri = plan->target.len > 0 ? plan->target : pre->ruri;
    fs->next_hop = fs->ruri;
    if (rs.n > 0) {
        if (sk_nameaddr_parse(rs.v[0], &first) != 0)
            return SK_EPARSE;
        strict_next = !sk_uri_param(&first.uri, "lr", &lr);
        from = strict_next ? 1 : 0;
        fs->next_hop = first.uri.raw;
    }
    fs->route_changed = plan->npath > 0 || sk__proxy_routed_to_us(pre) || strict_next;
    fs->routes = piece_begin(sc);
    for (size_t i = from; i < rs.n; i++) {
        if (sc->len > fs->routes.off)
            sk_buf_append(sc, ", ", 2);
        sk_buf_append_slice(sc, rs.v[i]);
    }
    if (strict_next) {
        if (sc->len > fs->routes.off)
            sk_buf_append(sc, ", ", 2);
        sk_buf_append(sc, "<", 1);
        sk_buf_append_slice(sc, fs->ruri);
        sk_buf_append(sc, ">", 1);
        fs->ruri = first.uri.raw;
    }
    piece_end(sc, &fs->routes);
    return 0;
}

static void build_values(const struct sk_msg *m, struct sk_buf *sc, struct fwd_scratch *fs)
{
    /* §16.6 step 3: Max-Forwards one less (sanity checks refused 0). */
    fs->max_fwd = piece_begin(sc);
    sk_buf_append_u64(sc, m->max_forwards > 0 ? (uint64_t)m->max_forwards - 1 : 0);
    piece_end(sc, &fs->max_fwd);
    /* §18.2.1 / RFC 3581 §4: the previous hop's Via gets received and
     * rport so responses find their way back. */
    fs->top_via = piece_begin(sc);
    sk_msg_write_top_via(m, sc);
    sk_buf_append_slice(sc, via_rest(m));
    piece_end(sc, &fs->top_via);
}

/* A Proxy-Authorization value whose realm is `realm`. */
static bool for_realm(struct sk_slice value, struct sk_slice realm)
{
    struct sk_digest_hdr d;

    return sk_digest_hdr_parse(value, &d) == 0 && sk_slice_eq(d.f[SK_DIG_REALM], realm);
}

static int apply(struct sk_msg_edit *e, const struct sk_msg *m, const struct sk__fwd_plan *plan,
                 const struct sk_buf *sc, const struct fwd_scratch *fs)
{
    size_t via_at = m->first[SK_HDR_VIA] ? (size_t)m->first[SK_HDR_VIA] - 1 : 0;
    size_t rr_at = m->first[SK_HDR_RECORD_ROUTE] ? (size_t)m->first[SK_HDR_RECORD_ROUTE] - 1 : 0;
    int err = 0;

    sk_msg_edit_set_ruri(e, fs->ruri);
    /* §16.6 step 8: our Via above all others. */
    err = sk_msg_edit_insert(e, via_at, SK_SLICE_LIT("Via"), plan->via);
    if (err == 0 && m->first[SK_HDR_VIA])
        err = sk_msg_edit_replace(e, via_at, piece_slice(sc, fs->top_via));
    /* §16.6 step 4: our Record-Route above any existing one. */
    if (err == 0 && plan->rr.len > 0)
        err = sk_msg_edit_insert(e, rr_at, SK_SLICE_LIT("Record-Route"), plan->rr);
    if (err == 0 && m->first[SK_HDR_MAX_FORWARDS])
        err = sk_msg_edit_replace(e, (size_t)m->first[SK_HDR_MAX_FORWARDS] - 1,
                                  piece_slice(sc, fs->max_fwd));
    else if (err == 0)
        err = sk_msg_edit_insert(e, m->nhdrs, SK_SLICE_LIT("Max-Forwards"), SK_SLICE_LIT("70"));
    if (err == 0 && fs->route_changed)
        err = rewrite_routes(e, m, piece_slice(sc, fs->routes));
    /* §22.3: the credentials meant for us have done their work; those for
     * proxies further on go with the request. */
    for (size_t i = 0; i < m->nhdrs && err == 0 && plan->realm.len > 0; i++) {
        if (m->hdrs[i].id == SK_HDR_PROXY_AUTHORIZATION && for_realm(m->hdrs[i].value, plan->realm))
            err = sk_msg_edit_remove(e, i);
    }
    return err;
}

/* RFC 3261 §18.3 / §20.14: Content-Length is mandatory over a stream and
 * optional over UDP, where the datagram's end frames the body. What we pass
 * on may go out over TCP though it came in over UDP (twinkle over TCP
 * refused such an INVITE with 400), so it always leaves with one. */
static void keep_length(struct sk_msg_edit *e)
{
    if (e->m->content_length < 0 && !e->replace_body)
        sk_msg_edit_set_body(e, e->m->body);
}

int sk__proxy_forward(const struct sk_msg *m, const struct sk__route_pre *pre,
                      const struct sk__fwd_plan *plan, struct sk_buf *scratch, struct sk_buf *out,
                      struct sk_slice *next_hop)
{
    struct sk_msg_edit e;
    struct fwd_scratch fs;
    int err;

    memset(&fs, 0, sizeof(fs));
    err = build_routes(pre, plan, scratch, &fs);
    if (err != 0)
        return err;
    build_values(m, scratch, &fs);
    if (!sk_buf_ok(scratch))
        return SK_ENOMEM;
    sk_msg_edit_init(&e, m);
    err = apply(&e, m, plan, scratch, &fs);
    if (err != 0)
        return err;
    /* The next hop may point into scratch (a strict Request-URI never
     * does: it is a Route value's URI). */
    *next_hop = fs.next_hop;
    if (plan->new_body)
        sk_msg_edit_set_body(&e, plan->body);
    keep_length(&e);
    return sk_msg_edit_write(&e, out);
}

void sk__proxy_stateless_branch(const struct sk_msg *m, struct sk_slice target, char *out,
                                size_t outsz)
{
    static const char hex[] = "0123456789abcdef";
    static const char magic[] = "z9hG4bKsl";
    struct sk_hasher hs;
    uint64_t h;
    size_t n = 0;

    sk_hasher_init(&hs);
    if (m->via.branch.len > 7 && memcmp(m->via.branch.p, "z9hG4bK", 7) == 0) {
        sk_hasher_field(&hs, m->via.branch);
    } else {
        /* RFC 2543 peers: what identifies the request instead (§16.11). */
        sk_hasher_field(&hs, m->call_id);
        sk_hasher_field(&hs, m->from.tag);
        sk_hasher_field(&hs, m->to.tag);
        sk_hasher_field(&hs, m->ruri_raw);
        sk_hasher_field(&hs, m->via.raw);
        sk_hasher_u64(&hs, m->cseq.num);
    }
    sk_hasher_field(&hs, target);
    h = sk_hasher_end(&hs);
    for (size_t i = 0; magic[i] != '\0' && n + 1 < outsz; i++)
        out[n++] = magic[i];
    for (size_t i = 0; i < 16 && n + 1 < outsz; i++, h >>= 4)
        out[n++] = hex[h & 15];
    if (outsz > 0)
        out[n] = '\0';
}

uint64_t sk__proxy_loop_hash(const struct sk_msg *m, const struct sk_via *below,
                             struct sk_slice realm)
{
    struct sk_hasher h;

    sk_hasher_init(&h);
    /* §16.6 step 8 names the fields; Route is added because with loose
     * routing the Request-URI stays the same while the route set shrinks
     * by one value per proxy, which is what makes a spiral. */
    sk_hasher_field(&h, m->ruri_raw);
    sk_hasher_field(&h, m->to.tag);
    sk_hasher_field(&h, m->from.tag);
    sk_hasher_field(&h, m->call_id);
    sk_hasher_u64(&h, m->cseq.num);
    if (below != NULL) {
        /* Only the parts of that Via that nobody changes on the way:
         * received and rport are added by the next hop (§18.2.1). */
        sk_hasher_field(&h, below->host);
        sk_hasher_u64(&h, below->has_port ? below->port : 0);
        sk_hasher_field(&h, below->branch);
    }
    for (size_t i = 0; i < m->nhdrs; i++) {
        const struct sk_hdr *hd = &m->hdrs[i];
        if (hd->id == SK_HDR_ROUTE || hd->id == SK_HDR_PROXY_REQUIRE ||
            (hd->id == SK_HDR_PROXY_AUTHORIZATION && !for_realm(hd->value, realm))) {
            sk_hasher_u64(&h, (uint64_t)hd->id);
            sk_hasher_field(&h, hd->value);
        }
    }
    return sk_hasher_end(&h);
}

void sk__proxy_loop_tag(uint64_t h, char *out)
{
    static const char hex[] = "0123456789abcdef";

    out[0] = 'l';
    out[1] = 'p';
    for (size_t i = 0; i < 16; i++, h >>= 4)
        out[2 + i] = hex[h & 15];
    out[SK__PROXY_LOOP_TAG_LEN] = '\0';
}

bool sk__proxy_via_is_self(const struct sk_via *v, const struct sk_addr *self, size_t nself)
{
    struct sk_addr a;

    if (v->host_type != SK_HOST_IPV4 && v->host_type != SK_HOST_IPV6)
        return false;
    if (sk_addr_parse(v->host, v->has_port ? v->port : 5060, &a) != 0)
        return false;
    for (size_t i = 0; i < nself; i++) {
        if (sk_addr_equal(&a, &self[i]))
            return true;
    }
    return false;
}

/* Our Via v with the Via below it: the same tag again is a loop. */
static bool same_tag(const struct sk_msg *m, const struct sk_via *v, const struct sk_via *below,
                     struct sk_slice realm)
{
    char tag[SK__PROXY_LOOP_TAG_LEN + 1];
    struct sk_slice b = v->branch;

    if (below == NULL || b.len < SK__PROXY_LOOP_TAG_LEN)
        return true;
    b = sk_slice_make(b.p + b.len - SK__PROXY_LOOP_TAG_LEN, SK__PROXY_LOOP_TAG_LEN);
    if (b.p[0] != 'l' || b.p[1] != 'p')
        return true;
    sk__proxy_loop_tag(sk__proxy_loop_hash(m, below, realm), tag);
    return memcmp(b.p, tag, SK__PROXY_LOOP_TAG_LEN) == 0;
}

bool sk__proxy_looped(const struct sk_msg *m, const struct sk_addr *self, size_t nself,
                      struct sk_slice realm)
{
    struct sk_hdr_iter it;
    struct sk_via v[2];
    int cur = 0, have;

    sk_hdr_iter_init(&it, m, SK_HDR_VIA);
    have = sk_msg_via_next(&it, &v[cur]);
    while (have == 1) {
        int nxt = cur ^ 1;
        int more = sk_msg_via_next(&it, &v[nxt]);
        if (sk__proxy_via_is_self(&v[cur], self, nself) &&
            same_tag(m, &v[cur], more == 1 ? &v[nxt] : NULL, realm))
            return true;
        cur = nxt;
        have = more;
    }
    return false;
}

int sk__proxy_edit_strip_via(struct sk_msg_edit *e)
{
    const struct sk_msg *resp = e->m;
    struct sk_slice rest;
    size_t at;

    if (resp->first[SK_HDR_VIA] == 0)
        return SK_EINVAL;
    at = (size_t)resp->first[SK_HDR_VIA] - 1;
    rest = via_rest(resp);
    keep_length(e);
    /* The rest is "" or ", next-via ..." (§7.3.1 comma-separated). */
    while (rest.len > 0 && rest.p[0] != '\0' && strchr(" \t\r\n,", rest.p[0]) != NULL)
        rest = sk_slice_make(rest.p + 1, rest.len - 1);
    if (rest.len == 0)
        return sk_msg_edit_remove(e, at);
    return sk_msg_edit_replace(e, at, rest);
}

int sk__proxy_strip_via(const struct sk_msg *resp, struct sk_buf *out)
{
    struct sk_msg_edit e;
    int err;

    sk_msg_edit_init(&e, resp);
    err = sk__proxy_edit_strip_via(&e);
    if (err != 0)
        return err;
    return sk_msg_edit_write(&e, out);
}

int sk__proxy_edit_vias(struct sk_msg_edit *e, const struct sk_msg *up, struct sk_buf *sc)
{
    const struct sk_msg *resp = e->m;
    size_t at, off = sc->len;
    bool first = true;
    int err = 0;

    if (resp->first[SK_HDR_VIA] == 0 || up->first[SK_HDR_VIA] == 0)
        return SK_EINVAL;
    at = (size_t)resp->first[SK_HDR_VIA] - 1;
    keep_length(e);
    /* The top Via of the request as its responses carry it (§18.2.1,
     * RFC 3581 §4): written first, so later appends cannot move it. */
    sk_msg_write_top_via(up, sc);
    sk_buf_append_slice(sc, via_rest(up));
    if (!sk_buf_ok(sc))
        return SK_ENOMEM;
    for (size_t i = 0; i < resp->nhdrs && err == 0; i++) {
        if (resp->hdrs[i].id == SK_HDR_VIA)
            err = sk_msg_edit_remove(e, i);
    }
    for (size_t i = 0; i < up->nhdrs && err == 0; i++) {
        const struct sk_hdr *h = &up->hdrs[i];
        if (h->id != SK_HDR_VIA)
            continue;
        err = sk_msg_edit_insert(e, at, SK_SLICE_LIT("Via"),
                                 first ? sk_slice_make(sc->p + off, sc->len - off) : h->value);
        first = false;
    }
    return err;
}

int sk__proxy_relay_response(const struct sk_msg *resp, const struct sk_msg *up, struct sk_buf *out)
{
    struct sk_msg_edit e;
    struct sk_buf sc;
    int err;

    sk_buf_init(&sc);
    sk_buf_reserve(&sc, 256);
    sk_msg_edit_init(&e, resp);
    err = sk__proxy_edit_vias(&e, up, &sc);
    if (err == 0)
        err = sk_msg_edit_write(&e, out);
    sk_buf_free(&sc);
    /* Too many Vias for one edit: the plain rule (§16.7 step 9) still
     * works for a UAS that copied them all. */
    return err == SK_ETOOBIG ? sk__proxy_strip_via(resp, out) : err;
}
