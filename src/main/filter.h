/* The packet policy that protects other users, enforced by the kernel on each session's
 * TUN device (design.md: a compromised worker may forward whatever it likes). The worker
 * drops the same packets first, and counts them; this is what holds when it does not.
 *
 * One nftables table per server, "inet sluice_<device>", made at start-up through
 * libnftables (a stale one of a previous run is replaced). Its prerouting chain sends
 * each session's packets, matched by the TUN device's index (a rule never outlives its
 * device's index, so it cannot match a later device of the same name), to the session's
 * own chain, which drops, per address family:
 *   - every packet of a family the session has no address of;
 *   - a source that is neither the session's VPN address (IPv6: inside its prefix) nor
 *     inside one of its iroutes;
 *   - with restrict-user-to-routes and routes of that family other than "default": a
 *     destination inside a no-route, or outside every route, except DNS (port 53) to its
 *     dns servers. */
#ifndef SLUICE_MAIN_FILTER_H
#define SLUICE_MAIN_FILTER_H

struct main_ctx;
struct main_worker;

/* 0, or a negative errno (logged): main does not start without it. */
int filter_start(struct main_ctx *m);
void filter_stop(struct main_ctx *m);
/* w's device exists and its addresses are leased: its chain and sets (w->filtered says
 * which). 0 or a negative errno (logged); the session must not start without them. */
int filter_session_add(struct main_ctx *m, struct main_worker *w);
/* Before w's device goes; nothing when w has no policy installed. */
void filter_session_del(struct main_ctx *m, struct main_worker *w);

#endif
