/* The JSON records of the control socket's replies, built with jansson so that they are
 * valid by construction, with occtl's key names where occtl has them. sluicectl --json
 * prints them and sluice-manage serves them: one builder, the same keys. */
#include "config.h"

#include "ctl/json.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

void ctl_format_time(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	/* occtl's format (minutes), which scripts written for occtl parse; the raw_ keys
	 * have the second. */
	if (!localtime_r(&tt, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M", &tm))
		snprintf(buf, len, "%lld", (long long)t);
}

json_t *ctl_strings_json(char **items, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(items[i]));
	return a;
}

/* Sets key to s when s is there (occtl leaves out the keys of a family a session lacks). */
static void set_opt(json_t *o, const char *key, const char *s)
{
	if (s)
		json_object_set_new(o, key, json_string(s));
}

void ctl_format_bytes(uint64_t n, char *buf, size_t len)
{
	static const char *const units[] = {"KB", "MB", "GB", "TB"};
	double v = (double)n;
	int u = -1;

	while (v >= 1024 && u < 3) {
		v /= 1024;
		u++;
	}
	if (u < 0)
		snprintf(buf, len, "%llu bytes", (unsigned long long)n);
	else
		snprintf(buf, len, "%.1f %s", v, units[u]);
}

void ctl_format_age(long long s, char *buf, size_t len)
{
	if (s < 0)
		s = 0;
	if (s < 60)
		snprintf(buf, len, "%llds", s);
	else if (s < 3600)
		snprintf(buf, len, "%lldm:%02llds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%lldh:%02lldm", s / 3600, s / 60 % 60);
	else
		snprintf(buf, len, "%lldd:%02lldh", s / 86400, s / 3600 % 24);
}

/* The keys occtl has beside sluice's own (tests/integration/test-occtl-keys.sh). */
static void user_occtl_fields(json_t *o, const CtlUser *u)
{
	json_t *ports = json_array();
	char buf[64];

	json_object_set_new(o, "vhost", json_string("default"));
	json_object_set_new(o, "Location", json_string("unknown"));
	set_opt(o, "Full session", u->sid);
	if (u->sid) {
		snprintf(buf, sizeof(buf), "%.6s", u->sid);
		json_object_set_new(o, "Session", json_string(buf));
	}
	ctl_format_bytes(u->rx, buf, sizeof(buf));
	json_object_set_new(o, "_RX", json_string(buf));
	ctl_format_bytes(u->tx, buf, sizeof(buf));
	json_object_set_new(o, "_TX", json_string(buf));
	ctl_format_age((long long)time(NULL) - u->connected_at, buf, sizeof(buf));
	json_object_set_new(o, "_Connected at", json_string(buf));
	json_object_set_new(o, "NBNS", ctl_strings_json(u->nbns, u->n_nbns));
	/* "tcp(443), udp(53)" as ["tcp(443)", "udp(53)"]; a negation keeps its "!(...)". */
	for (const char *p = u->restrict_to_ports; ports && p && *p;) {
		size_t n = strcspn(p, ",");
		bool deny = p[0] == '!';

		if (deny)
			n = strlen(p);
		json_array_append_new(ports, json_stringn(p, n));
		p += n;
		while (*p == ',' || *p == ' ')
			p++;
	}
	if (ports)
		json_object_set_new(o, "Restricted to ports", ports);
}

json_t *ctl_user_json(const CtlUser *u)
{
	char since[32], login[32];
	/* As occtl: no route at all means everything goes through the VPN. */
	char *all[] = {"defaultroute"};
	json_t *o, *rest;

	ctl_format_time(u->connected_at, since, sizeof(since));
	ctl_format_time(u->session_started, login, sizeof(login));
	o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:I, s:s, s:I, s:s}", "ID", (json_int_t)u->id,
		      "Username", u->username, "Groupname",
		      u->groupname[0] ? u->groupname : "(none)", "State", u->state,
		      "Device", u->device, "MTU", (json_int_t)u->mtu, "Remote IP", u->remote_ip,
		      "Remote Port", (json_int_t)u->remote_port, "Local Device IP", u->local_ip);
	set_opt(o, "IPv4", u->ipv4);
	set_opt(o, "P-t-P IPv4", u->ptp_ipv4);
	set_opt(o, "IPv6", u->ipv6);
	set_opt(o, "P-t-P IPv6", u->ptp_ipv6);
	set_opt(o, "IPv6 prefix", u->ipv6_prefix);
	set_opt(o, "Authentication", u->auth_methods);
	set_opt(o, "Certificate subject", u->cert_subject);
	rest = json_pack(
	    "{s:s, s:s, s:I, s:I, s:s, s:I, s:s, s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:s, s:I, s:I, "
	    "s:I}",
	    "User-Agent", u->user_agent, "Hostname", u->hostname, "RX", (json_int_t)u->rx, "TX",
	    (json_int_t)u->tx, "Connected at", since, "raw_connected_at",
	    (json_int_t)u->connected_at, "Session started at", login, "raw_session_started_at",
	    (json_int_t)u->session_started, "Session timeout", (json_int_t)u->session_timeout,
	    "DNS", ctl_strings_json(u->dns, u->n_dns), "Split-DNS-Domains",
	    ctl_strings_json(u->split_dns, u->n_split_dns), "Routes",
	    u->n_routes ? ctl_strings_json(u->routes, u->n_routes) : ctl_strings_json(all, 1),
	    "No-routes", ctl_strings_json(u->no_routes, u->n_no_routes), "iRoutes",
	    ctl_strings_json(u->iroutes, u->n_iroutes), "Restricted to routes",
	    u->restrict_to_routes ? "True" : "False", "Dropped outside routes",
	    (json_int_t)u->route_dropped, "Limit RX", (json_int_t)u->rx_per_sec, "Limit TX",
	    (json_int_t)u->tx_per_sec);
	json_object_update(o, rest);
	json_decref(rest);
	/* occtl's names and form ("48 bytes/sec"): averages over the connection's life */
	{
		long long up = (long long)time(NULL) - u->connected_at;
		char avg[48];

		ctl_format_bytes(up > 0 ? u->rx / (uint64_t)up : 0, avg, sizeof(avg) - 4);
		json_object_set_new(o, "Average RX", json_string(strcat(avg, "/sec")));
		ctl_format_bytes(up > 0 ? u->tx / (uint64_t)up : 0, avg, sizeof(avg) - 4);
		json_object_set_new(o, "Average TX", json_string(strcat(avg, "/sec")));
	}
	user_occtl_fields(o, u);
	if (u->has_dpd)
		json_object_set_new(o, "DPD", json_integer(u->dpd));
	if (u->has_keepalive)
		json_object_set_new(o, "KeepAlive", json_integer(u->keepalive));
	set_opt(o, "TLS ciphersuite", u->tls_cipher && u->tls_cipher[0] ? u->tls_cipher : NULL);
	set_opt(o, "DTLS cipher", u->dtls_cipher && u->dtls_cipher[0] ? u->dtls_cipher : NULL);
	set_opt(o, "CSTP compression",
		u->cstp_compression && u->cstp_compression[0] ? u->cstp_compression : NULL);
	set_opt(o, "DTLS compression",
		u->dtls_compression && u->dtls_compression[0] ? u->dtls_compression : NULL);
	return o;
}

#define SHORT_SID 6 /* occtl's "Session" is a prefix of the full id */

json_t *ctl_session_json(const CtlSession *s)
{
	char created[32], expires[32] = "-", sid[SHORT_SID + 1];
	json_t *v;

	snprintf(sid, sizeof(sid), "%s", s->sid);
	ctl_format_time(s->created, created, sizeof(created));
	if (s->has_expires)
		ctl_format_time(s->expires, expires, sizeof(expires));
	v = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:I, s:I}", "Session", sid,
		      "Full session", s->sid, "Created", created, "Expires", expires, "State",
		      s->in_use_by ? "authenticated" : "disconnected", "Username", s->username,
		      "Groupname", s->groupname, "Remote IP", s->remote_ip, "In use",
		      s->in_use_by != 0, "in_use", (json_int_t)s->in_use_by, "raw_created",
		      (json_int_t)s->created);
	if (v && s->has_expires)
		json_object_set_new(v, "raw_expires", json_integer(s->expires));
	return v;
}

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
static void status_occtl_fields(json_t *o, const CtlStatus *s, const char *since, long long up)
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

json_t *ctl_status_json(const CtlStatus *s)
{
	char since[32];
	long long up = (long long)time(NULL) - s->up_since;

	ctl_format_time(s->up_since, since, sizeof(since));
	/* As occtl: uptime in seconds; "Total sessions" (and "Sessions handled", since
	 * nothing resets them) count the sessions that ended, "Sessions started" is
	 * sluice's own. */
	json_t *o = json_pack(
	    "{s:s, s:I, s:I, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "Status", "online",
	    "Server PID", (json_int_t)s->server_pid, "Sec-mod PID", (json_int_t)s->sec_pid,
	    "Up since", since, "raw_up_since", (json_int_t)s->up_since, "uptime", (json_int_t)up,
	    "Active sessions", (json_int_t)s->active_sessions, "Total sessions",
	    (json_int_t)s->ended, "Sessions started", (json_int_t)s->total_sessions,
	    "Total authentication failures", (json_int_t)s->auth_failures, "Worker processes",
	    (json_int_t)s->workers, "Connections logging in", (json_int_t)s->preauth);
	status_occtl_fields(o, s, since, up);
	return o;
}

json_t *ctl_ban_json(const CtlBan *b)
{
	char since[32], until[32];
	json_t *row = json_pack("{s:s, s:I, s:I}", "IP", b->ip, "Score", (json_int_t)b->score,
				"raw_last", (json_int_t)b->last);

	if (row && b->has_until) {
		ctl_format_time(b->since, since, sizeof(since));
		ctl_format_time(b->until, until, sizeof(until));
		json_object_set_new(row, "Since", json_string(since));
		json_object_set_new(row, "Expires", json_string(until));
		json_object_set_new(row, "raw_since", json_integer(b->since));
		json_object_set_new(row, "raw_expires", json_integer(b->until));
	}
	return row;
}

json_t *ctl_event_json(const CtlEvent *e)
{
	json_t *v = json_pack(
		"{s:s, s:I, s:s, s:s}", "event", e->connect ? "connect" : "disconnect", "ID",
		(json_int_t)e->id, "Username", e->username, "Remote IP", e->remote_ip);

	if (e->ipv4)
		json_object_set_new(v, "IPv4", json_string(e->ipv4));
	if (e->ipv6)
		json_object_set_new(v, "IPv6", json_string(e->ipv6));

	if (!e->connect) {
		json_object_set_new(v, "reason", json_string(e->reason ? e->reason : ""));
		json_object_set_new(v, "raw_duration", json_integer(e->duration));
		json_object_set_new(v, "RX", json_integer((json_int_t)e->rx));
		json_object_set_new(v, "TX", json_integer((json_int_t)e->tx));
	}
	return v;
}

json_t *ctl_account_json(const CtlAccount *a)
{
	return json_pack("{s:s, s:o, s:b}", "Username", a->name, "Groups",
			 ctl_strings_json(a->groups, a->n_groups), "Locked", a->locked);
}
