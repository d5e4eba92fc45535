/* SPDX-License-Identifier: MIT */
/*
 * backends/xen/ring.c - the front end's side of a Xen shared ring.
 *
 * The algorithm of io/ring.h (xen-pv.md section 2), written for an
 * untrusted back end: the only shared fields read are rsp_prod and
 * req_event, each once per use; req_prod is never read back (we keep our
 * own copy of what we published); a response producer that runs ahead of
 * the published requests - or backwards, which is the same in 32-bit
 * modular arithmetic - is reported, never followed.
 */
#include "xen.h"

#include <stddef.h>

#define SR_REQ_PROD offsetof(struct xen_sring, req_prod)
#define SR_REQ_EVENT offsetof(struct xen_sring, req_event)
#define SR_RSP_PROD offsetof(struct xen_sring, rsp_prod)
#define SR_RSP_EVENT offsetof(struct xen_sring, rsp_event)

uint32_t xen_ring_entries(size_t bytes, size_t ent_size)
{
	if (!ent_size || bytes <= XEN_SRING_HDR)
		return 0;
	size_t n = (bytes - XEN_SRING_HDR) / ent_size;
	uint32_t p = 1;
	if (!n)
		return 0;
	while ((size_t)p * 2 <= n && p < 0x80000000u)
		p *= 2;
	return p;
}

void xen_ring_init(struct xen_fring *r, void *va, size_t bytes,
		   uint32_t ent_size, uint32_t start)
{
	uint8_t *s = va;
	memset(s, 0, XEN_SRING_HDR);
	pvio_write32(s + SR_REQ_PROD, start);
	pvio_write32(s + SR_RSP_PROD, start);
	pvio_write32(s + SR_REQ_EVENT, start + 1);
	pvio_write32(s + SR_RSP_EVENT, start + 1);
	r->sring = s;
	r->ents = s + XEN_SRING_HDR;
	r->ent_size = ent_size;
	r->nr_ents = xen_ring_entries(bytes, ent_size);
	r->req_prod_pvt = start;
	r->req_prod = start;
	r->rsp_cons = start;
}

bool xen_ring_push(struct xen_fring *r)
{
	uint32_t old = r->req_prod;
	uint32_t now = r->req_prod_pvt;
	if (old == now)
		return false;
	pvio_wmb();          /* entries before the index */
	pvio_write32(r->sring + SR_REQ_PROD, now);
	r->req_prod = now;
	pvio_mb();           /* index before reading req_event */
	uint32_t ev = pvio_read32(r->sring + SR_REQ_EVENT);
	return (uint32_t)(now - ev) < (uint32_t)(now - old);
}

int xen_ring_pending(struct xen_fring *r, uint32_t *rsp_prod)
{
	uint32_t prod = pvio_read32(r->sring + SR_RSP_PROD);
	pvio_rmb();          /* the index before the entries */
	uint32_t n = prod - r->rsp_cons;
	if (n > r->req_prod - r->rsp_cons)
		return -EPROTO;
	*rsp_prod = prod;
	return (int)n;
}

int xen_ring_final_check(struct xen_fring *r)
{
	uint32_t prod;
	int n = xen_ring_pending(r, &prod);
	if (n)
		return n < 0 ? n : 1;
	pvio_write32(r->sring + SR_RSP_EVENT, r->rsp_cons + 1);
	pvio_mb();           /* rsp_event before re-reading rsp_prod */
	n = xen_ring_pending(r, &prod);
	if (n)
		return n < 0 ? n : 1;
	return 0;
}

void xen_ring_mute(struct xen_fring *r)
{
	/* An event index half the index space away is outside every window
	 * (old, new] the back end can publish before we consume. */
	pvio_write32(r->sring + SR_RSP_EVENT, r->rsp_cons + 0x80000000u);
}
