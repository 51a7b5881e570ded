/*
 * options.h: what options.c has for the engine's other modules (the public
 * option helpers are in ccmap.h).
 */
#ifndef CCMAP_OPTIONS_H
#define CCMAP_OPTIONS_H

/* The CPUs online (at least 1): -j's default, and its N% and +N. */
unsigned options_cpus(void);

#endif
