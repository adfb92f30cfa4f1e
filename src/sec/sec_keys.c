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
#include "ipc/sec_worker.pb-c.h"

int sec_keys_load(struct sec_ctx *sec)
{
	gnutls_datum_t pem = {NULL, 0};
	int ret;

	ret = gnutls_load_file(sec->cfg->server_key, &pem);
	if (ret < 0) {
		log_err("server-key %s: %s", sec->cfg->server_key, gnutls_strerror(ret));
		return -EIO;
	}
	ret = gnutls_privkey_init(&sec->key);
	if (ret >= 0)
		ret = gnutls_privkey_import_x509_raw(sec->key, &pem, GNUTLS_X509_FMT_PEM, NULL, 0);
	gnutls_memset(pem.data, 0, pem.size);
	gnutls_free(pem.data);
	if (ret < 0) {
		log_err("server-key %s: %s", sec->cfg->server_key, gnutls_strerror(ret));
		return -EINVAL;
	}
	switch (gnutls_privkey_get_pk_algorithm(sec->key, NULL)) {
	case GNUTLS_PK_RSA:
	case GNUTLS_PK_RSA_PSS:
	case GNUTLS_PK_ECDSA:
		return 0;
	default:
		/* Ed25519/Ed448 sign whole messages, not digests: refused by design. */
		log_err("server-key %s: only RSA and ECDSA keys are supported",
			sec->cfg->server_key);
		return -ENOTSUP;
	}
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
	gnutls_pk_algorithm_t pk = gnutls_privkey_get_pk_algorithm(w->sec->key, NULL);
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
	    gnutls_privkey_sign_hash2(w->sec->key, pkcs1 ? 0 : req->sign_algo, flags, &hash, &sig);
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
