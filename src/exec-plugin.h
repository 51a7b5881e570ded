/*
 * exec-plugin.h: what the plugin's two executors share (exec-plugin.c on
 * threads, exec-plugin-procs.c in worker processes).  Private to them.
 */
#ifndef CCMAP_EXEC_PLUGIN_H
#define CCMAP_EXEC_PLUGIN_H

#include <stddef.h>

#include "engine.h"
#include "plughost.h"
#include "plugin.h"
#include "scan.h"
#include "util.h"

/* The items of a batch, in turn: its values, or the records in its store. */
struct batch_iter {
	const struct value *v;
	size_t i;
	const char *pos;	/* the next record's start */
	struct scan s;
};

static inline void
batch_begin(struct batch_iter *it, const struct ccmap *c,
    const struct job *job)
{
	*it = (struct batch_iter){ .v = job->v, .pos = job->store.buf };
	if (!job->v)
		scan_init(&it->s, job->store.buf, job->store.len,
		    c->cfg.opts.delim);
}

/* 1 and the next item, or 0 after the last (the caller counts values). */
static inline int
batch_item(struct batch_iter *it, const char **item, size_t *len)
{
	if (it->v) {
		*item = it->v[it->i].p;
		*len = it->v[it->i++].len;
		return 1;
	}
	const char *d = scan_next(&it->s);
	if (!d)
		return 0;
	*item = it->pos;
	*len = (size_t)(d - it->pos);
	it->pos = d + 1;
	return 1;
}

/* An item's --tag / --tagstring, added to tag. */
static inline void
exec_plugin_tag(const struct ccmap *c, unsigned long long seq, unsigned slot,
    const char *item, size_t len, struct strbuf *tag)
{
	struct value v = { item, len };
	struct jobvals jv = { .v = &v, .n = 1, .seq = seq, .slot = slot };

	template_text(c->cfg.tagt, &jv, tag);
}

/* Call the plugin d for one item. */
static inline int
exec_plugin_map_one(struct ccmap *c, const struct ccmap_plugin *d,
    struct ccmap_call *call)
{
	struct wstate *ws = call->ws;
	int st;

	if (c->cfg.opts.timeout_ns)
		call->start = util_now_ns();
	if (ws->pinit < 0) {
		plughost_error(call, "%s: worker init failed: %s",
		    plugin_name(c->cfg.plugin), *ws->perr ? ws->perr : "?");
		return 1;
	}
	/* (Plugins with map_batch go through exec_plugin_batch instead.) */
	st = d->map(&c->cfg.host, call, ws->pw, call->item, call->len);
	if (st && plughost_expired(call))
		plughost_error(call, "timed out");
	return st;
}

/*
 * Map n items (numbered from first) with the plugin's map_batch: item i's
 * output goes to outs[2 * i] and outs[2 * i + 1], its status to status[i].
 * job is the batch on a thread, NULL in a worker process.
 */
void exec_plugin_batch(struct ccmap *c, struct wstate *ws, struct job *job,
    unsigned slot, unsigned long long first, const struct value *items,
    size_t n, struct strbuf *outs, int *status);

#endif
