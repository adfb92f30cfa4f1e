/* See check_main.h. */
#include "check_main.h"

#include <stdlib.h>

int check_main(const char *name, const struct check_case *cases)
{
	Suite *s = suite_create(name);
	SRunner *sr;
	int failed;

	for (const struct check_case *c = cases; c->name; c++) {
		TCase *tc = tcase_create(c->name);

		if (c->setup || c->teardown)
			tcase_add_checked_fixture(tc, c->setup, c->teardown);
		if (c->timeout > 0)
			tcase_set_timeout(tc, c->timeout);
		for (const struct check_test *t = c->tests; t->test; t++)
			if (!t->only_if || t->only_if())
				tcase_add_loop_test(tc, t->test, 0, t->loop ? t->loops : 1);
		suite_add_tcase(s, tc);
	}
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
