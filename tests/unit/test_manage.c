/* The management API's grants file (src/common/manage_access.c), its request layer
 * (src/manage/api.c) and its seccomp filter (src/manage/sandbox.c): what a grants line
 * may be and how a bad one is named; the file's owner and mode; tokens found only in
 * their exact form; which route, role, method, content type and body give which call
 * or status; and that the filtered process may start threads but not processes,
 * programs, executable memory or files to write. */
#include "config.h"
#include "common/manage_access.h"
#include "manage/api.h"

#include <check.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_main.h"
#include "manage/manage.h"
#include "sandbox_child.h"

static TALLOC_CTX *ctx;

static void setup(void)
{
	ctx = talloc_new(NULL);
}

static void teardown(void)
{
	talloc_free(ctx);
}

static const char *const HASH =
    "sha256:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

START_TEST(test_parse_good)
{
	char *text = talloc_asprintf(ctx,
				     "# grants\n"
				     "\n"
				     "token admin ops %s\n"
				     "  token\tread\twatch-1@site %s  \r\n"
				     "cert admin   Jane Q. Admin  \n"
				     "cert read viewer",
				     HASH, HASH);
	struct manage_access *a = NULL;
	char err[256] = "";

	ck_assert_int_eq(manage_access_parse(ctx, text, strlen(text), &a, err, sizeof(err)), 0);
	ck_assert_uint_eq(a->n, 4);
	ck_assert_str_eq(a->grants[0].name, "ops");
	ck_assert_int_eq(a->grants[0].role, MANAGE_ROLE_ADMIN);
	ck_assert_int_eq(a->grants[1].role, MANAGE_ROLE_READ);
	ck_assert_str_eq(a->grants[1].name, "watch-1@site");
	ck_assert_int_eq(a->grants[2].kind, MANAGE_GRANT_CERT);
	ck_assert_str_eq(a->grants[2].name, "Jane Q. Admin");
	ck_assert_ptr_eq(manage_access_cert(a, "Jane Q. Admin"), &a->grants[2]);
	ck_assert_ptr_null(manage_access_cert(a, "Jane Q. admin"));
	ck_assert_ptr_null(manage_access_cert(a, "ops")); /* a token's name is no CN */
	ck_assert_str_eq(manage_grant_line(ctx, &a->grants[2]), "cert admin Jane Q. Admin\n");
}
END_TEST

static const struct {
	const char *line, *why;
} bad[] = {
    {"tokens admin x sha256:00", "line 1: expected \"token\" or \"cert\""},
    {"token root x HASH", "line 1: the role must be \"read\" or \"admin\""},
    {"token administrator x HASH", "line 1: the role must be \"read\" or \"admin\""},
    {"token admin bad/name HASH", "line 1: expected a token name"},
    {"token admin x sha256:0011", "line 1: expected sha256: and 64 hex digits"},
    {"token admin x md5:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
     "line 1: expected sha256:"},
    {"token admin x HASH extra", "line 1: unexpected text after the hash"},
    {"token admin", "line 1: expected a token name"},
    {"cert admin", "line 1: expected a certificate's common name"},
    {"cert read a\"b", "line 1: expected a certificate's common name"},
    {"# ok\ncert read x\ncert admin x", "line 3: certificate \"x\" is granted twice"},
};

START_TEST(test_parse_bad)
{
	char *text = talloc_strdup(ctx, bad[_i].line);
	char *h = strstr(text, "HASH");
	struct manage_access *a = NULL;
	char err[256] = "";

	if (h)
		text = talloc_asprintf(ctx, "%.*s%s%s", (int)(h - text), text, HASH, h + 4);
	ck_assert_int_eq(manage_access_parse(ctx, text, strlen(text), &a, err, sizeof(err)),
			 -EINVAL);
	ck_assert_msg(strncmp(err, bad[_i].why, strlen(bad[_i].why)) == 0, "'%s': got '%s'",
		      bad[_i].line, err);
	ck_assert_ptr_null(a);
}
END_TEST

START_TEST(test_nul_and_limits)
{
	static const char nul[] = "cert read a\0b\n";
	char *many = talloc_strdup(ctx, "");
	struct manage_access *a = NULL;
	char err[256] = "";

	ck_assert_int_eq(manage_access_parse(ctx, nul, sizeof(nul) - 1, &a, err, sizeof(err)),
			 -EINVAL);
	ck_assert_str_eq(err, "line 1: a NUL byte");
	for (int i = 0; i <= MANAGE_GRANTS_MAX; i++)
		many = talloc_asprintf_append(many, "cert read n%d\n", i);
	ck_assert_int_eq(manage_access_parse(ctx, many, strlen(many), &a, err, sizeof(err)),
			 -EINVAL);
	ck_assert_msg(strstr(err, "more than 1024 grants") != NULL, "%s", err);
}
END_TEST

START_TEST(test_tokens)
{
	char tok[MANAGE_TOKEN_LEN + 1], tok2[MANAGE_TOKEN_LEN + 1];
	struct manage_grant g = {.kind = MANAGE_GRANT_TOKEN, .role = MANAGE_ROLE_READ,
				 .name = "watch"};
	struct manage_grant g2 = {.kind = MANAGE_GRANT_TOKEN, .role = MANAGE_ROLE_ADMIN,
				  .name = "ops"};
	struct manage_access *a = NULL;
	char *text, err[256];

	ck_assert_int_eq(manage_token_new(tok, g.hash), 0);
	ck_assert_int_eq(manage_token_new(tok2, g2.hash), 0);
	ck_assert_uint_eq(strlen(tok), MANAGE_TOKEN_LEN);
	ck_assert_int_eq(strncmp(tok, "slm_", 4), 0);
	ck_assert_str_ne(tok, tok2);
	text = talloc_asprintf(ctx, "%s%s", manage_grant_line(ctx, &g), manage_grant_line(ctx, &g2));
	ck_assert_ptr_null(strstr(text, tok + 4)); /* only the hash is written */
	ck_assert_int_eq(manage_access_parse(ctx, text, strlen(text), &a, err, sizeof(err)), 0);
	ck_assert_ptr_eq(manage_access_token(a, tok, strlen(tok)), &a->grants[0]);
	ck_assert_ptr_eq(manage_access_token(a, tok2, strlen(tok2)), &a->grants[1]);
	ck_assert_ptr_null(manage_access_token(a, tok, strlen(tok) - 1));
	tok[10] ^= 1;
	ck_assert_ptr_null(manage_access_token(a, tok, strlen(tok)));
	tok[10] ^= 1;
	tok[0] = 'x';
	ck_assert_ptr_null(manage_access_token(a, tok, strlen(tok)));
	ck_assert_ptr_null(manage_access_token(NULL, tok2, strlen(tok2)));
}
END_TEST

START_TEST(test_load_mode)
{
	char path[] = "/tmp/sluice-test-access.XXXXXX";
	int fd = mkstemp(path);
	struct manage_access *a = NULL;
	char err[512] = "";
	const char line[] = "cert read viewer\n";

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, line, sizeof(line) - 1), (ssize_t)sizeof(line) - 1);
	close(fd);
	chmod(path, 0600);
	if (geteuid() == 0) {
		ck_assert_int_eq(manage_access_load(ctx, path, &a, err, sizeof(err)), 0);
		ck_assert_uint_eq(a->n, 1);
	}
	chmod(path, 0640);
	ck_assert_int_eq(manage_access_load(ctx, path, &a, err, sizeof(err)), -EPERM);
	ck_assert_msg(strstr(err, "mode 0640") != NULL, "%s", err);
	unlink(path);
	ck_assert_int_eq(manage_access_load(ctx, path, &a, err, sizeof(err)), -ENOENT);
}
END_TEST

/* api_parse on one request; returns the status and fills call. */
static unsigned call_api(const char *method, const char *path, enum manage_role role,
			 const char *ctype, const char *body, struct api_call *call)
{
	struct api_request req = {.method = method, .path = path, .role = role,
				  .content_type = ctype, .body = body,
				  .body_len = body ? strlen(body) : 0};
	const char *why = NULL;
	unsigned st = api_parse(&req, call, &why);

	ck_assert(st == 200 || (why && *why));
	return st;
}

START_TEST(test_api_routes)
{
	static const char *const J = "application/json";
	struct api_call c;
	struct api_request q = {.method = "GET", .path = "/api/user", .role = MANAGE_ROLE_READ};
	const char *why;

	ck_assert_uint_eq(call_api("GET", "/api/status", MANAGE_ROLE_READ, NULL, NULL, &c), 200);
	ck_assert_int_eq(c.op, API_STATUS);
	ck_assert_uint_eq(call_api("GET", "/api/status", MANAGE_ROLE_NONE, NULL, NULL, &c), 403);
	ck_assert_uint_eq(call_api("POST", "/api/status", MANAGE_ROLE_ADMIN, J, "{}", &c), 405);
	ck_assert_uint_eq(call_api("GET", "/api/reload", MANAGE_ROLE_ADMIN, NULL, NULL, &c), 405);
	ck_assert_uint_eq(call_api("GET", "/api/statuses", MANAGE_ROLE_ADMIN, NULL, NULL, &c), 404);
	ck_assert_uint_eq(call_api("GET", "/api/status/", MANAGE_ROLE_ADMIN, NULL, NULL, &c), 404);
	ck_assert_uint_eq(call_api("POST", "/api/reload", MANAGE_ROLE_READ, J, "{}", &c), 403);
	ck_assert_uint_eq(call_api("POST", "/api/reload", MANAGE_ROLE_ADMIN, J, "{}", &c), 200);
	ck_assert_int_eq(c.op, API_RELOAD);
	ck_assert_uint_eq(call_api("POST", "/api/reload", MANAGE_ROLE_ADMIN, J, "", &c), 200);
	ck_assert_uint_eq(call_api("POST", "/api/reload", MANAGE_ROLE_ADMIN, NULL, "{}", &c), 415);
	ck_assert_uint_eq(call_api("POST", "/api/reload", MANAGE_ROLE_ADMIN, "text/plain", "{}", &c),
			  415);
	ck_assert_uint_eq(call_api("POST", "/api/reload", MANAGE_ROLE_ADMIN,
				   "application/json; charset=utf-8", "{}", &c),
			  200);
	ck_assert_uint_eq(call_api("POST", "/api/reload", MANAGE_ROLE_ADMIN, "application/jsonp",
				   "{}", &c),
			  415);
	ck_assert_uint_eq(call_api("POST", "/api/reload", MANAGE_ROLE_ADMIN, J, "{\"a\":1}", &c), 400);

	/* disconnect: a name or an id, not both, not neither, nothing else */
	ck_assert_uint_eq(call_api("POST", "/api/disconnect", MANAGE_ROLE_ADMIN, J,
				   "{\"user\":\"alice\"}", &c),
			  200);
	ck_assert_int_eq(c.op, API_DISCONNECT_USER);
	ck_assert_str_eq(c.arg, "alice");
	ck_assert_uint_eq(call_api("POST", "/api/disconnect", MANAGE_ROLE_ADMIN, J, "{\"id\":42}", &c),
			  200);
	ck_assert_int_eq(c.op, API_DISCONNECT_ID);
	ck_assert_uint_eq(c.id, 42);
	ck_assert_uint_eq(call_api("POST", "/api/disconnect", MANAGE_ROLE_ADMIN, J, "{\"id\":0}", &c),
			  400);
	ck_assert_uint_eq(call_api("POST", "/api/disconnect", MANAGE_ROLE_ADMIN, J,
				   "{\"id\":4294967296}", &c),
			  400);
	ck_assert_uint_eq(call_api("POST", "/api/disconnect", MANAGE_ROLE_ADMIN, J, "{\"id\":\"42\"}",
				   &c),
			  400);
	ck_assert_uint_eq(call_api("POST", "/api/disconnect", MANAGE_ROLE_ADMIN, J, "{}", &c), 400);
	ck_assert_uint_eq(call_api("POST", "/api/disconnect", MANAGE_ROLE_ADMIN, J,
				   "{\"user\":\"a\",\"user\":\"b\"}", &c),
			  400);
	ck_assert_uint_eq(call_api("POST", "/api/disconnect", MANAGE_ROLE_ADMIN, J,
				   "{\"user\":\"a\\u0000b\"}", &c),
			  400);
	ck_assert_uint_eq(call_api("POST", "/api/disconnect", MANAGE_ROLE_ADMIN, J,
				   "{\"user\":\"a\\nb\"}", &c),
			  400);
	ck_assert_uint_eq(call_api("POST", "/api/disconnect", MANAGE_ROLE_ADMIN, J, "\"alice\"", &c),
			  400);
	ck_assert_uint_eq(call_api("POST", "/api/unban", MANAGE_ROLE_ADMIN, J,
				   "{\"ip\":\"198.18.0.0/15\"}", &c),
			  200);
	ck_assert_str_eq(c.arg, "198.18.0.0/15");
	ck_assert_uint_eq(call_api("POST", "/api/unban", MANAGE_ROLE_ADMIN, J, "{\"ip\":\"fd00::1\"}",
				   &c),
			  200);
	ck_assert_uint_eq(call_api("POST", "/api/unban", MANAGE_ROLE_ADMIN, J, "{\"ip\":\"300.1.1.1\"}",
				   &c),
			  400);

	/* queries */
	q.q_name = "alice";
	ck_assert_uint_eq(api_parse(&q, &c, &why), 200);
	ck_assert_str_eq(c.arg, "alice");
	q.q_name = NULL;
	ck_assert_uint_eq(api_parse(&q, &c, &why), 400);
	q.path = "/api/id";
	q.q_id = "007";
	ck_assert_uint_eq(api_parse(&q, &c, &why), 400);
	q.q_id = "4294967295";
	ck_assert_uint_eq(api_parse(&q, &c, &why), 200);
	ck_assert_uint_eq(c.id, 4294967295u);
	q.q_id = "4294967296";
	ck_assert_uint_eq(api_parse(&q, &c, &why), 400);
	q.path = "/api/session";
	q.q_sid = "abcdef012345";
	ck_assert_uint_eq(api_parse(&q, &c, &why), 200);
	q.q_sid = "abcdef0123456";
	ck_assert_uint_eq(api_parse(&q, &c, &why), 400);
	q.q_sid = "xyz";
	ck_assert_uint_eq(api_parse(&q, &c, &why), 400);
	/* accounts */
	ck_assert_uint_eq(call_api("GET", "/api/accounts", MANAGE_ROLE_READ, NULL, NULL, &c), 200);
	ck_assert_uint_eq(call_api("POST", "/api/accounts/set", MANAGE_ROLE_READ, J,
				   "{\"user\":\"u\",\"password\":\"p\"}", &c),
			  403);
	ck_assert_uint_eq(call_api("POST", "/api/accounts/set", MANAGE_ROLE_ADMIN, J,
				   "{\"user\":\"u\",\"password\":\"p w\",\"groups\":[\"a\",\"b\"]}", &c),
			  200);
	ck_assert_int_eq(c.op, API_ACCOUNT_SET);
	ck_assert_str_eq(c.password, "p w");
	ck_assert(c.set_groups);
	ck_assert_uint_eq(c.n_groups, 2);
	ck_assert_str_eq(c.groups[1], "b");
	ck_assert_uint_eq(call_api("POST", "/api/accounts/set", MANAGE_ROLE_ADMIN, J,
				   "{\"user\":\"u\",\"password\":\"p\"}", &c),
			  200);
	ck_assert(!c.set_groups);
	ck_assert_uint_eq(call_api("POST", "/api/accounts/groups", MANAGE_ROLE_ADMIN, J,
				   "{\"user\":\"u\",\"groups\":[]}", &c),
			  200);
	ck_assert(c.set_groups && c.n_groups == 0);
	ck_assert_uint_eq(call_api("POST", "/api/accounts/groups", MANAGE_ROLE_ADMIN, J,
				   "{\"user\":\"u\"}", &c),
			  400);
	ck_assert_uint_eq(call_api("POST", "/api/accounts/lock", MANAGE_ROLE_ADMIN, J,
				   "{\"user\":\"u\",\"password\":\"p\"}", &c),
			  400);
	ck_assert_uint_eq(call_api("POST", "/api/accounts/delete", MANAGE_ROLE_ADMIN, J,
				   "{\"user\":\"-rf\"}", &c),
			  400);
	ck_assert_uint_eq(call_api("POST", "/api/accounts/delete", MANAGE_ROLE_ADMIN, J,
				   "{\"user\":\"a:b\"}", &c),
			  400);
	ck_assert_uint_eq(call_api("POST", "/api/accounts/set", MANAGE_ROLE_ADMIN, J,
				   "{\"user\":\"u\",\"password\":\"\"}", &c),
			  400);
	ck_assert_uint_eq(call_api("POST", "/api/accounts/set", MANAGE_ROLE_ADMIN, J,
				   "{\"user\":\"u\",\"password\":\"p\",\"groups\":[\"x,y\"]}", &c),
			  400);
	ck_assert_uint_eq(call_api("POST", "/api/accounts/set", MANAGE_ROLE_ADMIN, J,
				   "{\"user\":\"u\",\"password\":\"p\",\"groups\":[1]}", &c),
			  400);
	ck_assert(api_op_changes(API_ACCOUNT_GROUPS));
	ck_assert(!api_op_changes(API_ACCOUNTS));
	ck_assert(api_op_changes(API_RELOAD));
	ck_assert(!api_op_changes(API_EVENTS));
}
END_TEST

/* A log of n records, alternating users a and b, each padded to pad bytes so that
 * lines cross the reader's 64 KiB blocks at every offset; then the newest 100 of a. */
START_TEST(test_history)
{
	char path[] = "/tmp/sluice-test-audit.XXXXXX";
	int fd = mkstemp(path), n = 3000 + _i * 7, pad = 50 + _i * 97;
	FILE *f = fdopen(fd, "w");
	json_t *out = NULL;
	size_t k;
	json_t *v;

	ck_assert_ptr_nonnull(f);
	for (int i = 0; i < n; i++)
		fprintf(f, "{\"event\":\"auth\",\"user\":\"%s\",\"seq\":%d,\"pad\":\"%*s\"}\n",
			i % 2 ? "b" : "a", i, pad, "");
	fprintf(f, "{\"event\":\"auth\",\"user\":\"a\",\"seq\":%d}", n); /* no newline */
	fflush(f);
	history_init(fd);
	ck_assert_uint_eq(history_for("a", 100, &out), 200);
	ck_assert_uint_eq(json_array_size(out), 100);
	json_array_foreach(out, k, v)
	{
		/* newest first: n, then the even ones below it */
		int want = k == 0 ? n : (n - 1) - ((n - 1) % 2) - 2 * ((int)k - 1);

		if (n % 2 == 0 && k > 0)
			want = n - 2 * (int)k;
		ck_assert_int_eq(json_integer_value(json_object_get(v, "seq")), want);
		ck_assert_str_eq(json_string_value(json_object_get(v, "user")), "a");
	}
	json_decref(out);
	ck_assert_uint_eq(history_for("nobody", 100, &out), 200);
	ck_assert_uint_eq(json_array_size(out), 0);
	json_decref(out);
	fclose(f);
	unlink(path);
	history_init(-1);
	ck_assert_uint_eq(history_for("a", 100, &out), 409);
	json_decref(out);
}
END_TEST

static void filtered(int setup)
{
	CHILD_CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0);
	CHILD_CHECK(manage_sandbox_install() == 0);
}

static void *thread_body(void *arg)
{
	return arg;
}

/* What every request needs: threads (by clone, once clone3 is refused), memory, time. */
static void probe_threads(void *arg)
{
	pthread_t t;
	void *out = NULL;
	void *block = malloc(1 << 20);
	struct timespec ts;

	CHILD_CHECK(block != NULL);
	CHILD_CHECK(pthread_create(&t, NULL, thread_body, block) == 0);
	CHILD_CHECK(pthread_join(t, &out) == 0 && out == block);
	free(block);
	CHILD_CHECK(clock_gettime(CLOCK_REALTIME, &ts) == 0);
}

static void probe_open_write(void *arg)
{
	open("/tmp/sluice-manage-probe", O_WRONLY | O_CREAT, 0600);
	_exit(1); /* not reached */
}

static void probe_open_read(void *arg)
{
	/* refused quietly, not killed */
	CHILD_CHECK(open("/etc/hostname", O_RDONLY) < 0 && errno == EACCES);
}

START_TEST(test_sandbox)
{
	assert_exited_ok(child_run(filtered, 0, probe_threads, NULL));
	assert_exited_ok(child_run(filtered, 0, probe_open_read, NULL));
	assert_killed_by(child_run(filtered, 0, probe_execve, NULL), SIGSYS);
	assert_killed_by(child_run(filtered, 0, probe_fork, NULL), SIGSYS);
	assert_killed_by(child_run(filtered, 0, probe_mmap_exec, NULL), SIGSYS);
	assert_killed_by(child_run(filtered, 0, probe_open_write, NULL), SIGSYS);
	assert_killed_by(child_run(filtered, 0, probe_abort, NULL), SIGABRT);
#ifdef __x86_64__
	assert_killed_by(child_run(filtered, 0, probe_x32_syscall, NULL), SIGSYS);
#endif
}
END_TEST

int main(void)
{
	const struct check_test tests[] = {
	    {test_parse_good},
	    {test_parse_bad, true, sizeof(bad) / sizeof(bad[0])},
	    {test_nul_and_limits},
	    {test_tokens},
	    {test_load_mode},
	    {test_api_routes},
	    {test_sandbox},
	    {test_history, true, 8},
	    {NULL},
	};
	const struct check_case cases[] = {
	    {"manage", setup, teardown, 0, tests},
	    {NULL},
	};

	return check_main("manage", cases);
}
