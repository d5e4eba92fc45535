/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the network front end on the fake loopback device:
 * pools and bursts, copying helpers, receive-buffer rules, segmentation
 * boundaries, offloads and the software checksum, MAC handling, bad
 * packets, backpressure, device failure, migration with frames in flight.
 */
#include <poll.h>

#include "fe_util.h"

struct nenv {
	pvio_ctx *ctx;
	struct fake *f;
	pvio_net *net;
};

static int nup(struct nenv *e, const struct pvio_net_limits *l,
	       uint64_t offered, const struct pvio_net_opts *o)
{
	memset(e, 0, sizeof(*e));
	e->ctx = fe_test_ctx(200);
	e->f = fake_net_new(e->ctx, "fake:net0", l, offered);
	return pvio_net_attach(e->f->dev, o, &e->net);
}

static void ndown(struct nenv *e)
{
	if (e->net)
		pvio_net_close(e->net);
	ck_assert(e->f->closed);
	ck_assert_msg(e->f->violations == 0, "%s", e->f->violation);
	fake_free(e->f);
	pvio_ctx_free(e->ctx);
}

static struct pvio_queue_stats nstats(pvio_net *net, unsigned q)
{
	struct pvio_queue_stats st;
	ck_assert_int_eq(pvio_net_get_stats(net, q, &st), 0);
	return st;
}

/* How many TX packets can be allocated right now (then freed again). */
static unsigned tx_free(pvio_net *net, unsigned q)
{
	struct pvio_pkt *p[20000];
	unsigned n = 0;
	while (n < 20000 && (p[n] = pvio_net_pkt_alloc(net, q)))
		n++;
	for (unsigned i = 0; i < n; i++)
		pvio_net_pkt_free(net, p[i]);
	return n;
}

START_TEST(loopback_bursts)
{
	struct nenv e;
	struct pvio_net_limits l = fake_net_limits_virtio();
	struct pvio_net_opts o = { .struct_size = sizeof(o), .ring_size = 32 };
	ck_assert_int_eq(nup(&e, &l, 0, &o), 0);
	struct pvio_net_info in = { .struct_size = sizeof(in) };
	ck_assert_int_eq(pvio_net_get_info(e.net, &in), 0);
	ck_assert_mem_eq(in.mac, l.mac, 6);
	ck_assert_uint_eq(in.mtu, 1500);
	ck_assert_uint_eq(in.ring_size, 32);
	ck_assert_uint_eq(in.max_tx_frame, 1518);
	ck_assert_uint_ge(in.buf_size, 1518);
	ck_assert(in.link_up);
	ck_assert_uint_eq(fake_rx_posted(e.f, 0), 32);
	ck_assert_uint_eq(tx_free(e.net, 0), 32 + 32);

	struct pvio_pkt *p[8];
	uint64_t s = 3;
	for (unsigned i = 0; i < 8; i++) {
		p[i] = pvio_net_pkt_alloc(e.net, 0);
		ck_assert_ptr_nonnull(p[i]);
		ck_assert_uint_ge(pvio_pkt_room(p[i]), 1518);
		ck_assert(pvio_dma_contains(e.ctx, p[i]->data, 1518));
		p[i]->len = 60 + i * 100;
		fe_fill(p[i]->data, p[i]->len, &s);
	}
	uint8_t copy[8][1000];
	for (unsigned i = 0; i < 8; i++)
		memcpy(copy[i], p[i]->data, p[i]->len);
	uint64_t kicks = e.f->kicks;
	ck_assert_int_eq(pvio_net_tx_burst(e.net, 0, p, 8), 8);
	ck_assert_uint_eq(e.f->kicks, kicks + 1); /* one notification */
	struct pvio_pkt *r[16];
	int n = pvio_net_rx_burst(e.net, 0, r, 16);
	ck_assert_int_eq(n, 8);
	for (unsigned i = 0; i < 8; i++) {
		ck_assert_uint_eq(r[i]->len, 60 + i * 100);
		ck_assert_mem_eq(r[i]->data, copy[i], r[i]->len);
		ck_assert_uint_eq(r[i]->queue, 0);
		pvio_net_pkt_free(e.net, r[i]);
	}
	/* freed receive buffers went back to the device */
	ck_assert_uint_eq(pvio_net_rx_burst(e.net, 0, r, 16), 0);
	ck_assert_uint_eq(fake_rx_posted(e.f, 0), 32);
	/* and the transmit buffers came back */
	ck_assert_uint_eq(tx_free(e.net, 0), 64);
	struct pvio_queue_stats st = nstats(e.net, 0);
	ck_assert_uint_eq(st.requests, 16);
	ck_assert_uint_eq(st.device_requests, 8);
	ck_assert_uint_eq(st.copies, 0);
	ndown(&e);
}
END_TEST

START_TEST(send_recv_copies)
{
	struct nenv e;
	struct pvio_net_limits l = fake_net_limits_virtio();
	ck_assert_int_eq(nup(&e, &l, 0, NULL), 0);
	uint8_t f[1200], b[1600];
	memset(f, 0x42, sizeof(f));
	ck_assert_int_eq(pvio_net_recv(e.net, 0, b, sizeof(b), NULL), 0);
	ck_assert_int_eq(pvio_net_send(e.net, 0, f, sizeof(f), NULL), 0);
	ck_assert_int_eq(pvio_net_send(e.net, 0, f, 100, NULL), 0);
	struct pvio_net_meta m;
	ck_assert_int_eq(pvio_net_recv(e.net, 0, b, sizeof(b), &m), 1200);
	ck_assert_mem_eq(b, f, 1200);
	ck_assert_uint_eq(m.flags, 0);
	/* too small: the frame is dropped with -EMSGSIZE */
	ck_assert_int_eq(pvio_net_recv(e.net, 0, b, 50, NULL), -EMSGSIZE);
	ck_assert_int_eq(pvio_net_recv(e.net, 0, b, sizeof(b), NULL), 0);
	/* too big for the MTU */
	uint8_t big[3000] = { 0 };
	ck_assert_int_eq(pvio_net_send(e.net, 0, big, sizeof(big), NULL),
			 -EMSGSIZE);
	struct pvio_queue_stats st = nstats(e.net, 0);
	ck_assert_uint_eq(st.copies, 3);
	ck_assert_uint_eq(st.copy_bytes, 1200 + 100 + 1200);
	ck_assert_uint_eq(tx_free(e.net, 0), 256 + 256);
	ndown(&e);
}
END_TEST

/* Xen-like rules: whole-page RX buffers, TX segments within pages, and a
 * TSO frame of 60000 bytes cut at page boundaries. */
START_TEST(xen_rules_tso)
{
	struct nenv e;
	struct pvio_net_limits l = fake_net_limits_xen();
	struct pvio_net_opts o = {
		.struct_size = sizeof(o),
		.ring_size = 16,
		.offloads = PVIO_F_NET_CSUM_TX | PVIO_F_NET_TSO4,
	};
	ck_assert_int_eq(nup(&e, &l, PVIO_F_NET_CSUM_TX | PVIO_F_NET_TSO4 |
					     PVIO_F_NET_CSUM_RX, &o), 0);
	struct pvio_net_info in = { .struct_size = sizeof(in) };
	pvio_net_get_info(e.net, &in);
	ck_assert_uint_eq(in.features & (PVIO_F_NET_CSUM_TX | PVIO_F_NET_TSO4 |
					 PVIO_F_NET_CSUM_RX),
			  PVIO_F_NET_CSUM_TX | PVIO_F_NET_TSO4);
	ck_assert_uint_ge(in.max_tx_frame, 65535);
	/* the loopback can only deliver into a page: send 4000 bytes, with
	 * the data moved off the buffer start so it crosses a page */
	struct pvio_pkt *p = pvio_net_pkt_alloc(e.net, 0);
	p->data = (uint8_t *)p->data + 3000;
	p->len = 4000;
	memset(p->data, 0x11, p->len);
	p->flags = PVIO_PKT_GSO_TCPV4 | PVIO_PKT_CSUM_PARTIAL;
	p->gso_size = 1448;
	p->hdr_len = 54;
	p->csum_start = 34;
	p->csum_offset = 16;
	ck_assert_int_eq(pvio_net_tx_burst(e.net, 0, &p, 1), 1);
	ck_assert_uint_eq(e.f->last_tx_len, 4000);
	ck_assert_uint_eq(e.f->last_tx_flags,
			  PVIO_PKT_GSO_TCPV4 | PVIO_PKT_CSUM_PARTIAL);
	struct pvio_pkt *r;
	ck_assert_int_eq(pvio_net_rx_burst(e.net, 0, &r, 1), 1);
	ck_assert_uint_eq(r->len, 4000);
	pvio_net_pkt_free(e.net, r);
	/* a 60000-byte frame: the fake checks segments and boundaries; it
	 * cannot loop it back into one page, so it counts a bad frame */
	p = pvio_net_pkt_alloc(e.net, 0);
	p->len = 60000;
	p->flags = PVIO_PKT_GSO_TCPV4;
	p->gso_size = 1448;
	p->hdr_len = 54;
	ck_assert_int_eq(pvio_net_tx_burst(e.net, 0, &p, 1), 1);
	ck_assert_uint_eq(e.f->last_tx_len, 60000);
	ck_assert_int_eq(pvio_net_rx_burst(e.net, 0, &r, 1), 0);
	ndown(&e);
}
END_TEST

/* An IPv4/UDP frame with the pseudo-header sum in its checksum field. */
static uint32_t build_udp(uint8_t *f)
{
	static const char payload[] = "pvio software checksum test, odd!";
	uint32_t plen = sizeof(payload); /* 34 bytes with the NUL */
	uint32_t ulen = 8 + plen, iplen = 20 + ulen;
	memset(f, 0, 14 + iplen);
	memcpy(f, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00", 14);
	uint8_t *ip = f + 14;
	ip[0] = 0x45;
	ip[2] = (uint8_t)(iplen >> 8);
	ip[3] = (uint8_t)iplen;
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
	uint8_t *u = ip + 20;
	u[0] = 0x04; u[1] = 0xd2; /* 1234 */
	u[2] = 0x16; u[3] = 0x2e; /* 5678 */
	u[4] = (uint8_t)(ulen >> 8);
	u[5] = (uint8_t)ulen;
	memcpy(u + 8, payload, plen);
	return 14 + iplen;
}

/* Independent reference: the full UDP checksum over pseudo header and
 * segment, computed word by word from scratch. */
static uint16_t ref_udp_csum(const uint8_t *f, uint32_t len, bool fold_field)
{
	const uint8_t *ip = f + 14, *u = ip + 20;
	uint32_t ulen = len - 34;
	uint32_t s = 0;
	for (int i = 12; i < 20; i += 2)
		s += (uint32_t)(ip[i] << 8 | ip[i + 1]);
	s += 17 + ulen;
	for (uint32_t i = 0; i < ulen; i += 2) {
		uint32_t hi = u[i], lo = i + 1 < ulen ? u[i + 1] : 0;
		if (!fold_field && (i == 6))
			continue; /* the checksum field itself */
		s += hi << 8 | lo;
	}
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

START_TEST(software_checksum)
{
	struct nenv e;
	struct pvio_net_limits l = fake_net_limits_virtio();
	struct pvio_net_opts o = { .struct_size = sizeof(o),
				   .offloads = PVIO_F_NET_CSUM_TX };
	/* the device does not offer CSUM_TX: pvio computes it */
	ck_assert_int_eq(nup(&e, &l, PVIO_F_NET_CSUM_RX, &o), 0);
	uint8_t f[256], b[256];
	uint32_t len = build_udp(f);
	/* the field holds the pseudo-header sum, as for a partial checksum */
	const uint8_t *ip = f + 14;
	uint32_t ps = 17 + (len - 34);
	for (int i = 12; i < 20; i += 2)
		ps += (uint32_t)(ip[i] << 8 | ip[i + 1]);
	while (ps >> 16)
		ps = (ps & 0xffff) + (ps >> 16);
	f[40] = (uint8_t)(ps >> 8);
	f[41] = (uint8_t)ps;
	uint16_t want = (uint16_t)~ref_udp_csum(f, len, false);
	struct pvio_net_meta m = { .flags = PVIO_PKT_CSUM_PARTIAL,
				   .csum_start = 34, .csum_offset = 6 };
	ck_assert_int_eq(pvio_net_send(e.net, 0, f, len, &m), 0);
	ck_assert_uint_eq(e.f->last_tx_flags, 0); /* not passed on */
	ck_assert_int_eq(pvio_net_recv(e.net, 0, b, sizeof(b), NULL), (int)len);
	ck_assert_uint_eq((uint16_t)(b[40] << 8 | b[41]), want);
	ck_assert_uint_eq(ref_udp_csum(b, len, true), 0xffff); /* verifies */
	ck_assert_mem_eq(b, f, 40);

	/* the RFC 1071 example: 00 01 f2 03 f4 f5 f6 f7 sums to 0xddf2 */
	struct pvio_pkt *p = pvio_net_pkt_alloc(e.net, 0);
	memset(p->data, 0, 64);
	memcpy((uint8_t *)p->data + 20,
	       "\x00\x01\xf2\x03\xf4\xf5\xf6\xf7\x00\x00", 10);
	p->len = 30;
	p->flags = PVIO_PKT_CSUM_PARTIAL;
	p->csum_start = 20;
	p->csum_offset = 8;
	ck_assert_int_eq(pvio_net_tx_burst(e.net, 0, &p, 1), 1);
	ck_assert_uint_eq(e.f->last_tx[28], 0x22);
	ck_assert_uint_eq(e.f->last_tx[29], 0x0d);
	/* GSO needs a TSO grant */
	p = pvio_net_pkt_alloc(e.net, 0);
	p->len = 100;
	p->flags = PVIO_PKT_GSO_TCPV4;
	p->gso_size = 50;
	p->hdr_len = 54;
	ck_assert_int_eq(pvio_net_tx_burst(e.net, 0, &p, 1), -EOPNOTSUPP);
	ck_assert_ptr_nonnull(strstr(pvio_errmsg(e.ctx), "segmentation"));
	pvio_net_pkt_free(e.net, p);
	ndown(&e);

	/* granted: the flag and the partial field go to the device as they
	 * are, and come back marked partial */
	ck_assert_int_eq(nup(&e, &l, PVIO_F_NET_CSUM_TX | PVIO_F_NET_CSUM_RX,
			     &(struct pvio_net_opts){
				     .struct_size = sizeof(o),
				     .offloads = PVIO_F_NET_CSUM_TX |
						 PVIO_F_NET_CSUM_RX }),
			 0);
	ck_assert_int_eq(pvio_net_send(e.net, 0, f, len, &m), 0);
	ck_assert_uint_eq(e.f->last_tx_flags, PVIO_PKT_CSUM_PARTIAL);
	ck_assert_int_eq(pvio_net_recv(e.net, 0, b, sizeof(b), &m), (int)len);
	ck_assert_mem_eq(b, f, len);
	ck_assert_uint_eq(m.flags, PVIO_PKT_CSUM_PARTIAL);
	ck_assert_uint_eq(m.csum_start, 34);
	ck_assert_uint_eq(m.csum_offset, 6);
	/* a host's checksum offsets outside the frame: dropped, counted */
	ck_assert_int_eq(fake_net_inject(e.f, 0, f, 60, PVIO_PKT_CSUM_PARTIAL,
					 58, 6), 0);
	ck_assert_int_eq(pvio_net_recv(e.net, 0, b, sizeof(b), &m), 0);
	ck_assert_uint_eq(nstats(e.net, 0).rx_errors, 1);
	ndown(&e);
}
END_TEST

START_TEST(mac_handling)
{
	struct nenv e;
	struct pvio_net_limits l = fake_net_limits_virtio();
	const uint8_t want[6] = { 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee };
	struct pvio_net_opts o = { .struct_size = sizeof(o), .mac = want };
	/* a device that cannot change it refuses, clearly */
	memset(&e, 0, sizeof(e));
	e.ctx = fe_test_ctx(200);
	e.f = fake_net_new(e.ctx, "fake:net0", &l, 0);
	ck_assert_int_eq(pvio_net_attach(e.f->dev, &o, &e.net), -EADDRNOTAVAIL);
	ck_assert_ptr_nonnull(strstr(pvio_errmsg(e.ctx), "ADOPT"));
	e.net = NULL;
	ndown(&e);
	/* ... or is adopted */
	o.flags = PVIO_NET_ADOPT_MAC;
	ck_assert_int_eq(nup(&e, &l, 0, &o), 0);
	struct pvio_net_info in = { .struct_size = sizeof(in) };
	pvio_net_get_info(e.net, &in);
	ck_assert_mem_eq(in.mac, l.mac, 6);
	ck_assert_int_eq(pvio_net_set_mac(e.net, want), -EOPNOTSUPP);
	ndown(&e);
	/* a device that can: programmed */
	o.flags = 0;
	memset(&e, 0, sizeof(e));
	e.ctx = fe_test_ctx(200);
	e.f = fake_net_new(e.ctx, "fake:net0", &l, 0);
	e.f->can_set_mac = true;
	ck_assert_int_eq(pvio_net_attach(e.f->dev, &o, &e.net), 0);
	pvio_net_get_info(e.net, &in);
	ck_assert_mem_eq(in.mac, want, 6);
	ck_assert_mem_eq(e.f->dev->limits.net.mac, want, 6);
	ck_assert_int_eq(pvio_net_set_mac(e.net, l.mac), 0);
	pvio_net_get_info(e.net, &in);
	ck_assert_mem_eq(in.mac, l.mac, 6);
	ndown(&e);
}
END_TEST

START_TEST(bad_packets_and_pools)
{
	struct nenv e;
	struct pvio_net_limits l = fake_net_limits_virtio();
	struct pvio_net_opts o = { .struct_size = sizeof(o), .ring_size = 8,
				   .pool_size = 8 };
	ck_assert_int_eq(nup(&e, &l, 0, &o), 0);
	ck_assert_uint_eq(tx_free(e.net, 0), 12);
	struct pvio_pkt fake = { 0 };
	struct pvio_pkt *good = pvio_net_pkt_alloc(e.net, 0);
	good->len = 100;
	struct pvio_pkt *v[2] = { good, &fake };
	ck_assert_int_eq(pvio_net_tx_burst(e.net, 0, v, 2), -EINVAL);
	/* too long: refused before any is taken */
	struct pvio_pkt *big = pvio_net_pkt_alloc(e.net, 0);
	big->len = 1600;
	v[1] = big;
	ck_assert_int_eq(pvio_net_tx_burst(e.net, 0, v, 2), -EMSGSIZE);
	ck_assert_uint_eq(e.f->tx_frames, 0);
	big->len = 0;
	ck_assert_int_eq(pvio_net_tx_burst(e.net, 0, &big, 1), -EINVAL);
	big->len = 100;
	big->data = (uint8_t *)big->data + pvio_pkt_room(big) - 10;
	ck_assert_int_eq(pvio_net_tx_burst(e.net, 0, &big, 1), -EINVAL);
	ck_assert_int_eq(pvio_net_tx_burst(e.net, 1, &good, 1), -EINVAL);
	ck_assert_int_eq(pvio_net_tx_burst(e.net, 0, v, 1), 1);
	/* sent: it is pvio's now, freeing it again is refused */
	pvio_net_pkt_free(e.net, good);
	pvio_net_pkt_free(e.net, &fake);
	pvio_net_pkt_free(e.net, big);
	pvio_net_pkt_free(e.net, big); /* double free: ignored */
	/* forwarding a received packet: back to the RX pool afterwards */
	struct pvio_pkt *r;
	ck_assert_int_eq(pvio_net_rx_burst(e.net, 0, &r, 1), 1);
	ck_assert_int_eq(pvio_net_tx_burst(e.net, 0, &r, 1), 1);
	ck_assert_int_eq(pvio_net_rx_burst(e.net, 0, &r, 1), 1);
	pvio_net_pkt_free(e.net, r);
	ck_assert_int_eq(pvio_net_rx_burst(e.net, 0, &r, 1), 0);
	ck_assert_uint_eq(fake_rx_posted(e.f, 0), 8);
	ck_assert_uint_eq(tx_free(e.net, 0), 12);
	ndown(&e);
}
END_TEST

START_TEST(backpressure_rx_errors)
{
	struct nenv e;
	struct pvio_net_limits l = fake_net_limits_virtio();
	l.queue_size = 8;
	ck_assert_int_eq(nup(&e, &l, 0, NULL), 0);
	e.f->hold_tx = true;
	struct pvio_pkt *p[16];
	for (unsigned i = 0; i < 16; i++) {
		p[i] = pvio_net_pkt_alloc(e.net, 0);
		ck_assert_ptr_nonnull(p[i]);
		p[i]->len = 64;
	}
	ck_assert_int_eq(pvio_net_tx_burst(e.net, 0, p, 16), 8);
	ck_assert_int_eq(pvio_net_tx_burst(e.net, 0, p + 8, 8), 0);
	ck_assert_uint_eq(fake_release(e.f, 0, 8, false), 8);
	ck_assert_int_eq(pvio_net_tx_burst(e.net, 0, p + 8, 8), 8);
	fake_release(e.f, 0, 8, false);
	/* the receive ring (8) filled; the rest was dropped by the host */
	struct pvio_pkt *r[16];
	ck_assert_int_eq(pvio_net_rx_burst(e.net, 0, r, 16), 8);
	for (unsigned i = 0; i < 8; i++)
		pvio_net_pkt_free(e.net, r[i]);
	ck_assert_uint_eq(e.f->rx_no_buffer, 8);
	/* buffers returned without a frame are counted and re-posted */
	e.f->rx_errors_next = 2;
	uint8_t f[100] = { 1 };
	ck_assert_int_eq(fake_net_inject(e.f, 0, f, sizeof(f), 0, 0, 0), 0);
	ck_assert_int_eq(pvio_net_rx_burst(e.net, 0, r, 16), 1);
	pvio_net_pkt_free(e.net, r[0]);
	ck_assert_uint_eq(nstats(e.net, 0).rx_errors, 2);
	ck_assert_int_eq(pvio_net_rx_burst(e.net, 0, r, 16), 0);
	ck_assert_uint_eq(fake_rx_posted(e.f, 0), 8);
	ndown(&e);
}
END_TEST

START_TEST(wait_and_fd)
{
	struct nenv e;
	struct pvio_net_limits l = fake_net_limits_virtio();
	ck_assert_int_eq(nup(&e, &l, 0, NULL), 0);
	ck_assert_int_eq(pvio_net_wait(e.net, 0, 10 * 1000000), 0);
	int fd = pvio_net_fd(e.net, 0);
	ck_assert_int_ge(fd, 0);
	struct pvio_pkt *r;
	ck_assert_int_eq(pvio_net_rx_burst(e.net, 0, &r, 1), 0);
	struct pollfd pf = { .fd = fd, .events = POLLIN };
	ck_assert_int_eq(poll(&pf, 1, 0), 0);
	uint8_t f[64] = { 9 };
	ck_assert_int_eq(fake_net_inject(e.f, 0, f, sizeof(f), 0, 0, 0), 0);
	ck_assert_int_eq(poll(&pf, 1, 2000), 1);
	ck_assert_int_eq(pvio_net_wait(e.net, 0, 0), 1);
	ck_assert_int_eq(pvio_net_rx_burst(e.net, 0, &r, 1), 1);
	pvio_net_pkt_free(e.net, r);
	ck_assert_int_eq(pvio_net_rx_burst(e.net, 0, &r, 1), 0);
	ck_assert_int_eq(poll(&pf, 1, 0), 0);
	ndown(&e);
}
END_TEST

/* Migration virtio -> Xen-like with a transmission the old device never
 * finished and a frame it delivered that nobody reaped yet. */
START_TEST(migrate_inflight)
{
	struct nenv e;
	struct pvio_net_limits l = fake_net_limits_virtio();
	struct pvio_net_opts o = { .struct_size = sizeof(o), .ring_size = 16,
				   .offloads = PVIO_F_NET_CSUM_TX };
	ck_assert_int_eq(nup(&e, &l, PVIO_F_NET_CSUM_TX, &o), 0);
	uint8_t f[200];
	memset(f, 0x77, sizeof(f));
	ck_assert_int_eq(pvio_net_send(e.net, 0, f, 100, NULL), 0);
	e.f->hold_tx = true;
	ck_assert_int_eq(pvio_net_send(e.net, 0, f, 150, NULL), 0);
	ck_assert_int_eq(pvio_net_send(e.net, 0, f, 160, NULL), 0);
	struct pvio_pkt *held;
	ck_assert_int_eq(pvio_net_rx_burst(e.net, 0, &held, 1), 1);

	struct pvio_net_limits xl = fake_net_limits_xen();
	memcpy(xl.mac, l.mac, 6);
	struct fake *f2 = fake_net_new(e.ctx, "fake:net1", &xl,
				       PVIO_F_NET_CSUM_TX);
	struct pvio_migrate_report rep = { .struct_size = sizeof(rep) };
	ck_assert_int_eq(pvio_net_migrate(e.net, f2->dev, 0, &rep), 0);
	ck_assert(e.f->closed && e.f->quiesced);
	ck_assert_uint_eq(rep.dropped, 2);
	ck_assert_uint_eq(fake_rx_posted(f2, 0), 16);
	/* the frames that had arrived are still delivered, the packet the
	 * application held is still valid */
	struct pvio_pkt *r[4];
	ck_assert_int_eq(pvio_net_rx_burst(e.net, 0, r, 4), 2);
	ck_assert_uint_eq(r[0]->len, 150);
	ck_assert_uint_eq(r[1]->len, 160);
	ck_assert_uint_eq(held->len, 100);
	pvio_net_pkt_free(e.net, held);
	pvio_net_pkt_free(e.net, r[0]);
	pvio_net_pkt_free(e.net, r[1]);
	/* traffic flows on the new device, under its rules */
	ck_assert_int_eq(pvio_net_send(e.net, 0, f, 200, NULL), 0);
	uint8_t b[300];
	ck_assert_int_eq(pvio_net_recv(e.net, 0, b, sizeof(b), NULL), 200);
	struct pvio_migrate_report r2 = { .struct_size = sizeof(r2) };
	ck_assert_int_eq(pvio_net_migration_report(e.net, &r2), 0);
	ck_assert_uint_gt(r2.downtime_ns, 0);
	struct pvio_queue_stats st = nstats(e.net, 0);
	ck_assert_uint_eq(st.dropped, 2);
	ck_assert_uint_eq(st.device_requests, 4);
	/* every packet is back: TX pool full, RX ring full */
	ck_assert_uint_eq(tx_free(e.net, 0), 16 + 16);
	ck_assert_uint_eq(fake_rx_posted(f2, 0), 16);
	ck_assert_uint_eq(f2->violations, 0);
	pvio_net_close(e.net);
	e.net = NULL;
	ck_assert(f2->closed);
	fake_free(f2);
	ndown(&e);
}
END_TEST

START_TEST(migrate_refusals_and_failure)
{
	struct nenv e;
	struct pvio_net_limits l = fake_net_limits_virtio();
	struct pvio_net_opts o = { .struct_size = sizeof(o),
				   .offloads = PVIO_F_NET_CSUM_TX };
	ck_assert_int_eq(nup(&e, &l, PVIO_F_NET_CSUM_TX, &o), 0);
	for (int k = 0; k < 4; k++) {
		struct pvio_net_limits nl = fake_net_limits_virtio();
		uint64_t off = PVIO_F_NET_CSUM_TX;
		const char *msg = NULL;
		switch (k) {
		case 0: nl.mtu = 9000; msg = "MTU"; break;
		case 1: nl.mac[5] ^= 1; msg = "MAC"; break;
		case 2: off = 0; msg = "offloads"; break;
		case 3: nl.rx_buf_exact = 2048; msg = "receive buffers"; break;
		}
		struct fake *f2 = fake_net_new(e.ctx, "fake:net1", &nl, off);
		ck_assert_int_lt(pvio_net_migrate(e.net, f2->dev, 0, NULL), 0);
		ck_assert_msg(strstr(pvio_errmsg(e.ctx), msg), "%d: %s", k,
			      pvio_errmsg(e.ctx));
		ck_assert(f2->closed);
		ck_assert(!e.f->quiesced);
		fake_free(f2);
	}
	/* still working on the old device */
	uint8_t f[64] = { 5 }, b[64];
	ck_assert_int_eq(pvio_net_send(e.net, 0, f, sizeof(f), NULL), 0);
	ck_assert_int_eq(pvio_net_recv(e.net, 0, b, sizeof(b), NULL), 64);

	/* the device breaks: I/O fails cleanly, then a move recovers */
	e.f->hold_tx = true;
	ck_assert_int_eq(pvio_net_send(e.net, 0, f, sizeof(f), NULL), 0);
	fake_break(e.f, false);
	ck_assert_int_eq(pvio_net_send(e.net, 0, f, sizeof(f), NULL), -EIO);
	struct pvio_pkt *r;
	ck_assert_int_eq(pvio_net_rx_burst(e.net, 0, &r, 1), -EIO);
	ck_assert_int_eq(pvio_net_wait(e.net, 0, -1), -EIO);
	ck_assert_int_lt(pvio_net_reconnect(e.net, NULL), 0);
	struct pvio_net_limits nl = fake_net_limits_virtio();
	struct fake *f2 = fake_net_new(e.ctx, "fake:net1", &nl,
				       PVIO_F_NET_CSUM_TX);
	f2->can_set_mac = true;
	nl.mac[0] = 0x0a;
	struct pvio_migrate_report rep = { .struct_size = sizeof(rep) };
	ck_assert_int_eq(pvio_net_migrate(e.net, f2->dev, 0, &rep), 0);
	ck_assert_uint_eq(rep.dropped, 1);
	/* what the broken device had received could not be reaped */
	ck_assert_int_eq(pvio_net_recv(e.net, 0, b, sizeof(b), NULL), 0);
	ck_assert_int_eq(pvio_net_send(e.net, 0, f, sizeof(f), NULL), 0);
	ck_assert_int_eq(pvio_net_recv(e.net, 0, b, sizeof(b), NULL), 64);
	pvio_net_close(e.net);
	e.net = NULL;
	ck_assert_uint_eq(f2->violations, 0);
	fake_free(f2);
	ndown(&e);
}
END_TEST


/* Queues are independent pairs with their own pools and counters; a
 * packet of one queue is refused by another. */
START_TEST(multi_queue)
{
	struct nenv e;
	struct pvio_net_limits l = fake_net_limits_virtio();
	struct pvio_net_opts o = { .struct_size = sizeof(o), .num_queues = 3,
				   .ring_size = 8 };
	ck_assert_int_eq(nup(&e, &l, 0, &o), 0);
	struct pvio_net_info in = { .struct_size = sizeof(in) };
	pvio_net_get_info(e.net, &in);
	ck_assert_uint_eq(in.num_queues, 3);
	ck_assert_uint_eq(e.f->num_queues, 3);
	for (unsigned q = 0; q < 3; q++) {
		ck_assert_uint_eq(fake_rx_posted(e.f, q), 8);
		for (unsigned i = 0; i <= q; i++) {
			uint8_t f[80];
			memset(f, (int)(q * 16 + i), sizeof(f));
			ck_assert_int_eq(pvio_net_send(e.net, q, f, sizeof(f), NULL),
					 0);
		}
	}
	struct pvio_pkt *p0 = pvio_net_pkt_alloc(e.net, 0);
	p0->len = 60;
	ck_assert_int_eq(pvio_net_tx_burst(e.net, 2, &p0, 1), -EINVAL);
	pvio_net_pkt_free(e.net, p0);
	for (unsigned q = 0; q < 3; q++) {
		struct pvio_pkt *r[8];
		ck_assert_int_eq(pvio_net_rx_burst(e.net, q, r, 8), (int)q + 1);
		for (unsigned i = 0; i <= q; i++) {
			ck_assert_uint_eq(((uint8_t *)r[i]->data)[0], q * 16 + i);
			ck_assert_uint_eq(r[i]->queue, q);
			pvio_net_pkt_free(e.net, r[i]);
		}
		struct pvio_queue_stats st = nstats(e.net, q);
		/* q + 1 received; transmissions are reclaimed lazily */
		ck_assert_uint_ge(st.requests, q + 1);
		ck_assert_uint_eq(st.device_requests, q + 1);
		ck_assert_uint_eq(st.copies, q + 1); /* the sends */
	}
	struct pvio_queue_stats st;
	ck_assert_int_eq(pvio_net_get_stats(e.net, 3, &st), -EINVAL);
	ndown(&e);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fe_net");
	TCase *tc = tcase_create("net");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, loopback_bursts);
	tcase_add_test(tc, send_recv_copies);
	tcase_add_test(tc, xen_rules_tso);
	tcase_add_test(tc, software_checksum);
	tcase_add_test(tc, mac_handling);
	tcase_add_test(tc, bad_packets_and_pools);
	tcase_add_test(tc, backpressure_rx_errors);
	tcase_add_test(tc, wait_and_fd);
	tcase_add_test(tc, migrate_inflight);
	tcase_add_test(tc, migrate_refusals_and_failure);
	tcase_add_test(tc, multi_queue);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
