#include "config.h"

#include "common/sandbox_table.h"

#include <errno.h>
#include <unistd.h>

static int rule_add(scmp_filter_ctx ctx, const struct sandbox_rule *r, pid_t self)
{
	struct scmp_arg_cmp args[SANDBOX_MAX_ARGS];
	unsigned int n = 0;

	for (unsigned int i = 0; i < r->n_args; i++)
		args[n++] = r->args[i];
	for (unsigned int i = 0; i < SANDBOX_MAX_ARGS; i++) {
		if (!(r->self_args & (1u << i)))
			continue;
		if (n == SANDBOX_MAX_ARGS)
			return -E2BIG;
		args[n++] = (struct scmp_arg_cmp)ARG(i, SCMP_CMP_EQ, (scmp_datum_t)self, 0);
	}
	return seccomp_rule_add_array(ctx, r->action, r->nr, n, args);
}

int sandbox_table_load(const struct sandbox_rule *rules, size_t n)
{
	scmp_filter_ctx ctx;
	pid_t self = getpid();
	int ret;

	ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (!ctx)
		return -ENOMEM;
	/* Another ABI (i386 int 0x80, x32) would have other syscall numbers: kill. */
	ret = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	if (ret < 0)
		goto out;
	/* The caller sets no-new-privs in its own place in its start-up order, and a
	 * missing step there must show. */
	ret = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (ret < 0)
		goto out;
	/* A binary tree instead of a linear list: the worker's packet path calls read,
	 * write, sendmsg and recvfrom for every packet. */
	ret = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	if (ret < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		ret = rule_add(ctx, &rules[i], self);
		if (ret < 0)
			goto out;
	}
	ret = seccomp_load(ctx);
out:
	seccomp_release(ctx);
	return ret;
}
