/* The answer to a granted CONNECT: the X-CSTP-* headers (addresses, routes, DNS,
 * timers, MTU, banner, compression) and dtls.c's X-DTLS-* ones, as openconnect 9.01
 * reads them (doc: protocol.md §4.2). */
#include "config.h"

#include "worker/worker.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "worker/compress.h"
#include "worker/tunnel.h"

void worker_add_header(char **h, const char *name, const char *value)
{
	*h = talloc_asprintf_append(*h, "%s: %s\r\n", name, value);
}

/* Percent-encodes what the client percent-decodes (X-CSTP-Banner). */
static char *percent_encode(TALLOC_CTX *ctx, const char *s)
{
	char *out = talloc_strdup(ctx, "");

	for (; out && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == '%' || c >= 0x7f || c == ' ')
			out = talloc_asprintf_append(out, "%%%02X", c);
		else
			out = talloc_asprintf_append(out, "%c", c);
	}
	return out;
}

/* X-CSTP-Address-IP6 for clients that take it, else the legacy pair of X-CSTP-Address
 * and X-CSTP-Netmask as "addr/len" (only when the session has no IPv4 address, which
 * would take that pair). */
static void address6_headers(struct worker *w, char **h)
{
	char *v = talloc_asprintf(*h, "%s/%u", w->vpn_ip6, w->vpn_net6.prefix);

	if (w->full_ipv6) {
		worker_add_header(h, "X-CSTP-Address-IP6", v);
	} else if (!w->has_ip4) {
		worker_add_header(h, "X-CSTP-Address", w->vpn_ip6);
		worker_add_header(h, "X-CSTP-Netmask", v);
	} else {
		log_info("the client cannot take an IPv6 address beside its IPv4 one; IPv4 only");
		w->has_ip6 = false;
	}
}

/* Split-Include or Split-Exclude, per family the session has; "default" is no header
 * (no route of a family sends all of it through the VPN). */
static void route_headers(struct worker *w, char **h, const char *kind, char **items, size_t n)
{
	char name[40];

	for (size_t i = 0; i < n; i++) {
		bool v6 = strchr(items[i], ':');

		if (strcmp(items[i], "default") == 0 || !(v6 ? w->has_ip6 : w->has_ip4))
			continue;
		snprintf(name, sizeof(name), "X-CSTP-Split-%s%s", kind,
			 v6 && w->full_ipv6 ? "-IP6" : "");
		worker_add_header(h, name, items[i]);
	}
}

/* DNS or NBNS servers of the families the session has addresses of; an IPv6 one as
 * NAME-IP6 to a client that takes IPv6 in full (protocol.md). */
static void server_headers(struct worker *w, char **h, const char *name, char **servers, size_t n)
{
	char name6[32];

	snprintf(name6, sizeof(name6), "%s-IP6", name);
	for (size_t i = 0; i < n; i++) {
		bool v6 = strchr(servers[i], ':');

		if (v6 ? w->has_ip6 : w->has_ip4)
			worker_add_header(h, v6 && w->full_ipv6 ? name6 : name, servers[i]);
	}
}

char *worker_connect_headers(struct worker *w)
{
	const MwInit *init = w->init;
	const MwTunnelOk *in = w->sess;
	char *h = talloc_strdup(w, "");
	char num[32];

	worker_add_header(&h, "X-CSTP-Version", "1");
	if (w->has_ip4) {
		worker_add_header(&h, "X-CSTP-Address", inet_ntoa(w->vpn_ip));
		worker_add_header(&h, "X-CSTP-Netmask", w->vpn_netmask);
	}
	if (w->has_ip6)
		address6_headers(w, &h);
	server_headers(w, &h, "X-CSTP-DNS", in->dns, in->n_dns);
	server_headers(w, &h, "X-CSTP-NBNS", in->nbns, in->n_nbns);
	if (in->has_tunnel_all_dns && in->tunnel_all_dns)
		worker_add_header(&h, "X-CSTP-Tunnel-All-DNS", "true");
	if (init->default_domain)
		worker_add_header(&h, "X-CSTP-Default-Domain", init->default_domain);
	for (size_t i = 0; i < in->n_split_dns; i++)
		worker_add_header(&h, "X-CSTP-Split-DNS", in->split_dns[i]);
	route_headers(w, &h, "Include", in->routes, in->n_routes);
	route_headers(w, &h, "Exclude", in->no_routes, in->n_no_routes);
	snprintf(num, sizeof(num), "%u", in->keepalive);
	worker_add_header(&h, "X-CSTP-Keepalive", num);
	snprintf(num, sizeof(num), "%u", w->mobile ? in->mobile_dpd : in->dpd);
	worker_add_header(&h, "X-CSTP-DPD", num);
	snprintf(num, sizeof(num), "%u", worker_idle_timeout(w));
	worker_add_header(&h, "X-CSTP-Idle-Timeout", worker_idle_timeout(w) ? num : "none");
	snprintf(num, sizeof(num), "%u", init->cookie_timeout);
	worker_add_header(&h, "X-CSTP-Disconnected-Timeout", num);
	snprintf(num, sizeof(num), "%u", in->session_timeout);
	worker_add_header(&h, "X-CSTP-Session-Timeout", in->has_session_timeout ? num : "none");
	/* A key update needs TLS 1.3; otherwise the client renews its keys by reconnecting
	 * with its cookie, at the time it is told (tunnel.c updates TLS 1.3 keys). */
	if (in->rekey_time && !tunnel_key_update_applies(w)) {
		snprintf(num, sizeof(num), "%u", in->rekey_time);
		worker_add_header(&h, "X-CSTP-Rekey-Time", num);
		worker_add_header(&h, "X-CSTP-Rekey-Method", "new-tunnel");
	}
	worker_add_header(&h, "X-CSTP-Client-Bypass-Protocol",
			  in->has_client_bypass_protocol && in->client_bypass_protocol ? "true"
										       : "false");
	snprintf(num, sizeof(num), "%u", w->base_mtu);
	worker_add_header(&h, "X-CSTP-Base-MTU", num);
	snprintf(num, sizeof(num), "%u", w->mtu);
	worker_add_header(&h, "X-CSTP-MTU", num);
	if (init->banner && init->banner[0])
		worker_add_header(&h, "X-CSTP-Banner", percent_encode(h, init->banner));
	if (w->cstp_comp)
		worker_add_header(&h, "X-CSTP-Content-Encoding", comp_name(w->cstp_comp));
	dtls_headers(w, &h);
	return h;
}
