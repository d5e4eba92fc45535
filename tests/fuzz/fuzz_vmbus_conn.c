/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_vmbus_conn.c - VMBus channel management
 * (backends/vmbus/conn.c) against a host whose every message the fuzzer
 * writes.
 *
 * The message port is fake: what pvio posts is checked (sizes, types,
 * GPADL page lists that describe the buffer asked for) and answered the
 * way a host would - VERSION_RESPONSE, offers and ALLOFFERS_DELIVERED,
 * GPADL_CREATED, OPENCHANNEL_RESULT, GPADL_TORNDOWN, UNLOAD_RESPONSE -
 * with fuzzed fields (versions refused, statuses, relids, gpadl handles,
 * lengths), or not at all; HvPostMessage statuses are fuzzed too; and at
 * any time the host slips in messages of any type and length: offers,
 * rescinds (also twice, also of channels in use), stray replies.
 *
 * Properties: no crash or sanitizer report; waits end (fake clock);
 * RELID_RELEASED is sent only for a rescinded relid, once per rescind;
 * OPENCHANNEL and GPADL messages name offered, not rescinded channels;
 * a GPADL describes exactly the pages pvio asked for; nothing is posted
 * after the connection is lost; memory the host still holds through a
 * GPADL (created - or not refused - and neither torn down nor released by
 * a rescind) stays allocated: freeing it would let the host see whatever
 * is allocated there next.
 */
#include "fuzz.h"

#include "backends/vmbus/conn.h"
#include "core/core.h"

struct port {
	struct fz *f;
	pvio_ctx *ctx;
	/* host messages queued for recv */
	uint8_t q[32][VMBUS_MSG_MAX];
	uint32_t qlen[32];
	unsigned qh, qn;
	bool lost;
	/* what the host knows */
	uint32_t relids[64];
	bool rescinded[64], released[64];
	unsigned nrel;
	/* a GPADL being described */
	uint32_t g_relid, g_handle, g_pages, g_got;
	uint64_t g_first;
	/* GPADLs the host holds */
	struct {
		bool on;
		uint32_t handle, relid, pages;
		uint64_t pfn;
	} held[32];
	struct vmbus_conn *c;
};

static void held_drop(struct port *p, bool by_relid, uint32_t v)
{
	for (unsigned i = 0; i < 32; i++)
		if (p->held[i].on &&
		    (by_relid ? p->held[i].relid : p->held[i].handle) == v)
			p->held[i].on = false;
}

/* Every GPADL the host holds describes memory that is still allocated. */
static void check_held(struct port *p)
{
	if (p->lost)
		return; /* the host is gone */
	const struct pvio_dma_pool *d = &p->ctx->dma;
	for (unsigned i = 0; i < 32; i++) {
		if (!p->held[i].on)
			continue;
		uint64_t a = p->held[i].pfn << 12;
		uint64_t len = (uint64_t)p->held[i].pages << 12;
		bool ok = false;
		for (unsigned k = 0; k < d->nused && !ok; k++) {
			const struct pvio_extent *e = &d->used[k];
			uint64_t base = d->regions[e->region].dev_addr + e->off;
			ok = a >= base && a + len <= base + e->len;
		}
		FZ_ASSERT(ok, "GPADL 0x%x (relid %u, %u pages) is still the "
			  "host's, but its memory was freed", p->held[i].handle,
			  p->held[i].relid, p->held[i].pages);
	}
}

static void queue_msg(struct port *p, const void *m, uint32_t len)
{
	if (p->qn == 32)
		return;
	unsigned i = (p->qh + p->qn++) % 32;
	memset(p->q[i], 0, VMBUS_MSG_MAX);
	memcpy(p->q[i], m, len > VMBUS_MSG_MAX ? VMBUS_MSG_MAX : len);
	p->qlen[i] = len;
	uint32_t t, w2;
	memcpy(&t, p->q[i], 4);
	memcpy(&w2, p->q[i] + 8, 4);
	fz_note("host: type %u len %u word2 %u", t, len, w2);
}

static int relid_slot(struct port *p, uint32_t relid)
{
	for (unsigned i = 0; i < p->nrel; i++)
		if (p->relids[i] == relid)
			return (int)i;
	return -1;
}

/* A host message with fuzzed content. */
static void stray(struct port *p)
{
	struct fz *f = p->f;
	uint8_t m[VMBUS_MSG_MAX];
	uint32_t len = 8 + fz_below(f, VMBUS_MSG_MAX + 8);
	fz_bytes(f, m, sizeof(m));
	uint32_t type = fz_below(f, 20);
	memcpy(m, &type, 4);
	if (type == VMBUS_MSG_OFFERCHANNEL) {
		/* often a plausible offer: one of a few relids */
		uint32_t relid;
		if (fz_bool(f)) {
			relid = 1 + fz_below(f, 8);
			memcpy(m + offsetof(struct vmbus_msg_offer, child_relid),
			       &relid, 4);
			len = sizeof(struct vmbus_msg_offer);
		}
	}
	if (type == VMBUS_MSG_RESCIND_CHANNELOFFER) {
		uint32_t relid = p->nrel ? p->relids[fz_below(f, p->nrel)]
					 : fz_u32(f);
		memcpy(m + 8, &relid, 4);
		len = 12;
	}
	queue_msg(p, m, len);
}

/* The model follows what pvio has been told: offers and rescinds count
 * when they are delivered, not when queued. */
static void track(struct port *p, const uint8_t *m, uint32_t len)
{
	uint32_t type, relid;
	memcpy(&type, m, 4);
	if (type == VMBUS_MSG_OFFERCHANNEL &&
	    len >= offsetof(struct vmbus_msg_offer, child_relid) + 4) {
		memcpy(&relid, m + offsetof(struct vmbus_msg_offer, child_relid), 4);
		int s = relid_slot(p, relid);
		if (s < 0 && p->nrel < 64) {
			p->relids[p->nrel] = relid;
			p->rescinded[p->nrel] = p->released[p->nrel] = false;
			p->nrel++;
		} else if (s >= 0 && p->released[s]) {
			p->rescinded[s] = p->released[s] = false;
		}
	} else if (type == VMBUS_MSG_RESCIND_CHANNELOFFER && len >= 12) {
		memcpy(&relid, m + 8, 4);
		int s = relid_slot(p, relid);
		if (s >= 0)
			p->rescinded[s] = true;
		held_drop(p, true, relid); /* the host lets go of them */
	}
}

static int p_post(void *port, uint32_t conn_id, const void *msg, uint32_t len,
		  uint32_t *hv_status)
{
	struct port *p = port;
	struct fz *f = p->f;
	FZ_ASSERT(!p->lost, "posted after the port failed");
	FZ_ASSERT(len >= 8 && len <= VMBUS_MSG_MAX, "posted %u bytes", len);
	uint8_t m[VMBUS_MSG_MAX] = { 0 };
	memcpy(m, msg, len);
	uint32_t type, w2;
	memcpy(&type, m, 4);
	memcpy(&w2, m + 8, 4);
	fz_note("guest: type %u len %u word2 %u", type, len, w2);
	uint8_t k = fz_u8(f);
	if (k == 0xff) {
		p->lost = true;
		return -EPIPE;
	}
	*hv_status = k >= 0xf8 ? HV_STATUS_INSUFFICIENT_BUFFERS
		     : k >= 0xf0 ? fz_u8(f) : HV_STATUS_SUCCESS;
	if (*hv_status != HV_STATUS_SUCCESS)
		return 0;
	uint8_t r[VMBUS_MSG_MAX] = { 0 };
	uint32_t rlen = 0;
	bool answer = fz_u8(f) < 0xf0;
	switch (type) {
	case VMBUS_MSG_INITIATE_CONTACT: {
		FZ_ASSERT(len == sizeof(struct vmbus_msg_initiate_contact),
			  "INITIATE_CONTACT of %u bytes", len);
		struct vmbus_msg_version_response vr = { 0 };
		vr.hdr.type = VMBUS_MSG_VERSION_RESPONSE;
		vr.version_supported = fz_u8(f) < 0x80;
		vr.connection_state = fz_u8(f) < 0xf0 ? 0 : 1;
		vr.msg_conn_id = fz_u8(f) < 0xf0 ? 4 : fz_u32(f);
		if (conn_id == VMBUS_CONNID_MESSAGE_V5 && fz_u8(f) >= 0xc0) {
			*hv_status = HV_STATUS_INVALID_CONNECTION_ID;
			return 0;
		}
		memcpy(r, &vr, sizeof(vr));
		rlen = sizeof(vr);
		break;
	}
	case VMBUS_MSG_REQUESTOFFERS: {
		unsigned n = fz_below(f, 6);
		for (unsigned i = 0; i < n; i++) {
			struct vmbus_msg_offer o = { 0 };
			o.hdr.type = VMBUS_MSG_OFFERCHANNEL;
			o.if_type = fz_bool(f) ? vmbus_guid_netvsc
					       : vmbus_guid_storvsc;
			o.if_instance.b[0] = fz_u8(f) & 1;
			o.sub_channel_index = fz_u8(f) & 3;
			o.child_relid = 1 + fz_below(f, 8);
			if (fz_u8(f) == 0xff)
				o.child_relid = fz_u32(f);
			queue_msg(p, &o, sizeof(o));
		}
		struct vmbus_msg_hdr d = { VMBUS_MSG_ALLOFFERS_DELIVERED, 0 };
		memcpy(r, &d, sizeof(d));
		rlen = sizeof(d);
		break;
	}
	case VMBUS_MSG_GPADL_HEADER: {
		struct vmbus_msg_gpadl_header h;
		memcpy(&h, m, sizeof(h));
		int s = relid_slot(p, h.child_relid);
		FZ_ASSERT(s >= 0, "GPADL for relid %u, never offered",
			  h.child_relid);
		FZ_ASSERT(!p->rescinded[s], "GPADL for relid %u after its "
			  "rescind", h.child_relid);
		FZ_ASSERT(h.rangecount == 1 && h.range_buflen >= 16 &&
			  (h.range_buflen - 8) % 8 == 0, "GPADL header");
		p->g_relid = h.child_relid;
		p->g_handle = h.gpadl;
		p->g_pages = (h.range_buflen - 8u) / 8u;
		uint32_t bc;
		memcpy(&bc, m + sizeof(h), 4);
		FZ_ASSERT(bc == p->g_pages * 4096u, "GPADL byte count %u for %u "
			  "pages", bc, p->g_pages);
		memcpy(&p->g_first, m + sizeof(h) + 8, 8);
		p->g_got = 0;
		uint32_t n = (len - (uint32_t)sizeof(h) - 8) / 8;
		for (uint32_t i = 0; i < n; i++) {
			uint64_t pfn;
			memcpy(&pfn, m + sizeof(h) + 8 + 8 * i, 8);
			FZ_ASSERT(pfn == p->g_first + i, "GPADL pages not the "
				  "contiguous buffer");
		}
		p->g_got = n;
		answer = answer && p->g_got == p->g_pages;
		goto created;
	}
	case VMBUS_MSG_GPADL_BODY: {
		struct vmbus_msg_gpadl_body b;
		memcpy(&b, m, sizeof(b));
		FZ_ASSERT(b.gpadl == p->g_handle, "GPADL body for another handle");
		uint32_t n = (len - (uint32_t)sizeof(b)) / 8;
		for (uint32_t i = 0; i < n; i++) {
			uint64_t pfn;
			memcpy(&pfn, m + sizeof(b) + 8 * i, 8);
			FZ_ASSERT(pfn == p->g_first + p->g_got + i, "GPADL body "
				  "pages out of order");
		}
		p->g_got += n;
		FZ_ASSERT(p->g_got <= p->g_pages, "GPADL has more pages than "
			  "announced");
		answer = answer && p->g_got == p->g_pages;
	created:
		if (p->g_got == p->g_pages) {
			struct vmbus_msg_gpadl_created gc = { 0 };
			gc.hdr.type = VMBUS_MSG_GPADL_CREATED;
			gc.child_relid = fz_u8(f) < 0xf0 ? p->g_relid : fz_u32(f);
			gc.gpadl = fz_u8(f) < 0xf0 ? p->g_handle : fz_u32(f);
			gc.status = fz_u8(f) < 0xe0 ? 0 : fz_u32(f);
			memcpy(r, &gc, sizeof(gc));
			rlen = sizeof(gc);
			/* the host has it unless it says no */
			bool refused = answer && gc.status != 0 &&
				       gc.gpadl == p->g_handle &&
				       gc.child_relid == p->g_relid;
			for (unsigned i = 0; i < 32 && !refused; i++)
				if (!p->held[i].on) {
					p->held[i].on = true;
					p->held[i].handle = p->g_handle;
					p->held[i].relid = p->g_relid;
					p->held[i].pages = p->g_pages;
					p->held[i].pfn = p->g_first;
					break;
				}
		}
		break;
	}
	case VMBUS_MSG_OPENCHANNEL: {
		FZ_ASSERT(len == sizeof(struct vmbus_msg_open), "OPENCHANNEL");
		struct vmbus_msg_open o;
		memcpy(&o, m, sizeof(o));
		int s = relid_slot(p, o.child_relid);
		FZ_ASSERT(s >= 0, "OPENCHANNEL of relid %u, never offered",
			  o.child_relid);
		FZ_ASSERT(!p->rescinded[s], "OPENCHANNEL of relid %u after its "
			  "rescind", o.child_relid);
		struct vmbus_msg_open_result res = { 0 };
		res.hdr.type = VMBUS_MSG_OPENCHANNEL_RESULT;
		res.child_relid = fz_u8(f) < 0xf0 ? o.child_relid : fz_u32(f);
		res.openid = fz_u8(f) < 0xf0 ? o.openid : fz_u32(f);
		res.status = fz_u8(f) < 0xe0 ? 0 : fz_u32(f);
		memcpy(r, &res, sizeof(res));
		rlen = sizeof(res);
		break;
	}
	case VMBUS_MSG_GPADL_TEARDOWN: {
		struct vmbus_msg_gpadl_teardown t;
		memcpy(&t, m, sizeof(t));
		struct vmbus_msg_gpadl_torndown td = { { VMBUS_MSG_GPADL_TORNDOWN,
							 0 },
						       fz_u8(f) < 0xf0 ? t.gpadl
								      : fz_u32(f) };
		memcpy(r, &td, sizeof(td));
		rlen = sizeof(td);
		if (answer && td.gpadl == t.gpadl)
			held_drop(p, false, t.gpadl);
		break;
	}
	case VMBUS_MSG_RELID_RELEASED: {
		uint32_t relid;
		memcpy(&relid, m + 8, 4);
		int s = relid_slot(p, relid);
		FZ_ASSERT(s >= 0 && p->rescinded[s] && !p->released[s],
			  "RELID_RELEASED for relid %u, %s", relid,
			  s < 0 ? "never offered"
			  : !p->rescinded[s] ? "not rescinded" : "twice");
		p->released[s] = true;
		answer = false;
		break;
	}
	case VMBUS_MSG_UNLOAD: {
		struct vmbus_msg_hdr u = { VMBUS_MSG_UNLOAD_RESPONSE, 0 };
		memcpy(r, &u, sizeof(u));
		rlen = sizeof(u);
		break;
	}
	case VMBUS_MSG_CLOSECHANNEL:
		answer = false;
		break;
	default:
		FZ_ASSERT(0, "pvio posted message type %u", type);
	}
	/* stray messages before the answer */
	while (fz_u8(f) >= 0xe0)
		stray(p);
	if (answer && rlen) {
		if (fz_u8(f) >= 0xf8) /* a short one */
			rlen = fz_below(f, rlen);
		queue_msg(p, r, rlen);
	}
	return 0;
}

static int p_recv(void *port, void *buf, uint32_t *len)
{
	struct port *p = port;
	if (p->lost)
		return -EPIPE;
	if (!p->qn)
		return 0;
	memcpy(buf, p->q[p->qh], VMBUS_MSG_MAX);
	*len = p->qlen[p->qh];
	track(p, p->q[p->qh], *len);
	p->qh = (p->qh + 1) % 32;
	p->qn--;
	return 1;
}

static int p_wait(void *port, struct vmbus_chan *ch, uint64_t deadline)
{
	struct port *p = port;
	(void)ch, (void)deadline;
	/* now and then something arrives while waiting */
	if (fz_u8(p->f) >= 0xf0)
		stray(p);
	return p->qn ? 1 : 0;
}

static const struct vmbus_msgport_ops port_ops = { p_post, p_recv, p_wait };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	pvio_ctx *ctx = fz_ctx(8u << 20, 20);
	struct port *p = calloc(1, sizeof(*p));
	struct vmbus_conn *c = calloc(1, sizeof(*c));
	FZ_ASSERT(p && c, "calloc");
	p->f = &f;
	p->ctx = ctx;
	p->c = c;
	vmbus_conn_init(c, ctx, &port_ops, p, "fuzz-hyperv");
	int r = vmbus_conn_connect(c);
	fz_note("connect: %d %s", r, r < 0 ? pvio_errmsg(ctx) : "");

	struct vmbus_chan ch[4];
	struct vmbus_buf bufs[4];
	memset(ch, 0, sizeof(ch));
	memset(bufs, 0, sizeof(bufs));
	for (unsigned step = 0; r == 0 && step < 40 && fz_left(&f); step++) {
		uint8_t op = fz_u8(&f);
		unsigned i = (op >> 4) % 4;
		switch (op % 7) {
		case 0: {
			struct vmbus_offer o;
			const struct vmbus_guid *cls = fz_bool(&f)
						       ? &vmbus_guid_netvsc
						       : &vmbus_guid_storvsc;
			if (vmbus_conn_find(c, cls, fz_below(&f, 3), &o) == 0 &&
			    !ch[i].open && !ch[i].ring_mem) {
				memset(&ch[i], 0, sizeof(ch[i]));
				ch[i].offer = o;
				int e = vmbus_conn_open(c, &ch[i], 4u * 4096u *
								 (1 + fz_below(&f, 8)));
				fz_note("open relid %u: %d", o.relid, e);
			}
			break;
		}
		case 1:
			if (ch[i].open || ch[i].ring_mem)
				vmbus_conn_close(c, &ch[i]);
			break;
		case 2:
			if (ch[i].open && !bufs[i].va) {
				int e = vmbus_conn_buf_get(c, &ch[i],
							   4096u * (1 + fz_below(&f, 300)),
							   &bufs[i]);
				fz_note("buf: %d", e);
			}
			break;
		case 3:
			if (bufs[i].va)
				vmbus_conn_buf_put(c, &ch[i], &bufs[i]);
			break;
		case 4:
			if (ch[i].open) {
				struct vmbus_offer subs[4];
				int n = vmbus_conn_subchannels(c, &ch[i].offer,
							       1 + fz_below(&f, 4),
							       pvio_deadline(ctx),
							       subs);
				FZ_ASSERT(n <= 4, "%d sub-channels", n);
			}
			break;
		case 5:
			while (fz_u8(&f) >= 0x80)
				stray(p);
			vmbus_conn_poll(c);
			break;
		default:
			break;
		}
		check_held(p);
	}
	for (unsigned i = 0; i < 4; i++) {
		if (bufs[i].va)
			vmbus_conn_buf_put(c, &ch[i], &bufs[i]);
		if (ch[i].open || ch[i].ring_mem)
			vmbus_conn_close(c, &ch[i]);
	}
	check_held(p);
	vmbus_conn_disconnect(c); /* UNLOAD: the host lets go of everything */
	free(c);
	free(p);
	fz_ctx_free(ctx);
	return 0;
}

void fz_seeds(fz_emit_fn emit, void *arg)
{
	struct fzb b = { 0 };
	/* contact at 5.3, two offers, open the first, a buffer, close */
	fzb_u8(&b, 0);   /* post ok */
	fzb_u8(&b, 0);   /* answer */
	fzb_u8(&b, 0);   /* supported */
	fzb_u8(&b, 0);
	fzb_u8(&b, 0);
	fzb_u8(&b, 0);
	fzb_u8(&b, 0);   /* no strays */
	fzb_u8(&b, 0);   /* REQUESTOFFERS */
	fzb_u8(&b, 0);
	fzb_u8(&b, 2);   /* two offers */
	for (int i = 0; i < 2; i++) {
		fzb_u8(&b, (uint8_t)i);
		fzb_u8(&b, 0);
		fzb_u8(&b, 0);
		fzb_u8(&b, (uint8_t)i);
		fzb_u8(&b, 0);
	}
	fzb_u8(&b, 0);
	fzb_u8(&b, 0);
	for (int i = 0; i < 200; i++)
		fzb_u8(&b, (uint8_t)(i % 7 == 0 ? (i / 7) % 5 : 0));
	fzb_emit(&b, emit, arg, "session");
	fzb_free(&b);
}
