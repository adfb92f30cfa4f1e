/* Starting and supervising sluice-snmp. The subagent is a child of main like the
 * workers: exec'd with a fixed fd layout (3: its end of a socketpair that main serves
 * as a read-only control connection), an empty environment, and the run-as-user's ids
 * to drop to before it initialises net-snmp. It links net-snmp so that main does not:
 * a bug in an SNMP or AgentX parser then runs in an unprivileged process that can only
 * read what `sluicectl show status` and `show users` print. When it exits main starts
 * it again after SNMP_RESTART_SECS, so a crash loop costs main one spawn per period. */
#include "config.h"

#include "main/snmp.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "main/ctl.h"
#include "main/main.h"

#define SNMP_RESTART_SECS 5.0

struct main_snmp {
	struct main_ctx *m;
	char *path; /* sluice-snmp, beside sluice-worker */
	pid_t pid;  /* 0: not running */
	ev_timer restart;
	bool stopped;
};

static pid_t spawn_subagent(struct main_snmp *s, int fd)
{
	const struct sluice_config *cfg = s->m->cfg;
	posix_spawn_file_actions_t fa;
	char uid[16], gid[16];
	char *argv[9] = {"sluice-snmp", "--agentx", cfg->snmp_agentx, "--uid", uid, "--gid", gid};
	int argc = 7;
	char *envp[] = {NULL};
	pid_t pid = 0;
	int ret;

	if (s->m->foreground)
		argv[argc++] = "--stderr";
	argv[argc] = NULL;
	snprintf(uid, sizeof(uid), "%u", (unsigned)cfg->uid);
	snprintf(gid, sizeof(gid), "%u", (unsigned)cfg->gid);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	/* fd 2 stays main's stderr: the subagent logs there (with -f, the log). */
	posix_spawn_file_actions_adddup2(&fa, fd, 3);
	posix_spawn_file_actions_addclosefrom_np(&fa, 4);
	ret = posix_spawn(&pid, s->path, &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	if (ret != 0) {
		log_err("cannot start %s: %s", s->path, strerror(ret));
		return -1;
	}
	return pid;
}

/* A failure here is logged and retried later; the VPN goes on either way. */
static void start_subagent(struct main_snmp *s)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		log_err("sluice-snmp: socketpair: %s", strerror(errno));
		goto retry;
	}
	pid = spawn_subagent(s, sv[1]);
	close(sv[1]);
	if (pid < 0) {
		close(sv[0]);
		goto retry;
	}
	s->pid = pid;
	/* main's end never blocks main: replies are streamed while the socket takes them. */
	if (fcntl(sv[0], F_SETFL, O_NONBLOCK) < 0 ||
	    main_ctl_conn_add_readonly(s->m, sv[0], (uint32_t)s->m->cfg->uid) < 0) {
		log_err("sluice-snmp: cannot serve its connection; ending it");
		kill(pid, SIGTERM);
		return; /* its exit schedules the next try */
	}
	log_info("sluice-snmp started (pid %d, AgentX %s)", (int)pid, s->m->cfg->snmp_agentx);
	return;
retry:
	ev_timer_set(&s->restart, SNMP_RESTART_SECS, 0);
	ev_timer_start(s->m->loop, &s->restart);
}

static void on_restart(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct main_snmp *s = t->data;

	if (!s->stopped && !s->pid)
		start_subagent(s);
}

int main_snmp_start(struct main_ctx *m)
{
	struct main_snmp *s;
	char *dir;

	if (!m->cfg->snmp_agentx)
		return 0;
	s = talloc_zero(m, struct main_snmp);
	dir = s ? talloc_strdup(s, m->worker_path) : NULL;
	if (!dir)
		return -ENOMEM;
	s->m = m;
	s->path = talloc_asprintf(s, "%s/sluice-snmp", dirname(dir));
	if (!s->path)
		return -ENOMEM;
	ev_timer_init(&s->restart, on_restart, SNMP_RESTART_SECS, 0);
	s->restart.data = s;
	m->snmp = s;
	start_subagent(s);
	return 0;
}

void main_snmp_stop(struct main_ctx *m)
{
	struct main_snmp *s = m->snmp;

	if (!s)
		return;
	s->stopped = true;
	ev_timer_stop(m->loop, &s->restart);
	if (s->pid)
		kill(s->pid, SIGTERM);
}

bool main_snmp_child_exited(struct main_ctx *m, pid_t pid, int status)
{
	struct main_snmp *s = m->snmp;

	if (!s || !s->pid || pid != s->pid)
		return false;
	s->pid = 0;
	if (s->stopped)
		return true;
	if (WIFSIGNALED(status))
		log_warn("sluice-snmp (pid %d) killed by signal %d; restarting it in %.0f s",
			 (int)pid, WTERMSIG(status), SNMP_RESTART_SECS);
	else
		log_warn("sluice-snmp (pid %d) exited with status %d; restarting it in %.0f s",
			 (int)pid, WEXITSTATUS(status), SNMP_RESTART_SECS);
	ev_timer_set(&s->restart, SNMP_RESTART_SECS, 0);
	ev_timer_start(m->loop, &s->restart);
	return true;
}
