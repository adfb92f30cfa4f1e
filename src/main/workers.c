/* Workers and their sessions, as main sees them: spawning (with a fixed fd
 * layout), what a worker may ask for, the tunnel it gets, and what is recorded when it
 * ends for whatever reason. */
#include "config.h"

#include "main/main.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/crypto.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/session.h"
#include "common/text.h"
#include "ipc/main_sec.pb-c.h"
#include "ipc/main_worker.pb-c.h"
#include "main/events.h"
#include "main/iroute.h"
#include "main/scripts.h"
#include "main/tun.h"

#define MAIN_WORKER_MAX_PAYLOAD   4096
#define WORKER_STATS_INTERVAL_MIN 1
/* Seconds a worker told to end its session at session-timeout has before it is killed. */
#define SESSION_TIMEOUT_GRACE 5

static int main_on_log(void *ctx, void *msg, int *fds);
static int main_on_tunnel_req(void *ctx, void *msg, int *fds);
static int main_on_stats(void *ctx, void *msg, int *fds);
static int main_on_session_end(void *ctx, void *msg, int *fds);

static const struct ipc_route main_from_worker[] = {
    {MW_TYPE__MW_LOG, "MW_LOG", &mw_log__descriptor, main_on_log, 0, IPC_ANY_STATE, 0},
    {MW_TYPE__MW_TUNNEL_REQ, "MW_TUNNEL_REQ", &mw_tunnel_req__descriptor, main_on_tunnel_req, 0,
     MWS_AUTH, IPC_ONCE},
    {MW_TYPE__MW_STATS, "MW_STATS", &mw_stats__descriptor, main_on_stats, 0, MWS_TUNNEL | MWS_ENDED,
     0},
    {MW_TYPE__MW_SESSION_END, "MW_SESSION_END", &mw_session_end__descriptor, main_on_session_end, 0,
     MWS_TUNNEL | MWS_ENDED, IPC_ONCE},
};

static void set_label(struct main_worker *w)
{
	snprintf(w->label, sizeof(w->label), "worker %d (%s%s%s:%u)", (int)w->pid,
		 w->username ? w->username : "", w->username ? "@" : "", w->client_ip,
		 w->client_port);
}

/* Fail closed: a worker that breaks the contract is ended; main goes on. */
static void kill_worker(struct main_worker *w, const char *why)
{
	log_warn("%s: %s; killing it", w->label, why);
	ev_io_stop(w->m->loop, &w->io);
	if (w->pid > 0)
		if (w->pid > 0)
			kill(w->pid, SIGKILL);
}

static void worker_readable(struct ev_loop *loop, ev_io *io, int revents)
{
	struct main_worker *w = io->data;

	/* Bounded: one worker cannot keep main busy. */
	for (int i = 0; i < 16; i++) {
		int ret = ipc_recv_dispatch(&w->ch, w->state, w);

		if (ret == -EAGAIN)
			return;
		if (ret == IPC_CLOSED) {
			ev_io_stop(loop, io);
			return;
		}
		if (ret < 0) {
			kill_worker(w, ipc_last_error());
			return;
		}
	}
}

static void addr_to_text(const struct sockaddr_storage *ss, char *ip, size_t iplen, unsigned *port)
{
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		/* An IPv4 client on a dual-stack socket is shown as IPv4. */
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
			inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], ip, (socklen_t)iplen);
		else
			inet_ntop(AF_INET6, &s6->sin6_addr, ip, (socklen_t)iplen);
		*port = ntohs(s6->sin6_port);
	} else {
		const struct sockaddr_in *s4 = (const void *)ss;

		inet_ntop(AF_INET, &s4->sin_addr, ip, (socklen_t)iplen);
		*port = ntohs(s4->sin_port);
	}
}

/* select-group and default-select-group as the form's choices, under ctx. */
static MwGroupOption **group_options(TALLOC_CTX *ctx, const struct sluice_config *c, size_t *n)
{
	size_t extra = c->default_select_group ? 1 : 0;
	MwGroupOption **opts = talloc_array(ctx, MwGroupOption *, c->n_select_groups + extra);

	*n = 0;
	for (size_t i = 0; opts && i < c->n_select_groups + extra; i++) {
		MwGroupOption *o = talloc(opts, MwGroupOption);
		const char *v = i < extra ? c->default_select_group : c->select_groups[i - extra];
		const char *open = strchr(v, '[');

		if (!o)
			return NULL;
		mw_group_option__init(o);
		/* The "own group" choice sends its label, which sec knows to mean that. */
		o->value = open ? talloc_strndup(o, v, (size_t)(open - v)) : (char *)v;
		o->label = open ? talloc_strndup(o, open + 1, strlen(open + 1) - 1) : (char *)v;
		opts[(*n)++] = o;
	}
	return opts;
}

static int send_init(struct main_ctx *m, struct main_worker *w)
{
	struct sluice_config *c = m->cfg;
	MwInit in = MW_INIT__INIT;
	TALLOC_CTX *tmp = talloc_new(NULL);
	int ret;

	in.worker_id = w->id;
	w->cert_gen = m->cert_gen;
	in.cert_pem.data = (uint8_t *)m->cert_pem;
	in.cert_pem.len = m->cert_pem_len;
	in.tls_priorities = c->tls_priorities;
	in.uid = c->uid;
	in.gid = c->gid;
	in.auth_timeout = c->auth_timeout;
	in.banner = c->banner;
	in.client_ip = w->client_ip;
	in.client_port = w->client_port;
	in.local_ip = w->local_ip;
	in.local_port = w->local_port;
	in.log_level = (uint32_t)c->log_level;
	in.cookie_timeout = c->cookie_timeout;
	in.default_domain = c->default_domain;
	in.udp_port = m->udp_fd >= 0 ? c->udp_port : 0;
	in.dtls_psk = c->dtls_psk;
	in.dtls_legacy = c->dtls_legacy;
	in.switch_to_tcp_timeout = c->switch_to_tcp_timeout;
	in.groups = group_options(tmp, c, &in.n_groups);
	ret = in.groups ? ipc_send(w->ch.fd, MW_TYPE__MW_INIT, &in.base, NULL, 0) : -ENOMEM;
	talloc_free(tmp);
	return ret;
}

/* The worker runs: sec gets its end of the worker's channel. */
int main_worker_started(struct main_ctx *m, struct main_worker *w, pid_t pid)
{
	MsWorkerNew nw = MS_WORKER_NEW__INIT;

	if (main_workers_set_pid(m, w, pid) < 0) {
		/* Its exit could not be matched to it: it must not run. */
		log_err("worker %d: out of memory for main's index; killing it", (int)pid);
		kill(pid, SIGKILL);
		return -ENOMEM;
	}
	set_label(w);
	nw.worker_id = w->id;
	nw.pid = (uint32_t)w->pid;
	nw.client_ip = w->client_ip;
	nw.client_port = w->client_port;
	nw.has_key_generation = true;
	nw.key_generation = w->cert_gen;
	main_send_sec(m, MS_TYPE__MS_WORKER_NEW, &nw.base, &w->sec_end, 1);
	close(w->sec_end);
	w->sec_end = -1;
	log_debug("%s started for %s:%u", w->label, w->client_ip, w->client_port);
	return 0;
}

/* Main, not the worker, enforces session-timeout: the session ends (its cookie with
 * it), and a worker that does not end it in time is killed. */
static void session_timeout(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct main_worker *w = t->data;

	if (w->timed_out) {
		kill_worker(w, "did not end its session at session-timeout");
		return;
	}
	log_info("%s: session-timeout reached; ending session %s", w->label, w->sid);
	w->timed_out = true;
	main_terminate_worker(w, END_SESSION_TIMEOUT);
	ev_timer_set(t, SESSION_TIMEOUT_GRACE, 0.);
	ev_timer_start(loop, t);
}

int main_spawn_worker(struct main_ctx *m, int client_fd, const struct sockaddr_storage *peer,
		      const struct sockaddr_storage *local)
{
	struct main_worker *w;
	int mw[2], sw[2];
	pid_t pid;

	if (m->cfg->max_clients && m->n_workers >= m->cfg->max_clients) {
		log_notice("max-clients (%u) reached: refusing a connection", m->cfg->max_clients);
		return -EBUSY;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, mw) < 0)
		return -errno;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sw) < 0) {
		close(mw[0]);
		close(mw[1]);
		return -errno;
	}
	w = talloc_zero(m, struct main_worker);
	w->m = m;
	/* Ids wrap after 2^32 workers; one a live worker still has is skipped. */
	do
		w->id = ++m->next_id;
	while (!w->id || main_find_worker(m, w->id, 0));
	w->tun_fd = -1;
	w->sec_end = sw[0];
	w->state = MWS_AUTH;
	w->spawned = ev_now(m->loop);
	ev_init(&w->session_timer, session_timeout);
	w->session_timer.data = w;
	addr_to_text(peer, w->client_ip, sizeof(w->client_ip), &w->client_port);
	addr_to_text(local, w->local_ip, sizeof(w->local_ip), &w->local_port);
	/* From the template when there is one (its answer brings the pid), else exec'd. */
	pid = main_template_spawn(m, w->id, client_fd, mw[1], sw[1]) == 0
		      ? 0
		      : main_exec_worker(m, client_fd, mw[1], sw[1]);
	close(mw[1]);
	close(sw[1]);
	/* Registered only after the spawn: when the template fails this request, main frees
	 * the workers it had not named yet, and this one, exec'd instead, is not one. */
	if (pid < 0 || main_workers_add(m, w) < 0) {
		/* Out of memory after a template request: its answer names no worker, and
		 * main stops using the template. */
		if (pid > 0)
			kill(pid, SIGKILL);
		close(mw[0]);
		close(sw[0]);
		talloc_free(w);
		return pid < 0 ? -ECHILD : -ENOMEM;
	}
	set_label(w);
	fcntl(mw[0], F_SETFL, O_NONBLOCK);
	ipc_channel_init(&w->ch, mw[0], main_from_worker,
			 sizeof(main_from_worker) / sizeof(main_from_worker[0]),
			 MAIN_WORKER_MAX_PAYLOAD, w->label);
	ev_io_init(&w->io, worker_readable, mw[0], EV_READ);
	w->io.data = w;
	ev_io_start(m->loop, &w->io);
	if (pid > 0 && main_worker_started(m, w, pid) < 0) {
		main_worker_free(m, w);
		return -ENOMEM;
	}
	if (send_init(m, w) < 0)
		kill_worker(w, "cannot send the start-up message");
	return 0;
}

static int main_on_log(void *ctx, void *msg, int *fds)
{
	struct main_worker *w = ctx;
	MwLog *l = msg;
	char line[1200];
	int prio = l->priority <= LOG_DEBUG ? (int)l->priority : LOG_DEBUG;

	/* A worker may not log as an emergency, and its text is bounded. */
	if (prio < LOG_ERR)
		prio = LOG_ERR;
	snprintf(line, sizeof(line), "%s: %.1000s", w->label, l->text);
	log_raw(prio, line);
	return 0;
}

static int main_on_tunnel_req(void *ctx, void *msg, int *fds)
{
	struct main_worker *w = ctx;
	MwTunnelReq *r = msg;
	MsCookieCheck cc = MS_COOKIE_CHECK__INIT;

	if (r->cookie.len == 0 || r->cookie.len > 256)
		return -EPROTO;
	w->hostname = talloc_strndup(w, r->hostname ? r->hostname : "", 255);
	w->user_agent = talloc_strndup(w, r->user_agent ? r->user_agent : "", 255);
	if (!w->hostname || !w->user_agent)
		return -ENOMEM;
	/* The client chose them; logs, JSON and scripts get valid UTF-8. */
	text_make_utf8(w->hostname);
	text_make_utf8(w->user_agent);
	w->has_requested =
	    r->requested_ipv4 && inet_pton(AF_INET, r->requested_ipv4, &w->requested) == 1;
	w->mtu = r->mtu < 576 ? 576 : (r->mtu > 9000 ? 9000 : r->mtu);
	w->state = MWS_WAIT;
	cc.worker_id = w->id;
	cc.cookie = r->cookie;
	cc.client_ip = w->client_ip;
	main_send_sec(w->m, MS_TYPE__MS_COOKIE_CHECK, &cc.base, NULL, 0);
	return 0;
}

static int main_on_stats(void *ctx, void *msg, int *fds)
{
	struct main_worker *w = ctx;
	MwStats *s = msg;

	w->bytes_in = s->bytes_in;
	w->bytes_out = s->bytes_out;
	w->spoofed = s->spoofed_dropped;
	w->route_dropped = s->has_route_dropped ? s->route_dropped : 0;
	w->dtls = s->dtls_cipher && s->dtls_cipher[0];
	return 0;
}

static int main_on_session_end(void *ctx, void *msg, int *fds)
{
	struct main_worker *w = ctx;
	MwSessionEnd *e = msg;

	if (!w->end_reason)
		w->end_reason = e->reason <= END_SESSION_REUSED ? e->reason : END_UNKNOWN;
	w->state = MWS_ENDED;
	return 0;
}

static void tunnel_fail(struct main_worker *w, unsigned code, const char *reason)
{
	MwTunnelFail f = MW_TUNNEL_FAIL__INIT;

	f.http_code = code;
	f.reason = (char *)reason;
	w->state = MWS_AUTH;
	if (ipc_send(w->ch.fd, MW_TYPE__MW_TUNNEL_FAIL, &f.base, NULL, 0) < 0)
		kill_worker(w, "cannot answer its tunnel request");
}

static void session_down(struct main_worker *w, bool invalidate)
{
	MsSessionDown d = MS_SESSION_DOWN__INIT;

	d.sid = w->sid;
	d.worker_id = w->id;
	d.invalidate = invalidate;
	main_send_sec(w->m, MS_TYPE__MS_SESSION_DOWN, &d.base, NULL, 0);
}

/* The TUN device goes; so does the worker's place as its session's tunnel. */
static void tunnel_close(struct main_worker *w)
{
	main_workers_set_tunnel(w->m, w, false);
	close(w->tun_fd);
	w->tun_fd = -1;
}

/* The session never started (its connect script refused it, or the worker left while
 * the script ran): the device goes, sec forgets the session. */
static void tunnel_abort(struct main_worker *w)
{
	iroutes_apply(w->m, w, false);
	tunnel_close(w);
	/* Ended for a newer tunnel of the same cookie: the session lives on there. */
	if (w->end_reason != END_SESSION_REUSED)
		session_down(w, false);
}

static void tunnel_hand_over(struct main_worker *w);

/* explicit-ipv4: that address or none; 0, or a negative errno with err set. */
static int explicit_lease(struct main_worker *w, char *err, size_t errlen)
{
	struct in_addr want, net, mask;
	int ret;

	if (inet_pton(AF_INET, w->cfg->explicit_ipv4, &want) != 1)
		return -EINVAL;
	lease_pool_network(w->pool, &net, &mask);
	if ((want.s_addr & mask.s_addr) != net.s_addr) {
		snprintf(err, errlen, "explicit-ipv4 %s is outside the session's ipv4-network",
			 w->cfg->explicit_ipv4);
		return -EINVAL;
	}
	ret = lease_acquire(w->pool, w->sid, w->username, false, &want, &w->vpn_ip);
	if (ret == 0 && w->vpn_ip.s_addr != want.s_addr) {
		lease_release(w->pool, w->sid);
		ret = -EADDRINUSE;
	}
	if (ret < 0)
		snprintf(err, errlen, "explicit-ipv4 %s: %s", w->cfg->explicit_ipv4,
			 ret == -EADDRINUSE ? "in use by another session, or reserved"
					    : strerror(-ret));
	return ret;
}

/* Leases the session's address and creates its TUN device; the connect script, when
 * there is one, decides whether the worker gets it. */
static void tunnel_grant(struct main_worker *w)
{
	struct main_ctx *m = w->m;
	char err[256];
	int ret;

	w->pool = main_pool_for(m, w->cfg, err, sizeof(err));
	if (!w->pool) {
		log_err("%s: no address pool for session %s: %s", w->label, w->sid, err);
		session_down(w, false);
		tunnel_fail(w, 503, "no address pool");
		return;
	}
	if (w->cfg->explicit_ipv4) {
		ret = explicit_lease(w, err, sizeof(err));
		if (ret < 0) {
			log_err("%s: session %s: %s", w->label, w->sid, err);
			session_down(w, false);
			tunnel_fail(w, 503, "the user's address is not available");
			return;
		}
	} else {
		ret = lease_acquire(w->pool, w->sid, w->username, m->cfg->predictable_ips,
				    w->has_requested ? &w->requested : NULL, &w->vpn_ip);
	}
	if (ret < 0) {
		log_err("%s: no address for session %s: %s", w->label, w->sid, strerror(-ret));
		session_down(w, false);
		tunnel_fail(w, 503, "no free address in the pool");
		return;
	}
	if (w->cfg->mtu)
		w->mtu = w->cfg->mtu;
	w->tun_fd = tun_create(m->cfg->device, lease_pool_server_addr(w->pool), w->vpn_ip, w->mtu,
			       w->device);
	if (w->tun_fd < 0) {
		log_err("%s: cannot create a TUN device: %s", w->label, strerror(-w->tun_fd));
		w->tun_fd = -1;
		session_down(w, false);
		tunnel_fail(w, 503, "cannot create the tunnel device");
		return;
	}
	/* A later tunnel request with the same cookie must find this one to end it. */
	if (main_workers_set_tunnel(m, w, true) < 0) {
		log_err("%s: out of memory for main's index", w->label);
		tunnel_close(w);
		session_down(w, false);
		tunnel_fail(w, 503, "out of memory");
		return;
	}
	iroutes_apply(m, w, true);
	ret = scripts_connect(m, w);
	if (ret == -ENOENT) {
		tunnel_hand_over(w);
	} else if (ret < 0) {
		tunnel_abort(w);
		tunnel_fail(w, 503, "the connect script could not run");
	}
}

void main_connect_script_done(struct main_ctx *m, uint32_t id, bool ok)
{
	struct main_worker *w = main_find_worker(m, id, 0);

	/* The worker may have gone while the script ran; main_worker_exited cleaned up. */
	if (!w || w->state != MWS_WAIT || w->tun_fd < 0)
		return;
	if (ok) {
		tunnel_hand_over(w);
		return;
	}
	log_notice("%s: refused by the connect script", w->label);
	tunnel_abort(w);
	tunnel_fail(w, 503, "refused by the connect script");
}

/* Hands the TUN device to the worker: the session starts. */
static void tunnel_hand_over(struct main_worker *w)
{
	struct main_ctx *m = w->m;
	const struct sluice_config *c = w->cfg;
	MwTunnelOk ok = MW_TUNNEL_OK__INIT;
	uint8_t dtls_id[MAIN_DTLS_ID_LEN];
	struct in_addr server = lease_pool_server_addr(w->pool);
	char ip[INET_ADDRSTRLEN], local[INET_ADDRSTRLEN], mask[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &w->vpn_ip, ip, sizeof(ip));
	inet_ntop(AF_INET, &server, local, sizeof(local));
	inet_ntop(AF_INET, &c->ipv4_netmask, mask, sizeof(mask));
	ok.sid = w->sid;
	ok.username = w->username;
	ok.groupname = w->groupname;
	ok.device = w->device;
	ok.ipv4 = ip;
	ok.ipv4_local = local;
	ok.ipv4_netmask = mask;
	/* A new DTLS id for every tunnel: the client re-keys DTLS when it changes, and a
	 * ClientHello with an old id matches nothing. */
	if (m->udp_fd >= 0 && !c->no_udp &&
	    gnutls_rnd(GNUTLS_RND_RANDOM, dtls_id, sizeof(dtls_id)) == 0 &&
	    main_workers_set_dtls_id(m, w, dtls_id) < 0)
		log_warn("%s: out of memory for main's index; no DTLS", w->label);
	if (w->has_dtls_id) {
		ok.has_dtls_id = true;
		ok.dtls_id.data = w->dtls_id;
		ok.dtls_id.len = sizeof(w->dtls_id);
	}
	ok.mtu = w->mtu;
	ok.idle_timeout = c->idle_timeout;
	ok.dpd = c->dpd;
	ok.mobile_dpd = c->mobile_dpd;
	ok.keepalive = c->keepalive;
	ok.stats_interval = c->stats_report_time > WORKER_STATS_INTERVAL_MIN
				? c->stats_report_time
				: WORKER_STATS_INTERVAL_MIN;
	ok.n_dns = c->n_dns;
	ok.dns = c->dns;
	ok.n_routes = c->n_routes;
	ok.routes = c->routes;
	ok.n_no_routes = c->n_no_routes;
	ok.no_routes = c->no_routes;
	ok.n_iroutes = c->n_iroutes;
	ok.iroutes = c->iroutes;
	ok.n_split_dns = c->n_split_dns;
	ok.split_dns = c->split_dns;
	ok.has_restrict_to_routes = true;
	ok.restrict_to_routes = c->restrict_to_routes;
	ok.has_rx_per_sec = ok.has_tx_per_sec = true;
	ok.rx_per_sec = c->rx_data_per_sec;
	ok.tx_per_sec = c->tx_data_per_sec;
	if (w->deadline) {
		time_t left = w->deadline - time(NULL);

		/* At least 1: the header's 0 would mean no timeout. */
		ok.has_session_timeout = true;
		ok.session_timeout = left > 0 ? (uint32_t)left : 1;
	}
	if (ipc_send(w->ch.fd, MW_TYPE__MW_TUNNEL_OK, &ok.base, &w->tun_fd, 1) < 0) {
		kill_worker(w, "cannot pass the TUN device");
		return;
	}
	w->state = MWS_TUNNEL;
	w->started = time(NULL);
	if (w->deadline) {
		ev_timer_set(&w->session_timer,
			     w->deadline > w->started ? (ev_tstamp)(w->deadline - w->started) : 0.,
			     0.);
		ev_timer_start(m->loop, &w->session_timer);
	}
	{
		MsSessionUp up = MS_SESSION_UP__INIT;

		up.sid = w->sid;
		up.worker_id = w->id;
		main_send_sec(m, MS_TYPE__MS_SESSION_UP, &up.base, NULL, 0);
	}
	{
		struct main_event ev = {.kind = MEV_SESSION_START, .w = w, .ok = true};

		main_event(m, &ev);
	}
}

int main_on_cookie_result(void *ctx, void *msg, int *fds)
{
	struct main_ctx *m = ctx;
	MsCookieResult *r = msg;
	struct main_worker *w = main_find_worker(m, r->worker_id, 0);
	struct main_worker *old;
	char err[600];

	if (!w || w->state != MWS_WAIT) {
		/* The worker went away meanwhile: give the reservation back. */
		if (r->ok && r->sid) {
			MsSessionDown d = MS_SESSION_DOWN__INIT;

			d.sid = r->sid;
			d.worker_id = r->worker_id;
			main_send_sec(m, MS_TYPE__MS_SESSION_DOWN, &d.base, NULL, 0);
		}
		return 0;
	}
	if (!r->ok) {
		log_info("%s: tunnel refused: %s", w->label, r->reason ? r->reason : "");
		tunnel_fail(w, r->has_http_code ? r->http_code : 401, r->reason ? r->reason : "");
		return 0;
	}
	if (!r->sid || !r->username || !r->groupname)
		return -EPROTO;
	w->sid = talloc_strdup(w, r->sid);
	w->username = talloc_strdup(w, r->username);
	w->groupname = talloc_strdup(w, r->groupname);
	w->login = r->has_created ? (time_t)r->created : time(NULL);
	w->deadline = r->has_deadline ? (time_t)r->deadline : 0;
	set_label(w);
	talloc_free(w->cfg);
	w->cfg = config_derive(w, m->cfg, r->user_config ? r->user_config : "", err, sizeof(err));
	if (!w->cfg) {
		log_err("%s: the configuration of user '%s': %s", w->label, w->username, err);
		session_down(w, false);
		tunnel_fail(w, 503, "invalid per-user configuration");
		return 0;
	}

	/* The same cookie already has a live tunnel (the client moved before we noticed):
	 * end the old one first; the new one starts when its device is released. */
	old = main_find_tunnel(m, w->sid);
	if (old && old != w && !old->successor) {
		log_info("%s: session %s re-used by %s; ending the older tunnel", old->label,
			 old->sid, w->label);
		old->end_reason = END_SESSION_REUSED;
		old->successor = w;
		w->predecessor = old;
		kill(old->pid, SIGKILL);
		return 0;
	}
	tunnel_grant(w);
	return 0;
}

int main_on_session_expired(void *ctx, void *msg, int *fds)
{
	struct main_ctx *m = ctx;
	MsSessionExpired *e = msg;

	main_pools_release(m, e->sid);
	return 0;
}

int main_on_auth_event(void *ctx, void *msg, int *fds)
{
	MsAuthEvent *e = msg;
	struct main_event ev = {.kind = MEV_AUTH,
				.ok = e->ok,
				.user = e->username,
				.client_ip = e->client_ip,
				.client_port = e->client_port,
				.reason = e->reason};

	main_event(ctx, &ev);
	return 0;
}

static void describe_exit(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exited with code %d (%s)", WEXITSTATUS(status),
			 worker_exit_str(WEXITSTATUS(status)));
	else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS)
		snprintf(buf, len, "killed by SIGSYS: sandbox violation");
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	else
		snprintf(buf, len, "ended with status %#x", status);
}

/* Accounting happens here, in main, from the TUN device main still holds, so it is
 * complete whether the worker ended cleanly, crashed or was killed. */
static void session_end(struct main_worker *w, int status)
{
	uint64_t rx = 0, tx = 0, rxp, txp;
	unsigned reason = w->end_reason;

	if (!reason)
		reason = (WIFEXITED(status) && WEXITSTATUS(status) == 0) ? END_CLIENT_CLOSED
									 : END_WORKER_DIED;
	if (tun_stats(w->device, &rx, &tx, &rxp, &txp) < 0) {
		rx = w->bytes_in;
		tx = w->bytes_out;
	}
	{
		struct main_event ev = {.kind = MEV_SESSION_END,
					.w = w,
					.bytes_in = rx,
					.bytes_out = tx,
					.duration = (long long)(time(NULL) - w->started),
					.reason = session_end_reason_str(reason)};

		main_event(w->m, &ev);
	}
	iroutes_apply(w->m, w, false);
	tunnel_close(w);
	if (reason != END_SESSION_REUSED)
		/* An ended session must not come back with its cookie. */
		session_down(w, reason == END_USER_DISCONNECT || reason == END_SERVER_TERMINATE ||
				    reason == END_SESSION_TIMEOUT);
}

void main_worker_free(struct main_ctx *m, struct main_worker *w)
{
	main_workers_remove(m, w);
	ev_io_stop(m->loop, &w->io);
	ev_timer_stop(m->loop, &w->session_timer);
	close(w->ch.fd);
	if (w->sec_end >= 0)
		close(w->sec_end);
	if (w->predecessor)
		w->predecessor->successor = NULL;
	if (w->successor) {
		w->successor->predecessor = NULL;
		if (w->successor->state == MWS_WAIT)
			tunnel_grant(w->successor);
	}
	talloc_free(w);
}

bool main_worker_exited(struct main_ctx *m, pid_t pid, int status)
{
	struct main_worker *w = pid > 0 ? main_find_worker(m, 0, pid) : NULL;
	char how[96];

	if (!w)
		return false;
	describe_exit(status, how, sizeof(how));
	{
		struct main_event ev = {.kind = MEV_WORKER_EXIT,
					.w = w,
					.ok = WIFEXITED(status) && WEXITSTATUS(status) == 0,
					.detail = how,
					.exit_status = status};

		main_event(m, &ev);
	}
	if (w->tun_fd >= 0 && w->state == MWS_WAIT)
		tunnel_abort(w);
	else if (w->tun_fd >= 0)
		session_end(w, status);
	main_worker_free(m, w);
	return true;
}

void main_terminate_worker(struct main_worker *w, unsigned reason)
{
	MwTerminate t = MW_TERMINATE__INIT;

	t.reason = reason;
	if (!w->end_reason)
		w->end_reason = reason;
	if (w->state == MWS_TUNNEL &&
	    ipc_send(w->ch.fd, MW_TYPE__MW_TERMINATE, &t.base, NULL, 0) == 0)
		return;
	if (w->pid > 0)
		kill(w->pid, SIGTERM);
}

void main_terminate_all(struct main_ctx *m)
{
	for (struct main_worker *w = m->workers; w; w = w->next)
		main_terminate_worker(w, END_SERVER_TERMINATE);
}

void main_kill_all(struct main_ctx *m)
{
	for (struct main_worker *w = m->workers; w; w = w->next)
		if (w->pid > 0)
			kill(w->pid, SIGKILL);
}
