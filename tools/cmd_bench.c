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
#define MAX_QD TOOL_MEASURE_MAX_QD

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
	struct tool_measure_opts m; /* bs, seconds, warmup, net_size */
	uint64_t qd[MAX_QD_LIST];
	unsigned nqd;
	bool do_read, do_write;
	bool bounce;
	bool json;
};

static const char *cmd = "bench";

/* ---- output ---- */

static void print_header(void)
{
	printf("%-8s %-10s %6s %5s %10s %9s %8s %8s %8s %7s %7s %7s %7s\n",
	       "class", "op", "size", "depth", "ops/s", "MB/s", "p50 us",
	       "p99 us", "p99.9 us", "kick/op", "supp/op", "irq/op", "copy/op");
}

static void print_row(const struct tool_result *r)
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
	       tool_per(r->d.notify_sent, r->ops), tool_per(r->d.notify_suppressed, r->ops),
	       tool_per(r->d.irqs, r->ops), tool_per(r->d.copies, r->ops));
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
	struct tool_result res;
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
				ret = tool_measure_blk(cmd, blk, &o->m, w != 0, qd, &res);
				if (ret)
					goto out;
				res.dev.struct_size = sizeof(res.dev);
				pvio_dev_get_info(pvio_blk_dev(blk), &res.dev);
				if (j) {
					tool_json_result(j, &res);
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
		res.hist = hist;
		ret = tool_measure_net(cmd, net, &o->m, &res);
		if (ret)
			goto out;
		res.dev.struct_size = sizeof(res.dev);
		pvio_dev_get_info(pvio_net_dev(net), &res.dev);
		if (j) {
			tool_json_result(j, &res);
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
	struct bench_opts o = { .m = { .bs = 4096, .net_size = 64, .seconds = 5,
				       .warmup = 1 },
				.qd = { 1, 32 }, .nqd = 2, .do_read = true };
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
			o.m.bs = (uint32_t)v;
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
			o.m.net_size = (uint32_t)v;
			break;
		case 's':
			if (tool_parse_seconds(optarg, 3600, &o.m.seconds) < 0)
				return tool_usage(cmd, "--seconds wants more than "
						       "0 and at most 3600");
			break;
		case 'w':
			if (!strcmp(optarg, "0"))
				o.m.warmup = 0;
			else if (tool_parse_seconds(optarg, 3600, &o.m.warmup) < 0)
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
		tool_json_machine(&j);
		tool_json_obj(&j, "settings");
		tool_json_arr(&j, "blk_qd");
		for (unsigned i = 0; i < o.nqd; i++)
			tool_json_u64(&j, NULL, o.qd[i]);
		tool_json_end(&j, ']');
		tool_json_u64(&j, "bs", o.m.bs);
		tool_json_bool(&j, "read", o.do_read);
		tool_json_bool(&j, "write", o.do_write);
		tool_json_u64(&j, "net_size", o.m.net_size);
		tool_json_dbl(&j, "seconds", o.m.seconds);
		tool_json_dbl(&j, "warmup", o.m.warmup);
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
