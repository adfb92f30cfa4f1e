/* The payload header inside each decrypted DTLS record (doc: protocol.md §5.5):
 * one byte of type, then the payload, one packet per record. The types share
 * CSTP's numbers; 0x05 and 0x09 are not used over DTLS by either side. */
#ifndef SLUICE_DTLS_FRAME_H
#define SLUICE_DTLS_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define DTLS_HDR_LEN 1

enum dtls_type {
	DTLS_DATA = 0x00,
	DTLS_DPD_REQ = 0x03,
	DTLS_DPD_RESP = 0x04,
	DTLS_KEEPALIVE = 0x07,
	DTLS_COMPRESSED = 0x08,
};

struct dtls_frame {
	uint8_t type;
	const uint8_t *payload; /* points into the parsed record */
	size_t len;
};

/* 0 and fills f for a record of at least one byte; -EINVAL for an empty
 * record. Unknown types are returned as they are: the client logs and drops
 * unknown types, and the server does the same. */
int dtls_frame_parse(const uint8_t *rec, size_t len, struct dtls_frame *f);

/* Writes the 1-byte header in front of a payload the caller placed at
 * buf + DTLS_HDR_LEN; returns the record length. */
size_t dtls_frame_put(uint8_t *buf, uint8_t type, size_t payload_len);

#endif
