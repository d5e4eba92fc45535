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
	{ "sim", cmd_sim, "run a simulated host (virtio, xen, hyperv) or control one" },
	{ "virt", cmd_virt, "libvirt: domains' pvio devices, convert, boot the probe guest" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: pvio COMMAND [ARGS...]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		fprintf(f, "  %-10s %s\n", subcommands[i].name,
			subcommands[i].summary);
	fprintf(f, "\n`pvio COMMAND --help` for details; man pvio(1).\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("pvio %s\n", pvio_version());
		return 0;
	}
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		if (!strcmp(argv[1], subcommands[i].name))
			return subcommands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "pvio: unknown command '%s'; run `pvio --help`\n",
		argv[1]);
	return 2;
}
