/* The sanitizers' defaults for sluiced and the tools (sanitize.h); sluice-worker has its
 * own (src/worker/sanitize.c). */
#include "config.h"

#include "common/sanitize.h"

/* No LeakSanitizer: what its check finds when sluiced or a tool exits is state that
 * lives as long as the process (the context in main()'s frame), and what leaks in a
 * talloc program, memory left under a context that lives on, is still reachable and
 * never reported. The unit tests keep it (tests/unit/sanitize.c). */
const char *__asan_default_options(void)
{
	return SANITIZE_ASAN_OPTIONS ":detect_leaks=0";
}

const char *__ubsan_default_options(void)
{
	return SANITIZE_UBSAN_OPTIONS;
}
