/*
 * options.c: the public helpers that parse option values (-j, durations,
 * sizes) and turn a run's result into the exit status.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ccmap.h"
#include "engine.h"
#include "options.h"
#include "util.h"

void
ccmap_opts_init(struct ccmap_opts *opts)
{
	memset(opts, 0, sizeof *opts);
	opts->delim = '\n';
}

unsigned
options_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (unsigned)n : 1;
}

int
ccmap_parse_jobs(const char *s, unsigned *jobs)
{
	unsigned cpus = options_cpus();
	const char *p = s;
	char *end;
	long long n;
	int sign = 0;

	if (*p == '+' || *p == '-')
		sign = *p++ == '+' ? 1 : -1;
	if (*p < '0' || *p > '9')
		return -EINVAL;
	errno = 0;
	n = strtoll(p, &end, 10);
	if (errno || n > 1000000)
		return -ERANGE;
	if (*end == '%' && !sign && end[1] == '\0')
		n = n * cpus / 100;
	else if (*end != '\0')
		return -EINVAL;
	else if (sign)
		n = (long long)cpus + sign * n;
	else if (n == 0)
		n = JOBS_MAX;
	*jobs = n < 1 ? 1 : (unsigned)n;
	return 0;
}

int
ccmap_parse_duration(const char *s, long long *ns)
{
	static const struct {
		const char *unit;
		double ns;
	} units[] = {
		{ "", 1e9 }, { "s", 1e9 }, { "ms", 1e6 }, { "m", 60e9 },
		{ "h", 3600e9 }, { "d", 86400e9 },
	};
	char *end;
	double v;

	if (!((*s >= '0' && *s <= '9') || *s == '.'))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || v < 0)
		return -ERANGE;
	for (size_t i = 0; i < ARRAY_SIZE(units); i++)
		if (strcmp(end, units[i].unit) == 0) {
			if (v * units[i].ns > 9e18)
				return -ERANGE;
			*ns = (long long)(v * units[i].ns);
			return 0;
		}
	return -EINVAL;
}

int
ccmap_parse_size(const char *s, size_t *n)
{
	static const char units[] = "kmgtp";
	const char *u;
	char *end;
	double v, scale = 1;

	if (!((*s >= '0' && *s <= '9') || *s == '.'))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno)
		return -ERANGE;
	if (*end && (u = strchr(units, end[0] | 0x20)) != NULL) {
		int binary = end[1] == 'i' || end[1] == 'I' ||
		    (end[0] >= 'A' && end[0] <= 'Z');
		for (const char *k = units; k <= u; k++)
			scale *= binary ? 1024 : 1000;
		end += 1 + (end[1] == 'i' || end[1] == 'I');
	}
	if (*end)
		return -EINVAL;
	v *= scale;
	if (v < 1 || v > 9e18)
		return -ERANGE;
	*n = (size_t)v;
	return 0;
}

int
ccmap_exit_status(const struct ccmap_result *res)
{
	if (res->error)
		return CCMAP_EXIT_ERROR;
	if (res->signal)
		return 128 + res->signal;
	if (res->halted)
		return res->halt_status;
	if (res->failed > CCMAP_EXIT_MAX_COUNTED)
		return CCMAP_EXIT_MANY_FAILED;
	return (int)res->failed;
}
