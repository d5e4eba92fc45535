/* SPDX-License-Identifier: MIT */
/* Unit tests for core/: formatting, parsing, the DMA pool, device events. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <pvio/transport.h>

START_TEST(fmt_basics)
{
	char b[64];
	ck_assert_int_eq(pvio_snprintf(b, sizeof(b), "%d %u %x %s %c %%", -5,
				       7u, 0xabu, "hi", 'z'),
			 (int)strlen("-5 7 ab hi z %"));
	ck_assert_str_eq(b, "-5 7 ab hi z %");
	pvio_snprintf(b, sizeof(b), "%08llx|%-4s|%4d|%zu|%llu", 0x1234ull, "a",
		      42, (size_t)9, 18446744073709551615ull);
	ck_assert_str_eq(b, "00001234|a   |  42|9|18446744073709551615");
	/* truncation keeps a NUL and reports the full length */
	ck_assert_int_eq(pvio_snprintf(b, 4, "abcdef"), 6);
	ck_assert_str_eq(b, "abc");
	pvio_snprintf(b, sizeof(b), "%.3s|%lld", "abcdef", -9223372036854775807ll - 1);
	ck_assert_str_eq(b, "abc|-9223372036854775808");
}
END_TEST

START_TEST(parse_u64_strict)
{
	uint64_t v;
	ck_assert_int_eq(pvio_parse_u64("51712", 65535, &v), 0);
	ck_assert_uint_eq(v, 51712);
	ck_assert_int_eq(pvio_parse_u64("0x10", 100, &v), 0);
	ck_assert_uint_eq(v, 16);
	ck_assert_int_eq(pvio_parse_u64("", 10, &v), -EINVAL);
	ck_assert_int_eq(pvio_parse_u64("12a", 100, &v), -EINVAL);
	ck_assert_int_eq(pvio_parse_u64("-1", 100, &v), -EINVAL);
	ck_assert_int_eq(pvio_parse_u64("101", 100, &v), -ERANGE);
	ck_assert_int_eq(pvio_parse_u64("99999999999999999999999", UINT64_MAX, &v),
			 -ERANGE);
	ck_assert_int_eq(pvio_parse_u64("0x", 100, &v), -EINVAL);
}
END_TEST

START_TEST(opt_get)
{
	char b[16];
	ck_assert_int_eq(pvio_opt_get("class=net&queues=2", "queues", b, sizeof(b)), 1);
	ck_assert_str_eq(b, "2");
	ck_assert_int_eq(pvio_opt_get("class=net&queues=2", "class", b, sizeof(b)), 1);
	ck_assert_str_eq(b, "net");
	ck_assert_int_eq(pvio_opt_get("class=net", "cl", b, sizeof(b)), 0);
	ck_assert_int_eq(pvio_opt_get("x=0123456789abcdefgh", "x", b, sizeof(b)),
			 -ENAMETOOLONG);
	ck_assert_int_eq(pvio_opt_get(NULL, "x", b, sizeof(b)), 0);
}
END_TEST

START_TEST(dma_pool)
{
	pvio_ctx *ctx;
	struct pvio_ctx_opts o = { .struct_size = sizeof(o),
				   .dma_pool_size = 1 << 20 };
	ck_assert_int_eq(pvio_ctx_new(&o, &ctx), 0);
	void *a = pvio_dma_alloc(ctx, 100, 0);
	void *b = pvio_dma_alloc(ctx, 4096, 4096);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_uint_eq((uintptr_t)b % 4096, 0);
	ck_assert(pvio_dma_contains(ctx, a, 100));
	ck_assert(!pvio_dma_contains(ctx, &o, 1));
	uint64_t da, db;
	ck_assert_int_eq(pvio_dma_translate(ctx, a, 100, &da), 0);
	ck_assert_int_eq(pvio_dma_translate(ctx, b, 4096, &db), 0);
	ck_assert_ptr_eq(pvio_dma_to_va(ctx, db, 4096), b);
	ck_assert_ptr_null(pvio_dma_to_va(ctx, db + (1 << 20), 1));
	/* a range running past the pool's end is refused */
	ck_assert_int_eq(pvio_dma_translate(ctx, b, 2 << 20, &db), -EFAULT);
	/* fill the pool, free everything, the whole pool is one extent again */
	void *big = pvio_dma_alloc(ctx, 2 << 20, 0);
	ck_assert_ptr_null(big);
	ck_assert(strstr(pvio_errmsg(ctx), "DMA pool exhausted") != NULL);
	void *ps[64];
	for (int i = 0; i < 64; i++) {
		ps[i] = pvio_dma_alloc(ctx, 1000 + i * 37, 64 << (i % 4));
		ck_assert_ptr_nonnull(ps[i]);
		memset(ps[i], 0xa5, 1000);
	}
	for (int i = 0; i < 64; i += 2)
		pvio_dma_free(ctx, ps[i]);
	for (int i = 1; i < 64; i += 2)
		pvio_dma_free(ctx, ps[i]);
	pvio_dma_free(ctx, a);
	pvio_dma_free(ctx, b);
	big = pvio_dma_alloc(ctx, 1 << 20, 4096);
	ck_assert_ptr_nonnull(big);
	/* memory handed out is zeroed even after reuse */
	for (size_t i = 0; i < (1 << 20); i += 512)
		ck_assert_uint_eq(((unsigned char *)big)[i], 0);
	pvio_dma_free(ctx, big);
	pvio_ctx_free(ctx);
}
END_TEST

static void nop_close(pvio_dev *dev)
{
	pvio_dev_free(dev);
}

static const struct pvio_dev_ops nop_ops = { .close = nop_close };

START_TEST(dev_state_and_events)
{
	pvio_ctx *ctx;
	ck_assert_int_eq(pvio_ctx_new(NULL, &ctx), 0);
	pvio_dev *dev = pvio_dev_alloc(ctx, &nop_ops, 16);
	ck_assert_ptr_nonnull(dev);
	const char *why;
	ck_assert_int_eq(pvio_dev_state(dev, &why), PVIO_DEV_READY);
	ck_assert_int_eq(pvio_dev_set_broken(dev, "id %u out of range", 77u), -EIO);
	/* first reason wins */
	ck_assert_int_eq(pvio_dev_set_removed(dev, "later"), -ENODEV);
	ck_assert_int_eq(pvio_dev_state(dev, &why), PVIO_DEV_BROKEN);
	ck_assert_str_eq(why, "id 77 out of range");
	struct pvio_event ev;
	ck_assert_int_eq(pvio_dev_next_event(dev, &ev), 1);
	ck_assert_int_eq(ev.type, PVIO_EVENT_NEEDS_RESET);
	ck_assert_int_eq(pvio_dev_next_event(dev, &ev), 0);
	/* an event storm keeps the newest events and bounded memory */
	for (unsigned i = 0; i < 1000; i++)
		pvio_dev_push_event(dev, PVIO_EVENT_LINK_CHANGE, i & 1);
	unsigned n = 0;
	uint32_t last = 2;
	while (pvio_dev_next_event(dev, &ev) == 1) {
		n++;
		last = ev.value;
	}
	ck_assert_uint_eq(n, 32);
	ck_assert_uint_eq(last, 1);
	pvio_dev_close(dev);
	pvio_ctx_free(ctx);
}
END_TEST

START_TEST(open_unknown_scheme)
{
	pvio_ctx *ctx;
	pvio_dev *dev;
	ck_assert_int_eq(pvio_ctx_new(NULL, &ctx), 0);
	ck_assert_int_eq(pvio_dev_open(ctx, "nonsense:/x", &dev), -EPROTONOSUPPORT);
	ck_assert(strstr(pvio_errmsg(ctx), "unknown address type") != NULL);
	ck_assert_int_eq(pvio_dev_open(ctx, "no-colon", &dev), -EPROTONOSUPPORT);
	pvio_ctx_free(ctx);
}
END_TEST

START_TEST(names)
{
	ck_assert_str_eq(pvio_feature_name(PVIO_F_INDIRECT), "indirect");
	ck_assert_ptr_null(pvio_feature_name(3));
	ck_assert_str_eq(pvio_family_hypervisor(PVIO_FAMILY_VMBUS), "Hyper-V");
	ck_assert_str_eq(pvio_errno_name(-ENOENT), "ENOENT");
	ck_assert_str_eq(pvio_class_name(PVIO_CLASS_NET), "net");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("core");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, fmt_basics);
	tcase_add_test(tc, parse_u64_strict);
	tcase_add_test(tc, opt_get);
	tcase_add_test(tc, dma_pool);
	tcase_add_test(tc, dev_state_and_events);
	tcase_add_test(tc, open_unknown_scheme);
	tcase_add_test(tc, names);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
