/*
 * Header parameter lists: *( SEMI generic-param ) of RFC 3261 §25.1, where
 * generic-param = token [ EQUAL gen-value ] and gen-value = token / host /
 * quoted-string, with LWS allowed around ';' and '=' (SEMI, EQUAL). Also
 * the quoted-string scanner shared by the header views.
 *
 * Memory: no allocation; names and values are slices into the list.
 */
#include "msg/value.h"

int sk__quoted_scan(struct sk_slice s, size_t *pos, struct sk_slice *inner)
{
    size_t i = *pos;

    if (i >= s.len || s.p[i] != '"')
        return SK_EPARSE;
    size_t start = ++i;
    for (;;) {
        /* Runs of plain qdtext need no closer look: jump over them. */
        i += qdplain_span(s.p + i, s.len - i);
        if (i == s.len)
            return SK_EPARSE; /* unterminated */
        unsigned char c = (unsigned char)s.p[i];
        if (c == '"') {
            *inner = sk_slice_make(s.p + start, i - start);
            *pos = i + 1;
            return 0;
        }
        if (c == '\\') {
            /* quoted-pair = "\" ( %x00-09 / %x0B-0C / %x0E-7F ) */
            if (i + 1 >= s.len)
                return SK_EPARSE;
            c = (unsigned char)s.p[i + 1];
            if (c == '\r' || c == '\n' || c > 0x7f)
                return SK_EPARSE;
            i += 2;
            continue;
        }
        /* qdtext allows LWS, so a line break only where a line folds;
         * every other control and DEL is refused. */
        size_t j = i;
        if (c == '\r' || c == '\n')
            lws_skip(s, &j);
        if (j == i)
            return SK_EPARSE;
        i = j;
    }
}

/* An unquoted gen-value is a token or host (SK__CC_GENVAL). Colons and
 * brackets are let in so IPv6 addresses (with or without [ ], RFC 5118
 * §4.5) get through; the views check the parameters whose grammar they
 * know. */

int sk_param_next(struct sk_slice *cursor, struct sk_param *p)
{
    struct sk_slice s = *cursor;
    struct sk_param out = {SK_SLICE_NULL, SK_SLICE_NULL, false};
    size_t i = 0;

    if (s.len == 0)
        return 0; /* also for SK_SLICE_NULL: no arithmetic on NULL */
    lws_skip(s, &i);
    if (i == s.len) {
        *cursor = sk_slice_make(s.p + s.len, 0);
        return 0;
    }
    if (s.p[i] == ';') {
        i++;
        lws_skip(s, &i);
    }
    if (token_scan(s, &i, &out.name) != 0)
        return SK_EPARSE;
    size_t after_name = i;
    lws_skip(s, &i);
    if (i < s.len && s.p[i] == '=') {
        i++;
        lws_skip(s, &i);
        if (i < s.len && s.p[i] == '"') {
            if (sk__quoted_scan(s, &i, &out.value) != 0)
                return SK_EPARSE;
            out.quoted = true;
        } else {
            size_t start = i;
            while (i < s.len && cc_is(s.p[i], SK__CC_GENVAL))
                i++;
            if (i == start)
                return SK_EPARSE;
            out.value = sk_slice_make(s.p + start, i - start);
        }
    } else {
        i = after_name;
    }
    /* The next parameter must start with ';', or the list ends. */
    size_t j = i;
    lws_skip(s, &j);
    if (j < s.len && s.p[j] != ';')
        return SK_EPARSE;
    *p = out;
    *cursor = sk_slice_make(s.p + j, s.len - j);
    return 1;
}

bool sk_param_find(struct sk_slice list, const char *name, struct sk_slice *value)
{
    struct sk_slice cur = list;
    struct sk_param p;
    struct sk_slice want = sk_slice_cstr(name);

    while (sk_param_next(&cur, &p) == 1) {
        if (sk_slice_caseeq(p.name, want)) {
            if (value != NULL)
                *value = p.value;
            return true;
        }
    }
    return false;
}

int sk__params_tail(struct sk_slice s, size_t pos, struct sk_slice *params, sk__param_cb cb,
                    void *arg)
{
    struct sk_param p;
    int rc;

    lws_skip(s, &pos);
    if (pos == s.len) {
        *params = sk_slice_make(s.p + s.len, 0);
        return 0;
    }
    if (s.p[pos] != ';')
        return SK_EPARSE;
    struct sk_slice list = sk_slice_make(s.p + pos + 1, s.len - pos - 1);
    struct sk_slice cur = list;
    size_t first = 0;
    /* The list after the ';' starts with a parameter, not another ';'. */
    lws_skip(list, &first);
    if (first < list.len && list.p[first] == ';')
        return SK_EPARSE;
    if ((rc = sk_param_next(&cur, &p)) != 1)
        return SK_EPARSE;
    do {
        if (cb != NULL && cb(arg, &p) != 0)
            return SK_EPARSE;
    } while ((rc = sk_param_next(&cur, &p)) == 1);
    if (rc != 0)
        return SK_EPARSE;
    *params = list;
    return 0;
}
