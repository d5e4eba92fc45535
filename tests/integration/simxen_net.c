/* SPDX-License-Identifier: MIT */
/*
 * tests/integration/simxen_net.c - the simulated host's netback driven by
 * a test-only netfront built on Debian's libxen-dev ring.h/netif.h: the
 * handshake (netback connects on front Connected, after hotplug-status),
 * frames reflected and bridged between two domains, multi-slot TX, GSO
 * and checksum offload towards receivers with and without the features,
 * request-rx-copy enforcement, fatal TX errors, carrier changes.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <unistd.h>

#define xen_mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define xen_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define xen_wmb() __atomic_thread_fence(__ATOMIC_RELEASE)
#define __XEN_INTERFACE_VERSION__ __XEN_LATEST_INTERFACE_VERSION__
#include <xen/xen.h>
#include <xen/grant_table.h>
#include <xen/io/netif.h>
#include <xen/io/xenbus.h>

#include "simxen_lib.h"

#define NRX 64

static struct tsim sim;
static char out[65536];

static void setup(void)
{
	memset(&sim, 0, sizeof(sim));
	ck_assert_int_eq(tsim_start(&sim, (const char *const[]){
				 "--vif", "0", "--vif", "1,bridge=lan",
				 "--vif", "2,bridge=lan", "--vif", "3,lax-rx-copy",
				 "--vif", "4,no-split,mtu=9000", NULL }),
			 0);
}

static void teardown(void)
{
	ck_assert_int_eq(tsim_stop(&sim), 0);
}

struct tnet {
	struct tguest g;
	uint32_t devid;
	netif_tx_front_ring_t tx;
	netif_rx_front_ring_t rx;
	uint32_t tx_port, rx_port;
	int tx_send, tx_up, rx_send, rx_up;
	uint8_t *rxpg[NRX];
	uint32_t rxref[NRX];
	uint8_t *txpg[32];
	uint32_t txref[32];
	char fe[64], be[128];
	uint16_t next_id;
};

static bool wait_be_state(struct tnet *n, int state)
{
	char p[160], v[8];
	snprintf(p, sizeof(p), "%s/state", n->be);
	snprintf(v, sizeof(v), "%d", state);
	return tg_xs_wait_value(&n->g, p, v);
}

static char *bkey(struct tnet *n, const char *key, char *v, size_t len)
{
	char p[192];
	snprintf(p, sizeof(p), "%s/%s", n->be, key);
	return tg_xs_read(&n->g, 0, p, v, len) ? NULL : v;
}

static void fe_write(struct tnet *n, uint32_t tx, const char *key, unsigned v)
{
	char p[128], val[16];
	snprintf(p, sizeof(p), "%s/%s", n->fe, key);
	snprintf(val, sizeof(val), "%u", v);
	ck_assert_int_eq(tg_xs_write(&n->g, tx, p, val), 0);
}

enum { F_NO_RXCOPY = 1, F_NO_CSUM = 2, F_NO_GSO = 4, F_SINGLE_EVTCHN = 8,
       F_NO_WAIT = 16 };

static void rx_post(struct tnet *n, unsigned i)
{
	netif_rx_request_t *r = RING_GET_REQUEST(&n->rx, n->rx.req_prod_pvt);
	r->id = (uint16_t)i;
	r->gref = n->rxref[i];
	n->rx.req_prod_pvt++;
}

static void rx_push(struct tnet *n)
{
	int notify;
	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&n->rx, notify);
	if (notify)
		tg_kick(n->rx_send);
}

static void net_open(struct tnet *n, const char *name, uint32_t devid, int flags)
{
	char v[64], p[128];
	uint64_t gfn;
	memset(n, 0, sizeof(*n));
	n->devid = devid;
	ck_assert_int_eq(tg_connect(&n->g, sim.sock, name), 0);
	ck_assert_int_eq(tg_set_memory(&n->g, 8u << 20), 0);
	ck_assert_int_eq(tg_gnttab_setup(&n->g, 1), 0);
	ck_assert_int_eq(tg_xs_connect(&n->g), 0);
	ck_assert_int_eq(tg_attach(&n->g, "vif", devid), 0);
	snprintf(n->fe, sizeof(n->fe), "device/vif/%u", devid);
	snprintf(p, sizeof(p), "%s/backend", n->fe);
	ck_assert_int_eq(tg_xs_read(&n->g, 0, p, n->be, sizeof(n->be)), 0);
	ck_assert(wait_be_state(n, XenbusStateInitWait));
	netif_tx_sring_t *txs = (void *)tg_alloc_page(&n->g, &gfn);
	uint32_t txr = tg_grant(&n->g, gfn, 0, false);
	netif_rx_sring_t *rxs = (void *)tg_alloc_page(&n->g, &gfn);
	uint32_t rxr = tg_grant(&n->g, gfn, 0, false);
	SHARED_RING_INIT(txs);
	SHARED_RING_INIT(rxs);
	FRONT_RING_INIT(&n->tx, txs, 4096);
	FRONT_RING_INIT(&n->rx, rxs, 4096);
	for (unsigned i = 0; i < NRX; i++) {
		n->rxpg[i] = tg_alloc_page(&n->g, &gfn);
		n->rxref[i] = tg_grant(&n->g, gfn, 0, false);
	}
	for (unsigned i = 0; i < 32; i++) {
		n->txpg[i] = tg_alloc_page(&n->g, &gfn);
		n->txref[i] = tg_grant(&n->g, gfn, 0, true);
	}
	ck_assert_int_eq(tg_evtchn_alloc(&n->g, 0, &n->tx_port, &n->tx_send, &n->tx_up), 0);
	if (flags & F_SINGLE_EVTCHN) {
		n->rx_port = n->tx_port;
		n->rx_send = n->tx_send;
		n->rx_up = n->tx_up;
	} else {
		ck_assert_int_eq(tg_evtchn_alloc(&n->g, 0, &n->rx_port, &n->rx_send, &n->rx_up), 0);
	}
	uint32_t tx;
	int r;
	do {
		ck_assert_int_eq(tg_xs_tx_start(&n->g, &tx), 0);
		fe_write(n, tx, "tx-ring-ref", txr);
		fe_write(n, tx, "rx-ring-ref", rxr);
		if (flags & F_SINGLE_EVTCHN) {
			fe_write(n, tx, "event-channel", n->tx_port);
		} else {
			fe_write(n, tx, "event-channel-tx", n->tx_port);
			fe_write(n, tx, "event-channel-rx", n->rx_port);
		}
		if (!(flags & F_NO_RXCOPY))
			fe_write(n, tx, "request-rx-copy", 1);
		fe_write(n, tx, "feature-rx-notify", 1);
		fe_write(n, tx, "feature-sg", 1);
		if (!(flags & F_NO_GSO))
			fe_write(n, tx, "feature-gso-tcpv4", 1);
		if (flags & F_NO_CSUM)
			fe_write(n, tx, "feature-no-csum-offload", 1);
		fe_write(n, tx, "state", XenbusStateConnected);
		r = tg_xs_tx_end(&n->g, tx, true);
	} while (r == -EAGAIN);
	ck_assert_int_eq(r, 0);
	if (flags & F_NO_WAIT)
		return;
	ck_assert(wait_be_state(n, XenbusStateConnected));
	ck_assert_str_eq(bkey(n, "carrier", v, sizeof(v)), "1");
	for (unsigned i = 0; i < NRX; i++)
		rx_post(n, i);
	rx_push(n);
}

struct slot {
	uint16_t off, size;
	const uint8_t *data;
};

/* Queue one packet (data slots after optional extra info), push. */
static void net_send(struct tnet *n, const struct slot *s, unsigned ns,
		     uint16_t flags, const netif_extra_info_t *extra,
		     uint16_t *ids)
{
	uint16_t total = 0;
	for (unsigned i = 0; i < ns; i++)
		total = (uint16_t)(total + s[i].size);
	for (unsigned i = 0; i < ns; i++) {
		netif_tx_request_t *t = RING_GET_REQUEST(&n->tx, n->tx.req_prod_pvt);
		n->tx.req_prod_pvt++;
		unsigned pg = (n->next_id) % 32;
		memcpy(n->txpg[pg] + s[i].off, s[i].data, s[i].size);
		t->gref = n->txref[pg];
		t->offset = s[i].off;
		t->id = n->next_id++;
		t->size = i == 0 ? total : s[i].size;
		t->flags = (uint16_t)((i + 1 < ns ? NETTXF_more_data : 0) |
				      (i == 0 ? flags : 0) |
				      (i == 0 && extra ? NETTXF_extra_info : 0));
		if (ids)
			ids[i] = t->id;
		if (i == 0 && extra) {
			netif_extra_info_t *e =
				(void *)RING_GET_REQUEST(&n->tx, n->tx.req_prod_pvt);
			n->tx.req_prod_pvt++;
			*e = *extra;
		}
	}
	int notify;
	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&n->tx, notify);
	if (notify)
		tg_kick(n->tx_send);
}

static bool tx_rsp(struct tnet *n, netif_tx_response_t *r)
{
	for (int tries = 0; tries < 50; tries++) {
		int more;
		RING_FINAL_CHECK_FOR_RESPONSES(&n->tx, more);
		if (more) {
			*r = *RING_GET_RESPONSE(&n->tx, n->tx.rsp_cons);
			n->tx.rsp_cons++;
			return true;
		}
		if (!tg_wait_upcall(n->tx_up, 10000))
			return false;
	}
	return false;
}

/* Receive one packet: data concatenated into buf, the first slot's flags
 * and the GSO extra (if any). */
static int net_recv(struct tnet *n, uint8_t *buf, size_t cap, uint16_t *flags,
		    netif_extra_info_t *gso)
{
	size_t len = 0;
	bool first = true, more = true, extra = false;
	while (more || extra) {
		int avail = 0;
		for (int tries = 0; tries < 50 && !avail; tries++) {
			RING_FINAL_CHECK_FOR_RESPONSES(&n->rx, avail);
			if (!avail && !tg_wait_upcall(n->rx_up, 10000))
				return -ETIMEDOUT;
		}
		if (!avail)
			return -ETIMEDOUT;
		RING_IDX i = n->rx.rsp_cons++;
		if (extra) {
			netif_extra_info_t *e = (void *)RING_GET_RESPONSE(&n->rx, i);
			if (gso)
				*gso = *e;
			extra = e->flags & XEN_NETIF_EXTRA_FLAG_MORE;
		} else {
			netif_rx_response_t r = *RING_GET_RESPONSE(&n->rx, i);
			if (r.status < 0)
				return r.status;
			ck_assert_uint_le((unsigned)r.offset + (unsigned)r.status, 4096);
			/* the response is in the slot of the request that gave
			 * the buffer: id == slot */
			ck_assert_uint_eq(r.id, i & (NRX - 1));
			if (len + (size_t)r.status <= cap)
				memcpy(buf + len, n->rxpg[r.id] + r.offset, (size_t)r.status);
			len += (size_t)r.status;
			if (first && flags)
				*flags = r.flags;
			if (first)
				extra = r.flags & NETRXF_extra_info;
			more = r.flags & NETRXF_more_data;
			first = false;
		}
		rx_post(n, i & (NRX - 1));
	}
	rx_push(n);
	return (int)len;
}

static void eth(uint8_t *f, uint16_t type)
{
	memcpy(f, "\x00\x16\x3e\x00\x00\x99\x00\x16\x3e\x5e\x00\x00", 12);
	f[12] = (uint8_t)(type >> 8);
	f[13] = (uint8_t)type;
}

/* IPv4/TCP frame with a pseudo-header checksum (CHECKSUM_PARTIAL). */
static uint16_t tcp_frame(uint8_t *f, uint16_t payload)
{
	memset(f, 0, 54);
	eth(f, 0x0800);
	uint8_t *ip = f + 14, *t = f + 34;
	uint16_t tot = (uint16_t)(40 + payload);
	ip[0] = 0x45;
	ip[2] = (uint8_t)(tot >> 8);
	ip[3] = (uint8_t)tot;
	ip[8] = 64;
	ip[9] = 6;
	memcpy(ip + 12, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
	uint32_t s = 0;
	for (int i = 0; i < 20; i += 2)
		s += (uint32_t)(ip[i] << 8 | ip[i + 1]);
	while (s >> 16)
		s = (s & 0xFFFF) + (s >> 16);
	ip[10] = (uint8_t)(~s >> 8);
	ip[11] = (uint8_t)~s;
	t[1] = 80;
	t[12] = 0x50;
	t[13] = 0x10;
	for (uint16_t i = 0; i < payload; i++)
		t[20 + i] = (uint8_t)(i ^ 0x5a);
	/* pseudo header: addresses, protocol, TCP length */
	s = 0x0a00 + 0x0001 + 0x0a00 + 0x0002 + 6 + (uint32_t)(20 + payload);
	while (s >> 16)
		s = (s & 0xFFFF) + (s >> 16);
	t[16] = (uint8_t)(s >> 8);
	t[17] = (uint8_t)s;
	return (uint16_t)(54 + payload);
}

static uint16_t tcp_csum_ok(const uint8_t *f)
{
	const uint8_t *ip = f + 14;
	uint32_t tl = (uint32_t)(ip[2] << 8 | ip[3]) - 20;
	uint32_t s = 0x0a00 + 0x0001 + 0x0a00 + 0x0002 + 6 + tl;
	for (uint32_t i = 0; i < tl; i += 2)
		s += (uint32_t)(ip[20 + i] << 8 | (i + 1 < tl ? ip[21 + i] : 0));
	while (s >> 16)
		s = (s & 0xFFFF) + (s >> 16);
	return (uint16_t)s;
}

START_TEST(handshake_and_reflect)
{
	struct tnet n;
	char v[64];
	static uint8_t frame[9000], got[70000];
	net_open(&n, "net", 0, 0);
	/* what Linux netback publishes */
	ck_assert_str_eq(bkey(&n, "feature-rx-copy", v, sizeof(v)), "1");
	ck_assert_str_eq(bkey(&n, "feature-rx-flip", v, sizeof(v)), "0");
	ck_assert_str_eq(bkey(&n, "feature-ipv6-csum-offload", v, sizeof(v)), "1");
	ck_assert_str_eq(bkey(&n, "feature-sg", v, sizeof(v)), "1");
	ck_assert_str_eq(bkey(&n, "feature-gso-tcpv4", v, sizeof(v)), "1");
	ck_assert_str_eq(bkey(&n, "feature-gso-tcpv6", v, sizeof(v)), "1");
	ck_assert_str_eq(bkey(&n, "feature-split-event-channels", v, sizeof(v)), "1");
	ck_assert_str_eq(bkey(&n, "multi-queue-max-queues", v, sizeof(v)), "2");
	ck_assert_str_eq(bkey(&n, "hotplug-status", v, sizeof(v)), "connected");
	char p[96];
	snprintf(p, sizeof(p), "%s/mac", n.fe);
	ck_assert_int_eq(tg_xs_read(&n.g, 0, p, v, sizeof(v)), 0);
	ck_assert_str_eq(v, "00:16:3e:5e:00:00");

	/* a small frame comes back as it was sent */
	eth(frame, 0x88B5);
	for (int i = 14; i < 60; i++)
		frame[i] = (uint8_t)i;
	uint16_t ids[4];
	net_send(&n, &(struct slot){ 100, 60, frame }, 1, 0, NULL, ids);
	netif_tx_response_t tr;
	ck_assert(tx_rsp(&n, &tr));
	ck_assert_uint_eq(tr.id, ids[0]);
	ck_assert_int_eq(tr.status, NETIF_RSP_OKAY);
	uint16_t fl = 0xFFFF;
	ck_assert_int_eq(net_recv(&n, got, sizeof(got), &fl, NULL), 60);
	ck_assert_int_eq(memcmp(got, frame, 60), 0);
	ck_assert_uint_eq(fl, 0);
	/* three slots, one packet of 1400 bytes */
	for (int i = 14; i < 1400; i++)
		frame[i] = (uint8_t)(i * 3);
	struct slot s3[3] = { { 0, 500, frame }, { 4000, 96, frame + 500 },
			      { 10, 804, frame + 596 } };
	net_send(&n, s3, 3, NETTXF_data_validated, NULL, ids);
	for (int i = 0; i < 3; i++) {
		ck_assert(tx_rsp(&n, &tr));
		ck_assert_uint_eq(tr.id, ids[i]);
		ck_assert_int_eq(tr.status, NETIF_RSP_OKAY);
	}
	ck_assert_int_eq(net_recv(&n, got, sizeof(got), &fl, NULL), 1400);
	ck_assert_int_eq(memcmp(got, frame, 1400), 0);
	ck_assert_uint_eq(fl, NETRXF_data_validated);
	/* grants the back end only copied are not left pinned */
	ck_assert_uint_eq(tg_gnt_flags(&n.g, n.txref[0]), GTF_permit_access | GTF_readonly);
	tg_close(&n.g);
}
END_TEST

START_TEST(bridge_gso_and_checksums)
{
	struct tnet a, b;
	static uint8_t frame[9000], got[70000];
	uint16_t fl;
	netif_tx_response_t tr;
	net_open(&a, "a", 1, 0);
	net_open(&b, "b", 2, F_NO_CSUM | F_NO_GSO);
	ck_assert_uint_ne(a.g.domid, b.g.domid);
	/* a -> b: a TCP frame with checksum offload; b has none, so it gets
	 * the checksum filled in */
	uint16_t len = tcp_frame(frame, 200);
	net_send(&a, &(struct slot){ 0, len, frame }, 1,
		 NETTXF_csum_blank | NETTXF_data_validated, NULL, NULL);
	ck_assert(tx_rsp(&a, &tr));
	ck_assert_int_eq(tr.status, NETIF_RSP_OKAY);
	ck_assert_int_eq(net_recv(&b, got, sizeof(got), &fl, NULL), len);
	ck_assert_uint_eq(fl & NETRXF_csum_blank, 0);
	ck_assert_uint_eq(tcp_csum_ok(got), 0xFFFF);
	ck_assert_int_eq(memcmp(got + 54, frame + 54, 200), 0);
	/* b -> a: a plain frame arrives at a only */
	eth(frame, 0x88B5);
	memset(frame + 14, 0xEE, 100);
	net_send(&b, &(struct slot){ 0, 114, frame }, 1, 0, NULL, NULL);
	ck_assert(tx_rsp(&b, &tr));
	ck_assert_int_eq(net_recv(&a, got, sizeof(got), &fl, NULL), 114);
	ck_assert_uint_eq(got[20], 0xEE);
	/* a -> b: GSO (extra info, NULL response); b cannot take GSO, so it
	 * gets MSS-sized segments with valid checksums */
	len = tcp_frame(frame, 3000);
	netif_extra_info_t ex = { .type = XEN_NETIF_EXTRA_TYPE_GSO };
	ex.u.gso.size = 1000;
	ex.u.gso.type = XEN_NETIF_GSO_TYPE_TCPV4;
	struct slot s2[2] = { { 0, 2000, frame }, { 0, (uint16_t)(len - 2000), frame + 2000 } };
	uint16_t ids[2];
	net_send(&a, s2, 2, NETTXF_csum_blank | NETTXF_data_validated, &ex, ids);
	ck_assert(tx_rsp(&a, &tr));
	ck_assert_uint_eq(tr.id, ids[0]);
	ck_assert_int_eq(tr.status, NETIF_RSP_OKAY);
	ck_assert(tx_rsp(&a, &tr));
	ck_assert_int_eq(tr.status, NETIF_RSP_NULL);
	ck_assert(tx_rsp(&a, &tr));
	ck_assert_uint_eq(tr.id, ids[1]);
	ck_assert_int_eq(tr.status, NETIF_RSP_OKAY);
	for (int seg = 0; seg < 3; seg++) {
		ck_assert_int_eq(net_recv(&b, got, sizeof(got), &fl, NULL), 1054);
		ck_assert_uint_eq(tcp_csum_ok(got), 0xFFFF);
		ck_assert_int_eq(memcmp(got + 54, frame + 54 + seg * 1000, 1000), 0);
	}
	/* b -> a: the same GSO packet goes to a as GSO (a has sg + tso) */
	len = tcp_frame(frame, 5000);
	s2[0] = (struct slot){ 0, 3000, frame };
	s2[1] = (struct slot){ 0, (uint16_t)(len - 3000), frame + 3000 };
	net_send(&b, s2, 2, NETTXF_csum_blank | NETTXF_data_validated, &ex, NULL);
	netif_extra_info_t gso = { 0 };
	ck_assert_int_eq(net_recv(&a, got, sizeof(got), &fl, &gso), len);
	ck_assert_uint_eq(fl & (NETRXF_csum_blank | NETRXF_data_validated | NETRXF_extra_info),
			  NETRXF_csum_blank | NETRXF_data_validated | NETRXF_extra_info);
	ck_assert_uint_eq(gso.type, XEN_NETIF_EXTRA_TYPE_GSO);
	ck_assert_uint_eq(gso.u.gso.size, 1000);
	ck_assert_uint_eq(gso.u.gso.type, XEN_NETIF_GSO_TYPE_TCPV4);
	ck_assert_int_eq(memcmp(got + 54, frame + 54, 5000), 0);
	tg_close(&a.g);
	tg_close(&b.g);
}
END_TEST

START_TEST(rx_copy_required)
{
	struct tnet n;
	char v[256], p[160];
	net_open(&n, "norxcopy", 0, F_NO_RXCOPY | F_NO_WAIT);
	ck_assert(wait_be_state(&n, XenbusStateClosing));
	struct tguest d0;
	ck_assert_int_eq(tg_xs_dom0(&d0, sim.sock), 0);
	snprintf(p, sizeof(p), "/local/domain/0/error/backend/vif/%u/0/error", n.g.domid);
	ck_assert_int_eq(tg_xs_read(&d0, 0, p, v, sizeof(v)), 0);
	ck_assert_ptr_nonnull(strstr(v, "request-rx-copy"));
	tg_close(&d0);
	tg_close(&n.g);
	/* vif 3 is configured lax, like Linux >= 3.16 */
	net_open(&n, "lax", 3, F_NO_RXCOPY);
	tg_close(&n.g);
}
END_TEST

START_TEST(fatal_tx_errors)
{
	struct tnet n;
	static uint8_t frame[4096];
	char v[16];
	net_open(&n, "fatal", 0, 0);
	eth(frame, 0x88B5);
	/* a first slot shorter than an Ethernet header: ERROR, not fatal */
	net_send(&n, &(struct slot){ 0, 10, frame }, 1, 0, NULL, NULL);
	netif_tx_response_t tr;
	ck_assert(tx_rsp(&n, &tr));
	ck_assert_int_eq(tr.status, NETIF_RSP_ERROR);
	/* a slot crossing its page: the vif is disabled */
	net_send(&n, &(struct slot){ 4000, 200, frame }, 1, 0, NULL, NULL);
	ck_assert(tsim_wait_status(&sim, "DISABLED"));
	ck_assert_str_eq(bkey(&n, "carrier", v, sizeof(v)), "0");
	tg_close(&n.g);
	/* an extra-info slot of type 0 is fatal too */
	net_open(&n, "fatal2", 4, F_SINGLE_EVTCHN);
	netif_extra_info_t ex = { .type = 0 };
	net_send(&n, &(struct slot){ 0, 60, frame }, 1, 0, &ex, NULL);
	ck_assert(tsim_wait_status(&sim, "DISABLED"));
	tg_close(&n.g);
}
END_TEST

START_TEST(link_and_faults)
{
	struct tnet n;
	static uint8_t frame[256], got[4096];
	char v[16];
	netif_tx_response_t tr;
	net_open(&n, "link", 4, F_SINGLE_EVTCHN);
	ck_assert_int_eq(tsim_ctl(&sim, "link vif/4 down", out, sizeof(out)), 0);
	ck_assert_str_eq(bkey(&n, "carrier", v, sizeof(v)), "0");
	eth(frame, 0x88B5);
	net_send(&n, &(struct slot){ 0, 64, frame }, 1, 0, NULL, NULL);
	ck_assert(tx_rsp(&n, &tr));
	ck_assert_int_eq(tr.status, NETIF_RSP_OKAY);
	ck_assert(tsim_wait_status(&sim, "drops: link=1"));
	ck_assert_int_eq(tsim_ctl(&sim, "link vif/4 up", out, sizeof(out)), 0);
	ck_assert_str_eq(bkey(&n, "carrier", v, sizeof(v)), "1");
	frame[20] = 0x42;
	net_send(&n, &(struct slot){ 0, 64, frame }, 1, 0, NULL, NULL);
	ck_assert(tx_rsp(&n, &tr));
	ck_assert_int_eq(net_recv(&n, got, sizeof(got), NULL, NULL), 64);
	ck_assert_uint_eq(got[20], 0x42);
	/* corrupt the next TX response's id */
	ck_assert_int_eq(tsim_ctl(&sim, "corrupt vif/4 id", out, sizeof(out)), 0);
	uint16_t id;
	net_send(&n, &(struct slot){ 0, 64, frame }, 1, 0, NULL, &id);
	ck_assert(tx_rsp(&n, &tr));
	ck_assert_uint_ne(tr.id, id);
	ck_assert_int_eq(net_recv(&n, got, sizeof(got), NULL, NULL), 64);
	/* an RX response longer than the page */
	ck_assert_int_eq(tsim_ctl(&sim, "corrupt vif/4 rx-status", out, sizeof(out)), 0);
	net_send(&n, &(struct slot){ 0, 64, frame }, 1, 0, NULL, NULL);
	ck_assert(tx_rsp(&n, &tr));
	int avail = 0;
	for (int i = 0; i < 50 && !avail; i++) {
		RING_FINAL_CHECK_FOR_RESPONSES(&n.rx, avail);
		if (!avail)
			ck_assert(tg_wait_upcall(n.rx_up, 10000));
	}
	ck_assert_int_gt(RING_GET_RESPONSE(&n.rx, n.rx.rsp_cons)->status, 4096);
	/* back end Closing on demand */
	ck_assert_int_eq(tsim_ctl(&sim, "close vif/4", out, sizeof(out)), 0);
	ck_assert(wait_be_state(&n, XenbusStateClosing));
	tg_close(&n.g);
}
END_TEST

START_TEST(initialised_is_ignored)
{
	/* netback does not connect on front Initialised, only on Connected */
	struct tnet n;
	char p[96];
	memset(&n, 0, sizeof(n));
	ck_assert_int_eq(tg_connect(&n.g, sim.sock, "init"), 0);
	ck_assert_int_eq(tg_xs_connect(&n.g), 0);
	ck_assert_int_eq(tg_attach(&n.g, "vif", 0), 0);
	snprintf(n.be, sizeof(n.be), "/local/domain/0/backend/vif/%u/0", n.g.domid);
	ck_assert(wait_be_state(&n, XenbusStateInitWait));
	snprintf(p, sizeof(p), "device/vif/0/state");
	ck_assert_int_eq(tg_xs_write(&n.g, 0, p, "3"), 0);
	/* the back end has seen it (events are handled before the next
	 * request is read) and stayed in InitWait */
	ck_assert_int_eq(tsim_ctl(&sim, "status", out, sizeof(out)), 0);
	ck_assert_ptr_nonnull(strstr(out, "state=InitWait fe=Initialised"));
	/* Connected without ring keys: fatal */
	ck_assert_int_eq(tg_xs_write(&n.g, 0, p, "4"), 0);
	ck_assert(wait_be_state(&n, XenbusStateClosing));
	tg_close(&n.g);
}
END_TEST

START_TEST(multi_queue)
{
	/* two queues, split event channels, keys under queue-N; frames sent
	 * on queue 1 come back spread over both queues by flow */
	struct tguest g;
	char p[128], v[32];
	netif_tx_front_ring_t tx[2];
	netif_rx_front_ring_t rx[2];
	int tsend[2], tup[2], rsend[2], rup[2];
	uint8_t *rxpg[2][16];
	static uint8_t frame[128];
	ck_assert_int_eq(tg_connect(&g, sim.sock, "mq"), 0);
	ck_assert_int_eq(tg_set_memory(&g, 2u << 20), 0);
	ck_assert_int_eq(tg_gnttab_setup(&g, 1), 0);
	ck_assert_int_eq(tg_xs_connect(&g), 0);
	ck_assert_int_eq(tg_attach(&g, "vif", 0), 0);
	uint32_t t;
	ck_assert_int_eq(tg_xs_tx_start(&g, &t), 0);
	ck_assert_int_eq(tg_xs_write(&g, t, "device/vif/0/multi-queue-num-queues", "2"), 0);
	for (int q = 0; q < 2; q++) {
		uint64_t gfn;
		uint32_t port;
		netif_tx_sring_t *ts = (void *)tg_alloc_page(&g, &gfn);
		SHARED_RING_INIT(ts);
		FRONT_RING_INIT(&tx[q], ts, 4096);
		snprintf(p, sizeof(p), "device/vif/0/queue-%d/tx-ring-ref", q);
		snprintf(v, sizeof(v), "%u", tg_grant(&g, gfn, 0, false));
		ck_assert_int_eq(tg_xs_write(&g, t, p, v), 0);
		netif_rx_sring_t *rs = (void *)tg_alloc_page(&g, &gfn);
		SHARED_RING_INIT(rs);
		FRONT_RING_INIT(&rx[q], rs, 4096);
		snprintf(p, sizeof(p), "device/vif/0/queue-%d/rx-ring-ref", q);
		snprintf(v, sizeof(v), "%u", tg_grant(&g, gfn, 0, false));
		ck_assert_int_eq(tg_xs_write(&g, t, p, v), 0);
		ck_assert_int_eq(tg_evtchn_alloc(&g, 0, &port, &tsend[q], &tup[q]), 0);
		snprintf(p, sizeof(p), "device/vif/0/queue-%d/event-channel-tx", q);
		snprintf(v, sizeof(v), "%u", port);
		ck_assert_int_eq(tg_xs_write(&g, t, p, v), 0);
		ck_assert_int_eq(tg_evtchn_alloc(&g, 0, &port, &rsend[q], &rup[q]), 0);
		snprintf(p, sizeof(p), "device/vif/0/queue-%d/event-channel-rx", q);
		snprintf(v, sizeof(v), "%u", port);
		ck_assert_int_eq(tg_xs_write(&g, t, p, v), 0);
		for (int i = 0; i < 16; i++) {
			rxpg[q][i] = tg_alloc_page(&g, &gfn);
			netif_rx_request_t *r = RING_GET_REQUEST(&rx[q], rx[q].req_prod_pvt++);
			r->id = (uint16_t)i;
			r->gref = tg_grant(&g, gfn, 0, false);
		}
		RING_PUSH_REQUESTS(&rx[q]);
	}
	ck_assert_int_eq(tg_xs_write(&g, t, "device/vif/0/request-rx-copy", "1"), 0);
	ck_assert_int_eq(tg_xs_write(&g, t, "device/vif/0/feature-rx-notify", "1"), 0);
	ck_assert_int_eq(tg_xs_write(&g, t, "device/vif/0/state", "4"), 0);
	ck_assert_int_eq(tg_xs_tx_end(&g, t, true), 0);
	snprintf(p, sizeof(p), "/local/domain/0/backend/vif/%u/0/state", g.domid);
	ck_assert(tg_xs_wait_value(&g, p, "4"));
	uint64_t gfn;
	uint8_t *txp = tg_alloc_page(&g, &gfn);
	uint32_t txref = tg_grant(&g, gfn, 0, true);
	eth(frame, 0x88B5);
	for (int i = 0; i < 8; i++) {
		frame[26] = (uint8_t)(i * 37);
		frame[33] = (uint8_t)i;
		memcpy(txp + i * 128, frame, 100);
		netif_tx_request_t *r = RING_GET_REQUEST(&tx[1], tx[1].req_prod_pvt++);
		r->gref = txref;
		r->offset = (uint16_t)(i * 128);
		r->flags = 0;
		r->id = (uint16_t)i;
		r->size = 100;
	}
	int notify;
	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&tx[1], notify);
	ck_assert(notify);
	tg_kick(tsend[1]);
	/* all eight come back; count per queue */
	unsigned got[2] = { 0, 0 };
	for (int tries = 0; tries < 50 && got[0] + got[1] < 8; tries++) {
		for (int q = 0; q < 2; q++) {
			int more;
			RING_FINAL_CHECK_FOR_RESPONSES(&rx[q], more);
			while (more) {
				netif_rx_response_t *r = RING_GET_RESPONSE(&rx[q], rx[q].rsp_cons++);
				ck_assert_int_eq(r->status, 100);
				ck_assert_uint_eq(rxpg[q][r->id][12], 0x88);
				got[q]++;
				RING_FINAL_CHECK_FOR_RESPONSES(&rx[q], more);
			}
		}
		if (got[0] + got[1] < 8) {
			struct pollfd pf[2] = { { rup[0], POLLIN, 0 }, { rup[1], POLLIN, 0 } };
			ck_assert_int_gt(poll(pf, 2, 10000), 0);
			for (int q = 0; q < 2; q++)
				if (pf[q].revents)
					tg_wait_upcall(rup[q], 0);
		}
	}
	ck_assert_uint_eq(got[0] + got[1], 8);
	ck_assert_uint_gt(got[0], 0);
	ck_assert_uint_gt(got[1], 0);
	tg_close(&g);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("simxen_net");
	TCase *tc = tcase_create("netback");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, handshake_and_reflect);
	tcase_add_test(tc, bridge_gso_and_checksums);
	tcase_add_test(tc, rx_copy_required);
	tcase_add_test(tc, fatal_tx_errors);
	tcase_add_test(tc, link_and_faults);
	tcase_add_test(tc, initialised_is_ignored);
	tcase_add_test(tc, multi_queue);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
