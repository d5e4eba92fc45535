/* SPDX-License-Identifier: MIT */
/*
 * tools/hist.c - a fixed-size latency histogram for `pvio bench`.
 *
 * Log-linear: each power of two is split into TOOL_HIST_SUB buckets, so
 * recording is a few instructions with no allocation (it runs on the
 * benchmark's data path) and a percentile is within 1/TOOL_HIST_SUB of
 * the true value.
 */
#include <string.h>

#include "tools/pvio.h"

void tool_hist_reset(struct tool_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

static unsigned bucket_of(uint64_t v)
{
	if (v < TOOL_HIST_SUB)
		return (unsigned)v;
	unsigned msb = 63u - (unsigned)__builtin_clzll(v);
	/* log2(TOOL_HIST_SUB) = 5 bits below the top one */
	unsigned sub = (unsigned)(v >> (msb - 5)) & (TOOL_HIST_SUB - 1);
	return (msb - 4) * TOOL_HIST_SUB + sub;
}

/* The smallest value that falls in bucket b. */
static uint64_t bucket_low(unsigned b)
{
	if (b < TOOL_HIST_SUB)
		return b;
	unsigned msb = b / TOOL_HIST_SUB + 4;
	uint64_t sub = b % TOOL_HIST_SUB;
	if (msb > 63)
		return UINT64_MAX; /* past the last bucket */
	return (1ull << msb) | (sub << (msb - 5));
}

void tool_hist_add(struct tool_hist *h, uint64_t v)
{
	h->count++;
	h->sum += v;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
	h->b[bucket_of(v)]++;
}

uint64_t tool_hist_pct(const struct tool_hist *h, double p)
{
	if (!h->count)
		return 0;
	if (p <= 0)
		return h->min;
	if (p >= 1)
		return h->max;
	uint64_t rank = (uint64_t)(p * (double)h->count);
	if (rank >= h->count)
		rank = h->count - 1;
	uint64_t seen = 0;
	for (unsigned b = 0; b < TOOL_HIST_BUCKETS; b++) {
		seen += h->b[b];
		if (seen > rank) {
			/* middle of the bucket, clamped to what was seen */
			uint64_t lo = bucket_low(b);
			uint64_t hi = b + 1 < TOOL_HIST_BUCKETS ? bucket_low(b + 1)
							       : lo + 1;
			uint64_t mid = lo + (hi - lo) / 2;
			if (mid < h->min)
				mid = h->min;
			if (mid > h->max)
				mid = h->max;
			return mid;
		}
	}
	return h->max;
}
