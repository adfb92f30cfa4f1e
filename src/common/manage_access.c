/* The management API's access file: see manage_access.h for the format. */
#include "config.h"

#include "common/manage_access.h"

#include <errno.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/text.h"

static const char *const role_names[] = {[MANAGE_ROLE_READ] = "read",
					 [MANAGE_ROLE_ADMIN] = "admin"};

const char *manage_role_name(enum manage_role r)
{
	return r == MANAGE_ROLE_READ || r == MANAGE_ROLE_ADMIN ? role_names[r] : "none";
}

enum manage_role manage_role_parse(const char *w)
{
	if (strcmp(w, "read") == 0)
		return MANAGE_ROLE_READ;
	if (strcmp(w, "admin") == 0)
		return MANAGE_ROLE_ADMIN;
	return MANAGE_ROLE_NONE;
}

bool manage_name_valid(const char *s, size_t len)
{
	if (len == 0 || len > MANAGE_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-' || c == '@'))
			return false;
	}
	return true;
}

/* A common name as a certificate may carry it, printable ASCII without the characters
 * that would need quoting in a log line. */
static bool cn_valid(const char *s, size_t len)
{
	if (len == 0 || len > MANAGE_CN_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e || s[i] == '"' ||
		    s[i] == '\\')
			return false;
	return true;
}

static bool hex_hash(const char *s, size_t len, uint8_t out[32])
{
	if (len != 7 + 64 || memcmp(s, "sha256:", 7) != 0)
		return false;
	for (size_t i = 0; i < 32; i++) {
		int hi = text_hex_digit((unsigned char)s[7 + 2 * i]);
		int lo = text_hex_digit((unsigned char)s[8 + 2 * i]);

		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

/* The next field of [*p, end): skips blanks, returns its start and sets *flen. */
static const char *field(const char **p, const char *end, size_t *flen)
{
	const char *s = *p, *f;

	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	f = s;
	while (s < end && *s != ' ' && *s != '\t')
		s++;
	*flen = (size_t)(s - f);
	*p = s;
	return f;
}

static int parse_line(TALLOC_CTX *ctx, const char *p, const char *end, struct manage_grant *g,
		      const char **why)
{
	size_t klen, rlen, nlen;
	const char *kind = field(&p, end, &klen), *role = field(&p, end, &rlen), *name;
	char rw[8];

	if (klen == 5 && memcmp(kind, "token", 5) == 0)
		g->kind = MANAGE_GRANT_TOKEN;
	else if (klen == 4 && memcmp(kind, "cert", 4) == 0)
		g->kind = MANAGE_GRANT_CERT;
	else
		return *why = "expected \"token\" or \"cert\"", -EINVAL;
	snprintf(rw, sizeof(rw), "%.*s", (int)(rlen < 7 ? rlen : 7), role);
	g->role = rlen < 7 ? manage_role_parse(rw) : MANAGE_ROLE_NONE;
	if (g->role == MANAGE_ROLE_NONE)
		return *why = "the role must be \"read\" or \"admin\"", -EINVAL;
	if (g->kind == MANAGE_GRANT_CERT) {
		/* The rest of the line, trimmed: a common name may hold spaces. */
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		if (!cn_valid(p, (size_t)(end - p)))
			return *why = "expected a certificate's common name (printable, at most 200)",
			       -EINVAL;
		g->name = talloc_strndup(ctx, p, (size_t)(end - p));
		return g->name ? 0 : -ENOMEM;
	}
	name = field(&p, end, &nlen);
	if (!manage_name_valid(name, nlen))
		return *why = "expected a token name (letters, digits, . _ - @; at most 64)", -EINVAL;
	{
		size_t hlen, restlen;
		const char *h = field(&p, end, &hlen);

		if (!hex_hash(h, hlen, g->hash))
			return *why = "expected sha256: and 64 hex digits after the name", -EINVAL;
		field(&p, end, &restlen);
		if (restlen)
			return *why = "unexpected text after the hash", -EINVAL;
	}
	g->name = talloc_strndup(ctx, name, nlen);
	return g->name ? 0 : -ENOMEM;
}

static bool duplicate(const struct manage_access *a, const struct manage_grant *g)
{
	for (size_t i = 0; i < a->n; i++)
		if (a->grants[i].kind == g->kind && strcmp(a->grants[i].name, g->name) == 0)
			return true;
	return false;
}

int manage_access_parse(TALLOC_CTX *ctx, const char *text, size_t len,
			struct manage_access **out, char *err, size_t errlen)
{
	struct manage_access *a = talloc_zero(ctx, struct manage_access);
	const char *p = text, *end = text + len;
	unsigned line = 0;

	if (!a)
		return -ENOMEM;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *e = nl ? nl : end, *q = p;
		const char *why = NULL;
		struct manage_grant g = {0};
		int ret;

		line++;
		if (memchr(p, '\0', (size_t)(e - p))) {
			snprintf(err, errlen, "line %u: a NUL byte", line);
			goto bad;
		}
		if (e > p && e[-1] == '\r')
			e--;
		while (q < e && (*q == ' ' || *q == '\t'))
			q++;
		if (q < e && *q != '#') {
			if (a->n >= MANAGE_GRANTS_MAX) {
				snprintf(err, errlen, "line %u: more than %d grants", line,
					 MANAGE_GRANTS_MAX);
				goto bad;
			}
			ret = parse_line(a, q, e, &g, &why);
			if (ret == -ENOMEM) {
				talloc_free(a);
				return ret;
			}
			if (ret < 0) {
				snprintf(err, errlen, "line %u: %s", line, why);
				goto bad;
			}
			if (duplicate(a, &g)) {
				snprintf(err, errlen, "line %u: %s \"%s\" is granted twice", line,
					 g.kind == MANAGE_GRANT_TOKEN ? "token" : "certificate",
					 g.name);
				goto bad;
			}
			if (!(a->n % 16)) {
				struct manage_grant *n =
				    talloc_realloc(a, a->grants, struct manage_grant, a->n + 16);

				if (!n) {
					talloc_free(a);
					return -ENOMEM;
				}
				a->grants = n;
			}
			a->grants[a->n++] = g;
		}
		p = nl ? nl + 1 : end;
	}
	*out = a;
	return 0;
bad:
	talloc_free(a);
	return -EINVAL;
}

int manage_access_load(TALLOC_CTX *ctx, const char *path, struct manage_access **out,
		       char *err, size_t errlen)
{
	struct stat st;
	char *buf = NULL, why[256];
	ssize_t n;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), ret;

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
	if (st.st_uid != 0 || (st.st_mode & 077)) {
		snprintf(err, errlen,
			 "%s: must be root's and not readable or writable by group or others "
			 "(owner uid %u, mode %04o): chown root %s; chmod 600 %s",
			 path, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777), path, path);
		ret = -EPERM;
		goto out;
	}
	if (st.st_size > MANAGE_ACCESS_MAX) {
		snprintf(err, errlen, "%s: larger than %d bytes", path, MANAGE_ACCESS_MAX);
		ret = -EFBIG;
		goto out;
	}
	buf = talloc_size(ctx, (size_t)st.st_size + 1);
	if (!buf) {
		ret = -ENOMEM;
		goto out;
	}
	while (got < (size_t)st.st_size && (n = read(fd, buf + got, (size_t)st.st_size - got)) > 0)
		got += (size_t)n;
	ret = manage_access_parse(ctx, buf, got, out, why, sizeof(why));
	if (ret < 0)
		snprintf(err, errlen, "%s: %s", path, ret == -ENOMEM ? "out of memory" : why);
out:
	talloc_free(buf);
	close(fd);
	return ret;
}

const struct manage_grant *manage_access_token(const struct manage_access *a, const char *token,
					       size_t len)
{
	const struct manage_grant *found = NULL;
	uint8_t h[32];

	if (!a || len != MANAGE_TOKEN_LEN || memcmp(token, MANAGE_TOKEN_PREFIX, 4) != 0)
		return NULL;
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, token, len, h) < 0)
		return NULL;
	/* Every token is compared, so the time does not tell which one came close. */
	for (size_t i = 0; i < a->n; i++)
		if (a->grants[i].kind == MANAGE_GRANT_TOKEN &&
		    gnutls_memcmp(a->grants[i].hash, h, sizeof(h)) == 0)
			found = &a->grants[i];
	return found;
}

const struct manage_grant *manage_access_cert(const struct manage_access *a, const char *cn)
{
	for (size_t i = 0; a && i < a->n; i++)
		if (a->grants[i].kind == MANAGE_GRANT_CERT && strcmp(a->grants[i].name, cn) == 0)
			return &a->grants[i];
	return NULL;
}

int manage_token_new(char tok[MANAGE_TOKEN_LEN + 1], uint8_t hash[32])
{
	uint8_t r[32];
	int ret = gnutls_rnd(GNUTLS_RND_KEY, r, sizeof(r));

	if (ret < 0)
		return -EIO;
	memcpy(tok, MANAGE_TOKEN_PREFIX, 4);
	for (size_t i = 0; i < sizeof(r); i++)
		snprintf(tok + 4 + 2 * i, 3, "%02x", r[i]);
	gnutls_memset(r, 0, sizeof(r));
	return gnutls_hash_fast(GNUTLS_DIG_SHA256, tok, MANAGE_TOKEN_LEN, hash) < 0 ? -EIO : 0;
}

char *manage_grant_line(TALLOC_CTX *ctx, const struct manage_grant *g)
{
	char hex[65];

	if (g->kind == MANAGE_GRANT_CERT)
		return talloc_asprintf(ctx, "cert %s %s\n", manage_role_name(g->role), g->name);
	for (size_t i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", g->hash[i]);
	return talloc_asprintf(ctx, "token %s %s sha256:%s\n", manage_role_name(g->role), g->name,
			       hex);
}
