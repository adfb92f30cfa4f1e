/* A session's set-up and end, as main runs them; the states and what moves a session
 * from one to the next are in session_setup.h. */
#include "config.h"

#include "main/session_setup.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/crypto.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/netaddr.h"
#include "common/session.h"
#include "common/text.h"
#include "ipc/main_sec.pb-c.h"
#include "ipc/main_worker.pb-c.h"
#include "main/acct.h"
#include "main/events.h"
#include "main/filter.h"
#include "main/iroute.h"
#include "main/main.h"
#include "main/preauth.h"
#include "main/scripts.h"
#include "main/sec_channel.h"
#include "main/sessions.h"
#include "main/tun.h"
#include "main/tun_reap.h"
#include "main/workers.h"

#define WORKER_STATS_INTERVAL_MIN 1
/* Seconds between two reads of a tunnel's counters for session-quota-bytes: one netlink
 * request per session with a quota. A session goes beyond its quota by at most what it
 * moves in this time. */
#define QUOTA_CHECK_INTERVAL 1.

/* --- the failure path ------------------------------------------------------------------ */

/* The device is persistent: closing main's descriptor (held only until the handover)
 * does not end it, deleting it does (soon after, with others: tun_reap.h). */
static void tunnel_close(struct main_worker *w)
{
	int ret;

	filter_session_del(w->m, w);
	main_workers_set_tunnel(w->m, w, false);
	if (w->tun_fd >= 0)
		close(w->tun_fd);
	w->tun_fd = -1;
	ret = tun_reap_add(w->m, w->device);
	if (ret < 0 && ret != -ENODEV)
		log_err("%s: cannot delete TUN device %s: %s", w->label, w->device,
			strerror(-ret));
	w->tun_up = false;
}

/* Gives back what the set-up steps took so far. */
static void setup_undo(struct main_worker *w)
{
	if (w->iroutes_on)
		iroutes_apply(w->m, w, false);
	w->iroutes_on = false;
	if (w->tun_up)
		tunnel_close(w);
	if (w->predecessor)
		w->predecessor->successor = NULL;
	w->predecessor = NULL;
	/* sec reserved the session for w; it ignores this when a newer tunnel has it. A
	 * session main ended for good dies in sec too, even if this request raced the end. */
	if (w->sid) {
		const struct main_session *s = main_session_find(w->m, w->sid);

		sec_session_down(w->m, w->sid, w->id, s ? s->ended : 0);
	}
}

/* The one way a set-up fails: log why, undo, answer the worker once (http_code and
 * client_reason go to the client). */
static void setup_fail(struct main_worker *w, int prio, unsigned http_code,
		       const char *client_reason, const char *fmt, ...)
{
	MwTunnelFail f = MW_TUNNEL_FAIL__INIT;
	char why[512], line[700];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(line, sizeof(line), "%s: no tunnel%s%s: %s", w->label, w->sid ? " for session " : "",
		 w->sid ? w->sid : "", why);
	log_raw(prio, line);
	setup_undo(w);
	main_workers_set_state(w->m, w, MWS_ENDED);
	f.http_code = http_code;
	f.reason = (char *)client_reason;
	if (ipc_send(w->ch.fd, MW_TYPE__MW_TUNNEL_FAIL, &f.base, NULL, 0) < 0)
		main_worker_kill(w, "cannot answer its tunnel request");
}

/* --- AUTH: the tunnel request ---------------------------------------------------------- */

int session_on_tunnel_req(void *ctx, void *msg, int *fds)
{
	struct main_worker *w = ctx;
	MwTunnelReq *r = msg;

	if (r->cookie.len == 0 || r->cookie.len > SESSION_COOKIE_MAX)
		return -EPROTO;
	w->hostname = talloc_strndup(w, r->hostname ? r->hostname : "", 255);
	w->user_agent = talloc_strndup(w, r->user_agent ? r->user_agent : "", 255);
	w->device_type = talloc_strndup(w, r->device_type ? r->device_type : "", 64);
	w->device_platform = talloc_strndup(w, r->device_platform ? r->device_platform : "", 64);
	if (!w->hostname || !w->user_agent || !w->device_type || !w->device_platform)
		return -ENOMEM;
	/* The client chose them; logs, JSON and scripts get valid UTF-8. */
	text_make_utf8(w->hostname);
	text_make_utf8(w->user_agent);
	text_make_utf8(w->device_type);
	text_make_utf8(w->device_platform);
	w->has_requested =
	    r->requested_ipv4 && inet_pton(AF_INET, r->requested_ipv4, &w->requested) == 1;
	w->has_requested6 =
	    r->requested_ipv6 && inet_pton(AF_INET6, r->requested_ipv6, &w->requested6) == 1;
	w->wants_ipv6 = r->has_ipv6 && r->ipv6;
	w->mobile = r->has_mobile && r->mobile;
	w->mtu = r->mtu < 576 ? 576 : (r->mtu > 9000 ? 9000 : r->mtu);
	w->base_mtu = r->has_base_mtu && r->base_mtu > w->mtu && r->base_mtu <= 65535
			      ? r->base_mtu
			      : w->mtu;
	main_workers_set_state(w->m, w, MWS_COOKIE);
	sec_cookie_check(w, r->cookie.data, r->cookie.len);
	return 0;
}

/* --- grant: pool, lease, TUN, iroutes, connect-script ---------------------------------- */

static void hand_over(struct main_worker *w);

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

/* explicit-ipv6: the prefix around that address, and the address itself. */
static int explicit_lease6(struct main_worker *w, char *err, size_t errlen)
{
	const struct sluice_config *c = w->cfg;
	struct in6_addr want, got;
	int ret;

	if (inet_pton(AF_INET6, c->explicit_ipv6, &want) != 1)
		return -EINVAL;
	if (!ipv6_prefix_match(want.s6_addr, c->ipv6_network.s6_addr, c->ipv6_prefix)) {
		snprintf(err, errlen, "explicit-ipv6 %s is outside the session's ipv6-network",
			 c->explicit_ipv6);
		return -EINVAL;
	}
	ret = lease_acquire6(w->pool6, w->sid, w->username, false, &want, &got);
	if (ret == 0 && !ipv6_prefix_match(got.s6_addr, want.s6_addr, c->ipv6_subnet_prefix)) {
		lease_release(w->pool6, w->sid);
		ret = -EADDRINUSE;
	}
	if (ret < 0)
		snprintf(err, errlen, "explicit-ipv6 %s: %s", c->explicit_ipv6,
			 ret == -EADDRINUSE ? "in use by another session, reserved, or beyond "
					      "the prefixes sluice hands out"
					    : strerror(-ret));
	else
		w->vpn_ip6 = want;
	return ret;
}

/* X-CSTP-Address: a client may ask for the address its user had before, not for any
 * free one (which could be another user's, firewalled differently). */
static const struct in_addr *previous_address(struct main_worker *w)
{
	struct in_addr prev;

	if (!w->has_requested)
		return NULL;
	if (lease_previous(w->pool, w->username, &prev) == 0 &&
	    prev.s_addr == w->requested.s_addr)
		return &w->requested;
	log_info("%s: asked for %s, which is not its user's previous address; ignored", w->label,
		 inet_ntoa(w->requested));
	return NULL;
}

static const struct in6_addr *previous_address6(struct main_worker *w)
{
	struct in6_addr prev;
	char text[INET6_ADDRSTRLEN];

	if (!w->has_requested6)
		return NULL;
	if (lease_previous6(w->pool6, w->username, &prev) == 0 &&
	    memcmp(&prev, &w->requested6, sizeof(prev)) == 0)
		return &w->requested6;
	inet_ntop(AF_INET6, &w->requested6, text, sizeof(text));
	log_info("%s: asked for %s, which is not its user's previous address; ignored", w->label,
		 text);
	return NULL;
}

/* The session's IPv4 address, when its configuration has an ipv4-network. */
static int lease4(struct main_worker *w)
{
	char err[256];
	int ret;

	w->pool = main_pool_for(w->m, w->cfg, AF_INET, err, sizeof(err));
	if (!w->pool) {
		setup_fail(w, LOG_ERR, 503, "no address pool", "no address pool: %s", err);
		return -EINVAL;
	}
	if (w->cfg->explicit_ipv4) {
		ret = explicit_lease(w, err, sizeof(err));
		if (ret < 0)
			setup_fail(w, LOG_ERR, 503, "the user's address is not available", "%s",
				   err);
		return ret;
	}
	ret = lease_acquire(w->pool, w->sid, w->username, w->m->cfg->predictable_ips,
			    previous_address(w), &w->vpn_ip);
	if (ret < 0)
		setup_fail(w, LOG_ERR, 503, "no free address in the pool", "no address: %s",
			   strerror(-ret));
	return ret;
}

/* The session's IPv6 prefix, when its configuration has an ipv6-network, the client
 * takes IPv6 and the tunnel's MTU allows it. 0 also when the session goes without. */
static int lease6(struct main_worker *w)
{
	char err[256];
	int ret;

	if (!w->cfg->ipv6_prefix)
		return 0;
	if (!w->wants_ipv6) {
		log_info("%s: the client takes no IPv6 address; IPv4 only", w->label);
		return 0;
	}
	if (w->mtu < TUN_MTU_MIN6) {
		log_info("%s: tunnel MTU %u is below IPv6's minimum of %u; no IPv6 for this "
			 "session",
			 w->label, w->mtu, TUN_MTU_MIN6);
		return 0;
	}
	w->pool6 = main_pool_for(w->m, w->cfg, AF_INET6, err, sizeof(err));
	if (!w->pool6) {
		setup_fail(w, LOG_ERR, 503, "no address pool", "no IPv6 address pool: %s", err);
		return -EINVAL;
	}
	if (w->cfg->explicit_ipv6) {
		ret = explicit_lease6(w, err, sizeof(err));
		if (ret < 0)
			setup_fail(w, LOG_ERR, 503, "the user's address is not available", "%s",
				   err);
		return ret;
	}
	ret = lease_acquire6(w->pool6, w->sid, w->username, w->m->cfg->predictable_ips,
			     previous_address6(w), &w->vpn_ip6);
	if (ret < 0)
		setup_fail(w, LOG_ERR, 503, "no free address in the pool", "no IPv6 address: %s",
			   strerror(-ret));
	return ret;
}

static int make_tun(struct main_worker *w)
{
	struct tun_addrs a = {.has4 = w->pool != NULL, .has6 = w->pool6 != NULL};
	int ret;

	if (a.has4) {
		a.local4 = lease_pool_server_addr(w->pool);
		a.peer4 = w->vpn_ip;
	}
	if (a.has6) {
		a.local6 = lease_pool_server_addr6(w->pool6);
		a.peer6 = w->vpn_ip6;
		a.peer6_prefix = w->cfg->ipv6_subnet_prefix;
	}
	ret = tun_create(w->m->cfg->device, w->mtu, &a, w->device);
	if (ret < 0)
		setup_fail(w, LOG_ERR, 503, "cannot create the tunnel device",
			   "cannot create a TUN device: %s", strerror(-ret));
	return ret;
}

static void script_done(struct main_ctx *m, uint32_t worker_id, bool ok)
{
	struct main_worker *w = main_find_worker(m, worker_id, 0);

	/* The worker may have gone while the script ran; its exit undid the set-up. */
	if (!w || w->state != MWS_SCRIPT)
		return;
	if (ok)
		hand_over(w);
	else
		setup_fail(w, LOG_NOTICE, 503, "refused by the connect script",
			   "refused by the connect script");
}

/* A tunnel request of a session that main has ended for good is refused (failed, true):
 * sec may have approved the cookie before it heard of the end, or the request waited for
 * the session's older tunnel, which ended it. */
static bool ended_for_good(struct main_worker *w)
{
	const struct main_session *s = main_session_find(w->m, w->sid);

	if (!s || !s->ended)
		return false;
	setup_fail(w, LOG_NOTICE, 401, session_end_reason_str(s->ended),
		   "the session has ended (%s)", session_end_reason_str(s->ended));
	return true;
}

/* session-quota-bytes counts from the login: a new tunnel of the session goes on from
 * what the earlier ones moved (no other tunnel of it is up now), and one whose session
 * has no bytes left is refused, the session ended for good. 0, or -EDQUOT (failed). */
static int quota_start(struct main_worker *w)
{
	const struct main_session *s = main_session_find(w->m, w->sid);
	unsigned long long quota = w->cfg->session_quota_bytes;

	w->quota_before = s ? s->bytes : 0;
	if (!session_quota_exceeded(quota, w->quota_before, 0))
		return 0;
	main_session_end(w->m, w->sid, END_QUOTA_EXCEEDED);
	setup_fail(w, LOG_NOTICE, 401, "quota exceeded",
		   "session-quota-bytes (%llu) used up: its tunnels moved %llu bytes", quota,
		   (unsigned long long)w->quota_before);
	return -EDQUOT;
}

static void grant(struct main_worker *w)
{
	struct main_ctx *m = w->m;
	int ret;

	if (ended_for_good(w) || quota_start(w) < 0)
		return;
	/* As in ocserv, mtu caps the link MTU; the tunnel keeps the worker's overhead. */
	if (w->cfg->mtu && w->cfg->mtu < w->base_mtu) {
		unsigned overhead = w->base_mtu - w->mtu;

		w->base_mtu = w->cfg->mtu;
		w->mtu = w->base_mtu > overhead + 576 ? w->base_mtu - overhead : 576;
	}
	if (w->cfg->ipv4_prefix && lease4(w) < 0)
		return;
	if (lease6(w) < 0)
		return;
	if (!w->pool && !w->pool6) {
		setup_fail(w, LOG_NOTICE, 503, "no address for this client",
			   "the session has only an ipv6-network, and the client cannot have IPv6 "
			   "(see above)");
		return;
	}
	ret = make_tun(w);
	if (ret < 0)
		return;
	w->tun_fd = ret;
	w->tun_up = true;
	/* A later tunnel request with the same cookie must find this one to end it. */
	if (main_workers_set_tunnel(m, w, true) < 0) {
		setup_fail(w, LOG_ERR, 503, "out of memory", "out of memory for main's index");
		return;
	}
	/* Before the worker can write a packet: the kernel's half of anti-spoofing and
	 * restrict-user-to-routes. */
	if (filter_session_add(m, w) < 0) {
		setup_fail(w, LOG_ERR, 503, "cannot set up the tunnel's packet filter",
			   "cannot install the packet policy of %s", w->device);
		return;
	}
	iroutes_apply(m, w, true);
	w->iroutes_on = true;
	ret = scripts_connect(m, w, script_done);
	if (ret == 0)
		main_workers_set_state(w->m, w, MWS_SCRIPT);
	else if (ret == -ENOENT)
		hand_over(w);
	else
		setup_fail(w, LOG_ERR, 503, "the connect script could not run",
			   "the connect script could not run: %s", strerror(-ret));
}

/* --- hand over: the worker gets the TUN device ----------------------------------------- */

static void session_timeout(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct main_worker *w = t->data;

	log_info("%s: session-timeout reached; ending session %s", w->label, w->sid);
	main_terminate_worker(w, END_SESSION_TIMEOUT);
}

/* session-quota-bytes: the session's TUN device counts what the tunnel moved, whatever
 * the worker says. Beyond the quota, main ends the session for good. */
static void quota_check(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct main_worker *w = t->data;
	uint64_t rx, tx, rxp, txp, now;

	if (tun_stats(w->device, &rx, &tx, &rxp, &txp) < 0)
		return; /* read again at the next check */
	now = rx > UINT64_MAX - tx ? UINT64_MAX : rx + tx;
	if (!session_quota_exceeded(w->cfg->session_quota_bytes, w->quota_before, now))
		return;
	log_info("%s: session %s moved %llu bytes in this tunnel and %llu before, beyond its "
		 "session-quota-bytes of %llu; ending it",
		 w->label, w->sid, (unsigned long long)now,
		 (unsigned long long)w->quota_before,
		 (unsigned long long)w->cfg->session_quota_bytes);
	ev_timer_stop(loop, t);
	main_terminate_worker(w, END_QUOTA_EXCEEDED);
}

/* expose-iroutes: the session's routes and the networks behind the other users'
 * clients (their iroutes), as ocserv sends them, under ctx; NULL: out of memory. */
static char **routes_with_iroutes(TALLOC_CTX *ctx, const struct main_worker *w, size_t *n)
{
	const struct sluice_config *c = w->cfg;
	char **routes = talloc_array(ctx, char *, c->n_routes);

	*n = 0;
	for (size_t i = 0; routes && i < c->n_routes; i++)
		routes[(*n)++] = c->routes[i];
	for (const struct main_worker *o = w->m->workers; routes && o; o = o->next) {
		if (o == w || !o->iroutes_on || !o->cfg)
			continue;
		routes = talloc_realloc(ctx, routes, char *, *n + o->cfg->n_iroutes);
		for (size_t i = 0; routes && i < o->cfg->n_iroutes; i++)
			routes[(*n)++] = o->cfg->iroutes[i];
	}
	return routes;
}

static void hand_over(struct main_worker *w)
{
	struct main_ctx *m = w->m;
	const struct sluice_config *c = w->cfg;
	MwTunnelOk ok = MW_TUNNEL_OK__INIT;
	uint8_t dtls_id[MAIN_DTLS_ID_LEN];
	int ret;
	char ip[INET_ADDRSTRLEN], local[INET_ADDRSTRLEN], mask[INET_ADDRSTRLEN];
	char ip6[INET6_ADDRSTRLEN], local6[INET6_ADDRSTRLEN];

	ok.sid = w->sid;
	ok.username = w->username;
	ok.groupname = w->groupname;
	ok.device = w->device;
	if (w->pool) {
		struct in_addr server = lease_pool_server_addr(w->pool);

		inet_ntop(AF_INET, &w->vpn_ip, ip, sizeof(ip));
		inet_ntop(AF_INET, &server, local, sizeof(local));
		inet_ntop(AF_INET, &c->ipv4_netmask, mask, sizeof(mask));
		ok.ipv4 = ip;
		ok.ipv4_local = local;
		ok.ipv4_netmask = mask;
	}
	if (w->pool6) {
		struct in6_addr server = lease_pool_server_addr6(w->pool6);

		inet_ntop(AF_INET6, &w->vpn_ip6, ip6, sizeof(ip6));
		inet_ntop(AF_INET6, &server, local6, sizeof(local6));
		ok.ipv6 = ip6;
		ok.ipv6_local = local6;
		ok.has_ipv6_prefix = true;
		ok.ipv6_prefix = c->ipv6_subnet_prefix;
	}
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
	ok.has_base_mtu = true;
	ok.base_mtu = w->base_mtu;
	ok.idle_timeout = c->idle_timeout;
	ok.has_mobile_idle_timeout = true;
	ok.mobile_idle_timeout = c->mobile_idle_timeout;
	ok.has_client_bypass_protocol = true;
	ok.client_bypass_protocol = c->client_bypass_protocol;
	ok.has_rekey_time = ok.has_rekey_new_tunnel = true;
	ok.rekey_time = c->rekey_time;
	ok.rekey_new_tunnel = c->rekey_method == CONFIG_REKEY_NEW_TUNNEL;
	ok.dpd = c->dpd;
	ok.mobile_dpd = c->mobile_dpd;
	ok.keepalive = c->keepalive;
	ok.stats_interval = c->stats_report_time > WORKER_STATS_INTERVAL_MIN
				? c->stats_report_time
				: WORKER_STATS_INTERVAL_MIN;
	ok.n_dns = c->n_dns;
	ok.dns = c->dns;
	ok.n_nbns = c->n_nbns;
	ok.nbns = c->nbns;
	ok.has_tunnel_all_dns = true;
	ok.tunnel_all_dns = c->tunnel_all_dns;
	ok.n_routes = c->n_routes;
	ok.routes = c->routes;
	if (c->expose_iroutes && !(ok.routes = routes_with_iroutes(w, w, &ok.n_routes))) {
		main_worker_kill(w, "out of memory for its routes");
		return;
	}
	ok.n_no_routes = c->n_no_routes;
	ok.no_routes = c->no_routes;
	ok.n_iroutes = c->n_iroutes;
	ok.iroutes = c->iroutes;
	ok.n_split_dns = c->n_split_dns;
	ok.split_dns = c->split_dns;
	ok.has_restrict_to_routes = true;
	/* restrict-user-to-ports implies it, as in ocserv. */
	ok.restrict_to_routes = c->restrict_to_routes || c->restrict_to_ports;
	ok.restrict_to_ports = c->restrict_to_ports;
	ok.has_rx_per_sec = ok.has_tx_per_sec = true;
	ok.rx_per_sec = c->rx_data_per_sec;
	ok.tx_per_sec = c->tx_data_per_sec;
	if (w->deadline) {
		time_t left = w->deadline - time(NULL);

		/* At least 1: the header's 0 would mean no timeout. */
		ok.has_session_timeout = true;
		ok.session_timeout = left > 0 ? (uint32_t)left : 1;
	}
	/* On failure the worker is killed; its exit undoes the set-up. */
	ret = ipc_send(w->ch.fd, MW_TYPE__MW_TUNNEL_OK, &ok.base, &w->tun_fd, 1);
	if (ok.routes != c->routes)
		talloc_free(ok.routes);
	if (ret < 0) {
		main_worker_kill(w, "cannot pass the TUN device");
		return;
	}
	/* The worker has the device; the kernel keeps it and its counters for main. */
	close(w->tun_fd);
	w->tun_fd = -1;
	main_workers_set_state(w->m, w, MWS_TUNNEL);
	w->handed_over = true;
	w->started = time(NULL);
	if (w->deadline) {
		ev_timer_set(&w->session_timer,
			     w->deadline > w->started ? (ev_tstamp)(w->deadline - w->started) : 0.,
			     0.);
		ev_timer_start(m->loop, &w->session_timer);
	}
	/* Until the worker is gone, not only while it says the tunnel is up. */
	if (c->session_quota_bytes) {
		ev_timer_set(&w->quota_timer, QUOTA_CHECK_INTERVAL, QUOTA_CHECK_INTERVAL);
		ev_timer_start(m->loop, &w->quota_timer);
	}
	sec_session_up(w);
	{
		struct main_event ev = {.kind = MEV_SESSION_START, .w = w, .ok = true};

		main_event(m, &ev);
	}
}

/* --- COOKIE: sec's decision ------------------------------------------------------------ */

/* The cookie's tunnel is up in old (the client moved before its old connection died): old
 * ends first, and w goes on when old's worker is gone. Of several requests waiting for
 * the same tunnel, the newest wins. */
static void wait_for_predecessor(struct main_worker *w, struct main_worker *old)
{
	if (old->successor)
		setup_fail(old->successor, LOG_INFO, 503, "superseded by a newer connection",
			   "superseded by a newer tunnel request of the same session (%s)",
			   w->label);
	else
		log_info("%s: session %s re-used by %s; ending the older tunnel", old->label,
			 old->sid, w->label);
	old->end_reason = END_SESSION_REUSED;
	old->successor = w;
	w->predecessor = old;
	main_workers_set_state(w->m, w, MWS_PREDECESSOR);
	main_worker_signal(old, SIGKILL);
}

/* max-clients counts the sessions that have a tunnel or are getting one; a session's
 * new tunnel replaces its old one (wait_for_predecessor) and needs no room. */
static bool server_full(struct main_ctx *m, const struct main_worker *w)
{
	unsigned others = m->n_holding_room - ((w->state & MWS_HOLDS_ROOM) != 0);

	return m->cfg->max_clients && others >= m->cfg->max_clients;
}

int session_on_cookie_result(struct main_ctx *m, const MsCookieResult *r)
{
	struct main_worker *w = main_find_worker(m, r->worker_id, 0);
	struct main_worker *old;
	char err[600];

	if (!w || w->state != MWS_COOKIE) {
		/* The worker went away meanwhile: give the reservation back. */
		if (r->ok && r->sid)
			sec_session_down(m, r->sid, r->worker_id, 0);
		return 0;
	}
	if (!r->ok) {
		setup_fail(w, LOG_INFO, r->has_http_code ? r->http_code : 401,
			   r->reason ? r->reason : "", "tunnel refused: %s",
			   r->reason ? r->reason : "");
		return 0;
	}
	if (!r->sid || !r->username || !r->groupname)
		return -EPROTO;
	main_preauth_authenticated(w);
	w->sid = talloc_strdup(w, r->sid);
	w->username = talloc_strdup(w, r->username);
	w->groupname = talloc_strdup(w, r->groupname);
	if (!w->sid || !w->username || !w->groupname)
		return -ENOMEM;
	w->auth_methods = talloc_strndup(w, r->auth_methods ? r->auth_methods : "password", 64);
	w->cert_subject = r->cert_subject ? talloc_strndup(w, r->cert_subject, 255) : NULL;
	w->login = r->has_created ? (time_t)r->created : time(NULL);
	w->deadline = r->has_deadline ? (time_t)r->deadline : 0;
	main_worker_set_label(w);
	talloc_free(w->cfg);
	w->cfg = config_derive(w, m->cfg, r->user_config ? r->user_config : "", err, sizeof(err));
	if (!w->cfg) {
		setup_fail(w, LOG_ERR, 503, "invalid per-user configuration",
			   "the configuration of user '%s': %s", w->username, err);
		return 0;
	}
	if (!main_session_get(m, w->sid)) {
		setup_fail(w, LOG_ERR, 503, "out of memory", "out of memory for main's sessions");
		return 0;
	}
	/* Before an older tunnel is ended for it: that one may be ending for good. */
	if (ended_for_good(w))
		return 0;
	old = main_find_tunnel(m, w->sid);
	if (old && old != w)
		wait_for_predecessor(w, old);
	else if (server_full(m, w))
		setup_fail(w, LOG_NOTICE, 503, "the server is full",
			   "max-clients (%u) sessions are up or setting up; tunnel refused",
			   m->cfg->max_clients);
	else
		grant(w);
	return 0;
}

/* The tunnel of a replaced session ends like one that sluicectl disconnects; a newer
 * request of the session waiting for it is refused when its turn comes (grant), and
 * one that sec approved earlier but has not reached main yet, when it does. */
void session_on_replace(struct main_ctx *m, const MsSessionReplace *r)
{
	struct main_worker *w = main_find_tunnel(m, r->sid);

	main_session_end(m, r->sid, END_SESSION_REPLACED);
	if (!w)
		return;
	log_info("%s: session %s replaced by a newer login of %s; ending it", w->label, w->sid,
		 w->username);
	main_terminate_worker(w, END_SESSION_REPLACED);
}

/* --- TUNNEL: counters, the end ---------------------------------------------------------- */

int session_on_stats(void *ctx, void *msg, int *fds)
{
	struct main_worker *w = ctx;
	MwStats *s = msg;

	/* Shown while the session runs; the accounting reads the TUN device instead. */
	w->bytes_in = s->bytes_in;
	w->bytes_out = s->bytes_out;
	w->spoofed = s->spoofed_dropped;
	w->route_dropped = s->has_route_dropped ? s->route_dropped : 0;
	w->dtls = s->dtls_cipher && s->dtls_cipher[0];
	/* Shown as text: bounded and made valid UTF-8 like anything a worker says. */
	snprintf(w->dtls_cipher, sizeof(w->dtls_cipher), "%s", w->dtls ? s->dtls_cipher : "");
	if (s->tls_cipher)
		snprintf(w->tls_cipher, sizeof(w->tls_cipher), "%s", s->tls_cipher);
	snprintf(w->cstp_comp, sizeof(w->cstp_comp), "%s",
		 s->cstp_compression ? s->cstp_compression : "");
	snprintf(w->dtls_comp, sizeof(w->dtls_comp), "%s",
		 s->dtls_compression ? s->dtls_compression : "");
	text_make_utf8(w->dtls_cipher);
	text_make_utf8(w->tls_cipher);
	text_make_utf8(w->cstp_comp);
	text_make_utf8(w->dtls_comp);
	return 0;
}

/* The reasons a worker sees for itself. The others (terminated, timed out, re-used, died)
 * are main's to decide, from its own state. */
static bool worker_may_claim(unsigned reason)
{
	return reason == END_USER_DISCONNECT || reason == END_CLIENT_CLOSED ||
	       reason == END_IDLE_TIMEOUT || reason == END_DPD_TIMEOUT || reason == END_ERROR;
}

int session_on_session_end(void *ctx, void *msg, int *fds)
{
	struct main_worker *w = ctx;
	MwSessionEnd *e = msg;

	main_workers_set_state(w->m, w, MWS_ENDED);
	if (w->end_reason)
		return 0; /* main decided already */
	if (worker_may_claim(e->reason))
		w->claimed_reason = e->reason;
	else
		log_warn("%s: claims the session ended for '%s', which only main decides; ignored",
			 w->label, session_end_reason_str(e->reason));
	return 0;
}

/* Whether the session's cookie ends with its tunnel: a logout ends it, unless
 * persistent-cookies keeps it as ocserv does. */
static bool cookie_ends(const struct main_worker *w, unsigned reason)
{
	if (reason == END_USER_DISCONNECT && w->cfg && w->cfg->persistent_cookies)
		return false;
	return session_end_invalidates(reason);
}

/* Accounting happens here, in main, from the TUN device the kernel keeps until main
 * deletes it, so it is complete whether the worker ended cleanly, crashed or was
 * killed. */
static void session_end(struct main_worker *w, int status)
{
	uint64_t rx = 0, tx = 0, rxp = 0, txp = 0;
	unsigned reason = w->end_reason ? w->end_reason : w->claimed_reason;

	if (!reason)
		reason = (WIFEXITED(status) && WEXITSTATUS(status) == 0) ? END_CLIENT_CLOSED
									 : END_WORKER_DIED;
	ev_timer_stop(w->m->loop, &w->quota_timer);
	if (tun_stats(w->device, &rx, &tx, &rxp, &txp) < 0) {
		rx = w->bytes_in;
		tx = w->bytes_out;
	}
	main_session_add_bytes(w->m, w->sid, rx > UINT64_MAX - tx ? UINT64_MAX : rx + tx);
	if (cookie_ends(w, reason))
		main_session_end(w->m, w->sid, reason);
	{
		struct main_event ev = {.kind = MEV_SESSION_END,
					.w = w,
					.bytes_in = rx,
					.bytes_out = tx,
					.packets_in = rxp,
					.packets_out = txp,
					.end_reason = reason,
					.duration = (long long)(time(NULL) - w->started),
					.reason = session_end_reason_str(reason)};

		main_event(w->m, &ev);
	}
	if (w->iroutes_on)
		iroutes_apply(w->m, w, false);
	w->iroutes_on = false;
	tunnel_close(w);
	if (reason != END_SESSION_REUSED)
		/* An ended session must not come back with its cookie. */
		sec_session_down(w->m, w->sid, w->id, cookie_ends(w, reason) ? reason : 0);
}

void session_worker_exited(struct main_worker *w, int status)
{
	if (w->state & MWS_SETUP)
		setup_undo(w);
	else if (w->handed_over && w->tun_up)
		session_end(w, status);
}

void session_worker_freed(struct main_worker *w)
{
	struct main_worker *next = w->successor;

	ev_timer_stop(w->m->loop, &w->session_timer);
	ev_timer_stop(w->m->loop, &w->acct_timer);
	ev_timer_stop(w->m->loop, &w->quota_timer);
	if (w->predecessor)
		w->predecessor->successor = NULL;
	if (!next)
		return;
	next->predecessor = NULL;
	if (next->state == MWS_PREDECESSOR)
		grant(next);
}

void session_init(struct main_worker *w)
{
	ev_init(&w->session_timer, session_timeout);
	w->session_timer.data = w;
	ev_init(&w->quota_timer, quota_check);
	w->quota_timer.data = w;
	main_acct_init(w);
}
