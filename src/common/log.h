/* Logging for every role: syslog or stderr in main and sec, the IPC channel in
 * workers (through a sink). The macros add the function name. */
#ifndef SLUICE_LOG_H
#define SLUICE_LOG_H

#include <stdarg.h>
#include <syslog.h>

/* A sink receives every formatted line instead of syslog/stderr (workers). */
typedef void (*log_sink_fn)(int priority, const char *line);

void log_init(const char *ident, int to_stderr, int level);
void log_set_sink(log_sink_fn sink);
void log_set_prefix(const char *prefix);
int log_level(void);
/* A new threshold (a configuration reload). */
void log_set_level(int level);
void log_printf(int priority, const char *func, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void log_vprintf(int priority, const char *func, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
/* Writes a line as-is (already prefixed by its origin), at the given priority. */
void log_raw(int priority, const char *line);

#define log_err(...)    log_printf(LOG_ERR, __func__, __VA_ARGS__)
#define log_warn(...)   log_printf(LOG_WARNING, __func__, __VA_ARGS__)
#define log_notice(...) log_printf(LOG_NOTICE, __func__, __VA_ARGS__)
#define log_info(...)   log_printf(LOG_INFO, __func__, __VA_ARGS__)
#define log_debug(...)  log_printf(LOG_DEBUG, __func__, __VA_ARGS__)

#endif
