#include "config.h"
#include "worker/http.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"

/* Requests as openconnect 9.01 (Debian 9.01-3) sends them, protocol.md §2.3,
 * §2.5, §2.9 and §3.1; STRAP values shortened but still several hundred bytes. */
#define STRAP_KEY                                                                                  \
	"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEq1d8mGfRrZ0Ydg3TnqQ9V8LpxJk7cS2wB4vHhYfN0aXuE5tLmR"   \
	"o6IpKzWcDsJeF1gAyU3bQnVt9OiCHlM7ZvxA=="
#define STRAP_SIG                                                                                  \
	"MEUCIQDx3v4P8f0N5k2hJt7RzQmWq1yLcV9oB6sA2dE4gF7hKwIgT3uY5iO8pL1kM2nB4vC6xZ9aS0dF7gH3jK5"  \
	"lQ8wE2rTyU1iO4pA6sD9fG0hJ3kL5zX7cV2bN4mQ8wE1rT6yU3iO9pA2sD5fG8hJ0kL3zX6cV9bN2mQ5wE8rT1y"

#define INIT_BODY                                                                                  \
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<config-auth client=\"vpn\" type=\"init\" "   \
	"aggregate-auth-version=\"2\"><version who=\"vpn\">v9.01-3</version><device-id>linux-64<"  \
	"/device-id><capabilities><auth-method>single-sign-on-v2</"                                \
	"auth-method><auth-method>single-"                                                         \
	"sign-on-external-browser</auth-method></capabilities><group-access>https://"              \
	"vpn.example.com/</group-access></config-auth>"

#define REPLY_BODY "group_list=grpB&username=test&password=test"

#define CONNECT_REQ                                                                                \
	"CONNECT /CSCOSSLC/tunnel HTTP/1.1\r\n"                                                    \
	"Host: vpn.example.com\r\n"                                                                \
	"User-Agent: Open AnyConnect VPN Agent v9.01-3\r\n"                                        \
	"Cookie: webvpn=qk3C0eS1xY2bV9nM4lK7jH6gF5dS3aQ1wE2rT8yU0iA=\r\n"                          \
	"X-CSTP-Version: 1\r\n"                                                                    \
	"X-CSTP-Hostname: client1\r\n"                                                             \
	"X-AnyConnect-STRAP-Verify: " STRAP_SIG "\r\n"                                             \
	"X-AnyConnect-STRAP-Pubkey: " STRAP_KEY "\r\n"                                             \
	"X-CSTP-Accept-Encoding: oc-lz4,lzs\r\n"                                                   \
	"X-CSTP-Base-MTU: 1500\r\n"                                                                \
	"X-CSTP-MTU: 1390\r\n"                                                                     \
	"X-CSTP-Address-Type: IPv6,IPv4\r\n"                                                       \
	"X-CSTP-Full-IPv6-Capability: true\r\n"                                                    \
	"X-DTLS-Master-Secret: " MASTER_SECRET "\r\n"                                              \
	"X-DTLS-CipherSuite: " DTLS_CS "\r\n"                                                      \
	"X-DTLS12-CipherSuite: " DTLS12_CS "\r\n"                                                  \
	"X-DTLS-Accept-Encoding: oc-lz4,lzs\r\n"                                                   \
	"\r\n"
#define MASTER_SECRET                                                                              \
	"6A1F0C3E9B2D4F7A8C5E1B3D6F9A2C4E7B0D3F5A8C1E4B7D0F2A5C8E1B3D6F9A2C4E7B0D3F5A8C1E4B7D0F"   \
	"2A5C8E1B3D"
#define DTLS_CS                                                                                    \
	"PSK-NEGOTIATE:OC-DTLS1_2-AES256-GCM:OC2-DTLS1_2-CHACHA20-POLY1305:OC-DTLS1_2-AES128-GCM:" \
	"DHE-RSA-AES256-SHA:DHE-RSA-AES128-SHA:AES256-SHA:AES128-SHA"
#define DTLS12_CS                                                                                  \
	"ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:AES256-GCM-SHA384:AES128-GCM-"    \
	"SHA256:DHE-RSA-AES256-SHA:DHE-RSA-AES128-SHA:AES256-SHA:AES128-SHA"

static char *pad(TALLOC_CTX *ctx, size_t body_len)
{
	size_t n = 64 * (1 + body_len / 64) - body_len;
	char *s = talloc_array(ctx, char, n + 1);

	memset(s, '0', n);
	s[n] = '\0';
	return s;
}

static char *init_request(TALLOC_CTX *ctx)
{
	size_t blen = strlen(INIT_BODY);

	return talloc_asprintf(ctx,
			       "POST / HTTP/1.1\r\n"
			       "Host: vpn.example.com\r\n"
			       "User-Agent: Open AnyConnect VPN Agent v9.01-3\r\n"
			       "Accept: */*\r\n"
			       "Accept-Encoding: identity\r\n"
			       "X-Transcend-Version: 1\r\n"
			       "X-Aggregate-Auth: 1\r\n"
			       "X-Support-HTTP-Auth: true\r\n"
			       "X-AnyConnect-STRAP-Pubkey: %s\r\n"
			       "X-AnyConnect-STRAP-DH-Pubkey: %s\r\n"
			       "X-Pad: %s\r\n"
			       "Content-Type: application/xml; charset=utf-8\r\n"
			       "Content-Length: %zu\r\n"
			       "\r\n%s",
			       STRAP_KEY, STRAP_KEY, pad(ctx, blen), blen, INIT_BODY);
}

/* Form-urlencoded mode: first a GET that still carries a Content-Type. */
static char *get_request(TALLOC_CTX *ctx)
{
	return talloc_asprintf(ctx,
			       "GET / HTTP/1.1\r\n"
			       "Host: vpn.example.com\r\n"
			       "User-Agent: Open AnyConnect VPN Agent v9.01-3\r\n"
			       "Accept: */*\r\n"
			       "Accept-Encoding: identity\r\n"
			       "X-Transcend-Version: 1\r\n"
			       "X-Support-HTTP-Auth: true\r\n"
			       "X-AnyConnect-STRAP-Pubkey: %s\r\n"
			       "X-AnyConnect-STRAP-DH-Pubkey: %s\r\n"
			       "X-Pad: %s\r\n"
			       "Content-Type: application/x-www-form-urlencoded\r\n"
			       "Content-Length: 0\r\n"
			       "\r\n",
			       STRAP_KEY, STRAP_KEY, pad(ctx, 0));
}

static char *reply_request(TALLOC_CTX *ctx)
{
	size_t blen = strlen(REPLY_BODY);

	return talloc_asprintf(ctx,
			       "POST /auth HTTP/1.1\r\n"
			       "Host: vpn.example.com\r\n"
			       "User-Agent: Open AnyConnect VPN Agent v9.01-3\r\n"
			       "Cookie: webvpncontext=abc; webvpn=\r\n"
			       "Accept: */*\r\n"
			       "Accept-Encoding: identity\r\n"
			       "X-Transcend-Version: 1\r\n"
			       "X-Pad: %s\r\n"
			       "Content-Type: application/x-www-form-urlencoded\r\n"
			       "Content-Length: %zu\r\n"
			       "\r\n%s",
			       pad(ctx, blen), blen, REPLY_BODY);
}

static void verify_init(const struct http_request *r)
{
	ck_assert_int_eq(r->method, HTTP_POST);
	ck_assert_str_eq(r->path, "/");
	ck_assert_uint_eq(r->minor, 1);
	ck_assert(r->keep_alive);
	ck_assert_str_eq(r->host, "vpn.example.com");
	ck_assert_str_eq(r->user_agent, "Open AnyConnect VPN Agent v9.01-3");
	ck_assert_str_eq(r->aggregate_auth, "1");
	ck_assert_str_eq(r->content_type, "application/xml; charset=utf-8");
	ck_assert_ptr_null(r->cookie_webvpn);
	ck_assert_ptr_null(r->cstp_hostname);
	ck_assert_uint_eq(r->cstp_mtu, 0);
	ck_assert_uint_eq(r->body_len, strlen(INIT_BODY));
	ck_assert_mem_eq(r->body, INIT_BODY, r->body_len);
}

static void verify_get(const struct http_request *r)
{
	ck_assert_int_eq(r->method, HTTP_GET);
	ck_assert_str_eq(r->path, "/");
	ck_assert(r->keep_alive);
	ck_assert_ptr_null(r->aggregate_auth);
	ck_assert_str_eq(r->content_type, "application/x-www-form-urlencoded");
	ck_assert_uint_eq(r->body_len, 0);
	ck_assert_ptr_null(r->body);
}

static void verify_reply(const struct http_request *r)
{
	ck_assert_int_eq(r->method, HTTP_POST);
	ck_assert_str_eq(r->path, "/auth");
	ck_assert_str_eq(r->cookie_webvpn, "");
	ck_assert_uint_eq(r->body_len, strlen(REPLY_BODY));
	ck_assert_mem_eq(r->body, REPLY_BODY, r->body_len);
}

static void verify_connect(const struct http_request *r)
{
	ck_assert_int_eq(r->method, HTTP_CONNECT);
	ck_assert_str_eq(r->path, "/CSCOSSLC/tunnel");
	ck_assert(r->keep_alive);
	ck_assert_str_eq(r->cookie_webvpn, "qk3C0eS1xY2bV9nM4lK7jH6gF5dS3aQ1wE2rT8yU0iA=");
	ck_assert_str_eq(r->user_agent, "Open AnyConnect VPN Agent v9.01-3");
	ck_assert_str_eq(r->cstp_hostname, "client1");
	ck_assert_str_eq(r->cstp_accept_encoding, "oc-lz4,lzs");
	ck_assert_uint_eq(r->cstp_base_mtu, 1500);
	ck_assert_uint_eq(r->cstp_mtu, 1390);
	ck_assert_str_eq(r->cstp_address_type, "IPv6,IPv4");
	ck_assert_str_eq(r->cstp_full_ipv6, "true");
	ck_assert_str_eq(r->dtls_master_secret, MASTER_SECRET);
	ck_assert_str_eq(r->dtls_ciphersuite, DTLS_CS);
	ck_assert_str_eq(r->dtls12_ciphersuite, DTLS12_CS);
	ck_assert_str_eq(r->dtls_accept_encoding, "oc-lz4,lzs");
	ck_assert_ptr_null(r->cstp_address);
	ck_assert_ptr_null(r->cstp_address_ip6);
	ck_assert_ptr_null(r->platform);
	ck_assert_ptr_null(r->content_type);
	ck_assert_uint_eq(r->body_len, 0);
}

/* Every split into two pieces, byte by byte, and random chunks. */
static void feed_every_way(const char *req, void (*verify)(const struct http_request *))
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	size_t len = strlen(req);
	const uint8_t *b = (const uint8_t *)req;
	struct http_parser *p;
	unsigned seed = 12345;

	for (size_t split = 0; split <= len; split++) {
		p = http_parser_new(ctx);
		int r1 = http_parser_feed(p, b, split);
		ck_assert_int_eq(r1, split == len ? HTTP_DONE : HTTP_MORE);
		ck_assert_int_eq(http_parser_feed(p, b + split, len - split), HTTP_DONE);
		verify(http_parser_request(p));
		talloc_free(p);
	}

	p = http_parser_new(ctx);
	for (size_t i = 0; i < len; i++) {
		ck_assert_ptr_null(http_parser_request(p));
		ck_assert_int_eq(http_parser_feed(p, b + i, 1),
				 i + 1 == len ? HTTP_DONE : HTTP_MORE);
	}
	verify(http_parser_request(p));
	talloc_free(p);

	for (int round = 0; round < 50; round++) {
		size_t off = 0;
		int ret = HTTP_MORE;

		p = http_parser_new(ctx);
		while (off < len) {
			size_t n = 1 + rand_r(&seed) % 300;
			if (n > len - off)
				n = len - off;
			ret = http_parser_feed(p, b + off, n);
			ck_assert_int_ge(ret, 0);
			off += n;
		}
		ck_assert_int_eq(ret, HTTP_DONE);
		verify(http_parser_request(p));
		talloc_free(p);
	}
	talloc_free(ctx);
}

START_TEST(test_init_post)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	feed_every_way(init_request(ctx), verify_init);
	talloc_free(ctx);
}
END_TEST

START_TEST(test_form_get)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	feed_every_way(get_request(ctx), verify_get);
	feed_every_way(reply_request(ctx), verify_reply);
	talloc_free(ctx);
}
END_TEST

START_TEST(test_connect)
{
	feed_every_way(CONNECT_REQ, verify_connect);
}
END_TEST

START_TEST(test_connect_reconnect_addresses)
{
	struct http_parser *p = http_parser_new(NULL);
	const char *req = "CONNECT /CSCOSSLC/tunnel HTTP/1.1\r\n"
			  "Cookie: webvpn=abc\r\n"
			  "X-CSTP-Address: 198.19.0.5\r\n"
			  "X-CSTP-Address: fd00:1::5\r\n"
			  "X-AnyConnect-Identifier-Platform: android\r\n"
			  "X-AnyConnect-Identifier-DeviceType: Pixel\r\n"
			  "\r\n";

	ck_assert_int_eq(http_parser_feed(p, (const uint8_t *)req, strlen(req)), HTTP_DONE);
	const struct http_request *r = http_parser_request(p);
	ck_assert_str_eq(r->cstp_address, "198.19.0.5");
	ck_assert_str_eq(r->cstp_address_ip6, "fd00:1::5");
	ck_assert_str_eq(r->platform, "android");
	ck_assert_str_eq(r->device_type, "Pixel");
	ck_assert_str_eq(r->cookie_webvpn, "abc");
	talloc_free(p);
}
END_TEST

/* init, reply and CONNECT pipelined in one buffer, then CSTP bytes. */
START_TEST(test_keep_alive_sequence)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	static const uint8_t cstp[] = {'S', 'T', 'F', 1, 0, 0, 7, 0,   'S',
				       'T', 'F', 1,   0, 1, 0, 0, 0x45};
	char *all = talloc_asprintf(ctx, "%s%s%s%s", init_request(ctx), get_request(ctx),
				    reply_request(ctx), CONNECT_REQ);
	size_t len = strlen(all);
	uint8_t *stream = talloc_array(ctx, uint8_t, len + sizeof(cstp));
	uint8_t out[64];

	memcpy(stream, all, len);
	memcpy(stream + len, cstp, sizeof(cstp));

	for (size_t chunk = 1; chunk <= len + sizeof(cstp); chunk = chunk * 3 + 1) {
		struct http_parser *p = http_parser_new(ctx);
		size_t off = 0;
		int ret = HTTP_MORE;

		/* Feed until the first request completes, as a worker would. */
		while (ret == HTTP_MORE) {
			size_t n =
			    chunk < len + sizeof(cstp) - off ? chunk : len + sizeof(cstp) - off;
			ret = http_parser_feed(p, stream + off, n);
			off += n;
		}
		ck_assert_int_eq(ret, HTTP_DONE);
		verify_init(http_parser_request(p));
		ret = http_parser_next(p);
		while (ret == HTTP_MORE) {
			size_t n =
			    chunk < len + sizeof(cstp) - off ? chunk : len + sizeof(cstp) - off;
			ck_assert_uint_gt(n, 0);
			ret = http_parser_feed(p, stream + off, n);
			off += n;
		}
		ck_assert_int_eq(ret, HTTP_DONE);
		verify_get(http_parser_request(p));
		ret = http_parser_next(p);
		while (ret == HTTP_MORE) {
			size_t n =
			    chunk < len + sizeof(cstp) - off ? chunk : len + sizeof(cstp) - off;
			ret = http_parser_feed(p, stream + off, n);
			off += n;
		}
		ck_assert_int_eq(ret, HTTP_DONE);
		verify_reply(http_parser_request(p));
		ret = http_parser_next(p);
		while (ret == HTTP_MORE) {
			size_t n =
			    chunk < len + sizeof(cstp) - off ? chunk : len + sizeof(cstp) - off;
			ret = http_parser_feed(p, stream + off, n);
			off += n;
		}
		ck_assert_int_eq(ret, HTTP_DONE);
		verify_connect(http_parser_request(p));

		/* Whatever arrived behind the CONNECT, plus the rest, is CSTP. */
		size_t got = 0, n;
		while ((n = http_parser_take_leftover(p, out + got, 5)) > 0)
			got += n;
		memcpy(out + got, stream + off, len + sizeof(cstp) - off);
		got += len + sizeof(cstp) - off;
		ck_assert_uint_eq(got, sizeof(cstp));
		ck_assert_mem_eq(out, cstp, sizeof(cstp));
		ck_assert_int_eq(http_parser_next(p), HTTP_MORE);
		talloc_free(p);
	}
	talloc_free(ctx);
}
END_TEST

START_TEST(test_leftover)
{
	struct http_parser *p = http_parser_new(NULL);
	const char *req = "CONNECT /CSCOSSLC/tunnel HTTP/1.1\r\nCookie: webvpn=x\r\n\r\nSTF\x01";
	uint8_t out[16];

	ck_assert_uint_eq(http_parser_take_leftover(p, out, sizeof(out)), 0);
	ck_assert_int_eq(http_parser_feed(p, (const uint8_t *)"CONNECT /", 9), HTTP_MORE);
	ck_assert_uint_eq(http_parser_leftover(p), 0);
	ck_assert_int_eq(http_parser_feed(p, (const uint8_t *)req + 9, strlen(req) - 9), HTTP_DONE);
	ck_assert_uint_eq(http_parser_leftover(p), 4);
	/* Bytes fed after the request is done are kept behind it. */
	ck_assert_int_eq(http_parser_feed(p, (const uint8_t *)"\x00\x00\x03\x00", 4), HTTP_DONE);
	ck_assert_uint_eq(http_parser_leftover(p), 8);
	ck_assert_uint_eq(http_parser_take_leftover(p, out, 3), 3);
	ck_assert_uint_eq(http_parser_leftover(p), 5);
	ck_assert_mem_eq(out, "STF", 3);
	ck_assert_uint_eq(http_parser_take_leftover(p, out, sizeof(out)), 5);
	ck_assert_mem_eq(out, "\x01\x00\x00\x03\x00", 5);
	ck_assert_uint_eq(http_parser_leftover(p), 0);
	ck_assert_uint_eq(http_parser_take_leftover(p, out, sizeof(out)), 0);
	ck_assert_str_eq(http_parser_request(p)->cookie_webvpn, "x");
	talloc_free(p);
}
END_TEST

START_TEST(test_accepted_variants)
{
	static const struct {
		const char *req;
		enum http_method method;
		const char *path;
		const char *query;
		bool keep_alive;
		size_t body_len;
	} cases[] = {
	    {"GET /x HTTP/1.1\nHost: a\n\n", HTTP_GET, "/x", NULL, true, 0},
	    {"GET /x?a=b HTTP/1.1\r\n\r\n", HTTP_GET, "/x", "a=b", true, 0},
	    {"POST /?s3cr3t HTTP/1.1\r\n\r\n", HTTP_POST, "/", "s3cr3t", true, 0},
	    {"POST /auth?a?b/c? HTTP/1.1\r\n\r\n", HTTP_POST, "/auth", "a?b/c?", true, 0},
	    {"GET /? HTTP/1.1\r\n\r\n", HTTP_GET, "/", "", true, 0},
	    {"HEAD / HTTP/1.1\r\nConnection: keep-alive, Close\r\n\r\n", HTTP_HEAD, "/", NULL,
	     false, 0},
	    {"POST /p HTTP/1.0\r\ncontent-length: 3\r\nCONTENT-LENGTH: 003\r\n\r\nabc", HTTP_POST,
	     "/p", NULL, false, 3},
	    {"POST / HTTP/1.1\r\n\r\n", HTTP_POST, "/", NULL, true, 0},
	    {"OPTIONS / HTTP/1.1\r\nX-Unknown:\r\nx-cstp-mtu:\t1400 \r\n\r\n", HTTP_OTHER, "/",
	     NULL, true, 0},
	    {"GET /profiles/x.xml:8443 HTTP/1.1\r\nConnection: close\r\n\r\n", HTTP_GET,
	     "/profiles/x.xml:8443", NULL, false, 0},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct http_parser *p = http_parser_new(NULL);
		int ret = http_parser_feed(p, (const uint8_t *)cases[i].req, strlen(cases[i].req));

		ck_assert_msg(ret == HTTP_DONE, "case %zu: %d", i, ret);
		const struct http_request *r = http_parser_request(p);
		ck_assert_int_eq(r->method, cases[i].method);
		ck_assert_str_eq(r->path, cases[i].path);
		if (cases[i].query)
			ck_assert_str_eq(r->query, cases[i].query);
		else
			ck_assert_ptr_null(r->query);
		ck_assert_int_eq(r->keep_alive, cases[i].keep_alive);
		ck_assert_uint_eq(r->body_len, cases[i].body_len);
		ck_assert_uint_eq(http_parser_status(p), 0);
		talloc_free(p);
	}
}
END_TEST

START_TEST(test_cookie_pairs)
{
	struct http_parser *p = http_parser_new(NULL);
	const char *req =
	    "GET / HTTP/1.1\r\nCookie: a=b;webvpnx=1; webvpn = no;  webvpn=XY=Z= ;c\r\n"
	    "X-CSTP-MTU: 65535\r\nX-CSTP-Base-MTU: 0\r\n\r\n";

	ck_assert_int_eq(http_parser_feed(p, (const uint8_t *)req, strlen(req)), HTTP_DONE);
	ck_assert_str_eq(http_parser_request(p)->cookie_webvpn, "XY=Z=");
	ck_assert_uint_eq(http_parser_request(p)->cstp_mtu, 65535);
	talloc_free(p);
}
END_TEST

START_TEST(test_limits_at_bound)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	char *line = talloc_asprintf(ctx, "GET /%0*d HTTP/1.1\r\n", HTTP_MAX_REQUEST_LINE - 14, 0);
	char *req;
	struct http_parser *p;

	ck_assert_uint_eq(strlen(line), HTTP_MAX_REQUEST_LINE + 2);
	p = http_parser_new(ctx);
	ck_assert_int_eq(http_parser_feed(p, (const uint8_t *)line, strlen(line)), HTTP_MORE);
	ck_assert_int_eq(http_parser_feed(p, (const uint8_t *)"\r\n", 2), HTTP_DONE);

	req = talloc_strdup(ctx, "GET / HTTP/1.1\r\n");
	for (int i = 0; i < HTTP_MAX_HEADERS; i++)
		req = talloc_asprintf_append(req, "X-H%d: v\r\n", i);
	req = talloc_asprintf_append(req, "\r\n");
	p = http_parser_new(ctx);
	ck_assert_int_eq(http_parser_feed(p, (const uint8_t *)req, strlen(req)), HTTP_DONE);

	/* A header block of exactly HTTP_MAX_HEADER_BLOCK bytes. */
	req = talloc_asprintf(ctx, "GET / HTTP/1.1\r\nX-Pad: %0*d\r\n\r\n",
			      HTTP_MAX_HEADER_BLOCK - 16 - 11, 0);
	ck_assert_uint_eq(strlen(req), HTTP_MAX_HEADER_BLOCK);
	p = http_parser_new(ctx);
	ck_assert_int_eq(http_parser_feed(p, (const uint8_t *)req, strlen(req)), HTTP_DONE);

	req = talloc_asprintf(ctx, "GET / HTTP/1.1\r\nUser-Agent: %0*d\r\n\r\n", HTTP_MAX_VALUE, 0);
	p = http_parser_new(ctx);
	ck_assert_int_eq(http_parser_feed(p, (const uint8_t *)req, strlen(req)), HTTP_DONE);

	req = talloc_asprintf(ctx, "POST / HTTP/1.1\r\nContent-Length: %d\r\n\r\n", HTTP_MAX_BODY);
	uint8_t *body = talloc_zero_array(ctx, uint8_t, HTTP_MAX_BODY);
	p = http_parser_new(ctx);
	ck_assert_int_eq(http_parser_feed(p, (const uint8_t *)req, strlen(req)), HTTP_MORE);
	ck_assert_int_eq(http_parser_feed(p, body, HTTP_MAX_BODY - 1), HTTP_MORE);
	ck_assert_int_eq(http_parser_feed(p, body, 1), HTTP_DONE);
	ck_assert_uint_eq(http_parser_request(p)->body_len, HTTP_MAX_BODY);
	talloc_free(ctx);
}
END_TEST

struct bad_case {
	const char *req;
	unsigned status;
};

static const struct bad_case bad_cases[] = {
    /* control characters, bare CR, folding */
    {"GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", 400},
    {"GET / HTTP/1.1\r\nHost: a\r\r\n\r\n", 400},
    {"GET / HTTP/1.1\r\nX-A: a\x01\r\n\r\n", 400},
    {"GET / HTTP/1.1\r\nX-A: a\x7f\r\n\r\n", 400},
    {"GET / HTTP/1.1\r\nX-A: a\r\n b\r\n\r\n", 400},
    {"GET / HTTP/1.1\r\nX-A: a\r\n\tb\r\n\r\n", 400},
    {"GET /\x1b HTTP/1.1\r\n\r\n", 400},
    {"GET\t/ HTTP/1.1\r\n\r\n", 400},
    /* request line */
    {"\r\nGET / HTTP/1.1\r\n\r\n", 400},
    {"GET  / HTTP/1.1\r\n\r\n", 400},
    {"GET / HTTP/1.1 \r\n\r\n", 400},
    {"GET /\r\n\r\n", 400},
    {"GET / \r\n\r\n", 400},
    {"GET\r\n\r\n", 400},
    {"/ HTTP/1.1\r\n\r\n", 400},
    {" / HTTP/1.1\r\n\r\n", 400},
    {"GET http://a/ HTTP/1.1\r\n\r\n", 400},
    {"GET * HTTP/1.1\r\n\r\n", 400},
    {"G(T / HTTP/1.1\r\n\r\n", 400},
    {"GET / http/1.1\r\n\r\n", 400},
    {"GET / HTTP/1.10\r\n\r\n", 400},
    {"GET / HTTP/11\r\n\r\n", 400},
    {"GET / HTTP/1.x\r\n\r\n", 400},
    /* version */
    {"GET / HTTP/2.0\r\n\r\n", 505},
    {"GET / HTTP/1.2\r\n\r\n", 505},
    {"GET / HTTP/0.9\r\n\r\n", 505},
    /* header syntax */
    {"GET / HTTP/1.1\r\nHost a\r\n\r\n", 400},
    {"GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400},
    {"GET / HTTP/1.1\r\n: a\r\n\r\n", 400},
    {"GET / HTTP/1.1\r\nHo\"st: a\r\n\r\n", 400},
    /* framing */
    {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 501},
    {"POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n", 400},
    {"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400},
    {"POST / HTTP/1.1\r\nContent-Length: +1\r\n\r\n", 400},
    {"POST / HTTP/1.1\r\nContent-Length: 1 2\r\n\r\n", 400},
    {"POST / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\n", 400},
    {"POST / HTTP/1.1\r\nContent-Length:\r\n\r\n", 400},
    {"POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 400},
    {"POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400},
    {"POST / HTTP/1.1\r\nContent-Length: 18446744073709551616\r\n\r\n", 400},
    {"POST / HTTP/1.1\r\nContent-Length: 65537\r\n\r\n", 413},
    {"POST / HTTP/1.1\r\nContent-Length: 18446744073709551615\r\n\r\n", 413},
    {"CONNECT /CSCOSSLC/tunnel HTTP/1.1\r\nContent-Length: 4\r\n\r\nSTF\x01", 400},
    /* kept headers */
    {"GET / HTTP/1.1\r\nUser-Agent: a\r\nuser-agent: a\r\n\r\n", 400},
    {"GET / HTTP/1.1\r\nCookie: webvpn=a\r\nCookie: b=c\r\n\r\n", 400},
    {"GET / HTTP/1.1\r\nCookie: webvpn=a; webvpn=a\r\n\r\n", 400},
    {"GET / HTTP/1.1\r\nX-CSTP-Address: 1.2.3.4\r\nX-CSTP-Address: 1.2.3.5\r\n\r\n", 400},
    {"GET / HTTP/1.1\r\nX-CSTP-Address: fd00::1\r\nX-CSTP-Address: fd00::2\r\n\r\n", 400},
    {"GET / HTTP/1.1\r\nX-CSTP-MTU: abc\r\n\r\n", 400},
    {"GET / HTTP/1.1\r\nX-CSTP-MTU: 65536\r\n\r\n", 400},
    {"GET / HTTP/1.1\r\nX-CSTP-Base-MTU: \r\n\r\n", 400},
    {"GET / HTTP/1.1\r\nX-CSTP-MTU: 1400\r\nX-CSTP-MTU: 1400\r\n\r\n", 400},
    {"GET / HTTP/1.1\r\nX-CSTP-Base-MTU: 99999999999999999999999\r\n\r\n", 400},
};

static void expect_error(const uint8_t *req, size_t len, unsigned status, bool bytewise)
{
	struct http_parser *p = http_parser_new(NULL);
	int ret = HTTP_MORE;

	if (bytewise) {
		for (size_t i = 0; i < len && ret >= 0; i++)
			ret = http_parser_feed(p, req + i, 1);
	} else {
		ret = http_parser_feed(p, req, len);
	}
	ck_assert_msg(ret < 0, "accepted: %.60s (%d)", (const char *)req, ret);
	ck_assert_msg(http_parser_status(p) == status, "status %u, want %u: %.60s",
		      http_parser_status(p), status, (const char *)req);
	ck_assert_ptr_null(http_parser_request(p));
	/* The error is final. */
	ck_assert_int_eq(http_parser_feed(p, (const uint8_t *)"\r\n\r\n", 4), ret);
	ck_assert_int_eq(http_parser_next(p), ret);
	ck_assert_uint_eq(http_parser_status(p), status);
	talloc_free(p);
}

START_TEST(test_errors)
{
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		expect_error((const uint8_t *)bad_cases[i].req, strlen(bad_cases[i].req),
			     bad_cases[i].status, false);
		expect_error((const uint8_t *)bad_cases[i].req, strlen(bad_cases[i].req),
			     bad_cases[i].status, true);
	}
}
END_TEST

START_TEST(test_error_codes)
{
	struct http_parser *p = http_parser_new(NULL);
	const char *te = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";

	ck_assert_int_eq(http_parser_feed(p, (const uint8_t *)te, strlen(te)), -EPROTONOSUPPORT);
	talloc_free(p);
	p = http_parser_new(NULL);
	ck_assert_int_eq(http_parser_feed(p, (const uint8_t *)"GET / HTTP/1.1\r\nA: \x00\r\n", 22),
			 -EBADMSG);
	talloc_free(p);
}
END_TEST

START_TEST(test_nul_in_header)
{
	static const uint8_t req[] = "GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n";

	expect_error(req, sizeof(req) - 1, 400, false);
	expect_error(req, sizeof(req) - 1, 400, true);
}
END_TEST

START_TEST(test_errors_over_limits)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	char *s;

	/* Request line one byte too long, terminated and still unterminated. */
	s = talloc_asprintf(ctx, "GET /%0*d HTTP/1.1\r\n\r\n", HTTP_MAX_REQUEST_LINE - 13, 0);
	expect_error((const uint8_t *)s, strlen(s), 414, false);
	s = talloc_asprintf(ctx, "GET /%0*d", HTTP_MAX_REQUEST_LINE, 0);
	expect_error((const uint8_t *)s, strlen(s), 414, false);

	s = talloc_asprintf(ctx, "GET / HTTP/1.1\r\nX-Pad: %0*d\r\n\r\n",
			    HTTP_MAX_HEADER_BLOCK - 16 - 10, 0);
	expect_error((const uint8_t *)s, strlen(s), 431, false);
	s = talloc_asprintf(ctx, "GET / HTTP/1.1\r\nX-Pad: %0*d", HTTP_MAX_HEADER_BLOCK, 0);
	expect_error((const uint8_t *)s, strlen(s), 431, false);

	s = talloc_strdup(ctx, "GET / HTTP/1.1\r\n");
	for (int i = 0; i <= HTTP_MAX_HEADERS; i++)
		s = talloc_asprintf_append(s, "X-H%d: v\r\n", i);
	expect_error((const uint8_t *)s, strlen(s), 431, false);

	s = talloc_asprintf(ctx, "GET / HTTP/1.1\r\nUser-Agent: %0*d\r\n\r\n", HTTP_MAX_VALUE + 1,
			    0);
	expect_error((const uint8_t *)s, strlen(s), 431, false);
	s = talloc_asprintf(ctx, "GET / HTTP/1.1\r\nCookie: webvpn=%0*d\r\n\r\n", HTTP_MAX_VALUE,
			    0);
	expect_error((const uint8_t *)s, strlen(s), 431, false);

	/* Pipelining beyond what the parser holds. */
	uint8_t *flood = talloc_array(ctx, uint8_t, HTTP_BUF_MAX + 1);
	memset(flood, 'x', HTTP_BUF_MAX + 1);
	memcpy(flood, "GET / HTTP/1.1\r\n\r\n", 18);
	expect_error(flood, HTTP_BUF_MAX + 1, 400, false);
	talloc_free(ctx);
}
END_TEST

START_TEST(test_response)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	const char *xml = "<?xml version=\"1.0\"?><config-auth/>";
	char *r;

	r = http_response(ctx, 200, "Set-Cookie: webvpn=abc; Secure\r\nX-Transcend-Version: 1\r\n",
			  "text/xml", xml, strlen(xml), true);
	ck_assert_str_eq(r, "HTTP/1.1 200 OK\r\n"
			    "Content-Type: text/xml\r\n"
			    "Content-Length: 35\r\n"
			    "Set-Cookie: webvpn=abc; Secure\r\n"
			    "X-Transcend-Version: 1\r\n"
			    "\r\n"
			    "<?xml version=\"1.0\"?><config-auth/>");

	r = http_response(ctx, 401, NULL, NULL, NULL, 0, false);
	ck_assert_str_eq(r, "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n"
			    "Connection: close\r\n\r\n");
	r = http_response(ctx, 404, NULL, "text/html", "", 0, true);
	ck_assert_str_eq(r, "HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\n"
			    "Content-Length: 0\r\n\r\n");
	/* Only part of the body buffer is sent. */
	r = http_response(ctx, 503, "X-Reason: full\r\n", "text/plain", "abcdef", 3, false);
	ck_assert_str_eq(r, "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
			    "Content-Length: 3\r\nConnection: close\r\nX-Reason: full\r\n\r\nabc");

	static const unsigned codes[] = {200, 400, 401, 403, 404, 405, 413,
					 414, 431, 500, 501, 503, 505};
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		r = http_response(ctx, codes[i], NULL, NULL, NULL, 0, true);
		ck_assert_ptr_nonnull(r);
		ck_assert_uint_eq(strtoul(r + 9, NULL, 10), codes[i]);
	}

	ck_assert_ptr_null(http_response(ctx, 302, NULL, NULL, NULL, 0, true));
	ck_assert_ptr_null(http_response(ctx, 200, "X-A: 1", NULL, NULL, 0, true));
	ck_assert_ptr_null(http_response(ctx, 200, "X-A: 1\n", NULL, NULL, 0, true));
	ck_assert_ptr_null(http_response(ctx, 200, "X-A: 1\r\n\r\n", NULL, NULL, 0, true));
	ck_assert_ptr_null(http_response(ctx, 200, "X-A: 1\r\nX-B: \r2\r\n", NULL, NULL, 0, true));
	ck_assert_ptr_null(http_response(ctx, 200, "X-A 1\r\n", NULL, NULL, 0, true));
	ck_assert_ptr_null(http_response(ctx, 200, ": 1\r\n", NULL, NULL, 0, true));
	ck_assert_ptr_null(http_response(ctx, 200, NULL, "text/xml\r\nX-A: 1", "a", 1, true));
	ck_assert_ptr_null(http_response(ctx, 200, NULL, "", "a", 1, true));
	ck_assert_ptr_null(http_response(ctx, 200, NULL, "text/xml", NULL, 1, true));
	ck_assert_ptr_null(http_response(ctx, 200, NULL, "text/xml", "a\0b", 3, true));

	r = http_connect_response(ctx, "X-CSTP-Address: 198.19.0.2\r\nX-CSTP-MTU: 1399\r\n");
	ck_assert_str_eq(r, "HTTP/1.1 200 CONNECTED\r\nX-CSTP-Address: 198.19.0.2\r\n"
			    "X-CSTP-MTU: 1399\r\n\r\n");
	ck_assert_ptr_null(http_connect_response(ctx, "X-CSTP-MTU: 1399\r\n\r\nSTF"));
	talloc_free(ctx);
}
END_TEST

START_TEST(test_pipelined_bodies)
{
	struct http_parser *p = http_parser_new(NULL);
	const char *req =
	    "POST /auth HTTP/1.1\r\nContent-Length: 2\r\n\r\nokPOST /auth HTTP/1.1\r\n"
	    "Content-Length: 1\r\n\r\nz";

	ck_assert_int_eq(http_parser_feed(p, (const uint8_t *)req, strlen(req)), HTTP_DONE);
	ck_assert_mem_eq(http_parser_request(p)->body, "ok", 2);
	ck_assert_int_eq(http_parser_next(p), HTTP_DONE);
	ck_assert_mem_eq(http_parser_request(p)->body, "z", 1);
	ck_assert_int_eq(http_parser_next(p), HTTP_MORE);
	ck_assert_ptr_null(http_parser_request(p));
	ck_assert_int_eq(http_parser_next(p), HTTP_MORE);
	talloc_free(p);
}
END_TEST

int main(void)
{
	const struct check_test tests[] = {
	    {test_init_post},
	    {test_form_get},
	    {test_connect},
	    {test_connect_reconnect_addresses},
	    {test_keep_alive_sequence},
	    {test_leftover},
	    {test_accepted_variants},
	    {test_cookie_pairs},
	    {test_limits_at_bound},
	    {test_errors},
	    {test_error_codes},
	    {test_nul_in_header},
	    {test_errors_over_limits},
	    {test_response},
	    {test_pipelined_bodies},
	    {NULL},
	};
	const struct check_case cases[] = {
	    {"parser", NULL, NULL, 60, tests},
	    {NULL},
	};

	return check_main("http", cases);
}
