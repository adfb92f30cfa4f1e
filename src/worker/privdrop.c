#include "config.h"

#include "worker/privdrop.h"

#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <linux/capability.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

/* True if the process still holds any capability. A uid change from 0 clears them,
 * unless securebits inherited from whoever started main (SECBIT_KEEP_CAPS,
 * SECBIT_NO_SETUID_FIXUP) say otherwise; a kept CAP_NET_RAW or CAP_DAC_OVERRIDE is
 * as bad as root for a process that parses client bytes. */
static int has_capabilities(void)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	if (syscall(SYS_capget, &hdr, data) < 0)
		return 1;
	for (size_t i = 0; i < _LINUX_CAPABILITY_U32S_3; i++) {
		if (data[i].effective || data[i].permitted || data[i].inheritable)
			return 1;
	}
	return 0;
}

/* Tries to undo the drop in every way a leftover privilege would allow. Any success
 * means the drop is not real; the ids are then wrong and the caller must exit. */
static int privdrop_prove(uid_t uid, gid_t gid)
{
	uid_t ruid, euid, suid;
	gid_t rgid, egid, sgid;
	gid_t groups[2];
	gid_t root = 0;

	if (setresuid(0, 0, 0) == 0 || setuid(0) == 0 || seteuid(0) == 0)
		return -EACCES;
	if (setresgid(0, 0, 0) == 0 || setgid(0) == 0 || setegid(0) == 0)
		return -EACCES;
	if (setgroups(1, &root) == 0)
		return -EACCES;
	if (getresuid(&ruid, &euid, &suid) < 0 || ruid != uid || euid != uid || suid != uid)
		return -EACCES;
	if (getresgid(&rgid, &egid, &sgid) < 0 || rgid != gid || egid != gid || sgid != gid)
		return -EACCES;
	if (getgroups(2, groups) != 1 || groups[0] != gid)
		return -EACCES;
	if (has_capabilities())
		return -EACCES;
	return 0;
}

/* A worker forked by the template starts with the template's ids: they must be the
 * ones main asked for, and there is nothing left to drop. */
static int already_dropped(uid_t uid, gid_t gid)
{
	uid_t ruid, euid, suid;
	gid_t rgid, egid, sgid;

	if (getresuid(&ruid, &euid, &suid) < 0 || getresgid(&rgid, &egid, &sgid) < 0)
		return -EPERM;
	if (ruid != uid || euid != uid || suid != uid || rgid != gid || egid != gid || sgid != gid)
		return -EPERM;
	return privdrop_prove(uid, gid);
}

int privdrop(uid_t uid, gid_t gid)
{
	/* -1 means "leave unchanged" to the set*id calls, 0 is the root we are leaving. */
	if (uid == 0 || gid == 0 || uid == (uid_t)-1 || gid == (gid_t)-1)
		return -EINVAL;
	if (geteuid() != 0)
		return already_dropped(uid, gid);
	/* Supplementary groups first: main's (root's) groups would otherwise survive the
	 * drop, and only root may change them. */
	if (setgroups(1, &gid) < 0)
		return -EPERM;
	/* Groups before users: once the uid is dropped the gids can no longer change. All
	 * three ids, so that no saved id remains to switch back to. */
	if (setresgid(gid, gid, gid) < 0)
		return -EPERM;
	if (setresuid(uid, uid, uid) < 0)
		return -EPERM;
	return privdrop_prove(uid, gid);
}

static const struct {
	int resource;
	rlim_t value;
} worker_rlimits[] = {
    /* The worker never forks or execs; with the seccomp filter this is a second wall,
     * and it counts the worker's uid, so run-as-user processes elsewhere cannot make
     * a fork succeed. */
    {RLIMIT_NPROC, 0},
    /* A core file would hold TLS session keys and the client's traffic. */
    {RLIMIT_CORE, 0},
#ifndef SLUICE_SANITIZERS
    /* The worker writes no files; a write to a regular file fails with SIGXFSZ. Pipes,
     * sockets and /dev/null are not files in this sense, so logging still works. Not in
     * a --enable-sanitizers build: there a sanitizer report goes to stderr, which the
     * tests point at a file (sluiced's log), and the limit would swallow it. */
    {RLIMIT_FSIZE, 0},
#endif
    /* Bounds what a confused receiver can accumulate (see WORKER_NOFILE_MAX). */
    {RLIMIT_NOFILE, WORKER_NOFILE_MAX},
};

/* Not dumpable: no ptrace or /proc/<pid>/mem by other run-as-user processes (workers
 * share one uid, and the template's memory is every worker's start), and no core dump.
 * No new privileges: required by an unprivileged seccomp filter, and no execve could
 * gain privileges (setuid bits, file capabilities) should a filter ever allow one. */
static int seal(void)
{
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return -errno;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	return 0;
}

int worker_limits(void)
{
	struct sigaction ign = {.sa_handler = SIG_IGN};

	/* With RLIMIT_FSIZE 0 a write to a regular file raises SIGXFSZ, whose default
	 * action kills. A stray line to a stderr that is a file must fail (EFBIG), not end
	 * the session. */
	if (sigaction(SIGXFSZ, &ign, NULL) < 0)
		return -errno;
	for (size_t i = 0; i < sizeof(worker_rlimits) / sizeof(worker_rlimits[0]); i++) {
		/* Soft and hard: the unprivileged worker can then never raise them again. */
		struct rlimit rl = {worker_rlimits[i].value, worker_rlimits[i].value};

		if (setrlimit(worker_rlimits[i].resource, &rl) < 0)
			return -errno;
	}
	/* The uid change already cleared the dumpable flag; seal() says it explicitly. */
	return seal();
}

int template_limits(void)
{
	/* The template holds no secret, but its memory is every worker's start. */
	struct rlimit no_core = {0, 0};

	if (setrlimit(RLIMIT_CORE, &no_core) < 0)
		return -errno;
	/* Both flags are inherited by every worker it forks, before its own
	 * worker_limits(). */
	return seal();
}
