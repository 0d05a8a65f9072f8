/*
 * Logging: the library never prints. It formats one key=value line per
 * event and hands it to the application's callback, after SK_LOG has
 * checked the level so that disabled levels cost one comparison.
 *
 * Threads: sk_log_set() may run while other threads log (the server calls
 * it on SIGHUP). The level and the "is there a sink" test are atomics read
 * without a lock; the callback and its argument change together under a
 * mutex, and a logging thread copies the pair under it, so a line never
 * goes to one callback with the other's argument. The call itself runs
 * outside the lock: an old argument must stay valid after sk_log_set()
 * replaces it (ours are static or NULL).
 */
#include <sipkit/base.h>

#include <pthread.h>
#include <stdio.h>

_Atomic(enum sk_log_level) sk__log_max = SK_LOG_INFO;
_Atomic(sk_log_cb) sk__log_cb; /* zero: no sink */
static sk_log_cb log_cb = NULL;
static void *log_arg = NULL;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void sk_log_set(sk_log_cb cb, void *arg, enum sk_log_level max_level)
{
    pthread_mutex_lock(&log_lock);
    log_cb = cb;
    log_arg = arg;
    atomic_store(&sk__log_cb, cb);
    atomic_store(&sk__log_max, max_level);
    pthread_mutex_unlock(&log_lock);
}

void sk__log(enum sk_log_level level, const char *module, const char *fmt, ...)
{
    char line[1024];
    sk_log_cb cb;
    void *arg;
    va_list ap;

    pthread_mutex_lock(&log_lock);
    cb = log_cb;
    arg = log_arg;
    pthread_mutex_unlock(&log_lock);
    if (cb == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    cb(arg, level, module, line);
}

const char *sk_log_level_name(enum sk_log_level level)
{
    switch (level) {
    case SK_LOG_ERROR:
        return "error";
    case SK_LOG_WARN:
        return "warn";
    case SK_LOG_INFO:
        return "info";
    case SK_LOG_DEBUG:
        return "debug";
    }
    return "?";
}
