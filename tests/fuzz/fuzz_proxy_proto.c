/* Feeds each input to main's PROXY header parser as the bytes a socket would show.
 * A header must be complete within what it says its length is and must not depend on
 * what follows; an incomplete one must own every byte so far (main reads them all);
 * reading the input in pieces, as main does, must end the same way. */
#include "config.h"
#include "main/proxy_proto.h"

#include <stdlib.h>
#include <sys/socket.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxy_addrs a, b;
	const char *why;
	int r = proxy_proto_parse(data, size, &a, &why), r2;
	size_t have = 0;

	if (r > 0) {
		if ((size_t)r > size || r > PROXY_MAX ||
		    proxy_proto_header_end(data, size) != (size_t)r)
			abort();
		if (proxy_proto_parse(data, (size_t)r, &b, &why) != r || b.local != a.local)
			abort();
		if (!a.local && ((a.src.ss_family != AF_INET && a.src.ss_family != AF_INET6) ||
				 a.src.ss_family != a.dst.ss_family))
			abort();
	} else if (r == 0) {
		if (proxy_proto_header_end(data, size) != size || size >= PROXY_MAX)
			abort();
	} else if (!why) {
		abort();
	}
	/* main's way: peek what is there (here: up to 7 bytes more each time), take
	 * the header's part, parse. */
	for (;;) {
		size_t peek = size - have < 7 ? size - have : 7;
		size_t end = proxy_proto_header_end(data, have + peek);

		if (end < have)
			abort();
		have = end;
		r2 = proxy_proto_parse(data, have, &b, &why);
		if (r2 != 0 || peek == 0 || have >= PROXY_MAX)
			break;
	}
	if ((r2 > 0) != (r > 0) || (r > 0 && r2 != r))
		abort();
	return 0;
}
