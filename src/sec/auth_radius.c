/* auth = "radius[config=FILE,groupconfig=true,nas-identifier=NAME]": a RADIUS login
 * through radcli, in an auth helper.
 *
 * The helper reads radcli's configuration (and with it the servers file that holds the
 * shared secret) while it is still root, then runs as run-as-user under its own seccomp
 * filter. An Access-Request carries the user's name and password, Calling-Station-Id
 * (the client's address), NAS-Identifier, Service-Type Framed-User and NAS-Port-Type
 * Virtual. An Access-Challenge is a second form: its Reply-Message is the prompt, the
 * user's answer goes back as User-Password with the server's State, for as many rounds
 * as the server asks (bounded). From an Access-Accept the helper passes on what sec
 * turns into the session's settings (see SaResult in sec_auth.proto); sec checks every
 * value again. Attributes sec does not know are left alone; a value that does not parse
 * is dropped with a log line. */
#include "config.h"

#include "sec/auth_helper.h"

#include <arpa/inet.h>
#include <errno.h>
#include <radcli/radcli.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

/* Challenge rounds one login may take. */
#define RADIUS_MAX_ROUNDS 8
/* Vendors whose attributes ocserv honours (radcli's dictionary.microsoft and
 * dictionary.roaringpenguin must be included in the dictionary for them). */
#define VENDOR_MICROSOFT      311
#define MS_PRIMARY_DNS        28
#define MS_SECONDARY_DNS      29
#define VENDOR_ROARINGPENGUIN 10055
#define RP_UPSTREAM_LIMIT     1 /* kbit/s, from the client */
#define RP_DOWNSTREAM_LIMIT   2 /* kbit/s, to the client */
#define NAS_PORT_TYPE_VIRTUAL 5
/* CoovaChilli's data allowance, the attribute RADIUS servers use for one (no standard
 * attribute has it). */
#define VENDOR_CHILLISPOT     14559
#define CHILLI_MAX_TOTAL      3 /* bytes in + out */

static rc_handle *rh;

/* The secret of server name in radcli's servers file (lines "server secret", or
 * "client/server secret"), or NULL. */
static char *servers_file_secret(FILE *f, const char *name)
{
	char line[512];

	rewind(f);
	while (fgets(line, sizeof(line), f)) {
		char *save = NULL, *host = strtok_r(line, " \t\n", &save);
		char *secret = host ? strtok_r(NULL, " \t\n", &save) : NULL;
		char *slash = host ? strchr(host, '/') : NULL;

		if (!host || *host == '#' || !secret)
			continue;
		if (strcmp(slash ? slash + 1 : host, name) == 0) {
			char *copy = strdup(secret);

			explicit_bzero(line, sizeof(line));
			return copy;
		}
	}
	explicit_bzero(line, sizeof(line));
	return NULL;
}

/* radcli reads the servers file at every request, and the helper will no longer be
 * allowed to (it is root's, 0600): each server's secret is put in radcli's own table
 * now, which radcli looks at first. */
static int load_secrets(const char *path)
{
	static const char *const opts[] = {"authserver", "acctserver"};
	const char *servers = rc_conf_str(rh, "servers");
	FILE *f = servers ? fopen(servers, "re") : NULL;
	int ret = 0;

	for (size_t o = 0; o < sizeof(opts) / sizeof(opts[0]); o++) {
		SERVER *srv = rc_conf_srv(rh, opts[o]);

		for (int i = 0; srv && i < srv->max; i++) {
			if (srv->secret[i])
				continue;
			srv->secret[i] = f ? servers_file_secret(f, srv->name[i]) : NULL;
			if (!srv->secret[i]) {
				log_err("radius: %s: no secret for %s %s in %s", path, opts[o],
					srv->name[i], servers ? servers : "(no servers file)");
				ret = -EINVAL;
			}
		}
	}
	if (f)
		fclose(f);
	return ret;
}

int auth_radius_prepare(const char *config)
{
	rh = rc_read_config(config);
	if (!rh) {
		log_err("radius: cannot read radcli configuration %s (see radcli's messages above)",
			config);
		return -EINVAL;
	}
	return load_secrets(config);
}

static char *ipv4_text(TALLOC_CTX *ctx, uint32_t host_order)
{
	struct in_addr a = {htonl(host_order)};
	char buf[INET_ADDRSTRLEN];

	return talloc_strdup(ctx, inet_ntop(AF_INET, &a, buf, sizeof(buf)));
}

static char *ipv6_text(TALLOC_CTX *ctx, VALUE_PAIR *vp, bool with_prefix)
{
	struct in6_addr a;
	unsigned prefix = 128;
	char buf[INET6_ADDRSTRLEN];

	if (rc_avpair_get_in6(vp, &a, &prefix) < 0 || !inet_ntop(AF_INET6, &a, buf, sizeof(buf)))
		return NULL;
	return with_prefix ? talloc_asprintf(ctx, "%s/%u", buf, prefix) : talloc_strdup(ctx, buf);
}

static void add_text(TALLOC_CTX *ctx, char ***list, size_t *n, const char *text, size_t max)
{
	char **grown;

	if (!text || *n >= max || strlen(text) >= AUTH_HELPER_MAX_TEXT)
		return;
	grown = talloc_realloc(ctx, *list, char *, *n + 1);
	if (!grown)
		return;
	*list = grown;
	grown[*n] = talloc_strdup(grown, text);
	if (grown[*n])
		(*n)++;
}

/* Class "OU=g1;g2" (several groups in one), or one group per Class. */
static void class_groups(TALLOC_CTX *ctx, SaResult *r, const char *v)
{
	char *copy, *save = NULL;

	if (strncmp(v, "OU=", 3) == 0)
		v += 3;
	copy = talloc_strdup(ctx, v);
	for (char *g = copy ? strtok_r(copy, ";", &save) : NULL; g; g = strtok_r(NULL, ";", &save))
		if (*g)
			add_text(ctx, &r->groups, &r->n_groups, g, AUTH_HELPER_MAX_GROUPS);
	talloc_free(copy);
}

/* Framed-Route: "network/len [gateway [metric]]"; sec checks the network. */
static void framed_route(TALLOC_CTX *ctx, SaResult *r, const char *v)
{
	char *net = talloc_strndup(ctx, v, strcspn(v, " \t"));

	add_text(ctx, &r->routes, &r->n_routes, net, AUTH_HELPER_MAX_ROUTES);
	talloc_free(net);
}

static void set_uint(uint32_t *field, protobuf_c_boolean *has, uint32_t v)
{
	*field = v;
	*has = true;
}

/* What an Access-Accept says about the session. */
static void accept_attributes(const struct sluice_config *c, TALLOC_CTX *ctx, VALUE_PAIR *recv,
			      SaResult *r)
{
	char **filter_ids = NULL;
	size_t n_filter_ids = 0;

	for (VALUE_PAIR *vp = recv; vp; vp = rc_avpair_next(vp)) {
		unsigned type, id;

		rc_avpair_get_attr(vp, &type, &id);
		switch (VENDOR(id) << 16 | ATTRID(id)) {
		case PW_FRAMED_IP_ADDRESS:
			r->framed_ipv4 = ipv4_text(ctx, vp->lvalue);
			break;
		case PW_FRAMED_IP_NETMASK:
			r->framed_ipv4_netmask = ipv4_text(ctx, vp->lvalue);
			break;
		case PW_FRAMED_ROUTE:
			framed_route(ctx, r, vp->strvalue);
			break;
		case PW_FRAMED_IPV6_ADDRESS:
			r->framed_ipv6 = ipv6_text(ctx, vp, false);
			break;
		case PW_FRAMED_IPV6_PREFIX:
			r->framed_ipv6_prefix = ipv6_text(ctx, vp, true);
			break;
		case PW_DNS_SERVER_IPV6_ADDRESS:
			add_text(ctx, &r->dns, &r->n_dns, ipv6_text(ctx, vp, false), AUTH_HELPER_MAX_DNS);
			break;
		case VENDOR_MICROSOFT << 16 | MS_PRIMARY_DNS:
		case VENDOR_MICROSOFT << 16 | MS_SECONDARY_DNS:
			add_text(ctx, &r->dns, &r->n_dns, ipv4_text(ctx, vp->lvalue), AUTH_HELPER_MAX_DNS);
			break;
		case PW_SESSION_TIMEOUT:
			set_uint(&r->session_timeout, &r->has_session_timeout, vp->lvalue);
			break;
		case PW_IDLE_TIMEOUT:
			set_uint(&r->idle_timeout, &r->has_idle_timeout, vp->lvalue);
			break;
		case PW_ACCT_INTERIM_INTERVAL:
			set_uint(&r->interim_interval, &r->has_interim_interval, vp->lvalue);
			break;
		case VENDOR_ROARINGPENGUIN << 16 | RP_UPSTREAM_LIMIT:
			set_uint(&r->rx_kbps, &r->has_rx_kbps, vp->lvalue);
			break;
		case VENDOR_ROARINGPENGUIN << 16 | RP_DOWNSTREAM_LIMIT:
			set_uint(&r->tx_kbps, &r->has_tx_kbps, vp->lvalue);
			break;
		case VENDOR_CHILLISPOT << 16 | CHILLI_MAX_TOTAL:
			r->has_quota_bytes = true;
			r->quota_bytes = vp->lvalue;
			break;
		case PW_CLASS:
			if (c->radius_groupconfig)
				class_groups(ctx, r, vp->strvalue);
			break;
		case PW_FILTER_ID:
			if (c->radius_groupconfig)
				add_text(ctx, &filter_ids, &n_filter_ids, vp->strvalue,
					 AUTH_HELPER_MAX_GROUPS);
			break;
		default:
			break;
		}
	}
	/* Filter-Id names the group when no Class does. */
	if (r->n_groups == 0) {
		r->groups = talloc_steal(ctx, filter_ids);
		r->n_groups = n_filter_ids;
	}
}

/* A challenge's State, sent back with the answer. */
struct radius_state {
	char data[AUTH_STRING_LEN];
	unsigned len; /* 0: none */
};

/* The request of one round: the password (or the answer to a challenge), and the
 * server's State when it sent one. NULL when radcli cannot build it. */
static VALUE_PAIR *request(const struct sluice_config *c, const SaLogin *l, const char *password,
			   const struct radius_state *state)
{
	VALUE_PAIR *send = NULL;
	uint32_t service = PW_FRAMED, port_type = NAS_PORT_TYPE_VIRTUAL;

	if (!rc_avpair_add(rh, &send, PW_USER_NAME, l->username, -1, 0) ||
	    !rc_avpair_add(rh, &send, PW_USER_PASSWORD, password, -1, 0) ||
	    !rc_avpair_add(rh, &send, PW_CALLING_STATION_ID, l->client_ip, -1, 0) ||
	    !rc_avpair_add(rh, &send, PW_SERVICE_TYPE, &service, -1, 0) ||
	    !rc_avpair_add(rh, &send, PW_NAS_PORT_TYPE, &port_type, -1, 0) ||
	    (c->radius_nas_identifier &&
	     !rc_avpair_add(rh, &send, PW_NAS_IDENTIFIER, c->radius_nas_identifier, -1, 0)) ||
	    (state->len && !rc_avpair_add(rh, &send, PW_STATE, state->data, (int)state->len, 0))) {
		rc_avpair_free(send);
		return NULL;
	}
	return send;
}

/* The prompt of a challenge and its State; false when there is no State to answer. */
static bool challenge(VALUE_PAIR *recv, struct radius_state *state, bool *echo)
{
	VALUE_PAIR *s = rc_avpair_get(recv, PW_STATE, 0);
	VALUE_PAIR *prompt = rc_avpair_get(recv, PW_PROMPT, 0);
	char *raw;
	unsigned len;

	*echo = prompt && prompt->lvalue == 1;
	if (!s || rc_avpair_get_raw(s, &raw, &len) < 0 || len == 0 || len > sizeof(state->data))
		return false;
	memcpy(state->data, raw, len);
	state->len = len;
	return true;
}

void auth_radius_login(const struct sluice_config *c, TALLOC_CTX *ctx, const SaLogin *l,
		       struct auth_conv *conv, SaResult *r)
{
	char msg[PW_MAX_MSG_SIZE];
	const char *password = l->password;
	struct radius_state state = {.len = 0};
	VALUE_PAIR *recv = NULL, *send;
	int ret = ERROR_RC;

	for (unsigned round = 0; round < RADIUS_MAX_ROUNDS; round++) {
		bool echo;

		send = request(c, l, password, &state);
		if (!send) {
			ret = ERROR_RC;
			break;
		}
		msg[0] = '\0';
		recv = NULL;
		ret = rc_aaa(rh, 0, send, &recv, msg, 0, PW_ACCESS_REQUEST);
		rc_avpair_free(send);
		if (ret != CHALLENGE_RC)
			break;
		if (!challenge(recv, &state, &echo)) {
			ret = BADRESP_RC;
			break;
		}
		rc_avpair_free(recv);
		recv = NULL;
		msg[sizeof(msg) - 1] = '\0';
		password = conv->ask(conv, ctx, msg[0] ? msg : "Please enter your one-time password.",
				     echo);
		if (!password) {
			ret = ERROR_RC;
			break;
		}
	}
	msg[sizeof(msg) - 1] = '\0';
	switch (ret) {
	case OK_RC:
		r->ok = true;
		accept_attributes(c, ctx, recv, r);
		break;
	case REJECT_RC:
		r->reason = msg[0] ? talloc_asprintf(ctx, "RADIUS: Access-Reject: %.120s", msg)
				   : talloc_strdup(ctx, "RADIUS: Access-Reject");
		break;
	case CHALLENGE_RC:
		r->reason = talloc_strdup(ctx, "RADIUS: too many challenges");
		break;
	case TIMEOUT_RC:
		r->has_backend_error = r->backend_error = true;
		r->reason = talloc_strdup(ctx, "RADIUS: no answer from the server");
		break;
	case BADRESP_RC:
		r->has_backend_error = r->backend_error = true;
		r->reason = talloc_strdup(ctx, "RADIUS: a challenge without State");
		break;
	default:
		r->has_backend_error = r->backend_error = true;
		r->reason = talloc_asprintf(ctx, "RADIUS: request failed (%d)", ret);
		break;
	}
	rc_avpair_free(recv);
}

/* --- accounting ----------------------------------------------------------------------- */

/* A 64-bit count as RADIUS carries it: the low 32 bits, and the gigawords. */
static bool add_octets(VALUE_PAIR **send, int attr, int giga_attr, uint64_t v)
{
	uint32_t low = (uint32_t)v, high = (uint32_t)(v >> 32);

	return rc_avpair_add(rh, send, attr, &low, -1, 0) &&
	       rc_avpair_add(rh, send, giga_attr, &high, -1, 0);
}

static bool add_u32(VALUE_PAIR **send, int attr, bool has, uint32_t v)
{
	return !has || rc_avpair_add(rh, send, attr, &v, -1, 0);
}

static bool add_ipv6(VALUE_PAIR **send, const char *text)
{
	struct in6_addr a;

	/* A Framed-IPv6-Address radcli's dictionary may not know: then none. */
	if (!text || inet_pton(AF_INET6, text, &a) != 1)
		return true;
	rc_avpair_add(rh, send, PW_FRAMED_IPV6_ADDRESS, &a, sizeof(a), 0);
	return true;
}

int auth_radius_account(const struct sluice_config *c, const AcctRecord *r, char *why, size_t len)
{
	VALUE_PAIR *send = NULL, *recv = NULL;
	uint32_t status = r->status, service = PW_FRAMED, port_type = NAS_PORT_TYPE_VIRTUAL;
	struct in_addr a4;
	char msg[PW_MAX_MSG_SIZE] = "";
	bool ok;
	int ret;

	ok = rc_avpair_add(rh, &send, PW_ACCT_STATUS_TYPE, &status, -1, 0) &&
	     rc_avpair_add(rh, &send, PW_ACCT_SESSION_ID, r->sid, -1, 0) &&
	     rc_avpair_add(rh, &send, PW_USER_NAME, r->username, -1, 0) &&
	     rc_avpair_add(rh, &send, PW_CALLING_STATION_ID, r->client_ip, -1, 0) &&
	     rc_avpair_add(rh, &send, PW_SERVICE_TYPE, &service, -1, 0) &&
	     rc_avpair_add(rh, &send, PW_NAS_PORT_TYPE, &port_type, -1, 0) &&
	     (!c->acct_nas_identifier ||
	      rc_avpair_add(rh, &send, PW_NAS_IDENTIFIER, c->acct_nas_identifier, -1, 0));
	if (ok && r->vpn_ipv4 && inet_pton(AF_INET, r->vpn_ipv4, &a4) == 1) {
		uint32_t host = ntohl(a4.s_addr);

		ok = rc_avpair_add(rh, &send, PW_FRAMED_IP_ADDRESS, &host, -1, 0) != NULL;
	}
	ok = ok && add_ipv6(&send, r->vpn_ipv6);
	if (ok && r->status != PW_STATUS_START) {
		ok = add_octets(&send, PW_ACCT_INPUT_OCTETS, PW_ACCT_INPUT_GIGAWORDS, r->octets_in) &&
		     add_octets(&send, PW_ACCT_OUTPUT_OCTETS, PW_ACCT_OUTPUT_GIGAWORDS,
				r->octets_out) &&
		     add_u32(&send, PW_ACCT_INPUT_PACKETS, r->has_packets_in,
			     r->packets_in > UINT32_MAX ? UINT32_MAX : (uint32_t)r->packets_in) &&
		     add_u32(&send, PW_ACCT_OUTPUT_PACKETS, r->has_packets_out,
			     r->packets_out > UINT32_MAX ? UINT32_MAX : (uint32_t)r->packets_out) &&
		     add_u32(&send, PW_ACCT_SESSION_TIME, r->has_session_time, r->session_time) &&
		     add_u32(&send, PW_ACCT_TERMINATE_CAUSE, r->has_terminate_cause,
			     r->terminate_cause);
	}
	if (!ok) {
		rc_avpair_free(send);
		snprintf(why, len, "radcli cannot build the request");
		return -ENOMEM;
	}
	ret = rc_aaa(rh, 0, send, &recv, msg, 0, PW_ACCOUNTING_REQUEST);
	rc_avpair_free(send);
	rc_avpair_free(recv);
	if (ret == OK_RC)
		return 0;
	snprintf(why, len, "%s", ret == TIMEOUT_RC ? "no answer from the RADIUS server"
						   : "the RADIUS server refused it");
	return -EIO;
}
