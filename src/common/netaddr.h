/* Networks as the configuration writes them ("a.b.c.d/len", "fd00::/64"), for every role. */
#ifndef SLUICE_NETADDR_H
#define SLUICE_NETADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

/* Parses "a.b.c.d/len" (len 0 to 32). 0, or -EINVAL. */
int ipv4_prefix_parse(const char *text, struct in_addr *net, unsigned *prefix);

/* The netmask of a prefix length, in network byte order. */
uint32_t ipv4_prefix_mask(unsigned prefix);

/* Parses "addr/len" of either family (len 0 to 32 or 128); addr gets 4 or 16 bytes,
 * the rest zeroed. 0, or -EINVAL. */
int ip_prefix_parse(const char *text, int *family, uint8_t addr[16], unsigned *prefix);

/* True when the first prefix bits (at most 128) of the two IPv6 addresses agree. */
bool ipv6_prefix_match(const uint8_t addr[16], const uint8_t net[16], unsigned prefix);

/* Clears the bits of addr beyond the first prefix. */
void ipv6_prefix_clear(uint8_t addr[16], unsigned prefix);

#endif
