#include "config.h"

#include "sec/sec.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "common/log.h"
#include "ipc/main_sec.pb-c.h"
#include "ipc/main_sec.routes.h"
#include "ipc/sec_worker.pb-c.h"
#include "ipc/sec_worker.routes.h"

/* MS_RELOAD: five paths and the priority string of up to 1024 bytes each, and more. */
#define SEC_MAIN_MAX_PAYLOAD   8192
/* A client certificate is the largest thing a worker sends. */
#define SEC_WORKER_MAX_PAYLOAD (SEC_CERT_MAX + 1024)
#define SEC_MAIN_RUNNING           1u

static int sec_on_worker_new(void *ctx, void *msg, int *fds);

static const struct ipc_route sec_from_main[] = {
    IPC_ROUTE_MS_WORKER_NEW(sec_on_worker_new),
    IPC_ROUTE_MS_COOKIE_CHECK(sec_on_cookie_check),
    IPC_ROUTE_MS_SESSION_UP(sec_on_session_up),
    IPC_ROUTE_MS_SESSION_DOWN(sec_on_session_down),
    IPC_ROUTE_MS_RELOAD(sec_on_reload),
    IPC_ROUTE_MS_SESSION_LIST(sec_on_session_list),
    IPC_ROUTE_MS_ACCT(sec_on_acct),
    IPC_ROUTE_MS_ACCT_FLUSH(sec_on_acct_flush),
    IPC_ROUTE_MS_DAE_RESULT(sec_on_dae_result),
};

const struct ipc_route sec_from_worker[] = {
    IPC_ROUTE_SW_SIGN_REQ(sec_on_sign_req),
    IPC_ROUTE_SW_HANDSHAKE_DONE(sec_on_handshake_done),
    IPC_ROUTE_SW_AUTH_REQ(sec_on_auth_req),
    IPC_ROUTE_SW_CERT_LOGIN(sec_on_cert_login),
    IPC_ROUTE_SW_ANSWER_REQ(sec_on_answer_req),
    IPC_ROUTE_SW_COOKIE_CHECK(sec_on_worker_cookie_check),
};
const size_t sec_from_worker_n = sizeof(sec_from_worker) / sizeof(sec_from_worker[0]);

void sec_send_main(struct sec_ctx *sec, uint16_t type, const ProtobufCMessage *msg)
{
	int ret = ipc_send_queued(sec->main_ch.fd, &sec->main_q, type, msg, NULL, 0);

	/* Without main there is nothing left to serve. */
	if (ret < 0) {
		log_err("cannot send to main: %s; exiting", strerror(-ret));
		_exit(1);
	}
	if (!ipc_queue_empty(&sec->main_q))
		ev_io_start(sec->loop, &sec->main_wio);
}

static void main_writable(struct ev_loop *loop, ev_io *io, int revents)
{
	struct sec_ctx *sec = io->data;
	int ret = ipc_queue_flush(sec->main_ch.fd, &sec->main_q);

	if (ret == 0) {
		ev_io_stop(loop, io);
	} else if (ret != -EAGAIN) {
		log_err("cannot send to main: %s; exiting", strerror(-ret));
		_exit(1);
	}
}

static void sec_worker_free(struct sec_worker *w)
{
	sec_helpers_cancel(w);
	DL_DELETE(w->sec->workers, w);
	ev_io_stop(w->sec->loop, &w->io);
	close(w->ch.fd);
	talloc_free(w);
}

static void sec_worker_readable(struct ev_loop *loop, ev_io *io, int revents)
{
	sec_worker_poll(io->data);
}

void sec_worker_poll(struct sec_worker *w)
{
	int ret;

	for (;;) {
		ret = ipc_recv_dispatch(&w->ch, w->state, w);
		if (ret == -EAGAIN)
			return;
		if (ret == IPC_CLOSED) {
			sec_worker_free(w);
			return;
		}
		if (ret < 0) {
			/* Fail closed: a worker that breaks the contract loses its channel,
			 * which ends it; main sees the exit. */
			log_warn("worker %u (pid %u): %s; closing its channel", w->id, w->pid,
				 ipc_last_error());
			sec_worker_free(w);
			return;
		}
	}
}

static int sec_on_worker_new(void *ctx, void *msg, int *fds)
{
	struct sec_ctx *sec = ctx;
	MsWorkerNew *m = msg;
	struct sec_worker *w = talloc_zero(sec, struct sec_worker);
	struct sec_key *key = sec_key_for(sec, m->key_generation);
	char name[48];

	if (!w) {
		close(fds[0]);
		return -ENOMEM;
	}
	if (!key) {
		/* Two reloads within one spawn: the worker's certificate has no key left;
		 * without sec its handshake fails and it ends. */
		log_warn("worker %u: its certificate generation %u is no longer loaded", m->pid,
			 m->key_generation);
		talloc_free(w);
		close(fds[0]);
		return 0;
	}
	w->key = talloc_reference(w, key);
	w->sec = sec;
	w->id = m->worker_id;
	w->pid = m->pid;
	w->client_ip = talloc_strdup(w, m->client_ip);
	w->client_port = m->client_port;
	w->state = SECW_HANDSHAKE;
	snprintf(name, sizeof(name), "worker %u", m->pid);
	ipc_channel_init(&w->ch, fds[0], sec_from_worker, sec_from_worker_n,
			 SEC_WORKER_MAX_PAYLOAD, talloc_strdup(w, name));
	ev_io_init(&w->io, sec_worker_readable, fds[0], EV_READ);
	w->io.data = w;
	ev_io_start(sec->loop, &w->io);
	DL_PREPEND(sec->workers, w);
	return 0;
}

static void sec_main_readable(struct ev_loop *loop, ev_io *io, int revents)
{
	struct sec_ctx *sec = io->data;
	int ret;

	for (;;) {
		ret = ipc_recv_dispatch(&sec->main_ch, SEC_MAIN_RUNNING, sec);
		if (ret == -EAGAIN)
			return;
		if (ret == IPC_CLOSED) {
			log_info("main closed its channel; sec exits");
			_exit(0);
		}
		if (ret < 0) {
			log_err("message from main refused: %s; sec exits", ipc_last_error());
			_exit(1);
		}
	}
}

void sec_run(struct sluice_config *cfg, const char *cert_pem, size_t cert_len, int main_fd)
{
	struct sec_ctx *sec = talloc_zero(cfg, struct sec_ctx);
	int ret;

	/* sec dies with main, so a crashed main never leaves an orphan holding keys. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	log_set_prefix("sec: ");
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	sec->cfg = cfg;
	/* Before sec drops the capabilities some helpers need, and before any key. */
	if (sec_helpers_start(sec) < 0)
		_exit(1);
	/* Before the key is read, so that start-up reads it with the rights of a reload. */
	ret = sec_privdrop();
	if (ret < 0) {
		log_err("cannot drop privileges: %s", strerror(-ret));
		_exit(1);
	}
	if (ret == 1)
		log_notice("no CAP_SETPCAP: the capability bounding set stays as the service "
			   "manager left it");
	sec->cfg = cfg;
	/* Before the key is loaded, so that the helper's memory never held it. */
	if (sec_otp_start(sec) < 0)
		_exit(1);
	sec->loop = ev_loop_new(EVFLAG_AUTO);
	/* The DAE helper binds its port and reads its secret before any key is loaded. */
	if (!sec->loop || sec_dae_start(sec) < 0 || sec_keys_load(sec) < 0 ||
	    sec_keys_check_cert(sec, cert_pem, cert_len) < 0 || sec_certs_reload(sec) < 0)
		_exit(1);
	/* Before the first message from main: from here on sec serves. */
	ret = sec_sandbox_install();
	if (ret < 0) {
		log_err("cannot install the seccomp filter: %s", strerror(-ret));
		_exit(1);
	}
	{
		MsSecReady ready = MS_SEC_READY__INIT;

		ready.has_cert_pem = sec->token_cert != NULL;
		ready.cert_pem.data = (uint8_t *)sec->token_cert;
		ready.cert_pem.len = sec->token_cert_len;
		if (ipc_send(main_fd, MS_TYPE__MS_SEC_READY, &ready.base, NULL, 0) < 0)
			_exit(1);
		TALLOC_FREE(sec->token_cert);
	}
	ipc_channel_init(&sec->main_ch, main_fd, sec_from_main,
			 sizeof(sec_from_main) / sizeof(sec_from_main[0]), SEC_MAIN_MAX_PAYLOAD,
			 "main");
	ev_io_init(&sec->main_io, sec_main_readable, main_fd, EV_READ);
	sec->main_io.data = sec;
	ev_io_start(sec->loop, &sec->main_io);
	ev_io_init(&sec->main_wio, main_writable, main_fd, EV_WRITE);
	sec->main_wio.data = sec;
	sec->main_q.limit = SEC_QUEUE_LIMIT;
	ev_run(sec->loop, 0);
	_exit(0);
}
