/* SPDX-License-Identifier: MIT */
/*
 * frontends/blk_sync.c - synchronous helpers on queue 0.
 *
 * They share queue 0 with asynchronous requests, so they must not swallow
 * other requests' completions: their own request is marked sync and, when
 * it finishes, stays out of the completion FIFO.  Every wait is bounded:
 * if the device completes nothing for the context timeout, the device is
 * marked broken (which fails the request, so the caller's buffer is no
 * longer referenced) and the helper returns -ETIMEDOUT.
 */
#include "blkfe.h"

static int sync_io(pvio_blk *blk, uint8_t op, uint64_t offset, void *buf,
		   uint64_t len)
{
	struct fe_breq_args a = { .op = op, .offset = offset, .len = len,
				  .buf = buf, .sync = true };
	uint16_t slot;

	if (!blk)
		return -EINVAL;
	int r = fe_blk_enqueue(blk, 0, &a, &slot);
	if (r == -EAGAIN)
		return pvio_set_error(blk->ctx, EAGAIN,
				      "queue 0 has no free request slot; poll "
				      "for completions before a synchronous "
				      "call");
	if (r < 0)
		return r;

	struct fe_bq *bq = &blk->q[0];
	struct fe_brq *rq = &bq->rq[slot];
	pvio_dev *dev = blk->dev;
	uint64_t limit = (uint64_t)pvio_timeout_ms(blk->ctx) * 1000000ull;
	uint64_t last = pvio_now_ns(blk->ctx);
	uint64_t seen = bq->reaped;
	bool timed_out = false;

	fe_blk_kick(blk, 0);
	while (rq->state != FE_RQ_DONE) {
		fe_blk_progress(blk, 0);
		if (rq->state == FE_RQ_DONE)
			break;
		uint64_t now = pvio_now_ns(blk->ctx);
		if (bq->reaped != seen) {
			seen = bq->reaped;
			last = now;
		} else if (now - last >= limit) {
			timed_out = true;
			pvio_dev_set_broken(dev,
					    "no request on queue 0 completed "
					    "within %u ms",
					    pvio_timeout_ms(blk->ctx));
			fe_blk_progress(blk, 0); /* fails the request */
			continue;
		}
		if (blk->flags & PVIO_BLK_BUSY_POLL) {
			const struct pvio_platform *p =
				pvio_ctx_platform(blk->ctx);
			if (p->relax)
				p->relax(p->opaque);
		} else {
			pvio_dev_wait(dev, 0, last + limit);
		}
	}
	r = rq->err;
	fe_blk_free_slot(bq, rq);
	if (timed_out)
		return pvio_set_error(blk->ctx, ETIMEDOUT,
				      "%s: the device completed nothing within "
				      "%u ms; it is now marked broken "
				      "(reconnect or migrate)",
				      dev->info.address,
				      pvio_timeout_ms(blk->ctx));
	if (r < 0)
		return pvio_set_error(blk->ctx, r, "%s: synchronous request "
				      "failed: %s", dev->info.address,
				      pvio_strerror(r));
	return 0;
}

int pvio_blk_pread(pvio_blk *blk, uint64_t offset, void *buf, size_t len)
{
	return sync_io(blk, PVIO_BLK_OP_READ, offset, buf, len);
}

int pvio_blk_pwrite(pvio_blk *blk, uint64_t offset, const void *buf,
		    size_t len)
{
	return sync_io(blk, PVIO_BLK_OP_WRITE, offset, (void *)(uintptr_t)buf,
		       len);
}

int pvio_blk_sync_flush(pvio_blk *blk)
{
	return sync_io(blk, PVIO_BLK_OP_FLUSH, 0, NULL, 0);
}

int pvio_blk_sync_discard(pvio_blk *blk, uint64_t offset, uint64_t len)
{
	return sync_io(blk, PVIO_BLK_OP_DISCARD, offset, NULL, len);
}

int pvio_blk_sync_write_zeroes(pvio_blk *blk, uint64_t offset, uint64_t len)
{
	return sync_io(blk, PVIO_BLK_OP_WRITE_ZEROES, offset, NULL, len);
}
