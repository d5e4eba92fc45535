/* SPDX-License-Identifier: MIT */
/* tools/cmd_sim.c - `pvio sim KIND ...`: run one of pvio's simulated hosts. */
#include <stdio.h>
#include <string.h>

#include "sim/common/sim.h"
#include "tools/sim-list.h"
#include "tools/pvio.h"

struct sim_kind {
	const char *name;
	int (*main)(int argc, char **argv);
	const char *summary;
};

static const struct sim_kind kinds[] = {
#ifdef PVIO_SIM_HAVE_VIRTIO
	{ "virtio", sim_virtio_main, "vhost-user block and network devices" },
#endif
#ifdef PVIO_SIM_HAVE_XEN
	{ "xen", sim_xen_main, "a Xen host: xenstored, grant tables, event channels, blkback, netback" },
#endif
#ifdef PVIO_SIM_HAVE_HYPERV
	{ "hyperv", sim_hyperv_main, "a Hyper-V host: VMBus, StorVSP, NetVSP" },
#endif
	{ "ctl", sim_ctl_main, "send a control command to a running simulated host" },
};

int cmd_sim(int argc, char **argv)
{
	size_t n = sizeof(kinds) / sizeof(kinds[0]);
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		FILE *f = argc < 2 ? stderr : stdout;
		fprintf(f, "usage: pvio sim KIND [OPTIONS]   (pvio sim KIND --help)\n\n");
		for (size_t i = 0; i < n; i++)
			fprintf(f, "  %-8s %s\n", kinds[i].name, kinds[i].summary);
		return argc < 2 ? 2 : 0;
	}
	for (size_t i = 0; i < n; i++)
		if (!strcmp(argv[1], kinds[i].name))
			return kinds[i].main(argc - 1, argv + 1);
	fprintf(stderr, "pvio sim: unknown simulated host '%s'; run `pvio sim --help`\n",
		argv[1]);
	return 2;
}
