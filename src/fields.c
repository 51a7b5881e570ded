/*
 * fields.c: filtering, splitting, trimming and naming items (see fields.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fields.h"
#include "util.h"
#include "regex.h"
#include "strbuf.h"

enum trim { TRIM_NONE, TRIM_LEFT, TRIM_RIGHT, TRIM_BOTH };

/* A name for a column: {name} stands for {id}. */
struct name {
	char *name;
	size_t len;
	size_t id;
};

struct fields {
	struct regex *colsep, *match, *skip;
	struct rmatch *colsep_m, *match_m, *skip_m;
	unsigned groups;	/* --match's capture groups */
	enum trim trim;
	struct value *cols;	/* the columns handed out */
	size_t ncols, cap;
	struct name *names;
	size_t nnames;
	size_t next_id;		/* the next header field's id */
};

static int
compile(struct regex **re, struct rmatch **m, const char *opt,
    const char *pattern, char *err, size_t errlen)
{
	int r;

	if (!pattern)
		return 0;
	if ((r = regex_compile(re, opt, pattern, err, errlen)) < 0)
		return r;
	*m = rmatch_new(*re);
	return 0;
}

static void
add_name(void *arg, const char *name, unsigned number)
{
	fields_name(arg, name, strlen(name), number);
}

int
fields_new(struct fields **fp, const struct ccmap_opts *opts, char *err,
    size_t errlen)
{
	static const struct {
		const char *name;
		enum trim trim;
	} trims[] = {
		{ "n", TRIM_NONE }, { "l", TRIM_LEFT }, { "r", TRIM_RIGHT },
		{ "lr", TRIM_BOTH }, { "rl", TRIM_BOTH },
	};
	struct fields *f = util_calloc(1, sizeof *f);
	/* As GNU parallel: --header alone splits at tabs. */
	const char *colsep = opts->colsep ? opts->colsep :
	    opts->header && strcmp(opts->header, "0") ? "\t" : NULL;
	int r;

	f->next_id = 1;
	/* As GNU parallel: -C trims the columns unless --trim says not. */
	f->trim = opts->colsep ? TRIM_BOTH : TRIM_NONE;
	if (opts->trim) {
		size_t i;
		for (i = 0; i < ARRAY_SIZE(trims); i++)
			if (strcmp(opts->trim, trims[i].name) == 0)
				break;
		if (i == ARRAY_SIZE(trims)) {
			snprintf(err, errlen, "invalid value '%s' for --trim "
			    "(want n, l, r, lr or rl)", opts->trim);
			r = CCMAP_EUSAGE;
			goto fail;
		}
		f->trim = trims[i].trim;
	}
	if ((r = compile(&f->colsep, &f->colsep_m, opts->colsep ? "--colsep" :
	    "--header", colsep, err, errlen)) < 0 ||
	    (r = compile(&f->match, &f->match_m, "--match", opts->match, err,
	    errlen)) < 0 ||
	    (r = compile(&f->skip, &f->skip_m, "--skip", opts->skip, err,
	    errlen)) < 0)
		goto fail;
	if (opts->header && strcmp(opts->header, ":") &&
	    strcmp(opts->header, "0")) {
		/* Only --pipe uses its regex; a bad one is an error still. */
		struct regex *re;
		if ((r = regex_compile(&re, "--header", opts->header, err,
		    errlen)) < 0)
			goto fail;
		regex_free(re);
	}
	if (f->match && (f->groups = regex_groups(f->match)) > 0) {
		if (colsep) {
			snprintf(err, errlen, "--match with capture groups "
			    "makes the columns: it cannot go with %s",
			    opts->colsep ? "--colsep" : "--header");
			r = CCMAP_EUSAGE;
			goto fail;
		}
		regex_each_name(f->match, add_name, f);
	}
	*fp = f;
	return 0;
fail:
	fields_free(f);
	return r;
}

void
fields_free(struct fields *f)
{
	if (!f)
		return;
	rmatch_free(f->colsep_m);
	rmatch_free(f->match_m);
	rmatch_free(f->skip_m);
	regex_free(f->colsep);
	regex_free(f->match);
	regex_free(f->skip);
	for (size_t i = 0; i < f->nnames; i++)
		free(f->names[i].name);
	free(f->names);
	free(f->cols);
	free(f);
}

int
fields_active(const struct fields *f)
{
	return f->colsep || f->match || f->skip || f->trim != TRIM_NONE;
}

static void
push(struct value **cols, size_t *n, size_t *cap, const char *p, size_t len)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		*cols = util_realloc(*cols, *cap * sizeof **cols);
	}
	(*cols)[(*n)++] = (struct value){ p, len };
}

/* Push the capture groups 1..groups of the last match (unset: empty). */
static void
push_groups(const struct rmatch *m, unsigned groups, const char *s,
    struct value **cols, size_t *n, size_t *cap)
{
	for (unsigned g = 1; g <= groups; g++) {
		size_t a = m->ov[2 * g], b = m->ov[2 * g + 1];
		if (a > b)	/* PCRE2_UNSET */
			push(cols, n, cap, "", 0);
		else
			push(cols, n, cap, s + a, b - a);
	}
}

void
fields_split(struct fields *f, const char *s, size_t len,
    struct value **cols, size_t *n, size_t *cap)
{
	unsigned groups = regex_groups(f->colsep);
	size_t start = 0;

	/*
	 * Perl's split with a negative limit: an empty match never at the
	 * start of what is left (so never a leading empty column from one),
	 * trailing empty columns kept, capture groups are columns too.
	 */
	while (start <= len && regex_match_at(f->colsep, f->colsep_m, s, len,
	    start, REGEX_NOTEMPTY_START) > 0) {
		push(cols, n, cap, s + start, f->colsep_m->ov[0] - start);
		push_groups(f->colsep_m, groups, s, cols, n, cap);
		start = f->colsep_m->ov[1];
	}
	push(cols, n, cap, s + start, len - start);
}

static int
space(char c)
{
	/* Perl's \s */
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	    c == '\v';
}

static void
trim(enum trim how, struct value *v)
{
	if (how == TRIM_LEFT || how == TRIM_BOTH)
		while (v->len && space(*v->p)) {
			v->p++;
			v->len--;
		}
	if (how == TRIM_RIGHT || how == TRIM_BOTH)
		while (v->len && space(v->p[v->len - 1]))
			v->len--;
}

int
fields_apply(struct fields *f, const struct tuple *t, struct tuple *out)
{
	f->ncols = 0;
	for (size_t i = 0; i < t->n; i++) {
		const struct value *v = &t->v[i];
		if (f->skip && regex_match(f->skip, f->skip_m, v->p, v->len,
		    0) > 0)
			return 0;
		if (f->match && regex_match(f->match, f->match_m, v->p,
		    v->len, 0) <= 0)
			return 0;
		if (f->groups)
			push_groups(f->match_m, f->groups, v->p, &f->cols,
			    &f->ncols, &f->cap);
		else if (f->colsep)
			fields_split(f, v->p, v->len, &f->cols, &f->ncols,
			    &f->cap);
		else
			push(&f->cols, &f->ncols, &f->cap, v->p, v->len);
	}
	if (f->trim != TRIM_NONE)
		for (size_t i = 0; i < f->ncols; i++)
			trim(f->trim, &f->cols[i]);
	out->n = f->ncols;
	out->v = f->cols;
	return 1;
}

void
fields_name(struct fields *f, const char *name, size_t len, size_t id)
{
	f->names = util_realloc(f->names, (f->nnames + 1) *
	    sizeof *f->names);
	f->names[f->nnames++] = (struct name){ util_memdup(name, len), len,
	    id };
}

size_t
fields_names(const struct fields *f, const char **names, size_t max)
{
	size_t top = 0;

	for (size_t i = 0; i < f->nnames; i++) {
		size_t id = f->names[i].id;
		if (id > top)
			top = id;
		if (id >= 1 && id <= max)
			names[id - 1] = f->names[i].name;
	}
	return top;
}

void
fields_name_header(struct fields *f, const struct value *line)
{
	struct value *cols = NULL;
	size_t n = 0, cap = 0, len = line->len;

	/* As GNU parallel: a CR before the end of line is not a name's. */
	if (len && line->p[len - 1] == '\r')
		len--;
	if (f->colsep)
		fields_split(f, line->p, len, &cols, &n, &cap);
	else
		push(&cols, &n, &cap, line->p, len);
	while (n > 0 && cols[n - 1].len == 0)	/* as Perl's split */
		n--;
	for (size_t i = 0; i < n; i++)
		fields_name(f, cols[i].p, cols[i].len, f->next_id++);
	free(cols);
}

/*
 * A name at s (just after a '{'), followed by what may follow a column
 * number in a replacement string: the name, or NULL.
 */
static const struct name *
name_at(const struct fields *f, const char *s)
{
	static const char *const after[] = {
		"}", ".}", "/}", "//}", "/.}", "s/", " s/",
	};
	const struct name *best = NULL;

	for (size_t i = 0; i < f->nnames; i++) {
		const struct name *nm = &f->names[i];
		if (nm->len == 0 || strncmp(s, nm->name, nm->len) != 0 ||
		    (best && best->len >= nm->len))
			continue;
		for (size_t k = 0; k < ARRAY_SIZE(after); k++)
			if (strncmp(s + nm->len, after[k],
			    strlen(after[k])) == 0) {
				best = nm;
				break;
			}
	}
	return best;
}

char *
fields_rewrite(const struct fields *f, const char *word)
{
	struct strbuf out = STRBUF_INIT;
	const char *s = word, *lit = word;
	const struct name *nm;
	int changed = 0;

	if (!f->nnames)
		return NULL;
	for (; *s; s++) {
		if (*s != '{' || (nm = name_at(f, s + 1)) == NULL)
			continue;
		char num[32];
		strbuf_add(&out, lit, (size_t)(s - lit) + 1);
		snprintf(num, sizeof num, "%zu", nm->id);
		strbuf_addstr(&out, num);
		s += nm->len;
		lit = s + 1;
		changed = 1;
	}
	if (!changed) {
		strbuf_release(&out);
		return NULL;
	}
	strbuf_addstr(&out, lit);
	return strbuf_detach(&out, NULL);
}
