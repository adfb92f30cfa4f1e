/* Accounting (acct = radius[...]): main sends a record for every tunnel that starts, is
 * still up (interim) or ends, from what it knows itself (the TUN device's counters, never
 * the worker's word); sec queues them in order and its accounting helper, a process
 * like the auth helpers (auth_helper.c), sends them to the RADIUS server one at a time.
 *
 * A record the server does not acknowledge is tried again, up to SEC_ACCT_TRIES times;
 * a helper that dies or overruns its time is replaced and its record tried again; the
 * queue is bounded (SEC_ACCT_QUEUE_MAX), beyond which records are dropped and counted.
 * When sluiced stops, main asks for a flush (MS_ACCT_FLUSH) after the last Stop and
 * waits, bounded, for the answer. */
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
/* Past the helper's own alarm. */
#define ACCT_GRACE 2.0

struct acct_item {
	struct acct_item *next, *prev; /* utlist */
	AcctRecord *record;            /* under the item */
	unsigned tries;
};

struct sec_acct {
	struct sec_ctx *sec;
	struct acct_item *queue; /* the head is the one in flight when busy */
	unsigned n_queued;
	unsigned sent, lost;
	int fd;                  /* the helper's channel; -1: none */
	pid_t pid;
	unsigned state;
	struct ipc_channel ch;
	ev_io io;
	ev_timer timer;
	bool flush_asked;        /* main waits for MS_ACCT_FLUSHED */
};

static int on_done(void *ctx, void *msg, int *fds);

static const struct ipc_route sec_from_acct[] = {
    IPC_ROUTE_SA_ACCT_DONE(on_done),
};

static void pump(struct sec_acct *a);

static void answer_flush(struct sec_acct *a)
{
	MsAcctFlushed f = MS_ACCT_FLUSHED__INIT;

	if (!a->flush_asked || (a->queue && a->fd >= 0))
		return;
	/* Whatever could not be sent (no helper left) counts as lost. */
	a->lost += a->n_queued;
	f.sent = a->sent;
	f.lost = a->lost;
	a->flush_asked = false;
	sec_send_main(a->sec, MS_TYPE__MS_ACCT_FLUSHED, &f.base);
}

static void pop(struct sec_acct *a, bool sent)
{
	struct acct_item *it = a->queue;

	DL_DELETE(a->queue, it);
	a->n_queued--;
	if (sent)
		a->sent++;
	else
		a->lost++;
	talloc_free(it);
}

/* The head was not taken: again, or given up after SEC_ACCT_TRIES. */
static void retry_head(struct sec_acct *a, const char *why)
{
	struct acct_item *it = a->queue;

	if (!it)
		return;
	if (++it->tries >= SEC_ACCT_TRIES) {
		log_err("accounting: record %u of session %s given up after %u tries: %s",
			it->record->status, it->record->sid, it->tries, why);
		pop(a, false);
	} else {
		log_warn("accounting: record %u of session %s not sent (%s); trying again",
			 it->record->status, it->record->sid, why);
	}
}

static void helper_gone(struct sec_acct *a, const char *why)
{
	log_err("accounting helper (pid %d): %s", (int)a->pid, why);
	ev_io_stop(a->sec->loop, &a->io);
	ev_timer_stop(a->sec->loop, &a->timer);
	close(a->fd);
	a->fd = -1;
	if (a->state == SAS_BUSY)
		retry_head(a, why);
	a->state = SAS_IDLE;
	pump(a);
}

/* The next record goes out after the dispatch has returned: sending may fail and replace
 * the helper, whose channel the dispatch still uses. */
static void acct_readable(struct ev_loop *loop, ev_io *io, int revents)
{
	struct sec_acct *a = io->data;
	int ret = ipc_recv_dispatch(&a->ch, a->state, a);

	if (ret == IPC_CLOSED)
		helper_gone(a, "it ended");
	else if (ret < 0 && ret != -EAGAIN)
		helper_gone(a, ipc_last_error());
	else
		pump(a);
}

static void acct_timeout(struct ev_loop *loop, ev_timer *t, int revents)
{
	helper_gone(t->data, "the RADIUS server did not answer in time");
}

/* A helper when there is none; false when the launcher is gone. */
static bool helper_ready(struct sec_acct *a)
{
	if (a->fd >= 0)
		return true;
	if (sec_launcher_spawn(a->sec, SEC_HELPER_ACCT, &a->fd, &a->pid) < 0)
		return false;
	ipc_channel_init(&a->ch, a->fd, sec_from_acct, sizeof(sec_from_acct) / sizeof(sec_from_acct[0]),
			 AUTH_HELPER_MAX_PAYLOAD, "accounting helper");
	ev_io_init(&a->io, acct_readable, a->fd, EV_READ);
	a->io.data = a;
	ev_io_start(a->sec->loop, &a->io);
	a->state = SAS_IDLE;
	log_info("accounting helper started (pid %d)", (int)a->pid);
	return true;
}

/* The head goes out when the helper is free. */
static void pump(struct sec_acct *a)
{
	SaAcct req = SA_ACCT__INIT;

	while (a->queue && a->state == SAS_IDLE) {
		if (!helper_ready(a)) {
			/* No helper can come back: what is queued is lost. */
			while (a->queue)
				pop(a, false);
			break;
		}
		req.record = a->queue->record;
		if (ipc_send(a->fd, SA_TYPE__SA_ACCT, &req.base, NULL, 0) < 0) {
			helper_gone(a, "cannot send to it");
			return;
		}
		a->state = SAS_BUSY;
		ev_timer_set(&a->timer, a->sec->cfg->auth_helper_timeout + ACCT_GRACE, 0);
		ev_timer_start(a->sec->loop, &a->timer);
	}
	answer_flush(a);
}

static int on_done(void *ctx, void *msg, int *fds)
{
	struct sec_acct *a = ctx;
	SaAcctDone *d = msg;

	ev_timer_stop(a->sec->loop, &a->timer);
	a->state = SAS_IDLE;
	if (d->ok)
		pop(a, true);
	else
		retry_head(a, d->reason && strlen(d->reason) < AUTH_HELPER_MAX_TEXT
				  ? d->reason
				  : "refused");
	return 0;
}

/* A copy of r under ctx: the message it came in is freed after its handler. */
static AcctRecord *copy_record(TALLOC_CTX *ctx, const AcctRecord *r)
{
	AcctRecord *c = talloc(ctx, AcctRecord);

	if (!c)
		return NULL;
	*c = *r;
	c->sid = talloc_strdup(c, r->sid);
	c->username = talloc_strdup(c, r->username);
	c->client_ip = talloc_strdup(c, r->client_ip);
	c->vpn_ipv4 = r->vpn_ipv4 ? talloc_strdup(c, r->vpn_ipv4) : NULL;
	c->vpn_ipv6 = r->vpn_ipv6 ? talloc_strdup(c, r->vpn_ipv6) : NULL;
	if (!c->sid || !c->username || !c->client_ip || (r->vpn_ipv4 && !c->vpn_ipv4) ||
	    (r->vpn_ipv6 && !c->vpn_ipv6)) {
		talloc_free(c);
		return NULL;
	}
	return c;
}

int sec_on_acct(void *ctx, void *msg, int *fds)
{
	struct sec_ctx *sec = ctx;
	struct sec_acct *a = sec->acct;
	MsAcct *m = msg;
	struct acct_item *it;

	if (!a) {
		log_warn("accounting record from main without acct configured; ignored");
		return 0;
	}
	if (a->n_queued >= SEC_ACCT_QUEUE_MAX) {
		if (a->lost++ % 1000 == 0)
			log_err("accounting: %u records wait already; dropping (%u dropped so far)",
				a->n_queued, a->lost);
		return 0;
	}
	it = talloc_zero(a, struct acct_item);
	if (!it)
		return -ENOMEM;
	it->record = copy_record(it, m->record);
	if (!it->record) {
		talloc_free(it);
		return -ENOMEM;
	}
	DL_APPEND(a->queue, it);
	a->n_queued++;
	pump(a);
	return 0;
}

int sec_on_acct_flush(void *ctx, void *msg, int *fds)
{
	struct sec_ctx *sec = ctx;

	if (!sec->acct) {
		MsAcctFlushed f = MS_ACCT_FLUSHED__INIT;

		sec_send_main(sec, MS_TYPE__MS_ACCT_FLUSHED, &f.base);
		return 0;
	}
	sec->acct->flush_asked = true;
	answer_flush(sec->acct);
	return 0;
}

void sec_acct_init(struct sec_ctx *sec)
{
	struct sec_acct *a;

	if (sec->cfg->acct_backend == CONFIG_ACCT_NONE)
		return;
	a = talloc_zero(sec, struct sec_acct);
	if (!a)
		return;
	a->sec = sec;
	a->fd = -1;
	a->state = SAS_IDLE;
	ev_init(&a->timer, acct_timeout);
	a->timer.data = a;
	sec->acct = a;
}
