/*
 * daemon: the state the loop owns. It lives in a file of its own, which
 * calls nothing, so that every file of the daemon can read it without
 * a circle through tallygw.c (start-up, the loop and signals).
 */
#include <sys/types.h>

#include "daemon.h"

struct gw	*gw;
