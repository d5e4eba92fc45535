/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_vmbus_blk.c - StorVSC (backends/vmbus/blk.c) against a
 * StorVSP the fuzzer plays.
 *
 * The host (vmfx.c: channels and buffers in DMA memory) reads every VSTOR
 * packet pvio sends and answers it: the initialisation operations with
 * any status and properties (max transfer, channel count, flags); SCSI
 * commands - REPORT LUNS, TEST UNIT READY, INQUIRY and its VPD pages,
 * READ CAPACITY(16), MODE SENSE, READ/WRITE(16), SYNCHRONIZE CACHE, UNMAP
 * - with data written into the guest pages of the GPA range, and an SRB
 * status, SCSI status, sense data and transfer length that are sane or
 * anything; or it holds requests, answers them out of order, twice, with
 * unknown transaction ids, other packet types, short packets, unsolicited
 * ENUMERATE_BUS, raw bytes in the ring.
 *
 * Properties:
 *  - the packets pvio writes are well-formed (the host's ring checks) and
 *    name the LUN and transfer they should;
 *  - a completion names an outstanding request, once; its status is 0
 *    exactly when the host's final answer said the command succeeded
 *    (good status, the whole transfer, or sense NO SENSE/RECOVERED);
 *  - requests within the limits are never refused as invalid;
 *  - an honest host never gets the device marked broken;
 *  - limits after open are sane (block size, transfer, segments).
 */
#include "fuzz.h"
#include "vmfx.h"

#include "backends/vmbus/storvsc.h"

#define TAGS 8u
#define MAXQ 2u
#define DATA (512u * 1024u + 4096u)

enum { T_IDLE, T_OUT };
enum { A_NONE, A_OK, A_FAIL, A_RETRY, A_UNKNOWN };

struct tag {
	uint8_t st;
	uint8_t op;
	uint8_t answer;       /* what the host's last answer for it was */
	uint64_t tid;
	bool tid_known;
};

struct held {
	uint64_t tid;
	uint8_t pkt[1024];
	uint32_t len;
};

struct h {
	struct fz *f;
	pvio_ctx *ctx;
	struct vmfx x;
	pvio_dev *dev;
	unsigned nq;
	uint32_t tags;
	struct tag t[MAXQ][TAGS];
	/* per channel: tags in the order pvio queued them, not yet seen */
	uint32_t fifo[MAXQ][64];
	unsigned fh[MAXQ], fn[MAXQ];
	struct held held[MAXQ][8];
	unsigned nheld[MAXQ];
	uint8_t *data;
	/* transaction ids the host has read and not answered, per channel */
	uint64_t with_host[MAXQ][256];
	unsigned nwith[MAXQ];
	uint64_t blocks;      /* what the host says */
	uint32_t bs;
	bool hostile, lazy, opening;
};

/* ---------------------------------------------------------------- host */

static struct tag *tag_of_tid(struct h *h, unsigned c, uint64_t tid)
{
	for (uint32_t i = 0; i < h->tags; i++)
		if (h->t[c][i].st == T_OUT && h->t[c][i].tid_known &&
		    h->t[c][i].tid == tid)
			return &h->t[c][i];
	return NULL;
}

static void reply(struct h *h, unsigned c, uint64_t tid,
		  const struct vstor_packet *vp)
{
	/* the host no longer holds it */
	for (unsigned i = 0; c < MAXQ && i < h->nwith[c]; i++)
		if (h->with_host[c][i] == tid) {
			h->with_host[c][i] = h->with_host[c][--h->nwith[c]];
			break;
		}
	uint16_t type = VMBUS_PKT_COMP;
	uint32_t len = sizeof(*vp);
	if (fz_u8(h->f) == 0xfe) { /* hostile: another type or a short one */
		h->hostile = true;
		type = fz_u16(h->f);
		len = fz_below(h->f, sizeof(*vp) + 1);
	}
	vmfx_send(&h->x, c, type, 0, tid, vp, len);
}

/* The data-in bytes for a SCSI command, sane unless the fuzzer says. */
static uint32_t scsi_data(struct h *h, const uint8_t *cdb, uint8_t *d,
			  uint32_t cap)
{
	struct fz *f = h->f;
	memset(d, 0, cap);
	uint32_t n = 0;
	switch (cdb[0]) {
	case SCSI_REPORT_LUNS:
		d[3] = 8;        /* one LUN, 0 */
		n = 16;
		break;
	case SCSI_INQUIRY:
		if (!(cdb[1] & 1)) {
			d[4] = 91;
			memcpy(d + 8, "Msft    Virtual Disk    1.0 ", 28);
			n = 96;
		} else if (cdb[2] == 0x00) {
			d[1] = 0x00;
			d[3] = 3;
			d[4] = 0x00;
			d[5] = 0xB0;
			d[6] = 0xB2;
			n = 7;
		} else if (cdb[2] == 0xB0) {
			d[1] = 0xB0;
			d[3] = 0x3c;
			d[10] = 0x08;    /* max transfer 2048 blocks */
			d[23] = 0x80;    /* max unmap blocks */
			d[27] = 1;       /* descriptors */
			d[31] = 8;       /* granularity */
			n = 64;
		} else if (cdb[2] == 0xB2) {
			d[1] = 0xB2;
			d[3] = 4;
			d[5] = 0x80;
			n = 8;
		}
		break;
	case SCSI_SERVICE_ACTION_IN_16: {
		uint64_t last = h->blocks - 1;
		for (int i = 0; i < 8; i++)
			d[i] = (uint8_t)(last >> (56 - 8 * i));
		d[8] = (uint8_t)(h->bs >> 24);
		d[9] = (uint8_t)(h->bs >> 16);
		d[10] = (uint8_t)(h->bs >> 8);
		d[11] = (uint8_t)h->bs;
		d[14] = 0x80;
		n = 32;
		break;
	}
	case SCSI_MODE_SENSE_6:
		d[0] = 3;
		n = 4;
		break;
	default:
		break;
	}
	if (fz_u8(f) >= 0xe0) {
		/* anything: the device's own idea of the data */
		n = fz_below(f, cap + 1);
		fz_bytes(f, d, n);
	}
	return n > cap ? cap : n;
}

/* Copy n bytes into the guest pages of a GPA-direct packet's range. */
static void gpa_write(struct h *h, const uint8_t *pkt, uint32_t hlen,
		      const uint8_t *src, uint32_t n)
{
	if (hlen < 16 + 8 + 8)
		return;
	uint32_t cnt, off;
	memcpy(&cnt, pkt + 24, 4);
	memcpy(&off, pkt + 28, 4);
	if (n > cnt)
		n = cnt;
	uint32_t npfn = (hlen - 32) / 8, done = 0;
	for (uint32_t i = 0; i < npfn && done < n; i++) {
		uint64_t pfn;
		memcpy(&pfn, pkt + 32 + 8 * i, 8);
		uint8_t *va = vmfx_pfn_va(&h->x, pfn);
		FZ_ASSERT(va, "GPA range names page 0x%llx outside guest memory",
			  (unsigned long long)pfn);
		uint32_t po = i == 0 ? off % VMBUS_PAGE : 0;
		uint32_t piece = VMBUS_PAGE - po;
		if (piece > n - done)
			piece = n - done;
		memcpy(va + po, src + done, piece);
		done += piece;
	}
}

/* Answer one EXECUTE_SRB or management packet. */
static void answer(struct h *h, unsigned c, const uint8_t *pkt, uint32_t n)
{
	struct fz *f = h->f;
	struct vmbus_pkt_desc d;
	memcpy(&d, pkt, sizeof(d));
	uint32_t hlen = d.offset8 * 8u;
	struct vstor_packet vp;
	FZ_ASSERT(n >= hlen + sizeof(vp), "VSTOR packet of %u bytes", n - hlen);
	memcpy(&vp, pkt + hlen, sizeof(vp));
	struct vstor_packet rp;
	memset(&rp, 0, sizeof(rp));
	rp.operation = VSTOR_OP_COMPLETE_IO;
	uint8_t k = fz_u8(f);
	if (vp.operation != VSTOR_OP_EXECUTE_SRB) {
		rp.status = k >= 0xf0 ? fz_u32(f) : 0;
		if (vp.operation == VSTOR_OP_QUERY_PROPERTIES) {
			rp.u.props.max_channel_cnt = fz_u8(f) % 20;
			rp.u.props.flags = fz_u8(f) & 1;
			rp.u.props.max_transfer_bytes =
				k & 1 ? fz_u32(f) : 512u * 1024u;
		}
		if (vp.operation == VSTOR_OP_QUERY_PROTOCOL_VERSION &&
		    (k & 0x0e) == 0x0e)
			rp.status = 1; /* not this version */
		reply(h, c, d.trans_id, &rp);
		return;
	}
	struct vstor_srb *s = &vp.u.srb;
	FZ_ASSERT(s->cdb_length && s->cdb_length <= 16, "CDB of %u bytes",
		  s->cdb_length);
	uint8_t cdb[16];
	memcpy(cdb, s->cdb_sense, 16);
	uint32_t want = s->data_transfer_length;
	FZ_ASSERT(!want || d.type == VMBUS_PKT_GPA_DIRECT, "data without a GPA "
		  "range");
	rp.u.srb = *s;
	uint32_t moved = want;
	if (s->data_in == VSTOR_READ && want) {
		uint8_t *buf = malloc(want);
		FZ_ASSERT(buf, "malloc");
		uint32_t dn = want;
		if (cdb[0] == SCSI_READ_16) {
			memset(buf, (int)(d.trans_id * 5), want);
		} else {
			dn = scsi_data(h, cdb, buf, want);
			moved = dn;
		}
		gpa_write(h, pkt, hlen, buf, dn);
		free(buf);
	}
	/* the status: good, or what the fuzzer says */
	uint8_t cls = A_OK;
	rp.u.srb.srb_status = SRB_STATUS_SUCCESS;
	rp.u.srb.scsi_status = SAM_STAT_GOOD;
	if ((k & 0xc0) == 0xc0) {
		rp.u.srb.srb_status = fz_u8(f);
		rp.u.srb.scsi_status = fz_u8(f);
		rp.u.srb.sense_info_length = fz_u8(f);
		fz_bytes(f, rp.u.srb.cdb_sense, VSTOR_SENSE_SIZE);
		if (fz_bool(f)) {
			/* fixed-format sense with a key the fuzzer picks */
			rp.u.srb.srb_status |= SRB_STATUS_AUTOSENSE_VALID;
			rp.u.srb.scsi_status = SAM_STAT_CHECK_CONDITION;
			rp.u.srb.sense_info_length = 18;
			rp.u.srb.cdb_sense[0] = 0x70;
			rp.u.srb.cdb_sense[2] = fz_u8(f) & 0xf;
			rp.u.srb.cdb_sense[7] = 10;
		}
		uint8_t ss = rp.u.srb.srb_status & 0x3f, sc = rp.u.srb.scsi_status;
		cls = A_UNKNOWN;
		if (ss == SRB_STATUS_SUCCESS && sc == SAM_STAT_GOOD)
			cls = A_OK;
		else if (ss != SRB_STATUS_SUCCESS && ss != SRB_STATUS_ABORTED &&
			 sc != SAM_STAT_BUSY && sc != SAM_STAT_TASK_SET_FULL &&
			 sc != SAM_STAT_CHECK_CONDITION &&
			 ss != SRB_STATUS_DATA_OVERRUN)
			cls = A_FAIL;
	}
	if (k & 0x20) {
		moved = fz_u32(f) % (want + 2); /* short (or long) transfer */
		if (moved != want && cls == A_OK && cdb[0] != SCSI_UNMAP &&
		    cdb[0] != SCSI_SYNCHRONIZE_CACHE_10)
			cls = A_FAIL;
	}
	if (k & 0x10)
		rp.status = fz_u32(f) | 1; /* the VSTOR operation failed */
	if (rp.status)
		cls = A_FAIL;
	rp.u.srb.data_transfer_length = moved;
	struct tag *t = tag_of_tid(h, c, d.trans_id);
	if (t)
		t->answer = cls;
	reply(h, c, d.trans_id, &rp);
}

static void hostile(struct h *h, unsigned c)
{
	struct fz *f = h->f;
	h->hostile = true;
	struct vstor_packet rp;
	memset(&rp, 0, sizeof(rp));
	rp.operation = VSTOR_OP_COMPLETE_IO;
	switch (fz_u8(f) % 5) {
	case 0: /* any transaction id */
		reply(h, c, fz_u8(f) ? fz_below(f, 200) : fz_u64(f), &rp);
		break;
	case 1: /* a held request answered twice, with UNIT ATTENTION */
		if (h->nheld[c]) {
			struct held *hd = &h->held[c][0];
			rp.u.srb.srb_status = SRB_STATUS_AUTOSENSE_VALID | 4;
			rp.u.srb.scsi_status = SAM_STAT_CHECK_CONDITION;
			rp.u.srb.sense_info_length = 18;
			rp.u.srb.cdb_sense[0] = 0x70;
			rp.u.srb.cdb_sense[2] = SENSE_UNIT_ATTENTION;
			for (unsigned i = 1 + fz_below(f, 6); i; i--)
				reply(h, c, hd->tid, &rp);
		}
		break;
	case 2: { /* unsolicited: the host rescanned */
		uint32_t op = fz_bool(f) ? VSTOR_OP_ENUMERATE_BUS : fz_u32(f);
		vmfx_send(&h->x, c, VMBUS_PKT_INBAND, 0, 0, &op, 4);
		break;
	}
	case 3: { /* raw packet bytes */
		uint8_t pkt[64];
		fz_bytes(f, pkt, sizeof(pkt));
		vmfx_put(&h->x, c, pkt, 8u * (1 + fz_below(f, 8)));
		break;
	}
	default: /* the write index moves anywhere */
		if (h->x.chans[c].ch)
			hr_set32(h->x.chans[c].rx.hdr + HR_W, fz_u32(f) & ~7u);
		break;
	}
}

static void process(struct vmfx *x, unsigned c, bool waited)
{
	struct h *h = x->arg;
	struct fz *f = h->f;
	uint8_t mode = fz_u8(f);
	if (mode == 0xff && !h->opening) {
		h->lazy = true;
		return;
	}
	if (c >= MAXQ)
		c = 0;
	/* answer held ones, in any order */
	while (h->nheld[c] && fz_u8(f) < 0xc0) {
		unsigned i = fz_below(f, h->nheld[c]);
		struct held hd = h->held[c][i];
		h->held[c][i] = h->held[c][--h->nheld[c]];
		answer(h, c, hd.pkt, hd.len);
	}
	uint64_t seen[64];
	unsigned nseen = 0;
	for (;;) {
		static uint8_t pkt[1u << 19]; /* len8 * 8 at most */
		int n = vmfx_get(x, c, pkt, sizeof(pkt));
		FZ_ASSERT(n >= 0, "pvio wrote a malformed packet on channel %u", c);
		if (!n)
			break;
		struct vmbus_pkt_desc d;
		memcpy(&d, pkt, sizeof(d));
		FZ_ASSERT(d.flags & VMBUS_PKT_FLAG_COMPLETION, "request without "
			  "the completion flag");
		uint32_t hlen = d.offset8 * 8u;
		struct vstor_packet vp;
		FZ_ASSERT((uint32_t)n >= hlen + sizeof(vp), "short VSTOR packet");
		memcpy(&vp, pkt + hlen, sizeof(vp));
		/* pvio sends a request again only after the host answered
		 * it (a retry): never while the host still holds it, and
		 * never twice in what it wrote before it saw any answer */
		for (unsigned i = 0; i < h->nwith[c]; i++)
			FZ_ASSERT(h->with_host[c][i] != d.trans_id,
				  "pvio sent transaction %llu again while the host "
				  "still holds it", (unsigned long long)d.trans_id);
		for (unsigned i = 0; i < nseen; i++)
			FZ_ASSERT(seen[i] != d.trans_id, "pvio wrote transaction "
				  "%llu twice without an answer in between",
				  (unsigned long long)d.trans_id);
		if (nseen < 64)
			seen[nseen++] = d.trans_id;
		if (h->nwith[c] < 256)
			h->with_host[c][h->nwith[c]++] = d.trans_id;
		bool data = vp.operation == VSTOR_OP_EXECUTE_SRB &&
			    (vp.u.srb.cdb_sense[0] == SCSI_READ_16 ||
			     vp.u.srb.cdb_sense[0] == SCSI_WRITE_16 ||
			     vp.u.srb.cdb_sense[0] == SCSI_UNMAP ||
			     vp.u.srb.cdb_sense[0] == SCSI_SYNCHRONIZE_CACHE_10) &&
			    !h->opening;
		if (data) {
			/* learn which tag this transaction id is */
			if (!tag_of_tid(h, c, d.trans_id) && h->fn[c]) {
				uint32_t tag = h->fifo[c][h->fh[c]];
				h->fh[c] = (h->fh[c] + 1) % 64;
				h->fn[c]--;
				h->t[c][tag].tid = d.trans_id;
				h->t[c][tag].tid_known = true;
			}
			if ((fz_u8(f) & 3) == 3 && h->nheld[c] < 8 &&
			    (uint32_t)n <= sizeof(h->held[c][0].pkt)) {
				struct held *hd = &h->held[c][h->nheld[c]++];
				hd->tid = d.trans_id;
				memcpy(hd->pkt, pkt, (size_t)n);
				hd->len = (uint32_t)n;
				continue;
			}
		}
		answer(h, c, pkt, (uint32_t)n);
	}
	if (h->nheld[c] && waited)
		h->lazy = true;
	if ((mode & 0xf0) == 0xf0)
		hostile(h, c);
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
	struct pvio_dseg seg[140];
	struct pvio_blk_dreq r = { .tag = tag, .op = fz_below(f, 4) };
	uint32_t bs = L->block_size;
	uint64_t nblocks = L->capacity / bs;
	if (r.op == PVIO_BLK_OP_READ || r.op == PVIO_BLK_OP_WRITE) {
		if (!nblocks || (r.op == PVIO_BLK_OP_WRITE && L->read_only))
			return;
		uint64_t maxb = L->max_transfer / bs;
		if (maxb > nblocks)
			maxb = nblocks;
		uint64_t nb = 1 + fz_u32(f) % maxb;
		r.len = nb * bs;
		r.offset = (fz_u64(f) % (nblocks - nb + 1)) * bs;
		/* one buffer: the first piece may start inside a page, every
		 * other piece is a whole page (virt_boundary) */
		uint32_t off = (fz_below(f, 8) * 512u) % VMBUS_PAGE;
		uint8_t *p = h->data + off;
		uint64_t left = r.len;
		unsigned n = 0;
		while (left) {
			uint32_t room = VMBUS_PAGE - (uint32_t)((uintptr_t)p % VMBUS_PAGE);
			uint32_t len = left < room ? (uint32_t)left : room;
			seg[n].va = p;
			seg[n].len = len;
			FZ_ASSERT(pvio_dma_translate(h->ctx, p, len,
						     &seg[n].dev_addr) == 0, "dma");
			p += len;
			left -= len;
			n++;
		}
		if (n > L->max_segments)
			return; /* the limits do not allow this buffer shape */
		r.nseg = (uint16_t)n;
		r.seg = seg;
	} else if (r.op == PVIO_BLK_OP_DISCARD) {
		if (!L->discard || L->read_only || !nblocks)
			return;
		uint64_t maxb = L->max_discard / bs;
		if (maxb > nblocks)
			maxb = nblocks;
		if (!maxb)
			return;
		uint64_t nb = 1 + fz_u32(f) % maxb;
		r.len = nb * bs;
		r.offset = (fz_u32(f) % (nblocks - nb + 1)) * bs;
	} else if (!L->flush) {
		return;
	}
	bool usable = pvio_dev_state(h->dev, NULL) == PVIO_DEV_READY;
	int e = h->dev->ops->blk->enqueue(h->dev, qi, &r);
	fz_note("enqueue q%u tag %u op %u len %llu: %d", qi, tag, r.op,
		(unsigned long long)r.len, e);
	if (!usable) {
		FZ_ASSERT(e < 0 && e != -EINVAL, "enqueue on an unusable device: "
			  "%d", e);
		return;
	}
	FZ_ASSERT(e != -EINVAL, "a request within the limits was refused: op %u "
		  "len %llu nseg %u (bs %u xfer %u segs %u)", r.op,
		  (unsigned long long)r.len, r.nseg, bs, L->max_transfer,
		  L->max_segments);
	if (e)
		return;
	t->st = T_OUT;
	t->op = r.op;
	t->answer = A_NONE;
	t->tid_known = false;
	FZ_ASSERT(h->fn[qi] < 64, "fifo");
	h->fifo[qi][(h->fh[qi] + h->fn[qi]++) % 64] = tag;
}

static void reap(struct h *h, unsigned qi)
{
	struct pvio_blk_dcomp out[TAGS + 4];
	int n = h->dev->ops->blk->reap(h->dev, qi, out, TAGS + 4);
	if (n < 0) {
		FZ_ASSERT(pvio_dev_state(h->dev, NULL) != PVIO_DEV_READY,
			  "reap failed (%d) on a working device", n);
		return;
	}
	for (int i = 0; i < n; i++) {
		uint32_t tag = out[i].tag;
		FZ_ASSERT(tag < h->tags && h->t[qi][tag].st == T_OUT,
			  "completion of tag %u, not outstanding", tag);
		struct tag *t = &h->t[qi][tag];
		fz_note("reap q%u tag %u: %d (answer %u)", qi, tag, out[i].status,
			t->answer);
		if (!h->hostile) {
			if (t->answer == A_OK)
				FZ_ASSERT(out[i].status == 0, "tag %u: the host said "
					  "success, status %d", tag, out[i].status);
			if (t->answer == A_FAIL)
				FZ_ASSERT(out[i].status != 0, "tag %u: the host said "
					  "it failed, status 0", tag);
		}
		t->st = T_IDLE;
		t->tid_known = false;
	}
}

static void one(struct fz *f)
{
	struct h *h = calloc(1, sizeof(*h));
	FZ_ASSERT(h, "calloc");
	h->f = f;
	h->ctx = fz_ctx(32u << 20, 50);
	uint8_t c0 = fz_u8(f);
	h->bs = c0 & 1 ? 4096 : 512;
	h->blocks = 1 + fz_below(f, 4096);
	vmfx_init(&h->x, h->ctx, f, &vmbus_guid_storvsc, c0 >> 4 & 3);
	h->x.process = process;
	h->x.arg = h;
	h->tags = 1 + fz_below(f, TAGS);
	struct vmbus_offer offer;
	FZ_ASSERT(h->x.h.ops->find(&h->x.h, &vmbus_guid_storvsc, 0, &offer) == 0,
		  "find");
	h->opening = true;
	int r = vmbus_blk_open(h->ctx, &h->x.h, &offer, "storvsc0",
			       c0 & 2 ? "lun=0" : NULL, &h->dev);
	h->opening = false;
	fz_note("open: %d %s", r, r < 0 ? pvio_errmsg(h->ctx) : "");
	if (r < 0) {
		FZ_ASSERT(*pvio_errmsg(h->ctx), "open failed without a message");
		goto out;
	}
	const struct pvio_blk_limits *L = &h->dev->limits.blk;
	FZ_ASSERT(L->block_size >= 512 && L->block_size <= 65536 &&
		  !(L->block_size & (L->block_size - 1)) &&
		  L->capacity % L->block_size == 0 &&
		  L->max_transfer >= L->block_size && L->max_transfer >= 4096 &&
		  L->max_transfer % L->block_size == 0 &&
		  L->max_segments >= L->max_transfer / 4096 &&
		  L->max_queues >= 1,
		  "limits: bs %u cap %llu xfer %u segs %u queues %u",
		  L->block_size, (unsigned long long)L->capacity,
		  L->max_transfer, L->max_segments, L->max_queues);
	h->nq = L->max_queues < MAXQ ? L->max_queues : MAXQ;
	if (c0 & 4)
		h->nq = 1;
	struct pvio_dev_config cfg = { .num_queues = h->nq, .max_tags = h->tags };
	r = pvio_dev_configure(h->dev, &cfg);
	fz_note("configure: %d %s", r, r < 0 ? pvio_errmsg(h->ctx) : "");
	if (r < 0)
		goto close;
	h->data = pvio_dma_alloc(h->ctx, DATA, VMBUS_PAGE);
	FZ_ASSERT(h->data, "dma");

	for (unsigned step = 0; step < 200 && fz_left(f); step++) {
		uint8_t op = fz_u8(f);
		unsigned qi = fz_below(f, h->nq);
		switch (op & 7) {
		case 0:
		case 1:
			submit(h);
			break;
		case 2:
			h->dev->ops->blk->kick(h->dev, qi);
			break;
		case 3:
		case 4:
			process(&h->x, qi, false);
			break;
		case 5:
			reap(h, qi);
			break;
		case 6:
			if ((op & 0xf0) == 0xf0)
				hostile(h, qi);
			else if ((op & 0xf0) == 0xe0)
				h->dev->ops->queue_arm(h->dev, qi);
			else
				h->dev->ops->service(h->dev);
			break;
		default:
			if ((op & 0xf0) == 0xf0) {
				r = h->dev->ops->quiesce(h->dev);
				(void)r;
				h->lazy = true;
			} else {
				struct pvio_event ev;
				while (pvio_dev_next_event(h->dev, &ev) > 0)
					;
			}
			break;
		}
		const char *why = NULL;
		if (pvio_dev_state(h->dev, &why) == PVIO_DEV_BROKEN)
			FZ_ASSERT(h->hostile || h->lazy, "an honest host got the "
				  "device marked broken: %s", why ? why : "");
	}
close:
	fz_note("state %d: %s", pvio_dev_state(h->dev, NULL), h->dev->reason);
	h->opening = true; /* the host answers the close */
	pvio_dev_close(h->dev);
out:
	fz_ctx_free(h->ctx);
	free(h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	one(&f);
	return 0;
}

void fz_seeds(fz_emit_fn emit, void *arg)
{
	struct fzb b = { 0 };
	for (unsigned v = 0; v < 4; v++) {
		fzb_u8(&b, (uint8_t)((v & 1) | (v & 2 ? 0x10 : 0)));
		fzb_u16(&b, 1000);   /* blocks */
		fzb_u8(&b, 3);       /* tags */
		/* open: the host answers everything sanely */
		for (int i = 0; i < 120; i++)
			fzb_u8(&b, 0);
		for (unsigned round = 0; round < 10; round++) {
			for (unsigned k = 0; k < 3; k++) {
				fzb_u8(&b, 0);          /* submit */
				fzb_u8(&b, 0);
				fzb_u8(&b, 0);
				fzb_u8(&b, (uint8_t)k);
				fzb_u8(&b, (uint8_t)((round + k) % 4));
				fzb_u32(&b, round * 3 + k);
				fzb_u64(&b, round * 11);
				fzb_u8(&b, (uint8_t)k);
			}
			fzb_u8(&b, 2);                  /* kick */
			fzb_u8(&b, 0);
			fzb_u8(&b, 3);                  /* host */
			fzb_u8(&b, 0);
			for (int i = 0; i < 16; i++)
				fzb_u8(&b, 0);
			fzb_u8(&b, 5);                  /* reap */
			fzb_u8(&b, 0);
		}
		char name[16];
		snprintf(name, sizeof(name), "blk-%u", v);
		fzb_emit(&b, emit, arg, name);
	}
	fzb_free(&b);
}
