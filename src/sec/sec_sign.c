/* What sec signs for a worker. The worker's GnuTLS asks through its external-key
 * callback (src/worker/tls.c), which passes on what GnuTLS hands it, with flags 0:
 *   - RSA PKCS#1 v1.5: GNUTLS_SIGN_RSA_RAW and the DigestInfo (DER) of the handshake
 *     digest; in TLS 1.0 and 1.1 the 36 bytes MD5 || SHA-1 of the handshake instead;
 *   - RSA-PSS and ECDSA: the signature algorithm itself and the bare digest.
 * A compromised worker may send anything, so sec signs only these shapes: an algorithm
 * of the key's type (and, for TLS 1.3's ECDSA, of its curve) that the configured
 * tls-priorities enable, over input of exactly the length of that algorithm's digest
 * (with the exact DigestInfo prefix for RSA PKCS#1 v1.5). sec cannot tell a handshake's
 * digest from another digest of the same hash; what this rules out is RSA over bytes
 * that are no digest at all, and hashes and algorithms no handshake of this
 * configuration uses. Signing only in the HANDSHAKE state (sec_worker.proto) and at
 * most SEC_MAX_SIGNS times bound the rest. */
#include "config.h"

#include "sec/sec.h"

#include <errno.h>
#include <gnutls/gnutls.h>
#include <string.h>

#include "common/log.h"
#include "ipc/sec_worker.pb-c.h"

_Static_assert(GNUTLS_SIGN_MAX < 64, "sec_sign_policy.algos has a bit per sign algorithm");

/* DigestInfo prefixes, DER, as RFC 8017 section 9.2 (note 1) lists them. */
static const uint8_t info_sha1[] = {0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e,
				    0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14};
static const uint8_t info_sha256[] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
				      0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20};
static const uint8_t info_sha384[] = {0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
				      0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30};
static const uint8_t info_sha512[] = {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
				      0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40};

/* Where a shape is allowed beyond the sign algorithms of tls-priorities. */
enum shape_extra {
	EXTRA_NONE,
	/* GnuTLS signs a fixed message with SHA-256 when the worker pairs the key with its
	 * certificate (gnutls_certificate_set_key), whatever the priorities say. */
	EXTRA_PAIRING,
	/* TLS 1.0 and 1.1 sign MD5 || SHA-1 (RSA) or SHA-1 (ECDSA) without negotiating it. */
	EXTRA_TLS10,
};

/* One thing sec signs. */
struct sign_shape {
	gnutls_sign_algorithm_t algo; /* what the worker asks for */
	gnutls_sign_algorithm_t tls;  /* the algorithm tls-priorities must enable; 0: none */
	gnutls_pk_algorithm_t pk;     /* the key type it needs */
	gnutls_ecc_curve_t curve;     /* TLS 1.3 ECDSA names the curve; 0: any */
	size_t len;                   /* input length: prefix and digest */
	const uint8_t *prefix;        /* RSA PKCS#1 v1.5: DigestInfo before the digest */
	size_t prefix_len;
	enum shape_extra extra;
};

/* clang-format off */
/* RSA PKCS#1 v1.5 in TLS 1.2: the DigestInfo of a digest of dlen bytes. */
#define PKCS1(tls, info, dlen, extra) \
	{GNUTLS_SIGN_RSA_RAW, (tls), GNUTLS_PK_RSA, 0, sizeof(info) + (dlen), (info), \
	 sizeof(info), (extra)}
/* The bare digest, for an algorithm of any curve. */
#define DIGEST(algo, pk, len, extra) {(algo), (algo), (pk), 0, (len), NULL, 0, (extra)}
/* TLS 1.3's ECDSA: the bare digest, for a key on curve. */
#define CURVE(algo, curve, len) \
	{(algo), (algo), GNUTLS_PK_ECDSA, (curve), (len), NULL, 0, EXTRA_NONE}

/* Everything sec can ever sign; anything else is refused. No SHA-224, SHA-3, DSA or
 * EdDSA: GnuTLS's TLS never asks an RSA or ECDSA key for them, and key_load refuses
 * other key types. */
static const struct sign_shape shapes[] = {
    /* RSA PKCS#1 v1.5: TLS 1.2, then TLS 1.0/1.1's MD5 || SHA-1 */
    PKCS1(GNUTLS_SIGN_RSA_SHA256, info_sha256, 32, EXTRA_PAIRING),
    PKCS1(GNUTLS_SIGN_RSA_SHA384, info_sha384, 48, EXTRA_NONE),
    PKCS1(GNUTLS_SIGN_RSA_SHA512, info_sha512, 64, EXTRA_NONE),
    PKCS1(GNUTLS_SIGN_RSA_SHA1, info_sha1, 20, EXTRA_NONE),
    {GNUTLS_SIGN_RSA_RAW, 0, GNUTLS_PK_RSA, 0, 36, NULL, 0, EXTRA_TLS10},
    /* RSA-PSS with an rsaEncryption key: TLS 1.3, and TLS 1.2 when negotiated */
    DIGEST(GNUTLS_SIGN_RSA_PSS_RSAE_SHA256, GNUTLS_PK_RSA, 32, EXTRA_NONE),
    DIGEST(GNUTLS_SIGN_RSA_PSS_RSAE_SHA384, GNUTLS_PK_RSA, 48, EXTRA_NONE),
    DIGEST(GNUTLS_SIGN_RSA_PSS_RSAE_SHA512, GNUTLS_PK_RSA, 64, EXTRA_NONE),
    /* RSA-PSS with an RSASSA-PSS key */
    DIGEST(GNUTLS_SIGN_RSA_PSS_SHA256, GNUTLS_PK_RSA_PSS, 32, EXTRA_PAIRING),
    DIGEST(GNUTLS_SIGN_RSA_PSS_SHA384, GNUTLS_PK_RSA_PSS, 48, EXTRA_NONE),
    DIGEST(GNUTLS_SIGN_RSA_PSS_SHA512, GNUTLS_PK_RSA_PSS, 64, EXTRA_NONE),
    /* ECDSA in TLS 1.2 (any curve) and, with SHA-1, TLS 1.0/1.1 */
    DIGEST(GNUTLS_SIGN_ECDSA_SHA256, GNUTLS_PK_ECDSA, 32, EXTRA_PAIRING),
    DIGEST(GNUTLS_SIGN_ECDSA_SHA384, GNUTLS_PK_ECDSA, 48, EXTRA_NONE),
    DIGEST(GNUTLS_SIGN_ECDSA_SHA512, GNUTLS_PK_ECDSA, 64, EXTRA_NONE),
    DIGEST(GNUTLS_SIGN_ECDSA_SHA1, GNUTLS_PK_ECDSA, 20, EXTRA_TLS10),
    /* ECDSA in TLS 1.3: the curve is part of the algorithm */
    CURVE(GNUTLS_SIGN_ECDSA_SECP256R1_SHA256, GNUTLS_ECC_CURVE_SECP256R1, 32),
    CURVE(GNUTLS_SIGN_ECDSA_SECP384R1_SHA384, GNUTLS_ECC_CURVE_SECP384R1, 48),
    CURVE(GNUTLS_SIGN_ECDSA_SECP521R1_SHA512, GNUTLS_ECC_CURVE_SECP521R1, 64),
};
/* clang-format on */

int sec_sign_policy_set(struct sec_sign_policy *p, const char *priorities, char *err, size_t errlen)
{
	struct sec_sign_policy next = {0};
	gnutls_priority_t prio;
	const unsigned int *list;
	const char *pos = NULL;
	int n, ret;

	ret = gnutls_priority_init2(&prio, priorities, &pos, 0);
	if (ret < 0) {
		snprintf(err, errlen, "tls-priorities near '%s': %s", pos ? pos : "",
			 gnutls_strerror(ret));
		return -EINVAL;
	}
	n = gnutls_priority_sign_list(prio, &list);
	for (int i = 0; i < n; i++)
		if (list[i] < 64)
			next.algos |= 1ull << list[i];
	/* DTLS 1.0 does not count: sluice's DTLS is PSK or a resumed legacy session, neither
	 * of which signs anything. */
	n = gnutls_priority_protocol_list(prio, &list);
	for (int i = 0; i < n; i++)
		if (list[i] == GNUTLS_TLS1_0 || list[i] == GNUTLS_TLS1_1)
			next.tls10 = true;
	gnutls_priority_deinit(prio);
	*p = next;
	return 0;
}

static bool shape_enabled(const struct sec_sign_policy *p, const struct sign_shape *s)
{
	if (s->tls && (p->algos & (1ull << s->tls)))
		return true;
	return s->extra == EXTRA_PAIRING || (s->extra == EXTRA_TLS10 && p->tls10);
}

const char *sec_sign_check(const struct sec_sign_policy *p, const struct sec_key *k, unsigned algo,
			   unsigned flags, const uint8_t *data, size_t len)
{
	const char *why = "not a signature algorithm sec signs with";

	if (flags != 0)
		return "flags set";
	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		const struct sign_shape *s = &shapes[i];

		if (s->algo != algo)
			continue;
		if (s->pk != k->pk) {
			why = "the algorithm does not fit the key";
			continue;
		}
		if (s->curve && s->curve != k->curve) {
			why = "the algorithm names another curve than the key's";
			continue;
		}
		if (s->len != len || (s->prefix && memcmp(data, s->prefix, s->prefix_len) != 0)) {
			why = "not a digest (or DigestInfo) of the algorithm's hash";
			continue;
		}
		if (!shape_enabled(p, s)) {
			why = "tls-priorities do not enable it";
			continue;
		}
		return NULL;
	}
	return why;
}

int sec_on_sign_req(void *ctx, void *msg, int *fds)
{
	struct sec_worker *w = ctx;
	SwSignReq *req = msg;
	SwSignReply reply = SW_SIGN_REPLY__INIT;
	gnutls_datum_t hash = {req->hash.data, (unsigned)req->hash.len};
	gnutls_datum_t sig = {NULL, 0};
	const char *why, *name;
	char num[32];
	int ret;

	if (++w->signs > SEC_MAX_SIGNS) {
		log_warn("worker %u asked for %u signatures in one handshake", w->pid, w->signs);
		return -EPERM;
	}
	why = sec_sign_check(&w->sec->sign_policy, w->key, req->sign_algo, req->flags,
			     req->hash.data, req->hash.len);
	if (why) {
		/* A real worker's GnuTLS never asks for this: the worker broke the contract
		 * and loses its channel. */
		name = gnutls_sign_get_name(req->sign_algo);
		if (!name) {
			snprintf(num, sizeof(num), "algorithm %u", req->sign_algo);
			name = num;
		}
		log_warn("worker %u: refused to sign %zu bytes with %s (flags %#x): %s", w->pid,
			 req->hash.len, name, req->flags, why);
		return -EPERM;
	}
	ret = gnutls_privkey_sign_hash2(w->key->key, req->sign_algo, 0, &hash, &sig);
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
