/* SPDX-License-Identifier: MIT */
/*
 * core/platform_hosted.c - the platform hooks for pvio hosted on Linux.
 *
 * DMA memory is a memfd mapped MAP_SHARED: vhost-user back ends and pvio's
 * simulated hosts map the same fd, which is what makes it "device
 * reachable".  Device addresses start at 4 GiB, like guest-physical memory
 * above the PCI hole; they are deliberately not the process's virtual
 * addresses, which would not fit Xen's 32-bit grant frame numbers.
 */
#include "core.h"

#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define HOSTED_DMA_BASE 0x100000000ull

static void *h_alloc(void *opaque, size_t size)
{
	(void)opaque;
	return calloc(1, size);
}

static void h_free(void *opaque, void *p)
{
	(void)opaque;
	free(p);
}

static int h_dma_alloc(void *opaque, size_t len, struct pvio_dma_region *out)
{
	(void)opaque;
	int fd = memfd_create("pvio-dma", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)len) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	/* The hosts map this fd: sealing its size means nothing can shrink it
	 * under them (a shrink would make their accesses fault). */
	fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
	void *va = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (va == MAP_FAILED) {
		int e = errno;
		close(fd);
		return -e;
	}
	out->va = va;
	/* Each context is its own "guest" with one pool region, so every
	 * pool starts at the same device address. */
	out->dev_addr = HOSTED_DMA_BASE;
	out->len = len;
	out->fd = fd;
	out->fd_offset = 0;
	return 0;
}

static void h_dma_free(void *opaque, const struct pvio_dma_region *r)
{
	(void)opaque;
	munmap(r->va, r->len);
	if (r->fd >= 0)
		close(r->fd);
}

static uint64_t h_now_ns(void *opaque)
{
	struct timespec ts;
	(void)opaque;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void h_log(void *opaque, int level, const char *msg)
{
	static const char *const names[] = { "error", "warning", "info",
					     "debug" };
	(void)opaque;
	if (level < 0)
		level = 0;
	if (level > 3)
		level = 3;
	fprintf(stderr, "pvio: %s: %s\n", names[level], msg);
}

static const struct pvio_platform hosted = {
	.abi_version = PVIO_PLATFORM_ABI,
	.struct_size = sizeof(struct pvio_platform),
	.opaque = NULL,
	.alloc = h_alloc,
	.free = h_free,
	.dma_alloc = h_dma_alloc,
	.dma_free = h_dma_free,
	.now_ns = h_now_ns,
	.log = h_log,
};

const struct pvio_platform *pvio_platform_hosted(void)
{
	return &hosted;
}

int core_log_level_env(int dflt)
{
	const char *e = getenv("PVIO_LOG");
	if (!e || !*e)
		return dflt;
	if (!strcasecmp(e, "error"))
		return PVIO_LOG_ERROR;
	if (!strcasecmp(e, "warn") || !strcasecmp(e, "warning"))
		return PVIO_LOG_WARN;
	if (!strcasecmp(e, "info"))
		return PVIO_LOG_INFO;
	if (!strcasecmp(e, "debug"))
		return PVIO_LOG_DEBUG;
	return dflt;
}
