/* IPv4 networks as the configuration writes them ("a.b.c.d/len"), for every role. */
#ifndef SLUICE_NETADDR_H
#define SLUICE_NETADDR_H

#include <netinet/in.h>
#include <stdint.h>

/* Parses "a.b.c.d/len" (len 0 to 32). 0, or -EINVAL. */
int ipv4_prefix_parse(const char *text, struct in_addr *net, unsigned *prefix);

/* The netmask of a prefix length, in network byte order. */
uint32_t ipv4_prefix_mask(unsigned prefix);

#endif
