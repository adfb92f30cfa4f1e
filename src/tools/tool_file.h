/* Files that the tools change: a lock file beside them, and replacing a file so that a
 * reader (sluiced's sec, a client's import) sees the old or the new contents, never
 * half of them. sluice-passwd and sluice-certs share these. */
#ifndef SLUICE_TOOL_FILE_H
#define SLUICE_TOOL_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Takes an exclusive flock(2) on lock_path (created 0600 if missing, and left in place),
 * waiting up to 10 s for another process. The descriptor, or a negative errno; the lock
 * lasts until the process exits. Messages go to stderr after "prog: ". */
int tool_lock(const char *prog, const char *lock_path);

struct tool_file_meta {
	mode_t mode;     /* set with fchmod, whatever the umask */
	uid_t uid;       /* the owner ... */
	gid_t gid;       /* ... and group, set with fchown */
	bool no_clobber; /* fail with -EEXIST if path exists (atomically, no message) */
};

/* Writes data to a temporary file beside path (path.XXXXXX), syncs it, renames it to
 * path and syncs the directory. 0, or a negative errno with a message on stderr. */
int tool_write_file(const char *prog, const char *path, const void *data, size_t len,
		    const struct tool_file_meta *meta);

#endif
