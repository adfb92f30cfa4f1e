/* The subagent's view of the server: main's answers to CTL_SHOW_STATUS and
 * CTL_SHOW_USERS, asked for only when an SNMP request finds the view older than
 * SNMP_CACHE_SECS. However often managers poll, main gets at most two requests per
 * period, each answered from its own state without blocking (ctl.c).
 *
 * A reply that does not come within SNMP_REPLY_MS leaves its CTL_DONE owed; the late
 * messages are read and dropped before the next request, so a slow answer can never be
 * mistaken for a later one. Until then the view is the last good one, marked stale. */
#include "config.h"

#include "snmp/snmp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <talloc.h>

#include "common/log.h"
#include "ipc/ipc.h"
#include "ipc/ctl.pb-c.h"
#include "ipc/ctl.routes.h"

#define CTLC_REPLY      1u
#define CTL_MAX_PAYLOAD 4096

static struct ipc_channel ch;
static bool gone;
static unsigned owed;           /* CTL_DONEs not received yet */
static struct snmp_cache *view; /* what handlers see */
static struct snmp_cache *next; /* being filled; NULL: replies are dropped */
static bool next_failed, next_truncated;
static struct timespec refreshed;
static bool ever;
static uint64_t live_rx, live_tx; /* sums over next's rows */

static int on_status(void *ctx, void *msg, int *fds)
{
	const CtlStatus *s = msg;

	if (!next)
		return 0;
	next->up_since = s->up_since;
	next->active = s->active_sessions;
	next->total = s->total_sessions;
	next->auth_failures = s->auth_failures;
	next->banned = s->has_banned ? s->banned : 0;
	next->rx = s->has_rx ? s->rx : 0;
	next->tx = s->has_tx ? s->tx : 0;
	return 0;
}

static char *text(TALLOC_CTX *ctx, const char *s)
{
	return talloc_strndup(ctx, s ? s : "", SNMP_TEXT_MAX);
}

static int on_user(void *ctx, void *msg, int *fds)
{
	const CtlUser *u = msg;
	struct snmp_row *r;

	if (!next)
		return 0;
	if (next->n_rows >= SNMP_MAX_ROWS) {
		if (!next_truncated)
			log_warn("more than %u sessions; the SNMP table lists %u of them",
				 SNMP_MAX_ROWS, SNMP_MAX_ROWS);
		next_truncated = true;
		return 0;
	}
	if (next->n_rows % 256 == 0) {
		r = talloc_realloc(next, next->rows, struct snmp_row, next->n_rows + 256);
		if (!r)
			return -ENOMEM;
		next->rows = r;
	}
	r = &next->rows[next->n_rows];
	memset(r, 0, sizeof(*r));
	r->id = u->id;
	r->user = text(next, u->username);
	r->group = text(next, u->groupname);
	r->device = text(next, u->device);
	if (!r->user || !r->group || !r->device)
		return -ENOMEM;
	if (inet_pton(AF_INET, u->remote_ip, r->remote) == 1)
		r->remote_len = 4;
	else if (inet_pton(AF_INET6, u->remote_ip, r->remote) == 1)
		r->remote_len = 16;
	if (u->ipv4 && inet_pton(AF_INET, u->ipv4, r->ipv4) != 1)
		memset(r->ipv4, 0, sizeof(r->ipv4));
	r->rx = u->rx;
	r->tx = u->tx;
	r->since = u->connected_at;
	live_rx += u->rx;
	live_tx += u->tx;
	next->n_rows++;
	return 0;
}

static int on_done(void *ctx, void *msg, int *fds)
{
	const CtlDone *d = msg;

	if (owed)
		owed--;
	if (next && d->error) {
		log_warn("main refused a request: %s", d->message ? d->message : strerror(d->error));
		next_failed = true;
	}
	return 0;
}

static const struct ipc_route snmp_from_main[] = {
    IPC_ROUTE_CTL_STATUS(on_status),
    IPC_ROUTE_CTL_USER(on_user),
    IPC_ROUTE_CTL_DONE(on_done),
};

void snmp_cache_init(int fd)
{
	ipc_channel_init(&ch, fd, snmp_from_main, sizeof(snmp_from_main) / sizeof(snmp_from_main[0]),
			 CTL_MAX_PAYLOAD, "sluiced");
	view = talloc_zero(NULL, struct snmp_cache);
	if (!view)
		abort();
}

bool snmp_cache_main_gone(void)
{
	return gone;
}

static long ms_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t->tv_sec) * 1000 + (now.tv_nsec - t->tv_nsec) / 1000000;
}

/* Handles what is queued, waiting up to wait_ms for the first message. 1 if one was
 * handled, 0 if none came, -1 when the connection is over. */
static int receive(int wait_ms)
{
	struct pollfd p = {.fd = ch.fd, .events = POLLIN};
	int ret;

	if (poll(&p, 1, wait_ms) <= 0)
		return 0;
	ret = ipc_recv_dispatch(&ch, CTLC_REPLY, NULL);
	if (ret == -EAGAIN)
		return 0;
	if (ret == IPC_CLOSED || ret < 0) {
		if (ret != IPC_CLOSED)
			log_err("%s", ipc_last_error());
		else
			log_notice("sluiced closed the connection");
		gone = true;
		return -1;
	}
	return 1;
}

void snmp_cache_readable(void)
{
	while (!gone && receive(0) > 0)
		;
}

/* One request, answered in full within the deadline: 0, or -1. */
static int ask(uint16_t type, const struct timespec *start)
{
	CtlEmpty req = CTL_EMPTY__INIT;
	unsigned before;

	if (ipc_send(ch.fd, type, &req.base, NULL, 0) < 0) {
		log_err("cannot ask sluiced: %s", ipc_last_error());
		return -1;
	}
	before = ++owed;
	while (owed >= before && !gone) {
		long left = SNMP_REPLY_MS - ms_since(start);

		if (left <= 0) {
			log_warn("sluiced did not answer within %d ms; serving the last view",
				 SNMP_REPLY_MS);
			return -1;
		}
		if (receive((int)left) < 0)
			return -1;
	}
	return gone || next_failed ? -1 : 0;
}

static int cmp_row(const void *a, const void *b)
{
	uint32_t x = ((const struct snmp_row *)a)->id, y = ((const struct snmp_row *)b)->id;

	return x < y ? -1 : x > y;
}

static void refresh(void)
{
	struct timespec start;

	clock_gettime(CLOCK_MONOTONIC, &start);
	refreshed = start;
	ever = true;
	/* Late answers to a request that timed out are dropped first. */
	while (owed && !gone && receive(0) > 0)
		;
	if (owed || gone) {
		view->reachable = false;
		return;
	}
	next = talloc_zero(NULL, struct snmp_cache);
	if (!next) {
		view->reachable = false;
		return;
	}
	next_failed = next_truncated = false;
	live_rx = live_tx = 0;
	if (ask(CTL_TYPE__CTL_SHOW_STATUS, &start) < 0 || ask(CTL_TYPE__CTL_SHOW_USERS, &start) < 0) {
		TALLOC_FREE(next);
		view->reachable = false;
		return;
	}
	if (next->n_rows > 1) /* no table at all when no session is up */
		qsort(next->rows, next->n_rows, sizeof(next->rows[0]), cmp_row);
	/* Counter64 objects never go back: a session's final count (read from its TUN
	 * device at the end) may differ a little from its last report. */
	next->rx += live_rx;
	next->tx += live_tx;
	if (next->rx < view->rx)
		next->rx = view->rx;
	if (next->tx < view->tx)
		next->tx = view->tx;
	next->reachable = true;
	talloc_free(view);
	view = next;
	next = NULL;
}

const struct snmp_cache *snmp_cache_get(void)
{
	if (!gone && (!ever || ms_since(&refreshed) >= (long)(SNMP_CACHE_SECS * 1000)))
		refresh();
	return view;
}
