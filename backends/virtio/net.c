/* SPDX-License-Identifier: MIT */
/*
 * backends/virtio/net.c - the virtio-net adapter.
 *
 * Queue pair q is receiveq 2q and transmitq 2q+1; both share notification
 * group q.  Every frame carries the 12-byte virtio_net_hdr (VERSION_1).
 * TX: the header sits in a per-tag slot of DMA memory, followed by the
 * caller's segments (one indirect descriptor when negotiated).  RX: one
 * device-writable descriptor per posted buffer; the device writes the
 * header and the frame into it, so the frame is at offset 12.  The header
 * is copied out of the buffer once and checked (length, checksum offsets,
 * no GSO that was not negotiated); a bad frame is returned with an error
 * status and counted in rx_errors, it does not break the device.
 *
 * Config space (MAC, MTU, link status, queue pairs) and the control queue
 * are used when the device offers them.  A vhost-user net back end has
 * neither (VIRTIO_HF_VMM_NET): then pvio plays the VMM's part as QEMU does
 * - the MAC is the front end's (default: a locally administered address
 * derived from the device address, so it is stable across reopens), the
 * link is up while the back end is connected, the MTU is 1500, and more
 * queue pairs are simply more rings (with VIRTIO_NET_F_MQ acked to the back
 * end, as QEMU forwards it).
 */
#include "virtio.h"

#define NET_MAX_PAIRS 64u
#define NET_TX_SEGS 64u       /* with indirect descriptors */
#define NET_TX_SEGS_DIRECT 16u
#define NET_ETH_HDR 14u
#define NET_ETH_OVERHEAD 18u  /* header + one VLAN tag */
#define NET_TSO_MAX 65536u
#define TXSLOT 16u
#define CTRL_HDR 0u
#define CTRL_DATA 8u
#define CTRL_ACK 48u

struct vnet_pair {
	uint8_t *txhdr;      /* max_tags slots of TXSLOT bytes (DMA) */
	uint64_t txhdr_addr;
	uint8_t *tx_busy, *rx_busy;
	uint8_t **rx_va;     /* private: where each posted buffer is */
	uint32_t *rx_len;
};

struct vnet {
	uint32_t max_tags;
	unsigned npairs;
	bool vmm;            /* the front end owns config and control */
	struct vnet_pair *p;
	void *txmem;
	uint8_t *priv_mem;
	int ctrl;            /* array index of the control vq, -1: none */
	uint8_t *ctrl_buf;   /* 64 bytes of DMA memory */
	uint64_t ctrl_addr;
};

static bool vmm(const struct virtio_dev *vd)
{
	return vd->h->flags & VIRTIO_HF_VMM_NET;
}

/* A locally administered unicast MAC from the device address (FNV-1a), so
 * the same address always gets the same MAC. */
static void derive_mac(const char *addr, uint8_t mac[6])
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (const char *p = addr; *p; p++) {
		h ^= (uint8_t)*p;
		h *= 0x100000001b3ull;
	}
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)(h >> (8 * i));
	mac[0] = (uint8_t)((mac[0] & 0xfc) | 0x02);
}

static bool mac_ok(const uint8_t m[6])
{
	return !(m[0] & 1) && (m[0] | m[1] | m[2] | m[3] | m[4] | m[5]);
}

static uint64_t norm_net(const struct virtio_dev *vd, uint64_t f)
{
	uint64_t n = 0;
	if (!vmm(vd)) {
		if (f & VW_BIT(VW_NET_F_MAC))
			n |= PVIO_F_NET_MAC;
		if (f & VW_BIT(VW_NET_F_MTU))
			n |= PVIO_F_NET_MTU;
		if (f & VW_BIT(VW_NET_F_STATUS))
			n |= PVIO_F_NET_LINK_STATUS;
		if (f & VW_BIT(VW_NET_F_CTRL_VQ))
			n |= PVIO_F_NET_CTRL;
		if ((f & VW_BIT(VW_NET_F_CTRL_VQ)) &&
		    (f & VW_BIT(VW_NET_F_CTRL_MAC_ADDR)))
			n |= PVIO_F_NET_SET_MAC;
	} else {
		n |= PVIO_F_NET_SET_MAC;
	}
	if (f & VW_BIT(VW_NET_F_CSUM)) {
		n |= PVIO_F_NET_CSUM_TX;
		if (f & VW_BIT(VW_NET_F_HOST_TSO4))
			n |= PVIO_F_NET_TSO4;
		if (f & VW_BIT(VW_NET_F_HOST_TSO6))
			n |= PVIO_F_NET_TSO6;
	}
	if (f & VW_BIT(VW_NET_F_GUEST_CSUM))
		n |= PVIO_F_NET_CSUM_RX;
	return n;
}

static int net_probe(struct virtio_dev *vd)
{
	struct pvio_net_limits *L = &vd->dev->limits.net;
	uint8_t c[VW_NET_CFG_LEN];
	bool have_cfg = false;

	memset(L, 0, sizeof(*L));
	if (!vmm(vd)) {
		int r = virtio_config(vd, 0, c, sizeof(c));
		if (r < 0 && r != -EOPNOTSUPP)
			return r;
		have_cfg = r == 0;
	}
	derive_mac(vd->address, L->mac);
	if (have_cfg && virtio_offers(vd, VW_NET_F_MAC) && mac_ok(c))
		memcpy(L->mac, c + VW_NET_CFG_MAC, 6);
	L->link_up = true;
	if (have_cfg && virtio_offers(vd, VW_NET_F_STATUS))
		L->link_up = virtio_le16(c + VW_NET_CFG_STATUS) & VW_NET_S_LINK_UP;
	L->mtu = 1500;
	if (have_cfg && virtio_offers(vd, VW_NET_F_MTU)) {
		uint16_t m = virtio_le16(c + VW_NET_CFG_MTU);
		if (m >= 68)
			L->mtu = m;
	}

	uint32_t pairs = 1;
	if (vmm(vd)) {
		/* the back end serves as many rings as it is given; the address
		 * says how many pairs the other side polls */
		pairs = vd->max_queues ? vd->max_queues : 1;
		if (vd->h->max_vqs && pairs > vd->h->max_vqs / 2)
			pairs = vd->h->max_vqs / 2;
	} else if (have_cfg && virtio_offers(vd, VW_NET_F_MQ) &&
		   virtio_offers(vd, VW_NET_F_CTRL_VQ)) {
		pairs = virtio_le16(c + VW_NET_CFG_MAX_PAIRS);
		if (!pairs || pairs > VW_NET_MQ_PAIRS_MAX)
			pairs = 1;
		if (vd->max_queues && pairs > vd->max_queues)
			pairs = vd->max_queues;
	}
	if (pairs > NET_MAX_PAIRS)
		pairs = NET_MAX_PAIRS;
	if (!pairs)
		pairs = 1;
	vd->max_queues = pairs;

	bool ind = virtio_offers(vd, VW_F_INDIRECT_DESC);
	L->max_queues = pairs;
	L->queue_size = vd->qsize;
	L->max_tx_frame = L->mtu + NET_ETH_OVERHEAD;
	/* TSO raises the limit to 64 KiB, never below one MTU-sized frame
	 * (the MTU field goes up to 65535) */
	if (virtio_offers(vd, VW_NET_F_CSUM) &&
	    (virtio_offers(vd, VW_NET_F_HOST_TSO4) ||
	     virtio_offers(vd, VW_NET_F_HOST_TSO6)) &&
	    L->max_tx_frame < NET_TSO_MAX)
		L->max_tx_frame = NET_TSO_MAX;
	L->max_tx_segments = ind ? NET_TX_SEGS : NET_TX_SEGS_DIRECT;
	if (!ind && vd->qsize < 2)
		/* a frame is the header and at least one data descriptor */
		return pvio_set_error(vd->dev->ctx, EPROTO,
				      "%s: virtqueues of %u entry cannot hold a "
				      "frame without indirect descriptors",
				      vd->address, vd->qsize);
	if (!ind && L->max_tx_segments > vd->qsize / 2u)
		L->max_tx_segments = vd->qsize / 2u;
	L->rx_buf_align = 1;
	L->rx_buf_min = VW_NET_HDR_LEN + L->mtu + NET_ETH_OVERHEAD;

	struct pvio_dev_info *in = &vd->dev->info;
	in->offered |= norm_net(vd, vd->offered) |
		       (pairs > 1 ? PVIO_F_MULTIQUEUE : 0);
	in->max_segments = L->max_tx_segments;
	in->max_transfer = L->max_tx_frame;
	in->max_segment_size = L->max_tx_frame;
	return 0;
}

static bool wants_ctrl(const struct virtio_dev *vd,
		       const struct pvio_dev_config *cfg)
{
	if (vmm(vd) || !virtio_offers(vd, VW_NET_F_CTRL_VQ))
		return false;
	return (cfg->num_queues > 1 && virtio_offers(vd, VW_NET_F_MQ)) ||
	       virtio_offers(vd, VW_NET_F_CTRL_MAC_ADDR);
}

static uint64_t net_class_features(struct virtio_dev *vd,
				   const struct pvio_dev_config *cfg)
{
	uint64_t f = 0;
	if (!vmm(vd)) {
		f |= VW_BIT(VW_NET_F_MAC) | VW_BIT(VW_NET_F_MTU) |
		     VW_BIT(VW_NET_F_STATUS);
		if (wants_ctrl(vd, cfg)) {
			f |= VW_BIT(VW_NET_F_CTRL_VQ) |
			     VW_BIT(VW_NET_F_CTRL_MAC_ADDR);
			if (cfg->num_queues > 1)
				f |= VW_BIT(VW_NET_F_MQ);
		}
	} else if (cfg->num_queues > 1) {
		f |= VW_BIT(VW_NET_F_MQ);
	}
	/* offloads the front end asked for, with their dependencies */
	if (cfg->want & (PVIO_F_NET_CSUM_TX | PVIO_F_NET_TSO4 | PVIO_F_NET_TSO6) &&
	    virtio_offers(vd, VW_NET_F_CSUM)) {
		f |= VW_BIT(VW_NET_F_CSUM);
		if (cfg->want & PVIO_F_NET_TSO4)
			f |= VW_BIT(VW_NET_F_HOST_TSO4);
		if (cfg->want & PVIO_F_NET_TSO6)
			f |= VW_BIT(VW_NET_F_HOST_TSO6);
	}
	if (cfg->want & PVIO_F_NET_CSUM_RX)
		f |= VW_BIT(VW_NET_F_GUEST_CSUM);
	return f;
}

static int net_layout(struct virtio_dev *vd, const struct pvio_dev_config *cfg)
{
	unsigned np = cfg->num_queues;
	bool ctrl = virtio_has(vd, VW_NET_F_CTRL_VQ);
	int r = virtio_layout_alloc(vd, 2 * np + ctrl, np + ctrl);
	if (r < 0)
		return r;
	uint16_t txind = (uint16_t)(vd->dev->limits.net.max_tx_segments + 1u);
	for (unsigned q = 0; q < np; q++) {
		vd->vq_num[2 * q] = (uint16_t)(2 * q);
		vd->vq_num[2 * q + 1] = (uint16_t)(2 * q + 1);
		vd->vq_ind[2 * q] = 0;
		vd->vq_ind[2 * q + 1] = txind;
		vd->vq_irq[2 * q] = vd->vq_irq[2 * q + 1] = q;
		vd->irq_vqs[q][0] = (uint16_t)(2 * q);
		vd->irq_vqs[q][1] = (uint16_t)(2 * q + 1);
	}
	if (ctrl) {
		/* after the receive/transmit queues of all max pairs */
		unsigned i = 2 * np;
		unsigned maxp = virtio_has(vd, VW_NET_F_MQ) ? vd->max_queues : 1;
		vd->vq_num[i] = (uint16_t)(2 * maxp);
		vd->vq_ind[i] = 0;
		vd->vq_irq[i] = np;
		vd->irq_vqs[np][0] = (uint16_t)i;
	}
	return 0;
}

static void net_fini(struct virtio_dev *vd, bool leak)
{
	struct vnet *n = vd->cls_priv;
	pvio_ctx *ctx = vd->dev->ctx;
	if (!n)
		return;
	if (!leak) {
		pvio_dma_free(ctx, n->txmem);
		pvio_dma_free(ctx, n->ctrl_buf);
	}
	pvio_free(ctx, n->priv_mem);
	pvio_free(ctx, n->p);
	pvio_free(ctx, n);
	vd->cls_priv = NULL;
}

static int net_setup(struct virtio_dev *vd, const struct pvio_dev_config *cfg)
{
	pvio_ctx *ctx = vd->dev->ctx;
	struct vnet *n = pvio_zalloc(ctx, sizeof(*n));
	if (!n)
		return pvio_set_error(ctx, ENOMEM, "out of memory");
	vd->cls_priv = n;
	n->max_tags = cfg->max_tags;
	n->npairs = cfg->num_queues;
	n->vmm = vmm(vd);
	n->ctrl = virtio_has(vd, VW_NET_F_CTRL_VQ) ? (int)(2 * n->npairs) : -1;

	size_t tags = n->max_tags;
	/* each pair's block starts with the pointer array: keep it aligned */
	size_t per_priv = (tags * (2 + sizeof(uint8_t *) + sizeof(uint32_t)) +
			   sizeof(uint8_t *) - 1) & ~(sizeof(uint8_t *) - 1);
	size_t per_tx = tags * TXSLOT;
	n->p = pvio_zalloc(ctx, n->npairs * sizeof(*n->p));
	n->priv_mem = pvio_zalloc(ctx, n->npairs * per_priv);
	n->txmem = pvio_dma_alloc(ctx, n->npairs * per_tx, 64);
	if (!n->p || !n->priv_mem || !n->txmem)
		return pvio_set_error(ctx, ENOMEM,
				      "cannot allocate network queue state: %s",
				      pvio_errmsg(ctx));
	for (unsigned q = 0; q < n->npairs; q++) {
		struct vnet_pair *p = &n->p[q];
		uint8_t *m = n->priv_mem + q * per_priv;
		p->rx_va = (uint8_t **)(void *)m;
		p->rx_len = (uint32_t *)(void *)(m + tags * sizeof(uint8_t *));
		p->tx_busy = m + tags * (sizeof(uint8_t *) + sizeof(uint32_t));
		p->rx_busy = p->tx_busy + tags;
		p->txhdr = (uint8_t *)n->txmem + q * per_tx;
		if (pvio_dma_translate(ctx, p->txhdr, per_tx, &p->txhdr_addr) < 0)
			return pvio_set_error(ctx, EFAULT, "header slots outside "
					      "DMA memory");
	}
	if (n->ctrl >= 0) {
		n->ctrl_buf = pvio_dma_alloc(ctx, 64, 64);
		if (!n->ctrl_buf ||
		    pvio_dma_translate(ctx, n->ctrl_buf, 64, &n->ctrl_addr) < 0)
			return pvio_set_error(ctx, ENOMEM, "cannot allocate the "
					      "control buffer");
	}
	return 0;
}

/* One control command, synchronously (control path, bounded). */
static int net_ctrl(struct virtio_dev *vd, uint8_t cls, uint8_t cmd,
		    const void *data, uint32_t len)
{
	struct vnet *n = vd->cls_priv;
	pvio_ctx *ctx = vd->dev->ctx;
	if (n->ctrl < 0 || len > CTRL_ACK - CTRL_DATA)
		return -EOPNOTSUPP;
	n->ctrl_buf[CTRL_HDR] = cls;
	n->ctrl_buf[CTRL_HDR + 1] = cmd;
	memcpy(n->ctrl_buf + CTRL_DATA, data, len);
	__atomic_store_n(n->ctrl_buf + CTRL_ACK, 0xff, __ATOMIC_RELAXED);
	struct virtio_sg sg[3] = {
		{ n->ctrl_addr + CTRL_HDR, 2, 0 },
		{ n->ctrl_addr + CTRL_DATA, len, 0 },
		{ n->ctrl_addr + CTRL_ACK, 1, 1 },
	};
	int r = virtio_vq_add(&vd->vq[n->ctrl], sg, 3, 0);
	if (r == -EIO)
		return virtio_vq_broken(vd, &vd->vq[n->ctrl]);
	if (r == -EINVAL)
		return pvio_set_error(ctx, EPROTO,
				      "%s: the control queue (%u entries) cannot "
				      "hold a command",
				      vd->address, vd->vq[n->ctrl].size);
	if (r < 0)
		return pvio_set_error(ctx, -r, "%s: control queue full",
				      vd->address);
	virtio_kick_vq(vd, (unsigned)n->ctrl, 0);
	uint32_t tok, ulen;
	r = virtio_wait_one(vd, (unsigned)n->ctrl, &tok, &ulen, pvio_deadline(ctx));
	if (r == -ETIMEDOUT) {
		pvio_dev_set_broken(vd->dev, "no answer to control command "
				    "%u/%u within %u ms", cls, cmd,
				    pvio_timeout_ms(ctx));
		return pvio_set_error(ctx, ETIMEDOUT,
				      "%s: control command %u/%u not answered "
				      "within %u ms",
				      vd->address, cls, cmd, pvio_timeout_ms(ctx));
	}
	if (r < 0)
		return pvio_set_error(ctx, -r, "%s: control command failed: %s",
				      vd->address, vd->dev->reason);
	uint8_t ack = __atomic_load_n(n->ctrl_buf + CTRL_ACK, __ATOMIC_RELAXED);
	if (ack != VW_NET_CTRL_OK)
		return pvio_set_error(ctx, EIO,
				      "%s: the device refused control command "
				      "%u/%u (ack %u)",
				      vd->address, cls, cmd, ack);
	return 0;
}

static int net_start(struct virtio_dev *vd, const struct pvio_dev_config *cfg)
{
	struct vnet *n = vd->cls_priv;
	struct pvio_net_limits *L = &vd->dev->limits.net;
	int r;

	if (n->ctrl >= 0 && n->npairs > 1 && virtio_has(vd, VW_NET_F_MQ)) {
		uint8_t d[2] = { (uint8_t)n->npairs, (uint8_t)(n->npairs >> 8) };
		if ((r = net_ctrl(vd, VW_NET_CTRL_MQ, VW_NET_CTRL_MQ_VQ_PAIRS_SET,
				  d, 2)) < 0)
			return r;
	}
	if (cfg->mac && mac_ok(cfg->mac)) {
		if (n->vmm) {
			memcpy(L->mac, cfg->mac, 6);
		} else if (virtio_has(vd, VW_NET_F_CTRL_MAC_ADDR)) {
			if ((r = net_ctrl(vd, VW_NET_CTRL_MAC,
					  VW_NET_CTRL_MAC_ADDR_SET, cfg->mac, 6)) < 0)
				return r;
			memcpy(L->mac, cfg->mac, 6);
		}
	}
	vd->dev->info.features |= norm_net(vd, vd->features) |
				  (n->npairs > 1 ? PVIO_F_MULTIQUEUE : 0);
	/* what the granted features allow */
	if (!(vd->features & (VW_BIT(VW_NET_F_HOST_TSO4) |
			      VW_BIT(VW_NET_F_HOST_TSO6))))
		L->max_tx_frame = L->mtu + NET_ETH_OVERHEAD;
	return 0;
}

static int net_check(struct virtio_dev *vd, unsigned q, struct vnet **np)
{
	int e = virtio_dev_check(vd, false);
	if (e < 0)
		return e;
	*np = vd->cls_priv;
	return q < (*np)->npairs ? 0 : -EINVAL;
}

static void put_u8(uint8_t *p, uint8_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

static int net_tx_enqueue(pvio_dev *dev, unsigned q, const struct pvio_net_txd *t)
{
	struct virtio_dev *vd = virtio_of(dev);
	const struct pvio_net_limits *L = &dev->limits.net;
	struct vnet *n;
	int e = net_check(vd, q, &n);
	if (e < 0)
		return e;
	struct vnet_pair *p = &n->p[q];
	if (t->tag >= n->max_tags || p->tx_busy[t->tag] || !t->nseg ||
	    t->nseg > L->max_tx_segments || t->len < NET_ETH_HDR ||
	    t->len > L->max_tx_frame)
		return -EINVAL;

	uint8_t flags = 0, gso = VW_NET_HDR_GSO_NONE;
	if (t->flags & PVIO_PKT_CSUM_PARTIAL) {
		if (!virtio_has(vd, VW_NET_F_CSUM) ||
		    (uint32_t)t->csum_start + t->csum_offset + 2u > t->len)
			return -EINVAL;
		flags = VW_NET_HDR_F_NEEDS_CSUM;
	}
	if (t->flags & (PVIO_PKT_GSO_TCPV4 | PVIO_PKT_GSO_TCPV6)) {
		bool v4 = t->flags & PVIO_PKT_GSO_TCPV4;
		if ((t->flags & PVIO_PKT_GSO_TCPV4) && (t->flags & PVIO_PKT_GSO_TCPV6))
			return -EINVAL;
		if (!virtio_has(vd, v4 ? VW_NET_F_HOST_TSO4 : VW_NET_F_HOST_TSO6) ||
		    !flags || !t->gso_size || !t->hdr_len || t->hdr_len > t->len)
			return -EINVAL;
		gso = v4 ? VW_NET_HDR_GSO_TCPV4 : VW_NET_HDR_GSO_TCPV6;
	} else if (t->len > L->mtu + NET_ETH_OVERHEAD) {
		return -EINVAL;
	}

	struct virtio_sg sg[NET_TX_SEGS + 1];
	uint64_t sum = 0;
	uint8_t *h = p->txhdr + (size_t)t->tag * TXSLOT;
	put_u8(h, flags);
	put_u8(h + 1, gso);
	pvio_write16(h + 2, gso ? t->hdr_len : 0);
	pvio_write16(h + 4, gso ? t->gso_size : 0);
	pvio_write16(h + 6, flags ? t->csum_start : 0);
	pvio_write16(h + 8, flags ? t->csum_offset : 0);
	pvio_write16(h + 10, 0);
	sg[0] = (struct virtio_sg){ p->txhdr_addr + (uint64_t)t->tag * TXSLOT,
				    VW_NET_HDR_LEN, 0 };
	for (unsigned i = 0; i < t->nseg; i++) {
		if (!t->seg[i].len)
			return -EINVAL;
		sum += t->seg[i].len;
		sg[i + 1] = (struct virtio_sg){ t->seg[i].dev_addr, t->seg[i].len, 0 };
	}
	if (sum != t->len)
		return -EINVAL;
	struct virtio_vq *vq = &vd->vq[2 * q + 1];
	int r = virtio_vq_add(vq, sg, t->nseg + 1u, t->tag);
	if (r == -EIO)
		return virtio_vq_broken(vd, vq);
	if (r == 0)
		p->tx_busy[t->tag] = 1;
	return r;
}

static int net_tx_reap(pvio_dev *dev, unsigned q, uint32_t *tags, unsigned max)
{
	struct virtio_dev *vd = virtio_of(dev);
	int e = virtio_dev_check(vd, true);
	if (e < 0)
		return e;
	struct vnet *n = vd->cls_priv;
	if (q >= n->npairs)
		return -EINVAL;
	struct virtio_vq *vq = &vd->vq[2 * q + 1];
	unsigned k = 0;
	while (k < max) {
		uint32_t tag, len;
		int r = virtio_vq_get(vq, &tag, &len);
		if (r == 0)
			break;
		if (r < 0) {
			virtio_vq_broken(vd, vq);
			return k ? (int)k : -EIO;
		}
		n->p[q].tx_busy[tag] = 0;
		tags[k++] = tag;
	}
	return virtio_reaped(vd, k);
}

static int net_rx_post(pvio_dev *dev, unsigned q, const struct pvio_net_rxb *b)
{
	struct virtio_dev *vd = virtio_of(dev);
	struct vnet *n;
	int e = net_check(vd, q, &n);
	if (e < 0)
		return e;
	struct vnet_pair *p = &n->p[q];
	if (b->tag >= n->max_tags || p->rx_busy[b->tag] ||
	    b->seg.len < dev->limits.net.rx_buf_min)
		return -EINVAL;
	struct virtio_sg sg = { b->seg.dev_addr, b->seg.len, 1 };
	struct virtio_vq *vq = &vd->vq[2 * q];
	int r = virtio_vq_add(vq, &sg, 1, b->tag);
	if (r == -EIO)
		return virtio_vq_broken(vd, vq);
	if (r == 0) {
		p->rx_busy[b->tag] = 1;
		p->rx_va[b->tag] = b->seg.va;
		p->rx_len[b->tag] = b->seg.len;
	}
	return r;
}

/* Check one received frame; status 0 or -EIO (bad frame, counted). */
static void rx_complete(struct virtio_dev *vd, unsigned q, struct vnet_pair *p,
			uint32_t tag, uint32_t len, struct pvio_net_rxc *c)
{
	memset(c, 0, sizeof(*c));
	c->tag = tag;
	c->offset = VW_NET_HDR_LEN;
	if (len < VW_NET_HDR_LEN + NET_ETH_HDR)
		goto bad;
	uint8_t hdr[VW_NET_HDR_LEN];
	memcpy(hdr, p->rx_va[tag], sizeof(hdr)); /* the one read of it */
	uint8_t flags = hdr[0], gso = hdr[1];
	uint16_t cs = virtio_le16(hdr + 6), co = virtio_le16(hdr + 8);
	uint32_t flen = len - VW_NET_HDR_LEN;
	if (gso != VW_NET_HDR_GSO_NONE)
		goto bad; /* no receive segmentation offload was negotiated */
	if (virtio_has(vd, VW_NET_F_GUEST_CSUM)) {
		if (flags & VW_NET_HDR_F_NEEDS_CSUM) {
			if ((uint32_t)cs + co + 2u > flen)
				goto bad;
			c->flags |= PVIO_PKT_CSUM_PARTIAL;
			c->csum_start = cs;
			c->csum_offset = co;
		} else if (flags & VW_NET_HDR_F_DATA_VALID) {
			c->flags |= PVIO_PKT_CSUM_VALID;
		}
	}
	c->len = flen;
	return;
bad:
	c->status = -EIO;
	c->len = 0;
	vd->dev->stats[q].rx_errors++;
}

static int net_rx_reap(pvio_dev *dev, unsigned q, struct pvio_net_rxc *out,
		       unsigned max)
{
	struct virtio_dev *vd = virtio_of(dev);
	int e = virtio_dev_check(vd, true);
	if (e < 0)
		return e;
	struct vnet *n = vd->cls_priv;
	if (q >= n->npairs)
		return -EINVAL;
	struct vnet_pair *p = &n->p[q];
	struct virtio_vq *vq = &vd->vq[2 * q];
	unsigned k = 0;
	while (k < max) {
		uint32_t tag, len;
		int r = virtio_vq_get(vq, &tag, &len);
		if (r == 0)
			break;
		if (r < 0) {
			virtio_vq_broken(vd, vq);
			return k ? (int)k : -EIO;
		}
		p->rx_busy[tag] = 0;
		rx_complete(vd, q, p, tag, len, &out[k++]);
	}
	return virtio_reaped(vd, k);
}

static int net_kick(pvio_dev *dev, unsigned q, unsigned which)
{
	struct virtio_dev *vd = virtio_of(dev);
	struct vnet *n;
	int e = net_check(vd, q, &n);
	if (e < 0)
		return e;
	if (which & PVIO_NET_KICK_RX)
		virtio_kick_vq(vd, 2 * q, q);
	if (which & PVIO_NET_KICK_TX)
		virtio_kick_vq(vd, 2 * q + 1, q);
	return 0;
}

static int net_set_mac(pvio_dev *dev, const uint8_t mac[6])
{
	struct virtio_dev *vd = virtio_of(dev);
	struct vnet *n = vd->cls_priv;
	int e = virtio_dev_check(vd, false);
	if (e < 0)
		return e;
	if (!mac_ok(mac))
		return -EINVAL;
	if (n->vmm) {
		memcpy(dev->limits.net.mac, mac, 6);
		return 0;
	}
	if (!virtio_has(vd, VW_NET_F_CTRL_MAC_ADDR))
		return -EOPNOTSUPP;
	e = net_ctrl(vd, VW_NET_CTRL_MAC, VW_NET_CTRL_MAC_ADDR_SET, mac, 6);
	if (e == 0)
		memcpy(dev->limits.net.mac, mac, 6);
	return e;
}

static void net_config_changed(struct virtio_dev *vd)
{
	if (vmm(vd) || !virtio_has(vd, VW_NET_F_STATUS))
		return;
	uint8_t c[2];
	if (virtio_config(vd, VW_NET_CFG_STATUS, c, 2) < 0)
		return;
	bool up = virtio_le16(c) & VW_NET_S_LINK_UP;
	if (up != vd->dev->limits.net.link_up) {
		vd->dev->limits.net.link_up = up;
		pvio_dev_push_event(vd->dev, PVIO_EVENT_LINK_CHANGE, up);
	}
}

static const struct pvio_net_ops net_ops = {
	.tx_enqueue = net_tx_enqueue,
	.tx_reap = net_tx_reap,
	.rx_post = net_rx_post,
	.rx_reap = net_rx_reap,
	.kick = net_kick,
	.set_mac = net_set_mac,
};

static const struct pvio_dev_ops net_dev_ops = {
	.configure = virtio_op_configure,
	.quiesce = virtio_op_quiesce,
	.close = virtio_op_close,
	.service = virtio_op_service,
	.event_fd = virtio_op_event_fd,
	.queue_fd = virtio_op_queue_fd,
	.queue_arm = virtio_op_queue_arm,
	.queue_ack = virtio_op_queue_ack,
	.queue_disarm = virtio_op_queue_disarm,
	.net = &net_ops,
};

const struct virtio_class virtio_net_class = {
	.name = "virtio-net",
	.dev_ops = &net_dev_ops,
	.probe = net_probe,
	.features = net_class_features,
	.layout = net_layout,
	.setup = net_setup,
	.start = net_start,
	.config_changed = net_config_changed,
	.fini = net_fini,
};
