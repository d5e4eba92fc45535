/* SPDX-License-Identifier: MIT */
/*
 * backends/virtio/hwio.h - register access for the device transports
 * (hostif_pci.c, hostif_mmio.c) through the platform hooks.
 *
 * Every device register access goes through here, so an embedder can route
 * them (mmio_read/mmio_write: confidential guests, test device models) and
 * everything else gets single volatile accesses of exactly the register's
 * width.  Registers are little-endian (virtio 1.x); these convert.
 */
#ifndef PVIO_BACKENDS_VIRTIO_HWIO_H
#define PVIO_BACKENDS_VIRTIO_HWIO_H

#include <pvio/platform.h>

#include "virtio.h"

static inline uint32_t hwio_rd(const struct pvio_platform *p, volatile uint8_t *a,
			       int width)
{
	if (p->mmio_read)
		return p->mmio_read(p->opaque, a, width);
	switch (width) {
	case 1:
		return *a;
	case 2:
		return PVIO_LE16(*(volatile uint16_t *)(volatile void *)a);
	default:
		return PVIO_LE32(*(volatile uint32_t *)(volatile void *)a);
	}
}

static inline void hwio_wr(const struct pvio_platform *p, volatile uint8_t *a,
			   int width, uint32_t v)
{
	if (p->mmio_write) {
		p->mmio_write(p->opaque, a, width, v);
		return;
	}
	switch (width) {
	case 1:
		*a = (uint8_t)v;
		break;
	case 2:
		*(volatile uint16_t *)(volatile void *)a = PVIO_LE16((uint16_t)v);
		break;
	default:
		*(volatile uint32_t *)(volatile void *)a = PVIO_LE32(v);
		break;
	}
}

static inline volatile uint8_t *hwio_map(const struct pvio_platform *p,
					 uint64_t pa, size_t len)
{
	if (p->mmio_map)
		return p->mmio_map(p->opaque, pa, len);
	if (pa > UINTPTR_MAX - len)
		return NULL;
	return (volatile uint8_t *)(uintptr_t)pa;
}

/*
 * Read len bytes of a device configuration window into buf with the
 * widest naturally aligned accesses (virtio wants 32-bit accesses for
 * 32- and 64-bit fields, 16-bit for 16-bit ones; callers read whole
 * structures, so a field never straddles two accesses of a smaller size).
 */
static inline void hwio_read_window(const struct pvio_platform *p,
				    volatile uint8_t *base, uint32_t off,
				    uint8_t *buf, uint32_t len)
{
	uint32_t i = 0;
	while (i < len) {
		uint32_t o = off + i, v;
		if (!(o & 3) && len - i >= 4) {
			v = hwio_rd(p, base + o, 4);
			for (int k = 0; k < 4; k++)
				buf[i + (uint32_t)k] = (uint8_t)(v >> (8 * k));
			i += 4;
		} else if (!(o & 1) && len - i >= 2) {
			v = hwio_rd(p, base + o, 2);
			buf[i] = (uint8_t)v;
			buf[i + 1] = (uint8_t)(v >> 8);
			i += 2;
		} else {
			buf[i++] = (uint8_t)hwio_rd(p, base + o, 1);
		}
	}
}

/* Spin until the clock passes deadline (short polls in device handshakes). */
static inline void hwio_relax(const struct pvio_platform *p)
{
	if (p->relax)
		p->relax(p->opaque);
}

/* Options shared by the device transports' addresses:
 * ?packed=on|off&size=N&queues=N.  0 or -EINVAL (message set). */
struct hwio_opts {
	uint32_t queues;
	uint32_t size;
	bool no_packed;
};
int virtio_hw_parse_opts(pvio_ctx *ctx, const char *address, const char *opts,
			 const char *usage, struct hwio_opts *o);

#endif /* PVIO_BACKENDS_VIRTIO_HWIO_H */
