#include "config.h"

#include "main/audit_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One queued item: a line to append, or (reopen set) a reopen of the path. */
struct audit_rec {
	struct audit_rec *next;
	bool reopen;
	size_t len; /* with the newline */
	char text[];
};

struct audit_writer {
	/* Shared with the thread, under lock. */
	pthread_mutex_t lock;
	pthread_cond_t work; /* main -> thread: something queued, or stop */
	pthread_cond_t room; /* thread -> main: a record left the queue */
	struct audit_rec *head, *tail;
	unsigned n, max; /* lines queued (reopens do not count), and the bound */
	bool stop;
	bool refused;     /* a line was refused: wake main once the queue is empty */
	uint64_t failed;  /* lines not written since main last asked */
	int err;          /* last error, -errno */
	const char *what; /* the step that failed: a string constant */

	/* Set before the thread starts and never changed: read without the lock. */
	char *path;
	struct ev_loop *loop;
	ev_async *wake;
	pthread_t thread;

	/* The thread's own. */
	int fd; /* -1: the last open failed; retried with the next line */
};

static int open_log(const char *path)
{
	/* 0600: the records name users and their addresses. */
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);

	return fd < 0 ? -errno : fd;
}

/* One write for the whole line when the disk lets us (O_APPEND: never interleaved with
 * another writer, never split by a rotation); then on disk before the next line. */
static int append(int fd, const char *text, size_t len, const char **what)
{
	while (len) {
		ssize_t n = write(fd, text, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			*what = "write";
			return n < 0 ? -errno : -EIO;
		}
		text += n;
		len -= (size_t)n;
	}
	/* EINVAL: a pipe or a terminal (audit-log = /dev/stdout), which has no disk. */
	if (fdatasync(fd) < 0 && errno != EINVAL) {
		*what = "fdatasync";
		return -errno;
	}
	return 0;
}

/* Does one item's I/O without the lock; 0 or -errno with *what set. */
static int do_item(struct audit_writer *aw, const struct audit_rec *r, const char **what)
{
	int fd;

	if (r->reopen || aw->fd < 0) {
		fd = open_log(aw->path);
		/* After a reopen request nothing goes to the old file, even if the new one
		 * cannot be opened: that file may be compressed or deleted by now. */
		if (r->reopen && aw->fd >= 0) {
			close(aw->fd);
			aw->fd = -1;
		}
		if (fd < 0) {
			*what = "open";
			return fd;
		}
		aw->fd = fd;
	}
	return r->reopen ? 0 : append(aw->fd, r->text, r->len, what);
}

static void *writer_main(void *arg)
{
	struct audit_writer *aw = arg;

	pthread_mutex_lock(&aw->lock);
	for (;;) {
		struct audit_rec *r;
		const char *what = NULL;
		bool wake = false;
		int ret;

		while (!aw->head && !aw->stop)
			pthread_cond_wait(&aw->work, &aw->lock);
		r = aw->head;
		if (!r)
			break;
		aw->head = r->next;
		if (!aw->head)
			aw->tail = NULL;
		if (!r->reopen) {
			aw->n--;
			pthread_cond_signal(&aw->room);
		}
		pthread_mutex_unlock(&aw->lock);

		ret = do_item(aw, r, &what);

		pthread_mutex_lock(&aw->lock);
		if (ret < 0) {
			aw->failed += !r->reopen;
			aw->err = ret;
			aw->what = what;
			wake = true;
		}
		if (!aw->head && aw->refused) {
			aw->refused = false;
			wake = true;
		}
		free(r);
		if (wake && aw->wake)
			ev_async_send(aw->loop, aw->wake);
	}
	pthread_mutex_unlock(&aw->lock);
	if (aw->fd >= 0)
		close(aw->fd);
	return NULL;
}

struct audit_writer *audit_writer_start(const char *path, unsigned max, struct ev_loop *loop,
					ev_async *wake, int *err)
{
	struct audit_writer *aw = calloc(1, sizeof(*aw));
	sigset_t all, old;

	*err = -ENOMEM;
	if (!aw || !(aw->path = strdup(path)))
		goto fail;
	aw->max = max;
	aw->loop = loop;
	aw->wake = wake;
	aw->fd = open_log(path);
	if (aw->fd < 0) {
		*err = aw->fd;
		goto fail;
	}
	pthread_mutex_init(&aw->lock, NULL);
	pthread_cond_init(&aw->work, NULL);
	pthread_cond_init(&aw->room, NULL);
	/* Signals are main's (libev's handlers): the thread inherits a mask blocking all. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	*err = -pthread_create(&aw->thread, NULL, writer_main, aw);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (*err == 0)
		return aw;
	close(aw->fd);
	pthread_cond_destroy(&aw->room);
	pthread_cond_destroy(&aw->work);
	pthread_mutex_destroy(&aw->lock);
fail:
	if (aw)
		free(aw->path);
	free(aw);
	return NULL;
}

/* Appends r to the queue; the caller holds the lock. */
static void enqueue(struct audit_writer *aw, struct audit_rec *r)
{
	if (aw->tail)
		aw->tail->next = r;
	else
		aw->head = r;
	aw->tail = r;
	pthread_cond_signal(&aw->work);
}

int audit_writer_put(struct audit_writer *aw, const char *line, bool wait)
{
	size_t len = strlen(line);
	struct audit_rec *r = malloc(sizeof(*r) + len + 1);

	if (!r)
		return -ENOMEM;
	r->next = NULL;
	r->reopen = false;
	r->len = len + 1;
	memcpy(r->text, line, len);
	r->text[len] = '\n';
	pthread_mutex_lock(&aw->lock);
	while (wait && aw->n >= aw->max)
		pthread_cond_wait(&aw->room, &aw->lock);
	if (aw->n >= aw->max) {
		aw->refused = true;
		pthread_mutex_unlock(&aw->lock);
		free(r);
		return -ENOSPC;
	}
	aw->n++;
	enqueue(aw, r);
	pthread_mutex_unlock(&aw->lock);
	return 0;
}

int audit_writer_reopen(struct audit_writer *aw)
{
	/* Allocated before the lock; freed unused when the queue ends in a reopen already. */
	struct audit_rec *r = calloc(1, sizeof(*r));
	int ret = 0;

	pthread_mutex_lock(&aw->lock);
	if (aw->tail && aw->tail->reopen) {
		free(r);
	} else if (r) {
		r->reopen = true;
		enqueue(aw, r);
	} else {
		ret = -ENOMEM;
	}
	pthread_mutex_unlock(&aw->lock);
	return ret;
}

uint64_t audit_writer_take_error(struct audit_writer *aw, int *err, const char **what)
{
	uint64_t failed;

	pthread_mutex_lock(&aw->lock);
	failed = aw->failed;
	*err = aw->err;
	*what = aw->what;
	aw->failed = 0;
	aw->err = 0;
	pthread_mutex_unlock(&aw->lock);
	return failed;
}

uint64_t audit_writer_stop(struct audit_writer *aw, int *err, const char **what)
{
	uint64_t failed;

	pthread_mutex_lock(&aw->lock);
	aw->stop = true;
	pthread_cond_signal(&aw->work);
	pthread_mutex_unlock(&aw->lock);
	pthread_join(aw->thread, NULL);
	failed = audit_writer_take_error(aw, err, what);
	pthread_cond_destroy(&aw->room);
	pthread_cond_destroy(&aw->work);
	pthread_mutex_destroy(&aw->lock);
	free(aw->path);
	free(aw);
	return failed;
}
