/* sec's privilege drop and seccomp filter. A forked child drops and installs them as
 * sec_run() does, then does sec's real work through its handlers (a login with the
 * password and per-user files, a cookie check, a reload with a new key, signatures,
 * log lines) and must live; a forbidden system call must kill it with SIGSYS. The same
 * for the filter of an LDAP auth helper (its connection to a server). */
#include "config.h"
#include "sec/sec.h"

#include <check.h>
#include <ev.h>
#include <crypt.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>
#include <grp.h>
#include <liboath/oath.h>
#include <linux/futex.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "common/log.h"
#include "common/passwd.h"
#include "common/tls_pin.h"
#include "ipc/main_sec.pb-c.h"
#include "ipc/sec_auth.pb-c.h"
#include "ipc/sec_worker.pb-c.h"

#include "check_main.h"
#include "sandbox_child.h"

#define PRIO   "NORMAL:%SERVER_PRECEDENCE:%COMPAT:-VERS-SSL3.0:-VERS-TLS1.0:-VERS-TLS1.1"

static char dir[] = "/tmp/sluice-test-sec-sandbox.XXXXXX";
static gnutls_datum_t p256_pem, rsa_pem;
static struct sec_ctx *sec;
static int main_peer; /* what sec sends to main arrives here */

static void path_of(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

static void write_file(const char *name, const void *data, size_t len, mode_t mode)
{
	char path[256];
	int fd;

	path_of(path, sizeof(path), name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	ck_assert_int_eq(fchmod(fd, mode), 0);
	close(fd);
}

static void make_key(gnutls_pk_algorithm_t pk, unsigned bits, gnutls_datum_t *pem)
{
	gnutls_x509_privkey_t xkey;

	if (gnutls_x509_privkey_init(&xkey) < 0 ||
	    gnutls_x509_privkey_generate(xkey, pk, bits, 0) < 0 ||
	    gnutls_x509_privkey_export2(xkey, GNUTLS_X509_FMT_PEM, pem) < 0) {
		fprintf(stderr, "cannot generate a test key\n");
		exit(EXIT_FAILURE);
	}
	gnutls_x509_privkey_deinit(xkey);
}

static void setup(void)
{
	struct crypt_data cd = {0};
	char salt[CRYPT_GENSALT_OUTPUT_SIZE], line[512], path[256];
	int sp[2];

	ck_assert_ptr_nonnull(mkdtemp(dir));
	write_file("key.pem", p256_pem.data, p256_pem.size, 0600);
	write_file("rsa.pem", rsa_pem.data, rsa_pem.size, 0600);
	ck_assert_ptr_nonnull(crypt_gensalt_rn("$y$", 0, NULL, 0, salt, sizeof(salt)));
	ck_assert_ptr_nonnull(crypt_r("right", salt, &cd));
	snprintf(line, sizeof(line), "alice:staff:%s\n", cd.output);
	write_file("passwd", line, strlen(line), 0600);
	path_of(path, sizeof(path), "users");
	ck_assert_int_eq(mkdir(path, 0700), 0);
	write_file("users/alice", "max-same-clients = 2\n", 21, 0600);

	sec = talloc_zero(NULL, struct sec_ctx);
	sec->cfg = talloc_zero(sec, struct sluice_config);
	path_of(path, sizeof(path), "key.pem");
	sec->cfg->server_key = talloc_strdup(sec, path);
	path_of(path, sizeof(path), "passwd");
	sec->cfg->passwd_file = talloc_strdup(sec, path);
	sec->cfg->auth_required = CONFIG_AUTH_PASSWORD;
	path_of(path, sizeof(path), "users");
	sec->cfg->config_per_user = talloc_strdup(sec, path);
	sec->cfg->tls_priorities = talloc_strdup(sec, PRIO);
	sec->cfg->auth_tries = 3;
	sec->cfg->cookie_timeout = 60;
	sec->loop = ev_loop_new(EVFLAG_AUTO);
	ck_assert_ptr_nonnull(sec->loop);
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
	talloc_free(sec);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
	strcpy(dir + strlen(dir) - 6, "XXXXXX");
}

enum child_setup {
	SETUP_NONE,
	SETUP_PRIVDROP, /* sec_privdrop() */
	SETUP_SEC,      /* sec_privdrop(), the key, sec_sandbox_install(): sec_run's order */
	SETUP_LDAP,     /* sec_privdrop(), an LDAP auth helper's filter */
	SETUP_HASH,     /* sec_privdrop(), the filter of plain auth's hash helpers */
};

/* sec's set-up, in sec_run's order, up to the setup asked for. */
static void prepare(int setup)
{
	if (setup != SETUP_NONE)
		CHILD_CHECK(sec_privdrop() >= 0);
	if (setup == SETUP_SEC) {
		CHILD_CHECK(sec_keys_load(sec) == 0);
		CHILD_CHECK(sec_sandbox_install() == 0);
	}
	if (setup == SETUP_LDAP)
		CHILD_CHECK(auth_ldap_sandbox_install() == 0);
	if (setup == SETUP_HASH)
		CHILD_CHECK(auth_hash_sandbox_install() == 0);
}

static int run_child(enum child_setup setup, void (*fn)(void *), void *arg)
{
	return child_run(prepare, setup, fn, arg);
}

/* The value of a "Name:\tvalue" line of /proc/self/status. */
static unsigned long long proc_status(const char *name, int base)
{
	char line[256];
	size_t n = strlen(name);
	unsigned long long v = ~0ull;
	FILE *f = fopen("/proc/self/status", "re");

	CHILD_CHECK(f != NULL);
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, name, n) == 0 && line[n] == ':')
			v = strtoull(line + n + 1, NULL, base);
	fclose(f);
	return v;
}

/* After sec_privdrop() returned ret: every capability set is empty (the bounding set
 * unless ret is 1), no-new-privs and no-dump are set, and root's uid alone reads only
 * what root owns or may read by its mode. */
static void check_dropped(int ret)
{
	char path[256];

	CHILD_CHECK(proc_status("CapInh", 16) == 0);
	CHILD_CHECK(proc_status("CapPrm", 16) == 0);
	CHILD_CHECK(proc_status("CapEff", 16) == 0);
	CHILD_CHECK(proc_status("CapAmb", 16) == 0);
	CHILD_CHECK(ret == 1 || proc_status("CapBnd", 16) == 0);
	CHILD_CHECK(proc_status("NoNewPrivs", 10) == 1);
	CHILD_CHECK(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0);
	CHILD_CHECK(getuid() == 0 && geteuid() == 0);
	CHILD_CHECK(setuid(NOBODY) == -1 && errno == EPERM);
	CHILD_CHECK(setgroups(0, NULL) == -1 && errno == EPERM);

	/* root's own files, as sec finds them */
	CHILD_CHECK(sec_keys_load(sec) == 0);
	path_of(path, sizeof(path), "passwd");
	CHILD_CHECK(close(open(path, O_RDONLY | O_CLOEXEC)) == 0);
	/* no CAP_DAC_OVERRIDE or CAP_DAC_READ_SEARCH: root's file without a read bit,
	 * and another owner's private file, stay closed */
	path_of(path, sizeof(path), "unreadable");
	CHILD_CHECK(open(path, O_RDONLY | O_CLOEXEC) == -1 && errno == EACCES);
	path_of(path, sizeof(path), "nobody.pem");
	CHILD_CHECK(open(path, O_RDONLY | O_CLOEXEC) == -1 && errno == EACCES);
	talloc_free(sec->cfg->server_key);
	sec->cfg->server_key = talloc_strdup(sec->cfg, path);
	CHILD_CHECK(sec_keys_load(sec) == -EINVAL);
}

static void do_privdrop_only(void *arg)
{
	int ret = sec_privdrop();

	CHILD_CHECK(ret == 0 || ret == 1);
	check_dropped(ret);
}

/* Files that root may read only with CAP_DAC_OVERRIDE or CAP_DAC_READ_SEARCH: its own
 * without a read bit, and another owner's private key. */
static void make_closed_files(void)
{
	char path[256];

	write_file("unreadable", "x", 1, 0);
	write_file("nobody.pem", p256_pem.data, p256_pem.size, 0600);
	path_of(path, sizeof(path), "nobody.pem");
	ck_assert_int_eq(chown(path, NOBODY, NOBODY), 0);
}

/* A service manager that withheld CAP_SETPCAP: the bounding set cannot be emptied,
 * everything else is. */
static void do_privdrop_without_setpcap(void *arg)
{
	cap_value_t setpcap = CAP_SETPCAP;
	cap_t caps = cap_get_proc();
	int ret;

	CHILD_CHECK(caps != NULL);
	CHILD_CHECK(cap_set_flag(caps, CAP_EFFECTIVE, 1, &setpcap, CAP_CLEAR) == 0);
	CHILD_CHECK(cap_set_flag(caps, CAP_PERMITTED, 1, &setpcap, CAP_CLEAR) == 0);
	CHILD_CHECK(cap_set_proc(caps) == 0);
	cap_free(caps);
	ret = sec_privdrop();
	CHILD_CHECK(ret == 1);
	CHILD_CHECK(proc_status("CapBnd", 16) != 0);
	check_dropped(ret);
}

START_TEST(test_privdrop_without_setpcap)
{
	make_closed_files();
	assert_exited_ok(run_child(SETUP_NONE, do_privdrop_without_setpcap, NULL));
}
END_TEST

START_TEST(test_privdrop)
{
	make_closed_files();
	assert_exited_ok(run_child(SETUP_NONE, do_privdrop_only, NULL));
}
END_TEST

/* One message from fd, received the way sec and main receive (ipc_recv_dispatch: a
 * non-blocking recvmsg; ipc_recv_expect's poll is not in sec's filter). */
struct taken {
	void *msg;
	int fd;
};

static int keep(void *ctx, void *msg, int *fds)
{
	struct taken *t = ctx;

	t->msg = talloc_steal(NULL, msg);
	t->fd = fds ? fds[0] : -1;
	return 0;
}

static void *take(int fd, uint16_t type, const ProtobufCMessageDescriptor *desc, uint8_t nfds,
		  int *got_fd)
{
	const struct ipc_route route[] = {{type, desc->name, desc, keep, nfds, IPC_ANY_STATE, 0}};
	struct ipc_channel ch;
	struct taken t = {NULL, -1};

	ipc_channel_init(&ch, fd, route, 1, 8192, "test");
	CHILD_CHECK(ipc_recv_dispatch(&ch, IPC_ANY_STATE, &t) == 0);
	if (got_fd)
		*got_fd = t.fd;
	return t.msg;
}

/* sec_run's order (privileges, key, filter), then the work of a day through sec's
 * handlers. */
struct sec_work {
	int worker_pair[2]; /* made before the filter, as main makes it */
	int helper_peer;    /* the auth helper the launcher (the test) handed sec */
};

static void do_sec_work(void *arg)
{
	struct sec_work *sw = arg;
	int *worker_pair = sw->worker_pair;
	SaHashResult hr = SA_HASH_RESULT__INIT;
	SaHash *hreq;
	struct sec_worker *w = talloc_zero(sec, struct sec_worker);
	MsWorkerNew nw = MS_WORKER_NEW__INIT;
	SwSignReq sreq = SW_SIGN_REQ__INIT;
	SwAuthReq auth = SW_AUTH_REQ__INIT;
	MsCookieCheck cc = MS_COOKIE_CHECK__INIT;
	MsReload rl = MS_RELOAD__INIT;
	SwSignReply *sig;
	SwAuthReply *reply;
	MsCookieResult *cr;
	MsReloadResult *rr;
	gnutls_datum_t digest = {NULL, 32}, info;
	gnutls_privkey_t rsa;
	uint8_t pin[TLS_PIN_LEN], d[32] = {1};
	char path[256], *big;
	int peer = worker_pair[1], fd;

	/* main hands over a worker's channel by SCM_RIGHTS */
	nw.worker_id = 1;
	nw.pid = 1001;
	nw.client_ip = "198.18.0.2";
	CHILD_CHECK(ipc_send(main_peer, MS_TYPE__MS_WORKER_NEW, &nw.base, &worker_pair[0], 1) == 0);
	talloc_free(
	    take(sec->main_ch.fd, MS_TYPE__MS_WORKER_NEW, &ms_worker_new__descriptor, 1, &fd));
	CHILD_CHECK(fd >= 0);
	w->sec = sec;
	w->id = 1;
	w->pid = 1001;
	w->client_ip = talloc_strdup(w, "198.18.0.2");
	w->state = SECW_HANDSHAKE;
	w->key = sec->key;
	ipc_channel_init(&w->ch, fd, sec_from_worker, sec_from_worker_n, 4096, "worker");

	/* a TLS 1.2 signature with the P-256 key, asked for through the route table */
	sreq.sign_algo = GNUTLS_SIGN_ECDSA_SHA256;
	sreq.hash.data = d;
	sreq.hash.len = sizeof(d);
	CHILD_CHECK(ipc_send(peer, SW_TYPE__SW_SIGN_REQ, &sreq.base, NULL, 0) == 0);
	CHILD_CHECK(ipc_recv_dispatch(&w->ch, w->state, w) == 0);
	sig = take(peer, SW_TYPE__SW_SIGN_REPLY, &sw_sign_reply__descriptor, 0, NULL);
	CHILD_CHECK(sig->ok && sig->has_signature);

	/* a login: the password file, the hash to an auth helper (the launcher's answer
	 * waits), its verdict through sec's loop, the per-user file, a cookie */
	w->state = SECW_AUTH;
	auth.username = "alice";
	auth.password = talloc_strdup(w, "right");
	CHILD_CHECK(sec_on_auth_req(w, &auth, NULL) == 0);
	hreq = take(sw->helper_peer, SA_TYPE__SA_HASH, &sa_hash__descriptor, 0, NULL);
	CHILD_CHECK(strcmp(hreq->password, "right") == 0);
	hr.match = passwd_verify_hash(hreq->hash, hreq->password) == 0;
	CHILD_CHECK(ipc_send(sw->helper_peer, SA_TYPE__SA_HASH_RESULT, &hr.base, NULL, 0) == 0);
	ev_run(sec->loop, EVRUN_NOWAIT);
	reply = take(peer, SW_TYPE__SW_AUTH_REPLY, &sw_auth_reply__descriptor, 0, NULL);
	CHILD_CHECK(reply->result == SW_AUTH_RESULT__SW_AUTH_OK);
	talloc_free(take(main_peer, MS_TYPE__MS_AUTH_EVENT, &ms_auth_event__descriptor, 0, NULL));
	cc.worker_id = 2;
	cc.cookie = reply->cookie;
	cc.client_ip = "198.18.0.2";
	CHILD_CHECK(sec_on_cookie_check(sec, &cc, NULL) == 0);
	cr = take(main_peer, MS_TYPE__MS_COOKIE_RESULT, &ms_cookie_result__descriptor, 0, NULL);
	CHILD_CHECK(cr->ok);

	/* a reload with an RSA key and other priorities; TLS 1.3 and 1.2 signatures */
	CHILD_CHECK(gnutls_privkey_init(&rsa) == 0);
	CHILD_CHECK(gnutls_privkey_import_x509_raw(rsa, &rsa_pem, GNUTLS_X509_FMT_PEM, NULL, 0) ==
		    0);
	CHILD_CHECK(tls_pin_privkey(rsa, pin) == 0);
	path_of(path, sizeof(path), "rsa.pem");
	rl.generation = 1;
	rl.server_key = path;
	rl.cert_pin.data = pin;
	rl.cert_pin.len = sizeof(pin);
	rl.auth_tries = 3;
	rl.tls_priorities = "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2";
	CHILD_CHECK(sec_on_reload(sec, &rl, NULL) == 0);
	rr = take(main_peer, MS_TYPE__MS_RELOAD_RESULT, &ms_reload_result__descriptor, 0, NULL);
	CHILD_CHECK(rr->ok);
	w->key = sec->key;
	w->state = SECW_HANDSHAKE;
	w->signs = 0;
	sreq.sign_algo = GNUTLS_SIGN_RSA_PSS_RSAE_SHA256;
	CHILD_CHECK(sec_on_sign_req(w, &sreq, NULL) == 0);
	sig = take(peer, SW_TYPE__SW_SIGN_REPLY, &sw_sign_reply__descriptor, 0, NULL);
	CHILD_CHECK(sig->ok);
	digest.data = d;
	CHILD_CHECK(gnutls_encode_ber_digest_info(GNUTLS_DIG_SHA256, &digest, &info) == 0);
	sreq.sign_algo = GNUTLS_SIGN_RSA_RAW;
	sreq.hash.data = info.data;
	sreq.hash.len = info.size;
	CHILD_CHECK(sec_on_sign_req(w, &sreq, NULL) == 0);
	sig = take(peer, SW_TYPE__SW_SIGN_REPLY, &sw_sign_reply__descriptor, 0, NULL);
	CHILD_CHECK(sig->ok);
	gnutls_free(info.data);

	/* the event loop's wait; a large block grown in place (mremap) */
	ev_run(sec->loop, EVRUN_NOWAIT);
	big = malloc(1 << 20);
	CHILD_CHECK(big != NULL);
	memset(big, 1, 1 << 20);
	big = realloc(big, 8 << 20);
	CHILD_CHECK(big != NULL);
	free(big);

	/* log lines: stderr (sluiced -f), and syslog as in the background */
	log_printf(LOG_ERR, NULL, "a log line under the filter");
	openlog("test_sec_sandbox", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	syslog(LOG_DEBUG, "a syslog line under the filter");
	closelog();
}

START_TEST(test_sec_work_under_filter)
{
	SaSpawned spawned = SA_SPAWNED__INIT;
	struct sec_work sw;
	int lp[2], hp[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sw.worker_pair), 0);
	/* The launcher's answer to sec's first SA_SPAWN waits on its channel. */
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, lp), 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, hp), 0);
	spawned.pid = 4343;
	ck_assert_int_eq(ipc_send(lp[1], SA_TYPE__SA_SPAWNED, &spawned.base, &hp[0], 1), 0);
	close(hp[0]);
	sec->cfg->auth_helpers = 1;
	sec->cfg->auth_helper_timeout = 15;
	sec_helpers_init(sec);
	sec->launcher_fd = lp[0];
	sw.helper_peer = hp[1];
	assert_exited_ok(run_child(SETUP_SEC, do_sec_work, &sw));
	close(sw.worker_pair[0]);
	close(sw.worker_pair[1]);
	close(lp[0]);
	close(lp[1]);
	close(hp[1]);
}
END_TEST

/* plain[otp=FILE]: sec forks its OTP helper before the key and the filter (sec_run's
 * order); under both filters a right HOTP code passes and is written back (the file
 * replaced, its mode kept, no temporary file left), and neither it nor a wrong code
 * passes afterwards. sec's own filter still kills any write (forbidden[] below). */
static const char otp_key[] = "3132333435363738393031323334353637383930";

static void do_otp_under_filters(void *arg)
{
	TALLOC_CTX *tmp = talloc_new(NULL);
	char code[7], path[256], text[512];
	const char *why;
	FILE *f;

	CHILD_CHECK(sec_otp_start(sec) == 0 && sec->otp_fd >= 0);
	CHILD_CHECK(sec_keys_load(sec) == 0);
	CHILD_CHECK(sec_sandbox_install() == 0);
	CHILD_CHECK(oath_hotp_generate("12345678901234567890", 20, 5, 6, false,
				       OATH_HOTP_DYNAMIC_TRUNCATION, code) == OATH_OK);
	why = sec_otp_check(sec, tmp, "alice", "000000");
	CHILD_CHECK(why && strcmp(why, "wrong one-time password") == 0);
	why = sec_otp_check(sec, tmp, "alice", code);
	if (why)
		fprintf(stderr, "the right code was refused: %s\n", why);
	CHILD_CHECK(why == NULL);
	CHILD_CHECK(sec_otp_check(sec, tmp, "alice", code) != NULL);
	why = sec_otp_check(sec, tmp, "bob", code);
	CHILD_CHECK(why && strcmp(why, "no OTP token for this user") == 0);
	talloc_free(tmp);

	/* Read after the filter test is over: the child's own filter forbids nothing
	 * that reading needs. */
	path_of(path, sizeof(path), "otp");
	f = fopen(path, "re");
	CHILD_CHECK(f != NULL);
	CHILD_CHECK(fread(text, 1, sizeof(text) - 1, f) > 0);
	fclose(f);
	text[sizeof(text) - 1] = '\0';
	CHILD_CHECK(strstr(text, "# tokens\nHOTP\talice\t-\t") == text);
	CHILD_CHECK(strstr(text, code) != NULL);
	CHILD_CHECK(strstr(text, "\t5\t") != NULL);
}

START_TEST(test_otp_helper)
{
	char path[256], line[256];
	struct stat st;
	int n;

	n = snprintf(line, sizeof(line), "# tokens\nHOTP alice - %s 3\n", otp_key);
	write_file("otp", line, (size_t)n, 0640);
	path_of(path, sizeof(path), "otp");
	sec->cfg->otp_file = talloc_strdup(sec, path);
	assert_exited_ok(run_child(SETUP_PRIVDROP, do_otp_under_filters, NULL));
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0640);
	/* Nothing left beside the file. */
	path_of(path, sizeof(path), "");
	n = 0;
	{
		DIR *d = opendir(path);
		struct dirent *de;

		ck_assert_ptr_nonnull(d);
		while ((de = readdir(d)))
			n += strstr(de->d_name, ".sluice-") != NULL;
		closedir(d);
	}
	ck_assert_int_eq(n, 0);
}
END_TEST

/* Refused without killing: harmless probes. */
static void do_quiet_refusals(void *arg)
{
	struct stat st;
	char path[256];

	path_of(path, sizeof(path), "passwd");
	errno = 0;
	CHILD_CHECK(stat(path, &st) == -1 && errno == EACCES);
	errno = 0;
	CHILD_CHECK(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0) == -1 && errno == EACCES);
	CHILD_CHECK(close(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == 0);
}

START_TEST(test_quiet_refusals)
{
	assert_exited_ok(run_child(SETUP_SEC, do_quiet_refusals, NULL));
}
END_TEST

static void do_socket_inet(void *arg)
{
	socket(AF_INET, SOCK_DGRAM, 0);
}

static void do_socket_seqpacket(void *arg)
{
	socket(AF_UNIX, SOCK_SEQPACKET, 0);
}

static void do_socketpair(void *arg)
{
	int sv[2];

	socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
}

static void do_bind(void *arg)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};

	bind(socket(AF_UNIX, SOCK_DGRAM, 0), (struct sockaddr *)&a, sizeof(sa_family_t));
}

static void do_clone(void *arg)
{
	syscall(SYS_clone, SIGCHLD, 0, NULL, NULL, 0);
}

static void do_ptrace(void *arg)
{
	ptrace(PTRACE_ATTACH, *(pid_t *)arg, NULL, NULL);
}

static void do_tgkill_parent(void *arg)
{
	syscall(SYS_tgkill, *(pid_t *)arg, *(pid_t *)arg, 0);
}

static void do_setuid(void *arg)
{
	syscall(SYS_setuid, NOBODY);
}

static void do_capset(void *arg)
{
	syscall(SYS_capset, NULL, NULL);
}

static void do_prctl(void *arg)
{
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
}

static void do_open_write(void *arg)
{
	open("/tmp/sluice-sec-sandbox-must-not-exist", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
}

static void do_open_rdwr(void *arg)
{
	char path[256];

	path_of(path, sizeof(path), "passwd");
	open(path, O_RDWR | O_CLOEXEC);
}

static void do_open_trunc(void *arg)
{
	char path[256];

	path_of(path, sizeof(path), "passwd");
	open(path, O_RDONLY | O_TRUNC | O_CLOEXEC);
}

/* A --enable-sanitizers build allows the old syscall read-only (sec_sandbox.c). */
static void do_open_legacy(void *arg)
{
#ifdef SLUICE_SANITIZERS
	syscall(SYS_open, "/etc/hostname", O_RDWR);
#else
	syscall(SYS_open, "/etc/hostname", O_RDONLY);
#endif
}

static void do_unlink(void *arg)
{
	char path[256];

	path_of(path, sizeof(path), "passwd");
	unlink(path);
}

static void do_rename(void *arg)
{
	char from[256], to[256];

	path_of(from, sizeof(from), "passwd");
	path_of(to, sizeof(to), "passwd.old");
	rename(from, to);
}

static void do_chmod(void *arg)
{
	char path[256];

	path_of(path, sizeof(path), "passwd");
	chmod(path, 0666);
}

static void do_open_by_handle(void *arg)
{
	syscall(SYS_open_by_handle_at, AT_FDCWD, NULL, O_RDONLY);
}

static void do_mprotect(void *arg)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	CHILD_CHECK(p != MAP_FAILED);
	mprotect(p, 4096, PROT_READ);
}

static void do_futex_wait(void *arg)
{
	int word = 1;

	syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
}

static void do_unshare(void *arg)
{
	unshare(CLONE_NEWNET);
}

#ifdef __x86_64__
/* The same getpid through the x32 ABI: other numbers, so the arch check kills. */
#endif

static const struct {
	const char *name;
	void (*fn)(void *);
} forbidden[] = {
    {"socket AF_INET", do_socket_inet},
    {"socket AF_UNIX SOCK_SEQPACKET", do_socket_seqpacket},
    {"socketpair", do_socketpair},
    {"bind", do_bind},
    {"execve", probe_execve},
    {"fork", probe_fork},
    {"clone", do_clone},
    {"ptrace", do_ptrace},
    {"kill another process", probe_kill_parent},
    {"tgkill another process", do_tgkill_parent},
    {"setuid", do_setuid},
    {"capset", do_capset},
    {"prctl", do_prctl},
    {"open for writing", do_open_write},
    {"open read-write", do_open_rdwr},
    {"open with O_TRUNC", do_open_trunc},
    {"open (the old syscall)", do_open_legacy},
    {"sigaltstack with a stack", probe_sigaltstack_set},
    {"unlink", do_unlink},
    {"rename", do_rename},
    {"chmod", do_chmod},
    {"open_by_handle_at", do_open_by_handle},
    {"mmap PROT_EXEC", probe_mmap_exec},
    {"mprotect", do_mprotect},
    {"futex wait", do_futex_wait},
    {"unshare", do_unshare},
#ifdef __x86_64__
    {"x32 syscall", probe_x32_syscall},
#endif
};

START_TEST(test_forbidden_kills)
{
	pid_t self = getpid();
	int status = run_child(SETUP_SEC, forbidden[_i].fn, &self);

	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS,
		      "%s: not killed by SIGSYS (status 0x%x)", forbidden[_i].name, status);
}
END_TEST

START_TEST(test_abort_still_works)
{
	int status = run_child(SETUP_SEC, probe_abort, NULL);

	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
		      "abort() did not end in SIGABRT (status 0x%x)", status);
}
END_TEST

START_TEST(test_libev_refresh)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);

	ck_assert_ptr_nonnull(loop);
	assert_exited_ok(run_child(SETUP_SEC, probe_libev_refresh, loop));
	ev_loop_destroy(loop);
}
END_TEST

/* What an LDAP helper does under its filter: a TCP connection to a server (here a
 * listener of the test's, port in arg) without blocking, the resolver's files and its UDP
 * socket, its alarm, randomness, memory. */
static void do_ldap_work(void *arg)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = *(in_port_t *)arg};
	struct pollfd p = {.events = POLLOUT};
	struct sockaddr_storage peer;
	socklen_t len = sizeof(peer);
	int one = 1, fd, flags;
	char buf[16];
	void *m;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	p.fd = fd = socket(AF_INET, SOCK_STREAM, 0);
	CHILD_CHECK(fd >= 0 && fcntl(fd, F_SETFD, FD_CLOEXEC) == 0);
	CHILD_CHECK(setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)) == 0);
	CHILD_CHECK((flags = fcntl(fd, F_GETFL)) >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0);
	CHILD_CHECK(connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 || errno == EINPROGRESS);
	CHILD_CHECK(poll(&p, 1, 5000) == 1 && getpeername(fd, (struct sockaddr *)&peer, &len) == 0);
	CHILD_CHECK(write(fd, "x", 1) == 1 && shutdown(fd, SHUT_RDWR) == 0 && close(fd) == 0);
	CHILD_CHECK((fd = open("/etc/hosts", O_RDONLY | O_CLOEXEC)) >= 0);
	CHILD_CHECK(read(fd, buf, sizeof(buf)) >= 0 && close(fd) == 0);
	CHILD_CHECK(close(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) == 0);
	alarm(30);
	alarm(0);
	CHILD_CHECK(getrandom(buf, sizeof(buf), 0) == sizeof(buf));
	m = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHILD_CHECK(m != MAP_FAILED && munmap(m, 1 << 20) == 0);
}

START_TEST(test_ldap_helper_work)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(l, 4), 0);
	ck_assert_int_eq(getsockname(l, (struct sockaddr *)&a, &len), 0);
	assert_exited_ok(run_child(SETUP_LDAP, do_ldap_work, &a.sin_port));
	close(l);
}
END_TEST

static void do_listen(void *arg)
{
	listen(socket(AF_INET, SOCK_STREAM, 0), 1);
}

static void do_socket_raw(void *arg)
{
	socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
}

static void do_socket_netlink(void *arg)
{
	socket(AF_NETLINK, SOCK_RAW, 0);
}

/* What an LDAP helper never does: it listens nowhere, has no raw or netlink socket,
 * writes no file, starts nothing, changes no id. */
static const struct {
	const char *name;
	void (*fn)(void *);
} ldap_forbidden[] = {
    {"bind", do_bind},
    {"listen", do_listen},
    {"socket AF_INET SOCK_RAW", do_socket_raw},
    {"socket AF_NETLINK", do_socket_netlink},
    {"execve", probe_execve},
    {"fork", probe_fork},
    {"ptrace", do_ptrace},
    {"kill another process", probe_kill_parent},
    {"setuid", do_setuid},
    {"open for writing", do_open_write},
    {"unlink", do_unlink},
    {"mmap PROT_EXEC", probe_mmap_exec},
    {"mprotect", do_mprotect},
};

START_TEST(test_ldap_helper_kills)
{
	pid_t self = getpid();
	int status = run_child(SETUP_LDAP, ldap_forbidden[_i].fn, &self);
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS,
		      "%s: not killed by SIGSYS (status 0x%x)", ldap_forbidden[_i].name, status);
}
END_TEST

/* What a hash helper of plain auth does under its filter: the request from sec on its
 * channel, yescrypt (16 MiB by mmap) and SHA-512 crypt of a right and a wrong password,
 * the answer, its alarm, a log line. */
struct hash_work {
	int sp[2];
	char yescrypt[CRYPT_OUTPUT_SIZE], sha512[CRYPT_OUTPUT_SIZE];
};

static void do_hash_work(void *arg)
{
	struct hash_work *hw = arg;
	SaHashResult r = SA_HASH_RESULT__INIT;
	SaHashResult *back = NULL;
	TALLOC_CTX *tmp = talloc_new(NULL);

	alarm(30);
	CHILD_CHECK(passwd_verify_hash(hw->yescrypt, "right") == 0);
	CHILD_CHECK(passwd_verify_hash(hw->yescrypt, "wrong") == -EACCES);
	CHILD_CHECK(passwd_verify_hash(hw->sha512, "right") == 0);
	CHILD_CHECK(passwd_verify_hash(hw->sha512, "wrong") == -EACCES);
	CHILD_CHECK(passwd_verify_hash("*not-a-hash", "right") < 0);
	alarm(0);
	r.match = true;
	CHILD_CHECK(ipc_send(hw->sp[0], SA_TYPE__SA_HASH_RESULT, &r.base, NULL, 0) == 0);
	CHILD_CHECK(ipc_recv_expect(hw->sp[1], SA_TYPE__SA_HASH_RESULT,
				    &sa_hash_result__descriptor, 64, tmp, (void **)&back, NULL, 0,
				    1000) == 0 &&
		    back->match);
	/* A log line (its timestamp's time zone file cannot be opened: UTC then), and every
	 * other open, fails quietly. */
	log_err("a log line under the hash helpers' filter");
	CHILD_CHECK(open("/etc/hosts", O_RDONLY | O_CLOEXEC) < 0 && errno == EACCES);
	CHILD_CHECK(open("/tmp/sluice-hash-helper-x", O_WRONLY | O_CREAT, 0600) < 0 &&
		    errno == EACCES);
	talloc_free(tmp);
}

static void make_hash_work(struct hash_work *hw)
{
	struct crypt_data cd = {0};
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, hw->sp), 0);
	ck_assert_ptr_nonnull(crypt_gensalt_rn("$y$", 0, NULL, 0, salt, sizeof(salt)));
	ck_assert_ptr_nonnull(crypt_r("right", salt, &cd));
	snprintf(hw->yescrypt, sizeof(hw->yescrypt), "%s", cd.output);
	ck_assert_ptr_nonnull(crypt_gensalt_rn("$6$", 0, NULL, 0, salt, sizeof(salt)));
	ck_assert_ptr_nonnull(crypt_r("right", salt, &cd));
	snprintf(hw->sha512, sizeof(hw->sha512), "%s", cd.output);
}

START_TEST(test_hash_helper_work)
{
	struct hash_work hw;

	make_hash_work(&hw);
	assert_exited_ok(run_child(SETUP_HASH, do_hash_work, &hw));
	close(hw.sp[0]);
	close(hw.sp[1]);
}
END_TEST

static void do_socket_unix_seqpacket(void *arg)
{
	socket(AF_UNIX, SOCK_SEQPACKET, 0);
}

/* What a hash helper never does: it has no socket but syslog's, starts nothing, changes
 * no id, signals no one (and opens no file: that fails, do_hash_work). */
static const struct {
	const char *name;
	void (*fn)(void *);
} hash_forbidden[] = {
    {"socket AF_INET", do_socket_inet},
    {"socket AF_UNIX SOCK_SEQPACKET", do_socket_unix_seqpacket},
    {"bind", do_bind},
    {"execve", probe_execve},
    {"fork", probe_fork},
    {"ptrace", do_ptrace},
    {"kill another process", probe_kill_parent},
    {"setuid", do_setuid},
    {"unlink", do_unlink},
    {"mmap PROT_EXEC", probe_mmap_exec},
    {"mprotect", do_mprotect},
};

START_TEST(test_hash_helper_kills)
{
	pid_t self = getpid();
	int status = run_child(SETUP_HASH, hash_forbidden[_i].fn, &self);
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS,
		      "%s: not killed by SIGSYS (status 0x%x)", hash_forbidden[_i].name, status);
}
END_TEST

static void do_install_without_nnp(void *arg)
{
	CHILD_CHECK(sec_sandbox_install() == -EPERM);
	/* nothing installed: a TCP socket still works */
	CHILD_CHECK(close(socket(AF_INET, SOCK_STREAM, 0)) == 0);
}

START_TEST(test_install_requires_nnp)
{
	assert_exited_ok(run_child(SETUP_NONE, do_install_without_nnp, NULL));
}
END_TEST

int main(void)
{
	const struct check_test tests[] = {
	    {test_privdrop, .only_if = is_root},
	    {test_privdrop_without_setpcap, .only_if = is_root},
	    {test_sec_work_under_filter, .only_if = is_root},
	    {test_quiet_refusals, .only_if = is_root},
	    {test_otp_helper, .only_if = is_root},
	    {test_forbidden_kills, true, sizeof(forbidden) / sizeof(forbidden[0]), is_root},
	    {test_abort_still_works, .only_if = is_root},
	    {test_libev_refresh, .only_if = is_root},
	    {test_ldap_helper_work, .only_if = is_root},
	    {test_ldap_helper_kills, true, sizeof(ldap_forbidden) / sizeof(ldap_forbidden[0]), is_root},
	    {test_hash_helper_work, .only_if = is_root},
	    {test_hash_helper_kills, true, sizeof(hash_forbidden) / sizeof(hash_forbidden[0]), is_root},
	    {test_install_requires_nnp},
	    {NULL},
	};
	const struct check_case cases[] = {
	    {"sandbox", setup, teardown, 60, tests},
	    {NULL},
	};

	log_init("test_sec_sandbox", 1, LOG_ERR);
	make_key(GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), &p256_pem);
	make_key(GNUTLS_PK_RSA, 2048, &rsa_pem);
	if (check_main("sec_sandbox", cases) != EXIT_SUCCESS)
		return EXIT_FAILURE;
	if (!is_root()) {
		printf("sec drops root's capabilities: these tests need root; skipped\n");
		return 77;
	}
	return EXIT_SUCCESS;
}
