/* Feeds the input to two parsers: at once, and in two pieces split where the
 * first byte says. Both must walk the same requests (http_parser_next) and
 * fail the same way, so the result cannot depend on how TLS records fall.
 * Every request also goes through the camouflage decision, which must agree with
 * a plain reading of its rules. */
#include "config.h"
#include "worker/camouflage.h"
#include "worker/http.h"

#include <stdlib.h>
#include <string.h>

#define SECRET "s3cr3t"

static uint8_t left_a[HTTP_BUF_MAX], left_b[HTTP_BUF_MAX];

static void check_camouflage(const struct http_request *r)
{
	static struct camouflage camo;
	enum camo_verdict want = CAMO_DECOY;

	if (!camo.on && camo_init(&camo, SECRET, NULL) < 0)
		abort();
	if (r->query && strcmp(r->query, SECRET) == 0)
		want = CAMO_PASS;
	else if (r->method == HTTP_CONNECT && strcmp(r->path, "/CSCOSSLC/tunnel") == 0 &&
		 r->cookie_webvpn && r->cookie_webvpn[0])
		want = CAMO_COOKIE;
	if (camo_decide(&camo, false, r) != want)
		abort();
	if (camo_decide(&camo, true, r) != CAMO_PASS)
		abort();
}

static void same_str(const char *a, const char *b)
{
	if ((a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0))
		abort();
}

static void same_request(const struct http_request *a, const struct http_request *b)
{
	if (!a || !b || a->method != b->method || a->minor != b->minor ||
	    a->keep_alive != b->keep_alive || a->cstp_mtu != b->cstp_mtu ||
	    a->cstp_base_mtu != b->cstp_base_mtu || a->body_len != b->body_len)
		abort();
	if (!a->path || a->path[0] != '/' || a->body_len > HTTP_MAX_BODY)
		abort();
	if (a->body_len && memcmp(a->body, b->body, a->body_len) != 0)
		abort();
	same_str(a->path, b->path);
	same_str(a->query, b->query);
	same_str(a->cookie_webvpn, b->cookie_webvpn);
	same_str(a->cstp_address, b->cstp_address);
	same_str(a->cstp_address_ip6, b->cstp_address_ip6);
	same_str(a->dtls_ciphersuite, b->dtls_ciphersuite);
	same_str(a->user_agent, b->user_agent);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_parser *a, *b;
	size_t split;
	int ra, rb;

	if (size < 1)
		return 0;
	split = data[0] % size;
	data++;
	size--;

	a = http_parser_new(NULL);
	b = http_parser_new(NULL);
	if (!a || !b)
		abort();
	ra = http_parser_feed(a, data, size);
	/* An error in the first piece is final: the second call repeats it. */
	(void)http_parser_feed(b, data, split);
	rb = http_parser_feed(b, data + split, size - split);

	for (int i = 0; i < 10000; i++) {
		if (ra != rb || http_parser_status(a) != http_parser_status(b))
			abort();
		if (ra < 0) {
			unsigned st = http_parser_status(a);
			if (!http_reason(st) || st < 400)
				abort();
			break;
		}
		if (ra == HTTP_MORE) {
			if (http_parser_request(a) || http_parser_request(b))
				abort();
			break;
		}
		const struct http_request *qa = http_parser_request(a);
		same_request(qa, http_parser_request(b));
		check_camouflage(qa);
		if (qa->method == HTTP_CONNECT) {
			size_t na = http_parser_take_leftover(a, left_a, sizeof(left_a));
			size_t nb = 0, n;
			while ((n = http_parser_take_leftover(b, left_b + nb, 7)) > 0)
				nb += n;
			if (na != nb || memcmp(left_a, left_b, na) != 0)
				abort();
			break;
		}
		ra = http_parser_next(a);
		rb = http_parser_next(b);
	}

	char *r = http_response(NULL, 200, NULL, "text/xml", (const char *)data, size, true);
	if (r && strlen(r) < size)
		abort();
	talloc_free(r);
	talloc_free(a);
	talloc_free(b);
	return 0;
}
