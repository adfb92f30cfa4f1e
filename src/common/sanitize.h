/* Run-time defaults of AddressSanitizer and UndefinedBehaviorSanitizer, linked only into
 * a --enable-sanitizers build. They are compiled in because sluiced starts its workers
 * with an empty environment, where ASAN_OPTIONS and UBSAN_OPTIONS never arrive; where
 * the environment does reach a process, its options apply on top of these.
 *
 * The build makes every finding fatal (-fno-sanitize-recover=all): a report on stderr,
 * then exit status SANITIZE_EXITCODE, which is none of sluice's own exit codes (a test
 * that expects a program to fail with 1 or 2 notices) nor automake's 77 (skip) or 99. */
#ifndef SLUICE_SANITIZE_H
#define SLUICE_SANITIZE_H

#define SANITIZE_EXITCODE "86"

/* Each runtime has its own copy of the common options (exitcode, color). No colours:
 * reports go to log files, and finding out whether stderr is a terminal is an ioctl
 * that sec's seccomp filter kills. ASan also checks uses of a returned function's
 * locals and that string functions get terminated strings; UBSan prints the stack:
 * where it found something, and how the program got there. */
#define SANITIZE_COMMON_OPTIONS "exitcode=" SANITIZE_EXITCODE ":color=never"
#define SANITIZE_ASAN_OPTIONS                                                                      \
	SANITIZE_COMMON_OPTIONS ":detect_stack_use_after_return=1:strict_string_checks=1"
#define SANITIZE_UBSAN_OPTIONS SANITIZE_COMMON_OPTIONS ":print_stacktrace=1"

/* The sanitizer runtimes call these when they start, before main(). */
const char *__asan_default_options(void);
const char *__ubsan_default_options(void);

#endif
