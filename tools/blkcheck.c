/* SPDX-License-Identifier: MIT */
/*
 * tools/blkcheck.c - a block workload that checks itself, for `pvio
 * migrate-demo` and the migration tests: random reads and writes through
 * pvio's block front end while the front end moves between devices, with
 * a model of what every block must hold.
 *
 * The region is cut into chunks (4 KiB by default).  Every write gives each
 * chunk it covers a new generation number, unique in the run, and fills it
 * with a header (magic, run id, LBA, generation) and a pattern derived from
 * them, so a chunk read back says which write it came from: a lost write
 * shows up as an older generation, a misplaced one as the wrong LBA.  The
 * model keeps, per chunk, the generation of the last write that completed
 * successfully (0 = never written: zeros, so the region must start out
 * zeroed - a fresh sparse image).  Two requests never overlap while a write
 * is among them, so what a chunk must hold is always known: a read must
 * find the model's generation, and at a quiet point the whole region -
 * read from the image file directly, or through the front end - must match
 * the model chunk for chunk.
 *
 * A write that completes with an error leaves its chunks uncertain (old or
 * new generation); the next look at them settles which.  A completion for
 * a request that is not in flight (twice, or never made) is counted and
 * fails the check.  Half the request slots use buffers from
 * pvio_dma_alloc() (zero-copy), half ordinary memory (bounced), so both
 * paths move with the front end.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pvio/blk.h>

#include "tools/pvio.h"

#define BC_MAGIC 0x50564f43484b424cull /* "LBKHCOVP" little-endian */
#define BC_MAX_DEPTH 256u
#define BC_POLL_BATCH 64u
/* a device that answers nothing for this long is reported */
#define BC_STALL_NS 20000000000ull
/* reap(): a check failed (distinct from counts and -errno of calls) */
#define BC_BAD (-100000)

struct bc_slot {
	bool busy;
	bool write;
	uint64_t first;     /* first chunk */
	uint32_t n;         /* chunks */
	uint64_t gen;       /* writes: the generation written */
	uint8_t *buf;
	bool dma;
};

struct tool_blkcheck {
	pvio_blk *blk;
	pvio_ctx *ctx;      /* outlives blk: the buffers are freed after it */
	struct tool_blkcheck_opts o;
	uint64_t nchunks;
	uint64_t run;
	uint64_t rng;
	uint64_t next_gen;
	uint64_t *gen;      /* per chunk: last successful write */
	uint64_t *alt;      /* per chunk: a failed write that may have landed */
	uint8_t *wbusy;     /* per chunk: a write in flight */
	uint16_t *rbusy;    /* per chunk: reads in flight */
	struct bc_slot slot[BC_MAX_DEPTH];
	uint32_t inflight;
	uint32_t unsubmitted;
	struct tool_blkcheck_stats st;
	char detail[256];
	uint8_t *expect;    /* one chunk */
};

static void note(struct tool_blkcheck *b, const char *fmt, ...) TOOL_PRINTF(2, 3);
static void note(struct tool_blkcheck *b, const char *fmt, ...)
{
	if (b->detail[0])
		return; /* keep the first */
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(b->detail, sizeof(b->detail), fmt, ap);
	va_end(ap);
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint64_t lba_of(const struct tool_blkcheck *b, uint64_t c)
{
	return (b->o.offset + c * b->o.chunk) / 512;
}

/* Chunk c as generation gen wrote it (gen 0: zeros). */
static void fill(const struct tool_blkcheck *b, uint8_t *d, uint64_t c,
		 uint64_t gen)
{
	uint32_t len = b->o.chunk;
	if (!gen) {
		memset(d, 0, len);
		return;
	}
	put64(d, BC_MAGIC);
	put64(d + 8, b->run);
	put64(d + 16, lba_of(b, c));
	put64(d + 24, gen);
	uint64_t st = (gen * 0x9E3779B97F4A7C15ull) ^ (lba_of(b, c) << 1) ^ b->run;
	if (!st)
		st = 1;
	for (uint32_t i = 32; i < len; i += 8)
		put64(d + i, tool_rand(&st));
}

/* What a chunk that does not match holds, in words. */
static void describe(const struct tool_blkcheck *b, const uint8_t *d,
		     char *out, size_t n)
{
	bool zero = true;
	for (uint32_t i = 0; i < b->o.chunk && zero; i++)
		zero = !d[i];
	if (zero)
		snprintf(out, n, "zeros (never written)");
	else if (get64(d) != BC_MAGIC || get64(d + 8) != b->run)
		snprintf(out, n, "bytes no write of this run made");
	else
		snprintf(out, n, "generation %" PRIu64 " of LBA %" PRIu64,
			 get64(d + 24), get64(d + 16));
}

/* Check chunk c's content d against the model; settle uncertain chunks.
 * true if it matches. */
static bool check_chunk(struct tool_blkcheck *b, uint64_t c, const uint8_t *d,
			const char *where)
{
	b->st.chunks_checked++;
	fill(b, b->expect, c, b->gen[c]);
	if (!memcmp(d, b->expect, b->o.chunk)) {
		b->alt[c] = 0;
		return true;
	}
	if (b->alt[c]) {
		fill(b, b->expect, c, b->alt[c]);
		if (!memcmp(d, b->expect, b->o.chunk)) {
			b->gen[c] = b->alt[c]; /* the failed write did land */
			b->alt[c] = 0;
			return true;
		}
	}
	char what[96];
	describe(b, d, what, sizeof(what));
	b->st.corrupt++;
	note(b, "%s: LBA %" PRIu64 " (byte %" PRIu64 ") should hold "
		"generation %" PRIu64 " but holds %s",
	     where, lba_of(b, c), b->o.offset + c * b->o.chunk, b->gen[c], what);
	return false;
}

int tool_blkcheck_new(pvio_blk *blk, const struct tool_blkcheck_opts *o,
		      struct tool_blkcheck **out, char *err, size_t errlen)
{
	struct pvio_blk_info info = { .struct_size = sizeof(info) };
	pvio_ctx *ctx = pvio_blk_ctx(blk);
	*out = NULL;
	int r = pvio_blk_get_info(blk, &info);
	if (r < 0) {
		snprintf(err, errlen, "%s", pvio_errmsg(ctx));
		return r;
	}
	struct tool_blkcheck *b = calloc(1, sizeof(*b));
	if (!b) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	b->blk = blk;
	b->ctx = ctx;
	b->o = *o;
	if (!b->o.chunk)
		b->o.chunk = 4096;
	if (!b->o.max_chunks)
		b->o.max_chunks = 16;
	if (!b->o.depth)
		b->o.depth = 32;
	if (b->o.depth > BC_MAX_DEPTH)
		b->o.depth = BC_MAX_DEPTH;
	if (info.queue_depth && b->o.depth > info.queue_depth)
		b->o.depth = info.queue_depth;
	if (!b->o.size)
		b->o.size = info.capacity - b->o.offset;
	if (b->o.chunk % info.block_size || b->o.chunk < 64 ||
	    b->o.offset % b->o.chunk || b->o.size < b->o.chunk ||
	    b->o.offset > info.capacity ||
	    b->o.size > info.capacity - b->o.offset) {
		snprintf(err, errlen, "the checked region (%" PRIu64 " bytes at "
				      "%" PRIu64 ", %u-byte chunks) does not fit "
				      "the %" PRIu64 "-byte device with %u-byte "
				      "blocks",
			 b->o.size, b->o.offset, b->o.chunk, info.capacity,
			 info.block_size);
		free(b);
		return -EINVAL;
	}
	b->nchunks = b->o.size / b->o.chunk;
	if (b->o.max_chunks > b->nchunks)
		b->o.max_chunks = (uint32_t)b->nchunks;
	b->rng = b->o.seed ? b->o.seed : tool_seed();
	b->run = tool_rand(&b->rng) | 1;
	b->gen = calloc(b->nchunks, sizeof(*b->gen));
	b->alt = calloc(b->nchunks, sizeof(*b->alt));
	b->wbusy = calloc(b->nchunks, 1);
	b->rbusy = calloc(b->nchunks, sizeof(*b->rbusy));
	b->expect = malloc(b->o.chunk);
	if (!b->gen || !b->alt || !b->wbusy || !b->rbusy || !b->expect) {
		snprintf(err, errlen, "out of memory for a model of %" PRIu64
				      " chunks",
			 b->nchunks);
		tool_blkcheck_free(b);
		return -ENOMEM;
	}
	size_t bytes = (size_t)b->o.max_chunks * b->o.chunk;
	for (uint32_t i = 0; i < b->o.depth; i++) {
		struct bc_slot *s = &b->slot[i];
		s->dma = i % 2 == 0;
		s->buf = s->dma ? pvio_dma_alloc(ctx, bytes, 4096)
				: aligned_alloc(4096, bytes);
		if (!s->buf) {
			snprintf(err, errlen, "cannot allocate %u buffers of %zu "
					      "bytes",
				 b->o.depth, bytes);
			tool_blkcheck_free(b);
			return -ENOMEM;
		}
	}
	*out = b;
	return 0;
}

void tool_blkcheck_free(struct tool_blkcheck *b)
{
	if (!b)
		return;
	for (uint32_t i = 0; i < BC_MAX_DEPTH; i++) {
		struct bc_slot *s = &b->slot[i];
		if (!s->buf)
			continue;
		if (s->dma)
			pvio_dma_free(b->ctx, s->buf);
		else
			free(s->buf);
	}
	free(b->gen);
	free(b->alt);
	free(b->wbusy);
	free(b->rbusy);
	free(b->expect);
	free(b);
}

const struct tool_blkcheck_stats *tool_blkcheck_stats(const struct tool_blkcheck *b)
{
	return &b->st;
}

const char *tool_blkcheck_detail(const struct tool_blkcheck *b)
{
	return b->detail;
}

uint32_t tool_blkcheck_inflight(const struct tool_blkcheck *b)
{
	return b->inflight;
}

/* Can [first, first+n) take a write (no other request) / a read (no
 * write)? */
static bool range_free(const struct tool_blkcheck *b, uint64_t first,
		       uint32_t n, bool write)
{
	for (uint32_t i = 0; i < n; i++) {
		if (b->wbusy[first + i])
			return false;
		if (write && b->rbusy[first + i])
			return false;
	}
	return true;
}

/* Start a random request in slot s: 1 if made, 0 if nothing free was
 * found this time, -errno. */
static int issue(struct tool_blkcheck *b, struct bc_slot *s)
{
	bool write = tool_rand(&b->rng) % 100 >= b->o.read_pct;
	uint32_t n = 0;
	uint64_t first = 0;
	bool found = false;
	for (int tries = 0; tries < 8 && !found; tries++) {
		n = 1 + (uint32_t)(tool_rand(&b->rng) % b->o.max_chunks);
		first = tool_rand(&b->rng) % (b->nchunks - n + 1);
		found = range_free(b, first, n, write);
	}
	if (!found)
		return 0;
	uint64_t off = b->o.offset + first * b->o.chunk;
	size_t len = (size_t)n * b->o.chunk;
	int r;
	if (write) {
		uint64_t g = ++b->next_gen;
		for (uint32_t i = 0; i < n; i++)
			fill(b, s->buf + (size_t)i * b->o.chunk, first + i, g);
		s->gen = g;
		r = pvio_blk_write(b->blk, 0, off, s->buf, len, s, 0);
	} else {
		memset(s->buf, 0xEE, len);
		r = pvio_blk_read(b->blk, 0, off, s->buf, len, s, 0);
	}
	if (r == -EAGAIN)
		return 0;
	if (r < 0)
		return r;
	s->busy = true;
	s->write = write;
	s->first = first;
	s->n = n;
	for (uint32_t i = 0; i < n; i++) {
		if (write)
			b->wbusy[first + i] = 1;
		else
			b->rbusy[first + i]++;
	}
	b->inflight++;
	b->unsubmitted++;
	return 1;
}

/* A read of the whole region in order (verify through the device). */
static int issue_seq(struct tool_blkcheck *b, struct bc_slot *s,
		     uint64_t *next)
{
	if (*next >= b->nchunks)
		return 0;
	uint32_t n = (uint32_t)(b->nchunks - *next < b->o.max_chunks
					? b->nchunks - *next
					: b->o.max_chunks);
	memset(s->buf, 0xEE, (size_t)n * b->o.chunk);
	int r = pvio_blk_read(b->blk, 0, b->o.offset + *next * b->o.chunk,
			      s->buf, (size_t)n * b->o.chunk, s, 0);
	if (r == -EAGAIN)
		return 0;
	if (r < 0)
		return r;
	s->busy = true;
	s->write = false;
	s->first = *next;
	s->n = n;
	for (uint32_t i = 0; i < n; i++)
		b->rbusy[s->first + i]++;
	*next += n;
	b->inflight++;
	b->unsubmitted++;
	return 1;
}

static int complete(struct tool_blkcheck *b, const struct pvio_blk_completion *c)
{
	struct bc_slot *s = c->cookie;
	if (s < b->slot || s >= b->slot + BC_MAX_DEPTH ||
	    (size_t)((const char *)s - (const char *)b->slot) % sizeof(*s) ||
	    !s->busy) {
		b->st.twice++;
		note(b, "a completion came for a request that is not in "
			"flight (completed twice, or never made)");
		return TOOL_VERIFY;
	}
	s->busy = false;
	b->inflight--;
	size_t len = (size_t)s->n * b->o.chunk;
	if (c->ret < 0) {
		b->st.failed++;
		if (!b->st.first_error)
			b->st.first_error = c->ret;
		note(b, "a %s of %zu bytes at %" PRIu64 " failed: %s",
		     s->write ? "write" : "read", len,
		     b->o.offset + s->first * b->o.chunk, strerror(-c->ret));
	}
	for (uint32_t i = 0; i < s->n; i++) {
		uint64_t ch = s->first + i;
		if (s->write) {
			b->wbusy[ch] = 0;
			if (c->ret == 0) {
				b->gen[ch] = s->gen;
				b->alt[ch] = 0;
			} else {
				b->alt[ch] = s->gen;
			}
		} else {
			b->rbusy[ch]--;
			if (c->ret == 0 &&
			    !check_chunk(b, ch, s->buf + (size_t)i * b->o.chunk,
					 "read through the front end"))
				return TOOL_VERIFY;
		}
	}
	if (c->ret == 0) {
		if (s->write) {
			b->st.writes++;
			b->st.write_bytes += len;
		} else {
			b->st.reads++;
			b->st.read_bytes += len;
		}
	}
	return TOOL_OK;
}

/* Reap what is there (waiting up to wait_ns for at least one). */
static int reap(struct tool_blkcheck *b, int64_t wait_ns)
{
	struct pvio_blk_completion c[BC_POLL_BATCH];
	if (b->unsubmitted) {
		int r = pvio_blk_submit(b->blk, 0);
		if (r < 0)
			return r;
		b->unsubmitted = 0;
	}
	int n = pvio_blk_poll(b->blk, 0, c, b->inflight ? 1 : 0, BC_POLL_BATCH,
			      b->inflight ? wait_ns : 0);
	if (n < 0)
		return n;
	int bad = 0;
	for (int i = 0; i < n; i++)
		if (complete(b, &c[i]) != TOOL_OK)
			bad = BC_BAD; /* the rest are still taken in */
	return bad ? bad : n;
}

int tool_blkcheck_run(struct tool_blkcheck *b, uint64_t until_ns)
{
	uint64_t last = tool_now_ns();
	for (;;) {
		if (tool_interrupted)
			return -EINTR;
		bool more = tool_now_ns() < until_ns;
		if (more) {
			for (uint32_t i = 0; i < b->o.depth; i++) {
				if (b->slot[i].busy)
					continue;
				int r = issue(b, &b->slot[i]);
				if (r < 0)
					return r;
			}
		}
		if (!more && !b->inflight)
			return TOOL_OK;
		int n = reap(b, more ? (int64_t)(until_ns - tool_now_ns()) + 1
				     : 0);
		if (n == BC_BAD)
			return TOOL_VERIFY;
		if (n < 0)
			return n;
		uint64_t now = tool_now_ns();
		if (n > 0)
			last = now;
		if (!more)
			return TOOL_OK; /* the caller drains when it wants */
		if (b->inflight && now - last > BC_STALL_NS) {
			note(b, "no request completed within %llu s",
			     (unsigned long long)(BC_STALL_NS / 1000000000ull));
			return -ETIMEDOUT;
		}
	}
}

int tool_blkcheck_drain(struct tool_blkcheck *b)
{
	uint64_t last = tool_now_ns();
	while (b->inflight) {
		if (tool_interrupted)
			return -EINTR;
		int n = reap(b, 100000000);
		if (n == BC_BAD)
			return TOOL_VERIFY;
		if (n < 0)
			return n;
		if (n > 0)
			last = tool_now_ns();
		else if (tool_now_ns() - last > BC_STALL_NS) {
			note(b, "%u requests did not complete within %llu s",
			     b->inflight,
			     (unsigned long long)(BC_STALL_NS / 1000000000ull));
			return -ETIMEDOUT;
		}
	}
	return TOOL_OK;
}

int tool_blkcheck_verify_dev(struct tool_blkcheck *b)
{
	int r = tool_blkcheck_drain(b);
	if (r)
		return r;
	uint64_t next = 0;
	uint64_t corrupt0 = b->st.corrupt;
	uint64_t last = tool_now_ns();
	while (next < b->nchunks || b->inflight) {
		if (tool_interrupted)
			return -EINTR;
		for (uint32_t i = 0; i < b->o.depth && next < b->nchunks; i++) {
			if (b->slot[i].busy)
				continue;
			r = issue_seq(b, &b->slot[i], &next);
			if (r < 0)
				return r;
		}
		int n = reap(b, 100000000);
		if (n == BC_BAD) {
			tool_blkcheck_drain(b);
			return TOOL_VERIFY;
		}
		if (n < 0)
			return n;
		if (n > 0)
			last = tool_now_ns();
		else if (tool_now_ns() - last > BC_STALL_NS)
			return -ETIMEDOUT;
	}
	return b->st.corrupt != corrupt0 ? TOOL_VERIFY : TOOL_OK;
}

int tool_blkcheck_verify_file(struct tool_blkcheck *b, const char *image)
{
	if (b->inflight) {
		note(b, "verify_file with %u requests in flight", b->inflight);
		return TOOL_VERIFY;
	}
	int fd = open(image, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		note(b, "cannot open %s: %s", image, strerror(errno));
		return TOOL_FAIL;
	}
	size_t span = (size_t)256 * b->o.chunk;
	uint8_t *buf = malloc(span);
	int ret = TOOL_OK;
	if (!buf) {
		close(fd);
		return TOOL_FAIL;
	}
	for (uint64_t c = 0; c < b->nchunks && ret == TOOL_OK;) {
		uint64_t k = b->nchunks - c < 256 ? b->nchunks - c : 256;
		size_t want = (size_t)k * b->o.chunk, got = 0;
		off_t off = (off_t)(b->o.offset + c * b->o.chunk);
		while (got < want) {
			ssize_t n = pread(fd, buf + got, want - got,
					  off + (off_t)got);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				/* past the end of a sparse file reads zeros */
				memset(buf + got, 0, want - got);
				break;
			}
			got += (size_t)n;
		}
		for (uint64_t i = 0; i < k; i++)
			if (!check_chunk(b, c + i, buf + i * b->o.chunk,
					 "the image file"))
				ret = TOOL_VERIFY;
		c += k;
	}
	free(buf);
	close(fd);
	return ret;
}
