/* The AnyConnect client profile (user-profile), served to clients that hold a live
 * session's cookie, as ocserv does: openconnect --xmlconfig fetches it on the connection
 * that logged in, before its CONNECT; Cisco's downloader on a new connection. The bytes
 * came from main with MW_INIT; sec says whether the cookie stands for a live session. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "common/log.h"
#include "common/session.h"
#include "ipc/sec_worker.pb-c.h"
#include "worker/http.h"
#include "worker/worker.h"

#define COOKIE_REPLY_TIMEOUT_MS 30000

/* Any path under /profiles/, as ocserv serves it: openconnect 9.01 asks for the URI of
 * the manifest with ":PORT" appended when the port is not 443. */
bool worker_profile_path(const char *path)
{
	return strncmp(path, "/profiles/", 10) == 0;
}

static bool same_cookie(const char *a, const char *b)
{
	size_t len = strlen(a);
	unsigned char diff = 0;

	if (len != strlen(b))
		return false;
	for (size_t i = 0; i < len; i++)
		diff |= (unsigned char)(a[i] ^ b[i]);
	return diff == 0;
}

/* Whether cookie may have the profile. sec takes one question per connection, and none
 * while a second form of a login is out. */
static bool cookie_accepted(struct worker *w, const char *cookie)
{
	SwCookieCheck m = SW_COOKIE_CHECK__INIT;
	SwCookieReply *reply = NULL;
	TALLOC_CTX *tmp;
	bool ok;
	int ret;

	if (!cookie || !cookie[0] || strlen(cookie) > SESSION_COOKIE_MAX)
		return false;
	if (w->profile_cookie)
		return same_cookie(w->profile_cookie, cookie);
	if (w->profile_asked || w->more_pending)
		return false;
	w->profile_asked = true;
	tmp = talloc_new(w);
	m.cookie.data = (uint8_t *)cookie;
	m.cookie.len = strlen(cookie);
	ret = ipc_send(w->sec_fd, SW_TYPE__SW_COOKIE_CHECK, &m.base, NULL, 0);
	if (ret == 0)
		ret = ipc_recv_expect(w->sec_fd, SW_TYPE__SW_COOKIE_REPLY,
				      &sw_cookie_reply__descriptor, WORKER_SEC_MAX_PAYLOAD, tmp,
				      (void **)&reply, NULL, 0, COOKIE_REPLY_TIMEOUT_MS);
	if (ret < 0) {
		log_err("no answer from sec: %s", strerror(-ret));
		worker_exit(w, WEXIT_IPC);
	}
	ok = reply->ok;
	talloc_free(tmp);
	if (ok)
		w->profile_cookie = talloc_strdup(w, cookie);
	return ok && w->profile_cookie;
}

static int respond(struct worker *w, unsigned code, const char *body, size_t len, bool keep)
{
	char *resp = http_response(w, code, NULL, body ? "text/xml" : NULL, body, len, keep);
	int ret;

	if (!resp)
		return -ENOMEM;
	ret = tls_send_all(w, resp, strlen(resp));
	talloc_free(resp);
	return ret < 0 ? ret : keep;
}

int worker_profile_get(struct worker *w, const struct http_request *req)
{
	const MwProfile *p = w->init->user_profile;

	if (!p)
		return respond(w, 404, NULL, 0, req->keep_alive);
	/* As ocserv: a request without a good cookie ends the connection. */
	if (!cookie_accepted(w, req->cookie_webvpn)) {
		log_info("client profile refused to %s: %s", w->init->client_ip,
			 req->cookie_webvpn && req->cookie_webvpn[0] ? "its cookie was not accepted"
								     : "no session cookie");
		respond(w, 401, NULL, 0, false);
		return 0;
	}
	log_info("client profile %s sent to %s", p->uri, w->init->client_ip);
	return respond(w, 200, (const char *)p->data.data, p->data.len, req->keep_alive);
}
