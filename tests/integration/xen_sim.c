/* SPDX-License-Identifier: MIT */
/*
 * The Xen back end against pvio's simulated Xen host (`pvio sim xen`,
 * sim/xen, written independently from docs/sim-hostif.md): started here
 * in a temporary directory on a unix socket, stopped by pid also when a
 * test fails (and killed with us if we die: PR_SET_PDEATHSIG).
 *
 * Through the transport contract (pvio_dev_open("sim-xen:...")): a disk
 * image read and written with many requests in flight and checked in the
 * file itself, a read-only disk, a vif in reflect mode, what Debian's
 * xenstore-utils see of our keys (XENSTORED_PATH), and the host's fault
 * injection (`pvio sim ctl`): corrupted responses break the device with a
 * reason, a back end closing or unplugging removes it without a hang, link
 * and size changes arrive as events.
 *
 * Exit 77 (skip) only when this build's pvio has no `sim xen`.
 */
#include <check.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <pvio/blk.h>
#include <pvio/net.h>
#include <pvio/transport.h>

#define IMG_SIZE (8u << 20)

static const char *pvio_bin;
static char dir[64], sock[96], img[96], img2[96];
static pid_t sim_pid = -1;

static uint64_t ms_now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

static void make_image(const char *path, uint8_t seed)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		abort();
	static uint8_t buf[65536];
	for (uint32_t off = 0; off < IMG_SIZE; off += sizeof(buf)) {
		for (uint32_t i = 0; i < sizeof(buf); i++)
			buf[i] = (uint8_t)((off + i) / 512 + seed);
		if (pwrite(fd, buf, sizeof(buf), off) != (ssize_t)sizeof(buf))
			abort();
	}
	close(fd);
}

static void sim_stop(void)
{
	if (sim_pid <= 0)
		return;
	kill(sim_pid, SIGTERM);
	uint64_t end = ms_now() + 10000;
	int st;
	while (waitpid(sim_pid, &st, WNOHANG) == 0) {
		if (ms_now() > end) {
			kill(sim_pid, SIGKILL);
			waitpid(sim_pid, &st, 0);
			break;
		}
		poll(NULL, 0, 20);
	}
	sim_pid = -1;
	unlink(img);
	unlink(img2);
	unlink(sock);
	rmdir(dir);
}

static void sim_start(void)
{
	snprintf(dir, sizeof(dir), "/tmp/pvio-xen-it-XXXXXX");
	if (!mkdtemp(dir))
		abort();
	snprintf(sock, sizeof(sock), "%s/xen.sock", dir);
	snprintf(img, sizeof(img), "%s/disk.img", dir);
	snprintf(img2, sizeof(img2), "%s/ro.img", dir);
	make_image(img, 0);
	make_image(img2, 100);
	char vbd1[160], vbd2[160], vbd3[160], vbd4[160], vbd5[160];
	snprintf(vbd1, sizeof(vbd1), "51712=%s", img);
	snprintf(vbd2, sizeof(vbd2), "51728=%s,ro", img2);
	snprintf(vbd3, sizeof(vbd3), "51744=%s,no-persistent", img);
	snprintf(vbd4, sizeof(vbd4), "51760=%s", img);
	snprintf(vbd5, sizeof(vbd5), "51776=%s,sector-size=4096", img);
	int pfd[2];
	if (pipe(pfd))
		abort();
	sim_pid = fork();
	if (sim_pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(pfd[1], 1);
		close(pfd[0]);
		execl(pvio_bin, "pvio", "sim", "xen", "--socket", sock, "--quiet",
		      "--vbd", vbd1, "--vbd", vbd2, "--vbd", vbd3, "--vbd", vbd4,
		      "--vbd", vbd5, "--vif", "0,mac=02:00:00:00:00:10",
		      "--vif", "1,mac=02:00:00:00:00:11,no-split", (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	/* wait (bounded) for the ready line */
	char line[512] = "";
	size_t got = 0;
	uint64_t end = ms_now() + 20000;
	while (!strstr(line, "pvio-sim-xen ready")) {
		struct pollfd p = { .fd = pfd[0], .events = POLLIN };
		if (ms_now() > end || poll(&p, 1, 200) < 0)
			break;
		if (p.revents) {
			ssize_t n = read(pfd[0], line + got, sizeof(line) - 1 - got);
			if (n <= 0)
				break;
			got += (size_t)n;
		}
		line[got] = '\0';
	}
	close(pfd[0]);
	if (!strstr(line, "pvio-sim-xen ready")) {
		sim_stop();
		fprintf(stderr, "the simulated Xen host did not start\n");
		abort();
	}
}

extern char **environ;

/* Run a tool with XENSTORED_PATH pointing at the host; its exit status
 * (-1 if it could not run or did not finish in 20 s) and stdout. */
static int run(const char *const argv[], char *out, size_t cap)
{
	int pfd[2];
	if (pipe(pfd))
		return -1;
	char env0[160];
	snprintf(env0, sizeof(env0), "XENSTORED_PATH=%s", sock);
	size_t ne = 0;
	while (environ[ne])
		ne++;
	char **envp = calloc(ne + 2, sizeof(char *));
	if (!envp)
		return -1;
	for (size_t i = 0; i < ne; i++)
		envp[i] = environ[i];
	envp[ne] = env0;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
	posix_spawn_file_actions_addclose(&fa, pfd[0]);
	pid_t pid;
	int r = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv,
			     envp);
	posix_spawn_file_actions_destroy(&fa);
	free(envp);
	close(pfd[1]);
	if (r) {
		close(pfd[0]);
		return -1;
	}
	size_t got = 0;
	int st = -1;
	bool eof = false;
	uint64_t end = ms_now() + 20000;
	for (;;) {
		struct pollfd p = { .fd = pfd[0], .events = POLLIN };
		if (!eof && poll(&p, 1, 50) > 0) {
			char tmp[4096];
			ssize_t n = read(pfd[0], tmp, sizeof(tmp));
			if (n <= 0) {
				eof = true;
			} else {
				size_t c = (size_t)n < cap - 1 - got
						   ? (size_t)n
						   : cap - 1 - got;
				memcpy(out + got, tmp, c);
				got += c;
			}
		} else if (eof) {
			poll(NULL, 0, 10);
		}
		if (eof && waitpid(pid, &st, WNOHANG) == pid)
			break;
		if (ms_now() > end) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			st = -1;
			break;
		}
	}
	out[got] = '\0';
	close(pfd[0]);
	return st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void ctl(const char *cmd, const char *dev, const char *arg)
{
	char out[4096];
	const char *argv[] = { pvio_bin, "sim", "ctl", sock, cmd, dev, arg, NULL };
	ck_assert_msg(run(argv, out, sizeof(out)) == 0, "sim ctl %s %s: %s",
		      cmd, dev, out);
}

/* ---------------------------------------------------------------- helpers */

static pvio_ctx *ctx;

static void setup(void)
{
	struct pvio_ctx_opts o = { .struct_size = sizeof(o),
				   .dma_pool_size = 64u << 20,
				   .log_level = PVIO_LOG_ERROR,
				   .timeout_ms = 8000 };
	ck_assert_int_eq(pvio_ctx_new(&o, &ctx), 0);
}

static void teardown(void)
{
	pvio_ctx_free(ctx);
}

static pvio_dev *open_dev(const char *spec, unsigned queues, unsigned tags,
			  uint64_t want)
{
	char a[200];
	pvio_dev *dev;
	snprintf(a, sizeof(a), "sim-xen:%s/%s", sock, spec);
	int r = pvio_dev_open(ctx, a, &dev);
	ck_assert_msg(r == 0, "open %s: %s", a, pvio_errmsg(ctx));
	struct pvio_dev_config cfg = { .num_queues = queues, .max_tags = tags,
				       .want = want };
	r = pvio_dev_configure(dev, &cfg);
	ck_assert_msg(r == 0, "configure %s: %s", a, pvio_errmsg(ctx));
	return dev;
}

static int enqueue_rw(pvio_dev *dev, unsigned q, uint8_t op, uint64_t off,
		      uint8_t *buf, uint32_t len, uint32_t tag)
{
	struct pvio_dseg s[64];
	unsigned n = 0;
	for (uint32_t o = 0; o < len; n++) {
		uint64_t a;
		ck_assert_int_eq(pvio_dma_translate(ctx, buf + o, 1, &a), 0);
		uint32_t l = 4096 - (uint32_t)(a & 4095);
		if (l > len - o)
			l = len - o;
		s[n] = (struct pvio_dseg){ buf + o, a, l };
		o += l;
	}
	struct pvio_blk_dreq r = { .tag = tag, .op = op, .nseg = (uint16_t)n,
				   .offset = off, .len = len, .seg = s };
	return dev->ops->blk->enqueue(dev, q, &r);
}

/* reap until n completions (all must succeed); bounded */
static void reap_all(pvio_dev *dev, unsigned q, unsigned n, int want_status)
{
	struct pvio_blk_dcomp c[64];
	uint64_t deadline = pvio_deadline(ctx);
	while (n) {
		int k = dev->ops->blk->reap(dev, q, c, 64);
		ck_assert_msg(k >= 0, "reap: %d (%s)", k,
			      dev->reason[0] ? dev->reason : "");
		for (int i = 0; i < k; i++)
			ck_assert_int_eq(c[i].status, want_status);
		n -= (unsigned)k;
		if (n && !k) {
			ck_assert_uint_lt(pvio_now_ns(ctx), deadline);
			ck_assert_int_ge(pvio_dev_wait(dev, q, deadline), 0);
		}
	}
}

static void file_read(const char *path, uint64_t off, void *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, buf, len, (off_t)off), (ssize_t)len);
	close(fd);
}

/* ---------------------------------------------------------------- tests */

/* spec's device writes 4 MiB at base (the devices share one image) */
static void disk_roundtrip(const char *spec, uint64_t base, bool expect_copies)
{
	pvio_dev *dev = open_dev(spec, 2, 32, 0);
	ck_assert_uint_eq(dev->limits.blk.capacity, IMG_SIZE);
	ck_assert_uint_eq(dev->info.num_queues, 2);
	uint8_t *buf = pvio_dma_alloc(ctx, 32 * 65536, 4096);
	ck_assert_ptr_nonnull(buf);
	/* the image's own contents arrive */
	static uint8_t chk[65536];
	ck_assert_int_eq(enqueue_rw(dev, 0, PVIO_BLK_OP_READ, base + 3 * 512,
				    buf, 4096, 1),
			 0);
	dev->ops->blk->kick(dev, 0);
	reap_all(dev, 0, 1, 0);
	file_read(img, base + 3 * 512, chk, 4096);
	ck_assert_int_eq(memcmp(buf, chk, 4096), 0);
	/* 32 writes of 64 KiB in flight on each queue */
	for (unsigned q = 0; q < 2; q++) {
		for (uint32_t t = 0; t < 32; t++) {
			uint8_t *b = buf + (size_t)t * 65536;
			for (uint32_t i = 0; i < 65536; i++)
				b[i] = (uint8_t)(i * 3 + t + q * 77);
			uint64_t off = base + ((uint64_t)q * 32 + t) * 65536;
			ck_assert_int_eq(enqueue_rw(dev, q, PVIO_BLK_OP_WRITE,
						    off, b, 65536, t),
					 0);
		}
		ck_assert_int_eq(dev->ops->blk->kick(dev, q), 0);
		reap_all(dev, q, 32, 0);
	}
	if (dev->limits.blk.flush) {
		struct pvio_blk_dreq f = { .tag = 99, .op = PVIO_BLK_OP_FLUSH };
		ck_assert_int_eq(dev->ops->blk->enqueue(dev, 0, &f), 0);
		dev->ops->blk->kick(dev, 0);
		reap_all(dev, 0, 1, 0);
	}
	/* the file has it */
	for (unsigned q = 0; q < 2; q++)
		for (uint32_t t = 0; t < 32; t++) {
			file_read(img, base + ((uint64_t)q * 32 + t) * 65536, chk,
				  65536);
			for (uint32_t i = 0; i < 65536; i += 511)
				ck_assert_uint_eq(chk[i], (uint8_t)(i * 3 + t + q * 77));
		}
	/* and reads give it back */
	memset(buf, 0, 65536);
	ck_assert_int_eq(enqueue_rw(dev, 1, PVIO_BLK_OP_READ, base + 40 * 65536,
				    buf, 65536, 5),
			 0);
	dev->ops->blk->kick(dev, 1);
	reap_all(dev, 1, 1, 0);
	for (uint32_t i = 0; i < 65536; i++)
		ck_assert_uint_eq(buf[i], (uint8_t)(i * 3 + 8 + 77));
	ck_assert_uint_gt(dev->stats[0].notify_sent, 0);
	if (expect_copies)
		ck_assert_uint_gt(dev->stats[0].copies, 0);
	else
		ck_assert_uint_eq(dev->stats[0].copies, 0);
	pvio_dev_close(dev);
	pvio_dma_free(ctx, buf);
}

START_TEST(disk_with_persistent_grants)
{
	disk_roundtrip("vbd/51712", 0, true);
}
END_TEST

START_TEST(disk_with_direct_grants)
{
	disk_roundtrip("vbd/51744", 4u << 20, false);
}
END_TEST

START_TEST(read_only_disk_and_large_sectors)
{
	pvio_dev *dev = open_dev("vbd/51728", 1, 8, 0);
	ck_assert(dev->limits.blk.read_only);
	uint8_t *buf = pvio_dma_alloc(ctx, 4096, 4096);
	ck_assert_int_eq(enqueue_rw(dev, 0, PVIO_BLK_OP_WRITE, 0, buf, 4096, 1),
			 -EROFS);
	ck_assert_int_eq(enqueue_rw(dev, 0, PVIO_BLK_OP_READ, 0, buf, 4096, 1), 0);
	dev->ops->blk->kick(dev, 0);
	reap_all(dev, 0, 1, 0);
	ck_assert_uint_eq(buf[0], 100);
	pvio_dev_close(dev);
	dev = open_dev("vbd/51776", 1, 8, 0);
	ck_assert_uint_eq(dev->limits.blk.block_size, 4096);
	ck_assert_uint_eq(dev->limits.blk.capacity, IMG_SIZE);
	ck_assert_int_eq(enqueue_rw(dev, 0, PVIO_BLK_OP_READ, 512, buf, 4096, 1),
			 -EINVAL);
	ck_assert_int_eq(enqueue_rw(dev, 0, PVIO_BLK_OP_READ, 8192, buf, 4096, 1), 0);
	dev->ops->blk->kick(dev, 0);
	reap_all(dev, 0, 1, 0);
	uint8_t want[4096];
	file_read(img, 8192, want, 4096);
	ck_assert_int_eq(memcmp(buf, want, 4096), 0);
	pvio_dev_close(dev);
	pvio_dma_free(ctx, buf);
}
END_TEST

START_TEST(xenstore_utils_see_our_keys)
{
	pvio_dev *dev = open_dev("vbd/51712", 1, 8, 0);
	/* the guest's domain id: the one whose device directory exists */
	char out[4096];
	const char *ls[] = { "xenstore-list", "/local/domain", NULL };
	ck_assert_int_eq(run(ls, out, sizeof(out)), 0);
	int dom = -1;
	for (char *p = strtok(out, "\n"); p; p = strtok(NULL, "\n"))
		if (atoi(p) > 0)
			dom = atoi(p);
	ck_assert_int_gt(dom, 0);
	char path[128];
	snprintf(path, sizeof(path), "/local/domain/%d/device/vbd/51712/state", dom);
	const char *rd[] = { "xenstore-read", path, NULL };
	ck_assert_int_eq(run(rd, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "4\n");
	snprintf(path, sizeof(path), "/local/domain/%d/device/vbd/51712/protocol", dom);
	ck_assert_int_eq(run(rd, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "x86_64-abi\n");
	snprintf(path, sizeof(path), "/local/domain/0/backend/vbd/%d/51712/state", dom);
	ck_assert_int_eq(run(rd, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "4\n");
	pvio_dev_close(dev);
	/* closed and detached: the directory is gone */
	snprintf(path, sizeof(path), "/local/domain/%d/device/vbd/51712/state", dom);
	ck_assert_int_ne(run(rd, out, sizeof(out)), 0);
}
END_TEST

static void post_all(pvio_dev *dev, uint8_t **pages, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct pvio_net_rxb b = { .tag = i, .seg = { pages[i], 0, 4096 } };
		pvio_dma_translate(ctx, pages[i], 4096, &b.seg.dev_addr);
		ck_assert_int_eq(dev->ops->net->rx_post(dev, 0, &b), 0);
	}
	ck_assert_int_eq(dev->ops->net->kick(dev, 0, PVIO_NET_KICK_RX), 0);
}

static void net_reflect(const char *spec)
{
	pvio_dev *dev = open_dev(spec, 1, 256, PVIO_F_NET_CSUM_RX);
	ck_assert(dev->limits.net.link_up);
	uint8_t *pages[64];
	for (int i = 0; i < 64; i++)
		pages[i] = pvio_dma_alloc(ctx, 4096, 4096);
	post_all(dev, pages, 32);
	uint8_t *tx = pvio_dma_alloc(ctx, 16 * 4096, 4096);
	for (uint32_t f = 0; f < 16; f++) {
		uint8_t *p = tx + f * 4096;
		memset(p, 0xff, 6);               /* broadcast */
		memcpy(p + 6, dev->limits.net.mac, 6);
		p[12] = 0x88;
		p[13] = 0xb5;                     /* experimental ethertype */
		for (uint32_t i = 14; i < 1000; i++)
			p[i] = (uint8_t)(i + f);
		struct pvio_dseg s = { p, 0, 1000 };
		pvio_dma_translate(ctx, p, 1000, &s.dev_addr);
		struct pvio_net_txd t = { .tag = f, .nseg = 1, .len = 1000,
					  .seg = &s };
		ck_assert_int_eq(dev->ops->net->tx_enqueue(dev, 0, &t), 0);
	}
	ck_assert_int_eq(dev->ops->net->kick(dev, 0, PVIO_NET_KICK_TX), 0);
	unsigned txdone = 0, rxdone = 0;
	uint64_t deadline = pvio_deadline(ctx);
	while ((txdone < 16 || rxdone < 16) && pvio_now_ns(ctx) < deadline) {
		uint32_t tags[16];
		int k = dev->ops->net->tx_reap(dev, 0, tags, 16);
		ck_assert_int_ge(k, 0);
		txdone += (unsigned)k;
		struct pvio_net_rxc rc[16];
		int r = dev->ops->net->rx_reap(dev, 0, rc, 16);
		ck_assert_int_ge(r, 0);
		for (int i = 0; i < r; i++) {
			ck_assert_int_eq(rc[i].status, 0);
			ck_assert_uint_eq(rc[i].len, 1000);
			uint8_t *d = pages[rc[i].tag] + rc[i].offset;
			uint32_t f = (uint32_t)(d[20] - 20);
			for (uint32_t j = 14; j < 1000; j++)
				ck_assert_uint_eq(d[j], (uint8_t)(j + f));
		}
		rxdone += (unsigned)r;
		if (!k && !r)
			ck_assert_int_ge(pvio_dev_wait(dev, 0, deadline), 0);
	}
	ck_assert_uint_eq(txdone, 16);
	ck_assert_uint_eq(rxdone, 16);
	pvio_dev_close(dev);
	for (int i = 0; i < 64; i++)
		pvio_dma_free(ctx, pages[i]);
	pvio_dma_free(ctx, tx);
}

START_TEST(vif_reflects_frames)
{
	net_reflect("vif/0");
}
END_TEST

START_TEST(vif_without_split_channels_in_copy_mode)
{
	net_reflect("vif/1?copy=1");
}
END_TEST

START_TEST(link_changes_are_events)
{
	pvio_dev *dev = open_dev("vif/0", 1, 64, 0);
	struct pvio_event ev;
	while (pvio_dev_next_event(dev, &ev) == 1)
		;
	ctl("link", "vif/0", "down");
	uint64_t deadline = pvio_deadline(ctx);
	int got = 0;
	while (!got && pvio_now_ns(ctx) < deadline) {
		got = pvio_dev_next_event(dev, &ev);
		ck_assert_int_ge(got, 0);
		if (!got) {
			struct pollfd p = { .fd = pvio_dev_event_fd(dev),
					    .events = POLLIN };
			poll(&p, 1, 100);
		}
	}
	ck_assert_int_eq(got, 1);
	ck_assert_int_eq(ev.type, PVIO_EVENT_LINK_CHANGE);
	ck_assert_uint_eq(ev.value, 0);
	ctl("link", "vif/0", "up");
	pvio_dev_close(dev);
}
END_TEST

START_TEST(corrupt_responses_break_the_device)
{
	static const char *const kinds[] = { "id", "status", "op", "rsp-prod" };
	static const char *const why[] = { "response id", "unknown status",
					   "operation", "beyond the requests" };
	for (unsigned k = 0; k < 4; k++) {
		pvio_dev *dev = open_dev("vbd/51760", 1, 8, 0);
		uint8_t *buf = pvio_dma_alloc(ctx, 4096, 4096);
		ctl("corrupt", "vbd/51760", kinds[k]);
		ck_assert_int_eq(enqueue_rw(dev, 0, PVIO_BLK_OP_READ, 0, buf, 4096, 1), 0);
		dev->ops->blk->kick(dev, 0);
		struct pvio_blk_dcomp c[4];
		uint64_t deadline = pvio_deadline(ctx);
		int r = 0;
		while (pvio_now_ns(ctx) < deadline) {
			r = dev->ops->blk->reap(dev, 0, c, 4);
			if (r != 0)
				break;
			if (pvio_dev_wait(dev, 0, deadline) < 0)
				break;
		}
		const char *reason;
		ck_assert_int_eq(pvio_dev_state(dev, &reason), PVIO_DEV_BROKEN);
		ck_assert_msg(strstr(reason, why[k]), "%s: %s", kinds[k], reason);
		ctl("clear", "vbd/51760", NULL);
		pvio_dev_close(dev);
		pvio_dma_free(ctx, buf);
	}
}
END_TEST

START_TEST(backend_closing_removes_the_device)
{
	pvio_dev *dev = open_dev("vbd/51760", 1, 8, 0);
	uint8_t *buf = pvio_dma_alloc(ctx, 8 * 4096, 4096);
	ctl("delay", "vbd/51760", "300");
	for (uint32_t t = 0; t < 8; t++)
		ck_assert_int_eq(enqueue_rw(dev, 0, PVIO_BLK_OP_READ, t * 4096,
					    buf + t * 4096, 4096, t),
				 0);
	dev->ops->blk->kick(dev, 0);
	ctl("close", "vbd/51760", NULL);
	/* events and completions arrive; nothing hangs */
	uint64_t deadline = pvio_deadline(ctx);
	unsigned done = 0;
	struct pvio_event ev;
	bool removed = false;
	while (pvio_now_ns(ctx) < deadline) {
		while (pvio_dev_next_event(dev, &ev) == 1)
			removed |= ev.type == PVIO_EVENT_REMOVED;
		struct pvio_blk_dcomp c[8];
		int r = dev->ops->blk->reap(dev, 0, c, 8);
		if (r < 0) {
			ck_assert_int_eq(r, -ENODEV);
			break;
		}
		done += (unsigned)r;
		if (done == 8 && removed)
			break;
		if (!r && pvio_dev_wait(dev, 0, pvio_now_ns(ctx) + 100000000ull) < 0 &&
		    removed)
			continue;
	}
	ck_assert(removed);
	ck_assert_int_eq(pvio_dev_state(dev, NULL), PVIO_DEV_REMOVED);
	ck_assert_int_eq(enqueue_rw(dev, 0, PVIO_BLK_OP_READ, 0, buf, 4096, 9),
			 -ENODEV);
	uint64_t t0 = ms_now();
	pvio_dev_close(dev);
	ck_assert_uint_lt(ms_now() - t0, 20000);
	ctl("clear", "vbd/51760", NULL);
	pvio_dma_free(ctx, buf);
}
END_TEST

START_TEST(unplug_and_resize)
{
	pvio_dev *dev = open_dev("vbd/51760", 1, 8, 0);
	struct pvio_event ev;
	while (pvio_dev_next_event(dev, &ev) == 1)
		;
	/* grow the image; the host announces it */
	int fd = open(img, O_RDWR | O_CLOEXEC);
	ck_assert_int_eq(ftruncate(fd, IMG_SIZE + (1 << 20)), 0);
	close(fd);
	ctl("resize", "vbd/51760", NULL);
	uint64_t deadline = pvio_deadline(ctx);
	int got = 0;
	while (!got && pvio_now_ns(ctx) < deadline) {
		got = pvio_dev_next_event(dev, &ev);
		if (!got) {
			struct pollfd p = { .fd = pvio_dev_event_fd(dev),
					    .events = POLLIN };
			poll(&p, 1, 100);
		}
	}
	ck_assert_int_eq(got, 1);
	ck_assert_int_eq(ev.type, PVIO_EVENT_CONFIG_CHANGE);
	ck_assert_uint_eq(dev->limits.blk.capacity, IMG_SIZE + (1 << 20));
	fd = open(img, O_RDWR | O_CLOEXEC);
	ck_assert_int_eq(ftruncate(fd, IMG_SIZE), 0);
	close(fd);
	/* hot-unplug: removed, and our close lets the host finish it */
	ctl("unplug", "vbd/51760", NULL);
	got = 0;
	while (!got && pvio_now_ns(ctx) < deadline) {
		got = pvio_dev_next_event(dev, &ev);
		if (!got) {
			struct pollfd p = { .fd = pvio_dev_event_fd(dev),
					    .events = POLLIN };
			poll(&p, 1, 100);
		}
	}
	ck_assert_int_eq(got, 1);
	ck_assert_int_eq(ev.type, PVIO_EVENT_REMOVED);
	pvio_dev_close(dev);
}
END_TEST

START_TEST(front_ends_unchanged_and_migration)
{
	char a[200];
	snprintf(a, sizeof(a), "sim-xen:%s/vbd/51712", sock);
	pvio_blk *blk;
	int r = pvio_blk_open(ctx, a, NULL, &blk);
	ck_assert_msg(r == 0, "%s", pvio_errmsg(ctx));
	static uint8_t w[1 << 20], rd[1 << 20];
	for (size_t i = 0; i < sizeof(w); i++)
		w[i] = (uint8_t)(i * 13 + 1);
	ck_assert_int_eq(pvio_blk_pwrite(blk, 7 * 512, w, sizeof(w)), 0);
	ck_assert_int_eq(pvio_blk_sync_flush(blk), 0);
	/* writes in flight while the front end moves to another vbd of the
	 * same image (Xen to Xen: quiesce, close handshake, replay) */
	uint8_t *bufs = pvio_dma_alloc(ctx, 16 * 65536, 4096);
	for (int k = 0; k < 16; k++) {
		memset(bufs + k * 65536, 0x40 + k, 65536);
		ck_assert_int_eq(pvio_blk_write(blk, 0, (2u << 20) + (uint64_t)k * 65536,
						bufs + k * 65536, 65536, NULL, 0),
				 0);
	}
	ck_assert_int_eq(pvio_blk_submit(blk, 0), 0);
	snprintf(a, sizeof(a), "sim-xen:%s/vbd/51744", sock);
	pvio_dev *nd;
	ck_assert_int_eq(pvio_dev_open(ctx, a, &nd), 0);
	struct pvio_migrate_report rep = { .struct_size = sizeof(rep) };
	r = pvio_blk_migrate(blk, nd, 0, &rep);
	ck_assert_msg(r == 0, "migrate: %s", pvio_errmsg(ctx));
	struct pvio_blk_completion c[16];
	int n = 0;
	while (n < 16) {
		int k = pvio_blk_poll(blk, 0, c + n, 1, (unsigned)(16 - n),
				      5000000000ll);
		ck_assert_int_gt(k, 0);
		for (int i = 0; i < k; i++)
			ck_assert_int_eq(c[n + i].ret, 0);
		n += k;
	}
	ck_assert_uint_eq(rep.completed_during_quiesce + rep.replayed, 16);
	ck_assert_int_eq(pvio_blk_pread(blk, 7 * 512, rd, sizeof(rd)), 0);
	ck_assert_int_eq(memcmp(w, rd, sizeof(w)), 0);
	ck_assert_int_eq(pvio_blk_pread(blk, 2u << 20, rd, 16 * 65536), 0);
	for (int k = 0; k < 16; k++)
		ck_assert_uint_eq(rd[k * 65536 + 100], 0x40 + k);
	pvio_blk_close(blk);
	pvio_dma_free(ctx, bufs);

	snprintf(a, sizeof(a), "sim-xen:%s/vif/0", sock);
	pvio_net *net;
	r = pvio_net_open(ctx, a, NULL, &net);
	ck_assert_msg(r == 0, "%s", pvio_errmsg(ctx));
	struct pvio_net_info ni = { .struct_size = sizeof(ni) };
	ck_assert_int_eq(pvio_net_get_info(net, &ni), 0);
	ck_assert_uint_eq(ni.mac[5], 0x10);
	uint8_t f[1400], in[2048];
	memset(f, 0xff, 6);
	memcpy(f + 6, ni.mac, 6);
	f[12] = 0x88;
	f[13] = 0xb5;
	for (int k = 0; k < 40; k++) {
		for (size_t i = 14; i < sizeof(f); i++)
			f[i] = (uint8_t)(i ^ k);
		ck_assert_int_eq(pvio_net_send(net, 0, f, sizeof(f), NULL), 0);
		uint64_t deadline = pvio_deadline(ctx);
		int m = 0;
		while (!m && pvio_now_ns(ctx) < deadline) {
			m = pvio_net_recv(net, 0, in, sizeof(in), NULL);
			ck_assert_int_ge(m, 0);
			if (!m)
				ck_assert_int_ge(pvio_net_wait(net, 0, 100000000), 0);
		}
		ck_assert_int_eq(m, (int)sizeof(f));
		ck_assert_int_eq(memcmp(in, f, sizeof(f)), 0);
	}
	pvio_net_close(net);
}
END_TEST

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	pvio_bin = getenv("PVIO");
	if (!pvio_bin) {
		fprintf(stderr, "PVIO is not set (run through make check)\n");
		return 1;
	}
	char out[256];
	const char *help[] = { pvio_bin, "sim", "xen", "--help", NULL };
	snprintf(sock, sizeof(sock), "/nonexistent");
	if (run(help, out, sizeof(out)) != 0) {
		fprintf(stderr, "this pvio has no `sim xen`; skipping\n");
		return 77;
	}
	if (access("/usr/bin/xenstore-read", X_OK)) {
		fprintf(stderr, "xenstore-utils missing: run scripts/deps.sh\n");
		return 1;
	}
	sim_start();
	Suite *s = suite_create("xen_sim_integration");
	TCase *tc = tcase_create("sim-xen");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, disk_with_persistent_grants);
	tcase_add_test(tc, disk_with_direct_grants);
	tcase_add_test(tc, read_only_disk_and_large_sectors);
	tcase_add_test(tc, xenstore_utils_see_our_keys);
	tcase_add_test(tc, vif_reflects_frames);
	tcase_add_test(tc, vif_without_split_channels_in_copy_mode);
	tcase_add_test(tc, link_changes_are_events);
	tcase_add_test(tc, corrupt_responses_break_the_device);
	tcase_add_test(tc, backend_closing_removes_the_device);
	tcase_add_test(tc, unplug_and_resize);
	tcase_add_test(tc, front_ends_unchanged_and_migration);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	sim_stop();
	return failed ? 1 : 0;
}
