/* main's records of sessions between their tunnels (sessions.h). One small record per
 * session sec keeps, found by sid in constant time: a tunnel request, a tunnel's end and
 * sec's expiry each touch one. */
#include "config.h"

#include "main/sessions.h"

#include <string.h>

#include "main/main.h"

struct main_session *main_session_find(struct main_ctx *m, const char *sid)
{
	struct main_session *s = NULL;

	if (sid)
		HASH_FIND(hh, m->sessions, sid, strlen(sid), s);
	return s;
}

struct main_session *main_session_get(struct main_ctx *m, const char *sid)
{
	struct main_session *s = main_session_find(m, sid);

	if (s || !sid)
		return s;
	s = talloc_zero(m, struct main_session);
	if (!s || !(s->sid = talloc_strdup(s, sid))) {
		talloc_free(s);
		return NULL;
	}
	HASH_ADD_KEYPTR(hh, m->sessions, s->sid, strlen(s->sid), s);
	/* uthash leaves the record out when its table cannot grow. */
	if (main_session_find(m, sid) != s) {
		talloc_free(s);
		return NULL;
	}
	return s;
}

void main_session_add_bytes(struct main_ctx *m, const char *sid, uint64_t bytes)
{
	struct main_session *s = main_session_find(m, sid);

	if (s)
		s->bytes = bytes > UINT64_MAX - s->bytes ? UINT64_MAX : s->bytes + bytes;
}

void main_session_end(struct main_ctx *m, const char *sid, unsigned reason)
{
	struct main_session *s = main_session_find(m, sid);

	if (s && !s->ended)
		s->ended = reason;
}

void main_session_forget(struct main_ctx *m, const char *sid)
{
	struct main_session *s = main_session_find(m, sid);

	if (!s)
		return;
	HASH_DELETE(hh, m->sessions, s);
	talloc_free(s);
}
