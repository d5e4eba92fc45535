/* SPDX-License-Identifier: MIT */
/*
 * tools/measure.c - the measurements `pvio bench` and `pvio compare`
 * report, made the same way on every device so that hypervisor families
 * can be compared (BENCHMARKS.md, Method).
 *
 * Block: random reads or writes of opts.bs bytes at a fixed queue depth on
 * queue 0 for opts.seconds after opts.warmup; IOPS and the latency of every
 * request from submission to completion as the application sees it, in a
 * histogram.  Network: opts.net_size-byte frames to a reflecting peer
 * (tools/netloop.c), round trips per second, every frame checked.  For
 * both, the front end's counters before and after give notifications
 * sent and suppressed, interrupts and copies per operation.
 *
 * Timing lives here and only here: tests never assert on time.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <pvio/blk.h>
#include <pvio/net.h>

#include "tools/pvio.h"

#define MAX_QD TOOL_MEASURE_MAX_QD
/* Bound on waiting for one completion or one returning frame: a device
 * that does not answer in this time is reported, not waited for. */
#define STALL_NS 10000000000ull

void tool_stats_sub(struct pvio_queue_stats *d, const struct pvio_queue_stats *a,
		      const struct pvio_queue_stats *b)
{
#define SUB(f) d->f = b->f - a->f
	SUB(requests); SUB(device_requests); SUB(bytes); SUB(errors);
	SUB(notify_sent); SUB(notify_suppressed); SUB(irqs); SUB(copies);
	SUB(copy_bytes); SUB(replayed); SUB(dropped); SUB(rx_errors);
#undef SUB
}

void tool_stats_add(struct pvio_queue_stats *d, const struct pvio_queue_stats *a)
{
#define ADD(f) d->f += a->f
	ADD(requests); ADD(device_requests); ADD(bytes); ADD(errors);
	ADD(notify_sent); ADD(notify_suppressed); ADD(irqs); ADD(copies);
	ADD(copy_bytes); ADD(replayed); ADD(dropped); ADD(rx_errors);
#undef ADD
}

static int net_stats(pvio_net *net, unsigned nq, struct pvio_queue_stats *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (unsigned q = 0; q < nq; q++) {
		struct pvio_queue_stats st;
		int r = pvio_net_get_stats(net, q, &st);
		if (r < 0)
			return r;
		tool_stats_add(sum, &st);
	}
	return 0;
}

double tool_per(uint64_t v, uint64_t ops)
{
	return ops ? (double)v / (double)ops : 0;
}

/* ---- block ---- */

struct blk_run {
	const char *cmd;
	pvio_blk *blk;
	bool write;
	uint32_t bs, qd;
	uint64_t nblocks;
	uint64_t rng;
	void *buf[MAX_QD];
	uint64_t t0[MAX_QD];
	struct pvio_blk_completion comp[MAX_QD];
};

static int blk_issue(struct blk_run *b, unsigned i, uint64_t now)
{
	uint64_t off = tool_rand(&b->rng) % b->nblocks * b->bs;
	b->t0[i] = now;
	void *cookie = (void *)(uintptr_t)(i + 1);
	return b->write ? pvio_blk_write(b->blk, 0, off, b->buf[i], b->bs,
					 cookie, 0)
			: pvio_blk_read(b->blk, 0, off, b->buf[i], b->bs, cookie,
					0);
}

/* Keep qd requests in flight until end_ns; hist may be NULL (warm-up). */
static int blk_phase(struct blk_run *b, uint64_t end_ns, struct tool_hist *hist,
		     uint64_t *ops)
{
	const int64_t bound = (int64_t)STALL_NS;
	unsigned inflight = 0;
	uint64_t now = tool_now_ns();
	int r;

	for (unsigned i = 0; i < b->qd; i++) {
		r = blk_issue(b, i, now);
		if (r < 0)
			return tool_io_fail(b->cmd, pvio_blk_dev(b->blk), r,
					    "submitting a request");
		inflight++;
	}
	r = pvio_blk_submit(b->blk, 0);
	if (r < 0)
		return tool_io_fail(b->cmd, pvio_blk_dev(b->blk), r, "submit");
	while (inflight) {
		int n = pvio_blk_poll(b->blk, 0, b->comp, 1, b->qd, bound);
		if (n < 0)
			return tool_io_fail(b->cmd, pvio_blk_dev(b->blk), n,
					    "waiting for completions");
		if (n == 0)
			return tool_fail(b->cmd, "no request completed within %lld "
					      "ms; is the device's host alive?",
					 (long long)(bound / 1000000));
		now = tool_now_ns();
		bool more = now < end_ns;
		for (int k = 0; k < n; k++) {
			uintptr_t c = (uintptr_t)b->comp[k].cookie;
			if (c < 1 || c > b->qd)
				return tool_fail(b->cmd, "a completion carried an "
						      "unknown cookie");
			unsigned i = (unsigned)(c - 1);
			if (b->comp[k].ret < 0)
				return tool_io_fail(b->cmd, pvio_blk_dev(b->blk),
						    b->comp[k].ret,
						    b->write ? "random write"
							     : "random read");
			if (hist)
				tool_hist_add(hist, now - b->t0[i]);
			(*ops)++;
			inflight--;
			if (more) {
				r = blk_issue(b, i, now);
				if (r < 0)
					return tool_io_fail(b->cmd,
							    pvio_blk_dev(b->blk),
							    r, "submitting a request");
				inflight++;
			}
		}
		if (more) {
			r = pvio_blk_submit(b->blk, 0);
			if (r < 0)
				return tool_io_fail(b->cmd, pvio_blk_dev(b->blk), r,
						    "submit");
		}
	}
	return TOOL_OK;
}

int tool_measure_blk(const char *cmd, pvio_blk *blk,
		     const struct tool_measure_opts *o, bool write, uint32_t qd,
		     struct tool_result *res)
{
	pvio_ctx *ctx = pvio_blk_ctx(blk);
	struct pvio_blk_info info = { .struct_size = sizeof(info) };
	struct blk_run *b = calloc(1, sizeof(*b));
	int ret = TOOL_OK;

	if (!b)
		return tool_fail(cmd, "out of memory");
	int r = pvio_blk_get_info(blk, &info);
	if (r < 0) {
		free(b);
		return tool_lib_fail(cmd, ctx, r, "reading block information");
	}
	b->cmd = cmd;
	b->blk = blk;
	b->write = write;
	b->bs = o->bs;
	b->qd = qd;
	b->rng = tool_seed();
	if (o->bs % info.block_size) {
		free(b);
		return tool_fail(cmd, "--bs %u is not a multiple of the device's "
				      "%u-byte block size",
				 o->bs, info.block_size);
	}
	b->nblocks = info.capacity / o->bs;
	if (!b->nblocks) {
		free(b);
		return tool_fail(cmd, "the device (%" PRIu64 " bytes) is smaller "
				      "than one %u-byte request",
				 info.capacity, o->bs);
	}
	if (write && info.read_only) {
		free(b);
		return tool_fail(cmd, "the device is read-only; cannot "
				      "benchmark writes");
	}
	for (unsigned i = 0; i < qd; i++) {
		b->buf[i] = pvio_dma_alloc(ctx, o->bs, 4096);
		if (!b->buf[i]) {
			ret = tool_fail(cmd, "cannot allocate %u buffers of %u "
					     "bytes",
					qd, o->bs);
			goto out;
		}
		memset(b->buf[i], 0xA5 ^ (int)i, o->bs);
	}
	uint64_t ops = 0;
	if (o->warmup > 0) {
		ret = blk_phase(b, tool_now_ns() + (uint64_t)(o->warmup * 1e9),
				NULL, &ops);
		if (ret)
			goto out;
	}
	struct pvio_queue_stats s0, s1;
	r = pvio_blk_get_stats(blk, 0, &s0);
	if (r < 0) {
		ret = tool_lib_fail(cmd, ctx, r, "reading statistics");
		goto out;
	}
	tool_hist_reset(res->hist);
	ops = 0;
	uint64_t t0 = tool_now_ns();
	ret = blk_phase(b, t0 + (uint64_t)(o->seconds * 1e9), res->hist, &ops);
	uint64_t t1 = tool_now_ns();
	if (ret)
		goto out;
	r = pvio_blk_get_stats(blk, 0, &s1);
	if (r < 0) {
		ret = tool_lib_fail(cmd, ctx, r, "reading statistics");
		goto out;
	}
	tool_stats_sub(&res->d, &s0, &s1);
	res->op = write ? "randwrite" : "randread";
	res->size = o->bs;
	res->depth = qd;
	res->secs = (double)(t1 - t0) / 1e9;
	res->ops = ops;
out:
	for (unsigned i = 0; i < qd; i++)
		if (b->buf[i])
			pvio_dma_free(ctx, b->buf[i]);
	free(b);
	return ret;
}

/* ---- network ---- */

int tool_measure_net(const char *cmd, pvio_net *net,
		     const struct tool_measure_opts *o, struct tool_result *res)
{
	pvio_ctx *ctx = pvio_net_ctx(net);
	struct pvio_net_info info = { .struct_size = sizeof(info) };
	struct tool_netloop_opts lo = {
		.count = 1ull << 30, /* bounded by time, not count */
		.size = o->net_size,
		.wait_ns = STALL_NS,
	};
	struct tool_netloop_result lr;

	int r = pvio_net_get_info(net, &info);
	if (r < 0)
		return tool_lib_fail(cmd, ctx, r, "reading network information");
	if (info.max_tx_frame && o->net_size > info.max_tx_frame)
		return tool_fail(cmd, "--net-size %u is larger than the largest "
				      "frame the device takes (%u bytes)",
				 o->net_size, info.max_tx_frame);
	unsigned nq = info.num_queues ? info.num_queues : 1;
	if (o->warmup > 0) {
		lo.stop_ns = tool_now_ns() + (uint64_t)(o->warmup * 1e9);
		tool_netloop_run(net, &lo, &lr);
		if (lr.error)
			return tool_io_fail(cmd, pvio_net_dev(net), lr.error,
					    "warm-up");
	}
	struct pvio_queue_stats s0, s1;
	r = net_stats(net, nq, &s0);
	if (r < 0)
		return tool_lib_fail(cmd, ctx, r, "reading statistics");
	if (res->hist) {
		tool_hist_reset(res->hist);
		lo.rtt = res->hist; /* the measured run only */
	}
	lo.stop_ns = tool_now_ns() + (uint64_t)(o->seconds * 1e9);
	tool_netloop_run(net, &lo, &lr);
	if (lr.error)
		return tool_io_fail(cmd, pvio_net_dev(net), lr.error,
				    lr.detail[0] ? lr.detail : "loopback");
	r = net_stats(net, nq, &s1);
	if (r < 0)
		return tool_lib_fail(cmd, ctx, r, "reading statistics");
	tool_stats_sub(&res->d, &s0, &s1);
	res->op = "loopback";
	res->size = o->net_size;
	res->depth = lr.window;
	res->secs = lr.last_rx_ns > lr.first_tx_ns
			    ? (double)(lr.last_rx_ns - lr.first_tx_ns) / 1e9
			    : 0;
	res->ops = lr.received;
	res->lost = lr.lost;
	if (lr.corrupted || lr.duplicate || lr.lost)
		return (fprintf(stderr, "pvio %s: %s: %" PRIu64 " corrupted, "
					"%" PRIu64 " duplicate, %" PRIu64
					" lost frames: %s\n",
				cmd, res->address, lr.corrupted, lr.duplicate,
				lr.lost, lr.detail),
			TOOL_VERIFY);
	return TOOL_OK;
}

void tool_json_machine(struct tool_json *j)
{
	struct utsname u;
	char model[128] = "";
	FILE *f = fopen("/proc/cpuinfo", "r");
	if (f) {
		char line[256];
		while (fgets(line, sizeof(line), f)) {
			if (!strncmp(line, "model name", 10)) {
				char *c = strchr(line, ':');
				if (c) {
					c++;
					while (*c == ' ' || *c == '\t')
						c++;
					snprintf(model, sizeof(model), "%s", c);
					model[strcspn(model, "\n")] = 0;
				}
				break;
			}
		}
		fclose(f);
	}
	tool_json_obj(j, "host");
	tool_json_str(j, "cpu", model);
	tool_json_u64(j, "cpus", (uint64_t)sysconf(_SC_NPROCESSORS_ONLN));
	if (uname(&u) == 0) {
		tool_json_str(j, "kernel", u.release);
		tool_json_str(j, "machine", u.machine);
	}
	tool_json_str(j, "pvio", pvio_version());
	tool_json_end(j, '}');
}

void tool_json_result(struct tool_json *j, const struct tool_result *r)
{
	double rate = r->secs > 0 ? (double)r->ops / r->secs : 0;
	tool_json_obj(j, NULL);
	tool_json_str(j, "address", r->address);
	tool_json_str(j, "class", pvio_class_name(r->dev.cls));
	tool_json_str(j, "family", pvio_family_name(r->dev.family));
	tool_json_str(j, "hypervisor", pvio_family_hypervisor(r->dev.family));
	tool_json_str(j, "backend", r->dev.backend);
	tool_json_str(j, "protocol", r->dev.protocol);
	tool_json_str(j, "op", r->op);
	tool_json_u64(j, "size", r->size);
	tool_json_u64(j, "depth", r->depth);
	tool_json_dbl(j, "seconds", r->secs);
	tool_json_u64(j, "ops", r->ops);
	tool_json_dbl(j, "ops_per_second", rate);
	tool_json_dbl(j, "mb_per_second", rate * r->size / 1e6);
	if (r->hist && r->hist->count) {
		tool_json_obj(j, "latency_ns");
		tool_json_u64(j, "min", r->hist->min);
		tool_json_u64(j, "mean", r->hist->sum / r->hist->count);
		tool_json_u64(j, "p50", tool_hist_pct(r->hist, 0.5));
		tool_json_u64(j, "p99", tool_hist_pct(r->hist, 0.99));
		tool_json_u64(j, "p999", tool_hist_pct(r->hist, 0.999));
		tool_json_u64(j, "max", r->hist->max);
		tool_json_end(j, '}');
	} else {
		tool_json_null(j, "latency_ns");
	}
	if (!strcmp(r->op, "loopback"))
		tool_json_u64(j, "lost", r->lost);
	tool_json_obj(j, "per_op");
	tool_json_dbl(j, "device_requests", tool_per(r->d.device_requests, r->ops));
	tool_json_dbl(j, "notify_sent", tool_per(r->d.notify_sent, r->ops));
	tool_json_dbl(j, "notify_suppressed", tool_per(r->d.notify_suppressed, r->ops));
	tool_json_dbl(j, "irqs", tool_per(r->d.irqs, r->ops));
	tool_json_dbl(j, "copies", tool_per(r->d.copies, r->ops));
	tool_json_dbl(j, "copy_bytes", tool_per(r->d.copy_bytes, r->ops));
	tool_json_end(j, '}');
	tool_json_obj(j, "totals");
	tool_json_u64(j, "requests", r->d.requests);
	tool_json_u64(j, "device_requests", r->d.device_requests);
	tool_json_u64(j, "bytes", r->d.bytes);
	tool_json_u64(j, "errors", r->d.errors);
	tool_json_u64(j, "notify_sent", r->d.notify_sent);
	tool_json_u64(j, "notify_suppressed", r->d.notify_suppressed);
	tool_json_u64(j, "irqs", r->d.irqs);
	tool_json_u64(j, "copies", r->d.copies);
	tool_json_u64(j, "copy_bytes", r->d.copy_bytes);
	tool_json_end(j, '}');
	tool_json_end(j, '}');
}

