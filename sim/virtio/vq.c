/* SPDX-License-Identifier: MIT */
/*
 * sim/virtio/vq.c - the device side of split and packed virtqueues.
 *
 * Popping a buffer walks its descriptor chain once, copying each
 * descriptor out of guest memory before looking at it, and turns it into
 * host segments (readable first, then writable).  Anything a real device
 * would refuse breaks the queue: the reason is logged, the device reports
 * DEVICE_NEEDS_RESET and the queue is not touched again until the front
 * end restarts it.  Nothing here writes outside the ring or the buffers
 * the driver offered.
 *
 * Notification suppression both ways: kicks are disabled while a queue is
 * being drained (used->flags NO_NOTIFY, or a stale avail_event, or the
 * packed device area) and re-enabled with a re-check afterwards; calls
 * honour NO_INTERRUPT, used_event and the packed driver area.
 */
#include <endian.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "virtio/svirtio.h"

#define rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define wmb() __atomic_thread_fence(__ATOMIC_RELEASE)
#define mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)

static inline uint16_t ld16(const void *p)
{
	return le16toh(__atomic_load_n((const uint16_t *)p, __ATOMIC_RELAXED));
}

static inline void st16(void *p, uint16_t v)
{
	__atomic_store_n((uint16_t *)p, htole16(v), __ATOMIC_RELAXED);
}

static inline void st32(void *p, uint32_t v)
{
	__atomic_store_n((uint32_t *)p, htole32(v), __ATOMIC_RELAXED);
}

void svirtio_vq_fail(struct svirtio_vq *vq, const char *fmt, ...)
{
	struct svirtio_dev *d = vq->dev;
	char why[160];
	va_list ap;

	if (vq->broken)
		return;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	vq->broken = true;
	if (!d->broken_reason[0])
		snprintf(d->broken_reason, sizeof(d->broken_reason),
			 "queue %u: %s", vq->index, why);
	svirtio_complain_key(d, fmt,
			     "%s: queue %u: %s; the queue is stopped until the "
			     "front end resets it",
			 d->name, vq->index, why);
	if (vq->err_fd >= 0)
		sim_eventfd_signal(vq->err_fd);
}

int svirtio_vq_translate(struct svirtio_vq *vq, char *why, size_t whylen)
{
	const struct svirtio_mem *m = &vq->dev->mem;
	uint32_t q = vq->num;

	if (!q || !vq->addr_set) {
		snprintf(why, whylen, "ring size or addresses not set");
		return -EINVAL;
	}
	if (vq->packed) {
		vq->pdesc = svirtio_mem_uva(m, vq->desc_uva, 16ull * q);
		vq->drv_evt = svirtio_mem_uva(m, vq->avail_uva, 4);
		vq->dev_evt = svirtio_mem_uva(m, vq->used_uva, 4);
		if (!vq->pdesc || !vq->drv_evt || !vq->dev_evt) {
			snprintf(why, whylen,
				 "packed ring (desc 0x%llx, driver 0x%llx, "
				 "device 0x%llx, size %u) is outside the "
				 "memory table",
				 (unsigned long long)vq->desc_uva,
				 (unsigned long long)vq->avail_uva,
				 (unsigned long long)vq->used_uva, q);
			return -EFAULT;
		}
		if ((vq->desc_uva & 15) || (vq->avail_uva & 3) ||
		    (vq->used_uva & 3)) {
			snprintf(why, whylen, "packed ring addresses are misaligned");
			return -EINVAL;
		}
		return 0;
	}
	vq->desc = svirtio_mem_uva(m, vq->desc_uva, 16ull * q);
	vq->avail = svirtio_mem_uva(m, vq->avail_uva, SVIRTIO_AVAIL_SIZE(q));
	vq->used = svirtio_mem_uva(m, vq->used_uva, SVIRTIO_USED_SIZE(q));
	if (!vq->desc || !vq->avail || !vq->used) {
		snprintf(why, whylen,
			 "split ring (desc 0x%llx, avail 0x%llx, used 0x%llx, "
			 "size %u) is outside the memory table",
			 (unsigned long long)vq->desc_uva,
			 (unsigned long long)vq->avail_uva,
			 (unsigned long long)vq->used_uva, q);
		return -EFAULT;
	}
	if ((vq->desc_uva & 15) || (vq->avail_uva & 1) || (vq->used_uva & 3)) {
		snprintf(why, whylen,
			 "split ring addresses are misaligned (desc needs 16, "
			 "avail 2, used 4)");
		return -EINVAL;
	}
	return 0;
}

int svirtio_vq_start(struct svirtio_vq *vq, char *why, size_t whylen)
{
	struct svirtio_dev *d = vq->dev;
	uint32_t q = vq->num;

	vq->packed = svirtio_has(d->acked, SVIRTIO_F_RING_PACKED);
	vq->event_idx = svirtio_has(d->acked, SVIRTIO_F_EVENT_IDX);
	vq->indirect = svirtio_has(d->acked, SVIRTIO_F_INDIRECT_DESC);
	vq->in_order = svirtio_has(d->acked, SVIRTIO_F_IN_ORDER);
	vq->broken = false;
	vq->blocked = false;
	vq->started = false;
	if (!q) {
		snprintf(why, whylen, "queue %u: kick fd set before SET_VRING_NUM",
			 vq->index);
		return -EINVAL;
	}
	if (!vq->packed && (q & (q - 1))) {
		snprintf(why, whylen,
			 "queue %u: split ring size %u is not a power of two",
			 vq->index, q);
		return -EINVAL;
	}
	char tw[200];
	int r = svirtio_vq_translate(vq, tw, sizeof(tw));
	if (r < 0) {
		snprintf(why, whylen, "queue %u: %s", vq->index, tw);
		return r;
	}
	uint16_t last_avail, used_idx;
	bool avail_wrap = false, used_wrap = false;
	if (vq->packed) {
		uint32_t b = vq->base_set ? vq->pbase : 1u << 15;
		last_avail = b & 0x7fff;
		avail_wrap = (b >> 15) & 1;
		if (b >> 16) {
			used_idx = (b >> 16) & 0x7fff;
			used_wrap = (b >> 31) & 1;
		} else {
			used_idx = last_avail;
			used_wrap = avail_wrap;
		}
		if (last_avail >= q || used_idx >= q) {
			snprintf(why, whylen,
				 "queue %u: vring base 0x%x is outside a packed "
				 "ring of %u entries", vq->index, b, q);
			return -EINVAL;
		}
	} else {
		last_avail = vq->base_set ? vq->base : 0;
		used_idx = ld16(vq->used + SVIRTIO_USED_IDX);
		if ((uint16_t)(last_avail - used_idx) > q) {
			snprintf(why, whylen,
				 "queue %u: used idx %u is more than the queue "
				 "size behind avail base %u",
				 vq->index, used_idx, last_avail);
			return -EINVAL;
		}
	}
	free(vq->inflight);
	free(vq->pend);
	vq->inflight = calloc((q + 63) / 64, sizeof(uint64_t));
	vq->pend = calloc(q, sizeof(*vq->pend));
	if (!vq->inflight || !vq->pend) {
		snprintf(why, whylen, "queue %u: out of memory", vq->index);
		return -ENOMEM;
	}
	vq->last_avail = last_avail;
	vq->avail_wrap = avail_wrap;
	vq->used_idx = used_idx;
	vq->used_wrap = used_wrap;
	vq->pend_head = vq->pend_count = 0;
	vq->unpublished = 0;
	vq->signalled_used = vq->used_idx;
	vq->signalled_valid = false;
	vq->dirty = false;
	vq->kicks_on = false;
	vq->started = true;
	svirtio_vq_kicks_on(vq);
	return 0;
}

void svirtio_vq_stop(struct svirtio_vq *vq)
{
	if (vq->started) {
		/* a restart without SET_VRING_BASE continues from here */
		uint32_t b = svirtio_vq_base(vq);
		vq->base = (uint16_t)b;
		vq->pbase = b;
		vq->base_set = true;
	}
	vq->started = false;
	vq->blocked = false;
	vq->pend_head = vq->pend_count = 0;
	free(vq->inflight);
	free(vq->pend);
	vq->inflight = NULL;
	vq->pend = NULL;
	vq->desc = NULL;
	vq->avail = vq->used = NULL;
	vq->pdesc = NULL;
	vq->drv_evt = vq->dev_evt = NULL;
}

/* GET_VRING_BASE: the next avail index (packed: bits 0-14, the wrap
 * counter in bit 15).  Like DPDK 22.11 the used position is not reported
 * in bits 16-31 (newer QEMU accepts it there, pvio's driver does not): a
 * ring is only stopped after its completions were written, so it equals
 * the avail position. */
uint32_t svirtio_vq_base(const struct svirtio_vq *vq)
{
	if (!vq->packed)
		return vq->last_avail;
	return (uint32_t)vq->last_avail | (uint32_t)vq->avail_wrap << 15;
}

static void set_inflight(struct svirtio_vq *vq, unsigned id, bool on)
{
	if (on)
		vq->inflight[id / 64] |= 1ull << (id % 64);
	else
		vq->inflight[id / 64] &= ~(1ull << (id % 64));
}

/* Append one descriptor's buffer to e.  0 or -1 (queue failed). */
static int add_desc(struct svirtio_vq *vq, struct svirtio_elem *e,
		    uint64_t addr, uint32_t len, bool write, bool *seen_write)
{
	unsigned used = e->nout + e->nin;
	if (write) {
		*seen_write = true;
	} else if (*seen_write) {
		svirtio_vq_fail(vq, "buffer %u: a device-readable descriptor "
				    "follows a device-writable one", e->id);
		return -1;
	}
	if ((uint64_t)e->out_len + e->in_len + len > UINT32_MAX) {
		svirtio_vq_fail(vq, "buffer %u is larger than 4 GiB", e->id);
		return -1;
	}
	e->ndescs++;
	if (len > e->max_desc_len)
		e->max_desc_len = len;
	if (!len)
		return 0;
	int n = svirtio_mem_map(&vq->dev->mem, addr, len, &e->seg[used],
				SVIRTIO_MAX_SEGS - used);
	if (n == -E2BIG) {
		svirtio_vq_fail(vq, "buffer %u has more than %u segments",
				e->id, SVIRTIO_MAX_SEGS);
		return -1;
	}
	if (n < 0) {
		svirtio_vq_fail(vq, "buffer %u: descriptor [0x%llx, +0x%x) "
				    "lies outside guest memory",
				e->id, (unsigned long long)addr, len);
		return -1;
	}
	if (write) {
		e->nin += (unsigned)n;
		e->in_len += len;
	} else {
		e->nout += (unsigned)n;
		e->out_len += len;
	}
	return 0;
}

static void elem_reset(struct svirtio_elem *e, uint16_t id)
{
	e->id = id;
	e->ndesc = 1;
	e->out_len = e->in_len = 0;
	e->nout = e->nin = 0;
	e->ndescs = 0;
	e->max_desc_len = 0;
}

/* Map an indirect table; NULL and the queue failed if it is bad. */
static const void *indirect_table(struct svirtio_vq *vq, uint16_t id,
				  uint64_t addr, uint32_t len, uint32_t *n)
{
	if (!vq->indirect) {
		svirtio_vq_fail(vq, "buffer %u uses an indirect descriptor but "
				    "RING_INDIRECT_DESC was not negotiated", id);
		return NULL;
	}
	if (!len || len % 16) {
		svirtio_vq_fail(vq, "buffer %u: indirect table length %u is "
				    "not a non-zero multiple of 16", id, len);
		return NULL;
	}
	if (len / 16 > SVIRTIO_MAX_SEGS) {
		svirtio_vq_fail(vq, "buffer %u: indirect table of %u entries "
				    "is longer than %u", id, len / 16,
				SVIRTIO_MAX_SEGS);
		return NULL;
	}
	const void *t = svirtio_mem_gpa(&vq->dev->mem, addr, len);
	if (!t) {
		svirtio_vq_fail(vq, "buffer %u: indirect table [0x%llx, +0x%x) "
				    "lies outside guest memory",
				id, (unsigned long long)addr, len);
		return NULL;
	}
	*n = len / 16;
	return t;
}

static int walk_split(struct svirtio_vq *vq, struct svirtio_elem *e,
		      uint16_t head)
{
	const struct svirtio_desc *table = vq->desc;
	uint32_t tsize = vq->num;
	uint32_t i = head, count = 0;
	bool indirect = false, seen_write = false;

	elem_reset(e, head);
	for (;;) {
		struct svirtio_desc dd;
		memcpy(&dd, &table[i], sizeof(dd));    /* one read */
		uint64_t addr = le64toh(dd.addr);
		uint32_t len = le32toh(dd.len);
		uint16_t flags = le16toh(dd.flags);
		uint16_t next = le16toh(dd.next);

		if (++count > tsize) {
			if (indirect)
				svirtio_vq_fail(vq, "buffer %u: indirect chain is "
						    "longer than its table of %u "
						    "(a loop?)", head, tsize);
			else
				svirtio_vq_fail(vq, "buffer %u: descriptor chain "
						    "is longer than the queue size "
						    "%u (a loop?)", head, tsize);
			return -1;
		}
		if (flags & SVIRTIO_DESC_F_INDIRECT) {
			if (indirect) {
				svirtio_vq_fail(vq, "buffer %u: nested indirect "
						    "descriptor", head);
				return -1;
			}
			if (flags & SVIRTIO_DESC_F_NEXT) {
				svirtio_vq_fail(vq, "buffer %u: descriptor %u has "
						    "both INDIRECT and NEXT",
						head, i);
				return -1;
			}
			table = indirect_table(vq, head, addr, len, &tsize);
			if (!table)
				return -1;
			indirect = true;
			i = 0;
			count = 0;
			continue;
		}
		if (add_desc(vq, e, addr, len, flags & SVIRTIO_DESC_F_WRITE,
			     &seen_write) < 0)
			return -1;
		if (!(flags & SVIRTIO_DESC_F_NEXT))
			return 0;
		if (next >= tsize) {
			svirtio_vq_fail(vq, "buffer %u: next %u is outside the "
					    "%s of %u descriptors", head, next,
					indirect ? "indirect table" : "ring",
					tsize);
			return -1;
		}
		i = next;
	}
}

static int pop_split(struct svirtio_vq *vq, struct svirtio_elem *e)
{
	uint16_t avail_idx = ld16(vq->avail + SVIRTIO_AVAIL_IDX);
	uint16_t pending = (uint16_t)(avail_idx - vq->last_avail);

	if (!pending)
		return 0;
	if (pending > vq->num) {
		svirtio_vq_fail(vq, "avail idx %u is %u entries ahead of the "
				    "device's %u (queue size %u)",
				avail_idx, pending, vq->last_avail, vq->num);
		return -1;
	}
	rmb();
	uint16_t head = ld16(vq->avail + SVIRTIO_AVAIL_RING +
			     2u * (vq->last_avail & (vq->num - 1)));
	if (head >= vq->num) {
		svirtio_vq_fail(vq, "avail entry %u names descriptor %u but "
				    "the queue size is %u",
				vq->last_avail, head, vq->num);
		return -1;
	}
	if (svirtio_vq_inflight(vq, head)) {
		svirtio_vq_fail(vq, "descriptor %u made available again while "
				    "the device still owns it", head);
		return -1;
	}
	if (walk_split(vq, e, head) < 0)
		return -1;
	vq->last_avail++;
	set_inflight(vq, head, true);
	vq->st.bufs++;
	return 1;
}

static inline bool packed_avail(uint16_t flags, bool wrap)
{
	return !!(flags & SVIRTIO_PDESC_F_AVAIL) == wrap &&
	       !!(flags & SVIRTIO_PDESC_F_USED) != wrap;
}

static int walk_packed_indirect(struct svirtio_vq *vq, struct svirtio_elem *e,
				uint64_t addr, uint32_t len)
{
	uint32_t n;
	bool seen_write = false;
	const struct svirtio_pdesc *t = indirect_table(vq, e->id, addr, len, &n);
	if (!t)
		return -1;
	for (uint32_t i = 0; i < n; i++) {
		struct svirtio_pdesc dd;
		memcpy(&dd, &t[i], sizeof(dd));
		uint16_t flags = le16toh(dd.flags);
		if (flags & SVIRTIO_DESC_F_INDIRECT) {
			svirtio_vq_fail(vq, "buffer %u: nested indirect "
					    "descriptor", e->id);
			return -1;
		}
		if (add_desc(vq, e, le64toh(dd.addr), le32toh(dd.len),
			     flags & SVIRTIO_DESC_F_WRITE, &seen_write) < 0)
			return -1;
	}
	return 0;
}

static int pop_packed(struct svirtio_vq *vq, struct svirtio_elem *e)
{
	uint16_t slot = vq->last_avail;
	bool wrap = vq->avail_wrap;
	uint32_t count = 0;
	bool seen_write = false;
	uint16_t flags = ld16(&vq->pdesc[slot].flags);

	if (!packed_avail(flags, wrap))
		return 0;
	elem_reset(e, 0);
	for (;;) {
		struct svirtio_pdesc dd;
		rmb();
		memcpy(&dd, &vq->pdesc[slot], sizeof(dd));
		/* flags: the value already checked, not a second read */
		uint64_t addr = le64toh(dd.addr);
		uint32_t len = le32toh(dd.len);
		uint16_t id = le16toh(dd.id);

		count++;
		e->id = id;
		if (flags & SVIRTIO_DESC_F_INDIRECT) {
			if (count > 1 || (flags & SVIRTIO_DESC_F_NEXT)) {
				svirtio_vq_fail(vq, "descriptor %u: INDIRECT "
						    "inside a chain", slot);
				return -1;
			}
			if (walk_packed_indirect(vq, e, addr, len) < 0)
				return -1;
		} else if (add_desc(vq, e, addr, len,
				    flags & SVIRTIO_DESC_F_WRITE,
				    &seen_write) < 0) {
			return -1;
		}
		if (++slot >= vq->num) {
			slot = 0;
			wrap = !wrap;
		}
		if (!(flags & SVIRTIO_DESC_F_NEXT))
			break;
		if (count >= vq->num) {
			svirtio_vq_fail(vq, "descriptor chain at %u is longer "
					    "than the queue size %u",
					vq->last_avail, vq->num);
			return -1;
		}
		flags = ld16(&vq->pdesc[slot].flags);
		if (!packed_avail(flags, wrap)) {
			svirtio_vq_fail(vq, "chain from descriptor %u continues "
					    "into descriptor %u, which is not "
					    "available (flags 0x%x)",
					vq->last_avail, slot, flags);
			return -1;
		}
	}
	if (e->id >= vq->num) {
		svirtio_vq_fail(vq, "buffer id %u is out of range (queue size "
				    "%u)", e->id, vq->num);
		return -1;
	}
	if (svirtio_vq_inflight(vq, e->id)) {
		svirtio_vq_fail(vq, "buffer id %u made available again while "
				    "the device still owns it", e->id);
		return -1;
	}
	e->ndesc = (uint16_t)count;
	vq->last_avail = slot;
	vq->avail_wrap = wrap;
	set_inflight(vq, e->id, true);
	vq->st.bufs++;
	return 1;
}

int svirtio_vq_pop(struct svirtio_vq *vq, struct svirtio_elem *e)
{
	if (!vq->started || vq->broken)
		return -1;
	return vq->packed ? pop_packed(vq, e) : pop_split(vq, e);
}

void svirtio_vq_unpop(struct svirtio_vq *vq, uint16_t id, uint16_t ndesc)
{
	set_inflight(vq, id, false);
	vq->st.bufs--;
	if (!vq->packed) {
		vq->last_avail--;
		return;
	}
	if (vq->last_avail < ndesc) {
		vq->last_avail = (uint16_t)(vq->last_avail + vq->num - ndesc);
		vq->avail_wrap = !vq->avail_wrap;
	} else {
		vq->last_avail = (uint16_t)(vq->last_avail - ndesc);
	}
}

bool svirtio_vq_has_avail(struct svirtio_vq *vq)
{
	if (!vq->started || vq->broken)
		return false;
	if (vq->packed)
		return packed_avail(ld16(&vq->pdesc[vq->last_avail].flags),
				    vq->avail_wrap);
	return ld16(vq->avail + SVIRTIO_AVAIL_IDX) != vq->last_avail;
}

void svirtio_vq_kicks_off(struct svirtio_vq *vq)
{
	if (!vq->kicks_on || !vq->started)
		return;
	vq->kicks_on = false;
	if (vq->packed)
		st16(&vq->dev_evt->flags, SVIRTIO_EVENT_F_DISABLE);
	else if (!vq->event_idx)
		st16(vq->used + SVIRTIO_USED_FLAGS, SVIRTIO_USED_F_NO_NOTIFY);
	/* EVENT_IDX split: avail_event stays where it was, which already
	 * keeps the driver from kicking for what it adds now. */
}

bool svirtio_vq_kicks_on(struct svirtio_vq *vq)
{
	if (!vq->started || vq->broken)
		return false;
	vq->kicks_on = true;
	vq->st.kick_enables++;
	if (vq->packed) {
		if (vq->event_idx) {
			st16(&vq->dev_evt->off_wrap,
			     (uint16_t)(vq->last_avail |
					(unsigned)vq->avail_wrap << 15));
			wmb();
			st16(&vq->dev_evt->flags, SVIRTIO_EVENT_F_DESC);
		} else {
			st16(&vq->dev_evt->flags, SVIRTIO_EVENT_F_ENABLE);
		}
	} else if (vq->event_idx) {
		st16(vq->used + SVIRTIO_USED_RING + 8u * vq->num,
		     vq->last_avail);
	} else {
		st16(vq->used + SVIRTIO_USED_FLAGS, 0);
	}
	mb();   /* the enable is visible before we look at the ring again */
	return svirtio_vq_has_avail(vq);
}

void svirtio_vq_push(struct svirtio_vq *vq, uint16_t id, uint16_t ndesc,
		     uint32_t len, bool wrote)
{
	if (id < vq->num)
		set_inflight(vq, id, false);
	svirtio_vq_push_raw(vq, id, ndesc, len, wrote);
}

void svirtio_vq_push_raw(struct svirtio_vq *vq, uint32_t id, uint16_t ndesc,
			 uint32_t len, bool wrote)
{
	if (!vq->packed) {
		uint8_t *u = vq->used + SVIRTIO_USED_RING +
			     8u * (vq->used_idx & (vq->num - 1));
		st32(u, id);
		st32(u + 4, len);
		vq->used_idx++;
	} else {
		struct svirtio_pdesc *pd = &vq->pdesc[vq->used_idx];
		uint16_t flags = vq->used_wrap ? SVIRTIO_PDESC_F_AVAIL |
							 SVIRTIO_PDESC_F_USED
					       : 0;
		if (wrote)
			flags |= SVIRTIO_DESC_F_WRITE;
		st16(&pd->id, (uint16_t)id);
		st32(&pd->len, len);
		wmb();   /* id and len before the flags that publish them */
		st16(&pd->flags, flags);
		vq->used_idx = (uint16_t)(vq->used_idx + ndesc);
		if (vq->used_idx >= vq->num) {
			vq->used_idx = (uint16_t)(vq->used_idx - vq->num);
			vq->used_wrap = !vq->used_wrap;
		}
	}
	vq->unpublished++;
	vq->st.used++;
}

static inline bool need_event(uint16_t ev, uint16_t new_idx, uint16_t old)
{
	return (uint16_t)(new_idx - ev - 1) < (uint16_t)(new_idx - old);
}

static bool should_call(struct svirtio_vq *vq)
{
	uint16_t old = vq->signalled_used;
	bool valid = vq->signalled_valid;

	mb();   /* used entries visible before reading the driver's wishes */
	vq->signalled_used = vq->used_idx;
	vq->signalled_valid = true;
	if (!vq->packed) {
		if (vq->event_idx) {
			uint16_t ev = ld16(vq->avail + SVIRTIO_AVAIL_RING +
					   2u * vq->num);
			return !valid || need_event(ev, vq->used_idx, old);
		}
		return !(ld16(vq->avail + SVIRTIO_AVAIL_FLAGS) &
			 SVIRTIO_AVAIL_F_NO_INTERRUPT);
	}
	uint16_t flags = ld16(&vq->drv_evt->flags) & 3;
	if (flags != SVIRTIO_EVENT_F_DESC || !vq->event_idx)
		return flags != SVIRTIO_EVENT_F_DISABLE;
	if (!valid)
		return true;
	rmb();
	uint16_t off_wrap = ld16(&vq->drv_evt->off_wrap);
	int32_t ev = off_wrap & 0x7fff;
	int32_t n = vq->used_idx, o = old;
	if (n <= o)
		o -= (int32_t)vq->num;
	if ((off_wrap >> 15) != (unsigned)vq->used_wrap)
		ev -= (int32_t)vq->num;
	return need_event((uint16_t)ev, (uint16_t)n, (uint16_t)o);
}

void svirtio_vq_flush(struct svirtio_vq *vq)
{
	if (!vq->unpublished || !vq->started)
		return;
	if (!vq->packed) {
		wmb();   /* entries before the index that publishes them */
		st16(vq->used + SVIRTIO_USED_IDX, vq->used_idx);
	}
	vq->unpublished = 0;
	if (should_call(vq)) {
		vq->st.calls++;
		if (vq->call_fd >= 0)
			sim_eventfd_signal(vq->call_fd);
	} else {
		vq->st.calls_suppressed++;
	}
}
