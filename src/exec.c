/*
 * exec.c: what every executor shares: the choice of one by the options,
 * and a worker's state.
 */
#include <string.h>
#include <sys/uio.h>

#include "engine.h"
#include "exec.h"
#include "plugin.h"

struct executor *
exec_new(struct ccmap *c)
{
	int procs = c->cfg.opts.executor == CCMAP_PROCS;

	if (c->cfg.hosts)
		return exec_ssh(c);	/* (a plugin: in the hosts' workers) */
	if (c->cfg.plugin)
		return procs ? exec_plugin_procs(c) : exec_plugin_threads(c);
	return procs ? exec_cmd_procs(c) : exec_cmd_threads(c);
}

int
exec_job_in(const struct ccmap *c, const struct job *job, struct iovec in[2])
{
	const char *h;

	if (!job->blk.buf)
		return 0;
	blocks_header(c->disp.blocks, &h, &in[0].iov_len);
	in[0].iov_base = (void *)h;
	in[1].iov_base = (void *)job->blk.p;
	in[1].iov_len = job->blk.len;
	return 2;
}

void
exec_wstate_init(struct wstate *ws, struct executor *x)
{
	memset(ws, 0, sizeof *ws);
	ws->x = x;
	ws->sock = -1;
	cmdbuf_init(&ws->cb);
	jobenv_init(&ws->env);
}

void
exec_wstate_release(struct wstate *ws)
{
	const struct ccmap *c = ws->x ? ws->x->c : NULL;

	if (c && c->cfg.plugin && ws->pinit > 0 &&
	    plugin_desc(c->cfg.plugin)->worker_fini)
		plugin_desc(c->cfg.plugin)->worker_fini(&c->cfg.host, ws->pw);
	cmdbuf_release(&ws->cb);
	jobenv_release(&ws->env);
	strbuf_release(&ws->scratch);
	strbuf_release(&ws->bout[0]);
	strbuf_release(&ws->bout[1]);
	for (int i = 0; i < 2; i++) {
		strbuf_release(&ws->rec[i]);
		strbuf_release(&ws->iout[i]);
	}
	strbuf_release(&ws->rpath);
}
