#include "config.h"

#include "ctl/ctl.h"

/* Sessions with networks behind them, in occtl's field names. */
static void on_user(const CtlUser *u, void *data)
{
	if (!u->n_iroutes)
		return;
	json_array_append_new(
	    data, json_pack("{s:I, s:s, s:s, s:s, s:s, s:o}", "ID", (json_int_t)u->id, "Username",
			    u->username, "vhost", "default", "Device", u->device, "IP",
			    u->ipv4   ? u->ipv4
			    : u->ipv6 ? u->ipv6
				      : "",
			    "iRoutes", ctl_strings_json(u->iroutes, u->n_iroutes)));
}

static int run(const struct ctl_opts *o, const char *arg)
{
	static const char *const cols[] = {"ID", "Username", "vhost", "Device",
					   "IP", "iRoutes",  NULL};
	static const char *const heads[] = {"id", "user", "vhost", "device", "vpn-ip", "iroutes"};
	CtlEmpty req = CTL_EMPTY__INIT;
	json_t *rows = json_array();
	struct ctl_reply r = {.on_user = on_user, .data = rows};
	int ret = ctl_request(o, CTL_TYPE__CTL_SHOW_USERS, &req.base, &r);

	if (ret == CTL_OK)
		ctl_print_table(o, rows, cols, heads);
	json_decref(rows);
	return ret;
}

const struct ctl_command ctl_show_iroutes = {
    {"show", "iroutes"}, NULL, "networks routed to connected clients (iroute), one line each", run};
