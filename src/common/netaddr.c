#include "config.h"

#include "common/netaddr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

uint32_t ipv4_prefix_mask(unsigned prefix)
{
	return prefix ? htonl(~0u << (32 - prefix)) : 0;
}

void netaddr_from_sockaddr(const struct sockaddr_storage *ss, struct netaddr *a, unsigned *port)
{
	memset(a, 0, sizeof(*a));
	*port = 0;
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		a->family = AF_INET6;
		memcpy(a->a, &s6->sin6_addr, 16);
		*port = ntohs(s6->sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			a->family = AF_INET;
			memmove(a->a, a->a + 12, 4);
			memset(a->a + 4, 0, 12);
		}
	} else if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)ss;

		a->family = AF_INET;
		memcpy(a->a, &s4->sin_addr, 4);
		*port = ntohs(s4->sin_port);
	} else {
		a->family = AF_UNSPEC;
	}
}

int netaddr_parse(const char *text, struct netaddr *a)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in6 *s6 = (void *)&ss;
	struct sockaddr_in *s4 = (void *)&ss;
	unsigned port;

	if (inet_pton(AF_INET, text, &s4->sin_addr) == 1)
		ss.ss_family = AF_INET;
	else if (inet_pton(AF_INET6, text, &s6->sin6_addr) == 1)
		ss.ss_family = AF_INET6;
	else
		return -EINVAL;
	netaddr_from_sockaddr(&ss, a, &port);
	return 0;
}

int netaddr_prefix_parse(const char *text, struct netaddr *a, unsigned *len)
{
	char addr[INET6_ADDRSTRLEN];
	const char *slash = strchr(text, '/'), *p;
	size_t alen = slash ? (size_t)(slash - text) : strlen(text);
	unsigned n = 0;

	if (alen >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, text, alen);
	addr[alen] = '\0';
	if (netaddr_parse(addr, a) < 0)
		return -EINVAL;
	if (!slash) {
		*len = netaddr_bits(a);
		return 0;
	}
	/* Decimal, at most three digits, no sign or leading zero. */
	if (!slash[1] || strlen(slash + 1) > 3 || (slash[1] == '0' && slash[2]))
		return -EINVAL;
	for (p = slash + 1; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		n = n * 10 + (unsigned)(*p - '0');
	}
	/* ::ffff:a.b.c.d/len is IPv4 now: its length counts IPv6 bits no longer. */
	if (n > netaddr_bits(a) || (a->family == AF_INET && strchr(addr, ':')))
		return -EINVAL;
	*len = n;
	return 0;
}

unsigned netaddr_bits(const struct netaddr *a)
{
	return a->family == AF_INET6 ? 128 : 32;
}

void netaddr_mask(struct netaddr *a, unsigned len)
{
	for (unsigned i = 0; i < 16; i++) {
		unsigned keep = len > i * 8 ? len - i * 8 : 0;

		if (keep < 8)
			a->a[i] &= (uint8_t)(0xff00u >> keep);
	}
}

const char *netaddr_text(const struct netaddr *a, char *buf, size_t len)
{
	if (a->family == AF_UNSPEC || !inet_ntop(a->family, a->a, buf, (socklen_t)len))
		snprintf(buf, len, "?");
	return buf;
}

const char *netaddr_port_text(const char *ip, unsigned port, char *buf, size_t len)
{
	bool v6 = strchr(ip, ':') != NULL;

	snprintf(buf, len, "%s%s%s:%u", v6 ? "[" : "", ip, v6 ? "]" : "", port);
	return buf;
}

bool ipv6_prefix_match(const uint8_t addr[16], const uint8_t net[16], unsigned prefix)
{
	size_t whole = prefix / 8;
	unsigned rest = prefix % 8;

	if (prefix > 128 || memcmp(addr, net, whole) != 0)
		return false;
	if (!rest)
		return true;
	return ((addr[whole] ^ net[whole]) & (uint8_t)(0xff << (8 - rest))) == 0;
}
