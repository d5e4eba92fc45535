/* SPDX-License-Identifier: MIT */
/*
 * tools/cmd_bench.c - `pvio bench DEVICE...`: the figures BENCHMARKS.md
 * reports, measured the same way on every device so that hypervisor
 * families can be compared.
 *
 * Block devices: random reads (and, if asked, writes) of --bs bytes at each
 * queue depth of --blk-qd on queue 0 for --seconds, after --warmup; IOPS,
 * bandwidth, latency percentiles from submission to completion as the
 * application sees them.  Network devices: --net-size-byte frames to a
 * reflecting peer (tools/netloop.c) for --seconds; round-trip frames per
 * second, every frame checked.  For both, the front end's counters give
 * notifications sent and suppressed, interrupts and copies per operation.
 *
 * Timing lives here and only here: tests never assert on time.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <pvio/blk.h>
#include <pvio/net.h>

#include "tools/pvio.h"

#define MAX_QD_LIST 8
#define MAX_QD 1024
/* Bound on waiting for one completion or one returning frame: a device
 * that does not answer in this time is reported, not waited for. */
#define STALL_NS 10000000000ull

static const char usage_text[] =
	"usage: pvio bench DEVICE... [--blk-qd LIST] [--bs SIZE] [--rw LIST]\n"
	"                  [--net-size BYTES] [--seconds S] [--warmup S]\n"
	"                  [--bounce] [--json]\n"
	"\n"
	"Measure each DEVICE through pvio's front ends.  Block: random reads\n"
	"(--rw read,write adds random writes, which OVERWRITE the device) of\n"
	"SIZE bytes at each queue depth, reporting IOPS, MB/s and latency\n"
	"percentiles.  Network: frames to a reflecting peer (`pvio sim virtio`\n"
	"in reflect mode, dpdk-testpmd --forward-mode=io), reporting round-trip\n"
	"frames per second; every frame is checked.  Both report notifications\n"
	"sent and suppressed, interrupts and copies per operation.\n"
	"\n"
	"  --blk-qd LIST    queue depths, comma-separated (default 1,32)\n"
	"  --bs SIZE        block request size (default 4k)\n"
	"  --rw LIST        read, write or read,write (default read)\n"
	"  --net-size BYTES frame size without FCS (default 64)\n"
	"  --seconds S      measured time per figure (default 5)\n"
	"  --warmup S       unmeasured time before each figure (default 1)\n"
	"  --bounce         copy every block buffer through pvio's bounce\n"
	"                   buffers (PVIO_BLK_ALWAYS_BOUNCE)\n"
	"  --json           print one JSON object instead of a table\n"
	"  -h, --help       this text\n";

struct bench_opts {
	uint64_t qd[MAX_QD_LIST];
	unsigned nqd;
	uint32_t bs;
	bool do_read, do_write;
	uint32_t net_size;
	double seconds, warmup;
	bool bounce;
	bool json;
};

/* One figure. */
struct result {
	const char *address;
	struct pvio_dev_info dev;
	const char *op;          /* "randread", "randwrite", "loopback" */
	uint32_t size;           /* bytes per op */
	uint32_t depth;          /* queue depth or frame window */
	double secs;
	uint64_t ops;            /* completed requests or frames */
	struct tool_hist *hist;  /* block only */
	struct pvio_queue_stats d; /* counter deltas over the measurement */
	uint64_t lost;           /* network: frames that did not come back */
};

static const char *cmd = "bench";

/* ---- statistics ---- */

static void stats_sub(struct pvio_queue_stats *d, const struct pvio_queue_stats *a,
		      const struct pvio_queue_stats *b)
{
#define SUB(f) d->f = b->f - a->f
	SUB(requests); SUB(device_requests); SUB(bytes); SUB(errors);
	SUB(notify_sent); SUB(notify_suppressed); SUB(irqs); SUB(copies);
	SUB(copy_bytes); SUB(replayed); SUB(dropped); SUB(rx_errors);
#undef SUB
}

static void stats_add(struct pvio_queue_stats *d, const struct pvio_queue_stats *a)
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
		stats_add(sum, &st);
	}
	return 0;
}

static double per(uint64_t v, uint64_t ops)
{
	return ops ? (double)v / (double)ops : 0;
}

/* ---- block ---- */

struct blk_run {
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
			return tool_io_fail(cmd, pvio_blk_dev(b->blk), r,
					    "submitting a request");
		inflight++;
	}
	r = pvio_blk_submit(b->blk, 0);
	if (r < 0)
		return tool_io_fail(cmd, pvio_blk_dev(b->blk), r, "submit");
	while (inflight) {
		int n = pvio_blk_poll(b->blk, 0, b->comp, 1, b->qd, bound);
		if (n < 0)
			return tool_io_fail(cmd, pvio_blk_dev(b->blk), n,
					    "waiting for completions");
		if (n == 0)
			return tool_fail(cmd, "no request completed within %lld "
					      "ms; is the device's host alive?",
					 (long long)(bound / 1000000));
		now = tool_now_ns();
		bool more = now < end_ns;
		for (int k = 0; k < n; k++) {
			uintptr_t c = (uintptr_t)b->comp[k].cookie;
			if (c < 1 || c > b->qd)
				return tool_fail(cmd, "a completion carried an "
						      "unknown cookie");
			unsigned i = (unsigned)(c - 1);
			if (b->comp[k].ret < 0)
				return tool_io_fail(cmd, pvio_blk_dev(b->blk),
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
					return tool_io_fail(cmd,
							    pvio_blk_dev(b->blk),
							    r, "submitting a request");
				inflight++;
			}
		}
		if (more) {
			r = pvio_blk_submit(b->blk, 0);
			if (r < 0)
				return tool_io_fail(cmd, pvio_blk_dev(b->blk), r,
						    "submit");
		}
	}
	return TOOL_OK;
}

static int bench_blk(pvio_blk *blk, const struct bench_opts *o, bool write,
		     uint32_t qd, struct result *res)
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
	stats_sub(&res->d, &s0, &s1);
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

static int bench_net(pvio_net *net, const struct bench_opts *o,
		     struct result *res)
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
	lo.stop_ns = tool_now_ns() + (uint64_t)(o->seconds * 1e9);
	tool_netloop_run(net, &lo, &lr);
	if (lr.error)
		return tool_io_fail(cmd, pvio_net_dev(net), lr.error,
				    lr.detail[0] ? lr.detail : "loopback");
	r = net_stats(net, nq, &s1);
	if (r < 0)
		return tool_lib_fail(cmd, ctx, r, "reading statistics");
	stats_sub(&res->d, &s0, &s1);
	res->op = "loopback";
	res->size = o->net_size;
	res->depth = lr.window;
	res->secs = lr.last_rx_ns > lr.first_tx_ns
			    ? (double)(lr.last_rx_ns - lr.first_tx_ns) / 1e9
			    : 0;
	res->ops = lr.received;
	res->lost = lr.lost;
	if (lr.corrupted || lr.duplicate || lr.lost)
		return (fprintf(stderr, "pvio bench: %s: %" PRIu64 " corrupted, "
					"%" PRIu64 " duplicate, %" PRIu64
					" lost frames: %s\n",
				res->address, lr.corrupted, lr.duplicate,
				lr.lost, lr.detail),
			TOOL_VERIFY);
	return TOOL_OK;
}

/* ---- output ---- */

static void print_header(void)
{
	printf("%-8s %-10s %6s %5s %10s %9s %8s %8s %8s %7s %7s %7s %7s\n",
	       "class", "op", "size", "depth", "ops/s", "MB/s", "p50 us",
	       "p99 us", "p99.9 us", "kick/op", "supp/op", "irq/op", "copy/op");
}

static void print_row(const struct result *r)
{
	double rate = r->secs > 0 ? (double)r->ops / r->secs : 0;
	double mbs = rate * r->size / 1e6;
	char p50[16] = "-", p99[16] = "-", p999[16] = "-";
	if (r->hist && r->hist->count) {
		snprintf(p50, sizeof(p50), "%.1f",
			 (double)tool_hist_pct(r->hist, 0.5) / 1e3);
		snprintf(p99, sizeof(p99), "%.1f",
			 (double)tool_hist_pct(r->hist, 0.99) / 1e3);
		snprintf(p999, sizeof(p999), "%.1f",
			 (double)tool_hist_pct(r->hist, 0.999) / 1e3);
	}
	printf("%-8s %-10s %6u %5u %10.0f %9.1f %8s %8s %8s %7.3f %7.3f %7.3f "
	       "%7.3f\n",
	       pvio_class_name(r->dev.cls) ? pvio_class_name(r->dev.cls) : "?",
	       r->op, r->size, r->depth, rate, mbs, p50, p99, p999,
	       per(r->d.notify_sent, r->ops), per(r->d.notify_suppressed, r->ops),
	       per(r->d.irqs, r->ops), per(r->d.copies, r->ops));
}

static void json_host(struct tool_json *j)
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

static void json_row(struct tool_json *j, const struct result *r)
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
	tool_json_dbl(j, "device_requests", per(r->d.device_requests, r->ops));
	tool_json_dbl(j, "notify_sent", per(r->d.notify_sent, r->ops));
	tool_json_dbl(j, "notify_suppressed", per(r->d.notify_suppressed, r->ops));
	tool_json_dbl(j, "irqs", per(r->d.irqs, r->ops));
	tool_json_dbl(j, "copies", per(r->d.copies, r->ops));
	tool_json_dbl(j, "copy_bytes", per(r->d.copy_bytes, r->ops));
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

/* ---- one device ---- */

static void print_device(const char *address, pvio_dev *dev)
{
	struct pvio_dev_info d = { .struct_size = sizeof(d) };
	char b[128], p[128];
	if (pvio_dev_get_info(dev, &d) < 0)
		return;
	printf("%s: %s, %s (%s), %s\n", address,
	       pvio_class_name(d.cls) ? pvio_class_name(d.cls) : "?",
	       pvio_family_hypervisor(d.family) ? pvio_family_hypervisor(d.family)
						: "?",
	       tool_printable(d.backend ? d.backend : "?", b, sizeof(b)),
	       tool_printable(d.protocol ? d.protocol : "?", p, sizeof(p)));
}

static int bench_device(const char *address, const struct bench_opts *o,
			struct tool_json *j, bool *header)
{
	pvio_ctx *ctx = tool_ctx_new(cmd);
	if (!ctx)
		return TOOL_FAIL;
	pvio_dev *dev = NULL;
	pvio_blk *blk = NULL;
	pvio_net *net = NULL;
	struct tool_hist *hist = malloc(sizeof(*hist));
	struct result res;
	int ret = TOOL_OK;

	if (!hist) {
		ret = tool_fail(cmd, "out of memory");
		goto out;
	}
	int r = pvio_dev_open(ctx, address, &dev);
	if (r < 0) {
		ret = tool_lib_fail(cmd, ctx, r, address);
		goto out;
	}
	struct pvio_dev_info di = { .struct_size = sizeof(di) };
	r = pvio_dev_get_info(dev, &di);
	if (r < 0) {
		ret = tool_lib_fail(cmd, ctx, r, "reading device information");
		goto out;
	}
	if (di.cls == PVIO_CLASS_BLK) {
		uint64_t maxqd = 1;
		for (unsigned i = 0; i < o->nqd; i++)
			if (o->qd[i] > maxqd)
				maxqd = o->qd[i];
		struct pvio_blk_opts bo = {
			.struct_size = sizeof(bo),
			.queue_depth = (uint32_t)maxqd,
			.flags = o->bounce ? PVIO_BLK_ALWAYS_BOUNCE : 0,
		};
		r = pvio_blk_attach(dev, &bo, &blk);
		dev = NULL;
		if (r < 0) {
			ret = tool_lib_fail(cmd, ctx, r,
					    "starting the block front end");
			goto out;
		}
		if (!j)
			print_device(address, pvio_blk_dev(blk));
		struct pvio_blk_info bi = { .struct_size = sizeof(bi) };
		r = pvio_blk_get_info(blk, &bi);
		if (r < 0) {
			ret = tool_lib_fail(cmd, ctx, r, "reading block information");
			goto out;
		}
		for (int w = 0; w < 2; w++) {
			if (w ? !o->do_write : !o->do_read)
				continue;
			for (unsigned i = 0; i < o->nqd; i++) {
				uint32_t qd = (uint32_t)o->qd[i];
				if (bi.queue_depth && qd > bi.queue_depth) {
					fprintf(stderr, "pvio bench: %s: queue depth "
							"%u limited to %u by the "
							"device\n",
						address, qd, bi.queue_depth);
					qd = bi.queue_depth;
				}
				memset(&res, 0, sizeof(res));
				res.address = address;
				res.hist = hist;
				ret = bench_blk(blk, o, w != 0, qd, &res);
				if (ret)
					goto out;
				res.dev.struct_size = sizeof(res.dev);
				pvio_dev_get_info(pvio_blk_dev(blk), &res.dev);
				if (j) {
					json_row(j, &res);
				} else {
					if (!*header)
						print_header();
					*header = true;
					print_row(&res);
					fflush(stdout);
				}
			}
		}
	} else if (di.cls == PVIO_CLASS_NET) {
		struct pvio_net_opts no = { .struct_size = sizeof(no) };
		r = pvio_net_attach(dev, &no, &net);
		dev = NULL;
		if (r < 0) {
			ret = tool_lib_fail(cmd, ctx, r,
					    "starting the network front end");
			goto out;
		}
		if (!j)
			print_device(address, pvio_net_dev(net));
		memset(&res, 0, sizeof(res));
		res.address = address;
		ret = bench_net(net, o, &res);
		if (ret)
			goto out;
		res.dev.struct_size = sizeof(res.dev);
		pvio_dev_get_info(pvio_net_dev(net), &res.dev);
		if (j) {
			json_row(j, &res);
		} else {
			if (!*header)
				print_header();
			*header = true;
			print_row(&res);
			fflush(stdout);
		}
	} else {
		ret = tool_fail(cmd, "%s is neither a block nor a network device",
				address);
	}
out:
	if (blk)
		pvio_blk_close(blk);
	if (net)
		pvio_net_close(net);
	if (dev)
		pvio_dev_close(dev);
	free(hist);
	pvio_ctx_free(ctx);
	return ret;
}

int cmd_bench(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "blk-qd", required_argument, NULL, 'q' },
		{ "bs", required_argument, NULL, 'b' },
		{ "rw", required_argument, NULL, 'r' },
		{ "net-size", required_argument, NULL, 'n' },
		{ "seconds", required_argument, NULL, 's' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "bounce", no_argument, NULL, 'B' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct bench_opts o = { .qd = { 1, 32 }, .nqd = 2, .bs = 4096,
				.do_read = true, .net_size = 64, .seconds = 5,
				.warmup = 1 };
	uint64_t v;
	int c, n;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'q':
			n = tool_parse_list(optarg, 1, MAX_QD, o.qd, MAX_QD_LIST);
			if (n < 0)
				return tool_usage(cmd, "--blk-qd wants up to %d "
						       "comma-separated depths "
						       "from 1 to %d",
						  MAX_QD_LIST, MAX_QD);
			o.nqd = (unsigned)n;
			break;
		case 'b':
			if (tool_parse_size(optarg, &v) < 0 || v < 512 ||
			    v > (64u << 20) || v % 512)
				return tool_usage(cmd, "--bs wants a multiple of "
						       "512 from 512 to 64M");
			o.bs = (uint32_t)v;
			break;
		case 'r':
			if (!strcmp(optarg, "read")) {
				o.do_read = true;
				o.do_write = false;
			} else if (!strcmp(optarg, "write")) {
				o.do_read = false;
				o.do_write = true;
			} else if (!strcmp(optarg, "read,write") ||
				   !strcmp(optarg, "write,read")) {
				o.do_read = o.do_write = true;
			} else {
				return tool_usage(cmd, "--rw wants read, write "
						       "or read,write");
			}
			break;
		case 'n':
			if (tool_parse_size(optarg, &v) < 0 ||
			    v < TOOL_NETLOOP_MIN_FRAME || v > 65535)
				return tool_usage(cmd, "--net-size wants %u..65535 "
						       "bytes",
						  TOOL_NETLOOP_MIN_FRAME);
			o.net_size = (uint32_t)v;
			break;
		case 's':
			if (tool_parse_seconds(optarg, 3600, &o.seconds) < 0)
				return tool_usage(cmd, "--seconds wants more than "
						       "0 and at most 3600");
			break;
		case 'w':
			if (!strcmp(optarg, "0"))
				o.warmup = 0;
			else if (tool_parse_seconds(optarg, 3600, &o.warmup) < 0)
				return tool_usage(cmd, "--warmup wants 0 to 3600 "
						       "seconds");
			break;
		case 'B': o.bounce = true; break;
		case 'j': o.json = true; break;
		case 'h': fputs(usage_text, stdout); return TOOL_OK;
		default: return tool_bad_option(cmd, c, argv);
		}
	}
	if (optind == argc)
		return tool_usage(cmd, "expected at least one DEVICE address");

	struct tool_json j;
	bool header = false;
	int ret = TOOL_OK;
	if (o.json) {
		tool_json_init(&j, stdout);
		tool_json_obj(&j, NULL);
		json_host(&j);
		tool_json_obj(&j, "settings");
		tool_json_arr(&j, "blk_qd");
		for (unsigned i = 0; i < o.nqd; i++)
			tool_json_u64(&j, NULL, o.qd[i]);
		tool_json_end(&j, ']');
		tool_json_u64(&j, "bs", o.bs);
		tool_json_bool(&j, "read", o.do_read);
		tool_json_bool(&j, "write", o.do_write);
		tool_json_u64(&j, "net_size", o.net_size);
		tool_json_dbl(&j, "seconds", o.seconds);
		tool_json_dbl(&j, "warmup", o.warmup);
		tool_json_bool(&j, "bounce", o.bounce);
		tool_json_end(&j, '}');
		tool_json_arr(&j, "results");
	}
	for (int i = optind; i < argc; i++) {
		int r = bench_device(argv[i], &o, o.json ? &j : NULL, &header);
		if (r && !ret)
			ret = r;
		header = false;
	}
	if (o.json) {
		tool_json_end(&j, ']');
		tool_json_bool(&j, "ok", ret == TOOL_OK);
		tool_json_end(&j, '}');
		tool_json_done(&j);
	}
	return ret;
}
