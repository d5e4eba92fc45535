/* SPDX-License-Identifier: MIT */
/*
 * tools/cmd_info.c - `pvio info DEVICE [--json] [--no-start]`: what a
 * device is, what it offers and what pvio uses of it.
 *
 * The device is opened (which reads what it offers without starting it),
 * then - unless --no-start - a block or network front end is attached, so
 * the features in use, the queues and the class details (capacity, MAC,
 * link...) are the ones a real user of the device would get.
 */
#include <getopt.h>
#include <inttypes.h>
#include <string.h>

#include <pvio/blk.h>
#include <pvio/net.h>

#include "tools/pvio.h"

static const char usage_text[] =
	"usage: pvio info DEVICE [--json] [--no-start]\n"
	"\n"
	"Open DEVICE, attach a block or network front end to it and print what\n"
	"it is: class, hypervisor family, back end, protocol, the normalised\n"
	"features it offers and those in use, protocol-native detail, limits,\n"
	"and the block (capacity, block size...) or network (MAC, MTU, link...)\n"
	"details.\n"
	"\n"
	"  --json       print one JSON object instead of text\n"
	"  --no-start   only open the device and show what it offers; attach no\n"
	"               front end (nothing is negotiated or started)\n"
	"  -h, --help   this text\n"
	"\n"
	"DEVICE is an address such as vhost-user:/run/vhost.sock?class=blk,\n"
	"sim-xen:SOCKET/vbd/0 or sim-hyperv:SOCKET/netvsc0 (see pvio(1)).\n";

struct info {
	struct pvio_dev_info dev;
	enum pvio_dev_state state;
	const char *reason;
	bool attached;
	bool have_blk, have_net;
	struct pvio_blk_info blk;
	struct pvio_net_info net;
};

static const char *state_name(enum pvio_dev_state s)
{
	switch (s) {
	case PVIO_DEV_READY: return "ready";
	case PVIO_DEV_BROKEN: return "broken";
	case PVIO_DEV_REMOVED: return "removed";
	case PVIO_DEV_STOPPED: return "stopped";
	}
	return "unknown";
}

static const char *family_str(enum pvio_family f)
{
	const char *s = pvio_family_name(f);
	return s ? s : "unknown";
}

static const char *hv_str(enum pvio_family f)
{
	const char *s = pvio_family_hypervisor(f);
	return s ? s : "unknown";
}

static const char *class_str(enum pvio_class c)
{
	const char *s = pvio_class_name(c);
	return s ? s : "unknown";
}

static void mac_str(const uint8_t m[6], char out[18])
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2],
		 m[3], m[4], m[5]);
}

/* ---- text ---- */

static void print_text(const struct info *in)
{
	const struct pvio_dev_info *d = &in->dev;
	char b1[32], t[256];

	printf("device      %s\n", tool_printable(d->address, t, sizeof(t)));
	printf("class       %s\n", class_str(d->cls));
	printf("hypervisor  %s (%s family)\n", hv_str(d->family),
	       family_str(d->family));
	printf("back end    %s\n", tool_printable(d->backend, t, sizeof(t)));
	printf("protocol    %s\n", tool_printable(d->protocol, t, sizeof(t)));
	printf("state       %s%s", state_name(in->state),
	       in->reason && *in->reason ? ": " : "");
	printf("%s\n", tool_printable(in->reason, t, sizeof(t)));
	printf("native      %s\n", tool_printable(d->native, t, sizeof(t)));
	printf("queues      %u in use, %u at most, %u slots each\n",
	       d->num_queues, d->max_queues, d->queue_size);
	printf("limits      %u segments of at most %u bytes, %u bytes per "
	       "request\n",
	       d->max_segments, d->max_segment_size, d->max_transfer);

	printf("features    %-18s %-8s %s\n", "", "offered",
	       in->attached ? "in use" : "(not started)");
	uint64_t all = d->offered | d->features;
	for (unsigned bit = 0; bit < 64; bit++) {
		uint64_t f = 1ull << bit;
		if (!(all & f))
			continue;
		const char *name = pvio_feature_name(f);
		char unk[16];
		if (!name) {
			snprintf(unk, sizeof(unk), "bit %u", bit);
			name = unk;
		}
		printf("            %-18s %-8s %s\n", name,
		       d->offered & f ? "yes" : "no",
		       in->attached ? (d->features & f ? "yes" : "no") : "");
	}
	if (!all)
		printf("            (none)\n");

	if (in->have_blk) {
		const struct pvio_blk_info *b = &in->blk;
		printf("block\n");
		printf("  capacity          %" PRIu64 " bytes (%s)\n", b->capacity,
		       tool_human_bytes(b->capacity, b1, sizeof(b1)));
		printf("  block size        %u (physical %u)\n", b->block_size,
		       b->physical_block_size);
		printf("  max transfer      %u bytes, %u segments of at most %u "
		       "bytes\n",
		       b->max_transfer, b->max_segments, b->max_segment_size);
		printf("  queues            %u, depth %u\n", b->num_queues,
		       b->queue_depth);
		printf("  read-only         %s\n", b->read_only ? "yes" : "no");
		printf("  flush             %s\n",
		       b->flush ? "yes (volatile write cache)" : "no");
		if (b->discard)
			printf("  discard           yes, up to %" PRIu64
			       " bytes, granularity %u\n",
			       b->max_discard, b->discard_granularity);
		else
			printf("  discard           no\n");
		if (b->write_zeroes)
			printf("  write-zeroes      yes, up to %" PRIu64 " bytes\n",
			       b->max_write_zeroes);
		else
			printf("  write-zeroes      no\n");
	}
	if (in->have_net) {
		const struct pvio_net_info *n = &in->net;
		char mac[18];
		mac_str(n->mac, mac);
		printf("network\n");
		printf("  mac               %s\n", mac);
		printf("  mtu               %u\n", n->mtu);
		printf("  link              %s\n", n->link_up ? "up" : "down");
		printf("  queues            %u, ring %u, buffers of %u bytes\n",
		       n->num_queues, n->ring_size, n->buf_size);
		printf("  max tx frame      %u bytes\n", n->max_tx_frame);
	}
}

/* ---- JSON ---- */

static void json_features(struct tool_json *j, const char *key, uint64_t v)
{
	tool_json_arr(j, key);
	for (unsigned bit = 0; bit < 64; bit++) {
		uint64_t f = 1ull << bit;
		if (!(v & f))
			continue;
		const char *name = pvio_feature_name(f);
		char unk[16];
		if (!name) {
			snprintf(unk, sizeof(unk), "bit%u", bit);
			name = unk;
		}
		tool_json_str(j, NULL, name);
	}
	tool_json_end(j, ']');
}

static void print_json(const struct info *in)
{
	const struct pvio_dev_info *d = &in->dev;
	struct tool_json j;
	char hex[24];

	tool_json_init(&j, stdout);
	tool_json_obj(&j, NULL);
	tool_json_str(&j, "address", d->address);
	tool_json_str(&j, "class", class_str(d->cls));
	tool_json_str(&j, "family", family_str(d->family));
	tool_json_str(&j, "hypervisor", hv_str(d->family));
	tool_json_str(&j, "backend", d->backend);
	tool_json_str(&j, "protocol", d->protocol);
	tool_json_str(&j, "state", state_name(in->state));
	tool_json_str(&j, "state_reason", in->reason ? in->reason : "");
	tool_json_bool(&j, "started", in->attached);
	tool_json_str(&j, "native", d->native);
	tool_json_obj(&j, "features");
	snprintf(hex, sizeof(hex), "0x%" PRIx64, d->offered);
	tool_json_str(&j, "offered_mask", hex);
	json_features(&j, "offered", d->offered);
	if (in->attached) {
		snprintf(hex, sizeof(hex), "0x%" PRIx64, d->features);
		tool_json_str(&j, "in_use_mask", hex);
		json_features(&j, "in_use", d->features);
	} else {
		tool_json_null(&j, "in_use_mask");
		tool_json_null(&j, "in_use");
	}
	tool_json_end(&j, '}');
	tool_json_obj(&j, "limits");
	tool_json_u64(&j, "max_queues", d->max_queues);
	tool_json_u64(&j, "num_queues", d->num_queues);
	tool_json_u64(&j, "queue_size", d->queue_size);
	tool_json_u64(&j, "max_segments", d->max_segments);
	tool_json_u64(&j, "max_transfer", d->max_transfer);
	tool_json_u64(&j, "max_segment_size", d->max_segment_size);
	tool_json_end(&j, '}');
	if (in->have_blk) {
		const struct pvio_blk_info *b = &in->blk;
		tool_json_obj(&j, "blk");
		tool_json_u64(&j, "capacity", b->capacity);
		tool_json_u64(&j, "block_size", b->block_size);
		tool_json_u64(&j, "physical_block_size", b->physical_block_size);
		tool_json_u64(&j, "max_transfer", b->max_transfer);
		tool_json_u64(&j, "max_segments", b->max_segments);
		tool_json_u64(&j, "max_segment_size", b->max_segment_size);
		tool_json_u64(&j, "num_queues", b->num_queues);
		tool_json_u64(&j, "queue_depth", b->queue_depth);
		tool_json_bool(&j, "read_only", b->read_only);
		tool_json_bool(&j, "flush", b->flush);
		tool_json_bool(&j, "discard", b->discard);
		tool_json_u64(&j, "max_discard", b->max_discard);
		tool_json_u64(&j, "discard_granularity", b->discard_granularity);
		tool_json_bool(&j, "write_zeroes", b->write_zeroes);
		tool_json_u64(&j, "max_write_zeroes", b->max_write_zeroes);
		tool_json_end(&j, '}');
	}
	if (in->have_net) {
		const struct pvio_net_info *n = &in->net;
		char mac[18];
		mac_str(n->mac, mac);
		tool_json_obj(&j, "net");
		tool_json_str(&j, "mac", mac);
		tool_json_u64(&j, "mtu", n->mtu);
		tool_json_bool(&j, "link_up", n->link_up);
		tool_json_u64(&j, "num_queues", n->num_queues);
		tool_json_u64(&j, "ring_size", n->ring_size);
		tool_json_u64(&j, "buf_size", n->buf_size);
		tool_json_u64(&j, "max_tx_frame", n->max_tx_frame);
		tool_json_end(&j, '}');
	}
	tool_json_end(&j, '}');
	tool_json_done(&j);
}

int cmd_info(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "no-start", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool json = false, start = true;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'j': json = true; break;
		case 'n': start = false; break;
		case 'h': fputs(usage_text, stdout); return TOOL_OK;
		default: return tool_bad_option("info", c, argv);
		}
	}
	if (optind + 1 != argc)
		return tool_usage("info", optind == argc
						  ? "expected a DEVICE address"
						  : "expected exactly one DEVICE address");
	const char *address = argv[optind];

	pvio_ctx *ctx = tool_ctx_new("info");
	if (!ctx)
		return TOOL_FAIL;
	int ret = TOOL_OK;
	pvio_dev *dev = NULL;
	pvio_blk *blk = NULL;
	pvio_net *net = NULL;
	struct info in = { .dev.struct_size = sizeof(in.dev) };

	int r = pvio_dev_open(ctx, address, &dev);
	if (r < 0) {
		ret = tool_lib_fail("info", ctx, r, address);
		goto out;
	}
	r = pvio_dev_get_info(dev, &in.dev);
	if (r < 0) {
		ret = tool_lib_fail("info", ctx, r, "reading device information");
		goto out;
	}
	if (start && in.dev.cls == PVIO_CLASS_BLK) {
		struct pvio_blk_opts o = { .struct_size = sizeof(o) };
		r = pvio_blk_attach(dev, &o, &blk);
		dev = NULL; /* the front end owns it now, also on failure */
		if (r < 0) {
			ret = tool_lib_fail("info", ctx, r,
					    "starting the block front end");
			goto out;
		}
		dev = pvio_blk_dev(blk);
		in.blk.struct_size = sizeof(in.blk);
		r = pvio_blk_get_info(blk, &in.blk);
		in.have_blk = r == 0;
		in.attached = true;
	} else if (start && in.dev.cls == PVIO_CLASS_NET) {
		struct pvio_net_opts o = { .struct_size = sizeof(o) };
		r = pvio_net_attach(dev, &o, &net);
		dev = NULL;
		if (r < 0) {
			ret = tool_lib_fail("info", ctx, r,
					    "starting the network front end");
			goto out;
		}
		dev = pvio_net_dev(net);
		in.net.struct_size = sizeof(in.net);
		r = pvio_net_get_info(net, &in.net);
		in.have_net = r == 0;
		in.attached = true;
	}
	if (in.attached) {
		in.dev.struct_size = sizeof(in.dev);
		r = pvio_dev_get_info(dev, &in.dev);
		if (r < 0) {
			ret = tool_lib_fail("info", ctx, r,
					    "reading device information");
			goto out;
		}
	}
	in.state = pvio_dev_state(dev, &in.reason);
	if (json)
		print_json(&in);
	else
		print_text(&in);
	if (in.state != PVIO_DEV_READY)
		ret = TOOL_FAIL;
out:
	if (blk)
		pvio_blk_close(blk);
	else if (net)
		pvio_net_close(net);
	else if (dev)
		pvio_dev_close(dev);
	pvio_ctx_free(ctx);
	return ret;
}
