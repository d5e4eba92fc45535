/* SPDX-License-Identifier: MIT */
/*
 * backends/vmbus/net.c - NetVSC: pvio frames over NVSP + RNDIS.
 *
 * Bring-up (open): open the primary channel, NVSP INIT 6.1 .. 1,
 * SEND_NDIS_CONFIG, SEND_NDIS_VER, a receive buffer and a send buffer
 * (each one GPADL, SEND_RECV_BUF / SEND_SEND_BUF), RNDIS INITIALIZE and
 * the queries (maximum frame size, permanent MAC, offload capabilities,
 * media connect status, link speed, RSS capabilities).  configure:
 * SUBCHANNEL for more queues and RSS parameters, offload parameters,
 * packet filter.  close: packet filter 0, HALT, revoke the buffers, close
 * the channels, tear the GPADLs down.
 *
 * Transmit: frames of at most NET_COPYBREAK bytes are copied into a
 * section of the send buffer (counted as copies) and sent inband; larger
 * ones go as GPA-direct packets whose first range is the RNDIS header in a
 * per-slot DMA area and whose other ranges are the frame's pages.
 * Receive: the host puts RNDIS messages in the receive buffer and sends a
 * transfer-page packet naming them; pvio copies each frame into a buffer
 * the front end posted (counted), then returns the sections with a
 * completion.  RNDIS control completions and status indications arrive the
 * same way; the control path waits for them with the same poll routine.
 */
#include "dev.h"
#include "netvsc.h"

#define NET_QSIZE 256u            /* transmissions in flight per queue */
#define NET_RX_PKT_MAX 16384u     /* largest host packet we accept */
#define NET_RECV_BUF (4u << 20)
#define NET_SEND_BUF (1u << 20)
#define NET_COPYBREAK 512u
#define NET_MAX_RANGES 64u
#define NET_MAX_TX_SEG 16u
#define NET_HDR_SLOT 128u
#define NET_CTRL_TID (1ull << 32)
#define NET_KA_TID (NET_CTRL_TID - 1) /* keepalive replies */
#define NET_TSO_MAX 65535u

#define NET_RXE 4096u             /* pending receive ranges per queue */
#define NET_ACKS 64u

struct net_rxe {
	uint32_t off, len;
	uint64_t tid;
};

struct net_tx {
	uint32_t tag;
	uint32_t section;         /* NVSP_NO_SECTION for GPA-direct */
};

struct netq {
	struct vmbus_chan *ch;
	struct vmbus_tid tid;
	struct net_tx *tx;
	uint32_t *done;           /* tags of finished transmissions */
	unsigned done_h, done_t;
	uint32_t sec_first, sec_count;
	uint32_t *sec_free;
	uint32_t nsec_free;
	uint8_t *hdrs;            /* DMA: NET_HDR_SLOT bytes per tx slot */
	uint64_t hdrs_addr;
	struct pvio_net_rxb *posted;
	unsigned post_h, post_t, post_cap;
	/* receive ranges not consumed yet, in order; an entry with len
	 * UINT32_MAX ends a packet (its completion goes out there) */
	struct net_rxe *rxe;
	unsigned rxe_h, rxe_t;
	uint64_t acks[NET_ACKS];  /* completions waiting for ring room */
	unsigned nacks;
	bool acks_unkicked;
	uint32_t logged;
	uint8_t pkt[NET_RX_PKT_MAX];  /* private copy of one host packet */
};

struct vmbus_net {
	struct vmbus_dev vd;      /* first: dev->priv is also a vmbus_dev */
	uint32_t nvsp;
	uint32_t ndis_major, ndis_minor;
	struct vmbus_buf recv, send;
	uint32_t recv_sec_size, recv_sec_count;
	uint32_t send_sec_size, send_sec_count;
	bool recv_linked, send_linked; /* host knows the buffer */
	bool rndis_up;
	struct ndis_caps caps;
	int rss_queues;
	uint32_t link_speed;      /* 100 bit/s units */
	int link;                 /* atomic: 1 up, 0 down (latest from host) */
	int link_reported;
	uint8_t *ctrl;            /* DMA page for RNDIS requests */
	uint64_t ctrl_addr;
	uint64_t ctrl_seq;
	uint32_t req_id;
	uint32_t keepalives;      /* KEEPALIVE_CMPLTs sent */
	/* the RNDIS completion the control path waits for */
	uint32_t want_req, want_type;
	bool got;
	struct rndis_view reply;
	uint8_t reply_info[256];
	/* the NVSP completion the control path waits for */
	uint64_t want_tid;
	bool got_comp;
	uint8_t comp[64];
	uint32_t comp_len;
	unsigned nq;
	struct netq *q;
	bool configured, quiesced;
	uint64_t features;
};

/* ---------------------------------------------------------------- helpers */

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return PVIO_LE32(v);
}

static void wr32(uint8_t *p, uint32_t v)
{
	v = PVIO_LE32(v);
	memcpy(p, &v, 4);
}

static int broken(struct vmbus_net *n, const char *why)
{
	return pvio_dev_set_broken(n->vd.dev, "%s: %s", n->vd.name, why);
}

/* Return a transfer-page packet's receive-buffer sections to the host. */
static int send_ack(struct netq *q, uint64_t tid, struct pvio_queue_stats *st)
{
	uint8_t msg[8];
	wr32(msg, NVSP_MSG_SEND_RNDIS_PKT_COMPLETE);
	wr32(msg + 4, NVSP_STAT_SUCCESS);
	const char *why = "";
	int r = vmbus_send_inband(q->ch, VMBUS_PKT_COMP, 0, tid, msg,
				  sizeof(msg), &why);
	if (r == 0)
		q->acks_unkicked = true;
	(void)st;
	return r;
}

/* Send completions that waited for ring room: 0, -EAGAIN, -EIO. */
static int flush_acks(struct netq *q, struct pvio_queue_stats *st)
{
	while (q->nacks) {
		int r = send_ack(q, q->acks[0], st);
		if (r < 0)
			return r;
		memmove(q->acks, q->acks + 1, (q->nacks - 1) * sizeof(q->acks[0]));
		q->nacks--;
	}
	return 0;
}

/* Reply to a host KEEPALIVE (below). */
static void keepalive_reply(struct vmbus_net *n, struct netq *q,
			    uint32_t req_id);

/* Handle one RNDIS control/status message (a private copy). */
static void rndis_control(struct vmbus_net *n, struct netq *q,
			  const uint8_t *m, const struct rndis_view *v,
			  bool ctrl_path)
{
	switch (v->type) {
	case RNDIS_MSG_INDICATE:
		if (v->status == RNDIS_STATUS_MEDIA_CONNECT)
			__atomic_store_n(&n->link, 1, __ATOMIC_RELEASE);
		else if (v->status == RNDIS_STATUS_MEDIA_DISCONNECT)
			__atomic_store_n(&n->link, 0, __ATOMIC_RELEASE);
		else if (v->status == RNDIS_STATUS_LINK_SPEED_CHANGE &&
			 v->info_len >= 4)
			n->link_speed = rd32(m + v->info_off);
		else if (v->status == RNDIS_STATUS_NETWORK_CHANGE)
			/* the network may have changed: report a bounce */
			__atomic_store_n(&n->link_reported, -1, __ATOMIC_RELEASE);
		break;
	case RNDIS_MSG_KEEPALIVE:
		keepalive_reply(n, q, v->req_id);
		break;
	case RNDIS_MSG_INIT_C:
	case RNDIS_MSG_QUERY_C:
	case RNDIS_MSG_SET_C:
	case RNDIS_MSG_KEEPALIVE_C:
	case RNDIS_MSG_RESET_C:
		if (ctrl_path && !n->got && v->type == n->want_type &&
		    v->req_id == n->want_req) {
			n->reply = *v;
			uint32_t il = v->info_len < sizeof(n->reply_info)
					      ? v->info_len
					      : sizeof(n->reply_info);
			memcpy(n->reply_info, m + v->info_off, il);
			n->reply.info_len = il;
			n->reply.info_off = 0;
			n->got = true;
		} else if (q->logged < 8) {
			q->logged++;
			pvio_log(n->vd.dev->ctx, PVIO_LOG_INFO,
				 "%s: ignoring RNDIS completion 0x%x for request "
				 "%u", n->vd.name, v->type, v->req_id);
		}
		break;
	default:
		break;
	}
}

/*
 * Consume pending receive ranges in order.  Data frames go to posted
 * buffers (rx reap) or are dropped (drop_rx: control path, quiesce).
 * When a packet's last range is done its completion goes out.  Returns 0
 * (stopped: no buffer, no room for output or acks, or nothing left) or
 * -EIO.
 */
static int consume(struct vmbus_net *n, unsigned qi, struct netq *q,
		   struct pvio_net_rxc *out, unsigned max, unsigned *nout,
		   bool drop_rx, bool ctrl_path)
{
	pvio_dev *dev = n->vd.dev;
	struct pvio_queue_stats *st = dev->stats ? &dev->stats[qi] : NULL;
	const uint8_t *rb = n->recv.va;
	while (q->rxe_h != q->rxe_t) {
		struct net_rxe *e = &q->rxe[q->rxe_h % NET_RXE];
		if (e->len == UINT32_MAX) {
			/* end of a packet: return its sections */
			if (q->nacks == NET_ACKS)
				return 0;
			if (q->nacks || send_ack(q, e->tid, st) == -EAGAIN)
				q->acks[q->nacks++] = e->tid;
			q->rxe_h++;
			continue;
		}
		uint32_t cnt = e->len, off = e->off;
		if ((uint64_t)off + cnt > n->recv.len || cnt < 8) {
			if (st)
				st->rx_errors++;
			q->rxe_h++;
			continue;
		}
		/* the RNDIS header (and PPIs) are copied out once */
		uint8_t h[RNDIS_PKT_HDR + 256];
		uint32_t hl = cnt < sizeof(h) ? cnt : sizeof(h);
		memcpy(h, rb + off, hl);
		struct rndis_view v;
		if (rd32(h) != RNDIS_MSG_PACKET) {
			/* control and status messages are small: parse the
			 * private copy only */
			if (vmbus_rndis_parse(h, hl, &v) < 0) {
				if (st)
					st->rx_errors++;
			} else {
				rndis_control(n, q, h, &v, ctrl_path);
			}
			q->rxe_h++;
			continue;
		}
		if (vmbus_rndis_parse(h, cnt, &v) < 0 ||
		    (v.ppi_len && (uint64_t)v.ppi_off + v.ppi_len > hl)) {
			if (st)
				st->rx_errors++;
			q->rxe_h++;
			continue;
		}
		if (drop_rx) {
			if (st)
				st->dropped++;
			q->rxe_h++;
			continue;
		}
		if (*nout >= max || q->post_h == q->post_t)
			return 0; /* wait for room / buffers */
		struct pvio_net_rxb b = q->posted[q->post_h % q->post_cap];
		q->post_h++;
		q->rxe_h++;
		struct pvio_net_rxc *c = &out[(*nout)++];
		memset(c, 0, sizeof(*c));
		c->tag = b.tag;
		if (v.data_len == 0 || v.data_len > b.seg.len) {
			c->status = -EMSGSIZE;
			if (st)
				st->rx_errors++;
			continue;
		}
		memcpy(b.seg.va, rb + off + v.data_off, v.data_len);
		c->len = v.data_len;
		if (st) {
			st->copies++;
			st->copy_bytes += v.data_len;
		}
		uint32_t cs;
		if (v.ppi_len &&
		    vmbus_rndis_ppi_find(h + v.ppi_off, v.ppi_len,
					 PPI_TCPIP_CHECKSUM, &cs) == 1 &&
		    (n->features & PVIO_F_NET_CSUM_RX) &&
		    (cs & (PPI_RXCSUM_TCP_OK | PPI_RXCSUM_UDP_OK)) &&
		    !(cs & (PPI_RXCSUM_TCP_FAILED | PPI_RXCSUM_UDP_FAILED |
			    PPI_RXCSUM_IP_FAILED)))
			c->flags = PVIO_PKT_CSUM_VALID;
	}
	return 0;
}

/* Queue a transfer-page packet's ranges (a private copy) for consume. */
static int take_xfer(struct vmbus_net *n, struct netq *q, uint32_t len)
{
	struct vmbus_pkt_desc d;
	struct vmbus_pkt_xfer_hdr x;
	memcpy(&d, q->pkt, sizeof(d));
	uint32_t hlen = PVIO_LE16(d.offset8) * 8u;
	if (hlen < sizeof(d) + sizeof(x) || len - hlen < 4)
		return broken(n, "transfer-page packet too short");
	memcpy(&x, q->pkt + sizeof(d), sizeof(x));
	uint32_t cnt = PVIO_LE32(x.range_count);
	if (PVIO_LE16(x.xfer_pageset_id) != NVSP_RECV_BUF_ID ||
	    (uint64_t)cnt * 8 + sizeof(d) + sizeof(x) > hlen ||
	    rd32(q->pkt + hlen) != NVSP_MSG_SEND_RNDIS_PKT)
		return broken(n, "malformed transfer-page packet (page set id, "
				 "range count or message)");
	/* net_poll made room for the ranges the descriptor it peeked at
	 * could name; the copy read here is what counts (the host may have
	 * rewritten the ring in between) */
	if (cnt + 1 > NET_RXE - (q->rxe_t - q->rxe_h))
		return broken(n, "the host changed a transfer-page packet while "
				 "it was read");
	uint64_t tid = PVIO_LE64(d.trans_id);
	for (uint32_t i = 0; i < cnt; i++) {
		struct vmbus_xfer_range rg;
		memcpy(&rg, q->pkt + sizeof(d) + sizeof(x) + 8 * i, sizeof(rg));
		struct net_rxe *e = &q->rxe[q->rxe_t++ % NET_RXE];
		e->off = PVIO_LE32(rg.byte_offset);
		e->len = PVIO_LE32(rg.byte_count);
		if (e->len == UINT32_MAX)
			e->len = 0; /* never the end marker */
		e->tid = tid;
	}
	struct net_rxe *end = &q->rxe[q->rxe_t++ % NET_RXE];
	end->len = UINT32_MAX;
	end->off = 0;
	end->tid = tid;
	return 0;
}

/*
 * Process queue qi: completions that waited for ring room, pending
 * receive ranges, then the receive ring (transmit completions, NVSP
 * control completions, transfer-page packets).  Reading stops only when
 * the ring is empty or the pending-range queue is full, so transmit
 * completions are not held up by frames waiting for buffers.
 */
static int net_poll(struct vmbus_net *n, unsigned qi,
		    struct pvio_net_rxc *out, unsigned max, unsigned *nout,
		    bool drop_rx, bool ctrl_path)
{
	pvio_dev *dev = n->vd.dev;
	struct netq *q = &n->q[qi];
	struct pvio_queue_stats *st = dev->stats ? &dev->stats[qi] : NULL;
	int err = 0;
	unsigned dummy = 0;
	if (!nout)
		nout = &dummy;
	if (flush_acks(q, st) == -EIO)
		return broken(n, "receive completion could not be sent");
	err = consume(n, qi, q, out, max, nout, drop_rx, ctrl_path);
	for (unsigned budget = 0; !err && budget < 4096; budget++) {
		const char *why = "";
		struct vmbus_pkt_desc pd;
		int pk = vmbus_ring_peek(&q->ch->rx, &pd, &why);
		if (pk == 0)
			break;
		if (pk < 0) {
			err = broken(n, why);
			break;
		}
		/* room for every range this packet could name, plus its end */
		uint32_t maxr = PVIO_LE16(pd.offset8) * 8u / 8u + 1;
		if (PVIO_LE16(pd.type) == VMBUS_PKT_XFER_PAGES &&
		    NET_RXE - (q->rxe_t - q->rxe_h) < maxr)
			break;
		int len = vmbus_ring_read(&q->ch->rx, q->pkt, sizeof(q->pkt),
					  &why);
		if (len < 0) {
			err = broken(n, why);
			break;
		}
		struct vmbus_pkt_desc d;
		memcpy(&d, q->pkt, sizeof(d));
		uint16_t type = PVIO_LE16(d.type);
		uint32_t hlen = PVIO_LE16(d.offset8) * 8u;
		uint32_t plen = (uint32_t)len - hlen;
		uint64_t tid = PVIO_LE64(d.trans_id);
		if (type == VMBUS_PKT_COMP) {
			if (tid == n->want_tid && n->want_tid && !n->got_comp) {
				n->comp_len = plen < sizeof(n->comp)
						      ? plen
						      : sizeof(n->comp);
				memset(n->comp, 0, sizeof(n->comp));
				memcpy(n->comp, q->pkt + hlen, n->comp_len);
				n->got_comp = true;
				continue;
			}
			if ((tid > NET_CTRL_TID &&
			     tid <= NET_CTRL_TID + n->ctrl_seq) ||
			    tid == NET_KA_TID)
				continue; /* a control send the host finished */
			if (tid == 0 && ctrl_path) {
				/* some hosts acknowledge RNDIS control sends
				 * with id 0 (shared/specs/vmbus-uio-dpdk.md);
				 * nothing of ours has id 0, nothing is freed */
				continue;
			}
			int64_t slot = vmbus_tid_lookup(&q->tid, tid);
			if (slot < 0) {
				char m[96];
				pvio_snprintf(m, sizeof(m),
					      "completion for transaction id "
					      "%llu, which is not outstanding",
					      (unsigned long long)tid);
				err = broken(n, m);
				break;
			}
			struct net_tx *t = &q->tx[slot];
			if (t->section != NVSP_NO_SECTION)
				q->sec_free[q->nsec_free++] = t->section;
			q->done[q->done_t++ % NET_QSIZE] = t->tag;
			vmbus_tid_put(&q->tid, (uint32_t)slot);
			if (plen >= 8 && st &&
			    rd32(q->pkt + hlen + 4) != NVSP_STAT_SUCCESS)
				st->errors++;
			continue;
		}
		if (type == VMBUS_PKT_XFER_PAGES) {
			err = take_xfer(n, q, (uint32_t)len);
			if (!err)
				err = consume(n, qi, q, out, max, nout, drop_rx,
					      ctrl_path);
			continue;
		}
		if (type == VMBUS_PKT_INBAND)
			continue; /* host NVSP notices pvio does not use
				     (indirection table, VF association) */
		char m[64];
		pvio_snprintf(m, sizeof(m), "unexpected packet type %u", type);
		err = broken(n, m);
	}
	vmbus_chan_read_done(q->ch, st);
	if (q->acks_unkicked) {
		q->acks_unkicked = false;
		vmbus_chan_kick(q->ch, st);
	}
	return err;
}

/* ---------------------------------------------------------------- control */

/* Wait on the primary channel until cond() holds. */
static int ctrl_wait(struct vmbus_net *n, bool *flag, const char *what)
{
	pvio_ctx *ctx = n->vd.h->ctx;
	uint64_t deadline = pvio_deadline(ctx);
	for (;;) {
		int r = net_poll(n, 0, NULL, 0, NULL, true, true);
		if (r < 0)
			return pvio_set_error(ctx, EIO, "%s: during %s: %s",
					      n->vd.name, what, n->vd.dev->reason);
		if (*flag)
			return 0;
		r = vmbus_wait_rx(n->vd.h, n->q[0].ch, deadline);
		if (r == 0)
			return pvio_set_error(ctx, ETIMEDOUT,
					      "%s: the host did not answer %s "
					      "within %u ms",
					      n->vd.name, what,
					      pvio_timeout_ms(ctx));
		if (r < 0)
			return pvio_set_error(ctx, -r, "%s: %s: %s", n->vd.name,
					      what,
					      r == -ENODEV ? "the host removed "
							     "the channel"
							   : pvio_strerror(r));
	}
}

/* An NVSP message (padded to 40 bytes).  reply: wait for the completion
 * and copy it (64 bytes). */
static int nvsp_send(struct vmbus_net *n, const uint8_t *msg, uint32_t len,
		     bool reply, const char *what)
{
	uint8_t m[NVSP_MSG_SIZE];
	memset(m, 0, sizeof(m));
	memcpy(m, msg, len);
	uint64_t id = NET_CTRL_TID + ++n->ctrl_seq;
	const char *why = "";
	n->want_tid = reply ? id : 0;
	n->got_comp = false;
	int r = vmbus_send_inband(n->q[0].ch, VMBUS_PKT_INBAND,
				  reply ? VMBUS_PKT_FLAG_COMPLETION : 0, id, m,
				  sizeof(m), &why);
	if (r < 0)
		return pvio_set_error(n->vd.h->ctx, EIO, "%s: cannot send %s: %s",
				      n->vd.name, what,
				      r == -EAGAIN ? "ring full" : why);
	vmbus_chan_kick(n->q[0].ch, NULL);
	if (!reply)
		return 0;
	r = ctrl_wait(n, &n->got_comp, what);
	n->want_tid = 0;
	return r;
}

/* An RNDIS request (built in n->ctrl) and its completion. */
static int rndis_xchg_at(struct vmbus_net *n, uint32_t at, uint32_t len,
			 uint32_t want_type, const char *what)
{
	uint8_t nv[16];
	wr32(nv, NVSP_MSG_SEND_RNDIS_PKT);
	wr32(nv + 4, 1); /* control channel */
	wr32(nv + 8, NVSP_NO_SECTION);
	wr32(nv + 12, 0);
	uint8_t payload[NVSP_MSG_SIZE];
	memset(payload, 0, sizeof(payload));
	memcpy(payload, nv, sizeof(nv));
	struct vmbus_pkt_desc d;
	struct vmbus_pkt_gpa_hdr g = { 0, PVIO_LE32(1) };
	struct {
		uint32_t byte_count, byte_offset;
		uint64_t pfn;
	} VMBUS_PACKED rg = { PVIO_LE32(len), 0,
			      PVIO_LE64(vmbus_pfn(n->vd.h, n->ctrl_addr)) };
	rg.byte_offset = PVIO_LE32(at);
	uint64_t id = NET_CTRL_TID + ++n->ctrl_seq;
	vmbus_pkt_desc(&d, VMBUS_PKT_GPA_DIRECT, sizeof(d) + sizeof(g) + sizeof(rg),
		       sizeof(payload), VMBUS_PKT_FLAG_COMPLETION, id);
	struct vmbus_iov iov[4] = { { &d, sizeof(d) }, { &g, sizeof(g) },
				    { &rg, sizeof(rg) },
				    { payload, sizeof(payload) } };
	if (want_type) {
		n->want_type = want_type;
		n->want_req = rd32(n->ctrl + at + 8);
		n->got = false;
	}
	const char *why = "";
	int r = vmbus_ring_write(&n->q[0].ch->tx, iov, 4, &why);
	if (r < 0)
		return pvio_set_error(n->vd.h->ctx, EIO, "%s: cannot send %s: %s",
				      n->vd.name, what,
				      r == -EAGAIN ? "ring full" : why);
	vmbus_chan_kick(n->q[0].ch, NULL);
	if (!want_type)
		return 0;
	r = ctrl_wait(n, &n->got, what);
	n->want_type = 0;
	return r;
}

static int rndis_xchg(struct vmbus_net *n, uint32_t len, uint32_t want_type,
		      const char *what)
{
	return rndis_xchg_at(n, 0, len, want_type, what);
}

/*
 * Answer a host KEEPALIVE from the queue's own spare header slot (never
 * the control page, which may hold a request the host has not read), as
 * a GPA-direct control message whose completion net_poll ignores.  No
 * allocation; one ring write.  If the ring is full the host asks again.
 */
static void keepalive_reply(struct vmbus_net *n, struct netq *q,
			    uint32_t req_id)
{
	uint8_t *m = q->hdrs + NET_HDR_SLOT * NET_QSIZE;
	uint64_t a = q->hdrs_addr + NET_HDR_SLOT * NET_QSIZE;
	uint32_t len = vmbus_rndis_msg_keepalive_c(m, req_id);
	uint8_t nv[NVSP_MSG_SIZE];
	memset(nv, 0, sizeof(nv));
	wr32(nv, NVSP_MSG_SEND_RNDIS_PKT);
	wr32(nv + 4, 1); /* control */
	wr32(nv + 8, NVSP_NO_SECTION);
	struct vmbus_pkt_desc d;
	struct vmbus_pkt_gpa_hdr g = { 0, PVIO_LE32(1) };
	struct {
		uint32_t byte_count, byte_offset;
		uint64_t pfn;
	} VMBUS_PACKED rg = { PVIO_LE32(len),
			      PVIO_LE32((uint32_t)(a & (VMBUS_PAGE - 1))),
			      PVIO_LE64(vmbus_pfn(n->vd.h, a)) };
	vmbus_pkt_desc(&d, VMBUS_PKT_GPA_DIRECT, sizeof(d) + sizeof(g) + sizeof(rg),
		       sizeof(nv), VMBUS_PKT_FLAG_COMPLETION, NET_KA_TID);
	struct vmbus_iov iov[4] = { { &d, sizeof(d) }, { &g, sizeof(g) },
				    { &rg, sizeof(rg) }, { nv, sizeof(nv) } };
	const char *why = "";
	if (vmbus_ring_write(&q->ch->tx, iov, 4, &why) == 0) {
		q->acks_unkicked = true; /* published with the acks */
		n->keepalives++;
	}
}

static int rndis_query(struct vmbus_net *n, uint32_t oid, const void *in,
		       uint32_t inlen, const char *what)
{
	uint32_t len = vmbus_rndis_msg_query(n->ctrl, ++n->req_id, oid, in, inlen);
	int r = rndis_xchg(n, len, RNDIS_MSG_QUERY_C, what);
	if (r < 0)
		return r;
	return n->reply.status == RNDIS_STATUS_SUCCESS ? 0 : -EOPNOTSUPP;
}

static int rndis_set(struct vmbus_net *n, uint32_t oid, const void *val,
		     uint32_t vlen, const char *what)
{
	uint32_t len = vmbus_rndis_msg_set(n->ctrl, ++n->req_id, oid, val, vlen);
	int r = rndis_xchg(n, len, RNDIS_MSG_SET_C, what);
	if (r < 0)
		return r;
	return n->reply.status == RNDIS_STATUS_SUCCESS ? 0 : -EOPNOTSUPP;
}

static int nvsp_init(struct vmbus_net *n)
{
	pvio_ctx *ctx = n->vd.h->ctx;
	static const uint32_t vers[] = { NVSP_VERSION_61, NVSP_VERSION_6,
					 NVSP_VERSION_5,  NVSP_VERSION_4,
					 NVSP_VERSION_2,  NVSP_VERSION_1 };
	uint8_t m[16];
	int r;
	for (unsigned i = 0; i < 6 && !n->nvsp; i++) {
		memset(m, 0, sizeof(m));
		wr32(m, NVSP_MSG_INIT);
		wr32(m + 4, vers[i]);
		wr32(m + 8, vers[i]);
		r = nvsp_send(n, m, 12, true, "NVSP INIT");
		if (r < 0)
			return r;
		if (rd32(n->comp) == NVSP_MSG_INIT_COMPLETE &&
		    rd32(n->comp + 12) == NVSP_STAT_SUCCESS)
			n->nvsp = vers[i];
	}
	if (!n->nvsp)
		return pvio_set_error(ctx, EPROTONOSUPPORT,
				      "%s: the host accepts none of NVSP 6.1 .. 1",
				      n->vd.name);
	if (n->nvsp >= NVSP_VERSION_2) {
		uint8_t c[20];
		memset(c, 0, sizeof(c));
		wr32(c, NVSP_MSG_SEND_NDIS_CONFIG);
		wr32(c + 4, 1500 + 14);
		uint32_t cap = NDIS_CONFIG_CAP_IEEE8021Q;
		if (n->nvsp >= NVSP_VERSION_5)
			cap |= NDIS_CONFIG_CAP_TEAMING;
		wr32(c + 12, cap);
		r = nvsp_send(n, c, sizeof(c), false, "SEND_NDIS_CONFIG");
		if (r < 0)
			return r;
	}
	n->ndis_major = 6;
	n->ndis_minor = n->nvsp <= NVSP_VERSION_4 ? 1 : 30;
	memset(m, 0, sizeof(m));
	wr32(m, NVSP_MSG_SEND_NDIS_VER);
	wr32(m + 4, n->ndis_major);
	wr32(m + 8, n->ndis_minor);
	return nvsp_send(n, m, 12, false, "SEND_NDIS_VER");
}

static int setup_buffers(struct vmbus_net *n)
{
	pvio_ctx *ctx = n->vd.h->ctx;
	struct vmbus_hostif *h = n->vd.h;
	struct vmbus_chan *ch = &n->vd.chan[0];
	uint8_t m[16];
	int r = h->ops->buf_get(h, ch, VMBUS_BUF_RECV, NET_RECV_BUF, &n->recv);
	if (r < 0)
		return r;
	memset(m, 0, sizeof(m));
	wr32(m, NVSP_MSG_SEND_RECV_BUF);
	wr32(m + 4, n->recv.gpadl);
	m[8] = NVSP_RECV_BUF_ID & 0xff;
	m[9] = NVSP_RECV_BUF_ID >> 8;
	r = nvsp_send(n, m, 10, true, "SEND_RECV_BUF");
	if (r < 0)
		return r;
	n->recv_linked = true;
	uint32_t st = rd32(n->comp + 4), ns = rd32(n->comp + 8);
	uint32_t soff = rd32(n->comp + 12), ssz = rd32(n->comp + 16);
	uint32_t scnt = rd32(n->comp + 20), send_ = rd32(n->comp + 24);
	if (rd32(n->comp) != NVSP_MSG_SEND_RECV_BUF_COMPLETE ||
	    st != NVSP_STAT_SUCCESS)
		return pvio_set_error(ctx, EIO, "%s: host refused the receive "
					       "buffer (status %u)",
				      n->vd.name, st);
	if (n->comp_len < 28 || ns != 1 || soff != 0 || !ssz || !scnt ||
	    (uint64_t)ssz * scnt > n->recv.len || send_ > n->recv.len)
		return pvio_set_error(ctx, EIO, "%s: host described the receive "
					       "buffer as %u sections (offset %u, "
					       "%u x %u bytes); expected one "
					       "section inside %zu bytes",
				      n->vd.name, ns, soff, scnt, ssz,
				      n->recv.len);
	n->recv_sec_size = ssz;
	n->recv_sec_count = scnt;

	r = h->ops->buf_get(h, ch, VMBUS_BUF_SEND, NET_SEND_BUF, &n->send);
	if (r < 0)
		return r;
	memset(m, 0, sizeof(m));
	wr32(m, NVSP_MSG_SEND_SEND_BUF);
	wr32(m + 4, n->send.gpadl);
	r = nvsp_send(n, m, 10, true, "SEND_SEND_BUF");
	if (r < 0)
		return r;
	n->send_linked = true;
	st = rd32(n->comp + 4);
	uint32_t sec = rd32(n->comp + 8);
	if (rd32(n->comp) != NVSP_MSG_SEND_SEND_BUF_COMPLETE ||
	    st != NVSP_STAT_SUCCESS)
		return pvio_set_error(ctx, EIO, "%s: host refused the send "
					       "buffer (status %u)",
				      n->vd.name, st);
	if (sec < 64 || sec % 8 || sec > n->send.len)
		return pvio_set_error(ctx, EIO, "%s: host gave a send-buffer "
					       "section size of %u bytes",
				      n->vd.name, sec);
	n->send_sec_size = sec;
	n->send_sec_count = (uint32_t)(n->send.len / sec);
	return 0;
}

static int rndis_init(struct vmbus_net *n)
{
	pvio_ctx *ctx = n->vd.h->ctx;
	pvio_dev *dev = n->vd.dev;
	struct pvio_net_limits *L = &dev->limits.net;
	uint32_t len = vmbus_rndis_msg_init(n->ctrl, ++n->req_id);
	int r = rndis_xchg(n, len, RNDIS_MSG_INIT_C, "RNDIS INITIALIZE");
	if (r < 0)
		return r;
	if (n->reply.status != RNDIS_STATUS_SUCCESS)
		return pvio_set_error(ctx, EIO, "%s: host failed RNDIS "
					       "INITIALIZE (status 0x%x)",
				      n->vd.name, n->reply.status);
	n->rndis_up = true;

	L->mtu = 1500;
	r = rndis_query(n, OID_GEN_MAXIMUM_FRAME_SIZE, NULL, 0,
			"query maximum frame size");
	if (r < 0 && r != -EOPNOTSUPP)
		return r;
	if (r == 0 && n->reply.info_len >= 4) {
		uint32_t mtu = rd32(n->reply_info);
		if (mtu >= 576 && mtu <= 65521)
			L->mtu = mtu;
	}
	r = rndis_query(n, OID_802_3_PERMANENT_ADDRESS, NULL, 0,
			"query permanent MAC address");
	if (r < 0 && r != -EOPNOTSUPP)
		return r;
	if (r < 0 || n->reply.info_len < 6)
		return pvio_set_error(ctx, EIO, "%s: host gave no MAC address",
				      n->vd.name);
	memcpy(L->mac, n->reply_info, 6);

	uint8_t hdr[4] = { NDIS_OBJ_OFFLOAD, 1, 112, 0 };
	if (n->nvsp >= NVSP_VERSION_5) {
		hdr[1] = 3;
		hdr[2] = 156;
	} else if (n->nvsp >= NVSP_VERSION_4) {
		hdr[1] = 2;
		hdr[2] = 144;
	}
	uint8_t qbuf[156];
	memset(qbuf, 0, sizeof(qbuf));
	memcpy(qbuf, hdr, 4);
	r = rndis_query(n, OID_TCP_OFFLOAD_HARDWARE_CAPABILITIES, qbuf, hdr[2],
			"query offload capabilities");
	if (r < 0 && r != -EOPNOTSUPP)
		return r;
	if (r < 0 || vmbus_ndis_parse_caps(n->reply_info, n->reply.info_len,
				     &n->caps) < 0)
		memset(&n->caps, 0, sizeof(n->caps));

	r = rndis_query(n, OID_GEN_MEDIA_CONNECT_STATUS, NULL, 0,
			"query media connect status");
	if (r < 0 && r != -EOPNOTSUPP)
		return r;
	int up = r == 0 && n->reply.info_len >= 4 && rd32(n->reply_info) == 0;
	__atomic_store_n(&n->link, up, __ATOMIC_RELEASE);
	n->link_reported = up;
	L->link_up = up;
	if (n->nvsp >= NVSP_VERSION_5) {
		r = rndis_query(n, OID_GEN_LINK_SPEED, NULL, 0,
				"query link speed");
		if (r < 0 && r != -EOPNOTSUPP)
			return r;
		if (r == 0 && n->reply.info_len >= 4)
			n->link_speed = rd32(n->reply_info);
		uint8_t rq[16] = { NDIS_OBJ_RSS_CAPS, 2, 16, 0 };
		r = rndis_query(n, OID_GEN_RECEIVE_SCALE_CAPABILITIES, rq,
				sizeof(rq), "query RSS capabilities");
		if (r < 0 && r != -EOPNOTSUPP)
			return r;
		if (r == 0)
			n->rss_queues = vmbus_ndis_parse_rss_caps(n->reply_info,
							    n->reply.info_len);
	}
	pvio_set_error(ctx, EIO, "%s", ""); /* optional queries may fail */
	return 0;
}

static uint64_t offered_features(struct vmbus_net *n)
{
	const struct ndis_caps *c = &n->caps;
	uint64_t f = PVIO_F_EVENT_SUPPRESS | PVIO_F_PERSISTENT_MAP |
		     PVIO_F_MULTI_PAGE_RING | PVIO_F_NET_MAC | PVIO_F_NET_MTU |
		     PVIO_F_NET_LINK_STATUS | PVIO_F_NET_SG | PVIO_F_NET_CTRL;
	uint32_t both = NDIS_CSUM_TCP | NDIS_CSUM_UDP;
	if ((c->ip4_txcsum & both) == both && (c->ip6_txcsum & both) == both)
		f |= PVIO_F_NET_CSUM_TX;
	if ((c->ip4_rxcsum & both) == both && (c->ip6_rxcsum & both) == both)
		f |= PVIO_F_NET_CSUM_RX;
	if ((f & PVIO_F_NET_CSUM_TX) && c->lso4_max >= 16384 &&
	    c->lso4_minsg <= 2)
		f |= PVIO_F_NET_TSO4;
	if ((f & PVIO_F_NET_CSUM_TX) && c->lso6_max >= 16384 &&
	    c->lso6_minsg <= 2)
		f |= PVIO_F_NET_TSO6;
	if (n->rss_queues > 1 && n->vd.h->ops->subchannels)
		f |= PVIO_F_MULTIQUEUE;
	return f;
}

/* Largest LSO frame for one IP version: the host's LSOv2 maximum counts
 * from the IP header; at most 64 KiB. */
static uint32_t lso_frame(uint32_t lso_max)
{
	return (lso_max < NET_TSO_MAX ? lso_max : NET_TSO_MAX) + 14;
}

/* Largest frame: one MTU (with an 802.1Q tag), or with TSO the largest
 * send the host offered for every IP version in use - never less than
 * one MTU-sized frame (the MTU may exceed the LSO maximum). */
static uint32_t max_tx_frame(const struct vmbus_net *n, uint64_t f,
			     uint32_t mtu)
{
	uint32_t m = mtu + 18;
	if (!(f & (PVIO_F_NET_TSO4 | PVIO_F_NET_TSO6)))
		return m;
	uint32_t l = lso_frame(NET_TSO_MAX);
	if ((f & PVIO_F_NET_TSO4) && lso_frame(n->caps.lso4_max) < l)
		l = lso_frame(n->caps.lso4_max);
	if ((f & PVIO_F_NET_TSO6) && lso_frame(n->caps.lso6_max) < l)
		l = lso_frame(n->caps.lso6_max);
	return l > m ? l : m;
}

/* ---------------------------------------------------------------- data */

static int tx_enqueue(pvio_dev *dev, unsigned qi, const struct pvio_net_txd *t)
{
	struct vmbus_net *n = dev->priv;
	if (!pvio_dev_usable(dev) || n->quiesced)
		return dev->state == PVIO_DEV_REMOVED ? -ENODEV : -EIO;
	if (qi >= n->nq)
		return -EINVAL;
	struct netq *q = &n->q[qi];
	if (vmbus_chan_gone(q->ch))
		return vmbus_dev_check_gone(&n->vd);
	const struct pvio_net_limits *L = &dev->limits.net;
	if (!t->nseg || t->nseg > L->max_tx_segments || !t->len ||
	    t->len > L->max_tx_frame)
		return -EINVAL;

	/* per-packet info from the front end's offload request */
	uint32_t csum = 0, lso = 0;
	bool v6 = false;
	if (t->flags & (PVIO_PKT_CSUM_PARTIAL | PVIO_PKT_GSO_TCPV4 |
			PVIO_PKT_GSO_TCPV6)) {
		const uint8_t *f = t->seg[0].va;
		uint32_t l3 = 14;
		if (t->seg[0].len < 14)
			return -EINVAL;
		uint16_t et = (uint16_t)(f[12] << 8 | f[13]);
		if (et == 0x8100 && t->seg[0].len >= 18) {
			et = (uint16_t)(f[16] << 8 | f[17]);
			l3 = 18;
		}
		v6 = et == 0x86DD;
		(void)l3;
		if (t->flags & (PVIO_PKT_GSO_TCPV4 | PVIO_PKT_GSO_TCPV6)) {
			if (!(n->features & (v6 ? PVIO_F_NET_TSO6 : PVIO_F_NET_TSO4)) ||
			    !t->gso_size || t->csum_start > 1023 ||
			    t->len > lso_frame(v6 ? n->caps.lso6_max
						  : n->caps.lso4_max))
				return -EINVAL;
			lso = (t->gso_size & 0xFFFFFu) |
			      ((uint32_t)t->csum_start << 20) | PPI_LSO2 |
			      (v6 ? PPI_LSO_IPV6 : 0);
		} else {
			if (!(n->features & PVIO_F_NET_CSUM_TX) ||
			    t->csum_start > 1023)
				return -EINVAL;
			csum = (v6 ? PPI_TXCSUM_IPV6 : PPI_TXCSUM_IPV4) |
			       (t->csum_offset == 6 ? PPI_TXCSUM_UDP
						    : PPI_TXCSUM_TCP) |
			       ((uint32_t)t->csum_start << 16);
		}
	}

	uint64_t id = vmbus_tid_get(&q->tid);
	if (!id)
		return -EAGAIN;
	uint32_t slot = (uint32_t)(id - 1);
	uint8_t *hdr = q->hdrs + NET_HDR_SLOT * slot;
	uint32_t hl = vmbus_rndis_pkt_hdr(hdr, t->len, csum, lso);
	uint32_t msglen = hl + t->len;
	struct pvio_queue_stats *st = &dev->stats[qi];
	const char *why = "";
	int r;
	uint8_t nv[NVSP_MSG_SIZE];
	memset(nv, 0, sizeof(nv));
	wr32(nv, NVSP_MSG_SEND_RNDIS_PKT);
	wr32(nv + 4, 0); /* data */

	if (t->len <= NET_COPYBREAK && msglen <= n->send_sec_size &&
	    q->nsec_free) {
		uint32_t sec = q->sec_free[--q->nsec_free];
		uint8_t *dst = (uint8_t *)n->send.va +
			       (size_t)sec * n->send_sec_size;
		memcpy(dst, hdr, hl);
		uint32_t off = hl;
		for (unsigned i = 0; i < t->nseg; i++) {
			memcpy(dst + off, t->seg[i].va, t->seg[i].len);
			off += t->seg[i].len;
		}
		if (off != msglen) {
			q->sec_free[q->nsec_free++] = sec;
			vmbus_tid_put(&q->tid, slot);
			return -EINVAL;
		}
		wr32(nv + 8, sec);
		wr32(nv + 12, msglen);
		r = vmbus_send_inband(q->ch, VMBUS_PKT_INBAND,
				      VMBUS_PKT_FLAG_COMPLETION, id, nv,
				      sizeof(nv), &why);
		if (r < 0) {
			q->sec_free[q->nsec_free++] = sec;
		} else {
			st->copies++;
			st->copy_bytes += t->len;
			q->tx[slot].section = sec;
		}
	} else {
		struct {
			uint32_t len, off;
			uint64_t pfn;
		} VMBUS_PACKED rg[NET_MAX_RANGES];
		unsigned nr = 0;
		uint64_t ha = q->hdrs_addr + NET_HDR_SLOT * slot;
		rg[nr].len = PVIO_LE32(hl);
		rg[nr].off = PVIO_LE32((uint32_t)(ha & (VMBUS_PAGE - 1)));
		rg[nr].pfn = PVIO_LE64(vmbus_pfn(n->vd.h, ha));
		nr++;
		uint64_t sum = 0;
		for (unsigned i = 0; i < t->nseg; i++) {
			uint64_t a = t->seg[i].dev_addr;
			uint32_t left = t->seg[i].len;
			sum += left;
			while (left) {
				uint32_t po = (uint32_t)(a & (VMBUS_PAGE - 1));
				uint32_t piece = VMBUS_PAGE - po;
				if (piece > left)
					piece = left;
				if (nr == NET_MAX_RANGES) {
					vmbus_tid_put(&q->tid, slot);
					return -EINVAL;
				}
				rg[nr].len = PVIO_LE32(piece);
				rg[nr].off = PVIO_LE32(po);
				rg[nr].pfn = PVIO_LE64(vmbus_pfn(n->vd.h, a));
				nr++;
				a += piece;
				left -= piece;
			}
		}
		if (sum != t->len) {
			vmbus_tid_put(&q->tid, slot);
			return -EINVAL;
		}
		wr32(nv + 8, NVSP_NO_SECTION);
		struct vmbus_pkt_desc d;
		struct vmbus_pkt_gpa_hdr g = { 0, PVIO_LE32(nr) };
		uint32_t rbytes = nr * (uint32_t)sizeof(rg[0]);
		vmbus_pkt_desc(&d, VMBUS_PKT_GPA_DIRECT,
			       sizeof(d) + sizeof(g) + rbytes, sizeof(nv),
			       VMBUS_PKT_FLAG_COMPLETION, id);
		struct vmbus_iov iov[4] = { { &d, sizeof(d) }, { &g, sizeof(g) },
					    { rg, rbytes }, { nv, sizeof(nv) } };
		r = vmbus_ring_write(&q->ch->tx, iov, 4, &why);
		if (r == 0)
			q->tx[slot].section = NVSP_NO_SECTION;
	}
	if (r < 0) {
		vmbus_tid_put(&q->tid, slot);
		if (r == -EAGAIN)
			return -EAGAIN;
		if (r == -EMSGSIZE)
			return -EINVAL;
		return broken(n, why);
	}
	q->tx[slot].tag = t->tag;
	return 0;
}

static int net_kick(pvio_dev *dev, unsigned qi, unsigned which)
{
	struct vmbus_net *n = dev->priv;
	if (qi >= n->nq)
		return -EINVAL;
	struct netq *q = &n->q[qi];
	(void)which;
	if (!q->ch->open)
		/* closed by a quiesce that gave up: the ring is gone */
		return dev->state == PVIO_DEV_REMOVED ? -ENODEV : -EIO;
	/* receive buffers are private: posting them needs no signal; a
	 * completion that waited for ring room is sent now */
	flush_acks(q, &dev->stats[qi]);
	q->acks_unkicked = false;
	vmbus_chan_kick(q->ch, &dev->stats[qi]);
	return 0;
}

static int reap_check(pvio_dev *dev, struct vmbus_net *n, unsigned qi)
{
	if (qi >= n->nq)
		return -EINVAL;
	if (!pvio_dev_usable(dev) && dev->state != PVIO_DEV_STOPPED)
		return dev->state == PVIO_DEV_REMOVED ? -ENODEV : -EIO;
	if (vmbus_chan_gone(n->q[qi].ch))
		return vmbus_dev_check_gone(&n->vd);
	return 0;
}

static int tx_reap(pvio_dev *dev, unsigned qi, uint32_t *tags, unsigned max)
{
	struct vmbus_net *n = dev->priv;
	int r = reap_check(dev, n, qi);
	if (r < 0)
		return r;
	struct netq *q = &n->q[qi];
	if (q->ch->open)
		r = net_poll(n, qi, NULL, 0, NULL, false, false);
	unsigned k = 0;
	while (k < max && q->done_h != q->done_t)
		tags[k++] = q->done[q->done_h++ % NET_QSIZE];
	return k ? (int)k : r;
}

static int rx_post(pvio_dev *dev, unsigned qi, const struct pvio_net_rxb *b)
{
	struct vmbus_net *n = dev->priv;
	if (qi >= n->nq)
		return -EINVAL;
	struct netq *q = &n->q[qi];
	if (q->post_t - q->post_h >= q->post_cap)
		return -EAGAIN;
	if (!b->seg.len)
		return -EINVAL;
	q->posted[q->post_t++ % q->post_cap] = *b;
	return 0;
}

static int rx_reap(pvio_dev *dev, unsigned qi, struct pvio_net_rxc *out,
		   unsigned max)
{
	struct vmbus_net *n = dev->priv;
	int r = reap_check(dev, n, qi);
	if (r < 0)
		return r;
	if (!n->q[qi].ch->open)
		return 0;
	unsigned k = 0;
	r = net_poll(n, qi, out, max, &k, false, false);
	return k ? (int)k : r;
}

static int net_set_mac(pvio_dev *dev, const uint8_t mac[6])
{
	(void)dev;
	(void)mac;
	return -EOPNOTSUPP; /* the host assigns NetVSC MACs */
}

/* ---------------------------------------------------------------- queues */

static int alloc_queue(struct vmbus_net *n, unsigned qi, uint32_t post_cap)
{
	pvio_ctx *ctx = n->vd.h->ctx;
	struct netq *q = &n->q[qi];
	q->ch = &n->vd.chan[qi];
	q->tx = pvio_zalloc(ctx, NET_QSIZE * sizeof(*q->tx));
	q->done = pvio_zalloc(ctx, NET_QSIZE * sizeof(*q->done));
	q->hdrs = pvio_dma_alloc(ctx, NET_HDR_SLOT * (NET_QSIZE + 1), VMBUS_PAGE);
	q->rxe = pvio_zalloc(ctx, NET_RXE * sizeof(*q->rxe));
	if (!q->tx || !q->done || !q->hdrs || !q->rxe ||
	    vmbus_tid_init(ctx, &q->tid, NET_QSIZE) < 0)
		return -ENOMEM;
	pvio_dma_translate(ctx, q->hdrs, NET_HDR_SLOT * (NET_QSIZE + 1),
			   &q->hdrs_addr);
	if (post_cap) {
		q->posted = pvio_zalloc(ctx, post_cap * sizeof(*q->posted));
		if (!q->posted)
			return -ENOMEM;
		q->post_cap = post_cap;
	}
	return 0;
}

static void free_queue(struct vmbus_net *n, struct netq *q)
{
	pvio_ctx *ctx = n->vd.h->ctx;
	bool busy = q->tid.used && vmbus_tid_busy(&q->tid);
	vmbus_tid_fini(ctx, &q->tid);
	pvio_free(ctx, q->tx);
	pvio_free(ctx, q->done);
	pvio_free(ctx, q->sec_free);
	pvio_free(ctx, q->posted);
	pvio_free(ctx, q->rxe);
	/* a GPA-direct header the host never completed may still be read */
	if (q->hdrs && !busy)
		pvio_dma_free(ctx, q->hdrs);
	memset(q, 0, sizeof(*q));
}

/* split the send-buffer sections among nq queues */
static int split_sections(struct vmbus_net *n)
{
	pvio_ctx *ctx = n->vd.h->ctx;
	uint32_t per = n->send_sec_count / n->nq;
	for (unsigned i = 0; i < n->nq; i++) {
		struct netq *q = &n->q[i];
		pvio_free(ctx, q->sec_free);
		q->sec_first = i * per;
		q->sec_count = per;
		q->sec_free = pvio_zalloc(ctx, (per ? per : 1) * sizeof(uint32_t));
		if (!q->sec_free)
			return -ENOMEM;
		for (uint32_t k = 0; k < per; k++)
			q->sec_free[k] = q->sec_first + per - 1 - k;
		q->nsec_free = per;
	}
	return 0;
}

static int net_configure(pvio_dev *dev, const struct pvio_dev_config *cfg)
{
	struct vmbus_net *n = dev->priv;
	pvio_ctx *ctx = dev->ctx;
	uint32_t nq = cfg->num_queues;
	if (n->configured) {
		if (nq != n->nq)
			return pvio_set_error(ctx, EBUSY, "%s: already configured "
							 "with %u queues",
					      n->vd.name, n->nq);
		n->quiesced = false;
		uint32_t filt = NDIS_PACKET_TYPE_DIRECTED |
				NDIS_PACKET_TYPE_ALL_MULTICAST |
				NDIS_PACKET_TYPE_BROADCAST;
		return rndis_set(n, OID_GEN_CURRENT_PACKET_FILTER, &filt, 4,
				 "set packet filter") < 0 ? -EIO : 0;
	}
	if (nq < 1 || nq > dev->limits.net.max_queues)
		return pvio_set_error(ctx, EINVAL, "%s: %u queues asked, the "
						  "device has 1..%u",
				      n->vd.name, nq, dev->limits.net.max_queues);
	uint64_t want = cfg->want & offered_features(n) &
			(PVIO_F_NET_CSUM_TX | PVIO_F_NET_CSUM_RX |
			 PVIO_F_NET_TSO4 | PVIO_F_NET_TSO6);
	if (!(want & PVIO_F_NET_CSUM_TX))
		want &= ~(PVIO_F_NET_TSO4 | PVIO_F_NET_TSO6);
	uint8_t op[28];
	uint32_t ol = vmbus_ndis_offload_params(op, n->ndis_minor >= 30,
					  want & PVIO_F_NET_CSUM_TX,
					  want & PVIO_F_NET_CSUM_RX,
					  want & PVIO_F_NET_TSO4,
					  want & PVIO_F_NET_TSO6);
	int r = rndis_set(n, OID_TCP_OFFLOAD_PARAMETERS, op, ol,
			  "set offload parameters");
	if (r == -EOPNOTSUPP) {
		want = 0; /* host refused: use none */
	} else if (r < 0) {
		return r;
	}

	/* queue 0 exists since open; grow the array */
	struct netq *nqs = pvio_zalloc(ctx, nq * sizeof(*nqs));
	if (!nqs)
		return pvio_set_error(ctx, ENOMEM, "out of memory");
	nqs[0] = n->q[0];
	pvio_free(ctx, n->q);
	n->q = nqs;
	nqs[0].ch = &n->vd.chan[0];
	n->nq = 1;
	if (!n->q[0].posted) {
		n->q[0].posted = pvio_zalloc(ctx, cfg->max_tags *
						       sizeof(*n->q[0].posted));
		if (!n->q[0].posted)
			return pvio_set_error(ctx, ENOMEM, "out of memory");
		n->q[0].post_cap = cfg->max_tags;
	}
	if (nq > 1) {
		uint8_t m[12];
		memset(m, 0, sizeof(m));
		wr32(m, NVSP_MSG_SUBCHANNEL);
		wr32(m + 4, NVSP_SUBCHANNEL_ALLOCATE);
		wr32(m + 8, nq - 1);
		r = nvsp_send(n, m, sizeof(m), true, "NVSP SUBCHANNEL");
		if (r < 0)
			return r;
		if (rd32(n->comp) != NVSP_MSG_SUBCHANNEL ||
		    rd32(n->comp + 4) != NVSP_STAT_SUCCESS)
			return pvio_set_error(ctx, EIO, "%s: host refused %u "
							"sub-channels (status %u)",
					      n->vd.name, nq - 1,
					      rd32(n->comp + 4));
		uint32_t got = rd32(n->comp + 8);
		if (got < nq - 1)
			return pvio_set_error(ctx, EIO, "%s: host allocated %u of "
							"%u sub-channels",
					      n->vd.name, got, nq - 1);
		r = vmbus_dev_open_subchannels(&n->vd, nq, VMBUS_RING_BYTES_NET);
		if (r < 0)
			return r;
		if ((uint32_t)r < nq)
			return pvio_set_error(ctx, ETIMEDOUT,
					      "%s: the host offered %d of %u "
					      "channels within %u ms",
					      n->vd.name, r, nq,
					      pvio_timeout_ms(ctx));
		for (unsigned i = 1; i < nq; i++) {
			if (alloc_queue(n, i, cfg->max_tags) < 0)
				return pvio_set_error(ctx, ENOMEM, "out of memory");
			n->nq = i + 1;
		}
		uint32_t rl = vmbus_ndis_rss_params(n->ctrl + 28, nq);
		uint8_t rss[40 + 512 + 40];
		memcpy(rss, n->ctrl + 28, rl);
		r = rndis_set(n, OID_GEN_RECEIVE_SCALE_PARAMETERS, rss, rl,
			      "set RSS parameters");
		if (r < 0 && r != -EOPNOTSUPP)
			return r;
	}
	n->nq = nq;
	if (split_sections(n) < 0)
		return pvio_set_error(ctx, ENOMEM, "out of memory");
	uint32_t filt = NDIS_PACKET_TYPE_DIRECTED | NDIS_PACKET_TYPE_ALL_MULTICAST |
			NDIS_PACKET_TYPE_BROADCAST;
	r = rndis_set(n, OID_GEN_CURRENT_PACKET_FILTER, &filt, 4,
		      "set packet filter");
	if (r == -EOPNOTSUPP)
		return pvio_set_error(ctx, EIO, "%s: host refused the packet "
					       "filter",
				      n->vd.name);
	if (r < 0)
		return r;
	for (unsigned i = 0; i < nq; i++)
		vmbus_ring_mask(&n->q[i].ch->rx);
	n->features = (offered_features(n) &
		       ~(PVIO_F_NET_CSUM_TX | PVIO_F_NET_CSUM_RX |
			 PVIO_F_NET_TSO4 | PVIO_F_NET_TSO6 | PVIO_F_MULTIQUEUE)) |
		      want | (nq > 1 ? PVIO_F_MULTIQUEUE : 0);
	dev->info.features = n->features;
	dev->info.num_queues = nq;
	dev->info.queue_size = NET_QSIZE;
	dev->limits.net.max_tx_frame = max_tx_frame(n, n->features,
						    dev->limits.net.mtu);
	n->configured = true;
	n->quiesced = false;
	return 0;
}

static int net_quiesce(pvio_dev *dev)
{
	struct vmbus_net *n = dev->priv;
	if (!n->configured || !pvio_dev_usable(dev))
		return 0;
	n->quiesced = true;
	uint32_t zero = 0;
	/* stop receiving; frames already in the rings are dropped */
	rndis_set(n, OID_GEN_CURRENT_PACKET_FILTER, &zero, 4,
		  "clear packet filter");
	uint64_t deadline = pvio_deadline(dev->ctx);
	for (unsigned i = 0; i < n->nq; i++) {
		struct netq *q = &n->q[i];
		while (vmbus_tid_busy(&q->tid) && pvio_dev_usable(dev)) {
			if (net_poll(n, i, NULL, 0, NULL, true, i == 0) < 0)
				break;
			if (!vmbus_tid_busy(&q->tid))
				break;
			if (vmbus_wait_rx(n->vd.h, q->ch, deadline) <= 0)
				break;
		}
		vmbus_ring_mask(&q->ch->rx);
	}
	unsigned left = 0;
	for (unsigned i = 0; i < n->nq; i++)
		left += vmbus_tid_busy(&n->q[i].tid);
	if (left && pvio_dev_usable(dev)) {
		pvio_log(dev->ctx, PVIO_LOG_WARN,
			 "%s: %u transmissions did not complete within %u ms; "
			 "closing the channels", n->vd.name, left,
			 pvio_timeout_ms(dev->ctx));
		vmbus_dev_close_channels(&n->vd);
		pvio_dev_set_stopped(dev);
	}
	return 0;
}

static int net_service(pvio_dev *dev)
{
	struct vmbus_net *n = dev->priv;
	int r = vmbus_dev_service(dev);
	int link = __atomic_load_n(&n->link, __ATOMIC_ACQUIRE);
	int rep = __atomic_load_n(&n->link_reported, __ATOMIC_ACQUIRE);
	if (rep == -1) {
		/* NETWORK_CHANGE: bounce the link as Linux does */
		pvio_dev_push_event(dev, PVIO_EVENT_LINK_CHANGE, 0);
		rep = 0;
	}
	if (link != rep) {
		dev->limits.net.link_up = link != 0;
		pvio_dev_push_event(dev, PVIO_EVENT_LINK_CHANGE, (uint32_t)link);
		rep = link;
	}
	__atomic_store_n(&n->link_reported, rep, __ATOMIC_RELEASE);
	return r;
}

/*
 * Tear the buffer GPADLs down and close the channels, in the order the
 * host needs: from VMBus 4.0 on it keeps the buffers until the channel is
 * closed (a teardown before would wait for nothing), older hosts want the
 * teardown before the close.  The buffers hang off the primary channel,
 * whose offer stays valid after CLOSECHANNEL; buf_put does nothing for a
 * buffer that was never set up.
 */
static void put_buffers_and_close(struct vmbus_net *n)
{
	struct vmbus_hostif *h = n->vd.h;
	struct vmbus_chan *primary = &n->vd.chan[0];
	/* (a quiesce that gave up may have closed the channels already) */
	if (h->version && h->version < VMBUS_VERSION_WIN10) {
		h->ops->buf_put(h, primary, &n->send);
		h->ops->buf_put(h, primary, &n->recv);
		vmbus_dev_close_channels(&n->vd);
		return;
	}
	vmbus_dev_close_channels(&n->vd);
	h->ops->buf_put(h, primary, &n->send);
	h->ops->buf_put(h, primary, &n->recv);
}

static void net_close(pvio_dev *dev)
{
	struct vmbus_net *n = dev->priv;
	pvio_ctx *ctx = dev->ctx;
	struct vmbus_hostif *h = n->vd.h;
	bool alive = h && n->vd.nchan && !vmbus_chan_gone(&n->vd.chan[0]) &&
		     !h->lost && n->vd.chan[0].open;
	if (n->configured && pvio_dev_usable(dev))
		net_quiesce(dev);
	alive = alive && n->vd.nchan && n->vd.chan[0].open &&
		pvio_dev_state(dev, NULL) != PVIO_DEV_BROKEN;
	if (alive && n->q) {
		if (n->rndis_up) {
			uint32_t len = vmbus_rndis_msg_halt(n->ctrl, ++n->req_id);
			rndis_xchg(n, len, 0, "RNDIS HALT");
		}
		uint8_t m[8];
		if (n->recv_linked) {
			memset(m, 0, sizeof(m));
			wr32(m, NVSP_MSG_REVOKE_RECV_BUF);
			m[4] = NVSP_RECV_BUF_ID & 0xff;
			m[5] = NVSP_RECV_BUF_ID >> 8;
			nvsp_send(n, m, 6, false, "REVOKE_RECV_BUF");
		}
		if (n->send_linked) {
			memset(m, 0, sizeof(m));
			wr32(m, NVSP_MSG_REVOKE_SEND_BUF);
			nvsp_send(n, m, 6, false, "REVOKE_SEND_BUF");
		}
		/* let the host finish the control sends before the ring goes */
		net_poll(n, 0, NULL, 0, NULL, true, true);
	}
	if (h)
		put_buffers_and_close(n);
	if (n->q) {
		unsigned cnt = n->nq ? n->nq : 1;
		for (unsigned i = 0; i < cnt; i++)
			free_queue(n, &n->q[i]);
		pvio_free(ctx, n->q);
	}
	if (n->ctrl)
		pvio_dma_free(ctx, n->ctrl);
	if (h)
		h->ops->free(h);
	pvio_dev_free(dev);
}

static int net_queue_arm(pvio_dev *dev, unsigned qi)
{
	struct vmbus_net *n = dev->priv;
	if (qi < n->nq && (n->q[qi].done_h != n->q[qi].done_t ||
			   (n->q[qi].rxe_h != n->q[qi].rxe_t &&
			    n->q[qi].post_h != n->q[qi].post_t)))
		return 1;
	return vmbus_dev_queue_arm(dev, qi);
}

static const struct pvio_net_ops net_ops = {
	.tx_enqueue = tx_enqueue,
	.tx_reap = tx_reap,
	.rx_post = rx_post,
	.rx_reap = rx_reap,
	.kick = net_kick,
	.set_mac = net_set_mac,
};

static const struct pvio_dev_ops net_dev_ops = {
	.configure = net_configure,
	.quiesce = net_quiesce,
	.close = net_close,
	.service = net_service,
	.event_fd = vmbus_dev_event_fd,
	.queue_fd = vmbus_dev_queue_fd,
	.queue_arm = net_queue_arm,
	.queue_ack = vmbus_dev_queue_ack,
	.queue_disarm = vmbus_dev_queue_disarm,
	.net = &net_ops,
};

int vmbus_net_open(pvio_ctx *ctx, struct vmbus_hostif *h,
		   const struct vmbus_offer *offer, const char *name,
		   const char *opts, pvio_dev **out)
{
	(void)opts;
	pvio_dev *dev = pvio_dev_alloc(ctx, &net_dev_ops, sizeof(struct vmbus_net));
	if (!dev)
		return pvio_set_error(ctx, ENOMEM, "out of memory");
	struct vmbus_net *n = dev->priv;
	n->vd.h = h;
	n->vd.dev = dev;
	n->vd.proto = n;
	pvio_strlcpy(n->vd.name, name, sizeof(n->vd.name));
	int r = -ENOMEM;
	n->ctrl = pvio_dma_alloc(ctx, VMBUS_PAGE, VMBUS_PAGE);
	n->q = pvio_zalloc(ctx, sizeof(*n->q));
	if (!n->ctrl || !n->q) {
		r = pvio_set_error(ctx, ENOMEM, "out of memory");
		goto fail;
	}
	pvio_dma_translate(ctx, n->ctrl, VMBUS_PAGE, &n->ctrl_addr);
	struct vmbus_chan *ch = &n->vd.chan[0];
	ch->offer = *offer;
	r = h->ops->open(h, ch, VMBUS_RING_BYTES_NET);
	if (r < 0)
		goto fail;
	n->vd.nchan = 1;
	if (alloc_queue(n, 0, 0) < 0) {
		r = pvio_set_error(ctx, ENOMEM, "out of memory");
		goto fail;
	}
	r = nvsp_init(n);
	if (r == 0)
		r = setup_buffers(n);
	if (r == 0)
		r = rndis_init(n);
	if (r < 0)
		goto fail;
	vmbus_ring_mask(&ch->rx);

	struct pvio_net_limits *L = &dev->limits.net;
	uint64_t off = offered_features(n);
	L->max_queues = n->rss_queues > 1 ? (uint32_t)n->rss_queues : 1;
	if (L->max_queues > VMBUS_MAX_QUEUES)
		L->max_queues = VMBUS_MAX_QUEUES;
	if (!h->ops->subchannels)
		L->max_queues = 1;
	L->queue_size = NET_QSIZE;
	L->max_tx_frame = max_tx_frame(n, off, L->mtu);
	L->max_tx_segments = NET_MAX_TX_SEG;
	L->tx_seg_boundary = 0;
	L->rx_buf_align = 64;
	L->rx_buf_min = L->mtu + 18;
	L->rx_buf_exact = 0;

	dev->info.cls = PVIO_CLASS_NET;
	dev->info.family = PVIO_FAMILY_VMBUS;
	dev->info.offered = off;
	dev->info.max_queues = L->max_queues;
	dev->info.queue_size = NET_QSIZE;
	dev->info.max_segments = NET_MAX_TX_SEG;
	dev->info.max_transfer = L->max_tx_frame;
	char proto[64];
	pvio_snprintf(proto, sizeof(proto), "NVSP %u.%u / NDIS %u.%u / RNDIS 1.0",
		      n->nvsp >> 16, n->nvsp == NVSP_VERSION_1 ? 1 : n->nvsp & 0xffff,
		      n->ndis_major, n->ndis_minor);
	if (n->nvsp == NVSP_VERSION_2)
		pvio_snprintf(proto, sizeof(proto),
			      "NVSP 2 / NDIS %u.%u / RNDIS 1.0", n->ndis_major,
			      n->ndis_minor);
	pvio_dev_set_strings(dev, h->name, proto);
	pvio_snprintf(dev->info.native, sizeof(dev->info.native),
		      "relid=%u recv=%zux%u/%u send=%ux%u link_speed=%u00bps "
		      "rss=%d csum_tx4=0x%x lso4=%u",
		      offer->relid, n->recv.len, n->recv_sec_count,
		      n->recv_sec_size, n->send_sec_count, n->send_sec_size,
		      n->link_speed, n->rss_queues, n->caps.ip4_txcsum,
		      n->caps.lso4_max);
	*out = dev;
	return 0;
fail:
	/* close without the device's ops: buffers, channels, queues */
	put_buffers_and_close(n);
	if (n->q) {
		free_queue(n, &n->q[0]);
		pvio_free(ctx, n->q);
	}
	if (n->ctrl)
		pvio_dma_free(ctx, n->ctrl);
	pvio_dev_free(dev);
	return r;
}
