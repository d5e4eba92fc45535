/* SPDX-License-Identifier: MIT */
/*
 * backends/xen/xenbus.c against scripted back ends: the exact order of
 * the handshake for vbd (Initialised, then Connected) and vif (straight
 * to Connected), a back end that skips InitWait (blkif.h: Initialising ->
 * Initialised), one that is Connected before we start, one that closes or
 * disappears during the handshake, one that never answers; the close
 * handshake; validation of what the toolstack wrote.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_xen_fake.h"

static pvio_ctx *ctx;
static struct fx *fx;
static struct xs_client xs;
static struct xen_xb xb;

/* what the hooks saw */
static char order[64];
static int fe_at_keys;

static void setup(void)
{
	ctx = fx_ctx(300);
	fx = fx_new(ctx, 3);
	fx->scripted = true;
	xs_init(&xs, ctx, &fx->h);
	order[0] = '\0';
	fe_at_keys = -1;
}

static void teardown(void)
{
	fx_destroy(fx);
	pvio_ctx_free(ctx);
}

static int h_features(void *arg)
{
	(void)arg;
	strcat(order, "F");
	return 0;
}

static int h_keys(struct xs_client *c, uint32_t tx, void *arg)
{
	(void)arg;
	strcat(order, "K");
	fe_at_keys = xb.fe_state;
	char p[160];
	snprintf(p, sizeof(p), "%s/ring-ref", xb.fe);
	return xs_write(c, tx, p, "8");
}

static int h_props(void *arg)
{
	(void)arg;
	strcat(order, "P");
	return 0;
}

static const struct xen_xb_hooks hooks = { h_features, h_keys, h_props };

static int attach_and_probe(const char *type, bool vif)
{
	ck_assert_int_eq(fx->h.ops->device_attach(&fx->h, type, 51712), 0);
	fx->nfe_log = 0;
	return xen_xb_probe(&xb, &xs, 3, type, 51712, vif);
}

static void expect_fe_log(const int *want, unsigned n)
{
	ck_assert_uint_eq(fx->nfe_log, n);
	for (unsigned i = 0; i < n; i++)
		ck_assert_int_eq(fx->fe_log[i], want[i]);
}

START_TEST(vbd_handshake_order)
{
	fx->script_at_attach = XenbusStateInitWait;
	fx->script[XenbusStateInitialised] = XenbusStateConnected;
	ck_assert_int_eq(attach_and_probe("vbd", false), 0);
	ck_assert_str_eq(xb.be, "/local/domain/0/backend/vbd/3/51712");
	ck_assert_uint_eq(xb.be_domid, 0);
	ck_assert_int_eq(xen_xb_connect(&xb, &hooks, NULL, pvio_deadline(ctx)),
			 0);
	ck_assert_str_eq(order, "FKP");
	ck_assert_int_eq(fe_at_keys, XenbusStateInitialising);
	static const int want[] = { 3, 4 };
	expect_fe_log(want, 2);
	ck_assert_str_eq(fx_read(fx, "/local/domain/3/device/vbd/51712/ring-ref"),
			 "8");
	/* our close: Closing, (back end Closing), Closed, (back end Closed) */
	fx->script[XenbusStateClosing] = XenbusStateClosing;
	fx->script[XenbusStateClosed] = XenbusStateClosed;
	fx->nfe_log = 0;
	ck_assert_int_eq(xen_xb_close(&xb, pvio_deadline(ctx)), 0);
	static const int want2[] = { 5, 6 };
	expect_fe_log(want2, 2);
	xen_xb_fini(&xb);
}
END_TEST

START_TEST(vif_handshake_order)
{
	fx->script_at_attach = XenbusStateInitWait;
	/* netback ignores Initialised and connects on Connected */
	fx->script[XenbusStateConnected] = XenbusStateConnected;
	ck_assert_int_eq(attach_and_probe("vif", true), 0);
	ck_assert_int_eq(xen_xb_connect(&xb, &hooks, NULL, pvio_deadline(ctx)),
			 0);
	ck_assert_str_eq(order, "FKP");
	static const int want[] = { 4 };
	expect_fe_log(want, 1);
	xen_xb_fini(&xb);
}
END_TEST

START_TEST(backend_skips_initwait)
{
	/* blkif.h: a back end may go Initialising -> Initialised */
	fx->script_at_attach = XenbusStateInitialised;
	fx->script[XenbusStateInitialised] = XenbusStateConnected;
	ck_assert_int_eq(attach_and_probe("vbd", false), 0);
	ck_assert_int_eq(xen_xb_connect(&xb, &hooks, NULL, pvio_deadline(ctx)),
			 0);
	ck_assert_str_eq(order, "FKP");
	static const int want[] = { 3, 4 };
	expect_fe_log(want, 2);
	xen_xb_fini(&xb);
}
END_TEST

START_TEST(backend_initialising_then_initwait_later)
{
	/* the back end only gets ready once we wait for it */
	fx->script_at_attach = XenbusStateInitialising;
	fx->script[XenbusStateInitialising] = XenbusStateInitWait;
	fx->script[XenbusStateInitialised] = XenbusStateConnected;
	ck_assert_int_eq(attach_and_probe("vbd", false), 0);
	ck_assert_int_eq(xen_xb_read_be(&xb), XenbusStateInitialising);
	ck_assert_int_eq(xen_xb_connect(&xb, &hooks, NULL, pvio_deadline(ctx)),
			 0);
	ck_assert_str_eq(order, "FKP");
	xen_xb_fini(&xb);
}
END_TEST

START_TEST(backend_already_connected)
{
	fx->script_at_attach = XenbusStateConnected;
	ck_assert_int_eq(attach_and_probe("vbd", false), 0);
	ck_assert_int_eq(xen_xb_connect(&xb, &hooks, NULL, pvio_deadline(ctx)),
			 0);
	/* the work of the skipped states is still done, in order */
	ck_assert_str_eq(order, "FKP");
	static const int want[] = { 3, 4 };
	expect_fe_log(want, 2);
	xen_xb_fini(&xb);
}
END_TEST

START_TEST(backend_closes_during_handshake)
{
	fx->script_at_attach = XenbusStateInitWait;
	fx->script[XenbusStateInitialised] = XenbusStateClosing;
	ck_assert_int_eq(attach_and_probe("vbd", false), 0);
	ck_assert_int_eq(xen_xb_connect(&xb, &hooks, NULL, pvio_deadline(ctx)),
			 -ENODEV);
	ck_assert_ptr_nonnull(strstr(pvio_errmsg(ctx), "Closing"));
	ck_assert_str_eq(order, "FK");
	xen_xb_fini(&xb);
}
END_TEST

START_TEST(backend_closed_from_the_start)
{
	fx->script_at_attach = XenbusStateClosed;
	ck_assert_int_eq(attach_and_probe("vif", true), 0);
	ck_assert_int_eq(xen_xb_connect(&xb, &hooks, NULL, pvio_deadline(ctx)),
			 -ENODEV);
	ck_assert_str_eq(order, "");
	ck_assert_ptr_nonnull(strstr(pvio_errmsg(ctx), "Closed"));
	xen_xb_fini(&xb);
}
END_TEST

START_TEST(backend_vanishes_while_connecting)
{
	fx->script_at_attach = XenbusStateInitWait;
	ck_assert_int_eq(attach_and_probe("vbd", false), 0);
	/* the toolstack removes the back end's directory */
	fx->script[XenbusStateInitialised] = -1;
	static const struct xen_xb_hooks h2 = { h_features, h_keys, h_props };
	fx_rm(fx, "/local/domain/0/backend/vbd/3/51712");
	ck_assert_int_eq(xen_xb_connect(&xb, &h2, NULL, pvio_deadline(ctx)),
			 -ETIMEDOUT);
	/* once it is gone while we wait for Connected, it is fatal */
	fx_write(fx, "/local/domain/0/backend/vbd/3/51712/state", "2");
	order[0] = '\0';
	fx->script[XenbusStateInitialised] = 0; /* "0": Unknown */
	ck_assert_int_eq(xen_xb_switch(&xb, XenbusStateInitialising), 0);
	ck_assert_int_eq(xen_xb_connect(&xb, &h2, NULL, pvio_deadline(ctx)),
			 -ENODEV);
	xen_xb_fini(&xb);
}
END_TEST

START_TEST(backend_never_ready)
{
	fx->script_at_attach = XenbusStateInitialising;
	ck_assert_int_eq(attach_and_probe("vbd", false), 0);
	uint64_t t0 = pvio_now_ns(ctx);
	ck_assert_int_eq(xen_xb_connect(&xb, &hooks, NULL, pvio_deadline(ctx)),
			 -ETIMEDOUT);
	ck_assert_uint_ge(pvio_now_ns(ctx) - t0, 290u * 1000000u);
	ck_assert_ptr_nonnull(strstr(pvio_errmsg(ctx), "Initialising"));
	ck_assert_str_eq(order, "");
	xen_xb_fini(&xb);
}
END_TEST

START_TEST(backend_never_connects)
{
	fx->script_at_attach = XenbusStateInitWait;
	ck_assert_int_eq(attach_and_probe("vbd", false), 0);
	ck_assert_int_eq(xen_xb_connect(&xb, &hooks, NULL, pvio_deadline(ctx)),
			 -ETIMEDOUT);
	ck_assert_str_eq(order, "FK");
	ck_assert_ptr_nonnull(strstr(pvio_errmsg(ctx), "InitWait"));
	/* and a close that gets no answer is bounded too */
	ck_assert_int_eq(xen_xb_close(&xb, pvio_deadline(ctx)), -ETIMEDOUT);
	xen_xb_fini(&xb);
}
END_TEST

START_TEST(garbage_state_is_a_protocol_error)
{
	fx->script_at_attach = XenbusStateInitWait;
	ck_assert_int_eq(attach_and_probe("vbd", false), 0);
	static const char *const bad[] = { "abc", "9", "-1", "2x", "" };
	for (unsigned i = 0; i < 5; i++) {
		fx_write(fx, "/local/domain/0/backend/vbd/3/51712/state", bad[i]);
		ck_assert_int_eq(xen_xb_read_be(&xb), -EPROTO);
	}
	ck_assert_int_eq(xen_xb_connect(&xb, &hooks, NULL, pvio_deadline(ctx)),
			 -EPROTO);
	xen_xb_fini(&xb);
}
END_TEST

START_TEST(toolstack_values_are_checked)
{
	fx->script_at_attach = XenbusStateInitWait;
	ck_assert_int_eq(fx->h.ops->device_attach(&fx->h, "vbd", 5), 0);
	const char *fe = "/local/domain/3/device/vbd/5";
	char p[128];
	snprintf(p, sizeof(p), "%s/backend", fe);
	static const char *const badpaths[] = {
		"relative/path", "/a//b", "/a/../b", "/a/b/", "/", "/a b",
	};
	for (unsigned i = 0; i < 6; i++) {
		fx_write(fx, p, badpaths[i]);
		ck_assert_int_eq(xen_xb_probe(&xb, &xs, 3, "vbd", 5, false),
				 -EPROTO);
	}
	fx_write(fx, p, "/local/domain/0/backend/vbd/3/5");
	snprintf(p, sizeof(p), "%s/backend-id", fe);
	fx_write(fx, p, "0x0");
	ck_assert_int_eq(xen_xb_probe(&xb, &xs, 3, "vbd", 5, false), -EPROTO);
	fx_write(fx, p, "32752"); /* DOMID_FIRST_RESERVED */
	ck_assert_int_eq(xen_xb_probe(&xb, &xs, 3, "vbd", 5, false), -EPROTO);
	fx_rm(fx, p);
	ck_assert_int_eq(xen_xb_probe(&xb, &xs, 3, "vbd", 5, false), -ENODEV);
	ck_assert_ptr_nonnull(strstr(pvio_errmsg(ctx), "attached"));
	/* an unattached device */
	ck_assert_int_eq(xen_xb_probe(&xb, &xs, 3, "vbd", 6, false), -ENODEV);
}
END_TEST

START_TEST(switch_needs_our_directory)
{
	fx->script_at_attach = XenbusStateInitWait;
	ck_assert_int_eq(attach_and_probe("vbd", false), 0);
	ck_assert_int_eq(xen_xb_switch(&xb, XenbusStateInitialised), 0);
	ck_assert_str_eq(fx_read(fx, "/local/domain/3/device/vbd/51712/state"),
			 "3");
	fx_rm(fx, "/local/domain/3/device/vbd/51712");
	ck_assert_int_eq(xen_xb_switch(&xb, XenbusStateClosing), -ENODEV);
	ck_assert_ptr_null(fx_read(fx, "/local/domain/3/device/vbd/51712/state"));
	/* closing a device whose directory is gone is not an error */
	ck_assert_int_eq(xen_xb_close(&xb, pvio_deadline(ctx)), 0);
	xen_xb_fini(&xb);
}
END_TEST

START_TEST(state_transactions_restart)
{
	fx->script_at_attach = XenbusStateInitWait;
	fx->script[XenbusStateInitialised] = XenbusStateConnected;
	ck_assert_int_eq(attach_and_probe("vbd", false), 0);
	fx->eagain_commits = 5; /* the keys and the first switch conflict */
	ck_assert_int_eq(xen_xb_connect(&xb, &hooks, NULL, pvio_deadline(ctx)),
			 0);
	ck_assert_str_eq(order, "FKKKKKKP");
	static const int want[] = { 3, 4 };
	expect_fe_log(want, 2);
	xen_xb_fini(&xb);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("xen_xenbus");
	TCase *tc = tcase_create("xenbus");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, vbd_handshake_order);
	tcase_add_test(tc, vif_handshake_order);
	tcase_add_test(tc, backend_skips_initwait);
	tcase_add_test(tc, backend_initialising_then_initwait_later);
	tcase_add_test(tc, backend_already_connected);
	tcase_add_test(tc, backend_closes_during_handshake);
	tcase_add_test(tc, backend_closed_from_the_start);
	tcase_add_test(tc, backend_vanishes_while_connecting);
	tcase_add_test(tc, backend_never_ready);
	tcase_add_test(tc, backend_never_connects);
	tcase_add_test(tc, garbage_state_is_a_protocol_error);
	tcase_add_test(tc, toolstack_values_are_checked);
	tcase_add_test(tc, switch_needs_our_directory);
	tcase_add_test(tc, state_transactions_restart);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
