#include "config.h"
#include "worker/cstp.h"

#include "common/ports.h"

#include <errno.h>
#include <string.h>

#include "common/netaddr.h"

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

/* The IPv4 header's length, or 0 when pkt is no well-formed IPv4 packet within len;
 * *total gets the packet's length from its header. */
static size_t ipv4_header(const uint8_t *pkt, size_t len, size_t *total)
{
	size_t ihl;

	if (len < 20 || pkt[0] >> 4 != 4)
		return 0;
	ihl = (size_t)(pkt[0] & 0x0f) * 4;
	*total = (size_t)pkt[2] << 8 | pkt[3];
	if (ihl < 20 || *total < ihl || *total > len)
		return 0;
	return ihl;
}

static bool in_nets(uint32_t addr_be, const struct cstp_net *nets, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((addr_be & nets[i].mask_be) == nets[i].net_be)
			return true;
	return false;
}

bool cstp_packet_source_ok(const uint8_t *pkt, size_t len, uint32_t client_ipv4_be,
			   const struct cstp_net *nets, size_t n_nets)
{
	size_t total;
	uint32_t src;

	if (!ipv4_header(pkt, len, &total))
		return false;
	memcpy(&src, pkt + 12, sizeof(src));
	return src == client_ipv4_be || in_nets(src, nets, n_nets);
}

/* UDP or TCP to port 53, in a packet whose header ends at ihl. Later fragments carry
 * no port, so they are not DNS. */
static bool is_dns(const uint8_t *pkt, size_t ihl, size_t total)
{
	bool first = ((pkt[6] & 0x1f) << 8 | pkt[7]) == 0;

	return first && (pkt[9] == 6 || pkt[9] == 17) && total - ihl >= 4 &&
	       (pkt[ihl + 2] << 8 | pkt[ihl + 3]) == 53;
}

/* restrict-user-to-ports for a packet of IP protocol proto whose transport header (len
 * bytes) is at l4; a later fragment (first false) has no port to match. */
static bool ports_ok(const struct port_list *l, unsigned proto, bool first, const uint8_t *l4,
		     size_t len)
{
	static const uint8_t numbers[] = {
	    [PORT_TCP] = 6,  [PORT_UDP] = 17,    [PORT_SCTP] = 132,
	    [PORT_ICMP] = 1, [PORT_ICMPV6] = 58, [PORT_ESP] = 50,
	};
	bool match = false;

	for (size_t i = 0; i < l->n && !match; i++) {
		const struct port_rule *r = &l->rules[i];

		if (numbers[r->proto] != proto)
			continue;
		match = !ports_proto_has_port(r->proto) ||
			(first && len >= 4 && (l4[2] << 8 | l4[3]) == r->port);
	}
	return l->deny ? !match : match;
}

bool cstp_packet_dest_ok(const uint8_t *pkt, size_t len, const struct cstp_dest_filter *f)
{
	size_t total, ihl = ipv4_header(pkt, len, &total);
	uint32_t dst;

	if (!ihl)
		return false;
	memcpy(&dst, pkt + 16, sizeof(dst));
	for (size_t i = 0; i < f->n_dns; i++)
		if (dst == f->dns_be[i] && is_dns(pkt, ihl, total))
			return true;
	if (in_nets(dst, f->excluded, f->n_excluded))
		return false;
	if (!f->all && !in_nets(dst, f->routes, f->n_routes))
		return false;
	return !f->ports || ports_ok(f->ports, pkt[9], ((pkt[6] & 0x1f) << 8 | pkt[7]) == 0,
				     pkt + ihl, total - ihl);
}

/* True for a well-formed IPv6 fixed header within len. */
static bool ipv6_header(const uint8_t *pkt, size_t len)
{
	return len >= 40 && pkt[0] >> 4 == 6 && ((size_t)pkt[4] << 8 | pkt[5]) <= len - 40;
}

static bool in_nets6(const uint8_t *addr, const struct cstp_net6 *nets, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ipv6_prefix_match(addr, nets[i].net, nets[i].prefix))
			return true;
	return false;
}

bool cstp_packet6_link_local(const uint8_t *pkt, size_t len)
{
	static const uint8_t unspecified[16];

	if (!ipv6_header(pkt, len))
		return false;
	return (pkt[8] == 0xfe && (pkt[9] & 0xc0) == 0x80) || memcmp(pkt + 8, unspecified, 16) == 0;
}

bool cstp_packet6_source_ok(const uint8_t *pkt, size_t len, const struct cstp_net6 *client,
			    const struct cstp_net6 *nets, size_t n_nets)
{
	if (!ipv6_header(pkt, len))
		return false;
	return ipv6_prefix_match(pkt + 8, client->net, client->prefix) ||
	       in_nets6(pkt + 8, nets, n_nets);
}

bool cstp_packet6_dest_ok(const uint8_t *pkt, size_t len, const struct cstp_dest_filter *f)
{
	const uint8_t *dst = pkt + 24;

	if (!ipv6_header(pkt, len))
		return false;
	for (size_t i = 0; i < f->n_dns6; i++)
		if (memcmp(dst, &f->dns6[i], 16) == 0 && (pkt[6] == 6 || pkt[6] == 17) &&
		    len >= 44 && (pkt[42] << 8 | pkt[43]) == 53)
			return true;
	if (in_nets6(dst, f->excluded6, f->n_excluded6))
		return false;
	if (!f->all6 && !in_nets6(dst, f->routes6, f->n_routes6))
		return false;
	/* The protocol that follows the fixed header; extension headers are not walked. */
	return !f->ports || ports_ok(f->ports, pkt[6], true, pkt + 40, len - 40);
}

bool cstp_disconnect_is_logout(const uint8_t *payload, size_t len)
{
	return len >= 1 && payload[0] == CSTP_DISCONNECT_USER;
}
