#include "config.h"
#include "worker/privdrop.h"
#include "worker/sandbox.h"

#include <check.h>
#include <ev.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check_main.h"
#include "sandbox_child.h"


enum child_setup {
	SETUP_NONE,
	SETUP_SANDBOX, /* no-new-privs and the filter, as in the worker */
	SETUP_WORKER,  /* privdrop, worker_limits, sandbox_install: the real order */
};

/* The worker's set-up, in its real order, up to the setup asked for. */
static void prepare(int setup)
{
	if (setup == SETUP_SANDBOX)
		CHILD_CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0);
	if (setup == SETUP_WORKER) {
		CHILD_CHECK(privdrop(NOBODY, NOBODY) == 0);
		CHILD_CHECK(worker_limits() == 0);
	}
	if (setup != SETUP_NONE)
		CHILD_CHECK(sandbox_install() == 0);
}

static int run_child(enum child_setup setup, void (*fn)(void *), void *arg)
{
	return child_run(prepare, setup, fn, arg);
}

/* What the worker does all day: pipe and socket I/O, randomness, clocks, allocation,
 * fds received by SCM_RIGHTS on a socketpair made before the filter. */
static void do_allowed_work(void *arg)
{
	int *fds = arg; /* fds[0..1] a pipe, fds[2..3] a socketpair */
	char cbuf[CMSG_SPACE(sizeof(int))] = {0};
	char buf[16] = "";
	struct iovec iov = {buf, 1};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	struct cmsghdr *c;
	struct timespec ts, nap = {0, 1000};
	uint8_t rnd[32];
	struct stat st;
	char *big;
	int got;

	CHILD_CHECK(write(fds[1], "ping", 4) == 4);
	CHILD_CHECK(read(fds[0], buf, sizeof(buf)) == 4 && memcmp(buf, "ping", 4) == 0);
	CHILD_CHECK(getrandom(rnd, sizeof(rnd), 0) == sizeof(rnd));
	CHILD_CHECK(clock_gettime(CLOCK_MONOTONIC, &ts) == 0);
	CHILD_CHECK(syscall(SYS_clock_gettime, CLOCK_REALTIME, &ts) == 0);
	CHILD_CHECK(nanosleep(&nap, NULL) == 0);
	big = malloc(1 << 20);
	CHILD_CHECK(big != NULL);
	memset(big, 0xa5, 1 << 20);
	free(big);
	CHILD_CHECK(fstat(fds[0], &st) == 0);
	CHILD_CHECK(fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK) == 0);

	mh.msg_control = cbuf;
	mh.msg_controllen = sizeof(cbuf);
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fds[0], sizeof(int));
	CHILD_CHECK(sendmsg(fds[2], &mh, 0) == 1);
	memset(cbuf, 0, sizeof(cbuf));
	mh.msg_controllen = sizeof(cbuf);
	CHILD_CHECK(recvmsg(fds[3], &mh, MSG_CMSG_CLOEXEC) == 1);
	c = CMSG_FIRSTHDR(&mh);
	CHILD_CHECK(c && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int)));
	memcpy(&got, CMSG_DATA(c), sizeof(int));
	CHILD_CHECK(write(fds[1], "pong", 4) == 4);
	CHILD_CHECK(read(got, buf, sizeof(buf)) == 4 && memcmp(buf, "pong", 4) == 0);
	CHILD_CHECK(close(got) == 0);
}

static void run_allowed_work(enum child_setup setup)
{
	int fds[4];

	ck_assert_int_eq(pipe(fds), 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fds + 2), 0);
	assert_exited_ok(run_child(setup, do_allowed_work, fds));
	for (int i = 0; i < 4; i++)
		close(fds[i]);
}

START_TEST(test_allowed_work)
{
	run_allowed_work(SETUP_SANDBOX);
}
END_TEST

static void do_socket(void *arg)
{
	socket(AF_INET, SOCK_STREAM, 0);
}

static void do_socketpair(void *arg)
{
	int sv[2];

	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
}

static void do_mprotect_exec(void *arg)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	CHILD_CHECK(p != MAP_FAILED);
	mprotect(p, 4096, PROT_READ | PROT_EXEC);
}

static void do_open_write(void *arg)
{
	open("/tmp/sluice-sandbox-must-not-exist", O_WRONLY | O_CREAT, 0600);
}

/* The open syscall itself (glibc's open() is openat): a --enable-sanitizers build
 * allows it for reading, never for writing. */
static void do_sys_open_write(void *arg)
{
	syscall(SYS_open, "/tmp/sluice-sandbox-must-not-exist", O_WRONLY | O_CREAT, 0600);
}

static void do_fcntl_dupfd(void *arg)
{
	fcntl(0, F_DUPFD, 10);
}

static void do_setuid(void *arg)
{
	syscall(SYS_setuid, 0);
}

static void do_ioctl_other(void *arg)
{
	int n;

	ioctl(0, FIONBIO, &n);
}

#ifdef __x86_64__
/* The same getpid through the x32 ABI: other numbers, so the arch check kills. */
#endif

static const struct {
	const char *name;
	void (*fn)(void *);
} forbidden[] = {
    {"socket", do_socket},
    {"socketpair", do_socketpair},
    {"execve", probe_execve},
    {"fork", probe_fork},
    {"mmap PROT_EXEC", probe_mmap_exec},
    {"mprotect PROT_EXEC", do_mprotect_exec},
    {"open for writing", do_open_write},
    {"open syscall for writing", do_sys_open_write},
    {"sigaltstack with a stack", probe_sigaltstack_set},
    {"fcntl F_DUPFD", do_fcntl_dupfd},
    {"kill another process", probe_kill_parent},
    {"setuid", do_setuid},
    {"ioctl FIONBIO", do_ioctl_other},
#ifdef __x86_64__
    {"x32 syscall", probe_x32_syscall},
#endif
};

START_TEST(test_forbidden_kills)
{
	pid_t self = getpid();
	int status = run_child(SETUP_SANDBOX, forbidden[_i].fn, &self);

	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS,
		      "%s: not killed by SIGSYS (status 0x%x)", forbidden[_i].name, status);
}
END_TEST

static void do_open_read(void *arg)
{
	errno = 0;
	CHILD_CHECK(openat(AT_FDCWD, "/etc/passwd", O_RDONLY | O_CLOEXEC) == -1);
	CHILD_CHECK(errno == EACCES);
	errno = 0;
	CHILD_CHECK(fopen("/etc/localtime", "r") == NULL && errno == EACCES);
}

START_TEST(test_open_read_fails_eacces)
{
	assert_exited_ok(run_child(SETUP_SANDBOX, do_open_read, NULL));
}
END_TEST

START_TEST(test_abort_still_works)
{
	/* abort() signals its own thread: allowed, so it dies of SIGABRT, not SIGSYS. */
	assert_killed_by(run_child(SETUP_SANDBOX, probe_abort, NULL), SIGABRT);
}
END_TEST

START_TEST(test_libev_refresh)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);

	ck_assert_ptr_nonnull(loop);
	assert_exited_ok(run_child(SETUP_WORKER, probe_libev_refresh, loop));
	ev_loop_destroy(loop);
}
END_TEST

static void do_install_without_nnp(void *arg)
{
	CHILD_CHECK(sandbox_install() == -EPERM);
	/* Nothing installed: a socket still works. */
	CHILD_CHECK(close(socket(AF_UNIX, SOCK_STREAM, 0)) == 0);
}

START_TEST(test_install_requires_nnp)
{
	assert_exited_ok(run_child(SETUP_NONE, do_install_without_nnp, NULL));
}
END_TEST

static void do_privdrop_refuses(void *arg)
{
	CHILD_CHECK(privdrop(0, 0) == -EINVAL);
	CHILD_CHECK(privdrop(NOBODY, 0) == -EINVAL);
	CHILD_CHECK(privdrop(0, NOBODY) == -EINVAL);
	CHILD_CHECK(privdrop((uid_t)-1, NOBODY) == -EINVAL);
	CHILD_CHECK(privdrop(NOBODY, (gid_t)-1) == -EINVAL);
}

START_TEST(test_privdrop_refuses_root_target)
{
	assert_exited_ok(run_child(SETUP_NONE, do_privdrop_refuses, NULL));
}
END_TEST

static void do_privdrop(void *arg)
{
	uid_t r, e, s;
	gid_t rg, eg, sg, groups[4];

	CHILD_CHECK(privdrop(NOBODY, NOBODY) == 0);
	CHILD_CHECK(getresuid(&r, &e, &s) == 0 && r == NOBODY && e == NOBODY && s == NOBODY);
	CHILD_CHECK(getresgid(&rg, &eg, &sg) == 0 && rg == NOBODY && eg == NOBODY && sg == NOBODY);
	CHILD_CHECK(getgroups(4, groups) == 1 && groups[0] == NOBODY);
	CHILD_CHECK(setuid(0) == -1);
	CHILD_CHECK(setgid(0) == -1);
}

START_TEST(test_privdrop)
{
	assert_exited_ok(run_child(SETUP_NONE, do_privdrop, NULL));
}
END_TEST

static void do_privdrop_unprivileged(void *arg)
{
	CHILD_CHECK(setresuid(NOBODY, NOBODY, NOBODY) == 0);
	CHILD_CHECK(privdrop(NOBODY, NOBODY) == -EPERM);
}

START_TEST(test_privdrop_fails_unprivileged)
{
	assert_exited_ok(run_child(SETUP_NONE, do_privdrop_unprivileged, NULL));
}
END_TEST

/* Securebits that a careless service manager could pass down: with KEEP_CAPS the
 * permitted set survives the uid change, with NO_SETUID_FIXUP the effective set too.
 * The drop must notice either. */
static void do_privdrop_securebits(void *arg)
{
	unsigned long bits = *(unsigned long *)arg;

	CHILD_CHECK(prctl(PR_SET_SECUREBITS, bits, 0, 0, 0) == 0);
	CHILD_CHECK(privdrop(NOBODY, NOBODY) == -EACCES);
}

START_TEST(test_privdrop_detects_kept_capabilities)
{
	static unsigned long bits[] = {SECBIT_KEEP_CAPS, SECBIT_NO_SETUID_FIXUP};

	assert_exited_ok(run_child(SETUP_NONE, do_privdrop_securebits, &bits[_i]));
}
END_TEST

START_TEST(test_worker_order)
{
	/* The worker's real order: the filter must still allow the work after the drop. */
	run_allowed_work(SETUP_WORKER);
}
END_TEST

static void do_worker_limits(void *arg)
{
	static const struct {
		int resource;
		rlim_t value;
	} want[] = {
	    {RLIMIT_NPROC, 0},
	    {RLIMIT_CORE, 0},
#ifndef SLUICE_SANITIZERS
	    /* Not set under the sanitizers (privdrop.c). */
	    {RLIMIT_FSIZE, 0},
#endif
	    {RLIMIT_NOFILE, WORKER_NOFILE_MAX},
	};
	struct sigaction sa;

	CHILD_CHECK(worker_limits() == 0);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct rlimit rl;

		CHILD_CHECK(getrlimit(want[i].resource, &rl) == 0);
		CHILD_CHECK(rl.rlim_cur == want[i].value && rl.rlim_max == want[i].value);
	}
	CHILD_CHECK(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0);
	CHILD_CHECK(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1);
	CHILD_CHECK(sigaction(SIGXFSZ, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN);
	/* WORKER_NOFILE_MAX leaves room for the worker's fds (0-5, epoll, TUN, UDP). */
	CHILD_CHECK(WORKER_NOFILE_MAX >= 9);
}

START_TEST(test_worker_limits)
{
	assert_exited_ok(run_child(SETUP_NONE, do_worker_limits, NULL));
}
END_TEST

int main(void)
{
	const struct check_test tests[] = {
	    {test_allowed_work},
	    {test_forbidden_kills, true, sizeof(forbidden) / sizeof(forbidden[0])},
	    {test_open_read_fails_eacces},
	    {test_abort_still_works},
	    {test_libev_refresh, .only_if = is_root},
	    {test_install_requires_nnp},
	    {test_privdrop_refuses_root_target},
	    {test_worker_limits},
	    {test_privdrop, .only_if = is_root},
	    {test_privdrop_fails_unprivileged, .only_if = is_root},
	    {test_privdrop_detects_kept_capabilities, true, 2, is_root},
	    {test_worker_order, .only_if = is_root},
	    {NULL},
	};
	const struct check_case cases[] = {
	    {"sandbox", NULL, NULL, 0, tests},
	    {NULL},
	};

	if (check_main("sandbox", cases) != EXIT_SUCCESS)
		return EXIT_FAILURE;
	if (!is_root()) {
		printf("privdrop tests need root (setgroups/setresuid): skipped\n");
		return 77;
	}
	return EXIT_SUCCESS;
}
