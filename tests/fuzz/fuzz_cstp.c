/* Walks the input as a CSTP stream and checks each frame: bounds, a header
 * that rebuilds to the same bytes, and that every prefix is "need more". The
 * packet checks run on each payload. */
#include "config.h"
#include "worker/cstp.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t addr6[16] = {0xfd, 0, 0, 1, [15] = 5};
	/* 198.18.5.0/24 and 198.18.8.4/32, networks behind the client */
	const struct cstp_net nets[] = {{htonl(0xc6120500), htonl(0xffffff00)},
					{htonl(0xc6120804), 0xffffffff}};
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
		bool v6 = cstp_packet6_source_ok(f.payload, f.len, addr6);
		/* a network behind the client only adds sources */
		if ((v4 && v6) ||
		    (cstp_packet_source_ok(f.payload, f.len, addr4, NULL, 0) && !v4))
			abort();
		(void)cstp_disconnect_is_logout(f.payload, f.len);
		off += (size_t)n;
	}
	return 0;
}
