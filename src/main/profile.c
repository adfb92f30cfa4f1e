#include "config.h"

#include "main/profile.h"

#include <errno.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/config.h"
#include "common/log.h"
#include "main/main.h"

/* The URI names the file alone, not where it lies on the server (ocserv puts the
 * configured path there as written). Anything but RFC 3986's unreserved characters is
 * percent-encoded, so that it is safe in a request line and in XML. */
static char *profile_uri(TALLOC_CTX *ctx, const char *path)
{
	const char *name = strrchr(path, '/');
	char *uri = talloc_strdup(ctx, "/profiles/");

	for (name = name ? name + 1 : path; uri && *name; name++) {
		unsigned char c = (unsigned char)*name;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr("-._~", c))
			uri = talloc_asprintf_append(uri, "%c", c);
		else
			uri = talloc_asprintf_append(uri, "%%%02X", c);
	}
	return uri;
}

/* Up to USER_PROFILE_MAX + 1 bytes of fd, so that a file that grew past the limit after
 * fstat still shows as too large. */
static ssize_t read_all(int fd, uint8_t *buf, size_t max)
{
	size_t have = 0;

	while (have < max) {
		ssize_t n = read(fd, buf + have, max - have);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		have += (size_t)n;
	}
	return (ssize_t)have;
}

struct main_profile *main_profile_read(TALLOC_CTX *ctx, const char *path, char *err, size_t errlen)
{
	struct main_profile *p = talloc_zero(ctx, struct main_profile);
	uint8_t digest[20];
	struct stat st;
	ssize_t n = -ENOMEM;
	int fd;

	if (!p) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	/* O_NONBLOCK: a FIFO put in its place must not hang main; fstat refuses it. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		talloc_free(p);
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		goto fail;
	}
	if (st.st_size > USER_PROFILE_MAX) {
		snprintf(err, errlen, "%s: %lld bytes, larger than %d", path, (long long)st.st_size,
			 USER_PROFILE_MAX);
		goto fail;
	}
	p->data = talloc_size(p, USER_PROFILE_MAX + 1);
	if (p->data)
		n = read_all(fd, p->data, USER_PROFILE_MAX + 1);
	if (n < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror((int)-n));
		goto fail;
	}
	if (n == 0 || n > USER_PROFILE_MAX) {
		snprintf(err, errlen, "%s: %s", path,
			 n ? "grew larger than the limit while it was read" : "empty file");
		goto fail;
	}
	/* It is sent as text/xml, which holds no NUL (worker/http.h refuses one). */
	if (memchr(p->data, 0, (size_t)n)) {
		snprintf(err, errlen, "%s: holds a NUL byte, which no XML file has", path);
		goto fail;
	}
	p->len = (size_t)n;
	p->data = talloc_realloc(p, p->data, uint8_t, p->len);
	p->uri = profile_uri(p, path);
	p->sha1 = talloc_size(p, 2 * sizeof(digest) + 1);
	if (!p->data || !p->uri || !p->sha1 ||
	    gnutls_hash_fast(GNUTLS_DIG_SHA1, p->data, p->len, digest) < 0) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto fail;
	}
	for (size_t i = 0; i < sizeof(digest); i++)
		snprintf(p->sha1 + 2 * i, 3, "%02x", digest[i]);
	close(fd);
	return p;
fail:
	close(fd);
	talloc_free(p);
	return NULL;
}

int main_profile_load(struct main_ctx *m, bool start, char *err, size_t errlen)
{
	const char *path = m->cfg->user_profile;
	struct main_profile *p;
	char why[400];

	if (!path) {
		if (m->profile)
			log_info("user-profile is unset: clients get no profile");
		TALLOC_FREE(m->profile);
		return 0;
	}
	p = main_profile_read(m, path, why, sizeof(why));
	if (!p && start) {
		snprintf(err, errlen, "user-profile %s", why);
		return -EIO;
	}
	if (!p) {
		log_warn("reload: user-profile %s; %s", why,
			 m->profile ? "clients keep getting the profile read before"
				    : "clients get no profile");
		return 0;
	}
	talloc_free(m->profile);
	m->profile = p;
	log_info("user-profile %s: %zu bytes, SHA-1 %s, served as %s", path, p->len, p->sha1,
		 p->uri);
	return 0;
}
