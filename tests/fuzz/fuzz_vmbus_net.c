/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_vmbus_net.c - NetVSC (backends/vmbus/net.c) against a
 * NetVSP the fuzzer plays.
 *
 * The host (vmfx.c) answers NVSP (INIT, receive and send buffers and
 * their section layout, SUBCHANNEL) and RNDIS (INITIALIZE, QUERY of MTU,
 * MAC, offload and RSS capabilities, link state and speed, SET) with sane
 * or fuzzed values; RNDIS completions and received frames go through the
 * receive buffer and transfer-page packets, as on Hyper-V.  On the data
 * path it completes transmissions (now, later, out of order, twice, with
 * unknown ids), sends frames with per-packet info, status indications,
 * keepalives, and hostile transfer-page packets (ranges outside the
 * buffer, bad page-set ids, too many ranges, RNDIS offsets and lengths
 * that lie) and raw bytes.
 *
 * Properties:
 *  - a transmit tag completes once, only while outstanding, and (honest
 *    host) every transmission completes;
 *  - a received frame is delivered into a posted buffer, once, and
 *    (honest host) is exactly the frame the host sent, in order;
 *    frames the buffer cannot hold come back as errors;
 *  - the packets pvio writes are well-formed; RNDIS requests in guest
 *    memory are complete messages; transmit ranges lie in guest memory;
 *  - frames within the limits are never refused as invalid;
 *  - an honest host never gets the device marked broken.
 */
#include "fuzz.h"
#include "vmfx.h"

#include "backends/vmbus/netvsc.h"

#define TAGS 8u
#define MAXQ 2u
#define SECS 64u

enum { T_IDLE, T_OUT };

struct sentf {           /* a frame the host sent honestly */
	uint32_t len;
	uint8_t head[32];
	bool err;        /* pvio must report it as an error */
};

struct heldtx {
	uint64_t tid;
};

struct h {
	struct fz *f;
	pvio_ctx *ctx;
	struct vmfx x;
	pvio_dev *dev;
	unsigned nq;
	uint32_t tags;
	uint8_t tx[MAXQ][TAGS];
	uint8_t rx[MAXQ][TAGS];
	uint8_t *rxbuf[MAXQ][TAGS];
	uint32_t rxlen[MAXQ][TAGS];
	/* posted buffers and sent frames, in order, per queue */
	uint32_t posted[MAXQ][64];
	unsigned ph[MAXQ], pn[MAXQ];
	struct sentf frames[MAXQ][64];
	unsigned fh[MAXQ], fn[MAXQ];
	struct heldtx held[MAXQ][16];
	unsigned nheld[MAXQ];
	uint8_t *txbuf;
	/* the host's view */
	uint32_t recv_gpadl, send_gpadl;
	uint32_t sec_size, sec_count;
	uint64_t sec_tid[SECS];     /* xfer id holding a section, 0 free */
	uint64_t next_xfer;
	uint32_t send_sec;
	bool hostile, lazy, opening;
	bool rx_uncertain;   /* pvio dropped frames on purpose (quiesce) */
	uint32_t mtu;
};

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

/* ---------------------------------------------------------------- host */

/* Put an RNDIS message into a free receive-buffer section and send the
 * transfer-page packet for it. */
static bool xfer(struct h *h, unsigned c, const uint8_t *msg, uint32_t len,
		 bool control)
{
	struct vmfx_buf *rb = vmfx_buf(&h->x, h->recv_gpadl);
	if (!rb || !h->sec_size || len > h->sec_size)
		return false;
	unsigned s = SECS;
	for (unsigned i = 0; i < SECS && i < h->sec_count; i++)
		if (!h->sec_tid[i]) {
			s = i;
			break;
		}
	if (s == SECS)
		return false;
	uint64_t off = (uint64_t)s * h->sec_size;
	if (off + len > rb->len)
		return false;
	memcpy((uint8_t *)rb->va + off, msg, len);
	uint64_t tid = ++h->next_xfer;
	uint8_t pkt[16 + 8 + 8 + 16];
	memset(pkt, 0, sizeof(pkt));
	uint16_t type = VMBUS_PKT_XFER_PAGES, off8 = 4, len8 = 6, fl = 1;
	memcpy(pkt, &type, 2);
	memcpy(pkt + 2, &off8, 2);
	memcpy(pkt + 4, &len8, 2);
	memcpy(pkt + 6, &fl, 2);
	memcpy(pkt + 8, &tid, 8);
	uint16_t ps = NVSP_RECV_BUF_ID;
	memcpy(pkt + 16, &ps, 2);
	p32(pkt + 20, 1);
	p32(pkt + 24, len);
	p32(pkt + 28, (uint32_t)off);
	p32(pkt + 32, NVSP_MSG_SEND_RNDIS_PKT);
	p32(pkt + 36, control ? 1 : 0);
	p32(pkt + 40, NVSP_NO_SECTION);
	if (vmfx_put(&h->x, c, pkt, sizeof(pkt)) < 0)
		return false;
	h->sec_tid[s] = tid;
	return true;
}

/* An RNDIS reply to a request in guest memory. */
static void rndis_reply(struct h *h, unsigned c, const uint8_t *req,
			uint32_t rlen)
{
	struct fz *f = h->f;
	uint8_t m[512];
	memset(m, 0, sizeof(m));
	uint32_t type = g32(req), id = rlen >= 12 ? g32(req + 8) : 0;
	uint32_t len = 16;
	uint8_t k = fz_u8(f);
	uint32_t status = k >= 0xf0 ? fz_u32(f) : RNDIS_STATUS_SUCCESS;
	switch (type) {
	case RNDIS_MSG_INIT:
		p32(m, RNDIS_MSG_INIT_C);
		len = 52;
		p32(m + 16, 1);
		p32(m + 36, k & 1 ? fz_u32(f) : 0x4000);
		break;
	case RNDIS_MSG_QUERY: {
		FZ_ASSERT(rlen >= 28, "RNDIS QUERY of %u bytes", rlen);
		uint32_t oid = g32(req + 12);
		uint8_t info[200];
		uint32_t il = 4;
		memset(info, 0, sizeof(info));
		switch (oid) {
		case OID_GEN_MAXIMUM_FRAME_SIZE:
			p32(info, h->mtu);
			break;
		case OID_802_3_PERMANENT_ADDRESS: {
			uint8_t mac[6] = { 0x00, 0x15, 0x5d, 1, 2, 3 };
			memcpy(info, mac, 6);
			il = 6;
			break;
		}
		case OID_TCP_OFFLOAD_HARDWARE_CAPABILITIES:
			info[0] = NDIS_OBJ_OFFLOAD;
			info[2] = 112;
			il = 112;
			for (int i = 8; i < 40; i += 8)
				p32(info + i, NDIS_CSUM_TCP | NDIS_CSUM_UDP);
			break;
		case OID_GEN_MEDIA_CONNECT_STATUS:
			p32(info, 0);
			break;
		case OID_GEN_LINK_SPEED:
			p32(info, 100000000);
			break;
		case OID_GEN_RECEIVE_SCALE_CAPABILITIES:
			info[0] = NDIS_OBJ_RSS_CAPS;
			info[2] = 16;
			p32(info + 12, 4);
			il = 16;
			break;
		default:
			break;
		}
		if (k & 2) { /* the host's own idea of the answer */
			il = fz_below(f, sizeof(info));
			fz_bytes(f, info, il);
		}
		p32(m, RNDIS_MSG_QUERY_C);
		p32(m + 16, il);
		p32(m + 20, 16);
		memcpy(m + 24, info, il);
		len = 24 + il;
		if (k & 4) { /* an info offset/length that lies */
			h->hostile = true;
			p32(m + 16, fz_u32(f));
			p32(m + 20, fz_u32(f));
		}
		break;
	}
	case RNDIS_MSG_SET:
		p32(m, RNDIS_MSG_SET_C);
		break;
	case RNDIS_MSG_KEEPALIVE_C:
	case RNDIS_MSG_HALT:
		return;
	default:
		FZ_ASSERT(0, "pvio sent RNDIS message 0x%x", type);
	}
	p32(m + 4, len);
	p32(m + 8, id);
	p32(m + 12, status);
	if (k & 8)
		p32(m + 8, fz_u32(f)); /* another request's id */
	xfer(h, c, m, len, true);
}

/* Read the RNDIS message a GPA-direct packet points at. */
static uint32_t gpa_read(struct h *h, const uint8_t *pkt, uint32_t hlen,
			 uint8_t *dst, uint32_t cap)
{
	FZ_ASSERT(hlen >= 40, "GPA-direct packet header of %u bytes", hlen);
	uint32_t nr = g32(pkt + 20), done = 0;
	FZ_ASSERT(nr >= 1 && 24 + 16ull * nr <= hlen, "%u ranges in %u bytes",
		  nr, hlen);
	/* each range: byte count, offset, one pfn (pvio never spans pages) */
	for (uint32_t i = 0; i < nr && done < cap; i++) {
		const uint8_t *r = pkt + 24 + 16 * i;
		uint32_t cnt = g32(r), off = g32(r + 4);
		uint64_t pfn;
		memcpy(&pfn, r + 8, 8);
		FZ_ASSERT(cnt && off + cnt <= VMBUS_PAGE, "range %u+%u crosses a "
			  "page", off, cnt);
		uint8_t *va = vmfx_pfn_va(&h->x, pfn);
		FZ_ASSERT(va, "range in page 0x%llx outside guest memory",
			  (unsigned long long)pfn);
		uint32_t n = cnt < cap - done ? cnt : cap - done;
		memcpy(dst + done, va + off, n);
		done += n;
	}
	return done;
}

static void comp(struct h *h, unsigned c, uint64_t tid, uint32_t type,
		 uint32_t st)
{
	uint8_t p[8];
	p32(p, type);
	p32(p + 4, st);
	vmfx_send(&h->x, c, VMBUS_PKT_COMP, 0, tid, p, sizeof(p));
}

static void nvsp(struct h *h, unsigned c, const uint8_t *pkt, uint32_t n)
{
	struct fz *f = h->f;
	struct vmbus_pkt_desc d;
	memcpy(&d, pkt, sizeof(d));
	uint32_t hlen = d.offset8 * 8u;
	FZ_ASSERT(n >= hlen + 8, "NVSP packet of %u bytes", n);
	const uint8_t *m = pkt + hlen;
	uint32_t type = g32(m);
	uint8_t r[64];
	memset(r, 0, sizeof(r));
	uint8_t k = fz_u8(f);
	switch (type) {
	case NVSP_MSG_INIT:
		p32(r, NVSP_MSG_INIT_COMPLETE);
		p32(r + 4, g32(m + 4));
		p32(r + 12, (k & 0x0f) == 0x0f ? 0 : NVSP_STAT_SUCCESS);
		vmfx_send(&h->x, c, VMBUS_PKT_COMP, 0, d.trans_id, r, 16);
		break;
	case NVSP_MSG_SEND_RECV_BUF: {
		h->recv_gpadl = g32(m + 4);
		struct vmfx_buf *b = vmfx_buf(&h->x, h->recv_gpadl);
		FZ_ASSERT(b, "SEND_RECV_BUF names GPADL 0x%x, never made",
			  h->recv_gpadl);
		h->sec_size = 4096 << fz_below(f, 3);
		h->sec_count = (uint32_t)(b->len / h->sec_size);
		if (h->sec_count > SECS)
			h->sec_count = SECS;
		p32(r, NVSP_MSG_SEND_RECV_BUF_COMPLETE);
		p32(r + 4, NVSP_STAT_SUCCESS);
		p32(r + 8, 1);
		p32(r + 12, 0);
		p32(r + 16, h->sec_size);
		p32(r + 20, h->sec_count);
		p32(r + 24, h->sec_size * h->sec_count);
		if (k & 0x80) { /* a layout the host invents */
			h->hostile = true;
			for (int i = 8; i < 28; i += 4)
				if (fz_bool(f))
					p32(r + i, fz_u32(f));
		}
		vmfx_send(&h->x, c, VMBUS_PKT_COMP, 0, d.trans_id, r, 28);
		break;
	}
	case NVSP_MSG_SEND_SEND_BUF:
		h->send_gpadl = g32(m + 4);
		FZ_ASSERT(vmfx_buf(&h->x, h->send_gpadl), "SEND_SEND_BUF names "
			  "GPADL 0x%x, never made", h->send_gpadl);
		h->send_sec = k & 0x80 ? fz_u32(f) : 6144;
		p32(r, NVSP_MSG_SEND_SEND_BUF_COMPLETE);
		p32(r + 4, NVSP_STAT_SUCCESS);
		p32(r + 8, h->send_sec);
		vmfx_send(&h->x, c, VMBUS_PKT_COMP, 0, d.trans_id, r, 12);
		break;
	case NVSP_MSG_SUBCHANNEL:
		p32(r, NVSP_MSG_SUBCHANNEL);
		p32(r + 4, NVSP_STAT_SUCCESS);
		p32(r + 8, k & 1 ? fz_u32(f) : g32(m + 8));
		vmfx_send(&h->x, c, VMBUS_PKT_COMP, 0, d.trans_id, r, 12);
		break;
	case NVSP_MSG_SEND_RNDIS_PKT: {
		/* a transmission from the send buffer */
		uint32_t sec = g32(m + 8), sz = g32(m + 12);
		struct vmfx_buf *sb = vmfx_buf(&h->x, h->send_gpadl);
		FZ_ASSERT(sb && h->send_sec && sec < sb->len / h->send_sec &&
			  sz <= h->send_sec, "send-buffer section %u size %u",
			  sec, sz);
		const uint8_t *msg = (uint8_t *)sb->va + (size_t)sec * h->send_sec;
		FZ_ASSERT(g32(msg) == RNDIS_MSG_PACKET && g32(msg + 4) == sz,
			  "send-buffer section holds no RNDIS packet of %u bytes",
			  sz);
		goto data;
	}
	case NVSP_MSG_SEND_NDIS_CONFIG:
	case NVSP_MSG_SEND_NDIS_VER:
	case NVSP_MSG_REVOKE_RECV_BUF:
	case NVSP_MSG_REVOKE_SEND_BUF:
		break;
	default:
		FZ_ASSERT(0, "pvio sent NVSP message %u", type);
	}
	return;
data:
	if ((fz_u8(f) & 3) == 3 && h->nheld[c % MAXQ] < 16 && !h->opening) {
		h->held[c % MAXQ][h->nheld[c % MAXQ]++].tid = d.trans_id;
		return;
	}
	comp(h, c, d.trans_id, NVSP_MSG_SEND_RNDIS_PKT_COMPLETE,
	     fz_u8(f) >= 0xf0 ? 2 : NVSP_STAT_SUCCESS);
}

static void gpa_packet(struct h *h, unsigned c, const uint8_t *pkt, uint32_t n)
{
	struct fz *f = h->f;
	struct vmbus_pkt_desc d;
	memcpy(&d, pkt, sizeof(d));
	uint32_t hlen = d.offset8 * 8u;
	FZ_ASSERT(n >= hlen + 16, "GPA packet payload");
	const uint8_t *nv = pkt + hlen;
	FZ_ASSERT(g32(nv) == NVSP_MSG_SEND_RNDIS_PKT, "GPA packet with NVSP %u",
		  g32(nv));
	uint8_t msg[2048];
	uint32_t got = gpa_read(h, pkt, hlen, msg, sizeof(msg));
	FZ_ASSERT(got >= 8, "RNDIS message of %u bytes", got);
	if (g32(nv + 4) == 1) {
		/* control: the request is complete in the first range */
		FZ_ASSERT(g32(msg + 4) <= got, "RNDIS request of %u bytes in %u",
			  g32(msg + 4), got);
		comp(h, c, d.trans_id, NVSP_MSG_SEND_RNDIS_PKT_COMPLETE,
		     NVSP_STAT_SUCCESS);
		rndis_reply(h, c, msg, got);
		return;
	}
	FZ_ASSERT(g32(msg) == RNDIS_MSG_PACKET, "data send of RNDIS 0x%x",
		  g32(msg));
	if ((fz_u8(f) & 3) == 3 && h->nheld[c % MAXQ] < 16) {
		h->held[c % MAXQ][h->nheld[c % MAXQ]++].tid = d.trans_id;
		return;
	}
	comp(h, c, d.trans_id, NVSP_MSG_SEND_RNDIS_PKT_COMPLETE,
	     fz_u8(f) >= 0xf0 ? 2 : NVSP_STAT_SUCCESS);
}

/* The host sends a frame (honest unless it says otherwise). */
static void send_frame(struct h *h, unsigned c)
{
	struct fz *f = h->f;
	uint8_t m[4096];
	uint8_t k = fz_u8(f);
	uint32_t flen = 14 + fz_below(f, 1500);
	uint32_t ppi = k & 1 ? 16 : 0;
	uint32_t len = 44 + ppi + flen;
	if (!h->sec_size || len > h->sec_size || len > sizeof(m))
		return;
	memset(m, 0, sizeof(m));
	p32(m, RNDIS_MSG_PACKET);
	p32(m + 4, len);
	p32(m + 8, 36 + ppi);
	p32(m + 12, flen);
	if (ppi) {
		p32(m + 28, 36);
		p32(m + 32, ppi);
		p32(m + 44, 16);
		p32(m + 48, PPI_TCPIP_CHECKSUM);
		p32(m + 52, 12);
		p32(m + 56, fz_u8(f));
	}
	uint8_t *fr = m + 44 + ppi;
	fz_bytes(f, fr, flen < 32 ? flen : 32);
	bool honest = true;
	if ((k & 0xe0) == 0xe0) { /* offsets and lengths that lie */
		h->hostile = true;
		honest = false;
		p32(m + 4 + 4 * fz_below(f, 8), fz_u32(f));
	}
	if (!xfer(h, c, m, len, false))
		return;
	if (honest && h->fn[c] < 64) {
		struct sentf *s = &h->frames[c][(h->fh[c] + h->fn[c]++) % 64];
		s->len = flen;
		memcpy(s->head, fr, 32);
		s->err = false;
	}
}

static void host_hostile(struct h *h, unsigned c)
{
	struct fz *f = h->f;
	h->hostile = true;
	switch (fz_u8(f) % 6) {
	case 0: /* a completion with any id */
		comp(h, c, fz_u8(f) ? fz_below(f, 300) : fz_u64(f),
		     NVSP_MSG_SEND_RNDIS_PKT_COMPLETE, NVSP_STAT_SUCCESS);
		break;
	case 1: /* a held transmission completed twice */
		if (h->nheld[c]) {
			comp(h, c, h->held[c][0].tid,
			     NVSP_MSG_SEND_RNDIS_PKT_COMPLETE, NVSP_STAT_SUCCESS);
			comp(h, c, h->held[c][0].tid,
			     NVSP_MSG_SEND_RNDIS_PKT_COMPLETE, NVSP_STAT_SUCCESS);
		}
		break;
	case 2: { /* a transfer-page packet with any header and ranges */
		uint8_t pkt[16 + 8 + 8 * 8 + 16];
		fz_bytes(f, pkt, sizeof(pkt));
		uint16_t type = VMBUS_PKT_XFER_PAGES;
		memcpy(pkt, &type, 2);
		uint16_t off8 = (uint16_t)(3 + fz_below(f, 9));
		memcpy(pkt + 2, &off8, 2);
		vmfx_put(&h->x, c, pkt, 8u * (off8 + 2u));
		break;
	}
	case 3: { /* an RNDIS message with any bytes in a section */
		uint8_t m[256];
		fz_bytes(f, m, sizeof(m));
		if (fz_bool(f))
			p32(m, fz_bool(f) ? RNDIS_MSG_PACKET : RNDIS_MSG_INDICATE);
		xfer(h, c, m, 8 + fz_below(f, sizeof(m) - 8), fz_bool(f));
		break;
	}
	case 4: { /* raw ring bytes */
		uint8_t pkt[64];
		fz_bytes(f, pkt, sizeof(pkt));
		vmfx_put(&h->x, c, pkt, 8u * (1 + fz_below(f, 8)));
		break;
	}
	default: { /* a packet of another type */
		uint8_t p[16];
		fz_bytes(f, p, sizeof(p));
		vmfx_send(&h->x, c, fz_u16(f), 0, fz_u64(f), p, sizeof(p));
		break;
	}
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
	unsigned hc = c % MAXQ;
	while (h->nheld[hc] && fz_u8(f) < 0xc0) {
		unsigned i = fz_below(f, h->nheld[hc]);
		uint64_t tid = h->held[hc][i].tid;
		h->held[hc][i] = h->held[hc][--h->nheld[hc]];
		comp(h, c, tid, NVSP_MSG_SEND_RNDIS_PKT_COMPLETE,
		     NVSP_STAT_SUCCESS);
	}
	for (;;) {
		uint8_t pkt[2048];
		int n = vmfx_get(x, c, pkt, sizeof(pkt));
		FZ_ASSERT(n >= 0, "pvio wrote a malformed packet on channel %u", c);
		if (!n)
			break;
		struct vmbus_pkt_desc d;
		memcpy(&d, pkt, sizeof(d));
		switch (d.type) {
		case VMBUS_PKT_INBAND:
			nvsp(h, c, pkt, (uint32_t)n);
			break;
		case VMBUS_PKT_GPA_DIRECT:
			gpa_packet(h, c, pkt, (uint32_t)n);
			break;
		case VMBUS_PKT_COMP: {
			/* pvio returns receive sections */
			bool known = false;
			for (unsigned i = 0; i < SECS; i++)
				if (h->sec_tid[i] == d.trans_id && d.trans_id) {
					h->sec_tid[i] = 0;
					known = true;
				}
			FZ_ASSERT(known || h->hostile, "pvio completed transfer %llu, "
				  "which the host never sent",
				  (unsigned long long)d.trans_id);
			break;
		}
		default:
			FZ_ASSERT(0, "pvio wrote packet type %u", d.type);
		}
	}
	if (h->nheld[hc] && waited)
		h->lazy = true;
	if (!h->opening && (mode & 0xf0) == 0xe0)
		send_frame(h, c);
	if (!h->opening && (mode & 0xf0) == 0xf0)
		host_hostile(h, c);
}

/* ---------------------------------------------------------------- front */

static void send(struct h *h)
{
	struct fz *f = h->f;
	const struct pvio_net_limits *L = &h->dev->limits.net;
	unsigned qi = fz_below(f, h->nq);
	uint32_t tag = fz_below(f, h->tags);
	if (h->tx[qi][tag] != T_IDLE)
		return;
	uint32_t max = L->max_tx_frame < 8192 ? L->max_tx_frame : 8192;
	if (max > L->mtu + 18)
		max = L->mtu + 18;
	struct pvio_net_txd d = { .tag = tag };
	d.len = 14 + fz_u16(f) % (max - 13);
	unsigned nseg = 1 + fz_below(f, L->max_tx_segments < 8
					       ? L->max_tx_segments : 8);
	struct pvio_dseg seg[8];
	uint32_t left = d.len, off = fz_below(f, 4096);
	unsigned n = 0;
	for (; n < nseg && left; n++) {
		uint32_t len = n + 1 == nseg ? left : 1 + fz_u16(f) % left;
		seg[n].va = h->txbuf + off;
		seg[n].len = len;
		FZ_ASSERT(pvio_dma_translate(h->ctx, seg[n].va, len,
					     &seg[n].dev_addr) == 0, "dma");
		off += len;
		left -= len;
	}
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
		  "%u, segs %u)", d.len, n, L->max_tx_frame, L->max_tx_segments);
	if (e == 0)
		h->tx[qi][tag] = T_OUT;
}

static void post(struct h *h)
{
	struct fz *f = h->f;
	unsigned qi = fz_below(f, h->nq);
	uint32_t tag = fz_below(f, h->tags);
	if (h->rx[qi][tag] != T_IDLE || h->pn[qi] == 64)
		return;
	struct pvio_net_rxb b = { .tag = tag };
	b.seg.va = h->rxbuf[qi][tag];
	b.seg.len = h->rxlen[qi][tag];
	FZ_ASSERT(pvio_dma_translate(h->ctx, b.seg.va, b.seg.len,
				     &b.seg.dev_addr) == 0, "dma");
	int e = h->dev->ops->net->rx_post(h->dev, qi, &b);
	FZ_ASSERT(e != -EINVAL, "an RX buffer of %u bytes was refused", b.seg.len);
	if (e == 0) {
		h->rx[qi][tag] = T_OUT;
		h->posted[qi][(h->ph[qi] + h->pn[qi]++) % 64] = tag;
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
		FZ_ASSERT(tags[i] < h->tags && h->tx[qi][tags[i]] == T_OUT,
			  "tx completion of tag %u, not outstanding", tags[i]);
		h->tx[qi][tags[i]] = T_IDLE;
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
		FZ_ASSERT(tag < h->tags && h->rx[qi][tag] == T_OUT,
			  "rx completion of tag %u, not posted", tag);
		FZ_ASSERT(h->pn[qi] && h->posted[qi][h->ph[qi]] == tag,
			  "rx completion of tag %u out of posting order", tag);
		h->ph[qi] = (h->ph[qi] + 1) % 64;
		h->pn[qi]--;
		h->rx[qi][tag] = T_IDLE;
		fz_note("rx q%u tag %u: %d len %u", qi, tag, c[i].status,
			c[i].len);
		if (c[i].status == 0)
			FZ_ASSERT(c[i].offset + c[i].len <= h->rxlen[qi][tag],
				  "frame %u+%u outside a %u-byte buffer",
				  c[i].offset, c[i].len, h->rxlen[qi][tag]);
		if (h->hostile || h->rx_uncertain)
			continue;
		FZ_ASSERT(h->fn[qi], "a frame the host never sent");
		struct sentf *s = &h->frames[qi][h->fh[qi]];
		h->fh[qi] = (h->fh[qi] + 1) % 64;
		h->fn[qi]--;
		if (s->len > h->rxlen[qi][tag]) {
			FZ_ASSERT(c[i].status < 0, "a %u-byte frame in a %u-byte "
				  "buffer", s->len, h->rxlen[qi][tag]);
			continue;
		}
		FZ_ASSERT(c[i].status == 0 && c[i].len == s->len &&
			  !memcmp(h->rxbuf[qi][tag] + c[i].offset, s->head,
				  s->len < 32 ? s->len : 32),
			  "frame of %u bytes came back as %d, %u bytes", s->len,
			  c[i].status, c[i].len);
	}
}

static void one(struct fz *f)
{
	struct h *h = calloc(1, sizeof(*h));
	FZ_ASSERT(h, "calloc");
	h->f = f;
	h->ctx = fz_ctx(32u << 20, 50);
	uint8_t c0 = fz_u8(f);
	h->mtu = c0 & 1 ? 9000 : 1500;
	vmfx_init(&h->x, h->ctx, f, &vmbus_guid_netvsc, c0 >> 4 & 3);
	h->x.h.version = c0 & 2 ? VMBUS_VERSION(3, 0) : VMBUS_VERSION(5, 0);
	h->x.process = process;
	h->x.arg = h;
	h->tags = 1 + fz_below(f, TAGS);
	uint64_t want = (uint64_t)fz_u8(f) << 32;
	struct vmbus_offer offer;
	FZ_ASSERT(h->x.h.ops->find(&h->x.h, &vmbus_guid_netvsc, 0, &offer) == 0,
		  "find");
	h->opening = true;
	int r = vmbus_net_open(h->ctx, &h->x.h, &offer, "netvsc0", NULL, &h->dev);
	fz_note("open: %d %s", r, r < 0 ? pvio_errmsg(h->ctx) : "");
	if (r < 0) {
		FZ_ASSERT(*pvio_errmsg(h->ctx), "open failed without a message");
		h->opening = false;
		goto out;
	}
	const struct pvio_net_limits *L = &h->dev->limits.net;
	FZ_ASSERT(L->mtu >= 68 && L->max_tx_segments >= 1 &&
		  L->max_tx_frame >= L->mtu + 14 && L->max_queues >= 1 &&
		  L->rx_buf_min <= L->mtu + 18,
		  "limits: mtu %u segs %u frame %u rxmin %u", L->mtu,
		  L->max_tx_segments, L->max_tx_frame, L->rx_buf_min);
	h->nq = L->max_queues < MAXQ ? L->max_queues : MAXQ;
	if (c0 & 4)
		h->nq = 1;
	struct pvio_dev_config cfg = { .num_queues = h->nq, .max_tags = h->tags,
				       .want = want };
	r = pvio_dev_configure(h->dev, &cfg);
	h->opening = false;
	fz_note("configure: %d %s", r, r < 0 ? pvio_errmsg(h->ctx) : "");
	if (r < 0)
		goto close;
	h->txbuf = pvio_dma_alloc(h->ctx, 16384, VMBUS_PAGE);
	FZ_ASSERT(h->txbuf, "dma");
	for (unsigned q = 0; q < h->nq; q++)
		for (uint32_t t = 0; t < h->tags; t++) {
			h->rxlen[q][t] = t & 1 ? 2048 : 600;
			h->rxbuf[q][t] = fz_dma_get(h->ctx, h->rxlen[q][t], 64);
			FZ_ASSERT(h->rxbuf[q][t], "dma");
		}

	for (unsigned step = 0; step < 200 && fz_left(f); step++) {
		uint8_t op = fz_u8(f);
		unsigned qi = fz_below(f, h->nq);
		switch (op & 7) {
		case 0:
			send(h);
			break;
		case 1:
			post(h);
			break;
		case 2:
			h->dev->ops->net->kick(h->dev, qi, 3);
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
				host_hostile(h, qi);
			else if ((op & 0xf0) == 0xe0)
				send_frame(h, qi);
			else
				h->dev->ops->service(h->dev);
			break;
		default:
			if ((op & 0xf0) == 0xf0) {
				h->opening = true;
				h->dev->ops->quiesce(h->dev);
				h->opening = false;
				h->rx_uncertain = true;
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
	h->opening = true;
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
		fzb_u8(&b, (uint8_t)((v & 3) | 0x10)); /* one sub-channel */
		fzb_u8(&b, 3);      /* tags */
		fzb_u8(&b, 0x18);   /* checksum offloads */
		for (int i = 0; i < 200; i++)
			fzb_u8(&b, 0);
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
				fzb_u16(&b, (uint16_t)(60 + 300 * k));
				fzb_u8(&b, 0);
				fzb_u16(&b, 100);
			}
			fzb_u8(&b, 2);              /* kick */
			fzb_u8(&b, 0);
			fzb_u8(&b, 0xe3);           /* host, then a frame */
			fzb_u8(&b, 0);
			fzb_u8(&b, 0xe0);
			for (int i = 0; i < 12; i++)
				fzb_u8(&b, 0);
			fzb_u8(&b, 0);
			fzb_u16(&b, (uint16_t)(100 * round));
			for (int i = 0; i < 32; i++)
				fzb_u8(&b, (uint8_t)i);
			fzb_u8(&b, 5);              /* reap */
			fzb_u8(&b, 0);
		}
		char name[16];
		snprintf(name, sizeof(name), "net-%u", v);
		fzb_emit(&b, emit, arg, name);
	}
	fzb_free(&b);
}
