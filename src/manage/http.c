/* The HTTPS side of sluice-manage, on libmicrohttpd: one thread per connection, at most
 * HTTP_CONNECTIONS at once and HTTP_PER_ADDRESS per address, each cut off after
 * HTTP_IDLE_SECS without progress, or when a request takes too long (watch.c). A request is judged on its headers first: over its
 * address's rate it gets 429, without valid credentials 401 (a SHA-256 and nothing
 * else: no call to main, no body read), with a body over API_BODY_MAX 413. Callers:
 *   Authorization: Bearer TOKEN   a token granted in manage-access, or
 *   a client certificate          signed by manage-ca, its common name granted.
 * Nothing is answered with CORS headers, and no cookie is ever set or read. The
 * dashboard's files (GET of a path outside /api/) need no credentials: they hold no
 * data, and a Content-Security-Policy keeps them to this server's own scripts and API. */
#include "config.h"

#include "manage/manage.h"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>
#include <strings.h>
#include <time.h>

#include "common/log.h"
#include "manage/www.h"

#define HTTP_CONNECTIONS  32
#define HTTP_PER_ADDRESS  8
#define HTTP_IDLE_SECS    10
#define HTTP_MEMORY       (32 * 1024) /* request line and headers, per connection */
#define HTTP_ACTOR_MAX    (6 + MANAGE_CN_MAX)
#define HTTP_HISTORY_MAX  100 /* records of a user's history */

#define HTTP_DRAIN_SECS   5 /* on SIGTERM, for the requests under way to be answered */

static struct MHD_Daemon *daemon_;
static const struct manage_access *access_;
static atomic_uint in_flight; /* requests begun and not completed */

/* One request, across the calls MHD makes for it. */
struct request {
	bool judged;       /* headers checked, the caller known */
	unsigned status;   /* != 0: the answer is decided (an error) */
	const char *why;
	enum manage_role role;
	char actor[HTTP_ACTOR_MAX + 1];
	char body[API_BODY_MAX];
	size_t body_len;
};

/* The connection's deadline (watch.c) starts again: its request is answered. */
static void answered(struct MHD_Connection *c, bool stream)
{
	const union MHD_ConnectionInfo *info =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	if (info)
		watch_answered(info->socket_context, stream);
}

static enum MHD_Result send_json(struct MHD_Connection *c, unsigned status, json_t *v)
{
	char *text = json_dumps(v, JSON_INDENT(2) | JSON_ENSURE_ASCII);
	struct MHD_Response *resp;
	enum MHD_Result ret;

	json_decref(v);
	if (!text)
		return MHD_NO;
	resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", "application/json");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	if (status == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(resp, "WWW-Authenticate", "Bearer realm=\"sluice\"");
	answered(c, false);
	ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result send_error(struct MHD_Connection *c, unsigned status, const char *why)
{
	return send_json(c, status, json_pack("{s:s}", "error", why));
}

/* The verified client certificate's common name, or false. */
static bool cert_cn(struct MHD_Connection *c, char *cn, size_t len)
{
	const union MHD_ConnectionInfo *info =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	gnutls_session_t s = info ? (gnutls_session_t)info->tls_session : NULL;
	const gnutls_datum_t *chain;
	unsigned n = 0, status = 1;
	gnutls_x509_crt_t crt;
	size_t size = len;
	bool ok = false;

	if (!s || gnutls_certificate_type_get(s) != GNUTLS_CRT_X509)
		return false;
	chain = gnutls_certificate_get_peers(s, &n);
	if (!chain || n == 0 || gnutls_certificate_verify_peers2(s, &status) < 0 || status != 0)
		return false;
	if (gnutls_x509_crt_init(&crt) < 0)
		return false;
	if (gnutls_x509_crt_import(crt, &chain[0], GNUTLS_X509_FMT_DER) >= 0 &&
	    gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, cn, &size) >=
		0 &&
	    strlen(cn) == size)
		ok = true;
	gnutls_x509_crt_deinit(crt);
	return ok;
}

/* Who calls: a bearer token if one is given (a wrong one is not made good by a
 * certificate), else a client certificate. */
static void identify(struct MHD_Connection *c, struct request *rq)
{
	const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	const struct manage_grant *g = NULL;
	char cn[MANAGE_CN_MAX + 1];

	if (auth) {
		if (strncasecmp(auth, "Bearer ", 7) == 0)
			g = manage_access_token(access_, auth + 7, strlen(auth + 7));
		if (g)
			snprintf(rq->actor, sizeof(rq->actor), "token:%s", g->name);
	} else if (cert_cn(c, cn, sizeof(cn))) {
		g = manage_access_cert(access_, cn);
		if (g)
			snprintf(rq->actor, sizeof(rq->actor), "cert:%s", g->name);
	}
	rq->role = g ? g->role : MANAGE_ROLE_NONE;
}

/* The dashboard's files, with headers that keep the page to itself: only its own
 * scripts and styles, no framing, no referrer. NULL: not one of them. */
static const struct www_file *www_find(const char *url)
{
	for (const struct www_file *f = www_files; f->path; f++)
		if (strcmp(f->path, url) == 0)
			return f;
	return NULL;
}

static enum MHD_Result send_file(struct MHD_Connection *c, const struct www_file *f)
{
	struct MHD_Response *resp =
	    MHD_create_response_from_buffer(f->len, (void *)f->data, MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type", f->type);
	MHD_add_response_header(resp, "Cache-Control", "no-cache");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "Content-Security-Policy",
				"default-src 'none'; script-src 'self'; style-src 'self'; "
				"img-src 'self' data:; connect-src 'self'; base-uri 'none'; "
				"form-action 'none'; frame-ancestors 'none'");
	answered(c, false);
	ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* The first call for a request: its headers, before any byte of its body. */
static void judge(struct MHD_Connection *c, struct request *rq)
{
	const union MHD_ConnectionInfo *info =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *peer = info ? info->client_addr : NULL;
	const char *length = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");

	rq->judged = true;
	if (!limits_allow(peer)) {
		rq->status = MHD_HTTP_TOO_MANY_REQUESTS;
		rq->why = "too many requests from this address; wait a minute";
		return;
	}
	identify(c, rq);
	if (rq->role == MANAGE_ROLE_NONE) {
		limits_auth_failed(peer);
		rq->status = MHD_HTTP_UNAUTHORIZED;
		rq->why = "a valid bearer token or client certificate is needed";
		return;
	}
	if (length && strtoull(length, NULL, 10) > API_BODY_MAX) {
		rq->status = MHD_HTTP_CONTENT_TOO_LARGE;
		rq->why = "the body is larger than 4096 bytes";
	}
}

static ssize_t read_events(void *cls, uint64_t pos, char *buf, size_t max)
{
	long n = stream_read(cls, buf, max);

	return n < 0 ? MHD_CONTENT_READER_END_OF_STREAM : (ssize_t)n;
}

static void free_reader(void *cls)
{
	stream_reader_free(cls);
}

static enum MHD_Result send_events(struct MHD_Connection *c)
{
	struct stream_reader *r = stream_reader_new();
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (!r)
		return send_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "too many event streams open");
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, read_events, r,
						 free_reader);
	if (!resp) {
		stream_reader_free(r);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", "text/event-stream");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	answered(c, true);
	ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result answer(struct MHD_Connection *c, struct request *rq, const char *url,
			      const char *method)
{
	struct api_request req = {
	    .method = method,
	    .path = url,
	    .q_name = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "name"),
	    .q_id = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "id"),
	    .q_sid = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "sid"),
	    .content_type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type"),
	    .body = rq->body,
	    .body_len = rq->body_len,
	    .role = rq->role,
	};
	struct api_call call;
	const char *why = NULL;
	unsigned status = api_parse(&req, &call, &why);
	json_t *out;

	if (status != 200)
		return send_error(c, status, why);
	if (call.op == API_EVENTS)
		return send_events(c);
	if (call.op == API_WHOAMI)
		return send_json(c, 200,
				 json_pack("{s:s, s:s}", "identity", rq->actor, "role",
					   manage_role_name(rq->role)));
	if (call.op == API_HISTORY) {
		status = history_for(call.arg, HTTP_HISTORY_MAX, &out);
		return out ? send_json(c, status, out) : MHD_NO;
	}
	status = backend_call(&call, rq->actor, &out);
	explicit_bzero(call.password, sizeof(call.password));
	return send_json(c, status, out);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *data,
				  size_t *data_len, void **con_cls)
{
	struct request *rq = *con_cls;

	if (!rq) {
		rq = calloc(1, sizeof(*rq));
		if (!rq)
			return MHD_NO;
		*con_cls = rq;
		atomic_fetch_add(&in_flight, 1);
		if (strcmp(method, "GET") == 0 && www_find(url)) {
			if (!limits_allow(MHD_get_connection_info(
					      c, MHD_CONNECTION_INFO_CLIENT_ADDRESS)->client_addr))
				return send_error(c, MHD_HTTP_TOO_MANY_REQUESTS, "too many requests");
			return send_file(c, www_find(url));
		}
		judge(c, rq);
		/* An error is answered at once; MHD then drops the body unread. */
		if (rq->status)
			return send_error(c, rq->status, rq->why);
		return MHD_YES;
	}
	if (*data_len) {
		if (rq->body_len + *data_len > API_BODY_MAX) {
			*data_len = 0;
			rq->status = MHD_HTTP_CONTENT_TOO_LARGE;
			return send_error(c, rq->status, "the body is larger than 4096 bytes");
		}
		memcpy(rq->body + rq->body_len, data, *data_len);
		rq->body_len += *data_len;
		*data_len = 0;
		return MHD_YES;
	}
	if (rq->status)
		return MHD_YES; /* answered already */
	return answer(c, rq, url, method);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct request *rq = *con_cls;

	if (rq) {
		atomic_fetch_sub(&in_flight, 1);
		explicit_bzero(rq->body, rq->body_len); /* may hold a password */
	}
	free(rq);
	*con_cls = NULL;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	const union MHD_ConnectionInfo *info;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		*socket_context = info ? watch_connection(info->connect_fd) : NULL;
	} else if (toe == MHD_CONNECTION_NOTIFY_CLOSED && *socket_context) {
		watch_closed(*socket_context);
		*socket_context = NULL;
	}
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[256];

	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	log_info("https: %s", line);
}

int http_start(const struct http_config *cfg)
{
	unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
			 MHD_USE_TLS | MHD_USE_ERROR_LOG | MHD_USE_ITC;

	/* With manage-ca, MHD asks every client for a certificate (not required: a token
	 * caller has none) and checks it against the CA; identify() takes only a verified
	 * one. */
	struct MHD_OptionItem trust[] = {
	    {cfg->ca_pem ? MHD_OPTION_HTTPS_MEM_TRUST : MHD_OPTION_END, 0, (void *)cfg->ca_pem},
	    {MHD_OPTION_END, 0, NULL},
	};

	access_ = cfg->access;
	daemon_ = MHD_start_daemon(
	    flags, 0, NULL, NULL, on_request, NULL, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
	    MHD_OPTION_LISTEN_SOCKET, cfg->listen_fd,
	    MHD_OPTION_HTTPS_MEM_CERT, cfg->cert_pem, MHD_OPTION_HTTPS_MEM_KEY, cfg->key_pem,
	    MHD_OPTION_HTTPS_PRIORITIES, "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2",
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_CONNECTIONS,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)HTTP_PER_ADDRESS,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_IDLE_SECS,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_MEMORY, MHD_OPTION_NOTIFY_COMPLETED,
	    on_completed, NULL, MHD_OPTION_NOTIFY_CONNECTION, on_connection, NULL,
	    MHD_OPTION_ARRAY, trust, MHD_OPTION_END);
	if (daemon_ && watch_start() < 0) {
		MHD_stop_daemon(daemon_);
		daemon_ = NULL;
	}
	if (!daemon_) {
		log_err("cannot serve HTTPS (certificate and key do not load, or no TLS in "
			"libmicrohttpd)");
		return -1;
	}
	return 0;
}

/* No new connection, the event streams end, and what is under way is answered (a
 * reload through the API restarts this process while the reload's answer is on its
 * way), for at most HTTP_DRAIN_SECS. */
void http_stop(void)
{
	struct timespec tick = {0, 50 * 1000 * 1000};

	if (!daemon_)
		return;
	MHD_quiesce_daemon(daemon_);
	stream_stop();
	for (int i = 0; i < HTTP_DRAIN_SECS * 20 && atomic_load(&in_flight); i++)
		nanosleep(&tick, NULL);
	MHD_stop_daemon(daemon_);
	daemon_ = NULL;
}
