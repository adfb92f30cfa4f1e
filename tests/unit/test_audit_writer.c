/* The audit writer thread: order, reopen at the requested place, a full queue that
 * refuses instead of blocking while the file stalls, and the wake-up once it drains. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "main/audit_writer.h"

#include "check_main.h"

static char dir[] = "/tmp/sluice-audit-writer.XXXXXX";
static char path[256];

static void setup(void)
{
	strcpy(dir, "/tmp/sluice-audit-writer.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/audit.json", dir);
}

static void teardown(void)
{
	char p[300];

	snprintf(p, sizeof(p), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(p), 0);
}

static char *slurp(const char *p)
{
	static char buf[65536];
	int fd = open(p, O_RDONLY);
	ssize_t n;

	ck_assert_int_ge(fd, 0);
	n = read(fd, buf, sizeof(buf) - 1);
	ck_assert_int_ge(n, 0);
	buf[n] = '\0';
	close(fd);
	return buf;
}

static void stop(struct audit_writer *aw)
{
	const char *what;
	int err;

	ck_assert_uint_eq(audit_writer_stop(aw, &err, &what), 0);
	ck_assert_int_eq(err, 0);
}

START_TEST(in_order_and_all_at_stop)
{
	struct audit_writer *aw;
	char line[32], want[4096] = "";
	struct stat st;
	int err;

	aw = audit_writer_start(path, 1000, NULL, NULL, &err);
	ck_assert_ptr_nonnull(aw);
	for (int i = 0; i < 200; i++) {
		snprintf(line, sizeof(line), "{\"n\":%d}", i);
		ck_assert_int_eq(audit_writer_put(aw, line, false), 0);
		strcat(want, line);
		strcat(want, "\n");
	}
	stop(aw);
	ck_assert_str_eq(slurp(path), want);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
}
END_TEST

START_TEST(reopen_where_asked)
{
	struct audit_writer *aw;
	char old[300];
	int err;

	snprintf(old, sizeof(old), "%s.1", path);
	aw = audit_writer_start(path, 1000, NULL, NULL, &err);
	ck_assert_ptr_nonnull(aw);
	ck_assert_int_eq(audit_writer_put(aw, "a", false), 0);
	ck_assert_int_eq(rename(path, old), 0);
	ck_assert_int_eq(audit_writer_put(aw, "b", false), 0);
	ck_assert_int_eq(audit_writer_reopen(aw), 0);
	ck_assert_int_eq(audit_writer_reopen(aw), 0);
	ck_assert_int_eq(audit_writer_put(aw, "c", false), 0);
	stop(aw);
	ck_assert_str_eq(slurp(old), "a\nb\n");
	ck_assert_str_eq(slurp(path), "c\n");
}
END_TEST

START_TEST(start_fails_on_bad_path)
{
	int err = 0;

	ck_assert_ptr_null(audit_writer_start("/nonexistent/dir/audit.json", 8, NULL, NULL, &err));
	ck_assert_int_eq(err, -ENOENT);
}
END_TEST

/* Larger than a pipe's buffer: the first write blocks until the test reads. */
#define BIG 100000

static void on_wake(struct ev_loop *loop, ev_async *w, int revents)
{
	ev_break(loop, EVBREAK_ALL);
}

static void on_timeout(struct ev_loop *loop, ev_timer *t, int revents)
{
	ck_abort_msg("no wake-up after the queue drained");
}

START_TEST(full_queue_refuses_without_blocking)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct audit_writer *aw;
	struct timespec t0, t1;
	ev_async wake;
	ev_timer limit;
	char *line = malloc(BIG), *got;
	int rd, err, accepted = 0, refused = 0;
	size_t want, have = 0;

	ck_assert_int_eq(mkfifo(path, 0600), 0);
	/* A reader that reads nothing yet: the writer's first write stalls. */
	rd = open(path, O_RDONLY | O_NONBLOCK);
	ck_assert_int_ge(rd, 0);
	ev_async_init(&wake, on_wake);
	ev_async_start(loop, &wake);
	aw = audit_writer_start(path, 4, loop, &wake, &err);
	ck_assert_ptr_nonnull(aw);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < 20; i++) {
		memset(line, 'a' + i, BIG - 1);
		line[BIG - 1] = '\0';
		if (audit_writer_put(aw, line, false) == 0)
			accepted++;
		else
			refused++;
		/* Lets the thread take the first line and block in write(). */
		if (i == 0)
			usleep(100 * 1000);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ck_assert_int_lt(t1.tv_sec - t0.tv_sec, 2);
	/* The one stuck in write() and a full queue behind it. */
	ck_assert_int_eq(accepted, 5);
	ck_assert_int_eq(refused, 15);

	/* Unstall: everything accepted arrives, in order, and main is woken. */
	fcntl(rd, F_SETFL, 0);
	want = (size_t)accepted * BIG;
	got = malloc(want);
	while (have < want) {
		ssize_t n = read(rd, got + have, want - have);

		ck_assert_int_gt(n, 0);
		have += (size_t)n;
	}
	for (int i = 0; i < accepted; i++) {
		ck_assert_int_eq(got[(size_t)i * BIG], 'a' + i);
		ck_assert_int_eq(got[(size_t)i * BIG + BIG - 1], '\n');
	}
	ev_timer_init(&limit, on_timeout, 5, 0);
	ev_timer_start(loop, &limit);
	ev_run(loop, 0);
	stop(aw);
	close(rd);
	free(got);
	free(line);
	ev_loop_destroy(loop);
}
END_TEST

int main(void)
{
	const struct check_test core[] = {
	    {in_order_and_all_at_stop},
	    {reopen_where_asked},
	    {start_fails_on_bad_path},
	    {full_queue_refuses_without_blocking},
	    {NULL},
	};
	const struct check_case cases[] = {
	    {"core", setup, teardown, 20, core},
	    {NULL},
	};

	return check_main("audit_writer", cases);
}
