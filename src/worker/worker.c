/* sluice-worker: start-up in a fixed order, then the HTTP phase (authentication and
 * CONNECT), then the tunnel. Everything after sandbox_install() runs with the
 * privileges of run-as-user and under the seccomp filter. */
#include "config.h"

#include "worker/worker.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/ports.h"
#include "common/netaddr.h"
#include "common/session.h"
#include "ipc/sec_worker.pb-c.h"
#include "ipc/main_worker.routes.h"
#include "worker/auth_body.h"
#include "worker/auth_xml.h"
#include "worker/compress.h"
#include "worker/http.h"
#include "worker/privdrop.h"
#include "worker/sandbox.h"
#include "worker/tunnel.h"

#define INIT_TIMEOUT_MS       10000
#define AUTH_REPLY_TIMEOUT_MS 60000
#define MAX_HTTP_REQUESTS     32 /* requests on one connection before the CONNECT */
#define OTP_PROMPT            "Please enter your one-time password."
#define HTTP_READ_CAP         16384 /* one TLS record */

static struct worker *self;

static const struct ipc_route worker_from_main[] = {
    IPC_ROUTE_MW_TUNNEL_OK(worker_on_tunnel_ok),
    IPC_ROUTE_MW_TUNNEL_FAIL(worker_on_tunnel_fail),
    IPC_ROUTE_MW_TERMINATE(worker_on_terminate),
    IPC_ROUTE_MW_UDP(worker_on_udp),
    IPC_ROUTE_MW_LIMITS(worker_on_limits),
};

/* Workers log through main: they open nothing of their own. */
static void log_to_main(int priority, const char *line)
{
	MwLog m = MW_LOG__INIT;

	m.priority = (uint32_t)priority;
	m.text = (char *)line;
	ipc_send(WORKER_FD_MAIN, MW_TYPE__MW_LOG, &m.base, NULL, 0);
}

void worker_exit(struct worker *w, int code)
{
	if (w && w->tls)
		gnutls_deinit(w->tls);
	_exit(code);
}

/* included-http-headers, as whole lines for http_response(); NULL when none. */
static char *configured_headers(struct worker *w)
{
	char *h = NULL;

	for (size_t i = 0; i < w->init->n_http_headers; i++) {
		h = talloc_asprintf_append(h ? h : talloc_strdup(w, ""), "%s\r\n",
					   w->init->http_headers[i]);
		if (!h)
			worker_exit(w, WEXIT_INIT_MSG);
	}
	return h;
}

static int send_response(struct worker *w, unsigned code, const char *headers, const char *xml,
			 bool keep_alive)
{
	char *resp, *all = NULL;
	int ret;

	/* A document builder refuses text it cannot encode; the client must not get an
	 * empty 200, which it treats as a protocol error. */
	if (code == 200 && !xml) {
		log_err("cannot build the XML document for the client");
		code = 500;
		keep_alive = false;
	}
	if (w->http_headers) {
		all = talloc_asprintf(w, "%s%s", headers ? headers : "", w->http_headers);
		if (!all)
			return -ENOMEM;
		headers = all;
	}
	resp = http_response(w, code, headers, xml ? "text/xml" : NULL, xml, xml ? strlen(xml) : 0,
			     keep_alive);

	if (all) {
		explicit_bzero(all, strlen(all)); /* it may hold the Set-Cookie */
		talloc_free(all);
	}
	if (!resp)
		return -ENOMEM;
	ret = tls_send_all(w, resp, strlen(resp));
	talloc_free(resp);
	return ret;
}

/* When the decoy answer to a request read now may leave (camouflage.h). */
static struct timespec decoy_due(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_nsec += (long)CAMO_DECOY_DELAY_MS * 1000000L;
	t.tv_sec += t.tv_nsec / 1000000000L;
	t.tv_nsec %= 1000000000L;
	return t;
}

/* The decoy answer to req (NULL: a request that could not be parsed), sent at due. It
 * keeps the connection as the client asked when may_keep, except after a CONNECT or a
 * malformed request. Returns 1 to keep the connection, 0 to close it, negative on
 * failure. */
static int send_decoy(struct worker *w, const struct http_request *req, const struct timespec *due,
		      bool may_keep)
{
	bool keep = may_keep && req && req->keep_alive && req->method != HTTP_CONNECT;
	char *resp = camo_decoy(w, &w->camo, req && req->method == HTTP_HEAD, keep, time(NULL));
	int ret;

	if (!resp)
		return -ENOMEM;
	log_debug("camouflage: a request without the secret gets the decoy");
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, due, NULL) == EINTR)
		;
	ret = tls_send_all(w, resp, strlen(resp));
	talloc_free(resp);
	return ret < 0 ? ret : keep;
}

/* The login form, with the group selector main configured (select-group). */
static char *login_form(TALLOC_CTX *ctx, const struct worker *w, const char *message,
			const char *error)
{
	struct auth_group *groups = talloc_array(ctx, struct auth_group, w->init->n_groups);

	if (!groups)
		return NULL;
	for (size_t i = 0; i < w->init->n_groups; i++) {
		groups[i].value = w->init->groups[i]->value;
		groups[i].label = w->init->groups[i]->label;
	}
	return auth_xml_login_form(ctx, w->init->camouflage_secret, message, error,
				   w->init->pre_login_banner ? w->init->pre_login_banner
							     : w->init->banner,
				   groups, w->init->n_groups);
}

/* Sends a login request (SW_AUTH_REQ or SW_CERT_LOGIN) to sec and answers the client
 * with sec's verdict. Returns 1 to keep the connection, 0 to close it, negative on
 * failure. */
static int relay_login(struct worker *w, uint16_t type, const ProtobufCMessage *msg)
{
	SwAuthReply *reply = NULL;
	TALLOC_CTX *tmp = talloc_new(w);
	int ret;

	ret = ipc_send(w->sec_fd, type, msg, NULL, 0);
	if (ret == 0)
		ret = ipc_recv_expect(w->sec_fd, SW_TYPE__SW_AUTH_REPLY, &sw_auth_reply__descriptor,
				      WORKER_SEC_MAX_PAYLOAD, tmp, (void **)&reply, NULL, 0,
				      AUTH_REPLY_TIMEOUT_MS);
	if (ret < 0) {
		log_err("no answer from sec: %s", strerror(-ret));
		talloc_free(tmp);
		worker_exit(w, WEXIT_IPC);
	}
	switch (reply->result) {
	case SW_AUTH_RESULT__SW_AUTH_OK: {
		const MwProfile *profile = w->init->user_profile;
		char *hdr;

		if (!reply->has_cookie || reply->cookie.len == 0 || reply->cookie.len > 128) {
			talloc_free(tmp);
			worker_exit(w, WEXIT_IPC);
		}
		hdr = talloc_asprintf(tmp, "Set-Cookie: webvpn=%.*s; Secure; HttpOnly\r\n",
				      (int)reply->cookie.len, (const char *)reply->cookie.data);
		ret = send_response(w, 200, hdr,
				    auth_xml_success(tmp, profile ? profile->uri : NULL,
						     profile ? profile->sha1 : NULL),
				    true);
		explicit_bzero(hdr, strlen(hdr));
		ret = ret < 0 ? ret : 1;
		break;
	}
	case SW_AUTH_RESULT__SW_AUTH_MORE:
		w->more_pending = true;
		talloc_free(w->more_label);
		w->more_label = reply->prompt_label ? talloc_strdup(w, reply->prompt_label) : NULL;
		w->more_echo = reply->has_prompt_echo && reply->prompt_echo;
		ret = send_response(w, 200, NULL,
				    auth_xml_second_form(tmp, w->init->camouflage_secret,
							 reply->message, NULL, w->more_label,
							 w->more_echo),
				    true);
		ret = ret < 0 ? ret : 1;
		break;
	case SW_AUTH_RESULT__SW_AUTH_RETRY:
		/* A wrong one-time password asks for the code again, not for the password;
		 * a backend's conversation that failed starts again from the login form. */
		if (w->more_pending && w->more_label) {
			w->more_pending = false;
			TALLOC_FREE(w->more_label);
		}
		ret = send_response(
		    w, 200, NULL,
		    w->more_pending ? auth_xml_second_form(tmp, w->init->camouflage_secret,
							   OTP_PROMPT, reply->message, NULL, false)
				    : login_form(tmp, w, NULL, reply->message),
		    true);
		ret = ret < 0 ? ret : 1;
		break;
	default:
		send_response(w, 200, NULL, auth_xml_failure(tmp, reply->message), false);
		ret = 0;
		break;
	}
	talloc_free(tmp);
	return ret;
}

static int handle_login(struct worker *w, const struct auth_body *ab, const char *user_agent)
{
	SwAuthReq req = SW_AUTH_REQ__INIT;

	req.username = ab->username;
	req.password = ab->password;
	req.group = ab->group_select;
	req.user_agent = (char *)user_agent;
	return relay_login(w, SW_TYPE__SW_AUTH_REQ, &req.base);
}

/* The answer on the second form sec asked for (openconnect sends the input's name,
 * secondary_password; a client that answers with a "password" field is taken too). */
static int handle_answer(struct worker *w, struct auth_body *ab, bool keep_alive)
{
	SwAnswerReq req = SW_ANSWER_REQ__INIT;

	req.answer = ab->secondary_password ? ab->secondary_password : ab->password;
	if (ab->type != AUTH_BODY_REPLY || !req.answer)
		return send_response(w, 200, NULL,
				     auth_xml_second_form(ab, w->init->camouflage_secret,
							  w->more_label ? NULL : OTP_PROMPT, NULL,
							  w->more_label, w->more_echo),
				     keep_alive) < 0
			   ? -EIO
			   : keep_alive;
	return relay_login(w, SW_TYPE__SW_ANSWER_REQ, &req.base);
}

/* A certificate that may log its user in alone: sec decides, once per connection. */
static int handle_cert_login(struct worker *w, const struct auth_body *ab, const char *user_agent)
{
	SwCertLogin req = SW_CERT_LOGIN__INIT;

	w->cert_login_tried = true;
	req.group = ab->group_select;
	req.user_agent = (char *)user_agent;
	return relay_login(w, SW_TYPE__SW_CERT_LOGIN, &req.base);
}

static int handle_auth_request(struct worker *w, const struct http_request *req)
{
	struct auth_body *ab = NULL;
	int ret;

	if (req->method == HTTP_GET && strcmp(req->path, "/") != 0 &&
	    strcmp(req->path, "/auth") != 0)
		return send_response(w, 404, NULL, NULL, req->keep_alive) < 0 ? -EIO
									      : req->keep_alive;
	ret = auth_body_parse(w, req->content_type, req->body, req->body_len, &ab);
	/* The raw body held the password; the parsed one wipes its copy when freed. */
	if (req->body)
		explicit_bzero((void *)req->body, req->body_len);
	if (ret < 0) {
		log_info("malformed authentication body from %s", w->init->client_ip);
		send_response(w, 400, NULL, NULL, false);
		return 0;
	}
	if (w->init->cert_required && !w->has_client_cert) {
		send_response(w, 200, NULL,
			      auth_xml_failure(ab, "A client certificate is required to log in."),
			      false);
		ret = 0;
	} else if (w->more_pending) {
		ret = handle_answer(w, ab, req->keep_alive);
	} else if (w->init->cert_login && w->has_client_cert && !w->cert_login_tried) {
		ret = handle_cert_login(w, ab, req->user_agent);
	} else if (!w->init->password_login) {
		send_response(w, 200, NULL, auth_xml_failure(ab, NULL), false);
		ret = 0;
	} else if (ab->type == AUTH_BODY_REPLY && ab->username && ab->password)
		ret = handle_login(w, ab, req->user_agent);
	else
		ret = send_response(w, 200, NULL,
				    login_form(ab, w, "Please enter your username and password.", NULL),
				    req->keep_alive) < 0
			  ? -EIO
			  : req->keep_alive;
	talloc_free(ab);
	return ret;
}

/* The networks of items ("addr/len", "default"), split by family; only the families
 * the session has are kept. *any4 / *any6 tell whether that family had an item at all
 * ("default" counts for both). */
struct nets {
	struct cstp_net *v4;
	size_t n4;
	struct cstp_net6 *v6;
	size_t n6;
	bool any4, any6, dflt;
};

static int parse_nets(TALLOC_CTX *ctx, const struct worker *w, char **items, size_t n,
		      struct nets *out)
{
	memset(out, 0, sizeof(*out));
	out->v4 = talloc_array(ctx, struct cstp_net, n);
	out->v6 = talloc_array(ctx, struct cstp_net6, n);
	if (!out->v4 || !out->v6)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct netaddr a;
		unsigned prefix;

		if (strcmp(items[i], "default") == 0) {
			out->dflt = true;
			continue;
		}
		if (netaddr_prefix_parse(items[i], &a, &prefix) < 0)
			return -EINVAL;
		if (a.family == AF_INET) {
			uint32_t net;

			out->any4 = true;
			if (!w->has_ip4)
				continue;
			memcpy(&net, a.a, 4);
			out->v4[out->n4].mask_be = ipv4_prefix_mask(prefix);
			out->v4[out->n4].net_be = net & out->v4[out->n4].mask_be;
			out->n4++;
		} else {
			out->any6 = true;
			if (!w->has_ip6)
				continue;
			memcpy(out->v6[out->n6].net, a.a, 16);
			out->v6[out->n6].prefix = prefix;
			out->n6++;
		}
	}
	return 0;
}

/* restrict-user-to-routes: the destinations the client was told to route here. */
static int parse_restriction(struct worker *w, const MwTunnelOk *m)
{
	struct cstp_dest_filter *f;
	struct nets routes, excluded;
	uint32_t *dns;
	struct in6_addr *dns6;

	if (!m->restrict_to_routes)
		return 0;
	f = talloc_zero(w, struct cstp_dest_filter);
	dns = f ? talloc_array(f, uint32_t, m->n_dns) : NULL;
	dns6 = f ? talloc_array(f, struct in6_addr, m->n_dns) : NULL;
	if (!dns || !dns6 || parse_nets(f, w, m->routes, m->n_routes, &routes) < 0 ||
	    parse_nets(f, w, m->no_routes, m->n_no_routes, &excluded) < 0)
		return -EINVAL;
	f->routes = routes.v4;
	f->n_routes = routes.n4;
	f->excluded = excluded.v4;
	f->n_excluded = excluded.n4;
	f->routes6 = routes.v6;
	f->n_routes6 = routes.n6;
	f->excluded6 = excluded.v6;
	f->n_excluded6 = excluded.n6;
	/* As the client sees it: no route of a family sends all of it through the VPN. */
	f->all = !routes.any4 || routes.dflt;
	f->all6 = !routes.any6 || routes.dflt;
	for (size_t i = 0; i < m->n_dns; i++) {
		if (inet_pton(AF_INET, m->dns[i], &dns[f->n_dns]) == 1)
			f->n_dns++;
		else if (inet_pton(AF_INET6, m->dns[i], &dns6[f->n_dns6]) == 1)
			f->n_dns6++;
	}
	f->dns_be = dns;
	f->dns6 = dns6;
	if (m->restrict_to_ports) {
		struct port_list *ports = talloc(f, struct port_list);
		char why[160];

		if (!ports || ports_parse(m->restrict_to_ports, ports, why, sizeof(why)) < 0)
			return -EINVAL;
		f->ports = ports;
	}
	w->restrict_to = f;
	return 0;
}

/* The session's addresses: IPv4 (address and netmask), IPv6 (address and prefix), or
 * both; -EPROTO for anything else. */
static int parse_addresses(struct worker *w, const MwTunnelOk *m)
{
	struct in6_addr a6;
	struct in_addr mask;

	if (m->ipv4 || m->ipv4_local || m->ipv4_netmask) {
		if (!m->ipv4 || !m->ipv4_local || !m->ipv4_netmask ||
		    inet_pton(AF_INET, m->ipv4, &w->vpn_ip) != 1 ||
		    inet_pton(AF_INET, m->ipv4_netmask, &mask) != 1)
			return -EPROTO;
		w->has_ip4 = true;
		w->vpn_netmask = talloc_strdup(w, m->ipv4_netmask);
	}
	if (m->ipv6 || m->ipv6_local || m->has_ipv6_prefix) {
		if (!m->ipv6 || !m->ipv6_local || !m->has_ipv6_prefix || m->ipv6_prefix == 0 ||
		    m->ipv6_prefix > 128 || inet_pton(AF_INET6, m->ipv6, &a6) != 1)
			return -EPROTO;
		w->has_ip6 = true;
		w->vpn_ip6 = talloc_strdup(w, m->ipv6);
		memcpy(w->vpn_net6.net, &a6, 16);
		w->vpn_net6.prefix = m->ipv6_prefix;
	}
	return w->has_ip4 || w->has_ip6 ? 0 : -EPROTO;
}

int worker_on_tunnel_ok(void *ctx, void *msg, int *fds)
{
	struct worker *w = ctx;
	MwTunnelOk *m = msg;
	struct nets iroutes;

	if (parse_addresses(w, m) < 0 || m->mtu < 576 || m->mtu > 9000 ||
	    parse_nets(w, w, m->iroutes, m->n_iroutes, &iroutes) < 0 ||
	    parse_restriction(w, m) < 0) {
		close(fds[0]);
		return -EPROTO;
	}
	w->iroutes = iroutes.v4;
	w->n_iroutes = iroutes.n4;
	w->iroutes6 = iroutes.v6;
	w->n_iroutes6 = iroutes.n6;
	w->mtu = m->mtu;
	if (m->has_base_mtu && m->base_mtu > m->mtu && m->base_mtu < w->base_mtu)
		w->base_mtu = m->base_mtu;
	w->sess = talloc_steal(w, m);
	w->tun_fd = fds[0];
	w->sid = talloc_strdup(w, m->sid);
	w->username = talloc_strdup(w, m->username);
	w->groupname = talloc_strdup(w, m->groupname);
	w->device = talloc_strdup(w, m->device);
	if (m->has_dtls_id && m->dtls_id.len == sizeof(w->dtls_id)) {
		memcpy(w->dtls_id, m->dtls_id.data, sizeof(w->dtls_id));
		w->has_dtls_id = true;
	}
	w->tunnel_answered = true;
	return 0;
}

int worker_on_tunnel_fail(void *ctx, void *msg, int *fds)
{
	struct worker *w = ctx;
	MwTunnelFail *m = msg;

	w->fail_code = (m->http_code == 401) ? 401 : 503;
	w->fail_reason = talloc_strdup(w, m->reason);
	w->tunnel_answered = true;
	return 0;
}

/* Tunnel MTU per protocol.md §7.2: the link MTU as the client and this TCP connection
 * see it, minus the IP and UDP headers and the DTLS record overhead with its payload
 * header (the chosen cipher's, or AES-GCM's when there is no DTLS). */
static void compute_mtu(struct worker *w, const struct http_request *req, unsigned dtls_overhead)
{
	unsigned ip_udp = strchr(w->init->client_ip, ':') ? 48 : 28;
	unsigned overhead = dtls_overhead ? dtls_overhead : DTLS_AES_GCM_OVERHEAD;
	unsigned link = w->link_mtu ? w->link_mtu : 1500;

	if (req->cstp_base_mtu >= 1280 && req->cstp_base_mtu < link)
		link = req->cstp_base_mtu;
	else if (!req->cstp_base_mtu && req->cstp_mtu >= 576 &&
		 req->cstp_mtu + ip_udp + overhead < link)
		link = req->cstp_mtu + ip_udp + overhead;
	if (link > 1500 && !req->cstp_base_mtu)
		link = 1500;
	w->base_mtu = link;
	w->mtu = link - ip_udp - overhead;
}

unsigned worker_idle_timeout(const struct worker *w)
{
	const MwTunnelOk *in = w->sess;

	if (w->mobile && in->has_mobile_idle_timeout && in->mobile_idle_timeout)
		return in->mobile_idle_timeout;
	return in->idle_timeout;
}

static bool is_mobile(const char *platform)
{
	return platform &&
	       (strcasecmp(platform, "android") == 0 || strcasecmp(platform, "apple-ios") == 0);
}

/* Asks main for a tunnel and waits for its answer; nothing else may arrive then. */
static int request_tunnel(struct worker *w, const struct http_request *req)
{
	MwTunnelReq m = MW_TUNNEL_REQ__INIT;
	struct pollfd pfd = {.fd = WORKER_FD_MAIN, .events = POLLIN};
	int ret;

	w->mobile = is_mobile(req->platform);
	compute_mtu(w, req, dtls_choose(w, req));
	w->cstp_comp = comp_choose(req->cstp_accept_encoding, w->init->compression,
				   w->init->n_compression);
	w->dtls_comp = comp_choose(req->dtls_accept_encoding, w->init->compression,
				   w->init->n_compression);
	m.cookie.data = (uint8_t *)req->cookie_webvpn;
	m.cookie.len = strlen(req->cookie_webvpn);
	m.hostname = (char *)req->cstp_hostname;
	m.user_agent = (char *)req->user_agent;
	m.device_type = (char *)req->device_type;
	m.device_platform = (char *)req->platform;
	m.requested_ipv4 = (char *)req->cstp_address;
	m.requested_ipv6 = (char *)req->cstp_address_ip6;
	/* openconnect --disable-ipv6 sends "IPv4" and no IPv6 capability. */
	m.has_ipv6 = true;
	m.ipv6 = !req->cstp_address_type || strstr(req->cstp_address_type, "IPv6");
	w->full_ipv6 = req->cstp_full_ipv6 && strcasecmp(req->cstp_full_ipv6, "true") == 0;
	m.mtu = w->mtu;
	m.has_base_mtu = true;
	m.base_mtu = w->base_mtu;
	m.has_mobile = true;
	m.mobile = w->mobile;
	ret = ipc_send(WORKER_FD_MAIN, MW_TYPE__MW_TUNNEL_REQ, &m.base, NULL, 0);
	if (ret < 0)
		return ret;
	w->state = WK_WAIT;
	while (!w->tunnel_answered) {
		ret = poll(&pfd, 1, 30000);
		if (ret <= 0)
			return ret == 0 ? -ETIMEDOUT : -errno;
		ret = ipc_recv_dispatch(&w->main_ch, w->state, w);
		if (ret == IPC_CLOSED)
			return -EPIPE;
		if (ret < 0 && ret != -EAGAIN)
			return ret;
	}
	return 0;
}

/* A CONNECT. decoy_at is set when camouflage lets it in only for a session cookie main
 * accepts: a refusal then gets the decoy (at that time), not the VPN's answer. */
static int handle_connect(struct worker *w, struct http_parser *hp, const struct http_request *req,
			  const struct timespec *decoy_at)
{
	char *resp;
	int ret;

	if (strcmp(req->path, "/CSCOSSLC/tunnel") != 0) {
		send_response(w, 404, NULL, NULL, false);
		return 0;
	}
	/* main would take a cookie longer than any it issues for a protocol violation. */
	if (!req->cookie_webvpn || !req->cookie_webvpn[0] ||
	    strlen(req->cookie_webvpn) > SESSION_COOKIE_MAX) {
		w->fail_code = 401;
		w->fail_reason = talloc_strdup(w, "no valid cookie");
	} else if ((ret = request_tunnel(w, req)) < 0) {
		log_err("tunnel request: %s", strerror(-ret));
		worker_exit(w, WEXIT_IPC);
	}
	if (w->fail_code) {
		char *hdr = talloc_asprintf(w, "X-Reason: %s\r\n", w->fail_reason);

		log_info("tunnel refused (%u): %s", w->fail_code, w->fail_reason);
		if (decoy_at)
			send_decoy(w, req, decoy_at, false);
		else
			send_response(w, w->fail_code, w->fail_code == 503 ? hdr : NULL, NULL,
				      false);
		return 0;
	}
	/* Kept in a buffer of their size: usually none. */
	w->n_early = http_parser_leftover(hp);
	if (w->n_early > WORKER_EARLY_MAX) {
		log_info("too much data right after CONNECT");
		worker_exit(w, WEXIT_CLIENT);
	}
	if (w->n_early) {
		w->early = talloc_size(w, w->n_early);
		if (!w->early)
			worker_exit(w, WEXIT_CLIENT);
		http_parser_take_leftover(hp, w->early, w->n_early);
	}
	resp = http_connect_response(w, worker_connect_headers(w));
	if (!resp || tls_send_all(w, resp, strlen(resp)) < 0)
		worker_exit(w, WEXIT_CLIENT);
	w->state = WK_TUNNEL;
	/* What authentication needed is no longer (tunnel_run() gives its pages back). */
	talloc_free(hp);
	worker_exit(w, tunnel_run(w));
}

/* Serves HTTP requests until the tunnel starts or the connection ends. */
static int http_phase(struct worker *w)
{
	struct http_parser *hp = http_parser_new(w);
	/* On the heap, not the stack: freed with the parser when the tunnel starts, where
	 * stack pages, once touched, would stay with the session. */
	uint8_t *buf = hp ? talloc_size(hp, HTTP_READ_CAP) : NULL;
	unsigned served = 0;

	if (!buf)
		return WEXIT_CLIENT;
	for (;;) {
		ssize_t n = tls_recv_deadline(w, buf, HTTP_READ_CAP);
		int ret;

		if (n == -ETIMEDOUT) {
			log_info("auth-timeout: no tunnel after %u s", w->init->auth_timeout);
			return WEXIT_CLIENT;
		}
		if (n <= 0)
			return n == 0 ? WEXIT_OK : WEXIT_CLIENT;
		ret = http_parser_feed(hp, buf, (size_t)n);
		while (ret == HTTP_DONE) {
			const struct http_request *req = http_parser_request(hp);
			struct timespec due = decoy_due();
			enum camo_verdict v = camo_decide(&w->camo, w->camo_passed, req);

			if (v == CAMO_PASS)
				w->camo_passed = true;
			if (++served > MAX_HTTP_REQUESTS) {
				if (v == CAMO_PASS)
					send_response(w, 400, NULL, NULL, false);
				else
					send_decoy(w, req, &due, false);
				return WEXIT_CLIENT;
			}
			if (v == CAMO_DECOY)
				ret = send_decoy(w, req, &due, true);
			else if (req->method == HTTP_CONNECT)
				ret = handle_connect(w, hp, req, v == CAMO_COOKIE ? &due : NULL);
			else if (req->method == HTTP_GET && worker_profile_path(req->path))
				ret = worker_profile_get(w, req);
			else if (req->method == HTTP_POST || req->method == HTTP_GET)
				ret = handle_auth_request(w, req);
			else
				ret = send_response(w, 405, NULL, NULL, false) < 0 ? -EIO : 0;
			if (ret <= 0)
				return ret == 0 ? WEXIT_OK : WEXIT_CLIENT;
			ret = http_parser_next(hp);
		}
		if (ret < 0) {
			unsigned status = http_parser_status(hp);
			struct timespec due = decoy_due();

			if (camo_decide(&w->camo, w->camo_passed, NULL) == CAMO_DECOY) {
				log_info("bad HTTP request from %s: answering with the decoy",
					 w->init->client_ip);
				send_decoy(w, NULL, &due, false);
			} else {
				log_info("bad HTTP request from %s: answering %u",
					 w->init->client_ip, status);
				send_response(w, status ? status : 400, NULL, NULL, false);
			}
			return WEXIT_CLIENT;
		}
	}
}

static unsigned tcp_path_mtu(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0 || ti.tcpi_pmtu == 0)
		return 0;
	return ti.tcpi_pmtu;
}

static MwInit *read_init(struct worker *w)
{
	MwInit *init = NULL;
	int ret =
	    ipc_recv_expect(WORKER_FD_MAIN, MW_TYPE__MW_INIT, &mw_init__descriptor,
			    WORKER_INIT_MAX_PAYLOAD, w, (void **)&init, NULL, 0, INIT_TIMEOUT_MS);

	return ret < 0 ? NULL : init;
}

int main(int argc, char **argv)
{
	struct worker *w;
	int ret;

	signal(SIGPIPE, SIG_IGN);
	if (argc == 2 && strcmp(argv[1], "--template") == 0)
		template_run(argv[1]);
	if (fcntl(WORKER_FD_MAIN, F_GETFD) < 0 || fcntl(WORKER_FD_SEC, F_GETFD) < 0 ||
	    fcntl(WORKER_FD_CLIENT, F_GETFD) < 0) {
		fprintf(stderr, "sluice-worker is started by sluiced, not by hand\n");
		return WEXIT_USAGE;
	}
	self = w = talloc_zero(NULL, struct worker);
	w->client_fd = WORKER_FD_CLIENT;
	w->sec_fd = WORKER_FD_SEC;
	w->tun_fd = -1;
	w->state = WK_AUTH;
	log_init("sluice-worker", 1, LOG_INFO);
	log_set_sink(log_to_main);

	/* 1. start-up state from main, before anything else */
	w->init = read_init(w);
	if (!w->init)
		worker_exit(w, WEXIT_INIT_MSG);
	log_init("sluice-worker", 1, (int)w->init->log_level);
	/* main puts the worker's identity in front of every line. */
	ipc_channel_init(&w->main_ch, WORKER_FD_MAIN, worker_from_main,
			 sizeof(worker_from_main) / sizeof(worker_from_main[0]),
			 WORKER_MAIN_MAX_PAYLOAD, "main");

	if (camo_init(&w->camo, w->init->camouflage_secret, w->init->camouflage_realm) < 0)
		worker_exit(w, WEXIT_INIT_MSG);
	w->http_headers = configured_headers(w);

	/* 2. libraries and public material, while files and syscalls are still allowed */
	if (tls_init(w) < 0 || auth_body_init() < 0)
		worker_exit(w, WEXIT_TLS_INIT);
	w->loop = ev_default_loop(EVBACKEND_EPOLL);
	if (!w->loop)
		worker_exit(w, WEXIT_TLS_INIT);
	w->link_mtu = tcp_path_mtu(w->client_fd);

	/* 3-4. drop to run-as-user/group and prove root cannot come back (a worker forked
	 * by the template was never root: only the proof runs) */
	ret = privdrop(w->init->uid, w->init->gid);
	if (ret == -EACCES)
		worker_exit(w, WEXIT_ROOT_REGAINED);
	if (ret < 0)
		worker_exit(w, WEXIT_PRIVDROP);

	/* 5. limits, no core dumps or ptrace by same-uid processes, no new privileges */
	if (worker_limits() < 0)
		worker_exit(w, WEXIT_LIMITS);

	/* 6. the seccomp filter; only now is the client's first byte read */
	if (sandbox_install() < 0)
		worker_exit(w, WEXIT_SECCOMP);

	w->auth_deadline = ev_time() + w->init->auth_timeout;
	if (tls_handshake(w) < 0)
		worker_exit(w, WEXIT_CLIENT);
	worker_exit(w, http_phase(w));
}
