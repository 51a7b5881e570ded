/*
 * termseq.c: the kill sequence, --termseq (see termseq.h).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"
#include "termseq.h"

/* The longest wait a step may have: a day. */
#define STEP_MS_MAX 86400000u

static const struct ccmap_termseq default_seq = {
	4, { { SIGTERM, 200 }, { SIGTERM, 100 }, { SIGTERM, 50 },
	    { SIGKILL, 25 } },
};

const struct ccmap_termseq *
termseq_get(const struct ccmap_termseq *ts)
{
	return ts && ts->n ? ts : &default_seq;
}

/* A signal by name (TERM, SIGTERM, any case) or number; 0 if none. */
static int
parse_signal(const char *s, size_t len)
{
	char name[16];
	char *end;
	long n;

	if (len == 0 || len >= sizeof name)
		return 0;
	memcpy(name, s, len);
	name[len] = '\0';
	if (name[0] >= '0' && name[0] <= '9') {
		n = strtol(name, &end, 10);
		return *end || n < 1 || n >= NSIG ? 0 : (int)n;
	}
	const char *bare = strncasecmp(name, "SIG", 3) == 0 ? name + 3 : name;
	for (int sig = 1; sig < NSIG; sig++) {
		const char *abbrev = sigabbrev_np(sig);
		if (abbrev && strcasecmp(bare, abbrev) == 0)
			return sig;
	}
	return 0;
}

/* A wait in whole milliseconds; -1 if it is not one. */
static long
parse_ms(const char *s, size_t len)
{
	long long v = util_digits(s, len, 9);

	return v > STEP_MS_MAX ? -1 : (long)v;
}

int
ccmap_parse_termseq(const char *s, struct ccmap_termseq *ts, char *err,
    size_t errlen)
{
	const char *p = s;
	struct ccmap_termseq seq = { 0 };

	for (int want_sig = 1;; want_sig = !want_sig) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);

		if (want_sig) {
			int sig = parse_signal(p, len);
			if (!sig) {
				snprintf(err, errlen, "invalid value '%s' for "
				    "--termseq: '%.*s' is not a signal (want "
				    "SIGNAL,MS,... such as TERM,200,KILL,25)",
				    s, (int)len, p);
				return -EINVAL;
			}
			if (seq.n == CCMAP_TERMSEQ_MAX) {
				snprintf(err, errlen, "invalid value '%s' for "
				    "--termseq: more than %d signals", s,
				    CCMAP_TERMSEQ_MAX);
				return -EINVAL;
			}
			seq.step[seq.n++] = (struct ccmap_termstep){ sig, 0 };
		} else {
			long ms = parse_ms(p, len);
			if (ms < 0) {
				snprintf(err, errlen, "invalid value '%s' for "
				    "--termseq: '%.*s' is not a wait in "
				    "milliseconds (want 0 to %u)", s, (int)len,
				    p, STEP_MS_MAX);
				return -EINVAL;
			}
			seq.step[seq.n - 1].ms = (unsigned)ms;
		}
		if (!comma)
			break;
		p = comma + 1;
	}
	*ts = seq;
	return 0;
}
