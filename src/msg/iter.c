/*
 * Header iteration and typed access: comma-separated values across
 * repeated header fields (RFC 3261 §7.3.1), option-tag lists, numeric
 * headers, and sk_msg_check(), which validates every header sipkit has a
 * typed view for.
 *
 * Memory: values are slices into the parsed message's buffer.
 */
#include <sipkit/msg.h>

#include <string.h>

#include "msg/msg_int.h"

static bool is_lws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The closing DQUOTE of a quoted-string whose text starts at p, or NULL.
 * A backslash escapes the next octet (quoted-pair); the value parsers
 * check the rest of the quoted-string grammar. */
static const char *quote_end(const char *p, const char *end)
{
    for (; p < end; p++) {
        if (*p == '\\') {
            if (p + 1 == end)
                return NULL;
            p++;
        } else if (*p == '"') {
            return p;
        }
    }
    return NULL;
}

int sk_list_next(struct sk_slice *cursor, struct sk_slice *value)
{
    const char *p = cursor->p, *end = cursor->p + cursor->len, *start, *stop;
    int angle = 0;

    while (p < end && is_lws(*p))
        p++;
    if (p == end) {
        cursor->p = end;
        cursor->len = 0;
        return 0;
    }
    start = p;
    for (; p < end; p++) {
        /* Most octets are none of DQUOTE \ < > , : jump over them. */
        while (p < end && !cc_is(*p, SK__CC_LISTSTOP))
            p++;
        if (p == end)
            break;
        if (*p == '"') {
            if ((p = quote_end(p + 1, end)) == NULL)
                return SK_EPARSE;
        } else if (*p == '<') {
            angle++;
        } else if (*p == '>' && angle > 0) {
            angle--;
        } else if (*p == ',' && angle == 0) {
            break;
        }
    }
    for (stop = p; stop > start && is_lws(stop[-1]);)
        stop--;
    *value = sk_slice_make(start, (size_t)(stop - start));
    if (value->len == 0)
        return SK_EPARSE; /* ",," : an empty list element */
    if (p < end) {
        p++; /* past the comma: something must follow it */
        const char *q = p;
        while (q < end && is_lws(*q))
            q++;
        if (q == end)
            return SK_EPARSE;
    }
    cursor->p = p;
    cursor->len = (size_t)(end - p);
    return 1;
}

void sk_hdr_iter_init(struct sk_hdr_iter *it, const struct sk_msg *m, enum sk_hdr_id id)
{
    it->m = m;
    it->id = id;
    it->idx =
        (id > SK_HDR_OTHER && id < SK_HDR__COUNT && m->first[id]) ? m->first[id] - 1u : m->nhdrs;
    it->rest = SK_SLICE_NULL;
    it->hdr = NULL;
}

int sk_hdr_iter_next(struct sk_hdr_iter *it, struct sk_slice *value)
{
    for (;;) {
        if (it->rest.len > 0) {
            int r = sk_list_next(&it->rest, value);
            if (r != 0)
                return r;
        }
        while (it->idx < it->m->nhdrs && it->m->hdrs[it->idx].id != it->id)
            it->idx++;
        if (it->idx >= it->m->nhdrs)
            return 0;
        it->hdr = &it->m->hdrs[it->idx++];
        it->rest = it->hdr->value;
    }
}

/* sk_hdr_iter_next() for the typed iterators below, whose parsers refuse
 * every DQUOTE they cannot pair: when no comma is left in the current
 * header, the rest of it is the value, with no need to split it first
 * (angle brackets only matter to where commas split). A value sk_list_next() would refuse
 * (unbalanced quotes) is then refused by the parser, and the caller puts
 * the iterator where sk_hdr_iter_next() would have left it. */
static int quick_next(struct sk_hdr_iter *it, struct sk_slice *value)
{
    for (;;) {
        if (it->rest.len > 0 && memchr(it->rest.p, ',', it->rest.len) == NULL) {
            struct sk_slice v = sk_slice_trim(it->rest);
            it->rest = sk_slice_make(it->rest.p + it->rest.len, 0);
            if (v.len > 0) {
                *value = v;
                return 1;
            }
        } else if (it->rest.len > 0) {
            int r = sk_list_next(&it->rest, value);
            if (r != 0)
                return r;
        }
        while (it->idx < it->m->nhdrs && it->m->hdrs[it->idx].id != it->id)
            it->idx++;
        if (it->idx >= it->m->nhdrs)
            return 0;
        it->hdr = &it->m->hdrs[it->idx++];
        it->rest = it->hdr->value;
    }
}

/* After a value failed to parse: move from saved exactly as
 * sk_hdr_iter_next() would have, and report the failure. */
static int quick_fail(struct sk_hdr_iter *it, const struct sk_hdr_iter *saved)
{
    struct sk_slice v;

    *it = *saved;
    (void)sk_hdr_iter_next(it, &v);
    return SK_EPARSE;
}

int sk_msg_via_next(struct sk_hdr_iter *it, struct sk_via *out)
{
    struct sk_hdr_iter saved = *it;
    struct sk_slice v;
    int r = quick_next(it, &v);

    if (r <= 0)
        return r;
    return sk_via_parse(v, out) == 0 ? 1 : quick_fail(it, &saved);
}

int sk_msg_contact_next(struct sk_hdr_iter *it, struct sk_contact *out)
{
    struct sk_hdr_iter saved = *it;
    struct sk_slice v;
    int r = quick_next(it, &v);

    if (r <= 0)
        return r;
    if (sk_contact_parse(v, out) != 0)
        return quick_fail(it, &saved);
    /* §20: a URI with a comma, '?' or ';' must be inside < > (RFC 4475
     * §3.1.2.13): an addr-spec contact carrying URI headers is refused. */
    if (!out->star && !out->addr.bracketed && out->addr.uri.headers.len > 0)
        return SK_EPARSE;
    return 1;
}

int sk_msg_nameaddr_next(struct sk_hdr_iter *it, struct sk_nameaddr *out)
{
    struct sk_hdr_iter saved = *it;
    struct sk_slice v;
    int r = quick_next(it, &v);

    if (r <= 0)
        return r;
    return sk_nameaddr_parse(v, out) == 0 ? 1 : quick_fail(it, &saved);
}

int sk_msg_token_next(struct sk_hdr_iter *it, struct sk_slice *token)
{
    int r = sk_hdr_iter_next(it, token);

    if (r <= 0)
        return r;
    return sk__is_token(*token) ? 1 : SK_EPARSE;
}

bool sk_msg_has_token(const struct sk_msg *m, enum sk_hdr_id id, const char *tok)
{
    struct sk_hdr_iter it;
    struct sk_slice t;

    sk_hdr_iter_init(&it, m, id);
    while (sk_msg_token_next(&it, &t) == 1) {
        if (sk_slice_caseeq_cstr(t, tok))
            return true;
    }
    return false;
}

int sk_msg_get_uint(const struct sk_msg *m, enum sk_hdr_id id, uint64_t max, uint64_t *out)
{
    const struct sk_hdr *h = sk_msg_find(m, id);

    if (h == NULL)
        return 0;
    return sk_slice_to_u64(h->value, max, out) == 0 ? 1 : SK_EPARSE;
}

int sk_msg_event(const struct sk_msg *m, struct sk_event *out)
{
    const struct sk_hdr *h = sk_msg_find(m, SK_HDR_EVENT);

    if (h == NULL)
        return 0;
    return sk_event_parse(h->value, out) == 0 ? 1 : SK_EPARSE;
}

int sk_msg_substate(const struct sk_msg *m, struct sk_substate *out)
{
    const struct sk_hdr *h = sk_msg_find(m, SK_HDR_SUBSCRIPTION_STATE);

    if (h == NULL)
        return 0;
    return sk_substate_parse(h->value, out) == 0 ? 1 : SK_EPARSE;
}

int sk_msg_ctype(const struct sk_msg *m, struct sk_ctype *out)
{
    const struct sk_hdr *h = sk_msg_find(m, SK_HDR_CONTENT_TYPE);

    if (h == NULL)
        return 0;
    return sk_ctype_parse(h->value, out) == 0 ? 1 : SK_EPARSE;
}

static bool match_word(struct sk_slice v, size_t at, const char *const *words, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (at + 3 <= v.len && memcmp(v.p + at, words[i], 3) == 0)
            return true;
    }
    return false;
}

static bool digits_at(struct sk_slice v, size_t at, size_t n)
{
    if (at + n > v.len)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!sk__is_digit(v.p[at + i]))
            return false;
    }
    return true;
}

bool sk__valid_sip_date(struct sk_slice v)
{
    static const char *const days[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    /* "Sun, 06 Nov 1994 08:49:37 GMT": fixed layout, 29 octets (§25.1
     * rfc1123-date; §20.17 allows GMT only). */
    if (v.len != 29)
        return false;
    return match_word(v, 0, days, 7) && v.p[3] == ',' && v.p[4] == ' ' && digits_at(v, 5, 2) &&
           v.p[7] == ' ' && match_word(v, 8, months, 12) && v.p[11] == ' ' && digits_at(v, 12, 4) &&
           v.p[16] == ' ' && digits_at(v, 17, 2) && v.p[19] == ':' && digits_at(v, 20, 2) &&
           v.p[22] == ':' && digits_at(v, 23, 2) && v.p[25] == ' ' &&
           memcmp(v.p + 26, "GMT", 3) == 0;
}

static int check_list(const struct sk_msg *m, enum sk_hdr_id id)
{
    struct sk_hdr_iter it;
    int r;

    sk_hdr_iter_init(&it, m, id);
    for (;;) {
        union {
            struct sk_via via;
            struct sk_contact contact;
            struct sk_nameaddr na;
            struct sk_slice tok;
        } u;
        switch (id) {
        case SK_HDR_VIA:
            r = sk_msg_via_next(&it, &u.via);
            break;
        case SK_HDR_CONTACT:
            r = sk_msg_contact_next(&it, &u.contact);
            break;
        case SK_HDR_ROUTE:
        case SK_HDR_RECORD_ROUTE:
        case SK_HDR_PATH:
            /* route-param = name-addr: the URI must be inside < >. */
            r = sk_msg_nameaddr_next(&it, &u.na);
            if (r == 1 && !u.na.bracketed)
                r = SK_EPARSE;
            break;
        default:
            r = sk_msg_token_next(&it, &u.tok);
            break;
        }
        if (r == 0)
            return 0;
        if (r < 0)
            return r;
    }
}

static int check_one(const struct sk_hdr *h)
{
    union {
        struct sk_ctype ct;
        struct sk_event ev;
        struct sk_substate ss;
        struct sk_digest_hdr dh;
    } u;
    uint64_t n;

    switch (h->id) {
    case SK_HDR_CONTENT_TYPE:
        return sk_ctype_parse(h->value, &u.ct);
    case SK_HDR_EVENT:
        return sk_event_parse(h->value, &u.ev);
    case SK_HDR_SUBSCRIPTION_STATE: {
        /* Only the state decides what a NOTIFY means; odd parameters are
         * left to the event package (RFC 6665 §8.2.3 allows extensions). */
        const char *semi = memchr(h->value.p, ';', h->value.len);
        size_t len = semi ? (size_t)(semi - h->value.p) : h->value.len;
        (void)u.ss;
        return sk__is_token(sk_slice_trim(sk_slice_make(h->value.p, len))) ? 0 : SK_EPARSE;
    }
    case SK_HDR_DATE:
        return sk__valid_sip_date(h->value) ? 0 : SK_EPARSE;
    case SK_HDR_MIN_EXPIRES:
        return sk_slice_to_u64(h->value, UINT32_MAX, &n);
    case SK_HDR_AUTHORIZATION:
    case SK_HDR_PROXY_AUTHORIZATION:
    case SK_HDR_WWW_AUTHENTICATE:
    case SK_HDR_PROXY_AUTHENTICATE:
        return sk_digest_hdr_parse(h->value, &u.dh);
    default:
        return 0;
    }
}

int sk_msg_check(struct sk_msg *m)
{
    static const enum sk_hdr_id lists[] = {
        SK_HDR_VIA,         SK_HDR_CONTACT, SK_HDR_ROUTE,         SK_HDR_RECORD_ROUTE,
        SK_HDR_PATH,        SK_HDR_REQUIRE, SK_HDR_PROXY_REQUIRE, SK_HDR_SUPPORTED,
        SK_HDR_UNSUPPORTED, SK_HDR_ALLOW,   SK_HDR_ALLOW_EVENTS,
    };

    if (m->cause != SK_CAUSE_NONE)
        return SK_EPARSE;
    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
        if (check_list(m, lists[i]) != 0) {
            const struct sk_hdr *h = sk_msg_find(m, lists[i]);
            m->cause = SK_CAUSE_MALFORMED_HDR;
            m->cause_hdr = lists[i];
            m->cause_name = h ? h->name : SK_SLICE_NULL;
            return SK_EPARSE;
        }
    }
    for (size_t i = 0; i < m->nhdrs; i++) {
        if (check_one(&m->hdrs[i]) != 0) {
            m->cause = SK_CAUSE_MALFORMED_HDR;
            m->cause_hdr = m->hdrs[i].id;
            m->cause_name = m->hdrs[i].name;
            return SK_EPARSE;
        }
    }
    return 0;
}
