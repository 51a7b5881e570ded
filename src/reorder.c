/*
 * reorder.c: items handed back in sequence order (see reorder.h).
 */
#include <stdlib.h>

#include "reorder.h"
#include "util.h"

void
reorder_init(struct reorder *r, unsigned long long first)
{
	r->cap = 64;
	r->slot = util_calloc(r->cap, sizeof *r->slot);
	r->head = first;
	r->count = 0;
}

void
reorder_release(struct reorder *r)
{
	free(r->slot);
	r->slot = NULL;
}

void
reorder_put(struct reorder *r, unsigned long long seq, void *item)
{
	while (seq - r->head >= r->cap) {
		size_t ncap = r->cap * 2;
		void **ns = util_calloc(ncap, sizeof *ns);
		for (size_t i = 0; i < r->cap; i++) {
			unsigned long long s = r->head + i;
			ns[s & (ncap - 1)] = r->slot[s & (r->cap - 1)];
		}
		free(r->slot);
		r->slot = ns;
		r->cap = ncap;
	}
	r->slot[seq & (r->cap - 1)] = item;
	r->count++;
}

void *
reorder_pop(struct reorder *r)
{
	void **p = &r->slot[r->head & (r->cap - 1)];
	void *item = *p;

	if (!item)
		return NULL;
	*p = NULL;
	r->head++;
	r->count--;
	return item;
}
