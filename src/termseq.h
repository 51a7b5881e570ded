/*
 * termseq.h: the kill sequence (--termseq), GNU parallel's way of stopping
 * a job: a signal, a wait for the job to go, the next signal, and so on.
 *
 * The sequence is used when a run is stopped (SIGINT, SIGTERM, SIGQUIT,
 * --halt now, an error), and for a job past --timeout.  A step is taken
 * only while something is still running; after the last one, whatever
 * still runs gets SIGKILL (unless the last step sent it), so that no job
 * outlives the sequence.
 */
#ifndef CCMAP_TERMSEQ_H
#define CCMAP_TERMSEQ_H

#include "ccmap.h"

/* The sequence to follow: ts itself, or the default when ts is empty. */
const struct ccmap_termseq *termseq_get(const struct ccmap_termseq *ts);

#endif
