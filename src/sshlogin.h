/*
 * sshlogin.h: the hosts of -S/--sshlogin and --sshloginfile, as GNU
 * parallel writes them: "[N/]SSHLOGIN" where SSHLOGIN is ":" (this
 * machine), "[user@]host[:port]", or "ssh-command [options] [user@]host"
 * (the last word is the host).  Parsing only: hosts.h connects to them.
 */
#ifndef CCMAP_SSHLOGIN_H
#define CCMAP_SSHLOGIN_H

#include <stddef.h>

struct sshlogin {
	char *name;	/* as written, without N/: the joblog's Host */
	unsigned ncpu;	/* N/, or 0: ask the host */
	int local;	/* ":": this machine, no ssh */
	char **ssh;	/* the ssh command's words (NULL-terminated): the
			   login's own, else --ssh's, else "ssh" */
	size_t nssh;
	char *dest;	/* ssh's host argument: [user@]host */
	char *port;	/* host:port's port, or NULL */
};

struct sshlogins {
	struct sshlogin *v;
	size_t n;
};

/*
 * Add the logins of spec (several, split at commas; ",," is a comma) to
 * l, with ssh (--ssh, or NULL) as the command of those that give none:
 * 0, or CCMAP_EUSAGE with one line naming the login in err.
 */
int sshlogin_parse(struct sshlogins *l, const char *spec, const char *ssh,
    char *err, size_t errlen);
/*
 * Add the logins of a --sshloginfile: one a line, blank lines and lines
 * starting with '#' ignored.  0, or CCMAP_EUSAGE / -errno with err.
 */
int sshlogin_file(struct sshlogins *l, const char *path, const char *ssh,
    char *err, size_t errlen);
void sshlogin_free(struct sshlogins *l);

#endif
