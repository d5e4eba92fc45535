/* SPDX-License-Identifier: MIT */
/*
 * backends/vmbus/hostif_uio.c against hand-made uio_hv_generic devices (no
 * host behind them): what it reads from sysfs and refuses, where its maps
 * land, what a signal writes, which addresses it gives the host, and a
 * device leaving sysfs.  Each case runs in a child with a private mount
 * namespace holding the fake tree (tests/interop/fakeuio.c), so it needs
 * root, as the interop tests do.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backends/vmbus/hostif.h"
#include "fakeuio.h"

#define UUID "f0f0f0f0-0000-4000-8000-000000000001"
#define RING 0x2000u /* per direction */
#define FILE_SIZE 0x25000u

static char dir[64];

static void put(const char *rel, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void put(const char *rel, const char *fmt, ...)
{
	char path[256], cmd[300];
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	char *slash = strrchr(path, '/');
	*slash = 0;
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", path);
	if (system(cmd) != 0)
		abort();
	*slash = '/';
	FILE *f = fopen(path, "w");
	va_list ap;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fclose(f);
}

#define DEV "vmbus/devices/" UUID
#define MAPS DEV "/uio/uio0/maps"

/* A NetVSC device bound to uio_hv_generic, laid out as the simulated
 * host's door does it. */
static void make_tree(void)
{
	strcpy(dir, "/tmp/vmbus_uio.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	put(DEV "/class_id", "{f8615163-df3e-46c5-913f-f2d2f965ed0e}\n");
	put(DEV "/device_id", "{" UUID "}\n");
	put(DEV "/id", "14\n");
	put(DEV "/monitor_id", "64\n");
	static const struct {
		const char *name;
		unsigned size;
	} m[5] = { { "txrx_rings", 2 * RING }, { "int_page", 0x1000 },
		   { "monitor_page", 0x1000 }, { "recv:4660", 0x21000 },
		   { "send:4661", 0x10000 } };
	for (int i = 0; i < 5; i++) {
		char rel[128];
		snprintf(rel, sizeof(rel), MAPS "/map%d/name", i);
		put(rel, "%s\n", m[i].name);
		snprintf(rel, sizeof(rel), MAPS "/map%d/size", i);
		put(rel, "0x%08x\n", m[i].size);
	}
	char path[128];
	snprintf(path, sizeof(path), "%s/dev", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/dev/uio0", dir);
	int fd = open(path, O_CREAT | O_RDWR, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, FILE_SIZE), 0);
	close(fd);
}

static void rm_tree(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		abort();
}

static int bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int bad(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	return 1;
}

/* Run fn in the namespace; its output is the failure message. */
static void run(int (*fn)(void *), const char *arg)
{
	char why[160];
	if (!fu_can_run(why, sizeof(why)))
		ck_abort_msg("this test %s", why);
	struct fu_child c;
	ck_assert_int_eq(fu_spawn(&c, dir, 1, NULL, fn, (void *)arg), 0);
	char line[512] = "";
	fu_expect(&c, "", line, sizeof(line), 10000);
	int st = fu_wait(&c, 10000);
	ck_assert_msg(st == 0, "%s (exit %d, log %s)", line, st, c.log);
}

static pvio_ctx *new_ctx(void)
{
	pvio_ctx *ctx = NULL;
	struct pvio_ctx_opts o = { .struct_size = sizeof(o),
				   .dma_pool_size = 1 << 20 };
	return pvio_ctx_new(&o, &ctx) == 0 ? ctx : NULL;
}

/* ------------------------------------------------------------------ */

static int c_maps_and_signal(void *arg)
{
	(void)arg;
	pvio_ctx *ctx = new_ctx();
	struct vmbus_hostif *h = NULL;
	if (vmbus_hostif_uio_open(ctx, UUID, NULL, &h) < 0)
		return bad("open: %s", pvio_errmsg(ctx));
	struct vmbus_offer o;
	if (h->ops->find(h, &vmbus_guid_storvsc, 0, &o) != -ENODEV)
		return bad("found a storvsc in a NetVSC device");
	if (h->ops->find(h, &vmbus_guid_netvsc, 0, &o) < 0 || o.relid != 14 ||
	    o.monitor_id != 64 || !o.monitor_allocated)
		return bad("offer relid %u monitor %u", o.relid, o.monitor_id);
	/* our own view of the device file */
	int fd = open("/dev/uio0", O_RDWR);
	uint8_t *f = mmap(NULL, FILE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
			  fd, 0);
	if (f == MAP_FAILED)
		return bad("mmap /dev/uio0");
	/* a fresh ring where the kernel left it: indices 8 and 16 */
	pvio_write32(f, 8);
	pvio_write32(f + RING + 4, 16);
	struct vmbus_chan ch;
	memset(&ch, 0, sizeof(ch));
	ch.offer = o;
	if (h->ops->open(h, &ch, 256 * 1024) < 0)
		return bad("chan open: %s", pvio_errmsg(ctx));
	if (ch.tx.size != RING - 4096 || ch.rx.size != RING - 4096 ||
	    ch.tx.priv != 8 || ch.rx.priv != 16)
		return bad("rings %u/%u at %u/%u", ch.tx.size, ch.rx.size,
			    ch.tx.priv, ch.rx.priv);
	/* the TX ring is map0's first half, RX its second */
	const char *why = "";
	uint8_t pkt[16] = { 6, 0, 2, 0, 2, 0, 1, 0, 9 };
	struct vmbus_iov iov = { pkt, 16 };
	if (vmbus_ring_write(&ch.tx, &iov, 1, &why) < 0)
		return bad("ring write: %s", why);
	vmbus_ring_publish(&ch.tx);
	if (pvio_read32(f) != 32 || memcmp(f + 4096 + 8, pkt, 16))
		return bad("TX packet not at map0 + 4096 + 8 (write index %u)",
			    pvio_read32(f));
	/* a signal sets bit 64 % 32 of trigger group 64 / 32 of map2 */
	h->ops->signal(h, &ch);
	if (pvio_read32(f + 0x2000 + 8 + 8 * 2) != 1)
		return bad("monitor trigger group 2 holds %#x",
			    pvio_read32(f + 0x2000 + 8 + 8 * 2));
	/* the latency asked for: 50 us in 100 ns units */
	if (pvio_read16(f + 0x2000 + 576 + 2 * 64) != 500)
		return bad("latency %u", pvio_read16(f + 0x2000 + 576 + 128));
	/* the kernel's buffers, whatever size pvio asks for */
	struct vmbus_buf b;
	if (h->ops->buf_get(h, &ch, VMBUS_BUF_RECV, 4 << 20, &b) < 0 ||
	    b.len != 0x21000 || b.gpadl != 4660 || b.gpadl_live)
		return bad("recv buffer %zu bytes gpadl %u", b.len, b.gpadl);
	((uint8_t *)b.va)[0x20000] = 0x5a;
	if (f[3 * 4096 + 0x20000] != 0x5a)
		return bad("recv buffer is not map3");
	h->ops->buf_put(h, &ch, &b);
	if (h->ops->buf_get(h, &ch, VMBUS_BUF_SEND, 1 << 20, &b) < 0 ||
	    b.len != 0x10000 || b.gpadl != 4661)
		return bad("send buffer %zu bytes gpadl %u", b.len, b.gpadl);
	/* a regular file is the simulated host's device: virtual addresses,
	 * no interrupt descriptor */
	void *d = pvio_dma_alloc(ctx, 8192, 4096);
	uint64_t da;
	pvio_dma_translate(ctx, d, 8192, &da);
	if (vmbus_pfn(h, da + 4096) != ((uint64_t)(uintptr_t)d >> 12) + 1)
		return bad("pfn %#llx for va %p",
			    (unsigned long long)vmbus_pfn(h, da + 4096), d);
	if (h->ops->irq_fd(h, &ch) != -EOPNOTSUPP)
		return bad("an interrupt fd from a regular file");
	/* the device leaves sysfs (rescind): the channel is gone */
	if (h->ops->service(h) != 0 || vmbus_chan_gone(&ch))
		return bad("gone too early");
	unlink("/sys/bus/vmbus/devices/" UUID "/id");
	if (h->ops->service(h) == 0 || !vmbus_chan_gone(&ch) || !h->lost)
		return bad("rescind not seen");
	h->ops->close(h, &ch);
	h->ops->free(h);
	pvio_ctx_free(ctx);
	return 0;
}

START_TEST(maps_signal_addresses_rescind)
{
	make_tree();
	run(c_maps_and_signal, NULL);
	rm_tree();
}
END_TEST

/* ?iova=pa: the frame numbers of the pool's pages, as the kernel has
 * them (as root: /proc/self/pagemap). */
static int c_physical(void *arg)
{
	(void)arg;
	pvio_ctx *ctx = new_ctx();
	struct vmbus_hostif *h = NULL;
	if (vmbus_hostif_uio_open(ctx, UUID, "iova=pa", &h) < 0)
		return bad("open: %s", pvio_errmsg(ctx));
	uint8_t *d = pvio_dma_alloc(ctx, 3 * 4096, 4096);
	uint64_t da;
	pvio_dma_translate(ctx, d, 3 * 4096, &da);
	int pm = open("/proc/self/pagemap", O_RDONLY);
	for (int i = 0; i < 3; i++) {
		uint64_t e = 0;
		if (pread(pm, &e, 8, (off_t)(((uintptr_t)d / 4096 + i) * 8)) != 8)
			return bad("pagemap");
		uint64_t pfn = e & ((1ull << 55) - 1);
		if (!pfn || vmbus_pfn(h, da + i * 4096u + 100) != pfn)
			return bad("page %d: pfn %#llx, pagemap %#llx", i,
				    (unsigned long long)vmbus_pfn(h, da + i * 4096u),
				    (unsigned long long)pfn);
	}
	close(pm);
	h->ops->free(h);
	pvio_ctx_free(ctx);
	return 0;
}

START_TEST(physical_addresses)
{
	make_tree();
	run(c_physical, NULL);
	rm_tree();
}
END_TEST

/* Each broken tree is refused with a message that says what to do. */
static int c_refused(void *arg)
{
	const char *want = arg;
	pvio_ctx *ctx = new_ctx();
	pvio_dev *dev = NULL;
	int r = pvio_dev_open(ctx, "vmbus-uio:" UUID, &dev);
	if (r >= 0)
		return bad("opened");
	if (!strstr(pvio_errmsg(ctx), want))
		return bad("message '%s' lacks '%s'", pvio_errmsg(ctx), want);
	pvio_ctx_free(ctx);
	return 0;
}

START_TEST(refusals)
{
	make_tree();
	/* not bound to uio_hv_generic */
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "mv %s/" DEV "/uio %s/uio.off", dir, dir);
	ck_assert_int_eq(system(cmd), 0);
	run(c_refused, "uio_hv_generic");
	snprintf(cmd, sizeof(cmd), "mv %s/uio.off %s/" DEV "/uio", dir, dir);
	ck_assert_int_eq(system(cmd), 0);
	/* a map that is not what uio_hv_generic makes */
	put(MAPS "/map3/name", "recv\n");
	run(c_refused, "map 3");
	put(MAPS "/map3/name", "recv:0\n");
	run(c_refused, "GPADL");
	put(MAPS "/map3/name", "recv:4660\n");
	put(MAPS "/map0/size", "0x2000\n");
	run(c_refused, "cannot hold two rings");
	put(MAPS "/map0/size", "0x4000\n");
	/* a monitor id user space cannot signal */
	put(DEV "/monitor_id", "200\n");
	run(c_refused, "monitor id");
	put(DEV "/monitor_id", "64\n");
	/* a disk: pvio drives NetVSC only this way */
	put(DEV "/class_id", "{ba6163d9-04a1-4d29-b605-72e2ffb1dc7f}\n");
	run(c_refused, "not a synthetic NIC");
	rm_tree();
	/* no such device */
	make_tree();
	snprintf(cmd, sizeof(cmd), "rm -rf %s/" DEV, dir);
	ck_assert_int_eq(system(cmd), 0);
	run(c_refused, "no VMBus device");
	rm_tree();
}
END_TEST

static int c_bad_address(void *arg)
{
	(void)arg;
	pvio_ctx *ctx = new_ctx();
	pvio_dev *dev = NULL;
	if (pvio_dev_open(ctx, "vmbus-uio:not-a-uuid", &dev) != -EINVAL ||
	    !strstr(pvio_errmsg(ctx), "vmbus-uio:UUID"))
		return bad("bad uuid: %s", pvio_errmsg(ctx));
	if (pvio_dev_open(ctx, "vmbus-uio:" UUID "?iova=xy", &dev) != -EINVAL ||
	    !strstr(pvio_errmsg(ctx), "iova"))
		return bad("bad option: %s", pvio_errmsg(ctx));
	pvio_ctx_free(ctx);
	return 0;
}

START_TEST(bad_addresses)
{
	make_tree();
	run(c_bad_address, NULL);
	rm_tree();
}
END_TEST

int main(void)
{
	char why[160];
	if (!fu_can_run(why, sizeof(why))) {
		fprintf(stderr, "test_vmbus_uio: skipped: it %s\n", why);
		return 77;
	}
	Suite *s = suite_create("vmbus-uio");
	TCase *tc = tcase_create("hostif");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, maps_signal_addresses_rescind);
	tcase_add_test(tc, physical_addresses);
	tcase_add_test(tc, refusals);
	tcase_add_test(tc, bad_addresses);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
