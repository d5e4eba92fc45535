/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_vmbus_host.h - the host's side of a VMBus ring buffer,
 * written for the tests from the fact sheet (shared/specs/hyperv-vmbus.md
 * sec. 8-9) with raw offsets, independently of backends/vmbus/ring.c:
 * the host reads the guest's send ring and writes the guest's receive
 * ring.
 */
#ifndef TEST_VMBUS_HOST_H
#define TEST_VMBUS_HOST_H

#include <stdint.h>
#include <string.h>

struct hring {
	uint8_t *hdr;
	uint8_t *data;
	uint32_t size;
};

#define HR_W 0
#define HR_R 4
#define HR_IMASK 8
#define HR_PENDING 12
#define HR_FEAT 64

static inline uint32_t hr_get32(const uint8_t *p)
{
	uint32_t v;
	__atomic_load((const uint32_t *)p, &v, __ATOMIC_ACQUIRE);
	return v;
}

static inline void hr_set32(uint8_t *p, uint32_t v)
{
	__atomic_store((uint32_t *)p, &v, __ATOMIC_RELEASE);
}

static inline void hr_init(struct hring *r, void *mem, uint32_t bytes)
{
	r->hdr = mem;
	r->data = (uint8_t *)mem + 4096;
	r->size = bytes - 4096;
}

static inline void hr_copy_in(struct hring *r, uint32_t off, const void *src,
			      uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		r->data[(off + i) % r->size] = ((const uint8_t *)src)[i];
}

static inline void hr_copy_out(const struct hring *r, uint32_t off, void *dst,
			       uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		((uint8_t *)dst)[i] = r->data[(off + i) % r->size];
}

static inline uint32_t hr_used(const struct hring *r)
{
	uint32_t w = hr_get32(r->hdr + HR_W), rd = hr_get32(r->hdr + HR_R);
	return w >= rd ? w - rd : r->size - rd + w;
}

/* Host writes pkt (len, multiple of 8) into the guest's receive ring.
 * Returns 1 if the guest should be interrupted (ring was empty and the
 * guest has not masked), 0 if not, -1 if there is no room. */
static inline int hr_put(struct hring *r, const void *pkt, uint32_t len)
{
	uint32_t free = r->size - hr_used(r);
	if (free <= len + 8)
		return -1;
	uint32_t w = hr_get32(r->hdr + HR_W);
	uint32_t old = w;
	hr_copy_in(r, w, pkt, len);
	uint64_t trailer = (uint64_t)w << 32;
	hr_copy_in(r, (w + len) % r->size, &trailer, 8);
	bool was_empty = hr_get32(r->hdr + HR_R) == old;
	hr_set32(r->hdr + HR_W, (w + len + 8) % r->size);
	return was_empty && !hr_get32(r->hdr + HR_IMASK) ? 1 : 0;
}

/* Host reads the next packet of the guest's send ring: its length
 * (len8 * 8), 0 if empty, -1 if the guest wrote something malformed
 * (including a trailer that does not name the packet's start). */
static inline int hr_get(struct hring *r, void *buf, uint32_t cap)
{
	uint32_t avail = hr_used(r);
	if (!avail)
		return 0;
	uint32_t rd = hr_get32(r->hdr + HR_R);
	uint8_t d[16];
	if (avail < 24)
		return -1;
	hr_copy_out(r, rd, d, 16);
	uint16_t off8, len8;
	memcpy(&off8, d + 2, 2);
	memcpy(&len8, d + 4, 2);
	uint32_t len = len8 * 8u;
	if (off8 < 2 || len8 < off8 || len + 8 > avail || len > cap)
		return -1;
	hr_copy_out(r, rd, buf, len);
	uint64_t trailer;
	hr_copy_out(r, (rd + len) % r->size, &trailer, 8);
	if (trailer != (uint64_t)rd << 32)
		return -1;
	hr_set32(r->hdr + HR_R, (rd + len + 8) % r->size);
	return (int)len;
}

/* descriptor + payload into buf; returns the packet length (padded) */
static inline uint32_t hp_build(uint8_t *buf, uint16_t type, uint16_t flags,
				uint64_t tid, const void *hdr_extra,
				uint32_t extra_len, const void *payload,
				uint32_t plen)
{
	uint32_t hlen = 16 + extra_len;
	uint32_t total = (hlen + plen + 7) & ~7u;
	memset(buf, 0, total);
	uint16_t off8 = (uint16_t)(hlen / 8), len8 = (uint16_t)(total / 8);
	memcpy(buf, &type, 2);
	memcpy(buf + 2, &off8, 2);
	memcpy(buf + 4, &len8, 2);
	memcpy(buf + 6, &flags, 2);
	memcpy(buf + 8, &tid, 8);
	if (extra_len)
		memcpy(buf + 16, hdr_extra, extra_len);
	if (plen)
		memcpy(buf + hlen, payload, plen);
	return total;
}

#endif
