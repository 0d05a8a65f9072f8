/*
 * `sipkit serve`: load the configuration (defaults, then --config FILE,
 * then flags), run the server in the foreground, log key=value lines on
 * stderr, print the --trace on stdout, reload on SIGHUP and drain on
 * SIGTERM / SIGINT.
 *
 * Signals are blocked in every thread before the workers start and taken
 * synchronously here with sigtimedwait(), so no handler runs inside the
 * library and no thread is interrupted mid-request.
 *
 * Under systemd (Type=notify, contrib/sipkit.service) the server says
 * READY=1 once every socket is bound, keeps STATUS= current, answers
 * the watchdog (WATCHDOG=1 at half its interval) from this loop, and says
 * RELOADING=1 / STOPPING=1 around SIGHUP and SIGTERM. sd_notify() does
 * nothing when NOTIFY_SOCKET is not set.
 *
 * With --admin ADDR:PORT the HTTP admin listener (include/sipkit/admin.h)
 * runs beside the server; SIGHUP rereads its token file.
 *
 * SIGTERM always ends the process: a watchdog thread started with the
 * drain exits the process when the drain and the stop have not finished
 * within drain_timeout plus STOP_GRACE_S seconds, or at a second SIGTERM /
 * SIGINT. Nothing acknowledged is lost by that exit: bindings and
 * subscriptions are durable before their 200 OK goes out.
 *
 * Descriptors: the soft RLIMIT_NOFILE is raised to the hard limit first;
 * the transport keeps tcp_max_connections below what it allows.
 */
#include "cli/cli.h"

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sipkit/admin.h>
#include <sipkit/server.h>

#include <systemd/sd-daemon.h>

#ifndef SK_VERSION
#define SK_VERSION "0"
#endif

static void log_line(void *arg, enum sk_log_level level, const char *module, const char *text)
{
    struct timespec ts;
    struct tm tm;
    char when[32];

    (void)arg;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
    /* One fprintf per line: stdio's lock keeps lines from interleaving. */
    fprintf(stderr, "ts=%s.%03ldZ level=%s module=%s %s\n", when, ts.tv_nsec / 1000000,
            sk_log_level_name(level), module, text);
}

static void trace_msg(void *arg, enum sk_trace_dir dir, enum sk_transport t,
                      const struct sk_addr *local, const struct sk_addr *peer,
                      struct sk_slice bytes)
{
    char p[SK_ADDR_STRLEN], l[SK_ADDR_STRLEN];

    (void)arg;
    flockfile(stdout);
    sk_addr_format(peer, p, sizeof(p));
    sk_addr_format(local, l, sizeof(l));
    fprintf(stdout, "%s %s %s -> %s (%zu bytes)\n", dir == SK_TRACE_IN ? "<<<" : ">>>",
            sk_transport_name(t), dir == SK_TRACE_IN ? p : l, dir == SK_TRACE_IN ? l : p,
            bytes.len);
    fwrite(bytes.p, 1, bytes.len, stdout);
    if (bytes.len == 0 || bytes.p[bytes.len - 1] != '\n')
        fputc('\n', stdout);
    fputc('\n', stdout);
    fflush(stdout);
    funlockfile(stdout);
}

static void usage(FILE *out)
{
    struct sk_buf b;

    sk_buf_init(&b);
    sk_server_config_help(&b);
    fprintf(out,
            "usage: sipkit serve [--config FILE] [--listen ADDR:PORT]... [--data-dir DIR]\n"
            "                    [--domain DOMAIN] [OPTIONS]\n\n"
            "Runs the SIP server in the foreground until SIGTERM; SIGHUP reloads the\n"
            "options marked (SIGHUP). Logs go to stderr, --trace output to stdout.\n\n"
            "  %-30s %s\n  %-30s %s\n  %-30s %s\n%s",
            "--config FILE", "read options from an INI file (docs/configuration.md)",
            "--check-config", "validate the configuration and exit (0 valid, 2 invalid)", "--help",
            "show this help", sk_buf_ok(&b) ? b.p : "");
    sk_buf_free(&b);
}

/* Defaults, then the file named by --config, then the other flags. */
static int load_config(int argc, char **argv, struct sk_server_config *c, char *err, size_t errsz)
{
    const char *file = NULL;

    sk_server_config_init(c);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            file = argv[++i];
        else if (strncmp(argv[i], "--config=", 9) == 0)
            file = argv[i] + 9;
        else if (strcmp(argv[i], "--config") == 0) {
            snprintf(err, errsz, "--config needs a value (FILE)");
            return SK_EINVAL;
        }
    }
    if (file != NULL) {
        int rc = sk_server_config_load(c, file, err, errsz);
        if (rc != 0)
            return rc;
    }
    if (sk_server_config_args(c, argc, argv, err, errsz) != 0)
        return SK_EINVAL;
    return sk_server_config_finish(c, err, errsz);
}

static bool has_flag(int argc, char **argv, const char *flag)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], flag) == 0)
            return true;
    }
    return false;
}

/* Seconds past drain_timeout that closing connections and joining the
 * threads may take before the watchdog ends the process. */
#define STOP_GRACE_S 5

struct watchdog {
    sigset_t set;
    unsigned limit_s;
};

static struct watchdog dog;

static void *watchdog_main(void *arg)
{
    struct watchdog *d = arg;
    struct timespec until, now, left;
    int sig;

    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += d->limit_s;
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec > until.tv_sec ||
            (now.tv_sec == until.tv_sec && now.tv_nsec >= until.tv_nsec)) {
            sig = 0;
            break;
        }
        left.tv_sec = until.tv_sec - now.tv_sec;
        left.tv_nsec = until.tv_nsec - now.tv_nsec;
        if (left.tv_nsec < 0) {
            left.tv_sec--;
            left.tv_nsec += 1000000000L;
        }
        sig = sigtimedwait(&d->set, NULL, &left);
        if (sig == SIGTERM || sig == SIGINT)
            break;
    }
    SK_LOG(SK_LOG_ERROR, "server", "event=exit status=1 reason=\"%s\"",
           sig == 0 ? "stop took longer than drain_timeout plus 5 s" : "second signal");
    fflush(stdout);
    fflush(stderr);
    _exit(SK_EXIT_FAIL);
}

static void start_watchdog(const sigset_t *set, unsigned drain_timeout_s)
{
    pthread_t t;

    dog.set = *set;
    dog.limit_s = drain_timeout_s + STOP_GRACE_S;
    if (pthread_create(&t, NULL, watchdog_main, &dog) == 0)
        pthread_detach(t);
    else
        SK_LOG(SK_LOG_WARN, "server", "event=watchdog_failed");
}

/* The soft descriptor limit up to the hard one: a TCP peer holds one. */
static void raise_fd_limit(void)
{
    uint64_t soft = 0, hard = 0;
    int err = sk_fd_limit_raise(&soft, &hard);

    if (err != 0)
        SK_LOG(SK_LOG_WARN, "server",
               "event=fd_limit_raise_failed soft=%llu hard=%llu error=\"%s\"",
               (unsigned long long)soft, (unsigned long long)hard, sk_strerror(err));
    else
        SK_LOG(SK_LOG_INFO, "server", "event=fd_limit soft=%llu hard=%llu",
               (unsigned long long)soft, (unsigned long long)hard);
}

/* systemd's STATUS= line: what `systemctl status` shows. */
static void notify_status(struct sk_server *s)
{
    struct sk_server_stats st;

    sk_server_get_stats(s, &st);
    sd_notifyf(0, "STATUS=serving: %zu bindings, %llu requests, %llu tcp connections", st.bindings,
               (unsigned long long)(st.requests[SK_METHOD_REGISTER] +
                                    st.requests[SK_METHOD_INVITE] + st.requests[SK_METHOD_OPTIONS]),
               (unsigned long long)st.tp.tcp_open);
}

/* Wait for signals until SIGTERM / SIGINT, waking at least every half
 * watchdog interval (or every 10 s) to tell systemd we are alive. */
static void run_until_term(struct sk_server *s, struct sk_admin *admin, const sigset_t *set,
                           int argc, char **argv)
{
    uint64_t wd_us = 0;
    struct timespec tick = {10, 0};

    if (sd_watchdog_enabled(0, &wd_us) > 0 && wd_us > 0) {
        tick.tv_sec = (time_t)(wd_us / 2 / 1000000u);
        tick.tv_nsec = (long)(wd_us / 2 % 1000000u) * 1000;
    }
    for (;;) {
        int sig = sigtimedwait(set, NULL, &tick);
        if (sig < 0) {
            if (wd_us > 0)
                sd_notify(0, "WATCHDOG=1");
            notify_status(s);
            continue;
        }
        if (sig == SIGTERM || sig == SIGINT) {
            SK_LOG(SK_LOG_INFO, "server", "event=signal signal=%s",
                   sig == SIGTERM ? "TERM" : "INT");
            sd_notify(0, "STOPPING=1\nSTATUS=draining");
            return;
        }
        if (sig == SIGHUP) {
            struct sk_server_config c;
            char err[512];
            SK_LOG(SK_LOG_INFO, "server", "event=signal signal=HUP");
            sd_notify(0, "RELOADING=1");
            if (load_config(argc, argv, &c, err, sizeof(err)) != 0) {
                SK_LOG(SK_LOG_ERROR, "server", "event=reload_failed error=\"%s\"", err);
                sd_notify(0, "READY=1");
                continue;
            }
            sk_log_set(log_line, NULL, (enum sk_log_level)c.log_level);
            sk_server_reload(s, &c);
            if (admin != NULL)
                sk_admin_reload_token(admin);
            sd_notify(0, "READY=1");
        }
    }
}

static int start_admin(struct sk_server *s, const struct sk_server_config *cfg,
                       struct sk_admin **out)
{
    struct sk_admin_config ac = {cfg->admin_listen, cfg->admin_token_file, SK_VERSION, s};

    *out = NULL;
    if (cfg->admin_listen[0] == '\0')
        return 0;
    return sk_admin_new(out, &ac);
}

int sk_cmd_serve(int argc, char **argv)
{
    struct sk_server_config cfg;
    struct sk_server *s = NULL;
    struct sk_admin *admin = NULL;
    char err[512];
    sigset_t set;
    int rc;

    if (has_flag(argc, argv, "--help") || has_flag(argc, argv, "-h")) {
        usage(stdout);
        return SK_EXIT_OK;
    }
    rc = load_config(argc, argv, &cfg, err, sizeof(err));
    if (rc != 0) {
        sk_cli_error("serve", "%s", err);
        if (rc == SK_EINVAL || has_flag(argc, argv, "--check-config"))
            return SK_EXIT_USAGE;
        return SK_EXIT_SYSTEM;
    }
    if (has_flag(argc, argv, "--check-config")) {
        printf("configuration ok: %zu listener(s), domain %s, data dir %s\n", cfg.nlisteners,
               cfg.domain, cfg.data_dir);
        return SK_EXIT_OK;
    }
    sk_log_set(log_line, NULL, (enum sk_log_level)cfg.log_level);
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    /* Before any thread starts, so every worker inherits the mask. */
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    raise_fd_limit();
    rc = sk_server_new(&s, &cfg, trace_msg, NULL);
    if (rc == 0)
        rc = sk_server_start(s);
    if (rc == 0 && (rc = start_admin(s, &cfg, &admin)) != 0)
        sk_server_stop(s);
    if (rc != 0) {
        sk_cli_error("serve", "cannot start: %s", sk_strerror(rc));
        sd_notifyf(0, "STATUS=cannot start: %s", sk_strerror(rc));
        sk_server_free(s);
        return SK_EXIT_SYSTEM;
    }
    sd_notify(0, "READY=1");
    notify_status(s);
    run_until_term(s, admin, &set, argc, argv);
    start_watchdog(&set, cfg.drain_timeout);
    sk_admin_free(admin); /* before the server it reads */
    sk_server_stop(s);
    sk_server_free(s);
    SK_LOG(SK_LOG_INFO, "server", "event=exit status=0");
    return SK_EXIT_OK;
}
