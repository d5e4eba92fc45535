/* SPDX-License-Identifier: MIT */
/*
 * Random input against `pvio sim virtio` (run under ASan/UBSan in the
 * sanitizer build): vhost-user messages with random ids, flags, sizes and
 * payloads, and descriptor rings full of random descriptors, split and
 * packed.  The host must refuse, stop queues or answer - never crash,
 * hang or write outside what the driver offered.  Deterministic: a fixed
 * seed per case.
 */
#include <check.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>

#include "simvirtio_client.h"

#define QSIZE 16

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}

static void start(struct svt_sim *s, char *sock, char *ctl)
{
	const char *args[] = { "--blk", "@/b.sock=@/disk.img,size=1M",
			       "--ctl", "@/ctl.sock", NULL };
	ck_assert_int_eq(svt_sim_start(s, 1, args), 0);
	svt_path(s, "b.sock", sock, 128);
	svt_path(s, "ctl.sock", ctl, 128);
}

START_TEST(random_messages)
{
	struct svt_sim s;
	char sock[128], ctl[128];
	struct svt_vu v;
	uint8_t payload[300];
	rng_state = 0x5eed0001;
	start(&s, sock, ctl);
	v.sock = -1;
	for (int round = 0; round < 400; round++) {
		if (v.sock < 0) {
			ck_assert_int_eq(svt_vu_connect(&v, sock), 0);
			if (round & 1)   /* sometimes with REPLY_ACK etc. */
				ck_assert_int_eq(svt_vu_negotiate(&v, 0, ~0ull, 0), 0);
		}
		uint32_t req = (uint32_t)(rnd() % 44);
		uint32_t flags = rnd() % 8 ? 1u | (rnd() % 2 ? VU_FLAG_NEED_REPLY : 0)
					   : (uint32_t)rnd();
		uint32_t size = (uint32_t)(rnd() % 5 == 0 ? rnd() % 300
				 : (uint32_t[]){ 0, 8, 40, 12 + 8 }[rnd() % 4]);
		for (unsigned i = 0; i < size; i++)
			payload[i] = (uint8_t)rnd();
		if (size >= 8 && rnd() % 2)   /* plausible vring indexes */
			payload[0] = (uint8_t)(rnd() % 3), payload[1] = payload[2] =
							   payload[3] = 0;
		int fd = -1;
		if (rnd() % 4 == 0)
			fd = eventfd(0, EFD_CLOEXEC);
		if (svt_vu_send(&v, req, flags, payload, size, fd >= 0 ? &fd : NULL,
				fd >= 0) < 0) {
			svt_vu_close(&v);
		}
		if (fd >= 0)
			close(fd);
		/* read whatever comes back; a closed connection is fine */
		struct pollfd pf = { v.sock, POLLIN, 0 };
		while (v.sock >= 0 && poll(&pf, 1, 20) > 0) {
			uint8_t junk[512];
			ssize_t r = read(v.sock, junk, sizeof(junk));
			if (r <= 0)
				svt_vu_close(&v);
		}
		if (round % 50 == 49)
			ck_assert(svt_sim_alive(&s));
	}
	if (v.sock >= 0)
		svt_vu_close(&v);
	ck_assert_int_gt(svt_log_count(&s, "closing the connection"), 10);
	/* still a working device */
	char out[256];
	ck_assert_int_eq(svt_ctl(ctl, "status", out, sizeof(out)), 0);
	ck_assert_int_eq(svt_vu_connect(&v, sock), 0);
	uint64_t f;
	ck_assert_int_eq(svt_vu_get_u64(&v, VU_GET_FEATURES, &f), 0);
	svt_vu_close(&v);
	ck_assert_int_eq(svt_sim_stop(&s), 0);
}
END_TEST

/* wait until the host has handled n kicks on vq0 (bounded) */
static bool kicked(const char *ctl, long long n)
{
	for (int i = 0; i < 1000; i++) {
		if (svt_stat(ctl, "blk0", "vq0", "kicks") >= n)
			return true;
		poll(NULL, 0, 5);
	}
	return false;
}

static void setup_q(struct svt_vu *v, struct svt_q *q)
{
	ck_assert_int_eq(svt_q_setup(v, q, 0, QSIZE), 0);
	ck_assert_int_eq(svt_vu_set_u64(v, VU_SET_STATUS,
					VIRTIO_CONFIG_S_FEATURES_OK |
						VIRTIO_CONFIG_S_DRIVER_OK,
					true), 0);
}

/* random descriptors pointing mostly into a small guest window, with a
 * share of wild addresses, lengths and flags */
static uint64_t rnd_addr(struct svt_vu *v)
{
	switch (rnd() % 6) {
	case 0:
		return rnd();
	case 1:
		return svt_gpa(v->mem) + v->memsize - rnd() % 64;
	default:
		return svt_gpa(v->mem) + (rnd() % (v->memsize / 2));
	}
}

static uint32_t rnd_len(void)
{
	return rnd() % 8 ? (uint32_t)(rnd() % 5000) : (uint32_t)rnd();
}

/* a well-formed chain with random request contents: header, 0-3 data
 * buffers (readable before writable), status */
static void plausible(struct svt_vu *v, struct svt_q *q)
{
	static const uint32_t types[] = { VIRTIO_BLK_T_IN, VIRTIO_BLK_T_OUT,
					  VIRTIO_BLK_T_FLUSH, VIRTIO_BLK_T_GET_ID,
					  VIRTIO_BLK_T_DISCARD,
					  VIRTIO_BLK_T_WRITE_ZEROES, 2, 99 };
	uint8_t *area = v->mem + v->memsize / 2;
	size_t room = v->memsize / 2 - 65536;
	struct svt_buf b[6];
	unsigned n = 0, ndata = (unsigned)(rnd() % 4);
	struct virtio_blk_outhdr *h = (void *)(area + (rnd() % room & ~15ull));
	h->type = types[rnd() % 8];
	h->ioprio = (uint32_t)rnd();
	h->sector = rnd() % 3 ? rnd() % 2100 : rnd();
	b[n++] = (struct svt_buf){ h, 16, false };
	bool wr = rnd() % 2;
	for (unsigned i = 0; i < ndata; i++) {
		uint32_t len = rnd() % 2 ? 512u * (uint32_t)(1 + rnd() % 16)
					 : (uint32_t)(rnd() % 9000);
		uint8_t *p = area + rnd() % room;
		if (h->type == VIRTIO_BLK_T_DISCARD ||
		    h->type == VIRTIO_BLK_T_WRITE_ZEROES) {
			struct virtio_blk_discard_write_zeroes seg = {
				rnd() % 2100, (uint32_t)(rnd() % 64), (uint32_t)(rnd() % 3)
			};
			len = 16;
			memcpy(p, &seg, sizeof(seg));
		}
		if (i && rnd() % 2)
			wr = true;
		b[n++] = (struct svt_buf){ p, len, wr };
	}
	uint8_t *st = area + rnd() % room;
	b[n++] = (struct svt_buf){ st, 1, true };
	svt_q_add(q, b, n, rnd() % 3 == 0);
}

static void fuzz_rings(bool packed)
{
	struct svt_sim s;
	char sock[128], ctl[128];
	struct svt_vu v;
	struct svt_q q;
	long long kicks = 0;
	unsigned broken = 0;
	rng_state = packed ? 0x5eed0003 : 0x5eed0002;
	start(&s, sock, ctl);
	ck_assert_int_eq(svt_vu_connect(&v, sock), 0);
	uint64_t want = 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_RING_F_INDIRECT_DESC |
			1ull << VIRTIO_RING_F_EVENT_IDX |
			(packed ? 1ull << VIRTIO_F_RING_PACKED : 0) |
			1ull << VIRTIO_BLK_F_FLUSH | 1ull << VIRTIO_BLK_F_DISCARD |
			1ull << VIRTIO_BLK_F_WRITE_ZEROES;
	ck_assert_int_eq(svt_vu_negotiate(&v, want,
					  1ull << VU_PF_REPLY_ACK | 1ull << VU_PF_STATUS,
					  4u << 20), 0);
	size_t rings = v.bump;
	setup_q(&v, &q);
	for (int round = 0; round < 300; round++) {
		/* scribble over the guest memory the descriptors point into */
		for (int i = 0; i < 64; i++) {
			uint8_t *p = v.mem + (v.memsize / 2) + rnd() % (v.memsize / 2 - 16);
			struct virtio_blk_outhdr h = { (uint32_t)(rnd() % 16), 0,
						       rnd() % 4096 };
			memcpy(p, &h, sizeof(h));
		}
		if (round % 2) {
			/* well-formed chains with random requests */
			unsigned n = 1 + rnd() % 3;
			for (unsigned i = 0; i < n; i++)
				plausible(&v, &q);
		} else if (packed) {
			for (unsigned i = 0; i < QSIZE; i++) {
				q.pd[i].addr = rnd_addr(&v);
				q.pd[i].len = rnd_len();
				q.pd[i].id = (uint16_t)(rnd() % (QSIZE + 2));
				q.pd[i].flags = (uint16_t)rnd();
			}
		} else {
			for (unsigned i = 0; i < QSIZE; i++) {
				q.vr.desc[i].addr = rnd_addr(&v);
				q.vr.desc[i].len = rnd_len();
				q.vr.desc[i].flags = (uint16_t)(rnd() % 8);
				q.vr.desc[i].next = (uint16_t)(rnd() % (QSIZE + 1));
			}
			unsigned n = 1 + rnd() % 4;
			for (unsigned i = 0; i < n; i++)
				svt_q_publish_head(&q, (uint16_t)(rnd() % (QSIZE + 1)));
			if (rnd() % 10 == 0)
				q.vr.avail->idx = (uint16_t)rnd();
		}
		svt_q_kick(&q);
		ck_assert(kicked(ctl, ++kicks));
		uint32_t id, len;
		while (svt_q_get(&q, &id, &len))
			;
		uint64_t st;
		ck_assert_int_eq(svt_vu_get_u64(&v, VU_GET_STATUS, &st), 0);
		if (st & VIRTIO_CONFIG_S_NEEDS_RESET)
			broken++;
		if (st & VIRTIO_CONFIG_S_NEEDS_RESET || round % 37 == 36) {
			ck_assert_int_eq(svt_vu_set_u64(&v, VU_SET_STATUS, 0, true), 0);
			close(q.kick);
			close(q.call);
			v.bump = rings;   /* the same ring memory again */
			setup_q(&v, &q);
			/* start from a zeroed ring, like a driver after reset */
			kicks = svt_stat(ctl, "blk0", "vq0", "kicks");
		}
	}
	ck_assert(svt_sim_alive(&s));
	ck_assert_uint_gt(broken, 0);   /* the garbage was noticed */
	/* and the well-formed chains were served, most of them refused */
	ck_assert_int_gt(svt_stat(ctl, "blk0", "vq0", "used"), 100);
	ck_assert_int_gt(svt_stat(ctl, "blk0", "vq0", "errors"), 50);
	/* the host still does real work afterwards */
	ck_assert_int_eq(svt_vu_set_u64(&v, VU_SET_STATUS, 0, true), 0);
	close(q.kick);
	close(q.call);
	v.bump = rings;
	memset(v.mem + rings, 0, v.memsize - rings);
	setup_q(&v, &q);
	struct virtio_blk_outhdr *h = svt_alloc(&v, 16, 16);
	uint8_t *d = svt_alloc(&v, 512, 512), *stb = svt_alloc(&v, 1, 1);
	h->type = VIRTIO_BLK_T_IN;
	struct svt_buf b[3] = { { h, 16, false }, { d, 512, true }, { stb, 1, true } };
	*stb = 0xee;
	ck_assert_int_ge(svt_q_add(&q, b, 3, false), 0);
	svt_q_kick(&q);
	uint32_t id, len;
	ck_assert(svt_q_wait(&q, &id, &len, SVT_TIMEOUT_MS));
	ck_assert_uint_eq(*stb, 0);
	svt_vu_close(&v);
	ck_assert_int_eq(svt_sim_stop(&s), 0);
}

START_TEST(random_split_rings)
{
	fuzz_rings(false);
}
END_TEST

START_TEST(random_packed_rings)
{
	fuzz_rings(true);
}
END_TEST

/* the net model: random RX buffers and TX frames with random headers */
static void net_round(struct svt_vu *v, struct svt_q *rx, struct svt_q *tx)
{
	uint8_t *area = v->mem + v->memsize / 2;
	size_t room = v->memsize / 2 - 70000;
	unsigned nrx = (unsigned)(rnd() % 4), ntx = 1 + (unsigned)(rnd() % 3);
	for (unsigned i = 0; i < nrx; i++) {
		struct svt_buf b[2];
		unsigned n = 1 + (unsigned)(rnd() % 2);
		for (unsigned k = 0; k < n; k++)
			b[k] = (struct svt_buf){ area + rnd() % room,
						 (uint32_t)(rnd() % 2100),
						 rnd() % 16 != 0 };
		svt_q_add(rx, b, n, rnd() % 4 == 0);
	}
	for (unsigned i = 0; i < ntx; i++) {
		uint8_t *h = area + rnd() % room;
		for (int k = 0; k < 12; k++)
			h[k] = rnd() % 3 ? 0 : (uint8_t)rnd();
		struct svt_buf b[2] = {
			{ h, 12, rnd() % 32 == 0 },
			{ area + rnd() % room, (uint32_t)(rnd() % 1600), false },
		};
		svt_q_add(tx, b, 2, rnd() % 4 == 0);
	}
	svt_q_kick(rx);
}

static void setup_net(struct svt_vu *v, struct svt_q *rx, struct svt_q *tx)
{
	ck_assert_int_eq(svt_q_setup(v, rx, 0, QSIZE), 0);
	ck_assert_int_eq(svt_q_setup(v, tx, 1, QSIZE), 0);
	ck_assert_int_eq(svt_vu_set_u64(v, VU_SET_STATUS,
					VIRTIO_CONFIG_S_FEATURES_OK |
						VIRTIO_CONFIG_S_DRIVER_OK,
					true), 0);
}

static void fuzz_net(bool packed, bool mrg)
{
	struct svt_sim s;
	char sock[128], ctl[128];
	struct svt_vu v;
	struct svt_q rx, tx;
	const char *args[] = { "--net", "@/n.sock,mtu=1500", "--ctl", "@/ctl.sock",
			       NULL };
	rng_state = 0x5eed0010 + packed * 2 + mrg;
	ck_assert_int_eq(svt_sim_start(&s, 1, args), 0);
	svt_path(&s, "n.sock", sock, sizeof(sock));
	svt_path(&s, "ctl.sock", ctl, sizeof(ctl));
	ck_assert_int_eq(svt_vu_connect(&v, sock), 0);
	uint64_t want = 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_RING_F_INDIRECT_DESC |
			1ull << VIRTIO_RING_F_EVENT_IDX | 1ull << 0 /* CSUM */ |
			(rnd() % 2 ? 1ull << 1 : 0) /* GUEST_CSUM */ |
			(packed ? 1ull << VIRTIO_F_RING_PACKED : 0) |
			(mrg ? 1ull << 15 /* MRG_RXBUF */ : 0);
	ck_assert_int_eq(svt_vu_negotiate(&v, want,
					  1ull << VU_PF_REPLY_ACK | 1ull << VU_PF_STATUS,
					  4u << 20), 0);
	size_t rings = v.bump;
	setup_net(&v, &rx, &tx);
	long long kicks = 0;
	for (int round = 0; round < 300; round++) {
		net_round(&v, &rx, &tx);
		svt_q_kick(&tx);
		for (int i = 0; i < 1000 && svt_stat(ctl, "net0", "vq1", "kicks") <= kicks;
		     i++)
			poll(NULL, 0, 5);
		kicks = svt_stat(ctl, "net0", "vq1", "kicks");
		uint32_t id, len;
		while (svt_q_get(&rx, &id, &len) || svt_q_get(&tx, &id, &len))
			;
		uint64_t st;
		ck_assert_int_eq(svt_vu_get_u64(&v, VU_GET_STATUS, &st), 0);
		if (st & VIRTIO_CONFIG_S_NEEDS_RESET || round % 23 == 22) {
			ck_assert_int_eq(svt_vu_set_u64(&v, VU_SET_STATUS, 0, true), 0);
			close(rx.kick);
			close(rx.call);
			close(tx.kick);
			close(tx.call);
			v.bump = rings;
			setup_net(&v, &rx, &tx);
		}
	}
	ck_assert(svt_sim_alive(&s));
	ck_assert_int_gt(svt_stat(ctl, "net0", "net", "rx_frames"), 20);
	ck_assert_int_gt(svt_stat(ctl, "net0", "net", "drop_bad"), 20);
	svt_vu_close(&v);
	ck_assert_int_eq(svt_sim_stop(&s), 0);
}

START_TEST(random_net_split)
{
	fuzz_net(false, false);
	fuzz_net(false, true);
}
END_TEST

START_TEST(random_net_packed)
{
	fuzz_net(true, false);
	fuzz_net(true, true);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("simvirtio_fuzz");
	TCase *tc = tcase_create("fuzz");
	tcase_set_timeout(tc, 120);
	tcase_add_unchecked_fixture(tc, svt_suite_setup, svt_suite_teardown);
	tcase_add_test(tc, random_messages);
	tcase_add_test(tc, random_split_rings);
	tcase_add_test(tc, random_packed_rings);
	tcase_add_test(tc, random_net_split);
	tcase_add_test(tc, random_net_packed);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
