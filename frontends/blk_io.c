/* SPDX-License-Identifier: MIT */
/*
 * frontends/blk_io.c - the block front end's engine for one queue: issue
 * children from the pending FIFO, reap device completions, complete user
 * requests.  Runs on the data path: no allocation, no lock, one kick per
 * batch.
 */
#include "blkfe.h"

void fe_list_push(struct fe_bq *bq, unsigned w, uint16_t i)
{
	struct fe_brq *r = &bq->rq[i];
	struct fe_list *l = &bq->list[w];
	if (r->on[w])
		return;
	r->l[w].prev = l->tail;
	r->l[w].next = FE_NONE;
	if (l->tail != FE_NONE)
		bq->rq[l->tail].l[w].next = i;
	else
		l->head = i;
	l->tail = i;
	r->on[w] = true;
	if (w == FE_L_ACT)
		bq->nact++;
}

void fe_list_unlink(struct fe_bq *bq, unsigned w, uint16_t i)
{
	struct fe_brq *r = &bq->rq[i];
	struct fe_list *l = &bq->list[w];
	if (!r->on[w])
		return;
	if (r->l[w].prev != FE_NONE)
		bq->rq[r->l[w].prev].l[w].next = r->l[w].next;
	else
		l->head = r->l[w].next;
	if (r->l[w].next != FE_NONE)
		bq->rq[r->l[w].next].l[w].prev = r->l[w].prev;
	else
		l->tail = r->l[w].prev;
	r->on[w] = false;
	if (w == FE_L_ACT)
		bq->nact--;
}

static unsigned qidx(const pvio_blk *blk, const struct fe_bq *bq)
{
	return (unsigned)(bq - blk->q);
}

bool fe_brq_more(const struct fe_brq *rq)
{
	if (rq->stop)
		return false;
	if (rq->phase == FE_PH_FLUSH)
		return rq->done == 0;
	return rq->done < rq->len;
}

/* A durable write on a device with a volatile cache but no FUA bit (or a
 * write-zeroes, which has none) is followed by a flush. */
static bool flush_after(const pvio_blk *blk, const struct fe_brq *rq)
{
	const struct fe_bgeo *g = &blk->geo;
	if (!rq->fua || !g->flush)
		return false;
	if (rq->op == PVIO_BLK_OP_WRITE)
		return !g->fua;
	if (rq->op == PVIO_BLK_OP_WRITE_ZEROES)
		return g->max_wz || !g->fua;
	return false;
}

/* (Re)start rq from its beginning on the current device. */
void fe_brq_start(pvio_blk *blk, struct fe_bq *bq, struct fe_brq *rq)
{
	rq->done = 0;
	rq->ci = 0;
	rq->coff = 0;
	rq->err = 0;
	rq->stop = false;
	rq->nchild = 0;
	rq->phase = rq->op == PVIO_BLK_OP_FLUSH ? FE_PH_FLUSH : FE_PH_DATA;
	if (rq->op == PVIO_BLK_OP_READ || rq->op == PVIO_BLK_OP_WRITE)
		rq->zc = fe_blk_zc_ok(blk, rq->iov, rq->niov);
	if (rq->op == PVIO_BLK_OP_FLUSH && !blk->geo.flush) {
		/* no volatile cache: completed writes are already durable */
		fe_brq_finish(blk, bq, rq);
		return;
	}
	if (rq->op == PVIO_BLK_OP_DISCARD && !blk->geo.max_discard) {
		rq->err = -EOPNOTSUPP;
		fe_brq_finish(blk, bq, rq);
		return;
	}
	fe_list_push(bq, FE_L_PEND, (uint16_t)(rq - bq->rq));
}

/* rq has nothing left to issue and no child out. */
void fe_brq_finish(pvio_blk *blk, struct fe_bq *bq, struct fe_brq *rq)
{
	uint16_t i = (uint16_t)(rq - bq->rq);
	if (!rq->err && rq->phase == FE_PH_DATA && flush_after(blk, rq)) {
		rq->phase = FE_PH_FLUSH;
		rq->done = 0;
		fe_list_push(bq, FE_L_PEND, i);
		return;
	}
	fe_list_unlink(bq, FE_L_PEND, i);
	fe_list_unlink(bq, FE_L_ACT, i);
	struct pvio_queue_stats *st = &blk->dev->stats[qidx(blk, bq)];
	st->requests++;
	if (rq->err)
		st->errors++;
	else if (rq->op != PVIO_BLK_OP_FLUSH)
		st->bytes += rq->len;
	bq->finished++;
	rq->state = FE_RQ_DONE;
	if (!rq->sync)
		bq->done[(bq->done_head + bq->done_n++) % blk->depth] = i;
}

void fe_blk_free_slot(struct fe_bq *bq, struct fe_brq *rq)
{
	rq->state = FE_RQ_FREE;
	rq->cookie = NULL;
	bq->rq_free[bq->rq_nfree++] = (uint16_t)(rq - bq->rq);
}

/* A child finished with status (0 or -errno). */
static void child_done(pvio_blk *blk, struct fe_bq *bq, uint32_t tag,
		       int32_t status)
{
	struct fe_bdq *d = &bq->d;
	unsigned q = qidx(blk, bq);
	if (tag >= blk->geo.ntags || !d->tag[tag].live) {
		pvio_dev_set_broken(blk->dev,
				    "queue %u: completion for tag %u, which is "
				    "not in flight",
				    q, tag);
		return;
	}
	struct fe_btag *t = &d->tag[tag];
	struct fe_brq *rq = &bq->rq[t->rq];
	if (status > 0 || status < -4095)
		status = -EIO; /* keep what the caller sees an errno */
	if (!status && t->bounce != FE_NONE && t->op == PVIO_BLK_OP_READ)
		fe_blk_copy_back(blk, bq, t, rq);
	if (!status && t->op != PVIO_BLK_OP_READ && t->op != PVIO_BLK_OP_FLUSH)
		bq->dirty = true;
	if (t->bounce != FE_NONE)
		d->bounce_free[d->bounce_nfree++] = t->bounce;
	t->rq = FE_NONE;
	t->live = false;
	d->tag_free[d->tag_nfree++] = (uint16_t)tag;
	d->nchild--;
	d->nlive--;
	bq->reaped++;
	rq->nchild--;
	if (status < 0) {
		if (!rq->err)
			rq->err = status;
		rq->stop = true; /* the rest cannot change the result */
	}
	if (!rq->nchild && !fe_brq_more(rq))
		fe_brq_finish(blk, bq, rq);
}

/* Collect what the device finished on queue q: count, or -errno when the
 * device failed (the queue is then failed too). */
int fe_blk_reap(pvio_blk *blk, unsigned q)
{
	struct fe_bq *bq = &blk->q[q];
	pvio_dev *dev = blk->dev;
	int total = 0;

	while (bq->d.nlive && !bq->failed) {
		int n = dev->ops->blk->reap(dev, q, bq->dcomp, FE_REAP_BATCH);
		if (n < 0 || n > (int)FE_REAP_BATCH) {
			if (blk->moving)
				return n < 0 ? n : -EIO; /* leaving it anyway */
			if (pvio_dev_usable(dev))
				pvio_dev_set_broken(dev, "queue %u: reap failed: %s",
						    q, pvio_strerror(n < 0 ? n : -EIO));
			fe_blk_fail_queue(blk, q, fe_dev_err(dev));
			return bq->failed;
		}
		if (n) {
			/* one clock read per batch: what downtime is
			 * measured with (last on the old device, first on
			 * the new) */
			bq->last_ns = pvio_now_ns(blk->ctx);
			if (bq->await_first) {
				bq->first_ns = bq->last_ns;
				bq->await_first = false;
			}
		}
		for (int i = 0; i < n; i++)
			child_done(blk, bq, bq->dcomp[i].tag, bq->dcomp[i].status);
		total += n;
		if (n < (int)FE_REAP_BATCH)
			break;
	}
	if (!bq->failed && !blk->moving && !pvio_dev_usable(dev))
		fe_blk_fail_queue(blk, q, fe_dev_err(dev));
	return bq->failed ? bq->failed : total;
}

/* The device failed while we talked to it. */
static int dev_failed(pvio_blk *blk, unsigned q, const char *what, int r)
{
	if (pvio_dev_usable(blk->dev))
		pvio_dev_set_broken(blk->dev, "queue %u: %s failed: %s", q, what,
				    pvio_strerror(r));
	if (blk->moving)
		return r; /* leaving the device: its requests move along */
	fe_blk_fail_queue(blk, q, fe_dev_err(blk->dev));
	return blk->q[q].failed;
}

/* Move children from the pending FIFO into the ring until it or our tags
 * run out.  Ring writes only; fe_blk_kick publishes. */
int fe_blk_issue(pvio_blk *blk, unsigned q)
{
	struct fe_bq *bq = &blk->q[q];
	struct fe_bdq *d = &bq->d;
	pvio_dev *dev = blk->dev;

	while (!bq->failed) {
		if (d->staged_valid) {
			int r = dev->ops->blk->enqueue(dev, q, &d->staged);
			if (r == -EAGAIN)
				return 0; /* ring full: retried after a reap */
			uint32_t tag = d->staged.tag;
			struct fe_brq *rq = &bq->rq[d->tag[tag].rq];
			if (r == -EIO || r == -ENODEV || !pvio_dev_usable(dev))
				return dev_failed(blk, q, "enqueue", r);
			d->staged_valid = false;
			d->tag[tag].live = true;
			d->nlive++;
			if (r < 0) {
				/* refused a child built within its limits: a
				 * bug on one side; fail this request only */
				pvio_log(blk->ctx, PVIO_LOG_ERROR,
					 "%s: queue %u refused a request (op %u, "
					 "%llu bytes at %llu, %u segments): %s",
					 dev->info.address, q, d->staged.op,
					 (unsigned long long)d->staged.len,
					 (unsigned long long)d->staged.offset,
					 d->staged.nseg, pvio_strerror(r));
				child_done(blk, bq, tag, r);
				continue;
			}
			bq->need_kick = true;
			dev->stats[q].device_requests++;
			if (!fe_brq_more(rq))
				fe_list_unlink(bq, FE_L_PEND, d->tag[tag].rq);
			continue;
		}
		uint16_t h = bq->list[FE_L_PEND].head;
		if (h == FE_NONE)
			return 0;
		struct fe_brq *rq = &bq->rq[h];
		if (!fe_brq_more(rq)) {
			fe_list_unlink(bq, FE_L_PEND, h);
			if (!rq->nchild)
				fe_brq_finish(blk, bq, rq);
			continue;
		}
		int r = fe_blk_build(blk, bq, rq);
		if (r == -EAGAIN)
			return 0; /* tags or bounce buffers busy */
		if (r < 0) {
			if (!rq->err)
				rq->err = r;
			rq->stop = true;
		}
	}
	return bq->failed;
}

int fe_blk_kick(pvio_blk *blk, unsigned q)
{
	struct fe_bq *bq = &blk->q[q];
	if (!bq->need_kick || bq->failed)
		return bq->failed;
	bq->need_kick = false;
	int r = blk->dev->ops->blk->kick(blk->dev, q);
	return r < 0 ? dev_failed(blk, q, "kick", r) : 0;
}

/* Everything that can be done on queue q without waiting. */
void fe_blk_progress(pvio_blk *blk, unsigned q)
{
	struct fe_bq *bq = &blk->q[q];
	if (!bq->failed && !pvio_dev_usable(blk->dev))
		fe_blk_fail_queue(blk, q, fe_dev_err(blk->dev));
	if (bq->failed)
		return;
	fe_blk_reap(blk, q);
	fe_blk_issue(blk, q);
	fe_blk_kick(blk, q);
}
