/* Password authentication for one worker's connection. The worker relays what the
 * client typed; sec decides, counts the tries and issues the cookie. */
#include "config.h"

#include "sec/sec.h"

#include <errno.h>
#include <string.h>

#include "common/log.h"
#include "common/passwd.h"
#include "ipc/main_sec.pb-c.h"
#include "ipc/sec_worker.pb-c.h"

static void report_auth(struct sec_worker *w, bool ok, const char *user, const char *reason,
			bool not_scored);

/* The handshake's client certificate is checked at once; a refused one is reported
 * (log, audit file, ban points) even if a password login may follow. */
int sec_on_handshake_done(void *ctx, void *msg, int *fds)
{
	struct sec_worker *w = ctx;
	SwHandshakeDone *m = msg;

	w->state = SECW_AUTH;
	if (!m->has_client_cert || !w->sec->trust)
		return 0;
	w->has_cert = true;
	w->cert_why = sec_cert_check(w->sec, w, m->client_cert.data, m->client_cert.len, &w->cert);
	if (w->cert_why) {
		char *who = talloc_asprintf(w, "(certificate %s)", w->cert.subject);

		log_info("worker %u: client certificate %s refused: %s", w->id, w->cert.subject,
			 w->cert_why);
		report_auth(w, false, who ? who : "(certificate)", w->cert_why, false);
		talloc_free(who);
	}
	return 0;
}

static void report_auth(struct sec_worker *w, bool ok, const char *user, const char *reason,
			bool not_scored)
{
	MsAuthEvent ev = MS_AUTH_EVENT__INIT;

	ev.has_not_scored = not_scored;
	ev.not_scored = not_scored;
	ev.worker_id = w->id;
	ev.ok = ok;
	ev.username = (char *)user;
	ev.client_ip = w->client_ip;
	ev.client_port = w->client_port;
	ev.reason = (char *)reason;
	sec_send_main(w->sec, MS_TYPE__MS_AUTH_EVENT, &ev.base);
}

/* The group a session gets: the one the client selected on the login form, which the
 * user must belong to (NULL when not); with no choice (or default-select-group's), the
 * user's first group when first_is_default (a password file's), else none; "*" in the
 * file means none. */
static const char *pick_group(const struct sluice_config *c, char **groups, size_t n,
			      bool first_is_default, const char *wanted)
{
	if (wanted && *wanted &&
	    !(c->default_select_group && strcmp(wanted, c->default_select_group) == 0)) {
		for (size_t i = 0; i < n; i++)
			if (strcmp(groups[i], wanted) == 0)
				return groups[i];
		return NULL;
	}
	if (first_is_default && n > 0 && strcmp(groups[0], "*") != 0)
		return groups[0];
	return "";
}

/* plain auth: looks user up in the password file and hands an auth helper the hash to
 * check the password against. A user the file cannot admit (unknown, locked, an unusable
 * file) gets the dummy hash, the same work as a real user, so that the time of the answer
 * does not tell who exists; the verdict is then settled already. */
static int plain_login(struct sec_worker *w, const SwAuthReq *req)
{
	struct sec_ctx *sec = w->sec;
	struct passwd_entry *e = talloc_zero(w, struct passwd_entry);
	const char *password = req->password, *hash, *why = NULL;
	char err[256] = "";
	int ret;

	if (!e)
		return -ENOMEM;
	ret = passwd_lookup(e, sec->cfg->passwd_file, req->username, e, err, sizeof(err));
	if (ret == -ENOENT) {
		why = "unknown user";
	} else if (ret < 0) {
		log_err("password file: %s", err[0] ? err : strerror(-ret));
		why = "password file error";
	} else if (e->locked) {
		why = "account locked";
	}
	hash = why ? passwd_dummy_hash() : e->hash;
	/* A huge password would make SHA-crypt slow; an empty one is hashed instead (as
	 * passwd_verify does), and it cannot pass. */
	if (strnlen(password, PASSWD_MAX_PASSWORD + 1) > PASSWD_MAX_PASSWORD) {
		password = "";
		if (!why)
			why = "wrong password";
	}
	return sec_helpers_hash(w, req->username, password, req->group, hash, why, e);
}

/* With cert-pin in the user's files, a certificate login passes only with one of them
 * (a certificate of the CA that names the user but is not the user's own is refused). */
static bool pinned(const char *text, const uint8_t sha256[32])
{
	static const char key[] = "cert-pin = sha256:";
	char hex[65];
	bool any = false;

	for (size_t i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", sha256[i]);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, key, sizeof(key) - 1) != 0)
			continue;
		any = true;
		if (strncmp(p + sizeof(key) - 1, hex, 64) == 0)
			return true;
	}
	return !any;
}

/* What a login that passed its methods still needs: the group, the user's files (and
 * their cert-pin, for a login that used cert), the session limit. NULL when it may go
 * on, else why not. Every check of the login is done by now: with replace-oldest, the
 * place of the user's oldest session goes to this login last of all (sec_sessions.c). */
static const char *admit(struct sec_worker *w, TALLOC_CTX *tmp, const char *user,
			 const char *group, const struct sec_cert_id *cert, struct sec_user_conf *uc)
{
	struct sec_ctx *sec = w->sec;

	if (!group)
		return "not a member of the selected group";
	if (sec_user_config(sec, tmp, user, group, w->be_conf, uc) < 0)
		return "invalid per-user or per-group configuration";
	if (cert && !pinned(uc->text, cert->sha256))
		return "certificate not pinned for this user (cert-pin)";
	if (sec_max_same_clients(sec, uc) &&
	    sec_sessions_in_use(sec, user, NULL) >= sec_max_same_clients(sec, uc) &&
	    !(sec_same_clients_policy(sec, uc) == CONFIG_SAME_REPLACE_OLDEST &&
	      sec_sessions_make_room(sec, user, sec_max_same_clients(sec, uc), NULL)))
		return "too many sessions";
	return NULL;
}

/* Answers a login: a session and its cookie, or the reason (counted as a try; final: no
 * other try could pass on this connection). */
static int answer(struct sec_worker *w, const char *user, const char *group,
		  struct sec_user_conf *uc, const char *methods, const char *why, bool final)
{
	struct sec_ctx *sec = w->sec;
	SwAuthReply reply = SW_AUTH_REPLY__INIT;
	char cookie[2 * SEC_COOKIE_LEN + 1];
	int ret;

	if (!why) {
		struct sec_session *s = sec_session_new(sec, user, group, w->client_ip, uc, cookie);

		if (!s)
			return -ENOMEM;
		s->auth_methods = talloc_strdup(s, methods);
		if (strstr(methods, "certificate")) {
			s->has_cert = true;
			memcpy(s->cert_sha256, w->cert.sha256, sizeof(s->cert_sha256));
			s->cert_subject = talloc_strdup(s, w->cert.subject);
		}
		w->state = SECW_DONE;
		reply.result = SW_AUTH_RESULT__SW_AUTH_OK;
		reply.has_cookie = true;
		reply.cookie.data = (uint8_t *)cookie;
		reply.cookie.len = strlen(cookie);
		reply.username = s->username;
		reply.groupname = s->groupname;
		report_auth(w, true, user, NULL, false);
	} else {
		final |= strcmp(why, "too many sessions") == 0;
		w->tries++;
		/* Only the client's own guesses score ban points: not a full server, a broken
		 * file or a backend that did not answer. */
		report_auth(w, false, user, why,
			    w->backend_failed || strcmp(why, "too many sessions") == 0 ||
				strcmp(why, "password file error") == 0 ||
				strcmp(why, SEC_OTP_FILE_ERROR) == 0);
		if (w->tries >= sec->cfg->auth_tries || final) {
			w->state = SECW_DONE;
			reply.result = SW_AUTH_RESULT__SW_AUTH_FAIL;
			reply.message = strcmp(why, "too many sessions") == 0
					    ? "Too many sessions for this user."
				       : w->backend_failed
					    ? "The authentication service did not answer; try again "
					      "later."
					    : "Login failed.";
		} else {
			reply.result = SW_AUTH_RESULT__SW_AUTH_RETRY;
			reply.message = "Login failed.";
		}
	}
	ret = ipc_send(w->ch.fd, SW_TYPE__SW_AUTH_REPLY, &reply.base, NULL, 0);
	explicit_bzero(cookie, sizeof(cookie));
	w->backend_failed = false;
	return ret;
}

/* Why the handshake's certificate cannot stand for user (NULL when it can). */
static const char *cert_for(const struct sec_worker *w, const char *user)
{
	if (!w->has_cert)
		return "no client certificate";
	if (!w->cert.ok)
		return w->cert_why;
	if (user && strcmp(w->cert.user, user) != 0)
		return "certificate names another user";
	return NULL;
}

/* The password passed and plain has otp=: the client is asked for the code; what the
 * password settled waits here for it (sec_on_answer_req). */
static int ask_otp(struct sec_worker *w, const char *user, const char *group, const char *methods)
{
	SwAuthReply reply = SW_AUTH_REPLY__INIT;

	talloc_free(w->otp_user);
	talloc_free(w->otp_group);
	talloc_free(w->otp_methods);
	/* Copies: the caller's strings live only as long as the request. */
	w->otp_user = talloc_strdup(w, user);
	w->otp_group = talloc_strdup(w, group);
	w->otp_methods = talloc_strdup(w, methods);
	if (!w->otp_user || !w->otp_group || !w->otp_methods)
		return -ENOMEM;
	w->state = SECW_MORE;
	log_info("worker %u: password of %s accepted; asking for the one-time password", w->id,
		 user);
	reply.result = SW_AUTH_RESULT__SW_AUTH_MORE;
	reply.message = "Please enter your one-time password.";
	return ipc_send(w->ch.fd, SW_TYPE__SW_AUTH_REPLY, &reply.base, NULL, 0);
}

/* The password method's name in a session's auth_methods. */
static const char *password_method(const struct sluice_config *c)
{
	switch (c->password_backend) {
	case CONFIG_PW_PAM:
		return "pam";
	case CONFIG_PW_RADIUS:
		return "radius";
	case CONFIG_PW_LDAP:
		return "ldap";
	default:
		return "password";
	}
}

/* What follows the password check (why: NULL when it passed): the certificate when auth
 * requires both, the group among the user's, the one-time password, the admission. */
static int password_checked(struct sec_worker *w, TALLOC_CTX *tmp, const char *user,
			    const char *wanted, const char *why, bool backend_error,
			    char **groups, size_t n_groups, bool first_is_default)
{
	const struct sluice_config *c = w->sec->cfg;
	bool alone = c->auth_required == CONFIG_AUTH_PASSWORD ||
		     (c->auth_alternatives & CONFIG_AUTH_PASSWORD);
	const char *methods = alone ? password_method(c)
				    : talloc_asprintf(tmp, "certificate+%s", password_method(c));
	struct sec_user_conf uc = {0};
	const char *group = NULL;
	bool final = backend_error;

	if (!methods)
		return -ENOMEM;
	w->backend_failed = backend_error;
	/* auth = a password method and certificate: the password's user must be the
	 * certificate's. */
	if (!why && !alone) {
		why = cert_for(w, user);
		final = why != NULL;
	}
	if (!why) {
		group = !alone && c->cert_group_oid
			    ? w->cert.group
			    : pick_group(c, groups, n_groups, first_is_default, wanted);
		/* The rest waits for the one-time password. */
		if (c->otp_file && group)
			return ask_otp(w, user, group, methods);
		why = admit(w, tmp, user, group, alone ? NULL : &w->cert, &uc);
	}
	return answer(w, user, group, &uc, methods, why, final);
}

int sec_on_auth_req(void *ctx, void *msg, int *fds)
{
	struct sec_worker *w = ctx;
	const struct sluice_config *c = w->sec->cfg;
	SwAuthReq *req = msg;
	TALLOC_CTX *tmp;
	int ret;

	if (c->auth_required & CONFIG_AUTH_PASSWORD || c->auth_alternatives & CONFIG_AUTH_PASSWORD)
		return c->password_backend == CONFIG_PW_PLAIN
			   ? plain_login(w, req)
			   : sec_helpers_login(w, req->username, req->password, req->group);
	tmp = talloc_new(w);
	ret = password_checked(w, tmp, req->username, req->group,
			       "password login is not enabled", false, NULL, 0, true);
	talloc_free(tmp);
	return ret;
}

int sec_auth_backend_prompt(struct sec_worker *w, const char *text, bool echo)
{
	SwAuthReply reply = SW_AUTH_REPLY__INIT;

	w->state = SECW_MORE;
	reply.result = SW_AUTH_RESULT__SW_AUTH_MORE;
	reply.message = (char *)text;
	reply.prompt_label = (char *)text;
	reply.has_prompt_echo = true;
	reply.prompt_echo = echo;
	return ipc_send(w->ch.fd, SW_TYPE__SW_AUTH_REPLY, &reply.base, NULL, 0);
}

int sec_auth_backend_done(struct sec_worker *w, bool ok, const char *why, bool backend_error,
			  char **groups, size_t n_groups, const char *conf)
{
	TALLOC_CTX *tmp = talloc_new(w);
	char *user = w->be_user ? talloc_strdup(tmp, w->be_user) : NULL;
	char *wanted = w->be_group ? talloc_strdup(tmp, w->be_group) : NULL;
	int ret;

	/* A retry starts again from the login form. */
	w->state = SECW_AUTH;
	w->be_conf = conf;
	/* A RADIUS user with groups from Class, or an LDAP user with groups from the
	 * directory, gets the first when none is chosen, as with a password file; NSS groups
	 * (PAM) are too many for that. */
	ret = password_checked(w, tmp, user ? user : "(unknown)", wanted, ok ? NULL : why,
			       backend_error, groups, n_groups,
			       w->sec->cfg->password_backend == CONFIG_PW_RADIUS ||
				   w->sec->cfg->password_backend == CONFIG_PW_LDAP);
	w->be_conf = NULL;
	talloc_free(tmp);
	return ret;
}

int sec_auth_hash_done(struct sec_worker *w, bool match)
{
	TALLOC_CTX *tmp = talloc_new(w);
	const struct passwd_entry *e = w->be_entry;
	const char *why = w->be_why ? w->be_why : match ? NULL : "wrong password";
	int ret;

	if (!tmp)
		return -ENOMEM;
	w->state = SECW_AUTH;
	ret = password_checked(w, tmp, w->be_user, w->be_group, why, false,
			       e ? e->groups : NULL, e ? e->n_groups : 0, true);
	talloc_free(tmp);
	return ret;
}

/* The one-time password of the user whose password passed. A wrong code is a failed
 * login like a wrong password (ban points, audit file) and counts against auth-tries;
 * the client is asked for the code again until they run out. */
int sec_on_answer_req(void *ctx, void *msg, int *fds)
{
	struct sec_worker *w = ctx;
	SwAnswerReq *req = msg;
	TALLOC_CTX *tmp;
	struct sec_user_conf uc = {0};
	bool cert = w->otp_methods && strstr(w->otp_methods, "certificate");
	const char *why;
	char *methods;
	int ret;

	/* A backend's prompt: the answer goes to its helper. */
	if (w->helper)
		return sec_helpers_answer(w, req->answer);
	/* Else only ask_otp() moves a worker to SECW_MORE. */
	if (!w->otp_user || !w->otp_group || !w->otp_methods)
		return -EPROTO;
	tmp = talloc_new(w);
	methods = talloc_asprintf(tmp, "%s+otp", w->otp_methods);
	if (!methods) {
		talloc_free(tmp);
		return -ENOMEM;
	}
	why = sec_otp_check(w->sec, tmp, w->otp_user, req->answer);
	if (why)
		log_info("worker %u: one-time password of %s refused: %s", w->id, w->otp_user, why);
	else
		why = admit(w, tmp, w->otp_user, w->otp_group, cert ? &w->cert : NULL, &uc);
	ret = answer(w, w->otp_user, w->otp_group, &uc, methods, why, false);
	talloc_free(tmp);
	return ret;
}

int sec_on_cert_login(void *ctx, void *msg, int *fds)
{
	struct sec_worker *w = ctx;
	const struct sluice_config *c = w->sec->cfg;
	SwCertLogin *req = msg;
	TALLOC_CTX *tmp = talloc_new(w);
	struct sec_user_conf uc = {0};
	bool alone = c->auth_required == CONFIG_AUTH_CERT || (c->auth_alternatives & CONFIG_AUTH_CERT);
	const char *user = w->cert.ok ? w->cert.user : "(certificate)";
	const char *group = NULL, *why;
	int ret;

	why = alone ? cert_for(w, NULL) : "certificate login alone is not enabled";
	if (!why) {
		/* The certificate's group, or none; a group chosen on the form must be it. */
		group = w->cert.group ? w->cert.group : "";
		if (req->group && *req->group && strcmp(req->group, group) != 0)
			group = NULL;
		why = admit(w, tmp, user, group, &w->cert, &uc);
	}
	/* A refused certificate leaves a password login when one would pass alone. */
	ret = answer(w, user, group, &uc, "certificate", why,
		     !(c->auth_required == CONFIG_AUTH_PASSWORD ||
		       (c->auth_alternatives & CONFIG_AUTH_PASSWORD)));
	talloc_free(tmp);
	return ret;
}
