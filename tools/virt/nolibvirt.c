/* SPDX-License-Identifier: MIT */
/* tools/virt/nolibvirt.c - `pvio virt` in a build without libvirt. */
#include <stdio.h>

#include "tools/pvio.h"

int cmd_virt(int argc, char **argv)
{
	(void)argc, (void)argv;
	fputs("pvio virt: this pvio was built without libvirt; install "
	      "libvirt-dev and libxml2-dev (scripts/deps.sh) and run configure "
	      "again\n", stderr);
	return 1;
}
