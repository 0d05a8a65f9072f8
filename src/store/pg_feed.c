/*
 * The change feed of a store on PostgreSQL: how a REGISTER on one server
 * reaches the location service of every other server on the same
 * database.
 *
 * Every location write (pg_ops.c) ends with pg_notify('sipkit_location',
 * "NODE AOR") inside the writer's transaction; PostgreSQL delivers it to
 * the listeners when the transaction commits, and not at all when it
 * rolls back. A thread here holds a connection of its own ("feed") with
 * LISTEN sipkit_location and waits on its socket. For each message from
 * another node it reads the AOR's rows and hands them to the subscriber
 * (the location service: sk__location_replace), which swaps them into
 * memory; a message from this node is ignored (memory changed first).
 * On the loopback this takes a few milliseconds after the COMMIT.
 *
 * Messages sent while the feed's connection was down are lost, so after
 * a reconnection every stored AOR is read again and replaced (AORs that
 * another node emptied meanwhile keep their old bindings in this node's
 * memory until they expire).
 *
 * Publications (PUBLISH, RFC 3903) go the same way on a second channel,
 * "sipkit_presence", with "NODE PACKAGE RESOURCE": the subscriber (the
 * events layer) reads that resource's publications again itself. They are
 * not made up for after a reconnection.
 *
 * Threads: the feed thread calls the subscriber with f->lock held;
 * sk__pgfeed_set(NULL) takes that lock, so once it returns no call is
 * running or will run. Memory: struct sk__pgfeed owns its connection and
 * its wake-up pipe; the rows handed over belong to the subscriber.
 */
#include "store/pg_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

struct sk__pgfeed {
    struct sk__pgconn *conn;
    pthread_t thread;
    int wake[2]; /* written to stop the thread */
    pthread_mutex_t lock;
    sk__feed_cb cb;
    void *arg;
    sk_store_pub_feed_cb pcb; /* publications */
    void *parg;
    bool stop;
    bool listened; /* LISTEN ran once: a new connection must catch up */
};

/* Under f->lock: hand one AOR's rows over. */
static void deliver(struct sk__pgfeed *f, const char *aor, struct sk__lbind *rows)
{
    if (f->cb != NULL)
        f->cb(f->arg, aor, rows);
    else
        sk__lbind_free_list(rows);
}

static void reload_aor(struct sk__pgfeed *f, const char *aor)
{
    struct sk__pgp p = {.n = 0};
    PGresult *r = NULL;
    int err;

    sk__pgp_text(&p, aor);
    if (sk__pgc_exec(f->conn, SK__PG_LOC_SELECT " WHERE aor = $1", &p, true, &r) != 0)
        return; /* down: the reconnection reloads everything */
    struct sk__lbind *rows = sk__pg_rows(r, 0, PQntuples(r), &err);
    PQclear(r);
    if (err == 0) {
        pthread_mutex_lock(&f->lock);
        deliver(f, aor, rows);
        pthread_mutex_unlock(&f->lock);
    }
}

/* After a reconnection: every stored AOR, as it is now. */
static void reload_all(struct sk__pgfeed *f)
{
    PGresult *r = NULL;
    int n, err = 0;

    if (sk__pgc_exec(f->conn, SK__PG_LOC_SELECT " ORDER BY aor", NULL, true, &r) != 0)
        return;
    n = PQntuples(r);
    pthread_mutex_lock(&f->lock);
    for (int i = 0, j; i < n && err == 0; i = j) {
        const char *aor = PQgetvalue(r, i, 0);
        for (j = i + 1; j < n && strcmp(PQgetvalue(r, j, 0), aor) == 0; j++)
            ;
        struct sk__lbind *rows = sk__pg_rows(r, i, j, &err);
        if (err == 0)
            deliver(f, aor, rows);
    }
    pthread_mutex_unlock(&f->lock);
    PQclear(r);
    SK_LOG(SK_LOG_INFO, "store", "event=feed_resync backend=postgresql rows=%d", n);
}

/* "PACKAGE RESOURCE" of a publication changed by another node. */
static void pub_changed(struct sk__pgfeed *f, const char *rest)
{
    char package[SK_SUB_PKG_MAX + 1];
    const char *sp = strchr(rest, ' ');

    if (sp == NULL || sp == rest || (size_t)(sp - rest) > SK_SUB_PKG_MAX || sp[1] == '\0')
        return;
    memcpy(package, rest, (size_t)(sp - rest));
    package[sp - rest] = '\0';
    pthread_mutex_lock(&f->lock);
    if (f->pcb != NULL)
        f->pcb(f->parg, sp + 1, package);
    pthread_mutex_unlock(&f->lock);
    SK_LOG(SK_LOG_DEBUG, "store", "event=feed_applied resource=\"%s\" package=%s", sp + 1, package);
}

static void handle(struct sk__pgfeed *f, const char *channel, const char *payload)
{
    const char *node = sk__pgc_node(f->conn);
    size_t n = strlen(node);

    if (strncmp(payload, node, n) == 0 && payload[n] == ' ')
        return; /* ours */
    const char *sp = strchr(payload, ' ');
    if (strcmp(channel, SK__PG_PUB_CHANNEL) == 0) {
        if (sp != NULL)
            pub_changed(f, sp + 1);
        return;
    }
    if (sp != NULL && sp[1] != '\0') {
        reload_aor(f, sp + 1);
        SK_LOG(SK_LOG_DEBUG, "store", "event=feed_applied aor=\"%s\"", sp + 1);
    }
}

/* LISTEN on a (new) connection; a reconnection catches up. */
static int listen_now(struct sk__pgfeed *f)
{
    int rc = sk__pgc_exec(f->conn, "LISTEN " SK__PG_FEED_CHANNEL, NULL, true, NULL);

    if (rc == 0)
        rc = sk__pgc_exec(f->conn, "LISTEN " SK__PG_PUB_CHANNEL, NULL, true, NULL);
    if (rc != 0)
        return rc;
    if (f->listened)
        reload_all(f);
    f->listened = true;
    return 0;
}

static bool stopping(struct sk__pgfeed *f)
{
    bool stop;

    pthread_mutex_lock(&f->lock);
    stop = f->stop;
    pthread_mutex_unlock(&f->lock);
    return stop;
}

/* Wait for the socket (or ms when down) or for the wake-up pipe. */
static void wait_for(struct sk__pgfeed *f, PGconn *c, int ms)
{
    struct pollfd pfd[2] = {{.fd = f->wake[0], .events = POLLIN},
                            {.fd = c != NULL ? PQsocket(c) : -1, .events = POLLIN}};

    poll(pfd, c != NULL ? 2 : 1, ms);
}

static void *feed_main(void *arg)
{
    struct sk__pgfeed *f = arg;

    while (!stopping(f)) {
        PGconn *c = sk__pgc_conn(f->conn);
        PGnotify *msg;
        if (c == NULL) {
            int ms = sk__pgc_retry_ms(f->conn);
            if (ms > 0) {
                wait_for(f, NULL, ms);
                continue;
            }
            if (listen_now(f) != 0)
                continue;
            c = sk__pgc_conn(f->conn);
        }
        wait_for(f, c, 1000);
        if (PQconsumeInput(c) != 1 || PQstatus(c) != CONNECTION_OK) {
            sk__pgc_lost(f->conn);
            continue;
        }
        while ((msg = PQnotifies(c)) != NULL) {
            handle(f, msg->relname, msg->extra);
            PQfreemem(msg);
        }
    }
    return NULL;
}

void sk__pgfeed_free(struct sk__pgfeed *f)
{
    if (f == NULL)
        return;
    pthread_mutex_lock(&f->lock);
    f->stop = true;
    pthread_mutex_unlock(&f->lock);
    if (write(f->wake[1], "x", 1) < 0) {
        /* The pipe is ours and empty: cannot fail but for a bug. */
    }
    pthread_join(f->thread, NULL);
    close(f->wake[0]);
    close(f->wake[1]);
    sk__pgc_free(f->conn);
    pthread_mutex_destroy(&f->lock);
    sk_free(f);
}

static int feed_new(struct sk_store *s, struct sk__pgfeed **out)
{
    struct sk__pgfeed *f = sk_calloc(1, sizeof(*f));
    int rc;

    if (f == NULL)
        return SK_ENOMEM;
    pthread_mutex_init(&f->lock, NULL);
    f->conn = sk__pgc_new(s, "feed");
    if (f->conn == NULL || pipe2(f->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
        rc = f->conn == NULL ? SK_ENOMEM : -errno;
        sk__pgc_free(f->conn);
        pthread_mutex_destroy(&f->lock);
        sk_free(f);
        return rc;
    }
    /* LISTEN before the caller loads: no change falls in between. */
    rc = listen_now(f);
    if (rc == 0 && pthread_create(&f->thread, NULL, feed_main, f) != 0)
        rc = SK_ENOMEM;
    if (rc != 0) {
        close(f->wake[0]);
        close(f->wake[1]);
        sk__pgc_free(f->conn);
        pthread_mutex_destroy(&f->lock);
        sk_free(f);
        return rc;
    }
    *out = f;
    return 0;
}

/* The store's feed in *out, made on first use when wanted (a callback
 * to set); *out NULL when there is none and none is wanted. */
static int feed_get(struct sk_store *s, bool wanted, struct sk__pgfeed **out)
{
    struct sk__pgfeed **fp = sk__pg_feedp(s);
    int rc;

    if (*fp == NULL && wanted && (rc = feed_new(s, fp)) != 0)
        return rc;
    *out = *fp;
    return 0;
}

int sk__pgfeed_set(struct sk_store *s, sk__feed_cb cb, void *arg)
{
    struct sk__pgfeed *f;
    int rc = feed_get(s, cb != NULL, &f);

    if (rc != 0 || f == NULL)
        return rc;
    pthread_mutex_lock(&f->lock);
    f->cb = cb;
    f->arg = arg;
    pthread_mutex_unlock(&f->lock);
    return 0;
}

int sk__pgfeed_pub_set(struct sk_store *s, sk_store_pub_feed_cb cb, void *arg)
{
    struct sk__pgfeed *f;
    int rc = feed_get(s, cb != NULL, &f);

    if (rc != 0 || f == NULL)
        return rc;
    pthread_mutex_lock(&f->lock);
    f->pcb = cb;
    f->parg = arg;
    pthread_mutex_unlock(&f->lock);
    return 0;
}
