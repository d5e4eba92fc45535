/* SPDX-License-Identifier: MIT */
/*
 * backends/virtio/blk.c - the virtio-blk adapter: config space to
 * struct pvio_blk_limits, and block requests to descriptor chains.
 *
 * A request is one chain: the 16-byte header (device-readable), the data
 * (or one discard / write-zeroes range), and the one-byte status
 * (device-writable).  Header, range and status live in a per-tag slot of
 * DMA memory allocated at configure, so the data path allocates nothing.
 * The status byte is set to 0xff before each request: a device that
 * completes without writing it produces -EIO, not a stale success.
 *
 * Every config value is read once into a private snapshot and checked
 * before it becomes a limit; impossible values refuse the device or are
 * clamped (a seg_max of 0 is 1, size_max 0 means no limit - as
 * qemu-storage-daemon reports it).
 */
#include "virtio.h"

#define BLK_MAX_QUEUES 64u
#define BLK_MAX_SEGS 128u              /* per request, data pieces */
#define BLK_MAX_TRANSFER (1u << 20)    /* bytes per request */
#define BLK_NOLIMIT_SEG (1u << 20)     /* bytes per piece when unlimited */
#define SLOT 64u                       /* per-tag DMA slot */
#define SLOT_HDR 0u
#define SLOT_RANGE 16u
#define SLOT_STATUS 32u
#define SLOT_ID 40u

struct vblk_q {
	uint8_t *slot;    /* (max_tags + 1) slots; the last is internal */
	uint64_t slot_addr;
	uint8_t *busy;    /* private: tag in flight */
};

struct vblk {
	uint32_t max_tags;
	unsigned nq;
	struct vblk_q *q;
	void *mem;        /* all slots of all queues (DMA) */
	uint8_t *busy_mem;
};

static uint64_t blk_class_features(struct virtio_dev *vd,
				   const struct pvio_dev_config *cfg)
{
	(void)vd;
	(void)cfg;
	return VW_BIT(VW_BLK_F_SIZE_MAX) | VW_BIT(VW_BLK_F_SEG_MAX) |
	       VW_BIT(VW_BLK_F_BLK_SIZE) | VW_BIT(VW_BLK_F_TOPOLOGY) |
	       VW_BIT(VW_BLK_F_RO) | VW_BIT(VW_BLK_F_FLUSH) |
	       VW_BIT(VW_BLK_F_MQ) | VW_BIT(VW_BLK_F_DISCARD) |
	       VW_BIT(VW_BLK_F_WRITE_ZEROES);
}

static uint64_t norm_blk(uint64_t f)
{
	uint64_t n = 0;
	if (f & VW_BIT(VW_BLK_F_FLUSH))
		n |= PVIO_F_BLK_FLUSH;
	if (f & VW_BIT(VW_BLK_F_DISCARD))
		n |= PVIO_F_BLK_DISCARD;
	if (f & VW_BIT(VW_BLK_F_WRITE_ZEROES))
		n |= PVIO_F_BLK_WRITE_ZEROES;
	if (f & VW_BIT(VW_BLK_F_RO))
		n |= PVIO_F_BLK_READ_ONLY;
	if (f & VW_BIT(VW_BLK_F_TOPOLOGY))
		n |= PVIO_F_BLK_TOPOLOGY;
	return n;
}

static bool pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

static int blk_probe(struct virtio_dev *vd)
{
	pvio_ctx *ctx = vd->dev->ctx;
	struct pvio_blk_limits *L = &vd->dev->limits.blk;
	uint8_t c[VW_BLK_CFG_LEN];

	int r = virtio_config(vd, 0, c, sizeof(c));
	if (r == -EOPNOTSUPP)
		return pvio_set_error(ctx, EPROTO,
				      "%s: the block device has no config space",
				      vd->address);
	if (r < 0)
		return r;

	uint64_t sectors = virtio_le64(c + VW_BLK_CFG_CAPACITY);
	if (sectors > UINT64_MAX / PVIO_SECTOR_SIZE)
		return pvio_set_error(ctx, ERANGE,
				      "%s: capacity of %llu sectors is impossible",
				      vd->address, (unsigned long long)sectors);
	uint32_t bs = PVIO_SECTOR_SIZE;
	if (virtio_offers(vd, VW_BLK_F_BLK_SIZE)) {
		bs = virtio_le32(c + VW_BLK_CFG_BLK_SIZE);
		if (!pow2(bs) || bs < 512 || bs > 65536)
			return pvio_set_error(ctx, EPROTO,
					      "%s: block size %u is not a power of "
					      "two between 512 and 65536",
					      vd->address, bs);
	}
	uint32_t pbs = bs;
	if (virtio_offers(vd, VW_BLK_F_TOPOLOGY)) {
		uint8_t e = c[VW_BLK_CFG_PHYS_EXP];
		if (e <= 7 && (uint64_t)bs << e <= (1u << 20))
			pbs = bs << e;
	}
	uint32_t segs = 1; /* without SEG_MAX the spec promises nothing */
	if (virtio_offers(vd, VW_BLK_F_SEG_MAX)) {
		segs = virtio_le32(c + VW_BLK_CFG_SEG_MAX);
		if (!segs)
			segs = 1;
	}
	if (segs > BLK_MAX_SEGS)
		segs = BLK_MAX_SEGS;
	if (!virtio_offers(vd, VW_F_INDIRECT_DESC)) {
		/* header, data and status descriptors in the ring itself */
		if (vd->qsize < 3)
			return pvio_set_error(ctx, EPROTO,
					      "%s: virtqueues of %u entries cannot "
					      "hold a request (header, data, status) "
					      "without indirect descriptors",
					      vd->address, vd->qsize);
		if (segs > vd->qsize - 2u)
			segs = vd->qsize - 2u;
	}
	uint32_t segsz = BLK_NOLIMIT_SEG;
	if (virtio_offers(vd, VW_BLK_F_SIZE_MAX)) {
		uint32_t v = virtio_le32(c + VW_BLK_CFG_SIZE_MAX);
		if (v && v < bs)
			return pvio_set_error(ctx, EPROTO,
					      "%s: size_max %u is below the block "
					      "size %u",
					      vd->address, v, bs);
		if (v && v < segsz)
			segsz = v;
	}
	uint64_t xfer = (uint64_t)segs * segsz;
	if (xfer > BLK_MAX_TRANSFER)
		xfer = BLK_MAX_TRANSFER;
	xfer &= ~(uint64_t)(bs - 1);

	uint32_t nq = 1;
	if (virtio_offers(vd, VW_BLK_F_MQ)) {
		nq = virtio_le16(c + VW_BLK_CFG_NUM_QUEUES);
		if (!nq)
			nq = 1;
	}
	if (vd->h->max_vqs && nq > vd->h->max_vqs)
		nq = vd->h->max_vqs;
	if (vd->max_queues && nq > vd->max_queues)
		nq = vd->max_queues;
	if (nq > BLK_MAX_QUEUES)
		nq = BLK_MAX_QUEUES;
	vd->max_queues = nq;

	memset(L, 0, sizeof(*L));
	L->capacity = sectors * PVIO_SECTOR_SIZE;
	L->block_size = bs;
	L->physical_block_size = pbs;
	L->max_transfer = (uint32_t)xfer;
	L->max_segments = segs;
	L->max_segment_size = segsz;
	L->dma_align = 1;
	L->max_queues = nq;
	L->queue_size = vd->qsize;
	L->read_only = virtio_offers(vd, VW_BLK_F_RO);
	L->flush = virtio_offers(vd, VW_BLK_F_FLUSH);
	if (virtio_offers(vd, VW_BLK_F_DISCARD)) {
		uint64_t m = virtio_le32(c + VW_BLK_CFG_MAX_DISCARD_SECTORS);
		uint64_t g = virtio_le32(c + VW_BLK_CFG_DISCARD_ALIGN);
		if (!m)
			m = UINT32_MAX;
		m = (m * PVIO_SECTOR_SIZE) & ~(uint64_t)(bs - 1);
		g *= PVIO_SECTOR_SIZE;
		if (g < bs || g > UINT32_MAX || !pow2(g))
			g = bs;
		L->discard = m != 0;
		L->max_discard = m;
		L->discard_granularity = (uint32_t)g;
	}
	if (virtio_offers(vd, VW_BLK_F_WRITE_ZEROES)) {
		uint64_t m = virtio_le32(c + VW_BLK_CFG_MAX_WZ_SECTORS);
		if (!m)
			m = UINT32_MAX;
		m = (m * PVIO_SECTOR_SIZE) & ~(uint64_t)(bs - 1);
		L->write_zeroes = m != 0;
		L->max_write_zeroes = m;
	}

	struct pvio_dev_info *in = &vd->dev->info;
	in->offered |= norm_blk(vd->offered) |
		       (nq > 1 ? PVIO_F_MULTIQUEUE : 0);
	in->max_segments = L->max_segments;
	in->max_transfer = L->max_transfer;
	in->max_segment_size = L->max_segment_size;
	return 0;
}

static int blk_layout(struct virtio_dev *vd, const struct pvio_dev_config *cfg)
{
	unsigned nq = cfg->num_queues;
	int r = virtio_layout_alloc(vd, nq, nq);
	if (r < 0)
		return r;
	uint32_t ind = vd->dev->limits.blk.max_segments + 2u;
	if (ind < 3)
		ind = 3;
	for (unsigned i = 0; i < nq; i++) {
		vd->vq_num[i] = (uint16_t)i;
		vd->vq_ind[i] = (uint16_t)ind;
		vd->vq_irq[i] = i;
		vd->irq_vqs[i][0] = (uint16_t)i;
	}
	return 0;
}

static void blk_fini(struct virtio_dev *vd, bool leak)
{
	struct vblk *b = vd->cls_priv;
	pvio_ctx *ctx = vd->dev->ctx;
	if (!b)
		return;
	if (!leak)
		pvio_dma_free(ctx, b->mem);
	pvio_free(ctx, b->busy_mem);
	pvio_free(ctx, b->q);
	pvio_free(ctx, b);
	vd->cls_priv = NULL;
}

static int blk_setup(struct virtio_dev *vd, const struct pvio_dev_config *cfg)
{
	pvio_ctx *ctx = vd->dev->ctx;
	struct vblk *b = pvio_zalloc(ctx, sizeof(*b));
	if (!b)
		return pvio_set_error(ctx, ENOMEM, "out of memory");
	vd->cls_priv = b;
	b->max_tags = cfg->max_tags;
	b->nq = vd->nvq;
	size_t per_q = ((size_t)b->max_tags + 1) * SLOT;
	b->q = pvio_zalloc(ctx, b->nq * sizeof(*b->q));
	b->busy_mem = pvio_zalloc(ctx, b->nq * ((size_t)b->max_tags + 1));
	b->mem = pvio_dma_alloc(ctx, per_q * b->nq, 64);
	if (!b->q || !b->busy_mem || !b->mem)
		return pvio_set_error(ctx, ENOMEM,
				      "cannot allocate block request slots: %s",
				      pvio_errmsg(ctx));
	for (unsigned i = 0; i < b->nq; i++) {
		struct vblk_q *q = &b->q[i];
		q->slot = (uint8_t *)b->mem + i * per_q;
		q->busy = b->busy_mem + i * ((size_t)b->max_tags + 1);
		if (pvio_dma_translate(ctx, q->slot, per_q, &q->slot_addr) < 0)
			return pvio_set_error(ctx, EFAULT, "request slots outside "
					      "DMA memory");
	}
	return 0;
}

static void put_u8(uint8_t *p, uint8_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

static void write_hdr(uint8_t *s, uint32_t type, uint64_t sector)
{
	pvio_write32(s + SLOT_HDR, type);
	pvio_write32(s + SLOT_HDR + 4, 0);
	pvio_write64(s + SLOT_HDR + 8, sector);
	put_u8(s + SLOT_STATUS, 0xff);
}

/* Place one request; tag may be the internal one (max_tags). */
static int blk_add(struct virtio_dev *vd, unsigned q, uint32_t tag,
		   uint32_t type, uint64_t sector, const struct virtio_sg *data,
		   unsigned ndata, const struct virtio_sg *range)
{
	struct vblk *b = vd->cls_priv;
	struct vblk_q *bq = &b->q[q];
	uint8_t *s = bq->slot + (size_t)tag * SLOT;
	uint64_t sa = bq->slot_addr + (uint64_t)tag * SLOT;
	struct virtio_sg sg[BLK_MAX_SEGS + 3];
	unsigned n = 0;

	write_hdr(s, type, sector);
	sg[n++] = (struct virtio_sg){ sa + SLOT_HDR, 16, 0 };
	if (range)
		sg[n++] = *range;
	for (unsigned i = 0; i < ndata; i++)
		sg[n++] = data[i];
	sg[n++] = (struct virtio_sg){ sa + SLOT_STATUS, 1, 1 };
	int r = virtio_vq_add(&vd->vq[q], sg, n, tag);
	if (r == -EIO)
		return virtio_vq_broken(vd, &vd->vq[q]);
	if (r == 0)
		bq->busy[tag] = 1;
	return r;
}

static int blk_enqueue(pvio_dev *dev, unsigned q, const struct pvio_blk_dreq *r)
{
	struct virtio_dev *vd = virtio_of(dev);
	struct vblk *b = vd->cls_priv;
	const struct pvio_blk_limits *L = &dev->limits.blk;
	int e = virtio_dev_check(vd, false);
	if (e < 0)
		return e;
	if (q >= b->nq || r->tag >= b->max_tags || b->q[q].busy[r->tag] ||
	    r->fua)
		return -EINVAL;
	/* byte range: sector-aligned and inside the disk (overflow-safe) */
	if ((r->offset | r->len) & (L->block_size - 1) ||
	    r->offset > L->capacity || r->len > L->capacity - r->offset)
		return -EINVAL;
	uint64_t sector = r->offset / PVIO_SECTOR_SIZE;

	switch (r->op) {
	case PVIO_BLK_OP_READ:
	case PVIO_BLK_OP_WRITE: {
		bool wr = r->op == PVIO_BLK_OP_WRITE;
		if (wr && L->read_only)
			return -EROFS;
		if (!r->nseg || r->nseg > L->max_segments || !r->len ||
		    r->len > L->max_transfer)
			return -EINVAL;
		struct virtio_sg data[BLK_MAX_SEGS];
		uint64_t sum = 0;
		for (unsigned i = 0; i < r->nseg; i++) {
			const struct pvio_dseg *d = &r->seg[i];
			if (!d->len || d->len > L->max_segment_size)
				return -EINVAL;
			sum += d->len;
			data[i] = (struct virtio_sg){ d->dev_addr, d->len, !wr };
		}
		if (sum != r->len)
			return -EINVAL;
		return blk_add(vd, q, r->tag, wr ? VW_BLK_T_OUT : VW_BLK_T_IN,
			       sector, data, r->nseg, NULL);
	}
	case PVIO_BLK_OP_FLUSH:
		if (!L->flush)
			return -EOPNOTSUPP;
		if (r->offset || r->len || r->nseg)
			return -EINVAL;
		return blk_add(vd, q, r->tag, VW_BLK_T_FLUSH, 0, NULL, 0, NULL);
	case PVIO_BLK_OP_DISCARD:
	case PVIO_BLK_OP_WRITE_ZEROES: {
		bool dis = r->op == PVIO_BLK_OP_DISCARD;
		if (dis ? !L->discard : !L->write_zeroes)
			return -EOPNOTSUPP;
		if (L->read_only)
			return -EROFS;
		if (!r->len || r->nseg ||
		    r->len > (dis ? L->max_discard : L->max_write_zeroes))
			return -EINVAL;
		struct vblk_q *bq = &b->q[q];
		uint8_t *s = bq->slot + (size_t)r->tag * SLOT;
		pvio_write64(s + SLOT_RANGE, sector);
		pvio_write32(s + SLOT_RANGE + 8,
			     (uint32_t)(r->len / PVIO_SECTOR_SIZE));
		pvio_write32(s + SLOT_RANGE + 12, 0);
		struct virtio_sg range = {
			bq->slot_addr + (uint64_t)r->tag * SLOT + SLOT_RANGE, 16, 0 };
		return blk_add(vd, q, r->tag,
			       dis ? VW_BLK_T_DISCARD : VW_BLK_T_WRITE_ZEROES,
			       sector, NULL, 0, &range);
	}
	default:
		return -EINVAL;
	}
}

static int blk_kick(pvio_dev *dev, unsigned q)
{
	struct virtio_dev *vd = virtio_of(dev);
	struct vblk *b = vd->cls_priv;
	int e = virtio_dev_check(vd, false);
	if (e < 0)
		return e;
	if (q >= b->nq)
		return -EINVAL;
	virtio_kick_vq(vd, q, q);
	return 0;
}

static int32_t blk_status(struct vblk_q *bq, uint32_t tag)
{
	uint8_t st = __atomic_load_n(bq->slot + (size_t)tag * SLOT + SLOT_STATUS,
				     __ATOMIC_RELAXED);
	switch (st) {
	case VW_BLK_S_OK:
		return 0;
	case VW_BLK_S_UNSUPP:
		return -EOPNOTSUPP;
	default: /* IOERR, not written (0xff), or nonsense */
		return -EIO;
	}
}

static int blk_reap(pvio_dev *dev, unsigned q, struct pvio_blk_dcomp *out,
		    unsigned max)
{
	struct virtio_dev *vd = virtio_of(dev);
	struct vblk *b = vd->cls_priv;
	int e = virtio_dev_check(vd, true);
	if (e < 0)
		return e;
	if (q >= b->nq)
		return -EINVAL;
	struct vblk_q *bq = &b->q[q];
	unsigned n = 0;
	while (n < max) {
		uint32_t tag, len;
		int r = virtio_vq_get(&vd->vq[q], &tag, &len);
		if (r == 0)
			break;
		if (r < 0) {
			virtio_vq_broken(vd, &vd->vq[q]);
			return n ? (int)n : -EIO;
		}
		/* tags come from private state; only ours can appear */
		bq->busy[tag] = 0;
		if (tag >= b->max_tags)
			continue; /* the internal request (never during I/O) */
		out[n].tag = tag;
		out[n].status = blk_status(bq, tag);
		n++;
	}
	return virtio_reaped(vd, n);
}

/* GET_ID on queue 0 with the internal tag: the device's serial, for info. */
static int blk_start(struct virtio_dev *vd, const struct pvio_dev_config *cfg)
{
	struct vblk *b = vd->cls_priv;
	pvio_ctx *ctx = vd->dev->ctx;
	uint32_t tag = b->max_tags;
	struct vblk_q *bq = &b->q[0];
	uint64_t sa = bq->slot_addr + (uint64_t)tag * SLOT;
	struct virtio_sg id = { sa + SLOT_ID, VW_BLK_ID_BYTES, 1 };
	(void)cfg;

	memset(bq->slot + (size_t)tag * SLOT + SLOT_ID, 0, VW_BLK_ID_BYTES);
	int r = blk_add(vd, 0, tag, VW_BLK_T_GET_ID, 0, &id, 1, NULL);
	if (r < 0)
		return pvio_set_error(ctx, -r, "%s: cannot queue GET_ID: %s",
				      vd->address, pvio_strerror(r));
	virtio_kick_vq(vd, 0, 0);
	uint32_t t, len;
	r = virtio_wait_one(vd, 0, &t, &len, pvio_deadline(ctx));
	if (r == -ETIMEDOUT) {
		pvio_dev_set_broken(vd->dev, "no answer to GET_ID within %u ms",
				    pvio_timeout_ms(ctx));
		return pvio_set_error(ctx, ETIMEDOUT,
				      "%s: the device did not answer its first "
				      "request (GET_ID) within %u ms",
				      vd->address, pvio_timeout_ms(ctx));
	}
	if (r < 0)
		return pvio_set_error(ctx, -r, "%s: GET_ID failed: %s",
				      vd->address, vd->dev->reason);
	bq->busy[tag] = 0;
	if (blk_status(bq, tag) == 0) {
		/* one copy out of shared memory, then only printable ASCII */
		char raw[VW_BLK_ID_BYTES], idstr[VW_BLK_ID_BYTES + 1];
		memcpy(raw, bq->slot + (size_t)tag * SLOT + SLOT_ID, sizeof(raw));
		unsigned k = 0;
		for (; k < VW_BLK_ID_BYTES && raw[k]; k++)
			idstr[k] = raw[k] >= 0x20 && raw[k] < 0x7f ? raw[k] : '?';
		idstr[k] = 0;
		size_t nl = pvio_strlen(vd->dev->info.native);
		pvio_snprintf(vd->dev->info.native + nl,
			      sizeof(vd->dev->info.native) - nl, " id=%s", idstr);
	}
	vd->dev->info.features |= norm_blk(vd->features) |
				  (vd->nvq > 1 ? PVIO_F_MULTIQUEUE : 0);
	return 0;
}

static void blk_config_changed(struct virtio_dev *vd)
{
	uint8_t c[8];
	if (virtio_config(vd, VW_BLK_CFG_CAPACITY, c, sizeof(c)) < 0)
		return;
	uint64_t sectors = virtio_le64(c);
	if (sectors > UINT64_MAX / PVIO_SECTOR_SIZE)
		return;
	uint64_t cap = sectors * PVIO_SECTOR_SIZE;
	if (cap != vd->dev->limits.blk.capacity) {
		vd->dev->limits.blk.capacity = cap;
		pvio_dev_push_event(vd->dev, PVIO_EVENT_CONFIG_CHANGE, 0);
	}
}

static const struct pvio_blk_ops blk_ops = {
	.enqueue = blk_enqueue,
	.kick = blk_kick,
	.reap = blk_reap,
};

static const struct pvio_dev_ops blk_dev_ops = {
	.configure = virtio_op_configure,
	.quiesce = virtio_op_quiesce,
	.close = virtio_op_close,
	.service = virtio_op_service,
	.event_fd = virtio_op_event_fd,
	.queue_fd = virtio_op_queue_fd,
	.queue_arm = virtio_op_queue_arm,
	.queue_ack = virtio_op_queue_ack,
	.queue_disarm = virtio_op_queue_disarm,
	.blk = &blk_ops,
};

const struct virtio_class virtio_blk_class = {
	.name = "virtio-blk",
	.dev_ops = &blk_dev_ops,
	.probe = blk_probe,
	.features = blk_class_features,
	.layout = blk_layout,
	.setup = blk_setup,
	.start = blk_start,
	.config_changed = blk_config_changed,
	.fini = blk_fini,
};
