/*
 * spill.h: the file that held-back job output spills into past its memory
 * bound (output.h).  One for the whole run, made when first needed in the
 * temporary directory and unlinked at once, so that nothing is left behind
 * however ccmap ends.  Any thread may append to it; what was appended is
 * read back by its offset.  An append fails when the file cannot be made
 * (every one from then on) or written (the disk is full): the output then
 * stays in memory.
 */
#ifndef CCMAP_SPILL_H
#define CCMAP_SPILL_H

#include <stddef.h>
#include <sys/types.h>

struct spill;

/* tmpdir NULL: $TMPDIR, else /tmp.  No file is made yet. */
struct spill *spill_new(const char *tmpdir);
void spill_free(struct spill *sp);
/*
 * Append a then b (from any thread): 0 and where they start in *off, or
 * -1 when the file cannot be made or written.
 */
int spill_append(struct spill *sp, const char *a, size_t alen,
    const char *b, size_t blen, off_t *off);
/* Read back what was appended: as pread(2). */
ssize_t spill_read(const struct spill *sp, char *buf, size_t len,
    off_t off);
/* Bytes appended so far. */
size_t spill_size(const struct spill *sp);

#endif
