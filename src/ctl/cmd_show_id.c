#include "config.h"

#include "ctl/ctl.h"

#include <stdio.h>

static int run(const struct ctl_opts *o, const char *arg)
{
	CtlId req = CTL_ID__INIT;

	if (!ctl_parse_id(arg, &req.id)) {
		fprintf(stderr, "sluicectl: not an id: %s\n", arg);
		return CTL_USAGE;
	}
	return ctl_show_sessions(o, CTL_TYPE__CTL_SHOW_ID, &req.base);
}

const struct ctl_command ctl_show_id = {
    {"show", "id"}, "ID", "the session of worker ID (as in show users), in detail", run};
