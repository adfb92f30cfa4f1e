/* sec's security decisions, driven through its real handlers and route table: what it
 * signs (digest-sized input, handshake state only, bounded count), how it counts
 * password tries, and how cookies, max-same-clients and logouts behave. */
#include "config.h"
#include "sec/sec.h"

#include <check.h>
#include <crypt.h>
#include <errno.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "ipc/main_sec.pb-c.h"
#include "ipc/sec_worker.pb-c.h"

#include "check_main.h"

static char dir[] = "/tmp/sluice-test-sec.XXXXXX";
static struct sec_ctx *sec;
static int main_peer; /* what sec sends to main arrives here */
static gnutls_pubkey_t pubkey;

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
	char salt[CRYPT_GENSALT_OUTPUT_SIZE], line[512], path[256];
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
	snprintf(line, sizeof(line), "alice:staff:%s\n", cd.output);
	write_file("passwd", line, strlen(line));

	sec = talloc_zero(NULL, struct sec_ctx);
	sec->cfg = talloc_zero(sec, struct sluice_config);
	snprintf(path, sizeof(path), "%s/key.pem", dir);
	sec->cfg->server_key = talloc_strdup(sec, path);
	snprintf(path, sizeof(path), "%s/passwd", dir);
	sec->cfg->passwd_file = talloc_strdup(sec, path);
	sec->cfg->auth_tries = 3;
	sec->cfg->max_same_clients = 1;
	sec->cfg->cookie_timeout = 60;
	sec->loop = ev_loop_new(EVFLAG_AUTO);
	ck_assert_int_eq(sec_keys_load(sec), 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp), 0);
	sec->main_ch.fd = sp[0];
	main_peer = sp[1];
}

static void teardown(void)
{
	char cmd[300];

	close(sec->main_ch.fd);
	close(main_peer);
	ev_loop_destroy(sec->loop);
	gnutls_pubkey_deinit(pubkey);
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

static int sign(struct sec_worker *w, const uint8_t *hash, size_t len, unsigned flags)
{
	SwSignReq req = SW_SIGN_REQ__INIT;

	req.sign_algo = GNUTLS_SIGN_ECDSA_SHA256;
	req.flags = flags;
	req.hash.data = (uint8_t *)hash;
	req.hash.len = len;
	return sec_on_sign_req(w, &req, NULL);
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

static SwAuthReply *login(struct sec_worker *w, int peer, const char *user, const char *pw)
{
	SwAuthReq req = SW_AUTH_REQ__INIT;
	SwAuthReply *reply = NULL;
	MsAuthEvent *ev = NULL;

	req.username = (char *)user;
	req.password = talloc_strdup(w, pw);
	w->state = SECW_AUTH;
	ck_assert_int_eq(sec_on_auth_req(w, &req, NULL), 0);
	ck_assert_int_eq(ipc_recv_expect(peer, SW_TYPE__SW_AUTH_REPLY, &sw_auth_reply__descriptor,
					 4096, w, (void **)&reply, NULL, 0, 5000),
			 0);
	ck_assert_int_eq(ipc_recv_expect(main_peer, MS_TYPE__MS_AUTH_EVENT,
					 &ms_auth_event__descriptor, 4096, w, (void **)&ev, NULL, 0,
					 1000),
			 0);
	ck_assert_int_eq(ev->ok, reply->result == SW_AUTH_RESULT__SW_AUTH_OK);
	return reply;
}

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
	ck_assert(strstr((const char *)ok->cookie.data, r->sid) ==
		  NULL); /* sid is not the cookie */

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

static struct sec_session *scale_session(unsigned i, char cookie[2 * SEC_COOKIE_LEN + 1])
{
	/* no user or group file: the global values */
	struct sec_user_conf conf = {
	    .text = NULL, .max_same_clients = -1, .deny_roaming = -1, .session_timeout = -1};
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
	    {test_tries_are_counted},
	    {test_cookie_lifecycle},
	    {test_ten_thousand_sessions},
	    {test_expired_cookie_is_gone},
	    {NULL},
	};
	const struct check_case cases[] = {
	    {"core", setup, teardown, 30, core},
	    {NULL},
	};

	log_init("test_sec", 1, LOG_ERR);
	return check_main("sec", cases);
}
