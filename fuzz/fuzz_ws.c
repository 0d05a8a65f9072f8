/*
 * libFuzzer target for SIP over WebSocket on the server side
 * (src/transport/ws_http.c, ws.c): the bytes a client sends on a ws
 * connection. Input whose first byte is even is taken as a connection
 * from its start: the upgrade request is parsed, judged (with and
 * without an Origin allow-list) and answered, and what follows it is
 * decoded as frames, as the layer does after a 101. Odd: the rest is
 * frames only. Every complete message is then parsed as the transport
 * hands it up (a datagram, RFC 7118 §5.1). Checks: the request parser
 * reports a length within the input, a verdict is one of the statuses
 * documented, and no message is over the limit given to the decoder.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sipkit/msg.h>

#include "transport/ws.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_MSG 4096

static void upgrade(const char *p, size_t n, size_t *used)
{
    struct sk__ws_req r;
    struct sk__ws_verdict v;
    struct sk_buf b;
    int err = sk__ws_req_parse(p, n, &r, used);

    if (err != 0) {
        if (err != SK_EAGAIN && err != SK_ETOOBIG && err != SK_EPARSE)
            abort();
        *used = n;
        return;
    }
    if (*used == 0 || *used > n)
        abort();
    sk_buf_init(&b);
    for (int i = 0; i < 2; i++) {
        sk__ws_req_check(&r, i == 0 ? NULL : "https://app.example.test *x", &v);
        if (v.status != 101 && v.status != 400 && v.status != 403 && v.status != 426)
            abort();
        sk__ws_answer(&r, &v, &b);
    }
    sk_buf_free(&b);
}

static void frames(const char *p, size_t n)
{
    struct sk_buf msgs, out;
    struct sk_msg m;
    size_t off = 0;

    sk_buf_init(&msgs);
    sk_buf_init(&out);
    (void)sk__ws_decode(p, n, MAX_MSG, &msgs, &out);
    sk_msg_init(&m);
    while (off < msgs.len) {
        uint32_t len;
        if (msgs.len - off < 5)
            abort();
        memcpy(&len, msgs.p + off, 4);
        if (len > MAX_MSG || len > msgs.len - off - 5)
            abort();
        (void)sk_msg_parse(&m, msgs.p + off + 5, len, SK_MSG_DATAGRAM, NULL);
        off += 5 + len;
    }
    sk_msg_free(&m);
    sk_buf_free(&msgs);
    sk_buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data + 1;
    size_t n = size > 0 ? size - 1 : 0, used = 0;

    if (size == 0)
        return 0;
    if ((data[0] & 1) == 0)
        upgrade(p, n, &used);
    if (used < n)
        frames(p + used, n - used);
    return 0;
}
