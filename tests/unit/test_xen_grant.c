/* SPDX-License-Identifier: MIT */
/*
 * backends/xen/grant.c: grant table v1 entries as Debian's grant_table.h
 * defines them, refs from 8 up, and the end-access rule: an entry whose
 * GTF_reading/GTF_writing the "hypervisor" (this test) set is never
 * revoked, reused or freed; it is quarantined and retried.  A thread
 * playing the hypervisor maps and unmaps with compare-and-swap, as Xen
 * does, while the guest revokes: the guest must never clear an entry
 * under a live mapping.
 */
#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define __XEN_INTERFACE_VERSION__ __XEN_LATEST_INTERFACE_VERSION__
#include <xen/xen.h>
#include <xen/grant_table.h>

#include "backends/xen/xen.h"

static pvio_ctx *ctx;
static void *frames;
static struct xen_gnttab gt;

static void setup(void)
{
	ck_assert_int_eq(pvio_ctx_new(NULL, &ctx), 0);
	frames = pvio_dma_alloc(ctx, 2 * 4096, 4096);
	ck_assert_ptr_nonnull(frames);
	memset(frames, 0x5a, 2 * 4096);
	ck_assert_int_eq(xen_gnttab_init(&gt, ctx, frames, 2), 0);
}

static void teardown(void)
{
	xen_gnttab_fini(&gt);
	pvio_dma_free(ctx, frames);
	pvio_ctx_free(ctx);
}

static grant_entry_v1_t *ent(uint32_t ref)
{
	return (grant_entry_v1_t *)frames + ref;
}

/* the hypervisor's side: map succeeds only on a valid entry */
static bool hv_map(uint32_t ref, bool write)
{
	uint16_t *f = &ent(ref)->flags;
	uint16_t old = __atomic_load_n(f, __ATOMIC_ACQUIRE);
	for (;;) {
		if ((old & GTF_type_mask) != GTF_permit_access ||
		    (write && (old & GTF_readonly)))
			return false;
		uint16_t nw = (uint16_t)(old | GTF_reading |
					 (write ? GTF_writing : 0));
		if (__atomic_compare_exchange_n(f, &old, nw, false,
						__ATOMIC_SEQ_CST,
						__ATOMIC_ACQUIRE))
			return true;
	}
}

/* returns false if the entry lost its reading bit under the mapping */
static bool hv_unmap(uint32_t ref)
{
	uint16_t *f = &ent(ref)->flags;
	uint16_t old = __atomic_load_n(f, __ATOMIC_ACQUIRE);
	for (;;) {
		if (!(old & GTF_reading))
			return false;
		uint16_t nw = (uint16_t)(old & ~(GTF_reading | GTF_writing));
		if (__atomic_compare_exchange_n(f, &old, nw, false,
						__ATOMIC_SEQ_CST,
						__ATOMIC_ACQUIRE))
			return true;
	}
}

START_TEST(entries_and_refs)
{
	uint32_t ref;
	ck_assert_uint_eq(gt.nr_ents, 1024);
	/* the table was zeroed, whatever the frames held */
	for (unsigned i = 0; i < 1024; i++)
		ck_assert_uint_eq(ent(i)->flags | ent(i)->domid | ent(i)->frame, 0);
	ck_assert_int_eq(xen_gnt_alloc(&gt, &ref), 0);
	ck_assert_uint_eq(ref, GNTTAB_NR_RESERVED_ENTRIES);
	ck_assert_int_eq(xen_gnt_set(&gt, ref, 0, 0x123456, true), 0);
	ck_assert_uint_eq(ent(ref)->domid, 0);
	ck_assert_uint_eq(ent(ref)->frame, 0x123456);
	ck_assert_uint_eq(ent(ref)->flags, GTF_permit_access | GTF_readonly);
	ck_assert_int_eq(xen_gnt_set(&gt, ref, 7, 0x1000, false), 0);
	ck_assert_uint_eq(ent(ref)->domid, 7);
	ck_assert_uint_eq(ent(ref)->flags, GTF_permit_access);
	/* v1 frames are 32 bits; refs 0..7 are not ours */
	ck_assert_int_eq(xen_gnt_set(&gt, ref, 0, 1ull << 32, false), -ERANGE);
	ck_assert_int_eq(xen_gnt_set(&gt, 1, 0, 1, false), -EINVAL);
	ck_assert_int_eq(xen_gnt_set(&gt, 1024, 0, 1, false), -EINVAL);
	uint32_t next;
	ck_assert_int_eq(xen_gnt_alloc(&gt, &next), 0);
	ck_assert_uint_eq(next, ref + 1);
	ck_assert_uint_eq(xen_gnttab_available(&gt), 1024 - 8 - 2);
	/* exhaust */
	uint32_t n = 0;
	while (xen_gnt_alloc(&gt, &next) == 0)
		n++;
	ck_assert_uint_eq(n, 1024 - 8 - 2);
	ck_assert_int_eq(xen_gnt_alloc(&gt, &next), -ENOSPC);
}
END_TEST

START_TEST(mapped_grant_is_quarantined)
{
	uint32_t a, b, c;
	ck_assert_int_eq(xen_gnt_alloc(&gt, &a), 0);
	ck_assert_int_eq(xen_gnt_set(&gt, a, 0, 10, false), 0);
	ck_assert(hv_map(a, true));
	ck_assert_uint_eq(ent(a)->flags,
			  GTF_permit_access | GTF_reading | GTF_writing);
	/* cannot be revoked; stays valid for the mapper */
	ck_assert_int_eq(xen_gnt_clear(&gt, a), -EBUSY);
	ck_assert_int_eq(xen_gnt_release(&gt, a), -EBUSY);
	ck_assert_uint_eq(xen_gnttab_quarantined(&gt), 1);
	ck_assert_uint_eq(ent(a)->flags & GTF_type_mask, GTF_permit_access);
	/* never handed out again while mapped */
	ck_assert_int_eq(xen_gnt_alloc(&gt, &b), 0);
	ck_assert_uint_ne(b, a);
	ck_assert_uint_eq(xen_gnttab_retry(&gt), 1);
	ck_assert_int_eq(xen_gnt_alloc(&gt, &c), 0);
	ck_assert_uint_ne(c, a);
	/* a read-only mapping blocks it just the same */
	ck_assert(hv_unmap(a));
	ck_assert(hv_map(a, false));
	ck_assert_uint_eq(xen_gnttab_retry(&gt), 1);
	/* unmapped: the retry revokes it and it becomes reusable */
	ck_assert(hv_unmap(a));
	ck_assert_uint_eq(xen_gnttab_retry(&gt), 0);
	ck_assert_uint_eq(ent(a)->flags, 0);
	uint32_t d;
	ck_assert_int_eq(xen_gnt_alloc(&gt, &d), 0);
	ck_assert_uint_eq(d, a);
	/* a read-only grant cannot be mapped writable */
	ck_assert_int_eq(xen_gnt_set(&gt, d, 0, 11, true), 0);
	ck_assert(!hv_map(d, true));
	ck_assert_int_eq(xen_gnt_release(&gt, d), 0);
	/* a revoked grant cannot be mapped at all */
	ck_assert(!hv_map(d, false));
}
END_TEST

START_TEST(pool_on_the_data_path)
{
	struct xen_gnt_pool p;
	uint32_t r[5];
	ck_assert_int_eq(xen_gnt_pool_init(&p, &gt, 4), 0);
	ck_assert_uint_eq(xen_gnttab_available(&gt), 1024 - 8 - 4);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(xen_gnt_pool_grant(&p, 0, 100 + i, i & 1, &r[i]),
				 0);
	ck_assert_int_eq(xen_gnt_pool_grant(&p, 0, 200, false, &r[4]), -EAGAIN);
	ck_assert(hv_map(r[2], false));
	ck_assert_int_eq(xen_gnt_pool_end(&p, r[0]), 0);
	ck_assert_int_eq(xen_gnt_pool_end(&p, r[2]), -EBUSY);
	ck_assert_uint_eq(p.nquar, 1);
	/* the quarantined ref is not granted again */
	uint32_t x, y;
	ck_assert_int_eq(xen_gnt_pool_grant(&p, 0, 300, false, &x), 0);
	ck_assert_uint_eq(x, r[0]);
	ck_assert_int_eq(xen_gnt_pool_grant(&p, 0, 301, false, &y), -EAGAIN);
	xen_gnt_pool_retry(&p);
	ck_assert_uint_eq(p.nquar, 1);
	ck_assert(hv_unmap(r[2]));
	xen_gnt_pool_retry(&p);
	ck_assert_uint_eq(p.nquar, 0);
	ck_assert_int_eq(xen_gnt_pool_grant(&p, 0, 301, false, &y), 0);
	ck_assert_uint_eq(y, r[2]);
	/* fini with one still mapped: it lands in the table's quarantine */
	ck_assert(hv_map(y, false));
	ck_assert_int_eq(xen_gnt_pool_end(&p, y), -EBUSY);
	xen_gnt_pool_end(&p, x);
	xen_gnt_pool_end(&p, r[1]);
	xen_gnt_pool_end(&p, r[3]);
	xen_gnt_pool_fini(&p);
	ck_assert_uint_eq(xen_gnttab_quarantined(&gt), 1);
	ck_assert_uint_eq(xen_gnttab_available(&gt), 1024 - 8 - 1);
}
END_TEST

/* ---- a racing hypervisor ---- */

struct race {
	uint32_t ref;
	volatile int stop;
	uint64_t iters;
	uint64_t maps;
	uint64_t violations;
};

static void *hypervisor(void *arg)
{
	struct race *r = arg;
	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		if (hv_map(r->ref, r->iters & 1)) {
			r->maps++;
			/* hold the mapping a little */
			for (volatile int i = 0; i < (int)(r->iters % 64); i++)
				;
			if (!hv_unmap(r->ref))
				r->violations++;
		}
		__atomic_add_fetch(&r->iters, 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

START_TEST(revoke_races_with_mapping)
{
	struct race r = { 0 };
	pthread_t th;
	ck_assert_int_eq(xen_gnt_alloc(&gt, &r.ref), 0);
	ck_assert_int_eq(pthread_create(&th, NULL, hypervisor, &r), 0);
	uint64_t deadline = now_ms() + 20000;
	unsigned revoked = 0, busy = 0;
	for (unsigned round = 0; round < 3000 && now_ms() < deadline; round++) {
		ck_assert_int_eq(xen_gnt_set(&gt, r.ref, 0, 42, false), 0);
		/* let the hypervisor run against the valid entry */
		uint64_t it = __atomic_load_n(&r.iters, __ATOMIC_ACQUIRE);
		while (__atomic_load_n(&r.iters, __ATOMIC_ACQUIRE) < it + 3 &&
		       now_ms() < deadline)
			;
		int e;
		while ((e = xen_gnt_clear(&gt, r.ref)) == -EBUSY &&
		       now_ms() < deadline)
			busy++;
		ck_assert_int_eq(e, 0);
		revoked++;
		/* once revoked it stays revoked: no mapping can appear */
		it = __atomic_load_n(&r.iters, __ATOMIC_ACQUIRE);
		while (__atomic_load_n(&r.iters, __ATOMIC_ACQUIRE) < it + 3 &&
		       now_ms() < deadline)
			;
		ck_assert_uint_eq(__atomic_load_n(&ent(r.ref)->flags,
						  __ATOMIC_ACQUIRE),
				  0);
	}
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	ck_assert_uint_eq(r.violations, 0);
	ck_assert_uint_gt(r.maps, 0);
	ck_assert_uint_gt(revoked, 100);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("xen_grant");
	TCase *tc = tcase_create("grant");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, entries_and_refs);
	tcase_add_test(tc, mapped_grant_is_quarantined);
	tcase_add_test(tc, pool_on_the_data_path);
	tcase_add_test(tc, revoke_races_with_mapping);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
