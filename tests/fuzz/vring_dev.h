/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/vring_dev.h - the device side of a virtqueue (split or
 * packed) for the fuzz harnesses that play a virtio device: take what the
 * driver made available, write used entries.  Written from the virtio
 * spec and linux/virtio_ring.h, not from pvio's driver.
 */
#ifndef PVIO_TESTS_FUZZ_VRING_DEV_H
#define PVIO_TESTS_FUZZ_VRING_DEV_H

#include "fuzz.h"

#define VDQ_MAX_PIECES 160

struct vdq {
	pvio_ctx *ctx;       /* descriptor addresses are its DMA addresses */
	bool packed, event_idx;
	uint16_t q;
	uint8_t *desc, *drv, *dev;
	uint16_t last_avail, used_idx;     /* split */
	uint16_t avail, used;              /* packed */
	int avail_wrap, used_wrap;
};

struct vdq_piece {
	uint8_t *va;
	uint32_t len;
	bool write;
};

struct vdq_chain {
	uint16_t id;         /* split: head descriptor; packed: buffer id */
	uint16_t ndesc;      /* ring slots it occupied */
	unsigned n;
	uint32_t wlen;       /* writable bytes */
	struct vdq_piece p[VDQ_MAX_PIECES];
};

void vdq_init(struct vdq *d, pvio_ctx *ctx, bool packed, bool event_idx,
	      uint16_t q, void *desc, void *drv, void *dev);
/* The next available buffer: 1, 0 if none, -1 if the driver wrote
 * something a device must refuse (the caller asserts on it). */
int vdq_take(struct vdq *d, struct vdq_chain *c, const char **why);
/* Write a used entry for buffer id (ndesc: the slots it took, packed). */
void vdq_used(struct vdq *d, uint16_t id, uint32_t len, uint16_t ndesc);
/* The device's stop position: split next avail index; packed slot | wrap
 * counter << 15. */
uint32_t vdq_base(const struct vdq *d);
/* Whether the driver asked for a used-buffer notification now. */
bool vdq_wants_irq(const struct vdq *d);

/* Copy len bytes into a chain's writable pieces from byte off of the
 * writable part; returns the bytes written. */
uint32_t vdq_write(const struct vdq_chain *c, uint32_t off, const void *src,
		   uint32_t len);
/* Copy up to len bytes out of a chain's readable part. */
uint32_t vdq_read(const struct vdq_chain *c, uint32_t off, void *dst,
		  uint32_t len);

#endif
