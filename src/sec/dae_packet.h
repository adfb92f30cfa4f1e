/* RADIUS Dynamic Authorization (RFC 5176) packets as sluice's DAE listener takes them:
 * Disconnect-Request and CoA-Request in, ACK or NAK out. Pure functions on bytes (the
 * DAE helper runs them; the fuzz harness and the unit tests too). */
#ifndef SLUICE_DAE_PACKET_H
#define SLUICE_DAE_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define DAE_MAX_PACKET 4096
#define DAE_CODE_DISCONNECT_REQUEST 40
#define DAE_CODE_DISCONNECT_ACK     41
#define DAE_CODE_DISCONNECT_NAK     42
#define DAE_CODE_COA_REQUEST        43
#define DAE_CODE_COA_ACK            44
#define DAE_CODE_COA_NAK            45
/* Error-Cause values (RFC 5176 3.5). */
#define DAE_ERR_UNSUPPORTED_ATTRIBUTE 401
#define DAE_ERR_MISSING_ATTRIBUTE     402
#define DAE_ERR_INVALID_REQUEST       404
#define DAE_ERR_INVALID_ATTRIBUTE     407
#define DAE_ERR_SESSION_NOT_FOUND     503
/* How far Event-Timestamp may be from now, either way (seconds). */
#define DAE_WINDOW 300

/* What a request asks, once its authenticator, its Event-Timestamp and its attributes
 * passed. At least one of sid, user, framed_ip names the sessions. */
struct dae_request {
	uint8_t code; /* DAE_CODE_DISCONNECT_REQUEST or DAE_CODE_COA_REQUEST */
	uint8_t id;
	uint8_t authenticator[16];
	char sid[64];       /* Acct-Session-Id; "" when absent */
	char user[256];     /* User-Name; "" when absent */
	char framed_ip[16]; /* Framed-IP-Address as text; "" when absent */
	bool has_session_timeout;
	uint32_t session_timeout;
	bool has_rx_kbps, has_tx_kbps; /* RP-Upstream/Downstream-Speed-Limit, kbit/s */
	uint32_t rx_kbps, tx_kbps;
	uint32_t event_timestamp;
};

/* Parses and checks one datagram: the Request Authenticator (and Message-Authenticator
 * when present) against secret, Event-Timestamp within DAE_WINDOW of now, the
 * attributes sluice understands. Returns 0; or -1 when the packet must be dropped
 * silently (not a request, bad length, wrong authenticator: RFC 5176 3.3), why set; or
 * an Error-Cause (> 0) for a NAK, why set. */
int dae_parse(const uint8_t *pkt, size_t len, const char *secret, time_t now,
	      struct dae_request *req, char *why, size_t whylen);

/* The reply to req (an ACK, or a NAK with error_cause when it is not 0) into out (at
 * least 64 bytes); its length. */
size_t dae_reply(const struct dae_request *req, unsigned error_cause, const char *secret,
		 uint8_t *out);

#endif
