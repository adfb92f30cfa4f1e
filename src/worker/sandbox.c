#include "config.h"

#include "worker/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/sandbox_table.h"

/* Everything the worker may do once it reads client bytes. Anything not listed kills
 * the process: socket, socketpair, connect, bind, listen, accept, execve, execveat,
 * fork, vfork, clone, ptrace, mount, the set*id family, prctl, open for writing... */
static const struct sandbox_rule sandbox_rules[] = {
    /* Client TLS (GnuTLS pull: recv, push: sendmsg with an iovec), TUN packets (read,
     * write, readv, writev), stderr. */
    ALLOW(read),
    ALLOW(write),
    ALLOW(readv),
    ALLOW(writev),
    ALLOW(recvfrom),
    ALLOW(sendto),
    /* IPC with main and sec: SEQPACKET frames, fds (TUN, UDP) by SCM_RIGHTS. */
    ALLOW(recvmsg),
    ALLOW(sendmsg),
    /* DTLS on the UDP socket main passes: batched datagrams. */
    ALLOW(recvmmsg),
    ALLOW(sendmmsg),
    /* Ending the TLS connection, closing received fds. */
    ALLOW(shutdown),
    ALLOW(close),
    /* Path MTU of the client's connection; read-only on sockets the worker holds.
     * Socket options are set by main before the fds are handed over. */
    ALLOW(getsockopt),

    /* libev's epoll backend (the epoll fd was created before the sandbox);
     * epoll_pwait is what glibc uses where epoll_wait does not exist. */
    ALLOW(epoll_wait),
    ALLOW(epoll_pwait),
    ALLOW(epoll_ctl),
    /* libev makes its epoll set anew (closes it, epoll_create1, re-adds every watcher)
     * when the kernel reports events of a descriptor number that was closed and reused
     * meanwhile, as when a new DTLS socket takes the number of the one it replaces. */
    ALLOW(epoll_create1),
    /* Blocking waits with a deadline outside the event loop: ipc_recv_expect() and
     * GnuTLS's default pull-timeout function poll. */
    ALLOW(poll),
    ALLOW(ppoll),

    /* Non-blocking mode and close-on-exec of received fds (GnuTLS, libev, IPC); not
     * F_DUPFD, F_SETLK, F_SETOWN, F_SETPIPE_SZ or the other commands. */
    ALLOW_IF(fcntl, ARG(1, SCMP_CMP_EQ, F_GETFL, 0)),
    ALLOW_IF(fcntl, ARG(1, SCMP_CMP_EQ, F_SETFL, 0)),
    ALLOW_IF(fcntl, ARG(1, SCMP_CMP_EQ, F_GETFD, 0)),
    ALLOW_IF(fcntl, ARG(1, SCMP_CMP_EQ, F_SETFD, 0)),
    /* How many bytes wait on a socket. The worker never configures the TUN device:
     * main did that before passing the fd. */
    ALLOW_IF(ioctl, ARG(1, SCMP_CMP_EQ, FIONREAD, 0)),
    /* stdio's isatty() probe on first use of stdout: answer "not a terminal". */
    FAIL_IF(ioctl, ENOTTY, ARG(1, SCMP_CMP_EQ, TCGETS, 0)),

    /* glibc malloc (talloc, protobuf-c, GnuTLS): the heap, large chunks by mmap, trim
     * and arena release. Never executable memory: a PROT_EXEC mapping or protection
     * change kills, so injected code cannot be made runnable. */
    ALLOW(brk),
    ALLOW_IF(mmap, ARG(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)),
    ALLOW_IF(mprotect, ARG(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)),
    ALLOW(munmap),
    ALLOW(mremap),
    ALLOW(madvise),
    /* glibc and GnuTLS locks and pthread_once (FUTEX_WAKE seen after the sandbox).
     * Only plain wait/wake: the requeue and PI operations are where futex exploits
     * lived, and a single-threaded process has no use for them. */
    ALLOW_IF(futex, ARG(1, SCMP_CMP_MASKED_EQ, FUTEX_OP_MASK, FUTEX_WAIT)),
    ALLOW_IF(futex, ARG(1, SCMP_CMP_MASKED_EQ, FUTEX_OP_MASK, FUTEX_WAKE)),
    ALLOW_IF(futex, ARG(1, SCMP_CMP_MASKED_EQ, FUTEX_OP_MASK, FUTEX_WAIT_BITSET)),
    ALLOW_IF(futex, ARG(1, SCMP_CMP_MASKED_EQ, FUTEX_OP_MASK, FUTEX_WAKE_BITSET)),

    /* GnuTLS nonces, keys and blinding. */
    ALLOW(getrandom),
    /* Timers: libev, GnuTLS, timeouts, log timestamps. Normally served by the vDSO;
     * the syscalls are its fallback when the clock source has no vDSO support. */
    ALLOW(clock_gettime),
    ALLOW(clock_getres),
    ALLOW(gettimeofday),
    ALLOW(time),
    ALLOW(nanosleep),
    ALLOW(clock_nanosleep),
    /* glibc qsort sizes its buffer from the amount of physical memory. */
    ALLOW(sysinfo),

    /* GnuTLS fork detection and log lines; abort() also needs the signal calls. */
    ALLOW(getpid),
    ALLOW(gettid),
    /* abort() blocks and unblocks signals, then sends SIGABRT to its own thread. The
     * worker has one thread, so its tid is its pid; signals to anyone else kill. */
    ALLOW(rt_sigprocmask),
    ALLOW_TO_SELF(tgkill, 1u << 0 | 1u << 1),
    ALLOW_TO_SELF(kill, 1u << 0),
    /* Return from a signal handler (SIGTERM, SIGALRM set up before the sandbox) and
     * the kernel's restart of a sleep interrupted by SIGSTOP/SIGCONT. */
    ALLOW(rt_sigreturn),
    ALLOW(restart_syscall),

    /* fstat() of an fd (stdio's first use of a stream) is fstatat(fd, "",
     * AT_EMPTY_PATH). A stat of a path is a probe: refuse it quietly. */
    ALLOW_IF(newfstatat, ARG(3, SCMP_CMP_MASKED_EQ, AT_EMPTY_PATH, AT_EMPTY_PATH)),
    FAIL_IF(newfstatat, EACCES, ARG(3, SCMP_CMP_MASKED_EQ, AT_EMPTY_PATH, 0)),
    /* Read-only opens are harmless probes that happen after the sandbox: glibc's
     * first localtime() reads /etc/localtime (log timestamps fall back to UTC), iconv
     * and NSS look for their modules and files. Refusing them keeps the worker alive;
     * nothing is opened. An open that could write or create a file kills. */
    FAIL_IF(openat, EACCES, ARG(2, SCMP_CMP_MASKED_EQ, OPEN_WRITE_FLAGS, 0)),

    ALLOW(exit_group),
    ALLOW(exit),

    SANITIZER_RULES
};

int sandbox_install(void)
{
	int ret;

	/* The filter must not be the thing that sets no-new-privs: worker_limits() does,
	 * in its place in the start-up order, and a missing step there must show. */
	ret = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
	if (ret < 0)
		return -errno;
	if (ret != 1)
		return -EPERM;
	return sandbox_table_load(sandbox_rules, sizeof(sandbox_rules) / sizeof(sandbox_rules[0]));
}
