/* SPDX-License-Identifier: MIT */
/*
 * frontends/net_io.c - the network data path: transmit bursts with one
 * kick, reclaiming finished transmissions, receive bursts, waiting, and
 * the copying send/recv helpers.  No allocation, no lock; offloads the
 * device did not grant are done in software (checksums) or refused (GSO).
 */
#include "netfe.h"

#define GSO_FLAGS (PVIO_PKT_GSO_TCPV4 | PVIO_PKT_GSO_TCPV6)

/* A batch of completions arrived: what migration downtime is measured
 * with (one clock read per batch). */
static void completions(pvio_net *net, struct fe_nq *nq)
{
	nq->last_ns = pvio_now_ns(net->ctx);
	if (nq->await_first) {
		nq->first_ns = nq->last_ns;
		nq->await_first = false;
	}
}

static int dev_err(pvio_net *net, unsigned q, const char *what, int r)
{
	if (pvio_dev_usable(net->dev))
		pvio_dev_set_broken(net->dev, "queue %u: %s failed: %s", q, what,
				    pvio_strerror(r));
	return fe_dev_err(net->dev);
}

/* A tag from the back end: the packet, or NULL (and the device broken). */
static struct pvio_pkt *tx_pkt(pvio_net *net, unsigned q, uint32_t tag)
{
	struct fe_nq *nq = &net->q[q];
	uint32_t ntx = nq->pool[FE_POOL_TX].n;
	struct pvio_pkt *p = NULL;
	if (tag < ntx)
		p = &nq->pool[FE_POOL_TX].pkt[tag];
	else if (tag - ntx < nq->pool[FE_POOL_RX].n)
		p = &nq->pool[FE_POOL_RX].pkt[tag - ntx];
	if (!p || FE_PKT_STATE(p) != FE_PKT_TX) {
		pvio_dev_set_broken(net->dev,
				    "queue %u: transmit completion for tag %u, "
				    "which is not in flight",
				    q, tag);
		return NULL;
	}
	return p;
}

/* Take back what the device finished transmitting.  Count or -errno. */
int fe_net_reclaim(pvio_net *net, unsigned q)
{
	struct fe_nq *nq = &net->q[q];
	pvio_dev *dev = net->dev;
	int total = 0;

	while (nq->tx_inflight) {
		int n = dev->ops->net->tx_reap(dev, q, nq->tags, FE_NET_BATCH);
		if (n < 0 || n > (int)FE_NET_BATCH)
			return dev_err(net, q, "transmit reap", n < 0 ? n : -EIO);
		if (n)
			completions(net, nq);
		for (int i = 0; i < n; i++) {
			struct pvio_pkt *p = tx_pkt(net, q, nq->tags[i]);
			if (!p)
				return -EIO;
			nq->tx_inflight--;
			nq->tx_done++;
			dev->stats[q].requests++;
			dev->stats[q].bytes += p->len;
			struct fe_pool *pool = &nq->pool[FE_PKT_POOL(p)];
			fe_pool_put(pool, p);
			if (FE_PKT_POOL(p) == FE_POOL_RX)
				fe_net_refill(net, q); /* a forwarded frame */
		}
		total += n;
		if (n < (int)FE_NET_BATCH)
			break;
	}
	return total;
}

/* Is p fit to transmit as it is?  0 or -errno (with a message). */
static int tx_check(pvio_net *net, unsigned q, const struct pvio_pkt *p)
{
	pvio_ctx *ctx = net->ctx;
	struct fe_pool *pool = fe_pkt_pool(net, p);
	if (!pool || p->queue != q || FE_PKT_STATE(p) != FE_PKT_APP)
		return pvio_set_error(ctx, EINVAL,
				      "tx: packet %p is not one of queue %u's "
				      "packets held by the application",
				      (const void *)p, q);
	if (p->len > net->max_tx_frame)
		return pvio_set_error(ctx, EMSGSIZE,
				      "tx: %u-byte frame exceeds the %u-byte "
				      "maximum",
				      p->len, net->max_tx_frame);
	if (!p->len || p->len > pvio_pkt_room(p))
		return pvio_set_error(ctx, EINVAL,
				      "tx: length %u does not fit the packet "
				      "buffer (%u bytes of room)",
				      p->len, pvio_pkt_room(p));
	if (p->flags & ~(uint32_t)(PVIO_PKT_CSUM_PARTIAL | GSO_FLAGS))
		return pvio_set_error(ctx, EINVAL, "tx: flags 0x%x are not "
				      "transmit flags", p->flags);
	if (p->flags & GSO_FLAGS) {
		uint64_t need = p->flags & PVIO_PKT_GSO_TCPV4 ? PVIO_F_NET_TSO4
							      : PVIO_F_NET_TSO6;
		if ((p->flags & GSO_FLAGS) == GSO_FLAGS || !(net->granted & need))
			return pvio_set_error(ctx, EOPNOTSUPP,
					      "tx: segmentation offload was not "
					      "granted by %s",
					      net->dev->info.address);
		if (!p->gso_size || !p->hdr_len || p->hdr_len >= p->len)
			return pvio_set_error(ctx, EINVAL,
					      "tx: GSO needs gso_size and a "
					      "header length below the frame "
					      "length");
	} else if (p->len > net->mtu + FE_NET_L2_OVERHEAD) {
		return pvio_set_error(ctx, EMSGSIZE,
				      "tx: %u-byte frame is larger than the "
				      "MTU allows (%u) without GSO",
				      p->len, net->mtu + FE_NET_L2_OVERHEAD);
	}
	if ((p->flags & PVIO_PKT_CSUM_PARTIAL) &&
	    (p->csum_start >= p->len ||
	     (uint32_t)p->csum_start + p->csum_offset + 2 > p->len))
		return pvio_set_error(ctx, EINVAL,
				      "tx: checksum at %u+%u is outside the "
				      "%u-byte frame",
				      p->csum_start, p->csum_offset, p->len);
	return 0;
}

/* Segments of p's data that keep the device's boundary rule. */
static unsigned tx_segs(pvio_net *net, struct fe_nq *nq,
			const struct pvio_pkt *p)
{
	const struct fe_pool *pool = &nq->pool[FE_PKT_POOL(p)];
	uint8_t *d = p->data;
	uint64_t da = pool->dev_addr + (uint64_t)(d - pool->mem);
	uint32_t left = p->len;
	unsigned n = 0;
	while (left) {
		uint32_t len = left;
		if (net->tx_boundary) {
			uint32_t to = net->tx_boundary -
				      (uint32_t)((uintptr_t)d % net->tx_boundary);
			if (len > to)
				len = to;
		}
		if (n == net->max_tx_segs)
			return 0;
		nq->seg[n++] = (struct pvio_dseg){ d, da, len };
		d += len;
		da += len;
		left -= len;
	}
	return n;
}

int pvio_net_tx_burst(pvio_net *net, unsigned q, struct pvio_pkt **pkts,
		      unsigned n)
{
	if (!net || q >= net->nq || (n && !pkts))
		return -EINVAL;
	struct fe_nq *nq = &net->q[q];
	pvio_dev *dev = net->dev;
	if (!pvio_dev_usable(dev))
		return pvio_set_error(net->ctx, -fe_dev_err(dev), "%s: %s",
				      dev->info.address, dev->reason);
	/* refuse bad packets before taking any */
	for (unsigned i = 0; i < n; i++) {
		int r = tx_check(net, q, pkts[i]);
		if (r < 0)
			return r;
	}
	fe_net_reclaim(net, q);
	unsigned taken = 0;
	for (; taken < n && nq->tx_inflight < net->ring; taken++) {
		struct pvio_pkt *p = pkts[taken];
		unsigned nseg = tx_segs(net, nq, p);
		if (!nseg) {
			if (taken)
				break;
			return pvio_set_error(net->ctx, EMSGSIZE,
					      "tx: frame needs more than %u "
					      "segments",
					      net->max_tx_segs);
		}
		uint32_t flags = p->flags;
		if ((flags & PVIO_PKT_CSUM_PARTIAL) &&
		    !(net->granted & PVIO_F_NET_CSUM_TX)) {
			fe_net_csum_fill(p->data, p->len, p->csum_start,
					 p->csum_offset);
			flags &= ~(uint32_t)PVIO_PKT_CSUM_PARTIAL;
		}
		uint32_t tag = fe_pkt_slot(p);
		if (FE_PKT_POOL(p) == FE_POOL_RX)
			tag += nq->pool[FE_POOL_TX].n;
		struct pvio_net_txd t = {
			.tag = tag,
			.nseg = (uint16_t)nseg,
			.len = p->len,
			.flags = flags,
			.csum_start = p->csum_start,
			.csum_offset = p->csum_offset,
			.gso_size = flags & GSO_FLAGS ? p->gso_size : 0,
			.hdr_len = flags & GSO_FLAGS ? p->hdr_len : 0,
			.seg = nq->seg,
		};
		int r = dev->ops->net->tx_enqueue(dev, q, &t);
		if (r == -EAGAIN)
			break;
		if (r < 0) {
			if (taken)
				break;
			return r == -EIO || r == -ENODEV
				       ? dev_err(net, q, "transmit", r)
				       : r;
		}
		fe_pkt_set_state(p, FE_PKT_TX);
		nq->tx_inflight++;
		dev->stats[q].device_requests++;
	}
	if (taken) {
		int r = dev->ops->net->kick(dev, q, PVIO_NET_KICK_TX);
		if (r < 0)
			dev_err(net, q, "transmit kick", r);
	}
	return (int)taken;
}

/* Turn one receive completion into a packet for the caller, or re-post
 * the buffer.  NULL when there is no frame. */
static struct pvio_pkt *rx_one(pvio_net *net, unsigned q,
			       const struct pvio_net_rxc *c)
{
	struct fe_nq *nq = &net->q[q];
	struct fe_pool *pool = &nq->pool[FE_POOL_RX];
	pvio_dev *dev = net->dev;
	if (c->tag >= pool->n || FE_PKT_STATE(&pool->pkt[c->tag]) != FE_PKT_RX) {
		pvio_dev_set_broken(dev,
				    "queue %u: receive completion for tag %u, "
				    "which is not posted",
				    q, c->tag);
		return NULL;
	}
	struct pvio_pkt *p = &pool->pkt[c->tag];
	nq->rx_posted--;
	if (c->status < 0 || !c->len || c->offset > pool->size ||
	    c->len > pool->size - c->offset) {
		/* a bad frame from the host: count it, reuse the buffer */
		dev->stats[q].rx_errors++;
		fe_pool_put(pool, p);
		return NULL;
	}
	p->data = fe_pkt_buf(pool, c->tag) + c->offset;
	p->len = c->len;
	p->flags = 0;
	p->csum_start = p->csum_offset = p->gso_size = p->hdr_len = 0;
	uint32_t f = c->flags & (PVIO_PKT_CSUM_PARTIAL | PVIO_PKT_CSUM_VALID);
	if ((f & PVIO_PKT_CSUM_PARTIAL) &&
	    (c->csum_start >= c->len ||
	     (uint32_t)c->csum_start + c->csum_offset + 2 > c->len)) {
		/* the application would write outside the frame */
		dev->stats[q].rx_errors++;
		fe_pool_put(pool, p);
		return NULL;
	}
	if (net->granted & PVIO_F_NET_CSUM_RX) {
		p->flags = f;
		p->csum_start = c->csum_start;
		p->csum_offset = c->csum_offset;
	} else if (f & PVIO_PKT_CSUM_PARTIAL) {
		/* not asked for: finish the checksum so the frame is normal */
		fe_net_csum_fill(p->data, p->len, c->csum_start, c->csum_offset);
	}
	fe_pkt_set_state(p, FE_PKT_APP);
	dev->stats[q].requests++;
	dev->stats[q].bytes += p->len;
	return p;
}

/* Reap up to max received frames into pkts (or the stash). */
int fe_net_rx_reap(pvio_net *net, unsigned q, struct pvio_pkt **pkts,
		   unsigned max, bool to_stash)
{
	struct fe_nq *nq = &net->q[q];
	pvio_dev *dev = net->dev;
	unsigned got = 0;
	while (got < max && nq->rx_posted) {
		unsigned want = (unsigned)fe_min(max - got, FE_NET_BATCH);
		int n = dev->ops->net->rx_reap(dev, q, nq->rxc, want);
		if (n < 0 || n > (int)want)
			return got ? (int)got
				   : dev_err(net, q, "receive reap",
					     n < 0 ? n : -EIO);
		if (n)
			completions(net, nq);
		for (int i = 0; i < n; i++) {
			struct pvio_pkt *p = rx_one(net, q, &nq->rxc[i]);
			if (!p)
				continue;
			if (to_stash)
				nq->stash[(nq->stash_h + nq->stash_n++) %
					  nq->pool[FE_POOL_RX].n] = p;
			else
				pkts[got] = p;
			got++;
		}
		if (n < (int)want)
			break;
	}
	return (int)got;
}

int pvio_net_rx_burst(pvio_net *net, unsigned q, struct pvio_pkt **pkts,
		      unsigned max)
{
	if (!net || q >= net->nq || (max && !pkts))
		return -EINVAL;
	struct fe_nq *nq = &net->q[q];
	pvio_dev *dev = net->dev;
	unsigned n = 0;
	unsigned cap = nq->pool[FE_POOL_RX].n;

	/* frames that arrived while the front end moved come first */
	while (n < max && nq->stash_n) {
		pkts[n++] = nq->stash[nq->stash_h];
		nq->stash_h = (nq->stash_h + 1) % cap;
		nq->stash_n--;
	}
	if (!pvio_dev_usable(dev))
		return n ? (int)n : fe_dev_err(dev);
	if (nq->fd_mode && !(net->flags & PVIO_NET_BUSY_POLL))
		pvio_dev_wait(dev, q, 0); /* consume the notification */
	for (unsigned round = 0; round < 4; round++) {
		int r = fe_net_rx_reap(net, q, pkts + n, max - n, false);
		if (r < 0)
			return n ? (int)n : r;
		n += (unsigned)r;
		/* with an fd user, re-arm before returning short */
		if (n == max || !nq->fd_mode || !dev->ops->queue_arm ||
		    dev->ops->queue_arm(dev, q) != 1)
			break;
	}
	fe_net_refill(net, q);
	fe_net_rx_kick(net, q);
	return (int)n;
}

int pvio_net_wait(pvio_net *net, unsigned q, int64_t timeout_ns)
{
	if (!net || q >= net->nq)
		return -EINVAL;
	struct fe_nq *nq = &net->q[q];
	pvio_dev *dev = net->dev;
	if (nq->stash_n)
		return 1;
	if (!pvio_dev_usable(dev))
		return fe_dev_err(dev);
	/* Finished transmissions count as work for queue_arm: take them
	 * back first, or a loop that only receives would never sleep. */
	if (nq->tx_inflight && fe_net_reclaim(net, q) < 0)
		return fe_dev_err(dev);
	/* the device cannot deliver into buffers it was not told about */
	fe_net_refill(net, q);
	fe_net_rx_kick(net, q);
	if (net->flags & PVIO_NET_BUSY_POLL)
		return 1;
	uint64_t deadline = timeout_ns ? fe_deadline(net->ctx, timeout_ns) : 0;
	return pvio_dev_wait(dev, q, deadline);
}

int pvio_net_fd(pvio_net *net, unsigned q)
{
	if (!net || q >= net->nq)
		return -EINVAL;
	int fd = fe_fdset_get(net->dev, net->fdset, q);
	if (fd >= 0)
		net->q[q].fd_mode = true;
	return fd;
}

int pvio_net_send(pvio_net *net, unsigned q, const void *frame, size_t len,
		  const struct pvio_net_meta *meta)
{
	if (!net || q >= net->nq || !frame)
		return -EINVAL;
	struct pvio_pkt *p = pvio_net_pkt_alloc(net, q);
	if (!p)
		return pvio_dev_usable(net->dev) ? -EAGAIN
						 : fe_dev_err(net->dev);
	if (len > pvio_pkt_room(p) || len > net->max_tx_frame) {
		pvio_net_pkt_free(net, p);
		return pvio_set_error(net->ctx, EMSGSIZE,
				      "send: %zu-byte frame exceeds the %u-byte "
				      "maximum",
				      len, net->max_tx_frame);
	}
	memcpy(p->data, frame, len);
	p->len = (uint32_t)len;
	if (meta) {
		p->flags = meta->flags;
		p->csum_start = meta->csum_start;
		p->csum_offset = meta->csum_offset;
		p->gso_size = meta->gso_size;
		p->hdr_len = meta->hdr_len;
	}
	int r = pvio_net_tx_burst(net, q, &p, 1);
	if (r != 1) {
		pvio_net_pkt_free(net, p);
		return r < 0 ? r : -EAGAIN;
	}
	net->dev->stats[q].copies++;
	net->dev->stats[q].copy_bytes += len;
	return 0;
}

int pvio_net_recv(pvio_net *net, unsigned q, void *buf, size_t cap,
		  struct pvio_net_meta *meta)
{
	struct pvio_pkt *p;
	if (!net || q >= net->nq || (cap && !buf))
		return -EINVAL;
	int r = pvio_net_rx_burst(net, q, &p, 1);
	if (r <= 0)
		return r;
	int len = (int)p->len;
	if (p->len > cap) {
		pvio_net_pkt_free(net, p);
		return pvio_set_error(net->ctx, EMSGSIZE,
				      "recv: %d-byte frame does not fit %zu "
				      "bytes; dropped",
				      len, cap);
	}
	memcpy(buf, p->data, p->len);
	if (meta)
		*meta = (struct pvio_net_meta){ p->flags, p->csum_start,
						p->csum_offset, 0, 0 };
	net->dev->stats[q].copies++;
	net->dev->stats[q].copy_bytes += p->len;
	pvio_net_pkt_free(net, p);
	return len;
}
