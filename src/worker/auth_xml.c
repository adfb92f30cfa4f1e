#include "config.h"
#include "worker/auth_xml.h"

#include <errno.h>
#include <string.h>

/* The version string ocserv and Cisco gateways announce; openconnect only needs
 * the element to exist, and a fixed value does not reveal which server runs. */
#define AUTH_XML_VERSION "<version who=\"sg\">0.1(1)</version>\n"
#define AUTH_XML_HEAD    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"

int utf8_decode(const uint8_t *s, size_t len, uint32_t *cp)
{
	uint32_t c, min;
	int n, i;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		c = s[0] & 0x1f;
		min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		c = s[0] & 0x0f;
		min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		c = s[0] & 0x07;
		min = 0x10000;
	} else {
		return -EILSEQ;
	}
	if (len < (size_t)n)
		return -EILSEQ;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -EILSEQ;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return -EILSEQ;
	*cp = c;
	return n;
}

static const char *escape_of(uint32_t c)
{
	switch (c) {
	case '&':
		return "&amp;";
	case '<':
		return "&lt;";
	case '>':
		return "&gt;";
	case '"':
		return "&quot;";
	case '\'':
		return "&apos;";
	/* Numeric references survive attribute-value normalisation and CR-LF
	 * folding, so the client sees exactly the original characters. */
	case '\t':
		return "&#9;";
	case '\n':
		return "&#10;";
	case '\r':
		return "&#13;";
	default:
		return NULL;
	}
}

static int xml_char_ok(uint32_t c)
{
	if (c < 0x20)
		return c == '\t' || c == '\n' || c == '\r';
	return c != 0xfffe && c != 0xffff;
}

char *xml_escape(TALLOC_CTX *ctx, const char *s)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t len, i, out_len = 0;
	const char *esc;
	char *out, *w;
	uint32_t c;
	int n;

	if (s == NULL)
		return NULL;
	len = strlen(s);
	/* First pass validates and sizes, so the copy below cannot overrun. */
	for (i = 0; i < len; i += n) {
		n = utf8_decode(p + i, len - i, &c);
		if (n < 0 || !xml_char_ok(c))
			return NULL;
		esc = escape_of(c);
		out_len += esc ? strlen(esc) : (size_t)n;
	}
	out = talloc_array(ctx, char, out_len + 1);
	if (out == NULL)
		return NULL;
	w = out;
	for (i = 0; i < len; i++) {
		esc = escape_of(p[i]);
		if (esc) {
			memcpy(w, esc, strlen(esc));
			w += strlen(esc);
		} else {
			*w++ = s[i];
		}
	}
	*w = '\0';
	return out;
}

/* Appends "<NAME>escaped TEXT</NAME>\n" when TEXT is set; returns the (possibly
 * moved) document, or NULL after freeing it when TEXT cannot be escaped. */
static char *append_element(char *doc, const char *name, const char *text)
{
	char *esc;

	if (text == NULL)
		return doc;
	esc = xml_escape(doc, text);
	if (esc == NULL) {
		talloc_free(doc);
		return NULL;
	}
	doc = talloc_asprintf_append_buffer(doc, "<%s>%s</%s>\n", name, esc, name);
	if (doc)
		talloc_free(esc);
	return doc;
}

/* The start of every auth-request document: the form and the failure notice. */
#define AUTH_REQUEST_OPEN                                                                          \
	AUTH_XML_HEAD "<config-auth client=\"vpn\" type=\"auth-request\">\n" AUTH_XML_VERSION      \
		      "<auth id=\"main\">\n"                                                       \
		      "<title>Login</title>\n"

static char *append_groups(char *doc, const struct auth_group *groups, size_t n)
{
	if (n == 0)
		return doc;
	doc = talloc_strdup_append_buffer(doc, "<select name=\"group_list\" label=\"GROUP:\">\n");
	for (size_t i = 0; doc && i < n; i++) {
		char *value = xml_escape(doc, groups[i].value);
		char *label = xml_escape(doc, groups[i].label);

		if (!value || !label) {
			talloc_free(doc);
			return NULL;
		}
		doc = talloc_asprintf_append_buffer(doc, "<option value=\"%s\">%s</option>\n",
						    value, label);
		if (doc) {
			talloc_free(value);
			talloc_free(label);
		}
	}
	return doc ? talloc_strdup_append_buffer(doc, "</select>\n") : NULL;
}

/* Appends the form's start tag: it posts to /auth, or to /auth?QUERY. Returns like
 * append_element(). */
static char *append_form_open(char *doc, const char *query)
{
	char *esc = NULL;

	if (query && !(esc = xml_escape(doc, query))) {
		talloc_free(doc);
		return NULL;
	}
	doc = talloc_asprintf_append_buffer(doc, "<form method=\"post\" action=\"/auth%s%s\">\n",
					    esc ? "?" : "", esc ? esc : "");
	if (doc)
		talloc_free(esc);
	return doc;
}

char *auth_xml_login_form(TALLOC_CTX *ctx, const char *query, const char *message,
			  const char *error, const char *banner, const struct auth_group *groups,
			  size_t n_groups)
{
	char *doc;

	doc = talloc_strdup(ctx, AUTH_REQUEST_OPEN);
	if (doc == NULL)
		return NULL;
	doc = append_element(doc, "message", message);
	if (doc)
		doc = append_element(doc, "error", error);
	if (doc)
		doc = append_element(doc, "banner", banner);
	if (doc)
		doc = append_form_open(doc, query);
	if (doc == NULL)
		return NULL;
	doc = talloc_strdup_append_buffer(
	    doc, "<input type=\"text\" name=\"username\" label=\"Username:\" />\n"
		 "<input type=\"password\" name=\"password\" label=\"Password:\" />\n");
	doc = doc ? append_groups(doc, groups, n_groups) : NULL;
	return doc ? talloc_strdup_append_buffer(doc, "</form>\n</auth>\n</config-auth>\n") : NULL;
}

char *auth_xml_second_form(TALLOC_CTX *ctx, const char *query, const char *message,
			   const char *error, const char *label, bool echo)
{
	char *doc = talloc_strdup(ctx, AUTH_REQUEST_OPEN), *esc;

	if (doc)
		doc = append_element(doc, "message", message);
	if (doc)
		doc = append_element(doc, "error", error);
	if (doc)
		doc = append_form_open(doc, query);
	if (doc == NULL)
		return NULL;
	esc = xml_escape(doc, label ? label : "One-time password:");
	if (!esc) {
		talloc_free(doc);
		return NULL;
	}
	/* openconnect fills an input of this name from its token (--token-mode). */
	return talloc_asprintf_append_buffer(
	    doc,
	    "<input type=\"%s\" name=\"secondary_password\" label=\"%s\" />\n"
	    "</form>\n</auth>\n</config-auth>\n",
	    echo ? "text" : "password", esc);
}

char *auth_xml_success(TALLOC_CTX *ctx, const char *profile_uri, const char *profile_sha1)
{
	char *doc = talloc_strdup(ctx, AUTH_XML_HEAD
				  "<config-auth client=\"vpn\" type=\"complete\">\n" AUTH_XML_VERSION
				  "<auth id=\"success\">\n"
				  "<title>SSL VPN Service</title>\n"
				  "</auth>\n");
	char *uri, *sha1;

	/* The manifest as openconnect's parse_profile_node() and Cisco clients read it. */
	if (doc && profile_uri && profile_sha1) {
		uri = xml_escape(doc, profile_uri);
		sha1 = xml_escape(doc, profile_sha1);
		if (!uri || !sha1) {
			talloc_free(doc);
			return NULL;
		}
		doc = talloc_asprintf_append_buffer(
		    doc,
		    "<config client=\"vpn\" type=\"private\">\n<vpn-profile-manifest>\n"
		    "<vpn rev=\"1.0\">\n<file type=\"profile\" service-type=\"user\">\n"
		    "<uri>%s</uri>\n<hash type=\"sha1\">%s</hash>\n"
		    "</file>\n</vpn>\n</vpn-profile-manifest>\n</config>\n",
		    uri, sha1);
	}
	return doc ? talloc_strdup_append_buffer(doc, "</config-auth>\n") : NULL;
}

char *auth_xml_failure(TALLOC_CTX *ctx, const char *error)
{
	char *doc;

	doc = talloc_strdup(ctx, AUTH_REQUEST_OPEN);
	if (doc == NULL)
		return NULL;
	doc = append_element(doc, "error", error ? error : "Authentication failed.");
	if (doc == NULL)
		return NULL;
	return talloc_strdup_append_buffer(doc, "</auth>\n</config-auth>\n");
}
