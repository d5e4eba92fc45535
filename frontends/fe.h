/* SPDX-License-Identifier: MIT */
/*
 * frontends/fe.h - what the block and network front ends share.
 *
 * Front ends see a device only through <pvio/transport.h>: dev->info,
 * dev->limits, dev->ops and the core services.  Nothing here (or in any
 * file of this folder) may name a hypervisor or a protocol; that is what
 * lets one front end drive every back end and move between them.
 *
 * The files compile hosted and freestanding (no C library): only what
 * transport.h provides is used.
 */
#ifndef PVIO_FE_H
#define PVIO_FE_H

#include <pvio/transport.h>

#define FE_NONE 0xffffu

static inline bool fe_pow2(uint64_t x)
{
	return x && !(x & (x - 1));
}

static inline uint64_t fe_min(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static inline uint64_t fe_max(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/* Largest power of two <= x (x > 0). */
static inline uint64_t fe_pow2_floor(uint64_t x)
{
	return 1ull << (63 - __builtin_clzll(x));
}

/* The error I/O on dev fails with once it is not usable. */
static inline int fe_dev_err(const pvio_dev *dev)
{
	return dev->state == PVIO_DEV_REMOVED ? -ENODEV : -EIO;
}

/* Absolute deadline for a relative timeout (< 0: none). */
uint64_t fe_deadline(const pvio_ctx *ctx, int64_t timeout_ns);

/*
 * One pollable descriptor per queue that stays the same while the device
 * underneath changes (migration, reconnect): an fd set holding the current
 * device's queue fd and event fd.  sets[q] is -1 when not hosted.
 */
void fe_fdsets_new(pvio_ctx *ctx, unsigned n, int *sets);
void fe_fdsets_free(pvio_ctx *ctx, unsigned n, int *sets);
void fe_fdsets_attach(pvio_dev *dev, unsigned n, const int *sets);
void fe_fdsets_detach(pvio_dev *dev, unsigned n, const int *sets);
/* -EOPNOTSUPP (with a message) when queue q has nothing to wake on. */
int fe_fdset_get(pvio_dev *dev, const int *sets, unsigned q);

/* Counters of the devices a front end has left behind, per queue. */
void fe_stats_add(struct pvio_queue_stats *dst,
		  const struct pvio_queue_stats *src);
void fe_stats_retire(const pvio_dev *dev, unsigned n,
		     struct pvio_queue_stats *acc);
/* acc[q] + dev->stats[q] into *out. */
void fe_stats_sum(const pvio_dev *dev, const struct pvio_queue_stats *acc,
		  unsigned q, struct pvio_queue_stats *out);

/* Copy min(size of out, sizeof(src)) bytes of a struct_size-versioned
 * struct; -EINVAL when out is unusable. */
int fe_copy_versioned(void *out, const void *src, size_t src_size);

/* pvio_dev_open(address), retried while the device is not back yet
 * (nobody listening, not offered, suspended, still closing), bounded by
 * the context timeout: reconnecting after a back end restart, a rescind
 * and re-offer, a suspend and resume. */
int fe_reopen(pvio_ctx *ctx, const char *address, pvio_dev **out);

/* Quiesce dev (bounded by the back end): 0 or -errno; logs failures. */
int fe_quiesce(pvio_dev *dev);

#endif /* PVIO_FE_H */
