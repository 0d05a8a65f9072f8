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

static int via_param(struct sk_via *v, const struct sk_param *p)
{
    uint16_t n;

    if (sk_slice_caseeq_cstr(p->name, "rport")) {
        /* response-port = "rport" [ EQUAL 1*DIGIT ] (RFC 3581) */
        if (p->value.p != NULL && (p->quoted || u16_value(p->value, 65535, &v->rport) != 0))
            return SK_EPARSE;
        v->has_rport = true;
        return 0;
    }
    if (p->value.p == NULL) {
        /* The others all need a value; unknown flags are fine. */
        return sk_slice_caseeq_cstr(p->name, "branch") ||
                       sk_slice_caseeq_cstr(p->name, "received") ||
                       sk_slice_caseeq_cstr(p->name, "maddr") ||
                       sk_slice_caseeq_cstr(p->name, "ttl")
                   ? SK_EPARSE
                   : 0;
    }
    if (sk_slice_caseeq_cstr(p->name, "branch")) {
        if (p->quoted || !is_token(p->value))
            return SK_EPARSE;
        v->branch = p->value;
    } else if (sk_slice_caseeq_cstr(p->name, "received")) {
        if (p->quoted || !received_ok(p->value))
            return SK_EPARSE;
        v->received = p->value;
    } else if (sk_slice_caseeq_cstr(p->name, "maddr")) {
        if (p->quoted || !sk__host_check(p->value, NULL))
            return SK_EPARSE;
        v->maddr = p->value;
    } else if (sk_slice_caseeq_cstr(p->name, "ttl")) {
        /* ttl = 1*3DIGIT ; 0 to 255 */
        if (p->quoted || p->value.len > 3 || u16_value(p->value, 255, &n) != 0)
            return SK_EPARSE;
        v->ttl = n;
    }
    return 0;
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
    if (sk__params_tail(s, i, &v.params) != 0)
        return SK_EPARSE;
    /* The first occurrence of each known parameter wins. */
    bool seen[5] = {false};
    static const char *const known[5] = {"rport", "branch", "received", "maddr", "ttl"};
    struct sk_slice cur = v.params;
    struct sk_param p;
    while (sk_param_next(&cur, &p) == 1) {
        for (size_t k = 0; k < 5; k++) {
            if (!seen[k] && sk_slice_caseeq_cstr(p.name, known[k])) {
                seen[k] = true;
                if (via_param(&v, &p) != 0)
                    return SK_EPARSE;
            }
        }
    }
    *out = v;
    return 0;
}
