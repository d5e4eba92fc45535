/* SPDX-License-Identifier: MIT */
/*
 * tests/guest/probe.c - pvio's probe guest: find the virtio block and
 * network devices, run the block and network checks through pvio's front
 * ends, report "PVIO-GUEST key value" lines and leave through
 * isa-debug-exit (code 0 when every check passed, 1 when one failed).
 *
 * Devices come from the kernel command line, as `pvio virt probe` and the
 * test suite pass them:
 *   pvio.blk=ADDRESS pvio.blk.sectors=N pvio.net=ADDRESS pvio.mac=MAC
 *   pvio.bench=1 (also measure throughput)  pvio.pings=N
 * or, without pvio.blk/pvio.net, from discovery: the virtio functions on
 * PCI bus 0 (q35), else the virtio-mmio windows QEMU lists on the command
 * line (virtio_mmio.device=SIZE@ADDR:IRQ, microvm) or that answer with the
 * virtio-mmio magic in the 512-byte slots from 0xfeb00000.  pvio.blk=none
 * or pvio.net=none skips a check.
 */
#include "guest.h"

#include <pvio/pvio.h>
#include <pvio/transport.h>

static int failed;

void res(const char *key, const char *fmt, ...)
{
	char v[400];
	va_list ap;
	va_start(ap, fmt);
	pvio_vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	con_printf("PVIO-GUEST %s %s\n", key, v);
	if (!pvio_strncmp(v, "FAIL", 4))
		failed = 1;
}

void fail(const char *fmt, ...)
{
	char v[400];
	va_list ap;
	va_start(ap, fmt);
	pvio_vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	con_printf("PVIO-GUEST fail %s\n", v);
	failed = 1;
}

void res_time(const char *key, uint64_t ns)
{
	res(key, "%llu.%03llu", (unsigned long long)(ns / 1000000),
	    (unsigned long long)(ns / 1000 % 1000));
}

int cmdline_get(const char *key, char *buf, size_t size)
{
	const char *c = guest_cmdline();
	size_t kl = pvio_strlen(key);
	while (*c) {
		while (*c == ' ')
			c++;
		const char *w = c;
		while (*c && *c != ' ')
			c++;
		if ((size_t)(c - w) > kl && !pvio_strncmp(w, key, kl) && w[kl] == '=') {
			size_t n = (size_t)(c - w) - kl - 1;
			if (n >= size)
				n = size - 1;
			memcpy(buf, w + kl + 1, n);
			buf[n] = 0;
			return 1;
		}
	}
	return 0;
}

static uint64_t cmdline_u64(const char *key, uint64_t dflt)
{
	char b[32];
	uint64_t v;
	if (cmdline_get(key, b, sizeof(b)) && pvio_parse_u64(b, UINT64_MAX, &v) == 0)
		return v;
	return dflt;
}

/* ---------------------------------------------------------------- discovery */

struct found {
	char blk[48], net[48];
};

static uint32_t pci_rd32(unsigned dev, unsigned fn, unsigned off)
{
	outl(0xcf8, 0x80000000u | dev << 11 | fn << 8 | (off & 0xfc));
	return inl(0xcfc);
}

static void scan_pci(struct found *f)
{
	for (unsigned d = 0; d < 32; d++) {
		for (unsigned fn = 0; fn < 8; fn++) {
			uint32_t id = pci_rd32(d, fn, 0);
			if ((id & 0xffff) == 0xffff) {
				if (fn == 0)
					break;
				continue;
			}
			unsigned vendor = id & 0xffff, dev = id >> 16, type = 0;
			if (vendor == 0x1af4 && dev >= 0x1040 && dev <= 0x107f)
				type = dev - 0x1040;
			else if (vendor == 0x1af4 && dev >= 0x1000 && dev <= 0x103f)
				type = pci_rd32(d, fn, 0x2c) >> 16;
			char *slot = type == 2 ? f->blk : type == 1 ? f->net : NULL;
			if (slot && !slot[0])
				pvio_snprintf(slot, sizeof(f->blk),
					      "virtio-pci:00:%02x.%x", d, fn);
			if (fn == 0 && !(pci_rd32(d, 0, 0xc) & 0x800000))
				break; /* not multi-function */
		}
	}
}

static void mmio_slot(struct found *f, uint64_t pa)
{
	volatile uint32_t *r = (volatile uint32_t *)(uintptr_t)pa;
	if (r[0] != 0x74726976u)
		return;
	uint32_t id = r[2];
	char *slot = id == 2 ? f->blk : id == 1 ? f->net : NULL;
	if (slot && !slot[0])
		pvio_snprintf(slot, sizeof(f->blk), "virtio-mmio:0x%llx",
			      (unsigned long long)pa);
}

static void scan_mmio(struct found *f)
{
	/* virtio_mmio.device=512@0xfeb00e00:12 entries first */
	const char *c = guest_cmdline();
	static const char key[] = "virtio_mmio.device=";
	for (const char *p = c; *p; p++) {
		if (pvio_strncmp(p, key, sizeof(key) - 1))
			continue;
		const char *at = pvio_strchr(p, '@');
		if (!at)
			break;
		char num[24];
		size_t n = 0;
		for (const char *q = at + 1; *q && *q != ':' && *q != ' ' && n < 23; q++)
			num[n++] = *q;
		num[n] = 0;
		uint64_t pa;
		if (pvio_parse_u64(num, 0xffffffffull, &pa) == 0 && !(pa & 0x1ff))
			mmio_slot(f, pa);
	}
	for (unsigned i = 0; i < 32 && (!f->blk[0] || !f->net[0]); i++)
		mmio_slot(f, 0xfeb00000ull + 0x200ull * i);
}

static int have_pci(void)
{
	/* a host bridge at 00:00.0 answers mechanism #1 */
	return (pci_rd32(0, 0, 0) & 0xffff) != 0xffff;
}

/* ---------------------------------------------------------------- main */

void guest_main(uint32_t si)
{
	guest_time_init();
	uint64_t t_entry = guest_now_ns();
	const struct guest_start_info *info = (const void *)(uintptr_t)si;
	guest_runtime_init(info);
	/* the skeleton's first two lines, which `pvio virt probe`'s tests
	 * look for */
	res("hello", "magic=%x version=%u", info->magic, info->version);
	res("boot", "pvh cmdline=\"%s\"", guest_cmdline());
	res("tsc_khz", "%llu", (unsigned long long)guest_tsc_khz());
	res_time("boot.entry_ms", t_entry);

	int bench = (int)cmdline_u64("pvio.bench", 0);
	pvio_ctx *ctx;
	struct pvio_ctx_opts o = {
		.struct_size = sizeof(o),
		.platform = guest_platform(),
		/* the benchmarks keep 32 x 64 KiB in flight */
		.dma_pool_size = bench ? 40u << 20 : 8u << 20,
		.log_level = PVIO_LOG_WARN,
		.timeout_ms = 5000,
	};
	int r = pvio_ctx_new(&o, &ctx);
	if (r < 0) {
		fail("context: %s", pvio_strerror(r));
		res("result", "fail");
		guest_exit(1);
	}
	res("ctx", "%d now=%llu", r, (unsigned long long)guest_now_ns());
	res("backends", "%s", pvio_backend_list());

	struct found f;
	memset(&f, 0, sizeof(f));
	cmdline_get("pvio.blk", f.blk, sizeof(f.blk));
	cmdline_get("pvio.net", f.net, sizeof(f.net));
	if (!f.blk[0] || !f.net[0]) {
		struct found d;
		memset(&d, 0, sizeof(d));
		if (have_pci())
			scan_pci(&d);
		if (!d.blk[0] && !d.net[0])
			scan_mmio(&d);
		res("discovery", "%s blk=%s net=%s", have_pci() ? "pci" : "mmio",
		    d.blk[0] ? d.blk : "-", d.net[0] ? d.net : "-");
		if (!f.blk[0])
			pvio_strlcpy(f.blk, d.blk, sizeof(f.blk));
		if (!f.net[0])
			pvio_strlcpy(f.net, d.net, sizeof(f.net));
	}
	if (!f.blk[0] && !f.net[0])
		fail("no virtio block or network device found");

	if (f.blk[0] && pvio_strcmp(f.blk, "none")) {
		struct probe_blk_args a = {
			.address = f.blk,
			.sectors = cmdline_u64("pvio.blk.sectors", 0),
			.bench = bench,
			.first = 1,
		};
		probe_blk(ctx, &a);
	}
	if (f.net[0] && pvio_strcmp(f.net, "none")) {
		char mac[24];
		struct probe_net_args a = {
			.address = f.net,
			.mac = cmdline_get("pvio.mac", mac, sizeof(mac)) ? mac : NULL,
			.bench = bench,
			.pings = (int)cmdline_u64("pvio.pings", 8),
		};
		probe_net(ctx, &a);
	}
	pvio_ctx_free(ctx);
	res_time("end_ms", guest_now_ns());
	res("result", "%s", failed ? "fail" : "ok");
	guest_exit(failed ? 1 : 0);
}
