#include "config.h"

#include "ctl/ctl.h"

#include <stdio.h>
#include <string.h>

static void on_session(const CtlSession *s, void *data)
{
	json_array_append_new(data, ctl_session_json(s));
}

static int run(const struct ctl_opts *o, const char *arg)
{
	static const char *const cols[] = {"Session", "Username", "Groupname", "Remote IP",
					   "Created", "State",    NULL};
	static const char *const heads[] = {"session", "user", "group", "ip", "created", "status"};
	CtlEmpty req = CTL_EMPTY__INIT;
	json_t *list;
	struct ctl_reply r = {.on_session = on_session};
	int ret;

	if (strcmp(arg, "all") != 0 && strcmp(arg, "valid") != 0) {
		fprintf(stderr, "sluicectl: show sessions|cookies all|valid\n");
		return CTL_USAGE;
	}
	list = json_array();
	r.data = list;
	ret = ctl_request(o, CTL_TYPE__CTL_SHOW_SESSIONS, &req.base, &r);
	if (ret == CTL_OK)
		ctl_print_table(o, list, cols, heads);
	json_decref(list);
	return ret;
}

const struct ctl_command ctl_show_sec_sessions = {
    {"show", "sessions"},
    "all|valid",
    "sessions that can log in (all = valid: none is kept expired)",
    run};

/* occtl's other name for the same list. */
const struct ctl_command ctl_show_cookies = {
    {"show", "cookies"}, "all|valid", "the same as show sessions (occtl's name)", run};
