/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_core.c - core's string helpers and every back end's
 * address parser.
 *
 * The first byte picks a target:
 *   0  pvio_parse_u64 against a reference parser written here
 *   1  pvio_opt_get against a reference splitter written here
 *   2  pvio_snprintf: one conversion of the documented subset (flags - and
 *      0, width digits or *, l/ll/z/h/hh, precision for %s) against the C
 *      library, into buffers of every size (exact-size, so ASan sees an
 *      overrun)
 *   3  pvio_dev_open with a fuzzed address for each registered scheme
 *      (sockets always under a directory that does not exist, so nothing
 *      real is ever reached) and xen_parse_device directly
 */
#include "fuzz.h"

#include <limits.h>

#include <pvio/platform.h>
#include <pvio/transport.h>

#include "backends/xen/xen.h"

/* the formats of target 2 are built at run time, on purpose */
#pragma GCC diagnostic ignored "-Wformat-nonliteral"

/* ---------------------------------------------------------------- 0 */

/* What pvio_parse_u64 promises: decimal, or 0x/0X hex, whole string,
 * within [0, max]. */
static int ref_parse(const char *s, uint64_t max, uint64_t *out)
{
	unsigned base = 10;
	size_t i = 0;
	if (!*s)
		return -EINVAL;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
		if (!s[i])
			return -EINVAL;
	}
	unsigned __int128 v = 0;
	bool big = false;
	for (; s[i]; i++) {
		char c = s[i];
		unsigned d;
		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return -EINVAL;
		if (!big) {
			v = v * base + d;
			if (v > UINT64_MAX)
				big = true;
		}
	}
	if (big || v > max)
		return -ERANGE;
	*out = (uint64_t)v;
	return 0;
}

static void t_parse(struct fz *f)
{
	char s[48];
	uint64_t max = fz_bool(f) ? UINT64_MAX : fz_u64(f);
	fz_str(f, s, sizeof(s));
	uint64_t a = 0xdeadbeef, b = 0xdeadbeef;
	int ra = pvio_parse_u64(s, max, &a);
	int rb = ref_parse(s, max, &b);
	FZ_ASSERT(ra == rb, "pvio_parse_u64(\"%s\", %llu) = %d, expected %d", s,
		  (unsigned long long)max, ra, rb);
	if (ra == 0) {
		FZ_ASSERT(a == b && a <= max, "pvio_parse_u64(\"%s\") = %llu, "
			  "expected %llu", s, (unsigned long long)a,
			  (unsigned long long)b);
	} else {
		FZ_ASSERT(a == 0xdeadbeef, "pvio_parse_u64 wrote its output on "
			  "failure");
	}
}

/* ---------------------------------------------------------------- 1 */

static int ref_opt(const char *opts, const char *key, char *buf, size_t size)
{
	size_t klen = strlen(key);
	const char *p = opts;
	while (*p) {
		const char *end = strchr(p, '&');
		if (!end)
			end = p + strlen(p);
		size_t seg = (size_t)(end - p);
		if (seg > klen && !memcmp(p, key, klen) && p[klen] == '=') {
			size_t vlen = seg - klen - 1;
			if (vlen + 1 > size)
				return -ENAMETOOLONG;
			memcpy(buf, p + klen + 1, vlen);
			buf[vlen] = 0;
			return 1;
		}
		p = *end ? end + 1 : end;
	}
	return 0;
}

static void t_opt(struct fz *f)
{
	char opts[200], key[40];
	fz_str(f, key, sizeof(key));
	fz_str(f, opts, sizeof(opts));
	size_t size = fz_below(f, 40) + 1;
	char *a = malloc(size), ref[256];
	FZ_ASSERT(a, "malloc");
	int ra = pvio_opt_get(opts, key, a, size);
	int rb = ref_opt(opts, key, ref, size);
	FZ_ASSERT(ra == rb, "pvio_opt_get(\"%s\", \"%s\", %zu) = %d, expected %d",
		  opts, key, size, ra, rb);
	if (ra == 1)
		FZ_ASSERT(!strcmp(a, ref), "pvio_opt_get value \"%s\", expected "
			  "\"%s\"", a, ref);
	FZ_ASSERT(pvio_opt_get(NULL, key, a, size) == 0, "NULL options");
	free(a);
}

/* ---------------------------------------------------------------- 2 */

enum argk { A_INT, A_LONG, A_LLONG, A_SIZE, A_STR, A_PTR, A_NONE };

/* Call fn with up to two leading int arguments (for '*') and one value of
 * kind k. */
#define CALL_K(fn, buf, size, fmt, nstar, s1, s2, k, iv, sv)                  \
	((k) == A_NONE ? CALL_S(fn, buf, size, fmt, nstar, s1, s2, 0)          \
	 : (k) == A_INT ? CALL_S(fn, buf, size, fmt, nstar, s1, s2, (int)(iv)) \
	 : (k) == A_LONG ? CALL_S(fn, buf, size, fmt, nstar, s1, s2,           \
				  (long)(iv))                                  \
	 : (k) == A_LLONG ? CALL_S(fn, buf, size, fmt, nstar, s1, s2,          \
				   (long long)(iv))                            \
	 : (k) == A_SIZE ? CALL_S(fn, buf, size, fmt, nstar, s1, s2,           \
				  (size_t)(iv))                                \
	 : (k) == A_STR ? CALL_S(fn, buf, size, fmt, nstar, s1, s2, (sv))      \
			: CALL_S(fn, buf, size, fmt, nstar, s1, s2,            \
				 (void *)(uintptr_t)(iv)))
#define CALL_S(fn, buf, size, fmt, nstar, s1, s2, v)                          \
	((nstar) == 0	? fn(buf, size, fmt, v)                                \
	 : (nstar) == 1 ? fn(buf, size, fmt, s1, v)                            \
			: fn(buf, size, fmt, s1, s2, v))

static int vfmt(int (*fn)(char *, size_t, const char *, va_list), char *buf,
		size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = fn(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

static int pv(char *b, size_t n, const char *f, va_list ap)
{
	return pvio_vsnprintf(b, n, f, ap);
}

static int lc(char *b, size_t n, const char *f, va_list ap)
{
	return vsnprintf(b, n, f, ap);
}

#define PV(b, n, f, ...) vfmt(pv, b, n, f, __VA_ARGS__)
#define LC(b, n, f, ...) vfmt(lc, b, n, f, __VA_ARGS__)

static void t_fmt(struct fz *f)
{
	static const char convs[] = "diuxXscp%";
	char fmt[128], lit1[24], lit2[24], str[48];
	uint8_t sel = fz_u8(f), fl = fz_u8(f);
	char conv = convs[sel % (sizeof(convs) - 1)];
	unsigned lenmod = (sel >> 4) % 6; /* none l ll z h hh */
	bool star_w = fl & 1, star_p = fl & 2, left = fl & 4, zero = fl & 8;
	bool has_w = fl & 16, has_p = fl & 32;
	int w = (int)fz_below(f, 8193) - 4096, prec = (int)fz_below(f, 8193) - 4096;
	if (!star_w)
		w = (int)(fz_u32(f) & 0x7fffffff);
	if (!star_p)
		prec = (int)(fz_u32(f) & 0x7fffffff);
	uint64_t iv = fz_u64(f);
	fz_str(f, lit1, sizeof(lit1));
	fz_str(f, lit2, sizeof(lit2));
	fz_str(f, str, sizeof(str));
	size_t size = fz_below(f, 300);
	/* literal text has no conversions of its own */
	for (char *p = lit1; *p; p++)
		if (*p == '%')
			*p = '_';
	for (char *p = lit2; *p; p++)
		if (*p == '%')
			*p = '_';

	/* the documented subset only */
	if (conv == '%' || conv == 'p') {
		left = zero = has_w = has_p = false;
		lenmod = 0;
	}
	if (conv == 's' || conv == 'c') {
		zero = false;
		lenmod = 0;
	}
	if (conv != 's')
		has_p = false; /* precision is for strings */
	if (left)
		zero = false; /* C ignores 0 with - */
	if (!has_w)
		star_w = false;
	if (!has_p)
		star_p = false;
	/* widths a C library prints (it gives up past INT_MAX) */
	if (has_w && !star_w && w > 4096)
		w %= 4097;
	if (has_p && !star_p && prec > 4096)
		prec %= 4097;

	int n = snprintf(fmt, sizeof(fmt), "%s%%%s%s", lit1, left ? "-" : "",
			 zero ? "0" : "");
	if (has_w)
		n += star_w ? snprintf(fmt + n, sizeof(fmt) - (size_t)n, "*")
			    : snprintf(fmt + n, sizeof(fmt) - (size_t)n, "%d", w);
	if (has_p)
		n += star_p ? snprintf(fmt + n, sizeof(fmt) - (size_t)n, ".*")
			    : snprintf(fmt + n, sizeof(fmt) - (size_t)n, ".%d",
				       prec);
	static const char *const mods[] = { "", "l", "ll", "z", "h", "hh" };
	snprintf(fmt + n, sizeof(fmt) - (size_t)n, "%s%c%s", mods[lenmod], conv,
		 lit2);

	enum argk k;
	if (conv == '%')
		k = A_NONE;
	else if (conv == 's')
		k = A_STR;
	else if (conv == 'p')
		k = A_PTR;
	else if (lenmod == 1)
		k = A_LONG;
	else if (lenmod == 2)
		k = A_LLONG;
	else if (lenmod == 3)
		k = A_SIZE;
	else
		k = A_INT;
	if (conv == 'c')
		iv = (uint8_t)iv ? (uint8_t)iv : 'x'; /* no NUL in the middle */
	int nstar = 0, s1 = 0, s2 = 0;
	if (star_w)
		s1 = w, nstar = 1;
	if (star_p) {
		if (nstar)
			s2 = prec;
		else
			s1 = prec;
		nstar++;
	}

	char big[16384];
	int rl = CALL_K(LC, big, sizeof(big), fmt, nstar, s1, s2, k, iv, str);
	if (rl < 0 || rl >= (int)sizeof(big))
		return; /* the C library could not, or too long to compare */
	if (conv == 'p' && !iv)
		return; /* glibc writes (nil) */

	char *buf = size ? malloc(size) : NULL;
	if (size)
		FZ_ASSERT(buf, "malloc");
	int rp = CALL_K(PV, buf, size, fmt, nstar, s1, s2, k, iv, str);
	FZ_ASSERT(rp == rl, "pvio_snprintf(\"%s\") returned %d, C says %d "
		  "(\"%s\")", fmt, rp, rl, big);
	if (size) {
		size_t c = (size_t)rl < size - 1 ? (size_t)rl : size - 1;
		FZ_ASSERT(!memcmp(buf, big, c) && buf[c] == '\0',
			  "pvio_snprintf(\"%s\", size %zu) wrote \"%.*s\", C "
			  "\"%.*s\"", fmt, size, (int)c, buf, (int)c, big);
	}
	free(buf);
}

/* ---------------------------------------------------------------- 3 */

/* No device anywhere: PCI config space and MMIO read all ones. */
static uint8_t nodev_page[4096];

static void *nodev_map(void *o, uint64_t pa, size_t len)
{
	(void)o, (void)pa;
	return len <= sizeof(nodev_page) ? nodev_page : NULL;
}

static int nodev_cfg_read(void *o, uint16_t bdf, uint16_t off, int width,
			  uint32_t *val)
{
	(void)o, (void)bdf, (void)off, (void)width;
	*val = 0xffffffffu;
	return 0;
}

static int nodev_cfg_write(void *o, uint16_t bdf, uint16_t off, int width,
			   uint32_t val)
{
	(void)o, (void)bdf, (void)off, (void)width, (void)val;
	return 0;
}

static uint32_t nodev_read(void *o, volatile void *addr, int width)
{
	(void)o, (void)addr, (void)width;
	return 0xffffffffu;
}

static void nodev_write(void *o, volatile void *addr, int width, uint32_t v)
{
	(void)o, (void)addr, (void)width, (void)v;
}

static const struct pvio_platform nodev = {
	.mmio_map = nodev_map,
	.pci_cfg_read = nodev_cfg_read,
	.pci_cfg_write = nodev_cfg_write,
	.mmio_read = nodev_read,
	.mmio_write = nodev_write,
};

static void t_addr(struct fz *f)
{
	char rest[160], addr[256];
	unsigned nb = 0;
	while (pvio_backends[nb])
		nb++;
	unsigned which = fz_below(f, nb + 1);
	fz_str(f, rest, sizeof(rest));

	if (which == nb) {
		/* the Xen device spec: vbd/N?opts, vif/N?opts */
		char type[4] = "";
		uint32_t devid = 0;
		struct xen_opts o;
		pvio_ctx *ctx = fz_ctx(1 << 16, 100);
		int r = xen_parse_device(ctx, rest, type, &devid, &o);
		if (r == 0) {
			FZ_ASSERT(!strcmp(type, "vbd") || !strcmp(type, "vif"),
				  "type \"%s\" from \"%s\"", type, rest);
			FZ_ASSERT(o.queues <= 64 && o.ring_order <= 4 &&
				  o.indirect <= 4096,
				  "options out of range from \"%s\"", rest);
		} else {
			FZ_ASSERT(r == -EINVAL && *pvio_errmsg(ctx),
				  "xen_parse_device(\"%s\") = %d without a "
				  "message", rest, r);
		}
		fz_ctx_free(ctx);
		return;
	}

	const struct pvio_backend *be = pvio_backends[which];
	bool sock = !strcmp(be->scheme, "vhost-user") ||
		    !strcmp(be->scheme, "sim-xen") ||
		    !strcmp(be->scheme, "sim-hyperv");
	bool hw = !strcmp(be->scheme, "virtio-pci") ||
		  !strcmp(be->scheme, "virtio-mmio");
	/* a socket path is always inside a directory that does not exist */
	snprintf(addr, sizeof(addr), "%s:%s%s", be->scheme,
		 sock ? "/nonexistent-pvio-fuzz/" : "", rest);
	pvio_ctx *ctx;
	if (hw) {
		/* no device behind the fuzz platform: open must stop there */
		ctx = fz_ctx_hooks(1 << 16, 100, &nodev, NULL);
	} else {
		struct pvio_ctx_opts o = { .struct_size = sizeof(o),
					   .dma_pool_size = 1 << 16,
					   .log_level = PVIO_LOG_ERROR,
					   .timeout_ms = 100 };
		if (pvio_ctx_new(&o, &ctx) < 0)
			abort();
	}
	pvio_dev *dev = NULL;
	int r = pvio_dev_open(ctx, addr, &dev);
	FZ_ASSERT(r < 0, "opened '%s'", addr);
	FZ_ASSERT(dev == NULL, "a failed open left a device");
	/* a message saying what failed (it may quote the address, whatever
	 * characters that has) */
	const char *m = pvio_errmsg(ctx);
	FZ_ASSERT(*m && strlen(m) < 256,
		  "pvio_dev_open('%s') = %d with message '%s'", addr, r, m);
	if (hw)
		fz_ctx_free(ctx);
	else
		pvio_ctx_free(ctx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	switch (fz_u8(&f) % 4) {
	case 0:
		t_parse(&f);
		break;
	case 1:
		t_opt(&f);
		break;
	case 2:
		t_fmt(&f);
		break;
	default:
		t_addr(&f);
		break;
	}
	return 0;
}

void fz_seeds(fz_emit_fn emit, void *arg)
{
	struct fzb b = { 0 };
	static const char *const nums[] = { "0", "42", "0x1f", "0XABCDEF",
		"18446744073709551615", "18446744073709551616", "0x", "",
		"12a", "0xffffffffffffffff", "007" };
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		char name[32];
		fzb_u8(&b, 0);
		fzb_u8(&b, i & 1);
		fzb_u64(&b, 1000);
		fzb_str(&b, nums[i]);
		snprintf(name, sizeof(name), "parse-%zu", i);
		fzb_emit(&b, emit, arg, name);
	}
	static const char *const opts[][2] = {
		{ "queues", "queues=4&size=256" }, { "size", "queues=4&size=256" },
		{ "a", "a=&b=c" }, { "", "=x" }, { "class", "classy=1&class=net" },
	};
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		char name[32];
		fzb_u8(&b, 1);
		fzb_str(&b, opts[i][0]);
		fzb_str(&b, opts[i][1]);
		fzb_u8(&b, (uint8_t)(3 + i * 7));
		snprintf(name, sizeof(name), "opt-%zu", i);
		fzb_emit(&b, emit, arg, name);
	}
	for (unsigned i = 0; i < 12; i++) {
		char name[32];
		fzb_u8(&b, 2);
		fzb_u8(&b, (uint8_t)(i | (i % 6) << 4));
		fzb_u8(&b, (uint8_t)(i * 13));
		fzb_u16(&b, 4096 + 5);
		fzb_u16(&b, 4096 + 3);
		fzb_u32(&b, 7);
		fzb_u32(&b, 2);
		fzb_u64(&b, 0x1234567890abcdefull * i);
		fzb_str(&b, "pre ");
		fzb_str(&b, " post");
		fzb_str(&b, "string");
		fzb_u8(&b, (uint8_t)(i * 9));
		snprintf(name, sizeof(name), "fmt-%u", i);
		fzb_emit(&b, emit, arg, name);
	}
	static const char *const addrs[] = {
		"x.sock?class=blk&queues=2&packed=off&size=64",
		"x.sock/vbd/51712?persistent=0&queues=2",
		"x.sock/netvsc0?queues=2",
		"00:03.0?packed=on&size=256&queues=2",
		"0xfeb00000?packed=off",
		"f8615163-df3e-46c5-913f-f2d2f965ed0e?iova=va",
		"vbd/51712?ring-order=2&indirect=64&copy=1",
		"vif/0?split=0&queues=4",
	};
	for (unsigned s = 0; s < 8; s++)
		for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
			char name[32];
			fzb_u8(&b, 3);
			fzb_u8(&b, (uint8_t)s);
			fzb_str(&b, addrs[i]);
			snprintf(name, sizeof(name), "addr-%u-%zu", s, i);
			fzb_emit(&b, emit, arg, name);
		}
	fzb_free(&b);
}
