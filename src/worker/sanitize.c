/* The sanitizers' defaults for sluice-worker (src/common/sanitize.h). */
#include "config.h"

#include "common/sanitize.h"

/* detect_leaks=0: LeakSanitizer's check at exit stops the process with a tracer thread
 * (clone, ptrace), which the sandbox kills; and a worker ends with _exit(), where the
 * check never runs.
 * handle_segv=0: ASan would turn a SIGSEGV into a report and exit 86. main's handling of
 * a worker that crashes (ban points, retiring the worker template) is about a worker
 * killed by a signal, and test-worker-crash sends SIGSEGV to check it. A worker that
 * really faults dies of SIGSEGV then, without a report; every other finding reports. */
const char *__asan_default_options(void)
{
	return SANITIZE_ASAN_OPTIONS ":detect_leaks=0:handle_segv=0";
}

const char *__ubsan_default_options(void)
{
	return SANITIZE_UBSAN_OPTIONS;
}
