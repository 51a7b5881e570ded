/*
 * plugshm.h: the memory a plugin worker shares with ccmap (plugpool.h says
 * what for): the worker writes its items' results there (plugworker.c),
 * ccmap reads them (plugpool.c).
 */
#ifndef CCMAP_PLUGSHM_H
#define CCMAP_PLUGSHM_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define PLUGSHM_SIZE (1u << 20)	/* a worker's, header and halves */

/*
 * The start of a worker's shared buffer.  Two halves of results follow it:
 * the worker fills one while ccmap reads the other, so neither waits for
 * the other as long as ccmap keeps up.
 *
 * In a half, the items' output bytes grow from its start, one after
 * another, and an entry per item (struct plugshm_rec) grows down from its
 * end.  So the output of items that ran in a row lies in one piece, and
 * ccmap hands it on whole, not item by item.  committed[h] holds both counts in
 * one word, stored with release after each item: the number of entries
 * (high half) and of output bytes (low half).
 */
struct plugshm {
	atomic_ullong committed[2];
	atomic_int cur;			/* the half the worker fills */
	atomic_ullong busy_seq;		/* the item being mapped, or 0 */
	atomic_size_t busy_count;	/* and how many from it (map_batch) */
	atomic_llong busy_since;	/* since when (monotonic ns) */
	char pad[128 - 2 * sizeof(atomic_ullong) - sizeof(atomic_int) -
	    sizeof(atomic_ullong) - sizeof(atomic_size_t) -
	    sizeof(atomic_llong)];
};

#define PLUGSHM_HALF \
	((PLUGSHM_SIZE - sizeof(struct plugshm)) / 2 & ~(size_t)7)

static inline char *
plugshm_half(struct plugshm *shm, int h)
{
	return (char *)(shm + 1) + (size_t)h * PLUGSHM_HALF;
}

/* One item's result: its olen + elen output bytes are elsewhere. */
struct plugshm_rec {
	uint64_t seq;
	int32_t status;
	uint32_t olen, elen, pad;
};

/* The i-th entry of a half. */
static inline char *
plugshm_rec(char *half, size_t i)
{
	return half + PLUGSHM_HALF - (i + 1) * sizeof(struct plugshm_rec);
}

/* What committed[h] holds. */
static inline uint64_t
plugshm_pack(size_t entries, size_t bytes)
{
	return (uint64_t)entries << 32 | bytes;
}

#endif
