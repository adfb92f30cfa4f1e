/* main's event loop: the sec channel and signals; listeners.c accepts connections. */
#include "config.h"

#include "main/main.h"
#include "main/preauth.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "main/ban.h"
#include "main/ban_nft.h"
#include "main/reload.h"
#include "main/ctl.h"
#include "main/filter.h"
#include "main/kernel_limits.h"
#include "main/listeners.h"
#include "main/acct.h"
#include "main/dae.h"
#include "main/audit.h"
#include "main/metrics.h"
#include "main/events.h"
#include "main/scripts.h"
#include "main/sec_channel.h"
#include "main/manage.h"
#include "main/tool_run.h"
#include "main/tun.h"
#include "main/tun_reap.h"
#include "main/snmp.h"
#include "main/session_setup.h"
#include "main/systemd.h"
#include "main/workers.h"


static void on_sigchld(struct ev_loop *loop, ev_signal *s, int revents)
{
	struct main_ctx *m = s->data;
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid == m->sec_pid) {
			if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS)
				log_err("sec killed by SIGSYS: sandbox violation; exiting");
			else
				log_err("sec exited (status %#x); exiting", status);
			m->sec_pid = 0;
			ev_break(loop, EVBREAK_ALL);
			continue;
		}
		if (!main_snmp_child_exited(m, pid, status) &&
		    !main_manage_child_exited(m, pid, status) && !tool_child_exited(m, pid, status))
			main_child_exited(m, pid, status);
	}
}

/* ocserv operators send SIGHUP to reload (systemd's ExecReload does the same). */
static void on_sighup(struct ev_loop *loop, ev_signal *s, int revents)
{
	char err[512];

	/* The audit file is reopened for logrotate; main_reload logs its outcome as a
	 * MEV_RELOAD event. */
	systemd_reloading(s->data);
	audit_reopen(s->data);
	main_reload(s->data, err, sizeof(err));
	systemd_ready(s->data);
}

static void on_drained(struct ev_loop *loop, ev_timer *t, int revents)
{
	log_notice("server-drain-ms over: ending the sessions");
	ev_break(loop, EVBREAK_ALL);
}

/* With server-drain-ms, a load balancer sees the port closed (new connections are
 * refused) while the sessions go on for that long; a second signal ends them now. The UDP
 * socket stays open: established sessions still hand over DTLS through it. */
static void on_sigterm(struct ev_loop *loop, ev_signal *s, int revents)
{
	struct main_ctx *m = s->data;

	if (!m->cfg->server_drain_ms || ev_is_active(&m->drain) || !m->n_sessions) {
		log_notice("signal %d: shutting down", s->signum);
		systemd_stopping(m);
		ev_break(loop, EVBREAK_ALL);
		return;
	}
	log_notice("signal %d: refusing new connections; %u session%s end in %u ms",
		   s->signum, m->n_sessions, m->n_sessions == 1 ? "" : "s",
		   m->cfg->server_drain_ms);
	systemd_stopping(m);
	main_listeners_close(m);
	ev_timer_init(&m->drain, on_drained, m->cfg->server_drain_ms / 1000.0, 0);
	m->drain.data = m;
	ev_timer_start(loop, &m->drain);
}

/* The wiring: whom sec's answers and main's events go to. */
static const struct sec_replies replies = {
    .cookie_result = session_on_cookie_result,
    .key_result = main_reload_key_result,
    .session_entry = main_ctl_session_entry,
    .session_list_end = main_ctl_session_list_end,
    .acct_flushed = main_acct_on_flushed,
    .dae = main_dae_on_request,
    .session_replace = session_on_replace,
};
static const main_event_sink sink_list[] = {
    main_ctl_on_event, audit_event, scripts_event, systemd_on_event, metrics_on_event,
    main_ban_on_event, main_acct_on_event, main_manage_on_event,
};
static const struct main_event_sinks sinks = {sink_list, sizeof(sink_list) / sizeof(sink_list[0])};

int main_run(struct main_ctx *m)
{
	int ret;

	/* Not the default loop: that one reaps children itself, and main must see
	 * every exit status. */
	m->loop = ev_loop_new(EVFLAG_AUTO);
	if (!m->loop || main_ban_init(m) < 0 || main_preauth_init(m, main_worker_signal) < 0)
		return -ENOMEM;
	if (filter_start(m) < 0)
		return -EPERM;
	/* Opened after sec is forked, so that only main holds the file. */
	if (audit_start(m) < 0)
		return -EIO;
	sec_channel_start(m, &replies);
	m->sinks = &sinks;
	if (main_listeners_start(m) < 0)
		return -EIO;
	if (m->udp_fd >= 0) {
		ev_io_init(&m->udp_io, main_udp_readable, m->udp_fd, EV_READ);
		m->udp_io.data = m;
		ev_io_start(m->loop, &m->udp_io);
	}
	main_template_watch(m);
	/* TUN devices a killed sluiced left (they are persistent); another one running
	 * keeps its own. */
	ret = tun_delete_stale();
	if (ret > 0)
		log_notice("deleted %d TUN device%s left by a sluiced that no longer runs", ret,
			   ret == 1 ? "" : "s");
	else if (ret < 0)
		log_warn("cannot look for TUN devices left by an earlier sluiced: %s",
			 strerror(-ret));
	if (main_ctl_start(m) < 0)
		return -EIO;
	ev_signal_init(&m->sig_chld, on_sigchld, SIGCHLD);
	ev_signal_init(&m->sig_term, on_sigterm, SIGTERM);
	ev_signal_init(&m->sig_int, on_sigterm, SIGINT);
	ev_signal_init(&m->sig_hup, on_sighup, SIGHUP);
	m->sig_chld.data = m->sig_term.data = m->sig_int.data = m->sig_hup.data = m;
	ev_signal_start(m->loop, &m->sig_chld);
	ev_signal_start(m->loop, &m->sig_term);
	ev_signal_start(m->loop, &m->sig_int);
	ev_signal_start(m->loop, &m->sig_hup);
	if (m->cfg->metrics_listen && metrics_start(m) < 0)
		return -EADDRNOTAVAIL;
	if (main_snmp_start(m) < 0)
		return -ENOMEM;
	if (main_manage_start(m) < 0)
		return -EADDRNOTAVAIL;
	main_fd_budget_check(m);
	kernel_limits_check(m->cfg->max_clients, m->n_workers);
	/* Last before the loop: no start-up failure leaves the table behind. */
	ban_nft_start(m);
	log_notice("sluiced ready");
	systemd_ready(m);
	ev_run(m->loop, 0);
	main_snmp_stop(m);
	main_manage_stop(m);
	main_ctl_stop(m);
	metrics_stop(m);

	/* Shutting down: tell clients the session is over (so they do not reconnect),
	 * give workers a moment to say so, then end whatever is left. */
	m->stopping = true;
	main_terminate_all(m);
	for (int i = 0; i < 60 && m->n_workers; i++) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);

		if (pid == 0) {
			usleep(50 * 1000);
			if (i == 40)
				main_kill_all(m);
			continue;
		}
		if (pid < 0)
			break;
		if (pid == m->sec_pid)
			m->sec_pid = 0;
		else if (!main_snmp_child_exited(m, pid, status) &&
		    !main_manage_child_exited(m, pid, status))
			main_child_exited(m, pid, status);
	}
	tun_reap_flush(m);
	/* The last Stop records go out before sec does. No new connection meanwhile. */
	main_listeners_close(m);
	main_acct_flush(m);
	if (m->sec_pid)
		kill(m->sec_pid, SIGTERM);
	filter_stop(m);
	ban_nft_stop(m);
	return 0;
}
