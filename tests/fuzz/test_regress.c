/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/test_regress.c - unit tests for the bugs the fuzzers found,
 * one test per fix, stated plainly (the inputs that found them are in
 * tests/fuzz/corpus/ and replayed by tests/fuzz/replay_*).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pvio/transport.h>

#include "backends/virtio/virtio.h"

/* ---------------------------------------------------------------- core */

/* fuzz_core: %hhX printed the whole int; C prints the low byte.  The
 * arguments are deliberately wider than the conversions (clang warns). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat"
START_TEST(fmt_h_hh)
{
	char b[64];
	ck_assert_int_eq(pvio_snprintf(b, sizeof(b), "%hhX|%hhd|%hu|%hd", 0x1ff,
				       0x180, 0x12345, 0x8000),
			 snprintf(b, 0, "%hhX|%hhd|%hu|%hd", 0x1ff, 0x180,
				  0x12345, 0x8000));
	ck_assert_str_eq(b, "FF|-128|9029|-32768");
}
END_TEST
#pragma GCC diagnostic pop

/* fuzz_core: a negative '*' width is the - flag, as in C. */
START_TEST(fmt_negative_star_width)
{
	char b[64];
	ck_assert_int_eq(pvio_snprintf(b, sizeof(b), "[%*d]", -5, 42), 7);
	ck_assert_str_eq(b, "[42   ]");
	ck_assert_int_eq(pvio_snprintf(b, sizeof(b), "[%*s]", -4, "x"), 6);
	ck_assert_str_eq(b, "[x   ]");
}
END_TEST

/* fuzz_core: %c ignored its width. */
START_TEST(fmt_char_width)
{
	char b[64];
	ck_assert_int_eq(pvio_snprintf(b, sizeof(b), "[%3c|%-3c]", 'a', 'b'), 9);
	ck_assert_str_eq(b, "[  a|b  ]");
}
END_TEST

/* fuzz_core: a string that is not a number but has more digits than fit
 * in 64 bits said -ERANGE ("out of range") instead of -EINVAL. */
START_TEST(parse_u64_garbage_after_overflow)
{
	uint64_t v = 7;
	ck_assert_int_eq(pvio_parse_u64("077375164674375164674407315x", UINT64_MAX,
					&v),
			 -EINVAL);
	ck_assert_int_eq(pvio_parse_u64("0x1ffffffffffffffffz", UINT64_MAX, &v),
			 -EINVAL);
	ck_assert_int_eq(pvio_parse_u64("184467440737095516160", UINT64_MAX, &v),
			 -ERANGE);
	ck_assert_uint_eq(v, 7);
	ck_assert_int_eq(pvio_parse_u64("18446744073709551615", UINT64_MAX, &v), 0);
	ck_assert_uint_eq(v, UINT64_MAX);
}
END_TEST

/* ---------------------------------------------------------------- virtio */

/* A virtio device that offers VERSION_1 only, has no config space unless
 * asked, and whose virtqueue vq holds at most qmax[vq] entries. */
struct tiny {
	struct virtio_hostif h;
	uint16_t qmax[4];
	uint8_t status;
	uint8_t cfg[64];
	int has_cfg;
	uint64_t extra; /* feature bits offered besides VERSION_1 and MQ */
};

static int t_get_features(struct virtio_hostif *h, uint64_t *f)
{
	*f = VW_BIT(VW_F_VERSION_1) | VW_BIT(VW_BLK_F_MQ) |
	     ((struct tiny *)(void *)h)->extra;
	return 0;
}
static int t_set_features(struct virtio_hostif *h, uint64_t f)
{
	(void)h, (void)f;
	return 0;
}
static int t_get_status(struct virtio_hostif *h, uint8_t *st)
{
	*st = ((struct tiny *)(void *)h)->status;
	return 0;
}
static int t_set_status(struct virtio_hostif *h, uint8_t st)
{
	((struct tiny *)(void *)h)->status = st;
	return 0;
}
static int t_config_read(struct virtio_hostif *h, uint32_t off, void *b,
			 uint32_t len)
{
	struct tiny *t = (struct tiny *)(void *)h;
	if (!t->has_cfg || off + len > sizeof(t->cfg))
		return -EOPNOTSUPP;
	memcpy(b, t->cfg + off, len);
	return 0;
}
static uint16_t t_queue_max(struct virtio_hostif *h, unsigned vq)
{
	return vq < 4 ? ((struct tiny *)(void *)h)->qmax[vq] : 0;
}
static int t_queue_setup(struct virtio_hostif *h, unsigned vq,
			 const struct virtio_queue_cfg *c)
{
	(void)h, (void)vq, (void)c;
	return 0;
}
static int t_queue_enable(struct virtio_hostif *h, unsigned vq, bool on)
{
	(void)h, (void)vq, (void)on;
	return 0;
}
static int t_stop(struct virtio_hostif *h, unsigned n, const uint16_t *nums,
		  uint32_t *bases)
{
	(void)h, (void)nums;
	for (unsigned i = 0; i < n; i++)
		bases[i] = UINT32_MAX;
	return 0;
}
static void t_notify(struct virtio_hostif *h, unsigned vq, uint32_t d)
{
	(void)h, (void)vq, (void)d;
}
static int t_irq_fd(struct virtio_hostif *h, unsigned irq)
{
	(void)h, (void)irq;
	return -EOPNOTSUPP;
}
static void t_irq_ack(struct virtio_hostif *h, unsigned irq)
{
	(void)h, (void)irq;
}
static int t_event_fd(struct virtio_hostif *h)
{
	(void)h;
	return -EOPNOTSUPP;
}
static int t_service(struct virtio_hostif *h, unsigned *what)
{
	(void)h;
	*what = 0;
	return 0;
}
static void t_wait(struct virtio_hostif *h, int irq, uint64_t dl)
{
	(void)h, (void)irq, (void)dl;
}
static void t_close(struct virtio_hostif *h)
{
	(void)h;
}
static const struct virtio_hostif_ops tiny_ops = {
	t_get_features, t_set_features, t_get_status, t_set_status,
	t_config_read, t_queue_max, t_queue_setup, t_queue_enable, t_stop,
	t_notify, t_irq_fd, t_irq_ack, t_event_fd, t_service, t_wait, t_close,
};

static pvio_ctx *small_ctx(void)
{
	pvio_ctx *ctx;
	struct pvio_ctx_opts o = { .struct_size = sizeof(o),
				   .dma_pool_size = 4u << 20,
				   .log_level = PVIO_LOG_ERROR,
				   .timeout_ms = 50 };
	ck_assert_int_eq(pvio_ctx_new(&o, &ctx), 0);
	return ctx;
}

static int tiny_open(pvio_ctx *ctx, struct tiny *t, uint32_t id,
		     pvio_dev **dev)
{
	t->h.ops = &tiny_ops;
	t->h.ctx = ctx;
	t->h.name = "tiny";
	t->h.device_id = id;
	t->h.transport_features = VW_BIT(VW_F_VERSION_1);
	struct virtio_open_args a = {
		.cls = id == VW_ID_BLK ? PVIO_CLASS_BLK : PVIO_CLASS_NET,
		.address = "tiny:0",
	};
	return virtio_dev_open(ctx, &t->h, &a, dev);
}

/* fuzz_virtio_dev: a net device whose queues hold one descriptor, without
 * indirect descriptors, was opened; every frame then failed with -EINVAL
 * (the header and the data need two). */
START_TEST(virtio_net_queue_too_small)
{
	pvio_ctx *ctx = small_ctx();
	struct tiny t = { .qmax = { 1, 1, 1, 1 } };
	pvio_dev *dev = NULL;
	ck_assert_int_eq(tiny_open(ctx, &t, VW_ID_NET, &dev), -EPROTO);
	ck_assert_ptr_null(dev);
	ck_assert_ptr_nonnull(strstr(pvio_errmsg(ctx), "cannot hold a frame"));
	pvio_ctx_free(ctx);
}
END_TEST

/* The same for block: header, data and status need three. */
START_TEST(virtio_blk_queue_too_small)
{
	pvio_ctx *ctx = small_ctx();
	struct tiny t = { .qmax = { 2, 2, 2, 2 }, .has_cfg = 1 };
	t.cfg[0] = 64; /* 64 sectors */
	pvio_dev *dev = NULL;
	ck_assert_int_eq(tiny_open(ctx, &t, VW_ID_BLK, &dev), -EPROTO);
	ck_assert_ptr_nonnull(strstr(pvio_errmsg(ctx), "cannot hold a request"));
	pvio_ctx_free(ctx);
}
END_TEST

/* A second queue smaller than the first, whose size the limits came
 * from: refused at configure, not left to fail requests. */
START_TEST(virtio_queues_of_different_sizes)
{
	pvio_ctx *ctx = small_ctx();
	struct tiny t = { .qmax = { 8, 4, 8, 8 }, .has_cfg = 1 };
	t.cfg[0] = 64;
	t.cfg[VW_BLK_CFG_NUM_QUEUES] = 2;
	pvio_dev *dev = NULL;
	ck_assert_int_eq(tiny_open(ctx, &t, VW_ID_BLK, &dev), 0);
	struct pvio_dev_config cfg = { .num_queues = 2, .max_tags = 2 };
	ck_assert_int_eq(pvio_dev_configure(dev, &cfg), -EPROTO);
	ck_assert_ptr_nonnull(strstr(pvio_errmsg(ctx), "equally large"));
	pvio_dev_close(dev);
	pvio_ctx_free(ctx);
}
END_TEST

/* fuzz_virtio_dev: a net device with MTU 65535 that offers TSO got a
 * frame limit of 64 KiB, less than one MTU-sized frame; frames the MTU
 * allows were refused. */
START_TEST(virtio_net_mtu_above_tso_limit)
{
	pvio_ctx *ctx = small_ctx();
	struct tiny t = { .qmax = { 8, 8, 8, 8 }, .has_cfg = 1,
			  .extra = VW_BIT(VW_NET_F_MTU) | VW_BIT(VW_NET_F_CSUM) |
				   VW_BIT(VW_NET_F_HOST_TSO4) };
	t.cfg[VW_NET_CFG_MTU] = 0xff;
	t.cfg[VW_NET_CFG_MTU + 1] = 0xff;
	pvio_dev *dev = NULL;
	ck_assert_int_eq(tiny_open(ctx, &t, VW_ID_NET, &dev), 0);
	ck_assert_uint_eq(dev->limits.net.mtu, 65535);
	ck_assert_uint_ge(dev->limits.net.max_tx_frame, 65535 + 18);
	struct pvio_dev_config cfg = {
		.num_queues = 1, .max_tags = 2,
		.want = PVIO_F_NET_CSUM_TX | PVIO_F_NET_TSO4,
	};
	ck_assert_int_eq(pvio_dev_configure(dev, &cfg), 0);
	ck_assert_uint_ge(dev->limits.net.max_tx_frame, 65535 + 18);
	pvio_dev_close(dev);
	pvio_ctx_free(ctx);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("fuzz-regress");
	TCase *c = tcase_create("core");
	tcase_add_test(c, fmt_h_hh);
	tcase_add_test(c, fmt_negative_star_width);
	tcase_add_test(c, fmt_char_width);
	tcase_add_test(c, parse_u64_garbage_after_overflow);
	suite_add_tcase(s, c);
	c = tcase_create("virtio");
	tcase_add_test(c, virtio_net_queue_too_small);
	tcase_add_test(c, virtio_blk_queue_too_small);
	tcase_add_test(c, virtio_queues_of_different_sizes);
	tcase_add_test(c, virtio_net_mtu_above_tso_limit);
	suite_add_tcase(s, c);
	return s;
}

int main(void)
{
	SRunner *r = srunner_create(suite());
	srunner_run_all(r, CK_NORMAL);
	int failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
