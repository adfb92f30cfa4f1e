#include "config.h"
#include "common/netaddr.h"
#include "common/text.h"

#include <arpa/inet.h>
#include <check.h>
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

START_TEST(test_prefix_parse)
{
	struct in_addr net;
	unsigned len = 99;

	ck_assert_int_eq(ipv4_prefix_parse("198.18.5.0/24", &net, &len), 0);
	ck_assert_uint_eq(len, 24);
	ck_assert_uint_eq(net.s_addr, inet_addr("198.18.5.0"));
	ck_assert_int_eq(ipv4_prefix_parse("198.18.5.7/32", &net, &len), 0);
	ck_assert_uint_eq(len, 32);
	ck_assert_int_eq(ipv4_prefix_parse("0.0.0.0/0", &net, &len), 0);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(ipv4_prefix_parse("198.18.5.0", &net, &len), -EINVAL);
	ck_assert_int_eq(ipv4_prefix_parse("198.18.5.0/33", &net, &len), -EINVAL);
	ck_assert_int_eq(ipv4_prefix_parse("198.18.5.0/", &net, &len), -EINVAL);
	ck_assert_int_eq(ipv4_prefix_parse("198.18.5.0/2x", &net, &len), -EINVAL);
	ck_assert_int_eq(ipv4_prefix_parse("198.18.5.0/-1", &net, &len), -EINVAL);
	ck_assert_int_eq(ipv4_prefix_parse("198.18.5.0/024", &net, &len), -EINVAL);
	ck_assert_int_eq(ipv4_prefix_parse("fd00::/64", &net, &len), -EINVAL);
	ck_assert_int_eq(ipv4_prefix_parse("198.18.5/24", &net, &len), -EINVAL);
	ck_assert_uint_eq(ipv4_prefix_mask(24), htonl(0xffffff00));
	ck_assert_uint_eq(ipv4_prefix_mask(32), 0xffffffff);
	ck_assert_uint_eq(ipv4_prefix_mask(0), 0);
}
END_TEST

int main(void)
{
	const struct check_test tests[] = {
	    {test_make_utf8},
	    {test_prefix_parse},
	    {NULL},
	};
	const struct check_case cases[] = {
	    {"common", NULL, NULL, 0, tests},
	    {NULL},
	};

	return check_main("common", cases);
}
