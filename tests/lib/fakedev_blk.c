/* SPDX-License-Identifier: MIT */
/*
 * tests/lib/fakedev_blk.c - the fake block device: checks each request
 * against the limits it advertised, moves data to and from a RAM disk, and
 * completes requests according to the chosen policy.
 */
#include "fakedev_priv.h"

#include <stdlib.h>

struct pvio_blk_limits fake_blk_limits(enum fake_profile p, uint64_t capacity)
{
	struct pvio_blk_limits l = {
		.capacity = capacity,
		.block_size = 512,
		.physical_block_size = 4096,
		.max_queues = 4,
		.queue_size = 128,
		.flush = true,
		.discard = true,
		.max_discard = 1 << 20,
		.discard_granularity = 4096,
		.write_zeroes = true,
		.max_write_zeroes = 1 << 20,
	};
	switch (p) {
	case FAKE_VIRTIO:
		l.max_transfer = 1 << 20;
		l.max_segments = 126;
		l.max_segment_size = 1 << 20;
		l.dma_align = 1;
		l.fua = true;
		break;
	case FAKE_XEN:
		l.max_transfer = 11 * 4096;
		l.max_segments = 11;
		l.max_segment_size = 4096;
		l.dma_align = 512;
		l.seg_boundary = 4096;
		l.queue_size = 32;
		l.write_zeroes = false;
		l.max_write_zeroes = 0;
		break;
	case FAKE_STORVSC:
		l.max_transfer = 512 << 10;
		l.max_segments = 129;
		l.max_segment_size = 4096;
		l.virt_boundary = 4096;
		l.dma_align = 1;
		l.fua = true;
		l.discard = false;
		l.max_discard = 0;
		break;
	}
	return l;
}

static bool aligned(uint64_t v, uint32_t a)
{
	return !a || v % a == 0;
}

/* Does r keep the contract?  Records the first violation. */
static bool check_req(struct fake *f, const struct pvio_blk_dreq *r)
{
	const struct pvio_blk_limits *l = &f->dev->limits.blk;
	if (r->tag >= f->max_tags) {
		fake_violation(f, "tag %u >= max_tags %u", r->tag, f->max_tags);
		return false;
	}
	if (r->op == PVIO_BLK_OP_FLUSH) {
		if (!l->flush || r->nseg) {
			fake_violation(f, "flush on a device without cache or "
				       "with segments");
			return false;
		}
		return true;
	}
	if (!r->len || !aligned(r->offset, l->block_size) ||
	    !aligned(r->len, l->block_size) || r->offset > l->capacity ||
	    r->len > l->capacity - r->offset) {
		fake_violation(f, "op %u: bad range %llu+%llu", r->op,
			       (unsigned long long)r->offset,
			       (unsigned long long)r->len);
		return false;
	}
	if (r->op != PVIO_BLK_OP_READ && l->read_only) {
		fake_violation(f, "op %u on a read-only device", r->op);
		return false;
	}
	if (r->op == PVIO_BLK_OP_DISCARD || r->op == PVIO_BLK_OP_WRITE_ZEROES) {
		bool ok = r->op == PVIO_BLK_OP_DISCARD
				  ? l->discard && r->len <= l->max_discard
				  : l->write_zeroes &&
					    r->len <= l->max_write_zeroes;
		if (!ok || r->nseg)
			fake_violation(f, "op %u of %llu bytes not allowed",
				       r->op, (unsigned long long)r->len);
		return ok && !r->nseg;
	}
	if (r->op != PVIO_BLK_OP_READ && r->op != PVIO_BLK_OP_WRITE) {
		fake_violation(f, "unknown op %u", r->op);
		return false;
	}
	if (r->fua && (!l->fua || r->op != PVIO_BLK_OP_WRITE)) {
		fake_violation(f, "FUA not offered");
		return false;
	}
	if (!r->nseg || r->nseg > l->max_segments || r->len > l->max_transfer) {
		fake_violation(f, "%u segments / %llu bytes exceed limits",
			       r->nseg, (unsigned long long)r->len);
		return false;
	}
	uint64_t sum = 0;
	for (unsigned i = 0; i < r->nseg; i++) {
		const struct pvio_dseg *s = &r->seg[i];
		uintptr_t a = (uintptr_t)s->va;
		if (!fake_seg_ok(f, s))
			return false;
		if (s->len > l->max_segment_size || !aligned(a, l->dma_align) ||
		    !aligned(s->len, l->dma_align)) {
			fake_violation(f, "segment %u: %u bytes at %#lx breaks "
				       "size/alignment", i, s->len,
				       (unsigned long)a);
			return false;
		}
		if (l->seg_boundary &&
		    a / l->seg_boundary != (a + s->len - 1) / l->seg_boundary) {
			fake_violation(f, "segment %u crosses the %u boundary", i,
				       l->seg_boundary);
			return false;
		}
		if (l->virt_boundary &&
		    ((i > 0 && !aligned(a, l->virt_boundary)) ||
		     (i + 1 < r->nseg &&
		      !aligned(a + s->len, l->virt_boundary)))) {
			fake_violation(f, "segment %u of %u breaks the virt "
				       "boundary (%#lx+%u)", i, r->nseg,
				       (unsigned long)a, s->len);
			return false;
		}
		sum += s->len;
	}
	if (sum != r->len) {
		fake_violation(f, "segments sum to %llu, request says %llu",
			       (unsigned long long)sum,
			       (unsigned long long)r->len);
		return false;
	}
	return true;
}

static bool in_fault(struct fake *f, const struct fake_req *r)
{
	return f->fail_status && r->op != PVIO_BLK_OP_FLUSH &&
	       r->off < f->fail_hi && r->off + r->len > f->fail_lo;
}

static void apply(struct fake *f, struct fake_req *r)
{
	if (r->applied)
		return;
	r->applied = true;
	if (in_fault(f, r)) {
		r->status = f->fail_status;
		return;
	}
	uint8_t *disk = f->disk->data + r->off;
	switch (r->op) {
	case PVIO_BLK_OP_READ:
	case PVIO_BLK_OP_WRITE:
		for (unsigned i = 0; i < r->nseg; i++) {
			if (r->op == PVIO_BLK_OP_READ)
				memcpy(r->seg[i].va, disk, r->seg[i].len);
			else
				memcpy(disk, r->seg[i].va, r->seg[i].len);
			disk += r->seg[i].len;
		}
		break;
	case PVIO_BLK_OP_DISCARD: /* this fake's discard reads back zeroes */
	case PVIO_BLK_OP_WRITE_ZEROES:
		memset(disk, 0, r->len);
		break;
	default:
		break;
	}
}

static void complete(struct fake *f, unsigned q, unsigned slot)
{
	struct fake_q *fq = &f->q[q];
	apply(f, &fq->req[slot]);
	fq->req[slot].state = FR_DONE;
	fq->comp[fq->ct++ % fq->cap] = slot;
	f->completed++;
}

/* Visible requests in order (oldest first). */
static unsigned visible(struct fake_q *fq, unsigned *slots)
{
	unsigned n = 0;
	for (unsigned i = 0; i < fq->cap; i++)
		if (fq->req[i].state == FR_VISIBLE)
			slots[n++] = i;
	for (unsigned i = 1; i < n; i++)
		for (unsigned j = i; j > 0 &&
				     fq->req[slots[j - 1]].seq > fq->req[slots[j]].seq;
		     j--) {
			unsigned t = slots[j];
			slots[j] = slots[j - 1];
			slots[j - 1] = t;
		}
	return n;
}

unsigned fake_blk_release(struct fake *f, unsigned q, unsigned n, bool rev)
{
	struct fake_q *fq = &f->q[q];
	unsigned *s = calloc(fq->cap, sizeof(*s));
	unsigned v = visible(fq, s);
	unsigned done = 0;
	for (unsigned i = 0; i < v && done < n; i++, done++)
		complete(f, q, s[rev ? v - 1 - i : i]);
	free(s);
	if (done)
		fake_notify(f, q);
	return done;
}

static int b_enqueue(pvio_dev *dev, unsigned q, const struct pvio_blk_dreq *r)
{
	struct fake *f = dev->priv;
	int e = fake_state_err(f);
	if (e)
		return e;
	if (q >= f->num_queues) {
		fake_violation(f, "queue %u of %u", q, f->num_queues);
		return -EINVAL;
	}
	struct fake_q *fq = &f->q[q];
	if (!check_req(f, r))
		return -EINVAL;
	if (fq->tag_busy[r->tag]) {
		fake_violation(f, "tag %u is already in flight", r->tag);
		return -EINVAL;
	}
	if (f->break_after && f->enqueued + 1 >= f->break_after)
		return pvio_dev_set_broken(dev, "fake: broke at request %llu",
					   (unsigned long long)f->enqueued + 1);
	unsigned slot = fake_slot_free(fq);
	if (slot == fq->cap) {
		f->eagains++;
		return -EAGAIN;
	}
	struct fake_req *x = &fq->req[slot];
	x->state = FR_STAGED;
	x->seq = fq->seq++;
	x->tag = r->tag;
	x->op = r->op;
	x->fua = r->fua;
	x->nseg = r->nseg;
	x->off = r->offset;
	x->len = r->len;
	x->applied = false;
	x->status = 0;
	if (r->nseg)
		memcpy(x->seg, r->seg, r->nseg * sizeof(*r->seg));
	fq->tag_busy[r->tag] = 1;
	if (f->nlog < sizeof(f->log_off) / sizeof(f->log_off[0])) {
		f->log_op[f->nlog] = r->op;
		f->log_off[f->nlog++] = r->offset;
	}
	f->enqueued++;
	f->ops[r->op]++;
	if (r->fua)
		f->fua_writes++;
	if (r->nseg > f->max_nseg)
		f->max_nseg = r->nseg;
	return 0;
}

static int b_kick(pvio_dev *dev, unsigned q)
{
	struct fake *f = dev->priv;
	int e = fake_state_err(f);
	if (e)
		return e;
	struct fake_q *fq = &f->q[q];
	f->kicks++;
	dev->stats[q].notify_sent++;
	for (unsigned i = 0; i < fq->cap; i++)
		if (fq->req[i].state == FR_STAGED)
			fq->req[i].state = FR_VISIBLE;
	switch (f->policy) {
	case FAKE_IMMEDIATE:
		fake_blk_release(f, q, fq->cap, false);
		break;
	case FAKE_REVERSED:
		fake_blk_release(f, q, fq->cap, true);
		break;
	case FAKE_HELD:
		if (f->apply_on_hold)
			for (unsigned i = 0; i < fq->cap; i++)
				if (fq->req[i].state == FR_VISIBLE)
					apply(f, &fq->req[i]);
		break;
	case FAKE_DEFERRED:
		break;
	}
	return 0;
}

static int b_reap(pvio_dev *dev, unsigned q, struct pvio_blk_dcomp *out,
		  unsigned max)
{
	struct fake *f = dev->priv;
	if (dev->state == PVIO_DEV_BROKEN || dev->state == PVIO_DEV_REMOVED)
		return fake_state_err(f);
	struct fake_q *fq = &f->q[q];
	if (f->policy == FAKE_DEFERRED && !f->quiesced)
		fake_blk_release(f, q, fq->cap, false);
	unsigned n = 0;
	if (f->bogus_comp && max) {
		/* a back end that passed on a host's bad id */
		f->bogus_comp = false;
		out[n++] = (struct pvio_blk_dcomp){ f->bogus_tag, 0 };
	}
	while (n < max && fq->ch != fq->ct) {
		struct fake_req *x = &fq->req[fq->comp[fq->ch++ % fq->cap]];
		out[n++] = (struct pvio_blk_dcomp){ x->tag, x->status };
		fq->tag_busy[x->tag] = 0;
		x->state = FR_FREE;
	}
	return (int)n;
}

static int b_configure(pvio_dev *dev, const struct pvio_dev_config *cfg)
{
	struct fake *f = dev->priv;
	const struct pvio_blk_limits *l = &dev->limits.blk;
	if (cfg->num_queues > l->max_queues) {
		fake_violation(f, "configure: %u queues > %u", cfg->num_queues,
			       l->max_queues);
		return pvio_set_error(dev->ctx, EINVAL, "fake: too many queues");
	}
	unsigned cap = f->ring ? f->ring : l->queue_size;
	fake_configure_queues(f, cfg, cap, l->max_segments);
	dev->info.features = (l->flush ? PVIO_F_BLK_FLUSH : 0) |
			     (l->discard ? PVIO_F_BLK_DISCARD : 0) |
			     (l->write_zeroes ? PVIO_F_BLK_WRITE_ZEROES : 0) |
			     (l->read_only ? PVIO_F_BLK_READ_ONLY : 0);
	return 0;
}

static const struct pvio_blk_ops blk_ops = {
	.enqueue = b_enqueue,
	.kick = b_kick,
	.reap = b_reap,
};

static const struct pvio_dev_ops dev_ops = {
	.configure = b_configure,
	.quiesce = fake_op_quiesce,
	.close = fake_op_close,
	.queue_fd = fake_op_queue_fd,
	.queue_arm = fake_op_queue_arm,
	.queue_ack = fake_op_queue_ack,
	.queue_disarm = fake_op_queue_disarm,
	.blk = &blk_ops,
};

struct fake *fake_blk_new(pvio_ctx *ctx, const char *address,
			  const struct pvio_blk_limits *lim,
			  struct fake_disk *disk)
{
	struct fake *f = fake_new(ctx, address, PVIO_CLASS_BLK, &dev_ops);
	f->dev->limits.blk = *lim;
	f->dev->info.max_queues = lim->max_queues;
	f->dev->info.max_segments = lim->max_segments;
	f->dev->info.max_transfer = lim->max_transfer;
	f->dev->info.max_segment_size = lim->max_segment_size;
	f->disk = disk;
	return f;
}
