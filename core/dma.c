/* SPDX-License-Identifier: MIT */
/*
 * core/dma.c - the context's pool of device-reachable memory.
 *
 * One or more regions from the platform's dma_alloc hook, carved up
 * first-fit.  Allocation is a control-path operation (queues and packet
 * pools are allocated once), so plain sorted arrays are enough; the data
 * path only ever calls pvio_dma_translate(), which is a bounds check per
 * region.
 */
#include "core.h"

static int grow(pvio_ctx *ctx, struct pvio_extent **arr, unsigned *cap,
		unsigned need)
{
	if (need <= *cap)
		return 0;
	unsigned ncap = *cap ? *cap * 2 : 64;
	while (ncap < need)
		ncap *= 2;
	struct pvio_extent *n = pvio_zalloc(ctx, ncap * sizeof(*n));
	if (!n)
		return -ENOMEM;
	if (*arr) {
		memcpy(n, *arr, *cap * sizeof(*n));
		pvio_free(ctx, *arr);
	}
	*arr = n;
	*cap = ncap;
	return 0;
}

int core_dma_pool_init(pvio_ctx *ctx, size_t size)
{
	struct pvio_dma_pool *p = &ctx->dma;
	size = (size + PVIO_PAGE_SIZE - 1) & ~(size_t)(PVIO_PAGE_SIZE - 1);

	memset(p, 0, sizeof(*p));
	int r = ctx->plat->dma_alloc(ctx->opaque, size, &p->regions[0]);
	if (r < 0)
		return pvio_set_error(ctx, -r,
				      "cannot allocate %zu bytes of DMA memory: %s",
				      size, pvio_strerror(r));
	p->nregions = 1;
	if (grow(ctx, &p->free, &p->free_cap, 1) < 0) {
		core_dma_pool_fini(ctx);
		return -ENOMEM;
	}
	p->free[0] = (struct pvio_extent){ 0, 0, p->regions[0].len };
	p->nfree = 1;
	return 0;
}

void core_dma_pool_fini(pvio_ctx *ctx)
{
	struct pvio_dma_pool *p = &ctx->dma;
	for (unsigned i = 0; i < p->nregions; i++)
		ctx->plat->dma_free(ctx->opaque, &p->regions[i]);
	pvio_free(ctx, p->free);
	pvio_free(ctx, p->used);
	memset(p, 0, sizeof(*p));
}

void *pvio_dma_alloc(pvio_ctx *ctx, size_t size, size_t align)
{
	struct pvio_dma_pool *p = &ctx->dma;

	if (!align)
		align = 64;
	if (align & (align - 1) || !size) {
		pvio_set_error(ctx, EINVAL, "pvio_dma_alloc: bad size or alignment");
		return NULL;
	}
	size = (size + 63) & ~(size_t)63;
	for (unsigned i = 0; i < p->nfree; i++) {
		struct pvio_extent *f = &p->free[i];
		uintptr_t base = (uintptr_t)p->regions[f->region].va + f->off;
		uintptr_t start = (base + align - 1) & ~(uintptr_t)(align - 1);
		size_t lead = start - base;
		if (lead > f->len || f->len - lead < size)
			continue;
		/* Free extents are separated by live ones, so there are at
		 * most nused + 1 of them; reserving nused + 3 here means
		 * neither this split nor any later free can run out. */
		if (grow(ctx, &p->used, &p->used_cap, p->nused + 1) < 0 ||
		    grow(ctx, &p->free, &p->free_cap, p->nused + 3) < 0)
			break;
		f = &p->free[i]; /* grow may have moved the array */
		struct pvio_extent alloc = { f->region, f->off + lead, size };
		size_t tail = f->len - lead - size;
		if (lead && tail) {
			/* split into two free extents */
			memmove(&p->free[i + 2], &p->free[i + 1],
				(p->nfree - i - 1) * sizeof(*f));
			p->free[i + 1] = (struct pvio_extent){
				f->region, alloc.off + size, tail };
			f->len = lead;
			p->nfree++;
		} else if (lead) {
			f->len = lead;
		} else if (tail) {
			f->off += size;
			f->len = tail;
		} else {
			memmove(&p->free[i], &p->free[i + 1],
				(p->nfree - i - 1) * sizeof(*f));
			p->nfree--;
		}
		p->used[p->nused++] = alloc;
		void *va = (char *)p->regions[alloc.region].va + alloc.off;
		memset(va, 0, size);
		return va;
	}
	pvio_set_error(ctx, ENOMEM,
		       "DMA pool exhausted: no %zu free bytes; create the "
		       "context with a larger dma_pool_size",
		       size);
	return NULL;
}

static void free_extent(struct pvio_dma_pool *p, struct pvio_extent e)
{
	unsigned i = 0;
	while (i < p->nfree &&
	       (p->free[i].region < e.region ||
		(p->free[i].region == e.region && p->free[i].off < e.off)))
		i++;
	int merge_prev = i > 0 && p->free[i - 1].region == e.region &&
			 p->free[i - 1].off + p->free[i - 1].len == e.off;
	int merge_next = i < p->nfree && p->free[i].region == e.region &&
			 e.off + e.len == p->free[i].off;
	if (merge_prev && merge_next) {
		p->free[i - 1].len += e.len + p->free[i].len;
		memmove(&p->free[i], &p->free[i + 1],
			(p->nfree - i - 1) * sizeof(e));
		p->nfree--;
	} else if (merge_prev) {
		p->free[i - 1].len += e.len;
	} else if (merge_next) {
		p->free[i].off = e.off;
		p->free[i].len += e.len;
	} else {
		/* capacity was reserved at allocation time */
		memmove(&p->free[i + 1], &p->free[i],
			(p->nfree - i) * sizeof(e));
		p->free[i] = e;
		p->nfree++;
	}
}

void pvio_dma_free(pvio_ctx *ctx, void *ptr)
{
	struct pvio_dma_pool *p = &ctx->dma;
	if (!ptr)
		return;
	for (unsigned i = 0; i < p->nused; i++) {
		struct pvio_extent e = p->used[i];
		if ((char *)p->regions[e.region].va + e.off != ptr)
			continue;
		p->used[i] = p->used[--p->nused];
		free_extent(p, e);
		return;
	}
	pvio_log(ctx, PVIO_LOG_ERROR, "pvio_dma_free: %p was not allocated",
		 ptr);
}

bool pvio_dma_contains(const pvio_ctx *ctx, const void *ptr, size_t len)
{
	uint64_t a;
	return pvio_dma_translate(ctx, ptr, len, &a) == 0;
}

int pvio_dma_translate(const pvio_ctx *ctx, const void *va, size_t len,
		       uint64_t *dev_addr)
{
	const struct pvio_dma_pool *p = &ctx->dma;
	uintptr_t a = (uintptr_t)va;
	for (unsigned i = 0; i < p->nregions; i++) {
		uintptr_t base = (uintptr_t)p->regions[i].va;
		if (a >= base && a - base <= p->regions[i].len &&
		    len <= p->regions[i].len - (a - base)) {
			*dev_addr = p->regions[i].dev_addr + (a - base);
			return 0;
		}
	}
	return -EFAULT;
}

void *pvio_dma_to_va(const pvio_ctx *ctx, uint64_t dev_addr, size_t len)
{
	const struct pvio_dma_pool *p = &ctx->dma;
	for (unsigned i = 0; i < p->nregions; i++) {
		uint64_t base = p->regions[i].dev_addr;
		if (dev_addr >= base && dev_addr - base <= p->regions[i].len &&
		    len <= p->regions[i].len - (dev_addr - base))
			return (char *)p->regions[i].va + (dev_addr - base);
	}
	return NULL;
}

unsigned pvio_dma_regions(const pvio_ctx *ctx,
			  const struct pvio_dma_region **regions)
{
	*regions = ctx->dma.regions;
	return ctx->dma.nregions;
}
