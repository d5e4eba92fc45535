/* SPDX-License-Identifier: MIT */
/*
 * `pvio sim virtio --blk` driven by a scripted vhost-user front end
 * (simvirtio_client.c): negotiation and config space, I/O on split and
 * packed rings checked against the image file itself, read-only disks,
 * multiqueue, reconnection, fault injection through the ctl socket, and
 * strictness - malformed vhost-user messages and descriptor chains get a
 * clean refusal, a log line, and the host keeps serving.
 */
#include <check.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>

#include "simvirtio_client.h"

#define QSIZE 64
#define IMG_SECTORS (64u * 2048u)   /* 64 MiB */

struct blk {
	struct svt_sim sim;
	struct svt_vu v;
	struct svt_q q[2];
	char sock[128], ctl[128], img[128];
};

static void start_sim(struct blk *b, const char *opts)
{
	char dev[256];
	snprintf(dev, sizeof(dev), "@/b.sock=@/disk.img,size=64M%s", opts);
	const char *args[] = { "--blk", dev, "--ctl", "@/ctl.sock", NULL };
	ck_assert_int_eq(svt_sim_start(&b->sim, 1, args), 0);
	svt_path(&b->sim, "b.sock", b->sock, sizeof(b->sock));
	svt_path(&b->sim, "ctl.sock", b->ctl, sizeof(b->ctl));
	svt_path(&b->sim, "disk.img", b->img, sizeof(b->img));
}

/* what every session accepts besides `want` */
static const uint64_t want_pf = 1ull << VU_PF_MQ | 1ull << VU_PF_REPLY_ACK |
				1ull << VU_PF_CONFIG | 1ull << VU_PF_STATUS;

/* connect, negotiate `want`, set up nq queues and DRIVER_OK */
static void session(struct blk *b, uint64_t want, unsigned nq)
{
	ck_assert_int_eq(svt_vu_connect(&b->v, b->sock), 0);
	want |= 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_BLK_F_FLUSH |
		1ull << VIRTIO_BLK_F_DISCARD | 1ull << VIRTIO_BLK_F_WRITE_ZEROES;
	ck_assert_int_eq(svt_vu_negotiate(&b->v, want, want_pf, 16u << 20), 0);
	ck_assert_int_eq(svt_vu_set_u64(&b->v, VU_SET_STATUS,
					VIRTIO_CONFIG_S_ACKNOWLEDGE |
						VIRTIO_CONFIG_S_DRIVER |
						VIRTIO_CONFIG_S_FEATURES_OK,
					true), 0);
	for (unsigned i = 0; i < nq; i++)
		ck_assert_int_eq(svt_q_setup(&b->v, &b->q[i], i, QSIZE), 0);
	ck_assert_int_eq(svt_vu_set_u64(&b->v, VU_SET_STATUS,
					VIRTIO_CONFIG_S_ACKNOWLEDGE |
						VIRTIO_CONFIG_S_DRIVER |
						VIRTIO_CONFIG_S_FEATURES_OK |
						VIRTIO_CONFIG_S_DRIVER_OK,
					true), 0);
}

static void finish(struct blk *b)
{
	svt_vu_close(&b->v);
	ck_assert_int_eq(svt_sim_stop(&b->sim), 0);
	/* the host removed its sockets */
	ck_assert_int_ne(access(b->sock, F_OK), 0);
	ck_assert_int_ne(access(b->ctl, F_OK), 0);
	/* the temporary directory goes at exit */
}

/* Publish one request (not kicked).  data is device-written for IN and
 * GET_ID.  nseg splits the data over that many descriptors. */
static int submit(struct svt_q *q, uint32_t type, uint64_t sector, void *data,
		  uint32_t len, unsigned nseg, bool indirect, uint8_t **status)
{
	struct virtio_blk_outhdr *h = svt_alloc(q->v, sizeof(*h), 16);
	uint8_t *st = svt_alloc(q->v, 1, 1);
	bool dw = type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID;
	struct svt_buf bufs[40];
	unsigned n = 0;
	h->type = type;
	h->sector = sector;
	bufs[n++] = (struct svt_buf){ h, sizeof(*h), false };
	for (unsigned i = 0; i < nseg && len; i++) {
		uint32_t piece = len / nseg;
		if (i == nseg - 1)
			piece = len - piece * (nseg - 1);
		bufs[n++] = (struct svt_buf){ (uint8_t *)data + (len / nseg) * i,
					      piece, dw };
	}
	*st = 0xee;
	bufs[n++] = (struct svt_buf){ st, 1, true };
	*status = st;
	return svt_q_add(q, bufs, n, indirect);
}

static uint8_t run(struct svt_q *q, uint32_t type, uint64_t sector, void *data,
		   uint32_t len, unsigned nseg, bool indirect, uint32_t *used_len)
{
	uint8_t *st;
	uint32_t id, l;
	int head = submit(q, type, sector, data, len, nseg ? nseg : 1, indirect, &st);
	ck_assert_int_ge(head, 0);
	svt_q_kick(q);
	ck_assert_msg(svt_q_wait(q, &id, &l, SVT_TIMEOUT_MS), "request not completed");
	ck_assert_uint_eq(id, (uint32_t)head);
	if (used_len)
		*used_len = l;
	return *st;
}

static void image_read(const struct blk *b, uint64_t off, void *buf, size_t len)
{
	int fd = open(b->img, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, buf, len, (off_t)off), (ssize_t)len);
	close(fd);
}

static bool all_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

START_TEST(negotiation_and_config)
{
	struct blk b;
	start_sim(&b, ",queues=2,seg_max=60");
	ck_assert_int_eq(svt_vu_connect(&b.v, b.sock), 0);
	ck_assert_int_eq(svt_vu_negotiate(&b.v, 1ull << VIRTIO_F_VERSION_1,
					  want_pf, 0), 0);
	const uint64_t must = 1ull << VIRTIO_F_VERSION_1 |
			      1ull << VIRTIO_RING_F_INDIRECT_DESC |
			      1ull << VIRTIO_RING_F_EVENT_IDX |
			      1ull << VIRTIO_F_RING_PACKED | 1ull << VU_F_PROTOCOL_FEATURES |
			      1ull << VIRTIO_BLK_F_SIZE_MAX | 1ull << VIRTIO_BLK_F_SEG_MAX |
			      1ull << VIRTIO_BLK_F_BLK_SIZE | 1ull << VIRTIO_BLK_F_FLUSH |
			      1ull << VIRTIO_BLK_F_TOPOLOGY | 1ull << VIRTIO_BLK_F_MQ |
			      1ull << VIRTIO_BLK_F_DISCARD |
			      1ull << VIRTIO_BLK_F_WRITE_ZEROES;
	ck_assert_uint_eq(b.v.features & must, must);
	ck_assert(!(b.v.features & 1ull << VIRTIO_BLK_F_RO));
	ck_assert(!(b.v.features & 1ull << VIRTIO_F_ACCESS_PLATFORM));
	ck_assert_uint_eq(b.v.pfeatures & want_pf, want_pf);
	uint64_t n;
	ck_assert_int_eq(svt_vu_get_u64(&b.v, VU_GET_QUEUE_NUM, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(svt_vu_get_u64(&b.v, VU_GET_MAX_MEM_SLOTS, &n), 0);
	ck_assert_uint_ge(n, 8);

	struct virtio_blk_config cfg;
	ck_assert_int_eq(svt_get_config(&b.v, 0, sizeof(cfg), &cfg), 0);
	ck_assert_uint_eq(cfg.capacity, IMG_SECTORS);
	ck_assert_uint_eq(cfg.seg_max, 60);
	ck_assert_uint_eq(cfg.blk_size, 512);
	ck_assert_uint_eq(cfg.num_queues, 2);
	ck_assert_uint_ge(cfg.size_max, 4096);
	ck_assert_uint_ge(cfg.max_discard_sectors, 1);
	ck_assert_uint_ge(cfg.max_discard_seg, 1);
	ck_assert_uint_ge(cfg.max_write_zeroes_sectors, 1);
	ck_assert_uint_eq(cfg.write_zeroes_may_unmap, 1);
	/* a piece of it, and a read past its end (size 0 = error) */
	uint32_t nq = 0;
	ck_assert_int_eq(svt_get_config(&b.v, offsetof(struct virtio_blk_config,
						       num_queues), 2, &nq), 0);
	ck_assert_uint_eq(nq, 2);
	uint8_t junk[64];
	ck_assert_int_eq(svt_get_config(&b.v, sizeof(cfg) - 4, 8, junk), 1);
	ck_assert_int_eq(svt_vu_get_u64(&b.v, VU_GET_STATUS, &n), 0);
	ck_assert_uint_eq(n, 0);
	finish(&b);
}
END_TEST

static void io_suite(struct blk *b, bool indirect)
{
	struct svt_q *q = &b->q[0];
	uint8_t *w = svt_alloc(&b->v, 65536, 4096), *r = svt_alloc(&b->v, 65536, 4096);
	uint8_t file[65536];
	uint32_t ul;

	for (unsigned i = 0; i < 65536; i++)
		w[i] = (uint8_t)(i * 7 + 3);
	/* write 64 KiB at sector 1000 in 16 segments, read it back in 5 */
	ck_assert_uint_eq(run(q, VIRTIO_BLK_T_OUT, 1000, w, 65536, 16, indirect, &ul),
			  VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(ul, 1);
	image_read(b, 1000 * 512, file, sizeof(file));
	ck_assert_mem_eq(file, w, sizeof(file));
	ck_assert_uint_eq(run(q, VIRTIO_BLK_T_IN, 1000, r, 65536, 5, indirect, &ul),
			  VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(ul, 65536 + 1);
	ck_assert_mem_eq(r, w, 65536);
	ck_assert_uint_eq(run(q, VIRTIO_BLK_T_FLUSH, 0, NULL, 0, 0, indirect, NULL),
			  VIRTIO_BLK_S_OK);
	/* GET_ID */
	char id[20];
	memset(r, 0x55, 20);
	ck_assert_uint_eq(run(q, VIRTIO_BLK_T_GET_ID, 0, r, 20, 1, indirect, &ul),
			  VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(ul, 21);
	memcpy(id, r, 20);
	ck_assert_str_eq(id, "pvio-blk0");
	/* DISCARD then WRITE_ZEROES: the image reads back zero there */
	struct virtio_blk_discard_write_zeroes *seg = svt_alloc(&b->v, 32, 16);
	seg[0] = (struct virtio_blk_discard_write_zeroes){ 1000, 16, 0 };
	seg[1] = (struct virtio_blk_discard_write_zeroes){ 1100, 8, 0 };
	ck_assert_uint_eq(run(q, VIRTIO_BLK_T_DISCARD, 0, seg, 32, 1, indirect, NULL),
			  VIRTIO_BLK_S_OK);
	image_read(b, 1000 * 512, file, sizeof(file));
	ck_assert(all_zero(file, 16 * 512));
	ck_assert_mem_eq(file + 16 * 512, w + 16 * 512, 100 * 512 - 16 * 512);
	ck_assert(all_zero(file + 100 * 512, 8 * 512));
	seg[0] = (struct virtio_blk_discard_write_zeroes){ 1020, 4,
							   VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP };
	seg[1] = (struct virtio_blk_discard_write_zeroes){ 1030, 2, 0 };
	ck_assert_uint_eq(run(q, VIRTIO_BLK_T_WRITE_ZEROES, 0, seg, 32, 1, indirect,
			      NULL), VIRTIO_BLK_S_OK);
	image_read(b, 1000 * 512, file, sizeof(file));
	ck_assert(all_zero(file + 20 * 512, 4 * 512));
	ck_assert(all_zero(file + 30 * 512, 2 * 512));
	ck_assert_mem_eq(file + 24 * 512, w + 24 * 512, 6 * 512);

	/* bad requests: a status, and the queue goes on */
	ck_assert_uint_eq(run(q, 77, 0, r, 512, 1, indirect, NULL),
			  VIRTIO_BLK_S_UNSUPP);
	ck_assert_uint_eq(run(q, VIRTIO_BLK_T_IN, IMG_SECTORS - 1, r, 1024, 1,
			      indirect, &ul), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(ul, 1);
	ck_assert_uint_eq(run(q, VIRTIO_BLK_T_OUT, 8, w, 100, 1, indirect, NULL),
			  VIRTIO_BLK_S_IOERR);   /* not whole sectors */
	ck_assert_uint_eq(run(q, VIRTIO_BLK_T_IN, 8, w, 0, 0, indirect, NULL),
			  VIRTIO_BLK_S_OK);      /* zero-length read is fine */
	ck_assert_uint_eq(run(q, VIRTIO_BLK_T_FLUSH, 5, NULL, 0, 0, indirect, NULL),
			  VIRTIO_BLK_S_IOERR);
	seg[0] = (struct virtio_blk_discard_write_zeroes){ 8, 8,
							   VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP };
	ck_assert_uint_eq(run(q, VIRTIO_BLK_T_DISCARD, 0, seg, 16, 1, indirect, NULL),
			  VIRTIO_BLK_S_UNSUPP);
	seg[0] = (struct virtio_blk_discard_write_zeroes){ IMG_SECTORS - 4, 8, 0 };
	ck_assert_uint_eq(run(q, VIRTIO_BLK_T_WRITE_ZEROES, 0, seg, 16, 1, indirect,
			      NULL), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(run(q, VIRTIO_BLK_T_DISCARD, 0, seg, 10, 1, indirect, NULL),
			  VIRTIO_BLK_S_IOERR);

	/* IN with device-readable data (a driver bug): IOERR */
	struct virtio_blk_outhdr *h = svt_alloc(&b->v, 16, 16);
	uint8_t *st = svt_alloc(&b->v, 1, 1);
	h->type = VIRTIO_BLK_T_IN;
	h->sector = 0;
	struct svt_buf bad[3] = { { h, 16, false }, { w, 512, false }, { st, 1, true } };
	int head = svt_q_add(q, bad, 3, indirect);
	svt_q_kick(q);
	uint32_t gid, gl;
	ck_assert(svt_q_wait(q, &gid, &gl, SVT_TIMEOUT_MS));
	ck_assert_uint_eq(gid, (uint32_t)head);
	ck_assert_uint_eq(*st, VIRTIO_BLK_S_IOERR);
	ck_assert(svt_sim_alive(&b->sim));
	ck_assert(svt_log_has(&b->sim, "device-readable data bytes"));
	ck_assert(svt_log_has(&b->sim, "beyond the end of the disk"));
	ck_assert(svt_log_has(&b->sim, "unsupported request type"));
}

START_TEST(io_split_event_idx)
{
	struct blk b;
	start_sim(&b, "");
	session(&b, 1ull << VIRTIO_RING_F_EVENT_IDX, 1);
	io_suite(&b, false);
	/* the device kept the kick window in avail_event */
	ck_assert_uint_eq(vring_avail_event(&b.q[0].vr), b.q[0].vr.avail->idx);
	finish(&b);
}
END_TEST

START_TEST(io_split_indirect)
{
	struct blk b;
	start_sim(&b, "");
	session(&b, 1ull << VIRTIO_RING_F_INDIRECT_DESC, 1);
	io_suite(&b, true);
	finish(&b);
}
END_TEST

START_TEST(io_packed)
{
	struct blk b;
	start_sim(&b, "");
	session(&b, 1ull << VIRTIO_F_RING_PACKED | 1ull << VIRTIO_RING_F_EVENT_IDX |
			    1ull << VIRTIO_RING_F_INDIRECT_DESC, 1);
	ck_assert(b.q[0].packed);
	io_suite(&b, false);
	io_suite(&b, true);
	finish(&b);
}
END_TEST

START_TEST(read_only_disk)
{
	struct blk b;
	start_sim(&b, ",ro,serial=RO-DISK-0001");
	session(&b, 1ull << VIRTIO_BLK_F_RO | 1ull << VIRTIO_BLK_F_DISCARD, 1);
	ck_assert(b.v.features & 1ull << VIRTIO_BLK_F_RO);
	ck_assert(!(b.v.features & 1ull << VIRTIO_BLK_F_DISCARD));
	ck_assert(!(b.v.features & 1ull << VIRTIO_BLK_F_WRITE_ZEROES));
	uint8_t *w = svt_alloc(&b.v, 4096, 4096);
	memset(w, 0xaa, 4096);
	ck_assert_uint_eq(run(&b.q[0], VIRTIO_BLK_T_OUT, 0, w, 4096, 1, false, NULL),
			  VIRTIO_BLK_S_IOERR);
	uint8_t file[4096];
	image_read(&b, 0, file, sizeof(file));
	ck_assert(all_zero(file, sizeof(file)));
	ck_assert_uint_eq(run(&b.q[0], VIRTIO_BLK_T_IN, 0, w, 4096, 1, false, NULL),
			  VIRTIO_BLK_S_OK);
	ck_assert(all_zero(w, 4096));
	ck_assert_uint_eq(run(&b.q[0], VIRTIO_BLK_T_GET_ID, 0, w, 20, 1, false, NULL),
			  VIRTIO_BLK_S_OK);
	ck_assert_mem_eq(w, "RO-DISK-0001\0", 13);
	ck_assert(svt_log_has(&b.sim, "write to a read-only disk"));
	finish(&b);
}
END_TEST

START_TEST(multiqueue_and_reconnect)
{
	struct blk b;
	start_sim(&b, ",queues=2");
	session(&b, 1ull << VIRTIO_RING_F_EVENT_IDX, 2);
	uint8_t *w = svt_alloc(&b.v, 8192, 4096);
	memset(w, 0x5a, 8192);
	ck_assert_uint_eq(run(&b.q[1], VIRTIO_BLK_T_OUT, 64, w, 8192, 2, false, NULL),
			  VIRTIO_BLK_S_OK);
	/* stopping a ring returns where it stopped */
	uint32_t s[2] = { 1, 0 };
	struct vu_hdr h;
	ck_assert_int_eq(svt_vu_send(&b.v, VU_GET_VRING_BASE, VU_FLAG_VERSION, s, 8,
				     NULL, 0), 0);
	ck_assert_int_eq(svt_vu_recv(&b.v, &h, s, 8), 0);
	ck_assert_uint_eq(s[0], 1);
	ck_assert_uint_eq(s[1], 1);
	svt_vu_close(&b.v);
	/* a new front end gets a fresh device with the same disk */
	session(&b, 1ull << VIRTIO_F_RING_PACKED, 1);
	uint8_t *r = svt_alloc(&b.v, 8192, 4096);
	ck_assert_uint_eq(run(&b.q[0], VIRTIO_BLK_T_IN, 64, r, 8192, 1, false, NULL),
			  VIRTIO_BLK_S_OK);
	for (unsigned i = 0; i < 8192; i++)
		ck_assert_uint_eq(r[i], 0x5a);
	char out[4096];
	ck_assert_int_eq(svt_ctl(b.ctl, "status", out, sizeof(out)), 0);
	ck_assert_ptr_nonnull(strstr(out, "connections 2"));
	finish(&b);
}
END_TEST

/* wait until `stats` shows key >= want on vq0 */
static bool wait_stat(struct blk *b, const char *key, long long want)
{
	for (int i = 0; i < 1000; i++) {
		if (svt_stat(b->ctl, "blk0", "vq0", key) >= want)
			return true;
		poll(NULL, 0, 10);
	}
	return false;
}

START_TEST(fault_injection)
{
	struct blk b;
	char out[4096];
	uint32_t id, len;
	uint8_t *st[4];
	start_sim(&b, "");
	session(&b, 1ull << VIRTIO_RING_F_EVENT_IDX, 1);
	struct svt_q *q = &b.q[0];
	uint8_t *d = svt_alloc(&b.v, 4 * 4096, 4096);

	ck_assert_int_eq(svt_ctl(b.ctl, "help", out, sizeof(out)), 0);
	ck_assert_ptr_nonnull(strstr(out, "corrupt DEV"));
	ck_assert_int_lt(svt_ctl(b.ctl, "hang nosuchdev on", out, sizeof(out)), 0);
	ck_assert_int_lt(svt_ctl(b.ctl, "frobnicate", out, sizeof(out)), 0);

	/* IOERR for the next request only */
	ck_assert_int_eq(svt_ctl(b.ctl, "ioerr blk0 1", out, sizeof(out)), 0);
	ck_assert_uint_eq(run(q, VIRTIO_BLK_T_IN, 0, d, 4096, 1, false, NULL),
			  VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(run(q, VIRTIO_BLK_T_IN, 0, d, 4096, 1, false, NULL),
			  VIRTIO_BLK_S_OK);

	/* out of order: four requests seen in one batch complete reversed */
	ck_assert_int_eq(svt_ctl(b.ctl, "ooo blk0 on", out, sizeof(out)), 0);
	int heads[4];
	for (int i = 0; i < 4; i++)
		heads[i] = submit(q, VIRTIO_BLK_T_IN, (uint64_t)i * 8, d + i * 4096,
				  4096, 1, false, &st[i]);
	svt_q_kick(q);
	for (int i = 3; i >= 0; i--) {
		ck_assert(svt_q_wait(q, &id, &len, SVT_TIMEOUT_MS));
		ck_assert_uint_eq(id, (uint32_t)heads[i]);
		ck_assert_uint_eq(*st[i], 0);
	}
	ck_assert_int_eq(svt_ctl(b.ctl, "ooo blk0 off", out, sizeof(out)), 0);

	/* corrupted used id, then used len */
	ck_assert_int_eq(svt_ctl(b.ctl, "corrupt blk0 id", out, sizeof(out)), 0);
	submit(q, VIRTIO_BLK_T_IN, 0, d, 512, 1, false, &st[0]);
	svt_q_kick(q);
	ck_assert(svt_q_wait(q, &id, &len, SVT_TIMEOUT_MS));
	ck_assert_uint_eq(id, QSIZE);
	ck_assert_int_eq(svt_ctl(b.ctl, "corrupt blk0 len", out, sizeof(out)), 0);
	int hd = submit(q, VIRTIO_BLK_T_IN, 0, d, 512, 1, false, &st[0]);
	svt_q_kick(q);
	ck_assert(svt_q_wait(q, &id, &len, SVT_TIMEOUT_MS));
	ck_assert_uint_eq(id, (uint32_t)hd);
	ck_assert_uint_eq(len, 513 + 0x10000);

	/* hang: the device took the request but holds the completion */
	ck_assert_int_eq(svt_ctl(b.ctl, "hang blk0 on", out, sizeof(out)), 0);
	hd = submit(q, VIRTIO_BLK_T_IN, 0, d, 512, 1, false, &st[0]);
	svt_q_kick(q);
	ck_assert(wait_stat(&b, "pending", 1));
	ck_assert_int_eq(svt_q_get(q, &id, &len), 0);
	ck_assert_int_eq(svt_ctl(b.ctl, "hang blk0 off", out, sizeof(out)), 0);
	ck_assert(svt_q_wait(q, &id, &len, SVT_TIMEOUT_MS));
	ck_assert_uint_eq(id, (uint32_t)hd);

	/* delay: completes later, counted */
	ck_assert_int_eq(svt_ctl(b.ctl, "delay blk0 30", out, sizeof(out)), 0);
	ck_assert_uint_eq(run(q, VIRTIO_BLK_T_IN, 0, d, 512, 1, false, NULL), 0);
	ck_assert_int_ge(svt_stat(b.ctl, "blk0", "vq0", "delayed"), 1);
	ck_assert_int_eq(svt_ctl(b.ctl, "delay blk0 0", out, sizeof(out)), 0);

	/* disconnect: the front end sees EOF; a new session works */
	ck_assert_int_eq(svt_ctl(b.ctl, "disconnect blk0", out, sizeof(out)), 0);
	ck_assert(svt_vu_closed(&b.v, SVT_TIMEOUT_MS));
	ck_assert_int_lt(svt_ctl(b.ctl, "disconnect blk0", out, sizeof(out)), 0);
	svt_vu_close(&b.v);
	session(&b, 0, 1);
	ck_assert_uint_eq(run(&b.q[0], VIRTIO_BLK_T_IN, 0, d, 512, 1, false, NULL), 0);
	finish(&b);
}
END_TEST

/* ------------------------------------------------------------ strictness */
/* After a refused message, the connection is gone and a new one works. */
static void expect_refused(struct blk *b, const char *log)
{
	ck_assert_msg(svt_vu_closed(&b->v, SVT_TIMEOUT_MS),
		      "connection not closed (expected: %s)", log);
	svt_vu_close(&b->v);
	ck_assert_msg(svt_log_has(&b->sim, log), "log lacks '%s'", log);
	ck_assert(svt_sim_alive(&b->sim));
}

START_TEST(strict_messages)
{
	struct blk b;
	struct vu_hdr h;
	uint64_t v64;
	start_sim(&b, "");

	ck_assert_int_eq(svt_vu_connect(&b.v, b.sock), 0);   /* bad version */
	ck_assert_int_eq(svt_vu_send(&b.v, VU_GET_FEATURES, 2, NULL, 0, NULL, 0), 0);
	expect_refused(&b, "version must be 1");

	ck_assert_int_eq(svt_vu_connect(&b.v, b.sock), 0);   /* reply bit */
	ck_assert_int_eq(svt_vu_send(&b.v, VU_GET_FEATURES, 1 | VU_FLAG_REPLY, NULL,
				     0, NULL, 0), 0);
	expect_refused(&b, "no reply bit");

	ck_assert_int_eq(svt_vu_connect(&b.v, b.sock), 0);   /* huge payload */
	struct vu_hdr big = { VU_SET_FEATURES, 1, 1u << 20 };
	ck_assert_int_eq(write(b.v.sock, &big, 12), 12);
	expect_refused(&b, "-byte payload (at most");

	ck_assert_int_eq(svt_vu_connect(&b.v, b.sock), 0);   /* unknown request */
	ck_assert_int_eq(svt_vu_send(&b.v, 99, 1, NULL, 0, NULL, 0), 0);
	expect_refused(&b, "(99) is not supported");

	/* with REPLY_ACK the same is a NACK and the session goes on */
	ck_assert_int_eq(svt_vu_connect(&b.v, b.sock), 0);
	ck_assert_int_eq(svt_vu_negotiate(&b.v, 0, want_pf, 0), 0);
	ck_assert_int_eq(svt_vu_send(&b.v, 99, 1 | VU_FLAG_NEED_REPLY, NULL, 0,
				     NULL, 0), 0);
	ck_assert_int_eq(svt_vu_recv(&b.v, &h, &v64, 8), 0);
	ck_assert_uint_eq(h.request, 99);
	ck_assert_uint_ne(v64, 0);
	ck_assert_int_eq(svt_vu_set_u64(&b.v, VU_SET_FEATURES, 1ull << 60, true), 1);
	ck_assert_int_eq(svt_vu_get_u64(&b.v, VU_GET_FEATURES, &v64), 0);
	/* a wrong payload size for a known request */
	ck_assert_int_eq(svt_vu_send(&b.v, VU_SET_FEATURES, 1, &v64, 4, NULL, 0), 0);
	expect_refused(&b, "4-byte payload (expected 8)");

	ck_assert_int_eq(svt_vu_connect(&b.v, b.sock), 0);   /* unoffered feature */
	ck_assert_int_eq(svt_vu_set_u64(&b.v, VU_SET_FEATURES, 1ull << 60, false), 0);
	expect_refused(&b, "were not offered");

	/* memory table: a region but no fd; a region longer than its fd */
	ck_assert_int_eq(svt_vu_connect(&b.v, b.sock), 0);
	uint64_t tab[5] = { 1, 0x100000, 1 << 20, 0x7f0000000000ull, 0 };
	ck_assert_int_eq(svt_vu_send(&b.v, VU_SET_MEM_TABLE, 1, tab, 40, NULL, 0), 0);
	expect_refused(&b, "with 0 file descriptors (expected 1)");
	ck_assert_int_eq(svt_vu_connect(&b.v, b.sock), 0);
	ck_assert_int_eq(svt_vu_negotiate(&b.v, 0, 0, 65536), 0);
	tab[2] = 1 << 20;
	ck_assert_int_eq(svt_vu_send(&b.v, VU_SET_MEM_TABLE, 1, tab, 40, &b.v.memfd,
				     1), 0);
	expect_refused(&b, "but the file is only 0x10000 bytes long");
	ck_assert_int_eq(svt_vu_connect(&b.v, b.sock), 0);   /* 9 regions */
	uint64_t tab9[1 + 4 * 9] = { 9 };
	ck_assert_int_eq(svt_vu_send(&b.v, VU_SET_MEM_TABLE, 1, tab9, sizeof(tab9),
				     NULL, 0), 0);
	expect_refused(&b, "with 9 regions");

	/* vring index out of range; kick fd missing; bad kick payload */
	ck_assert_int_eq(svt_vu_connect(&b.v, b.sock), 0);
	ck_assert_int_eq(svt_vu_state(&b.v, VU_SET_VRING_NUM, 7, 64), 0);
	expect_refused(&b, "for vring 7, but the device has 1");
	ck_assert_int_eq(svt_vu_connect(&b.v, b.sock), 0);
	v64 = 0;
	ck_assert_int_eq(svt_vu_send(&b.v, VU_SET_VRING_KICK, 1, &v64, 8, NULL, 0), 0);
	expect_refused(&b, "SET_VRING_KICK with 0 file descriptors");
	ck_assert_int_eq(svt_vu_connect(&b.v, b.sock), 0);
	v64 = 1u << 8;
	ck_assert_int_eq(svt_vu_send(&b.v, VU_SET_VRING_KICK, 1, &v64, 8, NULL, 0), 0);
	expect_refused(&b, "polling");

	/* rings the device cannot use */
	ck_assert_int_eq(svt_vu_connect(&b.v, b.sock), 0);   /* outside memory */
	ck_assert_int_eq(svt_vu_negotiate(&b.v, 1ull << VIRTIO_F_VERSION_1, 0,
					  1 << 20), 0);
	struct svt_q q;
	memset(&q, 0, sizeof(q));
	ck_assert_int_eq(svt_vu_state(&b.v, VU_SET_VRING_NUM, 0, 64), 0);
	struct {
		uint32_t index, flags;
		uint64_t desc, used, avail, log;
	} a = { 0, 0, 0x1000, 0x3000, 0x2000, 0 };
	ck_assert_int_eq(svt_vu_send(&b.v, VU_SET_VRING_ADDR, 1, &a, sizeof(a), NULL,
				     0), 0);
	int kfd = eventfd(0, EFD_CLOEXEC);
	v64 = 0;
	ck_assert_int_eq(svt_vu_send(&b.v, VU_SET_VRING_KICK, 1, &v64, 8, &kfd, 1), 0);
	close(kfd);
	expect_refused(&b, "is outside the memory table");
	ck_assert_int_eq(svt_vu_connect(&b.v, b.sock), 0);   /* size not 2^n */
	ck_assert_int_eq(svt_vu_negotiate(&b.v, 1ull << VIRTIO_F_VERSION_1, 0,
					  1 << 20), 0);
	(void)svt_q_setup(&b.v, &q, 0, 48);   /* refused at the kick */
	expect_refused(&b, "split ring size 48 is not a power of two");

	/* a front end that stalls mid-message is dropped, not waited for */
	ck_assert_int_eq(svt_vu_connect(&b.v, b.sock), 0);
	struct vu_hdr part = { VU_SET_FEATURES, 1, 8 };
	ck_assert_int_eq(write(b.v.sock, &part, 12), 12);
	ck_assert_int_eq(write(b.v.sock, "abcd", 4), 4);
	expect_refused(&b, "timed out");

	/* only one front end at a time */
	struct svt_vu second;
	ck_assert_int_eq(svt_vu_connect(&b.v, b.sock), 0);
	ck_assert_int_eq(svt_vu_get_u64(&b.v, VU_GET_FEATURES, &v64), 0);
	ck_assert_int_eq(svt_vu_connect(&second, b.sock), 0);
	ck_assert(svt_vu_closed(&second, SVT_TIMEOUT_MS));
	svt_vu_close(&second);
	ck_assert(svt_log_has(&b.sim, "refusing a second front end"));

	/* and after all that, a normal session works */
	svt_vu_close(&b.v);
	session(&b, 0, 1);
	uint8_t *d = svt_alloc(&b.v, 512, 512);
	ck_assert_uint_eq(run(&b.q[0], VIRTIO_BLK_T_IN, 0, d, 512, 1, false, NULL), 0);
	finish(&b);
}
END_TEST

/* Wait until GET_STATUS reports DEVICE_NEEDS_RESET. */
static bool needs_reset(struct blk *b)
{
	uint64_t s = 0;
	for (int i = 0; i < 1000; i++) {
		if (svt_vu_get_u64(&b->v, VU_GET_STATUS, &s) < 0)
			return false;
		if (s & VIRTIO_CONFIG_S_NEEDS_RESET)
			return true;
		poll(NULL, 0, 10);
	}
	return false;
}

/* Publish a malformed chain (built by fn on q), check the device refuses
 * the queue without touching the used ring, then reset and recover. */
static void bad_chain(struct blk *b, void (*fn)(struct svt_q *q, uint8_t *mem),
		      const char *log)
{
	struct svt_q *q = &b->q[0];
	uint16_t used_before = q->vr.used->idx;
	fn(q, b->v.mem);
	svt_q_kick(q);
	ck_assert_msg(needs_reset(b), "no NEEDS_RESET for: %s", log);
	ck_assert_uint_eq(q->vr.used->idx, used_before);
	ck_assert_msg(svt_log_has(&b->sim, log), "log lacks '%s'", log);
	/* reset: the front end sets the queue up again and goes on */
	ck_assert_int_eq(svt_vu_set_u64(&b->v, VU_SET_STATUS, 0, true), 0);
	uint64_t s;
	ck_assert_int_eq(svt_vu_get_u64(&b->v, VU_GET_STATUS, &s), 0);
	ck_assert_uint_eq(s, 0);
	close(q->kick);
	close(q->call);
	ck_assert_int_eq(svt_q_setup(&b->v, q, 0, QSIZE), 0);
	ck_assert_int_eq(svt_vu_set_u64(&b->v, VU_SET_STATUS,
					VIRTIO_CONFIG_S_ACKNOWLEDGE |
						VIRTIO_CONFIG_S_DRIVER |
						VIRTIO_CONFIG_S_FEATURES_OK |
						VIRTIO_CONFIG_S_DRIVER_OK,
					true), 0);
	uint8_t *d = svt_alloc(&b->v, 512, 512);
	ck_assert_uint_eq(run(q, VIRTIO_BLK_T_IN, 0, d, 512, 1, false, NULL), 0);
}

static struct virtio_blk_outhdr *hdr_in(uint8_t *mem)
{
	struct virtio_blk_outhdr *h = (void *)(mem + (15u << 20));
	h->type = VIRTIO_BLK_T_IN;
	h->sector = 0;
	return h;
}

static void c_loop(struct svt_q *q, uint8_t *mem)
{
	q->vr.desc[0] = (struct vring_desc){ svt_gpa(hdr_in(mem)), 16, VRING_DESC_F_NEXT, 1 };
	q->vr.desc[1] = (struct vring_desc){ svt_gpa(mem + (14u << 20)), 512,
					     VRING_DESC_F_NEXT, 0 };
	svt_q_publish_head(q, 0);
}

static void c_outside(struct svt_q *q, uint8_t *mem)
{
	q->vr.desc[0] = (struct vring_desc){ svt_gpa(hdr_in(mem)), 16, VRING_DESC_F_NEXT, 1 };
	q->vr.desc[1] = (struct vring_desc){ svt_gpa(mem) + (16u << 20) - 100, 512,
					     VRING_DESC_F_WRITE, 0 };
	svt_q_publish_head(q, 0);
}

static void c_order(struct svt_q *q, uint8_t *mem)
{
	q->vr.desc[0] = (struct vring_desc){ svt_gpa(mem + (14u << 20)), 1,
					     VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1 };
	q->vr.desc[1] = (struct vring_desc){ svt_gpa(hdr_in(mem)), 16, 0, 0 };
	svt_q_publish_head(q, 0);
}

static void c_nostatus(struct svt_q *q, uint8_t *mem)
{
	q->vr.desc[0] = (struct vring_desc){ svt_gpa(hdr_in(mem)), 16, 0, 0 };
	svt_q_publish_head(q, 0);
}

static void c_shorthdr(struct svt_q *q, uint8_t *mem)
{
	q->vr.desc[0] = (struct vring_desc){ svt_gpa(hdr_in(mem)), 8, VRING_DESC_F_NEXT, 1 };
	q->vr.desc[1] = (struct vring_desc){ svt_gpa(mem + (14u << 20)), 1,
					     VRING_DESC_F_WRITE, 0 };
	svt_q_publish_head(q, 0);
}

static void c_head(struct svt_q *q, uint8_t *mem)
{
	(void)mem;
	svt_q_publish_head(q, 4000);
}

static void c_jump(struct svt_q *q, uint8_t *mem)
{
	(void)mem;
	q->vr.avail->idx = (uint16_t)(q->vr.avail->idx + QSIZE + 1);
}

static void c_nested(struct svt_q *q, uint8_t *mem)
{
	struct vring_desc *t = (void *)(mem + (13u << 20));
	t[0] = (struct vring_desc){ svt_gpa(t), 32, VRING_DESC_F_INDIRECT, 0 };
	q->vr.desc[0] = (struct vring_desc){ svt_gpa(t), 32, VRING_DESC_F_INDIRECT, 0 };
	svt_q_publish_head(q, 0);
}

START_TEST(strict_descriptors)
{
	struct blk b;
	start_sim(&b, "");
	session(&b, 1ull << VIRTIO_RING_F_INDIRECT_DESC, 1);
	bad_chain(&b, c_loop, "longer than the queue size 64 (a loop?)");
	bad_chain(&b, c_outside, "lies outside guest memory");
	bad_chain(&b, c_order, "device-readable descriptor follows");
	bad_chain(&b, c_nostatus, "no device-writable status byte");
	bad_chain(&b, c_shorthdr, "has a 8-byte header");
	bad_chain(&b, c_head, "names descriptor 4000");
	bad_chain(&b, c_jump, "entries ahead of the device's");
	bad_chain(&b, c_nested, "nested indirect");
	ck_assert(svt_sim_alive(&b.sim));
	finish(&b);
}
END_TEST

static bool needs_reset(struct blk *b);

/* ADD_MEM_REG / REM_MEM_REG (CONFIGURE_MEM_SLOTS), a memory table
 * replaced under running rings, and stopping and restarting a ring on the
 * same connection with GET_VRING_BASE / SET_VRING_BASE */
START_TEST(memory_slots_and_restart)
{
	struct blk b;
	uint64_t v64;
	start_sim(&b, "");
	ck_assert_int_eq(svt_vu_connect(&b.v, b.sock), 0);
	ck_assert_int_eq(svt_vu_negotiate(&b.v, 1ull << VIRTIO_F_VERSION_1,
					  want_pf | 1ull << VU_PF_CONFIGURE_MEM_SLOTS,
					  0), 0);
	ck_assert(b.v.packed & 1ull << VU_PF_CONFIGURE_MEM_SLOTS);
	ck_assert_int_eq(svt_vu_get_u64(&b.v, VU_GET_MAX_MEM_SLOTS, &v64), 0);
	ck_assert_uint_ge(v64, 2);
	/* rings in one memfd, data in another, each added on its own */
	int fd[2];
	uint8_t *m[2];
	for (int i = 0; i < 2; i++) {
		fd[i] = memfd_create("slot", MFD_CLOEXEC);
		ck_assert_int_eq(ftruncate(fd[i], 1 << 20), 0);
		m[i] = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, fd[i], 0);
		ck_assert_ptr_ne(m[i], MAP_FAILED);
		uint64_t reg[5] = { 0, svt_gpa(m[i]), 1 << 20, svt_gpa(m[i]), 0 };
		ck_assert_int_eq(svt_vu_send(&b.v, VU_ADD_MEM_REG,
					     VU_FLAG_VERSION | VU_FLAG_NEED_REPLY, reg,
					     sizeof(reg), &fd[i], 1), 0);
		struct vu_hdr h;
		ck_assert_int_eq(svt_vu_recv(&b.v, &h, &v64, 8), 0);
		ck_assert_uint_eq(v64, 0);
	}
	/* the client allocates from the first region */
	b.v.mem = m[0];
	b.v.memsize = 1 << 20;
	b.v.memfd = fd[0];
	ck_assert_int_eq(svt_q_setup(&b.v, &b.q[0], 0, QSIZE), 0);
	ck_assert_int_eq(svt_vu_set_u64(&b.v, VU_SET_STATUS,
					VIRTIO_CONFIG_S_FEATURES_OK |
						VIRTIO_CONFIG_S_DRIVER_OK,
					true), 0);
	uint8_t *data = m[1];
	memset(data, 0x3c, 4096);
	ck_assert_uint_eq(run(&b.q[0], VIRTIO_BLK_T_OUT, 16, data, 4096, 1, false,
			      NULL), 0);

	/* stop the ring, restart it where it stopped */
	uint32_t st[2] = { 0, 0 };
	struct vu_hdr h;
	ck_assert_int_eq(svt_vu_send(&b.v, VU_GET_VRING_BASE, VU_FLAG_VERSION, st, 8,
				     NULL, 0), 0);
	ck_assert_int_eq(svt_vu_recv(&b.v, &h, st, 8), 0);
	ck_assert_uint_eq(st[1], 1);
	ck_assert_int_eq(svt_vu_state(&b.v, VU_SET_VRING_BASE, 0, st[1]), 0);
	int kfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	v64 = 0;
	ck_assert_int_eq(svt_vu_send(&b.v, VU_SET_VRING_KICK, VU_FLAG_VERSION, &v64,
				     8, &kfd, 1), 0);
	close(b.q[0].kick);
	b.q[0].kick = kfd;
	memset(data, 0, 4096);
	ck_assert_uint_eq(run(&b.q[0], VIRTIO_BLK_T_IN, 16, data, 4096, 1, false,
			      NULL), 0);
	ck_assert_uint_eq(data[4095], 0x3c);

	/* the same memory as one SET_MEM_TABLE under the running ring */
	uint64_t tab[1 + 8] = { 2, svt_gpa(m[0]), 1 << 20, svt_gpa(m[0]), 0,
				svt_gpa(m[1]), 1 << 20, svt_gpa(m[1]), 0 };
	ck_assert_int_eq(svt_vu_send(&b.v, VU_SET_MEM_TABLE,
				     VU_FLAG_VERSION | VU_FLAG_NEED_REPLY, tab,
				     sizeof(tab), fd, 2), 0);
	ck_assert_int_eq(svt_vu_recv(&b.v, &h, &v64, 8), 0);
	ck_assert_uint_eq(v64, 0);
	ck_assert_uint_eq(run(&b.q[0], VIRTIO_BLK_T_IN, 16, data, 4096, 1, false,
			      NULL), 0);

	/* the data region goes: a buffer there is outside guest memory now */
	uint64_t reg[5] = { 0, svt_gpa(m[1]), 1 << 20, svt_gpa(m[1]), 0 };
	ck_assert_int_eq(svt_vu_send(&b.v, VU_REM_MEM_REG,
				     VU_FLAG_VERSION | VU_FLAG_NEED_REPLY, reg,
				     sizeof(reg), NULL, 0), 0);
	ck_assert_int_eq(svt_vu_recv(&b.v, &h, &v64, 8), 0);
	ck_assert_uint_eq(v64, 0);
	uint8_t *stp;
	submit(&b.q[0], VIRTIO_BLK_T_IN, 16, data, 4096, 1, false, &stp);
	svt_q_kick(&b.q[0]);
	ck_assert(needs_reset(&b));
	ck_assert(svt_log_has(&b.sim, "lies outside guest memory"));
	/* removing it again is refused (NACK) */
	ck_assert_int_eq(svt_vu_send(&b.v, VU_REM_MEM_REG,
				     VU_FLAG_VERSION | VU_FLAG_NEED_REPLY, reg,
				     sizeof(reg), NULL, 0), 0);
	ck_assert_int_eq(svt_vu_recv(&b.v, &h, &v64, 8), 0);
	ck_assert_uint_ne(v64, 0);
	b.v.mem = NULL;    /* not the client's to unmap */
	b.v.memfd = -1;
	for (int i = 0; i < 2; i++) {
		munmap(m[i], 1 << 20);
		close(fd[i]);
	}
	finish(&b);
}
END_TEST

START_TEST(unnegotiated_types)
{
	struct blk b;
	start_sim(&b, "");
	ck_assert_int_eq(svt_vu_connect(&b.v, b.sock), 0);
	ck_assert_int_eq(svt_vu_negotiate(&b.v, 1ull << VIRTIO_F_VERSION_1, want_pf,
					  1u << 20), 0);
	ck_assert_int_eq(svt_q_setup(&b.v, &b.q[0], 0, QSIZE), 0);
	ck_assert_int_eq(svt_vu_set_u64(&b.v, VU_SET_STATUS,
					VIRTIO_CONFIG_S_DRIVER_OK |
						VIRTIO_CONFIG_S_FEATURES_OK,
					true), 0);
	struct virtio_blk_discard_write_zeroes *seg = svt_alloc(&b.v, 16, 16);
	*seg = (struct virtio_blk_discard_write_zeroes){ 0, 8, 0 };
	ck_assert_uint_eq(run(&b.q[0], VIRTIO_BLK_T_FLUSH, 0, NULL, 0, 0, false,
			      NULL), VIRTIO_BLK_S_UNSUPP);
	ck_assert_uint_eq(run(&b.q[0], VIRTIO_BLK_T_DISCARD, 0, seg, 16, 1, false,
			      NULL), VIRTIO_BLK_S_UNSUPP);
	ck_assert_uint_eq(run(&b.q[0], VIRTIO_BLK_T_WRITE_ZEROES, 0, seg, 16, 1,
			      false, NULL), VIRTIO_BLK_S_UNSUPP);
	ck_assert(svt_log_has(&b.sim, "FLUSH was not negotiated"));
	finish(&b);
}
END_TEST

START_TEST(limits_seg_max)
{
	struct blk b;
	start_sim(&b, ",seg_max=4,size_max=8192,bs=4096");
	session(&b, 0, 1);
	struct virtio_blk_config cfg;
	ck_assert_int_eq(svt_get_config(&b.v, 0, sizeof(cfg), &cfg), 0);
	ck_assert_uint_eq(cfg.blk_size, 4096);
	uint8_t *d = svt_alloc(&b.v, 65536, 4096);
	/* 4 segments are fine, 5 are not; a 16 KiB segment is too long */
	ck_assert_uint_eq(run(&b.q[0], VIRTIO_BLK_T_IN, 0, d, 16384, 4, false, NULL), 0);
	ck_assert_uint_eq(run(&b.q[0], VIRTIO_BLK_T_IN, 0, d, 20480, 5, false, NULL),
			  VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(run(&b.q[0], VIRTIO_BLK_T_IN, 0, d, 16384, 1, false, NULL),
			  VIRTIO_BLK_S_IOERR);
	/* 4 KiB logical blocks: 512-byte granularity is refused */
	ck_assert_uint_eq(run(&b.q[0], VIRTIO_BLK_T_IN, 1, d, 4096, 1, false, NULL),
			  VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(run(&b.q[0], VIRTIO_BLK_T_IN, 8, d, 512, 1, false, NULL),
			  VIRTIO_BLK_S_IOERR);
	/* FLUSH, DISCARD accepted by session(); GET_ID needs nothing */
	ck_assert_uint_eq(run(&b.q[0], VIRTIO_BLK_T_FLUSH, 0, NULL, 0, 0, false,
			      NULL), 0);
	ck_assert(svt_log_has(&b.sim, "exceed seg_max 4"));
	ck_assert(svt_log_has(&b.sim, "exceeds size_max 8192"));
	finish(&b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("simvirtio_blk");
	TCase *tc = tcase_create("blk");
	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, svt_suite_setup, svt_suite_teardown);
	tcase_add_test(tc, negotiation_and_config);
	tcase_add_test(tc, io_split_event_idx);
	tcase_add_test(tc, io_split_indirect);
	tcase_add_test(tc, io_packed);
	tcase_add_test(tc, read_only_disk);
	tcase_add_test(tc, multiqueue_and_reconnect);
	tcase_add_test(tc, fault_injection);
	tcase_add_test(tc, strict_messages);
	tcase_add_test(tc, strict_descriptors);
	tcase_add_test(tc, memory_slots_and_restart);
	tcase_add_test(tc, unnegotiated_types);
	tcase_add_test(tc, limits_seg_max);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
