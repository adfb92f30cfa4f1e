/* The syntax of the ldap-* keys' values (auth = ldap), checked where the configuration is
 * read, so that `sluiced -t` finds a broken filter or URI before a user does. No libldap
 * here: main and the tools read the configuration too. Each check returns NULL when the
 * value is fine, else what is wrong with it. */
#ifndef SLUICE_CONFIG_LDAP_H
#define SLUICE_CONFIG_LDAP_H

/* One or more ldap://HOST[:PORT] or ldaps://HOST[:PORT] (a "/" may end one), separated
 * by spaces: the servers libldap tries in turn. Nothing else (no DN, no ldapi://). */
const char *config_ldap_uri_check(const char *list);

/* A search filter template: one filter in parentheses, balanced, with "\XX" escapes
 * only, and conversions "%" followed by one of conversions (at least once) or "%" (a
 * literal %). */
const char *config_ldap_filter_check(const char *tmpl, const char *conversions);

/* An attribute's name (letters, digits and "-", starting with a letter) or its OID. */
const char *config_ldap_attribute_check(const char *name);

#endif
