/* Search filters from a template and the user's name; group names from directory values.
 * See ldap_values.h. Every value from the directory is untrusted: a DN is parsed by
 * libldap's own parser, and only names of bounded, printable UTF-8 come out. */
#include "config.h"

#include "sec/ldap_values.h"

#include <ldap.h>
#include <string.h>
#include <strings.h>

#include "common/text.h"

/* The escaped form of s (on ctx), or NULL. */
static char *escaped(TALLOC_CTX *ctx, const char *s)
{
	struct berval in = {strlen(s), (char *)s}, out = {0, NULL};
	char *copy;

	if (ldap_bv2escaped_filter_value(&in, &out) != 0)
		return NULL;
	copy = talloc_strndup(ctx, out.bv_val ? out.bv_val : "", out.bv_len);
	ber_memfree(out.bv_val);
	return copy;
}

/* Appends len bytes of s to *out (*n bytes so far); false when max would be passed. */
static bool append(char *out, size_t *n, size_t max, const char *s, size_t len)
{
	if (len > max - *n)
		return false;
	memcpy(out + *n, s, len);
	*n += len;
	return true;
}

char *ldap_values_filter(TALLOC_CTX *ctx, const char *tmpl, const char *user, const char *dn,
			 size_t max)
{
	TALLOC_CTX *tmp = talloc_new(ctx);
	char *esc_user = NULL, *esc_dn = NULL, *out = NULL, *filter = NULL;
	size_t n = 0;

	if (!tmp)
		return NULL;
	if ((user && !(esc_user = escaped(tmp, user))) || (dn && !(esc_dn = escaped(tmp, dn))))
		goto out;
	out = talloc_size(tmp, max + 1);
	if (!out)
		goto out;
	for (const char *p = tmpl; *p; p++) {
		const char *v = NULL;

		if (*p != '%') {
			if (!append(out, &n, max, p, 1))
				goto out;
			continue;
		}
		switch (*++p) {
		case '%':
			v = "%";
			break;
		case 's':
			v = esc_user;
			break;
		case 'd':
			v = esc_dn;
			break;
		default: /* another conversion, or the template's end */
			break;
		}
		if (!v || !append(out, &n, max, v, strlen(v)))
			goto out;
	}
	out[n] = '\0';
	filter = talloc_strndup(ctx, out, n);
out:
	talloc_free(tmp);
	return filter;
}

bool ldap_values_group_ok(const char *s, size_t len)
{
	char copy[LDAP_VALUES_MAX_GROUP + 1];

	if (len == 0 || len > LDAP_VALUES_MAX_GROUP || memchr(s, '\0', len))
		return false;
	/* text_make_utf8 replaces what is not printable UTF-8: the name is good when it
	 * leaves it as it was. */
	memcpy(copy, s, len);
	copy[len] = '\0';
	text_make_utf8(copy);
	return memcmp(copy, s, len) == 0;
}

char *ldap_values_group_name(TALLOC_CTX *ctx, const struct berval *v, bool may_be_dn)
{
	struct berval name = *v;
	LDAPDN dn = NULL;
	char *text, *out = NULL;

	/* A value with a NUL in it is no name; a longer one than any DN of a group sluice
	 * would take is not parsed. */
	if (!v->bv_val || v->bv_len == 0 || v->bv_len > LDAP_VALUES_MAX_DN ||
	    memchr(v->bv_val, '\0', v->bv_len))
		return NULL;
	text = talloc_strndup(ctx, v->bv_val, v->bv_len);
	if (!text)
		return NULL;
	/* A DN's first RDN (of several values, the first): cn=staff,ou=groups,... is
	 * staff. A #hex value (LDAP_AVA_BINARY) is BER, not a name. */
	if (may_be_dn && ldap_str2dn(text, &dn, LDAP_DN_FORMAT_LDAPV3) == LDAP_SUCCESS && dn &&
	    dn[0] && dn[0][0]) {
		if (dn[0][0]->la_flags & LDAP_AVA_BINARY)
			goto out;
		name = dn[0][0]->la_value;
	} else {
		name.bv_val = text;
	}
	if (ldap_values_group_ok(name.bv_val, name.bv_len))
		out = talloc_strndup(ctx, name.bv_val, name.bv_len);
out:
	ldap_dnfree(dn);
	talloc_free(text);
	return out;
}

const char *ldap_values_ad_reason(const char *diagnostic)
{
	/* The "data" codes of Active Directory's bind errors (LDAP result 49). */
	static const struct {
		const char *code, *reason;
	} codes[] = {
	    {"525", "no such user"},
	    {"52e", "wrong password"},
	    {"530", "not permitted to log on at this time"},
	    {"531", "not permitted to log on from this workstation"},
	    {"532", "password expired"},
	    {"533", "account disabled"},
	    {"701", "account expired"},
	    {"773", "password must be changed"},
	    {"775", "account locked"},
	};
	const char *data = diagnostic ? strstr(diagnostic, ", data ") : NULL;

	if (!data)
		return NULL;
	data += 7;
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (strncasecmp(data, codes[i].code, 3) == 0 &&
		    (data[3] == ',' || data[3] == '\0' || data[3] == ' '))
			return codes[i].reason;
	return NULL;
}
