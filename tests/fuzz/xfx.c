/* SPDX-License-Identifier: MIT */
/* tests/fuzz/xfx.c - the fake Xen host, adapted for fuzzing (see .h). */
#include "xfx.h"

#include <check.h>
#include <signal.h>

static int x_xs_wait(struct xen_hostif *h, uint64_t deadline)
{
	struct fx *fx = (struct fx *)h;
	(void)deadline;
	if (fx->c.outlen || fx->c.dead)
		return 1;
	fx_run(fx); /* the back-end models run while the guest waits */
	return fx->c.outlen ? 1 : 0;
}

static bool x_intercept(struct fx *fx, uint32_t type, uint32_t req_id,
			const char *pl, uint32_t len)
{
	struct xfx *x = fx->arg;
	if (type != XS_READ || !len || pl[len - 1] != '\0')
		return false;
	const char *slash = strrchr(pl, '/');
	const char *key = slash ? slash + 1 : pl;
	bool mine = false;
	if (x->fuzzed_state && !strcmp(key, "state") &&
	    strstr(pl, "/backend/"))
		mine = fz_u8(x->f) >= 0xf0;
	for (unsigned i = 0; !mine && x->keys[i] && i < 32; i++)
		if ((x->fuzz_mask >> i & 1) && !strcmp(key, x->keys[i]))
			mine = true;
	if (!mine)
		return false;
	x->answered++;
	uint8_t how = fz_u8(x->f);
	if (how >= 0xe0) {
		fx_emit(fx, XS_ERROR, req_id, 0, "ENOENT", 7);
		return true;
	}
	char v[64];
	size_t n = fz_below(x->f, 40);
	fz_bytes(x->f, v, n);
	fx_emit(fx, XS_READ, req_id, 0, v, (uint32_t)n);
	return true;
}

void xfx_init(struct xfx *x, pvio_ctx *ctx, uint16_t domid, struct fz *f,
	      const char *const *keys, uint32_t mask)
{
	memset(x, 0, sizeof(*x));
	x->fx = fx_new(ctx, domid);
	x->ops = *x->fx->h.ops;
	x->ops.xs_wait = x_xs_wait;
	x->fx->h.ops = &x->ops;
	x->fx->arg = x;
	x->fx->intercept = x_intercept;
	x->f = f;
	x->keys = keys;
	x->fuzz_mask = mask;
}

void xfx_fini(struct xfx *x)
{
	fx_destroy(x->fx);
}

static struct {
	void (*body)(const uint8_t *, size_t);
	const uint8_t *data;
	size_t size;
	struct sigaction alarm; /* SIGALRM outside Check's runner */
} cur;

START_TEST(one_input)
{
	/* srunner_run_all() installs its own SIGALRM handler, which kills
	 * the test's process group - in a run without fork, group 0: this
	 * process and whatever shares its group (make, the shell).  The
	 * alarm is libFuzzer's (-timeout) or the replay program's: give it
	 * back its handler while the input runs. */
	sigaction(SIGALRM, &cur.alarm, NULL);
	cur.body(cur.data, cur.size);
}
END_TEST

void xfx_run(void (*body)(const uint8_t *data, size_t size),
	     const uint8_t *data, size_t size)
{
	cur.body = body;
	cur.data = data;
	cur.size = size;
	sigaction(SIGALRM, NULL, &cur.alarm);
	Suite *s = suite_create("fuzz");
	TCase *tc = tcase_create("input");
	tcase_add_test(tc, one_input);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_SILENT);
	if (srunner_ntests_failed(sr)) {
		TestResult **tr = srunner_failures(sr);
		fprintf(stderr, "%s:%d: property violated: the fake Xen host "
			"refused what the guest did: %s\n",
			tr_lfile(tr[0]), tr_lno(tr[0]), tr_msg(tr[0]));
		abort();
	}
	srunner_free(sr);
}
