/* SPDX-License-Identifier: MIT */
/* tests/interop/pvio_client.h - pvio speaking dpdk_netvsc.c's protocol. */
#ifndef PVIO_TESTS_PVIO_CLIENT_H
#define PVIO_TESTS_PVIO_CLIENT_H

#include <stdint.h>

struct pvio_client_args {
	const char *address;   /* e.g. "vmbus-uio:UUID" */
	uint8_t peer[6];
};

/* Runs the command loop on stdin/stdout; the exit code. */
int pvio_client_main(void *args);

#endif /* PVIO_TESTS_PVIO_CLIENT_H */
