/* SPDX-License-Identifier: MIT */
/*
 * sim/vmbus/ring.c - the host's end of a VMBus ring buffer.
 *
 * A channel has two rings in one GPADL: the guest-to-host ring ("in" here:
 * the host consumes it) and the host-to-guest ring ("out": the host
 * produces).  Each is a header page and data pages; the pages need not be
 * contiguous in this process, so every access goes page by page.
 *
 * The guest owns the write index of "in", the read index of "out", the
 * interrupt mask of "out" and pending_send_sz of "in"; the host never
 * trusts its own indices as stored in shared memory but keeps private
 * copies (priv) and checks every guest-owned value it reads, once.
 */
#include <errno.h>
#include <string.h>

#include "vmbus/shv.h"

#define OFF_WRITE 0u
#define OFF_READ 4u
#define OFF_IMASK 8u
#define OFF_PENDING 12u
#define OFF_FEAT 64u

static uint32_t *field(const struct shv_ring *r, unsigned off)
{
	return (uint32_t *)(void *)((uint8_t *)r->hdr + off);
}

static uint32_t ld(const struct shv_ring *r, unsigned off)
{
	return __atomic_load_n(field(r, off), __ATOMIC_ACQUIRE);
}

static void st(const struct shv_ring *r, unsigned off, uint32_t v)
{
	__atomic_store_n(field(r, off), v, __ATOMIC_RELEASE);
}

static void copy_out(const struct shv_ring *r, uint32_t pos, void *dst,
		     uint32_t len)
{
	uint8_t *d = dst;
	while (len) {
		uint32_t pg = pos / SHV_PAGE, off = pos % SHV_PAGE;
		uint32_t n = SHV_PAGE - off < len ? SHV_PAGE - off : len;
		memcpy(d, r->data[pg] + off, n);
		d += n;
		len -= n;
		pos += n;
		if (pos == r->size)
			pos = 0;
	}
}

static void copy_in(const struct shv_ring *r, uint32_t pos, const void *src,
		    uint32_t len)
{
	const uint8_t *s = src;
	while (len) {
		uint32_t pg = pos / SHV_PAGE, off = pos % SHV_PAGE;
		uint32_t n = SHV_PAGE - off < len ? SHV_PAGE - off : len;
		memcpy(r->data[pg] + off, s, n);
		s += n;
		len -= n;
		pos += n;
		if (pos == r->size)
			pos = 0;
	}
}

static uint32_t used(uint32_t size, uint32_t w, uint32_t r)
{
	return w >= r ? w - r : size - r + w;
}

int shv_ring_peek(struct shv_ring *r, uint8_t *buf, uint32_t cap,
		  const char **reason)
{
	uint32_t w = ld(r, OFF_WRITE);
	if (w >= r->size || (w & 7)) {
		*reason = "guest write index outside the ring or unaligned";
		return -EPROTO;
	}
	uint32_t rd = r->priv;
	uint32_t avail = used(r->size, w, rd);
	if (!avail)
		return 0;
	if (avail < sizeof(struct shv_pkt_desc) + 8) {
		*reason = "guest published a partial packet";
		return -EPROTO;
	}
	struct shv_pkt_desc d;
	copy_out(r, rd, &d, sizeof(d));
	if (d.offset8 < 2 || d.len8 < d.offset8) {
		*reason = "packet descriptor offset8/len8 inconsistent";
		return -EPROTO;
	}
	uint32_t total = (uint32_t)d.len8 * 8u;
	if (total + 8u > avail) {
		*reason = "packet len8 beyond the guest's write index";
		return -EPROTO;
	}
	if (total > cap) {
		*reason = "packet larger than the host accepts";
		return -EPROTO;
	}
	copy_out(r, rd, buf, total);
	uint64_t trailer;
	copy_out(r, (rd + total) % r->size, &trailer, 8);
	if ((uint32_t)(trailer >> 32) != rd) {
		*reason = "packet trailer does not hold the packet's offset";
		return -EPROTO;
	}
	return (int)total;
}

void shv_ring_consume(struct shv_ring *r, uint32_t size)
{
	r->priv = (uint32_t)(((uint64_t)r->priv + size + 8u) % r->size);
}

bool shv_ring_in_empty(struct shv_ring *r)
{
	return ld(r, OFF_WRITE) == r->priv;
}

void shv_ring_set_imask(struct shv_ring *r, uint32_t v)
{
	st(r, OFF_IMASK, v);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

bool shv_ring_publish_read(struct shv_ring *r, uint32_t bytes)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	st(r, OFF_READ, r->priv);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!bytes)
		return false;
	uint32_t pending = ld(r, OFF_PENDING);
	if (!pending)
		return false;
	uint32_t w = ld(r, OFF_WRITE);
	if (w >= r->size || (w & 7))
		return false; /* found and reported by the next peek */
	uint32_t free_now = r->size - used(r->size, w, r->priv);
	if (bytes > free_now)
		return false;
	/* the guest was blocked before and can write now */
	return free_now - bytes <= pending && pending < free_now;
}

int shv_ring_write(struct shv_ring *r, const void *pkt, uint32_t len,
		   bool *signal, bool *suppressed, const char **reason)
{
	uint32_t rd = ld(r, OFF_READ);
	if (rd >= r->size || (rd & 7)) {
		*reason = "guest read index outside the ring or unaligned";
		return -EPROTO;
	}
	uint32_t start = r->priv;
	uint32_t free = r->size - used(r->size, start, rd);
	uint32_t need = len + 8u;
	if (free <= need) {
		if (ld(r, OFF_FEAT) & SHV_RING_FEAT_PENDING_SEND)
			st(r, OFF_PENDING, need);
		return -ENOSPC;
	}
	copy_in(r, start, pkt, len);
	uint64_t trailer = (uint64_t)start << 32;
	copy_in(r, (start + len) % r->size, &trailer, 8);
	r->priv = (uint32_t)(((uint64_t)start + need) % r->size);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	st(r, OFF_WRITE, r->priv);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	/* signal only if the guest is not polling and the ring was empty */
	if (ld(r, OFF_IMASK)) {
		*suppressed = true;
		return 0;
	}
	if (ld(r, OFF_READ) == start)
		*signal = true;
	return 0;
}

void shv_ring_clear_pending(struct shv_ring *r)
{
	if (ld(r, OFF_PENDING))
		st(r, OFF_PENDING, 0);
}
