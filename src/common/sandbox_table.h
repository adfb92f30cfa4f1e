/* A seccomp filter as one static table of rules, for the processes that run under one
 * (the worker's src/worker/sandbox.c, sec's src/sec/sec_sandbox.c): each table lists
 * what its process may do, with a comment per entry saying who needs it. */
#ifndef SLUICE_SANDBOX_TABLE_H
#define SLUICE_SANDBOX_TABLE_H

#include <seccomp.h>
#include <stddef.h>
#include <stdint.h>

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
/* clang-format on */

/* Installs rules[0..n) as the calling (single-threaded) process's filter: anything not
 * listed, and any syscall of another ABI, kills the process (SIGSYS). Does not set
 * no-new-privs itself; without it the kernel refuses the filter. Returns 0 or a
 * negative errno from libseccomp or the kernel. */
int sandbox_table_load(const struct sandbox_rule *rules, size_t n);

#endif
