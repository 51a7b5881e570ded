/*
 * upper: writes each item upper-cased (ASCII letters only; every other
 * byte passes unchanged) and a newline, like tr a-z A-Z.
 *
 *	ccmap --so upper ::: abc Hello	->	ABC, HELLO
 *
 * Items up to a few kilobytes are converted on the stack; longer ones in
 * pieces, each piece one host->write (the host keeps the item's output
 * together however many writes it takes).
 */
#include <ccmap/plugin.h>

#include <stdio.h>

#include "noargs.h"

#define UPPER_CHUNK 4096

static int
upper_map(const struct ccmap_host *host, struct ccmap_call *call,
    void *wstate, const char *item, size_t len)
{
	char buf[UPPER_CHUNK];
	size_t n, i, off = 0;

	(void)wstate;
	for (;;) {
		n = len - off;
		if (n > sizeof buf - 1)
			n = sizeof buf - 1;
		for (i = 0; i < n; i++) {
			unsigned char c = (unsigned char)item[off + i];
			buf[i] = (char)(c >= 'a' && c <= 'z' ? c - ('a' - 'A') : c);
		}
		off += n;
		if (off == len)
			buf[n++] = '\n';
		if (host->write(call, 1, buf, n) != 0) {
			host->error(call, "upper: cannot write the output");
			return 1;
		}
		if (off == len)
			return 0;
	}
}

const struct ccmap_plugin ccmap_plugin = {
	.abi = CCMAP_PLUGIN_ABI,
	.flags = CCMAP_PLUGIN_THREADSAFE,
	.name = "upper",
	.init = noargs_init,
	.map = upper_map,
};
