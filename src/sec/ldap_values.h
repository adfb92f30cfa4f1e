/* What the LDAP auth helper (auth_ldap.c) makes of text it does not choose: the user name
 * that goes into a search filter, and the values a directory sends back as group names.
 * Pure functions, no server, so that the unit tests and a fuzz harness drive them. */
#ifndef SLUICE_LDAP_VALUES_H
#define SLUICE_LDAP_VALUES_H

#include <lber.h>
#include <stdbool.h>
#include <stddef.h>
#include <talloc.h>

/* Longest search filter the helper sends. */
#define LDAP_VALUES_MAX_FILTER 4096
/* Longest group name the helper passes on (below AUTH_HELPER_MAX_TEXT). */
#define LDAP_VALUES_MAX_GROUP 255
/* Longest DN the helper takes from the directory: a user's, or a group's as a value. */
#define LDAP_VALUES_MAX_DN 4096

/* tmpl (checked by config_ldap_filter_check) with every %s replaced by user and every %d
 * by dn, each escaped as RFC 4515 says (ldap_bv2escaped_filter_value: *, (, ), \, NUL and
 * every non-ASCII byte as \XX), and %% by %; on ctx. NULL when tmpl has another
 * conversion or one whose value is NULL, or when the filter would be longer than max
 * bytes. */
char *ldap_values_filter(TALLOC_CTX *ctx, const char *tmpl, const char *user, const char *dn,
			 size_t max);

/* Whether len bytes at s are a group name sluice takes from a directory: 1 to
 * LDAP_VALUES_MAX_GROUP bytes of valid UTF-8 without control characters (and so without
 * NUL). */
bool ldap_values_group_ok(const char *s, size_t len);

/* The group name one attribute value gives, on ctx: with may_be_dn, a value that parses
 * as a DN gives the value of its first RDN (cn=staff,ou=groups,dc=example,dc=test gives
 * staff), and any other value is the name itself. NULL when the name is not one
 * ldap_values_group_ok takes (a binary #hex value among them) or the value is longer than
 * LDAP_VALUES_MAX_DN. */
char *ldap_values_group_name(TALLOC_CTX *ctx, const struct berval *v, bool may_be_dn);

/* Active Directory says why a bind failed in its diagnostic message ("80090308: LdapErr:
 * ... data 533, v4563"): that reason in a few words ("account disabled"), or NULL. */
const char *ldap_values_ad_reason(const char *diagnostic);

#endif
