/* sluice-certs init-ca and server, and what client shares with them: keys, and
 * certificates signed by the CA. */
#include "config.h"

#include "tools/certs.h"
#include "tools/certs_issue.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define CA_DAYS   3650
#define RSA_BITS  3072
#define MAX_NAMES 64
/* Apple's clients refuse TLS server certificates valid for longer. */
#define SERVER_DAYS 825

static unsigned usage_for(enum certs_kind kind, gnutls_x509_privkey_t key)
{
	bool rsa = gnutls_x509_privkey_get_pk_algorithm(key) == GNUTLS_PK_RSA;

	if (kind == CERTS_KIND_CA)
		return GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN;
	/* TLS 1.2 and older may encrypt the premaster secret to a server's RSA key. */
	if (kind == CERTS_KIND_SERVER && rsa)
		return GNUTLS_KEY_DIGITAL_SIGNATURE | GNUTLS_KEY_KEY_ENCIPHERMENT;
	return GNUTLS_KEY_DIGITAL_SIGNATURE;
}

static int set_names(gnutls_x509_crt_t crt, const struct profile *p)
{
	int ret = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, p->cn,
						(unsigned)strlen(p->cn));

	if (ret >= 0 && p->uid)
		ret = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_LDAP_UID, 0, p->cn,
						    (unsigned)strlen(p->cn));
	for (size_t i = 0; ret >= 0 && i < p->n_dns; i++)
		ret = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, p->dns[i],
							   (unsigned)strlen(p->dns[i]),
							   GNUTLS_FSAN_APPEND);
	for (size_t i = 0; ret >= 0 && i < p->n_ips; i++)
		ret = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS,
							   p->ips[i].addr, (unsigned)p->ips[i].len,
							   GNUTLS_FSAN_APPEND);
	if (ret >= 0 && p->email != NULL)
		ret = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_RFC822NAME, p->email,
							   (unsigned)strlen(p->email),
							   GNUTLS_FSAN_APPEND);
	return ret;
}

/* The certificate as its readers will see it: GnuTLS answers some questions (the
 * names, for one) only about a certificate it has parsed. */
static int read_back(TALLOC_CTX *ctx, gnutls_x509_crt_t crt, gnutls_x509_crt_t *out)
{
	gnutls_datum_t der = {NULL, 0};
	int ret = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &der);

	*out = certs_crt_new(ctx);
	if (ret >= 0)
		ret = *out ? gnutls_x509_crt_import(*out, &der, GNUTLS_X509_FMT_DER)
			   : GNUTLS_E_MEMORY_ERROR;
	gnutls_free(der.data);
	return ret;
}

/* Signs with the CA, or with key itself when ca is NULL. */
static int make_crt(TALLOC_CTX *ctx, const struct profile *p, gnutls_x509_privkey_t key,
		    const struct certs_ca *ca, const struct certs_entry *e, gnutls_x509_crt_t *out)
{
	gnutls_x509_crt_t crt = certs_crt_new(ctx);
	uint8_t id[64];
	size_t id_len = sizeof(id);
	unsigned critical;
	int ret;

	if (crt == NULL)
		return GNUTLS_E_MEMORY_ERROR;
	ret = gnutls_x509_crt_set_version(crt, 3);
	if (ret >= 0)
		ret = gnutls_x509_crt_set_serial(crt, e->serial, e->serial_len);
	if (ret >= 0)
		ret = gnutls_x509_crt_set_activation_time(crt, e->issued - CERTS_BACKDATE);
	if (ret >= 0)
		ret = gnutls_x509_crt_set_expiration_time(crt, e->expires);
	if (ret >= 0)
		ret = gnutls_x509_crt_set_key(crt, key);
	if (ret >= 0)
		ret = set_names(crt, p);
	/* A CA that signs end certificates only: path length 0. */
	if (ret >= 0)
		ret = gnutls_x509_crt_set_basic_constraints(crt, p->kind == CERTS_KIND_CA,
							    p->kind == CERTS_KIND_CA ? 0 : -1);
	if (ret >= 0)
		ret = gnutls_x509_crt_set_key_usage(crt, usage_for(p->kind, key));
	if (ret >= 0 && p->purpose != NULL)
		ret = gnutls_x509_crt_set_key_purpose_oid(crt, p->purpose, 0);
	if (ret >= 0)
		ret = gnutls_x509_privkey_get_key_id(key, GNUTLS_KEYID_USE_SHA1, id, &id_len);
	if (ret >= 0)
		ret = gnutls_x509_crt_set_subject_key_id(crt, id, id_len);
	id_len = sizeof(id);
	if (ret >= 0 && ca != NULL &&
	    gnutls_x509_crt_get_subject_key_id(ca->crt, id, &id_len, &critical) >= 0)
		ret = gnutls_x509_crt_set_authority_key_id(crt, id, id_len);
	if (ret >= 0)
		ret = gnutls_x509_crt_sign2(crt, ca ? ca->crt : crt, ca ? ca->key : key,
					    GNUTLS_DIG_SHA256, 0);
	return ret < 0 ? ret : read_back(ctx, crt, out);
}

static int export_crt(gnutls_x509_crt_t crt, gnutls_datum_t *pem)
{
	int ret = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, pem);

	if (ret < 0)
		certs_fail("cannot export the certificate: %s", gnutls_strerror(ret));
	return ret < 0 ? -EIO : 0;
}

/* Writes the key (mode 0600, an existing one replaced only with --force) and the
 * certificate (0644), with a line for each. */
static int write_pair(TALLOC_CTX *ctx, gnutls_x509_privkey_t key, const char *key_desc,
		      gnutls_x509_crt_t crt, const char *key_path, const char *cert_path,
		      bool force)
{
	gnutls_datum_t kpem = {NULL, 0}, cpem = {NULL, 0};
	uint8_t serial[CERTS_SERIAL_MAX];
	char hex[2 * CERTS_SERIAL_MAX + 1];
	size_t serial_len;
	int ret;

	ret = certs_key_pem(key, &kpem);
	if (ret == 0)
		ret = certs_write(key_path, kpem.data, kpem.size, 0600, !force);
	if (kpem.data != NULL) {
		explicit_bzero(kpem.data, kpem.size);
		gnutls_free(kpem.data);
	}
	if (ret < 0)
		return ret;
	certs_say("wrote %s (%s key, mode 0600)", key_path, key_desc);
	ret = export_crt(crt, &cpem);
	if (ret == 0)
		ret = certs_write(cert_path, cpem.data, cpem.size, 0644, false);
	gnutls_free(cpem.data);
	if (ret < 0)
		return ret;
	certs_crt_serial(crt, serial, &serial_len);
	certs_serial_hex(serial, serial_len, hex);
	certs_say("wrote %s (%s, serial %s, valid until %s)", cert_path,
		  certs_crt_dn(ctx, crt, false), hex,
		  certs_time_text(ctx, gnutls_x509_crt_get_expiration_time(crt)));
	return 0;
}

static const char *key_desc(TALLOC_CTX *ctx, const struct certs_opts *o)
{
	return o->key_type == CERTS_KEY_RSA
		   ? certs_key_describe(ctx, GNUTLS_PK_RSA, o->bits ? o->bits : RSA_BITS,
					GNUTLS_ECC_CURVE_INVALID)
		   : certs_key_describe(ctx, GNUTLS_PK_ECDSA, 256, GNUTLS_ECC_CURVE_SECP256R1);
}

/* A common name: what the state file takes as NAME, and at most the 64 characters
 * X.509 allows. */
static bool cn_ok(const char *cn)
{
	if (certs_name_ok(cn, strlen(cn)) && strlen(cn) <= 64)
		return true;
	certs_fail("common name '%s': 1 to 64 bytes of UTF-8 without control characters or "
		   "spaces at either end",
		   cn);
	return false;
}

int certs_issue_key(TALLOC_CTX *ctx, const struct certs_opts *o, const char *what,
		    gnutls_x509_privkey_t *key)
{
	certs_say("generating the %s key (%s)", what, key_desc(ctx, o));
	return certs_key_generate(ctx, o->key_type, o->bits ? o->bits : RSA_BITS, key);
}

int certs_cmd_init_ca(TALLOC_CTX *ctx, const struct certs_opts *o)
{
	struct certs_ca *ca = certs_ca_paths(ctx, o->dir);
	struct profile p = {.kind = CERTS_KIND_CA, .cn = o->cn ? o->cn : "sluice CA"};
	struct certs_entry e = {.kind = CERTS_KIND_CA, .name = (char *)p.cn};
	gnutls_x509_privkey_t key;
	gnutls_x509_crt_t crt;
	int ret;

	if (ca == NULL)
		return CERTS_EXIT_ERROR;
	if (!cn_ok(p.cn))
		return CERTS_EXIT_USAGE;
	if (certs_mkdir(o->dir, 0755) < 0 || certs_ca_lock(ca) < 0)
		return CERTS_EXIT_ERROR;
	if (!o->force && certs_refuse_existing((const char *const[]){
			     ca->key_path, ca->cert_path, ca->state_path, ca->crl_path, NULL}) < 0)
		return CERTS_EXIT_ERROR;
	if (certs_issue_key(ctx, o, "CA", &key) < 0)
		return CERTS_EXIT_ERROR;
	ca->state = certs_state_new(ca);
	if (ca->state == NULL || certs_new_serial(NULL, e.serial, &e.serial_len) < 0)
		return CERTS_EXIT_ERROR;
	e.issued = time(NULL);
	e.expires = e.issued + (o->days >= 0 ? o->days : CA_DAYS) * 86400;
	ret = make_crt(ctx, &p, key, NULL, &e, &crt);
	if (ret < 0) {
		certs_fail("cannot make the CA certificate: %s", gnutls_strerror(ret));
		return CERTS_EXIT_ERROR;
	}
	ca->crt = crt;
	ca->key = key;
	if (certs_state_add(ca->state, &e) < 0 ||
	    write_pair(ctx, key, key_desc(ctx, o), crt, ca->key_path, ca->cert_path, o->force) < 0)
		return CERTS_EXIT_ERROR;
	/* Saves the state (the CA's own serial, CRL number 1) before the CRL. */
	if (certs_ca_write_crl(ctx, ca, CERTS_CRL_DAYS) < 0)
		return CERTS_EXIT_ERROR;
	certs_say("wrote %s", ca->state_path);
	certs_say("CA ready in %s: give clients %s to verify the server", o->dir, ca->cert_path);
	return CERTS_EXIT_OK;
}

/* The validity asked for, cut to the CA's own. */
static time_t not_after(TALLOC_CTX *ctx, const struct certs_ca *ca, time_t now, long days)
{
	time_t want = now + days * 86400, limit = gnutls_x509_crt_get_expiration_time(ca->crt);

	if (want <= limit)
		return want;
	certs_say("note: valid only until the CA expires, %s", certs_time_text(ctx, limit));
	return limit;
}

/* A DNS name for a server certificate: ASCII labels of letters, digits and hyphens (an
 * IDN in its xn-- form), the first one may be "*". */
bool certs_dns_name_ok(const char *s)
{
	size_t len = strlen(s), label = 0;

	if (len == 0 || len > 253 || s[len - 1] == '.')
		return false;
	if (strncmp(s, "*.", 2) == 0)
		s += 2;
	for (; *s; s++) {
		if (*s == '.') {
			if (label == 0 || s[-1] == '-')
				return false;
			label = 0;
		} else if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
			   (*s >= '0' && *s <= '9') || (*s == '-' && label > 0)) {
			if (++label > 63)
				return false;
		} else {
			return false;
		}
	}
	return label > 0 && s[-1] != '-';
}

/* Fills the profile's names from the operands: each an IPv4 or IPv6 address or a DNS
 * name. */
static int server_names(TALLOC_CTX *ctx, const struct certs_opts *o, struct profile *p)
{
	const char **dns = talloc_array(ctx, const char *, o->argc);
	struct ip_name *ips = talloc_array(ctx, struct ip_name, o->argc);

	if (dns == NULL || ips == NULL)
		return -ENOMEM;
	if (o->argc > MAX_NAMES) {
		certs_fail("more than %d names", MAX_NAMES);
		return -EINVAL;
	}
	for (int i = 0; i < o->argc; i++) {
		const char *a = o->argv[i];

		if (inet_pton(AF_INET, a, ips[p->n_ips].addr) == 1) {
			ips[p->n_ips++].len = 4;
		} else if (inet_pton(AF_INET6, a, ips[p->n_ips].addr) == 1) {
			ips[p->n_ips++].len = 16;
		} else if (certs_dns_name_ok(a)) {
			dns[p->n_dns++] = a;
		} else {
			certs_fail("'%s' is neither an IP address nor a DNS name (letters, digits, "
				   "'-' and '.'; an IDN in its xn-- form)",
				   a);
			return -EINVAL;
		}
	}
	p->dns = dns;
	p->ips = ips;
	if (o->cn == NULL)
		p->cn = p->n_dns > 0 ? p->dns[0] : o->argv[0];
	return 0;
}

/* A file name made from a name given on the command line. */
bool certs_file_name_ok(const char *s)
{
	size_t len = strlen(s);

	return len > 0 && len <= 64 && certs_name_ok(s, len) && strchr(s, '/') == NULL &&
	       s[0] != '.' && s[0] != '-';
}

int certs_issue_start(TALLOC_CTX *ctx, const struct certs_opts *o, const char *const *paths,
		      long default_days, struct issue *is)
{
	if (certs_ca_open(ctx, o->dir, &is->ca) < 0)
		return -1;
	if (!o->force && certs_refuse_existing(paths) < 0)
		return -1;
	if (certs_new_serial(is->ca->state, is->e.serial, &is->e.serial_len) < 0)
		return -1;
	is->e.issued = time(NULL);
	is->e.expires = not_after(ctx, is->ca, is->e.issued, o->days >= 0 ? o->days : default_days);
	return 0;
}

/* Signs, records the serial in the CA's state (before any file is written, so that the
 * state knows every certificate the CA signed) and writes key and certificate. */
int certs_issue_finish(TALLOC_CTX *ctx, const struct certs_opts *o, const struct profile *p,
		       struct issue *is, const char *key_path, const char *cert_path,
		       gnutls_x509_crt_t *crt)
{
	int ret = make_crt(ctx, p, is->key, is->ca, &is->e, crt);

	if (ret < 0) {
		certs_fail("cannot make the certificate: %s", gnutls_strerror(ret));
		return -EIO;
	}
	is->e.kind = p->kind;
	is->e.name = (char *)p->cn;
	ret = certs_state_add(is->ca->state, &is->e);
	if (ret < 0) {
		certs_fail("cannot record the certificate in %s: %s", is->ca->state_path,
			   strerror(-ret));
		return ret;
	}
	ret = certs_ca_save_state(is->ca);
	if (ret == 0)
		ret =
		    write_pair(ctx, is->key, key_desc(ctx, o), *crt, key_path, cert_path, o->force);
	return ret;
}

int certs_cmd_server(TALLOC_CTX *ctx, const struct certs_opts *o)
{
	struct profile p = {
	    .kind = CERTS_KIND_SERVER, .cn = o->cn, .purpose = GNUTLS_KP_TLS_WWW_SERVER};
	const char *base = o->out ? o->out : "server";
	struct issue is = {0};
	char *key_path, *cert_path;
	gnutls_x509_crt_t crt;

	if (!certs_file_name_ok(base)) {
		certs_fail("--out '%s': not a usable file name", base);
		return CERTS_EXIT_USAGE;
	}
	if (server_names(ctx, o, &p) < 0)
		return CERTS_EXIT_USAGE;
	if (!cn_ok(p.cn))
		return CERTS_EXIT_USAGE;
	key_path = certs_path(ctx, o->dir, talloc_asprintf(ctx, "%s-key.pem", base));
	cert_path = certs_path(ctx, o->dir, talloc_asprintf(ctx, "%s-cert.pem", base));
	if (certs_issue_start(ctx, o, (const char *const[]){key_path, cert_path, NULL}, SERVER_DAYS,
			      &is) < 0 ||
	    certs_issue_key(ctx, o, "server", &is.key) < 0 ||
	    certs_issue_finish(ctx, o, &p, &is, key_path, cert_path, &crt) < 0)
		return CERTS_EXIT_ERROR;
	certs_say("names: %s", certs_crt_names(ctx, crt));
	certs_say("in sluiced.conf: server-cert = %s", cert_path);
	certs_say("                 server-key = %s", key_path);
	certs_say("clients verify it with --cafile %s, or pin it: --servercert %s",
		  is.ca->cert_path, certs_crt_pin(ctx, crt));
	return CERTS_EXIT_OK;
}
