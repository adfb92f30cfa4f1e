/* main's event loop: listeners, accepting connections, the sec channel and signals. */
#include "config.h"

#include "main/main.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "main/ban.h"
#include "main/reload.h"
#include "main/ctl.h"
#include "main/filter.h"
#include "main/audit.h"
#include "main/metrics.h"
#include "main/sec_channel.h"
#include "main/systemd.h"
#include "main/workers.h"

#define ACCEPT_BATCH 16

static void on_accept(struct ev_loop *loop, ev_io *io, int revents)
{
	struct main_ctx *m = io->data;

	for (int i = 0; i < ACCEPT_BATCH; i++) {
		struct sockaddr_storage peer, local;
		socklen_t plen = sizeof(peer), llen = sizeof(local);
		int fd = accept4(io->fd, (struct sockaddr *)&peer, &plen, SOCK_CLOEXEC);
		int one = 1;

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				log_warn("accept: %s", strerror(errno));
			return;
		}
		/* Before any TLS: a banned address costs main one accept and one close. */
		if (main_ban_connection(m, &peer)) {
			close(fd);
			continue;
		}
		getsockname(fd, (struct sockaddr *)&local, &llen);
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		main_spawn_worker(m, fd, &peer, &local);
		close(fd);
	}
}

/* One listening socket of type SOCK_STREAM or SOCK_DGRAM on addr:port. */
static int bind_socket(int family, const void *addr, unsigned port, int type)
{
	struct sockaddr_storage ss = {0};
	socklen_t len;
	int one = 1, zero = 0;
	int fd;

	if (family == AF_INET6) {
		struct sockaddr_in6 *s6 = (void *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		memcpy(&s6->sin6_addr, addr, sizeof(s6->sin6_addr));
		len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (void *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		memcpy(&s4->sin_addr, addr, sizeof(s4->sin_addr));
		len = sizeof(*s4);
	}
	fd = socket(family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* For UDP this also lets the per-client sockets (udp.c) share the port. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* Without listen-host one IPv6 socket serves both families. */
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 1024) < 0)) {
		int err = errno;

		close(fd);
		return -err;
	}
	return fd;
}

/* Binds host (an IP literal, or NULL for all addresses) and port. */
static int bind_host(const char *host, unsigned port, int type)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (!host)
		return bind_socket(AF_INET6, &in6addr_any, port, type);
	if (inet_pton(AF_INET, host, &a4) == 1)
		return bind_socket(AF_INET, &a4, port, type);
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return bind_socket(AF_INET6, &a6, port, type);
	return -EINVAL;
}

int main_listen(struct main_ctx *m)
{
	const char *host = m->cfg->listen_host;
	const char *uhost = m->cfg->udp_listen_host ? m->cfg->udp_listen_host : host;
	int fd = systemd_listen_fds(m);

	if (fd != 0)
		return fd < 0 ? fd : 0;
	fd = bind_host(host, m->cfg->tcp_port, SOCK_STREAM);
	if (fd < 0) {
		log_err("cannot listen on %s port %u/tcp: %s", host ? host : "all addresses",
			m->cfg->tcp_port, strerror(-fd));
		return fd;
	}
	m->listen_fd[m->n_listen++] = fd;
	log_notice("listening on %s port %u/tcp", host ? host : "all addresses",
		   m->cfg->tcp_port);
	m->udp_fd = -1;
	if (!m->cfg->udp_port)
		return 0;
	fd = bind_host(uhost, m->cfg->udp_port, SOCK_DGRAM);
	if (fd < 0) {
		log_err("cannot listen on %s port %u/udp: %s", uhost ? uhost : "all addresses",
			m->cfg->udp_port, strerror(-fd));
		return fd;
	}
	m->udp_fd = fd;
	log_notice("listening on %s port %u/udp (DTLS)", uhost ? uhost : "all addresses",
		   m->cfg->udp_port);
	return 0;
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
	for (unsigned i = 0; i < m->n_listen; i++) {
		ev_io_stop(loop, &m->listen_io[i]);
		close(m->listen_fd[i]);
	}
	m->n_listen = 0;
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
	if (filter_start(m) < 0)
		return -EPERM;
	/* Opened after sec is forked, so that only main holds the file. */
	if (audit_start(m) < 0)
		return -EIO;
	sec_channel_start(m);
	for (unsigned i = 0; i < m->n_listen; i++) {
		ev_io_init(&m->listen_io[i], on_accept, m->listen_fd[i], EV_READ);
		m->listen_io[i].data = m;
		ev_io_start(m->loop, &m->listen_io[i]);
	}
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
	filter_stop(m);
	return 0;
}
