/* SPDX-License-Identifier: MIT */
/*
 * backends/virtio/ring_split.c - the driver side of split virtqueues.
 *
 * Descriptors come from a private free list (vq->link), never from the
 * "next" fields in shared memory, which the device could rewrite.  Chains
 * longer than one descriptor go into a per-head indirect table when
 * INDIRECT_DESC is negotiated.  Adding writes descriptors and avail->ring;
 * publishing stores avail->idx once per batch and decides on the kick with
 * EVENT_IDX (the num_added window, as Linux does) or NO_NOTIFY.
 *
 * Everything read from the used ring is read once and checked: used->idx
 * may not run ahead by more than the published outstanding buffers (which
 * also bounds the work per poll by the queue size), an id must be < Q and
 * an outstanding, published head, and len is clamped to the buffer's
 * writable size.  Anything else marks the queue broken.
 */
#include "virtio.h"

#define IDX_MASK(vq) ((uint16_t)((vq)->size - 1))

static void write_desc(uint8_t *d, uint64_t addr, uint32_t len,
		       uint16_t flags, uint16_t next)
{
	pvio_write64(d, addr);
	pvio_write32(d + 8, len);
	pvio_write16(d + 12, flags);
	pvio_write16(d + 14, next);
}

int virtio_split_init(struct virtio_vq *vq)
{
	for (unsigned i = 0; i < vq->size; i++)
		vq->link[i] = (uint16_t)(i + 1u);
	vq->free_head = 0;
	vq->num_free = vq->size;
	/* start with used-buffer notifications off (queue_arm turns them on) */
	virtio_split_disarm(vq);
	return 0;
}

int virtio_split_add(struct virtio_vq *vq, const struct virtio_sg *sg,
		     unsigned n, uint32_t token)
{
	uint32_t wlen;
	if (virtio_vq_check_sg(sg, n, &wlen) < 0)
		return -EINVAL;

	bool ind = vq->ind_max && n > 1 && n <= vq->ind_max;
	unsigned need = ind ? 1 : n;
	if (need > vq->size)
		return -EINVAL; /* can never fit */
	if (need > vq->num_free)
		return -EAGAIN;

	uint16_t head = vq->free_head, last;
	if (ind) {
		size_t toff = (size_t)head * vq->ind_max * 16;
		uint8_t *t = vq->ind + toff;
		for (unsigned i = 0; i < n; i++) {
			uint16_t f = sg[i].write ? VW_DESC_F_WRITE : 0;
			if (i + 1 < n)
				f |= VW_DESC_F_NEXT;
			write_desc(t + 16 * i, sg[i].addr, sg[i].len, f,
				   i + 1 < n ? (uint16_t)(i + 1) : 0);
		}
		write_desc(vq->desc + 16u * head, vq->ind_addr + toff, n * 16u,
			   VW_DESC_F_INDIRECT, 0);
		last = head;
		vq->free_head = vq->link[head];
	} else {
		uint16_t i = head;
		last = head;
		for (unsigned k = 0; k < n; k++) {
			uint16_t f = sg[k].write ? VW_DESC_F_WRITE : 0;
			uint16_t next = 0;
			if (k + 1 < n) {
				f |= VW_DESC_F_NEXT;
				next = vq->link[i];
			}
			write_desc(vq->desc + 16u * i, sg[k].addr, sg[k].len, f,
				   next);
			last = i;
			i = vq->link[i];
		}
		vq->free_head = i;
	}
	vq->num_free = (uint16_t)(vq->num_free - need);

	struct virtio_vq_buf *b = &vq->buf[head];
	b->token = token;
	b->wlen = wlen;
	b->ndesc = (uint16_t)need;
	b->last = last;
	b->live = 1;
	b->seq = vq->added++;

	pvio_write16(vq->drv + VW_AVAIL_RING(vq->avail_idx & IDX_MASK(vq)), head);
	vq->avail_idx++;
	vq->nout++;
	vq->npend++;
	vq->num_added++;
	return 0;
}

int virtio_split_publish(struct virtio_vq *vq)
{
	if (!vq->npend)
		return VIRTIO_KICK_NONE;
	/* descriptors and ring entries before the index */
	pvio_wmb();
	pvio_write16(vq->drv + VW_AVAIL_IDX, vq->avail_idx);
	vq->npend = 0;
	/* the index store before the load of the device's wish */
	pvio_mb();

	bool need;
	if (vq->flags & VIRTIO_VQ_EVENT_IDX) {
		uint16_t ev = pvio_read16(vq->dev + VW_USED_AVAIL_EVENT(vq->size));
		uint16_t old = (uint16_t)(vq->avail_idx - vq->num_added);
		need = vq->num_added >= 0xffffu ||
		       virtio_need_event(ev, vq->avail_idx, old);
	} else {
		need = !(pvio_read16(vq->dev + VW_USED_FLAGS) &
			 VW_USED_F_NO_NOTIFY);
	}
	vq->num_added = 0;
	return need ? VIRTIO_KICK_NOTIFY : VIRTIO_KICK_SUPPRESSED;
}

/* Take every used entry the device has written into the stash. */
int virtio_split_pull(struct virtio_vq *vq)
{
	uint16_t published = (uint16_t)(vq->nout - vq->npend);
	if (!published || vq->broken)
		return 0;

	uint16_t idx = pvio_read16(vq->dev + VW_USED_IDX);
	uint16_t n = (uint16_t)(idx - vq->last_used);
	if (!n)
		return 0;
	if (n > published)
		return virtio_vq_fail(vq,
				      "used index jumped from %u to %u with only "
				      "%u buffers outstanding",
				      vq->last_used, idx, published);
	/* the index before the entries it covers */
	pvio_rmb();

	unsigned got = 0;
	for (; got < n; got++) {
		const uint8_t *e =
			vq->dev + VW_USED_RING(vq->last_used & IDX_MASK(vq));
		uint32_t id = pvio_read32(e);
		uint32_t len = pvio_read32(e + 4);
		if (id >= vq->size)
			return virtio_vq_fail(vq,
					      "used id %u out of range (queue "
					      "size %u)",
					      id, vq->size);
		struct virtio_vq_buf *b = &vq->buf[id];
		if (!b->live)
			return virtio_vq_fail(vq,
					      "used id %u is not an outstanding "
					      "buffer",
					      id);
		if ((uint32_t)(vq->added - b->seq) <= vq->npend)
			return virtio_vq_fail(vq,
					      "used id %u was never made "
					      "available",
					      id);
		if (len > b->wlen) {
			len = b->wlen;
			vq->len_clamped++;
		}
		b->live = 0;
		vq->nout--;
		vq->last_used++;
		virtio_vq_stash(vq, (uint16_t)id, len);
	}
	return (int)got;
}

int virtio_split_arm(struct virtio_vq *vq)
{
	vq->armed = 1;
	if (vq->flags & VIRTIO_VQ_EVENT_IDX)
		pvio_write16(vq->drv + VW_AVAIL_USED_EVENT(vq->size),
			     vq->last_used);
	else
		pvio_write16(vq->drv + VW_AVAIL_FLAGS, 0);
	/* the request before the re-check, or a completion in between is
	 * missed (the lost-interrupt race) */
	pvio_mb();
	if (vq->stash_n)
		return 1;
	if (vq->nout == vq->npend)
		return 0;
	return pvio_read16(vq->dev + VW_USED_IDX) != vq->last_used;
}

void virtio_split_disarm(struct virtio_vq *vq)
{
	vq->armed = 0;
	if (vq->flags & VIRTIO_VQ_EVENT_IDX)
		/* as far away as the 16-bit index allows: at most one
		 * spurious notification per 32768 completions */
		pvio_write16(vq->drv + VW_AVAIL_USED_EVENT(vq->size),
			     (uint16_t)(vq->last_used + 0x8000u));
	else
		pvio_write16(vq->drv + VW_AVAIL_FLAGS, VW_AVAIL_F_NO_INTERRUPT);
}

int virtio_split_drained(struct virtio_vq *vq, uint32_t base)
{
	virtio_split_pull(vq);
	if (vq->broken)
		return -EIO;
	if (base > 0xffffu)
		return virtio_vq_fail(vq, "stop position %u is not a 16-bit index",
				      base);
	uint16_t pub = (uint16_t)(vq->avail_idx - vq->npend);
	/* the device cannot have taken what was not published, nor fewer
	 * than it completed */
	if ((uint16_t)(base - vq->last_used) > (uint16_t)(pub - vq->last_used))
		return virtio_vq_fail(vq,
				      "stop position %u outside the published "
				      "window [%u, %u]",
				      base, vq->last_used, pub);
	return (uint16_t)base == vq->last_used;
}
