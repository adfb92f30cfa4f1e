/* The CA's state file of sluice-certs (DIR/ca-state): every certificate the CA signed,
 * whether and when it was revoked, and the number of the latest CRL. Text, one
 * certificate a line, written only by sluice-certs and read back by a strict parser
 * (sluice-certs(8), FILES):
 *
 *   # comment
 *   format 1
 *   crl-number 3
 *   cert SERIAL ISSUED EXPIRES REVOKED KIND NAME
 *
 * SERIAL is the certificate's serial number in lower-case hex (its DER bytes, 1 to 21),
 * ISSUED and EXPIRES its validity, REVOKED "-" or the time it was revoked, all three
 * written 2026-11-22T06:14:00Z (UTC); KIND is ca, server, client or other (a certificate
 * of this CA revoked by file and not found in the state); NAME is the rest of the line:
 * the common name, 1 to 255 bytes of UTF-8 without control characters or spaces at either
 * end. Fields are separated by one space; no serial appears twice. */
#ifndef SLUICE_CERTS_STATE_H
#define SLUICE_CERTS_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <talloc.h>
#include <time.h>

#define CERTS_SERIAL_MAX     21
#define CERTS_NAME_MAX       255
#define CERTS_STATE_MAX_LINE 1024
#define CERTS_STATE_MAX_FILE (16u * 1024 * 1024)
#define CERTS_TIME_LEN       20 /* "2026-11-22T06:14:00Z" */

enum certs_kind { CERTS_KIND_CA, CERTS_KIND_SERVER, CERTS_KIND_CLIENT, CERTS_KIND_OTHER };

struct certs_entry {
	uint8_t serial[CERTS_SERIAL_MAX];
	size_t serial_len;
	time_t issued, expires;
	bool revoked;
	time_t revoked_at;
	enum certs_kind kind;
	char *name;
	unsigned line; /* where the parser found it; 0 for an entry added since */
};

struct certs_state {
	uint64_t crl_number;
	size_t n, cap;
	struct certs_entry *entries;
};

struct certs_state *certs_state_new(TALLOC_CTX *ctx);

/* Parses a whole file. 0 with *out, or -EINVAL with "path:line: reason" in err, or
 * -ENOMEM / -EFBIG (larger than CERTS_STATE_MAX_FILE). */
int certs_state_parse(TALLOC_CTX *ctx, const char *path, const char *buf, size_t len,
		      struct certs_state **out, char *err, size_t errlen);

/* The file's text (NUL-terminated, *len without the NUL), or NULL when out of memory. */
char *certs_state_format(TALLOC_CTX *ctx, const struct certs_state *st, size_t *len);

struct certs_entry *certs_state_find(const struct certs_state *st, const uint8_t *serial,
				     size_t serial_len);

/* Appends a copy of e (its name copied under st). -EEXIST when the serial is there
 * already, -EINVAL for an entry the parser would refuse, -ENOMEM. */
int certs_state_add(struct certs_state *st, const struct certs_entry *e);

const char *certs_kind_name(enum certs_kind kind);

/* "2026-11-22T06:14:00Z" (len bytes, no NUL needed): 0 or -EINVAL. */
int certs_time_parse(const char *s, size_t len, time_t *t);
/* Writes CERTS_TIME_LEN characters and a NUL; -EINVAL for a time before 1970 or after
 * 9999. */
int certs_time_format(time_t t, char buf[CERTS_TIME_LEN + 1]);

/* Lower-case hex of a serial: 2 * len characters and a NUL. */
void certs_serial_hex(const uint8_t *serial, size_t len, char *out);
/* Hex digits, either case, optionally in pairs separated by ':' (as certtool and
 * openssl print them): 0 with the bytes, or -EINVAL. */
int certs_serial_parse(const char *s, uint8_t serial[CERTS_SERIAL_MAX], size_t *len);

/* A NAME field: 1 to CERTS_NAME_MAX bytes of valid UTF-8, no control character, no
 * space at either end. */
bool certs_name_ok(const char *s, size_t len);

#endif
