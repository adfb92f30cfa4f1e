/* A client's side of main's control routes: the same framing and dispatch as every
 * other channel (src/ipc), with one route table for main's replies. */
#include "config.h"

#include "ctl/exchange.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>

#include "ipc/ctl.routes.h"

#define CTLC_REPLY 1u

static int on_status(void *ctx, void *msg, int *fds)
{
	struct ctl_reply *r = ctx;

	if (!r->on_status)
		return -EBADMSG;
	r->on_status(msg, r->data);
	return 0;
}

static int on_user(void *ctx, void *msg, int *fds)
{
	struct ctl_reply *r = ctx;

	if (!r->on_user)
		return -EBADMSG;
	r->on_user(msg, r->data);
	return 0;
}

static int on_event(void *ctx, void *msg, int *fds)
{
	struct ctl_reply *r = ctx;

	if (!r->on_event)
		return -EBADMSG;
	r->on_event(msg, r->data);
	return 0;
}

static int on_ban(void *ctx, void *msg, int *fds)
{
	struct ctl_reply *r = ctx;

	if (!r->on_ban)
		return -EBADMSG;
	r->on_ban(msg, r->data);
	return 0;
}

static int on_session(void *ctx, void *msg, int *fds)
{
	struct ctl_reply *r = ctx;

	if (!r->on_session)
		return -EBADMSG;
	r->on_session(msg, r->data);
	return 0;
}

static int on_account(void *ctx, void *msg, int *fds)
{
	struct ctl_reply *r = ctx;

	if (!r->on_account)
		return -EBADMSG;
	r->on_account(msg, r->data);
	return 0;
}

static int on_done(void *ctx, void *msg, int *fds)
{
	struct ctl_reply *r = ctx;
	CtlDone *d = msg;

	r->done = true;
	r->error = d->error;
	r->count = d->count;
	snprintf(r->message, sizeof(r->message), "%s", d->message ? d->message : "");
	return 0;
}

static const struct ipc_route ctl_from_main[] = {
    IPC_ROUTE_CTL_STATUS(on_status),   IPC_ROUTE_CTL_USER(on_user),
    IPC_ROUTE_CTL_EVENT(on_event),     IPC_ROUTE_CTL_BAN(on_ban),
    IPC_ROUTE_CTL_SESSION(on_session), IPC_ROUTE_CTL_DONE(on_done),
    IPC_ROUTE_CTL_ACCOUNT(on_account),
};

void ctl_channel_init(struct ipc_channel *ch, int fd, const char *peer)
{
	ipc_channel_init(ch, fd, ctl_from_main, sizeof(ctl_from_main) / sizeof(ctl_from_main[0]),
			 CTL_MAX_PAYLOAD, peer);
}

static enum ctl_exchange_result receive(struct ipc_channel *ch, struct ctl_reply *r,
					int timeout_ms, volatile sig_atomic_t *stop)
{
	while (!r->done) {
		struct pollfd p = {.fd = ch->fd, .events = POLLIN};
		int n = poll(&p, 1, timeout_ms);

		if (n < 0 && errno == EINTR && stop && *stop)
			return CTLX_INTERRUPTED;
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return CTLX_TIMEOUT;
		n = ipc_recv_dispatch(ch, CTLC_REPLY, r);
		if (n >= 0)
			r->replies++;
		if (n == IPC_CLOSED)
			return CTLX_CLOSED;
		if (n < 0 && n != -EAGAIN)
			return CTLX_BAD_REPLY;
	}
	return CTLX_OK;
}

enum ctl_exchange_result ctl_exchange(struct ipc_channel *ch, uint16_t type,
				      const ProtobufCMessage *req, struct ctl_reply *r,
				      int timeout_ms, volatile sig_atomic_t *stop)
{
	if (ipc_send(ch->fd, type, req, NULL, 0) < 0) {
		/* A refused caller finds the refusal waiting instead. */
		receive(ch, r, timeout_ms, stop);
		return CTLX_SEND;
	}
	return receive(ch, r, timeout_ms, stop);
}
