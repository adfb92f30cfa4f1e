/* sluice-certs' CA state file: whatever the parser accepts, the writer writes out in a
 * form that the parser accepts again and that writes out the same. */
#include "config.h"
#include "tools/certs_state.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	struct certs_state *st, *again;
	char err[512], *out, *out2;
	size_t len, len2;

	if (certs_state_parse(ctx, "fuzz", (const char *)data, size, &st, err, sizeof(err)) == 0) {
		for (size_t i = 0; i < st->n; i++) {
			const struct certs_entry *e = &st->entries[i];

			if (e->serial_len == 0 || e->serial_len > CERTS_SERIAL_MAX ||
			    e->expires < e->issued || !certs_name_ok(e->name, strlen(e->name)) ||
			    certs_state_find(st, e->serial, e->serial_len) != e)
				abort();
		}
		out = certs_state_format(ctx, st, &len);
		if (out == NULL ||
		    certs_state_parse(ctx, "again", out, len, &again, err, sizeof(err)) != 0 ||
		    again->n != st->n || again->crl_number != st->crl_number)
			abort();
		out2 = certs_state_format(ctx, again, &len2);
		if (out2 == NULL || len2 != len || memcmp(out, out2, len) != 0)
			abort();
	} else if (strlen(err) == 0) {
		abort(); /* a refusal always says why */
	}
	talloc_free(ctx);
	return 0;
}
