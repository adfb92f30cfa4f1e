#include "config.h"
#include "worker/auth_body.h"

#include <check.h>
#include <errno.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "worker/auth_xml.h"

#include "check_main.h"

#define CT_XML  "application/xml; charset=utf-8"
#define CT_FORM "application/x-www-form-urlencoded"

/* Bodies as openconnect 9.01-3 sends them (protocol.md §2.3, §2.5). */
static const char oc_init[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<config-auth client=\"vpn\" type=\"init\" aggregate-auth-version=\"2\">"
    "<version who=\"vpn\">v9.01-3</version><device-id>linux-64</device-id>"
    "<capabilities><auth-method>single-sign-on-v2</auth-method>"
    "<auth-method>single-sign-on-external-browser</auth-method></capabilities>"
    "<group-access>https://vpn.example.com/</group-access></config-auth>\n";

static const char oc_reply[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<config-auth client=\"vpn\" type=\"auth-reply\" aggregate-auth-version=\"2\">"
    "<version who=\"vpn\">v9.01-3</version><device-id>linux-64</device-id>"
    "<capabilities><auth-method>single-sign-on-v2</auth-method>"
    "<auth-method>single-sign-on-external-browser</auth-method></capabilities>"
    "<opaque is-for=\"sg\"><tunnel-group>default</tunnel-group></opaque>"
    "<auth><username>test</username><password>test</password></auth>"
    "<group-select>grpB</group-select></config-auth>\n";

static const char oc_form[] = "group_list=grpB&username=test&password=test";

static TALLOC_CTX *tctx;
static struct auth_body *ab;

static void setup(void)
{
	ck_assert_int_eq(auth_body_init(), 0);
	tctx = talloc_new(NULL);
	ab = NULL;
}

static void teardown(void)
{
	talloc_free(tctx);
}

static int parse(const char *ct, const char *body)
{
	ab = NULL;
	return auth_body_parse(tctx, ct, (const uint8_t *)body, strlen(body), &ab);
}

/* A reply whose <auth> holds only PASSWORD_XML as the password's inner markup. */
static int parse_password(const char *password_xml)
{
	char *doc = talloc_asprintf(tctx,
				    "<?xml version=\"1.0\"?><config-auth type=\"auth-reply\">"
				    "<auth><password>%s</password></auth></config-auth>",
				    password_xml);
	return parse(CT_XML, doc);
}

static char *repeat(char c, size_t n)
{
	char *s = talloc_array(tctx, char, n + 1);

	memset(s, c, n);
	s[n] = '\0';
	return s;
}

START_TEST(test_openconnect_init)
{
	ck_assert_int_eq(parse(CT_XML, oc_init), 0);
	ck_assert_int_eq(ab->type, AUTH_BODY_INIT);
	ck_assert_ptr_null(ab->username);
	ck_assert_ptr_null(ab->password);
	ck_assert_ptr_null(ab->group_select);
}
END_TEST

START_TEST(test_openconnect_reply)
{
	ck_assert_int_eq(parse(CT_XML, oc_reply), 0);
	ck_assert_int_eq(ab->type, AUTH_BODY_REPLY);
	ck_assert_str_eq(ab->username, "test");
	ck_assert_str_eq(ab->password, "test");
	ck_assert_str_eq(ab->group_select, "grpB");
}
END_TEST

START_TEST(test_openconnect_form)
{
	ck_assert_int_eq(parse(CT_FORM, oc_form), 0);
	ck_assert_int_eq(ab->type, AUTH_BODY_REPLY);
	ck_assert_str_eq(ab->username, "test");
	ck_assert_str_eq(ab->password, "test");
	ck_assert_str_eq(ab->group_select, "grpB");

	/* The GET / empty POST of form mode starts authentication. */
	ck_assert_int_eq(parse(CT_FORM, ""), 0);
	ck_assert_int_eq(ab->type, AUTH_BODY_INIT);
	ck_assert_int_eq(parse(NULL, ""), 0);
	ck_assert_int_eq(ab->type, AUTH_BODY_INIT);

	/* XML is recognised by its first byte whatever the content type says. */
	ck_assert_int_eq(parse(CT_FORM, oc_reply), 0);
	ck_assert_str_eq(ab->password, "test");
	ck_assert_int_eq(parse(NULL, "  \r\n<config-auth type=\"init\"/>"), 0);
	ck_assert_int_eq(ab->type, AUTH_BODY_INIT);
	ck_assert_int_eq(parse("Text/XML", "username=a"), -EINVAL);

	ck_assert_int_eq(parse(CT_FORM, "secondary_password=x&foo=&username=a"), 0);
	ck_assert_str_eq(ab->username, "a");
	ck_assert_ptr_null(ab->password);
	ck_assert_str_eq(ab->secondary_password, "x");
}
END_TEST

START_TEST(test_xml_type_and_fields)
{
	ck_assert_int_eq(parse(CT_XML, "<config-auth type=\"logout\"/>"), 0);
	ck_assert_int_eq(ab->type, AUTH_BODY_OTHER);
	ck_assert_int_eq(parse(CT_XML, "<config-auth><auth><username/></auth></config-auth>"), 0);
	ck_assert_int_eq(ab->type, AUTH_BODY_OTHER);
	ck_assert_str_eq(ab->username, "");
	ck_assert_int_eq(parse(CT_XML, "<auth><username>a</username></auth>"), -EINVAL);
	ck_assert_int_eq(parse(CT_XML, "<config-auth type=\"init\">"), -EINVAL);
	ck_assert_int_eq(parse(CT_XML, "<config-auth/><x/>"), -EINVAL);
	ck_assert_int_eq(parse_password("a<b>c</b>"), -EINVAL);
	ck_assert_int_eq(parse_password("a<!-- note -->b"), 0);
	ck_assert_str_eq(ab->password, "ab");
	/* A namespaced element is not ours. */
	ck_assert_int_eq(parse(CT_XML, "<config-auth xmlns:p=\"urn:x\"><auth>"
				       "<p:username>a</p:username></auth></config-auth>"),
			 0);
	ck_assert_ptr_null(ab->username);
}
END_TEST

START_TEST(test_xml_entities_cdata_unicode)
{
	ck_assert_int_eq(parse_password("a&amp;b&lt;c&gt;&#x41;&#66;&quot;&apos;"), 0);
	ck_assert_str_eq(ab->password, "a&b<c>AB\"'");
	ck_assert_int_eq(parse_password("x<![CDATA[<&>]]>y"), 0);
	ck_assert_str_eq(ab->password, "x<&>y");
	ck_assert_int_eq(parse_password("  pass word \xc3\xa9\xe2\x82\xac\xf0\x9f\x94\x91 "), 0);
	ck_assert_str_eq(ab->password, "  pass word \xc3\xa9\xe2\x82\xac\xf0\x9f\x94\x91 ");
	ck_assert_int_eq(parse_password("&undeclared;"), -EINVAL);
	ck_assert_int_eq(parse_password("&#0;"), -EINVAL);
	ck_assert_int_eq(parse_password("a&#10;b"), -EINVAL);
	ck_assert_int_eq(parse_password("a\tb"), -EINVAL);
	ck_assert_int_eq(parse_password("&#x85;"), -EINVAL);
	ck_assert_int_eq(parse_password("\xc3\x28"), -EINVAL);
	ck_assert_int_eq(parse_password("\xed\xa0\x80"), -EINVAL);
	ck_assert_int_eq(parse_password("\xc0\xaf"), -EINVAL);
}
END_TEST

START_TEST(test_group_select_places)
{
	ck_assert_int_eq(parse(CT_XML, "<config-auth type=\"auth-reply\"><auth>"
				       "<group-select>staff</group-select></auth></config-auth>"),
			 0);
	ck_assert_str_eq(ab->group_select, "staff");
	ck_assert_int_eq(parse(CT_XML, "<config-auth type=\"init\">"
				       "<group-select>guests</group-select></config-auth>"),
			 0);
	ck_assert_int_eq(ab->type, AUTH_BODY_INIT);
	ck_assert_str_eq(ab->group_select, "guests");
}
END_TEST

START_TEST(test_dtd_refused)
{
	static const char *const docs[] = {
	    "<!DOCTYPE config-auth><config-auth type=\"init\"/>",
	    "<?xml version=\"1.0\"?><!DOCTYPE config-auth SYSTEM \"file:///etc/passwd\">"
	    "<config-auth type=\"init\"/>",
	    "<?xml version=\"1.0\"?><!DOCTYPE config-auth [<!ENTITY e SYSTEM "
	    "\"file:///etc/passwd\">]><config-auth><auth><password>&e;</password>"
	    "</auth></config-auth>",
	    "<?xml version=\"1.0\"?><!DOCTYPE config-auth [<!ENTITY e \"secret\">]>"
	    "<config-auth><auth><password>&e;</password></auth></config-auth>",
	    "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">"
	    "<!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">"
	    "<!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">"
	    "<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">"
	    "<!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">"
	    "<!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">"
	    "<!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">"
	    "<!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">"
	    "<!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">"
	    "<!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">]>"
	    "<config-auth><auth><password>&lol9;</password></auth></config-auth>",
	    "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY % p SYSTEM \"http://198.18.0.1/\">%p;]>"
	    "<config-auth/>",
	};
	size_t i;

	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++)
		ck_assert_msg(parse(CT_XML, docs[i]) == -EINVAL, "doc %zu accepted", i);
}
END_TEST

START_TEST(test_depth)
{
	char *ok = talloc_strdup(tctx, "<config-auth>"), *deep;
	int i;

	for (i = 1; i < AUTH_BODY_MAX_DEPTH; i++)
		ok = talloc_strdup_append(ok, "<x>");
	for (i = 1; i < AUTH_BODY_MAX_DEPTH; i++)
		ok = talloc_strdup_append(ok, "</x>");
	ok = talloc_strdup_append(ok, "</config-auth>");
	ck_assert_int_eq(parse(CT_XML, ok), 0);

	deep = talloc_strdup(tctx, "<config-auth>");
	for (i = 0; i < AUTH_BODY_MAX_DEPTH; i++)
		deep = talloc_strdup_append(deep, "<x>");
	for (i = 0; i < AUTH_BODY_MAX_DEPTH; i++)
		deep = talloc_strdup_append(deep, "</x>");
	deep = talloc_strdup_append(deep, "</config-auth>");
	ck_assert_int_eq(parse(CT_XML, deep), -EINVAL);

	deep = talloc_strdup(tctx, "<config-auth>");
	for (i = 0; i < 6000; i++)
		deep = talloc_strdup_append(deep, "<a>");
	ck_assert_int_eq(parse(CT_XML, deep), -EMSGSIZE);
	deep[AUTH_BODY_MAX] = '\0';
	ck_assert_int_eq(parse(CT_XML, deep), -EINVAL);
}
END_TEST

START_TEST(test_limits)
{
	char *body;

	body = talloc_asprintf(tctx, "username=%s", repeat('u', 255));
	ck_assert_int_eq(parse(CT_FORM, body), 0);
	ck_assert_uint_eq(strlen(ab->username), 255);
	body = talloc_asprintf(tctx, "username=%s", repeat('u', 256));
	ck_assert_int_eq(parse(CT_FORM, body), -EMSGSIZE);
	body = talloc_asprintf(tctx, "password=%s", repeat('p', 1023));
	ck_assert_int_eq(parse(CT_FORM, body), 0);
	body = talloc_asprintf(tctx, "password=%s", repeat('p', 1024));
	ck_assert_int_eq(parse(CT_FORM, body), -EMSGSIZE);
	body = talloc_asprintf(tctx, "group_list=%s", repeat('g', 256));
	ck_assert_int_eq(parse(CT_FORM, body), -EMSGSIZE);

	ck_assert_int_eq(parse_password(repeat('p', 1023)), 0);
	ck_assert_int_eq(parse_password(repeat('p', 1024)), -EMSGSIZE);
	/* The limit counts decoded bytes: 1023 references of five bytes each fit. */
	body = talloc_strdup(tctx, "");
	for (int i = 0; i < 1023; i++)
		body = talloc_strdup_append(body, "&amp;");
	ck_assert_int_eq(parse_password(body), 0);
	ck_assert_uint_eq(strlen(ab->password), 1023);
	ck_assert_int_eq(parse_password(talloc_asprintf(tctx, "%s<![CDATA[x]]>", body)), -EMSGSIZE);
	body = talloc_asprintf(tctx,
			       "<config-auth><auth><username>%s</username></auth>"
			       "</config-auth>",
			       repeat('u', 256));
	ck_assert_int_eq(parse(CT_XML, body), -EMSGSIZE);

	body = talloc_asprintf(tctx, "foo=%s", repeat('x', AUTH_BODY_MAX - 4));
	ck_assert_int_eq(parse(CT_FORM, body), 0);
	body = talloc_asprintf(tctx, "foo=%s", repeat('x', AUTH_BODY_MAX - 3));
	ck_assert_int_eq(parse(CT_FORM, body), -EMSGSIZE);
	body = talloc_asprintf(tctx, "<config-auth>%s</config-auth>", repeat(' ', AUTH_BODY_MAX));
	ck_assert_int_eq(parse(CT_XML, body), -EMSGSIZE);
}
END_TEST

START_TEST(test_form_escapes)
{
	static const char *const bad[] = {
	    "username=%",
	    "username=a%4",
	    "username=%zz",
	    "username=%4G",
	    "username=%00",
	    "foo=%00",
	    "foo%00=a",
	    "username=a%0Ab",
	    "username=%7F",
	    "username=%C3%28",
	    "username=%C2%85",
	    "password=%ED%A0%80",
	    "username",
	    "=x",
	    "username=a&",
	    "&username=a",
	    "username=a&&password=b",
	    "%=x",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(parse(CT_FORM, bad[i]) == -EINVAL, "accepted %s", bad[i]);
	ck_assert_int_eq(auth_body_parse(tctx, CT_FORM, (const uint8_t *)"username=a\0b", 12, &ab),
			 -EINVAL);

	ck_assert_int_eq(parse(CT_FORM, "password=p+a%20s%2Bs%26%3D%25%c3%a9%E2%82%AC"
					"&%75sername=b%3Db"),
			 0);
	ck_assert_str_eq(ab->password, "p a s+s&=%\xc3\xa9\xe2\x82\xac");
	ck_assert_str_eq(ab->username, "b=b");
}
END_TEST

START_TEST(test_duplicates)
{
	ck_assert_int_eq(parse(CT_FORM, "username=a&username=a"), -EINVAL);
	ck_assert_int_eq(parse(CT_FORM, "password=a&password=b"), -EINVAL);
	ck_assert_int_eq(parse(CT_FORM, "group_list=a&group_list=b"), -EINVAL);
	ck_assert_int_eq(parse(CT_FORM, "foo=a&foo=b"), 0);
	ck_assert_int_eq(parse(CT_XML, "<config-auth><auth><username>a</username>"
				       "<username>a</username></auth></config-auth>"),
			 -EINVAL);
	ck_assert_int_eq(parse(CT_XML, "<config-auth><auth><username>a</username></auth>"
				       "<auth><password>b</password></auth></config-auth>"),
			 -EINVAL);
	ck_assert_int_eq(parse(CT_XML, "<config-auth><auth><group-select>a</group-select></auth>"
				       "<group-select>a</group-select></config-auth>"),
			 -EINVAL);
}
END_TEST

/* The worker's seccomp filter kills on anything but the calls it allows; after
 * auth_body_init() parsing must need nothing beyond memory management, and must
 * not write error text (write() is not allowed here). */
START_TEST(test_no_syscalls_after_init)
{
	static const struct {
		const char *ct, *body;
		int want;
	} cases[] = {
	    {CT_XML, oc_init, 0},
	    {CT_XML, oc_reply, 0},
	    {CT_FORM, oc_form, 0},
	    {CT_FORM, "", 0},
	    {CT_XML, "<config-auth><auth><password>&bogus;</password></auth></config-auth>",
	     -EINVAL},
	    {CT_XML, "<?xml version=\"1.0\" encoding=\"KOI8-R\"?><config-auth/>", 0},
	    {CT_XML,
	     "<?xml version=\"1.0\"?><?oasis-xml-catalog catalog=\"file:///etc/xml/catalog\"?>"
	     "<config-auth/>",
	     0},
	    {CT_XML, "<!DOCTYPE x SYSTEM \"file:///etc/passwd\"><config-auth/>", -EINVAL},
	    {CT_XML,
	     "<config-auth xmlns:xi=\"http://www.w3.org/2001/XInclude\">"
	     "<xi:include href=\"file:///etc/passwd\"/></config-auth>",
	     0},
	    {CT_XML, "<config-auth><<<", -EINVAL},
	    {CT_FORM, "username=%zz", -EINVAL},
	};
	static const int allowed[] = {SCMP_SYS(brk),    SCMP_SYS(mmap),    SCMP_SYS(munmap),
				      SCMP_SYS(mremap), SCMP_SYS(madvise), SCMP_SYS(exit_group)};
	scmp_filter_ctx filter;
	int status, fails = 0;
	size_t i;
	pid_t pid;

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		filter = seccomp_init(SCMP_ACT_KILL_PROCESS);
		if (filter == NULL)
			_exit(100);
		for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
			if (seccomp_rule_add(filter, SCMP_ACT_ALLOW, allowed[i], 0) < 0)
				_exit(100);
#ifdef SLUICE_SANITIZERS
		/* ASan, before _exit() (see src/worker/sandbox.c) */
		if (seccomp_rule_add(filter, SCMP_ACT_ALLOW, SCMP_SYS(sigaltstack), 0) < 0)
			_exit(100);
#endif
		if (seccomp_load(filter) < 0)
			_exit(100);
		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
			if (parse(cases[i].ct, cases[i].body) != cases[i].want)
				fails++;
		if (xml_escape(tctx, "<&>") == NULL ||
		    auth_xml_login_form(tctx, NULL, "m", "e", "b", NULL, 0) == NULL)
			fails++;
		_exit(fails);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status), "parser killed by signal %d", WTERMSIG(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
}
END_TEST

static xmlDoc *read_xml(const char *doc)
{
	xmlDoc *d =
	    xmlReadMemory(doc, strlen(doc), NULL, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR);

	ck_assert_ptr_nonnull(d);
	return d;
}

static xmlNode *child(xmlNode *parent, const char *name)
{
	xmlNode *n;

	for (n = parent->children; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0)
			return n;
	return NULL;
}

static void assert_prop(xmlNode *n, const char *name, const char *want)
{
	xmlChar *v = xmlGetProp(n, (const xmlChar *)name);

	ck_assert_ptr_nonnull(v);
	ck_assert_str_eq((const char *)v, want);
	xmlFree(v);
}

static void assert_text(xmlNode *n, const char *want)
{
	xmlChar *v;

	ck_assert_ptr_nonnull(n);
	v = xmlNodeGetContent(n);
	ck_assert_str_eq((const char *)v, want);
	xmlFree(v);
}

START_TEST(test_login_form)
{
	const char *msg = "Please <log in> & \"enjoy\" 'it'";
	xmlNode *root, *auth, *form, *in;
	char *doc;
	xmlDoc *d;

	doc = auth_xml_login_form(tctx, NULL, msg, "Login failed.", "Line 1\nLine 2\xc3\xa9", NULL,
				  0);
	ck_assert_ptr_nonnull(doc);
	d = read_xml(doc);
	root = xmlDocGetRootElement(d);
	ck_assert_str_eq((const char *)root->name, "config-auth");
	assert_prop(root, "type", "auth-request");
	assert_prop(child(root, "version"), "who", "sg");
	ck_assert_ptr_null(child(root, "host-scan"));
	auth = child(root, "auth");
	ck_assert_ptr_nonnull(auth);
	assert_prop(auth, "id", "main");
	assert_text(child(auth, "message"), msg);
	assert_text(child(auth, "error"), "Login failed.");
	assert_text(child(auth, "banner"), "Line 1\nLine 2\xc3\xa9");
	form = child(auth, "form");
	ck_assert_ptr_nonnull(form);
	assert_prop(form, "method", "post");
	assert_prop(form, "action", "/auth");
	in = child(form, "input");
	ck_assert_ptr_nonnull(in);
	assert_prop(in, "type", "text");
	assert_prop(in, "name", "username");
	for (in = in->next; in && in->type != XML_ELEMENT_NODE; in = in->next)
		;
	ck_assert_ptr_nonnull(in);
	assert_prop(in, "type", "password");
	assert_prop(in, "name", "password");
	xmlFreeDoc(d);

	doc = auth_xml_login_form(tctx, NULL, NULL, NULL, NULL, NULL, 0);
	d = read_xml(doc);
	auth = child(xmlDocGetRootElement(d), "auth");
	ck_assert_ptr_null(child(auth, "message"));
	ck_assert_ptr_null(child(auth, "error"));
	ck_assert_ptr_nonnull(child(auth, "form"));
	ck_assert_ptr_null(child(child(auth, "form"), "select"));
	xmlFreeDoc(d);

	ck_assert_ptr_null(auth_xml_login_form(tctx, NULL, "bad\x01", NULL, NULL, NULL, 0));

	/* The group selector: one option per group, value and label escaped. */
	{
		const struct auth_group groups[] = {{"DEFAULT", "DEFAULT"},
						    {"eng", "Engineering & \"Ops\""}};
		xmlNode *sel, *opt;

		doc = auth_xml_login_form(tctx, NULL, NULL, NULL, NULL, groups, 2);
		d = read_xml(doc);
		sel = child(child(child(xmlDocGetRootElement(d), "auth"), "form"), "select");
		ck_assert_ptr_nonnull(sel);
		assert_prop(sel, "name", "group_list");
		opt = child(sel, "option");
		ck_assert_ptr_nonnull(opt);
		assert_prop(opt, "value", "DEFAULT");
		for (opt = opt->next; opt && opt->type != XML_ELEMENT_NODE; opt = opt->next)
			;
		ck_assert_ptr_nonnull(opt);
		assert_prop(opt, "value", "eng");
		{
			xmlChar *text = xmlNodeGetContent(opt);

			ck_assert_str_eq((const char *)text, "Engineering & \"Ops\"");
			xmlFree(text);
		}
		xmlFreeDoc(d);
		ck_assert_ptr_null(
		    auth_xml_login_form(tctx, NULL, NULL, NULL, NULL,
					(const struct auth_group[]){{"x", "bad\x01"}}, 1));
	}
}
END_TEST

/* Camouflage: both forms post back to /auth with the secret as the query, escaped for
 * the attribute and read back unchanged. */
START_TEST(test_form_action_query)
{
	const char *query = "k&7'x=/?@";
	xmlNode *form;
	xmlDoc *d;
	char *doc;

	doc = auth_xml_login_form(tctx, query, NULL, NULL, NULL, NULL, 0);
	ck_assert_ptr_nonnull(strstr(doc, "action=\"/auth?k&amp;7&apos;x=/?@\""));
	d = read_xml(doc);
	form = child(child(xmlDocGetRootElement(d), "auth"), "form");
	assert_prop(form, "action", "/auth?k&7'x=/?@");
	xmlFreeDoc(d);
	d = read_xml(auth_xml_second_form(tctx, query, "code", NULL, NULL, false));
	form = child(child(xmlDocGetRootElement(d), "auth"), "form");
	assert_prop(form, "action", "/auth?k&7'x=/?@");
	xmlFreeDoc(d);
	ck_assert_ptr_null(auth_xml_login_form(tctx, "bad\x01", NULL, NULL, NULL, NULL, 0));
	ck_assert_ptr_null(auth_xml_second_form(tctx, "bad\x01", "code", NULL, NULL, false));
}
END_TEST

/* The manifest where openconnect's parse_profile_node() looks: config, then
 * vpn-profile-manifest, vpn rev="1.0", file type="profile" service-type="user". */
START_TEST(test_success_profile)
{
	const char *sha1 = "0123456789abcdef0123456789abcdef01234567";
	xmlNode *root, *config, *file;
	xmlDoc *d;

	d = read_xml(auth_xml_success(tctx, "/profiles/a%20b&c.xml", sha1));
	root = xmlDocGetRootElement(d);
	assert_prop(child(root, "auth"), "id", "success");
	config = child(root, "config");
	ck_assert_ptr_nonnull(config);
	assert_prop(config, "client", "vpn");
	assert_prop(config, "type", "private");
	config = child(config, "vpn-profile-manifest");
	ck_assert_ptr_nonnull(config);
	config = child(config, "vpn");
	ck_assert_ptr_nonnull(config);
	assert_prop(config, "rev", "1.0");
	file = child(config, "file");
	ck_assert_ptr_nonnull(file);
	assert_prop(file, "type", "profile");
	assert_prop(file, "service-type", "user");
	assert_text(child(file, "uri"), "/profiles/a%20b&c.xml");
	assert_text(child(file, "hash"), sha1);
	assert_prop(child(file, "hash"), "type", "sha1");
	xmlFreeDoc(d);
	ck_assert_ptr_null(auth_xml_success(tctx, "/profiles/\x01", sha1));
}
END_TEST

START_TEST(test_success_failure)
{
	xmlNode *root, *auth;
	xmlDoc *d;

	d = read_xml(auth_xml_success(tctx, NULL, NULL));
	root = xmlDocGetRootElement(d);
	assert_prop(root, "type", "complete");
	auth = child(root, "auth");
	assert_prop(auth, "id", "success");
	ck_assert_ptr_nonnull(child(auth, "title"));
	ck_assert_ptr_null(child(root, "config"));
	xmlFreeDoc(d);

	d = read_xml(auth_xml_failure(tctx, "No <entry> for you"));
	root = xmlDocGetRootElement(d);
	assert_prop(root, "type", "auth-request");
	auth = child(root, "auth");
	assert_prop(auth, "id", "main");
	assert_text(child(auth, "error"), "No <entry> for you");
	ck_assert_ptr_null(child(auth, "form"));
	xmlFreeDoc(d);

	d = read_xml(auth_xml_failure(tctx, NULL));
	ck_assert_ptr_nonnull(child(child(xmlDocGetRootElement(d), "auth"), "error"));
	xmlFreeDoc(d);
}
END_TEST

START_TEST(test_escape_round_trip)
{
	static const char *const texts[] = {
	    "",
	    "plain",
	    "&<>\"'",
	    "&amp; not twice",
	    "a\tb\nc\r\nd\re",
	    " lead and trail ",
	    "\xc3\xa9\xe2\x82\xac\xf0\x9f\x94\x91",
	    "]]> end of cdata",
	    "&#x41;",
	};
	xmlNode *root;
	char *doc;
	size_t i;
	xmlDoc *d;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		char *esc = xml_escape(tctx, texts[i]);

		ck_assert_ptr_nonnull(esc);
		doc = talloc_asprintf(tctx, "<r a=\"%s\" b='%s'>%s</r>", esc, esc, esc);
		d = read_xml(doc);
		root = xmlDocGetRootElement(d);
		assert_prop(root, "a", texts[i]);
		assert_prop(root, "b", texts[i]);
		assert_text(root, texts[i]);
		xmlFreeDoc(d);
	}
	ck_assert_str_eq(xml_escape(tctx, "a<b"), "a&lt;b");
	ck_assert_ptr_null(xml_escape(tctx, NULL));
	ck_assert_ptr_null(xml_escape(tctx, "\x01"));
	ck_assert_ptr_null(xml_escape(tctx, "\xc3"));
	ck_assert_ptr_null(xml_escape(tctx, "\xef\xbf\xbe"));
	ck_assert_ptr_null(xml_escape(tctx, "\xf4\x90\x80\x80"));
}
END_TEST

/* The answer to the one-time password form, as openconnect 9.01 posts it in both
 * modes; the code is a field like the password, with its limit and once only. */
START_TEST(test_otp_reply)
{
	ck_assert_int_eq(parse(CT_XML, "<?xml version=\"1.0\"?><config-auth client=\"vpn\" "
				       "type=\"auth-reply\"><auth><secondary_password>123456"
				       "</secondary_password></auth></config-auth>"),
			 0);
	ck_assert_int_eq(ab->type, AUTH_BODY_REPLY);
	ck_assert_str_eq(ab->secondary_password, "123456");
	ck_assert_ptr_null(ab->password);
	ck_assert_int_eq(parse(CT_FORM, "secondary_password=654321"), 0);
	ck_assert_str_eq(ab->secondary_password, "654321");
	ck_assert_int_eq(parse(CT_FORM, "secondary_password=1&secondary_password=2"), -EINVAL);
	ck_assert_int_eq(parse(CT_FORM, talloc_asprintf(tctx, "secondary_password=%s",
							repeat('1', AUTH_BODY_MAX_PASSWORD + 1))),
			 -EMSGSIZE);
	ck_assert_int_eq(parse(CT_FORM, "secondary_password=12%0a34"), -EINVAL);
}
END_TEST

/* The second form: one password input named secondary_password (what openconnect's
 * --token-mode fills), the message, an optional error, no username. */
START_TEST(test_otp_form)
{
	xmlNode *root, *auth, *form, *in;
	xmlDoc *d = read_xml(
	    auth_xml_second_form(tctx, NULL, "Enter <the> code", "Login failed.", NULL, false));

	root = xmlDocGetRootElement(d);
	assert_prop(root, "type", "auth-request");
	auth = child(root, "auth");
	assert_prop(auth, "id", "main");
	assert_text(child(auth, "message"), "Enter <the> code");
	assert_text(child(auth, "error"), "Login failed.");
	form = child(auth, "form");
	assert_prop(form, "method", "post");
	assert_prop(form, "action", "/auth");
	in = child(form, "input");
	assert_prop(in, "type", "password");
	assert_prop(in, "name", "secondary_password");
	assert_prop(in, "label", "One-time password:");
	for (in = in->next; in; in = in->next)
		ck_assert_int_ne(in->type, XML_ELEMENT_NODE);
	xmlFreeDoc(d);
	d = read_xml(auth_xml_second_form(tctx, NULL, "code", NULL, NULL, false));
	ck_assert_ptr_null(child(child(xmlDocGetRootElement(d), "auth"), "error"));
	xmlFreeDoc(d);
	/* What a backend asks: its prompt as the label, escaped, as text when it echoes. */
	d = read_xml(
	    auth_xml_second_form(tctx, NULL, "Verification code", NULL, "Code <6 digits>:", true));
	in = child(child(child(xmlDocGetRootElement(d), "auth"), "form"), "input");
	assert_prop(in, "type", "text");
	assert_prop(in, "name", "secondary_password");
	assert_prop(in, "label", "Code <6 digits>:");
	xmlFreeDoc(d);
}
END_TEST

int main(void)
{
	const struct check_test core[] = {
	    {test_openconnect_init},
	    {test_openconnect_reply},
	    {test_openconnect_form},
	    {test_xml_type_and_fields},
	    {test_xml_entities_cdata_unicode},
	    {test_group_select_places},
	    {test_dtd_refused},
	    {test_depth},
	    {test_limits},
	    {test_form_escapes},
	    {test_duplicates},
	    {test_login_form},
	    {test_form_action_query},
	    {test_success_failure},
	    {test_success_profile},
	    {test_escape_round_trip},
	    {test_otp_reply},
	    {test_otp_form},
	    {NULL},
	};
	const struct check_test sandbox[] = {
	    {test_no_syscalls_after_init},
	    {NULL},
	};
	const struct check_case cases[] = {
	    {"core", setup, teardown, 0, core},
	    {"sandbox", setup, teardown, 0, sandbox},
	    {NULL},
	};

	return check_main("auth_body", cases);
}
