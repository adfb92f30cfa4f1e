/* Prometheus metrics. Counters are kept here from main's events; gauges are read from
 * main's state when the page is asked for. Everything a client can influence that ends
 * up in a label (auth failure reasons come from sec, never from a client) is bounded. */
#include "config.h"

#include "main/metrics.h"

#include <errno.h>
#include <microhttpd.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "common/log.h"
#include "main/audit.h"
#include "main/events.h"
#include "main/listeners.h"
#include "main/main.h"
#include "main/preauth.h"

#define MAX_REASONS     16 /* distinct auth failure reasons; the rest count as "other" */
#define REASON_LEN      48
#define MAX_CONNECTIONS 16
#define CONN_TIMEOUT_S  10
#define CONN_MEMORY     (16 * 1024) /* request line and headers */

enum exit_cause { EXIT_CLEAN, EXIT_ERROR, EXIT_SANDBOX, EXIT_SIGNAL, N_EXIT_CAUSES };

static const char *const exit_cause_names[N_EXIT_CAUSES] = {"clean", "error", "sandbox", "signal"};

/* Upper bounds (seconds) of the session set-up histogram; +Inf is implied. */
static const double setup_bounds[] = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
#define N_SETUP_BOUNDS (sizeof(setup_bounds) / sizeof(setup_bounds[0]))

struct main_metrics {
	struct MHD_Daemon *daemon;
	ev_io io;
	ev_timer timer;
	uint64_t sessions_total;
	uint64_t auth_ok;
	uint64_t bans; /* addresses banned since start */
	struct {
		char reason[REASON_LEN];
		uint64_t n;
	} auth_fail[MAX_REASONS];
	unsigned n_reasons;
	uint64_t auth_fail_other;
	uint64_t ended_in, ended_out; /* bytes of sessions that have ended */
	uint64_t exits[N_EXIT_CAUSES];
	uint64_t setup_le[N_SETUP_BOUNDS + 1]; /* per bucket; cumulated when printed */
	double setup_sum;
};

static void count_auth_failure(struct main_metrics *mm, const char *reason)
{
	char r[REASON_LEN];

	snprintf(r, sizeof(r), "%s", reason && reason[0] ? reason : "unknown");
	for (unsigned i = 0; i < mm->n_reasons; i++) {
		if (strcmp(mm->auth_fail[i].reason, r) == 0) {
			mm->auth_fail[i].n++;
			return;
		}
	}
	if (mm->n_reasons == MAX_REASONS) {
		mm->auth_fail_other++;
		return;
	}
	memcpy(mm->auth_fail[mm->n_reasons].reason, r, sizeof(r));
	mm->auth_fail[mm->n_reasons++].n = 1;
}

static enum exit_cause exit_cause(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status) == 0 ? EXIT_CLEAN : EXIT_ERROR;
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS)
		return EXIT_SANDBOX;
	return EXIT_SIGNAL;
}

void metrics_on_event(struct main_ctx *m, const struct main_event *ev)
{
	struct main_metrics *mm = m->metrics;
	double setup;
	size_t b;

	if (!mm)
		return;
	switch (ev->kind) {
	case MEV_AUTH:
		if (ev->ok)
			mm->auth_ok++;
		else
			count_auth_failure(mm, ev->reason);
		break;
	case MEV_SESSION_START:
		mm->sessions_total++;
		setup = ev_now(m->loop) - ev->w->spawned;
		for (b = 0; b < N_SETUP_BOUNDS && setup > setup_bounds[b]; b++)
			;
		mm->setup_le[b]++;
		mm->setup_sum += setup;
		break;
	case MEV_SESSION_END:
		mm->ended_in += ev->bytes_in;
		mm->ended_out += ev->bytes_out;
		break;
	case MEV_WORKER_EXIT:
		mm->exits[exit_cause(ev->exit_status)]++;
		break;
	case MEV_BAN:
		mm->bans++;
		break;
	case MEV_UNBAN:
	case MEV_RELOAD:
	case MEV_CTL:
		break;
	}
}

/* A label value in the text format: backslash, quote and newline escaped. */
static char *label(TALLOC_CTX *ctx, const char *s)
{
	char *out = talloc_strdup(ctx, "");

	for (; out && *s; s++) {
		if (*s == '\\' || *s == '"')
			out = talloc_asprintf_append_buffer(out, "\\%c", *s);
		else if (*s == '\n')
			out = talloc_strdup_append_buffer(out, "\\n");
		else
			out = talloc_asprintf_append_buffer(out, "%c", *s);
	}
	return out;
}

/* Appends the HELP and TYPE lines of one metric. */
static char *head(char *p, const char *name, const char *type, const char *help)
{
	return p ? talloc_asprintf_append_buffer(p, "# HELP %s %s\n# TYPE %s %s\n", name, help,
						 name, type)
		 : NULL;
}

/* Appends a metric with one unlabelled sample. */
static char *metric(char *p, const char *name, const char *type, const char *help, uint64_t value)
{
	p = head(p, name, type, help);
	return p ? talloc_asprintf_append_buffer(p, "%s %llu\n", name, (unsigned long long)value)
		 : NULL;
}

static char *sample(char *p, const char *name, const char *lname, const char *lvalue,
		    uint64_t value)
{
	return p ? talloc_asprintf_append_buffer(p, "%s{%s=\"%s\"} %llu\n", name, lname, lvalue,
						 (unsigned long long)value)
		 : NULL;
}

static char *setup_histogram(char *p, const struct main_metrics *mm)
{
	const char *name = "sluice_session_setup_seconds";
	uint64_t cum = 0;
	char le[32];

	p = head(p, name, "histogram", "Time from accepting a connection to its tunnel being up.");
	for (size_t b = 0; b < N_SETUP_BOUNDS; b++) {
		cum += mm->setup_le[b];
		snprintf(le, sizeof(le), "%g", setup_bounds[b]);
		p = sample(p, "sluice_session_setup_seconds_bucket", "le", le, cum);
	}
	p = sample(p, "sluice_session_setup_seconds_bucket", "le", "+Inf",
		   cum + mm->setup_le[N_SETUP_BOUNDS]);
	return p ? talloc_asprintf_append_buffer(p,
						 "sluice_session_setup_seconds_sum %.6f\n"
						 "sluice_session_setup_seconds_count %llu\n",
						 mm->setup_sum,
						 (unsigned long long)mm->sessions_total)
		 : NULL;
}

static char *page(TALLOC_CTX *ctx, struct main_ctx *m)
{
	const struct main_metrics *mm = m->metrics;
	uint64_t live_in = 0, live_out = 0;
	unsigned dtls = 0, tls = 0, waiting = 0;
	const char *fail = "sluice_auth_failures_total";
	const char *exits = "sluice_worker_exits_total";
	const char *chan = "sluice_sessions_by_channel";
	const char *fam = "sluice_sessions_by_family";
	uint64_t v4 = 0, v6 = 0;
	const char *rot = "sluice_worker_template_rotations_total";
	char *p = talloc_strdup(ctx, "");

	for (struct main_worker *w = m->workers; w; w = w->next) {
		if (w->state & MWS_SETUP)
			waiting++;
		if (!w->tun_up)
			continue;
		live_in += w->bytes_in;
		live_out += w->bytes_out;
		if (w->dtls)
			dtls++;
		else
			tls++;
		v4 += w->pool != NULL;
		v6 += w->pool6 != NULL;
	}
	p = metric(p, "sluice_sessions_active", "gauge", "Tunnels up now.", m->n_sessions);
	p = metric(p, "sluice_sessions_total", "counter", "Tunnels set up since start.",
		   mm->sessions_total);
	p = head(p, chan, "gauge", "Tunnels up now by the channel carrying their data.");
	p = sample(p, chan, "channel", "tls", tls);
	p = sample(p, chan, "channel", "dtls", dtls);
	p = head(p, fam, "gauge",
		 "Tunnels up now with an address of that family (dual-stack ones count twice).");
	p = sample(p, fam, "family", "ipv4", v4);
	p = sample(p, fam, "family", "ipv6", v6);
	p = metric(p, "sluice_workers", "gauge", "Worker processes, authenticating or in a tunnel.",
		   m->n_workers);
	p = metric(p, "sluice_preauth_connections", "gauge",
		   "Connections that have not authenticated yet (max-preauth-clients).",
		   main_preauth_count(m));
	p = metric(p, "sluice_pending_cookie_checks", "gauge",
		   "Tunnel requests waiting for the sec module's cookie check.", waiting);
	p = metric(p, "sluice_secmod_queue_messages", "gauge",
		   "Messages from main that the sec module has not taken yet (it is busy).",
		   m->sec_q.count);
	p = metric(p, "sluice_secmod_queue_bytes", "gauge",
		   "Bytes of the messages in sluice_secmod_queue_messages.", m->sec_q.bytes);
	p = metric(p, "sluice_tunnel_received_bytes_total", "counter",
		   "Bytes from clients into the tunnels (ended sessions and live reports).",
		   mm->ended_in + live_in);
	p = metric(p, "sluice_tunnel_sent_bytes_total", "counter",
		   "Bytes from the tunnels to clients (ended sessions and live reports).",
		   mm->ended_out + live_out);
	p = metric(p, "sluice_auth_successes_total", "counter", "Successful password checks.",
		   mm->auth_ok);
	p = metric(p, "sluice_bans_total", "counter", "Client addresses banned since start.",
		   mm->bans);
	p = metric(p, "sluice_audit_dropped_total", "counter",
		   "Audit records missing from the audit-log file (queue full while the disk "
		   "stalled, or write errors); the journal has them.",
		   audit_dropped(m));
	p = metric(p, "sluice_fd_shortages_total", "counter",
		   "Times main ran out of file descriptors (or memory) and stopped "
		   "accepting connections for a while.",
		   main_fd_shortages(m));
	p = head(p, rot, "counter",
		 "Worker templates replaced by a freshly started one, by reason: "
		 "worker-template-max-forks reached, or a worker crashed before authentication.");
	p = sample(p, rot, "reason", "forks", m->template_rotations[MAIN_ROTATION_FORKS]);
	p = sample(p, rot, "reason", "crash", m->template_rotations[MAIN_ROTATION_CRASH]);
	p = head(p, fail, "counter", "Failed password checks by reason.");
	for (unsigned i = 0; p && i < mm->n_reasons; i++)
		p = sample(p, fail, "reason", label(p, mm->auth_fail[i].reason),
			   mm->auth_fail[i].n);
	if (mm->auth_fail_other)
		p = sample(p, fail, "reason", "other", mm->auth_fail_other);
	p = head(p, exits, "counter", "Worker processes ended, by cause.");
	for (unsigned i = 0; i < N_EXIT_CAUSES; i++)
		p = sample(p, exits, "cause", exit_cause_names[i], mm->exits[i]);
	return setup_histogram(p, mm);
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned code, const char *text,
			     const char *type)
{
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

/* Only GET /metrics, without a body: anything else is answered and forgotten. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *data,
				  size_t *data_len, void **con_cls)
{
	struct main_ctx *m = cls;
	enum MHD_Result ret;
	char *text;

	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0)
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET\n", "text/plain");
	if (strcmp(url, "/metrics") != 0)
		return reply(c, MHD_HTTP_NOT_FOUND, "see /metrics\n", "text/plain");
	if (*data_len)
		return MHD_NO;
	text = page(m, m);
	if (!text)
		return MHD_NO;
	ret = reply(c, MHD_HTTP_OK, text, "text/plain; version=0.0.4; charset=utf-8");
	talloc_free(text);
	return ret;
}

/* MHD tells how long until its next timeout (idle connections); the timer wakes it. */
static void schedule(struct main_ctx *m)
{
	struct main_metrics *mm = m->metrics;
	MHD_UNSIGNED_LONG_LONG ms;

	ev_timer_stop(m->loop, &mm->timer);
	if (MHD_get_timeout(mm->daemon, &ms) == MHD_YES) {
		ev_timer_set(&mm->timer, ms / 1000.0, 0);
		ev_timer_start(m->loop, &mm->timer);
	}
}

static void on_mhd_io(struct ev_loop *loop, ev_io *io, int revents)
{
	struct main_ctx *m = io->data;

	MHD_run(m->metrics->daemon);
	schedule(m);
}

static void on_mhd_timer(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct main_ctx *m = t->data;

	MHD_run(m->metrics->daemon);
	schedule(m);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[256];

	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	log_warn("metrics: %s", line);
}

int metrics_start(struct main_ctx *m)
{
	struct sockaddr_storage ss;
	socklen_t len;
	const union MHD_DaemonInfo *info;
	struct main_metrics *mm;
	unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;

	if (config_host_port(m->cfg->metrics_listen, &ss, &len) < 0)
		return -EINVAL; /* the configuration checked it already */
	mm = talloc_zero(m, struct main_metrics);
	if (!mm)
		return -ENOMEM;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	mm->daemon = MHD_start_daemon(flags, ntohs(((struct sockaddr_in *)&ss)->sin_port), NULL,
				      NULL, on_request, m, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log,
				      NULL, MHD_OPTION_SOCK_ADDR, &ss, MHD_OPTION_CONNECTION_LIMIT,
				      (unsigned)MAX_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT,
				      (unsigned)CONN_TIMEOUT_S, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
				      (size_t)CONN_MEMORY, MHD_OPTION_END);
	if (!mm->daemon) {
		log_err("metrics-listen %s: cannot listen", m->cfg->metrics_listen);
		talloc_free(mm);
		return -EADDRNOTAVAIL;
	}
	info = MHD_get_daemon_info(mm->daemon, MHD_DAEMON_INFO_EPOLL_FD);
	m->metrics = mm;
	ev_io_init(&mm->io, on_mhd_io, info->epoll_fd, EV_READ);
	mm->io.data = m;
	ev_io_start(m->loop, &mm->io);
	ev_init(&mm->timer, on_mhd_timer);
	mm->timer.data = m;
	log_notice("metrics on http://%s/metrics", m->cfg->metrics_listen);
	return 0;
}

void metrics_stop(struct main_ctx *m)
{
	if (!m->metrics)
		return;
	ev_io_stop(m->loop, &m->metrics->io);
	ev_timer_stop(m->loop, &m->metrics->timer);
	MHD_stop_daemon(m->metrics->daemon);
	TALLOC_FREE(m->metrics);
}
