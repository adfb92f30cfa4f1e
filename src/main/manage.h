/* sluice-manage, the management API and web dashboard: main binds manage-listen, starts
 * the unprivileged process with that socket and two control connections (requests and
 * the events stream), and restarts it when a reload changes its certificate, key, CA
 * or grants. HTTP, TLS with the API's own key, and JSON run in that process, never in
 * main: main answers its control requests as it answers sluicectl's. */
#ifndef SLUICE_MAIN_MANAGE_H
#define SLUICE_MAIN_MANAGE_H

#include <stdbool.h>
#include <sys/types.h>

struct main_ctx;
struct main_event;

/* Binds manage-listen and starts sluice-manage, if manage-listen is set (after
 * main_ctl_start()). 0, or -errno when the address cannot be bound (logged). */
int main_manage_start(struct main_ctx *m);
void main_manage_stop(struct main_ctx *m);
/* True if pid was sluice-manage: its exit is logged and it is restarted. */
bool main_manage_child_exited(struct main_ctx *m, pid_t pid, int status);
/* The event sink: an applied reload that changed the API's files restarts it. */
void main_manage_on_event(struct main_ctx *m, const struct main_event *ev);

#endif
