/*
 * mux.h: a job as a session over an OpenSSH ControlMaster, asked of the
 * master on its socket in OpenSSH's multiplexing protocol (version 4, as
 * OpenSSH's PROTOCOL.mux describes it): the job's stdin, stdout and
 * stderr are passed to the master, which runs the session.  It is what
 * `ssh -S SOCKET -o ControlMaster=no` does, without that process: on a
 * small machine, starting ssh costs more than the session itself.
 */
#ifndef CCMAP_MUX_H
#define CCMAP_MUX_H

#include "job.h"

/*
 * Run cmd (a command line for the far end's login shell) over the master
 * listening on ctl, as spawn_job() runs a command: io says where its
 * output goes and what it reads, io->opened hears of its socket (the
 * session ends when that is shut down: ssh's client killed), ctx gives
 * --timeout.  Its exit status is the far end's; a session that failed
 * (the master gone or refusing) has ssh's 255, with why on its stderr.
 * 0; -EPROTONOSUPPORT if the master speaks another version (nothing
 * was started: run an ssh client instead); or -errno, as spawn_job().
 */
int mux_job(const struct spawn_ctx *ctx, const char *ctl, const char *cmd,
    const struct spawn_io *io, struct job_status *st);

/*
 * Open a session that runs cmd over the master on ctl, with fds as its
 * stdin, stdout and stderr (ours stay ours: close them once given), and
 * leave it running: the socket it is held by (closing it ends the
 * session), or -EPROTONOSUPPORT (a master of another version), or
 * -EHOSTUNREACH / -errno, with why.
 */
int mux_open(const char *ctl, const char *cmd, const int fds[3], char *why,
    size_t wlen);

#endif
