/* sec's side of the RADIUS Disconnect/CoA listener (dae_helper.c): the helper sends a
 * request it has checked, sec passes it to main (which owns the tunnels) and main's
 * count goes back to the helper, which answers the RADIUS server. One request at a
 * time; a helper that dies is started again after a second. */
#include "config.h"

#include "sec/sec.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "ipc/main_sec.pb-c.h"
#include "ipc/sec_auth.pb-c.h"
#include "ipc/sec_auth.routes.h"
#include "sec/auth_helper.h"

#define SAS_IDLE (1u << 0)
#define SAS_BUSY (1u << 1)
#define DAE_RESTART_S 1.0

static int on_dae(void *ctx, void *msg, int *fds);

static const struct ipc_route sec_from_dae[] = {
    IPC_ROUTE_SA_DAE(on_dae),
};

static void dae_gone(struct sec_ctx *sec, const char *why)
{
	log_err("RADIUS DAE helper (pid %d): %s; starting a new one", (int)sec->dae_pid, why);
	ev_io_stop(sec->loop, &sec->dae_io);
	close(sec->dae_fd);
	sec->dae_fd = -1;
	ev_timer_start(sec->loop, &sec->dae_restart);
}

static void dae_readable(struct ev_loop *loop, ev_io *io, int revents)
{
	struct sec_ctx *sec = io->data;
	int ret = ipc_recv_dispatch(&sec->dae_ch, sec->dae_state, sec);

	if (ret == IPC_CLOSED)
		dae_gone(sec, "it ended");
	else if (ret < 0 && ret != -EAGAIN)
		dae_gone(sec, ipc_last_error());
}

static int on_dae(void *ctx, void *msg, int *fds)
{
	struct sec_ctx *sec = ctx;
	SaDae *d = msg;
	MsDae m = MS_DAE__INIT;

	m.request_id = ++sec->dae_request;
	m.change = d->change;
	sec->dae_state = SAS_BUSY;
	sec_send_main(sec, MS_TYPE__MS_DAE, &m.base);
	return 0;
}

int sec_on_dae_result(void *ctx, void *msg, int *fds)
{
	struct sec_ctx *sec = ctx;
	MsDaeResult *r = msg;
	SaDaeDone done = SA_DAE_DONE__INIT;

	/* An answer for a helper that has gone since is dropped. */
	if (sec->dae_fd < 0 || sec->dae_state != SAS_BUSY || r->request_id != sec->dae_request)
		return 0;
	sec->dae_state = SAS_IDLE;
	done.matched = r->matched;
	if (ipc_send(sec->dae_fd, SA_TYPE__SA_DAE_DONE, &done.base, NULL, 0) < 0)
		dae_gone(sec, "cannot answer it");
	return 0;
}

static void dae_restart(struct ev_loop *loop, ev_timer *t, int revents)
{
	sec_dae_start(t->data);
}

int sec_dae_start(struct sec_ctx *sec)
{
	ev_init(&sec->dae_restart, dae_restart);
	sec->dae_restart.data = sec;
	ev_timer_set(&sec->dae_restart, DAE_RESTART_S, 0.);
	if (!sec->cfg->radius_dae_listen)
		return 0;
	if (sec_launcher_spawn(sec, SEC_HELPER_DAE, &sec->dae_fd, &sec->dae_pid) < 0)
		return -EPIPE;
	ipc_channel_init(&sec->dae_ch, sec->dae_fd, sec_from_dae,
			 sizeof(sec_from_dae) / sizeof(sec_from_dae[0]), AUTH_HELPER_MAX_PAYLOAD,
			 "RADIUS DAE helper");
	ev_io_init(&sec->dae_io, dae_readable, sec->dae_fd, EV_READ);
	sec->dae_io.data = sec;
	ev_io_start(sec->loop, &sec->dae_io);
	sec->dae_state = SAS_IDLE;
	log_info("RADIUS DAE helper started (pid %d)", (int)sec->dae_pid);
	return 0;
}
