/*
 * Configuration of `sipkit serve`: one option table (name, type, default,
 * bounds, reloadable or not, help) drives the INI parser (libinih), the
 * command-line flags, validation, --help and the sample config file
 * (docs/sipkit.conf.example is its output, checked by unit.server_config).
 *
 * Memory: struct sk_server_config has fixed-size fields; nothing here
 * allocates except through sk_buf for help and sample text.
 */
#include "server/guard.h"
#include "server/media.h"

#include <sipkit/auth.h>
#include <sipkit/server.h>

#include <errno.h>
#include <ini.h>
#include <stddef.h>
#include <stdio.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define OFF(field) offsetof(struct sk_server_config, field)

static const struct sk_option options[] = {
    {"server", "listen", "listen", SK_OPT_LISTEN, "0.0.0.0:5060 [::]:5060", 0, 0, false,
     OFF(listeners), "ADDR:PORT",
     "address to listen on for UDP and TCP; repeatable, IPv6 as [::1]:5060"},
    {"server", "data_dir", "data-dir", SK_OPT_STRING, "./data", 0, 0, false, OFF(data_dir), "DIR",
     "directory for the SQLite store, created if missing"},
    {"server", "domain", "domain", SK_OPT_STRING, "", 0, 0, false, OFF(domain), "DOMAIN",
     "domain served and default realm (default: the host's domain)"},
    {"server", "workers", "workers", SK_OPT_UINT, "0", 0, 128, false, OFF(workers), "N",
     "worker threads, one event loop each (0: one per CPU)"},
    {"server", "log_level", "log-level", SK_OPT_LOGLEVEL, "info", 0, 0, true, OFF(log_level),
     "LEVEL", "error, warn, info or debug"},
    {"server", "trace", "trace", SK_OPT_BOOL, "false", 0, 0, true, OFF(trace), "",
     "print every SIP message in and out on stdout"},
    {"server", "drain_timeout", "drain-timeout", SK_OPT_UINT, "5", 0, 300, false,
     OFF(drain_timeout), "SECONDS", "on SIGTERM, wait at most this long for pending work"},
    {"tcp", "idle_timeout", "tcp-idle-timeout", SK_OPT_UINT, "300", 1, 86400, true,
     OFF(tcp_idle_timeout), "SECONDS", "close a TCP connection idle this long"},
    {"tcp", "max_connections", "tcp-max-connections", SK_OPT_UINT, "4096", 1, 1000000, true,
     OFF(tcp_max_connections), "N", "open TCP connections at most, all workers together"},
    {"tcp", "max_per_address", "tcp-max-per-address", SK_OPT_UINT, "64", 0, 1000000, true,
     OFF(tcp_max_per_address), "N",
     "accepted TCP connections from one IPv4 address or IPv6 /64 at most (0: no cap)"},
    {"tcp", "message_timeout", "tcp-message-timeout", SK_OPT_UINT, "10", 1, 3600, true,
     OFF(tcp_message_timeout), "SECONDS",
     "close a TCP connection whose message has not arrived whole this long after its first byte"},
    {"tcp", "max_buffer", "tcp-max-buffer", SK_OPT_UINT, "262144", 4096, 16777216, true,
     OFF(tcp_max_buffer), "BYTES", "bytes queued for sending per connection at most"},
    {"auth", "algorithms", "auth-algorithms", SK_OPT_STRING, SK_AUTH_ALGOS_DEFAULT, 0, 0, false,
     OFF(auth_algorithms), "LIST",
     "digest algorithms offered in challenges, in this order (MD5, SHA-256, SHA-512-256)"},
    {"auth", "auth_int", "auth-int", SK_OPT_BOOL, "false", 0, 0, false, OFF(auth_int), "",
     "offer qop=\"auth,auth-int\" rather than qop=\"auth\" (integrity of the body)"},
    {"registrar", "min_expires", "min-expires", SK_OPT_UINT, "60", 1, 86400, false,
     OFF(min_expires), "SECONDS",
     "shortest registration accepted; shorter gets 423 Interval Too Brief"},
    {"registrar", "max_expires", "max-expires", SK_OPT_UINT, "7200", 1, 31536000, false,
     OFF(max_expires), "SECONDS", "longer registrations are granted this long"},
    {"registrar", "default_expires", "default-expires", SK_OPT_UINT, "3600", 1, 31536000, false,
     OFF(default_expires), "SECONDS", "expiry of a Contact without expires parameter or Expires"},
    {"registrar", "max_contacts", "max-contacts", SK_OPT_UINT, "16", 1, 256, false,
     OFF(max_contacts), "N", "bindings one address-of-record may hold"},
    {"events", "min_expires", "sub-min-expires", SK_OPT_UINT, "60", 1, 86400, false,
     OFF(sub_min_expires), "SECONDS",
     "shortest SUBSCRIBE or PUBLISH accepted; shorter gets 423 Interval Too Brief"},
    {"events", "max_expires", "sub-max-expires", SK_OPT_UINT, "3600", 1, 31536000, false,
     OFF(sub_max_expires), "SECONDS",
     "longer subscriptions and publications are granted this long"},
    {"events", "default_expires", "sub-default-expires", SK_OPT_UINT, "3600", 1, 31536000, false,
     OFF(sub_default_expires), "SECONDS", "expiry of a SUBSCRIBE or PUBLISH without Expires"},
    {"events", "watch_policy", "watch-policy", SK_OPT_STRING, "domain", 0, 0, false,
     OFF(watch_policy), "POLICY",
     "who may watch a user's presence: domain (any user of the domain) or self"},
    {"events", "dialog_policy", "dialog-policy", SK_OPT_STRING, "self", 0, 0, false,
     OFF(dialog_policy), "POLICY",
     "who may watch a user's calls (dialog package): self (only the user) or domain"},
    {"events", "max_subs_per_user", "max-subs-per-user", SK_OPT_UINT, "256", 1, 1000000, false,
     OFF(max_subs_per_user), "N", "subscriptions one watcher may hold; more get 403"},
    {"events", "max_subs_per_address", "max-subs-per-address", SK_OPT_UINT, "1024", 1, 1000000,
     false, OFF(max_subs_per_address), "N",
     "subscriptions one source address may hold; more get 403"},
    /* RFC 3261 §16.6 step 11: Timer C "MUST be set to greater than 3
     * minutes", hence 181 at least. */
    {"proxy", "timer_c", "timer-c", SK_OPT_UINT, "181", 181, 86400, false, OFF(proxy_timer_c),
     "SECONDS", "a forwarded INVITE branch with no final response is given up after this long"},
    {"proxy", "foreign_callers", "foreign-callers", SK_OPT_STRING, "allow", 0, 0, false,
     OFF(foreign_callers), "POLICY",
     "requests from other domains to local users: allow, challenge (a local user's credentials) "
     "or deny"},
    /* Each branch is a transaction with its own retransmissions: a user
     * with many bindings must not turn one request into dozens of sends. */
    {"proxy", "max_branches", "max-branches", SK_OPT_UINT, "8", 1, 16, false,
     OFF(proxy_max_branches), "N",
     "a request is forked to this many contacts at most (the highest q-values)"},
    {"store", "durability", "durability", SK_OPT_STRING, "crash", 0, 0, false, OFF(durability),
     "LEVEL",
     "what an acknowledged write survives: crash (kill -9; WAL, synchronous=NORMAL) or power "
     "(a power cut too: one fsync per group COMMIT)"},
    {"store", "url", "store", SK_OPT_STRING, "", 0, 0, false, OFF(store_url), "URL",
     "the store: postgresql://USER@HOST:PORT/DB (no password in it) to share one PostgreSQL "
     "database between servers; empty or sqlite:DIR: SQLite in data_dir (or DIR)"},
    {"store", "password_file", "store-password-file", SK_OPT_STRING, "", 0, 0, false,
     OFF(store_password_file), "FILE",
     "PostgreSQL: file whose first line is the password (else PGPASSWORD or ~/.pgpass)"},
    /* docs/cluster.md: the address other nodes send to, for a binding
     * held over one of this node's connections. */
    {"cluster", "node_address", "cluster-node-address", SK_OPT_STRING, "", 0, 0, false,
     OFF(cluster_node_address), "HOST:PORT",
     "PostgreSQL store: where the other nodes reach this one (UDP), named in the Path of "
     "bindings held over its connections; empty: the listening address the phone reached"},
    /* The guard (docs/security.md). */
    {"security", "trusted", "trusted", SK_OPT_STRING, "", 0, 0, false, OFF(sec_trusted), "CIDRS",
     "networks exempt from bans and rate limits (trunks, monitoring), e.g. 10.0.0.0/8 ::1"},
    {"security", "auth_fail_limit", "auth-fail-limit", SK_OPT_UINT, "10", 0, 100000, false,
     OFF(sec_auth_fail_limit), "N",
     "failed authentications from one address that ban it (0: never)"},
    {"security", "auth_fail_window", "auth-fail-window", SK_OPT_UINT, "60", 1, 86400, false,
     OFF(sec_auth_fail_window), "SECONDS",
     "period over which failures of an address (and of a user name) are counted"},
    {"security", "ban_time", "ban-time", SK_OPT_UINT, "600", 0, 31536000, false, OFF(sec_ban_time),
     "SECONDS", "first ban of an address; each repeat doubles it (0: never ban)"},
    {"security", "ban_time_max", "ban-time-max", SK_OPT_UINT, "86400", 1, 31536000, false,
     OFF(sec_ban_time_max), "SECONDS", "longest ban the doubling reaches"},
    {"security", "rate_limit", "rate-limit", SK_OPT_UINT, "200", 0, 10000000, false,
     OFF(sec_rate_limit), "N",
     "messages per second one address may send, averaged over rate_window (0: no limit)"},
    {"security", "rate_window", "rate-window", SK_OPT_UINT, "2", 1, 3600, false,
     OFF(sec_rate_window), "SECONDS", "period the rate limit is counted over"},
    {"security", "rate_ban_windows", "rate-ban-windows", SK_OPT_UINT, "3", 0, 1000, false,
     OFF(sec_rate_ban_windows), "N",
     "rate windows over the limit in a row that ban the address (0: drop only)"},
    {"security", "user_delay_after", "user-delay-after", SK_OPT_UINT, "5", 0, 100000, false,
     OFF(sec_user_delay_after), "N",
     "failures of one user name (any address) after which answers slow down (0: never)"},
    {"security", "user_delay_max", "user-delay-max", SK_OPT_UINT, "8000", 1, 600000, false,
     OFF(sec_user_delay_max), "MS", "longest delay before a failed authentication is answered"},
    {"security", "summary_interval", "log-summary-interval", SK_OPT_UINT, "10", 1, 3600, false,
     OFF(sec_summary_interval), "SECONDS",
     "repeated failures and drops of one address are logged once, then summed this often"},
    /* RFC 5626 §3.5.1 puts UDP keep-alives at 20-30 s: typical NAT UDP
     * timeouts are 30 s or more. */
    {"nat", "keepalive_interval", "nat-keepalive-interval", SK_OPT_UINT, "25", 0, 3600, false,
     OFF(nat_keepalive_interval), "SECONDS",
     "send a keep-alive this often to each UDP binding behind NAT, so its mapping stays open; "
     "0 sends none"},
    /* Kamailio's nathelper and Asterisk's qualify send OPTIONS: the one
     * keep-alive a phone answers, so a dead mapping shows. */
    {"nat", "keepalive_method", "nat-keepalive-method", SK_OPT_STRING, "options", 0, 0, false,
     OFF(nat_keepalive_method), "METHOD",
     "options (an OPTIONS request; any response proves the binding alive) or crlf (an empty "
     "CRLF CRLF datagram, which nothing answers)"},
    {"nat", "keepalive_failures", "nat-keepalive-failures", SK_OPT_UINT, "3", 0, 100, false,
     OFF(nat_keepalive_failures), "N",
     "remove a UDP binding behind NAT after this many OPTIONS keep-alives in a row went "
     "unanswered (0: never)"},
    /* Media relay (media.c, docs/nat.md). */
    {"media", "engage", "media-engage", SK_OPT_STRING, "nat", 0, 0, false, OFF(media_engage),
     "POLICY",
     "relay a call's media through rtpengine: always, nat (when either side is behind NAT) or "
     "never; nothing is relayed while media.rtpengine is empty"},
    {"media", "rtpengine", "media-rtpengine", SK_OPT_STRING, "", 0, 0, false, OFF(media_rtpengine),
     "ADDRS",
     "rtpengine ng control addresses (ADDR:PORT, port 2223 by default), space-separated; "
     "the calls are spread over them, and one that does not answer is failed over"},
    {"media", "timeout", "media-timeout", SK_OPT_UINT, "1000", 50, 10000, false, OFF(media_timeout),
     "MS", "wait this long for rtpengine's reply before sending again (once), then try the next"},
    /* [tls]: docs/tls.md. */
    {"tls", "listen", "listen-tls", SK_OPT_LISTEN, "", 0, 0, false, OFF(listeners), "ADDR:PORT",
     "address to listen on for SIP over TLS (port 5061 unless given); repeatable"},
    {"tls", "cert", "tls-cert", SK_OPT_STRING, "", 0, 0, true, OFF(tls_cert), "FILE",
     "PEM certificate chain of the TLS listeners, leaf first"},
    {"tls", "key", "tls-key", SK_OPT_STRING, "", 0, 0, true, OFF(tls_key), "FILE",
     "PEM private key of that certificate"},
    {"tls", "ca", "tls-ca", SK_OPT_STRING, "", 0, 0, true, OFF(tls_ca), "FILE",
     "PEM bundle that client certificates and TLS servers we connect to are checked against "
     "(default: the system's)"},
    {"tls", "verify_client", "tls-verify-client", SK_OPT_STRING, "none", 0, 0, true,
     OFF(tls_verify_client), "MODE",
     "client certificates: none, optional (checked when sent) or required"},
    {"tls", "min_version", "tls-min-version", SK_OPT_STRING, "1.2", 0, 0, true,
     OFF(tls_min_version), "VERSION", "lowest TLS version accepted: 1.2 or 1.3"},
    {"tls", "ciphers", "tls-ciphers", SK_OPT_STRING, "", 0, 0, true, OFF(tls_ciphers), "LIST",
     "OpenSSL cipher list for TLS 1.2 (default: OpenSSL's)"},
    /* [ws]: docs/webrtc.md. */
    {"ws", "listen", "listen-ws", SK_OPT_LISTEN, "", 0, 0, false, OFF(listeners), "ADDR:PORT",
     "address to listen on for SIP over WebSocket, ws:// (port 80 unless given); repeatable"},
    {"ws", "listen_wss", "listen-wss", SK_OPT_LISTEN, "", 0, 0, false, OFF(listeners), "ADDR:PORT",
     "address to listen on for SIP over secure WebSocket, wss:// (port 443 unless given), with "
     "the [tls] certificate; repeatable"},
    {"ws", "origins", "ws-origins", SK_OPT_STRING, "", 0, 0, false, OFF(ws_origins), "LIST",
     "Origin values a browser may upgrade from (e.g. https://app.example.com), space-separated; "
     "empty: any origin; requests without Origin (not from a browser) are always taken"},
    {"ws", "ping_interval", "ws-ping-interval", SK_OPT_UINT, "30", 0, 3600, true,
     OFF(ws_ping_interval), "SECONDS",
     "ping a WebSocket connection quiet this long, close it when still quiet as long again; 0: "
     "no pings"},
    {"limits", "max_message_size", "max-message-size", SK_OPT_UINT, "65536", 512, 1048576, false,
     OFF(max_message_size), "BYTES", "larger requests are refused with 513"},
    {"admin", "listen", "admin", SK_OPT_STRING, "", 0, 0, false, OFF(admin_listen), "ADDR:PORT",
     "HTTP admin listener (metrics, JSON API), e.g. 127.0.0.1:9060: keep it on loopback; "
     "empty: off"},
    {"admin", "token_file", "admin-token-file", SK_OPT_STRING, "", 0, 0, false,
     OFF(admin_token_file), "FILE",
     "file holding the bearer token every admin request must carry (needed with listen)"},
};

#define NOPTIONS (sizeof(options) / sizeof(options[0]))

static const char *const level_names[] = {"error", "warn", "info", "debug"};

const struct sk_option *sk_server_options(size_t *count)
{
    *count = NOPTIONS;
    return options;
}

const struct sk_option *sk_server_option_find(const char *section, const char *name)
{
    for (size_t i = 0; i < NOPTIONS; i++) {
        if (strcmp(options[i].section, section) == 0 && strcmp(options[i].name, name) == 0)
            return &options[i];
    }
    return NULL;
}

const struct sk_option *sk_server_option_by_flag(const char *flag)
{
    for (size_t i = 0; i < NOPTIONS; i++) {
        if (strcmp(options[i].flag, flag) == 0)
            return &options[i];
    }
    return NULL;
}

/* What listeners a listen option adds: plain (UDP and TCP), TLS, ws, wss. */
enum listen_kind { LK_PLAIN, LK_TLS, LK_WS, LK_WSS };

static enum listen_kind listen_kind_of(const struct sk_option *o)
{
    if (strcmp(o->section, "tls") == 0)
        return LK_TLS;
    if (strcmp(o->section, "ws") == 0)
        return strcmp(o->name, "listen_wss") == 0 ? LK_WSS : LK_WS;
    return LK_PLAIN;
}

static enum listen_kind listener_kind(const struct sk_listener *l)
{
    if (l->ws)
        return l->tls ? LK_WSS : LK_WS;
    return l->tls ? LK_TLS : LK_PLAIN;
}

/* Add every address in a space- or comma-separated list, of kind k: TLS
 * on 5061 unless a port is given (RFC 3261 §26.2), ws and wss on HTTP's
 * 80 and 443 (RFC 6455 §3), else 5060. */
static int set_listen(struct sk_server_config *c, const char *value, bool from_default,
                      enum listen_kind k, char *err, size_t errsz)
{
    static const uint16_t ports[] = {5060, 5061, 80, 443};

    const char *p = value;

    while (*p != '\0') {
        size_t n;
        struct sk_addr a;
        p += strspn(p, " \t,");
        n = strcspn(p, " \t,");
        if (n == 0)
            break;
        if (sk_addr_parse(sk_slice_make(p, n), ports[k], &a) != 0) {
            snprintf(err, errsz, "listen: '%.*s' is not ADDR:PORT (IPv6 as [::1]:5060)", (int)n, p);
            return SK_EINVAL;
        }
        if (c->nlisteners == SK_SERVER_MAX_LISTENERS) {
            snprintf(err, errsz, "listen: at most %d addresses", SK_SERVER_MAX_LISTENERS);
            return SK_EINVAL;
        }
        memset(&c->listeners[c->nlisteners], 0, sizeof(c->listeners[0]));
        c->listeners[c->nlisteners].addr = a;
        c->listeners[c->nlisteners].tls = k == LK_TLS || k == LK_WSS;
        c->listeners[c->nlisteners].ws = k == LK_WS || k == LK_WSS;
        /* The default IPv6 wildcard is skipped on hosts without IPv6. */
        c->listeners[c->nlisteners].optional = from_default && a.sa.sa_family == AF_INET6;
        c->nlisteners++;
        p += n;
    }
    return 0;
}

static int parse_bool(const char *v, bool *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};

    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(v, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return SK_EINVAL;
}

static int set_value(struct sk_server_config *c, const struct sk_option *o, const char *value,
                     bool from_default, char *err, size_t errsz)
{
    char *field = (char *)c + o->offset;
    uint64_t v;

    switch (o->type) {
    case SK_OPT_LISTEN:
        return set_listen(c, value, from_default, listen_kind_of(o), err, errsz);
    case SK_OPT_STRING: {
        size_t cap = o->offset == OFF(data_dir) || o->offset == OFF(admin_token_file) ||
                             o->offset == OFF(tls_cert) || o->offset == OFF(tls_key) ||
                             o->offset == OFF(tls_ca) || o->offset == OFF(store_url) ||
                             o->offset == OFF(store_password_file)
                         ? SK_SERVER_PATH_MAX
                         : SK_SERVER_DOMAIN_MAX;
        if (strlen(value) >= cap) {
            snprintf(err, errsz, "%s: longer than %zu bytes", o->name, cap - 1);
            return SK_EINVAL;
        }
        memcpy(field, value, strlen(value) + 1);
        return 0;
    }
    case SK_OPT_UINT:
        if (sk_slice_to_u64(sk_slice_cstr(value), UINT32_MAX, &v) != 0 || v < o->min ||
            v > o->max) {
            snprintf(err, errsz, "%s: '%s' is not a number from %llu to %llu", o->name, value,
                     (unsigned long long)o->min, (unsigned long long)o->max);
            return SK_EINVAL;
        }
        *(unsigned *)(void *)field = (unsigned)v;
        return 0;
    case SK_OPT_BOOL:
        if (parse_bool(value, (bool *)(void *)field) != 0) {
            snprintf(err, errsz, "%s: '%s' is not true or false", o->name, value);
            return SK_EINVAL;
        }
        return 0;
    case SK_OPT_LOGLEVEL:
        for (unsigned i = 0; i < 4; i++) {
            if (strcasecmp(value, level_names[i]) == 0) {
                *(unsigned *)(void *)field = i;
                return 0;
            }
        }
        snprintf(err, errsz, "%s: '%s' is not error, warn, info or debug", o->name, value);
        return SK_EINVAL;
    }
    return SK_EINVAL;
}

int sk_server_config_set(struct sk_server_config *c, const struct sk_option *o, const char *value,
                         char *err, size_t errsz)
{
    return set_value(c, o, value, false, err, errsz);
}

void sk_server_config_init(struct sk_server_config *c)
{
    char err[256];

    memset(c, 0, sizeof(*c));
    for (size_t i = 0; i < NOPTIONS; i++) {
        int rc = set_value(c, &options[i], options[i].def, true, err, sizeof(err));
        (void)rc; /* the defaults are valid: unit.server_config checks it */
    }
}

/* Remove the listeners of one kind. */
static void drop_listeners(struct sk_server_config *c, enum listen_kind kind)
{
    size_t k = 0;

    for (size_t i = 0; i < c->nlisteners; i++) {
        if (listener_kind(&c->listeners[i]) != kind)
            c->listeners[k++] = c->listeners[i];
    }
    c->nlisteners = k;
}

/* The first listen option of a kind (in the file, or on the command
 * line) replaces what came before it of that kind. */
static void listen_replaces(struct sk_server_config *c, bool seen[4], const struct sk_option *o)
{
    enum listen_kind k = listen_kind_of(o);

    if (!seen[k])
        drop_listeners(c, k);
    seen[k] = true;
}

struct load_ctx {
    struct sk_server_config *c;
    bool listen_seen[4];
    char *err;
    size_t errsz;
    bool failed;
};

static int on_ini_line(void *user, const char *section, const char *name, const char *value)
{
    struct load_ctx *lc = user;
    const struct sk_option *o = sk_server_option_find(section, name);
    char msg[256];

    if (lc->failed)
        return 0;
    if (o == NULL) {
        snprintf(lc->err, lc->errsz, "unknown option '%s' in section [%s]", name, section);
        lc->failed = true;
        return 0;
    }
    /* The file's listen keys replace the default list (of their kind). */
    if (o->type == SK_OPT_LISTEN)
        listen_replaces(lc->c, lc->listen_seen, o);
    if (set_value(lc->c, o, value, false, msg, sizeof(msg)) != 0) {
        snprintf(lc->err, lc->errsz, "[%s] %s", section, msg);
        lc->failed = true;
        return 0;
    }
    return 1;
}

int sk_server_config_load(struct sk_server_config *c, const char *path, char *err, size_t errsz)
{
    struct load_ctx lc = {c, {false, false, false, false}, err, errsz, false};
    char msg[300];
    int rc;

    err[0] = '\0';
    rc = ini_parse(path, on_ini_line, &lc);
    if (rc == -1) {
        int e = errno;
        snprintf(err, errsz, "%s: %s", path, strerror(e));
        return e > 0 ? -e : SK_EIO;
    }
    if (rc == -2) {
        snprintf(err, errsz, "%s: out of memory", path);
        return SK_ENOMEM;
    }
    if (rc > 0) {
        snprintf(msg, sizeof(msg), "%s", err[0] != '\0' ? err : "syntax error");
        snprintf(err, errsz, "%s:%d: %s", path, rc, msg);
        return SK_EINVAL;
    }
    return 0;
}

int sk_server_config_args(struct sk_server_config *c, int argc, char **argv, char *err,
                          size_t errsz)
{
    for (int i = 1; i < argc; i++) {
        char flag[64];
        const char *arg = argv[i], *value = NULL, *eq;
        const struct sk_option *o;

        if (strncmp(arg, "--", 2) != 0) {
            snprintf(err, errsz, "unexpected argument '%s'", arg);
            return SK_EINVAL;
        }
        arg += 2;
        eq = strchr(arg, '=');
        size_t n = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
        if (n >= sizeof(flag)) {
            snprintf(err, errsz, "unknown option '--%s'", arg);
            return SK_EINVAL;
        }
        memcpy(flag, arg, n);
        flag[n] = '\0';
        if (strcmp(flag, "check-config") == 0 || strcmp(flag, "help") == 0)
            continue;
        if (strcmp(flag, "config") == 0) {
            i += eq == NULL ? 1 : 0;
            continue;
        }
        o = sk_server_option_by_flag(flag);
        if (o == NULL) {
            snprintf(err, errsz, "unknown option '--%s'", flag);
            return SK_EINVAL;
        }
        if (eq != NULL)
            value = eq + 1;
        else if (o->type == SK_OPT_BOOL)
            value = "true";
        else if (i + 1 < argc)
            value = argv[++i];
        else {
            snprintf(err, errsz, "--%s needs a value (%s)", flag, o->metavar);
            return SK_EINVAL;
        }
        if (o->type == SK_OPT_LISTEN) {
            bool seen[4] = {c->listen_from_args, c->listen_tls_from_args, c->listen_ws_from_args,
                            c->listen_wss_from_args};
            listen_replaces(c, seen, o);
            c->listen_from_args = seen[LK_PLAIN];
            c->listen_tls_from_args = seen[LK_TLS];
            c->listen_ws_from_args = seen[LK_WS];
            c->listen_wss_from_args = seen[LK_WSS];
        }
        if (set_value(c, o, value, false, err, errsz) != 0)
            return SK_EINVAL;
    }
    return 0;
}

/* The host's domain: the part of the host name after the first dot, or the
 * whole name when it has none. */
static void host_domain(char *out, size_t outsz)
{
    char host[256];
    const char *dot;

    if (gethostname(host, sizeof(host)) != 0) {
        snprintf(out, outsz, "localhost");
        return;
    }
    host[sizeof(host) - 1] = '\0';
    dot = strchr(host, '.');
    snprintf(out, outsz, "%s", dot != NULL && dot[1] != '\0' ? dot + 1 : host);
}

/* [cluster] node_address: an IP address with an optional port (5060),
 * rewritten as the text a URI takes (IPv6 in brackets, the port always),
 * since it goes into Path headers as it is (cluster.c). */
static bool node_address_normalize(char *text, size_t textsz)
{
    struct sk_addr a;

    if (sk_addr_parse(sk_slice_cstr(text), 5060, &a) != 0)
        return false;
    sk_addr_format(&a, text, textsz);
    return true;
}

/* The [tls] keys are valid, and a TLS listener has a certificate. */
static int check_tls(const struct sk_server_config *c, char *err, size_t errsz)
{
    enum sk_tls_verify v;
    int ver;

    if (sk_tls_verify_parse(c->tls_verify_client, &v) != 0) {
        snprintf(err, errsz, "tls verify_client: '%s' is not none, optional or required",
                 c->tls_verify_client);
        return SK_EINVAL;
    }
    if (sk_tls_version_parse(c->tls_min_version, &ver) != 0) {
        snprintf(err, errsz, "tls min_version: '%s' is not 1.2 or 1.3", c->tls_min_version);
        return SK_EINVAL;
    }
    if (sk_server_config_has_tls(c) && c->tls_cert[0] == '\0') {
        bool wss = false;
        for (size_t i = 0; i < c->nlisteners; i++)
            wss = wss || (c->listeners[i].tls && c->listeners[i].ws);
        snprintf(err, errsz, "%s needs a certificate: set tls cert (--tls-cert FILE)",
                 wss ? "ws listen_wss (--listen-wss)" : "tls listen");
        return SK_EINVAL;
    }
    if (v != SK_TLS_VERIFY_NONE && c->tls_ca[0] == '\0') {
        snprintf(err, errsz, "tls verify_client = %s needs tls ca (--tls-ca FILE)",
                 c->tls_verify_client);
        return SK_EINVAL;
    }
    return 0;
}

int sk_server_config_finish(struct sk_server_config *c, char *err, size_t errsz)
{
    if (c->nlisteners == 0) {
        snprintf(err, errsz, "listen: no address to listen on");
        return SK_EINVAL;
    }
    for (size_t i = 0; i < c->nlisteners; i++) {
        for (size_t j = 0; j < i; j++) {
            if (sk_addr_equal(&c->listeners[i].addr, &c->listeners[j].addr) &&
                sk_addr_port(&c->listeners[i].addr) != 0) {
                char a[SK_ADDR_STRLEN];
                snprintf(err, errsz, "listen: %s given twice",
                         sk_addr_format(&c->listeners[i].addr, a, sizeof(a)));
                return SK_EINVAL;
            }
        }
    }
    if (c->data_dir[0] == '\0') {
        snprintf(err, errsz, "data_dir: must not be empty");
        return SK_EINVAL;
    }
    if (c->tcp_max_buffer < c->max_message_size) {
        snprintf(err, errsz, "tcp max_buffer (%u) must be at least max_message_size (%u)",
                 c->tcp_max_buffer, c->max_message_size);
        return SK_EINVAL;
    }
    struct sk_auth_algos algos;
    if (sk_auth_algos_parse(c->auth_algorithms, false, &algos) != 0) {
        snprintf(err, errsz, "auth algorithms: '%s' is not a list of MD5, SHA-256, SHA-512-256",
                 c->auth_algorithms);
        return SK_EINVAL;
    }
    if (sk__guard_check_config(c, err, errsz) != 0)
        return SK_EINVAL;
    if (sk__media_check_config(c, err, errsz) != 0)
        return SK_EINVAL;
    if (strcmp(c->nat_keepalive_method, "options") != 0 &&
        strcmp(c->nat_keepalive_method, "crlf") != 0) {
        snprintf(err, errsz, "nat keepalive_method: '%s' is not options or crlf",
                 c->nat_keepalive_method);
        return SK_EINVAL;
    }
    if (c->sec_ban_time > c->sec_ban_time_max) {
        snprintf(err, errsz, "security ban_time (%u) must not exceed ban_time_max (%u)",
                 c->sec_ban_time, c->sec_ban_time_max);
        return SK_EINVAL;
    }
    if (c->min_expires > c->max_expires) {
        snprintf(err, errsz, "registrar min_expires (%u) must not exceed max_expires (%u)",
                 c->min_expires, c->max_expires);
        return SK_EINVAL;
    }
    if (c->sub_min_expires > c->sub_max_expires) {
        snprintf(err, errsz, "events min_expires (%u) must not exceed max_expires (%u)",
                 c->sub_min_expires, c->sub_max_expires);
        return SK_EINVAL;
    }
    if (strcmp(c->dialog_policy, "domain") != 0 && strcmp(c->dialog_policy, "self") != 0) {
        snprintf(err, errsz, "events dialog_policy: '%s' is neither domain nor self",
                 c->dialog_policy);
        return SK_EINVAL;
    }
    if (strcmp(c->foreign_callers, "allow") != 0 && strcmp(c->foreign_callers, "challenge") != 0 &&
        strcmp(c->foreign_callers, "deny") != 0) {
        snprintf(err, errsz, "proxy foreign_callers: '%s' is not allow, challenge or deny",
                 c->foreign_callers);
        return SK_EINVAL;
    }
    if (strcmp(c->watch_policy, "domain") != 0 && strcmp(c->watch_policy, "self") != 0) {
        snprintf(err, errsz, "events watch_policy: '%s' is neither domain nor self",
                 c->watch_policy);
        return SK_EINVAL;
    }
    if (strcmp(c->durability, "crash") != 0 && strcmp(c->durability, "power") != 0) {
        snprintf(err, errsz, "store durability: '%s' is neither crash nor power", c->durability);
        return SK_EINVAL;
    }
    if (c->cluster_node_address[0] != '\0' &&
        !node_address_normalize(c->cluster_node_address, sizeof(c->cluster_node_address))) {
        snprintf(err, errsz,
                 "cluster node_address: '%s' is not IP:PORT (IPv6 as [2001:db8::1]:5060)",
                 c->cluster_node_address);
        return SK_EINVAL;
    }
    if (c->admin_listen[0] != '\0') {
        struct sk_addr a;
        if (sk_addr_parse(sk_slice_cstr(c->admin_listen), 0, &a) != 0) {
            snprintf(err, errsz, "admin listen: '%s' is not ADDR:PORT (IPv6 as [::1]:9060)",
                     c->admin_listen);
            return SK_EINVAL;
        }
        if (c->admin_token_file[0] == '\0') {
            snprintf(err, errsz, "admin listen needs token_file (--admin-token-file FILE)");
            return SK_EINVAL;
        }
    }
    if (check_tls(c, err, errsz) != 0)
        return SK_EINVAL;
    if (c->domain[0] == '\0')
        host_domain(c->domain, sizeof(c->domain));
    return 0;
}

bool sk_server_config_has_tls(const struct sk_server_config *c)
{
    for (size_t i = 0; i < c->nlisteners; i++) {
        if (c->listeners[i].tls)
            return true;
    }
    return false;
}

void sk_server_config_tls(const struct sk_server_config *c, struct sk_tls_config *out)
{
    memset(out, 0, sizeof(*out));
    out->cert_file = c->tls_cert;
    out->key_file = c->tls_key[0] != '\0' ? c->tls_key : c->tls_cert;
    out->ca_file = c->tls_ca;
    (void)sk_tls_verify_parse(c->tls_verify_client, &out->verify_client);
    (void)sk_tls_version_parse(c->tls_min_version, &out->min_version);
    out->ciphers = c->tls_ciphers;
}

void sk_server_config_help(struct sk_buf *out)
{
    for (size_t i = 0; i < NOPTIONS; i++) {
        const struct sk_option *o = &options[i];
        char lhs[64];
        snprintf(lhs, sizeof(lhs), "--%s%s%s", o->flag, o->metavar[0] ? " " : "", o->metavar);
        sk_buf_printf(out, "  %-30s %s", lhs, o->help);
        if (o->def[0] != '\0')
            sk_buf_printf(out, " [%s]", o->def);
        sk_buf_append_cstr(out, o->reloadable ? " (SIGHUP)\n" : "\n");
    }
}

void sk_server_config_sample(struct sk_buf *out)
{
    const char *section = "";

    sk_buf_append_cstr(out, "# sipkit serve configuration (INI), generated from the option table:\n"
                            "# every option at its default. Command-line flags override the file\n"
                            "# (--listen, --data-dir, ...); options marked SIGHUP are reloaded on\n"
                            "# SIGHUP, the others need a restart.\n");
    for (size_t i = 0; i < NOPTIONS; i++) {
        const struct sk_option *o = &options[i];
        if (strcmp(section, o->section) != 0) {
            section = o->section;
            sk_buf_printf(out, "\n[%s]\n", section);
        }
        sk_buf_printf(out, "\n# %s%s\n", o->help, o->reloadable ? " (SIGHUP)" : "");
        if (o->type == SK_OPT_UINT)
            sk_buf_printf(out, "# %llu to %llu\n", (unsigned long long)o->min,
                          (unsigned long long)o->max);
        if (o->type == SK_OPT_LISTEN && o->def[0] == '\0') {
            /* Off by default: an example on the kind's default port. */
            static const unsigned ports[] = {5060, 5061, 80, 443};
            sk_buf_printf(out, "# %s = 0.0.0.0:%u\n", o->name, ports[listen_kind_of(o)]);
        } else if (o->type == SK_OPT_LISTEN) {
            /* One key per address, as a file would list them. */
            const char *p = o->def;
            while (*p != '\0') {
                size_t n = strcspn(p, " ");
                sk_buf_printf(out, "%s = %.*s\n", o->name, (int)n, p);
                p += n + strspn(p + n, " ");
            }
        } else {
            sk_buf_printf(out, "%s =%s%s\n", o->name, o->def[0] ? " " : "", o->def);
        }
    }
}
