/* Text that clients choose (user agents, host names) on its way into logs, JSON and
 * script environments; and the small pieces of text parsing several roles share. */
#ifndef SLUICE_TEXT_H
#define SLUICE_TEXT_H

/* Replaces, in place, every byte that is not part of a valid UTF-8 sequence (overlong
 * forms, surrogates and code points above U+10FFFF included), and every byte of a
 * control character (C0, DEL, C1), with '?'. JSON encoders refuse invalid UTF-8, and a
 * newline or an escape sequence would let whoever chose the text forge log lines or
 * drive the terminal of whoever reads them; the rest of the value stays readable. */
void text_make_utf8(char *s);

/* The value of one hexadecimal digit (either case), or -1: URL escapes, key files. */
int text_hex_digit(unsigned char c);

#endif
