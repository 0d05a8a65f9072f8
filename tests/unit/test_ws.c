/* The WebSocket handshake and framing of src/transport/ws_http.c and ws.c
 * (RFC 6455, RFC 7118): the accept key of RFC 6455 §1.3, the upgrade
 * request parsed whole and "need more" for every prefix, each refusal
 * with its status, the Origin allow-list, the answers, and frames
 * decoded (masked text, fragments, ping, close, an oversized message). */
#include "support.h"

#include "transport/ws.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* RFC 6455 §1.2's example, asking for sip. */
static const char good[] = "GET /chat HTTP/1.1\r\n"
                           "Host: server.example.com\r\n"
                           "Upgrade: websocket\r\n"
                           "Connection: keep-alive, Upgrade\r\n"
                           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                           "Origin: http://example.com\r\n"
                           "Sec-WebSocket-Protocol: chat, sip\r\n"
                           "Sec-WebSocket-Version: 13\r\n"
                           "\r\n";

static void accept_key(void **state)
{
    char out[SK__WS_ACCEPT_LEN + 1];

    (void)state;
    /* RFC 6455 §1.3. */
    assert_int_equal(sk__ws_accept_key(SK_SLICE_LIT("dGhlIHNhbXBsZSBub25jZQ=="), out), 0);
    assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

static void parse_whole(void **state)
{
    struct sk__ws_req r;
    struct sk__ws_verdict v;
    size_t used = 0;
    char twice[2 * sizeof(good)];

    (void)state;
    assert_int_equal(sk__ws_req_parse(good, sizeof(good) - 1, &r, &used), 0);
    assert_int_equal(used, sizeof(good) - 1);
    assert_true(sk_slice_caseeq_cstr(r.method, "GET"));
    assert_true(sk_slice_caseeq_cstr(r.target, "/chat"));
    assert_true(sk_slice_caseeq_cstr(r.host, "server.example.com"));
    assert_true(sk_slice_caseeq_cstr(r.origin, "http://example.com"));
    assert_true(r.upgrade_websocket && r.connection_upgrade && r.protocol_sip);
    sk__ws_req_check(&r, NULL, &v);
    assert_int_equal(v.status, 101);
    /* Frames right behind the request are not the request's. */
    memcpy(twice, good, sizeof(good) - 1);
    memcpy(twice + sizeof(good) - 1, "\x81\x80", 2);
    assert_int_equal(sk__ws_req_parse(twice, sizeof(good) + 1, &r, &used), 0);
    assert_int_equal(used, sizeof(good) - 1);
}

static void every_prefix_needs_more(void **state)
{
    struct sk__ws_req r;
    size_t used;

    (void)state;
    for (size_t n = 0; n < sizeof(good) - 1; n++)
        assert_int_equal(sk__ws_req_parse(good, n, &r, &used), SK_EAGAIN);
}

static void answer_101(void **state)
{
    struct sk__ws_req r;
    struct sk__ws_verdict v;
    struct sk_buf b;
    size_t used;

    (void)state;
    sk_buf_init(&b);
    assert_int_equal(sk__ws_req_parse(good, sizeof(good) - 1, &r, &used), 0);
    sk__ws_req_check(&r, "", &v);
    sk__ws_answer(&r, &v, &b);
    assert_true(sk_buf_ok(&b));
    assert_int_equal(b.len, strlen("HTTP/1.1 101 Switching Protocols\r\n"
                                   "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                                   "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
                                   "Sec-WebSocket-Protocol: sip\r\n\r\n"));
    assert_memory_equal(b.p,
                        "HTTP/1.1 101 Switching Protocols\r\n"
                        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
                        "Sec-WebSocket-Protocol: sip\r\n\r\n",
                        b.len);
    sk_buf_free(&b);
}

/* good with one line replaced (or removed, with "" as replacement). */
static void variant(const char *line, const char *with, char *out, size_t outsz)
{
    const char *at = strstr(good, line);
    size_t pre = (size_t)(at - good), n = strlen(line);

    snprintf(out, outsz, "%.*s%s%s", (int)pre, good, with, good + pre + n);
}

static unsigned status_of(const char *req, const char *origins)
{
    struct sk__ws_req r;
    struct sk__ws_verdict v;
    size_t used;

    if (sk__ws_req_parse(req, strlen(req), &r, &used) != 0)
        return 0;
    sk__ws_req_check(&r, origins, &v);
    return v.status;
}

static void refusals(void **state)
{
    static const struct {
        const char *line, *with, *origins;
        unsigned status;
    } cases[] = {
        {"GET /chat", "POST /chat", NULL, 400},
        {"HTTP/1.1\r\nHost", "HTTP/1.0\r\nHost", NULL, 400},
        {"Upgrade: websocket\r\n", "", NULL, 426},
        {"Upgrade: websocket\r\n", "Upgrade: h2c\r\n", NULL, 426},
        {"Connection: keep-alive, Upgrade\r\n", "Connection: keep-alive\r\n", NULL, 426},
        {"Sec-WebSocket-Version: 13\r\n", "Sec-WebSocket-Version: 8\r\n", NULL, 426},
        {"Sec-WebSocket-Version: 13\r\n", "", NULL, 426},
        {"Host: server.example.com\r\n", "", NULL, 400},
        {"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", "", NULL, 400},
        {"dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZSBub25jZQ=", NULL, 400},
        {"dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZSBub25j*Q==", NULL, 400},
        {"Sec-WebSocket-Protocol: chat, sip\r\n", "", NULL, 400},
        {"Sec-WebSocket-Protocol: chat, sip\r\n", "Sec-WebSocket-Protocol: chat\r\n", NULL, 400},
        {"Sec-WebSocket-Protocol: chat, sip\r\n", "Sec-WebSocket-Protocol: sips\r\n", NULL, 400},
        /* Taken: the header twice, case, the Origin on the list or none. */
        {"Sec-WebSocket-Protocol: chat, sip\r\n",
         "Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Protocol: sip\r\n", NULL, 101},
        {"Upgrade: websocket", "upgrade: WebSocket", NULL, 101},
        {"Origin: http://example.com\r\n", "", "https://app.example", 101},
        {"GET", "GET", "https://app.example http://EXAMPLE.com", 101},
        {"GET", "GET", "https://app.example,http://example.com", 101},
        {"GET", "GET", "*", 101},
        {"GET", "GET", "https://app.example", 403},
        {"GET", "GET", "http://example.com:8080", 403},
    };
    char req[1024];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        variant(cases[i].line, cases[i].with, req, sizeof(req));
        if (status_of(req, cases[i].origins) != cases[i].status)
            fail_msg("case %zu (%s -> %s): got %u, want %u", i, cases[i].line, cases[i].with,
                     status_of(req, cases[i].origins), cases[i].status);
    }
}

static void malformed(void **state)
{
    struct sk__ws_req r;
    size_t used;
    char big[SK__WS_REQ_MAX + 16];

    (void)state;
    assert_int_equal(sk__ws_req_parse("\r\n\r\n", 4, &r, &used), SK_EPARSE);
    assert_int_equal(sk__ws_req_parse("GET /\r\n\r\n", 9, &r, &used), SK_EPARSE);
    assert_int_equal(sk__ws_req_parse("GET / SIP/2.0\r\n\r\n", 17, &r, &used), SK_EPARSE);
    assert_int_equal(sk__ws_req_parse("GET / HTTP/1.1\r\nno colon\r\n\r\n", 28, &r, &used),
                     SK_EPARSE);
    assert_int_equal(sk__ws_req_parse("GET / HTTP/1.1\r\nA\rB: c\r\n\r\n", 26, &r, &used),
                     SK_EPARSE);
    memset(big, 'a', sizeof(big));
    assert_int_equal(sk__ws_req_parse(big, sizeof(big), &r, &used), SK_ETOOBIG);
    assert_int_equal(sk__ws_req_parse(big, SK__WS_REQ_MAX - 1, &r, &used), SK_EAGAIN);
}

static void answer_refusal(void **state)
{
    struct sk__ws_verdict v = {426, "only 13"};
    struct sk_buf b;

    (void)state;
    sk_buf_init(&b);
    sk__ws_answer(NULL, &v, &b);
    sk_buf_append(&b, "", 1);
    assert_true(sk_buf_ok(&b));
    assert_string_equal(b.p, "HTTP/1.1 426 Upgrade Required\r\n"
                             "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
                             "Content-Type: text/plain; charset=utf-8\r\nContent-Length: 8\r\n"
                             "Connection: close\r\n\r\nonly 13\n");
    sk_buf_free(&b);
}

/* A client frame (RFC 6455 §5.2: masked) of opcode op into out. */
static size_t frame(unsigned char *out, int fin, unsigned op, const char *p, size_t n)
{
    static const unsigned char mask[4] = {0x37, 0xfa, 0x21, 0x3d};
    size_t k = 0;

    out[k++] = (unsigned char)((fin ? 0x80 : 0) | op);
    if (n < 126) {
        out[k++] = (unsigned char)(0x80 | n);
    } else {
        out[k++] = 0x80 | 126;
        out[k++] = (unsigned char)(n >> 8);
        out[k++] = (unsigned char)n;
    }
    memcpy(out + k, mask, 4);
    k += 4;
    for (size_t i = 0; i < n; i++)
        out[k + i] = (unsigned char)p[i] ^ mask[i % 4];
    return k + n;
}

static void decode(void **state)
{
    static const char sip[] = "OPTIONS sip:example.test SIP/2.0\r\n\r\n";
    unsigned char in[512];
    struct sk_buf msgs, out;
    size_t k = 0;
    uint32_t len;

    (void)state;
    sk_buf_init(&msgs);
    sk_buf_init(&out);
    k += frame(in + k, 1, 0x1, sip, sizeof(sip) - 1);
    k += frame(in + k, 1, 0x9, "hi", 2); /* ping */
    k += frame(in + k, 0, 0x2, "ab", 2); /* fragments of one */
    k += frame(in + k, 1, 0x0, "cd", 2); /* binary message */
    assert_int_equal(sk__ws_decode((const char *)in, k, 1000, &msgs, &out), 0);
    /* Two messages, whole. */
    memcpy(&len, msgs.p, 4);
    assert_int_equal(len, sizeof(sip) - 1);
    assert_int_equal((unsigned char)msgs.p[4], 0x1);
    assert_memory_equal(msgs.p + 5, sip, len);
    memcpy(&len, msgs.p + 5 + sizeof(sip) - 1, 4);
    assert_int_equal(len, 4);
    assert_int_equal((unsigned char)msgs.p[5 + sizeof(sip) - 1 + 4], 0x2);
    assert_memory_equal(msgs.p + 5 + sizeof(sip) - 1 + 5, "abcd", 4);
    /* The pong, unmasked, with the ping's payload. */
    assert_int_equal(out.len, 4);
    assert_memory_equal(out.p, "\x8a\x02hi", 4);
    sk_buf_free(&msgs);
    sk_buf_free(&out);
}

static void decode_refusals(void **state)
{
    unsigned char in[512];
    char big[300];
    struct sk_buf msgs, out;
    size_t k;

    (void)state;
    memset(big, 'x', sizeof(big));
    sk_buf_init(&msgs);
    sk_buf_init(&out);
    /* Over the limit: closed with 1009 (RFC 6455 §7.4.1). */
    k = frame(in, 1, 0x1, big, sizeof(big));
    assert_int_equal(sk__ws_decode((const char *)in, k, 200, &msgs, &out), SK_ETOOBIG);
    assert_int_equal(msgs.len, 0);
    assert_true(out.len >= 4 && (unsigned char)out.p[0] == 0x88 &&
                (unsigned char)out.p[2] == 0x03 && (unsigned char)out.p[3] == 0xf1);
    /* Unmasked from a client: a protocol error, closed with 1002. */
    sk_buf_reset(&out);
    assert_int_equal(sk__ws_decode("\x81\x02hi", 4, 200, &msgs, &out), -EPROTO);
    assert_true(out.len >= 4 && (unsigned char)out.p[2] == 0x03 && (unsigned char)out.p[3] == 0xea);
    /* A close frame is answered with one; no error. */
    sk_buf_reset(&out);
    k = frame(in, 1, 0x8, "\x03\xe8", 2);
    assert_int_equal(sk__ws_decode((const char *)in, k, 200, &msgs, &out), 0);
    assert_true(out.len >= 2 && (unsigned char)out.p[0] == 0x88);
    sk_buf_free(&msgs);
    sk_buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(accept_key),
        cmocka_unit_test(parse_whole),
        cmocka_unit_test(every_prefix_needs_more),
        cmocka_unit_test(answer_101),
        cmocka_unit_test(refusals),
        cmocka_unit_test(malformed),
        cmocka_unit_test(answer_refusal),
        cmocka_unit_test(decode),
        cmocka_unit_test(decode_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
