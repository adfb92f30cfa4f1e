/* kernel_limits_read on a directory laid out like / (proc and the cgroup file system):
 * each limit's room for sessions, cgroup v1 and v2 with the tightest ancestor winning,
 * "max" meaning none, and files that are missing or say nothing. */
#include "config.h"
#include "main/kernel_limits.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_main.h"

static char root[64];

static void put(const char *path, const char *text)
{
	char full[512], *slash;
	FILE *f;

	snprintf(full, sizeof(full), "%s/%s", root, path);
	for (slash = strchr(full + strlen(root) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(full, 0755);
		*slash = '/';
	}
	f = fopen(full, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static void setup(void)
{
	snprintf(root, sizeof(root), "/tmp/kl.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(root));
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	ck_assert_int_eq(system(cmd), 0);
}

static const struct kernel_limit *find(const struct kernel_limit *l, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(l[i].name, name) == 0)
			return &l[i];
	return NULL;
}

START_TEST(test_sysctls)
{
	struct kernel_limit l[KERNEL_LIMITS_MAX];
	const struct kernel_limit *p;
	size_t n;

	put("proc/sys/kernel/pid_max", "32768\n");
	put("proc/sys/kernel/threads-max", "20000\n");
	put("proc/loadavg", "0.10 0.20 0.30 2/1500 4242\n");
	put("proc/sys/fs/file-nr", "3000\t0\t100000\n");
	/* Three processes. */
	put("proc/1/stat", "");
	put("proc/22/stat", "");
	put("proc/333/stat", "");
	n = kernel_limits_read(root, l);
	ck_assert_uint_eq(n, 3);
	p = find(l, n, "kernel.pid_max");
	ck_assert_ptr_nonnull(p);
	/* 32768 less the kernel's 300, 3 processes and a reserve of 64. */
	ck_assert_uint_eq(p->value, 32768);
	ck_assert_uint_eq(p->sessions, 32768 - 300 - 3 - 64);
	p = find(l, n, "kernel.threads-max");
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(p->sessions, 20000 - 1500 - 64);
	p = find(l, n, "fs.file-max");
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(p->sessions, (100000 - 3000 - 1024) / 7);
	ck_assert_str_eq(p->fix, "sysctl fs.file-max");
}
END_TEST

START_TEST(test_exhausted_and_missing)
{
	struct kernel_limit l[KERNEL_LIMITS_MAX];
	size_t n;

	/* No room at all is 0, not a wrapped-around number; a file that says nothing is no
	 * limit. */
	put("proc/sys/kernel/pid_max", "350\n");
	put("proc/sys/kernel/threads-max", "junk\n");
	put("proc/loadavg", "0.10 0.20 0.30 2/1500 4242\n");
	n = kernel_limits_read(root, l);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(l[0].name, "kernel.pid_max");
	ck_assert_uint_eq(l[0].sessions, 0);
}
END_TEST

START_TEST(test_cgroup_v2_tightest_ancestor)
{
	struct kernel_limit l[KERNEL_LIMITS_MAX];
	const struct kernel_limit *p;
	size_t n;

	put("proc/self/cgroup", "0::/system.slice/sluiced.service\n");
	put("sys/fs/cgroup/system.slice/sluiced.service/pids.max", "max\n");
	put("sys/fs/cgroup/system.slice/sluiced.service/pids.current", "10\n");
	put("sys/fs/cgroup/system.slice/pids.max", "4915\n");
	put("sys/fs/cgroup/system.slice/pids.current", "200\n");
	n = kernel_limits_read(root, l);
	p = find(l, n, "the cgroup's pids.max");
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(p->value, 4915);
	ck_assert_uint_eq(p->sessions, 4915 - 200 - 64);
	ck_assert_str_eq(p->fix, "TasksMax= in the service's unit");

	/* The service's own limit, tighter than the slice's. */
	put("sys/fs/cgroup/system.slice/sluiced.service/pids.max", "1000\n");
	n = kernel_limits_read(root, l);
	p = find(l, n, "the cgroup's pids.max");
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(p->value, 1000);
	ck_assert_uint_eq(p->sessions, 1000 - 10 - 64);
}
END_TEST

START_TEST(test_cgroup_v1)
{
	struct kernel_limit l[KERNEL_LIMITS_MAX];
	const struct kernel_limit *p;
	size_t n;

	put("proc/self/cgroup", "9:name=systemd:/\n8:pids:/vpn\n0::/\n");
	put("sys/fs/cgroup/pids/vpn/pids.max", "500\n");
	put("sys/fs/cgroup/pids/vpn/pids.current", "20\n");
	n = kernel_limits_read(root, l);
	p = find(l, n, "the cgroup's pids.max");
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(p->value, 500);
	ck_assert_uint_eq(p->sessions, 500 - 20 - 64);

	/* The root cgroup has no pids.max: no limit. */
	put("proc/self/cgroup", "8:pids:/\n");
	n = kernel_limits_read(root, l);
	ck_assert_ptr_null(find(l, n, "the cgroup's pids.max"));
}
END_TEST

int main(void)
{
	const struct check_test tests[] = {
	    {test_sysctls},
	    {test_exhausted_and_missing},
	    {test_cgroup_v2_tightest_ancestor},
	    {test_cgroup_v1},
	    {NULL},
	};
	const struct check_case cases[] = {
	    {"kernel_limits", setup, teardown, 0, tests},
	    {NULL},
	};

	return check_main("kernel_limits", cases);
}
