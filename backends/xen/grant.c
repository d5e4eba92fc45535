/* SPDX-License-Identifier: MIT */
/*
 * backends/xen/grant.c - a grant table v1 written by the guest itself.
 *
 * Used when the hostif lets the guest own its table (the sim's
 * GNTTAB_SETUP frames; an HVM/PVH guest's XENMAPSPACE_grant_table
 * frames).  Refs 0-7 are reserved; we hand out 8 upwards.
 *
 * Granting writes domid and frame, then (after a write barrier) flags.
 * Ending access follows Xen's rule (xen-pv.md section 3): if the peer has
 * the grant mapped (GTF_reading / GTF_writing, set by the hypervisor) the
 * grant cannot be revoked; otherwise compare-and-swap flags to 0, looping
 * if the hypervisor changed them meanwhile.  A ref that cannot be revoked
 * goes to a quarantine and is retried later; it is never handed out again
 * while mapped, and the page behind it is never reused (XSA-396).
 *
 * Data-path users take a private set of refs (struct xen_gnt_pool), so
 * queues running on different threads never share a free list.
 */
#include "xen.h"

static inline uint16_t *flags_of(struct xen_gnttab *t, uint32_t ref)
{
	return &t->ent[ref].flags;
}

int xen_gnttab_init(struct xen_gnttab *t, pvio_ctx *ctx, void *frames,
		    uint32_t nframes)
{
	memset(t, 0, sizeof(*t));
	if (!nframes)
		return -EINVAL;
	t->ctx = ctx;
	t->ent = frames;
	t->nr_ents = nframes * (uint32_t)XEN_GRANTS_PER_FRAME;
	t->next = XEN_GNTTAB_RESERVED;
	memset(frames, 0, (size_t)nframes * XEN_PAGE_SIZE);
	t->free = pvio_zalloc(ctx, t->nr_ents * sizeof(uint32_t));
	t->quar = pvio_zalloc(ctx, t->nr_ents * sizeof(uint32_t));
	if (!t->free || !t->quar) {
		xen_gnttab_fini(t);
		return -ENOMEM;
	}
	return 0;
}

void xen_gnttab_fini(struct xen_gnttab *t)
{
	if (t->ctx) {
		pvio_free(t->ctx, t->free);
		pvio_free(t->ctx, t->quar);
	}
	t->free = t->quar = NULL;
	t->nfree = t->nquar = 0;
}

uint32_t xen_gnttab_quarantined(const struct xen_gnttab *t)
{
	return t->nquar;
}

uint32_t xen_gnttab_available(const struct xen_gnttab *t)
{
	return t->nr_ents - t->next + t->nfree;
}

int xen_gnt_set(struct xen_gnttab *t, uint32_t ref, uint16_t domid,
		uint64_t gfn, bool ro)
{
	if (ref < XEN_GNTTAB_RESERVED || ref >= t->nr_ents)
		return -EINVAL;
	/* v1 frames are 32 bits: 16 TiB of guest memory */
	if (gfn > UINT32_MAX)
		return -ERANGE;
	struct xen_grant_v1 *e = &t->ent[ref];
	pvio_write16(&e->domid, domid);
	pvio_write32(&e->frame, (uint32_t)gfn);
	pvio_wmb();
	pvio_write16(&e->flags, (uint16_t)(XEN_GTF_permit_access |
					   (ro ? XEN_GTF_readonly : 0)));
	return 0;
}

int xen_gnt_clear(struct xen_gnttab *t, uint32_t ref)
{
	uint16_t *f = flags_of(t, ref);
	uint16_t raw = __atomic_load_n(f, __ATOMIC_ACQUIRE);
	for (;;) {
		uint16_t v = PVIO_LE16(raw);
		if (v & (XEN_GTF_reading | XEN_GTF_writing))
			return -EBUSY;
		/* on failure raw is refreshed with what the hypervisor wrote */
		if (__atomic_compare_exchange_n(f, &raw, 0, false,
						__ATOMIC_SEQ_CST,
						__ATOMIC_ACQUIRE))
			return 0;
	}
}

int xen_gnt_alloc(struct xen_gnttab *t, uint32_t *ref)
{
	if (t->nfree) {
		*ref = t->free[--t->nfree];
		return 0;
	}
	if (t->next >= t->nr_ents)
		return -ENOSPC;
	*ref = t->next++;
	return 0;
}

int xen_gnt_release(struct xen_gnttab *t, uint32_t ref)
{
	if (ref < XEN_GNTTAB_RESERVED || ref >= t->next)
		return -EINVAL;
	if (xen_gnt_clear(t, ref) < 0) {
		t->quar[t->nquar++] = ref;
		return -EBUSY;
	}
	t->free[t->nfree++] = ref;
	return 0;
}

uint32_t xen_gnttab_retry(struct xen_gnttab *t)
{
	uint32_t keep = 0;
	for (uint32_t i = 0; i < t->nquar; i++) {
		uint32_t ref = t->quar[i];
		if (xen_gnt_clear(t, ref) == 0)
			t->free[t->nfree++] = ref;
		else
			t->quar[keep++] = ref;
	}
	t->nquar = keep;
	return keep;
}

int xen_gnt_pool_init(struct xen_gnt_pool *p, struct xen_gnttab *t,
		      uint32_t count)
{
	memset(p, 0, sizeof(*p));
	p->t = t;
	p->stack = pvio_zalloc(t->ctx, (count ? count : 1) * sizeof(uint32_t));
	p->quar = pvio_zalloc(t->ctx, (count ? count : 1) * sizeof(uint32_t));
	if (!p->stack || !p->quar) {
		xen_gnt_pool_fini(p);
		return -ENOMEM;
	}
	p->cap = count;
	for (uint32_t i = 0; i < count; i++) {
		int r = xen_gnt_alloc(t, &p->stack[i]);
		if (r < 0) {
			xen_gnt_pool_fini(p);
			return r;
		}
		p->n++;
	}
	return 0;
}

void xen_gnt_pool_retry(struct xen_gnt_pool *p)
{
	uint32_t keep = 0;
	for (uint32_t i = 0; i < p->nquar; i++) {
		uint32_t ref = p->quar[i];
		if (xen_gnt_clear(p->t, ref) == 0)
			p->stack[p->n++] = ref;
		else
			p->quar[keep++] = ref;
	}
	p->nquar = keep;
}

void xen_gnt_pool_fini(struct xen_gnt_pool *p)
{
	if (!p->t)
		return;
	struct xen_gnttab *t = p->t;
	for (uint32_t i = 0; i < p->n; i++)
		xen_gnt_release(t, p->stack[i]);
	for (uint32_t i = 0; i < p->nquar; i++)
		xen_gnt_release(t, p->quar[i]);
	pvio_free(t->ctx, p->stack);
	pvio_free(t->ctx, p->quar);
	memset(p, 0, sizeof(*p));
}
