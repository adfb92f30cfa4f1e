/* The worker template: a sluice-worker started once by main with --template. It loads
 * and initialises the worker's libraries, then forks one worker per request, so that
 * every worker shares those pages copy-on-write instead of paying for its own
 * relocations and library state (design.md, "Scale"). It never reads client bytes and
 * holds no secret: the start-up state (certificate, settings) reaches each worker
 * after the fork, over the worker's own channel. The price: workers share one
 * address-space layout. */
#include "config.h"

#include "worker/worker.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/session.h"
#include "ipc/main_template.pb-c.h"
#include "ipc/main_template.routes.h"
#include "worker/auth_body.h"

#define TEMPLATE_RUNNING 1u
#define HIGH_FD 20 /* where descriptors wait before taking their fixed numbers */

static struct {
	bool requested;
	uint32_t worker_id;
	int fds[3];
} req;

static int template_on_spawn(void *ctx, void *msg, int *fds)
{
	MtSpawn *m = msg;

	req.requested = true;
	req.worker_id = m->worker_id;
	memcpy(req.fds, fds, sizeof(req.fds));
	return 0;
}

static const struct ipc_route template_from_main[] = {
    IPC_ROUTE_MT_SPAWN(template_on_spawn),
};

/* Gives the worker its fixed layout; the received numbers may collide with 3-5. */
static void worker_fd_layout(int chan)
{
	int high[3];

	close(chan);
	for (int i = 0; i < 3; i++) {
		high[i] = fcntl(req.fds[i], F_DUPFD_CLOEXEC, HIGH_FD);
		if (high[i] < 0)
			_exit(WEXIT_INIT_MSG);
		close(req.fds[i]);
	}
	for (int i = 0; i < 3; i++) {
		if (dup2(high[i], WORKER_FD_CLIENT + i) < 0)
			_exit(WEXIT_INIT_MSG);
		close(high[i]);
	}
}

/* A double fork: the worker is orphaned at once and re-parented to main, which is
 * the subreaper, so main reaps it and learns how it ended. glibc's fork() runs the
 * libraries' fork handlers (GnuTLS re-seeds its random generator in each child). */
static bool spawn(int chan)
{
	MtSpawned done = MT_SPAWNED__INIT;
	pid_t mid = fork();

	if (mid == 0) {
		pid_t pid = fork();

		if (pid == 0) {
			worker_fd_layout(chan);
			return true;
		}
		done.worker_id = req.worker_id;
		done.pid = pid > 0 ? (uint32_t)pid : 0;
		ipc_send(chan, MT_TYPE__MT_SPAWNED, &done.base, NULL, 0);
		_exit(0);
	}
	for (int i = 0; i < 3; i++)
		close(req.fds[i]);
	if (mid < 0) {
		done.worker_id = req.worker_id;
		ipc_send(chan, MT_TYPE__MT_SPAWNED, &done.base, NULL, 0);
	} else {
		waitpid(mid, NULL, 0);
	}
	return false;
}

void template_run(char *mode_arg)
{
	struct ipc_channel ch;
	int chan = fcntl(WORKER_FD_CLIENT, F_DUPFD_CLOEXEC, HIGH_FD);

	if (chan < 0)
		_exit(WEXIT_USAGE);
	close(WORKER_FD_CLIENT);
	/* The template is useless without main, and must not outlive it. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (auth_body_init() < 0)
		_exit(WEXIT_TLS_INIT);
	ipc_channel_init(&ch, chan, template_from_main, 1, 256, "main");
	for (;;) {
		struct pollfd p = {.fd = chan, .events = POLLIN};
		int ret;

		if (poll(&p, 1, -1) < 0 && errno != EINTR)
			_exit(WEXIT_IPC);
		req.requested = false;
		ret = ipc_recv_dispatch(&ch, TEMPLATE_RUNNING, NULL);
		if (ret == IPC_CLOSED)
			_exit(WEXIT_OK);
		if (ret < 0 && ret != -EAGAIN)
			_exit(WEXIT_IPC);
		if (req.requested && spawn(chan)) {
			/* A worker's command line reads "sluice-worker", like an exec'd one. */
			memset(mode_arg, 0, strlen(mode_arg));
			return;
		}
	}
}
