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

int sec_on_handshake_done(void *ctx, void *msg, int *fds)
{
	struct sec_worker *w = ctx;

	w->state = SECW_AUTH;
	return 0;
}

static void report_auth(struct sec_worker *w, bool ok, const char *user, const char *reason)
{
	MsAuthEvent ev = MS_AUTH_EVENT__INIT;

	ev.worker_id = w->id;
	ev.ok = ok;
	ev.username = (char *)user;
	ev.client_ip = w->client_ip;
	ev.client_port = w->client_port;
	ev.reason = (char *)reason;
	sec_send_main(w->sec, MS_TYPE__MS_AUTH_EVENT, &ev.base);
}

/* The group a session gets: the one the client selected on the login form, which the
 * user must belong to (NULL when not); with no choice (or default-select-group's),
 * the user's first group; "*" in the file means none. */
static const char *pick_group(const struct sluice_config *c, const struct passwd_entry *e,
			      const char *wanted)
{
	if (wanted && *wanted &&
	    !(c->default_select_group && strcmp(wanted, c->default_select_group) == 0)) {
		for (size_t i = 0; i < e->n_groups; i++)
			if (strcmp(e->groups[i], wanted) == 0)
				return e->groups[i];
		return NULL;
	}
	if (e->n_groups > 0 && strcmp(e->groups[0], "*") != 0)
		return e->groups[0];
	return "";
}

/* Checks the password. Returns NULL when it is right, else the reason for the log. */
static const char *check_password(struct sec_ctx *sec, TALLOC_CTX *tmp, const char *user,
				  const char *password, struct passwd_entry *e)
{
	char err[256] = "";
	int ret = passwd_lookup(tmp, sec->cfg->passwd_file, user, e, err, sizeof(err));

	if (ret == -ENOENT) {
		/* Same work as for a real user, so timing does not tell who exists. */
		passwd_verify_dummy(password);
		return "unknown user";
	}
	if (ret < 0) {
		log_err("password file: %s", err[0] ? err : strerror(-ret));
		passwd_verify_dummy(password);
		return "password file error";
	}
	if (e->locked) {
		passwd_verify_dummy(password);
		return "account locked";
	}
	if (passwd_verify(e, password) < 0)
		return "wrong password";
	return NULL;
}

int sec_on_auth_req(void *ctx, void *msg, int *fds)
{
	struct sec_worker *w = ctx;
	struct sec_ctx *sec = w->sec;
	SwAuthReq *req = msg;
	SwAuthReply reply = SW_AUTH_REPLY__INIT;
	TALLOC_CTX *tmp = talloc_new(w);
	struct passwd_entry e = {0};
	struct sec_user_conf uc;
	const char *group = NULL;
	char cookie[2 * SEC_COOKIE_LEN + 1];
	const char *why;
	int ret;

	why = check_password(sec, tmp, req->username, req->password, &e);
	if (!why && !(group = pick_group(sec->cfg, &e, req->group)))
		why = "not a member of the selected group";
	if (!why && sec_user_config(sec, tmp, req->username, group, &uc) < 0)
		why = "invalid per-user or per-group configuration";
	if (!why && sec_max_same_clients(sec, &uc) &&
	    sec_sessions_in_use(sec, req->username, NULL) >= sec_max_same_clients(sec, &uc))
		why = "too many sessions";

	if (!why) {
		struct sec_session *s =
		    sec_session_new(sec, req->username, group, w->client_ip, &uc, cookie);

		if (!s) {
			talloc_free(tmp);
			return -ENOMEM;
		}
		w->state = SECW_DONE;
		reply.result = SW_AUTH_RESULT__SW_AUTH_OK;
		reply.has_cookie = true;
		reply.cookie.data = (uint8_t *)cookie;
		reply.cookie.len = strlen(cookie);
		reply.username = s->username;
		reply.groupname = s->groupname;
		report_auth(w, true, req->username, NULL);
	} else {
		w->tries++;
		report_auth(w, false, req->username, why);
		if (w->tries >= sec->cfg->auth_tries || strcmp(why, "too many sessions") == 0) {
			w->state = SECW_DONE;
			reply.result = SW_AUTH_RESULT__SW_AUTH_FAIL;
			reply.message = strcmp(why, "too many sessions") == 0
					    ? "Too many sessions for this user."
					    : "Login failed.";
		} else {
			reply.result = SW_AUTH_RESULT__SW_AUTH_RETRY;
			reply.message = "Login failed.";
		}
	}
	ret = ipc_send(w->ch.fd, SW_TYPE__SW_AUTH_REPLY, &reply.base, NULL, 0);
	explicit_bzero(cookie, sizeof(cookie));
	talloc_free(tmp);
	return ret;
}
