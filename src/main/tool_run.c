/* Running a tool for a control request (tool_run.h). */
#include "config.h"

#include "main/tool_run.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "main/main.h"

struct tool_job {
	struct tool_job *next;
	struct main_ctx *m;
	pid_t pid;
	int out_fd;
	ev_io out_io;
	ev_timer timer;
	char *out;
	size_t len;
	bool exited, eof;
	int status;
	uint32_t req;
	tool_done_fn done;
};

static struct tool_job *jobs;
static unsigned n_jobs;

static void finish(struct tool_job *j)
{
	struct tool_job **pp;

	if (!j->exited || !j->eof)
		return;
	ev_timer_stop(j->m->loop, &j->timer);
	for (pp = &jobs; *pp && *pp != j; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = j->next;
	n_jobs--;
	j->out[j->len] = '\0';
	j->done(j->m, j->req, j->status, j->out, j->len);
	talloc_free(j);
}

static void on_output(struct ev_loop *loop, ev_io *io, int revents)
{
	struct tool_job *j = io->data;
	char buf[4096];
	ssize_t n = read(j->out_fd, buf, sizeof(buf));

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0) {
		size_t keep = (size_t)n;

		if (j->len + keep > TOOL_OUTPUT_MAX)
			keep = TOOL_OUTPUT_MAX - j->len;
		memcpy(j->out + j->len, buf, keep);
		j->len += keep;
		return;
	}
	ev_io_stop(loop, io);
	close(j->out_fd);
	j->out_fd = -1;
	j->eof = true;
	finish(j);
}

static void on_timeout(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct tool_job *j = t->data;

	log_warn("tool %d still runs after %d s; killing it", (int)j->pid, TOOL_TIMEOUT_SECS);
	kill(j->pid, SIGKILL);
}

static pid_t spawn(const char *path, char *const argv[], int in_fd, int out_fd)
{
	posix_spawn_file_actions_t fa;
	char *envp[] = {NULL};
	pid_t pid = 0;
	int ret;

	posix_spawn_file_actions_init(&fa);
	if (in_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, in_fd, 0);
	else
		posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
	posix_spawn_file_actions_adddup2(&fa, out_fd, 2);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	ret = posix_spawn(&pid, path, &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	if (ret != 0) {
		log_err("cannot start %s: %s", path, strerror(ret));
		return -ret;
	}
	return pid;
}

int tool_run(struct main_ctx *m, const char *path, char *const argv[], const char *input,
	     uint32_t req, tool_done_fn done)
{
	int in[2] = {-1, -1}, out[2] = {-1, -1}, ret = 0;
	struct tool_job *j;
	pid_t pid;

	if (n_jobs >= TOOL_RUNS_MAX)
		return -EBUSY;
	j = talloc_zero(m, struct tool_job);
	if (!j || !(j->out = talloc_size(j, TOOL_OUTPUT_MAX + 1))) {
		talloc_free(j);
		return -ENOMEM;
	}
	/* The input (a password, at most a few KiB) fits the pipe: written at once. */
	if ((input && pipe2(in, O_CLOEXEC) < 0) || pipe2(out, O_CLOEXEC) < 0) {
		ret = -errno;
		goto fail;
	}
	pid = spawn(path, argv, in[0], out[1]);
	if (pid < 0) {
		ret = (int)pid;
		goto fail;
	}
	close(out[1]);
	if (input) {
		close(in[0]);
		if (write(in[1], input, strlen(input)) < 0 || write(in[1], "\n", 1) < 0)
			log_warn("cannot pass the input to %s: %s", path, strerror(errno));
		close(in[1]);
	}
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	j->m = m;
	j->pid = pid;
	j->out_fd = out[0];
	j->req = req;
	j->done = done;
	ev_io_init(&j->out_io, on_output, out[0], EV_READ);
	j->out_io.data = j;
	ev_io_start(m->loop, &j->out_io);
	ev_timer_init(&j->timer, on_timeout, TOOL_TIMEOUT_SECS, 0);
	j->timer.data = j;
	ev_timer_start(m->loop, &j->timer);
	j->next = jobs;
	jobs = j;
	n_jobs++;
	return 0;
fail:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
	}
	talloc_free(j);
	return ret;
}

bool tool_child_exited(struct main_ctx *m, pid_t pid, int status)
{
	for (struct tool_job *j = jobs; j; j = j->next) {
		if (j->pid == pid && !j->exited) {
			j->exited = true;
			j->status = status;
			finish(j);
			return true;
		}
	}
	return false;
}
