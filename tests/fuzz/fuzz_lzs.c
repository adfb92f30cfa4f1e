/* The LZS codec on a client's bytes. Each input is decompressed as a stream, into a
 * packet-sized buffer and into a small one, whose results must agree; then it is
 * compressed as a packet, and the stream must decompress into exactly the input. The
 * buffers are heap blocks of the exact size, so the sanitizer sees any access past
 * them. */
#include "config.h"
#include "worker/lzs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PACKET 16384

static uint8_t *alloc(size_t n)
{
	uint8_t *p = malloc(n ? n : 1);

	if (!p)
		abort();
	return p;
}

/* Decompresses data into room for a whole packet and into `small` bytes: the two agree
 * up to the point where the small one runs out of room. */
static void decompress_both(const uint8_t *data, size_t size, size_t small)
{
	uint8_t *big = alloc(MAX_PACKET), *tiny = alloc(small);
	int nb = lzs_decompress(big, MAX_PACKET, data, size);
	int nt = lzs_decompress(tiny, small, data, size);

	if (nb >= 0) {
		if (nb > MAX_PACKET)
			abort();
		if ((size_t)nb <= small) {
			if (nt != nb || memcmp(tiny, big, (size_t)nb) != 0)
				abort();
		} else if (nt != -EFBIG) {
			abort();
		}
	} else if (nb == -EFBIG) {
		if (nt != -EFBIG)
			abort();
	} else if (nb != -EINVAL || (nt != -EINVAL && nt != -EFBIG)) {
		abort();
	}
	free(big);
	free(tiny);
}

/* Compresses data with room for the worst case (9 bits a byte) and with one byte less
 * than the input, as the tunnel does; every stream must give the input back. */
static void round_trip(const uint8_t *data, size_t size)
{
	size_t worst = size + (size + 9 + 7) / 8;
	uint8_t *c = alloc(worst), *out = alloc(size);
	int n = lzs_compress(c, worst, data, size);

	if (n <= 0 || (size_t)n > worst)
		abort();
	if (lzs_decompress(out, size, c, (size_t)n) != (int)size || memcmp(out, data, size) != 0)
		abort();
	free(c);
	if (size > 0) {
		c = alloc(size - 1);
		n = lzs_compress(c, size - 1, data, size);
		if (n != -EFBIG) {
			if (n <= 0 || (size_t)n >= size)
				abort();
			if (lzs_decompress(out, size, c, (size_t)n) != (int)size ||
			    memcmp(out, data, size) != 0)
				abort();
		}
		free(c);
	}
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The small buffer's size comes from the input, so that it is sometimes just
	 * short of what the stream gives. */
	decompress_both(data, size, size > 0 ? data[size - 1] : 0);
	if (size <= MAX_PACKET)
		round_trip(data, size);
	return 0;
}
