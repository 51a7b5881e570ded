/*
 * exec.h: the executors.
 */
#ifndef CCMAP_EXEC_H
#define CCMAP_EXEC_H

struct ccmap;
struct procpool_ops;
struct tp_work;

void exec_cmd_thread_work(struct tp_work *w, unsigned worker, void *arg);
void exec_cmd_proc_ops(struct ccmap *c, struct procpool_ops *ops);

#endif
