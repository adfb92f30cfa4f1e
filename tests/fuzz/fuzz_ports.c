/* Feeds each input to the restrict-user-to-ports parser as a configuration value. An
 * accepted list has at most PORTS_MAX entries, ports only where the protocol takes one
 * and then from 1 to 65535, and is accepted again when written out canonically. */
#include "config.h"
#include "common/ports.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstring(data, size), why[160], canon[PORTS_MAX * 16 + 8];
	struct port_list l, again;
	size_t off = 0;

	if (!text)
		return 0;
	why[0] = '\0';
	if (ports_parse(text, &l, why, sizeof(why)) == 0) {
		if (l.n == 0 || l.n > PORTS_MAX)
			abort();
		off += (size_t)snprintf(canon + off, sizeof(canon) - off, "%s", l.deny ? "!(" : "");
		for (size_t i = 0; i < l.n; i++) {
			bool has = ports_proto_has_port(l.rules[i].proto);

			if (has ? l.rules[i].port == 0 : l.rules[i].port != 0)
				abort();
			off += (size_t)snprintf(canon + off, sizeof(canon) - off, "%s%s(",
						i ? ", " : "", ports_proto_name(l.rules[i].proto));
			if (has)
				off += (size_t)snprintf(canon + off, sizeof(canon) - off, "%u",
							l.rules[i].port);
			off += (size_t)snprintf(canon + off, sizeof(canon) - off, ")");
		}
		snprintf(canon + off, sizeof(canon) - off, "%s", l.deny ? ")" : "");
		if (ports_parse(canon, &again, why, sizeof(why)) != 0 || again.n != l.n ||
		    again.deny != l.deny || memcmp(again.rules, l.rules, l.n * sizeof(l.rules[0])))
			abort();
	} else if (!why[0]) {
		abort();
	}
	free(text);
	return 0;
}
