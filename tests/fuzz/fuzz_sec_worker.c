/* sec as a compromised worker sees it: arbitrary sequences of worker messages (raw
 * frames, and well-formed sign, handshake-done and password requests with chosen
 * shapes) go through sec's real worker route table and handlers (sec.c, sec_keys.c,
 * sec_auth.c, sec_cert.c, sec_sessions.c) for two workers, with a real ECDSA key, a
 * password file, and a CA with one client certificate (CN=alice): the client
 * certificate a worker relays is the real one, a copy with bytes changed, or the
 * input's bytes. The configuration lets the certificate or the password log in alone.
 * sec must never sign for a worker more than SEC_MAX_SIGNS times, never after its
 * handshake, never anything but what a handshake with its P-256 key asks for (sec_sign.c:
 * flags 0, an ECDSA algorithm for any curve or for P-256, the digest length of its
 * hash), never accept a password after its tries ran out, never log a certificate in
 * unless it was the real one, unchanged, never accept a session cookie for the client
 * profile (SW_COOKIE_CHECK) that it did not hand out, and must leave no descriptor
 * behind.
 *
 * Input: a sequence of operations, one byte each, followed by their arguments. */
#include "config.h"

#include <crypt.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/abstract.h>
#include <gnutls/x509.h>

#include "common/session.h"
#include "ipc/sec_worker.pb-c.h"
#include "sec/sec.h"

extern const struct ipc_route sec_from_worker[];
extern const size_t sec_from_worker_n;

static char dir[] = "/tmp/fuzz-sec.XXXXXX";
static char key_path[64], passwd_path[64], ca_path[64];
static uint8_t *client_der; /* the CA's certificate for alice, DER */
static size_t client_der_len;

struct fake {
	struct sec_worker *w;
	int peer;
	unsigned signed_ok, cookies;
	bool handshake_done;
	unsigned wrong; /* wrong passwords sent */
	SwSignReq last_sign; /* the last well-formed sign request (raw frames may follow) */
	bool raw_sent;       /* a raw frame since: its shape is unknown */
	bool real_cert;      /* its handshake relayed alice's certificate unchanged */
	bool cert_login;     /* a certificate login was sent (its reply may bring a cookie) */
	bool cookie_issued;  /* its last cookie check carried a cookie sec handed out */
};

/* The cookies sec handed out in this input's logins. */
static char issued[4][SESSION_COOKIE_MAX + 1];
static unsigned n_issued;

/* A signature sec may make with the P-256 key for the default tls-priorities. */
static bool p256_shape(const SwSignReq *r)
{
	/* clang-format off */
	static const struct {
		unsigned algo;
		size_t len;
	} ok[] = {
	    {GNUTLS_SIGN_ECDSA_SHA256, 32},
	    {GNUTLS_SIGN_ECDSA_SHA384, 48},
	    {GNUTLS_SIGN_ECDSA_SHA512, 64},
	    {GNUTLS_SIGN_ECDSA_SHA1, 20},
	    {GNUTLS_SIGN_ECDSA_SECP256R1_SHA256, 32},
	};
	/* clang-format on */

	if (r->flags != 0)
		return false;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (r->sign_algo == ok[i].algo && r->hash.len == ok[i].len)
			return true;
	return false;
}

void log_printf(int priority, const char *func, const char *fmt, ...)
{
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "w");

	if (!f || fwrite(data, 1, len, f) != len)
		abort();
	fclose(f);
}

/* A CA (written to ca_path) and its certificate for CN=alice, kept as DER. */
static void make_certs(void)
{
	gnutls_x509_privkey_t cakey, key;
	gnutls_x509_crt_t ca, crt;
	gnutls_datum_t out;
	time_t now = time(NULL);
	unsigned char serial = 1;

	if (gnutls_x509_privkey_init(&cakey) < 0 || gnutls_x509_privkey_init(&key) < 0 ||
	    gnutls_x509_privkey_generate(cakey, GNUTLS_PK_ECDSA,
					 GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0) < 0 ||
	    gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
					 GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0) < 0 ||
	    gnutls_x509_crt_init(&ca) < 0 || gnutls_x509_crt_init(&crt) < 0)
		abort();
	if (gnutls_x509_crt_set_version(ca, 3) < 0 || gnutls_x509_crt_set_serial(ca, &serial, 1) < 0 ||
	    gnutls_x509_crt_set_activation_time(ca, now - 60) < 0 ||
	    gnutls_x509_crt_set_expiration_time(ca, now + 86400) < 0 ||
	    gnutls_x509_crt_set_dn_by_oid(ca, GNUTLS_OID_X520_COMMON_NAME, 0, "fuzz CA", 7) < 0 ||
	    gnutls_x509_crt_set_key(ca, cakey) < 0 || gnutls_x509_crt_set_basic_constraints(ca, 1, -1) < 0 ||
	    gnutls_x509_crt_set_key_usage(ca, GNUTLS_KEY_KEY_CERT_SIGN) < 0 ||
	    gnutls_x509_crt_sign2(ca, ca, cakey, GNUTLS_DIG_SHA256, 0) < 0)
		abort();
	serial = 2;
	if (gnutls_x509_crt_set_version(crt, 3) < 0 || gnutls_x509_crt_set_serial(crt, &serial, 1) < 0 ||
	    gnutls_x509_crt_set_activation_time(crt, now - 60) < 0 ||
	    gnutls_x509_crt_set_expiration_time(crt, now + 86400) < 0 ||
	    gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, "alice", 5) < 0 ||
	    gnutls_x509_crt_set_key(crt, key) < 0 ||
	    gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_CLIENT, 0) < 0 ||
	    gnutls_x509_crt_sign2(crt, ca, cakey, GNUTLS_DIG_SHA256, 0) < 0)
		abort();
	if (gnutls_x509_crt_export2(ca, GNUTLS_X509_FMT_PEM, &out) < 0)
		abort();
	snprintf(ca_path, sizeof(ca_path), "%s/ca.pem", dir);
	write_file(ca_path, out.data, out.size);
	gnutls_free(out.data);
	if (gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &out) < 0)
		abort();
	client_der = malloc(out.size);
	if (!client_der)
		abort();
	memcpy(client_der, out.data, out.size);
	client_der_len = out.size;
	gnutls_free(out.data);
	gnutls_x509_crt_deinit(ca);
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(cakey);
	gnutls_x509_privkey_deinit(key);
}

static void make_files(void)
{
	gnutls_x509_privkey_t xkey;
	gnutls_datum_t pem;
	struct crypt_data cd = {0};
	char salt[CRYPT_GENSALT_OUTPUT_SIZE], line[512];

	if (!mkdtemp(dir) || gnutls_x509_privkey_init(&xkey) < 0 ||
	    gnutls_x509_privkey_generate(xkey, GNUTLS_PK_ECDSA,
					 GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0) < 0 ||
	    gnutls_x509_privkey_export2(xkey, GNUTLS_X509_FMT_PEM, &pem) < 0)
		abort();
	snprintf(key_path, sizeof(key_path), "%s/key.pem", dir);
	write_file(key_path, pem.data, pem.size);
	gnutls_free(pem.data);
	gnutls_x509_privkey_deinit(xkey);
	/* The cheapest hash ocpasswd files hold: the fuzzer tries many passwords. */
	if (!crypt_gensalt_rn("$5$", 1000, NULL, 0, salt, sizeof(salt)) ||
	    !crypt_r("right", salt, &cd))
		abort();
	snprintf(line, sizeof(line), "alice:staff:%s\nbob:*:!%s\n", cd.output, cd.output);
	snprintf(passwd_path, sizeof(passwd_path), "%s/passwd", dir);
	write_file(passwd_path, line, strlen(line));
	make_certs();
}

/* Descriptors that sec's code would leak: sockets (worker and main channels) and the
 * files it reads (key, password file). Libraries may open others once, on first use. */
static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		abort();
	while ((e = readdir(d))) {
		char path[64], target[256];
		ssize_t len;

		snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
		len = readlink(path, target, sizeof(target) - 1);
		if (len <= 0)
			continue;
		target[len] = '\0';
		if (strncmp(target, "socket:", 7) == 0 || strncmp(target, dir, strlen(dir)) == 0)
			n++;
	}
	closedir(d);
	return n;
}

static uint8_t byte(const uint8_t **p, size_t *left)
{
	if (!*left)
		return 0;
	(*left)--;
	return *(*p)++;
}

/* What sec answered the worker: counts signatures and cookies it handed out. */
static void read_replies(struct fake *f)
{
	uint8_t buf[8192];
	ssize_t n;

	while ((n = recv(f->peer, buf, sizeof(buf), MSG_DONTWAIT)) >= 8) {
		uint16_t type = (uint16_t)(buf[0] | buf[1] << 8);

		if (type == SW_TYPE__SW_SIGN_REPLY) {
			SwSignReply *r = sw_sign_reply__unpack(NULL, (size_t)n - 8, buf + 8);

			if (r && r->ok) {
				/* Never after the handshake, never more than the bound, never
				 * another shape. */
				if (f->handshake_done || ++f->signed_ok > SEC_MAX_SIGNS)
					abort();
				if (!f->raw_sent && !p256_shape(&f->last_sign))
					abort();
			}
			sw_sign_reply__free_unpacked(r, NULL);
		} else if (type == SW_TYPE__SW_AUTH_REPLY) {
			SwAuthReply *r = sw_auth_reply__unpack(NULL, (size_t)n - 8, buf + 8);

			if (r && r->has_cookie && ++f->cookies > 1)
				abort(); /* one worker, one login */
			/* A certificate logs in only as the real, unchanged one. */
			if (r && r->has_cookie && f->cert_login && !f->real_cert)
				abort();
			f->cert_login = false;
			if (r && r->has_cookie && r->cookie.len <= SESSION_COOKIE_MAX &&
			    n_issued < 4) {
				memcpy(issued[n_issued], r->cookie.data, r->cookie.len);
				issued[n_issued++][r->cookie.len] = '\0';
			}
			sw_auth_reply__free_unpacked(r, NULL);
		} else if (type == SW_TYPE__SW_COOKIE_REPLY) {
			SwCookieReply *r = sw_cookie_reply__unpack(NULL, (size_t)n - 8, buf + 8);

			if (r && r->ok && !f->cookie_issued)
				abort(); /* only a live session's cookie gets the profile */
			sw_cookie_reply__free_unpacked(r, NULL);
		}
	}
}

static void drain_main(int fd)
{
	uint8_t buf[8192];

	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
}

static void new_worker(struct sec_ctx *sec, struct fake *f, uint32_t id)
{
	int sp[2];

	memset(f, 0, sizeof(*f));
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		abort();
	f->w = talloc_zero(sec, struct sec_worker);
	f->w->sec = sec;
	f->w->id = id;
	f->w->pid = 1000 + id;
	f->w->client_ip = talloc_strdup(f->w, "198.18.0.2");
	f->w->state = SECW_HANDSHAKE;
	f->w->key = sec->key;
	ipc_channel_init(&f->w->ch, sp[0], sec_from_worker, sec_from_worker_n, SEC_CERT_MAX + 1024,
			 "fuzz worker");
	f->peer = sp[1];
}

static void send_frame(struct fake *f, const uint8_t **p, size_t *left)
{
	uint8_t frame[8 + 256];
	uint16_t type = byte(p, left) % 10;
	size_t len = byte(p, left);

	if (len > *left)
		len = *left;
	memset(frame, 0, 8);
	frame[0] = (uint8_t)type;
	frame[4] = (uint8_t)len;
	memcpy(frame + 8, *p, len);
	*p += len;
	*left -= len;
	send(f->peer, frame, 8 + len, 0);
	f->raw_sent = true;
}

static const unsigned algos[] = {GNUTLS_SIGN_ECDSA_SHA256,
				 GNUTLS_SIGN_ECDSA_SHA384,
				 GNUTLS_SIGN_ECDSA_SHA512,
				 GNUTLS_SIGN_RSA_SHA256,
				 GNUTLS_SIGN_RSA_PSS_SHA256,
				 GNUTLS_SIGN_EDDSA_ED25519,
				 GNUTLS_SIGN_ECDSA_SECP256R1_SHA256,
				 0xffff,
				 GNUTLS_SIGN_RSA_RAW,
				 GNUTLS_SIGN_ECDSA_SHA1,
				 GNUTLS_SIGN_ECDSA_SECP384R1_SHA384,
				 GNUTLS_SIGN_RSA_PSS_RSAE_SHA256};

static void send_well_formed(struct fake *f, const uint8_t **p, size_t *left)
{
	uint8_t what = byte(p, left), hash[100];

	memset(hash, byte(p, left), sizeof(hash));
	if (what % 3 == 0) {
		SwSignReq r = SW_SIGN_REQ__INIT;

		r.sign_algo = algos[byte(p, left) % (sizeof(algos) / sizeof(algos[0]))];
		r.flags = byte(p, left) & 3;
		r.hash.data = hash;
		r.hash.len = byte(p, left) % sizeof(hash);
		ipc_send(f->peer, SW_TYPE__SW_SIGN_REQ, &r.base, NULL, 0);
		f->last_sign = r;
		f->raw_sent = false;
	} else if (what % 3 == 1) {
		SwHandshakeDone d = SW_HANDSHAKE_DONE__INIT;
		uint8_t how = byte(p, left), copy[SEC_CERT_MAX];

		/* None, alice's, alice's with bytes changed, or the input's bytes. */
		f->real_cert = false;
		if (how % 4 == 1 || how % 4 == 2) {
			memcpy(copy, client_der, client_der_len);
			d.has_client_cert = true;
			d.client_cert.data = copy;
			d.client_cert.len = client_der_len;
			f->real_cert = how % 4 == 1;
			if (how % 4 == 2) {
				uint8_t n = byte(p, left);

				copy[n % client_der_len] ^= (uint8_t)(byte(p, left) | 1);
			}
		} else if (how % 4 == 3) {
			size_t len = byte(p, left);

			d.has_client_cert = true;
			d.client_cert.len = len > *left ? *left : len;
			d.client_cert.data = (uint8_t *)*p;
			*p += d.client_cert.len;
			*left -= d.client_cert.len;
		}
		ipc_send(f->peer, SW_TYPE__SW_HANDSHAKE_DONE, &d.base, NULL, 0);
		f->handshake_done = true;
	} else if ((what & 0x30) == 0x30) {
		/* A cookie sec handed out, one with a character changed, or the input's. */
		SwCookieCheck c = SW_COOKIE_CHECK__INIT;
		char cookie[SESSION_COOKIE_MAX + 1];
		uint8_t how = byte(p, left);

		if (n_issued && how % 3 != 2) {
			strcpy(cookie, issued[how % n_issued]);
			if (how % 3 == 1 && cookie[0])
				cookie[byte(p, left) % strlen(cookie)] ^= 1;
			c.cookie.len = strlen(cookie);
		} else {
			c.cookie.len = byte(p, left);
			c.cookie.len = c.cookie.len > *left ? *left : c.cookie.len;
			memcpy(cookie, *p, c.cookie.len);
			*p += c.cookie.len;
			*left -= c.cookie.len;
		}
		c.cookie.data = (uint8_t *)cookie;
		f->cookie_issued = false;
		for (unsigned i = 0; i < n_issued; i++)
			if (strlen(issued[i]) == c.cookie.len &&
			    memcmp(issued[i], cookie, c.cookie.len) == 0)
				f->cookie_issued = true;
		ipc_send(f->peer, SW_TYPE__SW_COOKIE_CHECK, &c.base, NULL, 0);
	} else if (what & 4) {
		SwCertLogin c = SW_CERT_LOGIN__INIT;

		c.group = (what & 8) ? "staff" : NULL;
		ipc_send(f->peer, SW_TYPE__SW_CERT_LOGIN, &c.base, NULL, 0);
		f->cert_login = true;
	} else {
		static const char *const users[] = {"alice", "bob", "", "../passwd", "alice\n"};
		static const char *const pws[] = {"right", "wrong", ""};
		SwAuthReq r = SW_AUTH_REQ__INIT;
		uint8_t u = byte(p, left);

		r.username = (char *)users[u % 5];
		r.password = (char *)pws[(u >> 3) % 3];
		r.group = (u & 0x80) ? "staff" : NULL;
		ipc_send(f->peer, SW_TYPE__SW_AUTH_REQ, &r.base, NULL, 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fds_before;
	static bool made;
	struct sec_ctx *sec;
	struct fake fakes[2];
	int sp[2];

	if (!made) {
		make_files();
		made = true;
	}
	fds_before = count_fds();
	n_issued = 0;
	sec = talloc_zero(NULL, struct sec_ctx);
	sec->cfg = talloc_zero(sec, struct sluice_config);
	sec->cfg->server_key = key_path;
	sec->cfg->passwd_file = passwd_path;
	sec->cfg->auth_tries = 3;
	sec->cfg->max_same_clients = 2;
	sec->cfg->cookie_timeout = 60;
	sec->cfg->tls_priorities =
	    "NORMAL:%SERVER_PRECEDENCE:%COMPAT:-VERS-SSL3.0:-VERS-TLS1.0:-VERS-TLS1.1";
	sec->cfg->auth_required = CONFIG_AUTH_CERT;
	sec->cfg->auth_alternatives = CONFIG_AUTH_PASSWORD;
	sec->cfg->ca_cert = ca_path;
	sec->cfg->cert_user_oid = "2.5.4.3";
	sec->loop = ev_loop_new(EVFLAG_AUTO);
	if (!sec->loop || sec_keys_load(sec) < 0 || sec_certs_reload(sec) < 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		abort();
	sec->main_ch.fd = sp[0];
	sec->main_q.limit = SEC_QUEUE_LIMIT;
	/* No auth helper launcher: a password login fails at once, as with a launcher that
	 * is gone (its hash is checked in a helper; fuzz_sec_helper.c plays them). */
	sec_helpers_init(sec);
	new_worker(sec, &fakes[0], 1);
	new_worker(sec, &fakes[1], 2);

	while (size) {
		uint8_t op = byte(&data, &size);
		struct fake *f = &fakes[op & 1];
		int ret;

		if (!f->w)
			continue;
		if (op & 2)
			send_frame(f, &data, &size);
		else
			send_well_formed(f, &data, &size);
		ret = ipc_recv_dispatch(&f->w->ch, f->w->state, f->w);
		read_replies(f);
		drain_main(sp[1]);
		if (ret < 0 && ret != -EAGAIN) {
			/* sec ends a worker that broke the contract. */
			close(f->w->ch.fd);
			talloc_free(f->w);
			f->w = NULL;
			close(f->peer);
		}
	}
	for (int i = 0; i < 2; i++) {
		if (fakes[i].w) {
			close(fakes[i].w->ch.fd);
			close(fakes[i].peer);
		}
	}
	close(sp[0]);
	close(sp[1]);
	ev_loop_destroy(sec->loop);
	/* sec keeps its tables for its life; uthash's buckets are not talloc's. */
	HASH_CLEAR(hh_sid, sec->sessions_by_sid);
	HASH_CLEAR(hh_cookie, sec->sessions_by_cookie);
	HASH_CLEAR(hh, sec->users_in_use);
	talloc_free(sec);
	if (count_fds() != fds_before)
		abort();
	return 0;
}
