/* The RADIUS Dynamic Authorization listener (radius-dae-listen): a helper the launcher
 * forks like the auth helpers (auth_helper.c). As root it binds the UDP socket and reads
 * the shared secret; then it runs as run-as-user under the RADIUS helpers' seccomp table.
 *
 * Each datagram: from a radius-dae-client address, else dropped; a duplicate of a
 * request answered in the last DAE_WINDOW seconds (same client, Identifier and
 * Request Authenticator) gets the same answer again and is not applied twice; else
 * dae_parse checks it (authenticator, Event-Timestamp window, attributes). A request
 * that passes goes to sec, which has main apply it, and the answer is an ACK, or a NAK
 * with Session-Context-Not-Found when no tunnel matched. */
#include "config.h"

#include "sec/auth_helper.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/netaddr.h"
#include "ipc/ipc.h"
#include "sec/dae_packet.h"

/* Answers remembered against retransmissions and replays within the window. */
#define DAE_CACHE 64
/* How long the helper waits for sec's word (main applies at once). */
#define DAE_SEC_TIMEOUT_MS 5000

struct dae_answer {
	struct sockaddr_storage from;
	uint8_t id, authenticator[16];
	time_t when;
	uint8_t reply[64];
	size_t len;
};

struct dae_state {
	const struct sluice_config *cfg;
	int sock, channel;
	char secret[256];
	struct dae_answer cache[DAE_CACHE];
	unsigned next;
};

static bool same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return x->sin_addr.s_addr == y->sin_addr.s_addr && x->sin_port == y->sin_port;
	}
	const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

	return memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0 && x->sin6_port == y->sin6_port;
}

static bool client_allowed(const struct sluice_config *c, const struct sockaddr_storage *from,
			   char *text, size_t len)
{
	struct netaddr a, allowed;
	unsigned port;

	netaddr_from_sockaddr(from, &a, &port);
	netaddr_text(&a, text, len);
	for (size_t i = 0; i < c->n_radius_dae_clients; i++)
		if (netaddr_parse(c->radius_dae_clients[i], &allowed) == 0 &&
		    allowed.family == a.family && memcmp(allowed.a, a.a, sizeof(a.a)) == 0)
			return true;
	return false;
}

static const struct dae_answer *cached(const struct dae_state *st,
				       const struct sockaddr_storage *from,
				       const uint8_t *pkt, size_t len, time_t now)
{
	if (len < 20)
		return NULL;
	for (unsigned i = 0; i < DAE_CACHE; i++) {
		const struct dae_answer *a = &st->cache[i];

		if (a->len && now - a->when <= DAE_WINDOW && a->id == pkt[1] &&
		    memcmp(a->authenticator, pkt + 4, 16) == 0 && same_addr(&a->from, from))
			return a;
	}
	return NULL;
}

/* sec (and main through it) applies req; how many tunnels it matched, or -1. */
static int apply(struct dae_state *st, const struct dae_request *req)
{
	DaeChange c = DAE_CHANGE__INIT;
	SaDae d = SA_DAE__INIT;
	SaDaeDone *done = NULL;
	TALLOC_CTX *tmp = talloc_new(NULL);
	int ret;

	c.disconnect = req->code == DAE_CODE_DISCONNECT_REQUEST;
	c.sid = req->sid[0] ? (char *)req->sid : NULL;
	c.username = req->user[0] ? (char *)req->user : NULL;
	c.vpn_ipv4 = req->framed_ip[0] ? (char *)req->framed_ip : NULL;
	c.has_session_timeout = req->has_session_timeout;
	c.session_timeout = req->session_timeout;
	/* kbit/s to bytes/s */
	c.has_rx_per_sec = req->has_rx_kbps;
	c.rx_per_sec = req->rx_kbps > UINT32_MAX / 125 ? UINT32_MAX : req->rx_kbps * 125;
	c.has_tx_per_sec = req->has_tx_kbps;
	c.tx_per_sec = req->tx_kbps > UINT32_MAX / 125 ? UINT32_MAX : req->tx_kbps * 125;
	d.change = &c;
	ret = tmp ? ipc_send(st->channel, SA_TYPE__SA_DAE, &d.base, NULL, 0) : -ENOMEM;
	if (ret == 0)
		ret = ipc_recv_expect(st->channel, SA_TYPE__SA_DAE_DONE, &sa_dae_done__descriptor,
				      AUTH_HELPER_MAX_PAYLOAD, tmp, (void **)&done, NULL, 0,
				      DAE_SEC_TIMEOUT_MS);
	ret = ret < 0 ? -1 : (int)(done->matched > 1000000 ? 1000000 : done->matched);
	talloc_free(tmp);
	return ret;
}

static void one_datagram(struct dae_state *st)
{
	uint8_t pkt[DAE_MAX_PACKET], reply[64];
	struct sockaddr_storage from;
	socklen_t flen = sizeof(from);
	struct dae_request req;
	char who[64], why[160];
	time_t now = time(NULL);
	const struct dae_answer *old;
	ssize_t n = recvfrom(st->sock, pkt, sizeof(pkt), 0, (struct sockaddr *)&from, &flen);
	size_t rlen;
	int ret;

	if (n < 0)
		return;
	if (!client_allowed(st->cfg, &from, who, sizeof(who))) {
		log_warn("RADIUS DAE: a datagram from %s, not a radius-dae-client: dropped", who);
		return;
	}
	old = cached(st, &from, pkt, (size_t)n, now);
	if (old) {
		log_info("RADIUS DAE: %s sent request %u again: the same answer, not applied twice",
			 who, pkt[1]);
		sendto(st->sock, old->reply, old->len, 0, (struct sockaddr *)&from, flen);
		return;
	}
	ret = dae_parse(pkt, (size_t)n, st->secret, now, &req, why, sizeof(why));
	if (ret < 0) {
		log_warn("RADIUS DAE: request from %s dropped: %s", who, why);
		return;
	}
	if (ret > 0) {
		log_warn("RADIUS DAE: request %u from %s refused (Error-Cause %d): %s", req.id, who,
			 ret, why);
	} else {
		int matched = apply(st, &req);

		if (matched < 0)
			_exit(1); /* sec is gone or out of step: a new helper starts clean */
		ret = matched ? 0 : DAE_ERR_SESSION_NOT_FOUND;
		log_notice("RADIUS DAE: %s from %s for %s%s%s: %d session%s",
			   req.code == DAE_CODE_DISCONNECT_REQUEST ? "Disconnect-Request" : "CoA-Request",
			   who, req.sid, req.user, req.framed_ip, matched, matched == 1 ? "" : "s");
	}
	rlen = dae_reply(&req, (unsigned)ret, st->secret, reply);
	sendto(st->sock, reply, rlen, 0, (struct sockaddr *)&from, flen);
	st->cache[st->next] = (struct dae_answer){.from = from, .id = req.id, .when = now,
						   .len = rlen};
	memcpy(st->cache[st->next].authenticator, req.authenticator, 16);
	memcpy(st->cache[st->next].reply, reply, rlen);
	st->next = (st->next + 1) % DAE_CACHE;
}

/* The socket and the secret, as root. */
static int dae_open(struct dae_state *st)
{
	const struct sluice_config *c = st->cfg;
	struct sockaddr_storage ss;
	socklen_t len;
	FILE *f;

	if (config_host_port(c->radius_dae_listen, &ss, &len) < 0) {
		log_err("radius-dae-listen %s: not an address and port", c->radius_dae_listen);
		return -EINVAL;
	}
	st->sock = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (st->sock < 0 || bind(st->sock, (struct sockaddr *)&ss, len) < 0) {
		log_err("radius-dae-listen %s: %s", c->radius_dae_listen, strerror(errno));
		return -errno;
	}
	f = fopen(c->radius_dae_secret_file, "re");
	if (!f || !fgets(st->secret, sizeof(st->secret), f) || !st->secret[0]) {
		log_err("radius-dae-secret-file %s: %s", c->radius_dae_secret_file,
			f ? "empty" : strerror(errno));
		if (f)
			fclose(f);
		return -EINVAL;
	}
	fclose(f);
	st->secret[strcspn(st->secret, "\r\n")] = '\0';
	return 0;
}

void dae_helper_run(const struct sluice_config *c, int channel,
		    int (*drop)(const struct sluice_config *c))
{
	static struct dae_state st;
	int ret;

	st.cfg = c;
	st.channel = channel;
	if (dae_open(&st) < 0)
		_exit(1);
	ret = drop(c);
	if (ret < 0) {
		log_err("RADIUS DAE helper: cannot drop privileges: %s", strerror(-ret));
		_exit(1);
	}
	log_info("RADIUS DAE: listening on %s", c->radius_dae_listen);
	for (;;) {
		struct pollfd p[2] = {{st.sock, POLLIN, 0}, {channel, POLLIN, 0}};

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			_exit(1);
		}
		/* sec sends nothing unasked: anything there is its end closing. */
		if (p[1].revents)
			_exit(0);
		if (p[0].revents & POLLIN)
			one_datagram(&st);
	}
}
