/* SPDX-License-Identifier: MIT */
/*
 * backends/xen/net.c - the netif adapter (Xen PV network, netfront side).
 *
 * open() waits for the back end's InitWait and reads what it offers and
 * what the toolstack configured (mac, mtu, carrier); configure() builds
 * the rings - one TX and one RX ring of one page per queue, one event
 * channel per queue or two with feature-split-event-channels - writes
 * the keys in one transaction and goes straight to Connected (netfront
 * order: netback ignores Initialised).
 *
 * Receive is rx-copy (request-rx-copy = 1): every posted buffer is one
 * whole page, granted writable; the back end copies a frame into it and
 * answers in the same ring slot.  We do not advertise feature-sg or GSO
 * on receive - pvio's receive completion is one buffer per frame - so a
 * frame never spans slots; a back end that sends multi-slot or extra-info
 * responses anyway gets those buffers back as errors.  Checksums: the
 * NETRXF bits are the NETTXF bits swapped; a csum_blank frame's
 * csum_start/offset are found by parsing its Ethernet/IP/TCP-UDP headers,
 * because netif does not carry them.
 *
 * Transmit: one slot per segment (segments never cross a page), the
 * first slot carrying the whole frame length, a GSO extra-info slot after
 * it for TSO.  Responses with status NULL belong to extra-info slots and
 * carry no id: they are skipped.  Every other response id must name an
 * outstanding slot.
 *
 * Copy mode (untrusted back end, or a hostif that cannot grant arbitrary
 * pages) uses one page per ring slot, granted once, and counts copies.
 */
#include "xen.h"

#define NET_MAX_QUEUES 16u
#define NET_SLOTS 256u /* entries of a one-page TX or RX ring */
#define NET_MAX_MTU (XEN_PAGE_SIZE - 18u) /* one RX page: 14 + VLAN 4 */
#define NET_OFFLOADS (PVIO_F_NET_CSUM_TX | PVIO_F_NET_CSUM_RX | \
		      PVIO_F_NET_TSO4 | PVIO_F_NET_TSO6)

struct net_txs {
	uint32_t tag;
	uint32_t gref;
	uint32_t idx;  /* ring index of its request slot */
	bool busy;
};

struct net_rxs {
	uint32_t tag;
	uint32_t gref;
	uint8_t *va;
	bool busy;
};

struct net_q {
	struct xen_fring tx, rx;
	struct xen_shared tx_mem, rx_mem;
	struct xen_evtchn ev[2]; /* [0]: TX (or both), [1]: RX when split */
	int fdset;
	struct net_txs txs[NET_SLOTS];
	uint16_t tx_ids[NET_SLOTS];
	uint32_t ntx_ids;
	struct net_rxs rxs[NET_SLOTS];
	uint32_t *tag_slots;
	uint32_t ntags;
	struct xen_shared tx_pool, rx_pool;
	struct xen_gnt_pool gp;
	bool rx_more;  /* dropping the rest of a multi-slot frame */
	bool rx_extra; /* extra-info slots follow */
};

struct xen_net {
	struct xen_dev *xd;
	uint8_t mac[6];
	uint32_t mtu;
	bool link;
	bool be_sg, be_gso4, be_gso6, be_split;
	uint32_t be_max_queues;
	uint32_t nq;
	bool split;
	uint64_t offloads;
	char carrier_token[40];
	bool carrier_watch;
	struct net_q q[NET_MAX_QUEUES];
};

static int be_key(struct xen_net *n, const char *key, uint64_t max,
		  uint64_t dflt, uint64_t *v)
{
	struct xen_dev *xd = n->xd;
	char path[300];
	pvio_snprintf(path, sizeof(path), "%s/%s", xd->xb.be, key);
	int r = xs_read_u64(xd->xs, 0, path, max, v);
	if (r == -ENOENT) {
		*v = dflt;
		return 0;
	}
	if (r == -EINVAL || r == -ERANGE)
		return pvio_set_error(xd->ctx, EPROTO,
				      "the back end's %s is not a number from 0 "
				      "to %llu; refusing the device",
				      path, (unsigned long long)max);
	if (r < 0)
		return pvio_set_error(xd->ctx, -r, "cannot read %s: %s", path,
				      pvio_strerror(r));
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* "xx:xx:xx:xx:xx:xx", nothing else */
static int parse_mac(const char *s, uint8_t mac[6])
{
	if (pvio_strlen(s) != 17)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		int h = hexval(s[3 * i]), l = hexval(s[3 * i + 1]);
		if (h < 0 || l < 0 || (i < 5 && s[3 * i + 2] != ':'))
			return -EINVAL;
		mac[i] = (uint8_t)(h << 4 | l);
	}
	return 0;
}

static int read_carrier(struct xen_net *n, bool *up)
{
	uint64_t v;
	int r = be_key(n, "carrier", 1, 1, &v);
	if (r == 0)
		*up = v == 1;
	return r;
}

/* ---------------------------------------------------------------- open */

static void net_fill(struct xen_net *n)
{
	pvio_dev *dev = n->xd->dev;
	struct pvio_net_limits *L = &dev->limits.net;
	memcpy(L->mac, n->mac, 6);
	L->link_up = n->link;
	L->mtu = n->mtu;
	L->max_queues = n->be_max_queues;
	L->queue_size = NET_SLOTS;
	L->max_tx_frame = n->be_sg ? XEN_NETIF_TX_MAX : XEN_PAGE_SIZE;
	L->max_tx_segments = n->be_sg ? XEN_NETIF_SLOTS_MIN : 1;
	L->tx_seg_boundary = XEN_PAGE_SIZE;
	L->rx_buf_align = XEN_PAGE_SIZE;
	L->rx_buf_min = XEN_PAGE_SIZE;
	L->rx_buf_exact = XEN_PAGE_SIZE;

	struct pvio_dev_info *in = &dev->info;
	in->max_queues = L->max_queues;
	in->queue_size = NET_SLOTS;
	in->max_segments = L->max_tx_segments;
	in->max_transfer = L->max_tx_frame;
	in->max_segment_size = XEN_PAGE_SIZE;
	uint64_t f = PVIO_F_EVENT_SUPPRESS | PVIO_F_NET_MAC | PVIO_F_NET_MTU |
		     PVIO_F_NET_LINK_STATUS | PVIO_F_NET_CSUM_TX |
		     PVIO_F_NET_CSUM_RX;
	if (n->be_sg)
		f |= PVIO_F_NET_SG;
	if (n->be_sg && n->be_gso4)
		f |= PVIO_F_NET_TSO4;
	if (n->be_sg && n->be_gso6)
		f |= PVIO_F_NET_TSO6;
	if (n->be_max_queues > 1)
		f |= PVIO_F_MULTIQUEUE;
	in->offered = f;
	in->features = f & ~(NET_OFFLOADS | PVIO_F_MULTIQUEUE);
	pvio_snprintf(in->native, sizeof(in->native),
		      "feature-sg=%u feature-gso-tcpv4=%u feature-gso-tcpv6=%u "
		      "feature-split-event-channels=%u multi-queue-max-queues=%u"
		      "%s",
		      n->be_sg, n->be_gso4, n->be_gso6, n->be_split,
		      n->be_max_queues, n->xd->copy ? " copy" : "");
}

static int net_open(struct xen_dev *xd)
{
	pvio_ctx *ctx = xd->ctx;
	struct xen_net *n = pvio_zalloc(ctx, sizeof(*n));
	uint64_t v;
	int r, s = 0;

	if (!n)
		return pvio_set_error(ctx, ENOMEM, "out of memory");
	xd->cpriv = n;
	n->xd = xd;
	for (unsigned i = 0; i < NET_MAX_QUEUES; i++)
		n->q[i].fdset = -1;

	r = xen_xb_wait(&xd->xb, XEN_XB_READY,
			XB_BIT(XEN_XB_CLOSING) | XB_BIT(XEN_XB_CLOSED),
			pvio_deadline(ctx), &s);
	if (r == -ETIMEDOUT)
		return pvio_set_error(ctx, ETIMEDOUT,
				      "the back end of %s stayed in XenBus "
				      "state %d; is the back end running?",
				      xd->xb.fe, s);
	if (r == -ENODEV)
		return pvio_set_error(ctx, ENODEV,
				      "the back end of %s is closing (state %d)",
				      xd->xb.fe, s);
	if (r < 0)
		return r;

	if ((r = be_key(n, "feature-rx-copy", UINT32_MAX, 0, &v)) < 0)
		return r;
	if (!v)
		return pvio_set_error(ctx, EPROTONOSUPPORT,
				      "the back end of %s does not offer "
				      "feature-rx-copy, which pvio needs",
				      xd->xb.fe);
	if ((r = be_key(n, "feature-sg", UINT32_MAX, 0, &v)) < 0)
		return r;
	n->be_sg = v != 0;
	if ((r = be_key(n, "feature-gso-tcpv4", UINT32_MAX, 0, &v)) < 0)
		return r;
	n->be_gso4 = v != 0;
	if ((r = be_key(n, "feature-gso-tcpv6", UINT32_MAX, 0, &v)) < 0)
		return r;
	n->be_gso6 = v != 0;
	if ((r = be_key(n, "feature-split-event-channels", UINT32_MAX, 0,
			&v)) < 0)
		return r;
	n->be_split = v != 0;
	if ((r = be_key(n, "multi-queue-max-queues", UINT32_MAX, 1, &v)) < 0)
		return r;
	if (v == 0)
		v = 1;
	if (xd->opts.queues && v > xd->opts.queues)
		v = xd->opts.queues;
	n->be_max_queues = v > NET_MAX_QUEUES ? NET_MAX_QUEUES : (uint32_t)v;

	char path[200], buf[32];
	pvio_snprintf(path, sizeof(path), "%s/mac", xd->xb.fe);
	r = xs_read(xd->xs, 0, path, buf, sizeof(buf));
	if (r < 0 && r != -E2BIG)
		return pvio_set_error(ctx, r == -ENOENT ? ENODEV : -r,
				      "cannot read %s: %s", path,
				      pvio_strerror(r));
	if (r == -E2BIG || parse_mac(buf, n->mac) < 0)
		return pvio_set_error(ctx, EPROTO,
				      "%s is not a MAC address "
				      "(xx:xx:xx:xx:xx:xx)",
				      path);
	pvio_snprintf(path, sizeof(path), "%s/mtu", xd->xb.fe);
	r = xs_read_u64(xd->xs, 0, path, 65535, &v);
	if (r == -ENOENT)
		v = 1500;
	else if (r < 0 || v < 68)
		return pvio_set_error(ctx, EPROTO,
				      "%s is not an MTU from 68 to 65535", path);
	if (v > NET_MAX_MTU) {
		pvio_log(ctx, PVIO_LOG_INFO,
			 "%s: MTU %llu does not fit one receive page; using %u",
			 xd->xb.fe, (unsigned long long)v, NET_MAX_MTU);
		v = NET_MAX_MTU;
	}
	n->mtu = (uint32_t)v;
	if ((r = read_carrier(n, &n->link)) < 0)
		return r;
	pvio_snprintf(n->carrier_token, sizeof(n->carrier_token),
		      "pvio-vif-%u-carrier", xd->devid);
	pvio_snprintf(path, sizeof(path), "%s/carrier", xd->xb.be);
	r = xs_watch(xd->xs, path, n->carrier_token);
	if (r < 0)
		return pvio_set_error(ctx, -r, "cannot watch %s: %s", path,
				      pvio_strerror(r));
	n->carrier_watch = true;
	net_fill(n);
	return 0;
}

static void net_changed(struct xen_dev *xd)
{
	struct xen_net *n = xd->cpriv;
	bool up = true;
	if (read_carrier(n, &up) < 0) {
		/* be_key said why: not 0 or 1, or xenstore failed (copied:
		 * breaking the device may replace the context's message) */
		char why[200];
		pvio_strlcpy(why, pvio_errmsg(xd->ctx), sizeof(why));
		pvio_dev_set_broken(xd->dev, "re-reading the carrier: %s", why);
		return;
	}
	if (up != n->link) {
		n->link = up;
		xd->dev->limits.net.link_up = up;
		pvio_dev_push_event(xd->dev, PVIO_EVENT_LINK_CHANGE, up);
	}
}

/* ---------------------------------------------------------------- configure */

static int net_q_setup(struct xen_net *n, struct net_q *q, uint32_t tags)
{
	struct xen_dev *xd = n->xd;
	struct xen_hostif *h = xd->h;
	pvio_ctx *ctx = xd->ctx;
	uint16_t dom = xd->xb.be_domid;
	int r;

	if ((r = h->ops->share(h, dom, 1, false, &q->tx_mem)) < 0 ||
	    (r = h->ops->share(h, dom, 1, false, &q->rx_mem)) < 0)
		return xen_share_error(xd, r, "a ring", 1);
	xen_ring_init(&q->tx, q->tx_mem.va, XEN_PAGE_SIZE, XEN_NETIF_TX_SLOT, 0);
	xen_ring_init(&q->rx, q->rx_mem.va, XEN_PAGE_SIZE, XEN_NETIF_RX_SLOT, 0);
	if (q->tx.nr_ents != NET_SLOTS || q->rx.nr_ents != NET_SLOTS)
		return pvio_set_error(ctx, EINVAL,
				      "internal error: netif rings are not "
				      "256 entries");
	for (unsigned i = 0; i < (n->split ? 2u : 1u); i++) {
		r = h->ops->evtchn_alloc(h, dom, &q->ev[i]);
		if (r < 0)
			return pvio_set_error(ctx, -r,
					      "cannot allocate an event channel: "
					      "%s",
					      pvio_strerror(r));
	}
	if (n->split && h->ops->evtchn_fd && pvio_ctx_hosted(ctx)) {
		/* one pollable descriptor per queue for both channels */
		q->fdset = pvio_fdset_new(ctx);
		if (q->fdset < 0)
			return q->fdset;
		for (unsigned i = 0; i < 2; i++) {
			int fd = h->ops->evtchn_fd(h, &q->ev[i]);
			if (fd >= 0 && (r = pvio_fdset_add(ctx, q->fdset, fd)) < 0)
				return r;
		}
	}
	q->ntags = tags;
	q->tag_slots = pvio_zalloc(ctx, tags * sizeof(uint32_t));
	if (!q->tag_slots)
		return pvio_set_error(ctx, ENOMEM, "out of memory");
	for (uint32_t i = 0; i < NET_SLOTS; i++)
		q->tx_ids[i] = (uint16_t)(NET_SLOTS - 1 - i);
	q->ntx_ids = NET_SLOTS;
	if (xd->copy) {
		if (xen_share_room(h) < 2 * NET_SLOTS)
			return pvio_set_error(ctx, ENOSPC,
					      "%u pages can still be shared; each "
					      "queue needs %u for packet buffers; "
					      "use fewer queues",
					      xen_share_room(h), 2 * NET_SLOTS);
		if ((r = h->ops->share(h, dom, NET_SLOTS, true, &q->tx_pool)) < 0 ||
		    (r = h->ops->share(h, dom, NET_SLOTS, false, &q->rx_pool)) < 0)
			return xen_share_error(xd, r, "packet buffers",
					       NET_SLOTS);
	} else {
		r = xen_gnt_pool_init(&q->gp, h->gnttab, 2 * NET_SLOTS);
		if (r < 0)
			return pvio_set_error(ctx, -r,
					      "the grant table has too few free "
					      "entries (%s); use fewer queues",
					      pvio_strerror(r));
	}
	return 0;
}

static int write_queue(struct xs_client *xs, uint32_t tx, struct xen_net *n,
		       const char *base, struct net_q *q)
{
	char path[200];
	int r;
	pvio_snprintf(path, sizeof(path), "%s/tx-ring-ref", base);
	if ((r = xs_printf(xs, tx, path, "%u", q->tx_mem.refs[0])) < 0)
		return r;
	pvio_snprintf(path, sizeof(path), "%s/rx-ring-ref", base);
	if ((r = xs_printf(xs, tx, path, "%u", q->rx_mem.refs[0])) < 0)
		return r;
	if (!n->split) {
		pvio_snprintf(path, sizeof(path), "%s/event-channel", base);
		return xs_printf(xs, tx, path, "%u", q->ev[0].port);
	}
	pvio_snprintf(path, sizeof(path), "%s/event-channel-tx", base);
	if ((r = xs_printf(xs, tx, path, "%u", q->ev[0].port)) < 0)
		return r;
	pvio_snprintf(path, sizeof(path), "%s/event-channel-rx", base);
	return xs_printf(xs, tx, path, "%u", q->ev[1].port);
}

static int net_keys(struct xs_client *xs, uint32_t tx, void *arg)
{
	struct xen_net *n = arg;
	const char *fe = n->xd->xb.fe;
	bool rxcsum = n->offloads & PVIO_F_NET_CSUM_RX;
	char path[200];
	int r;

	if (n->nq == 1) {
		if ((r = write_queue(xs, tx, n, fe, &n->q[0])) < 0)
			return r;
	} else {
		pvio_snprintf(path, sizeof(path), "%s/multi-queue-num-queues",
			      fe);
		if ((r = xs_printf(xs, tx, path, "%u", n->nq)) < 0)
			return r;
		for (uint32_t i = 0; i < n->nq; i++) {
			char base[160];
			pvio_snprintf(base, sizeof(base), "%s/queue-%u", fe, i);
			if ((r = write_queue(xs, tx, n, base, &n->q[i])) < 0)
				return r;
		}
	}
	static const char *const keys[] = {
		"request-rx-copy", "feature-rx-notify", "feature-sg",
		"feature-gso-tcpv4", "feature-gso-tcpv6",
		"feature-no-csum-offload", "feature-ipv6-csum-offload",
	};
	const unsigned vals[] = { 1, 1, 0, 0, 0, rxcsum ? 0u : 1u,
				  rxcsum ? 1u : 0u };
	for (unsigned i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		pvio_snprintf(path, sizeof(path), "%s/%s", fe, keys[i]);
		if ((r = xs_printf(xs, tx, path, "%u", vals[i])) < 0)
			return r;
	}
	return 0;
}

static int net_props(void *arg)
{
	struct xen_net *n = arg;
	bool up = true;
	int r = read_carrier(n, &up);
	if (r < 0)
		return r;
	if (up != n->link) {
		n->link = up;
		n->xd->dev->limits.net.link_up = up;
	}
	return 0;
}

static int net_configure(pvio_dev *dev, const struct pvio_dev_config *cfg)
{
	struct xen_dev *xd = xen_dev_of(dev);
	struct xen_net *n = xd->cpriv;
	pvio_ctx *ctx = xd->ctx;

	if (n->nq)
		return pvio_set_error(ctx, EBUSY, "%s is already configured",
				      dev->address);
	if (cfg->num_queues > n->be_max_queues)
		return pvio_set_error(ctx, EINVAL,
				      "%u queues asked for, the device has %u",
				      cfg->num_queues, n->be_max_queues);
	/* A vif's MAC is the toolstack's: PVIO_F_NET_SET_MAC is not offered
	 * and set_mac fails, so a front end that wants another one knows. */
	if (cfg->mac && memcmp(cfg->mac, n->mac, 6))
		pvio_log(ctx, PVIO_LOG_INFO,
			 "%s: keeping the toolstack's MAC; netif cannot change "
			 "it",
			 xd->xb.fe);
	n->offloads = cfg->want & dev->info.offered & NET_OFFLOADS;
	n->split = n->be_split && xd->opts.split;
	n->nq = cfg->num_queues;
	for (uint32_t i = 0; i < n->nq; i++) {
		int r = net_q_setup(n, &n->q[i], cfg->max_tags);
		if (r < 0)
			return r;
	}
	static const struct xen_xb_hooks hooks = {
		.keys = net_keys,
		.props = net_props,
	};
	int r = xen_xb_connect(&xd->xb, &hooks, n, pvio_deadline(ctx));
	if (r < 0)
		return r;
	xd->connected = true;
	dev->info.num_queues = n->nq;
	dev->info.features = (dev->info.offered & ~(NET_OFFLOADS |
						    PVIO_F_MULTIQUEUE)) |
			     n->offloads;
	if (n->nq > 1)
		dev->info.features |= PVIO_F_MULTIQUEUE;
	return 0;
}

/* ---------------------------------------------------------------- data path */

static int unusable(pvio_dev *dev)
{
	return dev->state == PVIO_DEV_REMOVED ? -ENODEV : -EIO;
}

static int net_tx_enqueue(pvio_dev *dev, unsigned qi,
			  const struct pvio_net_txd *t)
{
	struct xen_dev *xd = xen_dev_of(dev);
	struct xen_net *n = xd->cpriv;
	const struct pvio_net_limits *L = &dev->limits.net;

	if (!pvio_dev_usable(dev))
		return unusable(dev);
	if (qi >= n->nq)
		return -EINVAL;
	struct net_q *q = &n->q[qi];
	if (t->tag >= q->ntags || !t->nseg || t->nseg > L->max_tx_segments ||
	    !t->seg || !t->len || t->len > L->max_tx_frame)
		return -EINVAL;
	uint32_t known = PVIO_PKT_CSUM_PARTIAL | PVIO_PKT_GSO_TCPV4 |
			 PVIO_PKT_GSO_TCPV6;
	uint32_t gso = t->flags & (PVIO_PKT_GSO_TCPV4 | PVIO_PKT_GSO_TCPV6);
	if ((t->flags & ~known) ||
	    ((t->flags & PVIO_PKT_CSUM_PARTIAL) &&
	     !(n->offloads & PVIO_F_NET_CSUM_TX)) ||
	    gso == (PVIO_PKT_GSO_TCPV4 | PVIO_PKT_GSO_TCPV6) ||
	    ((gso & PVIO_PKT_GSO_TCPV4) && !(n->offloads & PVIO_F_NET_TSO4)) ||
	    ((gso & PVIO_PKT_GSO_TCPV6) && !(n->offloads & PVIO_F_NET_TSO6)) ||
	    (gso && !t->gso_size))
		return -EINVAL;
	uint64_t sum = 0;
	for (uint32_t i = 0; i < t->nseg; i++) {
		const struct pvio_dseg *s = &t->seg[i];
		uint32_t off = (uint32_t)(s->dev_addr & (XEN_PAGE_SIZE - 1));
		if (!s->len || !s->va || off + s->len > XEN_PAGE_SIZE)
			return -EINVAL;
		sum += s->len;
	}
	if (sum != t->len)
		return -EINVAL;
	uint32_t slots = t->nseg + (gso ? 1u : 0u);
	if (xen_ring_free(&q->tx) < slots || q->ntx_ids < t->nseg ||
	    (!xd->copy && q->gp.n < t->nseg))
		return -EAGAIN;

	uint32_t idx = q->tx.req_prod_pvt;
	uint64_t copied = 0;
	for (uint32_t i = 0; i < t->nseg; i++) {
		const struct pvio_dseg *s = &t->seg[i];
		uint16_t id = q->tx_ids[q->ntx_ids - 1];
		uint32_t gref;
		uint16_t off;
		if (xd->copy) {
			memcpy((uint8_t *)q->tx_pool.va +
				       (size_t)id * XEN_PAGE_SIZE,
			       s->va, s->len);
			copied += s->len;
			gref = q->tx_pool.refs[id];
			off = 0;
		} else {
			int e = xen_gnt_pool_grant(&q->gp, xd->xb.be_domid,
						   xen_gfn(s->dev_addr), true,
						   &gref);
			if (e < 0) {
				/* undo the slots built so far (unpublished) */
				for (uint32_t j = 0; j < i; j++) {
					uint16_t uid = q->tx_ids[q->ntx_ids];
					xen_gnt_pool_end(&q->gp,
							 q->txs[uid].gref);
					q->txs[uid].busy = false;
					q->ntx_ids++;
				}
				return e == -EAGAIN ? -EAGAIN : -EINVAL;
			}
			off = (uint16_t)(s->dev_addr & (XEN_PAGE_SIZE - 1));
		}
		q->ntx_ids--;
		q->txs[id] = (struct net_txs){ .tag = t->tag, .gref = gref,
					       .idx = idx, .busy = true };
		uint16_t flags = 0;
		if (i + 1 < t->nseg)
			flags |= XEN_NETTXF_more_data;
		if (i == 0) {
			if (t->flags & PVIO_PKT_CSUM_PARTIAL)
				flags |= XEN_NETTXF_csum_blank |
					 XEN_NETTXF_data_validated;
			if (gso)
				flags |= XEN_NETTXF_extra_info;
		}
		struct xen_netif_tx_req rq = {
			.gref = PVIO_LE32(gref),
			.offset = PVIO_LE16(off),
			.flags = PVIO_LE16(flags),
			.id = PVIO_LE16(id),
			.size = PVIO_LE16((uint16_t)(i == 0 ? t->len : s->len)),
		};
		memcpy(xen_ring_slot(&q->tx, idx++), &rq, sizeof(rq));
		if (i == 0 && gso) {
			uint8_t slot[XEN_NETIF_TX_SLOT] = { 0 };
			struct xen_netif_extra ex = {
				.type = XEN_NETIF_EXTRA_GSO,
				.flags = 0,
			};
			ex.u.gso.size = PVIO_LE16(t->gso_size);
			ex.u.gso.type = (gso & PVIO_PKT_GSO_TCPV4)
						? XEN_NETIF_GSO_TCPV4
						: XEN_NETIF_GSO_TCPV6;
			memcpy(slot, &ex, sizeof(ex));
			memcpy(xen_ring_slot(&q->tx, idx++), slot, sizeof(slot));
		}
	}
	q->tx.req_prod_pvt = idx;
	q->tag_slots[t->tag] = t->nseg;
	if (copied) {
		dev->stats[qi].copies++;
		dev->stats[qi].copy_bytes += copied;
	}
	return 0;
}

static int net_tx_reap(pvio_dev *dev, unsigned qi, uint32_t *tags,
		       unsigned max)
{
	struct xen_dev *xd = xen_dev_of(dev);
	struct xen_net *n = xd->cpriv;
	if (qi >= n->nq)
		return -EINVAL;
	if (dev->state == PVIO_DEV_BROKEN)
		return -EIO;
	struct net_q *q = &n->q[qi];
	uint32_t prod;
	unsigned cnt = 0;

	if (xen_ring_pending(&q->tx, &prod) < 0) {
		pvio_dev_set_broken(dev, "TX response producer %u is beyond the "
					 "requests we published (%u)",
				    prod, q->tx.req_prod);
		return -EIO;
	}
	while (cnt < max && q->tx.rsp_cons != prod) {
		struct xen_netif_tx_rsp rsp;
		xen_ring_copy(&q->tx, q->tx.rsp_cons, &rsp, sizeof(rsp));
		uint16_t id = PVIO_LE16(rsp.id);
		int16_t status = (int16_t)PVIO_LE16((uint16_t)rsp.status);
		if (status == XEN_NETIF_RSP_NULL) {
			q->tx.rsp_cons++; /* an extra-info slot: no id */
			continue;
		}
		if (id >= NET_SLOTS || !q->txs[id].busy) {
			pvio_dev_set_broken(dev, "TX response id %u is not an "
						 "outstanding request",
					    id);
			break;
		}
		if (xen_ring_unpublished(&q->tx, q->txs[id].idx)) {
			pvio_dev_set_broken(dev, "TX response id %u names a "
						 "request that was not published",
					    id);
			break;
		}
		if (status != XEN_NETIF_RSP_OKAY &&
		    status != XEN_NETIF_RSP_ERROR &&
		    status != XEN_NETIF_RSP_DROPPED) {
			pvio_dev_set_broken(dev, "TX response %u has unknown "
						 "status %d",
					    id, status);
			break;
		}
		q->tx.rsp_cons++;
		struct net_txs *s = &q->txs[id];
		s->busy = false;
		q->tx_ids[q->ntx_ids++] = id;
		if (!xd->copy && xen_gnt_pool_end(&q->gp, s->gref) < 0)
			pvio_dev_set_broken(dev, "the back end still maps the "
						 "page of TX request %u",
					    id);
		if (status != XEN_NETIF_RSP_OKAY)
			dev->stats[qi].errors++;
		if (q->tag_slots[s->tag] && --q->tag_slots[s->tag] == 0)
			tags[cnt++] = s->tag;
		if (dev->state == PVIO_DEV_BROKEN)
			break;
	}
	if (cnt)
		return (int)cnt;
	if (dev->state == PVIO_DEV_BROKEN)
		return -EIO;
	if (dev->state == PVIO_DEV_REMOVED && q->ntx_ids < NET_SLOTS)
		return -ENODEV;
	return 0;
}

static int net_rx_post(pvio_dev *dev, unsigned qi, const struct pvio_net_rxb *b)
{
	struct xen_dev *xd = xen_dev_of(dev);
	struct xen_net *n = xd->cpriv;
	if (!pvio_dev_usable(dev))
		return unusable(dev);
	if (qi >= n->nq)
		return -EINVAL;
	struct net_q *q = &n->q[qi];
	if (b->seg.len != XEN_PAGE_SIZE ||
	    (b->seg.dev_addr & (XEN_PAGE_SIZE - 1)) || !b->seg.va)
		return -EINVAL;
	if (!xen_ring_free(&q->rx))
		return -EAGAIN;
	uint32_t idx = q->rx.req_prod_pvt;
	uint16_t slot = (uint16_t)(idx & (NET_SLOTS - 1));
	struct net_rxs *s = &q->rxs[slot];
	if (s->busy)
		return -EAGAIN;
	uint32_t gref;
	if (xd->copy) {
		gref = q->rx_pool.refs[slot];
	} else {
		int e = xen_gnt_pool_grant(&q->gp, xd->xb.be_domid,
					   xen_gfn(b->seg.dev_addr), false,
					   &gref);
		if (e < 0)
			return e == -EAGAIN ? -EAGAIN : -EINVAL;
	}
	struct xen_netif_rx_req rq = {
		.id = PVIO_LE16(slot),
		.gref = PVIO_LE32(gref),
	};
	memcpy(xen_ring_slot(&q->rx, idx), &rq, sizeof(rq));
	*s = (struct net_rxs){ .tag = b->tag, .gref = gref,
			       .va = b->seg.va, .busy = true };
	q->rx.req_prod_pvt++;
	return 0;
}

/* Where the L4 checksum of a frame lies: Ethernet (+802.1Q), IPv4 or
 * IPv6 (no extension headers), TCP or UDP.  0, or -1 if not found. */
static int csum_locate(const uint8_t *p, uint32_t len, uint16_t *start,
		       uint16_t *off)
{
	uint32_t l2 = 14;
	if (len < 14)
		return -1;
	uint16_t et = (uint16_t)(p[12] << 8 | p[13]);
	if (et == 0x8100) {
		if (len < 18)
			return -1;
		et = (uint16_t)(p[16] << 8 | p[17]);
		l2 = 18;
	}
	uint32_t l3;
	uint8_t proto;
	if (et == 0x0800) {
		if (len < l2 + 20 || (p[l2] >> 4) != 4)
			return -1;
		l3 = (uint32_t)(p[l2] & 15) * 4;
		if (l3 < 20 || len < l2 + l3)
			return -1;
		/* a fragment has no complete L4 header */
		if ((p[l2 + 6] & 0x3f) || p[l2 + 7])
			return -1;
		proto = p[l2 + 9];
	} else if (et == 0x86DD) {
		if (len < l2 + 40 || (p[l2] >> 4) != 6)
			return -1;
		l3 = 40;
		proto = p[l2 + 6];
	} else {
		return -1;
	}
	uint32_t co;
	if (proto == 6)
		co = 16;
	else if (proto == 17)
		co = 6;
	else
		return -1;
	if (len < l2 + l3 + co + 2)
		return -1;
	*start = (uint16_t)(l2 + l3);
	*off = (uint16_t)co;
	return 0;
}

static int net_rx_reap(pvio_dev *dev, unsigned qi, struct pvio_net_rxc *out,
		       unsigned max)
{
	struct xen_dev *xd = xen_dev_of(dev);
	struct xen_net *n = xd->cpriv;
	if (qi >= n->nq)
		return -EINVAL;
	if (dev->state == PVIO_DEV_BROKEN)
		return -EIO;
	struct net_q *q = &n->q[qi];
	uint32_t prod;
	unsigned cnt = 0;
	uint64_t copied = 0, ncopies = 0;

	if (xen_ring_pending(&q->rx, &prod) < 0) {
		pvio_dev_set_broken(dev, "RX response producer %u is beyond the "
					 "requests we published (%u)",
				    prod, q->rx.req_prod);
		return -EIO;
	}
	while (cnt < max && q->rx.rsp_cons != prod) {
		uint32_t idx = q->rx.rsp_cons;
		uint16_t slot = (uint16_t)(idx & (NET_SLOTS - 1));
		struct net_rxs *s = &q->rxs[slot];
		uint8_t raw[XEN_NETIF_RX_SLOT];
		xen_ring_copy(&q->rx, idx, raw, sizeof(raw));
		if (!s->busy) {
			pvio_dev_set_broken(dev, "RX response in slot %u, which "
						 "has no buffer",
					    slot);
			break;
		}
		struct pvio_net_rxc *c = &out[cnt];
		*c = (struct pvio_net_rxc){ .tag = s->tag };
		if (q->rx_extra) {
			/* an extra-info slot: its buffer was not used */
			struct xen_netif_extra ex;
			memcpy(&ex, raw, sizeof(ex));
			q->rx_extra = (ex.flags & XEN_NETIF_EXTRA_MORE) != 0;
			c->status = -EPROTO;
		} else {
			struct xen_netif_rx_rsp rsp;
			memcpy(&rsp, raw, sizeof(rsp));
			uint16_t id = PVIO_LE16(rsp.id);
			uint16_t off = PVIO_LE16(rsp.offset);
			uint16_t fl = PVIO_LE16(rsp.flags);
			int16_t st = (int16_t)PVIO_LE16((uint16_t)rsp.status);
			if (id != slot) {
				pvio_dev_set_broken(dev, "RX response id %u does "
							 "not match its slot %u",
						    id, slot);
				break;
			}
			bool more = fl & XEN_NETRXF_more_data;
			q->rx_extra = (fl & XEN_NETRXF_extra_info) != 0;
			if (q->rx_more || more || q->rx_extra) {
				/* multi-slot or GSO frame: not negotiated */
				c->status = -EMSGSIZE;
			} else if (st <= 0) {
				c->status = st == 0 ? -EBADMSG : -EIO;
			} else if ((uint32_t)off + (uint32_t)st > XEN_PAGE_SIZE) {
				c->status = -EBADMSG;
			} else {
				c->offset = off;
				c->len = (uint32_t)st;
				if (fl & XEN_NETRXF_csum_blank)
					c->flags = PVIO_PKT_CSUM_PARTIAL;
				else if (fl & XEN_NETRXF_data_validated)
					c->flags = PVIO_PKT_CSUM_VALID;
			}
			q->rx_more = more;
		}
		q->rx.rsp_cons++;
		s->busy = false;
		if (!xd->copy && xen_gnt_pool_end(&q->gp, s->gref) < 0) {
			pvio_dev_set_broken(dev, "the back end still maps RX "
						 "buffer %u after answering",
					    slot);
			c->status = -EIO;
		}
		if (c->status == 0 && xd->copy) {
			memcpy(s->va + c->offset,
			       (uint8_t *)q->rx_pool.va +
				       (size_t)slot * XEN_PAGE_SIZE + c->offset,
			       c->len);
			copied += c->len;
			ncopies++;
		}
		if (c->status == 0 && !(n->offloads & PVIO_F_NET_CSUM_RX)) {
			if (c->flags & PVIO_PKT_CSUM_PARTIAL)
				c->status = -EPROTO; /* we asked for full sums */
			c->flags = 0;
		}
		if (c->status == 0 && (c->flags & PVIO_PKT_CSUM_PARTIAL) &&
		    csum_locate(s->va + c->offset, c->len, &c->csum_start,
				&c->csum_offset) < 0)
			c->status = -EPROTO;
		if (c->status < 0) {
			c->offset = 0;
			c->len = 0;
			c->flags = 0;
		}
		cnt++;
		if (dev->state == PVIO_DEV_BROKEN)
			break;
	}
	if (copied) {
		dev->stats[qi].copies += ncopies;
		dev->stats[qi].copy_bytes += copied;
	}
	if (cnt)
		return (int)cnt;
	if (dev->state == PVIO_DEV_BROKEN)
		return -EIO;
	if (dev->state == PVIO_DEV_REMOVED &&
	    q->rx.req_prod_pvt != q->rx.rsp_cons)
		return -ENODEV; /* posted buffers will not come back */
	return 0;
}

static int net_kick(pvio_dev *dev, unsigned qi, unsigned which)
{
	struct xen_dev *xd = xen_dev_of(dev);
	struct xen_net *n = xd->cpriv;
	if (qi >= n->nq)
		return -EINVAL;
	if (!pvio_dev_usable(dev))
		return unusable(dev);
	struct net_q *q = &n->q[qi];
	struct pvio_queue_stats *st = &dev->stats[qi];
	bool ntx = false, nrx = false;
	int pushed = 0;
	if ((which & PVIO_NET_KICK_TX) && q->tx.req_prod != q->tx.req_prod_pvt) {
		ntx = xen_ring_push(&q->tx);
		pushed++;
	}
	if ((which & PVIO_NET_KICK_RX) && q->rx.req_prod != q->rx.req_prod_pvt) {
		nrx = xen_ring_push(&q->rx);
		pushed++;
	}
	if (n->split) {
		if (ntx)
			xen_notify(xd, &q->ev[0]);
		if (nrx)
			xen_notify(xd, &q->ev[1]);
		st->notify_sent += (uint64_t)ntx + nrx;
		st->notify_suppressed += (uint64_t)pushed - ntx - nrx;
	} else if (ntx || nrx) {
		xen_notify(xd, &q->ev[0]);
		st->notify_sent++;
		st->notify_suppressed += (uint64_t)pushed - 1;
	} else {
		st->notify_suppressed += (uint64_t)pushed;
	}
	return 0;
}

static int net_set_mac(pvio_dev *dev, const uint8_t mac[6])
{
	(void)dev, (void)mac;
	return -EOPNOTSUPP;
}

static int net_queue_fd(pvio_dev *dev, unsigned qi)
{
	struct xen_dev *xd = xen_dev_of(dev);
	struct xen_net *n = xd->cpriv;
	if (qi >= n->nq)
		return -EINVAL;
	if (n->split)
		return n->q[qi].fdset >= 0 ? n->q[qi].fdset : -EOPNOTSUPP;
	if (!xd->h->ops->evtchn_fd)
		return -EOPNOTSUPP;
	return xd->h->ops->evtchn_fd(xd->h, &n->q[qi].ev[0]);
}

static int net_queue_arm(pvio_dev *dev, unsigned qi)
{
	struct xen_net *n = xen_dev_of(dev)->cpriv;
	if (qi >= n->nq)
		return -EINVAL;
	int a = xen_ring_final_check(&n->q[qi].rx);
	int b = xen_ring_final_check(&n->q[qi].tx);
	if (a < 0 || b < 0)
		return pvio_dev_set_broken(dev, "response producer is beyond "
						"the requests we published");
	return a || b;
}

static void net_queue_ack(pvio_dev *dev, unsigned qi)
{
	struct xen_dev *xd = xen_dev_of(dev);
	struct xen_net *n = xd->cpriv;
	if (qi >= n->nq)
		return;
	xd->h->ops->evtchn_ack(xd->h, &n->q[qi].ev[0]);
	if (n->split)
		xd->h->ops->evtchn_ack(xd->h, &n->q[qi].ev[1]);
}

static void net_queue_disarm(pvio_dev *dev, unsigned qi)
{
	struct xen_net *n = xen_dev_of(dev)->cpriv;
	if (qi >= n->nq)
		return;
	xen_ring_mute(&n->q[qi].rx);
	xen_ring_mute(&n->q[qi].tx);
}

/* ---------------------------------------------------------------- teardown */

static void net_teardown(struct xen_dev *xd)
{
	struct xen_net *n = xd->cpriv;
	struct xen_hostif *h = xd->h;
	pvio_ctx *ctx = xd->ctx;
	uint32_t leaked = 0;

	if (n->carrier_watch && xd->xs && !xd->xs->dead) {
		char path[300];
		pvio_snprintf(path, sizeof(path), "%s/carrier", xd->xb.be);
		xs_unwatch(xd->xs, path, n->carrier_token);
	}
	for (uint32_t i = 0; i < NET_MAX_QUEUES; i++) {
		struct net_q *q = &n->q[i];
		if (!xd->copy && q->gp.t) {
			for (uint32_t s = 0; s < NET_SLOTS; s++) {
				if (q->txs[s].busy)
					xen_gnt_pool_end(&q->gp, q->txs[s].gref);
				if (q->rxs[s].busy)
					xen_gnt_pool_end(&q->gp, q->rxs[s].gref);
			}
			xen_gnt_pool_retry(&q->gp);
			leaked += q->gp.nquar;
			xen_gnt_pool_fini(&q->gp);
		}
		if (q->tx_pool.va)
			leaked += h->ops->unshare(h, &q->tx_pool);
		if (q->rx_pool.va)
			leaked += h->ops->unshare(h, &q->rx_pool);
		if (q->tx_mem.va)
			leaked += h->ops->unshare(h, &q->tx_mem);
		if (q->rx_mem.va)
			leaked += h->ops->unshare(h, &q->rx_mem);
		if (q->fdset >= 0)
			pvio_fdset_free(ctx, q->fdset);
		for (unsigned e = 0; e < 2; e++)
			if (q->ev[e].open)
				h->ops->evtchn_close(h, &q->ev[e]);
		pvio_free(ctx, q->tag_slots);
	}
	if (leaked)
		pvio_log(ctx, PVIO_LOG_WARN,
			 "%s: the back end still maps %u pages; they are kept, "
			 "never reused",
			 xd->xb.fe, leaked);
	pvio_free(ctx, n);
	xd->cpriv = NULL;
}

static const struct pvio_net_ops net_ops = {
	.tx_enqueue = net_tx_enqueue,
	.tx_reap = net_tx_reap,
	.rx_post = net_rx_post,
	.rx_reap = net_rx_reap,
	.kick = net_kick,
	.set_mac = net_set_mac,
};

const struct pvio_dev_ops xen_net_dev_ops = {
	.configure = net_configure,
	.quiesce = xen_quiesce,
	.close = xen_close,
	.service = xen_service,
	.event_fd = xen_event_fd,
	.queue_fd = net_queue_fd,
	.queue_arm = net_queue_arm,
	.queue_ack = net_queue_ack,
	.queue_disarm = net_queue_disarm,
	.net = &net_ops,
};

const struct xen_class xen_net_class = {
	.open = net_open,
	.changed = net_changed,
	.teardown = net_teardown,
};
