/* A compromised sluice-worker, for the tests that show main and sec trust no worker
 * (design.md: a worker talks to a remote attacker, so everything it sends may be a lie).
 * sluiced runs it in place of sluice-worker (worker-path, worker-template = false), with
 * the same fixed fds: 3 the client's socket, 4 main's channel, 5 sec's channel. It
 * speaks the IPC contract as a real worker would, but says what its arguments tell it:
 *
 *   login USER PASS       authenticate with sec (as the TLS handshake were done)
 *   hostname TEXT         X-CSTP-Hostname for the tunnel request (C escapes: \n \e \xHH)
 *   agent TEXT            the user agent for the tunnel request
 *   tunnel [ADDRESS]      ask main for a tunnel, IPv6 included (asking for ADDRESS);
 *                         prints "tunnel ok DEVICE IP IP6" or "tunnel fail CODE REASON"
 *   log TEXT              one log line through main
 *   logs N                N log lines through main
 *   spoof SRC DST PORT    write a UDP packet SRC -> DST:PORT into the TUN device;
 *                         "self" is the tunnel's address, "local" the server's end,
 *                         "self6" and "local6" the same for IPv6; an IPv6 SRC makes an
 *                         IPv6 packet
 *   end REASON            MW_SESSION_END with that reason number
 *   ignore-term           ignore SIGTERM (and never read MW_TERMINATE)
 *   sleep SECONDS
 *   crash                 die on SIGSEGV
 *
 * It prints what happened on stdout, one line per step, and exits 0 after the last. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/inet_csum.h"
#include "common/session.h"
#include "ipc/ipc.h"
#include "ipc/main_worker.pb-c.h"
#include "ipc/sec_worker.pb-c.h"

#define FD_MAIN 4
#define FD_SEC  5

static uint8_t cookie[256];
static size_t cookie_len;
static char hostname[256] = "evil", agent[256] = "evil-worker";
static int tun_fd = -1;

static void die(const char *what, int err)
{
	printf("error %s: %s\n", what, err < 0 ? strerror(-err) : ipc_last_error());
	fflush(stdout);
	exit(1);
}

/* C escapes, so that a test can pass control characters through argv. */
static void unescape(const char *in, char *out, size_t len)
{
	size_t n = 0;

	for (; *in && n + 1 < len; in++) {
		if (*in != '\\' || !in[1]) {
			out[n++] = *in;
			continue;
		}
		in++;
		if (*in == 'n')
			out[n++] = '\n';
		else if (*in == 'r')
			out[n++] = '\r';
		else if (*in == 'e')
			out[n++] = 0x1b;
		else if (*in == 'x' && in[1] && in[2]) {
			char hex[3] = {in[1], in[2], 0};

			out[n++] = (char)strtoul(hex, NULL, 16);
			in += 2;
		} else
			out[n++] = *in;
	}
	out[n] = '\0';
}

static void login(const char *user, const char *pass)
{
	SwHandshakeDone done = SW_HANDSHAKE_DONE__INIT;
	SwAuthReq req = SW_AUTH_REQ__INIT;
	SwAuthReply *rep = NULL;
	int ret;

	ret = ipc_send(FD_SEC, SW_TYPE__SW_HANDSHAKE_DONE, &done.base, NULL, 0);
	if (ret < 0)
		die("handshake-done", ret);
	req.username = (char *)user;
	req.password = (char *)pass;
	ret = ipc_send(FD_SEC, SW_TYPE__SW_AUTH_REQ, &req.base, NULL, 0);
	if (ret < 0)
		die("auth-req", ret);
	ret = ipc_recv_expect(FD_SEC, SW_TYPE__SW_AUTH_REPLY, &sw_auth_reply__descriptor, 4096,
			      NULL, (void **)&rep, NULL, 0, 30000);
	if (ret < 0)
		die("auth-reply", ret);
	if (rep->result != SW_AUTH_RESULT__SW_AUTH_OK || !rep->has_cookie ||
	    rep->cookie.len > sizeof(cookie)) {
		printf("login refused\n");
		talloc_free(rep);
		return;
	}
	memcpy(cookie, rep->cookie.data, rep->cookie.len);
	cookie_len = rep->cookie.len;
	printf("login ok\n");
	talloc_free(rep);
}

/* MW_TUNNEL_OK or MW_TUNNEL_FAIL, whichever main sends. */
static MwTunnelOk *tunnel_ok;
static MwTunnelFail *tunnel_fail;

static int on_ok(void *ctx, void *msg, int *fds)
{
	tunnel_ok = talloc_steal(NULL, msg);
	tun_fd = fds[0];
	return 0;
}

static int on_fail(void *ctx, void *msg, int *fds)
{
	tunnel_fail = talloc_steal(NULL, msg);
	return 0;
}

static const struct ipc_route answers[] = {
    {MW_TYPE__MW_TUNNEL_OK, "MW_TUNNEL_OK", &mw_tunnel_ok__descriptor, on_ok, 1, 1, 0},
    {MW_TYPE__MW_TUNNEL_FAIL, "MW_TUNNEL_FAIL", &mw_tunnel_fail__descriptor, on_fail, 0, 1, 0},
};

static void tunnel(const char *requested)
{
	MwTunnelReq req = MW_TUNNEL_REQ__INIT;
	struct ipc_channel ch;
	int ret;

	req.cookie.data = cookie;
	req.cookie.len = cookie_len ? cookie_len : 32;
	req.hostname = hostname;
	req.user_agent = agent;
	req.requested_ipv4 = (char *)requested;
	req.mtu = 1400;
	req.has_ipv6 = req.ipv6 = true;
	ret = ipc_send(FD_MAIN, MW_TYPE__MW_TUNNEL_REQ, &req.base, NULL, 0);
	if (ret < 0)
		die("tunnel-req", ret);
	ipc_channel_init(&ch, FD_MAIN, answers, 2, 8192, "main");
	for (int i = 0; i < 300 && !tunnel_ok && !tunnel_fail; i++) {
		ret = ipc_recv_dispatch(&ch, 1, NULL);
		if (ret == -EAGAIN)
			usleep(100 * 1000);
		else if (ret < 0 || ret == IPC_CLOSED)
			die("tunnel answer", ret == IPC_CLOSED ? -EPIPE : 0);
	}
	if (tunnel_ok)
		printf("tunnel ok %s %s %s\n", tunnel_ok->device, tunnel_ok->ipv4,
		       tunnel_ok->ipv6 ? tunnel_ok->ipv6 : "-");
	else if (tunnel_fail)
		printf("tunnel fail %u %s\n", tunnel_fail->http_code, tunnel_fail->reason);
	else
		printf("tunnel no answer\n");
}

static void send_log(const char *text)
{
	MwLog l = MW_LOG__INIT;

	l.priority = 6;
	l.text = (char *)text;
	ipc_send(FD_MAIN, MW_TYPE__MW_LOG, &l.base, NULL, 0);
}

/* The checksum as the header stores it (network order). */
static uint16_t csum(const void *data, size_t len)
{
	return htons(inet_csum(data, len));
}

/* An IPv6 UDP packet, its checksum over the pseudo-header. */
static void spoof6(const char *src, const char *dst, const char *port)
{
	uint8_t pkt[40 + 8 + 8] = {0x60}, pseudo[40 + 16] = {0};
	uint16_t sum;

	if (strcmp(src, "self6") == 0)
		src = tunnel_ok->ipv6;
	if (strcmp(dst, "local6") == 0)
		dst = tunnel_ok->ipv6_local;
	if (!src || !dst || inet_pton(AF_INET6, src, pkt + 8) != 1 ||
	    inet_pton(AF_INET6, dst, pkt + 24) != 1)
		die("spoof: bad address", -EINVAL);
	pkt[5] = 16; /* payload length */
	pkt[6] = IPPROTO_UDP;
	pkt[7] = 64;
	pkt[40] = 40000 >> 8;
	pkt[41] = 40000 & 0xff;
	pkt[42] = (uint8_t)(atoi(port) >> 8);
	pkt[43] = (uint8_t)atoi(port);
	pkt[45] = 16;
	memcpy(pkt + 48, "evil-pkt", 8);
	memcpy(pseudo, pkt + 8, 32);
	pseudo[35] = 16;
	pseudo[39] = IPPROTO_UDP;
	memcpy(pseudo + 40, pkt + 40, 16);
	sum = csum(pseudo, sizeof(pseudo));
	memcpy(pkt + 46, &sum, 2);
	if (write(tun_fd, pkt, sizeof(pkt)) != (ssize_t)sizeof(pkt))
		die("spoof: write", -errno);
	printf("spoofed %s -> [%s]:%s\n", tunnel_ok->ipv6 && strcmp(src, tunnel_ok->ipv6) == 0
					       ? "self6"
					       : src,
	       dst, port);
}

/* The client's packet as the worker would write it to the TUN device. */
static void spoof(const char *src, const char *dst, const char *port)
{
	uint8_t pkt[sizeof(struct iphdr) + sizeof(struct udphdr) + 8] = {0};
	struct iphdr *ip = (void *)pkt;
	struct udphdr *udp = (void *)(pkt + sizeof(*ip));

	if (tun_fd < 0)
		die("spoof: no TUN device", -EBADF);
	if (strchr(src, ':') || strcmp(src, "self6") == 0) {
		spoof6(src, dst, port);
		return;
	}
	ip->version = 4;
	ip->ihl = 5;
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	ip->tot_len = htons(sizeof(pkt));
	if (strcmp(src, "self") == 0)
		src = tunnel_ok->ipv4;
	if (strcmp(dst, "local") == 0)
		dst = tunnel_ok->ipv4_local;
	if (inet_pton(AF_INET, src, &ip->saddr) != 1 || inet_pton(AF_INET, dst, &ip->daddr) != 1)
		die("spoof: bad address", -EINVAL);
	ip->check = csum(ip, sizeof(*ip));
	udp->source = htons(40000);
	udp->dest = htons((uint16_t)atoi(port));
	udp->len = htons(sizeof(*udp) + 8);
	memcpy(pkt + sizeof(*ip) + sizeof(*udp), "evil-pkt", 8);
	if (write(tun_fd, pkt, sizeof(pkt)) != (ssize_t)sizeof(pkt))
		die("spoof: write", -errno);
	printf("spoofed %s -> %s:%s\n", ip->saddr == inet_addr(tunnel_ok->ipv4) ? "self" : src,
	       dst, port);
}

static void session_end(unsigned reason)
{
	MwSessionEnd e = MW_SESSION_END__INIT;
	int ret;

	e.reason = reason;
	ret = ipc_send(FD_MAIN, MW_TYPE__MW_SESSION_END, &e.base, NULL, 0);
	printf("end %u: %s\n", reason, ret < 0 ? strerror(-ret) : "sent");
}

int main(int argc, char **argv)
{
	MwInit *init = NULL;
	char text[1024];
	int ret, i = 1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	/* sluiced passes "--template" only to a template. */
	if (argc > 1 && strcmp(argv[1], "--template") == 0)
		return 2;
	ret = ipc_recv_expect(FD_MAIN, MW_TYPE__MW_INIT, &mw_init__descriptor, 65536, NULL,
			      (void **)&init, NULL, 0, 10000);
	if (ret < 0)
		die("init", ret);
	printf("init worker %u client %s\n", init->worker_id, init->client_ip);
	for (; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "login") == 0 && i + 2 < argc) {
			login(argv[i + 1], argv[i + 2]);
			i += 2;
		} else if (strcmp(a, "hostname") == 0 && i + 1 < argc) {
			unescape(argv[++i], hostname, sizeof(hostname));
		} else if (strcmp(a, "agent") == 0 && i + 1 < argc) {
			unescape(argv[++i], agent, sizeof(agent));
		} else if (strcmp(a, "tunnel") == 0) {
			tunnel(i + 1 < argc && strchr(argv[i + 1], '.') ? argv[++i] : NULL);
		} else if (strcmp(a, "log") == 0 && i + 1 < argc) {
			unescape(argv[++i], text, sizeof(text));
			send_log(text);
		} else if (strcmp(a, "logs") == 0 && i + 1 < argc) {
			int n = atoi(argv[++i]);

			for (int k = 0; k < n; k++) {
				snprintf(text, sizeof(text), "evil log line %d", k);
				send_log(text);
			}
			printf("sent %d log lines\n", n);
		} else if (strcmp(a, "spoof") == 0 && i + 3 < argc) {
			spoof(argv[i + 1], argv[i + 2], argv[i + 3]);
			i += 3;
		} else if (strcmp(a, "end") == 0 && i + 1 < argc) {
			session_end((unsigned)atoi(argv[++i]));
		} else if (strcmp(a, "ignore-term") == 0) {
			signal(SIGTERM, SIG_IGN);
		} else if (strcmp(a, "sleep") == 0 && i + 1 < argc) {
			usleep((useconds_t)(atof(argv[++i]) * 1e6));
		} else if (strcmp(a, "crash") == 0) {
			raise(SIGSEGV);
		} else {
			die(a, -EINVAL);
		}
	}
	printf("done\n");
	return 0;
}
