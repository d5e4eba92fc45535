/* SPDX-License-Identifier: MIT */
/*
 * backends/vmbus/conn.c - VMBus channel management (the "connection"):
 * INITIATE_CONTACT / VERSION_RESPONSE, offers, GPADLs, OPENCHANNEL,
 * CLOSECHANNEL, rescind and RELID_RELEASED, UNLOAD.
 *
 * Pure protocol: messages go out and come in through a message port
 * (struct vmbus_msgport_ops), so this file has no system calls and serves
 * any host interface that posts messages itself.  The control path is one
 * thread; it waits for one reply at a time, and everything else the host
 * sends meanwhile (offers, rescinds) is dispatched as it arrives.  Host
 * messages are copies (the port copies them out of the message slot);
 * each is checked for its type's size before a field is used.
 */
#include "conn.h"

static const uint32_t versions[] = {
	VMBUS_VERSION(5, 3), VMBUS_VERSION(5, 2), VMBUS_VERSION(5, 1),
	VMBUS_VERSION(5, 0), VMBUS_VERSION(4, 1), VMBUS_VERSION(4, 0),
	VMBUS_VERSION(3, 0), VMBUS_VERSION(2, 4),
};

_Static_assert(sizeof(struct vmbus_msg_offer) == 196, "offer");
_Static_assert(sizeof(struct vmbus_msg_open) == 148, "open");
_Static_assert(sizeof(struct vmbus_msg_initiate_contact) == 40, "contact");
_Static_assert(sizeof(struct vmbus_msg_version_response) == 16, "version");

static const char *msg_name(uint32_t t)
{
	static const char *const n[] = {
		"?", "OFFERCHANNEL", "RESCIND_CHANNELOFFER", "REQUESTOFFERS",
		"ALLOFFERS_DELIVERED", "OPENCHANNEL", "OPENCHANNEL_RESULT",
		"CLOSECHANNEL", "GPADL_HEADER", "GPADL_BODY", "GPADL_CREATED",
		"GPADL_TEARDOWN", "GPADL_TORNDOWN", "RELID_RELEASED",
		"INITIATE_CONTACT", "VERSION_RESPONSE", "UNLOAD",
		"UNLOAD_RESPONSE",
	};
	return t < sizeof(n) / sizeof(n[0]) ? n[t] : "?";
}

void vmbus_conn_init(struct vmbus_conn *c, pvio_ctx *ctx,
		     const struct vmbus_msgport_ops *ops, void *port,
		     const char *name)
{
	memset(c, 0, sizeof(*c));
	c->ctx = ctx;
	c->ops = ops;
	c->port = port;
	c->name = name;
	c->msg_conn_id = VMBUS_CONNID_MESSAGE;
	c->next_gpadl = VMBUS_GPADL_FIRST;
}

/* ---------------------------------------------------------------- posting */

static uint32_t type_of(const void *msg)
{
	uint32_t t;
	memcpy(&t, msg, 4);
	return PVIO_LE32(t);
}

static int post(struct vmbus_conn *c, uint32_t conn_id, const void *msg,
		uint32_t len, uint32_t *hv_status)
{
	uint32_t st = 0;
	if (c->lost)
		return -ENOTCONN;
	/* the hypervisor may be short of buffers for a moment: bounded
	 * retries, waiting on the port between them */
	for (int tries = 0; tries < 20; tries++) {
		int r = c->ops->post(c->port, conn_id, msg, len, &st);
		if (r < 0) {
			c->lost = 1;
			return pvio_set_error(c->ctx, -r,
					      "%s: lost the host connection "
					      "posting %s: %s",
					      c->name,
					      msg_name(type_of(msg)),
					      pvio_strerror(r));
		}
		if (st != HV_STATUS_INSUFFICIENT_MEMORY &&
		    st != HV_STATUS_INSUFFICIENT_BUFFERS)
			break;
		c->ops->wait(c->port, NULL,
			     pvio_now_ns(c->ctx) + 1000000ull * (tries + 1));
	}
	if (hv_status) {
		*hv_status = st;
		return 0;
	}
	if (st != HV_STATUS_SUCCESS)
		return pvio_set_error(c->ctx, EIO,
				      "%s: host refused %s (HvPostMessage "
				      "status %u)",
				      c->name,
				      msg_name(type_of(msg)), st);
	return 0;
}

static int post_msg(struct vmbus_conn *c, const void *msg, uint32_t len)
{
	return post(c, c->msg_conn_id, msg, len, NULL);
}

/* ---------------------------------------------------------------- incoming */

static struct vmbus_offer *offer_by_relid(struct vmbus_conn *c, uint32_t relid)
{
	for (unsigned i = 0; i < c->noffers; i++)
		if (c->offers[i].present && c->offers[i].relid == relid)
			return &c->offers[i];
	return NULL;
}

static struct vmbus_chan *chan_by_relid(struct vmbus_conn *c, uint32_t relid)
{
	for (unsigned i = 0; i < VMBUS_CONN_MAX_CHANS; i++)
		if (c->chans[i] && c->chans[i]->offer.relid == relid)
			return c->chans[i];
	return NULL;
}

static void ignore(struct vmbus_conn *c, const char *what, uint32_t type)
{
	c->ignored++;
	if (c->ignored <= 8)
		pvio_log(c->ctx, PVIO_LOG_WARN,
			 "%s: ignoring %s from the host (%s)", c->name,
			 msg_name(type), what);
}

static void on_offer(struct vmbus_conn *c, const uint8_t *m)
{
	struct vmbus_msg_offer o;
	memcpy(&o, m, sizeof(o));
	uint32_t relid = PVIO_LE32(o.child_relid);
	if (relid == 0 || relid > VMBUS_RELID_MAX) {
		ignore(c, "relid out of range", VMBUS_MSG_OFFERCHANNEL);
		return;
	}
	struct vmbus_offer *slot = offer_by_relid(c, relid);
	if (slot && !slot->rescinded) {
		ignore(c, "relid already offered", VMBUS_MSG_OFFERCHANNEL);
		return;
	}
	if (slot && chan_by_relid(c, relid)) {
		/* rescinded, but a channel still uses it: the relid is free
		 * only after our RELID_RELEASED */
		ignore(c, "relid not released yet", VMBUS_MSG_OFFERCHANNEL);
		return;
	}
	if (!slot) {
		for (unsigned i = 0; i < c->noffers; i++)
			if (!c->offers[i].present)
				slot = &c->offers[i];
		if (!slot && c->noffers < VMBUS_CONN_MAX_OFFERS)
			slot = &c->offers[c->noffers++];
		if (!slot) {
			ignore(c, "too many offers", VMBUS_MSG_OFFERCHANNEL);
			return;
		}
	}
	memset(slot, 0, sizeof(*slot));
	slot->if_type = o.if_type;
	slot->if_instance = o.if_instance;
	slot->relid = relid;
	slot->connection_id = PVIO_LE32(o.connection_id);
	slot->sub_index = PVIO_LE16(o.sub_channel_index);
	slot->monitor_id = o.monitor_id;
	slot->monitor_allocated = o.monitor_flags & 1;
	slot->dedicated_interrupt = PVIO_LE16(o.interrupt_flags) & 1;
	slot->present = 1;
}

static void on_rescind(struct vmbus_conn *c, const uint8_t *m)
{
	struct vmbus_msg_relid r;
	memcpy(&r, m, sizeof(r));
	uint32_t relid = PVIO_LE32(r.child_relid);
	struct vmbus_offer *o = offer_by_relid(c, relid);
	if (!o || o->rescinded)
		return; /* unknown or repeated: harmless */
	o->rescinded = 1;
	struct vmbus_chan *ch = chan_by_relid(c, relid);
	if (ch) {
		/* the owner stops using it and releases the relid at close */
		ch->offer.rescinded = 1;
		__atomic_store_n(&ch->gone, 1, __ATOMIC_RELEASE);
		return;
	}
	/* nobody uses it: release at once */
	struct vmbus_msg_relid rel = { { PVIO_LE32(VMBUS_MSG_RELID_RELEASED), 0 },
				       PVIO_LE32(relid) };
	post_msg(c, &rel, sizeof(rel));
	o->present = 0;
}

static uint32_t min_size(uint32_t type)
{
	switch (type) {
	case VMBUS_MSG_OFFERCHANNEL:
		return sizeof(struct vmbus_msg_offer);
	case VMBUS_MSG_RESCIND_CHANNELOFFER:
		return sizeof(struct vmbus_msg_relid);
	case VMBUS_MSG_ALLOFFERS_DELIVERED:
	case VMBUS_MSG_UNLOAD_RESPONSE:
		return sizeof(struct vmbus_msg_hdr);
	case VMBUS_MSG_OPENCHANNEL_RESULT:
		return sizeof(struct vmbus_msg_open_result);
	case VMBUS_MSG_GPADL_CREATED:
		return sizeof(struct vmbus_msg_gpadl_created);
	case VMBUS_MSG_GPADL_TORNDOWN:
		return sizeof(struct vmbus_msg_gpadl_torndown);
	case VMBUS_MSG_VERSION_RESPONSE:
		return sizeof(struct vmbus_msg_version_response);
	default:
		return 0;
	}
}

/* Is m the reply the control path waits for? */
static void match_reply(struct vmbus_conn *c, uint32_t type, const uint8_t *m,
			uint32_t len)
{
	uint32_t k1 = 0, k2 = 0, status = 0;
	switch (type) {
	case VMBUS_MSG_OPENCHANNEL_RESULT: {
		struct vmbus_msg_open_result r;
		memcpy(&r, m, sizeof(r));
		k1 = PVIO_LE32(r.child_relid);
		k2 = PVIO_LE32(r.openid);
		status = PVIO_LE32(r.status);
		break;
	}
	case VMBUS_MSG_GPADL_CREATED: {
		struct vmbus_msg_gpadl_created r;
		memcpy(&r, m, sizeof(r));
		k1 = PVIO_LE32(r.child_relid);
		k2 = PVIO_LE32(r.gpadl);
		status = PVIO_LE32(r.status);
		break;
	}
	case VMBUS_MSG_GPADL_TORNDOWN: {
		struct vmbus_msg_gpadl_torndown r;
		memcpy(&r, m, sizeof(r));
		k2 = PVIO_LE32(r.gpadl);
		break;
	}
	default:
		break;
	}
	if (!c->want.active || c->want.got || c->want.type != type ||
	    c->want.key1 != k1 || c->want.key2 != k2) {
		ignore(c, "no request is waiting for it", type);
		return;
	}
	c->want.got = true;
	c->want.status = status;
	memcpy(c->want.msg, m, len);
}

static void dispatch(struct vmbus_conn *c, const uint8_t *m, uint32_t len)
{
	if (len < sizeof(struct vmbus_msg_hdr) || len > VMBUS_MSG_MAX) {
		ignore(c, "bad length", 0);
		return;
	}
	uint32_t type = PVIO_LE32(((const struct vmbus_msg_hdr *)m)->type);
	uint32_t need = min_size(type);
	if (!need) {
		ignore(c, "not a message a guest receives", type);
		return;
	}
	if (len < need) {
		ignore(c, "shorter than its type", type);
		return;
	}
	switch (type) {
	case VMBUS_MSG_OFFERCHANNEL:
		on_offer(c, m);
		break;
	case VMBUS_MSG_RESCIND_CHANNELOFFER:
		on_rescind(c, m);
		break;
	case VMBUS_MSG_ALLOFFERS_DELIVERED:
		c->offers_done = true;
		break;
	default:
		match_reply(c, type, m, len);
		break;
	}
}

int vmbus_conn_poll(struct vmbus_conn *c)
{
	uint8_t m[VMBUS_MSG_MAX];
	/* bounded: a host that floods is served on the next call */
	for (int n = 0; n < 256; n++) {
		uint32_t len = 0;
		int r = c->ops->recv(c->port, m, &len);
		if (r < 0) {
			c->lost = 1;
			return r;
		}
		if (r == 0)
			return 0;
		dispatch(c, m, len);
	}
	return 0;
}

static void want(struct vmbus_conn *c, uint32_t type, uint32_t k1, uint32_t k2)
{
	c->want.type = type;
	c->want.key1 = k1;
	c->want.key2 = k2;
	c->want.active = true;
	c->want.got = false;
	c->want.status = 0;
}

/* Wait for the wanted reply.  relid (non-zero): fail with -ENODEV if that
 * channel is rescinded meanwhile. */
static int wait_reply(struct vmbus_conn *c, uint32_t relid, const char *what)
{
	uint64_t deadline = pvio_deadline(c->ctx);
	int r;
	for (;;) {
		r = vmbus_conn_poll(c);
		if (r < 0)
			break;
		/* a rescind that came with the answer wins: the host has
		 * let go of the channel and all it had of it */
		if (relid) {
			struct vmbus_offer *o = offer_by_relid(c, relid);
			if (!o || o->rescinded) {
				c->want.active = false;
				return pvio_set_error(c->ctx, ENODEV,
						      "%s: channel %u was "
						      "rescinded by the host "
						      "during %s",
						      c->name, relid, what);
			}
		}
		if (c->want.got) {
			c->want.active = false;
			return 0;
		}
		if (pvio_now_ns(c->ctx) >= deadline) {
			c->want.active = false;
			return pvio_set_error(c->ctx, ETIMEDOUT,
					      "%s: the host did not answer %s "
					      "within %u ms",
					      c->name, what,
					      pvio_timeout_ms(c->ctx));
		}
		r = c->ops->wait(c->port, NULL, deadline);
		if (r < 0)
			break;
	}
	c->want.active = false;
	c->lost = 1;
	return pvio_set_error(c->ctx, -r, "%s: lost the host connection "
				      "waiting for the answer to %s: %s",
			      c->name, what, pvio_strerror(r));
}

/* ---------------------------------------------------------------- contact */

int vmbus_conn_connect(struct vmbus_conn *c)
{
	pvio_ctx *ctx = c->ctx;
	uint64_t mon_addr, int_addr = 0;

	c->monitor_pages = pvio_dma_alloc(ctx, 2 * VMBUS_PAGE, VMBUS_PAGE);
	c->interrupt_page = pvio_dma_alloc(ctx, VMBUS_PAGE, VMBUS_PAGE);
	if (!c->monitor_pages || !c->interrupt_page)
		return pvio_set_error(ctx, ENOMEM, "%s: out of DMA memory for "
					   "the VMBus monitor pages", c->name);
	pvio_dma_translate(ctx, c->monitor_pages, 2 * VMBUS_PAGE, &mon_addr);
	pvio_dma_translate(ctx, c->interrupt_page, VMBUS_PAGE, &int_addr);

	bool v5_refused = false;
	for (unsigned i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		uint32_t v = versions[i];
		bool v5 = v >= VMBUS_VERSION_WIN10_V5;
		if (v5 && v5_refused)
			continue;
		struct vmbus_msg_initiate_contact m;
		memset(&m, 0, sizeof(m));
		m.hdr.type = PVIO_LE32(VMBUS_MSG_INITIATE_CONTACT);
		m.version = PVIO_LE32(v);
		m.target_vcpu = 0;
		if (v5)
			m.u.v5.msg_sint = VMBUS_MESSAGE_SINT;
		else
			m.u.interrupt_page = PVIO_LE64(int_addr);
		m.monitor_page1 = PVIO_LE64(mon_addr);
		m.monitor_page2 = PVIO_LE64(mon_addr + VMBUS_PAGE);
		uint32_t st;
		uint32_t cid = v5 ? VMBUS_CONNID_MESSAGE_V5 : VMBUS_CONNID_MESSAGE;
		want(c, VMBUS_MSG_VERSION_RESPONSE, 0, 0);
		int r = post(c, cid, &m, sizeof(m), &st);
		if (r < 0)
			return r;
		if (st == HV_STATUS_INVALID_CONNECTION_ID && v5) {
			/* a host older than 5.0: only connection id 1 */
			v5_refused = true;
			continue;
		}
		if (st != HV_STATUS_SUCCESS)
			return pvio_set_error(ctx, EIO,
					      "%s: host refused INITIATE_CONTACT "
					      "(HvPostMessage status %u)",
					      c->name, st);
		r = wait_reply(c, 0, "INITIATE_CONTACT");
		if (r < 0)
			return r;
		struct vmbus_msg_version_response vr;
		memcpy(&vr, c->want.msg, sizeof(vr));
		if (!vr.version_supported)
			continue;
		if (vr.connection_state != 0)
			return pvio_set_error(ctx, EIO,
					      "%s: host accepted VMBus %u.%u but "
					      "reports connection state %u",
					      c->name, v >> 16, v & 0xffff,
					      vr.connection_state);
		c->version = v;
		c->msg_conn_id = VMBUS_CONNID_MESSAGE;
		if (v5) {
			uint32_t id = PVIO_LE32(vr.msg_conn_id);
			if (id == 0)
				return pvio_set_error(ctx, EIO,
						      "%s: host gave message "
						      "connection id 0",
						      c->name);
			c->msg_conn_id = id;
		}
		break;
	}
	if (!c->version)
		return pvio_set_error(ctx, EPROTONOSUPPORT,
				      "%s: the host accepts none of VMBus "
				      "5.3 .. 2.4",
				      c->name);
	c->connected = true;
	if (c->version >= VMBUS_VERSION_WIN10_V5) {
		/* the interrupt page is only for older versions */
		pvio_dma_free(ctx, c->interrupt_page);
		c->interrupt_page = NULL;
	}

	struct vmbus_msg_hdr ro = { PVIO_LE32(VMBUS_MSG_REQUESTOFFERS), 0 };
	int r = post_msg(c, &ro, sizeof(ro));
	if (r < 0)
		return r;
	uint64_t deadline = pvio_deadline(ctx);
	while (!c->offers_done) {
		r = vmbus_conn_poll(c);
		if (r < 0)
			return pvio_set_error(ctx, -r, "%s: lost the host "
						      "connection during "
						      "REQUESTOFFERS",
					      c->name);
		if (c->offers_done)
			break;
		if (pvio_now_ns(ctx) >= deadline)
			return pvio_set_error(ctx, ETIMEDOUT,
					      "%s: the host sent no "
					      "ALLOFFERS_DELIVERED within %u ms",
					      c->name, pvio_timeout_ms(ctx));
		r = c->ops->wait(c->port, NULL, deadline);
		if (r < 0)
			return pvio_set_error(ctx, -r, "%s: lost the host "
						      "connection", c->name);
	}
	return 0;
}

void vmbus_conn_disconnect(struct vmbus_conn *c)
{
	bool answered = !c->connected;
	if (c->connected && !c->lost) {
		struct vmbus_msg_hdr u = { PVIO_LE32(VMBUS_MSG_UNLOAD), 0 };
		want(c, VMBUS_MSG_UNLOAD_RESPONSE, 0, 0);
		if (post_msg(c, &u, sizeof(u)) == 0 &&
		    wait_reply(c, 0, "UNLOAD") == 0)
			answered = true;
	}
	c->connected = false;
	if (answered) {
		pvio_dma_free(c->ctx, c->monitor_pages);
		pvio_dma_free(c->ctx, c->interrupt_page);
	}
	/* else the host may still use them: leaked with the context's pool */
	c->monitor_pages = c->interrupt_page = NULL;
}

/* ---------------------------------------------------------------- offers */

int vmbus_conn_find(struct vmbus_conn *c, const struct vmbus_guid *cls,
		    unsigned idx, struct vmbus_offer *out)
{
	unsigned n = 0;
	for (unsigned i = 0; i < c->noffers; i++) {
		const struct vmbus_offer *o = &c->offers[i];
		if (!o->present || o->rescinded || o->sub_index ||
		    !vmbus_guid_eq(&o->if_type, cls))
			continue;
		if (n++ == idx) {
			*out = *o;
			return 0;
		}
	}
	return -ENODEV;
}

int vmbus_conn_subchannels(struct vmbus_conn *c,
			   const struct vmbus_offer *primary, unsigned want_n,
			   uint64_t deadline, struct vmbus_offer *out)
{
	for (;;) {
		int r = vmbus_conn_poll(c);
		if (r < 0)
			return r;
		unsigned n = 0;
		/* sorted by sub-channel index: pick index 1, 2, ... */
		for (uint16_t s = 1; n < want_n && s <= want_n + 64; s++) {
			for (unsigned i = 0; i < c->noffers; i++) {
				const struct vmbus_offer *o = &c->offers[i];
				if (o->present && !o->rescinded &&
				    o->sub_index == s &&
				    vmbus_guid_eq(&o->if_instance,
						  &primary->if_instance) &&
				    vmbus_guid_eq(&o->if_type,
						  &primary->if_type)) {
					out[n++] = *o;
					break;
				}
			}
		}
		if (n >= want_n || pvio_now_ns(c->ctx) >= deadline)
			return (int)n;
		r = c->ops->wait(c->port, NULL, deadline);
		if (r < 0)
			return r;
	}
}

/* ---------------------------------------------------------------- GPADLs */

uint32_t vmbus_gpadl_nmsgs(uint32_t npages)
{
	if (npages <= VMBUS_GPADL_HEADER_PFNS)
		return 1;
	return 1 + (npages - VMBUS_GPADL_HEADER_PFNS + VMBUS_GPADL_BODY_PFNS - 1) /
			   VMBUS_GPADL_BODY_PFNS;
}

uint32_t vmbus_gpadl_msg(uint8_t *msg, uint32_t relid, uint32_t gpadl,
			 uint64_t first_pfn, uint32_t npages, uint32_t i)
{
	uint32_t start, count, off;
	memset(msg, 0, VMBUS_MSG_MAX);
	if (i >= vmbus_gpadl_nmsgs(npages))
		return 0;
	if (i == 0) {
		struct vmbus_msg_gpadl_header h;
		memset(&h, 0, sizeof(h));
		h.hdr.type = PVIO_LE32(VMBUS_MSG_GPADL_HEADER);
		h.child_relid = PVIO_LE32(relid);
		h.gpadl = PVIO_LE32(gpadl);
		h.range_buflen = PVIO_LE16((uint16_t)(sizeof(struct vmbus_range_hdr) +
						     8u * npages));
		h.rangecount = PVIO_LE16(1);
		memcpy(msg, &h, sizeof(h));
		struct vmbus_range_hdr rg = {
			PVIO_LE32(npages * VMBUS_PAGE), 0 };
		memcpy(msg + sizeof(h), &rg, sizeof(rg));
		off = sizeof(h) + sizeof(rg);
		start = 0;
		count = npages < VMBUS_GPADL_HEADER_PFNS ? npages
							 : VMBUS_GPADL_HEADER_PFNS;
	} else {
		struct vmbus_msg_gpadl_body b;
		memset(&b, 0, sizeof(b));
		b.hdr.type = PVIO_LE32(VMBUS_MSG_GPADL_BODY);
		b.msgnumber = 0; /* not interpreted; Linux sends 0 */
		b.gpadl = PVIO_LE32(gpadl);
		memcpy(msg, &b, sizeof(b));
		off = sizeof(b);
		start = VMBUS_GPADL_HEADER_PFNS + (i - 1) * VMBUS_GPADL_BODY_PFNS;
		count = npages - start;
		if (count > VMBUS_GPADL_BODY_PFNS)
			count = VMBUS_GPADL_BODY_PFNS;
	}
	for (uint32_t k = 0; k < count; k++) {
		uint64_t pfn = PVIO_LE64(first_pfn + start + k);
		memcpy(msg + off + 8 * k, &pfn, 8);
	}
	return off + 8 * count;
}

int vmbus_conn_gpadl_create(struct vmbus_conn *c, uint32_t relid,
			    uint64_t dev_addr, size_t len, uint32_t *gpadl)
{
	if (!len || (len & (VMBUS_PAGE - 1)) || (dev_addr & (VMBUS_PAGE - 1)) ||
	    len / VMBUS_PAGE > VMBUS_GPADL_MAX_PAGES)
		return pvio_set_error(c->ctx, EINVAL,
				      "%s: cannot describe %zu bytes in one GPADL",
				      c->name, len);
	uint32_t npages = (uint32_t)(len / VMBUS_PAGE);
	uint32_t handle = c->next_gpadl++;
	if (c->next_gpadl == 0)
		c->next_gpadl = VMBUS_GPADL_FIRST;
	uint8_t msg[VMBUS_MSG_MAX];
	want(c, VMBUS_MSG_GPADL_CREATED, relid, handle);
	uint32_t nmsgs = vmbus_gpadl_nmsgs(npages);
	for (uint32_t i = 0; i < nmsgs; i++) {
		uint32_t n = vmbus_gpadl_msg(msg, relid, handle,
					     dev_addr >> VMBUS_PAGE_SHIFT, npages,
					     i);
		int r = post_msg(c, msg, n);
		if (r < 0) {
			c->want.active = false;
			return r;
		}
	}
	int r = wait_reply(c, relid, "GPADL_HEADER");
	if (r < 0)
		return r;
	if (c->want.status != 0)
		return pvio_set_error(c->ctx, EIO,
				      "%s: host refused GPADL 0x%x of %u pages for "
				      "channel %u (status 0x%x)",
				      c->name, handle, npages, relid,
				      c->want.status);
	*gpadl = handle;
	return 0;
}

int vmbus_conn_gpadl_teardown(struct vmbus_conn *c, uint32_t relid,
			      uint32_t gpadl)
{
	struct vmbus_msg_gpadl_teardown t = {
		{ PVIO_LE32(VMBUS_MSG_GPADL_TEARDOWN), 0 }, PVIO_LE32(relid),
		PVIO_LE32(gpadl) };
	want(c, VMBUS_MSG_GPADL_TORNDOWN, 0, gpadl);
	int r = post_msg(c, &t, sizeof(t));
	if (r < 0) {
		c->want.active = false;
		return r;
	}
	return wait_reply(c, 0, "GPADL_TEARDOWN");
}

/* ---------------------------------------------------------------- channels */

static void track(struct vmbus_conn *c, struct vmbus_chan *ch, bool on)
{
	for (unsigned i = 0; i < VMBUS_CONN_MAX_CHANS; i++) {
		if (on && !c->chans[i]) {
			c->chans[i] = ch;
			return;
		}
		if (!on && c->chans[i] == ch) {
			c->chans[i] = NULL;
			return;
		}
	}
}

/* After a rescind, once pvio no longer uses the channel: RELID_RELEASED */
static void release_if_rescinded(struct vmbus_conn *c, struct vmbus_chan *ch)
{
	uint32_t relid = ch->offer.relid;
	if (!vmbus_chan_gone(ch) || c->lost)
		return;
	struct vmbus_offer *o = offer_by_relid(c, relid);
	if (o && o->rescinded) {
		struct vmbus_msg_relid rel = {
			{ PVIO_LE32(VMBUS_MSG_RELID_RELEASED), 0 },
			PVIO_LE32(relid) };
		post_msg(c, &rel, sizeof(rel));
		o->present = 0;
	}
}

int vmbus_conn_open(struct vmbus_conn *c, struct vmbus_chan *ch,
		    uint32_t ring_bytes)
{
	pvio_ctx *ctx = c->ctx;
	uint32_t relid = ch->offer.relid;
	struct vmbus_offer *o = offer_by_relid(c, relid);
	if (!o || o->rescinded)
		return pvio_set_error(ctx, ENODEV, "%s: channel %u is no longer "
					   "offered", c->name, relid);
	size_t total = 2 * (size_t)ring_bytes;
	void *mem = pvio_dma_alloc(ctx, total, VMBUS_PAGE);
	if (!mem)
		return pvio_set_error(ctx, ENOMEM, "%s: out of DMA memory for "
					   "a %u-byte channel ring",
				      c->name, ring_bytes);
	uint64_t addr;
	pvio_dma_translate(ctx, mem, total, &addr);
	ch->ring_mem = mem;
	ch->ring_dev_addr = addr;
	ch->ring_bytes = ring_bytes;
	vmbus_ring_init(&ch->tx, mem, ring_bytes);
	vmbus_ring_init(&ch->rx, (uint8_t *)mem + ring_bytes, ring_bytes);
	vmbus_ring_setup(&ch->tx);
	vmbus_ring_setup(&ch->rx);
	track(c, ch, true);

	int r = vmbus_conn_gpadl_create(c, relid, addr, total, &ch->ring_gpadl);
	if (r == -ETIMEDOUT && !vmbus_chan_gone(ch)) {
		/* the host may have created it (as in buf_get): the memory
		 * stays allocated, or the host could see what comes next */
		track(c, ch, false);
		ch->ring_mem = NULL;
		return r;
	}
	if (r < 0)
		goto fail_mem;

	struct vmbus_msg_open m;
	memset(&m, 0, sizeof(m));
	m.hdr.type = PVIO_LE32(VMBUS_MSG_OPENCHANNEL);
	m.child_relid = PVIO_LE32(relid);
	m.openid = PVIO_LE32(relid);
	m.ring_gpadl = PVIO_LE32(ch->ring_gpadl);
	m.target_vp = 0;
	m.downstream_page_offset = PVIO_LE32(ring_bytes / VMBUS_PAGE);
	want(c, VMBUS_MSG_OPENCHANNEL_RESULT, relid, relid);
	r = post_msg(c, &m, sizeof(m));
	if (r == 0)
		r = wait_reply(c, relid, "OPENCHANNEL");
	if (r == 0 && c->want.status != 0)
		r = pvio_set_error(ctx, EIO, "%s: host refused to open channel "
					   "%u (status 0x%x)",
				   c->name, relid, c->want.status);
	if (r < 0) {
		if (!vmbus_chan_gone(ch) &&
		    vmbus_conn_gpadl_teardown(c, relid, ch->ring_gpadl) < 0) {
			track(c, ch, false);
			ch->ring_mem = NULL; /* leaked: host may map it */
			return r;
		}
		goto fail_mem;
	}
	ch->open = true;
	return 0;

fail_mem:
	track(c, ch, false);
	pvio_dma_free(ctx, mem);
	ch->ring_mem = NULL;
	release_if_rescinded(c, ch);
	return r;
}

void vmbus_conn_close(struct vmbus_conn *c, struct vmbus_chan *ch)
{
	uint32_t relid = ch->offer.relid;
	vmbus_conn_poll(c); /* a rescind may be waiting */
	bool gone = vmbus_chan_gone(ch) || c->lost;
	bool freed = true;
	if (!gone && ch->open) {
		struct vmbus_msg_relid m = {
			{ PVIO_LE32(VMBUS_MSG_CLOSECHANNEL), 0 }, PVIO_LE32(relid) };
		post_msg(c, &m, sizeof(m));
	}
	if (!gone && ch->ring_mem &&
	    vmbus_conn_gpadl_teardown(c, relid, ch->ring_gpadl) < 0)
		freed = false;
	if (ch->ring_mem) {
		if (freed)
			pvio_dma_free(c->ctx, ch->ring_mem);
		else
			pvio_log(c->ctx, PVIO_LOG_WARN,
				 "%s: channel %u ring GPADL not torn down; its "
				 "memory stays allocated", c->name, relid);
	}
	ch->ring_mem = NULL;
	ch->open = false;
	track(c, ch, false);
	release_if_rescinded(c, ch);
}

int vmbus_conn_buf_get(struct vmbus_conn *c, struct vmbus_chan *ch,
		       size_t size, struct vmbus_buf *out)
{
	size = (size + VMBUS_PAGE - 1) & ~(size_t)(VMBUS_PAGE - 1);
	memset(out, 0, sizeof(*out));
	struct vmbus_offer *o = offer_by_relid(c, ch->offer.relid);
	if (!o || o->rescinded)
		return pvio_set_error(c->ctx, ENODEV, "%s: channel %u is no "
						      "longer offered",
				      c->name, ch->offer.relid);
	void *va = pvio_dma_alloc(c->ctx, size, VMBUS_PAGE);
	if (!va)
		return pvio_set_error(c->ctx, ENOMEM,
				      "%s: out of DMA memory for a %zu-byte "
				      "shared buffer; create the context with "
				      "a larger dma_pool_size",
				      c->name, size);
	uint64_t addr;
	pvio_dma_translate(c->ctx, va, size, &addr);
	int r = vmbus_conn_gpadl_create(c, ch->offer.relid, addr, size,
					&out->gpadl);
	if (r < 0) {
		if (r == -ETIMEDOUT)
			return r; /* host may have it: leak */
		pvio_dma_free(c->ctx, va);
		return r;
	}
	out->va = va;
	out->dev_addr = addr;
	out->len = size;
	out->gpadl_live = true;
	return 0;
}

void vmbus_conn_buf_put(struct vmbus_conn *c, struct vmbus_chan *ch,
			struct vmbus_buf *b)
{
	if (!b->va)
		return;
	bool freed = true;
	if (b->gpadl_live && !vmbus_chan_gone(ch) && !c->lost &&
	    vmbus_conn_gpadl_teardown(c, ch->offer.relid, b->gpadl) < 0)
		freed = false;
	if (b->gpadl_live && c->lost)
		freed = false;
	if (freed)
		pvio_dma_free(c->ctx, b->va);
	else
		pvio_log(c->ctx, PVIO_LOG_WARN,
			 "%s: GPADL 0x%x not torn down; its %zu bytes stay "
			 "allocated", c->name, b->gpadl, b->len);
	memset(b, 0, sizeof(*b));
}
