/* Camouflage (ocserv's camouflage, camouflage_secret and camouflage_realm): to whoever
 * does not know the secret, the server is a web server with nothing to show.
 *
 * A request passes when the query of its target is the secret (https://server/?SECRET,
 * on any path), and once one request of a TLS connection has passed, the rest of that
 * connection passes too. A CONNECT /CSCOSSLC/tunnel with a session cookie (a client
 * that reconnects, or that got its cookie on another connection) passes only if main
 * accepts the cookie. Every other request, malformed ones included, gets the decoy: 401
 * with WWW-Authenticate: Basic and the realm when one is set, else 404, an HTML page
 * and nothing that names a VPN. */
#ifndef SLUICE_CAMOUFLAGE_H
#define SLUICE_CAMOUFLAGE_H

#include <stdbool.h>
#include <stdint.h>
#include <talloc.h>
#include <time.h>

#include "worker/http.h"

/* The longest secret (config_schema.c holds the same limit). */
#define CAMO_SECRET_MAX 256
/* The decoy answer leaves no sooner than this after its request was read, so that a
 * request main has to look at (a cookie) takes as long as any other (milliseconds). */
#define CAMO_DECOY_DELAY_MS 50

struct camouflage {
	bool on;
	const char *realm; /* NULL: the decoy is a 404 */
	/* the secret, NUL-padded: compared whole, whatever its length */
	uint8_t secret[CAMO_SECRET_MAX + 1];
};

enum camo_verdict {
	CAMO_PASS,   /* serve the request as the VPN */
	CAMO_COOKIE, /* serve it if main accepts its session cookie, else the decoy */
	CAMO_DECOY,  /* answer with the decoy */
};

/* secret NULL: camouflage off (every request passes). The strings must outlive c.
 * -EINVAL for a secret that is empty or longer than CAMO_SECRET_MAX, or a realm that
 * is not printable ASCII without '"' and '\'. */
int camo_init(struct camouflage *c, const char *secret, const char *realm);

/* What to do with req (NULL: a request that could not be parsed) on a connection on
 * which a request has passed before (passed) or not. The query is compared with the
 * secret in a time that depends on the query's length alone. */
enum camo_verdict camo_decide(const struct camouflage *c, bool passed,
			      const struct http_request *req);

/* The decoy answer, NUL-terminated: status line, Date of now, an HTML body (only its
 * Content-Length for a HEAD request), WWW-Authenticate with the realm for a 401, and
 * "Connection: close" unless keep_alive. NULL on no memory. */
char *camo_decoy(TALLOC_CTX *ctx, const struct camouflage *c, bool head, bool keep_alive,
		 time_t now);

#endif
