/* Address pools: the global ipv4-network and ipv6-network, and one for every other
 * network that a per-user or per-group file names (a group of its own addresses, for
 * firewalling). Pools of a family never overlap, so no address can be leased twice. They
 * live as long as main: their leases outlive tunnels, and there are only as many as the
 * files name. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "common/netaddr.h"
#include "main/main.h"

/* The network of pool p as text ("a.b.c.d/len", "fd00::/len"), and whether it equals
 * (*same) or overlaps c's network of p's family. */
static bool pool_clash(const struct lease_pool *p, const struct sluice_config *c, bool *same,
		       char *text, size_t len)
{
	char addr[INET6_ADDRSTRLEN];
	unsigned plen, sub, common;

	if (lease_pool_family(p) == AF_INET) {
		struct in_addr net, mask;
		uint32_t both;

		lease_pool_network(p, &net, &mask);
		plen = (unsigned)__builtin_popcount(mask.s_addr);
		inet_ntop(AF_INET, &net, addr, sizeof(addr));
		snprintf(text, len, "%s/%u", addr, plen);
		*same = net.s_addr == c->ipv4_network.s_addr && plen == c->ipv4_prefix;
		both = mask.s_addr & c->ipv4_netmask.s_addr;
		return (net.s_addr & both) == (c->ipv4_network.s_addr & both);
	}
	{
		struct in6_addr net;

		lease_pool_network6(p, &net, &plen, &sub);
		inet_ntop(AF_INET6, &net, addr, sizeof(addr));
		snprintf(text, len, "%s/%u (/%u per client)", addr, plen, sub);
		*same = memcmp(&net, &c->ipv6_network, 16) == 0 && plen == c->ipv6_prefix &&
			sub == c->ipv6_subnet_prefix;
		common = plen < c->ipv6_prefix ? plen : c->ipv6_prefix;
		return ipv6_prefix_match(net.s6_addr, c->ipv6_network.s6_addr, common);
	}
}

/* c's network of family as text. */
static void config_net_text(const struct sluice_config *c, int family, char *text, size_t len)
{
	char addr[INET6_ADDRSTRLEN];

	if (family == AF_INET)
		inet_ntop(AF_INET, &c->ipv4_network, addr, sizeof(addr));
	else
		inet_ntop(AF_INET6, &c->ipv6_network, addr, sizeof(addr));
	if (family == AF_INET)
		snprintf(text, len, "%s/%u", addr, c->ipv4_prefix);
	else
		snprintf(text, len, "%s/%u (/%u per client)", addr, c->ipv6_prefix,
			 c->ipv6_subnet_prefix);
}

static struct lease_pool *pool_new(struct main_ctx *m, const struct sluice_config *c, int family)
{
	if (family == AF_INET)
		return lease_pool_new(m, c->ipv4_network, c->ipv4_netmask);
	return lease_pool_new6(m, &c->ipv6_network, c->ipv6_prefix, c->ipv6_subnet_prefix);
}

struct lease_pool *main_pool_for(struct main_ctx *m, const struct sluice_config *c, int family,
				 char *err, size_t errlen)
{
	const char *key = family == AF_INET ? "ipv4-network" : "ipv6-network";
	struct lease_pool *global = family == AF_INET ? m->leases : m->leases6;
	struct lease_pool *pool, **grown;
	char have[INET6_ADDRSTRLEN + 32], want[INET6_ADDRSTRLEN + 32];
	bool same;

	for (size_t i = 0; i <= m->n_pools; i++) {
		pool = i ? m->pools[i - 1] : global;
		if (!pool || lease_pool_family(pool) != family)
			continue;
		if (!pool_clash(pool, c, &same, have, sizeof(have)))
			continue;
		if (same)
			return pool;
		config_net_text(c, family, want, sizeof(want));
		snprintf(err, errlen, "%s %s overlaps the pool %s", key, want, have);
		return NULL;
	}
	grown = talloc_realloc(m, m->pools, struct lease_pool *, m->n_pools + 1);
	pool = grown ? pool_new(m, c, family) : NULL;
	if (grown)
		m->pools = grown;
	if (!pool) {
		snprintf(err, errlen, "cannot create the pool of %s", key);
		return NULL;
	}
	m->pools[m->n_pools++] = pool;
	config_net_text(c, family, want, sizeof(want));
	log_info("address pool %s in use", want);
	return pool;
}

int main_pools_start(struct main_ctx *m)
{
	const struct sluice_config *c = m->cfg;

	if (c->ipv4_prefix && !(m->leases = pool_new(m, c, AF_INET))) {
		log_err("ipv4-network: cannot use this pool");
		return -EINVAL;
	}
	if (c->ipv6_prefix && !(m->leases6 = pool_new(m, c, AF_INET6))) {
		log_err("ipv6-network: cannot use this pool");
		return -EINVAL;
	}
	return 0;
}

void main_pools_release(struct main_ctx *m, const char *sid)
{
	if (m->leases)
		lease_release(m->leases, sid);
	if (m->leases6)
		lease_release(m->leases6, sid);
	for (size_t i = 0; i < m->n_pools; i++)
		lease_release(m->pools[i], sid);
}

void main_session_addrs(const struct main_worker *w, struct main_addrs *t)
{
	memset(t, 0, sizeof(*t));
	if (w->pool) {
		struct in_addr local = lease_pool_server_addr(w->pool);

		inet_ntop(AF_INET, &w->vpn_ip, t->ip4, sizeof(t->ip4));
		inet_ntop(AF_INET, &local, t->local4, sizeof(t->local4));
	}
	if (w->pool6) {
		struct in6_addr local = lease_pool_server_addr6(w->pool6);
		struct netaddr net = {.family = AF_INET6};
		char text[INET6_ADDRSTRLEN];

		inet_ntop(AF_INET6, &w->vpn_ip6, t->ip6, sizeof(t->ip6));
		inet_ntop(AF_INET6, &local, t->local6, sizeof(t->local6));
		memcpy(net.a, &w->vpn_ip6, 16);
		netaddr_mask(&net, w->cfg->ipv6_subnet_prefix);
		netaddr_text(&net, text, sizeof(text));
		snprintf(t->prefix6, sizeof(t->prefix6), "%s/%u", text, w->cfg->ipv6_subnet_prefix);
		t->prefix6_len = w->cfg->ipv6_subnet_prefix;
	}
}
