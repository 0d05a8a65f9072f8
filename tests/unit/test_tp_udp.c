/* Unit tests for the UDP path of the transport: datagrams read in one
 * batch are all handed up, and what the receive callback sends while a
 * batch is handled (queued, then sent with sendmmsg) reaches the peer
 * complete and in order, even when the callback reuses its buffer and
 * sends more than the queue holds; a datagram to another host is not
 * queued but sent at once. Loopback only; every wait is bounded. */
#include "support.h"

#include "transport/internal.h"

#include <arpa/inet.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define WAIT_MS 3000
#define COUNT   16 /* requests sent */
#define REPLIES 3  /* answers per request: 48 > SK__UDP_TXQ */

struct echo {
    char buf[128]; /* reused for every answer, as the server does */
    unsigned seen;
    int send_errors;
    struct sk_addr other; /* forward_elsewhere: another host */
};

/* One worker on 127.0.0.1, a free port, started. */
static struct sk_tp *start_worker(sk_tp_recv_cb cb, struct echo *e)
{
    struct sk_listener l = {0};
    struct sk_tp_config c = {0};
    struct sk_tp *tp = NULL;

    assert_int_equal(sk_addr_parse(S("127.0.0.1:0"), 0, &l.addr), 0);
    c.listeners = &l;
    c.nlisteners = 1;
    c.workers = 1;
    c.runtime.tcp_max_connections = 4;
    c.runtime.tcp_max_buffer = 65536;
    c.on_recv = cb;
    c.recv_arg = e;
    assert_int_equal(sk_tp_new(&tp, &c), 0);
    assert_int_equal(sk_tp_start(tp), 0);
    return tp;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Answer "req N" with "rep N.0", "rep N.1", "rep N.2" to the sender. The
 * first request stalls the worker so the others pile up into a batch. */
static void on_recv(void *arg, struct sk_rx *rx)
{
    struct echo *e = arg;
    struct sk_dest d = {.transport = SK_TP_UDP, .listener = -1};
    char num[16];
    size_t n = rx->bytes.len - 4 < sizeof(num) - 1 ? rx->bytes.len - 4 : sizeof(num) - 1;

    memcpy(num, rx->bytes.p + 4, n);
    num[n] = '\0';
    if (e->seen++ == 0)
        sleep_ms(200);
    d.addr = rx->peer;
    for (int i = 0; i < REPLIES; i++) {
        int len = snprintf(e->buf, sizeof(e->buf), "rep %s.%d", num, i);
        if (sk_tp_send(rx->tp, &d, e->buf, (size_t)len) != 0)
            e->send_errors++;
    }
}

static void batch_answers_arrive_in_order(void **state)
{
    struct echo e = {0};
    struct sk_tp *tp;
    struct sk_addr srv;
    struct sk_tp_stats st;
    int fd;
    char got[128], want[64];

    (void)state;
    tp = start_worker(on_recv, &e);
    assert_int_equal(sk_tp_listener_addr(tp, 0, &srv), 0);

    fd = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, &srv.sa, sk_addr_len(&srv)), 0);
    for (int i = 0; i < COUNT; i++) {
        int len = snprintf(want, sizeof(want), "req %d", i);
        assert_int_equal(send(fd, want, (size_t)len, 0), len);
        if (i == 0)
            sleep_ms(50); /* the worker is now stalled on request 0 */
    }
    for (int i = 0; i < COUNT; i++) {
        for (int k = 0; k < REPLIES; k++) {
            struct pollfd pfd = {fd, POLLIN, 0};
            ssize_t n;
            int wl = snprintf(want, sizeof(want), "rep %d.%d", i, k);
            assert_int_equal(poll(&pfd, 1, WAIT_MS), 1);
            n = recv(fd, got, sizeof(got), 0);
            assert_int_equal(n, wl);
            assert_memory_equal(got, want, (size_t)wl);
        }
    }
    sk_tp_stop(tp, 0); /* the worker counts a send after the peer may see it */
    sk_tp_get_stats(tp, &st);
    assert_int_equal(st.rx_msgs, COUNT);
    assert_int_equal(st.tx_msgs, COUNT * REPLIES);
    assert_int_equal(e.send_errors, 0);
    sk_tp_free(tp);
    close(fd);
}

/* Request 0 stalls the worker so that 1 and 2 come in one batch; for
 * request 1 the callback sends "fwd" to another host (127.0.0.2), answers
 * the sender, then stalls again. */
static void on_recv_forward(void *arg, struct sk_rx *rx)
{
    struct echo *e = arg;
    struct sk_dest d = {.transport = SK_TP_UDP, .listener = -1};
    unsigned k = e->seen++;

    if (k == 0) {
        sleep_ms(200);
        return;
    }
    if (k != 1)
        return;
    d.addr = e->other;
    if (sk_tp_send(rx->tp, &d, "fwd", 3) != 0)
        e->send_errors++;
    d.addr = rx->peer;
    if (sk_tp_send(rx->tp, &d, "rep", 3) != 0)
        e->send_errors++;
    sleep_ms(400);
}

static int bound_udp(const char *ip, struct sk_addr *out)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    socklen_t len = sizeof(out->ss);

    assert_true(fd >= 0);
    assert_int_equal(sk_addr_parse(sk_slice_cstr(ip), 0, out), 0);
    assert_int_equal(bind(fd, &out->sa, sk_addr_len(out)), 0);
    assert_int_equal(getsockname(fd, &out->sa, &len), 0);
    return fd;
}

static void forward_elsewhere_is_not_queued(void **state)
{
    struct echo e = {0};
    struct sk_tp *tp;
    struct sk_addr srv, me;
    int fd, other;
    char got[16];
    struct pollfd pfd;

    (void)state;
    other = bound_udp("127.0.0.2", &e.other);
    fd = bound_udp("127.0.0.1", &me);
    tp = start_worker(on_recv_forward, &e);
    assert_int_equal(sk_tp_listener_addr(tp, 0, &srv), 0);
    assert_int_equal(connect(fd, &srv.sa, sk_addr_len(&srv)), 0);
    assert_int_equal(send(fd, "req 0", 5, 0), 5);
    sleep_ms(50);
    assert_int_equal(send(fd, "req 1", 5, 0), 5);
    assert_int_equal(send(fd, "req 2", 5, 0), 5);
    /* "fwd" leaves during the callback, "rep" only once the batch ends. */
    pfd = (struct pollfd){other, POLLIN, 0};
    assert_int_equal(poll(&pfd, 1, WAIT_MS), 1);
    assert_int_equal(recv(other, got, sizeof(got), 0), 3);
    assert_memory_equal(got, "fwd", 3);
    pfd = (struct pollfd){fd, POLLIN, 0};
    assert_int_equal(poll(&pfd, 1, 100), 0);
    assert_int_equal(poll(&pfd, 1, WAIT_MS), 1);
    assert_int_equal(recv(fd, got, sizeof(got), 0), 3);
    assert_memory_equal(got, "rep", 3);
    sk_tp_free(tp);
    assert_int_equal(e.send_errors, 0);
    assert_int_equal(e.seen, 3);
    close(fd);
    close(other);
}

/* RFC 5626 §3.5.1: CRLF keep-alives (and empty datagrams) are not handed
 * up; anything else of up to 4 bytes is. The check looks at the datagram's
 * bytes only, not at the older, longer datagram still in the same receive
 * slot behind them (the slot is not NUL-terminated). */
static void on_recv_count(void *arg, struct sk_rx *rx)
{
    struct echo *e = arg;

    e->seen++;
    e->send_errors = (int)rx->bytes.len; /* the last length seen */
}

static void keepalives_not_handed_up(void **state)
{
    struct echo e = {0};
    struct sk_tp *tp;
    struct sk_addr srv;
    struct sk_tp_stats st;
    char crlfs[2000];
    int fd;

    (void)state;
    for (size_t i = 0; i < sizeof(crlfs); i++)
        crlfs[i] = i % 2 == 0 ? '\r' : '\n';
    tp = start_worker(on_recv_count, &e);
    assert_int_equal(sk_tp_listener_addr(tp, 0, &srv), 0);
    fd = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, &srv.sa, sk_addr_len(&srv)), 0);
    /* Each waits for the previous one, so all land in the same slot. */
    const struct {
        const char *p;
        size_t len;
        unsigned seen;
    } steps[] = {
        {crlfs, sizeof(crlfs), 1}, {"\r\n", 2, 1},      {"\r\n\r\n", 4, 1}, {"", 0, 1},
        {"\r\nA", 3, 2},           {"\r\n\r\nX", 5, 3}, {"\n\r", 2, 3},
    };
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        assert_int_equal(send(fd, steps[i].p, steps[i].len, 0), (ssize_t)steps[i].len);
        sleep_ms(50);
        sk_tp_get_stats(tp, &st);
        for (int k = 0; k < WAIT_MS / 10 && st.rx_msgs < steps[i].seen; k++) {
            sleep_ms(10);
            sk_tp_get_stats(tp, &st);
        }
        assert_int_equal(st.rx_msgs, steps[i].seen);
    }
    sk_tp_stop(tp, 0);
    assert_int_equal(e.seen, 3);
    assert_int_equal(e.send_errors, 5);
    sk_tp_free(tp);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(batch_answers_arrive_in_order),
        cmocka_unit_test(forward_elsewhere_is_not_queued),
        cmocka_unit_test(keepalives_not_handed_up),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
