/* SPDX-License-Identifier: MIT */
/*
 * tools/cmd_net.c - `pvio net loopback DEVICE --count N --size BYTES`:
 * send numbered frames through pvio's network front end to a reflecting
 * peer and check that every one comes back intact (tools/netloop.c).
 */
#include <getopt.h>
#include <inttypes.h>
#include <string.h>

#include <pvio/net.h>

#include "tools/pvio.h"

static const char usage_text[] =
	"usage: pvio net loopback DEVICE [--count N] [--size BYTES] [--queues Q]\n"
	"                         [--window W] [--wait SECONDS] [--json]\n"
	"\n"
	"Send N Ethernet frames through pvio's network front end to a peer that\n"
	"reflects them (`pvio sim virtio` in reflect mode, dpdk-testpmd with\n"
	"--forward-mode=io), check every byte of every frame that comes back,\n"
	"and report sent, received, corrupted, duplicate and lost frames and the\n"
	"round-trip rate.  Frames are broadcast, ethertype 0x88B5 (IEEE local\n"
	"experimental), numbered and checksummed.  Exit status 3 when any frame\n"
	"is corrupted, duplicated or lost.\n"
	"\n"
	"  --count N        frames to send (default 1000)\n"
	"  --size BYTES     bytes per frame without FCS, 60..MTU+14 (default 64)\n"
	"  --queues Q       queue pairs to use (default 1); frame i goes out on\n"
	"                   queue i mod Q\n"
	"  --window W       frames in flight at most (default: half the receive\n"
	"                   ring of each queue)\n"
	"  --wait SECONDS   give up on frames that have not come back when\n"
	"                   nothing arrived for this long (default 2)\n"
	"  --json           print one JSON object instead of text\n"
	"  -h, --help       this text\n";

static void report_text(const char *address, const struct tool_netloop_opts *o,
			unsigned queues, const struct tool_netloop_result *r)
{
	printf("%s: %" PRIu64 " frames of %u bytes on %u queue%s, window %u\n",
	       address, o->count, o->size, queues, queues == 1 ? "" : "s",
	       r->window);
	printf("sent %" PRIu64 "  received %" PRIu64 "  corrupted %" PRIu64
	       "  duplicate %" PRIu64 "  lost %" PRIu64 "  unsent %" PRIu64
	       "  foreign %" PRIu64 "\n",
	       r->sent, r->received, r->corrupted, r->duplicate, r->lost,
	       r->unsent, r->foreign);
	if (r->received && r->last_rx_ns > r->first_tx_ns) {
		double s = (double)(r->last_rx_ns - r->first_tx_ns) / 1e9;
		printf("%.0f frames/s round trip (%.4g s)\n",
		       (double)r->received / s, s);
	}
}

static void report_json(const char *address, const struct tool_netloop_opts *o,
			unsigned queues, const struct tool_netloop_result *r,
			bool ok)
{
	struct tool_json j;
	tool_json_init(&j, stdout);
	tool_json_obj(&j, NULL);
	tool_json_str(&j, "address", address);
	tool_json_u64(&j, "count", o->count);
	tool_json_u64(&j, "size", o->size);
	tool_json_u64(&j, "queues", queues);
	tool_json_u64(&j, "window", r->window);
	tool_json_u64(&j, "sent", r->sent);
	tool_json_u64(&j, "received", r->received);
	tool_json_u64(&j, "corrupted", r->corrupted);
	tool_json_u64(&j, "duplicate", r->duplicate);
	tool_json_u64(&j, "lost", r->lost);
	tool_json_u64(&j, "unsent", r->unsent);
	tool_json_u64(&j, "foreign", r->foreign);
	if (r->received && r->last_rx_ns > r->first_tx_ns) {
		double s = (double)(r->last_rx_ns - r->first_tx_ns) / 1e9;
		tool_json_dbl(&j, "seconds", s);
		tool_json_dbl(&j, "frames_per_second", (double)r->received / s);
	} else {
		tool_json_null(&j, "seconds");
		tool_json_null(&j, "frames_per_second");
	}
	tool_json_str(&j, "first_problem", r->detail);
	tool_json_bool(&j, "ok", ok);
	tool_json_end(&j, '}');
	tool_json_done(&j);
}

/* Frames the host delivered badly, which the front end dropped. */
static uint64_t rx_errors(pvio_net *net, unsigned nq)
{
	uint64_t n = 0;
	for (unsigned q = 0; q < nq; q++) {
		struct pvio_queue_stats st;
		if (pvio_net_get_stats(net, q, &st) == 0)
			n += st.rx_errors;
	}
	return n;
}

/* One line saying what went wrong; returns TOOL_VERIFY. */
static int verify_failed(const char *cmd, const struct tool_netloop_result *r,
			 double wait_s, uint64_t rx_err, bool link_down)
{
	char line[512];
	size_t n = 0;
#define ADD(...)                                                              \
	do {                                                                  \
		if (n < sizeof(line))                                         \
			n += (size_t)snprintf(line + n, sizeof(line) - n,     \
					      __VA_ARGS__);                   \
	} while (0)
	if (r->detail[0])
		ADD("%s", r->detail);
	if (r->lost)
		ADD("%s%" PRIu64 " frame%s never came back (nothing arrived for "
		    "%.1f s)",
		    n ? "; " : "", r->lost, r->lost == 1 ? "" : "s", wait_s);
	if (r->unsent)
		ADD("%s%" PRIu64 " frame%s could not be sent", n ? "; " : "",
		    r->unsent, r->unsent == 1 ? "" : "s");
	if (r->foreign && (r->lost || r->corrupted))
		ADD("; %" PRIu64 " frame%s not ours arrived (damaged on the "
		    "way?)",
		    r->foreign, r->foreign == 1 ? " that was" : "s that were");
	if (rx_err)
		ADD("%sthe front end dropped %" PRIu64 " frame%s the host "
		    "delivered badly",
		    n ? "; " : "", rx_err, rx_err == 1 ? "" : "s");
	if (!n)
		ADD("not every frame came back");
	if (link_down)
		ADD("; the device reports its link down");
	else if (r->lost && r->lost == r->sent)
		ADD("; is the peer reflecting frames?");
#undef ADD
	fprintf(stderr, "pvio %s: FAILED: %s\n", cmd, line);
	return TOOL_VERIFY;
}

static int loopback(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "count", required_argument, NULL, 'c' },
		{ "size", required_argument, NULL, 's' },
		{ "queues", required_argument, NULL, 'q' },
		{ "window", required_argument, NULL, 'w' },
		{ "wait", required_argument, NULL, 'W' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cmd = "net loopback";
	struct tool_netloop_opts o = { .count = 1000, .size = 64 };
	uint64_t v, queues = 1;
	double wait_s = 2;
	bool json = false;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			if (tool_parse_uint(optarg, 1, 1ull << 32, &o.count) < 0)
				return tool_usage(cmd, "--count wants a number "
						       "from 1 to 4294967296");
			break;
		case 's':
			if (tool_parse_size(optarg, &v) < 0 ||
			    v < TOOL_NETLOOP_MIN_FRAME || v > 65535)
				return tool_usage(cmd, "--size wants %u..65535 "
						       "bytes",
						  TOOL_NETLOOP_MIN_FRAME);
			o.size = (uint32_t)v;
			break;
		case 'q':
			if (tool_parse_uint(optarg, 1, 64, &queues) < 0)
				return tool_usage(cmd, "--queues wants 1..64");
			break;
		case 'w':
			if (tool_parse_uint(optarg, 1, 1u << 20, &v) < 0)
				return tool_usage(cmd, "--window wants 1..1048576");
			o.window = (uint32_t)v;
			break;
		case 'W':
			if (tool_parse_seconds(optarg, 3600, &wait_s) < 0)
				return tool_usage(cmd, "--wait wants seconds, "
						       "more than 0 and at most "
						       "3600");
			break;
		case 'j': json = true; break;
		case 'h': fputs(usage_text, stdout); return TOOL_OK;
		default: return tool_bad_option(cmd, c, argv);
		}
	}
	if (argc - optind != 1)
		return tool_usage(cmd, "expected one DEVICE address");
	const char *address = argv[optind];
	o.wait_ns = (uint64_t)(wait_s * 1e9);

	pvio_ctx *ctx = tool_ctx_new(cmd);
	if (!ctx)
		return TOOL_FAIL;
	int ret = TOOL_OK;
	pvio_net *net = NULL;
	struct pvio_net_opts no = { .struct_size = sizeof(no),
				    .num_queues = (uint32_t)queues };
	pvio_dev *dev = NULL;
	int r = tool_open_class(cmd, ctx, address, PVIO_CLASS_NET, &dev);
	if (r) {
		ret = r;
		goto out;
	}
	r = pvio_net_attach(dev, &no, &net); /* owns dev from here on */
	if (r < 0) {
		ret = tool_lib_fail(cmd, ctx, r, "starting the network front end");
		goto out;
	}
	struct pvio_net_info info = { .struct_size = sizeof(info) };
	r = pvio_net_get_info(net, &info);
	if (r < 0) {
		ret = tool_lib_fail(cmd, ctx, r, "reading network information");
		goto out;
	}
	if (info.num_queues != queues) {
		struct pvio_dev_info di = { .struct_size = sizeof(di) };
		pvio_dev_get_info(pvio_net_dev(net), &di);
		ret = tool_fail(cmd, "--queues %" PRIu64 ": the device gave %u "
				     "queue pair%s (it has at most %u)",
				queues, info.num_queues,
				info.num_queues == 1 ? "" : "s", di.max_queues);
		goto out;
	}
	if (info.max_tx_frame && o.size > info.max_tx_frame) {
		ret = tool_fail(cmd, "--size %u is larger than the largest "
				     "frame the device takes (%u bytes)",
				o.size, info.max_tx_frame);
		goto out;
	}

	struct tool_netloop_result res;
	uint64_t rx_err0 = rx_errors(net, info.num_queues);
	tool_netloop_run(net, &o, &res);
	uint64_t rx_err = rx_errors(net, info.num_queues) - rx_err0;
	bool ok = !res.error && !res.corrupted && !res.duplicate && !res.lost &&
		  !res.unsent && res.received == o.count;
	if (json)
		report_json(address, &o, (unsigned)queues, &res, ok);
	else
		report_text(address, &o, (unsigned)queues, &res);
	if (res.error)
		ret = tool_io_fail(cmd, pvio_net_dev(net), res.error,
				   res.detail[0] ? res.detail
						   : "sending or receiving frames");
	else if (!ok)
		ret = verify_failed(cmd, &res, wait_s, rx_err, !info.link_up);
out:
	if (net)
		pvio_net_close(net);
	pvio_ctx_free(ctx);
	return ret;
}

int cmd_net(int argc, char **argv)
{
	if (argc < 2)
		return tool_usage("net", "expected an operation: loopback");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage_text, stdout);
		return TOOL_OK;
	}
	if (!strcmp(argv[1], "loopback"))
		return loopback(argc - 1, argv + 1);
	return tool_usage("net", "unknown operation '%s' (loopback)", argv[1]);
}
