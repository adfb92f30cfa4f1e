#include "config.h"
#include "main/dtls_hello.h"

#include <errno.h>
#include <stdbool.h>

#define REC_HDR_LEN 13 /* type, version, epoch, sequence, length */
#define HS_HDR_LEN  12 /* type, length, message_seq, fragment offset and length */
/* client_version and random come before the session id length byte. */
#define HELLO_ID_OFF 34

#define CT_HANDSHAKE    22
#define HS_CLIENT_HELLO 1

static uint32_t get24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static bool version_ok(uint8_t major, uint8_t minor)
{
	if (major == 254)
		return minor == 255 || minor == 253;
	/* openconnect's legacy DTLS 0.9 (Cisco's pre-RFC DTLS) uses TLS 1.0's number. */
	return major == 1 && minor == 0;
}

int dtls_hello_session_id(const uint8_t *pkt, size_t len, const uint8_t **id, size_t *id_len)
{
	const uint8_t *hs, *body;
	size_t rec_len, frag_len, n;

	if (len < REC_HDR_LEN + HS_HDR_LEN + HELLO_ID_OFF + 1)
		return -EINVAL;
	if (pkt[0] != CT_HANDSHAKE || !version_ok(pkt[1], pkt[2]))
		return -EINVAL;
	/* Further records may follow in the datagram, so the record may be
	 * shorter than it; everything below stays within the record. */
	rec_len = (size_t)pkt[11] << 8 | pkt[12];
	if (rec_len > len - REC_HDR_LEN || rec_len < HS_HDR_LEN)
		return -EINVAL;
	hs = pkt + REC_HDR_LEN;
	if (hs[0] != HS_CLIENT_HELLO)
		return -EINVAL;
	/* Only a first fragment starts with the session id. A first fragment
	 * may be shorter than the message but never longer. */
	if (get24(hs + 6) != 0)
		return -EINVAL;
	frag_len = get24(hs + 9);
	if (frag_len > get24(hs + 1) || frag_len > rec_len - HS_HDR_LEN)
		return -EINVAL;
	if (frag_len < HELLO_ID_OFF + 1)
		return -EINVAL;
	body = hs + HS_HDR_LEN;
	n = body[HELLO_ID_OFF];
	if (n == 0 || n > DTLS_SESSION_ID_MAX || n > frag_len - HELLO_ID_OFF - 1)
		return -EINVAL;
	*id = body + HELLO_ID_OFF + 1;
	*id_len = n;
	return 0;
}
