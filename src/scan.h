/*
 * scan.h: finding delimiters in a block of records, sixteen bytes at a time.
 *
 * Plugins map millions of short items a second, so the search for each
 * item's end must cost a few instructions, not a call to memchr per item:
 * a scan compares sixteen bytes at once (SSE2, the x86-64 baseline; a
 * portable loop elsewhere), keeps the positions found as a bit mask, and
 * hands them out one at a time.
 *
 *	struct scan s;
 *	scan_init(&s, p, len, '\n');
 *	for (const char *d; (d = scan_next(&s)) != NULL; )
 *		a record ends at d
 */
#ifndef CCMAP_SCAN_H
#define CCMAP_SCAN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

struct scan {
	const char *at;		/* the sixteen bytes mask describes */
	const char *end;
	uint32_t mask;		/* delimiters in at[0..16) not yet handed out */
	char delim;
};

/* Bit i set where p[i] == c, for the n <= 16 bytes at p. */
static inline uint32_t
scan__mask(const char *p, size_t n, char c)
{
#ifdef __SSE2__
	if (n == 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
		return (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v,
		    _mm_set1_epi8(c)));
	}
#endif
	uint32_t m = 0;
	for (size_t i = 0; i < n; i++)
		m |= (uint32_t)(p[i] == c) << i;
	return m;
}

static inline void
scan_init(struct scan *s, const char *p, size_t len, int delim)
{
	s->at = p;
	s->end = p + len;
	s->delim = (char)delim;
	s->mask = scan__mask(p, len < 16 ? len : 16, s->delim);
}

/* The next delimiter, or NULL at the end of the block. */
static inline const char *
scan_next(struct scan *s)
{
	while (s->mask == 0) {
		s->at += 16;
		if (s->at >= s->end)
			return NULL;
		size_t left = (size_t)(s->end - s->at);
		s->mask = scan__mask(s->at, left < 16 ? left : 16, s->delim);
	}
	const char *d = s->at + __builtin_ctz(s->mask);
	s->mask &= s->mask - 1;
	return d;
}

/*
 * Up to max delimiters into ends, in order: their number, 0 at the end of
 * the block.  The loop over a block's items is then a loop over an array,
 * with the search for them done in registers, apart.
 */
static inline size_t
scan_fill(struct scan *s, const char **ends, size_t max)
{
	const char *at = s->at, *end = s->end;
	uint32_t mask = s->mask;
	size_t n = 0;

	while (n < max) {
		if (mask != 0) {
			ends[n++] = at + __builtin_ctz(mask);
			mask &= mask - 1;
			continue;
		}
		at += 16;
		if (at + 16 <= end)
			mask = scan__mask(at, 16, s->delim);
		else if (at < end)
			mask = scan__mask(at, (size_t)(end - at), s->delim);
		else
			break;
	}
	s->at = at;
	s->mask = mask;
	return n;
}

/* How many bytes of p[0..len) equal c. */
static inline size_t
scan_count(const char *p, size_t len, int c)
{
	size_t n = 0, i = 0;

#ifdef __SSE2__
	/* Count in sixteen byte lanes (up to 255 each), then add them up. */
	const __m128i pat = _mm_set1_epi8((char)c), zero = _mm_setzero_si128();
	while (i + 16 <= len) {
		__m128i acc = zero;
		size_t stop = i + 255 * 16 < len ? i + 255 * 16 : len;
		for (; i + 16 <= stop; i += 16)
			acc = _mm_sub_epi8(acc, _mm_cmpeq_epi8(pat,
			    _mm_loadu_si128((const __m128i *)(const void *)
			    (p + i))));
		acc = _mm_sad_epu8(acc, zero);
		n += (size_t)_mm_cvtsi128_si32(acc) +
		    (size_t)_mm_cvtsi128_si32(_mm_srli_si128(acc, 8));
	}
#endif
	for (; i < len; i++)
		n += p[i] == (char)c;
	return n;
}

#endif
