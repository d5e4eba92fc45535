/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_simvmbus_host.c - parts of the simulated Hyper-V host
 * tested in-process (and so under ASan/UBSan in the sanitizer build):
 *
 *   ring    the host end of a VMBus ring against a guest end written here
 *           from the fact sheet: wrap-around, trailers, interrupt_mask,
 *           pending_send_sz, and guest-corrupted indices and descriptors;
 *   vmbus   the channel manager behind a test "door" that records the
 *           messages it would send: versions and connection ids, offers,
 *           GPADL assembly and its checks, open/close/rescind/release;
 *   scsi    the SCSI disk on a temporary image file.
 *
 * Offsets are written out by hand from shared/specs/hyperv-vmbus.md rather
 * than taken from sim/vmbus/wire.h, so a layout error there shows here.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vmbus/scsi.h"
#include "vmbus/shv.h"

static void p32(void *p, uint32_t v) { memcpy(p, &v, 4); }
static void p64(void *p, uint64_t v) { memcpy(p, &v, 8); }
static uint32_t g32(const void *p) { uint32_t v; memcpy(&v, p, 4); return v; }

/* ------------------------------------------------------------------ ring */
#define RPAGES 3 /* data pages of the test ring */
static uint8_t *rmem;          /* header page + data pages */
static uint8_t *rpages[RPAGES];
static struct shv_ring ring;

static void ring_setup(void)
{
	rmem = aligned_alloc(4096, 4096 * (RPAGES + 1));
	ck_assert_ptr_nonnull(rmem);
	memset(rmem, 0, 4096 * (RPAGES + 1));
	/* data pages deliberately out of order in memory */
	for (int i = 0; i < RPAGES; i++)
		rpages[i] = rmem + 4096 * (RPAGES - i);
	memset(&ring, 0, sizeof(ring));
	ring.hdr = (void *)rmem;
	ring.data = rpages;
	ring.size = RPAGES * 4096;
}

static void ring_teardown(void)
{
	free(rmem);
}

static void gcopy_in(uint32_t pos, const void *src, uint32_t len)
{
	const uint8_t *s = src;
	for (uint32_t i = 0; i < len; i++)
		rpages[((pos + i) % ring.size) / 4096][((pos + i) % ring.size) %
						       4096] = s[i];
}

static void gcopy_out(uint32_t pos, void *dst, uint32_t len)
{
	uint8_t *d = dst;
	for (uint32_t i = 0; i < len; i++)
		d[i] = rpages[((pos + i) % ring.size) / 4096]
			     [((pos + i) % ring.size) % 4096];
}

/* The guest writes one inband packet with payload len bytes. */
static uint32_t guest_write(uint32_t len, uint64_t tid, uint8_t fill)
{
	uint8_t pkt[4096];
	uint32_t w = g32(rmem);
	uint32_t total = (16 + len + 7) & ~7u;
	memset(pkt, fill, total);
	uint16_t d[4] = { 6, 2, (uint16_t)(total / 8), 1 };
	memcpy(pkt, d, 8);
	memcpy(pkt + 8, &tid, 8);
	gcopy_in(w, pkt, total);
	uint64_t trailer = (uint64_t)w << 32;
	gcopy_in(w + total, &trailer, 8);
	p32(rmem, (w + total + 8) % ring.size);
	return total;
}

START_TEST(ring_in_wraps)
{
	uint8_t buf[4096];
	const char *why = NULL;
	ck_assert_int_eq(shv_ring_peek(&ring, buf, sizeof(buf), &why), 0);
	/* walk the ring several times so packets straddle the end and the
	 * page boundaries */
	for (int i = 0; i < 40; i++) {
		uint32_t len = 100 + (uint32_t)i * 37;
		uint32_t total = guest_write(len, 1000 + (uint64_t)i,
					     (uint8_t)i);
		int n = shv_ring_peek(&ring, buf, sizeof(buf), &why);
		ck_assert_msg(n == (int)total, "packet %d: %d (%s)", i, n,
			      why ? why : "");
		uint64_t tid;
		memcpy(&tid, buf + 8, 8);
		ck_assert_uint_eq(tid, 1000 + (uint64_t)i);
		ck_assert_uint_eq(buf[total - 1], (uint8_t)i);
		shv_ring_consume(&ring, (uint32_t)n);
		shv_ring_publish_read(&ring, (uint32_t)n + 8);
		ck_assert_uint_eq(g32(rmem + 4), g32(rmem));
		ck_assert(shv_ring_in_empty(&ring));
	}
}
END_TEST

START_TEST(ring_in_rejects_guest_garbage)
{
	uint8_t buf[4096];
	const char *why = NULL;
	p32(rmem, ring.size + 8); /* write index outside */
	ck_assert_int_eq(shv_ring_peek(&ring, buf, sizeof(buf), &why), -EPROTO);
	p32(rmem, 12); /* unaligned */
	ck_assert_int_eq(shv_ring_peek(&ring, buf, sizeof(buf), &why), -EPROTO);
	p32(rmem, 0);
	guest_write(40, 7, 0);
	/* offset8 beyond len8 */
	rpages[0][2] = 40;
	ck_assert_int_eq(shv_ring_peek(&ring, buf, sizeof(buf), &why), -EPROTO);
	rpages[0][2] = 2;
	/* len8 beyond the write index */
	rpages[0][4] = 200;
	ck_assert_int_eq(shv_ring_peek(&ring, buf, sizeof(buf), &why), -EPROTO);
	rpages[0][4] = 7;
	/* trailer that does not hold the packet's offset */
	rpages[0][56 + 4] = 0x55;
	ck_assert_int_eq(shv_ring_peek(&ring, buf, sizeof(buf), &why), -EPROTO);
	ck_assert_ptr_nonnull(why);
	rpages[0][56 + 4] = 0;
	ck_assert_int_eq(shv_ring_peek(&ring, buf, sizeof(buf), &why), 56);
}
END_TEST

START_TEST(ring_out_signals_like_hyperv)
{
	uint8_t pkt[64], got[64];
	bool sig = false, supp = false;
	const char *why = NULL;
	memset(pkt, 0xAB, sizeof(pkt));
	/* empty ring, guest not masked: signal */
	ck_assert_int_eq(shv_ring_write(&ring, pkt, 64, &sig, &supp, &why), 0);
	ck_assert(sig && !supp);
	uint64_t trailer;
	gcopy_out(64, &trailer, 8);
	ck_assert_uint_eq(trailer, 0);
	ck_assert_uint_eq(g32(rmem), 72);
	/* not empty (guest has not read): no signal */
	sig = false;
	ck_assert_int_eq(shv_ring_write(&ring, pkt, 64, &sig, &supp, &why), 0);
	ck_assert(!sig);
	gcopy_out(72 + 64, &trailer, 8);
	ck_assert_uint_eq(trailer >> 32, 72);
	gcopy_out(72, got, 64);
	ck_assert_mem_eq(got, pkt, 64);
	/* guest reads everything, then masks: suppressed */
	p32(rmem + 4, g32(rmem));
	p32(rmem + 8, 1);
	sig = false;
	ck_assert_int_eq(shv_ring_write(&ring, pkt, 64, &sig, &supp, &why), 0);
	ck_assert(!sig && supp);
	/* corrupt read index from the guest */
	p32(rmem + 4, 5);
	ck_assert_int_eq(shv_ring_write(&ring, pkt, 64, &sig, &supp, &why),
			 -EPROTO);
}
END_TEST

START_TEST(ring_out_full_and_pending_send)
{
	uint8_t pkt[4000];
	bool sig, supp;
	const char *why = NULL;
	memset(pkt, 1, sizeof(pkt));
	p32(rmem + 64, 1); /* guest supports pending_send_sz */
	int n = 0;
	while (shv_ring_write(&ring, pkt, sizeof(pkt), &sig, &supp, &why) == 0)
		n++;
	/* 12288 bytes: three 4008-byte packets leave 264, never all */
	ck_assert_int_eq(n, 3);
	ck_assert_uint_eq(g32(rmem + 12), sizeof(pkt) + 8);
	shv_ring_clear_pending(&ring);
	ck_assert_uint_eq(g32(rmem + 12), 0);
}
END_TEST

START_TEST(ring_in_pending_send_transition)
{
	uint8_t buf[4096];
	const char *why = NULL;
	/* two packets leave 4240 bytes; the guest blocks needing 5000 */
	uint32_t t1 = guest_write(4000, 1, 1);
	uint32_t t2 = guest_write(4000, 2, 2);
	p32(rmem + 12, 5000);
	int n = shv_ring_peek(&ring, buf, sizeof(buf), &why);
	ck_assert_int_eq(n, (int)t1);
	shv_ring_consume(&ring, (uint32_t)n);
	/* 4024 bytes freed: 8264 free, the guest can write now: signal */
	ck_assert(shv_ring_publish_read(&ring, t1 + 8));
	n = shv_ring_peek(&ring, buf, sizeof(buf), &why);
	ck_assert_int_eq(n, (int)t2);
	shv_ring_consume(&ring, (uint32_t)n);
	/* it could already: no second signal */
	ck_assert(!shv_ring_publish_read(&ring, t2 + 8));
}
END_TEST

/* ----------------------------------------------------------------- vmbus */
#define MEM_PAGES 256
#define GPA_BASE 0x100000000ull

struct fake_door {
	unsigned n;
	uint8_t msg[64][240];
	uint32_t len[64];
	unsigned interrupts;
};
static struct fake_door door_log;
static struct shv_host host;
static struct shv_part *part;
static uint8_t *gmem;
static int gfd;
static char img_path[64];

static void fd_post(struct shv_part *p, const void *m, uint32_t len)
{
	(void)p;
	ck_assert_uint_lt(door_log.n, 64);
	memcpy(door_log.msg[door_log.n], m, len);
	door_log.len[door_log.n++] = len;
}
static void fd_interrupt(struct shv_part *p, struct shv_chan *c)
{
	(void)p;
	(void)c;
	door_log.interrupts++;
}
static void fd_gone(struct shv_part *p, struct shv_chan *c)
{
	(void)p;
	(void)c;
}
static const struct shv_door_ops fake_ops = {
	"test", fd_post, fd_interrupt, fd_gone, false,
};

/* next recorded message of the given type, or NULL */
static const uint8_t *take(uint32_t type, uint32_t *len)
{
	for (unsigned i = 0; i < door_log.n; i++)
		if (g32(door_log.msg[i]) == type) {
			static uint8_t out[240];
			memcpy(out, door_log.msg[i], 240);
			if (len)
				*len = door_log.len[i];
			memmove(&door_log.msg[i], &door_log.msg[i + 1],
				sizeof(door_log.msg[0]) * (door_log.n - i - 1));
			memmove(&door_log.len[i], &door_log.len[i + 1],
				sizeof(door_log.len[0]) * (door_log.n - i - 1));
			door_log.n--;
			return out;
		}
	return NULL;
}

static struct shv_dev *add_disk(void)
{
	struct shv_dev *d = calloc(1, sizeof(*d));
	d->host = &host;
	d->ops = &shv_storvsp_ops;
	d->kind = SHV_DEV_SCSI;
	d->channels = 2;
	d->offered = true;
	strcpy(d->name, "storvsc0");
	d->type_guid[0] = 0xd9;
	d->inst_guid[0] = 0x42;
	strcpy(d->disk.path, img_path);
	d->disk.bs = 512;
	d->disk.max_transfer = 512 * 1024;
	ck_assert_int_eq(shv_disk_open(&d->disk), 0);
	host.devs[host.ndevs++] = d;
	return d;
}

static void vmbus_setup(void)
{
	memset(&host, 0, sizeof(host));
	memset(&door_log, 0, sizeof(door_log));
	host.loop = sim_loop_new();
	host.max_version = SHV_VMBUS_V5_3;
	strcpy(img_path, "/tmp/test_simvmbus_XXXXXX");
	int ifd = mkstemp(img_path);
	ck_assert_int_ge(ifd, 0);
	ck_assert_int_eq(ftruncate(ifd, 1 << 20), 0);
	close(ifd);
	add_disk();
	part = shv_part_new(&host, &fake_ops, NULL, "t");
	gfd = memfd_create("guest", MFD_CLOEXEC);
	ck_assert_int_ge(gfd, 0);
	ck_assert_int_eq(ftruncate(gfd, MEM_PAGES * 4096), 0);
	gmem = mmap(NULL, MEM_PAGES * 4096, PROT_READ | PROT_WRITE, MAP_SHARED,
		    gfd, 0);
	ck_assert_ptr_ne(gmem, MAP_FAILED);
	ck_assert_int_eq(sim_mem_add(&part->mem, GPA_BASE, MEM_PAGES * 4096,
				     gfd, 0), 0);
}

static void vmbus_teardown(void)
{
	shv_host_free(&host);
	munmap(gmem, MEM_PAGES * 4096);
	close(gfd);
	unlink(img_path);
}

static uint32_t post(uint32_t conn, const void *m, uint32_t len)
{
	return shv_vmbus_post(part, conn, 1, m, len);
}

static void contact(uint32_t ver, uint32_t conn)
{
	uint8_t m[40] = { 0 };
	p32(m, 14);
	p32(m + 8, ver);
	if (ver >= 0x00050000)
		m[16] = 2; /* SINT; below 5.0 this is the interrupt page */
	ck_assert_uint_eq(post(conn, m, 40), 0);
}

START_TEST(vmbus_versions_and_connection_ids)
{
	const uint8_t *r;
	uint8_t m[40] = { 0 };
	/* not 1 or 4: no such port */
	p32(m, 14);
	ck_assert_uint_eq(post(7, m, 40), SHV_HV_INVALID_CONNECTION_ID);
	/* too long for a SynIC message */
	ck_assert_uint_eq(post(4, m, 241), SHV_HV_INVALID_PARAMETER);
	/* 6.0 is not served */
	contact(0x00060000, 4);
	r = take(15, NULL);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r[8], 0);
	/* 5.3 must come on connection id 4 */
	contact(SHV_VMBUS_V5_3, 1);
	r = take(15, NULL);
	ck_assert_uint_eq(r[8], 0);
	/* before contact, other messages are dropped */
	uint8_t req[8] = { 3 };
	ck_assert_uint_eq(post(1, req, 8), 0);
	ck_assert_uint_eq(door_log.n, 0);
	contact(SHV_VMBUS_V5_3, 4);
	r = take(15, NULL);
	ck_assert_uint_eq(r[8], 1);
	ck_assert_uint_eq(r[9], 0);
	ck_assert_uint_eq(g32(r + 12), 1); /* msg_conn_id */
	/* later messages must use msg_conn_id */
	ck_assert_uint_eq(post(4, req, 8), 0);
	ck_assert_uint_eq(door_log.n, 0);
	ck_assert_uint_eq(post(1, req, 8), 0);
	r = take(1, NULL);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(g32(r + 184), 1);     /* relid */
	ck_assert_uint_eq(r[8], 0xd9);          /* class GUID */
	ck_assert_uint_eq(r[24], 0x42);         /* instance GUID */
	ck_assert_uint_eq(r[180] | r[181], 0);  /* primary */
	ck_assert_uint_eq(g32(r + 192), 0x10001);
	ck_assert_ptr_nonnull(take(4, NULL));
}
END_TEST

START_TEST(vmbus_old_host_refuses_connection_id_4)
{
	host.max_version = SHV_VMBUS_V4_0;
	uint8_t m[40] = { 0 };
	p32(m, 14);
	p32(m + 8, SHV_VMBUS_V5_0);
	ck_assert_uint_eq(post(4, m, 40), SHV_HV_INVALID_CONNECTION_ID);
	contact(SHV_VMBUS_V4_0, 1);
	const uint8_t *r = take(15, NULL);
	ck_assert_uint_eq(r[8], 1);
	ck_assert_uint_eq(g32(r + 12), SHV_VMBUS_V4_0);
}
END_TEST

/* GPADL of npages guest pages from page first, split header/bodies. */
static uint32_t gpadl(uint32_t relid, uint32_t handle, uint32_t first,
		      uint32_t npages, uint64_t bad_pfn_at)
{
	uint8_t m[240];
	uint32_t inhdr = npages < 26 ? npages : 26;
	memset(m, 0, sizeof(m));
	p32(m, 8);
	p32(m + 8, relid);
	p32(m + 12, handle);
	m[16] = (uint8_t)((8 + 8 * npages) & 0xFF);
	m[17] = (uint8_t)((8 + 8 * npages) >> 8);
	m[18] = 1;
	p32(m + 20, npages * 4096);
	uint32_t k = 0;
	for (; k < inhdr; k++)
		p64(m + 28 + 8 * k, k == bad_pfn_at ? 1
						  : (GPA_BASE >> 12) + first + k);
	ck_assert_uint_eq(post(1, m, 28 + 8 * inhdr), 0);
	while (k < npages) {
		uint32_t n = npages - k < 28 ? npages - k : 28;
		memset(m, 0, sizeof(m));
		p32(m, 9);
		p32(m + 12, handle);
		for (uint32_t i = 0; i < n; i++, k++)
			p64(m + 16 + 8 * i,
			    k == bad_pfn_at ? 1 : (GPA_BASE >> 12) + first + k);
		ck_assert_uint_eq(post(1, m, 16 + 8 * n), 0);
	}
	const uint8_t *r = take(10, NULL);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(g32(r + 12), handle);
	return g32(r + 16);
}

static void connect_and_offer(void)
{
	uint8_t req[8] = { 3 };
	contact(SHV_VMBUS_V5_3, 4);
	take(15, NULL);
	post(1, req, 8);
	ck_assert_ptr_nonnull(take(1, NULL));
	ck_assert_ptr_nonnull(take(4, NULL));
}

START_TEST(vmbus_gpadl_checks)
{
	connect_and_offer();
	/* 60 pages: header + two bodies */
	ck_assert_uint_eq(gpadl(1, 0x100, 0, 60, UINT64_MAX), 0);
	/* same handle again */
	ck_assert_uint_ne(gpadl(1, 0x100, 60, 2, UINT64_MAX), 0);
	/* a PFN outside guest memory, in a body */
	ck_assert_uint_ne(gpadl(1, 0x101, 60, 40, 33), 0);
	/* the failed GPADL is forgotten: its handle is free again */
	ck_assert_uint_eq(gpadl(1, 0x101, 60, 40, UINT64_MAX), 0);
	/* relid that was never offered */
	ck_assert_uint_ne(gpadl(9, 0x102, 0, 1, UINT64_MAX), 0);
	/* range_buflen that disagrees with byte_count */
	uint8_t m[240] = { 0 };
	p32(m, 8);
	p32(m + 8, 1);
	p32(m + 12, 0x103);
	m[16] = 24; /* two PFNs */
	m[18] = 1;
	p32(m + 20, 3 * 4096);
	p64(m + 28, GPA_BASE >> 12);
	p64(m + 36, (GPA_BASE >> 12) + 1);
	post(1, m, 44);
	const uint8_t *r = take(10, NULL);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_ne(g32(r + 16), 0);
	/* teardown answers with TORNDOWN */
	uint8_t td[16] = { 11 };
	p32(td + 8, 1);
	p32(td + 12, 0x100);
	post(1, td, 16);
	r = take(12, NULL);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(g32(r + 8), 0x100);
	/* unknown handle: nothing */
	post(1, td, 16);
	ck_assert_ptr_null(take(12, NULL));
}
END_TEST

static uint32_t open_chan(uint32_t relid, uint32_t gp, uint32_t down)
{
	uint8_t m[148] = { 0 };
	p32(m, 5);
	p32(m + 8, relid);
	p32(m + 12, 77);
	p32(m + 16, gp);
	p32(m + 24, down);
	post(1, m, 148);
	const uint8_t *r = take(6, NULL);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(g32(r + 8), relid);
	ck_assert_uint_eq(g32(r + 12), 77);
	return g32(r + 16);
}

START_TEST(vmbus_open_close_rescind)
{
	connect_and_offer();
	ck_assert_uint_eq(gpadl(1, 0x200, 0, 8, UINT64_MAX), 0);
	/* unknown GPADL, bad downstream offsets */
	ck_assert_uint_ne(open_chan(1, 0x999, 4), 0);
	ck_assert_uint_ne(open_chan(1, 0x200, 1), 0);
	ck_assert_uint_ne(open_chan(1, 0x200, 7), 0);
	/* guest scribbled over a ring index */
	p32(gmem + 4, 4096 * 9);
	ck_assert_uint_ne(open_chan(1, 0x200, 4), 0);
	p32(gmem + 4, 0);
	ck_assert_uint_eq(open_chan(1, 0x200, 4), 0);
	ck_assert_uint_ne(open_chan(1, 0x200, 4), 0); /* already open */
	struct shv_chan *c = shv_part_chan(part, 1);
	ck_assert_int_eq(c->state, SHV_CH_OPEN);
	/* the ring GPADL torn down while open: answered after the close */
	uint8_t td[16] = { 11 };
	p32(td + 8, 1);
	p32(td + 12, 0x200);
	post(1, td, 16);
	ck_assert_ptr_null(take(12, NULL));
	uint8_t cl[12] = { 7 };
	p32(cl + 8, 1);
	post(1, cl, 12);
	ck_assert_int_eq(c->state, SHV_CH_OFFERED);
	ck_assert_ptr_nonnull(take(12, NULL));
	/* rescind and re-offer */
	shv_vmbus_rescind_dev(&host, host.devs[0]);
	const uint8_t *r = take(2, NULL);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(g32(r + 8), 1);
	shv_vmbus_offer_dev(&host, host.devs[0]);
	r = take(1, NULL);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(g32(r + 184), 2); /* relid 1 not released yet */
	uint8_t rel[12] = { 13 };
	p32(rel + 8, 1);
	post(1, rel, 12);
	ck_assert_ptr_null(shv_part_chan(part, 1));
	/* UNLOAD */
	uint8_t ul[8] = { 16 };
	post(1, ul, 8);
	ck_assert_ptr_nonnull(take(17, NULL));
	ck_assert_ptr_null(part->chans);
}
END_TEST

/* Deterministic random input: channel messages and ring packets that are
 * mostly nonsense, some of them almost right.  Whatever comes, the host
 * must not touch memory it should not (ASan/UBSan build) nor stop
 * answering. */
static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

static void write_guest_packet(uint8_t *rhdr, uint32_t dsize, const uint8_t *p,
			       uint32_t len)
{
	uint8_t *data = rhdr + 4096;
	uint32_t w = g32(rhdr);
	for (uint32_t i = 0; i < len; i++)
		data[(w + i) % dsize] = p[i];
	uint64_t tr = (uint64_t)w << 32;
	for (uint32_t i = 0; i < 8; i++)
		data[(w + len + i) % dsize] = ((uint8_t *)&tr)[i];
	p32(rhdr, (w + len + 8) % dsize);
}

START_TEST(random_input_never_hurts_the_host)
{
	/* SIMVMBUS_SEED=N explores other inputs; the default is fixed */
	const char *seed = getenv("SIMVMBUS_SEED");
	if (seed && strtoull(seed, NULL, 0))
		rng = strtoull(seed, NULL, 0);
	struct shv_dev *nic = calloc(1, sizeof(*nic));
	nic->host = &host;
	nic->ops = &shv_netvsp_ops;
	nic->kind = SHV_DEV_NIC;
	nic->channels = 2;
	nic->offered = true;
	strcpy(nic->name, "netvsc0");
	nic->nic.mtu = 1500;
	nic->nic.link_up = true;
	nic->nic.section_size = 6144;
	nic->nic.mode = SHV_NIC_REFLECT;
	host.devs[host.ndevs++] = nic;
	connect_and_offer();
	take(1, NULL);
	take(4, NULL);
	uint32_t opened = 0;
	uint64_t pkts = 0, bads = 0, broke = 0;
	for (int it = 0; it < 20000; it++) {
		uint8_t m[240];
		uint32_t kind = rnd() % 8;
		door_log.n = 0;
		if (kind < 3) {
			/* a channel message, header plausible half the time */
			uint32_t len = 8 + rnd() % 233;
			for (uint32_t i = 0; i < len; i++)
				m[i] = (uint8_t)rnd();
			if (rnd() & 1) {
				p32(m, 1 + rnd() % 17);
				p32(m + 8, 1 + rnd() % 3);
				p32(m + 12, 0x100 + rnd() % 4);
			}
			post(1, m, len);
		} else if (kind == 3 && (part->state != SHV_P_CONNECTED ||
					 !part->offers_sent)) {
			contact(SHV_VMBUS_V5_3, 4);
			uint8_t req[8] = { 3 };
			post(1, req, 8);
		} else if (kind == 3) {
			/* a GPADL of the ring pages, then an open */
			uint32_t relid = 1 + rnd() % 2, h = 0x100 + rnd() % 4;
			uint32_t base = relid == 1 ? 0 : 16;
			if (!shv_gpadl_find(part, h))
				gpadl(relid, h, base, 16, rnd() % 4 ? UINT64_MAX
								    : rnd() % 16);
			memset(gmem + base * 4096, 0, 16 * 4096);
			if (open_chan(relid, h, 2 + rnd() % 14) == 0)
				opened++;
		} else {
			/* a packet into an open channel's ring */
			struct shv_chan *c = shv_part_chan(part, 1 + rnd() % 2);
			if (!c || c->state != SHV_CH_OPEN)
				continue;
			uint8_t pkt[512];
			uint32_t len = 24 + (rnd() % 60) * 8;
			for (uint32_t i = 0; i < len; i++)
				pkt[i] = (uint8_t)rnd();
			uint16_t types[] = { 6, 9, 11, 7, 1 };
			uint16_t d[4] = { types[rnd() % 5], 2, (uint16_t)(len / 8),
					  (uint16_t)(rnd() & 1) };
			if (rnd() % 4)
				memcpy(pkt, d, 8);
			if (kind == 7)
				p32(pkt + 16, 1 + rnd() % 200); /* NVSP types */
			uint32_t free_bytes = c->in.size - 64;
			if (len + 8 < free_bytes)
				write_guest_packet((uint8_t *)c->in.hdr,
						   c->in.size, pkt, len);
			uint64_t before = c->st.pkts_in, bbad = c->st.bad;
			shv_chan_signalled(c, 1);
			pkts += c->st.pkts_in - before;
			bads += c->st.bad - bbad;
			broke += c->broken;
			/* the guest reads nothing back: keep its rx ring empty */
			p32((uint8_t *)c->out.hdr + 4, g32(c->out.hdr));
			if (c->broken || rnd() % 50 == 0) {
				uint8_t cl[12] = { 7 };
				p32(cl + 8, c->relid);
				post(1, cl, 12);
			}
		}
		if (rnd() % 500 == 0) {
			contact(SHV_VMBUS_V5_3, 4);
			uint8_t req[8] = { 3 };
			post(1, req, 8);
		}
	}
	/* the input reached every layer: opens, engines, refusals */
	ck_assert_uint_gt(opened, 100);
	ck_assert_uint_gt(pkts - bads, 100);
	ck_assert_uint_gt(bads, 100);
	ck_assert_uint_gt(broke, 100);
	/* still a working host */
	door_log.n = 0;
	contact(SHV_VMBUS_V5_3, 4);
	const uint8_t *r = take(15, NULL);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r[8], 1);
}
END_TEST

/* ------------------------------------------------------------------- scsi */
static struct shv_disk disk;
static uint8_t *dbuf;
static struct shv_sg dsg;

static void scsi_setup(void)
{
	memset(&disk, 0, sizeof(disk));
	strcpy(disk.path, "/tmp/test_simvmbus_disk_XXXXXX");
	int fd = mkstemp(disk.path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, 64 * 512), 0);
	close(fd);
	disk.bs = 512;
	disk.max_transfer = 64 * 1024;
	ck_assert_int_eq(shv_disk_open(&disk), 0);
	dbuf = calloc(1, 65536);
	shv_sg_reset(&dsg);
	/* the buffer as 16 pieces, like guest pages */
	for (int i = 0; i < 16; i++)
		shv_sg_add(&dsg, dbuf + 4096 * i, 4096);
}

static void scsi_teardown(void)
{
	close(disk.fd);
	unlink(disk.path);
	free(dbuf);
}

static struct shv_scsi_cmd run(const uint8_t *cdb, uint8_t len, uint32_t dl)
{
	struct shv_scsi_cmd c = { .cdb = cdb, .cdb_len = len, .data = &dsg,
				  .data_len = dl };
	shv_scsi_exec(&disk, &c);
	return c;
}

START_TEST(scsi_read_write_capacity)
{
	uint8_t rc16[16] = { 0x9E, 0x10 };
	rc16[13] = 32;
	struct shv_scsi_cmd c = run(rc16, 16, 32);
	ck_assert_uint_eq(c.status, 0);
	ck_assert_uint_eq(dbuf[7], 63);                       /* last LBA */
	ck_assert_uint_eq(dbuf[10] << 8 | dbuf[11], 512);
	ck_assert_uint_eq(dbuf[14] & 0x80, 0x80);             /* LBPME */
	for (int i = 0; i < 8192; i++)
		dbuf[i] = (uint8_t)(i * 7);
	uint8_t w10[10] = { 0x2A, 0, 0, 0, 0, 3, 0, 0, 16, 0 };
	c = run(w10, 10, 8192);
	ck_assert_uint_eq(c.status, 0);
	ck_assert_uint_eq(c.transferred, 8192);
	uint8_t check[8192];
	ck_assert_int_eq(pread(disk.fd, check, 8192, 3 * 512), 8192);
	ck_assert_mem_eq(check, dbuf, 8192);
	memset(dbuf, 0, 8192);
	uint8_t r16[16] = { 0x88 };
	r16[9] = 3;
	r16[13] = 16;
	c = run(r16, 16, 8192);
	ck_assert_uint_eq(c.status, 0);
	ck_assert_mem_eq(check, dbuf, 8192);
	/* beyond the end */
	r16[9] = 60;
	c = run(r16, 16, 8192);
	ck_assert_uint_eq(c.status, 2);
	ck_assert_uint_eq(c.sense[0], 0x70);
	ck_assert_uint_eq(c.sense[2], 5);
	ck_assert_uint_eq(c.sense[12], 0x21);
	/* buffer too small for the blocks asked */
	r16[9] = 0;
	c = run(r16, 16, 4096);
	ck_assert(c.overrun);
	ck_assert_uint_eq(c.transferred, 0);
}
END_TEST

START_TEST(scsi_inquiry_luns_and_errors)
{
	uint8_t inq[6] = { 0x12, 0, 0, 0, 96, 0 };
	struct shv_scsi_cmd c = run(inq, 6, 96);
	ck_assert_uint_eq(c.status, 0);
	ck_assert_uint_eq(c.transferred, 36);
	ck_assert_mem_eq(dbuf + 8, "Msft    Virtual Disk    ", 24);
	uint8_t vpd[6] = { 0x12, 1, 0xB0, 0, 64, 0 };
	c = run(vpd, 6, 64);
	ck_assert_uint_eq(c.status, 0);
	ck_assert_uint_eq(dbuf[1], 0xB0);
	ck_assert_uint_eq(dbuf[11], 128); /* 64K / 512 */
	vpd[2] = 0x42;
	c = run(vpd, 6, 64);
	ck_assert_uint_eq(c.status, 2);
	ck_assert_uint_eq(c.sense[12], 0x24);
	uint8_t rl[12] = { 0xA0 };
	rl[9] = 16;
	c = run(rl, 12, 16);
	ck_assert_uint_eq(c.status, 0);
	ck_assert_uint_eq(dbuf[3], 8);
	uint8_t bad[6] = { 0xC5 };
	c = run(bad, 6, 0);
	ck_assert_uint_eq(c.status, 2);
	ck_assert_uint_eq(c.sense[12], 0x20);
	/* a unit attention once after a resize, not for INQUIRY */
	ck_assert_int_eq(shv_disk_resize(&disk, 128 * 512), 0);
	c = run(inq, 6, 96);
	ck_assert_uint_eq(c.status, 0);
	uint8_t tur[6] = { 0 };
	c = run(tur, 6, 0);
	ck_assert_uint_eq(c.status, 2);
	ck_assert_uint_eq(c.sense[2], 6);
	ck_assert_uint_eq(c.sense[12], 0x2A);
	ck_assert_uint_eq(c.sense[13], 0x09);
	c = run(tur, 6, 0);
	ck_assert_uint_eq(c.status, 0);
	/* injected errors */
	disk.sense_left = 2;
	disk.sense_key = 3;
	disk.sense_asc = 0x1100;
	c = run(tur, 6, 0);
	ck_assert_uint_eq(c.sense[2], 3);
	c = run(tur, 6, 0);
	ck_assert_uint_eq(c.status, 2);
	c = run(tur, 6, 0);
	ck_assert_uint_eq(c.status, 0);
}
END_TEST

START_TEST(scsi_unmap_and_read_only)
{
	memset(dbuf, 0xEE, 4096);
	uint8_t w10[10] = { 0x2A, 0, 0, 0, 0, 8, 0, 0, 8, 0 };
	ck_assert_uint_eq(run(w10, 10, 4096).status, 0);
	uint8_t *p = dbuf;
	memset(p, 0, 24);
	p[1] = 22;
	p[3] = 16;
	p[15] = 8;  /* LBA 8 */
	p[19] = 4;  /* 4 blocks */
	uint8_t um[10] = { 0x42, 0, 0, 0, 0, 0, 0, 0, 24, 0 };
	ck_assert_uint_eq(run(um, 10, 24).status, 0);
	uint8_t check[4096];
	ck_assert_int_eq(pread(disk.fd, check, 4096, 8 * 512), 4096);
	for (int i = 0; i < 2048; i++)
		ck_assert_uint_eq(check[i], 0);
	ck_assert_uint_eq(check[2048], 0xEE);
	disk.ro = true;
	struct shv_scsi_cmd c = run(w10, 10, 4096);
	ck_assert_uint_eq(c.status, 2);
	ck_assert_uint_eq(c.sense[2], 7);
	ck_assert_uint_eq(c.sense[12], 0x27);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("simvmbus_host");
	TCase *tr = tcase_create("ring");
	tcase_add_checked_fixture(tr, ring_setup, ring_teardown);
	tcase_add_test(tr, ring_in_wraps);
	tcase_add_test(tr, ring_in_rejects_guest_garbage);
	tcase_add_test(tr, ring_out_signals_like_hyperv);
	tcase_add_test(tr, ring_out_full_and_pending_send);
	tcase_add_test(tr, ring_in_pending_send_transition);
	suite_add_tcase(s, tr);
	TCase *tv = tcase_create("vmbus");
	tcase_add_checked_fixture(tv, vmbus_setup, vmbus_teardown);
	tcase_add_test(tv, vmbus_versions_and_connection_ids);
	tcase_add_test(tv, vmbus_old_host_refuses_connection_id_4);
	tcase_add_test(tv, vmbus_gpadl_checks);
	tcase_add_test(tv, vmbus_open_close_rescind);
	tcase_add_test(tv, random_input_never_hurts_the_host);
	suite_add_tcase(s, tv);
	TCase *ts = tcase_create("scsi");
	tcase_add_checked_fixture(ts, scsi_setup, scsi_teardown);
	tcase_add_test(ts, scsi_read_write_capacity);
	tcase_add_test(ts, scsi_inquiry_luns_and_errors);
	tcase_add_test(ts, scsi_unmap_and_read_only);
	suite_add_tcase(s, ts);
	return s;
}

int main(void)
{
	sim_log_init("test_simvmbus_host", SIM_LOG_ERROR);
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
