#include "config.h"

#include "ctl/ctl.h"

#include <stdio.h>
#include <time.h>

/* "NAME": "3m:07s" and "RAW": 187 */
static void add_age(json_t *o, const char *name, const char *raw, uint64_t secs)
{
	char age[32];

	ctl_format_age((long long)secs, age, sizeof(age));
	json_object_set_new(o, name, json_string(age));
	json_object_set_new(o, raw, json_integer((json_int_t)secs));
}

/* "NAME": "1.5 MB" and "RAW": 1572864 */
static void add_bytes(json_t *o, const char *name, const char *raw, uint64_t n)
{
	char text[32];

	ctl_format_bytes(n, text, sizeof(text));
	json_object_set_new(o, name, json_string(text));
	json_object_set_new(o, raw, json_integer((json_int_t)n));
}

/* occtl's names for what sluice has (tests/integration/test-occtl-keys.sh). sluice never
 * resets its counters: they run from the start, which is the "last stats reset". */
static void occtl_fields(json_t *o, const CtlStatus *s, const char *since, long long up)
{
	char age[32];

	if (!o)
		return;
	ctl_format_age(up, age, sizeof(age));
	json_object_set_new(o, "Sec-mod instance count", json_integer(1));
	json_object_set_new(o, "_Up since", json_string(age));
	json_object_set_new(o, "Last stats reset", json_string(since));
	json_object_set_new(o, "_Last stats reset", json_string(age));
	json_object_set_new(o, "raw_last_stats_reset", json_integer(s->up_since));
	json_object_set_new(o, "Sessions handled", json_integer((json_int_t)s->ended));
	json_object_set_new(o, "Authentication failures",
			    json_integer((json_int_t)s->auth_failures));
	json_object_set_new(o, "IPs in ban list", json_integer(s->has_banned ? s->banned : 0));
	json_object_set_new(o, "Timed out sessions", json_integer((json_int_t)s->timed_out));
	json_object_set_new(o, "Timed out (idle) sessions",
			    json_integer((json_int_t)s->idle_timed_out));
	json_object_set_new(o, "Closed due to error sessions",
			    json_integer((json_int_t)s->error_closed));
	add_age(o, "Average auth time", "raw_avg_auth_time", s->avg_auth_secs);
	add_age(o, "Max auth time", "raw_max_auth_time", s->max_auth_secs);
	add_age(o, "Average session time", "raw_avg_session_time", s->avg_session_secs);
	add_age(o, "Max session time", "raw_max_session_time", s->max_session_secs);
	add_bytes(o, "RX", "raw_rx", s->rx);
	add_bytes(o, "TX", "raw_tx", s->tx);
}

static void on_status(const CtlStatus *s, void *data)
{
	char since[32];
	long long up = (long long)time(NULL) - s->up_since;

	ctl_format_time(s->up_since, since, sizeof(since));
	/* As occtl: uptime in seconds; "Total sessions" (and "Sessions handled", since
	 * nothing resets them) count the sessions that ended, "Sessions started" is
	 * sluice's own. */
	*(json_t **)data = json_pack(
	    "{s:s, s:I, s:I, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "Status", "online",
	    "Server PID", (json_int_t)s->server_pid, "Sec-mod PID", (json_int_t)s->sec_pid,
	    "Up since", since, "raw_up_since", (json_int_t)s->up_since, "uptime", (json_int_t)up,
	    "Active sessions", (json_int_t)s->active_sessions, "Total sessions",
	    (json_int_t)s->ended, "Sessions started", (json_int_t)s->total_sessions,
	    "Total authentication failures", (json_int_t)s->auth_failures, "Worker processes",
	    (json_int_t)s->workers, "Connections logging in", (json_int_t)s->preauth);
	occtl_fields(*(json_t **)data, s, since, up);
}

static int run(const struct ctl_opts *o, const char *arg)
{
	CtlEmpty req = CTL_EMPTY__INIT;
	json_t *status = NULL;
	struct ctl_reply r = {.on_status = on_status, .data = &status};
	int ret = ctl_request(o, CTL_TYPE__CTL_SHOW_STATUS, &req.base, &r);

	if (ret == CTL_OK && status)
		ctl_print_record(o, status);
	json_decref(status);
	return ret;
}

const struct ctl_command ctl_show_status = {
    {"show", "status"}, NULL, "the server: processes, uptime, session counts", run};
