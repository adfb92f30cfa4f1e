/* Tools that main runs for a control request and waits for without blocking: a
 * program with an argument list, its standard input from a string, its output (stdout
 * and stderr together) collected up to TOOL_OUTPUT_MAX, ended after TOOL_TIMEOUT_SECS.
 * The management API's account changes run sluice-passwd this way, so that the
 * password file is edited, and its hashes are made, by the tool that owns its format
 * and never in main's loop. */
#ifndef SLUICE_MAIN_TOOL_RUN_H
#define SLUICE_MAIN_TOOL_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define TOOL_OUTPUT_MAX   (4u * 1024 * 1024)
#define TOOL_TIMEOUT_SECS 30
#define TOOL_RUNS_MAX     4

struct main_ctx;

/* Called once the tool has exited and its output is read: status as from waitpid (a
 * tool that overran its time was killed), out NUL-terminated (cut at TOOL_OUTPUT_MAX).
 * req is the caller's. */
typedef void (*tool_done_fn)(struct main_ctx *m, uint32_t req, int status, char *out,
			     size_t len);

/* Starts path with argv (argv[0] its name) and an empty environment; input, if not
 * NULL, is written to its standard input, which is then closed. 0, -EBUSY when
 * TOOL_RUNS_MAX run already, or -errno (logged). */
int tool_run(struct main_ctx *m, const char *path, char *const argv[], const char *input,
	     uint32_t req, tool_done_fn done);
/* True if pid was a tool's. */
bool tool_child_exited(struct main_ctx *m, pid_t pid, int status);

#endif
