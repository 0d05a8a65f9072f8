/*
 * The WebSocket opening handshake, server side (RFC 6455 §4.2, RFC 7118
 * §4): the client's HTTP/1.1 GET with Upgrade: websocket is parsed here,
 * judged (version 13, a well-formed key, the sip subprotocol, an allowed
 * Origin) and answered with 101 Switching Protocols or a refusal whose
 * body says what was wrong. The accept key is SHA-1 and base64 from
 * OpenSSL's libcrypto. See ws.h for the contract; ws.c drives it.
 *
 * Memory: slices into the caller's bytes; answers appended to its sk_buf.
 */
#include "transport/ws.h"

#include <stddef.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <string.h>

/* RFC 6455 §1.3: the GUID appended to the client's key. */
static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/* RFC 7230 §3.2.6 tchar: what a header name or method is made of. */
static bool is_tchar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Whether a comma-separated list (RFC 7230 §7) names token, ignoring case. */
static bool list_has(struct sk_slice list, const char *token)
{
    while (list.len > 0) {
        const char *comma = memchr(list.p, ',', list.len);
        size_t n = comma != NULL ? (size_t)(comma - list.p) : list.len;
        if (sk_slice_caseeq_cstr(sk_slice_trim(sk_slice_make(list.p, n)), token))
            return true;
        list.p += n < list.len ? n + 1 : n;
        list.len -= n < list.len ? n + 1 : n;
    }
    return false;
}

/* "GET /path HTTP/1.1": three parts split by single spaces. */
static int parse_request_line(struct sk_slice line, struct sk__ws_req *r)
{
    const char *sp1 = memchr(line.p, ' ', line.len), *sp2;
    size_t rest;

    if (sp1 == NULL || sp1 == line.p)
        return SK_EPARSE;
    rest = line.len - (size_t)(sp1 + 1 - line.p);
    sp2 = memchr(sp1 + 1, ' ', rest);
    if (sp2 == NULL || sp2 == sp1 + 1)
        return SK_EPARSE;
    r->method = sk_slice_make(line.p, (size_t)(sp1 - line.p));
    r->target = sk_slice_make(sp1 + 1, (size_t)(sp2 - sp1 - 1));
    r->version = sk_slice_make(sp2 + 1, line.len - (size_t)(sp2 + 1 - line.p));
    for (size_t i = 0; i < r->method.len; i++) {
        if (!is_tchar(r->method.p[i]))
            return SK_EPARSE;
    }
    if (r->version.len != 8 || memcmp(r->version.p, "HTTP/1.", 7) != 0)
        return SK_EPARSE;
    return 0;
}

/* The headers kept as one value: where the value and its presence go. */
static const struct {
    const char *name;
    size_t value, has;
} single[] = {
    {"Host", offsetof(struct sk__ws_req, host), offsetof(struct sk__ws_req, has_host)},
    {"Origin", offsetof(struct sk__ws_req, origin), offsetof(struct sk__ws_req, has_origin)},
    {"Sec-WebSocket-Key", offsetof(struct sk__ws_req, key), offsetof(struct sk__ws_req, has_key)},
    {"Sec-WebSocket-Version", offsetof(struct sk__ws_req, ws_version),
     offsetof(struct sk__ws_req, has_ws_version)},
};

static void take_header(struct sk__ws_req *r, struct sk_slice name, struct sk_slice value)
{
    for (size_t i = 0; i < sizeof(single) / sizeof(single[0]); i++) {
        if (sk_slice_caseeq_cstr(name, single[i].name)) {
            memcpy((char *)r + single[i].value, &value, sizeof(value));
            *(bool *)(void *)((char *)r + single[i].has) = true;
            return;
        }
    }
    if (sk_slice_caseeq_cstr(name, "Upgrade")) {
        r->upgrade_websocket = r->upgrade_websocket || list_has(value, "websocket");
    } else if (sk_slice_caseeq_cstr(name, "Connection")) {
        r->connection_upgrade = r->connection_upgrade || list_has(value, "upgrade");
    } else if (sk_slice_caseeq_cstr(name, "Sec-WebSocket-Protocol")) {
        /* RFC 6455 §4.1: the header may appear more than once. */
        r->has_protocol = true;
        r->protocol_sip = r->protocol_sip || list_has(value, "sip");
    }
}

/* "Name: value" (no folding: RFC 7230 §3.2.4 obsoletes it). */
static int parse_header(struct sk_slice line, struct sk__ws_req *r)
{
    const char *colon = memchr(line.p, ':', line.len);
    struct sk_slice name;

    if (colon == NULL || colon == line.p)
        return SK_EPARSE;
    name = sk_slice_make(line.p, (size_t)(colon - line.p));
    for (size_t i = 0; i < name.len; i++) {
        if (!is_tchar(name.p[i]))
            return SK_EPARSE;
    }
    take_header(r, name, sk_slice_trim(sk_slice_make(colon + 1, line.len - name.len - 1)));
    return 0;
}

/* The end of the request head: the offset after "\r\n\r\n", or 0. */
static size_t head_end(const char *p, size_t n)
{
    for (size_t i = 3; i < n; i++) {
        if (p[i] == '\n' && p[i - 1] == '\r' && p[i - 2] == '\n' && p[i - 3] == '\r')
            return i + 1;
    }
    return 0;
}

int sk__ws_req_parse(const char *p, size_t n, struct sk__ws_req *out, size_t *used)
{
    size_t end = head_end(p, n < SK__WS_REQ_MAX ? n : SK__WS_REQ_MAX), off = 0;
    bool first = true;

    if (end == 0)
        return n >= SK__WS_REQ_MAX ? SK_ETOOBIG : SK_EAGAIN;
    memset(out, 0, sizeof(*out));
    while (off + 2 < end) {
        const char *cr = memchr(p + off, '\r', end - off);
        /* head_end found "\r\n\r\n", so a CR is there; it must start CRLF. */
        if (cr == NULL || (size_t)(cr - p) + 1 >= end || cr[1] != '\n')
            return SK_EPARSE;
        struct sk_slice line = sk_slice_make(p + off, (size_t)(cr - (p + off)));
        int err = first ? parse_request_line(line, out) : parse_header(line, out);
        if (err != 0)
            return err;
        first = false;
        off = (size_t)(cr - p) + 2;
    }
    if (first)
        return SK_EPARSE; /* nothing before the empty line */
    *used = end;
    return 0;
}

static bool is_b64(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

/* RFC 6455 §4.1: the key is 16 random bytes in base64: 22 characters
 * and "==". */
static bool key_ok(struct sk_slice k)
{
    if (k.len != 24 || k.p[22] != '=' || k.p[23] != '=')
        return false;
    for (size_t i = 0; i < 22; i++) {
        if (!is_b64(k.p[i]))
            return false;
    }
    return true;
}

/* Whether origin is in the list: exact, ignoring case (RFC 6454 §6.2
 * serializes scheme and host in lower case; we do not rely on it). */
static bool origin_allowed(struct sk_slice origin, bool has_origin, const char *list)
{
    const char *p = list;

    if (list == NULL || list[strspn(list, " \t,")] == '\0' || !has_origin)
        return true;
    while (*p != '\0') {
        p += strspn(p, " \t,");
        size_t n = strcspn(p, " \t,");
        if (n == 0)
            break;
        if ((n == 1 && p[0] == '*') || sk_slice_caseeq(sk_slice_make(p, n), origin))
            return true;
        p += n;
    }
    return false;
}

static void verdict(struct sk__ws_verdict *v, unsigned status, const char *reason)
{
    v->status = status;
    v->reason = reason;
}

void sk__ws_req_check(const struct sk__ws_req *r, const char *origins, struct sk__ws_verdict *out)
{
    /* RFC 6455 §4.2.1, in the order a client can act on. */
    if (!sk_slice_caseeq_cstr(r->method, "GET"))
        verdict(out, 400, "only GET can open a WebSocket");
    else if (!sk_slice_caseeq_cstr(r->version, "HTTP/1.1"))
        verdict(out, 400, "a WebSocket upgrade needs HTTP/1.1");
    else if (!r->upgrade_websocket || !r->connection_upgrade)
        verdict(out, 426,
                "this port speaks SIP over WebSocket only: send Upgrade: websocket "
                "and Connection: Upgrade");
    else if (!r->has_ws_version || !sk_slice_caseeq_cstr(r->ws_version, "13"))
        verdict(out, 426, "unsupported Sec-WebSocket-Version: only 13 is served");
    else if (!r->has_host)
        verdict(out, 400, "missing Host header");
    else if (!r->has_key || !key_ok(r->key))
        verdict(out, 400, "missing or malformed Sec-WebSocket-Key (16 bytes in base64)");
    else if (!r->protocol_sip)
        verdict(out, 400,
                r->has_protocol ? "Sec-WebSocket-Protocol does not offer sip "
                                  "(RFC 7118 §4.1)"
                                : "missing Sec-WebSocket-Protocol: sip (RFC 7118 §4.1)");
    else if (!origin_allowed(r->origin, r->has_origin, origins))
        verdict(out, 403, "Origin not allowed here (ws origins)");
    else
        verdict(out, 101, "switching to SIP over WebSocket");
}

int sk__ws_accept_key(struct sk_slice key, char *out)
{
    unsigned char md[SHA_DIGEST_LENGTH];
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned mdlen = 0;
    int ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) == 1 &&
             EVP_DigestUpdate(ctx, key.p, key.len) == 1 &&
             EVP_DigestUpdate(ctx, ws_guid, sizeof(ws_guid) - 1) == 1 &&
             EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen == SHA_DIGEST_LENGTH;

    EVP_MD_CTX_free(ctx);
    if (!ok)
        return SK_EINVAL;
    /* EVP_EncodeBlock writes 4 characters per 3 bytes and a NUL. */
    return EVP_EncodeBlock((unsigned char *)out, md, SHA_DIGEST_LENGTH) == SK__WS_ACCEPT_LEN
               ? 0
               : SK_EINVAL;
}

static const char *status_phrase(unsigned status)
{
    switch (status) {
    case 101:
        return "Switching Protocols";
    case 403:
        return "Forbidden";
    case 426:
        return "Upgrade Required";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    default:
        return "Bad Request";
    }
}

void sk__ws_answer(const struct sk__ws_req *r, const struct sk__ws_verdict *v, struct sk_buf *b)
{
    char accept[SK__WS_ACCEPT_LEN + 1];

    if (v->status == 101) {
        if (r == NULL || sk__ws_accept_key(r->key, accept) != 0) {
            static const struct sk__ws_verdict oops = {500, "cannot compute the accept key"};
            sk__ws_answer(NULL, &oops, b);
            return;
        }
        sk_buf_printf(b, "HTTP/1.1 101 %s\r\n", status_phrase(101));
        /* RFC 7118 §4.1: the server answers with the one subprotocol. */
        sk_buf_printf(b,
                      "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Accept: %s\r\nSec-WebSocket-Protocol: sip\r\n\r\n",
                      accept);
        return;
    }
    sk_buf_printf(b, "HTTP/1.1 %u %s\r\n", v->status, status_phrase(v->status));
    if (v->status == 426) {
        /* RFC 6455 §4.4: name the version we speak. */
        sk_buf_append_cstr(b, "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n");
    }
    sk_buf_printf(b,
                  "Content-Type: text/plain; charset=utf-8\r\nContent-Length: %zu\r\n"
                  "Connection: close\r\n\r\n%s\n",
                  strlen(v->reason) + 1, v->reason);
}
