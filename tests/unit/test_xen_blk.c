/* SPDX-License-Identifier: MIT */
/*
 * backends/xen/blk.c (and transport.c) through the transport contract,
 * against the fake host's blkback model (Debian's io/blkif.h and
 * io/ring.h back-ring macros): negotiation (ring order, queues, indirect
 * segments, persistent grants, flush/barrier/discard, sector sizes),
 * data through direct grants and through the persistent copy pool,
 * notification counting, and the hostile cases: bad response ids,
 * operations and statuses, a runaway response producer, a back end that
 * keeps a page mapped, one that closes with I/O in flight, garbage in
 * xenstore.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <unistd.h>

#include "test_xen_fake.h"

static pvio_ctx *ctx;
static struct fx *fx;

static void setup(void)
{
	ctx = fx_ctx(400);
	fx = fx_new(ctx, 2);
}

static void teardown(void)
{
	fx_destroy(fx);
	pvio_ctx_free(ctx);
}

static struct fxb_cfg base_cfg(void)
{
	return (struct fxb_cfg){
		.sectors = 8192, /* 4 MiB */
		.sector_size = 512,
		.max_order = -1,
		.max_queues = -1,
	};
}

static int try_open(const char *spec, pvio_dev **dev)
{
	char type[4];
	uint32_t devid;
	struct xen_opts o;
	ck_assert_int_eq(xen_parse_device(ctx, spec, type, &devid, &o), 0);
	int r = xen_open(ctx, &fx->h, type, devid, &o, dev);
	if (r == 0)
		(*dev)->address = pvio_strdup(ctx, spec);
	return r;
}

static pvio_dev *open_blk(const char *spec, unsigned queues, unsigned tags)
{
	pvio_dev *dev;
	int r = try_open(spec, &dev);
	ck_assert_msg(r == 0, "open: %d %s", r, pvio_errmsg(ctx));
	struct pvio_dev_config cfg = { .num_queues = queues, .max_tags = tags };
	r = pvio_dev_configure(dev, &cfg);
	ck_assert_msg(r == 0, "configure: %d %s", r, pvio_errmsg(ctx));
	return dev;
}

/* Build segments of at most segsz bytes over buf (which must not cross a
 * page inside a segment). */
static unsigned make_segs(void *buf, uint32_t len, uint32_t segsz,
			  struct pvio_dseg *segs)
{
	unsigned n = 0;
	uint8_t *p = buf;
	while (len) {
		uint64_t a;
		ck_assert_int_eq(pvio_dma_translate(ctx, p, 1, &a), 0);
		uint32_t room = 4096 - (uint32_t)(a & 4095);
		uint32_t l = len < segsz ? len : segsz;
		if (l > room)
			l = room;
		segs[n].va = p;
		segs[n].dev_addr = a;
		segs[n].len = l;
		n++;
		p += l;
		len -= l;
	}
	return n;
}

static int submit(pvio_dev *dev, unsigned q, uint8_t op, uint64_t off,
		  void *buf, uint32_t len, uint32_t segsz, uint32_t tag)
{
	struct pvio_dseg segs[4096];
	struct pvio_blk_dreq r = { .tag = tag, .op = op, .offset = off,
				   .len = len, .seg = segs };
	if (buf)
		r.nseg = (uint16_t)make_segs(buf, len, segsz, segs);
	return dev->ops->blk->enqueue(dev, q, &r);
}

/* reap until tag completes; its status */
static int wait_tag(pvio_dev *dev, unsigned q, uint32_t tag)
{
	struct pvio_blk_dcomp c[64];
	for (int spin = 0; spin < 1000; spin++) {
		int n = dev->ops->blk->reap(dev, q, c, 64);
		if (n < 0)
			return n;
		for (int i = 0; i < n; i++)
			if (c[i].tag == tag)
				return c[i].status;
	}
	ck_abort_msg("request %u never completed", tag);
	return -1;
}

static int do_io(pvio_dev *dev, unsigned q, uint8_t op, uint64_t off,
		 void *buf, uint32_t len, uint32_t segsz)
{
	int r = submit(dev, q, op, off, buf, len, segsz, 7);
	if (r < 0)
		return r;
	ck_assert_int_eq(dev->ops->blk->kick(dev, q), 0);
	return wait_tag(dev, q, 7);
}

static void fill(uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed * 31 + i * 7 + (i >> 9));
}

static uint32_t flags_of_ref(uint32_t ref)
{
	return ((grant_entry_v1_t *)fx->frames)[ref].flags;
}

START_TEST(basic_io_and_limits)
{
	struct fxb_cfg c = base_cfg();
	c.flush = true;
	struct fxb *b = fxb_new(fx, &c);
	pvio_dev *dev = open_blk("vbd/51712?persistent=0", 1, 16);
	const struct pvio_blk_limits *L = &dev->limits.blk;
	ck_assert_uint_eq(L->capacity, 8192 * 512);
	ck_assert_uint_eq(L->block_size, 512);
	ck_assert_uint_eq(L->max_segments, 11);
	ck_assert_uint_eq(L->max_segment_size, 4096);
	ck_assert_uint_eq(L->dma_align, 512);
	ck_assert_uint_eq(L->seg_boundary, 4096);
	ck_assert_uint_eq(L->queue_size, 32);
	ck_assert(L->flush);
	ck_assert(!L->discard);
	ck_assert(!L->read_only);
	ck_assert_str_eq(dev->info.protocol, "blkif");
	ck_assert(dev->info.features & PVIO_F_BLK_FLUSH);
	ck_assert(!(dev->info.features & PVIO_F_PERSISTENT_MAP));
	ck_assert_str_eq(b->protocol, "x86_64-abi");
	ck_assert_str_eq(fx_read(fx, "/local/domain/2/device/vbd/51712/state"),
			 "4");
	ck_assert_ptr_nonnull(fx_read(fx, "/local/domain/2/device/vbd/51712/ring-ref"));
	ck_assert_ptr_null(fx_read(fx, "/local/domain/2/device/vbd/51712/ring-page-order"));

	uint8_t *w = pvio_dma_alloc(ctx, 65536, 4096);
	uint8_t *r = pvio_dma_alloc(ctx, 65536, 4096);
	fill(w, 45056, 1);
	/* 11 whole pages */
	ck_assert_int_eq(do_io(dev, 0, PVIO_BLK_OP_WRITE, 4096, w, 45056, 4096), 0);
	ck_assert_int_eq(memcmp(b->disk + 4096, w, 45056), 0);
	ck_assert_int_eq(do_io(dev, 0, PVIO_BLK_OP_READ, 4096, r, 45056, 4096), 0);
	ck_assert_int_eq(memcmp(r, w, 45056), 0);
	/* sub-page segments: first_sect/last_sect inside pages */
	fill(w + 512, 3072, 2);
	ck_assert_int_eq(do_io(dev, 0, PVIO_BLK_OP_WRITE, 512, w + 512, 3072, 1024), 0);
	ck_assert_int_eq(memcmp(b->disk + 512, w + 512, 3072), 0);
	memset(r, 0, 8192);
	ck_assert_int_eq(do_io(dev, 0, PVIO_BLK_OP_READ, 512, r + 1536, 3072, 512), 0);
	ck_assert_int_eq(memcmp(r + 1536, w + 512, 3072), 0);
	/* flush: FLUSH_DISKCACHE with no segment */
	ck_assert_int_eq(do_io(dev, 0, PVIO_BLK_OP_FLUSH, 0, NULL, 0, 0), 0);
	ck_assert_uint_eq(b->flushes, 1);
	ck_assert_uint_eq(b->last_flush_nseg, 0);
	/* every data grant was ended: only the ring page is still granted */
	unsigned granted = 0;
	for (uint32_t ref = 8; ref < fx->gt.next; ref++)
		granted += flags_of_ref(ref) != 0;
	ck_assert_uint_eq(granted, 1);
	/* notifications were counted: sent, and none lost */
	ck_assert_uint_gt(dev->stats[0].notify_sent, 0);
	ck_assert_uint_eq(dev->stats[0].notify_sent +
				  dev->stats[0].notify_suppressed,
			  5);
	ck_assert_uint_eq(dev->stats[0].copies, 0);
	pvio_dma_free(ctx, w);
	pvio_dma_free(ctx, r);
	pvio_dev_close(dev);
	ck_assert(fx->closed);
	ck_assert_uint_eq(fx->detached, 1);
	ck_assert_uint_eq(xen_gnttab_quarantined(&fx->gt), 0);
}
END_TEST

START_TEST(bad_requests_are_refused)
{
	struct fxb_cfg c = base_cfg();
	c.info = VDISK_READONLY;
	fxb_new(fx, &c);
	pvio_dev *dev = open_blk("vbd/1", 1, 4);
	uint8_t *w = pvio_dma_alloc(ctx, 8192, 4096);
	ck_assert(dev->limits.blk.read_only);
	ck_assert_int_eq(submit(dev, 0, PVIO_BLK_OP_WRITE, 0, w, 512, 512, 1),
			 -EROFS);
	ck_assert_int_eq(submit(dev, 0, PVIO_BLK_OP_FLUSH, 0, NULL, 0, 0, 1),
			 -EOPNOTSUPP);
	ck_assert_int_eq(submit(dev, 0, PVIO_BLK_OP_DISCARD, 0, NULL, 512, 0, 1),
			 -EOPNOTSUPP);
	ck_assert_int_eq(submit(dev, 0, PVIO_BLK_OP_WRITE_ZEROES, 0, NULL, 512, 0, 1),
			 -EOPNOTSUPP);
	/* misaligned, crossing a page, beyond the end, too many segments */
	ck_assert_int_eq(submit(dev, 0, PVIO_BLK_OP_READ, 0, w + 100, 512, 512, 1),
			 -EINVAL);
	ck_assert_int_eq(submit(dev, 0, PVIO_BLK_OP_READ, 256, w, 512, 512, 1),
			 -EINVAL);
	struct pvio_dseg s = { w + 3584, 0, 1024 };
	pvio_dma_translate(ctx, s.va, 1, &s.dev_addr);
	struct pvio_blk_dreq rq = { .tag = 1, .op = PVIO_BLK_OP_READ, .nseg = 1,
				    .offset = 0, .len = 1024, .seg = &s };
	ck_assert_int_eq(dev->ops->blk->enqueue(dev, 0, &rq), -EINVAL);
	ck_assert_int_eq(submit(dev, 0, PVIO_BLK_OP_READ, 8192 * 512, w, 512, 512, 1),
			 -EINVAL);
	ck_assert_int_eq(submit(dev, 0, PVIO_BLK_OP_READ, 0, w, 8192, 512, 1),
			 -EINVAL); /* 16 segments, limit 11 */
	ck_assert_int_eq(submit(dev, 1, PVIO_BLK_OP_READ, 0, w, 512, 512, 1),
			 -EINVAL); /* no such queue */
	/* reads still work */
	ck_assert_int_eq(do_io(dev, 0, PVIO_BLK_OP_READ, 0, w, 4096, 4096), 0);
	pvio_dma_free(ctx, w);
	pvio_dev_close(dev);
}
END_TEST

START_TEST(indirect_segments)
{
	struct fxb_cfg c = base_cfg();
	c.indirect = 256;
	struct fxb *b = fxb_new(fx, &c);
	pvio_dev *dev = open_blk("vbd/2?persistent=0", 1, 8);
	ck_assert_uint_eq(dev->limits.blk.max_segments, 256);
	ck_assert_uint_eq(dev->limits.blk.max_transfer, 256 * 4096);
	ck_assert(dev->info.features & PVIO_F_INDIRECT);
	uint8_t *w = pvio_dma_alloc(ctx, 1 << 20, 4096);
	uint8_t *r = pvio_dma_alloc(ctx, 1 << 20, 4096);
	fill(w, 1 << 20, 3);
	/* 256 pages in one request */
	ck_assert_int_eq(do_io(dev, 0, PVIO_BLK_OP_WRITE, 0, w, 1 << 20, 4096), 0);
	ck_assert_uint_eq(b->indirects, 1);
	ck_assert_uint_eq(b->max_nseg, 256);
	ck_assert_int_eq(memcmp(b->disk, w, 1 << 20), 0);
	/* 40 half-page segments */
	ck_assert_int_eq(do_io(dev, 0, PVIO_BLK_OP_READ, 0, r, 40 * 2048, 2048), 0);
	ck_assert_uint_eq(b->indirects, 2);
	ck_assert_int_eq(memcmp(r, w, 40 * 2048), 0);
	/* 11 or fewer: a plain request */
	ck_assert_int_eq(do_io(dev, 0, PVIO_BLK_OP_READ, 0, r, 11 * 4096, 4096), 0);
	ck_assert_uint_eq(b->indirects, 2);
	pvio_dma_free(ctx, w);
	pvio_dma_free(ctx, r);
	pvio_dev_close(dev);
	ck_assert_uint_eq(xen_gnttab_quarantined(&fx->gt), 0);
}
END_TEST

START_TEST(indirect_limit_is_clamped)
{
	struct fxb_cfg c = base_cfg();
	c.indirect = 1000000;
	fxb_new(fx, &c);
	pvio_dev *dev = open_blk("vbd/2?indirect=64", 1, 4);
	ck_assert_uint_eq(dev->limits.blk.max_segments, 64);
	pvio_dev_close(dev);
}
END_TEST

START_TEST(persistent_grants_copy)
{
	struct fxb_cfg c = base_cfg();
	c.persistent = true;
	c.indirect = 32;
	struct fxb *b = fxb_new(fx, &c);
	pvio_dev *dev = open_blk("vbd/3", 1, 8);
	ck_assert(b->persistent_on);
	ck_assert_str_eq(fx_read(fx, "/local/domain/2/device/vbd/3/feature-persistent"),
			 "1");
	ck_assert(dev->info.features & PVIO_F_PERSISTENT_MAP);
	uint8_t *w = pvio_dma_alloc(ctx, 32 * 4096, 4096);
	uint8_t *r = pvio_dma_alloc(ctx, 32 * 4096, 4096);
	for (int round = 0; round < 4; round++) {
		fill(w, 32 * 4096, 10 + round);
		ck_assert_int_eq(do_io(dev, 0, PVIO_BLK_OP_WRITE, 4096, w,
				       32 * 4096, 4096),
				 0);
		memset(r, 0, 32 * 4096);
		ck_assert_int_eq(do_io(dev, 0, PVIO_BLK_OP_READ, 4096, r,
				       32 * 4096, 4096),
				 0);
		ck_assert_int_eq(memcmp(r, w, 32 * 4096), 0);
		ck_assert_int_eq(memcmp(b->disk + 4096, w, 32 * 4096), 0);
	}
	/* each request was copied once; the back end keeps pool pages
	 * mapped (that is the point), a few dozen of them */
	ck_assert_uint_eq(dev->stats[0].copies, 8);
	ck_assert_uint_eq(dev->stats[0].copy_bytes, 8ull * 32 * 4096);
	ck_assert_uint_gt(b->npmaps, 0);
	ck_assert_uint_le(b->npmaps, 64);
	/* the caller's own pages were never granted */
	uint64_t wa;
	pvio_dma_translate(ctx, w, 1, &wa);
	for (uint32_t ref = 8; ref < fx->gt.next; ref++) {
		grant_entry_v1_t *e = (grant_entry_v1_t *)fx->frames + ref;
		if (e->flags)
			ck_assert(e->frame < (wa >> 12) ||
				  e->frame >= (wa >> 12) + 32);
	}
	pvio_dev_close(dev);
	/* the back end unmapped at Closed: nothing leaked */
	ck_assert_uint_eq(b->npmaps, 0);
	ck_assert_uint_eq(xen_gnttab_quarantined(&fx->gt), 0);
	pvio_dma_free(ctx, w);
	pvio_dma_free(ctx, r);
}
END_TEST

START_TEST(copy_pool_fits_the_share_limit)
{
	struct fxb_cfg c = base_cfg();
	c.persistent = true;
	c.indirect = 32;
	struct fxb *b = fxb_new(fx, &c);
	/* a hostif that can share only 200 pages (gntalloc has a limit) */
	fx->h.share_limit = 200;
	pvio_dev *dev = open_blk("vbd/30", 1, 8);
	ck_assert_uint_le(fx->h.shared, 200);
	ck_assert_uint_ge(fx->h.shared, 150); /* the pool took the room */
	uint8_t *w = pvio_dma_alloc(ctx, 32 * 4096, 4096);
	uint8_t *r = pvio_dma_alloc(ctx, 32 * 4096, 4096);
	for (int round = 0; round < 20; round++) {
		fill(w, 32 * 4096, (unsigned)round);
		ck_assert_int_eq(do_io(dev, 0, PVIO_BLK_OP_WRITE, 0, w, 32 * 4096,
				       4096),
				 0);
		ck_assert_int_eq(do_io(dev, 0, PVIO_BLK_OP_READ, 0, r, 32 * 4096,
				       4096),
				 0);
		ck_assert_int_eq(memcmp(r, w, 32 * 4096), 0);
	}
	ck_assert_int_eq(memcmp(b->disk, w, 32 * 4096), 0);
	pvio_dev_close(dev);
	ck_assert_uint_eq(fx->h.shared, 0);
	/* too small for one request: configure says so */
	fx->h.share_limit = 30;
	pvio_dev *d2;
	ck_assert_int_eq(try_open("vbd/31", &d2), 0);
	struct pvio_dev_config cfg = { .num_queues = 1, .max_tags = 8 };
	ck_assert_int_eq(pvio_dev_configure(d2, &cfg), -ENOSPC);
	ck_assert_ptr_nonnull(strstr(pvio_errmsg(ctx), "can still be shared"));
	pvio_dev_close(d2);
	ck_assert_uint_eq(fx->h.shared, 0);
	pvio_dma_free(ctx, w);
	pvio_dma_free(ctx, r);
}
END_TEST

START_TEST(untrusted_backend_gets_copies)
{
	struct fxb_cfg c = base_cfg();
	struct fxb *b = fxb_new(fx, &c);
	(void)b;
	/* the toolstack says the back end is not trusted (XSA-403) */
	fx_write(fx, "/local/domain/2/device/vbd/4/trusted", "0");
	pvio_dev *dev = open_blk("vbd/4?persistent=0", 1, 4);
	uint8_t *w = pvio_dma_alloc(ctx, 8192, 4096);
	fill(w, 8192, 5);
	ck_assert_int_eq(do_io(dev, 0, PVIO_BLK_OP_WRITE, 0, w, 8192, 4096), 0);
	ck_assert_uint_eq(dev->stats[0].copies, 1);
	ck_assert_ptr_nonnull(strstr(dev->info.native, "copy"));
	pvio_dma_free(ctx, w);
	pvio_dev_close(dev);
}
END_TEST

START_TEST(multi_page_ring_and_queues)
{
	struct fxb_cfg c = base_cfg();
	c.max_order = 2;
	c.max_queues = 8;
	struct fxb *b = fxb_new(fx, &c);
	pvio_dev *dev = open_blk("vbd/5?queues=3", 3, 64);
	ck_assert_uint_eq(b->order, 2);
	ck_assert_uint_eq(b->nq, 3);
	ck_assert_str_eq(fx_read(fx, "/local/domain/2/device/vbd/5/ring-page-order"),
			 "2");
	ck_assert_str_eq(fx_read(fx, "/local/domain/2/device/vbd/5/multi-queue-num-queues"),
			 "3");
	ck_assert_ptr_nonnull(fx_read(fx, "/local/domain/2/device/vbd/5/queue-2/ring-ref3"));
	ck_assert_ptr_nonnull(fx_read(fx, "/local/domain/2/device/vbd/5/queue-1/event-channel"));
	ck_assert_ptr_null(fx_read(fx, "/local/domain/2/device/vbd/5/ring-ref"));
	ck_assert_uint_eq(dev->limits.blk.queue_size, 128);
	ck_assert_uint_eq(dev->limits.blk.max_queues, 3);
	ck_assert(dev->info.features & PVIO_F_MULTI_PAGE_RING);
	ck_assert(dev->info.features & PVIO_F_MULTIQUEUE);
	uint8_t *w = pvio_dma_alloc(ctx, 3 * 4096, 4096);
	for (unsigned q = 0; q < 3; q++) {
		fill(w + q * 4096, 4096, 20 + q);
		ck_assert_int_eq(do_io(dev, q, PVIO_BLK_OP_WRITE, q * 4096,
				       w + q * 4096, 4096, 4096),
				 0);
		ck_assert_uint_gt(dev->stats[q].notify_sent, 0);
	}
	ck_assert_int_eq(memcmp(b->disk, w, 3 * 4096), 0);
	/* fill a queue: 64 requests in flight (the tag count), one kick */
	uint8_t *big = pvio_dma_alloc(ctx, 64 * 512, 4096);
	for (uint32_t t = 0; t < 64; t++)
		ck_assert_int_eq(submit(dev, 1, PVIO_BLK_OP_READ, t * 512,
					big + t * 512, 512, 512, t),
				 0);
	ck_assert_int_eq(submit(dev, 1, PVIO_BLK_OP_READ, 0, big, 512, 512, 64),
			 -EAGAIN);
	uint64_t sent = dev->stats[1].notify_sent;
	ck_assert_int_eq(dev->ops->blk->kick(dev, 1), 0);
	ck_assert_uint_eq(dev->stats[1].notify_sent, sent + 1);
	struct pvio_blk_dcomp cp[128];
	int n = dev->ops->blk->reap(dev, 1, cp, 128);
	ck_assert_int_eq(n, 64);
	bool seen[64] = { 0 };
	for (int i = 0; i < n; i++) {
		ck_assert_int_eq(cp[i].status, 0);
		ck_assert(!seen[cp[i].tag]);
		seen[cp[i].tag] = true;
	}
	pvio_dma_free(ctx, w);
	pvio_dma_free(ctx, big);
	pvio_dev_close(dev);
}
END_TEST

START_TEST(order_and_queue_keys_are_clamped)
{
	struct fxb_cfg c = base_cfg();
	c.raw_order = "99";
	c.raw_queues = "100000";
	struct fxb *b = fxb_new(fx, &c);
	pvio_dev *dev = open_blk("vbd/6?queues=64", 2, 4);
	ck_assert_uint_eq(b->order, 4);
	ck_assert_uint_eq(b->nq, 16);
	ck_assert_uint_eq(dev->limits.blk.queue_size, 512);
	pvio_dev_close(dev);
}
END_TEST

START_TEST(barrier_and_discard)
{
	struct fxb_cfg c = base_cfg();
	c.barrier = true;
	c.discard = true;
	struct fxb *b = fxb_new(fx, &c);
	pvio_dev *dev = open_blk("vbd/7", 1, 4);
	ck_assert(dev->limits.blk.flush);
	ck_assert(dev->limits.blk.discard);
	ck_assert_uint_eq(dev->limits.blk.discard_granularity, 512);
	ck_assert_int_eq(do_io(dev, 0, PVIO_BLK_OP_FLUSH, 0, NULL, 0, 0), 0);
	ck_assert_uint_eq(b->barriers, 1);
	ck_assert_uint_eq(b->flushes, 0);
	memset(b->disk + 1024, 0xaa, 4096);
	ck_assert_int_eq(do_io(dev, 0, PVIO_BLK_OP_DISCARD, 1024, NULL, 4096, 0), 0);
	ck_assert_uint_eq(b->last_discard_sector, 2);
	ck_assert_uint_eq(b->last_discard_n, 8);
	ck_assert_uint_eq(b->disk[1024], 0);
	pvio_dev_close(dev);
}
END_TEST

START_TEST(large_sectors_use_512_byte_units)
{
	struct fxb_cfg c = base_cfg();
	c.sector_size = 4096;
	struct fxb *b = fxb_new(fx, &c);
	pvio_dev *dev = open_blk("vbd/8", 1, 4);
	ck_assert_uint_eq(dev->limits.blk.block_size, 4096);
	/* sectors stays a 512-byte count (Linux blkback) */
	ck_assert_uint_eq(dev->limits.blk.capacity, 8192 * 512);
	ck_assert_ptr_null(fx_read(fx, "/local/domain/2/device/vbd/8/feature-large-sector-size"));
	uint8_t *w = pvio_dma_alloc(ctx, 8192, 4096);
	fill(w, 8192, 9);
	ck_assert_int_eq(submit(dev, 0, PVIO_BLK_OP_WRITE, 512, w, 4096, 4096, 1),
			 -EINVAL);
	ck_assert_int_eq(submit(dev, 0, PVIO_BLK_OP_WRITE, 0, w, 512, 512, 1),
			 -EINVAL);
	ck_assert_int_eq(do_io(dev, 0, PVIO_BLK_OP_WRITE, 3 * 4096, w, 8192, 4096), 0);
	/* the back end was addressed in 512-byte units: sector 24 */
	ck_assert_int_eq(memcmp(b->disk + 3 * 4096, w, 8192), 0);
	pvio_dev_close(dev);
	pvio_dma_free(ctx, w);
}
END_TEST

static int raw_open(struct fxb_cfg c)
{
	fxb_new(fx, &c);
	pvio_dev *dev;
	int r = try_open("vbd/9", &dev);
	if (r == 0)
		pvio_dev_close(dev);
	return r;
}

START_TEST(garbage_from_the_backend_refuses_the_device)
{
	struct fxb_cfg c = base_cfg();
	static const char *const bad_sectors[] = { "abc", "-5", "0x100",
						   "36028797018963968" };
	for (unsigned i = 0; i < 4; i++) {
		c.raw_sectors = bad_sectors[i];
		ck_assert_int_eq(raw_open(c), -EPROTO);
		ck_assert_ptr_nonnull(strstr(pvio_errmsg(ctx), "sectors"));
		free(fx->blk->disk);
		free(fx->blk);
		fx->blk = NULL;
	}
	c = base_cfg();
	static const char *const bad_ss[] = { "1000", "256", "8192", "0", "x" };
	for (unsigned i = 0; i < 5; i++) {
		c.raw_sector_size = bad_ss[i];
		ck_assert_int_eq(raw_open(c), -EPROTO);
		ck_assert_ptr_nonnull(strstr(pvio_errmsg(ctx), "sector-size"));
		free(fx->blk->disk);
		free(fx->blk);
		fx->blk = NULL;
	}
	c = base_cfg();
	c.raw_order = "two";
	ck_assert_int_eq(raw_open(c), -EPROTO);
	ck_assert_ptr_nonnull(strstr(pvio_errmsg(ctx), "max-ring-page-order"));
	/* every refused open released what it had */
	ck_assert_uint_eq(xen_gnttab_quarantined(&fx->gt), 0);
	ck_assert_uint_eq(fx->attached, fx->detached);
}
END_TEST

START_TEST(backend_variants_connect)
{
	struct fxb_cfg c = base_cfg();
	c.skip_initwait = true;
	c.max_order = 3; /* not published when skipping InitWait */
	struct fxb *b = fxb_new(fx, &c);
	pvio_dev *dev = open_blk("vbd/10", 1, 4);
	ck_assert_uint_eq(b->order, 0);
	uint8_t *w = pvio_dma_alloc(ctx, 4096, 4096);
	ck_assert_int_eq(do_io(dev, 0, PVIO_BLK_OP_READ, 0, w, 4096, 4096), 0);
	pvio_dev_close(dev);
	free(fx->blk->disk);
	free(fx->blk);
	c = base_cfg();
	c.connected_early = true;
	fxb_new(fx, &c);
	dev = open_blk("vbd/11", 1, 4);
	ck_assert_int_eq(do_io(dev, 0, PVIO_BLK_OP_READ, 0, w, 4096, 4096), 0);
	pvio_dev_close(dev);
	pvio_dma_free(ctx, w);
}
END_TEST

START_TEST(no_such_device)
{
	pvio_dev *dev;
	fx->attach_err = -ENOENT;
	fxb_new(fx, &(struct fxb_cfg){ .sectors = 8 });
	ck_assert_int_eq(try_open("vbd/12", &dev), -ENODEV);
	ck_assert_ptr_nonnull(strstr(pvio_errmsg(ctx), "no vbd 12"));
	ck_assert(fx->closed);
	fx->attach_err = -EBUSY;
	ck_assert_int_eq(try_open("vbd/12", &dev), -EBUSY);
	/* a back end that never becomes ready: bounded */
	fx->attach_err = 0;
	fx->blk->cfg.never_ready = true;
	ck_assert_int_eq(try_open("vbd/12", &dev), -ETIMEDOUT);
	ck_assert_ptr_nonnull(strstr(pvio_errmsg(ctx), "is the back end running"));
}
END_TEST

/* ---- hostile responses ---- */

static pvio_dev *hostile_dev(struct fxb **bp)
{
	struct fxb_cfg c = base_cfg();
	c.manual = true;
	*bp = fxb_new(fx, &c);
	return open_blk("vbd/20?persistent=0", 1, 8);
}

/* let the back end consume n requests, then answer with rsp */
static void answer(struct fxb *b, blkif_response_t rsp)
{
	struct fxb_ring *r = &b->q[0];
	while (RING_HAS_UNCONSUMED_REQUESTS(&r->br))
		r->br.req_cons++;
	*RING_GET_RESPONSE(&r->br, r->br.rsp_prod_pvt) = rsp;
	r->br.rsp_prod_pvt++;
	int notify;
	RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&r->br, notify);
	(void)notify;
}

static blkif_request_t last_request(struct fxb *b)
{
	blkif_request_t rq;
	RING_COPY_REQUEST(&b->q[0].br, b->q[0].br.req_cons, &rq);
	return rq;
}

static void expect_broken(pvio_dev *dev, const char *why)
{
	struct pvio_blk_dcomp c[8];
	ck_assert_int_eq(dev->ops->blk->reap(dev, 0, c, 8), -EIO);
	const char *reason;
	ck_assert_int_eq(pvio_dev_state(dev, &reason), PVIO_DEV_BROKEN);
	ck_assert_msg(strstr(reason, why), "reason '%s' lacks '%s'", reason, why);
	/* and it stays broken: no I/O, no crash */
	ck_assert_int_eq(dev->ops->blk->reap(dev, 0, c, 8), -EIO);
	uint8_t buf[512];
	(void)buf;
	struct pvio_event ev;
	ck_assert_int_eq(pvio_dev_next_event(dev, &ev), 1);
	ck_assert_int_eq(ev.type, PVIO_EVENT_NEEDS_RESET);
}

START_TEST(response_id_out_of_range)
{
	struct fxb *b;
	pvio_dev *dev = hostile_dev(&b);
	uint8_t *w = pvio_dma_alloc(ctx, 4096, 4096);
	ck_assert_int_eq(submit(dev, 0, PVIO_BLK_OP_READ, 0, w, 4096, 4096, 1), 0);
	dev->ops->blk->kick(dev, 0);
	blkif_request_t rq = last_request(b);
	answer(b, (blkif_response_t){ .id = rq.id + 1000, .operation = 0 });
	expect_broken(dev, "out of range");
	ck_assert_int_eq(submit(dev, 0, PVIO_BLK_OP_READ, 0, w, 4096, 4096, 2),
			 -EIO);
	pvio_dev_close(dev);
	pvio_dma_free(ctx, w);
}
END_TEST

START_TEST(response_to_nothing_outstanding)
{
	struct fxb *b;
	pvio_dev *dev = hostile_dev(&b);
	uint8_t *w = pvio_dma_alloc(ctx, 8192, 4096);
	ck_assert_int_eq(submit(dev, 0, PVIO_BLK_OP_READ, 0, w, 4096, 4096, 1), 0);
	ck_assert_int_eq(submit(dev, 0, PVIO_BLK_OP_READ, 0, w + 4096, 4096, 4096, 2), 0);
	dev->ops->blk->kick(dev, 0);
	blkif_request_t rq = last_request(b);
	/* answer the first one twice */
	answer(b, (blkif_response_t){ .id = rq.id, .operation = 0 });
	struct pvio_blk_dcomp c[4];
	ck_assert_int_eq(dev->ops->blk->reap(dev, 0, c, 4), 1);
	ck_assert_uint_eq(c[0].tag, 1);
	answer(b, (blkif_response_t){ .id = rq.id, .operation = 0 });
	expect_broken(dev, "not an outstanding request");
	pvio_dev_close(dev);
	pvio_dma_free(ctx, w);
}
END_TEST

START_TEST(stale_id_of_a_reused_slot)
{
	struct fxb *b;
	pvio_dev *dev = hostile_dev(&b);
	uint8_t *w = pvio_dma_alloc(ctx, 4096, 4096);
	ck_assert_int_eq(submit(dev, 0, PVIO_BLK_OP_READ, 0, w, 4096, 4096, 1), 0);
	dev->ops->blk->kick(dev, 0);
	blkif_request_t old = last_request(b);
	answer(b, (blkif_response_t){ .id = old.id, .operation = 0 });
	struct pvio_blk_dcomp c[4];
	ck_assert_int_eq(dev->ops->blk->reap(dev, 0, c, 4), 1);
	/* the slot is reused; an answer with the old id is stale */
	ck_assert_int_eq(submit(dev, 0, PVIO_BLK_OP_READ, 0, w, 4096, 4096, 2), 0);
	dev->ops->blk->kick(dev, 0);
	blkif_request_t nw = last_request(b);
	ck_assert_uint_eq(nw.id & 0xffffffffu, old.id & 0xffffffffu);
	ck_assert_uint_ne(nw.id, old.id);
	answer(b, (blkif_response_t){ .id = old.id, .operation = 0 });
	expect_broken(dev, "not an outstanding request");
	pvio_dev_close(dev);
	pvio_dma_free(ctx, w);
}
END_TEST

START_TEST(response_for_a_request_not_yet_published)
{
	struct fxb *b;
	pvio_dev *dev = hostile_dev(&b);
	uint8_t *w = pvio_dma_alloc(ctx, 8192, 4096);
	ck_assert_int_eq(submit(dev, 0, PVIO_BLK_OP_READ, 0, w, 4096, 4096, 1), 0);
	dev->ops->blk->kick(dev, 0);
	/* queued, not published: a back end reading ahead of req_prod */
	ck_assert_int_eq(submit(dev, 0, PVIO_BLK_OP_READ, 4096, w + 4096, 4096,
				4096, 2), 0);
	struct fxb_ring *r = &b->q[0];
	blkif_request_t ahead;
	memcpy(&ahead, RING_GET_REQUEST(&r->br, r->br.sring->req_prod),
	       sizeof(ahead));
	answer(b, (blkif_response_t){ .id = ahead.id, .operation = 0 });
	expect_broken(dev, "not published");
	pvio_dev_close(dev);
	pvio_dma_free(ctx, w);
}
END_TEST

START_TEST(response_with_wrong_operation)
{
	struct fxb *b;
	pvio_dev *dev = hostile_dev(&b);
	uint8_t *w = pvio_dma_alloc(ctx, 4096, 4096);
	ck_assert_int_eq(submit(dev, 0, PVIO_BLK_OP_READ, 0, w, 4096, 4096, 1), 0);
	dev->ops->blk->kick(dev, 0);
	blkif_request_t rq = last_request(b);
	answer(b, (blkif_response_t){ .id = rq.id, .operation = BLKIF_OP_WRITE });
	expect_broken(dev, "operation 1, not 0");
	pvio_dev_close(dev);
	pvio_dma_free(ctx, w);
}
END_TEST

START_TEST(response_with_unknown_status)
{
	struct fxb *b;
	pvio_dev *dev = hostile_dev(&b);
	uint8_t *w = pvio_dma_alloc(ctx, 4096, 4096);
	ck_assert_int_eq(submit(dev, 0, PVIO_BLK_OP_READ, 0, w, 4096, 4096, 1), 0);
	ck_assert_int_eq(submit(dev, 0, PVIO_BLK_OP_READ, 0, w, 4096, 4096, 2), 0);
	ck_assert_int_eq(submit(dev, 0, PVIO_BLK_OP_READ, 0, w, 4096, 4096, 3), 0);
	dev->ops->blk->kick(dev, 0);
	blkif_request_t r1 = last_request(b);
	blkif_request_t r2;
	RING_COPY_REQUEST(&b->q[0].br, b->q[0].br.req_cons + 1, &r2);
	blkif_request_t r3;
	RING_COPY_REQUEST(&b->q[0].br, b->q[0].br.req_cons + 2, &r3);
	/* ERROR and EOPNOTSUPP are ordinary failures */
	answer(b, (blkif_response_t){ .id = r1.id, .status = BLKIF_RSP_ERROR });
	answer(b, (blkif_response_t){ .id = r2.id, .status = BLKIF_RSP_EOPNOTSUPP });
	struct pvio_blk_dcomp c[4];
	ck_assert_int_eq(dev->ops->blk->reap(dev, 0, c, 4), 2);
	ck_assert_int_eq(c[0].status, -EIO);
	ck_assert_int_eq(c[1].status, -EOPNOTSUPP);
	ck_assert_int_eq(pvio_dev_state(dev, NULL), PVIO_DEV_READY);
	answer(b, (blkif_response_t){ .id = r3.id, .status = 7 });
	expect_broken(dev, "unknown status 7");
	pvio_dev_close(dev);
	pvio_dma_free(ctx, w);
}
END_TEST

START_TEST(response_producer_runs_away)
{
	struct fxb *b;
	pvio_dev *dev = hostile_dev(&b);
	uint8_t *w = pvio_dma_alloc(ctx, 4096, 4096);
	ck_assert_int_eq(submit(dev, 0, PVIO_BLK_OP_READ, 0, w, 4096, 4096, 1), 0);
	dev->ops->blk->kick(dev, 0);
	b->q[0].br.sring->rsp_prod += 40; /* more than the ring */
	expect_broken(dev, "beyond the requests");
	/* waiting is refused too */
	ck_assert_int_lt(dev->ops->queue_arm(dev, 0), 0);
	pvio_dev_close(dev);
	pvio_dma_free(ctx, w);
}
END_TEST

START_TEST(backend_keeps_a_page_mapped)
{
	struct fxb_cfg c = base_cfg();
	c.keep_data_mapped = true;
	struct fxb *b = fxb_new(fx, &c);
	(void)b;
	pvio_dev *dev = open_blk("vbd/21?persistent=0", 1, 4);
	uint8_t *w = pvio_dma_alloc(ctx, 4096, 4096);
	ck_assert_int_eq(submit(dev, 0, PVIO_BLK_OP_WRITE, 0, w, 4096, 4096, 1), 0);
	dev->ops->blk->kick(dev, 0);
	struct pvio_blk_dcomp cp[4];
	ck_assert_int_eq(dev->ops->blk->reap(dev, 0, cp, 4), 1);
	ck_assert_int_eq(cp[0].status, -EIO);
	const char *why;
	ck_assert_int_eq(pvio_dev_state(dev, &why), PVIO_DEV_BROKEN);
	ck_assert_ptr_nonnull(strstr(why, "still maps"));
	/* find the mapped data grant: it was not revoked */
	uint32_t ref = 0;
	for (uint32_t i = 8; i < fx->gt.next; i++)
		if (fx->maps[i] && (flags_of_ref(i) & GTF_reading) &&
		    (flags_of_ref(i) & GTF_readonly))
			ref = i;
	ck_assert_uint_ne(ref, 0);
	pvio_dev_close(dev);
	/* still quarantined after close: never reused, never cleared */
	ck_assert_uint_eq(xen_gnttab_quarantined(&fx->gt), 1);
	ck_assert_uint_eq(flags_of_ref(ref) & GTF_type_mask, GTF_permit_access);
	uint32_t again;
	for (int i = 0; i < 100; i++) {
		ck_assert_int_eq(xen_gnt_alloc(&fx->gt, &again), 0);
		ck_assert_uint_ne(again, ref);
	}
	/* the back end finally unmaps: the entry was intact under it */
	fx_unmap(fx, ref);
	ck_assert_uint_eq(xen_gnttab_retry(&fx->gt), 0);
	pvio_dma_free(ctx, w);
}
END_TEST

START_TEST(backend_closes_with_io_in_flight)
{
	struct fxb *b;
	pvio_dev *dev = hostile_dev(&b);
	uint8_t *w = pvio_dma_alloc(ctx, 8192, 4096);
	ck_assert_int_eq(submit(dev, 0, PVIO_BLK_OP_READ, 0, w, 4096, 4096, 1), 0);
	ck_assert_int_eq(submit(dev, 0, PVIO_BLK_OP_READ, 0, w + 4096, 4096, 4096, 2), 0);
	dev->ops->blk->kick(dev, 0);
	blkif_request_t r1 = last_request(b);
	/* one answered, then the back end goes away */
	answer(b, (blkif_response_t){ .id = r1.id });
	fx_write(fx, "/local/domain/0/backend/vbd/2/20/state", "5");
	struct pvio_event ev;
	ck_assert_int_eq(pvio_dev_next_event(dev, &ev), 1);
	ck_assert_int_eq(ev.type, PVIO_EVENT_REMOVED);
	ck_assert_int_eq(pvio_dev_state(dev, NULL), PVIO_DEV_REMOVED);
	/* we followed it to Closed, as blkfront does */
	ck_assert_str_eq(fx_read(fx, "/local/domain/2/device/vbd/20/state"), "6");
	/* the answered request still completes; the other fails: no hang */
	struct pvio_blk_dcomp c[4];
	ck_assert_int_eq(dev->ops->blk->reap(dev, 0, c, 4), 1);
	ck_assert_uint_eq(c[0].tag, 1);
	ck_assert_int_eq(dev->ops->blk->reap(dev, 0, c, 4), -ENODEV);
	ck_assert_int_eq(submit(dev, 0, PVIO_BLK_OP_READ, 0, w, 4096, 4096, 3),
			 -ENODEV);
	ck_assert_int_eq(pvio_dev_wait(dev, 0, UINT64_MAX), -ENODEV);
	uint64_t t0 = pvio_now_ns(ctx);
	fx->blk->cfg.manual = false;
	pvio_dev_close(dev);
	/* bounded: the fake back end follows to Closed at once */
	ck_assert_uint_lt(pvio_now_ns(ctx) - t0, 800u * 1000000u);
	ck_assert_uint_eq(xen_gnttab_quarantined(&fx->gt), 0);
	pvio_dma_free(ctx, w);
}
END_TEST

START_TEST(quiesce_then_reap_what_is_left)
{
	struct fxb *b;
	pvio_dev *dev = hostile_dev(&b);
	uint8_t *w = pvio_dma_alloc(ctx, 8192, 4096);
	ck_assert_int_eq(submit(dev, 0, PVIO_BLK_OP_READ, 0, w, 4096, 4096, 1), 0);
	ck_assert_int_eq(submit(dev, 0, PVIO_BLK_OP_READ, 4096, w + 4096, 4096, 4096, 2), 0);
	dev->ops->blk->kick(dev, 0);
	fxb_process(fx, 0); /* answered, not yet reaped */
	fx->nfe_log = 0;
	ck_assert_int_eq(dev->ops->quiesce(dev), 0);
	/* the close handshake ran; the back end unmapped everything */
	ck_assert_uint_eq(fx->nfe_log, 2);
	ck_assert_int_eq(fx->fe_log[0], 5);
	ck_assert_int_eq(fx->fe_log[1], 6);
	ck_assert(!b->q[0].connected);
	ck_assert_int_eq(pvio_dev_state(dev, NULL), PVIO_DEV_STOPPED);
	/* what had been answered is still reaped; nothing new is taken */
	struct pvio_blk_dcomp c[4];
	ck_assert_int_eq(dev->ops->blk->reap(dev, 0, c, 4), 2);
	ck_assert_int_eq(dev->ops->blk->reap(dev, 0, c, 4), 0);
	ck_assert_int_eq(submit(dev, 0, PVIO_BLK_OP_READ, 0, w, 4096, 4096, 3),
			 -EIO);
	ck_assert_int_eq(dev->ops->quiesce(dev), 0); /* idempotent */
	pvio_dev_close(dev);
	ck_assert_uint_eq(xen_gnttab_quarantined(&fx->gt), 0);
	pvio_dma_free(ctx, w);
}
END_TEST

START_TEST(capacity_change)
{
	struct fxb_cfg c = base_cfg();
	fxb_new(fx, &c);
	pvio_dev *dev = open_blk("vbd/22", 1, 4);
	struct pvio_event ev;
	while (pvio_dev_next_event(dev, &ev) == 1)
		;
	fx_write(fx, "/local/domain/0/backend/vbd/2/22/sectors", "16384");
	fx_write(fx, "/local/domain/0/backend/vbd/2/22/state", "4");
	ck_assert_int_eq(pvio_dev_next_event(dev, &ev), 1);
	ck_assert_int_eq(ev.type, PVIO_EVENT_CONFIG_CHANGE);
	ck_assert_uint_eq(dev->limits.blk.capacity, 16384ull * 512);
	/* a garbage size breaks the device instead of being believed */
	fx_write(fx, "/local/domain/0/backend/vbd/2/22/sectors", "lots");
	fx_write(fx, "/local/domain/0/backend/vbd/2/22/state", "4");
	ck_assert_int_eq(pvio_dev_next_event(dev, &ev), 1);
	ck_assert_int_eq(ev.type, PVIO_EVENT_NEEDS_RESET);
	ck_assert_uint_eq(dev->limits.blk.capacity, 16384ull * 512);
	pvio_dev_close(dev);
}
END_TEST

START_TEST(notifications_follow_req_event_and_irqs)
{
	struct fxb *b;
	pvio_dev *dev = hostile_dev(&b);
	uint8_t *w = pvio_dma_alloc(ctx, 4096, 4096);
	/* first request: the back end asked (req_event 1) */
	ck_assert_int_eq(submit(dev, 0, PVIO_BLK_OP_READ, 0, w, 512, 512, 1), 0);
	ck_assert_int_eq(dev->ops->blk->kick(dev, 0), 0);
	/* the back end is busy and has not re-armed: suppressed */
	ck_assert_int_eq(submit(dev, 0, PVIO_BLK_OP_READ, 0, w, 512, 512, 2), 0);
	ck_assert_int_eq(dev->ops->blk->kick(dev, 0), 0);
	ck_assert_uint_eq(dev->stats[0].notify_sent, 1);
	ck_assert_uint_eq(dev->stats[0].notify_suppressed, 1);
	struct fx_evt *e = b->q[0].ev;
	ck_assert_uint_eq(e->kicks, 1);
	/* nothing to publish: no notification at all */
	ck_assert_int_eq(dev->ops->blk->kick(dev, 0), 0);
	ck_assert_uint_eq(e->kicks, 1);
	/* armed: nothing pending */
	ck_assert_int_eq(dev->ops->queue_arm(dev, 0), 0);
	int fd = dev->ops->queue_fd(dev, 0);
	ck_assert_int_ge(fd, 0);
	/* the back end works and interrupts us once */
	fxb_process(fx, 0);
	ck_assert_uint_eq(e->irqs, 1);
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ck_assert_int_eq(poll(&pfd, 1, 0), 1);
	dev->ops->queue_ack(dev, 0);
	ck_assert_int_eq(poll(&pfd, 1, 0), 0);
	ck_assert_int_eq(dev->ops->queue_arm(dev, 0), 1);
	struct pvio_blk_dcomp c[4];
	ck_assert_int_eq(dev->ops->blk->reap(dev, 0, c, 4), 2);
	/* disarmed (busy polling): the back end does not interrupt */
	dev->ops->queue_disarm(dev, 0);
	ck_assert_int_eq(submit(dev, 0, PVIO_BLK_OP_READ, 0, w, 512, 512, 3), 0);
	dev->ops->blk->kick(dev, 0);
	fxb_process(fx, 0);
	ck_assert_uint_eq(e->irqs, 1);
	ck_assert_int_eq(dev->ops->blk->reap(dev, 0, c, 4), 1);
	pvio_dev_close(dev);
	pvio_dma_free(ctx, w);
}
END_TEST

START_TEST(address_options)
{
	char type[4];
	uint32_t id;
	struct xen_opts o;
	ck_assert_int_eq(xen_parse_device(ctx, "vbd/51712", type, &id, &o), 0);
	ck_assert_str_eq(type, "vbd");
	ck_assert_uint_eq(id, 51712);
	ck_assert(o.attach && o.persistent && !o.copy && o.split);
	ck_assert_uint_eq(o.ring_order, 4);
	ck_assert_uint_eq(o.indirect, 256);
	ck_assert_int_eq(xen_parse_device(ctx, "vif/0?copy=1&queues=2&split=0&attach=0",
					  type, &id, &o),
			 0);
	ck_assert_str_eq(type, "vif");
	ck_assert(o.copy && !o.split && !o.attach);
	ck_assert_uint_eq(o.queues, 2);
	static const char *const bad[] = {
		"vbd", "vbd/", "vxd/1", "vbd/x", "vbd/0x10", "vbd/1?bogus=1",
		"vbd/1?copy=2", "vbd/1?ring-order=5", "vbd/1?queues=-1",
		"vbd/99999999999",
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(xen_parse_device(ctx, bad[i], type, &id, &o) == -EINVAL,
			      "%s accepted", bad[i]);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("xen_blk");
	TCase *tc = tcase_create("blk");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, basic_io_and_limits);
	tcase_add_test(tc, bad_requests_are_refused);
	tcase_add_test(tc, indirect_segments);
	tcase_add_test(tc, indirect_limit_is_clamped);
	tcase_add_test(tc, persistent_grants_copy);
	tcase_add_test(tc, copy_pool_fits_the_share_limit);
	tcase_add_test(tc, untrusted_backend_gets_copies);
	tcase_add_test(tc, multi_page_ring_and_queues);
	tcase_add_test(tc, order_and_queue_keys_are_clamped);
	tcase_add_test(tc, barrier_and_discard);
	tcase_add_test(tc, large_sectors_use_512_byte_units);
	tcase_add_test(tc, garbage_from_the_backend_refuses_the_device);
	tcase_add_test(tc, backend_variants_connect);
	tcase_add_test(tc, no_such_device);
	tcase_add_test(tc, response_id_out_of_range);
	tcase_add_test(tc, response_to_nothing_outstanding);
	tcase_add_test(tc, stale_id_of_a_reused_slot);
	tcase_add_test(tc, response_for_a_request_not_yet_published);
	tcase_add_test(tc, response_with_wrong_operation);
	tcase_add_test(tc, response_with_unknown_status);
	tcase_add_test(tc, response_producer_runs_away);
	tcase_add_test(tc, backend_keeps_a_page_mapped);
	tcase_add_test(tc, backend_closes_with_io_in_flight);
	tcase_add_test(tc, quiesce_then_reap_what_is_left);
	tcase_add_test(tc, capacity_change);
	tcase_add_test(tc, notifications_follow_req_event_and_irqs);
	tcase_add_test(tc, address_options);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
