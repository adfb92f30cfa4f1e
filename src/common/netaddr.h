/* IP addresses as the configuration, the logs and the control tool write them, for
 * every role: networks of either family ("a.b.c.d/len", "fd00::/64"), client addresses,
 * and an
 * address with its port ("a.b.c.d:port", "[v6]:port"). */
#ifndef SLUICE_NETADDR_H
#define SLUICE_NETADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* The netmask of a prefix length, in network byte order. */
uint32_t ipv4_prefix_mask(unsigned prefix);

/* An IPv4 or IPv6 address. An IPv4-mapped IPv6 address (::ffff:a.b.c.d, an IPv4 client
 * of the dual-stack listener) is always held as IPv4, so that a client has one form. */
struct netaddr {
	int family;    /* AF_INET, AF_INET6; AF_UNSPEC: not an IP address */
	uint8_t a[16]; /* network byte order; IPv4 in the first 4 bytes, the rest zero */
};

/* Room for "[IPv6]:65535" and for "IPv6/128", with the NUL. */
#define NETADDR_PORT_STRLEN   (INET6_ADDRSTRLEN + 8)
#define NETADDR_PREFIX_STRLEN (INET6_ADDRSTRLEN + 4)

/* The address and port of ss (AF_UNSPEC and port 0 for another family). */
void netaddr_from_sockaddr(const struct sockaddr_storage *ss, struct netaddr *a, unsigned *port);
/* Parses an address literal. 0, or -EINVAL. */
int netaddr_parse(const char *text, struct netaddr *a);
/* Parses "addr" or "addr/len" (len at most the family's 32 or 128 bits; without one,
 * *len is all of them). 0, or -EINVAL. */
int netaddr_prefix_parse(const char *text, struct netaddr *a, unsigned *len);
/* 32 or 128: the bits of a's family. */
unsigned netaddr_bits(const struct netaddr *a);
/* Clears the bits of a beyond the first len. */
void netaddr_mask(struct netaddr *a, unsigned len);
/* a as inet_ntop writes it ("?" when it is no IP address); returns buf. */
const char *netaddr_text(const struct netaddr *a, char *buf, size_t len);
/* An address (text) with its port as logs show it: "a.b.c.d:port", "[v6]:port";
 * returns buf. */
const char *netaddr_port_text(const char *ip, unsigned port, char *buf, size_t len);
/* True when the first prefix bits (at most 128) of the two IPv6 addresses agree. */
bool ipv6_prefix_match(const uint8_t addr[16], const uint8_t net[16], unsigned prefix);

#endif
