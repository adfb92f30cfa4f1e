/* systemd integration. The notify messages go to a datagram socket that systemd reads
 * promptly; the STATUS line is still sent at most once a second, so that a burst of
 * logins is one message rather than thousands. */
#include "config.h"

#include "main/systemd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>

#include "common/log.h"
#include "main/events.h"
#include "main/main.h"

#define STATUS_INTERVAL 1.0

struct main_systemd {
	ev_timer status_timer;
	unsigned sent; /* session count in the last STATUS line */
	bool stopping;
};

static struct main_systemd *sd_state(struct main_ctx *m)
{
	if (!m->systemd) {
		m->systemd = talloc_zero(m, struct main_systemd);
		if (m->systemd)
			m->systemd->sent = ~0u;
	}
	return m->systemd;
}

static void notify(const char *what)
{
	int ret = sd_notify(0, what);

	if (ret < 0)
		log_warn("sd_notify(%s): %s", what, strerror(-ret));
}

static void send_status(struct main_ctx *m, const char *prefix)
{
	struct main_systemd *s = sd_state(m);
	char line[128];

	snprintf(line, sizeof(line), "%sSTATUS=%u session%s", prefix, m->n_sessions,
		 m->n_sessions == 1 ? "" : "s");
	notify(line);
	if (s)
		s->sent = m->n_sessions;
}

static void on_status_timer(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct main_ctx *m = t->data;

	if (m->systemd->sent != m->n_sessions && !m->systemd->stopping)
		send_status(m, "");
	else
		ev_timer_stop(loop, t);
}

void systemd_on_event(struct main_ctx *m, const struct main_event *ev)
{
	struct main_systemd *s;

	/* Not started by systemd: no timer either. */
	if ((ev->kind != MEV_SESSION_START && ev->kind != MEV_SESSION_END) ||
	    !getenv("NOTIFY_SOCKET"))
		return;
	s = sd_state(m);
	if (!s || s->stopping || ev_is_active(&s->status_timer))
		return; /* the timer sends the count when it fires */
	send_status(m, "");
	ev_timer_init(&s->status_timer, on_status_timer, STATUS_INTERVAL, STATUS_INTERVAL);
	s->status_timer.data = m;
	ev_timer_start(m->loop, &s->status_timer);
}

void systemd_ready(struct main_ctx *m)
{
	send_status(m, "READY=1\n");
}

void systemd_reloading(struct main_ctx *m)
{
	notify("RELOADING=1");
}

void systemd_stopping(struct main_ctx *m)
{
	struct main_systemd *s = sd_state(m);

	if (s) {
		s->stopping = true;
		if (m->loop)
			ev_timer_stop(m->loop, &s->status_timer);
	}
	notify("STOPPING=1");
}

/* A passed socket is used as if main had bound it: non-blocking, not inherited by
 * workers, and (UDP) shareable with the per-client sockets of udp.c. */
static int adopt(int fd, int type)
{
	int one = 1;
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return -errno;
	if (type == SOCK_DGRAM && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		return -errno;
	return fd;
}

int systemd_listen_fds(struct main_ctx *m)
{
	int n = sd_listen_fds(1);
	int tcp = -1, udp = -1, ret;

	if (n <= 0)
		return n;
	for (int fd = SD_LISTEN_FDS_START; fd < SD_LISTEN_FDS_START + n; fd++) {
		if (tcp < 0 && sd_is_socket_inet(fd, 0, SOCK_STREAM, 1, m->cfg->tcp_port) > 0)
			tcp = fd;
		else if (udp < 0 && m->cfg->udp_port &&
			 sd_is_socket_inet(fd, 0, SOCK_DGRAM, -1, m->cfg->udp_port) > 0)
			udp = fd;
		else {
			log_err("socket activation: passed socket %d is neither a listening TCP "
				"socket on port %u nor a UDP socket on udp-port %u",
				fd, m->cfg->tcp_port, m->cfg->udp_port);
			return -EINVAL;
		}
	}
	if (tcp < 0 || (m->cfg->udp_port && udp < 0)) {
		log_err("socket activation: %s socket on port %u was not passed",
			tcp < 0 ? "no TCP" : "no UDP",
			tcp < 0 ? m->cfg->tcp_port : m->cfg->udp_port);
		return -EINVAL;
	}
	if ((ret = adopt(tcp, SOCK_STREAM)) < 0 || (udp >= 0 && (ret = adopt(udp, SOCK_DGRAM)) < 0))
		return ret;
	m->listen_fd[m->n_listen++] = tcp;
	m->udp_fd = udp;
	log_notice("socket activation: TCP port %u%s", m->cfg->tcp_port,
		   udp >= 0 ? " and UDP (DTLS)" : "");
	return n;
}
