/* SPDX-License-Identifier: MIT */
/*
 * frontends/blk.c - the block front end's lifetime: open, attach, close,
 * info and counters.
 *
 * Everything the data path needs is allocated here, once: per queue the
 * user-request slots, the completion FIFO and (per device) the tags and
 * bounce buffers; per front end the zeroed buffer that emulates
 * write-zeroes on devices without it.
 */
#include "blkfe.h"

static int opts_of(pvio_ctx *ctx, const struct pvio_blk_opts *in,
		   struct pvio_blk_opts *o)
{
	memset(o, 0, sizeof(*o));
	if (in) {
		if (in->struct_size < sizeof(size_t))
			return pvio_set_error(ctx, EINVAL,
					      "pvio_blk_opts: set struct_size");
		size_t n = in->struct_size < sizeof(*o) ? in->struct_size
							: sizeof(*o);
		memcpy(o, in, n);
	}
	if (!o->num_queues)
		o->num_queues = 1;
	if (!o->queue_depth)
		o->queue_depth = 64;
	if (o->queue_depth > FE_MAX_DEPTH)
		return pvio_set_error(ctx, EINVAL,
				      "queue depth %u is above the maximum %u",
				      o->queue_depth, FE_MAX_DEPTH);
	if (o->flags & ~(uint32_t)(PVIO_BLK_ALWAYS_BOUNCE | PVIO_BLK_BUSY_POLL |
				   PVIO_BLK_KEEP_ON_FAILURE))
		return pvio_set_error(ctx, EINVAL,
				      "pvio_blk_opts: unknown flags 0x%x",
				      o->flags);
	return 0;
}

static int queue_init(pvio_blk *blk, struct fe_bq *bq)
{
	pvio_ctx *ctx = blk->ctx;
	bq->rq = pvio_zalloc(ctx, blk->depth * sizeof(*bq->rq));
	bq->rq_free = pvio_zalloc(ctx, blk->depth * sizeof(*bq->rq_free));
	bq->done = pvio_zalloc(ctx, blk->depth * sizeof(*bq->done));
	bq->dcomp = pvio_zalloc(ctx, FE_REAP_BATCH * sizeof(*bq->dcomp));
	if (!bq->rq || !bq->rq_free || !bq->done || !bq->dcomp)
		return pvio_set_error(ctx, ENOMEM, "out of memory");
	for (uint32_t i = 0; i < blk->depth; i++)
		bq->rq_free[i] = (uint16_t)(blk->depth - 1 - i);
	bq->rq_nfree = blk->depth;
	for (unsigned w = 0; w < 2; w++)
		bq->list[w] = (struct fe_list){ FE_NONE, FE_NONE };
	return fe_bdq_alloc(ctx, &blk->geo, &bq->d);
}

static void blk_free(pvio_blk *blk, bool leak)
{
	pvio_ctx *ctx = blk->ctx;
	if (blk->q) {
		for (unsigned q = 0; q < blk->nq; q++) {
			struct fe_bq *bq = &blk->q[q];
			fe_bdq_free(ctx, &bq->d, leak);
			pvio_free(ctx, bq->rq);
			pvio_free(ctx, bq->rq_free);
			pvio_free(ctx, bq->done);
			pvio_free(ctx, bq->dcomp);
		}
	}
	if (blk->fdset)
		fe_fdsets_free(ctx, blk->nq, blk->fdset);
	if (blk->zbuf && !leak)
		pvio_dma_free(ctx, blk->zbuf);
	pvio_free(ctx, blk->fdset);
	pvio_free(ctx, blk->retired);
	pvio_free(ctx, blk->q);
	pvio_free(ctx, blk);
}

int pvio_blk_attach(pvio_dev *dev, const struct pvio_blk_opts *opts,
		    pvio_blk **out)
{
	struct pvio_blk_opts o;
	pvio_blk *blk = NULL;
	int r;

	if (!dev || !out) {
		if (dev)
			pvio_dev_close(dev);
		return -EINVAL;
	}
	*out = NULL;
	pvio_ctx *ctx = dev->ctx;
	const char *a = dev->info.address ? dev->info.address : "device";
	if ((r = opts_of(ctx, opts, &o)) < 0)
		goto fail;
	if (dev->info.cls != PVIO_CLASS_BLK) {
		r = pvio_set_error(ctx, EINVAL,
				   "%s is a %s device, not a block device", a,
				   pvio_class_name(dev->info.cls));
		goto fail;
	}
	if (!dev->ops->blk || !dev->ops->blk->enqueue || !dev->ops->blk->kick ||
	    !dev->ops->blk->reap || !dev->ops->configure) {
		r = pvio_set_error(ctx, EINVAL,
				   "%s: the back end has no block operations", a);
		goto fail;
	}
	blk = pvio_zalloc(ctx, sizeof(*blk));
	if (!blk) {
		r = pvio_set_error(ctx, ENOMEM, "out of memory");
		goto fail;
	}
	blk->ctx = ctx;
	blk->dev = dev;
	blk->flags = o.flags;
	blk->depth = o.queue_depth;
	if ((r = fe_blk_geo(ctx, dev, blk->depth, &blk->geo)) < 0)
		goto fail;
	blk->ro = blk->geo.ro;
	blk->nq = (uint32_t)fe_min(o.num_queues, dev->limits.blk.max_queues);
	blk->q = pvio_zalloc(ctx, blk->nq * sizeof(*blk->q));
	blk->retired = pvio_zalloc(ctx, blk->nq * sizeof(*blk->retired));
	blk->fdset = pvio_zalloc(ctx, blk->nq * sizeof(*blk->fdset));
	if (!blk->q || !blk->retired || !blk->fdset) {
		r = pvio_set_error(ctx, ENOMEM, "out of memory");
		goto fail;
	}
	for (unsigned q = 0; q < blk->nq; q++)
		blk->fdset[q] = -1;
	blk->zbuf = pvio_dma_alloc(ctx, FE_BOUNCE_MAX, FE_BOUNCE_MAX);
	if (!blk->zbuf) {
		r = -ENOMEM;
		goto fail;
	}
	for (unsigned q = 0; q < blk->nq; q++)
		if ((r = queue_init(blk, &blk->q[q])) < 0)
			goto fail;
	struct pvio_dev_config cfg = { .num_queues = blk->nq,
				       .max_tags = blk->geo.ntags };
	if ((r = pvio_dev_configure(dev, &cfg)) < 0)
		goto fail;
	if (dev->info.num_queues && dev->info.num_queues < blk->nq) {
		r = pvio_set_error(ctx, EIO, "%s: started %u queues of %u", a,
				   dev->info.num_queues, blk->nq);
		goto fail;
	}
	fe_fdsets_new(ctx, blk->nq, blk->fdset);
	fe_fdsets_attach(dev, blk->nq, blk->fdset);
	*out = blk;
	return 0;

fail:
	if (blk)
		blk_free(blk, false);
	pvio_dev_close(dev);
	return r;
}

int pvio_blk_open(pvio_ctx *ctx, const char *address,
		  const struct pvio_blk_opts *opts, pvio_blk **out)
{
	pvio_dev *dev;
	if (!ctx || !address || !out)
		return -EINVAL;
	*out = NULL;
	int r = pvio_dev_open(ctx, address, &dev);
	if (r < 0)
		return r;
	if (dev->info.cls != PVIO_CLASS_BLK) {
		r = pvio_set_error(ctx, EINVAL,
				   "%s is a %s device; open it with "
				   "pvio_net_open",
				   address, pvio_class_name(dev->info.cls));
		pvio_dev_close(dev);
		return r;
	}
	return pvio_blk_attach(dev, opts, out);
}

void pvio_blk_close(pvio_blk *blk)
{
	if (!blk)
		return;
	/* Drain (bounded), flush, quiesce.  Requests that did not finish are
	 * dropped without a completion: there is no one left to tell. */
	fe_blk_stop(blk);
	fe_fdsets_detach(blk->dev, blk->nq, blk->fdset);
	pvio_dev_close(blk->dev);
	blk_free(blk, blk->stop_ret < 0);
}

int pvio_blk_get_info(pvio_blk *blk, struct pvio_blk_info *info)
{
	if (!blk || !info)
		return -EINVAL;
	const struct fe_bgeo *g = &blk->geo;
	const struct pvio_blk_limits *l = &blk->dev->limits.blk;
	struct pvio_blk_info i = {
		.struct_size = sizeof(i),
		.capacity = g->capacity,
		.block_size = g->bs,
		.physical_block_size = l->physical_block_size
					       ? l->physical_block_size
					       : g->bs,
		.max_transfer = g->xfer,
		.max_segments = g->nseg,
		.max_segment_size = g->mss,
		.num_queues = blk->nq,
		.queue_depth = blk->depth,
		.max_discard = g->max_discard,
		/* native only; pvio_blk_write_zeroes works everywhere */
		.max_write_zeroes = g->max_wz,
		.discard_granularity = l->discard_granularity,
		.read_only = blk->ro,
		.flush = g->flush,
		.discard = g->max_discard != 0,
		.write_zeroes = g->max_wz != 0,
		.features = blk->dev->info.features,
	};
	return fe_copy_versioned(info, &i, sizeof(i));
}

pvio_dev *pvio_blk_dev(pvio_blk *blk)
{
	return blk ? blk->dev : NULL;
}

pvio_ctx *pvio_blk_ctx(pvio_blk *blk)
{
	return blk ? blk->ctx : NULL;
}

int pvio_blk_get_stats(pvio_blk *blk, unsigned q, struct pvio_queue_stats *st)
{
	if (!blk || !st || q >= blk->nq)
		return -EINVAL;
	fe_stats_sum(blk->dev, blk->retired, q, st);
	return 0;
}
