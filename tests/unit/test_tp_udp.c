/* Unit tests for the UDP path of the transport: datagrams read in one
 * batch are all handed up, and what the receive callback sends while a
 * batch is handled (queued, then sent with sendmmsg) reaches the peer
 * complete and in order, even when the callback reuses its buffer and
 * sends more than the queue holds. Loopback only; every wait is bounded. */
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
};

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
    struct sk_listener l = {0};
    struct sk_tp_config c = {0};
    struct sk_tp *tp = NULL;
    struct sk_addr srv;
    struct sk_tp_stats st;
    int fd;
    char got[128], want[64];

    (void)state;
    assert_int_equal(sk_addr_parse(S("127.0.0.1:0"), 0, &l.addr), 0);
    c.listeners = &l;
    c.nlisteners = 1;
    c.workers = 1;
    c.runtime.tcp_max_connections = 4;
    c.runtime.tcp_max_buffer = 65536;
    c.on_recv = on_recv;
    c.recv_arg = &e;
    assert_int_equal(sk_tp_new(&tp, &c), 0);
    assert_int_equal(sk_tp_start(tp), 0);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(batch_answers_arrive_in_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
