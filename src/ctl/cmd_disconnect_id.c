#include "config.h"

#include "ctl/ctl.h"

#include <stdio.h>

static int run(const struct ctl_opts *o, const char *arg)
{
	CtlId req = CTL_ID__INIT;
	struct ctl_reply r = {0};
	int ret;

	if (!ctl_parse_id(arg, &req.id)) {
		fprintf(stderr, "sluicectl: not an id: %s\n", arg);
		return CTL_USAGE;
	}
	ret = ctl_request(o, CTL_TYPE__CTL_DISCONNECT_ID, &req.base, &r);
	return ret == CTL_OK ? ctl_print_done(o, &r, "disconnected") : ret;
}

const struct ctl_command ctl_disconnect_id = {
    {"disconnect", "id"}, "ID", "end the session of worker ID", run};
