/* SPDX-License-Identifier: MIT */
/*
 * frontends/blk_move.c - moving the block front end to another device
 * (pvio_blk_migrate) or to a fresh instance of the same one
 * (pvio_blk_reconnect), with requests in flight.
 *
 * Order, and why:
 *  1. check the new device against the front end's contract (capacity,
 *     block size, writability, queues), allocate its per-queue state and
 *     configure it - all before touching the old device, so a refusal
 *     leaves the front end running where it was;
 *  2. leave the old device: publish what was enqueued, drain what it has
 *     (bounded by the context timeout), flush its cache if writes
 *     completed since we last did, so writes it reported complete are
 *     durable, quiesce it, reap what landed;
 *  3. switch: the old device's counters are kept, its tags and bounce
 *     buffers freed (leaked if quiesce failed: the host may still write
 *     them), the stable fd sets re-pointed, the old device closed;
 *  4. restart every incomplete user request from its beginning on the new
 *     device, in the order they were made.  Resubmitting whole requests is
 *     safe: reads and writes of the same data are idempotent, and nothing
 *     was reported complete.  A request the new device cannot do (discard)
 *     completes with -EOPNOTSUPP.
 * Reconnect does step 2 first, because the new instance is the same
 * device (a back end may accept only one connection), then reopens the
 * address, retrying (bounded by the context timeout) while the device is
 * not back yet (fe_reopen).
 */
#include "blkfe.h"

static uint64_t finished_total(const pvio_blk *blk)
{
	uint64_t n = 0;
	for (unsigned q = 0; q < blk->nq; q++)
		n += blk->q[q].finished;
	return n;
}

/* Reap until the device has none of our children, bounded. */
static void drain(pvio_blk *blk, uint64_t deadline)
{
	pvio_dev *dev = blk->dev;
	for (;;) {
		int busy = -1;
		unsigned left = 0;
		for (unsigned q = 0; q < blk->nq; q++) {
			struct fe_bq *bq = &blk->q[q];
			if (bq->failed)
				continue;
			if (fe_blk_reap(blk, q) < 0)
				return; /* device gone: nothing more comes */
			if (bq->d.nlive) {
				busy = (int)q;
				left += bq->d.nlive;
			}
		}
		if (busy < 0 || !pvio_dev_usable(dev))
			return;
		uint64_t now = pvio_now_ns(blk->ctx);
		if (now >= deadline) {
			pvio_log(blk->ctx, PVIO_LOG_WARN,
				 "%s: %u requests did not complete within %u ms; "
				 "resubmitting them elsewhere",
				 dev->info.address, left,
				 pvio_timeout_ms(blk->ctx));
			return;
		}
		/* one queue's fd at a time: with several queues, look at
		 * the others often */
		uint64_t until = blk->nq > 1 ? fe_min(deadline, now + 1000000)
					     : deadline;
		pvio_dev_wait(dev, (unsigned)busy, until);
	}
}

/* Make the old device's completed writes durable before leaving it. */
static void flush_old(pvio_blk *blk, uint64_t deadline)
{
	pvio_dev *dev = blk->dev;
	struct fe_bq *bq = &blk->q[0];
	bool dirty = false;
	if (!blk->geo.flush || blk->ro || !pvio_dev_usable(dev) || bq->failed)
		return;
	for (unsigned q = 0; q < blk->nq; q++) {
		if (blk->q[q].d.nlive)
			return; /* not drained: its completions would mix in */
		dirty |= blk->q[q].dirty;
	}
	if (!dirty)
		return;
	struct pvio_blk_dreq r = { .tag = bq->d.tag_free[bq->d.tag_nfree - 1],
				   .op = PVIO_BLK_OP_FLUSH };
	if (dev->ops->blk->enqueue(dev, 0, &r) < 0 ||
	    dev->ops->blk->kick(dev, 0) < 0)
		return;
	dev->stats[0].device_requests++;
	for (;;) {
		int n = dev->ops->blk->reap(dev, 0, bq->dcomp, FE_REAP_BATCH);
		if (n < 0)
			return;
		for (int i = 0; i < n && i < (int)FE_REAP_BATCH; i++) {
			if (bq->dcomp[i].tag != r.tag)
				continue;
			if (bq->dcomp[i].status < 0)
				pvio_log(blk->ctx, PVIO_LOG_WARN,
					 "%s: flush before leaving failed: %s",
					 dev->info.address,
					 pvio_strerror(bq->dcomp[i].status));
			else
				for (unsigned q = 0; q < blk->nq; q++)
					blk->q[q].dirty = false;
			bq->last_ns = pvio_now_ns(blk->ctx);
			return;
		}
		if (pvio_now_ns(blk->ctx) >= deadline ||
		    pvio_dev_wait(dev, 0, deadline) < 0) {
			pvio_log(blk->ctx, PVIO_LOG_WARN,
				 "%s: flush before leaving did not complete",
				 dev->info.address);
			return;
		}
	}
}

/* Step 2: drain, flush, quiesce the current device; idempotent. */
static void stop_old(pvio_blk *blk)
{
	pvio_dev *dev = blk->dev;
	struct pvio_migrate_report *rep = &blk->stop_rep;

	if (blk->stopped)
		return;
	blk->moving = true;
	memset(rep, 0, sizeof(*rep));
	rep->struct_size = sizeof(*rep);
	uint64_t t0 = pvio_now_ns(blk->ctx);
	uint64_t fin0 = finished_total(blk);
	if (pvio_dev_usable(dev)) {
		uint64_t deadline = pvio_deadline(blk->ctx);
		for (unsigned q = 0; q < blk->nq; q++)
			fe_blk_kick(blk, q);
		drain(blk, deadline);
		flush_old(blk, deadline);
	}
	blk->stop_ret = fe_quiesce(dev);
	blk->t_last_old = 0;
	for (unsigned q = 0; q < blk->nq; q++) {
		if (!blk->q[q].failed)
			fe_blk_reap(blk, q); /* what landed before it stopped */
		if (blk->q[q].last_ns > blk->t_last_old)
			blk->t_last_old = blk->q[q].last_ns;
	}
	/* a device that never completed anything: count from now */
	if (!blk->t_last_old)
		blk->t_last_old = t0;
	rep->completed_during_quiesce = (uint32_t)(finished_total(blk) - fin0);
	rep->quiesce_ns = pvio_now_ns(blk->ctx) - t0;
	pvio_dev_set_stopped(dev);
	blk->stopped = true;
	blk->moving = false;
}

static int check_contract(pvio_blk *blk, pvio_dev *nd, uint32_t flags,
			  struct fe_bgeo *ng)
{
	pvio_ctx *ctx = blk->ctx;
	const char *a = nd->info.address ? nd->info.address : "new device";
	if (nd->info.cls != PVIO_CLASS_BLK)
		return pvio_set_error(ctx, EINVAL,
				      "cannot move to %s: it is a %s device, "
				      "not a block device",
				      a, pvio_class_name(nd->info.cls));
	if (!pvio_dev_usable(nd))
		return pvio_set_error(ctx, EIO, "cannot move to %s: %s", a,
				      nd->reason);
	int r = fe_blk_geo(ctx, nd, blk->depth, ng);
	if (r < 0)
		return r;
	if (ng->bs != blk->geo.bs)
		return pvio_set_error(ctx, EINVAL,
				      "cannot move to %s: its logical block "
				      "size is %u bytes, the front end uses %u",
				      a, ng->bs, blk->geo.bs);
	if (ng->capacity < blk->geo.capacity ||
	    (ng->capacity > blk->geo.capacity &&
	     !(flags & PVIO_MIGRATE_ALLOW_GROW)))
		return pvio_set_error(ctx, EINVAL,
				      "cannot move to %s: its capacity is %llu "
				      "bytes, the front end's is %llu%s",
				      a, (unsigned long long)ng->capacity,
				      (unsigned long long)blk->geo.capacity,
				      ng->capacity > blk->geo.capacity
					      ? " (PVIO_MIGRATE_ALLOW_GROW "
						"accepts a larger device)"
					      : "");
	if (ng->ro && !blk->ro)
		return pvio_set_error(ctx, EROFS,
				      "cannot move to %s: it is read-only and "
				      "the front end is writable",
				      a);
	if (nd->limits.blk.max_queues < blk->nq)
		return pvio_set_error(ctx, EINVAL,
				      "cannot move to %s: it has %u queues, %u "
				      "are in use",
				      a, nd->limits.blk.max_queues, blk->nq);
	return 0;
}

/* Step 4 for queue q. */
static void replay(pvio_blk *blk, unsigned q, struct pvio_migrate_report *rep)
{
	struct fe_bq *bq = &blk->q[q];
	uint32_t replayed = 0;

	bq->failed = 0;
	bq->need_kick = false;
	bq->await_first = true;
	bq->first_ns = 0;
	while (bq->list[FE_L_PEND].head != FE_NONE)
		fe_list_unlink(bq, FE_L_PEND, bq->list[FE_L_PEND].head);
	uint16_t i = bq->list[FE_L_ACT].head;
	while (i != FE_NONE) {
		struct fe_brq *rq = &bq->rq[i];
		uint16_t next = rq->l[FE_L_ACT].next;
		fe_brq_start(blk, bq, rq);
		if (rq->state == FE_RQ_DONE && rq->err) {
			rep->failed++;
		} else {
			replayed++;
		}
		i = next;
	}
	rep->replayed += replayed;
	blk->dev->stats[q].replayed += replayed;
	fe_blk_issue(blk, q);
	fe_blk_kick(blk, q);
}

static int move(pvio_blk *blk, pvio_dev *nd, uint32_t flags,
		struct pvio_migrate_report *out)
{
	pvio_ctx *ctx = blk->ctx;
	pvio_dev *old = blk->dev;
	struct fe_bgeo ng;
	struct fe_bdq *nqd = NULL;
	unsigned made = 0;

	int r = check_contract(blk, nd, flags, &ng);
	if (r < 0)
		goto fail;
	nqd = pvio_zalloc(ctx, blk->nq * sizeof(*nqd));
	if (!nqd) {
		r = pvio_set_error(ctx, ENOMEM, "out of memory");
		goto fail;
	}
	for (; made < blk->nq; made++)
		if ((r = fe_bdq_alloc(ctx, &ng, &nqd[made])) < 0)
			goto fail;
	struct pvio_dev_config cfg = { .num_queues = blk->nq,
				       .max_tags = ng.ntags };
	if ((r = pvio_dev_configure(nd, &cfg)) < 0)
		goto fail;
	if (nd->info.num_queues && nd->info.num_queues < blk->nq) {
		r = pvio_set_error(ctx, EINVAL,
				   "cannot move to %s: it started %u queues, "
				   "%u are in use",
				   nd->info.address, nd->info.num_queues,
				   blk->nq);
		goto fail;
	}

	stop_old(blk);
	struct pvio_migrate_report rep = blk->stop_rep;
	fe_fdsets_detach(old, blk->nq, blk->fdset);
	fe_stats_retire(old, blk->nq, blk->retired);
	for (unsigned q = 0; q < blk->nq; q++) {
		fe_bdq_free(ctx, &blk->q[q].d, blk->stop_ret < 0);
		blk->q[q].d = nqd[q];
	}
	pvio_free(ctx, nqd);
	blk->dev = nd;
	blk->geo = ng;
	blk->stopped = false;
	pvio_dev_close(old);
	fe_fdsets_attach(nd, blk->nq, blk->fdset);
	for (unsigned q = 0; q < blk->nq; q++)
		replay(blk, q, &rep);
	blk->report = rep;
	blk->have_report = true;
	if (out)
		fe_copy_versioned(out, &rep, sizeof(rep));
	return 0;

fail:
	for (unsigned q = 0; q < made; q++)
		fe_bdq_free(ctx, &nqd[q], false);
	pvio_free(ctx, nqd);
	pvio_dev_close(nd);
	return r;
}

static int report_ok(pvio_ctx *ctx, const struct pvio_migrate_report *r)
{
	if (r && r->struct_size < sizeof(size_t))
		return pvio_set_error(ctx, EINVAL,
				      "migrate report: set struct_size");
	return 0;
}

int pvio_blk_migrate(pvio_blk *blk, pvio_dev *new_dev, uint32_t flags,
		     struct pvio_migrate_report *report)
{
	if (!blk || !new_dev) {
		if (new_dev)
			pvio_dev_close(new_dev);
		return -EINVAL;
	}
	if (new_dev == blk->dev)
		return pvio_set_error(blk->ctx, EINVAL,
				      "cannot migrate to the device already in "
				      "use");
	int r = report_ok(blk->ctx, report);
	if (!r && (flags & ~(uint32_t)PVIO_MIGRATE_ALLOW_GROW))
		r = pvio_set_error(blk->ctx, EINVAL,
				   "migrate: unknown flags 0x%x", flags);
	if (r < 0) {
		pvio_dev_close(new_dev);
		return r;
	}
	return move(blk, new_dev, flags, report);
}

int pvio_blk_reconnect(pvio_blk *blk, struct pvio_migrate_report *report)
{
	if (!blk)
		return -EINVAL;
	int r = report_ok(blk->ctx, report);
	if (r < 0)
		return r;
	if (!blk->dev->info.address)
		return pvio_set_error(blk->ctx, EINVAL,
				      "the device was not opened by address; "
				      "use pvio_blk_migrate");
	char *addr = pvio_strdup(blk->ctx, blk->dev->info.address);
	if (!addr)
		return pvio_set_error(blk->ctx, ENOMEM, "out of memory");
	stop_old(blk);
	pvio_dev *nd = NULL;
	r = fe_reopen(blk->ctx, addr, &nd);
	pvio_free(blk->ctx, addr);
	if (r < 0)
		return r;
	return move(blk, nd, 0, report);
}

int pvio_blk_migration_report(pvio_blk *blk, struct pvio_migrate_report *r)
{
	if (!blk || !r || r->struct_size < sizeof(size_t))
		return -EINVAL;
	if (!blk->have_report)
		return pvio_set_error(blk->ctx, ENOENT,
				      "no migration or reconnect happened");
	if (!blk->report.downtime_ns) {
		uint64_t first = 0;
		for (unsigned q = 0; q < blk->nq; q++)
			if (blk->q[q].first_ns &&
			    (!first || blk->q[q].first_ns < first))
				first = blk->q[q].first_ns;
		if (first)
			blk->report.downtime_ns =
				first > blk->t_last_old ? first - blk->t_last_old
							: 1;
	}
	return fe_copy_versioned(r, &blk->report, sizeof(blk->report));
}

/* For pvio_blk_close(). */
void fe_blk_stop(pvio_blk *blk)
{
	stop_old(blk);
}
