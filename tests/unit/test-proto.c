/* Unit tests for src/proto.[ch]: the worker protocol's frames. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "strbuf.h"
#include "task.h"

TEST_IMPL(proto_job_round_trip)
{
	struct value in[4] = {
		{ "first", 5 }, { "", 0 }, { "bin\0ary\n", 8 }, { "x", 1 },
	};
	struct strbuf b = STRBUF_INIT;
	struct frame f;
	struct value *out = NULL;
	size_t n = 0, cap = 0;
	long len;

	proto_put_job(&b, 0x123456789abcULL, in, 4);
	len = proto_parse(b.buf, b.len, &f);
	ASSERT_EQ(len, (long)b.len);
	ASSERT_EQ(f.h.type, FRAME_JOB);
	ASSERT_EQ(f.h.seq, 0x123456789abcULL);
	ASSERT_EQ(f.h.len, b.len - sizeof(struct frame_hdr));
	ASSERT(f.payload == b.buf + sizeof(struct frame_hdr));
	ASSERT_OK(proto_job_values(&f, &out, &n, &cap));
	ASSERT_EQ(n, 4);
	ASSERT_GE(cap, 4);
	for (size_t i = 0; i < 4; i++)
		ASSERT_MEM_EQ(out[i].p, out[i].len, in[i].p, in[i].len);

	/* A second decode reuses the array; fewer values is fine. */
	strbuf_reset(&b);
	proto_put_job(&b, 2, in, 1);
	ASSERT_EQ(proto_parse(b.buf, b.len, &f), (long)b.len);
	ASSERT_OK(proto_job_values(&f, &out, &n, &cap));
	ASSERT_EQ(n, 1);
	ASSERT_MEM_EQ(out[0].p, out[0].len, "first", 5);

	/* No values at all. */
	strbuf_reset(&b);
	proto_put_job(&b, 3, NULL, 0);
	ASSERT_EQ(proto_parse(b.buf, b.len, &f), (long)b.len);
	ASSERT_OK(proto_job_values(&f, &out, &n, &cap));
	ASSERT_EQ(n, 0);

	free(out);
	strbuf_release(&b);
	return 0;
}

TEST_IMPL(proto_done_round_trip)
{
	struct job_status in[] = {
		{ .code = 0 }, { .code = 127, .err = ENOENT },
		{ .sig = 9 }, { .code = -1, .sig = 255, .err = 1 << 30 },
		{ .code = 3, .start_ns = 1795315390057000001LL,
		    .run_ns = 2055123456LL },
		{ .out_bytes = 5000000000LL },
	};
	struct strbuf b = STRBUF_INIT;
	size_t off = 0;

	/* Several frames in one buffer, parsed one after the other. */
	for (size_t i = 0; i < sizeof in / sizeof in[0]; i++)
		proto_put_done(&b, 100 + i, &in[i]);
	for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
		struct frame f;
		struct job_status st = { .code = 77, .sig = 77, .err = 77,
		    .timed_out = 77, .out_bytes = 77 };
		long len = proto_parse(b.buf + off, b.len - off, &f);

		ASSERT_EQ(len, (long)(sizeof(struct frame_hdr) + 40));
		ASSERT_EQ(f.h.type, FRAME_DONE);
		ASSERT_EQ(f.h.seq, 100 + i);
		ASSERT_OK(proto_done_status(&f, &st));
		ASSERT_EQ(st.code, in[i].code);
		ASSERT_EQ(st.sig, in[i].sig);
		ASSERT_EQ(st.err, in[i].err);
		ASSERT_EQ(st.start_ns, in[i].start_ns);
		ASSERT_EQ(st.run_ns, in[i].run_ns);
		ASSERT_EQ(st.out_bytes, in[i].out_bytes);
		off += (size_t)len;
	}
	ASSERT_EQ(off, b.len);
	strbuf_release(&b);
	return 0;
}

TEST_IMPL(proto_out_err_frames)
{
	struct strbuf b = STRBUF_INIT;
	struct frame f;

	proto_put_hdr(&b, FRAME_OUT, 3, 5);
	strbuf_add(&b, "abc", 3);
	proto_put_hdr(&b, FRAME_ERR, 0, 6);
	ASSERT_EQ(proto_parse(b.buf, b.len, &f), 16 + 3);
	ASSERT_EQ(f.h.type, FRAME_OUT);
	ASSERT_MEM_EQ(f.payload, f.h.len, "abc", 3);
	ASSERT_EQ(proto_parse(b.buf + 19, b.len - 19, &f), 16);
	ASSERT_EQ(f.h.type, FRAME_ERR);
	ASSERT_EQ(f.h.len, 0);
	ASSERT_EQ(f.h.seq, 6);
	/* They are neither JOB nor DONE frames. */
	{
		struct value *v = NULL;
		size_t n = 0, cap = 0;
		struct job_status st;

		ASSERT_EQ(proto_job_values(&f, &v, &n, &cap), -EPROTO);
		ASSERT_EQ(proto_done_status(&f, &st), -EPROTO);
		free(v);
	}
	strbuf_release(&b);
	return 0;
}

TEST_IMPL(proto_partial)
{
	struct value in[2] = { { "hello", 5 }, { "world!", 6 } };
	struct job_status st = { .code = 1 };
	struct strbuf b = STRBUF_INIT;
	struct frame f;
	size_t first;

	proto_put_job(&b, 1, in, 2);
	first = b.len;
	proto_put_done(&b, 2, &st);
	/* Every proper prefix of a frame needs more bytes. */
	for (size_t k = 0; k < first; k++)
		if (proto_parse(b.buf, k, &f) != 0)
			FAIL("prefix of %zu bytes did not return 0", k);
	ASSERT_EQ(proto_parse(b.buf, first, &f), (long)first);
	/* The frame after it, likewise. */
	for (size_t k = 0; k < b.len - first; k++)
		ASSERT_EQ(proto_parse(b.buf + first, k, &f), 0);
	ASSERT_EQ(proto_parse(b.buf + first, b.len - first, &f),
		  (long)(b.len - first));
	strbuf_release(&b);
	return 0;
}

TEST_IMPL(proto_corrupt_header)
{
	struct strbuf b = STRBUF_INIT;
	struct frame f;

	proto_put_hdr(&b, 0, 0, 1);
	ASSERT_EQ(proto_parse(b.buf, b.len, &f), -EPROTO);
	strbuf_reset(&b);
	proto_put_hdr(&b, FRAME_LAST + 1, 0, 1);
	ASSERT_EQ(proto_parse(b.buf, b.len, &f), -EPROTO);
	strbuf_reset(&b);
	proto_put_hdr(&b, 0xffffffffu, 12, 1);
	ASSERT_EQ(proto_parse(b.buf, b.len, &f), -EPROTO);
	/* Too long a payload is refused from the header alone. */
	strbuf_reset(&b);
	proto_put_hdr(&b, FRAME_OUT, FRAME_MAX + 1, 1);
	ASSERT_EQ(proto_parse(b.buf, b.len, &f), -EPROTO);
	/* FRAME_MAX itself is allowed: just not complete yet. */
	strbuf_reset(&b);
	proto_put_hdr(&b, FRAME_OUT, FRAME_MAX, 1);
	ASSERT_EQ(proto_parse(b.buf, b.len, &f), 0);
	strbuf_release(&b);
	return 0;
}

TEST_IMPL(proto_corrupt_payload)
{
	struct strbuf b = STRBUF_INIT;
	struct value *v = NULL;
	size_t n = 0, cap = 0;
	struct frame f;
	uint32_t u;
	int32_t w[3] = { 0, 0, 0 };
	struct job_status st;

	/* A JOB frame whose count promises more values than there are. */
	proto_put_hdr(&b, FRAME_JOB, 8, 1);
	u = 5;
	strbuf_add(&b, &u, 4);
	u = 0;
	strbuf_add(&b, &u, 4);
	ASSERT_GT(proto_parse(b.buf, b.len, &f), 0);
	ASSERT_EQ(proto_job_values(&f, &v, &n, &cap), -EPROTO);

	/* A value longer than the payload. */
	strbuf_reset(&b);
	proto_put_hdr(&b, FRAME_JOB, 10, 1);
	u = 1;
	strbuf_add(&b, &u, 4);
	u = 100;
	strbuf_add(&b, &u, 4);
	strbuf_add(&b, "ab", 2);
	ASSERT_GT(proto_parse(b.buf, b.len, &f), 0);
	ASSERT_EQ(proto_job_values(&f, &v, &n, &cap), -EPROTO);

	/* Trailing bytes after the last value. */
	strbuf_reset(&b);
	proto_put_hdr(&b, FRAME_JOB, 11, 1);
	u = 1;
	strbuf_add(&b, &u, 4);
	u = 2;
	strbuf_add(&b, &u, 4);
	strbuf_add(&b, "abX", 3);
	ASSERT_GT(proto_parse(b.buf, b.len, &f), 0);
	ASSERT_EQ(proto_job_values(&f, &v, &n, &cap), -EPROTO);

	/* A payload too short for its count. */
	strbuf_reset(&b);
	proto_put_hdr(&b, FRAME_JOB, 2, 1);
	strbuf_add(&b, "\1\0", 2);
	ASSERT_GT(proto_parse(b.buf, b.len, &f), 0);
	ASSERT_EQ(proto_job_values(&f, &v, &n, &cap), -EPROTO);

	/* A DONE frame of the wrong size. */
	strbuf_reset(&b);
	proto_put_hdr(&b, FRAME_DONE, 8, 1);
	strbuf_add(&b, w, 8);
	ASSERT_GT(proto_parse(b.buf, b.len, &f), 0);
	ASSERT_EQ(proto_done_status(&f, &st), -EPROTO);

	free(v);
	strbuf_release(&b);
	return 0;
}

TEST_IMPL(proto_hello_versions)
{
	struct strbuf b = STRBUF_INIT;
	uint32_t version = 0, order = 0, v99[2] = { PROTO_ORDER, 99 };
	struct frame f;

	proto_put_hello(&b);
	ASSERT_EQ(proto_parse(b.buf, b.len, &f), (long)b.len);
	ASSERT_EQ(proto_hello(&f, &version, &order), 0);
	ASSERT_EQ(version, PROTO_VERSION);
	/* Another version: refused, and told which. */
	memcpy(b.buf + sizeof f.h + sizeof PROTO_MAGIC - 1, v99, sizeof v99);
	ASSERT_EQ(proto_hello(&f, &version, &order), -EPROTONOSUPPORT);
	ASSERT_EQ(version, 99);
	ASSERT_EQ(order, PROTO_ORDER);
	/* Not a worker's at all. */
	b.buf[sizeof f.h] = 'X';
	ASSERT_EQ(proto_hello(&f, &version, &order), -EPROTO);
	strbuf_release(&b);
	return 0;
}
