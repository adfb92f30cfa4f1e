/* `show ip bans`, `show ip ban points` and `unban ip`: main's ban table (main/ban.c)
 * as the control socket shows and changes it. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ipc/ctl.pb-c.h"
#include "main/ban.h"
#include "main/ctl_conn.h"

static int send_ban(struct main_ctl_conn *c, const struct ban_info *b)
{
	CtlBan cb = CTL_BAN__INIT;

	cb.ip = (char *)b->ip;
	cb.score = b->score;
	cb.last = b->last;
	if (b->banned_until) {
		cb.has_since = cb.has_until = true;
		cb.since = b->banned_since;
		cb.until = b->banned_until;
	}
	return ipc_send(c->ch.fd, CTL_TYPE__CTL_BAN, &cb.base, NULL, 0);
}

/* Over the copy of the ban table; c->sent indexes it. */
int ctl_pump_bans(struct main_ctl_conn *c)
{
	int ret;

	for (int n = 0; n < CTL_BATCH && c->sent < c->n_bans; n++) {
		ret = send_ban(c, &c->bans[c->sent]);
		if (ret == -EAGAIN)
			return 0;
		if (ret < 0)
			return ret;
		c->sent++;
	}
	return c->sent < c->n_bans ? 0 : ctl_finish_list(c);
}

static void copy_ban(void *arg, const struct ban_info *b)
{
	struct main_ctl_conn *c = arg;
	struct ban_info *more;

	if (!c->bans)
		return; /* out of memory earlier: the list ends short */
	more = talloc_realloc(c, c->bans, struct ban_info, c->n_bans + 1);
	if (!more) {
		TALLOC_FREE(c->bans);
		return;
	}
	c->bans = more;
	c->bans[c->n_bans++] = *b;
}

/* The table is copied first: it may change (or entries expire) while a slow reader
 * takes the list. */
static int list_bans(struct main_ctl_conn *c, bool banned_only)
{
	c->n_bans = 0;
	c->bans = talloc_array(c, struct ban_info, 0);
	if (!c->bans)
		return -ENOMEM;
	main_ban_list(c->m, banned_only, copy_ban, c);
	if (!c->bans)
		return -ENOMEM;
	return ctl_start_list(c);
}

int ctl_on_show_ip_bans(void *ctx, void *msg, int *fds)
{
	return list_bans(ctx, true);
}

int ctl_on_show_ip_ban_points(void *ctx, void *msg, int *fds)
{
	return list_bans(ctx, false);
}

int ctl_on_unban_ip(void *ctx, void *msg, int *fds)
{
	struct main_ctl_conn *c = ctx;
	CtlIp *ip = msg;
	char what[NETADDR_PREFIX_STRLEN + 16];
	int ret;

	if (strnlen(ip->ip, NETADDR_PREFIX_STRLEN) >= NETADDR_PREFIX_STRLEN)
		return ctl_send_done(c, EINVAL, "invalid address", 0);
	snprintf(what, sizeof(what), "unban ip %s", ip->ip);
	ret = main_ban_unban(c->m, ip->ip);
	if (ret == -EINVAL)
		return ctl_send_done(c, EINVAL, "invalid address", 0);
	ctl_audit(c, what, ret == 0);
	if (ret < 0)
		return ctl_send_done(c, -ret, "address not in the ban list", 0);
	return ctl_send_done(c, 0, NULL, 1);
}
