/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_sim_virtio.c - the simulated KVM host (sim/virtio:
 * vhost-user message handling, memory table, device-side split and packed
 * rings, the virtio-blk and virtio-net models) against a vhost-user front
 * end the fuzzer plays, in-process on its event loop.
 *
 * Per input the harness starts a blk device (on a temporary image) or a
 * net device, connects to its socket and sends what the fuzzer picks:
 * well-formed vhost-user requests with fuzzed fields (features, memory
 * regions with any guest-physical and user addresses and offsets, ring
 * sizes, bases, addresses inside and outside the table, kick/call/err
 * descriptors, config reads, status), headers that lie about their size,
 * raw bytes, or a hang-up; and, once rings are set up, descriptors of any
 * shape in its memory (chains, loops, indirect tables, lengths, addresses
 * anywhere) made available and kicked.  The sim runs its loop after each
 * step.
 *
 * Properties: no crash, leak or sanitizer report; every reply is
 * well-formed (version, REPLY flag, the request it answers - the one sent
 * or, after a header announcing fewer bytes than were sent, one of the
 * messages those bytes encode, in stream order - a size the request
 * allows); the device writes used entries only for buffers the driver
 * made available, with a length no larger than the writable bytes it
 * offered (the chain as its flags and links say; the harness, like a
 * driver, rewrites no descriptor of a chain the device has not used), and
 * never changes the driver's descriptor table (split), avail ring or
 * device-readable buffers.
 */
#include "fuzz.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/virtio_ring.h>

#include "virtio/svirtio.h"

#define MEM (1u << 20)
#define GPA 0x40000000ull
#define RING_OFF 0u              /* rings of queue 0 live here */
#define RD_OFF (256u * 1024)     /* device-readable buffers */
#define WR_OFF (512u * 1024)     /* device-writable buffers */

struct h {
	struct fz *f;
	struct svirtio_host host;
	struct svirtio_dev *d;
	int sock;
	uint8_t *mem;
	int memfd;
	int kick, call, err;
	bool packed_ever; /* RING_PACKED was offered to the device */
	uint16_t qsize;
	bool ring_known, hostile_mem;
	bool ended; /* our side of the stream is shut */
	uint8_t snap[RD_OFF];    /* the driver's area and readable buffers */
	uint16_t avail_idx;      /* split: what we made available */
	uint16_t used_seen;
	uint64_t wlen[1024];     /* split: writable bytes per head */
	bool out[1024];          /* made available, not yet used */
	uint16_t uses[1024];     /* outstanding chains through a descriptor */
};

static char dir[64];

static void cleanup(void)
{
	char p[128];
	snprintf(p, sizeof(p), "%s/disk.img", dir);
	unlink(p);
	rmdir(dir);
}

static void setup_dir(void)
{
	if (dir[0])
		return;
	snprintf(dir, sizeof(dir), "/tmp/pvio-fuzz-simvirtio-XXXXXX");
	FZ_ASSERT(mkdtemp(dir), "mkdtemp");
	atexit(cleanup);
	sim_log_init("fuzz", getenv("FUZZ_LOG") ? SIM_LOG_DEBUG : -1);
}

static void pump(struct h *h)
{
	for (int i = 0; i < 8; i++)
		if (sim_loop_once(h->host.loop, 0) <= 0)
			break;
}

/* Read and check whatever replies the sim sent: to the requests in
 * reqs[], in that order (not every request is answered). */
static void replies(struct h *h, const uint32_t *reqs, unsigned nreqs)
{
	unsigned at = 0;
	for (;;) {
		struct svu_hdr r;
		int fds[SVU_MAX_FDS], nfds = 0;
		ssize_t n = sim_recv_fds(h->sock, &r, sizeof(r), fds, SVU_MAX_FDS,
					 &nfds);
		for (int i = 0; i < nfds; i++)
			close(fds[i]);
		if (n <= 0)
			return;
		FZ_ASSERT(n == (ssize_t)sizeof(r), "a %zd-byte reply header", n);
		FZ_ASSERT((r.flags & SVU_FLAG_VERSION_MASK) == SVU_VERSION &&
			  (r.flags & SVU_FLAG_REPLY), "reply flags 0x%x", r.flags);
		while (at < nreqs && reqs[at] != r.request)
			at++;
		FZ_ASSERT(at < nreqs, "reply to %u while %u was asked",
			  r.request, reqs[0]);
		uint32_t req = reqs[at++];
		FZ_ASSERT(r.size <= SVU_MAX_PAYLOAD, "reply of %u bytes", r.size);
		uint8_t pl[SVU_MAX_PAYLOAD];
		if (r.size && recv(h->sock, pl, r.size, MSG_DONTWAIT) !=
				      (ssize_t)r.size)
			return;
		if (req == SVU_GET_FEATURES || req == SVU_GET_PROTOCOL_FEATURES ||
		    req == SVU_GET_QUEUE_NUM || req == SVU_GET_STATUS ||
		    req == SVU_GET_MAX_MEM_SLOTS)
			FZ_ASSERT(r.size == 8, "reply to %u of %u bytes", req, r.size);
		if (req == SVU_GET_VRING_BASE)
			FZ_ASSERT(r.size == 8, "GET_VRING_BASE reply of %u", r.size);
	}
}

static void send_msg(struct h *h, uint32_t req, uint32_t flags, const void *p,
		     uint32_t size, const int *fds, int nfds, bool lie)
{
	struct fz *f = h->f;
	uint8_t buf[sizeof(struct svu_hdr) + SVU_MAX_PAYLOAD];
	struct svu_hdr hd = { req, SVU_VERSION | flags, size };
	if (lie)
		hd.size = fz_u32(f) % (SVU_MAX_PAYLOAD + 64);
	memcpy(buf, &hd, sizeof(hd));
	memcpy(buf + sizeof(hd), p, size);
	if (sim_send_fds(h->sock, buf, sizeof(hd) + size, fds, nfds) < 0)
		return;
	/* A header that announces fewer bytes than follow leaves the rest
	 * on the stream, where the sim reads it as further messages: those
	 * may be answered too, under their own request codes. */
	uint32_t reqs[1 + SVU_MAX_PAYLOAD / sizeof(hd)];
	unsigned nreqs = 0;
	reqs[nreqs++] = req;
	for (uint64_t at = sizeof(hd) + (uint64_t)hd.size;
	     at + sizeof(hd) <= sizeof(hd) + size;) {
		struct svu_hdr x;
		memcpy(&x, buf + at, sizeof(x));
		reqs[nreqs++] = x.request;
		at += sizeof(x) + (uint64_t)x.size;
	}
	if (lie && hd.size != size) {
		/* the sim would wait (5 s) for bytes that never come: end
		 * the stream so it sees the truncation at once, and stop */
		shutdown(h->sock, SHUT_WR);
		h->ended = true;
	}
	pump(h);
	replies(h, reqs, nreqs);
}

static void op_msg(struct h *h)
{
	struct fz *f = h->f;
	uint8_t k = fz_u8(f);
	static const uint32_t reqs[] = {
		SVU_GET_FEATURES, SVU_SET_FEATURES, SVU_SET_OWNER,
		SVU_SET_MEM_TABLE, SVU_SET_VRING_NUM, SVU_SET_VRING_ADDR,
		SVU_SET_VRING_BASE, SVU_GET_VRING_BASE, SVU_SET_VRING_KICK,
		SVU_SET_VRING_CALL, SVU_SET_VRING_ERR, SVU_GET_PROTOCOL_FEATURES,
		SVU_SET_PROTOCOL_FEATURES, SVU_GET_QUEUE_NUM,
		SVU_SET_VRING_ENABLE, SVU_GET_CONFIG, SVU_SET_CONFIG,
		SVU_SET_STATUS, SVU_GET_STATUS, SVU_RESET_OWNER,
		SVU_GET_MAX_MEM_SLOTS, SVU_ADD_MEM_REG, SVU_REM_MEM_REG,
		SVU_RESET_DEVICE, SVU_SET_LOG_BASE, SVU_IOTLB_MSG,
	};
	uint32_t req = k < 0xf0 ? reqs[fz_below(f, sizeof(reqs) / 4)]
				: fz_u32(f) % 64;
	uint32_t flags = fz_bool(f) ? SVU_FLAG_NEED_REPLY : 0;
	uint8_t p[SVU_MAX_PAYLOAD];
	memset(p, 0, sizeof(p));
	uint32_t size = 0;
	int fds[2], nfds = 0;
	uint16_t vq = (uint16_t)(fz_u8(f) < 0xf0 ? 0 : fz_below(f, 300));
	switch (req) {
	case SVU_SET_FEATURES:
	case SVU_SET_PROTOCOL_FEATURES:
	case SVU_SET_STATUS:
	case SVU_SET_LOG_BASE: {
		uint64_t v = fz_u64(f);
		if (req == SVU_SET_FEATURES) {
			/* mostly what the device offers */
			v &= 1ull << 32 | 1ull << 28 | 1ull << 29 | 1ull << 34 |
			     1ull << 30 | 0xffffffull;
			if (fz_bool(f))
				v |= 1ull << 32;
			/* the device may have run the ring packed (its
			 * device event area is where split puts the used
			 * ring), whether or not later SET_FEATURES went
			 * back to split or were refused */
			if (v & 1ull << 34)
				h->packed_ever = true;
		}
		memcpy(p, &v, 8);
		size = 8;
		break;
	}
	case SVU_SET_MEM_TABLE:
	case SVU_ADD_MEM_REG:
	case SVU_REM_MEM_REG: {
		struct svu_region r = { GPA, MEM, (uint64_t)(uintptr_t)h->mem, 0 };
		if (fz_u8(f) >= 0xe0) {
			h->hostile_mem = true;
			r.gpa = fz_bool(f) ? fz_u64(f) : GPA + fz_u32(f);
			r.size = fz_bool(f) ? fz_u64(f) : fz_u32(f) % (2 * MEM);
			r.uva = fz_bool(f) ? fz_u64(f) : r.uva + fz_u16(f);
			r.mmap_offset = fz_bool(f) ? fz_u64(f) : fz_u32(f) % (2 * MEM);
		}
		if (req == SVU_SET_MEM_TABLE) {
			uint32_t n = 1 + (fz_u8(f) >= 0xf0 ? fz_below(f, 9) : 0);
			memcpy(p, &n, 4);
			for (uint32_t i = 0; i < n && i < SVU_MEM_REGIONS; i++)
				memcpy(p + 8 + 32 * i, &r, 32);
			size = 8 + 32 * (n < SVU_MEM_REGIONS ? n : SVU_MEM_REGIONS);
			fds[0] = h->memfd;
			nfds = 1;
		} else {
			memcpy(p + 8, &r, 32);
			size = 40;
			if (req == SVU_ADD_MEM_REG) {
				fds[0] = h->memfd;
				nfds = 1;
			}
		}
		break;
	}
	case SVU_SET_VRING_NUM:
	case SVU_SET_VRING_BASE:
	case SVU_GET_VRING_BASE:
	case SVU_SET_VRING_ENABLE: {
		struct svu_state s = { vq, fz_u8(f) < 0xf0 ? 16u : fz_u32(f) };
		if (req == SVU_SET_VRING_BASE)
			s.num = fz_u8(f) < 0xf0 ? 0u : fz_u32(f);
		if (req == SVU_SET_VRING_ENABLE)
			s.num = fz_u8(f) < 0xf0 ? 1u : fz_u32(f);
		if (req == SVU_SET_VRING_NUM && vq == 0) {
			h->qsize = (uint16_t)s.num;
			h->ring_known = false;
			/* a new layout: old chains pin no descriptor */
			memset(h->uses, 0, sizeof(h->uses));
		}
		memcpy(p, &s, 8);
		size = 8;
		break;
	}
	case SVU_SET_VRING_ADDR: {
		struct svu_addr a = { vq, 0, 0, 0, 0, 0 };
		uint64_t base = (uint64_t)(uintptr_t)h->mem + RING_OFF;
		a.desc = base;
		a.avail = base + 16u * 1024;
		a.used = base + 32u * 1024;
		if (fz_u8(f) >= 0xf0) {
			a.desc += fz_u32(f);
			a.avail = fz_bool(f) ? fz_u64(f) : a.avail + fz_u16(f);
			a.used += fz_u32(f);
			a.flags = fz_u32(f);
			h->hostile_mem = true;
		}
		if (vq == 0)
			h->ring_known = true;
		memcpy(p, &a, sizeof(a));
		size = sizeof(a);
		break;
	}
	case SVU_SET_VRING_KICK:
	case SVU_SET_VRING_CALL:
	case SVU_SET_VRING_ERR: {
		uint64_t v = vq;
		if (fz_u8(f) >= 0xf0)
			v |= SVU_VRING_NOFD;
		else {
			fds[0] = req == SVU_SET_VRING_KICK ? h->kick
				 : req == SVU_SET_VRING_CALL ? h->call : h->err;
			nfds = 1;
		}
		memcpy(p, &v, 8);
		size = 8;
		break;
	}
	case SVU_GET_CONFIG:
	case SVU_SET_CONFIG: {
		uint32_t off = fz_u8(f) < 0xf0 ? 0 : fz_u32(f);
		uint32_t sz = fz_below(f, SVU_MAX_CONFIG + 16);
		memcpy(p, &off, 4);
		memcpy(p + 4, &sz, 4);
		size = 12 + (sz < SVU_MAX_CONFIG ? sz : SVU_MAX_CONFIG);
		break;
	}
	default:
		if (k >= 0xf0) {
			size = fz_below(f, 64);
			fz_bytes(f, p, size);
		}
		break;
	}
	send_msg(h, req, flags, p, size, fds, nfds, (k & 0x0f) == 0x0f);
}

/* The chain at head as the device will walk it (NEXT links, at most one
 * visit per descriptor): the writable bytes it offers, unbounded if an
 * indirect table (whose contents the harness does not track) is on it.
 * Adds delta to uses[] of every descriptor on the way. */
static uint64_t walk(struct h *h, const struct vring *vr, uint16_t head,
		     int delta)
{
	bool seen[1024] = { false };
	uint64_t w = 0;
	bool indirect = false;
	for (unsigned i = head; i < vr->num && !seen[i];) {
		struct vring_desc d = vr->desc[i];
		seen[i] = true;
		if (delta > 0 || h->uses[i])
			h->uses[i] = (uint16_t)(h->uses[i] + delta);
		indirect |= (d.flags & VRING_DESC_F_INDIRECT) != 0;
		if (d.flags & VRING_DESC_F_WRITE)
			w += d.len;
		if (!(d.flags & VRING_DESC_F_NEXT))
			break;
		i = d.next;
	}
	return indirect ? UINT64_MAX : w;
}

/* Check the used entries the device wrote since the last look. */
static void reap(struct h *h, const struct vring *vr)
{
	uint16_t used = vr->used->idx;
	FZ_ASSERT((uint16_t)(used - h->used_seen) <= h->qsize,
		  "used index jumped from %u to %u", h->used_seen, used);
	for (; !h->hostile_mem && h->used_seen != used; h->used_seen++) {
		struct vring_used_elem e = vr->used->ring[h->used_seen % h->qsize];
		FZ_ASSERT(e.id < h->qsize && h->out[e.id], "used id %u was not "
			  "made available", e.id);
		FZ_ASSERT(e.len <= h->wlen[e.id], "used len %u > %llu writable",
			  e.len, (unsigned long long)h->wlen[e.id]);
		h->out[e.id] = false;
		walk(h, vr, (uint16_t)e.id, -1);
	}
	h->used_seen = used;
}

/* Driver side of queue 0 (split): make a chain available and kick. */
static void op_chain(struct h *h)
{
	struct fz *f = h->f;
	if (!h->ring_known || !h->qsize || h->qsize > 1024 ||
	    h->packed_ever)
		return;
	/* the layout SET_VRING_ADDR gave: descriptors, avail at 16 KiB,
	 * used at 32 KiB (room for 1024 entries each) */
	struct vring vr = {
		.num = h->qsize,
		.desc = (void *)(h->mem + RING_OFF),
		.avail = (void *)(h->mem + RING_OFF + 16u * 1024),
		.used = (void *)(h->mem + RING_OFF + 32u * 1024),
	};
	uint16_t head = (uint16_t)fz_below(f, h->qsize);
	unsigned n = 1 + fz_below(f, 4);
	/* used entries written meanwhile (a vring restarted by a message
	 * runs the chains it had left); then, as a driver must, leave the
	 * descriptors of chains the device has not used alone */
	reap(h, &vr);
	for (unsigned i = 0; i < n && !h->hostile_mem; i++)
		if (h->uses[(head + i) % h->qsize])
			return;
	bool readable_seen = false, writable_seen = false;
	for (unsigned i = 0; i < n; i++) {
		unsigned di = (head + i) % h->qsize;
		bool wr = fz_bool(f);
		if (readable_seen && !wr)
			writable_seen = true;
		readable_seen |= !wr;
		uint32_t len = 1 + fz_below(f, 4096);
		uint64_t addr = GPA + (wr ? WR_OFF : RD_OFF) + fz_below(f, 60) * 4096u;
		uint8_t k = fz_u8(f);
		if (k >= 0xf8) { /* anywhere */
			addr = fz_u64(f);
			len = fz_u32(f);
		}
		uint16_t fl = (uint16_t)((wr ? VRING_DESC_F_WRITE : 0) |
					 (i + 1 < n ? VRING_DESC_F_NEXT : 0));
		if (k == 0xf0)
			fl = fz_u16(f); /* loops, indirect, nonsense */
		vr.desc[di].addr = addr;
		vr.desc[di].len = len;
		vr.desc[di].flags = fl;
		vr.desc[di].next = (uint16_t)(k == 0xf1 ? fz_u16(f)
							 : (di + 1) % h->qsize);
	}
	(void)writable_seen;
	vr.avail->ring[h->avail_idx % h->qsize] = head;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	h->avail_idx++;
	vr.avail->idx = h->avail_idx;
	/* the chain's shape is what the flags and links say, fuzzed or not */
	h->wlen[head] = walk(h, &vr, head, +1);
	h->out[head] = true;
	memcpy(h->snap, h->mem, RD_OFF);
	uint64_t one = 1;
	if (write(h->kick, &one, 8) != 8)
		return;
	pump(h);
	/* what the device did */
	reap(h, &vr);
	if (!h->hostile_mem)
		FZ_ASSERT(!memcmp(h->snap, h->mem, 32u * 1024) &&
			  !memcmp(h->snap + 48u * 1024, h->mem + 48u * 1024,
				  RD_OFF - 48u * 1024),
			  "the device changed the descriptor table, avail ring "
			  "or a readable buffer");
}

static void teardown(struct h *h)
{
	if (h->sock >= 0)
		close(h->sock);
	pump(h);
	struct svirtio_dev *d = h->d;
	if (d) {
		svirtio_dev_close(d);
		if (d->kind == SVIRTIO_BLK)
			svirtio_blk_fini(d);
		else
			svirtio_net_fini(d);
		for (unsigned i = 0; i < SVIRTIO_MAX_VQS; i++)
			svirtio_vq_stop(&d->vq[i]);
		free(d->elem);
		free(d);
	}
	while (h->host.groups) {
		struct svirtio_group *g = h->host.groups;
		h->host.groups = g->next;
		free(g);
	}
	sim_loop_free(h->host.loop);
	munmap(h->mem, MEM);
	close(h->memfd);
	close(h->kick);
	close(h->call);
	close(h->err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	setup_dir();
	struct h *h = calloc(1, sizeof(*h));
	FZ_ASSERT(h, "calloc");
	h->f = &f;
	h->sock = -1;
	h->host.loop = sim_loop_new();
	h->host.ctl_fd = -1;
	FZ_ASSERT(h->host.loop, "loop");
	h->memfd = memfd_create("fuzz-guest", MFD_CLOEXEC);
	FZ_ASSERT(h->memfd >= 0 && ftruncate(h->memfd, MEM) == 0, "memfd");
	h->mem = mmap(NULL, MEM, PROT_READ | PROT_WRITE, MAP_SHARED, h->memfd, 0);
	FZ_ASSERT(h->mem != MAP_FAILED, "mmap");
	h->kick = sim_eventfd();
	h->call = sim_eventfd();
	h->err = sim_eventfd();

	uint8_t c0 = fz_u8(&f);
	char arg[256], err[256];
	bool blk = c0 & 1;
	if (blk)
		snprintf(arg, sizeof(arg), "%s/s.sock=%s/disk.img,size=1M%s%s", dir,
			 dir, c0 & 2 ? ",packed=off" : "",
			 c0 & 4 ? ",indirect=off" : "");
	else
		snprintf(arg, sizeof(arg), "%s/s.sock%s%s", dir,
			 c0 & 2 ? ",packed=off" : "", c0 & 8 ? ",mrg_rxbuf=off" : "");
	if (svirtio_parse_device(&h->host, blk ? SVIRTIO_BLK : SVIRTIO_NET, arg,
				 err, sizeof(err)) < 0) {
		fprintf(stderr, "fuzz: %s\n", err);
		abort();
	}
	h->d = h->host.dev[0];
	FZ_ASSERT(svirtio_dev_listen(h->d) == 0, "listen");
	char path[128];
	snprintf(path, sizeof(path), "%s/s.sock", dir);
	h->sock = sim_connect_unix(path);
	FZ_ASSERT(h->sock >= 0, "connect");
	/* never block: the sim answers inside pump() or not at all */
	fcntl(h->sock, F_SETFL, fcntl(h->sock, F_GETFL) | O_NONBLOCK);
	pump(h);

	for (unsigned step = 0; step < 100 && fz_left(&f) && !h->ended; step++) {
		uint8_t op = fz_u8(&f);
		if (op < 0xb0)
			op_msg(h);
		else if (op < 0xf8)
			op_chain(h);
		else if (op < 0xfe)
			pump(h);
		else
			break; /* hang up */
	}
	teardown(h);
	free(h);
	return 0;
}

/* ---------------------------------------------------------------- seeds */

/* One op_msg with a request from the table and default fields. */
static void msg(struct fzb *b, unsigned ri, bool need_reply)
{
	fzb_u8(b, 0);                 /* op: a message */
	fzb_u8(b, 0);                 /* from the table */
	fzb_u8(b, (uint8_t)ri);
	fzb_u8(b, need_reply);
	fzb_u8(b, 0);                 /* queue 0 */
}

void fz_seeds(fz_emit_fn emit, void *arg)
{
	struct fzb b = { 0 };
	for (unsigned v = 0; v < 4; v++) {
		fzb_u8(&b, (uint8_t)((v & 1) | 2)); /* blk/net, split */
		msg(&b, 0, 0);                      /* GET_FEATURES */
		msg(&b, 11, 0);                     /* GET_PROTOCOL_FEATURES */
		msg(&b, 12, 0);                     /* SET_PROTOCOL_FEATURES */
		fzb_u64(&b, 1ull << 3);
		msg(&b, 2, 0);                      /* SET_OWNER */
		msg(&b, 1, 0);                      /* SET_FEATURES */
		fzb_u64(&b, 1ull << 32 | 1ull << 29);
		fzb_u8(&b, 1);
		msg(&b, 3, 0);                      /* SET_MEM_TABLE */
		fzb_u8(&b, 0);
		fzb_u8(&b, 0);
		msg(&b, 4, 0);                      /* SET_VRING_NUM 16 */
		fzb_u8(&b, 0);
		msg(&b, 6, 0);                      /* SET_VRING_BASE 0 */
		fzb_u8(&b, 0);
		fzb_u8(&b, 0);
		msg(&b, 5, 0);                      /* SET_VRING_ADDR */
		fzb_u8(&b, 0);
		msg(&b, 8, 0);                      /* KICK */
		fzb_u8(&b, 0);
		msg(&b, 9, 0);                      /* CALL */
		fzb_u8(&b, 0);
		msg(&b, 14, 0);                     /* ENABLE */
		fzb_u8(&b, 0);
		fzb_u8(&b, 0);
		msg(&b, 17, 0);                     /* SET_STATUS */
		fzb_u64(&b, 15);
		for (unsigned i = 0; i < 8; i++) {
			fzb_u8(&b, 0xc0);           /* a chain */
			fzb_u8(&b, (uint8_t)(i * 3));
			fzb_u8(&b, 2);              /* three pieces */
			for (unsigned k = 0; k < 3; k++) {
				fzb_u8(&b, k == 2);
				fzb_u16(&b, (uint16_t)(k == 0 ? 15 : k == 1 ? 511 : 0));
				fzb_u8(&b, (uint8_t)(i + k));
				fzb_u8(&b, 0);
			}
		}
		msg(&b, 7, 0);                      /* GET_VRING_BASE */
		fzb_u8(&b, 0);
		char name[16];
		snprintf(name, sizeof(name), "%s-%u", v & 1 ? "blk" : "net", v);
		fzb_emit(&b, emit, arg, name);
	}
	fzb_free(&b);
}
