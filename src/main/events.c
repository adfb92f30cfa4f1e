#include "config.h"

#include "main/events.h"

#include <arpa/inet.h>

#include "common/log.h"
#include "common/netaddr.h"
#include "main/main.h"

static void event_log(struct main_ctx *m, const struct main_event *ev)
{
	const struct main_worker *w = ev->w;
	struct main_addrs a;
	char client[NETADDR_PORT_STRLEN];

	switch (ev->kind) {
	case MEV_AUTH:
		netaddr_port_text(ev->client_ip, ev->client_port, client, sizeof(client));
		if (ev->ok)
			log_notice("auth ok: user=%s client=%s", ev->user, client);
		else
			log_notice("auth failed: user=%s client=%s reason=%s", ev->user, client,
				   ev->reason ? ev->reason : "");
		break;
	case MEV_SESSION_START:
		main_session_addrs(w, &a);
		netaddr_port_text(w->client_ip, w->client_port, client, sizeof(client));
		log_notice("session start: sid=%s user=%s group=%s client=%s device=%s "
			   "vpn-ip=%s vpn-ip6=%s worker=%d",
			   w->sid, w->username, w->groupname[0] ? w->groupname : "-", client,
			   w->device, a.ip4[0] ? a.ip4 : "-", a.ip6[0] ? a.ip6 : "-", (int)w->pid);
		break;
	case MEV_SESSION_END:
		log_notice("session end: sid=%s user=%s device=%s duration=%llds bytes-in=%llu "
			   "bytes-out=%llu spoofed-dropped=%llu route-dropped=%llu reason=%s "
			   "worker=%d",
			   w->sid, w->username, w->device, ev->duration,
			   (unsigned long long)ev->bytes_in, (unsigned long long)ev->bytes_out,
			   (unsigned long long)w->spoofed, (unsigned long long)w->route_dropped,
			   ev->reason, (int)w->pid);
		break;
	case MEV_WORKER_EXIT:
		if (ev->ok)
			log_debug("%s %s", w->label, ev->detail);
		else
			log_notice("worker %d %s", (int)w->pid, ev->detail);
		break;
	case MEV_RELOAD:
		if (ev->ok)
			log_notice("configuration reloaded");
		else
			log_err("configuration reload rejected: %s", ev->reason);
		break;
	case MEV_CTL:
		if (ev->actor)
			log_notice("control command from the management API (%s): %s (%s)",
				   ev->actor, ev->detail, ev->ok ? "done" : "failed");
		else
			log_notice("control command from uid %u: %s (%s)", (unsigned)ev->uid,
				   ev->detail, ev->ok ? "done" : "failed");
		break;
	case MEV_BAN:
		log_notice("ban: client=%s banned: %s", ev->client_ip, ev->reason);
		break;
	case MEV_UNBAN:
		log_notice("unban: client=%s: %s", ev->client_ip, ev->reason);
		break;
	}
}

void main_event(struct main_ctx *m, const struct main_event *ev)
{
	/* Sinks see the session count as it is after the event. */
	if (ev->kind == MEV_SESSION_START)
		m->n_sessions++;
	else if (ev->kind == MEV_SESSION_END && m->n_sessions)
		m->n_sessions--;
	event_log(m, ev);
	for (size_t i = 0; m->sinks && i < m->sinks->n; i++)
		m->sinks->sink[i](m, ev);
}
