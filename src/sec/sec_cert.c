/* Client certificates: sec's own check of what a worker says its client presented. The
 * worker's handshake proved that the client holds the certificate's key; everything
 * else (the CA's signature, validity, revocation, the names) is decided here, from
 * ca-cert and crl as sec read them. */
#include "config.h"

#include "sec/sec.h"

#include <errno.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>
#include <string.h>

#include "common/log.h"
#include "common/text.h"

/* Longest user or group name taken from a certificate. */
#define CERT_NAME_MAX 128

static int trust_destructor(struct sec_cert_trust *t)
{
	if (t->list)
		gnutls_x509_trust_list_deinit(t->list, 1);
	return 0;
}

int sec_certs_load(struct sec_ctx *sec, const char *ca_file, const char *crl_file, char *err,
		   size_t errlen)
{
	struct sec_cert_trust *t;
	int ret;

	if (!ca_file) {
		talloc_free(sec->trust);
		sec->trust = NULL;
		return 0;
	}
	t = talloc_zero(sec, struct sec_cert_trust);
	if (!t)
		return -ENOMEM;
	talloc_set_destructor(t, trust_destructor);
	ret = gnutls_x509_trust_list_init(&t->list, 0);
	if (ret < 0) {
		talloc_free(t);
		return -ENOMEM;
	}
	ret = gnutls_x509_trust_list_add_trust_file(t->list, ca_file, crl_file,
						    GNUTLS_X509_FMT_PEM, 0, 0);
	if (ret <= 0) {
		snprintf(err, errlen, "ca-cert %s%s%s: %s", ca_file, crl_file ? " or crl " : "",
			 crl_file ? crl_file : "",
			 ret == 0 ? "no CA certificate in it" : gnutls_strerror(ret));
		talloc_free(t);
		return -EINVAL;
	}
	talloc_free(sec->trust);
	sec->trust = t;
	return 0;
}

int sec_certs_reload(struct sec_ctx *sec)
{
	const struct sluice_config *c = sec->cfg;
	char err[512] = "";
	int ret;

	if (!((c->auth_required | c->auth_alternatives) & CONFIG_AUTH_CERT))
		return 0;
	ret = sec_certs_load(sec, c->ca_cert, c->crl, err, sizeof(err));
	if (ret < 0)
		log_err("%s", err[0] ? err : strerror(-ret));
	else
		log_info("client certificates: CA %s%s%s", c->ca_cert, c->crl ? ", CRL " : "",
			 c->crl ? c->crl : "");
	return ret;
}

/* Why the chain of crt does not verify, from GnuTLS's status bits. */
static const char *verify_reason(unsigned status)
{
	if (status & GNUTLS_CERT_REVOKED)
		return "certificate revoked";
	if (status & GNUTLS_CERT_EXPIRED)
		return "certificate expired";
	if (status & GNUTLS_CERT_NOT_ACTIVATED)
		return "certificate not yet valid";
	if (status & (GNUTLS_CERT_SIGNER_NOT_FOUND | GNUTLS_CERT_SIGNER_NOT_CA))
		return "certificate not signed by ca-cert";
	if (status & GNUTLS_CERT_SIGNATURE_FAILURE)
		return "certificate signature invalid";
	if (status & GNUTLS_CERT_INSECURE_ALGORITHM)
		return "certificate uses an insecure algorithm";
	return "certificate not valid";
}

/* The first subject alternative name of type in crt, or the DN field oid. */
static int cert_field(TALLOC_CTX *ctx, gnutls_x509_crt_t crt, const char *where, char **out)
{
	char buf[CERT_NAME_MAX + 1];
	size_t len = sizeof(buf);
	int ret;

	*out = NULL;
	if (strncmp(where, "SAN(", 4) == 0) {
		gnutls_x509_subject_alt_name_t want = strcmp(where, "SAN(rfc822name)") == 0
							  ? GNUTLS_SAN_RFC822NAME
						      : strcmp(where, "SAN(dnsname)") == 0
							  ? GNUTLS_SAN_DNSNAME
							  : GNUTLS_SAN_URI;

		for (unsigned i = 0;; i++) {
			unsigned critical;

			len = sizeof(buf);
			ret = gnutls_x509_crt_get_subject_alt_name(crt, i, buf, &len, &critical);
			if (ret < 0)
				return -ENOENT;
			if (ret == (int)want)
				break;
		}
	} else {
		ret = gnutls_x509_crt_get_dn_by_oid(crt, where, 0, 0, buf, &len);
		if (ret < 0)
			return -ENOENT;
	}
	if (len == 0 || len > CERT_NAME_MAX || memchr(buf, '\0', len))
		return -EINVAL;
	*out = talloc_strndup(ctx, buf, len);
	if (!*out)
		return -ENOMEM;
	text_make_utf8(*out);
	return 0;
}

const char *sec_cert_check(struct sec_ctx *sec, TALLOC_CTX *ctx, const uint8_t *der, size_t len,
			   struct sec_cert_id *id)
{
	const struct sluice_config *c = sec->cfg;
	gnutls_datum_t d = {(unsigned char *)der, (unsigned)len};
	gnutls_x509_crt_t crt = NULL;
	unsigned status = 0;
	const char *why = NULL;
	size_t dnlen;

	memset(id, 0, sizeof(*id));
	if (!sec->trust)
		return "certificate authentication is off";
	if (len == 0 || len > SEC_CERT_MAX)
		return "certificate too large";
	if (gnutls_x509_crt_init(&crt) < 0)
		return "out of memory";
	if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER) < 0) {
		why = "malformed certificate";
		goto out;
	}
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, der, len, id->sha256) < 0) {
		why = "out of memory";
		goto out;
	}
	dnlen = sizeof(id->subject);
	if (gnutls_x509_crt_get_dn(crt, id->subject, &dnlen) < 0)
		snprintf(id->subject, sizeof(id->subject), "(no subject)");
	text_make_utf8(id->subject);
	/* The leaf alone: a chain would have to end in ca-cert anyway, which the trust
	 * list holds; intermediates are not supported. */
	if (gnutls_x509_trust_list_verify_crt2(sec->trust->list, &crt, 1, NULL, 0, 0, &status,
					       NULL) < 0 ||
	    status) {
		why = verify_reason(status);
		goto out;
	}
	/* Without an extended key usage any purpose is allowed. */
	if (!gnutls_x509_crt_check_key_purpose(crt, GNUTLS_KP_TLS_WWW_CLIENT, 0)) {
		why = "certificate not for TLS clients (extended key usage)";
		goto out;
	}
	if (cert_field(ctx, crt, c->cert_user_oid, &id->user) < 0) {
		why = "no user name in the certificate's cert-user-oid field";
		goto out;
	}
	if (c->cert_group_oid && cert_field(ctx, crt, c->cert_group_oid, &id->group) < 0) {
		why = "no group in the certificate's cert-group-oid field";
		goto out;
	}
	id->ok = true;
out:
	gnutls_x509_crt_deinit(crt);
	return why;
}
