/* PROXY protocol header parser (proxy_proto.h). Strict: one space between the fields
 * of version 1, addresses in their family's literal form, ports in decimal without
 * leading zeros; in version 2 the length covers the addresses and well-formed TLVs. */
#include "config.h"

#include "main/proxy_proto.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

static const uint8_t v2_sig[12] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
				   0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};
static const char v1_sig[] = "PROXY ";
#define V1_SIG_LEN (sizeof(v1_sig) - 1)

static size_t min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

/* The offset of the first CRLF's end in buf[0..len), or 0. */
static size_t crlf_end(const uint8_t *buf, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++)
		if (buf[i] == '\r' && buf[i + 1] == '\n')
			return i + 2;
	return 0;
}

static bool is_v2(const uint8_t *buf, size_t len)
{
	return len > 0 && buf[0] == v2_sig[0];
}

size_t proxy_proto_header_end(const uint8_t *buf, size_t len)
{
	size_t end;

	if (is_v2(buf, len)) {
		if (len < PROXY_V2_HEAD)
			return len;
		return min_size(len, PROXY_V2_HEAD + ((size_t)buf[14] << 8 | buf[15]));
	}
	end = crlf_end(buf, len);
	return end ? end : len;
}

/* One version 1 field of at most max characters, ended by a space (last: by the end
 * of the line). Returns the position after it, or NULL. */
static const char *v1_field(const char *p, const char *end, char *out, size_t max, bool last)
{
	size_t n = 0;

	while (p + n < end && p[n] != ' ')
		n++;
	if (n == 0 || n > max || (last ? p + n != end : p + n == end))
		return NULL;
	memcpy(out, p, n);
	out[n] = '\0';
	return last ? p + n : p + n + 1;
}

static bool v1_port(const char *s, unsigned *port)
{
	unsigned long v = 0;
	size_t n = strlen(s);

	if (n == 0 || n > 5 || (n > 1 && s[0] == '0'))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*port = (unsigned)v;
	return v <= 65535;
}

static void set_addr(struct sockaddr_storage *ss, int family, const void *addr, unsigned port)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, addr, 4);
		s4->sin_port = htons((uint16_t)port);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, addr, 16);
		s6->sin6_port = htons((uint16_t)port);
	}
}

static int fail(const char **why, const char *text)
{
	*why = text;
	return -EINVAL;
}

/* "PROXY TCP4 src dst sport dport\r\n", "PROXY UNKNOWN[ anything]\r\n". */
static int parse_v1(const uint8_t *buf, size_t len, struct proxy_addrs *out, const char **why)
{
	size_t n = min_size(len, V1_SIG_LEN), end = crlf_end(buf, min_size(len, PROXY_V1_MAX));
	const char *p = (const char *)buf + V1_SIG_LEN, *line_end;
	char proto[8], src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], sport[8], dport[8];
	uint8_t a_src[16], a_dst[16];
	unsigned ps, pd;
	int family;

	if (memcmp(buf, v1_sig, n) != 0)
		return fail(why, "no PROXY protocol signature");
	if (!end) {
		if (len >= PROXY_V1_MAX)
			return fail(why, "version 1 header longer than 107 bytes");
		if (memchr(buf, '\n', len) || memchr(buf, '\0', len))
			return fail(why, "version 1 header with a stray line feed or NUL");
		return 0;
	}
	line_end = (const char *)buf + end - 2;
	if (end < V1_SIG_LEN + 2 || memchr(buf, '\n', end - 1) || memchr(buf, '\0', end))
		return fail(why, "malformed version 1 header");
	if (line_end - p >= 7 && memcmp(p, "UNKNOWN", 7) == 0 &&
	    (line_end - p == 7 || p[7] == ' ')) {
		out->local = true;
		return (int)end;
	}
	if (!(p = v1_field(p, line_end, proto, sizeof(proto) - 1, false)) ||
	    !(p = v1_field(p, line_end, src, sizeof(src) - 1, false)) ||
	    !(p = v1_field(p, line_end, dst, sizeof(dst) - 1, false)) ||
	    !(p = v1_field(p, line_end, sport, sizeof(sport) - 1, false)) ||
	    !(p = v1_field(p, line_end, dport, sizeof(dport) - 1, true)))
		return fail(why, "version 1 header without its six fields");
	if (strcmp(proto, "TCP4") == 0)
		family = AF_INET;
	else if (strcmp(proto, "TCP6") == 0)
		family = AF_INET6;
	else
		return fail(why, "version 1 header of a protocol other than TCP4, TCP6, UNKNOWN");
	if (inet_pton(family, src, a_src) != 1 || inet_pton(family, dst, a_dst) != 1)
		return fail(why, "version 1 header with an address not of its protocol");
	if (!v1_port(sport, &ps) || !v1_port(dport, &pd))
		return fail(why, "version 1 header with an invalid port");
	out->local = false;
	set_addr(&out->src, family, a_src, ps);
	set_addr(&out->dst, family, a_dst, pd);
	return (int)end;
}

/* TLVs must fill what follows the addresses exactly: type, 16-bit length, value. */
static bool tlvs_fit(const uint8_t *p, size_t len)
{
	while (len) {
		size_t l;

		if (len < 3)
			return false;
		l = (size_t)p[1] << 8 | p[2];
		if (l > len - 3)
			return false;
		p += 3 + l;
		len -= 3 + l;
	}
	return true;
}

static int parse_v2(const uint8_t *buf, size_t len, struct proxy_addrs *out, const char **why)
{
	size_t n = min_size(len, sizeof(v2_sig)), body, total, alen;
	const uint8_t *b = buf + PROXY_V2_HEAD;
	unsigned cmd;

	if (memcmp(buf, v2_sig, n) != 0)
		return fail(why, "no PROXY protocol signature");
	if (len >= 13 && (buf[12] >> 4) != 2)
		return fail(why, "version 2 signature with another version");
	if (len >= 13 && (buf[12] & 0xf) > 1)
		return fail(why, "version 2 header with an unknown command");
	if (len < PROXY_V2_HEAD)
		return 0;
	body = (size_t)buf[14] << 8 | buf[15];
	total = PROXY_V2_HEAD + body;
	if (total > PROXY_V2_MAX)
		return fail(why, "version 2 header longer than 536 bytes");
	if (len < total)
		return 0;
	cmd = buf[12] & 0xf;
	/* LOCAL: the balancer speaks for itself; what follows is ignored. */
	if (cmd == 0 || buf[13] == 0x00) {
		out->local = true;
		return (int)total;
	}
	switch (buf[13]) {
	case 0x11: /* TCP over IPv4 */
		alen = 12;
		break;
	case 0x21: /* TCP over IPv6 */
		alen = 36;
		break;
	default:
		return fail(why, "version 2 header of a transport other than TCP over IP");
	}
	if (body < alen)
		return fail(why, "version 2 header too short for its addresses");
	if (!tlvs_fit(b + alen, body - alen))
		return fail(why, "version 2 header with malformed TLVs");
	out->local = false;
	if (alen == 12) {
		set_addr(&out->src, AF_INET, b, (unsigned)b[8] << 8 | b[9]);
		set_addr(&out->dst, AF_INET, b + 4, (unsigned)b[10] << 8 | b[11]);
	} else {
		set_addr(&out->src, AF_INET6, b, (unsigned)b[32] << 8 | b[33]);
		set_addr(&out->dst, AF_INET6, b + 16, (unsigned)b[34] << 8 | b[35]);
	}
	return (int)total;
}

int proxy_proto_parse(const uint8_t *buf, size_t len, struct proxy_addrs *out, const char **why)
{
	*why = NULL;
	if (len == 0)
		return 0;
	return is_v2(buf, len) ? parse_v2(buf, len, out, why) : parse_v1(buf, len, out, why);
}
