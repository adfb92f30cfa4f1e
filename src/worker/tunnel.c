/* The tunnel: packets between the TUN device and the client's TLS connection in CSTP
 * frames (one frame per TLS record), DPD and keepalive answers, idle and DPD timeouts,
 * and periodic counters for main. Buffers are allocated once per session. */
#include "config.h"

#include "worker/worker.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/session.h"
#include "worker/compress.h"
#include "worker/dtls_frame.h"
#include "worker/tunnel.h"

/* The tunnel's timer (tick) is armed for the next deadline, not periodic: an idle
 * session wakes its worker about once a stats-report-time, not once a second, which at
 * thousands of sessions was most of the machine's CPU. TICK_SLACK lets a deadline pass
 * before the check that compares against it; TICK_MAX bounds a wait with nothing due. */
#define TICK_SLACK 0.05
#define TICK_MAX 3600.

void tunnel_end(struct tunnel *t, int reason, int exit_code)
{
	if (t->end_reason)
		return;
	t->end_reason = reason;
	t->exit_code = exit_code;
	ev_break(t->w->loop, EVBREAK_ALL);
}

static void send_stats(struct tunnel *t)
{
	MwStats m = MW_STATS__INIT;

	m.bytes_in = t->bytes_in;
	m.bytes_out = t->bytes_out;
	m.spoofed_dropped = t->spoofed;
	m.has_route_dropped = true;
	m.route_dropped = t->route_dropped;
	m.has_mtu = true;
	m.mtu = t->w->mtu;
	m.dtls_cipher = (char *)dtls_cipher(t);
	m.tls_cipher = t->tls_cipher;
	if (t->w->cstp_comp)
		m.cstp_compression = (char *)comp_name(t->w->cstp_comp);
	if (t->w->dtls_comp)
		m.dtls_compression = (char *)comp_name(t->w->dtls_comp);
	ipc_send(t->w->main_ch.fd, MW_TYPE__MW_STATS, &m.base, NULL, 0);
	t->last_stats = ev_now(t->w->loop);
}

/* Stops or resumes reading the TUN device as the TLS socket fills and drains, so the
 * kernel's queue, not this process, holds what the client cannot take yet. A paused
 * tx-data-per-sec keeps it stopped; its timer resumes it. */
static void set_blocked(struct tunnel *t, bool blocked)
{
	if (blocked == t->blocked)
		return;
	t->blocked = blocked;
	if (blocked) {
		ev_io_stop(t->w->loop, &t->tun_rd);
		ev_io_start(t->w->loop, &t->tls_wr);
	} else {
		ev_io_stop(t->w->loop, &t->tls_wr);
		if (!shaping_tx_paused(t))
			ev_io_start(t->w->loop, &t->tun_rd);
	}
}

/* Encrypts the frame in t->tx into one TLS record. It fails with EAGAIN only when the
 * output buffer is full; then the record waits inside GnuTLS until the socket drains. */
static int send_frame(struct tunnel *t)
{
	ssize_t n = gnutls_record_send(t->w->tls, t->tx, t->tx_len);

	if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
		t->tx_pending = true;
		set_blocked(t, true);
		return -EAGAIN;
	}
	t->tx_pending = false;
	if (n < 0) {
		log_info("TLS send: %s", gnutls_strerror((int)n));
		tunnel_end(t, END_CLIENT_CLOSED, 0);
		return -EIO;
	}
	return 0;
}

void tunnel_flush(struct tunnel *t)
{
	int ret = tlsbuf_flush(&t->io);

	if (t->dtls)
		dtls_flush(t);
	if (ret == -EAGAIN) {
		set_blocked(t, true);
		return;
	}
	if (ret < 0) {
		log_info("TLS send: %s", strerror(-ret));
		tunnel_end(t, END_CLIENT_CLOSED, 0);
		return;
	}
	if (t->tx_pending && send_frame(t) < 0)
		return;
	set_blocked(t, false);
}

/* Control frames are dropped while a data frame waits for the socket: the peer
 * repeats DPD requests, and nothing else needs an answer. */
static void send_control(struct tunnel *t, uint8_t type, const uint8_t *payload, uint16_t len)
{
	if (t->tx_pending)
		return;
	cstp_put_header(t->tx, type, len);
	if (len)
		memcpy(t->tx + CSTP_HDR_LEN, payload, len);
	t->tx_len = CSTP_HDR_LEN + len;
	if (send_frame(t) == 0)
		tunnel_flush(t);
}

static void tls_writable(struct ev_loop *loop, ev_io *io, int revents)
{
	tunnel_flush(io->data);
}

/* The packet compressed with m at t->zbuf + CSTP_HDR_LEN, when m is set, the packet is
 * above no-compress-limit and it shrinks; else 0. */
static size_t compress_out(struct tunnel *t, const struct comp_method *m, const uint8_t *pkt,
			   size_t n)
{
	if (!m || n <= t->w->init->no_compress_limit)
		return 0;
	return comp_packet(m, t->zbuf + CSTP_HDR_LEN, CSTP_MAX_PAYLOAD, pkt, n);
}

/* One packet from the TUN device, read to t->tx + CSTP_HDR_LEN: over DTLS when it
 * carries packets, else (or when it cannot take this one) as a CSTP frame. The DTLS
 * header byte goes just before the packet, where CSTP's header ends, so neither channel
 * copies an uncompressed packet. */
static void send_packet(struct tunnel *t, size_t n)
{
	const struct worker *w = t->w;
	uint8_t *pkt = t->tx + CSTP_HDR_LEN, *z = t->zbuf + CSTP_HDR_LEN;
	bool over_dtls = dtls_ready(t);
	size_t zlen = compress_out(t, over_dtls ? w->dtls_comp : w->cstp_comp, pkt, n);

	if (over_dtls && dtls_send_packet(t, (zlen ? z : pkt) - DTLS_HDR_LEN, zlen ? zlen : n,
					  zlen ? DTLS_COMPRESSED : DTLS_DATA) == 0)
		return;
	if (over_dtls && w->cstp_comp != w->dtls_comp)
		zlen = compress_out(t, w->cstp_comp, pkt, n);
	if (zlen)
		memcpy(pkt, z, zlen);
	cstp_put_header(t->tx, zlen ? CSTP_COMPRESSED : CSTP_DATA, (uint16_t)(zlen ? zlen : n));
	t->tx_len = CSTP_HDR_LEN + (zlen ? zlen : n);
	send_frame(t);
}

static void tun_readable(struct ev_loop *loop, ev_io *io, int revents)
{
	struct tunnel *t = io->data;

	for (int i = 0; i < DRAIN_MAX && !t->tx_pending && !t->end_reason; i++) {
		ssize_t n = read(t->w->tun_fd, t->tx + CSTP_HDR_LEN, CSTP_MAX_PAYLOAD);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			log_err("TUN read: %s", strerror(errno));
			tunnel_end(t, END_ERROR, WEXIT_TUNNEL);
			return;
		}
		if (n == 0)
			break;
		t->bytes_out += (uint64_t)n;
		t->last_data = ev_now(loop);
		send_packet(t, (size_t)n);
		/* The only cost of tx-data-per-sec on an unlimited session: this test. */
		if (t->tx_bw.rate && shaping_tx_spent(t, (size_t)n))
			break;
	}
	tunnel_flush(t);
}

/* The worker's half of the packet policy (the kernel's is main's filter.c). */
static bool packet_allowed(struct tunnel *t, const uint8_t *pkt, size_t len)
{
	const struct worker *w = t->w;
	bool ok;

	if (len > 0 && (pkt[0] >> 4) == 6) {
		/* The client's link-local chatter (router solicitations, MLD reports from
		 * fe80::/10 or ::) has no business beyond the link: dropped, not counted. */
		if (!w->has_ip6 || cstp_packet6_link_local(pkt, len))
			return false;
		ok = cstp_packet6_source_ok(pkt, len, &w->vpn_net6, w->iroutes6, w->n_iroutes6);
	} else {
		ok = w->has_ip4 &&
		     cstp_packet_source_ok(pkt, len, w->vpn_ip.s_addr, w->iroutes, w->n_iroutes);
	}
	if (!ok) {
		t->spoofed++;
		return false;
	}
	if (w->restrict_to &&
	    !((pkt[0] >> 4) == 6 ? cstp_packet6_dest_ok(pkt, len, w->restrict_to)
				 : cstp_packet_dest_ok(pkt, len, w->restrict_to))) {
		t->route_dropped++;
		return false;
	}
	return true;
}

void tunnel_deliver(struct tunnel *t, const uint8_t *pkt, size_t len)
{
	if (!packet_allowed(t, pkt, len))
		return;
	/* A full TUN queue drops the packet, as a router would. */
	if (write(t->w->tun_fd, pkt, len) < 0 && errno != EAGAIN && errno != ENOBUFS) {
		log_err("TUN write: %s", strerror(errno));
		tunnel_end(t, END_ERROR, WEXIT_TUNNEL);
		return;
	}
	t->bytes_in += len;
	t->last_data = ev_now(t->w->loop);
}

void tunnel_deliver_compressed(struct tunnel *t, const struct comp_method *m, const uint8_t *z,
			       size_t len)
{
	int n;

	if (!m) {
		log_info("compressed packet, but compression was not negotiated");
		tunnel_end(t, END_ERROR, WEXIT_CLIENT);
		return;
	}
	n = comp_unpacket(m, t->unz, COMP_MAX_PACKET, z, len);
	if (n < 0) {
		log_info("a compressed packet (%s) from the client does not decompress",
			 comp_name(m));
		tunnel_end(t, END_ERROR, WEXIT_CLIENT);
		return;
	}
	tunnel_deliver(t, t->unz, (size_t)n);
}

static void on_frame(struct tunnel *t, const struct cstp_frame *f)
{
	t->last_rx = ev_now(t->w->loop);
	switch (f->type) {
	case CSTP_DATA:
		dtls_cstp_data_seen(t);
		tunnel_deliver(t, f->payload, f->len);
		break;
	case CSTP_DPD_REQ:
		send_control(t, CSTP_DPD_RESP, f->payload, f->len);
		break;
	case CSTP_DPD_RESP:
	case CSTP_KEEPALIVE:
		break;
	case CSTP_DISCONNECT:
		tunnel_end(t,
			   cstp_disconnect_is_logout(f->payload, f->len) ? END_USER_DISCONNECT
									 : END_CLIENT_CLOSED,
			   0);
		break;
	case CSTP_COMPRESSED:
		dtls_cstp_data_seen(t);
		tunnel_deliver_compressed(t, t->w->cstp_comp, f->payload, f->len);
		break;
	default:
		log_debug("ignoring CSTP frame type %u", f->type);
		break;
	}
}

/* Parses every whole frame in the receive buffer and keeps the tail. */
static void parse_rx(struct tunnel *t)
{
	size_t off = 0;

	while (!t->end_reason) {
		struct cstp_frame f;
		ssize_t n = cstp_frame_parse(t->rx + off, t->rx_len - off, &f);

		if (n == 0)
			break;
		if (n < 0) {
			log_info("malformed CSTP frame from the client");
			tunnel_end(t, END_ERROR, WEXIT_CLIENT);
			return;
		}
		on_frame(t, &f);
		off += (size_t)n;
	}
	memmove(t->rx, t->rx + off, t->rx_len - off);
	t->rx_len -= off;
}

static void tls_readable(struct ev_loop *loop, ev_io *io, int revents)
{
	struct tunnel *t = io->data;
	int i;

	for (i = 0; i < DRAIN_MAX && !t->end_reason; i++) {
		ssize_t n = gnutls_record_recv(t->w->tls, t->rx + t->rx_len, RX_CAP - t->rx_len);

		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
			break;
		if (n == 0 || n == GNUTLS_E_PREMATURE_TERMINATION) {
			tunnel_end(t, END_CLIENT_CLOSED, 0);
			return;
		}
		if (n < 0) {
			log_info("TLS receive: %s", gnutls_strerror((int)n));
			tunnel_end(t, END_CLIENT_CLOSED, 0);
			return;
		}
		t->rx_len += (size_t)n;
		parse_rx(t);
		/* rx-data-per-sec counts what the client sends, frame headers included. */
		if (t->rx_bw.rate && shaping_rx_spent(t, (size_t)n))
			break;
	}
	tunnel_flush(t); /* answers to DPD requests */
	/* Bytes already read into the buffer do not wake the loop again. */
	if (i == DRAIN_MAX && !t->end_reason &&
	    (tlsbuf_has_input(&t->io) || gnutls_record_check_pending(t->w->tls)))
		ev_feed_event(loop, io, EV_READ);
}

/* Waits, at most TERMINATE_FLUSH_S, until what is queued for the client's TLS socket is
 * out: a busy tunnel's last frame would otherwise never leave (main kills a worker that
 * lingers 5 s after its terminate, so the wait is bounded there too). */
#define TERMINATE_FLUSH_S 1.
static void flush_before_end(struct tunnel *t)
{
	struct pollfd p = {.fd = t->w->client_fd, .events = POLLOUT};
	ev_tstamp until = ev_time() + TERMINATE_FLUSH_S;

	for (;;) {
		int left = (int)((until - ev_time()) * 1000);

		tunnel_flush(t);
		if (t->end_reason || (!t->tx_pending && !t->blocked) || left <= 0 ||
		    poll(&p, 1, left) <= 0)
			return;
	}
}

/* main ends the session. For the reasons a user can act on (the quota is used up, a newer
 * login took the session's place) the client gets a DISCONNECT with main's reason as its
 * text, which openconnect shows; otherwise a TERMINATE. Either way it does not
 * reconnect. The data frame that waits for the socket goes first. */
int worker_on_terminate(void *ctx, void *msg, int *fds)
{
	struct tunnel *t = ctx;
	MwTerminate *m = msg;

	ev_io_stop(t->w->loop, &t->tun_rd);
	flush_before_end(t);
	if (m->reason == END_QUOTA_EXCEEDED || m->reason == END_SESSION_REPLACED) {
		const char *why = session_end_reason_str(m->reason);
		uint8_t payload[64];
		size_t len = strnlen(why, sizeof(payload) - 1);

		payload[0] = CSTP_DISCONNECT_SERVER;
		memcpy(payload + 1, why, len);
		send_control(t, CSTP_DISCONNECT, payload, (uint16_t)(len + 1));
	} else {
		send_control(t, CSTP_TERMINATE, NULL, 0);
	}
	flush_before_end(t);
	tunnel_end(t, END_SERVER_TERMINATE, 0);
	return 0;
}

static void main_readable(struct ev_loop *loop, ev_io *io, int revents)
{
	struct tunnel *t = io->data;
	int ret = ipc_recv_dispatch(&t->w->main_ch, WK_TUNNEL, t);

	if (ret == IPC_CLOSED || (ret < 0 && ret != -EAGAIN)) {
		log_err("main channel: %s", ret == IPC_CLOSED ? "closed" : ipc_last_error());
		tunnel_end(t, END_SERVER_TERMINATE, WEXIT_IPC);
	}
}

bool tunnel_key_update_applies(const struct worker *w)
{
	return w->sess->has_rekey_time && w->sess->rekey_time && !w->sess->rekey_new_tunnel &&
	       gnutls_protocol_get_version(w->tls) == GNUTLS_TLS1_3;
}

/* A TLS 1.3 key update, which asks the client to renew its keys too: the tunnel, its
 * address and its DTLS channel stay. Tried when nothing waits for the socket, so that
 * the update's record has room; else at the next tick. */
static void key_update(struct tunnel *t, ev_tstamp now)
{
	int ret;

	if (t->tx_pending || t->blocked)
		return;
	ret = gnutls_session_key_update(t->w->tls, GNUTLS_KU_PEER);
	t->rekey_again = ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED;
	if (t->rekey_again)
		return;
	if (ret < 0) {
		log_info("TLS key update: %s", gnutls_strerror(ret));
		tunnel_end(t, END_CLIENT_CLOSED, 0);
		return;
	}
	t->last_rekey = now;
	t->key_updates++;
	log_info("TLS keys renewed (key update %u, rekey-time %u s)", t->key_updates,
		 t->w->sess->rekey_time);
	tunnel_flush(t);
}

/* The soonest moment at which tick() may have something to do, from what is known
 * now: the idle and DPD deadlines, a DPD probe, DTLS's silence, the counters for main
 * and a key update. Traffic only moves these later, so a timer armed for it never fires
 * late; when it fires early, tick() finds nothing due and arms it again. */
static ev_tstamp next_check(const struct tunnel *t, ev_tstamp now)
{
	const MwTunnelOk *in = t->w->sess;
	unsigned idle = worker_idle_timeout(t->w);
	ev_tstamp next = now + TICK_MAX;

#define SOONER(at)                                                                                 \
	do {                                                                                       \
		ev_tstamp at_ = (at);                                                              \
		if (at_ < next)                                                                    \
			next = at_;                                                                \
	} while (0)
	if (idle)
		SOONER(t->last_data + idle);
	if (t->dpd) {
		SOONER(t->last_rx + 3.0 * t->dpd);
		SOONER(t->last_rx + 2.0 * t->dpd > t->last_dpd_sent + t->dpd
			   ? t->last_rx + 2.0 * t->dpd
			   : t->last_dpd_sent + t->dpd);
	}
	if (t->dtls)
		SOONER(dtls_next_check(t));
	if (in->stats_interval)
		SOONER(t->last_stats + in->stats_interval);
	if (t->rekey_again)
		SOONER(now + 1.);
	else if (tunnel_key_update_applies(t->w))
		SOONER(t->last_rekey + in->rekey_time);
#undef SOONER
	return next;
}

void tunnel_timer_update(struct tunnel *t)
{
	ev_tstamp now = ev_now(t->w->loop), at = next_check(t, now) + TICK_SLACK;

	if (at < now + TICK_SLACK)
		at = now + TICK_SLACK;
	ev_timer_stop(t->w->loop, &t->tick);
	ev_timer_set(&t->tick, at - now, 0.);
	ev_timer_start(t->w->loop, &t->tick);
}

static void tick(struct ev_loop *loop, ev_timer *timer, int revents)
{
	struct tunnel *t = timer->data;
	const MwTunnelOk *in = t->w->sess;
	ev_tstamp now = ev_now(loop);
	unsigned idle = worker_idle_timeout(t->w);

	if (idle && now - t->last_data > idle) {
		log_info("idle for %u s: ending the session", idle);
		send_control(t, CSTP_TERMINATE, NULL, 0);
		tunnel_end(t, END_IDLE_TIMEOUT, 0);
		return;
	}
	if (t->dpd && now - t->last_rx > 3.0 * t->dpd) {
		log_info("no frame from the client for %u s: peer is dead", 3 * t->dpd);
		tunnel_end(t, END_DPD_TIMEOUT, 0);
		return;
	}
	/* A silent client (e.g. behind a NAT that dropped its mapping) gets a probe. */
	if (t->dpd && now - t->last_rx > 2.0 * t->dpd && now - t->last_dpd_sent > t->dpd) {
		send_control(t, CSTP_DPD_REQ, NULL, 0);
		t->last_dpd_sent = now;
	}
	if (t->dtls)
		dtls_tick(t, now);
	if (in->stats_interval && now - t->last_stats >= in->stats_interval)
		send_stats(t);
	if (t->rekey_again ||
	    (tunnel_key_update_applies(t->w) && now - t->last_rekey >= in->rekey_time))
		key_update(t, now);
	if (!t->end_reason)
		tunnel_timer_update(t);
}

int tunnel_run(struct worker *w)
{
	struct tunnel *t;
	uint8_t *rx, *tx;
	MwSessionEnd end = MW_SESSION_END__INIT;
	ev_tstamp now = ev_now(w->loop);

	/* What authentication needed is free now (the HTTP parser and its buffers, the
	 * handshake's): its pages go back before the tunnel's buffers are taken, which
	 * would otherwise land on them, so an idle session holds only the pages it
	 * uses (design.md, "Scale"). */
	malloc_trim(0);
	t = talloc_zero(w, struct tunnel);
	/* Not zeroed: a session's memory grows only with the traffic it carries. */
	rx = t ? talloc_size(t, RX_CAP) : NULL;
	tx = t ? talloc_size(t, CSTP_MAX_FRAME) : NULL;
	if (!t || !rx || !tx)
		return WEXIT_TUNNEL;
	t->rx = rx;
	t->tx = tx;
	if (w->cstp_comp || w->dtls_comp) {
		t->zbuf = talloc_size(t, CSTP_MAX_FRAME);
		t->unz = talloc_size(t, COMP_MAX_PACKET);
		if (!t->zbuf || !t->unz)
			return WEXIT_TUNNEL;
	}
	t->w = w;
	ev_timer_init(&t->tick, tick, 0., 0.);
	t->dpd = w->mobile ? w->sess->mobile_dpd : w->sess->dpd;
	t->last_rx = t->last_data = t->last_stats = t->last_rekey = now;
	{
		char *desc = gnutls_session_get_desc(w->tls);

		t->tls_cipher = talloc_strdup(t, desc ? desc : "");
		gnutls_free(desc);
	}
	/* From here on every descriptor is drained until EAGAIN by the event loop. */
	if (fcntl(w->client_fd, F_SETFL, fcntl(w->client_fd, F_GETFL) | O_NONBLOCK) < 0 ||
	    tlsbuf_install(&t->io, t, w->tls, w->client_fd) < 0)
		return WEXIT_TUNNEL;
	gnutls_record_set_timeout(w->tls, 0);
	if (dtls_start(t) < 0)
		return WEXIT_TUNNEL;
	if (w->n_early)
		memcpy(t->rx, w->early, w->n_early);
	t->rx_len = w->n_early;
	TALLOC_FREE(w->early);
	parse_rx(t);

	ev_io_init(&t->tls_rd, tls_readable, w->client_fd, EV_READ);
	ev_io_init(&t->tls_wr, tls_writable, w->client_fd, EV_WRITE);
	ev_io_init(&t->tun_rd, tun_readable, w->tun_fd, EV_READ);
	ev_io_init(&t->main_rd, main_readable, w->main_ch.fd, EV_READ);
	shaping_start(t);
	t->tls_rd.data = t->tls_wr.data = t->tun_rd.data = t->main_rd.data = t->tick.data = t;
	ev_io_start(w->loop, &t->tls_rd);
	ev_io_start(w->loop, &t->tun_rd);
	ev_io_start(w->loop, &t->main_rd);
	tunnel_timer_update(t);
	/* main shows the TLS ciphersuite from the start (sluicectl show user). */
	send_stats(t);
	/* Records GnuTLS already decrypted would not wake the loop. */
	if (!t->end_reason && gnutls_record_check_pending(w->tls))
		tls_readable(w->loop, &t->tls_rd, EV_READ);
	if (!t->end_reason)
		ev_run(w->loop, 0);

	send_stats(t);
	end.reason = (uint32_t)t->end_reason;
	ipc_send(w->main_ch.fd, MW_TYPE__MW_SESSION_END, &end.base, NULL, 0);
	return t->exit_code;
}
