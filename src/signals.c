/*
 * signals.c: the self-pipe for SIGINT and SIGTERM (see signals.h).
 */
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "signals.h"

static int sigpipe_fds[2] = { -1, -1 };
static struct sigaction saved_int, saved_term, saved_pipe;

static void
on_signal(int sig)
{
	int saved = errno;
	unsigned char c = (unsigned char)sig;

	(void)!write(sigpipe_fds[1], &c, 1);
	errno = saved;
}

int
signals_init(void)
{
	struct sigaction sa;

	if (pipe2(sigpipe_fds, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGINT, &sa, &saved_int);
	sigaction(SIGTERM, &sa, &saved_term);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, &saved_pipe);
	return 0;
}

void
signals_restore(void)
{
	if (sigpipe_fds[0] < 0)
		return;
	sigaction(SIGINT, &saved_int, NULL);
	sigaction(SIGTERM, &saved_term, NULL);
	sigaction(SIGPIPE, &saved_pipe, NULL);
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
