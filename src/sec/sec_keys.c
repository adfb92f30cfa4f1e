/* The server's private key. Workers do TLS with an external-key callback that sends
 * the handshake digest here; sec signs only what has the shape of a handshake
 * signature, only during that worker's handshake, and only a few times, so a
 * compromised worker cannot use sec as a general signing oracle. */
#include "config.h"

#include "sec/sec.h"

#include <errno.h>
#include <gnutls/gnutls.h>
#include <string.h>

#include "common/log.h"
#include "common/tls_pin.h"
#include "ipc/main_sec.pb-c.h"
#include "ipc/sec_worker.pb-c.h"

static int key_free(struct sec_key *k)
{
	gnutls_privkey_deinit(k->key);
	return 0;
}

/* Loads path; on error writes why into err and returns NULL. */
static struct sec_key *key_load(TALLOC_CTX *ctx, const char *path, char *err, size_t errlen)
{
	gnutls_datum_t pem = {NULL, 0};
	struct sec_key *k;
	int ret;

	ret = gnutls_load_file(path, &pem);
	if (ret < 0) {
		snprintf(err, errlen, "server-key %s: %s", path, gnutls_strerror(ret));
		return NULL;
	}
	k = talloc_zero(ctx, struct sec_key);
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
	switch (gnutls_privkey_get_pk_algorithm(k->key, NULL)) {
	case GNUTLS_PK_RSA:
	case GNUTLS_PK_RSA_PSS:
	case GNUTLS_PK_ECDSA:
		return k;
	default:
		/* Ed25519/Ed448 sign whole messages, not digests: refused by design. */
		snprintf(err, errlen, "server-key %s: only RSA and ECDSA keys are supported", path);
		talloc_free(k);
		return NULL;
	}
}

int sec_keys_load(struct sec_ctx *sec)
{
	char err[512];

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

	sec->cfg->auth_tries = req->auth_tries;
	sec->cfg->cookie_timeout = req->cookie_timeout;
	sec->cfg->max_same_clients = req->max_same_clients;
	sec->cfg->deny_roaming = req->deny_roaming;
	sec->cfg->session_timeout = req->session_timeout;
	set_path(sec->cfg, &sec->cfg->config_per_user, req->config_per_user);
	set_path(sec->cfg, &sec->cfg->config_per_group, req->config_per_group);
	set_path(sec->cfg, &sec->cfg->default_user_config, req->default_user_config);
	set_path(sec->cfg, &sec->cfg->default_group_config, req->default_group_config);
	set_path(sec->cfg, &sec->cfg->default_select_group, req->default_select_group);
	res.generation = req->generation;
	k = key_load(sec, req->server_key, err, sizeof(err));
	if (k && (req->cert_pin.len != TLS_PIN_LEN || tls_pin_privkey(k->key, pin) < 0 ||
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
	return 0;
}

/* Digest sizes a TLS handshake signs; for RSA PKCS#1 v1.5 GnuTLS hands over the
 * DigestInfo encoding (19 bytes of prefix for SHA-2, 15 for SHA-1). */
static bool digest_size_ok(size_t len, bool digest_info)
{
	static const size_t plain[] = {20, 28, 32, 48, 64};
	static const size_t info[] = {35, 47, 51, 67, 83};
	const size_t *set = digest_info ? info : plain;

	for (size_t i = 0; i < 5; i++)
		if (set[i] == len)
			return true;
	return false;
}

int sec_on_sign_req(void *ctx, void *msg, int *fds)
{
	struct sec_worker *w = ctx;
	SwSignReq *req = msg;
	SwSignReply reply = SW_SIGN_REPLY__INIT;
	gnutls_datum_t hash = {req->hash.data, (unsigned)req->hash.len};
	gnutls_datum_t sig = {NULL, 0};
	gnutls_pk_algorithm_t pk = gnutls_privkey_get_pk_algorithm(w->key->key, NULL);
	unsigned flags = 0;
	bool pss = req->flags & GNUTLS_PRIVKEY_SIGN_FLAG_RSA_PSS;
	bool pkcs1 = (pk == GNUTLS_PK_RSA) && !pss;
	int ret;

	if (++w->signs > SEC_MAX_SIGNS) {
		log_warn("worker %u asked for %u signatures in one handshake", w->pid, w->signs);
		return -EPERM;
	}
	if (req->flags & ~(unsigned)GNUTLS_PRIVKEY_SIGN_FLAG_RSA_PSS ||
	    !digest_size_ok(req->hash.len, pkcs1)) {
		log_warn("worker %u: refused to sign %zu bytes (flags %#x)", w->pid, req->hash.len,
			 req->flags);
		return -EPERM;
	}
	if (pkcs1)
		flags = GNUTLS_PRIVKEY_SIGN_FLAG_TLS1_RSA;
	else if (pss)
		flags = GNUTLS_PRIVKEY_SIGN_FLAG_RSA_PSS;
	ret =
	    gnutls_privkey_sign_hash2(w->key->key, pkcs1 ? 0 : req->sign_algo, flags, &hash, &sig);
	if (ret < 0) {
		log_warn("worker %u: signing failed: %s", w->pid, gnutls_strerror(ret));
		reply.ok = false;
	} else {
		reply.ok = true;
		reply.has_signature = true;
		reply.signature.data = sig.data;
		reply.signature.len = sig.size;
	}
	ret = ipc_send(w->ch.fd, SW_TYPE__SW_SIGN_REPLY, &reply.base, NULL, 0);
	gnutls_free(sig.data);
	return ret;
}
