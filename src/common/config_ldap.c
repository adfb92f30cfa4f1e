/* The syntax of the ldap-* keys' values; see config_ldap.h. */
#include "config.h"

#include "common/config_ldap.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>

/* "HOST[:PORT]" at the start of s, up to end: a name of letters, digits, ".", "-", "_"
 * or a bracketed IPv6 address, and a port of 1 to 65535. */
static bool host_port(const char *s, const char *end)
{
	const char *p = s;
	unsigned long port = 0;

	if (p < end && *p == '[') {
		for (p++; p < end && (isxdigit((unsigned char)*p) || *p == ':' || *p == '.'); p++)
			;
		if (p == s + 1 || p >= end || *p != ']')
			return false;
		p++;
	} else {
		for (; p < end && (isalnum((unsigned char)*p) || strchr(".-_", *p)); p++)
			;
		if (p == s)
			return false;
	}
	if (p == end)
		return true;
	if (*p++ != ':' || p == end || end - p > 5)
		return false;
	for (; p < end; p++) {
		if (!isdigit((unsigned char)*p))
			return false;
		port = port * 10 + (unsigned long)(*p - '0');
	}
	return port >= 1 && port <= 65535;
}

static bool one_uri(const char *s, size_t len)
{
	const char *end = s + len;
	size_t scheme;

	if (len > 7 && strncmp(s, "ldap://", 7) == 0)
		scheme = 7;
	else if (len > 8 && strncmp(s, "ldaps://", 8) == 0)
		scheme = 8;
	else
		return false;
	/* A trailing "/" is how URIs are often written; a DN after it is not taken. */
	if (end[-1] == '/')
		end--;
	return host_port(s + scheme, end);
}

const char *config_ldap_uri_check(const char *list)
{
	const char *p = list;
	bool any = false;

	while (*p) {
		size_t len = strcspn(p, " \t");

		if (len) {
			if (!one_uri(p, len))
				return "not ldap://HOST[:PORT] or ldaps://HOST[:PORT] (several are "
				       "separated by spaces)";
			any = true;
		}
		p += len;
		p += strspn(p, " \t");
	}
	return any ? NULL : "no URI";
}

const char *config_ldap_filter_check(const char *tmpl, const char *conversions)
{
	size_t len = strlen(tmpl);
	bool placeholder = false;
	int depth = 0;

	if (len < 2 || tmpl[0] != '(' || tmpl[len - 1] != ')')
		return "a filter is written in parentheses, e.g. (uid=%s)";
	for (const char *p = tmpl; *p; p++) {
		switch (*p) {
		case '(':
			depth++;
			break;
		case ')':
			if (--depth < 0)
				return "unbalanced parentheses";
			if (depth == 0 && p[1])
				return p[1] == '(' ? "more than one filter (join them with (&...))"
						   : "unbalanced parentheses";
			break;
		case '\\':
			/* A filter's literal *, (, ), \ and NUL are written \2a, \28, \29, \5c,
			 * \00. */
			if (!isxdigit((unsigned char)p[1]) || !isxdigit((unsigned char)p[2]))
				return "a backslash must start an escape of two hex digits (\\2a "
				       "for *)";
			p += 2;
			break;
		case '%':
			if (p[1] == '%') {
				p++;
				break;
			}
			if (!p[1] || !strchr(conversions, p[1]))
				return "unknown conversion after %";
			placeholder = true;
			p++;
			break;
		default:
			break;
		}
	}
	if (depth != 0)
		return "unbalanced parentheses";
	return placeholder ? NULL
			   : "no conversion: the filter would find the same entries for "
			     "every user";
}

const char *config_ldap_attribute_check(const char *name)
{
	const char *p = name;

	if (isalpha((unsigned char)*p)) {
		while (isalnum((unsigned char)*p) || *p == '-')
			p++;
		return *p ? "not an attribute name (letters, digits and -)" : NULL;
	}
	/* A numeric OID: digits, single dots between them. */
	for (bool digit = false; *p; p++) {
		if (isdigit((unsigned char)*p))
			digit = true;
		else if (*p == '.' && digit && p[1])
			digit = false;
		else
			return "not an attribute name (letters, digits and -) or OID";
	}
	return *name ? NULL : "empty";
}
