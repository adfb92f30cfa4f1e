/* The DTLS data channel. The client may do a DTLS handshake at any time (after every
 * CONNECT, after its DTLS died, after it moved to another address); main hands each
 * ClientHello over with a UDP socket connected to its sender. A new handshake runs in
 * a second slot and replaces the established one only when it completes, so a
 * replayed ClientHello cannot take the session over. Data goes over DTLS while DTLS is
 * heard from, else over CSTP; both channels are accepted at any time. */
#include "config.h"

#include "worker/tunnel.h"

#include <errno.h>
#include <gnutls/dtls.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "common/session.h"
#include "worker/compress.h"
#include "worker/dtls_frame.h"
#include "worker/http.h"

#define PSK_LABEL "EXPORTER-openconnect-psk"
#define DTLS_RX_CAP (CSTP_MAX_FRAME + 64)
#define DGRAM_MAX 2048  /* largest datagram handled; records are sized below it */
#define BATCH 32        /* datagrams per sendmmsg/recvmmsg */

/* Datagrams queued or received in one system call. Allocated when a session first
 * moves data, so idle sessions do not pay for them. */
struct dgram_batch {
	struct mmsghdr msg[BATCH];
	struct iovec iov[BATCH];
	uint8_t data[BATCH][DGRAM_MAX];
	unsigned n, next;
};

enum dtls_mode { DTLS_OFF = 0, DTLS_PSK, DTLS_LEGACY };

/* Cisco's legacy ciphers as openconnect names them, in the server's preference order
 * (protocol.md §5.4). They resume a fake session whose master secret the client sent. */
struct legacy_cipher {
	const char *header;  /* the request/response header that carries the name */
	const char *name;
	gnutls_protocol_t version;
	gnutls_cipher_algorithm_t cipher;
	gnutls_mac_algorithm_t mac;
	const char *prio;
};

static const struct legacy_cipher legacy_ciphers[] = {
	{"X-DTLS12-CipherSuite", "AES256-GCM-SHA384", GNUTLS_DTLS1_2, GNUTLS_CIPHER_AES_256_GCM,
	 GNUTLS_MAC_AEAD, "NONE:+VERS-DTLS1.2:+COMP-NULL:+AES-256-GCM:+AEAD:+RSA:+SIGN-ALL"},
	{"X-DTLS12-CipherSuite", "AES128-GCM-SHA256", GNUTLS_DTLS1_2, GNUTLS_CIPHER_AES_128_GCM,
	 GNUTLS_MAC_AEAD, "NONE:+VERS-DTLS1.2:+COMP-NULL:+AES-128-GCM:+AEAD:+RSA:+SIGN-ALL"},
	{"X-DTLS-CipherSuite", "OC-DTLS1_2-AES256-GCM", GNUTLS_DTLS1_2, GNUTLS_CIPHER_AES_256_GCM,
	 GNUTLS_MAC_AEAD, "NONE:+VERS-DTLS1.2:+COMP-NULL:+AES-256-GCM:+AEAD:+RSA:+SIGN-ALL"},
	{"X-DTLS-CipherSuite", "OC-DTLS1_2-AES128-GCM", GNUTLS_DTLS1_2, GNUTLS_CIPHER_AES_128_GCM,
	 GNUTLS_MAC_AEAD, "NONE:+VERS-DTLS1.2:+COMP-NULL:+AES-128-GCM:+AEAD:+RSA:+SIGN-ALL"},
	{"X-DTLS12-CipherSuite", "AES256-SHA", GNUTLS_DTLS1_2, GNUTLS_CIPHER_AES_256_CBC,
	 GNUTLS_MAC_SHA1, "NONE:+VERS-DTLS1.2:+COMP-NULL:+AES-256-CBC:+SHA1:+RSA:+SIGN-ALL"},
	{"X-DTLS12-CipherSuite", "AES128-SHA", GNUTLS_DTLS1_2, GNUTLS_CIPHER_AES_128_CBC,
	 GNUTLS_MAC_SHA1, "NONE:+VERS-DTLS1.2:+COMP-NULL:+AES-128-CBC:+SHA1:+RSA:+SIGN-ALL"},
	{"X-DTLS-CipherSuite", "AES256-SHA", GNUTLS_DTLS0_9, GNUTLS_CIPHER_AES_256_CBC,
	 GNUTLS_MAC_SHA1, "NONE:+VERS-DTLS0.9:+COMP-NULL:+AES-256-CBC:+SHA1:+RSA:+SIGN-ALL"},
	{"X-DTLS-CipherSuite", "AES128-SHA", GNUTLS_DTLS0_9, GNUTLS_CIPHER_AES_128_CBC,
	 GNUTLS_MAC_SHA1, "NONE:+VERS-DTLS0.9:+COMP-NULL:+AES-128-CBC:+SHA1:+RSA:+SIGN-ALL"},
};

/* The fake resumption must not be broken by extensions the client never saw. */
#define LEGACY_PRIO_SUFFIX ":%NO_SESSION_HASH:%DISABLE_SAFE_RENEGOTIATION"

struct dtls_slot {
	struct dtls_chan *d;
	gnutls_session_t s;
	int fd;
	ev_io io;
	ev_timer hs_timer;
	bool established;
	uint8_t first[DGRAM_MAX]; /* the ClientHello main read for us */
	size_t first_len;
	struct dgram_batch *out; /* established slots: sendmmsg queue */
	struct dgram_batch *in;  /* established slots: recvmmsg batch */
};

struct dtls_chan {
	struct tunnel *t;
	enum dtls_mode mode;
	uint8_t key[48];     /* PSK (32 bytes) or legacy master secret (48 bytes) */
	const struct legacy_cipher *legacy;
	gnutls_psk_server_credentials_t psk;
	gnutls_priority_t prio;
	struct dtls_slot *active, *pending;
	bool usable;         /* send data over DTLS */
	ev_tstamp last_rx;
	char cipher[96];
	uint8_t *rx;         /* DTLS_RX_CAP bytes, allocated when DTLS is up */
};

/* --- negotiation (in the CONNECT answer) ---------------------------------------- */

static bool list_has(const char *list, const char *item)
{
	size_t n = strlen(item);

	for (const char *p = list; p && *p;) {
		const char *end = strchr(p, ':');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len == n && strncmp(p, item, n) == 0)
			return true;
		p = end ? end + 1 : NULL;
	}
	return false;
}

static int hex_decode(const char *hex, uint8_t *out, size_t n)
{
	if (!hex || strlen(hex) != 2 * n)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -EINVAL;
		out[i] = (uint8_t)v;
	}
	return 0;
}

static void hex_encode(const uint8_t *in, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02X", in[i]);
}

unsigned dtls_choose(struct worker *w, const struct http_request *req)
{
	MwInit *in = w->init;
	gnutls_protocol_t version = GNUTLS_DTLS1_2;
	gnutls_cipher_algorithm_t cipher;
	gnutls_mac_algorithm_t mac;

	w->dtls_mode = DTLS_OFF;
	if (!in->udp_port || !req->dtls_ciphersuite)
		return 0;
	if (in->dtls_psk && list_has(req->dtls_ciphersuite, "PSK-NEGOTIATE")) {
		if (gnutls_prf_rfc5705(w->tls, sizeof(PSK_LABEL) - 1, PSK_LABEL, 0, NULL, 32,
				       (char *)w->dtls_key) < 0)
			return 0;
		w->dtls_mode = DTLS_PSK;
		/* The DTLS cipher is negotiated later; the TLS session's is the estimate. */
		cipher = gnutls_cipher_get(w->tls);
		mac = gnutls_mac_get(w->tls);
	} else if (in->dtls_legacy && hex_decode(req->dtls_master_secret, w->dtls_key, 48) == 0) {
		for (size_t i = 0; i < sizeof(legacy_ciphers) / sizeof(legacy_ciphers[0]); i++) {
			const struct legacy_cipher *c = &legacy_ciphers[i];
			const char *offer = strcmp(c->header, "X-DTLS12-CipherSuite") == 0
						    ? req->dtls12_ciphersuite
						    : req->dtls_ciphersuite;

			if (list_has(offer, c->name)) {
				w->dtls_legacy = i;
				w->dtls_mode = DTLS_LEGACY;
				break;
			}
		}
		if (w->dtls_mode == DTLS_OFF)
			return 0;
		version = legacy_ciphers[w->dtls_legacy].version;
		cipher = legacy_ciphers[w->dtls_legacy].cipher;
		mac = legacy_ciphers[w->dtls_legacy].mac;
	} else {
		return 0;
	}
	return (unsigned)gnutls_est_record_overhead_size(version, cipher, mac, GNUTLS_COMP_NULL,
							 0) +
	       DTLS_HDR_LEN;
}

void dtls_headers(struct worker *w, char **headers)
{
	MwInit *in = w->init;
	char id_hex[65], num[16];

	/* main gives every tunnel a DTLS id when its UDP port is open */
	if (w->dtls_mode == DTLS_OFF || !w->has_dtls_id) {
		w->dtls_mode = DTLS_OFF;
		w->dtls_comp = NULL;
		return;
	}
	hex_encode(w->dtls_id, sizeof(w->dtls_id), id_hex);
	snprintf(num, sizeof(num), "%u", in->udp_port);
	worker_add_header(headers, "X-DTLS-Port", num);
	snprintf(num, sizeof(num), "%u", w->mobile ? w->sess->mobile_dpd : w->sess->dpd);
	worker_add_header(headers, "X-DTLS-DPD", num);
	snprintf(num, sizeof(num), "%u", w->sess->keepalive);
	worker_add_header(headers, "X-DTLS-Keepalive", num);
	if (w->dtls_mode == DTLS_PSK) {
		worker_add_header(headers, "X-DTLS-CipherSuite", "PSK-NEGOTIATE");
		worker_add_header(headers, "X-DTLS-App-ID", id_hex);
	} else {
		const struct legacy_cipher *c = &legacy_ciphers[w->dtls_legacy];

		worker_add_header(headers, c->header, c->name);
		worker_add_header(headers, "X-DTLS-Session-ID", id_hex);
		snprintf(num, sizeof(num), "%u", w->mtu);
		worker_add_header(headers, "X-DTLS-MTU", num);
	}
	if (w->dtls_comp)
		worker_add_header(headers, "X-DTLS-Content-Encoding", comp_name(w->dtls_comp));
}

/* --- slots: one DTLS session each, on its own connected UDP socket ------------------ */

static struct dgram_batch *batch_new(struct dtls_slot *sl)
{
	/* Only the headers are cleared: data pages are touched when used. */
	struct dgram_batch *b = talloc_size(sl, sizeof(*b));

	if (!b)
		return NULL;
	memset(b->msg, 0, sizeof(b->msg));
	b->n = b->next = 0;
	for (unsigned i = 0; i < BATCH; i++) {
		b->iov[i].iov_base = b->data[i];
		b->iov[i].iov_len = DGRAM_MAX;
		b->msg[i].msg_hdr.msg_iov = &b->iov[i];
		b->msg[i].msg_hdr.msg_iovlen = 1;
	}
	return b;
}

/* One datagram per call, as DTLS wants; established slots read BATCH at a time. */
static ssize_t slot_pull(gnutls_transport_ptr_t ptr, void *buf, size_t len)
{
	struct dtls_slot *sl = ptr;
	struct dgram_batch *b = sl->in;
	size_t n;

	if (sl->first_len) {
		n = sl->first_len < len ? sl->first_len : len;
		memcpy(buf, sl->first, n);
		sl->first_len = 0;
		return (ssize_t)n;
	}
	if (!sl->established || !b)
		return recv(sl->fd, buf, len, 0);
	while (b->next >= b->n) {
		int r = recvmmsg(sl->fd, b->msg, BATCH, MSG_DONTWAIT, NULL);

		if (r <= 0)
			return r < 0 ? -1 : 0;
		b->n = (unsigned)r;
		b->next = 0;
	}
	n = b->msg[b->next].msg_len;
	if (b->msg[b->next].msg_hdr.msg_flags & MSG_TRUNC)
		n = 0; /* larger than any record of ours: let GnuTLS reject it */
	n = n < len ? n : len;
	memcpy(buf, b->data[b->next++], n);
	return (ssize_t)n;
}

static void slot_flush(struct dtls_slot *sl)
{
	struct dgram_batch *b = sl->out;

	if (!b || !b->n)
		return;
	/* What the socket does not take is dropped, as a congested network would. */
	sendmmsg(sl->fd, b->msg, b->n, MSG_DONTWAIT);
	b->n = 0;
}

/* Handshake messages go out at once; an established slot queues its records and the
 * tunnel sends them with one sendmmsg per wakeup. */
static ssize_t slot_push(gnutls_transport_ptr_t ptr, const void *buf, size_t len)
{
	struct dtls_slot *sl = ptr;
	struct dgram_batch *b = sl->out;

	if (!sl->established || !b || len > DGRAM_MAX)
		return send(sl->fd, buf, len, 0);
	if (b->n == BATCH)
		slot_flush(sl);
	memcpy(b->data[b->n], buf, len);
	b->iov[b->n].iov_len = len;
	b->n++;
	return (ssize_t)len;
}

static int slot_pull_timeout(gnutls_transport_ptr_t ptr, unsigned ms)
{
	struct dtls_slot *sl = ptr;
	struct pollfd p = {.fd = sl->fd, .events = POLLIN};

	if (sl->first_len)
		return 1;
	return poll(&p, 1, (int)ms);
}

static int psk_key(gnutls_session_t s, const char *username, gnutls_datum_t *key)
{
	struct dtls_chan *d = gnutls_session_get_ptr(s);

	/* The identity does not matter: only a peer that saw the TLS session knows it. */
	key->data = gnutls_malloc(32);
	if (!key->data)
		return -1;
	memcpy(key->data, d->key, 32);
	key->size = 32;
	return 0;
}

static void slot_free(struct dtls_slot *sl)
{
	struct tunnel *t = sl->d->t;

	ev_io_stop(t->w->loop, &sl->io);
	ev_timer_stop(t->w->loop, &sl->hs_timer);
	gnutls_deinit(sl->s);
	close(sl->fd);
	talloc_free(sl);
}

static void slot_readable(struct ev_loop *loop, ev_io *io, int revents);
static void slot_handshake(struct dtls_slot *sl);

static void hs_timeout(struct ev_loop *loop, ev_timer *timer, int revents)
{
	slot_handshake(timer->data);
}

static void promote(struct dtls_slot *sl)
{
	struct dtls_chan *d = sl->d;
	char *desc = gnutls_session_get_desc(sl->s);

	snprintf(d->cipher, sizeof(d->cipher), "%s", desc ? desc : "?");
	gnutls_free(desc);
	if (d->active)
		slot_free(d->active);
	d->active = sl;
	d->pending = NULL;
	sl->established = true;
	sl->out = batch_new(sl);
	sl->in = batch_new(sl);
	/* The new channel waits for rx-data-per-sec like the one it replaces. */
	if (shaping_rx_paused(d->t))
		ev_io_stop(d->t->w->loop, &sl->io);
	if (!d->rx)
		d->rx = talloc_size(d, DTLS_RX_CAP);
	d->usable = true;
	d->last_rx = ev_now(d->t->w->loop);
	tunnel_timer_update(d->t);
	log_info("DTLS established: %s (%s mode)", d->cipher,
		 d->mode == DTLS_PSK ? "PSK" : "legacy");
}

static void slot_handshake(struct dtls_slot *sl)
{
	struct ev_loop *loop = sl->d->t->w->loop;
	int ret = gnutls_handshake(sl->s);

	ev_timer_stop(loop, &sl->hs_timer);
	if (ret == 0) {
		promote(sl);
		return;
	}
	if (gnutls_error_is_fatal(ret)) {
		log_info("DTLS handshake failed: %s", gnutls_strerror(ret));
		sl->d->pending = NULL;
		slot_free(sl);
		return;
	}
	/* Retransmissions follow GnuTLS's own timer. */
	ev_timer_set(&sl->hs_timer, gnutls_dtls_get_timeout(sl->s) / 1000.0 + 0.001, 0.);
	ev_timer_start(loop, &sl->hs_timer);
}

static void drop_active(struct dtls_chan *d, const char *why)
{
	log_info("DTLS closed: %s; data continues over TLS", why);
	slot_free(d->active);
	d->active = NULL;
	d->usable = false;
	d->cipher[0] = '\0';
}

static void on_record(struct dtls_chan *d, uint8_t *rec, size_t len)
{
	struct tunnel *t = d->t;
	struct dtls_frame f;

	if (dtls_frame_parse(rec, len, &f) < 0)
		return;
	d->last_rx = ev_now(t->w->loop);
	t->last_rx = d->last_rx;
	if (!d->usable) {
		d->usable = true;
		tunnel_timer_update(t);
	}
	switch (f.type) {
	case DTLS_DATA:
		tunnel_deliver(t, f.payload, f.len);
		break;
	case DTLS_COMPRESSED:
		tunnel_deliver_compressed(t, t->w->dtls_comp, f.payload, f.len);
		break;
	case DTLS_DPD_REQ:
		/* Echoed byte for byte: the client probes the path MTU this way. */
		rec[0] = DTLS_DPD_RESP;
		gnutls_record_send(d->active->s, rec, len);
		break;
	default:
		break; /* DPD-RESP and keepalive only prove liveness */
	}
}

static void slot_readable(struct ev_loop *loop, ev_io *io, int revents)
{
	struct dtls_slot *sl = io->data;
	struct dtls_chan *d = sl->d;

	if (!sl->established) {
		slot_handshake(sl);
		return;
	}
	if (!d->rx) {
		drop_active(d, "out of memory");
		return;
	}
	for (int i = 0; i < DRAIN_MAX && !d->t->end_reason && d->active == sl; i++) {
		ssize_t n = gnutls_record_recv(sl->s, d->rx, DTLS_RX_CAP);

		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
			break;
		if (n == GNUTLS_E_REHANDSHAKE || n == GNUTLS_E_UNEXPECTED_PACKET_LENGTH ||
		    n == GNUTLS_E_DECRYPTION_FAILED)
			continue; /* a stray or forged datagram: ignore it */
		if (n <= 0) {
			drop_active(d, n == 0 ? "closed by the client" : gnutls_strerror((int)n));
			return;
		}
		on_record(d, d->rx, (size_t)n);
		if (d->t->rx_bw.rate && shaping_rx_spent(d->t, (size_t)n))
			break;
	}
	/* Datagrams already in the batch do not wake the loop again. */
	if (d->active == sl && sl->in && sl->in->next < sl->in->n && !shaping_rx_paused(d->t))
		ev_feed_event(loop, io, EV_READ);
	tunnel_flush(d->t);
}

static int slot_new(struct dtls_chan *d, int fd, const uint8_t *hello, size_t len)
{
	struct worker *w = d->t->w;
	struct dtls_slot *sl = talloc_zero(d, struct dtls_slot);
	int ret;

	if (!sl || len > sizeof(sl->first)) {
		talloc_free(sl);
		close(fd);
		return -EINVAL;
	}
	sl->d = d;
	sl->fd = fd;
	memcpy(sl->first, hello, len);
	sl->first_len = len;
	ret = gnutls_init(&sl->s, GNUTLS_SERVER | GNUTLS_DATAGRAM | GNUTLS_NONBLOCK);
	if (ret >= 0)
		ret = gnutls_priority_set(sl->s, d->prio);
	if (ret >= 0 && d->mode == DTLS_PSK)
		ret = gnutls_credentials_set(sl->s, GNUTLS_CRD_PSK, d->psk);
	if (ret >= 0 && d->mode == DTLS_LEGACY) {
		gnutls_datum_t master = {d->key, 48}, id = {w->dtls_id, sizeof(w->dtls_id)};

		ret = gnutls_credentials_set(sl->s, GNUTLS_CRD_CERTIFICATE, w->creds);
		if (ret >= 0)
			ret = gnutls_session_set_premaster(sl->s, GNUTLS_SERVER,
							   d->legacy->version, GNUTLS_KX_RSA,
							   d->legacy->cipher, d->legacy->mac,
							   GNUTLS_COMP_NULL, &master, &id);
	}
	if (ret < 0) {
		log_err("DTLS session: %s", gnutls_strerror(ret));
		if (sl->s)
			gnutls_deinit(sl->s);
		close(fd);
		talloc_free(sl);
		return -EINVAL;
	}
	gnutls_session_set_ptr(sl->s, d);
	gnutls_transport_set_ptr(sl->s, sl);
	gnutls_transport_set_pull_function(sl->s, slot_pull);
	gnutls_transport_set_push_function(sl->s, slot_push);
	gnutls_transport_set_pull_timeout_function(sl->s, slot_pull_timeout);
	/* Records sized for the path: the base MTU minus IP and UDP headers. */
	gnutls_dtls_set_mtu(sl->s, (w->base_mtu < DGRAM_MAX ? w->base_mtu : DGRAM_MAX) - 28);
	ev_io_init(&sl->io, slot_readable, fd, EV_READ);
	ev_init(&sl->hs_timer, hs_timeout);
	sl->io.data = sl->hs_timer.data = sl;
	ev_io_start(w->loop, &sl->io);
	if (d->pending)
		slot_free(d->pending);
	d->pending = sl;
	slot_handshake(sl);
	return 0;
}

int worker_on_udp(void *ctx, void *msg, int *fds)
{
	struct tunnel *t = ctx;
	MwUdp *m = msg;

	if (!t->dtls) {
		close(fds[0]);
		return -EPROTO; /* main passed a socket for a session without DTLS */
	}
	log_debug("DTLS ClientHello from %s", m->peer);
	slot_new(t->dtls, fds[0], m->hello.data, m->hello.len);
	return 0;
}

int dtls_start(struct tunnel *t)
{
	struct worker *w = t->w;
	struct dtls_chan *d;
	const char *prio;
	const char *err = NULL;
	int ret;

	if (w->dtls_mode == DTLS_OFF)
		return 0;
	d = talloc_zero(t, struct dtls_chan);
	if (!d)
		return -ENOMEM;
	d->t = t;
	d->mode = w->dtls_mode;
	memcpy(d->key, w->dtls_key, sizeof(d->key));
	if (d->mode == DTLS_PSK) {
		prio = talloc_asprintf(d, "%s:-VERS-ALL:+VERS-DTLS-ALL:-KX-ALL:+PSK",
				       w->init->tls_priorities);
		ret = gnutls_psk_allocate_server_credentials(&d->psk);
		if (ret < 0)
			return -ENOMEM;
		gnutls_psk_set_server_credentials_function(d->psk, psk_key);
	} else {
		d->legacy = &legacy_ciphers[w->dtls_legacy];
		prio = talloc_asprintf(d, "%s%s", d->legacy->prio, LEGACY_PRIO_SUFFIX);
	}
	ret = gnutls_priority_init2(&d->prio, prio, &err, 0);
	if (ret < 0) {
		log_err("DTLS priorities near '%s': %s", err ? err : "", gnutls_strerror(ret));
		return -EINVAL;
	}
	t->dtls = d;
	return 0;
}

bool dtls_ready(const struct tunnel *t)
{
	return t->dtls && t->dtls->usable && t->dtls->active;
}

int dtls_send_packet(struct tunnel *t, uint8_t *buf, size_t len, uint8_t type)
{
	struct dtls_chan *d = t->dtls;
	ssize_t n;

	if (!dtls_ready(t))
		return -EAGAIN;
	dtls_frame_put(buf, type, len);
	n = gnutls_record_send(d->active->s, buf, len + 1);
	if (n >= 0)
		return 0;
	if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
		return 0; /* a full socket buffer drops the datagram, as the network would */
	if (n == GNUTLS_E_LARGE_PACKET)
		return -EAGAIN; /* too big for a datagram: this one goes over TLS */
	drop_active(d, gnutls_strerror((int)n));
	return -EAGAIN;
}

void dtls_tick(struct tunnel *t, ev_tstamp now)
{
	struct dtls_chan *d = t->dtls;

	if (d->usable && now - d->last_rx > t->w->init->switch_to_tcp_timeout) {
		log_debug("no DTLS packet for %u s: sending over TLS",
			  t->w->init->switch_to_tcp_timeout);
		d->usable = false;
	}
}

ev_tstamp dtls_next_check(const struct tunnel *t)
{
	const struct dtls_chan *d = t->dtls;

	return d->usable ? d->last_rx + t->w->init->switch_to_tcp_timeout + 0.001 : HUGE_VAL;
}

void dtls_cstp_data_seen(struct tunnel *t)
{
	/* The client sends data over TLS when its DTLS failed: answer the same way until
	 * DTLS is heard from again. */
	if (t->dtls)
		t->dtls->usable = false;
}

const char *dtls_cipher(const struct tunnel *t)
{
	return t->dtls && t->dtls->active ? t->dtls->cipher : "";
}

void dtls_rx_pause(struct tunnel *t, bool pause)
{
	struct dtls_slot *sl = t->dtls->active;

	if (!sl)
		return;
	if (pause) {
		ev_io_stop(t->w->loop, &sl->io);
		return;
	}
	ev_io_start(t->w->loop, &sl->io);
	/* Datagrams left in the batch do not wake the loop. */
	ev_feed_event(t->w->loop, &sl->io, EV_READ);
}

void dtls_flush(struct tunnel *t)
{
	if (t->dtls->active)
		slot_flush(t->dtls->active);
}
