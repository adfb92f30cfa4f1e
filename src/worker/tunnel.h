/* The tunnel loop's state, shared by the CSTP (tunnel.c) and DTLS (dtls.c) paths. */
#ifndef SLUICE_TUNNEL_H
#define SLUICE_TUNNEL_H

#include "worker/bucket.h"
#include "worker/cstp.h"
#include "worker/tlsbuf.h"
#include "worker/worker.h"

#define DRAIN_MAX 64                /* packets or records handled per wakeup and fd */
#define RX_CAP (2 * CSTP_MAX_FRAME) /* a partial frame plus one whole TLS record */
_Static_assert(WORKER_EARLY_MAX <= RX_CAP, "early CSTP bytes must fit the receive buffer");

struct dtls_chan;
struct http_request;

struct tunnel {
	struct worker *w;
	ev_io tls_rd, tls_wr, tun_rd, main_rd;
	ev_timer tick;
	uint8_t *rx;         /* RX_CAP bytes */
	size_t rx_len;
	uint8_t *tx;         /* CSTP_MAX_FRAME bytes: the frame being sent */
	size_t tx_len;
	bool tx_pending;
	struct tlsbuf io;    /* batches the TLS socket's reads and writes */
	bool blocked;        /* the socket is full: TUN reads wait */
	ev_tstamp last_rx;   /* any frame from the client (DPD) */
	ev_tstamp last_data; /* any data packet either way (idle timeout) */
	ev_tstamp last_stats;
	ev_tstamp last_dpd_sent;
	uint64_t bytes_in, bytes_out, spoofed;
	uint64_t route_dropped; /* to outside the routes (restrict-user-to-routes) */
	unsigned dpd;
	int end_reason; /* 0 while running */
	int exit_code;
	struct dtls_chan *dtls; /* NULL when the session has no DTLS */
	/* rx-data-per-sec and tx-data-per-sec (rate 0: unlimited); a direction's timer
	 * runs while its reading is paused. */
	struct bucket rx_bw, tx_bw;
	ev_timer rx_wait, tx_wait;
	ev_tstamp last_rekey;   /* rekey-time: the tunnel's start or its last key update */
	bool rekey_again;       /* a key update returned EAGAIN: it must be called again */
	unsigned key_updates;
	char *tls_cipher; /* for main's show user */
	/* Allocated only when a channel compresses: a compressed packet, after room for a
	 * frame header (CSTP_MAX_FRAME), and a packet decompressed (COMP_MAX_PACKET). */
	uint8_t *zbuf;
	uint8_t *unz;
};

/* A packet from the client (either channel) goes to the TUN device if its source is
 * the client's own address and, with restrict-user-to-routes, its destination is one
 * of the session's routes. */
void tunnel_deliver(struct tunnel *t, const uint8_t *pkt, size_t len);
/* The same for a COMPRESSED frame of that channel's method; a frame that does not
 * decompress, or one on a channel without compression, ends the session. */
void tunnel_deliver_compressed(struct tunnel *t, const struct comp_method *m, const uint8_t *z,
			       size_t len);
void tunnel_end(struct tunnel *t, int reason, int exit_code);
/* Arms the tunnel's timer for its next deadline; after anything that brings one nearer
 * than traffic does (DTLS becoming usable). */
void tunnel_timer_update(struct tunnel *t);
/* rekey-time with rekey-method = ssl under TLS 1.3: the worker renews the keys with a
 * TLS key update every rekey-time seconds (the client too: it is asked to). */
bool tunnel_key_update_applies(const struct worker *w);
/* Writes out the records queued by this wakeup (TLS and DTLS). */
void tunnel_flush(struct tunnel *t);

/* shaping.c: rx-data-per-sec and tx-data-per-sec */
void shaping_start(struct tunnel *t);
/* Charge len bytes moved in that direction; only called when its rate is set. True
 * when its bucket is empty: reading that direction is paused (the caller stops its
 * drain loop) until a timer resumes it. */
bool shaping_tx_spent(struct tunnel *t, size_t len);
bool shaping_rx_spent(struct tunnel *t, size_t len);
bool shaping_tx_paused(const struct tunnel *t);
bool shaping_rx_paused(const struct tunnel *t);

/* dtls.c */
/* DTLS overhead per packet (record and payload header) with AES-GCM. */
#define DTLS_AES_GCM_OVERHEAD 38
/* Chooses the DTLS mode the CONNECT request allows and derives its key; returns the
 * per-packet overhead of the chosen cipher, or 0 when DTLS is not offered. */
unsigned dtls_choose(struct worker *w, const struct http_request *req);
/* Appends the X-DTLS-* headers of the chosen mode (none when DTLS is off). */
void dtls_headers(struct worker *w, char **headers);
int dtls_start(struct tunnel *t);
int worker_on_udp(void *ctx, void *msg, int *fds);
/* DTLS carries packets now (else they go over CSTP). */
bool dtls_ready(const struct tunnel *t);
/* Sends one packet (at buf + 1, with one free byte before it) over DTLS as a frame of
 * that type (DATA or COMPRESSED); returns -EAGAIN when DTLS cannot take it now, so
 * that the caller uses CSTP. */
int dtls_send_packet(struct tunnel *t, uint8_t *buf, size_t len, uint8_t type);
void dtls_tick(struct tunnel *t, ev_tstamp now);
/* When dtls_tick() next has something to check; far in the future when nothing. */
ev_tstamp dtls_next_check(const struct tunnel *t);
void dtls_flush(struct tunnel *t);
void dtls_cstp_data_seen(struct tunnel *t);
const char *dtls_cipher(const struct tunnel *t);
/* Stops or resumes reading the established DTLS channel (rx-data-per-sec). */
void dtls_rx_pause(struct tunnel *t, bool pause);

#endif
