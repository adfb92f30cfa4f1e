/* sluice-certs' CA state file (src/tools/certs_state.c): what it accepts, what it
 * refuses with file and line, and that what it writes reads back the same. */
#include "config.h"
#include "tools/certs_state.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"

static TALLOC_CTX *ctx;

static void setup(void)
{
	ctx = talloc_new(NULL);
}

static void teardown(void)
{
	talloc_free(ctx);
}

#define HEAD "format 1\ncrl-number 7\n"
#define CA                                                                                         \
	"cert 5ebb0337c2db558ca9a056da80a36762 2026-12-07T08:01:05Z 2036-12-04T08:01:05Z - ca "    \
	"sluice CA\n"

static struct certs_state *parse_ok(const char *text)
{
	struct certs_state *st = NULL;
	char err[256] = "";
	int ret = certs_state_parse(ctx, "state", text, strlen(text), &st, err, sizeof(err));

	ck_assert_msg(ret == 0, "refused: %s", err);
	return st;
}

START_TEST(parse_good)
{
	struct certs_state *st = parse_ok(
	    "# comment\n\n" HEAD CA
	    "cert 41 2026-12-07T08:01:05Z 2027-12-07T08:01:05Z 2026-12-08T00:00:00Z client "
	    "alice smith\n"
	    "cert 00ff 2024-02-29T23:59:59Z 2024-02-29T23:59:59Z - other j\xc3\xbcrgen\n");

	ck_assert_uint_eq(st->crl_number, 7);
	ck_assert_uint_eq(st->n, 3);
	ck_assert_int_eq(st->entries[0].kind, CERTS_KIND_CA);
	ck_assert_str_eq(st->entries[0].name, "sluice CA");
	ck_assert_uint_eq(st->entries[0].serial_len, 16);
	ck_assert_uint_eq(st->entries[0].serial[0], 0x5e);
	ck_assert(!st->entries[0].revoked);
	ck_assert_int_eq(st->entries[0].issued, 1796630465);
	ck_assert_int_eq(st->entries[1].kind, CERTS_KIND_CLIENT);
	ck_assert(st->entries[1].revoked);
	ck_assert_int_eq(st->entries[1].revoked_at, 1796688000);
	ck_assert_str_eq(st->entries[1].name, "alice smith");
	ck_assert_uint_eq(st->entries[1].line, 6);
	ck_assert_uint_eq(st->entries[2].serial_len, 2);
	ck_assert_int_eq(st->entries[2].kind, CERTS_KIND_OTHER);
	ck_assert_ptr_nonnull(certs_state_find(st, (const uint8_t *)"\x00\xff", 2));
	ck_assert_ptr_null(certs_state_find(st, (const uint8_t *)"\xff", 1));
	/* No certificate yet: a CA that init-ca is still writing. */
	ck_assert_uint_eq(parse_ok(HEAD)->n, 0);
}
END_TEST

static const struct {
	const char *text;
	const char *err; /* what the message must hold */
} bad[] = {
    {"", "state:1: the file ends before its format line"},
    {"format 1\n", "state:2: the file ends before its crl-number line"},
    {"format 2\ncrl-number 1\n", "state:1: expected 'format 1' first"},
    {"crl-number 1\nformat 1\n", "state:1: expected 'format 1'"},
    {"format 1\ncrl-number 01\n", "state:2: expected 'crl-number N'"},
    {"format 1\ncrl-number -1\n", "state:2: expected 'crl-number N'"},
    {"format 1\ncrl-number 18446744073709551616\n", "state:2:"},
    {HEAD "crl-number 8\n", "state:3: expected 'cert SERIAL"},
    {HEAD "format 1\n", "state:3: expected 'cert SERIAL"},
    {"format 1\ncrl-number 1", "state:2: no newline at the end"},
    {"format 1\r\ncrl-number 1\n", "state:1: NUL or CR"},
    {HEAD "cert 5EBB 2026-12-07T08:01:05Z 2027-12-07T08:01:05Z - server a\n", "bad serial"},
    {HEAD "cert 5eb 2026-12-07T08:01:05Z 2027-12-07T08:01:05Z - server a\n", "bad serial"},
    {HEAD "cert 5e:bb 2026-12-07T08:01:05Z 2027-12-07T08:01:05Z - server a\n", "bad serial"},
    {HEAD "cert 000102030405060708090a0b0c0d0e0f1011121314 2026-12-07T08:01:05Z "
	  "2027-12-07T08:01:05Z - server a\n",
     NULL},
    {HEAD "cert 000102030405060708090a0b0c0d0e0f101112131415 2026-12-07T08:01:05Z "
	  "2027-12-07T08:01:05Z - server a\n",
     "bad serial"},
    {HEAD "cert  5e 2026-12-07T08:01:05Z 2027-12-07T08:01:05Z - server a\n", "bad serial"},
    {HEAD "cert 5e 2026-12-07 08:01:05Z 2027-12-07T08:01:05Z - server a\n", "bad issue time"},
    {HEAD "cert 5e 2026-13-07T08:01:05Z 2027-12-07T08:01:05Z - server a\n", "bad issue time"},
    {HEAD "cert 5e 2025-02-29T08:01:05Z 2027-12-07T08:01:05Z - server a\n", "bad issue time"},
    {HEAD "cert 5e 2026-12-07T24:01:05Z 2027-12-07T08:01:05Z - server a\n", "bad issue time"},
    {HEAD "cert 5e 1969-12-31T23:59:59Z 2027-12-07T08:01:05Z - server a\n", "bad issue time"},
    {HEAD "cert 5e 2026-12-07T08:01:05Z 2027-12-07T08:01:5Z - server a\n", "bad expiry time"},
    {HEAD "cert 5e 2026-12-07T08:01:05Z 2025-12-07T08:01:05Z - server a\n", "expires before"},
    {HEAD "cert 5e 2026-12-07T08:01:05Z 2027-12-07T08:01:05Z x server a\n", "bad revocation"},
    {HEAD "cert 5e 2026-12-07T08:01:05Z 2027-12-07T08:01:05Z - user a\n", "bad kind"},
    {HEAD "cert 5e 2026-12-07T08:01:05Z 2027-12-07T08:01:05Z - server\n", "no kind or name"},
    {HEAD "cert 5e 2026-12-07T08:01:05Z 2027-12-07T08:01:05Z - server \n", "bad name"},
    {HEAD "cert 5e 2026-12-07T08:01:05Z 2027-12-07T08:01:05Z - server a \n", "bad name"},
    {HEAD "cert 5e 2026-12-07T08:01:05Z 2027-12-07T08:01:05Z - server a\tb\n", "bad name"},
    {HEAD "cert 5e 2026-12-07T08:01:05Z 2027-12-07T08:01:05Z - server caf\xe9\n", "bad name"},
    {HEAD "cert 5e 2026-12-07T08:01:05Z 2027-12-07T08:01:05Z - server a\n"
	  "cert 41 2026-12-07T08:01:05Z 2027-12-07T08:01:05Z - server b\n"
	  "cert 5e 2026-12-07T08:01:05Z 2027-12-07T08:01:05Z - client c\n",
     "state:5: serial 5e listed again (first on line 3)"},
};

START_TEST(parse_bad)
{
	struct certs_state *st = NULL;
	char err[256] = "";
	const char *text = bad[_i].text;
	int ret = certs_state_parse(ctx, "state", text, strlen(text), &st, err, sizeof(err));

	if (bad[_i].err == NULL) {
		ck_assert_msg(ret == 0, "case %d refused: %s", _i, err);
		return;
	}
	ck_assert_msg(ret == -EINVAL, "case %d: accepted", _i);
	ck_assert_msg(strstr(err, bad[_i].err) != NULL, "case %d: '%s' lacks '%s'", _i, err,
		      bad[_i].err);
}
END_TEST

START_TEST(parse_limits)
{
	char *big, line[CERTS_STATE_MAX_LINE + 64], err[256];
	struct certs_state *st;
	char name[CERTS_NAME_MAX + 2];

	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	snprintf(line, sizeof(line),
		 HEAD "cert 5e 2026-12-07T08:01:05Z 2027-12-07T08:01:05Z - server %s\n", name);
	ck_assert_int_eq(certs_state_parse(ctx, "s", line, strlen(line), &st, err, sizeof(err)),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "bad name"));
	name[CERTS_NAME_MAX] = '\0';
	snprintf(line, sizeof(line),
		 HEAD "cert 5e 2026-12-07T08:01:05Z 2027-12-07T08:01:05Z - server %s\n", name);
	ck_assert_int_eq(certs_state_parse(ctx, "s", line, strlen(line), &st, err, sizeof(err)), 0);

	/* A comment longer than a line may be. */
	big = talloc_size(ctx, CERTS_STATE_MAX_LINE + 3);
	memset(big, '#', CERTS_STATE_MAX_LINE + 1);
	big[CERTS_STATE_MAX_LINE + 1] = '\n';
	big[CERTS_STATE_MAX_LINE + 2] = '\0';
	ck_assert_int_eq(certs_state_parse(ctx, "s", big, strlen(big), &st, err, sizeof(err)),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "s:1: line longer than"));
	ck_assert_int_eq(
	    certs_state_parse(ctx, "s", "x", CERTS_STATE_MAX_FILE + 1, &st, err, sizeof(err)),
	    -EFBIG);
	/* A NUL inside a line. */
	ck_assert_int_eq(certs_state_parse(ctx, "s", "format 1\0\n", 10, &st, err, sizeof(err)),
			 -EINVAL);
}
END_TEST

START_TEST(format_round_trip)
{
	const char *text = HEAD CA "cert 41 2026-12-07T08:01:05Z 2027-12-07T08:01:05Z "
				   "2026-12-08T00:00:00Z client alice smith\n";
	struct certs_state *st = parse_ok(text), *again;
	struct certs_entry e = {.serial = {0x12, 0x34},
				.serial_len = 2,
				.issued = 1796630465,
				.expires = 1796630465 + 86400,
				.kind = CERTS_KIND_SERVER,
				.name = "vpn.example.com"};
	char *out, *out2, err[256];
	size_t len, len2;

	ck_assert_int_eq(certs_state_add(st, &e), 0);
	ck_assert_int_eq(certs_state_add(st, &e), -EEXIST);
	e.serial[0] = 0x13;
	e.name = "bad\nname";
	ck_assert_int_eq(certs_state_add(st, &e), -EINVAL);
	e.name = "ok";
	e.expires = e.issued - 1;
	ck_assert_int_eq(certs_state_add(st, &e), -EINVAL);
	st->crl_number = 18446744073709551615u;
	out = certs_state_format(ctx, st, &len);
	ck_assert_ptr_nonnull(out);
	ck_assert_uint_eq(strlen(out), len);
	ck_assert_ptr_nonnull(strstr(out, "\ncrl-number 18446744073709551615\n"));
	ck_assert_ptr_nonnull(strstr(out, "\ncert 1234 2026-12-07T08:01:05Z 2026-12-08T08:01:05Z - "
					  "server vpn.example.com\n"));
	ck_assert_ptr_nonnull(strstr(out, "\ncert 41 2026-12-07T08:01:05Z 2027-12-07T08:01:05Z "
					  "2026-12-08T00:00:00Z client alice smith\n"));
	ck_assert_int_eq(certs_state_parse(ctx, "out", out, len, &again, err, sizeof(err)), 0);
	out2 = certs_state_format(ctx, again, &len2);
	ck_assert_str_eq(out, out2);
}
END_TEST

START_TEST(serial_and_time)
{
	uint8_t s[CERTS_SERIAL_MAX];
	size_t len;
	char hex[2 * CERTS_SERIAL_MAX + 1], t[CERTS_TIME_LEN + 1];
	time_t v;

	ck_assert_int_eq(certs_serial_parse("5E:BB:03", s, &len), 0);
	ck_assert_uint_eq(len, 3);
	certs_serial_hex(s, len, hex);
	ck_assert_str_eq(hex, "5ebb03");
	ck_assert_int_eq(certs_serial_parse("5ebb03", s, &len), 0);
	ck_assert_uint_eq(len, 3);
	ck_assert_int_eq(certs_serial_parse("", s, &len), -EINVAL);
	ck_assert_int_eq(certs_serial_parse("5eb", s, &len), -EINVAL);
	ck_assert_int_eq(certs_serial_parse("5e:b", s, &len), -EINVAL);
	ck_assert_int_eq(certs_serial_parse("5e-bb", s, &len), -EINVAL);
	ck_assert_int_eq(certs_serial_parse("5e:bb:", s, &len), -EINVAL);
	ck_assert_int_eq(certs_serial_parse("zz", s, &len), -EINVAL);
	ck_assert_int_eq(
	    certs_serial_parse("000102030405060708090a0b0c0d0e0f10111213141516", s, &len), -EINVAL);

	ck_assert_int_eq(certs_time_parse("2026-12-07T08:01:05Z", CERTS_TIME_LEN, &v), 0);
	ck_assert_int_eq(v, 1796630465);
	ck_assert_int_eq(certs_time_format(v, t), 0);
	ck_assert_str_eq(t, "2026-12-07T08:01:05Z");
	ck_assert_int_eq(certs_time_parse("2000-02-29T00:00:00Z", CERTS_TIME_LEN, &v), 0);
	ck_assert_int_eq(certs_time_parse("2100-02-29T00:00:00Z", CERTS_TIME_LEN, &v), -EINVAL);
	ck_assert_int_eq(certs_time_parse("2026-04-31T00:00:00Z", CERTS_TIME_LEN, &v), -EINVAL);
	ck_assert_int_eq(certs_time_parse("2026-12-07T08:01:60Z", CERTS_TIME_LEN, &v), -EINVAL);
	ck_assert_int_eq(certs_time_format(-1, t), -EINVAL);

	ck_assert(certs_name_ok("alice", 5));
	ck_assert(!certs_name_ok("", 0));
	ck_assert(!certs_name_ok(" a", 2));
	ck_assert(!certs_name_ok("a\x1b[0m", 5));
}
END_TEST

int main(void)
{
	const struct check_test parse[] = {
	    {parse_good},
	    {parse_bad, true, sizeof(bad) / sizeof(bad[0])},
	    {parse_limits},
	    {NULL},
	};
	const struct check_test write[] = {
	    {format_round_trip},
	    {serial_and_time},
	    {NULL},
	};
	const struct check_case cases[] = {
	    {"parse", setup, teardown, 0, parse},
	    {"write", setup, teardown, 0, write},
	    {NULL},
	};

	return check_main("certs_state", cases);
}
