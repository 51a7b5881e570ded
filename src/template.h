/*
 * template.h: the command template and the composing of each job's command.
 *
 * The command line is composed as GNU parallel composes it: the command's
 * words joined by spaces, with each replacement string ({}, {.}, {/}, {//},
 * {/.}, {#}, {%}, {N} and {N.}..., {-N} and {-N.}... counted from the last
 * value, {s/RE/REPL/FLAGS} and {N s/RE/REPL/}) replaced by its value
 * quoted as one shell word; a {N} past the job's values stands for nothing
 * at all, as in GNU parallel.  GNU parallel's {= perl =} and {N#} are
 * errors; other braces are text.  When the command has no replacement
 * string, {} is appended.  That line has the meaning it would have in the
 * user's shell; but when nothing
 * in it needs a shell (no shell syntax in the command's own words, and a
 * first word that is neither a shell builtin nor an exported function) the
 * job is executed directly with the same argument vector the shell would
 * have built, and no shell process runs.
 *
 * With no command words at all, each item is itself a command line ("raw"
 * mode), run directly when it is a plain list of words, else by the shell.
 * So is a line whose first word starts with a replacement string ("{}",
 * "{1} arg", "my_{}", but not "V={}"): as in GNU parallel, its values are
 * not quoted, since the user made the items the command.  -q quotes them.
 */
#ifndef CCMAP_TEMPLATE_H
#define CCMAP_TEMPLATE_H

#include <stddef.h>

#include "strbuf.h"
#include "value.h"

struct template;
struct rmatch;

/* What composing a command takes per thread: for {s///}. */
struct tscratch {
	const struct template *owner;	/* whose substitutions m[] is for */
	struct rmatch **m;	/* match data, one per substitution */
	size_t nm;
	struct strbuf buf;	/* substituted values */
};

/* What one job runs: an argument vector, with path NULL to search PATH. */
struct cmdbuf {
	struct strbuf store;	/* the arguments, NUL-separated */
	struct strbuf path;	/* a resolved command path */
	size_t *offs;		/* where each argument starts in store */
	char **argv;
	size_t argc, cap;
	const char *file;	/* what to execute (argv[0] if path is NULL) */
	int search;		/* look file up in PATH */
	int shell;		/* the line runs in a shell */
	struct tscratch sx;
};

/*
 * Parse the command words.  replace is -I's string (NULL: "{}"); with
 * quote_words (-q) each word is quoted too, so that it stays one argument
 * whatever it holds; nsrc is the number of sources, shell the shell for
 * lines that need one.  0, or CCMAP_EUSAGE with one line in err.
 */
int template_parse(struct template **tp, char *const *words, size_t nwords,
    const char *replace, int quote_words, size_t nsrc, const char *shell,
    char *err, size_t errlen);
/*
 * For --pipe: the job's data comes on its stdin, so nothing is appended;
 * its one value, {}, is empty.  nwords must not be 0.
 */
int template_parse_pipe(struct template **tp, char *const *words,
    size_t nwords, const char *replace, int quote_words, const char *shell,
    char *err, size_t errlen);
/* A template for text, not commands (--tagstring): values stay unquoted. */
int template_parse_text(struct template **tp, const char *text,
    const char *replace, char *err, size_t errlen);
void template_free(struct template *t);

/* Does every job run without a shell?  (Not known in raw mode: -1.) */
int template_direct(const struct template *t);

void tscratch_release(struct tscratch *sx);
void cmdbuf_init(struct cmdbuf *cb);
void cmdbuf_release(struct cmdbuf *cb);
/*
 * An argument vector made by hand: cmdbuf_reset, an argument at a time,
 * then cmdbuf_finish (argv[0] looked up in PATH unless it has a '/').
 */
void cmdbuf_reset(struct cmdbuf *cb);
void cmdbuf_add(struct cmdbuf *cb, const char *s, size_t len);
void cmdbuf_finish(struct cmdbuf *cb);
/*
 * The argument vector of a command line (as sh reads it) that needs no
 * shell: plain words, quotes (but "$...") and backslashes, the first word a
 * command as it is written (not a builtin, a keyword, an exported
 * function or an assignment): 1.  0 (cb reset) if it needs a shell.
 */
int cmdbuf_line(struct cmdbuf *cb, const char *line, size_t len);
/* Compose the job's argument vector into cb. */
void template_argv(const struct template *t, const struct jobvals *jv,
    struct cmdbuf *cb);
/*
 * Append the job's command line, as the shell would see it, to out.
 * template_line and template_text may run on any thread, but take a lock
 * when the template has {s///}: a worker composes with template_argv.
 */
void template_line(const struct template *t, const struct jobvals *jv,
    struct strbuf *out);
/* Append the expansion of a text template to out. */
void template_text(const struct template *t, const struct jobvals *jv,
    struct strbuf *out);

/*
 * -X and -N (context replace): a group of a word (the word, or a part of it
 * between whitespace) that holds {} or its kin is repeated once per value,
 * each copy an argument.  Off, {} stands for all values, one argument each.
 */
void template_set_context(struct template *t, int on);

/*
 * The length of a job's line as tuples are added, without composing it: to
 * pack items into commands (-X, -m, --xargs).  Start with the first tuple
 * (jv: its values, at least one, and the job's numbers, slot the largest),
 * then add each further tuple the same way.
 */
struct tmeasure {
	size_t len;	/* the line's length (template_line); with a {-N},
			   at least that */
	size_t est;	/* GNU parallel's reckoning of it, which decides
			   where it packs; never less in plain cases */
	size_t n;	/* values in it */
	size_t rep;	/* what another copy of the repeated groups adds */
	size_t posrep;	/* and what their positional parts add to it */
	size_t nvparts;	/* replacements that take every value */
	size_t vsum;	/* the values' lengths, by GNU parallel's count */
};
void template_measure_start(const struct template *t,
    const struct jobvals *jv, struct tmeasure *m);
void template_measure_add(const struct template *t, struct tmeasure *m,
    const struct jobvals *rec);

/* Append s quoted as one shell word (GNU parallel's quoting) to out. */
void shell_quote(struct strbuf *out, const char *s, size_t len);

/* The shell to use: $SHELL if it is a POSIX-style shell, else /bin/sh. */
const char *template_default_shell(void);

#endif
