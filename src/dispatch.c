/*
 * dispatch.c: items into jobs: a job per item, or -n/-X/-m packing of
 * several into a command line, a job per --pipe block, a plugin's items
 * in batches; and the progress total, once it can be known.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"
#include "emit.h"
#include "engine.h"
#include "exec.h"
#include "hosts.h"
#include "linemax.h"
#include "progress.h"
#include "schedule.h"
#include "util.h"

/* Start a job; its values come with job_add(), then job_seal(). */
static struct job *
job_begin(struct ccmap *c)
{
	struct job *job = util_calloc(1, sizeof *job);

	job->seq = ++c->disp.next_seq;
	joboutput_init(&job->out);
	return job;
}

/* Add one tuple's values to the job (-n takes several; -N0 none). */
static void
job_add(struct job *job, const struct tuple *t, int no_values)
{
	if (no_values) {
		job->ntuples++;
		return;
	}
	if (job->nv + t->n > job->vcap) {
		job->vcap = (job->nv + t->n) * 2;
		job->v = util_realloc(job->v, job->vcap * sizeof *job->v);
	}
	for (size_t i = 0; i < t->n; i++) {
		strbuf_add(&job->store, t->v[i].p, t->v[i].len);
		strbuf_addch(&job->store, '\0');
		job->v[job->nv++].len = t->v[i].len;
	}
	job->ntuples++;
}

/* The job's output lines start with its tag, as it is now. */
static void
tag_output(struct job *job)
{
	strbuf_grow(&job->tag, 0);
	job->out.tag = job->tag.buf;
	job->out.taglen = job->tag.len;
}

/* The job has all its values: point them into the store. */
static struct job *
job_seal(struct ccmap *c, struct job *job)
{
	const char *p = job->store.buf;

	for (size_t i = 0; i < job->nv; i++) {
		job->v[i].p = p;
		p += job->v[i].len + 1;
	}
	if (c->cfg.tagt) {
		template_text(c->cfg.tagt, &(struct jobvals){ .v = job->v,
		    .n = job->nv, .seq = job->seq }, &job->tag);
		tag_output(job);
	}
	return job;
}

struct job *
dispatch_job_copy(struct ccmap *c, const struct job *src)
{
	struct job *job = job_begin(c);

	strbuf_add(&job->store, src->store.buf, src->store.len);
	job->v = util_calloc(src->nv ? src->nv : 1, sizeof *job->v);
	for (size_t i = 0; i < src->nv; i++)
		job->v[i].len = src->v[i].len;
	job->nv = job->vcap = src->nv;
	job->ntuples = src->ntuples;
	return job_seal(c, job);
}

void
dispatch_pin(struct ccmap *c, struct job *job, const struct host *h)
{
	job->host = h;
	job->pinned = 1;
	if (c->cfg.tagt && c->cfg.opts.tag && !c->cfg.opts.tagstring) {
		strbuf_reset(&job->tag);
		strbuf_addstr(&job->tag, host_name(h));
		tag_output(job);
	}
}

void
dispatch_job_line(struct ccmap *c, const struct job *job, struct strbuf *sb)
{
	struct jobvals jv = { .v = job->v, .n = job->nv, .seq = job->seq };

	template_line(c->cfg.tmpl, &jv, sb);
}

void
dispatch_job_free(struct ccmap *c, struct job *job)
{
	block_release(&job->blk);
	strbuf_release(&job->tag);
	strbuf_release(&job->logline);
	if (c->disp.in)	/* (a read buffer, maybe) */
		input_recycle(c->disp.in, &job->store);
	strbuf_release(&job->store);
	strbuf_release(&job->pend[0]);
	strbuf_release(&job->pend[1]);
	free(job->v);
	free(job);
}

/*
 * --bar, --eta: the jobs in all, as soon as they can be known.  The
 * tuples, when the input knows their number (see input_tuples), make a
 * job each, or one per -n of them; a plugin's progress counts the tuples
 * themselves.  Where tuples are dropped (--match, --skip) or packed by
 * their length (-X, -m, --xargs), it is known once they have all been
 * read.
 */
void
dispatch_show_total(struct ccmap *c)
{
	unsigned long long n;

	if (c->disp.input_done) {
		progress_total(c->emit.prog, c->sched.halt.total);
		return;
	}
	if (!c->disp.in || c->cfg.opts.match || c->cfg.opts.skip ||
	    c->cfg.opts.fill || !input_tuples(c->disp.in, &n))
		return;
	if (!c->cfg.plugin && c->cfg.max_args > 1) {
		n = n / c->cfg.max_args + (n % c->cfg.max_args != 0);
		/* (A line too long for -n items makes more: so far, these.) */
		if (n < c->disp.next_seq)
			n = c->disp.next_seq;
	}
	progress_total(c->emit.prog, n);
}

/* The input has ended: the jobs are all known. */
static void
input_ended(struct ccmap *c)
{
	c->disp.input_done = 1;
	c->sched.backlogging = 0;
	c->sched.halt.total = c->cfg.plugin ? c->disp.next_item - 1 :
	    c->disp.next_seq;
}

/*
 * How many items a plugin's batch takes: --chunksize, or as many as take
 * the plugin about BATCH_NS by what the items so far took (one while
 * nothing is known: a slow item holds up the output of the items batched
 * with it, lost with it should it never end), so that slow items spread
 * over the workers and fast ones go by the block.
 */
static size_t
batch_items(const struct ccmap *c)
{
	if (c->cfg.opts.chunksize)
		return c->cfg.opts.chunksize;
	if (c->disp.item_ns <= 0)
		return 1;
	double n = BATCH_NS / c->disp.item_ns;
	return n < 1 ? 1 : n > 1e9 ? (size_t)1e9 : (size_t)n;
}

void
dispatch_item_time(struct ccmap *c, long long ns, size_t items)
{
	double each = (double)ns / (double)items, *avg = &c->disp.item_ns;

	if (!items)
		return;
	*avg = *avg > 0 ? (3 * *avg + each) / 4 : each;
}

/*
 * A plugin's batch: whole records of a single streamed source taken as one
 * block, or else items one by one (the values of several sources joined by
 * a tab).  INPUT_* as input_next.
 */
static int
next_batch(struct ccmap *c, struct job **jobp)
{
	size_t max = batch_items(c);
	size_t min = c->cfg.opts.chunksize ? (size_t)-1 : PLUGIN_BLOCK;
	struct job *job = c->disp.pending ? c->disp.pending : job_begin(c);
	size_t count;
	int r;

	c->disp.pending = NULL;
	if (!job->v && !c->cfg.shape && (r = input_take_block(c->disp.in,
	    min, max, &job->store, &count)) != -EINVAL) {
		if (r == INPUT_TUPLE) {
			job->first_item = c->disp.next_item;
			job->items = count;
			c->disp.next_item += count;
			*jobp = job;
		} else {
			c->disp.pending = job;
		}
		return r;
	}
	if (!job->v)
		job->v = util_calloc(1, sizeof *job->v);
	for (;;) {
		struct tuple t;
		r = input_next(c->disp.in, &t);
		if (r == INPUT_TUPLE && c->cfg.shape &&
		    !fields_apply(c->disp.fields, &t, &t))
			continue;	/* --skip, --match */
		if (r == INPUT_TUPLE) {
			/* (Offsets into store until it has stopped moving.) */
			job->v = util_realloc(job->v,
			    (job->items + 1) * sizeof *job->v);
			job->v[job->items].p =
			    (const char *)(uintptr_t)job->store.len;
			for (size_t i = 0; i < t.n; i++) {
				if (i)
					strbuf_addch(&job->store, '\t');
				strbuf_add(&job->store, t.v[i].p, t.v[i].len);
			}
			job->v[job->items].len = job->store.len -
			    (size_t)(uintptr_t)job->v[job->items].p;
			/* (NUL-terminated: a block for --procs.) */
			strbuf_addch(&job->store, '\0');
			job->items++;
			if (job->items < max && job->store.len < PLUGIN_BLOCK)
				continue;
		}
		if (r == INPUT_AGAIN && !job->items) {
			c->disp.pending = job;
			return r;
		}
		if (!job->items) {	/* INPUT_EOF */
			dispatch_job_free(c, job);
			return r;
		}
		for (size_t i = 0; i < job->items; i++)
			job->v[i].p = job->store.buf + (uintptr_t)job->v[i].p;
		job->first_item = c->disp.next_item;
		c->disp.next_item += job->items;
		*jobp = job;
		return INPUT_TUPLE;
	}
}

/* Make plugin batches of the items at hand while the pool has room. */
static void
dispatch_batches(struct ccmap *c)
{
	sched_start_waiting(c);
	c->disp.need_input = 0;
	while (!c->sched.stopping && !c->disp.input_done &&
	    (c->sched.backlogging || sched_room(c))) {
		struct job *job;
		int r = next_batch(c, &job);

		if (r == INPUT_TUPLE) {
			sched_give(c, &job, 1);
			continue;
		}
		if (r == INPUT_EOF) {
			input_ended(c);
			sched_start_waiting(c);
		} else
			c->disp.need_input = 1;
		break;
	}
	if (c->sched.x->ops->flush)	/* the batches made, at once */
		c->sched.x->ops->flush(c->sched.x);
}

/* -X, -m, --xargs: an item alone makes a line too long.  Stop there. */
static void
too_long(struct ccmap *c, size_t len, const struct tuple *t)
{
	const struct value *v = &t->v[0];
	size_t max = len >= c->cfg.line_max ? c->cfg.line_max :
	    c->cfg.line_hard;

	emit_warn(c, "command line too long (%zu >= %zu) at item %llu: %.*s%s",
	    len, max, c->disp.items, (int)(v->len > 50 ? 50 : v->len), v->p,
	    v->len > 50 || t->n > 1 ? "..." : "");
	c->sched.res->error = CCMAP_EUSAGE;
	c->sched.stopping = 1;
}

/*
 * -X, -m, --xargs: start measuring the pending job's line with its first
 * tuple (start), or add the tuple to it; 0 if that line is too long.
 */
static int
line_fits(struct ccmap *c, const struct tuple *t, int start)
{
	struct jobvals rec = { .v = t->v, .n = t->n,
	    .seq = c->disp.pending->seq, .slot = c->cfg.jobs };
	struct tmeasure m = c->disp.plen;
	size_t len;

	if (start)
		template_measure_start(c->cfg.tmpl, &rec, &m);
	else
		template_measure_add(c->cfg.tmpl, &m, &rec);
	/*
	 * GNU parallel's reckoning decides where a line ends, and the real
	 * length stays under the hard limit (the reckoning counts the value
	 * of a {2} in a word that -X repeats only once, for one).
	 */
	len = m.est * c->cfg.line_factor;
	if (len >= c->cfg.line_max || m.len >= c->cfg.line_hard) {
		if (start)
			too_long(c, len >= c->cfg.line_max ? len : m.len, t);
		return 0;
	}
	c->disp.plen = m;
	return 1;
}

/*
 * Give one tuple to the pending job, and put the jobs that are now whole
 * (at most two) in the chunk at *n.
 */
static void
take_tuple(struct ccmap *c, const struct tuple *t, size_t *n)
{
	c->disp.items++;
	if (c->disp.pending && (c->disp.pending_full ||
	    (c->cfg.line_max && !line_fits(c, t, 0)))) {
		/* The input goes on, or the line is full. */
		c->disp.chunk[(*n)++] = job_seal(c, c->disp.pending);
		c->disp.pending = NULL;
		c->disp.pending_full = 0;
	}
	if (!c->disp.pending) {
		c->disp.pending = job_begin(c);
		if (c->cfg.line_max && !line_fits(c, t, 1)) {
			dispatch_job_free(c, c->disp.pending);
			c->disp.pending = NULL;
			return;
		}
	}
	job_add(c->disp.pending, t, c->cfg.no_values);
	if (c->disp.pending->ntuples < c->cfg.max_args)
		return;
	if (c->cfg.spread && !c->disp.spread_done) {
		c->disp.pending_full = 1;	/* the last job is spread */
		return;
	}
	c->disp.chunk[(*n)++] = job_seal(c, c->disp.pending);
	c->disp.pending = NULL;
}

/*
 * -X, -m: the job that reaches the end of the input has its items spread
 * over the job slots, as GNU parallel does once: in jobs of
 * ceil(items / slots).
 */
static void
spread_last(struct ccmap *c, struct job *job)
{
	size_t per = limits_spread(job->ntuples, c->cfg.jobs);
	size_t nsrc = job->nv / job->ntuples;
	struct job *part = NULL;

	c->disp.spread_done = 1;
	if (per >= job->ntuples) {
		sched_give(c, (struct job *[]){ job_seal(c, job) }, 1);
		return;
	}
	job_seal(c, job);
	/* It was the last job begun: the parts take its number on. */
	c->disp.next_seq = job->seq - 1;
	for (size_t i = 0; i < job->ntuples; i++) {
		if (!part)
			part = job_begin(c);
		job_add(part, &(struct tuple){ .n = nsrc,
		    .v = job->v + i * nsrc }, 0);
		if (part->ntuples == per || i + 1 == job->ntuples) {
			sched_give(c, (struct job *[]){ job_seal(c, part) }, 1);
			part = NULL;
		}
	}
	dispatch_job_free(c, job);
}

/* --pipe: a job for each block at hand while the pool has room. */
static void
dispatch_blocks(struct ccmap *c)
{
	static const struct value none = { "", 0 };	/* {} is empty */

	c->disp.need_input = 0;
	while (!c->sched.stopping && !c->disp.input_done &&
	    (c->sched.backlogging || (sched_room(c) && sched_may_start(c)))) {
		struct block blk;
		struct job *job;
		const char *h;
		size_t hl;
		int r = blocks_next(c->disp.blocks, &blk);

		if (r == INPUT_AGAIN) {
			c->disp.need_input = 1;
			break;
		}
		if (r == INPUT_EOF) {
			input_ended(c);
			sched_start_waiting(c);
			break;
		}
		job = job_begin(c);
		job_add(job, &(struct tuple){ .n = 1, .v = &none }, 0);
		job->blk = blk;
		blocks_header(c->disp.blocks, &h, &hl);
		job->sent = hl + blk.len;	/* --joblog's Send */
		job_seal(c, job);
		sched_give(c, &job, 1);
	}
}

/* Make jobs of the items at hand while the pool has room. */
void
dispatch_jobs(struct ccmap *c)
{
	if (c->cfg.plugin) {
		dispatch_batches(c);
		return;
	}
	sched_start_waiting(c);
	if (c->disp.blocks) {
		dispatch_blocks(c);
		return;
	}
	c->disp.need_input = 0;
	while (!c->sched.stopping && !c->disp.input_done && !c->sched.asking &&
	    (c->sched.backlogging || (sched_room(c) && sched_may_start(c)))) {
		size_t n = 0;
		int r = INPUT_TUPLE;

		while (n < c->cfg.chunksize && (c->sched.backlogging ||
		    c->sched.inflight + n < c->sched.capacity) &&
		    !c->sched.stopping) {
			struct tuple t;
			if ((r = input_next(c->disp.in, &t)) != INPUT_TUPLE)
				break;
			if (c->cfg.shape &&
			    !fields_apply(c->disp.fields, &t, &t))
				continue;	/* --skip, --match */
			take_tuple(c, &t, &n);
		}
		struct job *last = NULL, *pending = c->disp.pending;
		if (r == INPUT_EOF) {
			if (pending && c->cfg.spread && !c->disp.spread_done &&
			    pending->ntuples > 1)
				last = pending;
			else if (pending)
				c->disp.chunk[n++] = job_seal(c, pending);
			c->disp.pending = NULL;
			input_ended(c);
		}
		if (n)
			sched_give(c, c->disp.chunk, n);
		if (last) {
			spread_last(c, last);
			/* (Its parts counted.) */
			c->sched.halt.total = c->disp.next_seq;
		}
		if (r == INPUT_EOF)
			sched_start_waiting(c);
		if (r == INPUT_AGAIN) {
			c->disp.need_input = 1;
			break;
		}
	}
}
