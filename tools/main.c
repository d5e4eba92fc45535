/* SPDX-License-Identifier: MIT */
/* tools/main.c - the pvio command: dispatch to subcommands. */
#include <stdio.h>
#include <string.h>

#include <pvio/pvio.h>

#include "tools/pvio.h"

struct subcommand {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct subcommand subcommands[] = {
	{ "info", cmd_info, "show what a device is, offers and uses" },
	{ "blk", cmd_blk, "read, write, flush, discard, write-zeroes a block device" },
	{ "net", cmd_net, "send frames to a reflecting peer and check them" },
	{ "bench", cmd_bench, "measure block IOPS and latency, network packet rate" },
	{ "compare", cmd_compare, "the same workloads through every hypervisor's protocol, side by side" },
	{ "migrate-demo", cmd_migrate_demo, "move block and network front ends across hypervisors, checked" },
	{ "sim", cmd_sim, "run a simulated host (virtio, xen, hyperv) or control one" },
	{ "virt", cmd_virt, "libvirt: domains' pvio devices, convert, boot the probe guest" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: pvio COMMAND [ARGS...]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		fprintf(f, "  %-13s %s\n", subcommands[i].name,
			subcommands[i].summary);
	fprintf(f, "\ndevice addresses this pvio understands: %s\n",
		pvio_backend_list());
	fprintf(f, "`pvio COMMAND --help` for details; man pvio(1).\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "pvio: expected a COMMAND; run `pvio --help`\n");
		return TOOL_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		usage(stdout);
		return TOOL_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("pvio %s (device addresses: %s)\n", pvio_version(),
		       pvio_backend_list());
		return TOOL_OK;
	}
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		if (!strcmp(argv[1], subcommands[i].name))
			return subcommands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "pvio: unknown command '%s'; run `pvio --help`\n",
		argv[1]);
	return TOOL_USAGE;
}
