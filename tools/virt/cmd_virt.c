/* SPDX-License-Identifier: MIT */
/*
 * tools/virt/cmd_virt.c - `pvio virt`: libvirt integration.  Dispatches to
 * one file per job: devices.c (what pvio sees in a domain), convert.c
 * (device definitions for another hypervisor family), probe.c (boot pvio's
 * probe guest through libvirt).
 */
#include <string.h>

#include "tools/pvio.h"
#include "tools/virt/virt.h"

static void usage(FILE *f)
{
	fputs("usage: pvio virt COMMAND [ARGS...]\n"
	      "\n"
	      "  devices URI [DOMAIN]     the paravirtual devices of libvirt domains\n"
	      "                           and their pvio addresses\n"
	      "  convert --to kvm|xen|hyperv DOMAIN.xml\n"
	      "                           rewrite a domain's disks and interfaces for\n"
	      "                           another hypervisor family\n"
	      "  probe URI...             boot pvio's probe guest through libvirt and\n"
	      "                           collect its results\n"
	      "\n"
	      "`pvio virt COMMAND --help` for details; man pvio-virt(1).\n", f);
}

int cmd_virt(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return VIRT_USAGE;
	}
	const char *sub = argv[1];
	if (!strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help")) {
		usage(stdout);
		return VIRT_OK;
	}
	if (!strcmp(sub, "devices"))
		return virt_cmd_devices(argc - 1, argv + 1);
	if (!strcmp(sub, "convert"))
		return virt_cmd_convert(argc - 1, argv + 1);
	if (!strcmp(sub, "probe"))
		return virt_cmd_probe(argc - 1, argv + 1);
	return virt_usage(NULL, "unknown command '%s'", sub);
}
