/* Password files in the ocpasswd format: one "user:group[,group...]:crypt-hash" line per
 * user, "*" (or nothing) for no group, a '!' before the hash locks the account. Blank
 * lines and lines starting with '#' are skipped. Used by the sec module (plain auth) and
 * by sluice-passwd. */
#ifndef SLUICE_PASSWD_H
#define SLUICE_PASSWD_H

#include <stdbool.h>
#include <stddef.h>
#include <talloc.h>

#define PASSWD_MAX_FILE     (16u * 1024 * 1024)
#define PASSWD_MAX_LINE     4096
#define PASSWD_MAX_USER     255
#define PASSWD_MAX_GROUP    255
#define PASSWD_MAX_GROUPS   64
#define PASSWD_MAX_HASH     383 /* CRYPT_OUTPUT_SIZE - 1 */
#define PASSWD_MAX_PASSWORD 1024

struct passwd_entry {
	char *user;
	char **groups; /* n_groups names, no "*" */
	size_t n_groups;
	char *hash; /* without the lock marker */
	bool locked;
};

/* Parses one entry line (without its newline) into out, allocated under ctx.
 * Returns 0 or -EINVAL; out is untouched on error. */
int passwd_parse_line(TALLOC_CTX *ctx, const char *line, size_t len, struct passwd_entry *out);

/* Returns NULL when line is a well-formed entry line, otherwise why it is not. */
const char *passwd_check_line(const char *line, size_t len);

/* Reads a whole password file (regular file, at most PASSWD_MAX_FILE bytes) from fd
 * into a NUL-terminated buffer under ctx. path is only used in messages. */
int passwd_read_fd(TALLOC_CTX *ctx, int fd, const char *path, char **buf, size_t *len, char *err,
		   size_t errlen);

/* Called for every line of a file, 1-based lineno, line without "\n" or "\r\n".
 * user/user_len name the entry, user is NULL for blank and comment lines.
 * A negative return stops the scan and is returned by passwd_scan. */
typedef int (*passwd_line_fn)(void *arg, unsigned lineno, const char *line, size_t len,
			      const char *user, size_t user_len);

/* Checks every line of buf and calls fn for each. A malformed line stops the scan with
 * -EINVAL and "PATH:LINE: reason" in err, before fn sees it. */
int passwd_scan(const char *path, const char *buf, size_t len, passwd_line_fn fn, void *arg,
		char *err, size_t errlen);

/* Reads path (on every call, so edits apply at once) and looks user up.
 * 0: found, out filled under ctx. -ENOENT: no such user (err is empty).
 * Any other negative errno: the file is unusable and err says why ("PATH: ..." or
 * "PATH:LINE: ..."). A malformed line anywhere in the file fails every lookup: it may be
 * the entry of the very user asked for, so no answer from the rest of the file is
 * trusted. A user listed twice is an error for that user. */
int passwd_lookup(TALLOC_CTX *ctx, const char *path, const char *user, struct passwd_entry *out,
		  char *err, size_t errlen);

/* 0 when password matches e->hash and e is not locked; -EACCES for a wrong password, a
 * locked entry or a password longer than PASSWD_MAX_PASSWORD; -EINVAL when libcrypt
 * cannot use the hash; -ENOMEM. Takes the same time for locked and unlocked entries. */
int passwd_verify(const struct passwd_entry *e, const char *password);

/* passwd_verify() for a bare crypt(5) hash (no lock marker): 0 when password matches,
 * -EACCES when it does not or is longer than PASSWD_MAX_PASSWORD, -EINVAL when libcrypt
 * cannot use the hash, -ENOMEM. What sec's auth helpers run for plain auth. */
int passwd_verify_hash(const char *hash, const char *password);

/* The hash passwd_verify_dummy() works with (see there), for a process that hashes
 * elsewhere: "" when libcrypt makes no setting at all. */
const char *passwd_dummy_hash(void);

/* Spends about the time of passwd_verify() for an unknown user, so that timing does not
 * tell which users exist. It hashes with the first hash of the file most recently read
 * by passwd_lookup() (same algorithm and cost as the file's users), or with a built-in
 * yescrypt setting before any file was read. */
void passwd_verify_dummy(const char *password);

#endif
