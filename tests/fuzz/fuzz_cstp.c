/* Walks the input as a CSTP stream and checks each frame: bounds, a header
 * that rebuilds to the same bytes, and that every prefix is "need more". The
 * packet checks (source, and the destination filter of restrict-user-to-routes) run
 * on each payload. */
#include "config.h"
#include "worker/cstp.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* the client's fd00:1::/64, and fd00:77::/48 behind it */
	static const struct cstp_net6 prefix6 = {{0xfd, 0, 0, 1}, 64};
	static const struct cstp_net6 nets6[] = {{{0xfd, 0, 0, 0x77}, 48}};
	/* routes fd00:9::/32, no-route fd00:9:99::/48, DNS fd00:53::53 */
	static const struct cstp_net6 routes6[] = {{{0xfd, 0, 0, 9}, 32}};
	static const struct cstp_net6 excluded6[] = {{{0xfd, 0, 0, 9, 0, 0x99}, 48}};
	static const struct in6_addr dns6[] = {{{{0xfd, 0, 0, 0x53, [14] = 0, 0x53}}}};
	/* 198.18.5.0/24 and 198.18.8.4/32, networks behind the client */
	const struct cstp_net nets[] = {{htonl(0xc6120500), htonl(0xffffff00)},
					{htonl(0xc6120804), 0xffffffff}};
	/* routes 198.18.0.0/16 and 198.19.0.1/32, no-route 198.18.99.0/24, DNS 198.18.99.53 */
	const struct cstp_net routes[] = {{htonl(0xc6120000), htonl(0xffff0000)},
					  {htonl(0xc6130001), 0xffffffff}};
	const struct cstp_net excluded[] = {{htonl(0xc6126300), htonl(0xffffff00)}};
	const uint32_t dns[] = {htonl(0xc6126335)};
	struct cstp_dest_filter filter = {false, routes,   2,         excluded, 1, dns, 1,
					  false, routes6, 1,         excluded6, 1, dns6, 1};
	uint32_t addr4 = 0;
	size_t off = 0;

	if (size >= 4)
		memcpy(&addr4, data, 4);
	while (off < size) {
		struct cstp_frame f;
		uint8_t hdr[CSTP_HDR_LEN];
		ssize_t n = cstp_frame_parse(data + off, size - off, &f);

		if (n <= 0)
			break;
		if ((size_t)n > size - off || (size_t)n != CSTP_HDR_LEN + f.len ||
		    f.len > CSTP_MAX_PAYLOAD || f.payload != data + off + CSTP_HDR_LEN)
			abort();
		cstp_put_header(hdr, f.type, f.len);
		if (memcmp(hdr, data + off, CSTP_HDR_LEN) != 0)
			abort();
		if (cstp_frame_parse(data + off, (size_t)n - 1, &f) != 0)
			abort();
		(void)cstp_frame_parse(data + off, (size_t)n, &f);
		bool v4 = cstp_packet_source_ok(f.payload, f.len, addr4, nets, 2);
		bool v6 = cstp_packet6_source_ok(f.payload, f.len, &prefix6, nets6, 1);
		/* a network behind the client only adds sources */
		if ((v4 && v6) ||
		    (cstp_packet_source_ok(f.payload, f.len, addr4, NULL, 0) && !v4) ||
		    (cstp_packet6_source_ok(f.payload, f.len, &prefix6, NULL, 0) && !v6))
			abort();
		/* link-local sources are never the client's prefix */
		if (cstp_packet6_link_local(f.payload, f.len) &&
		    cstp_packet6_source_ok(f.payload, f.len, &prefix6, NULL, 0))
			abort();
		/* restrict-user-to-routes: only well-formed IPv4 passes, and allowing
		 * every destination only adds */
		bool d = cstp_packet_dest_ok(f.payload, f.len, &filter);
		uint32_t src;

		bool d6 = cstp_packet6_dest_ok(f.payload, f.len, &filter);

		filter.all = filter.all6 = true;
		if ((d && !cstp_packet_dest_ok(f.payload, f.len, &filter)) ||
		    (d6 && !cstp_packet6_dest_ok(f.payload, f.len, &filter)) || (d && d6))
			abort();
		filter.all = filter.all6 = false;
		if (d) {
			memcpy(&src, f.payload + 12, 4);
			if (!cstp_packet_source_ok(f.payload, f.len, src, NULL, 0))
				abort();
		}
		(void)cstp_disconnect_is_logout(f.payload, f.len);
		off += (size_t)n;
	}
	return 0;
}
