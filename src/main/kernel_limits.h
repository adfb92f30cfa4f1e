/* The kernel's limits that max-clients sessions meet beyond main's own descriptors
 * (listeners.c checks those): every session is a worker process with a few descriptors
 * of its own. Checked at start-up and on each reload, so that an operator learns from
 * the log, not from the 4,916th login failing, that systemd's TasksMax= or the
 * kernel's pid_max stops the server short of max-clients. */
#ifndef SLUICE_MAIN_KERNEL_LIMITS_H
#define SLUICE_MAIN_KERNEL_LIMITS_H

#include <stddef.h>

/* One limit, and how many more sessions it leaves room for. */
struct kernel_limit {
	const char *name; /* "kernel.pid_max" */
	const char *fix;  /* what raises it */
	unsigned long long value;
	unsigned long long sessions; /* room for this many more */
};

#define KERNEL_LIMITS_MAX 6

/* The limits that could be read under root ("/" on a live system; a directory laid out
 * like it in tests), in a fixed order; how many. */
size_t kernel_limits_read(const char *root, struct kernel_limit out[KERNEL_LIMITS_MAX]);

/* Logs the sessions the limits leave room for, and a warning naming each limit that
 * leaves fewer than max_clients (0: no limit; then only the information) beyond the
 * sessions up now. */
void kernel_limits_check(unsigned max_clients, unsigned sessions_now);

#endif
