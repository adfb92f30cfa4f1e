/* The OTP users file (src/common/otpfile.c): what is a token, what is named as a bad
 * line by file and line, and that a rewrite changes only the line of the user who
 * logged in. */
#include "config.h"
#include "common/otpfile.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"

static TALLOC_CTX *ctx;
static char *problems;
static int n_problems;

static void setup(void)
{
	ctx = talloc_new(NULL);
	problems = talloc_strdup(ctx, "");
	n_problems = 0;
}

static void teardown(void)
{
	talloc_free(ctx);
}

static void on_problem(void *data, const char *text)
{
	problems = talloc_asprintf_append(problems, "%s\n", text);
	n_problems++;
}

static struct otp_file *parse(const char *text)
{
	struct otp_file *f = NULL;

	ck_assert_int_eq(otpfile_parse(ctx, "otp", (const uint8_t *)text, strlen(text), &f,
				       on_problem, NULL),
			 0);
	return f;
}

START_TEST(test_tokens)
{
	struct otp_file *f = parse("# comment\n"
				   "\n"
				   "HOTP/T30 alice - 3132333435363738393031323334353637383930\n"
				   "HOTP/E/8\tbob\t1234\t00ff\t17\t12345678\t2024-01-31T12:00:00L\n"
				   "HOTP/T60/7 carol + AABB 5\r\n"
				   "HOTP dave - 01\n"
				   "   # indented comment");
	struct otp_entry *e;

	ck_assert_int_eq(n_problems, 0);
	ck_assert_uint_eq(f->n_lines, 7);
	ck_assert_uint_eq(f->n_entries, 4);
	e = otpfile_find(f, "alice");
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(e->line, 3);
	ck_assert_uint_eq(e->step, 30);
	ck_assert_uint_eq(e->digits, 6);
	ck_assert_uint_eq(e->secret_len, 20);
	ck_assert_int_eq(memcmp(e->secret, "12345678901234567890", 20), 0);
	ck_assert(!e->has_counter);
	ck_assert_ptr_null(e->last_otp);
	e = otpfile_find(f, "bob");
	ck_assert_uint_eq(e->step, 0);
	ck_assert_uint_eq(e->digits, 8);
	ck_assert(e->has_counter);
	ck_assert_uint_eq(e->counter, 17);
	ck_assert_str_eq(e->last_otp, "12345678");
	ck_assert_str_eq(e->last_time, "2024-01-31T12:00:00L");
	ck_assert_str_eq(e->pin, "1234");
	e = otpfile_find(f, "carol");
	ck_assert_uint_eq(e->step, 60);
	ck_assert_uint_eq(e->digits, 7);
	ck_assert_uint_eq(e->secret[0], 0xaa);
	ck_assert_uint_eq(e->counter, 5);
	ck_assert_ptr_nonnull(otpfile_find(f, "dave"));
	ck_assert_ptr_null(otpfile_find(f, "eve"));
}
END_TEST

/* Each bad line is named by file and line, kept, and is no token. */
static const struct {
	const char *line, *why;
} bad[] = {
    {"HOTP/T45 u - 00", "unknown token type"},
    {"TOTP u - 00", "unknown token type"},
    {"HOTP/E/9 u - 00", "unknown token type"},
    {"HOTP/T30/ u - 00", "unknown token type"},
    {"HOTP/T306 u - 00", "unknown token type"},
    {"HOTP u -", "too few fields"},
    {"HOTP u - 0", "the secret is not"},
    {"HOTP u - zz", "the secret is not"},
    {"HOTP u - 00 1 123456 2024-01-31T12:00:00L extra", "too many fields"},
    {"HOTP u - 00 -1", "the counter is not a number"},
    {"HOTP u 0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789 00",
     "PIN too long"},
    {"HOTP u - 00 18446744073709551616", "the counter is not a number"},
    {"HOTP u - 00 1 12345", "the last one-time password is not"},
    {"HOTP u - 00 1 12a456", "the last one-time password is not"},
    {"HOTP u - 00 1 123456 2024-01-31 12:00:00", "too many fields"},
    {"HOTP u - 00 1 123456 2024-01-31T12:00:00", "the last time is not"},
    {"HOTP u\x01 - 00", "control character"},
};

START_TEST(test_bad_lines)
{
	char *text = talloc_asprintf(ctx, "HOTP ok - 00\n%s\nHOTP ok2 - 00\n", bad[_i].line);
	struct otp_file *f = parse(text);
	char *want = talloc_asprintf(ctx, "otp:2: %s", bad[_i].why);

	ck_assert_int_eq(n_problems, 1);
	ck_assert_msg(strncmp(problems, want, strlen(want)) == 0, "%s: got '%s', want '%s'",
		      bad[_i].line, problems, want);
	ck_assert_uint_eq(f->n_entries, 2);
	ck_assert_ptr_null(otpfile_find(f, "u"));
	/* Kept as it was. */
	ck_assert_str_eq(otpfile_render(ctx, f, NULL), text);
}
END_TEST

START_TEST(test_limits)
{
	char secret[2 * OTPFILE_MAX_SECRET + 3];
	char *long_line = talloc_array(ctx, char, OTPFILE_MAX_LINE + 2);
	uint8_t nul[] = "HOTP a - 00\nHOTP b\0 - 00\n";
	struct otp_file *f;

	memset(secret, 'a', sizeof(secret) - 1);
	secret[2 * OTPFILE_MAX_SECRET] = '\0';
	f = parse(talloc_asprintf(ctx, "HOTP max - %s\n", secret));
	ck_assert_uint_eq(f->n_entries, 1);
	secret[2 * OTPFILE_MAX_SECRET] = 'a';
	secret[2 * OTPFILE_MAX_SECRET + 1] = 'a';
	secret[2 * OTPFILE_MAX_SECRET + 2] = '\0';
	f = parse(talloc_asprintf(ctx, "HOTP over - %s\n", secret));
	ck_assert_uint_eq(f->n_entries, 0);
	ck_assert_int_eq(n_problems, 1);

	memset(long_line, '#', OTPFILE_MAX_LINE + 1);
	long_line[OTPFILE_MAX_LINE + 1] = '\0';
	f = parse(long_line);
	ck_assert_int_eq(n_problems, 2);
	ck_assert(strstr(problems, "otp:1: line too long"));

	ck_assert_int_eq(otpfile_parse(ctx, "otp", nul, sizeof(nul) - 1, &f, on_problem, NULL), 0);
	ck_assert_uint_eq(f->n_entries, 1);
	ck_assert(strstr(problems, "otp:2: NUL byte in the line"));
	{
		/* Written back byte for byte, the NUL too. */
		size_t len;
		char *out = otpfile_render(ctx, f, &len);

		ck_assert_uint_eq(len, sizeof(nul) - 1);
		ck_assert_int_eq(memcmp(out, nul, len), 0);
	}

	ck_assert_int_eq(otpfile_parse(ctx, "otp", (const uint8_t *)"", OTPFILE_MAX_SIZE + 1, &f,
				       NULL, NULL),
			 -EMSGSIZE);
}
END_TEST

/* A second token of a user is named; the first one counts. */
START_TEST(test_duplicate_user)
{
	struct otp_file *f = parse("HOTP a - 00 1\nHOTP/T30 a - 11\n");

	ck_assert_int_eq(n_problems, 1);
	ck_assert(strstr(problems, "otp:2: a second token of user 'a'"));
	ck_assert_uint_eq(otpfile_find(f, "a")->line, 1);
}
END_TEST

/* Only the changed token is written anew (tab-separated, as liboath writes it); every
 * other line stays byte for byte, and a last line without newline gets one. */
START_TEST(test_render)
{
	const char *text = "# c\nHOTP  a  -  0a 3\nHOTP/T30 b - 0b\nbad line";
	struct otp_file *f = parse(text);
	struct otp_entry *e = otpfile_find(f, "b");

	ck_assert_str_eq(otpfile_render(ctx, f, NULL),
			 "# c\nHOTP  a  -  0a 3\nHOTP/T30 b - 0b\nbad line\n");
	e->counter = 56000000;
	e->last_otp = "123456";
	e->last_time = "2024-01-31T12:00:00L";
	e->changed = true;
	ck_assert_str_eq(otpfile_render(ctx, f, NULL),
			 "# c\nHOTP  a  -  0a 3\nHOTP/T30\tb\t-\t0b\t56000000\t123456\t"
			 "2024-01-31T12:00:00L\nbad line\n");
	/* What was written reads back the same. */
	f = parse(otpfile_render(ctx, f, NULL));
	e = otpfile_find(f, "b");
	ck_assert_uint_eq(e->counter, 56000000);
	ck_assert_str_eq(e->last_otp, "123456");
}
END_TEST

START_TEST(test_read_and_check)
{
	char path[] = "/tmp/test_otpfile.XXXXXX";
	int fd = mkstemp(path);
	static const char text[] = "HOTP a - 00\nHOTP b 00\n# ok\nHOTP/T99 c - 00\n";
	char err[256] = "";
	struct otp_file *f;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, sizeof(text) - 1), (int)sizeof(text) - 1);
	close(fd);
	ck_assert_int_eq(otpfile_check(path, on_problem, NULL, err, sizeof(err)), 2);
	ck_assert(strstr(problems, ":2: too few fields"));
	ck_assert(strstr(problems, ":4: unknown token type"));
	ck_assert_int_eq(otpfile_read(ctx, path, &f, NULL, NULL, err, sizeof(err)), 0);
	ck_assert_uint_eq(f->n_entries, 1);
	unlink(path);
	ck_assert_int_eq(otpfile_check(path, NULL, NULL, err, sizeof(err)), -ENOENT);
	ck_assert(strstr(err, path));
	ck_assert_int_eq(otpfile_check("/tmp", NULL, NULL, err, sizeof(err)), -EINVAL);
}
END_TEST

int main(void)
{
	const struct check_test tests[] = {
	    {test_tokens},
	    {test_bad_lines, true, sizeof(bad) / sizeof(bad[0])},
	    {test_limits},
	    {test_duplicate_user},
	    {test_render},
	    {test_read_and_check},
	    {NULL},
	};
	const struct check_case cases[] = {
	    {"otpfile", setup, teardown, 0, tests},
	    {NULL},
	};

	return check_main("otpfile", cases);
}
