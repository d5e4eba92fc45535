/* SPDX-License-Identifier: MIT */
/*
 * tests/integration/vhost_user_util.h - helpers shared by the vhost-user
 * integration tests: drive a pvio device through its transport ops
 * (enqueue / kick / reap with pvio_dseg segments in pvio_dma_alloc memory),
 * waiting with pvio_dev_wait() and a deadline.
 */
#ifndef PVIO_TESTS_VHOST_USER_UTIL_H
#define PVIO_TESTS_VHOST_USER_UTIL_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pvio/transport.h>

#include "peers.h"

#define PEER_START_MS 30000u
#define IO_WAIT_NS (20ull * 1000000000ull)

static inline pvio_ctx *util_ctx(size_t pool, uint32_t timeout_ms)
{
	pvio_ctx *ctx;
	struct pvio_ctx_opts o = { .struct_size = sizeof(o),
				   .dma_pool_size = pool,
				   .log_level = PVIO_LOG_ERROR,
				   .timeout_ms = timeout_ms };
	ck_assert_int_eq(pvio_ctx_new(&o, &ctx), 0);
	return ctx;
}

/* A buffer in DMA memory with its device address. */
static inline struct pvio_dseg util_seg(pvio_ctx *ctx, size_t len)
{
	struct pvio_dseg s;
	s.va = pvio_dma_alloc(ctx, len, 4096);
	ck_assert_msg(s.va != NULL, "pvio_dma_alloc: %s", pvio_errmsg(ctx));
	ck_assert_int_eq(pvio_dma_translate(ctx, s.va, len, &s.dev_addr), 0);
	s.len = (uint32_t)len;
	return s;
}

static inline struct pvio_dseg util_sub(struct pvio_dseg s, size_t off,
					size_t len)
{
	struct pvio_dseg r = { (char *)s.va + off, s.dev_addr + off,
			       (uint32_t)len };
	return r;
}

static inline uint64_t util_now(pvio_ctx *ctx)
{
	return pvio_now_ns(ctx);
}

/* Reap block completions on queue q until want of them arrived (their
 * statuses go to st[tag]), waiting with pvio_dev_wait.  Returns the number
 * reaped or the first error. */
static inline int util_blk_collect(pvio_dev *dev, unsigned q, unsigned want,
				   int32_t *st, unsigned nst)
{
	unsigned got = 0;
	uint64_t deadline = util_now(dev->ctx) + IO_WAIT_NS;
	while (got < want) {
		struct pvio_blk_dcomp c[64];
		int n = dev->ops->blk->reap(dev, q, c, 64);
		if (n < 0)
			return n;
		for (int i = 0; i < n; i++) {
			ck_assert_uint_lt(c[i].tag, nst);
			st[c[i].tag] = c[i].status;
		}
		got += (unsigned)n;
		if (got >= want)
			break;
		if (util_now(dev->ctx) >= deadline)
			return -ETIMEDOUT;
		int w = pvio_dev_wait(dev, q, deadline);
		if (w < 0)
			return w;
	}
	return (int)got;
}

/* One block request, synchronously: its status, or a transport error. */
static inline int util_blk_sync(pvio_dev *dev, unsigned q,
				const struct pvio_blk_dreq *r)
{
	int e = dev->ops->blk->enqueue(dev, q, r);
	if (e < 0)
		return e;
	e = dev->ops->blk->kick(dev, q);
	if (e < 0)
		return e;
	int32_t st[256];
	for (unsigned i = 0; i < 256; i++)
		st[i] = 1;
	e = util_blk_collect(dev, q, 1, st, 256);
	if (e < 0)
		return e;
	ck_assert_int_ne(st[r->tag], 1);
	return st[r->tag];
}

static inline void util_print_info(pvio_dev *dev, const char *what)
{
	struct pvio_dev_info in = { .struct_size = sizeof(in) };
	pvio_dev_get_info(dev, &in);
	printf("%s: %s via %s: %s; %s; queues %u/%u, ring %u; pvio features "
	       "0x%llx of offered 0x%llx\n",
	       what, pvio_class_name(in.cls), in.backend, in.protocol, in.native,
	       in.num_queues, in.max_queues, in.queue_size,
	       (unsigned long long)in.features, (unsigned long long)in.offered);
	fflush(stdout);
}

#endif /* PVIO_TESTS_VHOST_USER_UTIL_H */
