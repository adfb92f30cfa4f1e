/* main's side of the channel to sec: the requests main makes (one function each, so that
 * no other file builds a message for sec), the queue that holds them while sec is busy,
 * and the table of sec's replies with their handlers. A sec that is gone, or stuck past
 * the queue's limit, leaves nobody to log in or sign a handshake: main then exits, after
 * writing the audit records it accepted, and a supervisor restarts it. */
#ifndef SLUICE_SEC_CHANNEL_H
#define SLUICE_SEC_CHANNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct main_ctx;
struct main_worker;
struct MsCookieResult;
struct MsReloadResult;
struct MsSessionEntry;
struct MsSessionListEnd;
struct MsAcctFlushed;
struct MsDae;
struct MsSessionReplace;

/* Who takes sec's answers to main's requests; handed over at start-up (server.c), so
 * that this file, which every requester calls, calls none of them by name. */
struct sec_replies {
	int (*cookie_result)(struct main_ctx *m, const struct MsCookieResult *r);
	void (*key_result)(struct main_ctx *m, const struct MsReloadResult *r);
	void (*session_entry)(struct main_ctx *m, const struct MsSessionEntry *e);
	void (*session_list_end)(struct main_ctx *m, const struct MsSessionListEnd *e);
	void (*acct_flushed)(struct main_ctx *m, const struct MsAcctFlushed *f);
	void (*dae)(struct main_ctx *m, const struct MsDae *d);
	/* Not an answer: sec gave the session's place to a newer login (replace-oldest). */
	void (*session_replace)(struct main_ctx *m, const struct MsSessionReplace *r);
};

/* Starts reading sec's replies; the channel's fd is m->sec_ch.fd. */
void sec_channel_start(struct main_ctx *m, const struct sec_replies *replies);

/* MS_WORKER_NEW: w runs; sec takes its end of w's channel (the fd is sec's from the
 * call on, sent or not). 0, or a negative errno: w could not be announced. */
int sec_worker_new(struct main_worker *w, int sec_end);
/* MS_COOKIE_CHECK of w's tunnel request. */
void sec_cookie_check(struct main_worker *w, const uint8_t *cookie, size_t len);
/* MS_SESSION_UP: w's tunnel of session sid is up. */
void sec_session_up(struct main_worker *w);
/* MS_SESSION_DOWN: worker_id no longer uses session sid; with an end reason that
 * invalidates the session (not 0), the cookie dies. */
void sec_session_down(struct main_ctx *m, const char *sid, uint32_t worker_id,
		      unsigned invalidate_reason);
/* MS_RELOAD: sec loads the key of m->cfg under generation m->reload_gen, if it matches
 * the pending certificate's pin (m->pending_pin). */
void sec_reload(struct main_ctx *m);
/* MS_ACCT: one accounting record; MS_ACCT_FLUSH: sluiced stops. */
struct MsAcct;
void sec_acct(struct main_ctx *m, const struct MsAcct *a);
void sec_acct_flush(struct main_ctx *m);
/* MS_DAE_RESULT: a Disconnect or CoA request applied to matched tunnels. */
void sec_dae_result(struct main_ctx *m, uint32_t request_id, uint32_t matched);
/* MS_SESSION_LIST: a batch of sessions for control request request_id. */
void sec_session_list(struct main_ctx *m, uint32_t request_id, const char *prefix,
		      const char *after);

#endif
