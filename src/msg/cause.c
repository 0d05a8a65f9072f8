/*
 * Parse causes: for every way a message can be refused, the response
 * status and a reason phrase naming the defect (RFC 3261 §21.4.1 allows a
 * free-text reason; RFC 4475 asks for 400, 505, 416, 513 as fits).
 */
#include <sipkit/msg.h>

#include <stdio.h>
#include <string.h>

struct cause_def {
    unsigned status;
    const char *text; /* "%s" is replaced by the header name */
};

static const struct cause_def causes[SK_CAUSE__COUNT] = {
    [SK_CAUSE_NONE] = {200, "OK"},
    [SK_CAUSE_EMPTY] = {400, "Empty Message"},
    [SK_CAUSE_TOO_LARGE] = {513, "Message Too Large"},
    [SK_CAUSE_TOO_MANY_HEADERS] = {400, "Too Many Header Fields"},
    [SK_CAUSE_LINE_TOO_LONG] = {400, "Header Field Too Long"},
    [SK_CAUSE_NUL_BYTE] = {400, "NUL Byte in Message Head"},
    [SK_CAUSE_START_LINE] = {400, "Malformed Start Line"},
    [SK_CAUSE_METHOD] = {400, "Malformed Method"},
    [SK_CAUSE_REQUEST_URI] = {400, "Malformed Request-URI"},
    [SK_CAUSE_URI_TOO_LONG] = {414, "Request-URI Too Long"},
    [SK_CAUSE_SCHEME] = {416, "Unsupported URI Scheme"},
    [SK_CAUSE_VERSION] = {505, "Version Not Supported"},
    [SK_CAUSE_STATUS_CODE] = {400, "Malformed Status Code"},
    [SK_CAUSE_HEADER_LINE] = {400, "Malformed Header Line"},
    [SK_CAUSE_NO_END_OF_HEADERS] = {400, "Missing Empty Line After Headers"},
    [SK_CAUSE_MALFORMED_HDR] = {400, "Malformed %s"},
    [SK_CAUSE_MISSING_HDR] = {400, "Missing %s"},
    [SK_CAUSE_DUPLICATE_HDR] = {400, "Duplicate %s"},
    [SK_CAUSE_CONTENT_LENGTH] = {400, "Malformed Content-Length"},
    [SK_CAUSE_BODY_SHORT] = {400, "Content-Length Mismatch"},
    [SK_CAUSE_CSEQ_METHOD] = {400, "CSeq Method Mismatch"},
};

const char *sk_msg_cause_text(enum sk_msg_cause c)
{
    return (c >= 0 && c < SK_CAUSE__COUNT) ? causes[c].text : "Bad Request";
}

unsigned sk_msg_cause_status(enum sk_msg_cause c)
{
    return (c >= 0 && c < SK_CAUSE__COUNT) ? causes[c].status : 400;
}

unsigned sk_msg_error(const struct sk_msg *m, char *buf, size_t bufsz)
{
    const char *text = sk_msg_cause_text(m->cause);
    char name[64];

    if (m->cause_hdr != SK_HDR_OTHER)
        snprintf(name, sizeof(name), "%s", sk_hdr_name(m->cause_hdr));
    else if (m->cause_name.len > 0)
        sk_slice_to_cstr(m->cause_name, name, sizeof(name));
    else
        snprintf(name, sizeof(name), "Header");
    /* A header name from the wire is a token, so the phrase stays
     * printable. */
    const char *hole = strstr(text, "%s");
    if (hole != NULL)
        snprintf(buf, bufsz, "%.*s%s%s", (int)(hole - text), text, name, hole + 2);
    else
        snprintf(buf, bufsz, "%s", text);
    return sk_msg_cause_status(m->cause);
}
