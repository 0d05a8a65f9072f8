/*
 * SIP message parser: RFC 3261 §7 (message structure) and §25 (grammar).
 *
 * One pass over the buffer splits the start line and the header fields
 * (with line folding, §7.3.1) into slices; then Via, From, To, Call-ID,
 * CSeq, Max-Forwards and Content-Length are read at once, because every
 * transaction needs them, and the body is framed by Content-Length (§18.3,
 * §20.14). Other headers are parsed lazily through the typed accessors.
 *
 * Memory: nothing is copied. The only allocation is the header array of
 * the struct sk_msg, which grows on demand and is kept between parses.
 */
#include <sipkit/msg.h>

#include <string.h>

#include "msg/msg_int.h"

static const struct sk_msg_limits default_limits = {
    SK_MSG_DEFAULT_MAX_SIZE,
    SK_MSG_DEFAULT_MAX_HEADERS,
    SK_MSG_DEFAULT_MAX_URI,
    SK_MSG_DEFAULT_MAX_LINE,
};

void sk__msg_limits(const struct sk_msg_limits *in, struct sk_msg_limits *out)
{
    *out = default_limits;
    if (in == NULL)
        return;
    if (in->max_size != 0)
        out->max_size = in->max_size;
    if (in->max_headers != 0)
        out->max_headers = in->max_headers;
    if (in->max_uri != 0)
        out->max_uri = in->max_uri;
    if (in->max_line != 0)
        out->max_line = in->max_line;
    /* struct sk_msg indexes headers with uint16_t. */
    if (out->max_headers > 65000)
        out->max_headers = 65000;
}

void sk_msg_init(struct sk_msg *m)
{
    memset(m, 0, sizeof(*m));
    m->max_forwards = -1;
    m->content_length = -1;
}

void sk_msg_free(struct sk_msg *m)
{
    sk_free(m->hdrs);
    sk_msg_init(m);
}

static void msg_reset(struct sk_msg *m)
{
    struct sk_hdr *hdrs = m->hdrs;
    size_t cap = m->hdrs_cap;

    sk_msg_init(m);
    m->hdrs = hdrs;
    m->hdrs_cap = cap;
}

static int fail_hdr(struct sk_msg *m, enum sk_msg_cause cause, enum sk_hdr_id id,
                    struct sk_slice name)
{
    m->cause = cause;
    m->cause_hdr = id;
    m->cause_name = name;
    switch (cause) {
    case SK_CAUSE_VERSION:
        return SK_EVERSION;
    case SK_CAUSE_TOO_LARGE:
    case SK_CAUSE_URI_TOO_LONG:
        return SK_ETOOBIG;
    case SK_CAUSE_SCHEME:
        return SK_ESCHEME;
    default:
        return SK_EPARSE;
    }
}

static int fail(struct sk_msg *m, enum sk_msg_cause cause)
{
    return fail_hdr(m, cause, SK_HDR_OTHER, SK_SLICE_NULL);
}

/* Find the end of the line starting at p: *eol is where CRLF (or a bare
 * LF, tolerated) starts, the return value is just past it. NULL when there
 * is no line terminator before end. */
static const char *line_end(const char *p, const char *end, const char **eol)
{
    const char *lf = memchr(p, '\n', (size_t)(end - p));

    if (lf == NULL)
        return NULL;
    *eol = (lf > p && lf[-1] == '\r') ? lf - 1 : lf;
    return lf + 1;
}

/* SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT (§25.1; "SIP" is
 * case-insensitive). Returns 0, SK_EPARSE, or SK_EVERSION for a well-formed
 * version other than 2.0. */
static int check_version(struct sk_slice v)
{
    size_t i = 4, major_start, minor_start;

    if (v.len == 7 && memcmp(v.p, "SIP/2.0", 7) == 0)
        return 0; /* as nearly every message writes it */
    if (v.len < 7 || !sk_slice_caseeq(sk_slice_make(v.p, 4), SK_SLICE_LIT("SIP/")))
        return SK_EPARSE;
    major_start = i;
    while (i < v.len && sk__is_digit(v.p[i]))
        i++;
    if (i == major_start || i >= v.len || v.p[i] != '.')
        return SK_EPARSE;
    minor_start = ++i;
    while (i < v.len && sk__is_digit(v.p[i]))
        i++;
    if (i == minor_start || i != v.len)
        return SK_EPARSE;
    if (v.len != 7 || v.p[4] != '2' || v.p[6] != '0')
        return SK_EVERSION;
    return 0;
}

static int parse_request_line(struct sk_msg *m, struct sk_slice line,
                              const struct sk_msg_limits *lim, bool *bad_version)
{
    const char *p = line.p, *end = line.p + line.len, *sp1, *sp2;
    int r;

    sp1 = memchr(p, ' ', line.len);
    if (sp1 == NULL)
        return fail(m, SK_CAUSE_START_LINE);
    m->method = sk_slice_make(p, (size_t)(sp1 - p));
    if (!sk__is_token(m->method))
        return fail(m, SK_CAUSE_METHOD);
    m->method_id = sk_method_from_slice(m->method);
    /* RFC 3261 §7.1 and RFC 4475 §3.1.2.9-10: exactly one SP between the
     * elements; the Request-URI holds no whitespace. */
    sp2 = memchr(sp1 + 1, ' ', (size_t)(end - sp1 - 1));
    if (sp2 == NULL || sp2 == sp1 + 1)
        return fail(m, SK_CAUSE_START_LINE);
    m->ruri_raw = sk_slice_make(sp1 + 1, (size_t)(sp2 - sp1 - 1));
    m->version = sk_slice_make(sp2 + 1, (size_t)(end - sp2 - 1));
    if (memchr(m->version.p, ' ', m->version.len) != NULL || m->version.len == 0)
        return fail(m, SK_CAUSE_START_LINE);
    if (m->ruri_raw.len > lim->max_uri)
        return fail(m, SK_CAUSE_URI_TOO_LONG);
    r = check_version(m->version);
    if (r == SK_EPARSE)
        return fail(m, SK_CAUSE_START_LINE);
    *bad_version = (r == SK_EVERSION);
    if (sk_uri_parse(m->ruri_raw, &m->ruri) != 0)
        return fail(m, SK_CAUSE_REQUEST_URI);
    /* §19.1.1: headers are not allowed in a Request-URI. */
    if (m->ruri.headers.len > 0 && (m->ruri.scheme == SK_URI_SIP || m->ruri.scheme == SK_URI_SIPS))
        return fail(m, SK_CAUSE_REQUEST_URI);
    m->is_request = true;
    return 0;
}

static int parse_status_line(struct sk_msg *m, struct sk_slice line, bool *bad_version)
{
    const char *p = line.p, *end = line.p + line.len, *sp1;
    uint64_t code;
    int r;

    sp1 = memchr(p, ' ', line.len);
    if (sp1 == NULL)
        return fail(m, SK_CAUSE_START_LINE);
    m->version = sk_slice_make(p, (size_t)(sp1 - p));
    r = check_version(m->version);
    if (r == SK_EPARSE)
        return fail(m, SK_CAUSE_START_LINE);
    *bad_version = (r == SK_EVERSION);
    /* Status-Code = 3DIGIT, 100-699 (§7.2, §21; RFC 4475 §3.1.2.19). */
    if (end - sp1 - 1 < 3 || (end - sp1 - 1 > 3 && sp1[4] != ' '))
        return fail(m, SK_CAUSE_STATUS_CODE);
    if (sk_slice_to_u64(sk_slice_make(sp1 + 1, 3), 999, &code) != 0 || code < 100 || code > 699)
        return fail(m, SK_CAUSE_STATUS_CODE);
    m->status = (unsigned)code;
    /* The reason phrase may be empty (RFC 4475 §3.1.1.13); a status line
     * without the SP before it is tolerated. */
    if (end - sp1 - 1 > 3)
        m->reason = sk_slice_make(sp1 + 5, (size_t)(end - sp1 - 5));
    m->is_request = false;
    return 0;
}

static int parse_start_line(struct sk_msg *m, struct sk_slice line, const struct sk_msg_limits *lim,
                            bool may_nul, bool *bad_version)
{
    if (line.len == 0)
        return fail(m, SK_CAUSE_START_LINE);
    if (may_nul && memchr(line.p, '\0', line.len) != NULL)
        return fail(m, SK_CAUSE_NUL_BYTE);
    if (line.len >= 4 && (line.p[0] | 0x20) == 's' &&
        sk_slice_caseeq(sk_slice_make(line.p, 4), SK_SLICE_LIT("SIP/")))
        return parse_status_line(m, line, bad_version);
    return parse_request_line(m, line, lim, bad_version);
}

static int grow_headers(struct sk_msg *m)
{
    size_t cap = m->hdrs_cap ? m->hdrs_cap * 2 : 32;
    struct sk_hdr *h = sk_realloc(m->hdrs, cap * sizeof(*h));

    if (h == NULL)
        return SK_ENOMEM;
    m->hdrs = h;
    m->hdrs_cap = cap;
    return 0;
}

/* Headers that may appear once only (§7.3.1: only headers defined as
 * comma-separated lists may repeat; RFC 4475 §3.3.8 and §3.3.9). */
static bool single_valued(enum sk_hdr_id id)
{
    switch (id) {
    case SK_HDR_CALL_ID:
    case SK_HDR_CSEQ:
    case SK_HDR_FROM:
    case SK_HDR_TO:
    case SK_HDR_MAX_FORWARDS:
    case SK_HDR_CONTENT_LENGTH:
    case SK_HDR_CONTENT_TYPE:
    case SK_HDR_EXPIRES:
    case SK_HDR_MIN_EXPIRES:
    case SK_HDR_DATE:
    case SK_HDR_EVENT:
    case SK_HDR_SUBSCRIPTION_STATE:
    case SK_HDR_SIP_ETAG:
    case SK_HDR_SIP_IF_MATCH:
    case SK_HDR_RSEQ:
    case SK_HDR_RACK:
        return true;
    default:
        return false;
    }
}

/* A NUL byte is allowed in a header only as a quoted-pair, "\" NUL
 * (§25.1 quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F); RFC 4475
 * §3.1.1.2 has one in a display name). */
static bool has_bare_nul(const char *p, const char *end)
{
    const char *z;

    while ((z = memchr(p, '\0', (size_t)(end - p))) != NULL) {
        if (z == p || z[-1] != '\\')
            return true;
        p = z + 1;
    }
    return false;
}

/* Trim LWS (SP, HTAB and the CR LF of folded lines) from both ends. */
static inline struct sk_slice trim_lws(const char *p, const char *end)
{
    while (p < end && cc_is(*p, SK__CC_LWS))
        p++;
    while (end > p && cc_is(end[-1], SK__CC_LWS))
        end--;
    return sk_slice_make(p, (size_t)(end - p));
}

/* field-name HCOLON at p, with HCOLON = *( SP / HTAB ) ":" (§25.1).
 * Returns the colon, or NULL with *name set to what could be read. The
 * name is first taken as the text before the first colon: a known name
 * is matched exactly (letter case aside) and is a token, so it needs no
 * octet-by-octet scan; any other name is scanned as a token. */
static const char *header_name(const char *p, const char *eol, struct sk_slice *name,
                               enum sk_hdr_id *id)
{
    const char *colon = memchr(p, ':', (size_t)(eol - p)), *q;

    if (colon != NULL) {
        for (q = colon; q > p && (q[-1] == ' ' || q[-1] == '\t');)
            q--;
        *name = sk_slice_make(p, (size_t)(q - p));
        if ((*id = sk_hdr_lookup(*name)) != SK_HDR_OTHER)
            return colon;
    }
    for (q = p; q < eol && cc_is(*q, SK__CC_TOKEN);)
        q++;
    *name = sk_slice_make(p, (size_t)(q - p));
    *id = SK_HDR_OTHER;
    while (q < eol && (*q == ' ' || *q == '\t'))
        q++;
    if (name->len == 0 || q == eol || *q != ':')
        return NULL;
    return q;
}

/* Split one header field starting at p (which is not an empty line).
 * Folded continuation lines (§7.3.1) belong to the field. may_nul says whether the buffer holds a
 * NUL at all (checked once for the whole message). On success *next is the start of the following
 * line. */
static int split_header(struct sk_msg *m, const char *p, const char *end,
                        const struct sk_msg_limits *lim, bool may_nul, struct sk_hdr *h,
                        const char **next)
{
    const char *eol, *after, *q;

    after = line_end(p, end, &eol);
    if (after == NULL)
        return fail(m, SK_CAUSE_NO_END_OF_HEADERS);
    while (after < end && (*after == ' ' || *after == '\t')) {
        const char *e2, *a2 = line_end(after, end, &e2);
        if (a2 == NULL)
            return fail(m, SK_CAUSE_NO_END_OF_HEADERS);
        eol = e2;
        after = a2;
    }
    if ((size_t)(eol - p) > lim->max_line)
        return fail(m, SK_CAUSE_LINE_TOO_LONG);
    if (may_nul && has_bare_nul(p, eol))
        return fail(m, SK_CAUSE_NUL_BYTE);
    if ((q = header_name(p, eol, &h->name, &h->id)) == NULL)
        return fail_hdr(m, SK_CAUSE_HEADER_LINE, SK_HDR_OTHER, h->name);
    h->value = trim_lws(q + 1, eol);
    h->raw = sk_slice_make(p, (size_t)(after - p));
    *next = after;
    return 0;
}

static int parse_headers(struct sk_msg *m, const char *p, const char *end,
                         const struct sk_msg_limits *lim, enum sk_msg_mode mode, bool may_nul,
                         const char **body)
{
    for (;;) {
        struct sk_hdr h;
        const char *eol, *after;
        int r;

        if (p >= end) {
            /* §7: the empty line is part of every message. A datagram (or
             * file) cut after a header line is read on, so that the
             * caller can still answer it 400, and then refused. */
            if (mode != SK_MSG_DATAGRAM)
                return fail(m, SK_CAUSE_NO_END_OF_HEADERS);
            m->head_end = sk_slice_make(end, 0);
            *body = end;
            return 0;
        }
        if (*p == '\r' || *p == '\n') {
            after = line_end(p, end, &eol);
            if (after == NULL || eol != p)
                return fail(m, SK_CAUSE_HEADER_LINE);
            m->head_end = sk_slice_make(p, (size_t)(after - p));
            *body = after;
            return 0;
        }
        if (*p == ' ' || *p == '\t')
            return fail(m, SK_CAUSE_HEADER_LINE); /* continuation of nothing */
        r = split_header(m, p, end, lim, may_nul, &h, &p);
        if (r != 0)
            return r;
        if (m->nhdrs >= lim->max_headers)
            return fail(m, SK_CAUSE_TOO_MANY_HEADERS);
        /* A repeated single-value header is an error, but the rest is
         * still read so the request can be answered with 400. */
        if (h.id != SK_HDR_OTHER && m->first[h.id] != 0 && single_valued(h.id) &&
            m->cause == SK_CAUSE_NONE)
            fail_hdr(m, SK_CAUSE_DUPLICATE_HDR, h.id, h.name);
        if (m->nhdrs == m->hdrs_cap && grow_headers(m) != 0)
            return SK_ENOMEM;
        if (h.id != SK_HDR_OTHER && m->first[h.id] == 0)
            m->first[h.id] = (uint16_t)(m->nhdrs + 1);
        m->hdrs[m->nhdrs++] = h;
    }
}

static const struct sk_hdr *first_hdr(const struct sk_msg *m, enum sk_hdr_id id)
{
    return m->first[id] ? &m->hdrs[m->first[id] - 1] : NULL;
}

static int malformed(struct sk_msg *m, const struct sk_hdr *h)
{
    return fail_hdr(m, SK_CAUSE_MALFORMED_HDR, h->id, h->name);
}

/* CSeq = "CSeq" HCOLON 1*DIGIT LWS Method; §8.1.1.5: below 2^31. */
int sk_cseq_parse(struct sk_slice v, struct sk_cseq *out)
{
    size_t i = 0;

    while (i < v.len && sk__is_digit(v.p[i]))
        i++;
    if (i == 0 || i == v.len || (v.p[i] != ' ' && v.p[i] != '\t' && v.p[i] != '\r'))
        return SK_EPARSE;
    uint64_t num;
    if (sk_slice_to_u64(sk_slice_make(v.p, i), 0x7fffffffu, &num) != 0)
        return SK_EPARSE;
    struct sk_slice meth = sk_slice_trim(sk_slice_make(v.p + i, v.len - i));
    if (!sk__is_token(meth))
        return SK_EPARSE;
    out->num = (uint32_t)num;
    out->method = meth;
    out->method_id = sk_method_from_slice(meth);
    return 0;
}

/* callid = word [ "@" word ] (§25.1). */
static bool valid_call_id(struct sk_slice v)
{
    size_t i = 0;

    while (i < v.len && cc_is(v.p[i], SK__CC_WORD))
        i++;
    if (i == 0)
        return false;
    if (i == v.len)
        return true;
    if (v.p[i] != '@' || ++i == v.len)
        return false;
    while (i < v.len && cc_is(v.p[i], SK__CC_WORD))
        i++;
    return i == v.len;
}

static int parse_top_via(struct sk_msg *m, const struct sk_hdr *h)
{
    struct sk_slice cursor = h->value, first = h->value;

    /* With no comma the value is one via-parm (already trimmed), and
     * sk_via_parse() refuses the unbalanced quotes sk_list_next() would. */
    if (memchr(cursor.p, ',', cursor.len) != NULL && sk_list_next(&cursor, &first) != 1)
        return malformed(m, h);
    if (sk_via_parse(first, &m->via) != 0)
        return malformed(m, h);
    return 0;
}

static int parse_essentials(struct sk_msg *m)
{
    /* §8.1.1: To, From, CSeq, Call-ID, Max-Forwards and Via are
     * mandatory in requests. Via is not checked here: a message without
     * one is well-formed text (RFC examples elide it) but nobody can
     * answer it, so respondable stays false and the transaction layer
     * drops it. Max-Forwards is missing in RFC 2543 requests. */
    static const enum sk_hdr_id mandatory[] = {SK_HDR_FROM, SK_HDR_TO, SK_HDR_CALL_ID, SK_HDR_CSEQ};
    const struct sk_hdr *h;
    int r;

    for (size_t i = 0; i < sizeof(mandatory) / sizeof(mandatory[0]); i++) {
        if (m->first[mandatory[i]] == 0)
            return fail_hdr(m, SK_CAUSE_MISSING_HDR, mandatory[i], SK_SLICE_NULL);
    }
    h = first_hdr(m, SK_HDR_VIA);
    if (h != NULL && (r = parse_top_via(m, h)) != 0)
        return r;
    h = first_hdr(m, SK_HDR_FROM);
    if (sk_nameaddr_parse(h->value, &m->from) != 0)
        return malformed(m, h);
    h = first_hdr(m, SK_HDR_TO);
    if (sk_nameaddr_parse(h->value, &m->to) != 0)
        return malformed(m, h);
    h = first_hdr(m, SK_HDR_CALL_ID);
    m->call_id = h->value;
    if (!valid_call_id(m->call_id))
        return malformed(m, h);
    /* §8.2.6.2: a response copies the CSeq as received, so a malformed
     * one can still be answered (400 Malformed CSeq) rather than dropped
     * while the client retransmits into silence. */
    m->respondable = m->first[SK_HDR_VIA] != 0;
    h = first_hdr(m, SK_HDR_CSEQ);
    if (sk_cseq_parse(h->value, &m->cseq) != 0)
        return malformed(m, h);
    if ((h = first_hdr(m, SK_HDR_MAX_FORWARDS)) != NULL) {
        uint64_t mf;
        if (sk_slice_to_u64(h->value, 255, &mf) != 0)
            return malformed(m, h);
        m->max_forwards = (int)mf;
    }
    return 0;
}

static int frame_body(struct sk_msg *m, const char *body, const char *end, enum sk_msg_mode mode,
                      const struct sk_msg_limits *lim)
{
    const struct sk_hdr *h = first_hdr(m, SK_HDR_CONTENT_LENGTH);
    size_t avail = (size_t)(end - body);
    uint64_t cl;

    if (h == NULL) {
        if (mode == SK_MSG_STREAM)
            return fail_hdr(m, SK_CAUSE_MISSING_HDR, SK_HDR_CONTENT_LENGTH, SK_SLICE_NULL);
        m->body = sk_slice_make(body, avail);
        return 0;
    }
    /* RFC 4475 §3.1.2.3: a negative or non-numeric length is an error and
     * is never used as a count. */
    int r = sk_slice_to_u64(h->value, UINT32_MAX, &cl);
    if (r == SK_ETOOBIG || (r == 0 && cl > lim->max_size))
        return fail_hdr(m, SK_CAUSE_TOO_LARGE, h->id, h->name);
    if (r != 0)
        return fail_hdr(m, SK_CAUSE_CONTENT_LENGTH, h->id, h->name);
    m->content_length = (int64_t)cl;
    /* §18.3: over UDP a body shorter than Content-Length is an error; extra
     * octets past it are ignored. */
    if (cl > avail)
        return fail_hdr(m, SK_CAUSE_BODY_SHORT, h->id, h->name);
    m->body = sk_slice_make(body, (size_t)cl);
    m->trailing = sk_slice_make(body + cl, avail - (size_t)cl);
    return 0;
}

int sk_msg_parse(struct sk_msg *m, const char *buf, size_t len, enum sk_msg_mode mode,
                 const struct sk_msg_limits *limits)
{
    struct sk_msg_limits lim;
    const char *p = buf, *end = buf + len, *eol, *after, *body;
    bool bad_version = false, may_nul;
    int r;

    sk__msg_limits(limits, &lim);
    msg_reset(m);
    /* §7.5: CRLFs before the start line are ignored (keep-alives). */
    while (p < end && (*p == '\r' || *p == '\n'))
        p++;
    if (p == end)
        return fail(m, SK_CAUSE_EMPTY);
    after = line_end(p, end, &eol);
    if (after == NULL)
        return fail(m, SK_CAUSE_START_LINE);
    if ((size_t)(eol - p) > lim.max_line)
        return fail(m, SK_CAUSE_LINE_TOO_LONG);
    /* A NUL is legal only in a quoted-pair or the body: look for one once,
     * and check line by line only when there is one. */
    may_nul = memchr(p, '\0', (size_t)(end - p)) != NULL;
    m->start_line = sk_slice_make(p, (size_t)(eol - p));
    m->start_raw = sk_slice_make(p, (size_t)(after - p));
    if ((r = parse_start_line(m, m->start_line, &lim, may_nul, &bad_version)) != 0)
        return r;
    if ((r = parse_headers(m, after, end, &lim, mode, may_nul, &body)) != 0)
        return r;
    if (m->cause != SK_CAUSE_NONE) {
        /* A duplicate: see whether the first values suffice to answer. */
        enum sk_hdr_id dup_id = m->cause_hdr;
        struct sk_slice dup_name = m->cause_name;
        m->cause = SK_CAUSE_NONE;
        (void)parse_essentials(m);
        return fail_hdr(m, SK_CAUSE_DUPLICATE_HDR, dup_id, dup_name);
    }
    if (m->head_end.p == end && m->head_end.len == 0) {
        /* No empty line (datagram mode): a defect in the essentials is
         * named first; otherwise they say whether the 400 can be sent. */
        if ((r = parse_essentials(m)) != 0)
            return r;
        return fail(m, SK_CAUSE_NO_END_OF_HEADERS);
    }
    if ((r = parse_essentials(m)) != 0)
        return r;
    if ((r = frame_body(m, body, end, mode, &lim)) != 0)
        return r;
    m->raw = sk_slice_make(p, (size_t)(m->body.p + m->body.len - p));
    if (bad_version)
        return fail(m, SK_CAUSE_VERSION);
    if (m->raw.len > lim.max_size)
        return fail(m, SK_CAUSE_TOO_LARGE);
    /* RFC 4475 §3.1.2.17: the CSeq method must match the request's. */
    if (m->is_request && !sk_slice_eq(m->cseq.method, m->method))
        return fail_hdr(m, SK_CAUSE_CSEQ_METHOD, SK_HDR_CSEQ, SK_SLICE_NULL);
    return 0;
}

const struct sk_hdr *sk_msg_find(const struct sk_msg *m, enum sk_hdr_id id)
{
    if (id <= SK_HDR_OTHER || id >= SK_HDR__COUNT)
        return NULL;
    return first_hdr(m, id);
}

const struct sk_hdr *sk_msg_find_name(const struct sk_msg *m, struct sk_slice name)
{
    enum sk_hdr_id id = sk_hdr_lookup(name);

    if (id != SK_HDR_OTHER)
        return first_hdr(m, id);
    for (size_t i = 0; i < m->nhdrs; i++) {
        if (m->hdrs[i].id == SK_HDR_OTHER && sk_slice_caseeq(m->hdrs[i].name, name))
            return &m->hdrs[i];
    }
    return NULL;
}

size_t sk_msg_count(const struct sk_msg *m, enum sk_hdr_id id)
{
    size_t n = 0;

    if (id <= SK_HDR_OTHER || id >= SK_HDR__COUNT || m->first[id] == 0)
        return 0;
    for (size_t i = m->first[id] - 1u; i < m->nhdrs; i++)
        n += m->hdrs[i].id == id;
    return n;
}

void sk_msg_set_source(struct sk_msg *m, struct sk_slice ip, uint16_t port)
{
    m->src_ip = ip;
    m->src_port = port;
}
