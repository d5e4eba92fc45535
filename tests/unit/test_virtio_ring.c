/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the virtqueue drivers (backends/virtio/ring*.c).
 *
 * The device side is modelled here, independently of the driver code: it
 * finds the rings with Linux's own vring_init() and struct definitions
 * (linux/virtio_ring.h), walks descriptor chains as the virtio spec says a
 * device does, and decides notifications with Linux's vring_need_event().
 * Hostile tests make the device write what a broken or malicious one
 * would.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_ring.h>

#include "backends/virtio/virtio.h"

static pvio_ctx *ctx;

static void setup(void)
{
	struct pvio_ctx_opts o = { .struct_size = sizeof(o),
				   .dma_pool_size = 16u << 20 };
	ck_assert_int_eq(pvio_ctx_new(&o, &ctx), 0);
}

static void teardown(void)
{
	pvio_ctx_free(ctx);
	ctx = NULL;
}

/* A data buffer in DMA memory. */
struct dbuf {
	uint8_t *va;
	uint64_t addr;
};

static struct dbuf dbuf_new(size_t len)
{
	struct dbuf b;
	b.va = pvio_dma_alloc(ctx, len, 64);
	ck_assert_ptr_nonnull(b.va);
	ck_assert_int_eq(pvio_dma_translate(ctx, b.va, len, &b.addr), 0);
	return b;
}

/* ------------------------------------------------------------------ */
/* The device model: what a device found in a buffer                   */
/* ------------------------------------------------------------------ */

struct seg {
	uint64_t addr;
	uint32_t len;
	int write;
};

struct chain {
	uint16_t head;   /* split: head index; packed: buffer id */
	unsigned ndesc;  /* ring descriptors (packed: slots) used */
	unsigned nseg;
	int indirect;
	struct seg seg[64];
};

static void *dva(uint64_t addr, size_t len)
{
	void *p = pvio_dma_to_va(ctx, addr, len);
	ck_assert_msg(p != NULL, "device address 0x%llx not in guest memory",
		      (unsigned long long)addr);
	return p;
}

/* ---- split ---- */

struct sdev {
	struct vring vr;
	int event_idx;
	uint16_t last_avail;
	uint16_t used_idx;
	unsigned irqs;    /* used-buffer notifications the device sent */
};

static void sdev_init(struct sdev *d, struct virtio_vq *vq, int event_idx)
{
	memset(d, 0, sizeof(*d));
	/* the driver's ring must be exactly where the legacy layout puts it */
	vring_init(&d->vr, vq->size, vq->desc, 4096);
	ck_assert_ptr_eq((void *)d->vr.avail, (void *)vq->drv);
	ck_assert_ptr_eq((void *)d->vr.used, (void *)vq->dev);
	d->event_idx = event_idx;
}

/* Take the next available buffer; 0 if none. */
static int sdev_take(struct sdev *d, struct chain *c)
{
	__sync_synchronize();
	if (d->vr.avail->idx == d->last_avail)
		return 0;
	memset(c, 0, sizeof(*c));
	uint16_t head = d->vr.avail->ring[d->last_avail % d->vr.num];
	ck_assert_uint_lt(head, d->vr.num);
	c->head = head;
	d->last_avail++;
	if (d->event_idx)
		vring_avail_event(&d->vr) = d->last_avail;

	struct vring_desc *tab = (struct vring_desc *)d->vr.desc;
	unsigned tabn = d->vr.num;
	uint16_t i = head;
	c->ndesc = 1;
	if (tab[i].flags & VRING_DESC_F_INDIRECT) {
		ck_assert(!(tab[i].flags & VRING_DESC_F_NEXT));
		ck_assert_uint_eq(tab[i].len % 16, 0);
		c->indirect = 1;
		tabn = tab[i].len / 16;
		tab = dva(tab[i].addr, tab[i].len);
		i = 0;
	}
	for (unsigned k = 0;; k++) {
		ck_assert_uint_lt(k, tabn);
		ck_assert_uint_lt(i, tabn);
		ck_assert(!(tab[i].flags & VRING_DESC_F_INDIRECT));
		ck_assert_uint_lt(c->nseg, 64);
		struct seg *s = &c->seg[c->nseg++];
		s->addr = tab[i].addr;
		s->len = tab[i].len;
		s->write = !!(tab[i].flags & VRING_DESC_F_WRITE);
		if (c->nseg > 1 && !s->write)
			ck_assert_msg(!c->seg[c->nseg - 2].write,
				      "readable descriptor after writable one");
		if (!(tab[i].flags & VRING_DESC_F_NEXT))
			break;
		i = tab[i].next;
		if (!c->indirect)
			c->ndesc++;
	}
	return 1;
}

/* Put a used entry (any id/len, hostile or not); returns 1 if the device
 * would notify the driver. */
static int sdev_used(struct sdev *d, uint32_t id, uint32_t len)
{
	uint16_t old = d->used_idx;
	d->vr.used->ring[d->used_idx % d->vr.num].id = id;
	d->vr.used->ring[d->used_idx % d->vr.num].len = len;
	__sync_synchronize();
	d->vr.used->idx = ++d->used_idx;
	__sync_synchronize();
	int irq;
	if (d->event_idx)
		irq = vring_need_event(vring_used_event(&d->vr), d->used_idx, old);
	else
		irq = !(d->vr.avail->flags & VRING_AVAIL_F_NO_INTERRUPT);
	d->irqs += irq;
	return irq;
}

/* ---- packed ---- */

struct pdev {
	struct vring_packed_desc *desc;
	struct vring_packed_desc_event *drv, *dev;
	unsigned num;
	int event_idx;
	uint16_t next_avail, next_used;
	int avail_wrap, used_wrap;
	unsigned irqs;
};

static void pdev_init(struct pdev *d, struct virtio_vq *vq, int event_idx)
{
	memset(d, 0, sizeof(*d));
	d->desc = (struct vring_packed_desc *)vq->desc;
	d->drv = (struct vring_packed_desc_event *)vq->drv;
	d->dev = (struct vring_packed_desc_event *)vq->dev;
	d->num = vq->size;
	d->event_idx = event_idx;
	d->avail_wrap = d->used_wrap = 1;
}

static int pdesc_avail(const struct pdev *d, uint16_t flags)
{
	int a = !!(flags & (1u << VRING_PACKED_DESC_F_AVAIL));
	int u = !!(flags & (1u << VRING_PACKED_DESC_F_USED));
	return a != u && a == d->avail_wrap;
}

static int pdev_take(struct pdev *d, struct chain *c)
{
	__sync_synchronize();
	uint16_t f = d->desc[d->next_avail].flags;
	if (!pdesc_avail(d, f))
		return 0;
	__sync_synchronize();
	memset(c, 0, sizeof(*c));
	if (f & VRING_DESC_F_INDIRECT) {
		struct vring_packed_desc *h = &d->desc[d->next_avail];
		ck_assert(!(f & VRING_DESC_F_NEXT));
		ck_assert_uint_eq(h->len % 16, 0);
		struct vring_packed_desc *t = dva(h->addr, h->len);
		c->indirect = 1;
		c->head = h->id;
		c->ndesc = 1;
		for (unsigned i = 0; i < h->len / 16; i++) {
			struct seg *s = &c->seg[c->nseg++];
			s->addr = t[i].addr;
			s->len = t[i].len;
			s->write = !!(t[i].flags & VRING_DESC_F_WRITE);
		}
	} else {
		uint16_t slot = d->next_avail;
		int wrap = d->avail_wrap;
		for (;;) {
			struct vring_packed_desc *x = &d->desc[slot];
			/* every descriptor of a chain is marked available */
			int a = !!(x->flags & (1u << VRING_PACKED_DESC_F_AVAIL));
			int u = !!(x->flags & (1u << VRING_PACKED_DESC_F_USED));
			ck_assert_msg(a != u && a == wrap,
				      "chain descriptor %u not available", slot);
			ck_assert_uint_lt(c->nseg, 64);
			struct seg *s = &c->seg[c->nseg++];
			s->addr = x->addr;
			s->len = x->len;
			s->write = !!(x->flags & VRING_DESC_F_WRITE);
			c->ndesc++;
			c->head = x->id; /* the id is in the last descriptor */
			int more = x->flags & VRING_DESC_F_NEXT;
			if (++slot == d->num) {
				slot = 0;
				wrap ^= 1;
			}
			if (!more)
				break;
			ck_assert_uint_le(c->ndesc, d->num);
		}
	}
	for (unsigned i = 0; i < c->ndesc; i++)
		if (++d->next_avail == d->num) {
			d->next_avail = 0;
			d->avail_wrap ^= 1;
		}
	return 1;
}

/* Write one used descriptor for buffer id that took ndesc slots; returns 1
 * if the device would notify. */
static int pdev_used(struct pdev *d, uint16_t id, uint32_t len, unsigned ndesc)
{
	uint16_t old = d->next_used;
	int old_wrap = d->used_wrap;
	struct vring_packed_desc *x = &d->desc[d->next_used];
	x->id = id;
	x->len = len;
	__sync_synchronize();
	x->flags = d->used_wrap ? (uint16_t)((1u << VRING_PACKED_DESC_F_AVAIL) |
					     (1u << VRING_PACKED_DESC_F_USED))
				: 0;
	for (unsigned i = 0; i < ndesc; i++)
		if (++d->next_used == d->num) {
			d->next_used = 0;
			d->used_wrap ^= 1;
		}
	__sync_synchronize();
	int irq;
	uint16_t fl = d->drv->flags;
	if (fl == VRING_PACKED_EVENT_FLAG_DISABLE) {
		irq = 0;
	} else if (fl == VRING_PACKED_EVENT_FLAG_DESC && d->event_idx) {
		/* notify if the event position lies in (old, new] */
		uint16_t ow = d->drv->off_wrap;
		uint16_t ev = ow & 0x7fff;
		int evw = ow >> VRING_PACKED_EVENT_F_WRAP_CTR;
		uint16_t newi = d->next_used;
		uint16_t oldi = old;
		if (evw != d->used_wrap)
			ev = (uint16_t)(ev - d->num);
		if (old_wrap != d->used_wrap)
			oldi = (uint16_t)(oldi - d->num);
		irq = vring_need_event(ev, newi, oldi);
	} else {
		irq = 1;
	}
	d->irqs += irq;
	return irq;
}

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

static struct virtio_vq *vq_new(uint16_t size, uint32_t flags,
				uint16_t ind_max)
{
	struct virtio_vq *vq = calloc(1, sizeof(*vq));
	ck_assert_ptr_nonnull(vq);
	ck_assert_int_eq(virtio_vq_init(ctx, vq, 3, size, flags, ind_max), 0);
	return vq;
}

static void vq_del(struct virtio_vq *vq)
{
	virtio_vq_fini(ctx, vq, false);
	free(vq);
}

static int get1(struct virtio_vq *vq, uint32_t *tok, uint32_t *len)
{
	return virtio_vq_get(vq, tok, len);
}

/* ------------------------------------------------------------------ */
/* Split ring                                                          */
/* ------------------------------------------------------------------ */

START_TEST(need_event_matches_linux)
{
	/* exhaustive over a window around the 16-bit wrap */
	for (unsigned ev = 65500; ev < 65600; ev++)
		for (unsigned o = 65520; o < 65560; o++)
			for (unsigned k = 0; k < 40; k++) {
				uint16_t e = (uint16_t)ev, old = (uint16_t)o,
					 nw = (uint16_t)(o + k);
				ck_assert_int_eq(!!virtio_need_event(e, nw, old),
						 !!vring_need_event(e, nw, old));
			}
}
END_TEST

START_TEST(split_basic_chain)
{
	struct virtio_vq *vq = vq_new(8, 0, 0);
	struct sdev d;
	sdev_init(&d, vq, 0);
	struct dbuf h = dbuf_new(16), data = dbuf_new(4096), st = dbuf_new(1);
	struct virtio_sg sg[3] = {
		{ h.addr, 16, 0 }, { data.addr, 4096, 1 }, { st.addr, 1, 1 } };
	struct chain c;

	ck_assert_int_eq(virtio_vq_add(vq, sg, 3, 77), 0);
	ck_assert_uint_eq(vq->num_free, 5);
	/* not visible before publish */
	ck_assert_int_eq(sdev_take(&d, &c), 0);
	ck_assert_int_eq(virtio_vq_publish(vq), VIRTIO_KICK_NOTIFY);
	ck_assert_int_eq(virtio_vq_publish(vq), VIRTIO_KICK_NONE);
	ck_assert_int_eq(sdev_take(&d, &c), 1);
	ck_assert_uint_eq(c.nseg, 3);
	ck_assert_uint_eq(c.ndesc, 3);
	ck_assert(!c.indirect);
	ck_assert_uint_eq(c.seg[0].addr, h.addr);
	ck_assert_uint_eq(c.seg[0].len, 16);
	ck_assert_int_eq(c.seg[0].write, 0);
	ck_assert_uint_eq(c.seg[1].addr, data.addr);
	ck_assert_int_eq(c.seg[1].write, 1);
	ck_assert_uint_eq(c.seg[2].len, 1);

	uint32_t tok, len;
	ck_assert_int_eq(get1(vq, &tok, &len), 0);
	sdev_used(&d, c.head, 4097);
	ck_assert_int_eq(get1(vq, &tok, &len), 1);
	ck_assert_uint_eq(tok, 77);
	ck_assert_uint_eq(len, 4097);
	ck_assert_uint_eq(vq->num_free, 8);
	ck_assert_int_eq(get1(vq, &tok, &len), 0);
	ck_assert_uint_eq(vq->len_clamped, 0);

	/* caller errors */
	struct virtio_sg bad[2] = { { data.addr, 8, 1 }, { h.addr, 8, 0 } };
	ck_assert_int_eq(virtio_vq_add(vq, bad, 2, 1), -EINVAL);
	ck_assert_int_eq(virtio_vq_add(vq, bad, 0, 1), -EINVAL);
	struct virtio_sg zero = { data.addr, 0, 1 };
	ck_assert_int_eq(virtio_vq_add(vq, &zero, 1, 1), -EINVAL);
	struct virtio_sg many[9];
	for (int i = 0; i < 9; i++)
		many[i] = (struct virtio_sg){ data.addr, 8, 1 };
	ck_assert_int_eq(virtio_vq_add(vq, many, 9, 1), -EINVAL);
	ck_assert_int_eq(vq->broken, 0);
	vq_del(vq);
}
END_TEST

START_TEST(split_full_ring_eagain)
{
	struct virtio_vq *vq = vq_new(4, 0, 0);
	struct dbuf b = dbuf_new(64);
	struct virtio_sg sg[2] = { { b.addr, 8, 0 }, { b.addr + 8, 8, 1 } };
	ck_assert_int_eq(virtio_vq_add(vq, sg, 2, 1), 0);
	ck_assert_int_eq(virtio_vq_add(vq, sg, 2, 2), 0);
	ck_assert_int_eq(virtio_vq_add(vq, sg, 1, 3), -EAGAIN);
	vq_del(vq);
}
END_TEST

/* Run many buffers through a small ring so both 16-bit indices wrap, with
 * chains of 1..3 descriptors and completions in a shuffled order. */
static void split_run(uint32_t flags, uint16_t ind_max, unsigned total)
{
	struct virtio_vq *vq = vq_new(8, flags, ind_max);
	struct sdev d;
	sdev_init(&d, vq, !!(flags & VIRTIO_VQ_EVENT_IDX));
	struct dbuf b = dbuf_new(4096);
	uint32_t next_tok = 0, done = 0, seed = 12345;
	struct chain taken[8];
	unsigned ntaken = 0;
	static uint8_t seen[1 << 20];
	memset(seen, 0, sizeof(seen));

	while (done < total) {
		/* add until full; the writable piece's size encodes the token,
		 * so the device can answer without knowing the driver's state */
		for (;;) {
			unsigned n = 1 + (next_tok % 3);
			struct virtio_sg sg[3];
			for (unsigned i = 0; i < n; i++)
				sg[i] = (struct virtio_sg){ b.addr + 64 * i, 64,
							    i == n - 1 };
			sg[n - 1].len = 1 + next_tok % 61;
			int r = virtio_vq_add(vq, sg, n, next_tok);
			if (r == -EAGAIN)
				break;
			ck_assert_int_eq(r, 0);
			next_tok++;
		}
		virtio_vq_publish(vq);
		while (ntaken < 8 && sdev_take(&d, &taken[ntaken]))
			ntaken++;
		/* complete a pseudo-random subset in a pseudo-random order,
		 * reporting the whole writable piece as written */
		ck_assert_uint_gt(ntaken, 0);
		unsigned k = 1 + (seed >> 7) % ntaken;
		for (unsigned j = 0; j < k; j++) {
			seed = seed * 1103515245u + 12345u;
			unsigned pick = (seed >> 9) % ntaken;
			struct chain *c = &taken[pick];
			ck_assert(c->seg[c->nseg - 1].write);
			sdev_used(&d, c->head, c->seg[c->nseg - 1].len);
			taken[pick] = taken[--ntaken];
		}
		uint32_t tok, len;
		int r;
		while ((r = virtio_vq_get(vq, &tok, &len)) == 1) {
			ck_assert_uint_lt(tok, next_tok);
			ck_assert_int_eq(seen[tok], 0);
			seen[tok] = 1;
			ck_assert_uint_eq(len, 1 + tok % 61);
			done++;
		}
		ck_assert_int_eq(r, 0);
	}
	ck_assert_int_eq(vq->broken, 0);
	/* both free-running indices went round */
	ck_assert_uint_gt(vq->added, 65536);
	vq_del(vq);
}

START_TEST(split_wraparound)
{
	split_run(0, 0, 70000);
}
END_TEST

START_TEST(split_wraparound_indirect_event_idx)
{
	split_run(VIRTIO_VQ_INDIRECT | VIRTIO_VQ_EVENT_IDX, 4, 70000);
}
END_TEST

START_TEST(split_indirect)
{
	struct virtio_vq *vq = vq_new(16, VIRTIO_VQ_INDIRECT, 6);
	struct sdev d;
	sdev_init(&d, vq, 0);
	struct dbuf b = dbuf_new(4096);
	struct virtio_sg sg[7];
	for (int i = 0; i < 7; i++)
		sg[i] = (struct virtio_sg){ b.addr + 100 * i, 100 + i, i >= 4 };
	struct chain c;

	/* 5 pieces: one ring descriptor pointing at a table */
	ck_assert_int_eq(virtio_vq_add(vq, sg, 5, 1), 0);
	ck_assert_uint_eq(vq->num_free, 15);
	/* 1 piece: never indirect */
	ck_assert_int_eq(virtio_vq_add(vq, sg, 1, 2), 0);
	ck_assert_uint_eq(vq->num_free, 14);
	/* 7 pieces > ind_max: a direct chain */
	ck_assert_int_eq(virtio_vq_add(vq, sg, 7, 3), 0);
	ck_assert_uint_eq(vq->num_free, 7);
	virtio_vq_publish(vq);

	ck_assert_int_eq(sdev_take(&d, &c), 1);
	ck_assert(c.indirect);
	ck_assert_uint_eq(c.nseg, 5);
	for (int i = 0; i < 5; i++) {
		ck_assert_uint_eq(c.seg[i].addr, b.addr + 100 * i);
		ck_assert_uint_eq(c.seg[i].len, 100 + i);
		ck_assert_int_eq(c.seg[i].write, i >= 4);
	}
	uint16_t h1 = c.head;
	ck_assert_int_eq(sdev_take(&d, &c), 1);
	ck_assert(!c.indirect);
	ck_assert_uint_eq(c.nseg, 1);
	uint16_t h2 = c.head;
	ck_assert_int_eq(sdev_take(&d, &c), 1);
	ck_assert(!c.indirect);
	ck_assert_uint_eq(c.nseg, 7);
	uint16_t h3 = c.head;

	/* writable sizes: 104 (piece 4) for the first buffer */
	sdev_used(&d, h3, 6);
	sdev_used(&d, h1, 104);
	sdev_used(&d, h2, 0);
	uint32_t tok, len;
	ck_assert_int_eq(get1(vq, &tok, &len), 1);
	ck_assert_uint_eq(tok, 3);
	ck_assert_uint_eq(len, 6);
	ck_assert_int_eq(get1(vq, &tok, &len), 1);
	ck_assert_uint_eq(tok, 1);
	ck_assert_uint_eq(len, 104);
	ck_assert_int_eq(get1(vq, &tok, &len), 1);
	ck_assert_uint_eq(tok, 2);
	ck_assert_uint_eq(vq->num_free, 16);
	vq_del(vq);
}
END_TEST

START_TEST(split_notify_no_event_idx)
{
	struct virtio_vq *vq = vq_new(8, 0, 0);
	struct sdev d;
	sdev_init(&d, vq, 0);
	struct dbuf b = dbuf_new(64);
	struct virtio_sg sg = { b.addr, 64, 1 };
	struct chain c;

	/* interrupts start off */
	ck_assert_uint_eq(d.vr.avail->flags, VRING_AVAIL_F_NO_INTERRUPT);
	d.vr.used->flags = VRING_USED_F_NO_NOTIFY;
	ck_assert_int_eq(virtio_vq_add(vq, &sg, 1, 1), 0);
	ck_assert_int_eq(virtio_vq_publish(vq), VIRTIO_KICK_SUPPRESSED);
	d.vr.used->flags = 0;
	ck_assert_int_eq(virtio_vq_add(vq, &sg, 1, 2), 0);
	ck_assert_int_eq(virtio_vq_publish(vq), VIRTIO_KICK_NOTIFY);

	ck_assert_int_eq(sdev_take(&d, &c), 1);
	ck_assert_int_eq(sdev_used(&d, c.head, 1), 0); /* suppressed */
	ck_assert_int_eq(virtio_vq_arm(vq), 1);        /* already pending */
	ck_assert_uint_eq(d.vr.avail->flags, 0);
	uint32_t tok, len;
	ck_assert_int_eq(get1(vq, &tok, &len), 1);
	ck_assert_int_eq(virtio_vq_arm(vq), 0);
	ck_assert_int_eq(sdev_take(&d, &c), 1);
	ck_assert_int_eq(sdev_used(&d, c.head, 1), 1); /* armed: notifies */
	virtio_vq_disarm(vq);
	ck_assert_uint_eq(d.vr.avail->flags, VRING_AVAIL_F_NO_INTERRUPT);
	vq_del(vq);
}
END_TEST

START_TEST(split_event_idx)
{
	struct virtio_vq *vq = vq_new(16, VIRTIO_VQ_EVENT_IDX, 0);
	struct sdev d;
	sdev_init(&d, vq, 1);
	struct dbuf b = dbuf_new(64);
	struct virtio_sg sg = { b.addr, 64, 1 };
	struct chain c;

	/* avail_event 0: the device wants a kick when index 0 is published */
	ck_assert_int_eq(virtio_vq_add(vq, &sg, 1, 1), 0);
	ck_assert_int_eq(virtio_vq_publish(vq), VIRTIO_KICK_NOTIFY);
	/* device asks to be kicked only once index 5 is passed */
	vring_avail_event(&d.vr) = 5;
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(virtio_vq_add(vq, &sg, 1, 2), 0);
	/* published 1..3: 5 not in [1,4) */
	ck_assert_int_eq(virtio_vq_publish(vq), VIRTIO_KICK_SUPPRESSED);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(virtio_vq_add(vq, &sg, 1, 3), 0);
	/* a batch 4..6 contains 5: one kick for the whole window */
	ck_assert_int_eq(virtio_vq_publish(vq), VIRTIO_KICK_NOTIFY);
	/* the device is behind (event 2, already passed): no kick */
	vring_avail_event(&d.vr) = 2;
	ck_assert_int_eq(virtio_vq_add(vq, &sg, 1, 4), 0);
	ck_assert_int_eq(virtio_vq_publish(vq), VIRTIO_KICK_SUPPRESSED);

	/* interrupts: disarmed, used_event is far away */
	while (sdev_take(&d, &c))
		ck_assert_int_eq(sdev_used(&d, c.head, 0), 0);
	uint32_t tok, len;
	unsigned n = 0;
	while (get1(vq, &tok, &len) == 1)
		n++;
	ck_assert_uint_eq(n, 8);
	ck_assert_int_eq(virtio_vq_arm(vq), 0);
	ck_assert_uint_eq(vring_used_event(&d.vr), 8);
	ck_assert_int_eq(virtio_vq_add(vq, &sg, 1, 5), 0);
	virtio_vq_publish(vq);
	ck_assert_int_eq(sdev_take(&d, &c), 1);
	ck_assert_int_eq(sdev_used(&d, c.head, 0), 1);
	vq_del(vq);
}
END_TEST

START_TEST(split_out_of_order)
{
	struct virtio_vq *vq = vq_new(4, 0, 0);
	struct sdev d;
	sdev_init(&d, vq, 0);
	struct dbuf b = dbuf_new(64);
	struct virtio_sg sg = { b.addr, 64, 1 };
	struct chain c[4];

	for (uint32_t t = 10; t < 14; t++)
		ck_assert_int_eq(virtio_vq_add(vq, &sg, 1, t), 0);
	virtio_vq_publish(vq);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(sdev_take(&d, &c[i]), 1);
	int order[4] = { 2, 0, 3, 1 };
	for (int i = 0; i < 4; i++)
		sdev_used(&d, c[order[i]].head, (uint32_t)order[i]);
	for (int i = 0; i < 4; i++) {
		uint32_t tok, len;
		ck_assert_int_eq(get1(vq, &tok, &len), 1);
		ck_assert_uint_eq(tok, 10 + (uint32_t)order[i]);
		ck_assert_uint_eq(len, (uint32_t)order[i]);
	}
	/* every descriptor is free again */
	for (uint32_t t = 0; t < 4; t++)
		ck_assert_int_eq(virtio_vq_add(vq, &sg, 1, t), 0);
	vq_del(vq);
}
END_TEST

/* ---- hostile used entries (split) ---- */

struct hostile_fixture {
	struct virtio_vq *vq;
	struct sdev d;
	struct chain c[2];
	struct dbuf b;
};

static void hf_init(struct hostile_fixture *f)
{
	f->vq = vq_new(8, 0, 0);
	sdev_init(&f->d, f->vq, 0);
	f->b = dbuf_new(256);
	struct virtio_sg sg[2] = { { f->b.addr, 16, 0 }, { f->b.addr + 16, 100, 1 } };
	ck_assert_int_eq(virtio_vq_add(f->vq, sg, 2, 1), 0);
	ck_assert_int_eq(virtio_vq_add(f->vq, sg, 2, 2), 0);
	virtio_vq_publish(f->vq);
	ck_assert_int_eq(sdev_take(&f->d, &f->c[0]), 1);
	ck_assert_int_eq(sdev_take(&f->d, &f->c[1]), 1);
}

static void hf_expect_broken(struct hostile_fixture *f, const char *why)
{
	uint32_t tok, len;
	int r;
	/* whatever was valid comes out first, then the error, every time */
	for (int i = 0; i < 4 && (r = get1(f->vq, &tok, &len)) == 1; i++)
		;
	ck_assert_int_eq(get1(f->vq, &tok, &len), -EIO);
	ck_assert_int_eq(f->vq->broken, 1);
	ck_assert_msg(strstr(f->vq->why, why) != NULL, "reason '%s' lacks '%s'",
		      f->vq->why, why);
	struct virtio_sg sg = { f->b.addr, 8, 1 };
	ck_assert_int_eq(virtio_vq_add(f->vq, &sg, 1, 9), -EIO);
	ck_assert_int_eq(virtio_vq_arm(f->vq), 1);
	vq_del(f->vq);
}

START_TEST(split_hostile_id_out_of_range)
{
	struct hostile_fixture f;
	hf_init(&f);
	sdev_used(&f.d, 8, 1);
	hf_expect_broken(&f, "out of range");
	hf_init(&f);
	sdev_used(&f.d, 0xffffffffu, 1);
	hf_expect_broken(&f, "out of range");
}
END_TEST

START_TEST(split_hostile_not_outstanding)
{
	struct hostile_fixture f;
	hf_init(&f);
	/* a free descriptor */
	sdev_used(&f.d, 7, 1);
	hf_expect_broken(&f, "not an outstanding");
	hf_init(&f);
	/* the second descriptor of a chain is not a head */
	uint16_t second = (uint16_t)(f.c[0].head + 1);
	ck_assert_uint_ne(second, f.c[1].head);
	sdev_used(&f.d, second, 1);
	hf_expect_broken(&f, "not an outstanding");
}
END_TEST

START_TEST(split_hostile_duplicate)
{
	struct hostile_fixture f;
	uint32_t tok, len;
	hf_init(&f);
	sdev_used(&f.d, f.c[0].head, 1);
	ck_assert_int_eq(get1(f.vq, &tok, &len), 1);
	ck_assert_uint_eq(tok, 1);
	sdev_used(&f.d, f.c[0].head, 1); /* again */
	hf_expect_broken(&f, "not an outstanding");
	/* and twice within one batch */
	hf_init(&f);
	sdev_used(&f.d, f.c[1].head, 1);
	sdev_used(&f.d, f.c[1].head, 1);
	ck_assert_int_eq(get1(f.vq, &tok, &len), 1);
	ck_assert_uint_eq(tok, 2);
	hf_expect_broken(&f, "not an outstanding");
}
END_TEST

START_TEST(split_hostile_len_clamped)
{
	struct hostile_fixture f;
	uint32_t tok, len;
	hf_init(&f);
	sdev_used(&f.d, f.c[0].head, 100000);
	sdev_used(&f.d, f.c[1].head, 0xffffffffu);
	ck_assert_int_eq(get1(f.vq, &tok, &len), 1);
	ck_assert_uint_eq(len, 100);
	ck_assert_int_eq(get1(f.vq, &tok, &len), 1);
	ck_assert_uint_eq(len, 100);
	ck_assert_uint_eq(f.vq->len_clamped, 2);
	ck_assert_int_eq(f.vq->broken, 0);
	vq_del(f.vq);
}
END_TEST

START_TEST(split_hostile_idx_jump)
{
	struct hostile_fixture f;
	uint32_t tok, len;
	/* 3 entries with 2 buffers outstanding */
	hf_init(&f);
	f.d.vr.used->ring[0].id = f.c[0].head;
	f.d.vr.used->idx = 3;
	hf_expect_broken(&f, "jumped");
	/* more than the queue size */
	hf_init(&f);
	f.d.vr.used->idx = 9;
	hf_expect_broken(&f, "jumped");
	/* backwards */
	hf_init(&f);
	sdev_used(&f.d, f.c[0].head, 1);
	ck_assert_int_eq(get1(f.vq, &tok, &len), 1);
	f.d.vr.used->idx = 0;
	hf_expect_broken(&f, "jumped");
}
END_TEST

START_TEST(split_hostile_unpublished)
{
	struct hostile_fixture f;
	hf_init(&f);
	struct virtio_sg sg = { f.b.addr, 8, 1 };
	ck_assert_int_eq(virtio_vq_add(f.vq, &sg, 1, 3), 0);
	/* the device guesses the head of the not yet published buffer */
	uint16_t guess = f.d.vr.avail->ring[2];
	sdev_used(&f.d, guess, 1);
	hf_expect_broken(&f, "never made available");
}
END_TEST

START_TEST(split_drained)
{
	struct virtio_vq *vq = vq_new(8, 0, 0);
	struct sdev d;
	sdev_init(&d, vq, 0);
	struct dbuf b = dbuf_new(64);
	struct virtio_sg sg = { b.addr, 64, 1 };
	struct chain c[3];
	for (uint32_t t = 0; t < 4; t++)
		ck_assert_int_eq(virtio_vq_add(vq, &sg, 1, t), 0);
	virtio_vq_publish(vq);
	/* one more, never published */
	ck_assert_int_eq(virtio_vq_add(vq, &sg, 1, 9), 0);
	ck_assert_int_eq(sdev_take(&d, &c[0]), 1);
	ck_assert_int_eq(sdev_take(&d, &c[1]), 1);
	sdev_used(&d, c[0].head, 5);
	/* stopped after taking 2, one still in flight */
	ck_assert_int_eq(virtio_vq_drained(vq, 2), 0);
	sdev_used(&d, c[1].head, 6);
	ck_assert_int_eq(virtio_vq_drained(vq, 2), 1);
	/* both completions are kept for reap */
	uint32_t tok, len;
	ck_assert_int_eq(get1(vq, &tok, &len), 1);
	ck_assert_uint_eq(tok, 0);
	ck_assert_uint_eq(len, 5);
	ck_assert_int_eq(get1(vq, &tok, &len), 1);
	ck_assert_uint_eq(tok, 1);
	ck_assert_int_eq(get1(vq, &tok, &len), 0);
	/* a stop position beyond what was published is a lie */
	ck_assert_int_eq(virtio_vq_drained(vq, 5), -EIO);
	ck_assert(strstr(vq->why, "outside") != NULL);
	vq_del(vq);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Packed ring                                                         */
/* ------------------------------------------------------------------ */

START_TEST(packed_basic)
{
	struct virtio_vq *vq = vq_new(8, VIRTIO_VQ_PACKED, 0);
	struct pdev d;
	pdev_init(&d, vq, 0);
	struct dbuf b = dbuf_new(4096);
	struct virtio_sg sg[3] = {
		{ b.addr, 16, 0 }, { b.addr + 64, 512, 1 }, { b.addr + 1024, 1, 1 } };
	struct chain c;

	/* device events start enabled (all zero): the driver kicks */
	ck_assert_int_eq(virtio_vq_add(vq, sg, 3, 41), 0);
	ck_assert_int_eq(virtio_vq_add(vq, sg, 1, 42), 0);
	ck_assert_int_eq(pdev_take(&d, &c), 0); /* held back until publish */
	ck_assert_int_eq(virtio_vq_publish(vq), VIRTIO_KICK_NOTIFY);
	ck_assert_int_eq(pdev_take(&d, &c), 1);
	ck_assert_uint_eq(c.nseg, 3);
	ck_assert_uint_eq(c.ndesc, 3);
	ck_assert_uint_eq(c.seg[1].len, 512);
	ck_assert_int_eq(c.seg[1].write, 1);
	ck_assert_int_eq(c.seg[0].write, 0);
	uint16_t id1 = c.head;
	ck_assert_int_eq(pdev_take(&d, &c), 1);
	ck_assert_uint_eq(c.nseg, 1);
	uint16_t id2 = c.head;
	ck_assert_uint_ne(id1, id2);

	/* out of order: the second buffer first */
	pdev_used(&d, id2, 0, 1);
	pdev_used(&d, id1, 300, 3);
	uint32_t tok, len;
	ck_assert_int_eq(get1(vq, &tok, &len), 1);
	ck_assert_uint_eq(tok, 42);
	ck_assert_int_eq(get1(vq, &tok, &len), 1);
	ck_assert_uint_eq(tok, 41);
	ck_assert_uint_eq(len, 300);
	ck_assert_int_eq(get1(vq, &tok, &len), 0);
	ck_assert_uint_eq(vq->num_free, 8);
	vq_del(vq);
}
END_TEST

static void packed_run(uint16_t size, uint32_t flags, uint16_t ind_max,
		       unsigned total)
{
	struct virtio_vq *vq = vq_new(size, VIRTIO_VQ_PACKED | flags, ind_max);
	struct pdev d;
	pdev_init(&d, vq, !!(flags & VIRTIO_VQ_EVENT_IDX));
	struct dbuf b = dbuf_new(4096);
	uint32_t next_tok = 0, done = 0, seed = 777;
	struct chain taken[64];
	unsigned ntaken = 0, wraps = 0;
	int last_wrap = 1;
	static uint8_t seen[1 << 20];
	memset(seen, 0, sizeof(seen));

	while (done < total) {
		for (;;) {
			unsigned n = 1 + (next_tok % 3);
			struct virtio_sg sg[3];
			for (unsigned i = 0; i < n; i++)
				sg[i] = (struct virtio_sg){ b.addr + 64 * i, 64,
							    i == n - 1 };
			sg[n - 1].len = 1 + next_tok % 61;
			int r = virtio_vq_add(vq, sg, n, next_tok);
			if (r == -EAGAIN)
				break;
			ck_assert_int_eq(r, 0);
			next_tok++;
		}
		virtio_vq_publish(vq);
		while (ntaken < 64 && pdev_take(&d, &taken[ntaken]))
			ntaken++;
		ck_assert_uint_gt(ntaken, 0);
		unsigned k = 1 + (seed >> 5) % ntaken;
		for (unsigned j = 0; j < k; j++) {
			seed = seed * 1103515245u + 12345u;
			unsigned pick = (flags & VIRTIO_VQ_IN_ORDER) ? 0
				      : (seed >> 9) % ntaken;
			struct chain *c = &taken[pick];
			pdev_used(&d, c->head, c->seg[c->nseg - 1].len, c->ndesc);
			if (flags & VIRTIO_VQ_IN_ORDER)
				memmove(&taken[0], &taken[1],
					--ntaken * sizeof(taken[0]));
			else
				taken[pick] = taken[--ntaken];
		}
		if (d.used_wrap != last_wrap) {
			wraps++;
			last_wrap = d.used_wrap;
		}
		uint32_t tok, len;
		int r;
		while ((r = virtio_vq_get(vq, &tok, &len)) == 1) {
			ck_assert_uint_lt(tok, next_tok);
			ck_assert_int_eq(seen[tok], 0);
			seen[tok] = 1;
			ck_assert_uint_eq(len, 1 + tok % 61);
			done++;
		}
		ck_assert_int_eq(r, 0);
	}
	ck_assert_int_eq(vq->broken, 0);
	ck_assert_uint_gt(wraps, 100);
	vq_del(vq);
}

START_TEST(packed_wrap_counters)
{
	/* a size that is not a power of two: packed rings allow it */
	packed_run(7, 0, 0, 30000);
}
END_TEST

START_TEST(packed_wrap_indirect_event_idx)
{
	packed_run(8, VIRTIO_VQ_INDIRECT | VIRTIO_VQ_EVENT_IDX, 3, 30000);
}
END_TEST

START_TEST(packed_wrap_in_order)
{
	packed_run(8, VIRTIO_VQ_IN_ORDER, 0, 30000);
}
END_TEST

START_TEST(packed_indirect)
{
	struct virtio_vq *vq = vq_new(4, VIRTIO_VQ_PACKED | VIRTIO_VQ_INDIRECT, 8);
	struct pdev d;
	pdev_init(&d, vq, 0);
	struct dbuf b = dbuf_new(4096);
	struct virtio_sg sg[6];
	for (int i = 0; i < 6; i++)
		sg[i] = (struct virtio_sg){ b.addr + 128 * i, 10 + i, i >= 3 };
	struct chain c;
	ck_assert_int_eq(virtio_vq_add(vq, sg, 6, 5), 0);
	ck_assert_uint_eq(vq->num_free, 3);
	virtio_vq_publish(vq);
	ck_assert_int_eq(pdev_take(&d, &c), 1);
	ck_assert(c.indirect);
	ck_assert_uint_eq(c.nseg, 6);
	for (int i = 0; i < 6; i++) {
		ck_assert_uint_eq(c.seg[i].addr, b.addr + 128 * i);
		ck_assert_uint_eq(c.seg[i].len, 10 + i);
		ck_assert_int_eq(c.seg[i].write, i >= 3);
	}
	pdev_used(&d, c.head, 13 + 14 + 15, 1);
	uint32_t tok, len;
	ck_assert_int_eq(get1(vq, &tok, &len), 1);
	ck_assert_uint_eq(tok, 5);
	ck_assert_uint_eq(len, 42);
	vq_del(vq);
}
END_TEST

START_TEST(packed_event_suppression)
{
	struct virtio_vq *vq = vq_new(8, VIRTIO_VQ_PACKED | VIRTIO_VQ_EVENT_IDX, 0);
	struct pdev d;
	pdev_init(&d, vq, 1);
	struct dbuf b = dbuf_new(64);
	struct virtio_sg sg = { b.addr, 64, 1 };
	struct chain c;

	ck_assert_uint_eq(d.drv->flags, VRING_PACKED_EVENT_FLAG_DISABLE);
	d.dev->flags = VRING_PACKED_EVENT_FLAG_DISABLE;
	ck_assert_int_eq(virtio_vq_add(vq, &sg, 1, 1), 0);
	ck_assert_int_eq(virtio_vq_publish(vq), VIRTIO_KICK_SUPPRESSED);
	/* DESC: kick when slot 3 (current lap) is made available */
	d.dev->off_wrap = 3 | 1u << 15;
	d.dev->flags = VRING_PACKED_EVENT_FLAG_DESC;
	ck_assert_int_eq(virtio_vq_add(vq, &sg, 1, 2), 0); /* slot 1 */
	ck_assert_int_eq(virtio_vq_publish(vq), VIRTIO_KICK_SUPPRESSED);
	ck_assert_int_eq(virtio_vq_add(vq, &sg, 1, 3), 0); /* slot 2 */
	ck_assert_int_eq(virtio_vq_add(vq, &sg, 1, 4), 0); /* slot 3 */
	ck_assert_int_eq(virtio_vq_publish(vq), VIRTIO_KICK_NOTIFY);
	/* drain, then go round the ring so the wrap counter flips */
	uint32_t tok, len;
	while (pdev_take(&d, &c))
		pdev_used(&d, c.head, 0, 1);
	while (get1(vq, &tok, &len) == 1)
		;
	for (int i = 0; i < 4; i++) /* slots 4..7 */
		ck_assert_int_eq(virtio_vq_add(vq, &sg, 1, 5), 0);
	/* event at slot 1 of the next lap (wrap 0) */
	d.dev->off_wrap = 1;
	ck_assert_int_eq(virtio_vq_publish(vq), VIRTIO_KICK_SUPPRESSED);
	while (pdev_take(&d, &c))
		pdev_used(&d, c.head, 0, 1);
	while (get1(vq, &tok, &len) == 1)
		;
	ck_assert_int_eq(virtio_vq_add(vq, &sg, 1, 6), 0); /* slot 0, lap 2 */
	ck_assert_int_eq(virtio_vq_publish(vq), VIRTIO_KICK_SUPPRESSED);
	ck_assert_int_eq(virtio_vq_add(vq, &sg, 1, 7), 0); /* slot 1, lap 2 */
	ck_assert_int_eq(virtio_vq_publish(vq), VIRTIO_KICK_NOTIFY);
	/* ENABLE: always */
	d.dev->flags = VRING_PACKED_EVENT_FLAG_ENABLE;
	ck_assert_int_eq(virtio_vq_add(vq, &sg, 1, 8), 0);
	ck_assert_int_eq(virtio_vq_publish(vq), VIRTIO_KICK_NOTIFY);

	/* used-buffer notifications: off while disarmed, for the next used
	 * descriptor when armed */
	ck_assert_int_eq(pdev_take(&d, &c), 1);
	ck_assert_int_eq(pdev_used(&d, c.head, 0, 1), 0);
	ck_assert_int_eq(virtio_vq_arm(vq), 1);
	while (get1(vq, &tok, &len) == 1)
		;
	ck_assert_int_eq(virtio_vq_arm(vq), 0);
	ck_assert_uint_eq(d.drv->flags, VRING_PACKED_EVENT_FLAG_DESC);
	ck_assert_uint_eq(d.drv->off_wrap, vq->next_used | vq->used_wrap << 15);
	ck_assert_int_eq(pdev_take(&d, &c), 1);
	ck_assert_int_eq(pdev_used(&d, c.head, 0, 1), 1);
	virtio_vq_disarm(vq);
	ck_assert_uint_eq(d.drv->flags, VRING_PACKED_EVENT_FLAG_DISABLE);
	vq_del(vq);
}
END_TEST

START_TEST(packed_in_order_batch)
{
	struct virtio_vq *vq = vq_new(8, VIRTIO_VQ_PACKED | VIRTIO_VQ_IN_ORDER, 0);
	struct pdev d;
	pdev_init(&d, vq, 0);
	struct dbuf b = dbuf_new(256);
	struct virtio_sg sg[2] = { { b.addr, 8, 0 }, { b.addr + 64, 64, 1 } };
	struct chain c[4];
	/* odd: header + buffer; even: a buffer alone */
	for (uint32_t t = 0; t < 4; t++)
		ck_assert_int_eq(virtio_vq_add(vq, (t & 1) ? sg : sg + 1,
					       1 + (t & 1), 100 + t), 0);
	virtio_vq_publish(vq);
	unsigned slots = 0;
	for (int i = 0; i < 4; i++) {
		ck_assert_int_eq(pdev_take(&d, &c[i]), 1);
		slots += c[i].ndesc;
	}
	/* one used descriptor for the first three buffers (DPDK does this
	 * for transmit), carrying the third one's id */
	pdev_used(&d, c[2].head, 9, c[0].ndesc + c[1].ndesc + c[2].ndesc);
	uint32_t tok, len;
	for (uint32_t t = 0; t < 3; t++) {
		ck_assert_int_eq(get1(vq, &tok, &len), 1);
		ck_assert_uint_eq(tok, 100 + t);
		ck_assert_uint_eq(len, t == 2 ? 9 : 0);
	}
	ck_assert_int_eq(get1(vq, &tok, &len), 0);
	pdev_used(&d, c[3].head, 64, c[3].ndesc);
	ck_assert_int_eq(get1(vq, &tok, &len), 1);
	ck_assert_uint_eq(tok, 103);
	ck_assert_uint_eq(len, 64);
	ck_assert_uint_eq(vq->num_free, 8);
	ck_assert_uint_eq(slots, 6);
	vq_del(vq);
}
END_TEST

/* ---- hostile used descriptors (packed) ---- */

struct phf {
	struct virtio_vq *vq;
	struct pdev d;
	struct chain c[2];
	struct dbuf b;
};

static void phf_init(struct phf *f, uint32_t flags)
{
	f->vq = vq_new(8, VIRTIO_VQ_PACKED | flags, 0);
	pdev_init(&f->d, f->vq, 0);
	f->b = dbuf_new(256);
	struct virtio_sg sg[2] = { { f->b.addr, 16, 0 }, { f->b.addr + 16, 100, 1 } };
	ck_assert_int_eq(virtio_vq_add(f->vq, sg, 2, 1), 0);
	ck_assert_int_eq(virtio_vq_add(f->vq, sg, 2, 2), 0);
	virtio_vq_publish(f->vq);
	ck_assert_int_eq(pdev_take(&f->d, &f->c[0]), 1);
	ck_assert_int_eq(pdev_take(&f->d, &f->c[1]), 1);
}

static void phf_expect_broken(struct phf *f, const char *why)
{
	uint32_t tok, len;
	for (int i = 0; i < 4 && get1(f->vq, &tok, &len) == 1; i++)
		;
	ck_assert_int_eq(get1(f->vq, &tok, &len), -EIO);
	ck_assert_msg(strstr(f->vq->why, why) != NULL, "reason '%s' lacks '%s'",
		      f->vq->why, why);
	struct virtio_sg sg = { f->b.addr, 8, 1 };
	ck_assert_int_eq(virtio_vq_add(f->vq, &sg, 1, 9), -EIO);
	vq_del(f->vq);
}

START_TEST(packed_hostile)
{
	struct phf f;
	uint32_t tok, len;

	phf_init(&f, 0);
	pdev_used(&f.d, 8, 1, 2);
	phf_expect_broken(&f, "out of range");

	phf_init(&f, 0);
	pdev_used(&f.d, 0xffff, 1, 2);
	phf_expect_broken(&f, "out of range");

	phf_init(&f, 0);
	pdev_used(&f.d, 5, 1, 2); /* a free id */
	phf_expect_broken(&f, "not an outstanding");

	phf_init(&f, 0);
	pdev_used(&f.d, f.c[0].head, 1, 2);
	pdev_used(&f.d, f.c[0].head, 1, 2); /* twice */
	ck_assert_int_eq(get1(f.vq, &tok, &len), 1);
	phf_expect_broken(&f, "not an outstanding");

	phf_init(&f, VIRTIO_VQ_IN_ORDER);
	pdev_used(&f.d, f.c[0].head, 1, 2);
	pdev_used(&f.d, f.c[0].head, 1, 2); /* again, in-order path */
	phf_expect_broken(&f, "not an outstanding");

	phf_init(&f, 0);
	struct virtio_sg sg = { f.b.addr, 8, 1 };
	ck_assert_int_eq(virtio_vq_add(f.vq, &sg, 1, 3), 0);
	/* the unpublished buffer's id is readable in its descriptor */
	uint16_t guess = ((struct vring_packed_desc *)f.vq->desc)[4].id;
	pdev_used(&f.d, guess, 1, 1);
	phf_expect_broken(&f, "never made available");

	/* too long: clamped, not broken */
	phf_init(&f, 0);
	pdev_used(&f.d, f.c[0].head, 0x7fffffff, 2);
	ck_assert_int_eq(get1(f.vq, &tok, &len), 1);
	ck_assert_uint_eq(len, 100);
	ck_assert_uint_eq(f.vq->len_clamped, 1);
	ck_assert_int_eq(f.vq->broken, 0);
	vq_del(f.vq);

	/* a used mark with the wrong wrap counter (out of sequence) */
	phf_init(&f, 0);
	struct vring_packed_desc *x = &f.d.desc[0];
	x->id = f.c[0].head;
	x->flags = 0; /* AVAIL = USED = 0 while the driver expects 1 */
	phf_expect_broken(&f, "wrap counter 0, expected 1");
	/* after a wrap, the old lap's marks are wrong too */
	phf_init(&f, 0);
	pdev_used(&f.d, f.c[0].head, 1, 2);
	pdev_used(&f.d, f.c[1].head, 1, 2);
	while (get1(f.vq, &tok, &len) == 1)
		;
	for (int i = 0; i < 4; i++) { /* slots 4..7, then 0.. in lap 2 */
		struct virtio_sg one = { f.b.addr, 8, 1 };
		ck_assert_int_eq(virtio_vq_add(f.vq, &one, 1, 10 + i), 0);
	}
	virtio_vq_publish(f.vq);
	struct chain cc;
	while (pdev_take(&f.d, &cc))
		pdev_used(&f.d, cc.head, 1, 1);
	while (get1(f.vq, &tok, &len) == 1)
		;
	struct virtio_sg one = { f.b.addr, 8, 1 };
	ck_assert_int_eq(virtio_vq_add(f.vq, &one, 1, 20), 0); /* slot 0 */
	virtio_vq_publish(f.vq);
	ck_assert_uint_eq(f.vq->used_wrap, 0);
	f.d.desc[0].flags = (1u << 7) | (1u << 15); /* lap 1's used mark */
	phf_expect_broken(&f, "wrap counter 1, expected 0");
}
END_TEST

START_TEST(packed_drained)
{
	struct virtio_vq *vq = vq_new(8, VIRTIO_VQ_PACKED, 0);
	struct pdev d;
	pdev_init(&d, vq, 0);
	struct dbuf b = dbuf_new(64);
	struct virtio_sg sg[2] = { { b.addr, 8, 0 }, { b.addr + 8, 8, 1 } };
	struct chain c[2];
	for (uint32_t t = 0; t < 3; t++)
		ck_assert_int_eq(virtio_vq_add(vq, sg, 2, t), 0);
	virtio_vq_publish(vq);
	ck_assert_int_eq(virtio_vq_add(vq, sg, 2, 7), 0); /* unpublished */
	ck_assert_int_eq(pdev_take(&d, &c[0]), 1);
	ck_assert_int_eq(pdev_take(&d, &c[1]), 1);
	uint32_t base = d.next_avail | (uint32_t)d.avail_wrap << 15;
	ck_assert_uint_eq(base, 4 | 1u << 15);
	ck_assert_int_eq(virtio_vq_drained(vq, base), 0);
	pdev_used(&d, c[1].head, 1, 2);
	ck_assert_int_eq(virtio_vq_drained(vq, base), 0);
	pdev_used(&d, c[0].head, 2, 2);
	ck_assert_int_eq(virtio_vq_drained(vq, base), 1);
	/* the newer form: the device's used position in bits 16-31 */
	uint32_t ubase = d.next_used | (uint32_t)d.used_wrap << 15;
	ck_assert_int_eq(virtio_vq_drained(vq, base | ubase << 16), 1);
	uint32_t tok, len;
	ck_assert_int_eq(get1(vq, &tok, &len), 1);
	ck_assert_uint_eq(tok, 1);
	ck_assert_int_eq(get1(vq, &tok, &len), 1);
	ck_assert_uint_eq(tok, 0);
	/* beyond the published window (slot 6 covers the unpublished one) */
	ck_assert_int_eq(virtio_vq_drained(vq, 8 | 1u << 15), -EIO);
	vq_del(vq);
	vq = vq_new(8, VIRTIO_VQ_PACKED, 0);
	ck_assert_int_eq(virtio_vq_add(vq, sg, 2, 0), 0);
	virtio_vq_publish(vq);
	ck_assert_int_eq(virtio_vq_drained(vq, 6 | 1u << 15), -EIO);
	vq_del(vq);
	/* a used position ahead of the available one, or off the ring */
	vq = vq_new(8, VIRTIO_VQ_PACKED, 0);
	ck_assert_int_eq(virtio_vq_add(vq, sg, 2, 0), 0);
	virtio_vq_publish(vq);
	ck_assert_int_eq(virtio_vq_drained(vq, 0 | 1u << 15 | (2u | 1u << 15) << 16),
			 -EIO);
	vq_del(vq);
	vq = vq_new(8, VIRTIO_VQ_PACKED, 0);
	ck_assert_int_eq(virtio_vq_drained(vq, 0 | 1u << 15 | 9u << 16), -EIO);
	vq_del(vq);
}
END_TEST

START_TEST(bad_sizes)
{
	struct virtio_vq vq;
	ck_assert_int_eq(virtio_vq_init(ctx, &vq, 0, 0, 0, 0), -EINVAL);
	ck_assert_int_eq(virtio_vq_init(ctx, &vq, 0, 6, 0, 0), -EINVAL);
	ck_assert_int_eq(virtio_vq_init(ctx, &vq, 0, 6, VIRTIO_VQ_PACKED, 0), 0);
	virtio_vq_fini(ctx, &vq, false);
	/* the layout is the legacy vring_size() one */
	struct virtio_vq_layout l;
	virtio_vq_layout(128, false, &l);
	ck_assert_uint_eq(l.bytes, vring_size(128, 4096));
	virtio_vq_layout(256, false, &l);
	ck_assert_uint_eq(l.bytes, 10246);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("virtio_ring");
	TCase *t = tcase_create("split");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, need_event_matches_linux);
	tcase_add_test(t, split_basic_chain);
	tcase_add_test(t, split_full_ring_eagain);
	tcase_add_test(t, split_wraparound);
	tcase_add_test(t, split_wraparound_indirect_event_idx);
	tcase_add_test(t, split_indirect);
	tcase_add_test(t, split_notify_no_event_idx);
	tcase_add_test(t, split_event_idx);
	tcase_add_test(t, split_out_of_order);
	tcase_add_test(t, split_hostile_id_out_of_range);
	tcase_add_test(t, split_hostile_not_outstanding);
	tcase_add_test(t, split_hostile_duplicate);
	tcase_add_test(t, split_hostile_len_clamped);
	tcase_add_test(t, split_hostile_idx_jump);
	tcase_add_test(t, split_hostile_unpublished);
	tcase_add_test(t, split_drained);
	tcase_add_test(t, bad_sizes);
	suite_add_tcase(s, t);
	t = tcase_create("packed");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, packed_basic);
	tcase_add_test(t, packed_wrap_counters);
	tcase_add_test(t, packed_wrap_indirect_event_idx);
	tcase_add_test(t, packed_wrap_in_order);
	tcase_add_test(t, packed_indirect);
	tcase_add_test(t, packed_event_suppression);
	tcase_add_test(t, packed_in_order_batch);
	tcase_add_test(t, packed_hostile);
	tcase_add_test(t, packed_drained);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
