/* SPDX-License-Identifier: MIT */
/*
 * The "xen:" address scheme (backends/xen/hostif_linux.c) on a machine
 * that is not a Xen domain - what `make check` can show of it; `make
 * check-xen` runs it on real Xen.  The scheme is registered; addresses
 * are parsed before any device is touched (the xenstore= option is the
 * hostif's, every other option still goes through the shared parser);
 * outside Xen the error is one line naming the missing device and what
 * to do.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <pvio/pvio.h>

static pvio_ctx *ctx;

static void setup(void)
{
	struct pvio_ctx_opts o = { .struct_size = sizeof(o),
				   .log_level = PVIO_LOG_ERROR };
	ck_assert_int_eq(pvio_ctx_new(&o, &ctx), 0);
}

static void teardown(void)
{
	pvio_ctx_free(ctx);
}

static int open_err(const char *addr)
{
	pvio_dev *dev = NULL;
	int r = pvio_dev_open(ctx, addr, &dev);
	if (r == 0)
		pvio_dev_close(dev);
	return r;
}

START_TEST(registered)
{
	ck_assert_ptr_nonnull(strstr(pvio_backend_list(), "xen"));
	char list[256];
	snprintf(list, sizeof(list), ", %s,", pvio_backend_list());
	ck_assert_msg(strstr(list, ", xen,") != NULL, "%s", list);
}
END_TEST

START_TEST(bad_addresses)
{
	ck_assert_int_eq(open_err("xen:vbd/abc"), -EINVAL);
	ck_assert_ptr_nonnull(strstr(pvio_errmsg(ctx), "decimal"));
	ck_assert_int_eq(open_err("xen:disk/1"), -EINVAL);
	ck_assert_ptr_nonnull(strstr(pvio_errmsg(ctx), "vbd/N or vif/N"));
	ck_assert_int_eq(open_err("xen:vbd/1?nope=1"), -EINVAL);
	ck_assert_ptr_nonnull(strstr(pvio_errmsg(ctx), "unknown option"));
	/* xenstore= is taken out, the rest still checked */
	ck_assert_int_eq(open_err("xen:vif/0?xenstore=/nowhere&ring-order=9"),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(pvio_errmsg(ctx), "ring-order"));
	ck_assert_int_eq(open_err("xen:vif/0?ring-order=9&xenstore=/nowhere"),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(pvio_errmsg(ctx), "ring-order"));
}
END_TEST

START_TEST(not_xen)
{
	if (access("/dev/xen/gntalloc", F_OK) == 0)
		return; /* a Xen domain: check-xen covers it */
	int r = open_err("xen:vbd/51712");
	ck_assert_int_lt(r, 0);
	const char *m = pvio_errmsg(ctx);
	ck_assert_msg(strstr(m, "/dev/xen/gntalloc") &&
			      strstr(m, "modprobe xen-gntalloc") &&
			      !strchr(m, '\n'),
		      "%s", m);
	r = open_err("xen:vif/0?xenstore=/nowhere");
	ck_assert_int_lt(r, 0);
	ck_assert_ptr_nonnull(strstr(pvio_errmsg(ctx), "/dev/xen/gntalloc"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("xen_hostif_linux");
	TCase *tc = tcase_create("scheme");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, registered);
	tcase_add_test(tc, bad_addresses);
	tcase_add_test(tc, not_xen);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
