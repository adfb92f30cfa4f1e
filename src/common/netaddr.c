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
