/* The rtpengine ng client (src/server/media.c) against fake rtpengine
 * instances on 127.0.0.1: a command carries the call's identifiers and
 * SDP in a bencoded dictionary behind a cookie; rtpengine's SDP comes
 * back; a lost reply is sent again with the same cookie (rtpengine then
 * answers from its cache); an instance that is not there is failed over
 * to the next, and one that stays silent gives SK_ETIMEDOUT; an "error"
 * result is SK_EIO; media.engage decides which calls are relayed. */
#include "support.h"

#include "media/bencode.h"
#include "server/media.h"

#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum mode { ANSWER, DROP_FIRST, SILENT, REFUSE };

struct fake {
    int fd;
    uint16_t port;
    enum mode mode;
    pthread_t th;
    int got;          /* datagrams received */
    char first[2048]; /* the first one */
    size_t first_len;
    bool same_twice; /* the retransmission equals the first */
};

static const char reply_sdp[] = "v=0\r\nc=IN IP4 198.51.100.1\r\nm=audio 30000 RTP/AVP 0\r\n";

static void *serve(void *arg)
{
    struct fake *f = arg;
    char buf[2048];

    for (;;) {
        struct pollfd p = {f->fd, POLLIN, 0};
        struct sockaddr_in from;
        socklen_t fl = sizeof(from);
        if (poll(&p, 1, 3000) <= 0)
            break;
        ssize_t n = recvfrom(f->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
        if (n <= 0)
            break;
        if (f->got++ == 0) {
            memcpy(f->first, buf, (size_t)n);
            f->first_len = (size_t)n;
            if (f->mode == DROP_FIRST)
                continue;
        } else {
            f->same_twice = (size_t)n == f->first_len && memcmp(buf, f->first, (size_t)n) == 0;
        }
        if (f->mode == SILENT)
            continue;
        const char *sp = memchr(buf, ' ', (size_t)n);
        if (sp == NULL)
            continue;
        struct sk_buf r;
        sk_buf_init(&r);
        sk_buf_append(&r, buf, (size_t)(sp - buf) + 1);
        sk__benc_open(&r, 'd');
        if (f->mode == REFUSE) {
            sk__benc_cstr(&r, "result");
            sk__benc_cstr(&r, "error");
            sk__benc_cstr(&r, "error-reason");
            sk__benc_cstr(&r, "Unknown call-id");
        } else {
            sk__benc_cstr(&r, "result");
            sk__benc_cstr(&r, "ok");
            sk__benc_cstr(&r, "sdp");
            sk__benc_cstr(&r, reply_sdp);
        }
        sk__benc_end(&r);
        sendto(f->fd, r.p, r.len, 0, (struct sockaddr *)&from, fl);
        sk_buf_free(&r);
    }
    return NULL;
}

static void fake_start(struct fake *f, enum mode mode)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);

    memset(f, 0, sizeof(*f));
    f->mode = mode;
    f->fd = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(f->fd >= 0);
    assert_int_equal(bind(f->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(f->fd, (struct sockaddr *)&a, &al), 0);
    f->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&f->th, NULL, serve, f), 0);
}

static void fake_stop(struct fake *f)
{
    shutdown(f->fd, SHUT_RDWR);
    pthread_join(f->th, NULL);
    close(f->fd);
}

/* A port nothing listens on: bound, then closed (ICMP port unreachable). */
static uint16_t dead_port(void)
{
    struct fake f;
    fake_start(&f, SILENT);
    fake_stop(&f);
    return f.port;
}

static struct sk__media *client(const char *engage, uint16_t p1, uint16_t p2, unsigned timeout)
{
    struct sk_server_config c;
    struct sk__media *md = NULL;
    char err[128];

    sk_server_config_init(&c);
    snprintf(c.media_engage, sizeof(c.media_engage), "%s", engage);
    if (p2 != 0)
        snprintf(c.media_rtpengine, sizeof(c.media_rtpengine), "127.0.0.1:%u, 127.0.0.1:%u", p1,
                 p2);
    else if (p1 != 0)
        snprintf(c.media_rtpengine, sizeof(c.media_rtpengine), "127.0.0.1:%u", p1);
    c.media_timeout = timeout;
    assert_int_equal(sk__media_check_config(&c, err, sizeof(err)), 0);
    assert_int_equal(sk__media_new(&md, &c), 0);
    return md;
}

static const char invite[] = "INVITE sip:bob@example.test SIP/2.0\r\n"
                             "Via: SIP/2.0/UDP 203.0.113.10:5060;branch=z9hG4bKm1\r\n"
                             "From: <sip:alice@example.test>;tag=alice-tag\r\n"
                             "To: <sip:bob@example.test>\r\n"
                             "Call-ID: media-call-1\r\n"
                             "CSeq: 1 INVITE\r\n"
                             "Content-Type: application/sdp\r\n"
                             "Content-Length: 44\r\n"
                             "\r\n"
                             "v=0\r\nc=IN IP4 203.0.113.10\r\nm=audio 4000 RTP/AVP 0";

static void parse_invite(struct sk_msg *m)
{
    sk_msg_init(m);
    assert_int_equal(sk_msg_parse(m, invite, sizeof(invite) - 1, SK_MSG_DATAGRAM, NULL), 0);
    sk_msg_set_source(m, S("198.51.100.2"), 5060);
    assert_true(sk__media_has_sdp(m));
}

static void offer_and_failover(void **state)
{
    struct sk__benc_node n[64];
    struct sk__media *md;
    struct sk_msg m;
    struct sk_buf sdp;
    struct sk_slice v;
    struct fake f;
    size_t count;
    const char *sp;

    (void)state;
    parse_invite(&m);
    /* Both orders of a dead instance and a live one. */
    for (int order = 0; order < 2; order++) {
        uint16_t dead = dead_port();
        fake_start(&f, ANSWER);
        md = order == 0 ? client("nat", dead, f.port, 200) : client("nat", f.port, dead, 200);
        sk_buf_init(&sdp);
        assert_int_equal(sk__media_sdp(md, "offer", &m, false, &sdp), 0);
        assert_string_equal(sdp.p, reply_sdp);
        fake_stop(&f);
        /* What rtpengine got: "COOKIE d...e". */
        sp = memchr(f.first, ' ', f.first_len);
        assert_non_null(sp);
        assert_int_equal(
            sk__benc_decode(sk_slice_make(sp + 1, f.first_len - (size_t)(sp + 1 - f.first)), n, 64,
                            &count),
            0);
        assert_true(sk__benc_dict_str(n, 0, "command", &v) && sk_slice_eq(v, S("offer")));
        assert_true(sk__benc_dict_str(n, 0, "call-id", &v) && sk_slice_eq(v, S("media-call-1")));
        assert_true(sk__benc_dict_str(n, 0, "from-tag", &v) && sk_slice_eq(v, S("alice-tag")));
        assert_false(sk__benc_dict_str(n, 0, "to-tag", &v));
        assert_true(sk__benc_dict_str(n, 0, "sdp", &v) && sk_slice_eq(v, m.body));
        long rf = sk__benc_dict_get(n, 0, "received-from");
        assert_true(rf > 0 && n[rf].type == SK__BENC_LIST);
        assert_true(sk_slice_eq(n[rf + 2].str, S("198.51.100.2")));
        sk_buf_free(&sdp);
        sk__media_free(md);
    }
    sk_msg_free(&m);
}

static void retransmission(void **state)
{
    struct sk__media *md;
    struct sk_msg m;
    struct sk_buf sdp;
    struct fake f;

    (void)state;
    parse_invite(&m);
    fake_start(&f, DROP_FIRST);
    md = client("always", f.port, 0, 100);
    sk_buf_init(&sdp);
    assert_int_equal(sk__media_sdp(md, "offer", &m, false, &sdp), 0);
    fake_stop(&f);
    assert_int_equal(f.got, 2);
    assert_true(f.same_twice); /* the same cookie: rtpengine's cache answers it */
    sk_buf_free(&sdp);
    sk__media_free(md);
    sk_msg_free(&m);
}

static void silent_and_refusing(void **state)
{
    struct sk__media *md;
    struct sk_msg m;
    struct sk_buf sdp;
    struct fake f;
    uint64_t t0;

    (void)state;
    parse_invite(&m);
    fake_start(&f, SILENT);
    md = client("always", f.port, 0, 100);
    sk_buf_init(&sdp);
    t0 = sk_now_ms();
    assert_int_equal(sk__media_sdp(md, "offer", &m, false, &sdp), SK_ETIMEDOUT);
    assert_true(sk_now_ms() - t0 >= 200); /* sent twice, 100 ms each */
    assert_int_equal(sdp.len, 0);
    sk__media_free(md);
    fake_stop(&f);
    assert_int_equal(f.got, 2);

    fake_start(&f, REFUSE);
    md = client("always", f.port, 0, 100);
    assert_int_equal(sk__media_sdp(md, "answer", &m, false, &sdp), SK_EIO);
    sk__media_delete(md, &m); /* logged, not fatal */
    assert_int_equal(sk__media_ping(md), 0);
    sk__media_free(md);
    fake_stop(&f);
    sk_buf_free(&sdp);
    sk_msg_free(&m);
}

static void engage_policy(void **state)
{
    struct sk__media *md;
    struct sk_server_config c;
    char err[128];

    (void)state;
    md = client("nat", 2223, 0, 100);
    assert_true(sk__media_engage(md, true));
    assert_false(sk__media_engage(md, false));
    sk__media_free(md);
    md = client("always", 2223, 0, 100);
    assert_true(sk__media_engage(md, false));
    sk__media_free(md);
    md = client("never", 2223, 0, 100);
    assert_false(sk__media_engage(md, true));
    sk__media_free(md);
    md = client("always", 0, 0, 100); /* no instance: nothing relayed */
    assert_false(sk__media_engage(md, true));
    sk__media_free(md);
    assert_false(sk__media_engage(NULL, true));

    sk_server_config_init(&c);
    snprintf(c.media_engage, sizeof(c.media_engage), "sometimes");
    assert_int_equal(sk__media_check_config(&c, err, sizeof(err)), SK_EINVAL);
    snprintf(c.media_engage, sizeof(c.media_engage), "nat");
    snprintf(c.media_rtpengine, sizeof(c.media_rtpengine), "rtpengine.example:2223");
    assert_int_equal(sk__media_check_config(&c, err, sizeof(err)), SK_EINVAL);
    snprintf(c.media_rtpengine, sizeof(c.media_rtpengine), "[::1]:2223 127.0.0.1");
    assert_int_equal(sk__media_check_config(&c, err, sizeof(err)), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(offer_and_failover),
        cmocka_unit_test(retransmission),
        cmocka_unit_test(silent_and_refusing),
        cmocka_unit_test(engage_policy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
