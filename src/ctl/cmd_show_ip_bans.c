#include "config.h"

#include "ctl/ctl.h"

static void on_ban(const CtlBan *b, void *data)
{
	json_array_append_new(data, ctl_ban_json(b));
}

int ctl_show_bans(const struct ctl_opts *o, uint16_t type)
{
	static const char *const ban_cols[] = {"IP", "Since", "Expires", "Score", NULL};
	static const char *const ban_heads[] = {"ip", "since", "expires", "score"};
	static const char *const point_cols[] = {"IP", "Score", NULL};
	static const char *const point_heads[] = {"ip", "score"};
	bool bans = type == CTL_TYPE__CTL_SHOW_IP_BANS;
	CtlEmpty req = CTL_EMPTY__INIT;
	json_t *list = json_array();
	struct ctl_reply r = {.on_ban = on_ban, .data = list};
	int ret = ctl_request(o, type, &req.base, &r);

	if (ret == CTL_OK)
		ctl_print_table(o, list, bans ? ban_cols : point_cols,
				bans ? ban_heads : point_heads);
	json_decref(list);
	return ret;
}

static int run(const struct ctl_opts *o, const char *arg)
{
	return ctl_show_bans(o, CTL_TYPE__CTL_SHOW_IP_BANS);
}

const struct ctl_command ctl_show_ip_bans = {
    {"show", "ip", "bans"}, NULL, "banned addresses: since, expiry, score", run};
