/* SPDX-License-Identifier: MIT */
/*
 * frontends/net.c - the network front end's lifetime: open, attach (sizing
 * the rings and pools, asking for offloads, programming the MAC), close,
 * info, MAC changes and counters.
 *
 * Receive buffers are whole pages unless the device insists on another
 * exact size: that costs some memory, and is what lets the front end move
 * between protocols whose receive rules differ (one of them wants whole
 * 4096-byte pages) without replacing buffers the application may hold.
 */
#include "netfe.h"

#define NET_OFFLOADS (PVIO_F_NET_CSUM_TX | PVIO_F_NET_CSUM_RX | \
		      PVIO_F_NET_TSO4 | PVIO_F_NET_TSO6)

static const char *addr_of(const pvio_dev *dev)
{
	return dev->info.address ? dev->info.address : "device";
}

static uint32_t mtu_of(const pvio_dev *dev)
{
	return dev->limits.net.mtu ? dev->limits.net.mtu : 1500;
}

int fe_net_limits_check(pvio_ctx *ctx, const pvio_dev *dev)
{
	const struct pvio_net_limits *l = &dev->limits.net;
	uint32_t mtu = mtu_of(dev);
	if (mtu < 68 || mtu > 65535 || !l->max_queues || !l->queue_size ||
	    !l->max_tx_segments || l->max_tx_frame < 60 ||
	    (l->rx_buf_align && (!fe_pow2(l->rx_buf_align) ||
				 l->rx_buf_align > PVIO_PAGE_SIZE)) ||
	    (l->tx_seg_boundary && (!fe_pow2(l->tx_seg_boundary) ||
				    l->tx_seg_boundary < 256)) ||
	    l->rx_buf_min > (1u << 20) || l->rx_buf_exact > (1u << 20))
		return pvio_set_error(ctx, EINVAL,
				      "%s: network limits are unusable (MTU %u, "
				      "%u queues of %u, %u TX segments, TX "
				      "frame %u, RX align %u)",
				      addr_of(dev), mtu, l->max_queues,
				      l->queue_size, l->max_tx_segments,
				      l->max_tx_frame, l->rx_buf_align);
	if (l->rx_buf_exact && l->rx_buf_exact < mtu + FE_NET_L2_OVERHEAD)
		return pvio_set_error(ctx, EINVAL,
				      "%s: receive buffers must be exactly %u "
				      "bytes, too small for MTU %u",
				      addr_of(dev), l->rx_buf_exact, mtu);
	return 0;
}

uint32_t fe_net_tx_max(const pvio_dev *dev, uint32_t mtu, uint32_t tx_size,
		       uint64_t granted)
{
	const struct pvio_net_limits *l = &dev->limits.net;
	uint64_t m = fe_min(l->max_tx_frame, tx_size);
	if (!(granted & (PVIO_F_NET_TSO4 | PVIO_F_NET_TSO6)))
		m = fe_min(m, mtu + FE_NET_L2_OVERHEAD);
	uint32_t segs = (uint32_t)fe_min(l->max_tx_segments, FE_NET_MAX_SEGS);
	/* data may start anywhere in its buffer, which costs one segment
	 * more; with a single segment, buffers that start on the boundary
	 * still carry a whole boundary's worth */
	if (l->tx_seg_boundary)
		m = fe_min(m, (uint64_t)(segs > 1 ? segs - 1 : 1) *
				      l->tx_seg_boundary);
	return (uint32_t)m;
}

static void mac_str(const uint8_t *m, char *b, size_t n)
{
	pvio_snprintf(b, n, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2],
		      m[3], m[4], m[5]);
}

int fe_net_mac(pvio_net *net, pvio_dev *dev, const uint8_t *want)
{
	const uint8_t *have = dev->limits.net.mac;
	if (!want || !memcmp(want, have, 6)) {
		memcpy(net->mac, have, 6);
		return 0;
	}
	int r = dev->ops->net->set_mac ? dev->ops->net->set_mac(dev, want)
				       : -EOPNOTSUPP;
	if (!r) {
		memcpy(net->mac, want, 6);
		return 0;
	}
	if (net->flags & PVIO_NET_ADOPT_MAC) {
		memcpy(net->mac, have, 6);
		return 0;
	}
	char a[24], b[24];
	mac_str(have, a, sizeof(a));
	mac_str(want, b, sizeof(b));
	return pvio_set_error(net->ctx, EADDRNOTAVAIL,
			      "%s has MAC %s and cannot be given %s (%s); "
			      "use PVIO_NET_ADOPT_MAC to keep the device's",
			      addr_of(dev), a, b, pvio_strerror(r));
}

static int opts_of(pvio_ctx *ctx, const struct pvio_net_opts *in,
		   struct pvio_net_opts *o)
{
	memset(o, 0, sizeof(*o));
	if (in) {
		if (in->struct_size < sizeof(size_t))
			return pvio_set_error(ctx, EINVAL,
					      "pvio_net_opts: set struct_size");
		size_t n = in->struct_size < sizeof(*o) ? in->struct_size
							: sizeof(*o);
		memcpy(o, in, n);
	}
	if (o->flags & ~(uint32_t)(PVIO_NET_BUSY_POLL | PVIO_NET_ADOPT_MAC))
		return pvio_set_error(ctx, EINVAL,
				      "pvio_net_opts: unknown flags 0x%x",
				      o->flags);
	if (o->offloads & ~(uint64_t)NET_OFFLOADS)
		return pvio_set_error(ctx, EINVAL,
				      "pvio_net_opts: offloads 0x%llx are not "
				      "network offloads",
				      (unsigned long long)o->offloads);
	if (o->ring_size > FE_NET_MAX_RING || o->buf_size > (1u << 20))
		return pvio_set_error(ctx, EINVAL,
				      "pvio_net_opts: ring size %u or buffer "
				      "size %u too large",
				      o->ring_size, o->buf_size);
	return 0;
}

static void net_free(pvio_net *net, bool leak)
{
	pvio_ctx *ctx = net->ctx;
	if (net->q) {
		for (unsigned q = 0; q < net->nq; q++) {
			struct fe_nq *nq = &net->q[q];
			fe_pool_fini(ctx, &nq->pool[FE_POOL_RX], leak);
			fe_pool_fini(ctx, &nq->pool[FE_POOL_TX], leak);
			pvio_free(ctx, nq->rxc);
			pvio_free(ctx, nq->tags);
			pvio_free(ctx, nq->seg);
			pvio_free(ctx, nq->stash);
		}
	}
	if (net->fdset)
		fe_fdsets_free(ctx, net->nq, net->fdset);
	pvio_free(ctx, net->fdset);
	pvio_free(ctx, net->retired);
	pvio_free(ctx, net->q);
	pvio_free(ctx, net);
}

/* Pools and per-queue arrays, once the offloads (and so the TX buffer
 * size) are known. */
static int queues_init(pvio_net *net, const struct pvio_net_opts *o)
{
	pvio_ctx *ctx = net->ctx;
	const struct pvio_net_limits *l = &net->dev->limits.net;
	uint32_t l2 = net->mtu + FE_NET_L2_OVERHEAD;
	uint32_t pool = o->pool_size ? o->pool_size : 2 * net->ring;
	uint32_t rx_n = net->ring + pool / 2, tx_n = net->ring + pool - pool / 2;
	if (rx_n > FE_NET_MAX_POOL || tx_n > FE_NET_MAX_POOL)
		return pvio_set_error(ctx, EINVAL,
				      "%u packet buffers per queue is too many "
				      "(at most %u per direction)",
				      rx_n + tx_n, FE_NET_MAX_POOL);
	uint32_t rx_size, rx_align = (uint32_t)fe_max(l->rx_buf_align, 64);
	if (l->rx_buf_exact) {
		rx_size = l->rx_buf_exact;
	} else {
		rx_size = (uint32_t)fe_max(fe_max(l2, l->rx_buf_min), o->buf_size);
		rx_size = (rx_size + PVIO_PAGE_SIZE - 1) & ~(PVIO_PAGE_SIZE - 1);
		rx_align = PVIO_PAGE_SIZE;
	}
	bool tso = net->granted & (PVIO_F_NET_TSO4 | PVIO_F_NET_TSO6);
	uint32_t tx_size = o->buf_size ? o->buf_size
				       : tso ? FE_NET_TSO_BUF : (l2 + 63) & ~63u;
	/* small buffers on a power-of-two stride never cross a page */
	uint32_t tx_align = tx_size <= PVIO_PAGE_SIZE
				    ? (uint32_t)fe_pow2_floor(2 * tx_size - 1)
				    : PVIO_PAGE_SIZE;
	if (tx_align < 64)
		tx_align = 64;
	net->max_tx_frame = fe_net_tx_max(net->dev, net->mtu, tx_size,
					  net->granted);
	net->max_tx_segs = (uint32_t)fe_min(l->max_tx_segments, FE_NET_MAX_SEGS);
	net->tx_boundary = l->tx_seg_boundary;
	for (unsigned q = 0; q < net->nq; q++) {
		struct fe_nq *nq = &net->q[q];
		int r = fe_pool_init(ctx, &nq->pool[FE_POOL_RX], q, FE_POOL_RX,
				     rx_n, rx_size, rx_align);
		if (r < 0)
			return r;
		r = fe_pool_init(ctx, &nq->pool[FE_POOL_TX], q, FE_POOL_TX, tx_n,
				 tx_size, tx_align);
		if (r < 0)
			return r;
		nq->rxc = pvio_zalloc(ctx, FE_NET_BATCH * sizeof(*nq->rxc));
		nq->tags = pvio_zalloc(ctx, FE_NET_BATCH * sizeof(*nq->tags));
		nq->seg = pvio_zalloc(ctx, FE_NET_MAX_SEGS * sizeof(*nq->seg));
		nq->stash = pvio_zalloc(ctx, rx_n * sizeof(*nq->stash));
		if (!nq->rxc || !nq->tags || !nq->seg || !nq->stash)
			return pvio_set_error(ctx, ENOMEM, "out of memory");
	}
	return 0;
}

int pvio_net_attach(pvio_dev *dev, const struct pvio_net_opts *opts,
		    pvio_net **out)
{
	struct pvio_net_opts o;
	pvio_net *net = NULL;
	int r;

	if (!dev || !out) {
		if (dev)
			pvio_dev_close(dev);
		return -EINVAL;
	}
	*out = NULL;
	pvio_ctx *ctx = dev->ctx;
	const struct pvio_net_limits *l = &dev->limits.net;
	if ((r = opts_of(ctx, opts, &o)) < 0)
		goto fail;
	if (dev->info.cls != PVIO_CLASS_NET) {
		r = pvio_set_error(ctx, EINVAL,
				   "%s is a %s device, not a network device",
				   addr_of(dev), pvio_class_name(dev->info.cls));
		goto fail;
	}
	const struct pvio_net_ops *ops = dev->ops->net;
	if (!ops || !ops->tx_enqueue || !ops->tx_reap || !ops->rx_post ||
	    !ops->rx_reap || !ops->kick || !dev->ops->configure) {
		r = pvio_set_error(ctx, EINVAL,
				   "%s: the back end has no network operations",
				   addr_of(dev));
		goto fail;
	}
	if ((r = fe_net_limits_check(ctx, dev)) < 0)
		goto fail;
	net = pvio_zalloc(ctx, sizeof(*net));
	if (!net) {
		r = pvio_set_error(ctx, ENOMEM, "out of memory");
		goto fail;
	}
	net->ctx = ctx;
	net->dev = dev;
	net->flags = o.flags;
	net->mtu = mtu_of(dev);
	net->offloads = o.offloads;
	net->nq = (uint32_t)fe_min(o.num_queues ? o.num_queues : 1,
				   l->max_queues);
	net->ring = o.ring_size ? o.ring_size
				: (uint32_t)fe_min(l->queue_size, 256);
	net->ring = (uint32_t)fe_min(net->ring, l->queue_size);
	net->q = pvio_zalloc(ctx, net->nq * sizeof(*net->q));
	net->retired = pvio_zalloc(ctx, net->nq * sizeof(*net->retired));
	net->fdset = pvio_zalloc(ctx, net->nq * sizeof(*net->fdset));
	if (!net->q || !net->retired || !net->fdset) {
		r = pvio_set_error(ctx, ENOMEM, "out of memory");
		goto fail;
	}
	for (unsigned q = 0; q < net->nq; q++)
		net->fdset[q] = -1;
	uint32_t pool = o.pool_size ? o.pool_size : 2 * net->ring;
	struct pvio_dev_config cfg = {
		.num_queues = net->nq,
		.max_tags = 2 * net->ring + pool,
		.want = o.offloads,
		.mac = o.mac,
	};
	if ((r = pvio_dev_configure(dev, &cfg)) < 0)
		goto fail;
	if (dev->info.num_queues && dev->info.num_queues < net->nq) {
		r = pvio_set_error(ctx, EIO, "%s: started %u queues of %u",
				   addr_of(dev), dev->info.num_queues, net->nq);
		goto fail;
	}
	net->granted = dev->info.features & o.offloads;
	if ((r = fe_net_mac(net, dev, o.mac)) < 0 ||
	    (r = queues_init(net, &o)) < 0)
		goto fail;
	for (unsigned q = 0; q < net->nq; q++) {
		fe_net_refill(net, q);
		fe_net_rx_kick(net, q);
	}
	fe_fdsets_new(ctx, net->nq, net->fdset);
	fe_fdsets_attach(dev, net->nq, net->fdset);
	*out = net;
	return 0;

fail:
	if (net)
		net_free(net, false);
	pvio_dev_close(dev);
	return r;
}

int pvio_net_open(pvio_ctx *ctx, const char *address,
		  const struct pvio_net_opts *opts, pvio_net **out)
{
	pvio_dev *dev;
	if (!ctx || !address || !out)
		return -EINVAL;
	*out = NULL;
	int r = pvio_dev_open(ctx, address, &dev);
	if (r < 0)
		return r;
	if (dev->info.cls != PVIO_CLASS_NET) {
		r = pvio_set_error(ctx, EINVAL,
				   "%s is a %s device; open it with "
				   "pvio_blk_open",
				   address, pvio_class_name(dev->info.cls));
		pvio_dev_close(dev);
		return r;
	}
	return pvio_net_attach(dev, opts, out);
}

void pvio_net_close(pvio_net *net)
{
	if (!net)
		return;
	fe_net_stop(net); /* bounded drain of transmissions, quiesce */
	fe_fdsets_detach(net->dev, net->nq, net->fdset);
	pvio_dev_close(net->dev);
	net_free(net, net->stop_ret < 0);
}

int pvio_net_get_info(pvio_net *net, struct pvio_net_info *info)
{
	if (!net || !info)
		return -EINVAL;
	struct pvio_net_info i = {
		.struct_size = sizeof(i),
		.link_up = net->dev->limits.net.link_up,
		.mtu = net->mtu,
		.num_queues = net->nq,
		.ring_size = net->ring,
		.buf_size = net->q[0].pool[FE_POOL_TX].size,
		.max_tx_frame = net->max_tx_frame,
		.features = net->dev->info.features,
	};
	memcpy(i.mac, net->mac, 6);
	return fe_copy_versioned(info, &i, sizeof(i));
}

pvio_dev *pvio_net_dev(pvio_net *net)
{
	return net ? net->dev : NULL;
}

pvio_ctx *pvio_net_ctx(pvio_net *net)
{
	return net ? net->ctx : NULL;
}

int pvio_net_set_mac(pvio_net *net, const uint8_t mac[6])
{
	if (!net || !mac)
		return -EINVAL;
	pvio_dev *dev = net->dev;
	int r = dev->ops->net->set_mac ? dev->ops->net->set_mac(dev, mac)
				       : -EOPNOTSUPP;
	if (r < 0)
		return pvio_set_error(net->ctx, r,
				      "%s: cannot change the MAC: %s",
				      addr_of(dev), pvio_strerror(r));
	memcpy(net->mac, mac, 6);
	return 0;
}

int pvio_net_get_stats(pvio_net *net, unsigned q, struct pvio_queue_stats *st)
{
	if (!net || !st || q >= net->nq)
		return -EINVAL;
	fe_stats_sum(net->dev, net->retired, q, st);
	return 0;
}
