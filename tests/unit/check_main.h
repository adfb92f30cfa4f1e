/* The one main() of every check suite in tests/unit: a suite is a table of test cases,
 * each a table of tests, so that the runner is written once and a suite file says only
 * what it tests and how it is set up. */
#ifndef SLUICE_TESTS_CHECK_MAIN_H
#define SLUICE_TESTS_CHECK_MAIN_H

#include <check.h>
#include <stdbool.h>

/* {test}: an ordinary test; {test, true, n}: a loop test, _i in [0, n). only_if, when
 * set, is asked while the suite is built and false leaves the test out (tests that
 * need root). START_TEST's names are variables, so these tables live in main(). */
struct check_test {
	const TTest *test;
	bool loop;
	int loops;
	bool (*only_if)(void);
};

/* setup/teardown: a checked fixture (run in each test's own process), or NULL.
 * timeout: seconds, 0 keeps check's default. tests: ends with {NULL}. */
struct check_case {
	const char *name;
	SFun setup, teardown;
	double timeout;
	const struct check_test *tests;
};

/* Builds suite `name` from `cases` (ending with {NULL}), runs it with CK_NORMAL output
 * and returns EXIT_SUCCESS when no check failed, else EXIT_FAILURE. */
int check_main(const char *name, const struct check_case *cases);

#endif
