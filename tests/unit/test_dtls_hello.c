#include "config.h"
#include "main/dtls_hello.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"

/* First datagrams of openconnect 9.01 (Debian 12, GnuTLS 3.7.9) against
 * Debian's ocserv 1.1.6, captured in a lab namespace, with the id that the
 * CONNECT response gave: PSK-NEGOTIATE (X-DTLS-App-ID; the record version is
 * DTLS 1.0 although DTLS 1.2 was negotiated), legacy with
 * --dtls-ciphers=AES128-SHA (Cisco DTLS 0.9, X-DTLS-Session-ID) and legacy
 * with --dtls-ciphers=OC-DTLS1_2-AES256-GCM (DTLS 1.2, X-DTLS-Session-ID). */
static const uint8_t hello_psk[] = {
    0x16, 0xfe, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x9b, 0x01, 0x00, 0x00,
    0x8f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x8f, 0xfe, 0xfd, 0xe0, 0x44, 0x7e, 0xbb, 0x0a,
    0x08, 0xb7, 0xbe, 0x8b, 0xcc, 0x6d, 0xff, 0xf4, 0x24, 0x66, 0x9c, 0x7a, 0x6c, 0x1b, 0x4f, 0x51,
    0x5f, 0x2a, 0x9c, 0x44, 0x04, 0xf6, 0x4e, 0xda, 0xff, 0xef, 0xdb, 0x20, 0xd9, 0x72, 0x6d, 0x19,
    0x6b, 0x06, 0xfc, 0xc1, 0x73, 0x53, 0xff, 0x16, 0x4c, 0xa3, 0xd3, 0x50, 0x2e, 0x28, 0x31, 0xf4,
    0x85, 0xec, 0x0b, 0x29, 0x57, 0x2a, 0xb4, 0xed, 0x2a, 0xdf, 0xfc, 0x6d, 0x00, 0x00, 0x10, 0x00,
    0xa9, 0xcc, 0xab, 0xc0, 0xa5, 0x00, 0x8d, 0x00, 0xa8, 0xc0, 0xa4, 0x00, 0x8c, 0x00, 0xae, 0x01,
    0x00, 0x00, 0x35, 0x00, 0x0d, 0x00, 0x22, 0x00, 0x20, 0x04, 0x01, 0x08, 0x09, 0x08, 0x04, 0x04,
    0x03, 0x08, 0x07, 0x05, 0x01, 0x08, 0x0a, 0x08, 0x05, 0x05, 0x03, 0x08, 0x08, 0x06, 0x01, 0x08,
    0x0b, 0x08, 0x06, 0x06, 0x03, 0x02, 0x01, 0x02, 0x03, 0x00, 0x23, 0x00, 0x00, 0xff, 0x01, 0x00,
    0x01, 0x00, 0x00, 0x1c, 0x00, 0x02, 0x40, 0x00,
};

static const uint8_t hello_dtls09[] = {
    0x16, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x67, 0x01, 0x00,
    0x00, 0x5b, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x5b, 0x01, 0x00, 0x31, 0x64, 0x2f,
    0x14, 0x38, 0x2f, 0xdb, 0x8f, 0x42, 0x96, 0x97, 0x4a, 0x74, 0xd2, 0x9c, 0x6e, 0x84, 0x73,
    0x0f, 0x90, 0xa5, 0xe5, 0xae, 0xb5, 0x1b, 0x70, 0x25, 0x8f, 0x74, 0xb1, 0xdc, 0x7d, 0x20,
    0x84, 0x5c, 0x01, 0xe4, 0x2a, 0xb4, 0xab, 0x71, 0xdb, 0xa4, 0x3a, 0xbd, 0x62, 0x69, 0x21,
    0x80, 0x65, 0xfb, 0x7c, 0xd6, 0xb4, 0x84, 0xdc, 0xf0, 0x29, 0xff, 0x68, 0xc9, 0xbd, 0x69,
    0xc6, 0x2c, 0x00, 0x00, 0x02, 0x00, 0x2f, 0x01, 0x00, 0x00, 0x0f, 0x00, 0x23, 0x00, 0x00,
    0xff, 0x01, 0x00, 0x01, 0x00, 0x00, 0x1c, 0x00, 0x02, 0x40, 0x00,
};

static const uint8_t hello_dtls12[] = {
    0x16, 0xfe, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x8d, 0x01, 0x00, 0x00,
    0x81, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x81, 0xfe, 0xfd, 0x1a, 0xf0, 0x0a, 0xa1, 0x0e,
    0x97, 0x4f, 0x82, 0x2e, 0x3c, 0x11, 0x10, 0x5f, 0x27, 0x06, 0x87, 0x2a, 0xb0, 0xcc, 0x4b, 0xb6,
    0xff, 0x0c, 0x17, 0x69, 0xf2, 0xbd, 0x4d, 0xf1, 0xf7, 0xde, 0xc8, 0x20, 0x11, 0x23, 0x52, 0xed,
    0xf8, 0x15, 0x87, 0x40, 0xbd, 0xb1, 0x6d, 0x9a, 0x76, 0x1c, 0x7c, 0x78, 0x9a, 0x2f, 0xd2, 0xf3,
    0x8e, 0x60, 0xb3, 0xeb, 0x56, 0xfc, 0x5a, 0x3d, 0xee, 0x42, 0x71, 0xdf, 0x00, 0x00, 0x02, 0x00,
    0x9d, 0x01, 0x00, 0x00, 0x35, 0x00, 0x0d, 0x00, 0x22, 0x00, 0x20, 0x04, 0x01, 0x08, 0x09, 0x08,
    0x04, 0x04, 0x03, 0x08, 0x07, 0x05, 0x01, 0x08, 0x0a, 0x08, 0x05, 0x05, 0x03, 0x08, 0x08, 0x06,
    0x01, 0x08, 0x0b, 0x08, 0x06, 0x06, 0x03, 0x02, 0x01, 0x02, 0x03, 0x00, 0x23, 0x00, 0x00, 0xff,
    0x01, 0x00, 0x01, 0x00, 0x00, 0x1c, 0x00, 0x02, 0x40, 0x00,
};

/* The client's second flight in PSK mode: ClientKeyExchange,
 * ChangeCipherSpec and Finished. */
static const uint8_t second_flight[] = {
    0x16, 0xfe, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x11, 0x10, 0x00,
    0x00, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x00, 0x03, 0x70, 0x73, 0x6b,
    0x14, 0xfe, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01, 0x01, 0x16,
    0xfe, 0xfd, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x30, 0x00, 0x01, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0xa8, 0xa6, 0x5d, 0xf5, 0x7b, 0xac, 0x96, 0x02, 0x12, 0xd4,
    0xd6, 0x59, 0x99, 0x2d, 0xd0, 0x40, 0xd6, 0x02, 0x65, 0x9b, 0x88, 0xc8, 0x98, 0x79, 0xde,
    0xda, 0x64, 0xb8, 0xc5, 0x12, 0x3a, 0x0a, 0xdf, 0x4e, 0x4b, 0x41, 0x00, 0x93, 0x4f, 0xd9,
};

static const struct {
	const uint8_t *pkt;
	size_t len;
	const char *id_hex;
} captured[] = {
    {hello_psk, sizeof(hello_psk),
     "d9726d196b06fcc17353ff164ca3d3502e2831f485ec0b29572ab4ed2adffc6d"},
    {hello_dtls09, sizeof(hello_dtls09),
     "845c01e42ab4ab71dba43abd6269218065fb7cd6b484dcf029ff68c9bd69c62c"},
    {hello_dtls12, sizeof(hello_dtls12),
     "112352edf8158740bdb16d9a761c7c789a2fd2f38e60b3eb56fc5a3dee4271df"},
};

#define NCAPTURED (sizeof(captured) / sizeof(captured[0]))

/* Offsets of protocol.md §5.2. */
#define OFF_REC_LEN  11
#define OFF_HS_TYPE  13
#define OFF_HS_LEN   14
#define OFF_FRAG_OFF 19
#define OFF_FRAG_LEN 22
#define OFF_ID_LEN   59
#define OFF_ID       60

static void put16(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put24(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(v >> 16);
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)v;
}

/* A minimal ClientHello built by hand from the layout: session id of id_len
 * bytes (1, 2, ...), empty cookie, one suite, null compression, no extensions.
 * Returns its length. */
static size_t build_hello(uint8_t *buf, uint8_t major, uint8_t minor, size_t id_len)
{
	size_t body = 2 + 32 + 1 + id_len + 1 + 2 + 2 + 2;
	uint8_t *p = buf;

	memset(buf, 0, 13 + 12 + body);
	p[0] = 22;
	p[1] = major;
	p[2] = minor;
	put16(p + OFF_REC_LEN, 12 + body);
	p[OFF_HS_TYPE] = 1;
	put24(p + OFF_HS_LEN, body);
	put24(p + OFF_FRAG_LEN, body);
	p = buf + 25;
	*p++ = major;
	*p++ = minor;
	for (size_t i = 0; i < 32; i++)
		*p++ = (uint8_t)(0x40 + i);
	*p++ = (uint8_t)id_len;
	for (size_t i = 0; i < id_len; i++)
		*p++ = (uint8_t)(i + 1);
	*p++ = 0;    /* cookie */
	p += 2;      /* suites length, filled below */
	*p++ = 0x00; /* TLS_RSA_WITH_AES_128_CBC_SHA */
	*p++ = 0x2f;
	*p++ = 1; /* one compression method: null */
	*p++ = 0;
	put16(buf + 25 + 2 + 32 + 1 + id_len + 1, 2);
	return (size_t)(p - buf);
}

static int parse(const uint8_t *pkt, size_t len)
{
	const uint8_t *id = NULL;
	size_t id_len = 0;

	return dtls_hello_session_id(pkt, len, &id, &id_len);
}

static void unhex(uint8_t *out, const char *hex, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned int v;

		ck_assert_int_eq(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

START_TEST(test_captured)
{
	uint8_t want[32];
	const uint8_t *id;
	size_t id_len;

	for (size_t i = 0; i < NCAPTURED; i++) {
		unhex(want, captured[i].id_hex, sizeof(want));
		id = NULL;
		id_len = 0;
		ck_assert_int_eq(
		    dtls_hello_session_id(captured[i].pkt, captured[i].len, &id, &id_len), 0);
		ck_assert_ptr_eq(id, captured[i].pkt + OFF_ID);
		ck_assert_uint_eq(id_len, 32);
		ck_assert_mem_eq(id, want, sizeof(want));
	}
	ck_assert_int_eq(parse(second_flight, sizeof(second_flight)), -EINVAL);
}
END_TEST

/* Every length checks out, so each shorter datagram is a lie somewhere. */
START_TEST(test_truncated)
{
	for (size_t i = 0; i < NCAPTURED; i++)
		for (size_t len = 0; len < captured[i].len; len++)
			ck_assert_int_eq(parse(captured[i].pkt, len), -EINVAL);
}
END_TEST

/* A datagram may carry more records after the ClientHello. */
START_TEST(test_trailing_record)
{
	uint8_t buf[512];
	const uint8_t *id;
	size_t id_len;

	for (size_t i = 0; i < NCAPTURED; i++) {
		memcpy(buf, captured[i].pkt, captured[i].len);
		memset(buf + captured[i].len, 0x17, 40);
		ck_assert_int_eq(dtls_hello_session_id(buf, captured[i].len + 40, &id, &id_len), 0);
		ck_assert_ptr_eq(id, buf + OFF_ID);
		ck_assert_uint_eq(id_len, 32);
	}
}
END_TEST

START_TEST(test_built_versions)
{
	static const uint8_t ok[][2] = {{254, 255}, {254, 253}, {1, 0}};
	static const uint8_t bad[][2] = {{254, 254}, {254, 252}, {253, 255}, {3, 3},
					 {3, 1},     {1, 1},     {0, 0},     {255, 255}};
	uint8_t buf[512];
	const uint8_t *id;
	size_t len, id_len;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		len = build_hello(buf, ok[i][0], ok[i][1], 16);
		ck_assert_int_eq(dtls_hello_session_id(buf, len, &id, &id_len), 0);
		ck_assert_ptr_eq(id, buf + OFF_ID);
		ck_assert_uint_eq(id_len, 16);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		len = build_hello(buf, bad[i][0], bad[i][1], 16);
		ck_assert_int_eq(parse(buf, len), -EINVAL);
	}
}
END_TEST

START_TEST(test_id_length)
{
	uint8_t buf[512];
	const uint8_t *id;
	size_t len, id_len;

	for (size_t n = 1; n <= DTLS_SESSION_ID_MAX; n++) {
		len = build_hello(buf, 254, 253, n);
		ck_assert_int_eq(dtls_hello_session_id(buf, len, &id, &id_len), 0);
		ck_assert_ptr_eq(id, buf + OFF_ID);
		ck_assert_uint_eq(id_len, n);
		ck_assert_uint_eq(id[0], 1);
		ck_assert_uint_eq(id[n - 1], n);
	}
	len = build_hello(buf, 254, 253, 0);
	ck_assert_int_eq(parse(buf, len), -EINVAL);
	len = build_hello(buf, 254, 253, DTLS_SESSION_ID_MAX + 1);
	ck_assert_int_eq(parse(buf, len), -EINVAL);
	len = build_hello(buf, 254, 253, 255);
	ck_assert_int_eq(parse(buf, len), -EINVAL);

	/* The same for the captured hellos, whose datagrams are long enough that
	 * 33 bytes would still fit. */
	for (size_t i = 0; i < NCAPTURED; i++) {
		memcpy(buf, captured[i].pkt, captured[i].len);
		buf[OFF_ID_LEN] = 0;
		ck_assert_int_eq(parse(buf, captured[i].len), -EINVAL);
		buf[OFF_ID_LEN] = 33;
		ck_assert_int_eq(parse(buf, captured[i].len), -EINVAL);
		buf[OFF_ID_LEN] = 1;
		ck_assert_int_eq(parse(buf, captured[i].len), 0);
	}
}
END_TEST

START_TEST(test_wrong_types)
{
	static const uint8_t content[] = {0, 20, 21, 23, 24, 25, 150, 255};
	static const uint8_t hs[] = {0, 2, 3, 4, 11, 16, 20, 255};
	uint8_t buf[512];

	for (size_t i = 0; i < NCAPTURED; i++) {
		for (size_t j = 0; j < sizeof(content); j++) {
			memcpy(buf, captured[i].pkt, captured[i].len);
			buf[0] = content[j];
			ck_assert_int_eq(parse(buf, captured[i].len), -EINVAL);
		}
		for (size_t j = 0; j < sizeof(hs); j++) {
			memcpy(buf, captured[i].pkt, captured[i].len);
			buf[OFF_HS_TYPE] = hs[j];
			ck_assert_int_eq(parse(buf, captured[i].len), -EINVAL);
		}
	}
}
END_TEST

/* A later fragment does not start with the session id; any non-zero byte of
 * the offset makes it one. */
START_TEST(test_fragment_offset)
{
	uint8_t buf[512];

	for (size_t i = 0; i < NCAPTURED; i++) {
		for (size_t b = 0; b < 3; b++) {
			memcpy(buf, captured[i].pkt, captured[i].len);
			buf[OFF_FRAG_OFF + b] = 1;
			ck_assert_int_eq(parse(buf, captured[i].len), -EINVAL);
		}
	}
}
END_TEST

START_TEST(test_lying_lengths)
{
	uint8_t buf[512];
	size_t len, rec, frag;

	for (size_t i = 0; i < NCAPTURED; i++) {
		len = captured[i].len;
		rec = len - 13;
		frag = rec - 12;

		/* Record length past the datagram, also by the high byte. */
		memcpy(buf, captured[i].pkt, len);
		put16(buf + OFF_REC_LEN, rec + 1);
		ck_assert_int_eq(parse(buf, len), -EINVAL);
		put16(buf + OFF_REC_LEN, rec + 256);
		ck_assert_int_eq(parse(buf, len), -EINVAL);
		put16(buf + OFF_REC_LEN, 0xffff);
		ck_assert_int_eq(parse(buf, len), -EINVAL);

		/* Record too short for the fragment, or for a handshake header. */
		put16(buf + OFF_REC_LEN, rec - 1);
		ck_assert_int_eq(parse(buf, len), -EINVAL);
		put16(buf + OFF_REC_LEN, 11);
		ck_assert_int_eq(parse(buf, len), -EINVAL);
		put16(buf + OFF_REC_LEN, 0);
		ck_assert_int_eq(parse(buf, len), -EINVAL);

		/* Fragment longer than the record. */
		memcpy(buf, captured[i].pkt, len);
		put24(buf + OFF_FRAG_LEN, frag + 1);
		put24(buf + OFF_HS_LEN, frag + 1);
		ck_assert_int_eq(parse(buf, len), -EINVAL);
		put24(buf + OFF_FRAG_LEN, 0xffffff);
		put24(buf + OFF_HS_LEN, 0xffffff);
		ck_assert_int_eq(parse(buf, len), -EINVAL);

		/* Fragment longer than the message. */
		memcpy(buf, captured[i].pkt, len);
		put24(buf + OFF_HS_LEN, frag - 1);
		ck_assert_int_eq(parse(buf, len), -EINVAL);
		put24(buf + OFF_HS_LEN, 0);
		ck_assert_int_eq(parse(buf, len), -EINVAL);

		/* Fragment ending inside the session id or before its length. */
		memcpy(buf, captured[i].pkt, len);
		put24(buf + OFF_FRAG_LEN, 2 + 32 + 1 + 31);
		ck_assert_int_eq(parse(buf, len), -EINVAL);
		put24(buf + OFF_FRAG_LEN, 2 + 32);
		ck_assert_int_eq(parse(buf, len), -EINVAL);
		put24(buf + OFF_FRAG_LEN, 0);
		ck_assert_int_eq(parse(buf, len), -EINVAL);

		/* A first fragment that ends right after the session id is
		 * enough, with a message longer than it. */
		put24(buf + OFF_FRAG_LEN, 2 + 32 + 1 + 32);
		ck_assert_int_eq(parse(buf, len), 0);
		put16(buf + OFF_REC_LEN, 12 + 2 + 32 + 1 + 32);
		ck_assert_int_eq(parse(buf, len), 0);
		put16(buf + OFF_REC_LEN, 12 + 2 + 32 + 1 + 31);
		ck_assert_int_eq(parse(buf, len), -EINVAL);
	}
}
END_TEST

START_TEST(test_outputs_untouched)
{
	static const uint8_t marker = 0;
	const uint8_t *id = &marker;
	size_t id_len = 77;

	ck_assert_int_eq(dtls_hello_session_id(hello_psk, sizeof(hello_psk) - 1, &id, &id_len),
			 -EINVAL);
	ck_assert_ptr_eq(id, &marker);
	ck_assert_uint_eq(id_len, 77);
	ck_assert_int_eq(dtls_hello_session_id(NULL, 0, &id, &id_len), -EINVAL);
	ck_assert_ptr_eq(id, &marker);
}
END_TEST

int main(void)
{
	const struct check_test tests[] = {
	    {test_captured},          {test_truncated},
	    {test_trailing_record},   {test_built_versions},
	    {test_id_length},         {test_wrong_types},
	    {test_fragment_offset},   {test_lying_lengths},
	    {test_outputs_untouched}, {NULL},
	};
	const struct check_case cases[] = {
	    {"session_id", NULL, NULL, 0, tests},
	    {NULL},
	};

	return check_main("dtls_hello", cases);
}
