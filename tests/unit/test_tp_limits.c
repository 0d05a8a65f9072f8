/* Unit tests for the transport's limits on TCP: tcp_max_connections is
 * lowered to what the open-file limit allows and the transport refuses to
 * start without room for connections; tcp_max_per_address refuses the
 * connection over the cap and frees the slot when a connection closes.
 * Loopback only; every wait is bounded. */
#include "support.h"

#include "transport/internal.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define WAIT_MS 3000

static void on_recv_nop(void *arg, struct sk_rx *rx)
{
    (void)arg, (void)rx;
}

static int new_tp(struct sk_tp **tp, unsigned workers, unsigned max_conns, unsigned per_address)
{
    struct sk_listener l = {0};
    struct sk_tp_config c = {0};

    assert_int_equal(sk_addr_parse(S("127.0.0.1:0"), 0, &l.addr), 0);
    c.listeners = &l;
    c.nlisteners = 1;
    c.workers = workers;
    c.runtime.tcp_max_connections = max_conns;
    c.runtime.tcp_max_per_address = per_address;
    c.runtime.tcp_max_buffer = 65536;
    c.on_recv = on_recv_nop;
    c.fd_reserve = 64;
    return sk_tp_new(tp, &c);
}

static void with_soft_limit(rlim_t soft, struct rlimit *saved)
{
    struct rlimit rl;

    assert_int_equal(getrlimit(RLIMIT_NOFILE, saved), 0);
    rl = *saved;
    rl.rlim_cur = soft;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
}

static void max_connections_fit_the_fd_limit(void **state)
{
    struct rlimit saved;
    struct sk_tp *tp = NULL;
    (void)state;

    with_soft_limit(1024, &saved);
    assert_int_equal(new_tp(&tp, 2, 4096, 64), 0);
    /* 1024 - (16 + 64 + 2 workers * (2 sockets + 6)) */
    assert_int_equal(atomic_load(&tp->max_conns), 928);
    sk_tp_free(tp);
    tp = NULL;
    /* 8 workers need 16 + 64 + 64 and room for 16 connections. */
    with_soft_limit(150, &(struct rlimit){0});
    assert_int_equal(new_tp(&tp, 8, 4096, 64), -EMFILE);
    assert_null(tp);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &saved), 0);
}

static int connect_to(const struct sk_addr *srv)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    assert_int_equal(connect(fd, &srv->sa, sk_addr_len(srv)), 0);
    return fd;
}

/* 1 when the server closed fd within ms, 0 when it is still open. */
static int closed_within(int fd, int ms)
{
    struct pollfd p = {fd, POLLIN, 0};
    char b[16];

    if (poll(&p, 1, ms) != 1)
        return 0;
    return recv(fd, b, sizeof(b), 0) <= 0;
}

static unsigned accepted(struct sk_tp *tp, unsigned want)
{
    struct sk_tp_stats st;

    for (int i = 0; i < WAIT_MS / 10; i++) {
        sk_tp_get_stats(tp, &st);
        if (st.tcp_accepted >= want)
            break;
        nanosleep(&(struct timespec){0, 10 * 1000000L}, NULL);
    }
    return (unsigned)st.tcp_accepted;
}

static void per_address_cap(void **state)
{
    struct sk_tp *tp = NULL;
    struct sk_addr srv;
    struct sk_tp_stats st;
    int a, b, c, d;
    (void)state;

    assert_int_equal(new_tp(&tp, 1, 100, 2), 0);
    assert_int_equal(sk_tp_start(tp), 0);
    assert_int_equal(sk_tp_listener_addr(tp, 0, &srv), 0);
    a = connect_to(&srv);
    b = connect_to(&srv);
    assert_int_equal(accepted(tp, 2), 2);
    c = connect_to(&srv);
    assert_int_equal(closed_within(c, WAIT_MS), 1); /* the third: refused */
    assert_int_equal(closed_within(a, 100), 0);
    assert_int_equal(closed_within(b, 100), 0);
    sk_tp_get_stats(tp, &st);
    assert_int_equal(st.tcp_refused, 1);
    /* Closing one gives its slot back. */
    close(a);
    for (int i = 0; i < WAIT_MS / 10; i++) {
        sk_tp_get_stats(tp, &st);
        if (st.tcp_closed >= 1)
            break;
        nanosleep(&(struct timespec){0, 10 * 1000000L}, NULL);
    }
    d = connect_to(&srv);
    assert_int_equal(accepted(tp, 3), 3);
    assert_int_equal(closed_within(d, 100), 0);
    sk_tp_stop(tp, 0);
    sk_tp_free(tp);
    close(b);
    close(c);
    close(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(max_connections_fit_the_fd_limit),
        cmocka_unit_test(per_address_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
