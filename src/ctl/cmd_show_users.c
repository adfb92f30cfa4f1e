#include "config.h"

#include "ctl/ctl.h"

static void on_user(const CtlUser *u, void *data)
{
	json_array_append_new(data, ctl_user_json(u));
}

static int run(const struct ctl_opts *o, const char *arg)
{
	static const char *const cols[] = {"ID",   "Username", "Groupname",    "Remote IP", "IPv4",
					   "IPv6", "Device",   "Connected at", "State",     NULL};
	static const char *const heads[] = {"id",      "user",   "group", "ip",    "vpn-ip",
					    "vpn-ip6", "device", "since", "status"};
	CtlEmpty req = CTL_EMPTY__INIT;
	json_t *users = json_array();
	struct ctl_reply r = {.on_user = on_user, .data = users};
	int ret = ctl_request(o, CTL_TYPE__CTL_SHOW_USERS, &req.base, &r);

	if (ret == CTL_OK)
		ctl_print_table(o, users, cols, heads);
	json_decref(users);
	return ret;
}

const struct ctl_command ctl_show_users = {
    {"show", "users"}, NULL, "connected users, one line each", run};
