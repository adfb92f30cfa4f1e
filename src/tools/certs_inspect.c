/* sluice-certs show and check: what a certificate (or CRL) says, and whether it is
 * fit for use. */
#include "config.h"

#include "tools/certs.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define WARN_DAYS 30

/* "in 12 days", "3 days ago" */
static const char *relative(TALLOC_CTX *ctx, time_t t, time_t now)
{
	long days = (long)((t > now ? t - now : now - t) / 86400);

	if (t > now)
		return talloc_asprintf(ctx, "in %ld day%s", days, days == 1 ? "" : "s");
	return talloc_asprintf(ctx, "%ld day%s ago", days, days == 1 ? "" : "s");
}

static char *usage_text(TALLOC_CTX *ctx, unsigned usage)
{
	static const struct {
		unsigned bit;
		const char *name;
	} bits[] = {
	    {GNUTLS_KEY_DIGITAL_SIGNATURE, "digital signature"},
	    {GNUTLS_KEY_NON_REPUDIATION, "non-repudiation"},
	    {GNUTLS_KEY_KEY_ENCIPHERMENT, "key encipherment"},
	    {GNUTLS_KEY_DATA_ENCIPHERMENT, "data encipherment"},
	    {GNUTLS_KEY_KEY_AGREEMENT, "key agreement"},
	    {GNUTLS_KEY_KEY_CERT_SIGN, "certificate signing"},
	    {GNUTLS_KEY_CRL_SIGN, "CRL signing"},
	};
	char *s = talloc_strdup(ctx, "");

	for (size_t i = 0; s != NULL && i < sizeof(bits) / sizeof(bits[0]); i++) {
		if (usage & bits[i].bit)
			s = talloc_asprintf_append(s, "%s%s", s[0] ? ", " : "", bits[i].name);
	}
	return s;
}

static char *purposes_text(TALLOC_CTX *ctx, gnutls_x509_crt_t crt)
{
	char *s = talloc_strdup(ctx, "");

	for (unsigned i = 0; s != NULL; i++) {
		char oid[128];
		size_t size = sizeof(oid);
		const char *name;

		if (gnutls_x509_crt_get_key_purpose_oid(crt, i, oid, &size, NULL) < 0)
			break;
		if (strcmp(oid, GNUTLS_KP_TLS_WWW_SERVER) == 0)
			name = "TLS server";
		else if (strcmp(oid, GNUTLS_KP_TLS_WWW_CLIENT) == 0)
			name = "TLS client";
		else
			name = oid;
		s = talloc_asprintf_append(s, "%s%s", s[0] ? ", " : "", name);
	}
	return s;
}

/* "sha256:" and the hex SHA-256 of the certificate's DER, as certtool prints it. */
static char *fingerprint(TALLOC_CTX *ctx, gnutls_x509_crt_t crt)
{
	uint8_t fp[32];
	size_t size = sizeof(fp);
	char hex[2 * sizeof(fp) + 1];

	if (gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA256, fp, &size) < 0 ||
	    size != sizeof(fp))
		return talloc_strdup(ctx, "(unknown)");
	certs_serial_hex(fp, size, hex);
	return talloc_asprintf(ctx, "sha256:%s", hex);
}

static void show_crt(TALLOC_CTX *ctx, const char *path, gnutls_x509_crt_t crt, unsigned i,
		     unsigned n)
{
	time_t now = time(NULL), from = gnutls_x509_crt_get_activation_time(crt);
	time_t until = gnutls_x509_crt_get_expiration_time(crt);
	uint8_t serial[CERTS_SERIAL_MAX];
	char hex[2 * CERTS_SERIAL_MAX + 1] = "(longer than 21 bytes)";
	size_t len;
	unsigned usage = 0, critical, ca = 0;
	int pathlen = -1, bc;
	const char *names = certs_crt_names(ctx, crt), *purposes = purposes_text(ctx, crt);

	if (certs_crt_serial(crt, serial, &len) == 0)
		certs_serial_hex(serial, len, hex);
	bc = gnutls_x509_crt_get_basic_constraints(crt, &critical, &ca, &pathlen);
	certs_say("%s: certificate %u of %u", path, i + 1, n);
	certs_say("  subject:   %s", certs_crt_dn(ctx, crt, false));
	certs_say("  issuer:    %s", certs_crt_dn(ctx, crt, true));
	certs_say("  serial:    %s", hex);
	certs_say("  valid:     %s to %s (%s %s)", certs_time_text(ctx, from),
		  certs_time_text(ctx, until),
		  now < from     ? "not yet valid, starts"
		  : now >= until ? "expired"
				 : "expires",
		  relative(ctx, now < from ? from : until, now));
	certs_say("  names:     %s", names && names[0] ? names : "(none)");
	certs_say("  key:       %s", certs_crt_key_describe(ctx, crt));
	if (bc >= 0 && ca && pathlen >= 0)
		certs_say("  CA:        yes (path length %d)", pathlen);
	else
		certs_say("  CA:        %s", bc >= 0 && ca ? "yes" : "no");
	if (gnutls_x509_crt_get_key_usage(crt, &usage, &critical) >= 0)
		certs_say("  usage:     %s", usage_text(ctx, usage));
	if (purposes && purposes[0])
		certs_say("  purposes:  %s", purposes);
	certs_say("  key pin:   %s", certs_crt_pin(ctx, crt) ?: "(unknown)");
	certs_say("  cert hash: %s", fingerprint(ctx, crt));
}

static int show_crl(TALLOC_CTX *ctx, const char *path, const gnutls_datum_t *d)
{
	gnutls_x509_crl_t crl;
	gnutls_datum_t dn = {NULL, 0};
	uint8_t num[32];
	size_t num_len = sizeof(num);
	time_t now = time(NULL), next;
	int count, ret;

	if (gnutls_x509_crl_init(&crl) < 0)
		return -ENOMEM;
	ret = gnutls_x509_crl_import(crl, d, GNUTLS_X509_FMT_PEM);
	if (ret < 0) {
		certs_fail("%s: not a CRL: %s", path, gnutls_strerror(ret));
		gnutls_x509_crl_deinit(crl);
		return -EINVAL;
	}
	next = gnutls_x509_crl_get_next_update(crl);
	certs_say("%s: CRL", path);
	if (gnutls_x509_crl_get_issuer_dn3(crl, &dn, 0) >= 0)
		certs_say("  issuer:    %.*s", (int)dn.size, (char *)dn.data);
	gnutls_free(dn.data);
	if (gnutls_x509_crl_get_number(crl, num, &num_len, NULL) >= 0) {
		char hex[2 * sizeof(num) + 1];

		certs_serial_hex(num, num_len, hex);
		certs_say("  number:    0x%s", hex);
	}
	certs_say("  updated:   %s", certs_time_text(ctx, gnutls_x509_crl_get_this_update(crl)));
	certs_say("  next:      %s (%s%s)", certs_time_text(ctx, next),
		  next <= now ? "overdue since " : "", relative(ctx, next, now));
	count = gnutls_x509_crl_get_crt_count(crl);
	certs_say("  revoked:   %d", count < 0 ? 0 : count);
	for (int i = 0; i < count; i++) {
		uint8_t serial[64];
		char hex[2 * sizeof(serial) + 1];
		size_t len = sizeof(serial);
		time_t t;

		if (gnutls_x509_crl_get_crt_serial(crl, (unsigned)i, serial, &len, &t) < 0)
			break;
		certs_serial_hex(serial, len, hex);
		certs_say("    serial %s on %s", hex, certs_time_text(ctx, t));
	}
	gnutls_x509_crl_deinit(crl);
	return 0;
}

int certs_cmd_show(TALLOC_CTX *ctx, const struct certs_opts *o)
{
	int status = CERTS_EXIT_OK;

	for (int a = 0; a < o->argc; a++) {
		TALLOC_CTX *tmp = talloc_new(ctx);
		gnutls_datum_t d;
		gnutls_x509_crt_t *crts;
		unsigned n;

		if (a > 0)
			certs_say("%s", "");
		if (certs_read_file(tmp, o->argv[a], CERTS_MAX_FILE, &d) < 0) {
			status = CERTS_EXIT_ERROR;
		} else if (strstr((char *)d.data, "-----BEGIN X509 CRL-----") != NULL) {
			if (show_crl(tmp, o->argv[a], &d) < 0)
				status = CERTS_EXIT_ERROR;
		} else if (certs_load_crts(tmp, o->argv[a], &crts, &n) < 0) {
			status = CERTS_EXIT_ERROR;
		} else {
			for (unsigned i = 0; i < n; i++)
				show_crt(tmp, o->argv[a], crts[i], i, n);
		}
		talloc_free(tmp);
	}
	return status;
}

/* --- check ------------------------------------------------------------------------------ */

struct checker {
	TALLOC_CTX *ctx;
	unsigned problems;
};

static void ok(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void problem(struct checker *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void ok(const char *fmt, ...)
{
	va_list ap;

	fputs("ok:      ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void problem(struct checker *c, const char *fmt, ...)
{
	va_list ap;

	c->problems++;
	fputs("problem: ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void check_key(struct checker *c, gnutls_x509_crt_t crt, const char *key_path)
{
	gnutls_x509_privkey_t key;
	const char *crt_pin = certs_crt_pin(c->ctx, crt), *key_pin;

	if (certs_load_privkey(c->ctx, key_path, &key) < 0) {
		problem(c, "cannot read the key %s", key_path);
		return;
	}
	key_pin = certs_privkey_pin(c->ctx, key);
	if (crt_pin != NULL && key_pin != NULL && strcmp(crt_pin, key_pin) == 0)
		ok("the key %s belongs to the certificate", key_path);
	else
		problem(c, "the key %s does not belong to the certificate (the public keys differ)",
			key_path);
}

static void check_dates(struct checker *c, gnutls_x509_crt_t crt, long warn_days)
{
	time_t now = time(NULL), from = gnutls_x509_crt_get_activation_time(crt);
	time_t until = gnutls_x509_crt_get_expiration_time(crt);
	const char *at = certs_time_text(c->ctx, until);

	if (now < from)
		problem(c, "not valid before %s (%s)", certs_time_text(c->ctx, from),
			relative(c->ctx, from, now));
	else if (now >= until)
		problem(c, "expired on %s (%s)", at, relative(c->ctx, until, now));
	else if (until - now < warn_days * 86400)
		problem(c, "expires on %s (%s), within the %ld days of --warn-days", at,
			relative(c->ctx, until, now), warn_days);
	else
		ok("valid until %s (%s)", at, relative(c->ctx, until, now));
}

static void check_name(struct checker *c, gnutls_x509_crt_t crt, const char *name)
{
	uint8_t ip[16];
	bool covered;

	if (inet_pton(AF_INET, name, ip) == 1)
		covered = gnutls_x509_crt_check_ip(crt, ip, 4, 0);
	else if (inet_pton(AF_INET6, name, ip) == 1)
		covered = gnutls_x509_crt_check_ip(crt, ip, 16, 0);
	else if (strchr(name, '@') != NULL)
		covered = gnutls_x509_crt_check_email(crt, name, 0);
	else
		covered = gnutls_x509_crt_check_hostname2(crt, name, 0);
	if (covered)
		ok("covers %s", name);
	else
		problem(c, "does not cover %s", name);
}

/* The CRL: signed by the CA, up to date, and whether it lists the certificate. */
static void check_crl(struct checker *c, gnutls_x509_crt_t crt, gnutls_x509_crt_t *cas,
		      unsigned n_cas, const char *crl_path)
{
	gnutls_datum_t d;
	gnutls_x509_crl_t crl;
	uint8_t serial[CERTS_SERIAL_MAX], s[64];
	size_t len, slen;
	unsigned status = 1;
	time_t now = time(NULL), next, t;
	int count;

	if (certs_read_file(c->ctx, crl_path, CERTS_MAX_FILE, &d) < 0 ||
	    gnutls_x509_crl_init(&crl) < 0) {
		problem(c, "cannot read the CRL %s", crl_path);
		return;
	}
	if (gnutls_x509_crl_import(crl, &d, GNUTLS_X509_FMT_PEM) < 0 &&
	    gnutls_x509_crl_import(crl, &d, GNUTLS_X509_FMT_DER) < 0) {
		problem(c, "%s is not a CRL", crl_path);
		gnutls_x509_crl_deinit(crl);
		return;
	}
	if (gnutls_x509_crl_verify(crl, cas, n_cas, 0, &status) < 0 || status != 0) {
		problem(c, "the CRL %s is not signed by the CA", crl_path);
		gnutls_x509_crl_deinit(crl);
		return;
	}
	next = gnutls_x509_crl_get_next_update(crl);
	if (next != (time_t)-1 && next <= now)
		problem(c, "the CRL %s is out of date since %s; renew it with '" CERTS_PROG " crl'",
			crl_path, certs_time_text(c->ctx, next));
	count = certs_crt_serial(crt, serial, &len) < 0 ? -1 : gnutls_x509_crl_get_crt_count(crl);
	for (int i = 0; i < count; i++) {
		slen = sizeof(s);
		if (gnutls_x509_crl_get_crt_serial(crl, (unsigned)i, s, &slen, &t) >= 0 &&
		    slen == len && memcmp(s, serial, len) == 0) {
			problem(c, "revoked on %s (CRL %s)", certs_time_text(c->ctx, t), crl_path);
			gnutls_x509_crl_deinit(crl);
			return;
		}
	}
	ok("not revoked (CRL %s, next update %s)", crl_path, certs_time_text(c->ctx, next));
	gnutls_x509_crl_deinit(crl);
}

static void check_chain(struct checker *c, gnutls_x509_crt_t *crts, unsigned n, const char *ca_path,
			const char *crl_path)
{
	gnutls_x509_trust_list_t tl;
	gnutls_x509_crt_t *cas;
	gnutls_datum_t text = {NULL, 0};
	unsigned n_cas, status = 0;
	int ret;

	if (certs_load_crts(c->ctx, ca_path, &cas, &n_cas) < 0) {
		problem(c, "cannot read the CA %s", ca_path);
		return;
	}
	if (gnutls_x509_trust_list_init(&tl, 0) < 0)
		return;
	/* The list does not own the CAs (deinit with all = 0): ctx does. */
	ret = gnutls_x509_trust_list_add_cas(tl, cas, n_cas, 0);
	if (ret >= 0)
		ret = gnutls_x509_trust_list_verify_crt2(tl, crts, n, NULL, 0, 0, &status, NULL);
	gnutls_x509_trust_list_deinit(tl, 0);
	if (ret < 0) {
		problem(c, "cannot verify against %s: %s", ca_path, gnutls_strerror(ret));
	} else if (status != 0) {
		gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &text, 0);
		problem(c, "not valid against the CA %s: %s", ca_path,
			text.data ? (char *)text.data : "(no reason given)");
		gnutls_free(text.data);
	} else {
		ok("signed by %s (%s)", certs_crt_dn(c->ctx, cas[0], false), ca_path);
	}
	if (crl_path != NULL)
		check_crl(c, crts[0], cas, n_cas, crl_path);
}

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

int certs_cmd_check(TALLOC_CTX *ctx, const struct certs_opts *o)
{
	struct checker c = {.ctx = ctx};
	const char *cert_path = o->argv[0], *ca = o->ca_file, *crl = o->crl_file;
	long warn = o->warn_days >= 0 ? o->warn_days : WARN_DAYS;
	gnutls_x509_crt_t *crts;
	unsigned n;
	uint8_t serial[CERTS_SERIAL_MAX];
	char hex[2 * CERTS_SERIAL_MAX + 1] = "?";
	size_t len;

	if (crl != NULL && ca == NULL) {
		certs_fail("--crl needs --ca: the CA that signed the CRL");
		return CERTS_EXIT_USAGE;
	}
	if (certs_load_crts(ctx, cert_path, &crts, &n) < 0)
		return CERTS_EXIT_ERROR;
	if (certs_crt_serial(crts[0], serial, &len) == 0)
		certs_serial_hex(serial, len, hex);
	certs_say("%s: %s, serial %s, %s key", cert_path, certs_crt_dn(ctx, crts[0], false), hex,
		  certs_crt_key_describe(ctx, crts[0]));
	if (o->argc == 2)
		check_key(&c, crts[0], o->argv[1]);
	/* Without --ca, the CA (and the CRL) of --dir, if there is one. */
	if (ca == NULL && exists(certs_path(ctx, o->dir, CERTS_CA_CERT))) {
		ca = certs_path(ctx, o->dir, CERTS_CA_CERT);
		if (crl == NULL && exists(certs_path(ctx, o->dir, CERTS_CRL)))
			crl = certs_path(ctx, o->dir, CERTS_CRL);
	}
	if (ca != NULL)
		check_chain(&c, crts, n, ca, crl);
	else
		certs_say("note:    the chain is not checked: no %s/%s, and no --ca", o->dir,
			  CERTS_CA_CERT);
	check_dates(&c, crts[0], warn);
	for (size_t i = 0; i < o->n_names; i++)
		check_name(&c, crts[0], o->names[i]);
	certs_say("names:   %s", certs_crt_names(ctx, crts[0]));
	if (c.problems > 0) {
		certs_fail("%s: %u problem%s", cert_path, c.problems, c.problems == 1 ? "" : "s");
		return CERTS_EXIT_ERROR;
	}
	certs_say("%s: no problems", cert_path);
	return CERTS_EXIT_OK;
}
