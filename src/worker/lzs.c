/* Stac LZS. The stream is a sequence of bit fields, most significant bit first:
 *
 *   0 bbbbbbbb                  a literal byte
 *   1 1 ooooooo  length         a copy from 1..127 bytes back (7-bit offset)
 *   1 1 0000000                 the end marker (a 7-bit offset of 0)
 *   1 0 ooooooooooo  length     a copy from 1..2047 bytes back (11-bit offset)
 *
 * and the length of a copy is 00, 01, 10 for 2, 3, 4; 1100, 1101, 1110 for 5, 6, 7;
 * from 8 on, 1111 and then nibbles: each 1111 adds 15 and the first other nibble adds
 * its value and ends the length (8 = 1111 0000, 22 = 1111 1110, 23 = 1111 1111 0000).
 * Zero bits after the end marker fill its last byte. A copy may overlap the bytes it
 * produces (offset 1, length 10 repeats one byte ten times). */
#include "config.h"
#include "worker/lzs.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>

#define END_MARKER    0x180 /* 1 1 0000000 */
#define MAX_OFFSET    2047
#define SHORT_OFFSETS 128 /* offsets below this take the 7-bit form */

/* --- decoder ---------------------------------------------------------------------- */

struct bit_in {
	const uint8_t *p;
	size_t left;  /* bytes at p */
	uint32_t acc; /* its low `n` bits are read and not yet taken */
	unsigned n;
};

/* The next k (at most 9) bits; false when the input ends first. */
static inline bool take(struct bit_in *in, unsigned k, unsigned *v)
{
	while (in->n < k) {
		if (in->left == 0)
			return false;
		in->left--;
		in->acc = in->acc << 8 | *in->p++;
		in->n += 8;
	}
	in->n -= k;
	*v = in->acc >> in->n & ((1u << k) - 1);
	return true;
}

/* A copy's length. `limit` keeps the sum of a long run of 1111 nibbles from
 * overflowing: any length above it fails the caller's check just the same. */
static bool take_length(struct bit_in *in, size_t limit, size_t *len)
{
	unsigned v;

	if (!take(in, 2, &v))
		return false;
	if (v < 3) {
		*len = v + 2;
		return true;
	}
	if (!take(in, 2, &v))
		return false;
	if (v < 3) {
		*len = v + 5;
		return true;
	}
	*len = 8;
	do {
		if (!take(in, 4, &v))
			return false;
		*len += v;
		if (*len > limit)
			*len = limit + 1;
	} while (v == 15);
	return true;
}

int lzs_decompress(uint8_t *dst, size_t dstcap, const uint8_t *src, size_t srclen)
{
	struct bit_in in = {.p = src, .left = srclen};
	size_t out = 0, off, len;
	unsigned v, low;

	if (dstcap > INT_MAX)
		dstcap = INT_MAX; /* the length is returned as an int */
	for (;;) {
		if (!take(&in, 9, &v))
			return -EINVAL;
		if (v < 0x100) {
			if (out == dstcap)
				return -EFBIG;
			dst[out++] = (uint8_t)v;
			continue;
		}
		if (v == END_MARKER)
			return (int)out;
		off = v & 0x7f;
		if (v < END_MARKER) {
			if (!take(&in, 4, &low))
				return -EINVAL;
			off = off << 4 | low;
		}
		if (!take_length(&in, dstcap, &len))
			return -EINVAL;
		/* An 11-bit offset of 0 is not the end marker and names no byte. */
		if (off == 0 || off > out)
			return -EINVAL;
		if (len > dstcap - out)
			return -EFBIG;
		if (off >= len) {
			memcpy(dst + out, dst + out - off, len);
		} else {
			for (size_t i = 0; i < len; i++)
				dst[out + i] = dst[out - off + i];
		}
		out += len;
	}
}

/* --- encoder ---------------------------------------------------------------------- */

/* Matches are found through chains of earlier positions that start with the same two
 * bytes' hash (two bytes: the shortest copy LZS has). The chains are kept for the
 * window only, indexed by position modulo its size, which is why a link can be
 * followed only while it is within MAX_OFFSET. Looking at MAX_CANDIDATES of them
 * compresses within about 1% of looking at all (openconnect's encoder does), and
 * bounds the work: at most MAX_CANDIDATES byte comparisons per input byte. The state
 * is about 6 KB, on the stack of each call. */
#define HASH_BITS      10
#define WINDOW         2048 /* a power of two above MAX_OFFSET */
#define NO_POS         0xffff
#define MAX_CANDIDATES 16

struct bit_out {
	uint8_t *p;
	size_t room;  /* bytes at p */
	uint32_t acc; /* its low `n` bits are not yet written */
	unsigned n;
	bool full; /* a byte did not fit: the caller gives up */
};

struct chains {
	uint16_t head[1u << HASH_BITS]; /* newest position per hash, or NO_POS */
	uint16_t prev[WINDOW];          /* the position before, in the same chain */
};

/* Appends k (at most 13) bits. */
static inline void put(struct bit_out *o, unsigned k, unsigned v)
{
	o->acc = o->acc << k | v;
	o->n += k;
	while (o->n >= 8) {
		o->n -= 8;
		if (o->room == 0) {
			o->full = true;
			return;
		}
		o->room--;
		*o->p++ = (uint8_t)(o->acc >> o->n);
	}
}

static void put_copy(struct bit_out *o, size_t off, size_t len)
{
	if (off < SHORT_OFFSETS)
		put(o, 9, 0x180 | (unsigned)off);
	else
		put(o, 13, 0x1000 | (unsigned)off);
	if (len < 5) {
		put(o, 2, (unsigned)len - 2);
	} else if (len < 8) {
		put(o, 4, 0xc | (unsigned)(len - 5));
	} else {
		put(o, 4, 0xf);
		for (len -= 8; len >= 15; len -= 15)
			put(o, 4, 0xf);
		put(o, 4, (unsigned)len);
	}
}

static inline unsigned hash2(const uint8_t *p)
{
	return ((uint32_t)(p[0] << 8 | p[1]) * 0x9e3779b1u) >> (32 - HASH_BITS);
}

/* Enters position pos (which has a byte after it) and returns the chain it joined. */
static inline unsigned insert(struct chains *c, const uint8_t *src, size_t pos)
{
	unsigned h = hash2(src + pos);
	unsigned older = c->head[h];

	c->prev[pos & (WINDOW - 1)] = (uint16_t)older;
	c->head[h] = (uint16_t)pos;
	return older;
}

/* The longest earlier copy of the bytes at pos; enters pos. Returns its length (0 when
 * there is none of 2 bytes or more) and its offset in *off. Of equally long ones the
 * nearest wins: a 7-bit offset is shorter. */
static size_t longest_match(struct chains *c, const uint8_t *src, size_t srclen, size_t pos,
			    size_t *off)
{
	size_t best = 1, cand, len, left = srclen - pos;
	int tries = MAX_CANDIDATES;

	for (cand = insert(c, src, pos); cand != NO_POS && pos - cand <= MAX_OFFSET && tries--;
	     cand = c->prev[cand & (WINDOW - 1)]) {
		/* Different from the best at its end: it cannot be longer. */
		if (src[cand + best] != src[pos + best])
			continue;
		for (len = 0; len < left && src[cand + len] == src[pos + len]; len++)
			;
		if (len > best) {
			best = len;
			*off = pos - cand;
			if (len == left)
				break;
		}
	}
	return best > 1 ? best : 0;
}

int lzs_compress(uint8_t *dst, size_t dstcap, const uint8_t *src, size_t srclen)
{
	struct chains c;
	struct bit_out o = {.p = dst, .room = dstcap};
	size_t pos = 0, end, len, off = 0;

	if (srclen > LZS_MAX_INPUT)
		return -EFBIG;
	memset(c.head, 0xff, sizeof(c.head));
	while (pos < srclen && !o.full) {
		len = pos + 1 < srclen ? longest_match(&c, src, srclen, pos, &off) : 0;
		if (len == 0) {
			put(&o, 9, src[pos++]);
			continue;
		}
		put_copy(&o, off, len);
		/* The copied bytes may start later matches too (a position is entered once
		 * it has a byte after it to hash with). */
		end = pos + len;
		for (pos++; pos < end && pos + 1 < srclen; pos++)
			insert(&c, src, pos);
		pos = end;
	}
	put(&o, 9, END_MARKER);
	if (o.full)
		return -EFBIG; /* and o.n is no longer the count of bits to pad */
	if (o.n > 0)
		put(&o, 8 - o.n, 0);
	return o.full ? -EFBIG : (int)(o.p - dst);
}
