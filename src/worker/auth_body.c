#include "config.h"
#include "worker/auth_body.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/text.h"
#include "ipc/ipc.h"

#include <libxml/SAX2.h>
#include <libxml/catalog.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlerror.h>

#include "worker/auth_xml.h"

/* No DTD attributes, no entity substitution, no external subset, no network;
 * CDATA is merged into text; the encoding is fixed to UTF-8 by us. */
#define AUTH_XML_OPTIONS                                                                           \
	(XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA |           \
	 XML_PARSE_IGNORE_ENC)

struct xml_guard {
	int depth;
	int refused;
};

/* A client's malformed XML is an ordinary event reported through our return
 * value; libxml2's own reports would go to stderr, which the worker must not use. */
static void xml_silent_generic(void *ctx, const char *msg, ...)
{
}

static void xml_silent_structured(void *ctx, xmlErrorPtr error)
{
}

/* Nothing the client sends may make the worker open a file or a URL. */
static xmlParserInputPtr xml_no_loader(const char *url, const char *id, xmlParserCtxtPtr ctxt)
{
	return NULL;
}

int auth_body_init(void)
{
	if (atoi(xmlParserVersion) < LIBXML_VERSION)
		return -ENOTSUP;
	xmlInitParser();
	xmlCatalogSetDefaults(XML_CATA_ALLOW_NONE);
	xmlSetExternalEntityLoader(xml_no_loader);
	xmlSetGenericErrorFunc(NULL, xml_silent_generic);
	xmlSetStructuredErrorFunc(NULL, xml_silent_structured);
	xmlThrDefSetGenericErrorFunc(NULL, xml_silent_generic);
	xmlThrDefSetStructuredErrorFunc(NULL, xml_silent_structured);
	return 0;
}

/* Any DOCTYPE is refused before its internal subset is read: that is where entity
 * declarations (billion laughs, external entities) would come from. */
static void xml_on_doctype(void *ctx, const xmlChar *name, const xmlChar *external_id,
			   const xmlChar *system_id)
{
	xmlParserCtxtPtr ctxt = ctx;
	struct xml_guard *guard = ctxt->_private;

	guard->refused = 1;
	xmlStopParser(ctxt);
}

static void xml_on_start(void *ctx, const xmlChar *localname, const xmlChar *prefix,
			 const xmlChar *uri, int nb_namespaces, const xmlChar **namespaces,
			 int nb_attributes, int nb_defaulted, const xmlChar **attributes)
{
	xmlParserCtxtPtr ctxt = ctx;
	struct xml_guard *guard = ctxt->_private;

	if (++guard->depth > AUTH_BODY_MAX_DEPTH) {
		guard->refused = 1;
		xmlStopParser(ctxt);
		return;
	}
	xmlSAX2StartElementNs(ctx, localname, prefix, uri, nb_namespaces, namespaces, nb_attributes,
			      nb_defaulted, attributes);
}

static void xml_on_end(void *ctx, const xmlChar *localname, const xmlChar *prefix,
		       const xmlChar *uri)
{
	xmlParserCtxtPtr ctxt = ctx;
	struct xml_guard *guard = ctxt->_private;

	guard->depth--;
	xmlSAX2EndElementNs(ctx, localname, prefix, uri);
}

/* C0 controls, DEL and C1 controls have no place in a name, password or group. */
static int check_text(const uint8_t *s, size_t len)
{
	uint32_t c;
	size_t i;
	int n;

	for (i = 0; i < len; i += n) {
		n = utf8_decode(s + i, len - i, &c);
		if (n < 0)
			return -EINVAL;
		if (c < 0x20 || (c >= 0x7f && c <= 0x9f))
			return -EINVAL;
	}
	return 0;
}

static int set_field(struct auth_body *b, char **field, const uint8_t *val, size_t len, size_t max)
{
	int ret;

	if (*field != NULL)
		return -EINVAL;
	if (len > max)
		return -EMSGSIZE;
	ret = check_text(val, len);
	if (ret < 0)
		return ret;
	/* Every field may be a password or a code: wiped when the body is freed. */
	*field = ipc_alloc_secret(b, len + 1);
	if (!*field)
		return -ENOMEM;
	memcpy(*field, val, len);
	(*field)[len] = '\0';
	return 0;
}

static int is_xml_media_type(const char *ct)
{
	static const char *const types[] = {"application/xml", "text/xml"};
	size_t len, i;

	if (ct == NULL)
		return 0;
	ct += strspn(ct, " \t");
	len = strcspn(ct, ";");
	while (len > 0 && (ct[len - 1] == ' ' || ct[len - 1] == '\t'))
		len--;
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (len == strlen(types[i]) && strncasecmp(ct, types[i], len) == 0)
			return 1;
	return 0;
}

/* Decodes IN (LEN bytes) into OUT, which has room for LEN bytes (decoding never
 * grows the text). A NUL, raw or encoded, is refused so that C strings cannot be
 * cut short. */
static int url_decode(const uint8_t *in, size_t len, uint8_t *out, size_t *out_len)
{
	size_t i, o = 0;
	int hi, lo;

	for (i = 0; i < len; i++) {
		if (in[i] == '+') {
			out[o++] = ' ';
		} else if (in[i] == '%') {
			if (len - i < 3)
				return -EINVAL;
			hi = text_hex_digit(in[i + 1]);
			lo = text_hex_digit(in[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return -EINVAL;
			out[o++] = (uint8_t)(hi << 4 | lo);
			i += 2;
		} else if (in[i] == '\0') {
			return -EINVAL;
		} else {
			out[o++] = in[i];
		}
	}
	*out_len = o;
	return 0;
}

static int form_field(struct auth_body *b, const uint8_t *name, size_t name_len, const uint8_t *val,
		      size_t val_len)
{
	if (name_len == 8 && memcmp(name, "username", 8) == 0)
		return set_field(b, &b->username, val, val_len, AUTH_BODY_MAX_USERNAME);
	if (name_len == 8 && memcmp(name, "password", 8) == 0)
		return set_field(b, &b->password, val, val_len, AUTH_BODY_MAX_PASSWORD);
	if (name_len == 10 && memcmp(name, "group_list", 10) == 0)
		return set_field(b, &b->group_select, val, val_len, AUTH_BODY_MAX_GROUP);
	if (name_len == 18 && memcmp(name, "secondary_password", 18) == 0)
		return set_field(b, &b->secondary_password, val, val_len, AUTH_BODY_MAX_PASSWORD);
	/* Hidden inputs: not used. */
	return 0;
}

static int parse_form(struct auth_body *b, const uint8_t *body, size_t len)
{
	const uint8_t *seg, *end = body + len, *amp, *eq;
	size_t name_len, val_len;
	uint8_t *buf;
	int ret = 0;

	b->type = AUTH_BODY_REPLY;
	buf = ipc_alloc_secret(b, len);
	if (buf == NULL)
		return -ENOMEM;
	for (seg = body;; seg = amp + 1) {
		amp = memchr(seg, '&', end - seg);
		if (amp == NULL)
			amp = end;
		eq = memchr(seg, '=', amp - seg);
		if (eq == NULL || eq == seg) {
			ret = -EINVAL;
			goto out;
		}
		ret = url_decode(seg, eq - seg, buf, &name_len);
		if (ret < 0)
			goto out;
		/* The name is decoded in front of the value in the same buffer. */
		ret = url_decode(eq + 1, amp - eq - 1, buf + name_len, &val_len);
		if (ret < 0)
			goto out;
		ret = form_field(b, buf, name_len, buf + name_len, val_len);
		if (ret < 0 || amp == end)
			goto out;
	}
out:
	talloc_free(buf);
	return ret;
}

static int is_element(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && n->ns == NULL &&
	       strcmp((const char *)n->name, name) == 0;
}

/* Text of a leaf element: text and (merged) CDATA, comments skipped, any child
 * element refused. */
static int xml_field(struct auth_body *b, const xmlNode *node, char **field, size_t max)
{
	const xmlNode *c;
	size_t len = 0, l;
	uint8_t *val;
	int ret;

	if (*field != NULL)
		return -EINVAL;
	for (c = node->children; c; c = c->next) {
		if (c->type == XML_COMMENT_NODE || c->type == XML_PI_NODE)
			continue;
		if (c->type != XML_TEXT_NODE && c->type != XML_CDATA_SECTION_NODE)
			return -EINVAL;
		l = strlen((const char *)c->content);
		if (l > max - len)
			return -EMSGSIZE;
		len += l;
	}
	val = ipc_alloc_secret(b, len + 1);
	if (val == NULL)
		return -ENOMEM;
	len = 0;
	for (c = node->children; c; c = c->next) {
		if (c->type != XML_TEXT_NODE && c->type != XML_CDATA_SECTION_NODE)
			continue;
		l = strlen((const char *)c->content);
		memcpy(val + len, c->content, l);
		len += l;
	}
	ret = set_field(b, field, val, len, max);
	talloc_free(val);
	return ret;
}

static int xml_auth(struct auth_body *b, const xmlNode *auth)
{
	const xmlNode *n;
	int ret = 0;

	for (n = auth->children; n && ret == 0; n = n->next) {
		if (is_element(n, "username"))
			ret = xml_field(b, n, &b->username, AUTH_BODY_MAX_USERNAME);
		else if (is_element(n, "password"))
			ret = xml_field(b, n, &b->password, AUTH_BODY_MAX_PASSWORD);
		else if (is_element(n, "group-select"))
			ret = xml_field(b, n, &b->group_select, AUTH_BODY_MAX_GROUP);
		else if (is_element(n, "secondary_password"))
			ret = xml_field(b, n, &b->secondary_password, AUTH_BODY_MAX_PASSWORD);
	}
	return ret;
}

static int xml_config_auth(struct auth_body *b, const xmlNode *root)
{
	const xmlNode *n;
	int seen_auth = 0, ret = 0;
	xmlChar *type;

	if (!is_element(root, "config-auth"))
		return -EINVAL;
	type = xmlGetNoNsProp(root, (const xmlChar *)"type");
	if (type && strcmp((const char *)type, "init") == 0)
		b->type = AUTH_BODY_INIT;
	else if (type && strcmp((const char *)type, "auth-reply") == 0)
		b->type = AUTH_BODY_REPLY;
	else
		b->type = AUTH_BODY_OTHER;
	xmlFree(type);

	for (n = root->children; n && ret == 0; n = n->next) {
		if (is_element(n, "auth")) {
			/* Two <auth> blocks would make "which password" ambiguous. */
			if (seen_auth++)
				return -EINVAL;
			ret = xml_auth(b, n);
		} else if (is_element(n, "group-select")) {
			ret = xml_field(b, n, &b->group_select, AUTH_BODY_MAX_GROUP);
		}
	}
	return ret;
}

static int parse_xml(struct auth_body *b, const uint8_t *body, size_t len)
{
	struct xml_guard guard = {0};
	xmlParserCtxtPtr ctxt;
	uint32_t c;
	size_t i;
	int n, ret;

	/* Only NUL-free UTF-8 reaches libxml2: nothing then makes it switch to an
	 * iconv converter, which would open files inside the sandbox. */
	for (i = 0; i < len; i += n) {
		n = utf8_decode(body + i, len - i, &c);
		if (n < 0 || c == 0)
			return -EINVAL;
	}
	ctxt = xmlCreateMemoryParserCtxt((const char *)body, (int)len);
	if (ctxt == NULL)
		return -ENOMEM;
	xmlCtxtUseOptions(ctxt, AUTH_XML_OPTIONS);
	ctxt->_private = &guard;
	ctxt->sax->internalSubset = xml_on_doctype;
	ctxt->sax->startElementNs = xml_on_start;
	ctxt->sax->endElementNs = xml_on_end;

	xmlParseDocument(ctxt);
	if (guard.refused || !ctxt->wellFormed || ctxt->myDoc == NULL ||
	    ctxt->myDoc->intSubset != NULL || ctxt->myDoc->extSubset != NULL)
		ret = -EINVAL;
	else
		ret = xml_config_auth(b, xmlDocGetRootElement(ctxt->myDoc));

	xmlFreeDoc(ctxt->myDoc);
	ctxt->myDoc = NULL;
	xmlFreeParserCtxt(ctxt);
	return ret;
}

int auth_body_parse(TALLOC_CTX *ctx, const char *content_type, const uint8_t *body, size_t len,
		    struct auth_body **out)
{
	struct auth_body *b;
	size_t ws = 0;
	int ret = 0;

	if (len > AUTH_BODY_MAX)
		return -EMSGSIZE;
	b = talloc_zero(ctx, struct auth_body);
	if (b == NULL)
		return -ENOMEM;
	while (ws < len &&
	       (body[ws] == ' ' || body[ws] == '\t' || body[ws] == '\r' || body[ws] == '\n'))
		ws++;
	if (len == 0)
		b->type = AUTH_BODY_INIT;
	else if ((ws < len && body[ws] == '<') || is_xml_media_type(content_type))
		ret = parse_xml(b, body, len);
	else
		ret = parse_form(b, body, len);
	if (ret < 0) {
		talloc_free(b);
		return ret;
	}
	*out = b;
	return 0;
}
