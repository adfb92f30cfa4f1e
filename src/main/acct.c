/* Accounting records from main (acct = radius[...]). main knows what accounting needs
 * without asking the worker, which may lie: the session (sid, user, client address, VPN
 * addresses), when its tunnel came up, and the TUN device's counters, which it reads
 * again for every record and once more when the worker is gone, however it ended. sec
 * queues the records and its accounting helper sends them. */
#include "config.h"

#include "main/acct.h"

#include <arpa/inet.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/session.h"
#include "ipc/main_sec.pb-c.h"
#include "main/sec_channel.h"
#include "main/tun.h"

/* RADIUS Acct-Status-Type and Acct-Terminate-Cause (RFC 2866). */
enum { ACCT_START = 1, ACCT_STOP = 2, ACCT_INTERIM = 3 };
enum {
	CAUSE_USER_REQUEST = 1,
	CAUSE_LOST_CARRIER = 2,
	CAUSE_IDLE_TIMEOUT = 4,
	CAUSE_SESSION_TIMEOUT = 5,
	CAUSE_ADMIN_RESET = 6,
	CAUSE_ADMIN_REBOOT = 7,
	CAUSE_NAS_ERROR = 9,
	CAUSE_PORT_PREEMPTED = 13,
};

static uint32_t terminate_cause(const struct main_ctx *m, unsigned reason)
{
	switch (reason) {
	case END_USER_DISCONNECT:
		return CAUSE_USER_REQUEST;
	case END_IDLE_TIMEOUT:
		return CAUSE_IDLE_TIMEOUT;
	case END_SESSION_TIMEOUT:
		return CAUSE_SESSION_TIMEOUT;
	case END_QUOTA_EXCEEDED:
		/* RFC 2866 has no cause for a used-up data allowance; the nearest is
		 * Session-Timeout: the session's allowance, of bytes instead of seconds, ran
		 * out. */
		return CAUSE_SESSION_TIMEOUT;
	case END_SESSION_REPLACED:
		/* The session's place went to another login of its user (replace-oldest). */
		return CAUSE_PORT_PREEMPTED;
	case END_SERVER_TERMINATE:
		/* sluicectl disconnect, or sluiced stopping */
		return m->stopping ? CAUSE_ADMIN_REBOOT : CAUSE_ADMIN_RESET;
	case END_WORKER_DIED:
	case END_ERROR:
		return CAUSE_NAS_ERROR;
	default:
		/* the client went away: closed, DPD, or a newer tunnel of the same cookie */
		return CAUSE_LOST_CARRIER;
	}
}

static void send_record(struct main_worker *w, uint32_t status, const struct main_event *ev)
{
	AcctRecord r = ACCT_RECORD__INIT;
	MsAcct msg = MS_ACCT__INIT;
	char v4[INET_ADDRSTRLEN], v6[INET6_ADDRSTRLEN];
	uint64_t rx = 0, tx = 0, rxp = 0, txp = 0;

	r.status = status;
	r.sid = w->sid;
	r.username = w->username;
	r.client_ip = (char *)w->client_ip;
	if (w->pool && inet_ntop(AF_INET, &w->vpn_ip, v4, sizeof(v4)))
		r.vpn_ipv4 = v4;
	if (w->pool6 && inet_ntop(AF_INET6, &w->vpn_ip6, v6, sizeof(v6)))
		r.vpn_ipv6 = v6;
	if (status != ACCT_START) {
		if (ev) {
			rx = ev->bytes_in;
			tx = ev->bytes_out;
			rxp = ev->packets_in;
			txp = ev->packets_out;
		} else if (tun_stats(w->device, &rx, &tx, &rxp, &txp) < 0) {
			rx = w->bytes_in;
			tx = w->bytes_out;
		}
		r.has_octets_in = r.has_octets_out = r.has_packets_in = r.has_packets_out = true;
		r.octets_in = rx;
		r.octets_out = tx;
		r.packets_in = rxp;
		r.packets_out = txp;
		r.has_session_time = true;
		r.session_time = (uint32_t)(time(NULL) - w->started);
	}
	if (status == ACCT_STOP) {
		r.has_terminate_cause = true;
		r.terminate_cause = terminate_cause(w->m, ev->end_reason);
	}
	msg.record = &r;
	sec_acct(w->m, &msg);
}

static void interim(struct ev_loop *loop, ev_timer *t, int revents)
{
	send_record(t->data, ACCT_INTERIM, NULL);
}

void main_acct_init(struct main_worker *w)
{
	ev_init(&w->acct_timer, interim);
	w->acct_timer.data = w;
}

void main_acct_on_event(struct main_ctx *m, const struct main_event *ev)
{
	struct main_worker *w = (struct main_worker *)ev->w;

	if (m->cfg->acct_backend == CONFIG_ACCT_NONE || !w)
		return;
	if (ev->kind == MEV_SESSION_START) {
		/* stats-report-time is the session's own: a user's file or the RADIUS
		 * server's Acct-Interim-Interval may set it. */
		double every = w->cfg->stats_report_time;

		send_record(w, ACCT_START, NULL);
		/* A PAM session has nothing to say in between. */
		if (m->cfg->acct_backend == CONFIG_ACCT_RADIUS) {
			ev_timer_set(&w->acct_timer, every, every);
			ev_timer_start(m->loop, &w->acct_timer);
		}
	} else if (ev->kind == MEV_SESSION_END) {
		ev_timer_stop(m->loop, &w->acct_timer);
		send_record(w, ACCT_STOP, ev);
	}
}

static void flush_timeout(struct ev_loop *loop, ev_timer *t, int revents)
{
	log_err("accounting: sec did not send every record within %d s; the rest is lost",
		MAIN_ACCT_FLUSH_S);
	ev_break(loop, EVBREAK_ALL);
}

void main_acct_flush(struct main_ctx *m)
{
	if (m->cfg->acct_backend == CONFIG_ACCT_NONE || !m->sec_pid || m->sec_failed)
		return;
	log_info("accounting: waiting for the last records to be sent");
	m->acct_flushing = true;
	sec_acct_flush(m);
	ev_timer_init(&m->acct_flush_timer, flush_timeout, MAIN_ACCT_FLUSH_S, 0);
	ev_timer_start(m->loop, &m->acct_flush_timer);
	ev_run(m->loop, 0);
	ev_timer_stop(m->loop, &m->acct_flush_timer);
	m->acct_flushing = false;
}

void main_acct_on_flushed(struct main_ctx *m, const struct MsAcctFlushed *f)
{
	if (!m->acct_flushing)
		return;
	if (f->lost)
		log_err("accounting: %u records sent, %u lost", f->sent, f->lost);
	else
		log_notice("accounting: all %u records sent", f->sent);
	ev_break(m->loop, EVBREAK_ALL);
}
