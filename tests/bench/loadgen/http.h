/* The client side of the narrow HTTP/1.1 subset of the login (protocol.md §2-3): the
 * requests openconnect 9.01 sends, and a strict, bounded reader of the answers. */
#ifndef SLUICE_LOADGEN_HTTP_H
#define SLUICE_LOADGEN_HTTP_H

#include "session.h"

struct http_answer {
	int status;
	size_t hdr_len;  /* status line and headers, with the empty line */
	size_t body_len; /* Content-Length; 0 for CONNECT */
	const char *body;
};

/* 1 when buf holds a whole answer (want_body: with its Content-Length body), 0 when
 * more is needed, -EPROTO for an answer this reader does not take. */
int http_parse(const uint8_t *buf, size_t len, bool want_body, struct http_answer *a);
/* Calls fn for every header of the answer, name and value NUL-terminated; stops at
 * fn's first non-zero return and returns it. */
int http_each_header(const uint8_t *buf, const struct http_answer *a,
		     int (*fn)(struct session *s, const char *name, const char *value),
		     struct session *s);

/* What an auth answer moves the login on to. */
enum auth_next { AUTH_REPLY, AUTH_SUCCESS, AUTH_FAILED };

/* The first request: POST / with the init document. */
char *auth_init_request(TALLOC_CTX *ctx, struct session *s);
/* Reads an answer to init or to a reply: AUTH_REPLY with *req the next request,
 * AUTH_SUCCESS with s->webvpn set, or AUTH_FAILED with *cause. */
enum auth_next auth_on_answer(struct session *s, const uint8_t *buf, const struct http_answer *a,
			      char **req, enum fail_cause *cause);
char *connect_request(TALLOC_CTX *ctx, struct session *s);

#endif
