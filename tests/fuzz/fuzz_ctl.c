/* main's control request path: one datagram from a (credential-checked) sluicectl,
 * sluice-snmp or sluice-manage goes through the control channel's framing and that
 * peer's route table, and its handler runs against two live sessions; the reply is
 * streamed and drained. Then the peer closes and the connection must be freed. Aborts
 * if any fd is left open afterwards. */
#include "config.h"
#include "fuzz_input.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/config.h"
#include "main/ban.h"
#include "main/ctl.h"
#include "main/events.h"
#include "main/main.h"
#include "main/reload.h"
#include "main/sec_channel.h"
#include "main/systemd.h"
#include "main/workers.h"
#include "ipc/main_sec.pb-c.h"

static struct main_ctx *mc; /* talloc: main hangs its state under it */

/* The parts of main that ctl*.c call, reduced to what the request path can observe. */
static unsigned terminated;

void main_terminate_worker(struct main_worker *w, unsigned reason)
{
	terminated++;
}

bool main_worker_holds_tun(const struct main_worker *w)
{
	return w->handed_over && w->tun_fd >= 0;
}

void main_event(struct main_ctx *m, const struct main_event *ev)
{
}

struct in_addr lease_pool_server_addr(const struct lease_pool *p)
{
	struct in_addr a = {htonl(0xc6130001)};

	return a;
}

/* Alternately rejected and applied, so that both replies are exercised. */
int main_reload(struct main_ctx *m, char *err, size_t errlen)
{
	static unsigned n;

	snprintf(err, errlen, "keepalive: not a number");
	return n++ % 2 ? 0 : -EINVAL;
}

void systemd_reloading(struct main_ctx *m)
{
}

void systemd_ready(struct main_ctx *m)
{
}

/* Two scored addresses, one of them banned. */
void main_ban_list(struct main_ctx *m, bool banned_only,
		   void (*cb)(void *arg, const struct ban_info *b), void *arg)
{
	struct ban_info a = {"198.18.0.2", 25, 1000, 990, 1300}, b = {"2001:db8::1", 3, 1000};

	cb(arg, &a);
	if (!banned_only)
		cb(arg, &b);
}

int main_ban_unban(struct main_ctx *m, const char *ip)
{
	struct in6_addr a;

	if (inet_pton(AF_INET, ip, &a) != 1 && inet_pton(AF_INET6, ip, &a) != 1)
		return -EINVAL;
	return strcmp(ip, "198.18.0.2") == 0 ? 0 : -ENOENT;
}

/* sec's side of a session list, answered at once: two sessions per batch and a
 * second batch, so that batching, relaying and the end of the list all run. */
static uint32_t pending_req;

void sec_session_list(struct main_ctx *m, uint32_t request_id, const char *prefix,
		      const char *after)
{
	pending_req = after ? 0 : request_id;
}

static void answer_sessions(void)
{
	MsSessionEntry e = MS_SESSION_ENTRY__INIT;
	MsSessionListEnd end = MS_SESSION_LIST_END__INIT;
	uint32_t id = pending_req;

	if (!id)
		return;
	pending_req = 0;
	e.request_id = end.request_id = id;
	e.username = "alice";
	e.groupname = "";
	e.auth_ip = "198.18.0.2";
	e.sid = "0123456789ab";
	main_ctl_session_entry(mc, &e);
	e.sid = "123456789abc";
	e.has_expires = true;
	e.expires = 2000;
	main_ctl_session_entry(mc, &e);
	end.count = 2;
	end.more = true;
	main_ctl_session_list_end(mc, &end);
}

void log_printf(int priority, const char *func, const char *fmt, ...)
{
}

static struct main_worker workers[2];

static char sock[64]; /* the control socket's path */

/* The socket and its directory go when the fuzzer exits. */
static void remove_socket(void)
{
	char dir[sizeof(sock)];

	snprintf(dir, sizeof(dir), "%s", sock);
	unlink(sock);
	*strrchr(dir, '/') = '\0';
	rmdir(dir);
}

static void setup(void)
{
	static const char *const names[] = {"alice", "bob"};
	static char *routes[] = {"198.18.100.0/24"};
	static struct sluice_config session_cfg = {
	    .routes = routes, .n_routes = 1, .iroutes = routes, .n_iroutes = 1};

	mc = talloc_zero(NULL, struct main_ctx);
	mc->loop = ev_loop_new(EVFLAG_AUTO);
	for (int i = 0; i < 2; i++) {
		struct main_worker *w = &workers[i];

		w->cfg = &session_cfg;
		w->next = i ? NULL : &workers[1];
		w->id = 2 - i; /* newest first, as main keeps them */
		w->pid = 100 + i;
		w->state = MWS_TUNNEL;
		w->handed_over = true;
		w->tun_fd = 1000;
		w->username = (char *)names[i];
		w->groupname = "";
		strcpy(w->device, "vpns0");
		strcpy(w->client_ip, "198.18.0.2");
		strcpy(w->local_ip, "198.18.0.1");
		w->vpn_ip.s_addr = htonl(0xc6130002 + i);
	}
	mc->workers = &workers[0];
	mc->n_workers = 2;
	/* A real control socket, so that sec's answers find their connection. */
	mc->cfg = talloc_zero(NULL, struct sluice_config);
	snprintf(sock, sizeof(sock), "/tmp/sluice-fuzz-ctl.%d/ctl.sock", (int)getpid());
	mc->cfg->occtl_socket_file = sock;
	if (main_ctl_start(mc) < 0)
		abort();
	atexit(remove_socket);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	struct main_ctl_conn *c;
	uint8_t sink[8192];
	int sp[2], base;

	if (!ready) {
		setup();
		ready = true;
	}
	base = fuzz_count_fds();
	if (size > 8192 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sp) < 0)
		return 0;
	/* The first byte picks the peer: each has its own routes (sluice-manage's with
	 * CTL_ACTOR), the rest is the datagram. */
	if (size > 1)
		send(sp[1], data + 1, size - 1, 0);
	c = main_ctl_conn_new(mc, sp[0], 0,
			      size && (data[0] % 3) == 1   ? CTL_PEER_MANAGE
			      : size && (data[0] % 3) == 2 ? CTL_PEER_SNMP
							   : CTL_PEER_ADMIN);
	if (!c)
		abort();
	for (int i = 0; i < 8; i++) {
		if (main_ctl_conn_readable(c)) {
			c = NULL;
			break;
		}
		answer_sessions();
		ev_run(mc->loop, EVRUN_NOWAIT);
		while (recv(sp[1], sink, sizeof(sink), MSG_DONTWAIT) > 0)
			;
	}
	shutdown(sp[1], SHUT_RDWR);
	for (int i = 0; c && i < 8; i++)
		if (main_ctl_conn_readable(c))
			c = NULL;
	if (c)
		abort(); /* a closed peer must end the connection */
	close(sp[1]);
	if (fuzz_count_fds() != base)
		abort();
	return 0;
}
