#include "config.h"
#include "main/lease.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "common/hash.h"

/* Offsets are host addresses relative to the network address. Offsets 0
 * (network), 1 (server) and size - 1 (broadcast) are marked used when the
 * pool is made, as are the padding bits of a last word that the pool does not
 * fill, so the free-bit search never needs to know about them. */
#define OFF_SERVER       1u
#define OFF_FIRST_CLIENT 2u
#define WORD_BITS        64u
#define BUCKETS_MIN      64u

struct lease {
	struct lease *next;
	char *sid;
	uint32_t off;
};

/* The address a user held last, so that a client asking for its previous address
 * (X-CSTP-Address) may have that one, and no other. */
struct previous {
	char *username;
	uint32_t off;
	UT_hash_handle hh;
};

struct lease_pool {
	struct previous *previous; /* by username */
	int family;
	uint32_t network; /* IPv4: host byte order */
	uint32_t mask;    /* IPv4: host byte order */
	unsigned __int128 network6; /* IPv6: the network as a number */
	unsigned prefix6, subnet6;  /* IPv6: lengths of the network and of a client's prefix */
	uint32_t size;    /* offsets (addresses or client prefixes), a power of two >= 4 */
	uint64_t *used;
	size_t nwords;
	/* Where the next unhinted search starts: next-fit hands out addresses in
	 * turn, so an address just released is not at once given to someone else. */
	uint32_t cursor;
	size_t count;
	struct lease **buckets;
	size_t nbuckets; /* a power of two */
};

/* FNV-1a: tiny and fixed, so a username maps to the same start address after a
 * restart. It is no defence against chosen collisions, which is fine here:
 * session ids are random strings made by sec, and a username only picks where
 * the probe starts. */
static uint32_t fnv1a32(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++) {
		h ^= (uint8_t)*s;
		h *= 16777619u;
	}
	return h;
}

static bool bit_test(const struct lease_pool *p, uint32_t off)
{
	return p->used[off / WORD_BITS] & (1ull << (off % WORD_BITS));
}

static void bit_set(struct lease_pool *p, uint32_t off)
{
	p->used[off / WORD_BITS] |= 1ull << (off % WORD_BITS);
}

static void bit_clear(struct lease_pool *p, uint32_t off)
{
	p->used[off / WORD_BITS] &= ~(1ull << (off % WORD_BITS));
}

/* The first free offset at or after start, wrapping around; one word per step,
 * so a crowded pool costs size / 64 steps at worst. */
static int find_free(const struct lease_pool *p, uint32_t start, uint32_t *off)
{
	size_t w = start / WORD_BITS;
	uint64_t avail = ~p->used[w] & (~0ull << (start % WORD_BITS));

	/* nwords + 1 rounds: the last one looks again at the first word's bits
	 * below start. */
	for (size_t n = 0; n <= p->nwords; n++) {
		if (avail) {
			*off = (uint32_t)(w * WORD_BITS) + (uint32_t)__builtin_ctzll(avail);
			return 0;
		}
		w = (w + 1) % p->nwords;
		avail = ~p->used[w];
	}
	return -ENOSPC;
}

/* IPv6 addresses as 128-bit numbers, so that offsets are added, not carried by hand. */
static unsigned __int128 u128_from(const struct in6_addr *a)
{
	unsigned __int128 v = 0;

	for (size_t i = 0; i < 16; i++)
		v = v << 8 | a->s6_addr[i];
	return v;
}

static struct in6_addr u128_to(unsigned __int128 v)
{
	struct in6_addr a;

	for (size_t i = 16; i-- > 0; v >>= 8)
		a.s6_addr[i] = (uint8_t)v;
	return a;
}

/* The client address of an offset: the prefix's first address + 1 (a /128 is the
 * address itself). */
static struct in6_addr off_to_addr6(const struct lease_pool *p, uint32_t off)
{
	unsigned __int128 v = p->network6 + ((unsigned __int128)off << (128 - p->subnet6));

	return u128_to(p->subnet6 < 128 ? v + 1 : v);
}

/* The offset of the prefix that holds a, if a is inside the pool's offsets. */
static bool addr6_to_off(const struct lease_pool *p, const struct in6_addr *a, uint32_t *off)
{
	unsigned __int128 v = u128_from(a) - p->network6;
	unsigned __int128 o = v >> (128 - p->subnet6);

	if (p->prefix6 && (v >> (128 - p->prefix6)) != 0)
		return false; /* outside the network (or below it: v wrapped) */
	if (o >= p->size)
		return false;
	*off = (uint32_t)o;
	return true;
}

void lease_pool_network(const struct lease_pool *p, struct in_addr *network,
			struct in_addr *netmask)
{
	network->s_addr = htonl(p->network);
	netmask->s_addr = htonl(p->mask);
}

/* uthash keeps the table of previous addresses outside talloc: freed with the pool. */
static int pool_destructor(struct lease_pool *p)
{
	HASH_CLEAR(hh, p->previous);
	return 0;
}

/* A pool of size offsets, the first, second and last reserved. */
static struct lease_pool *pool_new(TALLOC_CTX *ctx, int family, uint32_t size)
{
	struct lease_pool *p = talloc_zero(ctx, struct lease_pool);

	if (!p)
		return NULL;
	talloc_set_destructor(p, pool_destructor);
	p->family = family;
	p->size = size;
	p->nwords = (p->size + WORD_BITS - 1) / WORD_BITS;
	p->used = talloc_zero_array(p, uint64_t, p->nwords);
	p->nbuckets = BUCKETS_MIN;
	p->buckets = talloc_zero_array(p, struct lease *, p->nbuckets);
	if (!p->used || !p->buckets) {
		talloc_free(p);
		return NULL;
	}
	for (uint32_t off = p->size; off < p->nwords * WORD_BITS; off++)
		bit_set(p, off);
	bit_set(p, 0);
	bit_set(p, OFF_SERVER);
	bit_set(p, p->size - 1);
	p->cursor = OFF_FIRST_CLIENT;
	return p;
}

struct lease_pool *lease_pool_new(TALLOC_CTX *ctx, struct in_addr network, struct in_addr netmask)
{
	uint32_t net = ntohl(network.s_addr);
	uint32_t mask = ntohl(netmask.s_addr);
	uint32_t hostbits = ~mask;
	struct lease_pool *p;
	int prefix;

	if (hostbits & (hostbits + 1)) /* not of the form 0...01...1 */
		return NULL;
	prefix = __builtin_popcount(mask);
	if (prefix < 8 || prefix > 30 || (net & hostbits))
		return NULL;
	p = pool_new(ctx, AF_INET, hostbits + 1);
	if (p) {
		p->network = net;
		p->mask = mask;
	}
	return p;
}

struct lease_pool *lease_pool_new6(TALLOC_CTX *ctx, const struct in6_addr *network,
				   unsigned prefix, unsigned subnet_prefix)
{
	unsigned bits = subnet_prefix - prefix;
	unsigned __int128 net;
	struct lease_pool *p;

	if (!network || prefix < LEASE6_PREFIX_MIN || subnet_prefix > 128 ||
	    subnet_prefix < prefix + 2)
		return NULL;
	net = u128_from(network);
	if (net << prefix) /* host bits set */
		return NULL;
	p = pool_new(ctx, AF_INET6, 1u << (bits < LEASE6_OFFSET_BITS ? bits : LEASE6_OFFSET_BITS));
	if (p) {
		p->network6 = net;
		p->prefix6 = prefix;
		p->subnet6 = subnet_prefix;
	}
	return p;
}

int lease_pool_family(const struct lease_pool *p)
{
	return p->family;
}

void lease_pool_network6(const struct lease_pool *p, struct in6_addr *network, unsigned *prefix,
			 unsigned *subnet_prefix)
{
	*network = u128_to(p->network6);
	*prefix = p->prefix6;
	*subnet_prefix = p->subnet6;
}

struct in6_addr lease_pool_server_addr6(const struct lease_pool *p)
{
	return u128_to(p->network6 + 1);
}

struct in_addr lease_pool_server_addr(const struct lease_pool *p)
{
	struct in_addr a = {.s_addr = htonl(p->network + OFF_SERVER)};

	return a;
}

size_t lease_count(const struct lease_pool *p)
{
	return p->count;
}

size_t lease_capacity(const struct lease_pool *p)
{
	return p->size - 3;
}

static size_t sid_bucket(const struct lease_pool *p, const char *sid)
{
	return fnv1a32(sid) & (p->nbuckets - 1);
}

static struct lease **find_slot(const struct lease_pool *p, const char *sid)
{
	struct lease **slot = &p->buckets[sid_bucket(p, sid)];

	while (*slot && strcmp((*slot)->sid, sid) != 0)
		slot = &(*slot)->next;
	return slot;
}

/* Keeps chains short by doubling the table when it holds as many leases as
 * buckets. Failing to grow is harmless: lookups stay correct, only slower. */
static void table_grow(struct lease_pool *p)
{
	size_t n = p->nbuckets * 2;
	struct lease **nb = talloc_zero_array(p, struct lease *, n);
	struct lease **old = p->buckets;
	size_t oldn = p->nbuckets;

	if (!nb)
		return;
	p->buckets = nb;
	p->nbuckets = n;
	for (size_t i = 0; i < oldn; i++) {
		struct lease *l = old[i];

		while (l) {
			struct lease *next = l->next;
			size_t b = sid_bucket(p, l->sid);

			l->next = nb[b];
			nb[b] = l;
			l = next;
		}
	}
	talloc_free(old);
}

/* Best effort: a user without a record only loses the right to ask for an address. */
static void remember(struct lease_pool *p, const char *username, uint32_t off)
{
	struct previous *e;

	HASH_FIND_STR(p->previous, username, e);
	if (!e) {
		e = talloc_zero(p, struct previous);
		if (!e || !(e->username = talloc_strdup(e, username))) {
			talloc_free(e);
			return;
		}
		HASH_ADD_KEYPTR(hh, p->previous, e->username, strlen(e->username), e);
		HASH_FIND_STR(p->previous, username, e);
		if (!e)
			return;
	}
	e->off = off;
}

/* --- the offset core, shared by both families ---------------------------------------- */

static int previous_off(const struct lease_pool *p, const char *username, uint32_t *off)
{
	struct previous *e;

	if (!p || !username)
		return -EINVAL;
	HASH_FIND_STR(p->previous, username, e);
	if (!e)
		return -ENOENT;
	*off = e->off;
	return 0;
}

/* req: the offset the client asked for, or NULL. */
static int acquire_off(struct lease_pool *p, const char *sid, const char *username,
		       bool predictable, const uint32_t *req, uint32_t *out)
{
	struct lease **slot;
	struct lease *l;
	size_t sidlen;
	uint32_t off;
	int ret;

	if (!p || !sid || (predictable && !username))
		return -EINVAL;
	sidlen = strnlen(sid, LEASE_SID_MAX + 1);
	if (sidlen == 0 || sidlen > LEASE_SID_MAX)
		return -EINVAL;

	slot = find_slot(p, sid);
	if (*slot) {
		*out = (*slot)->off;
		return 0;
	}
	if (p->count >= lease_capacity(p))
		return -ENOSPC;

	if (req && *req < p->size && !bit_test(p, *req)) {
		off = *req;
		ret = 0;
	} else if (predictable) {
		ret = find_free(p, OFF_FIRST_CLIENT + fnv1a32(username) % lease_capacity(p), &off);
	} else {
		ret = find_free(p, p->cursor, &off);
		if (ret == 0)
			p->cursor = (off + 1) & (p->size - 1);
	}
	if (ret < 0)
		return ret;

	l = talloc(p, struct lease);
	if (!l)
		return -ENOMEM;
	l->sid = talloc_strndup(l, sid, sidlen);
	if (!l->sid) {
		talloc_free(l);
		return -ENOMEM;
	}
	l->off = off;
	l->next = *slot;
	*slot = l;
	if (username)
		remember(p, username, off);
	bit_set(p, off);
	p->count++;
	if (p->count > p->nbuckets)
		table_grow(p);
	*out = off;
	return 0;
}

static int lookup_off(const struct lease_pool *p, const char *sid, uint32_t *off)
{
	struct lease *l;

	if (!p || !sid)
		return -EINVAL;
	l = *find_slot(p, sid);
	if (!l)
		return -ENOENT;
	*off = l->off;
	return 0;
}

/* --- IPv4 ----------------------------------------------------------------------------- */

static struct in_addr off_to_addr4(const struct lease_pool *p, uint32_t off)
{
	struct in_addr a = {.s_addr = htonl(p->network + off)};

	return a;
}

int lease_previous(const struct lease_pool *p, const char *username, struct in_addr *out)
{
	uint32_t off;
	int ret;

	if (!out || (p && p->family != AF_INET))
		return -EINVAL;
	ret = previous_off(p, username, &off);
	if (ret == 0)
		*out = off_to_addr4(p, off);
	return ret;
}

int lease_acquire(struct lease_pool *p, const char *sid, const char *username, bool predictable,
		  const struct in_addr *requested, struct in_addr *out)
{
	uint32_t off, req;
	bool has_req = false;
	int ret;

	if (!out || (p && p->family != AF_INET))
		return -EINVAL;
	if (p && requested && (ntohl(requested->s_addr) & p->mask) == p->network) {
		req = ntohl(requested->s_addr) - p->network;
		has_req = true;
	}
	ret = acquire_off(p, sid, username, predictable, has_req ? &req : NULL, &off);
	if (ret == 0)
		*out = off_to_addr4(p, off);
	return ret;
}

int lease_lookup(const struct lease_pool *p, const char *sid, struct in_addr *out)
{
	uint32_t off;
	int ret;

	if (!out || (p && p->family != AF_INET))
		return -EINVAL;
	ret = lookup_off(p, sid, &off);
	if (ret == 0)
		*out = off_to_addr4(p, off);
	return ret;
}

/* --- IPv6 ----------------------------------------------------------------------------- */

int lease_previous6(const struct lease_pool *p, const char *username, struct in6_addr *out)
{
	uint32_t off;
	int ret;

	if (!out || (p && p->family != AF_INET6))
		return -EINVAL;
	ret = previous_off(p, username, &off);
	if (ret == 0)
		*out = off_to_addr6(p, off);
	return ret;
}

int lease_acquire6(struct lease_pool *p, const char *sid, const char *username, bool predictable,
		   const struct in6_addr *requested, struct in6_addr *out)
{
	uint32_t off, req;
	bool has_req;
	int ret;

	if (!out || (p && p->family != AF_INET6))
		return -EINVAL;
	has_req = p && requested && addr6_to_off(p, requested, &req);
	ret = acquire_off(p, sid, username, predictable, has_req ? &req : NULL, &off);
	if (ret == 0)
		*out = off_to_addr6(p, off);
	return ret;
}

int lease_lookup6(const struct lease_pool *p, const char *sid, struct in6_addr *out)
{
	uint32_t off;
	int ret;

	if (!out || (p && p->family != AF_INET6))
		return -EINVAL;
	ret = lookup_off(p, sid, &off);
	if (ret == 0)
		*out = off_to_addr6(p, off);
	return ret;
}

void lease_release(struct lease_pool *p, const char *sid)
{
	struct lease **slot;
	struct lease *l;

	if (!p || !sid)
		return;
	slot = find_slot(p, sid);
	l = *slot;
	if (!l)
		return;
	*slot = l->next;
	bit_clear(p, l->off);
	p->count--;
	talloc_free(l);
}
