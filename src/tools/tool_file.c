#include "config.h"

#include "tools/tool_file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LOCK_WAIT_TENTHS 100

int tool_lock(const char *prog, const char *lock_path)
{
	struct timespec tenth = {.tv_nsec = 100 * 1000 * 1000};
	int fd, err;

	fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
	if (fd < 0) {
		err = errno;
		fprintf(stderr, "%s: %s: %s\n", prog, lock_path, strerror(err));
		return -err;
	}
	for (int i = 0; flock(fd, LOCK_EX | LOCK_NB) < 0; i++) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			fprintf(stderr, "%s: %s: %s\n", prog, lock_path, strerror(errno));
			close(fd);
			return -EIO;
		}
		if (i == LOCK_WAIT_TENTHS) {
			fprintf(stderr, "%s: %s: still locked by another process after %d s\n",
				prog, lock_path, LOCK_WAIT_TENTHS / 10);
			close(fd);
			return -EBUSY;
		}
		nanosleep(&tenth, NULL);
	}
	return fd;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* rename(2) without replacing: renameat2's RENAME_NOREPLACE, or where the file system
 * lacks it a hard link, which fails just as atomically when the name exists. */
static int rename_no_clobber(const char *from, const char *to)
{
	if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	if (link(from, to) < 0)
		return -1;
	unlink(from);
	return 0;
}

static int sync_dir(const char *prog, const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int dfd, err;

	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) < 0) {
		err = errno;
		fprintf(stderr, "%s: %s: cannot sync the directory: %s\n", prog, dir,
			strerror(err));
		if (dfd >= 0)
			close(dfd);
		return -err;
	}
	close(dfd);
	return 0;
}

int tool_write_file(const char *prog, const char *path, const void *data, size_t len,
		    const struct tool_file_meta *meta)
{
	char tmp[PATH_MAX];
	const char *what = "cannot write it";
	int fd, ret;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= sizeof(tmp)) {
		fprintf(stderr, "%s: %s: name too long\n", prog, path);
		return -ENAMETOOLONG;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		fprintf(stderr, "%s: %s: cannot create a temporary file: %s\n", prog, tmp,
			strerror(-ret));
		return ret;
	}
	if (fchown(fd, meta->uid, meta->gid) < 0) {
		what = "cannot set its owner";
		goto err_unlink;
	}
	if (fchmod(fd, meta->mode & 07777) < 0) {
		what = "cannot set its mode";
		goto err_unlink;
	}
	ret = write_all(fd, data, len);
	if (ret < 0) {
		errno = -ret;
		goto err_unlink;
	}
	if (fsync(fd) < 0)
		goto err_unlink;
	if (close(fd) < 0) {
		fd = -1;
		goto err_unlink;
	}
	fd = -1;
	if (meta->no_clobber ? rename_no_clobber(tmp, path) < 0 : rename(tmp, path) < 0) {
		if (meta->no_clobber && errno == EEXIST) {
			unlink(tmp);
			return -EEXIST;
		}
		what = "cannot rename it into place";
		goto err_unlink;
	}
	return sync_dir(prog, path);
err_unlink:
	ret = -errno;
	fprintf(stderr, "%s: %s: %s (temporary file %s): %s\n", prog, path, what, tmp,
		strerror(-ret));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return ret;
}
