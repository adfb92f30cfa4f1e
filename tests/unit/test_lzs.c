#include "config.h"
#include "worker/lzs.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"

#define MAX_PACKET 16384
/* All literals, 9 bits a byte, is the longest a stream gets: every copy is shorter than
 * the literals it stands for. */
#define WORST(n) ((n) + ((n) + 9 + 7) / 8)

static uint64_t rng_state;

static uint8_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint8_t)(rng_state >> 24);
}

static void fill_random(uint8_t *p, size_t n, uint64_t seed)
{
	rng_state = seed;
	for (size_t i = 0; i < n; i++)
		p[i] = rnd();
}

/* Words and HTTP-ish lines: what a text protocol in the tunnel looks like. */
static void fill_text(uint8_t *p, size_t n, uint64_t seed)
{
	static const char *const words[] = {
	    "the ",         "packet ",   "GET ", "/index.html ", "HTTP/1.1\r\n",
	    "Host: ",       "tunnel",    "\r\n", "Accept: ",     "text/html, ",
	    "of ",          "a ",        "and ", "server ",      "Content-Length: 1400\r\n",
	    "compression ", "0123456789"};
	size_t i = 0;

	rng_state = seed;
	while (i < n) {
		const char *w = words[rnd() % (sizeof(words) / sizeof(words[0]))];

		for (; *w && i < n; w++)
			p[i++] = (uint8_t)*w;
	}
}

/* A random block of `period` bytes, repeated. */
static void fill_pattern(uint8_t *p, size_t n, size_t period, uint64_t seed)
{
	fill_random(p, n < period ? n : period, seed);
	for (size_t i = period; i < n; i++)
		p[i] = p[i - period];
}

/* Compresses src with room for the worst case, checks that the stream decompresses
 * into exactly srclen bytes (a heap buffer of that size: the sanitizer build sees any
 * write past it) and that exactly the stream's length of room is enough. Returns the
 * compressed length. */
static int round_trip(const uint8_t *src, size_t srclen)
{
	static uint8_t c[WORST(LZS_MAX_INPUT)], c2[WORST(LZS_MAX_INPUT)];
	uint8_t *out = malloc(srclen ? srclen : 1);
	int n, m;

	ck_assert_ptr_nonnull(out);
	n = lzs_compress(c, WORST(srclen), src, srclen);
	ck_assert_int_gt(n, 0);
	ck_assert_int_le(n, WORST(srclen));
	m = lzs_decompress(out, srclen, c, (size_t)n);
	ck_assert_int_eq(m, (int)srclen);
	ck_assert_mem_eq(out, src, srclen);
	free(out);
	ck_assert_int_eq(lzs_compress(c2, (size_t)n, src, srclen), n);
	ck_assert_mem_eq(c2, c, (size_t)n);
	ck_assert_int_eq(lzs_compress(c2, (size_t)n - 1, src, srclen), -EFBIG);
	return n;
}

/* --- hand-built streams ---------------------------------------------------------- */

struct bits {
	uint8_t buf[8192];
	size_t n; /* bits written */
};

/* Appends the '0' and '1' of s; spaces only separate the fields for the reader. */
static void put_str(struct bits *b, const char *s)
{
	for (; *s; s++) {
		if (*s == ' ')
			continue;
		ck_assert(*s == '0' || *s == '1');
		ck_assert_uint_lt(b->n / 8, sizeof(b->buf));
		if (b->n % 8 == 0)
			b->buf[b->n / 8] = 0;
		if (*s == '1')
			b->buf[b->n / 8] |= (uint8_t)(0x80 >> (b->n % 8));
		b->n++;
	}
}

/* Appends the low k bits of v, the most significant first. */
static void put_val(struct bits *b, unsigned k, unsigned v)
{
	char s[32];

	for (unsigned i = 0; i < k; i++)
		s[i] = (v >> (k - 1 - i)) & 1 ? '1' : '0';
	s[k] = '\0';
	put_str(b, s);
}

static void put_literal(struct bits *b, uint8_t c)
{
	put_str(b, "0");
	put_val(b, 8, c);
}

/* The end marker; the zero bits after it fill the last byte. Returns the byte count. */
static size_t put_end(struct bits *b)
{
	put_str(b, "11 0000000");
	while (b->n % 8)
		put_str(b, "0");
	return b->n / 8;
}

static const char END[] = "11 0000000";

/* Each length code of the standard's table, up to three 1111 nibbles. */
static const struct {
	size_t len;
	const char *code;
} lengths[] = {
    {2, "00"},
    {3, "01"},
    {4, "10"},
    {5, "1100"},
    {6, "1101"},
    {7, "1110"},
    {8, "1111 0000"},
    {9, "1111 0001"},
    {21, "1111 1101"},
    {22, "1111 1110"},
    {23, "1111 1111 0000"},
    {24, "1111 1111 0001"},
    {37, "1111 1111 1110"},
    {38, "1111 1111 1111 0000"},
    {52, "1111 1111 1111 1110"},
    {53, "1111 1111 1111 1111 0000"},
};
#define N_LENGTHS (sizeof(lengths) / sizeof(lengths[0]))

START_TEST(test_literal)
{
	struct bits b = {.n = 0};
	uint8_t out[4];
	size_t n;

	put_str(&b, "0 01000001"); /* 'A' */
	put_str(&b, "0 11111111");
	n = put_end(&b);
	ck_assert_uint_eq(n, 4);
	ck_assert_int_eq(lzs_decompress(out, sizeof(out), b.buf, n), 2);
	ck_assert_uint_eq(out[0], 'A');
	ck_assert_uint_eq(out[1], 0xff);
}
END_TEST

START_TEST(test_end_marker_alone)
{
	static const uint8_t empty[] = {0xc0, 0x00};
	uint8_t c[4], out[1];

	ck_assert_int_eq(lzs_decompress(out, sizeof(out), empty, sizeof(empty)), 0);
	ck_assert_int_eq(lzs_decompress(NULL, 0, empty, sizeof(empty)), 0);
	/* An empty input gives the end marker alone. */
	ck_assert_int_eq(lzs_compress(c, sizeof(c), NULL, 0), 2);
	ck_assert_mem_eq(c, empty, 2);
	ck_assert_int_eq(lzs_compress(c, 1, NULL, 0), -EFBIG);
}
END_TEST

/* A literal, then a 7-bit offset of 1 with each length code: the literal repeated. */
START_TEST(test_lengths_short_offset)
{
	for (size_t i = 0; i < N_LENGTHS; i++) {
		struct bits b = {.n = 0};
		uint8_t out[64], want[64], c[64];
		size_t n, len = lengths[i].len;

		put_literal(&b, 'x');
		put_str(&b, "11 0000001");
		put_str(&b, lengths[i].code);
		n = put_end(&b);
		ck_assert_int_eq(lzs_decompress(out, sizeof(out), b.buf, n), (int)len + 1);
		memset(want, 'x', len + 1);
		ck_assert_mem_eq(out, want, len + 1);
		/* One byte short of room. */
		ck_assert_int_eq(lzs_decompress(out, len, b.buf, n), -EFBIG);
		/* The encoder writes this very stream for the same bytes. */
		ck_assert_int_eq(lzs_compress(c, sizeof(c), want, len + 1), (int)n);
		ck_assert_mem_eq(c, b.buf, n);
	}
}
END_TEST

/* 150 different bytes, then a copy of the first ones from 150 back: an 11-bit offset,
 * with each length code. */
START_TEST(test_lengths_long_offset)
{
	for (size_t i = 0; i < N_LENGTHS; i++) {
		struct bits b = {.n = 0};
		uint8_t out[256], want[256], c[256];
		size_t n, len = lengths[i].len;

		for (unsigned k = 0; k < 150; k++) {
			put_literal(&b, (uint8_t)k);
			want[k] = (uint8_t)k;
		}
		put_str(&b, "10 00010010110"); /* 150 */
		put_str(&b, lengths[i].code);
		n = put_end(&b);
		memcpy(want + 150, want, len);
		ck_assert_int_eq(lzs_decompress(out, sizeof(out), b.buf, n), (int)(150 + len));
		ck_assert_mem_eq(out, want, 150 + len);
		ck_assert_int_eq(lzs_compress(c, sizeof(c), want, 150 + len), (int)n);
		ck_assert_mem_eq(c, b.buf, n);
	}
}
END_TEST

/* The encoder takes the 7-bit form up to offset 127 and the 11-bit one from 128; the
 * decoder also takes the 11-bit form of a small offset. */
START_TEST(test_offset_forms)
{
	for (unsigned back = 126; back <= 129; back++) {
		struct bits b = {.n = 0};
		uint8_t want[256], c[256];
		size_t n;

		for (unsigned k = 0; k < back; k++) {
			put_literal(&b, (uint8_t)k);
			want[k] = (uint8_t)k;
		}
		want[back] = 0;
		want[back + 1] = 1;
		put_str(&b, back < 128 ? "11" : "10");
		put_val(&b, back < 128 ? 7 : 11, back);
		put_str(&b, "00");
		n = put_end(&b);
		ck_assert_int_eq(lzs_compress(c, sizeof(c), want, back + 2), (int)n);
		ck_assert_mem_eq(c, b.buf, n);
	}

	struct bits b = {.n = 0};
	uint8_t out[8];
	size_t n;

	put_literal(&b, 'a');
	put_literal(&b, 'b');
	put_str(&b, "10 00000000010 01"); /* 11-bit offset 2, length 3 */
	n = put_end(&b);
	ck_assert_int_eq(lzs_decompress(out, sizeof(out), b.buf, n), 5);
	ck_assert_mem_eq(out, "ababa", 5);
}
END_TEST

/* Of two copies as long, the encoder takes the nearer: its offset may be shorter. The
 * third "ab" is 100 bytes after the second and 250 after the first. */
START_TEST(test_nearest_copy)
{
	struct bits b = {.n = 0};
	uint8_t src[256], c[512];
	size_t n = 0, len;

	src[n++] = 250;
	src[n++] = 251;
	put_literal(&b, 250);
	put_literal(&b, 251);
	for (unsigned k = 0; k < 148; k++) {
		src[n++] = (uint8_t)k;
		put_literal(&b, (uint8_t)k);
	}
	src[n++] = 250;
	src[n++] = 251;
	put_str(&b, "10 00010010110 00"); /* 150 back */
	for (unsigned k = 148; k < 246; k++) {
		src[n++] = (uint8_t)k;
		put_literal(&b, (uint8_t)k);
	}
	src[n++] = 250;
	src[n++] = 251;
	put_str(&b, "11 1100100 00"); /* 100 back */
	len = put_end(&b);
	ck_assert_int_eq(lzs_compress(c, sizeof(c), src, n), (int)len);
	ck_assert_mem_eq(c, b.buf, len);
}
END_TEST

/* The farthest reach: 2047 back is a byte of the output, 2048 back is not. */
START_TEST(test_farthest_offset)
{
	static uint8_t out[4096];

	for (unsigned have = 2046; have <= 2047; have++) {
		struct bits b = {.n = 0};
		size_t n;

		for (unsigned k = 0; k < have; k++)
			put_literal(&b, (uint8_t)(k * 7));
		put_str(&b, "10 11111111111 00");
		n = put_end(&b);
		if (have < 2047) {
			ck_assert_int_eq(lzs_decompress(out, sizeof(out), b.buf, n), -EINVAL);
			continue;
		}
		ck_assert_int_eq(lzs_decompress(out, sizeof(out), b.buf, n), 2049);
		ck_assert_uint_eq(out[2047], out[0]);
		ck_assert_uint_eq(out[2048], out[1]);
	}
}
END_TEST

/* Padding after the end marker, and bytes after it, are not read: openconnect's
 * decoder stops there too. */
START_TEST(test_after_end)
{
	struct bits b = {.n = 0};
	uint8_t out[8];

	put_literal(&b, 'q');
	put_str(&b, END);
	put_str(&b, "111111");
	put_val(&b, 8, 0xff);
	ck_assert_uint_eq(b.n, 32);
	ck_assert_int_eq(lzs_decompress(out, sizeof(out), b.buf, 4), 1);
	ck_assert_uint_eq(out[0], 'q');
}
END_TEST

/* --- malformed streams ------------------------------------------------------------- */

START_TEST(test_empty_input)
{
	uint8_t out[8];

	ck_assert_int_eq(lzs_decompress(out, sizeof(out), NULL, 0), -EINVAL);
	ck_assert_int_eq(lzs_decompress(out, sizeof(out), (const uint8_t *)"\0", 1), -EINVAL);
}
END_TEST

START_TEST(test_no_end_marker)
{
	struct bits b = {.n = 0};
	uint8_t out[16];

	/* Two literals and the zero bits that fill their byte. */
	put_literal(&b, 'a');
	put_literal(&b, 'b');
	while (b.n % 8)
		put_str(&b, "0");
	ck_assert_int_eq(lzs_decompress(out, sizeof(out), b.buf, b.n / 8), -EINVAL);
	/* Eight literals fill nine bytes exactly. */
	b.n = 0;
	for (int i = 0; i < 8; i++)
		put_literal(&b, 'c');
	ck_assert_int_eq(lzs_decompress(out, sizeof(out), b.buf, 9), -EINVAL);
	/* A copy, and then nothing. */
	b.n = 0;
	put_literal(&b, 'a');
	put_str(&b, "11 0000001 00");
	while (b.n % 8)
		put_str(&b, "0");
	ck_assert_int_eq(lzs_decompress(out, sizeof(out), b.buf, b.n / 8), -EINVAL);
}
END_TEST

/* An 11-bit offset of 0 is no end marker and no copy (the stream openconnect's own test
 * feeds its decoder, and the same after a literal). */
START_TEST(test_zero_offset)
{
	static const uint8_t first[] = {0x80, 0x01, 0x80};
	struct bits b = {.n = 0};
	uint8_t out[8];
	size_t n;

	ck_assert_int_eq(lzs_decompress(out, sizeof(out), first, sizeof(first)), -EINVAL);
	put_literal(&b, 'a');
	put_str(&b, "10 00000000000 00");
	n = put_end(&b);
	ck_assert_int_eq(lzs_decompress(out, sizeof(out), b.buf, n), -EINVAL);
}
END_TEST

START_TEST(test_offset_before_start)
{
	struct bits b = {.n = 0};
	uint8_t out[64];
	size_t n;

	/* A copy before any output. */
	put_str(&b, "11 0000001 00");
	n = put_end(&b);
	ck_assert_int_eq(lzs_decompress(out, sizeof(out), b.buf, n), -EINVAL);
	/* Two back after one byte, in either form. */
	b.n = 0;
	put_literal(&b, 'a');
	put_str(&b, "11 0000010 00");
	n = put_end(&b);
	ck_assert_int_eq(lzs_decompress(out, sizeof(out), b.buf, n), -EINVAL);
	b.n = 0;
	put_literal(&b, 'a');
	put_str(&b, "10 00000000010 00");
	n = put_end(&b);
	ck_assert_int_eq(lzs_decompress(out, sizeof(out), b.buf, n), -EINVAL);
	/* The whole output back is fine: 3 back after 3 bytes. */
	b.n = 0;
	put_literal(&b, 'a');
	put_literal(&b, 'b');
	put_literal(&b, 'c');
	put_str(&b, "11 0000011 01");
	n = put_end(&b);
	ck_assert_int_eq(lzs_decompress(out, sizeof(out), b.buf, n), 6);
	ck_assert_mem_eq(out, "abcabc", 6);
}
END_TEST

/* Every proper prefix of a valid stream is refused, and the output buffer is not
 * written past its end on the way. */
START_TEST(test_truncated)
{
	static uint8_t src[3000], c[WORST(3000)], out[3000 + 16];
	int n;

	fill_text(src, 1000, 1);
	memset(src + 1000, 0, 1000); /* long copies: extended lengths */
	fill_pattern(src + 2000, 1000, 300, 2);
	n = lzs_compress(c, sizeof(c), src, sizeof(src));
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(lzs_decompress(out, sizeof(src), c, (size_t)n), (int)sizeof(src));
	for (int len = 0; len < n; len++) {
		uint8_t *in = malloc(len ? (size_t)len : 1);

		ck_assert_ptr_nonnull(in);
		memcpy(in, c, (size_t)len);
		memset(out + sizeof(src), 0xa5, 16);
		ck_assert_int_eq(lzs_decompress(out, sizeof(src), in, (size_t)len), -EINVAL);
		for (int k = 0; k < 16; k++)
			ck_assert_uint_eq(out[sizeof(src) + k], 0xa5);
		free(in);
	}
}
END_TEST

START_TEST(test_output_too_large)
{
	struct bits b = {.n = 0};
	uint8_t out[64];
	size_t n;

	for (int i = 0; i < 3; i++)
		put_literal(&b, 'a');
	n = put_end(&b);
	memset(out, 0xa5, sizeof(out));
	ck_assert_int_eq(lzs_decompress(out, 2, b.buf, n), -EFBIG);
	ck_assert_uint_eq(out[2], 0xa5);
	ck_assert_int_eq(lzs_decompress(out, 3, b.buf, n), 3);
	ck_assert_int_eq(lzs_decompress(NULL, 0, b.buf, n), -EFBIG);

	/* A copy of 10 after one literal: 11 bytes. */
	b.n = 0;
	put_literal(&b, 'z');
	put_str(&b, "11 0000001 1111 0010");
	n = put_end(&b);
	memset(out, 0xa5, sizeof(out));
	ck_assert_int_eq(lzs_decompress(out, 10, b.buf, n), -EFBIG);
	for (size_t i = 1; i < sizeof(out); i++)
		ck_assert_uint_eq(out[i], 0xa5);
	ck_assert_int_eq(lzs_decompress(out, 11, b.buf, n), 11);
}
END_TEST

/* A length of thousands of 1111 nibbles (about 120000 bytes) is refused for the room it
 * asks, not counted into an overflow; cut before its last nibble it is truncated. */
START_TEST(test_huge_length)
{
	static struct bits b;
	static uint8_t out[MAX_PACKET];
	size_t n;

	b.n = 0;
	put_literal(&b, 'z');
	put_str(&b, "11 0000001 1111");
	for (int i = 0; i < 8000; i++)
		put_str(&b, "1111");
	n = b.n / 8;
	ck_assert_int_eq(lzs_decompress(out, sizeof(out), b.buf, n), -EINVAL);
	put_str(&b, "0000");
	n = put_end(&b);
	ck_assert_int_eq(lzs_decompress(out, sizeof(out), b.buf, n), -EFBIG);
}
END_TEST

/* --- round trips ------------------------------------------------------------------- */

START_TEST(test_every_small_size)
{
	static uint8_t src[400];

	for (size_t n = 1; n <= sizeof(src); n++) {
		memset(src, 0, n);
		round_trip(src, n);
		fill_random(src, n, n);
		round_trip(src, n);
		fill_text(src, n, n);
		round_trip(src, n);
		fill_pattern(src, n, 1 + n % 17, n);
		round_trip(src, n);
	}
}
END_TEST

START_TEST(test_large_sizes)
{
	static const size_t sizes[] = {1000, 1399, 1400, 1500, 2047, 2048,  2049,
				       2050, 4095, 4096, 8192, 9000, 16383, MAX_PACKET};
	static uint8_t src[MAX_PACKET];

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = sizes[i];

		memset(src, 0, n);
		round_trip(src, n);
		fill_random(src, n, n);
		round_trip(src, n);
		fill_text(src, n, n);
		round_trip(src, n);
		for (size_t period = 1; period <= 2100; period = period * 3 + 1) {
			fill_pattern(src, n, period, period);
			round_trip(src, n);
		}
	}
}
END_TEST

/* What the copies save: 16384 zeros take a few hundred bytes (4 bits per 15 bytes of
 * length), a 1400-byte block repeated within the window is copied, text shrinks. */
START_TEST(test_ratio)
{
	static uint8_t src[MAX_PACKET];
	int n;

	memset(src, 0, sizeof(src));
	n = round_trip(src, sizeof(src));
	ck_assert_int_lt(n, 600);
	fill_pattern(src, sizeof(src), 100, 3);
	n = round_trip(src, sizeof(src));
	ck_assert_int_lt(n, 800);
	fill_pattern(src, 2800, 1400, 4);
	n = round_trip(src, 2800);
	ck_assert_int_lt(n, 1700);
	fill_text(src, 1400, 5);
	n = round_trip(src, 1400);
	ck_assert_int_lt(n, 700);
}
END_TEST

/* A copy reaches 2047 bytes back and no farther: a random block repeated 2047 bytes
 * later is copied, one repeated 2048 bytes later stays literal. */
START_TEST(test_window_edge)
{
	static uint8_t src[4096];
	int n;

	fill_pattern(src, sizeof(src), 2047, 11);
	n = round_trip(src, sizeof(src));
	ck_assert_int_lt(n, 2047 * 9 / 8 + 100);
	fill_pattern(src, sizeof(src), 2048, 12);
	n = round_trip(src, sizeof(src));
	ck_assert_int_gt(n, 4096);
}
END_TEST

/* An IPv4/UDP packet whose payload is zeros: what a ping -s 1372 sends. */
START_TEST(test_ipv4_zero_payload)
{
	static const uint8_t hdr[28] = {0x45, 0x00, 0x05, 0x78, 0x1c, 0x46, 0x40, 0x00, 0x40, 0x11,
					0x00, 0x00, 198,  18,   0,    2,    198,  18,   0,    1,
					0xd4, 0x31, 0x00, 0x35, 0x05, 0x64, 0x00, 0x00};
	static uint8_t pkt[1400], c[1400], out[1400];
	int n;

	memset(pkt, 0, sizeof(pkt));
	memcpy(pkt, hdr, sizeof(hdr));
	n = lzs_compress(c, sizeof(pkt) - 1, pkt, sizeof(pkt));
	ck_assert_int_gt(n, 0);
	ck_assert_int_lt(n, 100);
	ck_assert_int_eq(lzs_decompress(out, sizeof(out), c, (size_t)n), (int)sizeof(pkt));
	ck_assert_mem_eq(out, pkt, sizeof(pkt));
}
END_TEST

/* Random bytes do not compress: with room for one byte less than the packet the
 * encoder gives up, and leaves the packet to be sent as it is. */
START_TEST(test_incompressible)
{
	static uint8_t src[MAX_PACKET], c[MAX_PACKET];

	for (size_t n = 1; n <= MAX_PACKET; n = n < 64 ? n + 1 : n * 2 - 7) {
		fill_random(src, n, 1000 + n);
		ck_assert_int_eq(lzs_compress(c, n - 1, src, n), -EFBIG);
	}
	fill_random(src, MAX_PACKET, 77);
	ck_assert_int_eq(lzs_compress(c, MAX_PACKET - 1, src, MAX_PACKET), -EFBIG);
	ck_assert_int_eq(lzs_compress(c, 0, src, 1), -EFBIG);
}
END_TEST

/* Positions are 16-bit: up to LZS_MAX_INPUT works, more is refused. */
START_TEST(test_input_limit)
{
	static uint8_t src[LZS_MAX_INPUT + 1], c[WORST(LZS_MAX_INPUT + 1)];

	fill_text(src, sizeof(src), 9);
	round_trip(src, LZS_MAX_INPUT);
	ck_assert_int_eq(lzs_compress(c, sizeof(c), src, sizeof(src)), -EFBIG);
}
END_TEST

int main(void)
{
	const struct check_test bitstream[] = {
	    {test_literal},
	    {test_end_marker_alone},
	    {test_lengths_short_offset},
	    {test_lengths_long_offset},
	    {test_offset_forms},
	    {test_farthest_offset},
	    {test_nearest_copy},
	    {test_after_end},
	    {NULL},
	};
	const struct check_test malformed[] = {
	    {test_empty_input}, {test_no_end_marker},
	    {test_zero_offset}, {test_offset_before_start},
	    {test_truncated},   {test_output_too_large},
	    {test_huge_length}, {NULL},
	};
	const struct check_test round_trips[] = {
	    {test_every_small_size},  {test_large_sizes},    {test_ratio},       {test_window_edge},
	    {test_ipv4_zero_payload}, {test_incompressible}, {test_input_limit}, {NULL},
	};
	const struct check_case cases[] = {
	    {"bitstream", NULL, NULL, 0, bitstream},
	    {"malformed", NULL, NULL, 0, malformed},
	    {"round trips", NULL, NULL, 60, round_trips},
	    {NULL},
	};

	return check_main("lzs", cases);
}
