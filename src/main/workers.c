/* A worker process as main sees it: spawn, channel, exit, terminate, kill (workers.h).
 * Its session, from the tunnel request on, is session_setup.c's. */
#include "config.h"

#include "main/workers.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/crypto.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/netaddr.h"
#include "common/session.h"
#include "common/text.h"
#include "ipc/main_worker.pb-c.h"
#include "ipc/main_worker.routes.h"
#include "main/events.h"
#include "main/groups.h"
#include "main/main.h"
#include "main/preauth.h"
#include "main/profile.h"
#include "main/sec_channel.h"
#include "main/session_setup.h"
#include "main/sessions.h"

#define MAIN_WORKER_MAX_PAYLOAD 4096
#define WORKER_LOG_LINES        50
#define WORKER_LOG_WINDOW       10 /* seconds */

static int main_on_log(void *ctx, void *msg, int *fds);

static const struct ipc_route main_from_worker[] = {
    IPC_ROUTE_MW_LOG(main_on_log),
    IPC_ROUTE_MW_TUNNEL_REQ(session_on_tunnel_req),
    IPC_ROUTE_MW_STATS(session_on_stats),
    IPC_ROUTE_MW_SESSION_END(session_on_session_end),
};

void main_worker_set_label(struct main_worker *w)
{
	char client[NETADDR_PORT_STRLEN];

	/* The user name is cut, the client's address and port never are. */
	snprintf(w->label, sizeof(w->label), "worker %d (%.*s%s%s)", (int)w->pid,
		 MAIN_LABEL_USER_MAX, w->username ? w->username : "", w->username ? "@" : "",
		 netaddr_port_text(w->client_ip, w->client_port, client, sizeof(client)));
}

/* The bit of a signal in main_worker.signals_sent; main sends none above 31. */
static uint32_t signal_bit(int sig)
{
	return sig > 0 && sig < 32 ? 1u << sig : 0;
}

void main_worker_signal(struct main_worker *w, int sig)
{
	w->signals_sent |= signal_bit(sig);
	if (w->pid > 0)
		kill(w->pid, sig);
}

void main_worker_kill(struct main_worker *w, const char *why)
{
	log_warn("%s: %s; killing it", w->label, why);
	ev_io_stop(w->m->loop, &w->io);
	main_worker_signal(w, SIGKILL);
}

static void worker_readable(struct ev_loop *loop, ev_io *io, int revents)
{
	struct main_worker *w = io->data;

	/* Bounded: one worker cannot keep main busy. */
	for (int i = 0; i < 16; i++) {
		int ret = ipc_recv_dispatch(&w->ch, w->state, w);

		if (ret == -EAGAIN)
			return;
		if (ret == IPC_CLOSED) {
			ev_io_stop(loop, io);
			return;
		}
		if (ret < 0) {
			main_worker_kill(w, ipc_last_error());
			return;
		}
	}
}

static void addr_to_text(const struct sockaddr_storage *ss, char *ip, size_t iplen, unsigned *port)
{
	struct netaddr a;

	netaddr_from_sockaddr(ss, &a, port);
	netaddr_text(&a, ip, iplen);
}

/* The form's choices, under ctx: default-select-group's, then select-group's, or the
 * groups auth knows (auto-select-group). */
static MwGroupOption **group_options(TALLOC_CTX *ctx, const struct main_ctx *m, size_t *n)
{
	const struct sluice_config *c = m->cfg;
	size_t extra = c->default_select_group ? 1 : 0;
	char **names = m->auto_groups ? m->auto_groups->names : c->select_groups;
	size_t n_names = m->auto_groups ? m->auto_groups->n : c->n_select_groups;
	MwGroupOption **opts = talloc_array(ctx, MwGroupOption *, n_names + extra);

	*n = 0;
	for (size_t i = 0; opts && i < n_names + extra; i++) {
		MwGroupOption *o = talloc(opts, MwGroupOption);
		const char *v = i < extra ? c->default_select_group : names[i - extra];
		const char *open = strchr(v, '[');

		if (!o)
			return NULL;
		mw_group_option__init(o);
		/* The "own group" choice sends its label, which sec knows to mean that. */
		o->value = open ? talloc_strndup(o, v, (size_t)(open - v)) : (char *)v;
		o->label = open ? talloc_strndup(o, open + 1, strlen(open + 1) - 1) : (char *)v;
		opts[(*n)++] = o;
	}
	return opts;
}

static int send_init(struct main_ctx *m, struct main_worker *w)
{
	struct sluice_config *c = m->cfg;
	MwInit in = MW_INIT__INIT;
	const char *compression[CONFIG_COMPRESSION_METHODS];
	MwProfile profile = MW_PROFILE__INIT;
	TALLOC_CTX *tmp = talloc_new(NULL);
	int ret;

	in.worker_id = w->id;
	w->cert_gen = m->cert_gen;
	in.cert_pem.data = (uint8_t *)m->cert_pem;
	in.cert_pem.len = m->cert_pem_len;
	in.tls_priorities = c->tls_priorities;
	in.uid = c->uid;
	in.gid = c->gid;
	in.auth_timeout = c->auth_timeout;
	in.has_tls_handshake_timeout = true;
	in.tls_handshake_timeout = c->tls_handshake_timeout;
	in.banner = c->banner;
	in.pre_login_banner = c->pre_login_banner;
	in.n_http_headers = c->n_http_headers;
	in.http_headers = c->http_headers;
	in.client_ip = w->client_ip;
	in.client_port = w->client_port;
	in.local_ip = w->local_ip;
	in.local_port = w->local_port;
	in.log_level = (uint32_t)c->log_level;
	in.cookie_timeout = c->cookie_timeout;
	in.default_domain = c->default_domain;
	in.udp_port = m->udp_fd >= 0 ? c->udp_port : 0;
	in.dtls_psk = c->dtls_psk;
	in.dtls_legacy = c->dtls_legacy;
	in.switch_to_tcp_timeout = c->switch_to_tcp_timeout;
	in.n_compression = config_compression_order(c, compression);
	in.compression = (char **)compression;
	in.has_no_compress_limit = in.n_compression > 0;
	in.no_compress_limit = c->no_compress_limit;
		in.groups = group_options(tmp, m, &in.n_groups);
	if (m->profile) {
		profile.uri = m->profile->uri;
		profile.sha1 = m->profile->sha1;
		profile.data.data = m->profile->data;
		profile.data.len = m->profile->len;
		in.user_profile = &profile;
	}
	if (m->client_ca_pem) {
		in.has_client_ca_pem = true;
		in.client_ca_pem.data = (uint8_t *)m->client_ca_pem;
		in.client_ca_pem.len = m->client_ca_pem_len;
	}
	if (m->ocsp_der) {
		in.has_ocsp_der = true;
		in.ocsp_der.data = m->ocsp_der;
		in.ocsp_der.len = m->ocsp_der_len;
	}
	if (c->camouflage) {
		in.camouflage_secret = c->camouflage_secret;
		in.camouflage_realm = c->camouflage_realm;
	}
	in.has_cert_login = in.has_password_login = in.has_cert_required = true;
	in.cert_login = c->auth_required == CONFIG_AUTH_CERT ||
			(c->auth_alternatives & CONFIG_AUTH_CERT);
	in.password_login = (c->auth_required & CONFIG_AUTH_PASSWORD) ||
			    (c->auth_alternatives & CONFIG_AUTH_PASSWORD);
	in.cert_required = (c->auth_required & CONFIG_AUTH_CERT) &&
			   !(c->auth_alternatives & CONFIG_AUTH_PASSWORD);
	ret = in.groups ? ipc_send(w->ch.fd, MW_TYPE__MW_INIT, &in.base, NULL, 0) : -ENOMEM;
	talloc_free(tmp);
	return ret;
}

/* The worker runs: sec gets its end of the worker's channel. */
int main_worker_started(struct main_ctx *m, struct main_worker *w, pid_t pid)
{
	int sec_end = w->sec_end;

	if (main_workers_set_pid(m, w, pid) < 0) {
		/* Its exit could not be matched to it: it must not run. */
		log_err("worker %d: out of memory for main's index; killing it", (int)pid);
		kill(pid, SIGKILL);
		return -ENOMEM;
	}
	main_worker_set_label(w);
	w->sec_end = -1;
	/* Killed while the template had not named it yet. */
	if (w->signals_sent & signal_bit(SIGKILL)) {
		close(sec_end);
		kill(pid, SIGKILL);
		return 0;
	}
	if (sec_worker_new(w, sec_end) < 0) {
		main_worker_kill(w, "cannot announce it to sec");
		return 0;
	}
	log_debug("%s started", w->label);
	return 0;
}

/* A worker told to end that is still there: it goes now. */
static void terminate_grace_over(struct ev_loop *loop, ev_timer *t, int revents)
{
	main_worker_kill(t->data, "did not end in time after it was told to");
}

struct main_worker *main_worker_new(struct main_ctx *m, int main_end, int sec_end,
				    const struct sockaddr_storage *peer,
				    const struct sockaddr_storage *local)
{
	struct main_worker *w = talloc_zero(m, struct main_worker);

	if (!w)
		return NULL;
	w->m = m;
	/* Ids wrap after 2^32 workers; one a live worker still has is skipped. */
	do
		w->id = ++m->next_id;
	while (!w->id || main_find_worker(m, w->id, 0));
	w->tun_fd = -1;
	w->ch.fd = main_end;
	w->sec_end = sec_end;
	w->state = MWS_AUTH; /* before main_workers_add, which counts it */
	w->spawned = ev_now(m->loop);
	session_init(w);
	ev_init(&w->kill_timer, terminate_grace_over);
	w->kill_timer.data = w;
	addr_to_text(peer, w->client_ip, sizeof(w->client_ip), &w->client_port);
	addr_to_text(local, w->local_ip, sizeof(w->local_ip), &w->local_port);
	return w;
}

int main_worker_attach(struct main_ctx *m, struct main_worker *w)
{
	int ret = main_workers_add(m, w);

	if (ret < 0)
		return ret;
	main_worker_set_label(w);
	fcntl(w->ch.fd, F_SETFL, O_NONBLOCK);
	ipc_channel_init(&w->ch, w->ch.fd, main_from_worker,
			 sizeof(main_from_worker) / sizeof(main_from_worker[0]),
			 MAIN_WORKER_MAX_PAYLOAD, w->label);
	ev_io_init(&w->io, worker_readable, w->ch.fd, EV_READ);
	w->io.data = w;
	ev_io_start(m->loop, &w->io);
	return 0;
}

int main_spawn_worker(struct main_ctx *m, int client_fd, const struct sockaddr_storage *peer,
		      const struct sockaddr_storage *local)
{
	struct main_worker *w;
	int mw[2], sw[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, mw) < 0)
		return -errno;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sw) < 0) {
		close(mw[0]);
		close(mw[1]);
		return -errno;
	}
	w = main_worker_new(m, mw[0], sw[0], peer, local);
	/* From the template when there is one (its answer brings the pid), else exec'd. */
	pid = !w ? -1
	      : main_template_spawn(m, w, client_fd, mw[1], sw[1]) == 0
		  ? 0
		  : main_exec_worker(m, client_fd, mw[1], sw[1]);
	close(mw[1]);
	close(sw[1]);
	/* Registered only after the spawn: when the template fails this request, main frees
	 * the workers it had not named yet, and this one, exec'd instead, is not one. */
	if (pid < 0 || main_worker_attach(m, w) < 0) {
		/* Out of memory after a template request: its answer names no worker, and
		 * main stops using the template. */
		if (pid > 0)
			kill(pid, SIGKILL);
		close(mw[0]);
		close(sw[0]);
		talloc_free(w);
		return !w ? -ENOMEM : pid < 0 ? -ECHILD : -ENOMEM;
	}
	if (pid > 0 && main_worker_started(m, w, pid) < 0) {
		main_worker_free(m, w);
		return -ENOMEM;
	}
	main_preauth_add(w);
	if (send_init(m, w) < 0)
		main_worker_kill(w, "cannot send the start-up message");
	return 0;
}

/* A worker logs through main, so its lines carry its identity; what it says is its
 * client's choice as much as its own: bounded, without control characters (no forged
 * lines, no terminal escapes), and at most WORKER_LOG_LINES per WORKER_LOG_WINDOW. */
static int main_on_log(void *ctx, void *msg, int *fds)
{
	struct main_worker *w = ctx;
	MwLog *l = msg;
	char line[1200];
	int prio = l->priority <= LOG_DEBUG ? (int)l->priority : LOG_DEBUG;
	ev_tstamp now = ev_now(w->m->loop);

	if (now - w->log_window >= WORKER_LOG_WINDOW) {
		if (w->log_dropped)
			log_warn("%s: %u log lines dropped (more than %u in %d s)", w->label,
				 w->log_dropped, WORKER_LOG_LINES, WORKER_LOG_WINDOW);
		w->log_window = now;
		w->log_lines = w->log_dropped = 0;
	}
	if (++w->log_lines > WORKER_LOG_LINES) {
		if (w->log_dropped++ == 0)
			log_warn("%s: more than %u log lines in %d s; dropping its lines for now",
				 w->label, WORKER_LOG_LINES, WORKER_LOG_WINDOW);
		return 0;
	}
	/* A worker may not log as an emergency. */
	if (prio < LOG_ERR)
		prio = LOG_ERR;
	snprintf(line, sizeof(line), "%s: %.1000s", w->label, l->text);
	text_make_utf8(line);
	log_raw(prio, line);
	return 0;
}

static void describe_exit(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exited with code %d (%s)", WEXITSTATUS(status),
			 worker_exit_str(WEXITSTATUS(status)));
	else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS)
		snprintf(buf, len, "killed by SIGSYS: sandbox violation");
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	else
		snprintf(buf, len, "ended with status %#x", status);
}

void main_worker_free(struct main_ctx *m, struct main_worker *w)
{
	main_preauth_done(w);
	main_workers_remove(m, w);
	ev_io_stop(m->loop, &w->io);
	ev_timer_stop(m->loop, &w->kill_timer);
	close(w->ch.fd);
	if (w->sec_end >= 0)
		close(w->sec_end);
	session_worker_freed(w);
	talloc_free(w);
}

/* A signal main did not send ends a process only when it crashed (SIGSEGV, SIGBUS,
 * SIGILL, SIGFPE, SIGABRT from a failed check, SIGSYS from the sandbox) or when
 * someone else killed it. Before authentication the client is a stranger whose bytes
 * made it so: what a layout probe looks like. */
static bool crashed_before_auth(const struct main_worker *w, int status)
{
	return WIFSIGNALED(status) && !(w->signals_sent & signal_bit(WTERMSIG(status))) &&
	       !w->authenticated;
}

bool main_worker_exited(struct main_ctx *m, pid_t pid, int status)
{
	struct main_worker *w = pid > 0 ? main_find_worker(m, 0, pid) : NULL;
	bool crash;
	char how[96];

	if (!w)
		return false;
	describe_exit(status, how, sizeof(how));
	crash = crashed_before_auth(w, status);
	{
		struct main_event ev = {.kind = MEV_WORKER_EXIT,
					.w = w,
					.ok = WIFEXITED(status) && WEXITSTATUS(status) == 0,
					.detail = how,
					.exit_status = status,
					.crash_before_auth = crash};

		main_event(m, &ev);
	}
	if (crash)
		main_template_worker_crashed(m, w, how);
	session_worker_exited(w, status);
	main_worker_free(m, w);
	return true;
}

void main_terminate_worker(struct main_worker *w, unsigned reason)
{
	MwTerminate t = MW_TERMINATE__INIT;

	t.reason = reason;
	if (!w->end_reason)
		w->end_reason = reason;
	/* From now on no tunnel request may reopen the session (sessions.h). */
	if (w->sid && session_end_invalidates(reason))
		main_session_end(w->m, w->sid, reason);
	if (!ev_is_active(&w->kill_timer)) {
		ev_timer_set(&w->kill_timer, WORKER_TERMINATE_GRACE, 0.);
		ev_timer_start(w->m->loop, &w->kill_timer);
	}
	if (w->state == MWS_TUNNEL &&
	    ipc_send(w->ch.fd, MW_TYPE__MW_TERMINATE, &t.base, NULL, 0) == 0)
		return;
	main_worker_signal(w, SIGTERM);
}

bool main_worker_holds_tun(const struct main_worker *w)
{
	return w->handed_over && w->tun_up;
}

void main_terminate_all(struct main_ctx *m)
{
	for (struct main_worker *w = m->workers; w; w = w->next)
		main_terminate_worker(w, END_SERVER_TERMINATE);
}

void main_kill_all(struct main_ctx *m)
{
	for (struct main_worker *w = m->workers; w; w = w->next)
		main_worker_signal(w, SIGKILL);
}
