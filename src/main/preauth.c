/* The budget of connections that have not authenticated yet (preauth.h). */
#include "config.h"

#include "main/preauth.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <talloc.h>

#include "common/hash.h"
#include "common/log.h"
#include "common/netaddr.h"
#include "main/main.h"

struct preauth_addr {
	UT_hash_handle hh;
	struct netaddr key; /* an IPv4 address, or an IPv6 prefix with its host bits clear */
	unsigned n;
};

enum { REFUSED_PER_IP, REFUSED_FULL, EVICTED, N_LOGGED };

struct main_preauth {
	struct main_worker *oldest; /* utlist DL through pa_prev/pa_next, oldest first */
	unsigned n;
	struct preauth_addr *by_addr;
	main_preauth_signal_fn signal;
	time_t last_log[N_LOGGED];
	unsigned unlogged[N_LOGGED];
};

/* uthash's own table is malloc'd: it goes with the budget (the entries are talloc'd
 * under it). */
static int preauth_destroy(struct main_preauth *p)
{
	HASH_CLEAR(hh, p->by_addr);
	return 0;
}

int main_preauth_init(struct main_ctx *m, main_preauth_signal_fn signal)
{
	m->preauth = talloc_zero(m, struct main_preauth);
	if (!m->preauth)
		return -ENOMEM;
	talloc_set_destructor(m->preauth, preauth_destroy);
	m->preauth->signal = signal;
	return 0;
}

/* What a client counts under: its address, or an IPv6 client's prefix, as for bans. */
static void client_key(const struct main_ctx *m, const struct sockaddr_storage *ss,
		       struct netaddr *key)
{
	unsigned port;

	memset(key, 0, sizeof(*key));
	netaddr_from_sockaddr(ss, key, &port);
	if (key->family == AF_INET6)
		netaddr_mask(key, m->cfg->ban_ipv6_prefix);
}

static struct preauth_addr *find(struct main_preauth *p, const struct netaddr *key)
{
	struct preauth_addr *e;

	HASH_FIND(hh, p->by_addr, key, sizeof(*key), e);
	return e;
}

/* One line a second per cause, with the count of those it did not log. */
static void log_limited(struct main_ctx *m, unsigned cause, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void log_limited(struct main_ctx *m, unsigned cause, const char *fmt, ...)
{
	struct main_preauth *p = m->preauth;
	time_t now = (time_t)ev_now(m->loop);
	char line[256];
	va_list ap;

	if (p->last_log[cause] == now) {
		p->unlogged[cause]++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (p->unlogged[cause])
		log_notice("%s (and %u more like it before)", line, p->unlogged[cause]);
	else
		log_notice("%s", line);
	p->last_log[cause] = now;
	p->unlogged[cause] = 0;
}

int main_preauth_admit(struct main_ctx *m, const struct sockaddr_storage *peer)
{
	const struct sluice_config *c = m->cfg;
	struct main_preauth *p = m->preauth;
	struct main_worker *old = p->oldest;
	struct preauth_addr *e;
	struct netaddr key;
	char ip[NETADDR_PREFIX_STRLEN];

	client_key(m, peer, &key);
	e = find(p, &key);
	if (c->max_preauth_per_ip && e && e->n >= c->max_preauth_per_ip) {
		netaddr_text(&key, ip, sizeof(ip));
		log_limited(m, REFUSED_PER_IP,
			    "connection from %s%s refused: max-preauth-per-ip (%u) of its "
			    "connections are still logging in",
			    ip, key.family == AF_INET6 ? " (prefix)" : "", c->max_preauth_per_ip);
		return -EBUSY;
	}
	if (!c->max_preauth_clients || p->n < c->max_preauth_clients)
		return 0;
	if (!old || ev_now(m->loop) - old->spawned < c->tls_handshake_timeout) {
		log_limited(m, REFUSED_FULL,
			    "connection refused: max-preauth-clients (%u) connections are "
			    "logging in, none of them for more than %u s",
			    c->max_preauth_clients, c->tls_handshake_timeout);
		return -EBUSY;
	}
	log_limited(m, EVICTED,
		    "%s: max-preauth-clients (%u) reached; ending the oldest connection still "
		    "logging in (%.0f s) for a new one",
		    old->label, c->max_preauth_clients, ev_now(m->loop) - old->spawned);
	main_preauth_done(old);
	p->signal(old, SIGKILL);
	return 0;
}

static void on_timeout(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct main_worker *w = t->data;

	log_warn("%s: not authenticated %u s after its start (auth-timeout); killing it", w->label,
		 w->m->cfg->auth_timeout + WORKER_AUTH_GRACE);
	main_preauth_done(w);
	w->m->preauth->signal(w, SIGKILL);
}

void main_preauth_add(struct main_worker *w)
{
	struct main_ctx *m = w->m;
	struct main_preauth *p = m->preauth;
	struct preauth_addr *e;
	struct netaddr key;

	if (!p || w->preauth || netaddr_parse(w->client_ip, &key) < 0)
		return;
	if (key.family == AF_INET6)
		netaddr_mask(&key, m->cfg->ban_ipv6_prefix);
	e = find(p, &key);
	if (!e) {
		e = talloc_zero(p, struct preauth_addr);
		if (!e)
			return; /* unlimited then, rather than refused */
		e->key = key;
		HASH_ADD(hh, p->by_addr, key, sizeof(e->key), e);
		if (find(p, &key) != e) {
			talloc_free(e);
			return;
		}
	}
	e->n++;
	w->preauth = true;
	w->preauth_key = key;
	DL_APPEND2(p->oldest, w, pa_prev, pa_next);
	p->n++;
	/* The worker ends itself at auth-timeout; this is for one that does not. */
	ev_timer_init(&w->preauth_timer, on_timeout,
		      (ev_tstamp)m->cfg->auth_timeout + WORKER_AUTH_GRACE, 0.);
	w->preauth_timer.data = w;
	ev_timer_start(m->loop, &w->preauth_timer);
}

void main_preauth_done(struct main_worker *w)
{
	struct main_preauth *p = w->m->preauth;
	struct preauth_addr *e;

	if (!w->preauth)
		return;
	w->preauth = false;
	ev_timer_stop(w->m->loop, &w->preauth_timer);
	DL_DELETE2(p->oldest, w, pa_prev, pa_next);
	p->n--;
	e = find(p, &w->preauth_key);
	if (e && --e->n == 0) {
		HASH_DEL(p->by_addr, e);
		talloc_free(e);
	}
}

void main_preauth_authenticated(struct main_worker *w)
{
	w->authenticated = true;
	main_preauth_done(w);
}

unsigned main_preauth_count(const struct main_ctx *m)
{
	return m->preauth ? m->preauth->n : 0;
}
