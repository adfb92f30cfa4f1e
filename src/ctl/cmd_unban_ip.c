#include "config.h"

#include "ctl/ctl.h"

#include <stdio.h>

#include "common/netaddr.h"

static int run(const struct ctl_opts *o, const char *arg)
{
	CtlIp req = CTL_IP__INIT;
	struct ctl_reply r = {0};
	struct netaddr a;
	unsigned len;
	int ret;

	if (netaddr_prefix_parse(arg, &a, &len) < 0) {
		fprintf(stderr, "sluicectl: not an IP address or prefix: %s\n", arg);
		return CTL_USAGE;
	}
	req.ip = (char *)arg;
	ret = ctl_request(o, CTL_TYPE__CTL_UNBAN_IP, &req.base, &r);
	return ret == CTL_OK ? ctl_print_done(o, &r, "unbanned") : ret;
}

const struct ctl_command ctl_unban_ip = {
    {"unban", "ip"}, "IP", "forget the score and ban of IP (an address, or a listed prefix)", run};
