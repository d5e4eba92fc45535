/* SPDX-License-Identifier: MIT */
/* core/core.h - the context object and core-internal helpers. */
#ifndef PVIO_CORE_H
#define PVIO_CORE_H

#include <pvio/transport.h>

#define PVIO_ERRMSG_MAX 256
#define PVIO_DMA_MAX_REGIONS 8

/* An extent of the DMA pool, in bytes from the region start. */
struct pvio_extent {
	uint32_t region;
	size_t off;
	size_t len;
};

struct pvio_dma_pool {
	struct pvio_dma_region regions[PVIO_DMA_MAX_REGIONS];
	unsigned nregions;
	/* free extents, sorted by (region, off), coalesced */
	struct pvio_extent *free;
	unsigned nfree, free_cap;
	/* live allocations (control path only, so a linear list is enough) */
	struct pvio_extent *used;
	unsigned nused, used_cap;
};

struct pvio_ctx {
	const struct pvio_platform *plat;
	void *opaque;
	int hosted;
	int log_level;
	uint32_t timeout_ms;
	struct pvio_dma_pool dma;
	char errmsg[PVIO_ERRMSG_MAX];
};

/* core/dma.c */
int core_dma_pool_init(pvio_ctx *ctx, size_t size);
void core_dma_pool_fini(pvio_ctx *ctx);

/* core/platform_hosted.c: PVIO_LOG from the environment */
int core_log_level_env(int dflt);

#endif /* PVIO_CORE_H */
