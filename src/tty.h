/*
 * tty.h: the terminal, through GNU readline: items typed at a prompt (when
 * stdin is a terminal and no other source is given), and -p's question
 * before each job.  The only module that includes <readline/readline.h>.
 *
 * Readline runs in its callback mode, so that the main loop goes on
 * polling everything else while the user types:
 *
 *	tty_open(&t, TTY_ITEMS or TTY_ASK or both, &ops, ...);
 *	loop: poll tty_fd(t) (when >= 0) with the rest; when it is readable,
 *	      tty_read(t), which calls ops.item / ops.eof / ops.answer;
 *	      before writing to a terminal, tty_hide(t); before waiting
 *	      again, tty_show(t), which puts the prompt and what was typed
 *	      back under what was written;
 *	tty_close(t) puts the terminal back as it was.
 */
#ifndef CCMAP_TTY_H
#define CCMAP_TTY_H

#include <stddef.h>

#define TTY_ITEMS 1	/* read items from stdin, a terminal */
#define TTY_ASK 2	/* -p: ask on /dev/tty before each job */

/* What the terminal gives the run (main thread, from tty_read()). */
struct tty_ops {
	/* An item was entered (a non-empty line, without its newline). */
	void (*item)(void *arg, const char *line, size_t len);
	/* Ctrl-D: no more items. */
	void (*eof)(void *arg);
	/* The answer to tty_ask(): 1 for yes. */
	void (*answer)(void *arg, int yes);
	void *arg;
};

struct tty;

/*
 * Open the terminal.  With TTY_ASK and no terminal to ask on, -ENXIO (or
 * the error opening /dev/tty) and one line in err.
 */
int tty_open(struct tty **tp, int flags, const struct tty_ops *ops,
    char *err, size_t errlen);
/* Put the terminal back and write the history; NULL is fine. */
void tty_close(struct tty *t);
/* The descriptor to poll for input, or -1 when none is wanted now. */
int tty_fd(const struct tty *t);
/* Read what the terminal has (it was readable). */
void tty_read(struct tty *t);
/* Ask "QUESTION ?..." and give the answer to ops.answer. */
void tty_ask(struct tty *t, const char *question);
/* Stop reading items (a signal stops the run). */
void tty_stop(struct tty *t);
/* Clear the prompt line before fd gets buf (if fd is a terminal). */
void tty_hide(struct tty *t, int fd, const char *buf, size_t len);
/* Draw the prompt line again, if it was cleared. */
void tty_show(struct tty *t);
/* The terminal changed size (SIGWINCH). */
void tty_resize(struct tty *t);
/* The history file: $XDG_STATE_HOME/ccmap/history; NULL without $HOME. */
char *tty_history_path(void);

#endif
