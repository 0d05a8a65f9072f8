/*
 * Stream framing for TCP (RFC 3261 §18.3): find where the next message
 * ends without parsing it. A malformed or repeated Content-Length makes
 * the stream unusable, since nothing else tells where the next message
 * starts (RFC 4475 §3.1.2.3, §3.3.9). A missing one is framed as an empty
 * body so the stream can go on; sk_msg_parse() in SK_MSG_STREAM mode then
 * refuses that message ("Missing Content-Length"), as §18.3 makes the
 * header mandatory on streams.
 *
 * Memory: reads the caller's buffer only.
 */
#include <sipkit/msg.h>

#include <string.h>

#include "msg/msg_int.h"

/* Find the end of the header section: an empty line (CRLF CRLF, or LF LF
 * tolerated). Returns the offset of the first body byte, or 0. */
static size_t head_length(const char *buf, size_t len)
{
    const char *p = buf, *end = buf + len;

    while (p < end) {
        const char *lf = memchr(p, '\n', (size_t)(end - p));
        if (lf == NULL)
            return 0;
        p = lf + 1;
        if (p < end && *p == '\n')
            return (size_t)(p + 1 - buf);
        if (p + 1 < end && p[0] == '\r' && p[1] == '\n')
            return (size_t)(p + 2 - buf);
        if (p + 1 >= end)
            return 0;
    }
    return 0;
}

/* Is the header line at p a Content-Length ("Content-Length" or "l")? */
static const char *content_length_value(const char *p, const char *eol)
{
    const char *q = p;

    while (q < eol && cc_is(*q, SK__CC_TOKEN))
        q++;
    if (sk_hdr_lookup(sk_slice_make(p, (size_t)(q - p))) != SK_HDR_CONTENT_LENGTH)
        return NULL;
    while (q < eol && (*q == ' ' || *q == '\t'))
        q++;
    return (q < eol && *q == ':') ? q + 1 : NULL;
}

/* Scan the header section for at most one well-formed Content-Length;
 * none reads as 0. */
static int find_content_length(const char *buf, size_t head, uint64_t max, uint64_t *out)
{
    const char *p = buf, *end = buf + head;
    bool found = false;

    while (p < end) {
        const char *lf = memchr(p, '\n', (size_t)(end - p));
        const char *eol = (lf > p && lf[-1] == '\r') ? lf - 1 : lf;
        const char *v = content_length_value(p, eol);
        if (v != NULL) {
            if (found)
                return SK_EPARSE; /* two lengths: the stream cannot be framed */
            int r = sk_slice_to_u64(sk_slice_trim(sk_slice_make(v, (size_t)(eol - v))), max, out);
            if (r != 0)
                return r;
            found = true;
        }
        p = lf + 1;
    }
    if (!found)
        *out = 0;
    return 0;
}

int sk_msg_frame(const char *buf, size_t len, const struct sk_msg_limits *limits, size_t *skip,
                 size_t *msg_len)
{
    struct sk_msg_limits lim;
    size_t s = 0, head;
    uint64_t cl;
    int r;

    sk__msg_limits(limits, &lim);
    /* RFC 5626 §3.5.1 keep-alives and §7.5: CRLFs between messages. */
    while (s < len && (buf[s] == '\r' || buf[s] == '\n'))
        s++;
    *skip = s;
    buf += s;
    len -= s;
    if (len == 0)
        return SK_EAGAIN;
    head = head_length(buf, len);
    if (head == 0)
        return len > lim.max_size ? SK_ETOOBIG : SK_EAGAIN;
    if (head > lim.max_size)
        return SK_ETOOBIG;
    r = find_content_length(buf, head, lim.max_size, &cl);
    if (r == SK_ETOOBIG)
        return SK_ETOOBIG;
    if (r != 0)
        return SK_EPARSE;
    if (head + cl > lim.max_size)
        return SK_ETOOBIG;
    if (len < head + cl)
        return SK_EAGAIN;
    *msg_len = head + (size_t)cl;
    return 0;
}
