/*
 * signals.h: SIGINT, SIGTERM, SIGQUIT and SIGHUP (unless it was ignored, as
 * under nohup) as events on a pipe (the self-pipe trick), and SIGPIPE
 * ignored so that a closed stdout is an EPIPE error.
 *
 * The handler only writes the signal number to a non-blocking pipe; the
 * main loop polls signals_fd() and reads them with signals_take().  Other
 * events may come the same way, from any thread: signals_post().
 */
#ifndef CCMAP_SIGNALS_H
#define CCMAP_SIGNALS_H

/* Install the handlers; 0 or -errno. */
int signals_init(void);
/* Put back the dispositions signals_init() found, and close the pipe. */
void signals_restore(void);
/* After signals_init(): SIGWINCH through the pipe too (for the terminal). */
int signals_add_winch(void);
int signals_fd(void);
/* The next signal that arrived, or 0. */
int signals_take(void);
/* An event for the main loop, as if signal code had come (async-safe). */
#define SIGNALS_PLUGIN_EXIT 255	/* a plugin called exit() (run.c) */
void signals_post(int code);

#endif
