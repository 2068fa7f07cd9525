/*
 * Common frame of the unit suites: cmocka with TAP output, so that
 * tests/run.sh can add every suite into one summary line.
 */

#ifndef UNIT_H
#define UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* Path of a file of the shared reference data (../shared/data). */
static inline const char *
unit_shared(const char *name)
{
	static char	 path[4096];
	const char	*dir = getenv("SHARED");

	if (dir == NULL || *dir == '\0')
		dir = "../shared/data";
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return (path);
}

#define UNIT_MAIN(tests)						\
int									\
main(void)								\
{									\
	cmocka_set_message_output(CM_OUTPUT_TAP);			\
	return (cmocka_run_group_tests(tests, NULL, NULL));		\
}

#endif /* UNIT_H */
