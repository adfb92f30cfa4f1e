/* Per-session packet policy in the kernel, through libnftables (filter.h). The rules are
 * nft's own syntax, built from values main parsed or derived itself (addresses it leased,
 * networks the configuration schema normalised, device names the kernel gave). */
#include "config.h"

#include "main/filter.h"

#include <arpa/inet.h>
#include <errno.h>
#include <nftables/libnftables.h>
#include <string.h>
#include <talloc.h>

#include "common/log.h"
#include "main/main.h"

struct main_filter {
	struct nft_ctx *nft;
	char table[IFNAMSIZ + 16]; /* "inet sluice_<device>" */
};

/* One transaction: all of cmd or nothing. */
static int run(struct main_filter *f, const char *what, const char *cmd)
{
	if (nft_run_cmd_from_buffer(f->nft, cmd) == 0)
		return 0;
	log_err("nftables: %s: %s", what, nft_ctx_get_error_buffer(f->nft));
	return -EIO;
}

int filter_start(struct main_ctx *m)
{
	struct main_filter *f = talloc_zero(m, struct main_filter);
	char *cmd;
	int ret;

	if (!f)
		return -ENOMEM;
	f->nft = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!f->nft || nft_ctx_buffer_error(f->nft) < 0 || nft_ctx_buffer_output(f->nft) < 0) {
		talloc_free(f);
		return -ENOMEM;
	}
	snprintf(f->table, sizeof(f->table), "inet sluice_%s", m->cfg->device);
	/* "add" then "delete" empties a table left by a previous run, and works when there
	 * is none. Priority raw: a dropped packet never reaches conntrack. */
	cmd = talloc_asprintf(f,
			      "add table %1$s\n"
			      "delete table %1$s\n"
			      "add table %1$s\n"
			      "add map %1$s sessions { type iface_index : verdict; }\n"
			      "add chain %1$s prerouting { type filter hook prerouting priority raw; "
			      "policy accept; }\n"
			      "add rule %1$s prerouting iif vmap @sessions\n",
			      f->table);
	ret = cmd ? run(f, "cannot create the session filter table", cmd) : -ENOMEM;
	if (ret < 0) {
		nft_ctx_free(f->nft);
		talloc_free(f);
		return ret;
	}
	talloc_free(cmd);
	m->filter = f;
	log_info("nftables: per-session packet policy in table %s", f->table);
	return 0;
}

void filter_stop(struct main_ctx *m)
{
	struct main_filter *f = m->filter;
	char cmd[64];

	if (!f)
		return;
	snprintf(cmd, sizeof(cmd), "delete table %s\n", f->table);
	run(f, "cannot delete the session filter table", cmd);
	nft_ctx_free(f->nft);
	talloc_free(f);
	m->filter = NULL;
}

/* Appends "add element TABLE SET { a, b }" for the IPv4 items of a list ("default" and
 * IPv6 items are no IPv4 networks); false when there were none. */
static bool add_elements(char **cmd, const char *table, const char *set, char *const *items,
			 size_t n)
{
	bool any = false;

	for (size_t i = 0; *cmd && i < n; i++) {
		char addr[INET_ADDRSTRLEN];
		struct in_addr a;
		size_t len = strcspn(items[i], "/");

		if (len >= sizeof(addr))
			continue;
		memcpy(addr, items[i], len);
		addr[len] = '\0';
		if (inet_pton(AF_INET, addr, &a) != 1)
			continue;
		if (any)
			*cmd = talloc_asprintf_append(*cmd, ", %s", items[i]);
		else
			*cmd = talloc_asprintf_append(*cmd, "add element %s %s { %s", table, set,
						      items[i]);
		any = true;
	}
	if (any && *cmd)
		*cmd = talloc_asprintf_append(*cmd, " }\n");
	return any;
}

static bool has_default(char *const *routes, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(routes[i], "default") == 0)
			return true;
	return false;
}

int filter_session_add(struct main_ctx *m, const struct main_worker *w)
{
	struct main_filter *f = m->filter;
	const struct sluice_config *c = w->cfg;
	const char *t = f->table, *d = w->device;
	char ip[INET_ADDRSTRLEN];
	char *cmd;
	int ret;

	inet_ntop(AF_INET, &w->vpn_ip, ip, sizeof(ip));
	/* Interval sets with auto-merge take overlapping networks (an iroute inside
	 * another) as the configuration may list them. */
	cmd = talloc_asprintf(NULL,
			      "add chain %1$s s_%2$s\n"
			      "add set %1$s src_%2$s { type ipv4_addr; flags interval; auto-merge; }\n"
			      "add element %1$s src_%2$s { %3$s }\n"
			      "add rule %1$s s_%2$s meta nfproto ipv6 counter drop\n"
			      "add rule %1$s s_%2$s ip saddr != @src_%2$s counter drop\n",
			      t, d, ip);
	if (cmd)
		add_elements(&cmd, t, talloc_asprintf(cmd, "src_%s", d), c->iroutes, c->n_iroutes);
	if (cmd && c->restrict_to_routes && !has_default(c->routes, c->n_routes)) {
		char *set_dns = talloc_asprintf(cmd, "dns_%s", d);
		char *set_no = talloc_asprintf(cmd, "noroute_%s", d);
		char *set_to = talloc_asprintf(cmd, "route_%s", d);

		cmd = talloc_asprintf_append(
		    cmd,
		    "add set %1$s %2$s { type ipv4_addr; flags interval; auto-merge; }\n"
		    "add set %1$s %3$s { type ipv4_addr; flags interval; auto-merge; }\n"
		    "add set %1$s %4$s { type ipv4_addr; flags interval; auto-merge; }\n",
		    t, set_dns, set_no, set_to);
		add_elements(&cmd, t, set_dns, c->dns, c->n_dns);
		add_elements(&cmd, t, set_no, c->no_routes, c->n_no_routes);
		/* No IPv4 route at all: the client routes everything through the VPN. */
		if (add_elements(&cmd, t, set_to, c->routes, c->n_routes))
			cmd = talloc_asprintf_append(
			    cmd,
			    "add rule %1$s s_%2$s ip daddr @%3$s udp dport 53 accept\n"
			    "add rule %1$s s_%2$s ip daddr @%3$s tcp dport 53 accept\n"
			    "add rule %1$s s_%2$s ip daddr @%4$s counter drop\n"
			    "add rule %1$s s_%2$s ip daddr != @%5$s counter drop\n",
			    t, d, set_dns, set_no, set_to);
	}
	if (cmd)
		cmd = talloc_asprintf_append(cmd, "add element %1$s sessions { \"%2$s\" : jump s_%2$s }\n",
					     t, d);
	ret = cmd ? run(f, "cannot install the session's packet policy", cmd) : -ENOMEM;
	talloc_free(cmd);
	return ret;
}

void filter_session_del(struct main_ctx *m, const struct main_worker *w)
{
	struct main_filter *f = m->filter;
	const char *sets[] = {"src", "dns", "noroute", "route"};
	char *cmd;

	/* The element first: nothing may jump to a chain that is being deleted. Sets that
	 * a session without restrict-user-to-routes never had are not asked for. */
	cmd = talloc_asprintf(NULL,
			      "delete element %1$s sessions { \"%2$s\" }\n"
			      "flush chain %1$s s_%2$s\n"
			      "delete chain %1$s s_%2$s\n",
			      f->table, w->device);
	for (size_t i = 0; cmd && i < sizeof(sets) / sizeof(sets[0]); i++)
		if (i == 0 || (w->cfg->restrict_to_routes &&
			       !has_default(w->cfg->routes, w->cfg->n_routes)))
			cmd = talloc_asprintf_append(cmd, "delete set %s %s_%s\n", f->table, sets[i],
						     w->device);
	if (cmd)
		run(f, "cannot remove the session's packet policy", cmd);
	talloc_free(cmd);
}
