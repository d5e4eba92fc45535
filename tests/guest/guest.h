/* SPDX-License-Identifier: MIT */
/* tests/guest/guest.h - the probe guest's tiny runtime. */
#ifndef PVIO_GUEST_H
#define PVIO_GUEST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <pvio/platform.h>

/* PVH start info (Xen's public arch-x86/hvm/start_info.h layout) */
struct guest_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;
	uint32_t memmap_entries;
	uint32_t reserved;
};

void guest_main(uint32_t start_info);

/* console: COM1 and QEMU's debugcon (port 0xe9) */
void con_putc(char c);
void con_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* leave QEMU through isa-debug-exit (iobase 0xf4): exit status (code<<1)|1 */
__attribute__((noreturn)) void guest_exit(int code);

/* port I/O */
static inline void outb(uint16_t p, uint8_t v) { __asm__ volatile("outb %0,%1" ::"a"(v), "Nd"(p)); }
static inline void outw(uint16_t p, uint16_t v) { __asm__ volatile("outw %0,%1" ::"a"(v), "Nd"(p)); }
static inline void outl(uint16_t p, uint32_t v) { __asm__ volatile("outl %0,%1" ::"a"(v), "Nd"(p)); }
static inline uint8_t inb(uint16_t p) { uint8_t v; __asm__ volatile("inb %1,%0" : "=a"(v) : "Nd"(p)); return v; }
static inline uint16_t inw(uint16_t p) { uint16_t v; __asm__ volatile("inw %1,%0" : "=a"(v) : "Nd"(p)); return v; }
static inline uint32_t inl(uint16_t p) { uint32_t v; __asm__ volatile("inl %1,%0" : "=a"(v) : "Nd"(p)); return v; }

/* the pvio platform of this guest (bump allocators, TSC clock, ports) */
const struct pvio_platform *guest_platform(void);
uint64_t guest_now_ns(void);
void guest_time_init(void);
/* The kernel command line from the PVH start info ("" if none); set up by
 * guest_runtime_init(). */
void guest_runtime_init(const struct guest_start_info *si);
const char *guest_cmdline(void);
/* TSC ticks per millisecond (calibrated) and ns since the CPU's reset
 * (QEMU starts the TSC at 0), for boot timing. */
uint64_t guest_tsc_khz(void);

/* ---- the probe (probe.c, probe_blk.c, probe_net.c) ---- */

/* A result line "PVIO-GUEST key value". */
void res(const char *key, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A failure: "PVIO-GUEST fail what: why"; the run's result becomes fail. */
void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "key=value" from the command line into buf: 1 found, 0 not. */
int cmdline_get(const char *key, char *buf, size_t size);
/* ms.us since the CPU's reset, for "first I/O" lines */
void res_time(const char *key, uint64_t ns);

struct pvio_ctx;
struct probe_blk_args {
	const char *address;
	uint64_t sectors;   /* expected capacity in sectors, 0: unknown */
	int bench;          /* also measure throughput */
	int first;          /* the first device the guest touches */
};
void probe_blk(struct pvio_ctx *ctx, const struct probe_blk_args *a);
struct probe_net_args {
	const char *address;
	const char *mac;    /* expected MAC ("52:54:..."), NULL: any */
	int bench;
	int pings;
};
void probe_net(struct pvio_ctx *ctx, const struct probe_net_args *a);

#endif
