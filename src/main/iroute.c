#include "config.h"

#include "main/iroute.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "common/log.h"
#include "common/netaddr.h"
#include "main/main.h"
#include "main/scripts.h"
#include "main/tun.h"

/* command with %{R} (a.b.c.d/m.m.m.m; an IPv6 route as addr/len), %{RI} (addr/len) and
 * %{D} (device) replaced. The values come from the checked configuration and the device
 * name main made, so they hold no shell syntax. */
static char *expand(TALLOC_CTX *ctx, const char *command, const char *route, int family,
		    const uint8_t *net, unsigned prefix, const char *device)
{
	struct in_addr mask = {.s_addr = ipv4_prefix_mask(prefix)};
	char a[INET_ADDRSTRLEN], m[INET_ADDRSTRLEN];
	char *out = talloc_strdup(ctx, "");

	inet_ntop(AF_INET, net, a, sizeof(a));
	inet_ntop(AF_INET, &mask, m, sizeof(m));
	for (const char *p = command; out && *p;) {
		if (strncmp(p, "%{RI}", 5) == 0) {
			out = talloc_strdup_append(out, route);
			p += 5;
		} else if (strncmp(p, "%{R}", 4) == 0) {
			if (family == AF_INET6)
				out = talloc_strdup_append(out, route);
			else
				out = talloc_asprintf_append(out, "%s/%s", a, m);
			p += 4;
		} else if (strncmp(p, "%{D}", 4) == 0) {
			out = talloc_strdup_append(out, device);
			p += 4;
		} else {
			out = talloc_strndup_append(out, p++, 1);
		}
	}
	return out;
}

void iroutes_apply(struct main_ctx *m, const struct main_worker *w, bool add)
{
	const struct sluice_config *c = w->cfg;
	const char *command = add ? c->route_add_cmd : c->route_del_cmd;

	for (size_t i = 0; i < c->n_iroutes; i++) {
		struct netaddr net;
		unsigned prefix;
		int family, ret;

		if (netaddr_prefix_parse(c->iroutes[i], &net, &prefix) < 0) {
			log_err("%s: iroute '%s' is not a network", w->label, c->iroutes[i]);
			continue;
		}
		family = net.family;
		/* A session without an address of that family cannot carry the network. */
		if ((family == AF_INET && !w->pool) || (family == AF_INET6 && !w->pool6))
			continue;
		if (command) {
			char *cmd = expand(NULL, command, c->iroutes[i], family, net.a, prefix,
					   w->device);

			if (cmd)
				scripts_command(m, add ? SCRIPT_ROUTE_ADD : SCRIPT_ROUTE_DEL, cmd, w);
			talloc_free(cmd);
			continue;
		}
		if (!add)
			continue;
		ret = tun_route(w->device, family, net.a, prefix, true);
		if (ret < 0)
			log_warn("%s: cannot route iroute %s to %s: %s", w->label, c->iroutes[i],
				 w->device, strerror(-ret));
		else
			log_info("%s: iroute %s routed to %s", w->label, c->iroutes[i], w->device);
	}
}
