/* IP ban scoring (ocserv's max-ban-score and ban-* keys): main adds points per
 * connection at accept, per failed login (from MEV_AUTH events) and per worker that
 * crashed before authentication (MEV_WORKER_EXIT, sluice's own key); an address whose
 * score reaches max-ban-score is refused at accept, before any TLS, for ban-time
 * seconds. A score drains at max-ban-score points per ban-reset-time, and is forgotten
 * after ban-reset-time without new points (ocserv forgets it then, all at once); it is
 * compared with max-ban-score in whole points, rounded up, as it is shown. A ban lasts
 * its ban-time whatever its score does meanwhile.
 * An IPv6 client scores for its prefix of ban-ipv6-prefix bits (default /64),
 * an IPv4 client (also one on the dual-stack listener, ::ffff:a.b.c.d) for its address.
 * Unlike ocserv, no address is exempt (not even loopback or local subnets): an operator
 * who wants none banned sets max-ban-score = 0. */
#ifndef SLUICE_BAN_H
#define SLUICE_BAN_H

#include <netinet/in.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <time.h>

#include "common/netaddr.h"

struct main_ctx;
struct main_event;

/* One entry as the control tool lists it. */
struct ban_info {
	char ip[NETADDR_PREFIX_STRLEN]; /* an address, or an IPv6 prefix "fd00:18:0:1::/64" */
	unsigned score;      /* as it has drained by now, in whole points (rounded up) */
	time_t last;         /* when it last scored */
	time_t banned_since; /* 0: not banned */
	time_t banned_until;
};

int main_ban_init(struct main_ctx *m);
/* A connection was accepted from peer: adds ban-points-connection; true when the
 * address is banned and the connection must be closed. */
bool main_ban_connection(struct main_ctx *m, const struct sockaddr_storage *peer);
/* events.c sink: failed logins score ban-points-wrong-password, a worker's crash
 * before authentication ban-points-worker-crash. */
void main_ban_on_event(struct main_ctx *m, const struct main_event *ev);
/* For the control tool: every scored address (banned_only: only the banned ones). */
void main_ban_list(struct main_ctx *m, bool banned_only,
		   void (*cb)(void *arg, const struct ban_info *b), void *arg);
/* Forgets the score and ban of an entry, named by an address (of an IPv6 client: any
 * address in the prefix) or by the entry's own prefix ("fd00:18:0:1::/64"): 0, -EINVAL
 * (neither), -ENOENT (not listed). */
int main_ban_unban(struct main_ctx *m, const char *text);

#endif
