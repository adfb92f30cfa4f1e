/* Feeds one input to the line parser and, as a whole file, to the scanner the sec
 * module and sluice-passwd use. */
#include "config.h"
#include "common/passwd.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int on_line(void *arg, unsigned lineno, const char *line, size_t len, const char *user,
		   size_t user_len)
{
	size_t *bytes = arg;

	if (user != NULL && (user < line || user + user_len > line + len))
		abort();
	*bytes += len;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	const char *line = (const char *)data;
	struct passwd_entry e;
	char err[256];
	size_t bytes = 0;
	bool ok;

	ok = passwd_check_line(line, size) == NULL;
	if ((passwd_parse_line(ctx, line, size, &e) == 0) != ok)
		abort();
	if (ok) {
		if (strlen(e.user) == 0 || strchr(e.user, ':') != NULL ||
		    e.n_groups > PASSWD_MAX_GROUPS || strlen(e.hash) > PASSWD_MAX_HASH)
			abort();
		for (size_t i = 0; i < e.n_groups; i++) {
			if (strlen(e.groups[i]) == 0 || strchr(e.groups[i], ',') != NULL)
				abort();
		}
	}
	passwd_scan("fuzz", line, size, on_line, &bytes, err, sizeof(err));
	if (bytes > size)
		abort();
	talloc_free(ctx);
	return 0;
}
