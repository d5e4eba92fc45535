/* SPDX-License-Identifier: MIT */
/*
 * tools/netloop.c - send numbered frames to a reflecting peer and check
 * every one that comes back (`pvio net loopback`, `pvio bench`).
 *
 * The peer (pvio's simulated host in reflect mode, dpdk-testpmd in io
 * forwarding mode) sends each frame back unchanged.  A frame carries a run
 * id (so frames of an earlier run are not mistaken for ours), a sequence
 * number and a checksum; everything after the MAC addresses is rebuilt from
 * the sequence number and compared byte for byte.
 *
 * At most `window` frames are in flight, so a correct peer never has to
 * drop one for lack of receive buffers; anything that does not come back
 * within the straggler wait is lost.
 *
 * tool_netloop_run() does a whole run; `pvio migrate-demo` drives the same
 * loop in steps (tool_netloop_step) and moves the front end between steps,
 * with frames in flight: the packets and the bookkeeping belong to the
 * application and survive the move.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <pvio/net.h>

#include "tools/pvio.h"

#define NL_MAGIC 0x50564C42u /* "PVLB" */
#define NL_HDR 38u           /* Ethernet header 14 + ours 24 */
#define NL_BATCH 32u
#define NL_MAX_QUEUES 64u

static void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v);
}

static uint32_t get16(const uint8_t *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t get32(const uint8_t *p)
{
	return get16(p) << 16 | get16(p + 2);
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

/* FNV-1a over the frame from the ethertype on, the checksum field read as
 * zero. */
static uint32_t frame_csum(const uint8_t *d, uint32_t len)
{
	uint32_t h = 2166136261u;
	for (uint32_t i = 12; i < len; i++) {
		uint8_t b = (i >= 34 && i < 38) ? 0 : d[i];
		h = (h ^ b) * 16777619u;
	}
	return h;
}

/* Frame seq of a run, as it must come back (from byte 12 on; the MAC
 * addresses are the reflector's business). */
static void build(uint8_t *d, uint32_t len, const uint8_t mac[6], uint32_t run,
		  uint64_t seq, uint32_t q)
{
	memset(d, 0xff, 6);
	memcpy(d + 6, mac, 6);
	put16(d + 12, TOOL_NETLOOP_ETHERTYPE);
	put32(d + 14, NL_MAGIC);
	put32(d + 18, run);
	put32(d + 22, (uint32_t)(seq >> 32));
	put32(d + 26, (uint32_t)seq);
	put16(d + 30, len);
	put16(d + 32, q);
	put32(d + 34, 0);
	uint64_t st = (seq + 1) * 0x9E3779B97F4A7C15ull ^ run;
	if (!st)
		st = 1;
	for (uint32_t i = NL_HDR; i < len; i += 8) {
		uint64_t r = tool_rand(&st);
		for (uint32_t k = 0; k < 8 && i + k < len; k++)
			d[i + k] = (uint8_t)(r >> (8 * k));
	}
	put32(d + 34, frame_csum(d, len));
}

struct tool_netloop {
	pvio_net *net;
	const struct tool_netloop_opts *o;
	struct tool_netloop_result *res;
	uint8_t mac[6];
	uint32_t run;
	uint32_t nq;
	uint64_t next_seq;   /* frames built so far */
	uint64_t done;       /* sequence numbers accounted for */
	uint8_t *seen;       /* bitmap over sequence numbers */
	uint8_t *expect;     /* scratch frame */
	struct pvio_pkt *pend[NL_MAX_QUEUES][NL_BATCH];
	unsigned npend[NL_MAX_QUEUES];
	uint64_t written_off; /* frames the caller knows will not come back */
	uint64_t last;       /* last progress */
	unsigned turn;       /* next queue wait_any sleeps on */
	uint64_t *sent_at;   /* o->rtt: build time of frame seq, at seq & mask */
	uint64_t mask;
};

static void note(struct tool_netloop *s, const char *fmt, ...) TOOL_PRINTF(2, 3);
static void note(struct tool_netloop *s, const char *fmt, ...)
{
	if (s->res->detail[0])
		return; /* keep the first */
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->res->detail, sizeof(s->res->detail), fmt, ap);
	va_end(ap);
}

static void check(struct tool_netloop *s, const struct pvio_pkt *p,
		  uint64_t now)
{
	struct tool_netloop_result *res = s->res;
	const uint8_t *d = p->data;
	uint32_t len = p->len;

	if (len < NL_HDR || get16(d + 12) != TOOL_NETLOOP_ETHERTYPE ||
	    get32(d + 14) != NL_MAGIC || get32(d + 18) != s->run) {
		res->foreign++;
		return;
	}
	uint64_t seq = get64(d + 22);
	if (seq >= s->next_seq) {
		res->corrupted++;
		note(s, "a frame came back with sequence number %llu, which "
			"was never sent",
		     (unsigned long long)seq);
		return;
	}
	if (s->seen[seq / 8] & (1u << (seq % 8))) {
		res->duplicate++;
		note(s, "frame %llu came back twice", (unsigned long long)seq);
		return;
	}
	s->seen[seq / 8] |= (uint8_t)(1u << (seq % 8));
	s->done++;
	uint32_t q = get16(d + 32);
	if (len != s->o->size) {
		res->corrupted++;
		note(s, "frame %llu came back with %u bytes instead of %u",
		     (unsigned long long)seq, len, s->o->size);
		return;
	}
	build(s->expect, len, s->mac, s->run, seq, q < s->nq ? q : 0);
	if (q >= s->nq || memcmp(d + 12, s->expect + 12, len - 12) != 0) {
		uint32_t i = 12;
		while (i < len && d[i] == s->expect[i])
			i++;
		res->corrupted++;
		if (i < len)
			note(s, "frame %llu: byte %u is 0x%02x, expected 0x%02x",
			     (unsigned long long)seq, i, d[i], s->expect[i]);
		else
			note(s, "frame %llu: queue field %u is out of range",
			     (unsigned long long)seq, q);
		return;
	}
	res->received++;
	/* a stamp is overwritten once mask + 1 later frames were built */
	if (s->sent_at && s->next_seq - seq <= s->mask + 1)
		tool_hist_add(s->o->rtt, now - s->sent_at[seq & s->mask]);
}

static bool may_build(const struct tool_netloop *s, uint64_t now)
{
	const struct tool_netloop_opts *o = s->o;
	if (s->next_seq >= o->count)
		return false;
	if (o->stop_ns && now >= o->stop_ns)
		return false;
	return s->next_seq - s->done - s->written_off < s->res->window;
}

/* Build and send what the window allows on queue q; true on progress. */
static bool tx(struct tool_netloop *s, unsigned q, uint64_t now)
{
	struct tool_netloop_result *res = s->res;
	while (s->npend[q] < NL_BATCH && may_build(s, now)) {
		struct pvio_pkt *p = pvio_net_pkt_alloc(s->net, q);
		if (!p)
			break;
		if (pvio_pkt_room(p) < s->o->size) {
			pvio_net_pkt_free(s->net, p);
			res->error = -EMSGSIZE;
			note(s, "packet buffers hold %u bytes, less than the "
				"%u-byte frames",
			     pvio_pkt_room(p), s->o->size);
			return false;
		}
		build(p->data, s->o->size, s->mac, s->run, s->next_seq, q);
		if (s->sent_at)
			s->sent_at[s->next_seq & s->mask] = now;
		p->len = s->o->size;
		p->flags = 0;
		s->next_seq++;
		s->pend[q][s->npend[q]++] = p;
	}
	if (!s->npend[q])
		return false;
	int n = pvio_net_tx_burst(s->net, q, s->pend[q], s->npend[q]);
	if (n < 0) {
		res->error = n;
		return false;
	}
	if (n == 0)
		return false;
	if (!res->first_tx_ns)
		res->first_tx_ns = tool_now_ns();
	res->sent += (unsigned)n;
	s->npend[q] -= (unsigned)n;
	memmove(s->pend[q], s->pend[q] + n, s->npend[q] * sizeof(s->pend[q][0]));
	return true;
}

static bool rx(struct tool_netloop *s, unsigned q)
{
	struct pvio_pkt *pkts[NL_BATCH];
	bool any = false;
	for (;;) {
		int n = pvio_net_rx_burst(s->net, q, pkts, NL_BATCH);
		if (n < 0) {
			s->res->error = n;
			return any;
		}
		if (n == 0)
			return any;
		uint64_t before = s->res->received;
		uint64_t now = s->sent_at ? tool_now_ns() : 0;
		for (int i = 0; i < n; i++) {
			check(s, pkts[i], now);
			pvio_net_pkt_free(s->net, pkts[i]);
		}
		if (s->res->received != before)
			s->res->last_rx_ns = tool_now_ns();
		any = true;
	}
}

/* Give back frames built but not yet taken by the device. */
static void drop_pending(struct tool_netloop *s)
{
	for (unsigned q = 0; q < s->nq; q++) {
		for (unsigned i = 0; i < s->npend[q]; i++)
			pvio_net_pkt_free(s->net, s->pend[q][i]);
		s->res->unsent += s->npend[q];
		s->npend[q] = 0;
	}
}

/* Sleep until a queue may have work or timeout_ns passes.  pvio_net_wait()
 * arms the queue's notification for the time it sleeps; with several
 * queues, wait on each in turn for a short slice so none is starved. */
static void wait_any(struct tool_netloop *s, uint64_t timeout_ns, unsigned *turn)
{
	uint64_t slice = timeout_ns;
	if (s->nq > 1 && slice > 1000000)
		slice = 1000000;
	int r = pvio_net_wait(s->net, *turn, (int64_t)slice);
	if (r < 0)
		s->res->error = r;
	*turn = (*turn + 1) % s->nq;
}

int tool_netloop_new(pvio_net *net, const struct tool_netloop_opts *o,
		     struct tool_netloop_result *res, struct tool_netloop **out)
{
	struct pvio_net_info info = { .struct_size = sizeof(info) };

	*out = NULL;
	memset(res, 0, sizeof(*res));
	int r = pvio_net_get_info(net, &info);
	if (r < 0) {
		res->error = r;
		return r;
	}
	if (o->size < TOOL_NETLOOP_MIN_FRAME || o->size > 65535) {
		res->error = -EINVAL;
		snprintf(res->detail, sizeof(res->detail),
			 "frame size %u is outside %u..65535", o->size,
			 TOOL_NETLOOP_MIN_FRAME);
		return -EINVAL;
	}
	struct tool_netloop *s = calloc(1, sizeof(*s));
	if (!s) {
		res->error = -ENOMEM;
		return -ENOMEM;
	}
	s->net = net;
	s->o = o;
	s->res = res;
	s->nq = info.num_queues ? info.num_queues : 1;
	if (s->nq > NL_MAX_QUEUES)
		s->nq = NL_MAX_QUEUES;
	memcpy(s->mac, info.mac, 6);
	uint64_t seed = tool_seed();
	s->run = (uint32_t)tool_rand(&seed);
	res->window = o->window;
	if (!res->window) {
		uint32_t ring = info.ring_size ? info.ring_size : 64;
		res->window = s->nq * (ring / 2 ? ring / 2 : 1);
	}
	s->seen = calloc(o->count / 8 + 1, 1);
	s->expect = malloc(o->size);
	bool stamps_ok = true;
	if (o->rtt) {
		/* room for four windows of stamps: frames that come back out
		 * of order or late still find theirs */
		uint64_t n = 64;
		while (n < 4ull * res->window)
			n *= 2;
		s->mask = n - 1;
		s->sent_at = calloc(n, sizeof(*s->sent_at));
		stamps_ok = s->sent_at != NULL;
	}
	if (!s->seen || !s->expect || !stamps_ok) {
		tool_netloop_free(s);
		res->error = -ENOMEM;
		return -ENOMEM;
	}
	s->last = tool_now_ns();
	*out = s;
	return 0;
}

void tool_netloop_free(struct tool_netloop *s)
{
	if (!s)
		return;
	drop_pending(s);
	free(s->seen);
	free(s->sent_at);
	free(s->expect);
	free(s);
}

uint64_t tool_netloop_outstanding(const struct tool_netloop *s)
{
	return s->res->sent - s->done;
}

void tool_netloop_write_off(struct tool_netloop *s, uint64_t n)
{
	s->written_off += n;
}

/* The loop: send and check until until_ns (0: no limit), everything sent
 * came back after sending stopped (1), nothing came back for wait_ns (1,
 * stalled), or a library call failed (res->error). */
static int loop(struct tool_netloop *s, uint64_t until_ns, bool sending_ok)
{
	struct tool_netloop_result *res = s->res;
	const struct tool_netloop_opts *o = s->o;
	while (!res->error) {
		if (tool_interrupted) {
			res->error = -EINTR;
			break;
		}
		uint64_t now = tool_now_ns();
		bool progress = false;
		bool stop = !sending_ok || (o->stop_ns && now >= o->stop_ns);
		if (stop)
			drop_pending(s); /* time is up: send no more */
		for (unsigned q = 0; q < s->nq && !res->error; q++) {
			progress |= rx(s, q);
			if (!stop)
				progress |= tx(s, q, now);
		}
		if (res->error)
			break;
		bool sending = !stop && s->next_seq < o->count;
		for (unsigned q = 0; q < s->nq; q++)
			sending |= s->npend[q] > 0;
		if (!sending && s->done + s->written_off >= res->sent)
			return 1; /* everything sent came back (or is known
				     not to) */
		now = tool_now_ns();
		if (progress)
			s->last = now;
		if (until_ns && now >= until_ns)
			return 0;
		if (progress)
			continue;
		if (now - s->last >= o->wait_ns) {
			res->stalled = true;
			return 1;
		}
		uint64_t left = o->wait_ns - (now - s->last);
		if (until_ns && until_ns - now < left)
			left = until_ns - now;
		wait_any(s, left, &s->turn);
	}
	return res->error;
}

int tool_netloop_step(struct tool_netloop *s, uint64_t until_ns)
{
	if (s->res->error)
		return s->res->error;
	return loop(s, until_ns, true);
}

int tool_netloop_settle(struct tool_netloop *s)
{
	struct tool_netloop_result *res = s->res;
	if (res->error)
		return res->error;
	s->last = tool_now_ns();
	int r = loop(s, 0, false);
	res->stalled = false;
	s->last = tool_now_ns();
	return r < 0 ? r : 0;
}

void tool_netloop_clear_error(struct tool_netloop *s)
{
	s->res->error = 0;
	s->res->stalled = false;
	s->last = tool_now_ns();
}

int tool_netloop_finish(struct tool_netloop *s)
{
	struct tool_netloop_result *res = s->res;
	int r = 0;
	if (!res->error && !res->stalled) {
		s->last = tool_now_ns();
		r = loop(s, 0, false);
	}
	drop_pending(s);
	if (!s->o->stop_ns)
		res->unsent = s->o->count - res->sent;
	res->lost = res->sent > s->done ? res->sent - s->done : 0;
	return r < 0 ? r : 0;
}

void tool_netloop_run(pvio_net *net, const struct tool_netloop_opts *o,
		      struct tool_netloop_result *res)
{
	struct tool_netloop *s;
	if (tool_netloop_new(net, o, res, &s) < 0)
		return;
	tool_netloop_step(s, 0);
	tool_netloop_finish(s);
	tool_netloop_free(s);
}
