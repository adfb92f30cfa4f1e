/* RADIUS Dynamic Authorization in main: sec's DAE helper received a Disconnect-Request or
 * CoA-Request and checked it (shared secret, client, time window, attributes); main
 * applies it to the tunnels it names and says to how many. A disconnect ends the tunnel
 * as `sluicectl disconnect` does (TERMINATE to the client, the cookie invalidated,
 * Acct-Terminate-Cause Admin-Reset); a CoA sets a new session-timeout from now and new
 * bandwidth limits, which the worker applies at once. */
#include "config.h"

#include "main/dae.h"

#include <arpa/inet.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/session.h"
#include "ipc/main_sec.pb-c.h"
#include "ipc/main_worker.pb-c.h"
#include "main/sec_channel.h"
#include "main/workers.h"

static bool matches(const struct main_worker *w, const DaeChange *c)
{
	char ip[INET_ADDRSTRLEN];

	if (!main_worker_holds_tun(w))
		return false;
	if (c->sid && strcmp(c->sid, w->sid) != 0)
		return false;
	if (c->username && strcmp(c->username, w->username) != 0)
		return false;
	if (c->vpn_ipv4 && (!w->pool || !inet_ntop(AF_INET, &w->vpn_ip, ip, sizeof(ip)) ||
			    strcmp(ip, c->vpn_ipv4) != 0))
		return false;
	return c->sid || c->username || c->vpn_ipv4;
}

static void change(struct main_worker *w, const DaeChange *c)
{
	if (c->has_session_timeout) {
		ev_timer_stop(w->m->loop, &w->session_timer);
		w->deadline = c->session_timeout ? time(NULL) + c->session_timeout : 0;
		if (w->deadline) {
			ev_timer_set(&w->session_timer, c->session_timeout, 0.);
			ev_timer_start(w->m->loop, &w->session_timer);
		}
		log_notice("%s: RADIUS CoA: session-timeout %u s from now", w->label,
			   c->session_timeout);
	}
	if (c->has_rx_per_sec || c->has_tx_per_sec) {
		MwLimits l = MW_LIMITS__INIT;

		if (c->has_rx_per_sec)
			w->cfg->rx_data_per_sec = c->rx_per_sec;
		if (c->has_tx_per_sec)
			w->cfg->tx_data_per_sec = c->tx_per_sec;
		l.rx_per_sec = w->cfg->rx_data_per_sec;
		l.tx_per_sec = w->cfg->tx_data_per_sec;
		if (ipc_send(w->ch.fd, MW_TYPE__MW_LIMITS, &l.base, NULL, 0) < 0)
			log_warn("%s: cannot pass the new bandwidth limits", w->label);
		else
			log_notice("%s: RADIUS CoA: limits rx %u, tx %u bytes/s", w->label,
				   l.rx_per_sec, l.tx_per_sec);
	}
}

void main_dae_on_request(struct main_ctx *m, const MsDae *d)
{
	const DaeChange *c = d->change;
	unsigned n = 0;

	for (struct main_worker *w = m->workers; w; w = w->next) {
		if (!matches(w, c))
			continue;
		n++;
		if (c->disconnect) {
			log_notice("%s: RADIUS Disconnect-Request: ending session %s", w->label,
				   w->sid);
			main_terminate_worker(w, END_SERVER_TERMINATE);
		} else {
			change(w, c);
		}
	}
	if (!n)
		log_info("RADIUS %s for %s%s%s: no such session",
			 c->disconnect ? "Disconnect-Request" : "CoA-Request",
			 c->sid ? c->sid : "", c->username ? c->username : "",
			 c->vpn_ipv4 ? c->vpn_ipv4 : "");
	sec_dae_result(m, d->request_id, n);
}
