/* Buffered transport under the tunnel's TLS session: GnuTLS pulls records out of one
 * large recv() and pushes encrypted records into a buffer that the tunnel writes out
 * once per batch. Record boundaries are untouched (one CSTP frame per TLS record);
 * only the system calls are batched. */
#ifndef SLUICE_TLSBUF_H
#define SLUICE_TLSBUF_H

#include <gnutls/gnutls.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <talloc.h>

#define TLSBUF_IN_CAP (32 * 1024)
#define TLSBUF_OUT_CAP (64 * 1024)

struct tlsbuf {
	int fd;
	uint8_t *in;
	size_t in_off, in_len;
	uint8_t *out;
	size_t out_off, out_len;
};

/* Allocates the buffers under ctx and makes s use them on the non-blocking fd. */
int tlsbuf_install(struct tlsbuf *b, TALLOC_CTX *ctx, gnutls_session_t s, int fd);
/* Writes what is buffered: 0 when all is out, -EAGAIN when the socket is full, or
 * another negative errno. */
int tlsbuf_flush(struct tlsbuf *b);
/* Received bytes that GnuTLS has not pulled yet (they do not wake the event loop). */
bool tlsbuf_has_input(const struct tlsbuf *b);

#endif
