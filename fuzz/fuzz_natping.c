/*
 * libFuzzer target for the answers to OPTIONS keep-alives
 * (src/server/nat_ping.c): whatever response arrives, the keep-alive hook
 * says "not ours" (-1), "ours, nothing to count" (0) or "answered" (1),
 * and counts at most one answer per keep-alive. The first input byte
 * picks whether the branch of the outstanding keep-alive is spliced in.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/internal.h"
#include "server/nat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct sk_server s;
    struct sk__natping *p = NULL;
    struct sk_binding b;
    struct sk_buf req, wire;
    struct sk_msg q, m;
    uint64_t id;
    int answered = 0;

    if (size < 1)
        return 0;
    snprintf(s.cfg.domain, sizeof(s.cfg.domain), "example.test");
    memset(&b, 0, sizeof(b));
    snprintf(b.aor, sizeof(b.aor), "bob@example.test");
    snprintf(b.contact, sizeof(b.contact), "sip:bob@203.0.113.10:5060");
    snprintf(b.src_ip, sizeof(b.src_ip), "198.51.100.2");
    b.src_port = 40000;
    if (sk__natping_new(&p) != 0)
        return 0;
    uint32_t round = sk__natping_round_begin(p);
    if (sk__natping_check(p, &b, 3, &id) != SK__NATPING_SEND)
        abort();
    sk_buf_init(&req);
    sk_buf_init(&wire);
    if (sk__natping_write(&s, &b, id, round, "198.51.100.1:5060", &req) != 0)
        abort();
    /* What we send parses as an OPTIONS. */
    sk_msg_init(&q);
    if (sk_msg_parse(&q, req.p, req.len, SK_MSG_DATAGRAM, NULL) != 0 ||
        q.method_id != SK_METHOD_OPTIONS)
        abort();
    if (data[0] & 1) {
        /* A response line and our Via, then the input as the rest. */
        sk_buf_printf(&wire, "SIP/2.0 200 OK\r\nVia: %.*s\r\n", (int)q.via.raw.len, q.via.raw.p);
    }
    sk_buf_append(&wire, data + 1, size - 1);
    for (int i = 0; i < 2 && sk_buf_ok(&wire); i++) {
        sk_msg_init(&m);
        if (sk_msg_parse(&m, wire.p, wire.len, SK_MSG_DATAGRAM, NULL) == 0 && m.status > 0) {
            int r = sk__natping_response(p, &m);
            if (r < -1 || r > 1)
                abort();
            answered += r == 1;
        }
        sk_msg_free(&m);
    }
    if (answered > 1)
        abort();
    sk__natping_round_end(p);
    sk_msg_free(&q);
    sk_buf_free(&req);
    sk_buf_free(&wire);
    sk__natping_free(p);
    return 0;
}
