/* SPDX-License-Identifier: MIT */
/* tests/fuzz/common.c - the fuzz platform, guard zones, seed builders. */
#include "fuzz.h"

#include <stdarg.h>
#include <sys/mman.h>

#include <pvio/platform.h>
#include <pvio/transport.h>

#if defined(__SANITIZE_ADDRESS__)
#define FZ_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FZ_ASAN 1
#endif
#endif
#ifdef FZ_ASAN
#include <sanitizer/asan_interface.h>
#endif

/* Device addresses of the fuzz pool: like the hosted platform's, above
 * 4 GiB and unrelated to virtual addresses. */
#define FZ_DMA_BASE 0x100000000ull

struct fz_plat {
	struct pvio_platform plat; /* first: pvio_ctx_platform() finds us */
	uint64_t clock;
	uint64_t dma_next; /* device address of the next region */
	bool log;
	void *user;
};

void *fz_user(void *opaque)
{
	return ((struct fz_plat *)opaque)->user;
}

static void *p_alloc(void *o, size_t size)
{
	(void)o;
	return calloc(1, size);
}

static void p_free(void *o, void *p)
{
	(void)o;
	free(p);
}

static int p_dma_alloc(void *o, size_t len, struct pvio_dma_region *out)
{
	struct fz_plat *p = o;
	/* anonymous pages: zeroed, and only touched pages cost anything */
	void *va = mmap(NULL, len, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (va == MAP_FAILED)
		return -ENOMEM;
	out->va = va;
	/* regions never share device addresses (a 1 MiB gap between) */
	out->dev_addr = FZ_DMA_BASE + p->dma_next;
	p->dma_next += ((uint64_t)len + (2u << 20) - 1) & ~((1ull << 20) - 1);
	out->len = len;
	out->fd = -1;
	out->fd_offset = 0;
	return 0;
}

static void p_dma_free(void *o, const struct pvio_dma_region *r)
{
	(void)o;
	fz_unpoison(r->va, r->len);
	munmap(r->va, r->len);
}

static uint64_t p_now(void *o)
{
	struct fz_plat *p = o;
	p->clock += FZ_TICK_NS;
	return p->clock;
}

static void p_log(void *o, int level, const char *msg)
{
	struct fz_plat *p = o;
	if (p->log)
		fprintf(stderr, "pvio[%d]: %s\n", level, msg);
}

pvio_ctx *fz_ctx(size_t pool, uint32_t timeout_ms)
{
	return fz_ctx_hooks(pool, timeout_ms, NULL, NULL);
}

pvio_ctx *fz_ctx_hooks(size_t pool, uint32_t timeout_ms,
		       const struct pvio_platform *hooks, void *user)
{
	struct fz_plat *p = calloc(1, sizeof(*p));
	if (!p)
		abort();
	p->plat = (struct pvio_platform){
		.abi_version = PVIO_PLATFORM_ABI,
		.struct_size = sizeof(struct pvio_platform),
		.opaque = p,
		.alloc = p_alloc,
		.free = p_free,
		.dma_alloc = p_dma_alloc,
		.dma_free = p_dma_free,
		.now_ns = p_now,
		.log = p_log,
	};
	if (hooks) {
		p->plat.mmio_map = hooks->mmio_map;
		p->plat.port_in = hooks->port_in;
		p->plat.port_out = hooks->port_out;
		p->plat.pci_cfg_read = hooks->pci_cfg_read;
		p->plat.pci_cfg_write = hooks->pci_cfg_write;
		p->plat.mmio_read = hooks->mmio_read;
		p->plat.mmio_write = hooks->mmio_write;
		p->plat.wait = hooks->wait;
	}
	p->user = user;
	p->clock = 1000000000ull;
	p->log = getenv("FUZZ_LOG") != NULL;
	struct pvio_ctx_opts o = {
		.struct_size = sizeof(o),
		.platform = &p->plat,
		.dma_pool_size = pool,
		.log_level = p->log ? PVIO_LOG_DEBUG : PVIO_LOG_ERROR,
		.timeout_ms = timeout_ms,
	};
	pvio_ctx *ctx;
	if (pvio_ctx_new(&o, &ctx) < 0) {
		fprintf(stderr, "fuzz: cannot create a context\n");
		abort();
	}
	return ctx;
}

void fz_ctx_free(pvio_ctx *ctx)
{
	if (!ctx)
		return;
	struct fz_plat *p = (struct fz_plat *)(uintptr_t)pvio_ctx_platform(ctx);
	pvio_ctx_free(ctx);
	free(p);
}

void fz_poison(const void *p, size_t len)
{
#ifdef FZ_ASAN
	__asan_poison_memory_region(p, len);
#else
	(void)p, (void)len;
#endif
}

void fz_unpoison(const void *p, size_t len)
{
#ifdef FZ_ASAN
	__asan_unpoison_memory_region(p, len);
#else
	(void)p, (void)len;
#endif
}

#define GUARD 64u

static size_t guard_lead(size_t align)
{
	return align > GUARD ? align : GUARD;
}

static size_t guard_total(size_t len, size_t align)
{
	return guard_lead(align) + ((len + GUARD - 1) & ~(size_t)(GUARD - 1)) +
	       GUARD;
}

void *fz_dma_get(pvio_ctx *ctx, size_t len, size_t align)
{
	size_t lead = guard_lead(align), total = guard_total(len, align);
	uint8_t *base = pvio_dma_alloc(ctx, total, lead);
	if (!base)
		return NULL;
	uint8_t *p = base + lead;
	fz_poison(base, lead);
	fz_poison(p + len, total - lead - len);
	return p;
}

void fz_dma_put(pvio_ctx *ctx, void *p, size_t len, size_t align)
{
	if (!p)
		return;
	uint8_t *base = (uint8_t *)p - guard_lead(align);
	fz_unpoison(base, guard_total(len, align));
	pvio_dma_free(ctx, base);
}

void fz_note(const char *fmt, ...)
{
	static int on = -1;
	if (on < 0)
		on = getenv("FUZZ_VERBOSE") != NULL;
	if (!on)
		return;
	va_list ap;
	va_start(ap, fmt);
	fputs("fuzz: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

void fzb_put(struct fzb *b, const void *p, size_t len)
{
	if (b->n + len > b->cap) {
		b->cap = (b->n + len) * 2 + 64;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			abort();
	}
	if (len)
		memcpy(b->p + b->n, p, len);
	b->n += len;
}

void fzb_str(struct fzb *b, const char *s)
{
	size_t n = strlen(s);
	if (n > 255)
		n = 255;
	fzb_u8(b, (uint8_t)n);
	fzb_put(b, s, n);
}

void fzb_free(struct fzb *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

void fzb_emit(struct fzb *b, fz_emit_fn emit, void *arg, const char *name)
{
	emit(arg, name, b->p, b->n);
	b->n = 0;
}
