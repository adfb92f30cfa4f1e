#include "config.h"

#include "common/log.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static struct {
	int to_stderr;
	int level;
	log_sink_fn sink;
	char ident[32];
	char prefix[96];
} lg = {.to_stderr = 1, .level = LOG_INFO, .ident = "sluice"};

void log_init(const char *ident, int to_stderr, int level)
{
	snprintf(lg.ident, sizeof(lg.ident), "%s", ident);
	lg.to_stderr = to_stderr;
	lg.level = level;
	if (!to_stderr)
		openlog(lg.ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void log_set_sink(log_sink_fn sink)
{
	lg.sink = sink;
}

void log_set_prefix(const char *prefix)
{
	snprintf(lg.prefix, sizeof(lg.prefix), "%s", prefix ? prefix : "");
}

int log_level(void)
{
	return lg.level;
}

void log_set_level(int level)
{
	lg.level = level;
}

void log_raw(int priority, const char *line)
{
	if (priority > lg.level)
		return;
	if (lg.sink) {
		lg.sink(priority, line);
	} else if (lg.to_stderr) {
		struct timespec ts;
		struct tm tm;
		char when[32];

		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		strftime(when, sizeof(when), "%H:%M:%S", &tm);
		fprintf(stderr, "%s.%03ld %s[%d]: %s\n", when, ts.tv_nsec / 1000000, lg.ident,
			(int)getpid(), line);
	} else {
		syslog(priority, "%s", line);
	}
}

void log_vprintf(int priority, const char *func, const char *fmt, va_list ap)
{
	char msg[1024];
	char line[1200];

	if (priority > lg.level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (lg.level >= LOG_DEBUG && func)
		snprintf(line, sizeof(line), "%s%s: %s", lg.prefix, func, msg);
	else
		snprintf(line, sizeof(line), "%s%s", lg.prefix, msg);
	log_raw(priority, line);
}

void log_printf(int priority, const char *func, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vprintf(priority, func, fmt, ap);
	va_end(ap);
}
