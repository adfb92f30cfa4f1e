/* main's auxiliary processes (sluice-snmp, sluice-manage): each is exec'd from beside
 * sluice-worker with an empty environment, /dev/null as stdin and stdout, main's stderr,
 * and the descriptors its owner hands over from fd 3 on; main restarts it
 * AUX_RESTART_SECS after it exits, so a crash loop costs main one spawn per period and
 * never stops the VPN. */
#ifndef SLUICE_MAIN_AUX_PROC_H
#define SLUICE_MAIN_AUX_PROC_H

#include <ev.h>
#include <stdbool.h>
#include <sys/types.h>

#define AUX_RESTART_SECS 5.0

struct main_ctx;
struct aux_proc;

/* Starts the process: builds its arguments, spawns it with aux_spawn(), serves its
 * connections. Returns its pid, or -1 (logged) to be tried again later. */
typedef pid_t (*aux_start_fn)(struct aux_proc *a);

struct aux_proc {
	struct main_ctx *m;
	const char *name; /* the program, beside sluice-worker */
	char *path;
	aux_start_fn start;
	void *data; /* the owner's */
	pid_t pid;  /* 0: not running */
	bool stopped;
	bool restart_now; /* the next exit was asked for: start again at once */
	ev_timer restart;
};

/* Allocates the supervisor on ctx and starts the process. NULL: out of memory. */
struct aux_proc *aux_proc_new(struct main_ctx *m, void *ctx, const char *name, aux_start_fn start,
			      void *data);
/* Spawns a's program with argv (argv[0] is its name) and fds[0..n-1] as 3, 4, ...;
 * the pid or -1 (logged). */
pid_t aux_spawn(struct aux_proc *a, char *const argv[], const int *fds, int n);
/* Ends the process (SIGTERM) and starts it again as soon as it has exited. */
void aux_proc_restart(struct aux_proc *a);
/* Ends the process (SIGTERM) and restarts it no more. */
void aux_proc_stop(struct aux_proc *a);
/* True if pid was a's process; its exit is logged and a restart scheduled. */
bool aux_proc_exited(struct aux_proc *a, pid_t pid, int status);

#endif
