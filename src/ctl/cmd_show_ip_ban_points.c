#include "config.h"

#include "ctl/ctl.h"

static int run(const struct ctl_opts *o, const char *arg)
{
	return ctl_show_bans(o, CTL_TYPE__CTL_SHOW_IP_BAN_POINTS);
}

const struct ctl_command ctl_show_ip_ban_points = {
    {"show", "ip", "ban", "points"}, NULL, "every address with points, banned or not", run};
