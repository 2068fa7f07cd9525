/*
 * remote.h: tallyctl's commands that talk to a running tallygw through
 * its admin API (docs/admin.md, docs/tallyctl.md).
 */
#ifndef REMOTE_H
#define REMOTE_H

#define REMOTE_USAGE	(-2)	/* print the command's usage, exit 2 */
#define REMOTE_HELP	(-3)	/* print the command's help, exit 0 */

int	remote_main(const char *, int, char **);

#endif /* REMOTE_H */
