#include "config.h"

#include "common/netaddr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

int ipv4_prefix_parse(const char *text, struct in_addr *net, unsigned *prefix)
{
	char addr[INET_ADDRSTRLEN];
	const char *slash = strchr(text, '/'), *p;
	unsigned len = 0;

	if (!slash || (size_t)(slash - text) >= sizeof(addr) || !slash[1] || strlen(slash + 1) > 2)
		return -EINVAL;
	for (p = slash + 1; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		len = len * 10 + (unsigned)(*p - '0');
	}
	memcpy(addr, text, (size_t)(slash - text));
	addr[slash - text] = '\0';
	if (len > 32 || inet_pton(AF_INET, addr, net) != 1)
		return -EINVAL;
	*prefix = len;
	return 0;
}

uint32_t ipv4_prefix_mask(unsigned prefix)
{
	return prefix ? htonl(~0u << (32 - prefix)) : 0;
}

int ip_prefix_parse(const char *text, int *family, uint8_t addr[16], unsigned *prefix)
{
	char host[INET6_ADDRSTRLEN];
	const char *slash = strchr(text, '/'), *p;
	unsigned len = 0, max;

	if (!slash || (size_t)(slash - text) >= sizeof(host) || !slash[1] || strlen(slash + 1) > 3)
		return -EINVAL;
	for (p = slash + 1; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		len = len * 10 + (unsigned)(*p - '0');
	}
	memcpy(host, text, (size_t)(slash - text));
	host[slash - text] = '\0';
	memset(addr, 0, 16);
	*family = strchr(host, ':') ? AF_INET6 : AF_INET;
	max = *family == AF_INET6 ? 128 : 32;
	if (len > max || inet_pton(*family, host, addr) != 1)
		return -EINVAL;
	*prefix = len;
	return 0;
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

void ipv6_prefix_clear(uint8_t addr[16], unsigned prefix)
{
	for (unsigned i = 0; i < 16; i++) {
		unsigned bits = prefix > i * 8 ? prefix - i * 8 : 0;

		if (bits < 8)
			addr[i] &= (uint8_t)(0xff00 >> bits);
	}
}
