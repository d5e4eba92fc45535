/* SPDX-License-Identifier: MIT */
/*
 * Integration tests: pvio's virtio-net back end against a real DPDK
 * dpdk-testpmd with a net_vhost port in io forward mode, which sends every
 * frame it receives straight back.  Frames of every length from 60 to 1514
 * bytes go out and must come back intact, over split and packed rings, and
 * over two queue pairs.
 */
#include <signal.h>

#include "vhost_user_util.h"
#include "backends/virtio/virtio.h"

#define NBUF 256u
#define BUFSZ 2048u
#define BATCH 32u

struct net_env {
	struct peer *peer;
	pvio_ctx *ctx;
	pvio_dev *dev;
	unsigned npairs;
	struct pvio_dseg rx[8];   /* per pair: NBUF buffers of BUFSZ */
	struct pvio_dseg tx[8];   /* per pair: NBUF frames of BUFSZ */
};

static void post_rx(struct net_env *e, unsigned q, uint32_t tag)
{
	struct pvio_net_rxb b = { tag, util_sub(e->rx[q], tag * BUFSZ, BUFSZ) };
	ck_assert_int_eq(e->dev->ops->net->rx_post(e->dev, q, &b), 0);
}

static void net_open(struct net_env *e, unsigned pairs, const char *opts)
{
	memset(e, 0, sizeof(*e));
	struct peer_testpmd_opts po = { .queues = pairs };
	e->peer = peer_testpmd_start(&po, PEER_START_MS);
	ck_assert_msg(e->peer != NULL, "dpdk-testpmd did not start");
	e->ctx = util_ctx(64u << 20, 5000);
	char addr[400];
	peer_address(e->peer, opts, addr, sizeof(addr));
	int r = pvio_dev_open(e->ctx, addr, &e->dev);
	ck_assert_msg(r == 0, "open %s: %s", addr, pvio_errmsg(e->ctx));
	ck_assert_int_eq(e->dev->info.cls, PVIO_CLASS_NET); /* inferred */
	struct pvio_dev_config cfg = { .num_queues = pairs, .max_tags = NBUF };
	r = pvio_dev_configure(e->dev, &cfg);
	ck_assert_msg(r == 0, "configure: %s", pvio_errmsg(e->ctx));
	e->npairs = pairs;
	for (unsigned q = 0; q < pairs; q++) {
		e->rx[q] = util_seg(e->ctx, NBUF * BUFSZ);
		e->tx[q] = util_seg(e->ctx, NBUF * BUFSZ);
		unsigned ring = virtio_of(e->dev)->vq[2 * q].size;
		for (uint32_t t = 0; t < NBUF && t < ring; t++)
			post_rx(e, q, t);
		ck_assert_int_eq(e->dev->ops->net->kick(e->dev, q, PVIO_NET_KICK_RX), 0);
	}
}

static void net_close(struct net_env *e)
{
	if (getenv("PVIO_TEST_PEER_LOG"))
		printf("---- %s log ----\n%s\n", e->peer->name,
		       peer_log_tail(e->peer));
	/* the vhost library logs what it refuses; nothing should be */
	FILE *lf = fopen(e->peer->log, "r");
	char line[512];
	while (lf && fgets(line, sizeof(line), lf))
		ck_assert_msg(strncmp(line, "VHOST_", 6) ||
				      (!strstr(line, "rror") && !strstr(line, "nvalid") &&
				       !strstr(line, "ailed")),
			      "testpmd complained: %s", line);
	if (lf)
		fclose(lf);
	pvio_dev_close(e->dev);
	pvio_ctx_free(e->ctx);
	ck_assert_int_eq(peer_stop(e->peer, 10000), 0);
}

/* frame seq of length len: broadcast, our MAC, a local ethertype, then the
 * sequence number and a pattern derived from it */
static void make_frame(uint8_t *f, uint32_t len, uint32_t seq, const uint8_t *mac)
{
	memset(f, 0xff, 6);
	memcpy(f + 6, mac, 6);
	f[12] = 0x88;
	f[13] = 0xb5;
	memcpy(f + 14, &seq, 4);
	uint32_t x = seq * 2654435761u;
	for (uint32_t i = 18; i < len; i++) {
		x = x * 1103515245u + 12345u;
		f[i] = (uint8_t)(x >> 16);
	}
}

/* Send frames [first, first+n) of the given lengths on pair q and check
 * that they come back intact and in order. */
static void roundtrip(struct net_env *e, unsigned q, uint32_t seq0,
		      const uint32_t *lens, unsigned n)
{
	pvio_dev *dev = e->dev;
	const struct pvio_net_ops *o = dev->ops->net;
	const uint8_t *mac = dev->limits.net.mac;
	for (unsigned i = 0; i < n; i++) {
		uint8_t *f = (uint8_t *)e->tx[q].va + i * BUFSZ;
		make_frame(f, lens[i], seq0 + i, mac);
		struct pvio_dseg seg = util_sub(e->tx[q], i * BUFSZ, lens[i]);
		/* split long frames in two segments to exercise chains */
		struct pvio_dseg two[2] = { util_sub(seg, 0, 14),
					    util_sub(seg, 14, lens[i] - 14) };
		struct pvio_net_txd t = { .tag = i, .len = lens[i] };
		if (lens[i] > 100) {
			t.nseg = 2;
			t.seg = two;
		} else {
			t.nseg = 1;
			t.seg = &seg;
		}
		ck_assert_int_eq(o->tx_enqueue(dev, q, &t), 0);
	}
	ck_assert_int_eq(o->kick(dev, q, PVIO_NET_KICK_TX), 0);

	unsigned got = 0, txdone = 0;
	uint64_t deadline = util_now(e->ctx) + IO_WAIT_NS;
	while (got < n || txdone < n) {
		struct pvio_net_rxc c[64];
		int k = o->rx_reap(dev, q, c, 64);
		ck_assert_int_ge(k, 0);
		for (int j = 0; j < k; j++) {
			ck_assert_int_eq(c[j].status, 0);
			ck_assert_uint_eq(c[j].offset, 12);
			ck_assert_uint_lt(got, n);
			ck_assert_uint_eq(c[j].len, lens[got]);
			uint8_t *rb = (uint8_t *)e->rx[q].va + c[j].tag * BUFSZ;
			uint8_t *want = (uint8_t *)e->tx[q].va + got * BUFSZ;
			ck_assert_mem_eq(rb + c[j].offset, want, lens[got]);
			post_rx(e, q, c[j].tag);
			got++;
		}
		if (k)
			ck_assert_int_eq(o->kick(dev, q, PVIO_NET_KICK_RX), 0);
		uint32_t tags[64];
		int t = o->tx_reap(dev, q, tags, 64);
		ck_assert_int_ge(t, 0);
		txdone += (unsigned)t;
		if (got >= n && txdone >= n)
			break;
		ck_assert_msg(util_now(e->ctx) < deadline,
			      "only %u of %u frames came back (tx done %u); "
			      "testpmd log:\n%s",
			      got, n, txdone, peer_log_tail(e->peer));
		ck_assert_int_ge(pvio_dev_wait(dev, q, deadline), 0);
	}
}

static void all_lengths(struct net_env *e, unsigned q)
{
	uint32_t lens[BATCH];
	uint32_t len = 60, seq = 0;
	while (len <= 1514) {
		unsigned n = 0;
		while (n < BATCH && len <= 1514)
			lens[n++] = len++;
		roundtrip(e, q, seq, lens, n);
		seq += n;
	}
	ck_assert_uint_eq(seq, 1514 - 60 + 1);
}

/* Stop the back end cleanly (GET_VRING_BASE on every ring): everything it
 * took has come back, so the device stops without leaking. */
static void quiesce_clean(struct net_env *e)
{
	int r = e->dev->ops->quiesce(e->dev);
	ck_assert_msg(r == 0, "quiesce: %s", pvio_errmsg(e->ctx));
	ck_assert_int_eq(pvio_dev_state(e->dev, NULL), PVIO_DEV_STOPPED);
	ck_assert(!virtio_of(e->dev)->leak);
	struct pvio_net_rxc c[8];
	ck_assert_int_ge(e->dev->ops->net->rx_reap(e->dev, 0, c, 8), 0);
	uint32_t tags[8];
	ck_assert_int_ge(e->dev->ops->net->tx_reap(e->dev, 0, tags, 8), 0);
	struct pvio_net_rxb b = { 0, util_sub(e->rx[0], 0, BUFSZ) };
	ck_assert_int_eq(e->dev->ops->net->rx_post(e->dev, 0, &b), -ESHUTDOWN);
}

static void report(struct net_env *e, const char *what)
{
	struct virtio_dev *vd = virtio_of(e->dev);
	printf("testpmd %s: offered 0x%llx negotiated 0x%llx (%s ring, %u "
	       "slots, in-order %s, indirect %s, event-idx %s, back end "
	       "virtqueues %u); mac %02x:%02x:%02x:%02x:%02x:%02x mtu %u\n",
	       what, (unsigned long long)vd->offered,
	       (unsigned long long)vd->features,
	       vd->features & VW_BIT(VW_F_RING_PACKED) ? "packed" : "split",
	       vd->vq[0].size,
	       vd->features & VW_BIT(VW_F_IN_ORDER) ? "yes" : "no",
	       vd->features & VW_BIT(VW_F_INDIRECT_DESC) ? "yes" : "no",
	       vd->features & VW_BIT(VW_F_EVENT_IDX) ? "yes" : "no",
	       vd->h->max_vqs, e->dev->limits.net.mac[0], e->dev->limits.net.mac[1],
	       e->dev->limits.net.mac[2], e->dev->limits.net.mac[3],
	       e->dev->limits.net.mac[4], e->dev->limits.net.mac[5],
	       e->dev->limits.net.mtu);
	for (unsigned q = 0; q < e->npairs; q++) {
		struct pvio_queue_stats *st = &e->dev->stats[q];
		printf("  pair %u: notify_sent %llu suppressed %llu irqs %llu "
		       "rx_errors %llu\n",
		       q, (unsigned long long)st->notify_sent,
		       (unsigned long long)st->notify_suppressed,
		       (unsigned long long)st->irqs,
		       (unsigned long long)st->rx_errors);
	}
	util_print_info(e->dev, what);
}

START_TEST(net_split)
{
	struct net_env e;
	net_open(&e, 1, "packed=off");
	struct virtio_dev *vd = virtio_of(e.dev);
	ck_assert(!(vd->features & VW_BIT(VW_F_RING_PACKED)));
	ck_assert(vd->features & VW_BIT(VW_F_VERSION_1));
	/* the front end owns the MAC: locally administered, unicast */
	ck_assert_uint_eq(e.dev->limits.net.mac[0] & 3, 2);
	ck_assert(e.dev->limits.net.link_up);
	all_lengths(&e, 0);
	ck_assert_uint_eq(e.dev->stats[0].rx_errors, 0);
	report(&e, "split");
	/* frames outside the limits are refused */
	struct pvio_dseg s = util_sub(e.tx[0], 0, 13);
	struct pvio_net_txd t = { .tag = 0, .nseg = 1, .len = 13, .seg = &s };
	ck_assert_int_eq(e.dev->ops->net->tx_enqueue(e.dev, 0, &t), -EINVAL);
	s = util_sub(e.tx[0], 0, 1519);
	t.len = 1519;
	ck_assert_int_eq(e.dev->ops->net->tx_enqueue(e.dev, 0, &t), -EINVAL);
	t.len = 100; /* does not match the segments */
	ck_assert_int_eq(e.dev->ops->net->tx_enqueue(e.dev, 0, &t), -EINVAL);
	t.flags = PVIO_PKT_CSUM_PARTIAL; /* not negotiated */
	s.len = 100;
	ck_assert_int_eq(e.dev->ops->net->tx_enqueue(e.dev, 0, &t), -EINVAL);
	quiesce_clean(&e);
	net_close(&e);
}
END_TEST

START_TEST(net_packed)
{
	struct net_env e;
	net_open(&e, 1, NULL);
	struct virtio_dev *vd = virtio_of(e.dev);
	ck_assert(vd->features & VW_BIT(VW_F_RING_PACKED));
	ck_assert(e.dev->info.features & PVIO_F_PACKED_RING);
	all_lengths(&e, 0);
	report(&e, "packed");
	/* the MAC is the front end's to change */
	uint8_t mac[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
	ck_assert_int_eq(e.dev->ops->net->set_mac(e.dev, mac), 0);
	ck_assert_mem_eq(e.dev->limits.net.mac, mac, 6);
	uint32_t lens[2] = { 60, 1514 };
	roundtrip(&e, 0, 5000, lens, 2);
	/* the stop position of a packed ring carries the wrap counter */
	quiesce_clean(&e);
	net_close(&e);
}
END_TEST

static void two_pairs(const char *opts, const char *what)
{
	struct net_env e;
	char o[64];
	snprintf(o, sizeof(o), "queues=2%s%s", opts ? "&" : "", opts ? opts : "");
	net_open(&e, 2, o);
	ck_assert(e.dev->info.features & PVIO_F_MULTIQUEUE);
	uint32_t lens[BATCH];
	for (unsigned i = 0; i < BATCH; i++)
		lens[i] = 60 + 45 * i;
	for (unsigned round = 0; round < 4; round++)
		for (unsigned q = 0; q < 2; q++)
			roundtrip(&e, q, round * 100 + q * 1000, lens, BATCH);
	report(&e, what);
	/* every batch on the second pair was a notification decision (DPDK
	 * polls, so it usually asks not to be notified) */
	ck_assert_uint_gt(e.dev->stats[1].notify_sent +
			  e.dev->stats[1].notify_suppressed, 0);
	net_close(&e);
}

START_TEST(net_two_pairs_split)
{
	two_pairs("packed=off", "2 pairs split");
}
END_TEST

START_TEST(net_two_pairs_packed)
{
	two_pairs(NULL, "2 pairs packed");
}
END_TEST

/* testpmd killed with frames in flight: removed, no hang. */
START_TEST(net_peer_killed)
{
	struct net_env e;
	net_open(&e, 1, NULL);
	uint32_t lens[1] = { 60 };
	roundtrip(&e, 0, 0, lens, 1);
	ck_assert_int_eq(peer_signal(e.peer, SIGKILL), 0);
	ck_assert_int_eq(peer_wait_exit(e.peer, 10000), 0);
	uint64_t deadline = util_now(e.ctx) + IO_WAIT_NS;
	int r;
	while ((r = pvio_dev_wait(e.dev, 0, deadline)) == 1 &&
	       pvio_dev_state(e.dev, NULL) == PVIO_DEV_READY)
		;
	ck_assert_int_eq(pvio_dev_state(e.dev, NULL), PVIO_DEV_REMOVED);
	struct pvio_net_rxc c[4];
	ck_assert_int_eq(e.dev->ops->net->rx_reap(e.dev, 0, c, 4), -ENODEV);
	pvio_dev_close(e.dev);
	pvio_ctx_free(e.ctx);
	peer_stop(e.peer, 1000);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("vhost_user_net");
	TCase *t = tcase_create("testpmd");
	tcase_set_timeout(t, 180);
	tcase_add_test(t, net_split);
	tcase_add_test(t, net_packed);
	tcase_add_test(t, net_two_pairs_split);
	tcase_add_test(t, net_two_pairs_packed);
	tcase_add_test(t, net_peer_killed);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
