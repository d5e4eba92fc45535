/* SPDX-License-Identifier: MIT */
/*
 * frontends/blk_fail.c - what a queue does when its device fails.
 *
 * Each queue notices on its own (it is the only code touching its state,
 * so queues used from different threads need no lock) and then either
 * completes every request it holds with -EIO / -ENODEV, so nothing waits
 * for a device that will not answer, or - with PVIO_BLK_KEEP_ON_FAILURE -
 * holds them for pvio_blk_reconnect()/pvio_blk_migrate() to resubmit.
 * Requests of the synchronous helpers always fail: their caller waits.
 *
 * Children the failed device had are abandoned, not completed.  Their tags
 * and bounce buffers are not used again on that device; the next device
 * gets its own, after the old one was quiesced.
 */
#include "blkfe.h"

/* Forget every child of the queue (staged or on the device). */
void fe_blk_drop_children(pvio_blk *blk, struct fe_bq *bq)
{
	struct fe_bdq *d = &bq->d;
	for (uint32_t i = 0; i < blk->geo.ntags; i++) {
		d->tag[i].rq = FE_NONE;
		d->tag[i].live = false;
		d->tag_free[i] = (uint16_t)(blk->geo.ntags - 1 - i);
	}
	d->tag_nfree = blk->geo.ntags;
	for (uint32_t i = 0; i < blk->geo.nbounce; i++)
		d->bounce_free[i] = (uint16_t)(blk->geo.nbounce - 1 - i);
	d->bounce_nfree = blk->geo.nbounce;
	d->staged_valid = false;
	d->nchild = 0;
	d->nlive = 0;
	bq->need_kick = false;
	for (uint16_t i = bq->list[FE_L_ACT].head; i != FE_NONE;
	     i = bq->rq[i].l[FE_L_ACT].next)
		bq->rq[i].nchild = 0;
}

void fe_blk_fail_queue(pvio_blk *blk, unsigned q, int err)
{
	struct fe_bq *bq = &blk->q[q];
	bool keep = blk->flags & PVIO_BLK_KEEP_ON_FAILURE;

	if (bq->failed)
		return;
	bq->failed = err;
	fe_blk_drop_children(blk, bq);
	while (bq->list[FE_L_PEND].head != FE_NONE)
		fe_list_unlink(bq, FE_L_PEND, bq->list[FE_L_PEND].head);
	uint16_t i = bq->list[FE_L_ACT].head;
	unsigned failed = 0;
	while (i != FE_NONE) {
		struct fe_brq *rq = &bq->rq[i];
		uint16_t next = rq->l[FE_L_ACT].next;
		if (!keep || rq->sync) {
			rq->err = err;
			rq->stop = true;
			fe_brq_finish(blk, bq, rq);
			failed++;
		}
		i = next;
	}
	pvio_log(blk->ctx, PVIO_LOG_INFO,
		 "%s: queue %u: device failed; %u requests failed, %u held",
		 blk->dev->info.address, q, failed, bq->nact);
}
