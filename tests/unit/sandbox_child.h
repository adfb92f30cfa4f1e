/* What the seccomp tests of the worker (test_sandbox) and of sec (test_sec_sandbox) share:
 * a child process that sets itself up as the role does and then runs one probe, so that
 * the test process keeps its ids and survives the filter; and the probes both filters
 * must kill. */
#ifndef SLUICE_TEST_SANDBOX_CHILD_H
#define SLUICE_TEST_SANDBOX_CHILD_H

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>

#define NOBODY 65534

/* Children report a failed check by message and exit status; ck_assert belongs to the
 * check runner's process, not to a grandchild. */
#define CHILD_CHECK(cond)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: child check failed: %s (errno %d)\n", __FILE__,    \
				__LINE__, #cond, errno);                                           \
			_exit(1);                                                                  \
		}                                                                                  \
	} while (0)

/* Forks; the child turns core dumps off (a filter kill would dump one), calls
 * prepare(setup) unless prepare is NULL, then fn(arg), and exits 0. Returns the child's
 * wait status. */
int child_run(void (*prepare)(int setup), int setup, void (*fn)(void *), void *arg);
void assert_exited_ok(int status);
void assert_killed_by(int status, int sig);
bool is_root(void);

/* Forbidden in both roles. probe_kill_parent's arg points at the test's pid. */
void probe_execve(void *arg);
void probe_fork(void *arg);
void probe_mmap_exec(void *arg);
void probe_sigaltstack_set(void *arg);
void probe_kill_parent(void *arg);
#ifdef __x86_64__
void probe_x32_syscall(void *arg); /* getpid through the x32 ABI: the arch check kills */
#endif
/* Allowed in both: abort() must still end in SIGABRT. */
void probe_abort(void *arg);
/* Allowed in both: libev makes its epoll set anew (epoll_create1) when it sees events of
 * a descriptor number that was closed and reused (many channels opening and closing
 * under load), as after a fork. arg: an ev loop made before the filter. */
void probe_libev_refresh(void *arg);

#endif
