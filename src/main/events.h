/* Everything an operator or auditor may want to know about passes through one
 * function: main_event(). It writes the log line and hands the event to every sink
 * (audit log, metrics, the control socket's event stream, scripts), so that a new
 * consumer is one entry in the sink table in events.c. */
#ifndef SLUICE_EVENTS_H
#define SLUICE_EVENTS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct main_ctx;
struct main_worker;

enum main_event_kind {
	MEV_AUTH,          /* a password was checked: ok, user, client, reason */
	MEV_SESSION_START, /* a tunnel is up: w */
	MEV_SESSION_END,   /* a tunnel ended: w, bytes, duration, reason */
	MEV_WORKER_EXIT,   /* a worker process ended: w, detail (how), exit_status */
	MEV_RELOAD,        /* configuration reloaded (ok) or rejected: reason */
	MEV_CTL,           /* a state-changing control command: detail, uid, ok */
	MEV_BAN,           /* an address was banned: client_ip, reason */
	MEV_UNBAN,         /* a ban ended (elapsed or lifted): client_ip, reason */
};

struct main_event {
	enum main_event_kind kind;
	bool ok;
	const struct main_worker *w; /* sessions and workers; NULL otherwise */
	const char *user;            /* MEV_AUTH */
	const char *client_ip;       /* MEV_AUTH, MEV_BAN, MEV_UNBAN */
	unsigned client_port;        /* MEV_AUTH */
	const char *reason;          /* why: auth failure, end reason, reload error */
	bool not_scored;             /* MEV_AUTH: a failure that is not the client's guess */
	const char *detail;          /* MEV_WORKER_EXIT: how it ended; MEV_CTL: command */
	uint64_t bytes_in, bytes_out;
	uint64_t packets_in, packets_out; /* MEV_SESSION_END, from the TUN device */
	unsigned end_reason;         /* MEV_SESSION_END: enum session_end_reason */
	long long duration;          /* seconds */
	int exit_status;             /* MEV_WORKER_EXIT: as from waitpid */
	bool crash_before_auth;      /* MEV_WORKER_EXIT: a signal main did not send, before
				      * sec accepted the client's password or cookie */
	uid_t uid;                   /* MEV_CTL: the caller (sluice-manage's uid for the API) */
	const char *actor;           /* MEV_CTL: the API caller's grant, as sluice-manage
				      * says (token:NAME, cert:CN); NULL: the control socket */
	double auth_secs;            /* MEV_AUTH accepted: from the accept to sec's yes; <0: ? */
};

/* Everything that consumes events besides the log, in the order they see them; handed
 * over at start-up (server.c), so that events.c, which every part of main calls, calls
 * none of them by name. */
typedef void (*main_event_sink)(struct main_ctx *m, const struct main_event *ev);
struct main_event_sinks {
	const main_event_sink *sink;
	size_t n;
};

void main_event(struct main_ctx *m, const struct main_event *ev);

#endif
