/* SPDX-License-Identifier: MIT */
/*
 * frontends/blk_req.c - the block front end's request API: validate and
 * accept user requests, submit, poll for completions.
 *
 * Validation errors are the caller's (bad offset, length, iovec): they get
 * -EINVAL and a one-line message; -EAGAIN (no free slot) is a normal
 * flow-control signal and gets no message, so it costs nothing.
 */
#include "blkfe.h"

static const char *op_name(uint8_t op)
{
	static const char *const n[] = { "read", "write", "flush", "discard",
					  "write-zeroes" };
	return op < 5 ? n[op] : "request";
}

static int check(pvio_blk *blk, const struct fe_breq_args *a, uint64_t *len)
{
	pvio_ctx *ctx = blk->ctx;
	const struct fe_bgeo *g = &blk->geo;
	const char *what = op_name(a->op);

	if (a->flags & ~(uint32_t)PVIO_REQ_FUA)
		return pvio_set_error(ctx, EINVAL, "%s: unknown flags 0x%x", what,
				      a->flags);
	if (a->op == PVIO_BLK_OP_READ || a->op == PVIO_BLK_OP_WRITE) {
		if (!a->iov) {
			if (!a->buf && a->len)
				return pvio_set_error(ctx, EINVAL,
						      "%s: NULL buffer", what);
			*len = a->len;
		} else {
			if (!a->niov || a->niov > FE_MAX_IOV)
				return pvio_set_error(
					ctx, EINVAL,
					"%s: %u iovecs; between 1 and %u are "
					"allowed",
					what, a->niov, FE_MAX_IOV);
			uint64_t sum = 0;
			for (unsigned i = 0; i < a->niov; i++) {
				if (a->iov[i].len && !a->iov[i].base)
					return pvio_set_error(
						ctx, EINVAL,
						"%s: iovec %u has a NULL base",
						what, i);
				if (a->iov[i].len > (uint64_t)1 << 62 ||
				    sum + a->iov[i].len > (uint64_t)1 << 62)
					return pvio_set_error(
						ctx, EINVAL,
						"%s: iovec lengths overflow",
						what);
				sum += a->iov[i].len;
			}
			*len = sum;
		}
	} else {
		*len = a->len;
	}
	if (a->op != PVIO_BLK_OP_READ && a->op != PVIO_BLK_OP_FLUSH &&
	    blk->ro)
		return pvio_set_error(ctx, EROFS,
				      "%s: %s is read-only", what,
				      blk->dev->info.address);
	if (a->op == PVIO_BLK_OP_DISCARD && !g->max_discard)
		return pvio_set_error(ctx, EOPNOTSUPP,
				      "discard: %s does not support discard",
				      blk->dev->info.address);
	if (a->op == PVIO_BLK_OP_FLUSH)
		return 0;
	if (!*len || *len % g->bs || a->offset % g->bs)
		return pvio_set_error(ctx, EINVAL,
				      "%s of %llu bytes at offset %llu: offset "
				      "and length must be non-zero multiples "
				      "of the %u-byte block size",
				      what, (unsigned long long)*len,
				      (unsigned long long)a->offset, g->bs);
	if (a->offset > g->capacity || *len > g->capacity - a->offset)
		return pvio_set_error(ctx, EINVAL,
				      "%s of %llu bytes at offset %llu runs past "
				      "the end of the device (%llu bytes)",
				      what, (unsigned long long)*len,
				      (unsigned long long)a->offset,
				      (unsigned long long)g->capacity);
	return 0;
}

int fe_blk_enqueue(pvio_blk *blk, unsigned q, const struct fe_breq_args *a,
		   uint16_t *slot)
{
	uint64_t len = 0;

	if (!blk || q >= blk->nq)
		return -EINVAL;
	struct fe_bq *bq = &blk->q[q];
	if (!bq->failed && !pvio_dev_usable(blk->dev))
		fe_blk_fail_queue(blk, q, fe_dev_err(blk->dev));
	if (bq->failed) {
		const char *why = "";
		pvio_dev_state(blk->dev, &why);
		return pvio_set_error(blk->ctx, bq->failed,
				      "%s: %s; reconnect or migrate the block "
				      "device",
				      blk->dev->info.address,
				      *why ? why : "device failed");
	}
	int r = check(blk, a, &len);
	if (r < 0)
		return r;
	if (!bq->rq_nfree)
		return -EAGAIN;

	uint16_t i = bq->rq_free[--bq->rq_nfree];
	struct fe_brq *rq = &bq->rq[i];
	rq->cookie = a->cookie;
	rq->op = a->op;
	rq->offset = a->op == PVIO_BLK_OP_FLUSH ? 0 : a->offset;
	rq->len = a->op == PVIO_BLK_OP_FLUSH ? 0 : len;
	rq->fua = (a->flags & PVIO_REQ_FUA) != 0;
	rq->sync = a->sync;
	rq->state = FE_RQ_ACTIVE;
	if (a->op == PVIO_BLK_OP_READ || a->op == PVIO_BLK_OP_WRITE) {
		if (a->iov) {
			rq->iov = a->iov;
			rq->niov = a->niov;
		} else {
			rq->one = (struct pvio_iovec){ a->buf, (size_t)len };
			rq->iov = &rq->one;
			rq->niov = 1;
		}
	} else {
		rq->iov = NULL;
		rq->niov = 0;
		rq->zc = false;
	}
	fe_list_push(bq, FE_L_ACT, i);
	fe_brq_start(blk, bq, rq);
	/* write the ring now; the caller's submit (or poll) publishes */
	fe_blk_issue(blk, q);
	if (slot)
		*slot = i;
	return 0;
}

int pvio_blk_read(pvio_blk *blk, unsigned q, uint64_t offset, void *buf,
		  size_t len, void *cookie, uint32_t flags)
{
	struct fe_breq_args a = { .op = PVIO_BLK_OP_READ, .offset = offset,
				  .len = len, .buf = buf, .cookie = cookie,
				  .flags = flags };
	return fe_blk_enqueue(blk, q, &a, NULL);
}

int pvio_blk_write(pvio_blk *blk, unsigned q, uint64_t offset,
		   const void *buf, size_t len, void *cookie, uint32_t flags)
{
	struct fe_breq_args a = { .op = PVIO_BLK_OP_WRITE, .offset = offset,
				  .len = len, .buf = (void *)(uintptr_t)buf,
				  .cookie = cookie, .flags = flags };
	return fe_blk_enqueue(blk, q, &a, NULL);
}

int pvio_blk_readv(pvio_blk *blk, unsigned q, uint64_t offset,
		   const struct pvio_iovec *iov, unsigned iovcnt, void *cookie,
		   uint32_t flags)
{
	struct fe_breq_args a = { .op = PVIO_BLK_OP_READ, .offset = offset,
				  .iov = iov, .niov = iovcnt, .cookie = cookie,
				  .flags = flags };
	if (!iov)
		return blk ? pvio_set_error(blk->ctx, EINVAL,
					    "read: NULL iovec array")
			   : -EINVAL;
	return fe_blk_enqueue(blk, q, &a, NULL);
}

int pvio_blk_writev(pvio_blk *blk, unsigned q, uint64_t offset,
		    const struct pvio_iovec *iov, unsigned iovcnt,
		    void *cookie, uint32_t flags)
{
	struct fe_breq_args a = { .op = PVIO_BLK_OP_WRITE, .offset = offset,
				  .iov = iov, .niov = iovcnt, .cookie = cookie,
				  .flags = flags };
	if (!iov)
		return blk ? pvio_set_error(blk->ctx, EINVAL,
					    "write: NULL iovec array")
			   : -EINVAL;
	return fe_blk_enqueue(blk, q, &a, NULL);
}

int pvio_blk_flush(pvio_blk *blk, unsigned q, void *cookie, uint32_t flags)
{
	struct fe_breq_args a = { .op = PVIO_BLK_OP_FLUSH, .cookie = cookie,
				  .flags = flags };
	return fe_blk_enqueue(blk, q, &a, NULL);
}

int pvio_blk_discard(pvio_blk *blk, unsigned q, uint64_t offset,
		     uint64_t len, void *cookie, uint32_t flags)
{
	struct fe_breq_args a = { .op = PVIO_BLK_OP_DISCARD, .offset = offset,
				  .len = len, .cookie = cookie, .flags = flags };
	return fe_blk_enqueue(blk, q, &a, NULL);
}

int pvio_blk_write_zeroes(pvio_blk *blk, unsigned q, uint64_t offset,
			  uint64_t len, void *cookie, uint32_t flags)
{
	struct fe_breq_args a = { .op = PVIO_BLK_OP_WRITE_ZEROES,
				  .offset = offset, .len = len,
				  .cookie = cookie, .flags = flags };
	return fe_blk_enqueue(blk, q, &a, NULL);
}

int pvio_blk_submit(pvio_blk *blk, unsigned q)
{
	if (!blk || q >= blk->nq)
		return -EINVAL;
	fe_blk_issue(blk, q);
	fe_blk_kick(blk, q);
	return blk->q[q].failed;
}

static unsigned deliver(pvio_blk *blk, struct fe_bq *bq,
			struct pvio_blk_completion *out, unsigned max)
{
	unsigned n = 0;
	while (n < max && bq->done_n) {
		struct fe_brq *rq = &bq->rq[bq->done[bq->done_head]];
		bq->done_head = (bq->done_head + 1) % blk->depth;
		bq->done_n--;
		out[n++] = (struct pvio_blk_completion){ rq->cookie, rq->err, 0 };
		fe_blk_free_slot(bq, rq);
	}
	return n;
}

int pvio_blk_poll(pvio_blk *blk, unsigned q, struct pvio_blk_completion *out,
		  unsigned min, unsigned max, int64_t timeout_ns)
{
	if (!blk || q >= blk->nq || (max && !out))
		return -EINVAL;
	struct fe_bq *bq = &blk->q[q];
	pvio_dev *dev = blk->dev;
	uint64_t deadline = timeout_ns > 0 ? fe_deadline(blk->ctx, timeout_ns)
					   : timeout_ns < 0 ? UINT64_MAX : 0;
	unsigned n = 0;
	unsigned rounds = 0;

	if (min > max)
		min = max;
	/* event-loop use: consume the notification that woke the caller
	 * (and service the control path if that is what fired) */
	if (bq->fd_mode && !timeout_ns && !bq->failed)
		pvio_dev_wait(dev, q, 0);
	for (;;) {
		fe_blk_progress(blk, q);
		n += deliver(blk, bq, out + n, max - n);
		if (n >= max || bq->failed)
			break;
		/* nothing more can complete, or enough did */
		if (!bq->nact || n >= min) {
			/* with a completion fd, re-enable notifications
			 * before returning so the fd fires for what is still
			 * out; if something landed meanwhile, take it now */
			if (bq->fd_mode && bq->nact && dev->ops->queue_arm &&
			    !(blk->flags & PVIO_BLK_BUSY_POLL) && rounds++ < 4 &&
			    dev->ops->queue_arm(dev, q) == 1)
				continue;
			break;
		}
		if (!timeout_ns || (deadline != UINT64_MAX &&
				    pvio_now_ns(blk->ctx) >= deadline))
			break;
		if (blk->flags & PVIO_BLK_BUSY_POLL) {
			const struct pvio_platform *p =
				pvio_ctx_platform(blk->ctx);
			if (p->relax)
				p->relax(p->opaque);
			continue;
		}
		/* 0: deadline; < 0: the device failed (seen next round) */
		if (pvio_dev_wait(dev, q, deadline) == 0)
			break;
	}
	if (!n && bq->failed)
		return bq->failed;
	return (int)n;
}

unsigned pvio_blk_inflight(pvio_blk *blk, unsigned q)
{
	if (!blk || q >= blk->nq)
		return 0;
	return blk->q[q].nact;
}

int pvio_blk_completion_fd(pvio_blk *blk, unsigned q)
{
	if (!blk || q >= blk->nq)
		return -EINVAL;
	int fd = fe_fdset_get(blk->dev, blk->fdset, q);
	if (fd >= 0)
		blk->q[q].fd_mode = true;
	return fd;
}
