/* TUN devices of main: one per client tunnel, created and configured by main
 * (root) and handed to the worker as an fd, which main then closes. The devices are
 * persistent: the kernel keeps one, with its counters, after the worker is gone, until
 * main reads them by name and deletes it; main holds no descriptor per session for
 * them. Each device's alias names the sluiced that made it ("sluiced PID"), so that a
 * sluiced that starts after another one died can delete what was left. */
#ifndef SLUICE_TUN_H
#define SLUICE_TUN_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#define TUN_MTU_MIN 68u
#define TUN_MTU_MAX 65535u
/* The kernel numbers devices up to 32767, so a prefix of at most 10 bytes
 * leaves room for every number within IFNAMSIZ. */
#define TUN_PREFIX_MAX 10u

#define TUN_MTU_MIN6 1280u /* below it the kernel keeps IPv6 off on a device */

#define TUN_ALIAS_PREFIX "sluiced "
#define TUN_ALIAS_MAX    32

/* The addresses of one tunnel: IPv4, IPv6 or both. */
struct tun_addrs {
	bool has4;
	struct in_addr local4, peer4;   /* the point-to-point pair */
	bool has6;
	struct in6_addr local6;         /* the server's address (a /128) */
	struct in6_addr peer6;          /* the client's prefix, routed to the device */
	unsigned peer6_prefix;
};

/* Creates a TUN device (IFF_TUN | IFF_NO_PI) named PREFIX%d (the kernel picks
 * the first free number), gives it the point-to-point address local4/32 with
 * peer4 and/or the address local6/128 with a route to peer6/peer6_prefix, sets mtu
 * and brings it up. Returns the fd (O_CLOEXEC, O_NONBLOCK) and writes the name, or a
 * negative errno: -EINVAL for a prefix that is empty, longer than TUN_PREFIX_MAX or
 * holds anything but letters, digits, '-', '_' and '.', an mtu outside
 * TUN_MTU_MIN..TUN_MTU_MAX (IPv6: below TUN_MTU_MIN6), or no address at all. */
int tun_create(const char *prefix, unsigned mtu, const struct tun_addrs *a, char name[IFNAMSIZ]);

/* Deletes the device called name. 0, -ENODEV, or a negative errno. */
int tun_delete(const char *name);

/* Deleting a device waits for the kernel's RCU grace periods: about 20 ms each, which
 * one at a time kept main from its loop for minutes when thousands of sessions ended
 * together. A retired device (its counters read) joins this sluiced's group of retired
 * devices; tun_delete_retired() deletes the whole group in one request, and the kernel
 * waits once for all of them. Both return 0 or a negative errno. */
int tun_retire(const char *name);
int tun_delete_retired(void);

/* Deletes the devices whose alias names a sluiced that no longer runs (left behind when
 * one was killed). Returns how many, or a negative errno. */
int tun_delete_stale(void);

/* The device's counters, read by name in the caller's network namespace.
 * rx = what the worker wrote into the TUN (from the client); tx = what the
 * kernel handed to the TUN (to the client). The kernel counts tx as a packet
 * is read from the fd, so packets still queued when a worker dies are not
 * counted. 0, -ENODEV, or a negative errno. */
int tun_stats(const char *name, uint64_t *rx_bytes, uint64_t *tx_bytes, uint64_t *rx_packets,
	      uint64_t *tx_packets);

/* Adds (or deletes) the route net/prefix (net: a struct in_addr or in6_addr of family)
 * through device name, in the caller's namespace. 0, -EINVAL, -EEXIST when the same
 * route exists, or a negative errno. */
int tun_route(const char *name, int family, const void *net, unsigned prefix, bool add);

/* 0, -EINVAL for a bad name or mtu, -ENODEV, or a negative errno. */
int tun_set_mtu(const char *name, unsigned mtu);

#endif
