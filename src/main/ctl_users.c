/* `show users`, `show user`, `show id`, `disconnect user` and `disconnect id`: the
 * tunnels main holds, one per worker, as the control socket lists and ends them. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/session.h"
#include "ipc/ctl.pb-c.h"
#include "main/ctl_conn.h"
#include "main/main.h"
#include "main/workers.h"
#include "main/tun.h"

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
	struct main_addrs a;
	CtlUser u = CTL_USER__INIT;
	int ret;

	if (!tmp)
		return -ENOMEM;
	main_session_addrs(w, &a);
	u.id = (uint32_t)w->pid;
	u.username = cut(tmp, w->username);
	u.groupname = cut(tmp, w->groupname);
	u.state = "connected";
	u.device = (char *)w->device;
	u.mtu = w->mtu;
	u.remote_ip = (char *)w->client_ip;
	u.remote_port = w->client_port;
	u.local_ip = (char *)w->local_ip;
	if (a.ip4[0]) {
		u.ipv4 = a.ip4;
		u.ptp_ipv4 = a.local4;
	}
	if (a.ip6[0]) {
		u.ipv6 = a.ip6;
		u.ptp_ipv6 = a.local6;
		u.ipv6_prefix = a.prefix6;
	}
	u.user_agent = cut(tmp, w->user_agent);
	u.auth_methods = w->auth_methods;
	u.cert_subject = w->cert_subject;
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
	u.tls_cipher = (char *)w->tls_cipher;
	u.dtls_cipher = (char *)w->dtls_cipher;
	u.cstp_compression = (char *)w->cstp_comp;
	u.dtls_compression = (char *)w->dtls_comp;
	u.sid = w->sid;
	u.n_nbns = w->cfg->n_nbns;
	u.nbns = w->cfg->nbns;
	u.restrict_to_ports = w->cfg->restrict_to_ports;
	u.has_dpd = u.has_keepalive = true;
	u.dpd = w->mobile ? w->cfg->mobile_dpd : w->cfg->dpd;
	u.keepalive = w->cfg->keepalive;
	u.rx_per_sec = w->cfg->rx_data_per_sec;
	u.tx_per_sec = w->cfg->tx_data_per_sec;
	/* Live counters from the TUN device (the kernel's, read by name); the worker's
	 * periodic report is the fallback (rx: from the client, written to the TUN). */
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

bool ctl_in_tunnel(const struct main_worker *w)
{
	return main_worker_holds_tun(w);
}

static bool listed(const struct main_ctl_conn *c, const struct main_worker *w)
{
	if (!ctl_in_tunnel(w))
		return false;
	if (c->only_id)
		return (uint32_t)w->pid == c->only_id;
	return !c->only_user || strcmp(w->username, c->only_user) == 0;
}

/* Workers newest first from c->cursor on, so that the list survives workers that
 * come and go between wakeups. */
int ctl_pump_users(struct main_ctl_conn *c)
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
	return w ? 0 : ctl_finish_list(c); /* w: more to come at the next wakeup */
}

int ctl_on_show_users(void *ctx, void *msg, int *fds)
{
	return ctl_start_list(ctx);
}

int ctl_on_show_user(void *ctx, void *msg, int *fds)
{
	struct main_ctl_conn *c = ctx;
	CtlName *n = msg;

	if (!valid_name(n->name))
		return ctl_send_done(c, EINVAL, "invalid user name", 0);
	c->only_user = talloc_strdup(c, n->name);
	return c->only_user ? ctl_start_list(c) : -ENOMEM;
}

int ctl_on_show_id(void *ctx, void *msg, int *fds)
{
	struct main_ctl_conn *c = ctx;
	CtlId *id = msg;

	if (!id->id)
		return ctl_send_done(c, EINVAL, "invalid id", 0);
	c->only_id = id->id;
	return ctl_start_list(c);
}

/* Ends the sessions that match; the worker sends TERMINATE, so the client does not
 * come back, and the session end is recorded when the worker exits. */
static int disconnect(struct main_ctl_conn *c, const char *user, uint32_t id, const char *what)
{
	unsigned n = 0;

	for (struct main_worker *w = c->m->workers; w; w = w->next) {
		if (!ctl_in_tunnel(w))
			continue;
		if (user ? strcmp(w->username, user) != 0 : (uint32_t)w->pid != id)
			continue;
		main_terminate_worker(w, END_SERVER_TERMINATE);
		n++;
	}
	ctl_audit(c, what, n > 0);
	if (!n)
		return ctl_send_done(c, ENOENT, "no such session", 0);
	return ctl_send_done(c, 0, NULL, n);
}

int ctl_on_disconnect_user(void *ctx, void *msg, int *fds)
{
	struct main_ctl_conn *c = ctx;
	CtlName *n = msg;
	char what[CTL_NAME_MAX + 32];

	if (!valid_name(n->name))
		return ctl_send_done(c, EINVAL, "invalid user name", 0);
	snprintf(what, sizeof(what), "disconnect user %s", n->name);
	return disconnect(c, n->name, 0, what);
}

int ctl_on_disconnect_id(void *ctx, void *msg, int *fds)
{
	struct main_ctl_conn *c = ctx;
	CtlId *id = msg;
	char what[48];

	if (!id->id)
		return ctl_send_done(c, EINVAL, "invalid id", 0);
	snprintf(what, sizeof(what), "disconnect id %u", id->id);
	return disconnect(c, NULL, id->id, what);
}
