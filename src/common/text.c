#include "config.h"

#include "common/text.h"

#include <stdint.h>

/* Length of the valid UTF-8 sequence at s; 0 when there is none; minus the length when
 * it is a control character. */
static int sequence_len(const unsigned char *s)
{
	uint32_t cp;
	int n;

	if (s[0] < 0x20 || s[0] == 0x7f)
		return -1;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (int i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) /* also stops at the terminating NUL */
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return cp >= 0x80 && cp <= 0x9f ? -n : n; /* C1 controls */
}

void text_make_utf8(char *s)
{
	unsigned char *p = (unsigned char *)s;

	while (*p) {
		int n = sequence_len(p);

		if (n > 0) {
			p += n;
			continue;
		}
		for (int i = 0; i < (n < 0 ? -n : 1); i++)
			*p++ = '?';
	}
}

int text_hex_digit(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}
