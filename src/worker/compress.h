/* Per-packet compression of the tunnel (compression = true; doc: protocol.md §4.3):
 * oc-lz4 (a raw LZ4 block) and lzs (Stac LZS), each packet on its own, chosen per
 * channel from what the client offers in X-CSTP-Accept-Encoding and
 * X-DTLS-Accept-Encoding. */
#ifndef SLUICE_COMPRESS_H
#define SLUICE_COMPRESS_H

#include <stddef.h>
#include <stdint.h>

/* The most a decompressed packet may hold: openconnect accepts up to this much whatever
 * the MTU, and a client may send as much. */
#define COMP_MAX_PACKET 16384

struct comp_method;

/* The first method of order[] (the server's, best first) that the comma-separated
 * offer names; NULL when none or offer is NULL. */
const struct comp_method *comp_choose(const char *offer, char *const *order, size_t n_order);
const char *comp_name(const struct comp_method *m);

/* Compresses a packet into dst (room for len - 1 bytes at least is enough). Returns
 * the compressed length, or 0 when the result would not be smaller: the packet then
 * goes as it is. */
size_t comp_packet(const struct comp_method *m, uint8_t *dst, size_t cap, const uint8_t *src,
		   size_t len);

/* Decompresses a packet from the client into dst; returns its length, or a negative
 * error for a malformed packet or one larger than cap. */
int comp_unpacket(const struct comp_method *m, uint8_t *dst, size_t cap, const uint8_t *src,
		  size_t len);

#endif
