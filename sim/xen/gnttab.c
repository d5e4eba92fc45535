/* SPDX-License-Identifier: MIT */
/*
 * sim/xen/gnttab.c - a guest's grant table (v1) as Xen enforces it.
 *
 * The table lives in guest frames named by GNTTAB_SETUP.  Mapping or
 * copying a grant for dom0 reads the entry with single accesses and pins
 * it the way Xen's _set_status_v1() does: the type must be
 * GTF_permit_access (and not sub-page for a mapping), domid must be 0, a
 * writable use of a GTF_readonly entry is refused, and GTF_reading
 * (+GTF_writing) are set with a compare-and-swap that gives up after five
 * tries against a guest that keeps changing the entry.  The frame is read
 * once, at the first pin, and must lie in guest memory.  Pins are counted
 * per entry; the flags are cleared when the last (writable) pin goes.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "sxen.h"

static void refuse(struct sxen_domain *d, uint32_t ref, const char *why,
		   unsigned flags)
{
	d->gt.refused++;
	sim_log_limited(&d->gt.log_budget,
			"dom%u: grant ref %u refused: %s (flags 0x%x)",
			d->domid, ref, why, flags);
}

int sxen_gnt_setup(struct sxen_domain *d, const uint64_t *gfns, uint32_t n)
{
	struct sxen_gnttab *gt = &d->gt;
	uint8_t *pg[SXEN_GNT_MAX_FRAMES];
	if (n < 1 || n > SXEN_GNT_MAX_FRAMES)
		return -EINVAL;
	if (gt->pins)
		return -EBUSY;
	for (uint32_t i = 0; i < n; i++) {
		pg[i] = sxen_gfn_ptr(d, gfns[i]);
		if (!pg[i])
			return -EINVAL;
	}
	struct sxen_gnt_active *act = calloc((size_t)n * SXEN_GNT_PER_FRAME,
					     sizeof(*act));
	if (!act)
		return -ENOMEM;
	free(gt->act);
	gt->act = act;
	memcpy(gt->frames, pg, sizeof(pg[0]) * n);
	gt->nr_frames = n;
	gt->nr_ents = n * SXEN_GNT_PER_FRAME;
	if (!gt->log_budget)
		gt->log_budget = 20;
	return 0;
}

void sxen_gnt_fini(struct sxen_domain *d)
{
	free(d->gt.act);
	memset(&d->gt, 0, sizeof(d->gt));
}

static uint8_t *entry_ptr(struct sxen_gnttab *gt, uint32_t ref)
{
	return gt->frames[ref / SXEN_GNT_PER_FRAME] +
	       (ref % SXEN_GNT_PER_FRAME) * sizeof(struct sxen_grant_entry);
}

static void clear_flags(uint8_t *e, uint16_t mask)
{
	__atomic_fetch_and((uint16_t *)e, (uint16_t)~mask, __ATOMIC_SEQ_CST);
}

static int pin(struct sxen_domain *d, uint32_t ref, bool write, bool map,
	       uint8_t **page)
{
	struct sxen_gnttab *gt = &d->gt;
	if (!gt->nr_ents) {
		refuse(d, ref, "the domain has no grant table", 0);
		return -EINVAL;
	}
	if (ref >= gt->nr_ents) {
		refuse(d, ref, "beyond the grant table", 0);
		return -EINVAL;
	}
	struct sxen_gnt_active *act = &gt->act[ref];
	bool pinned = act->rpins || act->wpins;
	uint8_t *e = entry_ptr(gt, ref);
	uint16_t set = 0;

	if (act->rpins == UINT16_MAX || act->wpins == UINT16_MAX)
		return -ENOSPC;
	if (!pinned || (write && !act->wpins)) {
		uint32_t *raw = (uint32_t *)e;
		uint32_t combo = __atomic_load_n(raw, __ATOMIC_ACQUIRE);
		uint16_t mask = SXEN_GTF_TYPE_MASK | (map ? SXEN_GTF_SUB_PAGE : 0);
		for (int tries = 0;; tries++) {
			uint16_t flags = (uint16_t)combo;
			uint16_t domid = (uint16_t)(combo >> 16);
			if (!pinned && ((flags & mask) != SXEN_GTF_PERMIT_ACCESS ||
					domid != 0)) {
				refuse(d, ref, domid != 0 ? "granted to another domain"
							  : "not GTF_permit_access",
				       flags);
				return -EPERM;
			}
			uint16_t nf = flags | SXEN_GTF_READING;
			if (write) {
				if (flags & SXEN_GTF_READONLY) {
					refuse(d, ref, "write access to a read-only grant",
					       flags);
					return -EACCES;
				}
				nf |= SXEN_GTF_WRITING;
			}
			uint32_t want = (combo & 0xFFFF0000u) | nf;
			if (__atomic_compare_exchange_n(raw, &combo, want, false,
							__ATOMIC_SEQ_CST,
							__ATOMIC_SEQ_CST)) {
				set = (uint16_t)(nf & ~flags);
				break;
			}
			if (tries == 4) {
				refuse(d, ref, "the entry keeps changing", flags);
				return -EAGAIN;
			}
		}
	}
	if (!pinned) {
		uint32_t frame = __atomic_load_n(
			(uint32_t *)(e + offsetof(struct sxen_grant_entry, frame)),
			__ATOMIC_ACQUIRE);
		if (!sxen_gfn_ptr(d, frame)) {
			clear_flags(e, set);
			refuse(d, ref, "frame outside guest memory", 0);
			return -EFAULT;
		}
		act->frame = frame;
	}
	if (write)
		act->wpins++;
	else
		act->rpins++;
	gt->pins++;
	*page = sxen_gfn_ptr(d, act->frame);
	return 0;
}

static void unpin(struct sxen_domain *d, uint32_t ref, bool write)
{
	struct sxen_gnttab *gt = &d->gt;
	if (ref >= gt->nr_ents)
		return;
	struct sxen_gnt_active *act = &gt->act[ref];
	uint8_t *e = entry_ptr(gt, ref);
	if (write) {
		if (!act->wpins)
			return;
		if (!--act->wpins)
			clear_flags(e, SXEN_GTF_WRITING);
	} else {
		if (!act->rpins)
			return;
		act->rpins--;
	}
	gt->pins--;
	if (!act->rpins && !act->wpins)
		clear_flags(e, SXEN_GTF_READING);
}

int sxen_gnt_map(struct sxen_domain *d, uint32_t ref, bool write,
		 uint8_t **page)
{
	int r = pin(d, ref, write, true, page);
	if (!r)
		d->gt.maps++;
	return r;
}

void sxen_gnt_unmap(struct sxen_domain *d, uint32_t ref, bool write)
{
	d->gt.unmaps++;
	unpin(d, ref, write);
}

int sxen_gnt_copy(struct sxen_domain *d, uint32_t ref, uint32_t off,
		  void *buf, uint32_t len, bool to_guest)
{
	uint8_t *pg;
	if (off > SXEN_PAGE_SIZE || len > SXEN_PAGE_SIZE - off)
		return -EINVAL; /* GNTST_bad_copy_arg */
	int r = pin(d, ref, to_guest, false, &pg);
	if (r)
		return r;
	if (to_guest)
		memcpy(pg + off, buf, len);
	else
		memcpy(buf, pg + off, len);
	unpin(d, ref, to_guest);
	d->gt.copies++;
	return 0;
}
