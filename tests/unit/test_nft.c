/* main_nft_run and main_nft_try against stand-ins for libnftables (linked instead of
 * it): a command that fails as interrupted runs again, a bounded number of times; any
 * other failure is reported at once. */
#include "config.h"
#include "main/nft.h"

#include <check.h>
#include <errno.h>
#include <nftables/libnftables.h>
#include <string.h>
#include <talloc.h>

#include "check_main.h"

static int fails_left; /* runs that fail before one succeeds */
static int fail_errno; /* errno of a failing run */
static const char *fail_text;
static int runs;
static char dummy;

struct nft_ctx *nft_ctx_new(uint32_t flags)
{
	return (struct nft_ctx *)&dummy;
}

void nft_ctx_free(struct nft_ctx *ctx)
{
}

int nft_ctx_buffer_output(struct nft_ctx *ctx)
{
	return 0;
}

int nft_ctx_buffer_error(struct nft_ctx *ctx)
{
	return 0;
}

const char *nft_ctx_get_error_buffer(struct nft_ctx *ctx)
{
	errno = 0; /* as a real call may: the caller must have kept run's errno */
	return fail_text;
}

int nft_run_cmd_from_buffer(struct nft_ctx *nft, const char *buf)
{
	runs++;
	if (fails_left == 0)
		return 0;
	if (fails_left > 0)
		fails_left--;
	errno = fail_errno;
	return -1;
}

static bool use_try; /* main_nft_try instead of main_nft_run */

static int run_with(int fails, int err, const char *text)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	struct main_nft *n = main_nft_new(ctx);
	int ret;

	ck_assert_ptr_nonnull(n);
	fails_left = fails;
	fail_errno = err;
	fail_text = text;
	runs = 0;
	ret = use_try ? main_nft_try(n, "add table inet t\n")
		      : main_nft_run(n, "test", "add table inet t\n");
	talloc_free(ctx);
	return ret;
}

START_TEST(test_success)
{
	ck_assert_int_eq(run_with(0, 0, ""), 0);
	ck_assert_int_eq(runs, 1);
}
END_TEST

START_TEST(test_interrupted_runs_again)
{
	/* by errno, and by the text alone (errno lost inside libnftables) */
	ck_assert_int_eq(run_with(1, EINTR, "Error: Interrupted system call\n"), 0);
	ck_assert_int_eq(runs, 2);
	ck_assert_int_eq(run_with(2, 0, "netlink: Error: Interrupted system call\n"), 0);
	ck_assert_int_eq(runs, 3);
}
END_TEST

START_TEST(test_interrupted_bounded)
{
	ck_assert_int_eq(run_with(-1, EINTR, "Error: Interrupted system call\n"), -EIO);
	ck_assert_int_eq(runs, 4);
}
END_TEST

START_TEST(test_other_error_once)
{
	ck_assert_int_eq(run_with(-1, ENOENT, "Error: No such file or directory\n"), -EIO);
	ck_assert_int_eq(runs, 1);
}
END_TEST

START_TEST(test_try_same_retries)
{
	use_try = true;
	ck_assert_int_eq(run_with(1, EINTR, "Error: Interrupted system call\n"), 0);
	ck_assert_int_eq(runs, 2);
	ck_assert_int_eq(run_with(-1, EINTR, "Error: Interrupted system call\n"), -EIO);
	ck_assert_int_eq(runs, 4);
	ck_assert_int_eq(run_with(-1, EEXIST, "Error: Could not process rule: File exists\n"), -EIO);
	ck_assert_int_eq(runs, 1);
	use_try = false;
}
END_TEST

int main(void)
{
	const struct check_test tests[] = {
	    {test_success},
	    {test_interrupted_runs_again},
	    {test_interrupted_bounded},
	    {test_other_error_once},
	    {test_try_same_retries},
	    {NULL},
	};
	const struct check_case cases[] = {
	    {"nft", NULL, NULL, 0, tests},
	    {NULL},
	};

	return check_main("nft", cases);
}
