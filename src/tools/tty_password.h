/* A password for a tool: asked twice without echo on a terminal, otherwise read as one
 * line from standard input. sluice-passwd (the user's password) and sluice-certs (the
 * PKCS#12 bundle's) share it. */
#ifndef SLUICE_TTY_PASSWORD_H
#define SLUICE_TTY_PASSWORD_H

#include <stddef.h>

/* Fills pw (size bytes, at most size - 1 characters); again is scratch space of the same
 * size for the second entry. prog prefixes the error messages on stderr ("passwords do
 * not match", "empty password refused", ...). 0 or a negative errno; the caller wipes
 * both buffers. */
int tty_password_get(const char *prog, const char *prompt, const char *again_prompt, char *pw,
		     char *again, size_t size);

#endif
