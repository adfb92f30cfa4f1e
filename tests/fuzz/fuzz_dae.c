/* The RADIUS Disconnect/CoA request parser (dae_packet.c), which the DAE helper runs on
 * every datagram from the network. Two ways in: the bytes as a datagram (almost never
 * with a valid authenticator, so the framing and the authenticator check), and the bytes
 * as the attributes of a request whose header and Request Authenticator the harness
 * makes with the secret (so the checks that follow it). Whatever passes must name a
 * session, hold NUL-terminated strings within their fields, and get a well-formed
 * answer. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/crypto.h>

#include "sec/dae_packet.h"

#define SECRET "fuzz-secret"
#define NOW    1700000000

static void check(const uint8_t *pkt, size_t len)
{
	struct dae_request req;
	uint8_t reply[64];
	char why[160];
	int ret = dae_parse(pkt, len, SECRET, NOW, &req, why, sizeof(why));
	size_t rlen;

	if (memchr(why, '\0', sizeof(why)) == NULL)
		abort();
	if (ret < 0)
		return;
	if (memchr(req.sid, '\0', sizeof(req.sid)) == NULL ||
	    memchr(req.user, '\0', sizeof(req.user)) == NULL ||
	    memchr(req.framed_ip, '\0', sizeof(req.framed_ip)) == NULL)
		abort();
	if (ret == 0 && !req.sid[0] && !req.user[0] && !req.framed_ip[0])
		abort();
	rlen = dae_reply(&req, (unsigned)ret, SECRET, reply);
	if (rlen != (ret ? 26u : 20u) || reply[1] != req.id || (reply[2] << 8 | reply[3]) != rlen)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t pkt[DAE_MAX_PACKET + 64], buf[DAE_MAX_PACKET + 64];
	size_t len;

	check(data, size);
	if (size < 2 || size > DAE_MAX_PACKET - 20)
		return 0;
	/* A header for the attributes: the first byte picks the code, the second the id. */
	len = 20 + size - 2;
	pkt[0] = (data[0] & 1) ? 43 : 40;
	pkt[1] = data[1];
	pkt[2] = (uint8_t)(len >> 8);
	pkt[3] = (uint8_t)len;
	memset(pkt + 4, 0, 16);
	memcpy(pkt + 20, data + 2, size - 2);
	memcpy(buf, pkt, len);
	memcpy(buf + len, SECRET, strlen(SECRET));
	if (gnutls_hash_fast(GNUTLS_DIG_MD5, buf, len + strlen(SECRET), pkt + 4) < 0)
		return 0;
	check(pkt, len);
	return 0;
}
