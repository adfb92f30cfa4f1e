/* sec as a compromised auth helper sees it: arbitrary sequences of helper messages (raw
 * frames, and well-formed prompts and results with chosen shapes: oversized, with
 * control characters, too many or empty groups), helpers that die, a launcher that
 * answers garbage or goes away, and the time limits of helpers and of the queue, go
 * through sec's real helper channel (sec_helpers.c) and password login (sec_auth.c),
 * interleaved with the logins, answers and departures of three workers (one more than
 * the pool's two helpers, so that logins wait in the queue too). The harness plays the
 * launcher and every helper over socket pairs; nothing is forked.
 *
 * sec must never give a worker a cookie unless the helper that served its login sent
 * an accepting result while that login was in progress (for the user the worker named,
 * and the group it asked for only when the helper listed it); never answer one login
 * twice, or a login that is not in progress; never hand a helper a login while it
 * serves another, nor an answer it did not ask for; never let a login wait without a
 * helper or a place in the queue, nor the queue wait while a helper is free; never
 * refuse a worker that kept the contract, nor keep one that broke it; must tell main of
 * every login it accepts; and must leave no descriptor and no talloc object behind.
 *
 * An input that starts with 'H' runs sec with plain auth instead of PAM: its helpers
 * only check password hashes (SA_HASH, SA_HASH_RESULT). Then sec must hand a helper the
 * hash of the user's line (alice) or the dummy one (any other user: bob, whose line is
 * locked, is the file's first, so his hash is the dummy), with the password the worker
 * sent; accept only alice, and only on a match the helper sent while it served her
 * login; and end a helper that answers a hash out of turn, answers with garbage or an
 * oversized frame, or sends what only a backend's login allows (prompt, result).
 *
 * Input: a sequence of operations, two bytes each (what, and which worker or helper),
 * followed by their arguments; after each, sec runs what is ready and the harness reads
 * and checks all that sec sent. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gnutls/x509.h>

#include <crypt.h>

#include "common/passwd.h"
#include "ipc/main_sec.pb-c.h"
#include "ipc/sec_auth.pb-c.h"
#include "ipc/sec_worker.pb-c.h"
#include "sec/auth_helper.h"
#include "sec/sec.h"

#define N_WORKERS 3
#define N_SPAWNS  8 /* answers queued at the launcher at most */
/* The harness's helpers: live ones (auth_helpers at most) and those queued. */
#define N_HELPERS (N_SPAWNS + 4)

static char dir[] = "/tmp/fuzz-sech.XXXXXX";
static char key_path[64], passwd_path[64];
/* plain mode: alice's hash (password "right") and bob's (locked; the dummy). */
static char alice_hash[CRYPT_OUTPUT_SIZE], bob_hash[CRYPT_OUTPUT_SIZE];

struct fake_worker {
	struct sec_worker *w; /* NULL: none in this slot (yet, or any more) */
	int peer;
	char ip[32];      /* its client address, which names its login in SA_LOGIN */
	bool in_login;    /* an SW_AUTH_REQ waits for its final answer */
	bool more;        /* a prompt is out and not answered */
	bool done;        /* logged in or refused for good: sec takes nothing more */
	unsigned retries; /* SW_AUTH_RETRY answers */
	const char *user, *password, *group; /* of the login in progress */
	char answer[80];                     /* the last answer it sent */
	/* A prompt its helper sent that sec may pass on as SW_AUTH_MORE. */
	bool prompt_due, prompt_echo;
	char prompt[AUTH_HELPER_MAX_TEXT + 1];
	bool accepted;            /* its helper sent ok for the login in progress */
	bool group_listed;        /* ... with the group the worker asked for among the groups */
	bool must_live, must_die; /* what sec must do with the message just sent */
};

enum fh_state { FH_FREE, FH_QUEUED, FH_LIVE };

struct fake_helper {
	enum fh_state state; /* FH_QUEUED: its channel waits at the launcher */
	int peer;
	int serving;   /* the worker whose SA_LOGIN it got and did not answer; -1 */
	bool prompted; /* it sent a prompt and waits for SA_ANSWER */
};

/* What the launcher answers SA_SPAWN with: a helper, a channel whose helper is gone
 * already, a pipe instead of a socket, or something sec must refuse. */
enum spawn_kind { SPAWN_GOOD, SPAWN_DEAD, SPAWN_PIPE, SPAWN_BAD };

struct run {
	bool plain; /* plain auth: the helpers check hashes */
	struct sec_ctx *sec;
	int main_peer;
	int launcher; /* the launcher's end; -1 once either side closed */
	struct {
		enum spawn_kind kind;
		int slot; /* SPAWN_GOOD: its helper */
	} fifo[N_SPAWNS];
	unsigned fifo_n;
	struct fake_worker fw[N_WORKERS];
	struct fake_helper fh[N_HELPERS];
	uint32_t next_id;
	unsigned ok_replies, ok_events;
	size_t baseline_blocks;
};

struct in {
	const uint8_t *p;
	size_t left;
};

void log_printf(int priority, const char *func, const char *fmt, ...)
{
}

static uint8_t byte(struct in *in)
{
	if (!in->left)
		return 0;
	in->left--;
	return *in->p++;
}

/* Text of len bytes from the input: letters, or the input's bytes as they are (control
 * characters included; a zero byte becomes 'x' so that the length holds). */
static void text_from(struct in *in, char *buf, size_t len, bool raw)
{
	for (size_t i = 0; i < len; i++) {
		uint8_t b = byte(in);

		buf[i] = raw ? (char)(b ? b : 'x') : (char)('a' + b % 26);
	}
	buf[len] = '\0';
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static void make_key(void)
{
	gnutls_x509_privkey_t xkey;
	gnutls_datum_t pem;
	FILE *f;

	if (!mkdtemp(dir) || gnutls_x509_privkey_init(&xkey) < 0 ||
	    gnutls_x509_privkey_generate(xkey, GNUTLS_PK_ECDSA,
					 GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0) < 0 ||
	    gnutls_x509_privkey_export2(xkey, GNUTLS_X509_FMT_PEM, &pem) < 0)
		abort();
	snprintf(key_path, sizeof(key_path), "%s/key.pem", dir);
	f = fopen(key_path, "w");
	if (!f || fwrite(pem.data, 1, pem.size, f) != pem.size)
		abort();
	fclose(f);
	gnutls_free(pem.data);
	{
		/* The cheapest SHA-crypt: the fuzzer never hashes, only sec's lookup reads it. */
		struct crypt_data cd = {0};
		char line[2 * CRYPT_OUTPUT_SIZE + 64];

		if (!crypt_r("right", "$5$rounds=1000$fuzzalice", &cd))
			abort();
		snprintf(alice_hash, sizeof(alice_hash), "%s", cd.output);
		if (!crypt_r("right", "$5$rounds=1000$fuzzbob", &cd))
			abort();
		snprintf(bob_hash, sizeof(bob_hash), "%s", cd.output);
		snprintf(passwd_path, sizeof(passwd_path), "%s/passwd", dir);
		snprintf(line, sizeof(line), "bob:staff:!%s\nalice:staff,admins:%s\n", bob_hash,
			 alice_hash);
		f = fopen(passwd_path, "w");
		if (!f || fwrite(line, 1, strlen(line), f) != strlen(line))
			abort();
		fclose(f);
	}
	gnutls_x509_privkey_deinit(xkey);
}

/* Descriptors sec's code would leak: sockets (worker, helper, launcher and main
 * channels), pipes (what a launcher may pass) and the key file. Libraries may open
 * others once, on first use. */
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
		if (strncmp(target, "socket:", 7) == 0 || strncmp(target, "pipe:", 5) == 0 ||
		    strncmp(target, dir, strlen(dir)) == 0)
			n++;
	}
	closedir(d);
	return n;
}

static void pair(int sp[2])
{
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		abort();
}

/* --- the workers ----------------------------------------------------------------- */

static void worker_readable(struct ev_loop *loop, ev_io *io, int revents)
{
	sec_worker_poll(io->data);
}

/* A worker past its handshake (without a certificate), as MS_WORKER_NEW and
 * SW_HANDSHAKE_DONE leave it in sec. */
static void new_worker(struct run *r, struct fake_worker *f)
{
	struct sec_ctx *sec = r->sec;
	uint32_t id = ++r->next_id;
	int sp[2];

	memset(f, 0, sizeof(*f));
	pair(sp);
	snprintf(f->ip, sizeof(f->ip), "198.18.%u.%u", (id >> 8) & 255, id & 255);
	f->w = talloc_zero(sec, struct sec_worker);
	f->w->sec = sec;
	f->w->id = id;
	f->w->pid = 1000 + id;
	f->w->client_ip = talloc_strdup(f->w, f->ip);
	f->w->state = SECW_AUTH;
	f->w->key = sec->key;
	ipc_channel_init(&f->w->ch, sp[0], sec_from_worker, sec_from_worker_n, SEC_CERT_MAX + 1024,
			 "fuzz worker");
	ev_io_init(&f->w->io, worker_readable, sp[0], EV_READ);
	f->w->io.data = f->w;
	ev_io_start(sec->loop, &f->w->io);
	DL_PREPEND(sec->workers, f->w);
	f->peer = sp[1];
}

static bool worker_alive(const struct sec_ctx *sec, const struct sec_worker *w)
{
	const struct sec_worker *x;

	for (x = sec->workers; x; x = x->next)
		if (x == w)
			return true;
	return false;
}

/* The login ended: nothing of it may come any more. */
static void login_over(struct run *r, struct fake_worker *f)
{
	for (int i = 0; i < N_HELPERS; i++)
		if (r->fh[i].state == FH_LIVE && r->fh[i].serving == f - r->fw)
			abort(); /* answered while its helper still works on it */
	f->in_login = f->more = f->prompt_due = f->accepted = false;
}

static void check_reply(struct run *r, struct fake_worker *f, const SwAuthReply *rep)
{
	if (!f->in_login)
		abort(); /* an answer to no login, or a second one */
	if (rep->has_cookie && rep->result != SW_AUTH_RESULT__SW_AUTH_OK)
		abort();
	switch (rep->result) {
	case SW_AUTH_RESULT__SW_AUTH_OK: {
		bool asked = f->group && *f->group;
		/* With no group asked, a password file's user gets the first of the file's. */
		const char *deflt = r->plain ? "staff" : "";

		/* Only the helper's acceptance logs in, and only the user it was asked
		 * about, with the group asked for when the helper listed it. */
		if (!f->accepted || !rep->has_cookie || rep->cookie.len != 2 * SEC_COOKIE_LEN ||
		    !rep->username || strcmp(rep->username, f->user) != 0 || !rep->groupname ||
		    strcmp(rep->groupname, asked ? f->group : deflt) != 0 ||
		    (asked && !f->group_listed))
			abort();
		r->ok_replies++;
		f->done = true;
		login_over(r, f);
		break;
	}
	case SW_AUTH_RESULT__SW_AUTH_RETRY:
		if (++f->retries >= r->sec->cfg->auth_tries)
			abort(); /* past auth-tries the answer is final */
		login_over(r, f);
		break;
	case SW_AUTH_RESULT__SW_AUTH_FAIL:
		f->done = true;
		login_over(r, f);
		break;
	case SW_AUTH_RESULT__SW_AUTH_MORE:
		/* What the helper asked, as it asked it, once. */
		if (f->more || !f->prompt_due || !rep->prompt_label ||
		    strcmp(rep->prompt_label, f->prompt) != 0 || !rep->has_prompt_echo ||
		    !rep->prompt_echo != !f->prompt_echo)
			abort();
		f->more = true;
		f->prompt_due = false;
		break;
	default:
		abort();
	}
}

/* What sec answered the workers, and whether it kept or ended each as it had to. */
static void read_workers(struct run *r)
{
	static uint8_t buf[IPC_HDR_LEN + 16384];

	for (int i = 0; i < N_WORKERS; i++) {
		struct fake_worker *f = &r->fw[i];
		ssize_t n;
		bool alive;

		if (!f->w)
			continue;
		while ((n = recv(f->peer, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
			SwAuthReply *rep;

			if (n < IPC_HDR_LEN || le16(buf) != SW_TYPE__SW_AUTH_REPLY)
				abort();
			rep =
			    sw_auth_reply__unpack(NULL, (size_t)n - IPC_HDR_LEN, buf + IPC_HDR_LEN);
			if (!rep)
				abort();
			check_reply(r, f, rep);
			sw_auth_reply__free_unpacked(rep, NULL);
		}
		alive = worker_alive(r->sec, f->w);
		if ((f->must_die && alive) || (f->must_live && !alive))
			abort();
		f->must_die = f->must_live = false;
		if (!alive) {
			close(f->peer);
			f->w = NULL;
		}
	}
}

static const char *const users[] = {"alice", "bob", "", "alice\n", "root"};
static const char *const passwords[] = {"right", "wrong", ""};
static const char *const groups_asked[] = {NULL, "staff", "", "admins"};

static void worker_login(struct run *r, struct fake_worker *f, struct in *in)
{
	SwAuthReq req = SW_AUTH_REQ__INIT;
	uint8_t how = byte(in);

	if (!f->w)
		new_worker(r, f);
	req.username = (char *)users[how % 5];
	req.password = (char *)passwords[(how / 5) % 3];
	req.group = (char *)groups_asked[(how >> 6) & 3];
	if (ipc_send(f->peer, SW_TYPE__SW_AUTH_REQ, &req.base, NULL, 0) < 0)
		abort();
	/* One login at a time, and none after the last answer. */
	if (f->in_login || f->done) {
		f->must_die = true;
		return;
	}
	f->must_live = true;
	f->in_login = true;
	f->accepted = f->prompt_due = false;
	f->user = req.username;
	f->password = req.password;
	f->group = req.group;
}

static void worker_answer(struct fake_worker *f, struct in *in)
{
	static const char *const answers[] = {"123456", "", "yes"};
	SwAnswerReq req = SW_ANSWER_REQ__INIT;
	uint8_t how = byte(in);

	if (!f->w)
		return;
	if (how & 4)
		text_from(in, f->answer, how % 64, false);
	else
		snprintf(f->answer, sizeof(f->answer), "%s", answers[how % 3]);
	req.answer = f->answer;
	if (ipc_send(f->peer, SW_TYPE__SW_ANSWER_REQ, &req.base, NULL, 0) < 0)
		abort();
	/* Only to a prompt that is out. */
	if (!f->more) {
		f->must_die = true;
		return;
	}
	f->must_live = true;
	f->more = false;
}

/* The worker closes its channel; sec frees it, and its helper or place in the queue
 * goes with it. */
static void worker_leaves(struct run *r, struct fake_worker *f)
{
	if (!f->w)
		return;
	close(f->peer);
	sec_worker_poll(f->w);
	if (worker_alive(r->sec, f->w))
		abort();
	f->w = NULL;
}

/* --- the helpers ----------------------------------------------------------------- */

static void helper_gone(struct fake_helper *h)
{
	close(h->peer);
	h->peer = -1;
	h->state = FH_FREE;
	h->serving = -1;
	h->prompted = false;
}

static struct fake_worker *worker_by_ip(struct run *r, const char *ip)
{
	for (int i = 0; i < N_WORKERS; i++)
		if (r->fw[i].w && strcmp(r->fw[i].ip, ip) == 0)
			return &r->fw[i];
	return NULL;
}

static void got_login(struct run *r, struct fake_helper *h, const SaLogin *l)
{
	struct fake_worker *f = worker_by_ip(r, l->client_ip);

	/* One login at a time per helper, one helper per login, and the credentials
	 * the worker sent. */
	if (h->serving >= 0 || !f || !f->in_login || f->more)
		abort();
	for (int i = 0; i < N_HELPERS; i++)
		if (r->fh[i].state == FH_LIVE && r->fh[i].serving == f - r->fw)
			abort();
	if (strcmp(l->username, f->user) != 0 || strcmp(l->password, f->password) != 0)
		abort();
	h->serving = (int)(f - r->fw);
	h->prompted = false;
}

static void got_answer(struct run *r, struct fake_helper *h, const SaAnswer *a)
{
	/* Only to its own prompt, and what the user answered. */
	if (h->serving < 0 || !h->prompted || strcmp(a->answer, r->fw[h->serving].answer) != 0)
		abort();
	h->prompted = false;
}

/* plain mode: the helper of pid 5000 + slot is fake helper slot (queue_spawn); sec's
 * record of it names the login it handed over, which the hash must be for. */
static void got_hash(struct run *r, struct fake_helper *h, const SaHash *req)
{
	const struct sec_helper *sh;
	struct fake_worker *f = NULL;
	const char *want;

	if (!r->plain || h->serving >= 0)
		abort(); /* a hash to a PAM helper, or to a helper that serves one */
	for (sh = r->sec->helpers; sh; sh = sh->next)
		if (sh->pid == (pid_t)(5000 + (h - r->fh)))
			break;
	if (!sh || !sh->w)
		abort();
	for (int i = 0; i < N_WORKERS; i++)
		if (r->fw[i].w == sh->w)
			f = &r->fw[i];
	if (!f || !f->in_login || f->more)
		abort();
	for (int i = 0; i < N_HELPERS; i++)
		if (r->fh[i].state == FH_LIVE && r->fh[i].serving == f - r->fw)
			abort();
	/* alice's own hash; anyone else's login costs the dummy one: the file's first
	 * (bob's), or libcrypt's setting when no file was read yet (a name the lookup
	 * refuses before it reads). */
	want = strcmp(f->user, "alice") == 0 ? alice_hash : passwd_dummy_hash();
	if (strcmp(req->hash, want) != 0 || strcmp(req->password, f->password) != 0 ||
	    (want != alice_hash && strcmp(want, alice_hash) == 0) ||
	    (want != alice_hash && want[0] == '$' && want[1] == '5' && strcmp(want, bob_hash) != 0))
		abort();
	h->serving = (int)(f - r->fw);
	h->prompted = false;
}

/* What sec sent the helpers: logins and answers, or the end of their channel. */
static void read_helpers(struct run *r)
{
	static uint8_t buf[IPC_HDR_LEN + AUTH_HELPER_MAX_PAYLOAD + 1];

	for (int i = 0; i < N_HELPERS; i++) {
		struct fake_helper *h = &r->fh[i];
		ssize_t n;

		while (h->state == FH_LIVE &&
		       (n = recv(h->peer, buf, sizeof(buf), MSG_DONTWAIT)) >= 0) {
			size_t len = (size_t)n - IPC_HDR_LEN;

			if (n == 0) {
				helper_gone(h);
				break;
			}
			if (n < IPC_HDR_LEN)
				abort();
			if (le16(buf) == SA_TYPE__SA_HASH) {
				SaHash *q = sa_hash__unpack(NULL, len, buf + IPC_HDR_LEN);

				if (!q)
					abort();
				got_hash(r, h, q);
				sa_hash__free_unpacked(q, NULL);
			} else if (le16(buf) == SA_TYPE__SA_LOGIN) {
				SaLogin *l = sa_login__unpack(NULL, len, buf + IPC_HDR_LEN);

				if (!l || r->plain)
					abort();
				got_login(r, h, l);
				sa_login__free_unpacked(l, NULL);
			} else if (le16(buf) == SA_TYPE__SA_ANSWER) {
				SaAnswer *a = sa_answer__unpack(NULL, len, buf + IPC_HDR_LEN);

				if (!a)
					abort();
				got_answer(r, h, a);
				sa_answer__free_unpacked(a, NULL);
			} else {
				abort();
			}
		}
	}
}

/* A helper of the harness: with bit 7, the one serving worker arg % N_WORKERS, else the
 * (arg % N_HELPERS)-th live one. */
static struct fake_helper *pick_helper(struct run *r, uint8_t arg)
{
	unsigned live = 0, n;

	for (int i = 0; i < N_HELPERS; i++) {
		if (r->fh[i].state != FH_LIVE)
			continue;
		if ((arg & 0x80) && r->fh[i].serving == (arg & 0x7f) % N_WORKERS)
			return &r->fh[i];
		live++;
	}
	if ((arg & 0x80) || !live)
		return NULL;
	n = arg % live;
	for (int i = 0; i < N_HELPERS; i++)
		if (r->fh[i].state == FH_LIVE && n-- == 0)
			return &r->fh[i];
	return NULL;
}

/* Text as the contract has it: bounded, no control character but newline and tab. */
static bool contract_text(const char *s)
{
	if (strlen(s) > AUTH_HELPER_MAX_TEXT)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 && *s != '\n' && *s != '\t')
			return false;
	return true;
}

/* A result sec may act on: bounded groups, each a one-line name; a bounded reason. */
static bool contract_result(const SaResult *res)
{
	if (res->n_groups > AUTH_HELPER_MAX_GROUPS || (res->reason && !contract_text(res->reason)))
		return false;
	for (size_t i = 0; i < res->n_groups; i++)
		if (!contract_text(res->groups[i]) || !*res->groups[i] ||
		    strchr(res->groups[i], '\n'))
			return false;
	return true;
}

/* sec takes a prompt only while the helper works on a login, and passes it on only
 * when it is the contract's text. */
static void prompt_sent(struct run *r, struct fake_helper *h, const char *text, bool echo)
{
	struct fake_worker *f;

	if (h->serving < 0 || h->prompted || r->plain)
		return; /* plain: a prompt to a hash ends the helper */
	h->prompted = true;
	f = &r->fw[h->serving];
	if (!contract_text(text))
		return;
	strcpy(f->prompt, text);
	f->prompt_echo = echo;
	f->prompt_due = true;
}

/* Accepted or refused by sec, a result ends the helper's part in the login; only a
 * well-formed acceptance may log the user in. */
static void result_sent(struct run *r, struct fake_helper *h, const SaResult *res)
{
	if (h->serving >= 0 && !h->prompted && res->ok && contract_result(res) && !r->plain) {
		struct fake_worker *f = &r->fw[h->serving];

		f->accepted = true;
		f->group_listed = false;
		for (size_t i = 0; f->group && i < res->n_groups; i++)
			if (strcmp(res->groups[i], f->group) == 0)
				f->group_listed = true;
	}
	h->serving = -1;
	h->prompted = false;
}

/* plain mode: a match logs in only alice, and only while her hash is out (sec ends a
 * helper that answers out of turn). */
static void hash_result_sent(struct run *r, struct fake_helper *h, bool match)
{
	if (r->plain && h->serving >= 0 && match &&
	    strcmp(r->fw[h->serving].user, "alice") == 0) {
		struct fake_worker *f = &r->fw[h->serving];

		f->accepted = true;
		/* alice's groups in the file */
		f->group_listed = f->group && (strcmp(f->group, "staff") == 0 ||
					       strcmp(f->group, "admins") == 0);
	}
	h->serving = -1;
	h->prompted = false;
}

/* A frame of the input's bytes; the header is right or wrong as the input says, and it
 * may carry a descriptor. When sec would route it, it is the prompt or result it says. */
static void helper_raw(struct run *r, struct fake_helper *h, struct in *in)
{
	uint8_t frame[IPC_HDR_LEN + 1024];
	uint8_t type = byte(in) % 16, how = byte(in);
	size_t len = byte(in), i;
	bool attach = how & 2, bad_len = how & 8;
	int sp[2] = {-1, -1};
	struct msghdr mh = {0};
	struct iovec iov;
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} cbuf;

	if (how & 0x10)
		len += 256u * (byte(in) % 4);
	for (i = 0; i < len && in->left; i++)
		frame[IPC_HDR_LEN + i] = byte(in);
	len = i;
	memset(frame, 0, IPC_HDR_LEN);
	frame[0] = type;
	frame[2] = how & 1;
	frame[3] = (how & 4) ? (uint8_t)(byte(in) | 1) : 0;
	frame[4] = (uint8_t)((len + bad_len) & 0xff);
	frame[5] = (uint8_t)((len + bad_len) >> 8);
	iov.iov_base = frame;
	iov.iov_len = IPC_HDR_LEN + len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (attach) {
		struct cmsghdr *c;

		pair(sp);
		memset(&cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf.buf;
		mh.msg_controllen = sizeof(cbuf.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &sp[0], sizeof(int));
	}
	if (sendmsg(h->peer, &mh, MSG_NOSIGNAL) < 0)
		abort();
	if (attach) {
		close(sp[0]);
		close(sp[1]);
	}
	/* What sec's channel routes: the frame checks of ipc.c, no descriptor, a type
	 * with a route, a payload that unpacks. */
	if (frame[2] || frame[3] || bad_len || attach)
		return;
	if (type == SA_TYPE__SA_PROMPT) {
		SaPrompt *p = sa_prompt__unpack(NULL, len, frame + IPC_HDR_LEN);

		if (p)
			prompt_sent(r, h, p->text, p->echo);
		sa_prompt__free_unpacked(p, NULL);
	} else if (type == SA_TYPE__SA_RESULT) {
		SaResult *res = sa_result__unpack(NULL, len, frame + IPC_HDR_LEN);

		if (res)
			result_sent(r, h, res);
		sa_result__free_unpacked(res, NULL);
	} else if (type == SA_TYPE__SA_HASH_RESULT) {
		SaHashResult *res = sa_hash_result__unpack(NULL, len, frame + IPC_HDR_LEN);

		if (res)
			hash_result_sent(r, h, res->match);
		sa_hash_result__free_unpacked(res, NULL);
	}
}

/* plain mode's answer: a match or not, well-formed; a frame past the channel's bound
 * (sec refuses it whole, and the helper goes); or a result without its required field. */
static void helper_hash_result(struct run *r, struct fake_helper *h, struct in *in)
{
	static uint8_t big[IPC_HDR_LEN + AUTH_HELPER_MAX_PAYLOAD + 64];
	SaHashResult res = SA_HASH_RESULT__INIT;
	uint8_t how = byte(in);

	if ((how & 6) == 2) {
		size_t len = AUTH_HELPER_MAX_PAYLOAD + 1 + byte(in) % 32;

		memset(big, 0, sizeof(big));
		big[0] = SA_TYPE__SA_HASH_RESULT;
		big[4] = (uint8_t)(len & 0xff);
		big[5] = (uint8_t)(len >> 8);
		memset(big + IPC_HDR_LEN, 0x08, len); /* field 1, varint, again and again */
		if (send(h->peer, big, IPC_HDR_LEN + len, MSG_NOSIGNAL) < 0)
			abort();
		return;
	}
	if ((how & 6) == 4) {
		uint8_t hdr[IPC_HDR_LEN] = {SA_TYPE__SA_HASH_RESULT, 0, 0, 0, 0, 0, 0, 0};

		if (ipc_send_packed(h->peer, hdr, sizeof(hdr), NULL, 0) < 0)
			abort();
		return;
	}
	res.match = how & 1;
	if (ipc_send(h->peer, SA_TYPE__SA_HASH_RESULT, &res.base, NULL, 0) < 0)
		abort();
	hash_result_sent(r, h, res.match);
}

static void helper_prompt(struct run *r, struct fake_helper *h, struct in *in)
{
	static char text[AUTH_HELPER_MAX_PAYLOAD + 128];
	SaPrompt p = SA_PROMPT__INIT;
	uint8_t how = byte(in);
	size_t len;

	/* Short, at the limit, past it, or past what the channel takes. */
	switch (how & 3) {
	case 0:
		len = byte(in) % 40;
		break;
	case 1:
		len = AUTH_HELPER_MAX_TEXT - 1 + byte(in) % 3;
		break;
	case 2:
		len = AUTH_HELPER_MAX_TEXT + 1 + byte(in);
		break;
	default:
		len = AUTH_HELPER_MAX_PAYLOAD + 100;
		break;
	}
	text_from(in, text, len, how & 4);
	if ((how & 8) && len)
		text[byte(in) % len] = (how & 0x10) ? '\n' : '\x1b';
	p.text = text;
	p.echo = how & 0x20;
	if (ipc_send(h->peer, SA_TYPE__SA_PROMPT, &p.base, NULL, 0) < 0)
		abort();
	prompt_sent(r, h, text, p.echo);
}

/* What a RADIUS Access-Accept brings (sec_backend_conf turns it into settings): values
 * that parse, values that do not, and more routes or DNS servers than a result may carry. */
static void radius_fields(SaResult *res, struct in *in)
{
	static const char *const v4[] = {"198.19.0.77", "255.255.255.0", "255.0.255.0",
					 "999.1.1.1", "", "198.19.0.0"};
	static const char *const nets[] = {"198.18.50.0/24", "fd00:50::/64", "0.0.0.0/0",
					   "198.18.51.0/33", "x", "fd00:19::1/128"};
	static const char *const v6[] = {"fd00::77", "fd00:19::/64", "::", "fd00::/8",
					 "fd00::1/127", "not-v6"};
	uint8_t pick = byte(in), n;

	res->framed_ipv4 = (char *)v4[pick % 6];
	res->framed_ipv4_netmask = (pick & 8) ? (char *)v4[(pick >> 4) % 6] : NULL;
	res->framed_ipv6 = (pick & 16) ? (char *)v6[pick % 6] : NULL;
	res->framed_ipv6_prefix = (pick & 32) ? (char *)v6[(pick >> 2) % 6] : NULL;
	n = byte(in);
	res->n_routes = (n & 0x80) ? AUTH_HELPER_MAX_ROUTES + (n & 1) : n % 4;
	res->routes = calloc(res->n_routes ? res->n_routes : 1, sizeof(char *));
	res->n_dns = (n & 0x40) ? AUTH_HELPER_MAX_DNS + 1 : (n >> 2) % 4;
	res->dns = calloc(res->n_dns ? res->n_dns : 1, sizeof(char *));
	if (!res->routes || !res->dns)
		abort();
	for (size_t i = 0; i < res->n_routes; i++)
		res->routes[i] = (char *)nets[(n + i) % 6];
	for (size_t i = 0; i < res->n_dns; i++)
		res->dns[i] = (char *)v4[(n + i) % 6];
	res->has_session_timeout = pick & 1;
	res->session_timeout = byte(in) * 100u;
	res->has_idle_timeout = pick & 2;
	res->idle_timeout = byte(in);
	res->has_interim_interval = pick & 4;
	res->interim_interval = byte(in);
	res->has_rx_kbps = res->has_tx_kbps = pick & 64;
	res->rx_kbps = (uint32_t)byte(in) << 24;
	res->tx_kbps = UINT32_MAX;
}

static void helper_result(struct run *r, struct fake_helper *h, struct in *in)
{
	static const char *const good[] = {"staff", "admins", "users", "*"};
	static char reason[AUTH_HELPER_MAX_TEXT + 300], long_group[AUTH_HELPER_MAX_TEXT + 2];
	const char *bad[] = {"", "a\nb", "tab\tbed", long_group, "esc\x1b"};
	SaResult res = SA_RESULT__INIT;
	char **groups = NULL;
	uint8_t how = byte(in);

	memset(long_group, 'g', sizeof(long_group) - 1);
	res.ok = how & 1;
	if (how & 2) {
		text_from(in, reason, byte(in) % 40 + ((how & 0x40) ? AUTH_HELPER_MAX_TEXT : 0),
			  how & 4);
		res.reason = reason;
	}
	if (how & 8) {
		res.has_backend_error = true;
		res.backend_error = byte(in) & 1;
	}
	/* A few groups, as many as allowed, one more, or a few malformed ones. */
	switch ((how >> 4) & 3) {
	case 0:
	case 3:
		res.n_groups = byte(in) % 4;
		break;
	case 1:
		res.n_groups = AUTH_HELPER_MAX_GROUPS;
		break;
	default:
		res.n_groups = AUTH_HELPER_MAX_GROUPS + 1;
		break;
	}
	if (res.n_groups) {
		bool malformed = ((how >> 4) & 3) == 3;
		uint8_t pick = byte(in);

		groups = calloc(res.n_groups, sizeof(*groups));
		if (!groups)
			abort();
		for (size_t i = 0; i < res.n_groups; i++)
			groups[i] =
			    malformed ? (char *)bad[(pick + i) % 5] : (char *)good[(pick + i) % 4];
		res.groups = groups;
	}
	if (how & 0x80)
		radius_fields(&res, in);
	if (ipc_send(h->peer, SA_TYPE__SA_RESULT, &res.base, NULL, 0) < 0)
		abort();
	result_sent(r, h, &res);
	free(groups);
	free(res.routes);
	free(res.dns);
}

/* --- the launcher ---------------------------------------------------------------- */

/* Queues the launcher's answer to sec's next SA_SPAWN. */
static void queue_spawn(struct run *r, enum spawn_kind kind, struct in *in)
{
	SaSpawned s = SA_SPAWNED__INIT;
	uint8_t bad = kind == SPAWN_BAD ? byte(in) % 5 : 0;
	int sp[2], fds[2], slot = -1, ret;

	if (r->launcher < 0 || r->fifo_n == N_SPAWNS)
		return;
	/* A good helper's pid names its slot (got_hash). */
	s.pid = 6000 + r->fifo_n;
	if (kind == SPAWN_PIPE) {
		if (pipe2(sp, O_CLOEXEC) < 0)
			abort();
	} else {
		pair(sp);
	}
	switch (kind) {
	case SPAWN_GOOD:
		for (int i = 0; i < N_HELPERS && slot < 0; i++)
			if (r->fh[i].state == FH_FREE)
				slot = i;
		if (slot < 0)
			abort();
		s.pid = 5000 + slot;
		/* fall through */
	case SPAWN_DEAD:
	case SPAWN_PIPE:
		ret = ipc_send(r->launcher, SA_TYPE__SA_SPAWNED, &s.base, &sp[0], 1);
		break;
	default:
		fds[0] = sp[0];
		fds[1] = sp[1];
		if (bad == 0) {
			/* Two channels for one helper. */
			ret = ipc_send(r->launcher, SA_TYPE__SA_SPAWNED, &s.base, fds, 2);
		} else if (bad == 1) {
			/* Another type. */
			ret = ipc_send(r->launcher, SA_TYPE__SA_LOGIN, &s.base, fds, 1);
		} else if (bad == 2) {
			/* No channel. */
			ret = ipc_send(r->launcher, SA_TYPE__SA_SPAWNED, &s.base, NULL, 0);
		} else if (bad == 3) {
			/* A channel but no pid: the payload lacks a required field. */
			uint8_t hdr[IPC_HDR_LEN] = {SA_TYPE__SA_SPAWNED, 0, 1, 0, 0, 0, 0, 0};

			ret = ipc_send_packed(r->launcher, hdr, sizeof(hdr), fds, 1);
		} else {
			/* An empty datagram, which reads as a closed channel. */
			ret = send(r->launcher, "", 0, MSG_NOSIGNAL) < 0 ? -errno : 0;
		}
		break;
	}
	/* The launcher's copy; sec's, if any, is in flight. */
	close(sp[0]);
	if (slot >= 0 && ret == 0) {
		r->fh[slot].state = FH_QUEUED;
		r->fh[slot].peer = sp[1];
		r->fh[slot].serving = -1;
		r->fh[slot].prompted = false;
	} else {
		close(sp[1]);
	}
	if (ret < 0)
		return; /* sec closed its end: the next read_launcher sees it */
	r->fifo[r->fifo_n].kind = kind;
	r->fifo[r->fifo_n].slot = slot;
	r->fifo_n++;
}

/* Either side closed the launcher's channel: what it queued is gone. */
static void launcher_gone(struct run *r)
{
	close(r->launcher);
	r->launcher = -1;
	for (unsigned i = 0; i < r->fifo_n; i++)
		if (r->fifo[i].kind == SPAWN_GOOD)
			helper_gone(&r->fh[r->fifo[i].slot]);
	r->fifo_n = 0;
}

/* sec's SA_SPAWN requests: each took the oldest queued answer. */
static void read_launcher(struct run *r)
{
	uint8_t buf[IPC_HDR_LEN + 64];
	ssize_t n;

	while (r->launcher >= 0 && (n = recv(r->launcher, buf, sizeof(buf), MSG_DONTWAIT)) >= 0) {
		if (n == 0) {
			if (r->sec->launcher_fd >= 0)
				abort(); /* sec gave up on the launcher without closing it */
			launcher_gone(r);
			break;
		}
		if (n < IPC_HDR_LEN || le16(buf) != SA_TYPE__SA_SPAWN)
			abort();
		/* Else sec waited for an answer that was not there (a fault of the
		 * harness's: it queues before sec may need one). */
		if (!r->fifo_n)
			abort();
		if (r->fifo[0].kind == SPAWN_GOOD)
			r->fh[r->fifo[0].slot].state = FH_LIVE;
		r->fifo_n--;
		memmove(r->fifo, r->fifo + 1, r->fifo_n * sizeof(r->fifo[0]));
	}
}

/* --- time, main, and the whole -------------------------------------------------------- */

/* The time a helper's step or a queued login may take runs out. */
static void time_passes(struct run *r, uint8_t arg)
{
	struct sec_ctx *sec = r->sec;

	if (arg & 1) {
		struct sec_helper *h;
		unsigned n = sec->n_helpers ? (arg >> 1) % sec->n_helpers : 0;

		for (h = sec->helpers; h; h = h->next)
			if (n-- == 0)
				break;
		if (h && ev_is_active(&h->timer))
			ev_feed_event(sec->loop, &h->timer, EV_TIMER);
	} else if (ev_is_active(&sec->queue_timer)) {
		for (struct sec_worker *w = sec->login_queue; w; w = w->qnext)
			w->queued_at -= sec->cfg->auth_helper_timeout;
		ev_feed_event(sec->loop, &sec->queue_timer, EV_TIMER);
	}
	ev_invoke_pending(sec->loop);
}

/* What sec told main: every accepted login is reported. */
static void drain_main(struct run *r)
{
	static uint8_t buf[IPC_HDR_LEN + 16384];
	ssize_t n;

	while ((n = recv(r->main_peer, buf, sizeof(buf), MSG_DONTWAIT)) >= IPC_HDR_LEN) {
		MsAuthEvent *ev;

		if (le16(buf) != MS_TYPE__MS_AUTH_EVENT)
			continue;
		ev = ms_auth_event__unpack(NULL, (size_t)n - IPC_HDR_LEN, buf + IPC_HDR_LEN);
		if (!ev)
			abort();
		r->ok_events += ev->ok;
		ms_auth_event__free_unpacked(ev, NULL);
	}
	if (r->ok_events != r->ok_replies)
		abort();
}

/* sec's bookkeeping agrees with what the harness saw. */
static void check_state(struct run *r)
{
	struct sec_ctx *sec = r->sec;
	struct sec_helper *h;
	struct sec_worker *w;
	unsigned helpers = 0, queued = 0, live = 0;

	for (h = sec->helpers; h; h = h->next) {
		helpers++;
		if (h->w && h->w->helper != h)
			abort();
	}
	for (w = sec->login_queue; w; w = w->qnext) {
		queued++;
		if (!w->queued || w->helper)
			abort();
	}
	for (int i = 0; i < N_HELPERS; i++)
		live += r->fh[i].state == FH_LIVE;
	if (helpers != sec->n_helpers || helpers > sec->cfg->auth_helpers || helpers != live ||
	    queued != sec->n_queued)
		abort();
	/* Nothing waits while a helper is free or could be started. */
	if (sec->login_queue) {
		if (sec->n_helpers < sec->cfg->auth_helpers && sec->launcher_fd >= 0)
			abort();
		for (h = sec->helpers; h; h = h->next)
			if (!h->w)
				abort();
	}
	for (int i = 0; i < N_WORKERS; i++) {
		struct fake_worker *f = &r->fw[i];
		unsigned serving = 0;

		if (!f->w)
			continue;
		w = f->w;
		for (int j = 0; j < N_HELPERS; j++)
			serving += r->fh[j].state == FH_LIVE && r->fh[j].serving == i;
		if (f->in_login) {
			/* In a helper's hands or in the queue, never both, never neither. */
			if (w->queued == (w->helper != NULL) ||
			    (w->helper != NULL) != (serving == 1))
				abort();
			if (f->more != (w->state == SECW_MORE))
				abort();
		} else if (w->queued || w->helper || serving ||
			   (w->state != SECW_AUTH && !f->done) ||
			   (f->done && w->state != SECW_DONE)) {
			abort();
		}
	}
}

/* sec runs what is ready; the harness reads everything sec sent and checks it. */
static void settle(struct run *r)
{
	ev_run(r->sec->loop, EVRUN_NOWAIT);
	ev_run(r->sec->loop, EVRUN_NOWAIT);
	read_launcher(r);
	read_helpers(r);
	read_workers(r);
	drain_main(r);
	check_state(r);
	/* Before any input that may make sec start a helper: at most one per input. */
	if (!r->fifo_n)
		queue_spawn(r, SPAWN_GOOD, NULL);
}

static void setup(struct run *r, bool plain)
{
	struct sec_ctx *sec;
	int sp[2];

	memset(r, 0, sizeof(*r));
	r->plain = plain;
	for (int i = 0; i < N_HELPERS; i++)
		r->fh[i].peer = -1;
	sec = r->sec = talloc_zero(NULL, struct sec_ctx);
	sec->cfg = talloc_zero(sec, struct sluice_config);
	sec->cfg->server_key = key_path;
	sec->cfg->password_backend = plain ? CONFIG_PW_PLAIN : CONFIG_PW_PAM;
	sec->cfg->passwd_file = passwd_path;
	sec->cfg->pam_service = "sluice";
	sec->cfg->auth_required = CONFIG_AUTH_PASSWORD;
	sec->cfg->auth_helpers = 2;
	sec->cfg->auth_helper_timeout = 15;
	sec->cfg->auth_timeout = 60;
	sec->cfg->auth_tries = 3;
	sec->cfg->max_same_clients = 2;
	sec->cfg->cookie_timeout = 60;
	sec->cfg->tls_priorities =
	    "NORMAL:%SERVER_PRECEDENCE:%COMPAT:-VERS-SSL3.0:-VERS-TLS1.0:-VERS-TLS1.1";
	sec->loop = ev_loop_new(EVFLAG_AUTO);
	if (!sec->loop || sec_keys_load(sec) < 0)
		abort();
	pair(sp);
	sec->main_ch.fd = sp[0];
	sec->main_q.limit = SEC_QUEUE_LIMIT;
	r->main_peer = sp[1];
	/* The launcher is the harness's: sec_helpers_start would fork the real one. */
	sec_helpers_init(sec);
	pair(sp);
	sec->launcher_fd = sp[0];
	sec->launcher_pid = 4242;
	r->launcher = sp[1];
	queue_spawn(r, SPAWN_GOOD, NULL);
	r->baseline_blocks = talloc_total_blocks(sec);
}

/* Every worker leaves, the launcher and the helpers go; sec must be back where it
 * started, but for the sessions it made. */
static void teardown(struct run *r)
{
	struct sec_ctx *sec = r->sec;
	struct sec_session *s;
	size_t blocks;

	for (int i = 0; i < N_WORKERS; i++) {
		worker_leaves(r, &r->fw[i]);
		settle(r);
	}
	if (r->launcher >= 0)
		launcher_gone(r);
	for (int i = 0; i < N_HELPERS; i++)
		if (r->fh[i].state == FH_LIVE)
			helper_gone(&r->fh[i]);
	settle(r);
	if (r->launcher >= 0)
		launcher_gone(r);
	if (sec->helpers || sec->n_helpers || sec->login_queue || sec->n_queued || sec->workers)
		abort();
	if (sec->launcher_fd >= 0)
		close(sec->launcher_fd);
	blocks = talloc_total_blocks(sec);
	for (s = sec->sessions_by_sid; s; s = s->hh_sid.next)
		blocks -= talloc_total_blocks(s);
	if (blocks != r->baseline_blocks)
		abort();
	close(sec->main_ch.fd);
	close(r->main_peer);
	ev_loop_destroy(sec->loop);
	/* sec keeps its tables for its life; uthash's buckets are not talloc's. */
	HASH_CLEAR(hh_sid, sec->sessions_by_sid);
	HASH_CLEAR(hh_cookie, sec->sessions_by_cookie);
	HASH_CLEAR(hh, sec->users_in_use);
	talloc_free(sec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct run r;
	static bool made;
	struct in in = {data, size};
	int fds_before;

	if (!made) {
		make_key();
		made = true;
	}
	fds_before = count_fds();
	/* 'H': plain auth, whose helpers check hashes. */
	if (in.left && *in.p == 'H') {
		byte(&in);
		setup(&r, true);
	} else {
		setup(&r, false);
	}
	while (in.left) {
		uint8_t op = byte(&in), arg = byte(&in);
		struct fake_worker *f = &r.fw[arg % N_WORKERS];
		struct fake_helper *h;

		switch (op % 10) {
		case 0:
			worker_login(&r, f, &in);
			break;
		case 1:
			worker_answer(f, &in);
			break;
		case 2:
			worker_leaves(&r, f);
			break;
		case 3:
		case 4:
		case 5:
		case 6:
			h = pick_helper(&r, arg);
			if (!h)
				break;
			if (op % 10 == 3)
				helper_raw(&r, h, &in);
			else if (op % 10 == 4)
				helper_prompt(&r, h, &in);
			else if (op % 10 == 5 && r.plain && (arg & 0x40))
				helper_hash_result(&r, h, &in);
			else if (op % 10 == 5)
				helper_result(&r, h, &in);
			/* A helper that ends right after its last message: sec finds both
			 * at once. */
			if (op % 10 == 6 || (op & 0x80))
				helper_gone(h);
			break;
		case 7:
			queue_spawn(&r, (enum spawn_kind)(arg % 4), &in);
			break;
		case 8:
			if (r.launcher >= 0)
				launcher_gone(&r);
			break;
		default:
			time_passes(&r, arg);
			break;
		}
		settle(&r);
	}
	teardown(&r);
	if (count_fds() != fds_before)
		abort();
	return 0;
}
