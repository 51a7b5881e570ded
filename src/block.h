/*
 * block.h: --pipe: the input cut into blocks of whole records, as GNU
 * parallel cuts it, for jobs to read on their stdin.
 *
 * The input is read in rounds.  A round fills the buffer up to the next
 * multiple of the block size, or to the end of the input, and then cuts it:
 *
 *  - by default, after the last record that ends in the buffer, so that a
 *    block holds at most the block size; at the end of the input, all that
 *    is left is one block;
 *  - with records (-N), into blocks of exactly that many records, as many
 *    as the buffer holds; the rest waits for the next round;
 *  - with lines alone (-L), after the last whole group of that many lines.
 *
 * A record ends with recend and the next one starts with recstart (literal
 * strings, with GNU parallel's escapes \n \t \r \0 \\ \' \"); a cut falls
 * where recend is followed by recstart, between the two (both empty: any
 * byte ends a record, so blocks are of exactly the block size).  With a regex
 * (--recsep) instead, a record ends after each match.  A round that cuts
 * nothing (a record longer than the block) makes the block 30% larger, with
 * a warning, and reads on.  With a header (--header N lines, ":" for one,
 * or a regex matched at the start of the input) the header is taken off
 * the input and given to every job before its block.
 *
 * The caller drives the reading, so that it can poll the descriptor along
 * with everything else (as with input.h):
 *
 *	while ((r = blocks_next(b, &blk)) != INPUT_EOF) {
 *		if (r == INPUT_AGAIN) {
 *			poll blocks_fd(b) for POLLIN, then blocks_fill(b);
 *			continue;
 *		}
 *		hand blk on; block_release(&blk) when it is written;
 *	}
 *
 * The bytes are never copied: a block points into the buffer it was read
 * into, which blocks share by reference count (from one thread: release
 * blocks where they are made).  Only the part of a round after its last
 * cut moves to the next buffer.
 */
#ifndef CCMAP_BLOCK_H
#define CCMAP_BLOCK_H

#include <stddef.h>

#include "input.h"

/* The default --block. */
#define BLOCK_DEFAULT (1024 * 1024)

struct block_opts {
	size_t size;		/* --block (0: BLOCK_DEFAULT) */
	const char *recstart;	/* NULL: none */
	const char *recend;	/* NULL: "\n" unless recstart is given */
	const char *recsep;	/* a PCRE2 regex ending each record, or NULL */
	size_t records;		/* -N: records per block (0: as many as fit) */
	size_t lines;		/* -L: a record is this many lines (0: one) */
	const char *header;	/* --header, or NULL */
	/* Warnings (the block grew), one line each, without a prefix. */
	void (*warn)(void *arg, const char *msg);
	void *arg;
};

struct blockbuf;
struct blocks;

/* One block: len bytes at p, inside buf. */
struct block {
	struct blockbuf *buf;
	const char *p;
	size_t len;
};

/*
 * Cut what fd gives (closed by blocks_free when close_fd is set).  0, or
 * CCMAP_EUSAGE with one line in err (a bad regex or record separator).
 */
int blocks_new(struct blocks **bp, int fd, int close_fd,
    const struct block_opts *o, char *err, size_t errlen);
void blocks_free(struct blocks *b);
/* The next block: INPUT_TUPLE, INPUT_AGAIN, or INPUT_EOF. */
int blocks_next(struct blocks *b, struct block *blk);
/* The descriptor to poll before blocks_fill(), or -1 at the end. */
int blocks_fd(const struct blocks *b);
/* One read(2): bytes read, 0 at the end of the input, or -errno. */
long blocks_fill(struct blocks *b);
/* The header every block follows (len 0: none). */
void blocks_header(const struct blocks *b, const char **p, size_t *len);
/* Drop a block's hold on its buffer. */
void block_release(struct block *blk);

#endif
