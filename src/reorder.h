/*
 * reorder.h: items that arrive by sequence number in any order, handed
 * back in order (finished jobs, for output in input order).  A ring of
 * slots from the next number due, doubled when an item comes too far
 * ahead of it.  Main thread only.
 *
 *	reorder_init(&r, 1);
 *	reorder_put(&r, seq, item) as each arrives;
 *	while ((item = reorder_pop(&r)) != NULL) use item;
 */
#ifndef CCMAP_REORDER_H
#define CCMAP_REORDER_H

#include <stddef.h>

struct reorder {
	void **slot;
	size_t cap;		/* a power of two */
	unsigned long long head;	/* the next sequence number to hand out */
	size_t count;
};

void reorder_init(struct reorder *r, unsigned long long first);
void reorder_release(struct reorder *r);
void reorder_put(struct reorder *r, unsigned long long seq, void *item);
/* The item for r->head, advancing head; NULL while it has not arrived. */
void *reorder_pop(struct reorder *r);

#endif
