/* SPDX-License-Identifier: MIT */
/*
 * tests/integration/hyperv_net_test.c - pvio's NetVSC (backends/vmbus)
 * against `pvio sim hyperv` (sim/vmbus), both real.
 *
 *   ops       the transport ops: frames reflected by the host, small ones
 *             copied into send-buffer sections, large ones sent from guest
 *             pages as GPA ranges, received through the receive buffer;
 *             sub-channels as queues;
 *   bridge    two partitions (two contexts) on a bridged pair of NICs;
 *   link      `link down/up`: events, and no traffic while down;
 *   frontend  pvio_net_open("sim-hyperv:SOCK/netvscN") send/recv;
 *   offloads  checksum and LSOv2 offloads negotiated through RNDIS and
 *             done by the host: TCP/UDP over IPv4/IPv6, segmentation,
 *             the receive checksum report; a NIC without offloads;
 *   faults    rescind mid-traffic, slow host, corrupted descriptors,
 *             transfer ranges, RNDIS lengths and statuses.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pvio/net.h>

#include "hyperv_util.h"

static const uint8_t mac0[6] = { 0x00, 0x15, 0x5d, 0x01, 0x02, 0x03 };
static const uint8_t mac1[6] = { 0x00, 0x15, 0x5d, 0x00, 0x00, 0x02 };
static const uint8_t mac2[6] = { 0x00, 0x15, 0x5d, 0x00, 0x00, 0x03 };
static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static void setup_network(void)
{
	const char *args[] = { "--nic", "mac=00:15:5d:01:02:03,channels=4",
			       "--nic", "mode=bridge:2",
			       "--nic", "",
			       "--nic", "offload=none",
			       "-v", NULL };
	hv_start(args);
}

static void setup_faults(void)
{
	const char *args[] = { "--nic", "mac=00:15:5d:01:02:03,channels=2",
			       "-v", NULL };
	hv_start(args);
}

static void setup_old(void)
{
	const char *args[] = { "--nic", "mac=00:15:5d:01:02:03",
			       "--max-version", "3.0", "-v", NULL };
	hv_start(args);
}

static void teardown(void)
{
	hv_stop();
}

START_TEST(host_exits_clean)
{
	ck_assert_ptr_nonnull(strstr(hv_ctl("status"), "host socket="));
	ck_assert_msg(hv_status_sum(NULL, "chan", "unexpected") == 0 &&
			      hv_status_sum(NULL, "chan", "bad") == 0,
		      "the host saw signals or packets it would not "
		      "expect:\n%s", hv_ctl("status"));
	hv_ctl("quit");
	ck_assert_msg(hv_host_exited(), "host did not exit after quit");
	ck_assert_msg(!hv_log_has("Sanitizer") && !hv_log_has("runtime error"),
		      "sanitizer report in %s", hv_host.log);
}
END_TEST

/* ------------------------------------------------------ transport level */
#define RXB 2048u
#define NRX 64u

struct nq {
	pvio_dev *dev;
	unsigned q;
	uint8_t *rx;           /* NRX buffers of RXB bytes */
	uint8_t *tx;           /* NRX buffers of RXB * 2 bytes */
	unsigned tx_out;
};

static void post_all(struct nq *n)
{
	for (unsigned i = 0; i < NRX; i++) {
		struct pvio_net_rxb b = { .tag = i };
		b.seg.va = n->rx + i * RXB;
		b.seg.len = RXB;
		pvio_dma_translate(n->dev->ctx, b.seg.va, RXB, &b.seg.dev_addr);
		ck_assert_int_eq(n->dev->ops->net->rx_post(n->dev, n->q, &b), 0);
	}
	n->dev->ops->net->kick(n->dev, n->q, PVIO_NET_KICK_RX);
}

static void nq_init(struct nq *n, pvio_dev *dev, unsigned q)
{
	n->dev = dev;
	n->q = q;
	n->rx = pvio_dma_alloc(dev->ctx, NRX * RXB, 4096);
	n->tx = pvio_dma_alloc(dev->ctx, NRX * RXB * 2, 4096);
	ck_assert_ptr_nonnull(n->rx);
	ck_assert_ptr_nonnull(n->tx);
	n->tx_out = 0;
	post_all(n);
}

/* Send frame f (len) from tx slot k; split: two segments, the first
 * ending 100 bytes before a page boundary. */
static void nq_send(struct nq *n, unsigned k, const uint8_t *f, uint32_t len,
		    bool split, uint32_t flags, uint16_t cs_start,
		    uint16_t cs_off, uint16_t gso)
{
	uint8_t *b = n->tx + k * RXB * 2;
	uint32_t first = split ? 4096 - 100 - (uint32_t)((uintptr_t)b & 4095)
			       : len;
	if (first > len)
		first = len;
	memcpy(b, f, len);
	struct pvio_dseg seg[2] = { { b, 0, first }, { b + first, 0, len - first } };
	pvio_dma_translate(n->dev->ctx, b, first, &seg[0].dev_addr);
	if (len > first)
		pvio_dma_translate(n->dev->ctx, b + first, len - first,
				   &seg[1].dev_addr);
	struct pvio_net_txd t = { .tag = 100 + k, .nseg = len > first ? 2 : 1,
				  .len = len, .flags = flags,
				  .csum_start = cs_start, .csum_offset = cs_off,
				  .gso_size = gso, .seg = seg };
	ck_assert_int_eq(n->dev->ops->net->tx_enqueue(n->dev, n->q, &t), 0);
	n->tx_out++;
}

static void nq_kick(struct nq *n)
{
	n->dev->ops->net->kick(n->dev, n->q, PVIO_NET_KICK_TX);
}

/* Receive want frames (bounded); their completions in out. */
static unsigned nq_recv(struct nq *n, struct pvio_net_rxc *out, unsigned want)
{
	unsigned got = 0;
	uint64_t end = pvio_now_ns(n->dev->ctx) + 5000000000ull;
	while (got < want) {
		uint32_t tags[64];
		int t = n->dev->ops->net->tx_reap(n->dev, n->q, tags, 64);
		ck_assert_int_ge(t, 0);
		n->tx_out -= (unsigned)t;
		int r = n->dev->ops->net->rx_reap(n->dev, n->q, out + got,
						  want - got);
		ck_assert_msg(r >= 0, "rx_reap: %d (%s)", r,
			      n->dev->reason);
		got += (unsigned)r;
		if (got < want) {
			if (pvio_now_ns(n->dev->ctx) >= end)
				break;
			hv_wait(n->dev, n->q);
		}
	}
	return got;
}

static void nq_tx_drain(struct nq *n)
{
	uint64_t end = pvio_now_ns(n->dev->ctx) + 5000000000ull;
	while (n->tx_out) {
		uint32_t tags[64];
		int t = n->dev->ops->net->tx_reap(n->dev, n->q, tags, 64);
		ck_assert_int_ge(t, 0);
		n->tx_out -= (unsigned)t;
		if (n->tx_out) {
			ck_assert(pvio_now_ns(n->dev->ctx) < end);
			hv_wait(n->dev, n->q);
		}
	}
}

static void repost(struct nq *n, const struct pvio_net_rxc *c, unsigned cnt)
{
	for (unsigned i = 0; i < cnt; i++) {
		struct pvio_net_rxb b = { .tag = c[i].tag };
		b.seg.va = n->rx + c[i].tag * RXB;
		b.seg.len = RXB;
		pvio_dma_translate(n->dev->ctx, b.seg.va, RXB, &b.seg.dev_addr);
		ck_assert_int_eq(n->dev->ops->net->rx_post(n->dev, n->q, &b), 0);
	}
}

static const uint8_t *rx_data(struct nq *n, const struct pvio_net_rxc *c)
{
	ck_assert_int_eq(c->status, 0);
	ck_assert_uint_lt(c->tag, NRX);
	ck_assert_uint_le(c->offset + c->len, RXB);
	return n->rx + c->tag * RXB + c->offset;
}

static uint32_t eth(uint8_t *f, const uint8_t *dst, const uint8_t *src,
		    uint32_t len, uint32_t seed)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = 0x88;
	f[13] = 0xB5; /* local experimental ethertype */
	hv_pattern(f + 14, len - 14, seed);
	return len;
}

START_TEST(ops_frames_through_send_buffer_and_page_ranges)
{
	pvio_ctx *ctx = hv_ctx();
	pvio_dev *dev = hv_open(ctx, "netvsc0", 1, NRX, 0);
	const struct pvio_net_limits *L = &dev->limits.net;
	ck_assert_mem_eq(L->mac, mac0, 6);
	ck_assert_uint_eq(L->mtu, 1500);
	ck_assert(L->link_up);
	ck_assert_uint_eq(L->max_queues, 4);
	ck_assert_ptr_nonnull(strstr(dev->info.protocol, "NVSP 6.1"));
	ck_assert_ptr_nonnull(strstr(dev->info.protocol, "NDIS 6.30"));
	struct nq n;
	nq_init(&n, dev, 0);
	static const uint32_t sizes[] = { 60, 128, 511, 512, 513, 1000, 1514 };
	enum { NS = sizeof(sizes) / sizeof(sizes[0]) };
	uint8_t f[NS][1514];
	for (unsigned i = 0; i < NS; i++) {
		eth(f[i], i & 1 ? bcast : mac0, mac0, sizes[i], 50 + i);
		nq_send(&n, i, f[i], sizes[i], sizes[i] > 1000, 0, 0, 0, 0);
	}
	nq_kick(&n);
	struct pvio_net_rxc c[NS];
	ck_assert_uint_eq(nq_recv(&n, c, NS), NS);
	nq_tx_drain(&n);
	/* the host keeps the order of one queue's frames */
	for (unsigned i = 0; i < NS; i++) {
		ck_assert_uint_eq(c[i].len, sizes[i]);
		ck_assert_mem_eq(rx_data(&n, &c[i]), f[i], sizes[i]);
	}
	const struct pvio_queue_stats *st = &dev->stats[0];
	/* frames up to 512 bytes went through send-buffer sections (one copy
	 * each), larger ones as GPA ranges; every received one is a copy out
	 * of the receive buffer */
	ck_assert_uint_eq(st->copies, 4 + NS);
	ck_assert_uint_eq(st->rx_errors, 0);
	ck_assert_uint_eq(st->errors, 0);
	ck_assert_ptr_nonnull(strstr(hv_ctl("status netvsc0"), "tx=7 rx=7"));
	/* many frames, wrapping the rings and reusing the buffers */
	for (unsigned round = 0; round < 8; round++) {
		repost(&n, c, NS);
		for (unsigned i = 0; i < NS; i++) {
			eth(f[i], mac0, mac0, sizes[i], round * 100 + i);
			nq_send(&n, i, f[i], sizes[i], i & 1, 0, 0, 0, 0);
		}
		nq_kick(&n);
		ck_assert_uint_eq(nq_recv(&n, c, NS), NS);
		for (unsigned i = 0; i < NS; i++)
			ck_assert_mem_eq(rx_data(&n, &c[i]), f[i], sizes[i]);
		nq_tx_drain(&n);
	}
	/* above the MTU without TSO: refused before the host sees it */
	uint8_t big[1600];
	eth(big, mac0, mac0, sizeof(big), 1);
	struct pvio_dseg s1 = { n.tx, 0, sizeof(big) };
	memcpy(n.tx, big, sizeof(big));
	pvio_dma_translate(ctx, n.tx, sizeof(big), &s1.dev_addr);
	struct pvio_net_txd t = { .tag = 1, .nseg = 1, .len = sizeof(big),
				  .seg = &s1 };
	ck_assert_int_eq(dev->ops->net->tx_enqueue(dev, 0, &t), -EINVAL);
	ck_assert_uint_eq(hv_status_sum("netvsc0", "chan", "unexpected"), 0);
	pvio_dev_close(dev);
	pvio_ctx_free(ctx);
}
END_TEST

START_TEST(ops_subchannels_are_queues)
{
	pvio_ctx *ctx = hv_ctx();
	pvio_dev *dev = hv_open(ctx, "netvsc0", 4, NRX, 0);
	ck_assert_uint_eq(dev->info.num_queues, 4);
	ck_assert(dev->info.features & PVIO_F_MULTIQUEUE);
	struct nq n[4];
	uint8_t f[4][8][700];
	for (unsigned q = 0; q < 4; q++) {
		nq_init(&n[q], dev, q);
		for (unsigned i = 0; i < 8; i++) {
			eth(f[q][i], mac0, mac0, 100 + 75 * i, q * 10 + i);
			nq_send(&n[q], i, f[q][i], 100 + 75 * i, i & 1, 0, 0, 0,
				0);
		}
		nq_kick(&n[q]);
	}
	/* a reflected frame comes back on the channel it left by */
	for (unsigned q = 0; q < 4; q++) {
		struct pvio_net_rxc c[8];
		ck_assert_uint_eq(nq_recv(&n[q], c, 8), 8);
		for (unsigned i = 0; i < 8; i++) {
			ck_assert_uint_eq(c[i].len, 100 + 75 * i);
			ck_assert_mem_eq(rx_data(&n[q], &c[i]), f[q][i],
					 100 + 75 * i);
		}
		nq_tx_drain(&n[q]);
	}
	const char *st = hv_ctl("status netvsc0");
	unsigned busy = 0;
	for (const char *p = st; (p = strstr(p, "chan part=")); p++) {
		const char *pi = strstr(p, "pkts_in=");
		if (strstr(p, "state=open") < strstr(p, "\n") &&
		    strtoull(pi + 8, NULL, 10) >= 8)
			busy++;
	}
	ck_assert_uint_eq(busy, 4);
	ck_assert_uint_eq(hv_status_sum("netvsc0", "chan", "unexpected"), 0);
	pvio_dev_close(dev);
	pvio_ctx_free(ctx);
}
END_TEST

START_TEST(bridge_between_two_partitions)
{
	pvio_ctx *a = hv_ctx(), *b = hv_ctx();
	pvio_dev *da = hv_open(a, "netvsc1", 1, NRX, 0);
	pvio_dev *db = hv_open(b, "netvsc2", 1, NRX, 0);
	ck_assert_mem_eq(da->limits.net.mac, mac1, 6);
	ck_assert_mem_eq(db->limits.net.mac, mac2, 6);
	/* netvsc1 is open in the first partition: the second gets busy */
	pvio_dev *dup = NULL;
	ck_assert_int_lt(pvio_dev_open(b, hv_addr("netvsc1"), &dup), 0);
	ck_assert_ptr_nonnull(strstr(pvio_errmsg(b), "0x80000011"));
	struct nq na, nb;
	nq_init(&na, da, 0);
	nq_init(&nb, db, 0);
	uint8_t fa[5][1514], fb[5][1514];
	for (unsigned i = 0; i < 5; i++) {
		uint32_t l = 64 + 350 * i;
		eth(fa[i], mac2, mac1, l, 10 + i);
		eth(fb[i], mac1, mac2, l, 20 + i);
		nq_send(&na, i, fa[i], l, i & 1, 0, 0, 0, 0);
		nq_send(&nb, i, fb[i], l, !(i & 1), 0, 0, 0, 0);
	}
	nq_kick(&na);
	nq_kick(&nb);
	struct pvio_net_rxc c[5];
	ck_assert_uint_eq(nq_recv(&nb, c, 5), 5);
	for (unsigned i = 0; i < 5; i++)
		ck_assert_mem_eq(rx_data(&nb, &c[i]), fa[i], 64 + 350 * i);
	ck_assert_uint_eq(nq_recv(&na, c, 5), 5);
	for (unsigned i = 0; i < 5; i++)
		ck_assert_mem_eq(rx_data(&na, &c[i]), fb[i], 64 + 350 * i);
	nq_tx_drain(&na);
	nq_tx_drain(&nb);
	/* the frames went between two partitions */
	ck_assert_ptr_nonnull(strstr(hv_ctl("status"), "partitions=2"));
	pvio_dev_close(da);
	pvio_dev_close(db);
	pvio_ctx_free(a);
	pvio_ctx_free(b);
}
END_TEST

START_TEST(link_down_and_up)
{
	pvio_ctx *ctx = hv_ctx();
	pvio_dev *dev = hv_open(ctx, "netvsc0", 1, NRX, 0);
	struct nq n;
	nq_init(&n, dev, 0);
	struct pvio_event ev;
	while (pvio_dev_next_event(dev, &ev) == 1)
		;
	hv_ctl("link netvsc0 down");
	/* the indication arrives in the receive buffer of queue 0 */
	int link = -1;
	uint64_t end = pvio_now_ns(ctx) + 5000000000ull;
	while (link != 0) {
		ck_assert(pvio_now_ns(ctx) < end);
		struct pvio_net_rxc c[4];
		ck_assert_int_ge(dev->ops->net->rx_reap(dev, 0, c, 4), 0);
		while (pvio_dev_next_event(dev, &ev) == 1)
			if (ev.type == PVIO_EVENT_LINK_CHANGE)
				link = (int)ev.value;
		if (link != 0)
			hv_wait(dev, 0);
	}
	ck_assert(!dev->limits.net.link_up);
	/* the host drops what a guest sends while the link is down */
	uint8_t f[200];
	eth(f, mac0, mac0, sizeof(f), 3);
	nq_send(&n, 0, f, sizeof(f), false, 0, 0, 0, 0);
	nq_kick(&n);
	nq_tx_drain(&n);
	ck_assert_ptr_nonnull(strstr(hv_ctl("status netvsc0"), "tx_dropped=1"));
	hv_ctl("link netvsc0 up");
	end = pvio_now_ns(ctx) + 5000000000ull;
	while (link != 1) {
		ck_assert(pvio_now_ns(ctx) < end);
		struct pvio_net_rxc c[4];
		ck_assert_int_eq(dev->ops->net->rx_reap(dev, 0, c, 4), 0);
		while (pvio_dev_next_event(dev, &ev) == 1)
			if (ev.type == PVIO_EVENT_LINK_CHANGE)
				link = (int)ev.value;
		if (link != 1)
			hv_wait(dev, 0);
	}
	ck_assert(dev->limits.net.link_up);
	nq_send(&n, 1, f, sizeof(f), false, 0, 0, 0, 0);
	nq_kick(&n);
	struct pvio_net_rxc c;
	ck_assert_uint_eq(nq_recv(&n, &c, 1), 1);
	ck_assert_mem_eq(rx_data(&n, &c), f, sizeof(f));
	nq_tx_drain(&n);
	pvio_dev_close(dev);
	pvio_ctx_free(ctx);
}
END_TEST

/* ------------------------------------------------------------- frontend */
static pvio_net *net_open(pvio_ctx *ctx, const char *dev, uint64_t offloads,
			  unsigned nq)
{
	pvio_net *net = NULL;
	struct pvio_net_opts o = { .struct_size = sizeof(o), .num_queues = nq,
				   .offloads = offloads };
	int r = pvio_net_open(ctx, hv_addr(dev), &o, &net);
	ck_assert_msg(r == 0, "pvio_net_open %s: %s", dev, pvio_errmsg(ctx));
	return net;
}

/* Receive one frame on queue q (bounded). */
static int net_recv1(pvio_net *net, unsigned q, uint8_t *buf, size_t cap,
		     struct pvio_net_meta *m)
{
	uint64_t end = pvio_now_ns(pvio_net_ctx(net)) + 5000000000ull;
	for (;;) {
		int r = pvio_net_recv(net, q, buf, cap, m);
		if (r != 0)
			return r;
		if (pvio_now_ns(pvio_net_ctx(net)) >= end)
			return 0;
		pvio_net_wait(net, q, 1000000000ll);
	}
}

START_TEST(frontend_send_and_receive)
{
	pvio_ctx *ctx = hv_ctx();
	pvio_net *net = net_open(ctx, "netvsc0", 0, 2);
	struct pvio_net_info ni = { .struct_size = sizeof(ni) };
	ck_assert_int_eq(pvio_net_get_info(net, &ni), 0);
	ck_assert_mem_eq(ni.mac, mac0, 6);
	ck_assert_uint_eq(ni.mtu, 1500);
	ck_assert(ni.link_up);
	ck_assert_uint_eq(ni.num_queues, 2);
	uint8_t f[1514], r[2048];
	for (unsigned q = 0; q < 2; q++) {
		for (uint32_t len = 60; len <= 1514; len += 241) {
			eth(f, mac0, mac0, len, len + q);
			ck_assert_int_eq(pvio_net_send(net, q, f, len, NULL), 0);
			int got = net_recv1(net, q, r, sizeof(r), NULL);
			ck_assert_int_eq(got, (int)len);
			ck_assert_mem_eq(r, f, len);
		}
	}
	/* a burst of 100 frames, all back */
	for (unsigned i = 0; i < 100; i++) {
		eth(f, mac0, mac0, 300, 1000 + i);
		int s;
		while ((s = pvio_net_send(net, 0, f, 300, NULL)) == -EAGAIN)
			pvio_net_wait(net, 0, 100000000ll);
		ck_assert_int_eq(s, 0);
	}
	for (unsigned i = 0; i < 100; i++) {
		eth(f, mac0, mac0, 300, 1000 + i);
		ck_assert_int_eq(net_recv1(net, 0, r, sizeof(r), NULL), 300);
		ck_assert_mem_eq(r, f, 300);
	}
	struct pvio_queue_stats st;
	pvio_net_get_stats(net, 0, &st);
	ck_assert_uint_eq(st.rx_errors, 0);
	pvio_net_close(net);
	ck_assert_uint_eq(hv_status_sum("netvsc0", "chan", "unexpected"), 0);
	pvio_ctx_free(ctx);
}
END_TEST

/* ------------------------------------------------------------- offloads */
#define ALL_OFFLOADS (PVIO_F_NET_CSUM_TX | PVIO_F_NET_CSUM_RX | \
		      PVIO_F_NET_TSO4 | PVIO_F_NET_TSO6)

static struct hv_flow flow(bool v6, bool udp, uint32_t seq)
{
	struct hv_flow fl = { .dst = mac0, .src = mac0, .v6 = v6, .udp = udp,
			      .sport = 40000, .dport = 5201, .seq = seq };
	return fl;
}

START_TEST(offload_checksums)
{
	pvio_ctx *ctx = hv_ctx();
	pvio_net *net = net_open(ctx, "netvsc0", ALL_OFFLOADS, 1);
	struct pvio_net_info ni = { .struct_size = sizeof(ni) };
	pvio_net_get_info(net, &ni);
	ck_assert_msg((ni.features & ALL_OFFLOADS) == ALL_OFFLOADS,
		      "features 0x%llx", (unsigned long long)ni.features);
	uint8_t f[1514], r[2048];
	for (int v6 = 0; v6 < 2; v6++) {
		for (int udp = 0; udp < 2; udp++) {
			struct hv_flow fl = flow(v6, udp, 1000);
			uint32_t len = hv_frame(f, &fl, 700, 9, true);
			ck_assert(!hv_frame_csum_ok(f, len));
			struct pvio_net_meta m = {
				.flags = PVIO_PKT_CSUM_PARTIAL,
				.csum_start = (uint16_t)hv_l4_off(&fl),
				.csum_offset = udp ? 6 : 16 };
			ck_assert_int_eq(pvio_net_send(net, 0, f, len, &m), 0);
			struct pvio_net_meta rm;
			ck_assert_int_eq(net_recv1(net, 0, r, sizeof(r), &rm),
					 (int)len);
			/* the host filled the checksum in, and says so */
			ck_assert_msg(hv_frame_csum_ok(r, len), "v6 %d udp %d",
				      v6, udp);
			ck_assert(rm.flags & PVIO_PKT_CSUM_VALID);
			hv_frame(f, &fl, 700, 9, false);
			ck_assert_mem_eq(r, f, len);
		}
	}
	/* a frame with a wrong checksum, no offload asked: reported as not
	 * verified */
	struct hv_flow fl = flow(false, false, 5);
	uint32_t len = hv_frame(f, &fl, 300, 4, false);
	f[hv_csum_off(&fl)] ^= 0x55;
	ck_assert_int_eq(pvio_net_send(net, 0, f, len, NULL), 0);
	struct pvio_net_meta rm;
	ck_assert_int_eq(net_recv1(net, 0, r, sizeof(r), &rm), (int)len);
	ck_assert(!(rm.flags & PVIO_PKT_CSUM_VALID));
	ck_assert_mem_eq(r, f, len);
	pvio_net_close(net);
	pvio_ctx_free(ctx);
}
END_TEST

static void tso_case(pvio_net *net, bool v6)
{
	enum { PAYLOAD = 20000, MSS = 1400 };
	uint8_t *f = malloc(PAYLOAD + 128), r[2048];
	struct hv_flow fl = flow(v6, false, 0x10000000u);
	uint32_t len = hv_frame(f, &fl, PAYLOAD, 77, true);
	uint32_t hl = hv_l4_off(&fl) + 20;
	struct pvio_net_meta m = {
		.flags = v6 ? PVIO_PKT_GSO_TCPV6 : PVIO_PKT_GSO_TCPV4,
		.csum_start = (uint16_t)hv_l4_off(&fl), .csum_offset = 16,
		.gso_size = MSS, .hdr_len = (uint16_t)hl };
	ck_assert_msg(pvio_net_send(net, 0, f, len, &m) == 0, "%s",
		      pvio_errmsg(pvio_net_ctx(net)));
	uint8_t *want = malloc(PAYLOAD);
	hv_pattern(want, PAYLOAD, 77);
	uint32_t off = 0, nseg = 0;
	while (off < PAYLOAD) {
		struct pvio_net_meta rm;
		int got = net_recv1(net, 0, r, sizeof(r), &rm);
		ck_assert_msg(got > 0, "segment %u missing", nseg);
		uint32_t n = (uint32_t)got - hl;
		ck_assert_uint_le(n, MSS);
		ck_assert_msg(hv_frame_csum_ok(r, (uint32_t)got), "segment %u",
			      nseg);
		ck_assert(rm.flags & PVIO_PKT_CSUM_VALID);
		uint32_t seq = (uint32_t)r[hv_l4_off(&fl) + 4] << 24 |
			       (uint32_t)r[hv_l4_off(&fl) + 5] << 16 |
			       (uint32_t)r[hv_l4_off(&fl) + 6] << 8 |
			       r[hv_l4_off(&fl) + 7];
		ck_assert_uint_eq(seq, 0x10000000u + off);
		bool last = off + n == PAYLOAD;
		/* PSH only on the last segment */
		ck_assert_uint_eq(r[hv_l4_off(&fl) + 13] & 0x08, last ? 8 : 0);
		ck_assert_mem_eq(r + hl, want + off, n);
		off += n;
		nseg++;
	}
	ck_assert_uint_eq(nseg, (PAYLOAD + MSS - 1) / MSS);
	free(f);
	free(want);
}

START_TEST(offload_tcp_segmentation)
{
	pvio_ctx *ctx = hv_ctx();
	pvio_net *net = net_open(ctx, "netvsc0", ALL_OFFLOADS, 1);
	struct pvio_net_info ni = { .struct_size = sizeof(ni) };
	pvio_net_get_info(net, &ni);
	/* the host's LSOv2 maximum bounds a large send */
	ck_assert_uint_eq(ni.max_tx_frame, 62768 + 14);
	tso_case(net, false);
	tso_case(net, true);
	pvio_net_close(net);
	pvio_ctx_free(ctx);
}
END_TEST

START_TEST(no_offloads_offered)
{
	pvio_ctx *ctx = hv_ctx();
	pvio_net *net = net_open(ctx, "netvsc3", ALL_OFFLOADS, 1);
	struct pvio_net_info ni = { .struct_size = sizeof(ni) };
	pvio_net_get_info(net, &ni);
	ck_assert_uint_eq(ni.features & ALL_OFFLOADS, 0);
	/* the front end completes the checksum itself */
	uint8_t f[1514], r[2048];
	struct hv_flow fl = flow(false, true, 0);
	fl.dst = fl.src = (const uint8_t[6]){ 0x00, 0x15, 0x5d, 0, 0, 4 };
	uint32_t len = hv_frame(f, &fl, 500, 3, true);
	struct pvio_net_meta m = { .flags = PVIO_PKT_CSUM_PARTIAL,
				   .csum_start = (uint16_t)hv_l4_off(&fl),
				   .csum_offset = 6 };
	ck_assert_int_eq(pvio_net_send(net, 0, f, len, &m), 0);
	struct pvio_net_meta rm;
	ck_assert_int_eq(net_recv1(net, 0, r, sizeof(r), &rm), (int)len);
	ck_assert(hv_frame_csum_ok(r, len));
	ck_assert(!(rm.flags & PVIO_PKT_CSUM_VALID));
	/* segmentation was not granted */
	m = (struct pvio_net_meta){ .flags = PVIO_PKT_GSO_TCPV4,
				    .gso_size = 1000, .hdr_len = 54,
				    .csum_start = 34, .csum_offset = 16 };
	ck_assert_int_eq(pvio_net_send(net, 0, f, len, &m), -EOPNOTSUPP);
	pvio_net_close(net);
	pvio_ctx_free(ctx);
}
END_TEST

/* --------------------------------------------------------------- faults */
START_TEST(rescind_mid_traffic)
{
	pvio_ctx *ctx = hv_ctx();
	pvio_dev *dev = hv_open(ctx, "netvsc0", 1, NRX, 0);
	struct nq n;
	nq_init(&n, dev, 0);
	hv_ctl("delay 300");
	uint8_t f[1000];
	for (unsigned i = 0; i < 16; i++) {
		eth(f, mac0, mac0, i & 1 ? 1000 : 200, i);
		nq_send(&n, i, f, i & 1 ? 1000 : 200, i & 1, 0, 0, 0, 0);
	}
	nq_kick(&n);
	hv_ctl("rescind netvsc0");
	uint64_t end = pvio_now_ns(ctx) + 5000000000ull;
	struct pvio_event ev;
	bool removed = false;
	while (pvio_dev_state(dev, NULL) == PVIO_DEV_READY) {
		ck_assert(pvio_now_ns(ctx) < end);
		while (pvio_dev_next_event(dev, &ev) == 1)
			removed = removed || ev.type == PVIO_EVENT_REMOVED;
		hv_wait(dev, 0);
	}
	while (pvio_dev_next_event(dev, &ev) == 1)
		removed = removed || ev.type == PVIO_EVENT_REMOVED;
	ck_assert(removed);
	const char *why;
	ck_assert_int_eq(pvio_dev_state(dev, &why), PVIO_DEV_REMOVED);
	ck_assert_ptr_nonnull(strstr(why, "rescinded"));
	uint32_t tags[16];
	ck_assert_int_eq(dev->ops->net->tx_reap(dev, 0, tags, 16), -ENODEV);
	struct pvio_net_rxc c[4];
	ck_assert_int_eq(dev->ops->net->rx_reap(dev, 0, c, 4), -ENODEV);
	uint64_t t0 = pvio_now_ns(ctx);
	pvio_dev_close(dev);
	ck_assert_uint_lt(pvio_now_ns(ctx) - t0, 4000000000ull);
	hv_ctl("delay 0");
	hv_ctl("offer netvsc0");
	/* a new device (new relid) works */
	pvio_net *net = net_open(ctx, "netvsc0", 0, 1);
	uint8_t r[2048];
	eth(f, mac0, mac0, 400, 8);
	ck_assert_int_eq(pvio_net_send(net, 0, f, 400, NULL), 0);
	ck_assert_int_eq(net_recv1(net, 0, r, sizeof(r), NULL), 400);
	ck_assert_mem_eq(r, f, 400);
	pvio_net_close(net);
	pvio_ctx_free(ctx);
}
END_TEST

START_TEST(slow_host)
{
	pvio_ctx *ctx = hv_ctx();
	pvio_net *net = net_open(ctx, "netvsc0", 0, 2);
	hv_ctl("delay 15");
	uint8_t f[1514], r[2048];
	for (unsigned i = 0; i < 32; i++) {
		eth(f, mac0, mac0, 100 + 40 * i, 300 + i);
		int s;
		while ((s = pvio_net_send(net, i & 1, f, 100 + 40 * i, NULL)) ==
		       -EAGAIN)
			pvio_net_wait(net, i & 1, 100000000ll);
		ck_assert_int_eq(s, 0);
	}
	for (unsigned i = 0; i < 32; i++) {
		eth(f, mac0, mac0, 100 + 40 * i, 300 + i);
		ck_assert_int_eq(net_recv1(net, i & 1, r, sizeof(r), NULL),
				 (int)(100 + 40 * i));
		ck_assert_mem_eq(r, f, 100 + 40 * i);
	}
	hv_ctl("delay 0");
	pvio_net_close(net);
	pvio_ctx_free(ctx);
}
END_TEST

/* The next host packet of kind goes wrong while frames flow. */
static void corrupt_case(const char *kind, const char *reason, bool breaks)
{
	pvio_ctx *ctx = hv_ctx();
	pvio_dev *dev = hv_open(ctx, "netvsc0", 1, NRX, 0);
	struct nq n;
	nq_init(&n, dev, 0);
	hv_ctl("corrupt netvsc0 %s", kind);
	uint8_t f[4][300];
	for (unsigned i = 0; i < 4; i++) {
		eth(f[i], mac0, mac0, 300, 40 + i);
		nq_send(&n, i, f[i], 300, false, 0, 0, 0, 0);
	}
	nq_kick(&n);
	struct pvio_net_rxc c[4];
	unsigned got = 0;
	uint64_t end = pvio_now_ns(ctx) + 5000000000ull;
	while (pvio_now_ns(ctx) < end) {
		uint32_t tags[8];
		int t = dev->ops->net->tx_reap(dev, 0, tags, 8);
		int r = t < 0 ? t : dev->ops->net->rx_reap(dev, 0, c + got,
							  4 - got);
		if (r < 0) {
			ck_assert_msg(breaks, "%s: reap failed %d (%s)", kind, r,
				      dev->reason);
			ck_assert_int_eq(r, -EIO);
			break;
		}
		got += (unsigned)r;
		if (t > 0)
			n.tx_out -= (unsigned)t;
		if (!breaks && !n.tx_out && got == 3)
			break;
		hv_wait(dev, 0);
	}
	const char *why = NULL;
	if (breaks) {
		ck_assert_int_eq(pvio_dev_state(dev, &why), PVIO_DEV_BROKEN);
		ck_assert_msg(strstr(why, reason), "%s: reason '%s'", kind, why);
		ck_assert_ptr_nonnull(strstr(why, "netvsc0"));
		struct pvio_event ev;
		bool reset = false;
		while (pvio_dev_next_event(dev, &ev) == 1)
			reset = reset || ev.type == PVIO_EVENT_NEEDS_RESET;
		ck_assert(reset);
	} else {
		/* one frame dropped and counted, the rest delivered */
		ck_assert_int_eq(pvio_dev_state(dev, &why), PVIO_DEV_READY);
		ck_assert_uint_eq(got, 3);
		ck_assert_uint_eq(dev->stats[0].rx_errors, 1);
	}
	pvio_dev_close(dev);
	pvio_net *net = net_open(ctx, "netvsc0", 0, 1);
	uint8_t r[2048];
	ck_assert_int_eq(pvio_net_send(net, 0, f[0], 300, NULL), 0);
	ck_assert_int_eq(net_recv1(net, 0, r, sizeof(r), NULL), 300);
	pvio_net_close(net);
	pvio_ctx_free(ctx);
}

START_TEST(corrupt_transid)
{
	corrupt_case("transid", "not outstanding", true);
}
END_TEST

START_TEST(corrupt_offset8)
{
	corrupt_case("offset8", "offset8", true);
}
END_TEST

START_TEST(corrupt_len8)
{
	corrupt_case("len8", "len8", true);
}
END_TEST

START_TEST(corrupt_xfer_range_drops_a_frame)
{
	corrupt_case("xfer-range", "", false);
}
END_TEST

START_TEST(corrupt_rndis_length_drops_a_frame)
{
	corrupt_case("rndis-len", "", false);
}
END_TEST

START_TEST(corrupt_status_counts_an_error)
{
	pvio_ctx *ctx = hv_ctx();
	pvio_dev *dev = hv_open(ctx, "netvsc0", 1, NRX, 0);
	struct nq n;
	nq_init(&n, dev, 0);
	hv_ctl("corrupt netvsc0 status");
	uint8_t f[300];
	eth(f, mac0, mac0, 300, 1);
	nq_send(&n, 0, f, 300, false, 0, 0, 0, 0);
	nq_kick(&n);
	struct pvio_net_rxc c;
	ck_assert_uint_eq(nq_recv(&n, &c, 1), 1);
	nq_tx_drain(&n);
	ck_assert_uint_eq(dev->stats[0].errors, 1);
	ck_assert(pvio_dev_usable(dev));
	pvio_dev_close(dev);
	pvio_ctx_free(ctx);
}
END_TEST

/* Buffers and channels go in the order each host generation needs: no
 * teardown waits on a GPADL the host still holds, on old and new hosts. */
START_TEST(close_order_fits_the_host)
{
	pvio_ctx *ctx = hv_ctx();
	for (int i = 0; i < 2; i++) {
		pvio_net *net = net_open(ctx, "netvsc0", 0, 1);
		uint8_t f[300], r[2048];
		eth(f, mac0, mac0, sizeof(f), 5 + i);
		ck_assert_int_eq(pvio_net_send(net, 0, f, sizeof(f), NULL), 0);
		ck_assert_int_eq(net_recv1(net, 0, r, sizeof(r), NULL), 300);
		uint64_t t0 = pvio_now_ns(ctx);
		pvio_net_close(net);
		ck_assert_uint_lt(pvio_now_ns(ctx) - t0, 2000000000ull);
	}
	ck_assert(!hv_log_has("still in use"));
	pvio_ctx_free(ctx);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("hyperv-net");
	TCase *tc = tcase_create("network");
	tcase_set_timeout(tc, 120);
	tcase_add_unchecked_fixture(tc, setup_network, teardown);
	tcase_add_test(tc, ops_frames_through_send_buffer_and_page_ranges);
	tcase_add_test(tc, ops_subchannels_are_queues);
	tcase_add_test(tc, bridge_between_two_partitions);
	tcase_add_test(tc, link_down_and_up);
	tcase_add_test(tc, frontend_send_and_receive);
	tcase_add_test(tc, offload_checksums);
	tcase_add_test(tc, offload_tcp_segmentation);
	tcase_add_test(tc, no_offloads_offered);
	tcase_add_test(tc, close_order_fits_the_host);
	tcase_add_test(tc, host_exits_clean);
	suite_add_tcase(s, tc);

	TCase *tf = tcase_create("faults");
	tcase_set_timeout(tf, 120);
	tcase_add_unchecked_fixture(tf, setup_faults, teardown);
	tcase_add_test(tf, rescind_mid_traffic);
	tcase_add_test(tf, slow_host);
	tcase_add_test(tf, corrupt_transid);
	tcase_add_test(tf, corrupt_offset8);
	tcase_add_test(tf, corrupt_len8);
	tcase_add_test(tf, corrupt_xfer_range_drops_a_frame);
	tcase_add_test(tf, corrupt_rndis_length_drops_a_frame);
	tcase_add_test(tf, corrupt_status_counts_an_error);
	tcase_add_test(tf, close_order_fits_the_host);
	tcase_add_test(tf, host_exits_clean);
	suite_add_tcase(s, tf);

	TCase *to = tcase_create("old-host");
	tcase_set_timeout(to, 60);
	tcase_add_unchecked_fixture(to, setup_old, teardown);
	tcase_add_test(to, close_order_fits_the_host);
	tcase_add_test(to, host_exits_clean);
	suite_add_tcase(s, to);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
