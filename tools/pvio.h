/* SPDX-License-Identifier: MIT */
/* tools/pvio.h - the pvio command's subcommands. */
#ifndef PVIO_TOOL_H
#define PVIO_TOOL_H

/* Each subcommand gets argv with argv[0] = its own name. */
int cmd_sim(int argc, char **argv);
int cmd_virt(int argc, char **argv); /* tools/virt/ */

#endif
