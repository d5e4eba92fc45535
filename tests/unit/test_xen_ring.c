/* SPDX-License-Identifier: MIT */
/*
 * backends/xen/ring.c against an in-test back end written with Debian's
 * io/ring.h macros (BACK_RING, RING_PUSH_RESPONSES_AND_CHECK_NOTIFY,
 * RING_FINAL_CHECK_FOR_REQUESTS), and differentially against io/ring.h's
 * own front-ring macros: the same actions on two rings must give the same
 * notification decisions, also across the 2^32 wrap of the indices.
 * Then the hostile cases: a response producer that runs ahead of the
 * published requests or moves backwards.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#define __XEN_INTERFACE_VERSION__ __XEN_LATEST_INTERFACE_VERSION__
#define xen_mb() __sync_synchronize()
#define xen_rmb() __sync_synchronize()
#define xen_wmb() __sync_synchronize()
#include <xen/xen.h>
#include <xen/io/ring.h>
#include <xen/io/blkif.h>

#include "backends/xen/xen.h"

static void *page(void)
{
	void *p = aligned_alloc(4096, 4096);
	ck_assert_ptr_nonnull(p);
	memset(p, 0xee, 4096);
	return p;
}

START_TEST(init_matches_ring_h)
{
	void *a = page(), *b = page();
	struct xen_fring r;
	memset(a, 0, 4096);
	memset(b, 0, 4096);
	xen_ring_init(&r, a, 4096, XEN_BLKIF_SLOT, 0);
	blkif_sring_t *s = b;
	SHARED_RING_INIT(s);
	ck_assert_int_eq(memcmp(a, b, 64), 0);
	blkif_front_ring_t fr;
	FRONT_RING_INIT(&fr, s, 4096);
	ck_assert_uint_eq(r.nr_ents, RING_SIZE(&fr));
	ck_assert_uint_eq(r.req_prod_pvt, fr.req_prod_pvt);
	ck_assert_uint_eq(r.rsp_cons, fr.rsp_cons);
	ck_assert_uint_eq(xen_ring_free(&r), RING_FREE_REQUESTS(&fr));
	free(a);
	free(b);
}
END_TEST

/* Two identical rings: A driven by ring.c, B by ring.h's front macros;
 * each with a ring.h back end.  Every decision must agree. */
struct twin {
	void *pa, *pb;
	struct xen_fring fa;
	blkif_front_ring_t fb;
	blkif_back_ring_t ba, bb;
	uint64_t queued[64]; /* ids the back ends consumed, not answered */
	unsigned nq;
	uint64_t next_id;
	unsigned notify_req, notify_rsp;
};

static void twin_init(struct twin *t, uint32_t start)
{
	memset(t, 0, sizeof(*t));
	t->pa = page();
	t->pb = page();
	memset(t->pa, 0, 4096);
	memset(t->pb, 0, 4096);
	xen_ring_init(&t->fa, t->pa, 4096, XEN_BLKIF_SLOT, start);
	blkif_sring_t *sb = t->pb;
	SHARED_RING_INIT(sb);
	sb->req_prod = sb->rsp_prod = start;
	sb->req_event = sb->rsp_event = start + 1;
	FRONT_RING_ATTACH(&t->fb, sb, start, 4096);
	BACK_RING_ATTACH(&t->ba, (blkif_sring_t *)t->pa, start, 4096);
	BACK_RING_ATTACH(&t->bb, sb, start, 4096);
	ck_assert_int_eq(memcmp(t->pa, t->pb, 64), 0);
}

static void twin_submit(struct twin *t, unsigned k)
{
	for (unsigned i = 0; i < k; i++) {
		struct blkif_request rq = { .operation = BLKIF_OP_READ,
					    .id = t->next_id++ };
		memcpy(xen_ring_slot(&t->fa, t->fa.req_prod_pvt), &rq,
		       sizeof(rq));
		t->fa.req_prod_pvt++;
		*RING_GET_REQUEST(&t->fb, t->fb.req_prod_pvt) = rq;
		t->fb.req_prod_pvt++;
	}
	bool na = xen_ring_push(&t->fa);
	int nb;
	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&t->fb, nb);
	ck_assert_int_eq(na, !!nb);
	t->notify_req += na;
}

static void twin_back_consume(struct twin *t, unsigned m, bool final)
{
	for (unsigned i = 0; i < m; i++) {
		int ua = RING_HAS_UNCONSUMED_REQUESTS(&t->ba);
		int ub = RING_HAS_UNCONSUMED_REQUESTS(&t->bb);
		ck_assert_int_eq(!!ua, !!ub);
		if (!ua)
			break;
		struct blkif_request ra, rb;
		RING_COPY_REQUEST(&t->ba, t->ba.req_cons, &ra);
		RING_COPY_REQUEST(&t->bb, t->bb.req_cons, &rb);
		t->ba.req_cons++;
		t->bb.req_cons++;
		ck_assert_uint_eq(ra.id, rb.id);
		t->queued[t->nq++] = ra.id;
	}
	if (final) {
		int wa, wb;
		RING_FINAL_CHECK_FOR_REQUESTS(&t->ba, wa);
		RING_FINAL_CHECK_FOR_REQUESTS(&t->bb, wb);
		ck_assert_int_eq(!!wa, !!wb);
	}
}

static void twin_back_respond(struct twin *t, unsigned r)
{
	if (r > t->nq)
		r = t->nq;
	for (unsigned i = 0; i < r; i++) {
		/* answer out of order: last consumed first */
		uint64_t id = t->queued[--t->nq];
		struct blkif_response rs = { .id = id,
					     .operation = BLKIF_OP_READ };
		*RING_GET_RESPONSE(&t->ba, t->ba.rsp_prod_pvt) = rs;
		*RING_GET_RESPONSE(&t->bb, t->bb.rsp_prod_pvt) = rs;
		t->ba.rsp_prod_pvt++;
		t->bb.rsp_prod_pvt++;
	}
	int na, nb;
	RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&t->ba, na);
	RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&t->bb, nb);
	ck_assert_int_eq(!!na, !!nb);
	t->notify_rsp += !!na;
}

static void twin_front_consume(struct twin *t, unsigned max, bool final)
{
	uint32_t prod;
	int n = xen_ring_pending(&t->fa, &prod);
	ck_assert_int_ge(n, 0);
	ck_assert_int_eq(n, (int)(t->fb.sring->rsp_prod - t->fb.rsp_cons));
	for (unsigned i = 0; i < max && t->fa.rsp_cons != prod; i++) {
		struct blkif_response a, b;
		xen_ring_copy(&t->fa, t->fa.rsp_cons, &a, sizeof(a));
		RING_COPY_RESPONSE(&t->fb, t->fb.rsp_cons, &b);
		ck_assert_uint_eq(a.id, b.id);
		t->fa.rsp_cons++;
		t->fb.rsp_cons++;
	}
	if (final) {
		int wa = xen_ring_final_check(&t->fa), wb;
		RING_FINAL_CHECK_FOR_RESPONSES(&t->fb, wb);
		ck_assert_int_ge(wa, 0);
		ck_assert_int_eq(wa, !!wb);
	}
	ck_assert_int_eq(memcmp(t->pa, t->pb, 16), 0);
}

static void run_twin(uint32_t start, unsigned seed, unsigned steps)
{
	struct twin t;
	twin_init(&t, start);
	srand(seed);
	for (unsigned s = 0; s < steps; s++) {
		unsigned free_slots = xen_ring_free(&t.fa);
		ck_assert_uint_eq(free_slots, RING_FREE_REQUESTS(&t.fb));
		switch (rand() % 4) {
		case 0:
			if (free_slots)
				twin_submit(&t, 1 + (unsigned)rand() % free_slots);
			break;
		case 1:
			twin_back_consume(&t, (unsigned)rand() % 40,
					  rand() % 2);
			break;
		case 2:
			twin_back_respond(&t, (unsigned)rand() % 40);
			break;
		default:
			twin_front_consume(&t, (unsigned)rand() % 40,
					   rand() % 3 != 0);
			break;
		}
	}
	/* both kinds of notification were exercised, and some suppressed */
	ck_assert_uint_gt(t.notify_req, 0);
	ck_assert_uint_gt(t.notify_rsp, 0);
	ck_assert_uint_lt(t.notify_req, t.next_id);
	/* the indices really crossed 2^32 when started near it */
	if (start > 0xffff0000u)
		ck_assert_uint_lt(t.fa.req_prod_pvt, start);
	free(t.pa);
	free(t.pb);
}

START_TEST(same_decisions_as_ring_h)
{
	run_twin(0, 1, 4000);
	run_twin(0x7ffffff0u, 2, 4000);
}
END_TEST

START_TEST(same_decisions_across_wrap)
{
	run_twin(0xfffffff0u, 3, 4000);
	run_twin(0xffffff00u, 4, 6000);
}
END_TEST

START_TEST(notify_follows_req_event)
{
	void *p = page();
	memset(p, 0, 4096);
	struct xen_fring r;
	xen_ring_init(&r, p, 4096, XEN_BLKIF_SLOT, 0);
	blkif_sring_t *s = p;
	/* req_event = 1: the first request is notified */
	r.req_prod_pvt++;
	ck_assert(xen_ring_push(&r));
	/* the back end is busy (req_event not moved): no notification */
	r.req_prod_pvt += 3;
	ck_assert(!xen_ring_push(&r));
	/* the back end asks for the 6th request */
	s->req_event = 6;
	r.req_prod_pvt++;
	ck_assert(!xen_ring_push(&r)); /* 5 */
	r.req_prod_pvt += 2;
	ck_assert(xen_ring_push(&r)); /* 6, 7: 6 is in (5, 7] */
	ck_assert_uint_eq(s->req_prod, 7);
	/* nothing new: nothing to publish */
	ck_assert(!xen_ring_push(&r));
	/* a back end scribbling on req_prod changes nothing we do */
	s->req_prod = 1000;
	r.req_prod_pvt++;
	s->req_event = 8;
	ck_assert(xen_ring_push(&r));
	ck_assert_uint_eq(s->req_prod, 8);
	free(p);
}
END_TEST

START_TEST(final_check_and_mute)
{
	void *p = page();
	memset(p, 0, 4096);
	struct xen_fring r;
	xen_ring_init(&r, p, 4096, XEN_BLKIF_SLOT, 100);
	blkif_sring_t *s = p;
	blkif_back_ring_t b;
	BACK_RING_ATTACH(&b, s, 100, 4096);
	r.req_prod_pvt += 4;
	xen_ring_push(&r);
	r.rsp_cons = 100;
	ck_assert_int_eq(xen_ring_final_check(&r), 0);
	ck_assert_uint_eq(s->rsp_event, 101);
	/* a response arrives: the back end must notify */
	b.req_cons = 104;
	b.rsp_prod_pvt++;
	int notify;
	RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&b, notify);
	ck_assert(notify);
	ck_assert_int_eq(xen_ring_final_check(&r), 1);
	uint32_t prod;
	ck_assert_int_eq(xen_ring_pending(&r, &prod), 1);
	r.rsp_cons = prod;
	/* muted: a busy-polling front end is not interrupted */
	xen_ring_mute(&r);
	b.rsp_prod_pvt += 2;
	RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&b, notify);
	ck_assert(!notify);
	/* re-armed: the next response notifies again */
	ck_assert_int_eq(xen_ring_final_check(&r), 1);
	r.rsp_cons += 2;
	ck_assert_int_eq(xen_ring_final_check(&r), 0);
	b.rsp_prod_pvt++;
	RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&b, notify);
	ck_assert(notify);
	free(p);
}
END_TEST

START_TEST(hostile_response_producer)
{
	void *p = page();
	memset(p, 0, 4096);
	struct xen_fring r;
	uint32_t prod;
	xen_ring_init(&r, p, 4096, XEN_BLKIF_SLOT, 0xfffffffeu);
	blkif_sring_t *s = p;
	r.req_prod_pvt += 5;
	xen_ring_push(&r);
	/* all five answered, across the wrap: fine */
	s->rsp_prod = 0xfffffffeu + 5;
	ck_assert_int_eq(xen_ring_pending(&r, &prod), 5);
	/* one more than published: refused */
	s->rsp_prod = 0xfffffffeu + 6;
	ck_assert_int_eq(xen_ring_pending(&r, &prod), -EPROTO);
	/* a jump of more than the ring: refused */
	s->rsp_prod = 0xfffffffeu + 33;
	ck_assert_int_eq(xen_ring_pending(&r, &prod), -EPROTO);
	/* backwards: refused */
	s->rsp_prod = 0xfffffffdu;
	ck_assert_int_eq(xen_ring_pending(&r, &prod), -EPROTO);
	ck_assert_int_eq(xen_ring_final_check(&r), -EPROTO);
	/* consumed two; the producer going back below them is refused */
	s->rsp_prod = 0xfffffffeu + 2;
	ck_assert_int_eq(xen_ring_pending(&r, &prod), 2);
	r.rsp_cons += 2;
	s->rsp_prod = 0xfffffffeu + 1;
	ck_assert_int_eq(xen_ring_pending(&r, &prod), -EPROTO);
	free(p);
}
END_TEST

START_TEST(ring_full_and_multi_page)
{
	void *p = aligned_alloc(4096, 4 * 4096);
	ck_assert_ptr_nonnull(p);
	memset(p, 0, 4 * 4096);
	struct xen_fring r;
	xen_ring_init(&r, p, 4 * 4096, XEN_BLKIF_SLOT, 0);
	ck_assert_uint_eq(r.nr_ents, 128);
	/* slot addresses stay inside the pages and wrap at nr_ents */
	ck_assert_ptr_eq(xen_ring_slot(&r, 0), (uint8_t *)p + 64);
	ck_assert_ptr_eq(xen_ring_slot(&r, 128), (uint8_t *)p + 64);
	ck_assert((uint8_t *)xen_ring_slot(&r, 127) + XEN_BLKIF_SLOT <=
		  (uint8_t *)p + 4 * 4096);
	r.req_prod_pvt += 128;
	ck_assert_uint_eq(xen_ring_free(&r), 0);
	free(p);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("xen_ring");
	TCase *tc = tcase_create("ring");
	tcase_add_test(tc, init_matches_ring_h);
	tcase_add_test(tc, same_decisions_as_ring_h);
	tcase_add_test(tc, same_decisions_across_wrap);
	tcase_add_test(tc, notify_follows_req_event);
	tcase_add_test(tc, final_check_and_mute);
	tcase_add_test(tc, hostile_response_producer);
	tcase_add_test(tc, ring_full_and_multi_page);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
