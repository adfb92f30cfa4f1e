/* `show sessions` and `show session`: the sessions sec keeps (cookies, not tunnels).
 * main holds no session list of its own, so it asks sec in batches (MS_SESSION_LIST)
 * and relays each MS_SESSION_ENTRY to the control connection that asked, as far as
 * its socket takes them; the next batch is asked for only when this one is out. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ipc/ctl.pb-c.h"
#include "ipc/main_sec.pb-c.h"
#include "main/ctl.h"
#include "main/ctl_conn.h"
#include "main/main.h"
#include "main/sec_channel.h"

struct sess_item {
	struct sess_item *next;
	CtlSession s;
};

static void ask_sessions(struct main_ctl_conn *c)
{
	c->sess_req = ++c->m->ctl->last_req ? c->m->ctl->last_req : ++c->m->ctl->last_req;
	c->sess_batch_end = false;
	sec_session_list(c->m, c->sess_req, c->sess_prefix,
			 c->sess_after[0] ? c->sess_after : NULL);
}

/* Relays what sec sent as far as the socket takes it; asks for the next batch, or
 * ends the list, once a batch is out. */
int ctl_pump_sessions(struct main_ctl_conn *c)
{
	struct sess_item *q;
	int ret;

	while ((q = c->queue)) {
		ret = ipc_send(c->ch.fd, CTL_TYPE__CTL_SESSION, &q->s.base, NULL, 0);
		if (ret == -EAGAIN) {
			ev_io_start(c->m->loop, &c->wio);
			return 0;
		}
		if (ret < 0)
			return ret;
		snprintf(c->sess_after, sizeof(c->sess_after), "%s", q->s.sid);
		c->sent++;
		c->queue = q->next;
		talloc_free(q);
	}
	c->queue_tail = &c->queue;
	ev_io_stop(c->m->loop, &c->wio);
	if (!c->sess_batch_end)
		return 0; /* sec's entries are still coming */
	if (c->sess_more) {
		ask_sessions(c);
		return 0;
	}
	c->sess_req = 0;
	return ctl_finish_list(c);
}

static struct main_ctl_conn *conn_of_request(struct main_ctx *m, uint32_t id)
{
	for (struct main_ctl_conn *c = m->ctl ? m->ctl->conns : NULL; c; c = c->next)
		if (id && c->sess_req == id)
			return c;
	return NULL; /* the caller went away: the rest of its answer is dropped */
}

void main_ctl_session_entry(struct main_ctx *m, const MsSessionEntry *e)
{
	struct main_ctl_conn *c = conn_of_request(m, e->request_id);
	struct sess_item *q;
	int ret;

	if (!c || c->sess_batch_end)
		return;
	q = talloc_zero(c, struct sess_item);
	if (!q) {
		ctl_conn_failed(c, -ENOMEM);
		return;
	}
	ctl_session__init(&q->s);
	q->s.sid = talloc_strndup(q, e->sid, CTL_SID_MAX);
	q->s.username = talloc_strndup(q, e->username, CTL_TEXT_MAX);
	q->s.groupname = talloc_strndup(q, e->groupname, CTL_TEXT_MAX);
	q->s.remote_ip = talloc_strndup(q, e->auth_ip, CTL_TEXT_MAX);
	q->s.created = e->created;
	q->s.has_expires = e->has_expires;
	q->s.expires = e->expires;
	q->s.in_use_by = e->in_use_by;
	if (!q->s.sid || !q->s.username || !q->s.groupname || !q->s.remote_ip) {
		ctl_conn_failed(c, -ENOMEM);
		return;
	}
	*c->queue_tail = q;
	c->queue_tail = &q->next;
	ret = ctl_pump_sessions(c);
	if (ret < 0)
		ctl_conn_failed(c, ret);
}

void main_ctl_session_list_end(struct main_ctx *m, const MsSessionListEnd *end)
{
	struct main_ctl_conn *c = conn_of_request(m, end->request_id);
	int ret;

	if (!c)
		return;
	c->sess_batch_end = true;
	/* A batch that made no progress ends the list whatever sec says. */
	c->sess_more = end->more && end->count > 0;
	ret = ctl_pump_sessions(c);
	if (ret < 0)
		ctl_conn_failed(c, ret);
}

/* The writer starts only when the socket is full: the list begins with sec's answer. */
static int list_sessions(struct main_ctl_conn *c, const char *prefix)
{
	c->sess_after[0] = '\0';
	if (prefix && !(c->sess_prefix = talloc_strdup(c, prefix)))
		return -ENOMEM;
	c->state = CONN_BUSY;
	c->sent = 0;
	c->queue = NULL;
	c->queue_tail = &c->queue;
	ask_sessions(c);
	return 0;
}

int ctl_on_show_sessions(void *ctx, void *msg, int *fds)
{
	return list_sessions(ctx, NULL);
}

int ctl_on_show_session(void *ctx, void *msg, int *fds)
{
	struct main_ctl_conn *c = ctx;
	CtlName *n = msg;
	size_t len = strnlen(n->name, CTL_SID_MAX + 1);

	if (len == 0 || len > CTL_SID_MAX || strspn(n->name, "0123456789abcdef") != len)
		return ctl_send_done(c, EINVAL, "a session id is 1 to 12 hex digits", 0);
	return list_sessions(c, n->name);
}
