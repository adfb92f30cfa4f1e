#include "config.h"
#include "common/netaddr.h"
#include "common/session.h"
#include "common/text.h"

#include <arpa/inet.h>
#include <check.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "check_main.h"

static void utf8(const char *in, const char *want)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%s", in);
	text_make_utf8(buf);
	ck_assert_str_eq(buf, want);
}

START_TEST(test_make_utf8)
{
	utf8("plain ASCII", "plain ASCII");
	utf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	utf8("caf\xe9", "caf?");              /* Latin-1 */
	utf8("\xe9 x", "? x");                /* lead byte without continuation */
	utf8("\xff\xfe", "??");               /* never valid */
	utf8("\xc0\xaf", "??");               /* overlong '/' */
	utf8("\xe0\x80\xaf", "???");          /* overlong, three bytes */
	utf8("\xed\xa0\x80", "???");          /* surrogate U+D800 */
	utf8("\xf4\x90\x80\x80", "????");     /* above U+10FFFF */
	utf8("\xe2\x82", "??");               /* cut short by the end */
	utf8("\x80 continuation", "? continuation");
	utf8("", "");
	/* Control characters: a client must not forge log lines or drive a terminal. */
	utf8("a\nauth ok: user=root", "a?auth ok: user=root");
	utf8("x\r\t\x1b[31my\x7f", "x???[31my?");
	utf8("c1 \xc2\x85 \xc2\x9b", "c1 ?? ??");  /* NEL, CSI */
	utf8("\xc2\xa0nbsp", "\xc2\xa0nbsp");       /* U+00A0 is no control */
}
END_TEST

START_TEST(test_hex_digit)
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 0; i < 16; i++) {
		ck_assert_int_eq(text_hex_digit((unsigned char)digits[i]), i);
		ck_assert_int_eq(text_hex_digit((unsigned char)toupper(digits[i])), i);
	}
	for (int c = 0; c < 256; c++)
		if (!isxdigit(c))
			ck_assert_int_eq(text_hex_digit((unsigned char)c), -1);
}
END_TEST

START_TEST(test_prefix_mask)
{
	ck_assert_uint_eq(ipv4_prefix_mask(24), htonl(0xffffff00));
	ck_assert_uint_eq(ipv4_prefix_mask(32), 0xffffffff);
	ck_assert_uint_eq(ipv4_prefix_mask(0), 0);
}
END_TEST

static const char *port_text(const char *ip, unsigned port)
{
	static char buf[NETADDR_PORT_STRLEN];

	return netaddr_port_text(ip, port, buf, sizeof(buf));
}

START_TEST(test_port_text)
{
	char longest[] = "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255";
	char buf[NETADDR_PORT_STRLEN];

	ck_assert_str_eq(port_text("198.18.0.2", 40112), "198.18.0.2:40112");
	ck_assert_str_eq(port_text("fd00:18:0:1::2", 443), "[fd00:18:0:1::2]:443");
	ck_assert_str_eq(port_text("::1", 0), "[::1]:0");
	/* The longest text inet_ntop writes, with the longest port, fits. */
	ck_assert_uint_eq(strlen(longest), INET6_ADDRSTRLEN - 1);
	netaddr_port_text(longest, 65535, buf, sizeof(buf));
	ck_assert_str_eq(buf, "[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:65535");
}
END_TEST

static struct sockaddr_storage sockaddr6(const char *ip, unsigned port)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in6 *s6 = (void *)&ss;

	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons((uint16_t)port);
	ck_assert_int_eq(inet_pton(AF_INET6, ip, &s6->sin6_addr), 1);
	return ss;
}

START_TEST(test_from_sockaddr)
{
	struct sockaddr_storage ss = sockaddr6("::ffff:198.18.0.2", 40112);
	struct sockaddr_in *s4 = (void *)&ss;
	struct netaddr a;
	char ip[INET6_ADDRSTRLEN];
	unsigned port;

	/* An IPv4 client of the dual-stack listener is an IPv4 address. */
	netaddr_from_sockaddr(&ss, &a, &port);
	ck_assert_int_eq(a.family, AF_INET);
	ck_assert_str_eq(netaddr_text(&a, ip, sizeof(ip)), "198.18.0.2");
	ck_assert_uint_eq(port, 40112);
	ss = sockaddr6("fd00:18:0:1::2", 443);
	netaddr_from_sockaddr(&ss, &a, &port);
	ck_assert_int_eq(a.family, AF_INET6);
	ck_assert_str_eq(netaddr_text(&a, ip, sizeof(ip)), "fd00:18:0:1::2");
	ck_assert_uint_eq(port, 443);
	memset(&ss, 0, sizeof(ss));
	s4->sin_family = AF_INET;
	s4->sin_port = htons(8);
	inet_pton(AF_INET, "198.18.1.2", &s4->sin_addr);
	netaddr_from_sockaddr(&ss, &a, &port);
	ck_assert_str_eq(netaddr_text(&a, ip, sizeof(ip)), "198.18.1.2");
	ck_assert_uint_eq(port, 8);
	ss.ss_family = AF_UNIX;
	netaddr_from_sockaddr(&ss, &a, &port);
	ck_assert_int_eq(a.family, AF_UNSPEC);
	ck_assert_str_eq(netaddr_text(&a, ip, sizeof(ip)), "?");
	ck_assert_uint_eq(port, 0);
}
END_TEST

static const char *prefix(const char *text, int want_family, unsigned mask_to)
{
	static char buf[NETADDR_PREFIX_STRLEN];
	struct netaddr a;
	unsigned len;

	ck_assert_int_eq(netaddr_prefix_parse(text, &a, &len), 0);
	ck_assert_int_eq(a.family, want_family);
	netaddr_mask(&a, mask_to ? mask_to : len);
	netaddr_text(&a, buf, sizeof(buf) - 4);
	snprintf(buf + strlen(buf), 5, "/%u", len);
	return buf;
}

START_TEST(test_netaddr_prefix)
{
	struct netaddr a;
	unsigned len;

	ck_assert_str_eq(prefix("fd00:18:0:1::2", AF_INET6, 64), "fd00:18:0:1::/128");
	ck_assert_str_eq(prefix("fd00:18:0:1::/64", AF_INET6, 0), "fd00:18:0:1::/64");
	ck_assert_str_eq(prefix("fd00:18:0:ffff::/57", AF_INET6, 0), "fd00:18:0:ff80::/57");
	ck_assert_str_eq(prefix("fd00:18:0:1::2/128", AF_INET6, 0), "fd00:18:0:1::2/128");
	ck_assert_str_eq(prefix("fdff:ffff::/0", AF_INET6, 0), "::/0");
	ck_assert_str_eq(prefix("198.18.0.2", AF_INET, 0), "198.18.0.2/32");
	ck_assert_str_eq(prefix("198.18.0.255/31", AF_INET, 0), "198.18.0.254/31");
	ck_assert_str_eq(prefix("::ffff:198.18.0.2", AF_INET, 0), "198.18.0.2/32");
	ck_assert_int_eq(netaddr_prefix_parse("fd00::1::2", &a, &len), -EINVAL);
	ck_assert_int_eq(netaddr_prefix_parse("fd00::/129", &a, &len), -EINVAL);
	ck_assert_int_eq(netaddr_prefix_parse("198.18.0.0/33", &a, &len), -EINVAL);
	ck_assert_int_eq(netaddr_prefix_parse("fd00::/064", &a, &len), -EINVAL);
	ck_assert_int_eq(netaddr_prefix_parse("fd00::/", &a, &len), -EINVAL);
	ck_assert_int_eq(netaddr_prefix_parse("fd00::/-1", &a, &len), -EINVAL);
	ck_assert_int_eq(netaddr_prefix_parse("fd00::/6x", &a, &len), -EINVAL);
	ck_assert_int_eq(netaddr_prefix_parse("fd00::/64/64", &a, &len), -EINVAL);
	ck_assert_int_eq(netaddr_prefix_parse("::ffff:198.18.0.2/128", &a, &len), -EINVAL);
	ck_assert_int_eq(netaddr_prefix_parse("host.example/64", &a, &len), -EINVAL);
	ck_assert_int_eq(netaddr_prefix_parse("", &a, &len), -EINVAL);
	ck_assert_int_eq(netaddr_parse("fd00:18::1", &a), 0);
	ck_assert_int_eq(netaddr_parse("fd00:18::1/64", &a), -EINVAL);
}
END_TEST

/* Which end reasons invalidate the cookie, and their names in logs and the audit file. */
START_TEST(test_end_reasons)
{
	ck_assert(session_end_invalidates(END_USER_DISCONNECT));
	ck_assert(session_end_invalidates(END_SERVER_TERMINATE));
	ck_assert(session_end_invalidates(END_SESSION_TIMEOUT));
	ck_assert(session_end_invalidates(END_QUOTA_EXCEEDED));
	ck_assert(session_end_invalidates(END_SESSION_REPLACED));
	/* the client may come back with its cookie */
	ck_assert(!session_end_invalidates(END_CLIENT_CLOSED));
	ck_assert(!session_end_invalidates(END_IDLE_TIMEOUT));
	ck_assert(!session_end_invalidates(END_DPD_TIMEOUT));
	ck_assert(!session_end_invalidates(END_ERROR));
	ck_assert(!session_end_invalidates(END_WORKER_DIED));
	ck_assert(!session_end_invalidates(END_SESSION_REUSED));
	ck_assert(!session_end_invalidates(END_UNKNOWN));
	ck_assert(!session_end_invalidates(1000));
	ck_assert_str_eq(session_end_reason_str(END_QUOTA_EXCEEDED), "quota exceeded");
	ck_assert_str_eq(session_end_reason_str(END_SESSION_REPLACED), "replaced by a newer login");
	ck_assert_str_eq(session_end_reason_str(1000), "unspecified");
}
END_TEST

/* session-quota-bytes: more than the quota ends the session, exactly the quota does not;
 * no sum wraps around. */
START_TEST(test_quota_exceeded)
{
	ck_assert(!session_quota_exceeded(0, UINT64_MAX, UINT64_MAX));
	ck_assert(!session_quota_exceeded(1000, 0, 0));
	ck_assert(!session_quota_exceeded(1000, 0, 1000));
	ck_assert(!session_quota_exceeded(1000, 400, 600));
	ck_assert(session_quota_exceeded(1000, 400, 601));
	ck_assert(session_quota_exceeded(1000, 0, 1001));
	ck_assert(session_quota_exceeded(1000, 1001, 0));
	ck_assert(session_quota_exceeded(1000, UINT64_MAX, UINT64_MAX));
	ck_assert(session_quota_exceeded(UINT64_MAX - 1, UINT64_MAX - 1, 1));
	ck_assert(!session_quota_exceeded(UINT64_MAX, UINT64_MAX - 1, 1));
}
END_TEST

int main(void)
{
	const struct check_test tests[] = {
	    {test_make_utf8},
	    {test_hex_digit},
	    {test_prefix_mask},
	    {test_port_text},
	    {test_from_sockaddr},
	    {test_netaddr_prefix},
	    {test_end_reasons},
	    {test_quota_exceeded},
	    {NULL},
	};
	const struct check_case cases[] = {
	    {"common", NULL, NULL, 0, tests},
	    {NULL},
	};

	return check_main("common", cases);
}
