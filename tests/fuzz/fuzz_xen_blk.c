/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_xen_blk.c - the blkif front end (backends/xen/blk.c,
 * xenbus.c, transport.c) against a fuzzed back end.
 *
 * The host is the unit tests' fake Xen (xfx.c): its xenstored and blkback
 * model carry the handshake, but every property the front end reads
 * (max-ring-page-order, multi-queue-max-queues, sectors, sector-size,
 * physical-sector-size, info, feature-*, discard-granularity, trusted,
 * and now and then the back end's state) may be answered by the fuzzer
 * with any bytes, or be absent.  Once connected, the fuzzer decides the
 * back end's every move on the rings: the blkback model does the I/O
 * (through the grants, against its RAM disk), or this harness consumes
 * requests and answers them itself with a status of its choice, in any
 * order, holds them, keeps a data page mapped, or writes hostile
 * responses: unknown or repeated ids, wrong operations, unknown statuses,
 * a response producer that jumps, and answers naming requests it read
 * from ring slots the front end has filled but not yet published.
 *
 * Properties:
 *  - a completion names a request that was published (kicked), is
 *    outstanding, and is reported once; its status is 0, -EIO or
 *    -EOPNOTSUPP and, with an honest back end, the one it sent;
 *  - data read back from the model's disk is what was written (a shadow
 *    copy of the disk, for requests that did not overlap others);
 *  - requests within the limits are never refused as invalid; what the
 *    back end finds in the ring is what was submitted (operation,
 *    segment count), unless its own responses, written ahead of the
 *    requests it consumed, overwrote the slot (they share it);
 *  - an honest back end never gets the device marked broken;
 *  - after hostile input the device is broken or removed with a reason,
 *    later calls fail, close returns (bounded) and never crashes.
 */
#include "fuzz.h"
#include "xfx.h"

#define TAGS 8u
#define MAXQ 2u
#define SECTORS_MAX 4096u

static const char *const keys[] = {
	"max-ring-page-order", "multi-queue-max-queues", "sectors",
	"sector-size", "physical-sector-size", "info", "feature-flush-cache",
	"feature-barrier", "feature-discard", "discard-granularity",
	"feature-persistent", "feature-max-indirect-segments", "trusted",
	NULL,
};

enum { T_IDLE, T_QUEUED, T_PUBLISHED };

struct tag {
	uint8_t st;
	uint8_t op;
	bool expect_set, by_model, check_data;
	int32_t expect;
	uint64_t off, len;
	uint8_t *buf;        /* max_segs pages */
	uint16_t nseg;
	struct pvio_dseg seg[64];
	uint32_t gen;        /* pattern generation of a write */
};

struct held {
	uint64_t id;
	uint8_t op;
	uint32_t tag;
};

struct hq {
	uint32_t fifo[64];   /* tags in ring order, not yet consumed */
	unsigned fhead, fn;
	struct held held[16];
	unsigned nheld;
	/* Requests and responses share the ring's slots: a response this
	 * back end writes at an index it has not consumed yet lands on a
	 * request the front end may already have written there.  Requests
	 * before clob_end can no longer be compared with what was
	 * submitted. */
	bool clobbered;
	RING_IDX clob_end;
};

struct h {
	struct fz *f;
	pvio_ctx *ctx;
	struct xfx x;
	pvio_dev *dev;
	unsigned nq;
	uint32_t tags, max_segs;
	struct tag t[MAXQ][TAGS];
	struct hq q[MAXQ];
	bool hostile, lazy, removed_by_us;
	unsigned xs_answered; /* fuzzed xenstore answers up to configure */
	uint8_t shadow[SECTORS_MAX * 512];
	uint32_t gen;
};

static void fifo_push(struct hq *q, uint32_t tag)
{
	FZ_ASSERT(q->fn < 64, "fifo");
	q->fifo[(q->fhead + q->fn++) % 64] = tag;
}

static uint32_t fifo_pop(struct hq *q)
{
	if (!q->fn)
		return UINT32_MAX;
	uint32_t t = q->fifo[q->fhead];
	q->fhead = (q->fhead + 1) % 64;
	q->fn--;
	return t;
}

static struct fxb_ring *bring(struct h *h, unsigned qi)
{
	struct fxb *b = h->x.fx->blk;
	return b && qi < b->nq && b->q[qi].connected ? &b->q[qi] : NULL;
}

static bool overlaps(struct h *h, unsigned qi, uint32_t tag)
{
	struct tag *me = &h->t[qi][tag];
	for (unsigned q = 0; q < h->nq; q++)
		for (uint32_t i = 0; i < h->tags; i++) {
			struct tag *o = &h->t[q][i];
			if ((q == qi && i == tag) || o->st == T_IDLE)
				continue;
			if (o->op == PVIO_BLK_OP_FLUSH || !o->len)
				continue;
			if (me->off < o->off + o->len && o->off < me->off + me->len)
				return true;
		}
	return false;
}

/* ---------------------------------------------------------------- front */

static void submit(struct h *h)
{
	struct fz *f = h->f;
	const struct pvio_blk_limits *L = &h->dev->limits.blk;
	unsigned qi = fz_below(f, h->nq);
	uint32_t tag = fz_below(f, h->tags);
	struct tag *t = &h->t[qi][tag];
	if (t->st != T_IDLE)
		return;
	struct pvio_blk_dreq r = { .tag = tag };
	r.op = fz_below(f, 4); /* read write flush discard */
	uint32_t bs = L->block_size;
	uint64_t nblocks = L->capacity / bs;
	if (L->capacity > SECTORS_MAX * 512ull)
		nblocks = SECTORS_MAX * 512ull / bs;
	t->nseg = 0;
	t->len = 0;
	t->off = 0;
	if (r.op == PVIO_BLK_OP_READ || r.op == PVIO_BLK_OP_WRITE) {
		if (!nblocks || (r.op == PVIO_BLK_OP_WRITE && L->read_only))
			return;
		unsigned nseg = 1 + fz_below(f, h->max_segs);
		uint64_t total = 0;
		for (unsigned i = 0; i < nseg; i++) {
			uint32_t per = 4096 / bs;          /* blocks in a page */
			uint32_t a = fz_below(f, per);
			uint32_t b = 1 + fz_below(f, per - a);
			t->seg[i].va = t->buf + (size_t)i * 4096 + a * bs;
			t->seg[i].len = b * bs;
			FZ_ASSERT(pvio_dma_translate(h->ctx, t->seg[i].va,
						     t->seg[i].len,
						     &t->seg[i].dev_addr) == 0,
				  "dma");
			total += t->seg[i].len;
			if (total / bs >= nblocks) {
				nseg = i + 1; /* the pieces after it were not made */
				break;
			}
		}
		/* drop pieces until it fits the disk */
		t->nseg = 0;
		total = 0;
		for (unsigned i = 0; i < nseg; i++) {
			if ((total + t->seg[i].len) / bs > nblocks)
				break;
			total += t->seg[i].len;
			t->nseg++;
		}
		if (!t->nseg)
			return;
		uint64_t lba = fz_u32(f) % (nblocks - total / bs + 1);
		r.offset = lba * bs;
		r.len = total;
		r.nseg = t->nseg;
		r.seg = t->seg;
		if (r.op == PVIO_BLK_OP_WRITE) {
			h->gen++;
			t->gen = h->gen;
			for (unsigned i = 0; i < t->nseg; i++)
				for (uint32_t k = 0; k < t->seg[i].len; k++)
					((uint8_t *)t->seg[i].va)[k] =
						(uint8_t)(h->gen * 31 + i * 7 + k);
		} else {
			for (unsigned i = 0; i < t->nseg; i++)
				memset(t->seg[i].va, 0xee, t->seg[i].len);
		}
	} else if (r.op == PVIO_BLK_OP_DISCARD) {
		if (!L->discard || L->read_only || !nblocks)
			return;
		uint64_t maxb = L->max_discard / bs;
		if (maxb > nblocks)
			maxb = nblocks;
		if (!maxb)
			return;
		uint64_t nb = 1 + fz_u32(f) % maxb;
		r.offset = (fz_u32(f) % (nblocks - nb + 1)) * bs;
		r.len = nb * bs;
	} else if (!L->flush) {
		return;
	}
	t->off = r.offset;
	t->len = r.len;
	t->op = r.op;
	bool usable = pvio_dev_state(h->dev, NULL) == PVIO_DEV_READY;
	int e = h->dev->ops->blk->enqueue(h->dev, qi, &r);
	fz_note("enqueue q%u tag %u op %u nseg %u len %llu: %d", qi, tag, r.op,
		r.nseg, (unsigned long long)r.len, e);
	if (!usable) {
		FZ_ASSERT(e < 0 && e != -EINVAL, "enqueue on an unusable device: "
			  "%d", e);
		return;
	}
	FZ_ASSERT(e != -EINVAL, "a request within the limits was refused: op %u "
		  "off %llu len %llu nseg %u (bs %u, segs %u, cap %llu)", r.op,
		  (unsigned long long)r.offset, (unsigned long long)r.len, r.nseg,
		  bs, L->max_segments, (unsigned long long)L->capacity);
	FZ_ASSERT(e == 0 || e == -EAGAIN || e == -EOPNOTSUPP || e == -EROFS,
		  "enqueue returned %d", e);
	if (e)
		return;
	t->st = T_QUEUED;
	t->expect_set = t->by_model = false;
	t->check_data = !overlaps(h, qi, tag);
	fifo_push(&h->q[qi], tag);
}

static void kick(struct h *h, unsigned qi)
{
	bool usable = pvio_dev_state(h->dev, NULL) == PVIO_DEV_READY;
	int e = h->dev->ops->blk->kick(h->dev, qi);
	if (e == 0 && usable)
		for (uint32_t i = 0; i < h->tags; i++)
			if (h->t[qi][i].st == T_QUEUED)
				h->t[qi][i].st = T_PUBLISHED;
}

static void reap(struct h *h, unsigned qi)
{
	struct pvio_blk_dcomp out[TAGS + 1];
	int n = h->dev->ops->blk->reap(h->dev, qi, out, TAGS + 1);
	if (n < 0) {
		FZ_ASSERT(pvio_dev_state(h->dev, NULL) != PVIO_DEV_READY,
			  "reap failed (%d) on a working device", n);
		return;
	}
	for (int i = 0; i < n; i++) {
		uint32_t tag = out[i].tag;
		FZ_ASSERT(tag < h->tags, "completion of tag %u", tag);
		struct tag *t = &h->t[qi][tag];
		fz_note("reap q%u tag %u op %u: %d", qi, tag, t->op, out[i].status);
		FZ_ASSERT(t->st == T_PUBLISHED, "completion of tag %u, which %s",
			  tag, t->st == T_QUEUED ? "was never published"
						: "is not outstanding");
		FZ_ASSERT(out[i].status == 0 || out[i].status == -EIO ||
			  out[i].status == -EOPNOTSUPP, "status %d", out[i].status);
		if (t->expect_set && !h->hostile)
			FZ_ASSERT(out[i].status == t->expect, "tag %u: status %d, "
				  "the back end answered %d", tag, out[i].status,
				  t->expect);
		t->st = T_IDLE;
		if (h->hostile || !t->by_model || out[i].status)
			continue;
		/* the model did the I/O: its disk and the shadow agree (in
		 * completion order, which is the order it did them in) */
		if (t->op == PVIO_BLK_OP_WRITE) {
			uint64_t o = t->off;
			for (unsigned s = 0; s < t->nseg; s++) {
				memcpy(h->shadow + o, t->seg[s].va, t->seg[s].len);
				o += t->seg[s].len;
			}
		} else if (t->op == PVIO_BLK_OP_READ && t->check_data) {
			uint64_t o = t->off;
			for (unsigned s = 0; s < t->nseg; s++) {
				FZ_ASSERT(!memcmp(h->shadow + o, t->seg[s].va,
						  t->seg[s].len),
					  "tag %u read %u bytes at %llu that differ "
					  "from what was written", tag,
					  t->seg[s].len, (unsigned long long)o);
				o += t->seg[s].len;
			}
		} else if (t->op == PVIO_BLK_OP_DISCARD) {
			memset(h->shadow + t->off, 0, t->len);
		}
	}
}

/* ---------------------------------------------------------------- back */

static void clobber_to(struct hq *q, RING_IDX end)
{
	if (!q->clobbered || (int32_t)(end - q->clob_end) > 0)
		q->clob_end = end;
	q->clobbered = true;
}

/* A response is about to be written at ring index idx of ring r. */
static void note_rsp(struct h *h, unsigned qi, struct fxb_ring *r, RING_IDX idx)
{
	if ((int32_t)(idx - r->br.req_cons) >= 0)
		clobber_to(&h->q[qi], idx + 1);
}

static bool intact(const struct hq *q, RING_IDX idx)
{
	return !q->clobbered || (int32_t)(idx - q->clob_end) >= 0;
}

static int32_t pv_status(int16_t st)
{
	return st == 0 ? 0 : st == -2 ? -EOPNOTSUPP : -EIO;
}

/* The blkback model does the I/O for everything in ring qi. */
static void model_process(struct h *h, unsigned qi)
{
	struct fxb_ring *r = bring(h, qi);
	if (!r)
		return;
	RING_IDX prod = r->br.sring->req_prod, before = r->br.rsp_prod_pvt;
	unsigned n = prod - r->br.req_cons;
	/* more responses than requests consumed so far (hostile answers):
	 * the model's responses land on requests it has not read yet */
	bool ahead = (int32_t)(before - r->br.req_cons) > 0;
	uint32_t tags[64];
	for (unsigned i = 0; i < n && i < 64; i++)
		tags[i] = fifo_pop(&h->q[qi]);
	fxb_process(h->x.fx, qi);
	if (ahead && r->br.rsp_prod_pvt != before)
		clobber_to(&h->q[qi], r->br.rsp_prod_pvt);
	for (unsigned i = 0; i < n && i < 64; i++) {
		blkif_response_t *rsp = RING_GET_RESPONSE(&r->br, before + i);
		if (tags[i] < h->tags) {
			struct tag *t = &h->t[qi][tags[i]];
			t->expect_set = true;
			t->by_model = true;
			t->expect = pv_status(rsp->status);
		}
	}
}

static void respond(struct h *h, unsigned qi, uint64_t id, uint8_t op,
		    int16_t st)
{
	struct fxb_ring *r = bring(h, qi);
	note_rsp(h, qi, r, r->br.rsp_prod_pvt);
	blkif_response_t *rsp = RING_GET_RESPONSE(&r->br, r->br.rsp_prod_pvt);
	rsp->id = id;
	rsp->operation = op;
	rsp->status = st;
	r->br.rsp_prod_pvt++;
	int notify;
	RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&r->br, notify);
	if (notify)
		fx_irq(h->x.fx, r->ev);
}

static int16_t pick_status(struct h *h)
{
	uint8_t s = fz_u8(h->f);
	if (s < 0xc0)
		return 0;
	if (s < 0xe0)
		return -1;
	if (s < 0xf8)
		return -2;
	h->hostile = true;
	return (int16_t)fz_u16(h->f);
}

/* This harness is the back end for ring qi: consume, answer or hold. */
static void own_process(struct h *h, unsigned qi)
{
	struct fxb_ring *r = bring(h, qi);
	struct fz *f = h->f;
	if (!r)
		return;
	struct hq *q = &h->q[qi];
	/* answer some held ones, in any order */
	while (q->nheld && fz_u8(f) < 0xc0) {
		unsigned i = fz_below(f, q->nheld);
		struct held hd = q->held[i];
		q->held[i] = q->held[--q->nheld];
		int16_t st = pick_status(h);
		if (hd.tag < h->tags) {
			h->t[qi][hd.tag].expect_set = true;
			h->t[qi][hd.tag].expect = pv_status(st);
		}
		respond(h, qi, hd.id, hd.op, st);
	}
	while (RING_HAS_UNCONSUMED_REQUESTS(&r->br) && q->nheld < 16) {
		blkif_request_t req;
		RING_IDX idx = r->br.req_cons;
		RING_COPY_REQUEST(&r->br, idx, &req);
		r->br.req_cons++;
		uint32_t tag = fifo_pop(q);
		uint8_t op = req.operation;
		if (op == BLKIF_OP_INDIRECT)
			op = ((blkif_request_indirect_t *)&req)->indirect_op;
		if (tag < h->tags) {
			struct tag *t = &h->t[qi][tag];
			static const uint8_t want[] = { BLKIF_OP_READ,
				BLKIF_OP_WRITE, 0xff, BLKIF_OP_DISCARD };
			if (t->op != PVIO_BLK_OP_FLUSH && intact(q, idx))
				FZ_ASSERT(op == want[t->op], "tag %u (op %u) went "
					  "out as operation %u", tag, t->op, op);
			if (req.operation != BLKIF_OP_INDIRECT &&
			    req.operation != BLKIF_OP_DISCARD && t->nseg &&
			    intact(q, idx))
				FZ_ASSERT(req.nr_segments == t->nseg, "tag %u: "
					  "%u segments in the ring, %u submitted",
					  tag, req.nr_segments, t->nseg);
			if ((req.operation == BLKIF_OP_READ ||
			     req.operation == BLKIF_OP_WRITE) &&
			    req.nr_segments && fz_u8(f) == 0x77) {
				/* keep a data page mapped (XSA-396) */
				h->hostile = true;
				fx_map(h->x.fx, req.seg[0].gref, false);
			}
		}
		uint8_t act = fz_u8(f);
		if ((act & 3) == 3) {
			q->held[q->nheld++] = (struct held){ req.id, op, tag };
			continue;
		}
		int16_t st = pick_status(h);
		if (tag < h->tags) {
			h->t[qi][tag].expect_set = true;
			h->t[qi][tag].expect = pv_status(st);
		}
		respond(h, qi, req.id, op, st);
	}
	if (q->nheld)
		h->lazy = true;
}

/* Hostile acts on ring qi. */
static void hostile(struct h *h, unsigned qi)
{
	struct fxb_ring *r = bring(h, qi);
	struct fz *f = h->f;
	if (!r)
		return;
	h->hostile = true;
	switch (fz_u8(f) % 6) {
	case 0: /* any id, any operation, any status */
		respond(h, qi, fz_u64(f), fz_u8(f), (int16_t)fz_u16(f));
		break;
	case 1: /* a held request answered twice */
		if (h->q[qi].nheld) {
			struct held *hd = &h->q[qi].held[0];
			respond(h, qi, hd->id, hd->op, 0);
			respond(h, qi, hd->id, hd->op, 0);
		}
		break;
	case 2: /* the producer jumps */
		r->br.sring->rsp_prod = r->br.rsp_prod_pvt + fz_u32(f);
		break;
	case 3: { /* answer the request in the first unpublished slot */
		RING_IDX p = r->br.sring->req_prod + fz_below(f, 4);
		blkif_request_t req;
		memcpy(&req, RING_GET_REQUEST(&r->br, p), sizeof(req));
		uint8_t op = req.operation == BLKIF_OP_INDIRECT
				     ? ((blkif_request_indirect_t *)&req)->indirect_op
				     : req.operation;
		respond(h, qi, req.id, op, 0);
		break;
	}
	case 4: /* a held request answered with the wrong operation */
		if (h->q[qi].nheld) {
			struct held *hd = &h->q[qi].held[0];
			respond(h, qi, hd->id, (uint8_t)(hd->op ^ 1 ^ fz_u8(f)), 0);
		}
		break;
	default: { /* raw bytes where the next response goes */
		uint8_t raw[16];
		fz_bytes(f, raw, sizeof(raw));
		note_rsp(h, qi, r, r->br.rsp_prod_pvt);
		memcpy(RING_GET_RESPONSE(&r->br, r->br.rsp_prod_pvt), raw,
		       sizeof(raw));
		r->br.rsp_prod_pvt++;
		int notify;
		RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&r->br, notify);
		(void)notify;
		break;
	}
	}
}

/* ---------------------------------------------------------------- main */

static void check_honest(struct h *h)
{
	const char *why = NULL;
	/* a value the fuzzer answered for a key read later (sectors, state)
	 * may be anything */
	bool fuzzed = h->x.answered != h->xs_answered;
	if (pvio_dev_state(h->dev, &why) == PVIO_DEV_BROKEN)
		FZ_ASSERT(h->hostile || h->lazy || fuzzed, "an honest back end "
			  "got the device marked broken: %s", why ? why : "");
}

static void one(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	struct h *h = calloc(1, sizeof(*h));
	FZ_ASSERT(h, "calloc");
	h->f = &f;
	h->ctx = fz_ctx(64u << 20, 50);

	/* the back end's configuration and the keys the fuzzer answers */
	uint8_t c0 = fz_u8(&f), c1 = fz_u8(&f);
	uint32_t mask = fz_u16(&f);
	struct fxb_cfg cfg = {
		.sectors = 64 + fz_below(&f, SECTORS_MAX - 63),
		.sector_size = c0 & 1 ? 4096 : 512,
		.info = c0 & 2 ? 4u : 0u,
		.max_order = (int)(c0 >> 2 & 7) - 1,
		.max_queues = (int)(c0 >> 5 & 3) - 1,
		.indirect = c1 & 1 ? 32 + 64 * (c1 >> 6) : 0,
		.persistent = c1 & 2,
		.flush = c1 & 4,
		.barrier = c1 & 8,
		.discard = c1 & 16,
		.manual = true,
	};
	if (cfg.sector_size == 4096)
		cfg.sectors &= ~7ull;
	xfx_init(&h->x, h->ctx, 2, &f, keys, mask);
	h->x.fuzzed_state = c1 & 32;
	fxb_new(h->x.fx, &cfg);

	/* the front end's options */
	uint8_t o = fz_u8(&f);
	char spec[128];
	snprintf(spec, sizeof(spec),
		 "vbd/51712?ring-order=%u&indirect=%u&queues=%u&persistent=%u"
		 "&copy=%u",
		 o & 3, (o >> 2 & 1) ? 64u : 0u, 1 + (o >> 3 & 1), o >> 4 & 1,
		 o >> 5 & 1);
	h->tags = 1 + fz_below(&f, TAGS);
	char type[4];
	uint32_t devid;
	struct xen_opts xo;
	FZ_ASSERT(xen_parse_device(h->ctx, spec, type, &devid, &xo) == 0,
		  "spec %s", spec);
	int r = xen_open(h->ctx, &h->x.fx->h, type, devid, &xo, &h->dev);
	fz_note("open %s: %d %s", spec, r, r < 0 ? pvio_errmsg(h->ctx) : "");
	if (r < 0) {
		FZ_ASSERT(*pvio_errmsg(h->ctx), "open failed without a message");
		goto out;
	}
	const struct pvio_blk_limits *L = &h->dev->limits.blk;
	FZ_ASSERT(L->block_size >= 512 && L->block_size <= 4096 &&
		  !(L->block_size & (L->block_size - 1)) &&
		  L->capacity % L->block_size == 0 && L->max_segments >= 1 &&
		  L->max_segment_size == 4096 &&
		  L->max_transfer == L->max_segments * 4096u &&
		  L->max_queues >= 1 && L->queue_size >= 1,
		  "limits: bs %u cap %llu segs %u xfer %u queues %u qsize %u",
		  L->block_size, (unsigned long long)L->capacity, L->max_segments,
		  L->max_transfer, L->max_queues, L->queue_size);
	h->nq = L->max_queues < MAXQ ? L->max_queues : MAXQ;
	h->max_segs = L->max_segments < 64 ? L->max_segments : 64;
	struct pvio_dev_config dc = { .num_queues = h->nq, .max_tags = h->tags };
	r = pvio_dev_configure(h->dev, &dc);
	fz_note("configure: %d %s", r, r < 0 ? pvio_errmsg(h->ctx) : "");
	if (r < 0) {
		FZ_ASSERT(*pvio_errmsg(h->ctx), "configure failed without a "
			  "message");
		goto close;
	}
	h->xs_answered = h->x.answered;
	for (unsigned q = 0; q < h->nq; q++)
		for (uint32_t t = 0; t < h->tags; t++) {
			h->t[q][t].buf = pvio_dma_alloc(h->ctx,
						       (size_t)h->max_segs * 4096,
						       4096);
			FZ_ASSERT(h->t[q][t].buf, "dma");
		}
	/* the shadow starts as the model's disk: zeros */
	bool own = c1 & 0x80; /* this harness answers, not the model */

	for (unsigned step = 0; step < 200 && fz_left(&f); step++) {
		uint8_t op = fz_u8(&f);
		unsigned qi = fz_below(&f, h->nq);
		switch (op & 7) {
		case 0:
		case 1:
			submit(h);
			break;
		case 2:
			kick(h, qi);
			break;
		case 3:
			if (own || (op & 0x80))
				own_process(h, qi);
			else
				model_process(h, qi);
			break;
		case 4:
			reap(h, qi);
			break;
		case 5:
			if ((op & 0xf0) == 0xf0)
				hostile(h, qi);
			else if ((op & 0xf0) == 0xe0)
				h->dev->ops->queue_arm(h->dev, qi);
			else if ((op & 0xf0) == 0xd0)
				h->dev->ops->queue_disarm(h->dev, qi);
			break;
		case 6:
			if ((op & 0xf0) == 0xf0) {
				/* the back end closes the device */
				char p[160];
				snprintf(p, sizeof(p), "%s/state",
					 h->x.fx->blk->be);
				fx_write(h->x.fx, p, op & 8 ? "5" : "6");
				h->lazy = true;
			} else if ((op & 0xf0) == 0xe0) {
				/* a new size */
				char p[160];
				snprintf(p, sizeof(p), "%s/sectors",
					 h->x.fx->blk->be);
				fx_printf(h->x.fx, p, "%u", fz_u16(&f));
				snprintf(p, sizeof(p), "%s/state",
					 h->x.fx->blk->be);
				fx_write(h->x.fx, p, "4");
			}
			h->dev->ops->service(h->dev);
			break;
		default:
			if ((op & 0xf0) == 0xf0) {
				r = h->dev->ops->quiesce(h->dev);
				if (r < 0)
					h->lazy = true;
			} else {
				struct pvio_event ev;
				while (pvio_dev_next_event(h->dev, &ev) > 0)
					;
			}
			break;
		}
		check_honest(h);
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
	for (unsigned v = 0; v < 8; v++) {
		uint8_t c0 = (uint8_t)(((v & 1) ? 1 : 0) | 3 << 2 | 2 << 5);
		uint8_t c1 = (uint8_t)(1 | 4 | 16 | (v & 2 ? 2 : 0) |
				       (v & 4 ? 0x80 : 0));
		fzb_u8(&b, c0);
		fzb_u8(&b, c1);
		fzb_u16(&b, 0);             /* no fuzzed keys */
		fzb_u16(&b, 2000);          /* sectors */
		fzb_u8(&b, (uint8_t)(2 | 4 | 8 | (v & 2 ? 16 : 0))); /* opts */
		fzb_u8(&b, 3);              /* 4 tags */
		for (unsigned round = 0; round < 10; round++) {
			for (unsigned k = 0; k < 3; k++) {
				fzb_u8(&b, 0);      /* submit */
				fzb_u8(&b, 0);      /* q */
				fzb_u8(&b, 0);      /* q */
				fzb_u8(&b, (uint8_t)k);   /* tag */
				fzb_u8(&b, (uint8_t)((round + k) % 4)); /* op */
				fzb_u8(&b, (uint8_t)k);   /* pieces - 1 */
				for (unsigned i = 0; i <= k; i++) {
					fzb_u8(&b, 0);
					fzb_u8(&b, 7);
				}
				fzb_u32(&b, round * 13 + k);
				fzb_u32(&b, 5);
			}
			fzb_u8(&b, 2);              /* kick */
			fzb_u8(&b, 0);
			fzb_u8(&b, 3);              /* back end */
			fzb_u8(&b, 0);
			for (int i = 0; i < 8; i++)
				fzb_u8(&b, 0);
			fzb_u8(&b, 4);              /* reap */
			fzb_u8(&b, 0);
		}
		char name[32];
		snprintf(name, sizeof(name), "blk-%u", v);
		fzb_emit(&b, emit, arg, name);
	}
	fzb_free(&b);
}
