/* Starting workers. With the worker template (worker-template = true, the default)
 * main asks a pre-initialised sluice-worker to fork each worker; workers then share
 * its libraries' pages. Without it, or when the template is gone, each worker is
 * fork+exec'd. Either way a worker gets the same fixed fd layout and start-up
 * message, and main is its parent (a subreaper for the template's children).
 *
 * All workers of one template share its address-space layout, so no template serves
 * for ever (design.md, "Scale"): after worker-template-max-forks requests, and at once
 * when one of its workers dies on a signal before authentication, main execs a fresh
 * template (a new layout) and retires the old one. A retired template gets no more
 * requests; once it has answered those it had, main closes its channel and it exits.
 * Its workers go on: they are main's children already. */
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
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/session.h"
#include "ipc/main_template.pb-c.h"
#include "ipc/main_template.routes.h"
#include "main/scripts.h"

#define MAIN_TEMPLATE_RUNNING 1u
#define TEMPLATE_MAX_PAYLOAD  256

/* One template process, current or retired. */
struct main_template {
	struct main_template *next; /* m->retired_templates */
	struct main_ctx *m;
	struct ipc_channel ch;
	ev_io io;
	pid_t pid;
	uint32_t gen;     /* workers it forked carry it (main_worker.template_gen) */
	bool reaped;      /* main waited for pid: it may name another process now */
	bool open;        /* ch.fd is open */
	unsigned forks;   /* requests sent to it */
	unsigned pending; /* requests it has not answered yet */
	bool busy_logged; /* its channel was full; said once until it takes one again */
};

static pid_t exec_with_layout(struct main_ctx *m, char *mode, const int *fds, unsigned nfds)
{
	posix_spawn_file_actions_t fa;
	char *argv[] = {"sluice-worker", mode, NULL};
	/* The template initialises GnuTLS itself once it has dropped root; an exec'd worker
	 * gets no environment. LD_BIND_NOW: the template resolves every library's symbols
	 * before it forks, so no worker writes its own copy of a page of a lazily bound
	 * library's GOT (libgmp's) at its first call of a function. */
	char *tenv[] = {"GNUTLS_NO_IMPLICIT_INIT=1", "LD_BIND_NOW=1", NULL};
	char *envp[] = {NULL};
	pid_t pid = -1;
	int ret;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	/* fd 2 stays main's stderr (with -f, the log): where a worker's sanitizer report
	 * goes in a --enable-sanitizers build. Workers log through their channel. */
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

static void template_close(struct main_template *t)
{
	if (!t->open)
		return;
	ev_io_stop(t->m->loop, &t->io);
	close(t->ch.fd);
	t->open = false;
}

/* A retired template with nothing left to answer: closing its channel ends it. */
static void retired_done(struct main_template *t)
{
	if (t != t->m->template && t->pending == 0 && t->open) {
		log_info("worker template %d: answered its last request; ending it", (int)t->pid);
		template_close(t);
	}
}

static int main_on_spawned(void *ctx, void *msg, int *fds)
{
	struct main_template *t = ctx;
	struct main_ctx *m = t->m;
	MtSpawned *s = msg;
	struct main_worker *w = main_find_worker(m, s->worker_id, 0);
	unsigned n = sizeof(m->early_exits) / sizeof(m->early_exits[0]);

	/* Only a request this template was sent, and only one answer to it. */
	if (!w || w->pid != 0 || w->template_gen != t->gen || t->pending == 0)
		return -EPROTO;
	t->pending--;
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

static void retired_unlink(struct main_template *t)
{
	struct main_template **pp = &t->m->retired_templates;

	for (; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			return;
		}
	}
}

/* A template that broke its channel or died: the requests it had not answered will
 * never run. The current one is not replaced: workers are exec'd from now on. */
static void template_gone(struct main_template *t, const char *why)
{
	struct main_ctx *m = t->m;

	if (t == m->template) {
		log_err("worker template: %s (pid %d); workers are exec'd from now on", why,
			(int)t->pid);
		m->template = NULL;
		t->next = m->retired_templates;
		m->retired_templates = t;
	} else {
		log_err("retired worker template: %s (pid %d)", why, (int)t->pid);
	}
	template_close(t);
	if (!t->reaped)
		kill(t->pid, SIGKILL);
	for (struct main_worker *w = m->workers, *next; w; w = next) {
		next = w->next;
		if (w->pid == 0 && w->template_gen == t->gen)
			main_worker_free(m, w);
	}
	t->pending = 0;
	if (t->reaped) {
		retired_unlink(t);
		talloc_free(t);
	}
}

static void template_readable(struct ev_loop *loop, ev_io *io, int revents)
{
	struct main_template *t = io->data;

	for (int i = 0; i < 64 && t->open; i++) {
		int ret = ipc_recv_dispatch(&t->ch, MAIN_TEMPLATE_RUNNING, t);

		if (ret == -EAGAIN)
			break;
		if (ret == IPC_CLOSED || ret < 0) {
			template_gone(t,
				      ret == IPC_CLOSED ? "closed its channel" : ipc_last_error());
			return;
		}
	}
	retired_done(t);
}

static void template_watch(struct main_template *t)
{
	ev_io_init(&t->io, template_readable, t->ch.fd, EV_READ);
	t->io.data = t;
	ev_io_start(t->m->loop, &t->io);
}

/* Execs a template and sends it its start-up message; it becomes the current one. */
static int template_new(struct main_ctx *m)
{
	struct main_template *t;
	MtInit init = MT_INIT__INIT;
	int sp[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return -errno;
	t = talloc_zero(m, struct main_template);
	if (!t) {
		close(sp[0]);
		close(sp[1]);
		return -ENOMEM;
	}
	pid = exec_with_layout(m, "--template", &sp[1], 1);
	close(sp[1]);
	if (pid < 0) {
		close(sp[0]);
		talloc_free(t);
		return -ECHILD;
	}
	t->m = m;
	t->pid = pid;
	/* 0 stands for "exec'd" in main_worker.template_gen. */
	if (++m->template_gen == 0)
		m->template_gen = 1;
	t->gen = m->template_gen;
	t->open = true;
	fcntl(sp[0], F_SETFL, O_NONBLOCK);
	ipc_channel_init(&t->ch, sp[0], main_from_template, 1, TEMPLATE_MAX_PAYLOAD, "template");
	/* It drops to these ids before it does anything else. */
	init.uid = m->cfg->uid;
	init.gid = m->cfg->gid;
	if (ipc_send(t->ch.fd, MT_TYPE__MT_INIT, &init.base, NULL, 0) < 0) {
		close(t->ch.fd);
		kill(pid, SIGKILL);
		/* Reaped as an unknown child. */
		talloc_free(t);
		return -EPIPE;
	}
	m->template = t;
	if (m->loop)
		template_watch(t);
	return 0;
}

int main_template_start(struct main_ctx *m)
{
	/* Workers forked by the template are re-parented to main, which reaps them. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		return -errno;
	return template_new(m);
}

/* Called once the event loop exists. */
void main_template_watch(struct main_ctx *m)
{
	if (m->template)
		template_watch(m->template);
}

/* Replaces the current template with a freshly exec'd one. */
static void template_rotate(struct main_ctx *m, enum main_rotation why, const char *detail)
{
	struct main_template *old = m->template;

	m->template = NULL;
	old->next = m->retired_templates;
	m->retired_templates = old;
	m->template_rotations[why]++;
	if (template_new(m) < 0)
		log_err("worker template %d retired (%s), and no new one could be started; "
			"workers are exec'd from now on",
			(int)old->pid, detail);
	else
		log_notice("worker template %d retired (%s): template %d takes over", (int)old->pid,
			   detail, (int)m->template->pid);
	retired_done(old);
}

int main_template_spawn(struct main_ctx *m, struct main_worker *w, int client_fd, int main_end,
			int sec_end)
{
	struct main_template *t = m->template;
	MtSpawn req = MT_SPAWN__INIT;
	const int fds[3] = {client_fd, main_end, sec_end};
	unsigned max = m->cfg->worker_template_max_forks;
	int ret;

	if (!t)
		return -ENOENT;
	req.worker_id = w->id;
	ret = ipc_send(t->ch.fd, MT_TYPE__MT_SPAWN, &req.base, fds, 3);
	/* Busy (a burst, or a fresh template still starting): this worker is exec'd. */
	if (ret == -EAGAIN) {
		if (!t->busy_logged)
			log_notice("worker template %d is busy: exec'ing workers until it catches "
				   "up",
				   (int)t->pid);
		t->busy_logged = true;
		return -EAGAIN;
	}
	if (ret < 0) {
		template_gone(t, "does not take requests");
		return -EPIPE;
	}
	t->busy_logged = false;
	w->template_gen = t->gen;
	t->forks++;
	t->pending++;
	/* A lowered limit (reload) applies at the next fork. */
	if (max && t->forks >= max) {
		char detail[64];

		snprintf(detail, sizeof(detail), "%u forks, worker-template-max-forks %u", t->forks,
			 max);
		template_rotate(m, MAIN_ROTATION_FORKS, detail);
	}
	return 0;
}

void main_template_worker_crashed(struct main_ctx *m, const struct main_worker *w, const char *how)
{
	char detail[160];

	/* A worker of an older template tells nothing about the current layout. */
	if (!m->template || w->template_gen != m->template->gen)
		return;
	snprintf(detail, sizeof(detail), "%s %s before authentication", w->label, how);
	template_rotate(m, MAIN_ROTATION_CRASH, detail);
}

static struct main_template *template_by_pid(struct main_ctx *m, pid_t pid)
{
	if (m->template && m->template->pid == pid)
		return m->template;
	for (struct main_template *t = m->retired_templates; t; t = t->next)
		if (!t->reaped && t->pid == pid)
			return t;
	return NULL;
}

static void template_exited(struct main_template *t, int status)
{
	bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
	char why[64];

	t->reaped = true;
	if (WIFEXITED(status))
		snprintf(why, sizeof(why), "exited with code %d (%s)", WEXITSTATUS(status),
			 worker_exit_str(WEXITSTATUS(status)));
	else if (WIFSIGNALED(status))
		snprintf(why, sizeof(why), "killed by signal %d", WTERMSIG(status));
	else
		snprintf(why, sizeof(why), "ended with status %#x", status);
	if (t->open) {
		template_gone(t, why);
		return;
	}
	/* Retired, or already given up on: its end was expected. */
	if (clean)
		log_info("worker template %d %s", (int)t->pid, why);
	else
		log_warn("worker template %d %s", (int)t->pid, why);
	retired_unlink(t);
	talloc_free(t);
}

void main_templates_stop(struct main_ctx *m)
{
	if (m->template)
		kill(m->template->pid, SIGTERM);
	for (struct main_template *t = m->retired_templates; t; t = t->next)
		if (!t->reaped)
			kill(t->pid, SIGTERM);
}

void main_child_exited(struct main_ctx *m, pid_t pid, int status)
{
	struct main_template *t;

	if (scripts_child_exited(m, pid, status))
		return;
	t = template_by_pid(m, pid);
	if (t) {
		template_exited(t, status);
		return;
	}
	if (!main_worker_exited(m, pid, status))
		early_exit_push(m, pid, status);
}
