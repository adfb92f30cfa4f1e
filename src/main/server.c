/* main's event loop: the sec channel and signals; listeners.c accepts connections. */
#include "config.h"

#include "main/main.h"
#include "sec/sec.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "main/ban.h"
#include "main/reload.h"
#include "ipc/main_sec.pb-c.h"
#include "main/ctl.h"
#include "main/listeners.h"
#include "main/audit.h"
#include "main/metrics.h"
#include "main/systemd.h"

#define SEC_CHANNEL_MAX_PAYLOAD 4096
#define MAIN_SEC_STATE          1u

static const struct ipc_route main_from_sec[] = {
    {MS_TYPE__MS_COOKIE_RESULT, "MS_COOKIE_RESULT", &ms_cookie_result__descriptor,
     main_on_cookie_result, 0, MAIN_SEC_STATE, 0},
    {MS_TYPE__MS_SESSION_EXPIRED, "MS_SESSION_EXPIRED", &ms_session_expired__descriptor,
     main_on_session_expired, 0, MAIN_SEC_STATE, 0},
    {MS_TYPE__MS_AUTH_EVENT, "MS_AUTH_EVENT", &ms_auth_event__descriptor, main_on_auth_event, 0,
     MAIN_SEC_STATE, 0},
    {MS_TYPE__MS_RELOAD_RESULT, "MS_RELOAD_RESULT", &ms_reload_result__descriptor,
     main_on_reload_result, 0, MAIN_SEC_STATE, 0},
    {MS_TYPE__MS_SESSION_ENTRY, "MS_SESSION_ENTRY", &ms_session_entry__descriptor,
     main_ctl_on_session_entry, 0, MAIN_SEC_STATE, 0},
    {MS_TYPE__MS_SESSION_LIST_END, "MS_SESSION_LIST_END", &ms_session_list_end__descriptor,
     main_ctl_on_session_list_end, 0, MAIN_SEC_STATE, 0},
};

/* A sec that is gone, or stuck past the queue's limit, leaves nobody to log in or
 * sign a handshake; a supervisor restarts us. The audit records already accepted are
 * written first. */
static void sec_lost(struct main_ctx *m, int err)
{
	log_err("cannot reach sec: %s (%zu messages, %zu bytes waiting); exiting", strerror(-err),
		m->sec_q.count, m->sec_q.bytes);
	audit_stop(m);
	exit(1);
}

void main_send_sec(struct main_ctx *m, uint16_t type, const ProtobufCMessage *msg, const int *fds,
		   unsigned nfds)
{
	int ret = ipc_send_queued(m->sec_ch.fd, &m->sec_q, type, msg, fds, nfds);

	if (ret < 0)
		sec_lost(m, ret);
	if (!ipc_queue_empty(&m->sec_q) && !ev_is_active(&m->sec_wio)) {
		log_warn("sec is not keeping up; queueing messages for it");
		ev_io_start(m->loop, &m->sec_wio);
	}
}

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
		int ret = ipc_recv_dispatch(&m->sec_ch, MAIN_SEC_STATE, m);

		if (ret == -EAGAIN)
			return;
		if (ret == IPC_CLOSED || ret < 0) {
			log_err("sec channel: %s; exiting",
				ret == IPC_CLOSED ? "closed" : ipc_last_error());
			ev_break(loop, EVBREAK_ALL);
			return;
		}
	}
}

static void on_sigchld(struct ev_loop *loop, ev_signal *s, int revents)
{
	struct main_ctx *m = s->data;
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid == m->sec_pid) {
			log_err("sec exited (status %#x); exiting", status);
			m->sec_pid = 0;
			ev_break(loop, EVBREAK_ALL);
			continue;
		}
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

int main_run(struct main_ctx *m)
{
	/* Not the default loop: that one reaps children itself, and main must see
	 * every exit status. */
	m->loop = ev_loop_new(EVFLAG_AUTO);
	if (!m->loop || main_ban_init(m) < 0)
		return -ENOMEM;
	/* Opened after sec is forked, so that only main holds the file. */
	if (audit_start(m) < 0)
		return -EIO;
	ipc_channel_init(&m->sec_ch, m->sec_ch.fd, main_from_sec,
			 sizeof(main_from_sec) / sizeof(main_from_sec[0]), SEC_CHANNEL_MAX_PAYLOAD,
			 "sec");
	ev_io_init(&m->sec_io, sec_readable, m->sec_ch.fd, EV_READ);
	m->sec_io.data = m;
	ev_io_start(m->loop, &m->sec_io);
	ev_io_init(&m->sec_wio, sec_writable, m->sec_ch.fd, EV_WRITE);
	m->sec_wio.data = m;
	m->sec_q.limit = SEC_QUEUE_LIMIT;
	if (main_listeners_start(m) < 0)
		return -EIO;
	if (m->udp_fd >= 0) {
		ev_io_init(&m->udp_io, main_udp_readable, m->udp_fd, EV_READ);
		m->udp_io.data = m;
		ev_io_start(m->loop, &m->udp_io);
	}
	main_template_watch(m);
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
	main_fd_budget_check(m);
	log_notice("sluiced ready");
	systemd_ready(m);
	ev_run(m->loop, 0);
	main_ctl_stop(m);
	metrics_stop(m);

	/* Shutting down: tell clients the session is over (so they do not reconnect),
	 * give workers a moment to say so, then end whatever is left. */
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
		if (pid != m->sec_pid)
			main_child_exited(m, pid, status);
		else
			m->sec_pid = 0;
	}
	if (m->sec_pid)
		kill(m->sec_pid, SIGTERM);
	return 0;
}
