/*
 * sipkit server layer: the configuration of `sipkit serve` (one option
 * table driving the INI parser, command-line flags, validation, --help and
 * the sample config) and the server itself: transports, the request
 * pipeline (sanity checks, the transaction layer, digest authentication,
 * the registrar and its location service, OPTIONS; the proxy slots in
 * behind them), reload and drain.
 *
 * Memory: struct sk_server_config is a plain value with fixed-size fields;
 * copy it freely. sk_server_new() returns a server owned by the caller and
 * released by sk_server_free() after sk_server_stop().
 *
 * Threads: one controlling thread calls new/start/reload/stop/free; the
 * pipeline runs on the transport's worker threads. The trace callback is
 * called from worker threads.
 */
#ifndef SIPKIT_SERVER_H
#define SIPKIT_SERVER_H

#include <sipkit/auth.h>
#include <sipkit/base.h>
#include <sipkit/events.h>
#include <sipkit/msg.h>
#include <sipkit/transport.h>
#include <sipkit/txn.h>

#define SK_SERVER_MAX_LISTENERS 16
#define SK_SERVER_PATH_MAX      1024
#define SK_SERVER_DOMAIN_MAX    256

struct sk_server_config {
    struct sk_listener listeners[SK_SERVER_MAX_LISTENERS];
    size_t nlisteners;
    char data_dir[SK_SERVER_PATH_MAX];
    char domain[SK_SERVER_DOMAIN_MAX]; /* empty: the host's domain */
    unsigned workers;                  /* 0: one per CPU */
    unsigned log_level;                /* enum sk_log_level */
    bool trace;
    unsigned tcp_idle_timeout; /* seconds */
    unsigned tcp_max_connections;
    unsigned tcp_max_per_address; /* accepted connections per IPv4 address / IPv6 /64 */
    unsigned tcp_message_timeout; /* seconds from a message's first byte to its last */
    unsigned tcp_max_buffer;      /* bytes per connection */
    unsigned max_message_size;    /* bytes; larger requests get 513 */
    unsigned drain_timeout;       /* seconds */
    char auth_algorithms[SK_SERVER_DOMAIN_MAX]; /* digest algorithms offered, by preference */
    bool auth_int;                              /* offer qop auth-int besides auth */
    unsigned min_expires;                       /* registrar: shorter non-zero expiries get 423 */
    unsigned max_expires;                       /* registrar: longer ones are capped */
    unsigned default_expires;                   /* registrar: no expires parameter, no Expires */
    unsigned max_contacts;                      /* registrar: bindings per address-of-record */
    unsigned sub_min_expires;     /* events: shorter SUBSCRIBE / PUBLISH expiries get 423 */
    unsigned sub_max_expires;     /* events: longer ones are capped */
    unsigned sub_default_expires; /* events: no Expires header */
    char watch_policy[SK_SERVER_DOMAIN_MAX];    /* events, presence: "domain" or "self" */
    char dialog_policy[SK_SERVER_DOMAIN_MAX];   /* events, dialog: "domain" or "self" */
    unsigned max_subs_per_user;                 /* events: subscriptions one watcher holds */
    unsigned max_subs_per_address;              /* events: subscriptions one address holds */
    unsigned proxy_timer_c;                     /* proxy: Timer C of a forwarded INVITE, seconds */
    char foreign_callers[SK_SERVER_DOMAIN_MAX]; /* proxy: "allow", "challenge" or "deny" */
    char durability[SK_SERVER_DOMAIN_MAX];      /* store: "crash" or "power" */
    char store_url[SK_SERVER_PATH_MAX];         /* store: postgresql://...; empty: data_dir */
    char store_password_file[SK_SERVER_PATH_MAX];    /* store: file holding the database password */
    char cluster_node_address[SK_SERVER_DOMAIN_MAX]; /* cluster: IP:PORT for the Path; "": listener
                                                      */
    char admin_listen[SK_SERVER_DOMAIN_MAX];         /* admin HTTP ADDR:PORT; empty: off */
    char admin_token_file[SK_SERVER_PATH_MAX];       /* admin: file holding the bearer token */
    /* [security]: the guard (src/server/guard.h, docs/security.md) */
    char sec_trusted[SK_SERVER_DOMAIN_MAX]; /* CIDRs exempt from bans and limits */
    unsigned sec_auth_fail_limit;           /* failed authentications before a ban; 0 = off */
    unsigned sec_auth_fail_window;          /* seconds they are counted over */
    unsigned sec_ban_time;                  /* first ban, seconds; 0 = never ban */
    unsigned sec_ban_time_max;              /* doubling stops here, seconds */
    unsigned sec_rate_limit;                /* messages per second per address; 0 = off */
    unsigned sec_rate_window;               /* seconds the rate is averaged over */
    unsigned sec_rate_ban_windows;          /* windows over the limit in a row -> ban; 0 = never */
    unsigned sec_user_delay_after;          /* failures of one user before answers slow; 0 = off */
    unsigned sec_user_delay_max;            /* longest delay, milliseconds */
    unsigned sec_summary_interval;          /* repeated failures/drops summarised, seconds */
    unsigned proxy_max_branches;            /* proxy: targets one request is forked to */
    unsigned nat_keepalive_interval; /* nat: seconds between keep-alives to NATed UDP bindings */
    char nat_keepalive_method[SK_SERVER_DOMAIN_MAX]; /* nat: "options" or "crlf" */
    unsigned nat_keepalive_failures; /* nat: unanswered OPTIONS in a row that remove; 0 = never */
    char media_engage[SK_SERVER_DOMAIN_MAX];    /* media: "always", "nat" or "never" */
    char media_rtpengine[SK_SERVER_DOMAIN_MAX]; /* media: rtpengine ng addresses, space-separated */
    unsigned media_timeout;                     /* media: ms to wait for an ng reply, per send */
    /* [tls] (docs/tls.md); the TLS listeners are in listeners[] with .tls */
    char tls_cert[SK_SERVER_PATH_MAX];            /* PEM certificate chain, leaf first */
    char tls_key[SK_SERVER_PATH_MAX];             /* PEM private key */
    char tls_ca[SK_SERVER_PATH_MAX];              /* PEM bundle for peers' certificates */
    char tls_verify_client[SK_SERVER_DOMAIN_MAX]; /* none, optional or required */
    char tls_min_version[SK_SERVER_DOMAIN_MAX];   /* 1.2 or 1.3 */
    char tls_ciphers[SK_SERVER_DOMAIN_MAX];       /* OpenSSL list for TLS 1.2; "": its own */
    /* [ws] (docs/webrtc.md); the listeners are in listeners[] with .ws */
    char ws_origins[SK_SERVER_DOMAIN_MAX]; /* allowed Origin values; empty: any */
    unsigned ws_ping_interval;             /* seconds between pings on a quiet one; 0: none */
    bool listen_from_args;                 /* internal: --listen replaced the file's list */
    bool listen_tls_from_args;             /* internal: --listen-tls did, for TLS ones */
    bool listen_ws_from_args;              /* internal: --listen-ws did, for ws ones */
    bool listen_wss_from_args;             /* internal: --listen-wss did, for wss ones */
};

enum sk_opt_type {
    SK_OPT_LISTEN, /* ADDR:PORT, repeatable; listen-tls/-ws/-wss add those kinds */
    SK_OPT_STRING,
    SK_OPT_UINT,
    SK_OPT_BOOL,
    SK_OPT_LOGLEVEL, /* error | warn | info | debug */
};

/* One row of the option table. */
struct sk_option {
    const char *section; /* INI section */
    const char *name;    /* INI key */
    const char *flag;    /* command-line flag without "--" */
    enum sk_opt_type type;
    const char *def;   /* default, as text ("" for none) */
    uint64_t min, max; /* SK_OPT_UINT bounds */
    bool reloadable;   /* applied on SIGHUP */
    size_t offset;     /* field in struct sk_server_config */
    const char *metavar;
    const char *help;
};

/* The table, in documentation order. */
const struct sk_option *sk_server_options(size_t *count);
const struct sk_option *sk_server_option_find(const char *section, const char *name);
const struct sk_option *sk_server_option_by_flag(const char *flag);

/* Every option at its default. */
void sk_server_config_init(struct sk_server_config *c);
/* Set one option from text. Returns 0 or SK_EINVAL with a message in err. */
int sk_server_config_set(struct sk_server_config *c, const struct sk_option *o, const char *value,
                         char *err, size_t errsz);
/* Read an INI file (sections and keys as in the table; unknown ones are
 * errors). Returns 0, -errno (unreadable) or SK_EINVAL with err set. */
int sk_server_config_load(struct sk_server_config *c, const char *path, char *err, size_t errsz);
/* Apply command-line flags ("--flag value", "--flag=value"). The first
 * --listen replaces the listeners from defaults and file. The flags
 * --config FILE, --check-config and --help are skipped (the caller handles
 * them). Returns 0 or SK_EINVAL with err set. */
int sk_server_config_args(struct sk_server_config *c, int argc, char **argv, char *err,
                          size_t errsz);
/* Checks across options; fills defaults that depend on the host (domain).
 * Returns 0 or SK_EINVAL with err set. */
int sk_server_config_finish(struct sk_server_config *c, char *err, size_t errsz);
/* The TLS settings of c for the transport (pointing into c). */
void sk_server_config_tls(const struct sk_server_config *c, struct sk_tls_config *out);
/* Whether c has a TLS listener (wss ones included: they need the
 * certificate too). */
bool sk_server_config_has_tls(const struct sk_server_config *c);
/* The --help text for the flags, and a commented sample INI file. */
void sk_server_config_help(struct sk_buf *out);
void sk_server_config_sample(struct sk_buf *out);

struct sk_server;

/* Create the data directory if missing, bind every listener. Returns 0 or
 * a negative error (logged). */
int sk_server_new(struct sk_server **out, const struct sk_server_config *cfg,
                  sk_tp_trace_cb on_trace, void *trace_arg);
/* Start the workers and log one `event=listening` line per socket. */
int sk_server_start(struct sk_server *s);
/* Apply the reloadable options of cfg; logs what changed and what needs a
 * restart. */
void sk_server_reload(struct sk_server *s, const struct sk_server_config *cfg);
/* Stop reading, drain (at most drain_timeout), join the workers. */
void sk_server_stop(struct sk_server *s);
void sk_server_free(struct sk_server *s);
/* The bound address of listener i (after port 0 was resolved). */
int sk_server_listener_addr(const struct sk_server *s, unsigned i, struct sk_addr *out);

/* ---- what an operator sees (the admin layer, include/sipkit/admin.h) ------
 *
 * Counters are kept on the hot path with relaxed atomic increments (no
 * lock per request); gauges are computed when asked, by walking the
 * tables shard by shard. Any thread may call these while the server
 * runs; the values are a racy but consistent-enough snapshot. */

/* Response classes 1xx..6xx, index = code / 100 - 1. */
#define SK_SERVER_CLASSES 6

struct sk_server_stats {
    uint64_t uptime_s;
    unsigned workers;
    /* New requests by method (retransmissions absorbed by the transaction
     * layer are not counted; SK_METHOD_OTHER for extension methods). */
    uint64_t requests[SK_METHOD__COUNT];
    /* Responses the server sent, by class: its own and the ones it
     * relayed as a proxy (retransmissions included). */
    uint64_t responses[SK_SERVER_CLASSES];
    /* Requests refused before any handler (unparseable, stateless 4xx). */
    uint64_t rejected;
    /* Failed digest verifications by cause (SK_AUTH_OK: none), every one
     * whether logged in full or summarised. */
    uint64_t auth_failures[SK_AUTH_CAUSE__COUNT];
    /* Guesses the per-user slow-down answered without checking them
     * (also counted above as wrong_password, the answer they got). */
    uint64_t auth_throttled;
    /* The guard (docs/security.md): messages dropped unparsed because
     * their address is banned or over the flood limit; bans decided by
     * this process, by reason; bans in force now. */
    uint64_t dropped_banned;
    uint64_t dropped_rate_limited;
    uint64_t bans_auth_failures;
    uint64_t bans_flood;
    size_t bans_active;
    size_t txns[SK_TXN_KINDS][SK_TXN_STATES];
    size_t bindings;                        /* in memory, not yet purged included */
    size_t subscriptions[SK_EV_PKG__COUNT]; /* live, by package */
    size_t publications;                    /* live presence publications */
    /* Keep-alives to UDP bindings behind NAT (docs/nat.md): sent, OPTIONS
     * answered, bindings removed for answering none. */
    uint64_t nat_keepalives_sent;
    uint64_t nat_keepalives_answered;
    uint64_t nat_bindings_dead;
    struct sk_tp_stats tp;
};

void sk_server_get_stats(struct sk_server *s, struct sk_server_stats *out);
/* Latency histograms: each group COMMIT of the location store; how late
 * the workers' event loops run (see sk_tp_loop_lag). */
const struct sk_histo *sk_server_commit_times(const struct sk_server *s);
const struct sk_histo *sk_server_loop_lag(const struct sk_server *s);
/* The configuration in force (after reloads). The pointer stays valid
 * until sk_server_free(); reloadable fields may change under a reader. */
const struct sk_server_config *sk_server_current_config(const struct sk_server *s);
/* The store and location service the server runs on (for the admin API:
 * users, bindings, subscriptions). Valid until sk_server_free(); their
 * own headers say which threads may call them (any). */
struct sk_store *sk_server_store(struct sk_server *s);
struct sk_location *sk_server_location(struct sk_server *s);

#endif
