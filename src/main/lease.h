/* IPv4 address leases of main: one address per session, out of one pool
 * (ipv4-network/ipv4-netmask). A lease outlives its tunnel and stays with the
 * session until main releases it (the cookie expired or was invalidated), so a
 * reconnect gets the same address. */
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

/* The pool's network and netmask. */
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

/* Frees the session's address; an unknown sid is ignored. */
void lease_release(struct lease_pool *p, const char *sid);

size_t lease_count(const struct lease_pool *p);

/* How many client addresses the pool holds (hosts minus the server's). */
size_t lease_capacity(const struct lease_pool *p);

#endif
