#include "config.h"
#include "worker/dtls_frame.h"

#include <errno.h>

int dtls_frame_parse(const uint8_t *rec, size_t len, struct dtls_frame *f)
{
	if (len < DTLS_HDR_LEN)
		return -EINVAL;
	f->type = rec[0];
	f->payload = rec + DTLS_HDR_LEN;
	f->len = len - DTLS_HDR_LEN;
	return 0;
}

size_t dtls_frame_put(uint8_t *buf, uint8_t type, size_t payload_len)
{
	buf[0] = type;
	return DTLS_HDR_LEN + payload_len;
}
