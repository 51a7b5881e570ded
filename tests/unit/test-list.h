/*
 * test-list.h: every unit test, one TEST(name) line each.
 *
 * This is an X-macro list: run-tests.c includes it twice, once with TEST
 * defined as TEST_DECLARE (a prototype for run_test_NAME) and once as
 * TEST_ENTRY (a row of the test table).  To add a test, write
 * TEST_IMPL(name) in a tests/unit/test-*.c file and add TEST(name) below.
 * Tests run in the order listed.  No include guard, on purpose.
 */

/* test-strbuf.c */
TEST(strbuf_init_is_empty)
TEST(strbuf_static_init)
TEST(strbuf_add_bytes)
TEST(strbuf_add_embedded_nul)
TEST(strbuf_addstr_and_addch)
TEST(strbuf_add_empty)
TEST(strbuf_grow_reserves)
TEST(strbuf_grow_many)
TEST(strbuf_reset_keeps_buffer)
TEST(strbuf_detach)
TEST(strbuf_release_reinit)
