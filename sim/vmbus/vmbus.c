/* SPDX-License-Identifier: MIT */
/*
 * sim/vmbus/vmbus.c - the VMBus channel manager of one partition: version
 * negotiation, offers, opening and closing channels, rescind, unload, and
 * the partition object itself.
 *
 * It sees channel messages exactly as Hyper-V's VMBus server does (the
 * payload of HvPostMessage) and answers through door->post, so any door
 * can carry it.  Checks follow Hyper-V: the connection id a message is
 * posted to, the size of each message type, the version list, then the
 * fields.  A bad message is logged (rate-limited) and dropped, or answered
 * with a failure status where the protocol has one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmbus/shv.h"

#define CONN_ID_BASE 0x10000u /* offer connection id = base + relid */
#define MONITOR_BASE 32u      /* monitor id = base + relid - 1 (< 128) */
#define MONITOR_POLL_NS 1000000ull   /* when no guest asks for less */
#define MONITOR_POLL_MIN_NS 50000ull /* the shortest latency served */

static const uint32_t versions[] = {
	SHV_VMBUS_V5_3, SHV_VMBUS_V5_2, SHV_VMBUS_V5_1, SHV_VMBUS_V5_0,
	SHV_VMBUS_V4_1, SHV_VMBUS_V4_0, SHV_VMBUS_V3_0, SHV_VMBUS_V2_4,
};

/* ------------------------------------------------------------ partition */
struct shv_part *shv_part_new(struct shv_host *h,
			      const struct shv_door_ops *door, void *priv,
			      const char *name)
{
	if (h->nparts >= SHV_MAX_PARTS)
		return NULL;
	struct shv_part *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->host = h;
	p->id = ++h->next_part_id;
	p->door = door;
	p->door_priv = priv;
	snprintf(p->name, sizeof(p->name), "%s", name ? name : "");
	p->next = h->parts;
	h->parts = p;
	h->nparts++;
	return p;
}

uint8_t *shv_part_page(struct shv_part *p, uint64_t pfn)
{
	if (pfn > (UINT64_MAX >> SHV_PAGE_SHIFT))
		return NULL;
	uint8_t *hva = sim_mem_ptr(&p->mem, pfn << SHV_PAGE_SHIFT, SHV_PAGE);
	if (!hva && p->door->page)
		hva = p->door->page(p, pfn);
	return hva;
}

struct shv_chan *shv_part_chan(struct shv_part *p, uint32_t relid)
{
	for (struct shv_chan *c = p->chans; c; c = c->next)
		if (c->relid == relid)
			return c;
	return NULL;
}

void shv_vmbus_send(struct shv_part *p, const void *msg, uint32_t len)
{
	if (!p->dying)
		p->door->post(p, msg, len);
}

static void send_relid_msg(struct shv_part *p, uint32_t type, uint32_t relid)
{
	struct shv_msg_relid m = { .hdr.type = type, .relid = relid };
	shv_vmbus_send(p, &m, sizeof(m));
}

/* -------------------------------------------------------------- channels */
static uint32_t alloc_relid(struct shv_part *p)
{
	for (uint32_t r = 1; r < SHV_MAX_RELID; r++)
		if (!shv_part_chan(p, r))
			return r;
	return 0;
}

static void send_offer(struct shv_chan *c)
{
	struct shv_msg_offer m;
	memset(&m, 0, sizeof(m));
	m.hdr.type = SHV_MSG_OFFERCHANNEL;
	memcpy(m.if_type, c->dev->type_guid, 16);
	memcpy(m.if_instance, c->dev->inst_guid, 16);
	m.sub_index = c->sub_index;
	m.child_relid = c->relid;
	m.monitor_id = c->monitor_id;
	m.monitor_allocated = c->part->door->monitored && c->monitor_id < 128;
	m.dedicated_interrupt = 1;
	m.connection_id = c->conn_id;
	sim_log(SIM_LOG_DEBUG, "part %u: offer %s/%u as relid %u",
		c->part->id, c->dev->name, c->sub_index, c->relid);
	shv_vmbus_send(c->part, &m, sizeof(m));
}

static struct shv_chan *new_chan(struct shv_part *p, struct shv_dev *d,
				 struct shv_chan *primary, uint16_t sub)
{
	uint32_t relid = alloc_relid(p);
	if (!relid) {
		shv_warn("part %u: out of relids; %s not offered", p->id,
			 d->name);
		return NULL;
	}
	struct shv_chan *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->part = p;
	c->dev = d;
	c->primary = primary ? primary : c;
	c->sub_index = sub;
	c->relid = relid;
	c->conn_id = CONN_ID_BASE + relid;
	c->monitor_id = (uint8_t)(relid - 1 + MONITOR_BASE < 128
					  ? relid - 1 + MONITOR_BASE
					  : 0xFF);
	c->state = SHV_CH_OFFERED;
	/* keep the list in relid order for status output */
	struct shv_chan **pp = &p->chans;
	while (*pp && (*pp)->relid < relid)
		pp = &(*pp)->next;
	c->next = *pp;
	*pp = c;
	return c;
}

static void free_chan(struct shv_part *p, struct shv_chan *c)
{
	for (struct shv_chan **pp = &p->chans; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	free(c);
}

static bool dev_open_in(struct shv_part *p, struct shv_dev *d)
{
	for (struct shv_chan *c = p->chans; c; c = c->next)
		if (c->dev == d && c->state == SHV_CH_OPEN)
			return true;
	return false;
}

void shv_vmbus_close_chan(struct shv_chan *c)
{
	if (c->state != SHV_CH_OPEN)
		return;
	struct shv_part *p = c->part;
	c->dev->ops->close(c);
	shv_chan_stop(c);
	c->state = SHV_CH_OFFERED;
	c->broken = false;
	struct shv_gpadl *g = c->ring_gpadl;
	c->ring_gpadl = NULL;
	memset(&c->in, 0, sizeof(c->in));
	memset(&c->out, 0, sizeof(c->out));
	shv_gpadl_put(p, g);
	if (c->dev->owner == p && !dev_open_in(p, c->dev))
		c->dev->owner = NULL;
}

/* Take the channel away from the guest (host side of a rescind). */
static void rescind_chan(struct shv_chan *c, bool tell)
{
	if (c->state == SHV_CH_RESCINDED)
		return;
	shv_vmbus_close_chan(c);
	c->state = SHV_CH_RESCINDED;
	c->part->door->chan_gone(c->part, c);
	sim_log(SIM_LOG_DEBUG, "%s: rescinded", shv_chan_name(c));
	if (tell)
		send_relid_msg(c->part, SHV_MSG_RESCIND_CHANNELOFFER, c->relid);
}

static void rescind_subchannels(struct shv_part *p, struct shv_dev *d)
{
	for (struct shv_chan *c = p->chans; c; c = c->next)
		if (c->dev == d && c->sub_index)
			rescind_chan(c, true);
}

static unsigned subchannels(struct shv_chan *primary, uint16_t *next)
{
	unsigned have = 0;
	*next = 1;
	for (struct shv_chan *c = primary->part->chans; c; c = c->next)
		if (c->dev == primary->dev && c->sub_index &&
		    c->state != SHV_CH_RESCINDED) {
			have++;
			if (c->sub_index >= *next)
				*next = (uint16_t)(c->sub_index + 1);
		}
	return have;
}

unsigned shv_vmbus_subchannel_room(struct shv_chan *primary)
{
	uint16_t next;
	unsigned have = subchannels(primary, &next);
	unsigned chans = primary->dev->channels;
	return chans > have + 1 ? chans - 1 - have : 0;
}

unsigned shv_vmbus_offer_subchannels(struct shv_chan *primary, unsigned n)
{
	uint16_t next;
	unsigned room = shv_vmbus_subchannel_room(primary);
	subchannels(primary, &next);
	if (n > room)
		n = room;
	unsigned done = 0;
	for (; done < n; done++) {
		struct shv_chan *c = new_chan(primary->part, primary->dev,
					      primary, next++);
		if (!c)
			break;
		send_offer(c);
	}
	return done;
}

/* Everything of the connection goes (UNLOAD, new INITIATE_CONTACT). */
static void reset_connection(struct shv_part *p)
{
	for (struct shv_chan *c = p->chans; c; c = c->next)
		shv_vmbus_close_chan(c);
	while (p->chans) {
		struct shv_chan *c = p->chans;
		if (c->state != SHV_CH_RESCINDED)
			p->door->chan_gone(p, c);
		free_chan(p, c);
	}
	shv_gpadl_drop(p, 0, true);
	if (p->monitor_timer)
		sim_loop_cancel(p->host->loop, p->monitor_timer);
	p->monitor_timer = 0;
	p->state = SHV_P_DISCONNECTED;
	p->offers_sent = false;
	p->version = 0;
	p->msg_conn_id = 0;
	memset(p->monitor_page, 0, sizeof(p->monitor_page));
}

void shv_part_free(struct shv_part *p)
{
	struct shv_host *h = p->host;
	p->dying = true;
	reset_connection(p);
	sim_mem_clear(&p->mem);
	for (struct shv_part **pp = &h->parts; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			h->nparts--;
			break;
		}
	free(p);
}

/* ------------------------------------------------------ monitor polling */
static void monitor_poll(struct sim_loop *loop, void *arg)
{
	struct shv_part *p = arg;
	p->monitor_timer = 0;
	uint8_t *mon = p->monitor_page[1]
			       ? sim_mem_ptr(&p->mem, p->monitor_page[1],
					     SHV_PAGE)
			       : NULL;
	if (!mon || p->state != SHV_P_CONNECTED)
		return;
	/* only the trigger groups of open channels: the others are not
	 * the host's to clear (and a guest may keep other data there, as a
	 * single-file fake uio device does) */
	unsigned groups = 0;
	uint64_t every = MONITOR_POLL_NS;
	for (struct shv_chan *c = p->chans; c; c = c->next)
		if (c->state == SHV_CH_OPEN && c->monitor_id < 128) {
			groups |= 1u << (c->monitor_id / 32);
			/* the latency the guest asked for (100 ns units), as
			 * Hyper-V honours it (DPDK writes 50 us) */
			uint16_t lat = shv_get16(mon + SHV_MON_LATENCY_OFF +
						 2u * c->monitor_id);
			uint64_t ns = (uint64_t)lat * 100u;
			if (lat && ns < every)
				every = ns < MONITOR_POLL_MIN_NS
						? MONITOR_POLL_MIN_NS
						: ns;
		}
	for (unsigned g = 0; g < SHV_MON_GROUPS; g++) {
		if (!(groups & (1u << g)))
			continue;
		uint32_t *pend = (uint32_t *)(void *)(mon +
						       SHV_MON_TRIG_PENDING(g));
		uint32_t bits = __atomic_exchange_n(pend, 0, __ATOMIC_ACQ_REL);
		while (bits) {
			unsigned b = (unsigned)__builtin_ctz(bits);
			bits &= bits - 1;
			uint8_t id = (uint8_t)(g * 32 + b);
			for (struct shv_chan *c = p->chans; c; c = c->next)
				if (c->monitor_id == id &&
				    c->state == SHV_CH_OPEN)
					shv_chan_signalled(c, 1);
		}
	}
	p->monitor_timer = sim_loop_timer(loop, every, monitor_poll, p);
}

/* --------------------------------------------------------- the messages */
static void version_response(struct shv_part *p, bool ok, uint8_t state,
			     uint32_t field)
{
	struct shv_msg_version_response m = {
		.hdr.type = SHV_MSG_VERSION_RESPONSE,
		.version_supported = ok,
		.connection_state = state,
		.msg_conn_id = field,
	};
	shv_vmbus_send(p, &m, sizeof(m));
}

static bool page_in_memory(struct shv_part *p, uint64_t gpa)
{
	return !(gpa & (SHV_PAGE - 1)) && sim_mem_ptr(&p->mem, gpa, SHV_PAGE);
}

static void initiate_contact(struct shv_part *p, uint32_t conn_id,
			     const uint8_t *msg, uint32_t len)
{
	if (len < sizeof(struct shv_msg_initiate_contact)) {
		shv_warn("part %u: INITIATE_CONTACT of %u bytes is too short; "
			 "dropped", p->id, len);
		return;
	}
	uint32_t ver = shv_get32(msg + 8);
	uint32_t vp = shv_get32(msg + 12);
	uint64_t intr = shv_get64(msg + 16);
	uint64_t mon1 = shv_get64(msg + 24), mon2 = shv_get64(msg + 32);
	bool known = false;
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++)
		if (versions[i] == ver && ver <= p->host->max_version)
			known = true;
	if (p->state == SHV_P_CONNECTED)
		reset_connection(p); /* a new contact starts over */
	if (!known) {
		shv_warn("part %u: VMBus version %u.%u is not supported", p->id,
			 ver >> 16, ver & 0xFFFF);
		version_response(p, false, 0, 0);
		return;
	}
	uint32_t want = ver >= SHV_VMBUS_V5_0 ? SHV_CONNID_MESSAGE_4
					      : SHV_CONNID_MESSAGE;
	if (conn_id != want) {
		shv_warn("part %u: INITIATE_CONTACT for version %u.%u posted to "
			 "connection id %u, must be %u", p->id, ver >> 16,
			 ver & 0xFFFF, conn_id, want);
		version_response(p, false, 0, 0);
		return;
	}
	if (ver >= SHV_VMBUS_V5_0 && (uint8_t)intr != SHV_VMBUS_SINT) {
		shv_warn("part %u: INITIATE_CONTACT asks for SINT %u; only SINT "
			 "2 is served", p->id, (unsigned)(uint8_t)intr);
		version_response(p, false, 0, 0);
		return;
	}
	const char *bad = NULL;
	if (vp != 0)
		bad = "target VP is not 0 (the partition has one VP)";
	else if ((mon1 == 0) != (mon2 == 0))
		bad = "one monitor page given without the other";
	else if (mon1 && (!page_in_memory(p, mon1) || !page_in_memory(p, mon2)))
		bad = "monitor page outside guest memory or unaligned";
	else if (ver < SHV_VMBUS_V5_0 && intr && !page_in_memory(p, intr))
		bad = "interrupt page outside guest memory or unaligned";
	if (bad) {
		shv_warn("part %u: INITIATE_CONTACT refused: %s", p->id, bad);
		version_response(p, true, 2, 0);
		return;
	}
	p->state = SHV_P_CONNECTED;
	p->version = ver;
	p->msg_conn_id = SHV_CONNID_MESSAGE;
	p->monitor_page[0] = mon1;
	p->monitor_page[1] = mon2;
	sim_log(SIM_LOG_INFO, "part %u (%s): VMBus %u.%u connected", p->id,
		p->name, ver >> 16, ver & 0xFFFF);
	version_response(p, true, 0,
			 ver >= SHV_VMBUS_V5_0 ? p->msg_conn_id : ver);
	if (p->door->monitored && mon2 && !p->monitor_timer)
		p->monitor_timer = sim_loop_timer(p->host->loop,
						  MONITOR_POLL_NS,
						  monitor_poll, p);
}

static void request_offers(struct shv_part *p)
{
	if (p->offers_sent) {
		shv_warn("part %u: REQUESTOFFERS again; ignored", p->id);
		return;
	}
	p->offers_sent = true;
	for (unsigned i = 0; i < p->host->ndevs; i++) {
		struct shv_dev *d = p->host->devs[i];
		if (!d->offered)
			continue;
		struct shv_chan *c = new_chan(p, d, NULL, 0);
		if (c)
			send_offer(c);
	}
	struct shv_msg_hdr done = { .type = SHV_MSG_ALLOFFERS_DELIVERED };
	shv_vmbus_send(p, &done, sizeof(done));
}

static uint32_t ld32(const uint8_t *p)
{
	return __atomic_load_n((const uint32_t *)(const void *)p,
			       __ATOMIC_ACQUIRE);
}

/* Read a ring's indices once; false if either is outside the ring. */
static bool ring_indices(const uint8_t *hdr, uint32_t size, uint32_t *w,
			 uint32_t *r)
{
	*w = ld32(hdr);
	*r = ld32(hdr + 4);
	return *w < size && *r < size && !(*w & 7) && !(*r & 7);
}

static void open_channel(struct shv_part *p, const uint8_t *msg)
{
	uint32_t relid = shv_get32(msg + 8), openid = shv_get32(msg + 12);
	uint32_t handle = shv_get32(msg + 16), vp = shv_get32(msg + 20);
	uint32_t down = shv_get32(msg + 24);
	struct shv_chan *c = shv_part_chan(p, relid);
	struct shv_gpadl *g = shv_gpadl_find(p, handle);
	uint32_t status = SHV_NT_INVALID_PARAMETER;
	const char *bad = NULL;
	char why[96];

	if (!c || c->state == SHV_CH_RESCINDED)
		bad = "no such channel";
	else if (c->state == SHV_CH_OPEN)
		bad = "channel already open";
	else if (c->dev->owner && c->dev->owner != p) {
		snprintf(why, sizeof(why), "%s is in use by partition %u",
			 c->dev->name, c->dev->owner->id);
		bad = why;
		status = SHV_NT_DEVICE_BUSY;
	} else if (c->sub_index && c->primary->state != SHV_CH_OPEN)
		bad = "sub-channel opened before its primary";
	else if (vp != 0 && vp != 0xFFFFFFFFu)
		bad = "target VP is not 0";
	else if (!g || g->state != SHV_GPADL_READY)
		bad = "ring GPADL unknown or not complete";
	else if (g->relid != relid)
		bad = "ring GPADL was created for another channel";
	else if (g->users)
		bad = "ring GPADL already in use";
	else if (g->byte_offset || g->byte_count != g->npages * SHV_PAGE)
		bad = "ring GPADL does not cover whole pages";
	else if (down < 2 || down > g->npages || g->npages - down < 2)
		bad = "downstream ring offset leaves a ring without data pages";
	if (!bad) {
		c->in.hdr = (struct shv_ring_hdr *)(void *)g->page[0];
		c->in.data = &g->page[1];
		c->in.size = (down - 1) * SHV_PAGE;
		c->out.hdr = (struct shv_ring_hdr *)(void *)g->page[down];
		c->out.data = &g->page[down + 1];
		c->out.size = (g->npages - down - 1) * SHV_PAGE;
		uint32_t iw = 0, ir = 0, ow = 0, orr = 0;
		if (!ring_indices(g->page[0], c->in.size, &iw, &ir) ||
		    !ring_indices(g->page[down], c->out.size, &ow, &orr))
			bad = "ring indices outside the rings";
		/* the host continues where the indices stand (0 on a
		 * fresh ring) */
		c->in.priv = ir;
		c->out.priv = ow;
	}
	if (!bad) {
		c->state = SHV_CH_OPEN;
		c->openid = openid;
		c->ring_gpadl = g;
		shv_gpadl_get(g);
		c->dev->owner = p;
		int r = shv_chan_start(c);
		if (r == 0)
			r = c->dev->ops->open(c);
		if (r < 0) {
			bad = r == -EBUSY ? "device refused: busy"
					  : "device refused the channel";
			c->state = SHV_CH_OFFERED;
			c->ring_gpadl = NULL;
			shv_chan_stop(c);
			shv_gpadl_put(p, g);
			if (!dev_open_in(p, c->dev))
				c->dev->owner = NULL;
		}
	}
	if (bad)
		shv_warn("part %u: OPENCHANNEL relid %u refused: %s", p->id,
			 relid, bad);
	else
		sim_log(SIM_LOG_DEBUG, "%s: open, rings %u/%u bytes",
			shv_chan_name(c), c->in.size, c->out.size);
	struct shv_msg_open_result m = {
		.hdr.type = SHV_MSG_OPENCHANNEL_RESULT,
		.relid = relid,
		.openid = openid,
		.status = bad ? status : SHV_NT_SUCCESS,
	};
	shv_vmbus_send(p, &m, sizeof(m));
}

static void close_channel(struct shv_part *p, uint32_t relid)
{
	struct shv_chan *c = shv_part_chan(p, relid);
	if (!c || c->state != SHV_CH_OPEN) {
		if (!c || c->state != SHV_CH_RESCINDED)
			shv_warn("part %u: CLOSECHANNEL of relid %u, which is "
				 "not open; ignored", p->id, relid);
		return;
	}
	shv_vmbus_close_chan(c);
	sim_log(SIM_LOG_DEBUG, "%s: closed", shv_chan_name(c));
	if (!c->sub_index)
		rescind_subchannels(p, c->dev);
}

static void relid_released(struct shv_part *p, uint32_t relid)
{
	struct shv_chan *c = shv_part_chan(p, relid);
	if (!c || c->state != SHV_CH_RESCINDED) {
		shv_warn("part %u: RELID_RELEASED of relid %u, which was not "
			 "rescinded; ignored", p->id, relid);
		return;
	}
	shv_gpadl_drop(p, relid, false);
	free_chan(p, c);
}

static void unload(struct shv_part *p)
{
	reset_connection(p);
	struct shv_msg_hdr m = { .type = SHV_MSG_UNLOAD_RESPONSE };
	shv_vmbus_send(p, &m, sizeof(m));
	sim_log(SIM_LOG_INFO, "part %u (%s): VMBus unloaded", p->id, p->name);
}

static uint32_t min_size(uint32_t type)
{
	switch (type) {
	case SHV_MSG_REQUESTOFFERS:
	case SHV_MSG_UNLOAD:
		return sizeof(struct shv_msg_hdr);
	case SHV_MSG_OPENCHANNEL:
		return sizeof(struct shv_msg_open);
	case SHV_MSG_CLOSECHANNEL:
	case SHV_MSG_RELID_RELEASED:
		return sizeof(struct shv_msg_relid);
	case SHV_MSG_GPADL_HEADER:
		return sizeof(struct shv_msg_gpadl_header);
	case SHV_MSG_GPADL_BODY:
		return sizeof(struct shv_msg_gpadl_body) + 8;
	case SHV_MSG_GPADL_TEARDOWN:
		return sizeof(struct shv_msg_gpadl_teardown);
	default:
		return 0;
	}
}

uint32_t shv_vmbus_post(struct shv_part *p, uint32_t conn_id,
			uint32_t msg_type, const void *msgv, uint32_t len)
{
	const uint8_t *msg = msgv;
	bool has4 = p->host->max_version >= SHV_VMBUS_V5_0;
	if (conn_id != SHV_CONNID_MESSAGE &&
	    !(conn_id == SHV_CONNID_MESSAGE_4 && has4)) {
		shv_warn("part %u: message posted to connection id %u, which "
			 "does not exist", p->id, conn_id);
		return SHV_HV_INVALID_CONNECTION_ID;
	}
	if (msg_type != 1 || len > SHV_MSG_PAYLOAD_MAX) {
		shv_warn("part %u: HvPostMessage with message type %u, %u "
			 "bytes; refused", p->id, msg_type, len);
		return SHV_HV_INVALID_PARAMETER;
	}
	if (len < sizeof(struct shv_msg_hdr)) {
		shv_warn("part %u: channel message of %u bytes has no header; "
			 "dropped", p->id, len);
		return SHV_HV_OK;
	}
	uint32_t type = shv_get32(msg);
	if (type == SHV_MSG_INITIATE_CONTACT) {
		initiate_contact(p, conn_id, msg, len);
		return SHV_HV_OK;
	}
	if (p->state != SHV_P_CONNECTED) {
		shv_warn("part %u: channel message %u before INITIATE_CONTACT; "
			 "dropped", p->id, type);
		return SHV_HV_OK;
	}
	if (conn_id != p->msg_conn_id) {
		shv_warn("part %u: channel message %u posted to connection id "
			 "%u; VERSION_RESPONSE said %u; dropped", p->id, type,
			 conn_id, p->msg_conn_id);
		return SHV_HV_OK;
	}
	uint32_t need = min_size(type);
	if (!need) {
		shv_warn("part %u: channel message type %u is not one a guest "
			 "sends to this host; dropped", p->id, type);
		return SHV_HV_OK;
	}
	if (len < need) {
		shv_warn("part %u: channel message %u of %u bytes, needs %u; "
			 "dropped", p->id, type, len, need);
		return SHV_HV_OK;
	}
	switch (type) {
	case SHV_MSG_REQUESTOFFERS:
		request_offers(p);
		break;
	case SHV_MSG_OPENCHANNEL:
		open_channel(p, msg);
		break;
	case SHV_MSG_CLOSECHANNEL:
		close_channel(p, shv_get32(msg + 8));
		break;
	case SHV_MSG_GPADL_HEADER:
		shv_gpadl_header(p, msg, len);
		break;
	case SHV_MSG_GPADL_BODY:
		shv_gpadl_body(p, msg, len);
		break;
	case SHV_MSG_GPADL_TEARDOWN:
		shv_gpadl_teardown(p, msg, len);
		break;
	case SHV_MSG_RELID_RELEASED:
		relid_released(p, shv_get32(msg + 8));
		break;
	case SHV_MSG_UNLOAD:
		unload(p);
		break;
	}
	return SHV_HV_OK;
}

/* ------------------------------------------------------------ management */
void shv_vmbus_rescind_dev(struct shv_host *h, struct shv_dev *d)
{
	d->offered = false;
	for (struct shv_part *p = h->parts; p; p = p->next) {
		rescind_subchannels(p, d);
		for (struct shv_chan *c = p->chans; c; c = c->next)
			if (c->dev == d)
				rescind_chan(c, p->state == SHV_P_CONNECTED);
	}
}

void shv_vmbus_offer_dev(struct shv_host *h, struct shv_dev *d)
{
	d->offered = true;
	for (struct shv_part *p = h->parts; p; p = p->next) {
		if (p->state != SHV_P_CONNECTED || !p->offers_sent)
			continue;
		struct shv_chan *c = new_chan(p, d, NULL, 0);
		if (c)
			send_offer(c);
	}
}
