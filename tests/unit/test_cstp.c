#include "config.h"
#include "worker/cstp.h"
#include "common/ports.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"

START_TEST(test_header_round_trip)
{
	static const uint8_t types[] = {CSTP_DATA,       CSTP_DPD_REQ,   CSTP_DPD_RESP,
					CSTP_DISCONNECT, CSTP_KEEPALIVE, CSTP_COMPRESSED,
					CSTP_TERMINATE};
	static const uint16_t lens[] = {0, 1, 255, 256, 1434, CSTP_MAX_PAYLOAD};
	static uint8_t buf[CSTP_MAX_FRAME];
	struct cstp_frame f;

	for (size_t i = 0; i < sizeof(types); i++) {
		for (size_t j = 0; j < sizeof(lens) / sizeof(lens[0]); j++) {
			memset(buf, 0xa5, sizeof(buf));
			cstp_put_header(buf, types[i], lens[j]);
			ck_assert_int_eq(cstp_frame_parse(buf, CSTP_HDR_LEN + lens[j], &f),
					 CSTP_HDR_LEN + lens[j]);
			ck_assert_uint_eq(f.type, types[i]);
			ck_assert_uint_eq(f.len, lens[j]);
			ck_assert_ptr_eq(f.payload, buf + CSTP_HDR_LEN);
		}
	}
}
END_TEST

START_TEST(test_header_bytes)
{
	uint8_t hdr[CSTP_HDR_LEN];
	static const uint8_t want[CSTP_HDR_LEN] = {'S', 'T', 'F', 0x01, 0x05, 0x9a, 0x00, 0x00};

	cstp_put_header(hdr, CSTP_DATA, 1434);
	ck_assert_mem_eq(hdr, want, sizeof(want));
}
END_TEST

/* The client's logout frame as seen in the lab (protocol.md §8). */
START_TEST(test_disconnect)
{
	static const uint8_t bye[] = "STF\x01\x00\x12\x05\x00\xb0"
				     "Aborted by caller";
	struct cstp_frame f;

	ck_assert_int_eq(cstp_frame_parse(bye, sizeof(bye) - 1, &f), 26);
	ck_assert_uint_eq(f.type, CSTP_DISCONNECT);
	ck_assert(cstp_disconnect_is_logout(f.payload, f.len));
	ck_assert(!cstp_disconnect_is_logout(f.payload, 0));
	ck_assert(!cstp_disconnect_is_logout((const uint8_t *)"\xb1", 1));
}
END_TEST

START_TEST(test_errors)
{
	struct cstp_frame f;
	uint8_t b[CSTP_HDR_LEN + 4];

	cstp_put_header(b, CSTP_DATA, 4);
	for (size_t i = 0; i < 4; i++) {
		uint8_t bad[sizeof(b)];

		memcpy(bad, b, sizeof(b));
		bad[i] ^= 0x20;
		/* Found as soon as the broken byte is there. */
		for (size_t len = i + 1; len <= sizeof(bad); len++)
			ck_assert_int_eq(cstp_frame_parse(bad, len, &f), -EPROTO);
		for (size_t len = 0; len <= i; len++)
			ck_assert_int_eq(cstp_frame_parse(bad, len, &f), 0);
	}
	b[7] = 1;
	ck_assert_int_eq(cstp_frame_parse(b, 7, &f), 0);
	ck_assert_int_eq(cstp_frame_parse(b, 8, &f), -EPROTO);
	ck_assert_int_eq(cstp_frame_parse(b, sizeof(b), &f), -EPROTO);

	cstp_put_header(b, CSTP_DATA, 0);
	b[4] = (CSTP_MAX_PAYLOAD + 1) >> 8;
	b[5] = (CSTP_MAX_PAYLOAD + 1) & 0xff;
	ck_assert_int_eq(cstp_frame_parse(b, 6, &f), -EMSGSIZE);
	ck_assert_int_eq(cstp_frame_parse(b, sizeof(b), &f), -EMSGSIZE);
	b[4] = b[5] = 0xff;
	ck_assert_int_eq(cstp_frame_parse(b, sizeof(b), &f), -EMSGSIZE);
}
END_TEST

START_TEST(test_partial)
{
	uint8_t b[CSTP_HDR_LEN + 100];
	struct cstp_frame f;

	memset(b, 0x11, sizeof(b));
	cstp_put_header(b, CSTP_DPD_REQ, 100);
	ck_assert_int_eq(cstp_frame_parse(NULL, 0, &f), 0);
	for (size_t len = 0; len < sizeof(b); len++)
		ck_assert_int_eq(cstp_frame_parse(b, len, &f), 0);
	ck_assert_int_eq(cstp_frame_parse(b, sizeof(b), &f), sizeof(b));
	ck_assert_uint_eq(f.type, CSTP_DPD_REQ);
	ck_assert_uint_eq(f.len, 100);
}
END_TEST

START_TEST(test_stream)
{
	static const struct {
		uint8_t type;
		uint16_t len;
	} frames[] = {
	    {CSTP_DATA, 84}, {CSTP_DPD_REQ, 0}, {CSTP_KEEPALIVE, 0},   {CSTP_DATA, 1434},
	    {0x06, 3},       {CSTP_DATA, 1},    {CSTP_DISCONNECT, 18},
	};
	static uint8_t stream[4096];
	size_t len = 0, off = 0;
	struct cstp_frame f;

	for (size_t i = 0; i < sizeof(frames) / sizeof(frames[0]); i++) {
		cstp_put_header(stream + len, frames[i].type, frames[i].len);
		memset(stream + len + CSTP_HDR_LEN, (int)i, frames[i].len);
		len += CSTP_HDR_LEN + frames[i].len;
	}
	for (size_t i = 0; i < sizeof(frames) / sizeof(frames[0]); i++) {
		ssize_t n = cstp_frame_parse(stream + off, len - off, &f);

		ck_assert_int_eq(n, CSTP_HDR_LEN + frames[i].len);
		ck_assert_uint_eq(f.type, frames[i].type);
		ck_assert_uint_eq(f.len, frames[i].len);
		for (size_t j = 0; j < f.len; j++)
			ck_assert_uint_eq(f.payload[j], i);
		/* A frame cut anywhere is incomplete, never an error. */
		for (size_t cut = 0; cut < (size_t)n; cut++)
			ck_assert_int_eq(cstp_frame_parse(stream + off, cut, &f), 0);
		off += (size_t)n;
	}
	ck_assert_uint_eq(off, len);
	ck_assert_int_eq(cstp_frame_parse(stream + off, 0, &f), 0);
}
END_TEST

static size_t ipv4_packet(uint8_t *p, const char *src, size_t total)
{
	struct in_addr a;

	memset(p, 0, total);
	p[0] = 0x45;
	p[2] = (uint8_t)(total >> 8);
	p[3] = (uint8_t)total;
	p[8] = 64;
	p[9] = 17;
	inet_pton(AF_INET, src, &a);
	memcpy(p + 12, &a, 4);
	inet_pton(AF_INET, "198.19.0.1", &a);
	memcpy(p + 16, &a, 4);
	return total;
}

START_TEST(test_source_ipv4)
{
	uint8_t p[64];
	uint32_t client = inet_addr("198.19.0.5");
	size_t n = ipv4_packet(p, "198.19.0.5", 48);

	ck_assert(cstp_packet_source_ok(p, n, client, NULL, 0));
	ck_assert(cstp_packet_source_ok(p, sizeof(p), client, NULL, 0)); /* trailing bytes */
	ck_assert(!cstp_packet_source_ok(p, n, inet_addr("198.19.0.6"), NULL, 0));
	ck_assert(!cstp_packet_source_ok(p, n - 1, client, NULL, 0)); /* total > len */
	ck_assert(!cstp_packet_source_ok(p, 19, client, NULL, 0));
	ck_assert(!cstp_packet_source_ok(p, 0, client, NULL, 0));

	n = ipv4_packet(p, "198.19.0.6", 20);
	ck_assert(!cstp_packet_source_ok(p, n, client, NULL, 0));

	n = ipv4_packet(p, "198.19.0.5", 48);
	p[0] = 0x44; /* header shorter than 20 bytes */
	ck_assert(!cstp_packet_source_ok(p, n, client, NULL, 0));
	p[0] = 0x4f; /* 60-byte header in a 48-byte packet */
	ck_assert(!cstp_packet_source_ok(p, n, client, NULL, 0));
	ck_assert(!cstp_packet_source_ok(p, sizeof(p), client, NULL, 0));
	p[0] = 0x46; /* options: 24-byte header */
	ck_assert(cstp_packet_source_ok(p, n, client, NULL, 0));
	p[3] = 10; /* total length below the header */
	ck_assert(!cstp_packet_source_ok(p, n, client, NULL, 0));
}
END_TEST

/* Sources inside a network behind the client (iroute) pass; others do not. */
START_TEST(test_source_iroute)
{
	uint8_t p[64];
	uint32_t client = inet_addr("198.19.0.5");
	struct cstp_net nets[] = {
	    {inet_addr("198.18.5.0"), inet_addr("255.255.255.0")},
	    {inet_addr("198.18.8.4"), inet_addr("255.255.255.255")},
	};
	size_t n = ipv4_packet(p, "198.18.5.77", 48);

	ck_assert(!cstp_packet_source_ok(p, n, client, NULL, 0));
	ck_assert(cstp_packet_source_ok(p, n, client, nets, 2));
	ck_assert(!cstp_packet_source_ok(p, n, client, nets + 1, 1));
	n = ipv4_packet(p, "198.18.6.1", 48);
	ck_assert(!cstp_packet_source_ok(p, n, client, nets, 2));
	n = ipv4_packet(p, "198.18.8.4", 48);
	ck_assert(cstp_packet_source_ok(p, n, client, nets, 2));
	n = ipv4_packet(p, "198.18.8.5", 48);
	ck_assert(!cstp_packet_source_ok(p, n, client, nets, 2));
	n = ipv4_packet(p, "198.19.0.5", 48);
	ck_assert(cstp_packet_source_ok(p, n, client, nets, 2));
}
END_TEST

static struct cstp_net6 net6(const char *addr, unsigned prefix)
{
	struct cstp_net6 n = {.prefix = prefix};

	ck_assert_int_eq(inet_pton(AF_INET6, addr, n.net), 1);
	return n;
}

/* An IPv6 packet of 60 bytes from src to dst, next header nh, destination port dport. */
static void ipv6_packet(uint8_t p[60], const char *src, const char *dst, uint8_t nh, unsigned dport)
{
	memset(p, 0, 60);
	p[0] = 0x60;
	p[5] = 20;
	p[6] = nh;
	ck_assert_int_eq(inet_pton(AF_INET6, src, p + 8), 1);
	ck_assert_int_eq(inet_pton(AF_INET6, dst, p + 24), 1);
	p[42] = (uint8_t)(dport >> 8);
	p[43] = (uint8_t)dport;
}

START_TEST(test_source_ipv6)
{
	uint8_t p[60];
	struct cstp_net6 mine = net6("fd00:1::5", 128), prefix = net6("fd00:1:0:2::", 64);
	struct cstp_net6 iroutes[] = {net6("fd00:77::", 48)};
	uint32_t client = inet_addr("198.19.0.5");

	ipv6_packet(p, "fd00:1::5", "fd00:9::1", 17, 9);
	/* An IPv6 packet never passes the IPv4 check, even with matching bytes. */
	memcpy(p + 12, &client, 4);
	ck_assert(!cstp_packet_source_ok(p, sizeof(p), client, NULL, 0));
	ipv6_packet(p, "fd00:1::5", "fd00:9::1", 17, 9);

	ck_assert(cstp_packet6_source_ok(p, sizeof(p), &mine, NULL, 0));
	ck_assert(!cstp_packet6_source_ok(p, sizeof(p), &prefix, NULL, 0));
	ck_assert(!cstp_packet6_source_ok(p, sizeof(p) - 1, &mine, NULL, 0));
	ck_assert(!cstp_packet6_source_ok(p, 39, &mine, NULL, 0));
	/* anywhere in the client's prefix, or in an iroute */
	ipv6_packet(p, "fd00:1:0:2:abcd::9", "fd00:9::1", 17, 9);
	ck_assert(cstp_packet6_source_ok(p, sizeof(p), &prefix, NULL, 0));
	ipv6_packet(p, "fd00:1:0:3::1", "fd00:9::1", 17, 9);
	ck_assert(!cstp_packet6_source_ok(p, sizeof(p), &prefix, NULL, 0));
	ipv6_packet(p, "fd00:77:0:5::1", "fd00:9::1", 17, 9);
	ck_assert(!cstp_packet6_source_ok(p, sizeof(p), &prefix, NULL, 0));
	ck_assert(cstp_packet6_source_ok(p, sizeof(p), &prefix, iroutes, 1));
	ipv6_packet(p, "fd00:78::1", "fd00:9::1", 17, 9);
	ck_assert(!cstp_packet6_source_ok(p, sizeof(p), &prefix, iroutes, 1));

	uint8_t v4[48];
	ipv4_packet(v4, "198.19.0.5", 48);
	ck_assert(!cstp_packet6_source_ok(v4, sizeof(v4), &mine, NULL, 0));
}
END_TEST

START_TEST(test_link_local_ipv6)
{
	uint8_t p[60];

	ipv6_packet(p, "fe80::1", "ff02::2", 58, 0);
	ck_assert(cstp_packet6_link_local(p, sizeof(p)));
	ipv6_packet(p, "febf::1", "ff02::2", 58, 0);
	ck_assert(cstp_packet6_link_local(p, sizeof(p)));
	ipv6_packet(p, "::", "ff02::16", 58, 0);
	ck_assert(cstp_packet6_link_local(p, sizeof(p)));
	ipv6_packet(p, "fec0::1", "ff02::2", 58, 0);
	ck_assert(!cstp_packet6_link_local(p, sizeof(p)));
	ipv6_packet(p, "fd00:1::5", "ff02::2", 58, 0);
	ck_assert(!cstp_packet6_link_local(p, sizeof(p)));
	ipv6_packet(p, "fe80::1", "ff02::2", 58, 0);
	ck_assert(!cstp_packet6_link_local(p, 39));
}
END_TEST

START_TEST(test_dest_filter_ipv6)
{
	uint8_t p[60];
	const struct cstp_net6 routes[] = {net6("fd00:9::", 32), net6("fd00:1::1", 128)};
	const struct cstp_net6 excluded[] = {net6("fd00:9:99::", 48)};
	struct in6_addr dns[1];
	struct cstp_dest_filter f = {.routes6 = routes,
				     .n_routes6 = 2,
				     .excluded6 = excluded,
				     .n_excluded6 = 1,
				     .dns6 = dns,
				     .n_dns6 = 1};

	inet_pton(AF_INET6, "fd00:53::53", dns);
	ipv6_packet(p, "fd00:1::5", "fd00:9:1::1", 17, 9);
	ck_assert(cstp_packet6_dest_ok(p, sizeof(p), &f));
	ipv6_packet(p, "fd00:1::5", "fd00:1::1", 17, 9);
	ck_assert(cstp_packet6_dest_ok(p, sizeof(p), &f));
	ipv6_packet(p, "fd00:1::5", "fd00:1::2", 17, 9);
	ck_assert(!cstp_packet6_dest_ok(p, sizeof(p), &f));
	ipv6_packet(p, "fd00:1::5", "fd00:9:99::1", 17, 9);
	ck_assert(!cstp_packet6_dest_ok(p, sizeof(p), &f));
	f.all6 = true;
	ck_assert(!cstp_packet6_dest_ok(p, sizeof(p), &f));
	ipv6_packet(p, "fd00:1::5", "fd00:1::2", 17, 9);
	ck_assert(cstp_packet6_dest_ok(p, sizeof(p), &f));
	f.all6 = false;
	/* the DNS server: port 53 over UDP and TCP, nothing else */
	ipv6_packet(p, "fd00:1::5", "fd00:53::53", 17, 53);
	ck_assert(cstp_packet6_dest_ok(p, sizeof(p), &f));
	ipv6_packet(p, "fd00:1::5", "fd00:53::53", 6, 53);
	ck_assert(cstp_packet6_dest_ok(p, sizeof(p), &f));
	ipv6_packet(p, "fd00:1::5", "fd00:53::53", 17, 54);
	ck_assert(!cstp_packet6_dest_ok(p, sizeof(p), &f));
	ipv6_packet(p, "fd00:1::5", "fd00:53::53", 0, 53); /* behind a hop-by-hop header */
	ck_assert(!cstp_packet6_dest_ok(p, sizeof(p), &f));
	ipv6_packet(p, "fd00:1::5", "fd00:53::53", 17, 53);
	ck_assert(!cstp_packet6_dest_ok(p, 43, &f));
	/* IPv4 never passes the IPv6 check */
	uint8_t v4[48];
	ipv4_packet(v4, "198.19.0.5", 48);
	f.all6 = true;
	ck_assert(!cstp_packet6_dest_ok(v4, sizeof(v4), &f));
}
END_TEST

/* A UDP packet from the client to dst, port dport (total 48 bytes, 20-byte header). */
static size_t udp_to(uint8_t *p, const char *dst, unsigned dport)
{
	struct in_addr a;
	size_t n = ipv4_packet(p, "198.19.0.5", 48);

	inet_pton(AF_INET, dst, &a);
	memcpy(p + 16, &a, 4);
	p[22] = (uint8_t)(dport >> 8);
	p[23] = (uint8_t)dport;
	return n;
}

/* restrict-user-to-ports, after the routes: an allow list passes only its protocols
 * and ports, a deny list all but those; DNS to the session's servers passes either way. */
START_TEST(test_dest_ports)
{
	uint8_t p[64], p6[64];
	const struct cstp_net routes[] = {{inet_addr("198.18.0.0"), inet_addr("255.255.0.0")}};
	const uint32_t dns[] = {inet_addr("198.18.53.53")};
	struct cstp_dest_filter f = {false, routes, 1, NULL, 0, dns, 1};
	struct port_list allow, deny;
	char why[160];
	size_t n;

	ck_assert_int_eq(
	    ports_parse("tcp(443), udp(9), icmp(), icmpv6()", &allow, why, sizeof(why)), 0);
	ck_assert_int_eq(ports_parse("!(udp(9))", &deny, why, sizeof(why)), 0);
	f.ports = &allow;
	ck_assert(cstp_packet_dest_ok(p, udp_to(p, "198.18.7.1", 9), &f));
	ck_assert(!cstp_packet_dest_ok(p, udp_to(p, "198.18.7.1", 10), &f));
	ck_assert(!cstp_packet_dest_ok(p, udp_to(p, "198.19.7.1", 9), &f)); /* outside the routes */
	ck_assert(cstp_packet_dest_ok(p, udp_to(p, "198.18.53.53", 53), &f)); /* DNS */
	n = udp_to(p, "198.18.7.1", 443);
	p[9] = 6;
	ck_assert(cstp_packet_dest_ok(p, n, &f));
	p[9] = 132; /* sctp is not in the list */
	ck_assert(!cstp_packet_dest_ok(p, n, &f));
	p[9] = 1;
	ck_assert(cstp_packet_dest_ok(p, n, &f));
	p[9] = 17;
	p[22] = 0;
	p[23] = 9;
	p[7] = 1; /* a later fragment has no port: not in an allow list */
	ck_assert(!cstp_packet_dest_ok(p, n, &f));
	f.ports = &deny;
	ck_assert(cstp_packet_dest_ok(p, n, &f)); /* nor in a deny list */
	p[7] = 0;
	ck_assert(!cstp_packet_dest_ok(p, n, &f));
	ck_assert(cstp_packet_dest_ok(p, udp_to(p, "198.18.7.1", 10), &f));
	/* IPv6: the protocol after the fixed header */
	f.all6 = true;
	ipv6_packet(p6, "fd00:1::5", "fd00:2::1", 17, 9);
	ck_assert(!cstp_packet6_dest_ok(p6, sizeof(p6), &f));
	f.ports = &allow;
	ck_assert(cstp_packet6_dest_ok(p6, sizeof(p6), &f));
	ipv6_packet(p6, "fd00:1::5", "fd00:2::1", 58, 0);
	ck_assert(cstp_packet6_dest_ok(p6, sizeof(p6), &f));
	ipv6_packet(p6, "fd00:1::5", "fd00:2::1", 6, 80);
	ck_assert(!cstp_packet6_dest_ok(p6, sizeof(p6), &f));
}
END_TEST

/* restrict-user-to-routes: routes allow, no-routes exclude, DNS servers get port 53. */
START_TEST(test_dest_filter)
{
	uint8_t p[64];
	const struct cstp_net routes[] = {
	    {inet_addr("198.18.0.0"), inet_addr("255.255.0.0")},
	    {inet_addr("198.19.0.1"), inet_addr("255.255.255.255")},
	};
	const struct cstp_net excluded[] = {{inet_addr("198.18.99.0"), inet_addr("255.255.255.0")}};
	const uint32_t dns[] = {inet_addr("198.19.53.53"), inet_addr("198.18.99.53")};
	struct cstp_dest_filter f = {false, routes, 2, excluded, 1, dns, 2};
	size_t n;

	ck_assert(cstp_packet_dest_ok(p, udp_to(p, "198.18.7.1", 9), &f));
	ck_assert(cstp_packet_dest_ok(p, udp_to(p, "198.19.0.1", 9), &f));
	ck_assert(!cstp_packet_dest_ok(p, udp_to(p, "198.19.0.2", 9), &f));
	ck_assert(!cstp_packet_dest_ok(p, udp_to(p, "198.19.200.1", 9), &f));
	/* no-route excludes, even inside a route and with every destination allowed */
	ck_assert(!cstp_packet_dest_ok(p, udp_to(p, "198.18.99.7", 9), &f));
	f.all = true;
	ck_assert(!cstp_packet_dest_ok(p, udp_to(p, "198.18.99.7", 9), &f));
	ck_assert(cstp_packet_dest_ok(p, udp_to(p, "198.19.200.1", 9), &f));
	f.all = false;
	/* DNS servers: port 53 over UDP and TCP, in a no-route too; nothing else */
	ck_assert(cstp_packet_dest_ok(p, udp_to(p, "198.19.53.53", 53), &f));
	ck_assert(cstp_packet_dest_ok(p, udp_to(p, "198.18.99.53", 53), &f));
	ck_assert(!cstp_packet_dest_ok(p, udp_to(p, "198.19.53.53", 54), &f));
	ck_assert(!cstp_packet_dest_ok(p, udp_to(p, "198.19.53.54", 53), &f));
	n = udp_to(p, "198.19.53.53", 53);
	p[9] = 6;
	ck_assert(cstp_packet_dest_ok(p, n, &f));
	p[9] = 1; /* ICMP has no port */
	ck_assert(!cstp_packet_dest_ok(p, n, &f));
	p[9] = 17;
	p[7] = 1; /* a later fragment: its bytes are no UDP header */
	ck_assert(!cstp_packet_dest_ok(p, n, &f));
	p[7] = 0;
	p[6] = 0x20; /* first fragment (more fragments follow) */
	ck_assert(cstp_packet_dest_ok(p, n, &f));
	p[6] = 0;
	p[0] = 0x4f; /* a 60-byte header leaves no room in 48 bytes */
	ck_assert(!cstp_packet_dest_ok(p, n, &f));
	p[0] = 0x4b; /* 44-byte header: 4 bytes of UDP, the port is there */
	p[46] = 0;
	p[47] = 53;
	ck_assert(cstp_packet_dest_ok(p, n, &f));
	n = ipv4_packet(p, "198.19.0.5", 22); /* 2 bytes of UDP: no port */
	memcpy(p + 16, &dns[0], 4);
	ck_assert(!cstp_packet_dest_ok(p, n, &f));
	/* malformed or not IPv4 */
	ck_assert(!cstp_packet_dest_ok(p, udp_to(p, "198.18.7.1", 9) - 1, &f));
	ck_assert(!cstp_packet_dest_ok(p, 19, &f));
	p[0] = 0x60;
	ck_assert(!cstp_packet_dest_ok(p, sizeof(p), &f));
}
END_TEST

int main(void)
{
	const struct check_test tests[] = {
	    {test_header_round_trip}, {test_header_bytes},
	    {test_disconnect},        {test_errors},
	    {test_partial},           {test_stream},
	    {test_source_ipv4},       {test_source_iroute},
	    {test_source_ipv6},       {test_link_local_ipv6},
	    {test_dest_filter_ipv6},  {test_dest_filter},
	    {test_dest_ports},        {NULL},
	};
	const struct check_case cases[] = {
	    {"framing", NULL, NULL, 0, tests},
	    {NULL},
	};

	return check_main("cstp", cases);
}
