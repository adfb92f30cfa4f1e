/* The management API's grants file (src/common/manage_access.c), which sluiced -t,
 * sluiced and sluice-manage read: every grant it accepts is within the limits, renders
 * to a line that parses back to the same grant, and is found again by its name; a
 * token of the right form that was never granted is never found. */
#include "config.h"
#include "common/manage_access.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	struct manage_access *a = NULL, *again = NULL;
	char err[256];
	static const char never[] =
	    "slm_0000000000000000000000000000000000000000000000000000000000000000";

	if (manage_access_parse(ctx, (const char *)data, size, &a, err, sizeof(err)) < 0) {
		if (strncmp(err, "line ", 5) != 0)
			abort();
		talloc_free(ctx);
		return 0;
	}
	if (a->n > MANAGE_GRANTS_MAX)
		abort();
	for (size_t i = 0; i < a->n; i++) {
		const struct manage_grant *g = &a->grants[i];
		char *line = manage_grant_line(ctx, g);

		if (g->role != MANAGE_ROLE_READ && g->role != MANAGE_ROLE_ADMIN)
			abort();
		if (g->kind == MANAGE_GRANT_TOKEN && !manage_name_valid(g->name, strlen(g->name)))
			abort();
		if (g->kind == MANAGE_GRANT_CERT &&
		    (strlen(g->name) > MANAGE_CN_MAX || manage_access_cert(a, g->name) != g))
			abort();
		if (!line || manage_access_parse(ctx, line, strlen(line), &again, err,
						 sizeof(err)) < 0 ||
		    again->n != 1 || again->grants[0].kind != g->kind ||
		    again->grants[0].role != g->role || strcmp(again->grants[0].name, g->name) ||
		    memcmp(again->grants[0].hash, g->hash, sizeof(g->hash)))
			abort();
	}
	/* The all-zero hash is SHA-256 of nothing anyone can find. */
	if (manage_access_token(a, never, strlen(never)))
		abort();
	talloc_free(ctx);
	return 0;
}
