#include "config.h"

#include "ctl/ctl.h"

#include <stdio.h>
#include <time.h>

static void on_status(const CtlStatus *s, void *data)
{
	*(json_t **)data = ctl_status_json(s);
}

static int run(const struct ctl_opts *o, const char *arg)
{
	CtlEmpty req = CTL_EMPTY__INIT;
	json_t *status = NULL;
	struct ctl_reply r = {.on_status = on_status, .data = &status};
	int ret = ctl_request(o, CTL_TYPE__CTL_SHOW_STATUS, &req.base, &r);

	if (ret == CTL_OK && status)
		ctl_print_record(o, status);
	json_decref(status);
	return ret;
}

const struct ctl_command ctl_show_status = {
    {"show", "status"}, NULL, "the server: processes, uptime, session counts", run};
