/* connect-script, disconnect-script and host-update-script: run by main with ocserv's
 * environment, never waited for (a child watcher and a time limit, script-timeout),
 * so that a slow script delays nobody but its own client. */
#ifndef SLUICE_SCRIPTS_H
#define SLUICE_SCRIPTS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

enum script_kind {
	SCRIPT_CONNECT,
	SCRIPT_DISCONNECT,
	SCRIPT_HOST_UPDATE,
	SCRIPT_ROUTE_ADD,
	SCRIPT_ROUTE_DEL,
};

struct main_ctx;
struct main_event;
struct main_worker;

/* How a connect script ended; ok: exit code 0 in time. */
typedef void (*script_done_fn)(struct main_ctx *m, uint32_t worker_id, bool ok);

/* Starts connect-script for w, whose TUN device exists; done tells the outcome, later.
 * 0: started; -ENOENT: none is configured; other -errno: it could not be started. */
int scripts_connect(struct main_ctx *m, const struct main_worker *w, script_done_fn done);
/* The sink in events.c: host-update at session start when the client sent its host
 * name, disconnect at session end. */
void scripts_event(struct main_ctx *m, const struct main_event *ev);
/* Runs command (route-add-cmd, route-del-cmd) with /bin/sh -c for w, as a script:
 * same environment, same time limit, not waited for. 0 or a negative errno. */
int scripts_command(struct main_ctx *m, enum script_kind kind, const char *command,
		    const struct main_worker *w);
/* A child exited: false when pid is no script. */
bool scripts_child_exited(struct main_ctx *m, pid_t pid, int status);

#endif
