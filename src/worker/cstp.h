/* CSTP framing on the TLS stream (doc: protocol.md §4): every frame is an
 * 8-byte header 'S' 'T' 'F' 0x01, payload length (16-bit big-endian), type,
 * 0x00, then the payload; each frame travels in its own TLS record. */
#ifndef SLUICE_CSTP_H
#define SLUICE_CSTP_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CSTP_HDR_LEN 8
/* openconnect 9.01 reads a frame with one gnutls_record_recv(), so a whole
 * frame must fit one TLS record (16384 bytes); it sends no larger ones either.
 * The same bound applies to frames in both directions. */
#define CSTP_MAX_FRAME   16384
#define CSTP_MAX_PAYLOAD (CSTP_MAX_FRAME - CSTP_HDR_LEN)

/* The client ends the session on any other type, so never send others; types
 * not listed here that arrive from a client are parsed and left to the caller
 * to ignore. */
enum cstp_type {
	CSTP_DATA = 0x00,
	CSTP_DPD_REQ = 0x03,
	CSTP_DPD_RESP = 0x04,
	CSTP_DISCONNECT = 0x05,
	CSTP_KEEPALIVE = 0x07,
	CSTP_COMPRESSED = 0x08,
	CSTP_TERMINATE = 0x09,
};

/* First payload byte of the DISCONNECT a client sends when the user quits. */
#define CSTP_DISCONNECT_USER 0xb0
/* First payload byte of a DISCONNECT the server sends with a reason text: no code of
 * its own (openconnect prints it, and the text, and does not reconnect). */
#define CSTP_DISCONNECT_SERVER 0x00

struct cstp_frame {
	uint8_t type;
	uint16_t len;
	const uint8_t *payload; /* points into the parsed buffer */
};

/* payload_len must be at most CSTP_MAX_PAYLOAD. */
void cstp_put_header(uint8_t hdr[CSTP_HDR_LEN], uint8_t type, uint16_t payload_len);

/* Looks at the start of buf without copying. Returns the frame's total size
 * (CSTP_HDR_LEN + len) and fills f when a whole frame is there, 0 when more
 * bytes are needed, -EPROTO on a bad magic, version or byte 7 (detected as soon
 * as those bytes are there), -EMSGSIZE when len exceeds CSTP_MAX_PAYLOAD. */
ssize_t cstp_frame_parse(const uint8_t *buf, size_t len, struct cstp_frame *f);

/* A network in network byte order; net has no bits outside mask. */
struct cstp_net {
	uint32_t net_be, mask_be;
};

/* True for an IPv4 packet (version 4, header length at least 20 bytes, total
 * length within len and covering the header) whose source address equals
 * client_ipv4_be (network byte order) or lies in one of nets (the networks behind
 * the client, its iroutes); false for anything else, IPv6 included (a client
 * without an IPv6 address may send none). */
bool cstp_packet_source_ok(const uint8_t *pkt, size_t len, uint32_t client_ipv4_be,
			   const struct cstp_net *nets, size_t n_nets);

/* An IPv6 network; net has no bits beyond prefix. */
struct cstp_net6 {
	uint8_t net[16];
	unsigned prefix;
};

/* What restrict-user-to-routes lets a client reach, per family. */
struct port_list;

struct cstp_dest_filter {
	bool all; /* "default" or no IPv4 route: every destination */
	const struct cstp_net *routes;
	size_t n_routes;
	const struct cstp_net *excluded; /* no-route: never, whatever the routes say */
	size_t n_excluded;
	const uint32_t *dns_be; /* DNS servers: UDP and TCP port 53 always */
	size_t n_dns;
	bool all6; /* "default" or no IPv6 route */
	const struct cstp_net6 *routes6;
	size_t n_routes6;
	const struct cstp_net6 *excluded6;
	size_t n_excluded6;
	const struct in6_addr *dns6;
	size_t n_dns6;
	/* restrict-user-to-ports (common/ports.h); NULL: every protocol and port */
	const struct port_list *ports;
};

/* True for an IPv4 packet (checked as cstp_packet_source_ok checks it) that f lets
 * through: to a DNS server's port 53 (UDP or TCP, first fragment), else to a
 * destination outside every excluded network and inside a route (any, with all). */
bool cstp_packet_dest_ok(const uint8_t *pkt, size_t len, const struct cstp_dest_filter *f);

/* The same for IPv6 (version 6, 40-byte header, payload length within len): the
 * source lies in the client's prefix or in one of nets; false for IPv4. Extension
 * headers are not walked: the source address sits in the fixed header. */
bool cstp_packet6_source_ok(const uint8_t *pkt, size_t len, const struct cstp_net6 *client,
			    const struct cstp_net6 *nets, size_t n_nets);

/* True for an IPv6 packet whose source is link-local (fe80::/10) or unspecified (::):
 * traffic that stays on the tunnel's link. */
bool cstp_packet6_link_local(const uint8_t *pkt, size_t len);

/* cstp_packet_dest_ok for IPv6 packets and f's IPv6 part. DNS is recognised only when
 * UDP or TCP follows the fixed header directly (no extension headers). */
bool cstp_packet6_dest_ok(const uint8_t *pkt, size_t len, const struct cstp_dest_filter *f);

/* True when a DISCONNECT payload says the user logged out (first byte 0xb0):
 * the session ends and its cookie is invalidated. An empty one is not. */
bool cstp_disconnect_is_logout(const uint8_t *payload, size_t len);

#endif
