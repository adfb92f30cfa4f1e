/* Output for people (aligned) and for scripts (JSON built with jansson, so that it is
 * valid by construction; occtl's key names where occtl has them). */
#include "config.h"

#include "ctl/ctl.h"

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

void ctl_print_json(json_t *v)
{
	json_dumpf(v, stdout, JSON_INDENT(2) | JSON_ENSURE_ASCII);
	fputc('\n', stdout);
	fflush(stdout);
}

/* A value as people read it; returns buf or the string itself. */
static const char *text(json_t *v, char *buf, size_t len)
{
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_array(v)) {
		size_t i, used = 0;
		json_t *item;

		buf[0] = '\0';
		json_array_foreach(v, i, item)
		{
			if (json_is_string(item) && used < len)
				used += (size_t)snprintf(buf + used, len - used, "%s%s",
							 i ? ", " : "", json_string_value(item));
		}
		if (used >= len && len > 4)
			memcpy(buf + len - 4, "...", 4);
		return buf;
	}
	if (json_is_integer(v))
		snprintf(buf, len, "%lld", (long long)json_integer_value(v));
	else if (json_is_boolean(v))
		snprintf(buf, len, "%s", json_is_true(v) ? "yes" : "no");
	else
		snprintf(buf, len, "-");
	return buf;
}

void ctl_print_record(const struct ctl_opts *o, json_t *obj)
{
	const char *key;
	json_t *v;
	int width = 0;
	char buf[1024];

	if (o->json) {
		ctl_print_json(obj);
		return;
	}
	json_object_foreach(obj, key, v) if (strncmp(key, "raw_", 4) != 0 &&
					     (int)strlen(key) > width) width = (int)strlen(key);
	json_object_foreach(obj, key, v) if (strncmp(key, "raw_", 4) != 0)
	    printf("%*s: %s\n", width, key, text(v, buf, sizeof(buf)));
}

void ctl_print_records(const struct ctl_opts *o, json_t *array)
{
	json_t *v;
	size_t i;

	if (o->json) {
		ctl_print_json(array);
		return;
	}
	json_array_foreach(array, i, v)
	{
		if (i)
			printf("\n");
		ctl_print_record(o, v);
	}
}

void ctl_print_table(const struct ctl_opts *o, json_t *array, const char *const *cols,
		     const char *const *heads)
{
	size_t ncols = 0, i;
	int width[16];
	json_t *row;
	char buf[1024];

	if (o->json) {
		ctl_print_json(array);
		return;
	}
	while (cols[ncols] && ncols < 16)
		ncols++;
	for (i = 0; i < ncols; i++)
		width[i] = (int)strlen(heads[i]);
	json_array_foreach(array, i, row)
	{
		for (size_t c = 0; c < ncols; c++) {
			int n = (int)strlen(text(json_object_get(row, cols[c]), buf, sizeof(buf)));

			if (n > width[c])
				width[c] = n;
		}
	}
	for (size_t c = 0; c < ncols; c++)
		printf("%-*s%s", width[c], heads[c], c + 1 < ncols ? "  " : "\n");
	json_array_foreach(array, i, row)
	{
		for (size_t c = 0; c < ncols; c++)
			printf("%-*s%s", width[c],
			       text(json_object_get(row, cols[c]), buf, sizeof(buf)),
			       c + 1 < ncols ? "  " : "\n");
	}
}

int ctl_print_done(const struct ctl_opts *o, const struct ctl_reply *r, const char *what)
{
	if (o->json) {
		json_t *v = json_pack("{s:b, s:I, s:s}", "ok", 1, "count", (json_int_t)r->count,
				      "message", r->message[0] ? r->message : what);

		ctl_print_json(v);
		json_decref(v);
	} else {
		printf("%s%s%s\n", what, r->message[0] ? ": " : "", r->message);
	}
	return CTL_OK;
}
