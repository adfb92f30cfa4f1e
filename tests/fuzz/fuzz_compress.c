/* The tunnel's compression as a client drives it: the method chosen from an
 * X-*-Accept-Encoding value (the input up to its first newline) must be one the value
 * names; the rest, as a COMPRESSED payload, decompresses within bounds or is refused
 * by both methods; and compressing it gives back the same bytes. */
#include "config.h"
#include "worker/compress.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz_input.h"

static char lz4_name[] = "oc-lz4", lzs_name[] = "lzs";
static char *order[] = {lz4_name, lzs_name};

static void round_trip(const struct comp_method *m, const uint8_t *data, size_t size)
{
	static uint8_t z[COMP_MAX_PACKET], back[COMP_MAX_PACKET];
	size_t zlen = comp_packet(m, z, sizeof(z), data, size);

	if (zlen == 0)
		return;
	if (zlen >= size ||
	    comp_unpacket(m, back, sizeof(back), z, zlen) != (int)size ||
	    memcmp(back, data, size) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[COMP_MAX_PACKET];
	const uint8_t *nl = memchr(data, '\n', size);
	size_t olen = nl ? (size_t)(nl - data) : size;
	char *offer = fuzz_cstring(data, olen);
	const struct comp_method *m;
	const uint8_t *pkt = nl ? nl + 1 : data + size;
	size_t plen = size - (size_t)(pkt - data);

	if (!offer)
		return 0;
	m = comp_choose(offer, order, 2);
	/* a method chosen is named in the offer (case aside) */
	if (m && !strcasestr(offer, comp_name(m)))
		abort();
	free(offer);
	for (size_t i = 0; i < 2; i++) {
		char one[16];
		const struct comp_method *each;

		snprintf(one, sizeof(one), "%s", order[i]);
		each = comp_choose(one, order, 2);
		if (!each || strcmp(comp_name(each), order[i]) != 0)
			abort();
		/* A small cap as well: a larger result is refused, never written (ASan sees a
		 * write past small[]). What decodes within the small cap decodes the same with
		 * room to spare; the reverse need not hold for a malformed LZ4 block, whose
		 * end-of-block rules depend on the room left. */
		if (plen) {
			uint8_t small[64];
			int n = comp_unpacket(each, out, sizeof(out), pkt, plen);
			int s = comp_unpacket(each, small, sizeof(small), pkt, plen);

			if (n > (int)sizeof(out) || s > (int)sizeof(small) ||
			    (s >= 0 && (n != s || memcmp(out, small, (size_t)s) != 0)))
				abort();
		}
		round_trip(each, pkt, plen);
	}
	return 0;
}
