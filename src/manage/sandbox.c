/* sluice-manage's seccomp filter: one static table, default action kill, installed once
 * the process has read its files and dropped to run-as-user, before its first thread
 * and its first connection. It serves HTTPS on the socket main bound and talks to main
 * on two socketpairs; it opens no file, makes no socket but syslog's, never execs or
 * forks (threads only), and never maps executable memory. The list is what the tests
 * saw (strace of test-manage-api.sh) and what glibc's thread and syslog code need. */
#include "config.h"

#include "manage/manage.h"

#include <errno.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>

#include "common/sandbox_table.h"

static const struct sandbox_rule manage_rules[] = {
    /* Connections: TLS records (recvfrom, sendmsg), TCP_CORK and TCP_NODELAY around a
     * response, the peer's address, shutdown and close. */
    ALLOW(accept4),
    ALLOW(accept),
    ALLOW(recvfrom),
    ALLOW(sendmsg),
    ALLOW(sendto),
    ALLOW(read),
    ALLOW(write),
    ALLOW(readv),
    ALLOW(writev),
    ALLOW(setsockopt),
    ALLOW(getsockopt),
    ALLOW(getsockname),
    ALLOW(getpeername),
    ALLOW(shutdown),
    ALLOW(close),
    ALLOW_IF(fcntl, ARG(1, SCMP_CMP_EQ, F_GETFL, 0)),
    ALLOW_IF(fcntl, ARG(1, SCMP_CMP_EQ, F_SETFL, 0)),
    ALLOW_IF(fcntl, ARG(1, SCMP_CMP_EQ, F_GETFD, 0)),
    ALLOW_IF(fcntl, ARG(1, SCMP_CMP_EQ, F_SETFD, 0)),
    /* libmicrohttpd's waits (select in each connection's thread, poll) and the eventfd
     * that wakes its threads when it stops. */
    ALLOW(select),
    ALLOW(pselect6),
    ALLOW(poll),
    ALLOW(ppoll),
    ALLOW(eventfd2),
    /* main's replies and events (SEQPACKET). */
    ALLOW(recvmsg),

    /* Threads: one per connection and the event stream's. glibc tries clone3 first
     * and uses clone when the kernel says it has none; clone is allowed for threads
     * only (CLONE_THREAD), never for a new process. */
    FAIL_IF(clone3, ENOSYS),
    ALLOW_IF(clone, ARG(0, SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD)),
    ALLOW(futex),
    ALLOW(set_robust_list),
    ALLOW(rseq),
    ALLOW_IF(prctl, ARG(0, SCMP_CMP_EQ, PR_SET_NAME, 0)),
    ALLOW(exit),
    ALLOW(exit_group),
    ALLOW(sched_yield),

    /* Memory: malloc, thread stacks (their guard pages, returned with MADV_DONTNEED).
     * Never executable. */
    ALLOW(brk),
    ALLOW_IF(mmap, ARG(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)),
    ALLOW_IF(mprotect, ARG(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)),
    ALLOW(munmap),
    ALLOW(mremap),
    ALLOW(madvise),

    /* TLS randomness, clocks (the vDSO's fallbacks), the wait of a stopping process. */
    ALLOW(getrandom),
    ALLOW(clock_gettime),
    ALLOW(gettimeofday),
    ALLOW(time),
    ALLOW(clock_nanosleep),
    ALLOW(nanosleep),

    /* Signals: the main thread's sigwait for SIGTERM, masks, glibc's thread signal
     * handler set up on the first pthread_create; abort() on itself. */
    ALLOW(rt_sigtimedwait),
    ALLOW(rt_sigprocmask),
    ALLOW(rt_sigaction),
    ALLOW(rt_sigreturn),
    ALLOW(getpid),
    ALLOW(gettid),
    ALLOW_TO_SELF(tgkill, 1u << 0 | 1u << 1),

    /* syslog() when sluiced runs in the background: a datagram Unix socket to /dev/log
     * (glibc's retry with a stream socket fails quietly). Not seen in the tests, which
     * run sluiced -f. */
    ALLOW_IF(socket, ARG(0, SCMP_CMP_EQ, AF_UNIX, 0),
	     ARG(1, SCMP_CMP_MASKED_EQ, SOCK_TYPE_MASK, SOCK_DGRAM)),
    FAIL_IF(socket, EACCES, ARG(0, SCMP_CMP_EQ, AF_UNIX, 0),
	    ARG(1, SCMP_CMP_MASKED_EQ, SOCK_TYPE_MASK, SOCK_STREAM)),
    ALLOW(connect),
    /* Read-only opens and stats are harmless probes (glibc's time zone code): refused
     * quietly, nothing is opened. An open that could write kills. */
    FAIL_IF(openat, EACCES, ARG(2, SCMP_CMP_MASKED_EQ, OPEN_WRITE_FLAGS, 0)),
    FAIL_IF(newfstatat, EACCES, ARG(3, SCMP_CMP_MASKED_EQ, AT_EMPTY_PATH, 0)),
    /* A user's history: the audit log's size (fstat) and blocks of it (pread). */
    ALLOW_IF(newfstatat, ARG(3, SCMP_CMP_MASKED_EQ, AT_EMPTY_PATH, AT_EMPTY_PATH)),
    ALLOW(fstat),
    ALLOW(pread64),

#ifdef SLUICE_SANITIZERS
    /* A --enable-sanitizers build only: ASan sets up each new thread (its stack bounds,
     * an alternate signal stack). */
    ALLOW(sigaltstack),
    ALLOW(sched_getaffinity),
    ALLOW(getrlimit),
    ALLOW(prlimit64),
#endif
    SANITIZER_RULES
};

int manage_sandbox_install(void)
{
	int ret = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);

	/* template_limits() sets no-new-privs in its place in the start-up order. */
	if (ret != 1)
		return ret < 0 ? -errno : -EPERM;
	return sandbox_table_load(manage_rules, sizeof(manage_rules) / sizeof(manage_rules[0]));
}
