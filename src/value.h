/*
 * value.h: the values items are made of.  A value is bytes from a source
 * (an item, or a column of one); a tuple holds one value per source; a
 * job's values are a tuple (or, with -n and -X, several one after the
 * other) with the job's number and slot.  They point into memory that
 * someone else owns: the input's buffers, a job's store.
 */
#ifndef CCMAP_VALUE_H
#define CCMAP_VALUE_H

#include <stddef.h>

/* One value: bytes, not NUL-terminated. */
struct value {
	const char *p;
	size_t len;
};

/* One argument tuple: one value per source. */
struct tuple {
	size_t n;
	const struct value *v;
};

/* Where the values of one job come from. */
struct jobvals {
	const struct value *v;	/* one per source */
	size_t n;
	unsigned long long seq;	/* {#}, from 1 */
	unsigned slot;		/* {%}, from 1 */
};

#endif
