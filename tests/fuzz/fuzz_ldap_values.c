/* What the LDAP auth helper makes of text it does not choose (src/sec/ldap_values.c).
 *
 * Input: a flags byte, then a filter template, a user name and a DN separated by NUL
 * bytes; the whole input after the flags byte is also one directory value.
 * - A filter is NULL for a template with another conversion than %s, %d, %% (or a value
 *   it needs that is missing), or when it would pass its bound; otherwise it is the
 *   template with every conversion replaced, and each replaced value is in it only
 *   escaped: byte for byte, with *, (, ), \ and NUL always as \XX. With room for the
 *   longest it could be, it is always made: a NULL came from the bound alone.
 * - A group name is printable UTF-8 within its bound, and without may_be_dn exactly the
 *   value. */
#include "config.h"
#include "sec/ldap_values.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The escaped value at *out, which must stand for all of value: the length it takes,
 * or -1. */
static long escaped_len(const char *out, const char *value)
{
	const char *o = out;

	for (const char *v = value; *v; v++) {
		if (*o == '\\') {
			int hi = hex(o[1]), lo = hi < 0 ? -1 : hex(o[2]);

			if (lo < 0 || (char)(hi << 4 | lo) != *v)
				return -1;
			o += 3;
		} else if (*o != *v || strchr("*()\\", *v)) {
			return -1;
		} else {
			o++;
		}
	}
	return o - out;
}

/* Whether filter is tmpl with its conversions replaced by the escaped values; -1 when
 * tmpl is not one the function takes. */
static int matches(const char *filter, const char *tmpl, const char *user, const char *dn)
{
	const char *f = filter;

	for (const char *t = tmpl; *t; t++) {
		const char *v;
		long n;

		if (*t != '%') {
			if (*f++ != *t)
				return 0;
			continue;
		}
		t++;
		if (*t == '%') {
			if (*f++ != '%')
				return 0;
			continue;
		}
		v = *t == 's' ? user : *t == 'd' ? dn : NULL;
		if (!v)
			return -1;
		n = escaped_len(f, v);
		if (n < 0)
			return 0;
		f += n;
	}
	return *f == '\0';
}

/* The template's conversions are all known and have their values. */
static bool template_ok(const char *tmpl, const char *user, const char *dn)
{
	for (const char *t = tmpl; *t; t++) {
		if (*t != '%')
			continue;
		t++;
		if (*t == '%' || (*t == 's' && user) || (*t == 'd' && dn))
			continue;
		return false;
	}
	return true;
}

/* The longest the filter can be: each byte of a value is escaped to 3 at most. */
static size_t longest(const char *tmpl, const char *user, const char *dn)
{
	size_t n = 0;

	for (const char *t = tmpl; *t; t++) {
		if (*t != '%' || !t[1]) {
			n++;
			continue;
		}
		t++;
		n += *t == 's' ? 3 * strlen(user) : *t == 'd' ? 3 * strlen(dn) : 1;
	}
	return n;
}

static void check_filter(TALLOC_CTX *ctx, const char *tmpl, const char *user, const char *dn,
			 size_t max)
{
	char *f = ldap_values_filter(ctx, tmpl, user, dn, max), *all;
	size_t need;

	if (!template_ok(tmpl, user, dn)) {
		if (f)
			abort();
		return;
	}
	if (f && (strlen(f) > max || matches(f, tmpl, user, dn) != 1))
		abort();
	/* With room for the longest it can be, it is always made: a NULL above came from
	 * the bound alone. */
	need = longest(tmpl, user ? user : "", dn ? dn : "");
	if (need > (1u << 20))
		return;
	all = ldap_values_filter(ctx, tmpl, user, dn, need);
	if (!all || matches(all, tmpl, user, dn) != 1 || (f && strcmp(f, all) != 0) ||
	    (!f && strlen(all) <= max))
		abort();
}

static void check_group(TALLOC_CTX *ctx, const uint8_t *data, size_t size, bool may_be_dn)
{
	/* An exact copy, so that a read past the value's end is seen. */
	char *copy = malloc(size ? size : 1);
	struct berval v = {size, copy};
	char *name;

	if (!copy)
		abort();
	memcpy(copy, data, size);
	name = ldap_values_group_name(ctx, &v, may_be_dn);
	if (name &&
	    (!ldap_values_group_ok(name, strlen(name)) || strlen(name) > LDAP_VALUES_MAX_GROUP ||
	     (!may_be_dn && (strlen(name) != size || memcmp(name, data, size) != 0))))
		abort();
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	TALLOC_CTX *ctx;
	char *buf, *end, *p, *parts[3] = {"", "", ""};
	const char *reason;
	uint8_t flags;

	if (size < 1 || size > 8192)
		return 0;
	ctx = talloc_new(NULL);
	flags = data[0];
	check_group(ctx, data + 1, size - 1, flags & 1);
	/* template NUL user NUL dn */
	buf = talloc_size(ctx, size);
	memcpy(buf, data + 1, size - 1);
	buf[size - 1] = '\0';
	end = buf + size - 1;
	p = buf;
	for (int i = 0; i < 3 && p <= end; i++) {
		parts[i] = p;
		p += strlen(p) + 1;
	}
	reason = ldap_values_ad_reason(buf);
	if (reason && !*reason)
		abort();
	/* Bounds from 0 to 1054 bytes; a value may be missing. */
	check_filter(ctx, parts[0], (flags & 2) ? NULL : parts[1], (flags & 4) ? NULL : parts[2],
		     (size_t)(flags >> 3) * 34);
	talloc_free(ctx);
	return 0;
}
