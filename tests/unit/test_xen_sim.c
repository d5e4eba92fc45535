/* SPDX-License-Identifier: MIT */
/*
 * backends/xen/hostif_sim.c end to end: "sim-xen:SOCKET/vbd/N" and
 * ".../vif/N" opened with pvio_dev_open() against a stand-in simulated
 * Xen host that this test runs in a thread.  The stand-in speaks
 * docs/sim-hostif.md on a real unix socket (framing, SCM_RIGHTS, the DMA
 * pool mapped from the memfd it is sent, grant table frames named by
 * frame number, eventfd pairs for event channels, a xenstore socket) and
 * drives the fake host's blkback/netback models, so the guest's data path
 * runs against another thread touching its memory, with real interrupts
 * (pvio_dev_wait sleeps on the upcall eventfd).  It also misbehaves on
 * request: a wrong magic, a missing descriptor, silence, unsolicited
 * messages, refused devices.
 *
 * This is not sim/xen (written separately from the same document); when
 * that lands, tests/integration/xen_* run the same paths against it.
 */
#include <check.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <pvio/blk.h>
#include <pvio/net.h>

#include "test_xen_fake.h"

#define MAGIC 0x4F495650u

struct hdr {
	uint32_t magic;
	uint16_t type, flags;
	uint32_t seq, len;
};

enum fault {
	F_NONE,
	F_BAD_MAGIC,       /* HELLO reply with a wrong magic */
	F_SILENT,          /* never answer HELLO */
	F_UNSOLICITED,     /* an unsolicited message before each reply */
	F_NO_ATTACH,       /* DEVICE_ATTACH: -ENOENT */
	F_EVTCHN_ONE_FD,   /* EVTCHN_ALLOC_UNBOUND with one descriptor */
};

struct host {
	char dir[40], path[64];
	int lfd, conn, xs_host, xs_guest, wake, gone;
	pthread_t th;
	volatile int stop;
	enum fault fault;
	struct fx *fx;
	pvio_ctx *hctx;
	struct {
		uint64_t gpa, size;
		uint8_t *hva;
	} mem[8];
	unsigned nmem;
	int send_fd[64]; /* by fx->ev index */
	uint32_t gnt_frames;
	uint64_t gnt_gfn0;
	/* requests from the test thread */
	pthread_mutex_t mu;
	uint8_t inject[2048];
	uint32_t inject_len;
	bool inject_pending;
	int inject_result;
	unsigned hellos, set_memory, xs_connects, gnt_setups, evtchn_allocs,
		evtchn_closes, attaches, detaches;
	bool disconnected;
};

static struct host H;
static pvio_ctx *ctx;

static void *gfn_va(struct fx *fx, uint64_t gfn)
{
	(void)fx;
	uint64_t a = gfn << 12;
	for (unsigned i = 0; i < H.nmem; i++)
		if (a >= H.mem[i].gpa && a + 4096 <= H.mem[i].gpa + H.mem[i].size)
			return H.mem[i].hva + (a - H.mem[i].gpa);
	return NULL;
}

static int recv_msg(int fd, struct hdr *h, uint8_t *pl, int *fds, int *nfds)
{
	union {
		char b[CMSG_SPACE(4 * sizeof(int))];
		struct cmsghdr a;
	} c;
	struct iovec io = { h, sizeof(*h) };
	struct msghdr m = { .msg_iov = &io, .msg_iovlen = 1,
			    .msg_control = c.b, .msg_controllen = sizeof(c.b) };
	*nfds = 0;
	ssize_t n = recvmsg(fd, &m, MSG_WAITALL | MSG_CMSG_CLOEXEC);
	if (n != sizeof(*h))
		return -1;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm)) {
		int k = (int)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		memcpy(fds + *nfds, CMSG_DATA(cm), (size_t)k * sizeof(int));
		*nfds += k;
	}
	if (h->magic != MAGIC || h->len > 4096)
		return -1;
	if (h->len && recv(fd, pl, h->len, MSG_WAITALL) != (ssize_t)h->len)
		return -1;
	return 0;
}

static void send_msg(int fd, uint16_t type, uint16_t flags, uint32_t seq,
		     const void *pl, uint32_t len, const int *fds, int nfds)
{
	uint8_t buf[16 + 4096];
	struct hdr h = { H.fault == F_BAD_MAGIC ? 0x12345678u : MAGIC, type,
			 flags, seq, len };
	memcpy(buf, &h, 16);
	memcpy(buf + 16, pl, len);
	union {
		char b[CMSG_SPACE(4 * sizeof(int))];
		struct cmsghdr a;
	} c;
	struct iovec io = { buf, 16 + len };
	struct msghdr m = { .msg_iov = &io, .msg_iovlen = 1 };
	if (nfds) {
		memset(&c, 0, sizeof(c));
		m.msg_control = c.b;
		m.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
		struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, (size_t)nfds * sizeof(int));
	}
	ck_assert_int_eq(sendmsg(fd, &m, MSG_NOSIGNAL), (ssize_t)(16 + len));
}

static void reply(const struct hdr *rq, int32_t status, const void *extra,
		  uint32_t len, const int *fds, int nfds)
{
	uint8_t pl[4096];
	memcpy(pl, &status, 4);
	if (len)
		memcpy(pl + 4, extra, len);
	if (H.fault == F_UNSOLICITED)
		send_msg(H.conn, 50, 2, 0, "x", 1, NULL, 0);
	send_msg(H.conn, rq->type, 1, rq->seq, pl, 4 + len, fds, nfds);
}

static void handle(const struct hdr *h, const uint8_t *pl, int *fds, int nfds)
{
	struct fx *fx = H.fx;
	switch (h->type) {
	case 1: /* HELLO */
		H.hellos++;
		ck_assert_uint_eq(h->len, 40);
		ck_assert_uint_eq(*(const uint32_t *)pl, 1);
		if (H.fault == F_SILENT)
			return;
		{
			uint32_t dom = 5;
			reply(h, 0, &dom, 4, NULL, 0);
		}
		return;
	case 2: { /* SET_MEMORY */
		uint64_t v[3];
		memcpy(v, pl, 24);
		ck_assert_int_eq(nfds, 1);
		ck_assert_uint_eq(v[0] % 4096 + v[1] % 4096 + v[2] % 4096, 0);
		void *p = mmap(NULL, v[1], PROT_READ | PROT_WRITE, MAP_SHARED,
			       fds[0], (off_t)v[2]);
		ck_assert_ptr_ne(p, MAP_FAILED);
		close(fds[0]);
		H.mem[H.nmem].gpa = v[0];
		H.mem[H.nmem].size = v[1];
		H.mem[H.nmem].hva = p;
		H.nmem++;
		H.set_memory++;
		reply(h, 0, NULL, 0, NULL, 0);
		return;
	}
	case 16: { /* XS_CONNECT */
		int sv[2];
		ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
		H.xs_host = sv[0];
		H.xs_connects++;
		reply(h, 0, NULL, 0, &sv[1], 1);
		close(sv[1]);
		return;
	}
	case 17: { /* GNTTAB_SETUP */
		uint32_t n;
		memcpy(&n, pl, 4);
		ck_assert_uint_ge(n, 1);
		ck_assert_uint_le(n, 32);
		uint64_t g0;
		memcpy(&g0, pl + 8, 8);
		for (uint32_t i = 1; i < n; i++) {
			uint64_t g;
			memcpy(&g, pl + 8 + 8 * i, 8);
			ck_assert_uint_eq(g, g0 + i);
		}
		/* the guest zeroed the table first */
		uint8_t *t = gfn_va(fx, g0);
		ck_assert_ptr_nonnull(t);
		uint8_t nz = 0;
		for (uint32_t i = 0; i < n * 4096; i++)
			nz |= t[i];
		ck_assert_uint_eq(nz, 0);
		fx->frames = t;
		fx->gt.nr_ents = n * 512;
		H.gnt_frames = n;
		H.gnt_gfn0 = g0;
		H.gnt_setups++;
		reply(h, 0, NULL, 0, NULL, 0);
		return;
	}
	case 18: { /* EVTCHN_ALLOC_UNBOUND */
		uint32_t remote;
		memcpy(&remote, pl, 4);
		ck_assert_uint_eq(remote, 0);
		struct fx_evt *e = fx_evt_new(fx);
		int sfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		H.send_fd[e - fx->ev] = sfd;
		int f[2] = { sfd, e->upcall };
		H.evtchn_allocs++;
		reply(h, 0, &e->port, 4, f,
		      H.fault == F_EVTCHN_ONE_FD ? 1 : 2);
		return;
	}
	case 19: { /* EVTCHN_CLOSE */
		uint32_t port;
		memcpy(&port, pl, 4);
		struct fx_evt *e = fx_evt(fx, port);
		ck_assert_ptr_nonnull(e);
		e->open = false;
		close(H.send_fd[e - fx->ev]);
		H.send_fd[e - fx->ev] = -1;
		close(e->upcall);
		H.evtchn_closes++;
		reply(h, 0, NULL, 0, NULL, 0);
		return;
	}
	case 20:
	case 21: { /* DEVICE_ATTACH / DETACH */
		char type[9] = { 0 };
		uint32_t devid;
		memcpy(type, pl, 8);
		memcpy(&devid, pl + 8, 4);
		int r;
		if (h->type == 20) {
			H.attaches++;
			r = H.fault == F_NO_ATTACH
				    ? -ENOENT
				    : fx->h.ops->device_attach(&fx->h, type, devid);
		} else {
			H.detaches++;
			r = fx->h.ops->device_detach(&fx->h, type, devid);
		}
		reply(h, r, NULL, 0, NULL, 0);
		return;
	}
	default:
		ck_abort_msg("unknown hostif type %u", h->type);
	}
}

static void flush_xs(void)
{
	struct fx_conn *c = &H.fx->c;
	if (H.xs_host >= 0 && c->outlen) {
		ck_assert_int_eq(write(H.xs_host, c->out, c->outlen),
				 (ssize_t)c->outlen);
		c->outlen = 0;
	}
}

static void *host_main(void *arg)
{
	(void)arg;
	while (!H.stop) {
		struct pollfd p[80];
		int np = 0;
		p[np++] = (struct pollfd){ H.conn >= 0 ? H.conn : H.lfd, POLLIN };
		p[np++] = (struct pollfd){ H.wake, POLLIN };
		int xsi = -1;
		if (H.xs_host >= 0) {
			xsi = np;
			p[np++] = (struct pollfd){ H.xs_host, POLLIN };
		}
		int evi = np;
		for (unsigned i = 0; i < H.fx->nev; i++)
			p[np++] = (struct pollfd){ H.fx->ev[i].open ? H.send_fd[i] : -1,
						   POLLIN };
		if (poll(p, (nfds_t)np, 50) <= 0)
			continue;
		if (p[0].revents) {
			if (H.conn < 0) {
				H.conn = accept4(H.lfd, NULL, NULL, SOCK_CLOEXEC);
			} else {
				struct hdr h;
				uint8_t pl[4096];
				int fds[8], nfds;
				if (recv_msg(H.conn, &h, pl, fds, &nfds) < 0) {
					/* the domain died: tear down */
					H.disconnected = true;
					uint64_t one = 1;
					ck_assert_int_eq(write(H.gone, &one, 8), 8);
					close(H.conn);
					H.conn = -1;
				} else {
					handle(&h, pl, fds, nfds);
				}
			}
		}
		if (p[1].revents) {
			uint64_t v;
			ck_assert_int_eq(read(H.wake, &v, 8), 8);
			pthread_mutex_lock(&H.mu);
			if (H.inject_pending) {
				H.inject_result = fxn_inject(H.fx, 0, H.inject,
							     H.inject_len, 0);
				H.inject_pending = false;
			}
			pthread_mutex_unlock(&H.mu);
		}
		if (xsi >= 0 && p[xsi].revents) {
			uint8_t buf[8192];
			ssize_t n = read(H.xs_host, buf, sizeof(buf));
			if (n <= 0) {
				close(H.xs_host);
				H.xs_host = -1;
			} else {
				fx_conn_input(H.fx, &H.fx->c, buf, (size_t)n);
			}
		}
		for (unsigned i = 0; i < H.fx->nev; i++) {
			if (!p[evi + (int)i].revents || !H.fx->ev[i].open)
				continue;
			uint64_t v;
			if (read(H.send_fd[i], &v, 8) != 8)
				continue;
			struct fx_evt *e = &H.fx->ev[i];
			e->kicks++;
			if (!e->on_kick)
				fx_run(H.fx);
			if (e->on_kick)
				e->on_kick(H.fx, e);
		}
		fx_run(H.fx);
		flush_xs();
	}
	return NULL;
}

static void host_start(enum fault f)
{
	memset(&H, 0, sizeof(H));
	H.fault = f;
	H.conn = H.xs_host = -1;
	snprintf(H.dir, sizeof(H.dir), "/tmp/pvio-simxen-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(H.dir));
	snprintf(H.path, sizeof(H.path), "%s/xen.sock", H.dir);
	H.lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", H.path);
	ck_assert_int_eq(bind(H.lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(H.lfd, 4), 0);
	H.wake = eventfd(0, EFD_CLOEXEC);
	H.gone = eventfd(0, EFD_CLOEXEC);
	pthread_mutex_init(&H.mu, NULL);
	H.hctx = fx_ctx(1000);
	H.fx = fx_new(H.hctx, 5);
	H.fx->gfn_to_va = gfn_va;
	for (int i = 0; i < 64; i++)
		H.send_fd[i] = -1;
	ck_assert_int_eq(pthread_create(&H.th, NULL, host_main, NULL), 0);
}

static void host_stop(void)
{
	H.stop = 1;
	pthread_join(H.th, NULL);
	if (H.conn >= 0)
		close(H.conn);
	if (H.xs_host >= 0)
		close(H.xs_host);
	for (int i = 0; i < 64; i++)
		if (H.send_fd[i] >= 0)
			close(H.send_fd[i]);
	close(H.lfd);
	close(H.wake);
	close(H.gone);
	for (unsigned i = 0; i < H.nmem; i++)
		munmap(H.mem[i].hva, H.mem[i].size);
	unlink(H.path);
	rmdir(H.dir);
}

/* the host saw our connection end (bounded wait) */
static void host_wait_gone(void)
{
	struct pollfd p = { .fd = H.gone, .events = POLLIN };
	ck_assert_int_eq(poll(&p, 1, 10000), 1);
	uint64_t v;
	ck_assert_int_eq(read(H.gone, &v, 8), 8);
}

static void host_free(void)
{
	fx_destroy(H.fx);
	pvio_ctx_free(H.hctx);
	pthread_mutex_destroy(&H.mu);
}

static void setup(void)
{
	ctx = fx_ctx(1000);
}

static void teardown(void)
{
	pvio_ctx_free(ctx);
}

static char addr[256];

static const char *address(const char *dev)
{
	snprintf(addr, sizeof(addr), "sim-xen:%s/%s", H.path, dev);
	return addr;
}

static int wait_blk(pvio_dev *dev, uint32_t tag)
{
	struct pvio_blk_dcomp c[8];
	uint64_t deadline = pvio_deadline(ctx);
	while (pvio_now_ns(ctx) < deadline) {
		int n = dev->ops->blk->reap(dev, 0, c, 8);
		if (n < 0)
			return n;
		for (int i = 0; i < n; i++)
			if (c[i].tag == tag)
				return c[i].status;
		if (!n && pvio_dev_wait(dev, 0, deadline) < 0)
			return -EIO;
	}
	ck_abort_msg("request %u did not complete", tag);
	return -1;
}

static int blk_io(pvio_dev *dev, uint8_t op, uint64_t off, void *buf,
		  uint32_t len, uint32_t tag)
{
	struct pvio_dseg s[16];
	unsigned n = 0;
	for (uint32_t o = 0; o < len; o += 4096, n++) {
		s[n].va = (uint8_t *)buf + o;
		s[n].len = len - o < 4096 ? len - o : 4096;
		ck_assert_int_eq(pvio_dma_translate(ctx, s[n].va, s[n].len,
						    &s[n].dev_addr),
				 0);
	}
	struct pvio_blk_dreq r = { .tag = tag, .op = op, .nseg = (uint16_t)n,
				   .offset = off, .len = len, .seg = s };
	int e = dev->ops->blk->enqueue(dev, 0, &r);
	if (e < 0)
		return e;
	ck_assert_int_eq(dev->ops->blk->kick(dev, 0), 0);
	return wait_blk(dev, tag);
}

START_TEST(block_device_end_to_end)
{
	host_start(F_NONE);
	struct fxb_cfg c = { .sectors = 4096, .sector_size = 512,
			     .max_order = 1, .max_queues = 2, .indirect = 64,
			     .flush = true };
	fxb_new(H.fx, &c);
	pvio_dev *dev;
	int r = pvio_dev_open(ctx, address("vbd/51712"), &dev);
	ck_assert_msg(r == 0, "%s", pvio_errmsg(ctx));
	ck_assert_str_eq(dev->info.backend, "sim-xen");
	ck_assert_int_eq(dev->info.family, PVIO_FAMILY_XEN);
	ck_assert_int_eq(dev->info.cls, PVIO_CLASS_BLK);
	ck_assert_uint_eq(dev->limits.blk.capacity, 4096 * 512);
	ck_assert_uint_eq(dev->limits.blk.max_segments, 64);
	ck_assert_uint_eq(dev->limits.blk.queue_size, 64);
	struct pvio_dev_config cfg = { .num_queues = 1, .max_tags = 32 };
	ck_assert_int_eq(pvio_dev_configure(dev, &cfg), 0);
	uint8_t *w = pvio_dma_alloc(ctx, 65536, 4096);
	uint8_t *rd = pvio_dma_alloc(ctx, 65536, 4096);
	for (int round = 0; round < 50; round++) {
		for (int i = 0; i < 65536; i++)
			w[i] = (uint8_t)(i * 7 + round);
		uint64_t off = (uint64_t)(round % 20) * 65536;
		ck_assert_int_eq(blk_io(dev, PVIO_BLK_OP_WRITE, off, w, 65536,
					(uint32_t)round),
				 0);
		memset(rd, 0, 65536);
		ck_assert_int_eq(blk_io(dev, PVIO_BLK_OP_READ, off, rd, 65536,
					100 + (uint32_t)round),
				 0);
		ck_assert_int_eq(memcmp(rd, w, 65536), 0);
	}
	struct pvio_dseg none;
	struct pvio_blk_dreq fl = { .tag = 999, .op = PVIO_BLK_OP_FLUSH,
				    .seg = &none };
	ck_assert_int_eq(dev->ops->blk->enqueue(dev, 0, &fl), 0);
	dev->ops->blk->kick(dev, 0);
	ck_assert_int_eq(wait_blk(dev, 999), 0);
	ck_assert_uint_gt(dev->stats[0].notify_sent, 0);
	pvio_dev_close(dev);
	host_wait_gone();
	pvio_dma_free(ctx, w);
	pvio_dma_free(ctx, rd);
	host_stop();
	ck_assert_uint_eq(H.hellos, 1);
	ck_assert_uint_eq(H.set_memory, 1);
	ck_assert_uint_eq(H.xs_connects, 1);
	ck_assert_uint_eq(H.gnt_setups, 1);
	ck_assert_uint_eq(H.gnt_frames, 32);
	ck_assert_uint_eq(H.attaches, 1);
	ck_assert_uint_eq(H.detaches, 1);
	ck_assert_uint_eq(H.evtchn_allocs, H.evtchn_closes);
	ck_assert(H.disconnected);
	ck_assert_uint_eq(H.fx->blk->writes, 50);
	/* data reached the host's disk where it was written */
	for (int i = 0; i < 65536; i++)
		ck_assert_uint_eq(H.fx->blk->disk[9 * 65536 + i],
				  (uint8_t)(i * 7 + 49));
	host_free();
}
END_TEST

START_TEST(network_device_end_to_end)
{
	host_start(F_NONE);
	struct fxn_cfg c = { .sg = true, .max_queues = -1, .split = true,
			     .mac = "02:00:00:00:00:05" };
	fxn_new(H.fx, &c);
	pvio_dev *dev;
	int r = pvio_dev_open(ctx, address("vif/0"), &dev);
	ck_assert_msg(r == 0, "%s", pvio_errmsg(ctx));
	ck_assert_int_eq(dev->info.cls, PVIO_CLASS_NET);
	ck_assert_uint_eq(dev->limits.net.mac[5], 5);
	struct pvio_dev_config cfg = { .num_queues = 1, .max_tags = 64 };
	ck_assert_int_eq(pvio_dev_configure(dev, &cfg), 0);
	uint8_t *pages[4];
	for (int i = 0; i < 4; i++) {
		pages[i] = pvio_dma_alloc(ctx, 4096, 4096);
		struct pvio_net_rxb b = { .tag = (uint32_t)i,
					  .seg = { pages[i], 0, 4096 } };
		pvio_dma_translate(ctx, pages[i], 4096, &b.seg.dev_addr);
		ck_assert_int_eq(dev->ops->net->rx_post(dev, 0, &b), 0);
	}
	ck_assert_int_eq(dev->ops->net->kick(dev, 0, PVIO_NET_KICK_RX), 0);
	/* the host delivers a frame (asynchronously, from its thread) */
	pthread_mutex_lock(&H.mu);
	for (unsigned i = 0; i < 300; i++)
		H.inject[i] = (uint8_t)(0xa0 + i);
	H.inject_len = 300;
	H.inject_result = 99;
	H.inject_pending = true;
	pthread_mutex_unlock(&H.mu);
	uint64_t one = 1;
	ck_assert_int_eq(write(H.wake, &one, 8), 8);
	struct pvio_net_rxc rc[4];
	int n = 0;
	uint64_t deadline = pvio_deadline(ctx);
	while (!n && pvio_now_ns(ctx) < deadline) {
		n = dev->ops->net->rx_reap(dev, 0, rc, 4);
		if (!n)
			ck_assert_int_ge(pvio_dev_wait(dev, 0, deadline), 0);
	}
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(rc[0].status, 0);
	ck_assert_uint_eq(rc[0].len, 300);
	ck_assert_uint_eq(pages[rc[0].tag][rc[0].offset + 299],
			  (uint8_t)(0xa0 + 299));
	/* transmit one */
	struct pvio_dseg s = { pages[3], 0, 60 };
	pvio_dma_translate(ctx, pages[3], 60, &s.dev_addr);
	memset(pages[3], 0x42, 60);
	struct pvio_net_txd t = { .tag = 7, .nseg = 1, .len = 60, .seg = &s };
	ck_assert_int_eq(dev->ops->net->tx_enqueue(dev, 0, &t), 0);
	ck_assert_int_eq(dev->ops->net->kick(dev, 0, PVIO_NET_KICK_TX), 0);
	uint32_t tags[4];
	n = 0;
	while (!n && pvio_now_ns(ctx) < deadline) {
		n = dev->ops->net->tx_reap(dev, 0, tags, 4);
		if (!n)
			ck_assert_int_ge(pvio_dev_wait(dev, 0, deadline), 0);
	}
	ck_assert_int_eq(n, 1);
	ck_assert_uint_eq(tags[0], 7);
	pvio_dev_close(dev);
	host_wait_gone();
	for (int i = 0; i < 4; i++)
		pvio_dma_free(ctx, pages[i]);
	host_stop();
	ck_assert_int_eq(H.inject_result, 0);
	ck_assert_uint_eq(H.fx->net->nframes, 1);
	ck_assert_uint_eq(H.fx->net->frames[0].len, 60);
	ck_assert_uint_eq(H.fx->net->frames[0].data[59], 0x42);
	ck_assert_uint_eq(H.evtchn_allocs, 2); /* split channels */
	ck_assert_uint_eq(H.evtchn_allocs, H.evtchn_closes);
	host_free();
}
END_TEST

START_TEST(front_ends_over_sim_xen)
{
	host_start(F_NONE);
	struct fxb_cfg bc = { .sectors = 16384, .sector_size = 512,
			      .max_order = 2, .max_queues = 2, .indirect = 64,
			      .flush = true, .discard = true, .persistent = true };
	struct fxb *b = fxb_new(H.fx, &bc);
	struct fxn_cfg nc = { .sg = true, .max_queues = -1, .reflect = true };
	fxn_new(H.fx, &nc);

	/* the block front end, unchanged, over blkif */
	pvio_blk *blk;
	int r = pvio_blk_open(ctx, address("vbd/51712"), NULL, &blk);
	ck_assert_msg(r == 0, "%s", pvio_errmsg(ctx));
	struct pvio_blk_info bi = { .struct_size = sizeof(bi) };
	ck_assert_int_eq(pvio_blk_get_info(blk, &bi), 0);
	ck_assert_uint_eq(bi.capacity, 16384 * 512);
	ck_assert(bi.flush && bi.discard);
	static uint8_t w[1 << 20], rd[1 << 20];
	for (size_t i = 0; i < sizeof(w); i++)
		w[i] = (uint8_t)(i * 11 + 5);
	ck_assert_int_eq(pvio_blk_pwrite(blk, 3 * 512, w, sizeof(w)), 0);
	ck_assert_int_eq(pvio_blk_pread(blk, 3 * 512, rd, sizeof(rd)), 0);
	ck_assert_int_eq(memcmp(w, rd, sizeof(w)), 0);
	ck_assert_int_eq(pvio_blk_sync_flush(blk), 0);
	ck_assert_int_eq(pvio_blk_sync_discard(blk, 1 << 20, 1 << 20), 0);
	struct pvio_queue_stats st;
	ck_assert_int_eq(pvio_blk_get_stats(blk, 0, &st), 0);
	ck_assert_uint_gt(st.notify_sent, 0);
	ck_assert_uint_gt(st.copies, 0); /* persistent grants */
	pvio_blk_close(blk);
	host_wait_gone();

	/* the network front end, unchanged, over netif */
	pvio_net *net;
	r = pvio_net_open(ctx, address("vif/0"), NULL, &net);
	ck_assert_msg(r == 0, "%s", pvio_errmsg(ctx));
	struct pvio_net_info ni = { .struct_size = sizeof(ni) };
	ck_assert_int_eq(pvio_net_get_info(net, &ni), 0);
	ck_assert_uint_eq(ni.mac[5], 0x03);
	uint8_t f[1200], in[2048];
	memset(f, 0xff, 6);
	memcpy(f + 6, ni.mac, 6);
	f[12] = 0x88;
	f[13] = 0xb5;
	unsigned got = 0;
	for (int k = 0; k < 50; k++) {
		for (size_t i = 14; i < sizeof(f); i++)
			f[i] = (uint8_t)(i + k);
		ck_assert_int_eq(pvio_net_send(net, 0, f, sizeof(f), NULL), 0);
		uint64_t deadline = pvio_deadline(ctx);
		int n = 0;
		while (!n && pvio_now_ns(ctx) < deadline) {
			n = pvio_net_recv(net, 0, in, sizeof(in), NULL);
			ck_assert_int_ge(n, 0);
			if (!n)
				ck_assert_int_ge(pvio_net_wait(net, 0, 100000000), 0);
		}
		ck_assert_int_eq(n, (int)sizeof(f));
		ck_assert_int_eq(memcmp(in, f, sizeof(f)), 0);
		got++;
	}
	ck_assert_uint_eq(got, 50);
	pvio_net_close(net);
	host_wait_gone();
	host_stop();
	ck_assert_uint_eq(H.fx->net->nframes, 50);
	for (size_t i = 0; i < sizeof(w); i += 4096)
		ck_assert_uint_eq(b->disk[3 * 512 + i], w[i]);
	host_free();
}
END_TEST

START_TEST(unsolicited_messages_are_skipped)
{
	host_start(F_UNSOLICITED);
	struct fxb_cfg c = { .sectors = 64, .sector_size = 512, .max_order = -1,
			     .max_queues = -1 };
	fxb_new(H.fx, &c);
	pvio_dev *dev;
	int r = pvio_dev_open(ctx, address("vbd/1"), &dev);
	ck_assert_msg(r == 0, "%s", pvio_errmsg(ctx));
	pvio_dev_close(dev);
	host_stop();
	host_free();
}
END_TEST

START_TEST(broken_hosts_fail_cleanly)
{
	pvio_dev *dev;
	static const struct {
		enum fault f;
		int err;
		const char *msg;
	} t[] = {
		{ F_BAD_MAGIC, -EPROTO, "does not answer as" },
		{ F_SILENT, -ETIMEDOUT, "does not answer as" },
		{ F_NO_ATTACH, -ENODEV, "no vbd 3" },
		{ F_EVTCHN_ONE_FD, -EPROTO, "event channel" },
	};
	for (unsigned i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		host_start(t[i].f);
		fxb_new(H.fx, &(struct fxb_cfg){ .sectors = 64, .max_order = -1,
						 .max_queues = -1 });
		int r = pvio_dev_open(ctx, address("vbd/3"), &dev);
		ck_assert_msg(r == t[i].err, "case %u: %d %s", i, r,
			      pvio_errmsg(ctx));
		ck_assert_msg(strstr(pvio_errmsg(ctx), t[i].msg), "case %u: %s",
			      i, pvio_errmsg(ctx));
		host_stop();
		host_free();
	}
	/* nobody listening */
	int r = pvio_dev_open(ctx, "sim-xen:/tmp/pvio-no-such-dir/x.sock/vbd/0",
			      &dev);
	ck_assert_int_eq(r, -ENOENT);
	ck_assert_ptr_nonnull(strstr(pvio_errmsg(ctx), "is `pvio sim xen"));
	/* malformed addresses */
	ck_assert_int_eq(pvio_dev_open(ctx, "sim-xen:/tmp/x.sock", &dev), -EINVAL);
	ck_assert_int_eq(pvio_dev_open(ctx, "sim-xen:/vbd/1", &dev), -EINVAL);
	ck_assert_int_eq(pvio_dev_open(ctx, "sim-xen:/tmp/s/vbd/1?nope=1", &dev),
			 -EINVAL);
}
END_TEST

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	Suite *s = suite_create("xen_sim");
	TCase *tc = tcase_create("sim");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, block_device_end_to_end);
	tcase_add_test(tc, network_device_end_to_end);
	tcase_add_test(tc, front_ends_over_sim_xen);
	tcase_add_test(tc, unsolicited_messages_are_skipped);
	tcase_add_test(tc, broken_hosts_fail_cleanly);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
