/* sluice-loadgen's command line, set-up and run: sessions are started at --rate until
 * --sessions, held until --duration is over (or SIGINT/SIGTERM), then logged out. */
#include "config.h"
#include "loadgen.h"
#include "session.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

/* openconnect 9.01's priority string as Debian builds it (protocol.md §2.1) */
#define OC_PRIORITY          "NORMAL:-VERS-SSL3.0:+SHA256:%COMPAT:-3DES-CBC:-ARCFOUR-128"
#define DTLS_PRIORITY_SUFFIX ":-VERS-TLS-ALL:+VERS-DTLS-ALL:-KX-ALL:+PSK"
/* descriptors beyond the sessions': stdio, the loop, GnuTLS's random source */
#define FD_RESERVE 32

static const char usage_text[] =
    "Usage: sluice-loadgen --server ADDR[:PORT] --source SPEC --user NAME\n"
    "                      (--password PW | --password-file FILE)\n"
    "                      (--pin PIN | --cafile FILE) [options]\n"
    "\n"
    "Logs in and holds many OpenConnect (AnyConnect) sessions from one process, as\n"
    "openconnect 9.01 does: TLS, XML aggregate-auth login, cookie, CONNECT, CSTP\n"
    "keepalives and DPD, optionally PSK-NEGOTIATE DTLS and pings through the tunnels.\n"
    "Every address must be in 198.18.0.0/15 (the benchmarking range).\n"
    "\n"
    "Server and verification:\n"
    "  --server ADDR[:PORT]     the server (port 443 if none)\n"
    "  --host NAME              Host header, SNI and the name --cafile checks\n"
    "                           (default: the server's address)\n"
    "  --pin pin-sha256:B64     accept the server only with this SHA-256 of its public\n"
    "                           key (SubjectPublicKeyInfo), as openconnect --servercert\n"
    "  --pin sha256:HEX         ... or of its certificate (DER); may be given with the\n"
    "                           other form, then both must match\n"
    "  --cafile FILE            verify the server's chain against these CAs and --host\n"
    "  --path PATH              the path of the URL a user would give, where the\n"
    "                           login starts, e.g. /?SECRET for a camouflaged\n"
    "                           server (default /)\n"
    "  --priority STRING        GnuTLS priorities (default openconnect's: " OC_PRIORITY ")\n"
    "\n"
    "Login:\n"
    "  --user NAME              user name\n"
    "  --users N                user names NAME0..NAME{N-1}, session i uses NAME{i mod N}\n"
    "  --password PW            password (visible in ps; see --password-file)\n"
    "  --password-file FILE     password: the first line of FILE\n"
    "  --group NAME             auth group sent as <group-select>\n"
    "  --bad-password-share F   share 0..1 of sessions that send a wrong password, on\n"
    "                           purpose (counted as login_refused, never retried)\n"
    "  --login-timeout S        seconds from TCP connect to CONNECT answered (default 30)\n"
    "\n"
    "Load:\n"
    "  --source SPEC            local addresses to connect from, used round-robin:\n"
    "                           A, A-B (a range) or A,B,... ; may be repeated\n"
    "  --sessions N             sessions to establish and hold (default 1, max 100000)\n"
    "  --rate N                 new logins started per second (default 10)\n"
    "  --duration S             length of the whole run, ramp included (default 60,\n"
    "                           max 3600); then every session is logged out (CSTP\n"
    "                           DISCONNECT) and the program exits\n"
    "  --retry N                start a failed session again, up to N times (default 0)\n"
    "  --dtls                   offer PSK-NEGOTIATE DTLS and send data over it when up\n"
    "                           (default: TLS only, as openconnect --no-dtls)\n"
    "\n"
    "Pings through the tunnels:\n"
    "  --ping-target ADDR       destination of the ICMP echo requests\n"
    "  --ping-share F           share 0..1 of sessions that ping (default 0)\n"
    "  --ping-interval S        seconds between a session's pings (default 5)\n"
    "  --ping-loss-limit N      unanswered pings in a row that fail a session\n"
    "                           (ping_lost; default 3)\n"
    "  (Each share is spread evenly over the session numbers; one session can be in\n"
    "  both, and a session with a wrong password never gets to ping.)\n"
    "\n"
    "Output:\n"
    "  --progress S             a progress line on stderr every S seconds (default 5,\n"
    "                           0: none)\n"
    "  --json                   the final report as one JSON object on stdout\n"
    "  --help                   this text\n"
    "\n"
    "Failure causes: connect, tls, login_refused, no_cookie, connect_refused,\n"
    "tunnel_closed, dpd_timeout, ping_lost, protocol, login_timeout. Login latency is\n"
    "from the TCP connect to the CONNECT answer. Exit status: 0 when the run went\n"
    "through (read the report for failures), 1 when it could not start, 2 on usage.\n";

enum {
	O_SERVER = 256,
	O_HOST,
	O_PIN,
	O_CAFILE,
	O_PRIORITY,
	O_PATH,
	O_USER,
	O_USERS,
	O_PASSWORD,
	O_PASSWORD_FILE,
	O_GROUP,
	O_BAD_PW,
	O_LOGIN_TIMEOUT,
	O_SOURCE,
	O_SESSIONS,
	O_RATE,
	O_DURATION,
	O_RETRY,
	O_DTLS,
	O_PING_TARGET,
	O_PING_SHARE,
	O_PING_INTERVAL,
	O_PING_LOSS,
	O_PROGRESS,
	O_JSON,
	O_HELP
};

static const struct option long_opts[] = {
    {"server", required_argument, NULL, O_SERVER},
    {"host", required_argument, NULL, O_HOST},
    {"pin", required_argument, NULL, O_PIN},
    {"cafile", required_argument, NULL, O_CAFILE},
    {"priority", required_argument, NULL, O_PRIORITY},
    {"path", required_argument, NULL, O_PATH},
    {"user", required_argument, NULL, O_USER},
    {"users", required_argument, NULL, O_USERS},
    {"password", required_argument, NULL, O_PASSWORD},
    {"password-file", required_argument, NULL, O_PASSWORD_FILE},
    {"group", required_argument, NULL, O_GROUP},
    {"bad-password-share", required_argument, NULL, O_BAD_PW},
    {"login-timeout", required_argument, NULL, O_LOGIN_TIMEOUT},
    {"source", required_argument, NULL, O_SOURCE},
    {"sessions", required_argument, NULL, O_SESSIONS},
    {"rate", required_argument, NULL, O_RATE},
    {"duration", required_argument, NULL, O_DURATION},
    {"retry", required_argument, NULL, O_RETRY},
    {"dtls", no_argument, NULL, O_DTLS},
    {"ping-target", required_argument, NULL, O_PING_TARGET},
    {"ping-share", required_argument, NULL, O_PING_SHARE},
    {"ping-interval", required_argument, NULL, O_PING_INTERVAL},
    {"ping-loss-limit", required_argument, NULL, O_PING_LOSS},
    {"progress", required_argument, NULL, O_PROGRESS},
    {"json", no_argument, NULL, O_JSON},
    {"help", no_argument, NULL, O_HELP},
    {NULL, 0, NULL, 0},
};

static void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "sluice-loadgen: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(--help lists the options)\n");
	exit(2);
}

/* Only the benchmarking range 198.18.0.0/15 (testing.md). */
static bool in_bench_range(struct in_addr a)
{
	return (ntohl(a.s_addr) & 0xfffe0000u) == 0xc6120000u;
}

static struct in_addr bench_addr(const char *s)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		usage_error("'%s' is not an IPv4 address", s);
	if (!in_bench_range(a))
		usage_error("refusing %s: addresses must be in 198.18.0.0/15", s);
	return a;
}

static unsigned long num_arg(const char *s, unsigned long min, unsigned long max)
{
	char *e;
	unsigned long n;

	errno = 0;
	n = strtoul(s, &e, 10);
	if (errno || e == s || *e || s[0] == '-' || n < min || n > max)
		usage_error("'%s' is not a number from %lu to %lu", s, min, max);
	return n;
}

static double share_arg(const char *s)
{
	char *e;
	double f = strtod(s, &e);

	if (e == s || *e || !(f >= 0 && f <= 1))
		usage_error("'%s' is not a share from 0 to 1", s);
	return f;
}

static void add_sources(struct options *o, char *spec)
{
	char *save = NULL;

	for (char *item = strtok_r(spec, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		char *dash = strchr(item, '-');
		uint32_t lo, hi;

		if (dash)
			*dash = 0;
		lo = ntohl(bench_addr(item).s_addr);
		hi = dash ? ntohl(bench_addr(dash + 1).s_addr) : lo;
		if (hi < lo)
			usage_error("source range ending at %s runs backwards", dash + 1);
		if (o->n_sources + (hi - lo + 1) > LG_MAX_SOURCES)
			usage_error("more than 131072 source addresses at '%s'", item);
		o->sources =
		    realloc(o->sources, (o->n_sources + hi - lo + 1) * sizeof(*o->sources));
		if (!o->sources)
			usage_error("out of memory at '%s'", item);
		for (uint32_t a = lo; a <= hi; a++)
			o->sources[o->n_sources++].s_addr = htonl(a);
	}
}

static void set_server(struct options *o, char *arg)
{
	char *colon = strchr(arg, ':');

	o->server.sin_family = AF_INET;
	o->server.sin_port = htons(443);
	if (colon) {
		*colon = 0;
		o->server.sin_port = htons((uint16_t)num_arg(colon + 1, 1, 65535));
	}
	o->server.sin_addr = bench_addr(arg);
}

static void set_pin(struct options *o, const char *arg)
{
	gnutls_datum_t in, out = {NULL, 0};

	if (strncmp(arg, "pin-sha256:", 11) == 0) {
		in.data = (unsigned char *)arg + 11;
		in.size = (unsigned)strlen(arg + 11);
		if (gnutls_base64_decode2(&in, &out) < 0 || out.size != 32)
			usage_error("'%s' is not pin-sha256: and a base64 SHA-256", arg);
		memcpy(o->pin_spki, out.data, 32);
		gnutls_free(out.data);
		o->has_pin_spki = true;
	} else if (strncmp(arg, "sha256:", 7) == 0 && strlen(arg + 7) == 64) {
		for (int i = 0; i < 32; i++) {
			unsigned b;

			if (sscanf(arg + 7 + 2 * i, "%2x", &b) != 1)
				usage_error("'%s' is not sha256: and 64 hex digits", arg);
			o->pin_cert[i] = (uint8_t)b;
		}
		o->has_pin_cert = true;
	} else {
		usage_error("'%s': a pin is pin-sha256:BASE64 or sha256:HEX", arg);
	}
}

static const char *read_password(const char *file)
{
	static char line[512];
	FILE *f = fopen(file, "re");

	if (!f || !fgets(line, sizeof(line), f))
		usage_error("cannot read a password from %s", file);
	fclose(f);
	line[strcspn(line, "\r\n")] = 0;
	return line;
}

static void parse_options(struct options *o, int argc, char **argv)
{
	int c;

	*o = (struct options){.sessions = 1,
			      .rate = 10,
			      .duration = 60,
			      .login_timeout = 30,
			      .progress = 5,
			      .ping_interval = 5,
			      .ping_loss_limit = 3,
			      .priority = OC_PRIORITY,
			      .path = "/"};
	while ((c = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
		switch (c) {
		case O_SERVER:
			set_server(o, optarg);
			break;
		case O_HOST:
			o->host = optarg;
			break;
		case O_PIN:
			set_pin(o, optarg);
			break;
		case O_CAFILE:
			o->cafile = optarg;
			break;
		case O_PATH:
			o->path = optarg;
			break;
		case O_PRIORITY:
			o->priority = optarg;
			break;
		case O_USER:
			o->user = optarg;
			break;
		case O_USERS:
			o->users = (unsigned)num_arg(optarg, 1, LG_MAX_SESSIONS);
			break;
		case O_PASSWORD:
			o->password = optarg;
			break;
		case O_PASSWORD_FILE:
			o->password = read_password(optarg);
			break;
		case O_GROUP:
			o->group = optarg;
			break;
		case O_BAD_PW:
			o->bad_password_share = share_arg(optarg);
			break;
		case O_LOGIN_TIMEOUT:
			o->login_timeout = (unsigned)num_arg(optarg, 1, 600);
			break;
		case O_SOURCE:
			add_sources(o, optarg);
			break;
		case O_SESSIONS:
			o->sessions = (unsigned)num_arg(optarg, 1, LG_MAX_SESSIONS);
			break;
		case O_RATE:
			o->rate = (unsigned)num_arg(optarg, 1, 10000);
			break;
		case O_DURATION:
			o->duration = (unsigned)num_arg(optarg, 1, LG_MAX_DURATION);
			break;
		case O_RETRY:
			o->retry = (unsigned)num_arg(optarg, 0, LG_MAX_RETRY);
			break;
		case O_DTLS:
			o->dtls = true;
			break;
		case O_PING_TARGET:
			o->ping_target = bench_addr(optarg);
			o->has_ping_target = true;
			break;
		case O_PING_SHARE:
			o->ping_share = share_arg(optarg);
			break;
		case O_PING_INTERVAL:
			o->ping_interval = (unsigned)num_arg(optarg, 1, 600);
			break;
		case O_PING_LOSS:
			o->ping_loss_limit = (unsigned)num_arg(optarg, 1, 1000);
			break;
		case O_PROGRESS:
			o->progress = (unsigned)num_arg(optarg, 0, 3600);
			break;
		case O_JSON:
			o->json = true;
			break;
		case O_HELP:
			fputs(usage_text, stdout);
			exit(0);
		default:
			usage_error("%s", "unknown option");
		}
	}
	if (o->path[0] != '/' || strpbrk(o->path, " \r\n"))
		usage_error("--path '%s' must start with / and hold no space", o->path);
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (!o->server.sin_family)
		usage_error("%s", "--server is required");
	if (!o->n_sources)
		usage_error("%s", "--source is required (addresses in 198.18.0.0/15)");
	if (!o->user || !o->password)
		usage_error("%s", "--user and --password (or --password-file) are required");
	if (!o->has_pin_spki && !o->has_pin_cert && !o->cafile)
		usage_error("%s", "the server must be verified: give --pin or --cafile");
	if (o->ping_share > 0 && !o->has_ping_target)
		usage_error("%s", "--ping-share needs --ping-target");
	if (!o->host) {
		static char host[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &o->server.sin_addr, host, sizeof(host));
		o->host = host;
	}
}

/* Raises the soft descriptor limit to the hard one; refuses a target that does not
 * fit rather than failing sessions for want of descriptors halfway through. */
static int raise_nofile(const struct options *o)
{
	struct rlimit rl;
	unsigned long need = (unsigned long)o->sessions * (o->dtls ? 2 : 1) + FD_RESERVE;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -errno;
	if (rl.rlim_max != RLIM_INFINITY && need > rl.rlim_max) {
		fprintf(stderr,
			"sluice-loadgen: %u sessions%s need about %lu descriptors, but the hard "
			"limit (ulimit -Hn) is %llu: at most %llu sessions fit; run several "
			"processes, each with its own --source addresses\n",
			o->sessions, o->dtls ? " with DTLS" : "", need,
			(unsigned long long)rl.rlim_max,
			(unsigned long long)(rl.rlim_max > FD_RESERVE
						 ? (rl.rlim_max - FD_RESERVE) / (o->dtls ? 2 : 1)
						 : 0));
		return -EMFILE;
	}
	rl.rlim_cur = rl.rlim_max;
	return setrlimit(RLIMIT_NOFILE, &rl) < 0 ? -errno : 0;
}

static int tls_setup(struct loadgen *lg)
{
	const char *err = NULL;
	char *dprio;
	int ret;

	if (gnutls_certificate_allocate_credentials(&lg->cred) < 0)
		return -ENOMEM;
	if (lg->opt.cafile && gnutls_certificate_set_x509_trust_file(lg->cred, lg->opt.cafile,
								     GNUTLS_X509_FMT_PEM) <= 0) {
		fprintf(stderr, "sluice-loadgen: no CA certificate in %s\n", lg->opt.cafile);
		return -EINVAL;
	}
	if ((ret = gnutls_priority_init2(&lg->prio, lg->opt.priority, &err, 0)) < 0) {
		fprintf(stderr, "sluice-loadgen: bad --priority near '%s': %s\n", err ? err : "",
			gnutls_strerror(ret));
		return -EINVAL;
	}
	dprio = talloc_asprintf(lg, "%s" DTLS_PRIORITY_SUFFIX, lg->opt.priority);
	if (!dprio || gnutls_priority_init2(&lg->dtls_prio, dprio, &err, 0) < 0)
		return -EINVAL;
	return 0;
}

/* --- the run ------------------------------------------------------------------------- */

static void end_run(struct loadgen *lg)
{
	if (lg->stopping)
		return;
	lg->stopping = true;
	lg->st.held_at_end = lg->st.held;
	for (unsigned i = 0; i < lg->next; i++)
		session_logout(lg->sess[i]);
	ev_break(lg->loop, EVBREAK_ALL);
}

/* Starts the logins due by now at --rate. */
static void on_ramp(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct loadgen *lg = w->data;
	/* session k is due at k / rate seconds (the time is never negative: the cast is
	 * floor()) */
	unsigned long due = (unsigned long)((ev_now(loop) - lg->t0) * lg->opt.rate) + 1;

	(void)revents;
	while (lg->next < lg->opt.sessions && lg->next < due) {
		struct session *s = session_new(lg, lg->next);

		if (!s) {
			fprintf(stderr, "sluice-loadgen: out of memory at session %u\n", lg->next);
			end_run(lg);
			return;
		}
		lg->sess[lg->next++] = s;
		session_start(s);
	}
	if (lg->next == lg->opt.sessions)
		ev_timer_stop(loop, w);
}

/* Whether every session has started and ended for good: the run has nothing left. */
static bool all_done(const struct loadgen *lg)
{
	if (lg->next < lg->opt.sessions)
		return false;
	for (unsigned i = 0; i < lg->next; i++) {
		if (lg->sess[i]->state != SS_DONE)
			return false;
	}
	return true;
}

static void on_second(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct loadgen *lg = w->data;
	ev_tstamp now = ev_now(loop);

	(void)revents;
	if (lg->stopping)
		return; /* the loop runs out its last iteration after end_run() */
	if (lg->opt.progress && now - lg->last_progress >= lg->opt.progress - 0.01)
		report_progress(lg);
	if (all_done(lg)) {
		fprintf(stderr, "sluice-loadgen: every session has ended; stopping early\n");
		end_run(lg);
	}
}

static void on_end(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	end_run(w->data);
}

static void on_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)loop;
	(void)revents;
	fprintf(stderr, "sluice-loadgen: signal %d, logging out\n", w->signum);
	end_run(w->data);
}

static void run(struct loadgen *lg)
{
	struct ev_loop *loop = lg->loop;

	lg->t0 = lg->last_progress = ev_now(loop);
	ev_timer_init(&lg->ramp, on_ramp, 0., lg->opt.rate > 100 ? 0.01 : 1. / lg->opt.rate);
	ev_timer_init(&lg->progress, on_second, 1., 1.);
	ev_timer_init(&lg->end, on_end, lg->opt.duration, 0.);
	ev_signal_init(&lg->sigint, on_signal, SIGINT);
	ev_signal_init(&lg->sigterm, on_signal, SIGTERM);
	lg->ramp.data = lg->progress.data = lg->end.data = lg->sigint.data = lg->sigterm.data = lg;
	ev_timer_start(loop, &lg->ramp);
	ev_timer_start(loop, &lg->progress);
	ev_timer_start(loop, &lg->end);
	ev_signal_start(loop, &lg->sigint);
	ev_signal_start(loop, &lg->sigterm);
	ev_run(loop, 0);
	ev_now_update(loop);
}

int main(int argc, char **argv)
{
	struct loadgen *lg = talloc_zero(NULL, struct loadgen);
	int ret;

	if (!lg)
		return 1;
	parse_options(&lg->opt, argc, argv);
	if ((ret = raise_nofile(&lg->opt)) < 0) {
		if (ret != -EMFILE)
			fprintf(stderr, "sluice-loadgen: descriptor limit: %s\n", strerror(-ret));
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	srandom((unsigned)time(NULL));
	if (gnutls_global_init() < 0 || tls_setup(lg) < 0)
		return 1;
	lg->sess = talloc_zero_array(lg, struct session *, lg->opt.sessions);
	lg->st.max_latency = (size_t)lg->opt.sessions * (lg->opt.retry + 1);
	lg->st.latency_ms = talloc_array(lg, double, lg->st.max_latency);
	lg->loop = ev_default_loop(EVFLAG_AUTO);
	if (!lg->sess || !lg->st.latency_ms || !lg->loop) {
		fprintf(stderr, "sluice-loadgen: out of memory for %u sessions\n",
			lg->opt.sessions);
		return 1;
	}
	run(lg);
	report_final(lg, stdout);
	free(lg->opt.sources);
	gnutls_priority_deinit(lg->prio);
	gnutls_priority_deinit(lg->dtls_prio);
	gnutls_certificate_free_credentials(lg->cred);
	talloc_free(lg);
	gnutls_global_deinit();
	return 0;
}
