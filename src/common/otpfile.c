#include "config.h"

#include "common/otpfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/text.h"

#define MAX_FIELDS 7

static void report(otpfile_problem_fn problem, void *data, const char *name, unsigned line,
		   const char *why)
{
	char text[PATH_MAX + 256];

	if (!problem)
		return;
	snprintf(text, sizeof(text), "%s:%u: %s", name, line, why);
	problem(data, text);
}

/* TYPE: HOTP, HOTP/E, HOTP/E/N, HOTP/T30, HOTP/T30/N, HOTP/T60, HOTP/T60/N (N: 6-8). */
static bool parse_type(const char *t, unsigned *digits, unsigned *step)
{
	const char *rest;

	*digits = 6;
	*step = 0;
	if (strcmp(t, "HOTP") == 0 || strcmp(t, "HOTP/E") == 0)
		return true;
	if (strncmp(t, "HOTP/E/", 7) == 0)
		rest = t + 6;
	else if (strncmp(t, "HOTP/T30", 8) == 0 || strncmp(t, "HOTP/T60", 8) == 0) {
		*step = t[6] == '3' ? 30 : 60;
		rest = t + 8;
		if (!*rest)
			return true;
	} else
		return false;
	if (rest[0] != '/' || rest[1] < '6' || rest[1] > '8' || rest[2])
		return false;
	*digits = (unsigned)(rest[1] - '0');
	return true;
}

static bool parse_secret(const char *hex, uint8_t *out, size_t *len)
{
	size_t n = strlen(hex);

	if (n == 0 || n % 2 || n / 2 > OTPFILE_MAX_SECRET)
		return false;
	for (size_t i = 0; i < n / 2; i++) {
		int hi = text_hex_digit((unsigned char)hex[2 * i]),
		    lo = text_hex_digit((unsigned char)hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	*len = n / 2;
	return true;
}

static bool parse_counter(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s || strlen(s) > 20)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return true;
}

static bool all_digits(const char *s, size_t min, size_t max)
{
	size_t n = strlen(s);

	if (n < min || n > max)
		return false;
	return strspn(s, "0123456789") == n;
}

/* 2024-01-31T12:00:00L, as liboath writes it. */
static bool is_time(const char *s)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:ddL";

	if (strlen(s) != sizeof(shape) - 1)
		return false;
	for (size_t i = 0; shape[i]; i++) {
		if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i])
			return false;
	}
	return true;
}

/* Splits a copy of the line into whitespace-separated fields; NULL (why set) when it is
 * not a token. */
static const char *parse_line(TALLOC_CTX *ctx, const char *raw, size_t len, struct otp_entry *e)
{
	char *copy, *save = NULL, *f[MAX_FIELDS + 1];
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)raw[i];

		if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f)
			return "control character in the line";
	}
	copy = talloc_strndup(ctx, raw, len);
	if (!copy)
		return "out of memory";
	for (char *t = strtok_r(copy, " \t\r", &save); t; t = strtok_r(NULL, " \t\r", &save)) {
		if (n == MAX_FIELDS)
			return "too many fields (TYPE USER PIN SECRET [COUNTER [LAST-OTP [LAST-TIME]]])";
		f[n++] = t;
	}
	if (n < 4)
		return "too few fields (TYPE USER PIN SECRET [COUNTER [LAST-OTP [LAST-TIME]]])";
	if (!parse_type(f[0], &e->digits, &e->step))
		return "unknown token type (HOTP, HOTP/E[/6-8], HOTP/T30[/6-8], HOTP/T60[/6-8])";
	if (strlen(f[1]) > OTPFILE_MAX_USER)
		return "user name too long";
	if (strlen(f[2]) > OTPFILE_MAX_PIN)
		return "PIN too long";
	if (!parse_secret(f[3], e->secret, &e->secret_len))
		return "the secret is not 1 to 64 bytes in hex";
	if (n > 4 && !(e->has_counter = parse_counter(f[4], &e->counter)))
		return "the counter is not a number";
	if (n > 5 && !all_digits(f[5], 6, 8))
		return "the last one-time password is not 6 to 8 digits";
	if (n > 6 && !is_time(f[6]))
		return "the last time is not YYYY-MM-DDTHH:MM:SSL";
	e->type = f[0];
	e->user = f[1];
	e->pin = f[2];
	e->secret_hex = f[3];
	e->last_otp = n > 5 ? f[5] : NULL;
	e->last_time = n > 6 ? f[6] : NULL;
	return NULL;
}

static bool is_comment(const char *raw, size_t len)
{
	size_t i = 0;

	while (i < len && (raw[i] == ' ' || raw[i] == '\t' || raw[i] == '\r'))
		i++;
	return i == len || raw[i] == '#';
}

int otpfile_parse(TALLOC_CTX *ctx, const char *name, const uint8_t *text, size_t len,
		  struct otp_file **out, otpfile_problem_fn problem, void *data)
{
	struct otp_file *f;
	size_t n_lines = 0, pos;

	if (len > OTPFILE_MAX_SIZE)
		return -EMSGSIZE;
	for (size_t i = 0; i < len; i++)
		n_lines += text[i] == '\n';
	if (len && text[len - 1] != '\n')
		n_lines++;
	f = talloc_zero(ctx, struct otp_file);
	if (!f || !(f->lines = talloc_zero_array(f, char *, n_lines + 1)) ||
	    !(f->line_len = talloc_zero_array(f, size_t, n_lines + 1)) ||
	    !(f->entries = talloc_zero_array(f, struct otp_entry, n_lines + 1)) ||
	    !(f->entry_of_line = talloc_zero_array(f, size_t, n_lines + 1))) {
		talloc_free(f);
		return -ENOMEM;
	}
	for (pos = 0; pos < len; f->n_lines++) {
		const uint8_t *nl = memchr(text + pos, '\n', len - pos);
		size_t l = nl ? (size_t)(nl - text) - pos : len - pos;
		const char *raw = (const char *)text + pos;
		unsigned line = (unsigned)f->n_lines + 1;
		struct otp_entry *e = &f->entries[f->n_entries];
		const char *why = NULL;

		/* Kept byte for byte (a NUL too), so that a rewrite changes only one line. */
		f->lines[f->n_lines] = talloc_size(f->lines, l + 1);
		if (!f->lines[f->n_lines])
			goto nomem;
		memcpy(f->lines[f->n_lines], raw, l);
		f->lines[f->n_lines][l] = '\0';
		f->line_len[f->n_lines] = l;
		pos += l + 1;
		if (memchr(raw, '\0', l))
			why = "NUL byte in the line";
		else if (l > OTPFILE_MAX_LINE)
			why = "line too long";
		else if (is_comment(raw, l))
			continue;
		if (!why)
			why = parse_line(f->entries, raw, l, e);
		if (why) {
			memset(e, 0, sizeof(*e));
			report(problem, data, name, line, why);
			continue;
		}
		if (otpfile_find(f, e->user)) {
			char dup[128];

			snprintf(dup, sizeof(dup), "a second token of user '%.64s'; only the first counts",
				 e->user);
			report(problem, data, name, line, dup);
			memset(e, 0, sizeof(*e));
			continue;
		}
		e->line = line;
		f->n_entries++;
		f->entry_of_line[f->n_lines] = f->n_entries;
	}
	*out = f;
	return 0;
nomem:
	talloc_free(f);
	return -ENOMEM;
}

struct otp_entry *otpfile_find(struct otp_file *f, const char *user)
{
	for (size_t i = 0; i < f->n_entries; i++)
		if (strcmp(f->entries[i].user, user) == 0)
			return &f->entries[i];
	return NULL;
}

/* A changed token's line, tab-separated as liboath writes it. */
static char *token_line(TALLOC_CTX *ctx, const struct otp_entry *e)
{
	char *out = talloc_asprintf(ctx, "%s\t%s\t%s\t%s\t%llu", e->type, e->user, e->pin,
				    e->secret_hex, (unsigned long long)e->counter);

	if (out && e->last_otp)
		out = talloc_asprintf_append_buffer(out, "\t%s", e->last_otp);
	if (out && e->last_otp && e->last_time)
		out = talloc_asprintf_append_buffer(out, "\t%s", e->last_time);
	return out;
}

char *otpfile_render(TALLOC_CTX *ctx, const struct otp_file *f, size_t *len)
{
	TALLOC_CTX *tmp = talloc_new(ctx);
	const char **text = tmp ? talloc_array(tmp, const char *, f->n_lines + 1) : NULL;
	size_t *tlen = tmp ? talloc_array(tmp, size_t, f->n_lines + 1) : NULL;
	size_t total = 0, pos = 0;
	char *out = NULL;

	if (!text || !tlen)
		goto out;
	for (size_t i = 0; i < f->n_lines; i++) {
		const struct otp_entry *e =
		    f->entry_of_line[i] ? &f->entries[f->entry_of_line[i] - 1] : NULL;

		if (e && e->changed) {
			char *l = token_line(tmp, e);

			if (!l)
				goto out;
			text[i] = l;
			tlen[i] = strlen(l);
		} else {
			text[i] = f->lines[i];
			tlen[i] = f->line_len[i];
		}
		total += tlen[i] + 1;
	}
	out = talloc_size(ctx, total + 1);
	if (!out)
		goto out;
	for (size_t i = 0; i < f->n_lines; i++) {
		memcpy(out + pos, text[i], tlen[i]);
		pos += tlen[i];
		out[pos++] = '\n';
	}
	out[pos] = '\0';
	if (len)
		*len = pos;
out:
	talloc_free(tmp);
	return out;
}

int otpfile_read(TALLOC_CTX *ctx, const char *path, struct otp_file **out,
		 otpfile_problem_fn problem, void *data, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK), ret = 0;
	uint8_t *buf = NULL;
	struct stat st;
	size_t have = 0;

	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return ret;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		ret = -EINVAL;
		goto out;
	}
	/* One byte more than allowed: a file that grew past the limit is seen to. */
	buf = talloc_size(ctx, OTPFILE_MAX_SIZE + 1);
	if (!buf) {
		ret = -ENOMEM;
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, buf + have, OTPFILE_MAX_SIZE + 1 - have);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		have += (size_t)n;
		if (have > OTPFILE_MAX_SIZE) {
			snprintf(err, errlen, "%s: larger than %d bytes", path, OTPFILE_MAX_SIZE);
			ret = -EMSGSIZE;
			goto out;
		}
	}
	ret = otpfile_parse(ctx, path, buf, have, out, problem, data);
	if (ret < 0)
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
out:
	if (buf) {
		/* The secrets were in it. */
		explicit_bzero(buf, have);
		talloc_free(buf);
	}
	close(fd);
	return ret;
}

struct check_count {
	otpfile_problem_fn problem;
	void *data;
	int n;
};

static void count_problem(void *data, const char *text)
{
	struct check_count *c = data;

	c->n++;
	if (c->problem)
		c->problem(c->data, text);
}

int otpfile_check(const char *path, otpfile_problem_fn problem, void *data, char *err,
		  size_t errlen)
{
	struct check_count c = {problem, data, 0};
	struct otp_file *f = NULL;
	TALLOC_CTX *tmp = talloc_new(NULL);
	int ret = tmp ? otpfile_read(tmp, path, &f, count_problem, &c, err, errlen) : -ENOMEM;

	talloc_free(tmp);
	return ret < 0 ? ret : c.n;
}
