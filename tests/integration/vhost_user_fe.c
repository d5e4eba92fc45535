/* SPDX-License-Identifier: MIT */
/*
 * Integration tests: the block and network front ends (pvio_blk_*,
 * pvio_net_*) on the virtio back end, against the real peers -
 * qemu-storage-daemon and dpdk-testpmd.  Caller memory is ordinary
 * malloc()ed memory here, so the front ends bounce it; data is checked
 * against the image file and against what testpmd sends back.
 */
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <pvio/blk.h>
#include <pvio/net.h>

#include "vhost_user_util.h"

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

static bool all_zero(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

START_TEST(fe_blk_io)
{
	struct peer_qsd_opts qo = { .image_size = 64u * MiB, .num_queues = 2 };
	struct peer *p = peer_qsd_start(&qo, PEER_START_MS);
	ck_assert_ptr_nonnull(p);
	pvio_ctx *ctx = util_ctx(128u * MiB, 5000);
	char addr[400];
	peer_address(p, NULL, addr, sizeof(addr));
	struct pvio_blk_opts o = { .struct_size = sizeof(o), .num_queues = 2,
				   .queue_depth = 32 };
	pvio_blk *blk;
	int r = pvio_blk_open(ctx, addr, &o, &blk);
	ck_assert_msg(r == 0, "pvio_blk_open: %s", pvio_errmsg(ctx));
	struct pvio_blk_info in = { .struct_size = sizeof(in) };
	ck_assert_int_eq(pvio_blk_get_info(blk, &in), 0);
	ck_assert_uint_eq(in.capacity, 64u * MiB);
	ck_assert_uint_eq(in.block_size, 512);
	ck_assert_uint_eq(in.num_queues, 2);
	ck_assert(in.flush && in.discard && in.write_zeroes && !in.read_only);
	printf("fe blk: max_transfer %u max_segments %u depth %u features 0x%llx\n",
	       in.max_transfer, in.max_segments, in.queue_depth,
	       (unsigned long long)in.features);

	/* 3 MiB from ordinary memory: bounced, split into device requests */
	size_t n = 3 * MiB + 4096;
	uint8_t *w = malloc(n), *rd = malloc(n), *img = malloc(n);
	fill(w, n, 42);
	ck_assert_int_eq(pvio_blk_pwrite(blk, 512 * 3, w, n), 0);
	ck_assert_int_eq(pvio_blk_sync_flush(blk), 0);
	image_read(p, 512 * 3, img, n);
	ck_assert_mem_eq(img, w, n);
	memset(rd, 0, n);
	ck_assert_int_eq(pvio_blk_pread(blk, 512 * 3, rd, n), 0);
	ck_assert_mem_eq(rd, w, n);

	/* write zeroes and discard, as the image shows them */
	ck_assert_int_eq(pvio_blk_sync_write_zeroes(blk, MiB, 64 * 1024), 0);
	image_read(p, MiB, img, 64 * 1024);
	ck_assert(all_zero(img, 64 * 1024));
	ck_assert_int_eq(pvio_blk_sync_discard(blk, 2 * MiB, MiB), 0);
	image_read(p, 2 * MiB, img, MiB);
	ck_assert(all_zero(img, MiB));

	/* asynchronous, on both queues */
	uint8_t *bufs = malloc(32 * 8192);
	for (unsigned q = 0; q < 2; q++) {
		for (unsigned i = 0; i < 16; i++) {
			uint8_t *b = bufs + (q * 16 + i) * 8192;
			fill(b, 8192, 1000 + q * 16 + i);
			r = pvio_blk_write(blk, q, 8 * MiB + (q * 16 + i) * 8192ull,
					   b, 8192, b, 0);
			ck_assert_msg(r == 0, "write: %s", pvio_errmsg(ctx));
		}
		ck_assert_int_eq(pvio_blk_submit(blk, q), 0);
	}
	for (unsigned q = 0; q < 2; q++) {
		struct pvio_blk_completion c[16];
		unsigned got = 0;
		while (got < 16) {
			int k = pvio_blk_poll(blk, q, c, 1, 16, 10ll * 1000000000);
			ck_assert_int_gt(k, 0);
			for (int j = 0; j < k; j++)
				ck_assert_int_eq(c[j].ret, 0);
			got += (unsigned)k;
		}
	}
	image_read(p, 8 * MiB, img, 32 * 8192);
	ck_assert_mem_eq(img, bufs, 32 * 8192);

	/* beyond the end: refused with a message */
	r = pvio_blk_pread(blk, 64u * MiB, rd, 512);
	ck_assert_int_lt(r, 0);
	printf("fe blk: read beyond the end -> %d: %s\n", r, pvio_errmsg(ctx));

	struct pvio_queue_stats st;
	ck_assert_int_eq(pvio_blk_get_stats(blk, 0, &st), 0);
	printf("fe blk q0: requests %llu device_requests %llu copies %llu "
	       "notify_sent %llu suppressed %llu irqs %llu\n",
	       (unsigned long long)st.requests,
	       (unsigned long long)st.device_requests,
	       (unsigned long long)st.copies,
	       (unsigned long long)st.notify_sent,
	       (unsigned long long)st.notify_suppressed,
	       (unsigned long long)st.irqs);
	ck_assert_uint_gt(st.device_requests, st.requests); /* split */
	ck_assert_uint_gt(st.notify_sent, 0);
	pvio_blk_close(blk);
	pvio_ctx_free(ctx);
	free(w);
	free(rd);
	free(img);
	free(bufs);
	ck_assert_int_eq(peer_stop(p, 5000), 0);
}
END_TEST

/* The daemon dies with writes in flight and comes back on the same socket
 * and image: the front end reconnects and replays them. */
START_TEST(fe_blk_reconnect)
{
	struct peer *p = peer_qsd_start(NULL, PEER_START_MS);
	ck_assert_ptr_nonnull(p);
	pvio_ctx *ctx = util_ctx(64u * MiB, 5000);
	char addr[400];
	peer_address(p, NULL, addr, sizeof(addr));
	struct pvio_blk_opts o = { .struct_size = sizeof(o), .queue_depth = 32,
				   .flags = PVIO_BLK_KEEP_ON_FAILURE };
	pvio_blk *blk;
	ck_assert_int_eq(pvio_blk_open(ctx, addr, &o, &blk), 0);
	uint8_t *bufs = malloc(16 * 4096);
	fill(bufs, 16 * 4096, 7);

	ck_assert_int_eq(peer_signal(p, SIGSTOP), 0);
	for (unsigned i = 0; i < 16; i++)
		ck_assert_int_eq(pvio_blk_write(blk, 0, i * 4096ull,
						bufs + i * 4096, 4096,
						bufs + i * 4096, 0), 0);
	ck_assert_int_eq(pvio_blk_submit(blk, 0), 0);
	ck_assert_int_eq(peer_signal(p, SIGKILL), 0);
	ck_assert_int_eq(peer_wait_exit(p, 10000), 0);

	/* the front end notices; the writes are held, not failed */
	struct pvio_blk_completion c[16];
	int k = pvio_blk_poll(blk, 0, c, 1, 16, 3ll * 1000000000);
	ck_assert_int_le(k, 0);
	ck_assert_int_eq(pvio_dev_state(pvio_blk_dev(blk), NULL),
			 PVIO_DEV_REMOVED);
	ck_assert_uint_eq(pvio_blk_inflight(blk, 0), 16);

	ck_assert_int_eq(peer_restart(p, PEER_START_MS), 0);
	struct pvio_migrate_report rep = { .struct_size = sizeof(rep) };
	int r = pvio_blk_reconnect(blk, &rep);
	ck_assert_msg(r == 0, "reconnect: %s", pvio_errmsg(ctx));
	printf("fe blk reconnect: replayed %u failed %u\n", rep.replayed,
	       rep.failed);
	ck_assert_uint_eq(rep.replayed, 16);
	unsigned got = 0;
	while (got < 16) {
		k = pvio_blk_poll(blk, 0, c, 1, 16, 10ll * 1000000000);
		ck_assert_int_gt(k, 0);
		for (int j = 0; j < k; j++)
			ck_assert_int_eq(c[j].ret, 0);
		got += (unsigned)k;
	}
	uint8_t *img = malloc(16 * 4096);
	image_read(p, 0, img, 16 * 4096);
	ck_assert_mem_eq(img, bufs, 16 * 4096);
	pvio_blk_close(blk);
	pvio_ctx_free(ctx);
	free(bufs);
	free(img);
	peer_stop(p, 5000);
}
END_TEST

static void fe_net(const char *opts, unsigned pairs)
{
	struct peer_testpmd_opts po = { .queues = pairs };
	struct peer *p = peer_testpmd_start(&po, PEER_START_MS);
	ck_assert_ptr_nonnull(p);
	pvio_ctx *ctx = util_ctx(128u * MiB, 5000);
	char addr[400];
	peer_address(p, opts, addr, sizeof(addr));
	struct pvio_net_opts o = { .struct_size = sizeof(o), .num_queues = pairs };
	pvio_net *net;
	int r = pvio_net_open(ctx, addr, &o, &net);
	ck_assert_msg(r == 0, "pvio_net_open: %s", pvio_errmsg(ctx));
	struct pvio_net_info in = { .struct_size = sizeof(in) };
	ck_assert_int_eq(pvio_net_get_info(net, &in), 0);
	ck_assert_uint_eq(in.mtu, 1500);
	ck_assert(in.link_up);
	printf("fe net %s: ring %u buf %u max_tx_frame %u features 0x%llx\n",
	       opts ? opts : "", in.ring_size, in.buf_size, in.max_tx_frame,
	       (unsigned long long)in.features);

	uint8_t frame[1514], back[2048];
	for (unsigned q = 0; q < pairs; q++) {
		for (uint32_t len = 60; len <= 1514; len++) {
			memset(frame, 0xff, 6);
			memcpy(frame + 6, in.mac, 6);
			frame[12] = 0x88;
			frame[13] = 0xb5;
			fill(frame + 14, len - 14, len * 31 + q);
			uint64_t deadline = util_now(ctx) + IO_WAIT_NS;
			while ((r = pvio_net_send(net, q, frame, len, NULL)) == -EAGAIN) {
				ck_assert(util_now(ctx) < deadline);
				ck_assert_int_ge(pvio_net_wait(net, q, 100000000), 0);
			}
			ck_assert_msg(r == 0, "send %u: %s", len, pvio_errmsg(ctx));
			for (;;) {
				r = pvio_net_recv(net, q, back, sizeof(back), NULL);
				if (r != 0)
					break;
				ck_assert_msg(util_now(ctx) < deadline,
					      "frame of %u bytes did not come back",
					      len);
				ck_assert_int_ge(pvio_net_wait(net, q, 100000000), 0);
			}
			ck_assert_int_eq(r, (int)len);
			ck_assert_mem_eq(back, frame, len);
		}
	}
	struct pvio_queue_stats st;
	ck_assert_int_eq(pvio_net_get_stats(net, 0, &st), 0);
	printf("fe net q0: requests %llu bytes %llu copies %llu notify_sent "
	       "%llu suppressed %llu irqs %llu rx_errors %llu\n",
	       (unsigned long long)st.requests, (unsigned long long)st.bytes,
	       (unsigned long long)st.copies, (unsigned long long)st.notify_sent,
	       (unsigned long long)st.notify_suppressed,
	       (unsigned long long)st.irqs, (unsigned long long)st.rx_errors);
	ck_assert_uint_eq(st.rx_errors, 0);
	pvio_net_close(net);
	pvio_ctx_free(ctx);
	ck_assert_int_eq(peer_stop(p, 10000), 0);
}

START_TEST(fe_net_split)
{
	fe_net("packed=off", 1);
}
END_TEST

START_TEST(fe_net_packed_two_pairs)
{
	fe_net("queues=2", 2);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("vhost_user_fe");
	TCase *t = tcase_create("frontends");
	tcase_set_timeout(t, 180);
	tcase_add_test(t, fe_blk_io);
	tcase_add_test(t, fe_blk_reconnect);
	tcase_add_test(t, fe_net_split);
	tcase_add_test(t, fe_net_packed_two_pairs);
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
