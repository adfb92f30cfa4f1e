/* The control socket. One request per message, answered through the route table below;
 * replies are streamed one item per message and only while the socket takes them, so a
 * slow or stuck sluicectl costs main nothing but its buffered bytes. Here: the socket,
 * its connections, the dispatch and the requests about the server itself (status,
 * events, stop, reload); the lists are answered in ctl_users.c, ctl_bans.c and
 * ctl_sessions.c. */
#include "config.h"

#include "main/ctl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"
#include "ipc/ctl.pb-c.h"
#include "ipc/ctl.routes.h"
#include "main/ctl_conn.h"
#include "main/events.h"
#include "main/listeners.h"
#include "common/session.h"
#include "main/ban.h"
#include "main/main.h"
#include "main/preauth.h"
#include "main/reload.h"
#include "main/systemd.h"

#define CTL_MAX_PAYLOAD 4096
#define CTL_MAX_CONNS   16

static void count_ban(void *arg, const struct ban_info *b)
{
	(*(uint32_t *)arg)++;
}

static int ctl_on_show_status(void *ctx, void *msg, int *fds);
static int ctl_on_show_events(void *ctx, void *msg, int *fds);
static int ctl_on_stop(void *ctx, void *msg, int *fds);
static int ctl_on_reload(void *ctx, void *msg, int *fds);
static int ctl_on_actor(void *ctx, void *msg, int *fds);

static const struct ipc_route main_from_ctl[] = {
    IPC_ROUTE_CTL_SHOW_STATUS(ctl_on_show_status),
    IPC_ROUTE_CTL_SHOW_USERS(ctl_on_show_users),
    IPC_ROUTE_CTL_SHOW_USER(ctl_on_show_user),
    IPC_ROUTE_CTL_SHOW_ID(ctl_on_show_id),
    IPC_ROUTE_CTL_SHOW_EVENTS(ctl_on_show_events),
    IPC_ROUTE_CTL_DISCONNECT_USER(ctl_on_disconnect_user),
    IPC_ROUTE_CTL_DISCONNECT_ID(ctl_on_disconnect_id),
    IPC_ROUTE_CTL_STOP(ctl_on_stop),
    IPC_ROUTE_CTL_RELOAD(ctl_on_reload),
    IPC_ROUTE_CTL_SHOW_IP_BANS(ctl_on_show_ip_bans),
    IPC_ROUTE_CTL_SHOW_IP_BAN_POINTS(ctl_on_show_ip_ban_points),
    IPC_ROUTE_CTL_UNBAN_IP(ctl_on_unban_ip),
    IPC_ROUTE_CTL_SHOW_SESSIONS(ctl_on_show_sessions),
    IPC_ROUTE_CTL_SHOW_SESSION(ctl_on_show_session),
};

/* sluice-snmp's connection (snmp.c): it reads what an SNMP manager may see, the same
 * figures as `show status` and `show users`, and nothing else. A subagent that asked
 * for anything more (a disconnect, a reload, sec's sessions) breaks its contract and
 * loses the connection. */
/* sluice-manage's connection (manage.c): what the management API offers, which is
 * sluicectl's requests but stop; before each state-changing one it names the caller
 * (CTL_ACTOR) for the audit log. Roles (read or admin) are sluice-manage's to enforce:
 * its grants never reach main. */
static const struct ipc_route main_from_manage[] = {
    IPC_ROUTE_CTL_SHOW_STATUS(ctl_on_show_status),
    IPC_ROUTE_CTL_SHOW_USERS(ctl_on_show_users),
    IPC_ROUTE_CTL_SHOW_USER(ctl_on_show_user),
    IPC_ROUTE_CTL_SHOW_ID(ctl_on_show_id),
    IPC_ROUTE_CTL_SHOW_EVENTS(ctl_on_show_events),
    IPC_ROUTE_CTL_DISCONNECT_USER(ctl_on_disconnect_user),
    IPC_ROUTE_CTL_DISCONNECT_ID(ctl_on_disconnect_id),
    IPC_ROUTE_CTL_RELOAD(ctl_on_reload),
    IPC_ROUTE_CTL_SHOW_IP_BANS(ctl_on_show_ip_bans),
    IPC_ROUTE_CTL_SHOW_IP_BAN_POINTS(ctl_on_show_ip_ban_points),
    IPC_ROUTE_CTL_UNBAN_IP(ctl_on_unban_ip),
    IPC_ROUTE_CTL_SHOW_SESSIONS(ctl_on_show_sessions),
    IPC_ROUTE_CTL_SHOW_SESSION(ctl_on_show_session),
    IPC_ROUTE_CTL_ACTOR(ctl_on_actor),
    IPC_ROUTE_CTL_SHOW_ACCOUNTS(ctl_on_show_accounts),
    IPC_ROUTE_CTL_ACCOUNT_CHANGE(ctl_on_account_change),
};

static const struct ipc_route main_from_snmp[] = {
    IPC_ROUTE_CTL_SHOW_STATUS(ctl_on_show_status),
    IPC_ROUTE_CTL_SHOW_USERS(ctl_on_show_users),
};

void ctl_conn_free(struct main_ctl_conn *c)
{
	struct main_ctl *ctl = c->m->ctl;

	if (ctl) {
		for (struct main_ctl_conn **pp = &ctl->conns; *pp; pp = &(*pp)->next) {
			if (*pp == c) {
				*pp = c->next;
				ctl->n_conns--;
				break;
			}
		}
	}
	ev_io_stop(c->m->loop, &c->rio);
	ev_io_stop(c->m->loop, &c->wio);
	close(c->ch.fd);
	talloc_free(c);
}

void ctl_conn_failed(struct main_ctl_conn *c, int err)
{
	log_info("control connection (uid %u): %s; closing it", (unsigned)c->uid, strerror(-err));
	ctl_conn_free(c);
}

int ctl_send_done(struct main_ctl_conn *c, int error, const char *message, uint32_t count)
{
	CtlDone d = CTL_DONE__INIT;

	d.error = error;
	d.message = (char *)message;
	d.count = count;
	c->state = CONN_IDLE;
	TALLOC_FREE(c->actor); /* named again for the next request */
	return ipc_send(c->ch.fd, CTL_TYPE__CTL_DONE, &d.base, NULL, 0);
}

int ctl_start_list(struct main_ctl_conn *c)
{
	c->state = CONN_BUSY;
	c->cursor = UINT32_MAX;
	c->sent = 0;
	ev_io_start(c->m->loop, &c->wio);
	return 0;
}

/* The filters end with their list, so that the next request starts without any. */
int ctl_finish_list(struct main_ctl_conn *c)
{
	bool filtered = c->only_user || c->only_id || c->sess_prefix;

	ev_io_stop(c->m->loop, &c->wio);
	TALLOC_FREE(c->bans);
	TALLOC_FREE(c->only_user);
	TALLOC_FREE(c->sess_prefix);
	c->only_id = 0;
	if (!c->sent && filtered)
		return ctl_send_done(c, ENOENT, "no such session", 0);
	return ctl_send_done(c, 0, NULL, c->sent);
}

static void conn_writable(struct ev_loop *loop, ev_io *io, int revents)
{
	struct main_ctl_conn *c = io->data;
	int ret;

	if (c->sess_req)
		ret = ctl_pump_sessions(c);
	else if (c->accounts)
		ret = ctl_pump_accounts(c);
	else if (c->bans)
		ret = ctl_pump_bans(c);
	else
		ret = ctl_pump_users(c);
	if (ret < 0)
		ctl_conn_failed(c, ret);
}

static int ctl_on_show_status(void *ctx, void *msg, int *fds)
{
	struct main_ctl_conn *c = ctx;
	struct main_ctl *ctl = c->m->ctl;
	CtlStatus s = CTL_STATUS__INIT;
	unsigned active = 0;
	int ret;

	for (struct main_worker *w = c->m->workers; w; w = w->next)
		active += ctl_in_tunnel(w);
	s.server_pid = (uint32_t)getpid();
	s.sec_pid = (uint32_t)c->m->sec_pid;
	s.up_since = ctl ? ctl->up_since : 0;
	s.active_sessions = active;
	s.total_sessions = ctl ? ctl->total_sessions : 0;
	s.auth_failures = ctl ? ctl->auth_failures : 0;
	s.workers = c->m->n_workers;
	s.has_preauth = true;
	s.preauth = main_preauth_count(c->m);
	if (ctl) {
		s.has_timed_out = s.has_idle_timed_out = s.has_error_closed = true;
		s.timed_out = ctl->timed_out;
		s.idle_timed_out = ctl->idle_timed_out;
		s.error_closed = ctl->error_closed;
		s.has_avg_session_secs = s.has_max_session_secs = true;
		s.avg_session_secs = ctl->ended ? ctl->session_secs / ctl->ended : 0;
		s.max_session_secs = ctl->max_session_secs;
		s.has_avg_auth_secs = s.has_max_auth_secs = true;
		s.avg_auth_secs =
		    ctl->logins ? (uint64_t)(ctl->auth_secs / (double)ctl->logins) : 0;
		s.max_auth_secs = (uint64_t)ctl->max_auth_secs;
		s.has_ended = true;
		s.ended = ctl->ended;
		s.has_rx = s.has_tx = true;
		s.rx = ctl->rx;
		s.tx = ctl->tx;
	}
	s.has_banned = true;
	main_ban_list(c->m, true, count_ban, &s.banned);
	c->state = CONN_BUSY;
	ret = ipc_send(c->ch.fd, CTL_TYPE__CTL_STATUS, &s.base, NULL, 0);
	return ret < 0 ? ret : ctl_send_done(c, 0, NULL, 1);
}

static int ctl_on_show_events(void *ctx, void *msg, int *fds)
{
	struct main_ctl_conn *c = ctx;

	c->state = CONN_BUSY;
	c->events = true;
	return 0;
}

void ctl_audit(struct main_ctl_conn *c, const char *what, bool ok)
{
	struct main_event ev = {.kind = MEV_CTL, .detail = what, .uid = c->uid, .ok = ok};

	/* An API request without its caller is recorded as such, never as the socket's. */
	if (c->manage)
		ev.actor = c->actor ? c->actor : "unnamed";

	main_event(c->m, &ev);
}

static int ctl_on_stop(void *ctx, void *msg, int *fds)
{
	struct main_ctl_conn *c = ctx;

	ctl_audit(c, "stop now", true);
	log_notice("stop requested over the control socket by uid %u", (unsigned)c->uid);
	ev_break(c->m->loop, EVBREAK_ALL);
	return ctl_send_done(c, 0, "stopping", 0);
}

static int ctl_on_reload(void *ctx, void *msg, int *fds)
{
	struct main_ctl_conn *c = ctx;
	char err[512];
	int ret;

	/* main_reload records the outcome (MEV_RELOAD); this records who asked. */
	systemd_reloading(c->m);
	ret = main_reload(c->m, err, sizeof(err));
	systemd_ready(c->m);
	ctl_audit(c, "reload", ret == 0);
	if (ret < 0)
		return ctl_send_done(c, -ret, err, 0);
	return ctl_send_done(c, 0, "configuration applied", 1);
}

/* The name is sluice-manage's word, so it is cut and made printable before it reaches
 * the log and the audit file. */
static int ctl_on_actor(void *ctx, void *msg, int *fds)
{
	struct main_ctl_conn *c = ctx;
	const CtlName *n = msg;

	talloc_free(c->actor);
	c->actor = talloc_strndup(c, n->name, CTL_TEXT_MAX);
	if (!c->actor)
		return -ENOMEM;
	for (char *p = c->actor; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			*p = '?';
	return 0;
}

int main_ctl_conn_readable(struct main_ctl_conn *c)
{
	int ret = ipc_recv_dispatch(&c->ch, c->state, c);

	if (ret == -EAGAIN || ret >= 0)
		return ret == IPC_CLOSED ? (ctl_conn_free(c), 1) : 0;
	log_info("control connection (uid %u): %s; closing it", (unsigned)c->uid, ipc_last_error());
	ctl_conn_free(c);
	return 1;
}

static void conn_readable(struct ev_loop *loop, ev_io *io, int revents)
{
	main_ctl_conn_readable(io->data);
}

static struct main_ctl_conn *conn_new(struct main_ctx *m, int sock, uint32_t uid,
				      const struct ipc_route *routes, size_t n_routes,
				      const char *name)
{
	struct main_ctl_conn *c = talloc_zero(m->ctl, struct main_ctl_conn);

	if (!c)
		return NULL;
	c->m = m;
	c->uid = uid;
	c->state = CONN_IDLE;
	ipc_channel_init(&c->ch, sock, routes, n_routes, CTL_MAX_PAYLOAD, name);
	ev_io_init(&c->rio, conn_readable, sock, EV_READ);
	ev_io_init(&c->wio, conn_writable, sock, EV_WRITE);
	c->rio.data = c->wio.data = c;
	if (m->ctl) {
		c->next = m->ctl->conns;
		m->ctl->conns = c;
		m->ctl->n_conns++;
	}
	return c;
}

struct main_ctl_conn *main_ctl_conn_new(struct main_ctx *m, int sock, uint32_t uid,
				       enum ctl_peer peer)
{
	struct main_ctl_conn *c;

	switch (peer) {
	case CTL_PEER_SNMP:
		return conn_new(m, sock, uid, main_from_snmp,
				sizeof(main_from_snmp) / sizeof(main_from_snmp[0]), "sluice-snmp");
	case CTL_PEER_MANAGE:
		c = conn_new(m, sock, uid, main_from_manage,
			     sizeof(main_from_manage) / sizeof(main_from_manage[0]),
			     "sluice-manage");
		if (c)
			c->manage = true;
		return c;
	default:
		return conn_new(m, sock, uid, main_from_ctl,
				sizeof(main_from_ctl) / sizeof(main_from_ctl[0]),
				"control connection");
	}
}

int main_ctl_conn_add_child(struct main_ctx *m, int sock, uint32_t uid, enum ctl_peer peer)
{
	struct main_ctl_conn *c = m->ctl ? main_ctl_conn_new(m, sock, uid, peer) : NULL;

	if (!c) {
		close(sock);
		return m->ctl ? -ENOMEM : -ENOTCONN;
	}
	ev_io_start(m->loop, &c->rio);
	return 0;
}

/* Refuses a caller with a reason it can show, then closes. */
static void refuse(int fd, int error, const char *why)
{
	CtlDone d = CTL_DONE__INIT;

	d.error = error;
	d.message = (char *)why;
	ipc_send(fd, CTL_TYPE__CTL_DONE, &d.base, NULL, 0);
	close(fd);
}

static void on_accept(struct ev_loop *loop, ev_io *io, int revents)
{
	struct main_ctx *m = io->data;
	struct main_ctl *ctl = m->ctl;

	for (int i = 0; i < CTL_MAX_CONNS; i++) {
		struct ucred cred;
		socklen_t len = sizeof(cred);
		struct main_ctl_conn *c;
		int fd = accept4(ctl->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (fd < 0) {
			/* Out of descriptors the socket stays readable: no busy loop. */
			main_fd_shortage(m, io, -errno);
			return;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
			close(fd);
			continue;
		}
		if (cred.uid != 0 && !(ctl->has_group && cred.gid == ctl->group)) {
			log_warn("control connection from uid %u (pid %d) refused: not root%s",
				 (unsigned)cred.uid, (int)cred.pid,
				 ctl->has_group ? " nor in the admin group" : "");
			refuse(fd, EACCES, "permission denied");
			continue;
		}
		if (ctl->n_conns >= CTL_MAX_CONNS) {
			refuse(fd, EBUSY, "too many control connections");
			continue;
		}
		c = main_ctl_conn_new(m, fd, cred.uid, CTL_PEER_ADMIN);
		if (!c) {
			close(fd);
			continue;
		}
		ev_io_start(loop, &c->rio);
	}
}

static int make_socket(struct main_ctl *ctl, const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char *dir = talloc_strdup(ctl, path);
	struct stat st;
	mode_t old;
	int fd, ret;

	if (!dir)
		return -ENOMEM;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	if (mkdir(dirname(dir), 0755) < 0 && errno != EEXIST)
		return -errno;
	/* A socket left by an earlier run; anything else is not ours to remove. */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* Created 0600: there is no moment at which others could connect. */
	old = umask(0177);
	ret = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (ret == 0 && ctl->has_group && (chown(path, 0, ctl->group) < 0 || chmod(path, 0660) < 0))
		ret = -1;
	if (ret < 0 || listen(fd, CTL_MAX_CONNS) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

int main_ctl_start(struct main_ctx *m)
{
	const char *path = m->cfg->occtl_socket_file;
	struct main_ctl *ctl = talloc_zero(m, struct main_ctl);
	int fd;

	if (!ctl)
		return -ENOMEM;
	if (m->cfg->occtl_socket_group) {
		struct group *gr = getgrnam(m->cfg->occtl_socket_group);

		if (!gr) {
			log_err("occtl-socket-group %s: no such group", m->cfg->occtl_socket_group);
			talloc_free(ctl);
			return -ENOENT;
		}
		ctl->has_group = true;
		ctl->group = gr->gr_gid;
	}
	fd = make_socket(ctl, path);
	if (fd < 0) {
		log_err("occtl-socket-file %s: %s", path, strerror(-fd));
		talloc_free(ctl);
		return fd;
	}
	ctl->fd = fd;
	ctl->path = talloc_strdup(ctl, path);
	ctl->up_since = time(NULL);
	m->ctl = ctl;
	ev_io_init(&ctl->io, on_accept, fd, EV_READ);
	ctl->io.data = m;
	ev_io_start(m->loop, &ctl->io);
	log_notice("control socket %s (mode %s)", path, ctl->has_group ? "0660" : "0600");
	return 0;
}

void main_ctl_stop(struct main_ctx *m)
{
	struct main_ctl *ctl = m->ctl;

	if (!ctl)
		return;
	while (ctl->conns)
		ctl_conn_free(ctl->conns);
	ev_io_stop(m->loop, &ctl->io);
	close(ctl->fd);
	unlink(ctl->path);
	m->ctl = NULL;
	talloc_free(ctl);
}

static void stream_event(struct main_ctx *m, const struct main_event *ev)
{
	const struct main_worker *w = ev->w;
	bool start = ev->kind == MEV_SESSION_START;
	struct main_addrs a;
	CtlEvent e = CTL_EVENT__INIT;
	struct main_ctl_conn *c, *next;

	main_session_addrs(w, &a);
	e.connect = start;
	e.id = (uint32_t)w->pid;
	e.username = w->username;
	e.remote_ip = (char *)w->client_ip;
	e.ipv4 = a.ip4[0] ? a.ip4 : NULL;
	e.ipv6 = a.ip6[0] ? a.ip6 : NULL;
	if (!start) {
		e.reason = (char *)ev->reason;
		e.has_duration = e.has_rx = e.has_tx = true;
		e.duration = ev->duration;
		e.rx = ev->bytes_in;
		e.tx = ev->bytes_out;
	}
	for (c = m->ctl->conns; c; c = next) {
		next = c->next;
		if (!c->events)
			continue;
		/* A live stream cannot wait for its reader: a full socket ends it. */
		if (ipc_send(c->ch.fd, CTL_TYPE__CTL_EVENT, &e.base, NULL, 0) < 0) {
			log_info("control connection (uid %u): events not read; closing it",
				 (unsigned)c->uid);
			ctl_conn_free(c);
		}
	}
}

/* occtl's figures of ended sessions: a session or DPD timeout counts as timed out, an
 * idle one apart, a protocol error or a worker that died as closed due to error. */
static void count_end(struct main_ctl *ctl, const struct main_event *ev)
{
	uint64_t secs = ev->duration > 0 ? (uint64_t)ev->duration : 0;

	ctl->ended++;
	ctl->timed_out +=
	    ev->end_reason == END_SESSION_TIMEOUT || ev->end_reason == END_DPD_TIMEOUT;
	ctl->idle_timed_out += ev->end_reason == END_IDLE_TIMEOUT;
	ctl->error_closed += ev->end_reason == END_ERROR || ev->end_reason == END_WORKER_DIED;
	ctl->session_secs += secs;
	if (secs > ctl->max_session_secs)
		ctl->max_session_secs = secs;
	ctl->rx += ev->bytes_in;
	ctl->tx += ev->bytes_out;
}

void main_ctl_on_event(struct main_ctx *m, const struct main_event *ev)
{
	if (!m->ctl)
		return;
	if (ev->kind == MEV_AUTH && !ev->ok)
		m->ctl->auth_failures++;
	if (ev->kind == MEV_AUTH && ev->ok && ev->auth_secs >= 0) {
		m->ctl->logins++;
		m->ctl->auth_secs += ev->auth_secs;
		if (ev->auth_secs > m->ctl->max_auth_secs)
			m->ctl->max_auth_secs = ev->auth_secs;
	}
	if (ev->kind == MEV_SESSION_START)
		m->ctl->total_sessions++;
	if (ev->kind == MEV_SESSION_END)
		count_end(m->ctl, ev);
	if (ev->kind == MEV_SESSION_START || ev->kind == MEV_SESSION_END)
		stream_event(m, ev);
}
