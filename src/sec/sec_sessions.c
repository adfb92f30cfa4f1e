/* Sessions and their cookies. A session is born when a password is accepted and lives
 * while it has a tunnel and for cookie-timeout after that, so that a client that lost
 * its connection can come back with the same cookie (and main gives it the same
 * address). Only a hash of the cookie is kept.
 *
 * With 10,000 sessions, every cookie check, login and message from main finds what it
 * needs in hash tables (by cookie hash, by sid, and the count of each user's sessions in
 * use), never by walking all sessions; only listings walk them. */
#include "config.h"

#include "sec/sec.h"

#include <errno.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <string.h>

#include "common/log.h"
#include "common/session.h"
#include "ipc/main_sec.pb-c.h"
#include "ipc/sec_worker.pb-c.h"

static void hex_encode(const uint8_t *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

/* Whether s takes one of its user's places (max-same-clients): a tunnel uses it, or is
 * being set up for it, and it was not replaced. */
static bool session_counts(const struct sec_session *s)
{
	return s->in_use_by && !s->replaced;
}

/* Adds s to its user's count and list of sessions in use, or takes it out. 0, or -ENOMEM
 * when the user could not be counted (nothing changed then); taking out never fails. */
static int user_count(struct sec_session *s, bool counts)
{
	struct sec_ctx *sec = s->sec;
	struct sec_user_count *u, *found;

	HASH_FIND_STR(sec->users_in_use, s->username, u);
	if (counts && !u) {
		u = talloc_zero(sec, struct sec_user_count);
		if (!u || !(u->username = talloc_strdup(u, s->username))) {
			talloc_free(u);
			return -ENOMEM;
		}
		HASH_ADD_KEYPTR(hh, sec->users_in_use, u->username, strlen(u->username), u);
		HASH_FIND_STR(sec->users_in_use, s->username, found);
		if (found != u) {
			talloc_free(u);
			return -ENOMEM;
		}
	}
	if (!u)
		return 0;
	if (counts) {
		u->in_use++;
		DL_APPEND2(u->sessions, s, use_prev, use_next);
		return 0;
	}
	DL_DELETE2(u->sessions, s, use_prev, use_next);
	if (--u->in_use == 0) {
		/* Only users with sessions in use are kept. */
		HASH_DELETE(hh, sec->users_in_use, u);
		talloc_free(u);
	}
	return 0;
}

/* The only writer of in_use_by (as session_replace() is of replaced), so that each
 * user's count of sessions in use stays exact. 0, or -ENOMEM when the user could not be
 * counted (s is then unchanged). */
static int session_set_in_use(struct sec_session *s, uint32_t worker_id)
{
	bool counts = worker_id && !s->replaced;

	/* A newer tunnel of the session: counted already. */
	if (counts != session_counts(s) && user_count(s, counts) < 0)
		return -ENOMEM;
	s->in_use_by = worker_id;
	return 0;
}

/* replace-oldest: s no longer counts, its cookie is refused from now on, and main ends
 * its tunnel; its end (MS_SESSION_DOWN) expires it. */
static void session_replace(struct sec_session *s)
{
	MsSessionReplace m = MS_SESSION_REPLACE__INIT;

	if (session_counts(s))
		user_count(s, false);
	s->replaced = true;
	log_info("session %s of %s replaced by a newer login", s->sid, s->username);
	m.sid = s->sid;
	sec_send_main(s->sec, MS_TYPE__MS_SESSION_REPLACE, &m.base);
}

static void session_free(struct sec_session *s)
{
	struct sec_ctx *sec = s->sec;

	session_set_in_use(s, 0);
	HASH_DELETE(hh_sid, sec->sessions_by_sid, s);
	HASH_DELETE(hh_cookie, sec->sessions_by_cookie, s);
	ev_timer_stop(sec->loop, &s->expiry);
	talloc_free(s);
}

/* The session is over for good: main releases its address. */
static void session_expire(struct sec_session *s, const char *why)
{
	MsSessionExpired m = MS_SESSION_EXPIRED__INIT;

	log_info("session %s of %s expired (%s)", s->sid, s->username, why);
	m.sid = s->sid;
	sec_send_main(s->sec, MS_TYPE__MS_SESSION_EXPIRED, &m.base);
	session_free(s);
}

static bool session_timed_out(const struct sec_session *s)
{
	return s->deadline && time(NULL) >= s->deadline;
}

static void session_timer(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct sec_session *s = t->data;

	session_expire(s, session_timed_out(s) ? "session timeout" : "cookie timeout");
}

/* An unused session lives for cookie-timeout, and never past its session-timeout. */
static void session_arm(struct sec_session *s)
{
	ev_tstamp after = (ev_tstamp)s->sec->cfg->cookie_timeout;

	if (s->deadline && (ev_tstamp)(s->deadline - time(NULL)) < after)
		after = s->deadline > time(NULL) ? (ev_tstamp)(s->deadline - time(NULL)) : 0.;
	ev_timer_stop(s->sec->loop, &s->expiry);
	ev_timer_set(&s->expiry, after, 0.);
	ev_timer_start(s->sec->loop, &s->expiry);
}

static struct sec_session *find_by_sid(struct sec_ctx *sec, const char *sid)
{
	struct sec_session *s;

	HASH_FIND(hh_sid, sec->sessions_by_sid, sid, strlen(sid), s);
	return s;
}

/* A new random cookie for s, whose sid (a prefix of the cookie's hash) no other session
 * has: the sid names one session in sec, main and the leases. */
static int session_cookie(struct sec_session *s, char cookie_hex[2 * SEC_COOKIE_LEN + 1])
{
	uint8_t cookie[SEC_COOKIE_LEN];
	char hash_hex[65];

	/* 48 bits of sid: a second collision in a row is as good as impossible. */
	for (int tries = 0; tries < 4; tries++) {
		if (gnutls_rnd(GNUTLS_RND_KEY, cookie, sizeof(cookie)) < 0)
			return -EIO;
		hex_encode(cookie, sizeof(cookie), cookie_hex);
		explicit_bzero(cookie, sizeof(cookie));
		gnutls_hash_fast(GNUTLS_DIG_SHA256, cookie_hex, 2 * SEC_COOKIE_LEN, s->cookie_hash);
		hex_encode(s->cookie_hash, sizeof(s->cookie_hash), hash_hex);
		memcpy(s->sid, hash_hex, SEC_SID_LEN);
		s->sid[SEC_SID_LEN] = '\0';
		if (!find_by_sid(s->sec, s->sid))
			return 0;
	}
	return -EEXIST;
}

/* Puts s in both tables, or in neither (-ENOMEM). */
static int session_index(struct sec_session *s)
{
	struct sec_ctx *sec = s->sec;
	struct sec_session *found;

	HASH_ADD_KEYPTR(hh_sid, sec->sessions_by_sid, s->sid, strlen(s->sid), s);
	if (find_by_sid(sec, s->sid) != s)
		return -ENOMEM;
	HASH_ADD_KEYPTR(hh_cookie, sec->sessions_by_cookie, s->cookie_hash, sizeof(s->cookie_hash),
			s);
	HASH_FIND(hh_cookie, sec->sessions_by_cookie, s->cookie_hash, sizeof(s->cookie_hash),
		  found);
	if (found != s) {
		HASH_DELETE(hh_sid, sec->sessions_by_sid, s);
		return -ENOMEM;
	}
	return 0;
}

struct sec_session *sec_session_new(struct sec_ctx *sec, const char *user, const char *group,
				    const char *ip, struct sec_user_conf *conf,
				    char cookie_hex[2 * SEC_COOKIE_LEN + 1])
{
	struct sec_session *s = talloc_zero(sec, struct sec_session);

	if (!s)
		return NULL;
	s->sec = sec;
	s->username = talloc_strdup(s, user);
	s->groupname = talloc_strdup(s, group);
	s->auth_ip = talloc_strdup(s, ip);
	if (!s->username || !s->groupname || !s->auth_ip || session_cookie(s, cookie_hex) < 0 ||
	    session_index(s) < 0) {
		explicit_bzero(cookie_hex, 2 * SEC_COOKIE_LEN);
		talloc_free(s);
		return NULL;
	}
	s->created = time(NULL);
	s->login_seq = ++sec->login_seq;
	s->conf = *conf;
	talloc_steal(s, conf->text);
	/* Fixed at the login: neither a reconnect nor a reload moves it. */
	if (sec_session_timeout(sec, conf))
		s->deadline = s->created + (time_t)sec_session_timeout(sec, conf);
	ev_init(&s->expiry, session_timer);
	s->expiry.data = s;
	/* A cookie nobody uses dies after cookie-timeout like a disconnected one. */
	session_arm(s);
	return s;
}

unsigned sec_sessions_in_use(struct sec_ctx *sec, const char *user,
			     const struct sec_session *except)
{
	struct sec_user_count *u;
	unsigned n;

	HASH_FIND_STR(sec->users_in_use, user, u);
	n = u ? u->in_use : 0;
	if (n && except && session_counts(except) && strcmp(except->username, user) == 0)
		n--;
	return n;
}

/* The session of user that logged in first among those that count, if it logged in
 * before newer (NULL: any). */
static struct sec_session *oldest_in_use(struct sec_ctx *sec, const char *user,
					 const struct sec_session *newer)
{
	struct sec_user_count *u;
	struct sec_session *s, *oldest = NULL;

	HASH_FIND_STR(sec->users_in_use, user, u);
	if (!u)
		return NULL;
	/* At most about max-same-clients of them. */
	DL_FOREACH2(u->sessions, s, use_next)
		if ((!newer || s->login_seq < newer->login_seq) &&
		    (!oldest || s->login_seq < oldest->login_seq))
			oldest = s;
	return oldest;
}

bool sec_sessions_make_room(struct sec_ctx *sec, const char *user, unsigned max,
			    const struct sec_session *newer)
{
	unsigned in_use = sec_sessions_in_use(sec, user, newer);
	unsigned older = 0;
	struct sec_user_count *u;
	struct sec_session *s;

	if (!max || in_use < max)
		return true;
	/* All or nothing: a login that cannot have a place takes none. */
	HASH_FIND_STR(sec->users_in_use, user, u);
	DL_FOREACH2(u->sessions, s, use_next)
		older += s != newer && (!newer || s->login_seq < newer->login_seq);
	if (in_use - older >= max)
		return false;
	while (sec_sessions_in_use(sec, user, newer) >= max)
		session_replace(oldest_in_use(sec, user, newer));
	return true;
}

/* The table is keyed by SHA-256 of the cookie: what a lookup's timing could tell about
 * the stored keys is about hashes, which do not give a cookie away. */
static struct sec_session *find_by_cookie(struct sec_ctx *sec, const uint8_t *cookie, size_t len)
{
	struct sec_session *s;
	uint8_t hash[32];

	if (len != 2 * SEC_COOKIE_LEN)
		return NULL;
	gnutls_hash_fast(GNUTLS_DIG_SHA256, cookie, len, hash);
	HASH_FIND(hh_cookie, sec->sessions_by_cookie, hash, sizeof(hash), s);
	return s;
}

/* A session logged in with a certificate is bound to it: the connection that brings its
 * cookie (openconnect opens a new one for the CONNECT) must present the same one, unless
 * cisco-client-compat says the cookie alone will do, as old Cisco clients need. */
static struct sec_worker *worker_by_id(struct sec_ctx *sec, uint32_t id)
{
	struct sec_worker *w;

	DL_FOREACH(sec->workers, w)
		if (w->id == id)
			return w;
	return NULL;
}

static bool cert_presented(struct sec_ctx *sec, const struct sec_session *s, uint32_t worker_id)
{
	struct sec_worker *w = worker_by_id(sec, worker_id);

	/* Its handshake's message may still wait in its channel: main's request overtook it. */
	if (w && (w->state & SECW_HANDSHAKE)) {
		sec_worker_poll(w);
		w = worker_by_id(sec, worker_id);
	}
	return w && w->has_cert && w->cert.ok &&
	       memcmp(w->cert.sha256, s->cert_sha256, sizeof(s->cert_sha256)) == 0;
}

/* Whether a tunnel of s, a session not in use, may be set up under max-same-clients:
 * with replace-oldest, sessions of its user that logged in before it make room, so that
 * the newest login wins also when two logins raced for the last place. */
static bool room_for(struct sec_ctx *sec, const struct sec_session *s)
{
	unsigned max = sec_max_same_clients(sec, &s->conf);

	if (!max || sec_sessions_in_use(sec, s->username, s) < max)
		return true;
	return sec_same_clients_policy(sec, &s->conf) == CONFIG_SAME_REPLACE_OLDEST &&
	       sec_sessions_make_room(sec, s->username, max, s);
}

/* Why the cookie of s (NULL: none matched) brought by that worker for that client address
 * does not stand for a live session; NULL when it does. */
static const char *cookie_refusal(struct sec_ctx *sec, const struct sec_session *s,
				  const char *client_ip, uint32_t worker_id)
{
	if (!s)
		return "unknown or expired cookie";
	if (s->replaced)
		return "replaced by a newer login"; /* its tunnel's end expires it */
	if (session_timed_out(s))
		return "session timeout";
	if (sec_deny_roaming(sec, &s->conf) && strcmp(s->auth_ip, client_ip) != 0)
		return "cookie used from another address (deny-roaming)";
	if (s->has_cert && !sec->cfg->cisco_client_compat && !cert_presented(sec, s, worker_id))
		return "the session's client certificate was not presented";
	return NULL;
}

int sec_on_cookie_check(void *ctx, void *msg, int *fds)
{
	struct sec_ctx *sec = ctx;
	MsCookieCheck *req = msg;
	MsCookieResult res = MS_COOKIE_RESULT__INIT;
	struct sec_session *s = find_by_cookie(sec, req->cookie.data, req->cookie.len);
	const char *refused = cookie_refusal(sec, s, req->client_ip, req->worker_id);

	res.worker_id = req->worker_id;
	res.has_http_code = true;
	if (refused) {
		res.http_code = 401;
		res.reason = (char *)refused;
		/* A tunnel that still uses it ends it through main (MS_SESSION_DOWN). */
		if (s && !s->replaced && session_timed_out(s) && !s->in_use_by)
			session_expire(s, "session timeout");
	} else if (!s->in_use_by && !room_for(sec, s)) {
		/* The last check: a request that could still be refused must not have ended
		 * another session (replace-oldest). */
		res.http_code = 503;
		res.reason = "too many sessions for this user";
	} else if (session_set_in_use(s, req->worker_id) < 0) {
		res.http_code = 503;
		res.reason = "sec is out of memory";
	} else {
		/* Reserved for this worker from now on (just above), so the cookie cannot
		 * expire while main sets up the tunnel; a newer tunnel of the same session
		 * takes it over (main ends the older one). */
		ev_timer_stop(sec->loop, &s->expiry);
		res.ok = true;
		res.has_http_code = false;
		res.sid = s->sid;
		res.username = s->username;
		res.groupname = s->groupname;
		res.user_config = s->conf.text;
		res.has_created = true;
		res.created = s->created;
		res.has_deadline = s->deadline != 0;
		res.deadline = s->deadline;
		res.auth_methods = s->auth_methods;
		res.cert_subject = s->cert_subject;
	}
	sec_send_main(sec, MS_TYPE__MS_COOKIE_RESULT, &res.base);
	return 0;
}

/* The client profile goes only to a client that holds a live session's cookie, as
 * ocserv has it; the check changes nothing about the session. */
int sec_on_worker_cookie_check(void *ctx, void *msg, int *fds)
{
	struct sec_worker *w = ctx;
	SwCookieCheck *req = msg;
	SwCookieReply reply = SW_COOKIE_REPLY__INIT;
	const char *refused =
	    cookie_refusal(w->sec, find_by_cookie(w->sec, req->cookie.data, req->cookie.len),
			   w->client_ip, w->id);

	if (refused)
		log_info("worker %u (%s): client profile refused: %s", w->pid, w->client_ip,
			 refused);
	reply.ok = !refused;
	return ipc_send(w->ch.fd, SW_TYPE__SW_COOKIE_REPLY, &reply.base, NULL, 0);
}

int sec_on_session_up(void *ctx, void *msg, int *fds)
{
	struct sec_ctx *sec = ctx;
	MsSessionUp *m = msg;
	struct sec_session *s = find_by_sid(sec, m->sid);

	if (!s)
		return 0; /* expired between the check and the tunnel: main learns it below */
	if (session_set_in_use(s, m->worker_id) < 0) {
		log_err("session %s: out of memory counting it as in use", s->sid);
		return 0;
	}
	ev_timer_stop(sec->loop, &s->expiry);
	return 0;
}

int sec_on_session_down(void *ctx, void *msg, int *fds)
{
	struct sec_ctx *sec = ctx;
	MsSessionDown *m = msg;
	struct sec_session *s = find_by_sid(sec, m->sid);

	/* A newer tunnel of the same session may already own it. */
	if (!s || (s->in_use_by && s->in_use_by != m->worker_id))
		return 0;
	session_set_in_use(s, 0);
	if (s->replaced)
		session_expire(s, "replaced by a newer login");
	else if (session_timed_out(s))
		session_expire(s, "session timeout");
	else if (m->invalidate)
		session_expire(s, m->has_reason ? session_end_reason_str(m->reason) : "ended");
	else
		session_arm(s);
	return 0;
}

/* The session with the smallest sid past after (and matching prefix), or NULL. */
static struct sec_session *next_by_sid(struct sec_ctx *sec, const char *after, const char *prefix,
				       size_t plen)
{
	struct sec_session *best = NULL;

	for (struct sec_session *s = sec->sessions_by_sid; s; s = s->hh_sid.next) {
		if (plen && strncmp(s->sid, prefix, plen) != 0)
			continue;
		if (after && strcmp(s->sid, after) <= 0)
			continue;
		if (!best || strcmp(s->sid, best->sid) < 0)
			best = s;
	}
	return best;
}

/* A batch of sessions in sid order. Every session listed is valid: an expired one is
 * removed when its timer fires. */
int sec_on_session_list(void *ctx, void *msg, int *fds)
{
	struct sec_ctx *sec = ctx;
	MsSessionList *req = msg;
	MsSessionListEnd end = MS_SESSION_LIST_END__INIT;
	time_t now = time(NULL);
	size_t plen = req->sid_prefix ? strnlen(req->sid_prefix, SEC_SID_LEN + 1) : 0;
	const char *after = req->after;
	struct sec_session *s = NULL;

	end.request_id = req->request_id;
	if (plen > SEC_SID_LEN) {
		sec_send_main(sec, MS_TYPE__MS_SESSION_LIST_END, &end.base);
		return 0;
	}
	while (end.count < SEC_LIST_BATCH && (s = next_by_sid(sec, after, req->sid_prefix, plen))) {
		MsSessionEntry e = MS_SESSION_ENTRY__INIT;

		e.request_id = req->request_id;
		e.sid = s->sid;
		e.username = s->username;
		e.groupname = s->groupname;
		e.auth_ip = s->auth_ip;
		e.created = s->created;
		e.in_use_by = s->in_use_by;
		if (ev_is_active(&s->expiry)) {
			e.has_expires = true;
			e.expires = now + (int64_t)ev_timer_remaining(sec->loop, &s->expiry);
		}
		sec_send_main(sec, MS_TYPE__MS_SESSION_ENTRY, &e.base);
		end.count++;
		after = s->sid;
	}
	end.more = s != NULL;
	sec_send_main(sec, MS_TYPE__MS_SESSION_LIST_END, &end.base);
	return 0;
}
