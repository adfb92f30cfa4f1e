/* The tunnel's compression: which method a client's offer gets, and that packets
 * compress only when they shrink and come back byte for byte. */
#include "config.h"
#include "worker/compress.h"

#include <check.h>
#include <string.h>

#include "check_main.h"

static char lz4[] = "oc-lz4", lzs[] = "lzs";
static char *lz4_first[] = {lz4, lzs};
static char *lzs_first[] = {lzs, lz4};

static const char *chosen(const char *offer, char **order, size_t n)
{
	const struct comp_method *m = comp_choose(offer, order, n);

	return m ? comp_name(m) : NULL;
}

START_TEST(test_choose_server_order)
{
	ck_assert_str_eq(chosen("oc-lz4,lzs", lz4_first, 2), "oc-lz4");
	ck_assert_str_eq(chosen("oc-lz4,lzs", lzs_first, 2), "lzs");
	/* the client's order does not matter, the server's does */
	ck_assert_str_eq(chosen("lzs,oc-lz4", lz4_first, 2), "oc-lz4");
	ck_assert_str_eq(chosen("deflate,lzs", lz4_first, 2), "lzs");
	ck_assert_str_eq(chosen(" LZS , deflate", lz4_first, 2), "lzs");
	/* only what the server allows */
	ck_assert_str_eq(chosen("oc-lz4,lzs", lzs_first, 1), "lzs");
	ck_assert_ptr_null(chosen("oc-lz4", lzs_first, 1));
}
END_TEST

START_TEST(test_choose_nothing)
{
	ck_assert_ptr_null(chosen(NULL, lz4_first, 2));
	ck_assert_ptr_null(chosen("", lz4_first, 2));
	ck_assert_ptr_null(chosen("deflate", lz4_first, 2));
	ck_assert_ptr_null(chosen("oc-lz4x,xlzs,lz", lz4_first, 2));
	ck_assert_ptr_null(chosen(",,,", lz4_first, 2));
	ck_assert_ptr_null(chosen("oc-lz4,lzs", lz4_first, 0));
	ck_assert_str_eq(comp_name(NULL), "");
}
END_TEST

/* An IPv4 packet of `len` bytes whose payload is `fill` (or pseudo-random bytes). */
static void packet(uint8_t *p, size_t len, int fill)
{
	uint32_t x = 2463534242u;

	memset(p, 0, len);
	p[0] = 0x45;
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	p[9] = 1;
	for (size_t i = 20; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = fill >= 0 ? (uint8_t)fill : (uint8_t)x;
	}
}

START_TEST(test_round_trip)
{
	char *name = _i ? lzs : lz4;
	const struct comp_method *m = comp_choose(name, &name, 1);
	static const size_t sizes[] = {40, 41, 100, 257, 1328, 1400, 9000, COMP_MAX_PACKET};
	uint8_t p[COMP_MAX_PACKET], z[COMP_MAX_PACKET], back[COMP_MAX_PACKET];

	ck_assert_ptr_nonnull(m);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t zlen;

		packet(p, sizes[i], 0);
		zlen = comp_packet(m, z, sizeof(z), p, sizes[i]);
		ck_assert_msg(zlen > 0 && zlen < (sizes[i] < 100 ? sizes[i] : sizes[i] / 4),
			      "%s: %zu bytes to %zu", name,
			      sizes[i], zlen);
		ck_assert_int_eq(comp_unpacket(m, back, sizeof(back), z, zlen), (int)sizes[i]);
		ck_assert_mem_eq(back, p, sizes[i]);
		/* a packet larger than the room given is refused, not cut */
		ck_assert_int_lt(comp_unpacket(m, back, sizes[i] - 1, z, zlen), 0);
	}
}
END_TEST

START_TEST(test_incompressible_stays)
{
	char *name = _i ? lzs : lz4;
	const struct comp_method *m = comp_choose(name, &name, 1);
	uint8_t p[1400], z[COMP_MAX_PACKET];

	packet(p, sizeof(p), -1);
	ck_assert_uint_eq(comp_packet(m, z, sizeof(z), p, sizeof(p)), 0);
	/* too short to gain, and beyond what a client may be sent */
	ck_assert_uint_eq(comp_packet(m, z, sizeof(z), p, 1), 0);
	ck_assert_uint_eq(comp_packet(m, z, sizeof(z), p, 0), 0);
}
END_TEST

START_TEST(test_malformed_refused)
{
	char *name = _i ? lzs : lz4;
	const struct comp_method *m = comp_choose(name, &name, 1);
	uint8_t out[COMP_MAX_PACKET];
	/* LZ4: a match before the start of the output; LZS: no end marker. */
	static const uint8_t lz4_bad[] = {0x1f, 'a', 0x10, 0x00, 0x00};
	static const uint8_t lzs_bad[] = {0x20, 0x10};
	const uint8_t *bad = _i ? lzs_bad : lz4_bad;
	size_t bad_len = _i ? sizeof(lzs_bad) : sizeof(lz4_bad);

	ck_assert_int_lt(comp_unpacket(m, out, sizeof(out), bad, bad_len), 0);
	ck_assert_int_lt(comp_unpacket(m, out, sizeof(out), bad, 0), 0);
}
END_TEST

int main(void)
{
	const struct check_test tests[] = {
	    {test_choose_server_order},
	    {test_choose_nothing},
	    {test_round_trip, true, 2},
	    {test_incompressible_stays, true, 2},
	    {test_malformed_refused, true, 2},
	    {NULL},
	};
	const struct check_case cases[] = {
	    {"compress", NULL, NULL, 0, tests},
	    {NULL},
	};

	return check_main("compress", cases);
}
