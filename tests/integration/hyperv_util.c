/* SPDX-License-Identifier: MIT */
/* tests/integration/hyperv_util.c - see hyperv_util.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hyperv_util.h"

struct tg_host hv_host;

void hv_start(const char *const *args)
{
	int r = tg_host_start(&hv_host, args);
	if (r < 0) {
		fprintf(stderr, "cannot start pvio sim hyperv (PVIO=%s): %s\n",
			getenv("PVIO") ? getenv("PVIO") : "unset",
			strerror(-r));
		abort();
	}
}

void hv_stop(void)
{
	tg_host_stop(&hv_host);
	tg_host_cleanup(&hv_host);
}

void hv_pattern(uint8_t *p, uint32_t len, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 12345u;
	for (uint32_t i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		p[i] = (uint8_t)(x >> 16);
	}
}

void hv_image(char *path, uint64_t size)
{
	strcpy(path, "/tmp/hyperv_img.XXXXXX");
	int fd = mkstemp(path);
	if (fd < 0)
		abort();
	uint8_t buf[65536];
	for (uint64_t off = 0; off < size; off += sizeof(buf)) {
		hv_pattern(buf, sizeof(buf), (uint32_t)(off >> 16) + 7);
		if (pwrite(fd, buf, sizeof(buf), (off_t)off) != sizeof(buf))
			abort();
	}
	if (ftruncate(fd, (off_t)size) < 0)
		abort();
	close(fd);
}

void hv_rm(const char *path)
{
	if (path[0])
		unlink(path);
}

pvio_ctx *hv_ctx(void)
{
	struct pvio_ctx_opts o = { .struct_size = sizeof(o),
				   .timeout_ms = HV_TIMEOUT_MS };
	pvio_ctx *ctx = NULL;
	ck_assert_int_eq(pvio_ctx_new(&o, &ctx), 0);
	return ctx;
}

const char *hv_addr(const char *dev)
{
	static char buf[4][160];
	static unsigned k;
	char *b = buf[k++ % 4];
	snprintf(b, sizeof(buf[0]), "sim-hyperv:%s/%s", hv_host.sock, dev);
	return b;
}

const char *hv_ctl(const char *fmt, ...)
{
	static char out[8192];
	char cmd[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	int r = tg_ctl(hv_host.sock, cmd, out, sizeof(out));
	ck_assert_msg(r == 0, "ctl '%s' failed (%d): %s", cmd, r, out);
	return out;
}

uint64_t hv_status_sum(const char *dev, const char *match, const char *key)
{
	const char *out = dev ? hv_ctl("status %s", dev) : hv_ctl("status");
	char k[64];
	snprintf(k, sizeof(k), " %s=", key);
	uint64_t sum = 0;
	for (const char *l = out; l && *l;) {
		const char *e = strchr(l, '\n');
		size_t n = e ? (size_t)(e - l) : strlen(l);
		char line[1024];
		if (n >= sizeof(line))
			n = sizeof(line) - 1;
		memcpy(line, l, n);
		line[n] = 0;
		const char *v = strstr(line, k);
		if (strstr(line, match) && v)
			sum += strtoull(v + strlen(k), NULL, 0);
		l = e ? e + 1 : NULL;
	}
	return sum;
}

bool hv_host_exited(void)
{
	char path[64], st[256];
	snprintf(path, sizeof(path), "/proc/%d/stat", hv_host.pid);
	for (int i = 0; i < 1000; i++) {
		FILE *f = fopen(path, "r");
		if (!f)
			return true;
		size_t n = fread(st, 1, sizeof(st) - 1, f);
		fclose(f);
		st[n] = 0;
		char *rp = strrchr(st, ')');
		if (rp && (rp[2] == 'Z' || rp[2] == 'X'))
			return true;
		usleep(10000);
	}
	return false;
}

bool hv_log_has(const char *needle)
{
	return tg_host_log_has(&hv_host, needle);
}

pvio_dev *hv_open(pvio_ctx *ctx, const char *dev, unsigned nq,
		  uint32_t max_tags, uint64_t want)
{
	pvio_dev *d = NULL;
	int r = pvio_dev_open(ctx, hv_addr(dev), &d);
	ck_assert_msg(r == 0, "open %s: %s", dev, pvio_errmsg(ctx));
	struct pvio_dev_config cfg = { .num_queues = nq, .max_tags = max_tags,
				       .want = want };
	r = pvio_dev_configure(d, &cfg);
	ck_assert_msg(r == 0, "configure %s: %s", dev, pvio_errmsg(ctx));
	return d;
}

void hv_wait(pvio_dev *dev, unsigned q)
{
	uint64_t dl = pvio_now_ns(dev->ctx) + 1000000ull * HV_TIMEOUT_MS;
	int r = pvio_dev_wait(dev, q, dl);
	ck_assert_msg(r >= 0 || r == -EIO || r == -ENODEV, "wait: %d", r);
}

int hv_blk_sync(pvio_dev *dev, unsigned q, uint8_t op, uint64_t off,
		void *buf, uint32_t len)
{
	struct pvio_dseg seg = { .va = buf, .len = len };
	if (buf)
		ck_assert_int_eq(pvio_dma_translate(dev->ctx, buf, len,
						    &seg.dev_addr),
				 0);
	struct pvio_blk_dreq rq = { .tag = 7, .op = op, .offset = off,
				    .len = op == PVIO_BLK_OP_FLUSH ? 0 : len,
				    .nseg = buf ? 1 : 0, .seg = &seg };
	int r = dev->ops->blk->enqueue(dev, q, &rq);
	if (r < 0)
		return r;
	dev->ops->blk->kick(dev, q);
	uint64_t end = pvio_now_ns(dev->ctx) + 2000000ull * HV_TIMEOUT_MS;
	for (;;) {
		struct pvio_blk_dcomp c;
		int n = dev->ops->blk->reap(dev, q, &c, 1);
		if (n < 0)
			return n;
		if (n == 1) {
			ck_assert_uint_eq(c.tag, 7);
			return c.status;
		}
		ck_assert_msg(pvio_now_ns(dev->ctx) < end,
			      "no completion within the bound");
		hv_wait(dev, q);
	}
}

/* ---------------------------------------------------------------- frames */
static uint64_t sum16(const uint8_t *p, uint32_t len, uint64_t acc)
{
	for (uint32_t i = 0; i < len; i++)
		acc += i & 1 ? p[i] : (uint32_t)p[i] << 8;
	return acc;
}

static uint16_t fold(uint64_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xFFFF) + (acc >> 16);
	return (uint16_t)acc;
}

static void be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

uint32_t hv_l4_off(const struct hv_flow *fl)
{
	return 14u + (fl->v6 ? 40u : 20u);
}

uint32_t hv_csum_off(const struct hv_flow *fl)
{
	return hv_l4_off(fl) + (fl->udp ? 6u : 16u);
}

/* pseudo-header sum of the IP header at ip */
static uint64_t pseudo(const uint8_t *ip, bool v6, uint8_t proto,
		       uint32_t l4len)
{
	uint64_t acc = v6 ? sum16(ip + 8, 32, 0) : sum16(ip + 12, 8, 0);
	return acc + proto + l4len;
}

uint32_t hv_frame(uint8_t *f, const struct hv_flow *fl, uint32_t payload,
		  uint32_t seed, bool partial)
{
	uint32_t l3 = 14, l4 = hv_l4_off(fl);
	uint32_t l4h = fl->udp ? 8u : 20u;
	uint32_t len = l4 + l4h + payload;
	memset(f, 0, l4 + l4h);
	memcpy(f, fl->dst, 6);
	memcpy(f + 6, fl->src, 6);
	uint8_t proto = fl->udp ? 17 : 6;
	if (fl->v6) {
		be16(f + 12, 0x86DD);
		f[l3] = 0x60;
		be16(f + l3 + 4, (uint16_t)(l4h + payload));
		f[l3 + 6] = proto;
		f[l3 + 7] = 64;
		for (int i = 0; i < 16; i++) {
			f[l3 + 8 + i] = (uint8_t)(0x20 + i);
			f[l3 + 24 + i] = (uint8_t)(0x40 + i);
		}
	} else {
		be16(f + 12, 0x0800);
		f[l3] = 0x45;
		be16(f + l3 + 2, (uint16_t)(20 + l4h + payload));
		be16(f + l3 + 4, (uint16_t)(0x1000 + seed));
		f[l3 + 8] = 64;
		f[l3 + 9] = proto;
		uint8_t ips[8] = { 10, 0, 0, 1, 10, 0, 0, 2 };
		memcpy(f + l3 + 12, ips, 8);
		be16(f + l3 + 10, (uint16_t)~fold(sum16(f + l3, 20, 0)));
	}
	be16(f + l4, fl->sport);
	be16(f + l4 + 2, fl->dport);
	if (fl->udp) {
		be16(f + l4 + 4, (uint16_t)(8 + payload));
	} else {
		uint32_t s = fl->seq;
		f[l4 + 4] = (uint8_t)(s >> 24);
		f[l4 + 5] = (uint8_t)(s >> 16);
		f[l4 + 6] = (uint8_t)(s >> 8);
		f[l4 + 7] = (uint8_t)s;
		f[l4 + 12] = 5 << 4;
		f[l4 + 13] = 0x18; /* PSH ACK */
		be16(f + l4 + 14, 65535);
	}
	hv_pattern(f + l4 + l4h, payload, seed);
	uint32_t field = l4 + (fl->udp ? 6u : 16u);
	uint64_t ps = pseudo(f + l3, fl->v6, proto, l4h + payload);
	if (partial) {
		be16(f + field, fold(ps)); /* not complemented */
	} else {
		uint16_t c = (uint16_t)~fold(sum16(f + l4, l4h + payload, ps));
		if (fl->udp && !c)
			c = 0xFFFF;
		be16(f + field, c);
	}
	return len;
}

bool hv_frame_csum_ok(const uint8_t *f, uint32_t len)
{
	if (len < 14)
		return false;
	uint16_t et = rd16(f + 12);
	const uint8_t *ip = f + 14;
	uint32_t l4, end;
	uint8_t proto;
	bool v6 = et == 0x86DD;
	if (et == 0x0800) {
		uint32_t ihl = (ip[0] & 0xF) * 4u;
		if (len < 14 + ihl || fold(sum16(ip, ihl, 0)) != 0xFFFF)
			return false;
		l4 = 14 + ihl;
		end = 14 + rd16(ip + 2);
		proto = ip[9];
	} else if (v6) {
		l4 = 54;
		end = 54 + rd16(ip + 4);
		proto = ip[6];
	} else {
		return false;
	}
	if (end > len || end < l4 + 8)
		return false;
	uint64_t acc = pseudo(ip, v6, proto, end - l4);
	return fold(sum16(f + l4, end - l4, acc)) == 0xFFFF;
}
