/*
 * json.h: --json, one JSON object per line for each job or plugin item.
 *
 * Strings may hold any bytes.  Valid UTF-8 passes through as it is; '"',
 * '\\' and the control characters (U+0000 to U+001F and U+007F) are
 * escaped; a byte that is not part of valid UTF-8 (a stray continuation
 * byte, a truncated or overlong sequence, an encoded surrogate, a code
 * point past U+10FFFF) becomes the escape \udcXX of a lone low surrogate,
 * XX being the byte.  So every line is valid JSON, and the exact bytes come
 * back from the decoded text as Python's "surrogateescape" error handler
 * gives them (s.encode("utf-8", "surrogateescape")).
 */
#ifndef CCMAP_JSON_H
#define CCMAP_JSON_H

#include <stddef.h>

#include "strbuf.h"
#include "value.h"

/* Append the bytes as a JSON string, quotes included. */
void json_string(struct strbuf *out, const char *s, size_t len);
/*
 * The same, escaped as GNU parallel's --results FILE.json escapes: every
 * control character as \u00XX (\n too), DEL as it is; bytes that are not
 * UTF-8 as above (GNU parallel leaves them, which is not JSON).
 */
void json_string_gnu(struct strbuf *out, const char *s, size_t len);

/* What one job or item did. */
struct json_record {
	unsigned long long seq;		/* its number, from 1 */
	const struct value *v;		/* its values */
	size_t n;
	int args;		/* "args": [values] rather than "item": value */
	int code;		/* its exit status (a plugin: map's return) */
	int sig;		/* the signal that ended it, or 0 (no status) */
	long long ns;		/* how long it ran */
	const char *out, *err;	/* what it wrote to stdout and stderr */
	size_t olen, elen;
};

/* Append the record as one JSON object and a newline. */
void json_record(struct strbuf *line, const struct json_record *r);

#endif
