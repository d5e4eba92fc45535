/* SPDX-License-Identifier: MIT */
/*
 * tests/lib/fakedev_net.c - the fake network device: a loopback.  Frames
 * transmitted on queue q are received on queue q (when a buffer is
 * posted), after the fake checked each transmission and each posted buffer
 * against the limits it advertised and the offloads it granted.
 */
#include "fakedev_priv.h"

#include <stdlib.h>

struct pvio_net_limits fake_net_limits_virtio(void)
{
	struct pvio_net_limits l = {
		.mac = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 },
		.link_up = true,
		.mtu = 1500,
		.max_queues = 4,
		.queue_size = 256,
		.max_tx_frame = 65550,
		.max_tx_segments = 64,
		.rx_buf_align = 1,
		.rx_buf_min = 1526,
	};
	return l;
}

struct pvio_net_limits fake_net_limits_xen(void)
{
	struct pvio_net_limits l = {
		.mac = { 0x00, 0x16, 0x3e, 0x00, 0x00, 0x01 },
		.link_up = true,
		.mtu = 1500,
		.max_queues = 2,
		.queue_size = 256,
		.max_tx_frame = 65535,
		.max_tx_segments = 18,
		.tx_seg_boundary = 4096,
		.rx_buf_align = 4096,
		.rx_buf_min = 4096,
		.rx_buf_exact = 4096,
	};
	return l;
}

static uint64_t granted(struct fake *f)
{
	return f->dev->info.features;
}

bool fake_net_pending(struct fake *f, unsigned q)
{
	struct fake_q *fq = &f->q[q];
	return fq->ch != fq->ct || fq->rch != fq->rct;
}

/* Put a frame into the next posted buffer. */
static int deliver(struct fake *f, unsigned q, const uint8_t *frame,
		   uint32_t len, uint32_t flags, uint16_t cs, uint16_t co)
{
	struct fake_q *fq = &f->q[q];
	while (f->rx_errors_next && fq->rh != fq->rt) {
		struct pvio_net_rxb *b = &fq->rx[fq->rh++ % fq->cap];
		fq->rx_busy[b->tag] = 0;
		fq->rxc[fq->rct++ % fq->cap] =
			(struct pvio_net_rxc){ .tag = b->tag, .status = -EPROTO };
		f->rx_errors_next--;
	}
	if (fq->rh == fq->rt) {
		f->rx_no_buffer++;
		return -ENOBUFS;
	}
	struct pvio_net_rxb *b = &fq->rx[fq->rh++ % fq->cap];
	fq->rx_busy[b->tag] = 0;
	struct pvio_net_rxc c = { .tag = b->tag, .offset = f->rx_offset };
	if (f->rx_offset + len > b->seg.len) {
		c.status = -EMSGSIZE;
	} else {
		memcpy((uint8_t *)b->seg.va + f->rx_offset, frame, len);
		c.len = len;
		if (granted(f) & PVIO_F_NET_CSUM_RX) {
			c.flags = flags & PVIO_PKT_CSUM_PARTIAL;
			c.csum_start = cs;
			c.csum_offset = co;
		}
		f->rx_frames++;
	}
	fq->rxc[fq->rct++ % fq->cap] = c;
	return 0;
}

int fake_net_inject(struct fake *f, unsigned q, const void *frame,
		    uint32_t len, uint32_t flags, uint16_t csum_start,
		    uint16_t csum_offset)
{
	int r = deliver(f, q, frame, len, flags, csum_start, csum_offset);
	fake_notify(f, q);
	return r;
}

unsigned fake_rx_posted(struct fake *f, unsigned q)
{
	if (!f->dev || q >= f->nq_alloc)
		return 0;
	return f->q[q].rt - f->q[q].rh;
}

static bool check_tx(struct fake *f, const struct pvio_net_txd *t)
{
	const struct pvio_net_limits *l = &f->dev->limits.net;
	uint64_t g = granted(f);
	if (t->tag >= f->max_tags || !t->nseg || t->nseg > l->max_tx_segments ||
	    !t->len || t->len > l->max_tx_frame) {
		fake_violation(f, "tx: tag %u, %u segments, %u bytes", t->tag,
			       t->nseg, t->len);
		return false;
	}
	uint64_t sum = 0;
	for (unsigned i = 0; i < t->nseg; i++) {
		uintptr_t a = (uintptr_t)t->seg[i].va;
		if (!fake_seg_ok(f, &t->seg[i]))
			return false;
		if (l->tx_seg_boundary &&
		    a / l->tx_seg_boundary !=
			    (a + t->seg[i].len - 1) / l->tx_seg_boundary) {
			fake_violation(f, "tx segment %u crosses %u", i,
				       l->tx_seg_boundary);
			return false;
		}
		sum += t->seg[i].len;
	}
	if (sum != t->len) {
		fake_violation(f, "tx segments sum to %llu, not %u",
			       (unsigned long long)sum, t->len);
		return false;
	}
	if (((t->flags & PVIO_PKT_CSUM_PARTIAL) && !(g & PVIO_F_NET_CSUM_TX)) ||
	    ((t->flags & PVIO_PKT_GSO_TCPV4) && !(g & PVIO_F_NET_TSO4)) ||
	    ((t->flags & PVIO_PKT_GSO_TCPV6) && !(g & PVIO_F_NET_TSO6)) ||
	    (t->flags & PVIO_PKT_CSUM_VALID)) {
		fake_violation(f, "tx flags 0x%x with offloads 0x%llx", t->flags,
			       (unsigned long long)g);
		return false;
	}
	if ((t->flags & PVIO_PKT_CSUM_PARTIAL) &&
	    (uint32_t)t->csum_start + t->csum_offset + 2 > t->len) {
		fake_violation(f, "tx checksum field outside the frame");
		return false;
	}
	if (!(t->flags & (PVIO_PKT_GSO_TCPV4 | PVIO_PKT_GSO_TCPV6)) &&
	    t->len > l->mtu + 18) {
		fake_violation(f, "tx frame of %u bytes without GSO, MTU %u",
			       t->len, l->mtu);
		return false;
	}
	return true;
}

static int n_tx_enqueue(pvio_dev *dev, unsigned q, const struct pvio_net_txd *t)
{
	struct fake *f = dev->priv;
	int e = fake_state_err(f);
	if (e)
		return e;
	struct fake_q *fq = &f->q[q];
	if (!check_tx(f, t))
		return -EINVAL;
	if (fq->tag_busy[t->tag]) {
		fake_violation(f, "tx tag %u already in flight", t->tag);
		return -EINVAL;
	}
	unsigned slot = fake_slot_free(fq);
	if (slot == fq->cap) {
		f->eagains++;
		return -EAGAIN;
	}
	struct fake_req *x = &fq->req[slot];
	x->state = FR_STAGED;
	x->seq = fq->seq++;
	x->tag = t->tag;
	x->nseg = t->nseg;
	x->len = t->len;
	x->flags = t->flags;
	x->csum_start = t->csum_start;
	x->csum_offset = t->csum_offset;
	memcpy(x->seg, t->seg, t->nseg * sizeof(*t->seg));
	fq->tag_busy[t->tag] = 1;
	f->enqueued++;
	return 0;
}

/* The host "sends" staged frames: loop them back, complete them. */
static void transmit(struct fake *f, unsigned q)
{
	struct fake_q *fq = &f->q[q];
	for (;;) {
		struct fake_req *x = NULL;
		for (unsigned i = 0; i < fq->cap; i++)
			if (fq->req[i].state == FR_STAGED &&
			    (!x || fq->req[i].seq < x->seq))
				x = &fq->req[i];
		if (!x)
			break;
		uint32_t n = 0;
		for (unsigned i = 0; i < x->nseg; i++) {
			if (n + x->seg[i].len <= sizeof(f->last_tx))
				memcpy(f->last_tx + n, x->seg[i].va, x->seg[i].len);
			n += x->seg[i].len;
		}
		f->last_tx_len = n;
		f->last_tx_flags = x->flags;
		f->tx_frames++;
		deliver(f, q, f->last_tx, n, x->flags, x->csum_start,
			x->csum_offset);
		x->state = FR_VISIBLE;
		if (!f->hold_tx) {
			x->state = FR_DONE;
			fq->comp[fq->ct++ % fq->cap] = (unsigned)(x - fq->req);
			f->completed++;
		}
	}
}

unsigned fake_net_release(struct fake *f, unsigned q, unsigned n)
{
	struct fake_q *fq = &f->q[q];
	unsigned done = 0;
	for (unsigned i = 0; i < fq->cap && done < n; i++) {
		if (fq->req[i].state != FR_VISIBLE)
			continue;
		fq->req[i].state = FR_DONE;
		fq->comp[fq->ct++ % fq->cap] = i;
		f->completed++;
		done++;
	}
	if (done)
		fake_notify(f, q);
	return done;
}

static int n_tx_reap(pvio_dev *dev, unsigned q, uint32_t *tags, unsigned max)
{
	struct fake *f = dev->priv;
	if (dev->state == PVIO_DEV_BROKEN || dev->state == PVIO_DEV_REMOVED)
		return fake_state_err(f);
	struct fake_q *fq = &f->q[q];
	unsigned n = 0;
	while (n < max && fq->ch != fq->ct) {
		struct fake_req *x = &fq->req[fq->comp[fq->ch++ % fq->cap]];
		tags[n++] = x->tag;
		fq->tag_busy[x->tag] = 0;
		x->state = FR_FREE;
	}
	return (int)n;
}

static int n_rx_post(pvio_dev *dev, unsigned q, const struct pvio_net_rxb *b)
{
	struct fake *f = dev->priv;
	const struct pvio_net_limits *l = &dev->limits.net;
	int e = fake_state_err(f);
	if (e)
		return e;
	struct fake_q *fq = &f->q[q];
	if (b->tag >= f->max_tags || fq->rx_busy[b->tag] || !fake_seg_ok(f, &b->seg) ||
	    (l->rx_buf_align && (uintptr_t)b->seg.va % l->rx_buf_align) ||
	    b->seg.len < l->rx_buf_min ||
	    (l->rx_buf_exact && b->seg.len != l->rx_buf_exact)) {
		fake_violation(f, "rx buffer tag %u: %u bytes at %p", b->tag,
			       b->seg.len, b->seg.va);
		return -EINVAL;
	}
	if (fq->rt - fq->rh == fq->cap) {
		f->eagains++;
		return -EAGAIN;
	}
	fq->rx[fq->rt++ % fq->cap] = *b;
	fq->rx_busy[b->tag] = 1;
	return 0;
}

static int n_rx_reap(pvio_dev *dev, unsigned q, struct pvio_net_rxc *out,
		     unsigned max)
{
	struct fake *f = dev->priv;
	if (dev->state == PVIO_DEV_BROKEN || dev->state == PVIO_DEV_REMOVED)
		return fake_state_err(f);
	struct fake_q *fq = &f->q[q];
	unsigned n = 0;
	while (n < max && fq->rch != fq->rct)
		out[n++] = fq->rxc[fq->rch++ % fq->cap];
	return (int)n;
}

static int n_kick(pvio_dev *dev, unsigned q, unsigned which)
{
	struct fake *f = dev->priv;
	int e = fake_state_err(f);
	if (e)
		return e;
	f->kicks++;
	dev->stats[q].notify_sent++;
	if (which & PVIO_NET_KICK_TX)
		transmit(f, q);
	fake_notify(f, q);
	return 0;
}

static int n_set_mac(pvio_dev *dev, const uint8_t mac[6])
{
	struct fake *f = dev->priv;
	if (!f->can_set_mac)
		return -EOPNOTSUPP;
	memcpy(dev->limits.net.mac, mac, 6);
	return 0;
}

static int n_configure(pvio_dev *dev, const struct pvio_dev_config *cfg)
{
	struct fake *f = dev->priv;
	const struct pvio_net_limits *l = &dev->limits.net;
	if (cfg->num_queues > l->max_queues)
		return pvio_set_error(dev->ctx, EINVAL, "fake: too many queues");
	fake_configure_queues(f, cfg, f->ring ? f->ring : l->queue_size,
			      l->max_tx_segments);
	dev->info.features = (cfg->want & f->offered) | PVIO_F_NET_MAC;
	if (f->can_set_mac)
		dev->info.features |= PVIO_F_NET_SET_MAC;
	if (cfg->mac && f->can_set_mac)
		memcpy(dev->limits.net.mac, cfg->mac, 6);
	return 0;
}

static const struct pvio_net_ops net_ops = {
	.tx_enqueue = n_tx_enqueue,
	.tx_reap = n_tx_reap,
	.rx_post = n_rx_post,
	.rx_reap = n_rx_reap,
	.kick = n_kick,
	.set_mac = n_set_mac,
};

static const struct pvio_dev_ops dev_ops = {
	.configure = n_configure,
	.quiesce = fake_op_quiesce,
	.close = fake_op_close,
	.queue_fd = fake_op_queue_fd,
	.queue_arm = fake_op_queue_arm,
	.queue_ack = fake_op_queue_ack,
	.queue_disarm = fake_op_queue_disarm,
	.net = &net_ops,
};

struct fake *fake_net_new(pvio_ctx *ctx, const char *address,
			  const struct pvio_net_limits *lim, uint64_t offered)
{
	struct fake *f = fake_new(ctx, address, PVIO_CLASS_NET, &dev_ops);
	f->dev->limits.net = *lim;
	f->dev->info.max_queues = lim->max_queues;
	f->dev->info.offered = offered;
	f->offered = offered;
	f->rx_offset = 12;
	return f;
}
