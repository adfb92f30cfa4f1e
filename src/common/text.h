/* Text that clients choose (user agents, host names) on its way into logs, JSON and
 * script environments. */
#ifndef SLUICE_TEXT_H
#define SLUICE_TEXT_H

/* Replaces, in place, every byte that is not part of a valid UTF-8 sequence (overlong
 * forms, surrogates and code points above U+10FFFF included) with '?'. JSON encoders
 * refuse invalid UTF-8; this keeps the rest of the value readable. */
void text_make_utf8(char *s);

#endif
