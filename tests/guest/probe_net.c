/* SPDX-License-Identifier: MIT */
/*
 * tests/guest/probe_net.c - the probe guest's network checks, through
 * pvio_net_* exactly as an application uses them, against a peer outside
 * the guest: QEMU's user-mode network (slirp), which answers ARP for its
 * gateway 10.0.2.2 and reflects ICMP echo requests sent to it.
 *
 * The guest is 10.0.2.15 (slirp's default).  Checks: an ARP request for
 * 10.0.2.2 and its reply, compared byte for byte with the reply slirp must
 * send (its gateway MAC is 52:55 followed by the IPv4 address); then
 * pvio.pings ICMP echo requests of different sizes, each reply compared
 * byte for byte in its Ethernet and ICMP parts (the IP header's id and TTL
 * are slirp's choice: its addresses, protocol, length and checksum are
 * checked).  ARP requests slirp sends for us are answered.  With
 * pvio.bench=1: 1400-byte pings, 1 and 16 in flight, for 2 s each, as a
 * packet-rate and throughput figure.
 */
#include "guest.h"

#include <pvio/pvio.h>
#include <pvio/transport.h>

static const uint8_t my_ip[4] = { 10, 0, 2, 15 };
static const uint8_t gw_ip[4] = { 10, 0, 2, 2 };
static const uint8_t gw_mac[6] = { 0x52, 0x55, 10, 0, 2, 2 };

struct nctx {
	pvio_net *net;
	pvio_ctx *ctx;
	uint8_t mac[6];
	uint8_t rx[2048];
	uint64_t arp_answered, other;
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}
static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint16_t csum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static size_t build_arp(uint8_t *f, int op, const uint8_t *dst_mac,
			const uint8_t *sha, const uint8_t *spa,
			const uint8_t *tha, const uint8_t *tpa)
{
	memcpy(f, dst_mac, 6);
	memcpy(f + 6, sha, 6);
	put16(f + 12, 0x0806);
	put16(f + 14, 1);
	put16(f + 16, 0x0800);
	f[18] = 6;
	f[19] = 4;
	put16(f + 20, (uint16_t)op);
	memcpy(f + 22, sha, 6);
	memcpy(f + 28, spa, 4);
	memcpy(f + 32, tha, 6);
	memcpy(f + 38, tpa, 4);
	return 42;
}

/* ICMP echo (type 8) or reply (type 0) to/from the gateway */
static size_t build_icmp(uint8_t *f, int type, const uint8_t *mac, uint16_t id,
			 uint16_t seq, size_t payload)
{
	const int req = type == 8;
	memcpy(f, req ? gw_mac : mac, 6);
	memcpy(f + 6, req ? mac : gw_mac, 6);
	put16(f + 12, 0x0800);
	uint8_t *ip = f + 14;
	memset(ip, 0, 20);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(20 + 8 + payload));
	put16(ip + 4, (uint16_t)(0x4000 + seq));
	ip[8] = 64;
	ip[9] = 1;
	memcpy(ip + 12, req ? my_ip : gw_ip, 4);
	memcpy(ip + 16, req ? gw_ip : my_ip, 4);
	put16(ip + 10, csum(ip, 20));
	uint8_t *ic = ip + 20;
	ic[0] = (uint8_t)type;
	ic[1] = 0;
	put16(ic + 2, 0);
	put16(ic + 4, id);
	put16(ic + 6, seq);
	for (size_t i = 0; i < payload; i++)
		ic[8 + i] = (uint8_t)(i * 13u + seq);
	put16(ic + 2, csum(ic, 8 + payload));
	return 14 + 20 + 8 + payload;
}

static int send_frame(struct nctx *n, const uint8_t *f, size_t len)
{
	uint64_t deadline = pvio_now_ns(n->ctx) + 2000000000ull;
	for (;;) {
		int r = pvio_net_send(n->net, 0, f, len, NULL);
		if (r != -EAGAIN)
			return r;
		if (pvio_now_ns(n->ctx) > deadline)
			return -ETIMEDOUT;
		pvio_net_wait(n->net, 0, 1000000);
	}
}

/* Answer slirp's ARP request for our address; 1 if f was one. */
static int answer_arp(struct nctx *n, const uint8_t *f, int len)
{
	if (len < 42 || get16(f + 12) != 0x0806 || get16(f + 20) != 1 ||
	    memcmp(f + 38, my_ip, 4))
		return 0;
	uint8_t out[64];
	size_t l = build_arp(out, 2, f + 22, n->mac, my_ip, f + 22, f + 28);
	send_frame(n, out, l);
	n->arp_answered++;
	return 1;
}

/* Receive the next frame that is not an ARP request for us; its length,
 * 0 on timeout, < 0 on error. */
static int recv_frame(struct nctx *n, uint64_t timeout_ns)
{
	uint64_t deadline = pvio_now_ns(n->ctx) + timeout_ns;
	for (;;) {
		int r = pvio_net_recv(n->net, 0, n->rx, sizeof(n->rx), NULL);
		if (r < 0)
			return r;
		if (r > 0) {
			if (answer_arp(n, n->rx, r))
				continue;
			return r;
		}
		if (pvio_now_ns(n->ctx) >= deadline)
			return 0;
		pvio_net_wait(n->net, 0, 1000000);
	}
}

static int is_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

static void check_arp(struct nctx *n)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t zero[6] = { 0 };
	uint8_t f[64], want[64];
	size_t l = build_arp(f, 1, bcast, n->mac, my_ip, zero, gw_ip);
	build_arp(want, 2, n->mac, gw_mac, gw_ip, n->mac, my_ip);
	int r = send_frame(n, f, l);
	if (r < 0) {
		res("net.arp", "FAIL send: %s", pvio_errmsg(n->ctx));
		return;
	}
	uint64_t t0 = pvio_now_ns(n->ctx);
	for (int tries = 0; tries < 16; tries++) {
		int got = recv_frame(n, 3000000000ull);
		if (got <= 0) {
			res("net.arp", "FAIL no reply from 10.0.2.2 (%d: %s)", got,
			    got < 0 ? pvio_errmsg(n->ctx) : "timeout");
			return;
		}
		if (got < 42 || get16(n->rx + 12) != 0x0806) {
			n->other++;
			continue;
		}
		if (memcmp(n->rx, want, 42) || !is_zero(n->rx + 42, (size_t)got - 42)) {
			unsigned i = 0;
			while (i < 42 && n->rx[i] == want[i])
				i++;
			res("net.arp", "FAIL reply differs at byte %u (0x%02x, "
			    "expected 0x%02x), %d bytes", i, n->rx[i < 42 ? i : 0],
			    want[i < 42 ? i : 0], got);
			return;
		}
		res("net.arp", "ok reply from 52:55:0a:00:02:02 (%d bytes, %llu us)",
		    got, (unsigned long long)((pvio_now_ns(n->ctx) - t0) / 1000));
		return;
	}
	res("net.arp", "FAIL only unrelated frames arrived");
}

/* One echo; 1 ok, 0 failed (reported). */
static int ping(struct nctx *n, uint16_t seq, size_t payload, uint64_t *rtt)
{
	static uint8_t f[1600], want[1600];
	size_t l = build_icmp(f, 8, n->mac, 0x7076, seq, payload);
	build_icmp(want, 0, n->mac, 0x7076, seq, payload);
	uint64_t t0 = pvio_now_ns(n->ctx);
	if (send_frame(n, f, l) < 0) {
		res("net.ping", "FAIL send seq %u: %s", seq, pvio_errmsg(n->ctx));
		return 0;
	}
	for (int tries = 0; tries < 16; tries++) {
		int got = recv_frame(n, 3000000000ull);
		if (got <= 0) {
			res("net.ping", "FAIL no reply to seq %u (%zu bytes)", seq,
			    payload);
			return 0;
		}
		const uint8_t *ip = n->rx + 14;
		if (got < 42 || get16(n->rx + 12) != 0x0800 || ip[9] != 1) {
			n->other++;
			continue;
		}
		*rtt = pvio_now_ns(n->ctx) - t0;
		size_t ihl = (size_t)(ip[0] & 15) * 4;
		size_t tot = get16(ip + 2);
		const char *why = NULL;
		if (memcmp(n->rx, want, 14))
			why = "Ethernet header";
		else if ((ip[0] >> 4) != 4 || ihl < 20 || tot > (size_t)got - 14 ||
			 tot != ihl + 8 + payload)
			why = "IP version/length";
		else if (csum(ip, ihl) != 0)
			why = "IP header checksum";
		else if (memcmp(ip + 12, gw_ip, 4) || memcmp(ip + 16, my_ip, 4))
			why = "IP addresses";
		else if (memcmp(ip + ihl, want + 34, 8 + payload))
			why = "ICMP echo reply";
		if (why) {
			res("net.ping", "FAIL seq %u (%zu bytes): %s differs", seq,
			    payload, why);
			return 0;
		}
		return 1;
	}
	res("net.ping", "FAIL seq %u: only unrelated frames arrived", seq);
	return 0;
}

static void bench(struct nctx *n, unsigned window)
{
	static uint8_t f[1600];
	const size_t payload = 1400;
	uint64_t t0 = pvio_now_ns(n->ctx), end = t0 + 2000000000ull;
	unsigned sent = 0, got = 0;
	uint16_t seq = 0x1000;
	while (pvio_now_ns(n->ctx) < end) {
		while (sent - got < window) {
			size_t l = build_icmp(f, 8, n->mac, 0x7077, seq++, payload);
			if (pvio_net_send(n->net, 0, f, l, NULL) < 0)
				break;
			sent++;
		}
		int r = pvio_net_recv(n->net, 0, n->rx, sizeof(n->rx), NULL);
		if (r > 0) {
			if (!answer_arp(n, n->rx, r) && get16(n->rx + 12) == 0x0800 &&
			    n->rx[23] == 1 && n->rx[34] == 0)
				got++;
		} else if (r == 0) {
			pvio_net_wait(n->net, 0, 1000000);
		} else {
			break;
		}
	}
	uint64_t ns = pvio_now_ns(n->ctx) - t0;
	uint64_t bytes = (uint64_t)got * (14 + 20 + 8 + payload);
	char key[32];
	pvio_snprintf(key, sizeof(key), "bench.net_echo_w%u", window);
	res(key, "%llu replies/s, %llu KiB/s each way (%u sent, %u "
	    "replies, 1442-byte frames, window %u, %llu ms)",
	    (unsigned long long)(got * 1000000000ull / (ns ? ns : 1)),
	    (unsigned long long)(bytes * 1000000000ull / 1024 / (ns ? ns : 1)),
	    sent, got, window, (unsigned long long)(ns / 1000000));
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	for (int i = 0; i < 6; i++) {
		unsigned v = 0;
		for (int k = 0; k < 2; k++) {
			char c = *s++;
			unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0')
				     : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
				     : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
							    : 16u;
			if (d > 15)
				return -1;
			v = v * 16 + d;
		}
		mac[i] = (uint8_t)v;
		if (i < 5 && *s++ != ':')
			return -1;
	}
	return *s ? -1 : 0;
}

void probe_net(pvio_ctx *ctx, const struct probe_net_args *a)
{
	static struct nctx n;
	struct pvio_net_opts o = { .struct_size = sizeof(o), .num_queues = 1 };
	uint64_t t0 = pvio_now_ns(ctx);
	memset(&n, 0, sizeof(n));
	n.ctx = ctx;
	res("net.address", "%s", a->address);
	int r = pvio_net_open(ctx, a->address, &o, &n.net);
	if (r < 0) {
		res("net.open", "FAIL %s", pvio_errmsg(ctx));
		return;
	}
	struct pvio_net_info ni = { .struct_size = sizeof(ni) };
	struct pvio_dev_info di = { .struct_size = sizeof(di) };
	pvio_net_get_info(n.net, &ni);
	pvio_dev_get_info(pvio_net_dev(n.net), &di);
	memcpy(n.mac, ni.mac, 6);
	res("net.device", "%s %s", di.backend, di.protocol);
	res("net.ring", "%s", (ni.features & PVIO_F_PACKED_RING) ? "packed" : "split");
	res("net.offered", "%s%s%s%s", (di.offered & PVIO_F_PACKED_RING) ? "packed " : "",
	    (di.offered & PVIO_F_IN_ORDER) ? "in_order " : "",
	    (di.offered & PVIO_F_EVENT_SUPPRESS) ? "event_idx " : "",
	    (di.offered & PVIO_F_INDIRECT) ? "indirect" : "");
	res("net.native", "%s", di.native);
	res("net.info", "mac=%02x:%02x:%02x:%02x:%02x:%02x mtu=%u link=%s ring=%u",
	    ni.mac[0], ni.mac[1], ni.mac[2], ni.mac[3], ni.mac[4], ni.mac[5],
	    ni.mtu, ni.link_up ? "up" : "down", ni.ring_size);
	res_time("net.open_ms", pvio_now_ns(ctx) - t0);
	if (a->mac) {
		uint8_t want[6];
		if (parse_mac(a->mac, want) < 0)
			res("net.mac", "FAIL pvio.mac=%s is not a MAC address", a->mac);
		else if (memcmp(want, ni.mac, 6))
			res("net.mac", "FAIL the device has another MAC than %s", a->mac);
		else
			res("net.mac", "ok %s", a->mac);
	}
	if (!ni.link_up)
		res("net.link", "FAIL link down");

	check_arp(&n);
	unsigned ok = 0, np = a->pings > 0 ? (unsigned)a->pings : 1;
	static const size_t sizes[] = { 56, 1, 200, 1000, 1472, 64, 512, 1400 };
	uint64_t rtt_sum = 0;
	for (unsigned i = 0; i < np; i++) {
		uint64_t rtt = 0;
		if (!ping(&n, (uint16_t)(i + 1), sizes[i % 8], &rtt))
			break;
		rtt_sum += rtt;
		ok++;
	}
	if (ok == np)
		res("net.ping", "ok %u/%u echo replies from 10.0.2.2, mean rtt %llu us",
		    ok, np, (unsigned long long)(rtt_sum / ok / 1000));
	if (a->bench) {
		bench(&n, 1);
		bench(&n, 16);
	}
	struct pvio_queue_stats st;
	if (pvio_net_get_stats(n.net, 0, &st) == 0)
		res("net.stats", "notify_sent=%llu notify_suppressed=%llu arp_answered=%llu "
		    "other_frames=%llu",
		    (unsigned long long)st.notify_sent,
		    (unsigned long long)st.notify_suppressed,
		    (unsigned long long)n.arp_answered, (unsigned long long)n.other);
	pvio_net_close(n.net);
	res("net.close", "ok");
}
