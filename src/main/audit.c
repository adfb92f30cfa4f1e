#include "config.h"

#include "main/audit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <systemd/sd-journal.h>
#include <time.h>

#include "common/log.h"
#include "main/audit_writer.h"
#include "main/events.h"
#include "main/main.h"

/* Journal field names: upper case, as journald requires. */
#define FIELD_MAX 64

/* Records queued for the file while the disk stalls: a few minutes of a busy server's
 * events, a few MiB of memory at most. */
#define QUEUE_MAX 4096

/* When the disk stalls for longer than the queue lasts, main neither waits (every user
 * would wait with it) nor lets the queue grow without bound (main would run out of
 * memory instead). It refuses the record for the file only: the journal and syslog still
 * get it, the refusal is logged once per stall and counted (sluice_audit_dropped_total),
 * and as soon as the queue has room again an "audit-lost" record with the count is
 * written where the missing records would have been, so a reader of the file sees the
 * gap and knows to look in the journal for it. */
struct main_audit {
	struct audit_writer *writer;
	ev_async wake;    /* the writer caught up after a refusal, or failed */
	uint64_t dropped; /* records the file never got */
	uint64_t unnoted; /* refused since the last audit-lost record */
};

static const char *const kind_name[] = {
    [MEV_AUTH] = "auth",
    [MEV_SESSION_START] = "session-start",
    [MEV_SESSION_END] = "session-end",
    [MEV_WORKER_EXIT] = "worker-exit",
    [MEV_RELOAD] = "reload",
    [MEV_CTL] = "control",
    [MEV_BAN] = "ban",
    [MEV_UNBAN] = "unban",
};

void audit_reopen(struct main_ctx *m)
{
	int ret = m->audit ? audit_writer_reopen(m->audit->writer) : 0;

	if (ret < 0)
		log_err("audit-log %s: cannot queue the reopen: %s", m->cfg->audit_log,
			strerror(-ret));
}

/* User names and user agents come from clients and need not be UTF-8, which jansson
 * refuses: such a value is recorded with its non-ASCII bytes as '?' rather than the
 * field left out of the record. */
static void set_str(json_t *o, const char *k, const char *v)
{
	json_t *s = json_string(v ? v : "");
	char *ascii = s || !v ? NULL : strdup(v);

	if (ascii) {
		for (char *p = ascii; *p; p++)
			if ((unsigned char)*p >= 0x80)
				*p = '?';
		s = json_string(ascii);
		free(ascii);
	}
	json_object_set_new(o, k, s);
}

static void set_int(json_t *o, const char *k, json_int_t v)
{
	json_object_set_new(o, k, json_integer(v));
}

/* The fields every session record has. */
static void session_fields(json_t *o, const struct main_worker *w)
{
	struct main_addrs a;

	main_session_addrs(w, &a);
	set_str(o, "session_id", w->sid);
	set_str(o, "user", w->username);
	set_str(o, "group", w->groupname);
	set_str(o, "client_ip", w->client_ip);
	set_int(o, "client_port", w->client_port);
	set_str(o, "vpn_ip", a.ip4);
	set_str(o, "vpn_ip6", a.ip6);
	set_str(o, "auth", w->auth_methods);
	if (w->cert_subject)
		set_str(o, "cert_subject", w->cert_subject);
	set_str(o, "device", w->device);
	set_str(o, "user_agent", w->user_agent);
	set_str(o, "hostname", w->hostname);
	set_int(o, "worker_pid", w->pid);
}

/* A record with its time and event kind. */
static json_t *new_record(const char *event)
{
	json_t *o = json_object();
	char when[32];
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	/* RFC 3339, UTC, milliseconds. */
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when + 19, sizeof(when) - 19, ".%03dZ", (int)(ts.tv_nsec / 1000000));
	set_str(o, "time", when);
	set_str(o, "event", event);
	return o;
}

static json_t *build_record(const struct main_event *ev)
{
	json_t *o = new_record(kind_name[ev->kind]);

	switch (ev->kind) {
	case MEV_AUTH:
		set_str(o, "result", ev->ok ? "success" : "failure");
		set_str(o, "user", ev->user);
		set_str(o, "client_ip", ev->client_ip);
		set_int(o, "client_port", ev->client_port);
		set_str(o, "method", "password");
		set_str(o, "reason", ev->reason);
		break;
	case MEV_SESSION_START:
		session_fields(o, ev->w);
		break;
	case MEV_SESSION_END:
		session_fields(o, ev->w);
		set_int(o, "duration", ev->duration);
		set_int(o, "bytes_in", (json_int_t)ev->bytes_in);
		set_int(o, "bytes_out", (json_int_t)ev->bytes_out);
		set_str(o, "reason", ev->reason);
		break;
	case MEV_WORKER_EXIT:
		set_int(o, "worker_pid", ev->w->pid);
		set_str(o, "client_ip", ev->w->client_ip);
		set_str(o, "cause", ev->detail);
		set_int(o, "status", ev->exit_status);
		set_str(o, "result", ev->ok ? "clean" : "abnormal");
		json_object_set_new(o, "crash_before_auth", json_boolean(ev->crash_before_auth));
		break;
	case MEV_RELOAD:
		set_str(o, "result", ev->ok ? "applied" : "rejected");
		set_str(o, "reason", ev->reason);
		break;
	case MEV_CTL:
		set_str(o, "command", ev->detail);
		set_int(o, "uid", ev->uid);
		if (ev->actor) {
			set_str(o, "via", "manage");
			set_str(o, "actor", ev->actor);
		}
		set_str(o, "result", ev->ok ? "done" : "failed");
		break;
	case MEV_BAN:
	case MEV_UNBAN:
		set_str(o, "client_ip", ev->client_ip);
		set_str(o, "reason", ev->reason);
		break;
	}
	return o;
}

/* One journal field per JSON member (SLUICE_USER=alice, ...), the JSON text as the
 * message, so that plain syslog (journald forwards MESSAGE) holds the whole record. */
static void to_journal(struct main_ctx *m, json_t *o, const char *text, int prio)
{
	struct iovec iov[24];
	char buf[24][FIELD_MAX + 320];
	char *msg = talloc_asprintf(m, "MESSAGE=audit %s", text);
	const char *k;
	json_t *v;
	int n = 1, ret;

	if (!msg)
		return;
	snprintf(buf[n], sizeof(buf[n]), "PRIORITY=%d", prio);
	snprintf(buf[++n], sizeof(buf[n]), "SYSLOG_IDENTIFIER=sluiced");
	/* The fallback's facility: journald forwards to syslog by it, and without it the
	 * records (user names, addresses) would land in "user", readable by more people. */
	snprintf(buf[++n], sizeof(buf[n]), "SYSLOG_FACILITY=%d", LOG_FAC(LOG_AUTHPRIV));
	n++;
	json_object_foreach(o, k, v)
	{
		char name[FIELD_MAX];
		size_t i;

		if (n >= (int)(sizeof(buf) / sizeof(buf[0])))
			break;
		for (i = 0; k[i] && i < sizeof(name) - 1; i++)
			name[i] = k[i] >= 'a' && k[i] <= 'z' ? (char)(k[i] - 'a' + 'A') : k[i];
		name[i] = '\0';
		if (json_is_string(v))
			snprintf(buf[n], sizeof(buf[n]), "SLUICE_%s=%.300s", name,
				 json_string_value(v));
		else if (json_is_boolean(v))
			snprintf(buf[n], sizeof(buf[n]), "SLUICE_%s=%s", name,
				 json_is_true(v) ? "true" : "false");
		else
			snprintf(buf[n], sizeof(buf[n]), "SLUICE_%s=%" JSON_INTEGER_FORMAT, name,
				 json_integer_value(v));
		n++;
	}
	iov[0].iov_base = msg;
	iov[0].iov_len = strlen(msg);
	for (int i = 1; i < n; i++) {
		iov[i].iov_base = buf[i];
		iov[i].iov_len = strlen(buf[i]);
	}
	ret = sd_journal_sendv(iov, n);
	talloc_free(msg);
	/* No journald (a container, a syslog-only system): plain syslog. */
	if (ret < 0)
		syslog(LOG_AUTHPRIV | prio, "audit %s", text);
}

/* Queues the audit-lost record of the refused records, if any; false when the queue is
 * still full. wait: at shutdown, until it has room. */
static bool note_lost(struct main_ctx *m, bool wait)
{
	struct main_audit *a = m->audit;
	json_t *o;
	char *text;
	int ret = -ENOMEM;

	if (!a->unnoted)
		return true;
	o = new_record("audit-lost");
	set_int(o, "count", (json_int_t)a->unnoted);
	set_str(o, "reason", "queue full: the disk stalled; the journal has these records");
	text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (text)
		ret = audit_writer_put(a->writer, text, wait);
	free(text);
	json_decref(o);
	if (ret < 0)
		return false;
	log_notice("audit-log %s: writing again; %llu records are missing from the file",
		   m->cfg->audit_log, (unsigned long long)a->unnoted);
	a->unnoted = 0;
	return true;
}

static void to_file(struct main_ctx *m, const char *text)
{
	struct main_audit *a = m->audit;
	int ret = note_lost(m, false) ? audit_writer_put(a->writer, text, false) : -ENOSPC;

	if (ret == 0)
		return;
	if (!a->unnoted)
		log_err("audit-log %s: %s; records go to the journal only until it catches up",
			m->cfg->audit_log,
			ret == -ENOSPC ? "the writer is stalled and its queue is full"
				       : strerror(-ret));
	a->dropped++;
	a->unnoted++;
}

/* Logs and counts what the writer could not write. */
static void writer_errors(struct main_ctx *m, uint64_t failed, int err, const char *what)
{
	if (err < 0)
		log_err("audit-log %s: %s: %s; %llu records not written to the file",
			m->cfg->audit_log, what, strerror(-err), (unsigned long long)failed);
	m->audit->dropped += failed;
}

static void on_wake(struct ev_loop *loop, ev_async *w, int revents)
{
	struct main_ctx *m = w->data;
	const char *what;
	int err;
	uint64_t failed = audit_writer_take_error(m->audit->writer, &err, &what);

	writer_errors(m, failed, err, what);
	note_lost(m, false);
}

int audit_start(struct main_ctx *m)
{
	struct main_audit *a;
	int ret;

	if (!m->cfg->audit_log)
		return 0;
	a = talloc_zero(m, struct main_audit);
	if (!a)
		return -ENOMEM;
	ev_async_init(&a->wake, on_wake);
	a->wake.data = m;
	ev_async_start(m->loop, &a->wake);
	a->writer = audit_writer_start(m->cfg->audit_log, QUEUE_MAX, m->loop, &a->wake, &ret);
	if (!a->writer) {
		ev_async_stop(m->loop, &a->wake);
		talloc_free(a);
		log_err("audit-log %s: %s", m->cfg->audit_log, strerror(-ret));
		return ret;
	}
	m->audit = a;
	return 0;
}

void audit_stop(struct main_ctx *m)
{
	struct main_audit *a = m->audit;
	const char *what;
	uint64_t failed;
	int err;

	if (!a)
		return;
	note_lost(m, true);
	failed = audit_writer_stop(a->writer, &err, &what);
	writer_errors(m, failed, err, what);
	ev_async_stop(m->loop, &a->wake);
	m->audit = NULL;
	talloc_free(a);
}

uint64_t audit_dropped(const struct main_ctx *m)
{
	return m->audit ? m->audit->dropped : 0;
}

void audit_event(struct main_ctx *m, const struct main_event *ev)
{
	json_t *o = build_record(ev);
	char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	/* Session ends carry no ok flag; every other event's failure is a warning. */
	int prio = ev->ok || ev->kind == MEV_SESSION_END ? LOG_NOTICE : LOG_WARNING;

	if (text) {
		to_journal(m, o, text, prio);
		if (m->audit)
			to_file(m, text);
		free(text);
	}
	json_decref(o);
}
