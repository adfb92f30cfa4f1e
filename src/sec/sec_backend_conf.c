/* What a RADIUS server says about a session (an Access-Accept's attributes, as the auth
 * helper passed them on), turned into per-user settings that go over the user's and
 * group's files, as ocserv applies them:
 *
 *   Framed-IP-Address            explicit-ipv4
 *   Framed-IP-Netmask            ipv4-network (the address's network) and ipv4-netmask
 *   Framed-Route                 route (one each)
 *   Framed-IPv6-Address          explicit-ipv6
 *   Framed-IPv6-Prefix           ipv6-network (the user's IPv6 pool)
 *   MS-*-DNS-Server, DNS-Server-IPv6-Address   dns
 *   Session-Timeout              session-timeout
 *   Idle-Timeout                 idle-timeout
 *   Acct-Interim-Interval        stats-report-time
 *   RP-Upstream/Downstream-Speed-Limit (kbit/s)  rx-data-per-sec / tx-data-per-sec (bytes/s)
 *   ChilliSpot-Max-Total-Octets  session-quota-bytes
 *
 * The helper talks to the network, so every value is checked here again: a value that
 * does not parse is dropped with a log line, and the text is parsed once more as a
 * per-user file when it is merged (sec_userconf.c). */
#include "config.h"

#include "sec/sec.h"

#include <arpa/inet.h>
#include <string.h>

#include "common/log.h"
#include "common/netaddr.h"
#include "ipc/sec_auth.pb-c.h"

struct conf_text {
	char *text;
	const char *user;
};

static void add_line(struct conf_text *t, const char *key, const char *value)
{
	if (t->text)
		t->text = talloc_asprintf_append(t->text, "%s = %s\n", key, value);
}

static void add_uint(struct conf_text *t, const char *key, bool has, uint32_t v)
{
	char num[16];

	if (!has)
		return;
	snprintf(num, sizeof(num), "%u", v);
	add_line(t, key, num);
}

static bool is_addr(int family, const char *s)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return s && strlen(s) < INET6_ADDRSTRLEN && inet_pton(family, s, buf) == 1;
}

static void dropped(const struct conf_text *t, const char *what, const char *value)
{
	log_warn("RADIUS reply for %s: %s '%.64s' is not valid; ignored", t->user, what,
		 value ? value : "");
}

/* Framed-IP-Address, with its network when Framed-IP-Netmask came too. */
static void ipv4_lines(struct conf_text *t, const SaResult *r)
{
	struct in_addr a, m;
	char net[INET_ADDRSTRLEN];
	unsigned len = 0;

	if (!r->framed_ipv4)
		return;
	if (!is_addr(AF_INET, r->framed_ipv4)) {
		dropped(t, "Framed-IP-Address", r->framed_ipv4);
		return;
	}
	add_line(t, "explicit-ipv4", r->framed_ipv4);
	if (!r->framed_ipv4_netmask)
		return;
	if (!is_addr(AF_INET, r->framed_ipv4_netmask)) {
		dropped(t, "Framed-IP-Netmask", r->framed_ipv4_netmask);
		return;
	}
	inet_pton(AF_INET, r->framed_ipv4, &a);
	inet_pton(AF_INET, r->framed_ipv4_netmask, &m);
	for (uint32_t bits = ntohl(m.s_addr); bits & 0x80000000u; bits <<= 1)
		len++;
	/* A contiguous mask that leaves room for the client and the server. */
	if (len < 8 || len > 30 || (len < 32 && (ntohl(m.s_addr) << len) != 0)) {
		dropped(t, "Framed-IP-Netmask", r->framed_ipv4_netmask);
		return;
	}
	a.s_addr &= m.s_addr;
	if (!inet_ntop(AF_INET, &a, net, sizeof(net)))
		return;
	add_line(t, "ipv4-network", net);
	add_line(t, "ipv4-netmask", r->framed_ipv4_netmask);
}

/* Framed-IPv6-Prefix: the network the user's IPv6 addresses come from (a per-user
 * ipv6-network, 16 to 126 bits as the key takes it). */
static void ipv6_prefix_line(struct conf_text *t, const char *prefix)
{
	struct netaddr net;
	unsigned len;
	char text[NETADDR_PREFIX_STRLEN], addr[INET6_ADDRSTRLEN];

	if (!prefix)
		return;
	if (netaddr_prefix_parse(prefix, &net, &len) < 0 || net.family != AF_INET6 || len < 16 ||
	    len > 126) {
		dropped(t, "Framed-IPv6-Prefix", prefix);
		return;
	}
	netaddr_mask(&net, len);
	snprintf(text, sizeof(text), "%s/%u", netaddr_text(&net, addr, sizeof(addr)), len);
	add_line(t, "ipv6-network", text);
}

char *sec_backend_conf(TALLOC_CTX *ctx, const char *user, const struct SaResult *r)
{
	struct conf_text t = {talloc_strdup(ctx, ""), user ? user : "(unknown)"};

	ipv4_lines(&t, r);
	if (r->framed_ipv6) {
		if (is_addr(AF_INET6, r->framed_ipv6))
			add_line(&t, "explicit-ipv6", r->framed_ipv6);
		else
			dropped(&t, "Framed-IPv6-Address", r->framed_ipv6);
	}
	ipv6_prefix_line(&t, r->framed_ipv6_prefix);
	for (size_t i = 0; i < r->n_routes; i++) {
		struct netaddr net;
		unsigned prefix;

		if (netaddr_prefix_parse(r->routes[i], &net, &prefix) == 0)
			add_line(&t, "route", r->routes[i]);
		else
			dropped(&t, "Framed-Route", r->routes[i]);
	}
	for (size_t i = 0; i < r->n_dns; i++) {
		if (is_addr(AF_INET, r->dns[i]) || is_addr(AF_INET6, r->dns[i]))
			add_line(&t, "dns", r->dns[i]);
		else
			dropped(&t, "DNS server", r->dns[i]);
	}
	add_uint(&t, "session-timeout", r->has_session_timeout, r->session_timeout);
	add_uint(&t, "idle-timeout", r->has_idle_timeout, r->idle_timeout);
	if (r->has_interim_interval && r->interim_interval > 0)
		add_uint(&t, "stats-report-time", true, r->interim_interval);
	/* kbit/s to bytes/s, within what the keys take. */
	add_uint(&t, "rx-data-per-sec", r->has_rx_kbps,
		 r->rx_kbps > UINT32_MAX / 125 ? UINT32_MAX : r->rx_kbps * 125);
	add_uint(&t, "tx-data-per-sec", r->has_tx_kbps,
		 r->tx_kbps > UINT32_MAX / 125 ? UINT32_MAX : r->tx_kbps * 125);
	if (r->has_quota_bytes && r->quota_bytes) {
		char num[24];

		snprintf(num, sizeof(num), "%llu",
			 (unsigned long long)(r->quota_bytes > 1000000000000000000ull
						  ? 1000000000000000000ull
						  : r->quota_bytes));
		add_line(&t, "session-quota-bytes", num);
	}
	return t.text;
}
