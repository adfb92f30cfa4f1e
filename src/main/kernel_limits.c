/* The kernel's limits on sessions (kernel_limits.h), read from /proc and the cgroup
 * file system. */
#include "config.h"

#include "main/kernel_limits.h"

#include <ctype.h>
#include <dirent.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "common/log.h"

/* Processes and threads beside the workers: sec, its helpers, the template, scripts,
 * and the rest of the system's growth. */
#define PROCESS_RESERVE 64
/* Descriptors a worker holds: TLS and UDP sockets, TUN device, its channels to main
 * and sec, and its log socket; one more in main. */
#define FILES_PER_SESSION 7
#define FILES_RESERVE 1024
/* PIDs below this are for the kernel's own threads (RESERVED_PIDS). */
#define PIDS_RESERVED 300

static int read_text(const char *root, const char *path, char *buf, size_t len)
{
	char full[512];
	FILE *f;
	size_t n;

	snprintf(full, sizeof(full), "%s/%s", root, path);
	f = fopen(full, "re");
	if (!f)
		return -1;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = '\0';
	return 0;
}

/* The first number of a file; -1 when there is none, or it says "max". */
static long long read_number(const char *root, const char *path)
{
	char buf[128];

	if (read_text(root, path, buf, sizeof(buf)) < 0 || !isdigit((unsigned char)buf[0]))
		return -1;
	return strtoll(buf, NULL, 10);
}

static unsigned long long room(long long limit, long long used, long long reserve, long long per)
{
	long long left = limit - used - reserve;

	return left > 0 ? (unsigned long long)(left / per) : 0;
}

/* Processes there are now (the entries of /proc that are numbers). */
static long long count_processes(const char *root)
{
	char path[512];
	struct dirent *e;
	long long n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/proc", root);
	if (!(d = opendir(path)))
		return 0;
	while ((e = readdir(d)))
		n += isdigit((unsigned char)e->d_name[0]) != 0;
	closedir(d);
	return n;
}

/* The pids controller's limit on this process's cgroup and its ancestors: the one that
 * leaves the least room. cgroup v2 ("0::/path") or v1 ("N:pids:/path"). */
static bool cgroup_pids(const char *root, struct kernel_limit *l)
{
	char buf[4096], dir[1024], file[1100];
	const char *base = NULL;
	char *line, *save = NULL;
	bool found = false;

	if (read_text(root, "proc/self/cgroup", buf, sizeof(buf)) < 0)
		return false;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

		if (!c2)
			continue;
		if (strncmp(c1 + 1, "pids:", 5) == 0 || strstr(c1 + 1, ",pids:")) {
			base = "sys/fs/cgroup/pids";
		} else if (strncmp(line, "0::", 3) == 0 && !base) {
			base = "sys/fs/cgroup";
		} else {
			continue;
		}
		snprintf(dir, sizeof(dir), "%s", c2 + 1);
		if (strcmp(base, "sys/fs/cgroup/pids") == 0)
			break;
	}
	if (!base)
		return false;
	/* From the process's own cgroup up to the root. */
	for (;;) {
		long long max, current;
		unsigned long long r;
		char *slash;

		snprintf(file, sizeof(file), "%s%s/pids.max", base, dir);
		max = read_number(root, file);
		snprintf(file, sizeof(file), "%s%s/pids.current", base, dir);
		current = read_number(root, file);
		if (max >= 0 && current >= 0) {
			r = room(max, current, PROCESS_RESERVE, 1);
			if (!found || r < l->sessions) {
				l->value = (unsigned long long)max;
				l->sessions = r;
			}
			found = true;
		}
		slash = strrchr(dir, '/');
		if (!slash || dir[0] == '\0' || strcmp(dir, "/") == 0)
			break;
		if (slash == dir)
			dir[1] = '\0';
		else
			*slash = '\0';
	}
	return found;
}

size_t kernel_limits_read(const char *root, struct kernel_limit out[KERNEL_LIMITS_MAX])
{
	char buf[256];
	long long v, procs = count_processes(root);
	struct rlimit rl;
	size_t n = 0;

	if ((v = read_number(root, "proc/sys/kernel/pid_max")) > 0)
		out[n++] = (struct kernel_limit){"kernel.pid_max", "sysctl kernel.pid_max",
						 (unsigned long long)v,
						 room(v, procs + PIDS_RESERVED, PROCESS_RESERVE, 1)};
	/* /proc/loadavg's fourth field: running/threads. */
	if ((v = read_number(root, "proc/sys/kernel/threads-max")) > 0 &&
	    read_text(root, "proc/loadavg", buf, sizeof(buf)) == 0) {
		const char *slash = strchr(buf, '/');
		long long threads = slash ? strtoll(slash + 1, NULL, 10) : 0;

		out[n++] = (struct kernel_limit){"kernel.threads-max", "sysctl kernel.threads-max",
						 (unsigned long long)v,
						 room(v, threads, PROCESS_RESERVE, 1)};
	}
	if (cgroup_pids(root, &out[n])) {
		out[n].name = "the cgroup's pids.max";
		out[n].fix = "TasksMax= in the service's unit";
		n++;
	}
	/* fs/file-nr: allocated, 0, maximum. */
	if (read_text(root, "proc/sys/fs/file-nr", buf, sizeof(buf)) == 0) {
		unsigned long long used, unused, max;

		if (sscanf(buf, "%llu %llu %llu", &used, &unused, &max) == 3)
			out[n++] = (struct kernel_limit){
			    "fs.file-max", "sysctl fs.file-max", max,
			    room((long long)(max > (unsigned long long)LLONG_MAX ? LLONG_MAX : max),
				 (long long)used, FILES_RESERVE, FILES_PER_SESSION)};
	}
	/* Workers count against run-as-user's process limit, which the template raises to
	 * the hard limit (or removes, with CAP_SYS_RESOURCE). Only a live system has one. */
	if (strcmp(root, "/") == 0 && getrlimit(RLIMIT_NPROC, &rl) == 0 &&
	    rl.rlim_max != RLIM_INFINITY)
		out[n++] = (struct kernel_limit){"the process limit (RLIMIT_NPROC)",
						 "LimitNPROC= in the service's unit, ulimit -u",
						 (unsigned long long)rl.rlim_max,
						 room((long long)rl.rlim_max, 0, PROCESS_RESERVE, 1)};
	return n;
}

void kernel_limits_check(unsigned max_clients, unsigned sessions_now)
{
	struct kernel_limit l[KERNEL_LIMITS_MAX];
	size_t n = kernel_limits_read("/", l);
	unsigned long long least = ~0ULL, need = max_clients > sessions_now ? max_clients - sessions_now : 0;
	const char *which = NULL;

	for (size_t i = 0; i < n; i++) {
		if (l[i].sessions < least) {
			least = l[i].sessions;
			which = l[i].name;
		}
		if (max_clients && l[i].sessions < need)
			log_warn("%s is %llu, which leaves room for about %llu sessions, fewer "
				 "than max-clients = %u: past them new sessions fail. "
				 "Raise it (%s) or lower max-clients",
				 l[i].name, l[i].value, l[i].sessions + sessions_now, max_clients,
				 l[i].fix);
	}
	if (which && (!max_clients || least >= need))
		log_info("kernel limits: room for about %llu sessions (the least: %s)",
			 least + sessions_now, which);
}
