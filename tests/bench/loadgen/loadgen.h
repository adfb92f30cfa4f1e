/* sluice-loadgen: one process that logs in and holds many OpenConnect sessions at once,
 * for the scale benchmark (issue 16). Every session speaks what openconnect 9.01 sends
 * (protocol.md §2-5): TLS, the XML aggregate-auth login, CONNECT, CSTP keepalives and
 * DPD, optionally PSK-NEGOTIATE DTLS, and optionally a ping through its tunnel. */
#ifndef SLUICE_LOADGEN_H
#define SLUICE_LOADGEN_H

#include <ev.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <talloc.h>

/* Why a session ended before the run did; each is counted once per failed attempt. */
enum fail_cause {
	F_CONNECT,         /* TCP connect refused, unreachable or timed out */
	F_TLS,             /* TLS handshake or server verification failed */
	F_LOGIN_REFUSED,   /* the server refused the user name and password */
	F_NO_COOKIE,       /* a login success without a webvpn cookie */
	F_CONNECT_REFUSED, /* CONNECT answered with anything but 200 */
	F_TUNNEL_CLOSED,   /* the server ended an established tunnel */
	F_DPD_TIMEOUT,     /* nothing received for twice the DPD interval */
	F_PING_LOST,       /* too many pings in a row unanswered */
	F_PROTOCOL,        /* an answer this client cannot parse, or that is too large */
	F_TIMEOUT,         /* the login did not finish within --login-timeout */
	F_COUNT
};

extern const char *const fail_names[F_COUNT];

/* Bounds: everything a session holds is sized here. */
#define LG_BUF_MAX      8192 /* receive buffer: an HTTP answer, or CSTP frames */
#define LG_OUT_MAX      4096 /* one pending request or frame */
#define LG_AUTH_STEPS   6    /* forms answered before giving up */
#define LG_JAR_MAX      8    /* cookies kept from Set-Cookie */
#define LG_COOKIE_MAX   512  /* the longest cookie kept */
#define LG_MAX_SESSIONS 100000
#define LG_MAX_SOURCES  131072 /* all of 198.18.0.0/15 */
#define LG_MAX_DURATION 3600
#define LG_MAX_RETRY    10

struct options {
	struct sockaddr_in server;
	const char *host;     /* Host header and the name a CA check verifies */
	uint8_t pin_spki[32]; /* pin-sha256: SHA-256 of the SubjectPublicKeyInfo */
	uint8_t pin_cert[32]; /* sha256: SHA-256 of the certificate's DER */
	bool has_pin_spki, has_pin_cert;
	const char *cafile;
	const char *priority;
	const char *path; /* of the URL a user would give: where the login starts */
	const char *user, *password, *group;
	unsigned users; /* user names user0..user{N-1} when > 0 */
	struct in_addr *sources;
	size_t n_sources;
	unsigned sessions, rate, duration, retry, login_timeout, progress;
	double ping_share, bad_password_share;
	struct in_addr ping_target;
	bool has_ping_target;
	unsigned ping_interval, ping_loss_limit;
	bool dtls, json;
};

struct stats {
	unsigned started;     /* login attempts begun, retries included */
	unsigned established; /* attempts that got a tunnel */
	unsigned held;        /* tunnels up now */
	unsigned peak_held;
	unsigned held_at_end; /* tunnels up when the run ended, before the logout */
	double ramp_s;        /* from the start to the last tunnel established */
	unsigned failed[F_COUNT];
	unsigned retries;
	unsigned logged_out; /* tunnels ended by our DISCONNECT at the end */
	unsigned dtls_up, dtls_failed;
	uint64_t pings_sent, pings_answered;
	double *latency_ms; /* one per established attempt */
	size_t n_latency, max_latency;
};

struct session;

struct loadgen {
	struct options opt;
	struct ev_loop *loop;
	gnutls_certificate_credentials_t cred;
	gnutls_priority_t prio, dtls_prio;
	struct session **sess;
	unsigned next; /* the next session index to start */
	ev_tstamp t0;
	ev_timer ramp, progress, end;
	ev_signal sigint, sigterm;
	bool stopping;
	unsigned open; /* sockets open, TCP and UDP */
	struct stats st;
	unsigned last_established;
	ev_tstamp last_progress;
};

/* session.c */
struct session *session_new(struct loadgen *lg, unsigned idx);
void session_start(struct session *s);
/* Ends the session at the end of the run: DISCONNECT if its tunnel is up. */
void session_logout(struct session *s);

/* report.c */
void report_progress(struct loadgen *lg);
void report_final(struct loadgen *lg, FILE *out);
void stats_latency(struct loadgen *lg, double ms);

#endif
