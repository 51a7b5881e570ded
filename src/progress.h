/*
 * progress.h: --bar, --eta and --progress, drawn on stderr.
 *
 * On a terminal the display is one line (after --progress's and --eta's
 * header), drawn again at most every PROGRESS_MIN_MS, and once a second
 * while nothing happens, so that the time left goes down.  Elsewhere
 * nothing is drawn until progress_free(), which writes the final line.
 * The main thread calls everything; the display only counts what it is
 * told.
 */
#ifndef CCMAP_PROGRESS_H
#define CCMAP_PROGRESS_H

#include <stddef.h>

#include "ccmap.h"

struct progress;

/* A display of the kinds in flags (CCMAP_SHOW_*) on fd, for a pool of jobs. */
struct progress *progress_new(int flags, int fd, unsigned jobs);
/* Draw the final line (and end it), then free. */
void progress_free(struct progress *p);
/* A job was handed out; item is its text, for --bar (may be NULL). */
void progress_started(struct progress *p, const char *item, size_t len);
/* n more finished (run, failed or skipped). */
void progress_done(struct progress *p, unsigned long long n);
/* This many in all (the number is known, or was known wrong till now). */
void progress_total(struct progress *p, unsigned long long total);
/* n of those started are running now (not waiting in a queue). */
void progress_running(struct progress *p, unsigned long long n);
/* Hold the drawing back (another display owns the terminal) or not. */
void progress_pause(struct progress *p, int paused);
/* Clear the line before fd gets output (if fd shares the terminal). */
void progress_hide(struct progress *p, int fd);
/* Draw, when it is time (or the line was cleared). */
void progress_draw(struct progress *p);
/* Milliseconds until the next drawing is due, or -1. */
int progress_timeout_ms(const struct progress *p);
/* The terminal changed size. */
void progress_resize(struct progress *p);

#endif
