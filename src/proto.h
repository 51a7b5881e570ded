/*
 * proto.h: the framed protocol between ccmap and its worker processes.
 *
 * Every frame is a 16-byte header (type, payload length, job sequence
 * number; in the host's byte order: a remote worker's hello says its
 * order, and a head of another is refused) followed by the payload:
 *
 *	JOB   ccmap -> worker   u32 count, then count times (u32 len, bytes)
 *	OUT   worker -> ccmap   bytes the job wrote to stdout
 *	ERR   worker -> ccmap   bytes the job wrote to stderr
 *	DONE  worker -> ccmap   i32 exit code, i32 signal, i32 start errno,
 *	                        i32 timed out, i64 start (ns since the
 *	                        epoch), i64 run time (ns)
 *
 * and for plugins (see plugpool.h):
 *
 *	CHUNK   ccmap -> worker   items, each ended by the delimiter; the seq
 *	                          field is the first item's number
 *	FLUSH   worker -> ccmap   records wait in half seq of the shared
 *	                          buffer; u64 chunks the worker has finished,
 *	                          u64 ns and u64 items it mapped since the last
 *	ACK     ccmap -> worker   half seq of the shared buffer is free again
 *	RESULT  worker -> ccmap   one record too big for the shared buffer
 *
 * and between ccmap and `ccmap --worker` on a remote host (worker.h):
 *
 *	HELLO   worker -> ccmap   "ccmap-worker", u32 0x01020304 (its byte
 *	                          order), u32 PROTO_VERSION; first, always
 *	                          so, whatever the version
 *	SETUP   ccmap -> worker   u32 slots, i64 --timeout (ns), u32 n, n
 *	                          times (i32 signal, u32 ms) of --termseq,
 *	                          u32 --max-tasks-per-child, u32 count, then
 *	                          count strings (u32 len, bytes): the host's
 *	                          name (CCMAP_HOST), the plugin ("": none),
 *	                          the template of its items' tags ("": none;
 *	                          --tag's is "{}"), -I's string ("": {}), the
 *	                          plugin's arguments
 *	RUN     ccmap -> worker   seq: the job's id on this connection; u64
 *	                          the job's number, u32 slot, u32 len and the
 *	                          command line, u32 len and its working
 *	                          directory, then what it reads on stdin
 *	KILL    ccmap -> worker   seq: the job's id; i32 signal
 *	BATCH   ccmap -> worker   seq: the batch's id; u64 its first item's
 *	                          number, u64 items, u8 their delimiter,
 *	                          then the items, each ended by it
 *	MARK    worker -> ccmap   seq: a batch's id; its output so far is
 *	                          an item's (a group, as output.h says)
 *	BDONE   worker -> ccmap   seq: a batch's id; DONE's payload, then
 *	                          u64 items that ran, u64 that failed, i64
 *	                          ns they took
 *
 * A remote job's OUT, ERR and DONE carry its id.
 */
#ifndef CCMAP_PROTO_H
#define CCMAP_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "job.h"
#include "strbuf.h"
#include "value.h"

enum frame_type {
	FRAME_JOB = 1,
	FRAME_OUT,
	FRAME_ERR,
	FRAME_DONE,
	FRAME_CHUNK,
	FRAME_FLUSH,
	FRAME_ACK,
	FRAME_RESULT,
	FRAME_HELLO,
	FRAME_SETUP,
	FRAME_RUN,
	FRAME_KILL,
	FRAME_BATCH,
	FRAME_MARK,
	FRAME_BDONE,
	FRAME_LAST = FRAME_BDONE
};

/* The remote worker's protocol: a head speaks only to its own version. */
#define PROTO_VERSION 3
#define PROTO_MAGIC "ccmap-worker"
#define PROTO_ORDER 0x01020304u
#define PROTO_HELLO_LEN (sizeof PROTO_MAGIC - 1 + 8)

struct frame_hdr {
	uint32_t type;
	uint32_t len;
	uint64_t seq;
};

#define FRAME_MAX (1u << 30)	/* the largest payload accepted */

/* A parsed frame: its header and payload (pointing into the buffer). */
struct frame {
	struct frame_hdr h;
	const char *payload;
};

/* Append a JOB frame for these values to out. */
void proto_put_job(struct strbuf *out, uint64_t seq, const struct value *v,
    size_t n);
/* Append a DONE frame to out. */
void proto_put_done(struct strbuf *out, uint64_t seq,
    const struct job_status *st);
/* Append a frame header to out. */
void proto_put_hdr(struct strbuf *out, uint32_t type, uint32_t len,
    uint64_t seq);

/*
 * Write a whole frame of type for seq to fd, its payload a then b (either
 * may be empty), in one writev() where the fd takes it: 0, or -errno.
 */
int proto_write(int fd, uint32_t type, uint64_t seq, const void *a,
    size_t alen, const void *b, size_t blen);
/* Append a HELLO frame (this ccmap's) to out. */
void proto_put_hello(struct strbuf *out);
/*
 * Read a HELLO payload: 0 if it is this version's, -EPROTONOSUPPORT
 * with *version and *order (another version, or byte order), or -EPROTO
 * if it is no ccmap worker's.
 */
int proto_hello(const struct frame *f, uint32_t *version, uint32_t *order);

/*
 * Parse the frame at the start of buf: its size, 0 when more bytes are
 * needed, or -EPROTO for a malformed one.
 */
long proto_parse(const char *buf, size_t len, struct frame *f);
/* The same, also taking frames of type 0 (marked used by their reader). */
long proto_parse_any(const char *buf, size_t len, struct frame *f);
/* Decode a JOB payload; the values point into it.  0 or -EPROTO. */
int proto_job_values(const struct frame *f, struct value **v, size_t *n,
    size_t *cap);
/* Decode a DONE payload.  0 or -EPROTO. */
int proto_done_status(const struct frame *f, struct job_status *st);

#endif
