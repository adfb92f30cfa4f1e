#include "config.h"

#include "ctl/ctl.h"

#include <stdio.h>

static void on_event(const CtlEvent *e, void *data)
{
	const struct ctl_opts *o = data;

	if (o->json) {
		json_t *v = ctl_event_json(e);

		/* One compact object per line, so that a consumer can act per event. */
		json_dumpf(v, stdout, JSON_COMPACT | JSON_ENSURE_ASCII);
		fputc('\n', stdout);
		json_decref(v);
	} else if (e->connect) {
		printf("connected user '%s' (%u) from %s with IP %s%s%s\n", e->username, e->id,
		       e->remote_ip, e->ipv4 ? e->ipv4 : "-", e->ipv6 ? " and " : "",
		       e->ipv6 ? e->ipv6 : "");
	} else {
		printf("disconnected user '%s' (%u) from %s with IP %s%s%s (reason: %s, time: "
		       "%llds, rx: %llu, tx: %llu)\n",
		       e->username, e->id, e->remote_ip, e->ipv4 ? e->ipv4 : "-",
		       e->ipv6 ? " and " : "", e->ipv6 ? e->ipv6 : "", e->reason ? e->reason : "",
		       (long long)e->duration, (unsigned long long)e->rx,
		       (unsigned long long)e->tx);
	}
	fflush(stdout);
}

static int run(const struct ctl_opts *o, const char *arg)
{
	CtlEmpty req = CTL_EMPTY__INIT;
	struct ctl_reply r = {.on_event = on_event, .data = (void *)o};

	return ctl_request(o, CTL_TYPE__CTL_SHOW_EVENTS, &req.base, &r);
}

const struct ctl_command ctl_show_events = {
    {"show", "events"}, NULL, "connects and disconnects as they happen, until interrupted", run};
