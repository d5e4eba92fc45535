/* SPDX-License-Identifier: MIT */
/*
 * sim/xen/blkback.c - a block back end that behaves like Linux xen-blkback
 * (drivers/block/xen-blkback, 6.1), serving a file or block device.
 *
 * XenBus: at probe it publishes feature-max-indirect-segments (256),
 * multi-queue-max-queues and max-ring-page-order and goes InitWait.  On
 * front end Initialised or Connected it reads protocol, feature-persistent,
 * multi-queue-num-queues, ring-page-order (+ring-refN) or ring-ref and
 * event-channel (per queue-N when several queues), maps the ring pages and
 * binds the event channel, then publishes feature-flush-cache,
 * feature-discard (+discard-granularity, -alignment, -secure),
 * feature-barrier, feature-persistent, sectors (512-byte units), info,
 * sector-size and physical-sector-size in one transaction and goes
 * Connected.  Front Closing -> Closing (optionally after a delay: Linux
 * takes ~5 s), front Closed -> disconnect and Closed, and if `online` is 0
 * the device goes away; front Initialising after Closed -> InitWait again.
 * Any other front state is fatal ("saw state N at frontend").
 *
 * Requests are validated as dispatch_rw_block_io() does: indirect only for
 * READ/WRITE, 1..11 segments (0 only for a flush), 1..256 indirect ones,
 * last_sect <= 7 and first <= last, no write to a read-only disk, nothing
 * past the end, sector_number and each segment a multiple of the logical
 * block size, every grant mappable with the access the operation needs
 * (writable for READ; always writable with persistent grants, which stay
 * mapped until disconnect).  Failures answer BLKIF_RSP_ERROR, unknown
 * operations BLKIF_RSP_EOPNOTSUPP.  A front end that publishes more
 * requests than the ring holds gets its ring halted, as Linux does.
 * Responses are pushed with RING_PUSH_RESPONSES_AND_CHECK_NOTIFY and the
 * loop ends with RING_FINAL_CHECK_FOR_REQUESTS.
 *
 * Faults (ctl): responses delayed, dropped or corrupted; Closing on
 * demand; the slow Closing.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sxen.h"

#define BB_MAX_QUEUES 16
#define BB_MAX_INDIRECT 256u
#define BB_MAX_PGRANTS 1056u
#define PG_HASH 2048u
#define UNPLUG_TIMEOUT_MS 10000u

struct pgnt {
	uint32_t ref;
	bool used;
	uint8_t *page;
};

struct dresp {
	uint64_t id;
	uint8_t op;
	int16_t st;
	uint64_t due;
};

struct mseg {
	uint32_t ref;
	uint8_t first, last;
	uint8_t *page;
	bool mapped, persistent, write;
};

struct bstats {
	uint64_t reqs, rd, wr, flush, barrier, discard, indirect, other;
	uint64_t err, eopnotsupp, sect_rd, sect_wr;
	uint64_t notify, suppressed, kicks, spurious;
	uint64_t dropped, corrupted, delayed;
};

struct blkring {
	struct sxen_blkback *bb;
	unsigned idx;
	bool mapped, halted, bound, jump;
	struct sxen_ring r;
	uint32_t refs[16];
	uint32_t nrefs;
	uint32_t port, gen;
	struct pgnt *pg;
	uint32_t npg;
	struct dresp *dq;
	uint32_t dq_head, dq_n;
	uint64_t timer;
	struct mseg seg[BB_MAX_INDIRECT];
	struct bstats st;
};

struct sxen_blkback {
	struct sxen_xbdev xb;
	struct sxen_vbd_cfg *cfg;
	struct sxen_domain *dom;
	unsigned nrings;
	struct blkring ring[BB_MAX_QUEUES];
	bool persistent;
	uint64_t closing_timer;
	uint64_t unplug_timer;
	uint64_t sectors;
};

static void ring_process(struct blkring *q, bool kicked);

struct sxen_domain *sxen_blkback_domain(struct sxen_blkback *bb)
{
	return bb->dom;
}

static uint64_t image_bytes(struct sxen_vbd_cfg *cfg)
{
	struct stat st;
	if (fstat(cfg->fd, &st) < 0)
		return 0;
	if (S_ISBLK(st.st_mode)) {
		uint64_t b = 0;
		if (ioctl(cfg->fd, BLKGETSIZE64, &b) < 0)
			return 0;
		return b;
	}
	return (uint64_t)st.st_size;
}

/* ------------------------------------------------------------ grants */

static struct pgnt *pg_slot(struct blkring *q, uint32_t ref, bool insert)
{
	uint32_t h = (ref * 2654435761u) & (PG_HASH - 1);
	for (uint32_t i = 0; i < PG_HASH; i++, h = (h + 1) & (PG_HASH - 1)) {
		struct pgnt *e = &q->pg[h];
		if (e->used && e->ref == ref)
			return e;
		if (!e->used)
			return insert ? e : NULL;
	}
	return NULL;
}

static int map_seg(struct blkring *q, struct mseg *m, bool need_write)
{
	struct sxen_blkback *bb = q->bb;
	m->persistent = false;
	if (bb->persistent && q->pg) {
		struct pgnt *e = pg_slot(q, m->ref, false);
		if (e) {
			m->page = e->page;
			m->persistent = m->mapped = true;
			return 0;
		}
		/* persistent grants are always mapped writable */
		int r = sxen_gnt_map(bb->dom, m->ref, true, &m->page);
		if (r)
			return r;
		m->write = m->mapped = true;
		if (q->npg < BB_MAX_PGRANTS) {
			e = pg_slot(q, m->ref, true);
			if (e) {
				e->used = true;
				e->ref = m->ref;
				e->page = m->page;
				q->npg++;
				m->persistent = true;
			}
		}
		return 0;
	}
	m->write = need_write;
	int r = sxen_gnt_map(bb->dom, m->ref, need_write, &m->page);
	m->mapped = !r;
	return r;
}

static void unmap_seg(struct blkring *q, struct mseg *m)
{
	if (m->mapped && !m->persistent)
		sxen_gnt_unmap(q->bb->dom, m->ref, m->write);
	m->mapped = false;
}

/* ------------------------------------------------------------ responses */

static void write_response(struct blkring *q, uint64_t id, uint8_t op,
			   int16_t st)
{
	struct sxen_faults *f = &q->bb->cfg->f;
	struct sxen_blkif_response rsp = { .id = id, .operation = op,
					   .status = st };
	if (f->corrupt) {
		if (f->corrupt & SXEN_CORRUPT_ID)
			rsp.id = ~id;
		if (f->corrupt & SXEN_CORRUPT_STATUS)
			rsp.status = 0x77;
		if (f->corrupt & SXEN_CORRUPT_OP)
			rsp.operation = 0xee;
		if (f->corrupt & SXEN_CORRUPT_RSP_PROD)
			q->jump = true;
		f->corrupt = 0;
		q->st.corrupted++;
	}
	sxen_ring_put(&q->r, q->r.rsp_prod_pvt, &rsp, sizeof(rsp));
	q->r.rsp_prod_pvt++;
}

static void push(struct blkring *q)
{
	if (!q->mapped)
		return;
	bool notify = sxen_ring_push_responses(&q->r);
	if (q->jump) {
		/* corrupt: rsp_prod runs past anything the front end queued */
		sxen_ring_set_rsp_prod(&q->r, q->r.rsp_prod_pvt + q->r.nr_ents + 5);
		q->jump = false;
		notify = true;
	}
	if (!notify) {
		q->st.suppressed++;
		return;
	}
	if (sxen_evtchn_notify(q->bb->dom, q->port, q->gen))
		q->st.notify++;
}

static void delay_fire(struct sim_loop *l, void *arg);

static void arm_delay(struct blkring *q)
{
	if (q->timer || !q->dq_n)
		return;
	uint64_t now = sim_now_ns(), due = q->dq[q->dq_head].due;
	q->timer = sim_loop_timer(q->bb->xb.h->loop, due > now ? due - now : 0,
				  delay_fire, q);
}

static void flush_delayed(struct blkring *q, bool all)
{
	uint64_t now = sim_now_ns();
	bool any = false;
	while (q->dq_n && (all || q->dq[q->dq_head].due <= now)) {
		struct dresp *d = &q->dq[q->dq_head];
		write_response(q, d->id, d->op, d->st);
		q->dq_head = (q->dq_head + 1) % q->r.nr_ents;
		q->dq_n--;
		any = true;
	}
	if (any)
		push(q);
}

static void delay_fire(struct sim_loop *l, void *arg)
{
	struct blkring *q = arg;
	(void)l;
	q->timer = 0;
	flush_delayed(q, false);
	arm_delay(q);
	/* requests may have waited for ring space */
	ring_process(q, false);
}

static void make_response(struct blkring *q, uint64_t id, uint8_t op,
			  int16_t st)
{
	struct sxen_faults *f = &q->bb->cfg->f;
	if (st == SBLK_RSP_ERROR)
		q->st.err++;
	else if (st == SBLK_RSP_EOPNOTSUPP)
		q->st.eopnotsupp++;
	if (f->drop) {
		f->drop--;
		q->st.dropped++;
		return;
	}
	if (f->delay_ms || q->dq_n) {
		/* keep order behind responses already held back */
		if (q->dq_n >= q->r.nr_ents) {
			flush_delayed(q, true);
		}
		uint32_t tail = (q->dq_head + q->dq_n) % q->r.nr_ents;
		q->dq[tail] = (struct dresp){ id, op, st,
					      sim_now_ns() +
						      (uint64_t)f->delay_ms * 1000000u };
		q->dq_n++;
		q->st.delayed++;
		arm_delay(q);
		return;
	}
	write_response(q, id, op, st);
}

/* ------------------------------------------------------------ I/O */

static int io_full(int fd, uint8_t *buf, size_t len, uint64_t off, bool wr)
{
	while (len) {
		ssize_t n = wr ? pwrite(fd, buf, len, (off_t)off)
			       : pread(fd, buf, len, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0) {
			if (wr)
				return -EIO;
			memset(buf, 0, len); /* past a shrunken end */
			return 0;
		}
		buf += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

static void handle_rw(struct blkring *q, const union sxen_blkif_slot *s)
{
	struct sxen_blkback *bb = q->bb;
	struct sxen_vbd_cfg *cfg = bb->cfg;
	uint8_t op = s->rw.operation;
	uint64_t id = s->rw.id;
	uint8_t rop = op == SBLK_OP_INDIRECT ? s->indirect.indirect_op : op;
	bool flush = false, drain = false;
	uint32_t nseg, nmapped = 0;
	uint64_t sector, nsect = 0;
	int16_t status = SBLK_RSP_OKAY;

	if (op == SBLK_OP_INDIRECT && rop != SBLK_OP_READ && rop != SBLK_OP_WRITE)
		goto fail;
	switch (rop) {
	case SBLK_OP_READ:
		q->st.rd++;
		break;
	case SBLK_OP_WRITE:
		q->st.wr++;
		break;
	case SBLK_OP_WRITE_BARRIER:
		drain = true;
		q->st.barrier++;
		flush = true;
		break;
	case SBLK_OP_FLUSH_DISKCACHE:
		q->st.flush++;
		flush = true;
		break;
	default:
		goto fail;
	}
	if (op == SBLK_OP_INDIRECT) {
		q->st.indirect++;
		nseg = s->indirect.nr_segments;
		sector = s->indirect.sector_number;
	} else {
		nseg = s->rw.nr_segments;
		sector = s->rw.sector_number;
	}
	if ((nseg == 0 && !flush) ||
	    (op != SBLK_OP_INDIRECT && nseg > SBLK_MAX_SEGMENTS) ||
	    (op == SBLK_OP_INDIRECT && nseg > BB_MAX_INDIRECT))
		goto fail;

	if (op == SBLK_OP_INDIRECT) {
		uint32_t pages = (nseg + SBLK_SEGS_PER_INDIRECT_FRAME - 1) /
				 SBLK_SEGS_PER_INDIRECT_FRAME;
		for (uint32_t p = 0; p < pages; p++) {
			struct mseg ind = { .ref = s->indirect.indirect_grefs[p] };
			if (map_seg(q, &ind, false))
				goto fail;
			uint32_t first = p * SBLK_SEGS_PER_INDIRECT_FRAME;
			uint32_t cnt = nseg - first;
			if (cnt > SBLK_SEGS_PER_INDIRECT_FRAME)
				cnt = SBLK_SEGS_PER_INDIRECT_FRAME;
			struct sxen_blkif_segment tmp[SBLK_SEGS_PER_INDIRECT_FRAME];
			memcpy(tmp, ind.page, cnt * sizeof(tmp[0]));
			unmap_seg(q, &ind);
			for (uint32_t i = 0; i < cnt; i++) {
				q->seg[first + i].ref = tmp[i].gref;
				q->seg[first + i].first = tmp[i].first_sect;
				q->seg[first + i].last = tmp[i].last_sect;
			}
		}
	} else {
		for (uint32_t i = 0; i < nseg; i++) {
			q->seg[i].ref = s->rw.seg[i].gref;
			q->seg[i].first = s->rw.seg[i].first_sect;
			q->seg[i].last = s->rw.seg[i].last_sect;
		}
	}
	for (uint32_t i = 0; i < nseg; i++) {
		struct mseg *m = &q->seg[i];
		m->mapped = false;
		if (m->last >= SXEN_PAGE_SIZE / 512 || m->last < m->first)
			goto fail;
		nsect += (uint64_t)(m->last - m->first + 1);
	}
	/* xen_vbd_translate */
	if (rop != SBLK_OP_READ && cfg->ro)
		goto fail;
	if (nsect && (sector + nsect < sector || sector + nsect > bb->sectors))
		goto fail;
	(void)drain; /* nothing is in flight: every request completes here */
	for (uint32_t i = 0; i < nseg; i++) {
		if (map_seg(q, &q->seg[i], rop == SBLK_OP_READ))
			goto fail_unmap;
		nmapped = i + 1;
	}
	uint64_t mask = cfg->sector_size / 512 - 1;
	for (uint32_t i = 0; i < nseg; i++) {
		uint64_t n = (uint64_t)(q->seg[i].last - q->seg[i].first + 1);
		if ((sector | n) & mask)
			goto fail_unmap;
	}
	if (flush && fdatasync(cfg->fd) < 0) {
		status = errno == EINVAL && rop == SBLK_OP_WRITE_BARRIER
				 ? SBLK_RSP_EOPNOTSUPP
				 : SBLK_RSP_ERROR;
		goto done;
	}
	uint64_t off = sector * 512;
	for (uint32_t i = 0; i < nseg; i++) {
		struct mseg *m = &q->seg[i];
		size_t len = (size_t)(m->last - m->first + 1) * 512;
		if (io_full(cfg->fd, m->page + m->first * 512u, len, off,
			    rop != SBLK_OP_READ) < 0) {
			status = SBLK_RSP_ERROR;
			break;
		}
		off += len;
	}
	if (rop == SBLK_OP_READ)
		q->st.sect_rd += nsect;
	else
		q->st.sect_wr += nsect;
done:
	for (uint32_t i = 0; i < nmapped; i++)
		unmap_seg(q, &q->seg[i]);
	make_response(q, id, rop, status);
	return;
fail_unmap:
	for (uint32_t i = 0; i < nmapped; i++)
		unmap_seg(q, &q->seg[i]);
fail:
	make_response(q, id, rop, SBLK_RSP_ERROR);
}

static void handle_discard(struct blkring *q, const union sxen_blkif_slot *s)
{
	struct sxen_vbd_cfg *cfg = q->bb->cfg;
	uint64_t sector = s->discard.sector_number, n = s->discard.nr_sectors;
	int16_t st = SBLK_RSP_OKAY;
	q->st.discard++;
	if (cfg->ro || sector + n < sector || sector + n > q->bb->sectors) {
		st = SBLK_RSP_ERROR;
	} else if (!cfg->discard) {
		st = SBLK_RSP_EOPNOTSUPP;
	} else if ((sector | n) & (cfg->sector_size / 512 - 1)) {
		st = SBLK_RSP_ERROR;
	} else if (n) {
		int r;
		if (cfg->is_blockdev) {
			uint64_t range[2] = { sector * 512, n * 512 };
			r = ioctl(cfg->fd, BLKDISCARD, range) < 0 ? -errno : 0;
		} else {
			r = fallocate(cfg->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				      (off_t)(sector * 512), (off_t)(n * 512)) < 0
				    ? -errno
				    : 0;
		}
		if (r == -EOPNOTSUPP)
			st = SBLK_RSP_EOPNOTSUPP;
		else if (r)
			st = SBLK_RSP_ERROR;
	}
	make_response(q, s->discard.id, SBLK_OP_DISCARD, st);
}

static void handle_request(struct blkring *q, const union sxen_blkif_slot *s)
{
	q->st.reqs++;
	switch (s->rw.operation) {
	case SBLK_OP_READ:
	case SBLK_OP_WRITE:
	case SBLK_OP_WRITE_BARRIER:
	case SBLK_OP_FLUSH_DISKCACHE:
		handle_rw(q, s);
		return;
	case SBLK_OP_INDIRECT:
		if (q->bb->cfg->indirect) {
			handle_rw(q, s);
			return;
		}
		break;
	case SBLK_OP_DISCARD:
		handle_discard(q, s);
		return;
	}
	q->st.other++;
	make_response(q, s->rw.id, s->rw.operation, SBLK_RSP_EOPNOTSUPP);
}

static void ring_process(struct blkring *q, bool kicked)
{
	struct sxen_blkback *bb = q->bb;
	uint64_t before = q->st.reqs;
	if (!q->mapped || q->halted)
		return;
	for (;;) {
		uint32_t rp;
		if (sxen_ring_pending(&q->r, &rp) == UINT32_MAX) {
			sim_log(SIM_LOG_WARN,
				"%s: front end provided bogus ring requests (%u - %u = %u); halting ring %u",
				bb->xb.be, rp, q->r.rsp_prod_pvt,
				rp - q->r.rsp_prod_pvt, q->idx);
			q->halted = true;
			break;
		}
		while (q->r.req_cons != rp) {
			/* RING_REQUEST_CONS_OVERFLOW: no room for a response */
			if (q->r.req_cons - q->r.rsp_prod_pvt >= q->r.nr_ents)
				goto out;
			union sxen_blkif_slot s;
			sxen_ring_get(&q->r, q->r.req_cons, &s, sizeof(s));
			q->r.req_cons++;
			handle_request(q, &s);
		}
		if (!sxen_ring_final_check(&q->r))
			break;
	}
out:
	push(q);
	if (kicked) {
		q->st.kicks++;
		if (q->st.reqs == before)
			q->st.spurious++;
	}
}

static void on_kick(void *arg)
{
	ring_process(arg, true);
}

/* ------------------------------------------------------------ connect */

static void ring_disconnect(struct blkring *q)
{
	struct sxen_blkback *bb = q->bb;
	if (q->timer) {
		sim_loop_cancel(bb->xb.h->loop, q->timer);
		q->timer = 0;
	}
	if (q->mapped && q->dq_n)
		flush_delayed(q, true); /* Linux waits for in-flight I/O */
	if (q->bound)
		sxen_evtchn_unbind(bb->dom, q->port, q->gen);
	q->bound = false;
	for (uint32_t i = 0; i < q->nrefs; i++)
		sxen_gnt_unmap(bb->dom, q->refs[i], true);
	q->nrefs = 0;
	q->mapped = false;
	if (q->pg) {
		for (uint32_t i = 0; i < PG_HASH; i++)
			if (q->pg[i].used)
				sxen_gnt_unmap(bb->dom, q->pg[i].ref, true);
		free(q->pg);
		q->pg = NULL;
	}
	q->npg = 0;
	free(q->dq);
	q->dq = NULL;
	q->dq_n = q->dq_head = 0;
	q->halted = q->jump = false;
}

static void disconnect(struct sxen_blkback *bb)
{
	for (unsigned i = 0; i < bb->nrings; i++)
		ring_disconnect(&bb->ring[i]);
	bb->nrings = 0;
}

static int read_ring(struct sxen_blkback *bb, struct blkring *q,
		     const char *dir)
{
	struct sxen_xbdev *x = &bb->xb;
	unsigned long long v, order;
	uint32_t evtchn, n;
	uint8_t *pages[16];
	int r;

	if (sxen_xb_read_uint(x, dir, "event-channel", &v) || v > UINT32_MAX) {
		sxen_xb_fatal(x, -EINVAL, "reading %s/event-channel", dir);
		return -EINVAL;
	}
	evtchn = (uint32_t)v;
	if (sxen_xb_read_uint(x, x->fe, "ring-page-order", &order)) {
		if (sxen_xb_read_uint(x, dir, "ring-ref", &v) || v > UINT32_MAX) {
			sxen_xb_fatal(x, -EINVAL, "reading %s/ring-ref", dir);
			return -EINVAL;
		}
		q->refs[0] = (uint32_t)v;
		n = 1;
	} else {
		if (order > bb->cfg->max_order) {
			sxen_xb_fatal(x, -EINVAL,
				      "%s/request %llu ring page order exceed max:%u",
				      dir, order, bb->cfg->max_order);
			return -EINVAL;
		}
		n = 1u << order;
		for (uint32_t i = 0; i < n; i++) {
			char key[24];
			snprintf(key, sizeof(key), "ring-ref%u", i);
			if (sxen_xb_read_uint(x, dir, key, &v) || v > UINT32_MAX) {
				sxen_xb_fatal(x, -EINVAL, "reading %s/%s", dir, key);
				return -EINVAL;
			}
			q->refs[i] = (uint32_t)v;
		}
	}
	for (uint32_t i = 0; i < n; i++) {
		r = sxen_gnt_map(bb->dom, q->refs[i], true, &pages[i]);
		if (r) {
			while (i--)
				sxen_gnt_unmap(bb->dom, q->refs[i], true);
			sxen_xb_fatal(x, r, "mapping ring-ref port %u", evtchn);
			return r;
		}
	}
	q->nrefs = n;
	sxen_ring_init(&q->r, pages, n, SBLK_ENTRY_SIZE);
	q->mapped = true;
	q->dq = calloc(q->r.nr_ents, sizeof(*q->dq));
	if (bb->persistent)
		q->pg = calloc(PG_HASH, sizeof(*q->pg));
	if (!q->dq || (bb->persistent && !q->pg)) {
		ring_disconnect(q);
		sxen_xb_fatal(x, -ENOMEM, "allocating ring state");
		return -ENOMEM;
	}
	r = sxen_evtchn_bind(bb->dom, evtchn, on_kick, q, &q->gen);
	if (r) {
		ring_disconnect(q);
		sxen_xb_fatal(x, r, "mapping ring-ref port %u", evtchn);
		return r;
	}
	q->port = evtchn;
	q->bound = true;
	return 0;
}

static int connect_ring(struct sxen_blkback *bb)
{
	struct sxen_xbdev *x = &bb->xb;
	char *proto = sxen_xb_read_str(x, x->fe, "protocol");
	if (proto && strcmp(proto, "x86_64-abi")) {
		if (!strcmp(proto, "x86_32-abi"))
			sxen_xb_fatal(x, -ENOSYS,
				      "fe protocol x86_32-abi is valid but this simulated host only speaks x86_64-abi");
		else
			sxen_xb_fatal(x, -ENOSYS, "unknown fe protocol %s", proto);
		free(proto);
		return -ENOSYS;
	}
	free(proto);
	bb->persistent = bb->cfg->persistent &&
			 sxen_xb_read_uint_def(x, x->fe, "feature-persistent", 0);
	unsigned long long nq = sxen_xb_read_uint_def(x, x->fe,
						      "multi-queue-num-queues", 1);
	if (nq == 0 || nq > bb->cfg->queues) {
		sxen_xb_fatal(x, -ENOSYS,
			      "guest requested %llu queues, exceeding the maximum of %u.",
			      nq, bb->cfg->queues);
		return -ENOSYS;
	}
	bb->nrings = (unsigned)nq;
	for (unsigned i = 0; i < bb->nrings; i++) {
		struct blkring *q = &bb->ring[i];
		struct bstats keep = q->st;
		memset(q, 0, sizeof(*q));
		q->st = keep;
		q->bb = bb;
		q->idx = i;
	}
	sim_log(SIM_LOG_INFO, "%s: using %u queue%s, protocol x86_64-abi%s",
		x->be, bb->nrings, bb->nrings > 1 ? "s" : "",
		bb->persistent ? ", persistent grants" : "");
	for (unsigned i = 0; i < bb->nrings; i++) {
		char dir[128];
		if (bb->nrings == 1)
			snprintf(dir, sizeof(dir), "%s", x->fe);
		else
			snprintf(dir, sizeof(dir), "%s/queue-%u", x->fe, i);
		int r = read_ring(bb, &bb->ring[i], dir);
		if (r)
			return r;
	}
	return 0;
}

static void publish_and_connect(struct sxen_blkback *bb)
{
	struct sxen_xbdev *x = &bb->xb;
	struct sxen_vbd_cfg *cfg = bb->cfg;
	bool flush = cfg->flush && !cfg->ro;
	uint32_t tx;
	int r;
	bb->sectors = image_bytes(cfg) / 512;
	do {
		if ((r = sxen_xs_tx_start(x->xs, &tx))) {
			sxen_xb_fatal(x, r, "starting transaction");
			return;
		}
		sxen_xb_printf(x, tx, "feature-flush-cache", "%d", flush);
		if (sxen_xb_read_uint_def(x, x->be, "discard-enable", 1)) {
			bool disc = cfg->discard && !cfg->ro;
			if (disc) {
				sxen_xb_printf(x, tx, "discard-granularity", "%u",
					       cfg->discard_granularity);
				sxen_xb_printf(x, tx, "discard-alignment", "0");
				sxen_xb_printf(x, tx, "discard-secure", "0");
			}
			sxen_xb_printf(x, tx, "feature-discard", "%d", disc);
		}
		sxen_xb_printf(x, tx, "feature-barrier", "%d", flush);
		sxen_xb_printf(x, tx, "feature-persistent", "%d", cfg->persistent);
		sxen_xb_printf(x, tx, "sectors", "%" PRIu64, bb->sectors);
		sxen_xb_printf(x, tx, "info", "%u",
			       (cfg->cdrom ? SBLK_VDISK_CDROM | SBLK_VDISK_REMOVABLE : 0) |
				       (cfg->ro ? SBLK_VDISK_READONLY : 0));
		sxen_xb_printf(x, tx, "sector-size", "%u", cfg->sector_size);
		sxen_xb_printf(x, tx, "physical-sector-size", "%u",
			       cfg->sector_size);
		r = sxen_xs_tx_end(x->xs, tx, true);
	} while (r == -EAGAIN);
	if (r) {
		sxen_xb_fatal(x, r, "ending transaction");
		return;
	}
	sxen_xb_switch(x, SXB_CONNECTED);
	/* requests may already be waiting */
	for (unsigned i = 0; i < bb->nrings; i++)
		ring_process(&bb->ring[i], false);
}

static void remove_device(struct sxen_blkback *bb, bool toolstack_rm);

static void closing_fire(struct sim_loop *l, void *arg)
{
	struct sxen_blkback *bb = arg;
	(void)l;
	bb->closing_timer = 0;
	if (bb->xb.state != SXB_CLOSED)
		sxen_xb_switch(&bb->xb, SXB_CLOSING);
}

static void frontend_changed(struct sxen_xbdev *x, int state)
{
	struct sxen_blkback *bb = x->priv;
	sim_log(SIM_LOG_DEBUG, "%s: front end is %s", x->be,
		sxen_xb_state_name(state));
	switch (state) {
	case SXB_INITIALISING:
		if (x->state == SXB_CLOSED && bb->cfg->suspended) {
			sim_log(SIM_LOG_INFO, "%s: suspended; reconnect after "
					      "resume", x->be);
		} else if (x->state == SXB_CLOSED) {
			sim_log(SIM_LOG_INFO, "%s: prepare for reconnect", x->be);
			sxen_xb_switch(x, SXB_INITWAIT);
		}
		break;
	case SXB_INITIALISED:
	case SXB_CONNECTED:
		if (x->state == SXB_CONNECTED || bb->cfg->suspended)
			break;
		disconnect(bb);
		if (connect_ring(bb)) {
			disconnect(bb);
			break;
		}
		publish_and_connect(bb);
		break;
	case SXB_CLOSING: {
		uint32_t delay = bb->cfg->f.closing_delay_ms;
		if (delay && x->state != SXB_CLOSING && x->state != SXB_CLOSED) {
			if (!bb->closing_timer)
				bb->closing_timer = sim_loop_timer(
					x->h->loop, (uint64_t)delay * 1000000u,
					closing_fire, bb);
			break;
		}
		sxen_xb_switch(x, SXB_CLOSING);
		break;
	}
	case SXB_CLOSED:
		if (bb->closing_timer) {
			sim_loop_cancel(x->h->loop, bb->closing_timer);
			bb->closing_timer = 0;
		}
		disconnect(bb);
		sxen_xb_switch(x, SXB_CLOSED);
		if (sxen_xb_online(x))
			break;
		__attribute__((fallthrough)); /* not online */
	case SXB_UNKNOWN:
		sim_log(SIM_LOG_INFO, "%s: device removed", x->be);
		remove_device(bb, true);
		break;
	default:
		sxen_xb_fatal(x, -EINVAL, "saw state %d at frontend", state);
		break;
	}
}

int sxen_blkback_probe(struct sxen_host *h, struct sxen_domain *d,
		       struct sxen_vbd_cfg *cfg)
{
	struct sxen_blkback *bb = calloc(1, sizeof(*bb));
	if (!bb)
		return -ENOMEM;
	bb->cfg = cfg;
	bb->dom = d;
	int r = sxen_xb_init(&bb->xb, h, d, "vbd", cfg->devid, frontend_changed,
			     NULL, bb);
	if (r) {
		sxen_xb_fini(&bb->xb);
		free(bb);
		return r;
	}
	struct sxen_xbdev *x = &bb->xb;
	if (cfg->indirect)
		sxen_xb_printf(x, 0, "feature-max-indirect-segments", "%u",
			       BB_MAX_INDIRECT);
	sxen_xb_printf(x, 0, "multi-queue-max-queues", "%u", cfg->queues);
	sxen_xb_printf(x, 0, "max-ring-page-order", "%u", cfg->max_order);
	sxen_xb_switch(x, SXB_INITWAIT);
	cfg->bb = bb;
	return 0;
}

static void remove_device(struct sxen_blkback *bb, bool toolstack_rm)
{
	struct sxen_host *h = bb->xb.h;
	struct sxen_domain *d = bb->dom;
	uint32_t devid = bb->cfg->devid;
	if (bb->closing_timer)
		sim_loop_cancel(h->loop, bb->closing_timer);
	if (bb->unplug_timer)
		sim_loop_cancel(h->loop, bb->unplug_timer);
	disconnect(bb);
	sxen_xb_switch(&bb->xb, SXB_CLOSED);
	sxen_xb_fini(&bb->xb);
	bb->cfg->bb = NULL;
	free(bb);
	if (toolstack_rm)
		sxen_device_gone(d, SXEN_KIND_VBD, devid);
}

void sxen_blkback_remove(struct sxen_blkback *bb)
{
	remove_device(bb, false);
}

void sxen_blkback_close(struct sxen_blkback *bb)
{
	sim_log(SIM_LOG_INFO, "%s: closing on request (ctl)", bb->xb.be);
	sxen_xb_switch(&bb->xb, SXB_CLOSING);
}

void sxen_blkback_suspend(struct sxen_blkback *bb)
{
	struct sxen_xbdev *x = &bb->xb;
	sim_log(SIM_LOG_INFO, "%s: suspended (ctl): rings dropped, Closing",
		x->be);
	bb->cfg->suspended = true;
	if (bb->closing_timer) {
		sim_loop_cancel(x->h->loop, bb->closing_timer);
		bb->closing_timer = 0;
	}
	disconnect(bb);
	if (x->state != SXB_CLOSED)
		sxen_xb_switch(x, SXB_CLOSING);
	/* a front end that already closed is answered now */
	if (sxen_xb_fe_state(x) == SXB_CLOSED)
		sxen_xb_switch(x, SXB_CLOSED);
}

void sxen_blkback_resume(struct sxen_blkback *bb)
{
	struct sxen_xbdev *x = &bb->xb;
	sim_log(SIM_LOG_INFO, "%s: resumed (ctl)", x->be);
	/* the front end may be waiting for us already */
	if (x->state == SXB_CLOSED &&
	    sxen_xb_fe_state(x) == SXB_INITIALISING)
		sxen_xb_switch(x, SXB_INITWAIT);
}

static void unplug_fire(struct sim_loop *l, void *arg)
{
	struct sxen_blkback *bb = arg;
	(void)l;
	bb->unplug_timer = 0;
	sim_log(SIM_LOG_WARN, "%s: front end did not close within %u ms; forcing removal",
		bb->xb.be, UNPLUG_TIMEOUT_MS);
	remove_device(bb, true);
}

void sxen_blkback_unplug(struct sxen_blkback *bb)
{
	struct sxen_xbdev *x = &bb->xb;
	sim_log(SIM_LOG_INFO, "%s: unplug requested (online=0, Closing)", x->be);
	sxen_xb_printf(x, 0, "online", "0");
	sxen_xb_switch(x, SXB_CLOSING);
	if (!bb->unplug_timer)
		bb->unplug_timer = sim_loop_timer(x->h->loop,
						  (uint64_t)UNPLUG_TIMEOUT_MS * 1000000u,
						  unplug_fire, bb);
	/* a front end that is already closed is handled now */
	if (sxen_xb_fe_state(x) == SXB_CLOSED)
		frontend_changed(x, SXB_CLOSED);
}

int sxen_blkback_resize(struct sxen_blkback *bb)
{
	struct sxen_xbdev *x = &bb->xb;
	uint32_t tx;
	int r;
	bb->sectors = image_bytes(bb->cfg) / 512;
	do {
		if ((r = sxen_xs_tx_start(x->xs, &tx)))
			return r;
		sxen_xb_printf(x, tx, "sectors", "%" PRIu64, bb->sectors);
		sxen_xb_printf(x, tx, "state", "%d", x->state);
		r = sxen_xs_tx_end(x->xs, tx, true);
	} while (r == -EAGAIN);
	return r;
}

void sxen_blkback_faults_changed(struct sxen_blkback *bb)
{
	if (bb->closing_timer && !bb->cfg->f.closing_delay_ms) {
		/* closing delay switched off: follow the front end now */
		sim_loop_cancel(bb->xb.h->loop, bb->closing_timer);
		bb->closing_timer = 0;
		sxen_xb_switch(&bb->xb, SXB_CLOSING);
	}
	for (unsigned i = 0; i < bb->nrings; i++) {
		struct blkring *q = &bb->ring[i];
		if (q->mapped && !bb->cfg->f.delay_ms && q->dq_n) {
			/* delay switched off: release what is held back now */
			if (q->timer) {
				sim_loop_cancel(bb->xb.h->loop, q->timer);
				q->timer = 0;
			}
			flush_delayed(q, true);
			ring_process(q, false);
		}
	}
}

void sxen_blkback_status(struct sxen_blkback *bb, char *out, size_t len)
{
	size_t off = 0;
#define P(...)                                                            \
	do {                                                              \
		int w_ = snprintf(out + off, len > off ? len - off : 0,    \
				  __VA_ARGS__);                           \
		if (w_ > 0)                                               \
			off += (size_t)w_;                                \
	} while (0)
	P("vbd/%u dom%u %s state=%s fe=%s sectors=%" PRIu64 "%s%s\n",
	  bb->cfg->devid, bb->dom->domid, bb->cfg->path,
	  sxen_xb_state_name(bb->xb.state),
	  sxen_xb_state_name(sxen_xb_fe_state(&bb->xb)), bb->sectors,
	  bb->persistent ? " persistent" : "", bb->cfg->ro ? " ro" : "");
	for (unsigned i = 0; i < bb->nrings; i++) {
		struct blkring *q = &bb->ring[i];
		struct bstats *s = &q->st;
		P("  ring %u: pages=%u slots=%u req_cons=%u rsp_prod=%u%s held=%u pgrants=%u\n",
		  i, q->nrefs, q->r.nr_ents, q->r.req_cons, q->r.rsp_prod_pvt,
		  q->halted ? " HALTED" : "", q->dq_n, q->npg);
		P("    reqs=%" PRIu64 " rd=%" PRIu64 " wr=%" PRIu64 " flush=%" PRIu64
		  " barrier=%" PRIu64 " discard=%" PRIu64 " indirect=%" PRIu64
		  " other=%" PRIu64 " err=%" PRIu64 " eopnotsupp=%" PRIu64 "\n",
		  s->reqs, s->rd, s->wr, s->flush, s->barrier, s->discard,
		  s->indirect, s->other, s->err, s->eopnotsupp);
		P("    notify=%" PRIu64 " suppressed=%" PRIu64 " kicks=%" PRIu64
		  " spurious_kicks=%" PRIu64 " dropped=%" PRIu64
		  " corrupted=%" PRIu64 " delayed=%" PRIu64 "\n",
		  s->notify, s->suppressed, s->kicks, s->spurious, s->dropped,
		  s->corrupted, s->delayed);
	}
#undef P
}
