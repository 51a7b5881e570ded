/*
 * plugin.c: find, load and check a plugin (see plugin.h).
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ccmap.h"
#include "util.h"
#include "plugin.h"
#include "strbuf.h"

#ifndef CCMAP_PLUGINDIR
#define CCMAP_PLUGINDIR "/usr/local/lib/ccmap/plugins"
#endif

struct plugin {
	void *handle;
	const struct ccmap_plugin *desc;
	const struct ccmap_host *host;
	void *state;
	char *path;
	int inited;
};

static int
is_symbol(const char *s)
{
	if (!*s || (*s >= '0' && *s <= '9'))
		return 0;
	for (; *s; s++)
		if (!(*s == '_' || (*s >= 'a' && *s <= 'z') ||
		    (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')))
			return 0;
	return 1;
}

/*
 * The directory searched after $CCMAP_PLUGIN_PATH: the installed plugin
 * directory, or, for a ccmap run from the build tree it was built in (not
 * installed), that tree's plugins, so that ./ccmap --so len works before
 * make install.  The executable's directory is a build tree when it holds
 * libccmap.la, the engine libtool builds there; libtool leaves the built
 * plugins in src/plugins/.libs.  (A libtool wrapper script would run the
 * real binary from .libs/, one level down.)  The directory comes from the
 * executable, never from the current directory.
 */
static void
default_dir(struct strbuf *out)
{
	char *dir = realpath("/proc/self/exe", NULL);
	char *slash = dir ? strrchr(dir, '/') : NULL;
	int tree = 0;

	strbuf_reset(out);
	if (slash) {
		*slash = '\0';		/* the executable's directory */
		slash = strrchr(dir, '/');
		if (slash && !strcmp(slash, "/.libs"))
			*slash = '\0';
		strbuf_addf(out, "%s/libccmap.la", dir);
		tree = access(out->buf, F_OK) == 0;
		strbuf_reset(out);
	}
	if (tree)
		strbuf_addf(out, "%s/src/plugins/.libs", dir);
	else
		strbuf_addstr(out, CCMAP_PLUGINDIR);
	free(dir);
}

/*
 * Look name up in $CCMAP_PLUGIN_PATH, then in the directory default_dir()
 * gives (left in dflt, for messages); 1 and the file in out, or 0.
 */
static int
find_plugin(const char *name, struct strbuf *out, struct strbuf *dflt)
{
	const char *env = getenv("CCMAP_PLUGIN_PATH");
	struct strbuf dirs = STRBUF_INIT;
	static const char *const suffixes[] = { "", ".so" };
	int found = 0;

	if (env && *env) {
		strbuf_addstr(&dirs, env);
		strbuf_addch(&dirs, ':');
	}
	default_dir(dflt);
	strbuf_addstr(&dirs, dflt->buf);
	for (char *d = dirs.buf, *e; d && !found; d = e ? e + 1 : NULL) {
		e = strchr(d, ':');
		if (e)
			*e = '\0';
		if (!*d)
			continue;	/* never the current directory */
		for (size_t i = 0; i < ARRAY_SIZE(suffixes) && !found; i++) {
			strbuf_reset(out);
			strbuf_addstr(out, d);
			strbuf_addch(out, '/');
			strbuf_addstr(out, name);
			strbuf_addstr(out, suffixes[i]);
			found = access(out->buf, F_OK) == 0;
		}
	}
	strbuf_release(&dirs);
	return found;
}

int
plugin_open(struct plugin **pp, const char *spec, int argc,
    char *const argv[], const struct ccmap_host *host, char *err,
    size_t errlen)
{
	struct plugin *p = util_calloc(1, sizeof *p);
	struct strbuf path = STRBUF_INIT;
	const char *colon = strrchr(spec, ':');
	const char *symbol = "ccmap_plugin";
	const struct ccmap_plugin *d;
	char ierr[512] = "";

	if (colon && is_symbol(colon + 1)) {
		strbuf_add(&path, spec, (size_t)(colon - spec));
		symbol = colon + 1;
	} else {
		strbuf_addstr(&path, spec);
	}
	if (!path.len) {
		snprintf(err, errlen, "--so '%s': no plugin file named", spec);
		goto fail;
	}
	if (!strchr(path.buf, '/')) {
		struct strbuf found = STRBUF_INIT, dflt = STRBUF_INIT;
		int ok = find_plugin(path.buf, &found, &dflt);

		if (!ok)
			snprintf(err, errlen, "--so: no plugin '%s' in "
			    "$CCMAP_PLUGIN_PATH or %s", path.buf, dflt.buf);
		strbuf_release(&dflt);
		if (!ok) {
			strbuf_release(&found);
			goto fail;
		}
		strbuf_release(&path);
		path = found;
	}
	p->path = strbuf_detach(&path, NULL);
	if (access(p->path, F_OK) < 0) {
		snprintf(err, errlen, "--so: cannot load '%s': %s", p->path,
		    strerror(errno));
		goto fail;
	}
	dlerror();
	p->handle = dlopen(p->path, RTLD_NOW | RTLD_LOCAL);
	if (!p->handle) {
		const char *e = dlerror();
		snprintf(err, errlen, "--so: cannot load '%s': %s", p->path,
		    e ? e : "unknown error");
		goto fail;
	}
	dlerror();
	d = dlsym(p->handle, symbol);
	if (!d) {
		snprintf(err, errlen, "--so: '%s' has no symbol '%s'", p->path,
		    symbol);
		goto fail;
	}
	if (d->abi >> 16 != CCMAP_PLUGIN_ABI_MAJOR ||
	    (d->abi & 0xffff) > CCMAP_PLUGIN_ABI_MINOR) {
		snprintf(err, errlen, "--so: '%s' was built for plugin ABI %u.%u, "
		    "but this ccmap has ABI %u.%u", p->path, d->abi >> 16,
		    d->abi & 0xffff, CCMAP_PLUGIN_ABI_MAJOR,
		    CCMAP_PLUGIN_ABI_MINOR);
		goto fail;
	}
	if (!d->map && !d->map_batch) {
		snprintf(err, errlen, "--so: '%s': '%s' has no map function",
		    p->path, symbol);
		goto fail;
	}
	p->desc = d;
	p->host = host;
	if (d->init && d->init(host, argc, argv, &p->state, ierr,
	    sizeof ierr) != 0) {
		snprintf(err, errlen, "--so: %s: %s", plugin_name(p),
		    *ierr ? ierr : "its init failed");
		goto fail;
	}
	p->inited = 1;
	*pp = p;
	return 0;
fail:
	strbuf_release(&path);
	plugin_close(p);
	return CCMAP_EUSAGE;
}

void
plugin_close(struct plugin *p)
{
	if (!p)
		return;
	if (p->inited && p->desc->fini)
		p->desc->fini(p->host, p->state);
	if (p->handle)
		dlclose(p->handle);
	free(p->path);
	free(p);
}

const struct ccmap_plugin *
plugin_desc(const struct plugin *p)
{
	return p->desc;
}

void *
plugin_state(const struct plugin *p)
{
	return p->state;
}

const char *
plugin_name(const struct plugin *p)
{
	if (p->desc && p->desc->name)
		return p->desc->name;
	return p->path;
}
