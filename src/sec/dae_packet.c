/* RADIUS Dynamic Authorization packets (RFC 5176): the strict reading of a request and
 * the building of its answer. Everything in a request is untrusted until the Request
 * Authenticator proved that it was made with the shared secret; even then each
 * attribute is checked for its length and value, and anything sluice does not act on is
 * refused (Unsupported-Attribute) rather than ignored, so that a server never believes
 * a change took effect when it did not. */
#include "config.h"

#include "sec/dae_packet.h"

#include <arpa/inet.h>
#include <gnutls/crypto.h>
#include <stdio.h>
#include <string.h>

#define HDR_LEN 20
/* Attribute types (RFC 2865, 2866, 2869, 5176). */
#define A_USER_NAME         1
#define A_NAS_IP_ADDRESS    4
#define A_FRAMED_IP_ADDRESS 8
#define A_VENDOR_SPECIFIC   26
#define A_SESSION_TIMEOUT   27
#define A_CALLING_STATION   31
#define A_NAS_IDENTIFIER    32
#define A_ACCT_SESSION_ID   44
#define A_EVENT_TIMESTAMP   55
#define A_MESSAGE_AUTH      80
#define A_NAS_IPV6_ADDRESS  95
#define A_ERROR_CAUSE       101
#define VENDOR_ROARINGPENGUIN 10055

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* MD5 of the packet with its authenticator field zeroed, followed by the secret. */
static int request_auth(const uint8_t *pkt, size_t len, const char *secret, uint8_t out[16])
{
	uint8_t buf[DAE_MAX_PACKET + 256];
	size_t slen = strlen(secret);

	if (len > DAE_MAX_PACKET || slen > 255)
		return -1;
	memcpy(buf, pkt, len);
	memset(buf + 4, 0, 16);
	memcpy(buf + len, secret, slen);
	return gnutls_hash_fast(GNUTLS_DIG_MD5, buf, len + slen, out) < 0 ? -1 : 0;
}

/* Message-Authenticator: HMAC-MD5 of the packet with the authenticator field and the
 * attribute's own value zeroed (RFC 5176 3.5). */
static bool message_auth_ok(const uint8_t *pkt, size_t len, size_t value_at, const char *secret)
{
	uint8_t buf[DAE_MAX_PACKET], mac[16];

	memcpy(buf, pkt, len);
	memset(buf + 4, 0, 16);
	memset(buf + value_at, 0, 16);
	if (gnutls_hmac_fast(GNUTLS_MAC_MD5, secret, strlen(secret), buf, len, mac) < 0)
		return false;
	return gnutls_memcmp(mac, pkt + value_at, 16) == 0;
}

/* A string attribute: printable, shorter than the field. */
static bool text_value(const uint8_t *v, size_t n, char *out, size_t outlen)
{
	if (n == 0 || n >= outlen)
		return false;
	for (size_t i = 0; i < n; i++)
		if (v[i] < 0x20 || v[i] == 0x7f)
			return false;
	memcpy(out, v, n);
	out[n] = '\0';
	return true;
}

#define NAK(cause, ...)                                                                    \
	do {                                                                               \
		snprintf(why, whylen, __VA_ARGS__);                                        \
		return (cause);                                                            \
	} while (0)

/* Roaring Penguin's speed limits, the only vendor attributes sluice acts on. */
static int vendor_attr(const uint8_t *v, size_t n, struct dae_request *req, char *why,
		       size_t whylen)
{
	if (n < 6 || get32(v) != VENDOR_ROARINGPENGUIN)
		NAK(DAE_ERR_UNSUPPORTED_ATTRIBUTE, "unsupported vendor attribute");
	for (size_t at = 4; at < n;) {
		uint8_t type = v[at], alen = at + 1 < n ? v[at + 1] : 0;

		if (alen != 6 || at + alen > n)
			NAK(DAE_ERR_INVALID_ATTRIBUTE, "malformed Roaring Penguin attribute");
		if (type == 1) {
			req->has_rx_kbps = true;
			req->rx_kbps = get32(v + at + 2);
		} else if (type == 2) {
			req->has_tx_kbps = true;
			req->tx_kbps = get32(v + at + 2);
		} else {
			NAK(DAE_ERR_UNSUPPORTED_ATTRIBUTE, "unsupported Roaring Penguin attribute %u",
			    type);
		}
		at += alen;
	}
	return 0;
}

/* One attribute of a request whose authenticator passed. */
static int attribute(uint8_t type, const uint8_t *v, size_t n, struct dae_request *req,
		     bool *has_ts, char *why, size_t whylen)
{
	switch (type) {
	case A_USER_NAME:
		if (!text_value(v, n, req->user, sizeof(req->user)))
			NAK(DAE_ERR_INVALID_ATTRIBUTE, "invalid User-Name");
		return 0;
	case A_ACCT_SESSION_ID:
		if (!text_value(v, n, req->sid, sizeof(req->sid)))
			NAK(DAE_ERR_INVALID_ATTRIBUTE, "invalid Acct-Session-Id");
		return 0;
	case A_FRAMED_IP_ADDRESS:
		if (n != 4 || !inet_ntop(AF_INET, v, req->framed_ip, sizeof(req->framed_ip)))
			NAK(DAE_ERR_INVALID_ATTRIBUTE, "invalid Framed-IP-Address");
		return 0;
	case A_SESSION_TIMEOUT:
		if (n != 4)
			NAK(DAE_ERR_INVALID_ATTRIBUTE, "invalid Session-Timeout");
		req->has_session_timeout = true;
		req->session_timeout = get32(v);
		return 0;
	case A_EVENT_TIMESTAMP:
		if (n != 4)
			NAK(DAE_ERR_INVALID_ATTRIBUTE, "invalid Event-Timestamp");
		*has_ts = true;
		req->event_timestamp = get32(v);
		return 0;
	case A_VENDOR_SPECIFIC:
		return vendor_attr(v, n, req, why, whylen);
	case A_NAS_IP_ADDRESS:
	case A_NAS_IPV6_ADDRESS:
	case A_NAS_IDENTIFIER:
	case A_CALLING_STATION:
	case A_MESSAGE_AUTH:
		/* Which NAS is meant (this one: it got the packet), and the checked MAC. */
		return 0;
	default:
		NAK(DAE_ERR_UNSUPPORTED_ATTRIBUTE, "unsupported attribute %u", type);
	}
}

int dae_parse(const uint8_t *pkt, size_t len, const char *secret, time_t now,
	      struct dae_request *req, char *why, size_t whylen)
{
	uint8_t want[16];
	size_t plen, ma_at = 0;
	bool has_ts = false;
	int ret;

	memset(req, 0, sizeof(*req));
	if (len < HDR_LEN)
		NAK(-1, "%zu bytes: shorter than a RADIUS header", len);
	plen = (size_t)pkt[2] << 8 | pkt[3];
	/* Octets past Length are padding (RFC 2865 3); fewer than Length is an error. */
	if (plen < HDR_LEN || plen > len || plen > DAE_MAX_PACKET)
		NAK(-1, "Length %zu does not fit the %zu bytes received", plen, len);
	req->code = pkt[0];
	req->id = pkt[1];
	memcpy(req->authenticator, pkt + 4, 16);
	if (req->code != DAE_CODE_DISCONNECT_REQUEST && req->code != DAE_CODE_COA_REQUEST)
		NAK(-1, "code %u is not a Disconnect-Request or CoA-Request", req->code);
	/* The attributes' framing first: the authenticator covers them all. */
	for (size_t at = HDR_LEN; at < plen;) {
		size_t alen = at + 1 < plen ? pkt[at + 1] : 0;

		if (alen < 2 || at + alen > plen)
			NAK(-1, "malformed attribute at offset %zu", at);
		if (pkt[at] == A_MESSAGE_AUTH) {
			if (alen != 18 || ma_at)
				NAK(-1, "malformed Message-Authenticator");
			ma_at = at + 2;
		}
		at += alen;
	}
	if (request_auth(pkt, plen, secret, want) < 0 ||
	    gnutls_memcmp(want, pkt + 4, 16) != 0)
		NAK(-1, "wrong Request Authenticator (another shared secret?)");
	if (ma_at && !message_auth_ok(pkt, plen, ma_at, secret))
		NAK(-1, "wrong Message-Authenticator");
	for (size_t at = HDR_LEN; at < plen; at += pkt[at + 1]) {
		ret = attribute(pkt[at], pkt + at + 2, pkt[at + 1] - 2u, req, &has_ts, why, whylen);
		if (ret)
			return ret;
	}
	if (!has_ts)
		NAK(DAE_ERR_MISSING_ATTRIBUTE, "no Event-Timestamp (required against replays)");
	if ((int64_t)req->event_timestamp < (int64_t)now - DAE_WINDOW ||
	    (int64_t)req->event_timestamp > (int64_t)now + DAE_WINDOW)
		NAK(-1, "Event-Timestamp %u is more than %d s from now", req->event_timestamp,
		    DAE_WINDOW);
	if (!req->sid[0] && !req->user[0] && !req->framed_ip[0])
		NAK(DAE_ERR_MISSING_ATTRIBUTE,
		    "no Acct-Session-Id, User-Name or Framed-IP-Address names the session");
	if (req->code == DAE_CODE_DISCONNECT_REQUEST &&
	    (req->has_session_timeout || req->has_rx_kbps || req->has_tx_kbps))
		NAK(DAE_ERR_UNSUPPORTED_ATTRIBUTE, "a Disconnect-Request changes nothing");
	if (req->code == DAE_CODE_COA_REQUEST && !req->has_session_timeout &&
	    !req->has_rx_kbps && !req->has_tx_kbps)
		NAK(DAE_ERR_MISSING_ATTRIBUTE,
		    "a CoA-Request without Session-Timeout or a speed limit changes nothing");
	return 0;
}

size_t dae_reply(const struct dae_request *req, unsigned error_cause, const char *secret,
		 uint8_t *out)
{
	uint8_t buf[HDR_LEN + 6 + 256];
	size_t len = HDR_LEN, slen = strlen(secret);
	bool coa = req->code == DAE_CODE_COA_REQUEST;

	out[0] = error_cause ? (coa ? DAE_CODE_COA_NAK : DAE_CODE_DISCONNECT_NAK)
			     : (coa ? DAE_CODE_COA_ACK : DAE_CODE_DISCONNECT_ACK);
	out[1] = req->id;
	if (error_cause) {
		out[HDR_LEN] = A_ERROR_CAUSE;
		out[HDR_LEN + 1] = 6;
		put32(out + HDR_LEN + 2, error_cause);
		len += 6;
	}
	out[2] = (uint8_t)(len >> 8);
	out[3] = (uint8_t)len;
	/* Response Authenticator: MD5(Code, Identifier, Length, Request Authenticator,
	 * Attributes, Secret). */
	memcpy(out + 4, req->authenticator, 16);
	if (slen > 255)
		slen = 255;
	memcpy(buf, out, len);
	memcpy(buf + len, secret, slen);
	gnutls_hash_fast(GNUTLS_DIG_MD5, buf, len + slen, out + 4);
	return len;
}
