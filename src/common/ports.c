/* restrict-user-to-ports parser (ports.h). */
#include "config.h"

#include "common/ports.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char *const names[] = {
    [PORT_TCP] = "tcp",   [PORT_UDP] = "udp",       [PORT_SCTP] = "sctp",
    [PORT_ICMP] = "icmp", [PORT_ICMPV6] = "icmpv6", [PORT_ESP] = "esp",
};

const char *ports_proto_name(enum port_proto p)
{
	return names[p];
}

bool ports_proto_has_port(enum port_proto p)
{
	return p == PORT_TCP || p == PORT_UDP || p == PORT_SCTP;
}

static const char *skip_space(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* "name(port)" or "name()" at *pp; advances past it. */
static int one_rule(const char **pp, struct port_rule *r, char *why, size_t whylen)
{
	const char *p = *pp, *open = strchr(p, '(');
	size_t len = open ? (size_t)(open - p) : 0;
	unsigned long port = 0;
	size_t i, digits = 0;

	while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
		len--;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (open && strlen(names[i]) == len && strncmp(p, names[i], len) == 0)
			break;
	if (i == sizeof(names) / sizeof(names[0])) {
		snprintf(why, whylen,
			 "'%.*s' is not PROTOCOL(PORT) with tcp, udp, sctp, or "
			 "icmp(), icmpv6(), esp()",
			 (int)strcspn(p, ","), p);
		return -EINVAL;
	}
	r->proto = (enum port_proto)i;
	p = skip_space(open + 1);
	for (; *p >= '0' && *p <= '9' && digits < 6; p++, digits++)
		port = port * 10 + (unsigned long)(*p - '0');
	p = skip_space(p);
	if (*p != ')' ||
	    (ports_proto_has_port(r->proto) ? !digits || !port || port > 65535 : digits != 0)) {
		snprintf(why, whylen, "%s needs %s", names[i],
			 ports_proto_has_port(r->proto) ? "a port from 1 to 65535 in its ()"
							: "an empty () (all of it)");
		return -EINVAL;
	}
	r->port = (uint16_t)port;
	*pp = p + 1;
	return 0;
}

int ports_parse(const char *text, struct port_list *out, char *why, size_t whylen)
{
	const char *p = skip_space(text);
	size_t len;

	memset(out, 0, sizeof(*out));
	if (p[0] == '!') {
		p = skip_space(p + 1);
		len = strlen(p);
		while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (*p != '(' || len < 2 || p[len - 1] != ')') {
			snprintf(why, whylen, "a negation is !(LIST)");
			return -EINVAL;
		}
		out->deny = true;
		p = skip_space(p + 1);
	}
	for (;;) {
		if (out->n == PORTS_MAX) {
			snprintf(why, whylen, "more than %d entries", PORTS_MAX);
			return -EINVAL;
		}
		if (one_rule(&p, &out->rules[out->n++], why, whylen) < 0)
			return -EINVAL;
		p = skip_space(p);
		if (*p == ',') {
			p = skip_space(p + 1);
			continue;
		}
		if (out->deny && *p != ')') {
			snprintf(why, whylen, "a negation is !(LIST)");
			return -EINVAL;
		}
		if (out->deny)
			p = skip_space(p + 1);
		if (*p) {
			snprintf(why, whylen,
				 "unexpected '%.16s' (entries are separated by commas)", p);
			return -EINVAL;
		}
		return 0;
	}
}
