/* Starting sluice-manage (an auxiliary process, aux_proc.c) with
 *   fd 3: its request connection to main's control routes (CTL_PEER_MANAGE),
 *   fd 4: a second one, on which it follows CTL_SHOW_EVENTS for its event streams,
 *   fd 5: the manage-listen socket, which main binds once and keeps across restarts,
 *   fd 6: audit-log, opened read-only, when there is one (users' histories),
 * and the paths it reads as root before it drops to run-as-user. */
#include "config.h"

#include "main/manage.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "main/aux_proc.h"
#include "main/ctl.h"
#include "main/events.h"
#include "main/main.h"

#define MANAGE_BACKLOG 64

/* What sluice-manage read when it started: a reload that changes any of it restarts
 * the process, which is the only way a dropped process reads root's files again. */
struct files_seen {
	char paths[1024];
	struct stat st[5];
};

struct main_manage {
	struct aux_proc *proc;
	int listen_fd;
	struct files_seen seen;
};

static void see_files(const struct sluice_config *cfg, struct files_seen *f)
{
	/* audit-log: a rotation (a new file at the path) takes a new descriptor. */
	const char *p[5] = {cfg->manage_cert, cfg->manage_key, cfg->manage_ca, cfg->manage_access,
			    cfg->audit_log};

	memset(f, 0, sizeof(*f));
	snprintf(f->paths, sizeof(f->paths), "%s\n%s\n%s\n%s\n%s", p[0] ? p[0] : "",
		 p[1] ? p[1] : "", p[2] ? p[2] : "", p[3] ? p[3] : "", p[4] ? p[4] : "");
	for (int i = 0; i < 5; i++)
		if (p[i] && stat(p[i], &f->st[i]) == 0) {
			/* only what tells a changed file apart; the audit log grows all the
			 * time, and only a new file there matters */
			struct stat keep = {.st_dev = f->st[i].st_dev, .st_ino = f->st[i].st_ino};

			if (i < 4) {
				keep.st_size = f->st[i].st_size;
				keep.st_mtim = f->st[i].st_mtim;
				keep.st_ctim = f->st[i].st_ctim;
			}
			f->st[i] = keep;
		}
}

/* Both ends are made non-blocking by main; fds[] gets the child's ends. */
static int serve_pair(struct main_ctx *m, int child_end[2], int *main_end)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	if (fcntl(sv[0], F_SETFL, O_NONBLOCK) < 0) {
		close(sv[0]);
		close(sv[1]);
		return -errno;
	}
	*main_end = sv[0];
	child_end[0] = sv[1];
	return 0;
}

static pid_t start_manage(struct aux_proc *a)
{
	struct main_manage *mg = a->data;
	const struct sluice_config *cfg = a->m->cfg;
	char uid[16], gid[16];
	char *argv[20] = {"sluice-manage", "--uid", uid, "--gid", gid, "--cert", cfg->manage_cert,
			  "--key", cfg->manage_key, "--access", cfg->manage_access};
	int argc = 11, fds[4] = {-1, -1, mg->listen_fd, -1}, mine[2] = {-1, -1}, audit = -1;
	pid_t pid = -1;

	if (cfg->manage_ca) {
		argv[argc++] = "--ca";
		argv[argc++] = cfg->manage_ca;
	}
	if (a->m->foreground)
		argv[argc++] = "--stderr";
	/* Created if the writer has not yet: it opens the same path for appending. */
	if (cfg->audit_log) {
		audit = open(cfg->audit_log, O_RDONLY | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
		if (audit < 0)
			log_warn("sluice-manage: audit-log %s: %s; no user histories",
				 cfg->audit_log, strerror(errno));
		else
			argv[argc++] = "--audit";
	}
	argv[argc] = NULL;
	fds[3] = audit;
	snprintf(uid, sizeof(uid), "%u", (unsigned)cfg->uid);
	snprintf(gid, sizeof(gid), "%u", (unsigned)cfg->gid);
	if (serve_pair(a->m, &fds[0], &mine[0]) < 0 || serve_pair(a->m, &fds[1], &mine[1]) < 0) {
		log_err("sluice-manage: socketpair: %s", strerror(errno));
		goto out;
	}
	see_files(cfg, &mg->seen);
	pid = aux_spawn(a, argv, fds, audit >= 0 ? 4 : 3);
	if (pid < 0)
		goto out;
	for (int i = 0; i < 2; i++) {
		int ret = main_ctl_conn_add_child(a->m, mine[i], (uint32_t)cfg->uid,
						  CTL_PEER_MANAGE);

		mine[i] = -1; /* taken, whatever the outcome */
		if (ret < 0) {
			log_err("sluice-manage: cannot serve its connection; ending it");
			kill(pid, SIGTERM);
			goto out;
		}
	}
	log_info("sluice-manage started (pid %d, https://%s/)", (int)pid, cfg->manage_listen);
out:
	if (audit >= 0)
		close(audit);
	for (int i = 0; i < 2; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		if (mine[i] >= 0)
			close(mine[i]);
	}
	return pid;
}

static int bind_listener(const char *hostport)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1, fd;

	if (config_host_port(hostport, &ss, &len) < 0)
		return -EINVAL; /* the configuration checked it already */
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, MANAGE_BACKLOG) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

int main_manage_start(struct main_ctx *m)
{
	struct main_manage *mg;
	int fd;

	if (!m->cfg->manage_listen)
		return 0;
	fd = bind_listener(m->cfg->manage_listen);
	if (fd < 0) {
		log_err("manage-listen %s: cannot listen: %s", m->cfg->manage_listen, strerror(-fd));
		return fd;
	}
	mg = talloc_zero(m, struct main_manage);
	if (!mg) {
		close(fd);
		return -ENOMEM;
	}
	mg->listen_fd = fd;
	m->manage = mg;
	mg->proc = aux_proc_new(m, mg, "sluice-manage", start_manage, mg);
	return mg->proc ? 0 : -ENOMEM;
}

void main_manage_stop(struct main_ctx *m)
{
	if (!m->manage)
		return;
	aux_proc_stop(m->manage->proc);
	close(m->manage->listen_fd);
	m->manage->listen_fd = -1;
}

bool main_manage_child_exited(struct main_ctx *m, pid_t pid, int status)
{
	return m->manage && aux_proc_exited(m->manage->proc, pid, status);
}

void main_manage_on_event(struct main_ctx *m, const struct main_event *ev)
{
	struct files_seen now;

	if (ev->kind != MEV_RELOAD || !ev->ok || !m->manage)
		return;
	see_files(m->cfg, &now);
	if (memcmp(&now, &m->manage->seen, sizeof(now)) == 0)
		return;
	log_notice("the management API's certificate, key or grants changed; restarting "
		   "sluice-manage");
	aux_proc_restart(m->manage->proc);
}
