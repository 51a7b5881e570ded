/* Unit tests for struct reorder (src/reorder.[ch]). */
#include <stdint.h>
#include <stdlib.h>

#include "reorder.h"
#include "task.h"

/* Items are the sequence numbers themselves, as pointers. */
#define ITEM(seq) ((void *)(uintptr_t)(seq))

TEST_IMPL(reorder_out_of_order)
{
	static const unsigned long long order[] = { 3, 1, 5, 2, 4, 7, 6 };
	struct reorder r;
	unsigned long long next = 1;
	void *it;

	reorder_init(&r, 1);
	ASSERT_NULL(reorder_pop(&r));
	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
		reorder_put(&r, order[i], ITEM(order[i]));
		while ((it = reorder_pop(&r)) != NULL) {
			ASSERT_EQ((uintptr_t)it, next);
			next++;
		}
		/* Whatever is held is waiting for next. */
		ASSERT_EQ(r.head, next);
	}
	ASSERT_EQ(next, 8);
	ASSERT_EQ(r.count, 0);
	reorder_release(&r);
	return 0;
}

TEST_IMPL(reorder_pop_only_head)
{
	struct reorder r;

	reorder_init(&r, 10);
	reorder_put(&r, 11, ITEM(11));
	reorder_put(&r, 12, ITEM(12));
	ASSERT_EQ(r.count, 2);
	ASSERT_NULL(reorder_pop(&r));	/* 10 has not arrived */
	ASSERT_EQ(r.head, 10);
	reorder_put(&r, 10, ITEM(10));
	ASSERT_EQ((uintptr_t)reorder_pop(&r), 10);
	ASSERT_EQ((uintptr_t)reorder_pop(&r), 11);
	ASSERT_EQ((uintptr_t)reorder_pop(&r), 12);
	ASSERT_NULL(reorder_pop(&r));
	ASSERT_EQ(r.count, 0);
	ASSERT_EQ(r.head, 13);
	reorder_release(&r);
	return 0;
}

TEST_IMPL(reorder_growth_with_gap)
{
	const unsigned long long n = 10000;
	struct reorder r;
	size_t cap0;

	reorder_init(&r, 1);
	cap0 = r.cap;
	for (unsigned long long s = 2; s <= n; s++) {
		reorder_put(&r, s, ITEM(s));
		ASSERT_EQ(r.count, s - 1);
		ASSERT_NULL(reorder_pop(&r));
	}
	ASSERT_GT(r.cap, cap0);
	ASSERT_GE(r.cap, n);
	ASSERT_EQ(r.cap & (r.cap - 1), 0);	/* a power of two */
	reorder_put(&r, 1, ITEM(1));
	ASSERT_EQ(r.count, n);
	for (unsigned long long s = 1; s <= n; s++) {
		void *it = reorder_pop(&r);

		ASSERT_EQ((uintptr_t)it, s);
		ASSERT_EQ(r.count, n - s);
	}
	ASSERT_NULL(reorder_pop(&r));
	reorder_release(&r);
	return 0;
}

/* Growth after the ring has wrapped: head far from slot 0. */
TEST_IMPL(reorder_growth_after_wrap)
{
	struct reorder r;
	unsigned long long s, next = 1;
	void *it;

	reorder_init(&r, 1);
	/* Move head to 1000 through a full ring of 64 many times. */
	for (s = 1; s < 1000; s++) {
		reorder_put(&r, s, ITEM(s));
		ASSERT_EQ((uintptr_t)reorder_pop(&r), s);
		next++;
	}
	/* Now hold a window much wider than the ring, backwards. */
	for (s = 1000 + 300; s > 1000; s--)
		reorder_put(&r, s, ITEM(s));
	ASSERT_EQ(r.count, 300);
	ASSERT_NULL(reorder_pop(&r));
	reorder_put(&r, 1000, ITEM(1000));
	while ((it = reorder_pop(&r)) != NULL)
		ASSERT_EQ((uintptr_t)it, next++);
	ASSERT_EQ(next, 1301);
	ASSERT_EQ(r.count, 0);
	reorder_release(&r);
	return 0;
}

TEST_IMPL(reorder_random_order)
{
	const size_t n = 5000;
	unsigned long long *perm = malloc(n * sizeof *perm);
	unsigned long long next = 7;
	struct reorder r;
	void *it;

	ASSERT_NOT_NULL(perm);
	for (size_t i = 0; i < n; i++)
		perm[i] = 7 + i;
	srand(12345);
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = (size_t)rand() % (i + 1);
		unsigned long long t = perm[i];

		perm[i] = perm[j];
		perm[j] = t;
	}
	reorder_init(&r, 7);
	for (size_t i = 0; i < n; i++) {
		reorder_put(&r, perm[i], ITEM(perm[i]));
		while ((it = reorder_pop(&r)) != NULL)
			ASSERT_EQ((uintptr_t)it, next++);
		ASSERT_EQ(r.count, i + 1 - (size_t)(next - 7));
	}
	ASSERT_EQ(next, 7 + n);
	reorder_release(&r);
	free(perm);
	return 0;
}
