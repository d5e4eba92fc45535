/* SPDX-License-Identifier: MIT */
/*
 * backends/virtio/ring_packed.c - the driver side of packed virtqueues.
 *
 * Buffer ids come from a private free list; the private per-id state keeps
 * how many ring slots each buffer took, so the used position advances by
 * the driver's own count, never by anything the device wrote.
 *
 * Batching: the head descriptor flags of the first buffer added since the
 * last publish are held back.  The device reads descriptors strictly in
 * ring order, so it cannot see any later buffer before that one; publish
 * issues one write barrier and stores the held flags, making the whole
 * batch visible at once.
 *
 * Notification suppression both ways uses the event suppression areas
 * (ENABLE / DISABLE, and DESC with EVENT_IDX).  With IN_ORDER the device
 * may write one used descriptor for a batch, carrying the id of the batch's
 * last buffer: the buffers added before it, in order, complete with it
 * (length 0 for all but that last one).
 *
 * A slot at the used position that is marked used with the wrong wrap
 * counter cannot come from a working device (the driver made it available
 * with the current counter): the queue is broken.
 *
 * Ring positions are counted modulo 2Q as slot + (wrap ? 0 : Q), so
 * "which of two positions comes first" is unambiguous within one lap.
 */
#include "virtio.h"

#define NO_ID 0xffffu

static uint16_t avail_bits(uint8_t wrap)
{
	return wrap ? VW_PDESC_F_AVAIL : VW_PDESC_F_USED;
}

static uint32_t ring_pos(const struct virtio_vq *vq, uint16_t slot,
			 uint8_t wrap)
{
	return (uint32_t)slot + (wrap ? 0u : vq->size);
}

static uint32_t pos_diff(const struct virtio_vq *vq, uint32_t a, uint32_t b)
{
	uint32_t m = 2u * vq->size;
	return (a + m - b) % m;
}

static void advance(const struct virtio_vq *vq, uint16_t *slot, uint8_t *wrap,
		    unsigned by)
{
	unsigned s = *slot + by;
	while (s >= vq->size) {
		s -= vq->size;
		*wrap ^= 1;
	}
	*slot = (uint16_t)s;
}

int virtio_packed_init(struct virtio_vq *vq)
{
	for (unsigned i = 0; i < vq->size; i++)
		vq->link[i] = i + 1u < vq->size ? (uint16_t)(i + 1u) : NO_ID;
	vq->free_head = 0;
	vq->num_free = vq->size;
	vq->avail_wrap = 1;
	vq->used_wrap = 1;
	virtio_packed_disarm(vq);
	return 0;
}

static void write_pdesc(uint8_t *d, uint64_t addr, uint32_t len, uint16_t id)
{
	pvio_write64(d, addr);
	pvio_write32(d + 8, len);
	pvio_write16(d + 12, id);
}

int virtio_packed_add(struct virtio_vq *vq, const struct virtio_sg *sg,
		      unsigned n, uint32_t token)
{
	uint32_t wlen;
	if (virtio_vq_check_sg(sg, n, &wlen) < 0)
		return -EINVAL;

	bool ind = vq->ind_max && n > 1 && n <= vq->ind_max;
	unsigned need = ind ? 1 : n;
	if (need > vq->size)
		return -EINVAL;
	if (need > vq->num_free || vq->free_head == NO_ID)
		return -EAGAIN;

	uint16_t id = vq->free_head;
	uint16_t slot = vq->next_avail;
	uint8_t wrap = vq->avail_wrap;
	uint16_t head_slot = slot, head_flags;
	uint8_t head_wrap = wrap;

	if (ind) {
		size_t toff = (size_t)id * vq->ind_max * 16;
		uint8_t *t = vq->ind + toff;
		for (unsigned i = 0; i < n; i++) {
			/* inside a table only WRITE means anything */
			write_pdesc(t + 16 * i, sg[i].addr, sg[i].len, 0);
			pvio_write16(t + 16 * i + 14,
				     sg[i].write ? VW_DESC_F_WRITE : 0);
		}
		write_pdesc(vq->desc + 16u * slot, vq->ind_addr + toff,
			    n * 16u, id);
		head_flags = VW_DESC_F_INDIRECT | avail_bits(wrap);
		advance(vq, &slot, &wrap, 1);
	} else {
		head_flags = 0;
		for (unsigned k = 0; k < n; k++) {
			uint16_t f = avail_bits(wrap);
			if (sg[k].write)
				f |= VW_DESC_F_WRITE;
			if (k + 1 < n)
				f |= VW_DESC_F_NEXT;
			write_pdesc(vq->desc + 16u * slot, sg[k].addr, sg[k].len,
				    id);
			if (k == 0)
				head_flags = f;
			else
				pvio_write16(vq->desc + 16u * slot + 14, f);
			advance(vq, &slot, &wrap, 1);
		}
	}
	vq->next_avail = slot;
	vq->avail_wrap = wrap;

	if (!vq->held) {
		vq->held = 1;
		vq->held_slot = head_slot;
		vq->held_wrap = head_wrap;
		vq->held_flags = head_flags;
	} else {
		/* invisible until the held head before it is published */
		pvio_write16(vq->desc + 16u * head_slot + 14, head_flags);
	}

	vq->free_head = vq->link[id];
	vq->num_free = (uint16_t)(vq->num_free - need);
	struct virtio_vq_buf *b = &vq->buf[id];
	b->token = token;
	b->wlen = wlen;
	b->ndesc = (uint16_t)need;
	b->live = 1;
	b->seq = vq->added++;
	if (vq->order) {
		vq->order[(vq->order_head + vq->order_n) % vq->size] = id;
		vq->order_n++;
	}
	vq->nout++;
	vq->npend++;
	vq->num_added += need;
	return 0;
}

int virtio_packed_publish(struct virtio_vq *vq)
{
	if (!vq->held)
		return VIRTIO_KICK_NONE;
	/* every descriptor of the batch before the first head's flags */
	pvio_wmb();
	pvio_write16(vq->desc + 16u * vq->held_slot + 14, vq->held_flags);
	vq->held = 0;
	vq->npend = 0;
	/* the flags store before the load of the device's wish */
	pvio_mb();

	/* one 32-bit load: off_wrap and flags of the same moment */
	uint32_t ev = pvio_read32(vq->dev);
	uint16_t off_wrap = (uint16_t)(ev & 0xffffu);
	unsigned mode = (ev >> 16) & 3u;
	bool need;
	if (mode == VW_PEVENT_DESC && (vq->flags & VIRTIO_VQ_EVENT_IDX)) {
		uint16_t event = off_wrap & 0x7fffu;
		if ((unsigned)(off_wrap >> VW_PEVENT_WRAP_SHIFT) != vq->avail_wrap)
			event = (uint16_t)(event - vq->size);
		uint16_t old = (uint16_t)(vq->next_avail - vq->num_added);
		need = vq->num_added >= 0xffffu ||
		       virtio_need_event(event, vq->next_avail, old);
	} else {
		need = mode != VW_PEVENT_DISABLE;
	}
	vq->num_added = 0;
	return need ? VIRTIO_KICK_NOTIFY : VIRTIO_KICK_SUPPRESSED;
}

/* Complete buffer id at the used position; len is clamped. */
static void complete(struct virtio_vq *vq, uint16_t id, uint32_t len)
{
	struct virtio_vq_buf *b = &vq->buf[id];
	if (len > b->wlen) {
		len = b->wlen;
		vq->len_clamped++;
	}
	b->live = 0;
	vq->nout--;
	advance(vq, &vq->next_used, &vq->used_wrap, b->ndesc);
	virtio_vq_stash(vq, id, len);
}

/* Take every used descriptor the device has written into the stash. */
int virtio_packed_pull(struct virtio_vq *vq)
{
	unsigned got = 0;

	while (!vq->broken && vq->nout > vq->npend) {
		const uint8_t *d = vq->desc + 16u * vq->next_used;
		uint16_t f = pvio_read16(d + 14);
		unsigned a = !!(f & VW_PDESC_F_AVAIL), u = !!(f & VW_PDESC_F_USED);
		if (a != u)
			break; /* still available: not used yet */
		if (u != vq->used_wrap)
			/* the slot holds an outstanding buffer, made available
			 * with this lap's counter: no device writes this */
			return virtio_vq_fail(vq,
					      "used descriptor at slot %u carries "
					      "wrap counter %u, expected %u",
					      vq->next_used, u, vq->used_wrap);
		/* the flags before the id and length they cover */
		pvio_rmb();
		uint16_t id = pvio_read16(d + 12);
		uint32_t len = pvio_read32(d + 8);
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
		if (!vq->order) {
			complete(vq, id, len);
			got++;
			continue;
		}
		/* in order: everything added up to id completes now */
		for (;;) {
			uint16_t first = vq->order[vq->order_head];
			vq->order_head = (uint16_t)((vq->order_head + 1u) % vq->size);
			vq->order_n--;
			complete(vq, first, first == id ? len : 0);
			got++;
			if (first == id)
				break;
		}
	}
	return (int)got;
}

int virtio_packed_arm(struct virtio_vq *vq)
{
	vq->armed = 1;
	if (vq->flags & VIRTIO_VQ_EVENT_IDX) {
		pvio_write16(vq->drv, (uint16_t)(vq->next_used |
						 vq->used_wrap << VW_PEVENT_WRAP_SHIFT));
		pvio_wmb();
		pvio_write16(vq->drv + 2, VW_PEVENT_DESC);
	} else {
		pvio_write16(vq->drv + 2, VW_PEVENT_ENABLE);
	}
	pvio_mb();
	if (vq->stash_n)
		return 1;
	if (vq->nout == vq->npend)
		return 0;
	uint16_t f = pvio_read16(vq->desc + 16u * vq->next_used + 14);
	unsigned a = !!(f & VW_PDESC_F_AVAIL), u = !!(f & VW_PDESC_F_USED);
	return a == u && u == vq->used_wrap;
}

void virtio_packed_disarm(struct virtio_vq *vq)
{
	vq->armed = 0;
	pvio_write16(vq->drv + 2, VW_PEVENT_DISABLE);
}

int virtio_packed_drained(struct virtio_vq *vq, uint32_t base)
{
	virtio_packed_pull(vq);
	if (vq->broken)
		return -EIO;
	/* bits 0-14 the next available slot the device would take, bit 15
	 * its wrap counter; newer back ends (vhost-user.rst since QEMU 8.2)
	 * also put the next used slot in bits 16-30 and its wrap counter in
	 * bit 31, older ones leave them 0 */
	uint16_t bslot = base & 0x7fffu;
	uint8_t bwrap = (base >> 15) & 1u;
	uint16_t uslot = (base >> 16) & 0x7fffu;
	uint8_t uwrap = (base >> 31) & 1u;
	if (bslot >= vq->size || uslot >= vq->size)
		return virtio_vq_fail(vq, "stop position 0x%x is not a ring "
				      "position", base);
	uint32_t used = ring_pos(vq, vq->next_used, vq->used_wrap);
	uint32_t pub = vq->held ? ring_pos(vq, vq->held_slot, vq->held_wrap)
				: ring_pos(vq, vq->next_avail, vq->avail_wrap);
	uint32_t b = ring_pos(vq, bslot, bwrap);
	if (pos_diff(vq, b, used) > pos_diff(vq, pub, used))
		return virtio_vq_fail(vq,
				      "stop position 0x%x outside the published "
				      "window",
				      base);
	if (base >> 16) {
		/* the device's used position: between what pvio has reaped
		 * and what the device took */
		uint32_t u = ring_pos(vq, uslot, uwrap);
		if (pos_diff(vq, u, used) > pos_diff(vq, b, used))
			return virtio_vq_fail(vq,
					      "stop position 0x%x: used position "
					      "beyond the available one",
					      base);
	}
	return b == used;
}
