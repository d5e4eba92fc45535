/* SPDX-License-Identifier: MIT */
/* core/ctx.c - contexts, errors, logging, names. */
#include "core.h"

#define DEFAULT_POOL_HOSTED (256u << 20)
#define DEFAULT_POOL_FREESTANDING (8u << 20)
#define DEFAULT_TIMEOUT_MS 5000u

const char *pvio_version(void)
{
	return PACKAGE_VERSION;
}

static int platform_ok(const struct pvio_platform *p)
{
	return p && p->abi_version == PVIO_PLATFORM_ABI &&
	       p->struct_size >= sizeof(*p) && p->alloc && p->free &&
	       p->dma_alloc && p->dma_free && p->now_ns;
}

int pvio_ctx_new(const struct pvio_ctx_opts *opts, pvio_ctx **out)
{
	const struct pvio_platform *plat = NULL;
	size_t pool = 0;
	int level = PVIO_LOG_WARN;
	uint32_t timeout = 0;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (opts) {
		if (opts->struct_size < sizeof(size_t))
			return -EINVAL;
		plat = opts->platform;
		pool = opts->dma_pool_size;
		if (opts->struct_size >= sizeof(*opts)) {
			level = opts->log_level;
			timeout = opts->timeout_ms;
		}
	}
#ifdef PVIO_FREESTANDING
	if (!plat)
		return -EINVAL; /* a freestanding embedder must bring one */
	if (!pool)
		pool = DEFAULT_POOL_FREESTANDING;
#else
	if (!plat)
		plat = pvio_platform_hosted();
	if (!pool)
		pool = DEFAULT_POOL_HOSTED;
	level = core_log_level_env(level);
#endif
	if (!platform_ok(plat))
		return -EINVAL;

	pvio_ctx *ctx = plat->alloc(plat->opaque, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	ctx->plat = plat;
	ctx->opaque = plat->opaque;
#ifndef PVIO_FREESTANDING
	ctx->hosted = plat == pvio_platform_hosted();
#endif
	ctx->log_level = level;
	ctx->timeout_ms = timeout ? timeout : DEFAULT_TIMEOUT_MS;
	int r = core_dma_pool_init(ctx, pool);
	if (r < 0) {
		plat->free(plat->opaque, ctx);
		return r;
	}
	*out = ctx;
	return 0;
}

void pvio_ctx_free(pvio_ctx *ctx)
{
	if (!ctx)
		return;
	core_dma_pool_fini(ctx);
	ctx->plat->free(ctx->opaque, ctx);
}

const char *pvio_errmsg(const pvio_ctx *ctx)
{
	return ctx ? ctx->errmsg : "no context";
}

int pvio_set_errorv(pvio_ctx *ctx, int err, const char *fmt, va_list ap)
{
	if (err < 0)
		err = -err;
	if (!err)
		err = EIO;
	if (ctx) {
		pvio_vsnprintf(ctx->errmsg, sizeof(ctx->errmsg), fmt, ap);
		pvio_log(ctx, PVIO_LOG_DEBUG, "error: %s", ctx->errmsg);
	}
	return -err;
}

int pvio_set_error(pvio_ctx *ctx, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = pvio_set_errorv(ctx, err, fmt, ap);
	va_end(ap);
	return r;
}

void pvio_log(pvio_ctx *ctx, int level, const char *fmt, ...)
{
	char line[PVIO_ERRMSG_MAX];
	va_list ap;

	if (!ctx || level > ctx->log_level || !ctx->plat->log)
		return;
	va_start(ap, fmt);
	pvio_vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	ctx->plat->log(ctx->opaque, level, line);
}

void *pvio_zalloc(pvio_ctx *ctx, size_t size)
{
	return ctx->plat->alloc(ctx->opaque, size ? size : 1);
}

void pvio_free(pvio_ctx *ctx, void *p)
{
	if (p)
		ctx->plat->free(ctx->opaque, p);
}

char *pvio_strdup(pvio_ctx *ctx, const char *s)
{
	size_t n = pvio_strlen(s) + 1;
	char *d = pvio_zalloc(ctx, n);
	if (d)
		memcpy(d, s, n);
	return d;
}

uint64_t pvio_now_ns(const pvio_ctx *ctx)
{
	return ctx->plat->now_ns(ctx->opaque);
}

uint32_t pvio_timeout_ms(const pvio_ctx *ctx)
{
	return ctx->timeout_ms;
}

uint64_t pvio_deadline(const pvio_ctx *ctx)
{
	return pvio_now_ns(ctx) + (uint64_t)ctx->timeout_ms * 1000000ull;
}

const struct pvio_platform *pvio_ctx_platform(const pvio_ctx *ctx)
{
	return ctx->plat;
}

int pvio_ctx_hosted(const pvio_ctx *ctx)
{
	return ctx->hosted;
}

void pvio_dma_mb(const pvio_ctx *ctx)
{
	if (ctx->plat->mb)
		ctx->plat->mb(ctx->opaque);
	else
		pvio_mb();
}

void pvio_dma_wmb(const pvio_ctx *ctx)
{
	if (ctx->plat->wmb)
		ctx->plat->wmb(ctx->opaque);
	else
		pvio_wmb();
}

void pvio_dma_rmb(const pvio_ctx *ctx)
{
	if (ctx->plat->rmb)
		ctx->plat->rmb(ctx->opaque);
	else
		pvio_rmb();
}

const char *pvio_class_name(enum pvio_class c)
{
	switch (c) {
	case PVIO_CLASS_BLK:
		return "blk";
	case PVIO_CLASS_NET:
		return "net";
	default:
		return "none";
	}
}

const char *pvio_family_name(enum pvio_family f)
{
	switch (f) {
	case PVIO_FAMILY_VIRTIO:
		return "virtio";
	case PVIO_FAMILY_XEN:
		return "xen";
	case PVIO_FAMILY_VMBUS:
		return "vmbus";
	default:
		return "none";
	}
}

const char *pvio_family_hypervisor(enum pvio_family f)
{
	switch (f) {
	case PVIO_FAMILY_VIRTIO:
		return "KVM";
	case PVIO_FAMILY_XEN:
		return "Xen";
	case PVIO_FAMILY_VMBUS:
		return "Hyper-V";
	default:
		return "none";
	}
}

const char *pvio_feature_name(uint64_t f)
{
	switch (f) {
	case PVIO_F_INDIRECT: return "indirect";
	case PVIO_F_EVENT_SUPPRESS: return "event-suppress";
	case PVIO_F_MULTIQUEUE: return "multiqueue";
	case PVIO_F_PACKED_RING: return "packed-ring";
	case PVIO_F_IN_ORDER: return "in-order";
	case PVIO_F_PERSISTENT_MAP: return "persistent-map";
	case PVIO_F_MULTI_PAGE_RING: return "multi-page-ring";
	case PVIO_F_BLK_FLUSH: return "flush";
	case PVIO_F_BLK_DISCARD: return "discard";
	case PVIO_F_BLK_WRITE_ZEROES: return "write-zeroes";
	case PVIO_F_BLK_READ_ONLY: return "read-only";
	case PVIO_F_BLK_BARRIER: return "barrier";
	case PVIO_F_BLK_TOPOLOGY: return "topology";
	case PVIO_F_NET_MAC: return "mac";
	case PVIO_F_NET_MTU: return "mtu";
	case PVIO_F_NET_LINK_STATUS: return "link-status";
	case PVIO_F_NET_CSUM_TX: return "csum-tx";
	case PVIO_F_NET_CSUM_RX: return "csum-rx";
	case PVIO_F_NET_TSO4: return "tso4";
	case PVIO_F_NET_TSO6: return "tso6";
	case PVIO_F_NET_SG: return "sg";
	case PVIO_F_NET_CTRL: return "ctrl";
	case PVIO_F_NET_SET_MAC: return "set-mac";
	default: return NULL;
	}
}
