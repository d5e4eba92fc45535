/* SPDX-License-Identifier: MIT */
/*
 * backends/virtio/ring.c - what the split and packed virtqueue drivers
 * share: memory layout and allocation, the per-queue private state, the
 * completion stash, and dispatch to ring_split.c / ring_packed.c.
 *
 * Completions go through a private "stash" of buffer ids: the ring code
 * takes used entries off the ring in batches (each shared field read once,
 * validated), marks the buffers no longer outstanding so a second
 * completion of the same id is caught, and only frees their descriptors
 * when virtio_vq_get() hands them back.  The same stash lets quiesce take
 * everything the device finished without losing it for reap.
 */
#include "virtio.h"

#define RING_ALIGN 4096u

static size_t align_up(size_t v, size_t a)
{
	return (v + a - 1) & ~(a - 1);
}

void virtio_vq_layout(uint16_t size, bool packed, struct virtio_vq_layout *l)
{
	size_t q = size;
	if (packed) {
		/* descriptors, then the two 4-byte event areas on separate
		 * cache lines (the driver writes one, the device the other) */
		l->drv_off = 16 * q;
		l->dev_off = 16 * q + 64;
		l->bytes = align_up(l->dev_off + 4, 64);
	} else {
		/* the legacy contiguous layout (vring_size with 4096
		 * alignment), which every transport accepts */
		l->drv_off = 16 * q;
		l->dev_off = align_up(16 * q + VW_AVAIL_SIZE(q), RING_ALIGN);
		l->bytes = l->dev_off + VW_USED_SIZE(q);
	}
}

int virtio_vq_fail(struct virtio_vq *vq, const char *fmt, ...)
{
	va_list ap;
	if (!vq->broken) {
		va_start(ap, fmt);
		pvio_vsnprintf(vq->why, sizeof(vq->why), fmt, ap);
		va_end(ap);
		vq->broken = 1;
	}
	return -EIO;
}

int virtio_vq_check_sg(const struct virtio_sg *sg, unsigned n, uint32_t *wlen)
{
	uint64_t total = 0, w = 0;
	bool seen_write = false;

	if (!n)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++) {
		if (!sg[i].len)
			return -EINVAL;
		if (sg[i].write) {
			seen_write = true;
			w += sg[i].len;
		} else if (seen_write) {
			return -EINVAL; /* readable after writable */
		}
		total += sg[i].len;
	}
	/* a chain may not describe more than 2^32 - 1 bytes */
	if (total > UINT32_MAX)
		return -EINVAL;
	*wlen = (uint32_t)w;
	return 0;
}

int virtio_vq_init(pvio_ctx *ctx, struct virtio_vq *vq, unsigned index,
		   uint16_t size, uint32_t flags, uint16_t ind_max)
{
	bool packed = flags & VIRTIO_VQ_PACKED;
	struct virtio_vq_layout l;

	memset(vq, 0, sizeof(*vq));
	if (!size || size > VW_QUEUE_MAX || (!packed && (size & (size - 1))))
		return pvio_set_error(ctx, EINVAL,
				      "virtqueue %u: bad size %u (split rings need "
				      "a power of two, at most 32768)",
				      index, size);
	if (!(flags & VIRTIO_VQ_INDIRECT) || ind_max < 2)
		ind_max = 0;
	if (!packed)
		flags &= ~(uint32_t)VIRTIO_VQ_IN_ORDER;
	vq->size = size;
	vq->index = (uint16_t)index;
	vq->flags = flags;
	vq->ind_max = ind_max;

	virtio_vq_layout(size, packed, &l);
	vq->ring_mem = pvio_dma_alloc(ctx, l.bytes, RING_ALIGN);
	if (!vq->ring_mem)
		goto nomem;
	vq->desc = vq->ring_mem;
	vq->drv = vq->desc + l.drv_off;
	vq->dev = vq->desc + l.dev_off;
	if (pvio_dma_translate(ctx, vq->desc, l.bytes, &vq->desc_addr) < 0)
		goto nomem;
	vq->drv_addr = vq->desc_addr + l.drv_off;
	vq->dev_addr = vq->desc_addr + l.dev_off;
	if (ind_max) {
		size_t tb = (size_t)size * ind_max * 16;
		vq->ind_mem = pvio_dma_alloc(ctx, tb, 64);
		if (!vq->ind_mem ||
		    pvio_dma_translate(ctx, vq->ind_mem, tb, &vq->ind_addr) < 0)
			goto nomem;
		vq->ind = vq->ind_mem;
	}
	vq->buf = pvio_zalloc(ctx, size * sizeof(*vq->buf));
	vq->link = pvio_zalloc(ctx, size * sizeof(*vq->link));
	vq->stash = pvio_zalloc(ctx, size * sizeof(*vq->stash));
	if (!vq->buf || !vq->link || !vq->stash)
		goto nomem;
	if (flags & VIRTIO_VQ_IN_ORDER) {
		vq->order = pvio_zalloc(ctx, size * sizeof(*vq->order));
		if (!vq->order)
			goto nomem;
	}
	if (packed)
		virtio_packed_init(vq);
	else
		virtio_split_init(vq);
	return 0;

nomem:
	virtio_vq_fini(ctx, vq, false);
	return pvio_set_error(ctx, ENOMEM,
			      "cannot allocate virtqueue %u (%u entries): %s",
			      index, size, pvio_errmsg(ctx));
}

void virtio_vq_fini(pvio_ctx *ctx, struct virtio_vq *vq, bool leak_shared)
{
	if (!leak_shared) {
		pvio_dma_free(ctx, vq->ring_mem);
		pvio_dma_free(ctx, vq->ind_mem);
	}
	pvio_free(ctx, vq->buf);
	pvio_free(ctx, vq->link);
	pvio_free(ctx, vq->order);
	pvio_free(ctx, vq->stash);
	vq->ring_mem = vq->ind_mem = NULL;
	vq->buf = NULL;
	vq->link = vq->order = NULL;
	vq->stash = NULL;
	vq->desc = vq->drv = vq->dev = vq->ind = NULL;
	vq->size = 0;
}

int virtio_vq_add(struct virtio_vq *vq, const struct virtio_sg *sg,
		  unsigned n, uint32_t token)
{
	if (vq->broken)
		return -EIO;
	if (vq->flags & VIRTIO_VQ_PACKED)
		return virtio_packed_add(vq, sg, n, token);
	return virtio_split_add(vq, sg, n, token);
}

int virtio_vq_publish(struct virtio_vq *vq)
{
	if (vq->flags & VIRTIO_VQ_PACKED)
		return virtio_packed_publish(vq);
	return virtio_split_publish(vq);
}

/* Give buffer id's ring space back (its completion was returned). */
static void release(struct virtio_vq *vq, uint16_t id)
{
	struct virtio_vq_buf *b = &vq->buf[id];
	if (vq->flags & VIRTIO_VQ_PACKED) {
		vq->link[id] = vq->free_head;
		vq->free_head = id;
	} else {
		vq->link[b->last] = vq->free_head;
		vq->free_head = id;
	}
	vq->num_free = (uint16_t)(vq->num_free + b->ndesc);
	b->ndesc = 0;
}

int virtio_vq_get(struct virtio_vq *vq, uint32_t *token, uint32_t *len)
{
	if (!vq->stash_n) {
		if (vq->broken)
			return -EIO;
		if (vq->flags & VIRTIO_VQ_PACKED)
			virtio_packed_pull(vq);
		else
			virtio_split_pull(vq);
		if (!vq->stash_n)
			return vq->broken ? -EIO : 0;
	}
	struct virtio_vq_done d = vq->stash[vq->stash_head];
	vq->stash_head = (uint16_t)((vq->stash_head + 1u) % vq->size);
	vq->stash_n--;
	uint16_t id = (uint16_t)d.id;
	*token = vq->buf[id].token;
	*len = d.len;
	release(vq, id);
	return 1;
}

int virtio_vq_arm(struct virtio_vq *vq)
{
	if (vq->broken)
		return 1; /* let the caller see the error */
	if (vq->flags & VIRTIO_VQ_PACKED)
		return virtio_packed_arm(vq);
	return virtio_split_arm(vq);
}

void virtio_vq_disarm(struct virtio_vq *vq)
{
	if (vq->flags & VIRTIO_VQ_PACKED)
		virtio_packed_disarm(vq);
	else
		virtio_split_disarm(vq);
}

uint32_t virtio_vq_notify_data(const struct virtio_vq *vq)
{
	uint32_t off, wrap;
	if (vq->flags & VIRTIO_VQ_PACKED) {
		off = vq->next_avail;
		wrap = vq->avail_wrap;
	} else {
		uint16_t pub = (uint16_t)(vq->avail_idx - vq->npend);
		off = pub & 0x7fffu;
		wrap = pub >> 15;
	}
	return vq->index | off << 16 | wrap << 31;
}

int virtio_vq_drained(struct virtio_vq *vq, uint32_t base)
{
	if (vq->flags & VIRTIO_VQ_PACKED)
		return virtio_packed_drained(vq, base);
	return virtio_split_drained(vq, base);
}
