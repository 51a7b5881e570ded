/*
 * noargs.h: the init of a shipped plugin that takes no PLUGIN-ARGS (len,
 * upper, sha256).  One given is a mistake, an item before the ::: most
 * likely, and ccmap stops before any item with the message.
 */
#ifndef CCMAP_PLUGINS_NOARGS_H
#define CCMAP_PLUGINS_NOARGS_H

#include <stdio.h>

#include <ccmap/plugin.h>

static int
noargs_init(const struct ccmap_host *host, int argc, char *const argv[],
    void **state, char *err, size_t errlen)
{
	(void)host;
	(void)state;
	if (argc > 0) {
		snprintf(err, errlen, "unknown argument '%s' (it takes none: "
		    "put items after :::)", argv[0]);
		return -1;
	}
	return 0;
}

#endif
