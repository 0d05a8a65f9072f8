/*
 * Flows for UAs behind NAT: where a request within a dialog really goes.
 *
 * A UA behind a NAT advertises its private address in Contact; requests
 * within its dialogs carry that address as Request-URI and cannot reach
 * it. What can reach it is the flow its requests came from: the NAT's
 * public address and port (UDP), or the TCP, TLS or WebSocket
 * connection it opened (a WebSocket client always: RFC 7118 §5).
 *
 * RFC 5626 §5.3 lets an edge proxy put a flow token in its Record-Route
 * URI, so that a request along the route set names the flow. We do that
 * for clients without Outbound too: when a dialog-creating request is
 * forwarded, the Record-Route value gets
 *
 *   ;skfa=TOKEN  the caller's flow, when its Contact is not where it sent
 *                from (NAT; on TCP, another host);
 *   ;skfb=TOKEN  the callee's flow, when its binding's source is not its
 *                Contact (likewise).
 *
 * TOKEN is "<u|t|s|w|x><address hex>-<port>-<connection hex>-<mac>" (the
 * letter names UDP, TCP, TLS, WS or WSS), the MAC an
 * HMAC under the server secret (sk_auth_mac), so a request cannot name a
 * flow we did not mint. A request that comes back through us with such a
 * value goes (RFC 5626 §5.3) to the other party's flow: from the caller's
 * flow to the callee's, from the callee's to the caller's, from elsewhere
 * to the only flow named. The Record-Route values are otherwise unchanged
 * (additive to the route tokens of the proxy).
 *
 * Memory: tokens are written into caller-owned buffers.
 */
#include "server/nat.h"

#include <sipkit/auth.h>

#include <string.h>

#define MAC_HEX 32 /* 128 bits of the HMAC */

static const char hexd[] = "0123456789abcdef";

static void append_hex(struct sk_buf *b, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char two[2] = {hexd[p[i] >> 4], hexd[p[i] & 15]};
        sk_buf_append(b, two, 2);
    }
}

static void append_u64_hex(struct sk_buf *b, uint64_t v)
{
    char t[16];
    size_t n = 0;

    do {
        t[15 - n++] = hexd[v & 15];
        v >>= 4;
    } while (v != 0 && n < 16);
    sk_buf_append(b, t + 16 - n, n);
}

/* A token's first letter: the flow's transport (u t s w x: UDP, TCP,
 * TLS, WS, WSS, enum sk_transport's order). */
static const char tp_letters[] = "utswx";

/* The flow part of a token (no MAC). */
static void append_flow(struct sk_buf *b, const struct sk_addr *f)
{
    unsigned t = (unsigned)f->tp < sizeof(tp_letters) - 1 ? (unsigned)f->tp : 0;

    sk_buf_append(b, &tp_letters[t], 1);
    if (f->ss.ss_family == AF_INET6)
        append_hex(b, (const unsigned char *)&f->in6.sin6_addr, 16);
    else
        append_hex(b, (const unsigned char *)&f->in.sin_addr, 4);
    sk_buf_append(b, "-", 1);
    sk_buf_append_u64(b, sk_addr_port(f));
    sk_buf_append(b, "-", 1);
    append_u64_hex(b, sk_transport_reliable(f->tp) ? f->conn_id : 0);
}

/* The MAC's label: a Record-Route flow token cannot pass for a cluster
 * Path's (cluster.c), which lets a request in without authentication. */
#define LABEL_RR   "sipkit nat flow 1"
#define LABEL_NODE "sipkit cluster flow 1"

static int flow_mac(struct sk_auth *a, const char *label, struct sk_slice flow, char *out)
{
    unsigned char mac[32];
    int err = sk_auth_mac(a, label, &flow, 1, mac);

    if (err != 0)
        return err;
    for (size_t i = 0; i < MAC_HEX / 2; i++) {
        out[2 * i] = hexd[mac[i] >> 4];
        out[2 * i + 1] = hexd[mac[i] & 15];
    }
    return 0;
}

static int flow_append(struct sk_auth *a, const char *label, const char *name,
                       const struct sk_addr *flow, struct sk_buf *b)
{
    char mac[MAC_HEX];
    size_t start;
    int err;

    sk_buf_append_cstr(b, ";");
    sk_buf_append_cstr(b, name);
    sk_buf_append_cstr(b, "=");
    start = b->len;
    append_flow(b, flow);
    if (!sk_buf_ok(b))
        return SK_ENOMEM;
    err = flow_mac(a, label, sk_slice_make(b->p + start, b->len - start), mac);
    if (err != 0)
        return err;
    sk_buf_append(b, "-", 1);
    sk_buf_append(b, mac, MAC_HEX);
    return sk_buf_ok(b) ? 0 : SK_ENOMEM;
}

int sk__nat_flow_append(struct sk_auth *a, const char *name, const struct sk_addr *flow,
                        struct sk_buf *b)
{
    return flow_append(a, LABEL_RR, name, flow, b);
}

int sk__nat_node_append(struct sk_auth *a, const struct sk_addr *flow, struct sk_buf *b)
{
    return flow_append(a, LABEL_NODE, SK__NAT_NODE, flow, b);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Up to max hex digits at *p, stopping at '-' or the end. */
static int scan_hex(struct sk_slice *s, unsigned char *bytes, size_t nbytes)
{
    if (s->len < 2 * nbytes)
        return SK_EPARSE;
    for (size_t i = 0; i < nbytes; i++) {
        int hi = hexval(s->p[2 * i]), lo = hexval(s->p[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return SK_EPARSE;
        bytes[i] = (unsigned char)(hi << 4 | lo);
    }
    s->p += 2 * nbytes;
    s->len -= 2 * nbytes;
    return 0;
}

static int scan_dash(struct sk_slice *s)
{
    if (s->len == 0 || s->p[0] != '-')
        return SK_EPARSE;
    s->p++;
    s->len--;
    return 0;
}

static int scan_num(struct sk_slice *s, unsigned base, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    size_t i = 0;

    for (; i < s->len && i < 17 && s->p[i] != '-'; i++) {
        int d = hexval(s->p[i]);
        if (d < 0 || (unsigned)d >= base || v > (max - (uint64_t)d) / base)
            return SK_EPARSE;
        v = v * base + (uint64_t)d;
    }
    if (i == 0)
        return SK_EPARSE;
    s->p += i;
    s->len -= i;
    *out = v;
    return 0;
}

/* Parse and verify one token. Returns 0 or SK_EPARSE / SK_EAUTH. */
static int flow_parse(struct sk_auth *a, const char *label, struct sk_slice tok,
                      struct sk_addr *out)
{
    struct sk_slice s = tok, flow;
    unsigned char ip[16];
    char want[MAC_HEX];
    uint64_t port, conn;
    bool v6;
    unsigned diff = 0;

    const char *letter = s.len > 0 && s.p[0] != '\0' ? strchr(tp_letters, s.p[0]) : NULL;

    if (letter == NULL)
        return SK_EPARSE;
    memset(out, 0, sizeof(*out));
    out->tp = (enum sk_transport)(letter - tp_letters);
    s.p++;
    s.len--;
    v6 = s.len > 8 && s.p[8] != '-';
    if (scan_hex(&s, ip, v6 ? 16 : 4) != 0 || scan_dash(&s) != 0 ||
        scan_num(&s, 10, 65535, &port) != 0 || scan_dash(&s) != 0 ||
        scan_num(&s, 16, UINT64_MAX, &conn) != 0)
        return SK_EPARSE;
    flow = sk_slice_make(tok.p, (size_t)(s.p - tok.p));
    if (scan_dash(&s) != 0 || s.len != MAC_HEX || flow_mac(a, label, flow, want) != 0)
        return SK_EPARSE;
    for (size_t i = 0; i < MAC_HEX; i++) {
        int d = hexval(s.p[i]);
        diff |= (unsigned)((d < 0 ? 16 : d) ^ hexval(want[i]));
    }
    if (diff != 0)
        return SK_EAUTH;
    if (v6) {
        out->in6.sin6_family = AF_INET6;
        memcpy(&out->in6.sin6_addr, ip, 16);
        out->sslen = sizeof(out->in6);
    } else {
        out->in.sin_family = AF_INET;
        memcpy(&out->in.sin_addr, ip, 4);
        out->sslen = sizeof(out->in);
    }
    sk_addr_set_port(out, (uint16_t)port);
    out->conn_id = conn;
    return 0;
}

bool sk__nat_flow_needed(struct sk_slice contact_uri, const struct sk_addr *src)
{
    struct sk_uri u;
    struct sk_addr c;

    /* A NAT is what puts a Contact and the source apart (RFC 5626 §3.2);
     * a name we do not resolve here counts as apart. On TCP the source
     * port is the connection's, never the Contact's listening port, so
     * only the host is compared: a UA that is where it says is reached
     * at its Contact (RFC 3261 §18.1.1), one behind NAT over the
     * connection it opened. */
    /* RFC 7118 §5: a WebSocket client cannot be connected to (its
     * Contact names a .invalid host); only its own connection reaches it. */
    if (sk_transport_is_ws(src->tp))
        return true;
    if (sk_uri_parse(contact_uri, &u) != 0 ||
        (u.host_type != SK_HOST_IPV4 && u.host_type != SK_HOST_IPV6))
        return true;
    if (sk_addr_parse(u.host, u.has_port ? u.port : 5060, &c) != 0)
        return true;
    if (sk_transport_reliable(src->tp))
        return !sk_addr_same_host(&c, src);
    return !sk_addr_equal(&c, src);
}

/* Whether a request from src came over flow f (the same address and port;
 * a NAT keeps the mapping for the UA's one socket). */
static bool came_over(const struct sk_addr *src, const struct sk_addr *f)
{
    return src != NULL && src->tp == f->tp && sk_addr_equal(src, f);
}

int sk__nat_route(struct sk_auth *a, const struct sk_uri *ours, const struct sk_addr *src,
                  struct sk_addr *dst)
{
    struct sk_slice ta, tb;
    struct sk_addr fa, fb;
    bool has_a, has_b;
    const struct sk_addr *to = NULL;

    if (ours == NULL)
        return 0;
    has_a = sk_uri_param(ours, SK__NAT_CALLER, &ta);
    has_b = sk_uri_param(ours, SK__NAT_CALLEE, &tb);
    if (!has_a && !has_b)
        return 0;
    if ((has_a && flow_parse(a, LABEL_RR, ta, &fa) != 0) ||
        (has_b && flow_parse(a, LABEL_RR, tb, &fb) != 0))
        return SK_EAUTH;
    /* RFC 5626 §5.3: a request that came over one flow goes on towards the
     * other party; from elsewhere, to the one flow named. */
    if (has_a && came_over(src, &fa))
        to = has_b ? &fb : NULL;
    else if (has_b && came_over(src, &fb))
        to = has_a ? &fa : NULL;
    else if (has_a != has_b)
        to = has_a ? &fa : &fb;
    else
        to = NULL; /* both named, from neither: the Request-URI decides */
    if (to == NULL)
        return 0;
    *dst = *to;
    return 1;
}

int sk__nat_node_route(struct sk_auth *a, const struct sk_uri *ours, struct sk_addr *dst)
{
    struct sk_slice tok;

    if (ours == NULL || !sk_uri_param(ours, SK__NAT_NODE, &tok))
        return 0;
    return flow_parse(a, LABEL_NODE, tok, dst) == 0 ? 1 : SK_EAUTH;
}
