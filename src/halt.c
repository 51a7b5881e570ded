/*
 * halt.c: parsing --halt and deciding when a run halts (see halt.h).
 */
#include <string.h>

#include "halt.h"
#include "util.h"

/* A run of digits, the whole of s[0..len): its value, or -1. */
static long long
digits(const char *s, size_t len)
{
	return util_digits(s, len, 12);
}

static int
field_is(const char *f, size_t len, const char *word)
{
	return strlen(word) == len && memcmp(f, word, len) == 0;
}

/*
 * GNU parallel splits the value at every ',' and '=' and looks at the
 * first three fields only, so now=fail=1 and now,fail=1,x are accepted as
 * it accepts them.  A count or percentage of 0, which it takes and then
 * acts on oddly (halting on the first job counted, with exit status 0), is
 * refused.
 */
int
ccmap_parse_halt(const char *s, struct ccmap_halt *h)
{
	static const struct {
		const char *name;
		struct ccmap_halt h;
	} shorthand[] = {
		{ "0", { CCMAP_HALT_NEVER, CCMAP_HALT_FAIL, 0, 0 } },
		{ "1", { CCMAP_HALT_SOON, CCMAP_HALT_FAIL, 1, 0 } },
		{ "2", { CCMAP_HALT_NOW, CCMAP_HALT_FAIL, 1, 0 } },
		{ "-1", { CCMAP_HALT_SOON, CCMAP_HALT_SUCCESS, 1, 0 } },
		{ "-2", { CCMAP_HALT_NOW, CCMAP_HALT_SUCCESS, 1, 0 } },
	};
	const char *f[3] = { NULL, NULL, NULL };
	size_t flen[3] = { 0, 0, 0 }, n = 0;
	const char *p = s;
	long long v;

	memset(h, 0, sizeof *h);
	for (size_t i = 0; i < ARRAY_SIZE(shorthand); i++)
		if (strcmp(s, shorthand[i].name) == 0) {
			*h = shorthand[i].h;
			return 0;
		}
	/* N%: soon,fail=N% */
	size_t len = strlen(s);
	if (len > 1 && s[len - 1] == '%' && (v = digits(s, len - 1)) >= 0) {
		if (v < 1)
			return -EINVAL;
		*h = (struct ccmap_halt){ CCMAP_HALT_SOON, CCMAP_HALT_FAIL, 0,
		    (unsigned)v };
		return 0;
	}
	while (n < 3) {
		size_t k = strcspn(p, ",=");
		f[n] = p;
		flen[n++] = k;
		if (!p[k])
			break;
		p += k + 1;
	}
	if (field_is(f[0], flen[0], "never"))
		return 0;
	if (field_is(f[0], flen[0], "soon"))
		h->when = CCMAP_HALT_SOON;
	else if (field_is(f[0], flen[0], "now"))
		h->when = CCMAP_HALT_NOW;
	else
		return -EINVAL;
	if (!f[1])
		return -EINVAL;
	if (field_is(f[1], flen[1], "fail"))
		h->on = CCMAP_HALT_FAIL;
	else if (field_is(f[1], flen[1], "success"))
		h->on = CCMAP_HALT_SUCCESS;
	else if (field_is(f[1], flen[1], "done"))
		h->on = CCMAP_HALT_DONE;
	else
		return -EINVAL;
	if (!f[2])
		return -EINVAL;
	if (flen[2] > 1 && f[2][flen[2] - 1] == '%' &&
	    (v = digits(f[2], flen[2] - 1)) >= 0)
		h->pct = (unsigned)v;
	else if ((v = digits(f[2], flen[2])) >= 0)
		h->count = (unsigned long long)v;
	else
		return -EINVAL;
	if (v < 1)
		return -EINVAL;
	return 0;
}

void
halt_init(struct halt *hs, const struct ccmap_halt *h)
{
	memset(hs, 0, sizeof *hs);
	hs->h = *h;
}

int
halt_needs_total(const struct halt *hs)
{
	return hs->h.when != CCMAP_HALT_NEVER && hs->h.pct;
}

const char *
halt_notice(const struct halt *hs, int failed)
{
	if (hs->h.when == CCMAP_HALT_NEVER)
		return NULL;
	switch (hs->h.on) {
	case CCMAP_HALT_FAIL:
		return failed ? "failed" : NULL;
	case CCMAP_HALT_SUCCESS:
		return failed ? NULL : "succeeded";
	case CCMAP_HALT_DONE:
		return "finished";
	}
	return NULL;
}

/* The failed jobs in percent of n, rounded up (as GNU parallel, in double). */
static int
pct_of(unsigned long long failed, unsigned long long n)
{
	double x = (double)failed / (double)(n ? n : 1) * 100;
	int i = (int)x;

	return i < x ? i + 1 : i;
}

enum ccmap_halt_when
halt_count(struct halt *hs, int failed, int status)
{
	unsigned long long counted;
	double threshold;

	hs->completed++;
	if (failed)
		hs->failed++;
	if (hs->h.when == CCMAP_HALT_NEVER)
		return CCMAP_HALT_NEVER;
	switch (hs->h.on) {
	case CCMAP_HALT_FAIL:
		if (!failed)
			return CCMAP_HALT_NEVER;
		counted = hs->failed;
		break;
	case CCMAP_HALT_SUCCESS:
		if (failed)
			return CCMAP_HALT_NEVER;
		counted = hs->completed - hs->failed;
		break;
	default:
		counted = hs->completed;
		break;
	}
	/* In double, as GNU parallel compares: 50% of 3 jobs is 2 of them. */
	threshold = hs->h.pct ? (double)hs->total * ((double)hs->h.pct / 100) :
	    (double)hs->h.count;
	if ((double)counted < threshold)
		return CCMAP_HALT_NEVER;
	if (!hs->halted) {
		hs->halted = 1;
		if (hs->h.on == CCMAP_HALT_SUCCESS)
			hs->status = 0;
		else if (threshold == 1)	/* a percentage too, if it is one job */
			hs->status = status;
		else if (hs->h.pct)
			hs->status = pct_of(hs->failed, hs->total);
		else if (hs->failed == 0)
			/*
			 * done=N with no job failed: GNU parallel takes the
			 * least of 101 and a failed count it never set, 101.
			 */
			hs->status = 101;
		else
			hs->status = hs->failed > 101 ? 101 : (int)hs->failed;
	}
	return hs->h.when;
}

enum ccmap_halt_when
halt_count_items(struct halt *hs, size_t n, size_t nfailed)
{
	enum ccmap_halt_when when = CCMAP_HALT_NEVER, w;

	if (hs->h.when == CCMAP_HALT_NEVER) {	/* millions a second */
		hs->completed += n;
		hs->failed += nfailed;
		return CCMAP_HALT_NEVER;
	}
	for (size_t i = 0; i < n; i++)
		if ((w = halt_count(hs, i < nfailed, i < nfailed)) !=
		    CCMAP_HALT_NEVER)
			when = w;
	return when;
}

int
halt_exit_status(const struct halt *hs, int *status)
{
	if (hs->h.when == CCMAP_HALT_NEVER)
		return 0;
	if (hs->halted) {
		*status = hs->status;
		return 1;
	}
	if (hs->h.pct) {
		*status = pct_of(hs->failed, hs->started);
		return 1;
	}
	return 0;
}
