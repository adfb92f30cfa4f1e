/* What main remembers of a session (one login, one cookie) between its tunnels: the
 * bytes its ended tunnels moved, and whether main has ended it for good. The workers
 * hold a tunnel's state; this holds what must outlive a tunnel, keyed by the sid, from
 * sec's first approval of the session's cookie until sec reports it expired
 * (MS_SESSION_EXPIRED). */
#ifndef SLUICE_MAIN_SESSIONS_H
#define SLUICE_MAIN_SESSIONS_H

#include <stdint.h>

#include "common/hash.h"

struct main_ctx;

struct main_session {
	UT_hash_handle hh; /* main_ctx.sessions, keyed by sid */
	char *sid;
	/* Bytes (in + out, from the TUN device) of its tunnels that ended: what a new
	 * tunnel's session-quota-bytes counts on from. */
	uint64_t bytes;
	/* Why main ended the session for good (session_end_invalidates), from the moment
	 * it decided; 0 while it may go on. A tunnel request that raced the end is refused,
	 * even if sec approved its cookie before it heard of the end. */
	unsigned ended;
};

/* The record of sid; NULL when main has none. */
struct main_session *main_session_find(struct main_ctx *m, const char *sid);
/* The record of sid, made when there is none (NULL: out of memory). */
struct main_session *main_session_get(struct main_ctx *m, const char *sid);
/* A tunnel of sid ended, having moved bytes. */
void main_session_add_bytes(struct main_ctx *m, const char *sid, uint64_t bytes);
/* main ends session sid for good, for reason (an end reason that invalidates). */
void main_session_end(struct main_ctx *m, const char *sid, unsigned reason);
/* sec forgot the session: so does main. */
void main_session_forget(struct main_ctx *m, const char *sid);

#endif
