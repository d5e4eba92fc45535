/* SPDX-License-Identifier: MIT */
/*
 * backends/xen/blk.c - the blkif adapter (Xen PV block, blkfront side).
 *
 * Connects at open, because a vbd's size (`sectors`) is only published
 * once the back end is Connected: up to `queues` rings (default: what the
 * back end offers, at most 4) of 2^order pages (order up to the back
 * end's max-ring-page-order, at most 4).  configure() then sizes the
 * per-queue request state to the front end's tag count.
 *
 * Units (xen-pv.md 8.4): sector_number, first_sect/last_sect and
 * `sectors` are 512-byte units whatever `sector-size` is (as Linux
 * blkback and blkfront do; we never write feature-large-sector-size);
 * `sector-size` is the logical block size the front end must respect.
 *
 * Data pages reach the back end one of two ways:
 *  - direct: each segment's page of the DMA pool is granted for the
 *    request and the grant ended at completion (a grant still mapped then
 *    means the back end broke the protocol: the device is broken and the
 *    ref quarantined);
 *  - copy: a per-queue pool of pages granted once (persistent grants when
 *    both sides offer feature-persistent; also for back ends the
 *    toolstack marked untrusted, and for hostifs that cannot grant
 *    arbitrary pages): data is copied in for writes and out after reads,
 *    counted in stats.copies / copy_bytes.
 * Requests of more than 11 segments use BLKIF_OP_INDIRECT with
 * per-request indirect pages granted once at configure (read-only, or
 * writable with persistent grants: Linux blkback then maps everything
 * writable).
 *
 * Responses are copied out of the ring once and checked: id in range and
 * outstanding (ids carry a per-slot sequence number in their upper half,
 * so a stale or duplicated id is caught too), operation matching the
 * request, status one of OKAY/ERROR/EOPNOTSUPP.
 */
#include "xen.h"

#define BLK_MAX_ORDER 4u
#define BLK_MAX_QUEUES 16u
#define BLK_DEFAULT_QUEUES 4u
#define BLK_MAX_INDIRECT_SEGS (XEN_BLKIF_MAX_INDIRECT_PAGES * \
			       XEN_BLKIF_SEGS_PER_INDIRECT_PAGE)
#define BLK_POOL_MAX 2048u      /* copy-mode pages per queue (8 MiB) */
#define BLK_MAX_DISCARD (1ull << 30)

#if defined(__aarch64__) || defined(__arm__)
#define BLK_PROTOCOL "arm-abi"
#else
#define BLK_PROTOCOL "x86_64-abi" /* our layouts are the x86_64 ones */
#endif

struct blk_seg {
	void *va;
	uint32_t len;
	uint32_t gref;
	uint16_t page;
	uint16_t off;
};

struct blk_shadow {
	uint32_t tag;
	uint32_t seq;
	uint32_t idx;      /* ring index of its request */
	uint16_t nseg;
	uint8_t wire_op;
	uint8_t op;
	bool busy;
};

struct blk_q {
	struct xen_fring ring;
	struct xen_shared ring_mem;
	struct xen_evtchn ev;
	uint32_t nsh;
	struct blk_shadow *sh;
	struct blk_seg *segs;
	uint32_t *free_ids;
	uint32_t nfree;
	struct xen_shared ind;
	struct xen_shared pool;
	uint32_t *pool_free;
	uint32_t npool_free;
	struct xen_gnt_pool gp;
};

struct xen_blk {
	struct xen_dev *xd;
	uint32_t nq, order, nr_ents;
	uint32_t max_segs, ind_pages;
	bool indirect, persistent, flush_cache, barrier, discard;
	bool be_persistent;
	uint32_t ss, pss, info, discard_gran;
	uint32_t indirect_offered;
	uint64_t sectors;
	uint16_t handle;
	uint32_t nq_used;
	bool configured;
	struct blk_q q[BLK_MAX_QUEUES];
};

static inline struct xen_blk *blk_of(pvio_dev *dev)
{
	return xen_dev_of(dev)->cpriv;
}

/* An optional back-end key: dflt when absent, an error when not a number
 * in [0, max]. */
static int be_u64(struct xen_blk *b, const char *key, uint64_t max,
		  uint64_t dflt, uint64_t *v)
{
	struct xen_dev *xd = b->xd;
	char path[300];
	pvio_snprintf(path, sizeof(path), "%s/%s", xd->xb.be, key);
	int r = xs_read_u64(xd->xs, 0, path, max, v);
	if (r == -ENOENT) {
		*v = dflt;
		return 0;
	}
	if (r == -EINVAL || r == -ERANGE)
		return pvio_set_error(xd->ctx, EPROTO,
				      "the back end's %s is not a number from 0 "
				      "to %llu; refusing the device",
				      path, (unsigned long long)max);
	if (r < 0)
		return pvio_set_error(xd->ctx, -r, "cannot read %s: %s", path,
				      pvio_strerror(r));
	return 0;
}

static bool pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

/* ---------------------------------------------------------------- handshake */

static int blk_features(void *arg)
{
	struct xen_blk *b = arg;
	struct xen_dev *xd = b->xd;
	uint64_t order, queues;
	int r;

	if ((r = be_u64(b, "max-ring-page-order", UINT32_MAX, 0, &order)) < 0 ||
	    (r = be_u64(b, "multi-queue-max-queues", UINT32_MAX, 1, &queues)) < 0)
		return r;
	/* clamp to what we do and what we were asked for */
	if (order > BLK_MAX_ORDER)
		order = BLK_MAX_ORDER;
	if (order > xd->opts.ring_order)
		order = xd->opts.ring_order;
	uint32_t want = xd->opts.queues ? xd->opts.queues : BLK_DEFAULT_QUEUES;
	if (queues == 0)
		queues = 1;
	if (queues > want)
		queues = want;
	if (queues > BLK_MAX_QUEUES)
		queues = BLK_MAX_QUEUES;
	b->order = (uint32_t)order;

	uint32_t npages = 1u << b->order;
	for (uint32_t i = 0; i < queues; i++) {
		struct blk_q *q = &b->q[i];
		r = xd->h->ops->share(xd->h, xd->xb.be_domid, npages, false,
				      &q->ring_mem);
		if (r < 0)
			return xen_share_error(xd, r, "a ring", npages);
		b->nq = i + 1;
		xen_ring_init(&q->ring, q->ring_mem.va,
			      (size_t)npages * XEN_PAGE_SIZE, XEN_BLKIF_SLOT, 0);
		r = xd->h->ops->evtchn_alloc(xd->h, xd->xb.be_domid, &q->ev);
		if (r < 0)
			return pvio_set_error(xd->ctx, -r,
					      "cannot allocate an event channel: "
					      "%s",
					      pvio_strerror(r));
	}
	b->nr_ents = b->q[0].ring.nr_ents;
	return 0;
}

static int write_ring(struct xs_client *xs, uint32_t tx, struct xen_blk *b,
		      const char *base, struct blk_q *q)
{
	char path[200];
	int r;
	if (b->order == 0) {
		pvio_snprintf(path, sizeof(path), "%s/ring-ref", base);
		r = xs_printf(xs, tx, path, "%u", q->ring_mem.refs[0]);
	} else {
		for (uint32_t i = 0; i < (1u << b->order); i++) {
			pvio_snprintf(path, sizeof(path), "%s/ring-ref%u", base,
				      i);
			r = xs_printf(xs, tx, path, "%u", q->ring_mem.refs[i]);
			if (r < 0)
				return r;
		}
	}
	if (r < 0)
		return r;
	pvio_snprintf(path, sizeof(path), "%s/event-channel", base);
	return xs_printf(xs, tx, path, "%u", q->ev.port);
}

static int blk_keys(struct xs_client *xs, uint32_t tx, void *arg)
{
	struct xen_blk *b = arg;
	const char *fe = b->xd->xb.fe;
	char path[200];
	int r;

	if (b->order) {
		pvio_snprintf(path, sizeof(path), "%s/ring-page-order", fe);
		if ((r = xs_printf(xs, tx, path, "%u", b->order)) < 0)
			return r;
	}
	if (b->nq == 1) {
		if ((r = write_ring(xs, tx, b, fe, &b->q[0])) < 0)
			return r;
	} else {
		pvio_snprintf(path, sizeof(path), "%s/multi-queue-num-queues",
			      fe);
		if ((r = xs_printf(xs, tx, path, "%u", b->nq)) < 0)
			return r;
		for (uint32_t i = 0; i < b->nq; i++) {
			char base[160];
			pvio_snprintf(base, sizeof(base), "%s/queue-%u", fe, i);
			if ((r = write_ring(xs, tx, b, base, &b->q[i])) < 0)
				return r;
		}
	}
	pvio_snprintf(path, sizeof(path), "%s/protocol", fe);
	if ((r = xs_write(xs, tx, path, BLK_PROTOCOL)) < 0)
		return r;
	pvio_snprintf(path, sizeof(path), "%s/feature-persistent", fe);
	return xs_printf(xs, tx, path, "%u", b->xd->opts.persistent ? 1u : 0u);
}

static int blk_props(void *arg)
{
	struct xen_blk *b = arg;
	struct xen_dev *xd = b->xd;
	pvio_ctx *ctx = xd->ctx;
	uint64_t sectors, ss, pss, info, flush, barrier, discard, gran,
		persistent, ind;
	char path[300];
	int r;

	/* required */
	pvio_snprintf(path, sizeof(path), "%s/sectors", xd->xb.be);
	r = xs_read_u64(xd->xs, 0, path, UINT64_MAX / 512, &sectors);
	if (r < 0)
		return pvio_set_error(ctx, r == -ENOENT ? ENODEV : EPROTO,
				      "the back end's %s is %s; refusing the "
				      "device",
				      path, r == -ENOENT ? "missing" : "invalid");
	pvio_snprintf(path, sizeof(path), "%s/sector-size", xd->xb.be);
	r = xs_read_u64(xd->xs, 0, path, UINT32_MAX, &ss);
	if (r < 0)
		return pvio_set_error(ctx, r == -ENOENT ? ENODEV : EPROTO,
				      "the back end's %s is %s; refusing the "
				      "device",
				      path, r == -ENOENT ? "missing" : "invalid");
	if (!pow2(ss) || ss < 512 || ss > XEN_PAGE_SIZE)
		return pvio_set_error(ctx, EPROTO,
				      "the back end's sector-size %llu is not a "
				      "power of two from 512 to 4096; refusing "
				      "the device",
				      (unsigned long long)ss);
	/* optional */
	if ((r = be_u64(b, "info", UINT32_MAX, 0, &info)) < 0 ||
	    (r = be_u64(b, "physical-sector-size", UINT32_MAX, ss, &pss)) < 0 ||
	    (r = be_u64(b, "feature-flush-cache", UINT32_MAX, 0, &flush)) < 0 ||
	    (r = be_u64(b, "feature-barrier", UINT32_MAX, 0, &barrier)) < 0 ||
	    (r = be_u64(b, "feature-discard", UINT32_MAX, 0, &discard)) < 0 ||
	    (r = be_u64(b, "discard-granularity", UINT32_MAX, ss, &gran)) < 0 ||
	    (r = be_u64(b, "feature-persistent", UINT32_MAX, 0, &persistent)) < 0 ||
	    (r = be_u64(b, "feature-max-indirect-segments", UINT32_MAX, 0,
			&ind)) < 0)
		return r;
	if (!pow2(pss) || pss < ss)
		return pvio_set_error(ctx, EPROTO,
				      "the back end's physical-sector-size %llu "
				      "is not a power of two >= sector-size; "
				      "refusing the device",
				      (unsigned long long)pss);
	if (discard && (!pow2(gran) || gran < ss)) {
		pvio_log(ctx, PVIO_LOG_WARN,
			 "%s: discard-granularity %llu is not a power of two "
			 ">= sector-size; not using discard",
			 xd->xb.fe, (unsigned long long)gran);
		discard = 0;
	}
	b->sectors = sectors;
	b->ss = (uint32_t)ss;
	b->pss = (uint32_t)pss;
	b->info = (uint32_t)info;
	b->flush_cache = flush != 0;
	b->barrier = barrier != 0;
	b->discard = discard != 0;
	b->discard_gran = (uint32_t)gran;
	b->be_persistent = persistent != 0;
	b->persistent = b->be_persistent && xd->opts.persistent;
	b->indirect_offered = (uint32_t)(ind > UINT32_MAX ? UINT32_MAX : ind);
	if (ind > BLK_MAX_INDIRECT_SEGS)
		ind = BLK_MAX_INDIRECT_SEGS;
	if (ind > xd->opts.indirect)
		ind = xd->opts.indirect;
	b->indirect = ind > XEN_BLKIF_MAX_SEGS;
	b->max_segs = b->indirect ? (uint32_t)ind : XEN_BLKIF_MAX_SEGS;
	b->ind_pages = b->indirect
		? (b->max_segs + XEN_BLKIF_SEGS_PER_INDIRECT_PAGE - 1) /
			  XEN_BLKIF_SEGS_PER_INDIRECT_PAGE
		: 0;
	return 0;
}

static void blk_fill(struct xen_blk *b)
{
	struct xen_dev *xd = b->xd;
	pvio_dev *dev = xd->dev;
	struct pvio_blk_limits *L = &dev->limits.blk;

	if (b->persistent)
		xd->copy = true;
	L->capacity = (b->sectors * 512u) & ~(uint64_t)(b->ss - 1);
	L->block_size = b->ss;
	L->physical_block_size = b->pss;
	L->max_segments = b->max_segs;
	L->max_segment_size = XEN_PAGE_SIZE;
	L->max_transfer = b->max_segs * XEN_PAGE_SIZE;
	L->dma_align = 512;
	L->seg_boundary = XEN_PAGE_SIZE;
	L->virt_boundary = 0;
	L->max_discard = b->discard ? BLK_MAX_DISCARD : 0;
	L->max_write_zeroes = 0;
	L->discard_granularity = b->discard ? b->discard_gran : 0;
	L->max_queues = b->nq;
	L->queue_size = b->nr_ents;
	L->read_only = (b->info & (XEN_VDISK_READONLY | XEN_VDISK_CDROM)) != 0;
	L->flush = b->flush_cache || b->barrier;
	L->discard = b->discard;
	L->write_zeroes = false;
	L->fua = false;

	struct pvio_dev_info *in = &dev->info;
	in->max_queues = b->nq;
	in->queue_size = b->nr_ents;
	in->max_segments = L->max_segments;
	in->max_transfer = L->max_transfer;
	in->max_segment_size = L->max_segment_size;
	uint64_t f = PVIO_F_EVENT_SUPPRESS;
	if (b->indirect)
		f |= PVIO_F_INDIRECT;
	if (b->persistent)
		f |= PVIO_F_PERSISTENT_MAP;
	if (b->order)
		f |= PVIO_F_MULTI_PAGE_RING;
	if (b->nq > 1)
		f |= PVIO_F_MULTIQUEUE;
	if (b->flush_cache)
		f |= PVIO_F_BLK_FLUSH;
	if (b->barrier)
		f |= PVIO_F_BLK_BARRIER;
	if (b->discard)
		f |= PVIO_F_BLK_DISCARD;
	if (L->read_only)
		f |= PVIO_F_BLK_READ_ONLY;
	if (b->pss != b->ss)
		f |= PVIO_F_BLK_TOPOLOGY;
	in->offered = f;
	in->features = f & ~PVIO_F_MULTIQUEUE;
	pvio_snprintf(in->native, sizeof(in->native),
		      "ring-page-order=%u queues=%u "
		      "feature-max-indirect-segments=%u feature-persistent=%u "
		      "sector-size=%u info=0x%x%s",
		      b->order, b->nq, b->indirect_offered,
		      b->be_persistent ? 1u : 0u, b->ss, b->info,
		      xd->copy ? " copy" : "");
}

static int blk_open(struct xen_dev *xd)
{
	struct xen_blk *b = pvio_zalloc(xd->ctx, sizeof(*b));
	if (!b)
		return pvio_set_error(xd->ctx, ENOMEM, "out of memory");
	xd->cpriv = b;
	b->xd = xd;
	b->handle = (uint16_t)xd->devid;
	static const struct xen_xb_hooks hooks = {
		.features = blk_features,
		.keys = blk_keys,
		.props = blk_props,
	};
	int r = xen_xb_connect(&xd->xb, &hooks, b, pvio_deadline(xd->ctx));
	if (r < 0)
		return r;
	xd->connected = true;
	blk_fill(b);
	return 0;
}

static void blk_changed(struct xen_dev *xd)
{
	struct xen_blk *b = xd->cpriv;
	char path[300];
	uint64_t sectors;
	if (xd->xb.be_state != XEN_XB_CONNECTED)
		return;
	/* a repeated Connected announces a new size */
	pvio_snprintf(path, sizeof(path), "%s/sectors", xd->xb.be);
	int r = xs_read_u64(xd->xs, 0, path, UINT64_MAX / 512, &sectors);
	if (r < 0) {
		pvio_dev_set_broken(xd->dev, "the back end's sectors became %s",
				    r == -ENOENT ? "missing" : "invalid");
		return;
	}
	if (sectors != b->sectors) {
		b->sectors = sectors;
		xd->dev->limits.blk.capacity =
			(sectors * 512u) & ~(uint64_t)(b->ss - 1);
		pvio_dev_push_event(xd->dev, PVIO_EVENT_CONFIG_CHANGE, 0);
	}
}

/* ---------------------------------------------------------------- configure */

static int blk_q_setup(struct xen_blk *b, struct blk_q *q, uint32_t tags,
		       uint32_t queues_left)
{
	struct xen_dev *xd = b->xd;
	pvio_ctx *ctx = xd->ctx;
	uint16_t dom = xd->xb.be_domid;
	int r;

	q->nsh = tags < b->nr_ents ? tags : b->nr_ents;
	if (xd->copy && b->indirect && xd->h->share_limit) {
		/* Shared pages are limited (gntalloc): every request slot
		 * holds ind_pages indirect pages, and the copy pool needs at
		 * least one request's worth.  Fewer slots, rather than a
		 * failure, when both do not fit. */
		uint32_t room = xen_share_room(xd->h) / queues_left;
		uint32_t fit = room > b->max_segs
				       ? (room - b->max_segs) / b->ind_pages
				       : 0;
		if (fit < q->nsh)
			q->nsh = fit ? fit : 1;
	}
	q->sh = pvio_zalloc(ctx, q->nsh * sizeof(*q->sh));
	q->segs = pvio_zalloc(ctx, (size_t)q->nsh * b->max_segs *
					   sizeof(*q->segs));
	q->free_ids = pvio_zalloc(ctx, q->nsh * sizeof(uint32_t));
	if (!q->sh || !q->segs || !q->free_ids)
		return pvio_set_error(ctx, ENOMEM, "out of memory");
	for (uint32_t i = 0; i < q->nsh; i++)
		q->free_ids[i] = q->nsh - 1 - i;
	q->nfree = q->nsh;

	if (b->indirect) {
		/* read-only is enough, except that with persistent grants
		 * Linux blkback maps every grant writable (xen_blkbk_map) */
		r = xd->h->ops->share(xd->h, dom, q->nsh * b->ind_pages,
				      !b->persistent, &q->ind);
		if (r < 0)
			return xen_share_error(xd, r, "indirect segments",
					       q->nsh * b->ind_pages);
	}
	uint64_t want = (uint64_t)q->nsh * b->max_segs;
	if (xd->copy) {
		uint32_t room = xen_share_room(xd->h) / queues_left;
		uint32_t pages = want > BLK_POOL_MAX ? BLK_POOL_MAX
						     : (uint32_t)want;
		if (pages < b->max_segs)
			pages = b->max_segs;
		if (pages > room)
			pages = room;
		if (pages < b->max_segs)
			return pvio_set_error(ctx, ENOSPC,
					      "%u pages can still be shared, too "
					      "few for %u queues of %u-segment "
					      "requests; use fewer queues or a "
					      "smaller ?indirect=",
					      xen_share_room(xd->h), queues_left,
					      b->max_segs);
		r = xd->h->ops->share(xd->h, dom, pages, false, &q->pool);
		if (r < 0)
			return xen_share_error(xd, r, "the data pool", pages);
		q->pool_free = pvio_zalloc(ctx, pages * sizeof(uint32_t));
		if (!q->pool_free)
			return pvio_set_error(ctx, ENOMEM, "out of memory");
		for (uint32_t i = 0; i < pages; i++)
			q->pool_free[i] = pages - 1 - i;
		q->npool_free = pages;
	} else {
		uint32_t avail = xen_gnttab_available(xd->h->gnttab) /
				 queues_left;
		uint32_t refs = want > avail ? avail : (uint32_t)want;
		if (refs < b->max_segs)
			return pvio_set_error(ctx, ENOSPC,
					      "the grant table has too few free "
					      "entries for %u queues; use fewer "
					      "queues or a smaller ?indirect=",
					      queues_left);
		r = xen_gnt_pool_init(&q->gp, xd->h->gnttab, refs);
		if (r < 0)
			return pvio_set_error(ctx, -r, "cannot reserve grants: %s",
					      pvio_strerror(r));
	}
	return 0;
}

static int blk_configure(pvio_dev *dev, const struct pvio_dev_config *cfg)
{
	struct xen_dev *xd = xen_dev_of(dev);
	struct xen_blk *b = xd->cpriv;

	if (b->configured)
		return pvio_set_error(xd->ctx, EBUSY,
				      "%s is already configured", dev->address);
	if (cfg->num_queues > b->nq)
		return pvio_set_error(xd->ctx, EINVAL,
				      "%u queues asked for, the device has %u",
				      cfg->num_queues, b->nq);
	uint32_t nsh = UINT32_MAX;
	for (uint32_t i = 0; i < cfg->num_queues; i++) {
		int r = blk_q_setup(b, &b->q[i], cfg->max_tags,
				    cfg->num_queues - i);
		if (r < 0)
			return r;
		if (b->q[i].nsh < nsh)
			nsh = b->q[i].nsh;
	}
	b->nq_used = cfg->num_queues;
	b->configured = true;
	dev->info.num_queues = cfg->num_queues;
	dev->info.queue_size = nsh;
	dev->info.features = dev->info.offered;
	if (cfg->num_queues < 2)
		dev->info.features &= ~PVIO_F_MULTIQUEUE;
	return 0;
}

/* ---------------------------------------------------------------- data path */

static int unusable(pvio_dev *dev)
{
	return dev->state == PVIO_DEV_REMOVED ? -ENODEV : -EIO;
}

static int check_segs(const struct xen_blk *b, const struct pvio_blk_dreq *r)
{
	uint64_t sum = 0;
	if (!r->nseg || r->nseg > b->max_segs || !r->seg)
		return -EINVAL;
	for (uint32_t i = 0; i < r->nseg; i++) {
		const struct pvio_dseg *s = &r->seg[i];
		uint32_t off = (uint32_t)(s->dev_addr & (XEN_PAGE_SIZE - 1));
		if (!s->len || (s->len & 511) || (off & 511) ||
		    off + s->len > XEN_PAGE_SIZE || !s->va)
			return -EINVAL;
		sum += s->len;
	}
	return sum == r->len ? 0 : -EINVAL;
}

static int blk_enqueue(pvio_dev *dev, unsigned qi, const struct pvio_blk_dreq *r)
{
	struct xen_dev *xd = xen_dev_of(dev);
	struct xen_blk *b = xd->cpriv;
	const struct pvio_blk_limits *L = &dev->limits.blk;

	if (!pvio_dev_usable(dev))
		return unusable(dev);
	if (qi >= b->nq_used || r->fua)
		return -EINVAL;
	struct blk_q *q = &b->q[qi];

	uint8_t wire = 0;
	switch (r->op) {
	case PVIO_BLK_OP_READ:
	case PVIO_BLK_OP_WRITE:
		if (r->op == PVIO_BLK_OP_WRITE && L->read_only)
			return -EROFS;
		if (check_segs(b, r) < 0 || (r->offset & (b->ss - 1)) ||
		    (r->len & (b->ss - 1)) || r->offset > L->capacity ||
		    r->len > L->capacity - r->offset)
			return -EINVAL;
		wire = r->op == PVIO_BLK_OP_READ ? XEN_BLKIF_OP_READ
						 : XEN_BLKIF_OP_WRITE;
		break;
	case PVIO_BLK_OP_FLUSH:
		if (!L->flush)
			return -EOPNOTSUPP;
		if (r->nseg)
			return -EINVAL;
		wire = b->flush_cache ? XEN_BLKIF_OP_FLUSH_DISKCACHE
				      : XEN_BLKIF_OP_WRITE_BARRIER;
		break;
	case PVIO_BLK_OP_DISCARD:
		if (!L->discard)
			return -EOPNOTSUPP;
		if (L->read_only)
			return -EROFS;
		if (r->nseg || !r->len || (r->offset & (b->ss - 1)) ||
		    (r->len & (b->ss - 1)) || r->offset > L->capacity ||
		    r->len > L->capacity - r->offset)
			return -EINVAL;
		wire = XEN_BLKIF_OP_DISCARD;
		break;
	default:
		return -EOPNOTSUPP;
	}

	/* room: a ring slot, an id, and grants or pool pages */
	if (!xen_ring_free(&q->ring) || !q->nfree)
		return -EAGAIN;
	if (r->nseg && (xd->copy ? q->npool_free < r->nseg : q->gp.n < r->nseg))
		return -EAGAIN;

	uint32_t id = q->free_ids[q->nfree - 1];
	struct blk_shadow *sh = &q->sh[id];
	struct blk_seg *ss = &q->segs[(size_t)id * b->max_segs];
	struct pvio_queue_stats *st = &dev->stats[qi];
	uint64_t wid = ((uint64_t)(sh->seq + 1) << 32) | id;
	uint64_t sector = r->offset >> 9;

	/* grant or copy each segment */
	uint64_t copied = 0;
	for (uint32_t i = 0; i < r->nseg; i++) {
		const struct pvio_dseg *s = &r->seg[i];
		struct blk_seg *g = &ss[i];
		g->va = s->va;
		g->len = s->len;
		g->off = (uint16_t)(s->dev_addr & (XEN_PAGE_SIZE - 1));
		if (xd->copy) {
			g->page = (uint16_t)q->pool_free[--q->npool_free];
			g->gref = q->pool.refs[g->page];
			if (r->op == PVIO_BLK_OP_WRITE) {
				memcpy((uint8_t *)q->pool.va +
					       (size_t)g->page * XEN_PAGE_SIZE +
					       g->off,
				       s->va, s->len);
				copied += s->len;
			}
		} else {
			int e = xen_gnt_pool_grant(&q->gp, xd->xb.be_domid,
						   xen_gfn(s->dev_addr),
						   r->op == PVIO_BLK_OP_WRITE,
						   &g->gref);
			if (e < 0) {
				/* undo: nothing was published yet */
				for (uint32_t j = 0; j < i; j++)
					xen_gnt_pool_end(&q->gp, ss[j].gref);
				return e == -EAGAIN ? -EAGAIN : -EINVAL;
			}
		}
	}
	if (copied) {
		st->copies++;
		st->copy_bytes += copied;
	}

	void *slot = xen_ring_slot(&q->ring, q->ring.req_prod_pvt);
	if (r->op == PVIO_BLK_OP_DISCARD) {
		struct xen_blkif_req_discard d = {
			.operation = XEN_BLKIF_OP_DISCARD,
			.handle = PVIO_LE16(b->handle),
			.id = PVIO_LE64(wid),
			.sector_number = PVIO_LE64(sector),
			.nr_sectors = PVIO_LE64(r->len >> 9),
		};
		memcpy(slot, &d, sizeof(d));
	} else if (r->nseg > XEN_BLKIF_MAX_SEGS) {
		struct xen_blkif_req_indirect d = {
			.operation = XEN_BLKIF_OP_INDIRECT,
			.indirect_op = wire,
			.nr_segments = PVIO_LE16(r->nseg),
			.id = PVIO_LE64(wid),
			.sector_number = PVIO_LE64(sector),
			.handle = PVIO_LE16(b->handle),
		};
		uint8_t *pages = (uint8_t *)q->ind.va +
				 (size_t)id * b->ind_pages * XEN_PAGE_SIZE;
		for (uint32_t i = 0; i < r->nseg; i++) {
			struct xen_blkif_seg e = {
				.gref = PVIO_LE32(ss[i].gref),
				.first_sect = (uint8_t)(ss[i].off >> 9),
				.last_sect = (uint8_t)((ss[i].off + ss[i].len) / 512 - 1),
			};
			memcpy(pages + (size_t)i * sizeof(e), &e, sizeof(e));
		}
		uint32_t np = (r->nseg + XEN_BLKIF_SEGS_PER_INDIRECT_PAGE - 1) /
			      XEN_BLKIF_SEGS_PER_INDIRECT_PAGE;
		for (uint32_t p = 0; p < np; p++)
			d.indirect_grefs[p] =
				PVIO_LE32(q->ind.refs[id * b->ind_pages + p]);
		memcpy(slot, &d, sizeof(d));
	} else {
		struct xen_blkif_req d = {
			.operation = wire,
			.nr_segments = (uint8_t)r->nseg,
			.handle = PVIO_LE16(b->handle),
			.id = PVIO_LE64(wid),
			.sector_number = PVIO_LE64(r->nseg ? sector : 0),
		};
		for (uint32_t i = 0; i < r->nseg; i++) {
			d.seg[i].gref = PVIO_LE32(ss[i].gref);
			d.seg[i].first_sect = (uint8_t)(ss[i].off >> 9);
			d.seg[i].last_sect =
				(uint8_t)((ss[i].off + ss[i].len) / 512 - 1);
		}
		memcpy(slot, &d, sizeof(d));
	}
	sh->idx = q->ring.req_prod_pvt;
	q->ring.req_prod_pvt++;
	q->nfree--;
	sh->seq++;
	sh->tag = r->tag;
	sh->nseg = r->nseg;
	sh->op = r->op;
	sh->wire_op = wire;
	sh->busy = true;
	return 0;
}

static int blk_kick(pvio_dev *dev, unsigned qi)
{
	struct xen_dev *xd = xen_dev_of(dev);
	struct xen_blk *b = xd->cpriv;
	if (qi >= b->nq_used)
		return -EINVAL;
	struct blk_q *q = &b->q[qi];
	if (q->ring.req_prod == q->ring.req_prod_pvt)
		return 0;
	if (!pvio_dev_usable(dev))
		return unusable(dev);
	if (xen_ring_push(&q->ring)) {
		xen_notify(xd, &q->ev);
		dev->stats[qi].notify_sent++;
	} else {
		dev->stats[qi].notify_suppressed++;
	}
	return 0;
}

/* Release what request id held; false if the back end still maps a
 * page of it. */
static bool blk_release(struct xen_blk *b, struct blk_q *q, uint32_t id,
			bool copy_back, uint64_t *copied)
{
	struct blk_shadow *sh = &q->sh[id];
	struct blk_seg *ss = &q->segs[(size_t)id * b->max_segs];
	bool ok = true;
	for (uint32_t i = 0; i < sh->nseg; i++) {
		if (b->xd->copy) {
			if (copy_back) {
				memcpy(ss[i].va,
				       (uint8_t *)q->pool.va +
					       (size_t)ss[i].page * XEN_PAGE_SIZE +
					       ss[i].off,
				       ss[i].len);
				*copied += ss[i].len;
			}
			q->pool_free[q->npool_free++] = ss[i].page;
		} else if (xen_gnt_pool_end(&q->gp, ss[i].gref) < 0) {
			ok = false;
		}
	}
	sh->busy = false;
	q->free_ids[q->nfree++] = id;
	return ok;
}

static int blk_reap(pvio_dev *dev, unsigned qi, struct pvio_blk_dcomp *out,
		    unsigned max)
{
	struct xen_dev *xd = xen_dev_of(dev);
	struct xen_blk *b = xd->cpriv;
	if (qi >= b->nq_used)
		return -EINVAL;
	if (dev->state == PVIO_DEV_BROKEN)
		return -EIO;
	struct blk_q *q = &b->q[qi];
	struct pvio_queue_stats *st = &dev->stats[qi];
	uint32_t prod;
	unsigned n = 0;
	uint64_t copied = 0, ncopies = 0;

	int avail = xen_ring_pending(&q->ring, &prod);
	if (avail < 0) {
		pvio_dev_set_broken(dev, "response producer %u is beyond the "
					 "requests we published (consumer %u, "
					 "producer %u)",
				    prod, q->ring.rsp_cons, q->ring.req_prod);
		return -EIO;
	}
	while (n < max && q->ring.rsp_cons != prod) {
		struct xen_blkif_rsp rsp;
		xen_ring_copy(&q->ring, q->ring.rsp_cons, &rsp, sizeof(rsp));
		uint64_t wid = PVIO_LE64(rsp.id);
		uint32_t id = (uint32_t)wid, seq = (uint32_t)(wid >> 32);
		uint8_t op = rsp.operation;
		int16_t status = (int16_t)PVIO_LE16((uint16_t)rsp.status);

		if (id >= q->nsh) {
			pvio_dev_set_broken(dev, "response id 0x%llx is out of "
						 "range",
					    (unsigned long long)wid);
			break;
		}
		struct blk_shadow *sh = &q->sh[id];
		if (!sh->busy || sh->seq != seq) {
			pvio_dev_set_broken(dev, "response id 0x%llx is not an "
						 "outstanding request",
					    (unsigned long long)wid);
			break;
		}
		if (xen_ring_unpublished(&q->ring, sh->idx)) {
			pvio_dev_set_broken(dev, "response id 0x%llx names a "
						 "request that was not published",
					    (unsigned long long)wid);
			break;
		}
		if (op != sh->wire_op) {
			pvio_dev_set_broken(dev, "response to request 0x%llx has "
						 "operation %u, not %u",
					    (unsigned long long)wid, op,
					    sh->wire_op);
			break;
		}
		int32_t res;
		if (status == XEN_BLKIF_RSP_OKAY)
			res = 0;
		else if (status == XEN_BLKIF_RSP_ERROR)
			res = -EIO;
		else if (status == XEN_BLKIF_RSP_EOPNOTSUPP)
			res = -EOPNOTSUPP;
		else {
			pvio_dev_set_broken(dev, "response to request 0x%llx has "
						 "unknown status %d",
					    (unsigned long long)wid, status);
			break;
		}
		q->ring.rsp_cons++;
		uint32_t tag = sh->tag;
		bool rd = sh->op == PVIO_BLK_OP_READ && res == 0;
		uint64_t before = copied;
		if (!blk_release(b, q, id, rd, &copied)) {
			pvio_dev_set_broken(dev, "the back end still maps a page "
						 "of completed request 0x%llx",
					    (unsigned long long)wid);
			res = -EIO;
		}
		if (copied > before)
			ncopies++; /* one copy per request, as on submit */
		out[n].tag = tag;
		out[n].status = res;
		n++;
		if (!pvio_dev_usable(dev) && dev->state == PVIO_DEV_BROKEN)
			break;
	}
	st->copies += ncopies;
	st->copy_bytes += copied;
	if (n)
		return (int)n;
	if (dev->state == PVIO_DEV_BROKEN)
		return -EIO;
	if (dev->state == PVIO_DEV_REMOVED && q->nfree < q->nsh)
		return -ENODEV; /* nothing more will come */
	return 0;
}

static int blk_queue_fd(pvio_dev *dev, unsigned qi)
{
	struct xen_dev *xd = xen_dev_of(dev);
	struct xen_blk *b = xd->cpriv;
	if (qi >= b->nq_used)
		return -EINVAL;
	if (!xd->h->ops->evtchn_fd)
		return -EOPNOTSUPP;
	return xd->h->ops->evtchn_fd(xd->h, &b->q[qi].ev);
}

static int blk_queue_arm(pvio_dev *dev, unsigned qi)
{
	struct xen_dev *xd = xen_dev_of(dev);
	struct xen_blk *b = xd->cpriv;
	if (qi >= b->nq_used)
		return -EINVAL;
	int r = xen_ring_final_check(&b->q[qi].ring);
	if (r < 0)
		return pvio_dev_set_broken(dev, "response producer is beyond "
						"the requests we published");
	return r;
}

static void blk_queue_ack(pvio_dev *dev, unsigned qi)
{
	struct xen_dev *xd = xen_dev_of(dev);
	struct xen_blk *b = xd->cpriv;
	if (qi < b->nq_used)
		xd->h->ops->evtchn_ack(xd->h, &b->q[qi].ev);
}

static void blk_queue_disarm(pvio_dev *dev, unsigned qi)
{
	struct xen_blk *b = blk_of(dev);
	if (qi < b->nq_used)
		xen_ring_mute(&b->q[qi].ring);
}

/* ---------------------------------------------------------------- teardown */

static void blk_teardown(struct xen_dev *xd)
{
	struct xen_blk *b = xd->cpriv;
	struct xen_hostif *h = xd->h;
	pvio_ctx *ctx = xd->ctx;
	uint32_t leaked = 0;

	for (uint32_t i = 0; i < b->nq; i++) {
		struct blk_q *q = &b->q[i];
		/* requests never answered: end their grants (leak if mapped) */
		for (uint32_t id = 0; q->sh && id < q->nsh; id++) {
			if (!q->sh[id].busy)
				continue;
			uint64_t c = 0;
			blk_release(b, q, id, false, &c);
		}
		xen_gnt_pool_retry(&q->gp);
		leaked += q->gp.nquar;
		xen_gnt_pool_fini(&q->gp);
		if (q->pool.va)
			leaked += h->ops->unshare(h, &q->pool);
		if (q->ind.va)
			leaked += h->ops->unshare(h, &q->ind);
		if (q->ring_mem.va)
			leaked += h->ops->unshare(h, &q->ring_mem);
		if (q->ev.open)
			h->ops->evtchn_close(h, &q->ev);
		pvio_free(ctx, q->sh);
		pvio_free(ctx, q->segs);
		pvio_free(ctx, q->free_ids);
		pvio_free(ctx, q->pool_free);
	}
	if (leaked)
		pvio_log(ctx, PVIO_LOG_WARN,
			 "%s: the back end still maps %u pages; they are kept, "
			 "never reused",
			 xd->xb.fe, leaked);
	pvio_free(ctx, b);
	xd->cpriv = NULL;
}

static const struct pvio_blk_ops blk_ops = {
	.enqueue = blk_enqueue,
	.kick = blk_kick,
	.reap = blk_reap,
};

const struct pvio_dev_ops xen_blk_dev_ops = {
	.configure = blk_configure,
	.quiesce = xen_quiesce,
	.close = xen_close,
	.service = xen_service,
	.event_fd = xen_event_fd,
	.queue_fd = blk_queue_fd,
	.queue_arm = blk_queue_arm,
	.queue_ack = blk_queue_ack,
	.queue_disarm = blk_queue_disarm,
	.blk = &blk_ops,
};

const struct xen_class xen_blk_class = {
	.open = blk_open,
	.changed = blk_changed,
	.teardown = blk_teardown,
};
