/* Address pools: the global ipv4-network, and one for every other network that a
 * per-user or per-group file names (a group of its own addresses, for firewalling).
 * Pools never overlap, so no address can be leased twice. They live as long as main:
 * their leases outlive tunnels, and there are only as many as the files name. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>

#include "common/log.h"
#include "main/main.h"

static bool overlap(struct in_addr a, struct in_addr amask, struct in_addr b,
		    struct in_addr bmask)
{
	uint32_t common = amask.s_addr & bmask.s_addr;

	return (a.s_addr & common) == (b.s_addr & common);
}

struct lease_pool *main_pool_for(struct main_ctx *m, const struct sluice_config *c, char *err,
				 size_t errlen)
{
	struct lease_pool *pool;
	struct lease_pool **grown;
	struct in_addr net, mask;
	char have[INET_ADDRSTRLEN], want[INET_ADDRSTRLEN];

	for (size_t i = 0; i <= m->n_pools; i++) {
		pool = i ? m->pools[i - 1] : m->leases;
		lease_pool_network(pool, &net, &mask);
		if (net.s_addr == c->ipv4_network.s_addr && mask.s_addr == c->ipv4_netmask.s_addr)
			return pool;
		if (overlap(net, mask, c->ipv4_network, c->ipv4_netmask)) {
			inet_ntop(AF_INET, &net, have, sizeof(have));
			inet_ntop(AF_INET, &c->ipv4_network, want, sizeof(want));
			snprintf(err, errlen, "ipv4-network %s/%u overlaps the pool %s/%d", want,
				 c->ipv4_prefix, have, __builtin_popcount(mask.s_addr));
			return NULL;
		}
	}
	grown = talloc_realloc(m, m->pools, struct lease_pool *, m->n_pools + 1);
	pool = grown ? lease_pool_new(m, c->ipv4_network, c->ipv4_netmask) : NULL;
	if (grown)
		m->pools = grown;
	if (!pool) {
		snprintf(err, errlen, "cannot create the pool of ipv4-network");
		return NULL;
	}
	m->pools[m->n_pools++] = pool;
	inet_ntop(AF_INET, &c->ipv4_network, want, sizeof(want));
	log_info("address pool %s/%u in use", want, c->ipv4_prefix);
	return pool;
}

void main_pools_release(struct main_ctx *m, const char *sid)
{
	lease_release(m->leases, sid);
	for (size_t i = 0; i < m->n_pools; i++)
		lease_release(m->pools[i], sid);
}
