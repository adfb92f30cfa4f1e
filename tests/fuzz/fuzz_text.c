/* Fuzzes text_make_utf8 (client-chosen user agents and host names): the length never
 * changes, only bytes turned into '?' differ, no control character is left, and a
 * second pass changes nothing. */
#include "config.h"
#include "fuzz_input.h"
#include "common/text.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *a = fuzz_cstring(data, size), *b;

	if (!a)
		return 0;
	text_make_utf8(a);
	for (size_t i = 0; i < size && data[i]; i++)
		if ((uint8_t)a[i] != data[i] && a[i] != '?')
			abort();
	if (strlen(a) != strnlen((const char *)data, size))
		abort();
	for (size_t i = 0; a[i]; i++)
		if ((uint8_t)a[i] < 0x20 || (uint8_t)a[i] == 0x7f ||
		    ((uint8_t)a[i] == 0xc2 && (uint8_t)a[i + 1] >= 0x80 && (uint8_t)a[i + 1] <= 0x9f))
			abort();
	b = strdup(a);
	if (!b)
		abort();
	text_make_utf8(b);
	if (strcmp(a, b) != 0)
		abort();
	free(a);
	free(b);
	return 0;
}
