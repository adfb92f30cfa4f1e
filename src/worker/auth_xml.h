/* The XML documents the server sends during authentication (protocol.md §2.4,
 * §2.6, §2.7), in the shape openconnect 9.01 accepts. Every text and attribute
 * value passes through xml_escape(). The document builders return a
 * NUL-terminated string allocated under CTX, or NULL on allocation failure or
 * when a text cannot be escaped. */
#ifndef SLUICE_AUTH_XML_H
#define SLUICE_AUTH_XML_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <talloc.h>

/* Decodes one UTF-8 sequence at S (LEN > 0 bytes available) into *CP. Returns the
 * sequence length (1-4), or -EILSEQ for a truncated, overlong or surrogate
 * sequence or a code point above U+10FFFF. */
int utf8_decode(const uint8_t *s, size_t len, uint32_t *cp);

/* Returns S with & < > " ' and TAB, LF, CR escaped, so that the result is safe and
 * lossless both as element text and inside a quoted attribute. Returns NULL when S
 * is NULL, is not valid UTF-8, holds a character XML 1.0 cannot carry (C0 controls
 * other than TAB/LF/CR, U+FFFE, U+FFFF), or on allocation failure. */
char *xml_escape(TALLOC_CTX *ctx, const char *s);

/* The login form: config-auth type="auth-request" with <auth id="main">, the
 * optional MESSAGE, ERROR and BANNER (NULL = omitted), and a form posting to
 * /auth with a text input "username" and a password input "password". With QUERY
 * set the forms post to /auth?QUERY instead (camouflage: a client that posts on a
 * new connection must carry the secret again). */
struct auth_group {
	const char *value; /* sent back as group_list / <group-select> */
	const char *label; /* shown */
};

/* With n_groups > 0 the form also has the group selector (select name="group_list"),
 * one option per group in order. */
char *auth_xml_login_form(TALLOC_CTX *ctx, const char *query, const char *message,
			  const char *error, const char *banner, const struct auth_group *groups,
			  size_t n_groups);

/* The second form of a login: MESSAGE and the optional ERROR, and one input,
 * "secondary_password" (the name openconnect's --token-mode fills with the code it
 * generates), labelled LABEL (NULL: a one-time password), shown as typed when ECHO;
 * it posts like the login form. */
char *auth_xml_second_form(TALLOC_CTX *ctx, const char *query, const char *message,
			   const char *error, const char *label, bool echo);

/* Authentication succeeded: config-auth type="complete" with <auth id="success">, and
 * with PROFILE_URI and PROFILE_SHA1 (hex; NULL: no profile) the vpn-profile-manifest that
 * tells the client where to get its XML profile. The cookie travels in a Set-Cookie
 * header added by the caller. */
char *auth_xml_success(TALLOC_CTX *ctx, const char *profile_uri, const char *profile_sha1);

/* Final failure: an auth-request whose <auth> holds only ERROR (NULL = a generic
 * text) and no inputs, so the client reports it and stops. */
char *auth_xml_failure(TALLOC_CTX *ctx, const char *error);

#endif
