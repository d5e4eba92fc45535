/* SPDX-License-Identifier: MIT */
/*
 * pvio/platform.h - what pvio needs from the operating system it runs in.
 *
 * pvio never calls the OS directly from core, front-end or virtio code: it
 * goes through this table.  Hosted Linux is one implementation of it
 * (pvio_platform_hosted(), the default when a context is created without
 * one); an OS, unikernel or appliance kernel that links the freestanding
 * library (libpvio-freestanding.a) supplies its own.
 *
 * Contract for every hook:
 *  - hooks may be called from any pvio call made on a context that uses the
 *    table, never concurrently for the same context unless the caller itself
 *    calls pvio concurrently on that context;
 *  - hooks return 0 or a negative errno value where they return int;
 *  - hooks marked OPTIONAL may be NULL; pvio then uses the stated fallback.
 *
 * Besides this table the freestanding library needs only what GCC and Clang
 * need from any freestanding environment: memcpy, memmove, memset, memcmp.
 *
 * What each freestanding transport uses:
 *   virtio-pci   pci_cfg_read/pci_cfg_write (or port_in/port_out for
 *                configuration mechanism #1), mmio_map and, if set,
 *                mmio_read/mmio_write for the BARs;
 *   virtio-mmio  mmio_map, mmio_read/mmio_write if set;
 *   both         dma_alloc (rings and buffers: dev_addr is what the device
 *                is given), now_ns (every wait is bounded), relax/wait while
 *                polling, log.
 * Interrupts: the virtio-pci and virtio-mmio transports program no
 * interrupt (MSI-X vectors stay NO_VECTOR) and poll the rings and the ISR /
 * InterruptStatus register; an embedder's wait hook may sleep but must
 * return by its deadline (e.g. wake on a timer tick), because nothing else
 * is guaranteed to wake it.
 */
#ifndef PVIO_PLATFORM_H
#define PVIO_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bump when the table grows; pvio checks abi_version and struct_size.
 * 2: mmio_read/mmio_write added. */
#define PVIO_PLATFORM_ABI 2

/* Log levels, most severe first. */
enum pvio_log_level {
	PVIO_LOG_ERROR = 0,
	PVIO_LOG_WARN = 1,
	PVIO_LOG_INFO = 2,
	PVIO_LOG_DEBUG = 3,
};

/*
 * A region of memory that devices can reach ("DMA memory").
 *
 * va:      where the CPU sees it.
 * dev_addr: the address a device uses for va (guest-physical address, IOVA,
 *          or - for hosted pvio - the offset-based address shared with the
 *          simulated and vhost-user hosts).  Contiguous: va + n is dev_addr + n.
 * len:     bytes, a multiple of 4096.
 * fd, fd_offset: hosted only: a file descriptor that maps the region
 *          MAP_SHARED at fd_offset, so out-of-process hosts (vhost-user back
 *          ends, pvio's simulated hosts) can map it.  -1 when there is none.
 */
struct pvio_dma_region {
	void *va;
	uint64_t dev_addr;
	size_t len;
	int fd;
	uint64_t fd_offset;
};

struct pvio_platform {
	uint32_t abi_version;  /* PVIO_PLATFORM_ABI */
	uint32_t struct_size;  /* sizeof(struct pvio_platform) */
	void *opaque;          /* passed to every hook */

	/* --- ordinary memory for pvio's own bookkeeping (never shared) --- */
	void *(*alloc)(void *opaque, size_t size);  /* zeroed; NULL on failure */
	void (*free)(void *opaque, void *p);

	/* --- device-reachable memory --- */
	/* Allocate len bytes (a multiple of 4096), zeroed, 4096-aligned. */
	int (*dma_alloc)(void *opaque, size_t len, struct pvio_dma_region *out);
	void (*dma_free)(void *opaque, const struct pvio_dma_region *r);

	/* --- MMIO and port I/O (freestanding device transports) --- */
	/* Map len bytes of device MMIO at physical address pa; OPTIONAL
	 * (fallback: identity mapping, (void *)(uintptr_t)pa). */
	void *(*mmio_map)(void *opaque, uint64_t pa, size_t len);
	/* Port I/O; OPTIONAL (only legacy virtio-pci and PCI config mechanism
	 * #1 use ports).  width is 1, 2 or 4. */
	uint32_t (*port_in)(void *opaque, uint16_t port, int width);
	void (*port_out)(void *opaque, uint16_t port, int width, uint32_t val);

	/* --- PCI configuration space; OPTIONAL (fallback: mechanism #1 via
	 * port_in/port_out at 0xCF8/0xCFC).  bdf = bus << 8 | dev << 3 | fn. */
	int (*pci_cfg_read)(void *opaque, uint16_t bdf, uint16_t off, int width,
			    uint32_t *val);
	int (*pci_cfg_write)(void *opaque, uint16_t bdf, uint16_t off, int width,
			     uint32_t val);

	/* --- ordering; OPTIONAL (fallback: C11 atomic_thread_fence, which is
	 * enough for cache-coherent DMA).  Provide them on platforms where
	 * device memory needs stronger (e.g. DMB OSH / mandatory) barriers. */
	void (*mb)(void *opaque);
	void (*rmb)(void *opaque);
	void (*wmb)(void *opaque);

	/* --- time: a monotonic clock in nanoseconds --- */
	uint64_t (*now_ns)(void *opaque);

	/* --- logging; OPTIONAL (fallback: messages are dropped).  msg is one
	 * line without a trailing newline. */
	void (*log)(void *opaque, int level, const char *msg);

	/*
	 * --- waiting ---
	 * wait: sleep until an interrupt or event may have arrived, or until
	 * the monotonic clock reaches deadline_ns, whichever is first; spurious
	 * returns are fine.  OPTIONAL (fallback: busy polling with relax()).
	 * Hosted pvio waits on file descriptors instead and does not call it.
	 */
	void (*wait)(void *opaque, uint64_t deadline_ns);
	/* A CPU hint inside busy-poll loops (x86 PAUSE); OPTIONAL. */
	void (*relax)(void *opaque);

	/*
	 * --- MMIO accessors; OPTIONAL (fallback: one volatile load or store
	 * of exactly width bytes through the pointer mmio_map returned, which
	 * is what x86, Arm and RISC-V guests with ordinary device mappings
	 * need).  Provide them where device registers cannot be touched with
	 * plain loads and stores: confidential guests whose MMIO goes through
	 * a hypercall (TDX TDVMCALL, SEV-ES GHCB), or a device model in a test.
	 * addr is a pointer obtained from mmio_map (plus an offset inside the
	 * mapped range); width is 1, 2 or 4; accesses are aligned to width.
	 * pvio orders its own ring-memory stores before an MMIO store (a
	 * notification) with wmb/mb. */
	uint32_t (*mmio_read)(void *opaque, volatile void *addr, int width);
	void (*mmio_write)(void *opaque, volatile void *addr, int width,
			   uint32_t val);
};

/* The hosted Linux implementation (memfd-backed DMA memory, clock_gettime,
 * stderr logging).  Not available in the freestanding library. */
const struct pvio_platform *pvio_platform_hosted(void);

#ifdef __cplusplus
}
#endif
#endif /* PVIO_PLATFORM_H */
