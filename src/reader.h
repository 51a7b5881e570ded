/*
 * reader.h: delimited records read from a descriptor.
 *
 * Records end with the byte delim, or with a match of a regex (--recsep)
 * when one is set.  They point into the reader's buffer and stay valid
 * until the next reader_fill() (or reader_feed()).  The caller drives the
 * reading:
 *
 *	reader_init(&r, fd, close_fd, '\n');
 *	do {
 *		while (reader_next(&r, &rec))
 *			use rec;
 *	} while (reader_fill(&r) > 0);
 *	reader_release(&r);
 *
 * The buffer is open to those that hand it over or fill it from elsewhere
 * (input.c's blocks, ahead.c's spool): unread data is buf[start..end).
 */
#ifndef CCMAP_READER_H
#define CCMAP_READER_H

#include <stddef.h>

#include "value.h"

/* A reader's buffer holds cap bytes, and the NUL of a block handed over. */
#define READ_ALLOC(cap) ((cap) + 1)

struct regex;
struct rmatch;

struct reader {
	int fd;
	int close_fd;		/* we opened it */
	int delim;
	const struct regex *re;	/* or NULL */
	struct rmatch *m;	/* its match data */
	int eof;
	char *buf;
	size_t start, end, cap;	/* unread data is buf[start..end) */
	size_t scan;		/* buf[start..scan) holds no delimiter */
};

void reader_init(struct reader *r, int fd, int close_fd, int delim);
void reader_release(struct reader *r);
/* Records end at matches of re (compiled with REGEX_PARTIAL) instead. */
void reader_set_regex(struct reader *r, const struct regex *re,
    struct rmatch *m);
/*
 * Room for a read at the end of r's buffer: the unread bytes move to its
 * start, and it grows while less than half a read is free.
 */
void reader_room(struct reader *r);
/* One read(2); bytes read, 0 at end of input, or -errno. */
long reader_fill(struct reader *r);
/* Append a record that did not come from the descriptor, and delim. */
void reader_feed(struct reader *r, const char *p, size_t len);
/* 1 and the next record, or 0 when more input (or nothing) is left. */
int reader_next(struct reader *r, struct value *rec);

#endif
