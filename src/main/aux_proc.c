/* Starting and supervising main's auxiliary processes (aux_proc.h). */
#include "config.h"

#include "main/aux_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <talloc.h>

#include "common/log.h"
#include "main/main.h"

pid_t aux_spawn(struct aux_proc *a, char *const argv[], const int *fds, int n)
{
	posix_spawn_file_actions_t fa;
	char *envp[] = {NULL};
	pid_t pid = 0;
	int ret;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	/* fd 2 stays main's stderr: the process logs there (with -f, the log). */
	for (int i = 0; i < n; i++)
		posix_spawn_file_actions_adddup2(&fa, fds[i], 3 + i);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3 + n);
	ret = posix_spawn(&pid, a->path, &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	if (ret != 0) {
		log_err("cannot start %s: %s", a->path, strerror(ret));
		return -1;
	}
	return pid;
}

static void start(struct aux_proc *a)
{
	pid_t pid = a->start(a);

	if (pid > 0) {
		a->pid = pid;
		return;
	}
	ev_timer_set(&a->restart, AUX_RESTART_SECS, 0);
	ev_timer_start(a->m->loop, &a->restart);
}

static void on_restart(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct aux_proc *a = t->data;

	if (!a->stopped && !a->pid)
		start(a);
}

struct aux_proc *aux_proc_new(struct main_ctx *m, void *ctx, const char *name, aux_start_fn fn,
			      void *data)
{
	struct aux_proc *a = talloc_zero(ctx, struct aux_proc);
	char *dir = a ? talloc_strdup(a, m->worker_path) : NULL;

	if (!dir)
		return NULL;
	a->m = m;
	a->name = name;
	a->start = fn;
	a->data = data;
	a->path = talloc_asprintf(a, "%s/%s", dirname(dir), name);
	if (!a->path)
		return NULL;
	ev_timer_init(&a->restart, on_restart, AUX_RESTART_SECS, 0);
	a->restart.data = a;
	start(a);
	return a;
}

void aux_proc_restart(struct aux_proc *a)
{
	if (a->stopped)
		return;
	if (!a->pid) {
		ev_timer_stop(a->m->loop, &a->restart);
		start(a);
		return;
	}
	a->restart_now = true;
	kill(a->pid, SIGTERM);
}

void aux_proc_stop(struct aux_proc *a)
{
	if (!a)
		return;
	a->stopped = true;
	ev_timer_stop(a->m->loop, &a->restart);
	if (a->pid)
		kill(a->pid, SIGTERM);
}

bool aux_proc_exited(struct aux_proc *a, pid_t pid, int status)
{
	if (!a || !a->pid || pid != a->pid)
		return false;
	a->pid = 0;
	if (a->stopped)
		return true;
	if (a->restart_now) {
		a->restart_now = false;
		log_info("%s (pid %d) ended for a restart", a->name, (int)pid);
		start(a);
		return true;
	}
	if (WIFSIGNALED(status))
		log_warn("%s (pid %d) killed by signal %d; restarting it in %.0f s", a->name,
			 (int)pid, WTERMSIG(status), AUX_RESTART_SECS);
	else
		log_warn("%s (pid %d) exited with status %d; restarting it in %.0f s", a->name,
			 (int)pid, WEXITSTATUS(status), AUX_RESTART_SECS);
	ev_timer_set(&a->restart, AUX_RESTART_SECS, 0);
	ev_timer_start(a->m->loop, &a->restart);
	return true;
}
