/* Starting workers. With the worker template (worker-template = true, the default)
 * main asks a pre-initialised sluice-worker to fork each worker; workers then share
 * its libraries' pages. Without it, or when the template is gone, each worker is
 * fork+exec'd. Either way a worker gets the same fixed fd layout and start-up
 * message, and main is its parent (a subreaper for the template's children). */
#include "config.h"

#include "main/main.h"
#include "main/workers.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "ipc/main_template.pb-c.h"
#include "ipc/main_template.routes.h"
#include "main/scripts.h"

#define MAIN_TEMPLATE_RUNNING 1u

static pid_t exec_with_layout(struct main_ctx *m, char *mode, const int *fds, unsigned nfds)
{
	posix_spawn_file_actions_t fa;
	char *argv[] = {"sluice-worker", mode, NULL};
	/* The template initialises GnuTLS itself once it has dropped root; an exec'd worker
	 * gets no environment. */
	char *tenv[] = {"GNUTLS_NO_IMPLICIT_INIT=1", NULL};
	char *envp[] = {NULL};
	pid_t pid = -1;
	int ret;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	for (unsigned i = 0; i < nfds; i++)
		posix_spawn_file_actions_adddup2(&fa, fds[i], 3 + (int)i);
	/* Also what main itself inherited without close-on-exec. */
	posix_spawn_file_actions_addclosefrom_np(&fa, 3 + (int)nfds);
	ret = posix_spawn(&pid, m->worker_path, &fa, NULL, argv, mode ? tenv : envp);
	posix_spawn_file_actions_destroy(&fa);
	if (ret != 0) {
		log_err("cannot start %s: %s", m->worker_path, strerror(ret));
		return -1;
	}
	return pid;
}

/* fork + exec with the fixed layout: 3 client, 4 main channel, 5 sec channel. */
pid_t main_exec_worker(struct main_ctx *m, int client_fd, int main_end, int sec_end)
{
	const int fds[3] = {client_fd, main_end, sec_end};

	return exec_with_layout(m, NULL, fds, 3);
}

static void early_exit_push(struct main_ctx *m, pid_t pid, int status)
{
	unsigned n = sizeof(m->early_exits) / sizeof(m->early_exits[0]);

	m->early_exits[m->n_early_exits % n].pid = pid;
	m->early_exits[m->n_early_exits % n].status = status;
	m->n_early_exits++;
}

static int main_on_spawned(void *ctx, void *msg, int *fds)
{
	struct main_ctx *m = ctx;
	MtSpawned *s = msg;
	struct main_worker *w = main_find_worker(m, s->worker_id, 0);
	unsigned n = sizeof(m->early_exits) / sizeof(m->early_exits[0]);

	if (!w || w->pid != 0)
		return -EPROTO;
	if (s->pid == 0) {
		log_err("the worker template could not fork a worker for %s", w->client_ip);
		main_worker_free(m, w);
		return 0;
	}
	if (main_worker_started(m, w, (pid_t)s->pid) < 0) {
		main_worker_free(m, w);
		return 0;
	}
	for (unsigned i = 0; i < n && i < m->n_early_exits; i++) {
		if (m->early_exits[i].pid == (pid_t)s->pid) {
			m->early_exits[i].pid = 0;
			main_worker_exited(m, (pid_t)s->pid, m->early_exits[i].status);
			break;
		}
	}
	return 0;
}

static const struct ipc_route main_from_template[] = {
    IPC_ROUTE_MT_SPAWNED(main_on_spawned),
};

static void template_gone(struct main_ctx *m, const char *why)
{
	log_err("worker template: %s; workers are exec'd from now on", why);
	ev_io_stop(m->loop, &m->template_io);
	close(m->template_ch.fd);
	if (m->template_pid > 0)
		kill(m->template_pid, SIGKILL);
	m->template_pid = 0;
	/* Requests it had not answered will never run. */
	for (struct main_worker *w = m->workers, *next; w; w = next) {
		next = w->next;
		if (w->pid == 0)
			main_worker_free(m, w);
	}
}

static void template_readable(struct ev_loop *loop, ev_io *io, int revents)
{
	struct main_ctx *m = io->data;

	for (int i = 0; i < 64 && m->template_pid; i++) {
		int ret = ipc_recv_dispatch(&m->template_ch, MAIN_TEMPLATE_RUNNING, m);

		if (ret == -EAGAIN)
			return;
		if (ret == IPC_CLOSED || ret < 0) {
			template_gone(m, ret == IPC_CLOSED ? "closed its channel" : ipc_last_error());
			return;
		}
	}
}

int main_template_start(struct main_ctx *m)
{
	MtInit init = MT_INIT__INIT;
	int sp[2];
	pid_t pid;

	/* Workers forked by the template are re-parented to main, which reaps them. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		return -errno;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return -errno;
	pid = exec_with_layout(m, "--template", &sp[1], 1);
	close(sp[1]);
	if (pid < 0) {
		close(sp[0]);
		return -ECHILD;
	}
	m->template_pid = pid;
	fcntl(sp[0], F_SETFL, O_NONBLOCK);
	ipc_channel_init(&m->template_ch, sp[0], main_from_template, 1, 256, "template");
	/* It drops to these ids before it does anything else. */
	init.uid = m->cfg->uid;
	init.gid = m->cfg->gid;
	if (ipc_send(m->template_ch.fd, MT_TYPE__MT_INIT, &init.base, NULL, 0) < 0) {
		template_gone(m, "does not take its start-up message");
		return -EPIPE;
	}
	return 0;
}

/* Called once the event loop exists. */
void main_template_watch(struct main_ctx *m)
{
	if (!m->template_pid)
		return;
	ev_io_init(&m->template_io, template_readable, m->template_ch.fd, EV_READ);
	m->template_io.data = m;
	ev_io_start(m->loop, &m->template_io);
}

int main_template_spawn(struct main_ctx *m, uint32_t id, int client_fd, int main_end,
			int sec_end)
{
	MtSpawn req = MT_SPAWN__INIT;
	const int fds[3] = {client_fd, main_end, sec_end};

	if (!m->template_pid)
		return -ENOENT;
	req.worker_id = id;
	if (ipc_send(m->template_ch.fd, MT_TYPE__MT_SPAWN, &req.base, fds, 3) < 0) {
		template_gone(m, "does not take requests");
		return -EPIPE;
	}
	return 0;
}

void main_child_exited(struct main_ctx *m, pid_t pid, int status)
{
	if (scripts_child_exited(m, pid, status))
		return;
	if (pid == m->template_pid) {
		m->template_pid = 0;
		template_gone(m, "exited");
		return;
	}
	if (!main_worker_exited(m, pid, status))
		early_exit_push(m, pid, status);
}
