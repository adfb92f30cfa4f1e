/* sec's seccomp filter: one static table, default action kill. Installed once sec has
 * loaded the key and before it reads the first message from main, so everything below
 * is what serving takes: messages from main and workers, signatures, password checks,
 * the per-user files and the key of a reload, logging. */
#include "config.h"

#include "sec/sec.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include "common/sandbox_table.h"

/* Both tables below (sec's and its OTP helper's) end with these. */
/* clang-format off */
#define ABORT_RULES \
	ALLOW(rt_sigprocmask), ALLOW(gettid), ALLOW_TO_SELF(tgkill, 1u << 0 | 1u << 1)
/* clang-format on */

/* Everything sec may do once it serves, as the integration tests saw it (strace of sec
 * through logins, cookie reconnects, reloads with new keys and priorities, per-user
 * files, session lists, SIGSTOP/SIGCONT) plus the paths those runs do not take, each
 * marked "not seen in the tests". Anything not listed kills the process: socket
 * (other than a Unix one), bind, listen, accept, execve, fork, clone, ptrace, signals
 * to another process, the set*id family, capset, prctl, mount, open for writing,
 * unlink, rename, chmod, mprotect, open_by_handle_at... */
static const struct sandbox_rule sec_rules[] = {
    /* IPC with main and the workers: SEQPACKET frames, the worker channels main hands
     * over by SCM_RIGHTS (recvmsg); closing a worker's channel. */
    ALLOW(recvmsg),
    ALLOW(sendmsg),
    ALLOW(close),
    /* libev's epoll backend (the epoll fd was created before the filter); epoll_pwait
     * is what glibc uses where epoll_wait does not exist. */
    ALLOW(epoll_wait),
    ALLOW(epoll_pwait),
    ALLOW(epoll_ctl),
    /* libev makes its epoll set anew (closes it, epoll_create1, re-adds every watcher)
     * when the kernel reports events of a descriptor number that was closed and reused
     * meanwhile: under a burst of workers coming and going, sec's channels do that. */
    ALLOW(epoll_create1),
    /* The one wait that is not libev's: sec's bounded wait for the OTP helper's verdict
     * (ipc_recv_expect); glibc's poll is the poll syscall on x86-64, ppoll elsewhere. */
    ALLOW(poll),
    ALLOW(ppoll),

    /* At each login the password file and the per-user and per-group files, on a
     * reload the key file: read-only opens (O_RDONLY, O_CLOEXEC, O_NOCTTY), fstat and
     * read, stdio's lseek (GnuTLS reads the key with fopen). An open that could write
     * or create a file kills. */
    ALLOW_IF(openat, ARG(2, SCMP_CMP_MASKED_EQ, OPEN_WRITE_FLAGS, 0)),
    ALLOW_IF(newfstatat, ARG(3, SCMP_CMP_MASKED_EQ, AT_EMPTY_PATH, AT_EMPTY_PATH)),
    ALLOW(read),
    ALLOW(lseek),
    /* A stat of a path is a harmless probe (glibc's time zone code does one when TZ
     * changes): refuse it quietly. Not seen in the tests. */
    FAIL_IF(newfstatat, EACCES, ARG(3, SCMP_CMP_MASKED_EQ, AT_EMPTY_PATH, 0)),
    /* A server key in a PKCS#11 token (server-key = pkcs11:): SoftHSM2 locks its object
     * files (record locks, read-only opens) around each signature. */
    ALLOW_IF(fcntl, ARG(1, SCMP_CMP_EQ, F_SETLKW, 0)),
    ALLOW_IF(fcntl, ARG(1, SCMP_CMP_EQ, F_SETLK, 0)),
    ALLOW_IF(fcntl, ARG(1, SCMP_CMP_EQ, F_GETLK, 0)),
    ALLOW_IF(fcntl, ARG(1, SCMP_CMP_EQ, F_GETFL, 0)),
    /* Log lines on stderr (sluiced -f). */
    ALLOW(write),
    ALLOW(getpid),
    /* syslog() when sluiced runs in the background: glibc opens the socket to /dev/log
     * again when the log daemon has gone away (every time while there is none).
     * Datagram Unix sockets only; glibc's retry with a stream socket fails quietly.
     * Not seen in the tests, which run sluiced -f. */
    ALLOW_IF(socket, ARG(0, SCMP_CMP_EQ, AF_UNIX, 0),
	     ARG(1, SCMP_CMP_MASKED_EQ, SOCK_TYPE_MASK, SOCK_DGRAM)),
    FAIL_IF(socket, EACCES, ARG(0, SCMP_CMP_EQ, AF_UNIX, 0),
	    ARG(1, SCMP_CMP_MASKED_EQ, SOCK_TYPE_MASK, SOCK_STREAM)),
    ALLOW(connect),
    ALLOW(sendto),

    /* glibc malloc (talloc, protobuf-c, GnuTLS; yescrypt's 16 MiB blocks by mmap).
     * Never executable memory: a PROT_EXEC mapping kills, and mprotect is not allowed
     * at all. mremap: realloc of a large block (a big password file); not seen in the
     * tests. */
    ALLOW(brk),
    ALLOW_IF(mmap, ARG(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)),
    ALLOW(munmap),
    ALLOW(mremap),
    /* pthread_once wakes waiters unconditionally when a GnuTLS or glibc one-time
     * initialisation first runs after the filter; a single thread never waits. Not seen
     * in the tests. */
    ALLOW_IF(futex, ARG(1, SCMP_CMP_MASKED_EQ, FUTEX_OP_MASK, FUTEX_WAKE)),

    /* Cookies, RSA blinding, ECDSA nonces, password salts. */
    ALLOW(getrandom),
    /* libev's timers (cookie expiry), session times, log timestamps. The vDSO serves
     * them; these are its fallbacks on a clock source without vDSO support, not seen in
     * the tests. */
    ALLOW(clock_gettime),
    ALLOW(gettimeofday),
    ALLOW(time),

    /* abort() (a failed assertion, talloc's abort on a corrupt pointer) unblocks
     * SIGABRT and signals its own thread, so that sec dies of SIGABRT rather than of
     * SIGSYS. sec has one thread: its tid is its pid. Not seen in the tests. */
    ABORT_RULES,

    ALLOW(exit_group),
    SANITIZER_RULES
};

/* The OTP helper's filter (src/sec/sec_otp.c), installed before it reads its first
 * request: the helper has no capability, like sec, and only its one channel to sec. It
 * reads the users file and replaces it: a new file of a random name beside it (created,
 * never opened when it exists, so no existing file is written), fsync, rename over the
 * users file, fsync of the directory. Anything else kills it, and sec then refuses every
 * code until a restart. */
static const struct sandbox_rule otp_rules[] = {
    /* Requests from sec and its verdicts; the wait for the next request. */
    ALLOW(recvmsg),
    ALLOW(sendmsg),
    ALLOW(poll),
    ALLOW(ppoll),
    ALLOW(close),
    /* Reading the users file and its directory: read-only opens, fstat, read. */
    ALLOW_IF(openat, ARG(2, SCMP_CMP_MASKED_EQ, OPEN_WRITE_FLAGS, 0)),
    ALLOW(read),
    ALLOW(lseek),
    /* stat of the users file (its mode and owner go to the new one), fstat. */
    ALLOW(newfstatat),
    /* The new file: created exclusively, write-only. O_EXCL (with O_NOFOLLOW) means it
     * cannot be an existing file or a link to one; O_CLOEXEC and O_LARGEFILE may come
     * with it. */
    ALLOW_IF(openat, ARG(2, SCMP_CMP_MASKED_EQ, OPEN_WRITE_FLAGS | O_EXCL,
			 O_WRONLY | O_CREAT | O_EXCL)),
    ALLOW(write),
    ALLOW(fchmod),
    /* Its owner is the users file's when that is not the helper's own uid and gid. */
    ALLOW(geteuid),
    ALLOW(getegid),
    ALLOW(fchown),
    ALLOW(fsync),
    /* The rename over the users file; glibc uses rename, renameat or renameat2 (without
     * flags) depending on the architecture. */
    ALLOW(rename),
    ALLOW(renameat),
    ALLOW_IF(renameat2, ARG(4, SCMP_CMP_EQ, 0, 0)),
    /* Removing the new file when writing it failed. */
    ALLOW(unlink),
    ALLOW_IF(unlinkat, ARG(2, SCMP_CMP_EQ, 0, 0)),
    /* The new file's random name. */
    ALLOW(getrandom),
    /* Timestamps and the TOTP time step; the vDSO serves them, these are its
     * fallbacks. */
    ALLOW(clock_gettime),
    ALLOW(gettimeofday),
    ALLOW(time),
    /* glibc malloc (talloc, protobuf-c); never executable memory. */
    ALLOW(brk),
    ALLOW_IF(mmap, ARG(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)),
    ALLOW(munmap),
    ALLOW(mremap),
    ALLOW_IF(futex, ARG(1, SCMP_CMP_MASKED_EQ, FUTEX_OP_MASK, FUTEX_WAKE)),
    /* abort(), as in sec's table. */
    ABORT_RULES,
    ALLOW(exit_group),
    SANITIZER_RULES
};

/* A RADIUS auth helper (auth_helper.c, auth_radius.c), running as run-as-user once it
 * has read radcli's files: its channel to sec, UDP to the RADIUS servers (and the
 * resolver when radcli's configuration names them by name), its alarm, and the log. */
static const struct sandbox_rule radius_rules[] = {
    /* Logins from sec, prompts and verdicts; the wait for the next login or an answer. */
    ALLOW(recvmsg),
    ALLOW(sendmsg),
    ALLOW(poll),
    ALLOW(ppoll),
    ALLOW(close),
    /* radcli's requests: a UDP socket per request, bound (bindaddr) and connected or
     * sent to, and the wait for the answer. Only IPv4 and IPv6 datagram sockets; Unix
     * sockets for syslog and for glibc's name service lookups (radcli looks up the
     * radius service and the server's address: nscd, sssd). */
    ALLOW_IF(socket, ARG(0, SCMP_CMP_EQ, AF_INET, 0),
	     ARG(1, SCMP_CMP_MASKED_EQ, SOCK_TYPE_MASK, SOCK_DGRAM)),
    ALLOW_IF(socket, ARG(0, SCMP_CMP_EQ, AF_INET6, 0),
	     ARG(1, SCMP_CMP_MASKED_EQ, SOCK_TYPE_MASK, SOCK_DGRAM)),
    ALLOW_IF(socket, ARG(0, SCMP_CMP_EQ, AF_UNIX, 0)),
    ALLOW(bind),
    ALLOW(connect),
    ALLOW(getsockname),
    ALLOW(setsockopt),
    ALLOW(sendto),
    ALLOW(recvfrom),
    ALLOW(select),
    ALLOW(pselect6),
    ALLOW_IF(fcntl, ARG(1, SCMP_CMP_EQ, F_GETFL, 0)),
    ALLOW_IF(fcntl, ARG(1, SCMP_CMP_EQ, F_SETFL, 0)),
    /* The resolver, for a server named by name: read-only opens (resolv.conf, hosts). */
    ALLOW_IF(openat, ARG(2, SCMP_CMP_MASKED_EQ, OPEN_WRITE_FLAGS, 0)),
    ALLOW(read),
    ALLOW(newfstatat),
    ALLOW(lseek),
    /* The log (stderr), the request authenticator's randomness, the clocks. */
    ALLOW(write),
    ALLOW(getrandom),
    ALLOW(clock_gettime),
    ALLOW(gettimeofday),
    ALLOW(time),
    ALLOW(getpid),
    /* The helper's own deadline (alarm) per step. */
    ALLOW(alarm),
    ALLOW(setitimer),
    /* glibc malloc (talloc, protobuf-c, radcli); never executable memory. */
    ALLOW(brk),
    ALLOW_IF(mmap, ARG(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)),
    ALLOW(munmap),
    ALLOW(mremap),
    ALLOW_IF(futex, ARG(1, SCMP_CMP_MASKED_EQ, FUTEX_OP_MASK, FUTEX_WAKE)),
    ABORT_RULES,
    ALLOW(exit_group),
    SANITIZER_RULES
};

/* An LDAP auth helper (auth_helper.c, auth_ldap.c), running as run-as-user once it has
 * read the service account's password and the CAs: its channel to sec, one TCP
 * connection per login to the directory (TLS by GnuTLS inside libldap), the resolver
 * when ldap-uri names servers by name, its alarm, and the log; as test-ldap.sh saw it
 * (strace of the helpers through every login it makes), plus the paths marked "not
 * seen in the tests". libldap's own start-up (its SASL plug-ins, the host's name) and
 * the TLS context (the CAs) happened before the filter, as root. */
static const struct sandbox_rule ldap_rules[] = {
    /* Logins from sec and verdicts; the wait for the next login. */
    ALLOW(recvmsg),
    ALLOW(sendmsg),
    ALLOW(poll),
    ALLOW(ppoll),
    ALLOW(close),
    /* The connection to a server: a TCP socket of either family, close-on-exec set by
     * fcntl, keepalive and no-delay set, connected without blocking (O_NONBLOCK toggled
     * by fcntl, poll, the outcome read with getpeername), shut down at the end. */
    ALLOW_IF(socket, ARG(0, SCMP_CMP_EQ, AF_INET, 0),
	     ARG(1, SCMP_CMP_MASKED_EQ, SOCK_TYPE_MASK, SOCK_STREAM)),
    ALLOW_IF(socket, ARG(0, SCMP_CMP_EQ, AF_INET6, 0),
	     ARG(1, SCMP_CMP_MASKED_EQ, SOCK_TYPE_MASK, SOCK_STREAM)),
    ALLOW(connect),
    ALLOW(getpeername),
    ALLOW(setsockopt),
    ALLOW(shutdown),
    ALLOW_IF(fcntl, ARG(1, SCMP_CMP_EQ, F_GETFL, 0)),
    ALLOW_IF(fcntl, ARG(1, SCMP_CMP_EQ, F_SETFL, 0)),
    ALLOW_IF(fcntl, ARG(1, SCMP_CMP_EQ, F_SETFD, 0)),
    /* glibc's resolver, for a server named by name: stat of nsswitch.conf and
     * resolv.conf, read-only opens of hosts (seen in the tests); UDP sockets to the name
     * servers, the A and AAAA queries sent at once (sendmmsg) or one by one, their
     * answers (recvfrom); Unix sockets to nscd, and to syslog's /dev/log when sluiced
     * runs in the background (not seen in the tests). */
    ALLOW_IF(openat, ARG(2, SCMP_CMP_MASKED_EQ, OPEN_WRITE_FLAGS, 0)),
    ALLOW(newfstatat),
    ALLOW(lseek),
    ALLOW_IF(socket, ARG(0, SCMP_CMP_EQ, AF_INET, 0),
	     ARG(1, SCMP_CMP_MASKED_EQ, SOCK_TYPE_MASK, SOCK_DGRAM)),
    ALLOW_IF(socket, ARG(0, SCMP_CMP_EQ, AF_INET6, 0),
	     ARG(1, SCMP_CMP_MASKED_EQ, SOCK_TYPE_MASK, SOCK_DGRAM)),
    ALLOW_IF(socket, ARG(0, SCMP_CMP_EQ, AF_UNIX, 0)),
    ALLOW(sendmmsg),
    ALLOW(sendto),
    ALLOW(recvfrom),
    /* The connection's bytes (libldap reads and writes the socket), the log (stderr). */
    ALLOW(read),
    ALLOW(write),
    ALLOW(getpid),
    /* GnuTLS's randomness (TLS handshakes), the clocks. */
    ALLOW(getrandom),
    ALLOW(clock_gettime),
    ALLOW(gettimeofday),
    ALLOW(time),
    /* The helper's own deadline (alarm) per login. */
    ALLOW(alarm),
    ALLOW(setitimer),
    /* glibc malloc (talloc, protobuf-c, libldap, GnuTLS); never executable memory. */
    ALLOW(brk),
    ALLOW_IF(mmap, ARG(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)),
    ALLOW(munmap),
    ALLOW(mremap),
    /* GnuTLS's and libldap's one-time initialisations wake waiters (one thread). */
    ALLOW_IF(futex, ARG(1, SCMP_CMP_MASKED_EQ, FUTEX_OP_MASK, FUTEX_WAKE)),
    ABORT_RULES,
    ALLOW(exit_group),
    SANITIZER_RULES
};

/* A helper of plain auth (auth_helper.c), running as run-as-user: it receives a crypt
 * hash and a password from sec, hashes (libcrypt's crypt_rn: memory only; yescrypt's
 * blocks by mmap) and answers. Nothing else: no file (an open fails), no socket of its
 * own, no signal but its own alarm. */
static const struct sandbox_rule hash_rules[] = {
    /* Hashes from sec and the answers; the wait for the next one. */
    ALLOW(recvmsg),
    ALLOW(sendmsg),
    ALLOW(poll),
    ALLOW(ppoll),
    ALLOW(close),
    /* The log (stderr), and syslog() when sluiced runs in the background: datagram
     * Unix sockets to /dev/log, as in sec's table; not seen in the tests. */
    ALLOW(write),
    ALLOW(getpid),
    ALLOW_IF(socket, ARG(0, SCMP_CMP_EQ, AF_UNIX, 0),
	     ARG(1, SCMP_CMP_MASKED_EQ, SOCK_TYPE_MASK, SOCK_DGRAM)),
    FAIL_IF(socket, EACCES, ARG(0, SCMP_CMP_EQ, AF_UNIX, 0),
	    ARG(1, SCMP_CMP_MASKED_EQ, SOCK_TYPE_MASK, SOCK_STREAM)),
    ALLOW(connect),
    ALLOW(sendto),
    /* A log line's timestamp: glibc's localtime loads /etc/localtime on first use (in
     * a helper whose parent never logged). No file is opened here: every open fails
     * quietly and the time is then UTC. */
    FAIL_IF(openat, EACCES, ARG(2, SCMP_CMP_MASKED_EQ, 0, 0)),
    FAIL_IF(newfstatat, EACCES, ARG(3, SCMP_CMP_MASKED_EQ, 0, 0)),
    /* The clocks of log timestamps (the vDSO's fallbacks). */
    ALLOW(clock_gettime),
    ALLOW(gettimeofday),
    ALLOW(time),
    /* The helper's own deadline (alarm) per hash. */
    ALLOW(alarm),
    ALLOW(setitimer),
    /* glibc malloc (talloc, protobuf-c, libcrypt's state and yescrypt's 16 MiB block);
     * never executable memory. */
    ALLOW(brk),
    ALLOW_IF(mmap, ARG(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)),
    ALLOW(munmap),
    ALLOW(mremap),
    ALLOW_IF(futex, ARG(1, SCMP_CMP_MASKED_EQ, FUTEX_OP_MASK, FUTEX_WAKE)),
    ABORT_RULES,
    ALLOW(exit_group),
    SANITIZER_RULES
};

/* sec_privdrop() sets no-new-privs; a filter must not be what does it. */
static int nnp_set(void)
{
	int ret = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);

	if (ret < 0)
		return -errno;
	return ret == 1 ? 0 : -EPERM;
}

int sec_sandbox_install(void)
{
	int ret = nnp_set();

	return ret < 0 ? ret : sandbox_table_load(sec_rules, sizeof(sec_rules) / sizeof(sec_rules[0]));
}

int sec_otp_sandbox_install(void)
{
	int ret = nnp_set();

	return ret < 0 ? ret : sandbox_table_load(otp_rules, sizeof(otp_rules) / sizeof(otp_rules[0]));
}

int auth_radius_sandbox_install(void)
{
	int ret = nnp_set();

	return ret < 0 ? ret
		       : sandbox_table_load(radius_rules, sizeof(radius_rules) / sizeof(radius_rules[0]));
}

int auth_ldap_sandbox_install(void)
{
	int ret = nnp_set();

	return ret < 0 ? ret : sandbox_table_load(ldap_rules, sizeof(ldap_rules) / sizeof(ldap_rules[0]));
}

int auth_hash_sandbox_install(void)
{
	int ret = nnp_set();

	return ret < 0 ? ret : sandbox_table_load(hash_rules, sizeof(hash_rules) / sizeof(hash_rules[0]));
}
