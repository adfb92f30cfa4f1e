/* The one-time password users file of oath-toolkit, as ocserv reads it with
 * plain[otp=FILE]: one token per line,
 *
 *   TYPE  USER  PIN  SECRET  [COUNTER  [LAST-OTP  [LAST-TIME]]]
 *
 * TYPE is HOTP, HOTP/E, HOTP/E/6|7|8 (counter based) or HOTP/T30, HOTP/T60 with an
 * optional /6|7|8 (time based, 30 or 60 s steps); PIN is "-", "+" or a PIN, which sluice
 * ignores as ocserv does (the password comes from passwd=); SECRET is the key in hex.
 * The last three fields are the state written back after each login: for HOTP the
 * counter of the last code used, for TOTP the time step of the last code used; the code
 * itself; the local time (2024-01-31T12:00:00L). Blank lines and lines starting with
 * '#' are comments.
 *
 * sec's OTP helper reads the file at every code, so the parser sees whatever the file
 * holds: it is bounded, keeps every line it does not understand as it was (and says
 * which, by file and line), and rewrites only the line of the user who logged in. */
#ifndef SLUICE_OTPFILE_H
#define SLUICE_OTPFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <talloc.h>

#define OTPFILE_MAX_SIZE   (1024 * 1024) /* bytes of the whole file */
#define OTPFILE_MAX_LINE   1024          /* bytes of one line */
#define OTPFILE_MAX_SECRET 64            /* bytes of a key */
#define OTPFILE_MAX_USER   255
#define OTPFILE_MAX_PIN    128 /* so that a token written back always fits a line */

struct otp_entry {
	unsigned line;    /* 1-based line number in the file */
	const char *type; /* as written: "HOTP/T30" */
	const char *user;
	const char *pin;
	const char *secret_hex; /* as written */
	uint8_t secret[OTPFILE_MAX_SECRET];
	size_t secret_len;
	unsigned digits;      /* 6, 7 or 8 */
	unsigned step;        /* TOTP: 30 or 60 seconds; 0: HOTP */
	bool has_counter;
	uint64_t counter;
	const char *last_otp;  /* NULL: no code was used yet */
	const char *last_time; /* NULL: none */
	bool changed;          /* rendered from the fields, not from the line as read */
};

struct otp_file {
	char **lines; /* every line as read, without its newline (NUL-terminated, but a bad
		       * line may hold a NUL byte: line_len counts) */
	size_t *line_len;
	size_t n_lines;
	struct otp_entry *entries; /* the lines that are tokens */
	size_t n_entries;
	size_t *entry_of_line; /* index into entries + 1, 0 for other lines */
};

/* Told about each line that is neither a token nor a comment: "NAME:LINE: why". */
typedef void (*otpfile_problem_fn)(void *data, const char *problem);

/* Parses TEXT (LEN bytes, any content) read from the file called NAME (for messages).
 * Lines that are not valid are kept as they are and reported through problem (may be
 * NULL), and so is a second token of the same user (the first counts). *out is under
 * ctx. 0, -EMSGSIZE for a text above OTPFILE_MAX_SIZE, or -ENOMEM. */
int otpfile_parse(TALLOC_CTX *ctx, const char *name, const uint8_t *text, size_t len,
		  struct otp_file **out, otpfile_problem_fn problem, void *data);

/* Reads and parses the file at path (a regular file of at most OTPFILE_MAX_SIZE bytes).
 * 0, or a negative errno (err set). */
int otpfile_read(TALLOC_CTX *ctx, const char *path, struct otp_file **out,
		 otpfile_problem_fn problem, void *data, char *err, size_t errlen);

/* The token of user, or NULL. */
struct otp_entry *otpfile_find(struct otp_file *f, const char *user);

/* The file's text with each changed token written from its fields, every other line as
 * it was read, byte for byte; every line ends with a newline. *len (may be NULL) is its
 * length: a bad line may hold a NUL byte. NULL when out of memory. */
char *otpfile_render(TALLOC_CTX *ctx, const struct otp_file *f, size_t *len);

/* For sluiced -t and start-up: reads the file and reports each bad line. The number
 * of bad lines, or a negative errno (the file cannot be read; err set). */
int otpfile_check(const char *path, otpfile_problem_fn problem, void *data, char *err,
		  size_t errlen);

#endif
