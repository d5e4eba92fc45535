/* SPDX-License-Identifier: MIT */
/*
 * tests/guest/probe_blk.c - the probe guest's block checks, through
 * pvio_blk_* exactly as an application uses them.
 *
 * The test disk follows `pvio virt probe`'s convention: every 512-byte
 * sector n starts with "PVIOSECT" and n as a 64-bit little-endian number.
 * The checks: read and verify every sector; write a pattern of our own to
 * sectors [1024, 1152), read it back; flush; discard [2048, 2112); write
 * zeroes to [3072, 3136); 32 reads in flight at once.  The host checks the
 * image file afterwards (tests/integration/guest_qemu.sh).  With
 * pvio.bench=1: sequential read and write throughput in 64 KiB requests,
 * one and 32 in flight.
 */
#include "guest.h"

#include <pvio/pvio.h>
#include <pvio/transport.h>

#define W0 1024u
#define WN 128u
#define D0 2048u
#define DN 64u
#define Z0 3072u
#define ZN 64u
#define CHUNK (64u << 10)
#define DEPTH 32u

static uint8_t pattern(uint64_t s, unsigned j)
{
	return (uint8_t)(s * 31u + j * 7u + 0x5au);
}

static void fill_pattern(uint8_t *p, uint64_t s)
{
	for (unsigned j = 0; j < 512; j++)
		p[j] = pattern(s, j);
	memcpy(p, "PVIOGST!", 8);
	for (unsigned i = 0; i < 8; i++)
		p[8 + i] = (uint8_t)(s >> (8 * i));
}

/* "PVIOSECT" + n; 0 or the first bad sector + 1 */
static int check_orig(const uint8_t *p, uint64_t s)
{
	if (memcmp(p, "PVIOSECT", 8))
		return -1;
	for (unsigned i = 0; i < 8; i++)
		if (p[8 + i] != (uint8_t)(s >> (8 * i)))
			return -1;
	return 0;
}

static uint64_t rate_kib(uint64_t bytes, uint64_t ns)
{
	return ns ? bytes * 1000000000ull / 1024 / ns : 0;
}

static void bench(pvio_blk *b, uint8_t *buf, uint64_t cap, int write,
		  unsigned depth)
{
	pvio_ctx *ctx = pvio_blk_ctx(b);
	uint64_t total = cap < (64ull << 20) ? cap : (64ull << 20);
	total -= total % CHUNK;
	if (!total)
		return;
	uint64_t next = 0, done = 0, t0 = pvio_now_ns(ctx);
	unsigned inflight = 0;
	struct pvio_blk_completion c[DEPTH];
	/* writes go to the upper half, away from the checked regions */
	uint64_t base = write ? (cap / 2 - cap / 2 % CHUNK) : 0;
	if (write && base + total > cap)
		total = (cap - base) - (cap - base) % CHUNK;
	while (done < total) {
		while (inflight < depth && next < total) {
			uint8_t *p = buf + (next / CHUNK % DEPTH) * CHUNK;
			int r = write ? pvio_blk_write(b, 0, base + next, p, CHUNK, p, 0)
				      : pvio_blk_read(b, 0, base + next, p, CHUNK, p, 0);
			if (r < 0) {
				fail("blk bench %s: %s", write ? "write" : "read",
				     pvio_errmsg(ctx));
				return;
			}
			next += CHUNK;
			inflight++;
		}
		pvio_blk_submit(b, 0);
		int n = pvio_blk_poll(b, 0, c, 1, DEPTH, 5000000000ll);
		if (n <= 0) {
			fail("blk bench %s: poll %d: %s", write ? "write" : "read",
			     n, pvio_errmsg(ctx));
			return;
		}
		for (int i = 0; i < n; i++)
			if (c[i].ret < 0) {
				fail("blk bench: request failed: %s",
				     pvio_strerror(c[i].ret));
				return;
			}
		inflight -= (unsigned)n;
		done += (uint64_t)n * CHUNK;
	}
	uint64_t ns = pvio_now_ns(ctx) - t0;
	char key[40];
	pvio_snprintf(key, sizeof(key), "bench.blk_%s_qd%u_kib_s",
		      write ? "write" : "read", depth);
	res(key, "%llu (%llu KiB in 64 KiB requests, %llu us)",
	    (unsigned long long)rate_kib(total, ns),
	    (unsigned long long)(total >> 10), (unsigned long long)(ns / 1000));
}

void probe_blk(pvio_ctx *ctx, const struct probe_blk_args *a)
{
	pvio_blk *b;
	struct pvio_blk_opts o = { .struct_size = sizeof(o), .num_queues = 1,
				   .queue_depth = DEPTH };
	uint64_t t0 = pvio_now_ns(ctx);
	res("blk.address", "%s", a->address);
	int r = pvio_blk_open(ctx, a->address, &o, &b);
	if (r < 0) {
		res("blk.open", "FAIL %s", pvio_errmsg(ctx));
		return;
	}
	struct pvio_blk_info bi = { .struct_size = sizeof(bi) };
	struct pvio_dev_info di = { .struct_size = sizeof(di) };
	pvio_blk_get_info(b, &bi);
	pvio_dev_get_info(pvio_blk_dev(b), &di);
	uint64_t sectors = bi.capacity / 512;
	res("blk.device", "%s %s", di.backend, di.protocol);
	res("blk.ring", "%s", (bi.features & PVIO_F_PACKED_RING) ? "packed" : "split");
	res("blk.offered", "%s%s%s%s", (di.offered & PVIO_F_PACKED_RING) ? "packed " : "",
	    (di.offered & PVIO_F_IN_ORDER) ? "in_order " : "",
	    (di.offered & PVIO_F_EVENT_SUPPRESS) ? "event_idx " : "",
	    (di.offered & PVIO_F_INDIRECT) ? "indirect" : "");
	res("blk.native", "%s", di.native);
	res("blk.limits", "sectors=%llu block=%u max_transfer=%u segs=%u queue=%u "
	    "flush=%d discard=%d write_zeroes=%d ro=%d",
	    (unsigned long long)sectors, bi.block_size, bi.max_transfer,
	    bi.max_segments, bi.queue_depth, bi.flush, bi.discard,
	    bi.write_zeroes, bi.read_only);
	res_time("blk.open_ms", pvio_now_ns(ctx) - t0);
	if (a->sectors && a->sectors != sectors)
		res("blk.capacity", "FAIL %llu sectors, the command line says %llu",
		    (unsigned long long)sectors, (unsigned long long)a->sectors);

	uint8_t *buf = pvio_dma_alloc(ctx, CHUNK * DEPTH, 4096);
	if (!buf) {
		res("blk.buffers", "FAIL no DMA memory");
		goto out;
	}

	/* first I/O: sector 0 */
	r = pvio_blk_pread(b, 0, buf, 512);
	if (a->first)
		res_time("blk.first_io_ms", guest_now_ns());
	if (r < 0) {
		res("blk.first_read", "FAIL %s", pvio_errmsg(ctx));
		goto out;
	}

	/* 1. every sector is what the host wrote */
	uint64_t bad = 0, first_bad = 0;
	for (uint64_t off = 0; off < bi.capacity; off += CHUNK) {
		uint64_t len = bi.capacity - off < CHUNK ? bi.capacity - off : CHUNK;
		if ((r = pvio_blk_pread(b, off, buf, len)) < 0) {
			res("blk.verify", "FAIL read at %llu: %s",
			    (unsigned long long)off, pvio_errmsg(ctx));
			goto out;
		}
		for (uint64_t s = 0; s < len / 512; s++)
			if (check_orig(buf + s * 512, off / 512 + s) < 0 && !bad++)
				first_bad = off / 512 + s;
	}
	if (bad)
		res("blk.verify", "FAIL %llu sectors differ, first %llu",
		    (unsigned long long)bad, (unsigned long long)first_bad);
	else
		res("blk.verify", "ok %llu sectors", (unsigned long long)sectors);
	if (sectors < Z0 + ZN) {
		res("blk.size", "FAIL %llu sectors; the checks need %u",
		    (unsigned long long)sectors, Z0 + ZN);
		goto out;
	}

	/* 2. our pattern, written and read back */
	for (unsigned s = 0; s < WN; s++)
		fill_pattern(buf + s * 512, W0 + s);
	if ((r = pvio_blk_pwrite(b, W0 * 512ull, buf, WN * 512)) < 0) {
		res("blk.write", "FAIL %s", pvio_errmsg(ctx));
		goto out;
	}
	memset(buf, 0, WN * 512);
	if ((r = pvio_blk_pread(b, W0 * 512ull, buf, WN * 512)) < 0) {
		res("blk.write", "FAIL read back: %s", pvio_errmsg(ctx));
		goto out;
	}
	bad = 0;
	uint8_t want[512];
	for (unsigned s = 0; s < WN; s++) {
		fill_pattern(want, W0 + s);
		bad += memcmp(want, buf + s * 512, 512) != 0;
	}
	if (bad)
		res("blk.write", "FAIL %llu of %u sectors read back differ",
		    (unsigned long long)bad, WN);
	else
		res("blk.write", "ok sectors %u..%u", W0, W0 + WN - 1);

	/* 3. flush */
	if (bi.flush) {
		if ((r = pvio_blk_sync_flush(b)) < 0)
			res("blk.flush", "FAIL %s", pvio_errmsg(ctx));
		else
			res("blk.flush", "ok");
	} else
		res("blk.flush", "unsupported");

	/* 4. discard and write zeroes */
	if (bi.discard) {
		r = pvio_blk_sync_discard(b, D0 * 512ull, DN * 512ull);
		if (r < 0)
			res("blk.discard", "FAIL %s", pvio_errmsg(ctx));
		else
			res("blk.discard", "ok sectors %u..%u", D0, D0 + DN - 1);
	} else {
		res("blk.discard", "unsupported");
	}
	if (bi.write_zeroes) {
		r = pvio_blk_sync_write_zeroes(b, Z0 * 512ull, ZN * 512ull);
		if (r < 0) {
			res("blk.write_zeroes", "FAIL %s", pvio_errmsg(ctx));
		} else {
			pvio_blk_pread(b, Z0 * 512ull, buf, ZN * 512);
			bad = 0;
			for (unsigned i = 0; i < ZN * 512; i++)
				bad += buf[i] != 0;
			if (bad)
				res("blk.write_zeroes", "FAIL %llu bytes not zero",
				    (unsigned long long)bad);
			else
				res("blk.write_zeroes", "ok sectors %u..%u", Z0,
				    Z0 + ZN - 1);
		}
	} else {
		res("blk.write_zeroes", "unsupported");
	}

	/* 5. DEPTH single-sector reads in flight at once, out of order */
	memset(buf, 0xee, DEPTH * 512);
	for (unsigned i = 0; i < DEPTH; i++) {
		uint64_t s = 4096 + (i * 37u) % 1024;
		if (s >= sectors)
			s = i;
		if ((r = pvio_blk_read(b, 0, s * 512, buf + i * 512, 512,
				       (void *)(uintptr_t)(s + 1), 0)) < 0) {
			res("blk.inflight", "FAIL enqueue %u: %s", i, pvio_errmsg(ctx));
			goto out;
		}
	}
	pvio_blk_submit(b, 0);
	unsigned got = 0;
	struct pvio_blk_completion c[DEPTH];
	while (got < DEPTH) {
		int n = pvio_blk_poll(b, 0, c, 1, DEPTH, 5000000000ll);
		if (n <= 0) {
			res("blk.inflight", "FAIL poll %d after %u: %s", n, got,
			    pvio_errmsg(ctx));
			goto out;
		}
		got += (unsigned)n;
	}
	bad = 0;
	for (unsigned i = 0; i < DEPTH; i++) {
		uint64_t s = 4096 + (i * 37u) % 1024;
		if (s >= sectors)
			s = i;
		bad += check_orig(buf + i * 512, s) < 0;
	}
	if (bad)
		res("blk.inflight", "FAIL %llu of %u reads wrong",
		    (unsigned long long)bad, DEPTH);
	else
		res("blk.inflight", "ok %u reads in flight", DEPTH);

	struct pvio_queue_stats st;
	if (pvio_blk_get_stats(b, 0, &st) == 0)
		res("blk.stats", "requests=%llu notify_sent=%llu notify_suppressed=%llu",
		    (unsigned long long)st.requests,
		    (unsigned long long)st.notify_sent,
		    (unsigned long long)st.notify_suppressed);
	if (a->bench) {
		bench(b, buf, bi.capacity, 0, 1);
		bench(b, buf, bi.capacity, 0, DEPTH);
		bench(b, buf, bi.capacity, 1, 1);
		bench(b, buf, bi.capacity, 1, DEPTH);
	}
out:
	if (buf)
		pvio_dma_free(ctx, buf);
	pvio_blk_close(b);
	res("blk.close", "ok");
}
