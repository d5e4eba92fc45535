/* SPDX-License-Identifier: MIT */
/*
 * tests/integration/simxen_blk.c - the simulated host's blkback driven by
 * a test-only blkfront built on Debian's libxen-dev ring.h/blkif.h: the
 * XenBus handshake and the keys published, reads and writes checked
 * against the image file, grant enforcement (GTF flags, read-only grants,
 * foreign grants, bad refs and frames), request validation as Linux does
 * it, persistent grants, multi-page rings, indirect requests, ring
 * overflow, faults injected with `pvio sim ctl`, and teardown.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define xen_mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define xen_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define xen_wmb() __atomic_thread_fence(__ATOMIC_RELEASE)
#define __XEN_INTERFACE_VERSION__ __XEN_LATEST_INTERFACE_VERSION__
#include <xen/xen.h>
#include <xen/grant_table.h>
#include <xen/io/blkif.h>
#include <xen/io/xenbus.h>

#include "simxen_lib.h"

#define IMG_SECTORS 2048u /* 1 MiB */
#define VDEV 51712u

static struct tsim sim;
static char img[160];
static char out[65536];

static uint8_t pattern(uint64_t byte)
{
	return (uint8_t)(byte * 131 + (byte >> 9) * 7 + 1);
}

static void start_with(const char *opts)
{
	char spec[256];
	memset(&sim, 0, sizeof(sim));
	ck_assert_int_eq(tsim_prepare(&sim), 0);
	snprintf(img, sizeof(img), "%s/disk.img", sim.dir);
	int fd = open(img, O_RDWR | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_ge(fd, 0);
	static uint8_t buf[IMG_SECTORS * 512];
	for (uint64_t i = 0; i < sizeof(buf); i++)
		buf[i] = pattern(i);
	ck_assert_int_eq(write(fd, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	close(fd);
	snprintf(spec, sizeof(spec), "%u=%s%s", VDEV, img, opts);
	ck_assert_int_eq(tsim_start(&sim, (const char *const[]){ "--vbd", spec, NULL }), 0);
}

static void setup(void)
{
	start_with("");
}

static void teardown(void)
{
	ck_assert_int_eq(tsim_stop(&sim), 0);
}

/* ------------------------------------------------------------ blkfront */

struct tblk {
	struct tguest g;
	uint32_t port;
	int send, up;
	blkif_front_ring_t ring;
	blkif_sring_t *sring;
	uint32_t ring_ref[16];
	unsigned order;
	char fe[64], be[128];
	uint64_t next_id;
};

static char *bkey(struct tblk *b, const char *key, char *v, size_t len)
{
	char p[192];
	snprintf(p, sizeof(p), "%s/%s", b->be, key);
	if (tg_xs_read(&b->g, 0, p, v, len))
		return NULL;
	return v;
}

static void fe_write(struct tblk *b, uint32_t tx, const char *key, const char *fmt,
		     unsigned v)
{
	char p[128], val[32];
	(void)fmt;
	snprintf(p, sizeof(p), "%s/%s", b->fe, key);
	snprintf(val, sizeof(val), "%u", v);
	ck_assert_int_eq(tg_xs_write(&b->g, tx, p, val), 0);
}

static bool wait_be_state(struct tblk *b, int state)
{
	char p[160], v[8];
	snprintf(p, sizeof(p), "%s/state", b->be);
	snprintf(v, sizeof(v), "%d", state);
	return tg_xs_wait_value(&b->g, p, v);
}

/* Attach the vbd and bring the ring up (front end Initialised). */
static void blk_open(struct tblk *b, const char *name, bool persistent,
		     unsigned order)
{
	char v[256], p[128];
	memset(b, 0, sizeof(*b));
	ck_assert_int_eq(tg_connect(&b->g, sim.sock, name), 0);
	ck_assert_int_eq(tg_set_memory(&b->g, 4u << 20), 0);
	ck_assert_int_eq(tg_gnttab_setup(&b->g, 2), 0);
	ck_assert_int_eq(tg_xs_connect(&b->g), 0);
	ck_assert_int_eq(tg_attach(&b->g, "vbd", VDEV), 0);
	snprintf(b->fe, sizeof(b->fe), "device/vbd/%u", VDEV);
	snprintf(p, sizeof(p), "%s/backend", b->fe);
	ck_assert_int_eq(tg_xs_read(&b->g, 0, p, b->be, sizeof(b->be)), 0);
	ck_assert(wait_be_state(b, XenbusStateInitWait));
	b->order = order;
	uint64_t gfn0 = 0;
	for (unsigned i = 0; i < (1u << order); i++) {
		uint64_t gfn;
		uint8_t *pg = tg_alloc_page(&b->g, &gfn);
		ck_assert_ptr_nonnull(pg);
		if (!i) {
			b->sring = (blkif_sring_t *)pg;
			gfn0 = gfn;
		}
		ck_assert_uint_eq(gfn, gfn0 + i);
		b->ring_ref[i] = tg_grant(&b->g, gfn, 0, false);
	}
	SHARED_RING_INIT(b->sring);
	FRONT_RING_INIT(&b->ring, b->sring, 4096u << order);
	ck_assert_int_eq(tg_evtchn_alloc(&b->g, 0, &b->port, &b->send, &b->up), 0);
	uint32_t tx;
	int r;
	do {
		ck_assert_int_eq(tg_xs_tx_start(&b->g, &tx), 0);
		if (order) {
			fe_write(b, tx, "ring-page-order", "%u", order);
			for (unsigned i = 0; i < (1u << order); i++) {
				char k[16];
				snprintf(k, sizeof(k), "ring-ref%u", i);
				fe_write(b, tx, k, "%u", b->ring_ref[i]);
			}
		} else {
			fe_write(b, tx, "ring-ref", "%u", b->ring_ref[0]);
		}
		fe_write(b, tx, "event-channel", "%u", b->port);
		snprintf(p, sizeof(p), "%s/protocol", b->fe);
		ck_assert_int_eq(tg_xs_write(&b->g, tx, p, "x86_64-abi"), 0);
		if (persistent)
			fe_write(b, tx, "feature-persistent", "%u", 1);
		fe_write(b, tx, "state", "%u", XenbusStateInitialised);
		r = tg_xs_tx_end(&b->g, tx, true);
	} while (r == -EAGAIN);
	ck_assert_int_eq(r, 0);
	ck_assert(wait_be_state(b, XenbusStateConnected));
	(void)v;
}

static void blk_push(struct tblk *b)
{
	int notify;
	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&b->ring, notify);
	if (notify)
		tg_kick(b->send);
}

/* Wait (bounded) for the next response. */
static bool blk_get(struct tblk *b, struct blkif_response *rsp)
{
	for (int tries = 0; tries < 100; tries++) {
		if (RING_HAS_UNCONSUMED_RESPONSES(&b->ring)) {
			*rsp = *RING_GET_RESPONSE(&b->ring, b->ring.rsp_cons);
			b->ring.rsp_cons++;
			int more;
			RING_FINAL_CHECK_FOR_RESPONSES(&b->ring, more);
			(void)more;
			return true;
		}
		int more;
		RING_FINAL_CHECK_FOR_RESPONSES(&b->ring, more);
		if (!more && !tg_wait_upcall(b->up, 10000))
			return false;
	}
	return false;
}

static struct blkif_request *blk_req(struct tblk *b, uint8_t op)
{
	struct blkif_request *r = RING_GET_REQUEST(&b->ring, b->ring.req_prod_pvt);
	b->ring.req_prod_pvt++;
	memset(r, 0, sizeof(*r));
	r->operation = op;
	r->handle = VDEV;
	r->id = ++b->next_id * 1000;
	return r;
}

/* One request, one response. */
static struct blkif_response blk_do1(struct tblk *b, struct blkif_request *req)
{
	struct blkif_response rsp;
	uint64_t id = req->id;
	blk_push(b);
	ck_assert_msg(blk_get(b, &rsp), "no response within the deadline");
	ck_assert_uint_eq(rsp.id, id);
	return rsp;
}

static int blk_rw(struct tblk *b, uint8_t op, uint64_t sector, uint32_t ref,
		  uint8_t first, uint8_t last)
{
	struct blkif_request *r = blk_req(b, op);
	r->nr_segments = 1;
	r->sector_number = sector;
	r->seg[0].gref = ref;
	r->seg[0].first_sect = first;
	r->seg[0].last_sect = last;
	struct blkif_response rsp = blk_do1(b, r);
	ck_assert_uint_eq(rsp.operation, op);
	return rsp.status;
}

static void file_read(uint64_t off, void *buf, size_t len)
{
	int fd = open(img, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, buf, len, (off_t)off), (ssize_t)len);
	close(fd);
}

/* ------------------------------------------------------------ tests */

START_TEST(handshake_keys_and_io)
{
	struct tblk b;
	char v[256], p[128];
	blk_open(&b, "blk", false, 0);
	/* what Linux blkback publishes */
	ck_assert_str_eq(bkey(&b, "feature-max-indirect-segments", v, sizeof(v)), "256");
	ck_assert_str_eq(bkey(&b, "max-ring-page-order", v, sizeof(v)), "4");
	ck_assert_str_eq(bkey(&b, "multi-queue-max-queues", v, sizeof(v)), "2");
	ck_assert_str_eq(bkey(&b, "feature-flush-cache", v, sizeof(v)), "1");
	ck_assert_str_eq(bkey(&b, "feature-barrier", v, sizeof(v)), "1");
	ck_assert_str_eq(bkey(&b, "feature-discard", v, sizeof(v)), "1");
	ck_assert_ptr_nonnull(bkey(&b, "discard-granularity", v, sizeof(v)));
	ck_assert_str_eq(bkey(&b, "feature-persistent", v, sizeof(v)), "1");
	ck_assert_str_eq(bkey(&b, "sectors", v, sizeof(v)), "2048");
	ck_assert_str_eq(bkey(&b, "sector-size", v, sizeof(v)), "512");
	ck_assert_str_eq(bkey(&b, "info", v, sizeof(v)), "0");
	ck_assert_str_eq(bkey(&b, "mode", v, sizeof(v)), "w");
	ck_assert_str_eq(bkey(&b, "dev", v, sizeof(v)), "xvda");
	/* the toolstack's front-end keys */
	snprintf(p, sizeof(p), "%s/virtual-device", b.fe);
	ck_assert_int_eq(tg_xs_read(&b.g, 0, p, v, sizeof(v)), 0);
	ck_assert_str_eq(v, "51712");
	snprintf(p, sizeof(p), "%s/backend-id", b.fe);
	ck_assert_int_eq(tg_xs_read(&b.g, 0, p, v, sizeof(v)), 0);
	ck_assert_str_eq(v, "0");

	/* READ sectors 8..15 into a writable grant */
	uint64_t gfn;
	uint8_t *pg = tg_alloc_page(&b.g, &gfn);
	uint32_t ref = tg_grant(&b.g, gfn, 0, false);
	ck_assert_int_eq(blk_rw(&b, BLKIF_OP_READ, 8, ref, 0, 7), BLKIF_RSP_OKAY);
	for (unsigned i = 0; i < 4096; i++)
		ck_assert_uint_eq(pg[i], pattern(8 * 512 + i));
	/* the grant is released: no GTF_reading/GTF_writing left */
	ck_assert_uint_eq(tg_gnt_flags(&b.g, ref), GTF_permit_access);

	/* WRITE sectors 100..101 from part of a read-only grant */
	uint64_t gfn2;
	uint8_t *src = tg_alloc_page(&b.g, &gfn2);
	for (unsigned i = 0; i < 4096; i++)
		src[i] = (uint8_t)(0xA5 ^ i);
	uint32_t ro = tg_grant(&b.g, gfn2, 0, true);
	ck_assert_int_eq(blk_rw(&b, BLKIF_OP_WRITE, 100, ro, 2, 3), BLKIF_RSP_OKAY);
	uint8_t chk[1024];
	file_read(100 * 512, chk, sizeof(chk));
	ck_assert_int_eq(memcmp(chk, src + 1024, 1024), 0);
	file_read(99 * 512, chk, 512);
	for (unsigned i = 0; i < 512; i++)
		ck_assert_uint_eq(chk[i], pattern(99 * 512 + i));
	ck_assert_uint_eq(tg_gnt_flags(&b.g, ro), GTF_permit_access | GTF_readonly);

	/* multi-segment: 3 pages, contiguous on disk */
	struct blkif_request *r = blk_req(&b, BLKIF_OP_READ);
	uint8_t *pgs[3];
	r->nr_segments = 3;
	r->sector_number = 200;
	for (int i = 0; i < 3; i++) {
		pgs[i] = tg_alloc_page(&b.g, &gfn);
		r->seg[i].gref = tg_grant(&b.g, gfn, 0, false);
		r->seg[i].first_sect = i == 0 ? 4 : 0;
		r->seg[i].last_sect = i == 2 ? 1 : 7;
	}
	ck_assert_int_eq(blk_do1(&b, r).status, BLKIF_RSP_OKAY);
	uint64_t disk = 200 * 512;
	for (int i = 0; i < 3; i++) {
		unsigned f = i == 0 ? 4 : 0, l = i == 2 ? 1 : 7;
		for (unsigned o = f * 512; o < (l + 1) * 512; o++, disk++)
			ck_assert_uint_eq(pgs[i][o], pattern(disk));
	}

	/* FLUSH without segments, DISCARD of 8 sectors */
	r = blk_req(&b, BLKIF_OP_FLUSH_DISKCACHE);
	ck_assert_int_eq(blk_do1(&b, r).status, BLKIF_RSP_OKAY);
	struct blkif_request_discard *d = (void *)blk_req(&b, BLKIF_OP_DISCARD);
	d->sector_number = 1024;
	d->nr_sectors = 8;
	struct blkif_response rsp = blk_do1(&b, (void *)d);
	ck_assert_int_eq(rsp.status, BLKIF_RSP_OKAY);
	ck_assert_uint_eq(rsp.operation, BLKIF_OP_DISCARD);
	file_read(1024 * 512, chk, 1024);
	for (unsigned i = 0; i < 1024; i++)
		ck_assert_uint_eq(chk[i], 0);
	tg_close(&b.g);
}
END_TEST

START_TEST(grant_enforcement)
{
	struct tblk b;
	uint64_t gfn;
	blk_open(&b, "grants", false, 0);
	tg_alloc_page(&b.g, &gfn);
	/* READ needs to write the guest page: a read-only grant is refused */
	uint32_t ro = tg_grant(&b.g, gfn, 0, true);
	ck_assert_int_eq(blk_rw(&b, BLKIF_OP_READ, 0, ro, 0, 7), BLKIF_RSP_ERROR);
	ck_assert_uint_eq(tg_gnt_flags(&b.g, ro), GTF_permit_access | GTF_readonly);
	/* granted to another domain */
	uint32_t other = tg_grant(&b.g, gfn, 7, false);
	ck_assert_int_eq(blk_rw(&b, BLKIF_OP_WRITE, 0, other, 0, 7), BLKIF_RSP_ERROR);
	/* not a permit_access entry, an unused ref, refs past the table */
	uint32_t inval = tg_grant(&b.g, gfn, 0, false);
	tg_gnt_set(&b.g, inval, GTF_invalid, 0, (uint32_t)gfn);
	ck_assert_int_eq(blk_rw(&b, BLKIF_OP_WRITE, 0, inval, 0, 7), BLKIF_RSP_ERROR);
	ck_assert_int_eq(blk_rw(&b, BLKIF_OP_WRITE, 0, 900, 0, 7), BLKIF_RSP_ERROR);
	ck_assert_int_eq(blk_rw(&b, BLKIF_OP_WRITE, 0, 1024, 0, 7), BLKIF_RSP_ERROR);
	ck_assert_int_eq(blk_rw(&b, BLKIF_OP_WRITE, 0, 0xFFFFFFFFu, 0, 7), BLKIF_RSP_ERROR);
	/* a frame outside guest memory */
	uint32_t far = tg_grant(&b.g, 0x12345, 0, false);
	ck_assert_int_eq(blk_rw(&b, BLKIF_OP_WRITE, 0, far, 0, 7), BLKIF_RSP_ERROR);
	ck_assert_uint_eq(tg_gnt_flags(&b.g, far), GTF_permit_access);
	/* sub-page grants cannot be mapped */
	uint32_t sub = tg_grant(&b.g, gfn, 0, false);
	tg_gnt_set(&b.g, sub, GTF_permit_access | GTF_sub_page, 0, (uint32_t)gfn);
	ck_assert_int_eq(blk_rw(&b, BLKIF_OP_WRITE, 0, sub, 0, 7), BLKIF_RSP_ERROR);
	/* the disk was not written by any of these */
	uint8_t chk[4096];
	file_read(0, chk, sizeof(chk));
	for (unsigned i = 0; i < sizeof(chk); i++)
		ck_assert_uint_eq(chk[i], pattern(i));
	ck_assert_int_eq(tsim_ctl(&sim, "status", out, sizeof(out)), 0);
	ck_assert_ptr_nonnull(strstr(out, " 8 refused"));
	tg_close(&b.g);
}
END_TEST

START_TEST(request_validation)
{
	struct tblk b;
	uint64_t gfn;
	blk_open(&b, "validate", false, 0);
	tg_alloc_page(&b.g, &gfn);
	uint32_t ref = tg_grant(&b.g, gfn, 0, false);
	/* first_sect > last_sect, last_sect past the page */
	ck_assert_int_eq(blk_rw(&b, BLKIF_OP_READ, 0, ref, 5, 4), BLKIF_RSP_ERROR);
	ck_assert_int_eq(blk_rw(&b, BLKIF_OP_READ, 0, ref, 0, 8), BLKIF_RSP_ERROR);
	/* past the end of the disk, and wrapping */
	ck_assert_int_eq(blk_rw(&b, BLKIF_OP_READ, IMG_SECTORS - 4, ref, 0, 7), BLKIF_RSP_ERROR);
	ck_assert_int_eq(blk_rw(&b, BLKIF_OP_READ, UINT64_MAX - 2, ref, 0, 7), BLKIF_RSP_ERROR);
	ck_assert_int_eq(blk_rw(&b, BLKIF_OP_READ, IMG_SECTORS - 8, ref, 0, 7), BLKIF_RSP_OKAY);
	/* segment counts */
	struct blkif_request *r = blk_req(&b, BLKIF_OP_READ);
	r->nr_segments = 0;
	ck_assert_int_eq(blk_do1(&b, r).status, BLKIF_RSP_ERROR);
	r = blk_req(&b, BLKIF_OP_WRITE);
	r->nr_segments = 12;
	ck_assert_int_eq(blk_do1(&b, r).status, BLKIF_RSP_ERROR);
	/* unknown / reserved operations */
	r = blk_req(&b, BLKIF_OP_RESERVED_1);
	struct blkif_response rsp = blk_do1(&b, r);
	ck_assert_int_eq(rsp.status, BLKIF_RSP_EOPNOTSUPP);
	ck_assert_uint_eq(rsp.operation, BLKIF_OP_RESERVED_1);
	r = blk_req(&b, 77);
	ck_assert_int_eq(blk_do1(&b, r).status, BLKIF_RSP_EOPNOTSUPP);

	/* indirect: 16 segments of one sector each from one indirect page */
	uint64_t igfn;
	struct blkif_request_segment *segs = (void *)tg_alloc_page(&b.g, &igfn);
	uint32_t iref = tg_grant(&b.g, igfn, 0, true);
	uint8_t *pages[16];
	for (int i = 0; i < 16; i++) {
		pages[i] = tg_alloc_page(&b.g, &gfn);
		segs[i].gref = tg_grant(&b.g, gfn, 0, false);
		segs[i].first_sect = 3;
		segs[i].last_sect = 3;
	}
	struct blkif_request_indirect *ind = (void *)blk_req(&b, BLKIF_OP_INDIRECT);
	ind->indirect_op = BLKIF_OP_READ;
	ind->nr_segments = 16;
	ind->sector_number = 300;
	ind->indirect_grefs[0] = iref;
	uint64_t id = ind->id;
	blk_push(&b);
	ck_assert(blk_get(&b, &rsp));
	ck_assert_uint_eq(rsp.id, id);
	ck_assert_int_eq(rsp.status, BLKIF_RSP_OKAY);
	/* the response names the indirect operation (Linux, and blkfront checks it) */
	ck_assert_uint_eq(rsp.operation, BLKIF_OP_READ);
	for (int i = 0; i < 16; i++)
		for (unsigned o = 0; o < 512; o++)
			ck_assert_uint_eq(pages[i][3 * 512 + o], pattern((300u + i) * 512 + o));
	/* indirect FLUSH is not allowed; over 256 segments neither */
	ind = (void *)blk_req(&b, BLKIF_OP_INDIRECT);
	ind->indirect_op = BLKIF_OP_FLUSH_DISKCACHE;
	ind->nr_segments = 1;
	ind->indirect_grefs[0] = iref;
	id = ind->id;
	blk_push(&b);
	ck_assert(blk_get(&b, &rsp));
	ck_assert_uint_eq(rsp.id, id);
	ck_assert_int_eq(rsp.status, BLKIF_RSP_ERROR);
	ind = (void *)blk_req(&b, BLKIF_OP_INDIRECT);
	ind->indirect_op = BLKIF_OP_READ;
	ind->nr_segments = 257;
	ind->indirect_grefs[0] = iref;
	blk_push(&b);
	ck_assert(blk_get(&b, &rsp));
	ck_assert_int_eq(rsp.status, BLKIF_RSP_ERROR);
	/* a bad segment inside the indirect page */
	segs[5].last_sect = 9;
	ind = (void *)blk_req(&b, BLKIF_OP_INDIRECT);
	ind->indirect_op = BLKIF_OP_READ;
	ind->nr_segments = 16;
	ind->indirect_grefs[0] = iref;
	blk_push(&b);
	ck_assert(blk_get(&b, &rsp));
	ck_assert_int_eq(rsp.status, BLKIF_RSP_ERROR);
	tg_close(&b.g);
}
END_TEST

START_TEST(persistent_grants_and_close)
{
	struct tblk b;
	uint64_t gfn;
	char p[160];
	blk_open(&b, "persist", true, 0);
	tg_alloc_page(&b.g, &gfn);
	uint32_t ref = tg_grant(&b.g, gfn, 0, false);
	ck_assert_int_eq(blk_rw(&b, BLKIF_OP_READ, 0, ref, 0, 7), BLKIF_RSP_OKAY);
	/* blkback keeps persistent grants mapped, writable */
	ck_assert_uint_eq(tg_gnt_flags(&b.g, ref),
			  GTF_permit_access | GTF_reading | GTF_writing);
	ck_assert_int_eq(blk_rw(&b, BLKIF_OP_WRITE, 16, ref, 0, 7), BLKIF_RSP_OKAY);
	/* ... so a read-only grant cannot be used at all */
	uint32_t ro = tg_grant(&b.g, gfn, 0, true);
	ck_assert_int_eq(blk_rw(&b, BLKIF_OP_WRITE, 16, ro, 0, 7), BLKIF_RSP_ERROR);
	/* the grant table cannot be replaced while grants are mapped */
	struct {
		uint32_t n, pad;
		uint64_t gfn;
	} gt = { 1, 0, 0 };
	tg_alloc_page(&b.g, &gt.gfn);
	ck_assert_int_eq(tg_request(&b.g, 17, &gt, sizeof(gt), NULL, NULL, NULL, NULL), -EBUSY);
	/* the guest changing the entry does not matter once it is mapped */
	tg_gnt_set(&b.g, ref, GTF_permit_access | GTF_reading | GTF_writing, 0,
		   (uint32_t)gfn);
	/* close: front Closing -> back Closing; front Closed -> back Closed */
	snprintf(p, sizeof(p), "%s/state", b.fe);
	ck_assert_int_eq(tg_xs_write(&b.g, 0, p, "5"), 0);
	ck_assert(wait_be_state(&b, XenbusStateClosing));
	ck_assert_int_eq(tg_xs_write(&b.g, 0, p, "6"), 0);
	ck_assert(wait_be_state(&b, XenbusStateClosed));
	/* everything unmapped: the ring and the persistent grant */
	ck_assert_uint_eq(tg_gnt_flags(&b.g, ref), GTF_permit_access);
	ck_assert_uint_eq(tg_gnt_flags(&b.g, b.ring_ref[0]), GTF_permit_access);
	/* online: the device stays, and re-arms on Initialising */
	ck_assert_int_eq(tg_xs_write(&b.g, 0, p, "1"), 0);
	ck_assert(wait_be_state(&b, XenbusStateInitWait));
	tg_close(&b.g);
}
END_TEST

START_TEST(multipage_ring)
{
	struct tblk b;
	uint64_t gfn;
	blk_open(&b, "order2", false, 2);
	ck_assert_uint_eq(RING_SIZE(&b.ring), 128);
	uint8_t *pg = tg_alloc_page(&b.g, &gfn);
	uint32_t ref = tg_grant(&b.g, gfn, 0, false);
	/* go around the 128-slot ring twice, 40 requests per batch */
	for (unsigned round = 0; round < 7; round++) {
		uint64_t ids[40];
		for (unsigned i = 0; i < 40; i++) {
			struct blkif_request *r = blk_req(&b, BLKIF_OP_READ);
			r->nr_segments = 1;
			r->sector_number = (round * 40 + i) % 256;
			r->seg[0].gref = ref;
			r->seg[0].last_sect = 0;
			ids[i] = r->id;
		}
		blk_push(&b);
		for (unsigned i = 0; i < 40; i++) {
			struct blkif_response rsp;
			ck_assert(blk_get(&b, &rsp));
			ck_assert_uint_eq(rsp.id, ids[i]);
			ck_assert_int_eq(rsp.status, BLKIF_RSP_OKAY);
		}
	}
	ck_assert_uint_eq(pg[0], pattern(((6 * 40 + 39) % 256) * 512));
	tg_close(&b.g);
}
END_TEST

START_TEST(ring_overflow_halts)
{
	struct tblk b;
	blk_open(&b, "overflow", false, 0);
	/* publish more requests than the ring has slots */
	b.ring.req_prod_pvt += RING_SIZE(&b.ring) + 1;
	blk_push(&b);
	tg_kick(b.send);
	ck_assert(tsim_wait_status(&sim, "HALTED"));
	tg_close(&b.g);
}
END_TEST

START_TEST(bad_handshakes)
{
	struct tblk b;
	char p[128];
	memset(&b, 0, sizeof(b));
	ck_assert_int_eq(tg_connect(&b.g, sim.sock, "bad"), 0);
	ck_assert_int_eq(tg_set_memory(&b.g, 1u << 20), 0);
	ck_assert_int_eq(tg_gnttab_setup(&b.g, 1), 0);
	ck_assert_int_eq(tg_xs_connect(&b.g), 0);
	/* unknown device, twice, other domain */
	ck_assert_int_eq(tg_attach(&b.g, "vbd", 1), -ENOENT);
	ck_assert_int_eq(tg_attach(&b.g, "xyz", VDEV), -EINVAL);
	ck_assert_int_eq(tg_attach(&b.g, "vbd", VDEV), 0);
	ck_assert_int_eq(tg_attach(&b.g, "vbd", VDEV), -EEXIST);
	struct tguest other;
	ck_assert_int_eq(tg_connect(&other, sim.sock, "other"), 0);
	ck_assert_int_eq(tg_attach(&other, "vbd", VDEV), -EBUSY);
	tg_close(&other);
	snprintf(b.fe, sizeof(b.fe), "device/vbd/%u", VDEV);
	snprintf(p, sizeof(p), "%s/backend", b.fe);
	ck_assert_int_eq(tg_xs_read(&b.g, 0, p, b.be, sizeof(b.be)), 0);
	ck_assert(wait_be_state(&b, XenbusStateInitWait));
	/* Initialised without ring keys: fatal, Closing, error node */
	snprintf(p, sizeof(p), "%s/state", b.fe);
	ck_assert_int_eq(tg_xs_write(&b.g, 0, p, "3"), 0);
	ck_assert(wait_be_state(&b, XenbusStateClosing));
	struct tguest d0;
	char v[256];
	ck_assert_int_eq(tg_xs_dom0(&d0, sim.sock), 0);
	snprintf(p, sizeof(p), "/local/domain/0/error/backend/vbd/%u/%u/error",
		 b.g.domid, VDEV);
	ck_assert_int_eq(tg_xs_read(&d0, 0, p, v, sizeof(v)), 0);
	ck_assert_ptr_nonnull(strstr(v, "event-channel"));
	/* an event channel for the wrong remote domain cannot be bound */
	uint32_t port;
	int s, u;
	ck_assert_int_eq(tg_evtchn_alloc(&b.g, 5, &port, &s, &u), 0);
	snprintf(p, sizeof(p), "%s/state", b.fe);
	ck_assert_int_eq(tg_xs_write(&b.g, 0, p, "6"), 0);
	ck_assert(wait_be_state(&b, XenbusStateClosed));
	ck_assert_int_eq(tg_xs_write(&b.g, 0, p, "1"), 0);
	ck_assert(wait_be_state(&b, XenbusStateInitWait));
	uint64_t gfn;
	tg_alloc_page(&b.g, &gfn);
	snprintf(p, sizeof(p), "%s/ring-ref", b.fe);
	snprintf(v, sizeof(v), "%u", tg_grant(&b.g, gfn, 0, false));
	ck_assert_int_eq(tg_xs_write(&b.g, 0, p, v), 0);
	snprintf(p, sizeof(p), "%s/event-channel", b.fe);
	snprintf(v, sizeof(v), "%u", port);
	ck_assert_int_eq(tg_xs_write(&b.g, 0, p, v), 0);
	snprintf(p, sizeof(p), "%s/state", b.fe);
	ck_assert_int_eq(tg_xs_write(&b.g, 0, p, "3"), 0);
	ck_assert(wait_be_state(&b, XenbusStateClosing));
	snprintf(p, sizeof(p), "/local/domain/0/error/backend/vbd/%u/%u/error",
		 b.g.domid, VDEV);
	ck_assert_int_eq(tg_xs_read(&d0, 0, p, v, sizeof(v)), 0);
	ck_assert_ptr_nonnull(strstr(v, "mapping ring-ref"));
	/* a state the front end may not take: fatal */
	snprintf(p, sizeof(p), "%s/state", b.fe);
	ck_assert_int_eq(tg_xs_write(&b.g, 0, p, "6"), 0);
	ck_assert(wait_be_state(&b, XenbusStateClosed));
	ck_assert_int_eq(tg_xs_write(&b.g, 0, p, "7"), 0);
	ck_assert(wait_be_state(&b, XenbusStateClosing));
	close(s);
	close(u);
	tg_close(&d0);
	tg_close(&b.g);
}
END_TEST

START_TEST(faults)
{
	struct tblk b;
	uint64_t gfn;
	struct blkif_response rsp;
	char p[160];
	blk_open(&b, "faults", false, 0);
	tg_alloc_page(&b.g, &gfn);
	uint32_t ref = tg_grant(&b.g, gfn, 0, false);
	/* corrupt id */
	ck_assert_int_eq(tsim_ctl(&sim, "corrupt vbd/51712 id", out, sizeof(out)), 0);
	struct blkif_request *r = blk_req(&b, BLKIF_OP_READ);
	r->nr_segments = 1;
	r->seg[0].gref = ref;
	r->seg[0].last_sect = 7;
	uint64_t id = r->id;
	blk_push(&b);
	ck_assert(blk_get(&b, &rsp));
	ck_assert_uint_ne(rsp.id, id);
	/* corrupt status */
	ck_assert_int_eq(tsim_ctl(&sim, "corrupt vbd/51712 status", out, sizeof(out)), 0);
	ck_assert_int_ne(blk_rw(&b, BLKIF_OP_READ, 0, ref, 0, 7), BLKIF_RSP_OKAY);
	/* drop one: the next request's response comes, the dropped never */
	ck_assert_int_eq(tsim_ctl(&sim, "drop vbd/51712 1", out, sizeof(out)), 0);
	r = blk_req(&b, BLKIF_OP_READ);
	r->nr_segments = 1;
	r->seg[0].gref = ref;
	r->seg[0].last_sect = 7;
	blk_push(&b);
	ck_assert(tsim_wait_status(&sim, "dropped=1"));
	ck_assert_int_eq(blk_rw(&b, BLKIF_OP_READ, 0, ref, 0, 7), BLKIF_RSP_OKAY);
	/* delay: responses still come, in order */
	ck_assert_int_eq(tsim_ctl(&sim, "delay vbd/51712 50", out, sizeof(out)), 0);
	ck_assert_int_eq(blk_rw(&b, BLKIF_OP_READ, 0, ref, 0, 7), BLKIF_RSP_OKAY);
	ck_assert_int_eq(tsim_ctl(&sim, "delay vbd/51712 0", out, sizeof(out)), 0);
	/* rsp_prod jumps past the ring: a front end must notice */
	ck_assert_int_eq(tsim_ctl(&sim, "corrupt vbd/51712 rsp-prod", out, sizeof(out)), 0);
	r = blk_req(&b, BLKIF_OP_READ);
	r->nr_segments = 1;
	r->seg[0].gref = ref;
	r->seg[0].last_sect = 7;
	blk_push(&b);
	ck_assert(tg_wait_upcall(b.up, 10000));
	ck_assert(RING_RESPONSE_PROD_OVERFLOW(&b.ring, b.sring->rsp_prod));
	/* the image grows: `resize` announces it as blkback's vbd_resize */
	ck_assert_int_eq(truncate(img, (off_t)IMG_SECTORS * 512 * 2), 0);
	ck_assert_int_eq(tsim_ctl(&sim, "resize vbd/51712", out, sizeof(out)), 0);
	char v[32];
	ck_assert_str_eq(bkey(&b, "sectors", v, sizeof(v)), "4096");
	ck_assert_str_eq(bkey(&b, "state", v, sizeof(v)), "4");
	/* Closing on demand */
	ck_assert_int_eq(tsim_ctl(&sim, "close vbd/51712", out, sizeof(out)), 0);
	ck_assert(wait_be_state(&b, XenbusStateClosing));
	/* bad commands */
	ck_assert_int_ne(tsim_ctl(&sim, "corrupt vbd/51712 nonsense", out, sizeof(out)), 0);
	ck_assert_int_ne(tsim_ctl(&sim, "delay vbd/9 5", out, sizeof(out)), 0);
	ck_assert_int_ne(tsim_ctl(&sim, "frobnicate", out, sizeof(out)), 0);
	ck_assert_int_eq(tsim_ctl(&sim, "help", out, sizeof(out)), 0);
	ck_assert_ptr_nonnull(strstr(out, "corrupt DEV KIND"));
	snprintf(p, sizeof(p), "%s/state", b.fe);
	(void)p;
	tg_close(&b.g);
}
END_TEST

START_TEST(unplug_and_teardown)
{
	struct tblk b;
	struct tguest d0;
	char p[160], v[64];
	blk_open(&b, "unplug", false, 0);
	ck_assert_int_eq(tg_xs_dom0(&d0, sim.sock), 0);
	/* toolstack hot-unplug: online=0, Closing; the front end closes */
	ck_assert_int_eq(tsim_ctl(&sim, "unplug vbd/51712", out, sizeof(out)), 0);
	ck_assert(wait_be_state(&b, XenbusStateClosing));
	snprintf(p, sizeof(p), "%s/state", b.fe);
	ck_assert_int_eq(tg_xs_write(&b.g, 0, p, "6"), 0);
	/* the device goes away: both directories removed */
	snprintf(p, sizeof(p), "%s/state", b.be);
	ck_assert(tg_xs_wait_absent(&d0, p));
	snprintf(p, sizeof(p), "/local/domain/%u/device/vbd/%u", b.g.domid, VDEV);
	ck_assert_int_eq(tg_xs_read(&d0, 0, p, v, sizeof(v)), -ENOENT);
	ck_assert_uint_eq(tg_gnt_flags(&b.g, b.ring_ref[0]), GTF_permit_access);
	/* attach again, then the guest dies with the ring connected */
	tg_close(&b.g);
	blk_open(&b, "again", false, 0);
	ck_assert_uint_eq(b.g.domid, 2);
	ck_assert_int_eq(tg_xs_watch(&d0, "@releaseDomain", "r"), 0);
	ck_assert(tg_xs_wait_event(&d0, "@releaseDomain"));
	tg_close(&b.g);
	ck_assert(tg_xs_wait_event(&d0, "@releaseDomain"));
	snprintf(p, sizeof(p), "/local/domain/0/backend/vbd/2/%u/state", VDEV);
	ck_assert_int_eq(tg_xs_read(&d0, 0, p, v, sizeof(v)), -ENOENT);
	/* and the disk can be attached by a new domain */
	blk_open(&b, "third", false, 0);
	ck_assert_uint_eq(b.g.domid, 3);
	ck_assert_int_eq(tg_detach(&b.g, "vbd", VDEV), 0);
	ck_assert_int_eq(tg_detach(&b.g, "vbd", VDEV), -ENOENT);
	ck_assert_uint_eq(tg_gnt_flags(&b.g, b.ring_ref[0]), GTF_permit_access);
	tg_close(&b.g);
	tg_close(&d0);
}
END_TEST

START_TEST(readonly_disk)
{
	struct tblk b;
	uint64_t gfn;
	char v[64];
	teardown();
	start_with(",ro");
	blk_open(&b, "ro", false, 0);
	ck_assert_str_eq(bkey(&b, "info", v, sizeof(v)), "4");
	ck_assert_str_eq(bkey(&b, "mode", v, sizeof(v)), "r");
	ck_assert_str_eq(bkey(&b, "feature-flush-cache", v, sizeof(v)), "0");
	ck_assert_str_eq(bkey(&b, "feature-discard", v, sizeof(v)), "0");
	tg_alloc_page(&b.g, &gfn);
	uint32_t ref = tg_grant(&b.g, gfn, 0, false);
	ck_assert_int_eq(blk_rw(&b, BLKIF_OP_WRITE, 0, ref, 0, 7), BLKIF_RSP_ERROR);
	ck_assert_int_eq(blk_rw(&b, BLKIF_OP_READ, 0, ref, 0, 7), BLKIF_RSP_OKAY);
	tg_close(&b.g);
}
END_TEST

START_TEST(large_sectors)
{
	struct tblk b;
	uint64_t gfn;
	char v[64];
	teardown();
	start_with(",sector-size=4096");
	blk_open(&b, "4k", false, 0);
	ck_assert_str_eq(bkey(&b, "sector-size", v, sizeof(v)), "4096");
	/* still 512-byte units, as Linux blkback */
	ck_assert_str_eq(bkey(&b, "sectors", v, sizeof(v)), "2048");
	tg_alloc_page(&b.g, &gfn);
	uint32_t ref = tg_grant(&b.g, gfn, 0, false);
	ck_assert_int_eq(blk_rw(&b, BLKIF_OP_READ, 8, ref, 0, 7), BLKIF_RSP_OKAY);
	ck_assert_int_eq(blk_rw(&b, BLKIF_OP_READ, 4, ref, 0, 7), BLKIF_RSP_ERROR);
	ck_assert_int_eq(blk_rw(&b, BLKIF_OP_READ, 8, ref, 0, 3), BLKIF_RSP_ERROR);
	tg_close(&b.g);
}
END_TEST

START_TEST(multi_queue)
{
	/* two queues: keys under queue-N, one ring and channel each */
	struct tguest g;
	char p[128], v[64];
	ck_assert_int_eq(tg_connect(&g, sim.sock, "mq"), 0);
	ck_assert_int_eq(tg_set_memory(&g, 2u << 20), 0);
	ck_assert_int_eq(tg_gnttab_setup(&g, 1), 0);
	ck_assert_int_eq(tg_xs_connect(&g), 0);
	ck_assert_int_eq(tg_attach(&g, "vbd", VDEV), 0);
	blkif_front_ring_t ring[2];
	int send[2], up[2];
	uint32_t tx;
	ck_assert_int_eq(tg_xs_tx_start(&g, &tx), 0);
	snprintf(p, sizeof(p), "device/vbd/%u/multi-queue-num-queues", VDEV);
	ck_assert_int_eq(tg_xs_write(&g, tx, p, "2"), 0);
	for (int q = 0; q < 2; q++) {
		uint64_t gfn;
		blkif_sring_t *sr = (void *)tg_alloc_page(&g, &gfn);
		SHARED_RING_INIT(sr);
		FRONT_RING_INIT(&ring[q], sr, 4096);
		uint32_t port;
		ck_assert_int_eq(tg_evtchn_alloc(&g, 0, &port, &send[q], &up[q]), 0);
		snprintf(p, sizeof(p), "device/vbd/%u/queue-%d/ring-ref", VDEV, q);
		snprintf(v, sizeof(v), "%u", tg_grant(&g, gfn, 0, false));
		ck_assert_int_eq(tg_xs_write(&g, tx, p, v), 0);
		snprintf(p, sizeof(p), "device/vbd/%u/queue-%d/event-channel", VDEV, q);
		snprintf(v, sizeof(v), "%u", port);
		ck_assert_int_eq(tg_xs_write(&g, tx, p, v), 0);
	}
	snprintf(p, sizeof(p), "device/vbd/%u/state", VDEV);
	ck_assert_int_eq(tg_xs_write(&g, tx, p, "3"), 0);
	ck_assert_int_eq(tg_xs_tx_end(&g, tx, true), 0);
	snprintf(p, sizeof(p), "/local/domain/0/backend/vbd/%u/%u/state", g.domid, VDEV);
	ck_assert(tg_xs_wait_value(&g, p, "4"));
	for (int q = 0; q < 2; q++) {
		uint64_t gfn;
		uint8_t *pg = tg_alloc_page(&g, &gfn);
		struct blkif_request *r = RING_GET_REQUEST(&ring[q], ring[q].req_prod_pvt++);
		memset(r, 0, sizeof(*r));
		r->operation = BLKIF_OP_READ;
		r->id = 77 + q;
		r->nr_segments = 1;
		r->sector_number = 64 * (q + 1);
		r->seg[0].gref = tg_grant(&g, gfn, 0, false);
		r->seg[0].last_sect = 7;
		int notify;
		RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&ring[q], notify);
		ck_assert(notify);
		tg_kick(send[q]);
		ck_assert(tg_wait_upcall(up[q], 10000));
		ck_assert(RING_HAS_UNCONSUMED_RESPONSES(&ring[q]));
		struct blkif_response *rsp = RING_GET_RESPONSE(&ring[q], ring[q].rsp_cons);
		ck_assert_uint_eq(rsp->id, 77u + (unsigned)q);
		ck_assert_int_eq(rsp->status, BLKIF_RSP_OKAY);
		ck_assert_uint_eq(pg[5], pattern(64u * (q + 1) * 512 + 5));
	}
	/* more queues than offered: fatal */
	snprintf(p, sizeof(p), "device/vbd/%u/state", VDEV);
	ck_assert_int_eq(tg_xs_write(&g, 0, p, "6"), 0);
	snprintf(p, sizeof(p), "/local/domain/0/backend/vbd/%u/%u/state", g.domid, VDEV);
	ck_assert(tg_xs_wait_value(&g, p, "6"));
	snprintf(p, sizeof(p), "device/vbd/%u/multi-queue-num-queues", VDEV);
	ck_assert_int_eq(tg_xs_write(&g, 0, p, "3"), 0);
	snprintf(p, sizeof(p), "device/vbd/%u/state", VDEV);
	ck_assert_int_eq(tg_xs_write(&g, 0, p, "3"), 0);
	snprintf(p, sizeof(p), "/local/domain/0/backend/vbd/%u/%u/state", g.domid, VDEV);
	ck_assert(tg_xs_wait_value(&g, p, "5"));
	tg_close(&g);
}
END_TEST

START_TEST(slow_closing)
{
	struct tblk b;
	char p[128];
	ck_assert_int_eq(tsim_ctl(&sim, "closing-delay vbd/51712 600000", out, sizeof(out)), 0);
	blk_open(&b, "slow", false, 0);
	snprintf(p, sizeof(p), "%s/state", b.fe);
	ck_assert_int_eq(tg_xs_write(&b.g, 0, p, "5"), 0);
	/* the front end's Closing was seen, the back end has not followed */
	ck_assert_int_eq(tsim_ctl(&sim, "status", out, sizeof(out)), 0);
	ck_assert_ptr_nonnull(strstr(out, "state=Connected fe=Closing"));
	/* ending the delay lets it follow */
	ck_assert_int_eq(tsim_ctl(&sim, "closing-delay vbd/51712 0", out, sizeof(out)), 0);
	ck_assert(wait_be_state(&b, XenbusStateClosing));
	tg_close(&b.g);
}
END_TEST

START_TEST(sigterm_with_guest_connected)
{
	struct tblk b;
	uint64_t gfn;
	blk_open(&b, "stays", true, 1);
	tg_alloc_page(&b.g, &gfn);
	uint32_t ref = tg_grant(&b.g, gfn, 0, false);
	ck_assert_int_eq(blk_rw(&b, BLKIF_OP_READ, 0, ref, 0, 7), BLKIF_RSP_OKAY);
	ck_assert_int_eq(tsim_ctl(&sim, "delay vbd/51712 60000", out, sizeof(out)), 0);
	struct blkif_request *r = blk_req(&b, BLKIF_OP_READ);
	r->nr_segments = 1;
	r->seg[0].gref = ref;
	r->seg[0].last_sect = 7;
	blk_push(&b);
	ck_assert(tsim_wait_status(&sim, "held=1"));
	/* the host stops cleanly (exit 0, nothing leaked under ASan) with a
	 * guest connected, grants mapped and a response held back; the
	 * guest sees its connection close */
	ck_assert_int_eq(tsim_stop(&sim), 0);
	char c;
	ck_assert_int_eq(read(b.g.fd, &c, 1), 0);
	tg_close(&b.g);
	start_with(""); /* for the fixture's teardown */
}
END_TEST

int main(void)
{
	Suite *s = suite_create("simxen_blk");
	TCase *tc = tcase_create("blkback");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, handshake_keys_and_io);
	tcase_add_test(tc, grant_enforcement);
	tcase_add_test(tc, request_validation);
	tcase_add_test(tc, persistent_grants_and_close);
	tcase_add_test(tc, multipage_ring);
	tcase_add_test(tc, ring_overflow_halts);
	tcase_add_test(tc, bad_handshakes);
	tcase_add_test(tc, faults);
	tcase_add_test(tc, unplug_and_teardown);
	tcase_add_test(tc, readonly_disk);
	tcase_add_test(tc, large_sectors);
	tcase_add_test(tc, multi_queue);
	tcase_add_test(tc, slow_closing);
	tcase_add_test(tc, sigterm_with_guest_connected);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
