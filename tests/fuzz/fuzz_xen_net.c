/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_xen_net.c - the netif front end (backends/xen/net.c)
 * against a fuzzed back end.
 *
 * As in fuzz_xen_blk.c, the fake Xen host (xfx.c) carries the handshake
 * and the fuzzer answers the keys net.c reads (feature-rx-copy,
 * feature-sg, feature-gso-*, feature-split-event-channels,
 * multi-queue-max-queues, mac, mtu, carrier, trusted; now and then the
 * back end's state).  On the rings the fuzzer is netback: it takes TX
 * requests (the netback model, or this harness answering each slot with
 * OKAY/ERROR/DROPPED/NULL in any order) and fills posted RX buffers
 * (through the grant, at any offset and length, with checksum flags, or
 * as errors, multi-slot or extra-info frames nobody negotiated); hostile
 * moves are unknown TX ids, RX ids that do not match their slot,
 * producers that jump, answers for TX slots read from the ring before
 * they were published, and buffers kept mapped.
 *
 * Properties:
 *  - a TX tag completes once, only after it was published, and (honest
 *    back end) only after every slot of the frame was answered;
 *  - an RX completion names a buffer that was posted and published, lies
 *    inside it, and - from an honest back end - is exactly the frame it
 *    wrote (offset, length, bytes) or an error with length 0;
 *  - frames and buffers within the limits are never refused as invalid;
 *    what the back end finds in the rings is what was posted (an RX
 *    buffer's grant is writable, a TX slot's offset is inside its page),
 *    unless its own responses, written ahead of the requests it
 *    consumed, overwrote the slot (they share it);
 *  - an honest back end never gets the device marked broken.
 */
#include "fuzz.h"
#include "xfx.h"

#define TAGS 8u
#define MAXQ 2u

static const char *const keys[] = {
	"feature-rx-copy", "feature-sg", "feature-gso-tcpv4",
	"feature-gso-tcpv6", "feature-split-event-channels",
	"multi-queue-max-queues", "mac", "mtu", "carrier", "trusted", NULL,
};

enum { T_IDLE, T_QUEUED, T_PUBLISHED };

struct txt {
	uint8_t st;
	unsigned slots, answered;
};

struct rxt {
	uint8_t st;
	uint8_t *buf;
	bool expect;          /* an honest frame was written for it */
	int32_t est;          /* 0: frame, < 0: error expected */
	uint16_t off, len, flags;
	uint8_t head[32];
};

/* Requests and responses share a ring's slots: a response this back end
 * writes at an index it has not consumed yet lands on a request the front
 * end may already have written there.  Requests before `end` can no
 * longer be compared with what was posted. */
struct clob {
	bool on;
	RING_IDX end;
};

struct txs {              /* a TX slot this harness consumed */
	uint16_t id;
	uint32_t tag;
	bool extra;
};

struct hq {
	uint32_t txfifo[128]; /* per TX ring slot, in ring order: its tag */
	unsigned tfh, tfn;
	uint32_t rxfifo[256]; /* per posted RX buffer, in ring order */
	unsigned rfh, rfn;
	struct txs held[32];
	unsigned nheld;
	bool tx_extra_next;   /* (parse state of the TX requests) */
	struct clob txc, rxc;
};

struct h {
	struct fz *f;
	pvio_ctx *ctx;
	struct xfx x;
	pvio_dev *dev;
	unsigned nq;
	uint32_t tags;
	struct txt tx[MAXQ][TAGS];
	struct rxt rx[MAXQ][TAGS];
	struct hq q[MAXQ];
	uint8_t *txbuf;
	bool hostile, lazy, csum_rx;
	unsigned xs_answered; /* fuzzed xenstore answers up to configure */
};

static void push(uint32_t *fifo, unsigned cap, unsigned *head, unsigned *n,
		 uint32_t v)
{
	FZ_ASSERT(*n < cap, "fifo");
	fifo[(*head + (*n)++) % cap] = v;
}

static uint32_t pop(uint32_t *fifo, unsigned cap, unsigned *head, unsigned *n)
{
	if (!*n)
		return UINT32_MAX;
	uint32_t v = fifo[*head];
	*head = (*head + 1) % cap;
	--*n;
	return v;
}

static struct fxn_q *nring(struct h *h, unsigned qi)
{
	struct fxn *n = h->x.fx->net;
	return n && qi < n->nq && n->q[qi].connected ? &n->q[qi] : NULL;
}

/* ---------------------------------------------------------------- front */

static void send(struct h *h)
{
	struct fz *f = h->f;
	const struct pvio_net_limits *L = &h->dev->limits.net;
	unsigned qi = fz_below(f, h->nq);
	uint32_t tag = fz_below(f, h->tags);
	struct txt *t = &h->tx[qi][tag];
	if (t->st != T_IDLE)
		return;
	uint32_t max = L->max_tx_frame < 8 * 4096 ? L->max_tx_frame : 8 * 4096;
	if (max > L->mtu + 18u && !(L->max_tx_segments > 1))
		max = L->mtu + 18u;
	if (max > L->mtu + 18u)
		max = L->mtu + 18u; /* no GSO here: one MTU-sized frame */
	struct pvio_net_txd d = { .tag = tag };
	d.len = 14 + fz_u16(f) % (max - 13);
	unsigned nseg = 1 + fz_below(f, L->max_tx_segments < 8 ? L->max_tx_segments
							       : 8);
	struct pvio_dseg seg[8];
	uint32_t left = d.len;
	unsigned n = 0;
	for (; n < nseg && left; n++) {
		/* a piece inside page n of the buffer */
		uint32_t off = fz_below(f, 4096);
		uint32_t room = 4096 - off;
		uint32_t len = n + 1 == nseg ? left : 1 + fz_u16(f) % left;
		if (len > room)
			len = room;
		if (len > left)
			len = left;
		seg[n].va = h->txbuf + (size_t)n * 4096 + off;
		seg[n].len = len;
		FZ_ASSERT(pvio_dma_translate(h->ctx, seg[n].va, len,
					     &seg[n].dev_addr) == 0, "dma");
		left -= len;
	}
	if (left)
		d.len -= left;
	if (d.len < 14)
		return;
	d.nseg = (uint16_t)n;
	d.seg = seg;
	bool usable = pvio_dev_state(h->dev, NULL) == PVIO_DEV_READY;
	int e = h->dev->ops->net->tx_enqueue(h->dev, qi, &d);
	fz_note("tx q%u tag %u len %u nseg %u: %d", qi, tag, d.len, n, e);
	if (!usable) {
		FZ_ASSERT(e < 0 && e != -EINVAL, "tx on an unusable device: %d", e);
		return;
	}
	FZ_ASSERT(e != -EINVAL, "a %u-byte frame in %u pieces was refused (max "
		  "frame %u, pieces %u, mtu %u)", d.len, n, L->max_tx_frame,
		  L->max_tx_segments, L->mtu);
	if (e)
		return;
	t->st = T_QUEUED;
	t->slots = n;
	t->answered = 0;
	for (unsigned i = 0; i < n; i++)
		push(h->q[qi].txfifo, 128, &h->q[qi].tfh, &h->q[qi].tfn, tag);
}

static void post(struct h *h)
{
	struct fz *f = h->f;
	unsigned qi = fz_below(f, h->nq);
	uint32_t tag = fz_below(f, h->tags);
	struct rxt *t = &h->rx[qi][tag];
	if (t->st != T_IDLE)
		return;
	struct pvio_net_rxb b = { .tag = tag };
	b.seg.va = t->buf;
	b.seg.len = 4096;
	FZ_ASSERT(pvio_dma_translate(h->ctx, t->buf, 4096, &b.seg.dev_addr) == 0,
		  "dma");
	memset(t->buf, 0x5a, 4096);
	bool usable = pvio_dev_state(h->dev, NULL) == PVIO_DEV_READY;
	int e = h->dev->ops->net->rx_post(h->dev, qi, &b);
	if (!usable) {
		FZ_ASSERT(e < 0 && e != -EINVAL, "rx_post on an unusable device: "
			  "%d", e);
		return;
	}
	FZ_ASSERT(e != -EINVAL, "a page-sized RX buffer was refused");
	if (e)
		return;
	t->st = T_QUEUED;
	t->expect = false;
	push(h->q[qi].rxfifo, 256, &h->q[qi].rfh, &h->q[qi].rfn, tag);
}

static void kick(struct h *h, unsigned qi, unsigned which)
{
	bool usable = pvio_dev_state(h->dev, NULL) == PVIO_DEV_READY;
	int e = h->dev->ops->net->kick(h->dev, qi, which);
	if (e || !usable)
		return;
	for (uint32_t i = 0; i < h->tags; i++) {
		if ((which & PVIO_NET_KICK_TX) && h->tx[qi][i].st == T_QUEUED)
			h->tx[qi][i].st = T_PUBLISHED;
		if ((which & PVIO_NET_KICK_RX) && h->rx[qi][i].st == T_QUEUED)
			h->rx[qi][i].st = T_PUBLISHED;
	}
}

static void reap(struct h *h, unsigned qi)
{
	uint32_t tags[TAGS * 4];
	int n = h->dev->ops->net->tx_reap(h->dev, qi, tags, TAGS * 4);
	if (n < 0)
		FZ_ASSERT(pvio_dev_state(h->dev, NULL) != PVIO_DEV_READY,
			  "tx_reap failed (%d) on a working device", n);
	for (int i = 0; i < n; i++) {
		FZ_ASSERT(tags[i] < h->tags, "tx tag %u", tags[i]);
		struct txt *t = &h->tx[qi][tags[i]];
		FZ_ASSERT(t->st == T_PUBLISHED, "tx completion of tag %u, which %s",
			  tags[i], t->st == T_QUEUED ? "was never published"
						   : "is not outstanding");
		if (!h->hostile)
			FZ_ASSERT(t->answered == t->slots, "tx tag %u completed "
				  "after %u of its %u slots were answered",
				  tags[i], t->answered, t->slots);
		t->st = T_IDLE;
	}
	struct pvio_net_rxc c[TAGS * 4];
	n = h->dev->ops->net->rx_reap(h->dev, qi, c, TAGS * 4);
	if (n < 0) {
		FZ_ASSERT(pvio_dev_state(h->dev, NULL) != PVIO_DEV_READY,
			  "rx_reap failed (%d) on a working device", n);
		return;
	}
	for (int i = 0; i < n; i++) {
		uint32_t tag = c[i].tag;
		FZ_ASSERT(tag < h->tags, "rx tag %u", tag);
		struct rxt *t = &h->rx[qi][tag];
		FZ_ASSERT(t->st == T_PUBLISHED, "rx completion of tag %u, which %s",
			  tag, t->st == T_QUEUED ? "was never published"
					       : "is not outstanding");
		t->st = T_IDLE;
		fz_note("rx q%u tag %u: %d off %u len %u", qi, tag, c[i].status,
			c[i].offset, c[i].len);
		if (c[i].status < 0) {
			FZ_ASSERT(!c[i].len && !c[i].offset, "error with a frame");
		} else {
			FZ_ASSERT(c[i].len && c[i].offset <= 4096 &&
				  c[i].len <= 4096 - c[i].offset,
				  "frame at %u+%u outside its page", c[i].offset,
				  c[i].len);
			if (c[i].flags & PVIO_PKT_CSUM_PARTIAL)
				FZ_ASSERT((uint32_t)c[i].csum_start +
					  c[i].csum_offset + 2 <= c[i].len,
					  "checksum outside the frame");
		}
		if (!t->expect || h->hostile)
			continue;
		if (t->est < 0) {
			FZ_ASSERT(c[i].status < 0, "an error the back end sent came "
				  "back as a frame");
			continue;
		}
		FZ_ASSERT(c[i].status == 0 && c[i].offset == t->off &&
			  c[i].len == t->len, "frame %u+%u came back as %d %u+%u",
			  t->off, t->len, c[i].status, c[i].offset, c[i].len);
		uint32_t cmp = t->len < 32 ? t->len : 32;
		FZ_ASSERT(!memcmp(t->buf + t->off, t->head, cmp), "received bytes "
			  "differ from what the back end wrote");
		uint32_t want = (t->flags & NETRXF_data_validated) && h->csum_rx
					? PVIO_PKT_CSUM_VALID
					: 0;
		FZ_ASSERT(c[i].flags == want, "flags 0x%x, expected 0x%x",
			  c[i].flags, want);
	}
}

/* ---------------------------------------------------------------- back */

static void clobber_to(struct clob *c, RING_IDX end)
{
	if (!c->on || (int32_t)(end - c->end) > 0)
		c->end = end;
	c->on = true;
}

/* A response is about to be written at index idx of a ring whose
 * requests were consumed up to req_cons. */
static void note_rsp(struct clob *c, RING_IDX idx, RING_IDX req_cons)
{
	if ((int32_t)(idx - req_cons) >= 0)
		clobber_to(c, idx + 1);
}

static bool intact(const struct clob *c, RING_IDX idx)
{
	return !c->on || (int32_t)(idx - c->end) >= 0;
}

static void tx_answer(struct h *h, unsigned qi, const struct txs *s,
		      int16_t st)
{
	struct fxn_q *r = nring(h, qi);
	note_rsp(&h->q[qi].txc, r->tx.rsp_prod_pvt, r->tx.req_cons);
	netif_tx_response_t *rs = RING_GET_RESPONSE(&r->tx, r->tx.rsp_prod_pvt);
	rs->id = s->extra ? 0xdead : s->id;
	rs->status = s->extra ? NETIF_RSP_NULL : st;
	r->tx.rsp_prod_pvt++;
	if (!s->extra && s->tag < h->tags)
		h->tx[qi][s->tag].answered++;
	int notify;
	RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&r->tx, notify);
	if (notify)
		fx_irq(h->x.fx, r->evtx);
}

static int16_t tx_status(struct h *h)
{
	uint8_t s = fz_u8(h->f);
	return s < 0xc0 ? NETIF_RSP_OKAY : s < 0xe0 ? NETIF_RSP_ERROR
						  : NETIF_RSP_DROPPED;
}

/* This harness takes the TX requests and answers slot by slot. */
static void own_tx(struct h *h, unsigned qi)
{
	struct fxn_q *r = nring(h, qi);
	struct fz *f = h->f;
	struct hq *q = &h->q[qi];
	if (!r)
		return;
	while (q->nheld && fz_u8(f) < 0xc0) {
		unsigned i = fz_below(f, q->nheld);
		struct txs s = q->held[i];
		q->held[i] = q->held[--q->nheld];
		tx_answer(h, qi, &s, tx_status(h));
	}
	while (RING_HAS_UNCONSUMED_REQUESTS(&r->tx) && q->nheld < 32) {
		netif_tx_request_t rq;
		RING_IDX idx = r->tx.req_cons;
		RING_COPY_REQUEST(&r->tx, idx, &rq);
		r->tx.req_cons++;
		struct txs s = { .id = rq.id, .tag = UINT32_MAX };
		if (q->tx_extra_next) {
			s.extra = true;
			struct netif_extra_info ex;
			memcpy(&ex, &rq, sizeof(ex));
			q->tx_extra_next = ex.flags & XEN_NETIF_EXTRA_FLAG_MORE;
		} else {
			s.tag = pop(q->txfifo, 128, &q->tfh, &q->tfn);
			q->tx_extra_next = rq.flags & NETTXF_extra_info;
			if (intact(&q->txc, idx))
				FZ_ASSERT(rq.offset < 4096, "TX slot offset %u",
					  rq.offset);
		}
		if (fz_u8(f) == 0x77 && !s.extra) {
			/* keep the page mapped (XSA-396) */
			h->hostile = true;
			fx_map(h->x.fx, rq.gref, false);
		}
		if ((fz_u8(f) & 3) == 3) {
			q->held[q->nheld++] = s;
			continue;
		}
		tx_answer(h, qi, &s, tx_status(h));
	}
	if (q->nheld)
		h->lazy = true;
}

/* This harness fills posted RX buffers. */
static void own_rx(struct h *h, unsigned qi)
{
	struct fxn_q *r = nring(h, qi);
	struct fz *f = h->f;
	struct hq *q = &h->q[qi];
	if (!r)
		return;
	unsigned k = fz_below(f, 8);
	for (unsigned i = 0; i < k && RING_HAS_UNCONSUMED_REQUESTS(&r->rx); i++) {
		netif_rx_request_t rq;
		RING_IDX idx = r->rx.req_cons;
		RING_COPY_REQUEST(&r->rx, idx, &rq);
		r->rx.req_cons++;
		uint32_t tag = pop(q->rxfifo, 256, &q->rfh, &q->rfn);
		uint8_t kind = fz_u8(f);
		uint16_t off = (uint16_t)fz_below(f, 4096);
		uint16_t len = (uint16_t)(1 + fz_u16(f) % (4096 - off));
		uint16_t flags = kind & 0x10 ? NETRXF_data_validated : 0;
		int16_t st = (int16_t)len;
		if ((kind & 0xe0) == 0xe0)
			st = kind & 1 ? NETIF_RSP_ERROR : 0; /* an error */
		uint8_t head[32];
		fz_bytes(f, head, sizeof(head));
		if (st > 0) {
			uint8_t *pg = fx_map(h->x.fx, rq.gref, true);
			if (pg) {
				memcpy(pg + off, head, len < 32 ? len : 32);
				fx_unmap(h->x.fx, rq.gref);
			} else {
				/* an overwritten slot: whatever it names is
				 * not a buffer; netback answers an error */
				FZ_ASSERT(!intact(&q->rxc, idx), "RX buffer grant "
					  "%u cannot be mapped writable", rq.gref);
				st = NETIF_RSP_ERROR;
			}
		}
		if (tag < h->tags) {
			struct rxt *t = &h->rx[qi][tag];
			t->expect = true;
			t->est = st > 0 ? 0 : -1;
			t->off = off;
			t->len = len;
			t->flags = flags;
			memcpy(t->head, head, sizeof(head));
		}
		note_rsp(&q->rxc, r->rx.rsp_prod_pvt, r->rx.req_cons);
		netif_rx_response_t *rs =
			RING_GET_RESPONSE(&r->rx, r->rx.rsp_prod_pvt);
		rs->id = rq.id;
		rs->offset = st > 0 ? off : 0;
		rs->flags = flags;
		rs->status = st;
		r->rx.rsp_prod_pvt++;
	}
	int notify;
	RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&r->rx, notify);
	if (notify)
		fx_irq(h->x.fx, r->evrx);
}

static void hostile(struct h *h, unsigned qi)
{
	struct fxn_q *r = nring(h, qi);
	struct fz *f = h->f;
	if (!r)
		return;
	h->hostile = true;
	switch (fz_u8(f) % 6) {
	case 0: { /* a TX answer with any id and status */
		struct txs s = { .id = fz_u16(f), .tag = UINT32_MAX };
		tx_answer(h, qi, &s, (int16_t)fz_u16(f));
		break;
	}
	case 1: /* producers jump */
		if (fz_bool(f))
			r->tx.sring->rsp_prod = r->tx.rsp_prod_pvt + fz_u32(f);
		else
			r->rx.sring->rsp_prod = r->rx.rsp_prod_pvt + fz_u32(f);
		break;
	case 2: { /* answer a TX slot read before it was published */
		RING_IDX p = r->tx.sring->req_prod + fz_below(f, 4);
		netif_tx_request_t rq;
		memcpy(&rq, RING_GET_REQUEST(&r->tx, p), sizeof(rq));
		struct txs s = { .id = rq.id, .tag = UINT32_MAX };
		tx_answer(h, qi, &s, NETIF_RSP_OKAY);
		break;
	}
	case 3: { /* an RX answer with any fields in the next slot */
		note_rsp(&h->q[qi].rxc, r->rx.rsp_prod_pvt, r->rx.req_cons);
		netif_rx_response_t *rs =
			RING_GET_RESPONSE(&r->rx, r->rx.rsp_prod_pvt);
		rs->id = fz_u16(f);
		rs->offset = fz_u16(f);
		rs->flags = fz_u16(f);
		rs->status = (int16_t)fz_u16(f);
		r->rx.rsp_prod_pvt++;
		int notify;
		RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&r->rx, notify);
		(void)notify;
		break;
	}
	case 4: /* a held TX slot answered twice */
		if (h->q[qi].nheld) {
			struct txs s = h->q[qi].held[0];
			tx_answer(h, qi, &s, 0);
			tx_answer(h, qi, &s, 0);
		}
		break;
	default: { /* an RX extra-info chain after a frame */
		if (!RING_HAS_UNCONSUMED_REQUESTS(&r->rx))
			break;
		netif_rx_request_t rq;
		RING_COPY_REQUEST(&r->rx, r->rx.req_cons, &rq);
		r->rx.req_cons++;
		pop(h->q[qi].rxfifo, 256, &h->q[qi].rfh, &h->q[qi].rfn);
		note_rsp(&h->q[qi].rxc, r->rx.rsp_prod_pvt, r->rx.req_cons);
		netif_rx_response_t *rs =
			RING_GET_RESPONSE(&r->rx, r->rx.rsp_prod_pvt);
		rs->id = rq.id;
		rs->offset = 0;
		rs->flags = (uint16_t)(fz_u16(f) | NETRXF_extra_info);
		rs->status = 60;
		r->rx.rsp_prod_pvt++;
		int notify;
		RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&r->rx, notify);
		(void)notify;
		break;
	}
	}
}

/* The netback model takes TX; it counts what it answered. */
static void model_tx(struct h *h, unsigned qi)
{
	struct fxn_q *r = nring(h, qi);
	if (!r)
		return;
	/* it answers every slot of every frame it takes */
	RING_IDX before = r->tx.req_cons, prod = r->tx.sring->req_prod;
	RING_IDX rsp_before = r->tx.rsp_prod_pvt;
	/* more answers than slots consumed so far (hostile ones): the
	 * model's answers land on requests it has not read yet */
	bool ahead = (int32_t)(rsp_before - before) > 0;
	fxn_process_tx(h->x.fx, qi);
	struct hq *q = &h->q[qi];
	if (ahead && r->tx.rsp_prod_pvt != rsp_before)
		clobber_to(&q->txc, r->tx.rsp_prod_pvt);
	bool extra = q->tx_extra_next;
	for (RING_IDX i = before; i != prod; i++) {
		netif_tx_request_t rq;
		memcpy(&rq, RING_GET_REQUEST(&r->tx, i), sizeof(rq));
		if (extra) {
			struct netif_extra_info ex;
			memcpy(&ex, &rq, sizeof(ex));
			extra = ex.flags & XEN_NETIF_EXTRA_FLAG_MORE;
			continue;
		}
		uint32_t tag = pop(q->txfifo, 128, &q->tfh, &q->tfn);
		if (tag < h->tags)
			h->tx[qi][tag].answered++;
		extra = rq.flags & NETTXF_extra_info;
	}
	q->tx_extra_next = extra;
}

/* ---------------------------------------------------------------- main */

static void one(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	struct h *h = calloc(1, sizeof(*h));
	FZ_ASSERT(h, "calloc");
	h->f = &f;
	h->ctx = fz_ctx(32u << 20, 50);

	uint8_t c0 = fz_u8(&f);
	uint32_t mask = fz_u16(&f);
	struct fxn_cfg cfg = {
		.sg = c0 & 1,
		.gso4 = c0 & 2,
		.gso6 = c0 & 4,
		.split = c0 & 8,
		.max_queues = (int)(c0 >> 4 & 3) - 1,
		.manual = true,
	};
	xfx_init(&h->x, h->ctx, 2, &f, keys, mask);
	h->x.fuzzed_state = c0 & 0x40;
	fxn_new(h->x.fx, &cfg);

	uint8_t o = fz_u8(&f);
	char spec[96];
	snprintf(spec, sizeof(spec), "vif/0?queues=%u&split=%u&copy=%u",
		 1 + (o & 1), o >> 1 & 1, o >> 2 & 1);
	h->tags = 1 + fz_below(&f, TAGS);
	uint64_t want = (uint64_t)fz_u8(&f) << 32;
	char type[4];
	uint32_t devid;
	struct xen_opts xo;
	FZ_ASSERT(xen_parse_device(h->ctx, spec, type, &devid, &xo) == 0, "spec");
	int r = xen_open(h->ctx, &h->x.fx->h, type, devid, &xo, &h->dev);
	fz_note("open %s: %d %s", spec, r, r < 0 ? pvio_errmsg(h->ctx) : "");
	if (r < 0) {
		FZ_ASSERT(*pvio_errmsg(h->ctx), "open failed without a message");
		goto out;
	}
	const struct pvio_net_limits *L = &h->dev->limits.net;
	FZ_ASSERT(L->mtu >= 68 && L->mtu + 18 <= 4096 && L->max_tx_segments >= 1 &&
		  L->max_tx_frame >= L->mtu + 14 && L->max_queues >= 1 &&
		  !(L->mac[0] & 1),
		  "limits: mtu %u segs %u frame %u queues %u mac %02x", L->mtu,
		  L->max_tx_segments, L->max_tx_frame, L->max_queues, L->mac[0]);
	h->nq = L->max_queues < MAXQ ? L->max_queues : MAXQ;
	struct pvio_dev_config dc = { .num_queues = h->nq, .max_tags = h->tags,
				      .want = want };
	r = pvio_dev_configure(h->dev, &dc);
	fz_note("configure: %d %s", r, r < 0 ? pvio_errmsg(h->ctx) : "");
	if (r < 0) {
		FZ_ASSERT(*pvio_errmsg(h->ctx), "configure failed without a "
			  "message");
		goto close;
	}
	h->csum_rx = h->dev->info.features & PVIO_F_NET_CSUM_RX;
	h->xs_answered = h->x.answered;
	h->txbuf = pvio_dma_alloc(h->ctx, 8 * 4096, 4096);
	FZ_ASSERT(h->txbuf, "dma");
	for (unsigned q = 0; q < h->nq; q++)
		for (uint32_t t = 0; t < h->tags; t++) {
			h->rx[q][t].buf = pvio_dma_alloc(h->ctx, 4096, 4096);
			FZ_ASSERT(h->rx[q][t].buf, "dma");
		}

	for (unsigned step = 0; step < 200 && fz_left(&f); step++) {
		uint8_t op = fz_u8(&f);
		unsigned qi = fz_below(&f, h->nq);
		switch (op & 7) {
		case 0:
			send(h);
			break;
		case 1:
			post(h);
			break;
		case 2:
			kick(h, qi, 1 + fz_below(&f, 3));
			break;
		case 3:
			if (op & 0x80)
				model_tx(h, qi);
			else
				own_tx(h, qi);
			break;
		case 4:
			own_rx(h, qi);
			break;
		case 5:
			reap(h, qi);
			break;
		case 6:
			if ((op & 0xf0) == 0xf0)
				hostile(h, qi);
			else if ((op & 0xf0) == 0xe0)
				h->dev->ops->queue_arm(h->dev, qi);
			else if ((op & 0xf0) == 0xd0)
				h->dev->ops->queue_disarm(h->dev, qi);
			break;
		default:
			if ((op & 0xf0) == 0xf0) {
				char p[160];
				snprintf(p, sizeof(p), "%s/state", h->x.fx->net->be);
				fx_write(h->x.fx, p, op & 8 ? "5" : "6");
				h->lazy = true;
			} else if ((op & 0xf0) == 0xe0) {
				char p[160];
				snprintf(p, sizeof(p), "%s/carrier", h->x.fx->net->be);
				fx_write(h->x.fx, p, op & 8 ? "0" : "1");
			} else if ((op & 0xf0) == 0xd0) {
				r = h->dev->ops->quiesce(h->dev);
				if (r < 0)
					h->lazy = true;
			}
			h->dev->ops->service(h->dev);
			struct pvio_event ev;
			while (pvio_dev_next_event(h->dev, &ev) > 0)
				;
			break;
		}
		/* a value the fuzzer answered for a key read later (carrier,
		 * state) may be anything */
		bool fuzzed = h->x.answered != h->xs_answered;
		const char *why = NULL;
		if (pvio_dev_state(h->dev, &why) == PVIO_DEV_BROKEN)
			FZ_ASSERT(h->hostile || h->lazy || fuzzed, "an honest back "
				  "end got the device marked broken: %s",
				  why ? why : "");
	}
close:
	fz_note("state %d: %s", pvio_dev_state(h->dev, NULL), h->dev->reason);
	pvio_dev_close(h->dev);
out:
	xfx_fini(&h->x);
	fz_ctx_free(h->ctx);
	free(h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	xfx_run(one, data, size);
	return 0;
}

/* ---------------------------------------------------------------- seeds */

void fz_seeds(fz_emit_fn emit, void *arg)
{
	struct fzb b = { 0 };
	for (unsigned v = 0; v < 4; v++) {
		fzb_u8(&b, (uint8_t)(1 | (v & 1 ? 8 : 0) | 2 << 4));
		fzb_u16(&b, 0);
		fzb_u8(&b, (uint8_t)((v & 1) | (v & 2 ? 4 : 0) | 2));
		fzb_u8(&b, 3);      /* 4 tags */
		fzb_u8(&b, 0x18);   /* csum offloads */
		for (unsigned round = 0; round < 10; round++) {
			for (unsigned k = 0; k < 3; k++) {
				fzb_u8(&b, 1);      /* post */
				fzb_u8(&b, 0);
				fzb_u8(&b, 0);
				fzb_u8(&b, (uint8_t)k);
				fzb_u8(&b, 0);      /* send */
				fzb_u8(&b, 0);
				fzb_u8(&b, 0);
				fzb_u8(&b, (uint8_t)k);
				fzb_u16(&b, (uint16_t)(50 + 100 * round));
				fzb_u8(&b, 0);      /* one piece */
				fzb_u16(&b, (uint16_t)(100 * k));
			}
			fzb_u8(&b, 2);              /* kick both */
			fzb_u8(&b, 0);
			fzb_u8(&b, 2);
			fzb_u8(&b, round & 1 ? 0x83 : 3); /* TX */
			fzb_u8(&b, 0);
			for (int i = 0; i < 12; i++)
				fzb_u8(&b, 0);
			fzb_u8(&b, 4);              /* RX */
			fzb_u8(&b, 0);
			fzb_u8(&b, 3);
			for (int i = 0; i < 3; i++) {
				fzb_u8(&b, (uint8_t)(i * 0x10));
				fzb_u16(&b, (uint16_t)(i * 10));
				fzb_u16(&b, (uint16_t)(60 + i));
				for (int k = 0; k < 32; k++)
					fzb_u8(&b, (uint8_t)(k + i));
			}
			fzb_u8(&b, 5);              /* reap */
			fzb_u8(&b, 0);
		}
		char name[32];
		snprintf(name, sizeof(name), "net-%u", v);
		fzb_emit(&b, emit, arg, name);
	}
	fzb_free(&b);
}
