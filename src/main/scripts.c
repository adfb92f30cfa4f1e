#include "config.h"

#include "main/scripts.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/ports.h"
#include "main/events.h"
#include "main/main.h"

/* Scripts running at once; beyond this a script is not started (and a connect script
 * that cannot start refuses its client). */
#define SCRIPTS_MAX 256

static const char *const reason_name[] = {
    [SCRIPT_CONNECT] = "connect",
    [SCRIPT_DISCONNECT] = "disconnect",
    [SCRIPT_HOST_UPDATE] = "host-update",
    [SCRIPT_ROUTE_ADD] = "route-add",
    [SCRIPT_ROUTE_DEL] = "route-del",
};

/* The configuration key that names it, for the log. */
static const char *const key_name[] = {
    [SCRIPT_CONNECT] = "connect-script",
    [SCRIPT_DISCONNECT] = "disconnect-script",
    [SCRIPT_HOST_UPDATE] = "host-update-script",
    [SCRIPT_ROUTE_ADD] = "route-add-cmd",
    [SCRIPT_ROUTE_DEL] = "route-del-cmd",
};

struct script_run {
	struct script_run *next;
	struct main_ctx *m;
	pid_t pid;
	enum script_kind kind;
	uint32_t worker_id;
	script_done_fn done; /* connect-script: who waits for it */
	char *label; /* "connect-script of worker N (user)" */
	ev_timer timer;
	bool timed_out;
};

static void add_env(char ***env, size_t *n, const char *name, const char *value)
{
	*env = talloc_realloc(NULL, *env, char *, *n + 2);
	(*env)[(*n)++] = talloc_asprintf(*env, "%s=%s", name, value ? value : "");
	(*env)[*n] = NULL;
}

/* An IPv4 network as ocserv's route variables write it: "a.b.c.d/m.m.m.m". */
static char *netmask_form(TALLOC_CTX *ctx, const char *item)
{
	struct netaddr a;
	unsigned len;
	struct in_addr mask;
	char net[INET_ADDRSTRLEN], m[INET_ADDRSTRLEN];

	if (netaddr_prefix_parse(item, &a, &len) < 0 || a.family != AF_INET)
		return talloc_strdup(ctx, item);
	mask.s_addr = ipv4_prefix_mask(len);
	inet_ntop(AF_INET, a.a, net, sizeof(net));
	inet_ntop(AF_INET, &mask, m, sizeof(m));
	return talloc_asprintf(ctx, "%s/%s", net, m);
}

/* Space-separated list items; family 4 or 6 keeps only that family, 0 keeps all;
 * networks, IPv4 ones with their netmask as ocserv writes them. */
static char *join(TALLOC_CTX *ctx, char **items, size_t n, int family, bool networks)
{
	char *s = talloc_strdup(ctx, "");

	for (size_t i = 0; s && i < n; i++) {
		bool v6 = strchr(items[i], ':') != NULL;
		char *item;

		if ((family == 4 && v6) || (family == 6 && !v6))
			continue;
		item = networks ? netmask_form(s, items[i]) : items[i];
		s = talloc_asprintf_append(s, "%s%s", *s ? " " : "", item ? item : "");
	}
	return s;
}

static void add_list_env(char ***env, size_t *n, const char *name, char **items, size_t count,
			 bool networks)
{
	char var[32];

	add_env(env, n, name, join(*env, items, count, 0, networks));
	snprintf(var, sizeof(var), "%s4", name);
	add_env(env, n, var, join(*env, items, count, 4, networks));
	snprintf(var, sizeof(var), "%s6", name);
	add_env(env, n, var, join(*env, items, count, 6, networks));
}

/* restrict-user-to-ports as ocserv's scripts get it: OCSERV_ALLOW_PORTS or, for a
 * negation, OCSERV_DENY_PORTS, "tcp 443 udp 53 icmp all". */
static void add_ports_env(char ***env, size_t *n, const char *text)
{
	struct port_list l;
	char why[160], *v;

	if (!text || ports_parse(text, &l, why, sizeof(why)) < 0)
		return;
	v = talloc_strdup(*env, "");
	for (size_t i = 0; v && i < l.n; i++) {
		if (ports_proto_has_port(l.rules[i].proto))
			v = talloc_asprintf_append(v, "%s%s %u", i ? " " : "",
						   ports_proto_name(l.rules[i].proto), l.rules[i].port);
		else
			v = talloc_asprintf_append(v, "%s%s all", i ? " " : "",
						   ports_proto_name(l.rules[i].proto));
	}
	add_env(env, n, l.deny ? "OCSERV_DENY_PORTS" : "OCSERV_ALLOW_PORTS", v);
}

/* ocserv's variables (ocserv-reference.md §3), so that its scripts run unchanged. */
static char **build_env(struct main_ctx *m, enum script_kind kind, const struct main_worker *w,
			const struct main_event *ev)
{
	/* The session's own routes and DNS, with its user's and group's files applied. */
	const struct sluice_config *c = w->cfg ? w->cfg : m->cfg;
	struct main_addrs a;
	char **env = NULL;
	size_t n = 0;

	main_session_addrs(w, &a);
	add_env(&env, &n, "PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	add_env(&env, &n, "REASON", reason_name[kind]);
	add_env(&env, &n, "ID", talloc_asprintf(env, "%u", w->id));
	add_env(&env, &n, "VHOST", "default");
	add_env(&env, &n, "USERNAME", w->username);
	add_env(&env, &n, "GROUPNAME", w->groupname);
	add_env(&env, &n, "HOSTNAME", w->hostname);
	add_env(&env, &n, "REMOTE_HOSTNAME", w->hostname);
	add_env(&env, &n, "DEVICE", w->device);
	add_env(&env, &n, "USER_AGENT", w->user_agent);
	add_env(&env, &n, "DEVICE_TYPE", w->device_type);
	add_env(&env, &n, "DEVICE_PLATFORM", w->device_platform);
	add_env(&env, &n, "IP_REAL", w->client_ip);
	add_env(&env, &n, "IP_REAL_LOCAL", w->local_ip);
	if (a.ip4[0]) {
		add_env(&env, &n, "IP_LOCAL", a.local4);
		add_env(&env, &n, "IP_REMOTE", a.ip4);
	}
	if (a.ip6[0]) {
		add_env(&env, &n, "IPV6_LOCAL", a.local6);
		add_env(&env, &n, "IPV6_REMOTE", a.ip6);
		add_env(&env, &n, "IPV6_PREFIX", talloc_asprintf(env, "%u", a.prefix6_len));
	}
	add_list_env(&env, &n, "OCSERV_ROUTES", c->routes, c->n_routes, true);
	add_list_env(&env, &n, "OCSERV_NO_ROUTES", c->no_routes, c->n_no_routes, true);
	add_list_env(&env, &n, "OCSERV_DNS", c->dns, c->n_dns, false);
	if (c->restrict_to_routes || c->restrict_to_ports)
		add_env(&env, &n, "OCSERV_RESTRICT_TO_ROUTES", "1");
	add_ports_env(&env, &n, c->restrict_to_ports);
	if (kind == SCRIPT_DISCONNECT) {
		add_env(&env, &n, "STATS_BYTES_IN",
			talloc_asprintf(env, "%llu", (unsigned long long)ev->bytes_in));
		add_env(&env, &n, "STATS_BYTES_OUT",
			talloc_asprintf(env, "%llu", (unsigned long long)ev->bytes_out));
		add_env(&env, &n, "STATS_DURATION", talloc_asprintf(env, "%lld", ev->duration));
	}
	return env;
}

static void script_timeout(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct script_run *r = t->data;

	log_err("%s: still running after %u s; killing it", r->label, r->m->cfg->script_timeout);
	r->timed_out = true;
	/* Its own process group: a shell's children (sleep, curl) go too. */
	kill(-r->pid, SIGKILL);
}

static pid_t spawn(char *const argv[], char **env)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, dfl;
	pid_t pid = -1;
	int ret;

	sigemptyset(&none);
	sigemptyset(&dfl);
	/* main ignores SIGPIPE; a script gets the defaults and no blocked signal. */
	sigaddset(&dfl, SIGPIPE);
	sigaddset(&dfl, SIGHUP);
	sigaddset(&dfl, SIGTERM);
	sigaddset(&dfl, SIGINT);
	sigaddset(&dfl, SIGCHLD);
	posix_spawnattr_init(&at);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
					  POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &dfl);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	/* As in ocserv: a script's output goes to main's stderr. */
	posix_spawn_file_actions_adddup2(&fa, 2, 1);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	ret = posix_spawn(&pid, argv[0], &fa, &at, argv, env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	return ret == 0 ? pid : -ret;
}

/* Runs argv (argv[0] a path) for w: not waited for, killed after script-timeout. */
static int run_argv(struct main_ctx *m, enum script_kind kind, char *const argv[],
		    const struct main_worker *w, const struct main_event *ev, script_done_fn done)
{
	struct script_run *r;
	char **env;
	pid_t pid;

	if (m->n_scripts >= SCRIPTS_MAX) {
		log_err("%s for %s not run: %u scripts are running", key_name[kind], w->label,
			m->n_scripts);
		return -EAGAIN;
	}
	env = build_env(m, kind, w, ev);
	pid = spawn(argv, env);
	talloc_free(env);
	if (pid < 0) {
		log_err("%s %s: %s", key_name[kind], argv[0], strerror(-pid));
		return pid;
	}
	r = talloc_zero(m, struct script_run);
	r->m = m;
	r->pid = pid;
	r->kind = kind;
	r->worker_id = w->id;
	r->done = done;
	r->label = talloc_asprintf(r, "%s %d for %s", key_name[kind], (int)pid, w->label);
	ev_timer_init(&r->timer, script_timeout, m->cfg->script_timeout, 0);
	r->timer.data = r;
	ev_timer_start(m->loop, &r->timer);
	r->next = m->scripts;
	m->scripts = r;
	m->n_scripts++;
	log_debug("%s started", r->label);
	return 0;
}

static int run(struct main_ctx *m, enum script_kind kind, const char *path,
	       const struct main_worker *w, const struct main_event *ev, script_done_fn done)
{
	char *argv[] = {(char *)path, NULL};

	return run_argv(m, kind, argv, w, ev, done);
}

int scripts_command(struct main_ctx *m, enum script_kind kind, const char *command,
		    const struct main_worker *w)
{
	char *argv[] = {"/bin/sh", "-c", (char *)command, NULL};

	return run_argv(m, kind, argv, w, NULL, NULL);
}

int scripts_connect(struct main_ctx *m, const struct main_worker *w, script_done_fn done)
{
	if (!m->cfg->connect_script)
		return -ENOENT;
	return run(m, SCRIPT_CONNECT, m->cfg->connect_script, w, NULL, done);
}

void scripts_event(struct main_ctx *m, const struct main_event *ev)
{
	if (ev->kind == MEV_SESSION_START && m->cfg->host_update_script && ev->w->hostname &&
	    ev->w->hostname[0])
		run(m, SCRIPT_HOST_UPDATE, m->cfg->host_update_script, ev->w, ev, NULL);
	else if (ev->kind == MEV_SESSION_END && m->cfg->disconnect_script)
		run(m, SCRIPT_DISCONNECT, m->cfg->disconnect_script, ev->w, ev, NULL);
}

bool scripts_child_exited(struct main_ctx *m, pid_t pid, int status)
{
	struct script_run **pp, *r = NULL;
	bool ok;

	for (pp = &m->scripts; *pp; pp = &(*pp)->next) {
		if ((*pp)->pid == pid) {
			r = *pp;
			*pp = r->next;
			break;
		}
	}
	if (!r)
		return false;
	m->n_scripts--;
	ev_timer_stop(m->loop, &r->timer);
	ok = !r->timed_out && WIFEXITED(status) && WEXITSTATUS(status) == 0;
	if (r->timed_out)
		log_notice("%s: killed after the time limit", r->label);
	else if (!ok && WIFEXITED(status))
		log_notice("%s: exited with code %d", r->label, WEXITSTATUS(status));
	else if (!ok)
		log_notice("%s: killed by signal %d", r->label,
			   WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	else
		log_debug("%s: done", r->label);
	if (r->done)
		r->done(m, r->worker_id, ok);
	talloc_free(r);
	return true;
}
