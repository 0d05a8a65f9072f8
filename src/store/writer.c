/*
 * The store's one writer: a thread that owns the SQLite connection every
 * server write goes through (location bindings, subscriptions,
 * publications), so that no event loop ever waits on a COMMIT, a busy
 * lock or a checkpoint. (The guard's ban rows, bans.c, are the exception:
 * rare, written from the timer thread on the store's own connection.)
 *
 * Callers queue a struct sk__wop (its link is embedded: queueing
 * allocates nothing). The thread takes the whole queue, runs every op's
 * write callback inside one BEGIN IMMEDIATE..COMMIT (group commit: under
 * load many REGISTERs share one transaction, alone a write costs one),
 * then completes each op in queue order: an op's quick callback runs at
 * once on the writer thread (the registrar sends its 200 OK from there,
 * after the COMMIT, never before), a synchronous waiter (sk__writer_run)
 * is woken, and an asynchronous op's done callback is handed to a second
 * thread, the completer (the "reg" watchers' NOTIFYs). When the
 * transaction fails, the ops are completed in reverse order, so that each
 * can undo its change in memory on top of the state the later ones left.
 *
 * Why two threads: a done callback takes application locks (the events
 * layer's, to NOTIFY the "reg" watchers) and may write again (waiting for
 * a COMMIT), while another thread holding that lock may be waiting for a
 * COMMIT too. The writer itself runs only write callbacks and quick ones,
 * which neither wait for a write nor take such locks, so it can always
 * make progress. The quick path spares the common case (no "reg"
 * watcher) a hand-off per batch: a wake-up and a context switch.
 *
 * Durability (struct sk_store_options.durability): WAL with
 * synchronous=NORMAL survives a process crash (the COMMIT is in the WAL
 * file, in the kernel's hands, before the done callback runs);
 * synchronous=FULL also fsyncs the WAL at every COMMIT, i.e. once per
 * group, and survives a power cut. Checkpoints (every 10000 WAL pages)
 * run here too, after a COMMIT.
 *
 * A done callback may queue more work, or wait for it (the "reg" event
 * package writes NOTIFY sequence numbers).
 *
 * Other backends (PostgreSQL) give the writer their connection and a
 * struct sk__wconn_ops for BEGIN, COMMIT and ROLLBACK: the grouping, the
 * order of completions and the undo on failure are the same. While such
 * a connection is down the writer wakes at the times its idle callback
 * asks for, so it reconnects without waiting for a request.
 *
 * Memory: the writer owns its connection and every statement prepared
 * through sk__writer_stmt(); ops belong to their callers until done.
 */
#include "store/store_int.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define MAX_STMTS 24

/* Group commit under load: when a batch arrives within BUSY_US of the
 * previous COMMIT, the writer lets LINGER_US pass before taking the queue,
 * so that the REGISTERs arriving meanwhile share the COMMIT (one WAL
 * append, one set of file locks, one wake-up of each thread for the
 * batch). Under such load it pauses right after each COMMIT instead, so
 * that the next writes find it asleep rather than waiting on `work`: they
 * signal nobody, and the writer wakes once per batch (a timer) instead of
 * twice (the first write's signal, then the linger). Only a lone op (or
 * none) waits: when several are queued, batches form by themselves.
 * Alone, or after a quiet spell, a write is committed at once. 2 ms is
 * little beside a REGISTER's round trip and the 200 OK still leaves only
 * after its COMMIT; a synchronous waiter never lingers. */
#define BUSY_US   10000
#define LINGER_US 2000

static const char begin_sql[] = "BEGIN IMMEDIATE";
static const char commit_sql[] = "COMMIT";

struct sk__writer {
    sqlite3 *db;
    const struct sk__wconn_ops *ops; /* NULL: SQLite on db */
    void *conn;
    pthread_t thread, completer;
    bool started, stop, cstop;
    pthread_mutex_t lock;
    pthread_cond_t work, done, cwork;
    struct sk__wop *head, *tail;   /* to write */
    struct sk__wop *chead, *ctail; /* written: done callbacks to run */
    struct {
        const char *sql;
        sqlite3_stmt *st;
    } stmts[MAX_STMTS];
    uint64_t last_commit_us; /* end of the previous batch (writer thread) */
    /* Test hook: the next `fail_n` COMMITs fail with `fail_rc`. */
    _Atomic unsigned fail_n;
    int fail_rc;
    struct sk_histo commit_us; /* each group COMMIT, BEGIN to COMMIT (admin metrics) */
};

static int wexec(sqlite3 *db, const char *sql)
{
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);

    if (rc != SQLITE_OK) {
        SK_LOG(SK_LOG_ERROR, "store", "op=writer_exec sql=\"%.20s\" err=\"%s\"", sql,
               sqlite3_errmsg(db));
        rc = sk__store_err(rc);
        return rc != 0 ? rc : SK_EIO;
    }
    return 0;
}

/* The writer's idle wait (timed_wait) runs on the monotonic clock, so a
 * step of the wall clock neither stalls nor hurries a reconnection. */
static void writer_init_sync(struct sk__writer *w)
{
    pthread_condattr_t attr;

    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->work, &attr);
    pthread_cond_init(&w->done, NULL);
    pthread_cond_init(&w->cwork, NULL);
    pthread_condattr_destroy(&attr);
}

int sk__writer_open(struct sk__writer **out, const char *path, unsigned busy_ms, bool power)
{
    struct sk__writer *w = sk_calloc(1, sizeof(*w));
    int rc;

    if (w == NULL)
        return SK_ENOMEM;
    writer_init_sync(w);
    rc = sqlite3_open_v2(path, &w->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        rc = sk__store_err(rc) != 0 ? sk__store_err(rc) : SK_EIO;
        sk__writer_close(w);
        return rc;
    }
    sqlite3_busy_timeout(w->db, (int)busy_ms);
    /* synchronous is per connection; see the top of this file. */
    rc = wexec(w->db, power ? "PRAGMA synchronous=FULL; PRAGMA wal_autocheckpoint=10000;"
                            : "PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint=10000;");
    if (rc != 0) {
        sk__writer_close(w);
        return rc;
    }
    *out = w;
    return 0;
}

int sk__writer_open_conn(struct sk__writer **out, const struct sk__wconn_ops *ops, void *conn)
{
    struct sk__writer *w = sk_calloc(1, sizeof(*w));

    if (w == NULL)
        return SK_ENOMEM;
    writer_init_sync(w);
    w->ops = ops;
    w->conn = conn;
    *out = w;
    return 0;
}

sqlite3 *sk__writer_db(struct sk__writer *w)
{
    return w->db;
}

void *sk__writer_conn(struct sk__writer *w)
{
    return w->conn;
}

sqlite3_stmt *sk__writer_stmt(struct sk__writer *w, const char *sql)
{
    for (int i = 0; i < MAX_STMTS; i++) {
        if (w->stmts[i].sql == sql)
            return w->stmts[i].st;
        if (w->stmts[i].sql != NULL)
            continue;
        if (sqlite3_prepare_v2(w->db, sql, -1, &w->stmts[i].st, NULL) != SQLITE_OK) {
            SK_LOG(SK_LOG_ERROR, "store", "op=writer_prepare err=\"%s\"", sqlite3_errmsg(w->db));
            sqlite3_finalize(w->stmts[i].st);
            w->stmts[i].st = NULL;
            return NULL;
        }
        w->stmts[i].sql = sql;
        return w->stmts[i].st;
    }
    return NULL; /* MAX_STMTS too small: a programming error, reported as SK_EIO */
}

int sk__writer_step(struct sk__writer *w, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);

    if (rc != SQLITE_DONE)
        SK_LOG(SK_LOG_ERROR, "store", "op=writer_step err=\"%s\"", sqlite3_errmsg(w->db));
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc == SQLITE_DONE)
        return 0;
    rc = sk__store_err(rc);
    return rc != 0 ? rc : SK_EIO;
}

void sk__writer_fail_commits(struct sk__writer *w, int sqlite_rc, unsigned n)
{
    w->fail_rc = sqlite_rc;
    atomic_store(&w->fail_n, n);
}

/* BEGIN and COMMIT, prepared once: sqlite3_exec() would parse them for
 * every batch. */
static int wstep(struct sk__writer *w, const char *sql)
{
    sqlite3_stmt *st = sk__writer_stmt(w, sql);

    return st != NULL ? sk__writer_step(w, st) : wexec(w->db, sql);
}

/* One transaction for the batch. Returns 0 or the error every op gets. */
static int commit_batch(struct sk__writer *w, struct sk__wop *batch)
{
    uint64_t t0 = sk_now_us();
    int rc = w->ops != NULL ? w->ops->begin(w->conn) : wstep(w, begin_sql);

    for (struct sk__wop *op = batch; rc == 0 && op != NULL; op = op->next) {
        op->result = 0;
        rc = op->write(w, op);
    }
    if (rc == 0 && atomic_load(&w->fail_n) > 0) {
        atomic_fetch_sub(&w->fail_n, 1);
        rc = sk__store_err(w->fail_rc);
        rc = rc != 0 ? rc : SK_EIO;
        SK_LOG(SK_LOG_ERROR, "store", "op=commit err=\"injected: %s\"", sk_strerror(rc));
    }
    if (rc == 0)
        rc = w->ops != NULL ? w->ops->commit(w->conn) : wstep(w, commit_sql);
    if (rc != 0 && w->ops != NULL) {
        w->ops->rollback(w->conn);
        SK_LOG(SK_LOG_ERROR, "store", "event=commit_failed ops=%s error=\"%s\"",
               batch != NULL && batch->next != NULL ? "many" : "one", sk_strerror(rc));
    } else if (rc != 0) {
        /* After a failed COMMIT SQLite may have rolled back already. */
        if (!sqlite3_get_autocommit(w->db))
            sqlite3_exec(w->db, "ROLLBACK", NULL, NULL, NULL);
        SK_LOG(SK_LOG_ERROR, "store", "event=commit_failed ops=%s error=\"%s\"",
               batch != NULL && batch->next != NULL ? "many" : "one", sk_strerror(rc));
    } else {
        sk_histo_observe(&w->commit_us, sk_now_us() - t0);
    }
    return rc;
}

const struct sk_histo *sk__writer_commit_times(const struct sk__writer *w)
{
    return &w->commit_us;
}

/* Writer thread: run the batch's quick callbacks, wake its synchronous
 * waiters, and hand its done callbacks to the completer in order, with one
 * lock and one signal for the whole batch. */
static void complete(struct sk__writer *w, struct sk__wop *batch, int rc)
{
    struct sk__wop *head = NULL, *last = NULL, *rest = NULL, **tail = &rest;
    bool waiters = false;

    while (batch != NULL) {
        struct sk__wop *op = batch;
        batch = op->next; /* quick may free op */
        if (rc != 0)
            op->result = rc;
        if (op->quick != NULL && !op->quick(op, op->result))
            continue;
        *tail = op;
        tail = &op->next;
    }
    *tail = NULL;
    if (rest == NULL)
        return;
    batch = rest;
    pthread_mutex_lock(&w->lock);
    while (batch != NULL) {
        struct sk__wop *op = batch;
        batch = op->next; /* a waiter may free op once woken */
        if (op->done == NULL) {
            op->finished = true;
            waiters = true;
            continue;
        }
        op->next = NULL;
        if (last != NULL)
            last->next = op;
        else
            head = op;
        last = op;
    }
    if (head != NULL) {
        if (w->ctail != NULL)
            w->ctail->next = head;
        else
            w->chead = head;
        w->ctail = last;
        pthread_cond_signal(&w->cwork);
    }
    if (waiters)
        pthread_cond_broadcast(&w->done);
    pthread_mutex_unlock(&w->lock);
}

static void run_batch(struct sk__writer *w, struct sk__wop *batch)
{
    int rc = commit_batch(w, batch);

    if (rc != 0) {
        /* Reverse, so each op undoes on top of the later ones' undo. */
        struct sk__wop *rev = NULL;
        while (batch != NULL) {
            struct sk__wop *next = batch->next;
            batch->next = rev;
            rev = batch;
            batch = next;
        }
        batch = rev;
    }
    complete(w, batch, rc);
}

/* Under load, let more writes join the batch (see LINGER_US). Lock held
 * on entry and on return. Returns whether it waited. */
static bool linger(struct sk__writer *w)
{
    struct timespec ts = {.tv_sec = 0, .tv_nsec = LINGER_US * 1000L};

    /* More than one op waiting: writes already pile up during a COMMIT
     * (a slow disk, a saturated writer), so waiting would only add to it. */
    if (w->head != w->tail || (w->head != NULL && w->head->done == NULL) || w->stop ||
        sk_now_us() - w->last_commit_us > BUSY_US)
        return false;
    pthread_mutex_unlock(&w->lock);
    /* A plain sleep: enqueuers find no waiter on `work` and signal nobody. */
    while (nanosleep(&ts, &ts) != 0)
        ;
    pthread_mutex_lock(&w->lock);
    return true;
}

static void timed_wait(pthread_cond_t *c, pthread_mutex_t *m, int ms)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts); /* the clock of w->work */
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(c, m, &ts);
}

static void *writer_main(void *arg)
{
    struct sk__writer *w = arg;
    bool lingered = false;

    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (w->head == NULL && !w->stop) {
            if (w->ops == NULL) {
                pthread_cond_wait(&w->work, &w->lock);
                continue;
            }
            pthread_mutex_unlock(&w->lock); /* the backend may connect: never under the lock */
            int ms = w->ops->idle(w->conn);
            pthread_mutex_lock(&w->lock);
            if (w->head != NULL || w->stop)
                break;
            if (ms < 0)
                pthread_cond_wait(&w->work, &w->lock);
            else
                timed_wait(&w->work, &w->lock, ms);
        }
        if (w->head == NULL)
            break;
        if (!lingered)
            linger(w);
        struct sk__wop *batch = w->head;
        w->head = w->tail = NULL;
        bool busy = sk_now_us() - w->last_commit_us <= BUSY_US;
        pthread_mutex_unlock(&w->lock);
        run_batch(w, batch);
        w->last_commit_us = sk_now_us();
        pthread_mutex_lock(&w->lock);
        lingered = busy && linger(w); /* the pause after a COMMIT */
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

static void *completer_main(void *arg)
{
    struct sk__writer *w = arg;

    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (w->chead == NULL && !w->cstop)
            pthread_cond_wait(&w->cwork, &w->lock);
        if (w->chead == NULL)
            break;
        struct sk__wop *list = w->chead;
        w->chead = w->ctail = NULL;
        pthread_mutex_unlock(&w->lock);
        while (list != NULL) {
            struct sk__wop *next = list->next;
            list->done(list, list->result); /* may free list */
            list = next;
        }
        pthread_mutex_lock(&w->lock);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

static bool on_thread(struct sk__writer *w, bool completer)
{
    bool started;

    pthread_mutex_lock(&w->lock);
    started = w->started;
    pthread_mutex_unlock(&w->lock);
    return started && pthread_equal(pthread_self(), completer ? w->completer : w->thread);
}

int sk__writer_enqueue(struct sk__writer *w, struct sk__wop *op)
{
    op->next = NULL;
    op->finished = false;
    op->result = 0;
    pthread_mutex_lock(&w->lock);
    if (!w->started) {
        if (pthread_create(&w->completer, NULL, completer_main, w) != 0) {
            pthread_mutex_unlock(&w->lock);
            return SK_ENOMEM;
        }
        if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
            w->cstop = true;
            pthread_cond_signal(&w->cwork);
            pthread_mutex_unlock(&w->lock);
            pthread_join(w->completer, NULL);
            pthread_mutex_lock(&w->lock);
            w->cstop = false;
            pthread_mutex_unlock(&w->lock);
            return SK_ENOMEM;
        }
        w->started = true;
    }
    if (w->tail != NULL)
        w->tail->next = op;
    else
        w->head = op;
    w->tail = op;
    pthread_mutex_unlock(&w->lock);
    /* After the unlock: woken under it, the writer would at once block on
     * the lock we still hold (two more context switches). */
    pthread_cond_signal(&w->work);
    return 0;
}

int sk__writer_run(struct sk__writer *w, struct sk__wop *op)
{
    int rc;

    op->done = NULL;
    if ((rc = sk__writer_enqueue(w, op)) != 0)
        return rc;
    pthread_mutex_lock(&w->lock);
    while (!op->finished)
        pthread_cond_wait(&w->done, &w->lock);
    pthread_mutex_unlock(&w->lock);
    return op->result;
}

static int write_nothing(struct sk__writer *w, struct sk__wop *op)
{
    (void)w;
    (void)op;
    return 0;
}

/* A flush marker: completed by the completer after every done callback
 * queued before it. */
struct flush {
    struct sk__wop w;
    struct sk__writer *wr;
    bool done;
};

static void flush_done(struct sk__wop *op, int result)
{
    struct flush *f = (struct flush *)op;

    (void)result;
    pthread_mutex_lock(&f->wr->lock);
    f->done = true;
    pthread_cond_broadcast(&f->wr->done);
    pthread_mutex_unlock(&f->wr->lock);
}

void sk__writer_flush(struct sk__writer *w)
{
    if (w == NULL || on_thread(w, true) || on_thread(w, false))
        return; /* from a callback: nothing can be waited for */
    /* Twice: a failed batch completes in reverse, so the first marker may
     * overtake ops of its own batch; the second is in a later batch, and
     * the completer runs batches in order. */
    for (int i = 0; i < 2; i++) {
        struct flush f = {.w = {.write = write_nothing, .done = flush_done}, .wr = w};
        if (sk__writer_enqueue(w, &f.w) != 0)
            return;
        pthread_mutex_lock(&w->lock);
        while (!f.done)
            pthread_cond_wait(&w->done, &w->lock);
        pthread_mutex_unlock(&w->lock);
    }
}

void sk__writer_close(struct sk__writer *w)
{
    if (w == NULL)
        return;
    pthread_mutex_lock(&w->lock);
    w->stop = true;
    pthread_cond_signal(&w->work);
    pthread_mutex_unlock(&w->lock);
    if (w->started) {
        pthread_join(w->thread, NULL); /* the queue is drained first */
        pthread_mutex_lock(&w->lock);
        w->cstop = true;
        pthread_cond_signal(&w->cwork);
        pthread_mutex_unlock(&w->lock);
        pthread_join(w->completer, NULL); /* and every done callback ran */
    }
    for (int i = 0; i < MAX_STMTS; i++)
        sqlite3_finalize(w->stmts[i].st);
    sqlite3_close(w->db);
    if (w->ops != NULL)
        w->ops->close(w->conn);
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->work);
    pthread_cond_destroy(&w->done);
    pthread_cond_destroy(&w->cwork);
    sk_free(w);
}
