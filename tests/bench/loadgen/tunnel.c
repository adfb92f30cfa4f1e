/* An established tunnel: CSTP frames (protocol.md §4), the client's keepalive and DPD
 * timers (§6.1), the ping a share of the sessions sends, and the logout (§8). */
#include "config.h"
#include "session.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/inet_csum.h"

enum {
	PKT_DATA = 0,
	PKT_DPD_REQ = 3,
	PKT_DPD_RESP = 4,
	PKT_DISCONNECT = 5,
	PKT_KEEPALIVE = 7,
	PKT_COMPRESSED = 8,
	PKT_TERMINATE = 9
};

#define CSTP_HDR     8
#define PING_PAYLOAD 16
#define PING_LEN     (20 + 8 + PING_PAYLOAD)
#define DISCONNECT_REASON                                                                          \
	"\xb0"                                                                                     \
	"loadgen run over"

static unsigned number(const char *v)
{
	unsigned long n = strtoul(v, NULL, 10);

	return n > 86400 ? 86400 : (unsigned)n;
}

static int hex_decode(const char *hex, uint8_t *out, size_t max, size_t *len)
{
	size_t n = strlen(hex);

	if (n == 0 || n % 2 || n / 2 > max)
		return -EPROTO;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned b;

		if (sscanf(hex + 2 * i, "%2x", &b) != 1)
			return -EPROTO;
		out[i] = (uint8_t)b;
	}
	*len = n / 2;
	return 0;
}

/* The CONNECT answer's headers that this client uses; names as openconnect matches
 * them, case-sensitively. */
int tunnel_parse_header(struct session *s, const char *name, const char *value)
{
	if (strcmp(name, "X-CSTP-Address") == 0)
		return inet_pton(AF_INET, value, &s->addr) == 1 || strchr(value, ':') ? 0 : -EPROTO;
	if (strcmp(name, "X-CSTP-Keepalive") == 0)
		s->keepalive = number(value);
	else if (strcmp(name, "X-CSTP-DPD") == 0)
		s->dpd = number(value);
	else if (strcmp(name, "X-CSTP-Base-MTU") == 0)
		s->base_mtu = number(value);
	else if (strcmp(name, "X-CSTP-Content-Encoding") == 0 ||
		 strcmp(name, "X-DTLS-Content-Encoding") == 0)
		return -EPROTO; /* none was offered */
	else if (strcmp(name, "X-DTLS-Port") == 0)
		s->dtls_port = number(value);
	else if (strcmp(name, "X-DTLS-Keepalive") == 0)
		s->dtls_keepalive = number(value);
	else if (strcmp(name, "X-DTLS-DPD") == 0)
		s->dtls_dpd = number(value);
	else if (strcmp(name, "X-DTLS-CipherSuite") == 0)
		s->dtls_psk = strcmp(value, "PSK-NEGOTIATE") == 0;
	else if (strcmp(name, "X-DTLS-App-ID") == 0)
		return hex_decode(value, s->app_id, sizeof(s->app_id), &s->app_id_len);
	return 0;
}

static int cstp_send(struct session *s, uint8_t type, const void *payload, size_t len)
{
	uint8_t f[CSTP_HDR + 1500];

	if (len > sizeof(f) - CSTP_HDR)
		return -EMSGSIZE;
	memcpy(f, "STF\x01", 4);
	f[4] = (uint8_t)(len >> 8);
	f[5] = (uint8_t)len;
	f[6] = type;
	f[7] = 0;
	if (len) /* control frames may carry nothing, and payload NULL */
		memcpy(f + CSTP_HDR, payload, len);
	return session_tls_send(s, f, CSTP_HDR + len);
}

void tunnel_begin(struct session *s)
{
	struct loadgen *lg = s->lg;
	ev_tstamp now = ev_now(lg->loop);

	s->state = SS_TUNNEL;
	stats_latency(lg, (ev_time() - s->t_start) * 1000.);
	lg->st.ramp_s = ev_time() - lg->t0;
	lg->st.established++;
	if (++lg->st.held > lg->st.peak_held)
		lg->st.peak_held = lg->st.held;
	s->last_rx = s->last_tx = now;
	s->dpd_sent = 0;
	/* the first ping at a random point of the interval, so pings do not come in waves */
	s->next_ping = now + 0.5 + (double)(random() % 1000) / 1000. * lg->opt.ping_interval;
	s->ping_seq = 0;
	if (lg->opt.dtls && s->dtls_psk && s->dtls_port && s->app_id_len && dtls_start(s) < 0)
		lg->st.dtls_failed++;
	session_rearm(s);
}


static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* An IPv4 ICMP echo request from the tunnel address to the ping target. */
static void build_ping(const struct session *s, uint8_t pkt[PING_LEN])
{
	uint8_t *icmp = pkt + 20;

	memset(pkt, 0, PING_LEN);
	pkt[0] = 0x45;
	put16(pkt + 2, PING_LEN);
	put16(pkt + 4, s->ping_seq);
	pkt[6] = 0x40; /* DF */
	pkt[8] = 64;
	pkt[9] = 1; /* ICMP */
	memcpy(pkt + 12, &s->addr, 4);
	memcpy(pkt + 16, &s->lg->opt.ping_target, 4);
	put16(pkt + 10, inet_csum(pkt, 20));
	icmp[0] = 8; /* echo request */
	put16(icmp + 4, (uint16_t)s->idx);
	put16(icmp + 6, s->ping_seq);
	memcpy(icmp + 8, "sluice-loadgen..", PING_PAYLOAD);
	put16(icmp + 2, inet_csum(icmp, 8 + PING_PAYLOAD));
}

void tunnel_on_packet(struct session *s, const uint8_t *pkt, size_t len)
{
	const uint8_t *icmp = pkt + 20;

	if (!s->ping_waiting || len != PING_LEN || pkt[0] != 0x45 || pkt[9] != 1 ||
	    inet_csum(pkt, 20) != 0 || memcmp(pkt + 12, &s->lg->opt.ping_target, 4) != 0 ||
	    memcmp(pkt + 16, &s->addr, 4) != 0)
		return;
	if (icmp[0] != 0 || inet_csum(icmp, len - 20) != 0 ||
	    (icmp[4] << 8 | icmp[5]) != (uint16_t)s->idx ||
	    (icmp[6] << 8 | icmp[7]) != s->ping_seq ||
	    memcmp(icmp + 8, "sluice-loadgen..", PING_PAYLOAD) != 0)
		return;
	s->ping_waiting = false;
	s->ping_missed = 0;
	s->lg->st.pings_answered++;
}

/* One CSTP frame; -EPROTO ends the session. */
static int on_frame(struct session *s, uint8_t type, const uint8_t *payload, size_t len)
{
	switch (type) {
	case PKT_DATA:
		tunnel_on_packet(s, payload, len);
		return 0;
	case PKT_DPD_REQ:
		/* answered with an empty DPD-RESP, as openconnect does */
		cstp_send(s, PKT_DPD_RESP, NULL, 0);
		return 0;
	case PKT_DPD_RESP:
		s->dpd_sent = 0;
		return 0;
	case PKT_DISCONNECT:
	case PKT_TERMINATE:
		return -ECONNRESET;
	case PKT_COMPRESSED:
		return -EPROTO; /* not negotiated */
	default:
		return 0;
	}
}

void tunnel_on_data(struct session *s)
{
	size_t off = 0;
	int ret = 0;

	while (ret == 0 && s->len - off >= CSTP_HDR) {
		const uint8_t *f = s->buf + off;
		size_t plen = (size_t)(f[4] << 8 | f[5]);

		if (memcmp(f, "STF\x01", 4) != 0 || f[7] != 0 || CSTP_HDR + plen > sizeof(s->buf)) {
			ret = -EPROTO;
			break;
		}
		if (s->len - off < CSTP_HDR + plen)
			break;
		ret = on_frame(s, f[6], f + CSTP_HDR, plen);
		off += CSTP_HDR + plen;
	}
	if (ret < 0) {
		session_fail(s, ret == -ECONNRESET ? F_TUNNEL_CLOSED : F_PROTOCOL);
		return;
	}
	memmove(s->buf, s->buf + off, s->len - off);
	s->len -= off;
	s->dpd_sent = 0;
	session_rearm(s);
}

static void send_ping(struct session *s)
{
	uint8_t pkt[PING_LEN];

	s->ping_seq++;
	build_ping(s, pkt);
	if ((dtls_up(s) ? dtls_send(s, PKT_DATA, pkt, sizeof(pkt))
			: cstp_send(s, PKT_DATA, pkt, sizeof(pkt))) < 0)
		return;
	s->ping_waiting = true;
	s->lg->st.pings_sent++;
}

static ev_tstamp min_t(ev_tstamp a, ev_tstamp b)
{
	return a < b ? a : b;
}

ev_tstamp tunnel_deadline(struct session *s)
{
	ev_tstamp t = ev_now(s->lg->loop) + 3600;

	if (s->dpd)
		t = min_t(t, s->dpd_sent
				 ? min_t(s->dpd_sent + s->dpd / 2., s->last_rx + 2. * s->dpd)
				 : s->last_rx + s->dpd);
	if (s->keepalive)
		t = min_t(t, s->last_tx + s->keepalive);
	if (s->pinger)
		t = min_t(t, s->next_ping);
	return min_t(t, dtls_deadline(s));
}

void tunnel_tick(struct session *s)
{
	struct loadgen *lg = s->lg;
	ev_tstamp now = ev_now(lg->loop);

	if (s->dpd && now >= s->last_rx + 2. * s->dpd) {
		session_fail(s, F_DPD_TIMEOUT);
		return;
	}
	if (s->dpd && now >= s->last_rx + s->dpd &&
	    (!s->dpd_sent || now >= s->dpd_sent + s->dpd / 2.)) {
		cstp_send(s, PKT_DPD_REQ, NULL, 0);
		s->dpd_sent = now;
	}
	if (s->keepalive && now >= s->last_tx + s->keepalive)
		cstp_send(s, PKT_KEEPALIVE, NULL, 0);
	if (s->pinger && now >= s->next_ping) {
		if (s->ping_waiting && ++s->ping_missed >= lg->opt.ping_loss_limit) {
			session_fail(s, F_PING_LOST);
			return;
		}
		send_ping(s);
		s->next_ping = now + lg->opt.ping_interval;
	}
	dtls_tick(s);
	if (s->state == SS_TUNNEL)
		session_rearm(s);
}

/* DISCONNECT as openconnect sends it on exit. A write GnuTLS still holds is finished
 * first, briefly blocking, so that the server does see the DISCONNECT. */
void tunnel_disconnect(struct session *s)
{
	struct timeval tv = {.tv_sec = 0, .tv_usec = 200000};
	int fl = fcntl(s->fd, F_GETFL);

	if (s->out_len) {
		setsockopt(s->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		fcntl(s->fd, F_SETFL, fl & ~O_NONBLOCK);
		if (gnutls_record_send(s->tls, s->out, s->out_len) >= 0)
			s->out_len = 0;
		fcntl(s->fd, F_SETFL, fl);
	}
	cstp_send(s, PKT_DISCONNECT, DISCONNECT_REASON, sizeof(DISCONNECT_REASON) - 1);
}

void tunnel_close(struct session *s)
{
	dtls_close(s);
}
