/* Stac LZS (ANSI X3.241-1994, the format of RFC 1974 and RFC 2395), the `lzs` method
 * of CSTP and DTLS compression (doc: protocol.md §4.3). Each packet is a stream of its
 * own: no history is kept from one packet to the next, and each stream ends with the
 * end marker. Both functions are reentrant and allocate nothing (lzs_compress keeps
 * about 6 KB on the stack). */
#ifndef SLUICE_LZS_H
#define SLUICE_LZS_H

#include <stddef.h>
#include <stdint.h>

/* The longest input lzs_compress takes: it keeps positions in 16 bits. Packets are at
 * most 16384 bytes. */
#define LZS_MAX_INPUT 65535

/* Compresses one packet. Returns the compressed length, or -EFBIG when the result would
 * not fit in dstcap or srclen is above LZS_MAX_INPUT (the caller then sends the packet
 * uncompressed; it passes dstcap = srclen - 1 so that only a smaller result is
 * accepted). */
int lzs_compress(uint8_t *dst, size_t dstcap, const uint8_t *src, size_t srclen);

/* Decompresses one packet. Returns the length, -EINVAL for a malformed stream (bad
 * offset, no end marker, truncated), -EFBIG when the output would exceed dstcap. Bytes
 * after the end marker are ignored, as openconnect's decoder does. */
int lzs_decompress(uint8_t *dst, size_t dstcap, const uint8_t *src, size_t srclen);

#endif
