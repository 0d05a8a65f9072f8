/*
 * The server's lifecycle: data directory, transports, the addresses that
 * mean "us" (for loop detection, RFC 3261 §16.3 step 4), start with one
 * `event=listening` log line per socket, reload of the reloadable options
 * (SIGHUP) and a bounded drain on stop (SIGTERM).
 *
 * Memory: struct sk_server owns its transport, its per-worker buffers and
 * its address list; sk_server_free() releases them.
 */
#include "server/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* mkdir -p, then prove the directory is writable by creating a file. */
static int prepare_data_dir(const char *dir)
{
    char path[SK_SERVER_PATH_MAX + 32];
    size_t n = strlen(dir);
    int fd;

    if (n == 0 || n >= SK_SERVER_PATH_MAX)
        return SK_EINVAL;
    memcpy(path, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        char c = path[i];
        path[i] = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST)
            return -errno;
        path[i] = c;
    }
    snprintf(path, sizeof(path), "%s/.sipkit-write-test", dir);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    close(fd);
    unlink(path);
    return 0;
}

static int add_self(struct sk_server *s, const struct sk_addr *a)
{
    struct sk_addr *p = sk_realloc(s->self, (s->nself + 1) * sizeof(*p));

    if (p == NULL)
        return SK_ENOMEM;
    s->self = p;
    s->self[s->nself++] = *a;
    return 0;
}

/* Every bound address; a wildcard stands for each interface address of
 * its family, with the listener's port. */
static int collect_self(struct sk_server *s)
{
    struct ifaddrs *ifs = NULL;
    int err = 0;

    for (unsigned i = 0; err == 0 && i < s->cfg.nlisteners; i++) {
        struct sk_addr b;
        if (sk_tp_listener_addr(s->tp, i, &b) != 0)
            continue;
        if (!sk_addr_is_any(&b)) {
            err = add_self(s, &b);
            continue;
        }
        if (ifs == NULL && getifaddrs(&ifs) != 0)
            return 0; /* loop detection then covers explicit addresses only */
        for (struct ifaddrs *f = ifs; err == 0 && f != NULL; f = f->ifa_next) {
            struct sk_addr a;
            if (f->ifa_addr == NULL || f->ifa_addr->sa_family != b.sa.sa_family)
                continue;
            memset(&a, 0, sizeof(a));
            memcpy(&a.ss, f->ifa_addr, b.sa.sa_family == AF_INET6 ? sizeof(a.in6) : sizeof(a.in));
            sk_addr_set_port(&a, sk_addr_port(&b));
            err = add_self(s, &a);
        }
    }
    if (ifs != NULL)
        freeifaddrs(ifs);
    return err;
}

static void runtime_of(const struct sk_server_config *c, struct sk_tp_runtime *rt)
{
    rt->tcp_idle_timeout_s = c->tcp_idle_timeout;
    rt->tcp_max_connections = c->tcp_max_connections;
    rt->tcp_max_buffer = c->tcp_max_buffer;
    rt->trace = c->trace;
}

int sk_server_new(struct sk_server **out, const struct sk_server_config *cfg,
                  sk_tp_trace_cb on_trace, void *trace_arg)
{
    struct sk_tp_config tc;
    struct sk_server *s;
    int err;

    err = prepare_data_dir(cfg->data_dir);
    if (err != 0) {
        SK_LOG(SK_LOG_ERROR, "server", "event=data_dir_failed dir=\"%s\" error=\"%s\"",
               cfg->data_dir, sk_strerror(err));
        return err;
    }
    s = sk_calloc(1, sizeof(*s));
    if (s == NULL)
        return SK_ENOMEM;
    s->cfg = *cfg;
    memset(&tc, 0, sizeof(tc));
    tc.listeners = s->cfg.listeners;
    tc.nlisteners = s->cfg.nlisteners;
    tc.workers = s->cfg.workers;
    tc.limits.max_size = s->cfg.max_message_size;
    runtime_of(&s->cfg, &tc.runtime);
    tc.on_recv = sk__pipeline_recv;
    tc.recv_arg = s;
    tc.on_trace = on_trace;
    tc.trace_arg = trace_arg;
    err = sk_tp_new(&s->tp, &tc);
    if (err != 0)
        goto fail;
    s->nworkers = sk_tp_worker_count(s->tp);
    s->workers = sk_calloc(s->nworkers, sizeof(*s->workers));
    if (s->workers == NULL) {
        err = SK_ENOMEM;
        goto fail;
    }
    for (unsigned i = 0; i < s->nworkers; i++)
        sk_buf_init(&s->workers[i].out);
    if ((err = collect_self(s)) != 0)
        goto fail;
    *out = s;
    return 0;
fail:
    sk_server_free(s);
    return err;
}

int sk_server_start(struct sk_server *s)
{
    char a[SK_ADDR_STRLEN];
    int err = sk_tp_start(s->tp);

    if (err != 0) {
        SK_LOG(SK_LOG_ERROR, "server", "event=start_failed error=\"%s\"", sk_strerror(err));
        return err;
    }
    for (unsigned i = 0; i < s->cfg.nlisteners; i++) {
        struct sk_addr b;
        if (sk_tp_listener_addr(s->tp, i, &b) != 0)
            continue;
        sk_addr_format(&b, a, sizeof(a));
        SK_LOG(SK_LOG_INFO, "server", "event=listening transport=udp addr=%s", a);
        SK_LOG(SK_LOG_INFO, "server", "event=listening transport=tcp addr=%s", a);
    }
    SK_LOG(SK_LOG_INFO, "server", "event=started workers=%u domain=%s data_dir=\"%s\"", s->nworkers,
           s->cfg.domain, s->cfg.data_dir);
    return 0;
}

void sk_server_reload(struct sk_server *s, const struct sk_server_config *cfg)
{
    size_t n;
    const struct sk_option *opts = sk_server_options(&n);
    struct sk_tp_runtime rt;

    /* Options that need a restart keep their old value; say which. */
    for (size_t i = 0; i < n; i++) {
        const struct sk_option *o = &opts[i];
        const char *oldv = (const char *)&s->cfg + o->offset;
        const char *newv = (const char *)cfg + o->offset;
        bool changed;
        if (o->reloadable)
            continue;
        if (o->type == SK_OPT_LISTEN)
            changed = s->cfg.nlisteners != cfg->nlisteners ||
                      memcmp(s->cfg.listeners, cfg->listeners,
                             cfg->nlisteners * sizeof(cfg->listeners[0])) != 0;
        else if (o->type == SK_OPT_STRING)
            changed = strcmp(oldv, newv) != 0;
        else
            changed = memcmp(oldv, newv, sizeof(unsigned)) != 0;
        if (changed)
            SK_LOG(SK_LOG_WARN, "server", "event=reload_skipped option=%s reason=\"needs restart\"",
                   o->name);
    }
    s->cfg.log_level = cfg->log_level;
    s->cfg.trace = cfg->trace;
    s->cfg.tcp_idle_timeout = cfg->tcp_idle_timeout;
    s->cfg.tcp_max_connections = cfg->tcp_max_connections;
    s->cfg.tcp_max_buffer = cfg->tcp_max_buffer;
    runtime_of(&s->cfg, &rt);
    sk_tp_set_runtime(s->tp, &rt);
    SK_LOG(SK_LOG_INFO, "server", "event=reloaded log_level=%s trace=%s tcp_idle_timeout=%u",
           sk_log_level_name((enum sk_log_level)s->cfg.log_level), s->cfg.trace ? "on" : "off",
           s->cfg.tcp_idle_timeout);
}

void sk_server_stop(struct sk_server *s)
{
    struct sk_tp_stats st;

    if (s == NULL || s->tp == NULL)
        return;
    SK_LOG(SK_LOG_INFO, "server", "event=draining timeout_s=%u", s->cfg.drain_timeout);
    sk_tp_stop(s->tp, s->cfg.drain_timeout * 1000);
    sk_tp_get_stats(s->tp, &st);
    SK_LOG(SK_LOG_INFO, "server",
           "event=stopped rx=%llu tx=%llu bad=%llu tcp_accepted=%llu tcp_refused=%llu",
           (unsigned long long)st.rx_msgs, (unsigned long long)st.tx_msgs,
           (unsigned long long)st.rx_bad, (unsigned long long)st.tcp_accepted,
           (unsigned long long)st.tcp_refused);
}

void sk_server_free(struct sk_server *s)
{
    if (s == NULL)
        return;
    sk_tp_free(s->tp);
    for (unsigned i = 0; s->workers != NULL && i < s->nworkers; i++)
        sk_buf_free(&s->workers[i].out);
    sk_free(s->workers);
    sk_free(s->self);
    sk_free(s);
}

int sk_server_listener_addr(const struct sk_server *s, unsigned i, struct sk_addr *out)
{
    return sk_tp_listener_addr(s->tp, i, out);
}
