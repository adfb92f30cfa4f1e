#include "config.h"

#include "ctl/ctl.h"

#include <arpa/inet.h>
#include <stdio.h>

static int run(const struct ctl_opts *o, const char *arg)
{
	CtlIp req = CTL_IP__INIT;
	struct ctl_reply r = {0};
	unsigned char a[sizeof(struct in6_addr)];
	int ret;

	if (inet_pton(AF_INET, arg, a) != 1 && inet_pton(AF_INET6, arg, a) != 1) {
		fprintf(stderr, "sluicectl: not an IP address: %s\n", arg);
		return CTL_USAGE;
	}
	req.ip = (char *)arg;
	ret = ctl_request(o, CTL_TYPE__CTL_UNBAN_IP, &req.base, &r);
	return ret == CTL_OK ? ctl_print_done(o, &r, "unbanned") : ret;
}

const struct ctl_command ctl_unban_ip = {
    {"unban", "ip"}, "IP", "forget the score and ban of address IP", run};
