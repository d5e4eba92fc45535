/* SPDX-License-Identifier: MIT */
/*
 * tests/interop/dpdk_netvsc.c - a small DPDK program that drives DPDK's
 * own netvsc PMD (drivers/net/netvsc over drivers/bus/vmbus, Debian's
 * DPDK 22.11) against pvio's simulated Hyper-V host through the fake
 * uio_hv_generic device of sim/vmbus/uio.c.  Nobody here wrote the PMD:
 * what it does is what a real NetVSC client does.
 *
 *   dpdk_netvsc EAL-ARGS -- --peer MAC [--csum]
 *
 * It brings port 0 up (one RX and one TX queue, multi-segment TX), then
 * runs commands read line by line from stdin, answering each with one line
 * on stdout ("ok ..." or "fail ..."), so a test harness drives it without
 * any timing assumption.  Every wait is bounded (5 s).
 *
 *   info            MAC, link state and speed, MTU as the PMD reports them
 *   link up|down    wait until the link is in that state
 *   reflect N       send N frames to our own MAC (the host reflects them)
 *                   and check each one that comes back byte for byte
 *   send N          send the next N frames of pattern "d" to the peer
 *   recv N          receive the next N frames of pattern "p" from the
 *                   peer and check each byte
 *   csum N          (with --csum: TX and RX checksum offloads configured)
 *                   send N IPv4 TCP/UDP frames leaving their checksums to
 *                   the host; each must come back complete and reported
 *                   good
 *   stats           the port's counters
 *   quit
 *
 * Frames are those of frames.h: some go through the send buffer (<= 512
 * bytes, the PMD's copy break) and the others through guest page ranges,
 * every fourth cycle's large ones as a chain of two mbufs.  The peer side
 * (pvio) uses the same generator.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "frames.h"

#define BURST 32
#define WAIT_NS 5000000000ull

static uint16_t port;
static struct rte_mempool *pool;
static struct rte_ether_addr self, peer;
/* next sequence number of each pattern: r reflected, d to the peer, p
 * from the peer */
static uint32_t next_r, next_d, next_p;
static bool csum_offload;   /* --csum: IPv4/TCP/UDP checksums by the host */

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The frame (pattern, seq) between src and dst (frames.h): its length. */
static uint16_t make_frame(uint8_t *f, const struct rte_ether_addr *dst,
			   const struct rte_ether_addr *src, char pattern,
			   uint32_t seq)
{
	return fr_make(f, dst->addr_bytes, src->addr_bytes, pattern, seq);
}

static struct rte_mbuf *frame_mbuf(const uint8_t *f, uint16_t len, bool chain)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	if (!m)
		return NULL;
	uint16_t first = chain ? len / 2 : len;
	memcpy(rte_pktmbuf_append(m, first), f, first);
	if (chain) {
		struct rte_mbuf *m2 = rte_pktmbuf_alloc(pool);
		if (!m2) {
			rte_pktmbuf_free(m);
			return NULL;
		}
		memcpy(rte_pktmbuf_append(m2, len - first), f + first,
		       len - first);
		if (rte_pktmbuf_chain(m, m2) < 0) {
			rte_pktmbuf_free(m);
			rte_pktmbuf_free(m2);
			return NULL;
		}
	}
	return m;
}

/* Send frames (pattern, seq .. seq + n - 1) to dst. */
static int send_frames(const struct rte_ether_addr *dst, char pattern,
		       uint32_t seq, uint32_t n, unsigned *chained)
{
	uint8_t f[RTE_ETHER_MAX_LEN];
	uint64_t end = now_ns() + WAIT_NS;
	for (uint32_t i = 0; i < n;) {
		uint16_t len = make_frame(f, dst, &self, pattern, seq + i);
		bool chain = len > 512 && ((seq + i) / FR_NSIZES) % 4 == 3;
		struct rte_mbuf *m = frame_mbuf(f, len, chain);
		if (m && rte_eth_tx_burst(port, 0, &m, 1) == 1) {
			*chained += chain;
			i++;
			continue;
		}
		/* ring or pool full: tx_burst reaps completions next time */
		if (m)
			rte_pktmbuf_free(m);
		if (now_ns() > end) {
			printf("fail could not send frame %u\n", seq + i);
			return -1;
		}
		usleep(100);
	}
	return 0;
}

/* Receive frames (pattern, seq .. seq + n - 1) from src, in order. */
static int recv_frames(const struct rte_ether_addr *src, char pattern,
		       uint32_t seq, uint32_t n)
{
	uint8_t want[RTE_ETHER_MAX_LEN], got[RTE_ETHER_MAX_LEN];
	uint32_t i = 0;
	uint64_t end = now_ns() + WAIT_NS;
	while (i < n) {
		struct rte_mbuf *rx[BURST];
		uint16_t k = rte_eth_rx_burst(port, 0, rx, BURST);
		for (uint16_t j = 0; j < k; j++) {
			struct rte_mbuf *m = rx[j];
			uint16_t wl = make_frame(want, &self, src, pattern,
						 seq + i);
			uint32_t len = rte_pktmbuf_pkt_len(m);
			int bad = i >= n || len != wl;
			if (!bad) {
				const uint8_t *p = rte_pktmbuf_read(m, 0, len,
								    got);
				bad = !p || memcmp(p, want, len) != 0;
			}
			rte_pktmbuf_free(m);
			if (bad) {
				printf("fail frame %u: %u bytes, expected %u, "
				       "or content differs\n",
				       seq + i, len, wl);
				rte_pktmbuf_free_bulk(rx + j + 1, k - j - 1);
				return -1;
			}
			i++;
		}
		if (i < n && now_ns() > end) {
			printf("fail %u of %u frames arrived\n", i, n);
			return -1;
		}
		if (!k)
			usleep(50);
	}
	return 0;
}

/* ---- checksum offload (--csum) ---- */
static uint32_t sum16(const uint8_t *p, uint32_t len, uint32_t acc)
{
	for (uint32_t i = 0; i + 1 < len; i += 2)
		acc += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		acc += (uint32_t)p[len - 1] << 8;
	return acc;
}

static uint16_t fold(uint32_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xFFFF) + (acc >> 16);
	return (uint16_t)acc;
}

/* An IPv4 TCP (seq even) or UDP frame to ourselves with payload n bytes;
 * complete: checksums filled in; else: IP checksum 0 and the L4 checksum
 * field holding the pseudo-header sum, as DPDK wants for offload. */
static uint16_t ip_frame(uint8_t *f, uint32_t seq, bool complete)
{
	bool udp = seq & 1;
	uint16_t pay = (uint16_t)(100 + (seq * 131) % 1300);
	uint16_t l4h = udp ? 8 : 20, len = (uint16_t)(14 + 20 + l4h + pay);
	memset(f, 0, 14 + 20 + l4h);
	memcpy(f, self.addr_bytes, 6);
	memcpy(f + 6, self.addr_bytes, 6);
	f[12] = 0x08;
	uint8_t *ip = f + 14, *l4 = ip + 20;
	ip[0] = 0x45;
	ip[2] = (uint8_t)((len - 14) >> 8);
	ip[3] = (uint8_t)(len - 14);
	ip[4] = (uint8_t)(seq >> 8);
	ip[5] = (uint8_t)seq;
	ip[8] = 64;
	ip[9] = udp ? 17 : 6;
	const uint8_t addrs[8] = { 192, 168, 7, 1, 192, 168, 7, 2 };
	memcpy(ip + 12, addrs, 8);
	l4[0] = 0x9c;
	l4[1] = 0x40;
	l4[2] = 0x14;
	l4[3] = 0x51;
	if (udp) {
		l4[4] = (uint8_t)((l4h + pay) >> 8);
		l4[5] = (uint8_t)(l4h + pay);
	} else {
		l4[12] = 5 << 4;
		l4[13] = 0x18;
		l4[14] = 0xff;
		l4[15] = 0xff;
	}
	uint32_t x = seq * 2246822519u + 7;
	for (uint16_t i = 0; i < pay; i++) {
		x = x * 1103515245u + 12345u;
		l4[l4h + i] = (uint8_t)(x >> 16);
	}
	uint32_t ph = sum16(ip + 12, 8, 0) + ip[9] + (uint32_t)(l4h + pay);
	uint8_t *field = l4 + (udp ? 6 : 16);
	if (!complete) {
		uint16_t p = fold(ph);
		field[0] = (uint8_t)(p >> 8);
		field[1] = (uint8_t)p;
		return len;
	}
	uint16_t c = (uint16_t)~fold(sum16(l4, l4h + pay, ph));
	if (udp && !c)
		c = 0xFFFF;
	field[0] = (uint8_t)(c >> 8);
	field[1] = (uint8_t)c;
	uint16_t ic = (uint16_t)~fold(sum16(ip, 20, 0));
	ip[10] = (uint8_t)(ic >> 8);
	ip[11] = (uint8_t)ic;
	return len;
}

/* Send n checksum-offloaded frames to ourselves and check that each
 * comes back with the checksums the host filled in. */
static int csum_frames(uint32_t n)
{
	uint8_t f[RTE_ETHER_MAX_LEN], want[RTE_ETHER_MAX_LEN];
	uint8_t got[RTE_ETHER_MAX_LEN];
	for (uint32_t seq = 0; seq < n; seq++) {
		uint16_t len = ip_frame(f, seq, false);
		struct rte_mbuf *m = frame_mbuf(f, len, false);
		if (!m) {
			printf("fail no mbuf\n");
			return -1;
		}
		m->l2_len = 14;
		m->l3_len = 20;
		m->ol_flags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM |
			      (seq & 1 ? RTE_MBUF_F_TX_UDP_CKSUM
				       : RTE_MBUF_F_TX_TCP_CKSUM);
		uint64_t end = now_ns() + WAIT_NS;
		while (rte_eth_tx_burst(port, 0, &m, 1) != 1) {
			if (now_ns() > end) {
				rte_pktmbuf_free(m);
				printf("fail could not send frame %u\n", seq);
				return -1;
			}
			usleep(100);
		}
		struct rte_mbuf *rx = NULL;
		while (rte_eth_rx_burst(port, 0, &rx, 1) != 1) {
			if (now_ns() > end) {
				printf("fail checksummed frame %u not back\n",
				       seq);
				return -1;
			}
			usleep(50);
		}
		uint16_t wl = ip_frame(want, seq, true);
		uint32_t rl = rte_pktmbuf_pkt_len(rx);
		const uint8_t *p = rl == wl ? rte_pktmbuf_read(rx, 0, rl, got)
					    : NULL;
		bool ok = p && !memcmp(p, want, wl);
		/* and the host's receive checksum report, as the PMD reads
		 * it */
		uint64_t good = RTE_MBUF_F_RX_IP_CKSUM_GOOD |
				RTE_MBUF_F_RX_L4_CKSUM_GOOD;
		uint64_t fl = rx->ol_flags;
		rte_pktmbuf_free(rx);
		if (!ok) {
			printf("fail frame %u came back %u bytes, not %u with "
			       "the checksums filled in\n",
			       seq, rl, wl);
			return -1;
		}
		if ((fl & good) != good) {
			printf("fail frame %u: receive checksum flags %#" PRIx64
			       "\n", seq, fl);
			return -1;
		}
	}
	return 0;
}

static void mac_str(const struct rte_ether_addr *a, char *s)
{
	snprintf(s, 18, "%02x:%02x:%02x:%02x:%02x:%02x", a->addr_bytes[0],
		 a->addr_bytes[1], a->addr_bytes[2], a->addr_bytes[3],
		 a->addr_bytes[4], a->addr_bytes[5]);
}

static int port_up(void)
{
	struct rte_eth_dev_info info;
	if (rte_eth_dev_count_avail() != 1) {
		printf("fail %u ports, expected the one netvsc port\n",
		       rte_eth_dev_count_avail());
		return -1;
	}
	port = 0;
	RTE_ETH_FOREACH_DEV(port)
		break;
	if (rte_eth_dev_info_get(port, &info) != 0 ||
	    strcmp(info.driver_name, "net_netvsc") != 0) {
		printf("fail port %u is not net_netvsc\n", port);
		return -1;
	}
	struct rte_eth_conf conf;
	memset(&conf, 0, sizeof(conf));
	conf.txmode.offloads = RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	uint64_t csum = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM |
			RTE_ETH_TX_OFFLOAD_TCP_CKSUM |
			RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
	if (csum_offload) {
		if ((info.tx_offload_capa & csum) != csum) {
			printf("fail the port offers no checksum offload "
			       "(tx capa %#" PRIx64 ")\n",
			       info.tx_offload_capa);
			return -1;
		}
		conf.txmode.offloads |= csum;
		/* receive checksums too: DPDK 22.11 then asks the host for
		 * "RX only" (2 | 3) and still sends checksum PPIs */
		conf.rxmode.offloads = RTE_ETH_RX_OFFLOAD_IPV4_CKSUM |
				       RTE_ETH_RX_OFFLOAD_TCP_CKSUM |
				       RTE_ETH_RX_OFFLOAD_UDP_CKSUM;
	}
	int socket = rte_eth_dev_socket_id(port);
	if (socket < 0)
		socket = 0;
	if (rte_eth_dev_configure(port, 1, 1, &conf) != 0 ||
	    rte_eth_rx_queue_setup(port, 0, 256, (unsigned)socket, NULL,
				   pool) != 0 ||
	    rte_eth_tx_queue_setup(port, 0, 256, (unsigned)socket, NULL) != 0 ||
	    rte_eth_dev_start(port) != 0) {
		printf("fail cannot configure and start port %u\n", port);
		return -1;
	}
	return rte_eth_macaddr_get(port, &self);
}

static int link_state(struct rte_eth_link *l)
{
	memset(l, 0, sizeof(*l));
	return rte_eth_link_get_nowait(port, l);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	int n = rte_eal_init(argc, argv);
	if (n < 0) {
		printf("fail EAL init\n");
		return 1;
	}
	argc -= n;
	argv += n;
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--peer") && i + 1 < argc &&
		    fr_parse_mac(argv[++i], peer.addr_bytes) == 0)
			continue;
		else if (!strcmp(argv[i], "--csum"))
			csum_offload = true;
		else {
			printf("fail bad argument %s\n", argv[i]);
			return 1;
		}
	pool = rte_pktmbuf_pool_create("frames", 1023, 0, 0,
				       RTE_MBUF_DEFAULT_BUF_SIZE,
				       rte_socket_id());
	if (!pool) {
		printf("fail no mbuf pool\n");
		return 1;
	}
	if (port_up() != 0)
		return 1;
	printf("ready\n");

	char line[128];
	int rc = 0;
	while (fgets(line, sizeof(line), stdin)) {
		char cmd[16] = "", arg[32] = "";
		if (sscanf(line, "%15s %31s", cmd, arg) < 1)
			continue;
		unsigned cnt = (unsigned)strtoul(arg, NULL, 10);
		char ms[18];
		if (!strcmp(cmd, "info")) {
			struct rte_eth_link l;
			uint16_t mtu = 0;
			link_state(&l);
			rte_eth_dev_get_mtu(port, &mtu);
			mac_str(&self, ms);
			printf("ok mac=%s link=%s speed=%u mtu=%u\n", ms,
			       l.link_status ? "up" : "down", l.link_speed,
			       mtu);
		} else if (!strcmp(cmd, "link")) {
			bool up = !strcmp(arg, "up");
			uint64_t end = now_ns() + WAIT_NS;
			struct rte_eth_link l;
			while (link_state(&l) == 0 &&
			       (l.link_status != 0) != up && now_ns() < end)
				usleep(10000);
			if ((l.link_status != 0) == up)
				printf("ok link=%s\n", arg);
			else
				printf("fail link still %s\n",
				       up ? "down" : "up");
		} else if (!strcmp(cmd, "reflect")) {
			/* windows of 8: the host's receive buffer in the
			 * fake device has room for a few dozen frames */
			unsigned chained = 0, done = 0;
			int bad = 0;
			while (!bad && done < cnt) {
				unsigned w = cnt - done < 8 ? cnt - done : 8;
				bad = send_frames(&self, 'r', next_r, w,
						  &chained) ||
				      recv_frames(&self, 'r', next_r, w);
				next_r += w;
				done += w;
			}
			if (!bad)
				printf("ok reflected=%u chained=%u\n", cnt,
				       chained);
		} else if (!strcmp(cmd, "send")) {
			unsigned chained = 0;
			if (send_frames(&peer, 'd', next_d, cnt, &chained) == 0)
				printf("ok sent=%u chained=%u\n", cnt, chained);
			next_d += cnt;
		} else if (!strcmp(cmd, "recv")) {
			if (recv_frames(&peer, 'p', next_p, cnt) == 0)
				printf("ok received=%u\n", cnt);
			next_p += cnt;
		} else if (!strcmp(cmd, "csum")) {
			if (!csum_offload)
				printf("fail started without --csum\n");
			else if (csum_frames(cnt) == 0)
				printf("ok checksummed=%u\n", cnt);
		} else if (!strcmp(cmd, "stats")) {
			struct rte_eth_stats st;
			rte_eth_stats_get(port, &st);
			printf("ok ipackets=%" PRIu64 " opackets=%" PRIu64
			       " ierrors=%" PRIu64 " oerrors=%" PRIu64 "\n",
			       st.ipackets, st.opackets, st.ierrors,
			       st.oerrors);
		} else if (!strcmp(cmd, "quit")) {
			printf("ok bye\n");
			break;
		} else {
			printf("fail unknown command %s\n", cmd);
			rc = 1;
		}
		fflush(stdout);
	}
	rte_eth_dev_stop(port);
	rte_eth_dev_close(port);
	rte_eal_cleanup();
	return rc;
}
