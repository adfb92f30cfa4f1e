/* Fuzzes the parser of per-user and per-group files (what sec reads at login). Every
 * text sec accepts must be accepted by main over a global configuration (else a valid
 * file would refuse its user), and merging must be stable: the merged text read again
 * gives itself. */
#include "config.h"
#include "fuzz_input.h"
#include "common/config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char global[] = "auth = plain[passwd=/etc/sluice/passwd]\n"
			     "server-cert = /srv/cert.pem\n"
			     "server-key = /srv/key.pem\n"
			     "ipv4-network = 198.19.0.0/24\n"
			     "route = 198.18.100.0/24\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sluice_config *base;
	TALLOC_CTX *ctx;
	char err[512], *text, *merged, *again;

	if (!base) {
		base = config_load_string(NULL, global, "global", err, sizeof(err));
		if (!base)
			abort();
	}
	if (size > 64 * 1024)
		return 0;
	text = fuzz_cstring(data, size);
	if (!text)
		return 0;
	ctx = talloc_new(NULL);
	merged = config_user_merge(ctx, NULL, text, err, sizeof(err));
	if (merged) {
		again = config_user_merge(ctx, merged, NULL, err, sizeof(err));
		if (!again || strcmp(again, merged) != 0) {
			fprintf(stderr, "merge not stable: %s\n%s---\n%s", err, merged,
				again ? again : "(rejected)");
			abort();
		}
		if (!config_derive(ctx, base, merged, err, sizeof(err))) {
			fprintf(stderr, "main rejects what sec accepted: %s\n%s", err, merged);
			abort();
		}
	}
	talloc_free(ctx);
	free(text);
	return 0;
}
