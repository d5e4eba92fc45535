/* SPDX-License-Identifier: MIT */
/*
 * sim/vmbus/netvsp.c - the NetVSP: NVSP on a NIC's channels, the receive
 * buffer (one section of fixed-size slots) and the send buffer (sections),
 * transmit from send-buffer sections and GPA ranges, and delivery of
 * frames into the receive buffer of this or another NIC.
 *
 * Bring-up is INIT (versions 1, 2, 4, 5, 6, 6.1), SEND_NDIS_CONFIG and
 * SEND_NDIS_VER (no reply: a real host sends none and DPDK breaks if one
 * comes), SEND_RECV_BUF, SEND_SEND_BUF, then RNDIS (rndis.c).  A frame
 * received by the guest goes into free receive-buffer slots and is
 * announced by a DATA_USING_XFER_PAGES packet whose transaction id is its
 * first slot (DPDK needs ids below the slot count); the guest's COMP
 * returns the slots.  With no free slot or no ring space a data frame is
 * dropped, as a switch port drops; a control message waits.
 *
 * Modes: reflect (a frame comes back to the NIC that sent it, subject to
 * its packet filter), bridge (frames go to the peer NIC, possibly opened by
 * another partition), drop.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmbus/netvsp.h"

#define RECV_BUF_MAX (31u * 1024u * 1024u)
#define RECV_BUF_MAX_V1 (15u * 1024u * 1024u)
#define SEND_BUF_MAX (15u * 1024u * 1024u)
#define SLOT_MIN 1728u
#define NO_SLOT UINT32_MAX

static const uint32_t nvsp_versions[] = {
	SHV_NVSP_V61, SHV_NVSP_V6, SHV_NVSP_V5, SHV_NVSP_V4, SHV_NVSP_V2,
	SHV_NVSP_V1,
};

/* ------------------------------------------------------------- replies */
static void nvsp_reply(struct shv_chan *c, const struct shv_pkt *pkt,
		       const void *msg, uint32_t len)
{
	uint8_t buf[SHV_NVSP_MSG_SIZE];
	if (!(pkt->flags & SHV_PKT_FLAG_RC)) {
		shv_warn("%s: NVSP request %u without completion requested; "
			 "no reply", shv_chan_name(c), shv_get32(pkt->data));
		return;
	}
	memset(buf, 0, sizeof(buf));
	memcpy(buf, msg, len);
	shv_chan_complete(c, pkt->trans_id, buf, sizeof(buf));
}

/* ---------------------------------------------------- receive-buffer slots */
/* A buffer the guest revoked (closing: 0 when the channel closes).  Hosts
 * from VMBus 4.0 (Windows Server 2016) on keep the GPADL in use until the
 * channel is closed, which is why Linux tears these GPADLs down only after
 * CLOSECHANNEL there; older hosts let go at the revoke. */
static void drop_buf(struct net_state *s, struct shv_gpadl *g, int which,
		     bool closing)
{
	if (!closing && s->part->version >= SHV_VMBUS_V4_0 && !s->held[which]) {
		s->held[which] = g;
		return;
	}
	shv_gpadl_put(s->part, g);
}

static void release_held(struct net_state *s)
{
	for (int i = 0; i < 2; i++)
		if (s->held[i]) {
			shv_gpadl_put(s->part, s->held[i]);
			s->held[i] = NULL;
		}
}

static void release_rbuf(struct net_state *s, bool closing)
{
	if (!s->rbuf)
		return;
	drop_buf(s, s->rbuf, 0, closing);
	s->rbuf = NULL;
	free(s->slot_next);
	free(s->slot_state);
	s->slot_next = NULL;
	s->slot_state = NULL;
	s->slot_count = s->slots_free = s->slot_first = 0;
}

static void release_sbuf(struct net_state *s, bool closing)
{
	if (!s->sbuf)
		return;
	drop_buf(s, s->sbuf, 1, closing);
	s->sbuf = NULL;
	s->section_count = 0;
}

static uint32_t slot_alloc(struct net_state *s)
{
	if (!s->slots_free)
		return NO_SLOT;
	uint32_t span = s->slot_count - s->slot_first;
	for (uint32_t i = 0; i < span; i++) {
		uint32_t k = s->slot_first + (s->slot_hint + i) % span;
		if (!s->slot_state[k]) {
			s->slot_state[k] = 1;
			s->slot_next[k] = NO_SLOT;
			s->slots_free--;
			s->slot_hint = k + 1 - s->slot_first;
			return k;
		}
	}
	return NO_SLOT;
}

static void slots_free_chain(struct net_state *s, uint32_t head)
{
	for (uint32_t k = head; k != NO_SLOT;) {
		uint32_t nx = s->slot_next[k];
		s->slot_state[k] = 0;
		s->slot_next[k] = NO_SLOT;
		s->slots_free++;
		k = nx;
	}
}

/* One transfer-page packet: ranges into slots, chained from head. */
struct xfer {
	uint32_t n;
	uint32_t head, tail;
	struct shv_xfer_range r[NET_RX_BATCH];
	uint32_t channel_type;
};

static int xfer_send(struct net_state *s, struct shv_chan *c, struct xfer *x,
		     unsigned how)
{
	uint8_t hdr[8 + 8 * NET_RX_BATCH];
	if (!x->n)
		return 0;
	shv_put16(hdr, s->rbuf_id);
	hdr[2] = 0;
	hdr[3] = 0;
	shv_put32(hdr + 4, x->n);
	memcpy(hdr + 8, x->r, 8 * x->n);
	if (shv_dev_take_corrupt(s->dev, SHV_CK(SHV_CORRUPT_XFER_RANGE)) ==
	    SHV_CORRUPT_XFER_RANGE)
		/* the first range runs off the end of the receive buffer */
		shv_put32(hdr + 8 + 4, s->rbuf->byte_count - 4);
	uint8_t nvsp[SHV_NVSP_MSG_SIZE];
	memset(nvsp, 0, sizeof(nvsp));
	struct shv_nvsp_rndis_pkt m = {
		.type = SHV_NVSP_SEND_RNDIS_PKT,
		.channel_type = x->channel_type,
		.section_index = SHV_NVSP_NO_SECTION,
	};
	memcpy(nvsp, &m, sizeof(m));
	int r = shv_chan_send(c, SHV_PKT_XFER_PAGES, SHV_PKT_FLAG_RC, x->head,
			      hdr, 8 + 8 * x->n, nvsp, sizeof(nvsp), how);
	if (r < 0)
		slots_free_chain(s, x->head);
	else
		s->slot_state[x->head] = 2;
	x->n = 0;
	return r;
}

/* Put one RNDIS message into a free slot of the transfer being built. */
static int xfer_add(struct net_state *s, struct xfer *x, const uint8_t *msg,
		    uint32_t len)
{
	uint32_t k = slot_alloc(s);
	if (k == NO_SLOT)
		return -ENOSPC;
	shv_gpadl_write(s->rbuf, k * s->slot_size, msg, len);
	if (len >= 8 && shv_dev_take_corrupt(s->dev,
					     SHV_CK(SHV_CORRUPT_RNDIS_LEN)) ==
				SHV_CORRUPT_RNDIS_LEN) {
		/* the message claims to run past its range */
		uint32_t bad = len + 4096u;
		shv_gpadl_write(s->rbuf, k * s->slot_size + 4, &bad, 4);
	}
	x->r[x->n].byte_count = len;
	x->r[x->n].byte_offset = k * s->slot_size;
	if (!x->n)
		x->head = k;
	else
		s->slot_next[x->tail] = k;
	x->tail = k;
	x->n++;
	return 0;
}

static bool ctl_flush(struct net_state *s)
{
	unsigned done = 0;
	while (done < s->ctl_n) {
		struct net_ctl_msg *m = &s->ctl[done];
		struct xfer x = { .channel_type = 1 };
		if (!shv_chan_is_open(m->chan)) {
			done++;
			continue;
		}
		if (xfer_add(s, &x, m->msg, m->len) < 0)
			break;
		xfer_send(s, m->chan, &x, 0);
		done++;
	}
	memmove(s->ctl, s->ctl + done, sizeof(s->ctl[0]) * (s->ctl_n - done));
	s->ctl_n -= done;
	return !s->ctl_n;
}

void net_send_control(struct net_state *s, struct shv_chan *c,
		      const void *msg, uint32_t len)
{
	if (!s->rbuf) {
		shv_warn("%s: RNDIS reply but no receive buffer; dropped",
			 shv_chan_name(c));
		return;
	}
	if (s->ctl_n == NET_CTL_QUEUE || len > NET_CTL_MAX) {
		shv_warn("%s: RNDIS control replies pile up (guest returns no "
			 "receive slots); dropped", shv_chan_name(c));
		return;
	}
	struct net_ctl_msg *m = &s->ctl[s->ctl_n++];
	m->chan = c;
	m->len = len;
	memcpy(m->msg, msg, len);
	ctl_flush(s);
}

/* ---------------------------------------------------------------- delivery */
static bool filter_pass(const struct net_state *s, const uint8_t *f)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint32_t fl = s->filter;
	if (fl & SHV_FILTER_PROMISCUOUS)
		return true;
	if (!memcmp(f, bcast, 6))
		return fl & SHV_FILTER_BROADCAST;
	if (f[0] & 1)
		return fl & (SHV_FILTER_MULTICAST | SHV_FILTER_ALL_MULTICAST);
	return (fl & SHV_FILTER_DIRECTED) && !memcmp(f, s->dev->nic.mac, 6);
}

static struct shv_chan *rx_chan(struct net_state *s, const uint8_t *f,
				uint32_t len, struct shv_chan *prefer)
{
	if (prefer && prefer->dev == s->dev && shv_chan_is_open(prefer))
		return prefer;
	if (s->rss) {
		uint32_t h = 2166136261u;
		/* a flow hash over the addresses after the MAC header */
		for (uint32_t i = 14; i < len && i < 14 + 40; i++)
			h = (h ^ f[i]) * 16777619u;
		uint32_t q = s->rss_ind[h % SHV_NDIS_RSS_INDIRECTION];
		if (q < SHV_MAX_CHANNELS && shv_chan_is_open(s->chans[q]))
			return s->chans[q];
	}
	return shv_chan_is_open(s->chans[0]) ? s->chans[0] : NULL;
}

/* Frames of one guest message, gathered per target for one transfer. */
struct rx_batch {
	struct net_state *s;
	struct shv_chan *c;
	struct xfer x;
};

static void batch_flush(struct rx_batch *b)
{
	if (b->s && b->x.n && xfer_send(b->s, b->c, &b->x,
					SHV_SEND_DROPPABLE) < 0)
		b->s->dev->nic.rx_dropped++;
	b->x.n = 0;
}

static void deliver(struct shv_dev *to, const struct net_frame *fr,
		    struct shv_chan *prefer, struct rx_batch *b)
{
	uint8_t msg[sizeof(struct shv_rndis_packet) + 16 + 65536];
	struct net_state *s = to->state;
	struct shv_nic *nic = &to->nic;
	if (!s || s->rndis != RNDIS_READY || !s->rbuf || !nic->link_up) {
		nic->rx_dropped++;
		return;
	}
	if (!filter_pass(s, fr->data)) {
		s->rx_filtered++;
		return;
	}
	struct shv_chan *c = rx_chan(s, fr->data, fr->len, prefer);
	struct net_frame info = *fr;
	info.rx_csum = net_rx_csum(s, fr->data, fr->len);
	uint32_t len = net_rndis_build(msg, sizeof(msg) < s->slot_size
						    ? sizeof(msg)
						    : s->slot_size,
				       fr->data, fr->len, &info);
	if (!c || !len) {
		nic->rx_dropped++;
		return;
	}
	if (b->s != s || b->c != c || b->x.n == NET_RX_BATCH) {
		batch_flush(b);
		b->s = s;
		b->c = c;
		b->x.channel_type = 0;
	}
	if (xfer_add(s, &b->x, msg, len) < 0) {
		s->rx_slots_full++;
		nic->rx_dropped++;
		return;
	}
	nic->rx_frames++;
}

static void transmit(struct net_state *s, struct shv_chan *c,
		     const struct net_frame *fr, struct rx_batch *b)
{
	struct shv_dev *d = s->dev;
	struct shv_host *h = d->host;
	d->nic.tx_frames++;
	if (!d->nic.link_up) {
		d->nic.tx_dropped++;
		return;
	}
	switch (d->nic.mode) {
	case SHV_NIC_REFLECT:
		deliver(d, fr, c, b);
		break;
	case SHV_NIC_BRIDGE:
		if (d->nic.peer >= 0 && (unsigned)d->nic.peer < h->ndevs)
			deliver(h->devs[d->nic.peer], fr, NULL, b);
		break;
	case SHV_NIC_DROP:
		d->nic.tx_dropped++;
		break;
	}
}

/* A segment of a large send goes out as a frame of its own. */
struct seg_out {
	struct net_state *s;
	struct shv_chan *c;
	struct rx_batch *b;
};

static void emit_segment(void *arg, struct net_frame *seg)
{
	struct seg_out *o = arg;
	transmit(o->s, o->c, seg, o->b);
}

/* ------------------------------------------------------------------- NVSP */
static uint32_t send_rndis(struct net_state *s, struct shv_chan *c,
			   const struct shv_pkt *pkt)
{
	const char *why = NULL;
	uint32_t ctype = shv_get32(pkt->data + 4);
	uint32_t idx = shv_get32(pkt->data + 8);
	uint32_t size = shv_get32(pkt->data + 12);
	uint32_t total = 0;
	if (!s->nvsp_ver || !s->rbuf) {
		shv_warn("%s: RNDIS packet before NVSP init and the receive "
			 "buffer", shv_chan_name(c));
		return SHV_NVSP_STAT_FAIL;
	}
	if (ctype > 1)
		why = "channel type is neither data nor control";
	else if (idx != SHV_NVSP_NO_SECTION) {
		if (!s->sbuf || idx >= s->section_count)
			why = "send-buffer section index out of range";
		else if (!size || size > s->section_size)
			why = "send-buffer section size zero or too large";
		else {
			shv_gpadl_read(s->sbuf, idx * s->section_size, s->tx,
				       size);
			total = size;
		}
	} else if (size) {
		why = "section size given without a section";
	}
	if (!why && pkt->type == SHV_PKT_GPA_DIRECT) {
		if (shv_pkt_sg(c->part, pkt, &s->sg, &why) == 0) {
			if (s->sg.total > NET_TX_MAX - total)
				why = "RNDIS data larger than the host takes";
			else {
				shv_sg_read(&s->sg, 0, s->tx + total,
					    s->sg.total);
				total += s->sg.total;
			}
		}
	}
	if (!why && !total)
		why = "no RNDIS message (no section and no GPA range)";
	if (why) {
		shv_warn("%s: SEND_RNDIS_PKT refused: %s", shv_chan_name(c),
			 why);
		s->dev->nic.tx_bad++;
		return SHV_NVSP_STAT_INVALID_RNDIS;
	}
	if (ctype == 1) {
		net_rndis_control(s, c, s->tx, total);
		return SHV_NVSP_STAT_SUCCESS;
	}
	/* data: one or more PACKET messages back to back */
	struct rx_batch b = { 0 };
	uint32_t off = 0, st = SHV_NVSP_STAT_SUCCESS;
	while (off < total) {
		uint32_t left = total - off;
		if (left < 8) {
			for (uint32_t i = off; i < total; i++)
				if (s->tx[i])
					why = "garbage after the last message";
			break;
		}
		uint32_t type = shv_get32(s->tx + off);
		uint32_t mlen = shv_get32(s->tx + off + 4);
		if (!type && !mlen) /* zero padding to the end */
			break;
		struct net_frame fr;
		if (type != SHV_RNDIS_PACKET)
			why = "data message is not an RNDIS PACKET";
		else if (mlen < 8 || mlen > left)
			why = "RNDIS message length beyond the data";
		else
			why = net_rndis_parse(s->tx + off, mlen, &fr);
		if (!why) {
			uint32_t max = s->dev->nic.mtu + 14u;
			if (fr.len >= 14 && shv_be16(fr.data + 12) == 0x8100)
				max += 4; /* 802.1Q tag in the frame */
			if (fr.lso)
				max = 14u + 4u + NET_LSO_MAX; /* checked there */
			if (fr.len < 14 || fr.len > max)
				why = "frame shorter than a MAC header or "
				      "above the MTU";
		}
		if (!why && !fr.lso)
			why = net_tx_csum(s, &fr);
		if (why)
			break;
		if (idx != SHV_NVSP_NO_SECTION)
			s->dev->nic.tx_sect++;
		else
			s->dev->nic.tx_gpa++;
		if (s->rndis != RNDIS_READY) {
			s->dev->nic.tx_dropped++;
		} else if (fr.lso) {
			struct seg_out o = { s, c, &b };
			why = net_tx_lso(s, &fr, emit_segment, &o);
			if (why)
				break;
		} else {
			transmit(s, c, &fr, &b);
		}
		off += mlen;
	}
	batch_flush(&b);
	if (why) {
		shv_warn("%s: RNDIS data refused: %s", shv_chan_name(c), why);
		s->dev->nic.tx_bad++;
		st = SHV_NVSP_STAT_INVALID_RNDIS;
	}
	return st;
}

static void recv_comp(struct net_state *s, struct shv_chan *c,
		      const struct shv_pkt *pkt)
{
	if (pkt->len < 8 ||
	    shv_get32(pkt->data) != SHV_NVSP_SEND_RNDIS_PKT_COMPLETE) {
		shv_warn("%s: completion from the guest that is not an RNDIS "
			 "ack; dropped", shv_chan_name(c));
		return;
	}
	uint64_t t = pkt->trans_id;
	if (!s->rbuf || t >= s->slot_count || s->slot_state[t] != 2) {
		shv_warn("%s: RNDIS ack for transaction %llu the host did not "
			 "send; dropped", shv_chan_name(c),
			 (unsigned long long)t);
		return;
	}
	slots_free_chain(s, (uint32_t)t);
	if (s->ctl_n)
		ctl_flush(s);
}

static void nvsp_init(struct net_state *s, struct shv_chan *c,
		      const struct shv_pkt *pkt)
{
	uint32_t lo = shv_get32(pkt->data + 4), hi = shv_get32(pkt->data + 8);
	struct shv_nvsp_init_complete r = {
		.type = SHV_NVSP_INIT_COMPLETE,
		.status = SHV_NVSP_STAT_FAIL,
	};
	if (s->rbuf || s->sbuf) {
		shv_warn("%s: NVSP INIT with buffers attached; refused",
			 shv_chan_name(c));
	} else {
		for (size_t i = 0; i < sizeof(nvsp_versions) / 4; i++)
			if (nvsp_versions[i] >= lo && nvsp_versions[i] <= hi) {
				s->nvsp_ver = nvsp_versions[i];
				r.negotiated_ver = s->nvsp_ver;
				sim_log(SIM_LOG_DEBUG, "%s: NVSP %#x",
					shv_chan_name(c), s->nvsp_ver);
				r.status = SHV_NVSP_STAT_SUCCESS;
				break;
			}
	}
	nvsp_reply(c, pkt, &r, sizeof(r));
}

static void attach_recv(struct net_state *s, struct shv_chan *c,
			const struct shv_pkt *pkt)
{
	uint32_t handle = shv_get32(pkt->data + 4);
	uint16_t id = shv_get16(pkt->data + 8);
	struct shv_gpadl *g = shv_gpadl_find(c->part, handle);
	struct shv_nvsp_recv_buf_complete r = {
		.type = SHV_NVSP_SEND_RECV_BUF_COMPLETE,
		.status = SHV_NVSP_STAT_FAIL,
	};
	uint32_t max = s->nvsp_ver == SHV_NVSP_V1 ? RECV_BUF_MAX_V1
						  : RECV_BUF_MAX;
	uint32_t slot = (44u + 64u + s->dev->nic.mtu + 18u + 63u) & ~63u;
	if (slot < SLOT_MIN)
		slot = SLOT_MIN;
	const char *why = NULL;
	if (!s->nvsp_ver)
		why = "before NVSP INIT";
	else if (s->rbuf)
		why = "a receive buffer is already attached";
	else if (!g || g->state != SHV_GPADL_READY)
		why = "GPADL unknown or incomplete";
	else if (g->relid != c->relid)
		why = "GPADL created for another channel";
	else if (g->byte_count > max)
		why = "buffer larger than the host allows";
	else if (g->byte_count < slot)
		why = "buffer smaller than one slot";
	uint32_t first = (s->dev->nic.rx_reserve + slot - 1) / slot;
	if (!why && g->byte_count / slot <= first)
		why = "buffer not larger than the reserved part";
	if (!why) {
		uint32_t n = g->byte_count / slot;
		s->slot_next = malloc(sizeof(uint32_t) * n);
		s->slot_state = calloc(n, 1);
		if (!s->slot_next || !s->slot_state) {
			free(s->slot_next);
			free(s->slot_state);
			s->slot_next = NULL;
			s->slot_state = NULL;
			why = "host out of memory";
		} else {
			shv_gpadl_get(g);
			s->rbuf = g;
			s->rbuf_id = id;
			s->slot_size = slot;
			s->slot_count = n;
			s->slot_first = first;
			s->slots_free = n - first;
			s->slot_hint = 0;
			for (uint32_t k = 0; k < first; k++)
				s->slot_state[k] = 3; /* reserved */
			r.status = SHV_NVSP_STAT_SUCCESS;
			r.num_sections = 1;
			r.section.offset = 0;
			r.section.sub_alloc_size = slot;
			r.section.num_sub_allocs = n;
			r.section.end_offset = slot * n;
			sim_log(SIM_LOG_DEBUG, "%s: receive buffer %u slots of "
				"%u bytes", shv_chan_name(c), n, slot);
		}
	}
	if (why)
		shv_warn("%s: SEND_RECV_BUF (GPADL %#x) refused: %s",
			 shv_chan_name(c), handle, why);
	nvsp_reply(c, pkt, &r, sizeof(r));
}

static void attach_send(struct net_state *s, struct shv_chan *c,
			const struct shv_pkt *pkt)
{
	uint32_t handle = shv_get32(pkt->data + 4);
	uint16_t id = shv_get16(pkt->data + 8);
	struct shv_gpadl *g = shv_gpadl_find(c->part, handle);
	struct shv_nvsp_send_buf_complete r = {
		.type = SHV_NVSP_SEND_SEND_BUF_COMPLETE,
		.status = SHV_NVSP_STAT_FAIL,
	};
	uint32_t sect = s->dev->nic.section_size;
	const char *why = NULL;
	if (!s->nvsp_ver)
		why = "before NVSP INIT";
	else if (s->sbuf)
		why = "a send buffer is already attached";
	else if (!g || g->state != SHV_GPADL_READY)
		why = "GPADL unknown or incomplete";
	else if (g->relid != c->relid)
		why = "GPADL created for another channel";
	else if (g->byte_count > SEND_BUF_MAX)
		why = "buffer larger than the host allows";
	else if (g->byte_count < sect)
		why = "buffer smaller than one section";
	if (!why) {
		shv_gpadl_get(g);
		s->sbuf = g;
		s->sbuf_id = id;
		s->section_size = sect;
		s->section_count = g->byte_count / sect;
		r.status = SHV_NVSP_STAT_SUCCESS;
		r.section_size = sect;
	} else {
		shv_warn("%s: SEND_SEND_BUF (GPADL %#x) refused: %s",
			 shv_chan_name(c), handle, why);
	}
	nvsp_reply(c, pkt, &r, sizeof(r));
}

static uint32_t min_len(uint32_t type)
{
	switch (type) {
	case SHV_NVSP_INIT:
	case SHV_NVSP_SEND_NDIS_VER:
	case SHV_NVSP_SUBCHANNEL:
		return 12;
	case SHV_NVSP_SEND_RECV_BUF:
	case SHV_NVSP_SEND_SEND_BUF:
		return 10;
	case SHV_NVSP_REVOKE_RECV_BUF:
	case SHV_NVSP_REVOKE_SEND_BUF:
		return 6;
	case SHV_NVSP_SEND_RNDIS_PKT:
		return 16;
	case SHV_NVSP_SEND_NDIS_CONFIG:
		return 20;
	case SHV_NVSP_SWITCH_DATA_PATH:
		return 8;
	default:
		return 0;
	}
}

static void net_packet(struct shv_chan *c, const struct shv_pkt *pkt)
{
	struct net_state *s = c->dev->state;
	const char *name = shv_chan_name(c);
	if (pkt->type == SHV_PKT_COMP) {
		recv_comp(s, c, pkt);
		return;
	}
	if (pkt->len < 4) {
		shv_warn("%s: NVSP message of %u bytes; dropped", name,
			 pkt->len);
		return;
	}
	uint32_t type = shv_get32(pkt->data);
	uint32_t need = min_len(type);
	if (!need) {
		shv_warn("%s: NVSP message type %u not handled; dropped", name,
			 type);
		return;
	}
	if (pkt->len < need) {
		shv_warn("%s: NVSP message %u of %u bytes, needs %u; dropped",
			 name, type, pkt->len, need);
		return;
	}
	if (pkt->type == SHV_PKT_GPA_DIRECT && type != SHV_NVSP_SEND_RNDIS_PKT) {
		shv_warn("%s: NVSP message %u in a GPA-direct packet; dropped",
			 name, type);
		return;
	}
	if (c->sub_index && type != SHV_NVSP_SEND_RNDIS_PKT) {
		shv_warn("%s: NVSP message %u on a sub-channel; dropped", name,
			 type);
		return;
	}
	switch (type) {
	case SHV_NVSP_INIT:
		nvsp_init(s, c, pkt);
		return;
	case SHV_NVSP_SEND_NDIS_CONFIG:
		if (s->nvsp_ver < SHV_NVSP_V2) {
			shv_warn("%s: SEND_NDIS_CONFIG needs NVSP 2; ignored",
				 name);
			return;
		}
		s->ndis_mtu = shv_get32(pkt->data + 4);
		s->ndis_caps = shv_get64(pkt->data + 12);
		if (s->ndis_mtu > c->dev->nic.mtu + 14)
			shv_warn("%s: guest configures MTU %u, the NIC has %u",
				 name, s->ndis_mtu - 14, c->dev->nic.mtu);
		return; /* no reply */
	case SHV_NVSP_SEND_NDIS_VER: {
		uint32_t maj = shv_get32(pkt->data + 4);
		uint32_t min = shv_get32(pkt->data + 8);
		if (!s->nvsp_ver || maj != 6 || min > 30)
			shv_warn("%s: NDIS version %u.%u not accepted", name,
				 maj, min);
		else
			s->ndis_ver = maj << 16 | min;
		return; /* no reply */
	}
	case SHV_NVSP_SEND_RECV_BUF:
		attach_recv(s, c, pkt);
		return;
	case SHV_NVSP_SEND_SEND_BUF:
		attach_send(s, c, pkt);
		return;
	case SHV_NVSP_REVOKE_RECV_BUF:
		if (!s->rbuf || shv_get16(pkt->data + 4) != s->rbuf_id)
			shv_warn("%s: REVOKE_RECV_BUF of a buffer not attached",
				 name);
		else
			release_rbuf(s, false);
		return;
	case SHV_NVSP_REVOKE_SEND_BUF:
		if (!s->sbuf || shv_get16(pkt->data + 4) != s->sbuf_id)
			shv_warn("%s: REVOKE_SEND_BUF of a buffer not attached",
				 name);
		else
			release_sbuf(s, false);
		return;
	case SHV_NVSP_SEND_RNDIS_PKT: {
		uint32_t st = send_rndis(s, c, pkt);
		if (pkt->flags & SHV_PKT_FLAG_RC) {
			struct shv_nvsp_status r = {
				SHV_NVSP_SEND_RNDIS_PKT_COMPLETE, st };
			if (shv_dev_take_corrupt(c->dev,
						 SHV_CK(SHV_CORRUPT_STATUS)) ==
			    SHV_CORRUPT_STATUS)
				r.status = SHV_NVSP_STAT_FAIL;
			nvsp_reply(c, pkt, &r, sizeof(r));
		}
		return;
	}
	case SHV_NVSP_SWITCH_DATA_PATH:
		if (pkt->flags & SHV_PKT_FLAG_RC) {
			struct shv_nvsp_status r = { SHV_NVSP_SWITCH_DATA_PATH,
						     SHV_NVSP_STAT_SUCCESS };
			nvsp_reply(c, pkt, &r, sizeof(r));
		}
		return;
	case SHV_NVSP_SUBCHANNEL: {
		uint32_t op = shv_get32(pkt->data + 4);
		uint32_t want = shv_get32(pkt->data + 8);
		struct shv_nvsp_subchannel r = { SHV_NVSP_SUBCHANNEL,
						 SHV_NVSP_STAT_FAIL, 0 };
		unsigned room = shv_vmbus_subchannel_room(c);
		if (s->nvsp_ver < SHV_NVSP_V5 ||
		    op != SHV_NVSP_SUBCHANNEL_ALLOCATE || !want || !room) {
			shv_warn("%s: SUBCHANNEL request (op %u, %u channels) "
				 "refused", name, op, want);
			nvsp_reply(c, pkt, &r, sizeof(r));
			return;
		}
		r.op_or_status = SHV_NVSP_STAT_SUCCESS;
		r.count = want < room ? want : room;
		nvsp_reply(c, pkt, &r, sizeof(r));
		shv_vmbus_offer_subchannels(c, r.count);
		return;
	}
	}
}

/* ----------------------------------------------------------- open/close */
static int net_open(struct shv_chan *c)
{
	struct shv_dev *d = c->dev;
	struct net_state *s = d->state;
	if (c->sub_index >= SHV_MAX_CHANNELS)
		return -EINVAL;
	if (c->sub_index) {
		if (!s)
			return -EINVAL;
	} else {
		if (s)
			return -EBUSY;
		s = calloc(1, sizeof(*s));
		if (!s)
			return -ENOMEM;
		s->tx = malloc(NET_TX_MAX);
		s->seg = malloc(NET_SEG_MAX);
		if (!s->tx || !s->seg) {
			free(s->tx);
			free(s->seg);
			free(s);
			return -ENOMEM;
		}
		s->dev = d;
		s->part = c->part;
		d->state = s;
	}
	s->refs++;
	s->chans[c->sub_index] = c;
	return 0;
}

static void net_close(struct shv_chan *c)
{
	struct net_state *s = c->dev->state;
	if (!s)
		return;
	if (s->chans[c->sub_index] == c)
		s->chans[c->sub_index] = NULL;
	for (unsigned i = 0; i < s->ctl_n; i++)
		if (s->ctl[i].chan == c)
			s->ctl[i].chan = NULL;
	if (!c->sub_index) {
		release_rbuf(s, true);
		release_sbuf(s, true);
		release_held(s);
		s->rndis = RNDIS_UNINIT;
	}
	if (--s->refs == 0) {
		free(s->tx);
		free(s->seg);
		free(s);
		c->dev->state = NULL;
	}
}

static void net_changed(struct shv_dev *d)
{
	if (d->state)
		net_rndis_link(d->state);
}

static void net_status(struct shv_dev *d, char *buf, size_t len)
{
	const struct shv_nic *n = &d->nic;
	const struct net_state *s = d->state;
	char peer[24] = "";
	if (n->mode == SHV_NIC_BRIDGE && n->peer >= 0 &&
	    (unsigned)n->peer < d->host->ndevs)
		snprintf(peer, sizeof(peer), ":%s",
			 d->host->devs[n->peer]->name);
	snprintf(buf, len,
		 "mac=%02x:%02x:%02x:%02x:%02x:%02x mtu=%u mode=%s%s link=%s "
		 "nvsp=%#x ndis=%#x rndis=%s filter=%#x rss=%d "
		 "slots=%u/%u tx=%llu rx=%llu tx_dropped=%llu rx_dropped=%llu "
		 "tx_bad=%llu tx_sect=%llu tx_gpa=%llu",
		 n->mac[0], n->mac[1], n->mac[2], n->mac[3], n->mac[4],
		 n->mac[5], n->mtu,
		 n->mode == SHV_NIC_REFLECT  ? "reflect"
		 : n->mode == SHV_NIC_BRIDGE ? "bridge"
					     : "drop",
		 peer, n->link_up ? "up" : "down", s ? s->nvsp_ver : 0,
		 s ? s->ndis_ver : 0,
		 !s ? "closed"
		 : s->rndis == RNDIS_READY ? "ready"
		 : s->rndis == RNDIS_HALTED ? "halted"
					    : "uninitialized",
		 s ? s->filter : 0, s ? s->rss : 0, s ? s->slots_free : 0,
		 s ? s->slot_count : 0, (unsigned long long)n->tx_frames,
		 (unsigned long long)n->rx_frames,
		 (unsigned long long)n->tx_dropped,
		 (unsigned long long)n->rx_dropped,
		 (unsigned long long)n->tx_bad,
		 (unsigned long long)n->tx_sect,
		 (unsigned long long)n->tx_gpa);
}

const struct shv_dev_ops shv_netvsp_ops = {
	.open = net_open,
	.close = net_close,
	.packet = net_packet,
	.changed = net_changed,
	.status = net_status,
};
