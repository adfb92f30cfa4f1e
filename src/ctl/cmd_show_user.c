#include "config.h"

#include "ctl/ctl.h"

/* Every session of the user, one record each (occtl prints a JSON array). */
static void on_user(const CtlUser *u, void *data)
{
	json_array_append_new(data, ctl_user_json(u));
}

int ctl_show_sessions(const struct ctl_opts *o, uint16_t type, const ProtobufCMessage *req)
{
	json_t *users = json_array();
	struct ctl_reply r = {.on_user = on_user, .data = users};
	int ret = ctl_request(o, type, req, &r);

	if (ret == CTL_OK)
		ctl_print_records(o, users);
	json_decref(users);
	return ret;
}

static int run(const struct ctl_opts *o, const char *arg)
{
	CtlName req = CTL_NAME__INIT;

	req.name = (char *)arg;
	return ctl_show_sessions(o, CTL_TYPE__CTL_SHOW_USER, &req.base);
}

const struct ctl_command ctl_show_user = {
    {"show", "user"}, "NAME", "every session of user NAME, in detail", run};
