/*
 * sshlogin.c: parsing -S/--sshlogin and --sshloginfile (see sshlogin.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccmap.h"
#include "sshlogin.h"
#include "strbuf.h"
#include "util.h"

/* The words of s (split at blanks: no quoting), NULL-terminated. */
static char **
words(const char *s, size_t *np)
{
	char **w = util_calloc(1, sizeof *w);
	size_t n = 0;

	for (;;) {
		s += strspn(s, " \t");
		if (!*s)
			break;
		size_t len = strcspn(s, " \t");
		w = util_realloc(w, (n + 2) * sizeof *w);
		w[n++] = util_memdup(s, len);
		w[n] = NULL;
		s += len;
	}
	*np = n;
	return w;
}

static void
free_words(char **w)
{
	for (size_t i = 0; w && w[i]; i++)
		free(w[i]);
	free(w);
}

static void
login_free(struct sshlogin *s)
{
	free(s->name);
	free_words(s->ssh);
	free(s->dest);
	free(s->port);
}

/* One login, s[0..len), into *s: 0, or CCMAP_EUSAGE. */
static int
parse_one(struct sshlogin *out, const char *p, size_t len, const char *ssh,
    char *err, size_t errlen)
{
	struct sshlogin s = { 0 };
	char *text = util_memdup(p, len), *name = text, *slash;
	size_t n;

	/* N/: the host's CPUs (a number, then a slash). */
	if ((slash = strchr(name, '/')) != NULL && slash > name &&
	    strspn(name, "0123456789") == (size_t)(slash - name)) {
		long long v = util_digits(name, (size_t)(slash - name), 6);
		if (v <= 0) {
			snprintf(err, errlen, "-S: '%s': the number of CPUs "
			    "must be 1 or more", text);
			free(text);
			return CCMAP_EUSAGE;
		}
		s.ncpu = (unsigned)v;
		name = slash + 1;
	}
	name += strspn(name, " \t");
	n = strlen(name);
	while (n && (name[n - 1] == ' ' || name[n - 1] == '\t'))
		name[--n] = '\0';
	if (!*name) {
		snprintf(err, errlen, "-S: '%s': no host", text);
		free(text);
		return CCMAP_EUSAGE;
	}
	s.name = util_strdup(name);
	if (!strcmp(name, ":")) {
		s.local = 1;
		free(text);
		*out = s;
		return 0;
	}
	size_t nw;
	char **w = words(name, &nw);
	if (nw > 1) {
		/* "ssh-command [options] host": the last word is the host. */
		s.dest = w[nw - 1];
		w[nw - 1] = NULL;
		s.ssh = w;
		s.nssh = nw - 1;
	} else {
		char *colon = strrchr(w[0], ':');
		if (colon && colon[1] && strspn(colon + 1, "0123456789") ==
		    strlen(colon + 1) && !strchr(w[0], ']') &&
		    strchr(w[0], ':') == colon) {
			s.port = util_strdup(colon + 1);
			*colon = '\0';
		} else if (colon) {
			snprintf(err, errlen, "-S: '%s': not [user@]host[:port]",
			    text);
			free_words(w);
			login_free(&s);
			free(text);
			return CCMAP_EUSAGE;
		}
		s.dest = w[0];
		free(w);
		s.ssh = words(ssh && *ssh ? ssh : "ssh", &s.nssh);
		if (!s.nssh) {
			snprintf(err, errlen, "--ssh: no command");
			login_free(&s);
			free(text);
			return CCMAP_EUSAGE;
		}
	}
	if (!*s.dest || *s.dest == '-') {
		snprintf(err, errlen, "-S: '%s': no host (the last word)",
		    text);
		login_free(&s);
		free(text);
		return CCMAP_EUSAGE;
	}
	free(text);
	*out = s;
	return 0;
}

static int
add(struct sshlogins *l, const char *p, size_t len, const char *ssh,
    char *err, size_t errlen)
{
	struct sshlogin s;
	int r = parse_one(&s, p, len, ssh, err, errlen);

	if (r < 0)
		return r;
	l->v = util_realloc(l->v, (l->n + 1) * sizeof *l->v);
	l->v[l->n++] = s;
	return 0;
}

int
sshlogin_parse(struct sshlogins *l, const char *spec, const char *ssh,
    char *err, size_t errlen)
{
	struct strbuf one = STRBUF_INIT;
	int r = 0;

	for (const char *p = spec;; p++) {
		if (*p == ',' && p[1] == ',') {
			strbuf_addch(&one, ',');
			p++;
			continue;
		}
		if (*p && *p != ',' && *p != '\n') {
			strbuf_addch(&one, *p);
			continue;
		}
		if (one.len && (r = add(l, one.buf, one.len, ssh, err,
		    errlen)) < 0)
			break;
		strbuf_reset(&one);
		if (!*p)
			break;
	}
	strbuf_release(&one);
	return r;
}

int
sshlogin_file(struct sshlogins *l, const char *path, const char *ssh,
    char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int r = 0;

	if (!f) {
		r = -errno;
		snprintf(err, errlen, "--sshloginfile: cannot read '%s': %s",
		    path, strerror(errno));
		return r;
	}
	while ((len = getline(&line, &cap, f)) >= 0) {
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		size_t lead = strspn(line, " \t");
		if (!line[lead] || line[lead] == '#')
			continue;
		if ((r = add(l, line, (size_t)len, ssh, err, errlen)) < 0)
			break;
	}
	free(line);
	fclose(f);
	return r;
}

void
sshlogin_free(struct sshlogins *l)
{
	for (size_t i = 0; i < l->n; i++)
		login_free(&l->v[i]);
	free(l->v);
	*l = (struct sshlogins){ NULL, 0 };
}
