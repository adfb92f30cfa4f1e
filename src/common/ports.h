/* restrict-user-to-ports as ocserv writes it: "tcp(443), udp(53), icmp()" lets a user
 * reach only those protocols and ports; "!(tcp(25), udp(137))" keeps a user from just
 * those. tcp, udp and sctp take a port; icmp, icmpv6 and esp take none (all of it).
 * Parsed by the configuration (which keeps the canonical text), main's kernel filter
 * and its scripts' OCSERV_ALLOW_PORTS / OCSERV_DENY_PORTS. */
#ifndef SLUICE_PORTS_H
#define SLUICE_PORTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PORTS_MAX 64

enum port_proto { PORT_TCP, PORT_UDP, PORT_SCTP, PORT_ICMP, PORT_ICMPV6, PORT_ESP };

struct port_rule {
	enum port_proto proto;
	uint16_t port; /* tcp, udp, sctp only */
};

struct port_list {
	bool deny; /* "!(...)": these are refused, everything else passes */
	size_t n;
	struct port_rule rules[PORTS_MAX];
};

/* 0, or -EINVAL with why written. */
int ports_parse(const char *text, struct port_list *out, char *why, size_t whylen);
/* The protocol's name as ocserv writes it: "tcp", "icmpv6", ... */
const char *ports_proto_name(enum port_proto p);
/* Whether the protocol takes a port. */
bool ports_proto_has_port(enum port_proto p);

#endif
