#include "config.h"
#include "worker/camouflage.h"

#include <check.h>
#include <errno.h>
#include <string.h>

#include "check_main.h"

#define SECRET "Zq7-x.9_~k!$&'()*+,;=:@/?"

static struct http_request request(enum http_method method, const char *path, const char *query,
				   const char *cookie)
{
	struct http_request r;

	memset(&r, 0, sizeof(r));
	r.method = method;
	r.path = path;
	r.query = query;
	r.cookie_webvpn = cookie;
	r.minor = 1;
	r.keep_alive = true;
	return r;
}

static enum camo_verdict decide(const struct camouflage *c, bool passed, enum http_method m,
				const char *path, const char *query, const char *cookie)
{
	struct http_request r = request(m, path, query, cookie);

	return camo_decide(c, passed, &r);
}

START_TEST(test_off_passes_everything)
{
	struct camouflage c;

	ck_assert_int_eq(camo_init(&c, NULL, "realm"), 0);
	ck_assert(!c.on);
	ck_assert_int_eq(decide(&c, false, HTTP_POST, "/", NULL, NULL), CAMO_PASS);
	ck_assert_int_eq(decide(&c, false, HTTP_OTHER, "/x", "y", NULL), CAMO_PASS);
	ck_assert_int_eq(decide(&c, false, HTTP_CONNECT, "/CSCOSSLC/tunnel", NULL, "c"), CAMO_PASS);
	/* A malformed request gets the VPN's own error. */
	ck_assert_int_eq(camo_decide(&c, false, NULL), CAMO_PASS);
}
END_TEST

START_TEST(test_init_limits)
{
	struct camouflage c;
	char long_secret[CAMO_SECRET_MAX + 2];

	ck_assert_int_eq(camo_init(&c, "", NULL), -EINVAL);
	memset(long_secret, 'a', sizeof(long_secret) - 1);
	long_secret[sizeof(long_secret) - 1] = '\0';
	ck_assert_int_eq(camo_init(&c, long_secret, NULL), -EINVAL);
	long_secret[CAMO_SECRET_MAX] = '\0';
	ck_assert_int_eq(camo_init(&c, long_secret, NULL), 0);
	ck_assert_int_eq(decide(&c, false, HTTP_GET, "/", long_secret, NULL), CAMO_PASS);
	ck_assert_int_eq(camo_init(&c, "s", "a \"quoted\" realm"), -EINVAL);
	ck_assert_int_eq(camo_init(&c, "s", "back\\slash"), -EINVAL);
	ck_assert_int_eq(camo_init(&c, "s", "line\r\nX-Injected: 1"), -EINVAL);
	ck_assert_int_eq(camo_init(&c, "s", "caf\xc3\xa9"), -EINVAL);
	ck_assert_int_eq(camo_init(&c, "s", "Restricted Content"), 0);
}
END_TEST

/* Only the exact secret, as the whole query, on any path and with any method. */
START_TEST(test_secret_query)
{
	static const struct {
		const char *query;
		enum camo_verdict want;
	} cases[] = {
	    {SECRET, CAMO_PASS},
	    {NULL, CAMO_DECOY},
	    {"", CAMO_DECOY},
	    {"Zq7-x.9_~k!$&'()*+,;=:@/", CAMO_DECOY},    /* one short */
	    {SECRET "?", CAMO_DECOY},                    /* one long */
	    {"zq7-x.9_~k!$&'()*+,;=:@/?", CAMO_DECOY},   /* case matters */
	    {"Zq7-x.9_~k!$&'()*+,;=:@/%3F", CAMO_DECOY}, /* not decoded */
	    {"a=" SECRET, CAMO_DECOY},
	    {SECRET "&a=b", CAMO_DECOY},
	    {"Zq7-x.9_~k!$&'()*+,;=:@/!", CAMO_DECOY}, /* last byte differs */
	    {"Xq7-x.9_~k!$&'()*+,;=:@/?", CAMO_DECOY}, /* first byte differs */
	};
	static const char *const paths[] = {"/", "/auth", "/profiles/x.xml", "/CSCOSSLC/tunnel"};
	static const enum http_method methods[] = {HTTP_GET, HTTP_POST, HTTP_HEAD, HTTP_OTHER};
	struct camouflage c;

	ck_assert_int_eq(camo_init(&c, SECRET, NULL), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		for (size_t p = 0; p < sizeof(paths) / sizeof(paths[0]); p++)
			for (size_t m = 0; m < sizeof(methods) / sizeof(methods[0]); m++)
				ck_assert_msg(decide(&c, false, methods[m], paths[p],
						     cases[i].query, NULL) == cases[i].want,
					      "query '%s' path %s method %d", cases[i].query,
					      paths[p], methods[m]);
	/* A query longer than any secret. */
	{
		char big[CAMO_SECRET_MAX + 50];

		memset(big, 'Z', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		ck_assert_int_eq(decide(&c, false, HTTP_GET, "/", big, NULL), CAMO_DECOY);
	}
}
END_TEST

/* After one request passed, the rest of the connection passes, malformed ones too. */
START_TEST(test_passed_connection)
{
	struct camouflage c;

	ck_assert_int_eq(camo_init(&c, SECRET, "r"), 0);
	ck_assert_int_eq(decide(&c, true, HTTP_POST, "/auth", NULL, NULL), CAMO_PASS);
	ck_assert_int_eq(decide(&c, true, HTTP_OTHER, "/x", "nope", NULL), CAMO_PASS);
	ck_assert_int_eq(decide(&c, true, HTTP_CONNECT, "/CSCOSSLC/tunnel", NULL, "cookie"),
			 CAMO_PASS);
	ck_assert_int_eq(camo_decide(&c, true, NULL), CAMO_PASS);
	ck_assert_int_eq(camo_decide(&c, false, NULL), CAMO_DECOY);
}
END_TEST

/* A CONNECT to the tunnel with a session cookie is main's to judge; any other CONNECT,
 * and a cookie on any other request, is not. */
START_TEST(test_cookie_connect)
{
	struct camouflage c;

	ck_assert_int_eq(camo_init(&c, SECRET, NULL), 0);
	ck_assert_int_eq(decide(&c, false, HTTP_CONNECT, "/CSCOSSLC/tunnel", NULL, "abc"),
			 CAMO_COOKIE);
	ck_assert_int_eq(decide(&c, false, HTTP_CONNECT, "/CSCOSSLC/tunnel", "x", "abc"),
			 CAMO_COOKIE);
	ck_assert_int_eq(decide(&c, false, HTTP_CONNECT, "/CSCOSSLC/tunnel", SECRET, "abc"),
			 CAMO_PASS);
	ck_assert_int_eq(decide(&c, false, HTTP_CONNECT, "/CSCOSSLC/tunnel", NULL, ""), CAMO_DECOY);
	ck_assert_int_eq(decide(&c, false, HTTP_CONNECT, "/CSCOSSLC/tunnel", NULL, NULL),
			 CAMO_DECOY);
	ck_assert_int_eq(decide(&c, false, HTTP_CONNECT, "/CSCOSSLC/tunnel/", NULL, "abc"),
			 CAMO_DECOY);
	ck_assert_int_eq(decide(&c, false, HTTP_CONNECT, "/", NULL, "abc"), CAMO_DECOY);
	ck_assert_int_eq(decide(&c, false, HTTP_GET, "/CSCOSSLC/tunnel", NULL, "abc"), CAMO_DECOY);
	ck_assert_int_eq(decide(&c, false, HTTP_POST, "/auth", NULL, "abc"), CAMO_DECOY);
}
END_TEST

static void assert_no_vpn_words(const char *resp)
{
	static const char *const words[] = {"X-CSTP",      "X-DTLS", "X-Transcend", "X-Reason",
					    "config-auth", "webvpn", "Set-Cookie",  "sluice",
					    "AnyConnect",  "VPN",    "Server:"};

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		ck_assert_msg(!strcasestr(resp, words[i]), "'%s' in the decoy:\n%s", words[i],
			      resp);
}

START_TEST(test_decoy_404)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	struct camouflage c;
	char *r, *body;

	ck_assert_int_eq(camo_init(&c, SECRET, NULL), 0);
	/* 1994-11-06 08:49:37 UTC, RFC 9110's example date */
	r = camo_decoy(ctx, &c, false, true, 784111777);
	ck_assert_ptr_nonnull(r);
	ck_assert_msg(strncmp(r, "HTTP/1.1 404 Not Found\r\n", 24) == 0, "%s", r);
	ck_assert_ptr_nonnull(strstr(r, "\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n"));
	ck_assert_ptr_nonnull(strstr(r, "\r\nContent-Type: text/html; charset=utf-8\r\n"));
	ck_assert_ptr_null(strstr(r, "WWW-Authenticate"));
	ck_assert_ptr_null(strstr(r, "Connection: close"));
	body = strstr(r, "\r\n\r\n");
	ck_assert_ptr_nonnull(body);
	body += 4;
	ck_assert_ptr_nonnull(
	    strstr(r, talloc_asprintf(ctx, "Content-Length: %zu\r\n", strlen(body))));
	ck_assert_ptr_nonnull(strstr(body, "<title>404 Not Found</title>"));
	assert_no_vpn_words(r);

	/* HEAD: the same headers, no body; a request that ends the connection says so. */
	r = camo_decoy(ctx, &c, true, false, 784111777);
	ck_assert_ptr_nonnull(strstr(r, "\r\nConnection: close\r\n"));
	ck_assert_ptr_nonnull(
	    strstr(r, talloc_asprintf(ctx, "Content-Length: %zu\r\n", strlen(body))));
	ck_assert_str_eq(strstr(r, "\r\n\r\n"), "\r\n\r\n");
	talloc_free(ctx);
}
END_TEST

START_TEST(test_decoy_401)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	struct camouflage c;
	char *r;

	ck_assert_int_eq(camo_init(&c, SECRET, "Restricted Content"), 0);
	r = camo_decoy(ctx, &c, false, true, 0);
	ck_assert_ptr_nonnull(r);
	ck_assert_msg(strncmp(r, "HTTP/1.1 401 Unauthorized\r\n", 27) == 0, "%s", r);
	ck_assert_ptr_nonnull(strstr(r, "\r\nDate: Thu, 01 Jan 1970 00:00:00 GMT\r\n"));
	ck_assert_ptr_nonnull(
	    strstr(r, "\r\nWWW-Authenticate: Basic realm=\"Restricted Content\"\r\n"));
	ck_assert_ptr_nonnull(strstr(r, "<h1>Unauthorized</h1>"));
	assert_no_vpn_words(r);
	talloc_free(ctx);
}
END_TEST

int main(void)
{
	const struct check_test tests[] = {
	    {test_off_passes_everything},
	    {test_init_limits},
	    {test_secret_query},
	    {test_passed_connection},
	    {test_cookie_connect},
	    {test_decoy_404},
	    {test_decoy_401},
	    {NULL},
	};
	const struct check_case cases[] = {
	    {"camouflage", NULL, NULL, 0, tests},
	    {NULL},
	};

	return check_main("camouflage", cases);
}
