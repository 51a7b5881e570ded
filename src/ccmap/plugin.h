/*
 * <ccmap/plugin.h>: the interface between ccmap and a plugin.
 *
 * A plugin is a shared object that exports a `const struct ccmap_plugin`
 * (by default named `ccmap_plugin`; `ccmap --so PATH:SYMBOL` picks
 * another).  ccmap maps its map() function over the items, on worker
 * threads (--threads) or in worker processes (--procs).  Build one with
 *
 *	cc -shared -fPIC $(pkg-config --cflags ccmap) myplugin.c -o myplugin.so
 *
 * The plugin links against nothing of ccmap's: everything it may ask of
 * ccmap comes in struct ccmap_host, which ccmap passes to every call.
 *
 * Versions.  abi holds CCMAP_PLUGIN_ABI as the plugin was built.  ccmap
 * refuses a plugin whose major version differs from its own, or whose
 * minor version is newer; within one major version, fields are only ever
 * added at the end of these structs.
 *
 * Lifecycle, like Python's Pool(initializer=...):
 *
 *	init(host, argc, argv, &state)		once, with the PLUGIN-ARGS
 *	worker_init(host, state, &wstate)	once in each worker
 *	map(host, call, wstate, item, len)	once per item
 *	  or map_batch(host, wstate, items, status, n)	per chunk of items
 *	worker_fini(host, wstate)		once in each worker, at its end
 *	fini(host, state)			once, after the last item
 *
 * Every function may be NULL except map (or map_batch).  With --procs,
 * init runs in ccmap before the workers are forked, so its state is
 * inherited; worker_init and worker_fini run in each worker process.  A
 * worker process may end without worker_fini when it crashes or is killed.
 *
 * Threads.  Without CCMAP_PLUGIN_THREADSAFE in flags, ccmap refuses
 * --threads with more than one job.  With it, map and map_batch may run on
 * several threads at once, each with its own wstate; state is shared and
 * must only be read.
 *
 * Items.  item points at the item's bytes (len of them, not NUL-terminated,
 * and without the delimiter), inside ccmap's input buffer: read it, do not
 * keep the pointer after map returns.
 *
 * Output.  A plugin writes through host->write and host->printf, never to
 * stdout or stderr itself: so its output obeys input order or
 * --as-completed, grouping and --tag as a command's would.  map returns
 * the item's status: 0 for success, anything else for a failed item
 * (counted in ccmap's exit status, like a failed job).
 *
 * Time.  With --timeout, host->expired(call) turns true once the item's
 * time is up: a long map should poll it and give up.  With --procs a worker
 * past its deadline is killed; with --threads the check is all there is.
 */
#ifndef CCMAP_PLUGIN_H
#define CCMAP_PLUGIN_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CCMAP_PLUGIN_ABI_MAJOR 1
#define CCMAP_PLUGIN_ABI_MINOR 0
#define CCMAP_PLUGIN_MKVERSION(major, minor) \
	((unsigned)(major) << 16 | (unsigned)(minor))
#define CCMAP_PLUGIN_ABI \
	CCMAP_PLUGIN_MKVERSION(CCMAP_PLUGIN_ABI_MAJOR, CCMAP_PLUGIN_ABI_MINOR)

/* flags */
#define CCMAP_PLUGIN_THREADSAFE	0x1u	/* map may run on several threads */

/* One item being mapped; valid only during the call that got it. */
struct ccmap_call;

/* What ccmap offers a plugin. */
struct ccmap_host {
	unsigned abi;		/* ccmap's CCMAP_PLUGIN_ABI */

	/* Write to the item's stdout (stream 1) or stderr (2); 0 or -1. */
	int (*write)(struct ccmap_call *call, int stream, const void *buf,
	    size_t len);
	int (*printf)(struct ccmap_call *call, int stream, const char *fmt,
	    ...) __attribute__((format(printf, 3, 4)));
	/*
	 * Say why the item failed: one line on ccmap's stderr, after
	 * "ccmap: item N: ".  (The status map returns is what counts.)
	 */
	void (*error)(struct ccmap_call *call, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
	/* Has the item's --timeout passed?  Always 0 without one. */
	int (*expired)(struct ccmap_call *call);
	/* The item's sequence number, from 1 ({#}). */
	unsigned long long (*seq)(const struct ccmap_call *call);
	/* The worker's slot, from 1 ({%}). */
	unsigned (*slot)(const struct ccmap_call *call);
};

/* An item of a chunk, for map_batch. */
struct ccmap_item {
	const char *data;
	size_t len;
	struct ccmap_call *call;
};

/* What a plugin exports. */
struct ccmap_plugin {
	unsigned abi;		/* CCMAP_PLUGIN_ABI, as built */
	unsigned flags;		/* CCMAP_PLUGIN_* */
	const char *name;	/* for messages */

	/* 0, or non-zero with a message (no newline) in err. */
	int (*init)(const struct ccmap_host *host, int argc,
	    char *const argv[], void **state, char *err, size_t errlen);
	int (*worker_init)(const struct ccmap_host *host, void *state,
	    void **wstate, char *err, size_t errlen);
	/* The item's status: 0 succeeded, else failed. */
	int (*map)(const struct ccmap_host *host, struct ccmap_call *call,
	    void *wstate, const char *item, size_t len);
	/* Optional: map n items at once, setting status[i] for each. */
	void (*map_batch)(const struct ccmap_host *host, void *wstate,
	    const struct ccmap_item *items, int *status, size_t n);
	void (*worker_fini)(const struct ccmap_host *host, void *wstate);
	void (*fini)(const struct ccmap_host *host, void *state);
};

/*
 * The default symbol ccmap looks up.  Declared here so that a plugin
 * written in C++ exports it under this name: there, a const object
 * defined at namespace scope would otherwise have internal linkage.
 */
extern const struct ccmap_plugin ccmap_plugin;

#ifdef __cplusplus
}
#endif

#endif
