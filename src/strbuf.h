/*
 * strbuf.h: a growable byte buffer.
 *
 * Invariants: len < alloc whenever alloc > 0, and buf[len] == '\0' after any
 * add, so buf can be used as a C string when the data holds no NUL.  A
 * buffer that has never grown has buf == NULL and alloc == 0.  Buffers own
 * their memory: strbuf_release frees it, strbuf_detach hands it over.
 */
#ifndef CCMAP_STRBUF_H
#define CCMAP_STRBUF_H

#include <stddef.h>

struct strbuf {
	char *buf;
	size_t len, alloc;
};

#define STRBUF_INIT {0}

void strbuf_init(struct strbuf *sb, size_t hint);
void strbuf_release(struct strbuf *sb);
/* Make room for extra more bytes (plus the terminating NUL). */
void strbuf_grow(struct strbuf *sb, size_t extra);
void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, int c);
/* Append printf-formatted text. */
void strbuf_addf(struct strbuf *sb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Empty the buffer, keeping its memory (inline: hot loops reset). */
static inline void
strbuf_reset(struct strbuf *sb)
{
	sb->len = 0;
	if (sb->buf)
		sb->buf[0] = '\0';
}
/* Its last line, its line ends cut off (util_last_line()); "" if none. */
const char *strbuf_last_line(struct strbuf *sb);
/* Take the memory (NUL-terminated, never NULL); the buffer becomes empty. */
char *strbuf_detach(struct strbuf *sb, size_t *len);

#endif
