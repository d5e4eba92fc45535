/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_sim_vmbus.c - the simulated Hyper-V host (sim/vmbus:
 * channel manager, GPADLs, rings, StorVSP with its SCSI disk, NetVSP with
 * RNDIS) against a guest the fuzzer plays, in-process.
 *
 * The guest posts channel messages - INITIATE_CONTACT with any version
 * and connection id, REQUESTOFFERS, GPADLs (well-formed, built by pvio's
 * own encoder, or anything), OPENCHANNEL with any ring and downstream
 * offset, CLOSECHANNEL, GPADL_TEARDOWN, RELID_RELEASED, UNLOAD, raw bytes
 * - and on open channels writes packets into its send ring (inband NVSP
 * and VSTOR messages, GPA-direct packets with page ranges inside or
 * outside its memory, completions, transfer-page acks with any id),
 * signals, scribbles over ring indices, and reads what the host wrote.
 *
 * Properties: no crash, leak or sanitizer report; every message the host
 * posts is at most 240 bytes with a known type; everything the host
 * writes into a ring the guest has not corrupted reads back as well-formed
 * packets with pvio's strict ring reader (backends/vmbus/ring.c).
 */
#include "fuzz.h"

#include <sys/mman.h>
#include <unistd.h>

#include "backends/vmbus/conn.h"
#include "vmbus/scsi.h"
#include "vmbus/shv.h"

#define MEM_PAGES 256u
#define GPA_BASE 0x100000000ull

struct door {
	uint8_t last[24][240];
	uint32_t len[24];
	unsigned n;
	unsigned interrupts;
};

struct gp {              /* a GPADL the guest described */
	uint32_t handle, relid, first, npages;
};

struct ch {              /* an open channel as the guest sees it */
	uint32_t relid;
	bool open;
	bool corrupted;      /* the guest scribbled on its receive ring */
	struct vmbus_ring tx, rx;
};

struct h {
	struct fz *f;
	struct shv_host host;
	struct shv_part *part;
	uint8_t *gmem;
	int gfd;
	struct door door;
	struct gp gpadls[8];
	unsigned ngp;
	struct ch ch[4];
	uint32_t conn;       /* connection id for messages */
};

static char img_path[64];

static void cleanup_img(void)
{
	unlink(img_path);
}

static void d_post(struct shv_part *p, const void *m, uint32_t len)
{
	struct door *d = p->door_priv;
	FZ_ASSERT(len >= 8 && len <= 240, "host posted %u bytes", len);
	uint32_t type;
	memcpy(&type, m, 4);
	FZ_ASSERT(type >= 1 && type <= 17 && type != 3 && type != 5 &&
		  type != 7 && type != 8 && type != 9 && type != 11 &&
		  type != 13 && type != 14 && type != 16,
		  "host posted message type %u", type);
	unsigned i = d->n < 24 ? d->n++ : 23;
	memcpy(d->last[i], m, len);
	d->len[i] = len;
}

static void d_interrupt(struct shv_part *p, struct shv_chan *c)
{
	struct door *d = p->door_priv;
	(void)c;
	d->interrupts++;
}

static void d_gone(struct shv_part *p, struct shv_chan *c)
{
	(void)p, (void)c;
}

static const struct shv_door_ops door_ops = {
	"fuzz", d_post, d_interrupt, d_gone, NULL,
};

/* The host's last message of type, if any. */
static const uint8_t *took(struct h *h, uint32_t type)
{
	for (unsigned i = h->door.n; i-- > 0;) {
		uint32_t t;
		memcpy(&t, h->door.last[i], 4);
		if (t == type)
			return h->door.last[i];
	}
	return NULL;
}

static void post(struct h *h, const void *m, uint32_t len)
{
	uint32_t t = 0;
	if (len >= 4)
		memcpy(&t, m, 4);
	h->door.n = 0;
	shv_vmbus_post(h->part, h->conn, 1, m, len);
	sim_loop_once(h->host.loop, 0);
}

static void add_devs(struct h *h)
{
	struct shv_dev *d = calloc(1, sizeof(*d));
	FZ_ASSERT(d, "calloc");
	d->host = &h->host;
	d->ops = &shv_storvsp_ops;
	d->kind = SHV_DEV_SCSI;
	d->channels = 2;
	d->offered = true;
	strcpy(d->name, "storvsc0");
	d->type_guid[0] = 0xd9;
	d->inst_guid[0] = 0x42;
	snprintf(d->disk.path, sizeof(d->disk.path), "%s", img_path);
	d->disk.bs = 512;
	d->disk.max_transfer = 512 * 1024;
	FZ_ASSERT(shv_disk_open(&d->disk) == 0, "disk");
	h->host.devs[h->host.ndevs++] = d;
	struct shv_dev *n = calloc(1, sizeof(*n));
	FZ_ASSERT(n, "calloc");
	n->host = &h->host;
	n->ops = &shv_netvsp_ops;
	n->kind = SHV_DEV_NIC;
	n->channels = 2;
	n->offered = true;
	strcpy(n->name, "netvsc0");
	n->type_guid[0] = 0x63;
	n->inst_guid[0] = 0x43;
	n->nic.mtu = 1500;
	n->nic.link_up = true;
	n->nic.section_size = 6144;
	n->nic.mode = SHV_NIC_REFLECT;
	h->host.devs[h->host.ndevs++] = n;
}

static void op_contact(struct h *h)
{
	struct fz *f = h->f;
	static const uint32_t vers[] = { 0x00050003, 0x00050000, 0x00040000,
					 0x00030000, 0x00020004, 0x00060000 };
	struct vmbus_msg_initiate_contact m;
	memset(&m, 0, sizeof(m));
	m.hdr.type = VMBUS_MSG_INITIATE_CONTACT;
	m.version = fz_u8(f) < 0xf0 ? vers[fz_below(f, 6)] : fz_u32(f);
	if (m.version >= 0x00050000)
		m.u.v5.msg_sint = 2;
	else
		m.u.interrupt_page = GPA_BASE + fz_below(f, MEM_PAGES) * 4096ull;
	m.monitor_page1 = GPA_BASE + fz_below(f, MEM_PAGES) * 4096ull;
	m.monitor_page2 = GPA_BASE + fz_below(f, MEM_PAGES) * 4096ull;
	uint32_t conn = fz_bool(f) ? 4 : 1;
	h->door.n = 0;
	shv_vmbus_post(h->part, conn, 1, &m, sizeof(m));
	const uint8_t *r = took(h, VMBUS_MSG_VERSION_RESPONSE);
	if (r && r[8]) {
		uint32_t id;
		memcpy(&id, r + 12, 4);
		h->conn = m.version >= 0x00050000 ? id : 1;
	}
}

static void op_gpadl(struct h *h)
{
	struct fz *f = h->f;
	uint32_t relid = 1 + fz_below(f, 4);
	uint32_t handle = 0x100 + fz_below(f, 16);
	uint32_t npages = 2 + fz_below(f, 62);
	uint32_t first = fz_below(f, MEM_PAGES - npages + 1);
	uint8_t m[VMBUS_MSG_MAX];
	uint32_t nmsgs = vmbus_gpadl_nmsgs(npages);
	bool corrupt = fz_u8(f) >= 0xf0;
	for (uint32_t i = 0; i < nmsgs; i++) {
		uint32_t n = vmbus_gpadl_msg(m, relid, handle,
					     (GPA_BASE >> 12) + first, npages, i);
		if (corrupt && fz_bool(f)) {
			uint32_t at = fz_below(f, n);
			m[at] = fz_u8(f);
			if (fz_bool(f))
				n = fz_below(f, n + 1);
		}
		post(h, m, n);
	}
	const uint8_t *r = took(h, VMBUS_MSG_GPADL_CREATED);
	uint32_t st = 1;
	if (r)
		memcpy(&st, r + 16, 4);
	fz_note("gpadl 0x%x relid %u pages %u+%u: %s %u", handle, relid, first,
		npages, r ? "created" : "no answer", st);
	if (r && !st && h->ngp < 8)
		h->gpadls[h->ngp++] = (struct gp){ handle, relid, first, npages };
}

static void op_open(struct h *h)
{
	struct fz *f = h->f;
	if (!h->ngp && fz_u8(f) < 0xf0)
		return;
	struct gp *g = h->ngp ? &h->gpadls[fz_below(f, h->ngp)] : NULL;
	struct vmbus_msg_open m;
	memset(&m, 0, sizeof(m));
	m.hdr.type = VMBUS_MSG_OPENCHANNEL;
	m.child_relid = g ? g->relid : 1 + fz_below(f, 4);
	m.openid = m.child_relid;
	m.ring_gpadl = g ? g->handle : fz_u32(f);
	uint32_t down = g ? 1 + fz_below(f, g->npages - 1) : fz_u8(f);
	if (fz_u8(f) >= 0xf0)
		down = fz_u32(f);
	m.downstream_page_offset = down;
	fz_bytes(f, m.user_data, fz_below(f, 16));
	post(h, &m, sizeof(m));
	const uint8_t *r = took(h, VMBUS_MSG_OPENCHANNEL_RESULT);
	uint32_t st = 1;
	if (r)
		memcpy(&st, r + 16, 4);
	fz_note("open relid %u: %s %u", m.child_relid, r ? "result" : "no answer",
		st);
	if (!r || st || !g)
		return;
	for (unsigned i = 0; i < 4; i++) {
		struct ch *c = &h->ch[i];
		if (c->open && c->relid != g->relid)
			continue;
		memset(c, 0, sizeof(*c));
		c->relid = g->relid;
		c->open = true;
		uint8_t *base = h->gmem + (size_t)g->first * 4096;
		vmbus_ring_init(&c->tx, base, down * 4096);
		vmbus_ring_init(&c->rx, base + (size_t)down * 4096,
				(g->npages - down) * 4096);
		return;
	}
}

/* A packet from the guest on an open channel. */
static void op_packet(struct h *h)
{
	struct fz *f = h->f;
	struct ch *c = &h->ch[fz_below(f, 4)];
	if (!c->open)
		return;
	uint8_t k = fz_u8(f);
	uint8_t payload[256];
	uint32_t plen = fz_below(f, sizeof(payload));
	fz_bytes(f, payload, plen);
	/* often an NVSP or VSTOR message type up front */
	if (plen >= 4 && (k & 1)) {
		static const uint32_t types[] = { 1, 100, 101, 104, 107, 125, 133,
						  3, 7, 8, 9, 10, 13 };
		uint32_t t = types[fz_below(f, sizeof(types) / 4)];
		memcpy(payload, &t, 4);
	}
	struct vmbus_pkt_desc d;
	uint8_t extra[8 + 16 * 4];
	uint32_t elen = 0;
	uint16_t type = VMBUS_PKT_INBAND;
	switch ((k >> 1) % 4) {
	case 1: { /* GPA-direct with up to 4 ranges */
		type = VMBUS_PKT_GPA_DIRECT;
		uint32_t nr = 1 + fz_below(f, 4);
		uint32_t z = 0;
		memcpy(extra, &z, 4);
		memcpy(extra + 4, &nr, 4);
		for (uint32_t i = 0; i < nr; i++) {
			uint32_t cnt = 1 + fz_below(f, 4096), off = fz_below(f, 4096);
			uint64_t pfn = (GPA_BASE >> 12) + fz_below(f, MEM_PAGES + 2);
			if (fz_u8(f) >= 0xf8)
				pfn = fz_u64(f);
			memcpy(extra + 8 + 16 * i, &cnt, 4);
			memcpy(extra + 12 + 16 * i, &off, 4);
			memcpy(extra + 16 + 16 * i, &pfn, 8);
		}
		elen = 8 + 16 * nr;
		break;
	}
	case 2:
		type = VMBUS_PKT_COMP;
		break;
	case 3:
		type = fz_u16(f);
		break;
	default:
		break;
	}
	vmbus_pkt_desc(&d, type, 16 + elen, plen,
		       fz_bool(f) ? VMBUS_PKT_FLAG_COMPLETION : 0,
		       fz_u8(f) < 0xf0 ? fz_below(f, 8) : fz_u64(f));
	struct vmbus_iov iov[3] = { { &d, 16 }, { extra, elen },
				    { payload, plen } };
	const char *why = "";
	if (vmbus_ring_write(&c->tx, iov, 3, &why) == 0)
		vmbus_ring_publish(&c->tx);
}

static struct shv_chan *host_chan(struct h *h, struct ch *c)
{
	return shv_part_chan(h->part, c->relid);
}

static void op_signal(struct h *h)
{
	struct ch *c = &h->ch[fz_below(h->f, 4)];
	struct shv_chan *hc = c->open ? host_chan(h, c) : NULL;
	if (hc)
		shv_chan_signalled(hc, 1);
	for (int i = 0; i < 4; i++)
		sim_loop_once(h->host.loop, 0);
}

static void op_read(struct h *h)
{
	struct ch *c = &h->ch[fz_below(h->f, 4)];
	if (!c->open)
		return;
	uint8_t buf[16384];
	for (int i = 0; i < 64; i++) {
		const char *why = "";
		int n = vmbus_ring_read(&c->rx, buf, sizeof(buf), &why);
		if (n == 0)
			break;
		fz_note("relid %u: host packet of %d bytes", c->relid, n);
		if (n < 0) {
			FZ_ASSERT(c->corrupted, "the host wrote a malformed packet "
				  "into channel %u's ring: %s", c->relid, why);
			break;
		}
	}
	if (vmbus_ring_done(&c->rx)) {
		struct shv_chan *hc = host_chan(h, c);
		if (hc)
			shv_chan_signalled(hc, 1);
	}
}

static void op_control(struct h *h)
{
	struct fz *f = h->f;
	uint8_t m[VMBUS_MSG_MAX + 1]; /* one byte more than a message */
	memset(m, 0, sizeof(m));
	uint32_t relid = 1 + fz_below(f, 4);
	uint32_t t;
	uint32_t len = 12;
	switch (fz_u8(f) % 6) {
	case 0:
		t = VMBUS_MSG_CLOSECHANNEL;
		for (unsigned i = 0; i < 4; i++)
			if (h->ch[i].relid == relid)
				h->ch[i].open = false;
		break;
	case 1:
		t = VMBUS_MSG_GPADL_TEARDOWN;
		memcpy(m + 12, &(uint32_t){ h->ngp ? h->gpadls[fz_below(f, h->ngp)]
							     .handle
						   : fz_u32(f) }, 4);
		len = 16;
		break;
	case 2:
		t = VMBUS_MSG_RELID_RELEASED;
		break;
	case 3:
		t = VMBUS_MSG_UNLOAD;
		len = 8;
		for (unsigned i = 0; i < 4; i++)
			h->ch[i].open = false;
		break;
	case 4:
		t = VMBUS_MSG_REQUESTOFFERS;
		len = 8;
		break;
	default: { /* anything */
		len = fz_below(f, VMBUS_MSG_MAX + 2);
		fz_bytes(f, m, len);
		memcpy(&t, m, 4);
		if (fz_bool(f))
			t = fz_below(f, 20);
		for (unsigned i = 0; i < 4; i++)
			h->ch[i].open = false; /* who knows what it did */
		break;
	}
	}
	memcpy(m, &t, 4);
	memcpy(m + 8, &relid, 4);
	post(h, m, len);
}

static void op_scribble(struct h *h)
{
	struct fz *f = h->f;
	struct ch *c = &h->ch[fz_below(f, 4)];
	if (!c->open)
		return;
	bool rx = fz_bool(f);
	uint8_t *hdr = (uint8_t *)(rx ? c->rx.hdr : c->tx.hdr);
	uint32_t off = 4 * fz_below(f, 17);
	uint32_t v = fz_u32(f);
	memcpy(hdr + off, &v, 4);
	if (rx)
		c->corrupted = true;
	else if (off == 0)
		c->open = false; /* our own write index is not ours any more */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	if (!img_path[0]) {
		snprintf(img_path, sizeof(img_path), "/tmp/pvio-fuzz-disk-XXXXXX");
		int fd = mkstemp(img_path);
		FZ_ASSERT(fd >= 0 && ftruncate(fd, 1 << 20) == 0, "image");
		close(fd);
		atexit(cleanup_img);
		sim_log_init("fuzz", getenv("FUZZ_LOG") ? SIM_LOG_DEBUG : -1);
	}
	struct h *h = calloc(1, sizeof(*h));
	FZ_ASSERT(h, "calloc");
	h->f = &f;
	h->host.loop = sim_loop_new();
	h->host.max_version = 0x00050003;
	FZ_ASSERT(h->host.loop, "loop");
	add_devs(h);
	h->part = shv_part_new(&h->host, &door_ops, &h->door, "fuzz");
	FZ_ASSERT(h->part, "partition");
	h->part->door_priv = &h->door;
	h->gfd = memfd_create("fuzz-guest", MFD_CLOEXEC);
	FZ_ASSERT(h->gfd >= 0 && ftruncate(h->gfd, MEM_PAGES * 4096) == 0,
		  "memfd");
	h->gmem = mmap(NULL, MEM_PAGES * 4096, PROT_READ | PROT_WRITE, MAP_SHARED,
		       h->gfd, 0);
	FZ_ASSERT(h->gmem != MAP_FAILED, "mmap");
	FZ_ASSERT(sim_mem_add(&h->part->mem, GPA_BASE, MEM_PAGES * 4096, h->gfd,
			      0) == 0, "guest memory");
	h->conn = 1;

	for (unsigned step = 0; step < 150 && fz_left(&f); step++) {
		switch (fz_u8(&f) % 10) {
		case 0:
			op_contact(h);
			break;
		case 1:
			op_gpadl(h);
			break;
		case 2:
			op_open(h);
			break;
		case 3:
		case 4:
			op_packet(h);
			break;
		case 5:
			op_signal(h);
			break;
		case 6:
			op_read(h);
			break;
		case 7:
			op_control(h);
			break;
		case 8:
			op_scribble(h);
			break;
		default: {
			struct vmbus_msg_hdr ro = { VMBUS_MSG_REQUESTOFFERS, 0 };
			post(h, &ro, sizeof(ro));
			break;
		}
		}
	}
	shv_host_free(&h->host);
	munmap(h->gmem, MEM_PAGES * 4096);
	close(h->gfd);
	free(h);
	return 0;
}

void fz_seeds(fz_emit_fn emit, void *arg)
{
	struct fzb b = { 0 };
	for (unsigned dev = 0; dev < 2; dev++) {
		/* contact 5.3, offers, a ring GPADL, open, NVSP/VSTOR init,
		 * signal, read */
		fzb_u8(&b, 0);
		fzb_u8(&b, 0);
		fzb_u8(&b, 0);          /* 5.3 */
		fzb_u8(&b, 1);
		fzb_u8(&b, 2);
		fzb_u8(&b, 1);          /* conn 4 */
		fzb_u8(&b, 9);          /* REQUESTOFFERS */
		fzb_u8(&b, 1);          /* GPADL */
		fzb_u8(&b, (uint8_t)dev); /* relid dev + 1 */
		fzb_u8(&b, 0);
		fzb_u8(&b, 14);         /* 16 pages */
		fzb_u8(&b, 8);          /* from page 8 */
		fzb_u8(&b, 0);
		fzb_u8(&b, 2);          /* open */
		fzb_u8(&b, 0);
		fzb_u8(&b, 7);          /* downstream 8 pages */
		fzb_u8(&b, 0);
		fzb_u8(&b, 0);
		for (unsigned i = 0; i < 6; i++) {
			fzb_u8(&b, 3);          /* packet */
			fzb_u8(&b, 0);          /* channel 0 */
			fzb_u8(&b, 1);          /* inband, typed */
			fzb_u8(&b, 64);
			for (unsigned k = 0; k < 64; k++)
				fzb_u8(&b, (uint8_t)(k == 4 ? 2 : 0));
			fzb_u8(&b, (uint8_t)(dev ? i % 5 + 7 : i % 7));
			fzb_u8(&b, 1);
			fzb_u8(&b, (uint8_t)i);
			fzb_u8(&b, 5);          /* signal */
			fzb_u8(&b, 0);
			fzb_u8(&b, 6);          /* read */
			fzb_u8(&b, 0);
		}
		char name[16];
		snprintf(name, sizeof(name), "%s", dev ? "netvsc" : "storvsc");
		fzb_emit(&b, emit, arg, name);
	}
	fzb_free(&b);
}
