/* The management API's access file (manage-access): who may call the API and with
 * which role. One grant per line; '#' starts a comment:
 *
 *   token ROLE NAME sha256:HEX     a bearer token, stored as the SHA-256 of its text
 *   cert  ROLE COMMON-NAME         a client certificate signed by manage-ca, by its CN
 *
 * ROLE is "read" (status, lists, events) or "admin" (also disconnect, unban, reload).
 * A token is "slm_" and 64 hex digits (32 random bytes), so one SHA-256 is enough at
 * rest: nothing short enough to guess is ever hashed. The file is root's and mode 0600
 * or stricter; sluiced -t, sluiced and sluice-manage refuse anything else. */
#ifndef SLUICE_COMMON_MANAGE_ACCESS_H
#define SLUICE_COMMON_MANAGE_ACCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <talloc.h>

#define MANAGE_TOKEN_PREFIX  "slm_"
#define MANAGE_TOKEN_LEN     (4 + 64) /* prefix and hex digits */
#define MANAGE_NAME_MAX      64       /* a token's name */
#define MANAGE_CN_MAX        200      /* a certificate's common name */
#define MANAGE_ACCESS_MAX    (256 * 1024)
#define MANAGE_GRANTS_MAX    1024

enum manage_role { MANAGE_ROLE_NONE = 0, MANAGE_ROLE_READ, MANAGE_ROLE_ADMIN };
enum manage_grant_kind { MANAGE_GRANT_TOKEN, MANAGE_GRANT_CERT };

struct manage_grant {
	enum manage_grant_kind kind;
	enum manage_role role;
	char *name;          /* the token's name or the certificate's CN */
	uint8_t hash[32];    /* tokens: SHA-256 of the token's text */
};

struct manage_access {
	struct manage_grant *grants;
	size_t n;
};

/* Parses text (len bytes, not necessarily NUL-terminated). On error returns a negative
 * errno and writes "line N: why" into err. */
int manage_access_parse(TALLOC_CTX *ctx, const char *text, size_t len,
			struct manage_access **out, char *err, size_t errlen);
/* Reads and parses path, which must be a regular file owned by root with no access for
 * group or others. err gets "PATH: why" or "PATH: line N: why". */
int manage_access_load(TALLOC_CTX *ctx, const char *path, struct manage_access **out,
		       char *err, size_t errlen);
/* The grant of a bearer token, compared in constant time against every token; NULL:
 * none. */
const struct manage_grant *manage_access_token(const struct manage_access *a, const char *token,
					       size_t len);
/* The grant of a verified client certificate's common name; NULL: none. */
const struct manage_grant *manage_access_cert(const struct manage_access *a, const char *cn);

const char *manage_role_name(enum manage_role r);
/* The role a word names; MANAGE_ROLE_NONE for anything else. */
enum manage_role manage_role_parse(const char *word);
/* true when s is a usable token name (letters, digits, '.', '_', '-', '@'). */
bool manage_name_valid(const char *s, size_t len);
/* A new random token (MANAGE_TOKEN_LEN characters and a NUL) and its hash. 0 or -errno. */
int manage_token_new(char tok[MANAGE_TOKEN_LEN + 1], uint8_t hash[32]);
/* The line that grants g, with a newline, allocated on ctx. */
char *manage_grant_line(TALLOC_CTX *ctx, const struct manage_grant *g);

#endif
