/* Connections waiting for their PROXY header (proxy_wait.h). */
#include "config.h"

#include "main/proxy_wait.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <talloc.h>
#include <unistd.h>

#include "common/hash.h"
#include "common/log.h"
#include "common/netaddr.h"
#include "main/main.h"
#include "main/proxy_proto.h"

struct proxy_conn {
	struct proxy_conn *prev, *next; /* oldest first */
	struct main_ctx *m;
	int fd;
	ev_io io;
	ev_timer timer;
	struct sockaddr_storage peer, local; /* the balancer's side of the socket */
	main_proxy_admit_fn admit;
	bool local_cmd; /* a LOCAL header came: admitted once the client speaks */
	size_t have;
	uint8_t buf[PROXY_MAX];
};

struct main_proxy {
	struct proxy_conn *list;
	unsigned n;
	time_t last_log;
	unsigned unlogged;
};

static void conn_free(struct proxy_conn *c)
{
	struct main_proxy *p = c->m->proxy;

	ev_io_stop(c->m->loop, &c->io);
	ev_timer_stop(c->m->loop, &c->timer);
	if (c->fd >= 0)
		close(c->fd);
	DL_DELETE(p->list, c);
	p->n--;
	talloc_free(c);
}

/* At most one line a second: a scanner that reaches the port directly must not fill
 * the log. */
static void refuse(struct proxy_conn *c, const char *why)
{
	struct main_proxy *p = c->m->proxy;
	time_t now = (time_t)ev_now(c->m->loop);
	char ip[INET6_ADDRSTRLEN], who[NETADDR_PORT_STRLEN];
	struct netaddr a;
	unsigned port;

	if (p->last_log == now) {
		p->unlogged++;
	} else {
		netaddr_from_sockaddr(&c->peer, &a, &port);
		netaddr_port_text(netaddr_text(&a, ip, sizeof(ip)), port, who, sizeof(who));
		log_notice("connection from %s closed: %s (listen-proxy-proto is on)%s", who, why,
			   p->unlogged ? "; more like it were not logged" : "");
		p->last_log = now;
		p->unlogged = 0;
	}
	conn_free(c);
}

static void hand_over(struct proxy_conn *c, const struct sockaddr_storage *peer,
		      const struct sockaddr_storage *local)
{
	bool balancer = c->local_cmd;
	struct main_ctx *m = c->m;
	main_proxy_admit_fn fn = c->admit;
	struct sockaddr_storage p = *peer, l = *local;
	int fd = c->fd;

	c->fd = -1;
	conn_free(c);
	fn(m, fd, &p, &l, balancer);
}

static void on_readable(struct ev_loop *loop, ev_io *io, int revents)
{
	struct proxy_conn *c = io->data;
	struct proxy_addrs addrs;
	const char *why;
	size_t end;
	ssize_t n;
	int ret;

	n = recv(c->fd, c->buf + c->have, sizeof(c->buf) - c->have, MSG_PEEK | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* A balancer's health check connects and closes: not worth a line. */
		log_debug("connection closed before its PROXY header was complete");
		conn_free(c);
		return;
	}
	if (c->local_cmd) {
		hand_over(c, &c->peer, &c->local);
		return;
	}
	end = proxy_proto_header_end(c->buf, c->have + (size_t)n);
	if (end > c->have) {
		/* Only the header's own bytes: the client's first TLS bytes stay for the
		 * worker. */
		n = recv(c->fd, c->buf + c->have, end - c->have, MSG_DONTWAIT);
		if (n != (ssize_t)(end - c->have)) {
			refuse(c, "the PROXY header could not be read");
			return;
		}
		c->have = end;
	}
	ret = proxy_proto_parse(c->buf, c->have, &addrs, &why);
	if (ret < 0) {
		refuse(c, why);
		return;
	}
	if (ret == 0) {
		if (c->have >= sizeof(c->buf))
			refuse(c, "PROXY header too long");
		return;
	}
	if (!addrs.local) {
		hand_over(c, &addrs.src, &addrs.dst);
		return;
	}
	/* The balancer's own connection: served under the socket's addresses once it
	 * sends something (a TLS health check), closed quietly when it does not. */
	c->local_cmd = true;
}

static void on_timeout(struct ev_loop *loop, ev_timer *t, int revents)
{
	refuse(t->data, "no complete PROXY header within 5 s");
}

int main_proxy_wait(struct main_ctx *m, int fd, const struct sockaddr_storage *peer,
		    const struct sockaddr_storage *local, main_proxy_admit_fn admit)
{
	struct main_proxy *p = m->proxy;
	struct proxy_conn *c;

	if (!p && !(p = m->proxy = talloc_zero(m, struct main_proxy))) {
		close(fd);
		return -ENOMEM;
	}
	if (p->n >= PROXY_WAIT_MAX)
		refuse(p->list, "too many connections waiting for their PROXY header; the "
				"oldest goes");
	c = talloc_zero(p, struct proxy_conn);
	if (!c) {
		close(fd);
		return -ENOMEM;
	}
	c->m = m;
	c->fd = fd;
	c->peer = *peer;
	c->local = *local;
	c->admit = admit;
	DL_APPEND(p->list, c);
	p->n++;
	ev_io_init(&c->io, on_readable, fd, EV_READ);
	c->io.data = c;
	ev_io_start(m->loop, &c->io);
	ev_timer_init(&c->timer, on_timeout, PROXY_WAIT_SECS, 0.);
	c->timer.data = c;
	ev_timer_start(m->loop, &c->timer);
	return 0;
}

void main_proxy_close_all(struct main_ctx *m)
{
	while (m->proxy && m->proxy->list)
		conn_free(m->proxy->list);
}
