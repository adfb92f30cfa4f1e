/* sluice-worker: one exec'd, unprivileged, sandboxed process per client connection.
 * Fixed fd layout, set up by main before exec: */
#ifndef SLUICE_WORKER_H
#define SLUICE_WORKER_H

#include <ev.h>
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <talloc.h>

#include "ipc/ipc.h"
#include "ipc/main_worker.pb-c.h"
#include "worker/camouflage.h"
#include "worker/cstp.h"

#define WORKER_FD_CLIENT 3 /* the accepted TCP connection */
#define WORKER_FD_MAIN   4 /* SEQPACKET channel to main (main_worker.proto) */
#define WORKER_FD_SEC    5 /* SEQPACKET channel to sec (sec_worker.proto) */

#define WORKER_MAIN_MAX_PAYLOAD (32 * 1024)
/* MW_INIT: certificates, the group choices and a user-profile (main/profile.h) */
#define WORKER_INIT_MAX_PAYLOAD (64 * 1024)
#define WORKER_SEC_MAX_PAYLOAD  4096
/* CSTP bytes the client may send together with its CONNECT request. */
#define WORKER_EARLY_MAX (2 * 16384)

/* The worker's states, as seen on its main channel. */
enum worker_state {
	WK_AUTH = 1 << 0,
	WK_WAIT = 1 << 1,
	WK_TUNNEL = 1 << 2,
};

/* Largest client certificate (DER) relayed to sec (sec.h: SEC_CERT_MAX). */
#define WORKER_CERT_MAX 16384

struct worker {
	MwInit *init; /* start-up state from main, kept for the lifetime */
	struct ev_loop *loop;
	int client_fd;
	struct ipc_channel main_ch;
	int sec_fd;
	enum worker_state state;
	struct camouflage camo;
	bool camo_passed; /* a request of this connection passed camouflage */
	char *http_headers; /* included-http-headers as "Name: value\r\n" lines; NULL: none */

	/* TLS */
	gnutls_session_t tls;
	gnutls_certificate_credentials_t creds;
	gnutls_priority_t prio;
	gnutls_pk_algorithm_t pk;
	unsigned pk_bits;
	double auth_deadline; /* ev_time() by which the tunnel must be up */
	unsigned link_mtu;    /* path MTU of the TCP connection */
	bool has_client_cert;  /* the client presented a certificate (sec checks it) */
	bool cert_login_tried; /* SW_CERT_LOGIN was sent on this connection */
	bool more_pending;     /* sec asks for a second form: the one-time password, or */
	char *more_label;      /* what a backend asks (NULL for the one-time password), */
	bool more_echo;        /* shown as typed */
	bool profile_asked;    /* SW_COOKIE_CHECK was sent on this connection */
	char *profile_cookie;  /* the session cookie sec accepted for the client profile */

	/* tunnel, once main granted it */
	bool tunnel_answered;
	unsigned fail_code;
	char *fail_reason;
	char *sid;
	char *username;
	char *groupname;
	char *device;
	bool has_ip4, has_ip6;      /* the session's address families */
	struct in_addr vpn_ip;
	char *vpn_netmask;
	struct cstp_net6 vpn_net6;  /* the client's IPv6 prefix */
	char *vpn_ip6;              /* the client's IPv6 address, as main gave it */
	bool full_ipv6;             /* the client takes X-CSTP-*-IP6 headers */
	MwTunnelOk *sess;           /* the session's settings from main */
	struct cstp_net *iroutes;   /* networks behind the client: allowed sources */
	size_t n_iroutes;
	struct cstp_net6 *iroutes6;
	size_t n_iroutes6;
	struct cstp_dest_filter *restrict_to; /* restrict-user-to-routes; NULL: off */
	int tun_fd;
	unsigned mtu;
	unsigned base_mtu;
	bool mobile;
	uint8_t dtls_id[32];         /* from main: App-ID or Session-ID */
	bool has_dtls_id;
	int dtls_mode;               /* enum dtls_mode in dtls.c; 0 = off */
	unsigned dtls_legacy;        /* index of the legacy cipher */
	uint8_t dtls_key[48];        /* PSK or legacy master secret */
	/* compression = true: the method of each channel (compress.h); NULL: none */
	const struct comp_method *cstp_comp, *dtls_comp;
	uint8_t *early; /* CSTP bytes that arrived with the CONNECT request */
	size_t n_early;
};

/* tls.c */
int tls_init(struct worker *w);
int tls_handshake(struct worker *w);
/* Sends all of buf as TLS records (blocking, for the HTTP phase). */
int tls_send_all(struct worker *w, const void *buf, size_t len);
/* The session's idle-timeout: mobile-idle-timeout for a mobile client, when set. */
unsigned worker_idle_timeout(const struct worker *w);
/* Receives one record or part of it, waiting until the auth deadline. */
ssize_t tls_recv_deadline(struct worker *w, void *buf, size_t cap);

/* profile.c: a GET of the client profile (user-profile) under /profiles/. */
bool worker_profile_path(const char *path);
struct http_request;
/* Answers it; 1 to keep the connection, 0 to close it, negative on failure. */
int worker_profile_get(struct worker *w, const struct http_request *req);

/* template.c: runs the template; returns only in a newly forked worker. */
void template_run(char *mode_arg);

/* tunnel.c: runs the CSTP loop until the session ends; returns the exit code. */
int tunnel_run(struct worker *w);

/* connect_reply.c: the headers of the answer to a granted CONNECT */
char *worker_connect_headers(struct worker *w);
/* Appends "name: value\r\n" to the talloc string *h. */
void worker_add_header(char **h, const char *name, const char *value);

/* worker.c */
int worker_on_tunnel_ok(void *ctx, void *msg, int *fds);
int worker_on_tunnel_fail(void *ctx, void *msg, int *fds);
int worker_on_terminate(void *ctx, void *msg, int *fds);
int worker_on_limits(void *ctx, void *msg, int *fds); /* shaping.c */
void worker_exit(struct worker *w, int code) __attribute__((noreturn));

#endif
