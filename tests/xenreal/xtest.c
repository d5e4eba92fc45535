/* SPDX-License-Identifier: MIT */
/*
 * tests/xenreal/xtest.c - the test program that runs inside dom0 of a
 * real Xen (tests/xenreal/run.sh boots it): pvio's unchanged block and
 * network front ends on "xen:vbd/N" and "xen:vif/N", against Linux's
 * xen-blkback and xen-netback in the same domain.  Linked statically
 * (the initramfs has no C library for it).
 *
 * Every result is one line on stdout, which the serial log carries to
 * run.sh:
 *   XTEST OK <check> [detail]      XTEST FAIL <check>: <why>
 *   XTEST INFO <what> <detail>     XTEST BENCH <name> <value> <unit> ...
 * The exit status is the number of failed checks (capped).
 *
 * What it checks independently of pvio: xenstore through its own small
 * client on xenstored's socket (back-end features, both XenBus states,
 * ring refs), grants through /dev/xen/gntdev (a ring ref maps while the
 * device is open and no longer maps once pvio closed it: the grant was
 * ended), frames through an AF_PACKET socket on the netback interface,
 * and the disk's bytes through the loop device itself (`verify`, run by
 * the harness after the device was detached).
 *
 *   xtest mkimage FILE SIZE                  the disk's initial content
 *   xtest blk ADDR SIZE PHASE [STATE]        phase 1: read, writes, flush,
 *                                            discard; phase 2: re-attach
 *   xtest verify DEV SIZE PHASE STATE        the bytes through the loop dev
 *   xtest blk-limit ADDR SIZE ok|fail        copy pools and gntalloc's limit
 *   xtest net ADDR IFNAME PHASE              frames both ways
 *   xtest bench-blk ADDR SECONDS NAME
 *   xtest bench-net ADDR IFNAME|- SECONDS NAME   (- : the host reflects)
 *   xtest reflect IFNAME READY SECONDS       send test frames back (the
 *                                            peer of `pvio net loopback`)
 *   xtest bench-sim IMAGE SECONDS            the same workloads over
 *                                            pvio's simulated Xen host
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <xen/sys/gntdev.h>

#include <pvio/blk.h>
#include <pvio/net.h>

#include "sim/common/sim.h"

#define XS_SOCKET "/run/xenstored/socket"
#define ETHERTYPE_TEST 0x88b5 /* IEEE local experimental */
#define CHUNK (256u << 10)
#define TIMEOUT_MS 30000u

static int failures;

/* ---------------------------------------------------------------- output */

static void line(const char *kind, const char *name, const char *sep,
		 const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));
static void line(const char *kind, const char *name, const char *sep,
		 const char *fmt, va_list ap)
{
	char b[512];
	vsnprintf(b, sizeof(b), fmt, ap);
	printf("XTEST %s %s%s%s\n", kind, name, *b ? sep : "", b);
	fflush(stdout);
}

static void ok(const char *name, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void ok(const char *name, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	line("OK", name, " ", fmt, ap);
	va_end(ap);
}

static void fail(const char *name, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void fail(const char *name, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	line("FAIL", name, ": ", fmt, ap);
	va_end(ap);
	failures++;
}

static void info(const char *name, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void info(const char *name, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	line("INFO", name, " ", fmt, ap);
	va_end(ap);
}

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static bool parse_u64(const char *s, uint64_t *v)
{
	char *end;
	errno = 0;
	*v = strtoull(s, &end, 0);
	return s[0] && !*end && !errno;
}

/* ---------------------------------------------------------------- disk model */

/* The byte at offset off of a disk written with seed. */
static inline uint8_t pat(uint64_t off, uint32_t seed)
{
	uint64_t x = (off >> 3) * 0x9E3779B97F4A7C15ull ^
		     ((uint64_t)seed << 32 | seed);
	x ^= x >> 29;
	x *= 0xBF58476D1CE4E5B9ull;
	x ^= x >> 32;
	return (uint8_t)(x >> ((off & 7) * 8));
}

static void fill(uint8_t *b, uint64_t off, size_t len, uint32_t seed)
{
	for (size_t i = 0; i < len; i++)
		b[i] = seed ? pat(off + i, seed) : 0;
}

struct wop {
	uint64_t off, len;
	uint32_t seed; /* 0: discard (reads as zeros on a loop device on tmpfs) */
	bool async;    /* in the batch of requests in flight together */
};

#define SEED_BASE 0x5eed0001u
/* Phase 1: one page; a write crossing a page boundary; 64 segments
 * (indirect); 10 segments (direct); 32 requests of 16 segments in flight
 * at once; then a discard of 1 MiB. */
static const struct wop phase1[] = {
	{ 4096, 4096, 0x1001, false },
	{ 15360, 2048, 0x1002, false },
	{ 1u << 20, 256u << 10, 0x1003, false },
	{ 6u << 20, 40u << 10, 0x1004, false },
};
#define P1_BATCH 32u
#define P1_BATCH_OFF (2u << 20)
#define P1_BATCH_LEN (64u << 10)
#define P1_DISCARD_OFF (4u << 20)
#define P1_DISCARD_LEN (1u << 20)
/* Phase 2 (after detach and a second attach) */
static const struct wop phase2[] = {
	{ 512u << 10, 128u << 10, 0x2001, false },
	{ 4u << 20, 8192, 0x2002, false }, /* into the discarded range */
};

/* The disk as it must be after `phase` phases (discarded: whether phase
 * 1 discarded). */
static void model(uint8_t *img, uint64_t size, int phase, bool discarded)
{
	fill(img, 0, size, SEED_BASE);
	if (phase < 1)
		return;
	for (size_t i = 0; i < sizeof(phase1) / sizeof(phase1[0]); i++)
		fill(img + phase1[i].off, phase1[i].off, phase1[i].len,
		     phase1[i].seed);
	for (uint32_t i = 0; i < P1_BATCH; i++) {
		uint64_t off = P1_BATCH_OFF + (uint64_t)i * P1_BATCH_LEN;
		fill(img + off, off, P1_BATCH_LEN, 0x1100 + i);
	}
	if (discarded)
		memset(img + P1_DISCARD_OFF, 0, P1_DISCARD_LEN);
	if (phase < 2)
		return;
	for (size_t i = 0; i < sizeof(phase2) / sizeof(phase2[0]); i++)
		fill(img + phase2[i].off, phase2[i].off, phase2[i].len,
		     phase2[i].seed);
}

/* First differing offset, or -1. */
static int64_t differs(const uint8_t *a, const uint8_t *b, size_t len)
{
	if (!memcmp(a, b, len))
		return -1;
	for (size_t i = 0; i < len; i++)
		if (a[i] != b[i])
			return (int64_t)i;
	return -1;
}

/* ---------------------------------------------------------------- xenstore (own client) */

/* A minimal synchronous client of xenstored's socket, independent of
 * pvio's, to look at what pvio and the back ends wrote. */
static int xsc_req(uint32_t type, const char *path, char *out, size_t cap)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	strcpy(a.sun_path, XS_SOCKET);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	struct timeval tv = { .tv_sec = 10 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	uint32_t hdr[4] = { type, 1, 0, (uint32_t)strlen(path) + 1 };
	char msg[16 + 512];
	if (hdr[3] > 512) {
		close(fd);
		return -E2BIG;
	}
	memcpy(msg, hdr, 16);
	memcpy(msg + 16, path, hdr[3]);
	if (write(fd, msg, 16 + hdr[3]) != (ssize_t)(16 + hdr[3])) {
		close(fd);
		return -EIO;
	}
	char buf[16 + 4096];
	size_t got = 0;
	while (got < 16 || got < 16 + ((uint32_t *)(void *)buf)[3]) {
		ssize_t n = read(fd, buf + got, sizeof(buf) - got);
		if (n <= 0) {
			close(fd);
			return n < 0 ? -errno : -EPIPE;
		}
		got += (size_t)n;
	}
	close(fd);
	uint32_t rh[4];
	memcpy(rh, buf, 16);
	if (rh[0] == 16) /* XS_ERROR */
		return strncmp(buf + 16, "ENOENT", 6) ? -EIO : -ENOENT;
	size_t len = rh[3] < cap - 1 ? rh[3] : cap - 1;
	memcpy(out, buf + 16, len);
	out[len] = '\0';
	return (int)len;
}

static int xsc_read(const char *path, char *out, size_t cap)
{
	return xsc_req(2 /* XS_READ */, path, out, cap);
}

/* The children of path, space-separated, into out. */
static int xsc_dir(const char *path, char *out, size_t cap)
{
	int n = xsc_req(1 /* XS_DIRECTORY */, path, out, cap);
	for (int i = 0; i < n - 1; i++)
		if (!out[i])
			out[i] = ' ';
	return n;
}

static long xsc_read_num(const char *path)
{
	char b[64];
	if (xsc_read(path, b, sizeof(b)) < 0)
		return -1;
	return strtol(b, NULL, 10);
}

/* ---------------------------------------------------------------- grants (gntdev) */

/* Map grant ref of domain dom read-only through gntdev: 0 if Xen let us
 * (the grant is live), -errno if not.  The mapping is undone at once;
 * *rsp_prod gets the ring's response producer (offset 8) when mapped. */
static int gnt_probe(uint32_t dom, uint32_t ref, uint32_t *rsp_prod)
{
	int fd = open("/dev/xen/gntdev", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct ioctl_gntdev_map_grant_ref m = { .count = 1 };
	m.refs[0].domid = dom;
	m.refs[0].ref = ref;
	int r = 0;
	if (ioctl(fd, IOCTL_GNTDEV_MAP_GRANT_REF, &m) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	void *p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, (off_t)m.index);
	if (p == MAP_FAILED) {
		r = -errno;
	} else {
		if (rsp_prod)
			memcpy(rsp_prod, (uint8_t *)p + 8, 4);
		munmap(p, 4096);
	}
	struct ioctl_gntdev_unmap_grant_ref u = { .index = m.index,
						  .count = 1 };
	ioctl(fd, IOCTL_GNTDEV_UNMAP_GRANT_REF, &u);
	close(fd);
	return r;
}

/* The ring refs a front end published (first of each ring). */
static int ring_refs(const char *fe, const char *const *keys, unsigned nkeys,
		     uint32_t *refs)
{
	char path[256];
	for (unsigned i = 0; i < nkeys; i++) {
		snprintf(path, sizeof(path), "%s/%s", fe, keys[i]);
		long v = xsc_read_num(path);
		if (v < 0)
			return -ENOENT;
		refs[i] = (uint32_t)v;
	}
	return 0;
}

/* ---------------------------------------------------------------- pvio helpers */

static pvio_ctx *new_ctx(void)
{
	struct pvio_ctx_opts o = { .struct_size = sizeof(o),
				   .timeout_ms = TIMEOUT_MS };
	pvio_ctx *ctx = NULL;
	int r = pvio_ctx_new(&o, &ctx);
	if (r < 0) {
		fail("ctx", "pvio_ctx_new: %s", strerror(-r));
		return NULL;
	}
	return ctx;
}

static void feature_list(uint64_t f, char *b, size_t cap)
{
	size_t o = 0;
	b[0] = '\0';
	for (int i = 0; i < 64; i++) {
		if (!(f & (1ull << i)))
			continue;
		const char *n = pvio_feature_name(1ull << i);
		int k = snprintf(b + o, cap - o, "%s%s", o ? "," : "",
				 n ? n : "?");
		if (k < 0 || (size_t)k >= cap - o)
			break;
		o += (size_t)k;
	}
}

static void print_stats(const char *what, const struct pvio_queue_stats *s)
{
	info(what,
	     "requests=%" PRIu64 " device_requests=%" PRIu64 " bytes=%" PRIu64
	     " errors=%" PRIu64 " notify_sent=%" PRIu64
	     " notify_suppressed=%" PRIu64 " irqs=%" PRIu64 " copies=%" PRIu64
	     " copy_bytes=%" PRIu64,
	     s->requests, s->device_requests, s->bytes, s->errors,
	     s->notify_sent, s->notify_suppressed, s->irqs, s->copies,
	     s->copy_bytes);
}

/* The front-end and back-end directories of a device address
 * "xen:vbd/N" in dom0. */
static int dirs_of(const char *addr, char *fe, char *be, size_t cap)
{
	const char *d = strchr(addr, ':');
	if (!d)
		return -EINVAL;
	char dev[64];
	snprintf(dev, sizeof(dev), "%s", d + 1);
	char *q = strchr(dev, '?');
	if (q)
		*q = '\0';
	snprintf(fe, cap, "/local/domain/0/device/%s", dev);
	char p[300];
	snprintf(p, sizeof(p), "%s/backend", fe);
	return xsc_read(p, be, cap) < 0 ? -ENOENT : 0;
}

/* After close: both XenBus states Closed, and the rings' grants ended. */
static void check_closed(const char *name, const char *fe, const char *be,
			 const uint32_t *refs, unsigned nrefs)
{
	char p[300];
	snprintf(p, sizeof(p), "%s/state", fe);
	long fs = xsc_read_num(p);
	snprintf(p, sizeof(p), "%s/state", be);
	long bs = xsc_read_num(p);
	char n[64];
	snprintf(n, sizeof(n), "%s-closed", name);
	if (fs == 6 && bs == 6)
		ok(n, "front end and back end in XenBus state Closed (6)");
	else
		fail(n, "front end state %ld, back end state %ld (want 6, 6)",
		     fs, bs);
	snprintf(n, sizeof(n), "%s-grants-ended", name);
	for (unsigned i = 0; i < nrefs; i++) {
		int r = gnt_probe(0, refs[i], NULL);
		if (r == 0) {
			fail(n, "ring grant %u still maps after close", refs[i]);
			return;
		}
	}
	ok(n, "%u ring grants no longer map (Xen refuses them)", nrefs);
}

/* ---------------------------------------------------------------- block */

static int blk_write_sync(pvio_blk *blk, uint8_t *buf, const struct wop *w)
{
	fill(buf, w->off, w->len, w->seed);
	return pvio_blk_pwrite(blk, w->off, buf, w->len);
}

/* Read the whole disk through pvio and compare with the model. */
static int blk_compare(pvio_blk *blk, uint8_t *dma, const uint8_t *img,
		       uint64_t size, const char *name)
{
	for (uint64_t off = 0; off < size; off += CHUNK) {
		size_t len = size - off < CHUNK ? (size_t)(size - off) : CHUNK;
		int r = pvio_blk_pread(blk, off, dma, len);
		if (r < 0) {
			fail(name, "read of %zu bytes at %" PRIu64 ": %s", len,
			     off, strerror(-r));
			return -1;
		}
		int64_t d = differs(dma, img + off, len);
		if (d >= 0) {
			fail(name, "byte %" PRIu64 " is 0x%02x, want 0x%02x",
			     off + (uint64_t)d, dma[d], img[off + (uint64_t)d]);
			return -1;
		}
	}
	return 0;
}

static int cmd_blk(const char *addr, uint64_t size, int phase,
		   const char *state)
{
	char fe[256], be[256];
	uint32_t refs[4];
	unsigned nrefs = 0;
	bool discarded = false;

	if (dirs_of(addr, fe, be, sizeof(fe)) < 0) {
		fail("blk-nodes", "%s has no back end in xenstore", addr);
		return 1;
	}
	uint8_t *img = malloc(size);
	pvio_ctx *ctx = new_ctx();
	if (!img || !ctx)
		return 1;

	char name[64];
	snprintf(name, sizeof(name), "blk%d-open", phase);
	uint64_t t0 = now_ns();
	pvio_blk *blk = NULL;
	struct pvio_blk_opts bo = { .struct_size = sizeof(bo), .num_queues = 1,
				    .queue_depth = 64 };
	int r = pvio_blk_open(ctx, addr, &bo, &blk);
	if (r < 0) {
		fail(name, "pvio_blk_open(%s): %s", addr, pvio_errmsg(ctx));
		pvio_ctx_free(ctx);
		return 1;
	}
	struct pvio_blk_info bi = { .struct_size = sizeof(bi) };
	struct pvio_dev_info di = { .struct_size = sizeof(di) };
	pvio_blk_get_info(blk, &bi);
	pvio_dev_get_info(pvio_blk_dev(blk), &di);
	if (bi.capacity != size || bi.block_size != 512) {
		fail(name, "capacity %" PRIu64 " block size %u, want %" PRIu64
			   " and 512",
		     bi.capacity, bi.block_size, size);
		goto out;
	}
	ok(name, "%s connected in %.2f s: %" PRIu64 " bytes, backend=%s",
	   addr, (double)(now_ns() - t0) / 1e9, bi.capacity, di.backend);

	/* what the real back end offered (read by us) and what pvio uses */
	char p[300], fl[512];
	long be_pers, be_ind, be_order, be_flush, be_disc, be_mq, be_barrier;
	snprintf(p, sizeof(p), "%s/feature-persistent", be);
	be_pers = xsc_read_num(p);
	snprintf(p, sizeof(p), "%s/feature-max-indirect-segments", be);
	be_ind = xsc_read_num(p);
	snprintf(p, sizeof(p), "%s/max-ring-page-order", be);
	be_order = xsc_read_num(p);
	snprintf(p, sizeof(p), "%s/feature-flush-cache", be);
	be_flush = xsc_read_num(p);
	snprintf(p, sizeof(p), "%s/feature-barrier", be);
	be_barrier = xsc_read_num(p);
	snprintf(p, sizeof(p), "%s/feature-discard", be);
	be_disc = xsc_read_num(p);
	snprintf(p, sizeof(p), "%s/multi-queue-max-queues", be);
	be_mq = xsc_read_num(p);
	info("blk-backend-offers",
	     "feature-persistent=%ld feature-max-indirect-segments=%ld "
	     "max-ring-page-order=%ld feature-flush-cache=%ld "
	     "feature-barrier=%ld feature-discard=%ld "
	     "multi-queue-max-queues=%ld (-1: absent)",
	     be_pers, be_ind, be_order, be_flush, be_barrier, be_disc, be_mq);
	char keys[1024];
	if (xsc_dir(be, keys, sizeof(keys)) > 0)
		info("blk-backend-keys", "%s", keys);
	info("blk-pvio-native", "%s", di.native);
	feature_list(di.features, fl, sizeof(fl));
	info("blk-pvio-uses", "%s; max_transfer=%u max_segments=%u "
			      "queue_size=%u",
	     fl, bi.max_transfer, bi.max_segments, di.queue_size);
	snprintf(name, sizeof(name), "blk%d-negotiated", phase);
	if (be_pers == 1 && !(di.features & PVIO_F_PERSISTENT_MAP))
		fail(name, "blkback offers persistent grants, pvio does not "
			   "use them");
	else if (be_ind > 11 && !(di.features & PVIO_F_INDIRECT))
		fail(name, "blkback offers %ld indirect segments, pvio does "
			   "not use them",
		     be_ind);
	else if (be_order > 0 && !(di.features & PVIO_F_MULTI_PAGE_RING))
		fail(name, "blkback offers ring order %ld, pvio uses one page",
		     be_order);
	else
		ok(name, "persistent=%d indirect=%d multi-page-ring=%d",
		   !!(di.features & PVIO_F_PERSISTENT_MAP),
		   !!(di.features & PVIO_F_INDIRECT),
		   !!(di.features & PVIO_F_MULTI_PAGE_RING));

	/* ring refs now, for the grant checks */
	{
		static const char *const k1[] = { "ring-ref" };
		static const char *const k0[] = { "ring-ref0" };
		if (ring_refs(fe, k1, 1, refs) == 0 ||
		    ring_refs(fe, k0, 1, refs) == 0)
			nrefs = 1;
	}

	uint8_t *dma = pvio_dma_alloc(ctx, 2 * CHUNK, 4096);
	if (!dma) {
		fail("blk-mem", "pvio_dma_alloc failed");
		goto out;
	}

	/* 1. the disk as the previous phase left it */
	snprintf(name, sizeof(name), "blk%d-read", phase);
	model(img, size, phase - 1, state && phase > 1 &&
					    access(state, F_OK) == 0);
	if (blk_compare(blk, dma, img, size, name) == 0)
		ok(name, "all %" PRIu64 " bytes match the expected content",
		   size);

	/* 2. writes */
	snprintf(name, sizeof(name), "blk%d-write", phase);
	const struct wop *ops = phase == 1 ? phase1 : phase2;
	size_t nops = phase == 1 ? sizeof(phase1) / sizeof(phase1[0])
				 : sizeof(phase2) / sizeof(phase2[0]);
	int werr = 0;
	for (size_t i = 0; i < nops && !werr; i++) {
		r = blk_write_sync(blk, dma, &ops[i]);
		if (r < 0) {
			fail(name, "write of %" PRIu64 " bytes at %" PRIu64
				   ": %s",
			     ops[i].len, ops[i].off, strerror(-r));
			werr = 1;
		}
	}
	if (!werr && phase == 1) {
		/* P1_BATCH requests in flight at once */
		uint8_t *bufs = pvio_dma_alloc(ctx, P1_BATCH * P1_BATCH_LEN,
					       4096);
		if (!bufs) {
			fail(name, "pvio_dma_alloc failed");
			werr = 1;
		}
		for (uint32_t i = 0; !werr && i < P1_BATCH; i++) {
			uint64_t off = P1_BATCH_OFF + (uint64_t)i * P1_BATCH_LEN;
			uint8_t *b = bufs + (size_t)i * P1_BATCH_LEN;
			fill(b, off, P1_BATCH_LEN, 0x1100 + i);
			r = pvio_blk_write(blk, 0, off, b, P1_BATCH_LEN,
					   (void *)(uintptr_t)(i + 1), 0);
			if (r < 0) {
				fail(name, "enqueue %u: %s", i, strerror(-r));
				werr = 1;
			}
		}
		if (!werr && (r = pvio_blk_submit(blk, 0)) < 0) {
			fail(name, "submit: %s", strerror(-r));
			werr = 1;
		}
		uint32_t done = 0;
		uint64_t deadline = now_ns() + 60ull * 1000000000ull;
		while (!werr && done < P1_BATCH) {
			struct pvio_blk_completion c[P1_BATCH];
			int n = pvio_blk_poll(blk, 0, c, 1, P1_BATCH,
					      1000000000ll);
			if (n < 0) {
				fail(name, "poll: %s", strerror(-n));
				werr = 1;
				break;
			}
			for (int j = 0; j < n; j++) {
				if (c[j].ret < 0) {
					fail(name, "batched write %u: %s",
					     (unsigned)(uintptr_t)c[j].cookie,
					     strerror(-c[j].ret));
					werr = 1;
				}
			}
			done += (uint32_t)n;
			if (now_ns() > deadline) {
				fail(name, "only %u of %u batched writes "
					   "completed in 60 s",
				     done, P1_BATCH);
				werr = 1;
			}
		}
		if (bufs)
			pvio_dma_free(ctx, bufs);
	}
	if (!werr)
		ok(name, "%zu writes%s", nops + (phase == 1 ? P1_BATCH : 0),
		   phase == 1 ? " (32 of them in flight together)" : "");

	/* 3. flush */
	snprintf(name, sizeof(name), "blk%d-flush", phase);
	if (!bi.flush) {
		fail(name, "blkback offered no flush (feature-flush-cache=%ld "
			   "feature-barrier=%ld)",
		     be_flush, be_barrier);
	} else if ((r = pvio_blk_sync_flush(blk)) < 0) {
		fail(name, "flush: %s", strerror(-r));
	} else {
		ok(name, "through %s",
		   be_flush == 1 ? "FLUSH_DISKCACHE" : "WRITE_BARRIER");
	}

	/* 4. discard, where blkback offers it */
	if (phase == 1) {
		if (bi.discard) {
			r = pvio_blk_sync_discard(blk, P1_DISCARD_OFF,
						  P1_DISCARD_LEN);
			if (r < 0) {
				fail("blk1-discard", "discard: %s",
				     strerror(-r));
			} else {
				discarded = true;
				ok("blk1-discard", "1 MiB at 4 MiB "
						   "(granularity %u)",
				   bi.discard_granularity);
			}
		} else {
			info("blk1-discard", "not offered by blkback "
					     "(feature-discard=%ld)",
			     be_disc);
		}
		if (state) {
			if (discarded) {
				FILE *f = fopen(state, "w");
				if (f)
					fclose(f);
			} else {
				unlink(state);
			}
		}
	} else {
		discarded = state && access(state, F_OK) == 0;
	}

	/* 5. read back everything through pvio */
	snprintf(name, sizeof(name), "blk%d-readback", phase);
	model(img, size, phase, discarded);
	if (!werr && blk_compare(blk, dma, img, size, name) == 0)
		ok(name, "the whole disk matches what was written");

	/* 6. completions come by event channel upcall.  At SCHED_FIFO on
	 * dom0's only CPU, blkback's threads cannot run until pvio sleeps in
	 * poll(): each read must be answered by a notification that wakes
	 * it through /dev/xen/evtchn. */
	struct pvio_queue_stats st, s0;
	snprintf(name, sizeof(name), "blk%d-evtchn", phase);
	pvio_blk_get_stats(blk, 0, &s0);
	if (sysconf(_SC_NPROCESSORS_ONLN) != 1) {
		fail(name, "needs dom0 on one CPU (dom0_max_vcpus=1)");
	} else {
		struct sched_param sp = { .sched_priority = 10 };
		int rr = sched_setscheduler(0, SCHED_FIFO, &sp);
		r = 0;
		for (uint32_t i = 0; rr == 0 && r >= 0 && i < 8; i++)
			r = pvio_blk_pread(blk, (uint64_t)i * 4096, dma, 4096);
		sp.sched_priority = 0;
		sched_setscheduler(0, SCHED_OTHER, &sp);
		pvio_blk_get_stats(blk, 0, &st);
		if (rr < 0)
			fail(name, "sched_setscheduler: %s", strerror(errno));
		else if (r < 0)
			fail(name, "read: %s", strerror(-r));
		else if (st.irqs - s0.irqs < 8)
			fail(name, "8 reads, %" PRIu64 " upcalls woke pvio",
			     st.irqs - s0.irqs);
		else
			ok(name, "each of 8 reads woke pvio from poll() "
				 "through blkback's event channel (%" PRIu64
				 " upcalls)",
			   st.irqs - s0.irqs);
	}
	pvio_blk_get_stats(blk, 0, &st);
	print_stats(phase == 1 ? "blk1-stats" : "blk2-stats", &st);

	/* 7. the ring's grant is live now */
	snprintf(name, sizeof(name), "blk%d-grant-live", phase);
	uint32_t rp = 0;
	if (!nrefs)
		fail(name, "no ring-ref in %s", fe);
	else if ((r = gnt_probe(0, refs[0], &rp)) < 0)
		fail(name, "ring grant %u does not map: %s", refs[0],
		     strerror(-r));
	else if (rp == 0)
		fail(name, "mapped ring grant %u shows no responses", refs[0]);
	else
		ok(name, "ring grant %u maps; blkback produced %u responses",
		   refs[0], rp);
	pvio_dma_free(ctx, dma);

out:;
	/* 8. close: Closing, blkback's slow Closing, Closed */
	uint64_t t1 = now_ns();
	pvio_blk_close(blk);
	info(phase == 1 ? "blk1-close-time" : "blk2-close-time", "%.2f s",
	     (double)(now_ns() - t1) / 1e9);
	pvio_ctx_free(ctx);
	snprintf(name, sizeof(name), "blk%d", phase);
	check_closed(name, fe, be, refs, nrefs);
	free(img);
	return failures;
}

/* gntalloc's limit (lowered by the harness) against pvio's copy pools:
 * expect "fail" - the open fails with a message naming the shortage -
 * or "ok" - it fits (with a smaller ?indirect=) and reads right. */
static int cmd_blk_limit(const char *addr, uint64_t size, const char *expect)
{
	pvio_ctx *ctx = new_ctx();
	if (!ctx)
		return 1;
	char name[32];
	bool want_ok = !strcmp(expect, "ok");
	snprintf(name, sizeof(name), "blk-limit-%s", want_ok ? "fits" : "short");
	pvio_blk *blk = NULL;
	struct pvio_blk_opts bo = { .struct_size = sizeof(bo), .num_queues = 1,
				    .queue_depth = 64 };
	int r = pvio_blk_open(ctx, addr, &bo, &blk);
	if (!want_ok) {
		if (r >= 0)
			fail(name, "%s opened although gntalloc's limit is too "
				   "low for its pools",
			     addr);
		else if (r != -ENOSPC || !strstr(pvio_errmsg(ctx), "pages"))
			fail(name, "error %d: %s", r, pvio_errmsg(ctx));
		else
			ok(name, "refused with: %s", pvio_errmsg(ctx));
	} else if (r < 0) {
		fail(name, "pvio_blk_open(%s): %s", addr, pvio_errmsg(ctx));
	} else {
		uint8_t *img = malloc(size);
		uint8_t *dma = pvio_dma_alloc(ctx, CHUNK, 4096);
		struct pvio_dev_info di = { .struct_size = sizeof(di) };
		pvio_dev_get_info(pvio_blk_dev(blk), &di);
		if (!img || !dma) {
			fail(name, "out of memory");
		} else {
			/* the disk as phase 2 left it */
			model(img, size, 2, access("/run/blk.state", F_OK) == 0);
			r = pvio_blk_pread(blk, 1u << 20, dma, CHUNK);
			if (r < 0)
				fail(name, "read: %s", strerror(-r));
			else if (differs(dma, img + (1u << 20), CHUNK) >= 0)
				fail(name, "read returned the wrong bytes");
			else
				ok(name, "opened within the limit (%s) and read "
					 "256 KiB right",
				   di.native);
		}
		if (dma)
			pvio_dma_free(ctx, dma);
		free(img);
	}
	if (blk)
		pvio_blk_close(blk);
	pvio_ctx_free(ctx);
	return failures;
}

/* After the device was detached: the bytes through the loop device.
 * O_DIRECT: blkback's writes went to the device, not through the page
 * cache a previous verify may have filled. */
static int cmd_verify(const char *dev, uint64_t size, int phase,
		      const char *state)
{
	char name[32];
	snprintf(name, sizeof(name), "blk%d-landed", phase);
	uint8_t *img = malloc(size), *buf = NULL;
	if (posix_memalign((void **)&buf, 4096, CHUNK))
		buf = NULL;
	int fd = open(dev, O_RDONLY | O_CLOEXEC | O_DIRECT);
	if (!img || !buf || fd < 0) {
		fail(name, "cannot open %s: %s", dev, strerror(errno));
		return 1;
	}
	bool discarded = access(state, F_OK) == 0;
	model(img, size, phase, discarded);
	for (uint64_t off = 0; off < size; off += CHUNK) {
		ssize_t n = pread(fd, buf, CHUNK, (off_t)off);
		if (n != (ssize_t)CHUNK) {
			fail(name, "read %s at %" PRIu64 ": %s", dev, off,
			     n < 0 ? strerror(errno) : "short");
			close(fd);
			return 1;
		}
		int64_t d = differs(buf, img + off, CHUNK);
		if (d >= 0) {
			fail(name, "%s byte %" PRIu64 " is 0x%02x, want 0x%02x",
			     dev, off + (uint64_t)d, buf[d],
			     img[off + (uint64_t)d]);
			close(fd);
			return 1;
		}
	}
	close(fd);
	ok(name, "%s holds every write%s", dev,
	   discarded ? " and the discarded range reads as zeros" : "");
	free(img);
	free(buf);
	return 0;
}

static int cmd_mkimage(const char *path, uint64_t size)
{
	uint8_t *b = malloc(CHUNK);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (!b || fd < 0) {
		fail("mkimage", "%s: %s", path, strerror(errno));
		return 1;
	}
	for (uint64_t off = 0; off < size; off += CHUNK) {
		fill(b, off, CHUNK, SEED_BASE);
		if (pwrite(fd, b, CHUNK, (off_t)off) != (ssize_t)CHUNK) {
			fail("mkimage", "%s: %s", path, strerror(errno));
			close(fd);
			return 1;
		}
	}
	close(fd);
	free(b);
	return 0;
}

/* ---------------------------------------------------------------- network */

static int raw_open(const char *ifname, int *ifindex)
{
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
			htons(ETH_P_ALL));
	if (fd < 0)
		return -errno;
	*ifindex = (int)if_nametoindex(ifname);
	if (!*ifindex) {
		close(fd);
		return -ENODEV;
	}
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_protocol = htons(ETH_P_ALL),
				   .sll_ifindex = *ifindex };
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

/* Next test frame arriving on the interface (not one we sent): its
 * length, 0 on timeout. */
static ssize_t raw_recv(int fd, uint8_t *buf, size_t cap, uint64_t deadline)
{
	for (;;) {
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, buf, cap, 0, (struct sockaddr *)&from,
				     &fl);
		if (n >= 14 && from.sll_pkttype != PACKET_OUTGOING &&
		    buf[12] == ETHERTYPE_TEST >> 8 &&
		    buf[13] == (ETHERTYPE_TEST & 0xff))
			return n;
		if (n >= 0)
			continue;
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
		uint64_t t = now_ns();
		if (t >= deadline)
			return 0;
		struct pollfd p = { .fd = fd, .events = POLLIN };
		poll(&p, 1, (int)((deadline - t) / 1000000 + 1));
	}
}

static int raw_send(int fd, int ifindex, const uint8_t *frame, size_t len)
{
	struct sockaddr_ll to = { .sll_family = AF_PACKET,
				  .sll_ifindex = ifindex, .sll_halen = 6 };
	memcpy(to.sll_addr, frame, 6);
	for (int tries = 0; tries < 1000; tries++) {
		ssize_t n = sendto(fd, frame, len, 0, (struct sockaddr *)&to,
				   sizeof(to));
		if (n == (ssize_t)len)
			return 0;
		if (n < 0 && errno != EAGAIN && errno != ENOBUFS)
			return -errno;
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		poll(&p, 1, 10);
	}
	return -EAGAIN;
}

/* Frame i of a test: dst, src, our ethertype, a tag, then a pattern. */
static size_t make_frame(uint8_t *f, const uint8_t dst[6],
			 const uint8_t src[6], uint32_t tag, uint32_t i)
{
	static const size_t sizes[] = { 60, 64, 128, 333, 512, 1000, 1400,
					1514 };
	size_t len = sizes[i % (sizeof(sizes) / sizeof(sizes[0]))];
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = ETHERTYPE_TEST >> 8;
	f[13] = ETHERTYPE_TEST & 0xff;
	memcpy(f + 14, &tag, 4);
	memcpy(f + 18, &i, 4);
	for (size_t k = 22; k < len; k++)
		f[k] = (uint8_t)(k * 7 + i * 13 + tag);
	return len;
}

/* Wait (bounded) until the interface has carrier. */
static bool wait_carrier(const char *ifname, uint64_t deadline)
{
	char p[128];
	snprintf(p, sizeof(p), "/sys/class/net/%s/carrier", ifname);
	while (now_ns() < deadline) {
		char c = 0;
		int fd = open(p, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			if (read(fd, &c, 1) != 1)
				c = 0;
			close(fd);
		}
		if (c == '1')
			return true;
		poll(NULL, 0, 20);
	}
	return false;
}

#define NET_FRAMES 64u

/* Wait (bounded) for a child to exit, ending it if it does not: its exit
 * status, or -1. */
static int stop_child(pid_t pid)
{
	int st = 0;
	if (pid <= 0)
		return -1;
	for (int i = 0; i < 1500; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
		if (i == 1000)
			kill(pid, SIGTERM);
		poll(NULL, 0, 10);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -1;
}

/* A child that sends frame f into ifname once process waiter sleeps in
 * poll()/ppoll() (its /proc/PID/syscall), so that only an event channel
 * upcall can wake the waiter.  Exit status 0 when it sent the frame. */
static pid_t send_when_sleeping(pid_t waiter, const char *ifname,
				const uint8_t *f, size_t len)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	int ifindex = 0;
	int fd = raw_open(ifname, &ifindex);
	if (fd < 0)
		_exit(2);
	char p[64], b[64];
	snprintf(p, sizeof(p), "/proc/%d/syscall", (int)waiter);
	uint64_t end = now_ns() + 10ull * 1000000000ull;
	while (now_ns() < end) {
		int sfd = open(p, O_RDONLY | O_CLOEXEC);
		ssize_t n = sfd < 0 ? -1 : read(sfd, b, sizeof(b) - 1);
		if (sfd >= 0)
			close(sfd);
		if (n > 0) {
			b[n] = '\0';
			long nr = strtol(b, NULL, 10);
			if (nr == 7 || nr == 271) /* poll, ppoll (x86_64) */
				_exit(raw_send(fd, ifindex, f, len) ? 4 : 0);
		}
		poll(NULL, 0, 1);
	}
	_exit(3);
}

static int cmd_net(const char *addr, const char *ifname, int phase)
{
	char fe[256], be[256], name[64];
	uint32_t refs[2];
	unsigned nrefs = 0;
	static const uint8_t peer[6] = { 0x02, 0x00, 0x00, 0x00, 0xbe, 0xef };

	if (dirs_of(addr, fe, be, sizeof(fe)) < 0) {
		fail("net-nodes", "%s has no back end in xenstore", addr);
		return 1;
	}
	pvio_ctx *ctx = new_ctx();
	if (!ctx)
		return 1;
	snprintf(name, sizeof(name), "net%d-open", phase);
	uint64_t t0 = now_ns();
	pvio_net *net = NULL;
	struct pvio_net_opts no = { .struct_size = sizeof(no), .num_queues = 1 };
	int r = pvio_net_open(ctx, addr, &no, &net);
	if (r < 0) {
		fail(name, "pvio_net_open(%s): %s", addr, pvio_errmsg(ctx));
		pvio_ctx_free(ctx);
		return 1;
	}
	struct pvio_net_info ni = { .struct_size = sizeof(ni) };
	struct pvio_dev_info di = { .struct_size = sizeof(di) };
	pvio_net_get_info(net, &ni);
	pvio_dev_get_info(pvio_net_dev(net), &di);
	char mac[32], p[300], fl[512];
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", ni.mac[0],
		 ni.mac[1], ni.mac[2], ni.mac[3], ni.mac[4], ni.mac[5]);
	char want[32] = "";
	snprintf(p, sizeof(p), "%s/mac", fe);
	xsc_read(p, want, sizeof(want));
	if (strcmp(mac, want)) {
		fail(name, "MAC %s, the toolstack wrote %s", mac, want);
		goto out;
	}
	ok(name, "%s connected in %.2f s: mac %s mtu %u", addr,
	   (double)(now_ns() - t0) / 1e9, mac, ni.mtu);
	char keys[1024];
	if (xsc_dir(be, keys, sizeof(keys)) > 0)
		info("net-backend-keys", "%s", keys);
	info("net-pvio-native", "%s", di.native);
	feature_list(di.features, fl, sizeof(fl));
	info("net-pvio-uses", "%s", fl);
	{
		static const char *const k[] = { "tx-ring-ref", "rx-ring-ref" };
		if (ring_refs(fe, k, 2, refs) == 0)
			nrefs = 2;
	}

	int ifindex = 0;
	int raw = raw_open(ifname, &ifindex);
	if (raw < 0) {
		fail("net-raw", "AF_PACKET on %s: %s", ifname, strerror(-raw));
		goto out;
	}
	uint64_t deadline = now_ns() + 20ull * 1000000000ull;
	if (!wait_carrier(ifname, deadline)) {
		fail("net-carrier", "%s has no carrier 20 s after connect",
		     ifname);
		close(raw);
		goto out;
	}

	/* pvio -> netback -> vifX.Y */
	uint8_t f[1600], g[1600];
	snprintf(name, sizeof(name), "net%d-tx", phase);
	uint32_t tag = 0x7100 + (uint32_t)phase;
	uint32_t got = 0;
	for (uint32_t i = 0; i < NET_FRAMES; i++) {
		size_t len = make_frame(f, peer, ni.mac, tag, i);
		uint64_t end = now_ns() + 10ull * 1000000000ull;
		while ((r = pvio_net_send(net, 0, f, len, NULL)) == -EAGAIN &&
		       now_ns() < end)
			pvio_net_wait(net, 0, 10000000);
		if (r < 0) {
			fail(name, "send of frame %u: %s", i, strerror(-r));
			break;
		}
		ssize_t n = raw_recv(raw, g, sizeof(g),
				     now_ns() + 10ull * 1000000000ull);
		if (n <= 0) {
			fail(name, "frame %u (%zu bytes) did not arrive on %s",
			     i, len, ifname);
			break;
		}
		if ((size_t)n != len || memcmp(f, g, len)) {
			fail(name, "frame %u arrived as %zd bytes, different "
				   "from the %zu sent",
			     i, n, len);
			break;
		}
		got++;
	}
	if (got == NET_FRAMES)
		ok(name, "%u frames (60..1514 bytes) arrived on %s byte for "
			 "byte",
		   got, ifname);

	/* vifX.Y -> netback -> pvio */
	snprintf(name, sizeof(name), "net%d-rx", phase);
	got = 0;
	for (uint32_t i = 0; i < NET_FRAMES; i++) {
		size_t len = make_frame(f, ni.mac, peer, tag + 0x10, i);
		r = raw_send(raw, ifindex, f, len);
		if (r < 0) {
			fail(name, "AF_PACKET send of frame %u: %s", i,
			     strerror(-r));
			break;
		}
		uint64_t end = now_ns() + 10ull * 1000000000ull;
		ssize_t n = 0;
		while (now_ns() < end) {
			n = pvio_net_recv(net, 0, g, sizeof(g), NULL);
			if (n < 0)
				break;
			if (n >= 14 && g[12] == ETHERTYPE_TEST >> 8 &&
			    g[13] == (ETHERTYPE_TEST & 0xff))
				break;
			if (n == 0)
				pvio_net_wait(net, 0, 100000000);
			n = 0; /* some other frame (IPv6 DAD...): skip */
		}
		if (n <= 0) {
			fail(name, "frame %u (%zu bytes) did not reach pvio: %s",
			     i, len, n < 0 ? strerror((int)-n) : "timeout");
			break;
		}
		if ((size_t)n != len || memcmp(f, g, len)) {
			fail(name, "frame %u reached pvio as %zd bytes, "
				   "different from the %zu sent",
			     i, n, len);
			break;
		}
		got++;
	}
	if (got == NET_FRAMES)
		ok(name, "%u frames sent into %s reached pvio byte for byte",
		   got, ifname);

	/* An upcall wakes pvio: it sleeps in poll() on its event channel
	 * descriptors; a child sends the frame only once it sees that.  The
	 * control path (xenstore watch events) may wake it too: such an
	 * attempt proves nothing and is repeated (at most 3 times). */
	snprintf(name, sizeof(name), "net%d-evtchn", phase);
	{
		struct pvio_pkt *none[1];
		struct pvio_event ev;
		struct pvio_queue_stats s0, s1;
		char why[160] = "";
		bool done = false;
		for (int attempt = 0; attempt < 3 && !done; attempt++) {
			/* take back transmit completions (work pvio_net_wait
			 * would return for at once), every received frame,
			 * and the control path's pending events */
			pvio_net_tx_burst(net, 0, none, 0);
			while (pvio_net_recv(net, 0, g, sizeof(g), NULL) > 0)
				;
			while (pvio_dev_next_event(pvio_net_dev(net), &ev) > 0)
				;
			pvio_net_get_stats(net, 0, &s0);
			size_t len = make_frame(f, ni.mac, peer, tag + 0x20,
						(uint32_t)attempt);
			pid_t c = send_when_sleeping(getpid(), ifname, f, len);
			int w = c < 0 ? -ECHILD
				      : pvio_net_wait(net, 0, 15000000000ll);
			int cst = stop_child(c);
			pvio_net_get_stats(net, 0, &s1);
			ssize_t n = 0;
			uint64_t end = now_ns() + 10ull * 1000000000ull;
			while (w >= 0 && now_ns() < end) {
				n = pvio_net_recv(net, 0, g, sizeof(g), NULL);
				if (n < 0 || (n >= 22 && g[12] == ETHERTYPE_TEST >> 8 &&
					      !memcmp(g + 14, f + 14, 8)))
					break;
				n = 0;
				pvio_net_wait(net, 0, 100000000);
			}
			if (cst != 0) {
				snprintf(why, sizeof(why), "the sender never saw "
					 "pvio asleep in poll() (status %d)", cst);
			} else if (w != 1) {
				snprintf(why, sizeof(why), "pvio_net_wait "
					 "returned %d", w);
			} else if ((size_t)n != len || memcmp(f, g, len)) {
				snprintf(why, sizeof(why), "the frame did not "
					 "arrive intact (%zd bytes)", n);
				break;
			} else if (s1.irqs <= s0.irqs) {
				snprintf(why, sizeof(why), "woken, but not by an "
					 "upcall (attempt %d)", attempt + 1);
			} else {
				done = true;
			}
		}
		if (done)
			ok(name, "pvio slept in poll() on its event channels "
				 "and netback's notification woke it (upcalls "
				 "%" PRIu64 " -> %" PRIu64 ")",
			   s0.irqs, s1.irqs);
		else
			fail(name, "%s", why);
	}
	close(raw);

	struct pvio_queue_stats st;
	pvio_net_get_stats(net, 0, &st);
	print_stats(phase == 1 ? "net1-stats" : "net2-stats", &st);
	snprintf(name, sizeof(name), "net%d-grant-live", phase);
	if (nrefs != 2)
		fail(name, "no tx-ring-ref/rx-ring-ref in %s", fe);
	else if ((r = gnt_probe(0, refs[0], NULL)) < 0 ||
		 (r = gnt_probe(0, refs[1], NULL)) < 0)
		fail(name, "a ring grant does not map: %s", strerror(-r));
	else
		ok(name, "TX and RX ring grants %u, %u map", refs[0], refs[1]);

out:;
	uint64_t t1 = now_ns();
	pvio_net_close(net);
	info(phase == 1 ? "net1-close-time" : "net2-close-time", "%.2f s",
	     (double)(now_ns() - t1) / 1e9);
	pvio_ctx_free(ctx);
	snprintf(name, sizeof(name), "net%d", phase);
	check_closed(name, fe, be, refs, nrefs);
	return failures;
}

/* ---------------------------------------------------------------- benchmarks */

static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

#define BENCH_QD 32u
#define BENCH_BS 4096u

/* 4 KiB random reads (then writes) at queue depth 32 for secs each. */
static int bench_blk(pvio_ctx *ctx, const char *addr, double secs,
		     const char *tag)
{
	pvio_blk *blk = NULL;
	struct pvio_blk_opts bo = { .struct_size = sizeof(bo), .num_queues = 1,
				    .queue_depth = BENCH_QD };
	int r = pvio_blk_open(ctx, addr, &bo, &blk);
	if (r < 0) {
		fail("bench-blk", "%s: %s", addr, pvio_errmsg(ctx));
		return -1;
	}
	struct pvio_blk_info bi = { .struct_size = sizeof(bi) };
	pvio_blk_get_info(blk, &bi);
	uint64_t blocks = bi.capacity / BENCH_BS, seed = 0x12345678;
	uint8_t *bufs = pvio_dma_alloc(ctx, BENCH_QD * BENCH_BS, 4096);
	for (int write = 0; bufs && write < 2; write++) {
		uint64_t done = 0, inflight = 0;
		uint64_t t0 = now_ns(), end = t0 + (uint64_t)(secs * 1e9);
		bool stop = false;
		while (!stop || inflight) {
			while (!stop && inflight < BENCH_QD) {
				uint64_t off = (xorshift(&seed) % blocks) *
					       BENCH_BS;
				uint8_t *b = bufs + (done + inflight) %
							    BENCH_QD * BENCH_BS;
				r = write ? pvio_blk_write(blk, 0, off, b,
							   BENCH_BS, NULL, 0)
					  : pvio_blk_read(blk, 0, off, b,
							  BENCH_BS, NULL, 0);
				if (r < 0)
					break;
				inflight++;
			}
			struct pvio_blk_completion c[BENCH_QD];
			int n = pvio_blk_poll(blk, 0, c, 1, BENCH_QD,
					      1000000000ll);
			if (n < 0) {
				fail("bench-blk", "poll: %s", strerror(-n));
				stop = true;
				inflight = 0;
				break;
			}
			for (int j = 0; j < n; j++)
				if (c[j].ret < 0)
					fail("bench-blk", "request: %s",
					     strerror(-c[j].ret));
			inflight -= (uint64_t)n;
			done += (uint64_t)n;
			if (now_ns() >= end)
				stop = true;
		}
		double el = (double)(now_ns() - t0) / 1e9;
		printf("XTEST BENCH %s-blk-rand%s-4k-qd32 %.0f IOPS (%" PRIu64
		       " requests in %.2f s)\n",
		       tag, write ? "write" : "read", (double)done / el, done,
		       el);
		fflush(stdout);
	}
	struct pvio_queue_stats st;
	pvio_blk_get_stats(blk, 0, &st);
	printf("XTEST BENCH %s-blk-per-request %.3f notify_sent %.3f irqs "
	       "%.3f copies\n",
	       tag, (double)st.notify_sent / (double)st.requests,
	       (double)st.irqs / (double)st.requests,
	       (double)st.copies / (double)st.requests);
	if (bufs)
		pvio_dma_free(ctx, bufs);
	pvio_blk_close(blk);
	return 0;
}

/* Echo round trips with a window of frames in flight: the frames pvio
 * sends come back (reflected by the host, or by `reflector` on ifname). */
static int bench_net(pvio_ctx *ctx, const char *addr, double secs,
		     const char *tag, pid_t reflector)
{
	pvio_net *net = NULL;
	struct pvio_net_opts no = { .struct_size = sizeof(no), .num_queues = 1 };
	int r = pvio_net_open(ctx, addr, &no, &net);
	if (r < 0) {
		fail("bench-net", "%s: %s", addr, pvio_errmsg(ctx));
		return -1;
	}
	struct pvio_net_info ni = { .struct_size = sizeof(ni) };
	pvio_net_get_info(net, &ni);
	static const uint8_t peer[6] = { 0x02, 0, 0, 0, 0xbe, 0xef };
	(void)reflector;

	/* 1. TX only: 60-byte frames as fast as the back end takes them */
	uint8_t f[64];
	make_frame(f, peer, ni.mac, 0xb0, 0);
	uint64_t sent = 0, t0 = now_ns(), end = t0 + (uint64_t)(secs * 1e9);
	struct pvio_pkt *rx[64];
	while (now_ns() < end) {
		r = pvio_net_send(net, 0, f, 60, NULL);
		if (r == 0) {
			sent++;
			continue;
		}
		if (r != -EAGAIN) {
			fail("bench-net", "send: %s", strerror(-r));
			break;
		}
		/* drain what comes back so the host never stalls on us */
		int n = pvio_net_rx_burst(net, 0, rx, 64);
		for (int i = 0; i < n; i++)
			pvio_net_pkt_free(net, rx[i]);
		pvio_net_wait(net, 0, 10000000);
	}
	double el = (double)(now_ns() - t0) / 1e9;
	printf("XTEST BENCH %s-net-tx-60b %.0f pps (%" PRIu64 " frames in %.2f s)\n",
	       tag, (double)sent / el, sent, el);
	fflush(stdout);
	/* let the last ones come back, then forget them */
	for (uint64_t q = now_ns() + 500000000ull; now_ns() < q;) {
		int n = pvio_net_rx_burst(net, 0, rx, 64);
		for (int i = 0; i < n; i++)
			pvio_net_pkt_free(net, rx[i]);
		if (n <= 0)
			pvio_net_wait(net, 0, 50000000);
	}

	/* 2. echo: at most 32 frames in flight, count round trips */
	uint64_t echoed = 0, out = 0;
	t0 = now_ns();
	end = t0 + (uint64_t)(secs * 1e9);
	uint64_t hard = end + 10ull * 1000000000ull;
	while (now_ns() < hard && (now_ns() < end ? true : out > echoed)) {
		while (now_ns() < end && out - echoed < 32) {
			make_frame(f, peer, ni.mac, 0xe0, (uint32_t)out);
			if (pvio_net_send(net, 0, f, 60, NULL) < 0)
				break;
			out++;
		}
		int n = pvio_net_rx_burst(net, 0, rx, 64);
		if (n < 0) {
			fail("bench-net", "rx: %s", strerror(-n));
			break;
		}
		for (int i = 0; i < n; i++) {
			const uint8_t *d = rx[i]->data;
			if (rx[i]->len >= 18 && d[12] == ETHERTYPE_TEST >> 8 &&
			    d[13] == (ETHERTYPE_TEST & 0xff) && d[14] == 0xe0)
				echoed++;
			pvio_net_pkt_free(net, rx[i]);
		}
		if (n == 0)
			pvio_net_wait(net, 0, 10000000);
	}
	el = (double)(now_ns() - t0) / 1e9;
	printf("XTEST BENCH %s-net-echo-60b-w32 %.0f pps (%" PRIu64
	       " round trips in %.2f s)\n",
	       tag, (double)echoed / el, echoed, el);
	struct pvio_queue_stats st;
	pvio_net_get_stats(net, 0, &st);
	printf("XTEST BENCH %s-net-per-frame %.3f notify_sent %.3f irqs\n", tag,
	       (double)st.notify_sent / (double)(sent + out),
	       (double)st.irqs / (double)(sent + out));
	fflush(stdout);
	pvio_net_close(net);
	return 0;
}

/* dom0's side of the echo: every test frame arriving on ifname goes
 * back into it. */
static pid_t start_reflector(const char *ifname, double secs)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	int ifindex = 0;
	int fd = raw_open(ifname, &ifindex);
	if (fd < 0)
		_exit(1);
	uint8_t b[2048];
	uint64_t end = now_ns() + (uint64_t)((secs * 3 + 20) * 1e9);
	while (now_ns() < end) {
		ssize_t n = raw_recv(fd, b, sizeof(b), end);
		if (n <= 0)
			break;
		uint8_t t[6];
		memcpy(t, b, 6); /* back to the sender */
		memcpy(b, b + 6, 6);
		memcpy(b + 6, t, 6);
		raw_send(fd, ifindex, b, (size_t)n);
	}
	_exit(0);
}


/* `xtest reflect IFNAME READY SECONDS`: the peer `pvio net loopback`
 * needs in dom0 (init.sh runs it in the background): every test frame
 * arriving on ifname goes back into it, to its sender, from ifname's own
 * MAC.  READY is created once the socket is bound, so no frame sent after
 * it exists is missed; SIGTERM or SECONDS ends it.  One line reports what
 * was reflected (run.sh compares it with what pvio sent). */
static volatile sig_atomic_t reflect_stop;

static void reflect_term(int sig)
{
	(void)sig;
	reflect_stop = 1;
}

static int cmd_reflect(const char *ifname, const char *ready, double secs)
{
	/* SIGTERM is delivered only inside ppoll(), so a stop request can
	 * never slip in between the flag test and the wait */
	sigset_t term, waitmask;
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_BLOCK, &term, &waitmask);
	sigdelset(&waitmask, SIGTERM);
	struct sigaction sa = { .sa_handler = reflect_term };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);

	int ifindex = 0;
	int fd = raw_open(ifname, &ifindex);
	if (fd < 0) {
		fail("reflect", "AF_PACKET on %s: %s", ifname, strerror(-fd));
		return 1;
	}
	/* a window of full-size frames queues here while others go back */
	int rcvbuf = 4 << 20;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
		       sizeof(rcvbuf)) < 0)
		info("reflect", "SO_RCVBUFFORCE: %s (default buffer kept)",
		     strerror(errno));
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
		fail("reflect", "SIOCGIFHWADDR %s: %s", ifname, strerror(errno));
		close(fd);
		return 1;
	}
	uint8_t own[6];
	memcpy(own, ifr.ifr_hwaddr.sa_data, 6);
	int rfd = open(ready, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (rfd < 0) {
		fail("reflect", "%s: %s", ready, strerror(errno));
		close(fd);
		return 1;
	}
	close(rfd);

	uint64_t frames = 0, bytes = 0, unsent = 0;
	uint64_t end = now_ns() + (uint64_t)(secs * 1e9);
	uint8_t b[2048];
	while (!reflect_stop) {
		uint64_t t = now_ns();
		if (t >= end)
			break;
		uint64_t left = end - t;
		struct timespec ts = { .tv_sec = (time_t)(left / 1000000000u),
				       .tv_nsec = (long)(left % 1000000000u) };
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (ppoll(&p, 1, &ts, &waitmask) <= 0)
			continue; /* SIGTERM, or the deadline: the loop decides */
		for (;;) {
			struct sockaddr_ll from;
			socklen_t fl = sizeof(from);
			ssize_t n = recvfrom(fd, b, sizeof(b), MSG_TRUNC,
					     (struct sockaddr *)&from, &fl);
			if (n < 0)
				break; /* EAGAIN: all taken */
			if (n < 14 || (size_t)n > sizeof(b) ||
			    from.sll_pkttype == PACKET_OUTGOING ||
			    b[12] != ETHERTYPE_TEST >> 8 ||
			    b[13] != (ETHERTYPE_TEST & 0xff))
				continue;
			memcpy(b, b + 6, 6);
			memcpy(b + 6, own, 6);
			if (raw_send(fd, ifindex, b, (size_t)n) == 0) {
				frames++;
				bytes += (uint64_t)n;
			} else {
				unsent++;
			}
		}
	}
	close(fd);
	unlink(ready);
	info("reflect", "frames %" PRIu64 " bytes %" PRIu64 " unsent %" PRIu64
			" on %s",
	     frames, bytes, unsent, ifname);
	return unsent ? 1 : 0;
}


static int cmd_bench_blk(const char *addr, double secs, const char *tag)
{
	pvio_ctx *ctx = new_ctx();
	if (!ctx)
		return 1;
	bench_blk(ctx, addr, secs, tag);
	pvio_ctx_free(ctx);
	return failures;
}

static int cmd_bench_net(const char *addr, const char *ifname, double secs,
			 const char *tag)
{
	pvio_ctx *ctx = new_ctx();
	if (!ctx)
		return 1;
	pid_t refl = -1;
	if (strcmp(ifname, "-")) {
		/* the reflector needs the vif up: it is, the harness did it */
		refl = start_reflector(ifname, secs);
	}
	bench_net(ctx, addr, secs, tag, refl);
	stop_child(refl);
	pvio_ctx_free(ctx);
	return failures;
}

/* The same workloads over pvio's simulated Xen host, run here. */
static int cmd_bench_sim(const char *image, double secs)
{
	static char sock[] = "/run/xtest-sim.sock";
	int pfd[2];
	if (pipe(pfd) < 0)
		return 1;
	unlink(sock);
	pid_t pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(pfd[1], 1);
		close(pfd[0]);
		char vbd[256];
		snprintf(vbd, sizeof(vbd), "51712=%s,queues=1", image);
		char *argv[] = { "xen", "--socket", sock, "--vbd", vbd, "--vif",
				 "0,queues=1", "-q", NULL };
		_exit(sim_xen_main(8, argv));
	}
	close(pfd[1]);
	char ready[512];
	size_t got = 0;
	uint64_t end = now_ns() + 20ull * 1000000000ull;
	while (got < sizeof(ready) - 1 && !memchr(ready, '\n', got) &&
	       now_ns() < end) {
		struct pollfd p = { .fd = pfd[0], .events = POLLIN };
		if (poll(&p, 1, 100) <= 0)
			continue;
		ssize_t n = read(pfd[0], ready + got, sizeof(ready) - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	ready[got] = '\0';
	if (!strstr(ready, "pvio-sim-xen ready")) {
		fail("bench-sim", "the simulated Xen host did not start");
		stop_child(pid);
		return 1;
	}
	pvio_ctx *ctx = new_ctx();
	if (ctx) {
		char a[128];
		snprintf(a, sizeof(a), "sim-xen:%s/vbd/51712", sock);
		bench_blk(ctx, a, secs, "sim");
		snprintf(a, sizeof(a), "sim-xen:%s/vif/0", sock);
		bench_net(ctx, a, secs, "sim", -1);
		pvio_ctx_free(ctx);
	}
	stop_child(pid);
	close(pfd[0]);
	return failures;
}

/* ---------------------------------------------------------------- main */

static int usage(void)
{
	fprintf(stderr,
		"usage: xtest mkimage FILE SIZE\n"
		"       xtest blk ADDR SIZE PHASE STATE\n"
		"       xtest verify DEV SIZE PHASE STATE\n"
		"       xtest blk-limit ADDR SIZE ok|fail\n"
		"       xtest net ADDR IFNAME PHASE\n"
		"       xtest bench-blk ADDR SECONDS NAME\n"
		"       xtest bench-net ADDR IFNAME|- SECONDS NAME\n"
		"       xtest reflect IFNAME READY SECONDS\n"
		"       xtest bench-sim IMAGE SECONDS\n");
	return 2;
}

int main(int argc, char **argv)
{
	uint64_t a, b;
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		return usage();
	const char *c = argv[1];
	if (!strcmp(c, "mkimage") && argc == 4 && parse_u64(argv[3], &a))
		rc = cmd_mkimage(argv[2], a);
	else if (!strcmp(c, "blk") && argc == 6 && parse_u64(argv[3], &a) &&
		 parse_u64(argv[4], &b) && (b == 1 || b == 2))
		rc = cmd_blk(argv[2], a, (int)b, argv[5]);
	else if (!strcmp(c, "verify") && argc == 6 && parse_u64(argv[3], &a) &&
		 parse_u64(argv[4], &b) && (b == 1 || b == 2))
		rc = cmd_verify(argv[2], a, (int)b, argv[5]);
	else if (!strcmp(c, "blk-limit") && argc == 5 &&
		 parse_u64(argv[3], &a))
		rc = cmd_blk_limit(argv[2], a, argv[4]);
	else if (!strcmp(c, "net") && argc == 5 && parse_u64(argv[4], &b) &&
		 (b == 1 || b == 2))
		rc = cmd_net(argv[2], argv[3], (int)b);
	else if (!strcmp(c, "bench-blk") && argc == 5)
		rc = cmd_bench_blk(argv[2], atof(argv[3]), argv[4]);
	else if (!strcmp(c, "bench-net") && argc == 6)
		rc = cmd_bench_net(argv[2], argv[3], atof(argv[4]), argv[5]);
	else if (!strcmp(c, "reflect") && argc == 5 && atof(argv[4]) > 0)
		rc = cmd_reflect(argv[2], argv[3], atof(argv[4]));
	else if (!strcmp(c, "bench-sim") && argc == 4)
		rc = cmd_bench_sim(argv[2], atof(argv[3]));
	else
		return usage();
	return rc > 100 ? 100 : rc;
}
