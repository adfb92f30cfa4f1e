/* sluicectl's side of the control socket: a connection per command, and what it
 * prints when the exchange (exchange.c) fails. */
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


#define CTL_TIMEOUT_MS 10000 /* for a reply; a stream waits as long as it runs */

static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
	interrupted = 1;
}

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

/* What sluicectl says about the outcome of an exchange; CTL_OK or CTL_ERROR. */
static int report(const struct ctl_opts *o, enum ctl_exchange_result x, struct ctl_reply *r)
{
	switch (x) {
	case CTLX_OK:
	case CTLX_SEND:
		break;
	case CTLX_INTERRUPTED:
		return CTL_OK;
	case CTLX_TIMEOUT:
		fprintf(stderr, "sluicectl: no answer from sluiced\n");
		return CTL_ERROR;
	case CTLX_CLOSED:
		fprintf(stderr, "sluicectl: sluiced closed the connection\n");
		return CTL_ERROR;
	case CTLX_BAD_REPLY:
		fprintf(stderr, "sluicectl: bad reply: %s\n", ipc_last_error());
		return CTL_ERROR;
	}
	if (o->debug && r->done)
		fprintf(stderr, "sluicectl: debug: %u repl%s, the last one done%s%s\n", r->replies,
			r->replies == 1 ? "y" : "ies", r->error ? ", error: " : "",
			r->error ? strerror(r->error) : "");
	if (r->done && r->error == EACCES) {
		say_refused(o, EACCES);
		return CTL_ERROR;
	}
	if (r->done && r->error) {
		fprintf(stderr, "sluicectl: %s\n", r->message[0] ? r->message : strerror(r->error));
		return CTL_ERROR;
	}
	if (x == CTLX_SEND) {
		fprintf(stderr, "sluicectl: %s\n", ipc_last_error());
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
	ctl_channel_init(&ch, fd, "sluiced");
	/* Interrupting a stream ends it, not sluicectl (nor the interactive shell). */
	interrupted = 0;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	if (o->debug)
		fprintf(stderr, "sluicectl: debug: to %s: %s (type %u)\n", o->socket_file,
			req->descriptor->name, type);
	/* A stream (on_event) has no time limit and ends cleanly when interrupted. */
	ret = report(o, ctl_exchange(&ch, type, req, r, r->on_event ? -1 : CTL_TIMEOUT_MS,
				     &interrupted),
		     r);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	close(fd);
	return ret;
}
