/* main's listeners: binding the TCP and UDP ports (or taking systemd's sockets),
 * accepting connections, and pausing while file descriptors run out. */
#include "config.h"

#include "main/listeners.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "main/ban.h"
#include "main/main.h"
#include "main/preauth.h"
#include "main/proxy_wait.h"
#include "main/systemd.h"
#include "main/workers.h"

#define ACCEPT_BATCH 16
/* Descriptors kept from new connections for what must go on while main accepts none:
 * the control socket, the TUN devices and DTLS sockets of clients already logging in,
 * scripts, the metrics page. */
#define FD_RESERVE 16
/* Free descriptors beyond the reserve before accepting resumes, so that it resumes
 * for a few clients (a new worker needs five for a moment), not for one. */
#define FD_HEADROOM 16
#define RETRY_MIN   0.1 /* seconds */
#define RETRY_MAX   1.0
/* Accepting this long without running short ends an episode: one pair of log lines
 * however often the descriptors run out and come back within it. */
#define CALM        2.0
#define MAX_WAITING 4

struct main_listeners {
	int reserve[FD_RESERVE]; /* eventfds that only hold a slot; -1: let go */
	/* Paused: when to try again. Accepting within an episode: when it is over. */
	ev_timer timer;
	ev_timer rate; /* rate-limit-ms: until the next accept */
	ev_tstamp interval;
	bool paused;  /* the TCP listeners are not watched */
	bool episode; /* from running short until CALM seconds of accepting */
	ev_tstamp episode_start;
	ev_io *waiting[MAX_WAITING]; /* other accepting watchers, paused until the retry */
	unsigned n_waiting;
	uint64_t episodes;
};

static bool is_shortage(int err)
{
	return err == -EMFILE || err == -ENFILE || err == -ENOBUFS || err == -ENOMEM;
}

static unsigned long long fd_limit(void)
{
	struct rlimit rl;

	return getrlimit(RLIMIT_NOFILE, &rl) == 0 ? (unsigned long long)rl.rlim_cur : 0;
}

/* -1 when even the directory cannot be opened. */
static long open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	long n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1; /* the directory's own */
}

/* "N open, limit L"; plus: descriptors closed a moment ago that count as open. */
static void fds_text(char *buf, size_t len, unsigned plus)
{
	long n = open_fds();

	if (n < 0)
		snprintf(buf, len, "? open, limit %llu", fd_limit());
	else
		snprintf(buf, len, "%ld open, limit %llu", n + plus, fd_limit());
}

static unsigned reserve_release(struct main_listeners *l)
{
	unsigned n = 0;

	for (unsigned i = 0; i < FD_RESERVE; i++) {
		if (l->reserve[i] >= 0) {
			close(l->reserve[i]);
			l->reserve[i] = -1;
			n++;
		}
	}
	return n;
}

/* Takes the reserve back, and proves FD_HEADROOM more are free. 0 or -errno. */
static int reserve_take(struct main_listeners *l)
{
	int probe[FD_HEADROOM];
	unsigned n = 0;
	int ret = 0;

	for (unsigned i = 0; i < FD_RESERVE && ret == 0; i++) {
		if (l->reserve[i] < 0 && (l->reserve[i] = eventfd(0, EFD_CLOEXEC)) < 0)
			ret = -errno;
	}
	for (; n < FD_HEADROOM && ret == 0; n++) {
		if ((probe[n] = eventfd(0, EFD_CLOEXEC)) < 0)
			ret = -errno;
	}
	while (n--)
		if (probe[n] >= 0)
			close(probe[n]);
	return ret;
}

/* The TCP listeners are watched unless descriptors ran short or rate-limit-ms holds
 * the next accept back. */
static void watch_listeners(struct main_ctx *m)
{
	struct main_listeners *l = m->listeners;

	if (l->paused || ev_is_active(&l->rate))
		return;
	for (unsigned i = 0; i < m->n_listen; i++)
		ev_io_start(m->loop, &m->listen_io[i]);
}

static void on_timer(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct main_ctx *m = t->data;
	struct main_listeners *l = m->listeners;
	char fds[64];

	if (!l->paused) {
		l->episode = false;
		/* Closed for server-drain-ms meanwhile: there is nothing to announce. */
		if (!m->n_listen)
			return;
		fds_text(fds, sizeof(fds), 0);
		log_notice("accepting connections again (%s) after %.1f s", fds,
			   ev_now(loop) - l->episode_start - CALM);
		return;
	}
	while (l->n_waiting)
		ev_io_start(loop, l->waiting[--l->n_waiting]);
	if (reserve_take(l) < 0) {
		reserve_release(l);
		l->interval = l->interval * 2 < RETRY_MAX ? l->interval * 2 : RETRY_MAX;
		ev_timer_set(t, l->interval, 0.);
		ev_timer_start(loop, t);
		return;
	}
	l->paused = false;
	watch_listeners(m);
	ev_timer_set(t, CALM, 0.);
	ev_timer_start(loop, t);
}

bool main_fd_shortage(struct main_ctx *m, ev_io *io, int err)
{
	struct main_listeners *l = m->listeners;
	unsigned freed;
	char fds[64];

	if (!is_shortage(err))
		return false;
	if (!l)
		return true;
	freed = reserve_release(l);
	if (!l->paused) {
		l->paused = true;
		for (unsigned i = 0; i < m->n_listen; i++)
			ev_io_stop(m->loop, &m->listen_io[i]);
		if (!l->episode) {
			/* Counted once the reserve is gone: opendir() needs a descriptor. */
			fds_text(fds, sizeof(fds), freed);
			log_warn("%s (%s): not accepting connections for a while",
				 err == -EMFILE   ? "out of file descriptors"
				 : err == -ENFILE ? "the system is out of file descriptors"
						  : "out of memory",
				 fds);
			l->episode = true;
			l->episode_start = ev_now(m->loop);
			l->episodes++;
			l->interval = RETRY_MIN;
		}
		ev_timer_stop(m->loop, &l->timer);
		ev_timer_set(&l->timer, l->interval, 0.);
		ev_timer_start(m->loop, &l->timer);
	}
	/* With nothing left to let go, that watcher's next accept() fails as well. */
	if (io && !freed && l->n_waiting < MAX_WAITING) {
		ev_io_stop(m->loop, io);
		l->waiting[l->n_waiting++] = io;
	}
	return true;
}

static void on_rate(struct ev_loop *loop, ev_timer *t, int revents)
{
	watch_listeners(t->data);
}

bool main_admit_connection(struct main_ctx *m, int fd, const struct sockaddr_storage *peer,
			   const struct sockaddr_storage *local, bool balancer)
{
	int one = 1, ret;

	/* Before any TLS: a banned address costs main one accept and one close, and so
	 * does one past its share of connections still logging in. The balancer's own
	 * connections never score: a ban of its address would shut every client out. */
	if ((!balancer && main_ban_connection(m, peer)) || main_preauth_admit(m, peer) < 0) {
		close(fd);
		return true;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	ret = main_spawn_worker(m, fd, peer, local);
	if (main_fd_shortage(m, NULL, ret)) {
		/* The reserve just let go takes this client; the next ones wait in the
		 * backlog. */
		if ((ret == -EMFILE || ret == -ENFILE) &&
		    (ret = main_spawn_worker(m, fd, peer, local)) < 0)
			log_warn("no worker for a connection: %s", strerror(-ret));
		close(fd);
		return false;
	}
	if (ret < 0)
		log_warn("no worker for a connection: %s", strerror(-ret));
	close(fd);
	return true;
}

static void on_accept(struct ev_loop *loop, ev_io *io, int revents)
{
	struct main_ctx *m = io->data;
	struct main_listeners *l = m->listeners;
	unsigned batch = m->cfg->rate_limit_ms ? 1 : ACCEPT_BATCH;

	for (unsigned i = 0; i < batch; i++) {
		struct sockaddr_storage peer, local;
		socklen_t plen = sizeof(peer), llen = sizeof(local);
		int fd = accept4(io->fd, (struct sockaddr *)&peer, &plen, SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED &&
			    !main_fd_shortage(m, NULL, -errno))
				log_warn("accept: %s", strerror(errno));
			return;
		}
		if (m->cfg->rate_limit_ms) {
			for (unsigned j = 0; j < m->n_listen; j++)
				ev_io_stop(loop, &m->listen_io[j]);
			ev_timer_set(&l->rate, m->cfg->rate_limit_ms / 1000., 0.);
			ev_timer_start(loop, &l->rate);
		}
		getsockname(fd, (struct sockaddr *)&local, &llen);
		/* The balancer's address is not the client's: bans and limits wait for the
		 * header. */
		if (m->cfg->listen_proxy_proto) {
			main_proxy_wait(m, fd, &peer, &local, main_admit_connection);
			continue;
		}
		if (!main_admit_connection(m, fd, &peer, &local, false))
			return;
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
	struct main_listeners *l = talloc_zero(m, struct main_listeners);
	int ret;

	if (!l)
		return -ENOMEM;
	for (unsigned i = 0; i < FD_RESERVE; i++)
		l->reserve[i] = -1;
	ev_init(&l->timer, on_timer);
	l->timer.data = m;
	ev_init(&l->rate, on_rate);
	l->rate.data = m;
	m->listeners = l;
	ret = reserve_take(l);
	if (ret < 0) {
		log_err("cannot set %u file descriptors aside: %s", FD_RESERVE, strerror(-ret));
		return ret;
	}
	for (unsigned i = 0; i < m->n_listen; i++) {
		ev_io_init(&m->listen_io[i], on_accept, m->listen_fd[i], EV_READ);
		m->listen_io[i].data = m;
		ev_io_start(m->loop, &m->listen_io[i]);
	}
	return 0;
}

void main_listeners_close(struct main_ctx *m)
{
	main_proxy_close_all(m);
	for (unsigned i = 0; i < m->n_listen; i++) {
		ev_io_stop(m->loop, &m->listen_io[i]);
		close(m->listen_fd[i]);
	}
	m->n_listen = 0;
}

void main_fd_budget_check(struct main_ctx *m)
{
	unsigned long long limit = fd_limit(), per = MAIN_FDS_PER_CLIENT, base, fit;
	long now = open_fds(), held = 0;
	/* The sessions and the connections still logging in. */
	unsigned sessions = m->cfg->max_clients, preauth = m->cfg->max_preauth_clients;
	unsigned long long max = sessions && preauth ? (unsigned long long)sessions + preauth : 0;

	if (now < 0 || !limit)
		return;
	/* On a reload, the clients there are count below with the others. */
	for (const struct main_worker *w = m->workers; w; w = w->next)
		held += 1 + (w->tun_fd >= 0) + (w->sec_end >= 0);
	/* What is open now includes the reserve. */
	base = (unsigned long long)(now > held ? now - held : 0) + FD_HEADROOM;
	fit = limit > base ? (limit - base) / per : 0;
	if (!max) {
		log_info("file descriptors: %ld open, limit %llu; with max-clients or "
			 "max-preauth-clients = 0 (no limit) main runs out at about %llu clients",
			 now, limit, fit);
	} else if (max <= fit) {
		log_info("file descriptors: %ld open, limit %llu, enough for max-clients = %u and "
			 "max-preauth-clients = %u",
			 now, limit, sessions, preauth);
	} else {
		log_warn("max-clients = %u and max-preauth-clients = %u need about %llu file "
			 "descriptors (%llu per client, %ld open now), more than the limit of "
			 "%llu: past about %llu clients main stops accepting connections until "
			 "some end; raise the limit (LimitNOFILE=, ulimit -n) or lower them",
			 sessions, preauth, base + max * per, per, now, limit, fit);
	}
}

uint64_t main_fd_shortages(const struct main_ctx *m)
{
	return m->listeners ? m->listeners->episodes : 0;
}
