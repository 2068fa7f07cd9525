/*
 * memhist: an in-memory struct verify_history (tallyctl batch mode,
 * demo, tests). The gateway's store provides the durable one.
 */

#ifndef MEMHIST_H
#define MEMHIST_H

#include "tally.h"

struct memhist;
struct memhist		*memhist_new(void);
void			 memhist_free(struct memhist *);
struct verify_history	*memhist_history(struct memhist *);
int			 memhist_add(struct memhist *, const struct report *,
			    const char *);
size_t			 memhist_count(const struct memhist *);

#endif /* MEMHIST_H */
