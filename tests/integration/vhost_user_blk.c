/* SPDX-License-Identifier: MIT */
/*
 * Integration tests: pvio's virtio-blk back end against a real
 * qemu-storage-daemon exporting a raw image over vhost-user-blk.
 *
 * Every write, discard and write-zeroes is checked against the image file
 * read directly, not only through the device.  The daemon is started in a
 * temporary directory by tests/lib/peers.c and stopped by pid.
 */
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include "vhost_user_util.h"
#include "backends/virtio/virtio.h"

#define MiB (1u << 20)

static void fill(void *p, size_t n, uint32_t seed)
{
	uint8_t *b = p;
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1664525u + 1013904223u;
		b[i] = (uint8_t)(seed >> 24);
	}
}

static void image_read(const struct peer *p, uint64_t off, void *buf, size_t n)
{
	int fd = open(p->image, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, buf, n, (off_t)off), (ssize_t)n);
	close(fd);
}

static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

struct env {
	struct peer *peer;
	pvio_ctx *ctx;
	pvio_dev *dev;
	char addr[400];
};

static void env_open(struct env *e, const struct peer_qsd_opts *qo,
		     const char *opts, unsigned nq, uint32_t tags)
{
	memset(e, 0, sizeof(*e));
	e->peer = peer_qsd_start(qo, PEER_START_MS);
	ck_assert_msg(e->peer != NULL, "qemu-storage-daemon did not start");
	e->ctx = util_ctx(64u * MiB, 5000);
	peer_address(e->peer, opts, e->addr, sizeof(e->addr));
	int r = pvio_dev_open(e->ctx, e->addr, &e->dev);
	ck_assert_msg(r == 0, "open %s: %s", e->addr, pvio_errmsg(e->ctx));
	if (nq) {
		struct pvio_dev_config cfg = { .num_queues = nq, .max_tags = tags };
		r = pvio_dev_configure(e->dev, &cfg);
		ck_assert_msg(r == 0, "configure: %s", pvio_errmsg(e->ctx));
	}
}

static void env_close(struct env *e)
{
	if (e->dev)
		pvio_dev_close(e->dev);
	pvio_ctx_free(e->ctx);
	if (getenv("PVIO_TEST_PEER_LOG"))
		printf("---- %s log ----\n%s\n", e->peer->name,
		       peer_log_tail(e->peer));
	/* the daemon exits cleanly on SIGTERM unless a test killed it, and
	 * prints nothing unless something went wrong (a vu_panic, a refused
	 * message) */
	bool killed = e->peer->pid == 0;
	if (!killed)
		ck_assert_msg(peer_log_tail(e->peer)[0] == 0,
			      "qemu-storage-daemon complained: %s",
			      peer_log_tail(e->peer));
	int st = peer_stop(e->peer, 5000);
	if (!killed)
		ck_assert_int_eq(st, 0);
}

static struct pvio_blk_dreq rw(uint32_t tag, int write, uint64_t off,
			       const struct pvio_dseg *seg, uint16_t nseg)
{
	uint64_t len = 0;
	for (unsigned i = 0; i < nseg; i++)
		len += seg[i].len;
	struct pvio_blk_dreq r = { .tag = tag,
				   .op = write ? PVIO_BLK_OP_WRITE : PVIO_BLK_OP_READ,
				   .nseg = nseg, .offset = off, .len = len,
				   .seg = seg };
	return r;
}

START_TEST(blk_limits_and_io)
{
	struct env e;
	struct peer_qsd_opts qo = { .image_size = 64u * MiB };
	env_open(&e, &qo, NULL, 1, 32);
	pvio_dev *dev = e.dev;
	const struct pvio_blk_limits *L = &dev->limits.blk;
	struct virtio_dev *vd = virtio_of(dev);

	ck_assert_int_eq(dev->info.cls, PVIO_CLASS_BLK); /* inferred */
	ck_assert_uint_eq(L->capacity, 64u * MiB);
	ck_assert_uint_eq(L->block_size, 512);
	ck_assert(L->flush && L->discard && L->write_zeroes && !L->read_only);
	ck_assert_uint_eq(L->max_segments, 126); /* qsd's seg_max */
	ck_assert_uint_ge(L->max_transfer, 64 * 1024);
	ck_assert_uint_eq(L->max_discard, 32768u * 512);
	ck_assert_uint_eq(L->max_write_zeroes, 32768u * 512);
	ck_assert(strstr(dev->info.native, "id=") != NULL);
	printf("qsd: offered 0x%llx negotiated 0x%llx ring %u (%s), "
	       "max_segments %u max_transfer %u seg_size %u\n",
	       (unsigned long long)vd->offered, (unsigned long long)vd->features,
	       vd->vq[0].size,
	       vd->features & VW_BIT(VW_F_RING_PACKED) ? "packed" : "split",
	       L->max_segments, L->max_transfer, L->max_segment_size);
	util_print_info(dev, "qsd");
	ck_assert(vd->features & VW_BIT(VW_F_VERSION_1));
	ck_assert(vd->features & VW_BIT(VW_F_EVENT_IDX));
	ck_assert(vd->features & VW_BIT(VW_F_INDIRECT_DESC));

	/* write 4 KiB at 0; 3 segments (64 KiB) at 1 MiB; the last sector */
	struct pvio_dseg a = util_seg(e.ctx, 4096);
	struct pvio_dseg big = util_seg(e.ctx, 64 * 1024);
	struct pvio_dseg last = util_seg(e.ctx, 512);
	fill(a.va, a.len, 1);
	fill(big.va, big.len, 2);
	fill(last.va, last.len, 3);
	struct pvio_dseg parts[3] = { util_sub(big, 0, 512),
				      util_sub(big, 512, 32 * 1024 - 512),
				      util_sub(big, 32 * 1024, 32 * 1024) };
	struct pvio_blk_dreq r = rw(1, 1, 0, &a, 1);
	ck_assert_int_eq(util_blk_sync(dev, 0, &r), 0);
	r = rw(2, 1, MiB, parts, 3);
	ck_assert_int_eq(util_blk_sync(dev, 0, &r), 0);
	r = rw(3, 1, L->capacity - 512, &last, 1);
	ck_assert_int_eq(util_blk_sync(dev, 0, &r), 0);
	struct pvio_blk_dreq fl = { .tag = 4, .op = PVIO_BLK_OP_FLUSH };
	ck_assert_int_eq(util_blk_sync(dev, 0, &fl), 0);

	/* the image file holds exactly that */
	uint8_t *img = malloc(64 * 1024);
	image_read(e.peer, 0, img, 4096);
	ck_assert_mem_eq(img, a.va, 4096);
	image_read(e.peer, MiB, img, 64 * 1024);
	ck_assert_mem_eq(img, big.va, 64 * 1024);
	image_read(e.peer, L->capacity - 512, img, 512);
	ck_assert_mem_eq(img, last.va, 512);

	/* and reads through the device return it, into other segments */
	struct pvio_dseg rd = util_seg(e.ctx, 64 * 1024);
	struct pvio_dseg rparts[2] = { util_sub(rd, 0, 4096),
				       util_sub(rd, 4096, 60 * 1024) };
	r = rw(5, 0, MiB, rparts, 2);
	ck_assert_int_eq(util_blk_sync(dev, 0, &r), 0);
	ck_assert_mem_eq(rd.va, big.va, 64 * 1024);

	/* write zeroes over 16 KiB in the middle of the big block */
	struct pvio_blk_dreq wz = { .tag = 6, .op = PVIO_BLK_OP_WRITE_ZEROES,
				    .offset = MiB + 8192, .len = 16384 };
	ck_assert_int_eq(util_blk_sync(dev, 0, &wz), 0);
	image_read(e.peer, MiB, img, 64 * 1024);
	ck_assert_mem_eq(img, big.va, 8192);
	ck_assert(all_zero(img + 8192, 16384));
	ck_assert_mem_eq(img + 8192 + 16384, (uint8_t *)big.va + 8192 + 16384,
			 64 * 1024 - 8192 - 16384);

	/* discard 1 MiB that holds data: the daemon punches a hole */
	struct pvio_dseg d8 = util_seg(e.ctx, MiB);
	fill(d8.va, MiB, 8);
	r = rw(7, 1, 8 * MiB, &d8, 1);
	ck_assert_int_eq(util_blk_sync(dev, 0, &r), 0);
	image_read(e.peer, 8 * MiB, img, 4096);
	ck_assert_mem_eq(img, d8.va, 4096);
	struct pvio_blk_dreq dis = { .tag = 8, .op = PVIO_BLK_OP_DISCARD,
				     .offset = 8 * MiB, .len = MiB };
	ck_assert_int_eq(util_blk_sync(dev, 0, &dis), 0);
	uint8_t *mb = malloc(MiB);
	image_read(e.peer, 8 * MiB, mb, MiB);
	ck_assert(all_zero(mb, MiB));
	free(mb);

	/* requests outside the limits are refused before the device sees
	 * them, and the device stays usable */
	const struct pvio_blk_ops *o = dev->ops->blk;
	r = rw(9, 0, L->capacity, &last, 1);
	ck_assert_int_eq(o->enqueue(dev, 0, &r), -EINVAL);
	r = rw(9, 0, L->capacity - 512, &a, 1); /* runs past the end */
	ck_assert_int_eq(o->enqueue(dev, 0, &r), -EINVAL);
	r = rw(9, 0, UINT64_MAX - 511, &last, 1); /* wraps around */
	ck_assert_int_eq(o->enqueue(dev, 0, &r), -EINVAL);
	r = rw(9, 0, 100, &last, 1); /* unaligned */
	ck_assert_int_eq(o->enqueue(dev, 0, &r), -EINVAL);
	r = rw(32, 0, 0, &last, 1); /* tag beyond max_tags */
	ck_assert_int_eq(o->enqueue(dev, 0, &r), -EINVAL);
	struct pvio_dseg many[200];
	for (int i = 0; i < 200; i++)
		many[i] = util_sub(big, 512 * (size_t)(i % 100), 512);
	r = rw(9, 0, 0, many, 127); /* more than seg_max */
	ck_assert_int_eq(o->enqueue(dev, 0, &r), -EINVAL);
	struct pvio_blk_dreq dbig = { .tag = 9, .op = PVIO_BLK_OP_DISCARD,
				      .offset = 0, .len = L->max_discard + 512 };
	ck_assert_int_eq(o->enqueue(dev, 0, &dbig), -EINVAL);
	ck_assert_int_eq(o->enqueue(dev, 1, &fl), -EINVAL); /* no queue 1 */

	/* the device itself refuses I/O past its end (pretend the disk is
	 * larger than it is): an error completion, no crash, still usable */
	uint64_t cap = dev->limits.blk.capacity;
	dev->limits.blk.capacity = cap + MiB;
	r = rw(10, 0, cap, &last, 1);
	ck_assert_int_eq(util_blk_sync(dev, 0, &r), -EIO);
	dev->limits.blk.capacity = cap;
	ck_assert_int_eq(pvio_dev_state(dev, NULL), PVIO_DEV_READY);
	r = rw(11, 0, 0, &a, 1);
	ck_assert_int_eq(util_blk_sync(dev, 0, &r), 0);

	struct pvio_queue_stats *st = &dev->stats[0];
	printf("qsd stats: notify_sent %llu suppressed %llu irqs %llu\n",
	       (unsigned long long)st->notify_sent,
	       (unsigned long long)st->notify_suppressed,
	       (unsigned long long)st->irqs);
	ck_assert_uint_gt(st->notify_sent, 0);
	ck_assert_uint_gt(st->irqs, 0);
	free(img);
	env_close(&e);
}
END_TEST

/* Many requests in flight at once, and more than 65536 in total through a
 * small ring so the real device sees the 16-bit indices wrap. */
START_TEST(blk_batches_and_wrap)
{
	struct env e;
	env_open(&e, NULL, "size=16", 1, 64);
	pvio_dev *dev = e.dev;
	const struct pvio_blk_ops *o = dev->ops->blk;
	ck_assert_uint_eq(virtio_of(dev)->vq[0].size, 16);

	/* 64 KiB pattern on disk, 512-byte reads of it in batches of 16 */
	struct pvio_dseg w = util_seg(e.ctx, 64 * 1024);
	fill(w.va, w.len, 77);
	struct pvio_blk_dreq r = rw(0, 1, 0, &w, 1);
	ck_assert_int_eq(util_blk_sync(dev, 0, &r), 0);
	struct pvio_dseg rd = util_seg(e.ctx, 16 * 512);
	int32_t st[64];
	unsigned total = 0;
	while (total < 66000) {
		memset(rd.va, 0, rd.len);
		for (uint32_t t = 0; t < 16; t++) {
			struct pvio_dseg s = util_sub(rd, t * 512u, 512);
			uint64_t off = ((total + t) % 128) * 512u;
			r = rw(t, 0, off, &s, 1);
			ck_assert_int_eq(o->enqueue(dev, 0, &r), 0);
		}
		/* the ring is full */
		struct pvio_dseg s = util_sub(rd, 0, 512);
		r = rw(16, 0, 0, &s, 1);
		ck_assert_int_eq(o->enqueue(dev, 0, &r), -EAGAIN);
		ck_assert_int_eq(o->kick(dev, 0), 0);
		for (int i = 0; i < 16; i++)
			st[i] = 1;
		ck_assert_int_eq(util_blk_collect(dev, 0, 16, st, 64), 16);
		for (uint32_t t = 0; t < 16; t++) {
			ck_assert_int_eq(st[t], 0);
			uint64_t off = ((total + t) % 128) * 512u;
			ck_assert_mem_eq((uint8_t *)rd.va + t * 512u,
					 (uint8_t *)w.va + off, 512);
		}
		total += 16;
	}
	struct virtio_vq *vq = &virtio_of(dev)->vq[0];
	ck_assert_uint_gt(vq->added, 65536);
	ck_assert_int_eq(vq->broken, 0);
	printf("qsd wrap: %u requests, notify_sent %llu suppressed %llu irqs %llu\n",
	       total, (unsigned long long)dev->stats[0].notify_sent,
	       (unsigned long long)dev->stats[0].notify_suppressed,
	       (unsigned long long)dev->stats[0].irqs);
	env_close(&e);
}
END_TEST

START_TEST(blk_multiqueue)
{
	struct env e;
	struct peer_qsd_opts qo = { .num_queues = 2 };
	env_open(&e, &qo, "class=blk", 0, 0);
	ck_assert_uint_eq(e.dev->limits.blk.max_queues, 2);
	struct pvio_dev_config cfg = { .num_queues = 2, .max_tags = 8 };
	ck_assert_int_eq(pvio_dev_configure(e.dev, &cfg), 0);
	ck_assert(e.dev->info.features & PVIO_F_MULTIQUEUE);
	struct pvio_dseg s[2] = { util_seg(e.ctx, 4096), util_seg(e.ctx, 4096) };
	struct pvio_dseg back = util_seg(e.ctx, 4096);
	for (unsigned q = 0; q < 2; q++) {
		fill(s[q].va, 4096, 100 + q);
		struct pvio_blk_dreq r = rw(q, 1, q * 4096u, &s[q], 1);
		ck_assert_int_eq(util_blk_sync(e.dev, q, &r), 0);
	}
	for (unsigned q = 0; q < 2; q++) {
		/* read each block through the other queue */
		struct pvio_blk_dreq r = rw(5, 0, (1 - q) * 4096u, &back, 1);
		ck_assert_int_eq(util_blk_sync(e.dev, q, &r), 0);
		ck_assert_mem_eq(back.va, s[1 - q].va, 4096);
	}
	ck_assert_uint_gt(e.dev->stats[1].notify_sent, 0);
	/* three queues are more than the device has */
	env_close(&e);
}
END_TEST

START_TEST(blk_read_only)
{
	struct env e;
	struct peer_qsd_opts qo = { .read_only = true };
	env_open(&e, &qo, NULL, 1, 8);
	ck_assert(e.dev->limits.blk.read_only);
	ck_assert(e.dev->info.features & PVIO_F_BLK_READ_ONLY);
	struct pvio_dseg s = util_seg(e.ctx, 4096);
	struct pvio_blk_dreq r = rw(0, 1, 0, &s, 1);
	ck_assert_int_eq(e.dev->ops->blk->enqueue(e.dev, 0, &r), -EROFS);
	r = rw(0, 0, 0, &s, 1);
	ck_assert_int_eq(util_blk_sync(e.dev, 0, &r), 0);
	env_close(&e);
}
END_TEST

/* Quiesce with requests in flight: everything the daemon took comes back,
 * nothing is lost, and the device then refuses new I/O. */
START_TEST(blk_quiesce)
{
	struct env e;
	env_open(&e, NULL, NULL, 1, 64);
	pvio_dev *dev = e.dev;
	const struct pvio_blk_ops *o = dev->ops->blk;
	struct pvio_dseg s = util_seg(e.ctx, 32 * 64 * 1024);
	for (uint32_t t = 0; t < 32; t++) {
		struct pvio_dseg p = util_sub(s, t * 65536u, 65536);
		struct pvio_blk_dreq r = rw(t, 1, t * 65536u, &p, 1);
		ck_assert_int_eq(o->enqueue(dev, 0, &r), 0);
	}
	ck_assert_int_eq(o->kick(dev, 0), 0);
	/* and a few that are never published */
	for (uint32_t t = 32; t < 36; t++) {
		struct pvio_dseg p = util_sub(s, 0, 512);
		struct pvio_blk_dreq r = rw(t, 0, 0, &p, 1);
		ck_assert_int_eq(o->enqueue(dev, 0, &r), 0);
	}
	int q = dev->ops->quiesce(dev);
	ck_assert_msg(q == 0, "quiesce: %s", pvio_errmsg(e.ctx));
	ck_assert_int_eq(pvio_dev_state(dev, NULL), PVIO_DEV_STOPPED);
	struct pvio_blk_dcomp c[64];
	int n = o->reap(dev, 0, c, 64);
	/* whatever the daemon took has completed; the rest never will */
	ck_assert_int_ge(n, 0);
	ck_assert_int_le(n, 32);
	for (int i = 0; i < n; i++) {
		ck_assert_uint_lt(c[i].tag, 32);
		ck_assert_int_eq(c[i].status, 0);
	}
	printf("qsd quiesce: %d of 32 published requests completed\n", n);
	ck_assert_int_eq(o->reap(dev, 0, c, 64), 0);
	struct pvio_dseg p = util_sub(s, 0, 512);
	struct pvio_blk_dreq r = rw(40, 0, 0, &p, 1);
	ck_assert_int_eq(o->enqueue(dev, 0, &r), -ESHUTDOWN);
	env_close(&e);
}
END_TEST

/* Kill the daemon while requests are in flight: the device is marked
 * removed, waits end, I/O fails; nothing hangs. */
START_TEST(blk_peer_killed)
{
	struct env e;
	env_open(&e, NULL, NULL, 1, 64);
	pvio_dev *dev = e.dev;
	const struct pvio_blk_ops *o = dev->ops->blk;
	struct pvio_dseg s = util_seg(e.ctx, 32 * 4096);
	/* frozen, so the requests are certainly still in flight */
	ck_assert_int_eq(peer_signal(e.peer, SIGSTOP), 0);
	for (uint32_t t = 0; t < 32; t++) {
		struct pvio_dseg p = util_sub(s, t * 4096u, 4096);
		struct pvio_blk_dreq r = rw(t, 1, t * 4096u, &p, 1);
		ck_assert_int_eq(o->enqueue(dev, 0, &r), 0);
	}
	ck_assert_int_eq(o->kick(dev, 0), 0);
	ck_assert_int_eq(peer_signal(e.peer, SIGKILL), 0);
	ck_assert_int_eq(peer_wait_exit(e.peer, 10000), 0);

	/* the wait wakes for the closed socket and finds the device gone */
	int32_t st[64];
	int r = util_blk_collect(dev, 0, 32, st, 64);
	ck_assert_int_eq(r, -ENODEV);
	const char *why;
	ck_assert_int_eq(pvio_dev_state(dev, &why), PVIO_DEV_REMOVED);
	printf("after kill: %s\n", why);
	struct pvio_event ev;
	ck_assert_int_eq(pvio_dev_next_event(dev, &ev), 1);
	ck_assert_int_eq(ev.type, PVIO_EVENT_REMOVED);
	struct pvio_dseg p = util_sub(s, 0, 512);
	struct pvio_blk_dreq rq = rw(40, 0, 0, &p, 1);
	ck_assert_int_eq(o->enqueue(dev, 0, &rq), -ENODEV);
	struct pvio_blk_dcomp c[4];
	ck_assert_int_eq(o->reap(dev, 0, c, 4), -ENODEV);
	ck_assert_int_eq(dev->ops->quiesce(dev), -ENODEV);
	env_close(&e);
}
END_TEST

/* The daemon serves a new connection after the first one closed. */
START_TEST(blk_reopen)
{
	struct env e;
	env_open(&e, NULL, NULL, 1, 8);
	struct pvio_dseg s = util_seg(e.ctx, 4096);
	fill(s.va, 4096, 5);
	struct pvio_blk_dreq r = rw(0, 1, 4096, &s, 1);
	ck_assert_int_eq(util_blk_sync(e.dev, 0, &r), 0);
	pvio_dev_close(e.dev);
	e.dev = NULL;
	ck_assert_int_eq(pvio_dev_open(e.ctx, e.addr, &e.dev), 0);
	struct pvio_dev_config cfg = { .num_queues = 1, .max_tags = 8 };
	ck_assert_int_eq(pvio_dev_configure(e.dev, &cfg), 0);
	struct pvio_dseg b = util_seg(e.ctx, 4096);
	r = rw(1, 0, 4096, &b, 1);
	ck_assert_int_eq(util_blk_sync(e.dev, 0, &r), 0);
	ck_assert_mem_eq(b.va, s.va, 4096);
	env_close(&e);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("vhost_user_blk");
	TCase *t = tcase_create("qsd");
	tcase_set_timeout(t, 120);
	tcase_add_test(t, blk_limits_and_io);
	tcase_add_test(t, blk_batches_and_wrap);
	tcase_add_test(t, blk_multiqueue);
	tcase_add_test(t, blk_read_only);
	tcase_add_test(t, blk_quiesce);
	tcase_add_test(t, blk_peer_killed);
	tcase_add_test(t, blk_reopen);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
