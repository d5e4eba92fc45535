/* SPDX-License-Identifier: MIT */
/*
 * frontends/blk_geo.c - turn a device's block limits into the numbers the
 * splitter works with, refusing limits no request could satisfy, and
 * allocate the per-device part of each queue (tags, bounce buffers).
 *
 * The limits come from a back end that read them from the host, so they
 * are checked here once more: a front end must never build a request the
 * device cannot take, and must never divide by or loop on a bad value.
 */
#include "blkfe.h"

static const char *addr_of(const pvio_dev *dev)
{
	return dev->info.address ? dev->info.address : "device";
}

int fe_blk_geo(pvio_ctx *ctx, const pvio_dev *dev, uint32_t depth,
	       struct fe_bgeo *g)
{
	const struct pvio_blk_limits *l = &dev->limits.blk;
	const char *a = addr_of(dev);
	uint32_t align = l->dma_align ? l->dma_align : 1;

	memset(g, 0, sizeof(*g));
	if (!fe_pow2(l->block_size) || l->block_size < PVIO_SECTOR_SIZE ||
	    l->block_size > (64u << 10))
		return pvio_set_error(ctx, EINVAL,
				      "%s: logical block size %u is not a power "
				      "of two between 512 and 65536; the device "
				      "cannot be used",
				      a, l->block_size);
	if (l->max_transfer < l->block_size || !l->max_segments ||
	    !l->max_queues || !l->queue_size)
		return pvio_set_error(ctx, EINVAL,
				      "%s: device limits are unusable (max "
				      "transfer %u for %u-byte blocks, %u "
				      "segments, %u queues of %u requests)",
				      a, l->max_transfer, l->block_size,
				      l->max_segments, l->max_queues,
				      l->queue_size);
	if (!fe_pow2(align) || align > l->block_size ||
	    (l->seg_boundary && (!fe_pow2(l->seg_boundary) ||
				 l->seg_boundary < align)) ||
	    (l->virt_boundary && (!fe_pow2(l->virt_boundary) ||
				  l->virt_boundary < align)))
		return pvio_set_error(ctx, EINVAL,
				      "%s: device alignment rules are "
				      "inconsistent (dma_align %u, segment "
				      "boundary %u, virt boundary %u, block "
				      "size %u)",
				      a, l->dma_align, l->seg_boundary,
				      l->virt_boundary, l->block_size);
	g->bs = l->block_size;
	/* a partial last block cannot be addressed */
	g->capacity = l->capacity - l->capacity % g->bs;
	g->align = align;
	g->sb = l->seg_boundary;
	g->vb = l->virt_boundary;
	g->xfer = (uint32_t)fe_min(l->max_transfer, 1u << 30);
	g->xfer -= g->xfer % g->bs;
	g->mss = l->max_segment_size - l->max_segment_size % align;
	if (!g->mss)
		return pvio_set_error(ctx, EINVAL,
				      "%s: maximum segment size %u is below the "
				      "DMA alignment %u; the device cannot be "
				      "used",
				      a, l->max_segment_size, align);
	uint64_t unit = fe_min(g->mss, FE_BOUNCE_MAX);
	if (g->sb)
		unit = fe_min(unit, g->sb);
	g->unit = (uint32_t)fe_pow2_floor(unit);
	/* Segments other than the first must start and end on the virt
	 * boundary; if a segment cannot span one, only one fits. */
	g->nseg = (uint32_t)fe_min(l->max_segments, FE_MAX_SEGS);
	if (g->vb && g->unit < g->vb)
		g->nseg = 1;
	uint64_t bsize = fe_min(fe_min(FE_BOUNCE_MAX, g->xfer),
				(uint64_t)g->nseg * g->unit);
	bsize -= bsize % g->bs;
	if (!bsize)
		return pvio_set_error(ctx, EINVAL,
				      "%s: device limits (%u segments of at "
				      "most %u bytes, boundary %u) cannot carry "
				      "one %u-byte block; the device cannot be "
				      "used",
				      a, l->max_segments, l->max_segment_size,
				      l->seg_boundary, g->bs);
	g->bsize = (uint32_t)bsize;
	/* bounce buffers start on a unit, so every bounce segment is a
	 * whole unit that meets the alignment and boundary rules */
	g->bstride = (uint32_t)((bsize + g->unit - 1) / g->unit * g->unit);
	if (l->discard && l->max_discard >= g->bs) {
		uint64_t m = l->max_discard;
		uint64_t gran = l->discard_granularity;
		if (fe_pow2(gran) && gran > g->bs && m >= gran)
			m -= m % gran;
		g->max_discard = m - m % g->bs;
	} else if (l->discard) {
		pvio_log(ctx, PVIO_LOG_WARN,
			 "%s: discard offered with a maximum of %llu bytes; "
			 "not using it",
			 a, (unsigned long long)l->max_discard);
	}
	if (l->write_zeroes && l->max_write_zeroes >= g->bs)
		g->max_wz = l->max_write_zeroes - l->max_write_zeroes % g->bs;
	/* Device requests in flight: enough for every user request to have
	 * a child out and another staged, not the whole ring.  Back ends size
	 * per-tag state (and, copying, shared pages) by this, so a deep ring
	 * must not inflate it beyond what queue_depth can use. */
	g->ntags = (uint32_t)fe_min(fe_min(l->queue_size, FE_MAX_TAGS),
				    fe_max(2ull * depth, FE_MIN_TAGS));
	g->nbounce = (uint32_t)fe_min(
		fe_max(FE_BOUNCE_BYTES / g->bstride, 2), g->ntags);
	g->ro = l->read_only;
	g->flush = l->flush;
	g->fua = l->fua;
	return 0;
}

int fe_bdq_alloc(pvio_ctx *ctx, const struct fe_bgeo *g, struct fe_bdq *d)
{
	memset(d, 0, sizeof(*d));
	d->tag = pvio_zalloc(ctx, g->ntags * sizeof(*d->tag));
	d->tag_free = pvio_zalloc(ctx, g->ntags * sizeof(*d->tag_free));
	d->bounce_free = pvio_zalloc(ctx, g->nbounce * sizeof(uint16_t));
	d->seg = pvio_zalloc(ctx, g->nseg * sizeof(*d->seg));
	if (!d->tag || !d->tag_free || !d->bounce_free || !d->seg) {
		fe_bdq_free(ctx, d, false);
		return pvio_set_error(ctx, ENOMEM, "out of memory");
	}
	d->bounce = pvio_dma_alloc(ctx, (size_t)g->nbounce * g->bstride,
				   fe_max(g->unit, PVIO_PAGE_SIZE));
	if (!d->bounce) {
		fe_bdq_free(ctx, d, false);
		return -ENOMEM; /* pvio_dma_alloc set the message */
	}
	/* hand out low slots first: easier to read in traces */
	for (uint32_t i = 0; i < g->ntags; i++) {
		d->tag[i].rq = FE_NONE;
		d->tag_free[i] = (uint16_t)(g->ntags - 1 - i);
	}
	d->tag_nfree = g->ntags;
	for (uint32_t i = 0; i < g->nbounce; i++)
		d->bounce_free[i] = (uint16_t)(g->nbounce - 1 - i);
	d->bounce_nfree = g->nbounce;
	return 0;
}

void fe_bdq_free(pvio_ctx *ctx, struct fe_bdq *d, bool leak_bounce)
{
	/* Bounce memory a host may still write (its device was not
	 * quiesced) is leaked rather than handed out again. */
	if (d->bounce && !leak_bounce)
		pvio_dma_free(ctx, d->bounce);
	pvio_free(ctx, d->tag);
	pvio_free(ctx, d->tag_free);
	pvio_free(ctx, d->bounce_free);
	pvio_free(ctx, d->seg);
	memset(d, 0, sizeof(*d));
}
