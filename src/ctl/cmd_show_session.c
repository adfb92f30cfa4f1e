#include "config.h"

#include "ctl/ctl.h"

static void on_session(const CtlSession *s, void *data)
{
	json_array_append_new(data, ctl_session_json(s));
}

static int run(const struct ctl_opts *o, const char *arg)
{
	CtlName req = CTL_NAME__INIT;
	json_t *list = json_array();
	struct ctl_reply r = {.on_session = on_session, .data = list};
	int ret;

	req.name = (char *)arg;
	ret = ctl_request(o, CTL_TYPE__CTL_SHOW_SESSION, &req.base, &r);
	if (ret == CTL_OK)
		ctl_print_records(o, list);
	json_decref(list);
	return ret;
}

const struct ctl_command ctl_show_sec_session = {
    {"show", "session"}, "SID", "the session SID (or every one it is a prefix of), in detail", run};
