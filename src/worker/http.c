#include "config.h"
#include "worker/http.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <strings.h>

enum parse_state { ST_REQUEST_LINE, ST_HEADERS, ST_BODY, ST_DONE, ST_ERROR };

struct http_parser {
	uint8_t *buf;
	size_t cap;
	size_t used;
	size_t line;       /* offset of the line being read */
	size_t scan;       /* no LF of that line lies before this offset */
	size_t body_start; /* offset just after the blank line */
	size_t clen;
	bool have_clen;
	bool conn_close;
	unsigned nheaders;
	uint32_t seen; /* one bit per hdr_rules entry already met */
	enum parse_state state;
	int err;
	unsigned status;
	TALLOC_CTX *strings; /* owns the copies in req; emptied per request */
	struct http_request req;
};

enum hdr_kind {
	HK_STRING,
	HK_NUMBER,
	HK_ADDRESS,
	HK_COOKIE,
	HK_LENGTH,
	HK_CONNECTION,
	HK_TRANSFER_ENCODING,
};

#define FIELD(f) offsetof(struct http_request, f)

static const struct hdr_rule {
	const char *name;
	enum hdr_kind kind;
	size_t field;
} hdr_rules[] = {
    {"Host", HK_STRING, FIELD(host)},
    {"Cookie", HK_COOKIE, FIELD(cookie_webvpn)},
    {"User-Agent", HK_STRING, FIELD(user_agent)},
    {"Content-Type", HK_STRING, FIELD(content_type)},
    {"X-Aggregate-Auth", HK_STRING, FIELD(aggregate_auth)},
    {"X-CSTP-Hostname", HK_STRING, FIELD(cstp_hostname)},
    {"X-CSTP-Address", HK_ADDRESS, 0},
    {"X-CSTP-Base-MTU", HK_NUMBER, FIELD(cstp_base_mtu)},
    {"X-CSTP-MTU", HK_NUMBER, FIELD(cstp_mtu)},
    {"X-CSTP-Address-Type", HK_STRING, FIELD(cstp_address_type)},
    {"X-CSTP-Full-IPv6-Capability", HK_STRING, FIELD(cstp_full_ipv6)},
    {"X-CSTP-Accept-Encoding", HK_STRING, FIELD(cstp_accept_encoding)},
    {"X-DTLS-Master-Secret", HK_STRING, FIELD(dtls_master_secret)},
    {"X-DTLS-CipherSuite", HK_STRING, FIELD(dtls_ciphersuite)},
    {"X-DTLS12-CipherSuite", HK_STRING, FIELD(dtls12_ciphersuite)},
    {"X-DTLS-Accept-Encoding", HK_STRING, FIELD(dtls_accept_encoding)},
    {"X-AnyConnect-Identifier-Platform", HK_STRING, FIELD(platform)},
    {"X-AnyConnect-Identifier-DeviceType", HK_STRING, FIELD(device_type)},
    {"Content-Length", HK_LENGTH, 0},
    {"Connection", HK_CONNECTION, 0},
    {"Transfer-Encoding", HK_TRANSFER_ENCODING, 0},
};

_Static_assert(sizeof(hdr_rules) / sizeof(hdr_rules[0]) <= 32, "seen is a 32-bit mask");

static int fail(struct http_parser *p, unsigned status)
{
	switch (status) {
	case 413:
	case 414:
	case 431:
		p->err = -EMSGSIZE;
		break;
	case 501:
	case 505:
		p->err = -EPROTONOSUPPORT;
		break;
	case 500:
		p->err = -ENOMEM;
		break;
	default:
		p->err = -EBADMSG;
		break;
	}
	p->status = status;
	p->state = ST_ERROR;
	return p->err;
}

static bool is_tchar(uint8_t c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return true;
	return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool is_ctl(uint8_t c)
{
	return (c < 0x20 && c != '\t') || c == 0x7f;
}

static bool is_ows(uint8_t c)
{
	return c == ' ' || c == '\t';
}

static void trim(const uint8_t **s, size_t *n)
{
	while (*n > 0 && is_ows((*s)[0])) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && is_ows((*s)[*n - 1]))
		(*n)--;
}

static bool token_is(const uint8_t *s, size_t n, const char *word)
{
	return strlen(word) == n && strncasecmp((const char *)s, word, n) == 0;
}

/* Plain decimal digits only: no sign, no spaces, no lists. */
static int parse_decimal(const uint8_t *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;

	if (n == 0)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		if (v > (UINT64_MAX - (s[i] - '0')) / 10)
			return -ERANGE;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

static int parse_request_line(struct http_parser *p, const uint8_t *s, size_t n)
{
	static const struct {
		const char *name;
		enum http_method method;
	} methods[] = {
	    {"GET", HTTP_GET},
	    {"POST", HTTP_POST},
	    {"CONNECT", HTTP_CONNECT},
	    {"HEAD", HTTP_HEAD},
	};
	size_t m = 0, t, q;

	while (m < n && is_tchar(s[m]))
		m++;
	if (m == 0 || m == n || s[m] != ' ')
		return fail(p, 400);
	t = m + 1;
	if (t >= n || s[t] != '/')
		return fail(p, 400);
	q = t;
	while (q < n && s[q] > 0x20 && s[q] < 0x7f)
		q++;
	if (q == n || s[q] != ' ')
		return fail(p, 400);

	const uint8_t *v = s + q + 1;
	if (n - q - 1 != 8 || memcmp(v, "HTTP/", 5) != 0 || v[5] < '0' || v[5] > '9' ||
	    v[6] != '.' || v[7] < '0' || v[7] > '9')
		return fail(p, 400);
	if (v[5] != '1' || (v[7] != '0' && v[7] != '1'))
		return fail(p, 505);
	p->req.minor = v[7] - '0';

	p->req.method = HTTP_OTHER;
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strlen(methods[i].name) == m && memcmp(s, methods[i].name, m) == 0)
			p->req.method = methods[i].method;

	const uint8_t *query = memchr(s + t, '?', q - t);
	size_t path_len = query ? (size_t)(query - (s + t)) : q - t;
	p->req.path = talloc_strndup(p->strings, (const char *)s + t, path_len);
	if (query)
		p->req.query = talloc_strndup(p->strings, (const char *)query + 1,
					      q - t - path_len - 1);
	if (!p->req.path || (query && !p->req.query))
		return fail(p, 500);
	return 0;
}

static int keep_string(struct http_parser *p, const char **slot, const uint8_t *v, size_t n)
{
	if (n > HTTP_MAX_VALUE)
		return fail(p, 431);
	*slot = talloc_strndup(p->strings, (const char *)v, n);
	if (!*slot)
		return fail(p, 500);
	return 0;
}

static int parse_cookie(struct http_parser *p, const uint8_t *v, size_t n)
{
	size_t i = 0;

	while (i < n) {
		const uint8_t *pair = v + i;
		const uint8_t *semi = memchr(pair, ';', n - i);
		size_t len = semi ? (size_t)(semi - pair) : n - i;
		const uint8_t *eq;

		i += len + 1;
		trim(&pair, &len);
		eq = memchr(pair, '=', len);
		if (!eq || (size_t)(eq - pair) != 6 || memcmp(pair, "webvpn", 6) != 0)
			continue;
		/* Two webvpn values would leave the session ambiguous. */
		if (p->req.cookie_webvpn)
			return fail(p, 400);
		const uint8_t *val = eq + 1;
		size_t val_len = len - 7;
		trim(&val, &val_len);
		int ret = keep_string(p, &p->req.cookie_webvpn, val, val_len);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static void parse_connection(struct http_parser *p, const uint8_t *v, size_t n)
{
	size_t i = 0;

	while (i < n) {
		const uint8_t *tok = v + i;
		const uint8_t *comma = memchr(tok, ',', n - i);
		size_t len = comma ? (size_t)(comma - tok) : n - i;

		i += len + 1;
		trim(&tok, &len);
		if (token_is(tok, len, "close"))
			p->conn_close = true;
	}
}

static int apply_header(struct http_parser *p, const struct hdr_rule *r, const uint8_t *v, size_t n)
{
	uint32_t bit = 1u << (r - hdr_rules);
	char *base = (char *)&p->req;
	uint64_t num;
	int ret;

	if (r->kind == HK_STRING || r->kind == HK_NUMBER || r->kind == HK_COOKIE) {
		if (p->seen & bit)
			return fail(p, 400);
	}
	p->seen |= bit;

	switch (r->kind) {
	case HK_STRING:
		return keep_string(p, (const char **)(base + r->field), v, n);
	case HK_NUMBER:
		if (parse_decimal(v, n, &num) < 0 || num > 65535)
			return fail(p, 400);
		*(unsigned *)(base + r->field) = (unsigned)num;
		return 0;
	case HK_ADDRESS: {
		/* The client sends its previous IPv4 and IPv6 address, one each. */
		const char **slot =
		    memchr(v, ':', n) ? &p->req.cstp_address_ip6 : &p->req.cstp_address;
		if (*slot)
			return fail(p, 400);
		return keep_string(p, slot, v, n);
	}
	case HK_COOKIE:
		if (n > HTTP_MAX_VALUE)
			return fail(p, 431);
		return parse_cookie(p, v, n);
	case HK_LENGTH:
		ret = parse_decimal(v, n, &num);
		if (ret < 0)
			return fail(p, 400);
		if (p->have_clen && p->clen != num)
			return fail(p, 400);
		if (num > HTTP_MAX_BODY)
			return fail(p, 413);
		p->clen = (size_t)num;
		p->have_clen = true;
		return 0;
	case HK_CONNECTION:
		parse_connection(p, v, n);
		return 0;
	case HK_TRANSFER_ENCODING:
		/* The client never sends chunked requests; refusing keeps the
		 * framing to Content-Length alone, so no smuggling ambiguity. */
		return fail(p, 501);
	}
	return fail(p, 400);
}

static int parse_header_line(struct http_parser *p, const uint8_t *s, size_t n)
{
	size_t name_len = 0;

	if (++p->nheaders > HTTP_MAX_HEADERS)
		return fail(p, 431);
	/* A line starting with whitespace is obsolete line folding. */
	if (is_ows(s[0]))
		return fail(p, 400);
	while (name_len < n && is_tchar(s[name_len]))
		name_len++;
	if (name_len == 0 || name_len == n || s[name_len] != ':')
		return fail(p, 400);

	const uint8_t *v = s + name_len + 1;
	size_t vn = n - name_len - 1;
	trim(&v, &vn);

	for (size_t i = 0; i < sizeof(hdr_rules) / sizeof(hdr_rules[0]); i++)
		if (token_is(s, name_len, hdr_rules[i].name))
			return apply_header(p, &hdr_rules[i], v, vn);
	return 0;
}

static void finish(struct http_parser *p)
{
	p->state = ST_DONE;
	p->req.body = p->clen ? p->buf + p->body_start : NULL;
	p->req.body_len = p->clen;
}

static int end_of_headers(struct http_parser *p, size_t body_start)
{
	/* After CONNECT the stream is CSTP: a body would be ambiguous. */
	if (p->req.method == HTTP_CONNECT && p->clen > 0)
		return fail(p, 400);
	p->req.keep_alive = p->req.minor == 1 && !p->conn_close;
	p->body_start = body_start;
	p->state = ST_BODY;
	return 0;
}

static int parse_line(struct http_parser *p, size_t lf)
{
	const uint8_t *s = p->buf + p->line;
	size_t n = lf - p->line;

	if (n > 0 && s[n - 1] == '\r')
		n--;
	if (p->state == ST_REQUEST_LINE && n > HTTP_MAX_REQUEST_LINE)
		return fail(p, 414);
	if (lf + 1 > HTTP_MAX_HEADER_BLOCK)
		return fail(p, 431);
	for (size_t i = 0; i < n; i++)
		if (is_ctl(s[i]))
			return fail(p, 400);

	if (p->state == ST_REQUEST_LINE) {
		int ret = parse_request_line(p, s, n);
		if (ret == 0)
			p->state = ST_HEADERS;
		return ret;
	}
	if (n == 0)
		return end_of_headers(p, lf + 1);
	return parse_header_line(p, s, n);
}

static int parse(struct http_parser *p)
{
	while (p->state == ST_REQUEST_LINE || p->state == ST_HEADERS) {
		const uint8_t *lf = memchr(p->buf + p->scan, '\n', p->used - p->scan);
		int ret;

		if (!lf) {
			p->scan = p->used;
			/* The line end is still to come, so the line is at least
			 * this long: fail now instead of buffering more. */
			if (p->state == ST_REQUEST_LINE &&
			    p->used - p->line > HTTP_MAX_REQUEST_LINE + 1)
				return fail(p, 414);
			if (p->used >= HTTP_MAX_HEADER_BLOCK)
				return fail(p, 431);
			return HTTP_MORE;
		}
		ret = parse_line(p, (size_t)(lf - p->buf));
		if (ret < 0)
			return ret;
		p->line = p->scan = (size_t)(lf - p->buf) + 1;
	}
	if (p->state == ST_BODY && p->used - p->body_start >= p->clen)
		finish(p);
	if (p->state == ST_ERROR)
		return p->err;
	return p->state == ST_DONE ? HTTP_DONE : HTTP_MORE;
}

struct http_parser *http_parser_new(TALLOC_CTX *ctx)
{
	struct http_parser *p = talloc_zero(ctx, struct http_parser);

	if (!p)
		return NULL;
	p->strings = talloc_new(p);
	if (!p->strings) {
		talloc_free(p);
		return NULL;
	}
	return p;
}

static int reserve(struct http_parser *p, size_t need)
{
	size_t cap = p->cap ? p->cap : 4096;
	uint8_t *buf;

	if (need <= p->cap)
		return 0;
	while (cap < need)
		cap *= 2;
	if (cap > HTTP_BUF_MAX)
		cap = HTTP_BUF_MAX;
	buf = talloc_realloc(p, p->buf, uint8_t, cap);
	if (!buf)
		return -ENOMEM;
	p->buf = buf;
	p->cap = cap;
	if (p->state == ST_DONE)
		finish(p);
	return 0;
}

int http_parser_feed(struct http_parser *p, const uint8_t *data, size_t len)
{
	while (len > 0) {
		size_t n = HTTP_BUF_MAX - p->used;
		int ret;

		if (p->state == ST_ERROR)
			return p->err;
		/* A full buffer always holds a complete request (the limits
		 * above make one smaller): the rest is excess pipelining. */
		if (n == 0)
			return fail(p, 400);
		if (n > len)
			n = len;
		if (reserve(p, p->used + n) < 0)
			return fail(p, 500);
		memcpy(p->buf + p->used, data, n);
		p->used += n;
		data += n;
		len -= n;
		ret = parse(p);
		if (ret < 0)
			return ret;
	}
	if (p->state == ST_ERROR)
		return p->err;
	return p->state == ST_DONE ? HTTP_DONE : HTTP_MORE;
}

const struct http_request *http_parser_request(const struct http_parser *p)
{
	return p->state == ST_DONE ? &p->req : NULL;
}

unsigned http_parser_status(const struct http_parser *p)
{
	return p->status;
}

int http_parser_next(struct http_parser *p)
{
	size_t end;

	if (p->state != ST_DONE)
		return p->state == ST_ERROR ? p->err : HTTP_MORE;
	end = p->body_start + p->clen;
	memmove(p->buf, p->buf + end, p->used - end);
	p->used -= end;
	talloc_free_children(p->strings);
	memset(&p->req, 0, sizeof(p->req));
	p->line = p->scan = p->body_start = p->clen = 0;
	p->have_clen = p->conn_close = false;
	p->nheaders = 0;
	p->seen = 0;
	p->state = ST_REQUEST_LINE;
	return parse(p);
}

size_t http_parser_leftover(const struct http_parser *p)
{
	return p->state == ST_DONE ? p->used - (p->body_start + p->clen) : 0;
}

size_t http_parser_take_leftover(struct http_parser *p, uint8_t *out, size_t cap)
{
	size_t end, avail, n;

	if (p->state != ST_DONE)
		return 0;
	end = p->body_start + p->clen;
	avail = p->used - end;
	n = avail < cap ? avail : cap;
	memcpy(out, p->buf + end, n);
	memmove(p->buf + end, p->buf + end + n, avail - n);
	p->used -= n;
	return n;
}

const char *http_reason(unsigned code)
{
	switch (code) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 413:
		return "Content Too Large";
	case 414:
		return "URI Too Long";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	case 503:
		return "Service Unavailable";
	case 505:
		return "HTTP Version Not Supported";
	}
	return NULL;
}

static bool value_ok(const char *v)
{
	for (; *v; v++)
		if (is_ctl((uint8_t)*v))
			return false;
	return true;
}

/* Headers built from configuration or user data must not be able to end the
 * header block early or smuggle a line in: only whole "Name: value" lines. */
static bool header_lines_ok(const char *h)
{
	while (*h) {
		size_t name = 0, line = strcspn(h, "\r\n");

		while (name < line && is_tchar((uint8_t)h[name]))
			name++;
		if (name == 0 || name == line || h[name] != ':')
			return false;
		for (size_t i = name + 1; i < line; i++)
			if (is_ctl((uint8_t)h[i]))
				return false;
		if (h[line] != '\r' || h[line + 1] != '\n')
			return false;
		h += line + 2;
	}
	return true;
}

char *http_response(TALLOC_CTX *ctx, unsigned code, const char *extra_headers,
		    const char *content_type, const char *body, size_t body_len, bool keep_alive)
{
	const char *reason = http_reason(code);

	if (!reason || (extra_headers && !header_lines_ok(extra_headers)))
		return NULL;
	if (!content_type) {
		body = NULL;
		body_len = 0;
	} else if (!value_ok(content_type) || content_type[0] == '\0') {
		return NULL;
	}
	if ((body_len > 0 && !body) || body_len > INT_MAX ||
	    (body_len > 0 && memchr(body, '\0', body_len)))
		return NULL;

	return talloc_asprintf(ctx,
			       "HTTP/1.1 %u %s\r\n"
			       "%s%s%s"
			       "Content-Length: %zu\r\n"
			       "%s%s\r\n"
			       "%.*s",
			       code, reason, content_type ? "Content-Type: " : "",
			       content_type ? content_type : "", content_type ? "\r\n" : "",
			       body_len, keep_alive ? "" : "Connection: close\r\n",
			       extra_headers ? extra_headers : "", (int)body_len, body ? body : "");
}

char *http_connect_response(TALLOC_CTX *ctx, const char *headers)
{
	if (headers && !header_lines_ok(headers))
		return NULL;
	return talloc_asprintf(ctx, "HTTP/1.1 200 CONNECTED\r\n%s\r\n", headers ? headers : "");
}
