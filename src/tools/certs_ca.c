/* The CA directory of sluice-certs: its lock, the CA's certificate, key and state, new
 * serial numbers and the CRL. */
#include "config.h"

#include "tools/certs.h"
#include "tools/tool_file.h"

#include <errno.h>
#include <gnutls/crypto.h>
#include <string.h>
#include <sys/stat.h>

struct certs_ca *certs_ca_paths(TALLOC_CTX *ctx, const char *dir)
{
	struct certs_ca *ca = talloc_zero(ctx, struct certs_ca);

	if (ca == NULL)
		return NULL;
	ca->dir = talloc_strdup(ca, dir);
	ca->cert_path = certs_path(ca, dir, CERTS_CA_CERT);
	ca->key_path = certs_path(ca, dir, CERTS_CA_KEY);
	ca->state_path = certs_path(ca, dir, CERTS_CA_STATE);
	ca->crl_path = certs_path(ca, dir, CERTS_CRL);
	if (ca->dir == NULL || ca->cert_path == NULL || ca->key_path == NULL ||
	    ca->state_path == NULL || ca->crl_path == NULL) {
		talloc_free(ca);
		return NULL;
	}
	return ca;
}

int certs_ca_lock(const struct certs_ca *ca)
{
	char *lock = certs_path(NULL, ca->dir, CERTS_CA_LOCK);
	int ret = lock ? tool_lock(CERTS_PROG, lock) : -ENOMEM;

	talloc_free(lock);
	return ret < 0 ? ret : 0;
}

static int no_ca(const struct certs_ca *ca, const char *why)
{
	certs_fail("no CA in %s (%s); make one with: " CERTS_PROG " --dir %s init-ca", ca->dir, why,
		   ca->dir);
	return -ENOENT;
}

int certs_ca_read_state(struct certs_ca *ca)
{
	gnutls_datum_t d;
	char err[512];
	struct stat st;
	int ret;

	if (stat(ca->state_path, &st) < 0 && errno == ENOENT)
		return no_ca(ca, talloc_asprintf(ca, "%s: %s", ca->state_path, strerror(errno)));
	ret = certs_read_file(ca, ca->state_path, CERTS_STATE_MAX_FILE, &d);
	if (ret < 0)
		return ret;
	ret = certs_state_parse(ca, ca->state_path, (const char *)d.data, d.size, &ca->state, err,
				sizeof(err));
	talloc_free(d.data);
	if (ret < 0)
		certs_fail("%s", err);
	return ret;
}

int certs_ca_open(TALLOC_CTX *ctx, const char *dir, struct certs_ca **out)
{
	struct certs_ca *ca = certs_ca_paths(ctx, dir);
	gnutls_x509_crt_t *crts;
	unsigned n, critical = 0, is_ca;
	struct stat st;
	char *cert_pin, *key_pin;
	time_t expires;
	int ret;

	if (ca == NULL)
		return -ENOMEM;
	if (stat(dir, &st) < 0)
		return no_ca(ca, strerror(errno));
	if (stat(ca->key_path, &st) < 0)
		return no_ca(ca, talloc_asprintf(ca, "%s: %s", ca->key_path, strerror(errno)));
	ret = certs_ca_lock(ca);
	if (ret == 0)
		ret = certs_ca_read_state(ca);
	if (ret == 0)
		ret = certs_load_crts(ca, ca->cert_path, &crts, &n);
	if (ret == 0)
		ret = certs_load_privkey(ca, ca->key_path, &ca->key);
	if (ret < 0)
		return ret;
	ca->crt = crts[0];
	cert_pin = certs_crt_pin(ca, ca->crt);
	key_pin = certs_privkey_pin(ca, ca->key);
	if (cert_pin == NULL || key_pin == NULL || strcmp(cert_pin, key_pin) != 0) {
		certs_fail("%s does not belong to %s (the public keys differ)", ca->key_path,
			   ca->cert_path);
		return -EINVAL;
	}
	is_ca = gnutls_x509_crt_get_basic_constraints(ca->crt, &critical, NULL, NULL) == 1;
	if (!is_ca) {
		certs_fail("%s is not a CA certificate", ca->cert_path);
		return -EINVAL;
	}
	expires = gnutls_x509_crt_get_expiration_time(ca->crt);
	if (expires <= time(NULL)) {
		certs_fail("the CA certificate %s expired on %s; a new CA (init-ca --force) must "
			   "sign new certificates",
			   ca->cert_path, certs_time_text(ca, expires));
		return -EINVAL;
	}
	*out = ca;
	return 0;
}

int certs_ca_save_state(struct certs_ca *ca)
{
	size_t len;
	char *text = certs_state_format(ca, ca->state, &len);
	int ret;

	if (text == NULL)
		return -ENOMEM;
	ret = certs_write(ca->state_path, text, len, 0600, false);
	talloc_free(text);
	return ret;
}

int certs_new_serial(const struct certs_state *st, uint8_t serial[CERTS_SERIAL_MAX], size_t *len)
{
	/* 127 random bits: positive, and its first byte is never 0, so that the DER
	 * INTEGER is these 16 bytes as they are. */
	for (int tries = 0; tries < 8; tries++) {
		if (gnutls_rnd(GNUTLS_RND_RANDOM, serial, 16) < 0)
			break;
		serial[0] = (uint8_t)((serial[0] & 0x7f) | 0x40);
		*len = 16;
		if (st == NULL || certs_state_find(st, serial, *len) == NULL)
			return 0;
	}
	certs_fail("cannot draw a new serial number");
	return -EIO;
}

/* The CRL number as a positive DER INTEGER's bytes. */
static size_t number_bytes(uint64_t v, uint8_t out[9])
{
	uint8_t tmp[9];
	size_t n = 0;

	do {
		tmp[n++] = (uint8_t)(v & 0xff);
		v >>= 8;
	} while (v != 0);
	if (tmp[n - 1] & 0x80)
		tmp[n++] = 0;
	for (size_t i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	return n;
}

static int make_crl(struct certs_ca *ca, long days, time_t now, gnutls_datum_t *pem)
{
	gnutls_x509_crl_t crl;
	uint8_t ski[64], num[9];
	size_t ski_len = sizeof(ski), num_len;
	unsigned critical;
	int ret;

	ret = gnutls_x509_crl_init(&crl);
	if (ret < 0)
		return ret;
	ret = gnutls_x509_crl_set_version(crl, 2);
	if (ret >= 0)
		ret = gnutls_x509_crl_set_this_update(crl, now);
	if (ret >= 0)
		ret = gnutls_x509_crl_set_next_update(crl, now + days * 86400);
	for (size_t i = 0; ret >= 0 && i < ca->state->n; i++) {
		const struct certs_entry *e = &ca->state->entries[i];

		if (e->revoked)
			ret = gnutls_x509_crl_set_crt_serial(crl, e->serial, e->serial_len,
							     e->revoked_at);
	}
	if (ret >= 0 && gnutls_x509_crt_get_subject_key_id(ca->crt, ski, &ski_len, &critical) >= 0)
		ret = gnutls_x509_crl_set_authority_key_id(crl, ski, ski_len);
	num_len = number_bytes(ca->state->crl_number, num);
	if (ret >= 0)
		ret = gnutls_x509_crl_set_number(crl, num, num_len);
	if (ret >= 0)
		ret = gnutls_x509_crl_sign2(crl, ca->crt, ca->key, GNUTLS_DIG_SHA256, 0);
	if (ret >= 0)
		ret = gnutls_x509_crl_export2(crl, GNUTLS_X509_FMT_PEM, pem);
	gnutls_x509_crl_deinit(crl);
	return ret;
}

int certs_ca_write_crl(TALLOC_CTX *ctx, struct certs_ca *ca, long days)
{
	gnutls_datum_t pem = {NULL, 0};
	time_t now = time(NULL);
	size_t revoked = 0;
	int ret;

	if (ca->state->crl_number == UINT64_MAX) {
		certs_fail("%s: the CRL number cannot grow any further", ca->state_path);
		return -EOVERFLOW;
	}
	ca->state->crl_number++;
	ret = certs_ca_save_state(ca);
	if (ret < 0)
		return ret;
	ret = make_crl(ca, days, now, &pem);
	if (ret < 0) {
		certs_fail("cannot make the CRL: %s", gnutls_strerror(ret));
		return -EIO;
	}
	ret = certs_write(ca->crl_path, pem.data, pem.size, 0644, false);
	gnutls_free(pem.data);
	if (ret < 0)
		return ret;
	for (size_t i = 0; i < ca->state->n; i++)
		revoked += ca->state->entries[i].revoked;
	certs_say("wrote %s (CRL number %llu, %zu revoked, next update %s)", ca->crl_path,
		  (unsigned long long)ca->state->crl_number, revoked,
		  certs_time_text(ctx, now + days * 86400));
	return 0;
}
