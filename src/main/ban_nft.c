/* Bans the kernel enforces, through libnftables (ban_nft.h). Commands are built from the
 * table name the configuration schema checked (a letter, then letters, digits, '_'),
 * addresses main formats itself, and port numbers. */
#include "config.h"

#include "main/ban_nft.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <talloc.h>

#include "common/log.h"
#include "main/main.h"
#include "main/nft.h"

struct main_ban_nft {
	struct main_nft *nft;
	char table[48]; /* "inet NAME" */
};

static const char *set_of(const struct netaddr *a)
{
	return a->family == AF_INET ? "ban4" : "ban6";
}

static bool is_any(const struct netaddr *a)
{
	static const uint8_t zero[sizeof(a->a)];

	return memcmp(a->a, zero, sizeof(zero)) == 0;
}

/* " & ffff:ffff:ffff:ffff::", the mask of ban-ipv6-prefix that ban6's elements were
 * cut with; "" at 128. */
static void mask6_text(unsigned prefix, char *buf, size_t len)
{
	struct netaddr mask = {.family = AF_INET6};
	char text[INET6_ADDRSTRLEN];

	buf[0] = '\0';
	if (prefix >= 128)
		return;
	memset(mask.a, 0xff, sizeof(mask.a));
	netaddr_mask(&mask, prefix);
	snprintf(buf, len, " & %s", netaddr_text(&mask, text, sizeof(text)));
}

/* The rules for one listening socket (tcp: a stream socket, else UDP), appended to *cmd:
 * one for each family it takes. An IPv6 socket on all addresses takes IPv4 too unless
 * it is IPV6_V6ONLY. */
static void socket_rules(char **cmd, const struct main_ban_nft *b, const char *mask6, int fd,
			 bool tcp)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss), olen;
	char addr[INET6_ADDRSTRLEN], to[INET6_ADDRSTRLEN + 16] = "", match[64];
	struct netaddr a;
	unsigned port;
	int v6only = 0;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
		log_warn("ban-nftables: a listening socket without an address: %s",
			 strerror(errno));
		return;
	}
	netaddr_from_sockaddr(&ss, &a, &port);
	if (a.family == AF_UNSPEC)
		return;
	olen = sizeof(v6only);
	if (ss.ss_family == AF_INET6 &&
	    getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &olen) < 0)
		v6only = 0;
	if (!is_any(&a))
		snprintf(to, sizeof(to), "%s daddr %s ", a.family == AF_INET ? "ip" : "ip6",
			 netaddr_text(&a, addr, sizeof(addr)));
	/* The cheap matches first: the set is looked up only for what is bound for sluiced. */
	if (tcp)
		snprintf(match, sizeof(match), "tcp dport %u tcp flags & (syn | ack) == syn", port);
	else
		snprintf(match, sizeof(match), "udp dport %u", port);
	if (a.family == AF_INET || (is_any(&a) && !v6only))
		*cmd = talloc_asprintf_append(*cmd,
					      "add rule %s input %s%s ip saddr @ban4 counter "
					      "drop\n",
					      b->table, a.family == AF_INET ? to : "", match);
	if (a.family == AF_INET6 && *cmd)
		*cmd = talloc_asprintf_append(*cmd,
					      "add rule %s input %s%s ip6 saddr%s @ban6 "
					      "counter drop\n",
					      b->table, to, match, mask6);
}

void ban_nft_start(struct main_ctx *m)
{
	struct main_ban_nft *b;
	char mask6[INET6_ADDRSTRLEN + 4], what[128];
	char *body = NULL;
	int ret = -ENOMEM;

	if (!m->cfg->ban_nftables)
		return;
	b = talloc_zero(m, struct main_ban_nft);
	if (b && (b->nft = main_nft_new(b))) {
		snprintf(b->table, sizeof(b->table), "inet %s", m->cfg->ban_nftables);
		mask6_text(m->cfg->ban_ipv6_prefix, mask6, sizeof(mask6));
		body = talloc_asprintf(b,
				       "add set %1$s ban4 { type ipv4_addr; flags timeout; }\n"
				       "add set %1$s ban6 { type ipv6_addr; flags timeout; }\n"
				       "add chain %1$s input { type filter hook input priority "
				       "filter; policy accept; }\n",
				       b->table);
		for (unsigned i = 0; body && i < m->n_listen; i++)
			socket_rules(&body, b, mask6, m->listen_fd[i], true);
		if (body && m->udp_fd >= 0)
			socket_rules(&body, b, mask6, m->udp_fd, false);
		snprintf(what, sizeof(what), "cannot make table %s for ban-nftables", b->table);
		ret = body ? main_nft_table_create(b->nft, what, b->table, body) : -ENOMEM;
	}
	if (ret < 0) {
		log_err("ban-nftables: %s; the kernel does not drop banned addresses, main "
			"alone refuses them",
			ret == -ENOMEM ? "out of memory" : "no table");
		talloc_free(b);
		return;
	}
	talloc_free(body);
	m->ban_nft = b;
	log_info("ban-nftables: the kernel drops banned addresses (table %s)", b->table);
}

void ban_nft_stop(struct main_ctx *m)
{
	struct main_ban_nft *b = m->ban_nft;
	char what[96];

	if (!b)
		return;
	snprintf(what, sizeof(what), "cannot delete table %s of ban-nftables", b->table);
	main_nft_table_delete(b->nft, what, b->table);
	talloc_free(b);
	m->ban_nft = NULL;
}

/* Runs "add element" then "delete element" of key, and then the text of more (may be
 * empty): the pair removes the element whether or not the kernel still has it (a delete
 * alone fails once its timeout took it), in one transaction with what follows. */
static void change(struct main_ctx *m, const struct netaddr *key, const char *verb,
		   const char *more)
{
	struct main_ban_nft *b = m->ban_nft;
	char ip[INET6_ADDRSTRLEN], what[128];
	char *cmd;

	netaddr_text(key, ip, sizeof(ip));
	cmd = talloc_asprintf(b,
			      "add element %1$s %2$s { %3$s }\n"
			      "delete element %1$s %2$s { %3$s }\n%4$s",
			      b->table, set_of(key), ip, more);
	snprintf(what, sizeof(what), "cannot %s %s in set %s of table %s", verb, ip, set_of(key),
		 b->table);
	if (cmd)
		main_nft_run(b->nft, what, cmd);
	else
		log_err("nftables: %s: out of memory", what);
	talloc_free(cmd);
}

void ban_nft_add(struct main_ctx *m, const struct netaddr *key, time_t until)
{
	struct main_ban_nft *b = m->ban_nft;
	char ip[INET6_ADDRSTRLEN], more[256];
	double left;

	if (!b)
		return;
	/* Counted from main's clock, so that the kernel lets the element go when ban.c
	 * ends the ban. */
	left = (double)until - ev_now(m->loop);
	netaddr_text(key, ip, sizeof(ip));
	snprintf(more, sizeof(more), "add element %s %s { %s timeout %llums }\n", b->table,
		 set_of(key), ip, left > 0.001 ? (unsigned long long)(left * 1000) : 1ULL);
	/* An element left from an earlier ban would keep its own timeout. */
	change(m, key, "ban", more);
}

void ban_nft_del(struct main_ctx *m, const struct netaddr *key)
{
	if (m->ban_nft)
		change(m, key, "unban", "");
}
