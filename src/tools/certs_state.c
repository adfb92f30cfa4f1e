#include "config.h"

#include "tools/certs_state.h"
#include "common/text.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FORMAT_VERSION "1"

static const char *const kind_names[] = {
    [CERTS_KIND_CA] = "ca",
    [CERTS_KIND_SERVER] = "server",
    [CERTS_KIND_CLIENT] = "client",
    [CERTS_KIND_OTHER] = "other",
};

const char *certs_kind_name(enum certs_kind kind)
{
	return (unsigned)kind < sizeof(kind_names) / sizeof(kind_names[0]) ? kind_names[kind] : "?";
}

struct certs_state *certs_state_new(TALLOC_CTX *ctx)
{
	return talloc_zero(ctx, struct certs_state);
}

static bool is_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
	}
	return true;
}

static unsigned num(const char *s, size_t n)
{
	unsigned v = 0;

	for (size_t i = 0; i < n; i++)
		v = v * 10 + (unsigned)(s[i] - '0');
	return v;
}

int certs_time_parse(const char *s, size_t len, time_t *t)
{
	static const unsigned mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	unsigned y, mo, d, h, mi, sec;
	struct tm tm = {0};

	/* 2026-11-22T06:14:00Z */
	if (len != CERTS_TIME_LEN || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
	    s[16] != ':' || s[19] != 'Z' || !is_digits(s, 4) || !is_digits(s + 5, 2) ||
	    !is_digits(s + 8, 2) || !is_digits(s + 11, 2) || !is_digits(s + 14, 2) ||
	    !is_digits(s + 17, 2))
		return -EINVAL;
	y = num(s, 4);
	mo = num(s + 5, 2);
	d = num(s + 8, 2);
	h = num(s + 11, 2);
	mi = num(s + 14, 2);
	sec = num(s + 17, 2);
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 ||
	    sec > 59)
		return -EINVAL;
	if (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return -EINVAL;
	tm.tm_year = (int)y - 1900;
	tm.tm_mon = (int)mo - 1;
	tm.tm_mday = (int)d;
	tm.tm_hour = (int)h;
	tm.tm_min = (int)mi;
	tm.tm_sec = (int)sec;
	*t = timegm(&tm);
	return 0;
}

int certs_time_format(time_t t, char buf[CERTS_TIME_LEN + 1])
{
	struct tm tm;

	if (t < 0 || gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 > 9999)
		return -EINVAL;
	strftime(buf, CERTS_TIME_LEN + 1, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return 0;
}

void certs_serial_hex(const uint8_t *serial, size_t len, char *out)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		*out++ = hex[serial[i] >> 4];
		*out++ = hex[serial[i] & 15];
	}
	*out = '\0';
}

/* A hex digit's value, either case, or -1. */
static int hexval(char c)
{
	static const char digits[] = "0123456789abcdef";
	const char *d = c != '\0' ? strchr(digits, tolower((unsigned char)c)) : NULL;

	return d != NULL ? (int)(d - digits) : -1;
}

int certs_serial_parse(const char *s, uint8_t serial[CERTS_SERIAL_MAX], size_t *len)
{
	size_t n = 0, slen = strlen(s);
	bool colons = strchr(s, ':') != NULL;

	if (colons ? slen % 3 != 2 : slen % 2 != 0)
		return -EINVAL;
	for (size_t i = 0; i < slen; i += colons ? 3 : 2) {
		int hi = hexval(s[i]), lo = hexval(s[i + 1]);

		if (hi < 0 || lo < 0 || n == CERTS_SERIAL_MAX)
			return -EINVAL;
		if (colons && i + 2 < slen && s[i + 2] != ':')
			return -EINVAL;
		serial[n++] = (uint8_t)(hi << 4 | lo);
	}
	if (n == 0)
		return -EINVAL;
	*len = n;
	return 0;
}

/* The state file's own form: lower-case, no colons. */
static int serial_field(const char *s, size_t len, struct certs_entry *e)
{
	if (len == 0 || len % 2 != 0 || len > 2 * CERTS_SERIAL_MAX)
		return -EINVAL;
	for (size_t i = 0; i < len; i += 2) {
		int hi = hexval(s[i]), lo = hexval(s[i + 1]);

		if (hi < 0 || lo < 0 || (s[i] >= 'A' && s[i] <= 'F') ||
		    (s[i + 1] >= 'A' && s[i + 1] <= 'F'))
			return -EINVAL;
		e->serial[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	e->serial_len = len / 2;
	return 0;
}

bool certs_name_ok(const char *s, size_t len)
{
	char copy[CERTS_NAME_MAX + 1];

	if (len == 0 || len > CERTS_NAME_MAX || memchr(s, '\0', len) != NULL || s[0] == ' ' ||
	    s[len - 1] == ' ')
		return false;
	memcpy(copy, s, len);
	copy[len] = '\0';
	text_make_utf8(copy);
	return memcmp(copy, s, len) == 0;
}

struct parser {
	const char *path;
	unsigned line;
	char *err;
	size_t errlen;
};

static int bad(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int bad(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(p->err, p->errlen, "%s:%u: ", p->path, p->line);

	if (n >= 0 && (size_t)n < p->errlen) {
		va_start(ap, fmt);
		vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* Appends e, whose name st owns already. */
static int push(struct certs_state *st, const struct certs_entry *e)
{
	if (st->n == st->cap) {
		size_t cap = st->cap ? st->cap * 2 : 16;
		struct certs_entry *bigger =
		    talloc_realloc(st, st->entries, struct certs_entry, cap);

		if (bigger == NULL)
			return -ENOMEM;
		st->entries = bigger;
		st->cap = cap;
	}
	st->entries[st->n++] = *e;
	return 0;
}

/* The next field of a cert line: up to the next space; *s moves past that space. */
static bool next_field(const char **s, const char *end, const char **f, size_t *flen)
{
	const char *sp = memchr(*s, ' ', (size_t)(end - *s));

	if (sp == NULL || sp == *s)
		return false;
	*f = *s;
	*flen = (size_t)(sp - *s);
	*s = sp + 1;
	return true;
}

static int parse_cert(struct parser *p, struct certs_state *st, const char *s, const char *end)
{
	struct certs_entry e = {.line = p->line};
	const char *f;
	size_t n;
	int kind = -1;

	if (!next_field(&s, end, &f, &n) || serial_field(f, n, &e) < 0)
		return bad(p, "bad serial (lower-case hex, 1 to %d bytes)", CERTS_SERIAL_MAX);
	if (!next_field(&s, end, &f, &n) || certs_time_parse(f, n, &e.issued) < 0)
		return bad(p, "bad issue time (YYYY-MM-DDTHH:MM:SSZ)");
	if (!next_field(&s, end, &f, &n) || certs_time_parse(f, n, &e.expires) < 0)
		return bad(p, "bad expiry time (YYYY-MM-DDTHH:MM:SSZ)");
	if (e.expires < e.issued)
		return bad(p, "expires before it was issued");
	if (!next_field(&s, end, &f, &n))
		return bad(p, "no revocation field");
	if (n == 1 && f[0] == '-') {
		e.revoked = false;
	} else if (certs_time_parse(f, n, &e.revoked_at) == 0) {
		e.revoked = true;
	} else {
		return bad(p, "bad revocation time ('-' or YYYY-MM-DDTHH:MM:SSZ)");
	}
	if (!next_field(&s, end, &f, &n))
		return bad(p, "no kind or name");
	for (size_t i = 0; i < sizeof(kind_names) / sizeof(kind_names[0]); i++) {
		if (strlen(kind_names[i]) == n && memcmp(kind_names[i], f, n) == 0)
			kind = (int)i;
	}
	if (kind < 0)
		return bad(p, "bad kind (ca, server, client or other)");
	e.kind = (enum certs_kind)kind;
	if (!certs_name_ok(s, (size_t)(end - s)))
		return bad(p,
			   "bad name (1 to %d bytes of UTF-8, no control characters, no space "
			   "at either end)",
			   CERTS_NAME_MAX);
	e.name = talloc_strndup(st, s, (size_t)(end - s));
	return e.name == NULL ? -ENOMEM : push(st, &e);
}

static int cmp_serial(const void *a, const void *b)
{
	const struct certs_entry *x = *(const struct certs_entry *const *)a;
	const struct certs_entry *y = *(const struct certs_entry *const *)b;

	if (x->serial_len != y->serial_len)
		return x->serial_len < y->serial_len ? -1 : 1;
	return memcmp(x->serial, y->serial, x->serial_len);
}

/* Sorted, so that a file of many certificates costs n log n, not n squared. */
static int check_duplicates(struct parser *p, struct certs_state *st)
{
	struct certs_entry **v;
	int ret = 0;

	if (st->n < 2)
		return 0;
	v = talloc_array(NULL, struct certs_entry *, st->n);
	if (v == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < st->n; i++)
		v[i] = &st->entries[i];
	qsort(v, st->n, sizeof(v[0]), cmp_serial);
	for (size_t i = 1; i < st->n && ret == 0; i++) {
		if (cmp_serial(&v[i - 1], &v[i]) == 0) {
			const struct certs_entry *first =
			    v[i - 1]->line < v[i]->line ? v[i - 1] : v[i];
			const struct certs_entry *again = first == v[i] ? v[i - 1] : v[i];
			char hex[2 * CERTS_SERIAL_MAX + 1];

			certs_serial_hex(again->serial, again->serial_len, hex);
			p->line = again->line;
			ret = bad(p, "serial %s listed again (first on line %u)", hex, first->line);
		}
	}
	talloc_free(v);
	return ret;
}

static int parse_u64(const char *s, size_t n, uint64_t *v)
{
	if (n == 0 || n > 20 || !is_digits(s, n) || (n > 1 && s[0] == '0'))
		return -EINVAL;
	*v = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned)(s[i] - '0');

		if (*v > (UINT64_MAX - d) / 10)
			return -EINVAL;
		*v = *v * 10 + d;
	}
	return 0;
}

int certs_state_parse(TALLOC_CTX *ctx, const char *path, const char *buf, size_t len,
		      struct certs_state **out, char *err, size_t errlen)
{
	struct parser p = {.path = path, .err = err, .errlen = errlen};
	struct certs_state *st;
	const char *s = buf, *end = buf + len;
	enum { WANT_FORMAT, WANT_CRL_NUMBER, CERTS } at = WANT_FORMAT;
	int ret = 0;

	if (len > CERTS_STATE_MAX_FILE) {
		snprintf(err, errlen, "%s: larger than %u bytes", path, CERTS_STATE_MAX_FILE);
		return -EFBIG;
	}
	st = certs_state_new(ctx);
	if (st == NULL)
		return -ENOMEM;
	while (s < end && ret == 0) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *eol = nl ? nl : end;
		size_t n = (size_t)(eol - s);

		p.line++;
		if (nl == NULL)
			ret = bad(&p, "no newline at the end of the file");
		else if (n > CERTS_STATE_MAX_LINE)
			ret = bad(&p, "line longer than %d bytes", CERTS_STATE_MAX_LINE);
		else if (memchr(s, '\0', n) != NULL || memchr(s, '\r', n) != NULL)
			ret = bad(&p, "NUL or CR in the line");
		else if (n == 0 || s[0] == '#')
			; /* blank line or comment */
		else if (at == WANT_FORMAT)
			ret = n == strlen("format " FORMAT_VERSION) &&
				      memcmp(s, "format " FORMAT_VERSION, n) == 0
				  ? (at = WANT_CRL_NUMBER, 0)
				  : bad(&p, "expected 'format " FORMAT_VERSION "' first");
		else if (at == WANT_CRL_NUMBER)
			ret = n > 11 && memcmp(s, "crl-number ", 11) == 0 &&
				      parse_u64(s + 11, n - 11, &st->crl_number) == 0
				  ? (at = CERTS, 0)
				  : bad(&p, "expected 'crl-number N' after the format line");
		else if (n > 5 && memcmp(s, "cert ", 5) == 0)
			ret = parse_cert(&p, st, s + 5, eol);
		else
			ret = bad(&p, "expected 'cert SERIAL ISSUED EXPIRES REVOKED KIND NAME'");
		s = eol + 1;
	}
	if (ret == 0 && at != CERTS) {
		p.line++;
		ret = bad(&p, "the file ends before its %s line",
			  at == WANT_FORMAT ? "format" : "crl-number");
	}
	if (ret == 0)
		ret = check_duplicates(&p, st);
	if (ret < 0) {
		if (ret == -ENOMEM)
			snprintf(err, errlen, "%s: out of memory", path);
		talloc_free(st);
		return ret;
	}
	*out = st;
	return 0;
}

char *certs_state_format(TALLOC_CTX *ctx, const struct certs_state *st, size_t *len)
{
	char *s =
	    talloc_asprintf(ctx,
			    "# sluice-certs CA state: every certificate this CA signed, one a "
			    "line.\n"
			    "# Written by sluice-certs; see sluice-certs(8).\n"
			    "format " FORMAT_VERSION "\n"
			    "crl-number %" PRIu64 "\n",
			    st->crl_number);

	for (size_t i = 0; s != NULL && i < st->n; i++) {
		const struct certs_entry *e = &st->entries[i];
		char hex[2 * CERTS_SERIAL_MAX + 1], issued[CERTS_TIME_LEN + 1];
		char expires[CERTS_TIME_LEN + 1], revoked[CERTS_TIME_LEN + 1] = "-";

		certs_serial_hex(e->serial, e->serial_len, hex);
		if (certs_time_format(e->issued, issued) < 0 ||
		    certs_time_format(e->expires, expires) < 0 ||
		    (e->revoked && certs_time_format(e->revoked_at, revoked) < 0)) {
			talloc_free(s);
			return NULL;
		}
		s = talloc_asprintf_append_buffer(s, "cert %s %s %s %s %s %s\n", hex, issued,
						  expires, revoked, certs_kind_name(e->kind),
						  e->name);
	}
	if (s != NULL)
		*len = talloc_get_size(s) - 1;
	return s;
}

struct certs_entry *certs_state_find(const struct certs_state *st, const uint8_t *serial,
				     size_t serial_len)
{
	for (size_t i = 0; i < st->n; i++) {
		if (st->entries[i].serial_len == serial_len &&
		    memcmp(st->entries[i].serial, serial, serial_len) == 0)
			return &st->entries[i];
	}
	return NULL;
}

int certs_state_add(struct certs_state *st, const struct certs_entry *e)
{
	char t[CERTS_TIME_LEN + 1];
	struct certs_entry copy = *e;

	if (e->serial_len == 0 || e->serial_len > CERTS_SERIAL_MAX ||
	    (unsigned)e->kind > CERTS_KIND_OTHER || e->name == NULL ||
	    !certs_name_ok(e->name, strlen(e->name)) || e->expires < e->issued ||
	    certs_time_format(e->issued, t) < 0 || certs_time_format(e->expires, t) < 0 ||
	    (e->revoked && certs_time_format(e->revoked_at, t) < 0))
		return -EINVAL;
	if (certs_state_find(st, e->serial, e->serial_len) != NULL)
		return -EEXIST;
	copy.name = talloc_strdup(st, e->name);
	if (copy.name == NULL)
		return -ENOMEM;
	copy.line = 0;
	return push(st, &copy);
}
