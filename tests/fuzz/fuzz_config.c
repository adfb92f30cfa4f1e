/* Fuzzes the configuration parser; every accepted input must dump to a configuration
 * that reads back to the same dump. */
#include "config.h"
#include "fuzz_input.h"
#include "common/config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static char *dump(const struct sluice_config *cfg)
{
	char *mem = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&mem, &len);

	if (!f)
		abort();
	config_dump(cfg, f);
	if (fclose(f) != 0)
		abort();
	return mem;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	TALLOC_CTX *ctx;
	struct sluice_config *cfg, *again;
	char err[512], *text, *first, *second;

	/* longer inputs only repeat lines; keep each run fast */
	if (size > 64 * 1024)
		return 0;
	text = fuzz_cstring(data, size);
	if (!text)
		return 0;
	ctx = talloc_new(NULL);
	cfg = config_load_string(ctx, text, "fuzz", err, sizeof(err));
	if (cfg) {
		first = dump(cfg);
		again = config_load_string(ctx, first, "dump", err, sizeof(err));
		if (!again) {
			fprintf(stderr, "dump does not load: %s\n%s", err, first);
			abort();
		}
		second = dump(again);
		if (strcmp(first, second) != 0) {
			fprintf(stderr, "dump changed:\n%s---\n%s", first, second);
			abort();
		}
		free(first);
		free(second);
	}
	talloc_free(ctx);
	free(text);
	return 0;
}
