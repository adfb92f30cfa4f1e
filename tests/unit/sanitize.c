/* The sanitizers' defaults for the unit tests (src/common/sanitize.h). LeakSanitizer
 * stays on: a test case owns everything it allocates, so memory that nothing points to
 * when its process exits was lost by the code under test or by the test. */
#include "config.h"

#include "common/sanitize.h"

const char *__asan_default_options(void)
{
	return SANITIZE_ASAN_OPTIONS ":detect_leaks=1";
}

const char *__ubsan_default_options(void)
{
	return SANITIZE_UBSAN_OPTIONS;
}
