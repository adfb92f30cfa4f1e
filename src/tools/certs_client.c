/* sluice-certs client: a user's key and certificate, and a PKCS#12 file of both with
 * the CA for the user's client to import. */
#include "config.h"

#include "tools/certs_issue.h"
#include "tools/tty_password.h"

#include <errno.h>
#include <gnutls/pkcs12.h>
#include <string.h>

#define CLIENT_DAYS      365
#define P12_MAX_PASSWORD 1024

/* user@domain: an address whose local part needs no quoting. */
static bool email_ok(const char *s)
{
	const char *at = strchr(s, '@');

	if (at == NULL || at == s || strchr(at + 1, '@') != NULL || strlen(s) > 254 ||
	    !certs_dns_name_ok(at + 1) || at[1] == '*')
		return false;
	for (; s < at; s++) {
		if (*s <= ' ' || *s >= 0x7f || strchr("()<>[]\\,;:\"", *s) != NULL)
			return false;
	}
	return true;
}

/* A PKCS#12 file of the key, its certificate and the CA's, for Cisco Secure Client,
 * NetworkManager and the keystores of the systems. The key and the certificates are
 * encrypted with AES-256 (PBES2) and the file has a SHA-256 MAC; legacy: 3DES and a
 * SHA-1 MAC, for importers that know only those (older macOS and Windows). */
static int make_p12(gnutls_x509_crt_t crt, gnutls_x509_crt_t ca_crt, gnutls_x509_privkey_t key,
		    const char *name, const char *pass, bool legacy, gnutls_datum_t *der)
{
	unsigned flags = legacy ? GNUTLS_PKCS_PKCS12_3DES : GNUTLS_PKCS_PBES2_AES_256;
	gnutls_pkcs12_t p12 = NULL;
	gnutls_pkcs12_bag_t certs = NULL, keys = NULL;
	uint8_t id_buf[64];
	size_t id_len = sizeof(id_buf);
	gnutls_datum_t id;
	int ret, i_crt, i_key = 0;

	ret = gnutls_x509_crt_get_key_id(crt, 0, id_buf, &id_len);
	id.data = id_buf;
	id.size = (unsigned)id_len;
	if (ret >= 0)
		ret = gnutls_pkcs12_init(&p12);
	if (ret >= 0)
		ret = gnutls_pkcs12_bag_init(&certs);
	if (ret >= 0)
		ret = gnutls_pkcs12_bag_init(&keys);
	/* The key ID ties the certificate to its key; the friendly name is what a
	 * keystore shows. */
	i_crt = ret >= 0 ? gnutls_pkcs12_bag_set_crt(certs, crt) : ret;
	ret = i_crt;
	if (ret >= 0)
		ret = gnutls_pkcs12_bag_set_key_id(certs, (unsigned)i_crt, &id);
	if (ret >= 0)
		ret = gnutls_pkcs12_bag_set_friendly_name(certs, (unsigned)i_crt, name);
	if (ret >= 0)
		ret = gnutls_pkcs12_bag_set_crt(certs, ca_crt);
	if (ret >= 0)
		ret = gnutls_pkcs12_bag_encrypt(certs, pass, flags);
	if (ret >= 0)
		ret = i_key = gnutls_pkcs12_bag_set_privkey(keys, key, pass, flags);
	if (ret >= 0)
		ret = gnutls_pkcs12_bag_set_key_id(keys, (unsigned)i_key, &id);
	if (ret >= 0)
		ret = gnutls_pkcs12_bag_set_friendly_name(keys, (unsigned)i_key, name);
	if (ret >= 0)
		ret = gnutls_pkcs12_set_bag(p12, certs);
	if (ret >= 0)
		ret = gnutls_pkcs12_set_bag(p12, keys);
	if (ret >= 0)
		ret = gnutls_pkcs12_generate_mac2(p12, legacy ? GNUTLS_MAC_SHA1 : GNUTLS_MAC_SHA256,
						  pass);
	if (ret >= 0)
		ret = gnutls_pkcs12_export2(p12, GNUTLS_X509_FMT_DER, der);
	if (keys != NULL)
		gnutls_pkcs12_bag_deinit(keys);
	if (certs != NULL)
		gnutls_pkcs12_bag_deinit(certs);
	if (p12 != NULL)
		gnutls_pkcs12_deinit(p12);
	return ret;
}

static int write_p12(const struct certs_opts *o, const struct issue *is, gnutls_x509_crt_t crt,
		     const char *user, const char *pass, const char *path)
{
	gnutls_datum_t der = {NULL, 0};
	int ret = make_p12(crt, is->ca->crt, is->key, user, pass, o->p12_legacy, &der);

	if (ret < 0) {
		certs_fail("cannot make the PKCS#12 file: %s", gnutls_strerror(ret));
		return -EIO;
	}
	ret = certs_write(path, der.data, der.size, 0600, !o->force);
	gnutls_free(der.data);
	if (ret == 0)
		certs_say("wrote %s (PKCS#12: key, certificate and CA, %s, mode 0600)", path,
			  o->p12_legacy ? "3DES and SHA-1 MAC" : "AES-256 and SHA-256 MAC");
	return ret;
}

int certs_cmd_client(TALLOC_CTX *ctx, const struct certs_opts *o)
{
	const char *user = o->argv[0];
	struct profile p = {.kind = CERTS_KIND_CLIENT,
			    .cn = user,
			    .uid = o->uid,
			    .email = o->email,
			    .purpose = GNUTLS_KP_TLS_WWW_CLIENT};
	static char pass[P12_MAX_PASSWORD + 1], again[P12_MAX_PASSWORD + 1];
	char *dir = certs_path(ctx, o->dir, CERTS_CLIENTS), *prompt;
	char *key_path, *cert_path, *p12_path;
	struct issue is = {0};
	gnutls_x509_crt_t crt;
	int ret;

	if (!certs_file_name_ok(user)) {
		certs_fail("user name '%s': 1 to 64 bytes of UTF-8, no '/', no control characters, "
			   "not starting with '.' or '-'",
			   user);
		return CERTS_EXIT_USAGE;
	}
	if (o->email != NULL && !email_ok(o->email)) {
		certs_fail("--email '%s': not an address of the form user@domain", o->email);
		return CERTS_EXIT_USAGE;
	}
	key_path = certs_path(ctx, dir, talloc_asprintf(ctx, "%s-key.pem", user));
	cert_path = certs_path(ctx, dir, talloc_asprintf(ctx, "%s-cert.pem", user));
	p12_path = certs_path(ctx, dir, talloc_asprintf(ctx, "%s.p12", user));
	prompt = talloc_asprintf(ctx, "Password of %s.p12: ", user);
	if (certs_issue_start(
		ctx, o,
		(const char *const[]){key_path, cert_path, o->no_p12 ? NULL : p12_path, NULL},
		CLIENT_DAYS, &is) < 0)
		return CERTS_EXIT_ERROR;
	if (!o->no_p12 &&
	    tty_password_get(CERTS_PROG, prompt, "Again: ", pass, again, sizeof(pass)) < 0) {
		explicit_bzero(pass, sizeof(pass));
		explicit_bzero(again, sizeof(again));
		return CERTS_EXIT_ERROR;
	}
	explicit_bzero(again, sizeof(again));
	ret = certs_issue_key(ctx, o, "client", &is.key);
	if (ret == 0)
		ret = certs_mkdir(dir, 0700);
	if (ret == 0)
		ret = certs_issue_finish(ctx, o, &p, &is, key_path, cert_path, &crt);
	if (ret == 0 && !o->no_p12)
		ret = write_p12(o, &is, crt, user, pass, p12_path);
	explicit_bzero(pass, sizeof(pass));
	if (ret < 0)
		return CERTS_EXIT_ERROR;
	certs_say("names: CN=%s%s%s%s", user, o->uid ? ", UID=" : "", o->uid ? user : "",
		  o->email ? talloc_asprintf(ctx, ", email:%s", o->email) : "");
	certs_say("openconnect: -c %s -k %s%s%s", cert_path, key_path, o->no_p12 ? "" : ", or -c ",
		  o->no_p12 ? "" : p12_path);
	return CERTS_EXIT_OK;
}
