/* The worker's privilege drop and process limits. Start-up order (fixed, fail-closed):
 * start-up message -> GnuTLS and certificate -> privdrop() -> worker_limits() ->
 * sandbox_install() -> first read from the client. The worker template drops first of
 * all: start-up message -> privdrop() -> template_limits() -> libraries; the workers it
 * forks are unprivileged from the start, and their privdrop() only proves it. */
#ifndef SLUICE_PRIVDROP_H
#define SLUICE_PRIVDROP_H

#include <sys/types.h>

/* RLIMIT_NOFILE of a worker. Its fds: 0-2 (/dev/null or stderr), 3 client TCP, 4 main
 * channel, 5 sec channel, libev's epoll fd, then a TUN fd and a UDP socket that arrive
 * by SCM_RIGHTS: at most 9 in use, the rest is headroom. An fd that would pass the
 * limit is dropped by the kernel and the receiver sees MSG_CTRUNC. */
#define WORKER_NOFILE_MAX 16

/* Sets the supplementary groups to {gid}, then all three gids, then all three uids, and
 * proves that root cannot be regained. A process that is not root (a worker forked by
 * the template) must already hold exactly uid and gid, and gets the same proof. Returns
 * 0; -EINVAL for a target of 0 or -1; -EPERM if a drop step failed or the ids of an
 * unprivileged caller are others (WEXIT_PRIVDROP); -EACCES if root or a capability is
 * still reachable after the drop (WEXIT_ROOT_REGAINED: the caller must exit at once). */
int privdrop(uid_t uid, gid_t gid);

/* Lowers soft and hard rlimits (no processes, no core, no file writes, WORKER_NOFILE_MAX
 * fds), clears the dumpable flag and sets no-new-privs. Returns 0 or -errno
 * (WEXIT_LIMITS). */
int worker_limits(void);

/* The template's share of worker_limits(): no core, not dumpable, no-new-privs. Not
 * the process and file limits: the template forks, and holds its channel above
 * WORKER_NOFILE_MAX. Returns 0 or -errno (WEXIT_LIMITS). */
int template_limits(void);

#endif
