/* SPDX-License-Identifier: MIT */
/*
 * tests/interop/pvio_client.c - pvio as a uio client: the same line
 * protocol as dpdk_netvsc.c (info, link, reflect, send, recv, stats,
 * quit; one answer line each), spoken by pvio's network front end over
 * the VMBus back end at `vmbus-uio:UUID`, so one harness drives DPDK's
 * netvsc and pvio's through the same simulated host.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <pvio/net.h>
#include <pvio/transport.h>

#include "frames.h"
#include "pvio_client.h"

#define WAIT_NS 5000000000ull

struct cl {
	FILE *out;
	pvio_ctx *ctx;
	pvio_net *net;
	uint8_t self[6], peer[6];
	uint32_t next_r, next_d, next_p;
	int link;
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void events(struct cl *c)
{
	struct pvio_event ev;
	while (pvio_dev_next_event(pvio_net_dev(c->net), &ev) == 1)
		if (ev.type == PVIO_EVENT_LINK_CHANGE)
			c->link = (int)ev.value;
}

static int send_frames(struct cl *c, const uint8_t *dst, char pattern,
		       uint32_t seq, uint32_t n)
{
	uint8_t f[1514];
	uint64_t end = now_ns() + WAIT_NS;
	for (uint32_t i = 0; i < n;) {
		uint16_t len = fr_make(f, dst, c->self, pattern, seq + i);
		int r = pvio_net_send(c->net, 0, f, len, NULL);
		if (r == 0) {
			i++;
			continue;
		}
		if (r != -EAGAIN || now_ns() > end) {
			fprintf(c->out, "fail send frame %u: %d %s\n", seq + i, r,
			       pvio_errmsg(c->ctx));
			return -1;
		}
		pvio_net_wait(c->net, 0, 1000000);
	}
	return 0;
}

static int recv_frames(struct cl *c, const uint8_t *src, char pattern,
		       uint32_t seq, uint32_t n)
{
	uint8_t want[1514], got[2048];
	uint64_t end = now_ns() + WAIT_NS;
	for (uint32_t i = 0; i < n;) {
		int r = pvio_net_recv(c->net, 0, got, sizeof(got), NULL);
		if (r < 0) {
			fprintf(c->out, "fail recv: %d %s\n", r, pvio_errmsg(c->ctx));
			return -1;
		}
		if (r == 0) {
			if (now_ns() > end) {
				fprintf(c->out, "fail %u of %u frames arrived\n", i, n);
				return -1;
			}
			pvio_net_wait(c->net, 0, 1000000);
			continue;
		}
		uint16_t wl = fr_make(want, c->self, src, pattern, seq + i);
		if ((uint32_t)r != wl || memcmp(got, want, wl)) {
			fprintf(c->out, "fail frame %u: %d bytes, expected %u, or "
			       "content differs\n",
			       seq + i, r, wl);
			return -1;
		}
		i++;
	}
	return 0;
}

static void info(struct cl *c)
{
	struct pvio_net_info ni = { .struct_size = sizeof(ni) };
	struct pvio_dev_info di = { .struct_size = sizeof(di) };
	pvio_net_get_info(c->net, &ni);
	pvio_dev_get_info(pvio_net_dev(c->net), &di);
	const char *sp = strstr(di.native, "link_speed=");
	unsigned long long speed = sp ? strtoull(sp + 11, NULL, 10) : 0;
	/* native says 100 bit/s units "...00bps": in Mbit/s */
	fprintf(c->out, "ok mac=%02x:%02x:%02x:%02x:%02x:%02x link=%s speed=%llu "
	       "mtu=%u backend=%s protocol=%s\n",
	       ni.mac[0], ni.mac[1], ni.mac[2], ni.mac[3], ni.mac[4],
	       ni.mac[5], c->link ? "up" : "down", speed / 1000000ull, ni.mtu,
	       di.backend, di.protocol);
}

int pvio_client_main(void *arg)
{
	const struct pvio_client_args *a = arg;
	struct cl c;
	memset(&c, 0, sizeof(c));
	memcpy(c.peer, a->peer, 6);
	/* streams of our own: the inherited stdio buffers may hold the
	 * forking process's output */
	c.out = fdopen(dup(1), "w");
	FILE *in = fdopen(dup(0), "r");
	if (!c.out || !in)
		return 1;
	setvbuf(c.out, NULL, _IOLBF, 0);
	struct pvio_ctx_opts o = { .struct_size = sizeof(o),
				   .timeout_ms = 5000 };
	if (pvio_ctx_new(&o, &c.ctx) < 0) {
		fprintf(c.out, "fail no context\n");
		return 1;
	}
	struct pvio_net_opts no = { .struct_size = sizeof(no) };
	if (pvio_net_open(c.ctx, a->address, &no, &c.net) < 0) {
		fprintf(c.out, "fail open %s: %s\n", a->address, pvio_errmsg(c.ctx));
		return 1;
	}
	struct pvio_net_info ni = { .struct_size = sizeof(ni) };
	pvio_net_get_info(c.net, &ni);
	memcpy(c.self, ni.mac, 6);
	c.link = ni.link_up;
	fprintf(c.out, "ready\n");
	char line[128];
	int rc = 0;
	while (fgets(line, sizeof(line), in)) {
		char cmd[16] = "", arg2[32] = "";
		if (sscanf(line, "%15s %31s", cmd, arg2) < 1)
			continue;
		unsigned cnt = (unsigned)strtoul(arg2, NULL, 10);
		events(&c);
		if (!strcmp(cmd, "info")) {
			info(&c);
		} else if (!strcmp(cmd, "link")) {
			int want = !strcmp(arg2, "up");
			uint64_t end = now_ns() + WAIT_NS;
			uint8_t junk[2048];
			while (c.link != want && now_ns() < end) {
				/* indications arrive on the receive path */
				if (pvio_net_recv(c.net, 0, junk, sizeof(junk),
						  NULL) == 0)
					pvio_net_wait(c.net, 0, 1000000);
				events(&c);
			}
			if (c.link == want)
				fprintf(c.out, "ok link=%s\n", arg2);
			else
				fprintf(c.out, "fail link still %s\n",
				       want ? "down" : "up");
		} else if (!strcmp(cmd, "reflect")) {
			unsigned done = 0;
			int bad = 0;
			while (!bad && done < cnt) {
				unsigned w = cnt - done < 8 ? cnt - done : 8;
				bad = send_frames(&c, c.self, 'r', c.next_r, w) ||
				      recv_frames(&c, c.self, 'r', c.next_r, w);
				c.next_r += w;
				done += w;
			}
			if (!bad)
				fprintf(c.out, "ok reflected=%u\n", cnt);
		} else if (!strcmp(cmd, "send")) {
			if (send_frames(&c, c.peer, 'd', c.next_d, cnt) == 0)
				fprintf(c.out, "ok sent=%u\n", cnt);
			c.next_d += cnt;
		} else if (!strcmp(cmd, "recv")) {
			if (recv_frames(&c, c.peer, 'p', c.next_p, cnt) == 0)
				fprintf(c.out, "ok received=%u\n", cnt);
			c.next_p += cnt;
		} else if (!strcmp(cmd, "stats")) {
			struct pvio_queue_stats st;
			pvio_net_get_stats(c.net, 0, &st);
			fprintf(c.out, "ok requests=%llu copies=%llu rx_errors=%llu "
			       "errors=%llu notify_sent=%llu\n",
			       (unsigned long long)st.requests,
			       (unsigned long long)st.copies,
			       (unsigned long long)st.rx_errors,
			       (unsigned long long)st.errors,
			       (unsigned long long)st.notify_sent);
		} else if (!strcmp(cmd, "state")) {
			const char *why = "";
			int s = pvio_dev_state(pvio_net_dev(c.net), &why);
			fprintf(c.out, "ok state=%d reason=%s\n", s, why ? why : "");
		} else if (!strcmp(cmd, "quit")) {
			fprintf(c.out, "ok bye\n");
			break;
		} else {
			fprintf(c.out, "fail unknown command %s\n", cmd);
			rc = 1;
		}
		fflush(c.out);
	}
	pvio_net_close(c.net);
	pvio_ctx_free(c.ctx);
	fclose(in);
	fclose(c.out);
	return rc;
}
