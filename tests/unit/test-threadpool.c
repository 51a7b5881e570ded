/* Unit tests for src/threadpool.[ch]. */
#include <fcntl.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"
#include "task.h"
#include "threadpool.h"

struct item {
	struct tp_work w;
	size_t id;
	unsigned worker;
	atomic_int runs;	/* how many times work() ran it */
	int collected;		/* main thread only */
};

struct shared {
	struct threadpool *tp;
	unsigned n;
	atomic_size_t counter;
	atomic_int bad_worker;
	useconds_t delay;
};

static void work_one(struct tp_work *w, unsigned worker, void *arg)
{
	struct shared *sh = arg;
	struct item *it = container_of(w, struct item, w);

	if (worker >= sh->n)
		atomic_store(&sh->bad_worker, 1);
	it->worker = worker;
	atomic_fetch_add(&it->runs, 1);
	atomic_fetch_add(&sh->counter, 1);
	if (sh->delay)
		usleep(sh->delay);
	threadpool_complete(sh->tp, w);
}

/* Collect until want items came back; returns how many. */
static size_t collect_all(struct threadpool *tp, size_t want)
{
	size_t got = 0;

	while (got < want) {
		struct pollfd pfd = { .fd = threadpool_fd(tp), .events = POLLIN };
		struct tp_work *list;
		int r = poll(&pfd, 1, 20000);

		if (r == 0)
			FAIL("nothing collected for 20 s; %zu of %zu", got, want);
		ASSERT_EQ(r, 1);
		list = threadpool_collect(tp);
		while (list) {
			struct tp_work *next = list->next;
			struct item *it = container_of(list, struct item, w);

			if (it->collected)
				FAIL("item %zu collected twice", it->id);
			it->collected = 1;
			got++;
			list = next;
		}
	}
	return got;
}

TEST_IMPL(threadpool_many_items)
{
	const size_t n = 10000;
	struct shared sh = { .n = 4 };
	struct item *items = calloc(n, sizeof *items);
	size_t i;

	ASSERT_NOT_NULL(items);
	ASSERT_OK(threadpool_new(&sh.tp, sh.n, &sh));
	ASSERT_GE(threadpool_fd(sh.tp), 0);
	for (i = 0; i < n; i++) {
		items[i].id = i;
		items[i].w.work = work_one;
		threadpool_post(sh.tp, &items[i].w);
	}
	ASSERT_EQ(collect_all(sh.tp, n), n);
	ASSERT_EQ(atomic_load(&sh.counter), n);
	ASSERT_EQ(atomic_load(&sh.bad_worker), 0);
	for (i = 0; i < n; i++) {
		ASSERT_EQ(items[i].collected, 1);
		ASSERT_EQ(atomic_load(&items[i].runs), 1);
		ASSERT_LT(items[i].worker, sh.n);
	}
	/* Nothing more to collect. */
	ASSERT_NULL(threadpool_collect(sh.tp));
	threadpool_free(sh.tp);
	free(items);
	return 0;
}

/* Posting in waves, collecting in between (the main loop's pattern). */
TEST_IMPL(threadpool_waves)
{
	const size_t n = 2000, wave = 37;
	struct shared sh = { .n = 3 };
	struct item *items = calloc(n, sizeof *items);
	size_t posted = 0, got = 0;

	ASSERT_NOT_NULL(items);
	ASSERT_OK(threadpool_new(&sh.tp, sh.n, &sh));
	while (got < n) {
		for (size_t k = 0; k < wave && posted < n; k++, posted++) {
			items[posted].id = posted;
			items[posted].w.work = work_one;
			threadpool_post(sh.tp, &items[posted].w);
		}
		got += collect_all(sh.tp, posted - got);
	}
	ASSERT_EQ(atomic_load(&sh.counter), n);
	threadpool_free(sh.tp);
	free(items);
	return 0;
}

TEST_IMPL(threadpool_free_runs_queued)
{
	const size_t n = 500;
	struct shared sh = { .n = 2, .delay = 200 };
	struct item *items = calloc(n, sizeof *items);

	ASSERT_NOT_NULL(items);
	ASSERT_OK(threadpool_new(&sh.tp, sh.n, &sh));
	for (size_t i = 0; i < n; i++) {
		items[i].id = i;
		items[i].w.work = work_one;
		threadpool_post(sh.tp, &items[i].w);
	}
	/* Free at once: the queued work runs first, then the pool goes. */
	threadpool_free(sh.tp);
	ASSERT_EQ(atomic_load(&sh.counter), n);
	for (size_t i = 0; i < n; i++)
		ASSERT_EQ(atomic_load(&items[i].runs), 1);
	free(items);
	return 0;
}

TEST_IMPL(threadpool_free_idle)
{
	struct shared sh = { .n = 8 };

	ASSERT_OK(threadpool_new(&sh.tp, sh.n, &sh));
	usleep(10000);	/* let them all go idle */
	threadpool_free(sh.tp);
	ASSERT_OK(threadpool_new(&sh.tp, 1, &sh));
	threadpool_free(sh.tp);
	return 0;
}

/* A chunk: one posted work item completes all of its items. */
struct chunk {
	struct tp_work w;
	struct item *items;
	size_t n;
};

static void work_chunk(struct tp_work *w, unsigned worker, void *arg)
{
	struct shared *sh = arg;
	struct chunk *c = container_of(w, struct chunk, w);

	for (size_t i = 0; i < c->n; i++) {
		c->items[i].worker = worker;
		atomic_fetch_add(&c->items[i].runs, 1);
		atomic_fetch_add(&sh->counter, 1);
		threadpool_complete(sh->tp, &c->items[i].w);
	}
}

TEST_IMPL(threadpool_chunks)
{
	const size_t n = 3000, per = 7;
	const size_t nchunks = (n + per - 1) / per;
	struct shared sh = { .n = 4 };
	struct item *items = calloc(n, sizeof *items);
	struct chunk *chunks = calloc(nchunks, sizeof *chunks);

	ASSERT_NOT_NULL(items);
	ASSERT_NOT_NULL(chunks);
	ASSERT_OK(threadpool_new(&sh.tp, sh.n, &sh));
	for (size_t i = 0; i < n; i++)
		items[i].id = i;
	for (size_t c = 0; c < nchunks; c++) {
		chunks[c].items = &items[c * per];
		chunks[c].n = c * per + per <= n ? per : n - c * per;
		chunks[c].w.work = work_chunk;
		threadpool_post(sh.tp, &chunks[c].w);
	}
	/* What comes back are the items, not the chunks. */
	ASSERT_EQ(collect_all(sh.tp, n), n);
	ASSERT_EQ(atomic_load(&sh.counter), n);
	for (size_t i = 0; i < n; i++) {
		ASSERT_EQ(items[i].collected, 1);
		ASSERT_EQ(atomic_load(&items[i].runs), 1);
		ASSERT_LT(items[i].worker, sh.n);
		/* A chunk's items all ran on one worker. */
		ASSERT_EQ(items[i].worker, items[i - i % per].worker);
	}
	threadpool_free(sh.tp);
	free(items);
	free(chunks);
	return 0;
}

TEST_IMPL(threadpool_collect_order)
{
	/* One worker: completions come back oldest first. */
	const size_t n = 200;
	struct shared sh = { .n = 1 };
	struct item *items = calloc(n, sizeof *items);
	size_t next = 0;

	ASSERT_NOT_NULL(items);
	ASSERT_OK(threadpool_new(&sh.tp, 1, &sh));
	for (size_t i = 0; i < n; i++) {
		items[i].id = i;
		items[i].w.work = work_one;
		threadpool_post(sh.tp, &items[i].w);
	}
	while (next < n) {
		struct pollfd pfd = { .fd = threadpool_fd(sh.tp), .events = POLLIN };
		struct tp_work *list;

		ASSERT_EQ(poll(&pfd, 1, 20000), 1);
		for (list = threadpool_collect(sh.tp); list; list = list->next) {
			struct item *it = container_of(list, struct item, w);

			ASSERT_EQ(it->id, next);
			ASSERT_EQ(it->worker, 0);
			next++;
		}
	}
	threadpool_free(sh.tp);
	free(items);
	return 0;
}

TEST_IMPL(threadpool_fd_cloexec)
{
	struct shared sh = { .n = 1 };
	int flags;

	ASSERT_OK(threadpool_new(&sh.tp, 1, &sh));
	flags = fcntl(threadpool_fd(sh.tp), F_GETFD);
	ASSERT_GE(flags, 0);
	ASSERT(flags & FD_CLOEXEC);
	/* Not readable while nothing is finished. */
	{
		struct pollfd pfd = { .fd = threadpool_fd(sh.tp), .events = POLLIN };

		ASSERT_EQ(poll(&pfd, 1, 50), 0);
	}
	threadpool_free(sh.tp);
	return 0;
}

/* An item that holds its worker until let go, and notes its slot. */
struct gated {
	struct tp_work w;
	struct threadpool *tp;
	atomic_int started, go;
	unsigned slot;
};

static void work_gated(struct tp_work *w, unsigned worker, void *arg)
{
	struct gated *g = container_of(w, struct gated, w);

	(void)worker;
	(void)arg;
	g->slot = w->slot;
	atomic_store(&g->started, 1);
	while (!atomic_load(&g->go))
		usleep(1000);
	threadpool_complete(g->tp, w);
}

/* Wait (20 s at most) until g has started; then its slot. */
static unsigned gated_slot(struct gated *g)
{
	for (int i = 0; i < 20000 && !atomic_load(&g->started); i++)
		usleep(1000);
	return atomic_load(&g->started) ? g->slot : 0;
}

/* Let g end, and collect it. */
static int gated_end(struct gated *g)
{
	struct pollfd pfd = { .fd = threadpool_fd(g->tp), .events = POLLIN };

	atomic_store(&g->go, 1);
	ASSERT_EQ(poll(&pfd, 1, 20000), 1);
	ASSERT_EQ(threadpool_collect(g->tp), &g->w);
	return 0;
}

TEST_IMPL(threadpool_slots_as_gnu_parallel)
{
	struct threadpool *tp;
	struct gated g[5];

	memset(g, 0, sizeof g);
	ASSERT_OK(threadpool_new(&tp, 3, NULL));
	for (int i = 0; i < 5; i++) {
		g[i].tp = tp;
		g[i].w.work = work_gated;
	}
	/* Three at once: slots 1, 2, 3 in the order posted. */
	for (int i = 0; i < 3; i++) {
		threadpool_post(tp, &g[i].w);
		ASSERT_EQ(gated_slot(&g[i]), (unsigned)i + 1);
	}
	/* The second ends: the next item takes its slot... */
	ASSERT_OK(gated_end(&g[1]));
	threadpool_post(tp, &g[3].w);
	ASSERT_EQ(gated_slot(&g[3]), 2);
	/* ...and so on, never a slot past 3. */
	ASSERT_OK(gated_end(&g[0]));
	threadpool_post(tp, &g[4].w);
	ASSERT_EQ(gated_slot(&g[4]), 1);
	for (int i = 2; i < 5; i++)
		ASSERT_OK(gated_end(&g[i]));
	threadpool_free(tp);
	return 0;
}
