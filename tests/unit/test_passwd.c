#include "config.h"
#include "common/passwd.h"

#include <check.h>
#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check_main.h"

#define OCPASSWD "/usr/bin/ocpasswd"

static char dir[] = "/tmp/test_passwd.XXXXXX";
static TALLOC_CTX *ctx;

static void setup(void)
{
	ctx = talloc_new(NULL);
}

static void teardown(void)
{
	talloc_free(ctx);
}

static char *write_file(const char *name, const char *content, size_t len)
{
	char *path = talloc_asprintf(ctx, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(content, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
	return path;
}

static int parse(const char *line, struct passwd_entry *e)
{
	return passwd_parse_line(ctx, line, strlen(line), e);
}

static char *make_hash(const char *prefix, const char *password)
{
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd = talloc_zero(ctx, struct crypt_data);
	const char *res;

	ck_assert_ptr_nonnull(crypt_gensalt_rn(prefix, 0, NULL, 0, setting, sizeof(setting)));
	res = crypt_rn(password, setting, cd, sizeof(*cd));
	ck_assert_ptr_nonnull(res);
	ck_assert_int_ne(res[0], '*');
	return talloc_strdup(ctx, res);
}

START_TEST(parse_normal)
{
	struct passwd_entry e;

	ck_assert_int_eq(parse("alice:staff:$5$abc$def", &e), 0);
	ck_assert_str_eq(e.user, "alice");
	ck_assert_uint_eq(e.n_groups, 1);
	ck_assert_str_eq(e.groups[0], "staff");
	ck_assert_str_eq(e.hash, "$5$abc$def");
	ck_assert(!e.locked);
}
END_TEST

START_TEST(parse_groups)
{
	struct passwd_entry e;

	ck_assert_int_eq(parse("bob:g1,g2, g3 ,g4:$1$x$y", &e), 0);
	ck_assert_uint_eq(e.n_groups, 4);
	ck_assert_str_eq(e.groups[0], "g1");
	ck_assert_str_eq(e.groups[1], "g2");
	ck_assert_str_eq(e.groups[2], "g3");
	ck_assert_str_eq(e.groups[3], "g4");

	ck_assert_int_eq(parse("carol:*:$1$x$y", &e), 0);
	ck_assert_uint_eq(e.n_groups, 0);
	ck_assert_ptr_null(e.groups);
	ck_assert_int_eq(parse("dave::$1$x$y", &e), 0);
	ck_assert_uint_eq(e.n_groups, 0);
}
END_TEST

START_TEST(parse_locked)
{
	struct passwd_entry e;

	ck_assert_int_eq(parse("erin:*:!$y$j9T$salt$hash", &e), 0);
	ck_assert(e.locked);
	ck_assert_str_eq(e.hash, "$y$j9T$salt$hash");
	ck_assert_int_eq(parse("user name ok:grp:h", &e), 0);
	ck_assert_str_eq(e.user, "user name ok");
}
END_TEST

static const char *const bad_lines[] = {
    "",
    "alice",
    "alice:grp",
    "alice:grp:h:extra",
    ":grp:h",
    "al\tice:grp:h",
    "alice\x7f:grp:h",
    " alice:grp:h",
    "alice :grp:h",
    "#alice:grp:h",
    "alice:g1,,g2:h",
    "alice:g1,:h",
    "alice:,g1:h",
    "alice:g1,*:h",
    "alice:g\x01:h",
    "alice:grp:",
    "alice:grp:!",
    "alice:grp:!!h",
    "alice:grp:h h",
    "alice:grp:h\x80",
    "alice:grp:h\r",
};

START_TEST(parse_bad)
{
	struct passwd_entry e = {.user = (char *)"untouched"};
	const char *line = bad_lines[_i];

	ck_assert_msg(parse(line, &e) == -EINVAL, "accepted bad line %d", _i);
	ck_assert_ptr_nonnull(passwd_check_line(line, strlen(line)));
	ck_assert_str_eq(e.user, "untouched");
}
END_TEST

START_TEST(parse_bounds)
{
	struct passwd_entry e;
	char *line, *groups;

	line = talloc_asprintf(ctx, "%0*d:g:h", PASSWD_MAX_USER, 0);
	ck_assert_int_eq(parse(line, &e), 0);
	line = talloc_asprintf(ctx, "%0*d:g:h", PASSWD_MAX_USER + 1, 0);
	ck_assert_int_eq(parse(line, &e), -EINVAL);

	line = talloc_asprintf(ctx, "u:%0*d:h", PASSWD_MAX_GROUP + 1, 0);
	ck_assert_int_eq(parse(line, &e), -EINVAL);
	line = talloc_asprintf(ctx, "u:g:%0*d", PASSWD_MAX_HASH, 0);
	ck_assert_int_eq(parse(line, &e), 0);
	line = talloc_asprintf(ctx, "u:g:%0*d", PASSWD_MAX_HASH + 1, 0);
	ck_assert_int_eq(parse(line, &e), -EINVAL);

	groups = talloc_strdup(ctx, "g0");
	for (int i = 1; i < PASSWD_MAX_GROUPS; i++)
		groups = talloc_asprintf_append(groups, ",g%d", i);
	ck_assert_int_eq(parse(talloc_asprintf(ctx, "u:%s:h", groups), &e), 0);
	ck_assert_uint_eq(e.n_groups, PASSWD_MAX_GROUPS);
	ck_assert_int_eq(parse(talloc_asprintf(ctx, "u:%s,one-more:h", groups), &e), -EINVAL);

	/* The length given counts, not the C string: an embedded NUL is rejected. */
	ck_assert_int_eq(passwd_parse_line(ctx, "a:g:h\0x", 7, &e), -EINVAL);
	ck_assert_int_eq(passwd_parse_line(ctx, "a:g:hx", 5, &e), 0);
	ck_assert_str_eq(e.hash, "h");
}
END_TEST

START_TEST(lookup_found)
{
	static const char content[] = "# users\n"
				      "\n"
				      "alice:*:$5$a$b\n"
				      "   \n"
				      "bob:g1,g2:!$5$c$d\r\n"
				      "carol:staff:$1$e$f";
	char *path = write_file("ok", content, sizeof(content) - 1);
	struct passwd_entry e;
	char err[256];

	ck_assert_int_eq(passwd_lookup(ctx, path, "alice", &e, err, sizeof(err)), 0);
	ck_assert_str_eq(e.hash, "$5$a$b");
	ck_assert_uint_eq(e.n_groups, 0);
	ck_assert_int_eq(passwd_lookup(ctx, path, "bob", &e, err, sizeof(err)), 0);
	ck_assert(e.locked);
	ck_assert_str_eq(e.hash, "$5$c$d");
	ck_assert_uint_eq(e.n_groups, 2);
	ck_assert_int_eq(passwd_lookup(ctx, path, "carol", &e, err, sizeof(err)), 0);
	ck_assert_str_eq(e.groups[0], "staff");
	ck_assert_str_eq(e.hash, "$1$e$f");

	ck_assert_int_eq(passwd_lookup(ctx, path, "mallory", &e, err, sizeof(err)), -ENOENT);
	ck_assert_str_eq(err, "");
	ck_assert_int_eq(passwd_lookup(ctx, path, "", &e, err, sizeof(err)), -ENOENT);
	ck_assert_int_eq(passwd_lookup(ctx, path, "ali", &e, err, sizeof(err)), -ENOENT);
	ck_assert_int_eq(passwd_lookup(ctx, path, "# users", &e, err, sizeof(err)), -ENOENT);
}
END_TEST

START_TEST(lookup_errors)
{
	static const char malformed[] = "alice:*:$5$a$b\nbob:$5$c$d\ncarol:*:$5$e$f\n";
	static const char dup[] = "alice:*:$5$a$b\nbob:*:$5$c$d\nalice:*:$5$e$f\n";
	char *path, *missing;
	struct passwd_entry e;
	char err[256];
	int fd;

	/* Any malformed line fails every lookup, also for users listed before it. */
	path = write_file("malformed", malformed, sizeof(malformed) - 1);
	ck_assert_int_eq(passwd_lookup(ctx, path, "alice", &e, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, talloc_asprintf(ctx, "%s:2: ", path)));
	ck_assert_int_eq(passwd_lookup(ctx, path, "carol", &e, err, sizeof(err)), -EINVAL);

	path = write_file("dup", dup, sizeof(dup) - 1);
	ck_assert_int_eq(passwd_lookup(ctx, path, "alice", &e, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, ":3: "));
	ck_assert_int_eq(passwd_lookup(ctx, path, "bob", &e, err, sizeof(err)), 0);

	missing = talloc_asprintf(ctx, "%s/none", dir);
	ck_assert_int_eq(passwd_lookup(ctx, missing, "alice", &e, err, sizeof(err)), -EIO);
	ck_assert_ptr_nonnull(strstr(err, missing));
	ck_assert_int_eq(passwd_lookup(ctx, dir, "alice", &e, err, sizeof(err)), -EINVAL);

	path = talloc_asprintf(ctx, "%s/huge", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, PASSWD_MAX_FILE + 1), 0);
	close(fd);
	ck_assert_int_eq(passwd_lookup(ctx, path, "alice", &e, err, sizeof(err)), -EFBIG);

	path = talloc_asprintf(ctx, "u:g:%0*d\n", PASSWD_MAX_LINE, 0);
	path = write_file("longline", path, strlen(path));
	ck_assert_int_eq(passwd_lookup(ctx, path, "u", &e, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, ":1: "));
}
END_TEST

static const char *const methods[] = {"$y$", "$6$", "$5$", "$1$"};

START_TEST(verify_methods)
{
	const char *hash = make_hash(methods[_i], "correct horse");
	char *line = talloc_asprintf(ctx, "u:*:%s", hash);
	char *locked = talloc_asprintf(ctx, "u:*:!%s", hash);
	char *big = talloc_zero_size(ctx, PASSWD_MAX_PASSWORD + 2);
	struct passwd_entry e;

	ck_assert_int_eq(parse(line, &e), 0);
	ck_assert_int_eq(passwd_verify(&e, "correct horse"), 0);
	ck_assert_int_eq(passwd_verify(&e, "correct hors"), -EACCES);
	ck_assert_int_eq(passwd_verify(&e, "correct horse "), -EACCES);
	ck_assert_int_eq(passwd_verify(&e, ""), -EACCES);
	memset(big, 'a', PASSWD_MAX_PASSWORD + 1);
	ck_assert_int_eq(passwd_verify(&e, big), -EACCES);

	ck_assert_int_eq(parse(locked, &e), 0);
	ck_assert_int_eq(passwd_verify(&e, "correct horse"), -EACCES);
	ck_assert_int_eq(passwd_verify(&e, "wrong"), -EACCES);
}
END_TEST

START_TEST(verify_bad_hash)
{
	struct passwd_entry e;

	ck_assert_int_eq(parse("u:*:$unknown$abc", &e), 0);
	ck_assert_int_eq(passwd_verify(&e, "x"), -EINVAL);
}
END_TEST

static double seconds(void (*fn)(void *), void *arg)
{
	struct timespec a, b;
	double best = 1e9;

	for (int i = 0; i < 3; i++) {
		clock_gettime(CLOCK_MONOTONIC, &a);
		fn(arg);
		clock_gettime(CLOCK_MONOTONIC, &b);
		double t = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
		if (t < best)
			best = t;
	}
	return best;
}

static void run_verify(void *arg)
{
	passwd_verify(arg, "guess");
}

static void run_dummy(void *arg)
{
	passwd_verify_dummy("guess");
}

/* The dummy must cost about what a real check costs; loose bounds keep a busy machine
 * from failing the test, a dummy that hashes nothing is still caught. */
START_TEST(verify_dummy_timing)
{
	char *line = talloc_asprintf(ctx, "u:*:%s\n", make_hash("$y$", "pw"));
	char *path = write_file("dummy", line, strlen(line));
	struct passwd_entry e;
	char err[256];
	double real, dummy;

	passwd_verify_dummy(NULL);
	ck_assert_int_eq(passwd_lookup(ctx, path, "u", &e, err, sizeof(err)), 0);
	ck_assert_int_eq(passwd_lookup(ctx, path, "nobody", &e, err, sizeof(err)), -ENOENT);
	real = seconds(run_verify, &e);
	dummy = seconds(run_dummy, NULL);
	ck_assert_msg(dummy > real / 3 && dummy < real * 3, "verify %.4fs, dummy %.4fs", real,
		      dummy);
}
END_TEST

START_TEST(ocpasswd_file)
{
	char *path = talloc_asprintf(ctx, "%s/ocpasswd", dir);
	char *cmd;
	struct passwd_entry e;
	char err[256];

	/* contrib/test.sh installs it: without it the comparison would pass unchecked. */
	ck_assert_msg(access(OCPASSWD, X_OK) == 0,
		      "%s not installed (Debian: apt-get install ocserv)", OCPASSWD);
	cmd = talloc_asprintf(ctx,
			      "printf 'pw1\\npw1\\n' | %s -c %s alice >/dev/null 2>&1 && "
			      "printf 'pw2\\npw2\\n' | %s -c %s -g g1,g2 bob >/dev/null 2>&1 && "
			      "%s -c %s -l alice",
			      OCPASSWD, path, OCPASSWD, path, OCPASSWD, path);
	ck_assert_int_eq(system(cmd), 0);

	ck_assert_int_eq(passwd_lookup(ctx, path, "alice", &e, err, sizeof(err)), 0);
	ck_assert(e.locked);
	ck_assert_uint_eq(e.n_groups, 0);
	ck_assert_int_eq(passwd_verify(&e, "pw1"), -EACCES);
	ck_assert_int_eq(passwd_lookup(ctx, path, "bob", &e, err, sizeof(err)), 0);
	ck_assert(!e.locked);
	ck_assert_uint_eq(e.n_groups, 2);
	ck_assert_str_eq(e.groups[1], "g2");
	ck_assert_int_eq(passwd_verify(&e, "pw2"), 0);
	ck_assert_int_eq(passwd_verify(&e, "pw1"), -EACCES);
}
END_TEST

int main(void)
{
	const struct check_test parse[] = {
	    {parse_normal}, {parse_groups},
	    {parse_locked}, {parse_bad, true, sizeof(bad_lines) / sizeof(bad_lines[0])},
	    {parse_bounds}, {NULL},
	};
	const struct check_test lookup[] = {
	    {lookup_found},
	    {lookup_errors},
	    {ocpasswd_file},
	    {NULL},
	};
	const struct check_test verify[] = {
	    {verify_methods, true, sizeof(methods) / sizeof(methods[0])},
	    {verify_bad_hash},
	    {verify_dummy_timing},
	    {NULL},
	};
	const struct check_case cases[] = {
	    {"parse", setup, teardown, 0, parse},
	    {"lookup", setup, teardown, 0, lookup},
	    {"verify", setup, teardown, 30, verify},
	    {NULL},
	};
	int ret;
	char *cmd;

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	ret = check_main("passwd", cases);
	cmd = talloc_asprintf(NULL, "rm -rf '%s'", dir);
	if (cmd == NULL || system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	talloc_free(cmd);
	return ret;
}
