/*
 * The user agent: identity, the transaction table wired to our sockets (or
 * to a test hook), the receive path and the event loop step.
 *
 * RFC 3261 §8.1.1.7 and RFC 3581 §3: every request's top Via carries our
 * address, a fresh z9hG4bK branch and an empty rport, so responses find us
 * behind NAT; §8.1.1.8: Contact is where we take requests; §18.1.2: a
 * response is handed to the transaction layer, which matches it by branch
 * (§17.1.3). Requests that arrive (INVITE, NOTIFY, BYE, ...) get a server
 * transaction and go to the application's callback.
 *
 * Memory: struct sk_ua copies every configuration string; the received
 * message is parsed into one reused struct sk_msg whose bytes belong to the
 * transport for the duration of the callbacks.
 */
#include "ua/ua_int.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>

#define MOD "ua"

char *sk__ua_strdup(struct sk_slice s)
{
    return sk_strndup(s.len ? s.p : "", s.len);
}

static char *dup_opt(const char *s, bool *failed)
{
    char *p;

    if (s == NULL)
        return NULL;
    p = sk_strndup(s, strlen(s));
    if (p == NULL)
        *failed = true;
    return p;
}

void sk_ua_token(char out[17])
{
    char branch[SK_TXN_BRANCH_LEN + 1];

    sk_txn_make_branch(branch);
    memcpy(out, branch + 7, 16);
    out[16] = '\0';
}

const char *sk_ua_local(const struct sk_ua *ua)
{
    return ua->local_str;
}

const char *sk_ua_contact(const struct sk_ua *ua)
{
    return ua->contact;
}

const char *sk_ua_aor(const struct sk_ua *ua)
{
    return ua->aor;
}

const char *sk_ua_auth_user(const struct sk_ua *ua)
{
    return ua->auth_name;
}

const char *sk_ua_from(const struct sk_ua *ua)
{
    return ua->from;
}

/* Our Contact URI for the current local address (§8.1.1.8), with the AOR's
 * user so that a registrar's binding reads naturally. */
static void set_local(struct sk_ua *ua, const struct sk_addr *a)
{
    char user[128];

    sk_addr_format(a, ua->local_str, sizeof(ua->local_str));
    sk_slice_to_cstr(ua->aor_uri.user, user, sizeof(user));
    snprintf(ua->contact, sizeof(ua->contact), "sip:%s%s%s%s", user, user[0] ? "@" : "",
             ua->local_str,
             ua->cfg.transport == SK_TP_TCP   ? ";transport=tcp"
             : ua->cfg.transport == SK_TP_TLS ? ";transport=tls"
                                              : "");
}

int sk__ua_prepare_local(struct sk_ua *ua, const struct sk_addr *dst)
{
    struct sk_addr a;
    int rc;

    if (ua->net == NULL)
        return 0;
    rc = sk__net_local_for(ua->net, dst, &a);
    if (rc == 0)
        set_local(ua, &a);
    return rc;
}

int sk_ua_prepare(struct sk_ua *ua, const struct sk_addr *dst)
{
    return sk__ua_prepare_local(ua, dst);
}

void sk__ua_via(struct sk_ua *ua, struct sk_buf *out, const char *branch)
{
    sk_msg_add_headerf(out, "Via", "SIP/2.0/%s %s;rport;branch=%s",
                       sk_transport_via_name(ua->cfg.transport), ua->local_str, branch);
}

void sk__ua_trace(struct sk_ua *ua, enum sk_trace_dir dir, const struct sk_addr *peer,
                  const char *data, size_t len)
{
    struct sk_msg m;

    if (ua->cfg.on_trace == NULL)
        return;
    sk_msg_init(&m);
    int rc = sk_msg_parse(&m, data, len, SK_MSG_DATAGRAM, NULL);
    ua->cfg.on_trace(ua->cfg.trace_arg, dir, peer, rc == 0 ? &m : NULL, sk_slice_make(data, len));
    sk_msg_free(&m);
}

int sk__ua_send(struct sk_ua *ua, const struct sk_addr *dst, const char *data, size_t len)
{
    sk__ua_trace(ua, SK_TRACE_OUT, dst, data, len);
    if (ua->cfg.send != NULL)
        return ua->cfg.send(ua->cfg.send_arg, dst, data, len);
    return sk__net_send(ua->net, dst, data, len);
}

int sk_ua_resolve(const struct sk_ua *ua, struct sk_slice host, uint16_t port, struct sk_addr *out)
{
    char name[256], serv[8];
    struct addrinfo hints, *res = NULL;

    if (host.len >= 2 && host.p[0] == '[' && host.p[host.len - 1] == ']')
        host = sk_slice_make(host.p + 1, host.len - 2);
    if (host.len == 0 || host.len >= sizeof(name))
        return SK_ENOTFOUND;
    sk_slice_to_cstr(host, name, sizeof(name));
    snprintf(serv, sizeof(serv), "%u", (unsigned)port);
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = ua->cfg.transport == SK_TP_UDP ? SOCK_DGRAM : SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
    /* With a bound local address, only its family can be used. */
    if (ua->local.sslen != 0)
        hints.ai_family = ua->local.sa.sa_family;
    if (getaddrinfo(name, serv, &hints, &res) != 0 || res == NULL)
        return SK_ENOTFOUND;
    memset(out, 0, sizeof(*out));
    memcpy(&out->ss, res->ai_addr, res->ai_addrlen);
    out->sslen = (socklen_t)res->ai_addrlen;
    out->tp = ua->cfg.transport;
    freeaddrinfo(res);
    /* RFC 5922: a TLS server proves the name we were given. */
    if (ua->net != NULL && ua->cfg.transport == SK_TP_TLS)
        sk__net_expect_name(ua->net, out, name);
    return 0;
}

uint16_t sk__ua_default_port(const struct sk_ua *ua)
{
    return ua->cfg.transport == SK_TP_TLS ? 5061 : 5060; /* RFC 3261 §19.1.2 */
}

/* "host:port", "[v6]:port" or "host" (port 5060). */
static int resolve_hostport(const struct sk_ua *ua, const char *s, struct sk_addr *out)
{
    struct sk_slice all = sk_slice_cstr(s), host = all;
    uint64_t port = sk__ua_default_port(ua);
    const char *colon = strrchr(s, ':');
    const char *close = strrchr(s, ']');

    if (colon != NULL && (close == NULL || colon > close) &&
        (s[0] == '[' || strchr(s, ':') == colon)) {
        host = sk_slice_make(s, (size_t)(colon - s));
        if (sk_slice_to_u64(sk_slice_cstr(colon + 1), 65535, &port) != 0 || port == 0)
            return SK_EINVAL;
    }
    return sk_ua_resolve(ua, host, (uint16_t)port, out);
}

int sk_ua_target(const struct sk_ua *ua, struct sk_slice ruri, struct sk_addr *out)
{
    struct sk_uri u;
    struct sk_slice maddr;

    if (ua->proxy.sslen != 0) {
        *out = ua->proxy;
        return 0;
    }
    if (sk_uri_parse(ruri, &u) != 0 || (u.scheme != SK_URI_SIP && u.scheme != SK_URI_SIPS))
        return SK_EINVAL;
    /* §19.1.1: maddr overrides the host as the destination. */
    if (sk_uri_param(&u, "maddr", &maddr) && maddr.len > 0)
        return sk_ua_resolve(ua, maddr, u.has_port ? u.port : sk__ua_default_port(ua), out);
    return sk_ua_resolve(ua, u.host, u.has_port ? u.port : sk__ua_default_port(ua), out);
}

/* ---- transaction callbacks ----------------------------------------------- */

static uint64_t real_clock(void *arg)
{
    (void)arg;
    return sk_now_ms();
}

static int txn_send(void *arg, const struct sk_addr *dst, const char *data, size_t len)
{
    return sk__ua_send(arg, dst, data, len);
}

static void on_response(void *arg, struct sk_txn *txn, const struct sk_msg *resp)
{
    struct sk_ua_req *r = sk_txn_user(txn);

    (void)arg;
    if (r != NULL)
        sk__req_on_response(r, txn, resp);
}

static void on_timeout(void *arg, struct sk_txn *txn, const struct sk_msg *resp)
{
    struct sk_ua_req *r = sk_txn_user(txn);

    (void)arg;
    (void)resp;
    if (r != NULL)
        sk__req_on_failure(r, txn, SK_UA_TIMEOUT, SK_ETIMEDOUT);
}

static void on_tperr(void *arg, struct sk_txn *txn, int err, const struct sk_msg *resp)
{
    struct sk_ua_req *r = sk_txn_user(txn);

    (void)arg;
    (void)resp;
    if (r != NULL)
        sk__req_on_failure(r, txn, SK_UA_NETWORK, err);
}

static void on_request(void *arg, struct sk_txn *txn, const struct sk_msg *req)
{
    struct sk_ua *ua = arg;

    if (ua->cfg.on_request != NULL) {
        ua->cfg.on_request(ua->cfg.request_arg, txn, req);
        return;
    }
    /* §11.2: OPTIONS is answered as an INVITE would be; §12.2.2: a request
     * for a dialog we do not have gets 481; anything else 405. */
    if (req->method_id == SK_METHOD_OPTIONS)
        sk_ua_respond(ua, txn, 200, NULL, NULL, NULL, SK_SLICE_NULL);
    else if (req->to.tag.len > 0 || req->method_id == SK_METHOD_CANCEL)
        sk_ua_respond(ua, txn, 481, NULL, NULL, NULL, SK_SLICE_NULL);
    else
        sk_ua_respond(ua, txn, 405, NULL, NULL, NULL, SK_SLICE_NULL);
}

static void on_ack(void *arg, const struct sk_msg *msg, const struct sk_addr *from)
{
    struct sk_ua *ua = arg;

    (void)from;
    sk__uas_acked(ua, msg);
    if (ua->cfg.on_ack != NULL)
        ua->cfg.on_ack(ua->cfg.ack_arg, msg);
}

/* ---- receive path and loop ----------------------------------------------- */

static void receive(void *arg, const char *data, size_t len, const struct sk_addr *from)
{
    struct sk_ua *ua = arg;
    enum sk_msg_mode mode = from->tp == SK_TP_UDP ? SK_MSG_DATAGRAM : SK_MSG_STREAM;

    if (sk_msg_parse(&ua->rx, data, len, mode, NULL) != 0) {
        sk__ua_trace(ua, SK_TRACE_IN, from, data, len);
        SK_LOG(SK_LOG_INFO, MOD, "event=dropped reason=%s", sk_msg_cause_text(ua->rx.cause));
        return;
    }
    if (ua->cfg.on_trace != NULL)
        ua->cfg.on_trace(ua->cfg.trace_arg, SK_TRACE_IN, from, &ua->rx, sk_slice_make(data, len));
    sk_addr_format_host(from, false, ua->rx_ip, sizeof(ua->rx_ip));
    sk_msg_set_source(&ua->rx, sk_slice_cstr(ua->rx_ip), sk_addr_port(from));
    sk_txn_table_receive(ua->txns, &ua->rx, from);
}

int sk_ua_feed(struct sk_ua *ua, const char *data, size_t len, const struct sk_addr *from)
{
    receive(ua, data, len, from);
    return 0;
}

void sk_ua_tick(struct sk_ua *ua)
{
    uint64_t now = ua->cfg.clock(ua->cfg.clock_arg);

    sk_txn_table_tick(ua->txns, now);
    sk__uas_tick(ua, now);
}

int sk_ua_poll(struct sk_ua *ua, int timeout_ms)
{
    uint64_t now = ua->cfg.clock(ua->cfg.clock_arg), due = sk_txn_table_next_due(ua->txns);
    uint64_t ok_due = sk__uas_next_due(ua);
    int wait = timeout_ms, rc;

    if (ok_due < due)
        due = ok_due;
    if (due != UINT64_MAX) {
        uint64_t left = due > now ? due - now : 0;
        if (wait < 0 || left < (uint64_t)wait)
            wait = (int)left;
    }
    if (ua->net == NULL)
        rc = 0;
    else
        rc = sk__net_poll(ua->net, wait, receive, ua);
    sk_ua_tick(ua);
    return rc;
}

/* ---- setup ---------------------------------------------------------------- */

static int parse_addr_opt(struct sk_ua *ua, const char *s, struct sk_addr *out)
{
    if (sk_addr_parse(sk_slice_cstr(s), 5060, out) == 0) {
        out->tp = ua->cfg.transport;
        return 0;
    }
    return resolve_hostport(ua, s, out) == 0 ? 0 : SK_EINVAL;
}

static int setup(struct sk_ua *ua, const struct sk_ua_config *cfg)
{
    struct sk_txn_settings set;
    struct sk_txn_hooks hooks;
    struct sk_addr bound;
    int rc;

    if (sk_uri_parse(sk_slice_cstr(ua->aor), &ua->aor_uri) != 0 ||
        (ua->aor_uri.scheme != SK_URI_SIP && ua->aor_uri.scheme != SK_URI_SIPS))
        return SK_EINVAL;
    if (cfg->local != NULL && parse_addr_opt(ua, cfg->local, &ua->local) != 0)
        return SK_EINVAL;
    if (cfg->proxy != NULL && resolve_hostport(ua, cfg->proxy, &ua->proxy) != 0)
        return SK_EINVAL;
    if (cfg->send == NULL) {
        rc = sk__net_new(&ua->net, cfg->transport, &ua->local, cfg->tls_ca, cfg->tls_insecure);
        if (rc != 0)
            return rc;
        sk__net_bound(ua->net, &bound);
        if (bound.sslen != 0)
            set_local(ua, &bound);
    } else {
        if (ua->local.sslen == 0)
            return SK_EINVAL;
        set_local(ua, &ua->local);
    }
    if (ua->display != NULL)
        snprintf(ua->from, sizeof(ua->from), "\"%s\" <%s>", ua->display, ua->aor);
    else
        snprintf(ua->from, sizeof(ua->from), "<%s>", ua->aor);
    if (ua->auth_user != NULL && ua->auth_user[0] != '\0') {
        if (strlen(ua->auth_user) >= sizeof(ua->auth_name))
            return SK_EINVAL;
        memcpy(ua->auth_name, ua->auth_user, strlen(ua->auth_user) + 1);
    } else if (ua->aor_uri.user.len > 0) {
        /* The AOR's user part, %HH escapes decoded (§19.1.2). */
        int n = sk_uri_unescape(ua->aor_uri.user, ua->auth_name, sizeof(ua->auth_name) - 1);
        if (n <= 0)
            return SK_EINVAL;
        ua->auth_name[n] = '\0';
    }
    if (ua->password != NULL && ua->auth_name[0] == '\0')
        return SK_EINVAL;
    memset(&set, 0, sizeof(set));
    set.t1_ms = cfg->t1_ms;
    set.shards = 1;
    memset(&hooks, 0, sizeof(hooks));
    hooks.clock = ua->cfg.clock;
    hooks.clock_arg = ua->cfg.clock_arg;
    hooks.send = txn_send;
    hooks.send_arg = ua;
    hooks.tu_arg = ua;
    hooks.on_request = on_request;
    hooks.on_response = on_response;
    hooks.on_ack = on_ack;
    hooks.on_timeout = on_timeout;
    hooks.on_transport_error = on_tperr;
    return sk_txn_table_new(&ua->txns, &set, &hooks);
}

int sk_ua_new(struct sk_ua **out, const struct sk_ua_config *cfg)
{
    struct sk_ua *ua;
    bool failed = false;
    int rc;

    if (cfg == NULL || cfg->aor == NULL || (cfg->send == NULL) != (cfg->clock == NULL) ||
        (cfg->transport != SK_TP_UDP && cfg->transport != SK_TP_TCP && cfg->transport != SK_TP_TLS))
        return SK_EINVAL;
    ua = sk_calloc(1, sizeof(*ua));
    if (ua == NULL)
        return SK_ENOMEM;
    ua->cfg = *cfg;
    if (ua->cfg.clock == NULL)
        ua->cfg.clock = real_clock;
    ua->aor = dup_opt(cfg->aor, &failed);
    ua->display = dup_opt(cfg->display_name, &failed);
    ua->auth_user = dup_opt(cfg->auth_user, &failed);
    ua->password = dup_opt(cfg->password, &failed);
    ua->user_agent = dup_opt(cfg->user_agent != NULL ? cfg->user_agent : "sipkit", &failed);
    sk_msg_init(&ua->rx);
    rc = failed ? SK_ENOMEM : setup(ua, cfg);
    if (rc != 0) {
        sk_ua_free(ua);
        return rc;
    }
    *out = ua;
    return 0;
}

void sk_ua_free(struct sk_ua *ua)
{
    if (ua == NULL)
        return;
    sk__uas_free(ua);
    sk_txn_table_free(ua->txns);
    sk__net_free(ua->net);
    if (ua->password != NULL)
        memset(ua->password, 0, strlen(ua->password));
    sk_free(ua->aor);
    sk_free(ua->display);
    sk_free(ua->auth_user);
    sk_free(ua->password);
    sk_free(ua->user_agent);
    sk_msg_free(&ua->rx);
    sk_free(ua);
}
