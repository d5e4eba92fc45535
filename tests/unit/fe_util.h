/* SPDX-License-Identifier: MIT */
/* tests/unit/fe_util.h - small helpers shared by the front-end tests. */
#ifndef PVIO_TEST_FE_UTIL_H
#define PVIO_TEST_FE_UTIL_H

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <pvio/transport.h>

#include "fakedev.h"

static inline pvio_ctx *fe_test_ctx(uint32_t timeout_ms)
{
	struct pvio_ctx_opts o = { .struct_size = sizeof(o),
				   .dma_pool_size = 48u << 20,
				   .log_level = PVIO_LOG_ERROR,
				   .timeout_ms = timeout_ms };
	pvio_ctx *ctx = NULL;
	ck_assert_int_eq(pvio_ctx_new(&o, &ctx), 0);
	return ctx;
}

/* xorshift64*: deterministic, so a failure can be replayed */
static inline uint64_t fe_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

static inline void fe_fill(uint8_t *p, size_t n, uint64_t *s)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)fe_rand(s);
}

/* Counts completions per cookie (cookie = 1 + index) to catch a request
 * completing twice or never. */
struct fe_track {
	unsigned n;
	unsigned count[4096];
	int ret[4096];
};

static inline void *fe_cookie(unsigned i)
{
	return (void *)(uintptr_t)(i + 1);
}

static inline void fe_track_add(struct fe_track *t,
				const struct pvio_blk_completion *c, int n)
{
	for (int i = 0; i < n; i++) {
		uintptr_t k = (uintptr_t)c[i].cookie;
		ck_assert_uint_ge(k, 1);
		ck_assert_uint_le(k, 4096);
		t->count[k - 1]++;
		ck_assert_uint_eq(t->count[k - 1], 1); /* never twice */
		t->ret[k - 1] = c[i].ret;
		t->n++;
	}
}

/* Poll queue q until want completions were seen, bounded by ~2 s. */
static inline void fe_blk_collect(pvio_blk *blk, unsigned q, struct fe_track *t,
				  unsigned want)
{
	struct pvio_blk_completion c[64];
	for (int round = 0; t->n < want && round < 2000; round++) {
		int n = pvio_blk_poll(blk, q, c, 1, 64, 1000000);
		if (n < 0)
			break;
		fe_track_add(t, c, n);
	}
	ck_assert_uint_eq(t->n, want);
}

#endif
