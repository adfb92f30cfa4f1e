#include "config.h"

#include "ctl/ctl.h"

static int run(const struct ctl_opts *o, const char *arg)
{
	CtlName req = CTL_NAME__INIT;
	struct ctl_reply r = {0};
	int ret;

	req.name = (char *)arg;
	ret = ctl_request(o, CTL_TYPE__CTL_DISCONNECT_USER, &req.base, &r);
	return ret == CTL_OK ? ctl_print_done(o, &r, "disconnected") : ret;
}

const struct ctl_command ctl_disconnect_user = {
    {"disconnect", "user"}, "NAME", "end every session of user NAME", run};
