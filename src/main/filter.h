/* The packet policy that protects other users, enforced by the kernel on each session's
 * TUN device (design.md: a compromised worker may forward whatever it likes). The worker
 * drops the same packets first, and counts them; this is what holds when it does not.
 *
 * One nftables table per server, "inet sluice_<device>", made at start-up through
 * libnftables (a stale one of a previous run is replaced). Its prerouting chain looks the
 * packet's device up in the map "sessions" and jumps to the chain of that session's
 * policy; a device of the server's with no entry passes nothing. A policy drops, per
 * address family:
 *   - every packet of a family the session has no address of;
 *   - a source that does not route back through the device it came from (strict
 *     reverse-path filtering with the kernel's routes: the session's VPN address, its
 *     IPv6 prefix and its iroutes are routed to its device and nothing else is);
 *   - with restrict-user-to-routes and routes of that family other than "default": a
 *     destination inside a no-route, or outside every route, except DNS (port 53) to its
 *     dns servers;
 *   - with restrict-user-to-ports, what the list does not let through.
 * A policy depends only on the session's configuration and families, so sessions with
 * the same policy share its chain ("p_<n>", deleted with its last session): setting up
 * or ending a session is one element of the map, whose cost does not grow with the
 * number of sessions. */
#ifndef SLUICE_MAIN_FILTER_H
#define SLUICE_MAIN_FILTER_H

struct main_ctx;
struct main_worker;

/* 0, or a negative errno (logged): main does not start without it. */
int filter_start(struct main_ctx *m);
void filter_stop(struct main_ctx *m);
/* w's device exists and its addresses are leased: its entry in the map (and its
 * policy's chain when it is the first with it; w->filter_profile). 0 or a negative errno
 * (logged); the session must not start without it. */
int filter_session_add(struct main_ctx *m, struct main_worker *w);
/* Before w's device goes; nothing when w has no policy installed. */
void filter_session_del(struct main_ctx *m, struct main_worker *w);

#endif
