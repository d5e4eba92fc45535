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
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

static void kind_list(char *buf, size_t size)
{
	buf[0] = 0;
	for (size_t i = 0; i < NKINDS; i++) {
		size_t l = strlen(buf);
		snprintf(buf + l, size - l, "%s%s", i ? ", " : "", kinds[i].name);
	}
}

int cmd_sim(int argc, char **argv)
{
	char list[128];
	kind_list(list, sizeof(list));
	if (argc < 2)
		return tool_usage("sim", "expected a KIND of simulated host (%s)",
				  list);
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		printf("usage: pvio sim KIND [OPTIONS]   (pvio sim KIND --help)\n\n");
		for (size_t i = 0; i < NKINDS; i++)
			printf("  %-8s %s\n", kinds[i].name, kinds[i].summary);
		printf("\nSee pvio-sim(1).\n");
		return TOOL_OK;
	}
	if (!strcmp(argv[1], "ctl") && argc >= 3 &&
	    (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h"))) {
		printf("usage: pvio sim ctl SOCKET COMMAND [ARGS...]\n\n"
		       "Send one control command to the simulated host listening "
		       "on SOCKET and\nprint its reply.  Every host understands "
		       "`help`, `status` and `quit`;\n`pvio sim ctl SOCKET help` "
		       "lists the rest.\n");
		return TOOL_OK;
	}
	for (size_t i = 0; i < NKINDS; i++)
		if (!strcmp(argv[1], kinds[i].name))
			return kinds[i].main(argc - 1, argv + 1);
	return tool_usage("sim", "unknown simulated host '%s' (this pvio has %s)",
			  argv[1], list);
}
