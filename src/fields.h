/*
 * fields.h: what becomes of each item before it reaches a command.
 *
 * --skip drops the tuples any of whose values it matches, --match keeps
 * only those all of whose values it matches; -C/--colsep splits each value
 * into columns as Perl's split(/REGEX/, VALUE, -1) does (GNU parallel's
 * rule: its capture groups are columns too), or --match's capture groups
 * are the columns; --trim trims each column.  The columns of a tuple's
 * values, one after the other, are the job's {1}..{N}.
 *
 * --header names the columns (the first value of each source, split the
 * same way; ids count on across the sources), --header 0 names each file
 * source by its path, and --match's named groups name its columns: the
 * command's {NAME}, {NAME.} ... {NAME s/RE/REPL/} become {ID}, {ID.} ...
 *
 *	struct fields *f;
 *	if (fields_new(&f, opts, err, sizeof err) < 0) fail;
 *	fields_name_header(f, value) for each source's header, then
 *	word = fields_rewrite(f, word) for each command word;
 *	for each tuple t: if (fields_apply(f, &t, &cols)) map cols;
 *
 * fields_apply runs on one thread (the one reading the input): it keeps the
 * match data and the columns between calls, so that it never allocates once
 * its arrays have grown to the widest tuple.
 */
#ifndef CCMAP_FIELDS_H
#define CCMAP_FIELDS_H

#include <stddef.h>

#include "ccmap.h"
#include "value.h"

struct fields;

/*
 * Compile -C, --match and --skip, check --trim.  0, or CCMAP_EUSAGE with
 * one line in err.
 */
int fields_new(struct fields **fp, const struct ccmap_opts *opts,
    char *err, size_t errlen);
void fields_free(struct fields *f);

/* Does it change or drop tuples at all? */
int fields_active(const struct fields *f);

/*
 * The columns of tuple t into out: 1, or 0 when the tuple is dropped.
 * They point into t's values and stay valid until the next call.
 */
int fields_apply(struct fields *f, const struct tuple *t, struct tuple *out);

/* Split one value into its columns, appended to cols (no trimming). */
void fields_split(struct fields *f, const char *s, size_t len,
    struct value **cols, size_t *n, size_t *cap);

/* --header: name the next columns after the fields of this header line. */
void fields_name_header(struct fields *f, const struct value *line);
/* --header 0: name column id after a source's file name. */
void fields_name(struct fields *f, const char *name, size_t len,
    size_t id);

/*
 * The columns' names (for --results): names[id - 1] for each column id up
 * to max that has one (others are left as they are).  Returns the highest
 * id named.
 */
size_t fields_names(const struct fields *f, const char **names, size_t max);

/*
 * The word with each {NAME...} replaced by {ID...}: a new string to free,
 * or NULL when nothing in it is a name.
 */
char *fields_rewrite(const struct fields *f, const char *word);

#endif
