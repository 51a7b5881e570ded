/* Unit tests for src/scan.h: against a byte-by-byte reference. */
#include <stdlib.h>
#include <string.h>

#include "scan.h"
#include "task.h"

/* Blocks of every length up to 80, delimiters at pseudo-random places. */
static void
fill(char *buf, size_t len, unsigned seed, int delim)
{
	for (size_t i = 0; i < len; i++) {
		seed = seed * 1103515245u + 12345u;
		buf[i] = (seed >> 16) % 5 == 0 ? (char)delim : (char)('a' + i % 26);
	}
}

TEST_IMPL(scan_finds_every_delimiter_in_order)
{
	char buf[96];

	for (int delim = 0; delim < 256; delim += 85)
		for (size_t len = 0; len <= 80; len++) {
			fill(buf, len, (unsigned)len, delim);
			struct scan s;
			const char *d;
			size_t want = 0;
			scan_init(&s, buf, len, delim);
			for (size_t i = 0; i < len; i++) {
				if (buf[i] != (char)delim)
					continue;
				d = scan_next(&s);
				ASSERT_NOT_NULL(d);
				ASSERT_EQ(d - buf, i);
				want++;
			}
			ASSERT_NULL(scan_next(&s));
			ASSERT_EQ(scan_count(buf, len, delim), want);

			/* scan_fill, a few at a time, finds the same. */
			const char *ends[3];
			size_t got = 0, n, i = 0;
			scan_init(&s, buf, len, delim);
			while ((n = scan_fill(&s, ends, 1 + len % 3)) > 0)
				for (size_t k = 0; k < n; k++, got++) {
					while (buf[i] != (char)delim)
						i++;
					ASSERT_EQ(ends[k] - buf, i);
					i++;
				}
			ASSERT_EQ(got, want);
			ASSERT_EQ(scan_fill(&s, ends, 3), 0);
		}
	return 0;
}

TEST_IMPL(scan_count_large_block)
{
	/* More than 255 sixteen-byte steps: the lane counters must not wrap. */
	size_t len = 100000;
	char *buf = malloc(len);

	ASSERT_NOT_NULL(buf);
	memset(buf, '\n', len);
	ASSERT_EQ(scan_count(buf, len, '\n'), len);
	buf[len - 1] = 'x';
	buf[0] = 'x';
	ASSERT_EQ(scan_count(buf, len, '\n'), len - 2);
	ASSERT_EQ(scan_count(buf + 1, len - 1, '\n'), len - 2);
	free(buf);
	return 0;
}
