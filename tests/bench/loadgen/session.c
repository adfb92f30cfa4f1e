/* One session's life: TCP connect from its source address, TLS with the server checked,
 * the login, CONNECT; then tunnel.c. Every wait has a deadline (the session's timer);
 * every failure is counted once by its cause and closes what the session holds. */
#include "config.h"
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>
#include <netinet/ip.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

const char *const fail_names[F_COUNT] = {
    [F_CONNECT] = "connect",
    [F_TLS] = "tls",
    [F_LOGIN_REFUSED] = "login_refused",
    [F_NO_COOKIE] = "no_cookie",
    [F_CONNECT_REFUSED] = "connect_refused",
    [F_TUNNEL_CLOSED] = "tunnel_closed",
    [F_DPD_TIMEOUT] = "dpd_timeout",
    [F_PING_LOST] = "ping_lost",
    [F_PROTOCOL] = "protocol",
    [F_TIMEOUT] = "login_timeout",
};

#define RETRY_DELAY 1.0

static void on_io(struct ev_loop *loop, ev_io *w, int revents);
static void on_timer(struct ev_loop *loop, ev_timer *w, int revents);

/* Whether session IDX is one of the first share*N: spreads a share evenly. */
static bool in_share(unsigned idx, double share)
{
	return (unsigned)((idx + 1) * share) > (unsigned)(idx * share);
}

struct session *session_new(struct loadgen *lg, unsigned idx)
{
	struct session *s = talloc_zero(lg, struct session);

	if (!s)
		return NULL;
	s->lg = lg;
	s->idx = idx;
	s->fd = -1;
	s->pinger = lg->opt.has_ping_target && in_share(idx, lg->opt.ping_share);
	s->bad_password = in_share(idx, lg->opt.bad_password_share);
	s->src = lg->opt.sources[idx % lg->opt.n_sources];
	ev_init(&s->io, on_io);
	ev_init(&s->timer, on_timer);
	s->io.data = s->timer.data = s;
	return s;
}

static void set_io(struct session *s, int events)
{
	if (s->io.events == events && ev_is_active(&s->io))
		return;
	ev_io_stop(s->lg->loop, &s->io);
	ev_io_set(&s->io, s->fd, events);
	ev_io_start(s->lg->loop, &s->io);
}

static void set_deadline(struct session *s, ev_tstamp at)
{
	ev_tstamp d = at - ev_now(s->lg->loop);

	ev_timer_stop(s->lg->loop, &s->timer);
	ev_timer_set(&s->timer, d > 0 ? d : 0, 0.);
	ev_timer_start(s->lg->loop, &s->timer);
}

void session_rearm(struct session *s)
{
	set_deadline(s, tunnel_deadline(s));
}

/* Closes what the session holds; counts nothing. */
static void session_close(struct session *s)
{
	struct loadgen *lg = s->lg;

	ev_io_stop(lg->loop, &s->io);
	ev_timer_stop(lg->loop, &s->timer);
	tunnel_close(s);
	if (s->tls) {
		gnutls_deinit(s->tls);
		s->tls = NULL;
	}
	if (s->fd >= 0) {
		close(s->fd);
		s->fd = -1;
		lg->open--;
	}
	if (s->state == SS_TUNNEL)
		lg->st.held--;
	for (size_t i = 0; i < LG_JAR_MAX; i++)
		TALLOC_FREE(s->jar[i]);
	TALLOC_FREE(s->webvpn);
	s->len = s->out_len = 0;
	/* what the last CONNECT answer said must not carry over to a retry */
	s->addr.s_addr = 0;
	s->keepalive = s->dpd = s->base_mtu = 0;
	s->dtls_port = s->dtls_keepalive = s->dtls_dpd = 0;
	s->app_id_len = 0;
	s->dtls_psk = false;
	s->auth_steps = 0;
	s->sent_password = false;
	s->ping_waiting = false;
	s->ping_missed = 0;
}

void session_fail(struct session *s, enum fail_cause cause)
{
	struct loadgen *lg = s->lg;

	session_close(s);
	lg->st.failed[cause]++;
	/* --retry: a new attempt after a pause; a wrong password on purpose is not retried */
	if (!lg->stopping && s->attempts <= lg->opt.retry && !s->bad_password) {
		s->state = SS_IDLE;
		lg->st.retries++;
		set_deadline(s, ev_now(lg->loop) + RETRY_DELAY);
		return;
	}
	s->state = SS_DONE;
}

void session_logout(struct session *s)
{
	if (s->state == SS_TUNNEL) {
		tunnel_disconnect(s);
		s->lg->st.logged_out++;
	}
	session_close(s);
	s->state = SS_DONE;
}

int session_tls_send(struct session *s, const void *data, size_t len)
{
	ssize_t r;

	if (s->out_len)
		return -EAGAIN; /* one write waits already: this one is dropped */
	if (len > sizeof(s->out))
		return -EMSGSIZE;
	do {
		r = gnutls_record_send(s->tls, data, len);
	} while (r == GNUTLS_E_INTERRUPTED);
	if (r == GNUTLS_E_AGAIN) {
		memcpy(s->out, data, len);
		s->out_len = len;
		set_io(s, EV_READ | EV_WRITE);
		return 0;
	}
	if (r < 0)
		return -EIO;
	s->last_tx = ev_now(s->lg->loop);
	return 0;
}

/* Repeats the write GnuTLS asked for, with the same data. */
static int flush_out(struct session *s)
{
	ssize_t r = gnutls_record_send(s->tls, s->out, s->out_len);

	if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
		return 0;
	if (r < 0)
		return -EIO;
	s->out_len = 0;
	s->last_tx = ev_now(s->lg->loop);
	set_io(s, EV_READ);
	return 0;
}

/* Sends a request built on a temporary context; fails the session with CAUSE if it
 * cannot be sent. Returns 0 or -1. */
static int send_request(struct session *s, char *req, enum fail_cause cause)
{
	int ret = req ? session_tls_send(s, req, strlen(req)) : -ENOMEM;

	talloc_free(req);
	if (ret < 0) {
		session_fail(s, cause);
		return -1;
	}
	return 0;
}

/* --- TCP and TLS ------------------------------------------------------------------- */

void session_start(struct session *s)
{
	struct loadgen *lg = s->lg;
	struct sockaddr_in src = {.sin_family = AF_INET, .sin_addr = s->src};
	int one = 1;

	s->attempts++;
	lg->st.started++;
	/* ev_time(), not the loop's cached time: a ramp starts many sessions at once */
	s->t_start = ev_time();
	s->state = SS_TCP;
	s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		session_fail(s, F_CONNECT);
		return;
	}
	lg->open++;
	/* The port is chosen at connect, per destination: many sessions per source address
	 * then share the ephemeral range. */
	setsockopt(s->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
	if (bind(s->fd, (struct sockaddr *)&src, sizeof(src)) < 0 ||
	    (connect(s->fd, (struct sockaddr *)&lg->opt.server, sizeof(lg->opt.server)) < 0 &&
	     errno != EINPROGRESS)) {
		session_fail(s, F_CONNECT);
		return;
	}
	set_io(s, EV_WRITE);
	set_deadline(s, s->t_start + lg->opt.login_timeout);
}

static int start_tls(struct session *s)
{
	struct loadgen *lg = s->lg;
	struct in_addr dummy;

	if (gnutls_init(&s->tls, GNUTLS_CLIENT | GNUTLS_NONBLOCK) < 0)
		return -ENOMEM;
	if (gnutls_priority_set(s->tls, lg->prio) < 0 ||
	    gnutls_credentials_set(s->tls, GNUTLS_CRD_CERTIFICATE, lg->cred) < 0)
		return -EINVAL;
	/* SNI only for a name, as openconnect does */
	if (inet_pton(AF_INET, lg->opt.host, &dummy) != 1)
		gnutls_server_name_set(s->tls, GNUTLS_NAME_DNS, lg->opt.host, strlen(lg->opt.host));
	if (lg->opt.cafile)
		gnutls_session_set_verify_cert(s->tls, lg->opt.host, 0);
	gnutls_transport_set_int(s->tls, s->fd);
	s->state = SS_TLS;
	return 0;
}

/* The pins the command line gave: the key's SubjectPublicKeyInfo, the certificate. */
static int check_pins(struct session *s)
{
	const struct options *o = &s->lg->opt;
	unsigned n = 0;
	const gnutls_datum_t *certs = gnutls_certificate_get_peers(s->tls, &n);
	uint8_t h[32];
	gnutls_x509_crt_t crt = NULL;
	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t spki = {NULL, 0};
	int ret = -EPERM;

	if (!certs || n == 0)
		return -EPERM;
	if (o->has_pin_cert) {
		if (gnutls_hash_fast(GNUTLS_DIG_SHA256, certs[0].data, certs[0].size, h) < 0 ||
		    memcmp(h, o->pin_cert, 32) != 0)
			return -EPERM;
	}
	if (!o->has_pin_spki)
		return 0;
	if (gnutls_x509_crt_init(&crt) < 0 || gnutls_pubkey_init(&pub) < 0)
		goto out;
	if (gnutls_x509_crt_import(crt, &certs[0], GNUTLS_X509_FMT_DER) < 0 ||
	    gnutls_pubkey_import_x509(pub, crt, 0) < 0 ||
	    gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &spki) < 0)
		goto out;
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, spki.data, spki.size, h) == 0 &&
	    memcmp(h, o->pin_spki, 32) == 0)
		ret = 0;
out:
	gnutls_free(spki.data);
	if (pub)
		gnutls_pubkey_deinit(pub);
	if (crt)
		gnutls_x509_crt_deinit(crt);
	return ret;
}

static void on_tcp(struct session *s)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0) {
		session_fail(s, F_CONNECT);
		return;
	}
	if (start_tls(s) < 0) {
		session_fail(s, F_TLS);
		return;
	}
	set_io(s, EV_READ | EV_WRITE);
}

static void on_handshake(struct session *s)
{
	int r = gnutls_handshake(s->tls);

	if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
		set_io(s, gnutls_record_get_direction(s->tls) ? EV_WRITE : EV_READ);
		return;
	}
	if (r < 0 || check_pins(s) < 0) {
		session_fail(s, F_TLS);
		return;
	}
	set_io(s, EV_READ);
	s->state = SS_AUTH;
	send_request(s, auth_init_request(s, s), F_PROTOCOL);
}

/* --- login and CONNECT ----------------------------------------------------------- */

/* Drops the first N bytes of the receive buffer. */
static void consume(struct session *s, size_t n)
{
	memmove(s->buf, s->buf + n, s->len - n);
	s->len -= n;
}

static void on_auth_answer(struct session *s)
{
	struct http_answer a;
	enum fail_cause cause;
	char *req = NULL;
	int r = http_parse(s->buf, s->len, true, &a);

	if (r <= 0) {
		if (r < 0)
			session_fail(s, F_PROTOCOL);
		return;
	}
	switch (auth_on_answer(s, s->buf, &a, &req, &cause)) {
	case AUTH_REPLY:
		consume(s, a.hdr_len + a.body_len);
		send_request(s, req, F_PROTOCOL);
		break;
	case AUTH_SUCCESS:
		consume(s, a.hdr_len + a.body_len);
		s->state = SS_CONNECT;
		send_request(s, connect_request(s, s), F_PROTOCOL);
		break;
	case AUTH_FAILED:
		session_fail(s, cause);
		break;
	}
}

static int connect_header(struct session *s, const char *name, const char *value)
{
	return tunnel_parse_header(s, name, value);
}

static void on_connect_answer(struct session *s)
{
	struct http_answer a;
	int r = http_parse(s->buf, s->len, false, &a);

	if (r <= 0) {
		if (r < 0)
			session_fail(s, F_PROTOCOL);
		return;
	}
	/* openconnect takes exactly "HTTP/1.1 200 " */
	if (memcmp(s->buf, "HTTP/1.1 200 ", 13) != 0) {
		session_fail(s, F_CONNECT_REFUSED);
		return;
	}
	if (http_each_header(s->buf, &a, connect_header, s) != 0 || s->addr.s_addr == 0) {
		session_fail(s, F_PROTOCOL);
		return;
	}
	consume(s, a.hdr_len);
	tunnel_begin(s);
}

/* An end of the TLS stream, by state. */
static void on_eof(struct session *s)
{
	static const enum fail_cause by_state[] = {[SS_AUTH] = F_PROTOCOL,
						   [SS_CONNECT] = F_CONNECT_REFUSED,
						   [SS_TUNNEL] = F_TUNNEL_CLOSED};

	session_fail(s, by_state[s->state]);
}

/* Reads what TLS has, a bounded number of records per wake-up. */
static void on_readable(struct session *s)
{
	for (int i = 0; s->state >= SS_AUTH && s->state <= SS_TUNNEL; i++) {
		enum sess_state before = s->state;
		ssize_t r;

		/* Enough for one wake-up. What GnuTLS has read from the socket already would
		 * not wake us again: come back for it in the next loop iteration. */
		if (i == 32) {
			if (gnutls_record_check_pending(s->tls))
				ev_feed_event(s->lg->loop, &s->io, EV_READ);
			return;
		}
		if (s->len == sizeof(s->buf)) {
			session_fail(s, F_PROTOCOL);
			return;
		}
		r = gnutls_record_recv(s->tls, s->buf + s->len, sizeof(s->buf) - s->len);
		if (r == GNUTLS_E_AGAIN)
			return;
		if (r == GNUTLS_E_INTERRUPTED)
			continue;
		if (r == 0 || (r < 0 && gnutls_error_is_fatal((int)r))) {
			on_eof(s);
			return;
		}
		if (r < 0)
			continue; /* a warning alert, a key update: nothing to read */
		s->len += (size_t)r;
		s->last_rx = ev_now(s->lg->loop);
		if (s->state == SS_AUTH)
			on_auth_answer(s);
		if (s->state == SS_CONNECT && before == SS_CONNECT)
			on_connect_answer(s);
		if (s->state == SS_TUNNEL)
			tunnel_on_data(s);
	}
}

static void on_io(struct ev_loop *loop, ev_io *w, int revents)
{
	struct session *s = w->data;

	(void)loop;
	switch (s->state) {
	case SS_TCP:
		on_tcp(s);
		return;
	case SS_TLS:
		on_handshake(s);
		return;
	case SS_AUTH:
	case SS_CONNECT:
	case SS_TUNNEL:
		if ((revents & EV_WRITE) && s->out_len && flush_out(s) < 0) {
			on_eof(s);
			return;
		}
		if (revents & EV_READ)
			on_readable(s);
		return;
	default:
		ev_io_stop(s->lg->loop, w);
	}
}

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct session *s = w->data;

	(void)loop;
	(void)revents;
	switch (s->state) {
	case SS_IDLE:
		session_start(s);
		return;
	case SS_TCP:
		session_fail(s, F_CONNECT);
		return;
	case SS_TLS:
	case SS_AUTH:
	case SS_CONNECT:
		session_fail(s, F_TIMEOUT);
		return;
	case SS_TUNNEL:
		tunnel_tick(s);
		return;
	case SS_DONE:
		return;
	}
}
