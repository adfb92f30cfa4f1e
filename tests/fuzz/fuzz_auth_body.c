#include "config.h"
#include "worker/auth_body.h"

#include <stdlib.h>
#include <string.h>

#include "worker/auth_xml.h"

static const char *const content_types[] = {
    NULL,
    "application/xml; charset=utf-8",
    "application/x-www-form-urlencoded",
    "text/xml",
};

/* Every accepted field must be printable UTF-8 within its limit, which is exactly
 * what xml_escape() accepts, so the two parsers check each other. */
static void check_field(TALLOC_CTX *ctx, const char *s, size_t max)
{
	if (s == NULL)
		return;
	if (strlen(s) > max || xml_escape(ctx, s) == NULL)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int initialised;
	struct auth_body *b;
	TALLOC_CTX *ctx;

	if (!initialised) {
		if (auth_body_init() < 0)
			abort();
		initialised = 1;
	}
	if (size < 1)
		return 0;
	ctx = talloc_new(NULL);
	if (auth_body_parse(ctx, content_types[data[0] % 4], data + 1, size - 1, &b) == 0) {
		check_field(ctx, b->username, AUTH_BODY_MAX_USERNAME);
		check_field(ctx, b->password, AUTH_BODY_MAX_PASSWORD);
		check_field(ctx, b->group_select, AUTH_BODY_MAX_GROUP);
		check_field(ctx, b->secondary_password, AUTH_BODY_MAX_PASSWORD);
	}
	talloc_free(ctx);
	return 0;
}
