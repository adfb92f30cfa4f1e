#include "config.h"
#include "common/passwd.h"

#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

_Static_assert(PASSWD_MAX_HASH == CRYPT_OUTPUT_SIZE - 1, "hash bound follows libcrypt");

struct fields {
	const char *user;
	size_t user_len;
	const char *groups;
	size_t groups_len;
	const char *hash;
	size_t hash_len;
	bool locked;
};

/* The hash passwd_verify_dummy() works with: the first hash of the last file read, so
 * that an unknown user costs what the file's users cost. The sec module is single
 * threaded, so plain statics are enough. */
static char dummy_from_file[PASSWD_MAX_HASH + 1];
static char dummy_builtin[CRYPT_GENSALT_OUTPUT_SIZE];

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static bool has_ctl(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			return true;
	}
	return false;
}

static void trim_spaces(const char **s, size_t *len)
{
	while (*len > 0 && (*s)[0] == ' ') {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && (*s)[*len - 1] == ' ')
		(*len)--;
}

/* "" and "*" both mean "no group": ocpasswd writes "*", hand-written files use "". */
static bool no_groups(const char *s, size_t len)
{
	return len == 0 || (len == 1 && s[0] == '*');
}

/* Yields the group at *pos, trimmed of spaces as ocserv does, and moves past its comma;
 * false once the field is used up. */
static bool next_group(const char *s, size_t len, size_t *pos, const char **g, size_t *glen)
{
	const char *start, *comma;
	size_t n;

	if (*pos > len)
		return false;
	start = s + *pos;
	comma = memchr(start, ',', len - *pos);
	n = comma ? (size_t)(comma - start) : len - *pos;
	*pos += n + 1;
	*g = start;
	*glen = n;
	trim_spaces(g, glen);
	return true;
}

static const char *check_user(const char *s, size_t len)
{
	if (len == 0)
		return "empty user name";
	if (len > PASSWD_MAX_USER)
		return "user name too long";
	if (has_ctl(s, len))
		return "control character in user name";
	if (s[0] == ' ' || s[len - 1] == ' ')
		return "user name starts or ends with a space";
	if (s[0] == '#')
		return "user name starts with '#'";
	return NULL;
}

static const char *check_groups(const char *s, size_t len)
{
	const char *g;
	size_t glen, pos = 0, n = 0;

	if (no_groups(s, len))
		return NULL;
	while (next_group(s, len, &pos, &g, &glen)) {
		if (glen == 0)
			return "empty group name in group list";
		if (glen == 1 && g[0] == '*')
			return "'*' (no group) inside a group list";
		if (glen > PASSWD_MAX_GROUP)
			return "group name too long";
		if (has_ctl(g, glen))
			return "control character in group name";
		if (++n > PASSWD_MAX_GROUPS)
			return "too many groups";
	}
	return NULL;
}

static const char *check_hash(const char *s, size_t len)
{
	if (len == 0)
		return "empty password hash";
	if (len > PASSWD_MAX_HASH)
		return "password hash too long";
	if (s[0] == '!')
		return "more than one '!' before the password hash";
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c >= 0x7f)
			return "space, control or non-ASCII character in password hash";
	}
	return NULL;
}

static const char *split_line(const char *line, size_t len, struct fields *f)
{
	const char *c1, *c2, *why;

	if (len > PASSWD_MAX_LINE)
		return "line too long";
	c1 = memchr(line, ':', len);
	if (c1 == NULL)
		return "expected user:group:hash, found no ':'";
	c2 = memchr(c1 + 1, ':', len - (size_t)(c1 + 1 - line));
	if (c2 == NULL)
		return "expected user:group:hash, found only two fields";
	if (memchr(c2 + 1, ':', len - (size_t)(c2 + 1 - line)) != NULL)
		return "expected user:group:hash, found more than three fields";

	f->user = line;
	f->user_len = (size_t)(c1 - line);
	f->groups = c1 + 1;
	f->groups_len = (size_t)(c2 - f->groups);
	f->hash = c2 + 1;
	f->hash_len = len - (size_t)(f->hash - line);
	f->locked = f->hash_len > 0 && f->hash[0] == '!';
	if (f->locked) {
		f->hash++;
		f->hash_len--;
	}

	why = check_user(f->user, f->user_len);
	if (why == NULL)
		why = check_groups(f->groups, f->groups_len);
	if (why == NULL)
		why = check_hash(f->hash, f->hash_len);
	return why;
}

const char *passwd_check_line(const char *line, size_t len)
{
	struct fields f;

	return split_line(line, len, &f);
}

static int fill_entry(TALLOC_CTX *ctx, const struct fields *f, struct passwd_entry *out)
{
	TALLOC_CTX *tmp = talloc_new(ctx);
	struct passwd_entry e = {.locked = f->locked};
	const char *g;
	size_t glen, pos = 0;
	int ret = -ENOMEM;

	if (tmp == NULL)
		return -ENOMEM;
	e.user = talloc_strndup(tmp, f->user, f->user_len);
	e.hash = talloc_strndup(tmp, f->hash, f->hash_len);
	if (e.user == NULL || e.hash == NULL)
		goto out;
	if (!no_groups(f->groups, f->groups_len)) {
		e.groups = talloc_zero_array(tmp, char *, PASSWD_MAX_GROUPS);
		if (e.groups == NULL)
			goto out;
		while (next_group(f->groups, f->groups_len, &pos, &g, &glen)) {
			e.groups[e.n_groups] = talloc_strndup(e.groups, g, glen);
			if (e.groups[e.n_groups] == NULL)
				goto out;
			e.n_groups++;
		}
	}
	talloc_steal(ctx, e.user);
	talloc_steal(ctx, e.hash);
	talloc_steal(ctx, e.groups);
	*out = e;
	ret = 0;
out:
	talloc_free(tmp);
	return ret;
}

int passwd_parse_line(TALLOC_CTX *ctx, const char *line, size_t len, struct passwd_entry *out)
{
	struct fields f;

	if (line == NULL || split_line(line, len, &f) != NULL)
		return -EINVAL;
	return fill_entry(ctx, &f, out);
}

int passwd_read_fd(TALLOC_CTX *ctx, int fd, const char *path, char **bufp, size_t *lenp, char *err,
		   size_t errlen)
{
	struct stat st;
	char *buf, *bigger;
	size_t cap, len = 0;
	ssize_t n;
	int ret;

	if (fstat(fd, &st) < 0) {
		ret = -errno;
		set_err(err, errlen, "%s: %s", path, strerror(-ret));
		return ret;
	}
	if (!S_ISREG(st.st_mode)) {
		set_err(err, errlen, "%s: not a regular file", path);
		return -EINVAL;
	}
	if (st.st_size > (off_t)PASSWD_MAX_FILE) {
		set_err(err, errlen, "%s: larger than %u bytes", path, PASSWD_MAX_FILE);
		return -EFBIG;
	}
	/* One byte more than the size seen, to notice a file that grew meanwhile. */
	cap = (size_t)st.st_size + 1;
	buf = talloc_size(ctx, cap + 1);
	if (buf == NULL)
		return -ENOMEM;
	for (;;) {
		if (len == cap) {
			if (cap > PASSWD_MAX_FILE) {
				set_err(err, errlen, "%s: larger than %u bytes", path,
					PASSWD_MAX_FILE);
				ret = -EFBIG;
				goto fail;
			}
			cap = cap * 2 > PASSWD_MAX_FILE + 1 ? PASSWD_MAX_FILE + 1 : cap * 2;
			bigger = talloc_realloc_size(ctx, buf, cap + 1);
			if (bigger == NULL) {
				ret = -ENOMEM;
				goto fail;
			}
			buf = bigger;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			set_err(err, errlen, "%s: %s", path, strerror(-ret));
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*bufp = buf;
	*lenp = len;
	return 0;
fail:
	talloc_free(buf);
	return ret;
}

static bool is_blank(const char *line, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (line[i] != ' ' && line[i] != '\t')
			return false;
	}
	return true;
}

int passwd_scan(const char *path, const char *buf, size_t len, passwd_line_fn fn, void *arg,
		char *err, size_t errlen)
{
	size_t off = 0;
	unsigned lineno = 0;
	struct fields f;
	const char *why;
	int ret;

	while (off < len) {
		const char *line = buf + off;
		const char *nl = memchr(line, '\n', len - off);
		size_t llen = nl ? (size_t)(nl - line) : len - off;

		off += llen + (nl ? 1 : 0);
		lineno++;
		/* CRLF files come from editors on other systems; the CR is part of the
		 * line ending, not of the hash. */
		if (llen > 0 && line[llen - 1] == '\r')
			llen--;
		if (is_blank(line, llen) || line[0] == '#') {
			ret = fn(arg, lineno, line, llen, NULL, 0);
		} else {
			why = split_line(line, llen, &f);
			if (why != NULL) {
				set_err(err, errlen, "%s:%u: %s", path, lineno, why);
				return -EINVAL;
			}
			ret = fn(arg, lineno, line, llen, f.user, f.user_len);
		}
		if (ret < 0)
			return ret;
	}
	return 0;
}

struct lookup_state {
	const char *user;
	size_t user_len;
	bool dummy_taken;
	const char *line;
	size_t line_len;
	unsigned lineno;
	unsigned dup_lineno;
};

static int lookup_on_line(void *arg, unsigned lineno, const char *line, size_t len,
			  const char *user, size_t user_len)
{
	struct lookup_state *st = arg;
	struct fields f;

	if (user == NULL)
		return 0;
	if (!st->dummy_taken && split_line(line, len, &f) == NULL) {
		memcpy(dummy_from_file, f.hash, f.hash_len);
		dummy_from_file[f.hash_len] = '\0';
		st->dummy_taken = true;
	}
	if (user_len != st->user_len || memcmp(user, st->user, user_len) != 0)
		return 0;
	if (st->line != NULL) {
		st->dup_lineno = lineno;
		return -EEXIST;
	}
	st->line = line;
	st->line_len = len;
	st->lineno = lineno;
	return 0;
}

int passwd_lookup(TALLOC_CTX *ctx, const char *path, const char *user, struct passwd_entry *out,
		  char *err, size_t errlen)
{
	struct lookup_state st = {.user = user};
	struct fields f;
	char *buf = NULL;
	size_t len;
	int fd, ret;

	set_err(err, errlen, "%s", "");
	if (user == NULL)
		return -EINVAL;
	st.user_len = strnlen(user, PASSWD_MAX_USER + 1);

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		ret = errno;
		set_err(err, errlen, "%s: %s", path, strerror(ret));
		/* Not -ENOENT: that would read as "no such user" to the caller. */
		return ret == ENOENT ? -EIO : -ret;
	}
	ret = passwd_read_fd(NULL, fd, path, &buf, &len, err, errlen);
	close(fd);
	if (ret < 0)
		return ret;

	ret = passwd_scan(path, buf, len, lookup_on_line, &st, err, errlen);
	if (ret == -EEXIST) {
		set_err(err, errlen, "%s:%u: user '%s' listed again (first on line %u)", path,
			st.dup_lineno, user, st.lineno);
		ret = -EINVAL;
		goto out;
	}
	if (ret < 0)
		goto out;
	if (st.line == NULL) {
		ret = -ENOENT;
		goto out;
	}
	split_line(st.line, st.line_len, &f);
	ret = fill_entry(ctx, &f, out);
out:
	talloc_free(buf);
	return ret;
}

static bool equal_ct(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	volatile unsigned char diff = 0;

	/* The length depends only on the hash method, which is not secret. */
	if (la != lb)
		return false;
	for (size_t i = 0; i < la; i++)
		diff |= (unsigned char)(a[i] ^ b[i]);
	return diff == 0;
}

/* crypt_rn() signals failure with NULL or with a string starting with '*'. */
static const char *hash_with(struct crypt_data *cd, const char *password, const char *setting)
{
	const char *res = crypt_rn(password, setting, cd, sizeof(*cd));

	return res == NULL || res[0] == '*' ? NULL : res;
}

int passwd_verify_hash(const char *hash, const char *password)
{
	struct crypt_data *cd;
	const char *res;
	bool too_long;
	int ret;

	if (hash == NULL || password == NULL)
		return -EINVAL;
	cd = talloc_zero(NULL, struct crypt_data);
	if (cd == NULL)
		return -ENOMEM;
	/* A huge password would make SHA-crypt slow; hash an empty one instead so the
	 * answer still takes the usual time. */
	too_long = strnlen(password, PASSWD_MAX_PASSWORD + 1) > PASSWD_MAX_PASSWORD;
	res = hash_with(cd, too_long ? "" : password, hash);
	if (res == NULL)
		ret = -EINVAL;
	else if (!equal_ct(res, hash) || too_long)
		ret = -EACCES;
	else
		ret = 0;
	explicit_bzero(cd, sizeof(*cd));
	talloc_free(cd);
	return ret;
}

int passwd_verify(const struct passwd_entry *e, const char *password)
{
	int ret;

	if (e == NULL)
		return -EINVAL;
	ret = passwd_verify_hash(e->hash, password);
	return ret == 0 && e->locked ? -EACCES : ret;
}

/* The built-in setting, made once: "" when libcrypt makes none. */
static const char *builtin_setting(void)
{
	if (dummy_builtin[0] == '\0' &&
	    crypt_gensalt_rn("$y$", 0, NULL, 0, dummy_builtin, sizeof(dummy_builtin)) == NULL &&
	    crypt_gensalt_rn("$6$", 0, NULL, 0, dummy_builtin, sizeof(dummy_builtin)) == NULL)
		dummy_builtin[0] = '\0';
	return dummy_builtin;
}

const char *passwd_dummy_hash(void)
{
	return dummy_from_file[0] != '\0' ? dummy_from_file : builtin_setting();
}

void passwd_verify_dummy(const char *password)
{
	struct crypt_data *cd = talloc_zero(NULL, struct crypt_data);
	const char *pw = password;

	if (cd == NULL)
		return;
	if (pw == NULL || strnlen(pw, PASSWD_MAX_PASSWORD + 1) > PASSWD_MAX_PASSWORD)
		pw = "";
	if (dummy_from_file[0] == '\0' || hash_with(cd, pw, dummy_from_file) == NULL) {
		const char *setting = builtin_setting();

		if (setting[0] != '\0')
			hash_with(cd, pw, setting);
	}
	explicit_bzero(cd, sizeof(*cd));
	talloc_free(cd);
}
