/* The session id in the first datagram of a DTLS ClientHello (doc: protocol.md
 * §5.2). Main reads it from datagrams of unknown peers on the shared UDP port
 * to find the session whose worker gets the datagram; it is the only parsing
 * of client bytes in main, so it copies and allocates nothing. */
#ifndef SLUICE_DTLS_HELLO_H
#define SLUICE_DTLS_HELLO_H

#include <stddef.h>
#include <stdint.h>

#define DTLS_SESSION_ID_MAX 32

/* If pkt is the first fragment of a DTLS ClientHello (content type 22; record
 * version {254,255} DTLS 1.0, {254,253} DTLS 1.2 or {1,0} Cisco DTLS 0.9;
 * handshake type 1; fragment offset 0), points *id at its session_id inside
 * pkt and sets *id_len (1..DTLS_SESSION_ID_MAX). Returns 0, or -EINVAL for
 * anything else: too short, wrong type or version, an empty or over-long
 * session id, or a record, handshake or fragment length that does not fit the
 * datagram or the enclosing length. *id and *id_len are left alone on error. */
int dtls_hello_session_id(const uint8_t *pkt, size_t len, const uint8_t **id, size_t *id_len);

#endif
