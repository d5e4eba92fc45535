/* SPDX-License-Identifier: MIT */
/*
 * tests/guest/runtime.c - everything pvio's platform hooks need, for a
 * kernel with one CPU, no interrupts and identity-mapped memory: a console,
 * an exit, a clock, memory, port and PCI access.  This is what an OS vendor
 * writes to embed pvio; it is deliberately small.
 */
#include "guest.h"

#define COM1 0x3f8
#define DEBUGCON 0xe9
#define DEBUG_EXIT 0xf4

/* ---------------------------------------------------------------- console */

static int serial_ready;

static void serial_init(void)
{
	outb(COM1 + 1, 0x00); /* no interrupts */
	outb(COM1 + 3, 0x80); /* DLAB */
	outb(COM1 + 0, 0x01); /* 115200 */
	outb(COM1 + 1, 0x00);
	outb(COM1 + 3, 0x03); /* 8N1 */
	outb(COM1 + 2, 0xC7); /* FIFO */
	serial_ready = 1;
}

void con_putc(char c)
{
	if (!serial_ready)
		serial_init();
	if (c == '\n')
		con_putc('\r');
	for (int i = 0; i < 100000 && !(inb(COM1 + 5) & 0x20); i++)
		;
	outb(COM1, (uint8_t)c);
	outb(DEBUGCON, (uint8_t)c);
}

int pvio_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

void con_printf(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	pvio_vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	for (const char *p = line; *p; p++)
		con_putc(*p);
}

void guest_exit(int code)
{
	outb(DEBUG_EXIT, (uint8_t)code);
	for (;;)
		__asm__ volatile("cli; hlt");
}

/* ---------------------------------------------------------------- clock */

static uint64_t tsc_khz = 1000000; /* until calibrated: assume 1 GHz */

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

static uint16_t pit_read(void)
{
	outb(0x43, 0x00); /* latch channel 0 */
	uint8_t lo = inb(0x40);
	uint8_t hi = inb(0x40);
	return (uint16_t)(hi << 8 | lo);
}

/* Calibrate the TSC against the PIT (1.193182 MHz) counting down from
 * 0xffff in mode 2; if the PIT does not count (no PIT), keep 1 GHz. */
void guest_time_init(void)
{
	outb(0x43, 0x34); /* channel 0, lo/hi, mode 2 */
	outb(0x40, 0xff);
	outb(0x40, 0xff);
	uint16_t p0 = pit_read();
	uint64_t t0 = rdtsc();
	uint32_t ticks = 0;
	uint16_t prev = p0;
	uint64_t guard = t0;
	while (ticks < 23864) { /* ~20 ms */
		uint16_t p = pit_read();
		ticks += (uint16_t)(prev - p);
		prev = p;
		if (rdtsc() - guard > 20000000000ull)
			return; /* PIT not counting */
	}
	uint64_t dt = rdtsc() - t0;
	tsc_khz = dt * 1193182ull / ticks / 1000;
	if (!tsc_khz)
		tsc_khz = 1000000;
}

uint64_t guest_now_ns(void)
{
	uint64_t t = rdtsc();
	return t / tsc_khz * 1000000ull + (t % tsc_khz) * 1000000ull / tsc_khz;
}

uint64_t guest_tsc_khz(void)
{
	return tsc_khz;
}

/* ---------------------------------------------------------------- cmdline */

static char cmdline[2048];

/* Copy the command line out of the start info (QEMU puts it in low
 * memory, which the probe's heap may reuse later). */
void guest_runtime_init(const struct guest_start_info *si)
{
	cmdline[0] = 0;
	if (si->magic != 0x336ec578u || !si->cmdline_paddr ||
	    si->cmdline_paddr >= (64ull << 20))
		return;
	const char *c = (const char *)(uintptr_t)si->cmdline_paddr;
	size_t i = 0;
	for (; i + 1 < sizeof(cmdline) && c[i]; i++)
		cmdline[i] = c[i];
	cmdline[i] = 0;
}

const char *guest_cmdline(void)
{
	return cmdline;
}

/* ---------------------------------------------------------------- memory */

extern char __heap_start[];
static uintptr_t heap_next;
static uintptr_t heap_end = 64ull << 20; /* the guest runs with >= 128 MiB */

static void *bump(size_t size, size_t align)
{
	if (!heap_next)
		heap_next = (uintptr_t)__heap_start;
	uintptr_t p = (heap_next + align - 1) & ~(uintptr_t)(align - 1);
	if (p + size > heap_end)
		return NULL;
	heap_next = p + size;
	__builtin_memset((void *)p, 0, size);
	return (void *)p;
}

/* Bookkeeping memory: a bump allocator with a per-size free list would be
 * nicer; the probe allocates at start-up only, so freeing is a no-op. */
static void *p_alloc(void *o, size_t size)
{
	(void)o;
	return bump(size, 16);
}

static void p_free(void *o, void *p)
{
	(void)o, (void)p;
}

/* DMA memory: identity mapped, so the device address is the address. */
static uintptr_t dma_next = 64ull << 20;
static const uintptr_t dma_end = 120ull << 20;

static int p_dma_alloc(void *o, size_t len, struct pvio_dma_region *out)
{
	(void)o;
	len = (len + 4095) & ~(size_t)4095;
	if (dma_next + len > dma_end)
		return -12; /* ENOMEM */
	out->va = (void *)dma_next;
	out->dev_addr = dma_next;
	out->len = len;
	out->fd = -1;
	out->fd_offset = 0;
	__builtin_memset(out->va, 0, len);
	dma_next += len;
	return 0;
}

static void p_dma_free(void *o, const struct pvio_dma_region *r)
{
	(void)o, (void)r;
}

static uint64_t p_now(void *o)
{
	(void)o;
	return guest_now_ns();
}

static void p_log(void *o, int level, const char *msg)
{
	(void)o;
	con_printf("pvio[%d]: %s\n", level, msg);
}

static uint32_t p_in(void *o, uint16_t port, int width)
{
	(void)o;
	return width == 1 ? inb(port) : width == 2 ? inw(port) : inl(port);
}

static void p_out(void *o, uint16_t port, int width, uint32_t v)
{
	(void)o;
	if (width == 1)
		outb(port, (uint8_t)v);
	else if (width == 2)
		outw(port, (uint16_t)v);
	else
		outl(port, v);
}

static void p_relax(void *o)
{
	(void)o;
	__asm__ volatile("pause");
}

static const struct pvio_platform platform = {
	.abi_version = PVIO_PLATFORM_ABI,
	.struct_size = sizeof(struct pvio_platform),
	.alloc = p_alloc,
	.free = p_free,
	.dma_alloc = p_dma_alloc,
	.dma_free = p_dma_free,
	.port_in = p_in,
	.port_out = p_out,
	.now_ns = p_now,
	.log = p_log,
	.relax = p_relax,
	/* mmio_map: identity (NULL); pci_cfg_*: NULL -> mechanism #1 ports;
	 * barriers: NULL -> C11 fences (QEMU's devices are coherent) */
};

const struct pvio_platform *guest_platform(void)
{
	return &platform;
}

/* ---------------------------------------------------------------- libc bits
 * GCC may emit calls to these even with -ffreestanding. */
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);

/* rep movsb / stosb: one instruction for the whole range, which matters
 * under TCG (a byte loop over the 8 MiB DMA pool costs ~100 ms there) */
void *memcpy(void *d, const void *s, size_t n)
{
	void *dp = d;
	__asm__ volatile("rep movsb" : "+D"(dp), "+S"(s), "+c"(n) : : "memory");
	return d;
}

void *memmove(void *d, const void *s, size_t n)
{
	char *dp = d;
	const char *sp = s;
	if (dp < sp) {
		while (n--)
			*dp++ = *sp++;
	} else {
		while (n--)
			dp[n] = sp[n];
	}
	return d;
}

void *memset(void *d, int c, size_t n)
{
	void *dp = d;
	__asm__ volatile("rep stosb" : "+D"(dp), "+c"(n) : "a"(c) : "memory");
	return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;
	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}
