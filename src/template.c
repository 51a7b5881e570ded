/*
 * template.c: parse the command template and compose each job's command
 * (see template.h for the rules).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ccmap.h"
#include "util.h"
#include "regex.h"
#include "template.h"

/* What a replacement string stands for. */
enum mod {
	MOD_NONE,	/* {}    the value */
	MOD_DOT,	/* {.}   without its extension */
	MOD_BASE,	/* {/}   its basename */
	MOD_DIR,	/* {//}  its dirname */
	MOD_BASEDOT,	/* {/.}  its basename without extension */
	MOD_SEQ,	/* {#}   the job's sequence number */
	MOD_SLOT,	/* {%}   the job's slot */
	MOD_SUBST,	/* {s/RE/REPL/FLAGS} a PCRE2 substitution */
};

/* One {s/RE/REPL/FLAGS}. */
struct subst {
	struct regex *re;
	char *repl;
	size_t repl_len;
	int global;		/* g */
};

/* A piece of a word: literal text, or a replacement string. */
struct part {
	const char *lit;	/* literal text, or NULL for a replacement */
	size_t len;
	size_t src;		/* 0: every source; else source src (1-based),
				   SIZE_MAX: one past any job's values */
	int back;		/* src counts from the last value ({-1}) */
	enum mod mod;
	size_t sub;		/* MOD_SUBST: which of the template's */
	int ws;			/* lit is whitespace, which ends a group */
};

/*
 * A run of a word's parts between whitespace: what -X (context replace)
 * repeats once per value when it holds a replacement for every value.
 */
struct group {
	size_t first, end;	/* its parts */
	int per_value;		/* holds {}, {.}, {/}, {//}, {/.} or {s///} */
	int repl;		/* holds any replacement string */
	size_t litlen;		/* the length of its literal text */
};

struct word {
	struct part *parts;
	size_t n;
	struct group *g;
	size_t ng;
};

struct template {
	struct word *w;
	size_t nw;
	size_t nsrc;
	int noquote;		/* values go in unquoted: no command words
				   (items are commands), or a command that
				   starts with a replacement string */
	int quote_words;	/* -q: the command's words are kept whole */
	int context;		/* -X, -N: per-value groups repeated per value */
	/* GNU parallel's reckoning of a line's length (see estimate()): */
	size_t est_fixed;	/* the words without replacements, spaces */
	size_t est_ctxlit;	/* the text of the words with them */
	size_t est_groups;	/* how many such words */
	size_t est_parts;	/* how many replacement strings */
	int text;		/* a text template (values unquoted) */
	char *where;		/* "the command", or the text, for messages */
	int direct;		/* composed lines need no shell */
	char *path;		/* the command resolved in PATH, or NULL */
	char *shell;
	char *bash;		/* bash, for exported functions, or NULL */
	struct subst *subs;	/* the {s///} in it */
	size_t nsubs;
	struct tscratch sx;	/* for template_line and template_text, */
	pthread_mutex_t lock;	/* under this lock */
};

/* Characters that need no quoting in a shell word (GNU parallel's set). */
static int
plain_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
	    c == '+' || c == '/';
}

/* Characters a command word may hold and still need no shell. */
static int
direct_char(unsigned char c)
{
	return plain_char(c) || c == '=' || c == '%' || c == '@' ||
	    c == ',' || c == ':';
}

void
shell_quote(struct strbuf *out, const char *s, size_t len)
{
	size_t i;

	if (len == 0) {
		strbuf_addstr(out, "''");
		return;
	}
	for (i = 0; i < len && plain_char((unsigned char)s[i]); i++)
		;
	if (i == len) {
		strbuf_add(out, s, len);
		return;
	}
	/*
	 * As GNU parallel: each ' becomes '"'"', the whole is put in '...',
	 * and an empty '' left at either end is dropped.
	 */
	size_t mark = out->len;
	strbuf_addch(out, '\'');
	for (i = 0; i < len; i++) {
		if (s[i] == '\'')
			strbuf_addstr(out, "'\"'\"'");
		else
			strbuf_addch(out, s[i]);
	}
	strbuf_addch(out, '\'');
	if (out->len - mark >= 2 && out->buf[mark + 1] == '\'') {
		memmove(out->buf + mark, out->buf + mark + 2,
		    out->len - mark - 2);
		out->len -= 2;
	}
	if (out->len - mark >= 2 && out->buf[out->len - 2] == '\'')
		out->len -= 2;
	out->buf[out->len] = '\0';
}

/* Shell words that are builtins or keywords and no program in PATH. */
static const char *const shell_words[] = {
	"!", ".", ":", "[[", "]]", "{", "}", "alias", "bg", "bind", "break",
	"builtin", "caller", "case", "cd", "command", "compgen", "complete",
	"compopt", "continue", "coproc", "declare", "dirs", "disown", "do",
	"done", "elif", "else", "enable", "esac", "eval", "exec", "exit",
	"export", "fc", "fg", "fi", "for", "function", "getopts", "hash",
	"help", "history", "if", "in", "jobs", "let", "local", "logout",
	"mapfile", "popd", "pushd", "read", "readarray", "readonly", "return",
	"select", "set", "shift", "shopt", "source", "suspend", "then", "time",
	"times", "trap", "type", "typeset", "ulimit", "umask", "unalias",
	"unset", "until", "wait", "while",
};

/* Is name an exported bash function? */
static int
exported_function(const char *name, size_t len)
{
	char key[256];

	if (len > sizeof key - 16)
		return 0;
	snprintf(key, sizeof key, "BASH_FUNC_%.*s%%%%", (int)len, name);
	return getenv(key) != NULL;
}

/* Can a command whose first word is name run without a shell? */
static int
plain_command(const char *name, size_t len)
{
	if (len == 0 || memchr(name, '=', len))
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(shell_words); i++)
		if (strlen(shell_words[i]) == len &&
		    memcmp(shell_words[i], name, len) == 0)
			return 0;
	return !exported_function(name, len);
}

/* Look name up in PATH as execvp would; 1 and the path in out, or 0. */
static int
search_path(const char *name, size_t len, struct strbuf *out)
{
	const char *p = getenv("PATH");

	if (!p)
		p = "/usr/local/bin:/bin:/usr/bin";
	for (;;) {
		const char *e = strchrnul(p, ':');
		strbuf_reset(out);
		if (e > p)
			strbuf_add(out, p, (size_t)(e - p));
		else
			strbuf_addch(out, '.');
		strbuf_addch(out, '/');
		strbuf_add(out, name, len);
		if (access(out->buf, X_OK) == 0)
			return 1;
		if (!*e)
			return 0;
		p = e + 1;
	}
}

static int
posix_shell(const char *sh)
{
	static const char *const names[] = {
		"sh", "bash", "dash", "ksh", "mksh", "pdksh", "zsh", "ash",
		"yash", "posh", "busybox",
	};
	const char *base = strrchr(sh, '/');

	base = base ? base + 1 : sh;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (strcmp(base, names[i]) == 0)
			return 1;
	return 0;
}

const char *
template_default_shell(void)
{
	const char *sh = getenv("SHELL");

	return sh && *sh == '/' && posix_shell(sh) ? sh : "/bin/sh";
}

/* Whitespace as Perl's \s (ASCII), which ends a group in GNU parallel. */
static int
ws_char(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	    c == '\v';
}

/* Past this, a position is past any job's values. */
#define POS_MAX 1000000000ULL

/*
 * A position at q, just after a '{': -?DIGITS and any whitespace, as GNU
 * parallel reads them in {N}, {-N}, {N .}.  Its end, or NULL if q holds
 * none.  *src is the position: 0 for {0}, which GNU parallel takes for
 * {}, and SIZE_MAX for one that no job reaches ({-0}, {00}, {99999999999});
 * *back is set for one counted from the last value.
 */
static const char *
parse_position(const char *q, size_t *src, int *back)
{
	unsigned long long n = 0;
	const char *d;

	*back = *q == '-';
	d = q + *back;
	if (*d < '0' || *d > '9')
		return NULL;
	for (q = d; *q >= '0' && *q <= '9'; q++)
		if (n <= POS_MAX)
			n = n * 10 + (unsigned long long)(*q - '0');
	/* Only a "0" is {} (to Perl, "00" and "-0" are true, and no index). */
	if (n == 0 && q - d == 1 && !*back)
		*src = 0;
	else
		*src = n == 0 || n > POS_MAX ? SIZE_MAX : (size_t)n;
	while (ws_char(*q))
		q++;
	return q;
}

/*
 * Match a replacement string at s into pt: its length, 0 if there is
 * none, or -1 with err set for one of GNU parallel's that ccmap does not
 * have.  Positional forms are GNU parallel's: {N} and {-N} with the rest
 * of any replacement string that starts with '{' ({1.}, {-2/}, and with
 * -I {x}, {1x}); with -I XX, {1} is no replacement string.
 */
static int
match_repl(const char *s, const char *replace, size_t nsrc, struct part *pt,
    const char *where, char *err, size_t errlen)
{
	static const struct {
		const char *text;
		enum mod mod;
	} mods[] = {
		{ ".}", MOD_DOT }, { "/}", MOD_BASE }, { "//}", MOD_DIR },
		{ "/.}", MOD_BASEDOT },
	};
	size_t rlen = strlen(replace);
	const char *q = s + 1, *p;
	size_t src = 0;
	int back = 0, pos = 0;

	(void)nsrc;
	memset(pt, 0, sizeof *pt);
	if (strncmp(s, replace, rlen) == 0) {
		pt->mod = MOD_NONE;
		return (int)rlen;
	}
	if (*s != '{')
		return 0;
	if (strncmp(s, "{#}", 3) == 0 || strncmp(s, "{%}", 3) == 0) {
		pt->mod = s[1] == '#' ? MOD_SEQ : MOD_SLOT;
		return 3;
	}
	if ((p = parse_position(q, &src, &back)) != NULL) {
		q = p;
		pos = 1;
	}
	pt->src = src;
	pt->back = back;
	if (pos && replace[0] == '{' &&
	    strncmp(q, replace + 1, rlen - 1) == 0) {
		pt->mod = MOD_NONE;
		return (int)(q - s + rlen - 1);
	}
	for (size_t i = 0; i < ARRAY_SIZE(mods); i++) {
		size_t ml = strlen(mods[i].text);
		if (strncmp(q, mods[i].text, ml) == 0) {
			pt->mod = mods[i].mod;
			return (int)(q - s + ml);
		}
	}
	if (pos && (*q == '#' || *q == '%') && q[1] == '}') {
		/* GNU parallel's {N#} is a quirk, {0#} with --plus padded. */
		snprintf(err, errlen, "unsupported replacement string '%.*s' "
		    "in %s (use {#} for the job number, {%%} for its slot)",
		    (int)(q + 2 - s), s, where);
		return -1;
	}
	return 0;
}

/*
 * Does the word hold something that looks like the start of a replacement
 * string that never ends ("{1", "{-1", "{/.")?
 */
static int
unterminated(const char *s)
{
	if (s[0] != '{' || strchr(s, '}'))
		return 0;
	return (s[1] && strchr("0123456789./#%", s[1])) ||
	    (s[1] == '-' && s[2] >= '0' && s[2] <= '9');
}

static void
add_part(struct word *w, const struct part *pt)
{
	w->parts = util_realloc(w->parts, (w->n + 1) * sizeof *w->parts);
	w->parts[w->n++] = *pt;
}

/* Add literal text, whitespace and the rest as parts of their own. */
static void
add_lit(struct word *w, const char *s, size_t len)
{
	size_t i = 0;

	if (len == 0) {
		add_part(w, &(struct part){ .lit = s });
		return;
	}
	while (i < len) {
		size_t b = i;
		int ws = ws_char(s[i]);
		while (i < len && ws_char(s[i]) == ws)
			i++;
		add_part(w, &(struct part){ .lit = s + b, .len = i - b,
		    .ws = ws });
	}
}

/*
 * Which of n values a positional part takes: {N} the N-th, {-N} the N-th
 * from the last, as in GNU parallel; n if there is no such value.
 */
static size_t
pos_index(const struct part *pt, size_t n)
{
	if (pt->src > n)
		return n;
	return pt->back ? n - pt->src : pt->src - 1;
}

static int
per_value(const struct part *pt)
{
	return !pt->lit && !pt->src && pt->mod != MOD_SEQ &&
	    pt->mod != MOD_SLOT;
}

/* Split the word's parts into groups at whitespace. */
static void
make_groups(struct word *w)
{
	size_t i = 0;

	w->g = util_calloc(w->n, sizeof *w->g);
	while (i < w->n) {
		struct group *g = &w->g[w->ng++];
		g->first = i;
		if (w->parts[i].ws) {
			g->end = ++i;
			continue;
		}
		for (; i < w->n && !w->parts[i].ws; i++) {
			g->per_value |= per_value(&w->parts[i]);
			g->repl |= !w->parts[i].lit;
			if (w->parts[i].lit)
				g->litlen += w->parts[i].len;
		}
		g->end = i;
	}
}

/* The end of a {s///} field: the next '/' not after a backslash, or NULL. */
static const char *
field_end(const char *q)
{
	for (; *q && *q != '/'; q++)
		if (*q == '\\' && q[1])
			q++;
	return *q ? q : NULL;
}

/*
 * The replacement p[0..len) for PCRE2: Perl's $& (the match) is $0 there
 * and $+{name} is ${name}; the rest is alike ($1, ${1}, ${name}, \U...).
 */
static void
perl_repl(struct subst *sub, const char *p, size_t len)
{
	struct strbuf out = STRBUF_INIT;

	for (size_t i = 0; i < len; i++) {
		if ((p[i] == '\\' || p[i] == '$') && i + 1 < len &&
		    (p[i + 1] == '\\' || p[i + 1] == '$')) {
			strbuf_add(&out, p + i++, 2);	/* an escaped \ or $ */
		} else if (p[i] == '$' && i + 1 < len && p[i + 1] == '&') {
			strbuf_addstr(&out, "${0}");
			i++;
		} else if (p[i] == '$' && i + 2 < len && p[i + 1] == '+' &&
		    p[i + 2] == '{') {
			strbuf_addch(&out, '$');
			i++;
		} else {
			strbuf_addch(&out, p[i]);
		}
	}
	strbuf_grow(&out, 1);
	sub->repl_len = out.len;
	sub->repl = strbuf_detach(&out, NULL);
}

/*
 * Parse {s/RE/REPL/FLAGS} or {N s/RE/REPL/FLAGS} (the space is optional)
 * at s into pt and a new substitution of t: its length, 0 if s holds none,
 * -1 with err set if it is bad.
 */
static int
parse_subst(struct template *t, const char *s, struct part *pt, char *err,
    size_t errlen)
{
	const char *q = s + 1, *re_end, *repl_end, *flags, *p;
	struct subst sub = { 0 };
	unsigned cflags = 0;
	size_t src = 0;
	int back = 0;
	char opt[300];

	if (*s != '{')
		return 0;
	if ((p = parse_position(q, &src, &back)) != NULL)
		q = p;
	if (q[0] != 's' || q[1] != '/')
		return 0;
	re_end = field_end(q + 2);
	repl_end = re_end ? field_end(re_end + 1) : NULL;
	flags = repl_end ? repl_end + 1 : NULL;
	for (; flags && *flags && *flags != '}'; flags++) {
		if (*flags == 'g')
			sub.global = 1;
		else if (*flags == 'i')
			cflags |= REGEX_CASELESS;
		else if (*flags == 'm')
			cflags |= REGEX_MULTILINE;
		else if (*flags == 's')
			cflags |= REGEX_DOTALL;
		else if (*flags == 'x')
			cflags |= REGEX_EXTENDED;
		else {
			snprintf(err, errlen, "unknown flag '%c' in replacement "
			    "string '%s' (want g, i, m, s or x)", *flags, s);
			return -1;
		}
	}
	if (!flags || !*flags) {
		snprintf(err, errlen, "unterminated replacement string '%s' in "
		    "%s (want {s/REGEX/REPLACEMENT/FLAGS})", s, t->where);
		return -1;
	}
	char *pattern = util_memdup(q + 2, (size_t)(re_end - q - 2));
	snprintf(opt, sizeof opt, "replacement string '%.*s'",
	    (int)(flags + 1 - s), s);
	int r = regex_compile_flags(&sub.re, opt, pattern, cflags, err,
	    errlen);
	free(pattern);
	if (r < 0)
		return -1;
	perl_repl(&sub, re_end + 1, (size_t)(repl_end - re_end - 1));
	t->subs = util_realloc(t->subs, (t->nsubs + 1) * sizeof *t->subs);
	t->subs[t->nsubs] = sub;
	memset(pt, 0, sizeof *pt);
	pt->mod = MOD_SUBST;
	pt->src = src;
	pt->back = back;
	pt->sub = t->nsubs++;
	return (int)(flags + 1 - s);
}

/*
 * GNU parallel's {= perl expression =} (its {= and =} may be words of
 * their own): ccmap has no Perl, and the shell must not get it either.
 * -1 with err naming it if text holds one; for {= s/RE/REPL/ =} it tells
 * of {s/RE/REPL/}, which does the same.
 */
static int
perl_expr(const char *text, const char *where, char *err, size_t errlen)
{
	const char *open = strstr(text, "{="), *close, *p, *e, *end;
	char hint[300] = "";
	size_t len;

	if (!open || !(close = strstr(open + 2, "=}")))
		return 0;
	/* The expression is the one whose {= is nearest its =}. */
	while ((p = strstr(open + 1, "{=")) && p + 2 <= close)
		open = p;
	/* [-]N, then s/RE/REPL/FLAGS and nothing else but a ';'? */
	p = open + 2;
	p += *p == '-' && p[1] >= '0' && p[1] <= '9';
	p += strspn(p, "0123456789");
	e = p + strspn(p, " \t\n");
	if (e[0] == 's' && e[1] == '/' && (end = field_end(e + 2)) &&
	    (end = field_end(end + 1))) {
		end += 1 + strspn(end + 1, "gimsx");
		len = strspn(end, " \t\n;");
		if (end + len == close)
			snprintf(hint, sizeof hint, "; for a substitution write "
			    "{%.*s%s%.*s}", (int)(p - open - 2), open + 2,
			    p > open + 2 ? " " : "", (int)(end - e), e);
	}
	len = (size_t)(close + 2 - open);
	snprintf(err, errlen, "unsupported replacement string '%.*s%s' in %s: "
	    "ccmap runs no Perl%s", (int)(len > 200 ? 200 : len), open,
	    len > 200 ? "..." : "", where, *hint ? hint :
	    " (see REPLACEMENT STRINGS in ccmap(1))");
	return -1;
}

/* Split one word into parts; 1 if it holds a replacement, -1 on error. */
static int
parse_word(struct template *t, struct word *w, const char *s,
    const char *replace, char *err, size_t errlen)
{
	const char *lit = s;
	int found = 0, k;
	struct part pt;
	size_t n;

	while (*s) {
		if ((k = parse_subst(t, s, &pt, err, errlen)) < 0)
			return -1;
		if (k > 0) {
			n = (size_t)k;
		} else if ((k = match_repl(s, replace, t->nsrc, &pt, t->where,
		    err, errlen)) < 0) {
			return -1;
		} else if (k > 0) {
			n = (size_t)k;
		} else {
			if (unterminated(s)) {
				snprintf(err, errlen, "unterminated replacement "
				    "string '%s' in %s", s, t->where);
				return -1;
			}
			s++;
			continue;
		}
		if (s > lit)
			add_lit(w, lit, (size_t)(s - lit));
		add_part(w, &pt);
		found = 1;
		s += n;
		lit = s;
	}
	if (s > lit || w->n == 0)
		add_lit(w, lit, (size_t)(s - lit));
	make_groups(w);
	return found;
}

static void reckon(struct template *t);

static struct template *
template_alloc(size_t nwords, size_t nsrc, const char *shell)
{
	struct template *t = util_calloc(1, sizeof *t);

	t->w = util_calloc(nwords + 1, sizeof *t->w);
	t->nsrc = nsrc;
	t->shell = util_strdup(shell ? shell : template_default_shell());
	pthread_mutex_init(&t->lock, NULL);
	return t;
}

/*
 * Exported bash functions need bash: its path if the environment has some
 * and the shell is another one, else NULL.
 */
static char *
bash_for_functions(const char *shell)
{
	extern char **environ;
	struct strbuf path = STRBUF_INIT;
	const char *base = strrchr(shell, '/');

	if (strcmp(base ? base + 1 : shell, "bash") == 0)
		return NULL;
	for (char **e = environ; *e; e++)
		if (strncmp(*e, "BASH_FUNC_", 10) == 0) {
			if (search_path("bash", 4, &path))
				return strbuf_detach(&path, NULL);
			break;
		}
	strbuf_release(&path);
	return NULL;
}

/* Can the template's lines run without a shell? */
static int
can_run_direct(const struct template *t)
{
	const struct part *first = &t->w[0].parts[0];

	for (size_t i = 0; i < t->nw && !t->quote_words; i++)
		for (size_t j = 0; j < t->w[i].n; j++) {
			const struct part *pt = &t->w[i].parts[j];
			for (size_t k = 0; pt->lit && k < pt->len; k++)
				if (!direct_char((unsigned char)pt->lit[k]))
					return 0;
		}
	/* The command's name must be literal, and a program. */
	return first->lit && t->w[0].n == 1 &&
	    plain_command(first->lit, first->len);
}

/*
 * Decide how the template's lines run: directly, or in a shell, which is
 * bash when the environment exports functions (any part of the line may
 * call one).
 */
static void
decide_direct(struct template *t)
{
	struct strbuf path = STRBUF_INIT;
	const struct part *first = &t->w[0].parts[0];

	if (!can_run_direct(t)) {
		t->bash = bash_for_functions(t->shell);
		return;
	}
	t->direct = 1;
	if (memchr(first->lit, '/', first->len))
		t->path = util_memdup(first->lit, first->len);
	else if (search_path(first->lit, first->len, &path))
		t->path = strbuf_detach(&path, NULL);
	strbuf_release(&path);
}

/*
 * Is the command itself a replacement string, or one joined to a name
 * ("{}", "{1}", "my_{}"), not an argument or an assignment ("V={}")?  Then,
 * as in GNU parallel, no value in the line is quoted: the user asked for
 * the item to be the command, and with it the shell code it holds.
 */
static int
starts_with_repl(const struct word *w)
{
	for (size_t i = 0; i < w->n; i++) {
		const struct part *pt = &w->parts[i];
		if (!pt->lit)
			return 1;
		for (size_t k = 0; k < pt->len; k++)
			if (ws_char(pt->lit[k]) || pt->lit[k] == '=')
				return 0;
	}
	return 0;
}

/* template_parse, and with append unset, template_parse_pipe. */
static int
parse_command(struct template **tp, char *const *words, size_t nwords,
    const char *replace, int quote_words, size_t nsrc, const char *shell,
    int append, char *err, size_t errlen)
{
	struct template *t = template_alloc(nwords, nsrc, shell);
	struct strbuf line = STRBUF_INIT;
	int any = !append;

	t->quote_words = quote_words;
	t->where = util_strdup("the command");
	if (!replace)
		replace = "{}";
	/* {= and =} may be words apart: look in the words joined. */
	for (size_t i = 0; i < nwords; i++) {
		if (i)
			strbuf_addch(&line, ' ');
		strbuf_addstr(&line, words[i]);
	}
	if (nwords && perl_expr(line.buf, t->where, err, errlen) < 0) {
		strbuf_release(&line);
		template_free(t);
		return CCMAP_EUSAGE;
	}
	strbuf_release(&line);
	if (nwords == 0) {
		t->noquote = 1;
		t->bash = bash_for_functions(t->shell);
		add_part(&t->w[t->nw], &(struct part){ .mod = MOD_NONE });
		make_groups(&t->w[t->nw++]);
		reckon(t);
		*tp = t;
		return 0;
	}
	for (size_t i = 0; i < nwords; i++) {
		int r = parse_word(t, &t->w[t->nw++], words[i], replace, err,
		    errlen);
		if (r < 0) {
			template_free(t);
			return CCMAP_EUSAGE;
		}
		any |= r;
	}
	if (!any) {
		add_part(&t->w[t->nw], &(struct part){ .mod = MOD_NONE });
		make_groups(&t->w[t->nw++]);
	}
	t->noquote = !quote_words && starts_with_repl(&t->w[0]);
	decide_direct(t);
	reckon(t);
	*tp = t;
	return 0;
}

int
template_parse(struct template **tp, char *const *words, size_t nwords,
    const char *replace, int quote_words, size_t nsrc, const char *shell,
    char *err, size_t errlen)
{
	return parse_command(tp, words, nwords, replace, quote_words, nsrc,
	    shell, 1, err, errlen);
}

int
template_parse_pipe(struct template **tp, char *const *words, size_t nwords,
    const char *replace, int quote_words, const char *shell, char *err,
    size_t errlen)
{
	return parse_command(tp, words, nwords, replace, quote_words, 1, shell,
	    0, err, errlen);
}

int
template_parse_text(struct template **tp, const char *text,
    const char *replace, char *err, size_t errlen)
{
	struct template *t = template_alloc(1, 0, "/bin/sh");
	struct strbuf where = STRBUF_INIT;

	t->text = 1;
	strbuf_addf(&where, "'%s'", text);
	t->where = strbuf_detach(&where, NULL);
	if (perl_expr(text, t->where, err, errlen) < 0 ||
	    parse_word(t, &t->w[t->nw++], text, replace ? replace : "{}", err,
	    errlen) < 0) {
		template_free(t);
		return CCMAP_EUSAGE;
	}
	*tp = t;
	return 0;
}

void
template_free(struct template *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nw; i++) {
		free(t->w[i].parts);
		free(t->w[i].g);
	}
	free(t->w);
	free(t->path);
	free(t->where);
	free(t->shell);
	free(t->bash);
	for (size_t i = 0; i < t->nsubs; i++) {
		regex_free(t->subs[i].re);
		free(t->subs[i].repl);
	}
	free(t->subs);
	tscratch_release(&t->sx);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

int
template_direct(const struct template *t)
{
	return t->noquote ? -1 : t->direct;
}

/* The value of one replacement for one source value, as a byte range. */
static struct value
apply_mod(enum mod mod, struct value v)
{
	const char *s = v.p, *e = v.p + v.len, *q;

	switch (mod) {
	case MOD_DOT:
	case MOD_BASEDOT:
		if (mod == MOD_BASEDOT)
			for (q = e; q > s; q--)
				if (q[-1] == '/') {
					s = q;
					break;
				}
		for (q = e; q > s; q--) {
			if (q[-1] == '/')
				break;
			if (q[-1] == '.') {
				e = q - 1;
				break;
			}
		}
		break;
	case MOD_BASE:
		for (q = e; q > s; q--)
			if (q[-1] == '/') {
				s = q;
				break;
			}
		break;
	case MOD_DIR:
		/* dirname(1), like Perl's File::Basename::dirname. */
		while (e - s > 1 && e[-1] == '/')
			e--;
		q = e;
		while (q > s && q[-1] != '/')
			q--;
		if (q == s)
			return (struct value){ ".", 1 };
		while (q > s && q[-1] == '/')
			q--;
		if (q == s)
			return (struct value){ "/", 1 };
		e = q;
		break;
	default:
		break;
	}
	return (struct value){ s, (size_t)(e - s) };
}

void
tscratch_release(struct tscratch *sx)
{
	for (size_t i = 0; i < sx->nm; i++)
		rmatch_free(sx->m[i]);
	free(sx->m);
	strbuf_release(&sx->buf);
	memset(sx, 0, sizeof *sx);
}

/* Match data for t's substitution i, made on first use by this thread. */
static struct rmatch *
scratch_match(const struct template *t, struct tscratch *sx, size_t i)
{
	if (sx->owner != t) {
		tscratch_release(sx);
		sx->owner = t;
		sx->m = util_calloc(t->nsubs, sizeof *sx->m);
		sx->nm = t->nsubs;
	}
	if (!sx->m[i])
		sx->m[i] = rmatch_new(t->subs[i].re);
	return sx->m[i];
}

/*
 * The value a part makes of v: the part of it {.} and its kin take, or its
 * {s///} substitution, made in sx->buf (valid until the next call).
 */
static struct value
one_value(const struct template *t, const struct part *pt, struct value v,
    struct tscratch *sx)
{
	v = apply_mod(pt->mod, v);
	if (pt->mod != MOD_SUBST)
		return v;
	const struct subst *sub = &t->subs[pt->sub];
	struct rmatch *m = scratch_match(t, sx, pt->sub);
	strbuf_reset(&sx->buf);
	strbuf_grow(&sx->buf, 1);	/* so that an empty result is not NULL */
	regex_substitute(sub->re, m, v.p, v.len, sub->repl, sub->repl_len,
	    sub->global, &sx->buf);
	return (struct value){ sx->buf.buf, sx->buf.len };
}

/*
 * Composing.  One walk over the template gives three things: literal text
 * (the command's own), values (items, quoted as one word each in a line)
 * and breaks (an unquoted space, which ends an argument).  A cmdsink makes a
 * line or an argument vector of them.
 */
enum sink_kind {
	SINK_LINE,	/* text; values quoted when quote is set */
	SINK_QLINE,	/* -q: text, each argument quoted whole */
	SINK_ARGV,	/* an argument vector */
};

struct cmdsink {
	enum sink_kind kind;
	int quote;		/* SINK_LINE: quote the values */
	struct strbuf *out;	/* the line */
	struct strbuf piece;	/* SINK_QLINE: the argument being made */
	struct cmdbuf *cb;	/* SINK_ARGV */
	struct tscratch *sx;	/* for {s///}, or NULL if there is none */
	size_t start;		/* where its argument starts in cb->store */
	int counted;		/* the argument holds something the shell
				   would keep (a quoted value, some text) */
	int keep_empty;		/* -q: every argument is kept */
};

static void end_arg(struct cmdbuf *cb, size_t *start);

/* Add the command's own text (value 0) or a value (1). */
static void
sink_add(struct cmdsink *s, const char *p, size_t len, int value)
{
	switch (s->kind) {
	case SINK_LINE:
		if (value && s->quote)
			shell_quote(s->out, p, len);
		else
			strbuf_add(s->out, p, len);
		break;
	case SINK_QLINE:
		strbuf_add(&s->piece, p, len);
		break;
	case SINK_ARGV:
		strbuf_add(&s->cb->store, p, len);
		s->counted |= value || len > 0;
		break;
	}
}

#define sink_lit(s, p, len)	sink_add(s, p, len, 0)
#define sink_val(s, p, len)	sink_add(s, p, len, 1)

/*
 * The end of an argument.  In a vector, one that holds only values that
 * are missing (a {3} with two values) is dropped, as the shell drops an
 * empty unquoted word; with -q every argument stays.
 */
static void
sink_end(struct cmdsink *s, int last)
{
	switch (s->kind) {
	case SINK_LINE:
		if (!last)
			strbuf_addch(s->out, ' ');
		break;
	case SINK_QLINE:
		shell_quote(s->out, s->piece.buf, s->piece.len);
		strbuf_reset(&s->piece);
		if (!last)
			strbuf_addch(s->out, ' ');
		break;
	case SINK_ARGV:
		if (s->counted || s->keep_empty)
			end_arg(s->cb, &s->start);
		else
			s->cb->store.len = s->start;
		s->counted = 0;
		break;
	}
}

/* The value of a {#} or {%}, in numbuf. */
static struct value
number_value(const struct part *pt, const struct jobvals *jv,
    char numbuf[32])
{
	int n = pt->mod == MOD_SEQ ? snprintf(numbuf, 32, "%llu", jv->seq) :
	    snprintf(numbuf, 32, "%u", jv->slot);

	return (struct value){ numbuf, (size_t)n };
}

/*
 * Emit a group's parts.  Value k stands for {} and its kin; k == SIZE_MAX
 * means every value, each one an argument of its own.
 */
static void
emit_group(const struct template *t, const struct word *w,
    const struct group *g, const struct jobvals *jv, size_t k,
    struct cmdsink *s)
{
	char numbuf[32];
	struct value v;

	for (size_t i = g->first; i < g->end; i++) {
		const struct part *pt = &w->parts[i];
		if (pt->lit) {
			sink_lit(s, pt->lit, pt->len);
		} else if (pt->mod == MOD_SEQ || pt->mod == MOD_SLOT) {
			v = number_value(pt, jv, numbuf);
			sink_val(s, v.p, v.len);
		} else if (pt->src) {
			/* A value that is not there is nothing at all. */
			size_t at = pos_index(pt, jv->n);
			if (at < jv->n) {
				v = one_value(t, pt, jv->v[at], s->sx);
				sink_val(s, v.p, v.len);
			}
		} else if (k != SIZE_MAX) {
			v = one_value(t, pt, jv->v[k], s->sx);
			sink_val(s, v.p, v.len);
		} else {
			for (size_t j = 0; j < jv->n; j++) {
				if (j)
					sink_end(s, 0);
				v = one_value(t, pt, jv->v[j], s->sx);
				sink_val(s, v.p, v.len);
			}
		}
	}
}

/*
 * Walk the template for one job.  In context mode (-X, -N) a group that
 * holds a replacement for every value is repeated once per value, each
 * copy an argument of its own.
 */
static void
compose(const struct template *t, const struct jobvals *jv, struct cmdsink *s)
{
	for (size_t i = 0; i < t->nw; i++) {
		const struct word *w = &t->w[i];
		if (i)
			sink_end(s, 0);
		for (size_t g = 0; g < w->ng; g++) {
			if (!t->context || !w->g[g].per_value || jv->n < 2) {
				emit_group(t, w, &w->g[g], jv,
				    t->context && jv->n ? 0 : SIZE_MAX, s);
				continue;
			}
			for (size_t k = 0; k < jv->n; k++) {
				if (k)
					sink_end(s, 0);
				emit_group(t, w, &w->g[g], jv, k, s);
			}
		}
	}
	sink_end(s, 1);
}

/* Compose a line into out: values quoted unless quote is 0. */
static void
expand_line(const struct template *t, const struct jobvals *jv,
    struct strbuf *out, int quote, struct tscratch *sx)
{
	struct cmdsink s = { .kind = SINK_LINE, .quote = quote, .out = out,
	    .sx = sx };

	if (quote && t->quote_words)
		s.kind = SINK_QLINE;
	compose(t, jv, &s);
	strbuf_release(&s.piece);
	strbuf_grow(out, 0);	/* a C string even when empty */
}

/* expand_line with the template's own scratch, for any thread. */
static void
expand_locked(const struct template *t, const struct jobvals *jv,
    struct strbuf *out, int quote)
{
	struct template *mt = (struct template *)t;	/* its lock and sx */

	if (!t->nsubs) {
		expand_line(t, jv, out, quote, NULL);
		return;
	}
	pthread_mutex_lock(&mt->lock);
	expand_line(t, jv, out, quote, &mt->sx);
	pthread_mutex_unlock(&mt->lock);
}

void
template_line(const struct template *t, const struct jobvals *jv,
    struct strbuf *out)
{
	expand_locked(t, jv, out, !t->noquote && !t->text);
}

void
template_text(const struct template *t, const struct jobvals *jv,
    struct strbuf *out)
{
	expand_locked(t, jv, out, 0);
}

void
template_set_context(struct template *t, int on)
{
	t->context = on;
}

/* The length shell_quote gives s, without making it. */
static size_t
quoted_len(const char *s, size_t len)
{
	size_t i, quotes = 0;

	if (len == 0)
		return 2;
	for (i = 0; i < len && plain_char((unsigned char)s[i]); i++)
		;
	if (i == len)
		return len;
	for (; i < len; i++)
		quotes += s[i] == '\'';
	return len + 2 + 4 * quotes - (s[0] == '\'' ? 2 : 0) -
	    (s[len - 1] == '\'' ? 2 : 0);
}

/* The length a part's value takes in the line. */
static size_t
value_len(const struct template *t, const struct part *pt, struct value v)
{
	struct template *mt = (struct template *)t;	/* its lock and sx */

	if (pt->mod == MOD_SUBST) {
		pthread_mutex_lock(&mt->lock);
		v = one_value(t, pt, v, &mt->sx);
		v.len = t->noquote || t->text ? v.len :
		    quoted_len(v.p, v.len);
		pthread_mutex_unlock(&mt->lock);
		return v.len;
	}
	v = apply_mod(pt->mod, v);
	return t->noquote || t->text ? v.len : quoted_len(v.p, v.len);
}

/*
 * What one tuple (a record) adds to GNU parallel's reckoning: the lengths
 * of the values each replacement takes from it.  A positional one ({N},
 * {#}, {%}) takes the record's N-th value (or the job's number).
 */
static size_t
record_len(const struct template *t, const struct jobvals *rec)
{
	char numbuf[32];
	size_t sum = 0;

	for (size_t i = 0; i < t->nw; i++)
		for (size_t j = 0; j < t->w[i].n; j++) {
			const struct part *pt = &t->w[i].parts[j];
			if (pt->lit)
				continue;
			if (pt->mod == MOD_SEQ || pt->mod == MOD_SLOT)
				sum += number_value(pt, rec, numbuf).len;
			else if (pt->src && pos_index(pt, rec->n) < rec->n)
				sum += value_len(t, pt,
				    rec->v[pos_index(pt, rec->n)]);
			else if (!pt->src)
				for (size_t k = 0; k < rec->n; k++)
					sum += value_len(t, pt, rec->v[k]);
		}
	return sum;
}

/*
 * GNU parallel's reckoning of a line of n values: the command without the
 * words that hold replacement strings, then with -X each such word's text
 * once per value and a space between copies, else once, and one space per
 * value after the first for each replacement string; plus the values.
 */
static size_t
estimate(const struct template *t, const struct tmeasure *m)
{
	size_t n = m->n ? m->n : 1;

	if (t->context)
		return t->est_fixed + n * t->est_ctxlit +
		    (n - 1) * t->est_groups + m->vsum;
	return t->est_fixed + t->est_ctxlit + (n - 1) * t->est_parts +
	    m->vsum;
}

/* The template's share of estimate(), once. */
static void
reckon(struct template *t)
{
	for (size_t i = 0; i < t->nw; i++) {
		const struct word *w = &t->w[i];
		if (i)
			t->est_fixed++;
		for (size_t g = 0; g < w->ng; g++) {
			if (!w->g[g].repl) {
				for (size_t j = w->g[g].first; j < w->g[g].end; j++)
					t->est_fixed += w->parts[j].len;
				continue;
			}
			t->est_ctxlit += w->g[g].litlen;
			t->est_groups++;
			for (size_t j = w->g[g].first; j < w->g[g].end; j++)
				t->est_parts += !w->parts[j].lit;
		}
	}
}

/*
 * A {-N} shows another value each time one is added, and the measure does
 * not keep the lengths of the values before: it counts the length of every
 * value instead, of which the one shown is one, so that len is a bound on
 * the line's, exact while the {-N} shows the only value.  From the start,
 * those of the first tuple that the line does not show, in each copy of a
 * group that -X repeats.
 */
static void
measure_back(const struct template *t, const struct group *gr,
    const struct part *pt, const struct jobvals *jv, struct tmeasure *m)
{
	size_t at = pos_index(pt, jv->n), extra = 0;
	int repeated = t->context && gr->per_value;

	for (size_t i = 0; i < jv->n; i++)
		if (i != at)
			extra += value_len(t, pt, jv->v[i]);
	m->len += extra * (repeated && jv->n >= 2 ? jv->n : 1);
	if (repeated)
		m->posrep += extra;
}

void
template_measure_start(const struct template *t, const struct jobvals *jv,
    struct tmeasure *m)
{
	struct strbuf line = STRBUF_INIT;
	char numbuf[32];

	template_line(t, jv, &line);
	memset(m, 0, sizeof *m);
	m->len = line.len;
	m->n = jv->n;
	strbuf_release(&line);
	for (size_t i = 0; i < t->nw; i++)
		for (size_t g = 0; g < t->w[i].ng; g++) {
			const struct group *gr = &t->w[i].g[g];
			if (gr->per_value && t->context)
				m->rep += 1 + gr->litlen;
			for (size_t j = gr->first; j < gr->end; j++) {
				const struct part *pt = &t->w[i].parts[j];
				if (!gr->per_value || !t->context || pt->lit)
					m->nvparts += per_value(pt);
				else if (pt->mod == MOD_SEQ || pt->mod == MOD_SLOT)
					m->rep += number_value(pt, jv, numbuf).len;
				else if (pt->src && pos_index(pt, jv->n) < jv->n)
					m->posrep += value_len(t, pt,
					    jv->v[pos_index(pt, jv->n)]);
				if (pt->back && !pt->lit)
					measure_back(t, gr, pt, jv, m);
			}
		}
	m->vsum = record_len(t, jv);
	m->est = estimate(t, m);
}

/* The line gets one more value. */
static void
measure_value(const struct template *t, struct tmeasure *m, struct value v)
{
	size_t n = ++m->n;

	m->len += t->context ? m->rep + m->posrep : m->nvparts;
	for (size_t i = 0; i < t->nw; i++)
		for (size_t g = 0; g < t->w[i].ng; g++) {
			const struct group *gr = &t->w[i].g[g];
			for (size_t j = gr->first; j < gr->end; j++) {
				const struct part *pt = &t->w[i].parts[j];
				size_t len;
				if (per_value(pt)) {
					m->len += value_len(t, pt, v);
				} else if ((pt->back || pt->src == n) &&
				    !pt->lit && pt->mod != MOD_SEQ &&
				    pt->mod != MOD_SLOT) {
					/*
					 * A positional part gets its value;
					 * a {-N} counts each (measure_back).
					 */
					len = value_len(t, pt, v);
					if (t->context && gr->per_value) {
						m->len += n * len;
						m->posrep += len;
					} else {
						m->len += len;
					}
				}
			}
		}
}

void
template_measure_add(const struct template *t, struct tmeasure *m,
    const struct jobvals *rec)
{
	for (size_t i = 0; i < rec->n; i++)
		measure_value(t, m, rec->v[i]);
	m->vsum += record_len(t, rec);
	m->est = estimate(t, m);
}

void
cmdbuf_init(struct cmdbuf *cb)
{
	memset(cb, 0, sizeof *cb);
}

void
cmdbuf_release(struct cmdbuf *cb)
{
	strbuf_release(&cb->store);
	strbuf_release(&cb->path);
	free(cb->offs);
	free(cb->argv);
	tscratch_release(&cb->sx);
	cmdbuf_init(cb);
}

/* End the current argument in cb->store. */
static void
end_arg(struct cmdbuf *cb, size_t *start)
{
	if (cb->argc + 2 > cb->cap) {
		cb->cap = cb->cap ? cb->cap * 2 : 16;
		cb->offs = util_realloc(cb->offs, cb->cap * sizeof *cb->offs);
		cb->argv = util_realloc(cb->argv, cb->cap * sizeof *cb->argv);
	}
	strbuf_addch(&cb->store, '\0');
	cb->offs[cb->argc++] = *start;
	*start = cb->store.len;
}

/* Point argv into the finished store. */
static void
finish_argv(struct cmdbuf *cb)
{
	for (size_t i = 0; i < cb->argc; i++)
		cb->argv[i] = cb->store.buf + cb->offs[i];
	cb->argv[cb->argc] = NULL;
}

void
cmdbuf_reset(struct cmdbuf *cb)
{
	strbuf_reset(&cb->store);
	cb->argc = 0;
	cb->shell = 0;
	cb->search = 0;
}

void
cmdbuf_add(struct cmdbuf *cb, const char *s, size_t len)
{
	size_t start = cb->store.len;

	strbuf_add(&cb->store, s, len);
	end_arg(cb, &start);
}

void
cmdbuf_finish(struct cmdbuf *cb)
{
	finish_argv(cb);
	cb->file = cb->argv[0];
	cb->search = !strchr(cb->file, '/');
}

/* The argument vector the shell would build from the line. */
static void
expand_argv(const struct template *t, const struct jobvals *jv,
    struct cmdbuf *cb)
{
	struct cmdsink s = { .kind = SINK_ARGV, .cb = cb, .sx = &cb->sx,
	    .start = cb->store.len, .keep_empty = t->quote_words };

	compose(t, jv, &s);
}

/* Does s[0..len) hold any of the characters of set? */
static int
memchr_any(const char *s, size_t len, const char *set)
{
	for (; *set; set++)
		if (memchr(s, *set, len))
			return 1;
	return 0;
}

/*
 * Split a command line into the words sh would make of it, when that
 * takes no shell: words of direct_char()s, single-quoted strings and
 * double-quoted ones with nothing to expand (as shell_quote() writes
 * values: 'it'"'"'s') and backslashed characters, apart by
 * spaces, the first word a plain command as it is written.  0 (cb left
 * in part) if it needs a shell.
 */
static int
split_plain(const char *s, size_t len, struct cmdbuf *cb)
{
	size_t start, i = 0;

	while (i < len) {
		while (i < len && s[i] == ' ')
			i++;
		if (i == len)
			break;
		size_t b = i, from = i;
		start = cb->store.len;
		for (; i < len && s[i] != ' '; i++) {
			const char *q;
			if (direct_char((unsigned char)s[i]))
				continue;
			strbuf_add(&cb->store, s + from, i - from);
			if (s[i] == '\\' && i + 1 < len && s[i + 1] != '\n') {
				from = ++i;	/* (the next one, as it is) */
			} else if ((s[i] == '\'' || s[i] == '"') &&
			    (q = memchr(s + i + 1, s[i], len - i - 1)) &&
			    (s[i] == '\'' || !memchr_any(s + i + 1,
			    (size_t)(q - s) - i - 1, "$`\\"))) {
				/* ('...', or "..." with nothing to expand.) */
				strbuf_add(&cb->store, s + i + 1,
				    (size_t)(q - s) - i - 1);
				i = (size_t)(q - s);
				from = i + 1;
			} else {
				return 0;
			}
		}
		strbuf_add(&cb->store, s + from, i - from);
		if (cb->argc == 0 && (cb->store.len - start != i - b ||
		    !plain_command(s + b, i - b)))
			return 0;
		end_arg(cb, &start);
	}
	return cb->argc > 0;
}

int
cmdbuf_line(struct cmdbuf *cb, const char *line, size_t len)
{
	const char *name;

	cmdbuf_reset(cb);
	if (!split_plain(line, len, cb)) {
		cmdbuf_reset(cb);
		return 0;
	}
	finish_argv(cb);
	name = cb->argv[0];
	if (strchr(name, '/')) {
		cb->file = name;
	} else if (search_path(name, strlen(name), &cb->path)) {
		cb->file = cb->path.buf;
	} else {
		cb->file = name;
		cb->search = 1;
	}
	return 1;
}

/* SHELL -c LINE */
static void
shell_argv(const struct template *t, const struct jobvals *jv,
    struct cmdbuf *cb)
{
	size_t start = 0;

	strbuf_addstr(&cb->store, t->bash ? t->bash : t->shell);
	end_arg(cb, &start);
	strbuf_addstr(&cb->store, "-c");
	end_arg(cb, &start);
	expand_line(t, jv, &cb->store, !t->noquote, &cb->sx);
	end_arg(cb, &start);
	finish_argv(cb);
	cb->file = cb->argv[0];
	cb->shell = 1;
}

void
template_argv(const struct template *t, const struct jobvals *jv,
    struct cmdbuf *cb)
{
	strbuf_reset(&cb->store);
	cb->argc = 0;
	cb->shell = 0;
	cb->search = 0;

	if (t->noquote) {
		/* The line is the shell's to read: run it directly if plain. */
		struct strbuf *line = &cb->path;	/* scratch */
		strbuf_reset(line);
		expand_line(t, jv, line, 0, &cb->sx);
		if (!cmdbuf_line(cb, line->buf, line->len))
			shell_argv(t, jv, cb);
		return;
	}
	if (t->direct) {
		expand_argv(t, jv, cb);
		finish_argv(cb);
		cb->file = t->path ? t->path : cb->argv[0];
		cb->search = t->path == NULL;
		return;
	}
	shell_argv(t, jv, cb);
}
