/*
 * name-addr / addr-spec header values with their parameters (From, To,
 * Contact, Route, Record-Route, Reply-To...: RFC 3261 §20.10, §20.20,
 * §20.39, ABNF in §25.1), and Contact values with star, q and expires
 * (§10.2, §20.10).
 *
 * Two tolerances: RFC 4475 §3.1.1.6 asks that a display name followed by
 * '<' with no LWS between them be accepted; an unterminated quoted display
 * name is refused (§3.1.2.6). Without '<' '>', every ';' parameter belongs
 * to the header, never to the URI (§20.10), and a URI holding '?' or ','
 * must be bracketed, so such values are refused (RFC 4475 §3.1.2.13).
 *
 * Memory: no allocation; views hold slices into the input.
 */
#include "msg/value.h"

#include <string.h>

/* display-name = *(token LWS) / quoted-string, then '<'. Leaves *pos at
 * the '<' and returns 1, or returns 0 with *pos unchanged when the value
 * is a bare addr-spec. */
static int display_scan(struct sk_slice s, size_t *pos, struct sk_nameaddr *na)
{
    size_t i = *pos;

    if (i < s.len && s.p[i] == '"') {
        if (sk__quoted_scan(s, &i, &na->display) != 0)
            return SK_EPARSE;
        na->display_quoted = true;
        lws_skip(s, &i);
        if (i == s.len || s.p[i] != '<')
            return SK_EPARSE;
        *pos = i;
        return 1;
    }
    size_t end = i;
    for (;;) {
        struct sk_slice tok;
        if (token_scan(s, &i, &tok) != 0)
            break;
        end = i;
        lws_skip(s, &i);
    }
    if (i == s.len || s.p[i] != '<')
        return 0;
    na->display = sk_slice_make(s.p + *pos, end - *pos);
    *pos = i;
    return 1;
}

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* What the header parameters of a name-addr feed: the tag, then any
 * parameters the caller (Contact) has a meaning for. */
struct na_state {
    struct sk_nameaddr *na;
    bool seen_tag;
    sk__param_cb more;
    void *more_arg;
};

static int na_param_cb(void *arg, const struct sk_param *p)
{
    struct na_state *st = arg;

    /* tag-param = "tag" EQUAL token (§25.1); the first one counts. */
    if (!st->seen_tag && NAME_IS(p->name, "tag")) {
        if (p->quoted || !is_token(p->value))
            return SK_EPARSE;
        st->na->tag = p->value;
        st->seen_tag = true;
        return 0;
    }
    return st->more != NULL ? st->more(st->more_arg, p) : 0;
}

/* sk_nameaddr_parse() into *na, which is written even when it fails (the
 * callers' scratch copy), with more (may be NULL) called for every header
 * parameter but the tag, in the same pass that validates them. */
static int nameaddr_parse(struct sk_slice s, struct sk_nameaddr *na, sk__param_cb more,
                          void *more_arg)
{
    size_t i = 0;
    int rc;

    if (s.len == 0)
        return SK_EPARSE;
    memset(na, 0, sizeof(*na));
    na->raw = s;
    lws_skip(s, &i);
    if ((rc = display_scan(s, &i, na)) < 0)
        return SK_EPARSE;
    if (rc == 1) {
        const char *gt = memchr(s.p + i + 1, '>', s.len - i - 1);
        if (gt == NULL)
            return SK_EPARSE;
        size_t end = (size_t)(gt - s.p);
        if (sk__uri_parse_into(sk_slice_make(s.p + i + 1, end - i - 1), &na->uri) != 0)
            return SK_EPARSE;
        na->bracketed = true;
        i = end + 1;
    } else {
        /* addr-spec: the URI ends at the first ';' or white space. */
        size_t end = i;
        while (end < s.len && s.p[end] != ';' && !is_ws(s.p[end]))
            end++;
        struct sk_slice u = sk_slice_make(s.p + i, end - i);
        if (memchr(u.p, '?', u.len) != NULL || memchr(u.p, ',', u.len) != NULL)
            return SK_EPARSE;
        if (sk__uri_parse_into(u, &na->uri) != 0)
            return SK_EPARSE;
        i = end;
    }
    struct na_state st = {na, false, more, more_arg};
    return sk__params_tail(s, i, &na->params, na_param_cb, &st) != 0 ? SK_EPARSE : 0;
}

int sk_nameaddr_parse(struct sk_slice s, struct sk_nameaddr *out)
{
    struct sk_nameaddr na;

    if (nameaddr_parse(s, &na, NULL, NULL) != 0)
        return SK_EPARSE;
    *out = na;
    return 0;
}

/* qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ), in
 * thousandths. */
static int qvalue_parse(struct sk_slice v, int *q)
{
    int val;

    if (v.len == 0 || (v.p[0] != '0' && v.p[0] != '1'))
        return SK_EPARSE;
    val = (v.p[0] - '0') * 1000;
    if (v.len > 1) {
        if (v.p[1] != '.' || v.len > 5)
            return SK_EPARSE;
        int scale = 100;
        for (size_t k = 2; k < v.len; k++, scale /= 10) {
            if (!cc_is(v.p[k], SK__CC_DIGIT) || (val == 1000 && v.p[k] != '0'))
                return SK_EPARSE;
            val += (v.p[k] - '0') * scale;
        }
    }
    *q = val;
    return 0;
}

struct contact_state {
    struct sk_contact *c;
    bool seen_q, seen_expires;
};

/* contact-params: q and expires have a meaning; the first of each counts. */
static int contact_param_cb(void *arg, const struct sk_param *p)
{
    struct contact_state *st = arg;

    if (!st->seen_q && NAME_IS(p->name, "q")) {
        if (p->quoted || qvalue_parse(p->value, &st->c->q) != 0)
            return SK_EPARSE;
        st->seen_q = true;
    } else if (!st->seen_expires && NAME_IS(p->name, "expires")) {
        /* c-p-expires = "expires" EQUAL delta-seconds, at most 2^32-1 */
        if (p->quoted || sk__delta_seconds(p->value, &st->c->expires) != 0)
            return SK_EPARSE;
        st->seen_expires = true;
    }
    return 0;
}

int sk_contact_parse(struct sk_slice s, struct sk_contact *out)
{
    struct sk_contact c;
    struct contact_state st = {&c, false, false};

    memset(&c, 0, sizeof(c));
    c.expires = -1;
    c.q = -1;
    if (sk_slice_eq(sk_slice_trim(s), SK_SLICE_LIT("*"))) {
        c.star = true;
        *out = c;
        return 0;
    }
    if (nameaddr_parse(s, &c.addr, contact_param_cb, &st) != 0)
        return SK_EPARSE;
    *out = c;
    return 0;
}
