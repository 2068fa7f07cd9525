/*
 * hash: the string hash every part of tallygw uses (FNV-1a, 32 bits),
 * and a bounded hash table whose entries are kept on one list, oldest
 * first, for the in-memory tables a flood must not grow without end
 * (the per-sender rate table, the lockout table).
 */

#ifndef HASH_H
#define HASH_H

#include <stddef.h>
#include <stdint.h>

#define HASH_FNV_INIT	2166136261U

uint32_t	 hash_fnv(uint32_t, const void *, size_t);

struct hash;
struct hash	*hash_new(size_t, size_t, size_t);
void		 hash_free(struct hash *);
void		*hash_find(struct hash *, const void *, size_t);
void		*hash_add(struct hash *, const void *, size_t);
void		 hash_touch(struct hash *, void *);
void		 hash_remove(struct hash *, void *);
void		*hash_oldest(const struct hash *);
void		*hash_newer(void *);
size_t		 hash_size(const struct hash *, unsigned long *);

#endif /* HASH_H */
