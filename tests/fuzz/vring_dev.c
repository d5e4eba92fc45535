/* SPDX-License-Identifier: MIT */
/* tests/fuzz/vring_dev.c - a device's side of a virtqueue (see .h). */
#include "vring_dev.h"

#include <linux/virtio_ring.h>

#include <pvio/transport.h>

static uint16_t ld16(const uint8_t *p)
{
	uint16_t v;
	__atomic_load((const uint16_t *)(const void *)p, &v, __ATOMIC_ACQUIRE);
	return v;
}

static void st16(uint8_t *p, uint16_t v)
{
	__atomic_store((uint16_t *)(void *)p, &v, __ATOMIC_RELEASE);
}

void vdq_init(struct vdq *d, pvio_ctx *ctx, bool packed, bool event_idx,
	      uint16_t q, void *desc, void *drv, void *dev)
{
	memset(d, 0, sizeof(*d));
	d->ctx = ctx;
	d->packed = packed;
	d->event_idx = event_idx;
	d->q = q;
	d->desc = desc;
	d->drv = drv;
	d->dev = dev;
	d->avail_wrap = d->used_wrap = 1;
}

static int add_piece(struct vdq *d, struct vdq_chain *c, uint64_t addr,
		     uint32_t len, bool write, const char **why)
{
	if (c->n == VDQ_MAX_PIECES) {
		*why = "chain too long";
		return -1;
	}
	if (c->n && !write && c->p[c->n - 1].write) {
		*why = "readable descriptor after a writable one";
		return -1;
	}
	uint8_t *va = pvio_dma_to_va(d->ctx, addr, len);
	if (!va || !len) {
		*why = "descriptor outside guest memory or empty";
		return -1;
	}
	c->p[c->n++] = (struct vdq_piece){ va, len, write };
	if (write)
		c->wlen += len;
	return 0;
}

static int split_take(struct vdq *d, struct vdq_chain *c, const char **why)
{
	uint16_t idx = ld16(d->drv + 2);
	if (idx == d->last_avail)
		return 0;
	if ((uint16_t)(idx - d->last_avail) > d->q) {
		*why = "avail index ran ahead by more than the queue size";
		return -1;
	}
	uint16_t head = ld16(d->drv + 4 + 2u * (d->last_avail % d->q));
	if (head >= d->q) {
		*why = "avail ring names a descriptor out of range";
		return -1;
	}
	d->last_avail++;
	if (d->event_idx)
		st16(d->dev + 4 + 8u * d->q, d->last_avail);
	const struct vring_desc *tab = (const void *)d->desc;
	unsigned tn = d->q, i = head;
	c->id = head;
	c->ndesc = 0;
	if (tab[head].flags & VRING_DESC_F_INDIRECT) {
		if ((tab[head].flags & VRING_DESC_F_NEXT) || !tab[head].len ||
		    tab[head].len % 16) {
			*why = "bad indirect descriptor";
			return -1;
		}
		tn = tab[head].len / 16;
		tab = pvio_dma_to_va(d->ctx, tab[head].addr, tab[head].len);
		if (!tab || ((uintptr_t)tab & 7)) {
			*why = "indirect table outside guest memory";
			return -1;
		}
		i = 0;
		c->ndesc = 1;
	}
	for (unsigned k = 0;; k++) {
		if (k >= tn || i >= tn) {
			*why = "descriptor chain loops or runs out of the table";
			return -1;
		}
		if (tab[i].flags & VRING_DESC_F_INDIRECT) {
			*why = "nested indirect descriptor";
			return -1;
		}
		if (add_piece(d, c, tab[i].addr, tab[i].len,
			      tab[i].flags & VRING_DESC_F_WRITE, why) < 0)
			return -1;
		if (!(tab[i].flags & VRING_DESC_F_NEXT))
			break;
		i = tab[i].next;
	}
	if (!c->ndesc)
		c->ndesc = (uint16_t)c->n;
	return 1;
}

static bool p_avail(int wrap, uint16_t f)
{
	bool a = f & (1u << VRING_PACKED_DESC_F_AVAIL);
	bool u = f & (1u << VRING_PACKED_DESC_F_USED);
	return a != u && a == (bool)wrap;
}

static int packed_take(struct vdq *d, struct vdq_chain *c, const char **why)
{
	const struct vring_packed_desc *ring = (const void *)d->desc;
	uint16_t f = ld16(d->desc + 16u * d->avail + 14);
	if (!p_avail(d->avail_wrap, f))
		return 0;
	uint16_t s = d->avail;
	int w = d->avail_wrap;
	unsigned nd = 0;
	for (;;) {
		f = ld16(d->desc + 16u * s + 14);
		if (!p_avail(w, f)) {
			*why = "chain continues into a slot that is not available";
			return -1;
		}
		nd++;
		if (f & VRING_DESC_F_INDIRECT) {
			if (nd != 1 || (f & VRING_DESC_F_NEXT) || !ring[s].len ||
			    ring[s].len % 16) {
				*why = "bad indirect descriptor";
				return -1;
			}
			const struct vring_packed_desc *t =
				pvio_dma_to_va(d->ctx, ring[s].addr, ring[s].len);
			if (!t || ((uintptr_t)t & 7)) {
				*why = "indirect table outside guest memory";
				return -1;
			}
			for (unsigned k = 0; k < ring[s].len / 16; k++)
				if (add_piece(d, c, t[k].addr, t[k].len,
					      t[k].flags & VRING_DESC_F_WRITE,
					      why) < 0)
					return -1;
		} else if (add_piece(d, c, ring[s].addr, ring[s].len,
				     f & VRING_DESC_F_WRITE, why) < 0) {
			return -1;
		}
		if (!(f & VRING_DESC_F_NEXT))
			break;
		if (nd >= d->q) {
			*why = "chain longer than the ring";
			return -1;
		}
		if (++s == d->q) {
			s = 0;
			w ^= 1;
		}
	}
	c->id = ring[s].id; /* the buffer id is in the last descriptor */
	c->ndesc = (uint16_t)nd;
	unsigned ns = d->avail + nd;
	while (ns >= d->q) {
		ns -= d->q;
		d->avail_wrap ^= 1;
	}
	d->avail = (uint16_t)ns;
	return 1;
}

int vdq_take(struct vdq *d, struct vdq_chain *c, const char **why)
{
	c->n = 0;
	c->wlen = 0;
	*why = "";
	return d->packed ? packed_take(d, c, why) : split_take(d, c, why);
}

void vdq_used(struct vdq *d, uint16_t id, uint32_t len, uint16_t ndesc)
{
	if (!d->packed) {
		uint8_t *e = d->dev + 4 + 8u * (d->used_idx % d->q);
		uint32_t id32 = id;
		memcpy(e, &id32, 4);
		memcpy(e + 4, &len, 4);
		d->used_idx++;
		st16(d->dev + 2, d->used_idx);
		return;
	}
	uint8_t *e = d->desc + 16u * d->used;
	memcpy(e + 8, &len, 4);
	memcpy(e + 12, &id, 2);
	st16(e + 14, d->used_wrap ? (1u << VRING_PACKED_DESC_F_AVAIL) |
					    (1u << VRING_PACKED_DESC_F_USED)
				  : 0);
	unsigned ns = d->used + (ndesc ? ndesc : 1u);
	while (ns >= d->q) {
		ns -= d->q;
		d->used_wrap ^= 1;
	}
	d->used = (uint16_t)ns;
}

uint32_t vdq_base(const struct vdq *d)
{
	if (!d->packed)
		return d->last_avail;
	return (uint32_t)d->avail | (uint32_t)d->avail_wrap << 15;
}

bool vdq_wants_irq(const struct vdq *d)
{
	if (d->packed)
		return ld16(d->drv + 2) != 1; /* not DISABLE */
	return !(ld16(d->drv) & VRING_AVAIL_F_NO_INTERRUPT);
}

uint32_t vdq_write(const struct vdq_chain *c, uint32_t off, const void *src,
		   uint32_t len)
{
	uint32_t done = 0, pos = 0;
	for (unsigned i = 0; i < c->n && done < len; i++) {
		const struct vdq_piece *p = &c->p[i];
		if (!p->write)
			continue;
		if (off >= pos + p->len) {
			pos += p->len;
			continue;
		}
		uint32_t in = off > pos ? off - pos : 0;
		uint32_t n = p->len - in;
		if (n > len - done)
			n = len - done;
		memcpy(p->va + in, (const uint8_t *)src + done, n);
		done += n;
		off += n;
		pos += p->len;
	}
	return done;
}

uint32_t vdq_read(const struct vdq_chain *c, uint32_t off, void *dst,
		  uint32_t len)
{
	uint32_t done = 0, pos = 0;
	for (unsigned i = 0; i < c->n && done < len; i++) {
		const struct vdq_piece *p = &c->p[i];
		if (p->write)
			break;
		if (off >= pos + p->len) {
			pos += p->len;
			continue;
		}
		uint32_t in = off > pos ? off - pos : 0;
		uint32_t n = p->len - in;
		if (n > len - done)
			n = len - done;
		memcpy((uint8_t *)dst + done, p->va + in, n);
		done += n;
		off += n;
		pos += p->len;
	}
	return done;
}
