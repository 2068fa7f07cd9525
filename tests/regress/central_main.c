/* A driver for tests/regress/central.sh until tallysim runs `central'. */

#include <stdio.h>

#include "central.h"

int
main(int argc, char **argv)
{
	return central_main(argc - 1, argv + 1);
}
