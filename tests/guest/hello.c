/* SPDX-License-Identifier: MIT */
#include "guest.h"
#include <pvio/pvio.h>

void guest_main(uint32_t si)
{
	guest_time_init();
	const struct guest_start_info *info = (const void *)(uintptr_t)si;
	con_printf("PVIO-GUEST hello magic=%x version=%u\n", info->magic, info->version);
	pvio_ctx *ctx;
	struct pvio_ctx_opts o = { .struct_size = sizeof(o), .platform = guest_platform() };
	int r = pvio_ctx_new(&o, &ctx);
	con_printf("PVIO-GUEST ctx %d now=%llu\n", r, (unsigned long long)guest_now_ns());
	guest_exit(r == 0 ? 0 : 1);
}
