/* The DTLS channel in PSK-NEGOTIATE mode, as openconnect 9.01 opens it (protocol.md
 * §5.3): the key is the CSTP TLS session's exporter ("EXPORTER-openconnect-psk", no
 * context, 32 bytes), the ClientHello carries the App-ID as its session id and no
 * extensions. Data goes over DTLS once it is up; a handshake that does not finish in
 * time, or a DTLS peer that goes silent, leaves the session on CSTP (counted). */
#include "config.h"
#include "session.h"

#include <errno.h>
#include <gnutls/dtls.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define PSK_LABEL       "EXPORTER-openconnect-psk"
#define HANDSHAKE_LIMIT 12.0 /* seconds, openconnect's */

enum { PKT_DATA = 0, PKT_DPD_REQ = 3, PKT_DPD_RESP = 4, PKT_KEEPALIVE = 7 };

struct dtls_chan {
	int fd;
	gnutls_session_t s;
	gnutls_psk_client_credentials_t psk;
	ev_io io;
	bool up;
	ev_tstamp started, last_rx, last_tx, dpd_sent;
};

static void on_dtls_io(struct ev_loop *loop, ev_io *w, int revents);

static void dtls_down(struct session *s)
{
	s->lg->st.dtls_failed++;
	dtls_close(s);
}

void dtls_close(struct session *s)
{
	struct dtls_chan *d = s->dtls;

	if (!d)
		return;
	ev_io_stop(s->lg->loop, &d->io);
	if (d->s)
		gnutls_deinit(d->s);
	if (d->psk)
		gnutls_psk_free_client_credentials(d->psk);
	if (d->fd >= 0) {
		close(d->fd);
		s->lg->open--;
	}
	TALLOC_FREE(s->dtls);
}

bool dtls_up(const struct session *s)
{
	return s->dtls && s->dtls->up;
}

static int dtls_socket(struct session *s, struct dtls_chan *d)
{
	struct sockaddr_in src = {.sin_family = AF_INET, .sin_addr = s->src};
	struct sockaddr_in dst = s->lg->opt.server;

	d->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (d->fd < 0)
		return -errno;
	s->lg->open++;
	/* the same address the TCP connection came from, as openconnect's UDP socket */
	dst.sin_port = htons((uint16_t)s->dtls_port);
	if (bind(d->fd, (struct sockaddr *)&src, sizeof(src)) < 0 ||
	    connect(d->fd, (struct sockaddr *)&dst, sizeof(dst)) < 0)
		return -errno;
	return 0;
}

static int dtls_session(struct session *s, struct dtls_chan *d)
{
	uint8_t key[32];
	gnutls_datum_t k = {key, sizeof(key)}, id = {s->app_id, (unsigned)s->app_id_len};
	unsigned mtu = s->base_mtu >= 576 && s->base_mtu <= 1500 ? s->base_mtu : 1500;

	if (gnutls_prf(s->tls, sizeof(PSK_LABEL) - 1, PSK_LABEL, 0, 0, NULL, sizeof(key),
		       (char *)key) < 0)
		return -EINVAL;
	if (gnutls_init(&d->s, GNUTLS_CLIENT | GNUTLS_DATAGRAM | GNUTLS_NONBLOCK |
				   GNUTLS_NO_EXTENSIONS) < 0)
		return -ENOMEM;
	if (gnutls_priority_set(d->s, s->lg->dtls_prio) < 0 ||
	    gnutls_psk_allocate_client_credentials(&d->psk) < 0 ||
	    gnutls_psk_set_client_credentials(d->psk, "psk", &k, GNUTLS_PSK_KEY_RAW) < 0 ||
	    gnutls_credentials_set(d->s, GNUTLS_CRD_PSK, d->psk) < 0 ||
	    gnutls_session_set_id(d->s, &id) < 0)
		return -EINVAL;
	gnutls_memset(key, 0, sizeof(key));
	gnutls_dtls_set_mtu(d->s, mtu - 28);
	gnutls_transport_set_int(d->s, d->fd);
	return 0;
}

static void handshake(struct session *s)
{
	struct dtls_chan *d = s->dtls;
	int r = gnutls_handshake(d->s);

	if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
		return;
	if (r < 0) {
		dtls_down(s);
		return;
	}
	d->up = true;
	d->last_rx = d->last_tx = ev_now(s->lg->loop);
	s->lg->st.dtls_up++;
}

int dtls_start(struct session *s)
{
	struct dtls_chan *d = talloc_zero(s, struct dtls_chan);

	if (!d)
		return -ENOMEM;
	d->fd = -1;
	s->dtls = d;
	d->started = ev_now(s->lg->loop);
	if (dtls_socket(s, d) < 0 || dtls_session(s, d) < 0) {
		dtls_close(s);
		return -EINVAL;
	}
	ev_io_init(&d->io, on_dtls_io, d->fd, EV_READ);
	d->io.data = s;
	ev_io_start(s->lg->loop, &d->io);
	handshake(s);
	return 0;
}

int dtls_send(struct session *s, uint8_t type, const void *payload, size_t len)
{
	uint8_t rec[1 + 1500];
	ssize_t r;

	if (!dtls_up(s) || len > sizeof(rec) - 1)
		return -ENOTCONN;
	rec[0] = type;
	if (len) /* keepalives and DPD carry nothing, and payload NULL */
		memcpy(rec + 1, payload, len);
	r = gnutls_record_send(s->dtls->s, rec, 1 + len);
	if (r < 0)
		return -EIO; /* a datagram lost; the next one is tried anew */
	s->dtls->last_tx = ev_now(s->lg->loop);
	return 0;
}

static void on_record(struct session *s, const uint8_t *rec, size_t len)
{
	if (len == 0)
		return;
	switch (rec[0]) {
	case PKT_DATA:
		tunnel_on_packet(s, rec + 1, len - 1);
		break;
	case PKT_DPD_REQ:
		/* answered with a bare DPD-RESP, as openconnect does */
		dtls_send(s, PKT_DPD_RESP, NULL, 0);
		break;
	default:
		break;
	}
}

static void on_dtls_io(struct ev_loop *loop, ev_io *w, int revents)
{
	struct session *s = w->data;
	struct dtls_chan *d = s->dtls;
	uint8_t rec[2048];

	(void)loop;
	(void)revents;
	if (!d->up) {
		handshake(s);
		if (s->dtls)
			session_rearm(s);
		return;
	}
	for (int i = 0; i < 32; i++) {
		ssize_t r = gnutls_record_recv(d->s, rec, sizeof(rec));

		if (r == GNUTLS_E_AGAIN)
			return;
		if (r < 0 && gnutls_error_is_fatal((int)r)) {
			dtls_down(s);
			return;
		}
		if (r < 0)
			continue; /* a datagram that did not decrypt: dropped, as DTLS does */
		d->last_rx = ev_now(s->lg->loop);
		d->dpd_sent = 0;
		on_record(s, rec, (size_t)r);
		if (!s->dtls)
			return;
	}
}

ev_tstamp dtls_deadline(struct session *s)
{
	struct dtls_chan *d = s->dtls;
	ev_tstamp t, now = ev_now(s->lg->loop);
	unsigned ms;

	if (!d)
		return now + 3600;
	if (!d->up) {
		ms = gnutls_dtls_get_timeout(d->s);
		t = now + ms / 1000.;
		return t < d->started + HANDSHAKE_LIMIT ? t : d->started + HANDSHAKE_LIMIT;
	}
	t = now + 3600;
	if (s->dtls_keepalive && d->last_tx + s->dtls_keepalive < t)
		t = d->last_tx + s->dtls_keepalive;
	if (s->dtls_dpd) {
		ev_tstamp dpd =
		    d->dpd_sent ? d->last_rx + 2. * s->dtls_dpd : d->last_rx + s->dtls_dpd;

		t = dpd < t ? dpd : t;
	}
	return t;
}

void dtls_tick(struct session *s)
{
	struct dtls_chan *d = s->dtls;
	ev_tstamp now = ev_now(s->lg->loop);

	if (!d)
		return;
	if (!d->up) {
		if (now >= d->started + HANDSHAKE_LIMIT)
			dtls_down(s);
		else
			handshake(s); /* a retransmission, on GnuTLS's timer */
		return;
	}
	/* silent for twice DPD: DTLS is dead, the session carries on over CSTP */
	if (s->dtls_dpd && now >= d->last_rx + 2. * s->dtls_dpd) {
		dtls_down(s);
		return;
	}
	if (s->dtls_dpd && !d->dpd_sent && now >= d->last_rx + s->dtls_dpd) {
		dtls_send(s, PKT_DPD_REQ, NULL, 0);
		d->dpd_sent = now;
	}
	if (s->dtls_keepalive && now >= d->last_tx + s->dtls_keepalive)
		dtls_send(s, PKT_KEEPALIVE, NULL, 0);
}
