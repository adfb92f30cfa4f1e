/* Inside main's control socket: a connection as ctl.c (socket, connections, dispatch)
 * and the files that answer its requests (ctl_users.c, ctl_bans.c, ctl_sessions.c)
 * share it. Not for use outside src/main/ctl*.c; the rest of main uses main/ctl.h. */
#ifndef SLUICE_MAIN_CTL_CONN_H
#define SLUICE_MAIN_CTL_CONN_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "ipc/ipc.h"

#define CTL_BATCH    64  /* messages per wakeup, so that a long list shares main */
#define CTL_NAME_MAX 256 /* user names are far shorter; anything longer is an error */
#define CTL_TEXT_MAX 256 /* client-chosen strings are cut to this in replies */
#define CTL_SID_MAX  12  /* hex digits of a session id (sec's SEC_SID_LEN) */

/* Connection states for the route table: one request at a time. */
enum { CONN_IDLE = 1u << 0, CONN_BUSY = 1u << 1 };

struct main_ctx;
struct main_worker;
struct ban_info;
struct sess_item;

struct main_ctl_conn {
	struct main_ctl_conn *next;
	struct main_ctx *m;
	struct ipc_channel ch;
	ev_io rio, wio;
	uint32_t uid;
	uint32_t state;
	bool manage;  /* sluice-manage's connection: CTL_ACTOR names each caller */
	char *actor;  /* its caller for the request under way (CTL_ACTOR); NULL: none */
	bool events;           /* `show events`: CTL_EVENT until the peer closes */
	uint32_t cursor;       /* next worker to list has a lower id (the list is newest first) */
	uint32_t only_id;      /* `show id`: that worker only */
	char *only_user;       /* `show user`: that user's sessions only */
	struct ban_info *bans; /* `show ip bans`/`ban points`: a copy, as the table changes */
	size_t n_bans;
	/* `show sessions`/`show session`: sec answers in batches that wait here until
	 * the socket takes them; the next batch is asked for when this one is out. */
	uint32_t sess_req; /* request id of the batch under way, 0: none */
	char sess_after[CTL_SID_MAX + 1];
	char *sess_prefix;
	bool sess_batch_end, sess_more;
	struct sess_item *queue, **queue_tail;
	uint32_t sent;
	/* The management API's accounts: the sluice-passwd run under way (its request id),
	 * and the users it listed, sent while the socket takes them. */
	uint32_t acct_req;
	struct CtlAccount *accounts;
	size_t n_accounts;
};

struct main_ctl {
	int fd;
	ev_io io;
	char *path;
	bool has_group;
	gid_t group;
	struct main_ctl_conn *conns;
	unsigned n_conns;
	time_t up_since;
	uint64_t total_sessions, auth_failures;
	/* for show status, as occtl names them: how sessions ended, how long they and
	 * logins took, the bytes of ended sessions */
	uint64_t timed_out, idle_timed_out, error_closed, ended;
	uint64_t session_secs, max_session_secs, rx, tx;
	uint64_t logins;
	double auth_secs, max_auth_secs;
	uint32_t last_req; /* request ids for sec */
};

/* ctl.c: replies and the life of a connection. */
void ctl_conn_free(struct main_ctl_conn *c);
/* Logs why (a negative errno) and frees the connection. */
void ctl_conn_failed(struct main_ctl_conn *c, int err);
/* Ends a request with CTL_DONE and makes the connection idle again. */
int ctl_send_done(struct main_ctl_conn *c, int error, const char *message, uint32_t count);
/* A list streamed while the socket takes it: started with the connection busy and its
 * writer on; finished with CTL_DONE (ENOENT when a filtered list found nothing), which
 * also ends the list's filters and its copy of the ban table. */
int ctl_start_list(struct main_ctl_conn *c);
int ctl_finish_list(struct main_ctl_conn *c);
/* Records a state-changing request and who made it (MEV_CTL). */
void ctl_audit(struct main_ctl_conn *c, const char *what, bool ok);

/* ctl_users.c: what counts as a session is a worker with a live tunnel. */
bool ctl_in_tunnel(const struct main_worker *w);

/* The pumps: send what the socket takes of the list under way and finish it when it
 * is out. Return 0, or a negative errno when the connection must go. */
int ctl_pump_users(struct main_ctl_conn *c);
int ctl_pump_bans(struct main_ctl_conn *c);
int ctl_pump_sessions(struct main_ctl_conn *c);
int ctl_pump_accounts(struct main_ctl_conn *c);

/* Request handlers (ctx: the connection), named in ctl.c's route table. */
int ctl_on_show_users(void *ctx, void *msg, int *fds);
int ctl_on_show_accounts(void *ctx, void *msg, int *fds);
int ctl_on_account_change(void *ctx, void *msg, int *fds);
int ctl_on_show_user(void *ctx, void *msg, int *fds);
int ctl_on_show_id(void *ctx, void *msg, int *fds);
int ctl_on_disconnect_user(void *ctx, void *msg, int *fds);
int ctl_on_disconnect_id(void *ctx, void *msg, int *fds);
int ctl_on_show_ip_bans(void *ctx, void *msg, int *fds);
int ctl_on_show_ip_ban_points(void *ctx, void *msg, int *fds);
int ctl_on_unban_ip(void *ctx, void *msg, int *fds);
int ctl_on_show_sessions(void *ctx, void *msg, int *fds);
int ctl_on_show_session(void *ctx, void *msg, int *fds);

#endif
