/* Helpers every harness may use. */
#ifndef SLUICE_FUZZ_INPUT_H
#define SLUICE_FUZZ_INPUT_H

#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The fuzzer's bytes as a C string (a copy with a terminating NUL), for harnesses of
 * text parsers; NULL when out of memory. The caller frees it. */
static inline char *fuzz_cstring(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s) {
		memcpy(s, data, size);
		s[size] = '\0';
	}
	return s;
}

/* Open descriptors of this process: a harness compares the count before and after an
 * input to find a leak. */
static inline int fuzz_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (!d)
		abort();
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

#endif
