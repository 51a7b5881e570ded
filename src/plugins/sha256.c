/*
 * sha256: each item is a file path; prints "HEX  PATH" exactly as
 * `sha256sum PATH` does, including its escape for names that hold a
 * backslash, a newline or a carriage return (the line then starts with a
 * backslash, and those bytes are written \\, \n, \r).
 *
 *	ccmap --so sha256 ::: FILE...
 *
 * Hashing is OpenSSL's libcrypto (EVP).  Each worker has its own digest
 * context and read buffer.
 */
#include <ccmap/plugin.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "noargs.h"

#define SHA_BUFSIZE (128 * 1024)

struct sha_worker {
	EVP_MD_CTX *ctx;
	EVP_MD *md;		/* fetched (OpenSSL 3), else NULL */
	unsigned char buf[SHA_BUFSIZE];
};

static int
sha_worker_init(const struct ccmap_host *host, void *state, void **wstate,
    char *err, size_t errlen)
{
	struct sha_worker *w;

	(void)host;
	(void)state;
	w = malloc(sizeof *w);
	if (w == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	w->md = NULL;
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
	w->md = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (w->md == NULL) {
		snprintf(err, errlen, "libcrypto has no SHA256");
		free(w);
		return -1;
	}
#endif
	w->ctx = EVP_MD_CTX_new();
	if (w->ctx == NULL) {
		snprintf(err, errlen, "cannot allocate a digest");
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
		EVP_MD_free(w->md);
#endif
		free(w);
		return -1;
	}
	*wstate = w;
	return 0;
}

static void
sha_worker_fini(const struct ccmap_host *host, void *wstate)
{
	struct sha_worker *w = wstate;

	(void)host;
	if (w == NULL)
		return;
	EVP_MD_CTX_free(w->ctx);
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
	EVP_MD_free(w->md);
#endif
	free(w);
}

static const EVP_MD *
sha_md(const struct sha_worker *w)
{
	return w->md != NULL ? w->md : EVP_sha256();
}

/* The digest of fd into md (32 bytes); 0, or -1 with errno or err set. */
static int
sha_file(const struct ccmap_host *host, struct ccmap_call *call,
    struct sha_worker *w, int fd, unsigned char *md, const char **why)
{
	unsigned int mdlen;
	ssize_t n;

	*why = NULL;
	if (EVP_DigestInit_ex(w->ctx, sha_md(w), NULL) != 1) {
		*why = "EVP_DigestInit_ex failed";
		return -1;
	}
	for (;;) {
		if (host->expired(call)) {
			*why = "timed out";
			return -1;
		}
		n = read(fd, w->buf, sizeof w->buf);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			break;
		if (EVP_DigestUpdate(w->ctx, w->buf, (size_t)n) != 1) {
			*why = "EVP_DigestUpdate failed";
			return -1;
		}
	}
	if (EVP_DigestFinal_ex(w->ctx, md, &mdlen) != 1 || mdlen != 32) {
		*why = "EVP_DigestFinal_ex failed";
		return -1;
	}
	return 0;
}

static int
sha_map(const struct ccmap_host *host, struct ccmap_call *call, void *wstate,
    const char *item, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	struct sha_worker *w = wstate;
	unsigned char md[EVP_MAX_MD_SIZE];
	const char *why;
	char *path, *line, *p;
	int fd, escape = 0, ret = 1;
	size_t i;

	if (w == NULL) {
		host->error(call, "sha256: no worker state");
		return 1;
	}
	if (len == 0 || memchr(item, '\0', len) != NULL) {
		host->error(call, "sha256: '%.*s': not a file name", (int)len,
		    item);
		return 1;
	}
	/* path, then the output line: "\" 64 hex, 2 blanks, escaped path. */
	path = malloc(len + 1 + 1 + 64 + 2 + 2 * len + 1);
	if (path == NULL) {
		host->error(call, "sha256: %s", strerror(errno));
		return 1;
	}
	memcpy(path, item, len);
	path[len] = '\0';
	line = path + len + 1;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		host->error(call, "sha256: %s: %s", path, strerror(errno));
		goto done;
	}
	if (sha_file(host, call, w, fd, md, &why) != 0) {
		host->error(call, "sha256: %s: %s", path,
		    why != NULL ? why : strerror(errno));
		goto done;
	}

	for (i = 0; i < len; i++)
		if (item[i] == '\\' || item[i] == '\n' || item[i] == '\r')
			escape = 1;
	p = line;
	if (escape)
		*p++ = '\\';
	for (i = 0; i < 32; i++) {
		*p++ = hex[md[i] >> 4];
		*p++ = hex[md[i] & 0xf];
	}
	*p++ = ' ';
	*p++ = ' ';
	for (i = 0; i < len; i++) {
		switch (item[i]) {
		case '\\': *p++ = '\\'; *p++ = '\\'; break;
		case '\n': *p++ = '\\'; *p++ = 'n'; break;
		case '\r': *p++ = '\\'; *p++ = 'r'; break;
		default: *p++ = item[i]; break;
		}
	}
	*p++ = '\n';
	if (host->write(call, 1, line, (size_t)(p - line)) != 0) {
		host->error(call, "sha256: cannot write the output");
		goto done;
	}
	ret = 0;
done:
	if (fd >= 0)
		(void)close(fd);
	free(path);
	return ret;
}

const struct ccmap_plugin ccmap_plugin = {
	.abi = CCMAP_PLUGIN_ABI,
	.flags = CCMAP_PLUGIN_THREADSAFE,
	.name = "sha256",
	.init = noargs_init,
	.worker_init = sha_worker_init,
	.map = sha_map,
	.worker_fini = sha_worker_fini,
};
