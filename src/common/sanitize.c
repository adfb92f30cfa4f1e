/* The sanitizers' defaults for sluiced, sluice-worker and the tools (sanitize.h). */
#include "config.h"

#include "common/sanitize.h"

/* No LeakSanitizer in the programs. In a worker its check at exit would run a tracer
 * thread (clone, ptrace), which the sandbox kills, and a worker ends with _exit(), where
 * the check never runs. In sluiced and the tools, what the check finds at exit is state
 * that lives as long as the process (the context in main()'s frame); and what leaks in
 * a talloc program, memory left under a context that lives on, is still reachable and
 * never reported. The unit tests keep it (tests/unit/sanitize.c). */
const char *__asan_default_options(void)
{
	return SANITIZE_ASAN_OPTIONS ":detect_leaks=0";
}

const char *__ubsan_default_options(void)
{
	return SANITIZE_UBSAN_OPTIONS;
}
