/*
 * len: writes each item's length in bytes, in decimal, and a newline
 * (like awk '{print length($0)}' under LC_ALL=C).
 *
 *	ccmap --so len ::: a bb ''	->	1, 2, 0
 *
 * Trivial on purpose: it measures ccmap's per-item overhead, so map does
 * no allocation and no printf, just one host->write of a few bytes.
 */
#include <ccmap/plugin.h>

#include <stdio.h>

#include "noargs.h"

static int
len_map(const struct ccmap_host *host, struct ccmap_call *call, void *wstate,
    const char *item, size_t len)
{
	char buf[24];	/* 20 digits of a 64-bit size_t, the newline */
	char *p = buf + sizeof buf;

	(void)wstate;
	(void)item;
	*--p = '\n';
	do {
		*--p = (char)('0' + len % 10);
		len /= 10;
	} while (len != 0);
	if (host->write(call, 1, p, (size_t)(buf + sizeof buf - p)) != 0) {
		host->error(call, "len: cannot write the output");
		return 1;
	}
	return 0;
}

const struct ccmap_plugin ccmap_plugin = {
	.abi = CCMAP_PLUGIN_ABI,
	.flags = CCMAP_PLUGIN_THREADSAFE,
	.name = "len",
	.init = noargs_init,
	.map = len_map,
};
