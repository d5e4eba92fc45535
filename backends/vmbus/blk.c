/* SPDX-License-Identifier: MIT */
/*
 * backends/vmbus/blk.c - StorVSC: pvio block requests as VSTOR
 * EXECUTE_SRB packets carrying SCSI READ(16)/WRITE(16)/SYNCHRONIZE
 * CACHE/UNMAP, one GPA-direct range per request.
 *
 * Bring-up (open): open the primary channel, BEGIN_INITIALIZATION,
 * QUERY_PROTOCOL_VERSION 6.2/6.0/5.1, QUERY_PROPERTIES,
 * END_INITIALIZATION, then REPORT LUNS, TEST UNIT READY, INQUIRY,
 * READ CAPACITY(16) and the block-limits/provisioning VPD pages.
 * configure: CREATE_SUB_CHANNELS for more queues.
 *
 * Data path: each queue is a channel; transaction ids are slot numbers of
 * a per-queue table (vmbus_tid), and each slot keeps the packet it sent so
 * a UNIT ATTENTION can be retried without the front end.  Completions are
 * copied out of the ring, their id checked, then their SRB and sense
 * evaluated.
 */
#include "dev.h"
#include "storvsc.h"

#define BLK_QSIZE 128u
#define BLK_MAX_XFER (512u * 1024u)
#define BLK_MAX_PFNS (BLK_MAX_XFER / VMBUS_PAGE + 1)
#define BLK_PKT_MAX (sizeof(struct vmbus_pkt_desc) + \
		     sizeof(struct vmbus_pkt_gpa_hdr) + \
		     sizeof(struct vmbus_range_hdr) + 8 * BLK_MAX_PFNS + \
		     sizeof(struct vstor_packet))
#define BLK_RX_MAX 512u
#define BLK_CTRL_TID (1ull << 32)
#define BLK_MAX_TRIES 5u
#define BLK_TIMEOUT_S 60u

struct blk_slot {
	uint32_t tag;
	uint8_t op;
	uint8_t tries;
	bool retrying;          /* completed, waiting to be sent again */
	uint16_t pktlen;
	uint32_t expect;        /* bytes the request moves */
	uint8_t pkt[BLK_PKT_MAX];
};

struct blkq {
	struct vmbus_chan *ch;
	struct vmbus_tid tid;
	struct blk_slot *slots;
	uint8_t *unmap;         /* DMA: 32 bytes per slot */
	uint64_t unmap_addr;
	uint32_t *retry;
	unsigned nretry;
	/* completions collected by quiesce for reap to return */
	struct pvio_blk_dcomp *done;
	unsigned done_h, done_t;
	uint32_t logged;
	uint8_t rx[BLK_RX_MAX];
};

struct vmbus_blk {
	struct vmbus_dev vd;    /* first: dev->priv is also a vmbus_dev */
	uint16_t version;
	struct vstor_props props;
	uint8_t path, target;
	uint16_t lun;
	uint8_t *ctrl;          /* one DMA page for control commands */
	uint64_t ctrl_addr;
	uint64_t ctrl_seq;
	unsigned nq;
	struct blkq *q;
	bool configured, quiesced;
	int cfg_changed;        /* atomic, set by the data path */
	int lun_gone;           /* atomic */
	char vendor[32];
};

/* ---------------------------------------------------------------- packets */

/* Build an EXECUTE_SRB packet into pkt: inband without data, GPA-direct
 * with one range otherwise.  Returns its length. */
static uint32_t build_srb(struct vmbus_blk *b, uint8_t *pkt, uint64_t id,
			  const uint8_t *cdb, unsigned cdblen, uint8_t data_in,
			  uint32_t len, uint32_t first_off, const uint64_t *pfn,
			  uint32_t npfn)
{
	struct vstor_packet vp;
	memset(&vp, 0, sizeof(vp));
	vp.operation = PVIO_LE32(VSTOR_OP_EXECUTE_SRB);
	vp.flags = PVIO_LE32(VSTOR_FLAG_REQUEST_COMPLETION);
	struct vstor_srb *s = &vp.u.srb;
	s->length = PVIO_LE16(sizeof(*s));
	s->port = 0;
	s->path_id = b->path;
	s->target_id = b->target;
	s->lun = (uint8_t)b->lun;
	s->cdb_length = (uint8_t)cdblen;
	s->sense_info_length = VSTOR_SENSE_SIZE;
	s->data_in = data_in;
	s->data_transfer_length = PVIO_LE32(len);
	memcpy(s->cdb_sense, cdb, cdblen);
	uint32_t fl = SRB_FLAGS_DISABLE_SYNCH_TRANSFER;
	if (len && data_in == VSTOR_READ)
		fl |= SRB_FLAGS_DATA_IN;
	else if (len && data_in == VSTOR_WRITE)
		fl |= SRB_FLAGS_DATA_OUT;
	s->srb_flags = PVIO_LE32(fl);
	s->time_out_value = PVIO_LE32(BLK_TIMEOUT_S);

	struct vmbus_pkt_desc d;
	uint32_t off;
	if (!len) {
		vmbus_pkt_desc(&d, VMBUS_PKT_INBAND, sizeof(d), sizeof(vp),
			       VMBUS_PKT_FLAG_COMPLETION, id);
		memcpy(pkt, &d, sizeof(d));
		off = sizeof(d);
	} else {
		uint32_t hlen = sizeof(d) + sizeof(struct vmbus_pkt_gpa_hdr) +
				sizeof(struct vmbus_range_hdr) + 8 * npfn;
		vmbus_pkt_desc(&d, VMBUS_PKT_GPA_DIRECT, hlen, sizeof(vp),
			       VMBUS_PKT_FLAG_COMPLETION, id);
		memcpy(pkt, &d, sizeof(d));
		struct vmbus_pkt_gpa_hdr g = { 0, PVIO_LE32(1) };
		memcpy(pkt + sizeof(d), &g, sizeof(g));
		struct vmbus_range_hdr rg = { PVIO_LE32(len), PVIO_LE32(first_off) };
		memcpy(pkt + sizeof(d) + sizeof(g), &rg, sizeof(rg));
		off = sizeof(d) + sizeof(g) + sizeof(rg);
		for (uint32_t i = 0; i < npfn; i++) {
			uint64_t p = PVIO_LE64(pfn[i]);
			memcpy(pkt + off, &p, 8);
			off += 8;
		}
	}
	memcpy(pkt + off, &vp, sizeof(vp));
	return off + sizeof(vp);
}

static int write_pkt(struct vmbus_chan *ch, const uint8_t *pkt, uint32_t len,
		     const char **why)
{
	struct vmbus_iov iov = { pkt, len };
	return vmbus_ring_write(&ch->tx, &iov, 1, why);
}

/* ---------------------------------------------------------------- control */

/* Send pkt (len) on the primary channel and wait for the COMP with id;
 * the reply's VSTOR packet is copied to *reply. */
static int ctrl_xchg(struct vmbus_blk *b, const uint8_t *pkt, uint32_t len,
		     uint64_t id, struct vstor_packet *reply, const char *what)
{
	pvio_ctx *ctx = b->vd.h->ctx;
	struct vmbus_chan *ch = &b->vd.chan[0];
	const char *why = "";
	int r = write_pkt(ch, pkt, len, &why);
	if (r < 0)
		return pvio_set_error(ctx, EIO, "%s: cannot send %s: %s",
				      b->vd.name, what,
				      r == -EAGAIN ? "ring full" : why);
	vmbus_chan_kick(ch, NULL);
	uint64_t deadline = pvio_deadline(ctx);
	uint8_t buf[BLK_RX_MAX];
	for (;;) {
		int n = vmbus_ring_read(&ch->rx, buf, sizeof(buf), &why);
		if (n < 0) {
			vmbus_chan_read_done(ch, NULL);
			return pvio_set_error(ctx, EIO, "%s: during %s: %s",
					      b->vd.name, what, why);
		}
		if (n == 0) {
			vmbus_chan_read_done(ch, NULL);
			r = vmbus_wait_rx(b->vd.h, ch, deadline);
			if (r == 0)
				return pvio_set_error(ctx, ETIMEDOUT,
						      "%s: the host did not "
						      "answer %s within %u ms",
						      b->vd.name, what,
						      pvio_timeout_ms(ctx));
			if (r < 0)
				return pvio_set_error(ctx, -r, "%s: %s: %s",
						      b->vd.name, what,
						      r == -ENODEV
						      ? "the host removed the "
							"channel"
						      : pvio_strerror(r));
			continue;
		}
		struct vmbus_pkt_desc d;
		memcpy(&d, buf, sizeof(d));
		uint32_t hlen = PVIO_LE16(d.offset8) * 8u;
		uint16_t type = PVIO_LE16(d.type);
		uint64_t tid = PVIO_LE64(d.trans_id);
		uint32_t plen = (uint32_t)n - hlen;
		if (tid == 0) {
			/* unsolicited ENUMERATE_BUS / REMOVE_DEVICE: nothing
			 * to rescan while opening */
			continue;
		}
		if (type != VMBUS_PKT_COMP || tid != id) {
			vmbus_chan_read_done(ch, NULL);
			return pvio_set_error(ctx, EIO,
					      "%s: host answered %s with packet "
					      "type %u, transaction id %llu "
					      "(expected a completion of %llu)",
					      b->vd.name, what, type,
					      (unsigned long long)tid,
					      (unsigned long long)id);
		}
		vmbus_chan_read_done(ch, NULL);
		if (plen < offsetof(struct vstor_packet, u)) {
			return pvio_set_error(ctx, EIO, "%s: host's answer to %s "
							"is %u bytes, too short",
					      b->vd.name, what, plen);
		}
		memset(reply, 0, sizeof(*reply));
		memcpy(reply, buf + hlen,
		       plen < sizeof(*reply) ? plen : sizeof(*reply));
		if (PVIO_LE32(reply->operation) != VSTOR_OP_COMPLETE_IO)
			return pvio_set_error(ctx, EIO,
					      "%s: host answered %s with VSTOR "
					      "operation %u",
					      b->vd.name, what,
					      PVIO_LE32(reply->operation));
		return 0;
	}
}

/* A VSTOR management operation (no SRB). */
static int vstor_op(struct vmbus_blk *b, uint32_t op, const void *body,
		    uint32_t blen, struct vstor_packet *reply, const char *what)
{
	struct vstor_packet vp;
	memset(&vp, 0, sizeof(vp));
	vp.operation = PVIO_LE32(op);
	vp.flags = PVIO_LE32(VSTOR_FLAG_REQUEST_COMPLETION);
	if (blen)
		memcpy(&vp.u, body, blen);
	uint8_t pkt[sizeof(struct vmbus_pkt_desc) + sizeof(vp)];
	struct vmbus_pkt_desc d;
	uint64_t id = BLK_CTRL_TID + ++b->ctrl_seq;
	vmbus_pkt_desc(&d, VMBUS_PKT_INBAND, sizeof(d), sizeof(vp),
		       VMBUS_PKT_FLAG_COMPLETION, id);
	memcpy(pkt, &d, sizeof(d));
	memcpy(pkt + sizeof(d), &vp, sizeof(vp));
	return ctrl_xchg(b, pkt, sizeof(pkt), id, reply, what);
}

static int vstor_init(struct vmbus_blk *b)
{
	pvio_ctx *ctx = b->vd.h->ctx;
	struct vstor_packet rp;
	int r = vstor_op(b, VSTOR_OP_BEGIN_INITIALIZATION, NULL, 0, &rp,
			 "BEGIN_INITIALIZATION");
	if (r < 0)
		return r;
	if (rp.status)
		return pvio_set_error(ctx, EIO, "%s: host failed "
					       "BEGIN_INITIALIZATION (status 0x%x)",
				      b->vd.name, PVIO_LE32(rp.status));
	static const uint16_t vers[] = { VSTOR_VERSION_WIN10,
					 VSTOR_VERSION_WIN8_1,
					 VSTOR_VERSION_WIN8 };
	for (unsigned i = 0; i < 3 && !b->version; i++) {
		struct {
			uint16_t version, revision;
		} VMBUS_PACKED v = { PVIO_LE16(vers[i]), 0 };
		r = vstor_op(b, VSTOR_OP_QUERY_PROTOCOL_VERSION, &v, sizeof(v),
			     &rp, "QUERY_PROTOCOL_VERSION");
		if (r < 0)
			return r;
		if (rp.status == 0)
			b->version = vers[i];
	}
	if (!b->version)
		return pvio_set_error(ctx, EPROTONOSUPPORT,
				      "%s: the host accepts none of VSTOR 6.2, "
				      "6.0, 5.1",
				      b->vd.name);
	r = vstor_op(b, VSTOR_OP_QUERY_PROPERTIES, NULL, 0, &rp,
		     "QUERY_PROPERTIES");
	if (r < 0)
		return r;
	if (rp.status)
		return pvio_set_error(ctx, EIO, "%s: host failed QUERY_PROPERTIES "
					       "(status 0x%x)",
				      b->vd.name, PVIO_LE32(rp.status));
	b->props = rp.u.props;
	r = vstor_op(b, VSTOR_OP_END_INITIALIZATION, NULL, 0, &rp,
		     "END_INITIALIZATION");
	if (r < 0)
		return r;
	if (rp.status)
		return pvio_set_error(ctx, EIO, "%s: host failed "
					       "END_INITIALIZATION (status 0x%x)",
				      b->vd.name, PVIO_LE32(rp.status));
	return 0;
}

/* Run a SCSI command with its data in the control page (len <= 4096).
 * 0 done; 1 the target failed it (*sense says why, key 0xff: no sense,
 * *srb the SRB status); -errno the transport failed (message set). */
static int scsi_sync(struct vmbus_blk *b, const uint8_t *cdb, unsigned cdblen,
		     uint8_t data_in, uint32_t len, uint32_t *moved,
		     struct scsi_sense *sense, uint8_t *srb)
{
	uint8_t pkt[sizeof(struct vmbus_pkt_desc) + 32 + 8 +
		    sizeof(struct vstor_packet)];
	uint64_t pfn = vmbus_pfn(b->vd.h, b->ctrl_addr);
	uint64_t id = BLK_CTRL_TID + ++b->ctrl_seq;
	if (data_in == VSTOR_READ)
		memset(b->ctrl, 0, VMBUS_PAGE);
	uint32_t n = build_srb(b, pkt, id, cdb, cdblen, data_in, len, 0, &pfn,
			       len ? 1 : 0);
	struct vstor_packet rp;
	sense->key = 0xff;
	sense->asc = sense->ascq = 0;
	int r = ctrl_xchg(b, pkt, n, id, &rp, vmbus_scsi_cdb_name(cdb));
	if (r < 0)
		return r;
	uint8_t ss = rp.u.srb.srb_status, sc = rp.u.srb.scsi_status;
	uint32_t xfer = PVIO_LE32(rp.u.srb.data_transfer_length);
	*srb = ss;
	if (moved)
		*moved = xfer > len ? len : xfer;
	if ((ss & 0x3f) == SRB_STATUS_SUCCESS && sc == SAM_STAT_GOOD)
		return 0;
	if ((ss & 0x3f) == SRB_STATUS_DATA_OVERRUN && sc == SAM_STAT_GOOD)
		return 0; /* short data-in: *moved says how much */
	if (sc == SAM_STAT_CHECK_CONDITION && (ss & SRB_STATUS_AUTOSENSE_VALID)) {
		uint32_t sl = rp.u.srb.sense_info_length;
		if (sl > VSTOR_SENSE_SIZE)
			sl = VSTOR_SENSE_SIZE;
		if (vmbus_scsi_sense_parse(rp.u.srb.cdb_sense, sl, sense) < 0)
			sense->key = 0xff;
	}
	return 1;
}

/* scsi_sync with UNIT ATTENTION retried; a failure gets a message. */
static int scsi_cmd(struct vmbus_blk *b, const uint8_t *cdb, unsigned cdblen,
		    uint8_t data_in, uint32_t len, uint32_t *moved)
{
	pvio_ctx *ctx = b->vd.h->ctx;
	struct scsi_sense s;
	uint8_t srb = 0;
	int r = 1;
	for (unsigned t = 0; t < BLK_MAX_TRIES; t++) {
		r = scsi_sync(b, cdb, cdblen, data_in, len, moved, &s, &srb);
		if (r <= 0)
			return r;
		if (s.key != SENSE_UNIT_ATTENTION)
			break;
	}
	if ((srb & 0x3f) == SRB_STATUS_INVALID_LUN ||
	    (srb & 0x3f) == SRB_STATUS_NO_DEVICE)
		return pvio_set_error(ctx, ENODEV, "%s: %s: LUN %u does not "
						  "exist; pick one with ?lun=N",
				      b->vd.name, vmbus_scsi_cdb_name(cdb), b->lun);
	if (s.key == 0xff)
		return pvio_set_error(ctx, EIO, "%s: %s failed: SRB status 0x%x",
				      b->vd.name, vmbus_scsi_cdb_name(cdb), srb);
	return pvio_set_error(ctx, EIO, "%s: %s failed: sense key 0x%x (%s), "
				       "ASC 0x%02x ASCQ 0x%02x",
			      b->vd.name, vmbus_scsi_cdb_name(cdb), s.key,
			      vmbus_scsi_sense_key_name(s.key), s.asc, s.ascq);
}

static void ctx_clear_error(pvio_ctx *ctx)
{
	pvio_set_error(ctx, EIO, "%s", "");
}

static void trim(char *dst, const uint8_t *src, unsigned n)
{
	unsigned k = 0;
	for (unsigned i = 0; i < n; i++)
		dst[k++] = (src[i] >= 0x20 && src[i] < 0x7f) ? (char)src[i] : '?';
	while (k && dst[k - 1] == ' ')
		k--;
	dst[k] = 0;
}

static int scsi_discover(struct vmbus_blk *b, const char *opts)
{
	pvio_ctx *ctx = b->vd.h->ctx;
	pvio_dev *dev = b->vd.dev;
	uint8_t cdb[VSTOR_CDB_SIZE];
	unsigned cl;
	uint32_t moved = 0;
	int r;

	/* which LUN: ?lun=N, else the first the target reports */
	char v[16];
	bool chosen = false;
	if (opts && pvio_opt_get(opts, "lun", v, sizeof(v)) == 1) {
		uint64_t l;
		if (pvio_parse_u64(v, 255, &l) < 0)
			return pvio_set_error(ctx, EINVAL, "%s: bad lun=%s",
					      b->vd.name, v);
		b->lun = (uint16_t)l;
		chosen = true;
	}
	cl = vmbus_scsi_cdb_report_luns(cdb, VMBUS_PAGE);
	r = scsi_cmd(b, cdb, cl, VSTOR_READ, VMBUS_PAGE, &moved);
	if (r == 0 && !chosen) {
		uint16_t lun;
		uint8_t copy[VMBUS_PAGE];
		memcpy(copy, b->ctrl, moved);
		if (vmbus_scsi_report_luns_get(copy, moved, 0, &lun) == 0 && lun < 256)
			b->lun = lun;
	} else if (r == -ETIMEDOUT) {
		return r;
	}

	cl = vmbus_scsi_cdb_tur(cdb);
	r = scsi_cmd(b, cdb, cl, VSTOR_NONE, 0, NULL);
	if (r < 0)
		return r;

	uint8_t inq[96];
	cl = vmbus_scsi_cdb_inquiry(cdb, false, 0, sizeof(inq));
	r = scsi_cmd(b, cdb, cl, VSTOR_READ, sizeof(inq), &moved);
	if (r < 0)
		return r;
	memset(inq, 0, sizeof(inq));
	memcpy(inq, b->ctrl, moved);
	if (moved < 36 || (inq[0] & 0x1f) != 0 || (inq[0] >> 5) != 0)
		return pvio_set_error(ctx, ENODEV, "%s: LUN %u is not a disk "
						  "(peripheral 0x%x)",
				      b->vd.name, b->lun, inq[0]);
	char vend[9], prod[17];
	trim(vend, inq + 8, 8);
	trim(prod, inq + 16, 16);
	pvio_snprintf(b->vendor, sizeof(b->vendor), "%s %s", vend, prod);

	uint8_t cap[32];
	cl = vmbus_scsi_cdb_read_capacity16(cdb, sizeof(cap));
	r = scsi_cmd(b, cdb, cl, VSTOR_READ, sizeof(cap), &moved);
	if (r < 0)
		return r;
	memset(cap, 0, sizeof(cap));
	memcpy(cap, b->ctrl, moved);
	struct scsi_capacity c;
	if (vmbus_scsi_parse_capacity16(cap, moved, &c) < 0)
		return pvio_set_error(ctx, EIO, "%s: READ CAPACITY(16) returned "
					       "nonsense (%u bytes)",
				      b->vd.name, moved);

	/* optional VPD pages: the list first, then each page it names
	 * (a page's data replaces the list in b->ctrl, so keep a copy) */
	struct scsi_block_limits bl = { 0 };
	bool lbpu = false;
	uint8_t list[256], vpd[64];
	uint32_t nlist = 0;
	cl = vmbus_scsi_cdb_inquiry(cdb, true, 0x00, sizeof(list));
	if (scsi_cmd(b, cdb, cl, VSTOR_READ, sizeof(list), &moved) == 0) {
		nlist = moved;
		memcpy(list, b->ctrl, nlist);
	}
	if (vmbus_scsi_vpd_has_page(list, nlist, 0xB0)) {
		cl = vmbus_scsi_cdb_inquiry(cdb, true, 0xB0, sizeof(vpd));
		if (scsi_cmd(b, cdb, cl, VSTOR_READ, sizeof(vpd), &moved) == 0) {
			memcpy(vpd, b->ctrl, moved);
			vmbus_scsi_parse_block_limits(vpd, moved, &bl);
		}
	}
	if (vmbus_scsi_vpd_has_page(list, nlist, 0xB2) || c.lbpme) {
		cl = vmbus_scsi_cdb_inquiry(cdb, true, 0xB2, sizeof(vpd));
		if (scsi_cmd(b, cdb, cl, VSTOR_READ, sizeof(vpd), &moved) == 0) {
			memcpy(vpd, b->ctrl, moved);
			lbpu = vmbus_scsi_vpd_lbpu(vpd, moved);
		}
	}
	/* write protection, as a disk driver learns it: MODE SENSE header */
	bool wp = false;
	cl = vmbus_scsi_cdb_mode_sense6(cdb, 4);
	if (scsi_cmd(b, cdb, cl, VSTOR_READ, 4, &moved) == 0) {
		uint8_t ms[4];
		memcpy(ms, b->ctrl, moved < 4 ? moved : 4);
		wp = vmbus_scsi_mode_wp(ms, moved) == 1;
	}
	ctx_clear_error(ctx); /* optional pages may have failed */

	struct pvio_blk_limits *L = &dev->limits.blk;
	memset(L, 0, sizeof(*L));
	L->block_size = c.block_len;
	L->capacity = c.blocks * c.block_len;
	L->physical_block_size = c.block_len << c.phys_exp;
	uint64_t mx = BLK_MAX_XFER;
	uint32_t pmax = PVIO_LE32(b->props.max_transfer_bytes);
	if (pmax && pmax < mx)
		mx = pmax;
	if (bl.max_transfer_blocks &&
	    (uint64_t)bl.max_transfer_blocks * c.block_len < mx)
		mx = (uint64_t)bl.max_transfer_blocks * c.block_len;
	mx -= mx % (c.block_len > VMBUS_PAGE ? c.block_len : VMBUS_PAGE);
	if (mx < c.block_len || mx < VMBUS_PAGE)
		return pvio_set_error(ctx, EIO, "%s: host's maximum transfer "
					       "(%u bytes) is below one block",
				      b->vd.name, pmax);
	L->max_transfer = (uint32_t)mx;
	L->max_segments = (uint32_t)(mx / VMBUS_PAGE + 1);
	L->max_segment_size = (uint32_t)mx;
	L->dma_align = 512;
	L->seg_boundary = 0;
	L->virt_boundary = VMBUS_PAGE;
	if (lbpu && bl.max_unmap_blocks && bl.max_unmap_descs) {
		uint64_t blocks = bl.max_unmap_blocks == UINT32_MAX
					  ? (1u << 30) / c.block_len
					  : bl.max_unmap_blocks;
		if (blocks > (1u << 30) / c.block_len)
			blocks = (1u << 30) / c.block_len;
		L->discard = true;
		L->max_discard = blocks * c.block_len;
		L->discard_granularity =
			(bl.unmap_granularity ? bl.unmap_granularity : 1) *
			c.block_len;
	}
	L->flush = true;
	L->fua = false;
	L->write_zeroes = false;
	L->read_only = wp;
	uint32_t mq = 1;
	if (PVIO_LE32(b->props.flags) & VSTOR_PROP_MULTI_CHANNEL)
		mq = 1u + PVIO_LE16(b->props.max_channel_cnt);
	L->max_queues = mq > VMBUS_MAX_QUEUES ? VMBUS_MAX_QUEUES : mq;
	if (!b->vd.h->ops->subchannels)
		L->max_queues = 1;
	L->queue_size = BLK_QSIZE;
	return 0;
}

/* ---------------------------------------------------------------- data */

/* Evaluate a completion: 0 / -errno, or 1 to retry. */
static int evaluate(struct vmbus_blk *b, struct blkq *q, struct blk_slot *s,
		    const struct vstor_packet *vp)
{
	pvio_dev *dev = b->vd.dev;
	uint8_t ss = vp->u.srb.srb_status, sc = vp->u.srb.scsi_status;
	uint32_t xfer = PVIO_LE32(vp->u.srb.data_transfer_length);
	const uint8_t *cdb = s->pkt + s->pktlen - sizeof(struct vstor_packet) +
			     offsetof(struct vstor_packet, u.srb.cdb_sense);
	bool log = q->logged < 16;

	if (vp->status) {
		/* the VSTOR operation itself failed, whatever the SRB says */
		if (log) {
			q->logged++;
			pvio_log(dev->ctx, PVIO_LOG_WARN,
				 "%s: %s failed: VSTOR status 0x%x",
				 b->vd.name, vmbus_scsi_cdb_name(cdb),
				 PVIO_LE32(vp->status));
		}
		return -EIO;
	}
	if ((ss & 0x3f) == SRB_STATUS_SUCCESS && sc == SAM_STAT_GOOD) {
		if (s->expect && xfer != s->expect) {
			if (log) {
				q->logged++;
				pvio_log(dev->ctx, PVIO_LOG_WARN,
					 "%s: %s moved %u of %u bytes",
					 b->vd.name, vmbus_scsi_cdb_name(cdb), xfer,
					 s->expect);
			}
			return -EIO;
		}
		return 0;
	}
	if (sc == SAM_STAT_CHECK_CONDITION && (ss & SRB_STATUS_AUTOSENSE_VALID)) {
		struct scsi_sense se;
		uint32_t sl = vp->u.srb.sense_info_length;
		if (sl > VSTOR_SENSE_SIZE)
			sl = VSTOR_SENSE_SIZE;
		if (vmbus_scsi_sense_parse(vp->u.srb.cdb_sense, sl, &se) == 0) {
			switch (se.key) {
			case SENSE_NO_SENSE:
			case SENSE_RECOVERED_ERROR:
				return 0;
			case SENSE_UNIT_ATTENTION:
				if ((se.asc == 0x2A && se.ascq == 0x09) ||
				    se.asc == 0x3F)
					__atomic_store_n(&b->cfg_changed, 1,
							 __ATOMIC_RELEASE);
				if (s->tries < BLK_MAX_TRIES)
					return 1;
				break;
			case SENSE_ABORTED_COMMAND:
				if (s->tries < BLK_MAX_TRIES)
					return 1;
				break;
			default:
				break;
			}
			if (log) {
				q->logged++;
				uint64_t lba = 0;
				for (int i = 2; i < 10; i++)
					lba = lba << 8 | cdb[i];
				pvio_log(dev->ctx, PVIO_LOG_WARN,
					 "%s: %s at LBA %llu failed: sense key "
					 "0x%x (%s), ASC 0x%02x ASCQ 0x%02x",
					 b->vd.name, vmbus_scsi_cdb_name(cdb),
					 (unsigned long long)(s->op <=
								PVIO_BLK_OP_WRITE
							? lba : 0),
					 se.key, vmbus_scsi_sense_key_name(se.key),
					 se.asc, se.ascq);
			}
			if (se.key == SENSE_DATA_PROTECT)
				return -EROFS;
			if (se.key == SENSE_ILLEGAL_REQUEST &&
			    (s->op == PVIO_BLK_OP_DISCARD ||
			     s->op == PVIO_BLK_OP_FLUSH))
				return -EOPNOTSUPP;
			return -EIO;
		}
	}
	if ((sc == SAM_STAT_BUSY || sc == SAM_STAT_TASK_SET_FULL ||
	     (ss & 0x3f) == SRB_STATUS_ABORTED) &&
	    s->tries < BLK_MAX_TRIES)
		return 1;
	if ((ss & 0x3f) == SRB_STATUS_INVALID_LUN ||
	    (ss & 0x3f) == SRB_STATUS_NO_DEVICE) {
		__atomic_store_n(&b->lun_gone, 1, __ATOMIC_RELEASE);
		return -ENODEV;
	}
	if (log) {
		q->logged++;
		pvio_log(dev->ctx, PVIO_LOG_WARN,
			 "%s: %s failed: SRB status 0x%x, SCSI status 0x%x",
			 b->vd.name, vmbus_scsi_cdb_name(cdb), ss, sc);
	}
	return -EIO;
}

static int blk_enqueue(pvio_dev *dev, unsigned qi, const struct pvio_blk_dreq *r)
{
	struct vmbus_blk *b = dev->priv;
	if (!pvio_dev_usable(dev) || b->quiesced)
		return dev->state == PVIO_DEV_REMOVED ? -ENODEV : -EIO;
	if (qi >= b->nq)
		return -EINVAL;
	struct blkq *q = &b->q[qi];
	if (vmbus_chan_gone(q->ch))
		return vmbus_dev_check_gone(&b->vd);
	const struct pvio_blk_limits *L = &dev->limits.blk;
	uint8_t cdb[VSTOR_CDB_SIZE];
	unsigned cl;
	uint8_t data_in = VSTOR_NONE;
	uint32_t len = 0, first_off = 0, npfn = 0;
	uint64_t pfn[BLK_MAX_PFNS];

	if (r->offset % L->block_size || r->len % L->block_size)
		return -EINVAL;
	switch (r->op) {
	case PVIO_BLK_OP_READ:
	case PVIO_BLK_OP_WRITE: {
		if (r->op == PVIO_BLK_OP_WRITE && L->read_only)
			return -EROFS;
		if (!r->nseg || r->nseg > L->max_segments || !r->len ||
		    r->len > L->max_transfer ||
		    r->offset / L->block_size + r->len / L->block_size >
			    L->capacity / L->block_size)
			return -EINVAL;
		uint64_t sum = 0;
		for (unsigned i = 0; i < r->nseg; i++) {
			const struct pvio_dseg *sg = &r->seg[i];
			if (!sg->len ||
			    (i > 0 && (sg->dev_addr & (VMBUS_PAGE - 1))) ||
			    (i + 1 < r->nseg &&
			     ((sg->dev_addr + sg->len) & (VMBUS_PAGE - 1))))
				return -EINVAL;
			uint64_t p0 = sg->dev_addr >> VMBUS_PAGE_SHIFT;
			uint64_t p1 = (sg->dev_addr + sg->len - 1) >>
				      VMBUS_PAGE_SHIFT;
			if (npfn + (p1 - p0 + 1) > BLK_MAX_PFNS)
				return -EINVAL;
			for (uint64_t p = p0; p <= p1; p++)
				pfn[npfn++] = vmbus_pfn(b->vd.h,
							p << VMBUS_PAGE_SHIFT);
			sum += sg->len;
		}
		if (sum != r->len)
			return -EINVAL;
		len = (uint32_t)r->len;
		first_off = (uint32_t)(r->seg[0].dev_addr & (VMBUS_PAGE - 1));
		bool w = r->op == PVIO_BLK_OP_WRITE;
		cl = vmbus_scsi_cdb_rw16(cdb, w, r->offset / L->block_size,
				   (uint32_t)(r->len / L->block_size),
				   w && r->fua && L->fua);
		data_in = w ? VSTOR_WRITE : VSTOR_READ;
		break;
	}
	case PVIO_BLK_OP_FLUSH:
		cl = vmbus_scsi_cdb_sync_cache10(cdb);
		break;
	case PVIO_BLK_OP_DISCARD:
		if (!L->discard)
			return -EOPNOTSUPP;
		if (!r->len || r->len > L->max_discard ||
		    r->offset / L->block_size + r->len / L->block_size >
			    L->capacity / L->block_size)
			return -EINVAL;
		cl = vmbus_scsi_cdb_unmap(cdb, 24);
		break;
	default:
		return -EOPNOTSUPP;
	}

	uint64_t id = vmbus_tid_get(&q->tid);
	if (!id)
		return -EAGAIN;
	uint32_t slot = (uint32_t)(id - 1);
	struct blk_slot *s = &q->slots[slot];
	if (r->op == PVIO_BLK_OP_DISCARD) {
		uint8_t *p = q->unmap + 32 * slot;
		vmbus_scsi_unmap_param(p, r->offset / L->block_size,
				 (uint32_t)(r->len / L->block_size));
		uint64_t a = q->unmap_addr + 32 * slot;
		pfn[0] = vmbus_pfn(b->vd.h, a);
		npfn = 1;
		first_off = (uint32_t)(a & (VMBUS_PAGE - 1));
		len = 24;
		data_in = VSTOR_WRITE;
	}
	s->pktlen = (uint16_t)build_srb(b, s->pkt, id, cdb, cl, data_in, len,
					first_off, pfn, npfn);
	s->tag = r->tag;
	s->op = r->op;
	s->tries = 0;
	s->retrying = false;
	s->expect = r->op == PVIO_BLK_OP_DISCARD ? 0 : len;
	const char *why = "";
	int rc = write_pkt(q->ch, s->pkt, s->pktlen, &why);
	if (rc < 0) {
		vmbus_tid_put(&q->tid, slot);
		if (rc == -EAGAIN)
			return -EAGAIN;
		if (rc == -EMSGSIZE)
			return -EINVAL;
		return pvio_dev_set_broken(dev, "%s: %s", b->vd.name, why);
	}
	return 0;
}

static int flush_retries(struct vmbus_blk *b, struct blkq *q)
{
	unsigned k = 0;
	for (unsigned i = 0; i < q->nretry; i++) {
		struct blk_slot *s = &q->slots[q->retry[i]];
		const char *why = "";
		int rc = write_pkt(q->ch, s->pkt, s->pktlen, &why);
		if (rc == -EAGAIN) {
			q->retry[k++] = q->retry[i];
			continue;
		}
		if (rc < 0)
			return pvio_dev_set_broken(b->vd.dev, "%s: %s",
						   b->vd.name, why);
		s->retrying = false;
	}
	bool wrote = k != q->nretry;
	q->nretry = k;
	return wrote ? 1 : 0;
}

static int blk_kick(pvio_dev *dev, unsigned qi)
{
	struct vmbus_blk *b = dev->priv;
	if (qi >= b->nq)
		return -EINVAL;
	struct blkq *q = &b->q[qi];
	if (!q->ch->open)
		/* closed by a quiesce that gave up: the ring is gone */
		return dev->state == PVIO_DEV_REMOVED ? -ENODEV : -EIO;
	if (q->nretry && flush_retries(b, q) < 0)
		return -EIO;
	vmbus_chan_kick(q->ch, &dev->stats[qi]);
	return 0;
}

/* Read completions from q's ring: into out (reap) or q->done (quiesce). */
static int drain(struct vmbus_blk *b, unsigned qi, struct pvio_blk_dcomp *out,
		 unsigned max)
{
	pvio_dev *dev = b->vd.dev;
	struct blkq *q = &b->q[qi];
	unsigned n = 0;
	int err = 0;
	while (n < max) {
		const char *why = "";
		int len = vmbus_ring_read(&q->ch->rx, q->rx, sizeof(q->rx), &why);
		if (len == 0)
			break;
		if (len < 0) {
			err = pvio_dev_set_broken(dev, "%s: %s", b->vd.name, why);
			break;
		}
		struct vmbus_pkt_desc d;
		memcpy(&d, q->rx, sizeof(d));
		uint16_t type = PVIO_LE16(d.type);
		uint32_t hlen = PVIO_LE16(d.offset8) * 8u;
		uint32_t plen = (uint32_t)len - hlen;
		uint64_t tid = PVIO_LE64(d.trans_id);
		if (type == VMBUS_PKT_INBAND && tid == 0) {
			/* unsolicited: the host rescanned or removed LUNs */
			if (plen >= 4) {
				uint32_t op;
				memcpy(&op, q->rx + hlen, 4);
				op = PVIO_LE32(op);
				if (op == VSTOR_OP_ENUMERATE_BUS ||
				    op == VSTOR_OP_REMOVE_DEVICE)
					__atomic_store_n(&b->cfg_changed, 1,
							 __ATOMIC_RELEASE);
			}
			continue;
		}
		if (type != VMBUS_PKT_COMP) {
			err = pvio_dev_set_broken(dev, "%s: unexpected packet type "
						       "%u from the host",
						  b->vd.name, type);
			break;
		}
		int64_t slot = vmbus_tid_lookup(&q->tid, tid);
		if (slot < 0) {
			err = pvio_dev_set_broken(dev, "%s: completion for "
						       "transaction id %llu, "
						       "which is not outstanding",
						  b->vd.name,
						  (unsigned long long)tid);
			break;
		}
		if (plen < sizeof(struct vstor_packet)) {
			err = pvio_dev_set_broken(dev, "%s: completion of %u bytes "
						       "is shorter than a VSTOR "
						       "packet",
						  b->vd.name, plen);
			break;
		}
		struct vstor_packet vp;
		memcpy(&vp, q->rx + hlen, sizeof(vp));
		if (PVIO_LE32(vp.operation) != VSTOR_OP_COMPLETE_IO) {
			err = pvio_dev_set_broken(dev, "%s: completion with VSTOR "
						       "operation %u",
						  b->vd.name,
						  PVIO_LE32(vp.operation));
			break;
		}
		struct blk_slot *s = &q->slots[slot];
		if (s->retrying) {
			/* its completion came already; it has not been sent
			 * again yet, so this one answers nothing */
			err = pvio_dev_set_broken(dev, "%s: transaction id %llu "
						       "completed twice",
						  b->vd.name,
						  (unsigned long long)tid);
			break;
		}
		int st = evaluate(b, q, s, &vp);
		if (st == 1) {
			s->retrying = true;
			s->tries++;
			q->retry[q->nretry++] = (uint32_t)slot;
			continue;
		}
		out[n].tag = s->tag;
		out[n].status = st;
		n++;
		vmbus_tid_put(&q->tid, (uint32_t)slot);
	}
	vmbus_chan_read_done(q->ch, dev->stats ? &dev->stats[qi] : NULL);
	if (q->nretry) {
		int w = flush_retries(b, q);
		if (w > 0)
			vmbus_chan_kick(q->ch, dev->stats ? &dev->stats[qi] : NULL);
	}
	return err < 0 && !n ? err : (int)n;
}

static int blk_reap(pvio_dev *dev, unsigned qi, struct pvio_blk_dcomp *out,
		    unsigned max)
{
	struct vmbus_blk *b = dev->priv;
	if (qi >= b->nq)
		return -EINVAL;
	struct blkq *q = &b->q[qi];
	unsigned n = 0;
	while (n < max && q->done_h != q->done_t)
		out[n++] = q->done[q->done_h++ % BLK_QSIZE];
	if (n)
		return (int)n;
	if (!pvio_dev_usable(dev) && dev->state != PVIO_DEV_STOPPED)
		return dev->state == PVIO_DEV_REMOVED ? -ENODEV : -EIO;
	if (vmbus_chan_gone(q->ch))
		return vmbus_dev_check_gone(&b->vd);
	if (!q->ch->open)
		return 0;
	return drain(b, qi, out, max);
}

/* ---------------------------------------------------------------- control */

static void free_queues(struct vmbus_blk *b)
{
	pvio_ctx *ctx = b->vd.h->ctx;
	if (!b->q)
		return;
	for (unsigned i = 0; i < b->nq; i++) {
		struct blkq *q = &b->q[i];
		bool busy = vmbus_tid_busy(&q->tid) != 0;
		vmbus_tid_fini(ctx, &q->tid);
		pvio_free(ctx, q->slots);
		pvio_free(ctx, q->retry);
		pvio_free(ctx, q->done);
		/* an UNMAP the host never finished may still read it */
		if (q->unmap && !busy)
			pvio_dma_free(ctx, q->unmap);
	}
	pvio_free(ctx, b->q);
	b->q = NULL;
	b->nq = 0;
}

static int blk_configure(pvio_dev *dev, const struct pvio_dev_config *cfg)
{
	struct vmbus_blk *b = dev->priv;
	pvio_ctx *ctx = dev->ctx;
	uint32_t nq = cfg->num_queues;
	if (b->configured) {
		if (nq != b->nq)
			return pvio_set_error(ctx, EBUSY, "%s: already configured "
							 "with %u queues",
					      b->vd.name, b->nq);
		b->quiesced = false;
		return 0;
	}
	if (nq < 1 || nq > dev->limits.blk.max_queues)
		return pvio_set_error(ctx, EINVAL, "%s: %u queues asked, the "
						  "device has 1..%u",
				      b->vd.name, nq, dev->limits.blk.max_queues);
	if (cfg->max_tags < 1)
		return pvio_set_error(ctx, EINVAL, "%s: no tags", b->vd.name);
	if (nq > 1) {
		struct vstor_packet rp;
		uint16_t cnt = PVIO_LE16((uint16_t)(nq - 1));
		int r = vstor_op(b, VSTOR_OP_CREATE_SUB_CHANNELS, &cnt,
				 sizeof(cnt), &rp, "CREATE_SUB_CHANNELS");
		if (r < 0)
			return r;
		if (rp.status)
			return pvio_set_error(ctx, EIO, "%s: host failed "
						       "CREATE_SUB_CHANNELS "
						       "(status 0x%x)",
					      b->vd.name, PVIO_LE32(rp.status));
		r = vmbus_dev_open_subchannels(&b->vd, nq, VMBUS_RING_BYTES_BLK);
		if (r < 0)
			return r;
		if ((uint32_t)r < nq)
			return pvio_set_error(ctx, ETIMEDOUT,
					      "%s: the host offered %d of %u "
					      "channels within %u ms",
					      b->vd.name, r, nq,
					      pvio_timeout_ms(ctx));
	}
	b->q = pvio_zalloc(ctx, nq * sizeof(*b->q));
	if (!b->q)
		return pvio_set_error(ctx, ENOMEM, "out of memory");
	b->nq = nq;
	for (unsigned i = 0; i < nq; i++) {
		struct blkq *q = &b->q[i];
		q->ch = &b->vd.chan[i];
		q->slots = pvio_zalloc(ctx, BLK_QSIZE * sizeof(*q->slots));
		q->retry = pvio_zalloc(ctx, BLK_QSIZE * sizeof(*q->retry));
		q->done = pvio_zalloc(ctx, BLK_QSIZE * sizeof(*q->done));
		q->unmap = pvio_dma_alloc(ctx, 32 * BLK_QSIZE, VMBUS_PAGE);
		if (!q->slots || !q->retry || !q->done || !q->unmap ||
		    vmbus_tid_init(ctx, &q->tid, BLK_QSIZE) < 0) {
			free_queues(b);
			return pvio_set_error(ctx, ENOMEM, "out of memory for "
							  "%s queues",
					      b->vd.name);
		}
		pvio_dma_translate(ctx, q->unmap, 32 * BLK_QSIZE, &q->unmap_addr);
		vmbus_ring_mask(&q->ch->rx);
	}
	uint64_t f = PVIO_F_INDIRECT | PVIO_F_EVENT_SUPPRESS |
		     PVIO_F_MULTI_PAGE_RING | PVIO_F_BLK_FLUSH |
		     PVIO_F_BLK_TOPOLOGY;
	if (dev->limits.blk.discard)
		f |= PVIO_F_BLK_DISCARD;
	if (dev->limits.blk.read_only)
		f |= PVIO_F_BLK_READ_ONLY;
	if (nq > 1)
		f |= PVIO_F_MULTIQUEUE;
	dev->info.features = f;
	dev->info.num_queues = nq;
	dev->info.queue_size = BLK_QSIZE;
	b->configured = true;
	b->quiesced = false;
	return 0;
}

static int blk_quiesce(pvio_dev *dev)
{
	struct vmbus_blk *b = dev->priv;
	if (!b->configured)
		return 0;
	b->quiesced = true;
	uint64_t deadline = pvio_deadline(dev->ctx);
	for (unsigned i = 0; i < b->nq; i++) {
		struct blkq *q = &b->q[i];
		/* completions collected here wait in q->done for reap; a
		 * slot is busy until its completion arrived */
		while (vmbus_tid_busy(&q->tid)) {
			if (vmbus_chan_gone(q->ch) || !pvio_dev_usable(dev))
				break;
			struct pvio_blk_dcomp tmp[16];
			int n = drain(b, i, tmp, 16);
			if (n < 0)
				break;
			for (int k = 0; k < n; k++)
				q->done[q->done_t++ % BLK_QSIZE] = tmp[k];
			if (n > 0)
				continue;
			int r = vmbus_wait_rx(b->vd.h, q->ch, deadline);
			if (r <= 0)
				break;
		}
		vmbus_ring_mask(&q->ch->rx);
	}
	unsigned left = 0;
	for (unsigned i = 0; i < b->nq; i++)
		left += vmbus_tid_busy(&b->q[i].tid);
	if (left && pvio_dev_usable(dev)) {
		/* the host keeps requests: close the channels so it stops */
		pvio_log(dev->ctx, PVIO_LOG_WARN,
			 "%s: %u requests did not complete within %u ms; "
			 "closing the channels", b->vd.name, left,
			 pvio_timeout_ms(dev->ctx));
		vmbus_dev_close_channels(&b->vd);
		pvio_dev_set_stopped(dev);
	}
	return 0;
}

static int blk_service(pvio_dev *dev)
{
	struct vmbus_blk *b = dev->priv;
	int r = vmbus_dev_service(dev);
	if (__atomic_exchange_n(&b->cfg_changed, 0, __ATOMIC_ACQ_REL))
		pvio_dev_push_event(dev, PVIO_EVENT_CONFIG_CHANGE, 0);
	if (__atomic_load_n(&b->lun_gone, __ATOMIC_ACQUIRE))
		return pvio_dev_set_removed(dev, "%s: the host reports LUN %u "
						 "gone",
					    b->vd.name, b->lun);
	return r;
}

static void blk_close(pvio_dev *dev)
{
	struct vmbus_blk *b = dev->priv;
	pvio_ctx *ctx = dev->ctx;
	if (b->configured && pvio_dev_usable(dev))
		blk_quiesce(dev);
	vmbus_dev_close_channels(&b->vd);
	free_queues(b);
	if (b->ctrl)
		pvio_dma_free(ctx, b->ctrl);
	if (b->vd.h)
		b->vd.h->ops->free(b->vd.h);
	pvio_dev_free(dev);
}

static int blk_queue_arm(pvio_dev *dev, unsigned qi)
{
	struct vmbus_blk *b = dev->priv;
	if (qi < b->nq && (b->q[qi].nretry || b->q[qi].done_h != b->q[qi].done_t))
		return 1;
	return vmbus_dev_queue_arm(dev, qi);
}

static const struct pvio_blk_ops blk_ops = {
	.enqueue = blk_enqueue,
	.kick = blk_kick,
	.reap = blk_reap,
};

static const struct pvio_dev_ops blk_dev_ops = {
	.configure = blk_configure,
	.quiesce = blk_quiesce,
	.close = blk_close,
	.service = blk_service,
	.event_fd = vmbus_dev_event_fd,
	.queue_fd = vmbus_dev_queue_fd,
	.queue_arm = blk_queue_arm,
	.queue_ack = vmbus_dev_queue_ack,
	.queue_disarm = vmbus_dev_queue_disarm,
	.blk = &blk_ops,
};

int vmbus_blk_open(pvio_ctx *ctx, struct vmbus_hostif *h,
		   const struct vmbus_offer *offer, const char *name,
		   const char *opts, pvio_dev **out)
{
	pvio_dev *dev = pvio_dev_alloc(ctx, &blk_dev_ops, sizeof(struct vmbus_blk));
	if (!dev)
		return pvio_set_error(ctx, ENOMEM, "out of memory");
	struct vmbus_blk *b = dev->priv;
	b->vd.h = h;
	b->vd.dev = dev;
	b->vd.proto = b;
	pvio_strlcpy(b->vd.name, name, sizeof(b->vd.name));
	b->ctrl = pvio_dma_alloc(ctx, VMBUS_PAGE, VMBUS_PAGE);
	if (!b->ctrl) {
		pvio_dev_free(dev);
		return pvio_set_error(ctx, ENOMEM, "out of DMA memory");
	}
	pvio_dma_translate(ctx, b->ctrl, VMBUS_PAGE, &b->ctrl_addr);
	struct vmbus_chan *ch = &b->vd.chan[0];
	ch->offer = *offer;
	int r = h->ops->open(h, ch, VMBUS_RING_BYTES_BLK);
	if (r < 0)
		goto fail;
	b->vd.nchan = 1;
	r = vstor_init(b);
	if (r == 0)
		r = scsi_discover(b, opts);
	if (r < 0)
		goto fail;
	vmbus_ring_mask(&ch->rx);

	dev->info.cls = PVIO_CLASS_BLK;
	dev->info.family = PVIO_FAMILY_VMBUS;
	dev->info.offered = PVIO_F_INDIRECT | PVIO_F_EVENT_SUPPRESS |
			    PVIO_F_MULTI_PAGE_RING | PVIO_F_BLK_FLUSH |
			    PVIO_F_BLK_TOPOLOGY |
			    (dev->limits.blk.discard ? PVIO_F_BLK_DISCARD : 0) |
			    (dev->limits.blk.read_only ? PVIO_F_BLK_READ_ONLY
						       : 0) |
			    (dev->limits.blk.max_queues > 1 ? PVIO_F_MULTIQUEUE : 0);
	dev->info.max_queues = dev->limits.blk.max_queues;
	dev->info.queue_size = BLK_QSIZE;
	dev->info.max_segments = dev->limits.blk.max_segments;
	dev->info.max_transfer = dev->limits.blk.max_transfer;
	dev->info.max_segment_size = dev->limits.blk.max_segment_size;
	char proto[64];
	pvio_snprintf(proto, sizeof(proto), "VSTOR %u.%u / SCSI", b->version >> 8,
		      b->version & 0xff);
	pvio_dev_set_strings(dev, h->name, proto);
	pvio_snprintf(dev->info.native, sizeof(dev->info.native),
		      "relid=%u lun=%u max_transfer_bytes=%u max_channels=%u "
		      "flags=0x%x disk=\"%s\"",
		      offer->relid, b->lun, PVIO_LE32(b->props.max_transfer_bytes),
		      PVIO_LE16(b->props.max_channel_cnt),
		      PVIO_LE32(b->props.flags), b->vendor);
	*out = dev;
	return 0;
fail:
	vmbus_dev_close_channels(&b->vd);
	b->vd.h = NULL;
	pvio_dma_free(ctx, b->ctrl);
	pvio_dev_free(dev);
	return r;
}
