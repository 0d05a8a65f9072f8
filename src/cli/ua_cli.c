/*
 * Shared machinery of the client commands: common options, the password
 * (--password, --password-stdin, SIPKIT_PASSWORD), the UA, the -v ladder
 * (one line per message, each response explained from the codes catalog;
 * -vv adds the whole message), waiting with a deadline and Ctrl-C, and the
 * exit status and stderr sentence for every outcome (docs/cli.md).
 */
#include "cli/ua_cli.h"
#include "cli/cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sipkit/codes.h>

#ifndef SK_VERSION
#define SK_VERSION "0"
#endif

volatile sig_atomic_t sk_cli_interrupted;

static void on_signal(int sig)
{
    (void)sig;
    sk_cli_interrupted = 1;
}

void sk_cli_ua_init(struct sk_cli_ua *c, const char *cmd)
{
    memset(c, 0, sizeof(*c));
    c->cmd = cmd;
    c->transport = SK_TP_UDP;
    c->timeout_s = -1;
}

int sk_cli_opt(const char *cmd, int argc, char **argv, int *i, const char *name, const char **value)
{
    size_t n = strlen(name);

    if (strncmp(argv[*i], name, n) != 0)
        return 0;
    if (argv[*i][n] == '=') {
        *value = argv[*i] + n + 1;
        return 1;
    }
    if (argv[*i][n] != '\0')
        return 0;
    if (*i + 1 >= argc) {
        sk_cli_error(cmd, "%s needs a value", name);
        return -1;
    }
    *value = argv[++*i];
    return 1;
}

int sk_cli_number(const char *cmd, const char *opt, const char *s, long min, long max, long *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
        sk_cli_error(cmd, "%s must be a whole number from %ld to %ld, not '%s'", opt, min, max, s);
        return -1;
    }
    *out = v;
    return 0;
}

int sk_cli_ua_option(struct sk_cli_ua *c, int argc, char **argv, int *i)
{
    const char *a = argv[*i], *v = NULL;
    int r;

    if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
        c->verbose++;
        return 1;
    }
    if (strcmp(a, "-vv") == 0) {
        c->verbose += 2;
        return 1;
    }
    if (strcmp(a, "--json") == 0) {
        c->json = true;
        return 1;
    }
    if (strcmp(a, "--insecure") == 0) {
        c->insecure = true;
        return 1;
    }
    if (strcmp(a, "--password-stdin") == 0) {
        c->password_stdin = true;
        return 1;
    }
    if ((r = sk_cli_opt(c->cmd, argc, argv, i, "--user", &c->user)) != 0 ||
        (r = sk_cli_opt(c->cmd, argc, argv, i, "--password", &c->password)) != 0 ||
        (r = sk_cli_opt(c->cmd, argc, argv, i, "--auth-user", &c->auth_user)) != 0 ||
        (r = sk_cli_opt(c->cmd, argc, argv, i, "--proxy", &c->proxy)) != 0 ||
        (r = sk_cli_opt(c->cmd, argc, argv, i, "--local", &c->local)) != 0 ||
        (r = sk_cli_opt(c->cmd, argc, argv, i, "--tls-ca", &c->tls_ca)) != 0)
        return r;
    if ((r = sk_cli_opt(c->cmd, argc, argv, i, "--transport", &v)) != 0) {
        if (r < 0)
            return r;
        if (strcmp(v, "udp") == 0 || strcmp(v, "UDP") == 0) {
            c->transport = SK_TP_UDP;
        } else if (strcmp(v, "tcp") == 0 || strcmp(v, "TCP") == 0) {
            c->transport = SK_TP_TCP;
        } else if (strcmp(v, "tls") == 0 || strcmp(v, "TLS") == 0) {
            c->transport = SK_TP_TLS;
        } else {
            sk_cli_error(c->cmd, "--transport must be udp, tcp or tls, not '%s'", v);
            return -1;
        }
        return 1;
    }
    if ((r = sk_cli_opt(c->cmd, argc, argv, i, "--timeout", &v)) != 0) {
        long t;
        if (r < 0 || sk_cli_number(c->cmd, "--timeout", v, 0, 86400, &t) != 0)
            return -1;
        c->timeout_s = (int)t;
        return 1;
    }
    return 0;
}

void sk_cli_ua_usage(FILE *out)
{
    fprintf(out,
            "shared options:\n"
            "  --user AOR            our address of record (From; the digest user)\n"
            "  --password PASS       digest password (visible to other users: prefer the next)\n"
            "  --password-stdin      read the password from the first line of stdin\n"
            "                        (or set SIPKIT_PASSWORD)\n"
            "  --auth-user NAME      digest username when it differs from the AOR's user\n"
            "  --proxy HOST:PORT     send every request to this outbound proxy\n"
            "  --transport udp|tcp|tls  default udp; tls goes to port 5061 unless given\n"
            "  --tls-ca FILE         TLS: verify the server against this CA bundle\n"
            "                        (default: the system's), chain and host name\n"
            "  --insecure            TLS: do not verify the server's certificate\n"
            "  --local ADDR:PORT     local address to bind (default: any, a free port)\n"
            "  --timeout SECONDS     how long to wait for a final response\n"
            "  -v, -vv               ladder of every message (-vv: with the messages)\n"
            "  --json                machine-readable result on stdout\n");
}

char *sk_cli_uri(const char *s)
{
    size_t n = strlen(s);
    char *u;

    if (strncmp(s, "sip:", 4) == 0 || strncmp(s, "sips:", 5) == 0)
        return strdup(s);
    u = malloc(n + 5);
    if (u != NULL) {
        memcpy(u, "sip:", 4);
        memcpy(u + 4, s, n + 1);
    }
    return u;
}

/* ---- ladder --------------------------------------------------------------- */

uint64_t sk_cli_ua_now(const struct sk_cli_ua *c)
{
    return sk_now_ms() - c->t0;
}

static void trace(void *arg, enum sk_trace_dir dir, const struct sk_addr *peer,
                  const struct sk_msg *m, struct sk_slice bytes)
{
    struct sk_cli_ua *c = arg;
    char addr[SK_ADDR_STRLEN], label[160];
    uint64_t t = sk_cli_ua_now(c);
    bool out = dir == SK_TRACE_OUT;
    size_t len, w = 46;

    if (c->verbose == 0)
        return;
    sk_addr_format(peer, addr, sizeof(addr));
    if (m == NULL)
        snprintf(label, sizeof(label), "(%zu bytes that do not parse)", bytes.len);
    else if (m->is_request)
        snprintf(label, sizeof(label), "%.*s (CSeq %lu)", (int)m->method.len, m->method.p,
                 (unsigned long)m->cseq.num);
    else
        snprintf(label, sizeof(label), "%u %.*s (%.*s)", m->status, (int)m->reason.len, m->reason.p,
                 (int)m->cseq.method.len, m->cseq.method.p);
    len = strlen(label);
    fprintf(stderr, "%4lu.%03lu  ", (unsigned long)(t / 1000), (unsigned long)(t % 1000));
    /* A fixed-width arrow between us (left) and the peer (right). */
    if (out) {
        fprintf(stderr, "|-- %s ", label);
        for (size_t i = len; i < w; i++)
            fputc('-', stderr);
        fprintf(stderr, ">| %s %s\n", sk_transport_name(peer->tp), addr);
    } else {
        fprintf(stderr, "|<");
        for (size_t i = len; i < w; i++)
            fputc('-', stderr);
        fprintf(stderr, " %s --| %s %s\n", label, sk_transport_name(peer->tp), addr);
    }
    if (m != NULL && !m->is_request) {
        struct sk_buf b;
        sk_buf_init(&b);
        sk_code_format_line(&b, m->status);
        fprintf(stderr, "          |   %s\n", sk_buf_ok(&b) ? b.p : "");
        sk_buf_free(&b);
    }
    if (c->verbose > 1) {
        const char *p = bytes.p, *end = bytes.p + bytes.len;
        while (p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            size_t l = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
            if (l > 0 && p[l - 1] == '\r')
                l--;
            fprintf(stderr, "          |     %.*s\n", (int)l, p);
            p = nl != NULL ? nl + 1 : end;
        }
    }
}

/* ---- start and stop ---------------------------------------------------------- */

static int read_password(struct sk_cli_ua *c, const char **out)
{
    const char *env = getenv("SIPKIT_PASSWORD");

    *out = NULL;
    if (c->password_stdin) {
        size_t n;
        if (fgets(c->pwbuf, sizeof(c->pwbuf), stdin) == NULL) {
            sk_cli_error(c->cmd, "--password-stdin: no password on standard input");
            return SK_EXIT_USAGE;
        }
        n = strlen(c->pwbuf);
        while (n > 0 && (c->pwbuf[n - 1] == '\n' || c->pwbuf[n - 1] == '\r'))
            c->pwbuf[--n] = '\0';
        *out = c->pwbuf;
    } else if (c->password != NULL) {
        *out = c->password;
    } else if (env != NULL) {
        *out = env;
    }
    return SK_EXIT_OK;
}

int sk_cli_ua_start(struct sk_cli_ua *c, const char *aor)
{
    struct sk_ua_config cfg;
    struct sigaction sa;
    const char *pw;
    char *u;
    int rc;

    c->t0 = sk_now_ms();
    u = sk_cli_uri(c->user != NULL ? c->user : aor);
    if (u == NULL || strlen(u) >= sizeof(c->aor)) {
        free(u);
        sk_cli_error(c->cmd, "address of record too long");
        return SK_EXIT_USAGE;
    }
    memcpy(c->aor, u, strlen(u) + 1);
    free(u);
    rc = read_password(c, &pw);
    if (rc != SK_EXIT_OK)
        return rc;
    memset(&cfg, 0, sizeof(cfg));
    cfg.aor = c->aor;
    cfg.auth_user = c->auth_user;
    cfg.password = pw;
    cfg.proxy = c->proxy;
    cfg.transport = c->transport;
    cfg.tls_ca = c->tls_ca;
    cfg.tls_insecure = c->insecure;
    cfg.local = c->local;
    cfg.user_agent = "sipkit/" SK_VERSION;
    cfg.on_trace = trace;
    cfg.trace_arg = c;
    cfg.on_request = c->on_request;
    cfg.request_arg = c->request_arg;
    cfg.on_ack = c->on_ack;
    cfg.ack_arg = c->ack_arg;
    cfg.on_no_ack = c->on_no_ack;
    cfg.no_ack_arg = c->no_ack_arg;
    rc = sk_ua_new(&c->ua, &cfg);
    memset(c->pwbuf, 0, sizeof(c->pwbuf));
    if (rc == SK_EINVAL) {
        sk_cli_error(c->cmd, "invalid address: check the AOR '%s'%s%s%s%s", c->aor,
                     c->proxy ? ", --proxy " : "", c->proxy ? c->proxy : "",
                     c->local ? ", --local " : "", c->local ? c->local : "");
        return SK_EXIT_USAGE;
    }
    if (rc != 0) {
        sk_cli_error(c->cmd, "cannot open a %s socket%s%s: %s", sk_transport_name(c->transport),
                     c->local ? " on " : "", c->local ? c->local : "", sk_strerror(rc));
        return rc == SK_ENOMEM ? SK_EXIT_SYSTEM : SK_EXIT_NETWORK;
    }
    /* No SA_RESTART: poll() returns EINTR so Ctrl-C is seen at once. */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    return SK_EXIT_OK;
}

void sk_cli_ua_stop(struct sk_cli_ua *c)
{
    sk_ua_free(c->ua);
    c->ua = NULL;
}

/* ---- waiting -------------------------------------------------------------- */

uint64_t sk_cli_ua_deadline(const struct sk_cli_ua *c, int default_s)
{
    int s = c->timeout_s >= 0 ? c->timeout_s : default_s;

    ((struct sk_cli_ua *)c)->wait_s = s;
    return s == 0 ? 0 : sk_cli_ua_now(c) + (uint64_t)s * 1000;
}

static int poll_until(struct sk_cli_ua *c, uint64_t deadline)
{
    uint64_t now = sk_cli_ua_now(c);
    int wait = 1000;

    if (deadline != 0) {
        if (now >= deadline)
            return 1;
        if (deadline - now < 1000)
            wait = (int)(deadline - now);
    }
    sk_ua_poll(c->ua, wait);
    return 0;
}

int sk_cli_ua_wait(struct sk_cli_ua *c, struct sk_ua_req *r, uint64_t deadline_ms)
{
    while (sk_ua_req_outcome(r) == SK_UA_PENDING) {
        if (sk_cli_interrupted)
            return 2;
        if (poll_until(c, deadline_ms) != 0)
            return 1;
    }
    return 0;
}

void sk_cli_ua_sleep(struct sk_cli_ua *c, uint64_t ms, const bool *stop)
{
    uint64_t deadline = sk_cli_ua_now(c) + ms;

    while (!sk_cli_interrupted && (stop == NULL || !*stop)) {
        if (poll_until(c, deadline) != 0)
            return;
    }
}

/* ---- outcomes ------------------------------------------------------------- */

int sk_cli_ua_report_timeout(struct sk_cli_ua *c, struct sk_ua_req *r, bool provisional)
{
    char addr[SK_ADDR_STRLEN];
    const struct sk_addr *peer = sk_ua_req_peer(r);

    sk_addr_format(peer, addr, sizeof(addr));
    if (provisional)
        sk_cli_error(c->cmd, "no answer from %s (%s) within %d s (it is ringing; cancelled)", addr,
                     sk_transport_name(peer->tp), c->wait_s);
    else if (sk_ua_req_outcome(r) == SK_UA_TIMEOUT)
        sk_cli_error(c->cmd, "no response from %s (%s) within 32 s (transaction timeout)", addr,
                     sk_transport_name(peer->tp));
    else
        sk_cli_error(c->cmd, "no response from %s (%s) within %d s", addr,
                     sk_transport_name(peer->tp), c->wait_s);
    return SK_EXIT_TIMEOUT;
}

int sk_cli_ua_report(struct sk_cli_ua *c, struct sk_ua_req *r)
{
    const struct sk_addr *peer = sk_ua_req_peer(r);
    const char *realm = sk_ua_req_realm(r);
    char addr[SK_ADDR_STRLEN];
    unsigned st = sk_ua_req_status(r);
    struct sk_buf b;

    sk_addr_format(peer, addr, sizeof(addr));
    switch (sk_ua_req_outcome(r)) {
    case SK_UA_FINAL:
        if (st >= 200 && st < 300)
            return SK_EXIT_OK;
        sk_buf_init(&b);
        sk_code_format_line(&b, st);
        sk_cli_error(c->cmd, "%s answered %s", addr, sk_buf_ok(&b) ? b.p : "");
        sk_buf_free(&b);
        return SK_EXIT_FAIL;
    case SK_UA_PENDING:
    case SK_UA_TIMEOUT:
        return sk_cli_ua_report_timeout(c, r, false);
    case SK_UA_NETWORK:
        if (peer->tp == SK_TP_TLS && sk_ua_req_error(r) == -EPROTO) {
            sk_cli_error(c->cmd,
                         "TLS handshake with %s failed: its certificate does not verify "
                         "against %s or does not name the host given (--insecure skips the "
                         "check)",
                         addr, c->tls_ca != NULL ? c->tls_ca : "the system's CA bundle");
            return SK_EXIT_NETWORK;
        }
        sk_cli_error(c->cmd, "network error sending to %s (%s): %s", addr,
                     sk_transport_name(peer->tp), sk_strerror(sk_ua_req_error(r)));
        return SK_EXIT_NETWORK;
    case SK_UA_AUTH_REFUSED:
        sk_cli_error(c->cmd,
                     "wrong credentials: %s refused the password for user '%s' in realm "
                     "'%s' (challenged again after we answered)",
                     addr, sk_ua_auth_user(c->ua), realm);
        return SK_EXIT_AUTH;
    case SK_UA_AUTH_MISSING:
        sk_cli_error(c->cmd,
                     "%s asks for credentials (realm '%s'): give the password with "
                     "--password-stdin, --password or SIPKIT_PASSWORD",
                     addr, realm);
        return SK_EXIT_AUTH;
    case SK_UA_AUTH_UNUSABLE:
        sk_cli_error(c->cmd,
                     "%s sent a challenge sipkit cannot answer (realm '%s'): no Digest "
                     "challenge with a supported algorithm and qop",
                     addr, realm);
        return SK_EXIT_AUTH;
    }
    return SK_EXIT_FAIL;
}

void sk_cli_print_headers(FILE *out, const struct sk_msg *m, enum sk_hdr_id id)
{
    for (size_t i = 0; i < m->nhdrs; i++) {
        if (m->hdrs[i].id == id)
            fprintf(out, "%s: %.*s\n", sk_hdr_name(id), (int)m->hdrs[i].value.len,
                    m->hdrs[i].value.p);
    }
}

void sk_cli_json_header(struct sk_buf *b, const char *name, const struct sk_msg *m,
                        enum sk_hdr_id id)
{
    const struct sk_hdr *h = m != NULL ? sk_msg_find(m, id) : NULL;

    sk_buf_printf(b, "\"%s\":", name);
    if (h != NULL)
        sk_buf_append_json(b, h->value);
    else
        sk_buf_append_cstr(b, "null");
}

void sk_cli_default_request(struct sk_cli_ua *c, struct sk_txn *txn, const struct sk_msg *req)
{
    /* §11.2: OPTIONS is answered; a request for an unknown dialog gets
     * 481 (§12.2.2); anything else 405 with Allow. */
    if (req->method_id == SK_METHOD_OPTIONS)
        sk_ua_respond(c->ua, txn, 200, NULL, NULL, NULL, SK_SLICE_NULL);
    else if (req->to.tag.len > 0 || req->method_id == SK_METHOD_CANCEL)
        sk_ua_respond(c->ua, txn, 481, NULL, NULL, NULL, SK_SLICE_NULL);
    else
        sk_ua_respond(c->ua, txn, 405, NULL, NULL, NULL, SK_SLICE_NULL);
}
