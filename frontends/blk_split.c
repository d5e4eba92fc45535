/* SPDX-License-Identifier: MIT */
/*
 * frontends/blk_split.c - build one device request ("child") from a user
 * request's cursor, within the device's limits.
 *
 * The rules (transport.h, struct pvio_blk_limits): at most nseg segments
 * of at most mss bytes; every segment's address and length a multiple of
 * align; no segment across a multiple of sb; with vb, segments other than
 * the first start, and segments other than the last end, on a multiple of
 * vb; a child carries whole blocks and at most xfer bytes.
 *
 * Caller buffers that lie in the DMA pool and meet the alignment go to the
 * device as they are (zero-copy).  When they cannot, or when a zero-copy
 * child would not even hold one block (say, many tiny iovecs against a
 * small segment count), the child goes through a bounce buffer: those start
 * on a "unit" (a power of two no larger than mss and sb), so cutting them
 * into unit-sized segments satisfies every rule by construction.
 */
#include "blkfe.h"

/*
 * Walk iov from (ci, coff), appending segments until budget bytes, the
 * segment limit or a rule ends the child.  Returns the bytes taken, whole
 * blocks only (0 if not one block fits); segments in seg[0..*nseg).
 */
static uint64_t build_segs(const pvio_ctx *ctx, const struct fe_bgeo *g,
			   uint32_t mss, const struct pvio_iovec *iov,
			   uint32_t niov, uint32_t ci, size_t coff,
			   uint64_t budget, struct pvio_dseg *seg,
			   uint16_t *nseg)
{
	uint64_t total = 0;
	unsigned ns = 0;
	bool last = false; /* the previous segment must end the child */

	while (total < budget && ci < niov && !last && ns < g->nseg) {
		size_t avail = iov[ci].len - coff;
		if (!avail) {
			ci++;
			coff = 0;
			continue;
		}
		uintptr_t a = (uintptr_t)iov[ci].base + coff;
		if (ns && g->vb && a % g->vb)
			break; /* cannot start a later segment here */
		uint64_t lim = fe_min(fe_min(avail, budget - total), mss);
		if (g->sb)
			lim = fe_min(lim, g->sb - a % g->sb);
		uintptr_t end = a + (uintptr_t)lim;
		if (g->vb && end % g->vb && total + lim < budget) {
			/* A piece cut inside the buffer may end on the
			 * boundary, so the next one can follow; one that runs
			 * to the buffer's end off the boundary ends the
			 * child there. */
			uintptr_t down = end - end % g->vb;
			if (lim < avail && down > a)
				lim = down - a;
			else
				last = true;
		}
		uint64_t da;
		if (pvio_dma_translate(ctx, (void *)a, (size_t)lim, &da) < 0)
			return 0;
		seg[ns++] = (struct pvio_dseg){ (void *)a, da, (uint32_t)lim };
		total += lim;
		coff += (size_t)lim;
	}
	/* whole blocks: trim the tail (a last segment has no end rule) */
	uint64_t excess = total % g->bs;
	total -= excess;
	while (excess && ns) {
		if (seg[ns - 1].len <= excess) {
			excess -= seg[ns - 1].len;
			ns--;
		} else {
			seg[ns - 1].len -= (uint32_t)excess;
			excess = 0;
		}
	}
	*nseg = (uint16_t)ns;
	return total;
}

static void iov_advance(const struct pvio_iovec *iov, uint32_t niov,
			uint32_t *ci, size_t *coff, uint64_t n)
{
	while (n && *ci < niov) {
		size_t avail = iov[*ci].len - *coff;
		if (n < avail) {
			*coff += (size_t)n;
			return;
		}
		n -= avail;
		(*ci)++;
		*coff = 0;
	}
	/* skip empty iovecs so the cursor rests on data */
	while (*ci < niov && iov[*ci].len == *coff) {
		(*ci)++;
		*coff = 0;
	}
}

/* Copy len bytes between buf and the iov starting at (ci, coff). */
static void iov_copy(const struct pvio_iovec *iov, uint32_t niov, uint32_t ci,
		     size_t coff, uint8_t *buf, uint64_t len, bool to_iov)
{
	while (len && ci < niov) {
		size_t n = (size_t)fe_min(iov[ci].len - coff, len);
		uint8_t *p = (uint8_t *)iov[ci].base + coff;
		if (n) {
			if (to_iov)
				memcpy(p, buf, n);
			else
				memcpy(buf, p, n);
		}
		buf += n;
		len -= n;
		ci++;
		coff = 0;
	}
}

bool fe_blk_zc_ok(const pvio_blk *blk, const struct pvio_iovec *iov,
		  unsigned niov)
{
	uint32_t align = blk->geo.align;
	if (blk->flags & PVIO_BLK_ALWAYS_BOUNCE)
		return false;
	for (unsigned i = 0; i < niov; i++) {
		if (!iov[i].len)
			continue;
		if ((uintptr_t)iov[i].base % align || iov[i].len % align ||
		    !pvio_dma_contains(blk->ctx, iov[i].base, iov[i].len))
			return false;
	}
	return true;
}

static uint8_t *bounce_va(const pvio_blk *blk, const struct fe_bq *bq,
			  uint16_t b)
{
	return bq->d.bounce + (size_t)b * blk->geo.bstride;
}

static struct pvio_queue_stats *qstats(pvio_blk *blk, struct fe_bq *bq)
{
	return &blk->dev->stats[bq - blk->q];
}

void fe_blk_copy_back(pvio_blk *blk, struct fe_bq *bq, const struct fe_btag *t,
		      const struct fe_brq *rq)
{
	iov_copy(rq->iov, rq->niov, t->ci, t->coff, bounce_va(blk, bq, t->bounce),
		 t->len, true);
	struct pvio_queue_stats *st = qstats(blk, bq);
	st->copies++;
	st->copy_bytes += t->len;
}

/*
 * Build the next child of rq into the queue's staged slot, taking a tag
 * (and a bounce buffer if needed).  0, or -EAGAIN when none is free; -EIO
 * if no child can be built (cannot happen with limits fe_blk_geo accepted).
 */
int fe_blk_build(pvio_blk *blk, struct fe_bq *bq, struct fe_brq *rq)
{
	struct fe_bdq *d = &bq->d;
	const struct fe_bgeo *g = &blk->geo;
	struct pvio_blk_dreq *r = &d->staged;
	uint64_t rest = rq->len - rq->done;
	uint64_t len = 0;
	uint16_t bounce = FE_NONE;

	if (!d->tag_nfree)
		return -EAGAIN;
	memset(r, 0, sizeof(*r));
	r->tag = d->tag_free[d->tag_nfree - 1];
	r->seg = d->seg;
	r->offset = rq->offset + rq->done;

	if (rq->phase == FE_PH_FLUSH) {
		r->op = PVIO_BLK_OP_FLUSH;
		r->offset = 0;
	} else if (rq->op == PVIO_BLK_OP_DISCARD) {
		r->op = PVIO_BLK_OP_DISCARD;
		len = fe_min(rest, g->max_discard);
	} else if (rq->op == PVIO_BLK_OP_WRITE_ZEROES && g->max_wz) {
		r->op = PVIO_BLK_OP_WRITE_ZEROES;
		len = fe_min(rest, g->max_wz);
	} else if (rq->op == PVIO_BLK_OP_WRITE_ZEROES) {
		/* no native support: write from the shared zeroed buffer */
		struct pvio_iovec z = { blk->zbuf, (size_t)fe_min(rest, g->bsize) };
		r->op = PVIO_BLK_OP_WRITE;
		r->fua = rq->fua && g->fua;
		len = build_segs(blk->ctx, g, g->unit, &z, 1, 0, 0, z.len, d->seg,
				 &r->nseg);
	} else {
		r->op = rq->op;
		r->fua = rq->op == PVIO_BLK_OP_WRITE && rq->fua && g->fua;
		if (rq->zc)
			len = build_segs(blk->ctx, g, g->mss, rq->iov, rq->niov,
					 rq->ci, rq->coff, fe_min(rest, g->xfer),
					 d->seg, &r->nseg);
		if (!len) {
			if (!d->bounce_nfree)
				return -EAGAIN;
			bounce = d->bounce_free[d->bounce_nfree - 1];
			struct pvio_iovec b = { bounce_va(blk, bq, bounce),
						(size_t)fe_min(rest, g->bsize) };
			len = build_segs(blk->ctx, g, g->unit, &b, 1, 0, 0, b.len,
					 d->seg, &r->nseg);
			if (len != b.len)
				return -EIO;
			d->bounce_nfree--;
			if (r->op == PVIO_BLK_OP_WRITE) {
				iov_copy(rq->iov, rq->niov, rq->ci, rq->coff,
					 b.base, len, false);
				struct pvio_queue_stats *st = qstats(blk, bq);
				st->copies++;
				st->copy_bytes += len;
			}
		}
	}
	if (!len && r->op != PVIO_BLK_OP_FLUSH)
		return -EIO;
	r->len = len;

	/* commit: the tag is the child's until it completes */
	struct fe_btag *t = &d->tag[r->tag];
	d->tag_nfree--;
	t->rq = (uint16_t)(rq - bq->rq);
	t->bounce = bounce;
	t->op = r->op;
	t->len = (uint32_t)len;
	t->ci = rq->ci;
	t->coff = rq->coff;
	t->live = false;
	d->staged_valid = true;
	d->nchild++;
	rq->nchild++;
	if (rq->phase == FE_PH_FLUSH) {
		rq->done = 1;
	} else {
		rq->done += len;
		if (rq->op == PVIO_BLK_OP_READ || rq->op == PVIO_BLK_OP_WRITE)
			iov_advance(rq->iov, rq->niov, &rq->ci, &rq->coff, len);
	}
	return 0;
}
