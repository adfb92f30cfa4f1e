/* main's listeners: binding the TCP and UDP ports (or taking systemd's sockets) and
 * accepting connections. */
#include "config.h"

#include "main/listeners.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "main/ban.h"
#include "main/main.h"
#include "main/systemd.h"

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
	log_notice("listening on %s port %u/tcp", host ? host : "all addresses", m->cfg->tcp_port);
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

int main_listeners_start(struct main_ctx *m)
{
	for (unsigned i = 0; i < m->n_listen; i++) {
		ev_io_init(&m->listen_io[i], on_accept, m->listen_fd[i], EV_READ);
		m->listen_io[i].data = m;
		ev_io_start(m->loop, &m->listen_io[i]);
	}
	return 0;
}

void main_listeners_close(struct main_ctx *m)
{
	for (unsigned i = 0; i < m->n_listen; i++) {
		ev_io_stop(m->loop, &m->listen_io[i]);
		close(m->listen_fd[i]);
	}
	m->n_listen = 0;
}
