/* SPDX-License-Identifier: MIT */
/*
 * sim/virtio/net.c - the virtio-net device model: a wire that reflects
 * every frame back to the sender ("reflect") or a hub between the devices
 * of one group ("switch:GROUP", two devices make a two-port bridge).
 *
 * A TX buffer is checked (header, offload flags the driver may use, frame
 * size against the MTU), copied once into a frame buffer and written into
 * RX buffers of the target - one buffer, or several with MRG_RXBUF and
 * num_buffers set.  A partial checksum (NEEDS_CSUM) is passed on to a
 * receiver that accepted GUEST_CSUM and completed in software otherwise.
 *
 * When the target has no RX buffer, the frame is not lost by default: the
 * TX buffer goes back to the ring, the TX queue waits (kicks off) and the
 * target's RX kicks are switched on; the next RX kick resumes it.  With
 * rxfull=drop (or a hub of three or more) the frame is dropped and
 * counted instead, like a real NIC.  A frame to a device whose link is
 * down, or with no started and enabled RX queue, is dropped.
 *
 * The optional control queue (CTRL_VQ, needed by MQ) answers
 * MQ VQ_PAIRS_SET; every other class is refused with VIRTIO_NET_ERR.
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "virtio/svirtio.h"

#define ETH_HLEN 14u

static unsigned hdr_len(const struct svirtio_dev *d)
{
	return svirtio_has(d->acked, SVIRTIO_F_VERSION_1) ||
			       svirtio_has(d->acked, SVIRTIO_NET_F_MRG_RXBUF)
		       ? 12u
		       : 10u;
}

unsigned svirtio_net_ctrl_index(const struct svirtio_dev *d)
{
	if (!d->u.net.ctrl_vq)
		return ~0u;
	return svirtio_has(d->acked, SVIRTIO_NET_F_MQ) ? 2u * d->o.queues : 2u;
}

int svirtio_net_init(struct svirtio_dev *d, char *err, size_t errlen)
{
	struct svirtio_net *n = &d->u.net;
	n->frame = malloc(SVIRTIO_MAX_FRAME + 64);
	n->rxe = malloc(2 * sizeof(*n->rxe));
	if (!n->frame || !n->rxe) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	n->curr_pairs = 1;
	return 0;
}

void svirtio_net_fini(struct svirtio_dev *d)
{
	free(d->u.net.frame);
	free(d->u.net.rxe);
	d->u.net.frame = NULL;
	d->u.net.rxe = NULL;
}

size_t svirtio_net_config(const struct svirtio_dev *d, uint8_t *buf)
{
	const struct svirtio_net *n = &d->u.net;
	struct svirtio_net_config c;
	memset(&c, 0, sizeof(c));
	memcpy(c.mac, n->mac, 6);
	c.status = htole16(n->link_up ? SVIRTIO_NET_S_LINK_UP : 0);
	c.max_virtqueue_pairs = htole16((uint16_t)d->o.queues);
	c.mtu = htole16(n->mtu);
	memcpy(buf, &c, sizeof(c));
	return sizeof(c);
}

void svirtio_net_set_link(struct svirtio_dev *d, bool up)
{
	if (d->u.net.link_up == up)
		return;
	d->u.net.link_up = up;
	sim_log(SIM_LOG_INFO, "%s: link %s", d->name, up ? "up" : "down");
	svirtio_config_changed(d);
	if (up)
		svirtio_dev_kick_all(d);
}

/* ------------------------------------------------------------ delivery */
struct csum {
	bool partial;         /* sender asked for checksum completion */
	uint16_t start, offset;
	uint8_t full[2];      /* the completed checksum, big-endian */
};

static void csum_complete(const uint8_t *f, uint32_t len, struct csum *c)
{
	uint32_t sum = 0;
	uint32_t i = c->start;
	for (; i + 1 < len; i += 2)
		sum += (uint32_t)f[i] << 8 | f[i + 1];
	if (i < len)
		sum += (uint32_t)f[i] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	uint16_t v = (uint16_t)~sum;
	if (!v && c->offset == 6)    /* UDP: 0 means "no checksum" */
		v = 0xffff;
	c->full[0] = (uint8_t)(v >> 8);
	c->full[1] = (uint8_t)v;
}

static struct svirtio_vq *rx_queue(struct svirtio_dev *t, unsigned pair)
{
	struct svirtio_net *n = &t->u.net;
	unsigned p = pair < t->o.queues ? pair : 0;
	if (svirtio_has(t->acked, SVIRTIO_NET_F_CTRL_VQ) && p >= n->curr_pairs)
		p = 0;
	struct svirtio_vq *vq = &t->vq[2 * p];
	if (svirtio_vq_ready(vq) && vq->enabled)
		return vq;
	vq = &t->vq[0];
	if (svirtio_vq_ready(vq) && vq->enabled)
		return vq;
	return NULL;
}

struct rxrec {
	uint16_t id, ndesc;
	uint32_t len;
};

/* Pop RX buffers until header + frame fit and copy the frame in.
 * Returns the number of buffers (records in rec), 0 if the ring ran dry
 * (everything given back), -1 if the ring broke or the frame cannot be
 * placed. */
static int fill(struct svirtio_dev *t, struct svirtio_vq *vq,
		const uint8_t *frame, uint32_t len, const struct csum *cs,
		bool fix_csum, struct rxrec *rec)
{
	struct svirtio_net *n = &t->u.net;
	unsigned hl = hdr_len(t), nb = 0;
	bool mrg = svirtio_has(t->acked, SVIRTIO_NET_F_MRG_RXBUF);
	uint32_t placed = 0;
	struct svirtio_elem *cur = &n->rxe[0];

	while (nb == 0 || placed < len) {
		int r = -2;
		if (nb < SVIRTIO_MAX_RXBUFS)
			r = svirtio_vq_pop(vq, cur);
		if (r <= 0) {
			for (; nb; nb--)
				svirtio_vq_unpop(vq, rec[nb - 1].id,
						 rec[nb - 1].ndesc);
			if (r == -2)
				svirtio_complain(t, "%s: a %u-byte frame needs more "
						 "than %u RX buffers; dropped",
						 t->name, len, SVIRTIO_MAX_RXBUFS);
			return r == 0 ? 0 : -1;
		}
		if (cur->nout) {
			svirtio_vq_fail(vq, "RX buffer %u has device-readable "
					    "descriptors", cur->id);
			return -1;
		}
		if (nb == 0 && (cur->in_len < hl ||
				(!mrg && cur->in_len < hl + len))) {
			svirtio_vq_fail(vq, "RX buffer %u of %u bytes cannot hold "
					    "a %u-byte frame and its %u-byte "
					    "header%s", cur->id, cur->in_len, len,
					hl, mrg ? "" : " (no MRG_RXBUF)");
			return -1;
		}
		uint32_t skip = nb == 0 ? hl : 0;
		uint32_t take = cur->in_len - skip;
		if (take > len - placed)
			take = len - placed;
		svirtio_iov_copy_to(cur->seg, cur->nin, skip, frame + placed,
				    take);
		if (fix_csum) {
			/* the completed checksum replaces the partial one */
			uint32_t pos = (uint32_t)cs->start + cs->offset;
			for (uint32_t k = 0; k < 2; k++)
				if (pos + k >= placed && pos + k < placed + take)
					svirtio_iov_copy_to(cur->seg, cur->nin,
							    skip + pos + k - placed,
							    &cs->full[k], 1);
		}
		rec[nb].id = cur->id;
		rec[nb].ndesc = cur->ndesc;
		rec[nb].len = skip + take;
		nb++;
		placed += take;
		cur = &n->rxe[1];
	}
	return (int)nb;
}

/* Write one frame into t's RX ring.  0, -ENOBUFS (no buffer now),
 * -ENODEV (nowhere to deliver), -EIO (ring broken / frame refused). */
static int deliver(struct svirtio_dev *t, unsigned pair, const uint8_t *frame,
		   uint32_t len, const struct csum *cs)
{
	struct svirtio_net *n = &t->u.net;
	struct svirtio_vq *vq;
	struct rxrec rec[SVIRTIO_MAX_RXBUFS];
	struct svirtio_net_hdr h;
	bool fix_csum = false;
	int nb;

	if (t->sock < 0 || !n->link_up || !(vq = rx_queue(t, pair)))
		return -ENODEV;
	memset(&h, 0, sizeof(h));
	if (cs->partial) {
		if (svirtio_has(t->acked, SVIRTIO_NET_F_GUEST_CSUM)) {
			h.flags = SVIRTIO_NET_HDR_F_NEEDS_CSUM;
			h.csum_start = htole16(cs->start);
			h.csum_offset = htole16(cs->offset);
		} else {
			fix_csum = true;
		}
	}
	nb = fill(t, vq, frame, len, cs, fix_csum, rec);
	if (nb == 0) {
		/* dry: ask for a kick, and look once more in case buffers
		 * arrived before the kick was enabled */
		if (!svirtio_vq_kicks_on(vq))
			return -ENOBUFS;
		nb = fill(t, vq, frame, len, cs, fix_csum, rec);
		if (nb == 0)
			return -ENOBUFS;
	}
	if (nb < 0)
		return -EIO;
	h.num_buffers = htole16(svirtio_has(t->acked, SVIRTIO_NET_F_MRG_RXBUF)
					? (uint16_t)nb
					: 1);
	svirtio_iov_copy_to(n->rxe[0].seg, n->rxe[0].nin, 0, &h, hdr_len(t));
	for (int i = 0; i < nb; i++)
		svirtio_complete(vq, rec[i].id, rec[i].ndesc, rec[i].len, true,
				 i == 0 ? (uint16_t)nb : 0);
	vq->dirty = true;
	vq->st.bytes += len;
	n->rx_frames++;
	n->rx_bytes += len;
	return 0;
}

static void flush_rx(struct svirtio_dev *t)
{
	for (unsigned p = 0; p < t->o.queues; p++) {
		struct svirtio_vq *vq = &t->vq[2 * p];
		if (vq->dirty) {
			vq->dirty = false;
			svirtio_complete_ready(vq);
		}
	}
}

/* Send one frame from d (queue pair `pair`) to its target(s);
 * -ENOBUFS when the sender should wait for RX buffers. */
static int forward(struct svirtio_dev *d, unsigned pair, uint32_t len,
		   const struct csum *cs)
{
	struct svirtio_net *n = &d->u.net;
	struct svirtio_group *g = n->group;
	unsigned peers = 0;

	if (g) {
		for (struct svirtio_dev *t = g->first; t;
		     t = t->u.net.next_in_group)
			peers += t != d;
	}
	for (struct svirtio_dev *t = g ? g->first : d; t;
	     t = g ? t->u.net.next_in_group : NULL) {
		if (g && t == d)
			continue;
		int r = deliver(t, pair, n->frame, len, cs);
		if (r == -ENOBUFS && !n->rxfull_drop && (!g || peers == 1))
			return -ENOBUFS;
		if (r == -ENOBUFS)
			n->drop_full++;
		else if (r < 0)
			n->drop_norx++;
	}
	return 0;
}

static void flush_targets(struct svirtio_dev *d)
{
	struct svirtio_group *g = d->u.net.group;
	if (!g) {
		flush_rx(d);
		return;
	}
	for (struct svirtio_dev *t = g->first; t; t = t->u.net.next_in_group)
		flush_rx(t);
}

void svirtio_net_rx_kicked(struct svirtio_dev *d)
{
	struct svirtio_group *g = d->u.net.group;
	for (struct svirtio_dev *t = g ? g->first : d; t;
	     t = g ? t->u.net.next_in_group : NULL) {
		for (unsigned p = 0; p < t->o.queues; p++) {
			struct svirtio_vq *tx = &t->vq[2 * p + 1];
			if (tx->blocked) {
				tx->blocked = false;
				svirtio_process(tx);
			}
		}
	}
}

/* Why a TX frame is unacceptable: NULL if it is fine, else the cause (a
 * format string, the key of the rate-limited log line) with the reason
 * spelled out in why. */
#define REFUSE(...)                                                            \
	do {                                                                   \
		snprintf(why, whylen, __VA_ARGS__);                            \
		return SVIRTIO_FIRST(__VA_ARGS__, 0);                          \
	} while (0)
#define SVIRTIO_FIRST(a, ...) a
static const char *check_tx(struct svirtio_dev *d,
			    const struct svirtio_net_hdr *h, uint32_t len,
			    struct csum *cs, char *why, size_t whylen)
{
	uint32_t max = (uint32_t)d->u.net.mtu + ETH_HLEN + 4;

	cs->partial = false;
	if (h->flags & ~SVIRTIO_NET_HDR_F_NEEDS_CSUM)
		REFUSE("header flags 0x%x", h->flags);
	if (h->gso_type != SVIRTIO_NET_HDR_GSO_NONE)
		REFUSE("gso_type %u but no host segmentation offload was offered",
		       h->gso_type);
	if (len < ETH_HLEN)
		REFUSE("a %u-byte frame is too short", len);
	if (len > max)
		REFUSE("a %u-byte frame exceeds MTU %u", len, d->u.net.mtu);
	if (h->flags & SVIRTIO_NET_HDR_F_NEEDS_CSUM) {
		if (!svirtio_has(d->acked, SVIRTIO_NET_F_CSUM))
			REFUSE("NEEDS_CSUM but CSUM was not negotiated");
		cs->start = le16toh(h->csum_start);
		cs->offset = le16toh(h->csum_offset);
		if ((uint32_t)cs->start + cs->offset + 2 > len)
			REFUSE("checksum at %u+%u lies outside the %u-byte frame",
			       cs->start, cs->offset, len);
		cs->partial = true;
	}
	return NULL;
}
#undef REFUSE
#undef SVIRTIO_FIRST

static unsigned ctrl_handle(struct svirtio_vq *vq, unsigned budget)
{
	struct svirtio_dev *d = vq->dev;
	struct svirtio_elem *e = d->elem;
	unsigned n = 0;
	while (n < budget) {
		if (svirtio_vq_pop(vq, e) <= 0)
			break;
		n++;
		if (e->out_len < 2 || e->in_len < 1) {
			svirtio_vq_fail(vq, "control command %u has %u readable "
					    "and %u writable bytes (needs 2 and 1)",
					e->id, e->out_len, e->in_len);
			break;
		}
		uint8_t cmd[4] = { 0 };
		svirtio_iov_copy_from(e->seg, e->nout, 0, cmd,
				      e->out_len < 4 ? e->out_len : 4);
		uint8_t ack = SVIRTIO_NET_ERR;
		if (cmd[0] == SVIRTIO_NET_CTRL_MQ &&
		    cmd[1] == SVIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET &&
		    e->out_len == 4 && svirtio_has(d->acked, SVIRTIO_NET_F_MQ)) {
			uint16_t pairs = (uint16_t)(cmd[2] | cmd[3] << 8);
			if (pairs >= 1 && pairs <= d->o.queues) {
				d->u.net.curr_pairs = pairs;
				ack = SVIRTIO_NET_OK;
				sim_log(SIM_LOG_INFO, "%s: %u queue pairs active",
					d->name, pairs);
			}
		}
		if (ack != SVIRTIO_NET_OK)
			svirtio_complain(d, "%s: control command class %u cmd %u "
					 "(%u bytes) refused", d->name, cmd[0],
					 cmd[1], e->out_len);
		svirtio_iov_copy_to(e->seg + e->nout, e->nin, 0, &ack, 1);
		svirtio_complete(vq, e->id, e->ndesc, 1, true, 1);
	}
	return n;
}

unsigned svirtio_net_handle(struct svirtio_vq *vq, unsigned budget)
{
	struct svirtio_dev *d = vq->dev;
	struct svirtio_net *n = &d->u.net;
	struct svirtio_elem *e = d->elem;
	unsigned hl = hdr_len(d), pair = vq->index / 2, done = 0;

	if (vq->index == svirtio_net_ctrl_index(d))
		return ctrl_handle(vq, budget);
	if (!(vq->index & 1))
		return 0;   /* RX: fed by senders */
	while (done < budget) {
		if (svirtio_vq_pop(vq, e) <= 0)
			break;
		done++;
		if (e->nin) {
			svirtio_vq_fail(vq, "TX buffer %u has device-writable "
					    "descriptors", e->id);
			break;
		}
		if (e->out_len < hl) {
			svirtio_vq_fail(vq, "TX buffer %u of %u bytes is shorter "
					    "than the %u-byte header",
					e->id, e->out_len, hl);
			break;
		}
		struct svirtio_net_hdr h;
		memset(&h, 0, sizeof(h));
		svirtio_iov_copy_from(e->seg, e->nout, 0, &h, hl);
		uint32_t len = e->out_len - hl;
		struct csum cs;
		char whyb[120];
		const char *why = check_tx(d, &h, len, &cs, whyb, sizeof(whyb));
		if (!vq->enabled || !n->link_up) {
			if (!vq->enabled)
				vq->st.drops++;
			else
				n->drop_link++;
		} else if (why) {
			n->drop_bad++;
			vq->st.drops++;
			svirtio_complain_key(d, why,
					     "%s: queue %u: TX buffer %u dropped: %s",
					     d->name, vq->index, e->id, whyb);
		} else {
			svirtio_iov_copy_from(e->seg, e->nout, hl, n->frame, len);
			if (cs.partial) {
				csum_complete(n->frame, len, &cs);
				n->tx_csum++;
			}
			if (forward(d, pair, len, &cs) == -ENOBUFS) {
				svirtio_vq_unpop(vq, e->id, e->ndesc);
				vq->blocked = true;
				done--;
				break;
			}
			n->tx_frames++;
			n->tx_bytes += len;
			vq->st.bytes += len;
		}
		svirtio_complete(vq, e->id, e->ndesc, 0, false, 1);
	}
	flush_targets(d);
	return done;
}
