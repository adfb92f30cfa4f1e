/* sec's security decisions, driven through its real handlers and route table: what it
 * signs (the shapes of a TLS handshake signature for the key's type and the configured
 * tls-priorities, handshake state only, bounded count), how it counts password tries,
 * and how cookies, max-same-clients and logouts behave. */
#include "config.h"
#include "sec/sec.h"
#include "sec/dae_packet.h"

#include <check.h>
#include <crypt.h>
#include <errno.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/passwd.h"
#include "common/tls_pin.h"
#include "ipc/main_sec.pb-c.h"
#include "ipc/sec_auth.pb-c.h"
#include "ipc/sec_worker.pb-c.h"

#include "check_main.h"

/* The default of tls-priorities: TLS 1.2 and 1.3. */
#define PRIO_DEFAULT "NORMAL:%SERVER_PRECEDENCE:%COMPAT:-VERS-SSL3.0:-VERS-TLS1.0:-VERS-TLS1.1"

static char dir[] = "/tmp/sluice-test-sec.XXXXXX";
static struct sec_ctx *sec;
static int main_peer; /* what sec sends to main arrives here */
/* plain auth hashes in an auth helper: the test plays the launcher (one helper's channel
 * waits for sec's SA_SPAWN) and that helper. */
static int launcher_peer, helper_peer;
static gnutls_pubkey_t pubkey;

/* Keys of every type sec loads, generated once before the tests fork. */
enum test_key { KEY_RSA, KEY_RSA_PSS, KEY_P256, KEY_P384, KEY_N };
static const struct {
	const char *file;
	gnutls_pk_algorithm_t pk;
	unsigned bits;
} key_types[KEY_N] = {
    [KEY_RSA] = {"rsa.pem", GNUTLS_PK_RSA, 2048},
    [KEY_RSA_PSS] = {"rsa-pss.pem", GNUTLS_PK_RSA_PSS, 2048},
    [KEY_P256] = {"p256.pem", GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1)},
    [KEY_P384] = {"p384.pem", GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP384R1)},
};
static gnutls_datum_t key_pem[KEY_N];

static void make_keys(void)
{
	for (int i = 0; i < KEY_N; i++) {
		gnutls_x509_privkey_t xkey;

		/* PKCS#8: the PKCS#1 form cannot say that a key is RSASSA-PSS only. */
		if (gnutls_x509_privkey_init(&xkey) < 0 ||
		    gnutls_x509_privkey_generate(xkey, key_types[i].pk, key_types[i].bits, 0) < 0 ||
		    gnutls_x509_privkey_export2_pkcs8(xkey, GNUTLS_X509_FMT_PEM, NULL,
						      GNUTLS_PKCS_PLAIN, &key_pem[i]) < 0) {
			fprintf(stderr, "cannot generate the %s test key\n", key_types[i].file);
			exit(EXIT_FAILURE);
		}
		gnutls_x509_privkey_deinit(xkey);
	}
}

static void write_file(const char *name, const void *data, size_t len)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void setup(void)
{
	gnutls_x509_privkey_t xkey;
	gnutls_privkey_t pkey;
	gnutls_datum_t pem;
	struct crypt_data cd = {0};
	char salt[CRYPT_GENSALT_OUTPUT_SIZE], line[1024], path[256];
	int sp[2];

	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_ge(gnutls_x509_privkey_init(&xkey), 0);
	ck_assert_int_ge(
	    gnutls_x509_privkey_generate(xkey, GNUTLS_PK_ECDSA,
					 GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0),
	    0);
	ck_assert_int_ge(gnutls_x509_privkey_export2(xkey, GNUTLS_X509_FMT_PEM, &pem), 0);
	write_file("key.pem", pem.data, pem.size);
	gnutls_free(pem.data);
	gnutls_privkey_init(&pkey);
	gnutls_privkey_import_x509(pkey, xkey, GNUTLS_PRIVKEY_IMPORT_COPY);
	gnutls_pubkey_init(&pubkey);
	ck_assert_int_ge(gnutls_pubkey_import_privkey(pubkey, pkey, 0, 0), 0);
	gnutls_privkey_deinit(pkey);
	gnutls_x509_privkey_deinit(xkey);

	ck_assert_ptr_nonnull(crypt_gensalt_rn("$y$", 0, NULL, 0, salt, sizeof(salt)));
	ck_assert_ptr_nonnull(crypt_r("right", salt, &cd));
	snprintf(line, sizeof(line), "alice:staff:%s\nlocky:staff:!%s\n", cd.output, cd.output);
	write_file("passwd", line, strlen(line));

	sec = talloc_zero(NULL, struct sec_ctx);
	sec->cfg = talloc_zero(sec, struct sluice_config);
	snprintf(path, sizeof(path), "%s/key.pem", dir);
	sec->cfg->server_key = talloc_strdup(sec, path);
	snprintf(path, sizeof(path), "%s/passwd", dir);
	sec->cfg->passwd_file = talloc_strdup(sec, path);
	sec->cfg->auth_required = CONFIG_AUTH_PASSWORD;
	sec->cfg->auth_tries = 3;
	sec->cfg->max_same_clients = 1;
	sec->cfg->cookie_timeout = 60;
	sec->cfg->tls_priorities = talloc_strdup(sec, PRIO_DEFAULT);
	for (int i = 0; i < KEY_N; i++)
		write_file(key_types[i].file, key_pem[i].data, key_pem[i].size);
	sec->loop = ev_loop_new(EVFLAG_AUTO);
	ck_assert_int_eq(sec_keys_load(sec), 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp), 0);
	sec->main_ch.fd = sp[0];
	main_peer = sp[1];
	sec->cfg->auth_helpers = 1;
	sec->cfg->auth_helper_timeout = 15;
	sec->cfg->auth_timeout = 60;
	sec_helpers_init(sec);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp), 0);
	sec->launcher_fd = sp[0];
	sec->launcher_pid = 4242;
	launcher_peer = sp[1];
	/* The helper sec gets at its first SA_SPAWN. */
	{
		SaSpawned s = SA_SPAWNED__INIT;
		int hp[2];

		ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, hp), 0);
		s.pid = 4343;
		ck_assert_int_eq(ipc_send(launcher_peer, SA_TYPE__SA_SPAWNED, &s.base, &hp[0], 1), 0);
		close(hp[0]);
		helper_peer = hp[1];
	}
}

static void teardown(void)
{
	char cmd[300];

	close(sec->main_ch.fd);
	close(main_peer);
	if (helper_peer >= 0)
		close(helper_peer);
	close(launcher_peer);
	if (sec->launcher_fd >= 0)
		close(sec->launcher_fd);
	ev_loop_destroy(sec->loop);
	gnutls_pubkey_deinit(pubkey);
	/* The sessions are freed with sec, the tables' own memory is not. */
	HASH_CLEAR(hh_sid, sec->sessions_by_sid);
	HASH_CLEAR(hh_cookie, sec->sessions_by_cookie);
	HASH_CLEAR(hh, sec->users_in_use);
	talloc_free(sec);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
	strcpy(dir + strlen(dir) - 6, "XXXXXX");
}

/* A worker as sec sees it; *peer is the worker's end of the channel. */
static struct sec_worker *new_worker(uint32_t id, int *peer)
{
	struct sec_worker *w = talloc_zero(sec, struct sec_worker);
	int sp[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp), 0);
	w->sec = sec;
	w->id = id;
	w->pid = 1000 + id;
	w->client_ip = talloc_strdup(w, "198.18.0.2");
	w->client_port = 40000;
	w->state = SECW_HANDSHAKE;
	w->key = sec->key;
	ipc_channel_init(&w->ch, sp[0], sec_from_worker, sec_from_worker_n, 4096, "test worker");
	*peer = sp[1];
	return w;
}

static int sign_full(struct sec_worker *w, unsigned algo, const uint8_t *hash, size_t len,
		     unsigned flags)
{
	SwSignReq req = SW_SIGN_REQ__INIT;

	req.sign_algo = algo;
	req.flags = flags;
	req.hash.data = (uint8_t *)hash;
	req.hash.len = len;
	return sec_on_sign_req(w, &req, NULL);
}

/* As the worker of a P-256 key asks in TLS 1.2. */
static int sign(struct sec_worker *w, const uint8_t *hash, size_t len, unsigned flags)
{
	return sign_full(w, GNUTLS_SIGN_ECDSA_SHA256, hash, len, flags);
}

static int sign_as(struct sec_worker *w, unsigned algo, const uint8_t *hash, size_t len)
{
	return sign_full(w, algo, hash, len, 0);
}

START_TEST(test_signs_digest_and_it_verifies)
{
	int peer;
	struct sec_worker *w = new_worker(1, &peer);
	uint8_t hash[32];
	SwSignReply *reply;
	gnutls_datum_t h = {hash, sizeof(hash)}, sig;

	gnutls_rnd(GNUTLS_RND_NONCE, hash, sizeof(hash));
	ck_assert_int_eq(sign(w, hash, sizeof(hash), 0), 0);
	ck_assert_int_eq(ipc_recv_expect(peer, SW_TYPE__SW_SIGN_REPLY, &sw_sign_reply__descriptor,
					 4096, w, (void **)&reply, NULL, 0, 1000),
			 0);
	ck_assert(reply->ok && reply->has_signature);
	sig.data = reply->signature.data;
	sig.size = reply->signature.len;
	ck_assert_int_ge(gnutls_pubkey_verify_hash2(pubkey, GNUTLS_SIGN_ECDSA_SHA256, 0, &h, &sig),
			 0);
	close(peer);
}
END_TEST

START_TEST(test_refuses_non_digest_input)
{
	int peer;
	struct sec_worker *w = new_worker(1, &peer);
	uint8_t data[200] = {0};

	ck_assert_int_eq(sign(w, data, 100, 0), -EPERM); /* a message, not a digest */
	ck_assert_int_eq(sign(w, data, 0, 0), -EPERM);
	ck_assert_int_eq(sign(w, data, 33, 0), -EPERM);
	ck_assert_int_eq(sign(w, data, 32, 1u << 12), -EPERM); /* unknown flags */
	close(peer);
}
END_TEST

START_TEST(test_bounded_number_of_signatures)
{
	int peer;
	struct sec_worker *w = new_worker(1, &peer);
	uint8_t hash[32] = {1};

	for (int i = 0; i < SEC_MAX_SIGNS; i++)
		ck_assert_int_eq(sign(w, hash, sizeof(hash), 0), 0);
	ck_assert_int_eq(sign(w, hash, sizeof(hash), 0), -EPERM);
	close(peer);
}
END_TEST

/* Through the real route table: signing is refused once the handshake is over. */
START_TEST(test_no_signing_after_handshake)
{
	int peer;
	struct sec_worker *w = new_worker(1, &peer);
	SwHandshakeDone done = SW_HANDSHAKE_DONE__INIT;
	SwSignReq req = SW_SIGN_REQ__INIT;
	uint8_t hash[32] = {2};

	ck_assert_int_eq(ipc_send(peer, SW_TYPE__SW_HANDSHAKE_DONE, &done.base, NULL, 0), 0);
	ck_assert_int_eq(ipc_recv_dispatch(&w->ch, w->state, w), 0);
	ck_assert_int_eq(w->state, SECW_AUTH);
	req.sign_algo = GNUTLS_SIGN_ECDSA_SHA256;
	req.hash.data = hash;
	req.hash.len = sizeof(hash);
	ck_assert_int_eq(ipc_send(peer, SW_TYPE__SW_SIGN_REQ, &req.base, NULL, 0), 0);
	ck_assert_int_eq(ipc_recv_dispatch(&w->ch, w->state, w), -EPERM);
	/* and a second HANDSHAKE_DONE is refused too */
	ck_assert_int_eq(ipc_send(peer, SW_TYPE__SW_HANDSHAKE_DONE, &done.base, NULL, 0), 0);
	ck_assert_int_eq(ipc_recv_dispatch(&w->ch, w->state, w), -EPERM);
	close(peer);
}
END_TEST

/* What a signature request carries, made the way GnuTLS makes it. */
enum shape_input {
	IN_DIGEST,       /* a bare digest of len bytes */
	IN_INFO,         /* the DigestInfo of a digest of dig, by GnuTLS's encoder */
	IN_INFO_EXTRA,   /* the same with one byte more */
	IN_INFO_NOPARAM, /* a SHA-256 DigestInfo without the NULL parameters (valid BER) */
};

static const struct sign_case {
	const char *name;
	enum test_key key;
	unsigned algo;
	enum shape_input in;
	size_t len;                    /* IN_DIGEST */
	gnutls_digest_algorithm_t dig; /* IN_INFO* */
	unsigned flags;
	const char *prio; /* NULL: the default */
	bool ok;
} sign_cases[] = {
    /* RSA PKCS#1 v1.5: TLS 1.2 sends the DigestInfo of the digest */
    {"rsa pkcs1 sha256", KEY_RSA, GNUTLS_SIGN_RSA_RAW, IN_INFO, 0, GNUTLS_DIG_SHA256, 0, NULL,
     true},
    {"rsa pkcs1 sha384", KEY_RSA, GNUTLS_SIGN_RSA_RAW, IN_INFO, 0, GNUTLS_DIG_SHA384, 0, NULL,
     true},
    {"rsa pkcs1 sha512", KEY_RSA, GNUTLS_SIGN_RSA_RAW, IN_INFO, 0, GNUTLS_DIG_SHA512, 0, NULL,
     true},
    {"rsa pkcs1 sha1 (enabled by default)", KEY_RSA, GNUTLS_SIGN_RSA_RAW, IN_INFO, 0,
     GNUTLS_DIG_SHA1, 0, NULL, true},
    {"rsa pkcs1 sha1 not enabled", KEY_RSA, GNUTLS_SIGN_RSA_RAW, IN_INFO, 0, GNUTLS_DIG_SHA1, 0,
     PRIO_DEFAULT ":-SIGN-RSA-SHA1", false},
    {"rsa pkcs1 sha224", KEY_RSA, GNUTLS_SIGN_RSA_RAW, IN_INFO, 0, GNUTLS_DIG_SHA224, 0, NULL,
     false},
    {"rsa pkcs1 md5", KEY_RSA, GNUTLS_SIGN_RSA_RAW, IN_INFO, 0, GNUTLS_DIG_MD5, 0, NULL, false},
    {"rsa pkcs1 sha3-256", KEY_RSA, GNUTLS_SIGN_RSA_RAW, IN_INFO, 0, GNUTLS_DIG_SHA3_256, 0, NULL,
     false},
    {"rsa pkcs1 digestinfo-sized noise", KEY_RSA, GNUTLS_SIGN_RSA_RAW, IN_DIGEST, 51, 0, 0, NULL,
     false},
    {"rsa pkcs1 digestinfo and a byte", KEY_RSA, GNUTLS_SIGN_RSA_RAW, IN_INFO_EXTRA, 0,
     GNUTLS_DIG_SHA256, 0, NULL, false},
    {"rsa pkcs1 digestinfo without NULL", KEY_RSA, GNUTLS_SIGN_RSA_RAW, IN_INFO_NOPARAM, 0,
     GNUTLS_DIG_SHA256, 0, NULL, false},
    {"rsa pkcs1 bare digest", KEY_RSA, GNUTLS_SIGN_RSA_RAW, IN_DIGEST, 32, 0, 0, NULL, false},
    {"rsa pkcs1 long input", KEY_RSA, GNUTLS_SIGN_RSA_RAW, IN_DIGEST, 200, 0, 0, NULL, false},
    {"rsa pkcs1 tls1_rsa flag", KEY_RSA, GNUTLS_SIGN_RSA_RAW, IN_INFO, 0, GNUTLS_DIG_SHA256,
     GNUTLS_PRIVKEY_SIGN_FLAG_TLS1_RSA, NULL, false},
    {"rsa pkcs1 as RSA-SHA256", KEY_RSA, GNUTLS_SIGN_RSA_SHA256, IN_INFO, 0, GNUTLS_DIG_SHA256, 0,
     NULL, false},
    {"rsa pkcs1 sha384 not enabled", KEY_RSA, GNUTLS_SIGN_RSA_RAW, IN_INFO, 0, GNUTLS_DIG_SHA384, 0,
     "NORMAL:-SIGN-ALL:+SIGN-RSA-SHA512", false},
    {"rsa pkcs1 sha512 enabled alone", KEY_RSA, GNUTLS_SIGN_RSA_RAW, IN_INFO, 0, GNUTLS_DIG_SHA512,
     0, "NORMAL:-SIGN-ALL:+SIGN-RSA-SHA512", true},
    {"rsa pkcs1 sha256 for the key pairing", KEY_RSA, GNUTLS_SIGN_RSA_RAW, IN_INFO, 0,
     GNUTLS_DIG_SHA256, 0, "NORMAL:-SIGN-ALL:+SIGN-RSA-SHA512", true},
    /* TLS 1.0 and 1.1: MD5 || SHA-1, only when tls-priorities enable them */
    {"rsa md5+sha1 tls1.2+", KEY_RSA, GNUTLS_SIGN_RSA_RAW, IN_DIGEST, 36, 0, 0, NULL, false},
    {"rsa md5+sha1 tls1.0", KEY_RSA, GNUTLS_SIGN_RSA_RAW, IN_DIGEST, 36, 0, 0,
     "NORMAL:+VERS-TLS1.0", true},
    {"rsa md5+sha1 tls1.1", KEY_RSA, GNUTLS_SIGN_RSA_RAW, IN_DIGEST, 36, 0, 0,
     "NORMAL:-VERS-ALL:+VERS-TLS1.2:+VERS-TLS1.1", true},
    {"rsa md5+sha1 dtls1.0 only", KEY_RSA, GNUTLS_SIGN_RSA_RAW, IN_DIGEST, 36, 0, 0,
     "NORMAL:-VERS-ALL:+VERS-TLS1.2:+VERS-DTLS1.0", false},
    /* RSA-PSS with an rsaEncryption key: TLS 1.3 */
    {"rsa pss-rsae sha256", KEY_RSA, GNUTLS_SIGN_RSA_PSS_RSAE_SHA256, IN_DIGEST, 32, 0, 0, NULL,
     true},
    {"rsa pss-rsae sha384", KEY_RSA, GNUTLS_SIGN_RSA_PSS_RSAE_SHA384, IN_DIGEST, 48, 0, 0, NULL,
     true},
    {"rsa pss-rsae sha512", KEY_RSA, GNUTLS_SIGN_RSA_PSS_RSAE_SHA512, IN_DIGEST, 64, 0, 0, NULL,
     true},
    {"rsa pss-rsae sha256 of 48 bytes", KEY_RSA, GNUTLS_SIGN_RSA_PSS_RSAE_SHA256, IN_DIGEST, 48, 0,
     0, NULL, false},
    {"rsa pss-rsae sha384 of 32 bytes", KEY_RSA, GNUTLS_SIGN_RSA_PSS_RSAE_SHA384, IN_DIGEST, 32, 0,
     0, NULL, false},
    {"rsa pss-rsae rsa_pss flag", KEY_RSA, GNUTLS_SIGN_RSA_PSS_RSAE_SHA256, IN_DIGEST, 32, 0,
     GNUTLS_PRIVKEY_SIGN_FLAG_RSA_PSS, NULL, false},
    {"rsa pss-rsae not enabled", KEY_RSA, GNUTLS_SIGN_RSA_PSS_RSAE_SHA256, IN_DIGEST, 32, 0, 0,
     "NORMAL:-SIGN-ALL:+SIGN-RSA-SHA256", false},
    {"rsa key, pss-pss algorithm", KEY_RSA, GNUTLS_SIGN_RSA_PSS_SHA256, IN_DIGEST, 32, 0, 0, NULL,
     false},
    {"rsa key, ecdsa algorithm", KEY_RSA, GNUTLS_SIGN_ECDSA_SHA256, IN_DIGEST, 32, 0, 0, NULL,
     false},
    /* an RSASSA-PSS key signs only RSA-PSS */
    {"rsa-pss sha256", KEY_RSA_PSS, GNUTLS_SIGN_RSA_PSS_SHA256, IN_DIGEST, 32, 0, 0, NULL, true},
    {"rsa-pss sha384", KEY_RSA_PSS, GNUTLS_SIGN_RSA_PSS_SHA384, IN_DIGEST, 48, 0, 0, NULL, true},
    {"rsa-pss sha512", KEY_RSA_PSS, GNUTLS_SIGN_RSA_PSS_SHA512, IN_DIGEST, 64, 0, 0, NULL, true},
    {"rsa-pss sha512 of 32 bytes", KEY_RSA_PSS, GNUTLS_SIGN_RSA_PSS_SHA512, IN_DIGEST, 32, 0, 0,
     NULL, false},
    {"rsa-pss key, pkcs1", KEY_RSA_PSS, GNUTLS_SIGN_RSA_RAW, IN_INFO, 0, GNUTLS_DIG_SHA256, 0, NULL,
     false},
    {"rsa-pss key, pss-rsae algorithm", KEY_RSA_PSS, GNUTLS_SIGN_RSA_PSS_RSAE_SHA256, IN_DIGEST, 32,
     0, 0, NULL, false},
    /* ECDSA: TLS 1.2's algorithms fit any curve, TLS 1.3's only their own */
    {"p256 ecdsa-sha256", KEY_P256, GNUTLS_SIGN_ECDSA_SHA256, IN_DIGEST, 32, 0, 0, NULL, true},
    {"p256 ecdsa-sha384", KEY_P256, GNUTLS_SIGN_ECDSA_SHA384, IN_DIGEST, 48, 0, 0, NULL, true},
    {"p256 ecdsa-sha512", KEY_P256, GNUTLS_SIGN_ECDSA_SHA512, IN_DIGEST, 64, 0, 0, NULL, true},
    {"p256 ecdsa-secp256r1-sha256", KEY_P256, GNUTLS_SIGN_ECDSA_SECP256R1_SHA256, IN_DIGEST, 32, 0,
     0, NULL, true},
    {"p256 ecdsa-secp384r1-sha384", KEY_P256, GNUTLS_SIGN_ECDSA_SECP384R1_SHA384, IN_DIGEST, 48, 0,
     0, NULL, false},
    {"p256 ecdsa-sha256 of 48 bytes", KEY_P256, GNUTLS_SIGN_ECDSA_SHA256, IN_DIGEST, 48, 0, 0, NULL,
     false},
    {"p256 ecdsa-sha384 of 32 bytes", KEY_P256, GNUTLS_SIGN_ECDSA_SHA384, IN_DIGEST, 32, 0, 0, NULL,
     false},
    {"p256 ecdsa-sha256 of 20 bytes", KEY_P256, GNUTLS_SIGN_ECDSA_SHA256, IN_DIGEST, 20, 0, 0, NULL,
     false},
    {"p256 ecdsa-sha1 (enabled by default)", KEY_P256, GNUTLS_SIGN_ECDSA_SHA1, IN_DIGEST, 20, 0, 0,
     NULL, true},
    {"p256 ecdsa-sha1 not enabled", KEY_P256, GNUTLS_SIGN_ECDSA_SHA1, IN_DIGEST, 20, 0, 0,
     PRIO_DEFAULT ":-SIGN-ECDSA-SHA1", false},
    {"p256 ecdsa-sha1 for tls1.0", KEY_P256, GNUTLS_SIGN_ECDSA_SHA1, IN_DIGEST, 20, 0, 0,
     "NORMAL:+VERS-TLS1.0:-SIGN-ECDSA-SHA1", true},
    {"p256 ecdsa-sha224", KEY_P256, GNUTLS_SIGN_ECDSA_SHA224, IN_DIGEST, 28, 0, 0, NULL, false},
    {"p256 ecdsa-sha3-256", KEY_P256, GNUTLS_SIGN_ECDSA_SHA3_256, IN_DIGEST, 32, 0, 0, NULL, false},
    {"p256 ecdsa-sha384 not enabled", KEY_P256, GNUTLS_SIGN_ECDSA_SHA384, IN_DIGEST, 48, 0, 0,
     "NORMAL:-SIGN-ALL:+SIGN-ECDSA-SHA512", false},
    {"p256 ecdsa-sha256 for the key pairing", KEY_P256, GNUTLS_SIGN_ECDSA_SHA256, IN_DIGEST, 32, 0,
     0, "NORMAL:-SIGN-ALL:+SIGN-ECDSA-SHA512", true},
    {"p256 eddsa", KEY_P256, GNUTLS_SIGN_EDDSA_ED25519, IN_DIGEST, 32, 0, 0, NULL, false},
    {"p256 ecdsa, flags", KEY_P256, GNUTLS_SIGN_ECDSA_SHA256, IN_DIGEST, 32, 0,
     GNUTLS_PRIVKEY_FLAG_REPRODUCIBLE, NULL, false},
    {"p256 key, pkcs1", KEY_P256, GNUTLS_SIGN_RSA_RAW, IN_INFO, 0, GNUTLS_DIG_SHA256, 0, NULL,
     false},
    {"p256 key, pss-rsae", KEY_P256, GNUTLS_SIGN_RSA_PSS_RSAE_SHA256, IN_DIGEST, 32, 0, 0, NULL,
     false},
    {"p256 unknown algorithm", KEY_P256, 200, IN_DIGEST, 32, 0, 0, NULL, false},
    {"p384 ecdsa-secp384r1-sha384", KEY_P384, GNUTLS_SIGN_ECDSA_SECP384R1_SHA384, IN_DIGEST, 48, 0,
     0, NULL, true},
    {"p384 ecdsa-sha256", KEY_P384, GNUTLS_SIGN_ECDSA_SHA256, IN_DIGEST, 32, 0, 0, NULL, true},
    {"p384 ecdsa-secp256r1-sha256", KEY_P384, GNUTLS_SIGN_ECDSA_SECP256R1_SHA256, IN_DIGEST, 32, 0,
     0, NULL, false},
    {"p384 ecdsa-secp521r1-sha512", KEY_P384, GNUTLS_SIGN_ECDSA_SECP521R1_SHA512, IN_DIGEST, 64, 0,
     0, NULL, false},
};

/* Loads test key k as sec's current key, the way sec loads a key. */
static void use_key(enum test_key k)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, key_types[k].file);
	talloc_free(sec->cfg->server_key);
	sec->cfg->server_key = talloc_strdup(sec->cfg, path);
	ck_assert_int_eq(sec_keys_load(sec), 0);
}

/* Builds the request's input into buf; *digest is the digest inside it. */
static size_t make_input(const struct sign_case *c, uint8_t *buf, size_t size,
			 gnutls_datum_t *digest)
{
	static const uint8_t sha256_noparam[] = {0x30, 0x2f, 0x30, 0x0b, 0x06, 0x09,
						 0x60, 0x86, 0x48, 0x01, 0x65, 0x03,
						 0x04, 0x02, 0x01, 0x04, 0x20};
	uint8_t d[64];
	gnutls_datum_t in = {d, 0}, info;
	size_t n;

	if (c->in == IN_DIGEST) {
		ck_assert_uint_le(c->len, size);
		gnutls_rnd(GNUTLS_RND_NONCE, buf, c->len);
		*digest = (gnutls_datum_t){buf, (unsigned)c->len};
		return c->len;
	}
	in.size = gnutls_hash_get_len(c->dig);
	ck_assert_uint_gt(in.size, 0);
	gnutls_rnd(GNUTLS_RND_NONCE, d, in.size);
	if (c->in == IN_INFO_NOPARAM) {
		n = sizeof(sha256_noparam) + in.size;
		memcpy(buf, sha256_noparam, sizeof(sha256_noparam));
		memcpy(buf + sizeof(sha256_noparam), d, in.size);
	} else {
		ck_assert_int_eq(gnutls_encode_ber_digest_info(c->dig, &in, &info), 0);
		ck_assert_uint_lt(info.size, size);
		memcpy(buf, info.data, info.size);
		n = info.size;
		gnutls_free(info.data);
		if (c->in == IN_INFO_EXTRA)
			buf[n++] = 0;
	}
	*digest = (gnutls_datum_t){buf + n - in.size - (c->in == IN_INFO_EXTRA), in.size};
	return n;
}

/* Verifies a signature sec made, with the public key, the way a TLS client would. */
static void verify(const struct sign_case *c, const SwSignReply *reply, const uint8_t *input,
		   size_t len, const gnutls_datum_t *digest)
{
	gnutls_privkey_t priv;
	gnutls_pubkey_t pub;
	gnutls_datum_t sig = {reply->signature.data, (unsigned)reply->signature.len};
	gnutls_datum_t raw = {(uint8_t *)input, (unsigned)len};
	int ret;

	ck_assert_int_eq(gnutls_privkey_init(&priv), 0);
	ck_assert_int_eq(
	    gnutls_privkey_import_x509_raw(priv, &key_pem[c->key], GNUTLS_X509_FMT_PEM, NULL, 0),
	    0);
	ck_assert_int_eq(gnutls_pubkey_init(&pub), 0);
	ck_assert_int_eq(gnutls_pubkey_import_privkey(pub, priv, 0, 0), 0);
	if (c->algo == GNUTLS_SIGN_RSA_RAW && c->in == IN_DIGEST) /* MD5 || SHA-1 */
		ret = gnutls_pubkey_verify_hash2(pub, GNUTLS_SIGN_UNKNOWN,
						 GNUTLS_PUBKEY_VERIFY_FLAG_TLS1_RSA, &raw, &sig);
	else if (c->algo == GNUTLS_SIGN_RSA_RAW)
		ret = gnutls_pubkey_verify_hash2(pub, gnutls_pk_to_sign(GNUTLS_PK_RSA, c->dig), 0,
						 digest, &sig);
	else
		ret = gnutls_pubkey_verify_hash2(pub, c->algo, 0, digest, &sig);
	ck_assert_msg(ret >= 0, "%s: the signature does not verify: %s", c->name,
		      gnutls_strerror(ret));
	gnutls_pubkey_deinit(pub);
	gnutls_privkey_deinit(priv);
}

/* Every shape a handshake may ask for is signed (and verifies); everything else is
 * refused as a contract violation, with nothing sent back. */
START_TEST(test_sign_shapes)
{
	const struct sign_case *c = &sign_cases[_i];
	char err[256] = "";
	uint8_t input[256];
	gnutls_datum_t digest;
	SwSignReq req = SW_SIGN_REQ__INIT;
	SwSignReply *reply = NULL;
	struct sec_worker *w;
	size_t len;
	int peer, ret;

	use_key(c->key);
	ck_assert_msg(sec_sign_policy_set(&sec->sign_policy, c->prio ? c->prio : PRIO_DEFAULT, err,
					  sizeof(err)) == 0,
		      "%s: %s", c->name, err);
	w = new_worker(1, &peer);
	len = make_input(c, input, sizeof(input), &digest);
	req.sign_algo = c->algo;
	req.flags = c->flags;
	req.hash.data = input;
	req.hash.len = len;
	ret = sec_on_sign_req(w, &req, NULL);
	if (!c->ok) {
		ck_assert_msg(ret == -EPERM, "%s: signed (%d)", c->name, ret);
		ck_assert_int_eq(ipc_recv_expect(peer, SW_TYPE__SW_SIGN_REPLY,
						 &sw_sign_reply__descriptor, 4096, w,
						 (void **)&reply, NULL, 0, 0),
				 -ETIMEDOUT);
		close(peer);
		return;
	}
	ck_assert_msg(ret == 0, "%s: refused (%d)", c->name, ret);
	ck_assert_int_eq(ipc_recv_expect(peer, SW_TYPE__SW_SIGN_REPLY, &sw_sign_reply__descriptor,
					 4096, w, (void **)&reply, NULL, 0, 1000),
			 0);
	ck_assert_msg(reply->ok && reply->has_signature, "%s: no signature", c->name);
	verify(c, reply, input, len, &digest);
	close(peer);
}
END_TEST

/* A self-signed certificate (PEM) for the key in the PEM key_pem. */
static gnutls_datum_t self_signed(const gnutls_datum_t *key_pem_in)
{
	gnutls_x509_privkey_t xkey;
	gnutls_x509_crt_t crt;
	gnutls_datum_t out = {NULL, 0};
	time_t now = time(NULL);

	ck_assert_int_ge(gnutls_x509_privkey_init(&xkey), 0);
	ck_assert_int_ge(gnutls_x509_privkey_import2(xkey, key_pem_in, GNUTLS_X509_FMT_PEM, NULL, 0),
			 0);
	ck_assert_int_ge(gnutls_x509_crt_init(&crt), 0);
	ck_assert_int_ge(gnutls_x509_crt_set_key(crt, xkey), 0);
	ck_assert_int_ge(gnutls_x509_crt_set_serial(crt, "\x01", 1), 0);
	ck_assert_int_ge(gnutls_x509_crt_set_activation_time(crt, now - 60), 0);
	ck_assert_int_ge(gnutls_x509_crt_set_expiration_time(crt, now + 3600), 0);
	ck_assert_int_ge(gnutls_x509_crt_set_version(crt, 3), 0);
	ck_assert_int_ge(gnutls_x509_crt_sign2(crt, crt, xkey, GNUTLS_DIG_SHA256, 0), 0);
	ck_assert_int_ge(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &out), 0);
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(xkey);
	return out;
}

/* At start-up sec refuses a server-key that is not server-cert's. */
START_TEST(test_key_must_match_cert)
{
	char path[256];
	gnutls_datum_t key, mine, other;

	snprintf(path, sizeof(path), "%s/key.pem", dir);
	ck_assert_int_ge(gnutls_load_file(path, &key), 0);
	mine = self_signed(&key);
	other = self_signed(&key_pem[KEY_P256]);
	sec->cfg->server_cert = "cert.pem";
	ck_assert_int_eq(sec_keys_check_cert(sec, (char *)mine.data, mine.size), 0);
	ck_assert_int_eq(sec_keys_check_cert(sec, (char *)other.data, other.size), -EINVAL);
	ck_assert_int_eq(sec_keys_check_cert(sec, "no certificate", 14), -EINVAL);
	ck_assert_int_eq(sec_keys_check_cert(sec, NULL, 0), -EINVAL);
	gnutls_free(key.data);
	gnutls_free(mine.data);
	gnutls_free(other.data);
}
END_TEST

/* A RADIUS Access-Accept's values as per-user settings: each checked, the bad ones
 * dropped, kbit/s turned into bytes/s, the address's network from its netmask. */
START_TEST(test_backend_conf)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	SaResult r = SA_RESULT__INIT;
	char *routes[] = {"198.18.50.0/24", "not-a-net", "fd00:50::/64", "198.18.51.0/33"};
	char *dns[] = {"198.18.0.53", "fd00::53", "999.1.1.1"};
	char *text;

	r.framed_ipv4 = "198.19.0.77";
	r.framed_ipv4_netmask = "255.255.255.0";
	r.routes = routes;
	r.n_routes = 4;
	r.dns = dns;
	r.n_dns = 3;
	r.has_session_timeout = true;
	r.session_timeout = 3600;
	r.has_interim_interval = true;
	r.interim_interval = 0; /* 0: the server's own */
	r.has_rx_kbps = true;
	r.rx_kbps = 800;
	r.has_tx_kbps = true;
	r.tx_kbps = UINT32_MAX;
	text = sec_backend_conf(ctx, "bob", &r);
	ck_assert_str_eq(text, "explicit-ipv4 = 198.19.0.77\n"
			       "ipv4-network = 198.19.0.0\n"
			       "ipv4-netmask = 255.255.255.0\n"
			       "route = 198.18.50.0/24\n"
			       "route = fd00:50::/64\n"
			       "dns = 198.18.0.53\n"
			       "dns = fd00::53\n"
			       "session-timeout = 3600\n"
			       "rx-data-per-sec = 100000\n"
			       "tx-data-per-sec = 4294967295\n");
	/* A netmask that is not one, and an address that is not one. */
	r = (SaResult)SA_RESULT__INIT;
	r.framed_ipv4 = "198.19.0.77";
	r.framed_ipv4_netmask = "255.0.255.0";
	ck_assert_str_eq(sec_backend_conf(ctx, "bob", &r), "explicit-ipv4 = 198.19.0.77\n");
	r.framed_ipv4 = "198.19.0.777";
	r.framed_ipv6 = "fd00::77";
	ck_assert_str_eq(sec_backend_conf(ctx, "bob", &r), "explicit-ipv6 = fd00::77\n");
	/* Framed-IPv6-Prefix: the user's pool, as a network; a /128 or an IPv4 one is not. */
	r = (SaResult)SA_RESULT__INIT;
	r.framed_ipv6_prefix = "fd00:19::1/64";
	ck_assert_str_eq(sec_backend_conf(ctx, "bob", &r), "ipv6-network = fd00:19::/64\n");
	r.framed_ipv6_prefix = "fd00:19::1/128";
	ck_assert_str_eq(sec_backend_conf(ctx, "bob", &r), "");
	r.framed_ipv6_prefix = "198.19.0.0/24";
	ck_assert_str_eq(sec_backend_conf(ctx, "bob", &r), "");
	/* ChilliSpot-Max-Total-Octets: the session's quota; 0 is none. */
	r = (SaResult)SA_RESULT__INIT;
	r.has_quota_bytes = true;
	r.quota_bytes = 40000;
	ck_assert_str_eq(sec_backend_conf(ctx, "rosa", &r), "session-quota-bytes = 40000\n");
	r.quota_bytes = 0;
	ck_assert_str_eq(sec_backend_conf(ctx, "rosa", &r), "");
	talloc_free(ctx);
}
END_TEST

/* A Disconnect/CoA request: header, attributes, and a Request Authenticator made with
 * secret; its length. */
static size_t dae_packet(uint8_t *pkt, uint8_t code, const uint8_t *attrs, size_t alen,
			 const char *secret)
{
	uint8_t buf[512];
	size_t len = 20 + alen;

	pkt[0] = code;
	pkt[1] = 9;
	pkt[2] = (uint8_t)(len >> 8);
	pkt[3] = (uint8_t)len;
	memset(pkt + 4, 0, 16);
	memcpy(pkt + 20, attrs, alen);
	memcpy(buf, pkt, len);
	memcpy(buf + len, secret, strlen(secret));
	ck_assert_int_ge(gnutls_hash_fast(GNUTLS_DIG_MD5, buf, len + strlen(secret), pkt + 4), 0);
	return len;
}

/* RFC 5176 requests as the DAE helper reads them, and its answers. */
START_TEST(test_dae_packets)
{
	const time_t now = 1700000000;
	uint8_t ts[6] = {55, 6, 0x65, 0x53, 0xf1, 0x00}; /* Event-Timestamp = now */
	uint8_t a[128], pkt[256], reply[64], buf[128], md5[16];
	struct dae_request req;
	char why[160];
	size_t n = 0, len, rlen;

	/* Acct-Session-Id, Event-Timestamp: a good Disconnect-Request. */
	a[n++] = 44;
	a[n++] = 14;
	memcpy(a + n, "0123456789ab", 12);
	n += 12;
	memcpy(a + n, ts, 6);
	len = dae_packet(pkt, 40, a, n + 6, "s3cret");
	ck_assert_int_eq(dae_parse(pkt, len, "s3cret", now, &req, why, sizeof(why)), 0);
	ck_assert_str_eq(req.sid, "0123456789ab");
	/* Another secret, a stale time, a short datagram: dropped without an answer. */
	ck_assert_int_eq(dae_parse(pkt, len, "other", now, &req, why, sizeof(why)), -1);
	ck_assert_int_eq(dae_parse(pkt, len, "s3cret", now + 301, &req, why, sizeof(why)), -1);
	ck_assert_int_eq(dae_parse(pkt, len - 1, "s3cret", now, &req, why, sizeof(why)), -1);
	/* The answer: Disconnect-ACK, its Response Authenticator over the request's. */
	ck_assert_int_eq(dae_parse(pkt, len, "s3cret", now, &req, why, sizeof(why)), 0);
	rlen = dae_reply(&req, 0, "s3cret", reply);
	ck_assert_uint_eq(rlen, 20);
	ck_assert_uint_eq(reply[0], 41);
	ck_assert_uint_eq(reply[1], 9);
	memcpy(buf, reply, 4);
	memcpy(buf + 4, pkt + 4, 16);
	memcpy(buf + 20, "s3cret", 6);
	gnutls_hash_fast(GNUTLS_DIG_MD5, buf, 26, md5);
	ck_assert_mem_eq(md5, reply + 4, 16);
	/* A NAK carries the Error-Cause. */
	rlen = dae_reply(&req, DAE_ERR_SESSION_NOT_FOUND, "s3cret", reply);
	ck_assert_uint_eq(rlen, 26);
	ck_assert_uint_eq(reply[0], 42);
	ck_assert_uint_eq(reply[20], 101);
	ck_assert_uint_eq(reply[25], DAE_ERR_SESSION_NOT_FOUND & 0xff);
	/* Without Event-Timestamp: Missing-Attribute. */
	len = dae_packet(pkt, 40, a, n, "s3cret");
	ck_assert_int_eq(dae_parse(pkt, len, "s3cret", now, &req, why, sizeof(why)),
			 DAE_ERR_MISSING_ATTRIBUTE);
	/* A Disconnect-Request that also changes something: Unsupported-Attribute. */
	memcpy(a + n, ts, 6);
	memcpy(a + n + 6, (uint8_t[]){27, 6, 0, 0, 0, 60}, 6);
	len = dae_packet(pkt, 40, a, n + 12, "s3cret");
	ck_assert_int_eq(dae_parse(pkt, len, "s3cret", now, &req, why, sizeof(why)),
			 DAE_ERR_UNSUPPORTED_ATTRIBUTE);
	/* The same as a CoA-Request: a new Session-Timeout. */
	len = dae_packet(pkt, 43, a, n + 12, "s3cret");
	ck_assert_int_eq(dae_parse(pkt, len, "s3cret", now, &req, why, sizeof(why)), 0);
	ck_assert(req.has_session_timeout);
	ck_assert_uint_eq(req.session_timeout, 60);
	/* An attribute sluice does not act on (Filter-Id): Unsupported-Attribute. */
	memcpy(a + n + 12, (uint8_t[]){11, 4, 'x', 'y'}, 4);
	len = dae_packet(pkt, 43, a, n + 16, "s3cret");
	ck_assert_int_eq(dae_parse(pkt, len, "s3cret", now, &req, why, sizeof(why)),
			 DAE_ERR_UNSUPPORTED_ATTRIBUTE);
	/* An attribute whose length runs past the packet: dropped. */
	a[n + 12 + 1] = 40;
	len = dae_packet(pkt, 43, a, n + 16, "s3cret");
	ck_assert_int_eq(dae_parse(pkt, len, "s3cret", now, &req, why, sizeof(why)), -1);
}
END_TEST

/* A reload brings the new tls-priorities; a string GnuTLS refuses keeps the old ones. */
START_TEST(test_reload_changes_sign_policy)
{
	uint8_t hash[64] = {3}, pin[TLS_PIN_LEN];
	MsReload r = MS_RELOAD__INIT;
	MsReloadResult *res = NULL;
	struct sec_worker *w;
	int peer;

	ck_assert_int_eq(tls_pin_privkey(sec->key->key, pin), 0);
	r.generation = 1;
	r.server_key = sec->cfg->server_key;
	r.cert_pin.data = pin;
	r.cert_pin.len = sizeof(pin);
	r.auth_tries = 3;
	r.tls_priorities = "NORMAL:-SIGN-ALL:+SIGN-ECDSA-SHA384";
	ck_assert_int_eq(sec_on_reload(sec, &r, NULL), 0);
	ck_assert_int_eq(ipc_recv_expect(main_peer, MS_TYPE__MS_RELOAD_RESULT,
					 &ms_reload_result__descriptor, 4096, sec, (void **)&res,
					 NULL, 0, 1000),
			 0);
	ck_assert(res->ok);
	w = new_worker(1, &peer);
	w->key = sec->key;
	ck_assert_int_eq(sign_as(w, GNUTLS_SIGN_ECDSA_SHA384, hash, 48), 0);
	ck_assert_int_eq(sign_as(w, GNUTLS_SIGN_ECDSA_SHA512, hash, 64), -EPERM);

	r.generation = 2;
	r.tls_priorities = "NORMAL:+NO-SUCH-THING";
	ck_assert_int_eq(sec_on_reload(sec, &r, NULL), 0);
	ck_assert_int_eq(ipc_recv_expect(main_peer, MS_TYPE__MS_RELOAD_RESULT,
					 &ms_reload_result__descriptor, 4096, sec, (void **)&res,
					 NULL, 0, 1000),
			 0);
	ck_assert(res->ok); /* the key is fine; only the priorities were refused */
	w = new_worker(2, &peer);
	w->key = sec->key;
	ck_assert_int_eq(sign_as(w, GNUTLS_SIGN_ECDSA_SHA384, hash, 48), 0);
	ck_assert_int_eq(sign_as(w, GNUTLS_SIGN_ECDSA_SHA512, hash, 64), -EPERM);
}
END_TEST

/* sec's SA_HASH to its helper, as the helper reads it. */
static SaHash *hash_request(TALLOC_CTX *ctx)
{
	SaHash *h = NULL;

	ck_assert_int_eq(ipc_recv_expect(helper_peer, SA_TYPE__SA_HASH, &sa_hash__descriptor,
					 8192, ctx, (void **)&h, NULL, 0, 1000),
			 0);
	return h;
}

static void hash_answer(bool match)
{
	SaHashResult r = SA_HASH_RESULT__INIT;

	r.match = match;
	ck_assert_int_eq(ipc_send(helper_peer, SA_TYPE__SA_HASH_RESULT, &r.base, NULL, 0), 0);
}

/* sec's answer to the worker, once its loop has run what is ready. */
static SwAuthReply *auth_reply(struct sec_worker *w, int peer, MsAuthEvent **evp)
{
	SwAuthReply *reply = NULL;
	MsAuthEvent *ev = NULL;

	for (int i = 0; i < 100 && !reply; i++) {
		ev_run(sec->loop, EVRUN_NOWAIT);
		if (ipc_recv_expect(peer, SW_TYPE__SW_AUTH_REPLY, &sw_auth_reply__descriptor,
				    4096, w, (void **)&reply, NULL, 0, 10) < 0)
			reply = NULL;
	}
	ck_assert_ptr_nonnull(reply);
	ck_assert_int_eq(ipc_recv_expect(main_peer, MS_TYPE__MS_AUTH_EVENT,
					 &ms_auth_event__descriptor, 4096, w, (void **)&ev, NULL, 0,
					 1000),
			 0);
	ck_assert_int_eq(ev->ok, reply->result == SW_AUTH_RESULT__SW_AUTH_OK);
	if (evp)
		*evp = ev;
	return reply;
}

static void auth_req(struct sec_worker *w, const char *user, const char *pw)
{
	SwAuthReq req = SW_AUTH_REQ__INIT;

	req.username = (char *)user;
	req.password = talloc_strdup(w, pw);
	w->state = SECW_AUTH;
	ck_assert_int_eq(sec_on_auth_req(w, &req, NULL), 0);
	/* sec does not hash: the login waits for its helper. */
	ck_assert_int_eq(w->state, SECW_WAIT);
}

/* A plain login, its hash checked by the test's helper as a real one does. */
static SwAuthReply *login(struct sec_worker *w, int peer, const char *user, const char *pw)
{
	SaHash *h;

	auth_req(w, user, pw);
	h = hash_request(w);
	ck_assert_str_eq(h->password, pw);
	hash_answer(passwd_verify_hash(h->hash, h->password) == 0);
	return auth_reply(w, peer, NULL);
}

/* plain auth: sec looks the user up and hands its helper the user's hash and the
 * password; the helper's match decides, and sec keeps neither once the helper has them. */
START_TEST(test_hash_match_in_helper)
{
	int peer;
	struct sec_worker *w = new_worker(1, &peer);
	struct passwd_entry e = {0};
	char err[128];
	SwAuthReply *r;
	SaHash *h;
	uint8_t b;

	ck_assert_int_eq(passwd_lookup(w, sec->cfg->passwd_file, "alice", &e, err, sizeof(err)), 0);
	auth_req(w, "alice", "right");
	ck_assert_ptr_null(w->be_password);
	ck_assert_ptr_null(w->be_hash);
	h = hash_request(w);
	ck_assert_str_eq(h->hash, e.hash);
	ck_assert_str_eq(h->password, "right");
	/* No verdict before the helper's. */
	ev_run(sec->loop, EVRUN_NOWAIT);
	ck_assert_int_eq(recv(peer, &b, 1, MSG_DONTWAIT), -1);
	ck_assert_int_eq(w->state, SECW_WAIT);
	hash_answer(true);
	r = auth_reply(w, peer, NULL);
	ck_assert_int_eq(r->result, SW_AUTH_RESULT__SW_AUTH_OK);
	ck_assert_str_eq(r->username, "alice");
	ck_assert_str_eq(r->groupname, "staff");
	ck_assert_uint_eq(sec->n_helpers, 1); /* free for the next login */
	close(peer);
}
END_TEST

START_TEST(test_hash_mismatch_in_helper)
{
	int peer;
	struct sec_worker *w = new_worker(1, &peer);
	MsAuthEvent *ev;
	SaHash *h;

	auth_req(w, "alice", "wrong");
	h = hash_request(w);
	ck_assert_str_eq(h->password, "wrong");
	hash_answer(false);
	ck_assert_int_eq(auth_reply(w, peer, &ev)->result, SW_AUTH_RESULT__SW_AUTH_RETRY);
	ck_assert_str_eq(ev->reason, "wrong password");
	ck_assert(!ev->not_scored);
	close(peer);
}
END_TEST

/* An unknown or locked user costs the helper a hash too (the dummy one, never the locked
 * user's), and no answer of the helper lets them in. */
START_TEST(test_hash_dummy_for_unknown_and_locked)
{
	static const char *const users[] = {"nobody-here", "locky"};
	static const char *const reasons[] = {"unknown user", "account locked"};
	int peer;
	struct sec_worker *w = new_worker(1, &peer);

	sec->cfg->auth_tries = 10;
	for (int i = 0; i < 2; i++) {
		MsAuthEvent *ev;
		SaHash *h;

		auth_req(w, users[i], "right");
		h = hash_request(w);
		ck_assert_str_eq(h->hash, passwd_dummy_hash());
		ck_assert_str_eq(h->password, "right");
		hash_answer(true);
		ck_assert_int_eq(auth_reply(w, peer, &ev)->result, SW_AUTH_RESULT__SW_AUTH_RETRY);
		ck_assert_str_eq(ev->reason, reasons[i]);
	}
	close(peer);
}
END_TEST

/* A helper that dies, or takes longer than auth-helper-timeout, fails that login (not the
 * user's fault: no ban points), and goes. */
START_TEST(test_hash_helper_dies_or_times_out)
{
	int peer;
	struct sec_worker *w = new_worker(1, &peer);
	MsAuthEvent *ev;
	SwAuthReply *r;

	auth_req(w, "alice", "right");
	hash_request(w);
	if (_i == 0) {
		close(helper_peer);
		helper_peer = -1;
	} else {
		ck_assert_ptr_nonnull(sec->helpers);
		ck_assert(ev_is_active(&sec->helpers->timer));
		ev_feed_event(sec->loop, &sec->helpers->timer, EV_TIMER);
	}
	r = auth_reply(w, peer, &ev);
	ck_assert_int_eq(r->result, SW_AUTH_RESULT__SW_AUTH_FAIL);
	ck_assert(ev->not_scored);
	ck_assert_uint_eq(sec->n_helpers, 0);
	ck_assert_ptr_null(w->helper);
	close(peer);
}
END_TEST

/* A hash answer out of turn, or a backend's result to a hash, ends the helper. */
START_TEST(test_hash_answer_out_of_state)
{
	int peer;
	struct sec_worker *w = new_worker(1, &peer);
	SaResult res = SA_RESULT__INIT;

	ck_assert_int_eq(login(w, peer, "alice", "right")->result, SW_AUTH_RESULT__SW_AUTH_OK);
	ck_assert_uint_eq(sec->n_helpers, 1);
	if (_i == 0) {
		hash_answer(true); /* no hash is out */
		ev_run(sec->loop, EVRUN_NOWAIT);
		ck_assert_uint_eq(sec->n_helpers, 0);
	} else {
		struct sec_worker *w2;
		int peer2;

		w2 = new_worker(2, &peer2);
		auth_req(w2, "alice", "wrong");
		hash_request(w2);
		res.ok = true; /* a backend's verdict, to a hash */
		ck_assert_int_eq(ipc_send(helper_peer, SA_TYPE__SA_RESULT, &res.base, NULL, 0), 0);
		ck_assert_int_eq(auth_reply(w2, peer2, NULL)->result, SW_AUTH_RESULT__SW_AUTH_FAIL);
		ck_assert_uint_eq(sec->n_helpers, 0);
		close(peer2);
	}
	close(peer);
}
END_TEST

START_TEST(test_tries_are_counted)
{
	int peer;
	struct sec_worker *w = new_worker(1, &peer);

	ck_assert_int_eq(login(w, peer, "alice", "wrong")->result, SW_AUTH_RESULT__SW_AUTH_RETRY);
	ck_assert_int_eq(login(w, peer, "nobody-here", "x")->result, SW_AUTH_RESULT__SW_AUTH_RETRY);
	ck_assert_int_eq(login(w, peer, "alice", "wrong")->result, SW_AUTH_RESULT__SW_AUTH_FAIL);
	ck_assert_int_eq(w->state, SECW_DONE);
	close(peer);
}
END_TEST

static MsCookieResult *check_cookie(uint32_t worker_id, const uint8_t *cookie, size_t len)
{
	MsCookieCheck cc = MS_COOKIE_CHECK__INIT;
	MsCookieResult *r = NULL;

	cc.worker_id = worker_id;
	cc.cookie.data = (uint8_t *)cookie;
	cc.cookie.len = len;
	cc.client_ip = "198.18.0.2";
	ck_assert_int_eq(sec_on_cookie_check(sec, &cc, NULL), 0);
	ck_assert_int_eq(ipc_recv_expect(main_peer, MS_TYPE__MS_COOKIE_RESULT,
					 &ms_cookie_result__descriptor, 4096, sec, (void **)&r,
					 NULL, 0, 1000),
			 0);
	ck_assert_uint_eq(r->worker_id, worker_id);
	return r;
}

START_TEST(test_cookie_lifecycle)
{
	int peer1, peer2;
	struct sec_worker *w1 = new_worker(1, &peer1), *w2 = new_worker(2, &peer2);
	SwAuthReply *ok = login(w1, peer1, "alice", "right");
	MsCookieResult *r;
	MsSessionDown down = MS_SESSION_DOWN__INIT;
	MsSessionExpired *exp = NULL;
	uint8_t bad[64];

	ck_assert_int_eq(ok->result, SW_AUTH_RESULT__SW_AUTH_OK);
	ck_assert_uint_eq(ok->cookie.len, 64);
	ck_assert_str_eq(ok->groupname, "staff");

	r = check_cookie(1, ok->cookie.data, ok->cookie.len);
	ck_assert(r->ok);
	ck_assert_uint_eq(strlen(r->sid), SEC_SID_LEN);
	ck_assert_str_eq(r->username, "alice");
	/* sid is not the cookie (which is bytes, not a string) */
	ck_assert(memmem(ok->cookie.data, ok->cookie.len, r->sid, strlen(r->sid)) == NULL);

	memcpy(bad, ok->cookie.data, sizeof(bad));
	bad[10] ^= 1;
	r = check_cookie(1, bad, sizeof(bad));
	ck_assert(!r->ok);
	ck_assert_uint_eq(r->http_code, 401);

	/* max-same-clients = 1 and the session has a tunnel: a second login is refused */
	ck_assert_int_eq(login(w2, peer2, "alice", "right")->result, SW_AUTH_RESULT__SW_AUTH_FAIL);

	/* a logout invalidates the cookie at once and releases the lease */
	down.sid = check_cookie(1, ok->cookie.data, ok->cookie.len)->sid;
	down.worker_id = 1;
	down.invalidate = true;
	ck_assert_int_eq(sec_on_session_down(sec, &down, NULL), 0);
	ck_assert_int_eq(ipc_recv_expect(main_peer, MS_TYPE__MS_SESSION_EXPIRED,
					 &ms_session_expired__descriptor, 4096, sec, (void **)&exp,
					 NULL, 0, 1000),
			 0);
	ck_assert_str_eq(exp->sid, down.sid);
	r = check_cookie(1, ok->cookie.data, ok->cookie.len);
	ck_assert(!r->ok);
	ck_assert_uint_eq(r->http_code, 401);
	close(peer1);
	close(peer2);
}
END_TEST

#define SCALE_N     10000
#define SCALE_USERS 100

static void session_down(const char *sid, uint32_t worker_id, bool invalidate)
{
	MsSessionDown down = MS_SESSION_DOWN__INIT;

	down.sid = (char *)sid;
	down.worker_id = worker_id;
	down.invalidate = invalidate;
	ck_assert_int_eq(sec_on_session_down(sec, &down, NULL), 0);
}

static void expect_expired(const char *sid)
{
	MsSessionExpired *exp = NULL;

	ck_assert_int_eq(ipc_recv_expect(main_peer, MS_TYPE__MS_SESSION_EXPIRED,
					 &ms_session_expired__descriptor, 4096, sec, (void **)&exp,
					 NULL, 0, 1000),
			 0);
	ck_assert_str_eq(exp->sid, sid);
	talloc_free(exp);
}

/* sec's next message to main must be MS_SESSION_REPLACE of sid. */
static void expect_replaced(const char *sid)
{
	MsSessionReplace *rep = NULL;

	ck_assert_int_eq(ipc_recv_expect(main_peer, MS_TYPE__MS_SESSION_REPLACE,
					 &ms_session_replace__descriptor, 4096, sec, (void **)&rep,
					 NULL, 0, 1000),
			 0);
	ck_assert_str_eq(rep->sid, sid);
	talloc_free(rep);
}

/* A login of alice that sec accepts after it gave the place of session sid to it. */
static SwAuthReply *login_replacing(struct sec_worker *w, int peer, const char *sid)
{
	SwAuthReq req = SW_AUTH_REQ__INIT;
	SwAuthReply *reply = NULL;
	MsAuthEvent *ev = NULL;
	SaHash *h;

	req.username = "alice";
	req.password = talloc_strdup(w, "right");
	w->state = SECW_AUTH;
	ck_assert_int_eq(sec_on_auth_req(w, &req, NULL), 0);
	h = hash_request(w);
	hash_answer(passwd_verify_hash(h->hash, h->password) == 0);
	ev_run(sec->loop, EVRUN_NOWAIT);
	/* main hears of the replaced session before the login is reported or answered */
	expect_replaced(sid);
	ck_assert_int_eq(ipc_recv_expect(main_peer, MS_TYPE__MS_AUTH_EVENT,
					 &ms_auth_event__descriptor, 4096, w, (void **)&ev, NULL, 0,
					 1000),
			 0);
	ck_assert(ev->ok);
	ck_assert_int_eq(ipc_recv_expect(peer, SW_TYPE__SW_AUTH_REPLY, &sw_auth_reply__descriptor,
					 4096, w, (void **)&reply, NULL, 0, 5000),
			 0);
	ck_assert_int_eq(reply->result, SW_AUTH_RESULT__SW_AUTH_OK);
	return reply;
}

/* max-same-clients = 1 with replace-oldest: a login takes the place of the user's
 * session in use, whose cookie is refused at once and which expires when its tunnel
 * ends; of two logins that raced for the place, the newer wins at the cookie check. */
START_TEST(test_replace_oldest)
{
	int peer[4];
	struct sec_worker *w[4];
	SwAuthReply *a[4];
	MsCookieResult *r;
	MsCookieCheck cc = MS_COOKIE_CHECK__INIT;
	char sid[4][SEC_SID_LEN + 1];

	for (int i = 0; i < 4; i++)
		w[i] = new_worker((uint32_t)i + 1, &peer[i]);
	sec->cfg->max_same_clients_policy = CONFIG_SAME_REPLACE_OLDEST;
	a[0] = login(w[0], peer[0], "alice", "right");
	ck_assert_int_eq(a[0]->result, SW_AUTH_RESULT__SW_AUTH_OK);
	r = check_cookie(1, a[0]->cookie.data, a[0]->cookie.len);
	ck_assert(r->ok);
	snprintf(sid[0], sizeof(sid[0]), "%s", r->sid);
	ck_assert_uint_eq(sec_sessions_in_use(sec, "alice", NULL), 1);

	/* The second login replaces the first session: it no longer counts, its cookie is
	 * refused (main ends its tunnel), and its tunnel's end expires it. */
	a[1] = login_replacing(w[1], peer[1], sid[0]);
	ck_assert_uint_eq(sec_sessions_in_use(sec, "alice", NULL), 0);
	r = check_cookie(11, a[0]->cookie.data, a[0]->cookie.len);
	ck_assert(!r->ok);
	ck_assert_uint_eq(r->http_code, 401);
	ck_assert_str_eq(r->reason, "replaced by a newer login");
	r = check_cookie(2, a[1]->cookie.data, a[1]->cookie.len);
	ck_assert(r->ok);
	snprintf(sid[1], sizeof(sid[1]), "%s", r->sid);
	ck_assert_uint_eq(sec_sessions_in_use(sec, "alice", NULL), 1);
	session_down(sid[0], 1, false);
	expect_expired(sid[0]);
	ck_assert_uint_eq(sec_sessions_in_use(sec, "alice", NULL), 1);

	/* Two logins race for the place: the third replaces the second session, the fourth
	 * finds a free place and replaces nothing. */
	a[2] = login_replacing(w[2], peer[2], sid[1]);
	a[3] = login(w[3], peer[3], "alice", "right");
	ck_assert_int_eq(a[3]->result, SW_AUTH_RESULT__SW_AUTH_OK);
	/* The older of them connects first and takes the place... */
	r = check_cookie(3, a[2]->cookie.data, a[2]->cookie.len);
	ck_assert(r->ok);
	snprintf(sid[2], sizeof(sid[2]), "%s", r->sid);
	/* ... which the newer takes over: sec tells main before it answers. */
	cc.worker_id = 4;
	cc.cookie.data = a[3]->cookie.data;
	cc.cookie.len = a[3]->cookie.len;
	cc.client_ip = "198.18.0.2";
	ck_assert_int_eq(sec_on_cookie_check(sec, &cc, NULL), 0);
	expect_replaced(sid[2]);
	ck_assert_int_eq(ipc_recv_expect(main_peer, MS_TYPE__MS_COOKIE_RESULT,
					 &ms_cookie_result__descriptor, 4096, sec, (void **)&r,
					 NULL, 0, 1000),
			 0);
	ck_assert(r->ok);
	snprintf(sid[3], sizeof(sid[3]), "%s", r->sid);
	ck_assert_uint_eq(sec_sessions_in_use(sec, "alice", NULL), 1);
	/* The replaced one cannot take the place back: it is the older login. */
	r = check_cookie(13, a[2]->cookie.data, a[2]->cookie.len);
	ck_assert(!r->ok);
	ck_assert_str_eq(r->reason, "replaced by a newer login");
	/* The second session's tunnel ends after main heard of the replacement. */
	session_down(sid[1], 2, true);
	expect_expired(sid[1]);
	session_down(sid[2], 3, true);
	expect_expired(sid[2]);
	ck_assert_uint_eq(sec_sessions_in_use(sec, "alice", NULL), 1);
	session_down(sid[3], 4, true);
	expect_expired(sid[3]);
	ck_assert_uint_eq(sec_sessions_in_use(sec, "alice", NULL), 0);
	ck_assert_uint_eq(HASH_CNT(hh, sec->users_in_use), 0);
	for (int i = 0; i < 4; i++)
		close(peer[i]);
}
END_TEST

/* A tunnel request that is refused for another reason (here: a certificate-bound
 * session's certificate was not presented) replaces nothing. */
START_TEST(test_refused_request_replaces_nothing)
{
	int peer[2];
	struct sec_worker *w[2];
	SwAuthReply *a[2];
	struct sec_session *s, *tmp, *newer = NULL;
	MsCookieResult *r;

	for (int i = 0; i < 2; i++)
		w[i] = new_worker((uint32_t)i + 1, &peer[i]);
	sec->cfg->max_same_clients_policy = CONFIG_SAME_REPLACE_OLDEST;
	a[0] = login(w[0], peer[0], "alice", "right");
	a[1] = login(w[1], peer[1], "alice", "right");
	ck_assert(check_cookie(1, a[0]->cookie.data, a[0]->cookie.len)->ok);
	HASH_ITER(hh_sid, sec->sessions_by_sid, s, tmp)
		if (!s->in_use_by)
			newer = s;
	ck_assert_ptr_nonnull(newer);
	newer->has_cert = true;
	memset(newer->cert_sha256, 0x5a, sizeof(newer->cert_sha256));
	/* check_cookie takes sec's first message: a replacement would come before it */
	r = check_cookie(2, a[1]->cookie.data, a[1]->cookie.len);
	ck_assert(!r->ok);
	ck_assert_uint_eq(r->http_code, 401);
	ck_assert_uint_eq(sec_sessions_in_use(sec, "alice", NULL), 1);
	ck_assert(check_cookie(11, a[0]->cookie.data, a[0]->cookie.len)->ok);
	for (int i = 0; i < 2; i++)
		close(peer[i]);
}
END_TEST

/* The default policy refuses, and an older login never replaces a newer session. */
START_TEST(test_refuse_and_no_older_replacement)
{
	int peer[3];
	struct sec_worker *w[3];
	SwAuthReply *a[3];
	MsCookieResult *r;

	for (int i = 0; i < 3; i++)
		w[i] = new_worker((uint32_t)i + 1, &peer[i]);
	ck_assert_int_eq(sec->cfg->max_same_clients_policy, CONFIG_SAME_REFUSE);
	a[0] = login(w[0], peer[0], "alice", "right");
	a[1] = login(w[1], peer[1], "alice", "right");
	ck_assert(check_cookie(2, a[1]->cookie.data, a[1]->cookie.len)->ok);
	/* refuse: the older session's tunnel and a third login are refused */
	r = check_cookie(1, a[0]->cookie.data, a[0]->cookie.len);
	ck_assert(!r->ok);
	ck_assert_uint_eq(r->http_code, 503);
	ck_assert_int_eq(login(w[2], peer[2], "alice", "right")->result,
			 SW_AUTH_RESULT__SW_AUTH_FAIL);
	/* replace-oldest: the older session still cannot take the newer one's place */
	sec->cfg->max_same_clients_policy = CONFIG_SAME_REPLACE_OLDEST;
	r = check_cookie(1, a[0]->cookie.data, a[0]->cookie.len);
	ck_assert(!r->ok);
	ck_assert_uint_eq(r->http_code, 503);
	ck_assert_uint_eq(sec_sessions_in_use(sec, "alice", NULL), 1);
	for (int i = 0; i < 3; i++)
		close(peer[i]);
}
END_TEST

static struct sec_session *scale_session(unsigned i, char cookie[2 * SEC_COOKIE_LEN + 1])
{
	/* no user or group file: the global values */
	struct sec_user_conf conf = {.text = NULL,
				     .max_same_clients = -1,
				     .deny_roaming = -1,
				     .session_timeout = -1,
				     .same_clients_policy = -1};
	char user[32];
	struct sec_session *s;

	snprintf(user, sizeof(user), "user%u", i % SCALE_USERS);
	s = sec_session_new(sec, user, "staff", "198.18.0.2", &conf, cookie);
	ck_assert_ptr_nonnull(s);
	return s;
}

/* 10,000 sessions of 100 users and 10,000 cookie checks: each cookie finds its own
 * session, max-same-clients counts each user's sessions, and nothing is left of a session
 * once it is gone, whether logged out or expired. Behaviour at scale; the time it takes
 * belongs in a benchmark. */
START_TEST(test_ten_thousand_sessions)
{
	static char cookie[SCALE_N][2 * SEC_COOKIE_LEN + 1], sid[SCALE_N][SEC_SID_LEN + 1];
	char extra[2 * SEC_COOKIE_LEN + 1];
	MsCookieResult *r;

	sec->cfg->max_same_clients = SCALE_N / SCALE_USERS;
	for (unsigned i = 0; i < SCALE_N; i++)
		snprintf(sid[i], sizeof(sid[i]), "%s", scale_session(i, cookie[i])->sid);
	for (unsigned i = 0; i < SCALE_N; i++) {
		char user[32];

		snprintf(user, sizeof(user), "user%u", i % SCALE_USERS);
		r = check_cookie(i + 1, (const uint8_t *)cookie[i], 2 * SEC_COOKIE_LEN);
		ck_assert(r->ok);
		ck_assert_str_eq(r->sid, sid[i]);
		ck_assert_str_eq(r->username, user);
		talloc_free(r);
	}
	for (unsigned u = 0; u < SCALE_USERS; u++) {
		char user[32];

		snprintf(user, sizeof(user), "user%u", u);
		ck_assert_uint_eq(sec_sessions_in_use(sec, user, NULL), SCALE_N / SCALE_USERS);
	}
	ck_assert_uint_eq(sec_sessions_in_use(sec, "alice", NULL), 0);

	/* A newer tunnel of the same session takes it over: still one session in use. */
	r = check_cookie(SCALE_N + 1, (const uint8_t *)cookie[0], 2 * SEC_COOKIE_LEN);
	ck_assert(r->ok);
	ck_assert_uint_eq(sec_sessions_in_use(sec, "user0", NULL), SCALE_N / SCALE_USERS);
	/* ... and a new session of a user at the limit is refused */
	scale_session(0, extra);
	r = check_cookie(SCALE_N + 2, (const uint8_t *)extra, 2 * SEC_COOKIE_LEN);
	ck_assert(!r->ok);
	ck_assert_uint_eq(r->http_code, 503);

	/* Each logout frees exactly one session and one place of its user. */
	for (unsigned i = 0; i < SCALE_N; i++) {
		session_down(sid[i], i == 0 ? SCALE_N + 1 : i + 1, true);
		expect_expired(sid[i]);
	}
	for (unsigned u = 0; u < SCALE_USERS; u++) {
		char user[32];

		snprintf(user, sizeof(user), "user%u", u);
		ck_assert_uint_eq(sec_sessions_in_use(sec, user, NULL), 0);
	}
	ck_assert_uint_eq(HASH_CNT(hh, sec->users_in_use), 0);
	for (unsigned i = 0; i < SCALE_N; i += 97) {
		r = check_cookie(i + 1, (const uint8_t *)cookie[i], 2 * SEC_COOKIE_LEN);
		ck_assert(!r->ok);
		ck_assert_uint_eq(r->http_code, 401);
	}
	/* the one session left, never used, is now within the limit */
	ck_assert_uint_eq(HASH_CNT(hh_sid, sec->sessions_by_sid), 1);
	ck_assert_uint_eq(HASH_CNT(hh_cookie, sec->sessions_by_cookie), 1);
	ck_assert(check_cookie(SCALE_N + 3, (const uint8_t *)extra, 2 * SEC_COOKIE_LEN)->ok);
}
END_TEST

/* Expiry by the cookie timer leaves no trace either; a session in use does not expire. */
START_TEST(test_expired_cookie_is_gone)
{
	char cookie[100][2 * SEC_COOKIE_LEN + 1], sid[100][SEC_SID_LEN + 1];

	sec->cfg->max_same_clients = 0;
	sec->cfg->cookie_timeout = 0;
	for (unsigned i = 0; i < 100; i++)
		snprintf(sid[i], sizeof(sid[i]), "%s", scale_session(i, cookie[i])->sid);
	for (unsigned i = 0; i < 100; i += 2)
		ck_assert(check_cookie(i + 1, (const uint8_t *)cookie[i], 2 * SEC_COOKIE_LEN)->ok);
	ev_run(sec->loop, EVRUN_NOWAIT);
	/* the timers fire in no particular order: each unused session once */
	for (unsigned n = 0; n < 50; n++) {
		MsSessionExpired *exp = NULL;
		unsigned i = 0;

		ck_assert_int_eq(ipc_recv_expect(main_peer, MS_TYPE__MS_SESSION_EXPIRED,
						 &ms_session_expired__descriptor, 4096, sec,
						 (void **)&exp, NULL, 0, 1000),
				 0);
		while (i < 100 && strcmp(sid[i], exp->sid) != 0)
			i++;
		ck_assert_uint_lt(i, 100);
		ck_assert_uint_eq(i % 2, 1);
		sid[i][0] = '\0';
		talloc_free(exp);
	}
	ck_assert_uint_eq(HASH_CNT(hh_sid, sec->sessions_by_sid), 50);
	ck_assert_uint_eq(HASH_CNT(hh_cookie, sec->sessions_by_cookie), 50);
	ck_assert_uint_eq(sec_sessions_in_use(sec, "user0", NULL), 1);
	ck_assert_uint_eq(sec_sessions_in_use(sec, "user1", NULL), 0);
	for (unsigned i = 0; i < 100; i++) {
		/* an expired cookie finds nothing; one in use is taken over */
		MsCookieResult *r =
		    check_cookie(1000 + i, (const uint8_t *)cookie[i], 2 * SEC_COOKIE_LEN);

		ck_assert(r->ok == (i % 2 == 0));
	}
	/* A tunnel that ends without a logout re-arms the cookie; then it expires too. */
	session_down(sid[0], 1000, false);
	ck_assert_uint_eq(sec_sessions_in_use(sec, "user0", NULL), 0);
	ev_run(sec->loop, EVRUN_NOWAIT);
	expect_expired(sid[0]);
	ck_assert(!check_cookie(1, (const uint8_t *)cookie[0], 2 * SEC_COOKIE_LEN)->ok);
}
END_TEST

int main(void)
{
	const struct check_test core[] = {
	    {test_signs_digest_and_it_verifies},
	    {test_refuses_non_digest_input},
	    {test_bounded_number_of_signatures},
	    {test_no_signing_after_handshake},
	    {test_sign_shapes, true, sizeof(sign_cases) / sizeof(sign_cases[0])},
	    {test_reload_changes_sign_policy},
	    {test_key_must_match_cert},
	    {test_backend_conf},
	    {test_dae_packets},
	    {test_hash_match_in_helper},
	    {test_hash_mismatch_in_helper},
	    {test_hash_dummy_for_unknown_and_locked},
	    {test_hash_helper_dies_or_times_out, true, 2},
	    {test_hash_answer_out_of_state, true, 2},
	    {test_tries_are_counted},
	    {test_cookie_lifecycle},
	    {test_replace_oldest},
	    {test_refuse_and_no_older_replacement},
	    {test_refused_request_replaces_nothing},
	    {test_ten_thousand_sessions},
	    {test_expired_cookie_is_gone},
	    {NULL},
	};
	const struct check_case cases[] = {
	    {"core", setup, teardown, 30, core},
	    {NULL},
	};

	log_init("test_sec", 1, LOG_ERR);
	make_keys();
	return check_main("sec", cases);
}
