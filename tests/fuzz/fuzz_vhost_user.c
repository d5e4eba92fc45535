/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_vhost_user.c - pvio's vhost-user front end
 * (backends/virtio/hostif_vhost_user.c) against a back end whose every
 * reply the fuzzer writes.
 *
 * A thread of this program is the back end, on a unix socket in a private
 * directory.  For each message pvio sends it checks the message (a real
 * back end is strict too: sizes per request, descriptors where expected,
 * rings inside the memory table), and for each one that wants an answer -
 * GET_FEATURES, GET_PROTOCOL_FEATURES, GET_QUEUE_NUM, GET_CONFIG,
 * GET_STATUS, GET_VRING_BASE, REPLY_ACKs - the fuzzer picks a well-formed
 * reply with fuzzed values, a reply with wrong request/flags/size, raw
 * bytes, stray bytes before the reply, or hanging up.  When pvio kicks a
 * ring (GET_ID, control commands) the back end completes the request
 * through the rings with fuzzed status and length, or hangs up.  The main
 * thread opens, configures, quiesces and closes the device.
 *
 * Few real waits: the back end never leaves pvio waiting for a reply - it
 * answers or closes the connection - and closes it when the input runs
 * out.  What remains is pvio's own bounded wait for rings to drain after
 * a stop position it cannot reach yet; the context's timeout is short
 * (50 ms) to keep that cheap.
 *
 * Properties: no crash, leak or sanitizer report; every failure comes with
 * a message; pvio never accepts a feature that was not offered; the
 * messages pvio sends are well-formed; after a failed open nothing is left
 * open (descriptors are counted).
 */
#include "fuzz.h"
#include "vring_dev.h"

#include <dirent.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <pvio/transport.h>

/* vhost-user requests (QEMU docs/interop/vhost-user.rst) */
enum {
	GET_FEATURES = 1, SET_FEATURES = 2, SET_OWNER = 3, SET_MEM_TABLE = 5,
	SET_VRING_NUM = 8, SET_VRING_ADDR = 9, SET_VRING_BASE = 10,
	GET_VRING_BASE = 11, SET_VRING_KICK = 12, SET_VRING_CALL = 13,
	GET_PROTOCOL_FEATURES = 15, SET_PROTOCOL_FEATURES = 16,
	GET_QUEUE_NUM = 17, SET_VRING_ENABLE = 18, GET_CONFIG = 24,
	SET_STATUS = 39, GET_STATUS = 40,
};
#define F_REPLY 4u
#define F_NEED_REPLY 8u
#define PF_REPLY_ACK 3
#define MAXVQ 130

struct be {
	struct fz *f;
	pvio_ctx *ctx;
	int fd;
	int stop;          /* eventfd: pvio is done with the socket */
	uint64_t offered, acked, pfeatures;
	uint8_t status;
	bool have_pf;
	struct {
		uint16_t num;
		uint32_t base;
		uint8_t *desc, *avail, *used;
		int kick, call;
		bool ready;
		struct vdq d;
	} vr[MAXVQ];
	struct {
		uint64_t gpa, size, uva;
	} reg[8];
	unsigned nreg;
	bool blk;
};

static char sock_path[108];
static int listen_fd = -1;

static void be_close(struct be *b)
{
	if (b->fd >= 0) {
		close(b->fd);
		b->fd = -1;
	}
}

static int recv_msg(struct be *b, uint32_t h[3], uint8_t *pl, int *fds,
		    int *nfds)
{
	struct iovec iov = { h, 12 };
	char cbuf[CMSG_SPACE(sizeof(int) * 8)];
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	ssize_t n = recvmsg(b->fd, &m, MSG_WAITALL | MSG_CMSG_CLOEXEC);
	if (n != 12)
		return -1;
	*nfds = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
			memcpy(fds + *nfds, CMSG_DATA(c), sizeof(int) * (size_t)k);
			*nfds += k;
		}
	FZ_ASSERT(h[2] <= 4096, "pvio sent a %u-byte payload", h[2]);
	if (h[2] && recv(b->fd, pl, h[2], MSG_WAITALL) != (ssize_t)h[2])
		return -1;
	return 0;
}

static void send_all(struct be *b, const void *p, size_t len)
{
	if (b->fd >= 0 && send(b->fd, p, len, MSG_NOSIGNAL) != (ssize_t)len)
		be_close(b);
}

/* The payload size pvio must use for each request. */
static void check_msg(struct be *b, const uint32_t h[3], const uint8_t *pl,
		      int nfds)
{
	uint32_t req = h[0], size = h[2];
	FZ_ASSERT((h[1] & 3) == 1 && !(h[1] & F_REPLY), "request %u with flags "
		  "0x%x", req, h[1]);
	switch (req) {
	case GET_FEATURES:
	case GET_PROTOCOL_FEATURES:
	case GET_QUEUE_NUM:
	case GET_STATUS:
	case SET_OWNER:
		FZ_ASSERT(size == 0 && !nfds, "request %u size %u", req, size);
		break;
	case SET_FEATURES:
	case SET_PROTOCOL_FEATURES:
	case SET_STATUS:
	case SET_VRING_NUM:
	case SET_VRING_BASE:
	case GET_VRING_BASE:
	case SET_VRING_ENABLE:
		FZ_ASSERT(size == 8 && !nfds, "request %u size %u", req, size);
		break;
	case SET_VRING_KICK:
	case SET_VRING_CALL: {
		uint64_t v;
		memcpy(&v, pl, 8);
		FZ_ASSERT(size == 8 && nfds == ((v & 0x100) ? 0 : 1),
			  "request %u size %u fds %d", req, size, nfds);
		break;
	}
	case SET_VRING_ADDR:
		FZ_ASSERT(size == 40 && !nfds, "SET_VRING_ADDR size %u", size);
		break;
	case SET_MEM_TABLE: {
		uint32_t n;
		memcpy(&n, pl, 4);
		FZ_ASSERT(n >= 1 && n <= 8 && size == 8 + 32 * n &&
			  nfds == (int)n, "SET_MEM_TABLE of %u regions, size %u, "
			  "%d fds", n, size, nfds);
		break;
	}
	case GET_CONFIG: {
		uint32_t off, sz;
		memcpy(&off, pl, 4);
		memcpy(&sz, pl + 4, 4);
		FZ_ASSERT(size == 12 + sz && sz <= 256 && off == 0,
			  "GET_CONFIG size %u for %u bytes at %u", size, sz, off);
		break;
	}
	default:
		FZ_ASSERT(0, "pvio sent unknown request %u", req);
	}
	(void)b;
}

/* A region of the memory table that holds [uva, uva+len). */
static bool in_table(const struct be *b, uint64_t uva, uint64_t len)
{
	for (unsigned i = 0; i < b->nreg; i++)
		if (uva >= b->reg[i].uva && uva - b->reg[i].uva <= b->reg[i].size &&
		    len <= b->reg[i].size - (uva - b->reg[i].uva))
			return true;
	return false;
}

/* Take what ring vq has and complete it, or hang up. */
static void run_ring(struct be *b, unsigned vq)
{
	struct fz *f = b->f;
	if (!b->vr[vq].ready)
		return;
	struct vdq_chain *c = malloc(sizeof(*c));
	FZ_ASSERT(c, "malloc");
	for (;;) {
		const char *why;
		int r = vdq_take(&b->vr[vq].d, c, &why);
		FZ_ASSERT(r >= 0, "pvio wrote a bad chain on ring %u: %s", vq, why);
		if (!r)
			break;
		uint8_t knob = fz_u8(f);
		if (knob == 0xff) { /* never answer: hang up instead of waiting */
			be_close(b);
			break;
		}
		/* fill the writable part, the last byte being the status */
		uint8_t fill[64];
		fz_bytes(f, fill, sizeof(fill));
		if (c->wlen > 1)
			vdq_write(c, 0, fill, c->wlen - 1 < 64 ? c->wlen - 1 : 64);
		uint8_t st = knob & 1 ? fz_u8(f) : 0;
		if (c->wlen)
			vdq_write(c, c->wlen - 1, &st, 1);
		uint32_t len = knob & 2 ? fz_u32(f) : c->wlen;
		vdq_used(&b->vr[vq].d, c->id, len, c->ndesc);
		uint64_t one = 1;
		if (b->vr[vq].call >= 0 &&
		    write(b->vr[vq].call, &one, 8) != 8)
			break;
	}
	free(c);
}

/* Answer request h (pl: its payload). */
static void reply(struct be *b, const uint32_t h[3], const uint8_t *pl)
{
	struct fz *f = b->f;
	uint32_t req = h[0];
	uint8_t knob = fz_u8(f);
	if (knob == 0xff || !fz_left(f)) {
		be_close(b);
		return;
	}
	if ((knob & 0xf0) == 0xe0) {
		/* stray bytes first */
		uint8_t junk[16];
		size_t n = 1 + fz_below(f, sizeof(junk));
		fz_bytes(f, junk, n);
		send_all(b, junk, n);
	}
	if ((knob & 0xf0) == 0xd0) {
		/* raw bytes instead of a reply */
		uint8_t raw[64];
		size_t n = fz_below(f, sizeof(raw) + 1);
		fz_bytes(f, raw, n);
		send_all(b, raw, n);
		return;
	}
	uint8_t out[12 + 268];
	uint32_t rh[3] = { req, 1 | F_REPLY, 8 };
	uint8_t *p = out + 12;
	memset(p, 0, 268);
	uint64_t v = 0;
	switch (req) {
	case GET_FEATURES:
		v = fz_u64(f);
		b->offered = v;
		memcpy(p, &v, 8);
		break;
	case GET_PROTOCOL_FEATURES:
		v = fz_u64(f);
		memcpy(p, &v, 8);
		break;
	case GET_QUEUE_NUM:
		v = knob & 1 ? fz_u64(f) : 1 + fz_below(f, 8);
		memcpy(p, &v, 8);
		break;
	case GET_STATUS:
		/* what pvio set, or anything */
		v = knob & 1 ? fz_u64(f) : b->status;
		memcpy(p, &v, 8);
		break;
	case GET_VRING_BASE: {
		uint32_t idx, st[2];
		memcpy(&idx, pl, 4);
		st[0] = knob & 1 ? fz_u32(f) : idx;
		st[1] = idx < MAXVQ && b->vr[idx].ready ? vdq_base(&b->vr[idx].d)
							: b->vr[idx % MAXVQ].base;
		if (knob & 2)
			st[1] = fz_u32(f);
		memcpy(p, st, 8);
		break;
	}
	case GET_CONFIG: {
		uint32_t sz;
		memcpy(&sz, pl + 4, 4);
		if (sz > 256)
			sz = 256;
		memcpy(p, pl, 12);
		fz_bytes(f, p + 12, sz);
		if (knob & 1) { /* the size inside the payload */
			uint32_t fsz = fz_u32(f);
			memcpy(p + 4, &fsz, 4);
		}
		rh[2] = 12 + sz;
		break;
	}
	default: /* REPLY_ACK */
		v = knob & 1 ? fz_u64(f) : 0;
		memcpy(p, &v, 8);
		break;
	}
	if (knob & 0x20)
		rh[0] = fz_u32(f);
	if (knob & 0x40)
		rh[1] = fz_u32(f);
	if ((knob & 0x80) && (knob & 0xf0) != 0xe0)
		rh[2] = fz_u16(f) % 268;
	memcpy(out, rh, 12);
	send_all(b, out, 12 + rh[2]);
}

static void handle(struct be *b, const uint32_t h[3], uint8_t *pl, int *fds,
		   int nfds)
{
	uint32_t req = h[0];
	uint32_t idx = 0;
	if (h[2] >= 4)
		memcpy(&idx, pl, 4);
	switch (req) {
	case SET_FEATURES: {
		uint64_t v;
		memcpy(&v, pl, 8);
		FZ_ASSERT(!(v & ~b->offered), "pvio acked features 0x%llx, offered "
			  "0x%llx", (unsigned long long)v,
			  (unsigned long long)b->offered);
		b->acked = v;
		break;
	}
	case SET_STATUS: {
		uint64_t v;
		memcpy(&v, pl, 8);
		b->status = (uint8_t)v;
		break;
	}
	case SET_PROTOCOL_FEATURES:
		memcpy(&b->pfeatures, pl, 8);
		b->have_pf = true;
		break;
	case SET_MEM_TABLE:
		b->nreg = idx;
		for (unsigned i = 0; i < idx && i < 8; i++) {
			memcpy(&b->reg[i].gpa, pl + 8 + 32 * i, 8);
			memcpy(&b->reg[i].size, pl + 16 + 32 * i, 8);
			memcpy(&b->reg[i].uva, pl + 24 + 32 * i, 8);
		}
		break;
	case SET_VRING_NUM:
		if (idx < MAXVQ)
			memcpy(&b->vr[idx].num, pl + 4, 2);
		break;
	case SET_VRING_BASE:
		if (idx < MAXVQ)
			memcpy(&b->vr[idx].base, pl + 4, 4);
		break;
	case SET_VRING_ADDR:
		if (idx < MAXVQ) {
			uint64_t a[3];
			memcpy(a, pl + 8, 24);
			b->vr[idx].desc = (uint8_t *)(uintptr_t)a[0];
			b->vr[idx].used = (uint8_t *)(uintptr_t)a[1];
			b->vr[idx].avail = (uint8_t *)(uintptr_t)a[2];
			FZ_ASSERT(in_table(b, a[0], 16) && in_table(b, a[1], 4) &&
				  in_table(b, a[2], 4), "ring %u outside the "
				  "memory table", idx);
		}
		break;
	case SET_VRING_KICK:
	case SET_VRING_CALL:
		idx &= 0xff;
		if (idx < MAXVQ && nfds == 1) {
			int *slot = req == SET_VRING_KICK ? &b->vr[idx].kick
							  : &b->vr[idx].call;
			if (*slot >= 0)
				close(*slot);
			*slot = fds[0];
			fds[0] = -1;
		}
		if (req == SET_VRING_CALL && idx < MAXVQ && b->vr[idx].desc &&
		    b->vr[idx].num) {
			bool packed = b->acked & (1ull << 34);
			vdq_init(&b->vr[idx].d, b->ctx, packed,
				 b->acked & (1ull << 29), b->vr[idx].num,
				 b->vr[idx].desc,
				 b->vr[idx].avail, b->vr[idx].used);
			if (packed) {
				b->vr[idx].d.avail = b->vr[idx].base & 0x7fff;
				b->vr[idx].d.avail_wrap = b->vr[idx].base >> 15 & 1;
				b->vr[idx].d.used = b->vr[idx].d.avail;
				b->vr[idx].d.used_wrap = b->vr[idx].d.avail_wrap;
			} else {
				b->vr[idx].d.last_avail = (uint16_t)b->vr[idx].base;
				b->vr[idx].d.used_idx = (uint16_t)b->vr[idx].base;
			}
			b->vr[idx].ready = true;
		}
		break;
	default:
		break;
	}
	for (int i = 0; i < nfds; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	bool wants = req == GET_FEATURES || req == GET_PROTOCOL_FEATURES ||
		     req == GET_QUEUE_NUM || req == GET_STATUS ||
		     req == GET_VRING_BASE || req == GET_CONFIG ||
		     (h[1] & F_NEED_REPLY);
	if (wants)
		reply(b, h, pl);
}

static void *be_thread(void *arg)
{
	struct be *b = arg;
	/* pvio connects, or gives up before it does (then stop is set) */
	struct pollfd lp[2] = { { .fd = listen_fd, .events = POLLIN },
				{ .fd = b->stop, .events = POLLIN } };
	int lr = poll(lp, 2, 20000);
	FZ_ASSERT(lr > 0, "pvio neither connected nor gave up in 20 s");
	if (!lp[0].revents)
		return NULL;
	b->fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (b->fd < 0)
		return NULL;
	uint8_t *pl = malloc(4096);
	FZ_ASSERT(pl, "malloc");
	while (b->fd >= 0) {
		struct pollfd p[1 + MAXVQ];
		unsigned map[1 + MAXVQ], n = 0;
		p[n++] = (struct pollfd){ .fd = b->fd, .events = POLLIN };
		for (unsigned i = 0; i < MAXVQ; i++)
			if (b->vr[i].kick >= 0) {
				map[n] = i;
				p[n++] = (struct pollfd){ .fd = b->vr[i].kick,
							  .events = POLLIN };
			}
		/* pvio always does something next, or closes; bounded */
		int r = poll(p, n, 20000);
		FZ_ASSERT(r > 0, "the back end waited 20 s for pvio");
		if (p[0].revents) {
			uint32_t h[3];
			int fds[8], nfds = 0;
			if (recv_msg(b, h, pl, fds, &nfds) < 0) {
				for (int i = 0; i < nfds; i++)
					close(fds[i]);
				break;
			}
			check_msg(b, h, pl, nfds);
			handle(b, h, pl, fds, nfds);
			continue;
		}
		for (unsigned i = 1; i < n && b->fd >= 0; i++)
			if (p[i].revents) {
				uint64_t v;
				if (read(p[i].fd, &v, 8) < 0)
					continue;
				run_ring(b, map[i]);
			}
	}
	free(pl);
	be_close(b);
	for (unsigned i = 0; i < MAXVQ; i++) {
		if (b->vr[i].kick >= 0)
			close(b->vr[i].kick);
		if (b->vr[i].call >= 0)
			close(b->vr[i].call);
	}
	return NULL;
}

static char sock_dir[64];

static void cleanup_socket(void)
{
	unlink(sock_path);
	rmdir(sock_dir);
}

static void setup_socket(void)
{
	if (listen_fd >= 0)
		return;
	snprintf(sock_dir, sizeof(sock_dir), "/tmp/pvio-fuzz-vhu-XXXXXX");
	FZ_ASSERT(mkdtemp(sock_dir), "mkdtemp");
	snprintf(sock_path, sizeof(sock_path), "%s/s", sock_dir);
	listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	memcpy(sa.sun_path, sock_path, strlen(sock_path) + 1);
	FZ_ASSERT(listen_fd >= 0 &&
		  bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
		  listen(listen_fd, 4) == 0, "listen on %s", sock_path);
	atexit(cleanup_socket);
}

static unsigned count_fds(void)
{
	unsigned n = 0;
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return 0;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	setup_socket();

	/* the address pvio opens */
	uint8_t o = fz_u8(&f);
	char addr[200];
	int n = snprintf(addr, sizeof(addr), "vhost-user:%s", sock_path);
	const char *sep = "?";
	if (o & 3) {
		n += snprintf(addr + n, sizeof(addr) - (size_t)n, "%sclass=%s", sep,
			      (o & 3) == 1 ? "blk" : "net");
		sep = "&";
	}
	if (o & 4) {
		n += snprintf(addr + n, sizeof(addr) - (size_t)n, "%squeues=%u",
			      sep, 1 + fz_below(&f, 4));
		sep = "&";
	}
	if (o & 8) {
		n += snprintf(addr + n, sizeof(addr) - (size_t)n, "%spacked=off",
			      sep);
		sep = "&";
	}
	if (o & 16)
		snprintf(addr + n, sizeof(addr) - (size_t)n, "%ssize=%u", sep,
			 1u << (1 + fz_below(&f, 8)));
	uint32_t want_q = 1 + fz_below(&f, 2), tags = 1 + fz_below(&f, 8);
	uint8_t ops = fz_u8(&f);

	unsigned fds_before = count_fds();
	struct pvio_ctx_opts co = { .struct_size = sizeof(co),
				    .dma_pool_size = 4u << 20,
				    .log_level = getenv("FUZZ_LOG") ? PVIO_LOG_DEBUG
								    : PVIO_LOG_ERROR,
				    .timeout_ms = 50 };
	pvio_ctx *ctx;
	FZ_ASSERT(pvio_ctx_new(&co, &ctx) == 0, "context");

	struct be *b = calloc(1, sizeof(*b));
	FZ_ASSERT(b, "calloc");
	b->f = &f;
	b->ctx = ctx;
	b->fd = -1;
	b->stop = eventfd(0, EFD_CLOEXEC);
	FZ_ASSERT(b->stop >= 0, "eventfd");
	for (unsigned i = 0; i < MAXVQ; i++)
		b->vr[i].kick = b->vr[i].call = -1;
	pthread_t th;
	FZ_ASSERT(pthread_create(&th, NULL, be_thread, b) == 0, "thread");

	pvio_dev *dev = NULL;
	int r = pvio_dev_open(ctx, addr, &dev);
	fz_note("open %s: %d %s", addr, r, r < 0 ? pvio_errmsg(ctx) : "");
	if (r < 0) {
		FZ_ASSERT(*pvio_errmsg(ctx), "open failed (%d) without a message",
			  r);
	} else {
		struct pvio_dev_info in = { .struct_size = sizeof(in) };
		pvio_dev_get_info(dev, &in);
		struct pvio_dev_config cfg = {
			.num_queues = want_q < in.max_queues ? want_q
							     : in.max_queues,
			.max_tags = tags,
			.want = (uint64_t)(ops & 0xf0) << 31,
		};
		r = pvio_dev_configure(dev, &cfg);
		fz_note("configure: %d %s", r, r < 0 ? pvio_errmsg(ctx) : "");
		if (r < 0)
			FZ_ASSERT(*pvio_errmsg(ctx), "configure failed without "
				  "a message");
		if (r == 0 && (ops & 1)) {
			r = dev->ops->quiesce(dev);
			fz_note("quiesce: %d %s", r, r < 0 ? pvio_errmsg(ctx) : "");
		}
		if (ops & 2)
			dev->ops->service(dev);
		pvio_dev_close(dev);
	}
	uint64_t one = 1;
	FZ_ASSERT(write(b->stop, &one, 8) == 8, "stop");
	pthread_join(th, NULL);
	close(b->stop);
	free(b);
	pvio_ctx_free(ctx);
	unsigned fds_after = count_fds();
	FZ_ASSERT(fds_after == fds_before, "%u descriptors before, %u after",
		  fds_before, fds_after);
	return 0;
}

/* ---------------------------------------------------------------- seeds */

/* A well-behaved back end's answers, in the order pvio asks. */
static void seed(struct fzb *b, bool blk, bool packed, bool proto)
{
	fzb_u8(b, (uint8_t)((blk ? 1 : 2) | 0x10)); /* class, size= */
	fzb_u8(b, 4);    /* size 32 */
	fzb_u8(b, 0);    /* one queue */
	fzb_u8(b, 3);    /* tags */
	fzb_u8(b, 1);    /* quiesce after configure */
	uint64_t feat = 1ull << 32 | 1ull << 28 | 1ull << 29;
	if (packed)
		feat |= 1ull << 34;
	if (proto)
		feat |= 1ull << 30;
	if (blk)
		feat |= 1ull << 9 | 1ull << 2 | 1ull << 6; /* flush seg_max blk_size */
	/* GET_FEATURES */
	fzb_u8(b, 0);
	fzb_u64(b, feat);
	if (proto) {
		/* GET_PROTOCOL_FEATURES: MQ, REPLY_ACK, CONFIG, STATUS */
		fzb_u8(b, 0);
		fzb_u64(b, 1ull << 0 | 1ull << 3 | 1ull << 9 | 1ull << 16);
		/* GET_QUEUE_NUM */
		fzb_u8(b, 0);
		fzb_u8(b, 0);
		/* SET_OWNER ack */
		fzb_u8(b, 0);
		if (blk) {
			/* GET_CONFIG: capacity 2048, seg_max 8, blk_size 512 */
			uint8_t cfg[60] = { 0 };
			cfg[1] = 8;
			cfg[12] = 8;
			cfg[21] = 2;
			fzb_u8(b, 0);
			fzb_put(b, cfg, sizeof(cfg));
		} else {
			uint8_t cfg[12] = { 0x52, 0x54, 0, 1, 2, 3, 1, 0, 1, 0,
					    0xdc, 0x05 };
			fzb_u8(b, 0);
			fzb_put(b, cfg, sizeof(cfg));
		}
		/* acks and status reads: all well-behaved */
		for (int i = 0; i < 60; i++)
			fzb_u8(b, 0);
	} else {
		for (int i = 0; i < 16; i++)
			fzb_u8(b, 0);
	}
	/* a completed GET_ID and the stop positions */
	for (int i = 0; i < 80; i++)
		fzb_u8(b, 0);
}

void fz_seeds(fz_emit_fn emit, void *arg)
{
	struct fzb b = { 0 };
	for (unsigned v = 0; v < 8; v++) {
		char name[32];
		seed(&b, v & 1, v & 2, v & 4);
		snprintf(name, sizeof(name), "%s-%s-%s", v & 1 ? "blk" : "net",
			 v & 2 ? "packed" : "split", v & 4 ? "proto" : "plain");
		fzb_emit(&b, emit, arg, name);
	}
	fzb_free(&b);
}
