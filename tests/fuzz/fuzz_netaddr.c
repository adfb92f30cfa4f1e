/* Fuzzes netaddr_prefix_parse (an address or prefix an operator gives `sluicectl unban
 * ip`, and client addresses as main writes them): what it accepts is written back by
 * netaddr_text and parses again to the same address, masking keeps an address of its
 * family, and netaddr_port_text fits NETADDR_PORT_STRLEN. */
#include "config.h"
#include "fuzz_input.h"
#include "common/netaddr.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstring(data, size);
	char ip[INET6_ADDRSTRLEN], port[NETADDR_PORT_STRLEN];
	struct netaddr a, b;
	unsigned len, len2;

	if (!s)
		return 0;
	if (netaddr_prefix_parse(s, &a, &len) == 0) {
		if (a.family != AF_INET && a.family != AF_INET6)
			abort();
		if (len > netaddr_bits(&a))
			abort();
		if (a.family == AF_INET && memcmp(a.a + 4, "\0\0\0\0\0\0\0\0\0\0\0\0", 12) != 0)
			abort();
		netaddr_text(&a, ip, sizeof(ip));
		if (netaddr_prefix_parse(ip, &b, &len2) < 0 || b.family != a.family ||
		    memcmp(a.a, b.a, sizeof(a.a)) != 0 || len2 != netaddr_bits(&a))
			abort();
		netaddr_mask(&b, len);
		if (b.family != a.family)
			abort();
		if ((size_t)snprintf(NULL, 0, "[%s]:65535", ip) >= sizeof(port))
			abort();
		netaddr_port_text(ip, 65535, port, sizeof(port));
		if (!strstr(port, ip))
			abort();
	}
	free(s);
	return 0;
}
