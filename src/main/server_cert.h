/* Checks of the server certificate that are warnings, not errors: at start-up, on a
 * reload and in sluiced -t. */
#ifndef SLUICE_SERVER_CERT_H
#define SLUICE_SERVER_CERT_H

#include <stddef.h>

#include "common/config.h"

/* Logs a warning when the first certificate of pem (server-cert) has expired, expires
 * within 30 days, is not valid yet, or does not name listen-host (an IP literal other
 * than a wildcard address). Returns how many warnings. */
unsigned main_server_cert_check(const char *pem, size_t len, const struct sluice_config *c);

#endif
