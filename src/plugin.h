/*
 * plugin.h: loading a plugin (see <ccmap/plugin.h> for the interface a
 * plugin implements) and calling its lifecycle functions.
 */
#ifndef CCMAP_PLUGIN_LOADER_H
#define CCMAP_PLUGIN_LOADER_H

#include <ccmap/plugin.h>

struct plugin;

/*
 * Load PATH[:SYMBOL] (a PATH without a slash is looked up in
 * $CCMAP_PLUGIN_PATH, then in the installed plugin directory), check its
 * ABI version and run its init with argv.  0, or CCMAP_EUSAGE with one line
 * in err.
 */
int plugin_open(struct plugin **pp, const char *spec, int argc,
    char *const argv[], const struct ccmap_host *host, char *err,
    size_t errlen);
/* Run fini and unload. */
void plugin_close(struct plugin *p);
const struct ccmap_plugin *plugin_desc(const struct plugin *p);
void *plugin_state(const struct plugin *p);
/* The name for messages. */
const char *plugin_name(const struct plugin *p);

#endif
