/*
 * threadpool.h: a fixed pool of worker threads, in libuv's shape.
 *
 * Work items are intrusive: embed a struct tp_work in your own struct, so
 * that posting never allocates.  A worker runs work(); work() hands one or
 * more finished items back with threadpool_complete(), and the main thread
 * collects them with threadpool_collect() when threadpool_fd() is readable.
 * So all bookkeeping and output stay on the main thread.
 *
 * Only the main thread posts, collects and frees.  The workers run with
 * every signal blocked, so signals reach the main thread.
 */
#ifndef CCMAP_THREADPOOL_H
#define CCMAP_THREADPOOL_H

struct threadpool;

struct tp_work {
	struct tp_work *next;
	/* Runs on worker thread number worker (from 0). */
	void (*work)(struct tp_work *w, unsigned worker, void *arg);
	/*
	 * Set by the pool as a worker takes the item, for as long as work()
	 * runs: a job slot from 1, as GNU parallel gives them ({%}).  The
	 * slot freed the longest ago, else a new one; as the items are taken
	 * in the order posted, the same ends give the same slots.
	 */
	unsigned slot;
};

/* Start n workers; work() gets arg.  0 or -errno. */
int threadpool_new(struct threadpool **tpp, unsigned n, void *arg);
/* Stop the workers (after the work already posted) and free the pool. */
void threadpool_free(struct threadpool *tp);
/* Queue w for the workers. */
void threadpool_post(struct threadpool *tp, struct tp_work *w);
/* From work(): w is finished; the main thread will collect it. */
void threadpool_complete(struct threadpool *tp, struct tp_work *w);
/* Readable when finished items wait to be collected. */
int threadpool_fd(const struct threadpool *tp);
/* Take every finished item, oldest first, as a list linked by next. */
struct tp_work *threadpool_collect(struct threadpool *tp);

#endif
