/* Unit tests for RFC 3261 §18.1.1 in the transport: a request for UDP that
 * may not fit the path goes over TCP with its top Via rewritten, and back
 * to UDP unchanged when the peer refuses TCP. A real transport on loopback
 * sends to peer sockets the test owns; every wait is bounded. */
#include "support.h"

#include "transport/internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define WAIT_MS 3000

struct peer {
    int udp, tcp; /* tcp listens, or is bound only (connections refused) */
    struct sk_addr addr;
};

static void on_recv(void *arg, struct sk_rx *rx)
{
    (void)arg;
    (void)rx;
}

static struct sk_tp *tp_start(unsigned path_mtu)
{
    struct sk_listener l = {0};
    struct sk_tp_config c = {0};
    struct sk_tp *tp = NULL;

    assert_int_equal(sk_addr_parse(S("127.0.0.1:0"), 0, &l.addr), 0);
    c.listeners = &l;
    c.nlisteners = 1;
    c.workers = 1;
    c.runtime.tcp_idle_timeout_s = 30;
    c.runtime.tcp_max_connections = 16;
    c.runtime.tcp_max_buffer = 262144;
    c.on_recv = on_recv;
    c.path_mtu = path_mtu;
    assert_int_equal(sk_tp_new(&tp, &c), 0);
    assert_int_equal(sk_tp_start(tp), 0);
    return tp;
}

/* A UDP socket and a TCP socket on the same free port. */
static void peer_open(struct peer *p, bool tcp_listens)
{
    for (int tries = 0; tries < 20; tries++) {
        struct sockaddr_in a = {.sin_family = AF_INET};
        socklen_t len = sizeof(a);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        p->udp = socket(AF_INET, SOCK_DGRAM, 0);
        p->tcp = socket(AF_INET, SOCK_STREAM, 0);
        assert_true(p->udp >= 0 && p->tcp >= 0);
        assert_int_equal(bind(p->udp, (struct sockaddr *)&a, sizeof(a)), 0);
        getsockname(p->udp, (struct sockaddr *)&a, &len);
        if (bind(p->tcp, (struct sockaddr *)&a, sizeof(a)) == 0 &&
            (!tcp_listens || listen(p->tcp, 4) == 0)) {
            memset(&p->addr, 0, sizeof(p->addr));
            memcpy(&p->addr.in, &a, sizeof(a));
            p->addr.sslen = sizeof(a);
            return;
        }
        close(p->udp);
        close(p->tcp);
    }
    fail_msg("no free port for the peer");
}

static void peer_close(struct peer *p)
{
    close(p->udp);
    close(p->tcp);
}

static bool readable(int fd, int ms)
{
    struct pollfd pfd = {fd, POLLIN, 0};
    return poll(&pfd, 1, ms) == 1;
}

/* A request of exactly len bytes whose top Via names UDP. */
static void request(struct sk_buf *b, size_t len)
{
    static const char head[] = "OPTIONS sip:peer.test SIP/2.0\r\n"
                               "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKfallback\r\n"
                               "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKsecond\r\n"
                               "Max-Forwards: 70\r\nFrom: <sip:a@x.test>;tag=1\r\n"
                               "To: <sip:peer.test>\r\nCall-ID: fb1\r\nCSeq: 1 OPTIONS\r\n"
                               "Content-Length: 0\r\nX-Pad: ";
    size_t fixed = sizeof(head) - 1 + 4;

    assert_true(len > fixed);
    sk_buf_reset(b);
    sk_buf_append(b, head, sizeof(head) - 1);
    for (size_t i = fixed; i < len; i++)
        sk_buf_append(b, "x", 1);
    sk_buf_append(b, "\r\n\r\n", 4);
    assert_true(sk_buf_ok(b));
    assert_int_equal(b->len, len);
}

static struct sk_dest udp_dest(const struct peer *p)
{
    struct sk_dest d = {.transport = SK_TP_UDP, .listener = -1};
    d.addr = p->addr;
    return d;
}

/* The next datagram must equal want. */
static void expect_udp(struct peer *p, const struct sk_buf *want)
{
    static char got[70000];
    ssize_t n;

    assert_true(readable(p->udp, WAIT_MS));
    n = recv(p->udp, got, sizeof(got), 0);
    assert_int_equal(n, (ssize_t)want->len);
    assert_memory_equal(got, want->p, want->len);
}

/* One connection must bring exactly want's bytes with the top Via's
 * transport changed to TCP (the second Via untouched). */
static void expect_tcp(struct peer *p, const struct sk_buf *sent)
{
    static char got[70000];
    size_t have = 0;
    int c;
    char *via;

    assert_true(readable(p->tcp, WAIT_MS));
    c = accept(p->tcp, NULL, NULL);
    assert_true(c >= 0);
    while (have < sent->len && readable(c, WAIT_MS)) {
        ssize_t n = recv(c, got + have, sizeof(got) - have, 0);
        if (n <= 0)
            break;
        have += (size_t)n;
    }
    close(c);
    assert_int_equal(have, sent->len);
    via = memmem(got, have,
                 "Via: SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bKfallback\r\n"
                 "Via: SIP/2.0/UDP 192.0.2.1:5060;",
                 87);
    assert_non_null(via);
    memcpy(via + 13, "UDP", 3); /* undo the one change: the rest is identical */
    assert_memory_equal(got, sent->p, sent->len);
}

static void nothing_on(int fd)
{
    assert_false(readable(fd, 150));
}

static void small_request_stays_on_udp(void **state)
{
    struct sk_tp *tp = tp_start(0);
    struct peer p;
    struct sk_buf b;
    struct sk_dest d;

    (void)state;
    peer_open(&p, true);
    d = udp_dest(&p);
    sk_buf_init(&b);
    request(&b, 1300); /* §18.1.1: "larger than 1300 bytes" moves */
    assert_int_equal(sk_tp_send_request(tp, &d, b.p, b.len), 0);
    expect_udp(&p, &b);
    nothing_on(p.tcp);
    sk_tp_free(tp);
    peer_close(&p);
    sk_buf_free(&b);
}

static void large_request_moves_to_tcp(void **state)
{
    struct sk_tp *tp = tp_start(0);
    struct peer p;
    struct sk_buf b;
    struct sk_dest d;

    (void)state;
    peer_open(&p, true);
    d = udp_dest(&p);
    sk_buf_init(&b);
    request(&b, 1301);
    assert_int_equal(sk_tp_send_request(tp, &d, b.p, b.len), 0);
    expect_tcp(&p, &b);
    nothing_on(p.udp);
    sk_tp_free(tp);
    peer_close(&p);
    sk_buf_free(&b);
}

static void responses_never_move(void **state)
{
    struct sk_tp *tp = tp_start(0);
    struct peer p;
    struct sk_buf b;
    struct sk_dest d;

    (void)state;
    peer_open(&p, true);
    d = udp_dest(&p);
    sk_buf_init(&b);
    request(&b, 4000);
    assert_int_equal(sk_tp_send(tp, &d, b.p, b.len), 0);
    expect_udp(&p, &b);
    nothing_on(p.tcp);
    sk_tp_free(tp);
    peer_close(&p);
    sk_buf_free(&b);
}

static void refused_tcp_falls_back_to_udp(void **state)
{
    struct sk_tp *tp = tp_start(0);
    struct peer p;
    struct sk_buf b1, b2;
    struct sk_dest d;

    (void)state;
    peer_open(&p, false); /* the TCP port is bound but not listening: RST */
    d = udp_dest(&p);
    sk_buf_init(&b1);
    sk_buf_init(&b2);
    request(&b1, 2000);
    request(&b2, 3000);
    /* Both queue on the same connection attempt; both come back on UDP,
     * as they were, in order. */
    assert_int_equal(sk_tp_send_request(tp, &d, b1.p, b1.len), 0);
    assert_int_equal(sk_tp_send_request(tp, &d, b2.p, b2.len), 0);
    expect_udp(&p, &b1);
    expect_udp(&p, &b2);
    sk_tp_free(tp);
    peer_close(&p);
    sk_buf_free(&b1);
    sk_buf_free(&b2);
}

static void known_path_mtu_sets_the_limit(void **state)
{
    struct sk_tp *tp = tp_start(9000);
    struct peer p;
    struct sk_buf b;
    struct sk_dest d;

    (void)state;
    peer_open(&p, true);
    d = udp_dest(&p);
    sk_buf_init(&b);
    request(&b, 8800); /* 200 bytes below the MTU: still UDP */
    assert_int_equal(sk_tp_send_request(tp, &d, b.p, b.len), 0);
    expect_udp(&p, &b);
    request(&b, 8801);
    assert_int_equal(sk_tp_send_request(tp, &d, b.p, b.len), 0);
    expect_tcp(&p, &b);
    sk_tp_free(tp);
    peer_close(&p);
    sk_buf_free(&b);
}

static void via_rewrite(void **state)
{
    struct sk_buf out;
    static const char compact[] =
        "MESSAGE sip:b@x SIP/2.0\r\nv: SIP/2.0/udp h.test;branch=z9hG4bK1\r\n"
        "f: <sip:a@x>;tag=1\r\nt: <sip:b@x>\r\ni: c1\r\nCSeq: 2 MESSAGE\r\n"
        "l: 0\r\n\r\n";
    static const char tls[] =
        "MESSAGE sip:b@x SIP/2.0\r\nVia: SIP/2.0/TLS h.test;branch=z9hG4bK1\r\n"
        "From: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: c1\r\n"
        "CSeq: 2 MESSAGE\r\nContent-Length: 0\r\n\r\n";

    (void)state;
    sk_buf_init(&out);
    assert_int_equal(sk__via_to_tcp(compact, sizeof(compact) - 1, &out), 0);
    assert_int_equal(out.len, sizeof(compact) - 1);
    assert_non_null(memmem(out.p, out.len, "\r\nv: SIP/2.0/TCP h.test;branch=z9hG4bK1\r\n", 41));
    assert_int_equal(sk__via_to_tcp(tls, sizeof(tls) - 1, &out), 0);
    assert_memory_equal(out.p, tls, sizeof(tls) - 1);
    assert_int_equal(sk__via_to_tcp("garbage\r\n\r\n", 11, &out), SK_EPARSE);
    sk_buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(small_request_stays_on_udp),
        cmocka_unit_test(large_request_moves_to_tcp),
        cmocka_unit_test(responses_never_move),
        cmocka_unit_test(refused_tcp_falls_back_to_udp),
        cmocka_unit_test(known_path_mtu_sets_the_limit),
        cmocka_unit_test(via_rewrite),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
