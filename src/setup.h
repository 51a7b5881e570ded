/*
 * setup.h: what setup.c offers besides ccmap_new() and ccmap_free().
 */
#ifndef CCMAP_SETUP_H
#define CCMAP_SETUP_H

#include <stddef.h>

#include "ccmap.h"

/*
 * The options that cannot make a run together, whatever the files, the
 * plugin and the templates hold: CCMAP_EUSAGE, with one line naming the
 * option in err; or 0.  Pure: it reads opts only, opens nothing.
 */
int setup_refuse(const struct ccmap_opts *opts, char *err, size_t errlen);

#endif
