/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_sim_xen_ring.c - the simulated Xen host's block and
 * network back ends (sim/xen/blkback.c, netback.c, netpkt.c, ring.c,
 * gnttab.c) against a guest whose rings, grant table and xenstore keys
 * the fuzzer writes.
 *
 * Per input the harness builds a host in-process (one vbd on a memfd
 * image, one vif in reflect mode, options picked by the input), creates a
 * domain with a memfd as its memory and a grant table in it, attaches both
 * devices and plays the front ends: it writes their xenstore keys (mostly
 * right, sometimes not) as the toolstack client, sets up the shared rings
 * itself, and then writes requests of any shape - blkif READ/WRITE/
 * barrier/flush/discard/indirect with any segments, sectors and grant
 * references; netif TX packets of any slot layout with extra-info chains,
 * offsets and sizes, built around IPv4/IPv6 TCP/UDP headers so checksum
 * and software GSO run; RX buffers; producer indexes that lie - kicks the
 * event channels, and runs the host's loop until it is idle.  The data
 * pages' grants are of every kind: writable, read-only, for another
 * domain, not permitted, sub-page, naming a frame outside memory, or
 * beyond the table.  Front-end state changes (reconnects, closes) come in
 * between.
 *
 * Properties: no crash, leak or sanitizer report; every response names a
 * request that is outstanding and answers it once; a response says OKAY
 * only if every grant the request used allowed that access (READ needs
 * writable grants, WRITE and TX readable ones, RX writable ones); an RX
 * response fits its page; every published request is answered once the
 * host is idle unless the front end broke the ring (the vif is then
 * disabled - carrier 0 - or the blk ring halted) or the vif's xenstore
 * keys (stale or garbled) made netback connect other queues, rings or
 * ports than the front end meant; pages that no grant lets
 * dom0 write (read-only, refused, or never granted) never change, and the
 * grant table changes only in the GTF_reading/GTF_writing bits; after the
 * devices are detached no grant is still pinned.
 */
#include "fuzz.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#define __XEN_INTERFACE_VERSION__ __XEN_LATEST_INTERFACE_VERSION__
#define xen_mb() __sync_synchronize()
#define xen_rmb() __sync_synchronize()
#define xen_wmb() __sync_synchronize()
#include <xen/xen.h>
#include <xen/grant_table.h>
#include <xen/io/ring.h>
#include <xen/io/blkif.h>
#include <xen/io/netif.h>

#include "xen/sxen.h"

#define PG 4096u
#define NPAGES 64u
#define GFN0 0x10000ull /* guest frame of page 0 */
/* page layout */
#define P_GNT 0u
#define P_BLKR(q, i) (1u + (q) * 4u + (i)) /* 1..8 */
#define P_NETR(q, rx) (9u + (q) * 2u + (rx)) /* 9..12 */
#define P_IND(i) (13u + (i))                 /* 13, 14 */
#define P_DATA(i) (16u + (i))                /* 16..47 */
#define NDATA 32u
#define P_CANARY 48u                         /* 48..63, never granted */
/* grant references */
#define R_BLKR(q, i) (8u + (q) * 4u + (i))
#define R_NETR(q, rx) (16u + (q) * 2u + (rx))
#define R_IND(i) (20u + (i))
#define R_DATA(i) (32u + (i))
#define R_BEYOND 700u /* past the one-frame table (512 entries) */

#define VBD_ID 51712u
#define VIF_ID 0u
#define IMG_BYTES (256u * 1024)

enum kind { K_RW, K_RO, K_DOM, K_NONE, K_FRAME, K_SUB, K_COUNT };

/* what an access through a grant of kind k may do */
static bool k_map(enum kind k, bool write)
{
	return k == K_RW || (k == K_RO && !write);
}

static bool k_copy(enum kind k, bool write)
{
	return k == K_RW || k == K_SUB || (k == K_RO && !write);
}

DEFINE_RING_TYPES(fblk, blkif_request_t, blkif_response_t);

struct breq {
	bool live;
	uint64_t id;
	bool bad; /* some grant did not allow the access */
	bool unk; /* the outcome is not known (data read from a data page) */
};

struct txslot {
	bool live, extra, mcast;
	uint16_t id;
	bool bad;
};

struct rxslot {
	bool live;
	uint16_t id;
	uint32_t ref;
};

struct h {
	struct fz *f;
	struct sxen_host host;
	struct sxen_domain *d;
	int memfd;
	uint8_t *mem;
	uint8_t *shadow;   /* what protected pages and the table must hold */
	bool protect[NPAGES];
	enum kind kind[NDATA];
	bool ref_out[NDATA]; /* data ref i names a frame outside memory */
	uint32_t port_blk[2], port_tx[2], port_rx[2];
	int send_blk[2], send_tx[2], send_rx[2];
	bool persistent;   /* blk negotiated persistent grants */
	/* blk */
	bool blk_up;
	bool blk_model; /* connected with the keys this front end meant */
	unsigned bq, border;
	struct fblk_front_ring br[2];
	bool bhalted[2];
	struct breq breq[2][64];
	uint64_t next_id;
	/* net */
	bool net_up, split;
	bool net_model; /* connected with the keys this front end meant */
	unsigned nq;
	netif_tx_front_ring_t tx[2];
	netif_rx_front_ring_t rx[2];
	bool txbroken[2], rxbroken[2];
	struct txslot txs[2][256];   /* by ring index & 255 */
	struct rxslot rxs[2][256];
	uint16_t next_txid[2], next_rxid[2];
	bool rx_extra_next[2];
	/* for FUZZ_VERBOSE: responses seen (ok, not ok) */
	unsigned nb_ok, nb_err, ntx_ok, ntx_err, nrx_ok, nrx_err, nraw;
};

static uint8_t *page(struct h *h, unsigned p)
{
	return h->mem + (size_t)p * PG;
}

static void xs_set(struct h *h, const char *dir, const char *key,
		   const char *val)
{
	char p[192];
	snprintf(p, sizeof(p), "%s/%s", dir, key);
	sxen_xs_write(h->host.tool, 0, p, val, (uint32_t)strlen(val));
}

static void xs_setu(struct h *h, const char *dir, const char *key,
		    unsigned long long v)
{
	char b[24];
	snprintf(b, sizeof(b), "%llu", v);
	xs_set(h, dir, key, b);
}

static bool xs_is(struct h *h, const char *path, const char *want)
{
	char *v = NULL;
	uint32_t len;
	if (sxen_xs_read(h->host.tool, 0, path, &v, &len))
		return false;
	bool eq = len == strlen(want) && !memcmp(v, want, len);
	free(v);
	return eq;
}

/* Run the host until nothing happens (deferred xenstore work is a zero
 * timer; kicks are eventfds).  Never waits. */
static void run(struct h *h)
{
	int idle = 0;
	for (int i = 0; i < 400 && idle < 3; i++)
		idle = sim_loop_once(h->host.loop, 0) > 0 ? 0 : idle + 1;
}

static void kick(int fd)
{
	if (fd >= 0)
		sim_eventfd_signal(fd);
}

/* ---------------------------------------------------------------- grants */

static void grant(struct h *h, uint32_t ref, uint16_t flags, uint16_t dom,
		  uint32_t frame)
{
	grant_entry_v1_t *g = (grant_entry_v1_t *)(void *)page(h, P_GNT) + ref;
	g->domid = dom;
	g->frame = frame;
	__atomic_store_n(&g->flags, flags, __ATOMIC_RELEASE);
	memcpy(h->shadow + (size_t)P_GNT * PG + ref * 8u, g, 8);
}

static void grant_data(struct h *h, unsigned i, enum kind k)
{
	uint32_t frame = (uint32_t)(GFN0 + P_DATA(i));
	h->kind[i] = k;
	switch (k) {
	case K_RW:
		grant(h, R_DATA(i), GTF_permit_access, 0, frame);
		break;
	case K_RO:
		grant(h, R_DATA(i), GTF_permit_access | GTF_readonly, 0, frame);
		break;
	case K_DOM:
		grant(h, R_DATA(i), GTF_permit_access, 7, frame);
		break;
	case K_NONE:
		grant(h, R_DATA(i), 0, 0, frame);
		break;
	case K_FRAME:
		grant(h, R_DATA(i), GTF_permit_access, 0, 0xfffff000u);
		break;
	default:
		grant(h, R_DATA(i), GTF_permit_access | GTF_sub_page, 0, frame);
		break;
	}
	/* the page is protected unless some access may write it */
	bool was = h->protect[P_DATA(i)];
	h->protect[P_DATA(i)] = !(k == K_RW || k == K_SUB);
	if (h->protect[P_DATA(i)] && !was)
		memcpy(h->shadow + (size_t)P_DATA(i) * PG, page(h, P_DATA(i)), PG);
}

/* The harness writes into guest memory: keep the shadow in step. */
static void gwrite(struct h *h, unsigned p, unsigned off, const void *src,
		   size_t len)
{
	memcpy(page(h, p) + off, src, len);
	if (h->protect[p])
		memcpy(h->shadow + (size_t)p * PG + off, src, len);
}

/* A grant reference for a data access and whether it allows it. */
static uint32_t pick_ref(struct h *h, bool map, bool write, bool *ok,
			 unsigned *pg)
{
	uint8_t b = fz_u8(h->f);
	*pg = 0;
	if (b >= 0xf8) {
		*ok = false;
		switch (b & 7) {
		case 0:
			return R_BEYOND;
		case 1:
			return UINT32_MAX;
		case 2:
			return 0;
		default:
			return 5; /* never granted */
		}
	}
	unsigned i = b % NDATA;
	*pg = P_DATA(i);
	*ok = map ? k_map(h->kind[i], write) : k_copy(h->kind[i], write);
	return R_DATA(i);
}

/* ---------------------------------------------------------------- checks */

static void check_memory(struct h *h)
{
	/* the table: only GTF_reading / GTF_writing may change */
	const uint8_t *t = page(h, P_GNT), *s = h->shadow + (size_t)P_GNT * PG;
	for (unsigned r = 0; r < PG / 8; r++) {
		grant_entry_v1_t a, b;
		memcpy(&a, t + r * 8, 8);
		memcpy(&b, s + r * 8, 8);
		a.flags &= (uint16_t)~(GTF_reading | GTF_writing);
		b.flags &= (uint16_t)~(GTF_reading | GTF_writing);
		FZ_ASSERT(!memcmp(&a, &b, 8), "grant entry %u changed: flags "
			  "0x%x domid %u frame 0x%x", r, a.flags, a.domid,
			  a.frame);
	}
	for (unsigned p = 1; p < NPAGES; p++)
		if (h->protect[p])
			FZ_ASSERT(!memcmp(page(h, p), h->shadow + (size_t)p * PG, PG),
				  "page %u changed, though no grant lets dom0 "
				  "write it", p);
}

/* ---------------------------------------------------------------- blk */

static const char *fe_blk(struct h *h, char *b, size_t n)
{
	snprintf(b, n, "/local/domain/%u/device/vbd/%u", h->d->domid, VBD_ID);
	return b;
}

static const char *be_blk(struct h *h, char *b, size_t n)
{
	snprintf(b, n, "/local/domain/0/backend/vbd/%u/%u", h->d->domid, VBD_ID);
	return b;
}

static bool xs_absent(struct h *h, const char *dir, const char *key)
{
	char p[192], *v = NULL;
	uint32_t len;
	snprintf(p, sizeof(p), "%s/%s", dir, key);
	int r = sxen_xs_read(h->host.tool, 0, p, &v, &len);
	free(v);
	return r == -ENOENT;
}

static bool xs_isu(struct h *h, const char *dir, const char *key,
		   unsigned long long v)
{
	char p[192], b[24];
	snprintf(p, sizeof(p), "%s/%s", dir, key);
	snprintf(b, sizeof(b), "%llu", v);
	return xs_is(h, p, b);
}

/* As net_as_intended() for the vbd: keys of an earlier connection stay
 * (a stale ring-page-order makes blkback read ring-ref0.. and map a ring
 * of another size, a stale multi-queue-num-queues other queues) and the
 * fuzzer may garble one; only a vbd whose keys say exactly what this
 * front end meant is held to its responses and to "every request
 * answered". */
static bool blk_as_intended(struct h *h, const char *fe)
{
	if (h->bq > 1 ? !xs_isu(h, fe, "multi-queue-num-queues", h->bq)
		      : !xs_absent(h, fe, "multi-queue-num-queues") &&
				!xs_isu(h, fe, "multi-queue-num-queues", 1))
		return false;
	if (h->border ? !xs_isu(h, fe, "ring-page-order", h->border)
		      : !xs_absent(h, fe, "ring-page-order"))
		return false;
	char p[192];
	snprintf(p, sizeof(p), "%s/protocol", fe);
	if (!xs_is(h, p, "x86_64-abi"))
		return false;
	for (unsigned q = 0; q < h->bq; q++) {
		char dir[128];
		if (h->bq > 1)
			snprintf(dir, sizeof(dir), "%s/queue-%u", fe, q);
		else
			snprintf(dir, sizeof(dir), "%s", fe);
		if (!xs_isu(h, dir, "event-channel", h->port_blk[q]))
			return false;
		if (!h->border && !xs_isu(h, dir, "ring-ref", R_BLKR(q, 0)))
			return false;
		for (unsigned i = 0; h->border && i < (1u << h->border); i++) {
			char k[24];
			snprintf(k, sizeof(k), "ring-ref%u", i);
			if (!xs_isu(h, dir, k, R_BLKR(q, i)))
				return false;
		}
	}
	return true;
}

/* Write blkfront's keys and go Connected (keys mostly right). */
static void blk_connect(struct h *h)
{
	struct fz *f = h->f;
	char fe[96], be[96], p[160];
	fe_blk(h, fe, sizeof(fe));
	be_blk(h, be, sizeof(be));
	snprintf(p, sizeof(p), "%s/state", be);
	if (!xs_is(h, p, "2")) {
		h->blk_up = false;
		return; /* not InitWait */
	}
	uint8_t c = fz_u8(f);
	h->bq = 1 + (c & 1);
	h->border = c >> 1 & 3;
	if (h->border > 2)
		h->border = 2; /* 4 pages per queue */
	bool hostile = (c & 0xe0) == 0xe0;
	h->persistent = c & 8 && h->host.vbd[0].persistent;
	for (unsigned q = 0; q < h->bq; q++) {
		for (unsigned i = 0; i < (1u << h->border); i++) {
			memset(page(h, P_BLKR(q, i)), 0, PG);
			grant(h, R_BLKR(q, i), GTF_permit_access, 0,
			      (uint32_t)(GFN0 + P_BLKR(q, i)));
		}
		SHARED_RING_INIT((struct fblk_sring *)(void *)page(h, P_BLKR(q, 0)));
		FRONT_RING_INIT(&h->br[q],
				(struct fblk_sring *)(void *)page(h, P_BLKR(q, 0)),
				PG << h->border);
		memset(h->breq[q], 0, sizeof(h->breq[q]));
		h->bhalted[q] = false;
		char dir[128];
		if (h->bq > 1)
			snprintf(dir, sizeof(dir), "%s/queue-%u", fe, q);
		else
			snprintf(dir, sizeof(dir), "%s", fe);
		if (h->border) {
			for (unsigned i = 0; i < (1u << h->border); i++) {
				char k[24];
				snprintf(k, sizeof(k), "ring-ref%u", i);
				xs_setu(h, dir, k, R_BLKR(q, i));
			}
		} else {
			xs_setu(h, dir, "ring-ref", R_BLKR(q, 0));
		}
		xs_setu(h, dir, "event-channel", h->port_blk[q]);
	}
	if (h->border)
		xs_setu(h, fe, "ring-page-order", h->border);
	if (h->bq > 1)
		xs_setu(h, fe, "multi-queue-num-queues", h->bq);
	xs_set(h, fe, "protocol", "x86_64-abi");
	xs_set(h, fe, "feature-persistent", c & 8 ? "1" : "0");
	if (hostile) {
		/* one key that lies */
		static const char *const keys[] = { "ring-ref", "ring-ref0",
						    "event-channel",
						    "ring-page-order",
						    "multi-queue-num-queues",
						    "protocol", "queue-0/ring-ref0",
						    "queue-1/event-channel" };
		char v[24];
		fz_str(f, v, sizeof(v));
		xs_set(h, fe, keys[fz_below(f, 8)], v);
	}
	xs_set(h, fe, "state", c & 16 ? "4" : "3");
	run(h);
	snprintf(p, sizeof(p), "%s/state", be);
	h->blk_up = xs_is(h, p, "4");
	h->blk_model = h->blk_up && blk_as_intended(h, fe);
	fz_note("blk: queues %u order %u persistent %d -> %s", h->bq, h->border,
		h->persistent, !h->blk_up ? "not connected"
		: h->blk_model ? "connected" : "connected, not as meant");
	if (!h->blk_up)
		h->persistent = false;
}

/* Responses are checked only on a ring the back end connected as meant
 * and whose req_prod never lied (blkback, like Linux's, cannot tell
 * unwritten slots within the ring's size from requests, and answers
 * them). */
static void blk_reap(struct h *h, unsigned q)
{
	struct fblk_front_ring *r = &h->br[q];
	if (!h->blk_model || h->bhalted[q])
		return;
	RING_IDX prod = __atomic_load_n(&r->sring->rsp_prod, __ATOMIC_ACQUIRE);
	FZ_ASSERT((RING_IDX)(prod - r->rsp_cons) <= (RING_IDX)(r->req_prod_pvt -
							       r->rsp_cons),
		  "blk rsp_prod %u runs past the requests (%u answered, %u "
		  "queued)", prod, r->rsp_cons, r->req_prod_pvt);
	while (r->rsp_cons != prod) {
		blkif_response_t rsp;
		memcpy(&rsp, RING_GET_RESPONSE(r, r->rsp_cons), sizeof(rsp));
		r->rsp_cons++;
		struct breq *b = &h->breq[q][rsp.id % 64];
		FZ_ASSERT(b->live && b->id == rsp.id, "blk response for id %llu, "
			  "which is not outstanding", (unsigned long long)rsp.id);
		FZ_ASSERT(!(rsp.status == BLKIF_RSP_OKAY && b->bad && !b->unk),
			  "blk request %llu succeeded though a grant it used "
			  "did not allow the access", (unsigned long long)rsp.id);
		b->live = false;
		if (rsp.status == BLKIF_RSP_OKAY)
			h->nb_ok++;
		else
			h->nb_err++;
	}
}

/* One request into queue q's ring (not published). */
static void blk_request(struct h *h, unsigned q)
{
	struct fz *f = h->f;
	struct fblk_front_ring *r = &h->br[q];
	if (RING_FULL(r))
		return;
	uint64_t id = ++h->next_id;
	struct breq *b = &h->breq[q][id % 64];
	if (b->live)
		return;
	union {
		blkif_request_t rw;
		blkif_request_discard_t dc;
		blkif_request_indirect_t ind;
		uint8_t raw[112];
	} u;
	memset(&u, 0, sizeof(u));
	uint8_t c = fz_u8(f);
	uint8_t op;
	bool bad = false, unk = false;
	switch (c & 7) {
	case 0:
	case 1:
		op = BLKIF_OP_READ;
		break;
	case 2:
		op = BLKIF_OP_WRITE;
		break;
	case 3:
		op = c & 8 ? BLKIF_OP_WRITE_BARRIER : BLKIF_OP_FLUSH_DISKCACHE;
		break;
	case 4:
		op = BLKIF_OP_DISCARD;
		break;
	case 5:
		op = BLKIF_OP_INDIRECT;
		break;
	case 6:
		op = fz_u8(f);
		/* built as a read/write; a discard or indirect reads it
		 * differently */
		unk = op == BLKIF_OP_DISCARD || op == BLKIF_OP_INDIRECT;
		break;
	default:
		op = BLKIF_OP_WRITE;
		break;
	}
	uint64_t sector = c & 0x80 ? fz_u64(f) : fz_below(f, 520);
	unsigned sz = h->host.vbd[0].sector_size / 512;
	if (!(c & 0x40))
		sector &= ~(uint64_t)(sz - 1);
	if (op == BLKIF_OP_DISCARD) {
		u.dc.operation = op;
		u.dc.flag = fz_u8(f);
		u.dc.handle = VBD_ID & 0xffff;
		u.dc.id = id;
		u.dc.sector_number = sector;
		u.dc.nr_sectors = c & 0x20 ? fz_u64(f) : fz_below(f, 64);
	} else if (op == BLKIF_OP_INDIRECT) {
		uint8_t iop = fz_u8(f);
		u.ind.operation = op;
		u.ind.indirect_op = iop & 0x80 ? iop : (iop & 1);
		unsigned nseg = fz_below(f, 300);
		u.ind.nr_segments = (uint16_t)nseg;
		u.ind.id = id;
		u.ind.sector_number = sector;
		u.ind.handle = VBD_ID & 0xffff;
		bool read = u.ind.indirect_op == BLKIF_OP_READ;
		unsigned pages = (nseg + 511) / 512;
		for (unsigned p = 0; p < pages && p < 2; p++) {
			uint8_t w = fz_u8(f);
			if (w >= 0xf0) {
				u.ind.indirect_grefs[p] = w == 0xff ? R_BEYOND
								    : R_DATA(w & 15);
				unk = true; /* the segments are elsewhere */
			} else {
				u.ind.indirect_grefs[p] = R_IND(p);
			}
		}
		/* the segments in the indirect pages */
		for (unsigned i = 0; i < nseg && i < 512 * 2; i++) {
			struct blkif_request_segment s;
			bool ok;
			unsigned pg;
			s.gref = pick_ref(h, true, read || h->persistent, &ok, &pg);
			uint8_t fl = fz_u8(f);
			s.first_sect = fl & 15;
			s.last_sect = fl >> 4;
			if (!(fl & 0x88) && s.last_sect < s.first_sect) {
				uint8_t t = s.first_sect;
				s.first_sect = s.last_sect;
				s.last_sect = t;
			}
			bad |= !ok;
			gwrite(h, P_IND(i / 512), (i % 512) * 8u, &s, 8);
		}
		(void)read;
	} else {
		u.rw.operation = op;
		unsigned nseg = c & 0x20 ? fz_u8(f) : fz_below(f, 12);
		u.rw.nr_segments = (uint8_t)nseg;
		u.rw.handle = VBD_ID & 0xffff;
		u.rw.id = id;
		u.rw.sector_number = sector;
		bool read = op == BLKIF_OP_READ;
		for (unsigned i = 0; i < nseg && i < BLKIF_MAX_SEGMENTS_PER_REQUEST; i++) {
			bool ok;
			unsigned pg;
			u.rw.seg[i].gref = pick_ref(h, true, read || h->persistent,
						    &ok, &pg);
			uint8_t fl = fz_u8(f);
			u.rw.seg[i].first_sect = fl & 15;
			u.rw.seg[i].last_sect = fl >> 4;
			if (!(fl & 0x88) && u.rw.seg[i].last_sect < u.rw.seg[i].first_sect) {
				uint8_t t = u.rw.seg[i].first_sect;
				u.rw.seg[i].first_sect = u.rw.seg[i].last_sect;
				u.rw.seg[i].last_sect = t;
			}
			bad |= !ok;
		}
	}
	memcpy(RING_GET_REQUEST(r, r->req_prod_pvt), &u, sizeof(blkif_request_t));
	r->req_prod_pvt++;
	*b = (struct breq){ .live = true, .id = id, .bad = bad, .unk = unk };
}

static void blk_publish(struct h *h, unsigned q, bool lie)
{
	struct fblk_front_ring *r = &h->br[q];
	if (lie) {
		RING_IDX v = r->req_prod_pvt + 1 + fz_u16(h->f);
		__atomic_store_n(&r->sring->req_prod, v, __ATOMIC_RELEASE);
		h->bhalted[q] = true; /* the back end may stop for good */
	} else {
		int notify;
		RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(r, notify);
		(void)notify;
	}
	kick(h->send_blk[q]);
	run(h);
	blk_reap(h, q);
	if (!h->bhalted[q] && h->blk_up && h->blk_model) {
		char be[96], p[160];
		snprintf(p, sizeof(p), "%s/state", be_blk(h, be, sizeof(be)));
		if (xs_is(h, p, "4"))
			FZ_ASSERT(r->rsp_cons == r->req_prod_pvt,
				  "blk: %u requests published, %u answered, "
				  "the host is idle", r->req_prod_pvt,
				  r->rsp_cons);
	}
}

/* ---------------------------------------------------------------- net */

static const char *fe_net(struct h *h, char *b, size_t n)
{
	snprintf(b, n, "/local/domain/%u/device/vif/%u", h->d->domid, VIF_ID);
	return b;
}

static const char *be_net(struct h *h, char *b, size_t n)
{
	snprintf(b, n, "/local/domain/0/backend/vif/%u/%u", h->d->domid, VIF_ID);
	return b;
}

/* Did the back end connect the rings and ports this front end set up?
 * Keys of an earlier connection stay (a 2-queue connection's queue-N/
 * keys, a split connection's event-channel-tx/-rx) and the fuzzer may
 * overwrite a key with garbage; netback reads multi-queue-num-queues and
 * the event channels as Linux does (an unparsable queue count is 1,
 * event-channel-tx/-rx win over event-channel), so it may rightly serve
 * other queues, rings or ports than intended.  Only a connection whose
 * keys say exactly what was meant is held to its responses and to "every
 * request answered"; check_memory holds every connection to the grants. */
static bool net_as_intended(struct h *h, const char *fe)
{
	if (h->nq > 1 ? !xs_isu(h, fe, "multi-queue-num-queues", h->nq)
		      : !xs_absent(h, fe, "multi-queue-num-queues") &&
				!xs_isu(h, fe, "multi-queue-num-queues", 1))
		return false;
	for (unsigned q = 0; q < h->nq; q++) {
		char dir[128];
		if (h->nq > 1)
			snprintf(dir, sizeof(dir), "%s/queue-%u", fe, q);
		else
			snprintf(dir, sizeof(dir), "%s", fe);
		if (!xs_isu(h, dir, "tx-ring-ref", R_NETR(q, 0)) ||
		    !xs_isu(h, dir, "rx-ring-ref", R_NETR(q, 1)))
			return false;
		if (h->split ? !xs_isu(h, dir, "event-channel-tx", h->port_tx[q]) ||
				       !xs_isu(h, dir, "event-channel-rx",
					       h->port_rx[q])
			     : !xs_isu(h, dir, "event-channel", h->port_tx[q]) ||
				       !xs_absent(h, dir, "event-channel-tx") ||
				       !xs_absent(h, dir, "event-channel-rx"))
			return false;
	}
	return true;
}

static void net_connect(struct h *h)
{
	struct fz *f = h->f;
	char fe[96], be[96], p[160];
	fe_net(h, fe, sizeof(fe));
	be_net(h, be, sizeof(be));
	snprintf(p, sizeof(p), "%s/state", be);
	if (!xs_is(h, p, "2")) {
		h->net_up = false;
		return;
	}
	uint8_t c = fz_u8(f);
	h->nq = 1 + (c & 1);
	h->split = c & 2;
	for (unsigned q = 0; q < h->nq; q++) {
		for (unsigned rx = 0; rx < 2; rx++) {
			memset(page(h, P_NETR(q, rx)), 0, PG);
			grant(h, R_NETR(q, rx), GTF_permit_access, 0,
			      (uint32_t)(GFN0 + P_NETR(q, rx)));
		}
		netif_tx_sring_t *ts = (void *)page(h, P_NETR(q, 0));
		netif_rx_sring_t *rs = (void *)page(h, P_NETR(q, 1));
		SHARED_RING_INIT(ts);
		SHARED_RING_INIT(rs);
		FRONT_RING_INIT(&h->tx[q], ts, PG);
		FRONT_RING_INIT(&h->rx[q], rs, PG);
		memset(h->txs[q], 0, sizeof(h->txs[q]));
		memset(h->rxs[q], 0, sizeof(h->rxs[q]));
		h->txbroken[q] = h->rxbroken[q] = false;
		h->rx_extra_next[q] = false;
		char dir[128];
		if (h->nq > 1)
			snprintf(dir, sizeof(dir), "%s/queue-%u", fe, q);
		else
			snprintf(dir, sizeof(dir), "%s", fe);
		xs_setu(h, dir, "tx-ring-ref", R_NETR(q, 0));
		xs_setu(h, dir, "rx-ring-ref", R_NETR(q, 1));
		if (h->split) {
			xs_setu(h, dir, "event-channel-tx", h->port_tx[q]);
			xs_setu(h, dir, "event-channel-rx", h->port_rx[q]);
		} else {
			xs_setu(h, dir, "event-channel", h->port_tx[q]);
		}
	}
	if (h->nq > 1)
		xs_setu(h, fe, "multi-queue-num-queues", h->nq);
	xs_set(h, fe, "request-rx-copy", c & 4 ? "0" : "1");
	xs_set(h, fe, "feature-rx-notify", "1");
	xs_set(h, fe, "feature-sg", c & 8 ? "1" : "0");
	xs_set(h, fe, "feature-gso-tcpv4", c & 16 ? "1" : "0");
	xs_set(h, fe, "feature-gso-tcpv6", c & 32 ? "1" : "0");
	xs_set(h, fe, "feature-no-csum-offload", c & 64 ? "1" : "0");
	xs_set(h, fe, "feature-ipv6-csum-offload", c & 128 ? "1" : "0");
	if (fz_u8(f) >= 0xe0) {
		static const char *const keys[] = { "tx-ring-ref", "rx-ring-ref",
						    "event-channel",
						    "event-channel-tx",
						    "multi-queue-num-queues",
						    "request-rx-copy",
						    "queue-0/tx-ring-ref",
						    "queue-1/event-channel-rx" };
		char v[24];
		fz_str(f, v, sizeof(v));
		xs_set(h, fe, keys[fz_below(f, 8)], v);
	}
	xs_set(h, fe, "state", "4");
	run(h);
	snprintf(p, sizeof(p), "%s/state", be);
	h->net_up = xs_is(h, p, "4");
	h->net_model = h->net_up && net_as_intended(h, fe);
	fz_note("net: queues %u split %d flags 0x%x -> %s", h->nq, h->split, c,
		!h->net_up ? "not connected"
		: h->net_model ? "connected" : "connected, not as meant");
}

static bool net_disabled(struct h *h)
{
	char be[96], p[160];
	snprintf(p, sizeof(p), "%s/carrier", be_net(h, be, sizeof(be)));
	return !xs_is(h, p, "1");
}

/* A ring whose producer index lied (net_publish with lie) is not
 * checked any more: within the ring's size, netback cannot tell slots the
 * front end never filled from requests and rightly answers them (stale or
 * zeroed contents, ids and all), as Linux does; check_memory still holds
 * it to the grants. */
static void net_reap(struct h *h, unsigned q)
{
	netif_tx_front_ring_t *t = &h->tx[q];
	RING_IDX prod;
	if (!h->net_model)
		return;
	if (h->txbroken[q])
		goto rx;
	prod = __atomic_load_n(&t->sring->rsp_prod, __ATOMIC_ACQUIRE);
	FZ_ASSERT((RING_IDX)(prod - t->rsp_cons) <=
			  (RING_IDX)(t->req_prod_pvt - t->rsp_cons),
		  "TX rsp_prod %u runs past the requests", prod);
	while (t->rsp_cons != prod) {
		netif_tx_response_t rsp;
		memcpy(&rsp, RING_GET_RESPONSE(t, t->rsp_cons), sizeof(rsp));
		t->rsp_cons++;
		if (rsp.status == NETIF_RSP_NULL) {
			/* an extra-info slot's (they carry no id) */
			bool found = false;
			for (unsigned i = 0; i < 256 && !found; i++)
				if (h->txs[q][i].live && h->txs[q][i].extra) {
					h->txs[q][i].live = false;
					found = true;
				}
			FZ_ASSERT(found, "a NULL TX response with no extra-info "
				  "slot outstanding");
			continue;
		}
		struct txslot *s = NULL;
		for (unsigned i = 0; i < 256; i++)
			if (h->txs[q][i].live && !h->txs[q][i].extra &&
			    h->txs[q][i].id == rsp.id) {
				s = &h->txs[q][i];
				break;
			}
		FZ_ASSERT(s, "TX response for id %u, which is not outstanding",
			  rsp.id);
		FZ_ASSERT(rsp.status == NETIF_RSP_OKAY ||
				  rsp.status == NETIF_RSP_ERROR ||
				  rsp.status == NETIF_RSP_DROPPED,
			  "TX response status %d", rsp.status);
		FZ_ASSERT(!(rsp.status == NETIF_RSP_OKAY && s->bad && !s->mcast),
			  "TX slot id %u succeeded though its grant did not "
			  "allow reading", rsp.id);
		s->live = false;
		if (rsp.status == NETIF_RSP_OKAY)
			h->ntx_ok++;
		else
			h->ntx_err++;
	}
rx:;
	netif_rx_front_ring_t *r = &h->rx[q];
	if (h->rxbroken[q])
		return;
	prod = __atomic_load_n(&r->sring->rsp_prod, __ATOMIC_ACQUIRE);
	FZ_ASSERT((RING_IDX)(prod - r->rsp_cons) <=
			  (RING_IDX)(r->req_prod_pvt - r->rsp_cons),
		  "RX rsp_prod %u runs past the buffers", prod);
	while (r->rsp_cons != prod) {
		struct rxslot *s = &h->rxs[q][r->rsp_cons & 255];
		uint8_t raw[8];
		memcpy(raw, RING_GET_RESPONSE(r, r->rsp_cons), 8);
		r->rsp_cons++;
		FZ_ASSERT(s->live, "RX response in a slot with no buffer");
		s->live = false;
		if (h->rx_extra_next[q]) {
			struct netif_extra_info ex;
			memcpy(&ex, raw, sizeof(ex));
			h->rx_extra_next[q] = ex.flags & XEN_NETIF_EXTRA_FLAG_MORE;
			FZ_ASSERT(ex.type == XEN_NETIF_EXTRA_TYPE_GSO,
				  "RX extra-info type %u", ex.type);
			continue;
		}
		netif_rx_response_t rsp;
		memcpy(&rsp, raw, sizeof(rsp));
		FZ_ASSERT(rsp.id == s->id, "RX response id %u in the slot of "
			  "buffer %u", rsp.id, s->id);
		h->rx_extra_next[q] = rsp.flags & NETRXF_extra_info;
		if (rsp.status > 0)
			h->nrx_ok++;
		else
			h->nrx_err++;
		if (rsp.status > 0) {
			unsigned i = s->ref - R_DATA(0);
			FZ_ASSERT(s->ref >= R_DATA(0) && i < NDATA &&
					  k_copy(h->kind[i], true),
				  "RX data written through grant %u, which "
				  "does not allow it", s->ref);
			FZ_ASSERT(rsp.offset + (unsigned)rsp.status <= PG,
				  "RX response offset %u status %d beyond the "
				  "page", rsp.offset, rsp.status);
		}
	}
}

static void net_kick(struct h *h, unsigned q, bool rx)
{
	kick(rx && h->split ? h->send_rx[q] : h->send_tx[q]);
	run(h);
	for (unsigned i = 0; i < h->nq; i++)
		net_reap(h, i);
	if (!rx && !h->txbroken[q] && h->net_up && h->net_model) {
		netif_tx_front_ring_t *t = &h->tx[q];
		if (t->rsp_cons != t->req_prod_pvt)
			FZ_ASSERT(net_disabled(h), "TX: %u slots published, %u "
				  "answered, the host is idle and the vif is "
				  "working", t->req_prod_pvt, t->rsp_cons);
	}
}

/* Build a frame into buf: headers of the chosen kind over fuzz bytes. */
static uint32_t build_frame(struct fz *f, uint8_t *buf, uint32_t cap)
{
	uint8_t c = fz_u8(f);
	uint32_t len = 14 + fz_below(f, 3000);
	if (c & 0x80)
		len = fz_below(f, cap + 1);
	if (len > cap)
		len = cap;
	size_t got;
	const uint8_t *src = fz_take(f, 64, &got);
	for (uint32_t i = 0; i < len; i++)
		buf[i] = got ? src[i % got] ^ (uint8_t)(i >> 6) : (uint8_t)i;
	unsigned kind = c & 3;
	bool v6 = c & 4, udp = c & 8;
	if (kind == 0 || len < 14)
		return len;
	buf[12] = v6 ? 0x86 : 0x08;
	buf[13] = v6 ? 0xdd : 0x00;
	uint32_t l3 = 14, l4;
	uint32_t l3len = len - 14;
	if (!v6 && len >= l3 + 20) {
		buf[l3] = kind == 1 ? 0x45 : (uint8_t)(0x40 | (buf[l3] & 15));
		if (kind == 1) {
			buf[l3 + 2] = (uint8_t)(l3len >> 8);
			buf[l3 + 3] = (uint8_t)l3len;
			buf[l3 + 6] = buf[l3 + 7] = 0; /* no fragments */
		}
		buf[l3 + 9] = udp ? 17 : 6;
		l4 = l3 + (buf[l3] & 15) * 4u;
	} else if (v6 && len >= l3 + 40) {
		buf[l3] = 0x60;
		uint32_t pl = l3len - 40;
		if (kind == 1) {
			buf[l3 + 4] = (uint8_t)(pl >> 8);
			buf[l3 + 5] = (uint8_t)pl;
		}
		buf[l3 + 6] = kind == 3 ? buf[l3 + 6] : (udp ? 17 : 6);
		l4 = l3 + 40;
	} else {
		return len;
	}
	if (!udp && len >= l4 + 20 && kind == 1)
		buf[l4 + 12] = 0x50; /* data offset 5 */
	if (udp && len >= l4 + 8 && kind == 1) {
		uint32_t ul = len - l4;
		buf[l4 + 4] = (uint8_t)(ul >> 8);
		buf[l4 + 5] = (uint8_t)ul;
	}
	return len;
}

/* One TX packet: first slot, extra-info slots, more data slots. */
static void net_tx(struct h *h, unsigned q)
{
	struct fz *f = h->f;
	netif_tx_front_ring_t *t = &h->tx[q];
	static uint8_t frame[4 * 4096];
	uint32_t len = build_frame(f, frame, sizeof(frame));
	uint8_t c = fz_u8(f);
	unsigned nextra = c & 0x10 ? 1 + (c >> 6) : 0;
	unsigned nmore = c & 0x20 ? fz_below(f, 22) : (len > 2000 ? 1 : 0);
	if (RING_FREE_REQUESTS(t) < 1 + nextra + nmore)
		return;
	uint16_t flags = (uint16_t)(c & 3); /* csum_blank, data_validated */
	if (nmore)
		flags |= NETTXF_more_data;
	if (nextra)
		flags |= NETTXF_extra_info;
	/* the first slot holds what the others do not */
	uint32_t rest = len, sizes[24];
	for (unsigned i = 0; i < nmore; i++) {
		uint32_t s = c & 8 ? fz_u16(f)
				   : (rest ? fz_below(f, rest > PG ? PG : rest) + (rest > PG ? 1 : 0)
					   : 0);
		if (!(c & 8) && s > rest)
			s = rest;
		sizes[i] = s;
		rest = rest > s ? rest - s : 0;
	}
	uint32_t first_len = rest;
	bool mcast = false;
	RING_IDX idx = t->req_prod_pvt;
	uint32_t off = 0;
	/* first */
	{
		bool ok;
		unsigned pg;
		uint32_t ref = pick_ref(h, false, false, &ok, &pg);
		uint16_t o = (uint16_t)(c & 4 ? fz_u16(f) : fz_below(f, 64));
		if (!(c & 4) && o + (first_len > PG ? PG : first_len) > PG)
			o = 0;
		if (pg && o < PG)
			gwrite(h, pg, o, frame, first_len > PG - o ? PG - o : first_len);
		netif_tx_request_t rq = { .gref = ref, .offset = o, .flags = flags,
					  .id = h->next_txid[q]++, .size = (uint16_t)len };
		memcpy(RING_GET_REQUEST(t, idx), &rq, sizeof(rq));
		h->txs[q][idx & 255] = (struct txslot){ .live = true, .id = rq.id,
							.bad = !ok };
		idx++;
		off = first_len;
	}
	for (unsigned e = 0; e < nextra; e++) {
		struct netif_extra_info ex;
		memset(&ex, 0, sizeof(ex));
		uint8_t k = fz_u8(f);
		ex.type = k < 0xc0 ? XEN_NETIF_EXTRA_TYPE_GSO : (uint8_t)(k & 7);
		ex.flags = e + 1 < nextra ? XEN_NETIF_EXTRA_FLAG_MORE : 0;
		if (ex.type == XEN_NETIF_EXTRA_TYPE_GSO) {
			ex.u.gso.size = k & 1 ? fz_u16(f) : (uint16_t)(500 + fz_below(f, 1000));
			ex.u.gso.type = k & 2 ? (uint8_t)fz_u8(f)
					      : (k & 4 ? XEN_NETIF_GSO_TYPE_TCPV6
						       : XEN_NETIF_GSO_TYPE_TCPV4);
		} else if (ex.type == XEN_NETIF_EXTRA_TYPE_MCAST_ADD ||
			   ex.type == XEN_NETIF_EXTRA_TYPE_MCAST_DEL) {
			mcast = true;
			fz_bytes(f, ex.u.mcast.addr, 6);
		}
		memcpy(RING_GET_REQUEST(t, idx), &ex, sizeof(ex));
		h->txs[q][idx & 255] = (struct txslot){ .live = true, .extra = true };
		idx++;
	}
	h->txs[q][t->req_prod_pvt & 255].mcast = mcast;
	for (unsigned i = 0; i < nmore; i++) {
		bool ok;
		unsigned pg;
		uint32_t ref = pick_ref(h, false, false, &ok, &pg);
		uint16_t o = (uint16_t)(c & 8 ? fz_u16(f) : 0);
		if (pg && o < PG && off < len) {
			uint32_t n = sizes[i];
			if (n > PG - o)
				n = PG - o;
			if (n > len - off)
				n = len - off;
			gwrite(h, pg, o, frame + off, n);
		}
		off += sizes[i];
		netif_tx_request_t rq = {
			.gref = ref, .offset = o,
			.flags = (uint16_t)(i + 1 < nmore ? NETTXF_more_data : 0),
			.id = h->next_txid[q]++, .size = (uint16_t)sizes[i]
		};
		memcpy(RING_GET_REQUEST(t, idx), &rq, sizeof(rq));
		h->txs[q][idx & 255] = (struct txslot){ .live = true, .id = rq.id,
							.bad = !ok };
		idx++;
	}
	t->req_prod_pvt = idx;
}

static void net_rx_post(struct h *h, unsigned q, unsigned n)
{
	netif_rx_front_ring_t *r = &h->rx[q];
	for (unsigned i = 0; i < n && !RING_FULL(r); i++) {
		bool ok;
		unsigned pg;
		uint32_t ref = pick_ref(h, false, true, &ok, &pg);
		netif_rx_request_t rq = { .id = h->next_rxid[q]++, .gref = ref };
		memcpy(RING_GET_REQUEST(r, r->req_prod_pvt), &rq, sizeof(rq));
		h->rxs[q][r->req_prod_pvt & 255] = (struct rxslot){
			.live = true, .id = rq.id, .ref = ref
		};
		r->req_prod_pvt++;
	}
}

static void net_publish(struct h *h, unsigned q, bool rx, bool lie)
{
	if (rx) {
		netif_rx_front_ring_t *r = &h->rx[q];
		if (lie) {
			__atomic_store_n(&r->sring->req_prod,
					 r->req_prod_pvt + 1 + fz_u16(h->f),
					 __ATOMIC_RELEASE);
			h->rxbroken[q] = true;
		} else {
			int n;
			RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(r, n);
			(void)n;
		}
	} else {
		netif_tx_front_ring_t *t = &h->tx[q];
		if (lie) {
			__atomic_store_n(&t->sring->req_prod,
					 t->req_prod_pvt + 1 + fz_u16(h->f),
					 __ATOMIC_RELEASE);
			h->txbroken[q] = true;
		} else {
			int n;
			RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(t, n);
			(void)n;
		}
	}
	net_kick(h, q, rx);
}

/* ---------------------------------------------------------------- frames */

/* The packet helpers directly, on frames of any content. */
static void raw_packets(struct fz *f)
{
	static uint8_t buf[9000];
	uint32_t len = build_frame(f, buf, sizeof(buf));
	uint16_t start = 0, off = 0;
	int l3, l4;
	if (sxen_pkt_csum_setup(buf, len, &start, &off, &l3, &l4) == 0)
		FZ_ASSERT((uint32_t)start + off + 2 <= len && (l3 == 4 || l3 == 6),
			  "checksum at %u+%u in a %u-byte frame", start, off,
			  len);
	uint8_t c = fz_u8(f);
	if (c & 1)
		(void)sxen_pkt_pseudo_csum(buf, len);
	if (c & 2)
		(void)sxen_pkt_csum_complete(buf, len);
	struct sxen_frame *fr = sxen_frame_new(len);
	FZ_ASSERT(fr, "frame");
	memcpy(fr->data, buf, len);
	fr->gso_type = c & 4 ? XEN_NETIF_GSO_TYPE_TCPV6 : XEN_NETIF_GSO_TYPE_TCPV4;
	fr->gso_size = c & 8 ? fz_u16(f) : (uint16_t)(1 + fz_below(f, 2000));
	if (!fr->gso_size)
		fr->gso_size = 1; /* netback refuses 0 before this */
	struct sxen_frame *segs = sxen_pkt_segment(fr);
	unsigned n = 0;
	while (segs) {
		struct sxen_frame *nx = segs->next;
		FZ_ASSERT(segs->len <= len, "a %u-byte segment of a %u-byte "
			  "frame", segs->len, len);
		free(segs);
		segs = nx;
		n++;
	}
	FZ_ASSERT(n <= len, "%u segments of a %u-byte frame", n, len);
	free(fr);
}

/* ---------------------------------------------------------------- main */

/* A front-end state change: the harness stops using the device until
 * it connects again from scratch (rings re-initialised). */
static void set_state(struct h *h, bool blk, const char *st)
{
	char fe[96];
	if (blk) {
		fe_blk(h, fe, sizeof(fe));
		h->blk_up = false;
	} else {
		fe_net(h, fe, sizeof(fe));
		h->net_up = false;
	}
	xs_set(h, fe, "state", st);
	run(h);
}

static void host_init(struct h *h)
{
	struct fz *f = h->f;
	struct sxen_host *x = &h->host;
	memset(x, 0, sizeof(*x));
	x->lfd = -1;
	x->next_domid = 1;
	x->loop = sim_loop_new();
	x->xs = sxen_xs_new();
	x->vbd = calloc(1, sizeof(*x->vbd));
	x->vif = calloc(1, sizeof(*x->vif));
	FZ_ASSERT(x->loop && x->xs && x->vbd && x->vif, "host");
	x->tool = sxen_xs_client_new(x->xs, 0, true, NULL, NULL);
	sxen_xs_set_kick(x->xs, sxen_kick_deferred, x);
	sxen_xs_mkdir(x->tool, 0, "/tool/xenstored");
	sxen_xs_mkdir(x->tool, 0, "/local/domain/0");
	sxen_xs_set_perms_str(x->tool, 0, "/local/domain/0", "n0");
	sxen_xs_mkdir(x->tool, 0, "/local/domain/0/backend");

	uint8_t c = fz_u8(f), c2 = fz_u8(f);
	struct sxen_vbd_cfg *v = &x->vbd[0];
	v->devid = VBD_ID;
	v->path = strdup("fuzz.img");
	v->fd = memfd_create("fuzz-img", MFD_CLOEXEC);
	FZ_ASSERT(v->fd >= 0 && ftruncate(v->fd, IMG_BYTES) == 0, "image");
	v->ro = c & 1;
	v->sector_size = c & 2 ? 4096 : 512;
	v->queues = 2;
	v->max_order = c >> 2 & 3;
	v->persistent = c & 16;
	v->indirect = !(c & 32);
	v->discard = !(c & 64);
	v->flush = !(c & 128);
	v->discard_granularity = v->sector_size;
	x->nvbd = 1;
	struct sxen_vif_cfg *n = &x->vif[0];
	n->devid = VIF_ID;
	memcpy(n->mac, "\x00\x16\x3e\x00\x00\x01", 6);
	n->mtu = c2 & 1 ? 9000 : 1500;
	n->queues = 2;
	n->mode = SXEN_VIF_REFLECT;
	n->split = c2 & 2;
	n->lax_rx_copy = c2 & 4;
	n->link = !(c2 & 8);
	snprintf(n->bridge, sizeof(n->bridge), "br0");
	x->nvif = 1;
}

static void host_fini(struct h *h)
{
	struct sxen_host *x = &h->host;
	while (x->domains)
		sxen_domain_destroy(x->domains);
	sxen_conn_free_all(x);
	sxen_xs_client_free(x->tool);
	sxen_xs_free(x->xs);
	close(x->vbd[0].fd);
	free(x->vbd[0].path);
	free(x->vbd);
	free(x->vif);
	/* timers left (RX polls) go with the loop */
	sim_loop_free(x->loop);
}

static void one(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	struct h *h = calloc(1, sizeof(*h));
	FZ_ASSERT(h, "calloc");
	h->f = &f;
	host_init(h);

	/* the domain: memory, grant table, event channels */
	h->d = sxen_domain_create(&h->host, NULL, "fuzz");
	FZ_ASSERT(h->d, "domain");
	h->memfd = memfd_create("fuzz-guest", MFD_CLOEXEC);
	FZ_ASSERT(h->memfd >= 0 && ftruncate(h->memfd, NPAGES * PG) == 0, "mem");
	h->mem = mmap(NULL, NPAGES * PG, PROT_READ | PROT_WRITE, MAP_SHARED,
		      h->memfd, 0);
	FZ_ASSERT(h->mem != MAP_FAILED, "mmap");
	h->shadow = calloc(NPAGES, PG);
	FZ_ASSERT(h->shadow, "shadow");
	FZ_ASSERT(sim_mem_add(&h->d->mem, GFN0 * PG, NPAGES * PG, h->memfd, 0) == 0,
		  "sim_mem_add");
	uint64_t gfn = GFN0 + P_GNT;
	FZ_ASSERT(sxen_gnt_setup(h->d, &gfn, 1) == 0, "gnttab");
	for (unsigned q = 0; q < 2; q++) {
		int fds[2];
		FZ_ASSERT(sxen_evtchn_alloc(h->d, 0, &h->port_blk[q], fds) == 0, "ev");
		h->send_blk[q] = fds[0];
		FZ_ASSERT(sxen_evtchn_alloc(h->d, 0, &h->port_tx[q], fds) == 0, "ev");
		h->send_tx[q] = fds[0];
		FZ_ASSERT(sxen_evtchn_alloc(h->d, 0, &h->port_rx[q], fds) == 0, "ev");
		h->send_rx[q] = fds[0];
	}
	/* canaries: never granted, never to change */
	for (unsigned p = P_CANARY; p < NPAGES; p++) {
		memset(page(h, p), (int)(0xa0 + p), PG);
		h->protect[p] = true;
	}
	for (unsigned p = P_DATA(0); p < P_DATA(NDATA); p++)
		memset(page(h, p), (int)p, PG);
	memcpy(h->shadow, h->mem, (size_t)NPAGES * PG);
	/* the data grants; the indirect pages */
	for (unsigned i = 0; i < NDATA; i++) {
		uint8_t k = fz_u8(&f);
		grant_data(h, i, k < 0xa0 ? K_RW : (enum kind)(1 + k % (K_COUNT - 1)));
	}
	for (unsigned i = 0; i < 2; i++)
		grant(h, R_IND(i), GTF_permit_access, 0, (uint32_t)(GFN0 + P_IND(i)));

	FZ_ASSERT(sxen_device_attach(h->d, SXEN_KIND_VBD, VBD_ID) == 0, "vbd");
	FZ_ASSERT(sxen_device_attach(h->d, SXEN_KIND_VIF, VIF_ID) == 0, "vif");
	run(h);
	blk_connect(h);
	net_connect(h);
	check_memory(h);

	for (unsigned step = 0; step < 300 && fz_left(&f); step++) {
		uint8_t op = fz_u8(&f);
		fz_note("op 0x%x (%zu left)", op, fz_left(&f));
		unsigned q = (op >> 4) & 1;
		switch (op & 15) {
		case 0:
		case 1:
		case 2:
			if (!h->blk_up || q >= h->bq)
				break;
			for (unsigned k = 0, n = 1 + (op & 3); k < n; k++)
				blk_request(h, q);
			blk_publish(h, q, false);
			break;
		case 3:
			if (h->blk_up && q < h->bq)
				blk_publish(h, q, (op & 0xe0) == 0xe0);
			break;
		case 4:
		case 5:
			if (!h->net_up || q >= h->nq)
				break;
			net_tx(h, q);
			if (op & 0x20)
				net_tx(h, q);
			net_publish(h, q, false, false);
			break;
		case 6:
			if (!h->net_up || q >= h->nq)
				break;
			net_rx_post(h, q, 1 + fz_below(&f, 40));
			net_publish(h, q, true, false);
			break;
		case 7:
			if (h->net_up && q < h->nq && (op & 0xe0) == 0xe0)
				net_publish(h, q, op & 1, true);
			break;
		case 8: /* a data grant changes (not while persistently mapped) */
			if (!h->persistent) {
				unsigned i = fz_below(&f, NDATA);
				grant_data(h, i, (enum kind)fz_below(&f, K_COUNT));
			}
			break;
		case 9: { /* front-end state */
			static const char *const st[] = { "1", "3", "4", "5",
							  "6", "0", "7", "x" };
			bool blk = op & 0x20;
			set_state(h, blk, st[fz_below(&f, 8)]);
			break;
		}
		case 10: /* a full reconnect */
			if (op & 0x20) {
				set_state(h, true, "5");
				set_state(h, true, "6");
				set_state(h, true, "1");
				blk_connect(h);
			} else {
				set_state(h, false, "5");
				set_state(h, false, "6");
				set_state(h, false, "1");
				net_connect(h);
			}
			break;
		case 11:
			raw_packets(&f);
			h->nraw++;
			break;
		default:
			run(h);
			break;
		}
		check_memory(h);
	}

	fz_note("blk %u ok %u failed; tx %u ok %u failed; rx %u ok %u failed; "
		"%u raw frames", h->nb_ok, h->nb_err, h->ntx_ok, h->ntx_err,
		h->nrx_ok, h->nrx_err, h->nraw);
	/* detach: every grant unpinned */
	sxen_device_detach(h->d, SXEN_KIND_VBD, VBD_ID);
	sxen_device_detach(h->d, SXEN_KIND_VIF, VIF_ID);
	run(h);
	check_memory(h);
	FZ_ASSERT(h->d->gt.pins == 0, "%llu grant pins left after both "
		  "devices were detached", (unsigned long long)h->d->gt.pins);
	for (unsigned r = 0; r < PG / 8; r++) {
		grant_entry_v1_t g;
		memcpy(&g, page(h, P_GNT) + r * 8, 8);
		FZ_ASSERT(!(g.flags & (GTF_reading | GTF_writing)),
			  "grant %u still marked in use (flags 0x%x)", r, g.flags);
	}
	host_fini(h);
	munmap(h->mem, NPAGES * PG);
	close(h->memfd);
	free(h->shadow);
	free(h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool inited;
	if (!inited) {
		sim_log_init("fuzz", getenv("FUZZ_LOG") ? SIM_LOG_DEBUG : -1);
		inited = true;
	}
	one(data, size);
	return 0;
}

/* ---------------------------------------------------------------- seeds */

void fz_seeds(fz_emit_fn emit, void *arg)
{
	struct fzb b = { 0 };
	for (unsigned v = 0; v < 6; v++) {
		/* host: rw disk, 512-byte sectors, order <= 2, persistent for
		 * odd v; vif mtu 1500 */
		fzb_u8(&b, (uint8_t)(2 << 2 | (v & 1 ? 16 : 0) | (v == 4 ? 2 : 0)));
		fzb_u8(&b, (uint8_t)(v & 2 ? 2 : 0));
		for (unsigned i = 0; i < NDATA; i++)
			fzb_u8(&b, i < 28 ? 0 : (uint8_t)(0xa0 + i)); /* 4 odd ones */
		/* blk: queues, order, persistent, Connected */
		fzb_u8(&b, (uint8_t)((v & 1) | (v & 2 ? 2 : 0) | 8 | 16));
		/* net: queues, split, sg, gso4/6, csum */
		fzb_u8(&b, (uint8_t)((v & 1) | (v & 2 ? 2 : 0) | 8 | (v & 4 ? 16 : 0)));
		fzb_u8(&b, 0);
		for (unsigned round = 0; round < 6; round++) {
			/* two blk requests: a read of two segments, a write */
			fzb_u8(&b, 1);
			fzb_u8(&b, 0);                   /* read */
			fzb_u16(&b, (uint16_t)(8 * round)); /* sector */
			fzb_u8(&b, 2);                   /* segments */
			fzb_u8(&b, (uint8_t)round);      /* grant */
			fzb_u8(&b, 0x70);                /* sectors 0..7 */
			fzb_u8(&b, (uint8_t)(round + 1));
			fzb_u8(&b, 0x30);
			fzb_u8(&b, 2);                   /* write */
			fzb_u16(&b, (uint16_t)(16 * round));
			fzb_u8(&b, 1);
			fzb_u8(&b, (uint8_t)(round + 2));
			fzb_u8(&b, 0x70);
			if (round == 2) {
				/* indirect read of 20 segments */
				fzb_u8(&b, 0);
				fzb_u8(&b, 5);
				fzb_u16(&b, 64);
				fzb_u8(&b, 0);           /* indirect_op read */
				fzb_u16(&b, 20);
				fzb_u8(&b, 0);           /* our indirect page */
				for (unsigned i = 0; i < 20; i++) {
					fzb_u8(&b, (uint8_t)i);
					fzb_u8(&b, 0x70);
				}
			}
			/* 8 RX buffers, then a frame */
			fzb_u8(&b, 6);
			fzb_u8(&b, 7);
			for (unsigned i = 0; i < 8; i++)
				fzb_u8(&b, (uint8_t)(8 + i));
			fzb_u8(&b, 4);
			/* IPv4/IPv6 TCP/UDP with consistent lengths */
			fzb_u8(&b, (uint8_t)(1 | (round & 1 ? 4 : 0) | (round & 2 ? 8 : 0)));
			fzb_u16(&b, (uint16_t)(60 + 300 * round));
			for (unsigned i = 0; i < 64; i++)
				fzb_u8(&b, (uint8_t)(i * 7 + round));
			/* csum blank; on round 4 a GSO extra (TCP/IPv4) */
			fzb_u8(&b, (uint8_t)(round == 4 ? 0x11 : 1));
			fzb_u8(&b, (uint8_t)(16 + round)); /* first slot grant */
			fzb_u8(&b, 0);                     /* offset */
			if (round == 4) {
				fzb_u8(&b, 0);               /* GSO, size 600 */
				fzb_u16(&b, 100);
			}
			fzb_u8(&b, 11);                    /* packet helpers */
			fzb_u8(&b, 1);
			fzb_u16(&b, 1400);
			for (unsigned i = 0; i < 64; i++)
				fzb_u8(&b, (uint8_t)(i + round));
			fzb_u8(&b, 0);
			fzb_u16(&b, 500);
		}
		if (v >= 4) {
			fzb_u8(&b, 10 | 0x20);          /* reconnect blk */
			fzb_u8(&b, 0x19);
			fzb_u8(&b, 0);
		}
		char name[32];
		snprintf(name, sizeof(name), "ring-%u", v);
		fzb_emit(&b, emit, arg, name);
	}
	fzb_free(&b);
}
