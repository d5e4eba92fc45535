/* SPDX-License-Identifier: MIT */
/*
 * frontends/net_pool.c - packet pools: allocation at attach, the packet
 * descriptors' private fields, alloc/free for the application, and keeping
 * the device's receive ring full.
 *
 * A packet the application hands back is checked before use: the magic,
 * its queue and slot, and that it is the very descriptor at that slot, in
 * the application's hands - so a stray, stale or doubly freed pointer is
 * refused instead of corrupting a pool.
 */
#include "netfe.h"

int fe_pool_init(pvio_ctx *ctx, struct fe_pool *p, unsigned q, unsigned kind,
		 uint32_t n, uint32_t size, uint32_t align)
{
	memset(p, 0, sizeof(*p));
	p->n = n;
	p->size = size;
	p->align = align;
	p->stride = (size + align - 1) / align * align;
	p->pkt = pvio_zalloc(ctx, n * sizeof(*p->pkt));
	p->free = pvio_zalloc(ctx, n * sizeof(*p->free));
	if (!p->pkt || !p->free) {
		fe_pool_fini(ctx, p, false);
		return pvio_set_error(ctx, ENOMEM, "out of memory");
	}
	p->mem = pvio_dma_alloc(ctx, (size_t)n * p->stride, align);
	if (!p->mem) {
		fe_pool_fini(ctx, p, false);
		return -ENOMEM;
	}
	if (pvio_dma_translate(ctx, p->mem, (size_t)n * p->stride,
			       &p->dev_addr) < 0) {
		fe_pool_fini(ctx, p, false);
		return pvio_set_error(ctx, EFAULT, "packet pool outside the DMA "
				      "pool");
	}
	for (uint32_t i = 0; i < n; i++) {
		struct pvio_pkt *k = &p->pkt[i];
		uintptr_t va = (uintptr_t)(p->mem + (size_t)i * p->stride);
		k->priv_[0] = FE_PKT_MAGIC;
		k->priv_[1] = i;
		k->priv_[2] = kind | FE_PKT_FREE << 8;
		k->priv_[3] = size;
		k->priv_[4] = (uint32_t)va;
		k->priv_[5] = (uint32_t)((uint64_t)va >> 32);
		k->queue = (uint16_t)q;
		k->data = (void *)va;
		p->free[i] = (uint16_t)(n - 1 - i);
	}
	p->nfree = n;
	return 0;
}

void fe_pool_fini(pvio_ctx *ctx, struct fe_pool *p, bool leak)
{
	/* buffers a host may still write (not quiesced) are not reused */
	if (p->mem && !leak)
		pvio_dma_free(ctx, p->mem);
	pvio_free(ctx, p->pkt);
	pvio_free(ctx, p->free);
	memset(p, 0, sizeof(*p));
}

void fe_pkt_set_state(struct pvio_pkt *p, unsigned state)
{
	p->priv_[2] = (p->priv_[2] & 0xffu) | state << 8;
}

uint32_t fe_pkt_slot(const struct pvio_pkt *p)
{
	return p->priv_[1];
}

uint8_t *fe_pkt_buf(const struct fe_pool *pool, uint32_t slot)
{
	return pool->mem + (size_t)slot * pool->stride;
}

static uint8_t *pkt_start(const struct pvio_pkt *p)
{
	return (uint8_t *)(uintptr_t)((uint64_t)p->priv_[5] << 32 | p->priv_[4]);
}

uint32_t pvio_pkt_room(const struct pvio_pkt *p)
{
	if (!p || p->priv_[0] != FE_PKT_MAGIC)
		return 0;
	uint8_t *start = pkt_start(p);
	uint8_t *d = p->data;
	if (d < start || d > start + p->priv_[3])
		return 0;
	return (uint32_t)(start + p->priv_[3] - d);
}

struct fe_pool *fe_pkt_pool(pvio_net *net, const struct pvio_pkt *p)
{
	if (!p || p->priv_[0] != FE_PKT_MAGIC || p->queue >= net->nq ||
	    FE_PKT_POOL(p) > FE_POOL_TX)
		return NULL;
	struct fe_pool *pool = &net->q[p->queue].pool[FE_PKT_POOL(p)];
	uint32_t slot = fe_pkt_slot(p);
	if (slot >= pool->n || &pool->pkt[slot] != p)
		return NULL;
	return pool;
}

void fe_pool_put(struct fe_pool *pool, struct pvio_pkt *p)
{
	fe_pkt_set_state(p, FE_PKT_FREE);
	pool->free[pool->nfree++] = (uint16_t)fe_pkt_slot(p);
}

struct pvio_pkt *fe_pool_get(struct fe_pool *pool)
{
	if (!pool->nfree)
		return NULL;
	struct pvio_pkt *p = &pool->pkt[pool->free[--pool->nfree]];
	fe_pkt_set_state(p, FE_PKT_APP);
	return p;
}

void fe_net_refill(pvio_net *net, unsigned q)
{
	struct fe_nq *nq = &net->q[q];
	struct fe_pool *pool = &nq->pool[FE_POOL_RX];
	pvio_dev *dev = net->dev;

	if (!pvio_dev_usable(dev))
		return;
	while (nq->rx_posted < net->ring && pool->nfree) {
		struct pvio_pkt *p = &pool->pkt[pool->free[pool->nfree - 1]];
		uint32_t slot = fe_pkt_slot(p);
		struct pvio_net_rxb b = {
			.tag = slot,
			.seg = { fe_pkt_buf(pool, slot),
				 pool->dev_addr + (uint64_t)slot * pool->stride,
				 pool->size },
		};
		if (dev->ops->net->rx_post(dev, q, &b) < 0)
			return; /* ring full, or failed: try again later */
		pool->nfree--;
		fe_pkt_set_state(p, FE_PKT_RX);
		nq->rx_posted++;
		nq->rx_kick = true;
	}
}

int fe_net_rx_kick(pvio_net *net, unsigned q)
{
	struct fe_nq *nq = &net->q[q];
	if (!nq->rx_kick || !pvio_dev_usable(net->dev))
		return 0;
	nq->rx_kick = false;
	return net->dev->ops->net->kick(net->dev, q, PVIO_NET_KICK_RX);
}

struct pvio_pkt *pvio_net_pkt_alloc(pvio_net *net, unsigned q)
{
	if (!net || q >= net->nq)
		return NULL;
	struct fe_pool *pool = &net->q[q].pool[FE_POOL_TX];
	if (!pool->nfree)
		fe_net_reclaim(net, q); /* transmissions may have finished */
	struct pvio_pkt *p = fe_pool_get(pool);
	if (!p)
		return NULL;
	p->data = fe_pkt_buf(pool, fe_pkt_slot(p));
	p->len = 0;
	p->flags = 0;
	p->csum_start = p->csum_offset = p->gso_size = p->hdr_len = 0;
	return p;
}

void pvio_net_pkt_free(pvio_net *net, struct pvio_pkt *p)
{
	if (!net || !p)
		return;
	struct fe_pool *pool = fe_pkt_pool(net, p);
	if (!pool || FE_PKT_STATE(p) != FE_PKT_APP) {
		pvio_log(net->ctx, PVIO_LOG_ERROR,
			 "pvio_net_pkt_free: %p is not a packet the "
			 "application holds (double free?); ignored",
			 (const void *)p);
		return;
	}
	fe_pool_put(pool, p);
	/* a receive buffer goes straight back to the device; the kick that
	 * tells it waits for the next burst or wait (one per batch) */
	if (FE_PKT_POOL(p) == FE_POOL_RX)
		fe_net_refill(net, p->queue);
}
