#include "config.h"

#include "ctl/ctl.h"

static void on_ban(const CtlBan *b, void *data)
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
	json_array_append_new(data, row);
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
