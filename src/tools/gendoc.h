/* sluice-gendoc's writers beyond the manual page and the sample configuration. */
#ifndef SLUICE_GENDOC_H
#define SLUICE_GENDOC_H

#include <stdio.h>

/* doc/ocserv-keys.md: every key of ocserv's configuration and what sluice does with it,
 * from the schema (supported keys) and the table of ocserv's other keys. 0 or -errno. */
int gendoc_ocserv_keys(FILE *out);

#endif
