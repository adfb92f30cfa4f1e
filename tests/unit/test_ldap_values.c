/* The LDAP helper's handling of text it does not choose (src/sec/ldap_values.c): a user
 * name becomes a search filter only escaped (RFC 4515) and within its bound, and directory
 * values become group names only as printable UTF-8 of bounded length, a DN by its first
 * RDN's value. */
#include "config.h"
#include "sec/ldap_values.h"

#include <check.h>
#include <string.h>

#include "check_main.h"

static TALLOC_CTX *ctx;

static void setup(void)
{
	ctx = talloc_new(NULL);
}

static void teardown(void)
{
	talloc_free(ctx);
}

static const char *filter(const char *tmpl, const char *user, const char *dn)
{
	return ldap_values_filter(ctx, tmpl, user, dn, LDAP_VALUES_MAX_FILTER);
}

START_TEST(test_filter_escapes)
{
	ck_assert_str_eq(filter("(uid=%s)", "alice", NULL), "(uid=alice)");
	/* The filter's metacharacters of a user name match only themselves. */
	ck_assert_str_eq(filter("(uid=%s)", "*", NULL), "(uid=\\2A)");
	ck_assert_str_eq(filter("(uid=%s)", "star*user(1)", NULL), "(uid=star\\2Auser\\281\\29)");
	ck_assert_str_eq(filter("(uid=%s)", "back\\slash", NULL), "(uid=back\\5Cslash)");
	ck_assert_str_eq(filter("(uid=%s)", "*)(uid=*))(|(uid=*", NULL),
			 "(uid=\\2A\\29\\28uid=\\2A\\29\\29\\28|\\28uid=\\2A)");
	/* Bytes beyond ASCII are escaped too: they still match the UTF-8 value. */
	ck_assert_str_eq(filter("(cn=%s)", "b\xc3\xa2le", NULL), "(cn=b\\C3\\A2le)");
	ck_assert_str_eq(filter("(uid=%s)", "", NULL), "(uid=)");
}
END_TEST

START_TEST(test_filter_template)
{
	const char *dn = "uid=star*user(1),ou=people,dc=example,dc=test";

	ck_assert_str_eq(filter("(&(uid=%s)(!(employeeType=disabled)))", "bob", NULL),
			 "(&(uid=bob)(!(employeeType=disabled)))");
	ck_assert_str_eq(filter("(|(member=%d)(memberUid=%s))", "star*user(1)", dn),
			 "(|(member=uid=star\\2Auser\\281\\29,ou=people,dc=example,dc=test)"
			 "(memberUid=star\\2Auser\\281\\29))");
	ck_assert_str_eq(filter("(&(uid=%s)(description=100%%))", "a", NULL),
			 "(&(uid=a)(description=100%))");
	ck_assert_str_eq(filter("(|(uid=%s)(mail=%s))", "a", NULL), "(|(uid=a)(mail=a))");
	/* The template's own escapes are left as they are. */
	ck_assert_str_eq(filter("(&(uid=%s)(cn=\\2a))", "a", NULL), "(&(uid=a)(cn=\\2a))");
	/* A conversion without its value, an unknown one, a % at the end. */
	ck_assert_ptr_null(filter("(member=%d)", "alice", NULL));
	ck_assert_ptr_null(filter("(uid=%s)", NULL, dn));
	ck_assert_ptr_null(filter("(uid=%x)", "alice", dn));
	ck_assert_ptr_null(filter("(uid=%s)%", "alice", dn));
}
END_TEST

START_TEST(test_filter_bound)
{
	char user[LDAP_VALUES_MAX_FILTER];
	const char *f;

	/* "(uid=" and ")" are 6 bytes: the longest name that fits, and one more. */
	memset(user, 'a', sizeof(user));
	user[LDAP_VALUES_MAX_FILTER - 6] = '\0';
	f = filter("(uid=%s)", user, NULL);
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(strlen(f), LDAP_VALUES_MAX_FILTER);
	user[LDAP_VALUES_MAX_FILTER - 6] = 'a';
	user[LDAP_VALUES_MAX_FILTER - 5] = '\0';
	ck_assert_ptr_null(filter("(uid=%s)", user, NULL));
	/* The bound counts the escaped name: three bytes for each *. */
	memset(user, '*', 100);
	user[100] = '\0';
	ck_assert_ptr_null(ldap_values_filter(ctx, "(uid=%s)", user, NULL, 305));
	ck_assert_ptr_nonnull(ldap_values_filter(ctx, "(uid=%s)", user, NULL, 306));
}
END_TEST

static bool ok(const char *s)
{
	return ldap_values_group_ok(s, strlen(s));
}

START_TEST(test_group_ok)
{
	char name[LDAP_VALUES_MAX_GROUP + 2];

	ck_assert(ok("staff"));
	ck_assert(ok("Domain Users"));
	ck_assert(ok("B\xc3\xa2le-Ventes"));
	ck_assert(!ok(""));
	ck_assert(!ok("a\nb"));
	ck_assert(!ok("a\tb"));
	ck_assert(!ok("a\x7f"));
	ck_assert(!ok("a\x1b[31m"));
	/* C1 controls, invalid and overlong UTF-8. */
	ck_assert(!ok("a\xc2\x85"));
	ck_assert(!ok("a\xff"));
	ck_assert(!ok("\xc0\xaf"));
	ck_assert(!ok("caf\xc3"));
	ck_assert(!ldap_values_group_ok("a\0b", 3));
	memset(name, 'g', sizeof(name));
	ck_assert(ldap_values_group_ok(name, LDAP_VALUES_MAX_GROUP));
	ck_assert(!ldap_values_group_ok(name, LDAP_VALUES_MAX_GROUP + 1));
}
END_TEST

static const char *group(const char *value, bool may_be_dn)
{
	struct berval v = {strlen(value), (char *)value};

	return ldap_values_group_name(ctx, &v, may_be_dn);
}

START_TEST(test_group_name)
{
	char big[LDAP_VALUES_MAX_DN + 16];
	struct berval v;

	ck_assert_str_eq(group("cn=staff,ou=groups,dc=example,dc=test", true), "staff");
	ck_assert_str_eq(group("CN=Domain Users,CN=Users,DC=corp,DC=example,DC=com", true),
			 "Domain Users");
	ck_assert_str_eq(group("cn=Sales\\, EMEA,ou=groups,dc=example", true), "Sales, EMEA");
	ck_assert_str_eq(group("cn=caf\\C3\\A9,dc=example", true), "caf\xc3\xa9");
	/* Of a multi-valued RDN, the first value. */
	ck_assert_str_eq(group("cn=admins+gidNumber=10,dc=example", true), "admins");
	/* A plain name is the name, and so is a DN where none is expected. */
	ck_assert_str_eq(group("engineering", true), "engineering");
	ck_assert_str_eq(group("Sales, EMEA", true), "Sales, EMEA");
	ck_assert_str_eq(group("cn=staff,dc=example", false), "cn=staff,dc=example");
	/* BER (#hex), NUL, control characters, an empty value: no group. */
	ck_assert_ptr_null(group("cn=#04024869,dc=example", true));
	ck_assert_ptr_null(group("cn=x\\00y,dc=example", true));
	ck_assert_ptr_null(group("cn=\\01,dc=example", true));
	ck_assert_ptr_null(group("cn=\\0Aevil,dc=example", true));
	ck_assert_ptr_null(group("cn=,dc=example", true));
	ck_assert_ptr_null(group("", true));
	v.bv_val = "staff\0admins";
	v.bv_len = 12;
	ck_assert_ptr_null(ldap_values_group_name(ctx, &v, true));
	/* A value longer than any DN sluice takes is not parsed. */
	memset(big, 'a', sizeof(big));
	memcpy(big, "cn=x,dc=", 8);
	v.bv_val = big;
	v.bv_len = LDAP_VALUES_MAX_DN + 1;
	ck_assert_ptr_null(ldap_values_group_name(ctx, &v, true));
	v.bv_len = LDAP_VALUES_MAX_DN;
	ck_assert_str_eq(ldap_values_group_name(ctx, &v, true), "x");
}
END_TEST

START_TEST(test_ad_reason)
{
	ck_assert_str_eq(ldap_values_ad_reason("80090308: LdapErr: DSID-0C09044E, comment: "
					       "AcceptSecurityContext error, data 533, v4563"),
			 "account disabled");
	ck_assert_str_eq(ldap_values_ad_reason("80090308: LdapErr: DSID-0C090447, comment: "
					       "AcceptSecurityContext error, data 52e, v3839"),
			 "wrong password");
	ck_assert_str_eq(ldap_values_ad_reason("x, data 775"), "account locked");
	ck_assert_ptr_null(ldap_values_ad_reason("x, data 999, v1"));
	ck_assert_ptr_null(ldap_values_ad_reason("x, data 5330, v1"));
	ck_assert_ptr_null(ldap_values_ad_reason("Invalid credentials"));
	ck_assert_ptr_null(ldap_values_ad_reason(NULL));
}
END_TEST

int main(void)
{
	const struct check_test tests[] = {
	    {test_filter_escapes},
	    {test_filter_template},
	    {test_filter_bound},
	    {test_group_ok},
	    {test_group_name},
	    {test_ad_reason},
	    {NULL},
	};
	const struct check_case cases[] = {
	    {"ldap_values", setup, teardown, 0, tests},
	    {NULL},
	};

	return check_main("ldap_values", cases);
}
