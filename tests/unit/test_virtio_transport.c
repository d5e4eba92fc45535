/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the generic virtio device and the blk/net adapters
 * (transport.c, blk.c, net.c) over an in-process host interface.
 *
 * The fake host interface plays a virtio device: it records status and
 * feature writes, serves a config space, and on every notification
 * processes the split rings with a device model written here against the
 * Linux ring and virtio-blk/-net definitions.  Knobs make it misbehave.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_blk.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include "backends/virtio/virtio.h"

/* ------------------------------------------------------------------ */
/* The fake device                                                     */
/* ------------------------------------------------------------------ */

#define NQ 12

static pvio_ctx *g_ctx;
static int g_event_idx; /* EVENT_IDX acked by the driver under test */

struct fq {
	int set, enabled;
	struct virtio_queue_cfg c;
	uint16_t last_avail, used_idx;
	unsigned kicks;
};

struct fdev {
	struct virtio_hostif h;
	uint64_t features, acked;
	uint8_t status, status_log[16];
	unsigned nstatus;
	int reject_features, needs_reset_after_ok;
	uint8_t cfg[64];
	int has_cfg;
	unsigned nvq;
	struct fq q[NQ];
	unsigned service_what;
	/* device behaviour */
	int hold;            /* do not process notifications */
	int blk_status;      /* status byte to write (-1: leave it) */
	uint32_t used_id_override; /* hostile: used id to write (0: none) */
	int no_notify;       /* set used->flags NO_NOTIFY */
	/* blk storage */
	uint8_t disk[64 * 1024];
	/* net */
	uint8_t frame[2048];
	uint32_t frame_len;
	int have_frame;
	struct virtio_net_hdr_v1 rxhdr; /* header to deliver */
	int32_t rx_len_adjust;          /* hostile used len tweak */
	uint8_t last_txhdr[12];
	uint8_t ctrl_ack;
	uint8_t ctrl_log[8][16];
	unsigned nctrl;
	int closed;
};

static struct fdev *F(struct virtio_hostif *h)
{
	return (struct fdev *)(void *)h;
}

static int f_get_features(struct virtio_hostif *h, uint64_t *f)
{
	*f = F(h)->features;
	return 0;
}
static int f_set_features(struct virtio_hostif *h, uint64_t f)
{
	ck_assert_msg(!(f & ~F(h)->features), "accepted unoffered bits 0x%llx",
		      (unsigned long long)(f & ~F(h)->features));
	F(h)->acked = f;
	g_event_idx = !!(f & VW_BIT(VW_F_EVENT_IDX));
	return 0;
}
static int f_get_status(struct virtio_hostif *h, uint8_t *st)
{
	*st = F(h)->status;
	return 0;
}
static int f_set_status(struct virtio_hostif *h, uint8_t st)
{
	struct fdev *d = F(h);
	if (d->nstatus < 16)
		d->status_log[d->nstatus++] = st;
	if (st && (st & VIRTIO_CONFIG_S_FAILED) == 0 && d->status > st)
		ck_abort_msg("driver cleared status bits: 0x%x -> 0x%x",
			     d->status, st);
	d->status = st;
	if (d->reject_features)
		d->status &= (uint8_t)~VIRTIO_CONFIG_S_FEATURES_OK;
	if (d->needs_reset_after_ok && (st & VIRTIO_CONFIG_S_DRIVER_OK))
		d->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	return 0;
}
static int f_config_read(struct virtio_hostif *h, uint32_t off, void *b,
			 uint32_t len)
{
	struct fdev *d = F(h);
	if (!d->has_cfg)
		return -EOPNOTSUPP;
	ck_assert_uint_le(off + len, sizeof(d->cfg));
	memcpy(b, d->cfg + off, len);
	return 0;
}
static uint16_t f_queue_max(struct virtio_hostif *h, unsigned vq)
{
	return vq < F(h)->nvq ? 256 : 0;
}
static int f_queue_setup(struct virtio_hostif *h, unsigned vq,
			 const struct virtio_queue_cfg *c)
{
	struct fdev *d = F(h);
	ck_assert_uint_lt(vq, NQ);
	ck_assert(!c->packed);
	memset(&d->q[vq], 0, sizeof(d->q[vq]));
	d->q[vq].set = 1;
	d->q[vq].c = *c;
	return 0;
}
static int f_queue_enable(struct virtio_hostif *h, unsigned vq, bool on)
{
	ck_assert(F(h)->q[vq].set);
	F(h)->q[vq].enabled = on;
	return 0;
}

static struct vring ring_of(struct fq *q)
{
	struct vring vr = { q->c.size, q->c.desc, q->c.driver, q->c.device };
	return vr;
}

/* A taken chain, flattened. */
struct piece {
	uint8_t *p;
	uint32_t len;
	int write;
};


static unsigned take(struct fq *q, uint16_t *head, struct piece *pc)
{
	struct vring vr = ring_of(q);
	__sync_synchronize();
	if (vr.avail->idx == q->last_avail)
		return 0;
	*head = vr.avail->ring[q->last_avail++ % vr.num];
	/* with EVENT_IDX: kick me for anything after what I took */
	if (g_event_idx)
		vring_avail_event(&vr) = q->last_avail;
	struct vring_desc *t = vr.desc;
	unsigned n = 0, tn = vr.num;
	uint16_t i = *head;
	if (t[i].flags & VRING_DESC_F_INDIRECT) {
		tn = t[i].len / 16;
		t = pvio_dma_to_va(g_ctx, t[i].addr, t[i].len);
		ck_assert_ptr_nonnull(t);
		i = 0;
	}
	for (;;) {
		ck_assert_uint_lt(n, 300);
		ck_assert_uint_lt(i, tn);
		pc[n].p = pvio_dma_to_va(g_ctx, t[i].addr, t[i].len);
		ck_assert_ptr_nonnull(pc[n].p);
		pc[n].len = t[i].len;
		pc[n].write = !!(t[i].flags & VRING_DESC_F_WRITE);
		n++;
		if (!(t[i].flags & VRING_DESC_F_NEXT))
			break;
		i = t[i].next;
	}
	return n;
}

static void put_used(struct fdev *d, struct fq *q, uint32_t id, uint32_t len)
{
	struct vring vr = ring_of(q);
	if (d->used_id_override)
		id = d->used_id_override;
	vr.used->ring[q->used_idx % vr.num].id = id;
	vr.used->ring[q->used_idx % vr.num].len = len;
	__sync_synchronize();
	vr.used->idx = ++q->used_idx;
	vr.used->flags = d->no_notify ? VRING_USED_F_NO_NOTIFY : 0;
}

static void blk_process(struct fdev *d, struct fq *q)
{
	struct piece pc[300];
	uint16_t head;
	unsigned n;
	while ((n = take(q, &head, pc))) {
		struct virtio_blk_outhdr h;
		ck_assert_uint_eq(pc[0].len, sizeof(h));
		ck_assert(!pc[0].write);
		memcpy(&h, pc[0].p, sizeof(h));
		ck_assert(pc[n - 1].write && pc[n - 1].len == 1);
		uint64_t off = h.sector * 512;
		uint32_t written = 1;
		for (unsigned i = 1; i + 1 < n; i++) {
			if (h.type == VIRTIO_BLK_T_IN) {
				ck_assert(pc[i].write);
				if (off + pc[i].len <= sizeof(d->disk))
					memcpy(pc[i].p, d->disk + off, pc[i].len);
				written += pc[i].len;
			} else if (h.type == VIRTIO_BLK_T_OUT) {
				ck_assert(!pc[i].write);
				if (off + pc[i].len <= sizeof(d->disk))
					memcpy(d->disk + off, pc[i].p, pc[i].len);
			} else if (h.type == VIRTIO_BLK_T_GET_ID) {
				memcpy(pc[i].p, "fake\x01serial", 11);
				written += 20;
			}
			off += pc[i].len;
		}
		if (d->blk_status >= 0)
			*pc[n - 1].p = (uint8_t)d->blk_status;
		put_used(d, q, head, written);
	}
}

static void net_process(struct fdev *d, unsigned vqn, struct fq *q)
{
	struct piece pc[300];
	uint16_t head;
	unsigned n;
	if (vqn % 2 == 1 && vqn < 8) { /* transmit */
		while ((n = take(q, &head, pc))) {
			ck_assert_uint_eq(pc[0].len, 12);
			memcpy(d->last_txhdr, pc[0].p, 12);
			d->frame_len = 0;
			for (unsigned i = 1; i < n; i++) {
				memcpy(d->frame + d->frame_len, pc[i].p, pc[i].len);
				d->frame_len += pc[i].len;
			}
			d->have_frame = 1;
			put_used(d, q, head, 0);
			/* loop it back into receive queue vqn - 1 */
			struct fq *rq = &d->q[vqn - 1];
			uint16_t rh;
			struct piece rp[4];
			if (take(rq, &rh, rp)) {
				ck_assert(rp[0].write);
				memcpy(rp[0].p, &d->rxhdr, 12);
				memcpy(rp[0].p + 12, d->frame, d->frame_len);
				put_used(d, rq, rh,
					 (uint32_t)((int32_t)(12 + d->frame_len) +
						    d->rx_len_adjust));
			}
		}
	} else if (vqn >= 8) { /* control */
		while ((n = take(q, &head, pc))) {
			ck_assert_uint_lt(d->nctrl, 8);
			uint8_t *log = d->ctrl_log[d->nctrl++];
			unsigned k = 0;
			for (unsigned i = 0; i + 1 < n; i++)
				for (unsigned j = 0; j < pc[i].len && k < 16; j++)
					log[k++] = pc[i].p[j];
			*pc[n - 1].p = d->ctrl_ack;
			put_used(d, q, head, 1);
		}
	}
}

static void f_notify(struct virtio_hostif *h, unsigned vq, uint32_t data)
{
	struct fdev *d = F(h);
	ck_assert_uint_eq(data, vq);
	ck_assert(d->q[vq].set && d->q[vq].enabled);
	ck_assert(d->status & VIRTIO_CONFIG_S_DRIVER_OK);
	d->q[vq].kicks++;
	if (d->hold)
		return;
	if (d->h.device_id == VW_ID_BLK)
		blk_process(d, &d->q[vq]);
	else
		net_process(d, vq, &d->q[vq]);
}

static int f_stop(struct virtio_hostif *h, unsigned n, const uint16_t *nums,
		  uint32_t *bases)
{
	for (unsigned i = 0; i < n; i++)
		bases[i] = F(h)->q[nums[i]].last_avail;
	return 0;
}
static int f_irq_fd(struct virtio_hostif *h, unsigned irq)
{
	(void)h, (void)irq;
	return -EOPNOTSUPP;
}
static void f_irq_ack(struct virtio_hostif *h, unsigned irq)
{
	(void)h, (void)irq;
}
static int f_event_fd(struct virtio_hostif *h)
{
	(void)h;
	return -EOPNOTSUPP;
}
static int f_service(struct virtio_hostif *h, unsigned *what)
{
	*what = F(h)->service_what;
	F(h)->service_what = 0;
	return 0;
}
static void f_wait(struct virtio_hostif *h, int irq, uint64_t deadline)
{
	(void)h, (void)irq, (void)deadline;
}
static void f_close(struct virtio_hostif *h)
{
	F(h)->closed++;
}

static const struct virtio_hostif_ops fops = {
	f_get_features, f_set_features, f_get_status, f_set_status,
	f_config_read, f_queue_max, f_queue_setup, f_queue_enable, f_stop,
	f_notify, f_irq_fd, f_irq_ack, f_event_fd, f_service, f_wait, f_close,
};

static struct fdev *fdev_new(unsigned id)
{
	struct fdev *d = calloc(1, sizeof(*d));
	ck_assert_ptr_nonnull(d);
	d->h.ops = &fops;
	d->h.ctx = g_ctx;
	d->h.name = "fake";
	d->h.device_id = id;
	d->h.transport_features = VW_BIT(VW_F_INDIRECT_DESC) |
				  VW_BIT(VW_F_EVENT_IDX) | VW_BIT(VW_F_VERSION_1);
	d->features = VW_BIT(VW_F_VERSION_1) | VW_BIT(VW_F_INDIRECT_DESC) |
		      VW_BIT(VW_F_EVENT_IDX) | VW_BIT(VW_F_RING_PACKED);
	d->has_cfg = 1;
	d->nvq = NQ;
	d->blk_status = VIRTIO_BLK_S_OK;
	return d;
}

static void setup(void)
{
	struct pvio_ctx_opts o = { .struct_size = sizeof(o),
				   .dma_pool_size = 32u << 20,
				   .log_level = PVIO_LOG_ERROR,
				   .timeout_ms = 100 };
	ck_assert_int_eq(pvio_ctx_new(&o, &g_ctx), 0);
}

static void teardown(void)
{
	pvio_ctx_free(g_ctx);
}

static int open_dev(struct fdev *d, enum pvio_class cls, pvio_dev **dev)
{
	struct virtio_open_args a = { .cls = cls, .address = "fake:0" };
	return virtio_dev_open(g_ctx, &d->h, &a, dev);
}

static void blk_cfg(struct fdev *d, uint64_t cap, uint32_t segmax, uint32_t bs)
{
	struct virtio_blk_config c;
	memset(&c, 0, sizeof(c));
	c.capacity = cap;
	c.seg_max = segmax;
	c.blk_size = bs;
	memcpy(d->cfg, &c, sizeof(d->cfg));
	d->features |= 1ull << VIRTIO_BLK_F_SEG_MAX | 1ull << VIRTIO_BLK_F_BLK_SIZE |
		       1ull << VIRTIO_BLK_F_FLUSH;
}

/* ------------------------------------------------------------------ */
/* Tests                                                               */
/* ------------------------------------------------------------------ */

START_TEST(bringup_sequence)
{
	struct fdev *d = fdev_new(VW_ID_BLK);
	blk_cfg(d, 128, 8, 512);
	d->features |= 1ull << 24 | 1ull << 27 | 1ull << 33; /* not for us */
	pvio_dev *dev;
	ck_assert_int_eq(open_dev(d, PVIO_CLASS_BLK, &dev), 0);
	/* reset, ACKNOWLEDGE, DRIVER */
	ck_assert_uint_eq(d->nstatus, 3);
	ck_assert_uint_eq(d->status_log[0], 0);
	ck_assert_uint_eq(d->status_log[1], 1);
	ck_assert_uint_eq(d->status_log[2], 3);
	struct pvio_dev_config cfg = { .num_queues = 1, .max_tags = 4 };
	ck_assert_int_eq(pvio_dev_configure(dev, &cfg), 0);
	ck_assert_uint_eq(d->status_log[3], 0xb);
	ck_assert_uint_eq(d->status_log[4], 0xf);
	/* only what pvio uses; packed is offered but the host interface
	 * cannot carry it, the legacy and platform bits are left alone */
	ck_assert_uint_eq(d->acked, VW_BIT(VW_F_VERSION_1) |
					    VW_BIT(VW_F_INDIRECT_DESC) |
					    VW_BIT(VW_F_EVENT_IDX) |
					    1ull << VIRTIO_BLK_F_SEG_MAX |
					    1ull << VIRTIO_BLK_F_BLK_SIZE |
					    1ull << VIRTIO_BLK_F_FLUSH);
	ck_assert(d->q[0].set && d->q[0].enabled);
	ck_assert(strstr(dev->info.native, "id=fake?serial") != NULL);
	ck_assert_str_eq(dev->info.protocol, "virtio-blk 1.x split ring");
	pvio_dev_close(dev);
	ck_assert_int_eq(d->closed, 1);
	/* close resets the quiesced device */
	ck_assert_uint_eq(d->status, 0);
	free(d);
}
END_TEST

START_TEST(features_rejected)
{
	struct fdev *d = fdev_new(VW_ID_BLK);
	blk_cfg(d, 128, 8, 512);
	d->reject_features = 1;
	pvio_dev *dev;
	ck_assert_int_eq(open_dev(d, PVIO_CLASS_BLK, &dev), 0);
	struct pvio_dev_config cfg = { .num_queues = 1, .max_tags = 4 };
	ck_assert_int_eq(pvio_dev_configure(dev, &cfg), -EPROTO);
	ck_assert(strstr(pvio_errmsg(g_ctx), "rejected features"));
	ck_assert(d->status & VIRTIO_CONFIG_S_FAILED);
	ck_assert_int_eq(pvio_dev_state(dev, NULL), PVIO_DEV_BROKEN);
	pvio_dev_close(dev);
	free(d);
}
END_TEST

START_TEST(blk_limits)
{
	struct fdev *d = fdev_new(VW_ID_BLK);
	struct virtio_blk_config c;
	memset(&c, 0, sizeof(c));
	c.capacity = 1u << 20;
	c.seg_max = 300;
	c.size_max = 65536;
	c.blk_size = 4096;
	c.physical_block_exp = 3;
	c.num_queues = 4;
	c.max_discard_sectors = 0;
	c.discard_sector_alignment = 3; /* not a power of two: ignored */
	c.max_write_zeroes_sectors = 1000;
	memcpy(d->cfg, &c, sizeof(d->cfg));
	d->features |= 1ull << VIRTIO_BLK_F_SEG_MAX | 1ull << VIRTIO_BLK_F_SIZE_MAX |
		       1ull << VIRTIO_BLK_F_BLK_SIZE | 1ull << VIRTIO_BLK_F_TOPOLOGY |
		       1ull << VIRTIO_BLK_F_MQ | 1ull << VIRTIO_BLK_F_DISCARD |
		       1ull << VIRTIO_BLK_F_WRITE_ZEROES | 1ull << VIRTIO_BLK_F_RO;
	d->h.max_vqs = 2;
	pvio_dev *dev;
	ck_assert_int_eq(open_dev(d, PVIO_CLASS_BLK, &dev), 0);
	const struct pvio_blk_limits *L = &dev->limits.blk;
	ck_assert_uint_eq(L->capacity, (1ull << 20) * 512);
	ck_assert_uint_eq(L->block_size, 4096);
	ck_assert_uint_eq(L->physical_block_size, 32768);
	ck_assert_uint_eq(L->max_segments, 128);
	ck_assert_uint_eq(L->max_segment_size, 65536);
	ck_assert_uint_eq(L->max_transfer, 1u << 20);
	ck_assert_uint_eq(L->max_queues, 2); /* the transport has 2 */
	ck_assert(L->read_only && L->discard && L->write_zeroes && !L->flush);
	ck_assert_uint_eq(L->max_discard, (uint64_t)UINT32_MAX * 512 & ~4095ull);
	ck_assert_uint_eq(L->discard_granularity, 4096);
	ck_assert_uint_eq(L->max_write_zeroes, 1000 * 512 & ~4095u);
	ck_assert(dev->info.offered & PVIO_F_BLK_TOPOLOGY);
	ck_assert(dev->info.offered & PVIO_F_MULTIQUEUE);
	/* three queues are more than there are */
	struct pvio_dev_config cfg = { .num_queues = 3, .max_tags = 4 };
	ck_assert_int_eq(pvio_dev_configure(dev, &cfg), -EINVAL);
	pvio_dev_close(dev);
	free(d);

	/* no SEG_MAX: one segment; no INDIRECT: bounded by the ring */
	d = fdev_new(VW_ID_BLK);
	memset(&c, 0, sizeof(c));
	c.capacity = 8;
	memcpy(d->cfg, &c, sizeof(d->cfg));
	ck_assert_int_eq(open_dev(d, PVIO_CLASS_BLK, &dev), 0);
	ck_assert_uint_eq(dev->limits.blk.max_segments, 1);
	ck_assert_uint_eq(dev->limits.blk.block_size, 512);
	pvio_dev_close(dev);
	free(d);
	d = fdev_new(VW_ID_BLK);
	d->features &= ~VW_BIT(VW_F_INDIRECT_DESC);
	c.seg_max = 1000;
	memcpy(d->cfg, &c, sizeof(d->cfg));
	d->features |= 1ull << VIRTIO_BLK_F_SEG_MAX;
	struct virtio_open_args a = { .cls = PVIO_CLASS_BLK, .address = "fake:0",
				      .queue_size = 64 };
	ck_assert_int_eq(virtio_dev_open(g_ctx, &d->h, &a, &dev), 0);
	ck_assert_uint_eq(dev->limits.blk.max_segments, 62);
	pvio_dev_close(dev);
	free(d);
}
END_TEST

static void blk_once(pvio_dev *dev, struct pvio_blk_dreq *r, int32_t want)
{
	const struct pvio_blk_ops *o = dev->ops->blk;
	ck_assert_int_eq(o->enqueue(dev, 0, r), 0);
	ck_assert_int_eq(o->kick(dev, 0), 0);
	struct pvio_blk_dcomp c[2];
	ck_assert_int_eq(o->reap(dev, 0, c, 2), 1);
	ck_assert_uint_eq(c[0].tag, r->tag);
	ck_assert_int_eq(c[0].status, want);
}

START_TEST(blk_io_and_status)
{
	struct fdev *d = fdev_new(VW_ID_BLK);
	blk_cfg(d, 128, 8, 512);
	pvio_dev *dev;
	ck_assert_int_eq(open_dev(d, PVIO_CLASS_BLK, &dev), 0);
	struct pvio_dev_config cfg = { .num_queues = 1, .max_tags = 4 };
	ck_assert_int_eq(pvio_dev_configure(dev, &cfg), 0);
	uint8_t *buf = pvio_dma_alloc(g_ctx, 4096, 4096);
	struct pvio_dseg s = { buf, 0, 4096 };
	ck_assert_int_eq(pvio_dma_translate(g_ctx, buf, 4096, &s.dev_addr), 0);
	memset(buf, 0x5a, 4096);
	struct pvio_blk_dreq w = { .tag = 1, .op = PVIO_BLK_OP_WRITE, .nseg = 1,
				   .offset = 8192, .len = 4096, .seg = &s };
	blk_once(dev, &w, 0);
	ck_assert_uint_eq(d->disk[8192], 0x5a);
	ck_assert_uint_eq(d->disk[8192 + 4095], 0x5a);
	struct pvio_blk_dreq r = w;
	r.op = PVIO_BLK_OP_READ;
	d->disk[8192] = 7;
	blk_once(dev, &r, 0);
	ck_assert_uint_eq(buf[0], 7);
	/* statuses: unsupported, I/O error, nonsense, never written */
	d->blk_status = VIRTIO_BLK_S_UNSUPP;
	blk_once(dev, &r, -EOPNOTSUPP);
	d->blk_status = VIRTIO_BLK_S_IOERR;
	blk_once(dev, &r, -EIO);
	d->blk_status = 77;
	blk_once(dev, &r, -EIO);
	d->blk_status = -1;
	blk_once(dev, &r, -EIO);
	d->blk_status = 0;
	/* not offered: refused before the device sees it */
	struct pvio_blk_dreq dis = { .tag = 2, .op = PVIO_BLK_OP_DISCARD,
				     .offset = 0, .len = 512 };
	ck_assert_int_eq(dev->ops->blk->enqueue(dev, 0, &dis), -EOPNOTSUPP);
	/* a tag in flight cannot be reused */
	ck_assert_int_eq(dev->ops->blk->enqueue(dev, 0, &r), 0);
	ck_assert_int_eq(dev->ops->blk->enqueue(dev, 0, &r), -EINVAL);
	pvio_dev_close(dev);
	free(d);
}
END_TEST

START_TEST(blk_hostile_completion)
{
	struct fdev *d = fdev_new(VW_ID_BLK);
	blk_cfg(d, 128, 8, 512);
	pvio_dev *dev;
	ck_assert_int_eq(open_dev(d, PVIO_CLASS_BLK, &dev), 0);
	struct pvio_dev_config cfg = { .num_queues = 1, .max_tags = 4 };
	ck_assert_int_eq(pvio_dev_configure(dev, &cfg), 0);
	uint8_t *buf = pvio_dma_alloc(g_ctx, 512, 512);
	struct pvio_dseg s = { buf, 0, 512 };
	ck_assert_int_eq(pvio_dma_translate(g_ctx, buf, 512, &s.dev_addr), 0);
	struct pvio_blk_dreq r = { .tag = 0, .op = PVIO_BLK_OP_READ, .nseg = 1,
				   .offset = 0, .len = 512, .seg = &s };
	d->used_id_override = 9999;
	ck_assert_int_eq(dev->ops->blk->enqueue(dev, 0, &r), 0);
	ck_assert_int_eq(dev->ops->blk->kick(dev, 0), 0);
	struct pvio_blk_dcomp c[2];
	ck_assert_int_eq(dev->ops->blk->reap(dev, 0, c, 2), -EIO);
	const char *why;
	ck_assert_int_eq(pvio_dev_state(dev, &why), PVIO_DEV_BROKEN);
	ck_assert_msg(strstr(why, "virtqueue 0: used id 9999 out of range"),
		      "%s", why);
	struct pvio_event ev;
	ck_assert_int_eq(pvio_dev_next_event(dev, &ev), 1);
	ck_assert_int_eq(ev.type, PVIO_EVENT_NEEDS_RESET);
	ck_assert_int_eq(dev->ops->blk->enqueue(dev, 0, &r), -EIO);
	ck_assert_int_eq(dev->ops->blk->reap(dev, 0, c, 2), -EIO);
	/* a broken device is not asked to stop: its memory is not reused */
	ck_assert_int_eq(dev->ops->quiesce(dev), -EIO);
	ck_assert(virtio_of(dev)->leak);
	pvio_dev_close(dev);
	free(d);
}
END_TEST

START_TEST(blk_needs_reset)
{
	struct fdev *d = fdev_new(VW_ID_BLK);
	blk_cfg(d, 128, 8, 512);
	pvio_dev *dev;
	ck_assert_int_eq(open_dev(d, PVIO_CLASS_BLK, &dev), 0);
	struct pvio_dev_config cfg = { .num_queues = 1, .max_tags = 4 };
	ck_assert_int_eq(pvio_dev_configure(dev, &cfg), 0);
	/* capacity grows: an event */
	uint64_t cap = 256;
	memcpy(d->cfg, &cap, 8);
	d->service_what = VIRTIO_HEV_CONFIG;
	struct pvio_event ev;
	ck_assert_int_eq(pvio_dev_next_event(dev, &ev), 1);
	ck_assert_int_eq(ev.type, PVIO_EVENT_CONFIG_CHANGE);
	ck_assert_uint_eq(dev->limits.blk.capacity, 256 * 512);
	/* then the device needs a reset */
	d->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	d->service_what = VIRTIO_HEV_CONFIG;
	ck_assert_int_eq(pvio_dev_next_event(dev, &ev), 1);
	ck_assert_int_eq(ev.type, PVIO_EVENT_NEEDS_RESET);
	ck_assert_int_eq(pvio_dev_state(dev, NULL), PVIO_DEV_BROKEN);
	pvio_dev_close(dev);
	free(d);

	d = fdev_new(VW_ID_BLK);
	blk_cfg(d, 128, 8, 512);
	d->needs_reset_after_ok = 1;
	ck_assert_int_eq(open_dev(d, PVIO_CLASS_BLK, &dev), 0);
	ck_assert_int_eq(pvio_dev_configure(dev, &cfg), -EIO);
	ck_assert(strstr(pvio_errmsg(g_ctx), "needs a reset"));
	pvio_dev_close(dev);
	free(d);
}
END_TEST

START_TEST(quiesce_waits_then_gives_up)
{
	struct fdev *d = fdev_new(VW_ID_BLK);
	blk_cfg(d, 128, 8, 512);
	pvio_dev *dev;
	ck_assert_int_eq(open_dev(d, PVIO_CLASS_BLK, &dev), 0);
	struct pvio_dev_config cfg = { .num_queues = 1, .max_tags = 4 };
	ck_assert_int_eq(pvio_dev_configure(dev, &cfg), 0);
	uint8_t *buf = pvio_dma_alloc(g_ctx, 512, 512);
	struct pvio_dseg s = { buf, 0, 512 };
	ck_assert_int_eq(pvio_dma_translate(g_ctx, buf, 512, &s.dev_addr), 0);
	struct pvio_blk_dreq r = { .tag = 0, .op = PVIO_BLK_OP_READ, .nseg = 1,
				   .offset = 0, .len = 512, .seg = &s };
	/* the device takes the request and sits on it */
	d->hold = 1;
	ck_assert_int_eq(dev->ops->blk->enqueue(dev, 0, &r), 0);
	ck_assert_int_eq(dev->ops->blk->kick(dev, 0), 0);
	uint16_t head;
	struct piece pc[4];
	ck_assert_uint_eq(take(&d->q[0], &head, pc), 3);
	ck_assert_int_eq(dev->ops->quiesce(dev), -ETIMEDOUT);
	ck_assert_int_eq(pvio_dev_state(dev, NULL), PVIO_DEV_BROKEN);
	ck_assert(virtio_of(dev)->leak);
	pvio_dev_close(dev);
	free(d);

	/* the same, but the device finishes while pvio waits */
	d = fdev_new(VW_ID_BLK);
	blk_cfg(d, 128, 8, 512);
	ck_assert_int_eq(open_dev(d, PVIO_CLASS_BLK, &dev), 0);
	ck_assert_int_eq(pvio_dev_configure(dev, &cfg), 0);
	d->hold = 1;
	r.tag = 1;
	ck_assert_int_eq(dev->ops->blk->enqueue(dev, 0, &r), 0);
	ck_assert_int_eq(dev->ops->blk->kick(dev, 0), 0);
	r.tag = 2; /* enqueued, never published */
	ck_assert_int_eq(dev->ops->blk->enqueue(dev, 0, &r), 0);
	blk_process(d, &d->q[0]);
	ck_assert_int_eq(dev->ops->quiesce(dev), 0);
	ck_assert_int_eq(pvio_dev_state(dev, NULL), PVIO_DEV_STOPPED);
	struct pvio_blk_dcomp c[4];
	ck_assert_int_eq(dev->ops->blk->reap(dev, 0, c, 4), 1);
	ck_assert_uint_eq(c[0].tag, 1);
	ck_assert(!virtio_of(dev)->leak);
	pvio_dev_close(dev);
	free(d);
}
END_TEST

/* ---- net ---- */

struct netx {
	struct fdev *d;
	pvio_dev *dev;
	uint8_t *rx, *tx;
	uint64_t rxa, txa;
};

static void net_up(struct netx *x, struct fdev *d, uint32_t pairs,
		   uint64_t want, const uint8_t *mac)
{
	x->d = d;
	ck_assert_int_eq(open_dev(d, PVIO_CLASS_NET, &x->dev), 0);
	struct pvio_dev_config cfg = { .num_queues = pairs, .max_tags = 8,
				       .want = want, .mac = mac };
	int r = pvio_dev_configure(x->dev, &cfg);
	ck_assert_msg(r == 0, "configure: %s", pvio_errmsg(g_ctx));
	x->rx = pvio_dma_alloc(g_ctx, 8 * 2048, 4096);
	x->tx = pvio_dma_alloc(g_ctx, 2048, 4096);
	pvio_dma_translate(g_ctx, x->rx, 8 * 2048, &x->rxa);
	pvio_dma_translate(g_ctx, x->tx, 2048, &x->txa);
	for (uint32_t t = 0; t < 8; t++) {
		struct pvio_net_rxb b = { t, { x->rx + t * 2048, x->rxa + t * 2048, 2048 } };
		ck_assert_int_eq(x->dev->ops->net->rx_post(x->dev, 0, &b), 0);
	}
	x->dev->ops->net->kick(x->dev, 0, PVIO_NET_KICK_RX);
}

/* send a 100-byte frame and return what came back */
static struct pvio_net_rxc net_echo(struct netx *x, const struct pvio_net_txd *tpl)
{
	for (int i = 0; i < 100; i++)
		x->tx[i] = (uint8_t)i;
	struct pvio_dseg s = { x->tx, x->txa, 100 };
	struct pvio_net_txd t = { .tag = 0, .nseg = 1, .len = 100, .seg = &s };
	if (tpl) {
		t.flags = tpl->flags;
		t.csum_start = tpl->csum_start;
		t.csum_offset = tpl->csum_offset;
		t.gso_size = tpl->gso_size;
		t.hdr_len = tpl->hdr_len;
	}
	const struct pvio_net_ops *o = x->dev->ops->net;
	ck_assert_int_eq(o->tx_enqueue(x->dev, 0, &t), 0);
	ck_assert_int_eq(o->kick(x->dev, 0, PVIO_NET_KICK_TX), 0);
	/* the device also polls, as DPDK does, so a suppressed kick is fine */
	net_process(x->d, 1, &x->d->q[1]);
	uint32_t tags[2];
	ck_assert_int_eq(o->tx_reap(x->dev, 0, tags, 2), 1);
	struct pvio_net_rxc c[2];
	ck_assert_int_eq(o->rx_reap(x->dev, 0, c, 2), 1);
	/* post it again */
	struct pvio_net_rxb b = { c[0].tag, { x->rx + c[0].tag * 2048,
					      x->rxa + c[0].tag * 2048, 2048 } };
	ck_assert_int_eq(o->rx_post(x->dev, 0, &b), 0);
	o->kick(x->dev, 0, PVIO_NET_KICK_RX);
	return c[0];
}

START_TEST(net_rx_validation)
{
	struct netx x;
	struct fdev *d = fdev_new(VW_ID_NET);
	d->h.flags = VIRTIO_HF_VMM_NET;
	d->has_cfg = 0;
	d->features |= 1ull << VIRTIO_NET_F_GUEST_CSUM | 1ull << VIRTIO_NET_F_CSUM |
		       1ull << VIRTIO_NET_F_HOST_TSO4;
	net_up(&x, d, 1, PVIO_F_NET_CSUM_RX, NULL);
	ck_assert(x.dev->info.features & PVIO_F_NET_CSUM_RX);
	ck_assert(!(x.dev->info.features & PVIO_F_NET_CSUM_TX));

	struct pvio_net_rxc c = net_echo(&x, NULL);
	ck_assert_int_eq(c.status, 0);
	ck_assert_uint_eq(c.len, 100);
	ck_assert_uint_eq(c.offset, 12);
	ck_assert_uint_eq(x.rx[c.tag * 2048 + 12 + 99], 99);
	/* checksum states from the host */
	d->rxhdr.flags = VIRTIO_NET_HDR_F_DATA_VALID;
	c = net_echo(&x, NULL);
	ck_assert_int_eq(c.status, 0);
	ck_assert_uint_eq(c.flags, PVIO_PKT_CSUM_VALID);
	d->rxhdr.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	d->rxhdr.csum_start = 34;
	d->rxhdr.csum_offset = 16;
	c = net_echo(&x, NULL);
	ck_assert_int_eq(c.status, 0);
	ck_assert_uint_eq(c.flags, PVIO_PKT_CSUM_PARTIAL);
	ck_assert_uint_eq(c.csum_start, 34);
	ck_assert_uint_eq(c.csum_offset, 16);
	/* hostile headers: bad frames, counted, device stays up */
	d->rxhdr.csum_start = 99; /* checksum field beyond the frame */
	c = net_echo(&x, NULL);
	ck_assert_int_eq(c.status, -EIO);
	ck_assert_uint_eq(c.len, 0);
	d->rxhdr.flags = 0;
	d->rxhdr.gso_type = VIRTIO_NET_HDR_GSO_TCPV4; /* not negotiated */
	c = net_echo(&x, NULL);
	ck_assert_int_eq(c.status, -EIO);
	d->rxhdr.gso_type = 0;
	d->rx_len_adjust = -100; /* 12 bytes: a header, no frame */
	c = net_echo(&x, NULL);
	ck_assert_int_eq(c.status, -EIO);
	d->rx_len_adjust = 100000; /* more than the buffer: clamped */
	c = net_echo(&x, NULL);
	ck_assert_int_eq(c.status, 0);
	ck_assert_uint_eq(c.len, 2048 - 12);
	d->rx_len_adjust = 0;
	ck_assert_uint_eq(x.dev->stats[0].rx_errors, 3);
	ck_assert_int_eq(pvio_dev_state(x.dev, NULL), PVIO_DEV_READY);
	/* the front end owns the MAC: set_mac just takes it */
	uint8_t mac[6] = { 2, 0, 0, 0, 0, 9 };
	ck_assert_int_eq(x.dev->ops->net->set_mac(x.dev, mac), 0);
	ck_assert_mem_eq(x.dev->limits.net.mac, mac, 6);
	uint8_t mc[6] = { 1, 0, 0, 0, 0, 9 };
	ck_assert_int_eq(x.dev->ops->net->set_mac(x.dev, mc), -EINVAL);
	pvio_dev_close(x.dev);
	free(d);
}
END_TEST

START_TEST(net_tx_offloads)
{
	struct netx x;
	struct fdev *d = fdev_new(VW_ID_NET);
	d->h.flags = VIRTIO_HF_VMM_NET;
	d->has_cfg = 0;
	d->features |= 1ull << VIRTIO_NET_F_CSUM | 1ull << VIRTIO_NET_F_HOST_TSO4;
	net_up(&x, d, 1, PVIO_F_NET_CSUM_TX | PVIO_F_NET_TSO4 | PVIO_F_NET_TSO6,
	       NULL);
	ck_assert(x.dev->info.features & PVIO_F_NET_CSUM_TX);
	ck_assert(x.dev->info.features & PVIO_F_NET_TSO4);
	ck_assert(!(x.dev->info.features & PVIO_F_NET_TSO6)); /* not offered */
	struct pvio_net_txd t = { .flags = PVIO_PKT_CSUM_PARTIAL, .csum_start = 34,
				  .csum_offset = 16 };
	net_echo(&x, &t);
	struct virtio_net_hdr_v1 h;
	memcpy(&h, d->last_txhdr, 12);
	ck_assert_uint_eq(h.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	ck_assert_uint_eq(h.gso_type, VIRTIO_NET_HDR_GSO_NONE);
	ck_assert_uint_eq(h.csum_start, 34);
	ck_assert_uint_eq(h.csum_offset, 16);
	t.flags |= PVIO_PKT_GSO_TCPV4;
	t.gso_size = 40;
	t.hdr_len = 54;
	net_echo(&x, &t);
	memcpy(&h, d->last_txhdr, 12);
	ck_assert_uint_eq(h.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
	ck_assert_uint_eq(h.gso_size, 40);
	ck_assert_uint_eq(h.hdr_len, 54);
	/* TSO6 was not granted, checksum beyond the frame is nonsense */
	struct pvio_dseg s = { x.tx, x.txa, 100 };
	struct pvio_net_txd bad = { .tag = 1, .nseg = 1, .len = 100, .seg = &s,
				    .flags = PVIO_PKT_CSUM_PARTIAL | PVIO_PKT_GSO_TCPV6,
				    .csum_start = 34, .csum_offset = 16,
				    .gso_size = 40, .hdr_len = 54 };
	ck_assert_int_eq(x.dev->ops->net->tx_enqueue(x.dev, 0, &bad), -EINVAL);
	bad.flags = PVIO_PKT_CSUM_PARTIAL;
	bad.csum_start = 90;
	ck_assert_int_eq(x.dev->ops->net->tx_enqueue(x.dev, 0, &bad), -EINVAL);
	pvio_dev_close(x.dev);
	free(d);
}
END_TEST

static void net_cfg(struct fdev *d, const uint8_t mac[6], uint16_t status,
		    uint16_t pairs, uint16_t mtu)
{
	struct virtio_net_config c;
	memset(&c, 0, sizeof(c));
	memcpy(c.mac, mac, 6);
	c.status = status;
	c.max_virtqueue_pairs = pairs;
	c.mtu = mtu;
	memcpy(d->cfg, &c, sizeof(c));
}

/* A device that owns its config space and has a control queue (as QEMU's
 * virtio-net does over PCI). */
START_TEST(net_device_config_and_ctrl)
{
	struct netx x;
	struct fdev *d = fdev_new(VW_ID_NET);
	const uint8_t devmac[6] = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 };
	net_cfg(d, devmac, VIRTIO_NET_S_LINK_UP, 4, 9000);
	d->features |= 1ull << VIRTIO_NET_F_MAC | 1ull << VIRTIO_NET_F_STATUS |
		       1ull << VIRTIO_NET_F_MTU | 1ull << VIRTIO_NET_F_CTRL_VQ |
		       1ull << VIRTIO_NET_F_MQ | 1ull << VIRTIO_NET_F_CTRL_MAC_ADDR;
	ck_assert_int_eq(open_dev(d, PVIO_CLASS_NET, &x.dev), 0);
	const struct pvio_net_limits *L = &x.dev->limits.net;
	ck_assert_mem_eq(L->mac, devmac, 6);
	ck_assert_uint_eq(L->mtu, 9000);
	ck_assert(L->link_up);
	ck_assert_uint_eq(L->max_queues, 4);
	ck_assert_uint_eq(L->rx_buf_min, 12 + 9000 + 18);
	pvio_dev_close(x.dev);

	/* two pairs and a new MAC: both through the control queue, which
	 * sits after all four pairs' queues (index 8) */
	const uint8_t want[6] = { 0x02, 1, 2, 3, 4, 5 };
	d->ctrl_ack = VIRTIO_NET_OK;
	d->closed = 0;
	x.d = d;
	ck_assert_int_eq(open_dev(d, PVIO_CLASS_NET, &x.dev), 0);
	struct pvio_dev_config cfg = { .num_queues = 2, .max_tags = 8, .mac = want };
	ck_assert_int_eq(pvio_dev_configure(x.dev, &cfg), 0);
	ck_assert(d->q[8].set && d->q[8].enabled);
	ck_assert(!d->q[4].set); /* pairs 2 and 3 are not used */
	ck_assert_uint_eq(d->nctrl, 2);
	ck_assert_uint_eq(d->ctrl_log[0][0], VIRTIO_NET_CTRL_MQ);
	ck_assert_uint_eq(d->ctrl_log[0][1], VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET);
	ck_assert_uint_eq(d->ctrl_log[0][2], 2);
	ck_assert_uint_eq(d->ctrl_log[1][0], VIRTIO_NET_CTRL_MAC);
	ck_assert_uint_eq(d->ctrl_log[1][1], VIRTIO_NET_CTRL_MAC_ADDR_SET);
	ck_assert_mem_eq(&d->ctrl_log[1][2], want, 6);
	ck_assert_mem_eq(x.dev->limits.net.mac, want, 6);
	ck_assert(x.dev->info.features & PVIO_F_NET_CTRL);
	ck_assert(x.dev->info.features & PVIO_F_MULTIQUEUE);
	/* link goes down */
	d->cfg[6] = 0;
	d->service_what = VIRTIO_HEV_CONFIG;
	struct pvio_event ev;
	ck_assert_int_eq(pvio_dev_next_event(x.dev, &ev), 1);
	ck_assert_int_eq(ev.type, PVIO_EVENT_LINK_CHANGE);
	ck_assert_uint_eq(ev.value, 0);
	ck_assert(!x.dev->limits.net.link_up);
	/* a refused command */
	d->ctrl_ack = 1;
	const uint8_t other[6] = { 0x02, 9, 9, 9, 9, 9 };
	ck_assert_int_eq(x.dev->ops->net->set_mac(x.dev, other), -EIO);
	ck_assert(strstr(pvio_errmsg(g_ctx), "refused control command"));
	ck_assert_mem_eq(x.dev->limits.net.mac, want, 6);
	/* a device that never answers the control queue */
	d->hold = 1;
	ck_assert_int_eq(x.dev->ops->net->set_mac(x.dev, other), -ETIMEDOUT);
	ck_assert_int_eq(pvio_dev_state(x.dev, NULL), PVIO_DEV_BROKEN);
	pvio_dev_close(x.dev);
	free(d);
}
END_TEST

START_TEST(net_bad_device_config)
{
	struct netx x;
	struct fdev *d = fdev_new(VW_ID_NET);
	const uint8_t mcast[6] = { 0x01, 0, 0x5e, 0, 0, 1 };
	net_cfg(d, mcast, 0, 0, 20);
	d->features |= 1ull << VIRTIO_NET_F_MAC | 1ull << VIRTIO_NET_F_MTU |
		       1ull << VIRTIO_NET_F_CTRL_VQ | 1ull << VIRTIO_NET_F_MQ;
	ck_assert_int_eq(open_dev(d, PVIO_CLASS_NET, &x.dev), 0);
	const struct pvio_net_limits *L = &x.dev->limits.net;
	/* multicast MAC refused: a locally administered one instead */
	ck_assert_uint_eq(L->mac[0] & 3, 2);
	ck_assert_uint_eq(L->mtu, 1500);      /* 20 is below 68 */
	ck_assert_uint_eq(L->max_queues, 1);  /* 0 pairs */
	ck_assert(L->link_up);                /* no STATUS: up */
	pvio_dev_close(x.dev);
	free(d);
}
END_TEST

START_TEST(notify_counters)
{
	struct netx x;
	struct fdev *d = fdev_new(VW_ID_NET);
	d->h.flags = VIRTIO_HF_VMM_NET;
	d->has_cfg = 0;
	d->features &= ~VW_BIT(VW_F_EVENT_IDX);
	net_up(&x, d, 1, 0, NULL);
	uint64_t sent = x.dev->stats[0].notify_sent;
	ck_assert_uint_eq(sent, 1); /* the receive kick */
	net_echo(&x, NULL);         /* tx kick + rx re-post kick */
	ck_assert_uint_eq(x.dev->stats[0].notify_sent, 3);
	d->no_notify = 1;           /* set by the device when it completes */
	net_echo(&x, NULL);
	net_echo(&x, NULL);
	ck_assert_uint_eq(x.dev->stats[0].notify_sent, 4);
	ck_assert_uint_eq(x.dev->stats[0].notify_suppressed, 3);
	/* a kick with nothing new is neither */
	x.dev->ops->net->kick(x.dev, 0, PVIO_NET_KICK_TX);
	ck_assert_uint_eq(x.dev->stats[0].notify_sent +
				  x.dev->stats[0].notify_suppressed, 7);
	pvio_dev_close(x.dev);
	free(d);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("virtio_transport");
	TCase *t = tcase_create("fake device");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, bringup_sequence);
	tcase_add_test(t, features_rejected);
	tcase_add_test(t, blk_limits);
	tcase_add_test(t, blk_io_and_status);
	tcase_add_test(t, blk_hostile_completion);
	tcase_add_test(t, blk_needs_reset);
	tcase_add_test(t, quiesce_waits_then_gives_up);
	tcase_add_test(t, net_rx_validation);
	tcase_add_test(t, net_tx_offloads);
	tcase_add_test(t, net_device_config_and_ctrl);
	tcase_add_test(t, net_bad_device_config);
	tcase_add_test(t, notify_counters);
	suite_add_tcase(s, t);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
