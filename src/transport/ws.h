/*
 * The WebSocket opening handshake (RFC 6455 §4, RFC 7118 §4): parsing the
 * client's HTTP upgrade request, deciding on it, and the server's answer.
 * Pure functions on caller-owned memory, so that unit tests and the fuzz
 * target (fuzz/fuzz_ws.c) reach them without a socket; ws.c uses them
 * for the layer.
 *
 * Memory: struct sk__ws_req holds slices into the caller's bytes, valid
 * while they are. Nothing here allocates except into a caller's sk_buf.
 * Threads: any.
 */
#ifndef SK_TRANSPORT_WS_H
#define SK_TRANSPORT_WS_H

#include <sipkit/base.h>

#include <stdbool.h>
#include <stddef.h>

/* The longest upgrade request taken (request line and headers). */
#define SK__WS_REQ_MAX 8192
/* Sec-WebSocket-Accept: base64 of a SHA-1, 28 characters. */
#define SK__WS_ACCEPT_LEN 28

struct sk__ws_req {
    struct sk_slice method, target, version; /* request line */
    struct sk_slice host, origin, key, ws_version;
    bool has_host, has_origin, has_key, has_ws_version;
    bool upgrade_websocket;  /* Upgrade: names the websocket token */
    bool connection_upgrade; /* Connection: names the upgrade token */
    bool protocol_sip;       /* Sec-WebSocket-Protocol: names sip */
    bool has_protocol;       /* Sec-WebSocket-Protocol: present at all */
};

/* Parse the request at p (n bytes, which may hold more after it). Returns
 * 0 with *used the bytes through the empty line, SK_EAGAIN when the empty
 * line has not arrived yet, SK_ETOOBIG when it is not within
 * SK__WS_REQ_MAX bytes, SK_EPARSE for what is not an HTTP/1.1 request. */
int sk__ws_req_parse(const char *p, size_t n, struct sk__ws_req *out, size_t *used);

/* The decision on a parsed request. status is 101 (accepted) or the HTTP
 * status refusing it: 400 (malformed, no sip subprotocol), 403 (Origin
 * not allowed), 426 (not a WebSocket upgrade, or another version);
 * reason says why in words, for the answer's body and the log. */
struct sk__ws_verdict {
    unsigned status;
    const char *reason;
};

/* origins: the allow-list (spaces or commas between values, "*" for any;
 * NULL or empty: any). A request without Origin comes from no browser
 * (RFC 6455 §10.2: only browsers are bound to send it) and is judged on
 * the rest. */
void sk__ws_req_check(const struct sk__ws_req *r, const char *origins, struct sk__ws_verdict *out);

/* RFC 6455 §4.2.2: base64(SHA-1(key + GUID)) into out, NUL-terminated
 * (SK__WS_ACCEPT_LEN + 1 bytes). Returns 0 or SK_EINVAL. */
int sk__ws_accept_key(struct sk_slice key, char *out);

/* The answer to r under verdict v, into b (appended): 101 with the accept
 * key and the sip subprotocol, or the refusal with its reason as body. */
void sk__ws_answer(const struct sk__ws_req *r, const struct sk__ws_verdict *v, struct sk_buf *b);

/* The frame decoding of a connection, without one (ws.c): feed the
 * client's bytes n at p to a server-side wslay context whose messages are
 * limited to max_msg bytes; complete text and binary messages are
 * appended to msgs as [uint32_t length, host order][opcode byte][bytes],
 * what the server would send back (pongs, close) to out. Returns 0,
 * SK_ETOOBIG when a message was over max_msg, -EPROTO for a protocol
 * violation (the peer then gets a close frame), or SK_ENOMEM. */
int sk__ws_decode(const char *p, size_t n, size_t max_msg, struct sk_buf *msgs, struct sk_buf *out);

#endif
