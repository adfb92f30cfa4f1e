/* TLS for the worker. The certificate chain is public and comes from main; the private
 * key never enters this process: GnuTLS asks for signatures through an external-key
 * callback that relays the digest to sec (priv_tls_sign). */
#include "config.h"

#include "worker/worker.h"

#include <errno.h>
#include <poll.h>
#include <string.h>

#include "common/log.h"
#include "ipc/sec_worker.pb-c.h"

#define SIGN_TIMEOUT_MS 10000

/* Reads like a local signature; the key is in sec. */
static int priv_tls_sign(gnutls_privkey_t key, gnutls_sign_algorithm_t algo, void *userdata,
			 unsigned flags, const gnutls_datum_t *hash, gnutls_datum_t *sig)
{
	struct worker *w = userdata;
	SwSignReq req = SW_SIGN_REQ__INIT;
	SwSignReply *reply = NULL;
	TALLOC_CTX *tmp = talloc_new(NULL);
	int ret;

	req.sign_algo = algo;
	req.flags = flags;
	req.hash.data = hash->data;
	req.hash.len = hash->size;
	ret = ipc_send(w->sec_fd, SW_TYPE__SW_SIGN_REQ, &req.base, NULL, 0);
	if (ret == 0)
		ret = ipc_recv_expect(w->sec_fd, SW_TYPE__SW_SIGN_REPLY, &sw_sign_reply__descriptor,
				      WORKER_SEC_MAX_PAYLOAD, tmp, (void **)&reply, NULL, 0,
				      SIGN_TIMEOUT_MS);
	if (ret < 0 || !reply->ok || !reply->has_signature) {
		log_err("sec did not sign: %s", ret < 0 ? strerror(-ret) : "refused");
		talloc_free(tmp);
		return GNUTLS_E_PK_SIGN_FAILED;
	}
	sig->data = gnutls_malloc(reply->signature.len);
	if (!sig->data) {
		talloc_free(tmp);
		return GNUTLS_E_MEMORY_ERROR;
	}
	memcpy(sig->data, reply->signature.data, reply->signature.len);
	sig->size = reply->signature.len;
	talloc_free(tmp);
	return 0;
}

static int priv_key_info(gnutls_privkey_t key, unsigned flags, void *userdata)
{
	struct worker *w = userdata;

	if (flags & GNUTLS_PRIVKEY_INFO_PK_ALGO)
		return w->pk;
	if (flags & GNUTLS_PRIVKEY_INFO_PK_ALGO_BITS)
		return w->pk_bits;
	if (flags & GNUTLS_PRIVKEY_INFO_HAVE_SIGN_ALGO) {
		gnutls_sign_algorithm_t algo = GNUTLS_FLAGS_TO_SIGN_ALGO(flags);

		/* An RSA key signs PKCS#1 v1.5 and RSA-PSS (rsae); ECDSA only its curve's. */
		if (w->pk == GNUTLS_PK_RSA &&
		    gnutls_sign_get_pk_algorithm(algo) == GNUTLS_PK_RSA_PSS)
			return 1;
		return gnutls_sign_supports_pk_algorithm(algo, w->pk) ? 1 : 0;
	}
	return GNUTLS_E_UNKNOWN_PK_ALGORITHM;
}

int tls_init(struct worker *w)
{
	gnutls_datum_t pem = {w->init->cert_pem.data, (unsigned)w->init->cert_pem.len};
	gnutls_pcert_st *pcerts;
	unsigned n = 8;
	gnutls_privkey_t key;
	const char *errpos = NULL;
	int ret;

	pcerts = talloc_zero_array(w, gnutls_pcert_st, n);
	ret = gnutls_pcert_list_import_x509_raw(pcerts, &n, &pem, GNUTLS_X509_FMT_PEM, 0);
	if (ret < 0 || n == 0) {
		log_err("certificate chain: %s", gnutls_strerror(ret));
		return -EINVAL;
	}
	w->pk = gnutls_pubkey_get_pk_algorithm(pcerts[0].pubkey, &w->pk_bits);
	ret = gnutls_privkey_init(&key);
	if (ret >= 0)
		ret = gnutls_privkey_import_ext4(key, w, NULL, priv_tls_sign, NULL, NULL,
						 priv_key_info, 0);
	if (ret >= 0)
		ret = gnutls_certificate_allocate_credentials(&w->creds);
	if (ret >= 0)
		ret = gnutls_certificate_set_key(w->creds, NULL, 0, pcerts, n, key);
	if (ret < 0) {
		log_err("TLS credentials: %s", gnutls_strerror(ret));
		return -EINVAL;
	}
	/* Stapling: main checked that the response is for this certificate. */
	if (w->init->has_ocsp_der) {
		gnutls_datum_t resp = {w->init->ocsp_der.data, (unsigned)w->init->ocsp_der.len};

		ret = gnutls_certificate_set_ocsp_status_request_mem(w->creds, &resp, 0,
								     GNUTLS_X509_FMT_DER);
		if (ret < 0)
			log_warn("ocsp-response not stapled: %s", gnutls_strerror(ret));
	}
	/* The CAs the certificate request names; sec checks what the client sends. */
	if (w->init->has_client_ca_pem) {
		gnutls_datum_t ca = {w->init->client_ca_pem.data,
				     (unsigned)w->init->client_ca_pem.len};

		ret = gnutls_certificate_set_x509_trust_mem(w->creds, &ca, GNUTLS_X509_FMT_PEM);
		if (ret < 0) {
			log_err("ca-cert: %s", gnutls_strerror(ret));
			return -EINVAL;
		}
	}
	ret = gnutls_priority_init2(&w->prio, w->init->tls_priorities, &errpos, 0);
	if (ret < 0) {
		log_err("tls-priorities near '%s': %s", errpos ? errpos : "", gnutls_strerror(ret));
		return -EINVAL;
	}
	return 0;
}

static unsigned ms_left(struct worker *w)
{
	double left = w->auth_deadline - ev_time();

	return left > 0 ? (unsigned)(left * 1000) + 1 : 1;
}

int tls_handshake(struct worker *w)
{
	SwHandshakeDone done = SW_HANDSHAKE_DONE__INIT;
	unsigned ms;
	int ret;

	/* No session tickets: resumption would need a ticket key shared by all workers,
	 * which would then hold a secret that outlives their client. */
	ret = gnutls_init(&w->tls, GNUTLS_SERVER | GNUTLS_NO_TICKETS);
	if (ret >= 0)
		ret = gnutls_priority_set(w->tls, w->prio);
	if (ret >= 0)
		ret = gnutls_credentials_set(w->tls, GNUTLS_CRD_CERTIFICATE, w->creds);
	if (ret < 0) {
		log_err("TLS session: %s", gnutls_strerror(ret));
		return -EINVAL;
	}
	gnutls_certificate_server_set_request(
	    w->tls, w->init->has_client_ca_pem ? GNUTLS_CERT_REQUEST : GNUTLS_CERT_IGNORE);
	gnutls_transport_set_int(w->tls, w->client_fd);
	/* Short: a client that cannot finish its handshake holds a worker for nothing. */
	ms = ms_left(w);
	if (w->init->has_tls_handshake_timeout &&
	    (uint64_t)w->init->tls_handshake_timeout * 1000 < ms)
		ms = w->init->tls_handshake_timeout * 1000u;
	gnutls_handshake_set_timeout(w->tls, ms);
	do {
		ret = gnutls_handshake(w->tls);
	} while (ret < 0 && !gnutls_error_is_fatal(ret));
	if (ret < 0) {
		log_info("TLS handshake with %s failed: %s", w->init->client_ip,
			 gnutls_strerror(ret));
		return -EPROTO;
	}
	if (w->init->has_client_ca_pem) {
		unsigned n = 0;
		const gnutls_datum_t *peer = gnutls_certificate_get_peers(w->tls, &n);

		/* GnuTLS checked during the handshake that the client holds its key. */
		if (peer && n > 0 && peer[0].size <= WORKER_CERT_MAX) {
			done.has_client_cert = true;
			done.client_cert.data = peer[0].data;
			done.client_cert.len = peer[0].size;
			w->has_client_cert = true;
		} else if (peer && n > 0) {
			log_info("client certificate of %u bytes ignored (at most %u)", peer[0].size,
				 WORKER_CERT_MAX);
		}
	}
	ret = ipc_send(w->sec_fd, SW_TYPE__SW_HANDSHAKE_DONE, &done.base, NULL, 0);
	if (ret < 0)
		return ret;
	if (log_level() >= LOG_DEBUG) {
		char *desc = gnutls_session_get_desc(w->tls);

		log_debug("TLS established: %s", desc);
		gnutls_free(desc);
	}
	return 0;
}

int tls_send_all(struct worker *w, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = gnutls_record_send(w->tls, p, len);

		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
			continue;
		if (n < 0) {
			log_info("TLS send: %s", gnutls_strerror((int)n));
			return -EIO;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

ssize_t tls_recv_deadline(struct worker *w, void *buf, size_t cap)
{
	ssize_t n;

	gnutls_record_set_timeout(w->tls, ms_left(w));
	do {
		n = gnutls_record_recv(w->tls, buf, cap);
	} while (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED);
	if (n == GNUTLS_E_TIMEDOUT)
		return -ETIMEDOUT;
	if (n == GNUTLS_E_PREMATURE_TERMINATION || n == 0)
		return 0;
	if (n < 0) {
		log_info("TLS receive: %s", gnutls_strerror((int)n));
		return -EIO;
	}
	return n;
}
