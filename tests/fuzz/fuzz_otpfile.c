/* The OTP users file parser (sec's OTP helper reads it at every code): every token it
 * accepts must be within the limits and render back to a line that parses to the same
 * token, and a rewrite keeps every other line. */
#include "config.h"
#include "common/otpfile.h"

#include <stdlib.h>
#include <string.h>

static void count(void *data, const char *problem)
{
	if (strncmp(problem, "fuzz:", 5) != 0)
		abort();
	(*(size_t *)data)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	struct otp_file *f = NULL, *again = NULL;
	size_t problems = 0, lines, len = 0;
	char *text;

	if (otpfile_parse(ctx, "fuzz", data, size, &f, count, &problems) < 0) {
		talloc_free(ctx);
		return 0;
	}
	if (f->n_entries + problems > f->n_lines)
		abort();
	for (size_t i = 0; i < f->n_entries; i++) {
		struct otp_entry *e = &f->entries[i];

		if (e->secret_len == 0 || e->secret_len > OTPFILE_MAX_SECRET ||
		    strlen(e->user) > OTPFILE_MAX_USER || e->digits < 6 || e->digits > 8 ||
		    (e->step != 0 && e->step != 30 && e->step != 60) || otpfile_find(f, e->user) != e)
			abort();
		/* As sec's helper changes a token after a login. */
		e->counter += 1;
		e->last_otp = "12345678";
		e->last_time = "2024-01-31T12:00:00L";
		e->changed = true;
	}
	text = otpfile_render(ctx, f, &len);
	if (!text)
		abort();
	if (len > OTPFILE_MAX_SIZE) {
		talloc_free(ctx);
		return 0;
	}
	lines = f->n_lines;
	problems = 0;
	/* Every line the file had is there again, and so is every token, changed. */
	if (otpfile_parse(ctx, "fuzz", (const uint8_t *)text, len, &again, count, &problems) < 0 ||
	    again->n_lines != lines || again->n_entries != f->n_entries)
		abort();
	for (size_t i = 0; i < again->n_entries; i++) {
		const struct otp_entry *a = &again->entries[i], *b = &f->entries[i];

		if (strcmp(a->user, b->user) != 0 || a->counter != b->counter ||
		    a->secret_len != b->secret_len || memcmp(a->secret, b->secret, a->secret_len) ||
		    !a->last_otp || strcmp(a->last_otp, "12345678") != 0)
			abort();
	}
	talloc_free(ctx);
	return 0;
}
