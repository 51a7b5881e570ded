/*
 * usage.h: what the command line prints about itself, and how it dies.
 */
#ifndef CCMAP_USAGE_H
#define CCMAP_USAGE_H

#include <stdio.h>

/* The name ccmap gives itself before its messages: written here alone. */
#define PROG "ccmap"

/* Print the help to f. */
void usage(FILE *f);
void version(void);
/* "PROG: MESSAGE" on stderr. */
void warnx_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same, then exit 255 (ccmap's own error). */
void die(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

#endif
