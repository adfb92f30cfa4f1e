#include "config.h"

#include "ctl/ctl.h"

static int run(const struct ctl_opts *o, const char *arg)
{
	CtlEmpty req = CTL_EMPTY__INIT;
	struct ctl_reply r = {0};
	int ret = ctl_request(o, CTL_TYPE__CTL_STOP, &req.base, &r);

	return ret == CTL_OK ? ctl_print_done(o, &r, "sluiced") : ret;
}

const struct ctl_command ctl_stop = {
    {"stop", "now"}, NULL, "shut the server down (sessions end)", run};
