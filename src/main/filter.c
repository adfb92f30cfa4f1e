/* Per-session packet policy in the kernel, through libnftables (filter.h). The rules are
 * nft's own syntax, built from values main parsed or derived itself (addresses it leased,
 * networks the configuration schema normalised, device names the kernel gave). */
#include "config.h"

#include "main/filter.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <talloc.h>

#include "common/log.h"
#include "common/netaddr.h"
#include "common/ports.h"
#include "main/main.h"
#include "main/nft.h"

struct main_filter {
	struct main_nft *nft;
	char table[IFNAMSIZ + 16]; /* "inet sluice_<device>" */
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
	/* Priority raw: a dropped packet never reaches conntrack. */
	body = talloc_asprintf(f,
			       "add map %1$s sessions { type iface_index : verdict; }\n"
			       "add chain %1$s prerouting { type filter hook prerouting priority raw; "
			       "policy accept; }\n"
			       "add rule %1$s prerouting iif vmap @sessions\n",
			       f->table);
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

/* The sets a session's chain may have, named "<name>_<device>": the bit of each is set
 * in w->filtered when it was made. */
enum {
	SET_SRC = 1 << 0,
	SET_DNS = 1 << 1,
	SET_NOROUTE = 1 << 2,
	SET_ROUTE = 1 << 3,
	SET_SRC6 = 1 << 4,
	SET_DNS6 = 1 << 5,
	SET_NOROUTE6 = 1 << 6,
	SET_ROUTE6 = 1 << 7,
	SET_CHAIN = 1 << 8, /* not a set: the chain exists */
};
static const char *const set_names[] = {"src", "dns", "noroute", "route",
					"src6", "dns6", "noroute6", "route6"};

struct builder {
	char *cmd; /* NULL once out of memory */
	const char *table, *device;
	unsigned made;
};

static void add(struct builder *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct builder *b, const char *fmt, ...)
{
	va_list ap;

	if (!b->cmd)
		return;
	va_start(ap, fmt);
	b->cmd = talloc_vasprintf_append(b->cmd, fmt, ap);
	va_end(ap);
}

/* Makes set `bit` of the family's address type. */
static void make_set(struct builder *b, unsigned bit, int family)
{
	add(b, "add set %s %s_%s { type %s; flags interval; auto-merge; }\n", b->table,
	    set_names[__builtin_ctz(bit)], b->device, family == AF_INET ? "ipv4_addr" : "ipv6_addr");
	b->made |= bit;
}

/* Adds the items of a list that are of family ("default" is no network) to set `bit`;
 * false when there were none. */
static bool add_elements(struct builder *b, unsigned bit, int family, char *const *items,
			 size_t n)
{
	bool any = false;

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
		if (any)
			add(b, ", %s", items[i]);
		else
			add(b, "add element %s %s_%s { %s", b->table, set_names[__builtin_ctz(bit)],
			    b->device, items[i]);
		any = true;
	}
	if (any)
		add(b, " }\n");
	return any;
}

static bool has_default(char *const *routes, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(routes[i], "default") == 0)
			return true;
	return false;
}

/* One family's rules: sources, then with restrict-user-to-routes the destinations.
 * set0 is the family's SET_SRC bit; the others follow it in the same order. */
static void family_rules(struct builder *b, const struct sluice_config *c, int family,
			 const char *own, unsigned set0)
{
	const char *ip = family == AF_INET ? "ip" : "ip6";
	const char *d = b->device;
	unsigned dns = set0 << 1, no = set0 << 2, to = set0 << 3;
	const char *s_dns = set_names[__builtin_ctz(dns)], *s_no = set_names[__builtin_ctz(no)];
	const char *s_to = set_names[__builtin_ctz(to)], *s_src = set_names[__builtin_ctz(set0)];

	make_set(b, set0, family);
	add(b, "add element %s %s_%s { %s }\n", b->table, s_src, d, own);
	add_elements(b, set0, family, c->iroutes, c->n_iroutes);
	add(b, "add rule %1$s s_%2$s %3$s saddr != @%4$s_%2$s counter drop\n", b->table, d, ip,
	    s_src);
	/* restrict-user-to-ports implies it, as in ocserv. */
	if (!(c->restrict_to_routes || c->restrict_to_ports) || has_default(c->routes, c->n_routes))
		return;
	make_set(b, dns, family);
	make_set(b, no, family);
	make_set(b, to, family);
	add_elements(b, dns, family, c->dns, c->n_dns);
	add_elements(b, no, family, c->no_routes, c->n_no_routes);
	/* No route of this family: the client routes all of it through the VPN. */
	if (add_elements(b, to, family, c->routes, c->n_routes))
		add(b,
		    "add rule %1$s s_%2$s %3$s daddr @%4$s_%2$s udp dport 53 accept\n"
		    "add rule %1$s s_%2$s %3$s daddr @%4$s_%2$s tcp dport 53 accept\n"
		    "add rule %1$s s_%2$s %3$s daddr @%5$s_%2$s counter drop\n"
		    "add rule %1$s s_%2$s %3$s daddr != @%6$s_%2$s counter drop\n",
		    b->table, d, ip, s_dns, s_no, s_to);
}

/* restrict-user-to-ports: the protocols and ports that pass (and then nothing else),
 * or for a negation those that are dropped; after the source and route rules, so that
 * DNS to the session's servers still passes. */
static void port_rules(struct builder *b, const char *text)
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
		TALLOC_FREE(b->cmd);
		return;
	}
	for (size_t i = 0; i < l.n; i++) {
		const struct port_rule *r = &l.rules[i];

		add(b, "add rule %s s_%s meta l4proto %s", b->table, b->device, l4[r->proto]);
		if (ports_proto_has_port(r->proto))
			add(b, " th dport %u", r->port);
		add(b, " %s\n", l.deny ? "counter drop" : "accept");
	}
	if (!l.deny)
		add(b, "add rule %s s_%s counter drop\n", b->table, b->device);
}

int filter_session_add(struct main_ctx *m, struct main_worker *w)
{
	struct main_filter *f = m->filter;
	const struct sluice_config *c = w->cfg;
	struct builder b = {talloc_strdup(NULL, ""), f->table, w->device, SET_CHAIN};
	char ip[INET6_ADDRSTRLEN + 4];
	int ret;

	/* Interval sets with auto-merge take overlapping networks (an iroute inside
	 * another) as the configuration may list them. */
	add(&b, "add chain %s s_%s\n", b.table, b.device);
	if (w->pool) {
		inet_ntop(AF_INET, &w->vpn_ip, ip, sizeof(ip));
		family_rules(&b, c, AF_INET, ip, SET_SRC);
	} else {
		add(&b, "add rule %s s_%s meta nfproto ipv4 counter drop\n", b.table, b.device);
	}
	if (w->pool6) {
		struct main_addrs a;

		main_session_addrs(w, &a);
		snprintf(ip, sizeof(ip), "%s", a.prefix6);
		family_rules(&b, c, AF_INET6, ip, SET_SRC6);
	} else {
		add(&b, "add rule %s s_%s meta nfproto ipv6 counter drop\n", b.table, b.device);
	}
	if (c->restrict_to_ports)
		port_rules(&b, c->restrict_to_ports);
	add(&b, "add element %1$s sessions { \"%2$s\" : jump s_%2$s }\n", b.table, b.device);
	ret = b.cmd ? main_nft_run(f->nft, "cannot install the session's packet policy", b.cmd)
		    : -ENOMEM;
	talloc_free(b.cmd);
	/* A failed transaction made nothing. */
	w->filtered = ret == 0 ? b.made : 0;
	return ret;
}

void filter_session_del(struct main_ctx *m, struct main_worker *w)
{
	struct main_filter *f = m->filter;
	char *cmd;

	if (!w->filtered)
		return;
	/* The element first: nothing may jump to a chain that is being deleted. */
	cmd = talloc_asprintf(NULL,
			      "delete element %1$s sessions { \"%2$s\" }\n"
			      "flush chain %1$s s_%2$s\n"
			      "delete chain %1$s s_%2$s\n",
			      f->table, w->device);
	for (size_t i = 0; cmd && i < sizeof(set_names) / sizeof(set_names[0]); i++)
		if (w->filtered & (1u << i))
			cmd = talloc_asprintf_append(cmd, "delete set %s %s_%s\n", f->table,
						     set_names[i], w->device);
	if (cmd)
		main_nft_run(f->nft, "cannot remove the session's packet policy", cmd);
	talloc_free(cmd);
	w->filtered = 0;
}
