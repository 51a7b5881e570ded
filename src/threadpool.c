/*
 * threadpool.c: worker threads, a work queue and a completion queue
 * (see threadpool.h).  Never hold both locks at once.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "util.h"
#include "threadpool.h"

struct threadpool {
	pthread_t *threads;
	unsigned n;
	void *arg;

	pthread_mutex_t lock;		/* guards the work queue */
	pthread_cond_t cond;
	struct tp_work *head, *tail;
	unsigned idle;
	int exiting;
	unsigned *slots;		/* the free slots, oldest first: */
	unsigned nslots, slot_head, nfree;	/* a ring of nslots */
	unsigned max_slot;		/* the slots given so far */

	pthread_mutex_t done_lock;	/* guards the completion queue */
	struct tp_work *done_head, *done_tail;
	int efd;			/* wakes the main thread */
};

struct worker_start {
	struct threadpool *tp;
	unsigned index;
};

/* Under lock: the slot freed the longest ago, else a new one. */
static unsigned
take_slot(struct threadpool *tp)
{
	unsigned s;

	if (!tp->nfree)
		return ++tp->max_slot;	/* never past n: n workers hold them */
	s = tp->slots[tp->slot_head];
	tp->slot_head = (tp->slot_head + 1) % tp->nslots;
	tp->nfree--;
	return s;
}

/* Under lock: slot is free again. */
static void
put_slot(struct threadpool *tp, unsigned slot)
{
	tp->slots[(tp->slot_head + tp->nfree++) % tp->nslots] = slot;
}

static void *
worker(void *p)
{
	struct worker_start *ws = p;
	struct threadpool *tp = ws->tp;
	unsigned index = ws->index;
	char name[16];

	free(ws);
	snprintf(name, sizeof name, "ccmap-w%u", index);
	pthread_setname_np(pthread_self(), name);
	for (unsigned held = 0;; ) {
		struct tp_work *w;

		pthread_mutex_lock(&tp->lock);
		if (held)
			put_slot(tp, held);
		held = 0;
		while (!tp->head && !tp->exiting) {
			tp->idle++;
			pthread_cond_wait(&tp->cond, &tp->lock);
			tp->idle--;
		}
		w = tp->head;
		if (!w) {	/* exiting, and the queue is empty */
			pthread_mutex_unlock(&tp->lock);
			return NULL;
		}
		tp->head = w->next;
		if (!tp->head)
			tp->tail = NULL;
		held = w->slot = take_slot(tp);
		pthread_mutex_unlock(&tp->lock);
		w->next = NULL;
		w->work(w, index, tp->arg);
	}
}

int
threadpool_new(struct threadpool **tpp, unsigned n, void *arg)
{
	struct threadpool *tp = util_calloc(1, sizeof *tp);
	pthread_attr_t attr;
	sigset_t all, old;
	int e = 0;

	tp->threads = util_calloc(n, sizeof *tp->threads);
	tp->slots = util_calloc(n, sizeof *tp->slots);
	tp->nslots = n;
	tp->arg = arg;
	pthread_mutex_init(&tp->lock, NULL);
	pthread_cond_init(&tp->cond, NULL);
	pthread_mutex_init(&tp->done_lock, NULL);
	tp->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (tp->efd < 0) {
		e = -errno;
		goto fail;
	}
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (; tp->n < n; tp->n++) {
		struct worker_start *ws = util_malloc(sizeof *ws);
		ws->tp = tp;
		ws->index = tp->n;
		if ((e = pthread_create(&tp->threads[tp->n], &attr, worker,
		    ws)) != 0) {
			free(ws);
			e = -e;
			break;
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (e)
		goto fail;
	*tpp = tp;
	return 0;
fail:
	threadpool_free(tp);
	return e;
}

void
threadpool_free(struct threadpool *tp)
{
	if (!tp)
		return;
	pthread_mutex_lock(&tp->lock);
	tp->exiting = 1;
	pthread_cond_broadcast(&tp->cond);
	pthread_mutex_unlock(&tp->lock);
	for (unsigned i = 0; i < tp->n; i++)
		pthread_join(tp->threads[i], NULL);
	if (tp->efd >= 0)
		close(tp->efd);
	pthread_mutex_destroy(&tp->lock);
	pthread_cond_destroy(&tp->cond);
	pthread_mutex_destroy(&tp->done_lock);
	free(tp->threads);
	free(tp->slots);
	free(tp);
}

void
threadpool_post(struct threadpool *tp, struct tp_work *w)
{
	w->next = NULL;
	pthread_mutex_lock(&tp->lock);
	if (tp->tail)
		tp->tail->next = w;
	else
		tp->head = w;
	tp->tail = w;
	if (tp->idle)
		pthread_cond_signal(&tp->cond);
	pthread_mutex_unlock(&tp->lock);
}

void
threadpool_complete(struct threadpool *tp, struct tp_work *w)
{
	int was_empty;

	w->next = NULL;
	pthread_mutex_lock(&tp->done_lock);
	was_empty = tp->done_head == NULL;
	if (tp->done_tail)
		tp->done_tail->next = w;
	else
		tp->done_head = w;
	tp->done_tail = w;
	pthread_mutex_unlock(&tp->done_lock);
	if (was_empty) {
		uint64_t one = 1;
		while (write(tp->efd, &one, sizeof one) < 0 && errno == EINTR)
			;
	}
}

int
threadpool_fd(const struct threadpool *tp)
{
	return tp->efd;
}

struct tp_work *
threadpool_collect(struct threadpool *tp)
{
	struct tp_work *list;
	uint64_t count;

	/* Clear the wakeup first: a completion after this writes it again. */
	while (read(tp->efd, &count, sizeof count) < 0 && errno == EINTR)
		;
	pthread_mutex_lock(&tp->done_lock);
	list = tp->done_head;
	tp->done_head = tp->done_tail = NULL;
	pthread_mutex_unlock(&tp->done_lock);
	return list;
}
