/*
 * progress.c: the --bar, --eta and --progress displays (see progress.h).
 * Their lines are spelled as GNU parallel's:
 *
 *	--bar       60% 12:8=1s ITEM     done %, done:left=time left, last item
 *	--eta       ETA: 1s Left: 8 AVG: 0.25s  local:2/12/100%/0.3s
 *	--progress  local:2/12/100%/0.3s  running/done/share/seconds per job
 *
 * A total not yet known (the items are still being read or counted)
 * shows as "?".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "util.h"
#include "progress.h"
#include "strbuf.h"

#define PROGRESS_MIN_MS 200	/* redraw no more often than this */
#define PROGRESS_IDLE_MS 1000	/* and this often while nothing happens */
#define ITEM_MAX 200		/* bytes of the last item kept for --bar */

struct progress {
	int flags;
	int fd;
	int term;		/* fd is a terminal: draw as it goes */
	int width;		/* its columns */
	unsigned jobs;
	unsigned long long done, total;
	unsigned long long running;	/* jobs running now (not queued) */
	int have_total;
	long long t0, last;	/* when it began, when it was last drawn */
	int changed;		/* counts moved since then */
	int cleared;		/* the line was cleared for output */
	int drawn;		/* the header is out */
	int paused;
	char item[ITEM_MAX + 1];
};

static unsigned
cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (unsigned)n : 1;
}

void
progress_resize(struct progress *p)
{
	struct winsize ws;

	p->width = 80;
	if (ioctl(p->fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		p->width = ws.ws_col;
}

struct progress *
progress_new(int flags, int fd, unsigned jobs)
{
	struct progress *p = util_calloc(1, sizeof *p);

	p->flags = flags;
	p->fd = fd;
	p->jobs = jobs;
	p->term = isatty(fd);
	p->t0 = util_now_ns();
	p->changed = 1;
	if (p->term)
		progress_resize(p);
	return p;
}

/* The line as it stands, without a newline. */
static void
format(struct progress *p, struct strbuf *sb)
{
	double elapsed = (double)(util_now_ns() - p->t0) / 1e9;
	double avg = p->done ? elapsed / (double)p->done : 0;
	unsigned long long left = p->total > p->done ? p->total - p->done : 0;
	char eta[32], nleft[32];

	if (p->have_total && (p->done || !left)) {
		snprintf(eta, sizeof eta, "%.0f", avg * (double)left);
	} else {
		strcpy(eta, "?");
	}
	if (p->have_total)
		snprintf(nleft, sizeof nleft, "%llu", left);
	else
		strcpy(nleft, "?");
	if (p->flags & CCMAP_SHOW_BAR) {
		if (p->have_total)
			strbuf_addf(sb, "%llu%% ", p->total ?
			    p->done * 100 / p->total : 100);
		else
			strbuf_addstr(sb, "?% ");
		strbuf_addf(sb, "%llu:%s=%ss%s%s", p->done, nleft, eta,
		    *p->item ? " " : "", p->item);
		return;
	}
	if (p->flags & CCMAP_SHOW_ETA)
		strbuf_addf(sb, "ETA: %ss Left: %s AVG: %.2fs  ", eta, nleft,
		    avg);
	strbuf_addf(sb, "local:%llu/%llu/100%%/%.1fs", p->running, p->done,
	    avg);
}

static void
put(struct progress *p, const struct strbuf *sb)
{
	(void)!util_write_all(p->fd, sb->buf, sb->len);
}

/* The header --eta and --progress print first. */
static void
header(struct progress *p, struct strbuf *sb)
{
	if (p->flags & CCMAP_SHOW_BAR)
		return;
	strbuf_addf(sb, "\nComputers / CPU cores / Max jobs to run\n"
	    "1:local / %u / %u\n\nComputer:jobs running/jobs completed/"
	    "%%of started jobs/Average seconds to complete\n", cpus(), p->jobs);
}

/* Draw the line over the last one, cut to the terminal's width. */
static void
draw_now(struct progress *p)
{
	struct strbuf text = STRBUF_INIT, sb = STRBUF_INIT;
	size_t cols = p->width > 1 ? (size_t)p->width - 1 : 1;

	if (!p->drawn)
		header(p, &sb);
	p->drawn = 1;
	format(p, &text);
	if (text.len > cols)
		text.len = cols;
	strbuf_addstr(&sb, "\r");
	if ((p->flags & CCMAP_SHOW_BAR) && p->have_total) {
		/* The done part of the width in reverse video: the bar. */
		size_t on = p->total ? (size_t)((double)cols * (double)p->done /
		    (double)p->total) : cols;
		while (text.len < cols)
			strbuf_addch(&text, ' ');
		strbuf_addstr(&sb, "\033[7m");
		strbuf_add(&sb, text.buf, on);
		strbuf_addstr(&sb, "\033[0m");
		strbuf_add(&sb, text.buf + on, text.len - on);
	} else {
		strbuf_add(&sb, text.buf, text.len);
	}
	strbuf_addstr(&sb, "\033[K");
	put(p, &sb);
	strbuf_release(&text);
	strbuf_release(&sb);
	p->last = util_now_ns();
	p->changed = p->cleared = 0;
}

void
progress_free(struct progress *p)
{
	struct strbuf sb = STRBUF_INIT;

	if (!p)
		return;
	p->running = 0;		/* the run is over */
	if (p->term) {
		draw_now(p);
		strbuf_addch(&sb, '\n');
	} else {
		format(p, &sb);
		strbuf_addch(&sb, '\n');
	}
	put(p, &sb);
	strbuf_release(&sb);
	free(p);
}

void
progress_started(struct progress *p, const char *item, size_t len)
{
	p->changed = 1;
	if (!item)
		return;
	if (len > ITEM_MAX)
		len = ITEM_MAX;
	for (size_t i = 0; i < len; i++)	/* one line, whatever it holds */
		p->item[i] = item[i] == '\n' || item[i] == '\r' ||
		    item[i] == '\033' ? ' ' : item[i];
	p->item[len] = '\0';
}

void
progress_done(struct progress *p, unsigned long long n)
{
	p->done += n;
	p->changed = 1;
}

void
progress_total(struct progress *p, unsigned long long total)
{
	if (p->have_total && p->total == total)
		return;
	p->total = total;
	p->have_total = 1;
	p->changed = 1;
}

void
progress_running(struct progress *p, unsigned long long n)
{
	if (p->running == n)
		return;
	p->running = n;
	p->changed = 1;
}

void
progress_pause(struct progress *p, int paused)
{
	p->paused = paused;
}

void
progress_hide(struct progress *p, int fd)
{
	static const char clear[] = "\r\033[K";

	if (!p->term || !p->drawn || p->cleared || p->paused)
		return;
	if (fd != p->fd && !isatty(fd))
		return;
	(void)!util_write_all(p->fd, clear, sizeof clear - 1);
	p->cleared = 1;
}

/* Milliseconds since the last drawing. */
static long long
since_ms(const struct progress *p)
{
	return (util_now_ns() - p->last) / 1000000;
}

void
progress_draw(struct progress *p)
{
	long long ms;

	if (!p->term || p->paused)
		return;
	ms = since_ms(p);
	if (p->cleared || !p->drawn || (p->changed && ms >= PROGRESS_MIN_MS) ||
	    ms >= PROGRESS_IDLE_MS)
		draw_now(p);
}

int
progress_timeout_ms(const struct progress *p)
{
	long long due;

	if (!p->term || p->paused)
		return -1;
	due = (p->changed ? PROGRESS_MIN_MS : PROGRESS_IDLE_MS) - since_ms(p);
	return due < 0 ? 0 : (int)due;
}
