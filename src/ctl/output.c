/* Output for people (aligned) and for scripts (the records of json.c). */
#include "config.h"

#include "ctl/ctl.h"

#include <stdio.h>
#include <string.h>

void ctl_print_json(json_t *v)
{
	json_dumpf(v, stdout, JSON_INDENT(2) | JSON_ENSURE_ASCII);
	fputc('\n', stdout);
	fflush(stdout);
}

/* A value as people read it; returns buf or the string itself. */
static const char *text(json_t *v, char *buf, size_t len)
{
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_array(v)) {
		size_t i, used = 0;
		json_t *item;

		buf[0] = '\0';
		json_array_foreach(v, i, item)
		{
			if (json_is_string(item) && used < len)
				used += (size_t)snprintf(buf + used, len - used, "%s%s",
							 i ? ", " : "", json_string_value(item));
		}
		if (used >= len && len > 4)
			memcpy(buf + len - 4, "...", 4);
		return buf;
	}
	if (json_is_integer(v))
		snprintf(buf, len, "%lld", (long long)json_integer_value(v));
	else if (json_is_boolean(v))
		snprintf(buf, len, "%s", json_is_true(v) ? "yes" : "no");
	else
		snprintf(buf, len, "-");
	return buf;
}

void ctl_print_record(const struct ctl_opts *o, json_t *obj)
{
	const char *key;
	json_t *v;
	int width = 0;
	char buf[1024];

	if (o->json) {
		ctl_print_json(obj);
		return;
	}
	json_object_foreach(obj, key, v) if (strncmp(key, "raw_", 4) != 0 &&
					     (int)strlen(key) > width) width = (int)strlen(key);
	json_object_foreach(obj, key, v) if (strncmp(key, "raw_", 4) != 0)
	    printf("%*s: %s\n", width, key, text(v, buf, sizeof(buf)));
}

void ctl_print_records(const struct ctl_opts *o, json_t *array)
{
	json_t *v;
	size_t i;

	if (o->json) {
		ctl_print_json(array);
		return;
	}
	json_array_foreach(array, i, v)
	{
		if (i)
			printf("\n");
		ctl_print_record(o, v);
	}
}

void ctl_print_table(const struct ctl_opts *o, json_t *array, const char *const *cols,
		     const char *const *heads)
{
	size_t ncols = 0, i;
	int width[16];
	json_t *row;
	char buf[1024];

	if (o->json) {
		ctl_print_json(array);
		return;
	}
	while (cols[ncols] && ncols < 16)
		ncols++;
	for (i = 0; i < ncols; i++)
		width[i] = (int)strlen(heads[i]);
	json_array_foreach(array, i, row)
	{
		for (size_t c = 0; c < ncols; c++) {
			int n = (int)strlen(text(json_object_get(row, cols[c]), buf, sizeof(buf)));

			if (n > width[c])
				width[c] = n;
		}
	}
	for (size_t c = 0; c < ncols; c++)
		printf("%-*s%s", width[c], heads[c], c + 1 < ncols ? "  " : "\n");
	json_array_foreach(array, i, row)
	{
		for (size_t c = 0; c < ncols; c++)
			printf("%-*s%s", width[c],
			       text(json_object_get(row, cols[c]), buf, sizeof(buf)),
			       c + 1 < ncols ? "  " : "\n");
	}
}

int ctl_print_done(const struct ctl_opts *o, const struct ctl_reply *r, const char *what)
{
	if (o->json) {
		json_t *v = json_pack("{s:b, s:I, s:s}", "ok", 1, "count", (json_int_t)r->count,
				      "message", r->message[0] ? r->message : what);

		ctl_print_json(v);
		json_decref(v);
	} else {
		printf("%s%s%s\n", what, r->message[0] ? ": " : "", r->message);
	}
	return CTL_OK;
}
