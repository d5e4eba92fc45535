/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_virtio_ring.c - the split and packed virtqueue drivers
 * (backends/virtio/ring*.c) against a device the fuzzer drives.
 *
 * The device model here reads the driver's rings the way the virtio spec
 * (and linux/virtio_ring.h) lays them out, independently of the driver
 * code.  The fuzzer chooses what happens next: the driver adds buffers,
 * publishes, reaps, arms, checks a stop position; the device takes what
 * was made available and completes it in any order with any length - or
 * scribbles anywhere it may write (the used ring, packed descriptors, its
 * event area) or completes ids that were never posted.
 *
 * Properties:
 *  - every completion names a buffer that was added, made available and
 *    not completed before; its length is what the device wrote, clamped
 *    to the buffer's writable bytes;
 *  - the buffers the device finds are exactly the ones added, in order,
 *    with the lengths and directions given (the driver never writes a
 *    wrong descriptor);
 *  - a device that only ever did legal things never breaks the queue, and
 *    its stop position is accepted (drained = 1 exactly when nothing it
 *    took is still out);
 *  - once broken, the queue stays broken and reports -EIO; no crash, no
 *    access outside the rings and buffers (ASan).
 */
#include "fuzz.h"

#include <linux/virtio_ring.h>

#include "backends/virtio/virtio.h"

#define MAXQ 64u
#define MAXSEG 12u
#define DATA_BYTES (MAXQ * MAXSEG * 64u)

struct mbuf {            /* the harness's record of one added buffer */
	uint32_t token;
	uint32_t wlen;
	uint16_t nseg;
	uint32_t seglen[MAXSEG];
	uint8_t segw[MAXSEG];
	bool published, taken, done;
};

struct taken {           /* what the device took */
	uint32_t token;      /* the harness's, by order of adding */
	uint16_t id;         /* split: head; packed: buffer id */
	uint16_t ndesc;      /* ring slots */
	uint32_t wlen;
};

struct h {
	pvio_ctx *ctx;
	struct virtio_vq vq;
	bool packed, in_order;
	uint16_t q;
	uint8_t *data;
	uint64_t data_addr;
	/* every buffer ever added, by token */
	struct mbuf *b;
	uint32_t nb, cap;
	uint32_t next_take;  /* first added buffer the device has not taken */
	struct taken t[MAXQ * 2];
	unsigned nt;
	bool hostile;
	/* device positions */
	uint16_t last_avail, used_idx;           /* split */
	uint16_t p_avail, p_used;                /* packed */
	int p_avail_wrap, p_used_wrap;
};

static uint16_t rd16(const uint8_t *p)
{
	uint16_t v;
	__atomic_load((const uint16_t *)(const void *)p, &v, __ATOMIC_ACQUIRE);
	return v;
}

static void wr16(uint8_t *p, uint16_t v)
{
	__atomic_store((uint16_t *)(void *)p, &v, __ATOMIC_RELEASE);
}

/* What the device finds must be what the driver added - unless the device
 * scribbled over the (packed) descriptor ring itself: then give up taking
 * (the driver never reads its own descriptors back, so that is harmless). */
#define MODEL_CHECK(h, cond, ...)                                             \
	do {                                                                  \
		if (!(cond)) {                                                \
			FZ_ASSERT((h)->hostile, __VA_ARGS__);                 \
			return false;                                         \
		}                                                             \
	} while (0)

/* Check the chain of one buffer against the record of the next one the
 * driver added; fills t. */
static bool check_chain(struct h *h, const struct vring_desc *tab, unsigned n,
			unsigned start, bool split_ring, struct taken *t)
{
	MODEL_CHECK(h, h->next_take < h->nb, "the device found a buffer nobody "
		  "added");
	struct mbuf *m = &h->b[h->next_take];
	MODEL_CHECK(h, m->published, "the device sees buffer %u before publish",
		  m->token);
	unsigned i = start, k = 0;
	uint32_t wlen = 0;
	for (;;) {
		MODEL_CHECK(h, i < n && k < m->nseg, "chain of buffer %u runs past "
			  "its %u pieces", m->token, m->nseg);
		const struct vring_desc *d = &tab[i];
		bool w = d->flags & VRING_DESC_F_WRITE;
		MODEL_CHECK(h, !(d->flags & VRING_DESC_F_INDIRECT), "nested indirect");
		MODEL_CHECK(h, d->len == m->seglen[k] && w == m->segw[k],
			  "buffer %u piece %u: len %u write %d, added %u %d",
			  m->token, k, d->len, w, m->seglen[k], m->segw[k]);
		MODEL_CHECK(h, pvio_dma_to_va(h->ctx, d->addr, d->len),
			  "descriptor address outside DMA memory");
		if (w)
			wlen += d->len;
		k++;
		if (!(d->flags & VRING_DESC_F_NEXT))
			break;
		i = split_ring ? d->next : i + 1;
	}
	MODEL_CHECK(h, k == m->nseg, "buffer %u has %u pieces, added %u", m->token,
		  k, m->nseg);
	t->token = m->token;
	t->wlen = wlen;
	m->taken = true;
	h->next_take++;
	return true;
}

/* ---------------------------------------------------------------- split */

static bool split_take(struct h *h)
{
	struct virtio_vq *vq = &h->vq;
	uint16_t idx = rd16(vq->drv + 2);
	if (idx == h->last_avail || h->nt == sizeof(h->t) / sizeof(h->t[0]))
		return false;
	uint16_t head = rd16(vq->drv + 4 + 2u * (h->last_avail % h->q));
	MODEL_CHECK(h, head < h->q, "avail ring names descriptor %u of %u", head,
		  h->q);
	h->last_avail++;
	if (vq->flags & VIRTIO_VQ_EVENT_IDX)
		wr16(vq->dev + 4 + 8u * h->q, h->last_avail);
	const struct vring_desc *ring = (const void *)vq->desc;
	struct taken *t = &h->t[h->nt];
	t->id = head;
	if (ring[head].flags & VRING_DESC_F_INDIRECT) {
		MODEL_CHECK(h, !(ring[head].flags & VRING_DESC_F_NEXT) &&
			  ring[head].len % 16 == 0 && ring[head].len,
			  "bad indirect descriptor");
		const struct vring_desc *tab =
			pvio_dma_to_va(h->ctx, ring[head].addr, ring[head].len);
		MODEL_CHECK(h, tab && !((uintptr_t)tab & 7),
			    "indirect table outside DMA memory or misaligned");
		if (!check_chain(h, tab, ring[head].len / 16, 0, true, t))
			return false;
		t->ndesc = 1;
	} else {
		if (!check_chain(h, ring, h->q, head, true, t))
			return false;
		unsigned nd = 1;
		for (uint16_t i = head;
		     (ring[i].flags & VRING_DESC_F_NEXT) && nd <= h->q;
		     i = ring[i].next % h->q)
			nd++;
		t->ndesc = (uint16_t)nd;
	}
	h->nt++;
	return true;
}

static void split_used(struct h *h, uint32_t id, uint32_t len)
{
	struct virtio_vq *vq = &h->vq;
	uint8_t *e = vq->dev + 4 + 8u * (h->used_idx % h->q);
	memcpy(e, &id, 4);
	memcpy(e + 4, &len, 4);
	h->used_idx++;
	wr16(vq->dev + 2, h->used_idx);
}

/* ---------------------------------------------------------------- packed */

static bool pk_avail(int wrap, uint16_t f)
{
	bool a = f & (1u << VRING_PACKED_DESC_F_AVAIL);
	bool u = f & (1u << VRING_PACKED_DESC_F_USED);
	return a != u && a == (bool)wrap;
}

static bool packed_take(struct h *h)
{
	struct virtio_vq *vq = &h->vq;
	struct vring_packed_desc *ring = (void *)vq->desc;
	if (h->nt == sizeof(h->t) / sizeof(h->t[0]) ||
	    !pk_avail(h->p_avail_wrap, rd16(vq->desc + 16u * h->p_avail + 14)))
		return false;
	struct taken *t = &h->t[h->nt];
	struct vring_packed_desc *d = &ring[h->p_avail];
	if (d->flags & VRING_DESC_F_INDIRECT) {
		MODEL_CHECK(h, d->len % 16 == 0 && d->len, "bad indirect descriptor");
		/* a table of packed descriptors, whose pieces are consecutive
		 * (only WRITE means anything in their flags) */
		const struct vring_packed_desc *tab =
			pvio_dma_to_va(h->ctx, d->addr, d->len);
		MODEL_CHECK(h, tab && !((uintptr_t)tab & 7),
			    "indirect table outside DMA memory or misaligned");
		struct vring_desc flat[MAXSEG + 1];
		unsigned n = d->len / 16;
		MODEL_CHECK(h, n <= MAXSEG, "indirect table of %u", n);
		for (unsigned i = 0; i < n; i++) {
			flat[i].addr = tab[i].addr;
			flat[i].len = tab[i].len;
			flat[i].flags = (uint16_t)((tab[i].flags & VRING_DESC_F_WRITE) |
						   (i + 1 < n ? VRING_DESC_F_NEXT : 0));
		}
		if (!check_chain(h, flat, n, 0, false, t))
			return false;
		t->ndesc = 1;
	} else {
		/* gather the chain: NEXT in each slot's flags */
		struct vring_desc flat[MAXSEG + 1];
		unsigned n = 0;
		uint16_t s = h->p_avail;
		int w = h->p_avail_wrap;
		for (;;) {
			MODEL_CHECK(h, n <= MAXSEG, "chain too long");
			uint16_t f = rd16(vq->desc + 16u * s + 14);
			MODEL_CHECK(h, pk_avail(w, f), "chain slot %u not available", s);
			flat[n].addr = ring[s].addr;
			flat[n].len = ring[s].len;
			flat[n].flags = f & (VRING_DESC_F_WRITE | VRING_DESC_F_NEXT);
			n++;
			if (!(f & VRING_DESC_F_NEXT))
				break;
			if (++s == h->q) {
				s = 0;
				w ^= 1;
			}
		}
		if (!check_chain(h, flat, n, 0, false, t))
			return false;
		/* the buffer id is in the last descriptor */
		d = &ring[s];
		t->ndesc = (uint16_t)n;
	}
	t->id = d->id;
	MODEL_CHECK(h, t->id < h->q, "buffer id %u of %u", t->id, h->q);
	unsigned s = h->p_avail + t->ndesc;
	while (s >= h->q) {
		s -= h->q;
		h->p_avail_wrap ^= 1;
	}
	h->p_avail = (uint16_t)s;
	h->nt++;
	return true;
}

static void packed_used(struct h *h, uint16_t id, uint32_t len, unsigned ndesc)
{
	struct virtio_vq *vq = &h->vq;
	uint8_t *d = vq->desc + 16u * h->p_used;
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &id, 2);
	uint16_t f = h->p_used_wrap ? (1u << VRING_PACKED_DESC_F_AVAIL) |
					      (1u << VRING_PACKED_DESC_F_USED)
				    : 0;
	wr16(d + 14, f);
	unsigned s = h->p_used + ndesc;
	while (s >= h->q) {
		s -= h->q;
		h->p_used_wrap ^= 1;
	}
	h->p_used = (uint16_t)s;
}

/* ---------------------------------------------------------------- ops */

static void remove_taken(struct h *h, unsigned i)
{
	memmove(&h->t[i], &h->t[i + 1], (h->nt - i - 1) * sizeof(h->t[0]));
	h->nt--;
}

/* What the driver should report for a completion the device wrote. */
struct expect {
	uint32_t token;
	uint32_t len;
};

static void op_add(struct h *h, struct fz *f)
{
	struct virtio_sg sg[MAXSEG];
	unsigned n = 1 + fz_below(f, MAXSEG);
	uint8_t wmask = fz_u8(f);
	struct mbuf m = { .token = h->nb, .nseg = (uint16_t)n };
	bool seen_w = false, order_ok = true;
	for (unsigned i = 0; i < n; i++) {
		uint32_t len = 1 + fz_below(f, 64);
		bool w = (wmask >> (i % 8)) & 1;
		if (seen_w && !w)
			order_ok = false;
		seen_w |= w;
		size_t off = (size_t)((m.token * MAXSEG + i) % (MAXQ * MAXSEG)) * 64;
		sg[i] = (struct virtio_sg){ h->data_addr + off, len, w };
		m.seglen[i] = len;
		m.segw[i] = w;
		if (w)
			m.wlen += len;
	}
	bool broken = h->vq.broken;
	int r = virtio_vq_add(&h->vq, sg, n, m.token);
	if (broken) {
		FZ_ASSERT(r == -EIO, "add on a broken queue returned %d", r);
		return;
	}
	if (!order_ok) {
		FZ_ASSERT(r == -EINVAL, "add accepted readable after writable");
		return;
	}
	FZ_ASSERT(r == 0 || r == -EAGAIN || r == -EINVAL, "add returned %d", r);
	if (r != 0)
		return;
	if (h->nb == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 64;
		h->b = realloc(h->b, h->cap * sizeof(*h->b));
		FZ_ASSERT(h->b, "realloc");
	}
	h->b[h->nb++] = m;
}

static void op_get(struct h *h, unsigned max)
{
	for (unsigned k = 0; k < max; k++) {
		uint32_t token = UINT32_MAX, len = UINT32_MAX;
		bool was_broken = h->vq.broken;
		int r = virtio_vq_get(&h->vq, &token, &len);
		if (r == 0) {
			FZ_ASSERT(!h->vq.broken, "get returned 0 on a broken "
				  "queue");
			return;
		}
		if (r < 0) {
			FZ_ASSERT(r == -EIO && h->vq.broken && h->vq.why[0],
				  "get returned %d (broken %d)", r, h->vq.broken);
			FZ_ASSERT(h->hostile, "an honest device broke the queue: "
				  "%s", h->vq.why);
			return;
		}
		(void)was_broken;
		FZ_ASSERT(token < h->nb, "completion of token %u never added",
			  token);
		struct mbuf *m = &h->b[token];
		FZ_ASSERT(m->published && !m->done, "token %u completed %s",
			  token, m->done ? "twice" : "before it was published");
		FZ_ASSERT(len <= m->wlen, "token %u: len %u > writable %u", token,
			  len, m->wlen);
		m->done = true;
	}
}

static void op_complete(struct h *h, struct fz *f)
{
	if (!h->nt)
		return;
	unsigned i = h->in_order ? 0 : fz_below(f, h->nt);
	uint32_t len = fz_u8(f) & 1 ? h->t[i].wlen : fz_u32(f) % 80;
	if (!h->packed) {
		split_used(h, h->t[i].id, len);
		remove_taken(h, i);
		return;
	}
	if (h->in_order && fz_bool(f)) {
		/* one used descriptor for the k oldest */
		unsigned k = 1 + fz_below(f, h->nt);
		unsigned nd = 0;
		for (unsigned j = 0; j < k; j++)
			nd += h->t[j].ndesc;
		packed_used(h, h->t[k - 1].id, len, nd);
		for (unsigned j = 0; j < k; j++)
			remove_taken(h, 0);
		return;
	}
	packed_used(h, h->t[i].id, len, h->t[i].ndesc);
	remove_taken(h, i);
}

/* Hostile: write something anywhere the device may write. */
static void op_scribble(struct h *h, struct fz *f)
{
	struct virtio_vq *vq = &h->vq;
	h->hostile = true;
	uint8_t kind = fz_u8(f);
	if (!h->packed) {
		size_t used_bytes = 6 + 8u * h->q;
		switch (kind % 4) {
		case 0: /* used->idx */
			wr16(vq->dev + 2, fz_u16(f));
			break;
		case 1: /* a used entry, with the index moved on */
			split_used(h, fz_u32(f) % (h->q + 4u), fz_u32(f));
			break;
		case 2: /* a used entry of an id we took twice */
			if (h->nt)
				split_used(h, h->t[0].id, 1);
			split_used(h, h->nt ? h->t[0].id : 0, 1);
			break;
		default: {
			size_t off = fz_below(f, (uint32_t)used_bytes - 1) & ~(size_t)1;
			wr16(vq->dev + off, fz_u16(f));
			break;
		}
		}
		return;
	}
	switch (kind % 3) {
	case 0: /* a used descriptor with any id, len, flags */
		packed_used(h, fz_u16(f), fz_u32(f), 1 + fz_below(f, 3));
		wr16(vq->desc + 16u * ((h->p_used + h->q - 1) % h->q) + 14,
		     fz_u16(f));
		break;
	case 1: { /* any 16 bits of the descriptor ring */
		size_t off = fz_below(f, 16u * h->q) & ~(size_t)1;
		wr16(vq->desc + off, fz_u16(f));
		break;
	}
	default: /* the device event area */
		wr16(vq->dev + (fz_bool(f) ? 2 : 0), fz_u16(f));
		break;
	}
}

static void op_drained(struct h *h, struct fz *f)
{
	uint32_t base;
	bool honest = fz_bool(f);
	if (honest)
		base = h->packed ? (uint32_t)h->p_avail |
					   (uint32_t)h->p_avail_wrap << 15
				 : h->last_avail;
	else
		base = fz_u32(f) % 0x10002u;
	bool was_broken = h->vq.broken;
	int d = virtio_vq_drained(&h->vq, base);
	if (was_broken) {
		FZ_ASSERT(d == -EIO, "drained on a broken queue: %d", d);
		return;
	}
	if (d < 0) {
		FZ_ASSERT(h->vq.broken, "drained failed, queue not broken");
		if (honest)
			FZ_ASSERT(h->hostile, "honest stop position 0x%x refused: "
				  "%s", base, h->vq.why);
		else
			h->hostile = true; /* a bad base breaks it, correctly */
		return;
	}
	if (honest && !h->hostile)
		FZ_ASSERT(d == (h->nt == 0), "drained = %d with %u buffers "
			  "still out", d, h->nt);
}

static void op_publish(struct h *h)
{
	int r = virtio_vq_publish(&h->vq);
	FZ_ASSERT(r == VIRTIO_KICK_NONE || r == VIRTIO_KICK_SUPPRESSED ||
		  r == VIRTIO_KICK_NOTIFY, "publish returned %d", r);
	for (uint32_t i = 0; i < h->nb; i++)
		h->b[i].published = true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	struct h h;
	memset(&h, 0, sizeof(h));
	uint8_t cfg = fz_u8(&f);
	h.packed = cfg & 1;
	uint32_t flags = 0;
	if (h.packed)
		flags |= VIRTIO_VQ_PACKED;
	if (cfg & 2)
		flags |= VIRTIO_VQ_EVENT_IDX;
	if (cfg & 4)
		flags |= VIRTIO_VQ_INDIRECT;
	if (cfg & 8)
		flags |= VIRTIO_VQ_IN_ORDER;
	h.in_order = h.packed && (cfg & 8);
	/* split: a power of two; packed: any size */
	h.q = h.packed ? (uint16_t)(1 + fz_below(&f, MAXQ))
		       : (uint16_t)(1u << fz_below(&f, 7));
	uint16_t ind = (uint16_t)fz_below(&f, MAXSEG + 2);

	h.ctx = fz_ctx(1u << 20, 100);
	if (virtio_vq_init(h.ctx, &h.vq, 0, h.q, flags, ind) < 0)
		abort();
	h.data = pvio_dma_alloc(h.ctx, DATA_BYTES, 64);
	FZ_ASSERT(h.data && pvio_dma_translate(h.ctx, h.data, DATA_BYTES,
					       &h.data_addr) == 0, "data");
	h.p_avail_wrap = h.p_used_wrap = 1;

	for (unsigned step = 0; step < 4000 && fz_left(&f); step++) {
		uint8_t op = fz_u8(&f);
		switch (op % 10) {
		case 0:
		case 1:
			op_add(&h, &f);
			break;
		case 2:
			op_publish(&h);
			break;
		case 3:
			while ((h.packed ? packed_take(&h) : split_take(&h)) &&
			       fz_bool(&f))
				;
			break;
		case 4:
		case 5:
			op_complete(&h, &f);
			break;
		case 6:
			op_get(&h, 1 + fz_below(&f, 8));
			break;
		case 7:
			if (fz_bool(&f)) {
				int r = virtio_vq_arm(&h.vq);
				FZ_ASSERT(r == 0 || r == 1, "arm returned %d", r);
			} else {
				virtio_vq_disarm(&h.vq);
			}
			break;
		case 8:
			op_drained(&h, &f);
			break;
		default:
			if ((op >> 4) == 0xf) /* rarer than the honest ops */
				op_scribble(&h, &f);
			else
				op_get(&h, h.q);
			break;
		}
	}
	/* an honest device's completions all come back */
	if (!h.hostile) {
		while (h.nt)
			op_complete(&h, &f);
		op_get(&h, 2u * h.q + 2);
		for (uint32_t i = 0; i < h.nb; i++)
			FZ_ASSERT(h.b[i].done || !h.b[i].taken,
				  "token %u was completed by the device but "
				  "never returned", i);
	}
	virtio_vq_fini(h.ctx, &h.vq, false);
	free(h.b);
	fz_ctx_free(h.ctx);
	return 0;
}

/* ---------------------------------------------------------------- seeds */

void fz_seeds(fz_emit_fn emit, void *arg)
{
	struct fzb b = { 0 };
	for (unsigned cfg = 0; cfg < 16; cfg++) {
		char name[32];
		fzb_u8(&b, (uint8_t)cfg);
		fzb_u8(&b, cfg & 1 ? 7 : 3); /* q: 8 */
		fzb_u8(&b, (uint8_t)(cfg & 4 ? 5 : 0));
		for (unsigned round = 0; round < 6; round++) {
			for (unsigned i = 0; i < 3; i++) {
				fzb_u8(&b, 0);                 /* add */
				fzb_u8(&b, (uint8_t)(i + round) % 4); /* pieces-1 */
				fzb_u8(&b, 0xfe);              /* first readable */
				for (unsigned k = 0; k < 4; k++)
					fzb_u8(&b, (uint8_t)(15 + k * 10));
			}
			fzb_u8(&b, 2);                         /* publish */
			fzb_u8(&b, 3);                         /* take all */
			fzb_u8(&b, 1);
			fzb_u8(&b, 1);
			fzb_u8(&b, 0);
			for (unsigned i = 0; i < 3; i++) {
				fzb_u8(&b, 4);                 /* complete */
				fzb_u8(&b, (uint8_t)(2 - i));  /* which */
				fzb_u8(&b, 1);                 /* full length */
			}
			fzb_u8(&b, 7);                         /* arm */
			fzb_u8(&b, 1);
			fzb_u8(&b, 6);                         /* get */
			fzb_u8(&b, 7);
			fzb_u8(&b, 8);                         /* drained */
			fzb_u8(&b, 1);
		}
		snprintf(name, sizeof(name), "cfg%u", cfg);
		fzb_emit(&b, emit, arg, name);
	}
	fzb_free(&b);
}
