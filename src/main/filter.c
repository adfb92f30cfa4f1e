/* Per-session packet policy in the kernel, through libnftables (filter.h). The rules are
 * nft's own syntax, built from values main parsed or derived itself (networks the
 * configuration schema normalised, device names the kernel gave). */
#include "config.h"

#include "main/filter.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <talloc.h>

#include "common/log.h"
#include "common/ports.h"
#include "main/main.h"
#include "main/nft.h"

/* A policy and the chain that holds it, "p_<id>", shared by the sessions whose
 * configuration and address families make the same rules. */
struct filter_profile {
	struct filter_profile *next;
	char *rules; /* one per line, each without "add rule TABLE CHAIN " */
	unsigned id;
	unsigned refs; /* sessions jumping to it */
};

struct main_filter {
	struct main_nft *nft;
	char table[IFNAMSIZ + 16]; /* "inet sluice_<device>" */
	struct filter_profile *profiles;
	unsigned next_id;
};

int filter_start(struct main_ctx *m)
{
	struct main_filter *f = talloc_zero(m, struct main_filter);
	char *body;
	int ret;

	if (!f || !(f->nft = main_nft_new(f))) {
		talloc_free(f);
		return -ENOMEM;
	}
	snprintf(f->table, sizeof(f->table), "inet sluice_%s", m->cfg->device);
	/* Priority raw: a dropped packet never reaches conntrack. A device of this server
	 * that has no policy (yet, or any more) passes nothing. */
	body = talloc_asprintf(f,
			       "add map %1$s sessions { type ifname : verdict; }\n"
			       "add chain %1$s prerouting { type filter hook prerouting priority raw; "
			       "policy accept; }\n"
			       "add rule %1$s prerouting iifname vmap @sessions\n"
			       "add rule %1$s prerouting iifname \"%2$s*\" counter drop\n",
			       f->table, m->cfg->device);
	ret = body ? main_nft_table_create(f->nft, "cannot create the session filter table",
					   f->table, body)
		   : -ENOMEM;
	if (ret < 0) {
		talloc_free(f);
		return ret;
	}
	talloc_free(body);
	m->filter = f;
	log_info("nftables: per-session packet policy in table %s", f->table);
	return 0;
}

void filter_stop(struct main_ctx *m)
{
	struct main_filter *f = m->filter;

	if (!f)
		return;
	main_nft_table_delete(f->nft, "cannot delete the session filter table", f->table);
	talloc_free(f);
	m->filter = NULL;
}

/* --- a session's rules ------------------------------------------------------------------ */

static void add(char **rules, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(char **rules, const char *fmt, ...)
{
	va_list ap;

	if (!*rules)
		return;
	va_start(ap, fmt);
	*rules = talloc_vasprintf_append(*rules, fmt, ap);
	va_end(ap);
}

/* The networks of a list that are of family ("default" is none), as the elements of an
 * anonymous set (nft merges overlapping ones) allocated under ctx; NULL when there are
 * none, or when out of memory, which also sets *oom. */
static char *networks(const void *ctx, bool *oom, int family, char *const *items, size_t n)
{
	char *set = NULL;

	for (size_t i = 0; i < n; i++) {
		char addr[INET6_ADDRSTRLEN];
		uint8_t a[16];
		size_t len = strcspn(items[i], "/");

		if (len >= sizeof(addr))
			continue;
		memcpy(addr, items[i], len);
		addr[len] = '\0';
		if (inet_pton(family, addr, a) != 1)
			continue;
		set = set ? talloc_asprintf_append(set, ", %s", items[i]) : talloc_strdup(ctx, items[i]);
		if (!set) {
			*oom = true;
			return NULL;
		}
	}
	return set;
}

static bool has_default(char *const *routes, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(routes[i], "default") == 0)
			return true;
	return false;
}

/* restrict-user-to-routes for one family: DNS to the session's servers, then nothing
 * inside a no-route, then nothing outside the routes. No route of the family: the
 * client routes all of it through the VPN. */
static void route_rules(char **rules, const struct sluice_config *c, int family)
{
	const char *ip = family == AF_INET ? "ip" : "ip6";
	void *tmp = talloc_new(NULL);
	bool oom = !tmp;
	char *to = tmp ? networks(tmp, &oom, family, c->routes, c->n_routes) : NULL;
	char *dns = to ? networks(tmp, &oom, family, c->dns, c->n_dns) : NULL;
	char *no = to ? networks(tmp, &oom, family, c->no_routes, c->n_no_routes) : NULL;

	/* Out of memory: no policy at all rather than one without a rule. */
	if (oom) {
		TALLOC_FREE(*rules);
	} else if (to) {
		if (dns)
			add(rules,
			    "%1$s daddr { %2$s } udp dport 53 accept\n"
			    "%1$s daddr { %2$s } tcp dport 53 accept\n",
			    ip, dns);
		if (no)
			add(rules, "%s daddr { %s } counter drop\n", ip, no);
		add(rules, "%s daddr != { %s } counter drop\n", ip, to);
	}
	talloc_free(tmp);
}

/* restrict-user-to-ports: the protocols and ports that pass (and then nothing else),
 * or for a negation those that are dropped; after the route rules, so that DNS to the
 * session's servers still passes. */
static void port_rules(char **rules, const char *text)
{
	static const char *const l4[] = {
	    [PORT_TCP] = "tcp",       [PORT_UDP] = "udp",          [PORT_SCTP] = "sctp",
	    [PORT_ICMP] = "icmp",     [PORT_ICMPV6] = "ipv6-icmp", [PORT_ESP] = "esp",
	};
	struct port_list l;
	char why[160];

	/* The configuration checked it: a failure here is memory, or a bug. */
	if (ports_parse(text, &l, why, sizeof(why)) < 0) {
		log_err("restrict-user-to-ports '%s': %s", text, why);
		TALLOC_FREE(*rules);
		return;
	}
	for (size_t i = 0; i < l.n; i++) {
		const struct port_rule *r = &l.rules[i];

		add(rules, "meta l4proto %s", l4[r->proto]);
		if (ports_proto_has_port(r->proto))
			add(rules, " th dport %u", r->port);
		add(rules, " %s\n", l.deny ? "counter drop" : "accept");
	}
	if (!l.deny)
		add(rules, "counter drop\n");
}

/* The rules of w's policy; NULL when out of memory. Sources: a packet whose source
 * does not route back through the device it came from (the session's address, its
 * IPv6 prefix, its iroutes: main routes each of them to the device before the worker
 * gets it) is dropped, as by a strict reverse-path filter. */
static char *session_rules(const void *ctx, const struct main_worker *w)
{
	const struct sluice_config *c = w->cfg;
	bool restrict_routes = (c->restrict_to_routes || c->restrict_to_ports) &&
			       !has_default(c->routes, c->n_routes);
	char *rules = talloc_strdup(ctx, "");

	if (!w->pool)
		add(&rules, "meta nfproto ipv4 counter drop\n");
	if (!w->pool6)
		add(&rules, "meta nfproto ipv6 counter drop\n");
	add(&rules, "fib saddr . iif oif missing counter drop\n");
	if (restrict_routes) {
		if (w->pool)
			route_rules(&rules, c, AF_INET);
		if (w->pool6)
			route_rules(&rules, c, AF_INET6);
	}
	if (c->restrict_to_ports)
		port_rules(&rules, c->restrict_to_ports);
	return rules;
}

/* --- profiles ---------------------------------------------------------------------------- */

static struct filter_profile *profile_find(struct main_filter *f, const char *rules)
{
	for (struct filter_profile *p = f->profiles; p; p = p->next)
		if (strcmp(p->rules, rules) == 0)
			return p;
	return NULL;
}

/* Appends the commands that make p's chain to cmd. */
static char *profile_create_cmd(struct main_filter *f, const struct filter_profile *p, char *cmd)
{
	const char *line = p->rules;

	cmd = talloc_asprintf_append(cmd, "add chain %s p_%u\n", f->table, p->id);
	while (cmd && *line) {
		size_t len = strcspn(line, "\n");

		cmd = talloc_asprintf_append(cmd, "add rule %s p_%u %.*s\n", f->table, p->id,
					     (int)len, line);
		line += len + (line[len] == '\n');
	}
	return cmd;
}

static void profile_unlink(struct main_filter *f, struct filter_profile *p)
{
	for (struct filter_profile **pp = &f->profiles; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	talloc_free(p);
}

/* --- sessions ---------------------------------------------------------------------------- */

int filter_session_add(struct main_ctx *m, struct main_worker *w)
{
	struct main_filter *f = m->filter;
	char *rules = session_rules(f, w);
	struct filter_profile *p = rules ? profile_find(f, rules) : NULL;
	bool made = false;
	char *cmd = NULL, *retry = NULL;
	int ret = -ENOMEM;

	if (!rules)
		goto out;
	if (!p) {
		p = talloc_zero(f, struct filter_profile);
		if (!p)
			goto out;
		p->rules = talloc_steal(p, rules);
		rules = NULL;
		p->id = f->next_id++;
		made = true;
	}
	cmd = made ? profile_create_cmd(f, p, talloc_strdup(f, "")) : talloc_strdup(f, "");
	/* One element per session: the device's name, which only this session has while
	 * it exists (the element goes before the device does). */
	retry = talloc_asprintf(f, "%sdelete element %s sessions { \"%s\" }\n", cmd ? cmd : "",
				f->table, w->device);
	cmd = talloc_asprintf_append(cmd, "add element %s sessions { \"%s\" : goto p_%u }\n",
				     f->table, w->device, p->id);
	retry = talloc_asprintf_append(retry, "add element %s sessions { \"%s\" : goto p_%u }\n",
				       f->table, w->device, p->id);
	if (!cmd || !retry)
		goto out;
	ret = main_nft_try(f->nft, cmd);
	/* An element that outlived its session (its deletion failed) is replaced. */
	if (ret < 0) {
		ret = main_nft_run(f->nft, "cannot install the session's packet policy", retry);
		if (ret == 0)
			log_warn("nftables: replaced a stale packet policy of %s", w->device);
	}
out:
	if (made && ret == 0) {
		p->next = f->profiles;
		f->profiles = p;
	} else if (made) {
		talloc_free(p);
	}
	if (ret == 0) {
		p->refs++;
		w->filter_profile = p;
	}
	talloc_free(rules);
	talloc_free(cmd);
	talloc_free(retry);
	return ret;
}

void filter_session_del(struct main_ctx *m, struct main_worker *w)
{
	struct main_filter *f = m->filter;
	struct filter_profile *p = w->filter_profile;
	char *cmd;

	if (!p)
		return;
	w->filter_profile = NULL;
	p->refs--;
	/* The element first: nothing may jump to a chain that is being deleted. */
	cmd = talloc_asprintf(f, "delete element %s sessions { \"%s\" }\n", f->table, w->device);
	if (cmd && p->refs == 0)
		cmd = talloc_asprintf_append(cmd, "flush chain %1$s p_%2$u\ndelete chain %1$s p_%2$u\n",
					     f->table, p->id);
	/* A chain that could not be deleted is still there to be used again. */
	if (cmd && main_nft_run(f->nft, "cannot remove the session's packet policy", cmd) == 0 &&
	    p->refs == 0)
		profile_unlink(f, p);
	talloc_free(cmd);
}
