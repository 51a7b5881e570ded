/*
 * plughost.c: the services a plugin gets (struct ccmap_host): its output,
 * gathered per batch and handed on in order, each line tagged with its
 * item; messages in the item's place; its deadline.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "exec.h"
#include "plughost.h"
#include "util.h"

/* Hand what the worker gathered of a batch's output on to the output. */
void
plughost_flush(struct wstate *ws, struct job *job)
{
	if (ws->bout[1].len)
		ws->eout = 1;
	for (int i = 0; i < 2; i++) {
		if (!ws->bout[i].len)
			continue;
		ws->x->on.data(ws->x, job, i + 1, ws->bout[i].buf,
		    ws->bout[i].len);
		strbuf_reset(&ws->bout[i]);
	}
}

/* host_write for all but short, untagged writes with room to spare. */
static __attribute__((noinline)) int
write_slow(struct ccmap_call *call, struct strbuf *sb, int stream,
    const char *p, size_t len)
{
	if (!call->tag) {
		strbuf_add(sb, p, len);
	} else {
		while (len) {
			const char *nl = memchr(p, '\n', len);
			size_t n = nl ? (size_t)(nl - p) + 1 : len;
			if (call->bol[stream - 1]) {
				strbuf_add(sb, call->tag->buf, call->tag->len);
				strbuf_addch(sb, '\t');
			}
			strbuf_add(sb, p, n);
			call->bol[stream - 1] = nl != NULL;
			p += n;
			len -= n;
		}
	}
	if (sb->len >= WRITE_FLUSH && call->job && call->own == call->ws->bout)
		plughost_flush(call->ws, call->job);
	return 0;
}

/*
 * host->write: gathered per batch (handed on whole, or every 64 KiB), each
 * line tagged with its item.  Plugins write a few bytes per item, millions
 * of times a second: that case is a handful of instructions.
 */
static int
host_write(struct ccmap_call *call, int stream, const void *buf, size_t len)
{
	struct strbuf *sb;
	const char *p = buf;

	if ((unsigned)stream - 1 > 1)
		return -1;
	sb = call->own + (stream - 1);
	size_t used = sb->len;
	if (call->tag || len > 16 || sb->alloc - used <= 16 ||
	    used >= WRITE_FLUSH)
		return write_slow(call, sb, stream, p, len);

	char *b = sb->buf + used;
	util_copy(b, p, len);
	b[len] = '\0';
	sb->len = used + len;
	return 0;
}

static int
host_vprintf(struct ccmap_call *call, int stream, const char *fmt,
    va_list ap)
{
	char small[512], *big = NULL;
	va_list copy;
	int n, r;

	va_copy(copy, ap);
	n = vsnprintf(small, sizeof small, fmt, ap);
	if (n < 0) {
		va_end(copy);
		return -1;
	}
	if ((size_t)n >= sizeof small) {
		big = util_malloc((size_t)n + 1);
		vsnprintf(big, (size_t)n + 1, fmt, copy);
	}
	va_end(copy);
	r = host_write(call, stream, big ? big : small, (size_t)n);
	free(big);
	return r;
}

static int
host_printf(struct ccmap_call *call, int stream, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = host_vprintf(call, stream, fmt, ap);
	va_end(ap);
	return r;
}

/* host->error: "NAME: item N: MESSAGE" on stderr, in the item's place. */
void
plughost_error(struct ccmap_call *call, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	host_printf(call, 2, "%sitem %llu: %s\n", util_prefix(), call->seq,
	    msg);
}

int
plughost_expired(struct ccmap_call *call)
{
	return call->c->cfg.opts.timeout_ns &&
	    util_now_ns() - call->start >= call->c->cfg.opts.timeout_ns;
}

static unsigned long long
host_seq(const struct ccmap_call *call)
{
	return call->seq;
}

static unsigned
host_slot(const struct ccmap_call *call)
{
	return call->slot;
}

const struct ccmap_host plughost = {
	.abi = CCMAP_PLUGIN_ABI,
	.write = host_write,
	.printf = host_printf,
	.error = plughost_error,
	.expired = plughost_expired,
	.seq = host_seq,
	.slot = host_slot,
};
