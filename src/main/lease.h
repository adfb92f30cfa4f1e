/* Address leases of main: one address (IPv4) or one prefix (IPv6) per session, out of
 * one pool (ipv4-network, or ipv6-network with ipv6-subnet-prefix). A lease outlives
 * its tunnel and stays with the session until main releases it (the cookie expired or
 * was invalidated), so a reconnect gets the same address. A pool is of one family; the
 * functions of the other family return -EINVAL for it. */
#ifndef SLUICE_LEASE_H
#define SLUICE_LEASE_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <talloc.h>

/* Longest session id accepted, in bytes without the terminating NUL. */
#define LEASE_SID_MAX 256

struct lease_pool;

/* NULL on bad input: a non-contiguous netmask, a prefix outside 8..30, or
 * host bits set in network. */
struct lease_pool *lease_pool_new(TALLOC_CTX *ctx, struct in_addr network, struct in_addr netmask);

/* IPv6 pools use at most 2^LEASE6_OFFSET_BITS client prefixes of their network (the
 * first ones): far more sessions than one server holds, in a bitmap of 32 KiB. */
#define LEASE6_OFFSET_BITS 18
#define LEASE6_PREFIX_MIN  16

/* NULL on bad input: a network prefix below LEASE6_PREFIX_MIN, a client prefix
 * (subnet_prefix) above 128 or less than 2 longer than prefix, or host bits set in
 * network. Client prefix number 0 holds the server's address (network + 1), and it,
 * number 1 and the last are never handed out. A client's address is its prefix's first
 * address + 1, or, with subnet_prefix 128, the prefix itself. */
struct lease_pool *lease_pool_new6(TALLOC_CTX *ctx, const struct in6_addr *network,
				   unsigned prefix, unsigned subnet_prefix);

/* AF_INET or AF_INET6. */
int lease_pool_family(const struct lease_pool *p);

/* The IPv4 pool's network and netmask. */
void lease_pool_network(const struct lease_pool *p, struct in_addr *network,
			struct in_addr *netmask);

/* The first host address (network + 1): the local end of every TUN link. */
struct in_addr lease_pool_server_addr(const struct lease_pool *p);

/* Returns the address of session sid: its existing lease if it has one; else
 * `requested` if it is non-NULL, in the pool and free; else with predictable
 * a free address found by probing from a hash of username (stable across
 * restarts); else any free address. Never the network, broadcast or server
 * address. 0, -ENOSPC when the pool is full, -EINVAL on bad arguments (a NULL
 * pointer, an empty or over-long sid, predictable without a username),
 * -ENOMEM. */
int lease_acquire(struct lease_pool *p, const char *sid, const char *username, bool predictable,
		  const struct in_addr *requested, struct in_addr *out);

/* 0 with the address username held last in this pool (a lease for any of their
 * sessions, released or not), -ENOENT if none, -EINVAL on NULL. A client may ask for
 * that address again; any other it asks for, it does not get. */
int lease_previous(const struct lease_pool *p, const char *username, struct in_addr *out);

/* 0 with the session's address, -ENOENT if it has none, -EINVAL on NULL. */
int lease_lookup(const struct lease_pool *p, const char *sid, struct in_addr *out);

/* The same for IPv6 pools. */
void lease_pool_network6(const struct lease_pool *p, struct in6_addr *network, unsigned *prefix,
			 unsigned *subnet_prefix);
struct in6_addr lease_pool_server_addr6(const struct lease_pool *p);
int lease_acquire6(struct lease_pool *p, const char *sid, const char *username, bool predictable,
		   const struct in6_addr *requested, struct in6_addr *out);
int lease_previous6(const struct lease_pool *p, const char *username, struct in6_addr *out);
int lease_lookup6(const struct lease_pool *p, const char *sid, struct in6_addr *out);

/* Frees the session's address; an unknown sid is ignored. */
void lease_release(struct lease_pool *p, const char *sid);

size_t lease_count(const struct lease_pool *p);

/* How many client addresses (IPv6: prefixes) the pool holds, reserved ones not counted. */
size_t lease_capacity(const struct lease_pool *p);

#endif
