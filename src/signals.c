/*
 * signals.c: the self-pipe for SIGINT, SIGTERM, SIGQUIT and SIGHUP (see
 * signals.h).
 */
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "util.h"
#include "signals.h"

static int sigpipe_fds[2] = { -1, -1 };
static struct sigaction saved_int, saved_term, saved_pipe, saved_winch;
static struct sigaction saved_quit, saved_hup;
static int winch;		/* SIGWINCH is ours too */

static void
on_signal(int sig)
{
	int saved = errno;
	unsigned char c = (unsigned char)sig;

	(void)!write(sigpipe_fds[1], &c, 1);
	errno = saved;
}

/* Give sig to handler, keeping what it had in saved. */
static void
set_handler(int sig, void (*handler)(int), struct sigaction *saved)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(sig, &sa, saved);
}

int
signals_init(void)
{
	if (pipe2(sigpipe_fds, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	set_handler(SIGINT, on_signal, &saved_int);
	set_handler(SIGTERM, on_signal, &saved_term);
	set_handler(SIGPIPE, SIG_IGN, &saved_pipe);
	set_handler(SIGQUIT, on_signal, &saved_quit);
	set_handler(SIGHUP, on_signal, &saved_hup);
	/* Under nohup, a hangup stays ignored, by ccmap and its jobs. */
	if (saved_hup.sa_handler == SIG_IGN)
		sigaction(SIGHUP, &saved_hup, NULL);
	return 0;
}

void
signals_post(int code)
{
	on_signal(code);
}

int
signals_add_winch(void)
{
	if (sigpipe_fds[0] < 0)
		return -EINVAL;
	set_handler(SIGWINCH, on_signal, &saved_winch);
	winch = 1;
	return 0;
}

void
signals_restore(void)
{
	if (sigpipe_fds[0] < 0)
		return;
	if (winch)
		sigaction(SIGWINCH, &saved_winch, NULL);
	winch = 0;
	sigaction(SIGINT, &saved_int, NULL);
	sigaction(SIGTERM, &saved_term, NULL);
	sigaction(SIGPIPE, &saved_pipe, NULL);
	sigaction(SIGQUIT, &saved_quit, NULL);
	sigaction(SIGHUP, &saved_hup, NULL);
	close(sigpipe_fds[0]);
	close(sigpipe_fds[1]);
	sigpipe_fds[0] = sigpipe_fds[1] = -1;
}

int
signals_fd(void)
{
	return sigpipe_fds[0];
}

int
signals_take(void)
{
	unsigned char c;
	ssize_t n;

	do
		n = read(sigpipe_fds[0], &c, 1);
	while (n < 0 && errno == EINTR);
	return n == 1 ? c : 0;
}
