/* The narrow HTTP/1.1 subset of the VPN protocol (doc: protocol.md §2, §3):
 * an incremental, bounded request parser for the bytes a client sends before
 * the tunnel starts, and a formatter for the server's responses.
 *
 * Line ends: CRLF, and a bare LF is accepted as well (RFC 9112 §2.2 allows it,
 * and it cannot be confused with anything else); a CR that is not directly
 * followed by LF is an error. Empty lines before a request line are not
 * skipped. Pipelined requests are kept and parsed after http_parser_next(). */
#ifndef SLUICE_HTTP_H
#define SLUICE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <talloc.h>

#define HTTP_MAX_REQUEST_LINE 8192  /* bytes, without the line end (414 above) */
#define HTTP_MAX_HEADER_BLOCK 16384 /* request line to blank line inclusive (431) */
#define HTTP_MAX_HEADERS      100   /* header lines (431 above) */
#define HTTP_MAX_VALUE        2048  /* a header value the server keeps (431 above) */
#define HTTP_MAX_BODY         65536 /* Content-Length (413 above) */
/* Everything held at once: one maximal request plus one TLS record of bytes
 * that arrived behind it. More than that ends the connection with 400. */
#define HTTP_BUF_MAX (HTTP_MAX_HEADER_BLOCK + HTTP_MAX_BODY + 16384)

enum { HTTP_MORE = 0, HTTP_DONE = 1 };

enum http_method { HTTP_GET, HTTP_POST, HTTP_CONNECT, HTTP_HEAD, HTTP_OTHER };

/* One parsed request. Strings are NUL-terminated copies without surrounding
 * whitespace, NULL when the header was absent; numbers are 0 when absent.
 * The strings stay valid until http_parser_next() or the parser is freed; body
 * points into the parser's buffer and only until the next call on the parser. */
struct http_request {
	enum http_method method;
	const char *path;  /* request target up to '?', always starts with '/' */
	const char *query; /* what follows the first '?' (may be ""); NULL without '?' */
	unsigned minor;   /* HTTP/1.<minor>: 0 or 1 */
	bool keep_alive;  /* HTTP/1.1 and no "Connection: close" */

	const char *host;
	const char *cookie_webvpn; /* value of the webvpn pair of the Cookie header */
	const char *user_agent;
	const char *content_type;
	const char *aggregate_auth; /* X-Aggregate-Auth */

	const char *cstp_hostname;
	const char *cstp_address;     /* X-CSTP-Address without ':' */
	const char *cstp_address_ip6; /* X-CSTP-Address with ':' */
	unsigned cstp_base_mtu;       /* 0..65535 */
	unsigned cstp_mtu;            /* 0..65535 */
	const char *cstp_address_type;
	const char *cstp_full_ipv6; /* X-CSTP-Full-IPv6-Capability */
	const char *cstp_accept_encoding;
	const char *dtls_master_secret;
	const char *dtls_ciphersuite;
	const char *dtls12_ciphersuite;
	const char *dtls_accept_encoding;
	const char *platform;    /* X-AnyConnect-Identifier-Platform */
	const char *device_type; /* X-AnyConnect-Identifier-DeviceType */

	const uint8_t *body; /* NULL when empty */
	size_t body_len;
};

struct http_parser;

struct http_parser *http_parser_new(TALLOC_CTX *ctx);

/* Appends bytes and parses as far as they go. Returns HTTP_DONE when a request
 * is complete (bytes behind it are kept), HTTP_MORE, or a negative error after
 * which http_parser_status() is the status to answer (400, 413, 414, 431, 501,
 * 505) and every later call fails the same way. Handle a finished request
 * before feeding more: at most HTTP_BUF_MAX bytes are held. */
int http_parser_feed(struct http_parser *p, const uint8_t *data, size_t len);

/* The finished request, or NULL unless the last result was HTTP_DONE. */
const struct http_request *http_parser_request(const struct http_parser *p);

/* 0 while no error happened, else the HTTP status for the error. */
unsigned http_parser_status(const struct http_parser *p);

/* Drops the finished request and parses the bytes that followed it. Returns
 * like http_parser_feed(); HTTP_MORE when nothing was finished. */
int http_parser_next(struct http_parser *p);

/* Moves up to cap bytes that followed the finished request (after CONNECT: the
 * start of the CSTP stream) into out; returns how many. 0 when no request is
 * finished. */
size_t http_parser_take_leftover(struct http_parser *p, uint8_t *out, size_t cap);
/* How many bytes http_parser_take_leftover() would move with no bound. */
size_t http_parser_leftover(const struct http_parser *p);

/* A complete HTTP/1.1 response, NUL-terminated; its length is strlen(). Always
 * carries Content-Length; Content-Type and the body only when content_type is
 * not NULL; "Connection: close" when !keep_alive. extra_headers is NULL or
 * whole "Name: value\r\n" lines. NULL on an unknown code, malformed
 * extra_headers, CR/LF in content_type, a NUL in the body, or no memory. */
char *http_response(TALLOC_CTX *ctx, unsigned code, const char *extra_headers,
		    const char *content_type, const char *body, size_t body_len, bool keep_alive);

/* The answer to a successful CONNECT: "HTTP/1.1 200 CONNECTED", the given
 * "Name: value\r\n" lines (case matters to the client) and the blank line, no
 * Content-Length. NULL on malformed headers or no memory. */
char *http_connect_response(TALLOC_CTX *ctx, const char *headers);

/* The reason phrase for a status code, NULL if the formatter does not know it. */
const char *http_reason(unsigned code);

#endif
