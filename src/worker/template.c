/* The worker template: a sluice-worker started by main with --template. It drops to
 * run-as-user/run-as-group, loads and initialises the worker's libraries, then forks
 * one worker per request, so that every worker shares those pages copy-on-write instead
 * of paying for its own relocations and library state (design.md, "Scale"). It never
 * reads client bytes and holds no secret: the start-up state (certificate, settings)
 * reaches each worker after the fork, over the worker's own channel. The price: workers
 * share one address-space layout, which main bounds by retiring a template after
 * worker-template-max-forks forks and when one of its workers crashes before
 * authentication.
 *
 * No seccomp filter here: the template reads only main's messages, and a filter it
 * installed would stay on every worker beneath the worker's own, so each syscall of the
 * packet path would run two filters, and one that missed a syscall of a worker's
 * start-up would kill workers in a way main must treat as an attack. */
#include "config.h"

#include "worker/worker.h"

#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/session.h"
#include "ipc/main_template.pb-c.h"
#include "ipc/main_template.routes.h"
#include "worker/auth_body.h"
#include "worker/privdrop.h"

#define TEMPLATE_RUNNING 1u
#define INIT_TIMEOUT_MS  10000
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

/* Runs as root, before anything is initialised: learns the ids from main and drops to
 * them. Exits on any failure; main then logs the template's end and exec's workers. */
static void template_drop(int chan)
{
	struct rlimit nproc;
	pid_t parent = getppid();
	MtInit *init = NULL;
	int ret;

	if (ipc_recv_expect(chan, MT_TYPE__MT_INIT, &mt_init__descriptor, 256, NULL, (void **)&init,
			    NULL, 0, INIT_TIMEOUT_MS) < 0)
		_exit(WEXIT_INIT_MSG);
	/* Forked workers count against run-as-user's process limit, which a fork by root
	 * ignores. main bounds the number of workers (max-clients), and each worker lowers
	 * its own limit to 0. Unlimited where root may raise hard limits (CAP_SYS_RESOURCE),
	 * else as far as the hard limit. */
	nproc.rlim_cur = nproc.rlim_max = RLIM_INFINITY;
	if (setrlimit(RLIMIT_NPROC, &nproc) < 0 &&
	    (getrlimit(RLIMIT_NPROC, &nproc) < 0 ||
	     setrlimit(RLIMIT_NPROC, &(struct rlimit){nproc.rlim_max, nproc.rlim_max}) < 0))
		_exit(WEXIT_LIMITS);
	/* Every worker inherits this process's memory: whatever a library reads or sets up
	 * at its initialisation below happens with run-as-user's rights, so nothing only
	 * root may read can end up there. */
	ret = privdrop(init->uid, init->gid);
	talloc_free(init);
	if (ret == -EACCES)
		_exit(WEXIT_ROOT_REGAINED);
	if (ret < 0)
		_exit(WEXIT_PRIVDROP);
	/* No core file, no ptrace or /proc/<pid>/mem by other run-as-user processes (the
	 * workers among them), no privileges from an execve. */
	if (template_limits() < 0)
		_exit(WEXIT_LIMITS);
	/* The uid change cleared the parent-death signal: set it now, and catch a main that
	 * died before it was set. The template is useless without main. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(WEXIT_IPC);
}

/* Takes, for good, every free chunk of the heap that the libraries' initialisation left
 * between the chunks it keeps (GnuTLS's ASN.1 definition trees alone are about 200 KiB
 * of small nodes with freed chunks between them). Left free, those chunks would serve
 * each worker's first small allocations, and every page that holds one would be copied
 * into the worker: nearly all of the trees, about 100 KiB a worker. Taken here, they
 * stay shared; the workers allocate from the top of the heap instead.
 *
 * First the chunks in malloc's bins, which mallinfo2() counts (ordblks counts the top
 * chunk too); then each size class of glibc's per-thread cache, which it does not
 * count: a class is empty once an allocation of its size comes from the top chunk
 * (keepcost, the top chunk's size, changes). Those last allocations, one per class
 * (about 35 KiB), are the template's own cost; bounded loops, no failure: an
 * allocation that fails only leaves some chunks free. Under another allocator (a
 * sanitizer's), which reports no heap here, nothing is taken. */
static void heap_take_free_chunks(void)
{
	struct mallinfo2 mi = mallinfo2();

	if (mi.arena == 0)
		return;
	for (int round = 0; round < 4 && (mi.ordblks > 1 || mi.smblks > 0 || round == 0); round++) {
		size_t top;

		for (unsigned n = 0; (mi.ordblks > 1 || mi.smblks > 0) && n < 100000; n++) {
			if (!malloc(1))
				return;
			mi = mallinfo2();
		}
		top = mi.keepcost;
		/* The cache's classes: chunks of 32 to 1040 bytes, 16 apart. */
		for (size_t size = 24; size <= 1032; size += 16) {
			for (unsigned n = 0; n < 64; n++) {
				if (!malloc(size))
					return;
				mi = mallinfo2();
				if (mi.keepcost != top) {
					top = mi.keepcost;
					break;
				}
			}
		}
	}
}

void template_run(char *mode_arg)
{
	struct ipc_channel ch;
	int chan = fcntl(WORKER_FD_CLIENT, F_DUPFD_CLOEXEC, HIGH_FD);

	if (chan < 0)
		_exit(WEXIT_USAGE);
	close(WORKER_FD_CLIENT);
	template_drop(chan);
	/* main starts the template with GNUTLS_NO_IMPLICIT_INIT=1, so that GnuTLS's
	 * initialisation happens here, unprivileged, and not as root when it is loaded. */
	if (gnutls_global_init() < 0 || auth_body_init() < 0)
		_exit(WEXIT_TLS_INIT);
	ipc_channel_init(&ch, chan, template_from_main, 1, 256, "main");
	heap_take_free_chunks();
	for (;;) {
		struct pollfd p = {.fd = chan, .events = POLLIN};
		int ret;

		if (poll(&p, 1, -1) < 0 && errno != EINTR)
			_exit(WEXIT_IPC);
		req.requested = false;
		ret = ipc_recv_dispatch(&ch, TEMPLATE_RUNNING, NULL);
		/* Closed: main retired this template, or is gone. */
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
