/* The control socket. One request per message, answered through the route table below;
 * replies are streamed one item per message and only while the socket takes them, so a
 * slow or stuck sluicectl costs main nothing but its buffered bytes. */
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
#include "common/session.h"
#include "ipc/ctl.pb-c.h"
#include "ipc/main_sec.pb-c.h"
#include "main/ban.h"
#include "main/events.h"
#include "main/main.h"
#include "main/reload.h"
#include "main/systemd.h"
#include "main/tun.h"

#define CTL_MAX_PAYLOAD 4096
#define CTL_MAX_CONNS   16
#define CTL_BATCH       64  /* messages per wakeup, so that a long list shares main */
#define CTL_NAME_MAX    256 /* user names are far shorter; anything longer is an error */
#define CTL_TEXT_MAX    256 /* client-chosen strings are cut to this in replies */
#define CTL_SID_MAX     12  /* hex digits of a session id (sec's SEC_SID_LEN) */

enum { CONN_IDLE = 1u << 0, CONN_BUSY = 1u << 1 };

struct main_ctl_conn {
	struct main_ctl_conn *next;
	struct main_ctx *m;
	struct ipc_channel ch;
	ev_io rio, wio;
	uint32_t uid;
	uint32_t state;
	bool events;           /* `show events`: CTL_EVENT until the peer closes */
	bool listing;          /* a CTL_USER list is being streamed */
	uint32_t cursor;       /* next worker to list has a lower id (the list is newest first) */
	uint32_t only_id;      /* `show id`: that worker only */
	char *only_user;       /* `show user`: that user's sessions only */
	struct ban_info *bans; /* `show ip bans`/`ban points`: a copy, as the table changes */
	size_t n_bans;
	/* `show sessions`/`show session`: sec answers in batches that wait here until
	 * the socket takes them; the next batch is asked for when this one is out. */
	uint32_t sess_req; /* request id of the batch under way, 0: none */
	char sess_after[CTL_SID_MAX + 1];
	char *sess_prefix;
	bool sess_batch_end, sess_more;
	struct sess_item *queue, **queue_tail;
	uint32_t sent;
};

struct sess_item {
	struct sess_item *next;
	CtlSession s;
};

struct main_ctl {
	int fd;
	ev_io io;
	char *path;
	bool has_group;
	gid_t group;
	struct main_ctl_conn *conns;
	unsigned n_conns;
	time_t up_since;
	uint64_t total_sessions, auth_failures;
	uint32_t last_req; /* request ids for sec */
};

static int ctl_on_show_status(void *ctx, void *msg, int *fds);
static int ctl_on_show_users(void *ctx, void *msg, int *fds);
static int ctl_on_show_user(void *ctx, void *msg, int *fds);
static int ctl_on_show_id(void *ctx, void *msg, int *fds);
static int ctl_on_show_events(void *ctx, void *msg, int *fds);
static int ctl_on_disconnect_user(void *ctx, void *msg, int *fds);
static int ctl_on_disconnect_id(void *ctx, void *msg, int *fds);
static int ctl_on_stop(void *ctx, void *msg, int *fds);
static int ctl_on_reload(void *ctx, void *msg, int *fds);
static int ctl_on_show_ip_bans(void *ctx, void *msg, int *fds);
static int ctl_on_show_ip_ban_points(void *ctx, void *msg, int *fds);
static int ctl_on_unban_ip(void *ctx, void *msg, int *fds);
static int ctl_on_show_sessions(void *ctx, void *msg, int *fds);
static int ctl_on_show_session(void *ctx, void *msg, int *fds);

static const struct ipc_route main_from_ctl[] = {
    {CTL_TYPE__CTL_SHOW_STATUS, "CTL_SHOW_STATUS", &ctl_empty__descriptor, ctl_on_show_status, 0,
     CONN_IDLE, 0},
    {CTL_TYPE__CTL_SHOW_USERS, "CTL_SHOW_USERS", &ctl_empty__descriptor, ctl_on_show_users, 0,
     CONN_IDLE, 0},
    {CTL_TYPE__CTL_SHOW_USER, "CTL_SHOW_USER", &ctl_name__descriptor, ctl_on_show_user, 0,
     CONN_IDLE, 0},
    {CTL_TYPE__CTL_SHOW_ID, "CTL_SHOW_ID", &ctl_id__descriptor, ctl_on_show_id, 0, CONN_IDLE, 0},
    {CTL_TYPE__CTL_SHOW_EVENTS, "CTL_SHOW_EVENTS", &ctl_empty__descriptor, ctl_on_show_events, 0,
     CONN_IDLE, 0},
    {CTL_TYPE__CTL_DISCONNECT_USER, "CTL_DISCONNECT_USER", &ctl_name__descriptor,
     ctl_on_disconnect_user, 0, CONN_IDLE, 0},
    {CTL_TYPE__CTL_DISCONNECT_ID, "CTL_DISCONNECT_ID", &ctl_id__descriptor, ctl_on_disconnect_id, 0,
     CONN_IDLE, 0},
    {CTL_TYPE__CTL_STOP, "CTL_STOP", &ctl_empty__descriptor, ctl_on_stop, 0, CONN_IDLE, 0},
    {CTL_TYPE__CTL_RELOAD, "CTL_RELOAD", &ctl_empty__descriptor, ctl_on_reload, 0, CONN_IDLE, 0},
    {CTL_TYPE__CTL_SHOW_IP_BANS, "CTL_SHOW_IP_BANS", &ctl_empty__descriptor, ctl_on_show_ip_bans, 0,
     CONN_IDLE, 0},
    {CTL_TYPE__CTL_SHOW_IP_BAN_POINTS, "CTL_SHOW_IP_BAN_POINTS", &ctl_empty__descriptor,
     ctl_on_show_ip_ban_points, 0, CONN_IDLE, 0},
    {CTL_TYPE__CTL_UNBAN_IP, "CTL_UNBAN_IP", &ctl_ip__descriptor, ctl_on_unban_ip, 0, CONN_IDLE, 0},
    {CTL_TYPE__CTL_SHOW_SESSIONS, "CTL_SHOW_SESSIONS", &ctl_empty__descriptor, ctl_on_show_sessions,
     0, CONN_IDLE, 0},
    {CTL_TYPE__CTL_SHOW_SESSION, "CTL_SHOW_SESSION", &ctl_name__descriptor, ctl_on_show_session, 0,
     CONN_IDLE, 0},
};

static void conn_free(struct main_ctl_conn *c)
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

static int send_done(struct main_ctl_conn *c, int error, const char *message, uint32_t count)
{
	CtlDone d = CTL_DONE__INIT;

	d.error = error;
	d.message = (char *)message;
	d.count = count;
	c->state = CONN_IDLE;
	return ipc_send(c->ch.fd, CTL_TYPE__CTL_DONE, &d.base, NULL, 0);
}

static bool valid_name(const char *s)
{
	size_t n = strnlen(s, CTL_NAME_MAX + 1);

	if (n == 0 || n > CTL_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

static char *cut(TALLOC_CTX *ctx, const char *s)
{
	return talloc_strndup(ctx, s ? s : "", CTL_TEXT_MAX);
}

static int send_user(struct main_ctl_conn *c, const struct main_worker *w)
{
	TALLOC_CTX *tmp = talloc_new(NULL);
	struct in_addr ptp = lease_pool_server_addr(w->pool);
	char ip[INET_ADDRSTRLEN], local[INET_ADDRSTRLEN];
	CtlUser u = CTL_USER__INIT;
	int ret;

	if (!tmp)
		return -ENOMEM;
	inet_ntop(AF_INET, &w->vpn_ip, ip, sizeof(ip));
	inet_ntop(AF_INET, &ptp, local, sizeof(local));
	u.id = (uint32_t)w->pid;
	u.username = cut(tmp, w->username);
	u.groupname = cut(tmp, w->groupname);
	u.state = "connected";
	u.device = (char *)w->device;
	u.mtu = w->mtu;
	u.remote_ip = (char *)w->client_ip;
	u.remote_port = w->client_port;
	u.local_ip = (char *)w->local_ip;
	u.ipv4 = ip;
	u.ptp_ipv4 = local;
	u.user_agent = cut(tmp, w->user_agent);
	u.hostname = cut(tmp, w->hostname);
	u.connected_at = w->started;
	u.n_dns = w->cfg->n_dns;
	u.dns = w->cfg->dns;
	u.n_routes = w->cfg->n_routes;
	u.routes = w->cfg->routes;
	u.n_no_routes = w->cfg->n_no_routes;
	u.no_routes = w->cfg->no_routes;
	u.n_iroutes = w->cfg->n_iroutes;
	u.iroutes = w->cfg->iroutes;
	u.session_started = w->login;
	/* sec's figure, fixed at the login, rather than the configuration's now. */
	u.session_timeout = w->deadline > w->login ? (uint32_t)(w->deadline - w->login) : 0;
	u.n_split_dns = w->cfg->n_split_dns;
	u.split_dns = w->cfg->split_dns;
	u.restrict_to_routes = w->cfg->restrict_to_routes;
	u.route_dropped = w->route_dropped;
	/* Live counters from the TUN device main holds; the worker's periodic report is
	 * the fallback (rx: from the client, written to the TUN). */
	{
		uint64_t rx, tx, rxp, txp;

		if (tun_stats(w->device, &rx, &tx, &rxp, &txp) == 0) {
			u.rx = rx;
			u.tx = tx;
		} else {
			u.rx = w->bytes_in;
			u.tx = w->bytes_out;
		}
	}
	ret = ipc_send(c->ch.fd, CTL_TYPE__CTL_USER, &u.base, NULL, 0);
	talloc_free(tmp);
	return ret;
}

static bool listed(const struct main_ctl_conn *c, const struct main_worker *w)
{
	if (w->state != MWS_TUNNEL || w->tun_fd < 0)
		return false;
	if (c->only_id)
		return (uint32_t)w->pid == c->only_id;
	return !c->only_user || strcmp(w->username, c->only_user) == 0;
}

static int finish_list(struct main_ctl_conn *c)
{
	ev_io_stop(c->m->loop, &c->wio);
	c->listing = false;
	TALLOC_FREE(c->bans);
	if (!c->sent && (c->only_user || c->only_id || c->sess_prefix))
		return send_done(c, ENOENT, "no such session", 0);
	return send_done(c, 0, NULL, c->sent);
}

/* Sends what the socket takes, at most CTL_BATCH, and finishes the list with
 * CTL_DONE. Returns 0, or a negative errno when the connection must go. */
static int pump_users(struct main_ctl_conn *c)
{
	struct main_worker *w = c->m->workers;
	int ret;

	for (int n = 0; n < CTL_BATCH; n++) {
		while (w && (w->id >= c->cursor || !listed(c, w)))
			w = w->next;
		if (!w)
			break;
		ret = send_user(c, w);
		if (ret == -EAGAIN)
			return 0;
		if (ret < 0)
			return ret;
		c->cursor = w->id;
		c->sent++;
	}
	return w ? 0 : finish_list(c); /* w: more to come at the next wakeup */
}

static int send_ban(struct main_ctl_conn *c, const struct ban_info *b)
{
	CtlBan cb = CTL_BAN__INIT;

	cb.ip = (char *)b->ip;
	cb.score = b->score;
	cb.last = b->last;
	if (b->banned_until) {
		cb.has_since = cb.has_until = true;
		cb.since = b->banned_since;
		cb.until = b->banned_until;
	}
	return ipc_send(c->ch.fd, CTL_TYPE__CTL_BAN, &cb.base, NULL, 0);
}

/* As pump_users, over the copy of the ban table; c->sent indexes it. */
static int pump_bans(struct main_ctl_conn *c)
{
	int ret;

	for (int n = 0; n < CTL_BATCH && c->sent < c->n_bans; n++) {
		ret = send_ban(c, &c->bans[c->sent]);
		if (ret == -EAGAIN)
			return 0;
		if (ret < 0)
			return ret;
		c->sent++;
	}
	return c->sent < c->n_bans ? 0 : finish_list(c);
}

static void ask_sessions(struct main_ctl_conn *c)
{
	MsSessionList req = MS_SESSION_LIST__INIT;

	c->sess_req = ++c->m->ctl->last_req ? c->m->ctl->last_req : ++c->m->ctl->last_req;
	c->sess_batch_end = false;
	req.request_id = c->sess_req;
	req.sid_prefix = c->sess_prefix;
	req.after = c->sess_after[0] ? c->sess_after : NULL;
	main_send_sec(c->m, MS_TYPE__MS_SESSION_LIST, &req.base, NULL, 0);
}

/* Relays what sec sent as far as the socket takes it; asks for the next batch, or
 * ends the list, once a batch is out. */
static int pump_sessions(struct main_ctl_conn *c)
{
	struct sess_item *q;
	int ret;

	while ((q = c->queue)) {
		ret = ipc_send(c->ch.fd, CTL_TYPE__CTL_SESSION, &q->s.base, NULL, 0);
		if (ret == -EAGAIN) {
			ev_io_start(c->m->loop, &c->wio);
			return 0;
		}
		if (ret < 0)
			return ret;
		snprintf(c->sess_after, sizeof(c->sess_after), "%s", q->s.sid);
		c->sent++;
		c->queue = q->next;
		talloc_free(q);
	}
	c->queue_tail = &c->queue;
	ev_io_stop(c->m->loop, &c->wio);
	if (!c->sess_batch_end)
		return 0; /* sec's entries are still coming */
	if (c->sess_more) {
		ask_sessions(c);
		return 0;
	}
	c->sess_req = 0;
	ret = finish_list(c);
	TALLOC_FREE(c->sess_prefix);
	return ret;
}

static struct main_ctl_conn *conn_of_request(struct main_ctx *m, uint32_t id)
{
	for (struct main_ctl_conn *c = m->ctl ? m->ctl->conns : NULL; c; c = c->next)
		if (id && c->sess_req == id)
			return c;
	return NULL; /* the caller went away: the rest of its answer is dropped */
}

static void conn_failed(struct main_ctl_conn *c, int err)
{
	log_info("control connection (uid %u): %s; closing it", (unsigned)c->uid, strerror(-err));
	conn_free(c);
}

int main_ctl_on_session_entry(void *ctx, void *msg, int *fds)
{
	MsSessionEntry *e = msg;
	struct main_ctl_conn *c = conn_of_request(ctx, e->request_id);
	struct sess_item *q;
	int ret;

	if (!c || c->sess_batch_end)
		return 0;
	q = talloc_zero(c, struct sess_item);
	if (!q) {
		conn_failed(c, -ENOMEM);
		return 0;
	}
	ctl_session__init(&q->s);
	q->s.sid = talloc_strndup(q, e->sid, CTL_SID_MAX);
	q->s.username = talloc_strndup(q, e->username, CTL_TEXT_MAX);
	q->s.groupname = talloc_strndup(q, e->groupname, CTL_TEXT_MAX);
	q->s.remote_ip = talloc_strndup(q, e->auth_ip, CTL_TEXT_MAX);
	q->s.created = e->created;
	q->s.has_expires = e->has_expires;
	q->s.expires = e->expires;
	q->s.in_use_by = e->in_use_by;
	if (!q->s.sid || !q->s.username || !q->s.groupname || !q->s.remote_ip) {
		conn_failed(c, -ENOMEM);
		return 0;
	}
	*c->queue_tail = q;
	c->queue_tail = &q->next;
	ret = pump_sessions(c);
	if (ret < 0)
		conn_failed(c, ret);
	return 0;
}

int main_ctl_on_session_list_end(void *ctx, void *msg, int *fds)
{
	MsSessionListEnd *end = msg;
	struct main_ctl_conn *c = conn_of_request(ctx, end->request_id);
	int ret;

	if (!c)
		return 0;
	c->sess_batch_end = true;
	/* A batch that made no progress ends the list whatever sec says. */
	c->sess_more = end->more && end->count > 0;
	ret = pump_sessions(c);
	if (ret < 0)
		conn_failed(c, ret);
	return 0;
}

static void conn_writable(struct ev_loop *loop, ev_io *io, int revents)
{
	struct main_ctl_conn *c = io->data;
	int ret = c->sess_req ? pump_sessions(c) : c->bans ? pump_bans(c) : pump_users(c);

	if (ret < 0) {
		log_info("control connection (uid %u): %s; closing it", (unsigned)c->uid,
			 strerror(-ret));
		conn_free(c);
	}
}

static int start_list(struct main_ctl_conn *c)
{
	c->state = CONN_BUSY;
	c->listing = true;
	c->cursor = UINT32_MAX;
	c->sent = 0;
	ev_io_start(c->m->loop, &c->wio);
	return 0;
}

static int ctl_on_show_status(void *ctx, void *msg, int *fds)
{
	struct main_ctl_conn *c = ctx;
	struct main_ctl *ctl = c->m->ctl;
	CtlStatus s = CTL_STATUS__INIT;
	unsigned active = 0;
	int ret;

	for (struct main_worker *w = c->m->workers; w; w = w->next)
		active += w->state == MWS_TUNNEL && w->tun_fd >= 0;
	s.server_pid = (uint32_t)getpid();
	s.sec_pid = (uint32_t)c->m->sec_pid;
	s.up_since = ctl ? ctl->up_since : 0;
	s.active_sessions = active;
	s.total_sessions = ctl ? ctl->total_sessions : 0;
	s.auth_failures = ctl ? ctl->auth_failures : 0;
	s.workers = c->m->n_workers;
	c->state = CONN_BUSY;
	ret = ipc_send(c->ch.fd, CTL_TYPE__CTL_STATUS, &s.base, NULL, 0);
	return ret < 0 ? ret : send_done(c, 0, NULL, 1);
}

static int ctl_on_show_users(void *ctx, void *msg, int *fds)
{
	struct main_ctl_conn *c = ctx;

	TALLOC_FREE(c->only_user);
	c->only_id = 0;
	return start_list(c);
}

static int ctl_on_show_user(void *ctx, void *msg, int *fds)
{
	struct main_ctl_conn *c = ctx;
	CtlName *n = msg;

	if (!valid_name(n->name))
		return send_done(c, EINVAL, "invalid user name", 0);
	talloc_free(c->only_user);
	c->only_user = talloc_strdup(c, n->name);
	c->only_id = 0;
	return c->only_user ? start_list(c) : -ENOMEM;
}

static int ctl_on_show_id(void *ctx, void *msg, int *fds)
{
	struct main_ctl_conn *c = ctx;
	CtlId *id = msg;

	if (!id->id)
		return send_done(c, EINVAL, "invalid id", 0);
	TALLOC_FREE(c->only_user);
	c->only_id = id->id;
	return start_list(c);
}

static int ctl_on_show_events(void *ctx, void *msg, int *fds)
{
	struct main_ctl_conn *c = ctx;

	c->state = CONN_BUSY;
	c->events = true;
	return 0;
}

static void audit_ctl(struct main_ctl_conn *c, const char *what, bool ok)
{
	struct main_event ev = {.kind = MEV_CTL, .detail = what, .uid = c->uid, .ok = ok};

	main_event(c->m, &ev);
}

/* Ends the sessions that match; the worker sends TERMINATE, so the client does not
 * come back, and the session end is recorded when the worker exits. */
static int disconnect(struct main_ctl_conn *c, const char *user, uint32_t id, const char *what)
{
	unsigned n = 0;

	for (struct main_worker *w = c->m->workers; w; w = w->next) {
		if (w->state != MWS_TUNNEL || w->tun_fd < 0)
			continue;
		if (user ? strcmp(w->username, user) != 0 : (uint32_t)w->pid != id)
			continue;
		main_terminate_worker(w, END_SERVER_TERMINATE);
		n++;
	}
	audit_ctl(c, what, n > 0);
	if (!n)
		return send_done(c, ENOENT, "no such session", 0);
	return send_done(c, 0, NULL, n);
}

static int ctl_on_disconnect_user(void *ctx, void *msg, int *fds)
{
	struct main_ctl_conn *c = ctx;
	CtlName *n = msg;
	char what[CTL_NAME_MAX + 32];

	if (!valid_name(n->name))
		return send_done(c, EINVAL, "invalid user name", 0);
	snprintf(what, sizeof(what), "disconnect user %s", n->name);
	return disconnect(c, n->name, 0, what);
}

static int ctl_on_disconnect_id(void *ctx, void *msg, int *fds)
{
	struct main_ctl_conn *c = ctx;
	CtlId *id = msg;
	char what[48];

	if (!id->id)
		return send_done(c, EINVAL, "invalid id", 0);
	snprintf(what, sizeof(what), "disconnect id %u", id->id);
	return disconnect(c, NULL, id->id, what);
}

static int ctl_on_stop(void *ctx, void *msg, int *fds)
{
	struct main_ctl_conn *c = ctx;

	audit_ctl(c, "stop now", true);
	log_notice("stop requested over the control socket by uid %u", (unsigned)c->uid);
	ev_break(c->m->loop, EVBREAK_ALL);
	return send_done(c, 0, "stopping", 0);
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
	audit_ctl(c, "reload", ret == 0);
	if (ret < 0)
		return send_done(c, -ret, err, 0);
	return send_done(c, 0, "configuration applied", 1);
}

static void copy_ban(void *arg, const struct ban_info *b)
{
	struct main_ctl_conn *c = arg;
	struct ban_info *more;

	if (!c->bans)
		return; /* out of memory earlier: the list ends short */
	more = talloc_realloc(c, c->bans, struct ban_info, c->n_bans + 1);
	if (!more) {
		TALLOC_FREE(c->bans);
		return;
	}
	c->bans = more;
	c->bans[c->n_bans++] = *b;
}

/* The table is copied first: it may change (or entries expire) while a slow reader
 * takes the list. */
static int list_bans(struct main_ctl_conn *c, bool banned_only)
{
	TALLOC_FREE(c->only_user);
	c->only_id = 0;
	c->n_bans = 0;
	c->bans = talloc_array(c, struct ban_info, 0);
	if (!c->bans)
		return -ENOMEM;
	main_ban_list(c->m, banned_only, copy_ban, c);
	if (!c->bans)
		return -ENOMEM;
	return start_list(c);
}

static int ctl_on_show_ip_bans(void *ctx, void *msg, int *fds)
{
	return list_bans(ctx, true);
}

static int ctl_on_show_ip_ban_points(void *ctx, void *msg, int *fds)
{
	return list_bans(ctx, false);
}

static int ctl_on_unban_ip(void *ctx, void *msg, int *fds)
{
	struct main_ctl_conn *c = ctx;
	CtlIp *ip = msg;
	char what[INET6_ADDRSTRLEN + 16];
	int ret;

	if (strnlen(ip->ip, INET6_ADDRSTRLEN) >= INET6_ADDRSTRLEN)
		return send_done(c, EINVAL, "invalid address", 0);
	snprintf(what, sizeof(what), "unban ip %s", ip->ip);
	ret = main_ban_unban(c->m, ip->ip);
	if (ret == -EINVAL)
		return send_done(c, EINVAL, "invalid address", 0);
	audit_ctl(c, what, ret == 0);
	if (ret < 0)
		return send_done(c, -ret, "address not in the ban list", 0);
	return send_done(c, 0, NULL, 1);
}

static int list_sessions(struct main_ctl_conn *c, const char *prefix)
{
	TALLOC_FREE(c->only_user);
	c->only_id = 0;
	c->sess_after[0] = '\0';
	c->sess_prefix = NULL;
	if (prefix && !(c->sess_prefix = talloc_strdup(c, prefix)))
		return -ENOMEM;
	c->state = CONN_BUSY;
	c->listing = true;
	c->sent = 0;
	c->queue = NULL;
	c->queue_tail = &c->queue;
	ask_sessions(c);
	return 0;
}

static int ctl_on_show_sessions(void *ctx, void *msg, int *fds)
{
	return list_sessions(ctx, NULL);
}

static int ctl_on_show_session(void *ctx, void *msg, int *fds)
{
	struct main_ctl_conn *c = ctx;
	CtlName *n = msg;
	size_t len = strnlen(n->name, CTL_SID_MAX + 1);

	if (len == 0 || len > CTL_SID_MAX || strspn(n->name, "0123456789abcdef") != len)
		return send_done(c, EINVAL, "a session id is 1 to 12 hex digits", 0);
	return list_sessions(c, n->name);
}

int main_ctl_conn_readable(struct main_ctl_conn *c)
{
	int ret = ipc_recv_dispatch(&c->ch, c->state, c);

	if (ret == -EAGAIN || ret >= 0)
		return ret == IPC_CLOSED ? (conn_free(c), 1) : 0;
	log_info("control connection (uid %u): %s; closing it", (unsigned)c->uid, ipc_last_error());
	conn_free(c);
	return 1;
}

static void conn_readable(struct ev_loop *loop, ev_io *io, int revents)
{
	main_ctl_conn_readable(io->data);
}

struct main_ctl_conn *main_ctl_conn_new(struct main_ctx *m, int sock, uint32_t uid)
{
	struct main_ctl_conn *c = talloc_zero(m->ctl, struct main_ctl_conn);

	if (!c)
		return NULL;
	c->m = m;
	c->uid = uid;
	c->state = CONN_IDLE;
	ipc_channel_init(&c->ch, sock, main_from_ctl,
			 sizeof(main_from_ctl) / sizeof(main_from_ctl[0]), CTL_MAX_PAYLOAD,
			 "control connection");
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

		if (fd < 0)
			return;
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
		c = main_ctl_conn_new(m, fd, cred.uid);
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
		conn_free(ctl->conns);
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
	char ip[INET_ADDRSTRLEN];
	CtlEvent e = CTL_EVENT__INIT;
	struct main_ctl_conn *c, *next;

	inet_ntop(AF_INET, &w->vpn_ip, ip, sizeof(ip));
	e.connect = start;
	e.id = (uint32_t)w->pid;
	e.username = w->username;
	e.remote_ip = (char *)w->client_ip;
	e.ipv4 = ip;
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
			conn_free(c);
		}
	}
}

void main_ctl_on_event(struct main_ctx *m, const struct main_event *ev)
{
	if (!m->ctl)
		return;
	if (ev->kind == MEV_AUTH && !ev->ok)
		m->ctl->auth_failures++;
	if (ev->kind == MEV_SESSION_START)
		m->ctl->total_sessions++;
	if (ev->kind == MEV_SESSION_START || ev->kind == MEV_SESSION_END)
		stream_event(m, ev);
}
