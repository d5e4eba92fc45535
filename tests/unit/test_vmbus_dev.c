/* SPDX-License-Identifier: MIT */
/*
 * StorVSC and NetVSC (backends/vmbus/blk.c, net.c) driven through their
 * pvio device ops against in-test host models: a fake host interface
 * whose channels are DMA-pool rings, and a StorVSP (RAM disk) and a
 * NetVSP (loopback) written here from the fact sheet with the host-side
 * ring model of test_vmbus_host.h.  The models run synchronously when the
 * guest signals or waits.  Knobs make them hostile: unknown transaction
 * ids, short completions, bad RNDIS offsets, wrong page-set ids, sense
 * data, rescind during I/O, a host that never answers.
 *
 * This is a fixture, not the simulated host (sim/vmbus, written
 * separately); it exists so the protocol adapters are tested before and
 * besides the end-to-end tests.
 */
#include <check.h>
#include <stdlib.h>

#include "backends/vmbus/dev.h"
#include "backends/vmbus/netvsc.h"
#include "backends/vmbus/storvsc.h"
#include "test_vmbus_host.h"

#define DISK_BYTES (4u << 20)
#define SEC 4096u   /* receive-buffer section the model uses */
#define CHIM 6144u  /* send-buffer section */

struct fbuf {
	uint32_t gpadl;
	void *va;
	size_t len;
};

struct fh {
	struct vmbus_hostif h;
	pvio_ctx *ctx;
	struct vmbus_offer offers[24];
	unsigned noffers;
	struct vmbus_chan *chans[16];
	struct fbuf bufs[8];
	unsigned nbufs;
	uint32_t next_gpadl;
	unsigned signals, opens, closes, buf_puts;
	bool hold;       /* leave guest requests in the ring */
	bool busy;
	/* StorVSP */
	uint8_t *disk;
	uint16_t vstor_max;
	uint32_t max_xfer;
	int ua_next, medium_next, bogus_tid_next, short_next;
	unsigned flushes, unmaps, srbs, tur;
	/* NetVSP */
	uint32_t nvsp_max;
	uint8_t *recv, *send;
	size_t recv_len, send_len;
	uint32_t rsec;
	uint64_t xfer_seq;
	unsigned xfers_out, acks, bad_acks;
	uint32_t filter, rss_set, offload_set, halted, revoked;
	unsigned chimney, gpa, ctrl_msgs;
	uint8_t frame[70000];
	uint32_t frame_len, csum_ppi, lso_ppi;
	bool loopback;
	int bad_rndis_next, bad_pageset_next, bogus_comp_next;
	uint32_t ndis_ver;
	unsigned freed;
	unsigned keepalive_c;
	uint32_t keepalive_req;
	bool zero_ctrl_ack;  /* acknowledge control sends with id 0 */
	uint32_t mtu, lso_max; /* 0: 1500 and 62780 */
	bool refuse_recv_buf, refuse_rndis_init, fail_begin_init;
};

static struct fh *FH(struct vmbus_hostif *h)
{
	return (struct fh *)h;
}

static uint32_t g32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static void p32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void host_rings(struct vmbus_chan *ch, struct hring *tx, struct hring *rx)
{
	hr_init(tx, ch->ring_mem, ch->ring_bytes);
	hr_init(rx, (uint8_t *)ch->ring_mem + ch->ring_bytes, ch->ring_bytes);
}

static void to_guest(struct vmbus_chan *ch, const void *pkt, uint32_t len)
{
	struct hring tx, rx;
	host_rings(ch, &tx, &rx);
	ck_assert_int_ge(hr_put(&rx, pkt, len), 0);
}

static void comp(struct vmbus_chan *ch, uint64_t tid, const void *p,
		 uint32_t len)
{
	uint8_t pkt[512];
	uint32_t n = hp_build(pkt, VMBUS_PKT_COMP, 0, tid, NULL, 0, p, len);
	to_guest(ch, pkt, n);
}

/* copy between guest memory described by one GPA range and buf */
static uint32_t gpa_copy(struct fh *f, const uint8_t *range, uint8_t *buf,
			 uint32_t cap, bool to_host)
{
	uint32_t cnt = g32(range), off = g32(range + 4);
	ck_assert_uint_le(cnt, cap);
	uint32_t done = 0;
	for (uint32_t i = 0; done < cnt; i++) {
		uint64_t pfn;
		memcpy(&pfn, range + 8 + 8 * i, 8);
		uint32_t po = i == 0 ? off : 0;
		uint32_t piece = 4096 - po;
		if (piece > cnt - done)
			piece = cnt - done;
		uint8_t *va = pvio_dma_to_va(f->ctx, (pfn << 12) + po, piece);
		ck_assert_ptr_nonnull(va);
		if (to_host)
			memcpy(buf + done, va, piece);
		else
			memcpy(va, buf + done, piece);
		done += piece;
	}
	return cnt;
}

/* ---------------------------------------------------------------- StorVSP */

static void add_offer(struct fh *f, const struct vmbus_guid *cls,
		      uint32_t relid, uint16_t sub)
{
	struct vmbus_offer *o = &f->offers[f->noffers++];
	memset(o, 0, sizeof(*o));
	o->if_type = *cls;
	o->if_instance.b[0] = 0x42;
	o->relid = relid;
	o->sub_index = sub;
	o->present = 1;
}

static void srb_reply(struct fh *f, struct vmbus_chan *ch, uint64_t tid,
		      struct vstor_packet *vp, uint8_t ss, uint8_t sc,
		      uint32_t moved)
{
	vp->operation = VSTOR_OP_COMPLETE_IO;
	vp->status = 0;
	vp->u.srb.srb_status = ss;
	vp->u.srb.scsi_status = sc;
	vp->u.srb.data_transfer_length = moved;
	uint32_t len = sizeof(*vp);
	if (f->short_next) {
		f->short_next = 0;
		len = 32;
	}
	if (f->bogus_tid_next) {
		f->bogus_tid_next = 0;
		tid += 1000;
	}
	comp(ch, tid, vp, len);
}

static void sense(struct vstor_packet *vp, uint8_t key, uint8_t asc,
		  uint8_t ascq)
{
	uint8_t *s = vp->u.srb.cdb_sense;
	memset(s, 0, 20);
	s[0] = 0x70;
	s[2] = key;
	s[7] = 10;
	s[12] = asc;
	s[13] = ascq;
	vp->u.srb.sense_info_length = 18;
}

static void be32put(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint64_t be64get(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void storvsp(struct fh *f, struct vmbus_chan *ch, const uint8_t *pkt,
		    uint32_t len)
{
	uint16_t type, off8;
	uint64_t tid;
	memcpy(&type, pkt, 2);
	memcpy(&off8, pkt + 2, 2);
	memcpy(&tid, pkt + 8, 8);
	struct vstor_packet vp;
	ck_assert_uint_ge(len - off8 * 8u, sizeof(vp));
	memcpy(&vp, pkt + off8 * 8, sizeof(vp));
	ck_assert_uint_ne(tid, 0);
	switch (vp.operation) {
	case VSTOR_OP_BEGIN_INITIALIZATION:
	case VSTOR_OP_END_INITIALIZATION:
		vp.operation = VSTOR_OP_COMPLETE_IO;
		vp.status = f->fail_begin_init ? 0xC0000001u : 0;
		comp(ch, tid, &vp, sizeof(vp));
		return;
	case VSTOR_OP_QUERY_PROTOCOL_VERSION:
		vp.status = vp.u.ver.version <= f->vstor_max ? 0 : 0xC0000001u;
		vp.operation = VSTOR_OP_COMPLETE_IO;
		comp(ch, tid, &vp, sizeof(vp));
		return;
	case VSTOR_OP_QUERY_PROPERTIES:
		memset(&vp.u, 0, sizeof(vp.u));
		vp.u.props.max_channel_cnt = 3;
		vp.u.props.flags = VSTOR_PROP_MULTI_CHANNEL;
		vp.u.props.max_transfer_bytes = f->max_xfer;
		vp.operation = VSTOR_OP_COMPLETE_IO;
		vp.status = 0;
		comp(ch, tid, &vp, sizeof(vp));
		return;
	case VSTOR_OP_CREATE_SUB_CHANNELS: {
		uint16_t n = vp.u.sub_channel_count;
		for (uint16_t i = 1; i <= n; i++)
			add_offer(f, &vmbus_guid_storvsc, 100 + i, i);
		vp.operation = VSTOR_OP_COMPLETE_IO;
		vp.status = 0;
		comp(ch, tid, &vp, sizeof(vp));
		return;
	}
	case VSTOR_OP_EXECUTE_SRB:
		break;
	default:
		ck_abort_msg("VSTOR operation %u", vp.operation);
	}
	f->srbs++;
	ck_assert_uint_eq(vp.u.srb.length, 52);
	ck_assert_uint_eq(vp.u.srb.sense_info_length, 20);
	const uint8_t *cdb = vp.u.srb.cdb_sense;
	uint8_t cdbc[16];
	memcpy(cdbc, cdb, 16);
	static uint8_t data[1 << 20];
	const uint8_t *range = NULL;
	uint32_t dlen = 0;
	if (type == VMBUS_PKT_GPA_DIRECT) {
		ck_assert_uint_eq(g32(pkt + 20), 1); /* one range */
		range = pkt + 24;
		dlen = g32(range);
		ck_assert_uint_eq(dlen, vp.u.srb.data_transfer_length);
		if (vp.u.srb.data_in == VSTOR_WRITE)
			gpa_copy(f, range, data, sizeof(data), true);
	} else {
		ck_assert_uint_eq(type, VMBUS_PKT_INBAND);
	}
	uint32_t moved = 0;
	if (f->ua_next && (cdbc[0] == 0x88 || cdbc[0] == 0x8A)) {
		f->ua_next--;
		sense(&vp, 6, 0x2A, 0x09);
		srb_reply(f, ch, tid, &vp, SRB_STATUS_ERROR | SRB_STATUS_AUTOSENSE_VALID,
			  SAM_STAT_CHECK_CONDITION, 0);
		return;
	}
	if (f->medium_next && (cdbc[0] == 0x88 || cdbc[0] == 0x8A)) {
		f->medium_next = 0;
		sense(&vp, 3, 0x11, 0x00);
		srb_reply(f, ch, tid, &vp, SRB_STATUS_ERROR | SRB_STATUS_AUTOSENSE_VALID,
			  SAM_STAT_CHECK_CONDITION, 0);
		return;
	}
	switch (cdbc[0]) {
	case 0x00:
		f->tur++;
		break;
	case 0x12:
		memset(data, 0, 256);
		if (cdbc[1] & 1) {
			data[1] = cdbc[2];
			if (cdbc[2] == 0x00) {
				data[3] = 3;
				data[4] = 0x00;
				data[5] = 0xB0;
				data[6] = 0xB2;
				moved = 7;
			} else if (cdbc[2] == 0xB0) {
				data[3] = 0x3c;
				be32put(data + 8, 256);   /* 128 KiB */
				be32put(data + 20, 2048); /* unmap 1 MiB */
				be32put(data + 24, 1);
				be32put(data + 28, 8);
				moved = 64;
			} else if (cdbc[2] == 0xB2) {
				data[3] = 4;
				data[5] = 0x80;
				moved = 8;
			} else {
				sense(&vp, 5, 0x24, 0);
				srb_reply(f, ch, tid, &vp,
					  SRB_STATUS_ERROR | SRB_STATUS_AUTOSENSE_VALID,
					  SAM_STAT_CHECK_CONDITION, 0);
				return;
			}
		} else {
			data[0] = 0; /* disk */
			data[4] = 31;
			memcpy(data + 8, "Msft    Virtual Disk    1.0 ", 28);
			moved = 36;
		}
		break;
	case 0x9E:
		memset(data, 0, 32);
		data[4] = 0;
		{
			uint64_t last = DISK_BYTES / 512 - 1;
			for (int i = 0; i < 8; i++)
				data[i] = (uint8_t)(last >> (56 - 8 * i));
		}
		data[10] = 2;   /* 512 */
		data[13] = 3;   /* 4 KiB physical */
		data[14] = 0x80;
		moved = 32;
		break;
	case 0xA0:
		memset(data, 0, 16);
		data[3] = 8;
		moved = 16;
		break;
	case 0x1A: /* MODE SENSE(6): the header (write protect in byte 2) */
		memset(data, 0, 4);
		data[0] = 3;
		moved = 4;
		break;
	case 0x88:
	case 0x8A: {
		uint64_t lba = be64get(cdbc + 2);
		uint32_t blocks = (uint32_t)cdbc[10] << 24 | cdbc[11] << 16 |
				  cdbc[12] << 8 | cdbc[13];
		ck_assert_uint_eq((uint64_t)blocks * 512, dlen);
		ck_assert_uint_le((lba + blocks) * 512, DISK_BYTES);
		if (cdbc[0] == 0x8A)
			memcpy(f->disk + lba * 512, data, dlen);
		else
			memcpy(data, f->disk + lba * 512, dlen);
		moved = dlen;
		break;
	}
	case 0x35:
		f->flushes++;
		break;
	case 0x42: {
		ck_assert_uint_eq(dlen, 24);
		uint64_t lba = be64get(data + 8);
		uint32_t n = (uint32_t)data[16] << 24 | data[17] << 16 |
			     data[18] << 8 | data[19];
		ck_assert_uint_le((lba + n) * 512, DISK_BYTES);
		memset(f->disk + lba * 512, 0, (size_t)n * 512);
		f->unmaps++;
		moved = 24;
		break;
	}
	default:
		ck_abort_msg("CDB %#x", cdbc[0]);
	}
	if (range && vp.u.srb.data_in == VSTOR_READ) {
		if (moved < dlen) /* a short answer: only what there is */
			memset(data + moved, 0, dlen - moved);
		gpa_copy(f, range, data, sizeof(data), false);
	}
	srb_reply(f, ch, tid, &vp, SRB_STATUS_SUCCESS, 0,
		  moved < dlen ? moved : dlen);
}

/* ---------------------------------------------------------------- NetVSP */

static struct fbuf *buf_by_gpadl(struct fh *f, uint32_t g)
{
	for (unsigned i = 0; i < f->nbufs; i++)
		if (f->bufs[i].gpadl == g)
			return &f->bufs[i];
	return NULL;
}

/* put an RNDIS message in the receive buffer and announce it */
static void deliver(struct fh *f, struct vmbus_chan *ch, const void *msg,
		    uint32_t len, uint32_t chtype)
{
	ck_assert_uint_le(len, SEC);
	uint32_t nsec = (uint32_t)(f->recv_len / SEC);
	uint32_t s = f->rsec++ % nsec;
	memcpy(f->recv + (size_t)s * SEC, msg, len);
	uint8_t xh[16];
	uint16_t id = 0xCAFE;
	if (f->bad_pageset_next) {
		f->bad_pageset_next = 0;
		id = 0xBEEF;
	}
	memset(xh, 0, sizeof(xh));
	memcpy(xh, &id, 2);
	p32(xh + 4, 1);
	p32(xh + 8, len);
	p32(xh + 12, s * SEC);
	uint8_t nv[16] = { 0 };
	p32(nv, NVSP_MSG_SEND_RNDIS_PKT);
	p32(nv + 4, chtype);
	p32(nv + 8, 0xFFFFFFFFu);
	uint8_t pkt[64];
	uint32_t n = hp_build(pkt, VMBUS_PKT_XFER_PAGES, 0, 0x5000 + f->xfer_seq++,
			      xh, sizeof(xh), nv, sizeof(nv));
	f->xfers_out++;
	to_guest(ch, pkt, n);
}

static void rndis_reply(struct fh *f, struct vmbus_chan *ch, const uint8_t *m,
			uint32_t len)
{
	uint32_t type = g32(m), req = g32(m + 8);
	uint8_t r[512];
	memset(r, 0, sizeof(r));
	f->ctrl_msgs++;
	switch (type) {
	case RNDIS_MSG_INIT:
		p32(r, RNDIS_MSG_INIT_C);
		p32(r + 4, 52);
		p32(r + 8, req);
		p32(r + 12, f->refuse_rndis_init ? 0xC0000001u : 0);
		p32(r + 16, 1);
		p32(r + 36, 0x4000);
		deliver(f, ch, r, 52, 1);
		return;
	case RNDIS_MSG_QUERY: {
		uint32_t oid = g32(m + 12);
		uint8_t info[200];
		uint32_t il = 0, st = 0;
		memset(info, 0, sizeof(info));
		switch (oid) {
		case OID_GEN_MAXIMUM_FRAME_SIZE:
			p32(info, f->mtu ? f->mtu : 1500);
			il = 4;
			break;
		case OID_802_3_PERMANENT_ADDRESS:
			memcpy(info, "\x00\x15\x5d\x01\x02\x03", 6);
			il = 6;
			break;
		case OID_GEN_MEDIA_CONNECT_STATUS:
			p32(info, 0);
			il = 4;
			break;
		case OID_GEN_LINK_SPEED:
			p32(info, 100000000);
			il = 4;
			break;
		case OID_TCP_OFFLOAD_HARDWARE_CAPABILITIES:
			/* the size asked for fits the NVSP version */
			ck_assert_uint_eq(g32(m + 16),
					  f->nvsp_max >= NVSP_VERSION_5 ? 156 : 144);
			ck_assert_uint_eq(m[28], 0xA7);
			info[0] = 0xA7;
			info[1] = m[29];
			info[2] = m[30];
			p32(info + 8, 0x150);  /* ip4 tx: TCP UDP IP */
			p32(info + 16, 0x150);
			p32(info + 24, 0x50);
			p32(info + 32, 0x50);
			p32(info + 80, 2);     /* LSOv2 for 802.3 frames */
			p32(info + 84, f->lso_max ? f->lso_max : 62780);
			p32(info + 88, 2);
			p32(info + 92, 2);
			p32(info + 96, f->lso_max ? f->lso_max : 62780);
			p32(info + 100, 2);
			p32(info + 104, 0x5);  /* IPv6 ext headers, TCP opts */
			il = m[30];
			break;
		case OID_GEN_RECEIVE_SCALE_CAPABILITIES:
			info[0] = 0x88;
			info[1] = 2;
			info[2] = 16;
			p32(info + 12, 4);
			il = 16;
			break;
		default:
			st = RNDIS_STATUS_NOT_SUPPORTED;
		}
		p32(r, RNDIS_MSG_QUERY_C);
		p32(r + 4, 24 + il);
		p32(r + 8, req);
		p32(r + 12, st);
		p32(r + 16, il);
		p32(r + 20, 16);
		memcpy(r + 24, info, il);
		deliver(f, ch, r, 24 + il, 1);
		return;
	}
	case RNDIS_MSG_SET: {
		uint32_t oid = g32(m + 12), il = g32(m + 16), io = g32(m + 20);
		ck_assert_uint_le(8ull + io + il, len);
		const uint8_t *v = m + 8 + io;
		if (oid == OID_GEN_CURRENT_PACKET_FILTER)
			f->filter = g32(v);
		else if (oid == OID_TCP_OFFLOAD_PARAMETERS)
			f->offload_set = v[5] | v[11] << 8;
		else if (oid == OID_GEN_RECEIVE_SCALE_PARAMETERS)
			f->rss_set = il;
		p32(r, RNDIS_MSG_SET_C);
		p32(r + 4, 16);
		p32(r + 8, req);
		deliver(f, ch, r, 16, 1);
		return;
	}
	case RNDIS_MSG_HALT:
		f->halted++;
		return;
	case RNDIS_MSG_KEEPALIVE_C:
		ck_assert_uint_eq(g32(m + 4), 16);
		f->keepalive_req = req;
		f->keepalive_c++;
		return;
	default:
		ck_abort_msg("RNDIS %#x", type);
	}
}

static void rx_frame(struct fh *f, struct vmbus_chan *ch, const uint8_t *fr,
		     uint32_t len)
{
	static uint8_t m[4096];
	ck_assert_uint_le(len + 60, sizeof(m));
	memset(m, 0, 60);
	p32(m, RNDIS_MSG_PACKET);
	p32(m + 4, 44 + 16 + len);
	p32(m + 8, 36 + 16);
	p32(m + 12, len);
	p32(m + 28, 36);
	p32(m + 32, 16);
	p32(m + 44, 16);
	p32(m + 48, PPI_TCPIP_CHECKSUM);
	p32(m + 52, 12);
	p32(m + 56, PPI_RXCSUM_TCP_OK | PPI_RXCSUM_IP_OK);
	memcpy(m + 60, fr, len);
	if (f->bad_rndis_next) {
		f->bad_rndis_next = 0;
		p32(m + 12, len + 100); /* data runs past the message */
	}
	deliver(f, ch, m, 60 + len, 0);
}

static void netvsp(struct fh *f, struct vmbus_chan *ch, const uint8_t *pkt,
		   uint32_t len)
{
	uint16_t type, off8, flags;
	uint64_t tid;
	memcpy(&type, pkt, 2);
	memcpy(&off8, pkt + 2, 2);
	memcpy(&flags, pkt + 6, 2);
	memcpy(&tid, pkt + 8, 8);
	const uint8_t *nv = pkt + off8 * 8;
	if (type == VMBUS_PKT_COMP) {
		/* receive completion */
		ck_assert_uint_eq(g32(nv), NVSP_MSG_SEND_RNDIS_PKT_COMPLETE);
		if (tid >= 0x5000 && tid < 0x5000 + f->xfer_seq && f->xfers_out) {
			f->acks++;
			f->xfers_out--;
		} else {
			f->bad_acks++;
		}
		return;
	}
	uint8_t r[40] = { 0 };
	switch (g32(nv)) {
	case NVSP_MSG_INIT:
		ck_assert_uint_eq(flags, VMBUS_PKT_FLAG_COMPLETION);
		p32(r, NVSP_MSG_INIT_COMPLETE);
		p32(r + 12, g32(nv + 4) <= f->nvsp_max ? 1 : 2);
		comp(ch, tid, r, 40);
		return;
	case NVSP_MSG_SEND_NDIS_CONFIG:
		ck_assert_uint_eq(g32(nv + 4), 1514);
		return;
	case NVSP_MSG_SEND_NDIS_VER:
		f->ndis_ver = g32(nv + 4) << 16 | g32(nv + 8);
		return;
	case NVSP_MSG_SEND_RECV_BUF: {
		struct fbuf *b = buf_by_gpadl(f, g32(nv + 4));
		ck_assert_ptr_nonnull(b);
		ck_assert_uint_eq(nv[8] | nv[9] << 8, 0xCAFE);
		f->recv = b->va;
		f->recv_len = b->len;
		p32(r, NVSP_MSG_SEND_RECV_BUF_COMPLETE);
		p32(r + 4, f->refuse_recv_buf ? 2 : 1);
		p32(r + 8, 1);
		p32(r + 12, 0);
		p32(r + 16, SEC);
		p32(r + 20, (uint32_t)(b->len / SEC));
		p32(r + 24, (uint32_t)b->len);
		comp(ch, tid, r, 40);
		return;
	}
	case NVSP_MSG_SEND_SEND_BUF: {
		struct fbuf *b = buf_by_gpadl(f, g32(nv + 4));
		ck_assert_ptr_nonnull(b);
		f->send = b->va;
		f->send_len = b->len;
		p32(r, NVSP_MSG_SEND_SEND_BUF_COMPLETE);
		p32(r + 4, 1);
		p32(r + 8, CHIM);
		comp(ch, tid, r, 40);
		return;
	}
	case NVSP_MSG_REVOKE_RECV_BUF:
	case NVSP_MSG_REVOKE_SEND_BUF:
		f->revoked++;
		return;
	case NVSP_MSG_SUBCHANNEL: {
		uint32_t n = g32(nv + 8);
		for (uint32_t i = 1; i <= n; i++)
			add_offer(f, &vmbus_guid_netvsc, 200 + i, (uint16_t)i);
		p32(r, NVSP_MSG_SUBCHANNEL);
		p32(r + 4, 1);
		p32(r + 8, n);
		comp(ch, tid, r, 40);
		return;
	}
	case NVSP_MSG_SEND_RNDIS_PKT:
		break;
	default:
		ck_abort_msg("NVSP %u", g32(nv));
	}
	static uint8_t msg[70000 + 256];
	uint32_t mlen = 0;
	uint32_t sec = g32(nv + 8);
	if (sec != NVSP_NO_SECTION) {
		ck_assert_uint_eq(type, VMBUS_PKT_INBAND);
		mlen = g32(nv + 12);
		ck_assert_uint_le((uint64_t)(sec + 1) * CHIM, f->send_len);
		ck_assert_uint_le(mlen, CHIM);
		memcpy(msg, f->send + (size_t)sec * CHIM, mlen);
		f->chimney++;
	} else {
		ck_assert_uint_eq(type, VMBUS_PKT_GPA_DIRECT);
		uint32_t nr = g32(pkt + 20);
		for (uint32_t i = 0; i < nr; i++) {
			const uint8_t *rg = pkt + 24 + 16 * i;
			ck_assert_uint_le(g32(rg) + g32(rg + 4), 4096); /* one page */
			mlen += gpa_copy(f, rg, msg + mlen, sizeof(msg) - mlen, true);
		}
	}
	if (g32(nv + 4) == 1) {
		rndis_reply(f, ch, msg, mlen);
		if (f->zero_ctrl_ack)
			tid = 0;
	} else {
		if (sec == NVSP_NO_SECTION)
			f->gpa++;
		struct rndis_view v;
		ck_assert_int_eq(vmbus_rndis_parse(msg, mlen, &v), 0);
		ck_assert_uint_eq(v.type, RNDIS_MSG_PACKET);
		ck_assert_uint_eq(v.len, mlen);
		f->frame_len = v.data_len;
		memcpy(f->frame, msg + v.data_off, v.data_len);
		f->csum_ppi = f->lso_ppi = 0;
		if (v.ppi_len) {
			vmbus_rndis_ppi_find(msg + v.ppi_off, v.ppi_len,
					     PPI_TCPIP_CHECKSUM, &f->csum_ppi);
			vmbus_rndis_ppi_find(msg + v.ppi_off, v.ppi_len, PPI_LSO,
					     &f->lso_ppi);
		}
		if (f->loopback && v.data_len <= 3000)
			rx_frame(f, ch, f->frame, f->frame_len);
	}
	p32(r, NVSP_MSG_SEND_RNDIS_PKT_COMPLETE);
	p32(r + 4, 1);
	if (f->bogus_comp_next) {
		f->bogus_comp_next = 0;
		tid += 777;
	}
	comp(ch, tid, r, 8);
}

/* ---------------------------------------------------------------- fake hostif */

static void run(struct fh *f)
{
	if (f->hold || f->busy)
		return;
	f->busy = true;
	for (unsigned i = 0; i < 16; i++) {
		struct vmbus_chan *ch = f->chans[i];
		if (!ch)
			continue;
		struct hring tx, rx;
		host_rings(ch, &tx, &rx);
		static uint8_t pkt[8192];
		int n;
		while ((n = hr_get(&tx, pkt, sizeof(pkt))) > 0) {
			if (vmbus_guid_eq(&ch->offer.if_type, &vmbus_guid_storvsc))
				storvsp(f, ch, pkt, (uint32_t)n);
			else
				netvsp(f, ch, pkt, (uint32_t)n);
		}
		ck_assert_int_eq(n, 0); /* the guest wrote well-formed packets */
	}
	f->busy = false;
}

static int h_find(struct vmbus_hostif *h, const struct vmbus_guid *cls,
		  unsigned idx, struct vmbus_offer *out)
{
	struct fh *f = FH(h);
	unsigned k = 0;
	for (unsigned i = 0; i < f->noffers; i++)
		if (vmbus_guid_eq(&f->offers[i].if_type, cls) &&
		    !f->offers[i].sub_index && k++ == idx) {
			*out = f->offers[i];
			return 0;
		}
	return -ENODEV;
}

static int h_subchannels(struct vmbus_hostif *h, const struct vmbus_offer *p,
			 unsigned want, uint64_t deadline,
			 struct vmbus_offer *out)
{
	struct fh *f = FH(h);
	(void)deadline;
	unsigned n = 0;
	for (uint16_t s = 1; s <= want; s++)
		for (unsigned i = 0; i < f->noffers; i++)
			if (vmbus_guid_eq(&f->offers[i].if_type, &p->if_type) &&
			    f->offers[i].sub_index == s)
				out[n++] = f->offers[i];
	return (int)n;
}

static int h_open(struct vmbus_hostif *h, struct vmbus_chan *ch,
		  uint32_t ring_bytes)
{
	struct fh *f = FH(h);
	void *mem = pvio_dma_alloc(h->ctx, 2 * ring_bytes, 4096);
	ck_assert_ptr_nonnull(mem);
	ch->ring_mem = mem;
	ch->ring_bytes = ring_bytes;
	vmbus_ring_init(&ch->tx, mem, ring_bytes);
	vmbus_ring_init(&ch->rx, (uint8_t *)mem + ring_bytes, ring_bytes);
	vmbus_ring_setup(&ch->tx);
	vmbus_ring_setup(&ch->rx);
	ch->hostif = h;
	ch->open = true;
	for (unsigned i = 0; i < 16; i++)
		if (!f->chans[i]) {
			f->chans[i] = ch;
			break;
		}
	f->opens++;
	return 0;
}

static void h_close(struct vmbus_hostif *h, struct vmbus_chan *ch)
{
	struct fh *f = FH(h);
	run(f);
	for (unsigned i = 0; i < 16; i++)
		if (f->chans[i] == ch)
			f->chans[i] = NULL;
	if (ch->ring_mem)
		pvio_dma_free(h->ctx, ch->ring_mem);
	ch->ring_mem = NULL;
	ch->open = false;
	f->closes++;
}

static int h_buf_get(struct vmbus_hostif *h, struct vmbus_chan *ch,
		     enum vmbus_buf_kind kind, size_t size, struct vmbus_buf *out)
{
	struct fh *f = FH(h);
	(void)ch;
	(void)kind;
	memset(out, 0, sizeof(*out));
	out->va = pvio_dma_alloc(h->ctx, size, 4096);
	ck_assert_ptr_nonnull(out->va);
	pvio_dma_translate(h->ctx, out->va, size, &out->dev_addr);
	out->len = size;
	out->gpadl = ++f->next_gpadl;
	out->gpadl_live = true;
	f->bufs[f->nbufs++] = (struct fbuf){ out->gpadl, out->va, size };
	return 0;
}

static void h_buf_put(struct vmbus_hostif *h, struct vmbus_chan *ch,
		      struct vmbus_buf *b)
{
	(void)ch;
	if (!b->va)
		return;
	FH(h)->buf_puts++;
	pvio_dma_free(h->ctx, b->va);
	memset(b, 0, sizeof(*b));
}

static void h_signal(struct vmbus_hostif *h, struct vmbus_chan *ch)
{
	(void)ch;
	FH(h)->signals++;
	run(FH(h));
}

static int h_irq_fd(struct vmbus_hostif *h, struct vmbus_chan *ch)
{
	(void)h;
	(void)ch;
	return -EOPNOTSUPP;
}

static void h_irq_ack(struct vmbus_hostif *h, struct vmbus_chan *ch)
{
	(void)h;
	(void)ch;
}

static int h_wait(struct vmbus_hostif *h, struct vmbus_chan *ch,
		  uint64_t deadline)
{
	struct fh *f = FH(h);
	run(f);
	if (vmbus_ring_pending(&ch->rx))
		return 1;
	/* a silent host: the deadline is the answer */
	while (pvio_now_ns(h->ctx) < deadline) {
	}
	return 0;
}

static int h_service(struct vmbus_hostif *h)
{
	(void)h;
	return 0;
}

static int h_event_fd(struct vmbus_hostif *h)
{
	(void)h;
	return -EOPNOTSUPP;
}

/* the device frees its host interface at close; the test still looks at
 * the model afterwards, so the memory goes at teardown */
static void h_free(struct vmbus_hostif *h)
{
	FH(h)->freed++;
}

static const struct vmbus_hostif_ops fops = {
	h_find, h_subchannels, h_open, h_close, h_buf_get, h_buf_put,
	h_signal, h_irq_fd, h_irq_ack, h_wait, h_service, h_event_fd, h_free,
};

/* ---------------------------------------------------------------- helpers */

static pvio_ctx *ctx;
static struct fh *hosts[8];
static unsigned nhosts;

static struct fh *new_host(void)
{
	struct fh *f = calloc(1, sizeof(*f));
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_lt(nhosts, 8);
	hosts[nhosts++] = f;
	f->h.ops = &fops;
	f->h.ctx = ctx;
	f->h.name = "fake-hyperv";
	f->ctx = ctx;
	f->vstor_max = VSTOR_VERSION_WIN10;
	f->max_xfer = 1u << 20;
	f->nvsp_max = NVSP_VERSION_61;
	f->disk = calloc(1, DISK_BYTES);
	f->loopback = true;
	add_offer(f, &vmbus_guid_storvsc, 10, 0);
	add_offer(f, &vmbus_guid_netvsc, 11, 0);
	return f;
}

static void setup(void)
{
	struct pvio_ctx_opts o = { .struct_size = sizeof(o),
				   .dma_pool_size = 64 << 20,
				   .timeout_ms = 200,
				   .log_level = PVIO_LOG_ERROR };
	ck_assert_int_eq(pvio_ctx_new(&o, &ctx), 0);
}

static void teardown(void)
{
	for (unsigned i = 0; i < nhosts; i++) {
		/* every device freed its host interface exactly once */
		ck_assert_uint_eq(hosts[i]->freed, 1);
		free(hosts[i]->disk);
		free(hosts[i]);
	}
	nhosts = 0;
	pvio_ctx_free(ctx);
}

static pvio_dev *open_blk(struct fh *f, unsigned nq)
{
	struct vmbus_offer o;
	ck_assert_int_eq(f->h.ops->find(&f->h, &vmbus_guid_storvsc, 0, &o), 0);
	pvio_dev *dev = NULL;
	int r = vmbus_blk_open(ctx, &f->h, &o, "storvsc0", NULL, &dev);
	ck_assert_msg(r == 0, "open: %s", pvio_errmsg(ctx));
	struct pvio_dev_config cfg = { .num_queues = nq, .max_tags = 64 };
	r = pvio_dev_configure(dev, &cfg);
	ck_assert_msg(r == 0, "configure: %s", pvio_errmsg(ctx));
	return dev;
}

static int submit_wait(pvio_dev *dev, unsigned q, struct pvio_blk_dreq *rq,
		       int32_t *status)
{
	int r = dev->ops->blk->enqueue(dev, q, rq);
	if (r < 0)
		return r;
	dev->ops->blk->kick(dev, q);
	struct pvio_blk_dcomp c[4];
	r = dev->ops->blk->reap(dev, q, c, 4);
	if (r < 0)
		return r;
	ck_assert_int_eq(r, 1);
	ck_assert_uint_eq(c[0].tag, rq->tag);
	*status = c[0].status;
	return 0;
}

/* ---------------------------------------------------------------- blk tests */

START_TEST(blk_open_limits)
{
	struct fh *f = new_host();
	pvio_dev *dev = open_blk(f, 1);
	const struct pvio_blk_limits *L = &dev->limits.blk;
	ck_assert_uint_eq(L->capacity, DISK_BYTES);
	ck_assert_uint_eq(L->block_size, 512);
	ck_assert_uint_eq(L->physical_block_size, 4096);
	ck_assert_uint_eq(L->max_transfer, 128 * 1024); /* VPD B0 */
	ck_assert_uint_eq(L->max_segments, 33);
	ck_assert_uint_eq(L->virt_boundary, 4096);
	ck_assert(L->discard);
	ck_assert_uint_eq(L->max_discard, 2048 * 512);
	ck_assert_uint_eq(L->discard_granularity, 8 * 512);
	ck_assert_uint_eq(L->max_queues, 4);
	ck_assert(L->flush);
	ck_assert_str_eq(dev->info.protocol, "VSTOR 6.2 / SCSI");
	ck_assert_ptr_nonnull(strstr(dev->info.native, "Msft Virtual Disk"));
	ck_assert(dev->info.features & PVIO_F_BLK_DISCARD);
	ck_assert_uint_ge(f->tur, 1);
	dev->ops->close(dev);
}
END_TEST

START_TEST(blk_vstor_fallback)
{
	struct fh *f = new_host();
	f->vstor_max = VSTOR_VERSION_WIN8;
	pvio_dev *dev = open_blk(f, 1);
	ck_assert_str_eq(dev->info.protocol, "VSTOR 5.1 / SCSI");
	dev->ops->close(dev);

	f = new_host();
	f->vstor_max = 0x0402; /* Win7: not supported */
	struct vmbus_offer o;
	f->h.ops->find(&f->h, &vmbus_guid_storvsc, 0, &o);
	pvio_dev *d2;
	ck_assert_int_eq(vmbus_blk_open(ctx, &f->h, &o, "storvsc0", NULL, &d2),
			 -EPROTONOSUPPORT);
	ck_assert_ptr_nonnull(strstr(pvio_errmsg(ctx), "VSTOR"));
	ck_assert_uint_eq(f->closes, f->opens);
	f->h.ops->free(&f->h);
}
END_TEST

START_TEST(blk_rw_flush_discard)
{
	struct fh *f = new_host();
	pvio_dev *dev = open_blk(f, 1);
	/* three segments: the first starts mid-page, the middle one is a
	 * whole page, the last ends mid-page (4 KiB virt boundary) */
	uint8_t *buf = pvio_dma_alloc(ctx, 4 * 4096, 4096);
	uint8_t *rbuf = pvio_dma_alloc(ctx, 4 * 4096, 4096);
	for (int i = 0; i < 4 * 4096; i++)
		buf[i] = (uint8_t)(i * 13 + 1);
	struct pvio_dseg seg[3];
	seg[0].va = buf + 3584;
	seg[0].len = 512;
	seg[1].va = buf + 4096;
	seg[1].len = 4096;
	seg[2].va = buf + 8192;
	seg[2].len = 1024;
	for (int i = 0; i < 3; i++)
		pvio_dma_translate(ctx, seg[i].va, seg[i].len, &seg[i].dev_addr);
	struct pvio_blk_dreq w = { .tag = 5, .op = PVIO_BLK_OP_WRITE, .nseg = 3,
				   .offset = 8192, .len = 5632, .seg = seg };
	int32_t st;
	ck_assert_int_eq(submit_wait(dev, 0, &w, &st), 0);
	ck_assert_int_eq(st, 0);
	ck_assert_mem_eq(f->disk + 8192, buf + 3584, 512);
	ck_assert_mem_eq(f->disk + 8192 + 512, buf + 4096, 4096 + 1024);
	struct pvio_dseg rs = { rbuf + 512, 0, 5632 };
	pvio_dma_translate(ctx, rs.va, rs.len, &rs.dev_addr);
	struct pvio_blk_dreq r = { .tag = 6, .op = PVIO_BLK_OP_READ, .nseg = 1,
				   .offset = 8192, .len = 5632, .seg = &rs };
	ck_assert_int_eq(submit_wait(dev, 0, &r, &st), 0);
	ck_assert_int_eq(st, 0);
	ck_assert_mem_eq(rbuf + 512, f->disk + 8192, 5632);
	struct pvio_blk_dreq fl = { .tag = 7, .op = PVIO_BLK_OP_FLUSH };
	ck_assert_int_eq(submit_wait(dev, 0, &fl, &st), 0);
	ck_assert_int_eq(st, 0);
	ck_assert_uint_eq(f->flushes, 1);
	struct pvio_blk_dreq d = { .tag = 8, .op = PVIO_BLK_OP_DISCARD,
				   .offset = 8192, .len = 4096 };
	ck_assert_int_eq(submit_wait(dev, 0, &d, &st), 0);
	ck_assert_int_eq(st, 0);
	ck_assert_uint_eq(f->unmaps, 1);
	ck_assert_uint_eq(f->disk[8192 + 100], 0);
	/* requests outside the limits are the front end's bug: -EINVAL */
	struct pvio_dseg bad[2] = { { buf, 0, 1024 }, { buf + 2048, 0, 512 } };
	pvio_dma_translate(ctx, bad[0].va, 1024, &bad[0].dev_addr);
	pvio_dma_translate(ctx, bad[1].va, 512, &bad[1].dev_addr);
	struct pvio_blk_dreq b = { .tag = 9, .op = PVIO_BLK_OP_WRITE, .nseg = 2,
				   .offset = 0, .len = 1536, .seg = bad };
	ck_assert_int_eq(dev->ops->blk->enqueue(dev, 0, &b), -EINVAL);
	struct pvio_blk_dreq past = { .tag = 9, .op = PVIO_BLK_OP_READ, .nseg = 1,
				      .offset = DISK_BYTES, .len = 512, .seg = &rs };
	rs.len = 512;
	ck_assert_int_eq(dev->ops->blk->enqueue(dev, 0, &past), -EINVAL);
	/* one signal per kick with the ring empty before it */
	ck_assert_uint_ge(dev->stats[0].notify_sent, 4);
	dev->ops->close(dev);
}
END_TEST

START_TEST(blk_batch_and_ring_full)
{
	struct fh *f = new_host();
	pvio_dev *dev = open_blk(f, 1);
	uint8_t *buf = pvio_dma_alloc(ctx, 4096, 4096);
	struct pvio_dseg s = { buf, 0, 4096 };
	pvio_dma_translate(ctx, buf, 4096, &s.dev_addr);
	f->hold = true;
	int n = 0;
	for (uint32_t t = 0; t < 200; t++) {
		struct pvio_blk_dreq r = { .tag = t, .op = PVIO_BLK_OP_READ,
					   .nseg = 1, .offset = 4096ull * t,
					   .len = 4096, .seg = &s };
		int e = dev->ops->blk->enqueue(dev, 0, &r);
		if (e == -EAGAIN)
			break;
		ck_assert_int_eq(e, 0);
		n++;
	}
	/* bounded by the transaction-id table (128) or the ring */
	ck_assert_int_ge(n, 100);
	ck_assert_int_le(n, 128);
	dev->ops->blk->kick(dev, 0);
	ck_assert_uint_eq(dev->stats[0].notify_sent, 1);
	f->hold = false;
	dev->ops->blk->kick(dev, 0); /* nothing new: no signal */
	ck_assert_uint_eq(dev->stats[0].notify_sent, 1);
	run(f);
	struct pvio_blk_dcomp c[256];
	int got = 0;
	while (got < n) {
		int k = dev->ops->blk->reap(dev, 0, c + got, 256 - (unsigned)got);
		ck_assert_int_gt(k, 0);
		got += k;
	}
	for (int i = 0; i < n; i++)
		ck_assert_int_eq(c[i].status, 0);
	dev->ops->close(dev);
}
END_TEST

START_TEST(blk_unit_attention_retry)
{
	struct fh *f = new_host();
	pvio_dev *dev = open_blk(f, 1);
	uint8_t *buf = pvio_dma_alloc(ctx, 4096, 4096);
	struct pvio_dseg s = { buf, 0, 4096 };
	pvio_dma_translate(ctx, buf, 4096, &s.dev_addr);
	f->ua_next = 2;
	unsigned srbs = f->srbs;
	struct pvio_blk_dreq r = { .tag = 1, .op = PVIO_BLK_OP_READ, .nseg = 1,
				   .offset = 0, .len = 4096, .seg = &s };
	ck_assert_int_eq(dev->ops->blk->enqueue(dev, 0, &r), 0);
	dev->ops->blk->kick(dev, 0);
	struct pvio_blk_dcomp c[4];
	int n = 0;
	for (int i = 0; i < 5 && n == 0; i++)
		n = dev->ops->blk->reap(dev, 0, c, 4);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(c[0].status, 0);
	ck_assert_uint_eq(f->srbs - srbs, 3); /* two UAs, then success */
	/* capacity changed -> CONFIG_CHANGE event */
	struct pvio_event ev;
	ck_assert_int_eq(pvio_dev_next_event(dev, &ev), 1);
	ck_assert_int_eq(ev.type, PVIO_EVENT_CONFIG_CHANGE);
	ck_assert_int_eq(pvio_dev_state(dev, NULL), PVIO_DEV_READY);
	dev->ops->close(dev);
}
END_TEST

START_TEST(blk_medium_error)
{
	struct fh *f = new_host();
	pvio_dev *dev = open_blk(f, 1);
	uint8_t *buf = pvio_dma_alloc(ctx, 4096, 4096);
	struct pvio_dseg s = { buf, 0, 4096 };
	pvio_dma_translate(ctx, buf, 4096, &s.dev_addr);
	f->medium_next = 1;
	struct pvio_blk_dreq r = { .tag = 3, .op = PVIO_BLK_OP_READ, .nseg = 1,
				   .offset = 0, .len = 4096, .seg = &s };
	int32_t st;
	ck_assert_int_eq(submit_wait(dev, 0, &r, &st), 0);
	ck_assert_int_eq(st, -EIO);
	/* a SCSI error is not a broken host */
	ck_assert_int_eq(pvio_dev_state(dev, NULL), PVIO_DEV_READY);
	ck_assert_int_eq(submit_wait(dev, 0, &r, &st), 0);
	ck_assert_int_eq(st, 0);
	dev->ops->close(dev);
}
END_TEST

START_TEST(blk_hostile_completions)
{
	struct fh *f = new_host();
	pvio_dev *dev = open_blk(f, 1);
	uint8_t *buf = pvio_dma_alloc(ctx, 4096, 4096);
	struct pvio_dseg s = { buf, 0, 4096 };
	pvio_dma_translate(ctx, buf, 4096, &s.dev_addr);
	struct pvio_blk_dreq r = { .tag = 3, .op = PVIO_BLK_OP_READ, .nseg = 1,
				   .offset = 0, .len = 4096, .seg = &s };
	int32_t st;
	f->bogus_tid_next = 1;
	ck_assert_int_eq(submit_wait(dev, 0, &r, &st), -EIO);
	const char *why;
	ck_assert_int_eq(pvio_dev_state(dev, &why), PVIO_DEV_BROKEN);
	ck_assert_ptr_nonnull(strstr(why, "not outstanding"));
	ck_assert_int_eq(dev->ops->blk->enqueue(dev, 0, &r), -EIO);
	dev->ops->close(dev);

	f = new_host();
	dev = open_blk(f, 1);
	f->short_next = 1;
	ck_assert_int_eq(submit_wait(dev, 0, &r, &st), -EIO);
	ck_assert_int_eq(pvio_dev_state(dev, &why), PVIO_DEV_BROKEN);
	ck_assert_ptr_nonnull(strstr(why, "shorter"));
	dev->ops->close(dev);
}
END_TEST

START_TEST(blk_rescind_during_io)
{
	struct fh *f = new_host();
	pvio_dev *dev = open_blk(f, 1);
	uint8_t *buf = pvio_dma_alloc(ctx, 4096, 4096);
	struct pvio_dseg s = { buf, 0, 4096 };
	pvio_dma_translate(ctx, buf, 4096, &s.dev_addr);
	struct pvio_blk_dreq r = { .tag = 3, .op = PVIO_BLK_OP_READ, .nseg = 1,
				   .offset = 0, .len = 4096, .seg = &s };
	f->hold = true;
	ck_assert_int_eq(dev->ops->blk->enqueue(dev, 0, &r), 0);
	dev->ops->blk->kick(dev, 0);
	/* what conn.c does on RESCIND_CHANNELOFFER */
	__atomic_store_n(&f->chans[0]->gone, 1, __ATOMIC_RELEASE);
	struct pvio_blk_dcomp c[4];
	ck_assert_int_eq(dev->ops->blk->reap(dev, 0, c, 4), -ENODEV);
	const char *why;
	ck_assert_int_eq(pvio_dev_state(dev, &why), PVIO_DEV_REMOVED);
	ck_assert_ptr_nonnull(strstr(why, "rescinded"));
	ck_assert_int_eq(dev->ops->blk->enqueue(dev, 0, &r), -ENODEV);
	struct pvio_event ev;
	ck_assert_int_eq(pvio_dev_next_event(dev, &ev), 1);
	ck_assert_int_eq(ev.type, PVIO_EVENT_REMOVED);
	dev->ops->close(dev);
}
END_TEST

START_TEST(blk_quiesce)
{
	struct fh *f = new_host();
	pvio_dev *dev = open_blk(f, 1);
	uint8_t *buf = pvio_dma_alloc(ctx, 3 * 4096, 4096);
	struct pvio_dseg s[3];
	f->hold = true;
	for (uint32_t t = 0; t < 3; t++) {
		s[t].va = buf + 4096 * t;
		s[t].len = 4096;
		pvio_dma_translate(ctx, s[t].va, 4096, &s[t].dev_addr);
		struct pvio_blk_dreq r = { .tag = 10 + t, .op = PVIO_BLK_OP_READ,
					   .nseg = 1, .offset = 4096ull * t,
					   .len = 4096, .seg = &s[t] };
		ck_assert_int_eq(dev->ops->blk->enqueue(dev, 0, &r), 0);
	}
	dev->ops->blk->kick(dev, 0);
	f->hold = false; /* the host answers while pvio waits */
	f->ua_next = 1;  /* and one of them needs a retry */
	ck_assert_int_eq(dev->ops->quiesce(dev), 0);
	ck_assert_int_eq(pvio_dev_state(dev, NULL), PVIO_DEV_READY);
	struct pvio_blk_dreq r = { .tag = 20, .op = PVIO_BLK_OP_READ, .nseg = 1,
				   .offset = 0, .len = 4096, .seg = &s[0] };
	ck_assert_int_eq(dev->ops->blk->enqueue(dev, 0, &r), -EIO);
	struct pvio_blk_dcomp c[8];
	ck_assert_int_eq(dev->ops->blk->reap(dev, 0, c, 8), 3);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(c[i].status, 0);
	ck_assert_int_eq(dev->ops->blk->reap(dev, 0, c, 8), 0);
	/* configured again (e.g. a migration that went back): usable */
	struct pvio_dev_config cfg = { .num_queues = 1, .max_tags = 64 };
	ck_assert_int_eq(pvio_dev_configure(dev, &cfg), 0);
	int32_t st;
	ck_assert_int_eq(submit_wait(dev, 0, &r, &st), 0);
	ck_assert_int_eq(st, 0);

	/* a host that keeps requests: quiesce gives up at the deadline and
	 * closes the channel so the host stops */
	f->hold = true;
	ck_assert_int_eq(dev->ops->blk->enqueue(dev, 0, &r), 0);
	dev->ops->blk->kick(dev, 0);
	ck_assert_int_eq(dev->ops->quiesce(dev), 0);
	ck_assert_int_eq(pvio_dev_state(dev, NULL), PVIO_DEV_STOPPED);
	ck_assert_uint_eq(f->closes, 1);
	ck_assert_int_eq(dev->ops->blk->reap(dev, 0, c, 8), 0);
	/* the ring went with the channel: a kick touches neither */
	unsigned sig = f->signals;
	ck_assert_int_eq(dev->ops->blk->kick(dev, 0), -EIO);
	ck_assert_uint_eq(f->signals, sig);
	dev->ops->close(dev);
}
END_TEST

START_TEST(blk_silent_host)
{
	struct fh *f = new_host();
	f->hold = true;
	struct vmbus_offer o;
	f->h.ops->find(&f->h, &vmbus_guid_storvsc, 0, &o);
	pvio_dev *dev;
	ck_assert_int_eq(vmbus_blk_open(ctx, &f->h, &o, "storvsc0", NULL, &dev),
			 -ETIMEDOUT);
	ck_assert_ptr_nonnull(strstr(pvio_errmsg(ctx), "BEGIN_INITIALIZATION"));
	ck_assert_uint_eq(f->closes, f->opens);
	f->h.ops->free(&f->h);
}
END_TEST

START_TEST(blk_multiqueue)
{
	struct fh *f = new_host();
	pvio_dev *dev = open_blk(f, 3);
	ck_assert_uint_eq(dev->info.num_queues, 3);
	ck_assert(dev->info.features & PVIO_F_MULTIQUEUE);
	ck_assert_uint_eq(f->opens, 3);
	uint8_t *buf = pvio_dma_alloc(ctx, 4096, 4096);
	memset(buf, 0x77, 4096);
	struct pvio_dseg s = { buf, 0, 4096 };
	pvio_dma_translate(ctx, buf, 4096, &s.dev_addr);
	for (unsigned q = 0; q < 3; q++) {
		struct pvio_blk_dreq w = { .tag = q, .op = PVIO_BLK_OP_WRITE,
					   .nseg = 1, .offset = 65536ull * q,
					   .len = 4096, .seg = &s };
		int32_t st;
		ck_assert_int_eq(submit_wait(dev, q, &w, &st), 0);
		ck_assert_int_eq(st, 0);
		ck_assert_uint_eq(dev->stats[q].notify_sent, 1);
	}
	ck_assert_uint_eq(f->disk[65536 * 2], 0x77);
	dev->ops->quiesce(dev);
	dev->ops->close(dev);
}
END_TEST

/* ---------------------------------------------------------------- net tests */

static pvio_dev *open_net(struct fh *f, unsigned nq, uint64_t want)
{
	struct vmbus_offer o;
	ck_assert_int_eq(f->h.ops->find(&f->h, &vmbus_guid_netvsc, 0, &o), 0);
	pvio_dev *dev = NULL;
	int r = vmbus_net_open(ctx, &f->h, &o, "netvsc0", NULL, &dev);
	ck_assert_msg(r == 0, "open: %s", pvio_errmsg(ctx));
	struct pvio_dev_config cfg = { .num_queues = nq, .max_tags = 64,
				       .want = want };
	r = pvio_dev_configure(dev, &cfg);
	ck_assert_msg(r == 0, "configure: %s", pvio_errmsg(ctx));
	return dev;
}

static uint8_t *post_bufs(pvio_dev *dev, unsigned q, unsigned n)
{
	uint8_t *b = pvio_dma_alloc(ctx, n * 2048, 4096);
	for (unsigned i = 0; i < n; i++) {
		struct pvio_net_rxb rb = { .tag = 100 + i };
		rb.seg.va = b + 2048 * i;
		rb.seg.len = 2048;
		pvio_dma_translate(ctx, rb.seg.va, 2048, &rb.seg.dev_addr);
		ck_assert_int_eq(dev->ops->net->rx_post(dev, q, &rb), 0);
	}
	return b;
}

static int send_frame(pvio_dev *dev, unsigned q, uint8_t *frame, uint32_t len,
		      uint32_t tag, uint32_t flags)
{
	struct pvio_dseg s = { frame, 0, len };
	pvio_dma_translate(ctx, frame, len, &s.dev_addr);
	struct pvio_net_txd t = { .tag = tag, .nseg = 1, .len = len,
				  .flags = flags, .seg = &s };
	if (flags & PVIO_PKT_CSUM_PARTIAL) {
		t.csum_start = 34;
		t.csum_offset = 16;
	}
	if (flags & PVIO_PKT_GSO_TCPV4) {
		t.csum_start = 34;
		t.csum_offset = 16;
		t.gso_size = 1448;
		t.hdr_len = 66;
	}
	int r = dev->ops->net->tx_enqueue(dev, q, &t);
	if (r == 0)
		dev->ops->net->kick(dev, q, PVIO_NET_KICK_TX);
	return r;
}

static void make_frame(uint8_t *f, uint32_t len, uint8_t seed)
{
	memset(f, 0xff, 6);
	memcpy(f + 6, "\x00\x15\x5d\x01\x02\x03", 6);
	f[12] = 0x08;
	f[13] = 0x00;
	for (uint32_t i = 14; i < len; i++)
		f[i] = (uint8_t)(seed + i);
}

START_TEST(net_open_and_caps)
{
	struct fh *f = new_host();
	pvio_dev *dev = open_net(f, 1, PVIO_F_NET_CSUM_TX | PVIO_F_NET_CSUM_RX |
					      PVIO_F_NET_TSO4);
	const struct pvio_net_limits *L = &dev->limits.net;
	ck_assert_mem_eq(L->mac, "\x00\x15\x5d\x01\x02\x03", 6);
	ck_assert_uint_eq(L->mtu, 1500);
	ck_assert(L->link_up);
	ck_assert_uint_eq(L->max_queues, 4);
	ck_assert_str_eq(dev->info.protocol, "NVSP 6.1 / NDIS 6.30 / RNDIS 1.0");
	ck_assert_uint_eq(f->ndis_ver, 6u << 16 | 30);
	uint64_t want = PVIO_F_NET_CSUM_TX | PVIO_F_NET_CSUM_RX | PVIO_F_NET_TSO4;
	ck_assert_uint_eq(dev->info.features & want, want);
	ck_assert(!(dev->info.features & PVIO_F_NET_TSO6)); /* not asked */
	ck_assert(dev->info.offered & PVIO_F_NET_TSO6);
	ck_assert_uint_eq(f->filter, 0xd);
	ck_assert_uint_eq(f->offload_set & 0xff, 4);       /* tcp4 TX+RX */
	ck_assert_uint_eq(f->offload_set >> 8, 2);         /* LSOv2 ip4 on */
	ck_assert_uint_eq(L->max_tx_frame, 62780 + 14); /* LSOv2 maximum */
	dev->ops->close(dev);
	ck_assert_uint_eq(f->halted, 1);
	ck_assert_uint_eq(f->revoked, 2);
	ck_assert_uint_eq(f->buf_puts, 2);
	ck_assert_uint_eq(f->filter, 0);
	ck_assert_uint_eq(f->closes, f->opens);
	ck_assert_uint_eq(f->bad_acks, 0);
	ck_assert_uint_eq(f->xfers_out, 0); /* every receive section returned */
}
END_TEST

/* An MTU above the host's LSO maximum: with TSO the frame limit was the
 * LSO maximum, and frames the MTU allows were refused. */
START_TEST(net_mtu_above_lso_maximum)
{
	struct fh *f = new_host();
	f->mtu = 65000;
	f->lso_max = 16384;
	f->loopback = false;
	pvio_dev *dev = open_net(f, 1, PVIO_F_NET_CSUM_TX | PVIO_F_NET_TSO4);
	const struct pvio_net_limits *L = &dev->limits.net;
	ck_assert_uint_eq(L->mtu, 65000);
	ck_assert(dev->info.features & PVIO_F_NET_TSO4);
	ck_assert_uint_eq(L->max_tx_frame, 65000 + 18);
	uint8_t *fr = pvio_dma_alloc(ctx, 65536 + 4096, 4096);
	make_frame(fr, 65000 + 18, 3);
	ck_assert_int_eq(send_frame(dev, 0, fr, 65000 + 18, 1, 0), 0);
	/* LSO frames stay within the host's maximum */
	ck_assert_int_eq(send_frame(dev, 0, fr, 16384 + 15, 2,
				    PVIO_PKT_CSUM_PARTIAL | PVIO_PKT_GSO_TCPV4),
			 -EINVAL);
	ck_assert_int_eq(send_frame(dev, 0, fr, 16384 + 14, 3,
				    PVIO_PKT_CSUM_PARTIAL | PVIO_PKT_GSO_TCPV4),
			 0);
	dev->ops->close(dev);
}
END_TEST

START_TEST(net_nvsp_fallback)
{
	struct fh *f = new_host();
	f->nvsp_max = NVSP_VERSION_4;
	pvio_dev *dev = open_net(f, 1, 0);
	ck_assert_str_eq(dev->info.protocol, "NVSP 4.0 / NDIS 6.1 / RNDIS 1.0");
	ck_assert_uint_eq(dev->limits.net.max_queues, 1); /* no RSS below 5 */
	dev->ops->close(dev);
}
END_TEST

START_TEST(net_tx_rx_loopback)
{
	struct fh *f = new_host();
	pvio_dev *dev = open_net(f, 1, 0);
	uint8_t *rb = post_bufs(dev, 0, 16);
	uint8_t *fr = pvio_dma_alloc(ctx, 8192, 4096);
	/* small: through the send buffer (a copy) */
	make_frame(fr, 60, 1);
	ck_assert_int_eq(send_frame(dev, 0, fr, 60, 1, 0), 0);
	ck_assert_uint_eq(f->chimney, 1);
	ck_assert_uint_eq(f->frame_len, 60);
	ck_assert_mem_eq(f->frame, fr, 60);
	ck_assert_uint_eq(dev->stats[0].copies, 1);
	uint32_t tags[8];
	ck_assert_int_eq(dev->ops->net->tx_reap(dev, 0, tags, 8), 1);
	ck_assert_uint_eq(tags[0], 1);
	struct pvio_net_rxc rc[8];
	ck_assert_int_eq(dev->ops->net->rx_reap(dev, 0, rc, 8), 1);
	ck_assert_int_eq(rc[0].status, 0);
	ck_assert_uint_eq(rc[0].len, 60);
	ck_assert_uint_eq(rc[0].tag, 100);
	ck_assert_uint_eq(rc[0].flags, 0); /* CSUM_RX not negotiated */
	/* large: GPA-direct page ranges, frame crossing a page boundary */
	uint8_t *big = fr + 4096 - 700;
	make_frame(big, 1514, 9);
	ck_assert_int_eq(send_frame(dev, 0, big, 1514, 2, 0), 0);
	ck_assert_uint_eq(f->gpa, 1);
	ck_assert_uint_eq(f->frame_len, 1514);
	ck_assert_mem_eq(f->frame, big, 1514);
	ck_assert_int_eq(dev->ops->net->tx_reap(dev, 0, tags, 8), 1);
	ck_assert_uint_eq(tags[0], 2);
	ck_assert_int_eq(dev->ops->net->rx_reap(dev, 0, rc, 8), 1);
	ck_assert_uint_eq(rc[0].len, 1514);
	ck_assert_uint_eq(rc[0].tag, 101);
	ck_assert_mem_eq(rb, fr, 60);
	ck_assert_mem_eq(rb + 2048, big, 1514);
	ck_assert_uint_eq(f->xfers_out, 0);
	ck_assert_uint_eq(dev->stats[0].copies, 3); /* chimney + 2 receives */
	dev->ops->close(dev);
}
END_TEST

START_TEST(net_offload_ppi)
{
	struct fh *f = new_host();
	pvio_dev *dev = open_net(f, 1, PVIO_F_NET_CSUM_TX | PVIO_F_NET_CSUM_RX |
					      PVIO_F_NET_TSO4);
	post_bufs(dev, 0, 16);
	uint8_t *fr = pvio_dma_alloc(ctx, 70000, 4096);
	make_frame(fr, 1000, 3);
	ck_assert_int_eq(send_frame(dev, 0, fr, 1000, 1, PVIO_PKT_CSUM_PARTIAL), 0);
	ck_assert_uint_eq(f->csum_ppi, PPI_TXCSUM_IPV4 | PPI_TXCSUM_TCP |
					       (34u << 16));
	ck_assert_uint_eq(f->lso_ppi, 0);
	struct pvio_net_rxc rc[8];
	ck_assert_int_eq(dev->ops->net->rx_reap(dev, 0, rc, 8), 1);
	ck_assert_uint_eq(rc[0].flags, PVIO_PKT_CSUM_VALID);
	make_frame(fr, 20000, 4);
	ck_assert_int_eq(send_frame(dev, 0, fr, 20000, 2, PVIO_PKT_GSO_TCPV4), 0);
	ck_assert_uint_eq(f->lso_ppi, 1448u | 34u << 20 | PPI_LSO2);
	ck_assert_uint_eq(f->frame_len, 20000);
	ck_assert_mem_eq(f->frame, fr, 20000);
	/* TSO6 was not granted */
	fr[12] = 0x86;
	fr[13] = 0xdd;
	ck_assert_int_eq(send_frame(dev, 0, fr, 20000, 3, PVIO_PKT_GSO_TCPV6), -EINVAL);
	uint32_t tags[8];
	ck_assert_int_eq(dev->ops->net->tx_reap(dev, 0, tags, 8), 2);
	dev->ops->close(dev);
}
END_TEST

START_TEST(net_link_change)
{
	struct fh *f = new_host();
	pvio_dev *dev = open_net(f, 1, 0);
	post_bufs(dev, 0, 4);
	uint8_t m[20] = { 0 };
	p32(m, RNDIS_MSG_INDICATE);
	p32(m + 4, 20);
	p32(m + 8, RNDIS_STATUS_MEDIA_DISCONNECT);
	deliver(f, f->chans[0], m, 20, 1);
	struct pvio_net_rxc rc[4];
	ck_assert_int_eq(dev->ops->net->rx_reap(dev, 0, rc, 4), 0);
	struct pvio_event ev;
	ck_assert_int_eq(pvio_dev_next_event(dev, &ev), 1);
	ck_assert_int_eq(ev.type, PVIO_EVENT_LINK_CHANGE);
	ck_assert_uint_eq(ev.value, 0);
	ck_assert(!dev->limits.net.link_up);
	p32(m + 8, RNDIS_STATUS_MEDIA_CONNECT);
	deliver(f, f->chans[0], m, 20, 1);
	ck_assert_int_eq(dev->ops->net->rx_reap(dev, 0, rc, 4), 0);
	ck_assert_int_eq(pvio_dev_next_event(dev, &ev), 1);
	ck_assert_uint_eq(ev.value, 1);
	ck_assert_int_eq(pvio_dev_next_event(dev, &ev), 0);
	ck_assert_uint_eq(f->xfers_out, 0);
	dev->ops->close(dev);
}
END_TEST

START_TEST(net_keepalive)
{
	struct fh *f = new_host();
	f->zero_ctrl_ack = true; /* the uio/DPDK-style host's habit */
	pvio_dev *dev = open_net(f, 1, 0);
	uint8_t m[12] = { 0 };
	p32(m, RNDIS_MSG_KEEPALIVE);
	p32(m + 4, 12);
	p32(m + 8, 0x55);
	deliver(f, f->chans[0], m, 12, 1);
	struct pvio_net_rxc rc[4];
	ck_assert_int_eq(dev->ops->net->rx_reap(dev, 0, rc, 4), 0);
	ck_assert_uint_eq(f->keepalive_c, 1);
	ck_assert_uint_eq(f->keepalive_req, 0x55);
	ck_assert_int_eq(pvio_dev_state(dev, NULL), PVIO_DEV_READY);
	ck_assert_uint_eq(f->xfers_out, 0);
	dev->ops->close(dev);
}
END_TEST

/* the host fails bring-up steps: open fails with a message naming the
 * step, and everything opened so far is closed again */
START_TEST(bringup_failures)
{
	struct vmbus_offer o;
	pvio_dev *dev;
	struct fh *f = new_host();
	f->fail_begin_init = true;
	f->h.ops->find(&f->h, &vmbus_guid_storvsc, 0, &o);
	ck_assert_int_eq(vmbus_blk_open(ctx, &f->h, &o, "storvsc0", NULL, &dev),
			 -EIO);
	ck_assert_ptr_nonnull(strstr(pvio_errmsg(ctx), "BEGIN_INITIALIZATION"));
	ck_assert_uint_eq(f->closes, f->opens);
	f->h.ops->free(&f->h);

	f = new_host();
	f->refuse_recv_buf = true;
	f->h.ops->find(&f->h, &vmbus_guid_netvsc, 0, &o);
	ck_assert_int_eq(vmbus_net_open(ctx, &f->h, &o, "netvsc0", NULL, &dev),
			 -EIO);
	ck_assert_ptr_nonnull(strstr(pvio_errmsg(ctx), "receive buffer"));
	ck_assert_uint_eq(f->closes, f->opens);
	ck_assert_uint_eq(f->buf_puts, f->nbufs); /* GPADLs torn down */
	f->h.ops->free(&f->h);

	f = new_host();
	f->refuse_rndis_init = true;
	f->h.ops->find(&f->h, &vmbus_guid_netvsc, 0, &o);
	ck_assert_int_eq(vmbus_net_open(ctx, &f->h, &o, "netvsc0", NULL, &dev),
			 -EIO);
	ck_assert_ptr_nonnull(strstr(pvio_errmsg(ctx), "RNDIS INITIALIZE"));
	ck_assert_uint_eq(f->closes, f->opens);
	ck_assert_uint_eq(f->buf_puts, 2);
	f->h.ops->free(&f->h);

	f = new_host();
	f->hold = true; /* NVSP INIT never answered */
	f->h.ops->find(&f->h, &vmbus_guid_netvsc, 0, &o);
	ck_assert_int_eq(vmbus_net_open(ctx, &f->h, &o, "netvsc0", NULL, &dev),
			 -ETIMEDOUT);
	ck_assert_ptr_nonnull(strstr(pvio_errmsg(ctx), "NVSP INIT"));
	ck_assert_uint_eq(f->closes, f->opens);
	f->h.ops->free(&f->h);
}
END_TEST

START_TEST(net_rx_waits_for_buffers)
{
	struct fh *f = new_host();
	pvio_dev *dev = open_net(f, 1, 0);
	uint8_t *fr = pvio_dma_alloc(ctx, 4096, 4096);
	make_frame(fr, 100, 5);
	ck_assert_int_eq(send_frame(dev, 0, fr, 100, 1, 0), 0);
	struct pvio_net_rxc rc[4];
	ck_assert_int_eq(dev->ops->net->rx_reap(dev, 0, rc, 4), 0);
	ck_assert_uint_eq(f->xfers_out, 1); /* held until a buffer is posted */
	post_bufs(dev, 0, 1);
	ck_assert_int_eq(dev->ops->net->rx_reap(dev, 0, rc, 4), 1);
	ck_assert_uint_eq(rc[0].len, 100);
	ck_assert_uint_eq(f->xfers_out, 0);
	uint32_t tags[4];
	ck_assert_int_eq(dev->ops->net->tx_reap(dev, 0, tags, 4), 1);
	dev->ops->close(dev);
}
END_TEST

START_TEST(net_hostile_rndis)
{
	struct fh *f = new_host();
	pvio_dev *dev = open_net(f, 1, 0);
	post_bufs(dev, 0, 8);
	uint8_t *fr = pvio_dma_alloc(ctx, 4096, 4096);
	make_frame(fr, 100, 5);
	f->bad_rndis_next = 1; /* data length runs past the message */
	ck_assert_int_eq(send_frame(dev, 0, fr, 100, 1, 0), 0);
	struct pvio_net_rxc rc[4];
	ck_assert_int_eq(dev->ops->net->rx_reap(dev, 0, rc, 4), 0);
	ck_assert_uint_eq(dev->stats[0].rx_errors, 1);
	ck_assert_uint_eq(f->xfers_out, 0); /* returned to the host anyway */
	ck_assert_int_eq(pvio_dev_state(dev, NULL), PVIO_DEV_READY);
	/* the next frame is fine */
	ck_assert_int_eq(send_frame(dev, 0, fr, 100, 2, 0), 0);
	ck_assert_int_eq(dev->ops->net->rx_reap(dev, 0, rc, 4), 1);
	/* a transfer-page packet naming another page set: broken */
	f->bad_pageset_next = 1;
	ck_assert_int_eq(send_frame(dev, 0, fr, 100, 3, 0), 0);
	ck_assert_int_eq(dev->ops->net->rx_reap(dev, 0, rc, 4), -EIO);
	const char *why;
	ck_assert_int_eq(pvio_dev_state(dev, &why), PVIO_DEV_BROKEN);
	ck_assert_ptr_nonnull(strstr(why, "transfer-page"));
	dev->ops->close(dev);

	f = new_host();
	dev = open_net(f, 1, 0);
	fr = pvio_dma_alloc(ctx, 4096, 4096);
	make_frame(fr, 100, 5);
	f->loopback = false;
	f->bogus_comp_next = 1;
	ck_assert_int_eq(send_frame(dev, 0, fr, 100, 1, 0), 0);
	uint32_t tags[4];
	ck_assert_int_eq(dev->ops->net->tx_reap(dev, 0, tags, 4), -EIO);
	ck_assert_int_eq(pvio_dev_state(dev, &why), PVIO_DEV_BROKEN);
	ck_assert_ptr_nonnull(strstr(why, "not outstanding"));
	dev->ops->close(dev);
}
END_TEST

START_TEST(net_multiqueue)
{
	struct fh *f = new_host();
	pvio_dev *dev = open_net(f, 2, 0);
	ck_assert_uint_eq(dev->info.num_queues, 2);
	ck_assert_uint_eq(f->opens, 2);
	ck_assert_uint_eq(f->rss_set, 592);
	post_bufs(dev, 1, 4);
	uint8_t *fr = pvio_dma_alloc(ctx, 4096, 4096);
	make_frame(fr, 200, 7);
	ck_assert_int_eq(send_frame(dev, 1, fr, 200, 9, 0), 0);
	uint32_t tags[4];
	ck_assert_int_eq(dev->ops->net->tx_reap(dev, 1, tags, 4), 1);
	ck_assert_uint_eq(tags[0], 9);
	struct pvio_net_rxc rc[4];
	ck_assert_int_eq(dev->ops->net->rx_reap(dev, 1, rc, 4), 1);
	ck_assert_uint_eq(rc[0].len, 200);
	ck_assert_uint_eq(dev->stats[1].notify_sent, 2); /* tx + its ack */
	dev->ops->close(dev);
	ck_assert_uint_eq(f->closes, 2);
}
END_TEST

START_TEST(net_quiesce)
{
	struct fh *f = new_host();
	pvio_dev *dev = open_net(f, 1, 0);
	uint8_t *fr = pvio_dma_alloc(ctx, 4096, 4096);
	make_frame(fr, 1200, 5);
	f->hold = true;
	ck_assert_int_eq(send_frame(dev, 0, fr, 1200, 7, 0), 0);
	f->hold = false;
	ck_assert_int_eq(dev->ops->quiesce(dev), 0);
	ck_assert_uint_eq(f->filter, 0); /* receiving stopped */
	uint32_t tags[4];
	ck_assert_int_eq(dev->ops->net->tx_reap(dev, 0, tags, 4), 1);
	ck_assert_uint_eq(tags[0], 7);
	ck_assert_int_eq(send_frame(dev, 0, fr, 100, 8, 0), -EIO);
	struct pvio_dev_config cfg = { .num_queues = 1, .max_tags = 64 };
	ck_assert_int_eq(pvio_dev_configure(dev, &cfg), 0);
	ck_assert_uint_eq(f->filter, 0xd);
	ck_assert_int_eq(send_frame(dev, 0, fr, 100, 9, 0), 0);
	dev->ops->close(dev);
	ck_assert_uint_eq(f->xfers_out, 0);
}
END_TEST

/* fuzz_vmbus_net: after a quiesce that gave up and closed the channels,
 * kick wrote into the freed ring and signalled the closed channel. */
START_TEST(net_quiesce_gives_up)
{
	struct fh *f = new_host();
	pvio_dev *dev = open_net(f, 1, 0);
	uint8_t *fr = pvio_dma_alloc(ctx, 4096, 4096);
	make_frame(fr, 1200, 5);
	f->hold = true;
	ck_assert_int_eq(send_frame(dev, 0, fr, 1200, 7, 0), 0);
	ck_assert_int_eq(dev->ops->quiesce(dev), 0);
	ck_assert_int_eq(pvio_dev_state(dev, NULL), PVIO_DEV_STOPPED);
	ck_assert_uint_eq(f->closes, 1);
	unsigned sig = f->signals;
	ck_assert_int_eq(dev->ops->net->kick(dev, 0, PVIO_NET_KICK_TX |
							   PVIO_NET_KICK_RX),
			 -EIO);
	ck_assert_uint_eq(f->signals, sig);
	uint32_t tags[4];
	ck_assert_int_eq(dev->ops->net->tx_reap(dev, 0, tags, 4), 0);
	dev->ops->close(dev);
	pvio_dma_free(ctx, fr);
}
END_TEST

START_TEST(net_rescind)
{
	struct fh *f = new_host();
	pvio_dev *dev = open_net(f, 1, 0);
	uint8_t *fr = pvio_dma_alloc(ctx, 4096, 4096);
	make_frame(fr, 100, 5);
	f->hold = true;
	ck_assert_int_eq(send_frame(dev, 0, fr, 100, 1, 0), 0);
	__atomic_store_n(&f->chans[0]->gone, 1, __ATOMIC_RELEASE);
	uint32_t tags[4];
	ck_assert_int_eq(dev->ops->net->tx_reap(dev, 0, tags, 4), -ENODEV);
	ck_assert_int_eq(pvio_dev_state(dev, NULL), PVIO_DEV_REMOVED);
	ck_assert_int_eq(send_frame(dev, 0, fr, 100, 2, 0), -ENODEV);
	dev->ops->close(dev);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vmbus_dev");
	TCase *b = tcase_create("storvsc");
	tcase_add_checked_fixture(b, setup, teardown);
	tcase_add_test(b, blk_open_limits);
	tcase_add_test(b, blk_vstor_fallback);
	tcase_add_test(b, blk_rw_flush_discard);
	tcase_add_test(b, blk_batch_and_ring_full);
	tcase_add_test(b, blk_unit_attention_retry);
	tcase_add_test(b, blk_medium_error);
	tcase_add_test(b, blk_hostile_completions);
	tcase_add_test(b, blk_rescind_during_io);
	tcase_add_test(b, blk_quiesce);
	tcase_add_test(b, blk_silent_host);
	tcase_add_test(b, blk_multiqueue);
	suite_add_tcase(s, b);
	TCase *n = tcase_create("netvsc");
	tcase_add_checked_fixture(n, setup, teardown);
	tcase_add_test(n, net_open_and_caps);
	tcase_add_test(n, net_mtu_above_lso_maximum);
	tcase_add_test(n, net_nvsp_fallback);
	tcase_add_test(n, net_tx_rx_loopback);
	tcase_add_test(n, net_offload_ppi);
	tcase_add_test(n, net_link_change);
	tcase_add_test(n, net_keepalive);
	tcase_add_test(n, bringup_failures);
	tcase_add_test(n, net_rx_waits_for_buffers);
	tcase_add_test(n, net_hostile_rndis);
	tcase_add_test(n, net_multiqueue);
	tcase_add_test(n, net_quiesce);
	tcase_add_test(n, net_quiesce_gives_up);
	tcase_add_test(n, net_rescind);
	suite_add_tcase(s, n);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
