/* SPDX-License-Identifier: MIT */
/*
 * backends/xen/net.c through the transport contract against the fake
 * host's netback model (Debian's io/netif.h): the keys a front end must
 * write (request-rx-copy, feature-rx-notify, ...), netfront's state order,
 * TX with multi-slot frames, checksum flags (NETTXF and NETRXF bits are
 * swapped), GSO extra info and the NULL responses that follow it, RX into
 * whole pages with the checksum offsets found by parsing, split event
 * channels, multiple queues, copy mode, link state from `carrier`, and
 * the hostile cases.
 */
#include <check.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_xen_fake.h"

static pvio_ctx *ctx;
static struct fx *fx;

static void setup(void)
{
	ctx = fx_ctx(400);
	fx = fx_new(ctx, 4);
}

static void teardown(void)
{
	fx_destroy(fx);
	pvio_ctx_free(ctx);
}

static struct fxn_cfg base_cfg(void)
{
	return (struct fxn_cfg){ .sg = true, .max_queues = -1 };
}

static int try_open(const char *spec, pvio_dev **dev)
{
	char type[4];
	uint32_t devid;
	struct xen_opts o;
	ck_assert_int_eq(xen_parse_device(ctx, spec, type, &devid, &o), 0);
	int r = xen_open(ctx, &fx->h, type, devid, &o, dev);
	if (r == 0)
		(*dev)->address = pvio_strdup(ctx, spec);
	return r;
}

static pvio_dev *open_net(const char *spec, unsigned queues, uint64_t want)
{
	pvio_dev *dev;
	int r = try_open(spec, &dev);
	ck_assert_msg(r == 0, "open: %d %s", r, pvio_errmsg(ctx));
	struct pvio_dev_config cfg = { .num_queues = queues, .max_tags = 512,
				       .want = want };
	r = pvio_dev_configure(dev, &cfg);
	ck_assert_msg(r == 0, "configure: %d %s", r, pvio_errmsg(ctx));
	return dev;
}

static struct pvio_dseg seg_of(void *p, uint32_t len)
{
	struct pvio_dseg s = { p, 0, len };
	ck_assert_int_eq(pvio_dma_translate(ctx, p, len, &s.dev_addr), 0);
	return s;
}

/* an Ethernet + IPv4 + TCP frame of len bytes */
static void tcp4_frame(uint8_t *f, uint32_t len, bool vlan)
{
	memset(f, 0, len);
	for (uint32_t i = 0; i < len; i++)
		f[i] = (uint8_t)(i * 13);
	uint32_t l2 = 14;
	f[12] = 0x08;
	f[13] = 0x00;
	if (vlan) {
		f[12] = 0x81;
		f[13] = 0x00;
		f[16] = 0x08;
		f[17] = 0x00;
		l2 = 18;
	}
	f[l2] = 0x45; /* v4, ihl 5 */
	f[l2 + 6] = 0x40; /* DF, no fragment */
	f[l2 + 7] = 0;
	f[l2 + 9] = 6; /* TCP */
}

static unsigned reap_tx(pvio_dev *dev, unsigned q, uint32_t *tags, unsigned max)
{
	int n = dev->ops->net->tx_reap(dev, q, tags, max);
	ck_assert_int_ge(n, 0);
	return (unsigned)n;
}

static void post_rx(pvio_dev *dev, unsigned q, uint8_t **pages, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct pvio_net_rxb b = { .tag = 1000 + i,
					  .seg = seg_of(pages[i], 4096) };
		ck_assert_int_eq(dev->ops->net->rx_post(dev, q, &b), 0);
	}
	ck_assert_int_eq(dev->ops->net->kick(dev, q, PVIO_NET_KICK_RX), 0);
}

static uint8_t **alloc_pages(unsigned n)
{
	uint8_t **p = calloc(n, sizeof(*p));
	for (unsigned i = 0; i < n; i++) {
		p[i] = pvio_dma_alloc(ctx, 4096, 4096);
		ck_assert_ptr_nonnull(p[i]);
	}
	return p;
}

static void free_pages(uint8_t **p, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		pvio_dma_free(ctx, p[i]);
	free(p);
}

START_TEST(open_reads_the_toolstack)
{
	struct fxn_cfg c = base_cfg();
	c.mac = "00:16:3E:aa:bb:0c";
	c.mtu = "9000";
	c.carrier = "0";
	c.max_queues = 4;
	c.gso4 = true;
	fxn_new(fx, &c);
	pvio_dev *dev;
	ck_assert_int_eq(try_open("vif/0", &dev), 0);
	const struct pvio_net_limits *L = &dev->limits.net;
	static const uint8_t mac[6] = { 0x00, 0x16, 0x3e, 0xaa, 0xbb, 0x0c };
	ck_assert_int_eq(memcmp(L->mac, mac, 6), 0);
	ck_assert_uint_eq(L->mtu, 4096 - 18); /* one RX page */
	ck_assert(!L->link_up);
	ck_assert_uint_eq(L->max_queues, 4);
	ck_assert_uint_eq(L->queue_size, 256);
	ck_assert_uint_eq(L->rx_buf_exact, 4096);
	ck_assert_uint_eq(L->rx_buf_align, 4096);
	ck_assert_uint_eq(L->tx_seg_boundary, 4096);
	ck_assert_uint_eq(L->max_tx_segments, 18);
	ck_assert_uint_eq(L->max_tx_frame, 65535);
	ck_assert(dev->info.offered & PVIO_F_NET_TSO4);
	ck_assert(!(dev->info.offered & PVIO_F_NET_TSO6));
	ck_assert(dev->info.offered & PVIO_F_MULTIQUEUE);
	ck_assert_str_eq(dev->info.protocol, "netif");
	/* not connected until configure */
	ck_assert_str_eq(fx_read(fx, "/local/domain/4/device/vif/0/state"), "1");
	pvio_dev_close(dev);
}
END_TEST

START_TEST(keys_and_state_order)
{
	struct fxn_cfg c = base_cfg();
	struct fxn *n = fxn_new(fx, &c);
	pvio_dev *dev;
	ck_assert_int_eq(try_open("vif/1", &dev), 0);
	fx->nfe_log = 0;
	struct pvio_dev_config cfg = { .num_queues = 1, .max_tags = 64,
				       .want = PVIO_F_NET_CSUM_TX };
	ck_assert_int_eq(pvio_dev_configure(dev, &cfg), 0);
	/* netfront order: straight to Connected */
	ck_assert_uint_eq(fx->nfe_log, 1);
	ck_assert_int_eq(fx->fe_log[0], 4);
	ck_assert(n->q[0].connected);
	ck_assert_str_eq(fx_read(fx, "/local/domain/4/device/vif/1/request-rx-copy"), "1");
	ck_assert_ptr_nonnull(strstr(n->fe_keys, "feature-rx-notify=1"));
	ck_assert_ptr_nonnull(strstr(n->fe_keys, "feature-sg=0"));
	ck_assert_ptr_nonnull(strstr(n->fe_keys, "feature-gso-tcpv4=0"));
	/* no CSUM_RX wanted: the back end must fill checksums in */
	ck_assert_ptr_nonnull(strstr(n->fe_keys, "feature-no-csum-offload=1"));
	ck_assert_ptr_nonnull(fx_read(fx, "/local/domain/4/device/vif/1/event-channel"));
	ck_assert_ptr_null(fx_read(fx, "/local/domain/4/device/vif/1/event-channel-tx"));
	ck_assert_ptr_null(fx_read(fx, "/local/domain/4/device/vif/1/multi-queue-num-queues"));
	ck_assert(dev->info.features & PVIO_F_NET_CSUM_TX);
	ck_assert(!(dev->info.features & PVIO_F_NET_CSUM_RX));
	pvio_dev_close(dev);
	/* clean close: Closing, then Closed */
	ck_assert_int_eq(fx->fe_log[fx->nfe_log - 2], 5);
	ck_assert_int_eq(fx->fe_log[fx->nfe_log - 1], 6);
}
END_TEST

START_TEST(transmit)
{
	struct fxn_cfg c = base_cfg();
	c.gso4 = true;
	struct fxn *n = fxn_new(fx, &c);
	pvio_dev *dev = open_net("vif/2", 1,
				 PVIO_F_NET_CSUM_TX | PVIO_F_NET_TSO4);
	ck_assert(dev->info.features & PVIO_F_NET_TSO4);
	uint8_t *buf = pvio_dma_alloc(ctx, 5 * 4096, 4096);
	tcp4_frame(buf + 100, 1400, false);
	/* one segment, checksum partial */
	struct pvio_dseg s1 = seg_of(buf + 100, 1400);
	struct pvio_net_txd t = { .tag = 5, .nseg = 1, .len = 1400, .seg = &s1,
				  .flags = PVIO_PKT_CSUM_PARTIAL,
				  .csum_start = 34, .csum_offset = 16 };
	ck_assert_int_eq(dev->ops->net->tx_enqueue(dev, 0, &t), 0);
	ck_assert_int_eq(dev->ops->net->kick(dev, 0, PVIO_NET_KICK_TX), 0);
	ck_assert_uint_eq(n->nframes, 1);
	ck_assert_uint_eq(n->frames[0].len, 1400);
	ck_assert_int_eq(memcmp(n->frames[0].data, buf + 100, 1400), 0);
	ck_assert_uint_eq(n->frames[0].flags,
			  NETTXF_csum_blank | NETTXF_data_validated);
	uint32_t tags[8];
	ck_assert_uint_eq(reap_tx(dev, 0, tags, 8), 1);
	ck_assert_uint_eq(tags[0], 5);
	/* a TSO frame over three pages: first slot, GSO extra, two more */
	uint32_t len = 3000 + 4096 + 2000;
	uint8_t *f = buf + 4096 - 3000;
	for (uint32_t i = 0; i < len; i++)
		f[i] = (uint8_t)(i ^ 0x5a);
	struct pvio_dseg s3[3] = { seg_of(f, 3000), seg_of(f + 3000, 4096),
				   seg_of(f + 7096, 2000) };
	t = (struct pvio_net_txd){ .tag = 6, .nseg = 3, .len = len, .seg = s3,
				   .flags = PVIO_PKT_CSUM_PARTIAL |
					    PVIO_PKT_GSO_TCPV4,
				   .gso_size = 1448, .hdr_len = 54 };
	ck_assert_int_eq(dev->ops->net->tx_enqueue(dev, 0, &t), 0);
	ck_assert_int_eq(dev->ops->net->kick(dev, 0, PVIO_NET_KICK_TX), 0);
	ck_assert_uint_eq(n->nframes, 2);
	ck_assert_uint_eq(n->frames[1].len, len);
	ck_assert_uint_eq(n->frames[1].slots, 3);
	ck_assert_int_eq(memcmp(n->frames[1].data, f, len), 0);
	ck_assert_uint_eq(n->frames[1].gso_type, XEN_NETIF_GSO_TYPE_TCPV4);
	ck_assert_uint_eq(n->frames[1].gso_size, 1448);
	ck_assert(n->frames[1].flags & NETTXF_extra_info);
	/* 4 responses (one NULL for the extra slot), one completion */
	ck_assert_uint_eq(reap_tx(dev, 0, tags, 8), 1);
	ck_assert_uint_eq(tags[0], 6);
	ck_assert_uint_eq(reap_tx(dev, 0, tags, 8), 0);
	/* offloads not granted are refused */
	t.flags = PVIO_PKT_GSO_TCPV6;
	ck_assert_int_eq(dev->ops->net->tx_enqueue(dev, 0, &t), -EINVAL);
	/* a segment crossing a page */
	struct pvio_dseg bad = seg_of(buf + 4000, 200);
	t = (struct pvio_net_txd){ .tag = 7, .nseg = 1, .len = 200, .seg = &bad };
	ck_assert_int_eq(dev->ops->net->tx_enqueue(dev, 0, &t), -EINVAL);
	/* all data grants ended: only the two ring pages stay granted */
	unsigned granted = 0;
	for (uint32_t ref = 8; ref < fx->gt.next; ref++)
		granted += ((grant_entry_v1_t *)fx->frames)[ref].flags != 0;
	ck_assert_uint_eq(granted, 2);
	ck_assert_uint_eq(dev->stats[0].copies, 0);
	pvio_dma_free(ctx, buf);
	pvio_dev_close(dev);
}
END_TEST

START_TEST(no_sg_means_one_slot)
{
	struct fxn_cfg c = base_cfg();
	c.sg = false;
	fxn_new(fx, &c);
	pvio_dev *dev = open_net("vif/3", 1, 0);
	ck_assert_uint_eq(dev->limits.net.max_tx_segments, 1);
	ck_assert_uint_eq(dev->limits.net.max_tx_frame, 4096);
	ck_assert(!(dev->info.offered & PVIO_F_NET_TSO4));
	uint8_t *buf = pvio_dma_alloc(ctx, 8192, 4096);
	struct pvio_dseg s2[2] = { seg_of(buf, 100), seg_of(buf + 4096, 100) };
	struct pvio_net_txd t = { .tag = 1, .nseg = 2, .len = 200, .seg = s2 };
	ck_assert_int_eq(dev->ops->net->tx_enqueue(dev, 0, &t), -EINVAL);
	pvio_dma_free(ctx, buf);
	pvio_dev_close(dev);
}
END_TEST

START_TEST(receive)
{
	struct fxn_cfg c = base_cfg();
	c.rx_offset = 64;
	struct fxn *n = fxn_new(fx, &c);
	(void)n;
	pvio_dev *dev = open_net("vif/4", 1, PVIO_F_NET_CSUM_RX);
	ck_assert(dev->info.features & PVIO_F_NET_CSUM_RX);
	uint8_t **pg = alloc_pages(8);
	post_rx(dev, 0, pg, 8);
	uint8_t frame[1514];
	tcp4_frame(frame, sizeof(frame), false);
	ck_assert_int_eq(fxn_inject(fx, 0, frame, sizeof(frame), 0), 0);
	ck_assert_int_eq(fxn_inject(fx, 0, frame, 600, NETRXF_data_validated), 0);
	ck_assert_int_eq(fxn_inject(fx, 0, frame, 1000, NETRXF_csum_blank |
							     NETRXF_data_validated),
			 0);
	uint8_t vf[300];
	tcp4_frame(vf, sizeof(vf), true);
	vf[18 + 9] = 17; /* UDP */
	ck_assert_int_eq(fxn_inject(fx, 0, vf, sizeof(vf), NETRXF_csum_blank), 0);
	struct pvio_net_rxc rc[8];
	int got = dev->ops->net->rx_reap(dev, 0, rc, 8);
	ck_assert_int_eq(got, 4);
	ck_assert_uint_eq(rc[0].tag, 1000);
	ck_assert_int_eq(rc[0].status, 0);
	ck_assert_uint_eq(rc[0].offset, 64);
	ck_assert_uint_eq(rc[0].len, 1514);
	ck_assert_uint_eq(rc[0].flags, 0);
	ck_assert_int_eq(memcmp(pg[0] + 64, frame, 1514), 0);
	/* NETRXF_data_validated is bit 0 (NETTXF_csum_blank on TX) */
	ck_assert_uint_eq(rc[1].flags, PVIO_PKT_CSUM_VALID);
	ck_assert_uint_eq(rc[2].flags, PVIO_PKT_CSUM_PARTIAL);
	ck_assert_uint_eq(rc[2].csum_start, 34);
	ck_assert_uint_eq(rc[2].csum_offset, 16);
	ck_assert_uint_eq(rc[3].flags, PVIO_PKT_CSUM_PARTIAL);
	ck_assert_uint_eq(rc[3].csum_start, 38);
	ck_assert_uint_eq(rc[3].csum_offset, 6);
	/* a csum_blank frame we cannot parse is dropped */
	uint8_t arp[60] = { [12] = 0x08, [13] = 0x06 };
	ck_assert_int_eq(fxn_inject(fx, 0, arp, sizeof(arp), NETRXF_csum_blank), 0);
	got = dev->ops->net->rx_reap(dev, 0, rc, 8);
	ck_assert_int_eq(got, 1);
	ck_assert_int_eq(rc[0].status, -EPROTO);
	ck_assert_uint_eq(rc[0].len, 0);
	/* the ring is empty of buffers: the back end has nowhere to write */
	ck_assert_int_eq(fxn_inject(fx, 0, frame, 60, 0), 0);
	ck_assert_int_eq(fxn_inject(fx, 0, frame, 60, 0), 0);
	ck_assert_int_eq(fxn_inject(fx, 0, frame, 60, 0), 0);
	ck_assert_int_eq(fxn_inject(fx, 0, frame, 60, 0), -1);
	ck_assert_int_eq(dev->ops->net->rx_reap(dev, 0, rc, 8), 3);
	/* re-post: buffers go round the ring many times */
	for (int round = 0; round < 100; round++) {
		post_rx(dev, 0, pg, 8);
		for (int i = 0; i < 8; i++)
			ck_assert_int_eq(fxn_inject(fx, 0, frame, 60 + i, 0), 0);
		ck_assert_int_eq(dev->ops->net->rx_reap(dev, 0, rc, 8), 8);
		for (int i = 0; i < 8; i++) {
			ck_assert_int_eq(rc[i].status, 0);
			ck_assert_uint_eq(rc[i].len, 60u + (unsigned)i);
			ck_assert_uint_eq(rc[i].tag, 1000u + (unsigned)i);
		}
	}
	free_pages(pg, 8);
	pvio_dev_close(dev);
}
END_TEST

START_TEST(partial_checksum_not_negotiated_is_dropped)
{
	struct fxn_cfg c = base_cfg();
	struct fxn *n = fxn_new(fx, &c);
	pvio_dev *dev = open_net("vif/5", 1, 0);
	ck_assert_ptr_nonnull(strstr(n->fe_keys, "feature-no-csum-offload=1"));
	uint8_t **pg = alloc_pages(2);
	post_rx(dev, 0, pg, 2);
	uint8_t frame[100];
	tcp4_frame(frame, sizeof(frame), false);
	fxn_inject(fx, 0, frame, 100, NETRXF_csum_blank);
	fxn_inject(fx, 0, frame, 100, NETRXF_data_validated);
	struct pvio_net_rxc rc[2];
	ck_assert_int_eq(dev->ops->net->rx_reap(dev, 0, rc, 2), 2);
	ck_assert_int_eq(rc[0].status, -EPROTO);
	ck_assert_int_eq(rc[1].status, 0);
	ck_assert_uint_eq(rc[1].flags, 0); /* not asked for */
	free_pages(pg, 2);
	pvio_dev_close(dev);
}
END_TEST

/* the back end answers the next RX request with a hand-made response */
static void rx_raw(unsigned q, int id_delta, uint16_t off, uint16_t flags,
		   int16_t status)
{
	struct fxn_q *r = &fx->net->q[q];
	netif_rx_request_t rq;
	RING_COPY_REQUEST(&r->rx, r->rx.req_cons, &rq);
	r->rx.req_cons++;
	netif_rx_response_t *rs = RING_GET_RESPONSE(&r->rx, r->rx.rsp_prod_pvt);
	rs->id = (uint16_t)(rq.id + id_delta);
	rs->offset = off;
	rs->flags = flags;
	rs->status = status;
	r->rx.rsp_prod_pvt++;
	int notify;
	RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&r->rx, notify);
	(void)notify;
}

START_TEST(hostile_receive)
{
	struct fxn_cfg c = base_cfg();
	fxn_new(fx, &c);
	pvio_dev *dev = open_net("vif/6", 1, PVIO_F_NET_CSUM_RX);
	uint8_t **pg = alloc_pages(16);
	post_rx(dev, 0, pg, 16);
	rx_raw(0, 0, 0, 0, NETIF_RSP_ERROR);
	rx_raw(0, 0, 0, 0, 0);                 /* empty */
	rx_raw(0, 0, 4000, 0, 200);            /* beyond the page */
	rx_raw(0, 0, 0, NETRXF_more_data, 4096); /* multi-slot: not asked */
	rx_raw(0, 0, 0, 0, 100);               /* ... its last slot */
	rx_raw(0, 0, 0, NETRXF_extra_info, 100); /* GSO: not asked */
	/* the extra-info slot itself (struct netif_extra_info) */
	{
		struct fxn_q *r = &fx->net->q[0];
		r->rx.req_cons++;
		struct netif_extra_info *ex =
			(void *)RING_GET_RESPONSE(&r->rx, r->rx.rsp_prod_pvt);
		memset(ex, 0, sizeof(*ex));
		ex->type = XEN_NETIF_EXTRA_TYPE_GSO;
		r->rx.rsp_prod_pvt++;
		int nt;
		RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&r->rx, nt);
		(void)nt;
	}
	rx_raw(0, 0, 10, 0, 100);              /* good again */
	struct pvio_net_rxc rc[16];
	int got = dev->ops->net->rx_reap(dev, 0, rc, 16);
	ck_assert_int_eq(got, 8);
	ck_assert_int_eq(rc[0].status, -EIO);
	ck_assert_int_eq(rc[1].status, -EBADMSG);
	ck_assert_int_eq(rc[2].status, -EBADMSG);
	ck_assert_int_eq(rc[3].status, -EMSGSIZE);
	ck_assert_int_eq(rc[4].status, -EMSGSIZE);
	ck_assert_int_eq(rc[5].status, -EMSGSIZE);
	ck_assert_int_eq(rc[6].status, -EPROTO);
	ck_assert_int_eq(rc[7].status, 0);
	ck_assert_uint_eq(rc[7].offset, 10);
	for (int i = 0; i < 7; i++)
		ck_assert_uint_eq(rc[i].len, 0);
	for (int i = 0; i < 8; i++)
		ck_assert_uint_eq(rc[i].tag, 1000u + (unsigned)i);
	ck_assert_int_eq(pvio_dev_state(dev, NULL), PVIO_DEV_READY);
	/* an id that is not its slot's breaks the device */
	rx_raw(0, 1, 0, 0, 100);
	ck_assert_int_eq(dev->ops->net->rx_reap(dev, 0, rc, 16), -EIO);
	const char *why;
	ck_assert_int_eq(pvio_dev_state(dev, &why), PVIO_DEV_BROKEN);
	ck_assert_ptr_nonnull(strstr(why, "does not match its slot"));
	free_pages(pg, 16);
	pvio_dev_close(dev);
	ck_assert_uint_eq(xen_gnttab_quarantined(&fx->gt), 0);
}
END_TEST

static void tx_one(pvio_dev *dev, void *p, uint32_t tag)
{
	struct pvio_dseg s = seg_of(p, 64);
	struct pvio_net_txd t = { .tag = tag, .nseg = 1, .len = 64, .seg = &s };
	ck_assert_int_eq(dev->ops->net->tx_enqueue(dev, 0, &t), 0);
	ck_assert_int_eq(dev->ops->net->kick(dev, 0, PVIO_NET_KICK_TX), 0);
}

static void tx_raw(uint16_t id, int16_t status)
{
	struct fxn_q *r = &fx->net->q[0];
	while (RING_HAS_UNCONSUMED_REQUESTS(&r->tx))
		r->tx.req_cons++;
	netif_tx_response_t *rs = RING_GET_RESPONSE(&r->tx, r->tx.rsp_prod_pvt);
	rs->id = id;
	rs->status = status;
	r->tx.rsp_prod_pvt++;
	int nt;
	RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&r->tx, nt);
	(void)nt;
}

START_TEST(hostile_transmit)
{
	struct fxn_cfg c = base_cfg();
	c.manual = true;
	fxn_new(fx, &c);
	pvio_dev *dev = open_net("vif/7", 1, 0);
	uint8_t *buf = pvio_dma_alloc(ctx, 4096, 4096);
	tx_one(dev, buf, 1);
	tx_one(dev, buf, 2);
	netif_tx_request_t r1, r2;
	RING_COPY_REQUEST(&fx->net->q[0].tx, 0, &r1);
	RING_COPY_REQUEST(&fx->net->q[0].tx, 1, &r2);
	/* errors complete the frame (and are counted) */
	tx_raw(r1.id, NETIF_RSP_DROPPED);
	uint32_t tags[4];
	ck_assert_uint_eq(reap_tx(dev, 0, tags, 4), 1);
	ck_assert_uint_eq(tags[0], 1);
	ck_assert_uint_eq(dev->stats[0].errors, 1);
	/* the same id again (still within the published count) */
	tx_raw(r1.id, NETIF_RSP_OKAY);
	ck_assert_int_eq(dev->ops->net->tx_reap(dev, 0, tags, 4), -EIO);
	const char *why;
	ck_assert_int_eq(pvio_dev_state(dev, &why), PVIO_DEV_BROKEN);
	ck_assert_ptr_nonnull(strstr(why, "not an outstanding"));
	ck_assert_int_eq(dev->ops->net->tx_enqueue(
				 dev, 0,
				 &(struct pvio_net_txd){ .tag = 3, .nseg = 1,
							 .len = 64,
							 .seg = &(struct pvio_dseg){
								 buf, 0, 64 } }),
			 -EIO);
	(void)r2;
	pvio_dma_free(ctx, buf);
	pvio_dev_close(dev);
}
END_TEST

START_TEST(hostile_transmit_status_and_producer)
{
	struct fxn_cfg c = base_cfg();
	c.manual = true;
	fxn_new(fx, &c);
	pvio_dev *dev = open_net("vif/8", 1, 0);
	uint8_t *buf = pvio_dma_alloc(ctx, 4096, 4096);
	tx_one(dev, buf, 1);
	netif_tx_request_t r1;
	RING_COPY_REQUEST(&fx->net->q[0].tx, 0, &r1);
	tx_raw(r1.id, 3);
	uint32_t tags[4];
	ck_assert_int_eq(dev->ops->net->tx_reap(dev, 0, tags, 4), -EIO);
	const char *why;
	pvio_dev_state(dev, &why);
	ck_assert_ptr_nonnull(strstr(why, "unknown status 3"));
	pvio_dev_close(dev);

	free(fx->net->frames);
	free(fx->net);
	struct fxn *n = fxn_new(fx, &c);
	dev = open_net("vif/9", 1, 0);
	tx_one(dev, buf, 1);
	n->q[0].tx.sring->rsp_prod += 300;
	ck_assert_int_eq(dev->ops->net->tx_reap(dev, 0, tags, 4), -EIO);
	pvio_dev_state(dev, &why);
	ck_assert_ptr_nonnull(strstr(why, "beyond the requests"));
	pvio_dma_free(ctx, buf);
	pvio_dev_close(dev);
}
END_TEST

START_TEST(hostile_transmit_answer_to_an_unpublished_request)
{
	struct fxn_cfg c = base_cfg();
	c.manual = true;
	fxn_new(fx, &c);
	pvio_dev *dev = open_net("vif/10", 1, 0);
	uint8_t *buf = pvio_dma_alloc(ctx, 4096, 4096);
	tx_one(dev, buf, 1);
	/* queued but not kicked: the back end reads ahead of req_prod */
	struct pvio_dseg s = seg_of(buf, 64);
	struct pvio_net_txd t = { .tag = 2, .nseg = 1, .len = 64, .seg = &s };
	ck_assert_int_eq(dev->ops->net->tx_enqueue(dev, 0, &t), 0);
	netif_tx_request_t ahead;
	RING_COPY_REQUEST(&fx->net->q[0].tx, 1, &ahead);
	ck_assert_uint_eq(fx->net->q[0].tx.sring->req_prod, 1);
	tx_raw(ahead.id, NETIF_RSP_OKAY);
	uint32_t tags[4];
	ck_assert_int_eq(dev->ops->net->tx_reap(dev, 0, tags, 4), -EIO);
	const char *why;
	ck_assert_int_eq(pvio_dev_state(dev, &why), PVIO_DEV_BROKEN);
	ck_assert_ptr_nonnull(strstr(why, "not published"));
	pvio_dma_free(ctx, buf);
	pvio_dev_close(dev);
}
END_TEST

START_TEST(split_event_channels)
{
	struct fxn_cfg c = base_cfg();
	c.split = true;
	struct fxn *n = fxn_new(fx, &c);
	pvio_dev *dev = open_net("vif/10", 1, 0);
	ck_assert_ptr_nonnull(fx_read(fx, "/local/domain/4/device/vif/10/event-channel-tx"));
	ck_assert_ptr_nonnull(fx_read(fx, "/local/domain/4/device/vif/10/event-channel-rx"));
	ck_assert_ptr_null(fx_read(fx, "/local/domain/4/device/vif/10/event-channel"));
	ck_assert_ptr_ne(n->q[0].evtx, n->q[0].evrx);
	int fd = dev->ops->queue_fd(dev, 0);
	ck_assert_int_ge(fd, 0);
	uint8_t **pg = alloc_pages(2);
	post_rx(dev, 0, pg, 2);
	/* an RX kick goes to the RX channel only */
	ck_assert_uint_eq(n->q[0].evrx->kicks, 1);
	ck_assert_uint_eq(n->q[0].evtx->kicks, 0);
	ck_assert_int_eq(dev->ops->queue_arm(dev, 0), 0);
	uint8_t frame[64] = { 0 };
	fxn_inject(fx, 0, frame, 64, 0);
	ck_assert_uint_eq(n->q[0].evrx->irqs, 1);
	/* the queue's one descriptor sees the RX channel's interrupt */
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ck_assert_int_eq(poll(&p, 1, 0), 1);
	dev->ops->queue_ack(dev, 0);
	ck_assert_int_eq(poll(&p, 1, 0), 0);
	/* and the TX channel's */
	uint8_t *buf = pvio_dma_alloc(ctx, 4096, 4096);
	ck_assert_int_eq(dev->ops->queue_arm(dev, 0), 1); /* RX pending */
	struct pvio_net_rxc rc[2];
	ck_assert_int_eq(dev->ops->net->rx_reap(dev, 0, rc, 2), 1);
	ck_assert_int_eq(dev->ops->queue_arm(dev, 0), 0);
	tx_one(dev, buf, 9);
	ck_assert_uint_eq(n->q[0].evtx->kicks, 1);
	ck_assert_uint_eq(n->q[0].evtx->irqs, 1);
	ck_assert_int_eq(poll(&p, 1, 0), 1);
	dev->ops->queue_ack(dev, 0);
	pvio_dma_free(ctx, buf);
	free_pages(pg, 2);
	pvio_dev_close(dev);
}
END_TEST

START_TEST(multiple_queues)
{
	struct fxn_cfg c = base_cfg();
	c.max_queues = 4;
	struct fxn *n = fxn_new(fx, &c);
	pvio_dev *dev = open_net("vif/11", 2, 0);
	ck_assert_uint_eq(n->nq, 2);
	ck_assert_str_eq(fx_read(fx, "/local/domain/4/device/vif/11/multi-queue-num-queues"),
			 "2");
	ck_assert_ptr_nonnull(fx_read(fx, "/local/domain/4/device/vif/11/queue-1/tx-ring-ref"));
	ck_assert_ptr_null(fx_read(fx, "/local/domain/4/device/vif/11/tx-ring-ref"));
	ck_assert(dev->info.features & PVIO_F_MULTIQUEUE);
	uint8_t **pg = alloc_pages(1);
	struct pvio_net_rxb b = { .tag = 1, .seg = seg_of(pg[0], 4096) };
	ck_assert_int_eq(dev->ops->net->rx_post(dev, 1, &b), 0);
	dev->ops->net->kick(dev, 1, PVIO_NET_KICK_RX);
	uint8_t frame[80];
	memset(frame, 0x77, sizeof(frame));
	ck_assert_int_eq(fxn_inject(fx, 0, frame, 80, 0), -1);
	ck_assert_int_eq(fxn_inject(fx, 1, frame, 80, 0), 0);
	struct pvio_net_rxc rc[1];
	ck_assert_int_eq(dev->ops->net->rx_reap(dev, 0, rc, 1), 0);
	ck_assert_int_eq(dev->ops->net->rx_reap(dev, 1, rc, 1), 1);
	ck_assert_int_eq(memcmp(pg[0], frame, 80), 0);
	free_pages(pg, 1);
	pvio_dev_close(dev);
}
END_TEST

START_TEST(copy_mode)
{
	struct fxn_cfg c = base_cfg();
	struct fxn *n = fxn_new(fx, &c);
	pvio_dev *dev = open_net("vif/12?copy=1", 1, 0);
	uint8_t *buf = pvio_dma_alloc(ctx, 4096, 4096);
	memset(buf, 0x3c, 4096);
	tx_one(dev, buf + 4000, 1); /* 64 bytes ending... inside the page */
	ck_assert_uint_eq(n->nframes, 1);
	ck_assert_int_eq(memcmp(n->frames[0].data, buf + 4000, 64), 0);
	ck_assert_uint_eq(dev->stats[0].copies, 1);
	ck_assert_uint_eq(dev->stats[0].copy_bytes, 64);
	/* the caller's page is never granted in copy mode */
	uint64_t a;
	pvio_dma_translate(ctx, buf, 1, &a);
	for (uint32_t ref = 8; ref < fx->gt.next; ref++) {
		grant_entry_v1_t *e = (grant_entry_v1_t *)fx->frames + ref;
		if (e->flags)
			ck_assert_uint_ne(e->frame, a >> 12);
	}
	uint8_t **pg = alloc_pages(1);
	post_rx(dev, 0, pg, 1);
	uint8_t frame[128];
	memset(frame, 0x99, sizeof(frame));
	fxn_inject(fx, 0, frame, 128, 0);
	struct pvio_net_rxc rc[1];
	ck_assert_int_eq(dev->ops->net->rx_reap(dev, 0, rc, 1), 1);
	ck_assert_int_eq(memcmp(pg[0], frame, 128), 0);
	ck_assert_uint_eq(dev->stats[0].copies, 2);
	free_pages(pg, 1);
	pvio_dma_free(ctx, buf);
	pvio_dev_close(dev);
	ck_assert_uint_eq(fx->h.shared, 0);
	/* a hostif that cannot share the packet buffers: a clear error */
	fx->h.share_limit = 100;
	ck_assert_int_eq(try_open("vif/12?copy=1", &dev), 0);
	struct pvio_dev_config cfg = { .num_queues = 1, .max_tags = 64 };
	ck_assert_int_eq(pvio_dev_configure(dev, &cfg), -ENOSPC);
	ck_assert_ptr_nonnull(strstr(pvio_errmsg(ctx), "use fewer queues"));
	pvio_dev_close(dev);
	ck_assert_uint_eq(fx->h.shared, 0);
}
END_TEST

START_TEST(link_state_from_carrier)
{
	struct fxn_cfg c = base_cfg();
	c.carrier = "1";
	fxn_new(fx, &c);
	pvio_dev *dev = open_net("vif/13", 1, 0);
	ck_assert(dev->limits.net.link_up);
	struct pvio_event ev;
	while (pvio_dev_next_event(dev, &ev) == 1)
		;
	fx_write(fx, "/local/domain/0/backend/vif/4/13/carrier", "0");
	ck_assert_int_eq(pvio_dev_next_event(dev, &ev), 1);
	ck_assert_int_eq(ev.type, PVIO_EVENT_LINK_CHANGE);
	ck_assert_uint_eq(ev.value, 0);
	ck_assert(!dev->limits.net.link_up);
	fx_write(fx, "/local/domain/0/backend/vif/4/13/carrier", "1");
	ck_assert_int_eq(pvio_dev_next_event(dev, &ev), 1);
	ck_assert_int_eq(ev.type, PVIO_EVENT_LINK_CHANGE);
	ck_assert_uint_eq(ev.value, 1);
	/* an absent key means up; garbage breaks the device */
	fx_write(fx, "/local/domain/0/backend/vif/4/13/carrier", "yes");
	ck_assert_int_eq(pvio_dev_next_event(dev, &ev), 1);
	ck_assert_int_eq(ev.type, PVIO_EVENT_NEEDS_RESET);
	pvio_dev_close(dev);
}
END_TEST

START_TEST(toolstack_garbage_refuses_the_device)
{
	pvio_dev *dev;
	struct fxn_cfg c = base_cfg();
	c.no_rx_copy = true;
	fxn_new(fx, &c);
	ck_assert_int_eq(try_open("vif/14", &dev), -EPROTONOSUPPORT);
	ck_assert_ptr_nonnull(strstr(pvio_errmsg(ctx), "feature-rx-copy"));
	static const char *const macs[] = { "00:16:3e:01:02", "00-16-3e-01-02-03",
					    "00:16:3e:01:02:0g", "0:16:3e:01:02:03x" };
	for (unsigned i = 0; i < 4; i++) {
		free(fx->net);
		c = base_cfg();
		c.mac = macs[i];
		fxn_new(fx, &c);
		ck_assert_int_eq(try_open("vif/15", &dev), -EPROTO);
		ck_assert_ptr_nonnull(strstr(pvio_errmsg(ctx), "MAC"));
	}
	static const char *const mtus[] = { "abc", "10", "65536", "1500x" };
	for (unsigned i = 0; i < 4; i++) {
		free(fx->net);
		c = base_cfg();
		c.mtu = mtus[i];
		fxn_new(fx, &c);
		ck_assert_int_eq(try_open("vif/16", &dev), -EPROTO);
	}
	free(fx->net);
	c = base_cfg();
	c.carrier = "2";
	fxn_new(fx, &c);
	ck_assert_int_eq(try_open("vif/17", &dev), -EPROTO);
	ck_assert_uint_eq(fx->attached, fx->detached);
}
END_TEST

START_TEST(backend_closes_with_transmits_in_flight)
{
	struct fxn_cfg c = base_cfg();
	c.manual = true;
	fxn_new(fx, &c);
	pvio_dev *dev = open_net("vif/18", 1, 0);
	uint8_t *buf = pvio_dma_alloc(ctx, 4096, 4096);
	uint8_t **pg = alloc_pages(1);
	post_rx(dev, 0, pg, 1);
	tx_one(dev, buf, 1);
	fx_write(fx, "/local/domain/0/backend/vif/4/18/state", "6");
	struct pvio_event ev;
	ck_assert_int_eq(pvio_dev_next_event(dev, &ev), 1);
	ck_assert_int_eq(ev.type, PVIO_EVENT_REMOVED);
	ck_assert_str_eq(fx_read(fx, "/local/domain/4/device/vif/18/state"), "6");
	uint32_t tags[2];
	ck_assert_int_eq(dev->ops->net->tx_reap(dev, 0, tags, 2), -ENODEV);
	ck_assert_int_eq(dev->ops->net->kick(dev, 0, PVIO_NET_KICK_TX), -ENODEV);
	struct pvio_net_rxc rc[1];
	ck_assert_int_eq(dev->ops->net->rx_reap(dev, 0, rc, 1), -ENODEV);
	pvio_dev_close(dev);
	pvio_dma_free(ctx, buf);
	free_pages(pg, 1);
}
END_TEST

START_TEST(mac_cannot_be_changed)
{
	struct fxn_cfg c = base_cfg();
	fxn_new(fx, &c);
	pvio_dev *dev = open_net("vif/19", 1, 0);
	static const uint8_t other[6] = { 2, 0, 0, 0, 0, 1 };
	ck_assert_int_eq(dev->ops->net->set_mac(dev, other), -EOPNOTSUPP);
	ck_assert(!(dev->info.offered & PVIO_F_NET_SET_MAC));
	pvio_dev_close(dev);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("xen_net");
	TCase *tc = tcase_create("net");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, open_reads_the_toolstack);
	tcase_add_test(tc, keys_and_state_order);
	tcase_add_test(tc, transmit);
	tcase_add_test(tc, no_sg_means_one_slot);
	tcase_add_test(tc, receive);
	tcase_add_test(tc, partial_checksum_not_negotiated_is_dropped);
	tcase_add_test(tc, hostile_receive);
	tcase_add_test(tc, hostile_transmit);
	tcase_add_test(tc, hostile_transmit_status_and_producer);
	tcase_add_test(tc, hostile_transmit_answer_to_an_unpublished_request);
	tcase_add_test(tc, split_event_channels);
	tcase_add_test(tc, multiple_queues);
	tcase_add_test(tc, copy_mode);
	tcase_add_test(tc, link_state_from_carrier);
	tcase_add_test(tc, toolstack_garbage_refuses_the_device);
	tcase_add_test(tc, backend_closes_with_transmits_in_flight);
	tcase_add_test(tc, mac_cannot_be_changed);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
