#include "config.h"
#include "main/proxy_proto.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "check_main.h"

static const uint8_t sig2[12] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
				 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};

/* A version 2 header: command, family, the address block and extra TLV bytes. */
static size_t v2(uint8_t *out, uint8_t cmd, uint8_t fam, const uint8_t *body, size_t len)
{
	memcpy(out, sig2, 12);
	out[12] = (uint8_t)(0x20 | cmd);
	out[13] = fam;
	out[14] = (uint8_t)(len >> 8);
	out[15] = (uint8_t)len;
	memcpy(out + 16, body, len);
	return 16 + len;
}

static int parse_text(const char *s, struct proxy_addrs *a)
{
	const char *why;

	return proxy_proto_parse((const uint8_t *)s, strlen(s), a, &why);
}

static void check_v4(const struct sockaddr_storage *ss, const char *ip, unsigned port)
{
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
	char buf[INET_ADDRSTRLEN];

	ck_assert_int_eq(ss->ss_family, AF_INET);
	ck_assert_str_eq(inet_ntop(AF_INET, &s4->sin_addr, buf, sizeof(buf)), ip);
	ck_assert_uint_eq(ntohs(s4->sin_port), port);
}

static void check_v6(const struct sockaddr_storage *ss, const char *ip, unsigned port)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
	char buf[INET6_ADDRSTRLEN];

	ck_assert_int_eq(ss->ss_family, AF_INET6);
	ck_assert_str_eq(inet_ntop(AF_INET6, &s6->sin6_addr, buf, sizeof(buf)), ip);
	ck_assert_uint_eq(ntohs(s6->sin6_port), port);
}

START_TEST(test_v1_valid)
{
	struct proxy_addrs a;
	const char *h4 = "PROXY TCP4 198.18.0.2 198.18.1.1 40000 443\r\n";
	const char *h6 = "PROXY TCP6 fd00:18::2 fd00:18::1 65535 0\r\n";

	ck_assert_int_eq(parse_text(h4, &a), (int)strlen(h4));
	ck_assert(!a.local);
	check_v4(&a.src, "198.18.0.2", 40000);
	check_v4(&a.dst, "198.18.1.1", 443);
	ck_assert_int_eq(parse_text(h6, &a), (int)strlen(h6));
	check_v6(&a.src, "fd00:18::2", 65535);
	check_v6(&a.dst, "fd00:18::1", 0);
	ck_assert_int_eq(parse_text("PROXY UNKNOWN\r\n", &a), 15);
	ck_assert(a.local);
	ck_assert_int_eq(parse_text("PROXY UNKNOWN ffff:: 1.2.3.4 1 2\r\n", &a), 34);
	ck_assert(a.local);
}
END_TEST

START_TEST(test_v1_invalid)
{
	static const char *const bad[] = {
	    "GET / HTTP/1.1\r\n",
	    "proxy TCP4 198.18.0.2 198.18.1.1 1 2\r\n",
	    "PROXY TCP4  198.18.0.2 198.18.1.1 1 2\r\n",
	    "PROXY TCP4 198.18.0.2 198.18.1.1 1 2 \r\n",
	    "PROXY TCP4 198.18.0.2 198.18.1.1 1\r\n",
	    "PROXY TCP4 198.18.0.2 198.18.1.1 01 2\r\n",
	    "PROXY TCP4 198.18.0.2 198.18.1.1 1 65536\r\n",
	    "PROXY TCP4 198.18.0.2 198.18.1.1 -1 2\r\n",
	    "PROXY TCP4 fd00::2 198.18.1.1 1 2\r\n",
	    "PROXY TCP6 198.18.0.2 fd00::1 1 2\r\n",
	    "PROXY TCP4 198.018.0.2 198.18.1.1 1 2\r\n",
	    "PROXY UDP4 198.18.0.2 198.18.1.1 1 2\r\n",
	    "PROXY UNKNOWNX\r\n",
	    "PROXY TCP4 198.18.0.2\n198.18.1.1 1 2\r\n",
	    "PROXY \r\n",
	};
	struct proxy_addrs a;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(parse_text(bad[i], &a) == -EINVAL, "accepted: %s", bad[i]);
}
END_TEST

/* Without its CRLF a line may still grow, up to 107 bytes; then it is refused. */
START_TEST(test_v1_length)
{
	char line[200];
	struct proxy_addrs a;

	memset(line, 'x', sizeof(line));
	memcpy(line, "PROXY UNKNOWN ", 14);
	line[106] = '\0';
	ck_assert_int_eq(parse_text(line, &a), 0);
	line[106] = 'x';
	line[107] = '\0';
	ck_assert_int_eq(parse_text(line, &a), -EINVAL);
	memcpy(line + 105, "\r\n", 3);
	ck_assert_int_eq(parse_text(line, &a), 107);
	memcpy(line + 106, "\r\n", 3);
	ck_assert_int_eq(parse_text(line, &a), -EINVAL);
}
END_TEST

START_TEST(test_v2_valid)
{
	const uint8_t v4[12] = {198, 18, 0, 2, 198, 18, 1, 1, 0x9c, 0x40, 0x01, 0xbb};
	uint8_t v6[36 + 7] = {
	    0xfd, 0, 0, 0x18, [15] = 2, [16] = 0xfd, [19] = 0x18, [31] = 1, [32] = 0xff,
	    [33] = 0xff, [34] = 0, [35] = 1,
	    /* two TLVs: NOOP of 1 byte, ALPN of 0 bytes */
	    [36] = 0x04, [37] = 0, [38] = 1, [39] = 0, [40] = 0x01, [41] = 0, [42] = 0};
	uint8_t buf[PROXY_MAX + 100], big[PROXY_V2_MAX - 16];
	struct proxy_addrs a;
	const char *why;
	size_t n;

	n = v2(buf, 1, 0x11, v4, sizeof(v4));
	ck_assert_int_eq(proxy_proto_parse(buf, n, &a, &why), (int)n);
	check_v4(&a.src, "198.18.0.2", 40000);
	check_v4(&a.dst, "198.18.1.1", 443);
	n = v2(buf, 1, 0x21, v6, sizeof(v6));
	ck_assert_int_eq(proxy_proto_parse(buf, n, &a, &why), (int)n);
	check_v6(&a.src, "fd00:18::2", 65535);
	check_v6(&a.dst, "fd00:18::1", 1);
	/* LOCAL: whatever follows is the balancer's and ignored */
	n = v2(buf, 0, 0x00, v4, 3);
	ck_assert_int_eq(proxy_proto_parse(buf, n, &a, &why), (int)n);
	ck_assert(a.local);
	n = v2(buf, 1, 0x00, v4, 0);
	ck_assert_int_eq(proxy_proto_parse(buf, n, &a, &why), (int)n);
	ck_assert(a.local);
	/* the longest a receiver takes: the addresses and one NOOP TLV filling the rest */
	memset(big, 0, sizeof(big));
	memcpy(big, v4, sizeof(v4));
	big[12] = 0x04;
	big[13] = (uint8_t)((sizeof(big) - 15) >> 8);
	big[14] = (uint8_t)(sizeof(big) - 15);
	n = v2(buf, 1, 0x11, big, sizeof(big));
	ck_assert_uint_eq(n, PROXY_V2_MAX);
	ck_assert_int_eq(proxy_proto_parse(buf, n, &a, &why), PROXY_V2_MAX);
	check_v4(&a.src, "198.18.0.2", 40000);
}
END_TEST

START_TEST(test_v2_invalid)
{
	const uint8_t v4[12] = {198, 18, 0, 2, 198, 18, 1, 1, 0, 1, 0, 2};
	uint8_t body[64] = {0}, buf[PROXY_MAX + 100] = {0};
	struct proxy_addrs a;
	const char *why;
	size_t n;

	n = v2(buf, 1, 0x12, v4, sizeof(v4)); /* UDP */
	ck_assert_int_eq(proxy_proto_parse(buf, n, &a, &why), -EINVAL);
	n = v2(buf, 1, 0x31, body, 64); /* AF_UNIX */
	ck_assert_int_eq(proxy_proto_parse(buf, n, &a, &why), -EINVAL);
	n = v2(buf, 2, 0x11, v4, sizeof(v4)); /* command 2 */
	ck_assert_int_eq(proxy_proto_parse(buf, 13, &a, &why), -EINVAL);
	n = v2(buf, 1, 0x11, v4, sizeof(v4));
	buf[12] = 0x11; /* version 1 in binary form */
	ck_assert_int_eq(proxy_proto_parse(buf, 13, &a, &why), -EINVAL);
	n = v2(buf, 1, 0x21, v4, sizeof(v4)); /* IPv6 with IPv4's room */
	ck_assert_int_eq(proxy_proto_parse(buf, n, &a, &why), -EINVAL);
	memcpy(body, v4, 12);
	memcpy(body + 12, (const uint8_t[]){0x04, 0x00, 0x05, 1}, 4); /* TLV longer than left */
	n = v2(buf, 1, 0x11, body, 16);
	ck_assert_int_eq(proxy_proto_parse(buf, n, &a, &why), -EINVAL);
	n = v2(buf, 1, 0x11, body, 14); /* two bytes of a TLV header */
	ck_assert_int_eq(proxy_proto_parse(buf, n, &a, &why), -EINVAL);
	n = v2(buf, 1, 0x11, v4, sizeof(v4));
	buf[14] = (PROXY_V2_MAX - 15) >> 8; /* one byte over the bound */
	buf[15] = (PROXY_V2_MAX - 15) & 0xff;
	ck_assert_int_eq(proxy_proto_parse(buf, 16, &a, &why), -EINVAL);
	buf[0] = 0x0d;
	buf[5] = 0x00; /* signature broken */
	ck_assert_int_eq(proxy_proto_parse(buf, 6, &a, &why), -EINVAL);
	ck_assert_ptr_nonnull(why);
}
END_TEST

/* Every prefix of a valid header waits for more; the end is found within what a
 * socket peeks, and nothing beyond it is taken. */
START_TEST(test_prefixes_and_end)
{
	const char *h = "PROXY TCP4 198.18.0.2 198.18.1.1 40000 443\r\n";
	const uint8_t v4[12] = {198, 18, 0, 2, 198, 18, 1, 1, 0x9c, 0x40, 0x01, 0xbb};
	uint8_t buf[128];
	struct proxy_addrs a;
	const char *why;
	size_t n, hl = strlen(h);

	memcpy(buf, h, hl);
	memcpy(buf + hl, "\x16\x03\x01", 3); /* a ClientHello's first bytes */
	for (size_t i = 0; i < hl; i++) {
		ck_assert_int_eq(proxy_proto_parse(buf, i, &a, &why), 0);
		ck_assert_uint_eq(proxy_proto_header_end(buf, i), i);
	}
	ck_assert_uint_eq(proxy_proto_header_end(buf, hl + 3), hl);
	n = v2(buf, 1, 0x11, v4, sizeof(v4));
	memcpy(buf + n, "\x16\x03\x01", 3);
	for (size_t i = 0; i < n; i++) {
		ck_assert_int_eq(proxy_proto_parse(buf, i, &a, &why), 0);
		ck_assert_uint_eq(proxy_proto_header_end(buf, i), i);
	}
	ck_assert_uint_eq(proxy_proto_header_end(buf, n + 3), n);
	ck_assert_int_eq(proxy_proto_parse(buf, n + 3, &a, &why), (int)n);
}
END_TEST

int main(void)
{
	const struct check_test tests[] = {
	    {test_v1_valid},   {test_v1_invalid},       {test_v1_length}, {test_v2_valid},
	    {test_v2_invalid}, {test_prefixes_and_end}, {NULL},
	};
	const struct check_case cases[] = {
	    {"proxy_proto", NULL, NULL, 0, tests},
	    {NULL},
	};

	return check_main("proxy_proto", cases);
}
