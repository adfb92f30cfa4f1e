#include "config.h"
#include "worker/camouflage.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* The realm goes into a quoted-string as it is (the configuration checked it too). */
static bool realm_ok(const char *realm)
{
	for (; *realm; realm++)
		if ((unsigned char)*realm < 0x20 || (unsigned char)*realm > 0x7e || *realm == '"' ||
		    *realm == '\\')
			return false;
	return true;
}

int camo_init(struct camouflage *c, const char *secret, const char *realm)
{
	size_t len = secret ? strlen(secret) : 0;

	memset(c, 0, sizeof(*c));
	if (!secret)
		return 0;
	if (len == 0 || len > CAMO_SECRET_MAX || (realm && !realm_ok(realm)))
		return -EINVAL;
	memcpy(c->secret, secret, len);
	c->realm = realm;
	c->on = true;
	return 0;
}

/* Both sides NUL-padded to the same size and every byte compared: neither how much of
 * the secret a guess got right nor the secret's length shows in the time taken. A query
 * holds no NUL (the parser refuses control characters), so padding cannot make two
 * different strings equal. */
static bool is_secret(const struct camouflage *c, const char *query)
{
	uint8_t guess[CAMO_SECRET_MAX + 1] = {0};
	size_t len = strlen(query);
	unsigned diff = 0;

	if (len > CAMO_SECRET_MAX)
		return false;
	memcpy(guess, query, len);
	for (size_t i = 0; i < sizeof(guess); i++)
		diff |= guess[i] ^ c->secret[i];
	return diff == 0;
}

enum camo_verdict camo_decide(const struct camouflage *c, bool passed,
			      const struct http_request *req)
{
	if (!c->on || passed)
		return CAMO_PASS;
	if (!req)
		return CAMO_DECOY;
	if (req->query && is_secret(c, req->query))
		return CAMO_PASS;
	if (req->method == HTTP_CONNECT && strcmp(req->path, "/CSCOSSLC/tunnel") == 0 &&
	    req->cookie_webvpn && req->cookie_webvpn[0])
		return CAMO_COOKIE;
	return CAMO_DECOY;
}

/* RFC 9110's IMF-fixdate, written here rather than by strftime, which may consult the
 * locale and the time zone files that the sandboxed worker cannot open. */
static void http_date(time_t now, char out[64])
{
	static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	struct tm tm;

	if (!gmtime_r(&now, &tm) || tm.tm_year < -1900 || tm.tm_year > 9999 - 1900) {
		now = 0;
		gmtime_r(&now, &tm);
	}
	snprintf(out, 64, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday,
		 months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

char *camo_decoy(TALLOC_CTX *ctx, const struct camouflage *c, bool head, bool keep_alive,
		 time_t now)
{
	unsigned code = c->realm ? 401 : 404;
	const char *reason = http_reason(code);
	char date[64], *body, *resp;

	http_date(now, date);
	body = talloc_asprintf(ctx,
			       "<!DOCTYPE html>\n<html>\n<head><title>%u %s</title></head>\n"
			       "<body>\n<h1>%s</h1>\n</body>\n</html>\n",
			       code, reason, reason);
	if (!body)
		return NULL;
	resp =
	    talloc_asprintf(ctx,
			    "HTTP/1.1 %u %s\r\n"
			    "Date: %s\r\n"
			    "%s%s%s"
			    "Content-Type: text/html; charset=utf-8\r\n"
			    "Content-Length: %zu\r\n"
			    "%s\r\n%s",
			    code, reason, date, c->realm ? "WWW-Authenticate: Basic realm=\"" : "",
			    c->realm ? c->realm : "", c->realm ? "\"\r\n" : "", strlen(body),
			    keep_alive ? "" : "Connection: close\r\n", head ? "" : body);
	talloc_free(body);
	return resp;
}
