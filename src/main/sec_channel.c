/* main's side of the sec channel: requests, the queue, and sec's replies (the route
 * table and its handlers). See sec_channel.h. */
#include "config.h"

#include "main/sec_channel.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/text.h"
#include "common/tls_pin.h"
#include "ipc/main_sec.pb-c.h"
#include "ipc/main_sec.routes.h"
#include "main/audit.h"
#include "main/events.h"
#include "main/main.h"
#include "main/preauth.h"
#include "main/sessions.h"
#include "sec/sec.h"

/* The largest is a reload's answer with a token's certificate (SEC_TOKEN_CERT_MAX). */
#define SEC_CHANNEL_MAX_PAYLOAD (16 * 1024)
#define MAIN_SEC_RUNNING        1u

/* Exits: see sec_channel.h. */
static void sec_lost(struct main_ctx *m, int err)
{
	log_err("cannot reach sec: %s (%zu messages, %zu bytes waiting); exiting", strerror(-err),
		m->sec_q.count, m->sec_q.bytes);
	audit_stop(m);
	exit(1);
}

/* The queue takes fds: each is closed once sent or dropped, and never duplicated, so
 * that a full descriptor table cannot make a request fail. */
static int send_sec(struct main_ctx *m, uint16_t type, const ProtobufCMessage *msg, int *fds,
		    unsigned nfds)
{
	int ret = ipc_send_queued(m->sec_ch.fd, &m->sec_q, type, msg, fds, nfds);

	if (ret == -EINVAL || ret == -EMSGSIZE)
		return ret; /* this message, not the channel */
	if (ret < 0)
		sec_lost(m, ret);
	if (!ipc_queue_empty(&m->sec_q) && !ev_is_active(&m->sec_wio)) {
		log_warn("sec is not keeping up; queueing messages for it");
		ev_io_start(m->loop, &m->sec_wio);
	}
	return 0;
}

int sec_worker_new(struct main_worker *w, int sec_end)
{
	MsWorkerNew nw = MS_WORKER_NEW__INIT;

	nw.worker_id = w->id;
	nw.pid = (uint32_t)w->pid;
	nw.client_ip = w->client_ip;
	nw.client_port = w->client_port;
	nw.has_key_generation = true;
	nw.key_generation = w->cert_gen;
	return send_sec(w->m, MS_TYPE__MS_WORKER_NEW, &nw.base, &sec_end, 1);
}

void sec_cookie_check(struct main_worker *w, const uint8_t *cookie, size_t len)
{
	MsCookieCheck cc = MS_COOKIE_CHECK__INIT;

	cc.worker_id = w->id;
	cc.cookie.data = (uint8_t *)cookie;
	cc.cookie.len = len;
	cc.client_ip = w->client_ip;
	send_sec(w->m, MS_TYPE__MS_COOKIE_CHECK, &cc.base, NULL, 0);
}

void sec_session_up(struct main_worker *w)
{
	MsSessionUp up = MS_SESSION_UP__INIT;

	up.sid = w->sid;
	up.worker_id = w->id;
	send_sec(w->m, MS_TYPE__MS_SESSION_UP, &up.base, NULL, 0);
}

void sec_session_down(struct main_ctx *m, const char *sid, uint32_t worker_id,
		      unsigned invalidate_reason)
{
	MsSessionDown d = MS_SESSION_DOWN__INIT;

	d.sid = (char *)sid;
	d.worker_id = worker_id;
	d.invalidate = invalidate_reason != 0;
	d.has_reason = invalidate_reason != 0;
	d.reason = invalidate_reason;
	send_sec(m, MS_TYPE__MS_SESSION_DOWN, &d.base, NULL, 0);
}

void sec_reload(struct main_ctx *m)
{
	MsReload r = MS_RELOAD__INIT;

	r.generation = m->reload_gen;
	r.server_key = m->cfg->server_key;
	if (config_in_token(m->cfg->server_cert)) {
		r.server_cert = m->cfg->server_cert;
		r.cert_pin.len = 0;
	} else {
		r.cert_pin.data = m->pending_pin;
		r.cert_pin.len = TLS_PIN_LEN;
	}
	r.auth_tries = m->cfg->auth_tries;
	r.cookie_timeout = m->cfg->cookie_timeout;
	r.max_same_clients = m->cfg->max_same_clients;
	r.has_max_same_clients_policy = true;
	r.max_same_clients_policy = m->cfg->max_same_clients_policy;
	r.deny_roaming = m->cfg->deny_roaming;
	r.session_timeout = m->cfg->session_timeout;
	r.config_per_user = m->cfg->config_per_user;
	r.config_per_group = m->cfg->config_per_group;
	r.default_user_config = m->cfg->default_user_config;
	r.default_group_config = m->cfg->default_group_config;
	r.default_select_group = m->cfg->default_select_group;
	r.tls_priorities = m->cfg->tls_priorities;
	r.ca_cert = m->cfg->ca_cert;
	r.crl = m->cfg->crl;
	r.cert_user_oid = m->cfg->cert_user_oid;
	r.cert_group_oid = m->cfg->cert_group_oid;
	r.key_pin = m->cfg->key_pin;
	r.pin_file = m->cfg->pin_file;
	send_sec(m, MS_TYPE__MS_RELOAD, &r.base, NULL, 0);
}

void sec_acct(struct main_ctx *m, const struct MsAcct *a)
{
	send_sec(m, MS_TYPE__MS_ACCT, &a->base, NULL, 0);
}

void sec_acct_flush(struct main_ctx *m)
{
	MsAcctFlush f = MS_ACCT_FLUSH__INIT;

	send_sec(m, MS_TYPE__MS_ACCT_FLUSH, &f.base, NULL, 0);
}

void sec_dae_result(struct main_ctx *m, uint32_t request_id, uint32_t matched)
{
	MsDaeResult r = MS_DAE_RESULT__INIT;

	r.request_id = request_id;
	r.matched = matched;
	send_sec(m, MS_TYPE__MS_DAE_RESULT, &r.base, NULL, 0);
}

void sec_session_list(struct main_ctx *m, uint32_t request_id, const char *prefix,
		      const char *after)
{
	MsSessionList req = MS_SESSION_LIST__INIT;

	req.request_id = request_id;
	req.sid_prefix = (char *)prefix;
	req.after = (char *)after;
	send_sec(m, MS_TYPE__MS_SESSION_LIST, &req.base, NULL, 0);
}

/* --- sec's replies ------------------------------------------------------------------- */

static int on_cookie_result(void *ctx, void *msg, int *fds)
{
	struct main_ctx *m = ctx;

	return m->sec_replies->cookie_result(m, msg);
}

static int on_session_expired(void *ctx, void *msg, int *fds)
{
	MsSessionExpired *e = msg;

	main_pools_release(ctx, e->sid);
	main_session_forget(ctx, e->sid);
	return 0;
}

static int on_auth_event(void *ctx, void *msg, int *fds)
{
	MsAuthEvent *e = msg;
	struct main_worker *w = e->ok ? main_find_worker(ctx, e->worker_id, 0) : NULL;
	struct main_event ev;

	/* From here on a crash of this worker is an authenticated user's, not a
	 * stranger's (workers.c). The earliest word main gets: sec sends it before it
	 * answers the worker, and a worker's own MW_TUNNEL_REQ proves nothing (any client
	 * can send a CONNECT with a made-up cookie). A reconnect with a cookie counts from
	 * sec's cookie check (session_setup.c). A worker that crashes in the instant between
	 * sec's answer and main reading this counts as unauthenticated: that mistake costs
	 * a template and ban points, never a missed probe. */
	if (w)
		main_preauth_authenticated(w);

	/* The name the client typed, relayed by sec as it came. */
	text_make_utf8(e->username);
	ev = (struct main_event){.kind = MEV_AUTH,
				 .ok = e->ok,
				 .user = e->username,
				 .client_ip = e->client_ip,
				 .client_port = e->client_port,
				 .reason = e->reason,
				 .not_scored = e->has_not_scored && e->not_scored,
				 .auth_secs = w ? ev_now(w->m->loop) - w->spawned : -1};

	main_event(ctx, &ev);
	return 0;
}

static int on_reload_result(void *ctx, void *msg, int *fds)
{
	struct main_ctx *m = ctx;

	m->sec_replies->key_result(m, msg);
	return 0;
}

static int on_session_entry(void *ctx, void *msg, int *fds)
{
	struct main_ctx *m = ctx;

	m->sec_replies->session_entry(m, msg);
	return 0;
}

static int on_session_list_end(void *ctx, void *msg, int *fds)
{
	struct main_ctx *m = ctx;

	m->sec_replies->session_list_end(m, msg);
	return 0;
}

static int on_acct_flushed(void *ctx, void *msg, int *fds)
{
	struct main_ctx *m = ctx;

	m->sec_replies->acct_flushed(m, msg);
	return 0;
}

static int on_dae(void *ctx, void *msg, int *fds)
{
	struct main_ctx *m = ctx;

	m->sec_replies->dae(m, msg);
	return 0;
}

static int on_session_replace(void *ctx, void *msg, int *fds)
{
	struct main_ctx *m = ctx;

	m->sec_replies->session_replace(m, msg);
	return 0;
}

static const struct ipc_route main_from_sec[] = {
    IPC_ROUTE_MS_COOKIE_RESULT(on_cookie_result),
    IPC_ROUTE_MS_SESSION_EXPIRED(on_session_expired),
    IPC_ROUTE_MS_AUTH_EVENT(on_auth_event),
    IPC_ROUTE_MS_RELOAD_RESULT(on_reload_result),
    IPC_ROUTE_MS_SESSION_ENTRY(on_session_entry),
    IPC_ROUTE_MS_SESSION_LIST_END(on_session_list_end),
    IPC_ROUTE_MS_ACCT_FLUSHED(on_acct_flushed),
    IPC_ROUTE_MS_DAE(on_dae),
    IPC_ROUTE_MS_SESSION_REPLACE(on_session_replace),
};

static void sec_writable(struct ev_loop *loop, ev_io *io, int revents)
{
	struct main_ctx *m = io->data;
	int ret = ipc_queue_flush(m->sec_ch.fd, &m->sec_q);

	if (ret == 0) {
		log_info("sec caught up with its queue");
		ev_io_stop(loop, io);
	} else if (ret != -EAGAIN) {
		sec_lost(m, ret);
	}
}

static void sec_readable(struct ev_loop *loop, ev_io *io, int revents)
{
	struct main_ctx *m = io->data;

	for (int i = 0; i < 64; i++) {
		int ret = ipc_recv_dispatch(&m->sec_ch, MAIN_SEC_RUNNING, m);

		if (ret == -EAGAIN)
			return;
		if (ret == IPC_CLOSED || ret < 0) {
			log_err("sec channel: %s; exiting",
				ret == IPC_CLOSED ? "closed" : ipc_last_error());
			/* Without sec nothing can log in: a failure, for systemd too. */
			m->sec_failed = true;
			ev_break(loop, EVBREAK_ALL);
			return;
		}
	}
}

void sec_channel_start(struct main_ctx *m, const struct sec_replies *replies)
{
	m->sec_replies = replies;
	ipc_channel_init(&m->sec_ch, m->sec_ch.fd, main_from_sec,
			 sizeof(main_from_sec) / sizeof(main_from_sec[0]), SEC_CHANNEL_MAX_PAYLOAD,
			 "sec");
	ev_io_init(&m->sec_io, sec_readable, m->sec_ch.fd, EV_READ);
	m->sec_io.data = m;
	ev_io_start(m->loop, &m->sec_io);
	ev_io_init(&m->sec_wio, sec_writable, m->sec_ch.fd, EV_WRITE);
	m->sec_wio.data = m;
	m->sec_q.limit = SEC_QUEUE_LIMIT;
}
