/*
 * linemax.c: the longest command line (see linemax.h).
 */
#include <string.h>
#include <unistd.h>

#include "ccmap.h"
#include "linemax.h"

/* What GNU parallel keeps for its own wrapping of a command. */
#define WRAP_ROOM 3000
/* Room for sh, -c, the job's CCMAP_SEQ and CCMAP_SLOT, and the rest. */
#define EXEC_ROOM 2048
/* An argument of one byte costs its byte, a NUL and a pointer (8). */
#define ARGV_COST 10

size_t
limits_real_max(size_t arg_max, size_t arg_strlen, size_t envbytes)
{
	size_t real = arg_strlen ? arg_strlen - 1 : arg_max;

	if (arg_max < envbytes + EXEC_ROOM + 1)
		return 1;
	if (real > arg_max - envbytes - EXEC_ROOM)
		real = arg_max - envbytes - EXEC_ROOM;
	return real;
}

size_t
limits_find_max(size_t real)
{
	size_t len = 324, lower, upper;

	/* Up by sixteens while a line of len works... */
	do {
		if (len > 100000000)
			return len;
		len *= 16;
	} while (len <= real);
	/* ...then halve the gap, stopping within 1%. */
	lower = len / 16;
	upper = len;
	while (lower != upper && lower + 1 != upper &&
	    (double)lower / (double)upper <= 0.99) {
		size_t middle = (upper - lower) / 2 + lower;
		if (middle <= real)
			lower = middle;
		else
			upper = middle;
	}
	return lower;
}

size_t
limits_usable(size_t found)
{
	return found > WRAP_ROOM + 2 ? (found - WRAP_ROOM) / 2 : 1;
}

void
limits_get(struct limits *l)
{
	extern char **environ;
	long arg_max = sysconf(_SC_ARG_MAX);
	size_t env = sizeof(char *), strmax = 0, room;

	if (arg_max <= 0)
		arg_max = 131072;	/* POSIX's least ARG_MAX is 4096 */
	for (char **e = environ; e && *e; e++)
		env += strlen(*e) + 1 + sizeof(char *);
#ifdef __linux__
	/* Linux takes no single argument longer than 32 pages. */
	strmax = 32 * (size_t)sysconf(_SC_PAGESIZE);
#endif
	l->found = limits_find_max(limits_real_max((size_t)arg_max, strmax,
	    env));
	l->usable = limits_usable(l->found);
	/*
	 * A line of one-byte items becomes a vector of ARGV_COST / 2 times
	 * its length: keep that within ARG_MAX too.
	 */
	room = (size_t)arg_max > env + EXEC_ROOM ?
	    ((size_t)arg_max - env - EXEC_ROOM) / (ARGV_COST / 2) : 1;
	l->hard = l->found < room ? l->found : room;
	if (l->usable > l->hard)
		l->usable = l->hard;
}

size_t
ccmap_line_max(size_t *found)
{
	struct limits l;

	limits_get(&l);
	*found = l.found;
	return l.usable;
}

size_t
limits_spread(size_t n, unsigned jobs)
{
	return jobs ? (n + jobs - 1) / jobs : n;
}
