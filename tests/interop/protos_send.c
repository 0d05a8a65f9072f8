/*
 * protos_send: drives the PROTOS c07-sip robustness cases against a running
 * `sipkit serve` (tests/interop/protos.sh extracts the cases into a temp
 * directory and runs this tool once per transport).
 *
 * Each case file holds two records, `<decimal length> SP <bytes>`: the test
 * INVITE and a teardown request. The placeholders (<To>, <From>,
 * <From-Address>, <From-IP>, <Local-Port>, <Branch-ID>, <Call-ID>, <CSeq>,
 * <Content-Length>, <Teardown-Method>) are filled so that responses come
 * back to our socket: the Via names 127.0.0.1 and our local port (RFC 3261
 * §18.2.2 sends UDP responses to the sent-by port), Content-Length is the
 * length of the filled body so stream framing (§18.3) holds.
 *
 * After every case the tool asks the server an OPTIONS over the same
 * transport and waits (bounded) for its 200: a crash, a hang or a worker
 * stuck in a loop shows up as the first case whose OPTIONS goes
 * unanswered. UDP sends one datagram per record (records over 65507 bytes,
 * the largest UDP payload, are cut); TCP opens one connection per case,
 * writes both records, half-closes and reads until the server closes.
 *
 * Usage: protos_send udp|tcp PORT CASEDIR GROUPS.tsv EVERY [TIMEOUT_MS]
 * Sends case k when (k - first case of its group) % EVERY == 0, so every
 * group is covered. Prints one line per group; exit 0 when every OPTIONS
 * was answered, 1 otherwise. Memory: one sk_buf per role, freed at exit.
 */
#include <sipkit/base.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_UDP     65507
#define MAX_GROUPS  128
#define NAME_MAX_SZ 64

struct group {
    char name[NAME_MAX_SZ];
    unsigned first, count;
};

struct ctx {
    bool tcp;
    struct sockaddr_in server;
    unsigned timeout_ms;
    int udp;               /* UDP: the one socket for cases and probes */
    int probe;             /* TCP: the connection OPTIONS probes go on */
    struct sk_buf file;    /* the case file */
    struct sk_buf msg;     /* one filled record */
    struct sk_buf rx;      /* bytes read */
    unsigned long seq;     /* makes Call-IDs and branches unique */
    unsigned long answers; /* responses to case records (not probes) */
};

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int read_file(const char *path, struct sk_buf *b)
{
    FILE *f = fopen(path, "rb");
    char chunk[65536];
    size_t n;

    if (f == NULL)
        return -1;
    sk_buf_reset(b);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        sk_buf_append(b, chunk, n);
    fclose(f);
    return sk_buf_ok(b) ? 0 : -1;
}

/* Next record at *off: "<len> SP <bytes>". */
static int next_record(const struct sk_buf *b, size_t *off, struct sk_slice *out)
{
    size_t i = *off, len = 0;

    if (i >= b->len || b->p[i] < '0' || b->p[i] > '9')
        return -1;
    while (i < b->len && b->p[i] >= '0' && b->p[i] <= '9' && len < 100000000)
        len = len * 10 + (size_t)(b->p[i++] - '0');
    if (i >= b->len || b->p[i] != ' ' || len > b->len - i - 1)
        return -1;
    *out = sk_slice_make(b->p + i + 1, len);
    *off = i + 1 + len;
    return 0;
}

/* Bytes after the first empty line once filled. The body's own
 * placeholders (<From-Address>, <From-IP>) become "127.0.0.1", 9 bytes. */
static size_t filled_body_len(struct sk_slice rec)
{
    static const char *const ph[] = {"<From-Address>", "<From-IP>"};
    const char *end = rec.p + rec.len, *body = NULL;
    size_t n;

    for (const char *p = rec.p; p + 4 <= end; p++) {
        if (memcmp(p, "\r\n\r\n", 4) == 0) {
            body = p + 4;
            break;
        }
    }
    if (body == NULL)
        return 0;
    n = (size_t)(end - body);
    for (const char *p = body; p < end; p++) {
        for (size_t i = 0; i < 2; i++) {
            size_t pl = strlen(ph[i]);
            if ((size_t)(end - p) >= pl && memcmp(p, ph[i], pl) == 0)
                n = n - pl + 9;
        }
    }
    return n;
}

static void fill(struct ctx *c, struct sk_slice rec, unsigned port, unsigned k)
{
    const char *end = rec.p + rec.len;
    size_t body = filled_body_len(rec);

    sk_buf_reset(&c->msg);
    for (const char *p = rec.p; p < end;) {
        const char *gt = NULL;
        if (*p == '<')
            gt = memchr(p, '>', (size_t)(end - p) < 20 ? (size_t)(end - p) : 20);
        struct sk_slice name = gt != NULL ? sk_slice_make(p, (size_t)(gt - p + 1)) : SK_SLICE_NULL;
        if (gt == NULL) {
            sk_buf_append(&c->msg, p++, 1);
        } else if (sk_slice_eq(name, SK_SLICE_LIT("<To>"))) {
            sk_buf_append_cstr(&c->msg, "protos@127.0.0.1");
        } else if (sk_slice_eq(name, SK_SLICE_LIT("<From>"))) {
            sk_buf_append_cstr(&c->msg, "tester@127.0.0.1");
        } else if (sk_slice_eq(name, SK_SLICE_LIT("<From-Address>")) ||
                   sk_slice_eq(name, SK_SLICE_LIT("<From-IP>"))) {
            sk_buf_append_cstr(&c->msg, "127.0.0.1");
        } else if (sk_slice_eq(name, SK_SLICE_LIT("<Local-Port>"))) {
            sk_buf_append_u64(&c->msg, port);
        } else if (sk_slice_eq(name, SK_SLICE_LIT("<Branch-ID>")) ||
                   sk_slice_eq(name, SK_SLICE_LIT("<Call-ID>"))) {
            sk_buf_printf(&c->msg, "p%u-%lu", k, c->seq);
        } else if (sk_slice_eq(name, SK_SLICE_LIT("<CSeq>"))) {
            sk_buf_append_cstr(&c->msg, "1");
        } else if (sk_slice_eq(name, SK_SLICE_LIT("<Content-Length>"))) {
            sk_buf_append_u64(&c->msg, body);
        } else if (sk_slice_eq(name, SK_SLICE_LIT("<Teardown-Method>"))) {
            sk_buf_append_cstr(&c->msg, "CANCEL");
        } else {
            sk_buf_append(&c->msg, p++, 1);
            continue;
        }
        if (gt != NULL)
            p = gt + 1;
    }
}

/* ---- sockets ------------------------------------------------------------- */

static unsigned local_port(int fd)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);

    if (getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        return 0;
    return ntohs(a.sin_port);
}

static int tcp_connect(struct ctx *c)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;

    if (fd < 0)
        return -1;
    /* We half-close first, so our side of each of the thousands of
     * connections lingers in TIME_WAIT; marked reusable, it does not stop
     * a server (this one or the next test's) from binding that port. */
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (connect(fd, (struct sockaddr *)&c->server, sizeof(c->server)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Write everything, giving up when the server closed (it may stop
 * reading a stream it cannot frame) or after the timeout. */
static int write_all(struct ctx *c, int fd, const char *p, size_t n)
{
    int64_t deadline = now_ms() + c->timeout_ms;

    while (n > 0) {
        struct pollfd pfd = {fd, POLLOUT, 0};
        ssize_t w;
        if (poll(&pfd, 1, (int)(deadline - now_ms())) <= 0)
            return -1;
        w = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (w < 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Wait for readable data; returns bytes read, 0 on EOF, -1 on error or
 * timeout (the deadline is absolute). */
static ssize_t read_until(int fd, char *buf, size_t sz, int64_t deadline)
{
    struct pollfd pfd = {fd, POLLIN, 0};
    int64_t left = deadline - now_ms();

    if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
        return -1;
    return recv(fd, buf, sz, MSG_DONTWAIT);
}

static bool is_probe_ok(struct sk_slice r, const char *callid)
{
    char needle[96];

    snprintf(needle, sizeof(needle), "Call-ID: %s\r\n", callid);
    return r.len > 12 && memcmp(r.p, "SIP/2.0 200 ", 12) == 0 &&
           memmem(r.p, r.len, needle, strlen(needle)) != NULL;
}

/* OPTIONS to the server; true when its 200 came back in time. */
static bool probe(struct ctx *c, unsigned k)
{
    char callid[64], req[512], buf[65536];
    int64_t deadline = now_ms() + c->timeout_ms;
    int fd = c->tcp ? c->probe : c->udp;
    int n;

    snprintf(callid, sizeof(callid), "probe-%s-%u-%lu", c->tcp ? "tcp" : "udp", k, c->seq);
    if (c->tcp && fd < 0 && (fd = c->probe = tcp_connect(c)) < 0)
        return false;
    n = snprintf(req, sizeof(req),
                 "OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/%s 127.0.0.1:%u;rport;branch="
                 "z9hG4bK%s\r\nMax-Forwards: 70\r\nFrom: <sip:tester@127.0.0.1>;tag=pr\r\n"
                 "To: <sip:127.0.0.1>\r\nCall-ID: %s\r\nCSeq: 1 OPTIONS\r\n"
                 "Content-Length: 0\r\n\r\n",
                 c->tcp ? "TCP" : "UDP", local_port(fd), callid, callid);
    if (c->tcp
            ? write_all(c, fd, req, (size_t)n) != 0
            : sendto(fd, req, (size_t)n, 0, (struct sockaddr *)&c->server, sizeof(c->server)) != n)
        goto broken;
    sk_buf_reset(&c->rx);
    for (;;) {
        ssize_t r = read_until(fd, buf, sizeof(buf), deadline);
        if (r <= 0)
            goto broken;
        if (!c->tcp) {
            if (is_probe_ok(sk_slice_make(buf, (size_t)r), callid))
                return true;
            c->answers++; /* a late answer to a case record */
            continue;
        }
        sk_buf_append(&c->rx, buf, (size_t)r);
        if (sk_buf_ok(&c->rx) && memmem(c->rx.p, c->rx.len, callid, strlen(callid)) != NULL &&
            memmem(c->rx.p, c->rx.len, "\r\n\r\n", 4) != NULL)
            return is_probe_ok(sk_buf_slice(&c->rx), callid);
    }
broken:
    if (c->tcp && c->probe >= 0) {
        close(c->probe);
        c->probe = -1;
    }
    return false;
}

/* ---- one case ------------------------------------------------------------ */

static void count_answers(struct ctx *c, const char *p, size_t n)
{
    for (const char *q = p; (q = memmem(q, n - (size_t)(q - p), "SIP/2.0 ", 8)) != NULL; q += 8) {
        if (q == p || q[-1] == '\n')
            c->answers++;
    }
}

static int send_case_udp(struct ctx *c, unsigned k)
{
    size_t off = 0;
    struct sk_slice rec;
    unsigned port = local_port(c->udp);

    while (next_record(&c->file, &off, &rec) == 0) {
        fill(c, rec, port, k);
        if (!sk_buf_ok(&c->msg))
            return -1;
        size_t n = c->msg.len > MAX_UDP ? MAX_UDP : c->msg.len;
        if (sendto(c->udp, c->msg.p, n, 0, (struct sockaddr *)&c->server, sizeof(c->server)) < 0)
            return -1;
    }
    return 0;
}

static int send_case_tcp(struct ctx *c, unsigned k)
{
    size_t off = 0;
    struct sk_slice rec;
    int fd = tcp_connect(c);
    int64_t deadline;
    char buf[65536];
    ssize_t r;

    if (fd < 0)
        return -1;
    while (next_record(&c->file, &off, &rec) == 0) {
        fill(c, rec, local_port(fd), k);
        if (!sk_buf_ok(&c->msg) || write_all(c, fd, c->msg.p, c->msg.len) != 0)
            break; /* the server closed a stream it could not frame */
    }
    shutdown(fd, SHUT_WR);
    /* The server closes once it has read our FIN: everything before it has
     * been handled. Not closing in time is a hang. */
    deadline = now_ms() + c->timeout_ms;
    while ((r = read_until(fd, buf, sizeof(buf), deadline)) > 0)
        count_answers(c, buf, (size_t)r);
    close(fd);
    if (r < 0 && errno != ECONNRESET)
        return -1;
    return 0;
}

static int load_groups(const char *path, struct group *g, size_t *ng)
{
    FILE *f = fopen(path, "r");
    char line[256];

    if (f == NULL)
        return -1;
    *ng = 0;
    while (fgets(line, sizeof(line), f) != NULL && *ng < MAX_GROUPS) {
        char *t1 = strchr(line, '\t'), *t2 = t1 != NULL ? strchr(t1 + 1, '\t') : NULL;
        if (t2 == NULL || line[0] == 'g' /* header */)
            continue;
        size_t nl = (size_t)(t1 - line) < NAME_MAX_SZ - 1 ? (size_t)(t1 - line) : NAME_MAX_SZ - 1;
        memcpy(g[*ng].name, line, nl);
        g[*ng].name[nl] = '\0';
        g[*ng].first = (unsigned)strtoul(t1 + 1, NULL, 10);
        g[*ng].count = (unsigned)strtoul(t2 + 1, NULL, 10);
        (*ng)++;
    }
    fclose(f);
    return *ng > 0 ? 0 : -1;
}

static int run_group(struct ctx *c, const char *dir, const struct group *g, unsigned every)
{
    char path[4096];
    unsigned sent = 0;
    unsigned long before = c->answers;

    for (unsigned k = g->first; k < g->first + g->count; k += every) {
        c->seq++;
        snprintf(path, sizeof(path), "%s/%07u", dir, k);
        if (read_file(path, &c->file) != 0) {
            printf("FAIL: cannot read case %s\n", path);
            return -1;
        }
        if ((c->tcp ? send_case_tcp(c, k) : send_case_udp(c, k)) != 0) {
            printf("FAIL: %s case %07u (%s): server did not take or close the case in time\n",
                   c->tcp ? "tcp" : "udp", k, g->name);
            return -1;
        }
        if (!probe(c, k)) {
            printf("FAIL: %s case %07u (%s): no 200 to OPTIONS within %u ms after it\n",
                   c->tcp ? "tcp" : "udp", k, g->name, c->timeout_ms);
            return -1;
        }
        sent++;
    }
    printf("ok: %s %-32s cases=%-4u answers=%lu\n", c->tcp ? "tcp" : "udp", g->name, sent,
           c->answers - before);
    return 0;
}

int main(int argc, char **argv)
{
    struct ctx c = {.udp = -1, .probe = -1, .timeout_ms = 5000};
    struct group groups[MAX_GROUPS];
    size_t ng;
    unsigned every, total = 0;
    int rc = 0;
    int64_t t0 = now_ms();

    if (argc < 6 || (strcmp(argv[1], "udp") != 0 && strcmp(argv[1], "tcp") != 0)) {
        fprintf(stderr, "usage: protos_send udp|tcp PORT CASEDIR GROUPS.tsv EVERY [TIMEOUT_MS]\n");
        return 2;
    }
    c.tcp = strcmp(argv[1], "tcp") == 0;
    c.server.sin_family = AF_INET;
    c.server.sin_port = htons((uint16_t)strtoul(argv[2], NULL, 10));
    c.server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    every = (unsigned)strtoul(argv[5], NULL, 10);
    if (argc > 6)
        c.timeout_ms = (unsigned)strtoul(argv[6], NULL, 10);
    if (every == 0 || load_groups(argv[4], groups, &ng) != 0) {
        fprintf(stderr, "protos_send: bad EVERY or unreadable %s\n", argv[4]);
        return 2;
    }
    sk_buf_init(&c.file);
    sk_buf_init(&c.msg);
    sk_buf_init(&c.rx);
    if (!c.tcp) {
        int sz = 4 << 20;
        c.udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        setsockopt(c.udp, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
        if (c.udp < 0 || connect(c.udp, (struct sockaddr *)&c.server, sizeof(c.server)) != 0) {
            perror("protos_send: udp socket");
            rc = 1;
        }
    }
    for (size_t i = 0; rc == 0 && i < ng; i++) {
        if (run_group(&c, argv[3], &groups[i], every) != 0)
            rc = 1;
        total += (groups[i].count + every - 1) / every;
    }
    if (rc == 0)
        printf("ok: %s cases=%u answers=%lu seconds=%.1f\n", argv[1], total, c.answers,
               (double)(now_ms() - t0) / 1000.0);
    if (c.udp >= 0)
        close(c.udp);
    if (c.probe >= 0)
        close(c.probe);
    sk_buf_free(&c.file);
    sk_buf_free(&c.msg);
    sk_buf_free(&c.rx);
    return rc;
}
