/*
 * Small typed header views: Event (RFC 6665 §8.2.1, §8.4), Subscription-
 * State (RFC 6665 §8.2.3, §8.4) and Content-Type (RFC 3261 §20.15, §25.1
 * media-type).
 *
 * Memory: no allocation; views hold slices into the input.
 */
#include "msg/value.h"

#include <string.h>

/* token-nodot = 1*( alphanum / "-" / "!" / "%" / "*" / "_" / "+" / "`"
 * / "'" / "~" ), i.e. a token without '.'. */
static size_t nodot_span(struct sk_slice s, size_t i)
{
    size_t start = i;

    while (i < s.len && s.p[i] != '.' && cc_is(s.p[i], SK__CC_TOKEN))
        i++;
    return i - start;
}

int sk_event_parse(struct sk_slice s, struct sk_event *out)
{
    struct sk_event e;
    size_t i = 0;

    if (s.len == 0)
        return SK_EPARSE;
    memset(&e, 0, sizeof(e));
    lws_skip(s, &i);
    /* event-type = event-package *( "." event-template ) */
    size_t start = i;
    for (;;) {
        size_t n = nodot_span(s, i);
        if (n == 0)
            return SK_EPARSE;
        i += n;
        if (i == s.len || s.p[i] != '.')
            break;
        i++;
    }
    e.package = sk_slice_make(s.p + start, i - start);
    if (sk__params_tail(s, i, &e.params, NULL, NULL) != 0)
        return SK_EPARSE;
    struct sk_slice cur = e.params;
    struct sk_param p;
    while (sk_param_next(&cur, &p) == 1) {
        /* "id" EQUAL token */
        if (sk_slice_caseeq_cstr(p.name, "id")) {
            if (p.quoted || !is_token(p.value))
                return SK_EPARSE;
            e.id = p.value;
            break;
        }
    }
    *out = e;
    return 0;
}

int sk_substate_parse(struct sk_slice s, struct sk_substate *out)
{
    struct sk_substate st;
    size_t i = 0;
    bool seen_reason = false;

    if (s.len == 0)
        return SK_EPARSE;
    memset(&st, 0, sizeof(st));
    st.expires = -1;
    st.retry_after = -1;
    lws_skip(s, &i);
    /* substate-value = "active" / "pending" / "terminated" / token */
    if (token_scan(s, &i, &st.state) != 0 || sk__params_tail(s, i, &st.params, NULL, NULL) != 0)
        return SK_EPARSE;
    struct sk_slice cur = st.params;
    struct sk_param p;
    while (sk_param_next(&cur, &p) == 1) {
        if (sk_slice_caseeq_cstr(p.name, "reason") && !seen_reason) {
            /* event-reason-value = "deactivated" / ... / token */
            if (p.quoted || !is_token(p.value))
                return SK_EPARSE;
            st.reason = p.value;
            seen_reason = true;
        } else if (sk_slice_caseeq_cstr(p.name, "expires") && st.expires < 0) {
            if (p.quoted || sk__delta_seconds(p.value, &st.expires) != 0)
                return SK_EPARSE;
        } else if (sk_slice_caseeq_cstr(p.name, "retry-after") && st.retry_after < 0) {
            if (p.quoted || sk__delta_seconds(p.value, &st.retry_after) != 0)
                return SK_EPARSE;
        }
    }
    *out = st;
    return 0;
}

int sk_ctype_parse(struct sk_slice s, struct sk_ctype *out)
{
    struct sk_ctype ct;
    size_t i = 0;

    if (s.len == 0)
        return SK_EPARSE;
    memset(&ct, 0, sizeof(ct));
    lws_skip(s, &i);
    /* media-type = m-type SLASH m-subtype *( SEMI m-parameter ) */
    if (token_scan(s, &i, &ct.type) != 0)
        return SK_EPARSE;
    lws_skip(s, &i);
    if (i == s.len || s.p[i] != '/')
        return SK_EPARSE;
    i++;
    lws_skip(s, &i);
    if (token_scan(s, &i, &ct.subtype) != 0 || sk__params_tail(s, i, &ct.params, NULL, NULL) != 0)
        return SK_EPARSE;
    /* m-parameter = m-attribute EQUAL m-value: the value is mandatory, and
     * is a token or a quoted-string. */
    struct sk_slice cur = ct.params;
    struct sk_param p;
    while (sk_param_next(&cur, &p) == 1) {
        if (p.value.p == NULL || (!p.quoted && !is_token(p.value)))
            return SK_EPARSE;
    }
    *out = ct;
    return 0;
}
