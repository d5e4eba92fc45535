/* SPDX-License-Identifier: MIT */
/*
 * Integration tests: the virtio back end against pvio's simulated KVM host
 * (`pvio sim virtio`), which has knobs the real peers lack: packed rings
 * and IN_ORDER for block devices, out-of-order and late completion, a
 * virtio-net device with its own config space and control queue.  The
 * simulated host is started in a temporary directory like the real peers
 * and stopped by pid.
 */
#include <fcntl.h>
#include <unistd.h>

#include "vhost_user_util.h"
#include "backends/virtio/virtio.h"

#define MiB (1u << 20)

static const char *pvio_bin(void)
{
	const char *p = getenv("PVIO");
	ck_assert_msg(p && *p, "PVIO is not set (run through make check)");
	return p;
}

struct sim {
	struct peer *peer;
	pvio_ctx *ctx;
	pvio_dev *dev;
};

static void sim_open(struct sim *s, const char *dev_opt, const char *arg,
		     const char *addr_opts, unsigned nq, uint32_t tags)
{
	const char *argv[] = { pvio_bin(), "sim", "virtio", "--log-level", "warn",
			       dev_opt, arg, NULL };
	memset(s, 0, sizeof(*s));
	s->peer = peer_cmd_start("pvio sim virtio", argv, PEER_START_MS);
	ck_assert_msg(s->peer != NULL, "pvio sim virtio did not start");
	s->ctx = util_ctx(64u * MiB, 5000);
	char addr[400];
	peer_address(s->peer, addr_opts, addr, sizeof(addr));
	int r = pvio_dev_open(s->ctx, addr, &s->dev);
	ck_assert_msg(r == 0, "open %s: %s", addr, pvio_errmsg(s->ctx));
	struct pvio_dev_config cfg = { .num_queues = nq, .max_tags = tags };
	r = pvio_dev_configure(s->dev, &cfg);
	ck_assert_msg(r == 0, "configure: %s", pvio_errmsg(s->ctx));
	util_print_info(s->dev, "sim");
}

static void sim_close(struct sim *s)
{
	if (getenv("PVIO_TEST_PEER_LOG"))
		printf("---- sim log ----\n%s\n", peer_log_tail(s->peer));
	pvio_dev_close(s->dev);
	pvio_ctx_free(s->ctx);
	ck_assert_int_eq(peer_stop(s->peer, 5000), 0);
}

static void image_read(const struct peer *p, uint64_t off, void *buf, size_t n)
{
	char path[400];
	snprintf(path, sizeof(path), "%s/disk.img", p->dir);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, buf, n, (off_t)off), (ssize_t)n);
	close(fd);
}

/* rounds x 16 requests through the ring: writes of 4 KiB (two segments),
 * then reads of them into other buffers, checked, and the image file */
static void blk_rounds(struct sim *s, unsigned rounds)
{
	pvio_dev *dev = s->dev;
	const struct pvio_blk_ops *o = dev->ops->blk;
	struct pvio_dseg w = util_seg(s->ctx, 16 * 4096);
	struct pvio_dseg r = util_seg(s->ctx, 16 * 4096);
	int32_t st[32];
	uint8_t *img = malloc(16 * 4096);
	for (unsigned round = 0; round < rounds; round++) {
		uint64_t base = (round % 64) * 16 * 4096ull;
		for (unsigned i = 0; i < 16 * 4096; i++)
			((uint8_t *)w.va)[i] = (uint8_t)(i * 7 + round);
		for (uint32_t t = 0; t < 16; t++) {
			struct pvio_dseg seg[2] = { util_sub(w, t * 4096u, 512),
						    util_sub(w, t * 4096u + 512, 3584) };
			struct pvio_blk_dreq q = { .tag = t, .op = PVIO_BLK_OP_WRITE,
						   .nseg = 2, .offset = base + t * 4096u,
						   .len = 4096, .seg = seg };
			ck_assert_int_eq(o->enqueue(dev, 0, &q), 0);
		}
		ck_assert_int_eq(o->kick(dev, 0), 0);
		ck_assert_int_eq(util_blk_collect(dev, 0, 16, st, 32), 16);
		for (int t = 0; t < 16; t++)
			ck_assert_int_eq(st[t], 0);
		memset(r.va, 0, r.len);
		for (uint32_t t = 0; t < 16; t++) {
			struct pvio_dseg seg = util_sub(r, t * 4096u, 4096);
			struct pvio_blk_dreq q = { .tag = 16 + t, .op = PVIO_BLK_OP_READ,
						   .nseg = 1, .offset = base + t * 4096u,
						   .len = 4096, .seg = &seg };
			ck_assert_int_eq(o->enqueue(dev, 0, &q), 0);
		}
		ck_assert_int_eq(o->kick(dev, 0), 0);
		ck_assert_int_eq(util_blk_collect(dev, 0, 16, st, 32), 16);
		for (int t = 16; t < 32; t++)
			ck_assert_int_eq(st[t], 0);
		ck_assert_mem_eq(r.va, w.va, 16 * 4096);
	}
	image_read(s->peer, ((rounds - 1) % 64) * 16 * 4096ull, img, 16 * 4096);
	ck_assert_mem_eq(img, w.va, 16 * 4096);
	free(img);
	ck_assert_int_eq(virtio_of(dev)->vq[0].broken, 0);
}

START_TEST(sim_blk_packed_in_order)
{
	struct sim s;
	sim_open(&s, "--blk", "@SOCK@=@DIR@/disk.img,size=16M,packed=on,in_order=on,batch=8",
		 "size=16", 1, 32);
	struct virtio_dev *vd = virtio_of(s.dev);
	ck_assert(vd->features & VW_BIT(VW_F_RING_PACKED));
	ck_assert(vd->features & VW_BIT(VW_F_IN_ORDER));
	/* 16 slots, 32 requests a round: the wrap counters flip each round */
	blk_rounds(&s, 300);
	sim_close(&s);
}
END_TEST

START_TEST(sim_blk_out_of_order_split)
{
	struct sim s;
	sim_open(&s, "--blk", "@SOCK@=@DIR@/disk.img,size=16M,packed=off,ooo=on,batch=16",
		 "size=16", 1, 32);
	ck_assert(!(virtio_of(s.dev)->features & VW_BIT(VW_F_RING_PACKED)));
	blk_rounds(&s, 300);
	sim_close(&s);
}
END_TEST

START_TEST(sim_blk_out_of_order_packed)
{
	struct sim s;
	sim_open(&s, "--blk", "@SOCK@=@DIR@/disk.img,size=16M,packed=on,ooo=on,batch=16",
		 "size=16", 1, 32);
	ck_assert(virtio_of(s.dev)->features & VW_BIT(VW_F_RING_PACKED));
	ck_assert(!(virtio_of(s.dev)->features & VW_BIT(VW_F_IN_ORDER)));
	blk_rounds(&s, 300);
	sim_close(&s);
}
END_TEST

/* Completions come late; quiesce waits for what the device took. */
START_TEST(sim_blk_late_quiesce)
{
	struct sim s;
	sim_open(&s, "--blk", "@SOCK@=@DIR@/disk.img,size=16M,delay=200", NULL, 1, 32);
	pvio_dev *dev = s.dev;
	struct pvio_dseg b = util_seg(s.ctx, 8 * 4096);
	for (uint32_t t = 0; t < 8; t++) {
		struct pvio_dseg seg = util_sub(b, t * 4096u, 4096);
		struct pvio_blk_dreq q = { .tag = t, .op = PVIO_BLK_OP_WRITE,
					   .nseg = 1, .offset = t * 4096u,
					   .len = 4096, .seg = &seg };
		ck_assert_int_eq(dev->ops->blk->enqueue(dev, 0, &q), 0);
	}
	ck_assert_int_eq(dev->ops->blk->kick(dev, 0), 0);
	int r = dev->ops->quiesce(dev);
	ck_assert_msg(r == 0, "quiesce: %s", pvio_errmsg(s.ctx));
	struct pvio_blk_dcomp c[16];
	int n = dev->ops->blk->reap(dev, 0, c, 16);
	printf("sim late quiesce: %d of 8 completed before the stop returned\n", n);
	ck_assert_int_ge(n, 0);
	for (int i = 0; i < n; i++)
		ck_assert_int_eq(c[i].status, 0);
	ck_assert(!virtio_of(dev)->leak);
	sim_close(&s);
}
END_TEST

static void net_traffic(struct sim *s, unsigned pairs)
{
	pvio_dev *dev = s->dev;
	const struct pvio_net_ops *o = dev->ops->net;
	/* buffers for the device's MTU; frames up to it */
	const uint32_t BS = 8192, maxlen = dev->limits.net.mtu + 14;
	ck_assert_uint_le(dev->limits.net.rx_buf_min, BS);
	for (unsigned q = 0; q < pairs; q++) {
		struct pvio_dseg rx = util_seg(s->ctx, 64 * BS);
		struct pvio_dseg tx = util_seg(s->ctx, BS);
		for (uint32_t t = 0; t < 64; t++) {
			struct pvio_net_rxb b = { t, util_sub(rx, t * BS, BS) };
			ck_assert_int_eq(o->rx_post(dev, q, &b), 0);
		}
		ck_assert_int_eq(o->kick(dev, q, PVIO_NET_KICK_RX), 0);
		for (uint32_t len = 60; len <= maxlen; len += 7) {
			uint8_t *f = tx.va;
			memset(f, 0xff, 6);
			memcpy(f + 6, dev->limits.net.mac, 6);
			f[12] = 0x88;
			f[13] = 0xb5;
			for (uint32_t i = 14; i < len; i++)
				f[i] = (uint8_t)(i ^ len ^ q);
			struct pvio_dseg seg = util_sub(tx, 0, len);
			struct pvio_net_txd t = { .tag = 0, .nseg = 1, .len = len,
						  .seg = &seg };
			ck_assert_int_eq(o->tx_enqueue(dev, q, &t), 0);
			ck_assert_int_eq(o->kick(dev, q, PVIO_NET_KICK_TX), 0);
			uint64_t deadline = util_now(s->ctx) + IO_WAIT_NS;
			int got = 0, done = 0;
			while (!got || !done) {
				struct pvio_net_rxc c;
				if (!got && o->rx_reap(dev, q, &c, 1) == 1) {
					ck_assert_int_eq(c.status, 0);
					ck_assert_uint_eq(c.len, len);
					ck_assert_mem_eq((uint8_t *)rx.va + c.tag * BS +
								 c.offset,
							 f, len);
					struct pvio_net_rxb b = {
						c.tag, util_sub(rx, c.tag * BS, BS) };
					ck_assert_int_eq(o->rx_post(dev, q, &b), 0);
					ck_assert_int_eq(o->kick(dev, q, PVIO_NET_KICK_RX), 0);
					got = 1;
				}
				uint32_t tag;
				if (!done && o->tx_reap(dev, q, &tag, 1) == 1)
					done = 1;
				if (got && done)
					break;
				ck_assert_msg(util_now(s->ctx) < deadline,
					      "frame of %u bytes lost", len);
				ck_assert_int_ge(pvio_dev_wait(dev, q, deadline), 0);
			}
		}
	}
}

/* A net device with its own config space and a control queue. */
START_TEST(sim_net_device_config)
{
	struct sim s;
	sim_open(&s, "--net", "@SOCK@,queues=2,mac=02:aa:bb:cc:dd:ee,mtu=4000",
		 NULL, 2, 64);
	const struct pvio_net_limits *L = &s.dev->limits.net;
	const uint8_t mac[6] = { 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee };
	ck_assert_int_eq(s.dev->info.cls, PVIO_CLASS_NET); /* inferred */
	ck_assert_mem_eq(L->mac, mac, 6);
	ck_assert_uint_eq(L->mtu, 4000);
	ck_assert(L->link_up);
	ck_assert_uint_eq(L->max_queues, 2);
	struct virtio_dev *vd = virtio_of(s.dev);
	ck_assert(vd->features & VW_BIT(VW_NET_F_CTRL_VQ));
	ck_assert(vd->features & VW_BIT(VW_NET_F_MQ));
	ck_assert(s.dev->info.features & PVIO_F_NET_MAC);
	net_traffic(&s, 2);
	/* this device cannot change its MAC */
	const uint8_t other[6] = { 0x02, 1, 1, 1, 1, 1 };
	ck_assert_int_eq(s.dev->ops->net->set_mac(s.dev, other), -EOPNOTSUPP);
	sim_close(&s);
}
END_TEST

START_TEST(sim_net_packed_in_order)
{
	struct sim s;
	sim_open(&s, "--net", "@SOCK@,packed=on,in_order=on,batch=4", NULL, 1, 64);
	struct virtio_dev *vd = virtio_of(s.dev);
	ck_assert(vd->features & VW_BIT(VW_F_RING_PACKED));
	ck_assert(vd->features & VW_BIT(VW_F_IN_ORDER));
	net_traffic(&s, 1);
	sim_close(&s);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("vhost_user_sim");
	TCase *t = tcase_create("pvio sim virtio");
	tcase_set_timeout(t, 120);
	tcase_add_test(t, sim_blk_packed_in_order);
	tcase_add_test(t, sim_blk_out_of_order_split);
	tcase_add_test(t, sim_blk_out_of_order_packed);
	tcase_add_test(t, sim_blk_late_quiesce);
	tcase_add_test(t, sim_net_device_config);
	tcase_add_test(t, sim_net_packed_in_order);
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
