/* A session in main: from the worker's tunnel request to the tunnel being up, and from
 * there to its accounting. Every step is a worker state (main.h), named for what main
 * waits for; one function per transition, in session_setup.c:
 *
 *   state        waits for                     event -> next
 *   AUTH         the worker's tunnel request   MW_TUNNEL_REQ -> MS_COOKIE_CHECK, COOKIE
 *   COOKIE       sec's decision on the cookie  refused -> fail
 *                                              ok, the cookie's older tunnel is up
 *                                                -> end it, PREDECESSOR
 *                                              ok -> grant
 *   PREDECESSOR  the older tunnel to end       its worker freed -> grant
 *                                              (refused there when main ended the
 *                                              session meanwhile)
 *                                              a newer request of the cookie -> fail
 *   (grant)      pool, lease, TUN, iroutes     failure -> fail
 *                                              connect-script started -> SCRIPT
 *                                              no script -> hand over
 *   SCRIPT       the connect script            exit 0 in time -> hand over
 *                                              other -> fail
 *   (hand over)  MW_TUNNEL_OK with the TUN fd, MS_SESSION_UP, the start event -> TUNNEL
 *   TUNNEL       the session to end            MW_SESSION_END -> ENDED; exit -> accounted
 *   ENDED        the worker to exit            exit -> accounted (when it held the TUN)
 *
 * fail: one path (setup_fail) logs why, undoes what the steps took (iroutes, TUN
 * device, sec's reservation of the session), answers MW_TUNNEL_FAIL once, -> ENDED.
 * The lease stays with the session until sec expires it, so a reconnect with the cookie
 * gets the same address. A worker that exits during set-up goes the same way, without
 * the answer. */
#ifndef SLUICE_SESSION_SETUP_H
#define SLUICE_SESSION_SETUP_H

#include <stdbool.h>

struct main_ctx;
struct main_worker;
struct MsCookieResult;
struct MsSessionReplace;

/* Handlers of the worker channel (route table in workers.c); ctx is the worker. */
int session_on_tunnel_req(void *ctx, void *msg, int *fds);
int session_on_stats(void *ctx, void *msg, int *fds);
int session_on_session_end(void *ctx, void *msg, int *fds);

/* sec's decision on the cookie of worker r->worker_id (sec_channel.c). 0, or -EPROTO
 * when sec's answer is malformed. */
int session_on_cookie_result(struct main_ctx *m, const struct MsCookieResult *r);
/* sec gave the place of session r->sid to a newer login of its user (replace-oldest):
 * its tunnel ends, and no tunnel request reopens it. */
void session_on_replace(struct main_ctx *m, const struct MsSessionReplace *r);

/* w exited with status: its session is accounted, or its set-up undone. */
void session_worker_exited(struct main_worker *w, int status);
/* w is being freed: the worker waiting for its tunnel to end may go on. */
void session_worker_freed(struct main_worker *w);
/* Timers of a new worker. */
void session_init(struct main_worker *w);

#endif
