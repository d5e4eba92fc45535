/* SPDX-License-Identifier: MIT */
/*
 * backends/vmbus/ring.c - the VMBus channel ring buffer.
 *
 * Each direction is a header page (write_index, read_index,
 * interrupt_mask, pending_send_sz, feature_bits) and a data area in which
 * packets (descriptor + payload padded to 8 + an 8-byte trailer holding
 * the packet's start offset) follow each other and may wrap.  Indices are
 * byte offsets in [0, size); w == r means empty, so a writer needs
 * strictly more free bytes than it writes.
 *
 * The guest writes the send ring and reads the receive ring.  Everything
 * the host writes (its read index on the send ring, its write index and
 * every packet on the receive ring) is read once, validated and copied
 * out before use.  Signalling follows shared/specs/hyperv-vmbus.md sec. 8:
 * signal after a write only when the ring was empty before it and the host
 * has not set interrupt_mask; after reading, signal only when a blocked
 * host writer's pending_send_sz goes from "not enough" to "enough".
 */
#include "vmbus.h"

#define R_WRITE 0
#define R_READ 4
#define R_IMASK 8
#define R_PENDING 12
#define R_FEATURES 64

_Static_assert(sizeof(struct vmbus_ring_hdr) == 68, "ring header");

static inline uint32_t used_bytes(uint32_t w, uint32_t r, uint32_t size)
{
	return w >= r ? w - r : size - r + w;
}

static inline bool index_ok(uint32_t v, uint32_t size)
{
	return v < size && (v & 7) == 0;
}

void vmbus_ring_init(struct vmbus_ring *r, void *mem, uint32_t ring_bytes)
{
	r->hdr = mem;
	r->data = (volatile uint8_t *)mem + VMBUS_PAGE;
	r->size = ring_bytes - VMBUS_PAGE;
	r->priv = r->pub = r->host_w = 0;
	r->pending_set = false;
}

void vmbus_ring_setup(struct vmbus_ring *r)
{
	pvio_write32((void *)(r->hdr + R_WRITE), 0);
	pvio_write32((void *)(r->hdr + R_READ), 0);
	pvio_write32((void *)(r->hdr + R_IMASK), 0);
	pvio_write32((void *)(r->hdr + R_PENDING), 0);
	pvio_write32((void *)(r->hdr + R_FEATURES), 1);
}

/* Copy len bytes to the data area at off, wrapping; returns the new off. */
static uint32_t put(struct vmbus_ring *r, uint32_t off, const void *src,
		    uint32_t len)
{
	uint32_t first = r->size - off;
	if (first > len)
		first = len;
	memcpy((void *)(r->data + off), src, first);
	if (len > first)
		memcpy((void *)r->data, (const uint8_t *)src + first,
		       len - first);
	off += len;
	return off >= r->size ? off - r->size : off;
}

static uint32_t zero(struct vmbus_ring *r, uint32_t off, uint32_t len)
{
	static const uint8_t z[8];
	return put(r, off, z, len);
}

static void get(const struct vmbus_ring *r, uint32_t off, void *dst,
		uint32_t len)
{
	uint32_t first = r->size - off;
	if (first > len)
		first = len;
	memcpy(dst, (const void *)(r->data + off), first);
	if (len > first)
		memcpy((uint8_t *)dst + first, (const void *)r->data,
		       len - first);
}

int vmbus_ring_write(struct vmbus_ring *r, const struct vmbus_iov *iov,
		     unsigned n, const char **why)
{
	uint64_t total = 0;
	for (unsigned i = 0; i < n; i++)
		total += iov[i].len;
	uint64_t padded = (total + 7) & ~7ull;
	uint64_t need = padded + 8;

	uint32_t rd = pvio_read32((const void *)(r->hdr + R_READ));
	if (!index_ok(rd, r->size)) {
		*why = "host read index of the send ring is out of range";
		return -EIO;
	}
	uint32_t w = r->priv;
	uint32_t free = r->size - used_bytes(w, rd, r->size);
	if (need >= r->size)
		return -EMSGSIZE;
	if (free <= need) {
		/* ask the host to interrupt us once it has made room */
		pvio_write32((void *)(r->hdr + R_PENDING), (uint32_t)need);
		r->pending_set = true;
		pvio_mb();
		/* the host may have read in the meantime */
		rd = pvio_read32((const void *)(r->hdr + R_READ));
		if (!index_ok(rd, r->size)) {
			*why = "host read index of the send ring is out of range";
			return -EIO;
		}
		free = r->size - used_bytes(w, rd, r->size);
		if (free <= need)
			return -EAGAIN;
	}
	if (r->pending_set) {
		pvio_write32((void *)(r->hdr + R_PENDING), 0);
		r->pending_set = false;
	}
	uint32_t start = w;
	for (unsigned i = 0; i < n; i++)
		if (iov[i].len)
			w = put(r, w, iov[i].base, iov[i].len);
	if (padded > total)
		w = zero(r, w, (uint32_t)(padded - total));
	uint64_t trailer = PVIO_LE64((uint64_t)start << 32);
	w = put(r, w, &trailer, 8);
	r->priv = w;
	return 0;
}

int vmbus_ring_publish(struct vmbus_ring *r)
{
	if (r->priv == r->pub)
		return -1;
	uint32_t old = r->pub;
	pvio_wmb(); /* packet bytes before the index */
	pvio_write32((void *)(r->hdr + R_WRITE), r->priv);
	r->pub = r->priv;
	pvio_mb(); /* index store before reading the host's state */
	if (pvio_read32((const void *)(r->hdr + R_IMASK)))
		return 0;
	pvio_rmb();
	uint32_t rd = pvio_read32((const void *)(r->hdr + R_READ));
	return rd == old ? 1 : 0;
}

int64_t vmbus_ring_free(struct vmbus_ring *r)
{
	uint32_t rd = pvio_read32((const void *)(r->hdr + R_READ));
	if (!index_ok(rd, r->size))
		return -1;
	return r->size - used_bytes(r->priv, rd, r->size);
}

/* Validate the host's write index: in range, aligned, and not behind
 * what it already showed us.  Returns the bytes available or -EIO. */
static int64_t rx_avail(struct vmbus_ring *r, const char **why)
{
	uint32_t w = pvio_read32((const void *)(r->hdr + R_WRITE));
	pvio_rmb();
	if (!index_ok(w, r->size)) {
		*why = "host write index of the receive ring is out of range";
		return -EIO;
	}
	uint32_t avail = used_bytes(w, r->priv, r->size);
	uint32_t before = used_bytes(r->host_w, r->priv, r->size);
	if (avail < before) {
		*why = "host moved the receive ring's write index backwards";
		return -EIO;
	}
	r->host_w = w;
	return avail;
}

static int read_desc(struct vmbus_ring *r, struct vmbus_pkt_desc *d,
		     uint32_t *avail_out, const char **why)
{
	int64_t avail = rx_avail(r, why);
	if (avail < 0)
		return -EIO;
	if (avail == 0)
		return 0;
	if (avail < (int64_t)sizeof(*d) + 8) {
		*why = "receive ring holds a partial packet descriptor";
		return -EIO;
	}
	get(r, r->priv, d, sizeof(*d));
	uint32_t hlen = (uint32_t)PVIO_LE16(d->offset8) * 8;
	uint32_t tlen = (uint32_t)PVIO_LE16(d->len8) * 8;
	if (hlen < sizeof(*d) || tlen < hlen) {
		*why = "packet offset8/len8 out of bounds";
		return -EIO;
	}
	if ((uint64_t)tlen + 8 > (uint64_t)avail) {
		*why = "packet len8 runs past the receive ring's write index";
		return -EIO;
	}
	*avail_out = (uint32_t)avail;
	return 1;
}

int vmbus_ring_peek(struct vmbus_ring *r, struct vmbus_pkt_desc *d,
		    const char **why)
{
	uint32_t avail;
	return read_desc(r, d, &avail, why);
}

int vmbus_ring_read(struct vmbus_ring *r, void *buf, uint32_t cap,
		    const char **why)
{
	struct vmbus_pkt_desc d;
	uint32_t avail;
	int rc = read_desc(r, &d, &avail, why);
	if (rc <= 0)
		return rc;
	uint32_t tlen = (uint32_t)PVIO_LE16(d.len8) * 8;
	if (tlen > cap) {
		*why = "packet larger than any the protocol sends";
		return -EMSGSIZE;
	}
	get(r, r->priv, buf, tlen);
	/* the validated descriptor, not a second read of host memory */
	memcpy(buf, &d, sizeof(d));
	uint32_t next = r->priv + tlen + 8;
	r->priv = next >= r->size ? next - r->size : next;
	return (int)tlen;
}

int vmbus_ring_done(struct vmbus_ring *r)
{
	if (r->priv == r->pub)
		return 0;
	uint32_t old = r->pub;
	pvio_mb(); /* our reads of the packets before the index store */
	pvio_write32((void *)(r->hdr + R_READ), r->priv);
	r->pub = r->priv;
	pvio_mb();
	if (!(pvio_read32((const void *)(r->hdr + R_FEATURES)) & 1))
		return 0;
	uint32_t pending = pvio_read32((const void *)(r->hdr + R_PENDING));
	if (!pending)
		return 0;
	uint32_t w = pvio_read32((const void *)(r->hdr + R_WRITE));
	if (!index_ok(w, r->size))
		return 0; /* the next read reports it */
	int64_t free_now = r->size - used_bytes(w, r->priv, r->size);
	int64_t read = used_bytes(r->priv, old, r->size);
	/* signal only on the transition from "not enough" to "enough" */
	if (free_now - read > (int64_t)pending)
		return 0;
	if (free_now <= (int64_t)pending)
		return 0;
	return 1;
}

void vmbus_ring_mask(struct vmbus_ring *r)
{
	pvio_write32((void *)(r->hdr + R_IMASK), 1);
}

int vmbus_ring_unmask(struct vmbus_ring *r)
{
	pvio_write32((void *)(r->hdr + R_IMASK), 0);
	pvio_mb();
	return vmbus_ring_pending(r);
}

int vmbus_ring_pending(struct vmbus_ring *r)
{
	uint32_t w = pvio_read32((const void *)(r->hdr + R_WRITE));
	return w != r->priv;
}
