#include "config.h"
#include "worker/dtls_frame.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"

START_TEST(test_parse_types)
{
	static const uint8_t types[] = {
	    DTLS_DATA, DTLS_DPD_REQ, DTLS_DPD_RESP, DTLS_KEEPALIVE, DTLS_COMPRESSED, 0x05,
	    0x09,      0x42,         0xff};
	uint8_t rec[64];
	struct dtls_frame f;

	for (size_t i = 0; i < sizeof(types); i++) {
		memset(rec, 0x5a, sizeof(rec));
		rec[0] = types[i];
		ck_assert_int_eq(dtls_frame_parse(rec, sizeof(rec), &f), 0);
		ck_assert_uint_eq(f.type, types[i]);
		ck_assert_ptr_eq(f.payload, rec + 1);
		ck_assert_uint_eq(f.len, sizeof(rec) - 1);
	}
}
END_TEST

/* A KEEPALIVE, and the client's answer to the server's DPD-REQ, are one byte. */
START_TEST(test_header_only)
{
	static const uint8_t rec[] = {DTLS_KEEPALIVE};
	struct dtls_frame f;

	ck_assert_int_eq(dtls_frame_parse(rec, sizeof(rec), &f), 0);
	ck_assert_uint_eq(f.type, DTLS_KEEPALIVE);
	ck_assert_ptr_eq(f.payload, rec + 1);
	ck_assert_uint_eq(f.len, 0);
}
END_TEST

START_TEST(test_empty)
{
	static const uint8_t rec[] = {DTLS_DATA};
	struct dtls_frame f = {.type = 0x77, .payload = NULL, .len = 99};

	ck_assert_int_eq(dtls_frame_parse(rec, 0, &f), -EINVAL);
	ck_assert_int_eq(dtls_frame_parse(NULL, 0, &f), -EINVAL);
	ck_assert_uint_eq(f.type, 0x77);
	ck_assert_ptr_null(f.payload);
	ck_assert_uint_eq(f.len, 99);
}
END_TEST

START_TEST(test_put_bytes)
{
	uint8_t buf[8] = {0xee, 'a', 'b', 'c', 0xee, 0xee, 0xee, 0xee};
	static const uint8_t want[8] = {DTLS_DATA, 'a', 'b', 'c', 0xee, 0xee, 0xee, 0xee};

	ck_assert_uint_eq(dtls_frame_put(buf, DTLS_DATA, 3), 4);
	ck_assert_mem_eq(buf, want, sizeof(want));
	ck_assert_uint_eq(dtls_frame_put(buf, DTLS_DPD_RESP, 0), 1);
	ck_assert_uint_eq(buf[0], DTLS_DPD_RESP);
	ck_assert_uint_eq(buf[1], 'a');
}
END_TEST

/* The MTU probe (protocol.md §5.6): the answer is the request with its type
 * changed, payload and length kept, written over the same buffer. */
START_TEST(test_dpd_echo)
{
	static uint8_t rec[1 + 1434];
	uint8_t copy[sizeof(rec)];
	struct dtls_frame f;
	size_t n;

	for (size_t i = 0; i < sizeof(rec); i++)
		rec[i] = (uint8_t)(i * 7 + 3);
	rec[0] = DTLS_DPD_REQ;
	memcpy(copy, rec, sizeof(rec));
	ck_assert_int_eq(dtls_frame_parse(rec, sizeof(rec), &f), 0);
	ck_assert_uint_eq(f.type, DTLS_DPD_REQ);
	ck_assert_uint_eq(f.len, 1434);
	n = dtls_frame_put(rec, DTLS_DPD_RESP, f.len);
	ck_assert_uint_eq(n, sizeof(rec));
	ck_assert_uint_eq(rec[0], DTLS_DPD_RESP);
	ck_assert_mem_eq(rec + 1, copy + 1, 1434);
}
END_TEST

START_TEST(test_round_trip)
{
	static const uint8_t types[] = {DTLS_DATA, DTLS_DPD_REQ, DTLS_DPD_RESP, DTLS_KEEPALIVE,
					DTLS_COMPRESSED};
	static const size_t lens[] = {0, 1, 20, 1280, 1434, 16383};
	static uint8_t buf[16384];
	struct dtls_frame f;

	for (size_t i = 0; i < sizeof(types); i++) {
		for (size_t j = 0; j < sizeof(lens) / sizeof(lens[0]); j++) {
			size_t n = dtls_frame_put(buf, types[i], lens[j]);

			ck_assert_uint_eq(n, lens[j] + DTLS_HDR_LEN);
			ck_assert_int_eq(dtls_frame_parse(buf, n, &f), 0);
			ck_assert_uint_eq(f.type, types[i]);
			ck_assert_uint_eq(f.len, lens[j]);
			ck_assert_ptr_eq(f.payload, buf + DTLS_HDR_LEN);
		}
	}
}
END_TEST

int main(void)
{
	const struct check_test tests[] = {
	    {test_parse_types}, {test_header_only}, {test_empty}, {test_put_bytes},
	    {test_dpd_echo},    {test_round_trip},  {NULL},
	};
	const struct check_case cases[] = {
	    {"framing", NULL, NULL, 0, tests},
	    {NULL},
	};

	return check_main("dtls_frame", cases);
}
