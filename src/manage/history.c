/* A user's history from the audit log: main hands sluice-manage a read-only descriptor
 * of audit-log (fd 6) when it starts it, and a reload that makes main reopen the log
 * (a rotation) restarts sluice-manage with the new file. The log is read backwards from
 * its end in HISTORY_CHUNK blocks, at most HISTORY_SCAN bytes, and the newest records
 * that name the user (logins, session starts and ends) are returned, newest first. The lines are main's own JSON records; jansson parses each. */
#include "config.h"

#include "manage/manage.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HISTORY_CHUNK (64 * 1024)
#define HISTORY_SCAN  (16 * 1024 * 1024)
#define HISTORY_LINE  (64 * 1024) /* longer lines are skipped */

static int audit_fd = -1;

void history_init(int fd)
{
	audit_fd = fd;
}

/* Whether record o is about user: logins, session starts and ends carry "user". */
static bool about(json_t *o, const char *user)
{
	const char *u = json_string_value(json_object_get(o, "user"));

	return u && strcmp(u, user) == 0;
}

static void consider(const char *line, size_t len, const char *user, json_t *out, size_t limit)
{
	json_t *o;

	if (len == 0 || json_array_size(out) >= limit)
		return;
	o = json_loadb(line, len, 0, NULL);
	if (o && json_is_object(o) && about(o, user))
		json_array_append(out, o);
	json_decref(o);
}

unsigned history_for(const char *user, size_t limit, json_t **out)
{
	struct stat st;
	char *buf;
	off_t end, scanned = 0;
	size_t carry = 0; /* bytes of a line cut by the chunk boundary, at buf's end */
	json_t *list;

	if (audit_fd < 0) {
		*out = json_pack("{s:s}", "error", "no audit-log is configured");
		return 409;
	}
	if (fstat(audit_fd, &st) < 0) {
		*out = json_pack("{s:s}", "error", "the audit log cannot be read");
		return 500;
	}
	buf = malloc(HISTORY_CHUNK + HISTORY_LINE);
	list = json_array();
	if (!buf || !list) {
		free(buf);
		json_decref(list);
		*out = NULL;
		return 500;
	}
	end = st.st_size;
	while (end > 0 && scanned < HISTORY_SCAN && json_array_size(list) < limit) {
		size_t n = end > HISTORY_CHUNK ? HISTORY_CHUNK : (size_t)end;
		ssize_t got;
		char *p;

		/* The chunk goes before the carried part of the line it ends in. */
		memmove(buf + n, buf, carry);
		got = pread(audit_fd, buf, n, end - (off_t)n);
		if (got != (ssize_t)n)
			break;
		end -= (off_t)n;
		scanned += (off_t)n;
		p = buf + n + carry;
		/* Lines from the last to the first complete one. */
		for (char *q = p; q > buf;) {
			char *nl = memrchr(buf, '\n', (size_t)(q - buf));

			if (!nl) {
				carry = (size_t)(q - buf);
				break;
			}
			consider(nl + 1, (size_t)(q - nl - 1), user, list, limit);
			q = nl;
			carry = 0;
			if (nl == buf)
				break;
		}
		if (carry > HISTORY_LINE)
			carry = 0; /* a line too long to be a record: skipped */
	}
	if (end == 0 && carry)
		consider(buf, carry, user, list, limit);
	free(buf);
	*out = list;
	return 200;
}
