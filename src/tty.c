/*
 * tty.c: items typed at a readline prompt, and -p's question (see tty.h).
 *
 * Readline's state is global, so there is one struct tty at a time; the
 * line handler finds it through the_tty.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "util.h"
#include "tty.h"

#define ITEM_PROMPT "ccmap> "
#define ASK_SUFFIX " ?..."
#define HISTORY_MAX 1000

struct tty {
	struct tty_ops ops;
	int flags;
	int fd;			/* /dev/tty, or -1 */
	FILE *in, *out;		/* readline's streams (in may be stdin) */
	int installed;		/* readline's handler is in place */
	int items;		/* items are still being read */
	int asking;		/* a question waits for its answer */
	char *typed;		/* the item being typed when a question came */
	int hidden;		/* the prompt line is cleared */
	int ended_nl;		/* what was written since ended with a newline */
	signed char isterm[3];	/* fd 0-2 is a terminal: 1, 0, or -1 unknown */
	char *history;		/* the history file, or NULL */
};

static struct tty *the_tty;

static void on_line(char *line);

/* "y", "Y", "yes" after blanks: yes, as GNU parallel reads it. */
static int
is_yes(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return *s == 'y' || *s == 'Y';
}

char *
tty_history_path(void)
{
	const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	char *p;

	if (state && *state == '/') {
		if (asprintf(&p, "%s/ccmap/history", state) < 0)
			return NULL;
	} else if (home && *home) {
		if (asprintf(&p, "%s/.local/state/ccmap/history", home) < 0)
			return NULL;
	} else {
		return NULL;
	}
	return p;
}

/* mkdir -p the directories above path; 0 or -1. */
static int
make_parents(const char *path)
{
	char *p = util_strdup(path);
	int r = 0;

	for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST) {
			r = -1;
			break;
		}
		*s = '/';
	}
	free(p);
	return r;
}

/* Load the history, and make sure the file exists for append_history. */
static void
history_open(struct tty *t)
{
	int fd;

	using_history();
	stifle_history(HISTORY_MAX);
	if (!(t->history = tty_history_path()))
		return;
	if (make_parents(t->history) < 0 || (fd = open(t->history,
	    O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600)) < 0) {
		free(t->history);
		t->history = NULL;	/* no history, but items still work */
		return;
	}
	close(fd);
	read_history(t->history);
}

/* Remember an entered item, in memory and at once in the file. */
static void
history_add(struct tty *t, const char *line)
{
	HIST_ENTRY *last = history_get(history_base + history_length - 1);

	if (last && strcmp(last->line, line) == 0)
		return;
	add_history(line);
	if (t->history)
		append_history(1, t->history);
}

/*
 * Tab: readline's file name completion, with the whole line as the word
 * (an item is a line, blanks and all), and nothing added after a name.
 */
static char **
complete(const char *text, int start, int end)
{
	(void)text;
	(void)start;
	(void)end;
	rl_completion_append_character = '\0';
	return NULL;
}

/* Before readline draws a fresh prompt: give back what was being typed. */
static int
restore_typed(void)
{
	struct tty *t = the_tty;

	if (t && t->typed && !t->asking) {
		rl_insert_text(t->typed);
		free(t->typed);
		t->typed = NULL;
	}
	return 0;
}

static void
install(struct tty *t, const char *prompt)
{
	rl_callback_handler_install(prompt, on_line);
	t->installed = 1;
}

static void
uninstall(struct tty *t)
{
	if (!t->installed)
		return;
	rl_callback_handler_remove();
	t->installed = 0;
}

/* Readline has a whole line (NULL: end of input). */
static void
on_line(char *line)
{
	struct tty *t = the_tty;

	if (t->asking) {
		int yes = line && is_yes(line);
		t->asking = 0;
		if (!line)
			fputc('\n', t->out);	/* Ctrl-D: no, on a line of its own */
		if (t->items)
			rl_set_prompt(ITEM_PROMPT);
		else
			uninstall(t);
		free(line);
		t->ops.answer(t->ops.arg, yes);
		return;
	}
	if (!line) {
		/* Readline has ended the line itself. */
		t->items = 0;
		uninstall(t);
		t->ops.eof(t->ops.arg);
		return;
	}
	if (*line) {
		history_add(t, line);
		t->ops.item(t->ops.arg, line, strlen(line));
	}
	free(line);
}

int
tty_open(struct tty **tp, int flags, const struct tty_ops *ops, char *err,
    size_t errlen)
{
	struct tty *t = util_calloc(1, sizeof *t);
	int e;

	t->ops = *ops;
	t->flags = flags;
	t->ended_nl = 1;
	memset(t->isterm, -1, sizeof t->isterm);
	t->fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (t->fd < 0 && (flags & TTY_ASK)) {
		e = errno;
		snprintf(err, errlen, "-p/--interactive: no terminal to ask on "
		    "(/dev/tty: %s)", strerror(e));
		free(t);
		return -e;
	}
	if (t->fd >= 0) {
		int fd = dup(t->fd);
		t->out = fd >= 0 ? fdopen(fd, "w") : NULL;
		if (!t->out && fd >= 0)
			close(fd);
	}
	if (!t->out)
		t->out = stderr;	/* TTY_ITEMS, with no /dev/tty */
	if (flags & TTY_ITEMS) {
		t->in = stdin;
	} else {
		int fd = dup(t->fd);
		if (fd < 0 || !(t->in = fdopen(fd, "r"))) {
			e = errno;
			if (fd >= 0)
				close(fd);
			snprintf(err, errlen, "-p/--interactive: cannot use "
			    "/dev/tty: %s", strerror(e));
			tty_close(t);
			return -e;
		}
	}

	/*
	 * Before readline starts: it must not export COLUMNS and LINES to
	 * every job, nor take SIGINT and SIGWINCH from the run's own handlers.
	 */
	rl_change_environment = 0;
	rl_catch_signals = 0;
	rl_catch_sigwinch = 0;
	rl_readline_name = "ccmap";
	rl_instream = t->in;
	rl_outstream = t->out;
	rl_startup_hook = restore_typed;
	rl_attempted_completion_function = complete;
	rl_completer_word_break_characters = "";
	the_tty = t;
	if (flags & TTY_ITEMS) {
		history_open(t);
		t->items = 1;
		install(t, ITEM_PROMPT);
	}
	*tp = t;
	return 0;
}

void
tty_close(struct tty *t)
{
	if (!t)
		return;
	uninstall(t);
	if (t->history)
		history_truncate_file(t->history, HISTORY_MAX);
	if (t->flags & TTY_ITEMS)
		clear_history();
	rl_instream = rl_outstream = NULL;
	rl_startup_hook = NULL;
	rl_attempted_completion_function = NULL;
	if (t->in && t->in != stdin)
		fclose(t->in);
	if (t->out && t->out != stderr)
		fclose(t->out);
	if (t->fd >= 0)
		close(t->fd);
	free(t->typed);
	free(t->history);
	if (the_tty == t)
		the_tty = NULL;
	free(t);
}

int
tty_fd(const struct tty *t)
{
	return t->installed ? fileno(t->in) : -1;
}

void
tty_read(struct tty *t)
{
	if (t->installed)
		rl_callback_read_char();
}

void
tty_ask(struct tty *t, const char *question)
{
	size_t len = strlen(question);
	char *prompt = util_malloc(len + sizeof ASK_SUFFIX);

	memcpy(prompt, question, len);
	memcpy(prompt + len, ASK_SUFFIX, sizeof ASK_SUFFIX);
	tty_show(t);
	t->asking = 1;
	if (!t->installed) {
		install(t, prompt);
	} else {
		/* The item being typed waits for the answer. */
		free(t->typed);
		t->typed = rl_copy_text(0, rl_end);
		rl_clear_visible_line();
		rl_replace_line("", 0);
		rl_set_prompt(prompt);
		rl_on_new_line();
		rl_redisplay();
	}
	free(prompt);
}

void
tty_stop(struct tty *t)
{
	if (!t->installed)
		return;
	t->items = t->asking = 0;
	tty_show(t);
	rl_callback_sigcleanup();
	rl_free_line_state();
	uninstall(t);
	fputc('\n', t->out);
	fflush(t->out);
}

void
tty_hide(struct tty *t, int fd, const char *buf, size_t len)
{
	if (!t->installed || fd < 0 || fd > 2)
		return;
	if (t->isterm[fd] < 0)
		t->isterm[fd] = (signed char)isatty(fd);
	if (!t->isterm[fd])
		return;
	if (!t->hidden) {
		rl_clear_visible_line();
		fflush(t->out);
		t->hidden = 1;
	}
	if (len)
		t->ended_nl = buf[len - 1] == '\n';
}

void
tty_show(struct tty *t)
{
	if (!t->hidden)
		return;
	t->hidden = 0;
	if (!t->installed)
		return;
	if (!t->ended_nl)
		fputc('\n', t->out);
	t->ended_nl = 1;
	rl_on_new_line();
	rl_redisplay();
	fflush(t->out);
}

void
tty_resize(struct tty *t)
{
	if (t->installed)
		rl_resize_terminal();
}
