/* SPDX-License-Identifier: MIT */
/*
 * tests/bench/ring_bench.c - packed versus split virtqueues, measured with
 * hosted pvio over vhost-user against dpdk-testpmd (io forward: every frame
 * pvio sends comes back on the same port).
 *
 *   ring_bench [SECONDS] [FRAME_BYTES...]
 *
 * For each frame size and each ring format (packed=off, packed=on) it
 * starts testpmd (tests/lib/peers.c), opens the device through
 * pvio_net_open with PVIO_NET_BUSY_POLL, sends whenever a transmit buffer
 * is free and receives what comes back for SECONDS (default 3), and prints frames per second and data
 * rate one way, with the notification counters.  A benchmark, not a test:
 * it asserts nothing about speed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pvio/net.h>
#include <pvio/pvio.h>

#include "peers.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int run(const char *ring, unsigned len, double secs)
{
	struct peer_testpmd_opts po = { .queues = 1 };
	struct peer *p = peer_testpmd_start(&po, 30000);
	if (!p) {
		fprintf(stderr, "ring_bench: dpdk-testpmd did not start\n");
		return 1;
	}
	pvio_ctx *ctx;
	struct pvio_ctx_opts co = { .struct_size = sizeof(co),
				    .dma_pool_size = 64u << 20,
				    .timeout_ms = 5000 };
	int rc = 1;
	pvio_net *net = NULL;
	if (pvio_ctx_new(&co, &ctx) < 0) {
		peer_stop(p, 10000);
		return 1;
	}
	char opts[64], addr[512];
	snprintf(opts, sizeof(opts), "class=net&packed=%s", ring);
	peer_address(p, opts, addr, sizeof(addr));
	struct pvio_net_opts no = { .struct_size = sizeof(no), .num_queues = 1,
				    .ring_size = 256, .flags = PVIO_NET_BUSY_POLL };
	if (pvio_net_open(ctx, addr, &no, &net) < 0) {
		fprintf(stderr, "ring_bench: %s\n", pvio_errmsg(ctx));
		goto out;
	}
	struct pvio_net_info ni = { .struct_size = sizeof(ni) };
	pvio_net_get_info(net, &ni);
	const unsigned burst = 32;
	uint64_t sent = 0, got = 0;
	struct pvio_pkt *pk[32];
	double t0 = now_s(), t1 = t0;
	/* warm up for 0.2 s, then measure */
	int measuring = 0;
	uint64_t got0 = 0;
	for (;;) {
		unsigned n = 0;
		while (n < burst) {
			struct pvio_pkt *x = pvio_net_pkt_alloc(net, 0);
			if (!x)
				break;
			memset(x->data, 0xff, 6);
			memcpy((char *)x->data + 6, ni.mac, 6);
			((unsigned char *)x->data)[12] = 0x88;
			((unsigned char *)x->data)[13] = 0xb5;
			x->len = len;
			pk[n++] = x;
		}
		if (n) {
			int r = pvio_net_tx_burst(net, 0, pk, n);
			if (r < 0) {
				fprintf(stderr, "ring_bench: tx: %s\n", pvio_errmsg(ctx));
				goto out;
			}
			for (unsigned i = (unsigned)r; i < n; i++)
				pvio_net_pkt_free(net, pk[i]);
			sent += (unsigned)r;
		}
		int r = pvio_net_rx_burst(net, 0, pk, burst);
		if (r < 0) {
			fprintf(stderr, "ring_bench: rx: %s\n", pvio_errmsg(ctx));
			goto out;
		}
		for (int i = 0; i < r; i++)
			pvio_net_pkt_free(net, pk[i]);
		got += (unsigned)r;
		if (((sent + got) & 0x3ff) < burst) {
			double t = now_s();
			if (!measuring && t - t0 > 0.2) {
				measuring = 1;
				t0 = t;
				got0 = got;
			} else if (measuring && t - t0 >= secs) {
				t1 = t;
				break;
			}
		}
	}
	struct pvio_queue_stats st;
	pvio_net_get_stats(net, 0, &st);
	double fps = (double)(got - got0) / (t1 - t0);
	printf("%-6s %5u B  %9.0f frames/s  %8.1f Mbit/s  (notify sent %llu, "
	       "suppressed %llu)\n",
	       ring, len, fps, fps * len * 8 / 1e6,
	       (unsigned long long)st.notify_sent,
	       (unsigned long long)st.notify_suppressed);
	rc = 0;
out:
	if (net)
		pvio_net_close(net);
	pvio_ctx_free(ctx);
	peer_stop(p, 10000);
	return rc;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 3.0;
	unsigned sizes[8] = { 64, 1500 };
	int ns = 2;
	if (argc > 2) {
		ns = 0;
		for (int i = 2; i < argc && ns < 8; i++)
			sizes[ns++] = (unsigned)atoi(argv[i]);
	}
	int rc = 0;
	for (int i = 0; i < ns; i++) {
		rc |= run("off", sizes[i], secs);
		rc |= run("on", sizes[i], secs);
	}
	return rc;
}
