/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_virtio_dev.c - the generic virtio device and the
 * virtio-blk / virtio-net adapters (backends/virtio/transport.c, blk.c,
 * net.c) behind their pvio_dev_ops, over a host interface played by the
 * fuzzer.
 *
 * The fuzzer is the device: it offers feature bits, fills the config
 * space (capacity, block size, seg_max, size_max, MTU, MAC, queue pairs,
 * status ...), sizes the queues, keeps or drops FEATURES_OK, sets
 * DEVICE_NEEDS_RESET, and for every request it finds in a ring (read with
 * vring_dev.c) decides when and how to complete it: status byte, used
 * length, received frame and its virtio-net header, control-queue ack,
 * GET_ID answer; or it holds requests, completes them twice, writes used
 * entries with any id, answers a stop with any position.  The front-end
 * side (the harness) sends only requests within the limits the device
 * was opened with.
 *
 * Properties:
 *  - the driver never accepts a feature the device did not offer;
 *  - a request within the limits is never refused as -EINVAL;
 *  - every completion names an outstanding request, once; a block request
 *    succeeds only if the device wrote status OK for it (UNSUPP ->
 *    -EOPNOTSUPP, anything else or nothing -> -EIO);
 *  - a received frame lies inside its buffer, starts after the 12-byte
 *    header and is as long as the device said (clamped to the buffer);
 *    checksum offsets lie inside the frame; bad frames come back with an
 *    error status;
 *  - a device that follows the protocol is never marked broken;
 *  - a broken device fails new requests; close never crashes or hangs.
 */
#include "fuzz.h"
#include "vring_dev.h"

#include "backends/virtio/virtio.h"

#define NVQ_MAX 130u
#define HELD_MAX 8u
#define TAGS_MAX 16u
#define FIFO 64u

struct fq {
	bool set, enabled;
	bool wedged; /* a hostile device scribbled over its own view */
	bool stopped; /* told to stop: completes what it holds, takes nothing */
	struct vdq d;
	struct vdq_chain held[HELD_MAX];
	uint32_t held_tag[HELD_MAX];
	unsigned nheld;
	/* tags of requests the harness queued, in ring order */
	uint32_t fifo[FIFO];
	unsigned fhead, fn;
};

enum { ST_IDLE, ST_OUT };

struct tagst {
	uint8_t st;
	int wrote_status;    /* blk: status byte the device wrote last, -1 none */
	int64_t used_len;    /* net rx: used len the device wrote, -1 none */
	uint32_t frame_len;  /* net rx: frame bytes written after the header */
	uint8_t head[32];    /* net rx: its first bytes */
	uint8_t hdr[12];     /* net rx: the header written */
	uint8_t *buf;        /* net rx: the posted buffer */
	uint32_t buflen;
};

struct vh {
	struct virtio_hostif h;
	struct fz *f;
	pvio_ctx *ctx;
	bool blk;
	uint64_t offered, acked;
	uint8_t status;
	bool reject_features, reset_after_ok, has_cfg;
	uint8_t cfg[256];
	uint16_t qmax;
	unsigned nvq;
	struct fq *q[NVQ_MAX];
	unsigned service_what;
	/* what happened */
	bool hostile, lazy, needs_reset;
	bool in_wait;
	pvio_dev *dev;
	unsigned nq;             /* pvio queues configured */
	uint32_t max_tags;
	struct tagst tag[2 * 8][TAGS_MAX]; /* blk: [q]; net: [2q] rx, [2q+1] tx */
	uint8_t *data;           /* blk data / tx frames */
	size_t data_len;
};

static struct vh *VH(struct virtio_hostif *h)
{
	return (struct vh *)(void *)h;
}

/* ---------------------------------------------------------------- device */

static void fifo_push(struct fq *q, uint32_t tag)
{
	FZ_ASSERT(q->fn < FIFO, "fifo");
	q->fifo[(q->fhead + q->fn++) % FIFO] = tag;
}

static uint32_t fifo_pop(struct fq *q)
{
	if (!q->fn)
		return UINT32_MAX;
	uint32_t t = q->fifo[q->fhead];
	q->fhead = (q->fhead + 1) % FIFO;
	q->fn--;
	return t;
}

/* Which pvio queue/tag table a device queue belongs to. */
static int vq_role(struct vh *v, unsigned vq, unsigned *slot)
{
	if (v->blk) {
		*slot = vq;
		return vq < v->nq ? 0 : -1;
	}
	if (vq < 2 * v->nq) {
		*slot = vq;
		return vq % 2 ? 2 : 1; /* 1 rx, 2 tx */
	}
	return 3; /* control */
}

/* Complete one chain the way a working device would (with fuzzed
 * contents), or - with a hostile length - the used len it reports. */
static void complete(struct vh *v, unsigned vq, struct fq *q,
		     struct vdq_chain *c, uint32_t tag)
{
	struct fz *f = v->f;
	unsigned slot = 0;
	int role = vq_role(v, vq, &slot);
	uint32_t used = 0;
	uint8_t knob = fz_u8(f);

	if (v->blk) {
		uint8_t hdr[16];
		vdq_read(c, 0, hdr, 16);
		uint32_t type = (uint32_t)hdr[0] | (uint32_t)hdr[1] << 8;
		/* the status byte is the last writable byte */
		uint32_t wl = c->wlen;
		uint32_t data_w = wl ? wl - 1 : 0;
		if (type == 8) { /* GET_ID: a serial of fuzz bytes */
			uint8_t id[20];
			fz_bytes(f, id, sizeof(id));
			vdq_write(c, 0, id, data_w < 20 ? data_w : 20);
		} else if (data_w && (knob & 2)) {
			uint8_t pat[64];
			memset(pat, (int)(tag * 7 + 1), sizeof(pat));
			for (uint32_t o = 0; o < data_w; o += sizeof(pat))
				vdq_write(c, o, pat,
					  data_w - o < sizeof(pat) ? data_w - o
								   : sizeof(pat));
		}
		int st = -1;
		if (!(knob & 4)) {
			/* OK, IOERR, UNSUPP or nonsense */
			uint8_t s = (knob & 0x18) == 0 ? 0 : fz_u8(f);
			if (wl) {
				vdq_write(c, data_w, &s, 1);
				st = s;
			}
		}
		/* without a write now, what it wrote before stays (scribble) */
		if (type != 8 && role == 0 && tag < TAGS_MAX &&
		    v->tag[slot][tag].st == ST_OUT && st >= 0)
			v->tag[slot][tag].wrote_status = st;
		used = wl;
	} else if (role == 1) {
		/* receive: header + frame into the one writable buffer */
		uint8_t hdr[12] = { 0 };
		uint32_t flen = 14 + fz_below(f, 1600);
		if (knob & 2)
			fz_bytes(f, hdr, sizeof(hdr));
		if (flen + 12 > c->wlen)
			flen = c->wlen > 12 ? c->wlen - 12 : 0;
		uint8_t frame[32];
		for (unsigned i = 0; i < sizeof(frame); i++)
			frame[i] = (uint8_t)(fz_u8(f) ^ i);
		vdq_write(c, 0, hdr, 12);
		uint32_t w = flen < sizeof(frame) ? flen : sizeof(frame);
		vdq_write(c, 12, frame, w);
		used = 12 + flen;
		if (knob & 4)
			used = fz_u32(f) % (c->wlen + 64); /* any length */
		if (tag < TAGS_MAX && v->tag[slot][tag].st == ST_OUT) {
			struct tagst *t = &v->tag[slot][tag];
			t->used_len = used;
			t->frame_len = flen;
			memcpy(t->head, frame, sizeof(t->head));
			memcpy(t->hdr, hdr, sizeof(hdr));
		}
	} else if (role == 2) {
		used = knob & 4 ? fz_u32(f) : 0;
	} else {
		/* control: the ack byte is the last writable byte */
		uint8_t ack = (knob & 0x18) == 0 ? 0 : fz_u8(f);
		if (c->wlen && !(knob & 4))
			vdq_write(c, c->wlen - 1, &ack, 1);
		used = c->wlen;
	}
	vdq_used(&q->d, c->id, used, c->ndesc);
}

/* Let the device work on queue vq: take what is available, complete or
 * hold it.  Everything it does is legal unless it says hostile. */
static void process(struct vh *v, unsigned vq, bool waited)
{
	struct fq *q = v->q[vq];
	struct fz *f = v->f;
	if (!q || !q->set || !q->enabled || q->wedged)
		return;
	uint8_t mode = fz_u8(f);
	if (mode == 0xff) {
		/* do nothing now */
		v->lazy = true;
		return;
	}
	/* with IN_ORDER (packed) a device uses buffers in the order it took
	 * them; otherwise in any order */
	bool in_order = q->d.packed && (v->acked & VW_BIT(VW_F_IN_ORDER));
	/* complete some held ones first */
	while (q->nheld && fz_u8(f) < 0xe0) {
		unsigned i = in_order ? 0 : fz_below(f, q->nheld);
		complete(v, vq, q, &q->held[i], q->held_tag[i]);
		q->nheld--;
		memmove(&q->held[i], &q->held[i + 1],
			(q->nheld - i) * sizeof(q->held[0]));
		memmove(&q->held_tag[i], &q->held_tag[i + 1],
			(q->nheld - i) * sizeof(q->held_tag[0]));
	}
	for (unsigned k = 0; k < 64 && !q->stopped; k++) {
		if (q->nheld == HELD_MAX)
			break;
		/* in order, a chain taken while others are held must be held
		 * too (completing it would complete them): take none without
		 * room to hold it */
		if (in_order && q->nheld && q->nheld + 1 >= HELD_MAX)
			break;
		struct vdq_chain *c = &q->held[q->nheld];
		const char *why;
		int r = vdq_take(&q->d, c, &why);
		if (r < 0 && v->hostile && q->d.packed) {
			/* in a packed ring the device may have written over
			 * available descriptors itself (scribble): it stops */
			q->wedged = true;
			v->lazy = true;
			return;
		}
		FZ_ASSERT(r >= 0, "the driver wrote a bad chain on vq %u: %s", vq,
			  why);
		if (!r)
			break;
		unsigned slot;
		int role = vq_role(v, vq, &slot);
		uint32_t tag = UINT32_MAX;
		uint8_t hdr[16];
		bool internal = v->blk && vdq_read(c, 0, hdr, 16) == 16 &&
				hdr[0] == 8 && !hdr[1];
		if (role != 3 && !internal)
			tag = fifo_pop(q);
		uint8_t act = fz_u8(f);
		if (((act & 3) == 3 || (in_order && q->nheld)) &&
		    q->nheld + 1 < HELD_MAX) {
			q->held_tag[q->nheld++] = tag; /* later */
			continue;
		}
		complete(v, vq, q, c, tag);
	}
	if (q->nheld && waited)
		v->lazy = true;
}

/* Hostile acts on queue vq. */
static void scribble(struct vh *v, unsigned vq)
{
	struct fq *q = v->q[vq];
	struct fz *f = v->f;
	if (!q || !q->set)
		return;
	v->hostile = true;
	switch (fz_u8(f) % 5) {
	case 0: /* complete a held chain twice */
		if (q->nheld) {
			vdq_used(&q->d, q->held[0].id, 1, q->held[0].ndesc);
			vdq_used(&q->d, q->held[0].id, 1, q->held[0].ndesc);
		}
		break;
	case 1: /* a used entry with any id and length */
		vdq_used(&q->d, fz_u16(f), fz_u32(f), (uint16_t)(1 + fz_below(f, 4)));
		break;
	case 2: { /* any 16 bits where the device writes */
		size_t span = q->d.packed ? 16u * q->d.q : 6 + 8u * q->d.q;
		uint8_t *base = q->d.packed ? q->d.desc : q->d.dev;
		size_t off = fz_below(f, (uint32_t)span - 1) & ~(size_t)1;
		uint16_t val = fz_u16(f);
		memcpy(base + off, &val, 2);
		break;
	}
	case 3: /* used index jumps */
		if (!q->d.packed) {
			uint16_t val = fz_u16(f);
			__atomic_store_n((uint16_t *)(void *)(q->d.dev + 2), val,
					 __ATOMIC_RELEASE);
		}
		break;
	default: /* overwrite a held request's status/ack after the fact */
		if (q->nheld && q->held[0].wlen) {
			uint8_t b = fz_u8(f);
			vdq_write(&q->held[0], q->held[0].wlen - 1, &b, 1);
			/* a block request's status: what it completes with */
			unsigned slot;
			uint32_t tag = q->held_tag[0];
			if (vq_role(v, vq, &slot) == 0 && tag < TAGS_MAX &&
			    v->tag[slot][tag].st == ST_OUT)
				v->tag[slot][tag].wrote_status = b;
		}
		break;
	}
}

/* ---------------------------------------------------------------- hostif */

static int h_get_features(struct virtio_hostif *h, uint64_t *f)
{
	*f = VH(h)->offered;
	return 0;
}

static int h_set_features(struct virtio_hostif *h, uint64_t f)
{
	struct vh *v = VH(h);
	FZ_ASSERT(!(f & ~v->offered), "the driver accepted features 0x%llx "
		  "that were not offered (0x%llx)", (unsigned long long)f,
		  (unsigned long long)v->offered);
	v->acked = f;
	return 0;
}

static int h_get_status(struct virtio_hostif *h, uint8_t *st)
{
	*st = VH(h)->status;
	return 0;
}

static int h_set_status(struct virtio_hostif *h, uint8_t st)
{
	struct vh *v = VH(h);
	v->status = st;
	if (v->reject_features)
		v->status &= (uint8_t)~VW_S_FEATURES_OK;
	if (v->reset_after_ok && (st & VW_S_DRIVER_OK)) {
		v->status |= VW_S_NEEDS_RESET;
		v->needs_reset = true;
	}
	if (!st) /* reset: the device forgets its queues */
		for (unsigned i = 0; i < NVQ_MAX; i++)
			if (v->q[i])
				v->q[i]->set = v->q[i]->enabled = false;
	return 0;
}

static int h_config_read(struct virtio_hostif *h, uint32_t off, void *buf,
			 uint32_t len)
{
	struct vh *v = VH(h);
	if (!v->has_cfg)
		return -EOPNOTSUPP;
	FZ_ASSERT(off <= sizeof(v->cfg) && len <= sizeof(v->cfg) - off,
		  "config read at %u+%u", off, len);
	memcpy(buf, v->cfg + off, len);
	return 0;
}

static uint16_t h_queue_max(struct virtio_hostif *h, unsigned vq)
{
	struct vh *v = VH(h);
	return vq < v->nvq ? v->qmax : 0;
}

static int h_queue_setup(struct virtio_hostif *h, unsigned vq,
			 const struct virtio_queue_cfg *c)
{
	struct vh *v = VH(h);
	FZ_ASSERT(vq < v->nvq && vq < NVQ_MAX, "setup of virtqueue %u of %u", vq,
		  v->nvq);
	FZ_ASSERT(c->size && c->size <= v->qmax, "queue size %u > max %u",
		  c->size, v->qmax);
	FZ_ASSERT(!c->packed || (v->acked & VW_BIT(VW_F_RING_PACKED)),
		  "packed ring without the feature");
	if (!v->q[vq]) {
		v->q[vq] = calloc(1, sizeof(struct fq));
		FZ_ASSERT(v->q[vq], "calloc");
	}
	struct fq *q = v->q[vq];
	memset(q, 0, sizeof(*q));
	q->set = true;
	vdq_init(&q->d, v->ctx, c->packed, v->acked & VW_BIT(VW_F_EVENT_IDX),
		 c->size, c->desc, c->driver, c->device);
	return 0;
}

static int h_queue_enable(struct virtio_hostif *h, unsigned vq, bool on)
{
	struct vh *v = VH(h);
	FZ_ASSERT(vq < NVQ_MAX && v->q[vq] && v->q[vq]->set, "enable of a queue "
		  "never set up");
	v->q[vq]->enabled = on;
	return 0;
}

static int h_stop(struct virtio_hostif *h, unsigned n, const uint16_t *nums,
		  uint32_t *bases)
{
	struct vh *v = VH(h);
	for (unsigned i = 0; i < n; i++) {
		struct fq *q = nums[i] < NVQ_MAX ? v->q[nums[i]] : NULL;
		FZ_ASSERT(q && q->set, "stop of a queue never set up");
		/* the position reported is final: take nothing after it */
		q->stopped = true;
		if (fz_u8(v->f) == 0xfe) {
			v->hostile = true;
			bases[i] = fz_u32(v->f);
		} else {
			bases[i] = vdq_base(&q->d);
		}
	}
	return 0;
}

static void h_notify(struct virtio_hostif *h, unsigned vq, uint32_t data)
{
	struct vh *v = VH(h);
	(void)data;
	FZ_ASSERT(vq < NVQ_MAX && v->q[vq] && v->q[vq]->enabled,
		  "notify of virtqueue %u, not enabled", vq);
	FZ_ASSERT(v->status & VW_S_DRIVER_OK, "notify before DRIVER_OK");
	process(v, vq, false);
}

static int h_irq_fd(struct virtio_hostif *h, unsigned irq)
{
	(void)h, (void)irq;
	return -EOPNOTSUPP;
}

static void h_irq_ack(struct virtio_hostif *h, unsigned irq)
{
	(void)h, (void)irq;
}

static int h_event_fd(struct virtio_hostif *h)
{
	(void)h;
	return -EOPNOTSUPP;
}

static int h_service(struct virtio_hostif *h, unsigned *what)
{
	struct vh *v = VH(h);
	*what = v->service_what;
	v->service_what = 0;
	return 0;
}

/* The driver waits: the device gets a turn on every queue. */
static void h_wait(struct virtio_hostif *h, int irq, uint64_t deadline)
{
	struct vh *v = VH(h);
	(void)irq, (void)deadline;
	for (unsigned i = 0; i < NVQ_MAX; i++)
		if (v->q[i] && v->q[i]->enabled)
			process(v, i, true);
}

static void h_close(struct virtio_hostif *h)
{
	(void)h;
}

static const struct virtio_hostif_ops ops = {
	h_get_features, h_set_features, h_get_status, h_set_status,
	h_config_read, h_queue_max, h_queue_setup, h_queue_enable, h_stop,
	h_notify, h_irq_fd, h_irq_ack, h_event_fd, h_service, h_wait, h_close,
};

/* ---------------------------------------------------------------- front */

static bool usable_state(struct vh *v)
{
	return pvio_dev_state(v->dev, NULL) == PVIO_DEV_READY;
}

static void check_honest(struct vh *v)
{
	const char *why = NULL;
	enum pvio_dev_state s = pvio_dev_state(v->dev, &why);
	if (s == PVIO_DEV_BROKEN)
		FZ_ASSERT(v->hostile || v->lazy || v->needs_reset,
			  "a device that followed the protocol was marked "
			  "broken: %s", why ? why : "");
}

static void blk_submit(struct vh *v, struct fz *f)
{
	const struct pvio_blk_limits *L = &v->dev->limits.blk;
	unsigned q = fz_below(f, v->nq);
	uint32_t tag = fz_below(f, v->max_tags);
	struct tagst *t = &v->tag[q][tag];
	if (t->st != ST_IDLE)
		return;
	struct pvio_dseg seg[128];
	struct pvio_blk_dreq r = { .tag = tag };
	uint8_t op = fz_u8(f) % 5;
	r.op = op;
	uint64_t nblocks = L->capacity / L->block_size;
	if (op == PVIO_BLK_OP_READ || op == PVIO_BLK_OP_WRITE) {
		if (!nblocks || (op == PVIO_BLK_OP_WRITE && L->read_only))
			return;
		uint64_t maxb = L->max_transfer / L->block_size;
		uint64_t segcap = (uint64_t)L->max_segments * L->max_segment_size /
				  L->block_size;
		if (maxb > segcap)
			maxb = segcap;
		if (maxb > nblocks)
			maxb = nblocks;
		if ((uint64_t)maxb * L->block_size > v->data_len)
			maxb = v->data_len / L->block_size;
		if (!maxb)
			return;
		uint64_t nb = 1 + fz_u32(f) % maxb;
		uint64_t lba = fz_u64(f) % (nblocks - nb + 1);
		r.offset = lba * L->block_size;
		r.len = nb * L->block_size;
		/* pieces of at most max_segment_size, fuzz-sized */
		uint64_t left = r.len, off = 0;
		unsigned n = 0;
		while (left) {
			uint64_t room = (uint64_t)(L->max_segments - n - 1) *
					L->max_segment_size;
			uint64_t min = left > room ? left - room : 1;
			uint64_t max = left < L->max_segment_size ? left
								  : L->max_segment_size;
			uint64_t len = min + fz_u32(f) % (max - min + 1);
			seg[n].va = v->data + off;
			seg[n].len = (uint32_t)len;
			FZ_ASSERT(pvio_dma_translate(v->ctx, seg[n].va, len,
						     &seg[n].dev_addr) == 0, "dma");
			off += len;
			left -= len;
			n++;
		}
		r.nseg = (uint16_t)n;
		r.seg = seg;
	} else if (op == PVIO_BLK_OP_FLUSH) {
		if (!L->flush)
			return;
	} else {
		bool dis = op == PVIO_BLK_OP_DISCARD;
		uint64_t max = dis ? L->max_discard : L->max_write_zeroes;
		if (!(dis ? L->discard : L->write_zeroes) || L->read_only ||
		    !nblocks || max < L->block_size)
			return;
		uint64_t maxb = max / L->block_size;
		if (maxb > nblocks)
			maxb = nblocks;
		uint64_t nb = 1 + fz_u32(f) % maxb;
		r.offset = (fz_u64(f) % (nblocks - nb + 1)) * L->block_size;
		r.len = nb * L->block_size;
	}
	bool ok = usable_state(v);
	int e = v->dev->ops->blk->enqueue(v->dev, q, &r);
	if (!ok) {
		FZ_ASSERT(e < 0 && e != -EINVAL, "enqueue on an unusable device "
			  "returned %d", e);
		return;
	}
	FZ_ASSERT(e != -EINVAL, "a request within the limits was refused: op "
		  "%u offset %llu len %llu nseg %u (limits: bs %u xfer %u segs "
		  "%u segsz %u cap %llu)", op, (unsigned long long)r.offset,
		  (unsigned long long)r.len, r.nseg, L->block_size,
		  L->max_transfer, L->max_segments, L->max_segment_size,
		  (unsigned long long)L->capacity);
	if (e == 0) {
		t->st = ST_OUT;
		t->wrote_status = -1;
		fifo_push(v->q[q], tag);
	}
}

static void blk_reap(struct vh *v, unsigned q)
{
	struct pvio_blk_dcomp out[TAGS_MAX + 2];
	int n = v->dev->ops->blk->reap(v->dev, q, out, TAGS_MAX + 2);
	if (n < 0) {
		FZ_ASSERT(!usable_state(v) || n == -ESHUTDOWN,
			  "reap failed (%d) on a working device", n);
		return;
	}
	for (int i = 0; i < n; i++) {
		uint32_t tag = out[i].tag;
		FZ_ASSERT(tag < v->max_tags && v->tag[q][tag].st == ST_OUT,
			  "completion of tag %u, not outstanding", tag);
		fz_note("blk q%u tag %u: %d", q, tag, out[i].status);
		struct tagst *t = &v->tag[q][tag];
		int32_t want = t->wrote_status == 0   ? 0
			       : t->wrote_status == 2 ? -EOPNOTSUPP
						      : -EIO;
		FZ_ASSERT(out[i].status == want, "tag %u: status %d, the device "
			  "wrote %d", tag, out[i].status, t->wrote_status);
		t->st = ST_IDLE;
	}
}

static void net_post(struct vh *v, struct fz *f)
{
	unsigned q = fz_below(f, v->nq);
	uint32_t tag = fz_below(f, v->max_tags);
	struct tagst *t = &v->tag[2 * q][tag];
	if (t->st != ST_IDLE)
		return;
	struct pvio_net_rxb b = { .tag = tag };
	b.seg.va = t->buf;
	b.seg.len = t->buflen;
	FZ_ASSERT(pvio_dma_translate(v->ctx, t->buf, t->buflen,
				     &b.seg.dev_addr) == 0, "dma");
	bool ok = usable_state(v);
	int e = v->dev->ops->net->rx_post(v->dev, q, &b);
	fz_note("rx_post q%u tag %u: %d", q, tag, e);
	if (!ok) {
		FZ_ASSERT(e < 0 && e != -EINVAL, "rx_post on an unusable device "
			  "returned %d", e);
		return;
	}
	FZ_ASSERT(e != -EINVAL, "rx_post of a %u-byte buffer refused (rx_buf_min "
		  "%u)", t->buflen, v->dev->limits.net.rx_buf_min);
	if (e == 0) {
		t->st = ST_OUT;
		t->used_len = -1;
		fifo_push(v->q[2 * q], tag);
	}
}

static void net_send(struct vh *v, struct fz *f)
{
	const struct pvio_net_limits *L = &v->dev->limits.net;
	unsigned q = fz_below(f, v->nq);
	uint32_t tag = fz_below(f, v->max_tags);
	struct tagst *t = &v->tag[2 * q + 1][tag];
	if (t->st != ST_IDLE)
		return;
	uint32_t max = L->mtu + 18 < L->max_tx_frame ? L->mtu + 18 : L->max_tx_frame;
	if (max > v->data_len)
		max = (uint32_t)v->data_len;
	struct pvio_net_txd d = { .tag = tag };
	d.len = 14 + fz_u16(f) % (max - 13);
	unsigned nseg = 1 + fz_below(f, L->max_tx_segments);
	if (nseg > d.len)
		nseg = d.len;
	struct pvio_dseg seg[64];
	uint32_t left = d.len, off = 0;
	for (unsigned i = 0; i < nseg; i++) {
		uint32_t len = i + 1 == nseg ? left : 1 + fz_u16(f) % (left - (nseg - i - 1));
		seg[i].va = v->data + off;
		seg[i].len = len;
		FZ_ASSERT(pvio_dma_translate(v->ctx, seg[i].va, len,
					     &seg[i].dev_addr) == 0, "dma");
		off += len;
		left -= len;
	}
	d.nseg = (uint16_t)nseg;
	d.seg = seg;
	bool ok = usable_state(v);
	int e = v->dev->ops->net->tx_enqueue(v->dev, q, &d);
	fz_note("tx q%u tag %u len %u nseg %u: %d", q, tag, d.len, nseg, e);
	if (!ok) {
		FZ_ASSERT(e < 0 && e != -EINVAL, "tx on an unusable device "
			  "returned %d", e);
		return;
	}
	FZ_ASSERT(e != -EINVAL, "a %u-byte frame in %u pieces was refused (mtu "
		  "%u, max frame %u, max segs %u)", d.len, nseg, L->mtu,
		  L->max_tx_frame, L->max_tx_segments);
	if (e == 0) {
		t->st = ST_OUT;
		fifo_push(v->q[2 * q + 1], tag);
	}
}

static void net_reap(struct vh *v, unsigned q)
{
	uint32_t tags[TAGS_MAX + 2];
	int n = v->dev->ops->net->tx_reap(v->dev, q, tags, TAGS_MAX + 2);
	if (n < 0)
		FZ_ASSERT(!usable_state(v) || n == -ESHUTDOWN, "tx_reap failed "
			  "(%d) on a working device", n);
	for (int i = 0; i < n; i++) {
		FZ_ASSERT(tags[i] < v->max_tags &&
			  v->tag[2 * q + 1][tags[i]].st == ST_OUT,
			  "tx completion of tag %u, not outstanding", tags[i]);
		v->tag[2 * q + 1][tags[i]].st = ST_IDLE;
	}
	struct pvio_net_rxc c[TAGS_MAX + 2];
	uint64_t errs = v->dev->stats[q].rx_errors;
	n = v->dev->ops->net->rx_reap(v->dev, q, c, TAGS_MAX + 2);
	if (n < 0) {
		FZ_ASSERT(!usable_state(v) || n == -ESHUTDOWN, "rx_reap failed "
			  "(%d) on a working device", n);
		return;
	}
	unsigned bad = 0;
	for (int i = 0; i < n; i++) {
		uint32_t tag = c[i].tag;
		FZ_ASSERT(tag < v->max_tags && v->tag[2 * q][tag].st == ST_OUT,
			  "rx completion of tag %u, not posted", tag);
		struct tagst *t = &v->tag[2 * q][tag];
		t->st = ST_IDLE;
		fz_note("rx q%u tag %u: %d len %u", q, tag, c[i].status, c[i].len);
		if (c[i].status < 0) {
			FZ_ASSERT(c[i].len == 0, "bad frame with a length");
			bad++;
			continue;
		}
		FZ_ASSERT(c[i].offset >= 12 && c[i].offset <= t->buflen &&
			  c[i].len <= t->buflen - c[i].offset,
			  "frame at %u+%u outside its %u-byte buffer", c[i].offset,
			  c[i].len, t->buflen);
		FZ_ASSERT(c[i].len >= 14, "a %u-byte frame accepted", c[i].len);
		if (c[i].flags & PVIO_PKT_CSUM_PARTIAL)
			FZ_ASSERT((uint32_t)c[i].csum_start + c[i].csum_offset + 2 <=
				  c[i].len, "checksum at %u+%u outside a %u-byte "
				  "frame", c[i].csum_start, c[i].csum_offset,
				  c[i].len);
		if (t->used_len >= 0 && !v->hostile) {
			uint32_t ul = (uint32_t)t->used_len;
			if (ul > t->buflen)
				ul = t->buflen;
			FZ_ASSERT(c[i].len == ul - 12, "frame of %u bytes, the "
				  "device said %u", c[i].len, ul - 12);
			uint32_t cmp = t->frame_len < 32 ? t->frame_len : 32;
			if (cmp > c[i].len)
				cmp = c[i].len;
			FZ_ASSERT(!memcmp(t->buf + c[i].offset, t->head, cmp),
				  "frame bytes differ from what the device wrote");
		}
	}
	FZ_ASSERT(v->dev->stats[q].rx_errors == errs + bad,
		  "%u bad frames, rx_errors moved by %llu", bad,
		  (unsigned long long)(v->dev->stats[q].rx_errors - errs));
}

/* ---------------------------------------------------------------- main */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	struct vh *v = calloc(1, sizeof(*v));
	FZ_ASSERT(v, "calloc");
	v->f = &f;

	uint8_t c0 = fz_u8(&f), c1 = fz_u8(&f);
	v->blk = c0 & 1;
	v->offered = fz_u64(&f);
	v->reject_features = (c0 & 0x30) == 0x30;
	v->reset_after_ok = (c0 & 0xc0) == 0xc0;
	v->has_cfg = !(c1 & 1);
	v->qmax = fz_u16(&f);
	v->nvq = fz_u8(&f);
	fz_bytes(&f, v->cfg, 64);
	uint32_t want_q = 1 + fz_below(&f, 4);
	v->max_tags = 1 + fz_below(&f, TAGS_MAX);
	uint64_t want = fz_u8(&f);
	uint16_t qsize = (c1 & 2) ? (uint16_t)(1u << fz_below(&f, 9)) : 0;

	v->ctx = fz_ctx(16u << 20, 50);
	v->h.ops = &ops;
	v->h.ctx = v->ctx;
	v->h.name = "fuzz";
	v->h.device_id = v->blk ? VW_ID_BLK : VW_ID_NET;
	v->h.flags = (!v->blk && (c1 & 4)) ? VIRTIO_HF_VMM_NET : 0;
	v->h.max_vqs = (c1 & 8) ? v->nvq : 0;
	v->h.transport_features = VW_BIT(VW_F_INDIRECT_DESC) |
				  VW_BIT(VW_F_EVENT_IDX) | VW_BIT(VW_F_VERSION_1) |
				  VW_BIT(VW_F_RING_PACKED) | VW_BIT(VW_F_IN_ORDER);

	struct virtio_open_args a = {
		.cls = v->blk ? PVIO_CLASS_BLK : PVIO_CLASS_NET,
		.address = "fuzz:0",
		.max_queues = (c1 & 16) ? want_q : 0,
		.queue_size = qsize,
		.no_packed = c1 & 32,
	};
	int r = virtio_dev_open(v->ctx, &v->h, &a, &v->dev);
	fz_note("open: %d %s", r, r < 0 ? pvio_errmsg(v->ctx) : "");
	if (r < 0) {
		FZ_ASSERT(*pvio_errmsg(v->ctx), "open failed (%d) without a "
			  "message", r);
		goto out;
	}
	if (v->blk) {
		const struct pvio_blk_limits *L = &v->dev->limits.blk;
		FZ_ASSERT(L->block_size >= 512 && L->block_size <= 65536 &&
			  !(L->block_size & (L->block_size - 1)),
			  "block size %u", L->block_size);
		FZ_ASSERT(L->max_segments && L->max_segment_size &&
			  L->max_transfer >= L->block_size &&
			  L->max_transfer % L->block_size == 0,
			  "limits: segs %u segsz %u xfer %u bs %u", L->max_segments,
			  L->max_segment_size, L->max_transfer, L->block_size);
		FZ_ASSERT(L->max_queues >= 1 && L->max_queues <= 64, "queues %u",
			  L->max_queues);
	} else {
		const struct pvio_net_limits *L = &v->dev->limits.net;
		FZ_ASSERT(L->mtu >= 68 && L->max_tx_segments &&
			  L->max_tx_frame >= L->mtu + 14 &&
			  L->rx_buf_min >= 12 + 14 && L->max_queues >= 1,
			  "net limits: mtu %u segs %u frame %u rxmin %u queues %u",
			  L->mtu, L->max_tx_segments, L->max_tx_frame,
			  L->rx_buf_min, L->max_queues);
		FZ_ASSERT(!(L->mac[0] & 1), "multicast MAC");
	}
	uint32_t maxq = v->blk ? v->dev->limits.blk.max_queues
			       : v->dev->limits.net.max_queues;
	v->nq = want_q < maxq ? want_q : maxq;
	if (v->nq > 8)
		v->nq = 8;
	uint8_t mac[6] = { 0x02, 1, 2, 3, 4, 5 };
	struct pvio_dev_config cfg = {
		.num_queues = v->nq,
		.max_tags = v->max_tags,
		.want = want << 32 /* PVIO_F_NET_*: bits 32-39 */,
		.mac = (c1 & 64) ? mac : NULL,
	};
	r = pvio_dev_configure(v->dev, &cfg);
	fz_note("configure: %d %s", r, r < 0 ? pvio_errmsg(v->ctx) : "");
	if (r < 0) {
		FZ_ASSERT(*pvio_errmsg(v->ctx), "configure failed (%d) without a "
			  "message", r);
		goto close;
	}
	check_honest(v);

	/* buffers: blk data and tx frames share one area; rx buffers each
	 * get guards */
	v->data_len = 256u << 10;
	v->data = fz_dma_get(v->ctx, v->data_len, 4096);
	FZ_ASSERT(v->data, "dma");
	if (!v->blk)
		for (unsigned q = 0; q < v->nq; q++)
			for (uint32_t t = 0; t < v->max_tags; t++) {
				struct tagst *ts = &v->tag[2 * q][t];
				ts->buflen = v->dev->limits.net.rx_buf_min +
					     (t % 3) * 100;
				ts->buf = fz_dma_get(v->ctx, ts->buflen, 64);
				FZ_ASSERT(ts->buf, "dma");
			}

	for (unsigned step = 0; step < 300 && fz_left(&f); step++) {
		uint8_t op = fz_u8(&f);
		unsigned q = fz_below(&f, v->nq);
		switch ((op & 0x0f) % 12) {
		case 0:
		case 1:
		case 2:
			if (v->blk)
				blk_submit(v, &f);
			else if (op & 0x10)
				net_post(v, &f);
			else
				net_send(v, &f);
			break;
		case 3:
			if (v->blk)
				v->dev->ops->blk->kick(v->dev, q);
			else
				v->dev->ops->net->kick(v->dev, q, 1 + fz_below(&f, 3));
			break;
		case 4:
		case 5:
			if (v->blk)
				blk_reap(v, q);
			else
				net_reap(v, q);
			break;
		case 6: /* the device gets a turn */
			for (unsigned i = 0; i < NVQ_MAX; i++)
				if (v->q[i] && v->q[i]->enabled)
					process(v, i, false);
			break;
		case 7:
			if ((op >> 4) >= 0xc)
				scribble(v, fz_below(&f, v->blk ? v->nq : 2 * v->nq + 1) %
						    NVQ_MAX);
			break;
		case 8: { /* configuration change */
			size_t off = fz_below(&f, 64);
			v->cfg[off] = fz_u8(&f);
			v->service_what = VIRTIO_HEV_CONFIG;
			if ((op >> 4) == 0xf) {
				v->status |= VW_S_NEEDS_RESET;
				v->needs_reset = true;
			}
			r = v->dev->ops->service(v->dev);
			(void)r;
			break;
		}
		case 9:
			if (fz_bool(&f)) {
				int a1 = v->dev->ops->queue_arm(v->dev, q);
				FZ_ASSERT(a1 == 0 || a1 == 1 || a1 < 0, "arm");
			} else {
				v->dev->ops->queue_disarm(v->dev, q);
			}
			break;
		case 10:
			if ((op >> 4) == 0xa) {
				r = v->dev->ops->quiesce(v->dev);
				if (r < 0)
					FZ_ASSERT(pvio_dev_state(v->dev, NULL) !=
						  PVIO_DEV_READY, "quiesce failed "
						  "(%d), device still ready", r);
			}
			break;
		default: {
			struct pvio_event ev;
			while (pvio_dev_next_event(v->dev, &ev) > 0)
				;
			if (!v->blk && (op >> 4) == 0xb) {
				uint8_t m2[6] = { 0x02, 9, 8, 7, 6, (uint8_t)step };
				v->dev->ops->net->set_mac(v->dev, m2);
			}
			break;
		}
		}
		check_honest(v);
	}

close:
	fz_note("state %d: %s", pvio_dev_state(v->dev, NULL), v->dev->reason);
	pvio_dev_close(v->dev);
	if (v->data)
		fz_unpoison(v->data, v->data_len); /* freed with the pool */
	for (unsigned q = 0; q < 16; q++)
		for (uint32_t t = 0; t < TAGS_MAX; t++)
			if (v->tag[q][t].buf)
				fz_unpoison(v->tag[q][t].buf, v->tag[q][t].buflen);
out:
	for (unsigned i = 0; i < NVQ_MAX; i++)
		free(v->q[i]);
	fz_ctx_free(v->ctx);
	free(v);
	return 0;
}

/* ---------------------------------------------------------------- seeds */

static void seed_dev(struct fzb *b, bool blk, uint8_t c1, uint64_t extra)
{
	uint64_t feat = VW_BIT(VW_F_VERSION_1) | VW_BIT(VW_F_INDIRECT_DESC) |
			VW_BIT(VW_F_EVENT_IDX) | extra;
	fzb_u8(b, blk ? 1 : 0);
	fzb_u8(b, c1);
	if (blk)
		feat |= VW_BIT(VW_BLK_F_SEG_MAX) | VW_BIT(VW_BLK_F_BLK_SIZE) |
			VW_BIT(VW_BLK_F_FLUSH) | VW_BIT(VW_BLK_F_DISCARD) |
			VW_BIT(VW_BLK_F_WRITE_ZEROES) | VW_BIT(VW_BLK_F_MQ) |
			VW_BIT(VW_BLK_F_SIZE_MAX) | VW_BIT(VW_BLK_F_TOPOLOGY);
	else
		feat |= VW_BIT(VW_NET_F_MAC) | VW_BIT(VW_NET_F_MTU) |
			VW_BIT(VW_NET_F_STATUS) | VW_BIT(VW_NET_F_CSUM) |
			VW_BIT(VW_NET_F_GUEST_CSUM) | VW_BIT(VW_NET_F_CTRL_VQ) |
			VW_BIT(VW_NET_F_MQ) | VW_BIT(VW_NET_F_CTRL_MAC_ADDR);
	fzb_u64(b, feat);
	fzb_u16(b, 64);  /* qmax */
	fzb_u8(b, 9);    /* virtqueues */
	uint8_t cfg[64] = { 0 };
	if (blk) {
		uint64_t cap = 2048; /* sectors */
		memcpy(cfg + VW_BLK_CFG_CAPACITY, &cap, 8);
		uint32_t v32 = 65536;
		memcpy(cfg + VW_BLK_CFG_SIZE_MAX, &v32, 4);
		v32 = 8;
		memcpy(cfg + VW_BLK_CFG_SEG_MAX, &v32, 4);
		v32 = 512;
		memcpy(cfg + VW_BLK_CFG_BLK_SIZE, &v32, 4);
		cfg[VW_BLK_CFG_NUM_QUEUES] = 2;
		v32 = 64;
		memcpy(cfg + VW_BLK_CFG_MAX_DISCARD_SECTORS, &v32, 4);
		memcpy(cfg + VW_BLK_CFG_MAX_WZ_SECTORS, &v32, 4);
		v32 = 1;
		memcpy(cfg + VW_BLK_CFG_DISCARD_ALIGN, &v32, 4);
	} else {
		uint8_t mac[6] = { 0x52, 0x54, 0, 1, 2, 3 };
		memcpy(cfg, mac, 6);
		cfg[VW_NET_CFG_STATUS] = 1;
		cfg[VW_NET_CFG_MAX_PAIRS] = 2;
		cfg[VW_NET_CFG_MTU] = 1500 & 0xff;
		cfg[VW_NET_CFG_MTU + 1] = 1500 >> 8;
	}
	fzb_put(b, cfg, 64);
	fzb_u8(b, 1);    /* queues - 1 */
	fzb_u8(b, 7);    /* tags - 1 */
	fzb_u8(b, 0x18); /* offloads wanted: csum tx and rx */
	if (c1 & 2)
		fzb_u8(b, 5); /* ring size 32 */
	/* GET_ID / control commands answered right away */
	for (int i = 0; i < 8; i++)
		fzb_u8(b, 0);
}

void fz_seeds(fz_emit_fn emit, void *arg)
{
	struct fzb b = { 0 };
	for (unsigned v = 0; v < 8; v++) {
		bool blk = v & 1;
		bool packed = v & 2;
		uint8_t c1 = (uint8_t)((v & 4 ? 2 : 0) | (blk ? 0 : (v & 4 ? 4 : 0)));
		seed_dev(&b, blk, c1, packed ? VW_BIT(VW_F_RING_PACKED) |
						       VW_BIT(VW_F_IN_ORDER)
					      : 0);
		for (unsigned round = 0; round < 12; round++) {
			uint8_t q = (uint8_t)(round % 2);
			for (unsigned k = 0; k < 3; k++) {
				if (blk) {
					fzb_u8(&b, 0);      /* submit */
					fzb_u8(&b, q);      /* (unused q) */
					fzb_u8(&b, q);
					fzb_u8(&b, (uint8_t)k); /* tag */
					fzb_u8(&b, (uint8_t)(round % 5)); /* op */
					fzb_u32(&b, round); /* blocks */
					fzb_u64(&b, round * 7); /* lba */
					fzb_u32(&b, 5);     /* piece sizes */
					fzb_u32(&b, 9);
					fzb_u32(&b, 3);
				} else {
					fzb_u8(&b, 0x10);   /* post */
					fzb_u8(&b, q);
					fzb_u8(&b, q);
					fzb_u8(&b, (uint8_t)k);
					fzb_u8(&b, 0x00);   /* send */
					fzb_u8(&b, q);
					fzb_u8(&b, q);
					fzb_u8(&b, (uint8_t)k);
					fzb_u16(&b, (uint16_t)(60 + round * 40));
					fzb_u8(&b, (uint8_t)k); /* pieces - 1 */
					for (unsigned i = 0; i < k; i++)
						fzb_u16(&b, 20);
				}
			}
			fzb_u8(&b, 3);              /* kick */
			fzb_u8(&b, q);
			fzb_u8(&b, 2);              /* (net: both) */
			/* the device completes: a frame is 35 bytes of
			 * decisions, a block request 2 */
			fzb_u8(&b, 0);
			for (int i = 0; i < (blk ? 12 : 6 * 36); i++)
				fzb_u8(&b, (uint8_t)(blk ? 0 : i % 36 == 1 ? 60 : 0));
			fzb_u8(&b, 4);              /* reap */
			fzb_u8(&b, q);
		}
		char name[32];
		snprintf(name, sizeof(name), "%s-%s-%u", blk ? "blk" : "net",
			 packed ? "packed" : "split", v >> 2);
		fzb_emit(&b, emit, arg, name);
	}
	fzb_free(&b);
}
