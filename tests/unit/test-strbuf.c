/* Unit tests for src/strbuf.[ch]. */
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "task.h"

/* The invariant every test checks: len <= alloc and, once anything was
 * added, buf is NUL-terminated at len. */
static void check_invariant(const struct strbuf *sb)
{
	if (sb->alloc == 0) {
		ASSERT_EQ(sb->len, 0);
		return;
	}
	ASSERT_NOT_NULL(sb->buf);
	ASSERT_LT(sb->len, sb->alloc);
	ASSERT_EQ(sb->buf[sb->len], '\0');
}

TEST_IMPL(strbuf_init_is_empty)
{
	struct strbuf sb;

	strbuf_init(&sb, 0);
	ASSERT_EQ(sb.len, 0);
	check_invariant(&sb);
	strbuf_release(&sb);

	strbuf_init(&sb, 100);
	ASSERT_EQ(sb.len, 0);
	check_invariant(&sb);
	strbuf_release(&sb);
	return 0;
}

TEST_IMPL(strbuf_static_init)
{
	struct strbuf sb = STRBUF_INIT;

	ASSERT_EQ(sb.len, 0);
	ASSERT_EQ(sb.alloc, 0);
	strbuf_addstr(&sb, "hello");
	ASSERT_NOT_NULL(sb.buf);
	ASSERT_EQ(sb.len, 5);
	ASSERT_STR_EQ(sb.buf, "hello");
	check_invariant(&sb);
	strbuf_release(&sb);
	return 0;
}

TEST_IMPL(strbuf_add_bytes)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_add(&sb, "abc", 3);
	ASSERT_NOT_NULL(sb.buf);
	ASSERT_EQ(sb.len, 3);
	ASSERT_EQ(sb.buf[sb.len], '\0');
	strbuf_add(&sb, "defgh", 2);
	ASSERT_MEM_EQ(sb.buf, sb.len, "abcde", 5);
	check_invariant(&sb);
	strbuf_release(&sb);
	return 0;
}

TEST_IMPL(strbuf_add_embedded_nul)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_add(&sb, "a\0b", 3);
	strbuf_addch(&sb, '\0');
	strbuf_addch(&sb, 'c');
	ASSERT_EQ(sb.len, 5);
	ASSERT_MEM_EQ(sb.buf, sb.len, "a\0b\0c", 5);
	check_invariant(&sb);
	strbuf_release(&sb);
	return 0;
}

TEST_IMPL(strbuf_addstr_and_addch)
{
	struct strbuf sb;

	strbuf_init(&sb, 0);
	strbuf_addstr(&sb, "foo");
	strbuf_addch(&sb, '/');
	strbuf_addstr(&sb, "");
	strbuf_addstr(&sb, "bar");
	ASSERT_STR_EQ(sb.buf, "foo/bar");
	ASSERT_EQ(sb.len, 7);
	check_invariant(&sb);
	strbuf_release(&sb);
	return 0;
}

TEST_IMPL(strbuf_add_empty)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_add(&sb, "", 0);
	ASSERT_EQ(sb.len, 0);
	ASSERT_NOT_NULL(sb.buf);
	ASSERT_EQ(sb.buf[0], '\0');
	check_invariant(&sb);
	strbuf_release(&sb);
	return 0;
}

TEST_IMPL(strbuf_grow_reserves)
{
	struct strbuf sb = STRBUF_INIT;
	char *before;
	size_t i;

	strbuf_addstr(&sb, "x");
	strbuf_grow(&sb, 1000);
	ASSERT_GE(sb.alloc, sb.len + 1000 + 1);
	ASSERT_EQ(sb.len, 1);
	ASSERT_STR_EQ(sb.buf, "x");
	/* Appending within the reserved room must not move the buffer. */
	before = sb.buf;
	for (i = 0; i < 1000; i++)
		strbuf_addch(&sb, 'y');
	ASSERT(sb.buf == before);
	ASSERT_EQ(sb.len, 1001);
	check_invariant(&sb);
	strbuf_release(&sb);
	return 0;
}

TEST_IMPL(strbuf_grow_many)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i, n = 100000;

	for (i = 0; i < n; i++)
		strbuf_addch(&sb, 'a' + (int)(i % 26));
	ASSERT_EQ(sb.len, n);
	for (i = 0; i < n; i++)
		if (sb.buf[i] != 'a' + (int)(i % 26))
			FAIL("byte %zu is %d", i, sb.buf[i]);
	check_invariant(&sb);
	strbuf_release(&sb);
	return 0;
}

TEST_IMPL(strbuf_reset_keeps_buffer)
{
	struct strbuf sb = STRBUF_INIT;
	size_t alloc;

	strbuf_addstr(&sb, "some text");
	alloc = sb.alloc;
	strbuf_reset(&sb);
	ASSERT_EQ(sb.len, 0);
	ASSERT_EQ(sb.alloc, alloc);
	check_invariant(&sb);
	strbuf_addstr(&sb, "more");
	ASSERT_STR_EQ(sb.buf, "more");
	strbuf_release(&sb);
	return 0;
}

TEST_IMPL(strbuf_detach)
{
	struct strbuf sb = STRBUF_INIT;
	size_t len = 12345;
	char *s;

	strbuf_addstr(&sb, "detach me");
	s = strbuf_detach(&sb, &len);
	ASSERT_NOT_NULL(s);
	ASSERT_EQ(len, 9);
	ASSERT_STR_EQ(s, "detach me");
	free(s);
	/* The strbuf is empty and usable again. */
	ASSERT_EQ(sb.len, 0);
	check_invariant(&sb);
	strbuf_addstr(&sb, "again");
	ASSERT_STR_EQ(sb.buf, "again");
	strbuf_release(&sb);

	/* Detaching an empty strbuf still gives a string the caller frees;
	 * a NULL length pointer is allowed. */
	s = strbuf_detach(&sb, NULL);
	ASSERT_NOT_NULL(s);
	ASSERT_STR_EQ(s, "");
	free(s);
	strbuf_release(&sb);
	return 0;
}

TEST_IMPL(strbuf_release_reinit)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_release(&sb); /* releasing an untouched strbuf is fine */
	strbuf_addstr(&sb, "abc");
	strbuf_release(&sb);
	ASSERT_EQ(sb.len, 0);
	ASSERT_EQ(sb.alloc, 0);
	strbuf_addstr(&sb, "def");
	ASSERT_STR_EQ(sb.buf, "def");
	strbuf_release(&sb);
	return 0;
}
