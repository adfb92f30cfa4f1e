/* Connections that have not authenticated yet (design.md, "Lifecycle"): they cost a
 * worker each, so they have a budget of their own, apart from max-clients.
 *   - max-preauth-clients: at most this many at once. When it is reached, the oldest one
 *     that has had tls-handshake-timeout seconds already makes room for the new one, so
 *     idle or slow connections cannot keep everyone else out; when none is that old, the
 *     new connection is refused.
 *   - max-preauth-per-ip: at most this many from one address (an IPv6 client: from its
 *     prefix of ban-ipv6-prefix bits); more are refused.
 *   - auth-timeout: main ends a worker that has not authenticated by then, whatever the
 *     worker does (it is assumed compromised).
 * The per-address table holds only live connections (at most max-preauth-clients), so
 * however an attacker picks its addresses a lookup walks a bounded chain. */
#ifndef SLUICE_MAIN_PREAUTH_H
#define SLUICE_MAIN_PREAUTH_H

#include <stdbool.h>
#include <sys/socket.h>

struct main_ctx;
struct main_worker;

/* Seconds past auth-timeout before main ends a worker that has not authenticated. */
#define WORKER_AUTH_GRACE 5

/* How a worker is ended (workers.c's main_worker_signal). */
typedef void (*main_preauth_signal_fn)(struct main_worker *w, int sig);

int main_preauth_init(struct main_ctx *m, main_preauth_signal_fn signal);
/* May a new connection from peer get a worker? 0, or -EBUSY (logged, at most once a
 * second per cause). Makes room by ending the oldest connection when it may. */
int main_preauth_admit(struct main_ctx *m, const struct sockaddr_storage *peer);
/* w was just spawned: it counts until main_preauth_done(). */
void main_preauth_add(struct main_worker *w);
/* w is gone; again is harmless. */
void main_preauth_done(struct main_worker *w);
/* sec accepted w's password or cookie: from now on it is a client, no stranger (a crash
 * is not a probe, workers.c), and it leaves the budget. */
void main_preauth_authenticated(struct main_worker *w);
/* How many connections have not authenticated yet. */
unsigned main_preauth_count(const struct main_ctx *m);

#endif
