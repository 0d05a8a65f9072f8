/*
 * Logging: the library never prints. It formats one key=value line per
 * event and hands it to the application's callback, after SK_LOG has
 * checked the level so that disabled levels cost one comparison.
 */
#include <sipkit/base.h>

#include <stdio.h>

enum sk_log_level sk__log_max = SK_LOG_INFO;
sk_log_cb sk__log_cb = NULL;
static void *log_arg = NULL;

void sk_log_set(sk_log_cb cb, void *arg, enum sk_log_level max_level)
{
    sk__log_cb = cb;
    log_arg = arg;
    sk__log_max = max_level;
}

void sk__log(enum sk_log_level level, const char *module, const char *fmt, ...)
{
    char line[1024];
    va_list ap;

    if (sk__log_cb == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    sk__log_cb(log_arg, level, module, line);
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
