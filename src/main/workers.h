/* A worker process as main sees it: spawned with a fixed fd layout and its start-up
 * message, its channel read against one route table, and its end: exit, terminate (with
 * a kill when it lingers) and kill. What a worker asks for on its channel is a session's
 * business (session_setup.h). main trusts nothing a worker says beyond what the route
 * table lets it say in its state. */
#ifndef SLUICE_MAIN_WORKERS_H
#define SLUICE_MAIN_WORKERS_H

#include <stdbool.h>
#include <sys/socket.h>
#include <sys/types.h>

struct main_ctx;
struct main_worker;

/* Seconds a worker told to end has before it is killed. */
#define WORKER_TERMINATE_GRACE 5

int main_spawn_worker(struct main_ctx *m, int client_fd, const struct sockaddr_storage *peer,
		      const struct sockaddr_storage *local);
/* The two halves of a worker's record, also for tests/fuzz/fuzz_main_worker.c: new takes
 * main's and sec's ends of its channels (NULL: no memory); attach indexes it and starts
 * reading its channel (0 or -ENOMEM). */
struct main_worker *main_worker_new(struct main_ctx *m, int main_end, int sec_end,
				    const struct sockaddr_storage *peer,
				    const struct sockaddr_storage *local);
int main_worker_attach(struct main_ctx *m, struct main_worker *w);
/* The worker runs (pid known): sec gets its end of the worker's channel. -ENOMEM: the
 * worker could not be indexed; it was killed, and the caller frees it. */
int main_worker_started(struct main_ctx *m, struct main_worker *w, pid_t pid);
/* false when pid is no known worker */
bool main_worker_exited(struct main_ctx *m, pid_t pid, int status);
void main_worker_free(struct main_ctx *m, struct main_worker *w);
/* "worker PID (user@ip:port)", for logs; again once the user is known. */
void main_worker_set_label(struct main_worker *w);
/* Sends w signal sig, and remembers that main sent it: a worker that dies of a signal
 * main did not send crashed (or was killed by someone else). Before the template has
 * named w's pid, a SIGKILL waits for it. */
void main_worker_signal(struct main_worker *w, int sig);
/* Fail closed: a worker that broke the contract (why) is killed; main goes on. */
void main_worker_kill(struct main_worker *w, const char *why);
/* Ends a worker for reason (common/session.h), which main decided: a worker with a
 * tunnel gets MW_TERMINATE (its client a TERMINATE), others SIGTERM, and any worker
 * still there WORKER_TERMINATE_GRACE seconds later SIGKILL. */
void main_terminate_worker(struct main_worker *w, unsigned reason);
void main_terminate_all(struct main_ctx *m);
void main_kill_all(struct main_ctx *m);
/* The worker holds a TUN device: it is listed and can be disconnected. */
bool main_worker_holds_tun(const struct main_worker *w);

#endif
