/*
 * loop.h: the run's loop (loop.c), with the executor given: ccmap_run()
 * chooses it by the options; tests give a fake one.
 */
#ifndef CCMAP_LOOP_H
#define CCMAP_LOOP_H

struct ccmap;
struct ccmap_result;
struct executor;

/*
 * ccmap_run(), on executor x (NULL: the one the options ask for), which
 * the run frees at its end (or lets be: res->abandoned).
 */
int loop_run(struct ccmap *c, struct ccmap_result *res, struct executor *x);

#endif
