/*
 * linemax.h: how long a composed command may be, for packing items into
 * commands (-X, -m, --xargs), reckoned as GNU parallel reckons it so that
 * the same items go to each command.
 *
 * GNU parallel runs `echo ccc...` through the shell at start-up and searches
 * for the longest line that works: doubling up by sixteens from 324, then
 * halving the gap until the bounds are within 1%.  The search lands on a
 * length a little under the real one (130329 for Linux's 131071), and a
 * command's line may then use (that - 3000) / 2 bytes (63664).  ccmap does
 * the same search against the limit it computes from the kernel's (one
 * argument, and the whole of arguments and environment), without running
 * anything.
 */
#ifndef CCMAP_LINEMAX_H
#define CCMAP_LINEMAX_H

#include <stddef.h>

/*
 * The longest line the system takes: as one argument of `sh -c` with the
 * current environment.  envbytes is the environment's size with its
 * pointers (the strings, their NULs and a pointer each).
 */
size_t limits_real_max(size_t arg_max, size_t arg_strlen, size_t envbytes);

/* What GNU parallel's search finds when real is the longest line. */
size_t limits_find_max(size_t real);

/* The length a command's line must stay under, from what the search found. */
size_t limits_usable(size_t found);

/* The limits for this process. */
struct limits {
	size_t found;	/* what the search finds */
	size_t usable;	/* GNU parallel's reckoning of a line stays under it */
	size_t hard;	/* the line itself stays under it: it runs as one
			   argument of sh -c, or as a vector within ARG_MAX */
};
void limits_get(struct limits *l);

/* How many of the last n items each command takes, spread over jobs. */
size_t limits_spread(size_t n, unsigned jobs);

#endif
