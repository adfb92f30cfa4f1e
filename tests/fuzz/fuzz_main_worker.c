/* main as a compromised worker sees it: arbitrary sequences of worker messages (well
 * formed or not, with or without fds, in any state) go through main's real worker
 * channel, route table and session pipeline (workers.c, session_setup.c,
 * sec_channel.c, sessions.c), interleaved with sec's answers and its own news (a session
 * replaced by a newer login, a session expired), connect-script results, terminates,
 * timers (session-timeout, session-quota-bytes with counters the input chooses, the kill
 * after a terminate) and worker exits, for up to three workers at once. Only what touches the
 * system is a stand-in here: TUN devices (made, counted, retired, deleted), nftables,
 * iroutes, scripts, signals and the event sinks. After each input every worker has exited, and then main must hold no
 * worker, no session, no tunnel index entry and no descriptor more than before.
 *
 * Input: a sequence of operations, one byte each, followed by their arguments. */
#include "config.h"
#include "fuzz_input.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/config.h"
#include "common/session.h"
#include "ipc/main_sec.pb-c.h"
#include "ipc/main_worker.pb-c.h"
#include "main/events.h"
#include "main/filter.h"
#include "main/iroute.h"
#include "main/main.h"
#include "main/scripts.h"
#include "main/sec_channel.h"
#include "main/session_setup.h"
#include "main/tun.h"
#include "main/workers.h"

#define MAX_WORKERS 3

static const char global[] = "auth = plain[passwd=/etc/sluice/passwd]\n"
			     "server-cert = /srv/cert.pem\n"
			     "server-key = /srv/key.pem\n"
			     "ipv4-network = 198.19.0.0/24\n"
			     "ipv6-network = fd00:19::/112\n"
			     "route = 198.19.0.0/24\n"
			     "route = fd00:19::/112\n"
			     "connect-script = /bin/true\n";

/* What sec may hand main with a cookie: the keys of per-user files. */
static const char *const user_configs[] = {
    "",
    "iroute = 198.18.5.0/24\n",
    "restrict-user-to-routes = true\ndns = 198.19.0.1\n",
    "explicit-ipv4 = 198.19.0.77\n",
    "mtu = 1300\nidle-timeout = 5\n",
    "ipv4-network = 198.19.1.0/24\n",
    "ipv4-network = 198.19.0.128/25\n",
    "no-udp = true\nrx-data-per-sec = 1000\n",
    "explicit-ipv6 = fd00:19::77\niroute = fd00:77::/48\n",
    "ipv6-network = fd00:19:1::/64\nipv6-subnet-prefix = 96\n",
    "ipv6-network = fd00:19::/120\n",
    "session-quota-bytes = 1000\n",
};

static struct main_ctx *m;
static int sec_peer = -1; /* sec's end of main's sec channel */
static struct fake {
	struct main_worker *w;
	int peer;     /* the worker's end of its main channel */
	pid_t pid;
} fakes[MAX_WORKERS];
static int next_pid = 1000000000;
static long sessions; /* session starts minus ends, from the events */

/* --- stand-ins for what touches the system ----------------------------------------- */

int kill(pid_t pid, int sig)
{
	return 0;
}

void log_printf(int priority, const char *func, const char *fmt, ...)
{
}

void log_raw(int priority, const char *line)
{
}

void main_event(struct main_ctx *mc, const struct main_event *ev)
{
	if (ev->kind == MEV_SESSION_START)
		sessions++;
	else if (ev->kind == MEV_SESSION_END)
		sessions--;
}

static unsigned tun_seq;

int tun_create(const char *prefix, unsigned mtu, const struct tun_addrs *a, char name[IFNAMSIZ])
{
	snprintf(name, IFNAMSIZ, "%s%u", prefix, tun_seq++ % 1000);
	return open("/dev/null", O_RDWR | O_CLOEXEC);
}

/* What the TUN devices have counted, as the input says; 0: they cannot be read. */
static uint64_t tun_bytes;

int tun_stats(const char *name, uint64_t *rx, uint64_t *tx, uint64_t *rxp, uint64_t *txp)
{
	if (!tun_bytes)
		return -ENODEV;
	*rx = tun_bytes;
	*tx = tun_bytes / 2;
	*rxp = *txp = 1;
	return 0;
}

/* Devices are retired and deleted by name: stand-ins, so that no input reaches a real
 * device of the machine. */
int tun_retire(const char *name)
{
	return 0;
}

int tun_delete_retired(void)
{
	return 0;
}

int tun_delete(const char *name)
{
	return 0;
}

/* filter.c's profiles are opaque to main: any non-null pointer says "installed". */
static char installed_profile;

int filter_session_add(struct main_ctx *mc, struct main_worker *w)
{
	w->filter_profile = (struct filter_profile *)&installed_profile;
	return 0;
}

void filter_session_del(struct main_ctx *mc, struct main_worker *w)
{
	w->filter_profile = NULL;
}

void iroutes_apply(struct main_ctx *mc, const struct main_worker *w, bool add)
{
}

static struct {
	uint32_t id;
	script_done_fn done;
} scripts[8];

int scripts_connect(struct main_ctx *mc, const struct main_worker *w, script_done_fn done)
{
	for (size_t i = 0; i < 8; i++) {
		if (!scripts[i].done) {
			scripts[i].id = w->id;
			scripts[i].done = done;
			return 0;
		}
	}
	return -EAGAIN;
}

void audit_stop(struct main_ctx *mc)
{
	abort(); /* sec_lost: main would exit because of what a worker sent */
}

/* --- input ---------------------------------------------------------------------------- */

struct input {
	const uint8_t *p;
	size_t left;
};

static uint8_t byte(struct input *in)
{
	if (!in->left)
		return 0;
	in->left--;
	return *in->p++;
}

/* Reads and throws away what main sent on fd, closing the fds that came with it. */
static void drain(int fd, void (*seen)(const uint8_t *buf, size_t len))
{
	uint8_t buf[70000];
	union {
		char b[CMSG_SPACE(sizeof(int) * 4)];
		struct cmsghdr align;
	} cbuf;

	for (;;) {
		struct iovec iov = {buf, sizeof(buf)};
		struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf.b,
				    .msg_controllen = sizeof(cbuf.b)};
		ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

		if (n <= 0)
			return;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			int *fds = (int *)CMSG_DATA(c);
			size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

			for (size_t i = 0; i < k; i++)
				close(fds[i]);
		}
		if (seen)
			seen(buf, (size_t)n);
	}
}

static void pump(void)
{
	for (int i = 0; i < MAX_WORKERS; i++)
		if (fakes[i].w)
			drain(fakes[i].peer, NULL);
	ev_run(m->loop, EVRUN_NOWAIT);
}

/* Cookie checks main sent since the last answer. */
static uint32_t checks[16];
static unsigned n_checks;

static void seen_by_sec(const uint8_t *buf, size_t len)
{
	MsCookieCheck *cc;

	if (len < 8 || (buf[0] | buf[1] << 8) != MS_TYPE__MS_COOKIE_CHECK || n_checks >= 16)
		return;
	cc = ms_cookie_check__unpack(NULL, len - 8, buf + 8);
	if (cc)
		checks[n_checks++] = cc->worker_id;
	ms_cookie_check__free_unpacked(cc, NULL);
}

static void sec_answers(struct input *in)
{
	drain(sec_peer, seen_by_sec);
	for (unsigned i = 0; i < n_checks; i++) {
		MsCookieResult r = MS_COOKIE_RESULT__INIT;
		uint8_t how = byte(in);
		char sid[8];

		r.worker_id = checks[i];
		r.ok = how & 1;
		if (r.ok) {
			/* Few sids: tunnels of the same session meet (re-use, successors). */
			snprintf(sid, sizeof(sid), "s%u", (how >> 1) & 3);
			r.sid = sid;
			r.username = (how & 8) ? "alice" : "bob";
			r.groupname = "";
			r.user_config =
			    (char *)user_configs[(how >> 4) % (sizeof(user_configs) / sizeof(char *))];
			r.has_deadline = (how & 0x80) != 0;
			r.deadline = time(NULL) - 1;
		} else {
			r.has_http_code = true;
			r.http_code = 401;
			r.reason = "refused";
		}
		ipc_send(sec_peer, MS_TYPE__MS_COOKIE_RESULT, &r.base, NULL, 0);
	}
	n_checks = 0;
	ev_run(m->loop, EVRUN_NOWAIT);
}

/* sec's own news: a session replaced by a newer login, or expired (one of the few sids
 * the cookie answers use, whether main knows it or not). */
static void sec_says(struct input *in)
{
	uint8_t how = byte(in);
	char sid[8];

	snprintf(sid, sizeof(sid), "s%u", (how >> 1) & 3);
	if (how & 1) {
		MsSessionReplace r = MS_SESSION_REPLACE__INIT;

		r.sid = sid;
		ipc_send(sec_peer, MS_TYPE__MS_SESSION_REPLACE, &r.base, NULL, 0);
	} else {
		MsSessionExpired e = MS_SESSION_EXPIRED__INIT;

		e.sid = sid;
		ipc_send(sec_peer, MS_TYPE__MS_SESSION_EXPIRED, &e.base, NULL, 0);
	}
	ev_run(m->loop, EVRUN_NOWAIT);
}

static struct fake *pick(struct input *in)
{
	struct fake *f = &fakes[byte(in) % MAX_WORKERS];
	int sv[2], sw[2];
	struct sockaddr_storage peer = {.ss_family = AF_INET}, local = {.ss_family = AF_INET};

	if (f->w)
		return f;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sw) < 0)
		abort();
	close(sw[1]);
	f->w = main_worker_new(m, sv[0], sw[0], &peer, &local);
	if (!f->w || main_worker_attach(m, f->w) < 0)
		abort();
	f->peer = sv[1];
	f->pid = next_pid++;
	if (main_worker_started(m, f->w, f->pid) < 0)
		abort();
	drain(sec_peer, seen_by_sec);
	return f;
}

static void worker_sends(struct input *in, struct fake *f)
{
	uint8_t frame[8 + 1024];
	uint16_t type = byte(in) % 12;
	uint8_t flags = byte(in);
	size_t len = byte(in);
	int fd = -1;

	if (len > in->left)
		len = in->left;
	frame[0] = (uint8_t)type;
	frame[1] = (uint8_t)(type >> 8);
	frame[2] = flags & 1;
	frame[3] = 0;
	frame[4] = (uint8_t)len;
	frame[5] = frame[6] = frame[7] = 0;
	memcpy(frame + 8, in->p, len);
	in->p += len;
	in->left -= len;
	if (flags & 1)
		fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	ipc_send_packed(f->peer, frame, 8 + len, &fd, flags & 1);
	if (fd >= 0)
		close(fd);
}

/* A well-formed message, so that the pipeline gets past the framing often. */
static void worker_says(struct input *in, struct fake *f)
{
	uint8_t what = byte(in), cookie[32];
	char ip[16], ip6[40];

	memset(cookie, byte(in), sizeof(cookie));
	if (what % 3 == 0) {
		MwTunnelReq r = MW_TUNNEL_REQ__INIT;

		r.cookie.data = cookie;
		r.cookie.len = sizeof(cookie);
		r.hostname = "host\n\x1b[2J";
		r.user_agent = "agent";
		r.mtu = (uint32_t)byte(in) * 40;
		if (what & 8) {
			snprintf(ip, sizeof(ip), "198.19.0.%u", byte(in));
			r.requested_ipv4 = ip;
			snprintf(ip6, sizeof(ip6), "fd00:19::%x", byte(in));
			r.requested_ipv6 = ip6;
		}
		r.has_ipv6 = what & 16;
		r.ipv6 = what & 32;
		ipc_send(f->peer, MW_TYPE__MW_TUNNEL_REQ, &r.base, NULL, 0);
	} else if (what % 3 == 1) {
		MwSessionEnd e = MW_SESSION_END__INIT;

		e.reason = byte(in) % 12;
		ipc_send(f->peer, MW_TYPE__MW_SESSION_END, &e.base, NULL, 0);
	} else {
		MwStats s = MW_STATS__INIT;

		s.bytes_in = byte(in);
		ipc_send(f->peer, MW_TYPE__MW_STATS, &s.base, NULL, 0);
	}
}

static void worker_exits(struct fake *f, int status)
{
	main_worker_exited(m, f->pid, status);
	close(f->peer);
	f->w = NULL;
	drain(sec_peer, seen_by_sec);
}

static const struct sec_replies replies = {.cookie_result = session_on_cookie_result,
					   .session_replace = session_on_replace};

static void setup(void)
{
	char err[512];
	int sp[2];

	m = talloc_zero(NULL, struct main_ctx);
	m->cfg = config_load_string(m, global, "global", err, sizeof(err));
	if (!m->cfg)
		abort();
	m->loop = ev_loop_new(EVFLAG_AUTO);
	m->udp_fd = -1;
	if (main_pools_start(m) < 0 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0 ||
	    !m->loop)
		abort();
	m->sec_ch.fd = sp[0];
	sec_peer = sp[1];
	sec_channel_start(m, &replies);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = {data, size};
	int fds_before;

	if (!m)
		setup();
	fds_before = fuzz_count_fds();
	while (in.left) {
		uint8_t op = byte(&in);
		struct fake *f = pick(&in);

		switch (op % 10) {
		case 0:
		case 1:
			worker_sends(&in, f);
			break;
		case 2:
		case 3:
			worker_says(&in, f);
			break;
		case 4:
			pump();
			sec_answers(&in);
			break;
		case 5:
			for (size_t i = 0; i < 8; i++) {
				script_done_fn done = scripts[i].done;

				if (!done)
					continue;
				scripts[i].done = NULL;
				done(m, scripts[i].id, byte(&in) & 1);
			}
			break;
		case 6:
			worker_exits(f, byte(&in) & 1 ? 0 : SIGSEGV);
			break;
		case 7:
			main_terminate_worker(f->w, byte(&in) % 12);
			break;
		case 8:
			sec_says(&in);
			break;
		default:
			/* The timers: session-timeout, the quota, then the kill after a
			 * terminate. */
			tun_bytes = (uint64_t)byte(&in) * 8;
			if (ev_is_active(&f->w->session_timer))
				f->w->session_timer.cb(m->loop, &f->w->session_timer, EV_TIMER);
			else if (ev_is_active(&f->w->quota_timer))
				f->w->quota_timer.cb(m->loop, &f->w->quota_timer, EV_TIMER);
			else if (ev_is_active(&f->w->kill_timer))
				f->w->kill_timer.cb(m->loop, &f->w->kill_timer, EV_TIMER);
			break;
		}
		pump();
	}
	for (int i = 0; i < MAX_WORKERS; i++)
		if (fakes[i].w)
			worker_exits(&fakes[i], 0);
	for (size_t i = 0; i < 8; i++)
		scripts[i].done = NULL;
	/* sec expires every session in the end: main keeps nothing of them either, and the
	 * next input starts afresh. */
	for (unsigned i = 0; i < 4; i++) {
		MsSessionExpired e = MS_SESSION_EXPIRED__INIT;
		char sid[8];

		snprintf(sid, sizeof(sid), "s%u", i);
		e.sid = sid;
		ipc_send(sec_peer, MS_TYPE__MS_SESSION_EXPIRED, &e.base, NULL, 0);
	}
	ev_run(m->loop, EVRUN_NOWAIT);
	drain(sec_peer, NULL);
	n_checks = 0;
	tun_bytes = 0;
	if (m->n_workers || m->workers || m->by_sid || m->by_id || m->by_pid || sessions ||
	    m->sessions)
		abort();
	if (fuzz_count_fds() != fds_before)
		abort();
	return 0;
}
