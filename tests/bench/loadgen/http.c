/* The login as openconnect 9.01 does it (protocol.md §2.3-2.9, §3.1): what it sends,
 * and a reader of the answers that takes sluiced's and ocserv's forms (one form with
 * user name and password, or one input per step) and nothing larger than a buffer. */
#include "config.h"
#include "http.h"

#include <errno.h>
#include <gnutls/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define USER_AGENT "Open AnyConnect VPN Agent v9.01-3"
#define XML_HEAD   "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
#define CLIENT_INFO                                                                                \
	"<version who=\"vpn\">v9.01-3</version>\n<device-id>linux-64</device-id>\n"                \
	"<capabilities><auth-method>single-sign-on-v2</auth-method>"                               \
	"<auth-method>single-sign-on-external-browser</auth-method></capabilities>\n"

/* The value after "NAME:" of the first header NAME (case-insensitive) in the first
 * len bytes of buf, or NULL. */
static const char *find_header(const uint8_t *buf, size_t len, const char *name)
{
	size_t nl = strlen(name);

	for (size_t i = 0; i + 2 + nl < len; i++) {
		if (buf[i] == '\r' && buf[i + 1] == '\n' &&
		    strncasecmp((const char *)buf + i + 2, name, nl) == 0 && buf[i + 2 + nl] == ':')
			return (const char *)buf + i + 3 + nl;
	}
	return NULL;
}

int http_parse(const uint8_t *buf, size_t len, bool want_body, struct http_answer *a)
{
	const uint8_t *end = memmem(buf, len, "\r\n\r\n", 4);
	const char *cl;
	char line[64];
	char *e;
	unsigned long n;

	if (!end)
		return len >= LG_BUF_MAX ? -EPROTO : 0;
	a->hdr_len = (size_t)(end - buf) + 4;
	if (a->hdr_len < 13 ||
	    (memcmp(buf, "HTTP/1.1 ", 9) != 0 && memcmp(buf, "HTTP/1.0 ", 9) != 0))
		return -EPROTO;
	memcpy(line, buf + 9, 3);
	line[3] = 0;
	n = strtoul(line, &e, 10);
	if (*e || n < 100 || n > 599)
		return -EPROTO;
	a->status = (int)n;
	a->body_len = 0;
	a->body = (const char *)buf + a->hdr_len;
	if (!want_body)
		return 1;
	/* Content-Length is the only framing the servers use; chunked is not taken. */
	if (find_header(buf, a->hdr_len, "Transfer-Encoding"))
		return -EPROTO;
	cl = find_header(buf, a->hdr_len, "Content-Length");
	if (!cl)
		return a->status == 200 ? -EPROTO : 1;
	n = strtoul(cl, &e, 10);
	if (n > LG_BUF_MAX)
		return -EPROTO;
	a->body_len = n;
	if (a->hdr_len + n > LG_BUF_MAX)
		return -EPROTO;
	return len >= a->hdr_len + n ? 1 : 0;
}

int http_each_header(const uint8_t *buf, const struct http_answer *a,
		     int (*fn)(struct session *s, const char *name, const char *value),
		     struct session *s)
{
	char *copy = talloc_strndup(s, (const char *)buf, a->hdr_len);
	char *line, *save = NULL, *colon, *v;
	int ret = 0;

	if (!copy)
		return -ENOMEM;
	/* the status line first */
	line = strtok_r(copy, "\r\n", &save);
	while (ret == 0 && (line = strtok_r(NULL, "\r\n", &save)) != NULL) {
		colon = strchr(line, ':');
		if (!colon)
			continue;
		*colon = 0;
		v = colon + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		ret = fn(s, line, v);
	}
	talloc_free(copy);
	return ret;
}

/* --- XML, as much as the forms need ----------------------------------------------- */

static char *xml_escape(TALLOC_CTX *ctx, const char *in)
{
	char *out = talloc_strdup(ctx, "");

	for (; out && *in; in++) {
		switch (*in) {
		case '&':
			out = talloc_strdup_append_buffer(out, "&amp;");
			break;
		case '<':
			out = talloc_strdup_append_buffer(out, "&lt;");
			break;
		case '>':
			out = talloc_strdup_append_buffer(out, "&gt;");
			break;
		case '"':
			out = talloc_strdup_append_buffer(out, "&quot;");
			break;
		case '\'':
			out = talloc_strdup_append_buffer(out, "&apos;");
			break;
		default:
			out = talloc_strndup_append_buffer(out, in, 1);
			break;
		}
	}
	return out;
}

static char *xml_unescape(TALLOC_CTX *ctx, const char *in, size_t len)
{
	static const struct {
		const char *ent;
		char c;
	} ents[] = {
	    {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
	char *out = talloc_size(ctx, len + 1);
	size_t o = 0;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len;) {
		size_t k;

		for (k = 0; k < sizeof(ents) / sizeof(ents[0]); k++) {
			size_t el = strlen(ents[k].ent);

			if (len - i >= el && memcmp(in + i, ents[k].ent, el) == 0) {
				out[o++] = ents[k].c;
				i += el;
				break;
			}
		}
		if (k == sizeof(ents) / sizeof(ents[0]))
			out[o++] = in[i++];
	}
	out[o] = 0;
	return out;
}

/* The value of attribute NAME in the tag that starts at TAG, or NULL. */
static char *attr(TALLOC_CTX *ctx, const char *tag, const char *name)
{
	const char *end = strchr(tag, '>');
	size_t nl = strlen(name);

	if (!end)
		return NULL;
	for (const char *p = tag + 1; p + nl + 2 < end; p++) {
		if ((p[-1] == ' ' || p[-1] == '\t' || p[-1] == '\n') && strncmp(p, name, nl) == 0 &&
		    p[nl] == '=' && (p[nl + 1] == '"' || p[nl + 1] == '\'')) {
			const char *v = p + nl + 2, *q = memchr(v, p[nl + 1], (size_t)(end - v));

			return q ? xml_unescape(ctx, v, (size_t)(q - v)) : NULL;
		}
	}
	return NULL;
}

/* The text of the first <NAME>...</NAME> in DOC, or NULL. */
static char *element_text(TALLOC_CTX *ctx, const char *doc, const char *name)
{
	char open[40], close[40];
	const char *s, *e;

	snprintf(open, sizeof(open), "<%s>", name);
	snprintf(close, sizeof(close), "</%s>", name);
	s = strstr(doc, open);
	if (!s)
		return NULL;
	s += strlen(open);
	e = strstr(s, close);
	return e ? xml_unescape(ctx, s, (size_t)(e - s)) : NULL;
}

/* --- requests ------------------------------------------------------------------------ */

static char *cookie_header(TALLOC_CTX *ctx, const struct session *s)
{
	char *v = NULL;

	for (size_t i = 0; i < LG_JAR_MAX; i++) {
		if (s->jar[i])
			v = v ? talloc_asprintf_append(v, "; %s", s->jar[i])
			      : talloc_strdup(ctx, s->jar[i]);
	}
	return v ? talloc_asprintf(ctx, "Cookie: %s\r\n", v) : talloc_strdup(ctx, "");
}

static char *host_header(TALLOC_CTX *ctx, const struct session *s)
{
	unsigned port = ntohs(s->lg->opt.server.sin_port);

	return port == 443 ? talloc_asprintf(ctx, "Host: %s\r\n", s->lg->opt.host)
			   : talloc_asprintf(ctx, "Host: %s:%u\r\n", s->lg->opt.host, port);
}

/* POST PATH with an XML body, headers in openconnect's order; X-Pad hides the body's
 * length to the next multiple of 64 as openconnect does. */
static char *xml_post(TALLOC_CTX *ctx, struct session *s, const char *path, const char *body)
{
	size_t len = strlen(body), pad = 64 * (1 + len / 64) - len;
	char padding[65];

	memset(padding, '0', pad);
	padding[pad] = 0;
	return talloc_asprintf(ctx,
			       "POST %s HTTP/1.1\r\n%sUser-Agent: " USER_AGENT "\r\n%s"
			       "Accept: */*\r\nAccept-Encoding: identity\r\n"
			       "X-Transcend-Version: 1\r\nX-Aggregate-Auth: 1\r\n"
			       "X-Support-HTTP-Auth: true\r\nX-Pad: %s\r\n"
			       "Content-Type: application/xml; charset=utf-8\r\n"
			       "Content-Length: %zu\r\n\r\n%s",
			       path, host_header(ctx, s), cookie_header(ctx, s), padding, len,
			       body);
}

char *auth_init_request(TALLOC_CTX *ctx, struct session *s)
{
	const char *group = s->lg->opt.group;
	char *body = talloc_asprintf(
	    ctx,
	    XML_HEAD
	    "<config-auth client=\"vpn\" type=\"init\" aggregate-auth-version=\"2\">\n" CLIENT_INFO
	    "%s%s%s<group-access>https://%s%s</group-access>\n</config-auth>\n",
	    group ? "<group-select>" : "", group ? xml_escape(ctx, group) : "",
	    group ? "</group-select>\n" : "", xml_escape(ctx, s->lg->opt.host),
	    xml_escape(ctx, s->lg->opt.path));

	return body ? xml_post(ctx, s, s->lg->opt.path, body) : NULL;
}

char *connect_request(TALLOC_CTX *ctx, struct session *s)
{
	char *dtls = talloc_strdup(ctx, "");

	if (s->lg->opt.dtls) {
		uint8_t ms[48];
		char hex[97];

		/* used only by legacy DTLS, which this client does not offer; sent as 9.01 does */
		gnutls_rnd(GNUTLS_RND_NONCE, ms, sizeof(ms));
		for (size_t i = 0; i < sizeof(ms); i++)
			snprintf(hex + 2 * i, 3, "%02X", ms[i]);
		dtls = talloc_asprintf(ctx,
				       "X-DTLS-Master-Secret: %s\r\n"
				       "X-DTLS-CipherSuite: PSK-NEGOTIATE\r\n",
				       hex);
	}
	return talloc_asprintf(ctx,
			       "CONNECT /CSCOSSLC/tunnel HTTP/1.1\r\n%sUser-Agent: " USER_AGENT
			       "\r\nCookie: webvpn=%s\r\nX-CSTP-Version: 1\r\n"
			       "X-CSTP-Hostname: loadgen-%u\r\nX-CSTP-Base-MTU: 1500\r\n"
			       "X-CSTP-MTU: 1390\r\nX-CSTP-Address-Type: IPv4\r\n%s\r\n",
			       host_header(ctx, s), s->webvpn, s->idx, dtls);
}

/* --- answers ------------------------------------------------------------------------- */

/* Set-Cookie: keeps name=value (attributes dropped); an empty value deletes. */
static int jar_set(struct session *s, const char *name, const char *value)
{
	const char *eq = strchr(value, '=');
	size_t nlen, vlen = strcspn(value, ";");
	int free_slot = -1;

	if (strcasecmp(name, "Set-Cookie") != 0)
		return 0;
	if (!eq || (size_t)(eq - value) > vlen || vlen > LG_COOKIE_MAX)
		return -EPROTO;
	nlen = (size_t)(eq - value);
	for (int i = 0; i < LG_JAR_MAX; i++) {
		if (!s->jar[i]) {
			if (free_slot < 0)
				free_slot = i;
			continue;
		}
		if (strncmp(s->jar[i], value, nlen + 1) == 0) {
			TALLOC_FREE(s->jar[i]);
			if (free_slot < 0)
				free_slot = i;
		}
	}
	if (nlen == 6 && strncmp(value, "webvpn", 6) == 0) {
		TALLOC_FREE(s->webvpn);
		if (vlen > 7)
			s->webvpn = talloc_strndup(s, eq + 1, vlen - 7);
	}
	if (vlen == nlen + 1)
		return 0; /* deleted */
	if (free_slot < 0)
		return -EPROTO;
	s->jar[free_slot] = talloc_strndup(s, value, vlen);
	return s->jar[free_slot] ? 0 : -ENOMEM;
}

/* One form input or select as the child element openconnect sends for it; sets
 * *refuse when the form asks for what was already answered, or for a code. */
static char *answer_input(TALLOC_CTX *ctx, struct session *s, const char *tag, bool *refuse)
{
	const struct options *o = &s->lg->opt;
	char *type = attr(ctx, tag, "type"), *name = attr(ctx, tag, "name"), *val = NULL;

	if (!name || !type)
		return talloc_strdup(ctx, "");
	if (strcasecmp(type, "password") == 0) {
		/* asked again: the last one was refused; a second factor we cannot answer */
		if (s->sent_password || strcmp(name, "password") != 0) {
			*refuse = true;
			return NULL;
		}
		s->sent_password = true;
		val = s->bad_password ? talloc_asprintf(ctx, "%s-wrong", o->password)
				      : talloc_strdup(ctx, o->password);
	} else if (strcasecmp(type, "text") == 0) {
		val = o->users ? talloc_asprintf(ctx, "%s%u", o->user, s->idx % o->users)
			       : talloc_strdup(ctx, o->user);
	} else if (strcasecmp(type, "hidden") == 0) {
		val = attr(ctx, tag, "value");
		if (!val)
			val = talloc_strdup(ctx, "");
	} else {
		return talloc_strdup(ctx, ""); /* submit, reset, sso...: not sent */
	}
	if (strcmp(name, "answer") == 0 || strcmp(name, "whichpin") == 0 ||
	    strcmp(name, "new_password") == 0)
		name = talloc_strdup(ctx, "password");
	return talloc_asprintf(ctx, "<%s>%s</%s>", name, xml_escape(ctx, val), name);
}

/* The first option's value of the select at SEL: its value attribute, else its text. */
static char *first_option(TALLOC_CTX *ctx, const char *sel)
{
	const char *opt = strstr(sel, "<option"), *gt, *lt;
	char *v;

	if (!opt)
		return NULL;
	if ((v = attr(ctx, opt, "value")) != NULL)
		return v;
	gt = strchr(opt, '>');
	lt = gt ? strchr(gt, '<') : NULL;
	return lt ? xml_unescape(ctx, gt + 1, (size_t)(lt - gt - 1)) : NULL;
}

/* The group_list select's answer, beside <auth>: --group, else the first option. */
static char *answer_group(TALLOC_CTX *ctx, struct session *s, const char *form)
{
	const char *sel = strstr(form, "<select");
	char *name = sel ? attr(ctx, sel, "name") : NULL, *v;

	if (!name || strcmp(name, "group_list") != 0)
		return talloc_strdup(ctx, "");
	v = s->lg->opt.group ? talloc_strdup(ctx, s->lg->opt.group) : first_option(ctx, sel);
	if (!v)
		return talloc_strdup(ctx, "");
	return talloc_asprintf(ctx, "<group-select>%s</group-select>\n", xml_escape(ctx, v));
}

/* The path a form posts to: its action, made relative when absolute (this client does
 * not follow a form to another host). */
static char *form_path(TALLOC_CTX *ctx, const char *form)
{
	char *action = attr(ctx, form, "action"), *p;

	if (!action || !action[0])
		return talloc_strdup(ctx, "/");
	if (strncasecmp(action, "https://", 8) == 0) {
		p = strchr(action + 8, '/');
		return talloc_strdup(ctx, p ? p : "/");
	}
	return action[0] == '/' ? action : talloc_asprintf(ctx, "/%s", action);
}

static enum auth_next answer_form(struct session *s, const char *doc, char **req,
				  enum fail_cause *cause)
{
	TALLOC_CTX *tmp = talloc_new(s);
	const char *form = strstr(doc, "<form"), *end, *in;
	char *inputs = talloc_strdup(tmp, ""), *opaque = NULL, *body;
	const char *os, *oe;
	bool refuse = false;

	end = strstr(form, "</form>");
	if (!end)
		end = form + strlen(form);
	for (in = strstr(form, "<input"); in && in < end && inputs; in = strstr(in + 6, "<input")) {
		char *a = answer_input(tmp, s, in, &refuse);

		if (refuse)
			break;
		inputs = a ? talloc_strdup_append_buffer(inputs, a) : NULL;
	}
	if (refuse || !inputs) {
		talloc_free(tmp);
		*cause = refuse ? F_LOGIN_REFUSED : F_PROTOCOL;
		return AUTH_FAILED;
	}
	/* <opaque> goes back verbatim in every reply */
	if ((os = strstr(doc, "<opaque")) && (oe = strstr(os, "</opaque>")))
		opaque = talloc_asprintf(tmp, "%.*s\n", (int)(oe + 9 - os), os);
	body = talloc_asprintf(tmp,
			       XML_HEAD "<config-auth client=\"vpn\" type=\"auth-reply\" "
					"aggregate-auth-version=\"2\">\n" CLIENT_INFO
					"%s<auth>%s</auth>\n%s</config-auth>\n",
			       opaque ? opaque : "", inputs, answer_group(tmp, s, form));
	*req = body ? xml_post(s, s, form_path(tmp, form), body) : NULL;
	talloc_free(tmp);
	if (!*req) {
		*cause = F_PROTOCOL;
		return AUTH_FAILED;
	}
	return AUTH_REPLY;
}

enum auth_next auth_on_answer(struct session *s, const uint8_t *buf, const struct http_answer *a,
			      char **req, enum fail_cause *cause)
{
	char *doc, *token;
	enum auth_next next;

	*cause = F_PROTOCOL;
	if (a->status == 401 || a->status == 403) {
		*cause = F_LOGIN_REFUSED;
		return AUTH_FAILED;
	}
	if (a->status != 200 || http_each_header(buf, a, jar_set, s) != 0)
		return AUTH_FAILED;
	doc = talloc_strndup(s, a->body, a->body_len);
	if (!doc)
		return AUTH_FAILED;
	if ((token = element_text(doc, doc, "session-token")) != NULL) {
		talloc_free(s->webvpn);
		s->webvpn = talloc_steal(s, token);
	}
	if (strstr(doc, "<auth id=\"success\"")) {
		next = s->webvpn && s->webvpn[0] ? AUTH_SUCCESS : AUTH_FAILED;
		*cause = F_NO_COOKIE;
	} else if (++s->auth_steps > LG_AUTH_STEPS) {
		next = AUTH_FAILED;
	} else if (strstr(doc, "<form")) {
		next = answer_form(s, doc, req, cause);
	} else {
		/* an error and nothing to answer: the login is over */
		next = AUTH_FAILED;
		if (strstr(doc, "<error"))
			*cause = F_LOGIN_REFUSED;
	}
	talloc_free(doc);
	return next;
}
