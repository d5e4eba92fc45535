/* SPDX-License-Identifier: MIT */
/*
 * tests/lib/fakedev.c - the fake back end's common part: device objects,
 * queues with an eventfd each, waiting, quiesce, close, fault injection.
 */
#include "fakedev_priv.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct fake_disk *fake_disk_new(uint64_t size)
{
	struct fake_disk *d = calloc(1, sizeof(*d));
	d->data = calloc(1, size);
	d->size = size;
	return d;
}

void fake_disk_free(struct fake_disk *d)
{
	if (d) {
		free(d->data);
		free(d);
	}
}

int fake_state_err(struct fake *f)
{
	switch (f->dev->state) {
	case PVIO_DEV_READY:
		return 0;
	case PVIO_DEV_REMOVED:
		return -ENODEV;
	default:
		return -EIO;
	}
}

void fake_violation(struct fake *f, const char *fmt, ...)
{
	va_list ap;
	if (!f->violations++) {
		va_start(ap, fmt);
		vsnprintf(f->violation, sizeof(f->violation), fmt, ap);
		va_end(ap);
	}
}

void fake_notify(struct fake *f, unsigned q)
{
	struct fake_q *fq = &f->q[q];
	uint64_t one = 1;
	if (fq->armed && fq->efd >= 0 && write(fq->efd, &one, sizeof(one)) < 0)
		fake_violation(f, "eventfd write failed");
}

static void free_queues(struct fake *f)
{
	for (unsigned q = 0; q < f->nq_alloc; q++) {
		struct fake_q *fq = &f->q[q];
		if (fq->efd >= 0)
			close(fq->efd);
		free(fq->req);
		free(fq->segmem);
		free(fq->comp);
		free(fq->tag_busy);
		free(fq->rx);
		free(fq->rxc);
		free(fq->rx_busy);
	}
	free(f->q);
	f->q = NULL;
	f->nq_alloc = 0;
}

int fake_configure_queues(struct fake *f, const struct pvio_dev_config *cfg,
			  unsigned cap, unsigned nseg_max)
{
	free_queues(f);
	f->configures++;
	f->num_queues = cfg->num_queues;
	f->max_tags = cfg->max_tags;
	f->want = cfg->want;
	f->q = calloc(cfg->num_queues, sizeof(*f->q));
	f->nq_alloc = cfg->num_queues;
	for (unsigned q = 0; q < cfg->num_queues; q++) {
		struct fake_q *fq = &f->q[q];
		fq->cap = cap;
		fq->nseg_max = nseg_max;
		fq->req = calloc(cap, sizeof(*fq->req));
		fq->segmem = calloc((size_t)cap * nseg_max, sizeof(*fq->segmem));
		for (unsigned i = 0; i < cap; i++)
			fq->req[i].seg = &fq->segmem[(size_t)i * nseg_max];
		fq->comp = calloc(cap, sizeof(*fq->comp));
		fq->tag_busy = calloc(cfg->max_tags, 1);
		fq->rx = calloc(cap, sizeof(*fq->rx));
		fq->rxc = calloc(cap, sizeof(*fq->rxc));
		fq->rx_busy = calloc(cfg->max_tags, 1);
		fq->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	}
	f->dev->info.num_queues = cfg->num_queues;
	f->dev->info.queue_size = cap;
	f->quiesced = false;
	return 0;
}

bool fake_seg_ok(struct fake *f, const struct pvio_dseg *s)
{
	uint64_t da;
	if (!s->len || pvio_dma_translate(f->ctx, s->va, s->len, &da) < 0) {
		fake_violation(f, "segment %p+%u is not in the DMA pool", s->va,
			       s->len);
		return false;
	}
	if (da != s->dev_addr) {
		fake_violation(f, "segment %p: device address 0x%llx, expected "
			       "0x%llx", s->va, (unsigned long long)s->dev_addr,
			       (unsigned long long)da);
		return false;
	}
	return true;
}

unsigned fake_slot_free(struct fake_q *fq)
{
	for (unsigned i = 0; i < fq->cap; i++)
		if (fq->req[i].state == FR_FREE)
			return i;
	return fq->cap;
}

struct fake *fake_new(pvio_ctx *ctx, const char *address, enum pvio_class cls,
		      const struct pvio_dev_ops *ops)
{
	struct fake *f = calloc(1, sizeof(*f));
	f->ctx = ctx;
	f->cls = cls;
	f->dev = pvio_dev_alloc(ctx, ops, 0);
	f->dev->priv = f;
	f->dev->info.cls = cls;
	f->dev->info.family = PVIO_FAMILY_NONE;
	f->dev->address = pvio_strdup(ctx, address);
	f->dev->info.address = f->dev->address;
	pvio_dev_set_strings(f->dev, "fake", "fake 1.0");
	return f;
}

int fake_op_queue_fd(pvio_dev *dev, unsigned q)
{
	struct fake *f = dev->priv;
	if (f->no_queue_fd || q >= f->nq_alloc)
		return -EOPNOTSUPP;
	return f->q[q].efd;
}

static bool has_work(struct fake *f, unsigned q)
{
	struct fake_q *fq = &f->q[q];
	if (f->cls == PVIO_CLASS_NET)
		return fake_net_pending(f, q);
	if (fq->ch != fq->ct)
		return true;
	if (f->policy == FAKE_DEFERRED)
		for (unsigned i = 0; i < fq->cap; i++)
			if (fq->req[i].state == FR_VISIBLE)
				return true;
	return false;
}

int fake_op_queue_arm(pvio_dev *dev, unsigned q)
{
	struct fake *f = dev->priv;
	if (has_work(f, q))
		return 1;
	f->q[q].armed = true;
	return 0;
}

void fake_op_queue_ack(pvio_dev *dev, unsigned q)
{
	struct fake *f = dev->priv;
	uint64_t v;
	if (read(f->q[q].efd, &v, sizeof(v)) < 0) {
		/* nothing to consume: fine */
	}
}

void fake_op_queue_disarm(pvio_dev *dev, unsigned q)
{
	struct fake *f = dev->priv;
	f->q[q].armed = false;
}

int fake_op_quiesce(pvio_dev *dev)
{
	struct fake *f = dev->priv;
	/* the host stops: what it had not finished is abandoned, what it
	 * finished stays reapable */
	for (unsigned q = 0; q < f->nq_alloc; q++) {
		struct fake_q *fq = &f->q[q];
		for (unsigned i = 0; i < fq->cap; i++) {
			struct fake_req *r = &fq->req[i];
			if (r->state == FR_STAGED || r->state == FR_VISIBLE) {
				r->state = FR_FREE;
				if (r->tag < f->max_tags)
					fq->tag_busy[r->tag] = 0;
			}
		}
		fq->rh = fq->rt = 0; /* posted RX buffers are dropped */
		memset(fq->rx_busy, 0, f->max_tags);
	}
	f->quiesced = true;
	return f->quiesce_ret;
}

void fake_op_close(pvio_dev *dev)
{
	struct fake *f = dev->priv;
	free_queues(f);
	f->closed = true;
	f->dev = NULL;
	dev->priv = NULL; /* ours, not the core's to free */
	pvio_dev_free(dev);
}

void fake_free(struct fake *f)
{
	if (!f)
		return;
	if (f->dev)
		pvio_dev_close(f->dev);
	free(f);
}

unsigned fake_release(struct fake *f, unsigned q, unsigned n, bool reverse)
{
	if (!f->dev || q >= f->nq_alloc)
		return 0;
	if (f->cls == PVIO_CLASS_NET)
		return fake_net_release(f, q, n);
	return fake_blk_release(f, q, n, reverse);
}

unsigned fake_pending(struct fake *f, unsigned q)
{
	unsigned n = 0;
	if (!f->dev || q >= f->nq_alloc)
		return 0;
	for (unsigned i = 0; i < f->q[q].cap; i++)
		if (f->q[q].req[i].state == FR_STAGED ||
		    f->q[q].req[i].state == FR_VISIBLE)
			n++;
	return n;
}

void fake_break(struct fake *f, bool removed)
{
	if (removed)
		pvio_dev_set_removed(f->dev, "fake: injected removal");
	else
		pvio_dev_set_broken(f->dev, "fake: injected failure");
}
