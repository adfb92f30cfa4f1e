/* DTLS datagrams on the shared UDP port. main reads only what routing needs: the
 * session id of a ClientHello. For a live session it creates a UDP socket bound to the
 * server's address and port and connected to the client (so the client's later
 * datagrams bypass main) and hands it, with the first datagram, to that session's
 * worker. Everything else is dropped and counted. */
#include "config.h"

#include "main/main.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "common/netaddr.h"
#include "ipc/main_worker.pb-c.h"
#include "main/dtls_hello.h"
#include "main/listeners.h"

#define UDP_DRAIN_MAX 64
#define UDP_DGRAM_MAX 2048
#define HANDOFF_MIN_INTERVAL 1.0  /* seconds between two handoffs to one session */
#define DROP_LOG_INTERVAL 10.0

/* A socket on the server's side of the client's path: the address the client reached
 * over TLS (or udp-listen-host) and the UDP port, connected to the client. */
static int client_socket(struct main_ctx *m, struct main_worker *w,
			 const struct sockaddr_storage *peer, socklen_t plen)
{
	const char *local = m->cfg->udp_listen_host ? m->cfg->udp_listen_host : w->local_ip;
	struct sockaddr_storage ss = {0};
	socklen_t len;
	int one = 1, fd;

	if (peer->ss_family == AF_INET) {
		struct sockaddr_in *s4 = (void *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)m->cfg->udp_port);
		if (inet_pton(AF_INET, local, &s4->sin_addr) != 1)
			return -EAFNOSUPPORT;
		len = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (void *)&ss;
		struct in_addr a4;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)m->cfg->udp_port);
		if (inet_pton(AF_INET, local, &a4) == 1) {
			/* an IPv4 client on the dual-stack socket */
			s6->sin6_addr.s6_addr[10] = s6->sin6_addr.s6_addr[11] = 0xff;
			memcpy(&s6->sin6_addr.s6_addr[12], &a4, 4);
		} else if (inet_pton(AF_INET6, local, &s6->sin6_addr) != 1) {
			return -EAFNOSUPPORT;
		}
		len = sizeof(*s6);
	}
	fd = socket(peer->ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 ||
	    connect(fd, (const struct sockaddr *)peer, plen) < 0) {
		int err = errno;

		close(fd);
		return -err;
	}
	return fd;
}

static void peer_text(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];
	struct netaddr a;
	unsigned port;

	netaddr_from_sockaddr(ss, &a, &port);
	netaddr_port_text(netaddr_text(&a, ip, sizeof(ip)), port, buf, len);
}

static void handoff(struct main_ctx *m, struct main_worker *w, const uint8_t *dgram, size_t len,
		    const struct sockaddr_storage *peer, socklen_t plen)
{
	MwUdp msg = MW_UDP__INIT;
	char who[NETADDR_PORT_STRLEN];
	ev_tstamp now = ev_now(m->loop);
	int fd;

	/* A replayed or repeated ClientHello cannot make main churn sockets. */
	if (now - w->last_udp_handoff < HANDOFF_MIN_INTERVAL)
		return;
	w->last_udp_handoff = now;
	peer_text(peer, who, sizeof(who));
	fd = client_socket(m, w, peer, plen);
	if (fd < 0) {
		log_warn("%s: no UDP socket for %s: %s", w->label, who, strerror(-fd));
		/* The client repeats its ClientHello; by then the reserve is free. */
		main_fd_shortage(m, NULL, fd);
		return;
	}
	msg.hello.data = (uint8_t *)dgram;
	msg.hello.len = len;
	msg.peer = who;
	if (ipc_send(w->ch.fd, MW_TYPE__MW_UDP, &msg.base, &fd, 1) < 0)
		log_warn("%s: cannot pass its UDP socket", w->label);
	close(fd);
}

static void log_drops(struct main_ctx *m)
{
	ev_tstamp now = ev_now(m->loop);

	if (now - m->udp_last_log < DROP_LOG_INTERVAL)
		return;
	m->udp_last_log = now;
	log_info("UDP: dropped %llu datagrams that were no DTLS ClientHello and %llu "
		 "ClientHellos of no live session so far",
		 (unsigned long long)m->udp_garbage, (unsigned long long)m->udp_unmatched);
}

void main_udp_readable(struct ev_loop *loop, ev_io *io, int revents)
{
	struct main_ctx *m = io->data;
	uint8_t buf[UDP_DGRAM_MAX];

	for (int i = 0; i < UDP_DRAIN_MAX; i++) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);
		ssize_t n =
		    recvfrom(io->fd, buf, sizeof(buf), MSG_TRUNC, (struct sockaddr *)&peer, &plen);
		const uint8_t *id;
		size_t id_len;
		struct main_worker *w;

		if (n < 0)
			return;
		if ((size_t)n > sizeof(buf) ||
		    dtls_hello_session_id(buf, (size_t)n, &id, &id_len) < 0) {
			m->udp_garbage++;
			log_drops(m);
			continue;
		}
		w = main_find_by_dtls_id(m, id, id_len);
		if (!w) {
			m->udp_unmatched++;
			log_drops(m);
			continue;
		}
		handoff(m, w, buf, (size_t)n, &peer, plen);
	}
}
