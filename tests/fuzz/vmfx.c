/* SPDX-License-Identifier: MIT */
/* tests/fuzz/vmfx.c - the Hyper-V host of the VMBus harnesses (see .h). */
#include "vmfx.h"

static struct vmfx *X(struct vmbus_hostif *h)
{
	return (struct vmfx *)(void *)h;
}

int vmfx_chan_of(struct vmfx *x, const struct vmbus_chan *ch)
{
	for (unsigned i = 0; i < VMFX_CHANS; i++)
		if (x->chans[i].ch == ch)
			return (int)i;
	return -1;
}

static void turn(struct vmfx *x, unsigned c, bool waited)
{
	if (x->in_turn || !x->process)
		return;
	x->in_turn = true;
	x->process(x, c, waited);
	x->in_turn = false;
}

static int h_find(struct vmbus_hostif *h, const struct vmbus_guid *cls,
		  unsigned idx, struct vmbus_offer *out)
{
	struct vmfx *x = X(h);
	if (idx || !vmbus_guid_eq(cls, &x->cls))
		return -ENODEV;
	memset(out, 0, sizeof(*out));
	out->if_type = x->cls;
	out->if_instance.b[0] = 0x42;
	out->relid = 1;
	out->present = 1;
	return 0;
}

static int h_subchannels(struct vmbus_hostif *h,
			 const struct vmbus_offer *primary, unsigned want,
			 uint64_t deadline, struct vmbus_offer *out)
{
	struct vmfx *x = X(h);
	(void)deadline;
	unsigned n = want < x->nsub ? want : x->nsub;
	for (unsigned i = 0; i < n; i++) {
		out[i] = *primary;
		out[i].relid = 2 + i;
		out[i].sub_index = (uint16_t)(1 + i);
	}
	return (int)n;
}

static int h_open(struct vmbus_hostif *h, struct vmbus_chan *ch,
		  uint32_t ring_bytes)
{
	struct vmfx *x = X(h);
	unsigned slot = VMFX_CHANS;
	for (unsigned i = 0; i < VMFX_CHANS; i++)
		if (!x->chans[i].ch) {
			slot = i;
			break;
		}
	FZ_ASSERT(slot < VMFX_CHANS, "too many channels");
	FZ_ASSERT(ring_bytes >= 2 * VMBUS_PAGE && !(ring_bytes % VMBUS_PAGE),
		  "ring of %u bytes", ring_bytes);
	void *mem = pvio_dma_alloc(x->ctx, 2 * (size_t)ring_bytes, VMBUS_PAGE);
	if (!mem)
		return pvio_set_error(x->ctx, ENOMEM, "no DMA memory for a ring");
	uint64_t a;
	pvio_dma_translate(x->ctx, mem, 2 * (size_t)ring_bytes, &a);
	ch->ring_mem = mem;
	ch->ring_dev_addr = a;
	ch->ring_bytes = ring_bytes;
	vmbus_ring_init(&ch->tx, mem, ring_bytes);
	vmbus_ring_init(&ch->rx, (uint8_t *)mem + ring_bytes, ring_bytes);
	vmbus_ring_setup(&ch->tx);
	vmbus_ring_setup(&ch->rx);
	ch->hostif = h;
	ch->open = true;
	struct vmfx_chan *c = &x->chans[slot];
	c->ch = ch;
	c->index = ch->offer.sub_index;
	hr_init(&c->tx, mem, ring_bytes);
	hr_init(&c->rx, (uint8_t *)mem + ring_bytes, ring_bytes);
	x->opened++;
	return 0;
}

static void h_close(struct vmbus_hostif *h, struct vmbus_chan *ch)
{
	struct vmfx *x = X(h);
	int c = vmfx_chan_of(x, ch);
	if (c >= 0)
		x->chans[c].ch = NULL;
	if (ch->ring_mem)
		pvio_dma_free(x->ctx, ch->ring_mem);
	ch->ring_mem = NULL;
	ch->open = false;
	x->closed++;
}

static int h_buf_get(struct vmbus_hostif *h, struct vmbus_chan *ch,
		     enum vmbus_buf_kind kind, size_t size, struct vmbus_buf *out)
{
	struct vmfx *x = X(h);
	(void)kind;
	unsigned slot = VMFX_BUFS;
	for (unsigned i = 0; i < VMFX_BUFS; i++)
		if (!x->bufs[i].va) {
			slot = i;
			break;
		}
	FZ_ASSERT(slot < VMFX_BUFS, "too many buffers");
	FZ_ASSERT(size && size <= (64u << 20), "buffer of %zu bytes", size);
	size = (size + VMBUS_PAGE - 1) & ~(size_t)(VMBUS_PAGE - 1);
	void *va = pvio_dma_alloc(x->ctx, size, VMBUS_PAGE);
	if (!va)
		return pvio_set_error(x->ctx, ENOMEM, "no DMA memory for a buffer");
	memset(out, 0, sizeof(*out));
	out->va = va;
	pvio_dma_translate(x->ctx, va, size, &out->dev_addr);
	out->len = size;
	out->gpadl = x->next_gpadl++;
	out->gpadl_live = true;
	int c = vmfx_chan_of(x, ch);
	x->bufs[slot] = (struct vmfx_buf){ out->gpadl, va, size,
					   c < 0 ? 0u : (unsigned)c };
	return 0;
}

static void h_buf_put(struct vmbus_hostif *h, struct vmbus_chan *ch,
		      struct vmbus_buf *b)
{
	struct vmfx *x = X(h);
	(void)ch;
	for (unsigned i = 0; i < VMFX_BUFS; i++)
		if (x->bufs[i].va == b->va)
			memset(&x->bufs[i], 0, sizeof(x->bufs[i]));
	if (b->va)
		pvio_dma_free(x->ctx, b->va);
	memset(b, 0, sizeof(*b));
}

static void h_signal(struct vmbus_hostif *h, struct vmbus_chan *ch)
{
	struct vmfx *x = X(h);
	int c = vmfx_chan_of(x, ch);
	FZ_ASSERT(c >= 0, "signal on a channel that is not open");
	turn(x, (unsigned)c, false);
}

static int h_irq_fd(struct vmbus_hostif *h, struct vmbus_chan *ch)
{
	(void)h, (void)ch;
	return -EOPNOTSUPP;
}

static void h_irq_ack(struct vmbus_hostif *h, struct vmbus_chan *ch)
{
	(void)h, (void)ch;
}

static int h_wait(struct vmbus_hostif *h, struct vmbus_chan *ch,
		  uint64_t deadline)
{
	struct vmfx *x = X(h);
	(void)deadline;
	int c = ch ? vmfx_chan_of(x, ch) : 0;
	if (c >= 0)
		turn(x, (unsigned)c, true);
	return ch && vmbus_ring_pending(&ch->rx) ? 1 : 0;
}

static int h_service(struct vmbus_hostif *h)
{
	(void)h;
	return 0;
}

static int h_event_fd(struct vmbus_hostif *h)
{
	(void)h;
	return -EOPNOTSUPP;
}

static void h_free(struct vmbus_hostif *h)
{
	(void)h; /* the harness owns it */
}

static const struct vmbus_hostif_ops ops = {
	.find = h_find,
	.subchannels = h_subchannels,
	.open = h_open,
	.close = h_close,
	.buf_get = h_buf_get,
	.buf_put = h_buf_put,
	.signal = h_signal,
	.irq_fd = h_irq_fd,
	.irq_ack = h_irq_ack,
	.wait = h_wait,
	.service = h_service,
	.event_fd = h_event_fd,
	.free = h_free,
};

void vmfx_init(struct vmfx *x, pvio_ctx *ctx, struct fz *f,
	       const struct vmbus_guid *cls, unsigned nsub)
{
	memset(x, 0, sizeof(*x));
	x->h.ops = &ops;
	x->h.ctx = ctx;
	x->h.name = "fuzz-hyperv";
	x->h.version = VMBUS_VERSION(5, 0);
	x->ctx = ctx;
	x->f = f;
	x->cls = *cls;
	x->nsub = nsub;
	x->next_gpadl = 0xE1E10;
}

int vmfx_get(struct vmfx *x, unsigned c, uint8_t *buf, uint32_t cap)
{
	if (c >= VMFX_CHANS || !x->chans[c].ch)
		return 0;
	return hr_get(&x->chans[c].tx, buf, cap);
}

int vmfx_put(struct vmfx *x, unsigned c, const void *pkt, uint32_t len)
{
	if (c >= VMFX_CHANS || !x->chans[c].ch)
		return -1;
	return hr_put(&x->chans[c].rx, pkt, len) < 0 ? -1 : 0;
}

int vmfx_send(struct vmfx *x, unsigned c, uint16_t type, uint16_t flags,
	      uint64_t tid, const void *payload, uint32_t len)
{
	uint8_t pkt[4096 + 64];
	if (len > 4096)
		len = 4096;
	uint32_t n = hp_build(pkt, type, flags, tid, NULL, 0, payload, len);
	return vmfx_put(x, c, pkt, n);
}

void *vmfx_pfn_va(struct vmfx *x, uint64_t pfn)
{
	if (pfn > (UINT64_MAX >> VMBUS_PAGE_SHIFT))
		return NULL;
	return pvio_dma_to_va(x->ctx, pfn << VMBUS_PAGE_SHIFT, VMBUS_PAGE);
}

struct vmfx_buf *vmfx_buf(struct vmfx *x, uint32_t g)
{
	for (unsigned i = 0; i < VMFX_BUFS; i++)
		if (x->bufs[i].va && x->bufs[i].gpadl == g)
			return &x->bufs[i];
	return NULL;
}
