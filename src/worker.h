/*
 * worker.h: `ccmap --worker`, the far end of a remote host's one
 * connection (wconn.h is the near end).  It speaks the framed protocol of
 * proto.h on its stdin and stdout: it says HELLO first, takes a SETUP
 * (its slots, --timeout, --termseq, the host's name), then runs the jobs
 * of the RUN frames on that many threads, each job a process group of
 * its own in /bin/sh, with CCMAP_SEQ, CCMAP_SLOT and CCMAP_HOST set; it
 * streams their output back as it comes (OUT, ERR) and their ends as they
 * come (DONE), and passes KILL's signals on to their groups.  When its
 * stdin ends (the head gone, the connection cut) or it is sent TERM, HUP
 * or INT, it ends its jobs (TERM, then KILL a second later) and exits.
 */
#ifndef CCMAP_WORKER_H
#define CCMAP_WORKER_H

/* Serve the head on in and out until in ends: the exit status. */
int worker_main(int in, int out);

#endif
