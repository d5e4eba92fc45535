/* SPDX-License-Identifier: MIT */
/*
 * tests/integration/hyperv_blk_test.c - pvio's StorVSC (backends/vmbus)
 * against `pvio sim hyperv` (sim/vmbus), both real: the host binary in a
 * temp dir, the guest libpvio over the sim hostif socket.
 *
 *   ops       the transport ops: READ/WRITE(16), SYNCHRONIZE CACHE, UNMAP
 *             checked against the image file; sub-channels as queues, each
 *             carrying I/O (the host's per-channel counters say so);
 *   frontend  pvio_blk_open("sim-hyperv:SOCK/storvscN"): the same through
 *             the block front end, 4 KiB-block and read-only disks;
 *   sense     `sense` faults: errors surface as -EIO/-EROFS, unit
 *             attentions and aborted commands are retried as designed;
 *   faults    rescind mid-I/O (removed, no hang), re-offer, slow host,
 *             corrupted completions (broken with a reason, no crash);
 *   versions  an old host (VMBus 4.0) and monitored channels.
 *
 * Every case ends with the host exiting cleanly and no channel having
 * seen a signal a Hyper-V host would not expect.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pvio/blk.h>

#include "hyperv_util.h"

#define MIB (1u << 20)

static char img[64], img_ro[64], img4k[64];

static void setup_storage(void)
{
	hv_image(img, 16 * MIB);
	hv_image(img_ro, 4 * MIB);
	hv_image(img4k, 8 * MIB);
	char a[96], b[96], c[96];
	snprintf(a, sizeof(a), "%s,channels=4", img);
	snprintf(b, sizeof(b), "%s,ro", img_ro);
	snprintf(c, sizeof(c), "%s,bs=4096,max-transfer=64K", img4k);
	const char *args[] = { "--scsi", a, "--scsi", b, "--scsi", c, "-v",
			       NULL };
	hv_start(args);
}

static void setup_one(void)
{
	hv_image(img, 8 * MIB);
	const char *args[] = { "--scsi", img, "-v", NULL };
	hv_start(args);
}

static void setup_old(void)
{
	hv_image(img, 8 * MIB);
	const char *args[] = { "--scsi", img, "--max-version", "4.0", NULL };
	hv_start(args);
}

static void setup_monitor(void)
{
	hv_image(img, 8 * MIB);
	char a[96];
	snprintf(a, sizeof(a), "%s,channels=2", img);
	const char *args[] = { "--scsi", a, "--monitor", NULL };
	hv_start(args);
}

static void teardown(void)
{
	hv_stop();
	hv_rm(img);
	hv_rm(img_ro);
	hv_rm(img4k);
	img[0] = img_ro[0] = img4k[0] = 0;
}

/* Last test of a case: nothing a Hyper-V host would frown at, clean exit. */
START_TEST(host_exits_clean)
{
	ck_assert_ptr_nonnull(strstr(hv_ctl("status"), "host socket="));
	ck_assert_msg(hv_status_sum(NULL, "chan", "unexpected") == 0 &&
			      hv_status_sum(NULL, "chan", "bad") == 0,
		      "the host saw signals or packets it would not "
		      "expect:\n%s", hv_ctl("status"));
	hv_ctl("quit");
	ck_assert_msg(hv_host_exited(), "host did not exit after quit");
	ck_assert_msg(!hv_log_has("Sanitizer") && !hv_log_has("runtime error"),
		      "sanitizer report in %s", hv_host.log);
}
END_TEST

/* ---------------------------------------------------------- file checks */
static void file_read(const char *path, uint64_t off, void *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, buf, len, (off_t)off), (ssize_t)len);
	close(fd);
}

static bool file_zero(const char *path, uint64_t off, size_t len)
{
	uint8_t *b = malloc(len);
	file_read(path, off, b, len);
	bool z = true;
	for (size_t i = 0; i < len; i++)
		z = z && !b[i];
	free(b);
	return z;
}

/* ------------------------------------------------------------------ ops */
START_TEST(ops_read_write_flush_discard_against_the_image)
{
	pvio_ctx *ctx = hv_ctx();
	pvio_dev *dev = hv_open(ctx, "storvsc0", 1, 32, 0);
	const struct pvio_blk_limits *L = &dev->limits.blk;
	ck_assert_uint_eq(L->capacity, 16 * MIB);
	ck_assert_uint_eq(L->block_size, 512);
	ck_assert_uint_eq(L->max_queues, 4);
	ck_assert(L->discard && L->flush && !L->read_only);
	ck_assert_uint_eq(L->virt_boundary, 4096);
	ck_assert_str_eq(dev->info.backend, "sim-hyperv");
	ck_assert_ptr_nonnull(strstr(dev->info.protocol, "VSTOR 6.2"));

	uint32_t len = 256 * 1024;
	uint8_t *buf = pvio_dma_alloc(ctx, len, 4096);
	uint8_t *want = malloc(len), *got = malloc(len);
	/* read what the image holds */
	ck_assert_int_eq(hv_blk_sync(dev, 0, PVIO_BLK_OP_READ, 3 * MIB, buf,
				     len),
			 0);
	file_read(img, 3 * MIB, want, len);
	ck_assert_mem_eq(buf, want, len);
	/* write at an odd sector from an offset inside a page */
	hv_pattern(buf + 512, 64 * 1024, 99);
	ck_assert_int_eq(hv_blk_sync(dev, 0, PVIO_BLK_OP_WRITE, 1 * MIB + 512,
				     buf + 512, 64 * 1024),
			 0);
	file_read(img, 1 * MIB + 512, got, 64 * 1024);
	ck_assert_mem_eq(got, buf + 512, 64 * 1024);
	/* the largest transfer the device takes, the last blocks */
	hv_pattern(buf, len, 5);
	memcpy(want, buf, len);
	ck_assert_int_eq(hv_blk_sync(dev, 0, PVIO_BLK_OP_WRITE,
				     16 * MIB - len, buf, len),
			 0);
	memset(buf, 0, len);
	ck_assert_int_eq(hv_blk_sync(dev, 0, PVIO_BLK_OP_READ, 16 * MIB - len,
				     buf, len),
			 0);
	ck_assert_mem_eq(buf, want, len);
	file_read(img, 16 * MIB - len, got, len);
	ck_assert_mem_eq(got, want, len);
	/* past the end: refused before the host sees it */
	ck_assert_int_eq(hv_blk_sync(dev, 0, PVIO_BLK_OP_READ, 16 * MIB, buf,
				     512),
			 -EINVAL);
	ck_assert_int_eq(hv_blk_sync(dev, 0, PVIO_BLK_OP_FLUSH, 0, NULL, 0), 0);
	/* discard: the host punches the range, it reads back as zeros */
	ck_assert(!file_zero(img, 2 * MIB, 128 * 1024));
	ck_assert_int_eq(hv_blk_sync(dev, 0, PVIO_BLK_OP_DISCARD, 2 * MIB, NULL,
				     128 * 1024),
			 0);
	ck_assert(file_zero(img, 2 * MIB, 128 * 1024));
	ck_assert_int_eq(hv_blk_sync(dev, 0, PVIO_BLK_OP_READ, 2 * MIB, buf,
				     4096),
			 0);
	for (int i = 0; i < 4096; i++)
		ck_assert_uint_eq(buf[i], 0);
	/* the host counted our signals as Hyper-V expects them */
	const struct pvio_queue_stats *st = &dev->stats[0];
	ck_assert_uint_gt(st->notify_sent, 0);
	ck_assert_uint_eq(hv_status_sum("storvsc0", "chan", "unexpected"), 0);
	pvio_dev_close(dev);
	free(want);
	free(got);
	pvio_ctx_free(ctx);
}
END_TEST

START_TEST(ops_subchannels_are_queues)
{
	pvio_ctx *ctx = hv_ctx();
	pvio_dev *dev = hv_open(ctx, "storvsc0", 4, 64, 0);
	ck_assert_uint_eq(dev->info.num_queues, 4);
	ck_assert(dev->info.features & PVIO_F_MULTIQUEUE);
	/* four channels open in the host: the primary and three more */
	const char *st = hv_ctl("status storvsc0");
	unsigned open = 0;
	for (const char *p = st; (p = strstr(p, "state=open")); p++)
		open++;
	ck_assert_uint_eq(open, 4);
	/* each queue writes its own region, many requests in flight */
	enum { PER = 16, LEN = 16384 };
	uint8_t *buf = pvio_dma_alloc(ctx, 4 * PER * LEN, 4096);
	struct pvio_dseg seg[4][PER];
	for (unsigned q = 0; q < 4; q++) {
		for (unsigned i = 0; i < PER; i++) {
			uint8_t *b = buf + (q * PER + i) * LEN;
			hv_pattern(b, LEN, 1000 + q * PER + i);
			seg[q][i].va = b;
			seg[q][i].len = LEN;
			pvio_dma_translate(ctx, b, LEN, &seg[q][i].dev_addr);
			struct pvio_blk_dreq r = {
				.tag = i, .op = PVIO_BLK_OP_WRITE, .nseg = 1,
				.offset = 4 * MIB + (q * PER + i) * LEN,
				.len = LEN, .seg = &seg[q][i] };
			ck_assert_int_eq(dev->ops->blk->enqueue(dev, q, &r), 0);
		}
		dev->ops->blk->kick(dev, q);
	}
	for (unsigned q = 0; q < 4; q++) {
		unsigned done = 0;
		uint64_t end = pvio_now_ns(ctx) + 10000000000ull;
		while (done < PER) {
			struct pvio_blk_dcomp c[PER];
			int n = dev->ops->blk->reap(dev, q, c, PER);
			ck_assert_int_ge(n, 0);
			for (int k = 0; k < n; k++)
				ck_assert_int_eq(c[k].status, 0);
			done += (unsigned)n;
			if (done < PER) {
				ck_assert(pvio_now_ns(ctx) < end);
				hv_wait(dev, q);
			}
		}
	}
	uint8_t *got = malloc(4 * PER * LEN);
	file_read(img, 4 * MIB, got, 4 * PER * LEN);
	ck_assert_mem_eq(got, buf, 4 * PER * LEN);
	free(got);
	/* every channel carried requests (pkts_in counts the VSTOR init on
	 * the primary too) */
	st = hv_ctl("status storvsc0");
	unsigned busy = 0;
	for (const char *p = st; (p = strstr(p, "chan part=")); p++) {
		const char *pi = strstr(p, "pkts_in=");
		if (pi && strtoull(pi + 8, NULL, 10) >= PER)
			busy++;
	}
	ck_assert_uint_eq(busy, 4);
	ck_assert_uint_eq(hv_status_sum("storvsc0", "chan", "unexpected"), 0);
	pvio_dev_close(dev);
	pvio_ctx_free(ctx);
}
END_TEST

/* ------------------------------------------------------------- frontend */
START_TEST(frontend_block_device)
{
	pvio_ctx *ctx = hv_ctx();
	pvio_blk *blk;
	struct pvio_blk_opts o = { .struct_size = sizeof(o), .num_queues = 2,
				   .queue_depth = 32 };
	ck_assert_msg(pvio_blk_open(ctx, hv_addr("storvsc0"), &o, &blk) == 0,
		      "%s", pvio_errmsg(ctx));
	struct pvio_blk_info bi = { .struct_size = sizeof(bi) };
	ck_assert_int_eq(pvio_blk_get_info(blk, &bi), 0);
	ck_assert_uint_eq(bi.capacity, 16 * MIB);
	ck_assert_uint_eq(bi.num_queues, 2);
	ck_assert(bi.discard && bi.flush && !bi.read_only);
	/* 1 MiB through the front end: split to the device's limits, from
	 * caller memory (bounced) */
	size_t len = MIB;
	uint8_t *b = malloc(len), *r = malloc(len), *f = malloc(len);
	hv_pattern(b, (uint32_t)len, 4242);
	ck_assert_int_eq(pvio_blk_pwrite(blk, 8 * MIB, b, len), 0);
	ck_assert_int_eq(pvio_blk_pread(blk, 8 * MIB, r, len), 0);
	ck_assert_mem_eq(r, b, len);
	file_read(img, 8 * MIB, f, len);
	ck_assert_mem_eq(f, b, len);
	ck_assert_int_eq(pvio_blk_sync_flush(blk), 0);
	ck_assert_int_eq(pvio_blk_sync_discard(blk, 8 * MIB, 64 * 1024), 0);
	ck_assert(file_zero(img, 8 * MIB, 64 * 1024));
	/* asynchronous on queue 1 */
	uint8_t *d = pvio_dma_alloc(ctx, 8 * 4096, 4096);
	for (int i = 0; i < 8; i++) {
		hv_pattern(d + i * 4096, 4096, 77 + i);
		ck_assert_int_eq(pvio_blk_write(blk, 1, 12 * MIB + i * 8192,
						d + i * 4096, 4096,
						(void *)(uintptr_t)(i + 1), 0),
				 0);
	}
	ck_assert_int_eq(pvio_blk_submit(blk, 1), 0);
	struct pvio_blk_completion c[8];
	int got = 0;
	while (got < 8) {
		int n = pvio_blk_poll(blk, 1, c + got, 1, 8 - (unsigned)got,
				      5000000000ll);
		ck_assert_int_gt(n, 0);
		got += n;
	}
	for (int i = 0; i < 8; i++)
		ck_assert_int_eq(c[i].ret, 0);
	for (int i = 0; i < 8; i++) {
		file_read(img, 12 * MIB + i * 8192, f, 4096);
		ck_assert_mem_eq(f, d + i * 4096, 4096);
	}
	struct pvio_queue_stats st;
	ck_assert_int_eq(pvio_blk_get_stats(blk, 1, &st), 0);
	ck_assert_uint_eq(st.requests, 8);
	ck_assert_uint_eq(st.errors, 0);
	pvio_blk_close(blk);
	free(b);
	free(r);
	free(f);
	pvio_ctx_free(ctx);
}
END_TEST

START_TEST(frontend_4k_blocks_and_small_transfers)
{
	pvio_ctx *ctx = hv_ctx();
	pvio_blk *blk;
	ck_assert_msg(pvio_blk_open(ctx, hv_addr("storvsc2"), NULL, &blk) == 0,
		      "%s", pvio_errmsg(ctx));
	struct pvio_blk_info bi = { .struct_size = sizeof(bi) };
	pvio_blk_get_info(blk, &bi);
	ck_assert_uint_eq(bi.block_size, 4096);
	ck_assert_uint_eq(bi.capacity, 8 * MIB);
	ck_assert_uint_le(bi.max_transfer, 64 * 1024);
	size_t len = 512 * 1024; /* eight device requests */
	uint8_t *b = malloc(len), *f = malloc(len);
	hv_pattern(b, (uint32_t)len, 31);
	ck_assert_int_eq(pvio_blk_pwrite(blk, 4096 * 3, b, len), 0);
	file_read(img4k, 4096 * 3, f, len);
	ck_assert_mem_eq(f, b, len);
	/* not a multiple of the block size */
	ck_assert_int_eq(pvio_blk_pwrite(blk, 512, b, 512), -EINVAL);
	pvio_blk_close(blk);
	free(b);
	free(f);
	pvio_ctx_free(ctx);
}
END_TEST

START_TEST(frontend_read_only_disk)
{
	pvio_ctx *ctx = hv_ctx();
	pvio_blk *blk;
	ck_assert_msg(pvio_blk_open(ctx, hv_addr("storvsc1"), NULL, &blk) == 0,
		      "%s", pvio_errmsg(ctx));
	struct pvio_blk_info bi = { .struct_size = sizeof(bi) };
	pvio_blk_get_info(blk, &bi);
	/* learned from MODE SENSE's write-protect bit */
	ck_assert(bi.read_only);
	ck_assert(!bi.discard);
	ck_assert(bi.features & PVIO_F_BLK_READ_ONLY);
	uint8_t b[4096], f[4096];
	ck_assert_int_eq(pvio_blk_pread(blk, 4096, b, sizeof(b)), 0);
	file_read(img_ro, 4096, f, sizeof(f));
	ck_assert_mem_eq(b, f, sizeof(b));
	ck_assert_int_eq(pvio_blk_pwrite(blk, 0, b, sizeof(b)), -EROFS);
	pvio_blk_close(blk);
	/* the transport refuses a write too; a host that takes one anyway
	 * answers DATA PROTECT, which is -EROFS */
	pvio_dev *dev = hv_open(ctx, "storvsc1", 1, 8, 0);
	uint8_t *d = pvio_dma_alloc(ctx, 4096, 4096);
	ck_assert_int_eq(hv_blk_sync(dev, 0, PVIO_BLK_OP_WRITE, 0, d, 4096),
			 -EROFS);
	pvio_dev_close(dev);
	pvio_ctx_free(ctx);
}
END_TEST

/* ---------------------------------------------------------------- sense */
START_TEST(sense_errors_and_retries)
{
	pvio_ctx *ctx = hv_ctx();
	pvio_dev *dev = hv_open(ctx, "storvsc0", 1, 8, 0);
	uint8_t *b = pvio_dma_alloc(ctx, 8192, 4096);
	uint64_t srbs0 = hv_status_sum("storvsc0", "dev storvsc0", "srbs");
	/* medium error: not retried, -EIO, one log line naming the LBA */
	hv_ctl("sense storvsc0 1");
	ck_assert_int_eq(hv_blk_sync(dev, 0, PVIO_BLK_OP_READ, 4096, b, 8192),
			 -EIO);
	ck_assert(pvio_dev_usable(dev));
	/* unit attention (power on/reset), twice: retried, succeeds */
	hv_ctl("sense storvsc0 2 6 0x29 0");
	ck_assert_int_eq(hv_blk_sync(dev, 0, PVIO_BLK_OP_READ, 4096, b, 8192),
			 0);
	/* aborted command three times: retried, succeeds */
	hv_ctl("sense storvsc0 3 0xb 0x47 0");
	ck_assert_int_eq(hv_blk_sync(dev, 0, PVIO_BLK_OP_WRITE, 4096, b, 8192),
			 0);
	/* ... but not forever: after five tries the request fails */
	hv_ctl("sense storvsc0 10 0xb 0x47 0");
	ck_assert_int_eq(hv_blk_sync(dev, 0, PVIO_BLK_OP_WRITE, 4096, b, 8192),
			 -EIO);
	hv_ctl("sense storvsc0 0");
	/* data protect: -EROFS */
	hv_ctl("sense storvsc0 1 7 0x27 0");
	ck_assert_int_eq(hv_blk_sync(dev, 0, PVIO_BLK_OP_WRITE, 0, b, 4096),
			 -EROFS);
	/* illegal request on a flush: the device cannot, -EOPNOTSUPP */
	hv_ctl("sense storvsc0 1 5 0x20 0");
	ck_assert_int_eq(hv_blk_sync(dev, 0, PVIO_BLK_OP_FLUSH, 0, NULL, 0),
			 -EOPNOTSUPP);
	/* one SRB each, plus the retries: 1 + 3 + 4 + 6 + 1 + 1 */
	ck_assert_uint_eq(hv_status_sum("storvsc0", "dev storvsc0", "srbs") -
				  srbs0,
			  16);
	/* a capacity change: UNIT ATTENTION 2A/09, retried, and the
	 * application hears of it */
	hv_ctl("resize storvsc0 16M");
	ck_assert_int_eq(hv_blk_sync(dev, 0, PVIO_BLK_OP_READ, 0, b, 4096), 0);
	struct pvio_event ev;
	bool changed = false;
	while (pvio_dev_next_event(dev, &ev) == 1)
		changed = changed || ev.type == PVIO_EVENT_CONFIG_CHANGE;
	ck_assert(changed);
	ck_assert(pvio_dev_usable(dev));
	pvio_dev_close(dev);
	pvio_ctx_free(ctx);
}
END_TEST

/* --------------------------------------------------------------- faults */
START_TEST(rescind_mid_io_removes_the_device)
{
	pvio_ctx *ctx = hv_ctx();
	pvio_dev *dev = hv_open(ctx, "storvsc0", 1, 32, 0);
	/* a slow host keeps the requests in the ring */
	hv_ctl("delay 300");
	uint8_t *b = pvio_dma_alloc(ctx, 16 * 4096, 4096);
	struct pvio_dseg seg[16];
	for (unsigned i = 0; i < 16; i++) {
		seg[i] = (struct pvio_dseg){ b + i * 4096, 0, 4096 };
		pvio_dma_translate(ctx, b + i * 4096, 4096, &seg[i].dev_addr);
		struct pvio_blk_dreq r = { .tag = i, .op = PVIO_BLK_OP_READ,
					   .nseg = 1, .offset = i * 4096,
					   .len = 4096, .seg = &seg[i] };
		ck_assert_int_eq(dev->ops->blk->enqueue(dev, 0, &r), 0);
	}
	dev->ops->blk->kick(dev, 0);
	hv_ctl("rescind storvsc0");
	/* the control path learns it; the queue stops, bounded */
	uint64_t end = pvio_now_ns(ctx) + 5000000000ull;
	int r = 0;
	struct pvio_event ev;
	bool removed_ev = false;
	while (pvio_dev_state(dev, NULL) == PVIO_DEV_READY) {
		ck_assert(pvio_now_ns(ctx) < end);
		while (pvio_dev_next_event(dev, &ev) == 1)
			removed_ev = removed_ev || ev.type == PVIO_EVENT_REMOVED;
		hv_wait(dev, 0);
	}
	while (pvio_dev_next_event(dev, &ev) == 1)
		removed_ev = removed_ev || ev.type == PVIO_EVENT_REMOVED;
	ck_assert(removed_ev);
	const char *why = NULL;
	ck_assert_int_eq(pvio_dev_state(dev, &why), PVIO_DEV_REMOVED);
	ck_assert_ptr_nonnull(strstr(why, "rescinded"));
	struct pvio_blk_dcomp c[16];
	r = dev->ops->blk->reap(dev, 0, c, 16);
	ck_assert_int_eq(r, -ENODEV);
	struct pvio_blk_dreq r2 = { .tag = 20, .op = PVIO_BLK_OP_READ,
				    .nseg = 1, .offset = 0, .len = 4096,
				    .seg = &seg[0] };
	ck_assert_int_eq(dev->ops->blk->enqueue(dev, 0, &r2), -ENODEV);
	uint64_t t0 = pvio_now_ns(ctx);
	pvio_dev_close(dev); /* releases the relid, no waiting on the host */
	ck_assert_uint_lt(pvio_now_ns(ctx) - t0, 4000000000ull);
	hv_ctl("delay 0");
	/* the device is gone for new guests, then offered again */
	pvio_dev *none = NULL;
	ck_assert_int_eq(pvio_dev_open(ctx, hv_addr("storvsc0"), &none),
			 -ENODEV);
	ck_assert_ptr_nonnull(strstr(pvio_errmsg(ctx), "storvsc0"));
	hv_ctl("offer storvsc0");
	dev = hv_open(ctx, "storvsc0", 1, 8, 0);
	ck_assert_int_eq(hv_blk_sync(dev, 0, PVIO_BLK_OP_READ, 0, b, 4096), 0);
	pvio_dev_close(dev);
	pvio_ctx_free(ctx);
}
END_TEST

START_TEST(slow_host_completes_everything)
{
	pvio_ctx *ctx = hv_ctx();
	pvio_blk *blk;
	ck_assert_int_eq(pvio_blk_open(ctx, hv_addr("storvsc0"), NULL, &blk), 0);
	hv_ctl("delay 20");
	uint8_t *d = pvio_dma_alloc(ctx, 64 * 4096, 4096);
	hv_pattern(d, 64 * 4096, 3);
	for (int i = 0; i < 64; i++)
		ck_assert_int_eq(pvio_blk_write(blk, 0, i * 4096, d + i * 4096,
						4096, NULL, 0),
				 0);
	pvio_blk_submit(blk, 0);
	struct pvio_blk_completion c[64];
	int got = 0;
	while (got < 64) {
		int n = pvio_blk_poll(blk, 0, c, 1, 64, 5000000000ll);
		ck_assert_int_gt(n, 0);
		for (int k = 0; k < n; k++)
			ck_assert_int_eq(c[k].ret, 0);
		got += n;
	}
	hv_ctl("delay 0");
	uint8_t *f = malloc(64 * 4096);
	file_read(img, 0, f, 64 * 4096);
	ck_assert_mem_eq(f, d, 64 * 4096);
	free(f);
	pvio_blk_close(blk);
	pvio_ctx_free(ctx);
}
END_TEST

/* One corruption: the device breaks with a reason (no crash, no hang),
 * then a new device works. */
static void corrupt_case(const char *kind, const char *reason_part,
			 bool breaks)
{
	pvio_ctx *ctx = hv_ctx();
	pvio_dev *dev = hv_open(ctx, "storvsc0", 1, 8, 0);
	uint8_t *b = pvio_dma_alloc(ctx, 4096, 4096);
	hv_ctl("corrupt storvsc0 %s", kind);
	int r = hv_blk_sync(dev, 0, PVIO_BLK_OP_READ, 0, b, 4096);
	const char *why = NULL;
	if (breaks) {
		ck_assert_msg(r == -EIO, "%s: status %d", kind, r);
		ck_assert_int_eq(pvio_dev_state(dev, &why), PVIO_DEV_BROKEN);
		ck_assert_msg(strstr(why, reason_part), "%s: reason '%s'", kind,
			      why);
		ck_assert_ptr_nonnull(strstr(why, "storvsc0"));
		struct pvio_event ev;
		bool reset = false;
		while (pvio_dev_next_event(dev, &ev) == 1)
			reset = reset || ev.type == PVIO_EVENT_NEEDS_RESET;
		ck_assert(reset);
	} else {
		ck_assert_msg(r == -EIO, "%s: status %d", kind, r);
		ck_assert_int_eq(pvio_dev_state(dev, &why), PVIO_DEV_READY);
		ck_assert_int_eq(hv_blk_sync(dev, 0, PVIO_BLK_OP_READ, 0, b,
					     4096),
				 0);
	}
	pvio_dev_close(dev);
	dev = hv_open(ctx, "storvsc0", 1, 8, 0);
	ck_assert_int_eq(hv_blk_sync(dev, 0, PVIO_BLK_OP_READ, 0, b, 4096), 0);
	pvio_dev_close(dev);
	pvio_ctx_free(ctx);
}

START_TEST(corrupt_transid_breaks)
{
	corrupt_case("transid", "not outstanding", true);
}
END_TEST

START_TEST(corrupt_offset8_breaks)
{
	corrupt_case("offset8", "offset8", true);
}
END_TEST

START_TEST(corrupt_len8_breaks)
{
	corrupt_case("len8", "len8", true);
}
END_TEST

START_TEST(corrupt_status_fails_the_request)
{
	corrupt_case("status", "", false);
}
END_TEST

/* ------------------------------------------------------------- versions */
START_TEST(old_host_vmbus_4_0)
{
	pvio_ctx *ctx = hv_ctx();
	pvio_dev *dev = hv_open(ctx, "storvsc0", 1, 8, 0);
	ck_assert_ptr_nonnull(strstr(hv_ctl("status"), "vmbus=4.0"));
	uint8_t *b = pvio_dma_alloc(ctx, 4096, 4096);
	hv_pattern(b, 4096, 1);
	ck_assert_int_eq(hv_blk_sync(dev, 0, PVIO_BLK_OP_WRITE, 4096, b, 4096),
			 0);
	uint8_t f[4096];
	file_read(img, 4096, f, 4096);
	ck_assert_mem_eq(f, b, 4096);
	pvio_dev_close(dev);
	pvio_ctx_free(ctx);
}
END_TEST

START_TEST(monitored_channels)
{
	pvio_ctx *ctx = hv_ctx();
	pvio_dev *dev = hv_open(ctx, "storvsc0", 2, 8, 0);
	uint8_t *b = pvio_dma_alloc(ctx, 8192, 4096);
	for (unsigned q = 0; q < 2; q++)
		ck_assert_int_eq(hv_blk_sync(dev, q, PVIO_BLK_OP_READ, q * 4096,
					     b + q * 4096, 4096),
				 0);
	ck_assert_uint_eq(hv_status_sum("storvsc0", "chan", "unexpected"), 0);
	pvio_dev_close(dev);
	pvio_ctx_free(ctx);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("hyperv-blk");
	TCase *tc = tcase_create("storage");
	tcase_set_timeout(tc, 120);
	tcase_add_unchecked_fixture(tc, setup_storage, teardown);
	tcase_add_test(tc, ops_read_write_flush_discard_against_the_image);
	tcase_add_test(tc, ops_subchannels_are_queues);
	tcase_add_test(tc, frontend_block_device);
	tcase_add_test(tc, frontend_4k_blocks_and_small_transfers);
	tcase_add_test(tc, frontend_read_only_disk);
	tcase_add_test(tc, sense_errors_and_retries);
	tcase_add_test(tc, host_exits_clean);
	suite_add_tcase(s, tc);

	TCase *tf = tcase_create("faults");
	tcase_set_timeout(tf, 120);
	tcase_add_unchecked_fixture(tf, setup_one, teardown);
	tcase_add_test(tf, rescind_mid_io_removes_the_device);
	tcase_add_test(tf, slow_host_completes_everything);
	tcase_add_test(tf, corrupt_transid_breaks);
	tcase_add_test(tf, corrupt_offset8_breaks);
	tcase_add_test(tf, corrupt_len8_breaks);
	tcase_add_test(tf, corrupt_status_fails_the_request);
	tcase_add_test(tf, host_exits_clean);
	suite_add_tcase(s, tf);

	TCase *to = tcase_create("old-host");
	tcase_set_timeout(to, 60);
	tcase_add_unchecked_fixture(to, setup_old, teardown);
	tcase_add_test(to, old_host_vmbus_4_0);
	tcase_add_test(to, host_exits_clean);
	suite_add_tcase(s, to);

	TCase *tm = tcase_create("monitor");
	tcase_set_timeout(tm, 60);
	tcase_add_unchecked_fixture(tm, setup_monitor, teardown);
	tcase_add_test(tm, monitored_channels);
	tcase_add_test(tm, host_exits_clean);
	suite_add_tcase(s, tm);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
