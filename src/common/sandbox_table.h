/* A seccomp filter as one static table of rules, for the processes that run under one
 * (the worker's src/worker/sandbox.c, sec's src/sec/sec_sandbox.c): each table lists
 * what its process may do, with a comment per entry saying who needs it. */
#ifndef SLUICE_SANDBOX_TABLE_H
#define SLUICE_SANDBOX_TABLE_H

#include <fcntl.h>
#include <linux/futex.h>
#include <seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define SANDBOX_MAX_ARGS 3

/* One syscall with one action. Several entries for the same syscall with different
 * argument conditions are alternatives; all conditions of one entry must hold. */
struct sandbox_rule {
	int nr;
	uint32_t action;
	unsigned int n_args;
	struct scmp_arg_cmp args[SANDBOX_MAX_ARGS];
	/* These arguments must equal the process's own pid, filled in at install time. */
	unsigned int self_args;
};

/* clang-format off */
#define ARG(i, o, a, b) {.arg = (i), .op = (o), .datum_a = (a), .datum_b = (b)}
#define N_ARGS(...) (sizeof((struct scmp_arg_cmp[]){__VA_ARGS__}) / sizeof(struct scmp_arg_cmp))
#define ALLOW(name) {.nr = SCMP_SYS(name), .action = SCMP_ACT_ALLOW}
#define ALLOW_IF(name, ...) \
	{.nr = SCMP_SYS(name), .action = SCMP_ACT_ALLOW, \
	 .n_args = N_ARGS(__VA_ARGS__), .args = {__VA_ARGS__}}
#define FAIL_IF(name, err, ...) \
	{.nr = SCMP_SYS(name), .action = SCMP_ACT_ERRNO(err), \
	 .n_args = N_ARGS(__VA_ARGS__), .args = {__VA_ARGS__}}
#define ALLOW_TO_SELF(name, mask) \
	{.nr = SCMP_SYS(name), .action = SCMP_ACT_ALLOW, .self_args = (mask)}
/* Open flags that create, truncate or grant write access. O_TMPFILE without its
 * O_DIRECTORY bit, which alone is a harmless read-only flag. */
#define OPEN_WRITE_FLAGS (O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND | (O_TMPFILE & ~O_DIRECTORY))
/* The futex command without the private and clock flags; the kernel reads op as an int. */
#define FUTEX_OP_MASK (0xffffffffu & (unsigned int)FUTEX_CMD_MASK)
/* A socket's type without SOCK_CLOEXEC and SOCK_NONBLOCK. */
#define SOCK_TYPE_MASK (0xffffffffu & ~(unsigned int)(SOCK_CLOEXEC | SOCK_NONBLOCK))

#ifdef SLUICE_SANITIZERS
/* A --enable-sanitizers build only, never a production one: what the sanitizer runtimes
 * call, at the end of every table. ASan, before every call that does not return (_exit,
 * abort), reads the alternate signal stack (reading only); its allocator hands freed
 * memory back to the kernel; its report reads /proc/self/maps with the old open syscall
 * (read-only). UBSan's first report looks up /proc/self/exe. The symbolizer of a report
 * opens the binaries (read-only, as allowed) and sets close-on-exec on them. */
#define SANITIZER_RULES \
	ALLOW_IF(sigaltstack, ARG(0, SCMP_CMP_EQ, 0, 0)), \
	ALLOW(madvise), \
	ALLOW_IF(open, ARG(1, SCMP_CMP_MASKED_EQ, OPEN_WRITE_FLAGS, 0)), \
	ALLOW(readlink), \
	ALLOW_IF(fcntl, ARG(1, SCMP_CMP_EQ, F_SETFD, 0)),
#else
#define SANITIZER_RULES
#endif
/* clang-format on */

/* Installs rules[0..n) as the calling (single-threaded) process's filter: anything not
 * listed, and any syscall of another ABI, kills the process (SIGSYS). Does not set
 * no-new-privs itself; without it the kernel refuses the filter. Returns 0 or a
 * negative errno from libseccomp or the kernel. */
int sandbox_table_load(const struct sandbox_rule *rules, size_t n);

#endif
