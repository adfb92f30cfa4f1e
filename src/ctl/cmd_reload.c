#include "config.h"

#include "ctl/ctl.h"

static int run(const struct ctl_opts *o, const char *arg)
{
	CtlEmpty req = CTL_EMPTY__INIT;
	struct ctl_reply r = {0};
	int ret = ctl_request(o, CTL_TYPE__CTL_RELOAD, &req.base, &r);

	/* A rejected configuration comes back as an error: its reason is printed and the
	 * exit code is 1, the running configuration stays. */
	return ret == CTL_OK ? ctl_print_done(o, &r, "reload") : ret;
}

const struct ctl_command ctl_reload = {
    {"reload"}, NULL, "re-read the configuration and certificate (as SIGHUP)", run};
