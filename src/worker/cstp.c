#include "config.h"
#include "worker/cstp.h"

#include <errno.h>
#include <string.h>

static const uint8_t cstp_magic[4] = {'S', 'T', 'F', 0x01};

void cstp_put_header(uint8_t hdr[CSTP_HDR_LEN], uint8_t type, uint16_t payload_len)
{
	memcpy(hdr, cstp_magic, sizeof(cstp_magic));
	hdr[4] = (uint8_t)(payload_len >> 8);
	hdr[5] = (uint8_t)payload_len;
	hdr[6] = type;
	hdr[7] = 0;
}

ssize_t cstp_frame_parse(const uint8_t *buf, size_t len, struct cstp_frame *f)
{
	size_t magic = len < sizeof(cstp_magic) ? len : sizeof(cstp_magic);
	uint16_t plen;

	if (len == 0)
		return 0;
	/* Check what has arrived so that a misaligned stream fails at once. */
	if (memcmp(buf, cstp_magic, magic) != 0)
		return -EPROTO;
	if (len >= CSTP_HDR_LEN && buf[7] != 0)
		return -EPROTO;
	if (len < 6)
		return 0;
	plen = (uint16_t)(buf[4] << 8 | buf[5]);
	if (plen > CSTP_MAX_PAYLOAD)
		return -EMSGSIZE;
	if (len < CSTP_HDR_LEN || len - CSTP_HDR_LEN < plen)
		return 0;
	f->type = buf[6];
	f->len = plen;
	f->payload = buf + CSTP_HDR_LEN;
	return CSTP_HDR_LEN + (ssize_t)plen;
}

bool cstp_packet_source_ok(const uint8_t *pkt, size_t len, uint32_t client_ipv4_be,
			   const struct cstp_net *nets, size_t n_nets)
{
	size_t ihl, total;
	uint32_t src;

	if (len < 20 || pkt[0] >> 4 != 4)
		return false;
	ihl = (size_t)(pkt[0] & 0x0f) * 4;
	total = (size_t)pkt[2] << 8 | pkt[3];
	if (ihl < 20 || total < ihl || total > len)
		return false;
	memcpy(&src, pkt + 12, sizeof(src));
	if (src == client_ipv4_be)
		return true;
	for (size_t i = 0; i < n_nets; i++)
		if ((src & nets[i].mask_be) == nets[i].net_be)
			return true;
	return false;
}

bool cstp_packet6_source_ok(const uint8_t *pkt, size_t len, const uint8_t client_ipv6[16])
{
	size_t payload;

	if (len < 40 || pkt[0] >> 4 != 6)
		return false;
	payload = (size_t)pkt[4] << 8 | pkt[5];
	if (payload > len - 40)
		return false;
	return memcmp(pkt + 8, client_ipv6, 16) == 0;
}

bool cstp_disconnect_is_logout(const uint8_t *payload, size_t len)
{
	return len >= 1 && payload[0] == CSTP_DISCONNECT_USER;
}
