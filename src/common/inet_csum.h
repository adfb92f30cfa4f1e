/* The Internet checksum (RFC 1071), for the few places that build or check IP packets
 * by hand: the tests' packets, the load generator's pings. */
#ifndef SLUICE_INET_CSUM_H
#define SLUICE_INET_CSUM_H

#include <stddef.h>
#include <stdint.h>

/* The one's complement of the one's complement sum of len bytes read as big-endian
 * 16-bit words (an odd last byte padded with zero), in host order: the value to store
 * big-endian in a header, or 0 over a header or packet whose checksum is right. */
static inline uint16_t inet_csum(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

#endif
