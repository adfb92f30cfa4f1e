/* Parser for the body of a client's authentication POST (protocol.md §2.3, §2.5).
 * It runs in the sandboxed worker on bytes straight from the network, so it is
 * strict and bounded: the whole body is at most AUTH_BODY_MAX bytes, every field
 * has its own limit, and libxml2 is configured never to touch the file system or
 * the network and never to expand entities. */
#ifndef SLUICE_AUTH_BODY_H
#define SLUICE_AUTH_BODY_H

#include <stddef.h>
#include <stdint.h>
#include <talloc.h>

#define AUTH_BODY_MAX          16384
#define AUTH_BODY_MAX_DEPTH    16
#define AUTH_BODY_MAX_USERNAME 255
#define AUTH_BODY_MAX_PASSWORD 1023
#define AUTH_BODY_MAX_GROUP    255

enum auth_body_type {
	AUTH_BODY_INIT,  /* config-auth type="init", or an empty body (GET / POST without fields) */
	AUTH_BODY_REPLY, /* config-auth type="auth-reply", or a form-urlencoded reply */
	AUTH_BODY_OTHER, /* any other config-auth type (or none) */
};

/* Fields the client did not send are NULL; all strings are valid UTF-8 without
 * control characters and are children of the struct. */
struct auth_body {
	enum auth_body_type type;
	char *username;
	char *password;
	char *group_select;
	char *secondary_password; /* the one-time password on the OTP form */
};

/* One-time libxml2 set-up; call it once per process before the seccomp filter is
 * installed. It initialises the parser (dictionaries, encoding tables, the random
 * seed of the hash tables — the steps that may read the environment or the
 * clock), forbids catalog use, replaces the external-entity loader by one that
 * refuses everything, and installs no-op error handlers so that libxml2 never
 * writes to stderr. Afterwards auth_body_parse() only allocates memory.
 * Returns 0, or -ENOTSUP when the libxml2 loaded at run time is older than the
 * one sluice was built against. */
int auth_body_init(void);

/* Parses BODY (LEN bytes, not NUL-terminated) sent with CONTENT_TYPE (may be
 * NULL). XML mode is used when the body, after optional whitespace, starts with
 * '<' or when the media type is application/xml or text/xml; otherwise the body
 * is application/x-www-form-urlencoded. An empty body is AUTH_BODY_INIT.
 * On success *OUT is allocated under CTX. Returns 0, -EINVAL for a malformed body
 * (bad XML, a DTD, nesting deeper than AUTH_BODY_MAX_DEPTH, bad escapes, invalid
 * UTF-8, control characters, duplicate fields), -EMSGSIZE when the body or a field
 * is longer than its limit, or -ENOMEM. */
int auth_body_parse(TALLOC_CTX *ctx, const char *content_type, const uint8_t *body, size_t len,
		    struct auth_body **out);

#endif
