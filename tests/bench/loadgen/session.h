/* A session's state, shared by session.c (connect, TLS, login, CONNECT) and tunnel.c
 * (CSTP, DTLS, ping). */
#ifndef SLUICE_LOADGEN_SESSION_H
#define SLUICE_LOADGEN_SESSION_H

#include "loadgen.h"

/* Where a session can be; each waits for what its name says. */
enum sess_state {
	SS_IDLE,    /* not started yet, or waiting for its retry */
	SS_TCP,     /* the TCP connect */
	SS_TLS,     /* the TLS handshake */
	SS_AUTH,    /* an answer to the init or to a form reply */
	SS_CONNECT, /* the answer to CONNECT */
	SS_TUNNEL,  /* tunnel up: CSTP frames */
	SS_DONE,    /* closed for good: failed, or logged out */
};

struct dtls_chan;

struct session {
	struct loadgen *lg;
	unsigned idx;
	enum sess_state state;
	int fd;
	gnutls_session_t tls;
	ev_io io;
	ev_timer timer;    /* the next deadline of whatever the state waits for */
	ev_tstamp t_start; /* TCP connect began: the login latency's start */
	unsigned attempts;
	bool pinger, bad_password;
	struct in_addr src;

	/* receive side: an HTTP answer or a stream of CSTP frames */
	uint8_t buf[LG_BUF_MAX];
	size_t len;
	/* one write GnuTLS returned EAGAIN for; it must be repeated as it was */
	uint8_t out[LG_OUT_MAX];
	size_t out_len;

	/* login */
	unsigned auth_steps;
	bool sent_password;
	char *jar[LG_JAR_MAX]; /* cookies the server set, "name=value" */
	char *webvpn, *action, *opaque;

	/* tunnel */
	struct in_addr addr;
	unsigned keepalive, dpd, base_mtu;
	ev_tstamp last_rx, last_tx, dpd_sent;
	unsigned dtls_port, dtls_keepalive, dtls_dpd;
	uint8_t app_id[32];
	size_t app_id_len;
	bool dtls_psk;
	struct dtls_chan *dtls;

	/* ping */
	uint16_t ping_seq;
	bool ping_waiting;
	ev_tstamp next_ping;
	unsigned ping_missed;
};

/* session.c */
void session_fail(struct session *s, enum fail_cause cause);
/* Sends one TLS record; 0, or a negative errno (the session is then failed). */
int session_tls_send(struct session *s, const void *data, size_t len);
void session_rearm(struct session *s);

/* tunnel.c */
int tunnel_parse_header(struct session *s, const char *name, const char *value);
void tunnel_begin(struct session *s);
void tunnel_on_data(struct session *s);
/* The next time tunnel_tick() has something to do. */
ev_tstamp tunnel_deadline(struct session *s);
void tunnel_tick(struct session *s);
void tunnel_disconnect(struct session *s);
void tunnel_close(struct session *s);
/* A tunnel packet from either channel: the answer to this session's ping? */
void tunnel_on_packet(struct session *s, const uint8_t *pkt, size_t len);

/* dtls.c: the PSK-NEGOTIATE channel beside CSTP (protocol.md §5.3) */
int dtls_start(struct session *s);
bool dtls_up(const struct session *s);
/* Sends one DTLS record: TYPE and the payload. */
int dtls_send(struct session *s, uint8_t type, const void *payload, size_t len);
ev_tstamp dtls_deadline(struct session *s);
void dtls_tick(struct session *s);
void dtls_close(struct session *s);

#endif
