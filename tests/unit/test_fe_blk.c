/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the block front end on the fake back end: splitting to
 * each limit profile with data checked against a model, zero-copy versus
 * bounce, completion orders, backpressure, errors, flush/FUA, discard and
 * write-zeroes, synchronous helpers, the completion fd.
 */
#include <poll.h>

#include "fe_util.h"

#define CAP (8u << 20)

struct env {
	pvio_ctx *ctx;
	struct fake_disk *disk;
	struct fake *f;
	pvio_blk *blk;
	uint8_t *model;
};

static void env_up(struct env *e, const struct pvio_blk_limits *l,
		   enum fake_policy pol, unsigned ring, uint32_t flags,
		   uint32_t depth, uint32_t timeout_ms)
{
	memset(e, 0, sizeof(*e));
	e->ctx = fe_test_ctx(timeout_ms);
	e->disk = fake_disk_new(l->capacity);
	e->model = calloc(1, l->capacity);
	e->f = fake_blk_new(e->ctx, "fake:blk0", l, e->disk);
	e->f->policy = pol;
	e->f->ring = ring;
	struct pvio_blk_opts o = { .struct_size = sizeof(o), .flags = flags,
				   .queue_depth = depth };
	ck_assert_int_eq(pvio_blk_attach(e->f->dev, &o, &e->blk), 0);
}

static void env_down(struct env *e)
{
	/* close flushes after writes: let that flush complete */
	e->f->policy = FAKE_IMMEDIATE;
	pvio_blk_close(e->blk);
	ck_assert(e->f->closed);
	ck_assert_msg(e->f->violations == 0, "contract violation: %s",
		      e->f->violation);
	fake_free(e->f);
	fake_disk_free(e->disk);
	free(e->model);
	pvio_ctx_free(e->ctx);
}

static struct pvio_queue_stats stats(pvio_blk *blk, unsigned q)
{
	struct pvio_queue_stats st;
	ck_assert_int_eq(pvio_blk_get_stats(blk, q, &st), 0);
	return st;
}

START_TEST(basic_rw_info)
{
	struct env e;
	struct pvio_blk_limits l = fake_blk_limits(FAKE_VIRTIO, CAP);
	env_up(&e, &l, FAKE_IMMEDIATE, 0, 0, 0, 0);
	struct pvio_blk_info in = { .struct_size = sizeof(in) };
	ck_assert_int_eq(pvio_blk_get_info(e.blk, &in), 0);
	ck_assert_uint_eq(in.capacity, CAP);
	ck_assert_uint_eq(in.block_size, 512);
	ck_assert_uint_eq(in.queue_depth, 64);
	ck_assert_uint_eq(in.num_queues, 1);
	ck_assert(in.flush && in.discard && in.write_zeroes && !in.read_only);
	ck_assert_ptr_eq(pvio_blk_dev(e.blk), e.f->dev);
	ck_assert_ptr_eq(pvio_blk_ctx(e.blk), e.ctx);

	uint8_t *w = pvio_dma_alloc(e.ctx, 8192, 4096);
	uint8_t r[8192];
	uint64_t s = 7;
	fe_fill(w, 8192, &s);
	ck_assert_int_eq(pvio_blk_pwrite(e.blk, 4096, w, 8192), 0);
	memset(r, 0, sizeof(r));
	ck_assert_int_eq(pvio_blk_pread(e.blk, 4096, r, 8192), 0);
	ck_assert_mem_eq(r, w, 8192);
	ck_assert_mem_eq(e.disk->data + 4096, w, 8192);
	struct pvio_queue_stats st = stats(e.blk, 0);
	ck_assert_uint_eq(st.requests, 2);
	ck_assert_uint_eq(st.bytes, 16384);
	ck_assert_uint_eq(st.errors, 0);
	/* the write was zero-copy, the read into stack memory bounced */
	ck_assert_uint_eq(st.copies, 1);
	ck_assert_uint_eq(st.copy_bytes, 8192);
	ck_assert_uint_ge(st.notify_sent, 2); /* the back end's counter */
	ck_assert_uint_eq(pvio_blk_inflight(e.blk, 0), 0);
	/* an idle poll returns at once */
	struct pvio_blk_completion c[4];
	ck_assert_int_eq(pvio_blk_poll(e.blk, 0, c, 1, 4, -1), 0);
	pvio_dma_free(e.ctx, w);
	env_down(&e);
}
END_TEST

START_TEST(validation)
{
	struct env e;
	struct pvio_blk_limits l = fake_blk_limits(FAKE_STORVSC, CAP);
	env_up(&e, &l, FAKE_HELD, 0, 0, 4, 0);
	uint8_t buf[4096];
	struct pvio_iovec iov[2] = { { buf, 512 }, { buf + 512, 512 } };
	ck_assert_int_eq(pvio_blk_read(e.blk, 0, 100, buf, 512, NULL, 0), -EINVAL);
	ck_assert_ptr_nonnull(strstr(pvio_errmsg(e.ctx), "block size"));
	ck_assert_int_eq(pvio_blk_read(e.blk, 0, 0, buf, 500, NULL, 0), -EINVAL);
	ck_assert_int_eq(pvio_blk_read(e.blk, 0, 0, buf, 0, NULL, 0), -EINVAL);
	ck_assert_int_eq(pvio_blk_read(e.blk, 0, CAP - 512, buf, 1024, NULL, 0),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(pvio_errmsg(e.ctx), "past the end"));
	ck_assert_int_eq(pvio_blk_read(e.blk, 0, UINT64_MAX - 511, buf, 512,
				       NULL, 0), -EINVAL);
	ck_assert_int_eq(pvio_blk_readv(e.blk, 0, 0, iov, 0, NULL, 0), -EINVAL);
	ck_assert_int_eq(pvio_blk_readv(e.blk, 0, 0, iov, 100000, NULL, 0),
			 -EINVAL);
	ck_assert_int_eq(pvio_blk_readv(e.blk, 0, 0, NULL, 1, NULL, 0), -EINVAL);
	ck_assert_int_eq(pvio_blk_read(e.blk, 1, 0, buf, 512, NULL, 0), -EINVAL);
	ck_assert_int_eq(pvio_blk_read(e.blk, 0, 0, buf, 512, NULL, 0x80),
			 -EINVAL);
	/* StorVSC-like: no discard */
	ck_assert_int_eq(pvio_blk_discard(e.blk, 0, 0, 4096, NULL, 0),
			 -EOPNOTSUPP);
	ck_assert_ptr_nonnull(strstr(pvio_errmsg(e.ctx), "discard"));
	/* slots run out: -EAGAIN, and nothing was lost */
	for (unsigned i = 0; i < 4; i++)
		ck_assert_int_eq(pvio_blk_readv(e.blk, 0, i * 1024, iov, 2,
						fe_cookie(i), 0), 0);
	ck_assert_int_eq(pvio_blk_read(e.blk, 0, 0, buf, 512, NULL, 0), -EAGAIN);
	ck_assert_uint_eq(pvio_blk_inflight(e.blk, 0), 4);
	ck_assert_int_eq(pvio_blk_submit(e.blk, 0), 0);
	ck_assert_uint_eq(fake_pending(e.f, 0), 4);
	fake_release(e.f, 0, 4, false);
	struct fe_track *t = calloc(1, sizeof(*t));
	fe_blk_collect(e.blk, 0, t, 4);
	free(t);
	env_down(&e);
}
END_TEST

START_TEST(read_only_and_bad_limits)
{
	pvio_ctx *ctx = fe_test_ctx(0);
	struct fake_disk *d = fake_disk_new(CAP);
	struct pvio_blk_limits l = fake_blk_limits(FAKE_VIRTIO, CAP);
	l.read_only = true;
	struct fake *f = fake_blk_new(ctx, "fake:ro", &l, d);
	pvio_blk *blk;
	ck_assert_int_eq(pvio_blk_attach(f->dev, NULL, &blk), 0);
	uint8_t b[512] = { 0 };
	ck_assert_int_eq(pvio_blk_write(blk, 0, 0, b, 512, NULL, 0), -EROFS);
	ck_assert_int_eq(pvio_blk_write_zeroes(blk, 0, 0, 512, NULL, 0), -EROFS);
	ck_assert_int_eq(pvio_blk_discard(blk, 0, 0, 512, NULL, 0), -EROFS);
	ck_assert_int_eq(pvio_blk_pread(blk, 0, b, 512), 0);
	ck_assert_int_eq(pvio_blk_sync_flush(blk), 0);
	pvio_blk_close(blk);
	fake_free(f);

	/* limits no request can satisfy are refused with a message, and the
	 * device is closed (ownership passed) */
	for (int k = 0; k < 6; k++) {
		l = fake_blk_limits(FAKE_XEN, CAP);
		switch (k) {
		case 0: l.block_size = 1000; break;
		case 1: l.block_size = 256; break;
		case 2: l.max_transfer = 256; break;
		case 3: l.dma_align = 3; break;
		case 4: l.max_segments = 0; break;
		case 5: l.dma_align = 4096; break; /* > block size */
		}
		f = fake_blk_new(ctx, "fake:bad", &l, d);
		ck_assert_int_eq(pvio_blk_attach(f->dev, NULL, &blk), -EINVAL);
		ck_assert(f->closed);
		ck_assert_ptr_nonnull(strstr(pvio_errmsg(ctx), "fake:bad"));
		fake_free(f);
	}
	/* a network device is not a block device */
	struct pvio_net_limits nl = fake_net_limits_virtio();
	f = fake_net_new(ctx, "fake:net", &nl, 0);
	ck_assert_int_eq(pvio_blk_attach(f->dev, NULL, &blk), -EINVAL);
	ck_assert_ptr_nonnull(strstr(pvio_errmsg(ctx), "not a block device"));
	fake_free(f);
	fake_disk_free(d);
	pvio_ctx_free(ctx);
}
END_TEST

/*
 * Random requests against each limit profile.  A batch holds up to 8
 * requests on disjoint slices of the disk, all of one buffer kind: DMA
 * memory aligned to 512 (must go zero-copy), DMA memory at odd addresses,
 * or heap memory (must bounce).
 */
struct variant {
	enum fake_profile p;
	uint32_t bs;
	enum fake_policy pol;
	unsigned ring;
	uint32_t flags;
};
static const struct variant variants[] = {
	{ FAKE_VIRTIO, 512, FAKE_DEFERRED, 0, 0 },
	{ FAKE_XEN, 512, FAKE_REVERSED, 0, 0 },
	{ FAKE_STORVSC, 512, FAKE_DEFERRED, 0, 0 },
	{ FAKE_VIRTIO, 4096, FAKE_REVERSED, 0, 0 },
	{ FAKE_XEN, 512, FAKE_DEFERRED, 0, PVIO_BLK_ALWAYS_BOUNCE },
	{ FAKE_STORVSC, 512, FAKE_REVERSED, 3, 0 },
	{ FAKE_XEN, 4096, FAKE_IMMEDIATE, 2, 0 },
};

struct rreq {
	struct pvio_iovec iov[8];
	unsigned niov;
	uint64_t off, len;
	bool write;
};

START_TEST(split_random)
{
	const struct variant *v = &variants[_i];
	struct env e;
	struct pvio_blk_limits l = fake_blk_limits(v->p, CAP);
	l.block_size = v->bs;
	env_up(&e, &l, v->pol, v->ring, v->flags, 16, 0);
	uint64_t seed = 0x9e3779b97f4a7c15ull + (uint64_t)_i;
	uint8_t *arena = pvio_dma_alloc(e.ctx, 8 << 18, 4096);
	uint8_t *heap = malloc((8 << 18) + 64);
	const uint64_t slice = CAP / 8;
	struct fe_track *t = calloc(1, sizeof(*t));
	unsigned made = 0;

	for (int iter = 0; iter < 40; iter++) {
		unsigned kind = (unsigned)(fe_rand(&seed) % 3);
		unsigned nreq = 1 + (unsigned)(fe_rand(&seed) % 8);
		struct rreq rr[8];
		struct pvio_queue_stats s0 = stats(e.blk, 0);
		unsigned first = made;
		for (unsigned k = 0; k < nreq; k++) {
			struct rreq *r = &rr[k];
			r->len = v->bs * (1 + fe_rand(&seed) % (192 * 512 / v->bs));
			r->off = k * slice + v->bs * (fe_rand(&seed) %
						       ((slice - r->len) / v->bs));
			r->write = fe_rand(&seed) & 1;
			/* cut the length into up to 6 pieces */
			uint8_t *base = kind == 2 ? heap + k * (1u << 18) + 1
						  : arena + k * (1u << 18);
			uint64_t pos = 0, left = r->len;
			r->niov = 0;
			while (left && r->niov < 6) {
				uint64_t n = r->niov == 5 ? left
					     : 1 + fe_rand(&seed) % left;
				if (kind == 0) { /* whole 512-byte pieces */
					n = (n + 511) / 512 * 512;
					if (n > left)
						n = left;
				}
				/* a gap between pieces, same alignment */
				pos += kind == 0 ? 512 * (fe_rand(&seed) % 3)
						 : fe_rand(&seed) % 7;
				uint8_t *p = base + (kind == 1 ? 1 : 0) + pos;
				r->iov[r->niov++] = (struct pvio_iovec){ p, n };
				pos += n;
				left -= n;
			}
			ck_assert_uint_le(pos + 8, 1u << 18);
			if (r->write) {
				uint64_t o = r->off;
				for (unsigned i = 0; i < r->niov; i++) {
					fe_fill(r->iov[i].base, r->iov[i].len, &seed);
					memcpy(e.model + o, r->iov[i].base,
					       r->iov[i].len);
					o += r->iov[i].len;
				}
				ck_assert_int_eq(pvio_blk_writev(e.blk, 0, r->off,
								 r->iov, r->niov,
								 fe_cookie(made), 0),
						 0);
			} else {
				for (unsigned i = 0; i < r->niov; i++)
					memset(r->iov[i].base, 0xee, r->iov[i].len);
				ck_assert_int_eq(pvio_blk_readv(e.blk, 0, r->off,
								r->iov, r->niov,
								fe_cookie(made), 0),
						 0);
			}
			made++;
		}
		ck_assert_int_eq(pvio_blk_submit(e.blk, 0), 0);
		fe_blk_collect(e.blk, 0, t, made);
		for (unsigned k = first; k < made; k++)
			ck_assert_int_eq(t->ret[k], 0);
		for (unsigned k = 0; k < nreq; k++) {
			uint64_t o = rr[k].off;
			for (unsigned i = 0; i < rr[k].niov; i++) {
				ck_assert_msg(!memcmp(rr[k].iov[i].base, e.model + o,
						      rr[k].iov[i].len),
					      "iter %d req %u iov %u: data differs",
					      iter, k, i);
				o += rr[k].iov[i].len;
			}
		}
		struct pvio_queue_stats s1 = stats(e.blk, 0);
		uint64_t children = s1.device_requests - s0.device_requests;
		ck_assert_uint_ge(children, nreq);
		if (v->flags & PVIO_BLK_ALWAYS_BOUNCE)
			ck_assert_uint_eq(s1.copies - s0.copies, children);
		else if (kind == 0)
			ck_assert_uint_eq(s1.copies - s0.copies, 0);
		else if (kind == 2)
			ck_assert_uint_eq(s1.copies - s0.copies, children);
		ck_assert_uint_eq(s1.requests - s0.requests, nreq);
	}
	ck_assert_mem_eq(e.disk->data, e.model, CAP);
	if (v->ring)
		ck_assert_uint_gt(e.f->eagains, 0);
	/* splitting respected the limits (also checked by env_down) */
	ck_assert_uint_le(e.f->max_nseg, l.max_segments);
	free(t);
	free(heap);
	pvio_dma_free(e.ctx, arena);
	env_down(&e);
}
END_TEST

/* Children of one request complete out of order; each user request still
 * completes exactly once, with the first error of its children. */
START_TEST(errors_and_order)
{
	struct env e;
	struct pvio_blk_limits l = fake_blk_limits(FAKE_XEN, CAP);
	env_up(&e, &l, FAKE_HELD, 0, 0, 32, 0);
	uint8_t *buf = pvio_dma_alloc(e.ctx, 1 << 20, 4096);
	/* 16 reads of 64 KiB (2 children each) ; a fault at [256K, 260K) */
	e.f->fail_status = -EIO;
	e.f->fail_lo = 256 << 10;
	e.f->fail_hi = 260 << 10;
	for (unsigned i = 0; i < 16; i++)
		ck_assert_int_eq(pvio_blk_read(e.blk, 0, (uint64_t)i << 16,
					       buf + ((size_t)i << 16), 1 << 16,
					       fe_cookie(i), 0), 0);
	ck_assert_int_eq(pvio_blk_submit(e.blk, 0), 0);
	struct fe_track *t = calloc(1, sizeof(*t));
	/* newest first, a few at a time */
	while (fake_pending(e.f, 0) || t->n < 16) {
		fake_release(e.f, 0, 3, true);
		struct pvio_blk_completion c[8];
		int n = pvio_blk_poll(e.blk, 0, c, 0, 8, 0);
		ck_assert_int_ge(n, 0);
		fe_track_add(t, c, n);
		if (!fake_pending(e.f, 0) && t->n < 16)
			ck_assert_int_eq(pvio_blk_submit(e.blk, 0), 0);
	}
	for (unsigned i = 0; i < 16; i++)
		ck_assert_int_eq(t->ret[i], i == 4 ? -EIO : 0);
	struct pvio_queue_stats st = stats(e.blk, 0);
	ck_assert_uint_eq(st.errors, 1);
	ck_assert_uint_eq(st.requests, 16);
	/* nothing is left to complete a second time */
	struct pvio_blk_completion c[8];
	ck_assert_int_eq(pvio_blk_poll(e.blk, 0, c, 1, 8, 1000000), 0);
	free(t);
	pvio_dma_free(e.ctx, buf);
	env_down(&e);
}
END_TEST

/* With a 2-slot ring, children wait and go out in the order their user
 * requests were made. */
START_TEST(backpressure_order)
{
	struct env e;
	struct pvio_blk_limits l = fake_blk_limits(FAKE_XEN, CAP);
	env_up(&e, &l, FAKE_DEFERRED, 2, 0, 64, 0);
	uint8_t *buf = pvio_dma_alloc(e.ctx, 2 << 20, 4096);
	for (unsigned i = 0; i < 32; i++)
		ck_assert_int_eq(pvio_blk_write(e.blk, 0, (uint64_t)i * 65536,
						buf + (size_t)i * 65536, 65536,
						fe_cookie(i), 0), 0);
	ck_assert_int_eq(pvio_blk_submit(e.blk, 0), 0);
	ck_assert_uint_eq(fake_pending(e.f, 0), 2);
	ck_assert_uint_eq(pvio_blk_inflight(e.blk, 0), 32);
	struct fe_track *t = calloc(1, sizeof(*t));
	fe_blk_collect(e.blk, 0, t, 32);
	ck_assert_uint_gt(e.f->eagains, 0);
	ck_assert_uint_eq(e.f->nlog, 32 * 2); /* 44 KiB + 20 KiB children */
	for (unsigned i = 1; i < e.f->nlog; i++)
		ck_assert_uint_gt(e.f->log_off[i], e.f->log_off[i - 1]);
	free(t);
	pvio_dma_free(e.ctx, buf);
	env_down(&e);
}
END_TEST

START_TEST(flush_fua)
{
	struct env e;
	uint8_t *b;
	struct fe_track *t = calloc(1, sizeof(*t));
	/* virtio-like: FUA passes through, no extra flush */
	struct pvio_blk_limits l = fake_blk_limits(FAKE_VIRTIO, CAP);
	env_up(&e, &l, FAKE_IMMEDIATE, 0, 0, 0, 0);
	b = pvio_dma_alloc(e.ctx, 8192, 4096);
	ck_assert_int_eq(pvio_blk_write(e.blk, 0, 0, b, 8192, fe_cookie(0),
					PVIO_REQ_FUA), 0);
	fe_blk_collect(e.blk, 0, t, 1);
	ck_assert_uint_eq(e.f->fua_writes, 1);
	ck_assert_uint_eq(e.f->ops[PVIO_BLK_OP_FLUSH], 0);
	ck_assert_int_eq(pvio_blk_sync_flush(e.blk), 0);
	ck_assert_uint_eq(e.f->ops[PVIO_BLK_OP_FLUSH], 1);
	pvio_dma_free(e.ctx, b);
	env_down(&e);

	/* Xen-like: no FUA bit, a volatile cache: write, then flush, then
	 * the completion */
	memset(t, 0, sizeof(*t));
	l = fake_blk_limits(FAKE_XEN, CAP);
	env_up(&e, &l, FAKE_HELD, 0, 0, 0, 0);
	b = pvio_dma_alloc(e.ctx, 65536, 4096);
	ck_assert_int_eq(pvio_blk_write(e.blk, 0, 0, b, 65536, fe_cookie(0),
					PVIO_REQ_FUA), 0);
	ck_assert_int_eq(pvio_blk_write_zeroes(e.blk, 0, 1 << 20, 4096,
					       fe_cookie(1), PVIO_REQ_FUA), 0);
	ck_assert_int_eq(pvio_blk_submit(e.blk, 0), 0);
	ck_assert_uint_eq(fake_pending(e.f, 0), 3); /* 2 + 1 writes */
	fake_release(e.f, 0, 3, false);
	struct pvio_blk_completion c[4];
	ck_assert_int_eq(pvio_blk_poll(e.blk, 0, c, 0, 4, 0), 0);
	ck_assert_uint_eq(e.f->ops[PVIO_BLK_OP_FLUSH], 2);
	ck_assert_uint_eq(e.f->fua_writes, 0);
	ck_assert_uint_eq(fake_pending(e.f, 0), 2);
	fake_release(e.f, 0, 2, false);
	fe_blk_collect(e.blk, 0, t, 2);
	ck_assert_int_eq(t->ret[0], 0);
	ck_assert_int_eq(t->ret[1], 0);
	/* the last requests the device saw were the flushes */
	ck_assert_uint_eq(e.f->log_op[e.f->nlog - 1], PVIO_BLK_OP_FLUSH);
	ck_assert_uint_eq(e.f->log_op[e.f->nlog - 2], PVIO_BLK_OP_FLUSH);
	pvio_dma_free(e.ctx, b);
	env_down(&e);

	/* no volatile cache: flush completes with 0 without the device, and
	 * FUA needs no flush */
	memset(t, 0, sizeof(*t));
	l = fake_blk_limits(FAKE_XEN, CAP);
	l.flush = false;
	env_up(&e, &l, FAKE_IMMEDIATE, 0, 0, 0, 0);
	b = pvio_dma_alloc(e.ctx, 4096, 4096);
	ck_assert_int_eq(pvio_blk_flush(e.blk, 0, fe_cookie(0), 0), 0);
	ck_assert_int_eq(pvio_blk_write(e.blk, 0, 0, b, 4096, fe_cookie(1),
					PVIO_REQ_FUA), 0);
	fe_blk_collect(e.blk, 0, t, 2);
	ck_assert_int_eq(t->ret[0], 0);
	ck_assert_uint_eq(e.f->ops[PVIO_BLK_OP_FLUSH], 0);
	pvio_dma_free(e.ctx, b);
	env_down(&e);
	free(t);
}
END_TEST

START_TEST(discard_write_zeroes)
{
	struct env e;
	struct pvio_blk_limits l = fake_blk_limits(FAKE_VIRTIO, CAP);
	l.max_discard = 64 << 10;
	l.max_write_zeroes = 128 << 10;
	env_up(&e, &l, FAKE_IMMEDIATE, 0, 0, 0, 0);
	memset(e.disk->data, 0xab, CAP);
	ck_assert_int_eq(pvio_blk_sync_discard(e.blk, 0, 1 << 20), 0);
	ck_assert_uint_eq(e.f->ops[PVIO_BLK_OP_DISCARD], 16);
	ck_assert_int_eq(pvio_blk_sync_write_zeroes(e.blk, 2 << 20, 1 << 20), 0);
	ck_assert_uint_eq(e.f->ops[PVIO_BLK_OP_WRITE_ZEROES], 8);
	ck_assert_uint_eq(e.f->ops[PVIO_BLK_OP_WRITE], 0);
	for (uint64_t i = 0; i < CAP; i += 512)
		ck_assert_uint_eq(e.disk->data[i],
				  i < (1 << 20) || (i >= (2 << 20) && i < (3 << 20))
					  ? 0 : 0xab);
	env_down(&e);

	/* no native write-zeroes: emulated with writes of a zeroed buffer,
	 * which are not copies */
	l = fake_blk_limits(FAKE_XEN, CAP);
	env_up(&e, &l, FAKE_DEFERRED, 0, 0, 0, 0);
	memset(e.disk->data, 0xcd, CAP);
	ck_assert_int_eq(pvio_blk_sync_write_zeroes(e.blk, 4096, 200 << 10), 0);
	ck_assert_uint_eq(e.f->ops[PVIO_BLK_OP_WRITE_ZEROES], 0);
	ck_assert_uint_eq(e.f->ops[PVIO_BLK_OP_WRITE], 5); /* 44 KiB each */
	ck_assert_uint_eq(stats(e.blk, 0).copies, 0);
	ck_assert_uint_eq(e.disk->data[4095], 0xcd);
	for (uint64_t i = 4096; i < 4096 + (200 << 10); i++)
		ck_assert_uint_eq(e.disk->data[i], 0);
	ck_assert_uint_eq(e.disk->data[4096 + (200 << 10)], 0xcd);
	env_down(&e);
}
END_TEST

/* Synchronous helpers share queue 0 without taking others' completions. */
START_TEST(sync_alongside_async)
{
	struct env e;
	struct pvio_blk_limits l = fake_blk_limits(FAKE_STORVSC, CAP);
	env_up(&e, &l, FAKE_DEFERRED, 0, 0, 8, 0);
	uint8_t *b = pvio_dma_alloc(e.ctx, 1 << 16, 4096);
	for (unsigned i = 0; i < 4; i++)
		ck_assert_int_eq(pvio_blk_read(e.blk, 0, i * 4096, b + i * 4096,
					       4096, fe_cookie(i), 0), 0);
	ck_assert_int_eq(pvio_blk_submit(e.blk, 0), 0);
	uint8_t w[4096];
	memset(w, 0x5a, sizeof(w));
	ck_assert_int_eq(pvio_blk_pwrite(e.blk, 1 << 20, w, sizeof(w)), 0);
	ck_assert_mem_eq(e.disk->data + (1 << 20), w, sizeof(w));
	struct fe_track *t = calloc(1, sizeof(*t));
	fe_blk_collect(e.blk, 0, t, 4);
	free(t);
	pvio_dma_free(e.ctx, b);
	env_down(&e);
}
END_TEST

/* A device that never answers: the helper gives up after the context
 * timeout, marks the device broken, and says so. */
START_TEST(sync_timeout)
{
	struct env e;
	struct pvio_blk_limits l = fake_blk_limits(FAKE_VIRTIO, CAP);
	env_up(&e, &l, FAKE_HELD, 0, 0, 0, 100);
	uint8_t b[4096];
	ck_assert_int_eq(pvio_blk_pread(e.blk, 0, b, sizeof(b)), -ETIMEDOUT);
	ck_assert_ptr_nonnull(strstr(pvio_errmsg(e.ctx), "completed nothing"));
	ck_assert_int_eq(pvio_dev_state(e.f->dev, NULL), PVIO_DEV_BROKEN);
	ck_assert_int_eq(pvio_blk_pread(e.blk, 0, b, sizeof(b)), -EIO);
	env_down(&e);
}
END_TEST

START_TEST(completion_fd)
{
	struct env e;
	struct pvio_blk_limits l = fake_blk_limits(FAKE_VIRTIO, CAP);
	env_up(&e, &l, FAKE_HELD, 0, 0, 0, 0);
	int fd = pvio_blk_completion_fd(e.blk, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pvio_blk_completion_fd(e.blk, 0), fd);
	uint8_t *b = pvio_dma_alloc(e.ctx, 4096, 4096);
	ck_assert_int_eq(pvio_blk_read(e.blk, 0, 0, b, 4096, fe_cookie(0), 0), 0);
	ck_assert_int_eq(pvio_blk_submit(e.blk, 0), 0);
	struct pvio_blk_completion c[4];
	ck_assert_int_eq(pvio_blk_poll(e.blk, 0, c, 0, 4, 0), 0);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ck_assert_int_eq(poll(&p, 1, 0), 0); /* nothing yet */
	fake_release(e.f, 0, 1, false);
	ck_assert_int_eq(poll(&p, 1, 2000), 1);
	ck_assert_int_eq(pvio_blk_poll(e.blk, 0, c, 0, 4, 0), 1);
	ck_assert_ptr_eq(c[0].cookie, fe_cookie(0));
	/* consumed: the fd is quiet again */
	ck_assert_int_eq(pvio_blk_poll(e.blk, 0, c, 0, 4, 0), 0);
	ck_assert_int_eq(poll(&p, 1, 0), 0);
	pvio_dma_free(e.ctx, b);
	env_down(&e);

	/* a device without notification fds says so */
	env_up(&e, &l, FAKE_HELD, 0, 0, 0, 0);
	e.f->no_queue_fd = true;
	ck_assert_int_eq(pvio_blk_completion_fd(e.blk, 0), -EOPNOTSUPP);
	ck_assert_ptr_nonnull(strstr(pvio_errmsg(e.ctx), "notification"));
	env_down(&e);
}
END_TEST

START_TEST(multi_queue_and_timeouts)
{
	struct env e;
	struct pvio_blk_limits l = fake_blk_limits(FAKE_VIRTIO, CAP);
	memset(&e, 0, sizeof(e));
	e.ctx = fe_test_ctx(0);
	e.disk = fake_disk_new(CAP);
	e.f = fake_blk_new(e.ctx, "fake:mq", &l, e.disk);
	e.f->policy = FAKE_HELD;
	struct pvio_blk_opts o = { .struct_size = sizeof(o), .num_queues = 8 };
	ck_assert_int_eq(pvio_blk_attach(e.f->dev, &o, &e.blk), 0);
	struct pvio_blk_info in = { .struct_size = sizeof(in) };
	pvio_blk_get_info(e.blk, &in);
	ck_assert_uint_eq(in.num_queues, 4); /* the device's maximum */
	ck_assert_uint_eq(e.f->num_queues, 4);
	uint8_t *b = pvio_dma_alloc(e.ctx, 4 * 4096, 4096);
	for (unsigned q = 0; q < 4; q++) {
		ck_assert_int_eq(pvio_blk_write(e.blk, q, q * 4096, b + q * 4096,
						4096, fe_cookie(q), 0), 0);
		ck_assert_int_eq(pvio_blk_submit(e.blk, q), 0);
	}
	/* a bounded wait on a held request returns 0 completions */
	struct pvio_blk_completion c[4];
	ck_assert_int_eq(pvio_blk_poll(e.blk, 2, c, 1, 4, 20 * 1000000), 0);
	for (unsigned q = 0; q < 4; q++) {
		ck_assert_uint_eq(fake_pending(e.f, q), 1);
		fake_release(e.f, q, 1, false);
		ck_assert_int_eq(pvio_blk_poll(e.blk, q, c, 1, 4, -1), 1);
		ck_assert_ptr_eq(c[0].cookie, fe_cookie(q));
		ck_assert_uint_eq(stats(e.blk, q).requests, 1);
	}
	pvio_dma_free(e.ctx, b);
	env_down(&e);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fe_blk");
	TCase *tc = tcase_create("blk");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, basic_rw_info);
	tcase_add_test(tc, validation);
	tcase_add_test(tc, read_only_and_bad_limits);
	tcase_add_loop_test(tc, split_random, 0,
			    (int)(sizeof(variants) / sizeof(variants[0])));
	tcase_add_test(tc, errors_and_order);
	tcase_add_test(tc, backpressure_order);
	tcase_add_test(tc, flush_fua);
	tcase_add_test(tc, discard_write_zeroes);
	tcase_add_test(tc, sync_alongside_async);
	tcase_add_test(tc, sync_timeout);
	tcase_add_test(tc, completion_fd);
	tcase_add_test(tc, multi_queue_and_timeouts);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
