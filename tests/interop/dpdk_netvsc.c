/* SPDX-License-Identifier: MIT */
/*
 * tests/interop/dpdk_netvsc.c - a small DPDK program that drives DPDK's
 * own netvsc PMD (drivers/net/netvsc over drivers/bus/vmbus, Debian's
 * DPDK 22.11) against pvio's simulated Hyper-V host through the fake
 * uio_hv_generic device of sim/vmbus/uio.c.  Nobody here wrote the PMD:
 * what it does is what a real NetVSC client does.
 *
 *   dpdk_netvsc EAL-ARGS -- --peer MAC
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
