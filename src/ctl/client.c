/* sluicectl's side of the control socket: the same framing and dispatch as every
 * other channel (src/ipc), with a route table for main's replies. */
#include "config.h"

#include "ctl/ctl.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ipc/ipc.h"
#include "ipc/ctl.routes.h"

#define CTL_MAX_PAYLOAD 4096
#define CTLC_REPLY      1u
#define CTL_TIMEOUT_MS  10000 /* for a reply; a stream waits as long as it runs */

static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
	interrupted = 1;
}

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
};

static void say_refused(const struct ctl_opts *o, int err)
{
	if (err == ENOENT || err == ECONNREFUSED)
		fprintf(stderr, "sluicectl: sluiced is not running (no control socket at %s)\n",
			o->socket_file);
	else if (err == EACCES || err == EPERM)
		fprintf(stderr,
			"sluicectl: permission denied: %s is for root and the occtl-socket-group "
			"only\n",
			o->socket_file);
	else
		fprintf(stderr, "sluicectl: %s: %s\n", o->socket_file, strerror(err));
}

static int connect_socket(const struct ctl_opts *o)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(o->socket_file) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "sluicectl: socket path too long: %s\n", o->socket_file);
		return -1;
	}
	strcpy(sa.sun_path, o->socket_file);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		say_refused(o, errno);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

bool ctl_parse_id(const char *s, uint32_t *id)
{
	char *end;
	unsigned long v;

	if (!s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v == 0 || v > UINT32_MAX)
		return false;
	*id = (uint32_t)v;
	return true;
}

/* Waits for and handles replies until CTL_DONE. A stream (on_event) has no time limit
 * and ends cleanly when interrupted. */
static int receive(const struct ctl_opts *o, struct ipc_channel *ch, struct ctl_reply *r)
{
	bool stream = r->on_event != NULL;
	unsigned replies = 0;

	while (!r->done) {
		struct pollfd p = {.fd = ch->fd, .events = POLLIN};
		int n = poll(&p, 1, stream ? -1 : CTL_TIMEOUT_MS);

		if (n < 0 && errno == EINTR && interrupted)
			return CTL_OK;
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "sluicectl: no answer from sluiced\n");
			return CTL_ERROR;
		}
		n = ipc_recv_dispatch(ch, CTLC_REPLY, r);
		if (n >= 0)
			replies++;
		if (n == IPC_CLOSED) {
			fprintf(stderr, "sluicectl: sluiced closed the connection\n");
			return CTL_ERROR;
		}
		if (n < 0 && n != -EAGAIN) {
			fprintf(stderr, "sluicectl: bad reply: %s\n", ipc_last_error());
			return CTL_ERROR;
		}
	}
	if (o->debug)
		fprintf(stderr, "sluicectl: debug: %u repl%s, the last one done%s%s\n", replies,
			replies == 1 ? "y" : "ies", r->error ? ", error: " : "",
			r->error ? strerror(r->error) : "");
	if (r->error == EACCES) {
		say_refused(o, EACCES);
		return CTL_ERROR;
	}
	if (r->error) {
		fprintf(stderr, "sluicectl: %s\n", r->message[0] ? r->message : strerror(r->error));
		return CTL_ERROR;
	}
	return CTL_OK;
}

int ctl_request(const struct ctl_opts *o, uint16_t type, const ProtobufCMessage *req,
		struct ctl_reply *r)
{
	struct sigaction sa = {.sa_handler = on_interrupt}, old_int, old_term;
	struct ipc_channel ch;
	int fd = connect_socket(o), ret;

	if (fd < 0)
		return CTL_ERROR;
	ipc_channel_init(&ch, fd, ctl_from_main, sizeof(ctl_from_main) / sizeof(ctl_from_main[0]),
			 CTL_MAX_PAYLOAD, "sluiced");
	/* Interrupting a stream ends it, not sluicectl (nor the interactive shell). */
	interrupted = 0;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	if (o->debug)
		fprintf(stderr, "sluicectl: debug: to %s: %s (type %u)\n", o->socket_file,
			req->descriptor->name, type);
	if (ipc_send(fd, type, req, NULL, 0) < 0) {
		/* A refused caller finds the refusal waiting instead. */
		ret = receive(o, &ch, r);
		if (ret == CTL_OK)
			fprintf(stderr, "sluicectl: %s\n", ipc_last_error());
		ret = CTL_ERROR;
	} else {
		ret = receive(o, &ch, r);
	}
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	close(fd);
	return ret;
}
