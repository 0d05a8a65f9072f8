/*
 * One Via value (via-parm, RFC 3261 §20.42 and §25.1): sent-protocol with
 * LWS allowed around each '/', the sent-by host and port (LWS allowed
 * around ':'), and the via-params: branch, received, maddr, ttl, and
 * rport with or without a value (RFC 3581 §3). received may hold an IPv6
 * address with or without brackets (RFC 5118 §4.5 asks parsers to be
 * liberal there). Unknown parameters stay in .params.
 *
 * Memory: no allocation; struct sk_via holds slices into the input.
 * .protocol spans the protocol name to the version as written, so it may
 * contain LWS ("SIP / 2.0").
 */
#include "msg/value.h"

#include <string.h>

/* SLASH = SWS "/" SWS */
static int slash_scan(struct sk_slice s, size_t *pos)
{
    size_t i = *pos;

    lws_skip(s, &i);
    if (i == s.len || s.p[i] != '/')
        return SK_EPARSE;
    i++;
    lws_skip(s, &i);
    *pos = i;
    return 0;
}

static int u16_value(struct sk_slice v, uint64_t max, uint16_t *out)
{
    uint64_t n;

    if (sk_slice_to_u64(v, max, &n) != 0)
        return SK_EPARSE;
    *out = (uint16_t)n;
    return 0;
}

/* received = IPv4address / IPv6address, brackets tolerated. */
static bool received_ok(struct sk_slice v)
{
    uint8_t b[16];

    if (v.len >= 2 && v.p[0] == '[' && v.p[v.len - 1] == ']')
        return sk__ipv6_parse(sk_slice_make(v.p + 1, v.len - 2), b);
    return sk__ipv4_parse(v, b) || sk__ipv6_parse(v, b);
}

/* The via-params with a meaning, as bits of via_state.seen. */
enum via_known { VIA_RPORT, VIA_BRANCH, VIA_RECEIVED, VIA_MADDR, VIA_TTL, VIA_OTHER };

static enum via_known via_known(struct sk_slice name)
{
    if (NAME_IS(name, "branch"))
        return VIA_BRANCH;
    if (NAME_IS(name, "rport"))
        return VIA_RPORT;
    if (NAME_IS(name, "received"))
        return VIA_RECEIVED;
    if (NAME_IS(name, "maddr"))
        return VIA_MADDR;
    if (NAME_IS(name, "ttl"))
        return VIA_TTL;
    return VIA_OTHER;
}

static int via_param(struct sk_via *v, enum via_known k, const struct sk_param *p)
{
    uint16_t n;

    if (k == VIA_RPORT) {
        /* response-port = "rport" [ EQUAL 1*DIGIT ] (RFC 3581) */
        if (p->value.p != NULL && (p->quoted || u16_value(p->value, 65535, &v->rport) != 0))
            return SK_EPARSE;
        v->has_rport = true;
        return 0;
    }
    /* The others all need a value and a token or host. */
    if (p->value.p == NULL || p->quoted)
        return SK_EPARSE;
    switch (k) {
    case VIA_BRANCH:
        if (!is_token(p->value))
            return SK_EPARSE;
        v->branch = p->value;
        break;
    case VIA_RECEIVED:
        if (!received_ok(p->value))
            return SK_EPARSE;
        v->received = p->value;
        break;
    case VIA_MADDR:
        if (!sk__host_check(p->value, NULL))
            return SK_EPARSE;
        v->maddr = p->value;
        break;
    default:
        /* ttl = 1*3DIGIT ; 0 to 255 */
        if (p->value.len > 3 || u16_value(p->value, 255, &n) != 0)
            return SK_EPARSE;
        v->ttl = n;
        break;
    }
    return 0;
}

struct via_state {
    struct sk_via *v;
    unsigned seen; /* bits 1 << enum via_known */
};

/* The first occurrence of each known parameter wins; unknown ones stay
 * in .params unchecked. */
static int via_param_cb(void *arg, const struct sk_param *p)
{
    struct via_state *st = arg;
    enum via_known k = via_known(p->name);

    if (k == VIA_OTHER || (st->seen & (1u << k)) != 0)
        return 0;
    st->seen |= 1u << k;
    return via_param(st->v, k, p);
}

int sk_via_parse(struct sk_slice s, struct sk_via *out)
{
    struct sk_via v;
    struct sk_slice name, version;
    size_t i = 0;

    if (s.len == 0)
        return SK_EPARSE;
    memset(&v, 0, sizeof(v));
    v.raw = s;
    v.ttl = -1;
    lws_skip(s, &i);
    /* sent-protocol = protocol-name SLASH protocol-version SLASH transport */
    if (token_scan(s, &i, &name) != 0 || slash_scan(s, &i) != 0 ||
        token_scan(s, &i, &version) != 0 || slash_scan(s, &i) != 0 ||
        token_scan(s, &i, &v.transport) != 0)
        return SK_EPARSE;
    v.protocol = sk_slice_make(name.p, (size_t)(version.p + version.len - name.p));
    /* sent-protocol LWS sent-by: the LWS is mandatory. */
    size_t before = i;
    lws_skip(s, &i);
    if (i == before || sk__host_scan(s, &i, &v.host, &v.host_type) != 0)
        return SK_EPARSE;
    size_t j = i;
    lws_skip(s, &j);
    if (j < s.len && s.p[j] == ':') {
        j++;
        lws_skip(s, &j);
        size_t start = j;
        while (j < s.len && cc_is(s.p[j], SK__CC_DIGIT))
            j++;
        if (u16_value(sk_slice_make(s.p + start, j - start), 65535, &v.port) != 0)
            return SK_EPARSE;
        v.has_port = true;
        i = j;
    }
    struct via_state st = {&v, 0};
    if (sk__params_tail(s, i, &v.params, via_param_cb, &st) != 0)
        return SK_EPARSE;
    *out = v;
    return 0;
}
