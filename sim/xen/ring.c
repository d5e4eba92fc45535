/* SPDX-License-Identifier: MIT */
/*
 * sim/xen/ring.c - the back-end half of io/ring.h.
 *
 * A multi-page ring is granted page by page, so our mappings of it are
 * not contiguous: slots are copied in and out piecewise (a request is
 * copied once, then validated - never read twice).  Index updates follow
 * RING_PUSH_RESPONSES_AND_CHECK_NOTIFY and RING_FINAL_CHECK_FOR_REQUESTS.
 */
#include <string.h>

#include "sxen.h"

void sxen_ring_init(struct sxen_ring *r, uint8_t **pages, uint32_t npages,
		    uint32_t entry)
{
	memset(r, 0, sizeof(*r));
	for (uint32_t i = 0; i < npages; i++)
		r->pg[i] = pages[i];
	r->npages = npages;
	r->entry = entry;
	r->nr_ents = sxen_ring_entries(npages * SXEN_PAGE_SIZE, entry);
}

static void copy(struct sxen_ring *r, uint32_t idx, void *buf, uint32_t len,
		 bool in)
{
	uint32_t off = SXEN_SRING_HDR + (idx & (r->nr_ents - 1)) * r->entry;
	uint8_t *b = buf;
	if (len > r->entry)
		len = r->entry;
	while (len) {
		uint32_t pg = off / SXEN_PAGE_SIZE, po = off % SXEN_PAGE_SIZE;
		uint32_t n = SXEN_PAGE_SIZE - po;
		if (n > len)
			n = len;
		if (in)
			memcpy(b, r->pg[pg] + po, n);
		else
			memcpy(r->pg[pg] + po, b, n);
		b += n;
		off += n;
		len -= n;
	}
}

void sxen_ring_get(struct sxen_ring *r, uint32_t idx, void *dst, uint32_t len)
{
	copy(r, idx, dst, len, true);
}

void sxen_ring_put(struct sxen_ring *r, uint32_t idx, const void *src,
		   uint32_t len)
{
	copy(r, idx, (void *)src, len, false);
}

bool sxen_ring_push_responses(struct sxen_ring *r)
{
	struct sxen_sring_hdr *h = sxen_ring_hdr(r);
	uint32_t old = __atomic_load_n(&h->rsp_prod, __ATOMIC_RELAXED);
	uint32_t new = r->rsp_prod_pvt;
	sxen_store_rel(&h->rsp_prod, new);
	sxen_mb();
	uint32_t ev = __atomic_load_n(&h->rsp_event, __ATOMIC_RELAXED);
	return (uint32_t)(new - ev) < (uint32_t)(new - old);
}

void sxen_ring_set_rsp_prod(struct sxen_ring *r, uint32_t value)
{
	sxen_store_rel(&sxen_ring_hdr(r)->rsp_prod, value);
	sxen_mb();
}

bool sxen_ring_final_check(struct sxen_ring *r)
{
	struct sxen_sring_hdr *h = sxen_ring_hdr(r);
	if (sxen_load_acq(&h->req_prod) != r->req_cons)
		return true;
	__atomic_store_n(&h->req_event, r->req_cons + 1, __ATOMIC_RELAXED);
	sxen_mb();
	return sxen_load_acq(&h->req_prod) != r->req_cons;
}

uint32_t sxen_ring_pending(struct sxen_ring *r, uint32_t *req_prod)
{
	uint32_t rp = sxen_load_acq(&sxen_ring_hdr(r)->req_prod);
	*req_prod = rp;
	if ((uint32_t)(rp - r->rsp_prod_pvt) > r->nr_ents)
		return UINT32_MAX;
	return rp - r->req_cons;
}
