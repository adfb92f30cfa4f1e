/* auth = ldap: a login against an LDAP directory (OpenLDAP, Active Directory) through
 * libldap, in an auth helper, set up by the ldap-* keys.
 *
 * When the helper starts it reads, as root, the service account's password
 * (ldap-bind-password-file) and the CAs of ldap-ca-cert, into a TLS context that libldap
 * makes there and then and every connection shares; it then runs as run-as-user under
 * its own seccomp filter. libldap reads no ldap.conf, .ldaprc or LDAP* variable
 * (LDAPNOINIT): sluiced.conf is all there is.
 *
 * One login, on one connection of its own: the first server of ldap-uri that answers
 * (ldaps://, or ldap:// then StartTLS), its certificate verified (the CA and the host
 * name, always); a bind as the service account, or none (an anonymous search); the
 * user's entry found with ldap-user-filter, exactly one; the user's groups from
 * ldap-group-attribute and/or ldap-group-filter; ldap-required-group; then a bind as the
 * user's DN with the password. Every operation waits at most ldap-timeout, the whole
 * login at most auth-helper-timeout (the helper's alarm).
 *
 * A server that cannot be reached or does not answer, or whose certificate is refused,
 * is a backend error (not the user's doing: no ban points, "try again later"); an
 * unknown user, a wrong password or a missing group is the user's. Whatever the
 * directory sends is untrusted: DNs and group names are bounded, group names are
 * printable UTF-8 or left out (ldap_values.c). */
#include "config.h"

#include "sec/auth_helper.h"

#include <errno.h>
#include <fcntl.h>
#include <ldap.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/log.h"
#include "common/text.h"
#include "sec/ldap_values.h"

_Static_assert(LDAP_VALUES_MAX_GROUP < AUTH_HELPER_MAX_TEXT, "a group name fits SaResult");

/* The longest first line of ldap-bind-password-file. */
#define BIND_PASSWORD_MAX 1024
/* What the groups may take of the verdict's message to sec (AUTH_HELPER_MAX_PAYLOAD),
 * counting the bytes protobuf adds to each; the rest is left for the reason. */
#define GROUPS_BUDGET (AUTH_HELPER_MAX_PAYLOAD - 1024)

/* The service account's password, read as root by auth_ldap_prepare; NULL: none. */
static char *bind_password;

/* One login's state. */
struct ldap_login {
	const struct sluice_config *c;
	TALLOC_CTX *ctx;
	SaResult *r;
	LDAP *ld;
	struct ldap_conncb cb;
	bool reached;        /* a server accepted the TCP connection (TLS may still fail) */
	char *dn;            /* the user's entry */
	size_t groups_bytes; /* of r->groups, as GROUPS_BUDGET counts them */
	unsigned dropped;    /* group values that are no name sluice takes */
	bool truncated;      /* more groups than the verdict may carry */
	bool in_required;    /* ldap-required-group is among the user's groups */
};

/* The first line of path, without its line end: the service account's password. */
static int read_bind_password(const char *path)
{
	char buf[BIND_PASSWORD_MAX + 2];
	ssize_t n = -1;
	size_t len;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY), ret = 0;

	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
	}
	if (n < 0) {
		ret = -errno;
		log_err("ldap: cannot read ldap-bind-password-file %s: %s", path, strerror(errno));
		return ret;
	}
	buf[n] = '\0';
	len = strcspn(buf, "\r\n");
	/* An empty password would make the service account's bind an anonymous one. */
	if (len == 0 || len > BIND_PASSWORD_MAX) {
		log_err("ldap: ldap-bind-password-file %s: %s", path,
			len ? "the first line is longer than 1024 bytes"
			    : "the first line is empty");
		ret = -EINVAL;
	} else if (!(bind_password = strndup(buf, len))) {
		ret = -ENOMEM;
	}
	explicit_bzero(buf, sizeof(buf));
	return ret;
}

int auth_ldap_prepare(const struct sluice_config *c)
{
	int demand = LDAP_OPT_X_TLS_DEMAND, client = 0, ret;

	/* Before libldap's first call, which reads its configuration files and
	 * variables unless this is set. */
	if (setenv("LDAPNOINIT", "1", 1) < 0)
		return -errno;
	if (c->ldap_bind_password_file) {
		ret = read_bind_password(c->ldap_bind_password_file);
		if (ret < 0)
			return ret;
	}
	/* The shared TLS context, made now so that the CAs are read as root and before the
	 * filter: certificates are always verified, host name included. */
	ret = ldap_set_option(NULL, LDAP_OPT_X_TLS_CACERTFILE, c->ldap_ca_cert);
	if (ret == LDAP_OPT_SUCCESS)
		ret = ldap_set_option(NULL, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand);
	if (ret == LDAP_OPT_SUCCESS)
		ret = ldap_set_option(NULL, LDAP_OPT_X_TLS_NEWCTX, &client);
	if (ret != LDAP_OPT_SUCCESS) {
		log_err("ldap: cannot load the CAs of ldap-ca-cert %s", c->ldap_ca_cert);
		return -EINVAL;
	}
	return 0;
}

/* The login fails for a reason of the user's (a wrong password, no such user). */
__attribute__((format(printf, 2, 3))) static bool refuse(struct ldap_login *lg, const char *fmt,
							 ...)
{
	va_list ap;

	va_start(ap, fmt);
	lg->r->reason = talloc_vasprintf(lg->ctx, fmt, ap);
	va_end(ap);
	return false;
}

/* The server's or libldap's own words about the last error, bounded ("" when none). */
static char *diagnostic(struct ldap_login *lg)
{
	char *msg = NULL, *text;

	if (ldap_get_option(lg->ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &msg) != LDAP_OPT_SUCCESS ||
	    !msg || !*msg || strcmp(msg, "(unknown error code)") == 0)
		text = talloc_strdup(lg->ctx, "");
	else
		text = talloc_asprintf(lg->ctx, " (%.120s)", msg);
	ldap_memfree(msg);
	/* The server's text goes to the log and the audit file: printable UTF-8 only. */
	if (text)
		text_make_utf8(text);
	return text;
}

/* The login fails because step did not work out, which is not the user's doing: the
 * directory cannot be reached, does not answer, or refuses what sluice is set up with. */
static bool failed(struct ldap_login *lg, const char *step, int rc)
{
	SaResult *r = lg->r;
	bool tls = strcmp(step, "connect") == 0 || strcmp(step, "StartTLS") == 0;
	bool down = rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR;

	r->has_backend_error = r->backend_error = true;
	if (rc == LDAP_TIMEOUT || (down && !lg->reached))
		r->reason = talloc_asprintf(lg->ctx, "LDAP: server did not answer (%s: %s)", step,
					    ldap_err2string(rc));
	else if (down && tls)
		r->reason = talloc_strdup(
		    lg->ctx, "LDAP: TLS with the server failed: its certificate is not "
			     "signed by a CA of ldap-ca-cert or does not name the host "
			     "of ldap-uri");
	else
		r->reason = talloc_asprintf(lg->ctx, "LDAP: %s failed: %s%s", step,
					    ldap_err2string(rc), diagnostic(lg));
	return false;
}

/* libldap's call once a server has accepted the TCP connection, before any TLS. */
static int on_connect(LDAP *ld, Sockbuf *sb, LDAPURLDesc *srv, struct sockaddr *addr,
		      struct ldap_conncb *cb)
{
	((struct ldap_login *)cb->lc_arg)->reached = true;
	return 0;
}

static void on_close(LDAP *ld, Sockbuf *sb, struct ldap_conncb *cb)
{
}

/* A connection to the first server that answers, with TLS (or in clear text to an
 * ldap:// server with ldap-starttls = false), and the service account's bind. */
static bool open_session(struct ldap_login *lg)
{
	const struct sluice_config *c = lg->c;
	struct timeval tv = {(time_t)c->ldap_timeout, 0};
	int version = LDAP_VERSION3, rc;

	rc = ldap_initialize(&lg->ld, c->ldap_uri);
	if (rc != LDAP_SUCCESS)
		return failed(lg, "ldap_initialize", rc);
	lg->cb = (struct ldap_conncb){on_connect, on_close, lg};
	/* Referrals are not followed: they would be anonymous binds to other servers. */
	if (ldap_set_option(lg->ld, LDAP_OPT_PROTOCOL_VERSION, &version) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(lg->ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(lg->ld, LDAP_OPT_NETWORK_TIMEOUT, &tv) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(lg->ld, LDAP_OPT_TIMEOUT, &tv) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(lg->ld, LDAP_OPT_CONNECT_CB, &lg->cb) != LDAP_OPT_SUCCESS)
		return failed(lg, "ldap_set_option", LDAP_LOCAL_ERROR);
	rc = ldap_connect(lg->ld);
	if (rc != LDAP_SUCCESS)
		return failed(lg, "connect", rc);
	if (!ldap_tls_inplace(lg->ld) && c->ldap_starttls) {
		rc = ldap_start_tls_s(lg->ld, NULL, NULL);
		if (rc != LDAP_SUCCESS)
			return failed(lg, "StartTLS", rc);
	}
	if (c->ldap_bind_dn) {
		struct berval cred = {strlen(bind_password), bind_password};

		rc = ldap_sasl_bind_s(lg->ld, c->ldap_bind_dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL,
				      NULL);
		if (rc != LDAP_SUCCESS)
			return failed(lg, "the bind of ldap-bind-dn", rc);
	}
	return true;
}

/* One group of the user, unless it is no name sluice takes, is there already, or the
 * verdict has no room left for it. */
static void add_group(struct ldap_login *lg, const struct berval *v, bool may_be_dn)
{
	SaResult *r = lg->r;
	char *name = ldap_values_group_name(lg->ctx, v, may_be_dn), **grown;
	size_t cost;

	if (!name) {
		lg->dropped++;
		return;
	}
	if (lg->c->ldap_required_group && strcasecmp(name, lg->c->ldap_required_group) == 0)
		lg->in_required = true;
	for (size_t i = 0; i < r->n_groups; i++)
		if (strcmp(r->groups[i], name) == 0)
			return;
	/* protobuf's tag and length of each string: 3 bytes at most at this size. */
	cost = strlen(name) + 3;
	if (r->n_groups >= AUTH_HELPER_MAX_GROUPS || lg->groups_bytes + cost > GROUPS_BUDGET) {
		lg->truncated = true;
		return;
	}
	grown = talloc_realloc(lg->ctx, r->groups, char *, r->n_groups + 1);
	if (!grown)
		return;
	r->groups = grown;
	grown[r->n_groups++] = talloc_steal(grown, name);
	lg->groups_bytes += cost;
}

/* The groups ldap-group-attribute names on the user's entry. */
static void attribute_groups(struct ldap_login *lg, LDAPMessage *entry)
{
	struct berval **values;

	if (!lg->c->ldap_group_attribute)
		return;
	values = ldap_get_values_len(lg->ld, entry, lg->c->ldap_group_attribute);
	for (size_t i = 0; values && values[i]; i++)
		add_group(lg, values[i], true);
	ldap_value_free_len(values);
}

/* The user's entry: exactly one that ldap-user-filter finds under ldap-base; its DN
 * (lg->dn) and the groups it names. */
static bool find_user(struct ldap_login *lg, const char *user)
{
	const struct sluice_config *c = lg->c;
	struct timeval tv = {(time_t)c->ldap_timeout, 0};
	char *attrs[] = {c->ldap_group_attribute ? c->ldap_group_attribute : LDAP_NO_ATTRS, NULL};
	char *filter =
	    ldap_values_filter(lg->ctx, c->ldap_user_filter, user, NULL, LDAP_VALUES_MAX_FILTER);
	LDAPMessage *res = NULL, *entry;
	char *dn = NULL;
	bool ok = false;
	int rc, n;

	if (!filter)
		return refuse(lg, "LDAP: user name too long for ldap-user-filter");
	/* Two entries at most: one more than a login may find. */
	rc = ldap_search_ext_s(lg->ld, c->ldap_base, LDAP_SCOPE_SUBTREE, filter, attrs, 0, NULL,
			       NULL, &tv, 2, &res);
	n = res ? ldap_count_entries(lg->ld, res) : 0;
	if (rc != LDAP_SUCCESS && rc != LDAP_SIZELIMIT_EXCEEDED)
		failed(lg, "the user search", rc);
	else if (n == 0)
		refuse(lg, "LDAP: unknown user");
	else if (n > 1 || rc == LDAP_SIZELIMIT_EXCEEDED)
		refuse(lg, "LDAP: user filter matches more than one entry");
	else if (!(entry = ldap_first_entry(lg->ld, res)) || !(dn = ldap_get_dn(lg->ld, entry)) ||
		 !*dn || strlen(dn) > LDAP_VALUES_MAX_DN)
		failed(lg, "the user search (the entry's DN)", LDAP_DECODING_ERROR);
	else if (!(lg->dn = talloc_strdup(lg->ctx, dn)))
		failed(lg, "the user search", LDAP_NO_MEMORY);
	else {
		attribute_groups(lg, entry);
		ok = true;
	}
	ldap_memfree(dn);
	ldap_msgfree(res);
	return ok;
}

/* The groups ldap-group-filter finds under ldap-group-base, by their
 * ldap-group-name-attribute. */
static bool search_groups(struct ldap_login *lg, const char *user)
{
	const struct sluice_config *c = lg->c;
	struct timeval tv = {(time_t)c->ldap_timeout, 0};
	char *attrs[] = {c->ldap_group_name_attribute, NULL};
	char *filter;
	LDAPMessage *res = NULL;
	int rc;

	if (!c->ldap_group_filter)
		return true;
	filter =
	    ldap_values_filter(lg->ctx, c->ldap_group_filter, user, lg->dn, LDAP_VALUES_MAX_FILTER);
	if (!filter)
		return refuse(lg, "LDAP: user name or DN too long for ldap-group-filter");
	rc = ldap_search_ext_s(lg->ld, c->ldap_group_base ? c->ldap_group_base : c->ldap_base,
			       LDAP_SCOPE_SUBTREE, filter, attrs, 0, NULL, NULL, &tv,
			       AUTH_HELPER_MAX_GROUPS, &res);
	if (rc != LDAP_SUCCESS && rc != LDAP_SIZELIMIT_EXCEEDED) {
		ldap_msgfree(res);
		return failed(lg, "the group search", rc);
	}
	lg->truncated |= rc == LDAP_SIZELIMIT_EXCEEDED;
	for (LDAPMessage *e = ldap_first_entry(lg->ld, res); e; e = ldap_next_entry(lg->ld, e)) {
		struct berval **values =
		    ldap_get_values_len(lg->ld, e, c->ldap_group_name_attribute);

		/* A group's name is its first value. */
		if (values && values[0])
			add_group(lg, values[0], false);
		else
			lg->dropped++;
		ldap_value_free_len(values);
	}
	ldap_msgfree(res);
	return true;
}

static bool find_groups(struct ldap_login *lg, const char *user)
{
	if (!search_groups(lg, user))
		return false;
	/* Not the values themselves, nor the DN: the directory's text stays out of the
	 * log (sec logs the login with the user's name). */
	if (lg->dropped)
		log_info("ldap: %u group values left out: not printable UTF-8 of 1 to %d bytes",
			 lg->dropped, LDAP_VALUES_MAX_GROUP);
	if (lg->truncated)
		log_warn("ldap: more groups than a login passes on (%d, or %d bytes): the first "
			 "%zu are used",
			 AUTH_HELPER_MAX_GROUPS, GROUPS_BUDGET, lg->r->n_groups);
	/* Before the password is tried: a user who may not log in anyway never adds to
	 * the directory's count of failed binds (an account lock-out). */
	if (lg->c->ldap_required_group && !lg->in_required)
		return refuse(lg, "LDAP: not in required group %s", lg->c->ldap_required_group);
	return true;
}

/* The password, as a bind of the user's DN on the same connection. */
static bool user_bind(struct ldap_login *lg, const char *password)
{
	struct berval cred = {strlen(password), (char *)password};
	const char *ad;
	int rc;

	rc = ldap_sasl_bind_s(lg->ld, lg->dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
	if (rc == LDAP_SUCCESS)
		return true;
	if (rc == LDAP_INVALID_CREDENTIALS) {
		char *msg = NULL;

		ldap_get_option(lg->ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &msg);
		ad = ldap_values_ad_reason(msg);
		ldap_memfree(msg);
		if (ad && strcmp(ad, "wrong password") != 0)
			return refuse(lg, "LDAP: %s (Active Directory)", ad);
		return refuse(lg, "LDAP: wrong password");
	}
	/* The server's answer about this account (unwilling to perform, a password
	 * policy): the user's; no answer: the server's. */
	if (rc > 0 && rc != LDAP_BUSY && rc != LDAP_UNAVAILABLE)
		return refuse(lg, "LDAP: the user's bind failed: %s%s", ldap_err2string(rc),
			      diagnostic(lg));
	return failed(lg, "the user's bind", rc);
}

void auth_ldap_login(const struct sluice_config *c, TALLOC_CTX *ctx, const SaLogin *l,
		     struct auth_conv *conv, SaResult *r)
{
	struct ldap_login lg = {.c = c, .ctx = ctx, .r = r};

	/* A simple bind with a DN and an empty password is an unauthenticated bind, which
	 * servers answer with success (RFC 4513, 5.1.2): it is never sent. */
	if (!*l->password) {
		refuse(&lg, "LDAP: empty password");
		return;
	}
	r->ok = open_session(&lg) && find_user(&lg, l->username) && find_groups(&lg, l->username) &&
		user_bind(&lg, l->password);
	if (lg.ld)
		ldap_unbind_ext_s(lg.ld, NULL, NULL);
	if (r->ok) {
		r->reason = NULL;
	} else {
		r->n_groups = 0;
		r->groups = NULL;
	}
}
