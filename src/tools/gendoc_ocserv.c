/* doc/ocserv-keys.md, made from the code: an ocserv key is one of the schema (not marked
 * sluice-only) or one of config_ocserv_keys(). One sorted table, so that an operator
 * finds each key of their file in one place. */
#include "config.h"
#include "tools/gendoc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"

struct row {
	const char *name;
	const char *status;
	const char *note;
	const char *alias; /* the sluice key, for an alias */
};

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct row *)a)->name, ((const struct row *)b)->name);
}

/* Markdown table cells hold no '|'. */
static void cell(FILE *out, const char *text)
{
	for (const char *p = text; *p; p++)
		fputs(*p == '|' ? "\\|" : (char[]){*p, '\0'}, out);
}

int gendoc_ocserv_keys(FILE *out)
{
	size_t n_extra, n = 0, i;
	const struct config_ocserv_key *extra = config_ocserv_keys(&n_extra);
	struct row *rows = calloc(config_n_keys + n_extra, sizeof(*rows));
	unsigned counts[4] = {0};

	if (!rows)
		return -ENOMEM;
	for (i = 0; i < config_n_keys; i++) {
		const struct config_key *k = &config_keys[i];

		if (k->flags & CONFIG_SLUICE_ONLY)
			continue;
		rows[n++] = (struct row){k->name, "supported", k->help, NULL};
		counts[0]++;
	}
	for (i = 0; i < n_extra; i++) {
		static const char *const status[] = {
		    [OCSERV_ALIAS] = "other name",
		    [OCSERV_INERT] = "accepted, no effect",
		    [OCSERV_REFUSED] = "refused",
		};
		const struct config_ocserv_key *o = &extra[i];

		rows[n++] = (struct row){o->name, status[o->kind],
					 o->kind == OCSERV_ALIAS ? NULL : o->what,
					 o->kind == OCSERV_ALIAS ? o->what : NULL};
		counts[1 + o->kind]++;
	}
	qsort(rows, n, sizeof(*rows), by_name);
	fprintf(out, "# ocserv's configuration keys in sluice\n\n"
		     "Made by `sluice-gendoc ocserv` from sluice's configuration code; "
		     "`tests/unit/test_gendoc.sh` fails when this file is out of date. "
		     "Of %zu keys: %u supported, %u under another name, %u accepted without "
		     "effect (with a warning that says why), %u refused (`sluiced -t` says "
		     "why). `sluiced --help-config` describes every supported key.\n\n"
		     "| key | in sluice | note |\n| --- | --- | --- |\n",
		n, counts[0], counts[1 + OCSERV_ALIAS], counts[1 + OCSERV_INERT],
		counts[1 + OCSERV_REFUSED]);
	for (i = 0; i < n; i++) {
		fprintf(out, "| `%s` | %s | ", rows[i].name, rows[i].status);
		if (rows[i].alias)
			fprintf(out, "read as `%s`", rows[i].alias);
		else if (rows[i].note)
			cell(out, rows[i].note);
		fputs(" |\n", out);
	}
	free(rows);
	return 0;
}
