/* The server's private key: loaded at start-up and on each reload, kept for two
 * generations. What sec signs with it for workers is in sec_sign.c. */
#include "config.h"

#include "sec/sec.h"

#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <gnutls/pkcs11.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/tls_pin.h"
#include "ipc/main_sec.pb-c.h"

static int key_free(struct sec_key *k)
{
	gnutls_privkey_deinit(k->key);
	return 0;
}

/* The algorithm and, for ECDSA, the curve of k, read from its public half (a key in a
 * token does not export its private values). */
static int key_shape(struct sec_key *k)
{
	gnutls_pubkey_t pub;
	int ret;

	k->pk = gnutls_privkey_get_pk_algorithm(k->key, NULL);
	if (k->pk != GNUTLS_PK_ECDSA)
		return 0;
	if (gnutls_pubkey_init(&pub) < 0)
		return -ENOMEM;
	ret = gnutls_pubkey_import_privkey(pub, k->key, 0, 0);
	if (ret >= 0)
		ret = gnutls_pubkey_export_ecc_raw2(pub, &k->curve, NULL, NULL, 0);
	gnutls_pubkey_deinit(pub);
	return ret < 0 ? -EINVAL : 0;
}

/* k as sec can use it (RSA or ECDSA, its curve known), or NULL (freed, err set). */
static struct sec_key *key_check(struct sec_key *k, const char *path, char *err, size_t errlen)
{
	if (key_shape(k) < 0) {
		snprintf(err, errlen,
			 "server-key %s: cannot read its public half (a token must hold the "
			 "public key beside the private one)",
			 path);
		talloc_free(k);
		return NULL;
	}
	switch (k->pk) {
	case GNUTLS_PK_RSA:
	case GNUTLS_PK_RSA_PSS:
	case GNUTLS_PK_ECDSA:
		/* TLS 1.3's ECDSA algorithms name the curve; sec_sign_check matches it. */
		return k;
	default:
		/* Ed25519/Ed448 sign whole messages, not digests: refused by design. */
		snprintf(err, errlen, "server-key %s: only RSA and ECDSA keys are supported", path);
		talloc_free(k);
		return NULL;
	}
}

/* The PIN of a key in a token: key-pin, else the first line of pin-file. */
static int pin_callback(void *userdata, int attempt, const char *token_url,
			const char *token_label, unsigned flags, char *pin, size_t pin_max)
{
	const struct sec_ctx *sec = userdata;
	const struct sluice_config *c = sec->cfg;
	char buf[256] = "";

	/* Never the same wrong PIN twice: a token locks itself after a few. */
	if (attempt > 0 || (flags & GNUTLS_PIN_WRONG))
		return -1;
	if (c->key_pin) {
		snprintf(buf, sizeof(buf), "%s", c->key_pin);
	} else if (c->pin_file) {
		FILE *f = fopen(c->pin_file, "re");

		if (!f || !fgets(buf, sizeof(buf), f)) {
			log_err("pin-file %s: %s", c->pin_file, f ? "empty" : strerror(errno));
			if (f)
				fclose(f);
			return -1;
		}
		fclose(f);
		buf[strcspn(buf, "\r\n")] = '\0';
	} else {
		log_err("token %s asks for a PIN: set key-pin or pin-file", token_label);
		return -1;
	}
	if (strlen(buf) >= pin_max) {
		explicit_bzero(buf, sizeof(buf));
		return -1;
	}
	memcpy(pin, buf, strlen(buf) + 1);
	explicit_bzero(buf, sizeof(buf));
	return 0;
}

/* A key in a PKCS#11 token (server-key = pkcs11:...), through p11-kit's modules. */
static int token_import(struct sec_ctx *sec, struct sec_key *k, const char *url, char *err,
			size_t errlen)
{
	int ret;

	gnutls_pkcs11_set_pin_function(pin_callback, sec);
	ret = gnutls_privkey_import_url(k->key, url, 0);
	if (ret < 0) {
		snprintf(err, errlen, "server-key %s: %s", url,
			 ret == GNUTLS_E_PKCS11_PIN_ERROR ? "the token refused the PIN (key-pin, pin-file)"
							  : gnutls_strerror(ret));
		return -EINVAL;
	}
	return 0;
}

/* Loads path (a PEM file or a pkcs11: URL); on error writes why into err and returns
 * NULL. */
static struct sec_key *key_load(struct sec_ctx *sec, const char *path, char *err, size_t errlen)
{
	gnutls_datum_t pem = {NULL, 0};
	struct sec_key *k;
	int ret;

	if (strncmp(path, "pkcs11:", 7) == 0) {
		k = talloc_zero(sec, struct sec_key);
		if (!k || gnutls_privkey_init(&k->key) < 0) {
			talloc_free(k);
			snprintf(err, errlen, "server-key %s: out of memory", path);
			return NULL;
		}
		talloc_set_destructor(k, key_free);
		if (token_import(sec, k, path, err, errlen) < 0) {
			talloc_free(k);
			return NULL;
		}
		return key_check(k, path, err, errlen);
	}
	ret = gnutls_load_file(path, &pem);
	if (ret < 0) {
		/* GnuTLS says only "error while reading"; open() says why. sec reads as
		 * root without capabilities, so a file of another owner needs read
		 * permission for root's group or for others. */
		int fd = open(path, O_RDONLY | O_CLOEXEC);

		snprintf(err, errlen, "server-key %s: %s", path,
			 fd < 0 ? strerror(errno) : gnutls_strerror(ret));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	k = talloc_zero(sec, struct sec_key);
	if (!k || gnutls_privkey_init(&k->key) < 0) {
		gnutls_memset(pem.data, 0, pem.size);
		gnutls_free(pem.data);
		talloc_free(k);
		snprintf(err, errlen, "server-key %s: out of memory", path);
		return NULL;
	}
	talloc_set_destructor(k, key_free);
	ret = gnutls_privkey_import_x509_raw(k->key, &pem, GNUTLS_X509_FMT_PEM, NULL, 0);
	gnutls_memset(pem.data, 0, pem.size);
	gnutls_free(pem.data);
	if (ret < 0) {
		snprintf(err, errlen, "server-key %s: %s", path, gnutls_strerror(ret));
		talloc_free(k);
		return NULL;
	}
	return key_check(k, path, err, errlen);
}

/* server-cert from its token (server-cert = pkcs11:...), as PEM allocated on ctx; NULL
 * with err set. A certificate is a public object; one the token keeps private is read
 * after a login with the key's PIN. */
static char *token_cert(struct sec_ctx *sec, void *ctx, const char *url, size_t *len,
			char *err, size_t errlen)
{
	gnutls_x509_crt_t crt;
	gnutls_datum_t pem = {NULL, 0};
	char *out = NULL;
	int ret;

	gnutls_pkcs11_set_pin_function(pin_callback, sec);
	if (gnutls_x509_crt_init(&crt) < 0) {
		snprintf(err, errlen, "server-cert %s: out of memory", url);
		return NULL;
	}
	ret = gnutls_x509_crt_import_url(crt, url, 0);
	if (ret < 0)
		ret = gnutls_x509_crt_import_url(crt, url, GNUTLS_PKCS11_OBJ_FLAG_LOGIN);
	if (ret >= 0)
		ret = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &pem);
	gnutls_x509_crt_deinit(crt);
	if (ret >= 0 && pem.size > SEC_TOKEN_CERT_MAX) {
		snprintf(err, errlen, "server-cert %s: the certificate is over %d bytes", url,
			 SEC_TOKEN_CERT_MAX);
		gnutls_free(pem.data);
		return NULL;
	}
	if (ret < 0) {
		snprintf(err, errlen, "server-cert %s: %s", url,
			 ret == GNUTLS_E_PKCS11_PIN_ERROR ? "the token refused the PIN (key-pin, pin-file)"
							  : gnutls_strerror(ret));
		return NULL;
	}
	out = talloc_memdup(ctx, pem.data, pem.size);
	*len = pem.size;
	gnutls_free(pem.data);
	if (!out)
		snprintf(err, errlen, "server-cert %s: out of memory", url);
	return out;
}

/* Whether k is the private half of the first certificate of pem. */
static bool key_matches(const struct sec_key *k, const char *pem, size_t len)
{
	uint8_t a[TLS_PIN_LEN], b[TLS_PIN_LEN];

	return pem && tls_pin_privkey(k->key, a) == 0 && tls_pin_cert_pem(pem, len, b) == 0 &&
	       memcmp(a, b, TLS_PIN_LEN) == 0;
}

int sec_keys_check_cert(struct sec_ctx *sec, const char *cert_pem, size_t len)
{
	const struct sluice_config *c = sec->cfg;
	char err[512];

	if (config_in_token(c->server_cert)) {
		sec->token_cert = token_cert(sec, sec, c->server_cert, &sec->token_cert_len, err,
					     sizeof(err));
		if (!sec->token_cert) {
			log_err("%s", err);
			return -EINVAL;
		}
		cert_pem = sec->token_cert;
		len = sec->token_cert_len;
	}
	if (!key_matches(sec->key, cert_pem, len)) {
		log_err("server-key %s does not match server-cert %s", c->server_key,
			c->server_cert);
		return -EINVAL;
	}
	return 0;
}

int sec_keys_load(struct sec_ctx *sec)
{
	char err[512];

	if (sec_sign_policy_set(&sec->sign_policy, sec->cfg->tls_priorities, err, sizeof(err)) <
	    0) {
		log_err("%s", err);
		return -EINVAL;
	}
	sec->key = key_load(sec, sec->cfg->server_key, err, sizeof(err));
	if (!sec->key) {
		log_err("%s", err);
		return -EINVAL;
	}
	return 0;
}

struct sec_key *sec_key_for(struct sec_ctx *sec, uint32_t generation)
{
	if (sec->key->generation == generation)
		return sec->key;
	if (sec->prev_key && sec->prev_key->generation == generation)
		return sec->prev_key;
	return NULL;
}

static void set_path(struct sluice_config *cfg, char **field, const char *value)
{
	talloc_free(*field);
	*field = talloc_strdup(cfg, value);
}

/* The values sec enforces change at once; the key only if it matches the certificate
 * main will send from now on, else main keeps the old certificate. */
int sec_on_reload(void *ctx, void *msg, int *fds)
{
	struct sec_ctx *sec = ctx;
	MsReload *req = msg;
	MsReloadResult res = MS_RELOAD_RESULT__INIT;
	uint8_t pin[TLS_PIN_LEN];
	char err[512] = "";
	struct sec_key *k;
	char *cert = NULL;
	size_t cert_len = 0;

	sec->cfg->auth_tries = req->auth_tries;
	sec->cfg->cookie_timeout = req->cookie_timeout;
	sec->cfg->max_same_clients = req->max_same_clients;
	sec->cfg->max_same_clients_policy =
	    req->max_same_clients_policy == CONFIG_SAME_REPLACE_OLDEST ? CONFIG_SAME_REPLACE_OLDEST
								       : CONFIG_SAME_REFUSE;
	sec->cfg->deny_roaming = req->deny_roaming;
	sec->cfg->session_timeout = req->session_timeout;
	set_path(sec->cfg, &sec->cfg->config_per_user, req->config_per_user);
	set_path(sec->cfg, &sec->cfg->config_per_group, req->config_per_group);
	set_path(sec->cfg, &sec->cfg->default_user_config, req->default_user_config);
	set_path(sec->cfg, &sec->cfg->default_group_config, req->default_group_config);
	set_path(sec->cfg, &sec->cfg->default_select_group, req->default_select_group);
	set_path(sec->cfg, &sec->cfg->ca_cert, req->ca_cert);
	set_path(sec->cfg, &sec->cfg->crl, req->crl);
	set_path(sec->cfg, &sec->cfg->cert_user_oid, req->cert_user_oid);
	set_path(sec->cfg, &sec->cfg->cert_group_oid, req->cert_group_oid);
	set_path(sec->cfg, &sec->cfg->key_pin, req->key_pin);
	set_path(sec->cfg, &sec->cfg->pin_file, req->pin_file);
	if (sec_certs_reload(sec) < 0)
		log_err("keeping the client certificate CA and CRL of before");
	/* main checked the string before it sent it; a refusal here keeps what was. */
	if (sec_sign_policy_set(&sec->sign_policy, req->tls_priorities, err, sizeof(err)) < 0) {
		log_err("%s; keeping the signature algorithms of before", err);
		err[0] = '\0';
	}
	res.generation = req->generation;
	k = key_load(sec, req->server_key, err, sizeof(err));
	if (k && req->server_cert) {
		/* The certificate is in a token too: sec reads it and main takes it from the
		 * answer. */
		cert = token_cert(sec, sec, req->server_cert, &cert_len, err, sizeof(err));
		if (!cert) {
			talloc_free(k);
			k = NULL;
		} else if (!key_matches(k, cert, cert_len)) {
			snprintf(err, sizeof(err), "server-key %s does not match server-cert %s",
				 req->server_key, req->server_cert);
			talloc_free(k);
			k = NULL;
		} else {
			res.has_cert_pem = true;
			res.cert_pem.data = (uint8_t *)cert;
			res.cert_pem.len = cert_len;
		}
	} else if (k && (req->cert_pin.len != TLS_PIN_LEN || tls_pin_privkey(k->key, pin) < 0 ||
			 memcmp(pin, req->cert_pin.data, TLS_PIN_LEN) != 0)) {
		snprintf(err, sizeof(err), "server-key %s does not match server-cert",
			 req->server_key);
		talloc_free(k);
		k = NULL;
	}
	if (k) {
		k->generation = req->generation;
		/* Workers still holding the previous key keep it through their reference. */
		if (sec->prev_key)
			talloc_unlink(sec, sec->prev_key);
		sec->prev_key = sec->key;
		sec->key = k;
		res.ok = true;
		log_info("server key of generation %u loaded", req->generation);
	} else {
		res.reason = err;
		log_err("%s; keeping the old key", err);
	}
	sec_send_main(sec, MS_TYPE__MS_RELOAD_RESULT, &res.base);
	talloc_free(cert);
	return 0;
}
