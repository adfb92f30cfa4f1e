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
	uint32_t network; /* host byte order */
	uint32_t mask;    /* host byte order */
	uint32_t size;    /* addresses in the pool, a power of two >= 4 */
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

	p = talloc_zero(ctx, struct lease_pool);
	if (!p)
		return NULL;
	talloc_set_destructor(p, pool_destructor);
	p->network = net;
	p->mask = mask;
	p->size = hostbits + 1;
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

int lease_previous(const struct lease_pool *p, const char *username, struct in_addr *out)
{
	struct previous *e;

	if (!p || !username || !out)
		return -EINVAL;
	HASH_FIND_STR(p->previous, username, e);
	if (!e)
		return -ENOENT;
	out->s_addr = htonl(p->network + e->off);
	return 0;
}

static bool requested_free(const struct lease_pool *p, const struct in_addr *requested,
			   uint32_t *off)
{
	uint32_t a = ntohl(requested->s_addr);

	if ((a & p->mask) != p->network)
		return false;
	*off = a - p->network;
	return !bit_test(p, *off);
}

int lease_acquire(struct lease_pool *p, const char *sid, const char *username, bool predictable,
		  const struct in_addr *requested, struct in_addr *out)
{
	struct lease **slot;
	struct lease *l;
	size_t sidlen;
	uint32_t off;
	int ret;

	if (!p || !sid || !out || (predictable && !username))
		return -EINVAL;
	sidlen = strnlen(sid, LEASE_SID_MAX + 1);
	if (sidlen == 0 || sidlen > LEASE_SID_MAX)
		return -EINVAL;

	slot = find_slot(p, sid);
	if (*slot) {
		out->s_addr = htonl(p->network + (*slot)->off);
		return 0;
	}
	if (p->count >= lease_capacity(p))
		return -ENOSPC;

	if (requested && requested_free(p, requested, &off)) {
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

	out->s_addr = htonl(p->network + off);
	return 0;
}

int lease_lookup(const struct lease_pool *p, const char *sid, struct in_addr *out)
{
	struct lease *l;

	if (!p || !sid || !out)
		return -EINVAL;
	l = *find_slot(p, sid);
	if (!l)
		return -ENOENT;
	out->s_addr = htonl(p->network + l->off);
	return 0;
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
