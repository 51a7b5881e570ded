/*
 * proto.c: encoding and decoding of frames (see proto.h).
 */
#include <errno.h>
#include <string.h>
#include <sys/uio.h>

#include "util.h"
#include "proto.h"

void
proto_put_hdr(struct strbuf *out, uint32_t type, uint32_t len, uint64_t seq)
{
	struct frame_hdr h = { type, len, seq };

	strbuf_add(out, &h, sizeof h);
}

void
proto_put_job(struct strbuf *out, uint64_t seq, const struct value *v,
    size_t n)
{
	size_t len = sizeof(uint32_t);
	uint32_t u;

	for (size_t i = 0; i < n; i++)
		len += sizeof(uint32_t) + v[i].len;
	proto_put_hdr(out, FRAME_JOB, (uint32_t)len, seq);
	u = (uint32_t)n;
	strbuf_add(out, &u, sizeof u);
	for (size_t i = 0; i < n; i++) {
		u = (uint32_t)v[i].len;
		strbuf_add(out, &u, sizeof u);
		strbuf_add(out, v[i].p, v[i].len);
	}
}

void
proto_put_done(struct strbuf *out, uint64_t seq, const struct job_status *st)
{
	int32_t w[4] = { st->code, st->sig, st->err, st->timed_out };
	int64_t t[3] = { st->start_ns, st->run_ns, st->out_bytes };

	proto_put_hdr(out, FRAME_DONE, sizeof w + sizeof t, seq);
	strbuf_add(out, w, sizeof w);
	strbuf_add(out, t, sizeof t);
}

long
proto_parse(const char *buf, size_t len, struct frame *f)
{
	if (len < sizeof f->h)
		return 0;
	memcpy(&f->h, buf, sizeof f->h);
	if (f->h.type < FRAME_JOB || f->h.type > FRAME_LAST ||
	    f->h.len > FRAME_MAX)
		return -EPROTO;
	if (len - sizeof f->h < f->h.len)
		return 0;
	f->payload = buf + sizeof f->h;
	return (long)(sizeof f->h + f->h.len);
}

long
proto_parse_any(const char *buf, size_t len, struct frame *f)
{
	if (len < sizeof f->h)
		return 0;
	memcpy(&f->h, buf, sizeof f->h);
	if (f->h.type == 0) {	/* a frame already used: skip it */
		if (len - sizeof f->h < f->h.len)
			return 0;
		f->payload = buf + sizeof f->h;
		return (long)(sizeof f->h + f->h.len);
	}
	return proto_parse(buf, len, f);
}

int
proto_job_values(const struct frame *f, struct value **v, size_t *n,
    size_t *cap)
{
	const char *p = f->payload, *end = p + f->h.len;
	uint32_t count, len;

	if (f->h.type != FRAME_JOB || end - p < 4)
		return -EPROTO;
	memcpy(&count, p, 4);
	p += 4;
	if (count > (size_t)(end - p) / 4)
		return -EPROTO;
	if (count > *cap) {
		*cap = count;
		*v = util_realloc(*v, count * sizeof **v);
	}
	for (uint32_t i = 0; i < count; i++) {
		if (end - p < 4)
			return -EPROTO;
		memcpy(&len, p, 4);
		p += 4;
		if ((size_t)(end - p) < len)
			return -EPROTO;
		(*v)[i].p = p;
		(*v)[i].len = len;
		p += len;
	}
	*n = count;
	return p == end ? 0 : -EPROTO;
}

int
proto_done_status(const struct frame *f, struct job_status *st)
{
	int32_t w[4];
	int64_t t[3];

	if (f->h.type == FRAME_BDONE ? f->h.len != sizeof w + sizeof t + 24 :
	    f->h.type != FRAME_DONE || f->h.len != sizeof w + sizeof t)
		return -EPROTO;
	memcpy(w, f->payload, sizeof w);
	memcpy(t, f->payload + sizeof w, sizeof t);
	st->start_ns = t[0];
	st->run_ns = t[1];
	st->out_bytes = t[2];
	st->code = w[0];
	st->sig = w[1];
	st->err = w[2];
	st->timed_out = w[3];
	return 0;
}

void
proto_put_hello(struct strbuf *out)
{
	uint32_t w[2] = { PROTO_ORDER, PROTO_VERSION };

	proto_put_hdr(out, FRAME_HELLO, PROTO_HELLO_LEN, 0);
	strbuf_add(out, PROTO_MAGIC, sizeof PROTO_MAGIC - 1);
	strbuf_add(out, w, sizeof w);
}

int
proto_hello(const struct frame *f, uint32_t *version, uint32_t *order)
{
	const size_t m = sizeof PROTO_MAGIC - 1;

	if (f->h.type != FRAME_HELLO || f->h.len < PROTO_HELLO_LEN ||
	    memcmp(f->payload, PROTO_MAGIC, m))
		return -EPROTO;
	memcpy(order, f->payload + m, 4);
	memcpy(version, f->payload + m + 4, 4);
	return *order == PROTO_ORDER && *version == PROTO_VERSION ? 0 :
	    -EPROTONOSUPPORT;
}

int
proto_write(int fd, uint32_t type, uint64_t seq, const void *a, size_t alen,
    const void *b, size_t blen)
{
	struct frame_hdr h = { type, (uint32_t)(alen + blen), seq };
	struct iovec iov[3] = {
		{ &h, sizeof h }, { (void *)a, alen }, { (void *)b, blen },
	};
	struct iovec *v = iov;
	int n = 3;

	while (n) {
		ssize_t w = writev(fd, v, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		/* (What went: past whole pieces, then into one.) */
		while (n && (size_t)w >= v->iov_len) {
			w -= (ssize_t)v->iov_len;
			v++;
			n--;
		}
		if (n) {
			v->iov_base = (char *)v->iov_base + w;
			v->iov_len -= (size_t)w;
		}
	}
	return 0;
}
