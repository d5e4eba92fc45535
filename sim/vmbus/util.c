/* SPDX-License-Identifier: MIT */
/*
 * sim/vmbus/util.c - small helpers of the simulated Hyper-V host:
 * rate-limited warnings (one line per cause, a few per second), GUID text,
 * and copying through lists of guest pages.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "vmbus/shv.h"

/* The host process logs for one host; these counters are that process's
 * log throttle, keyed by the format string (one per cause). */
#define WARN_KEYS 64
#define WARN_PER_SEC 5
static struct {
	const char *key;
	uint64_t window;
	unsigned used;
	unsigned suppressed;
} warn_keys[WARN_KEYS];

void shv_warn(const char *fmt, ...)
{
	uint64_t now = sim_now_ns() / 1000000000ull;
	unsigned i, slot = WARN_KEYS;
	for (i = 0; i < WARN_KEYS; i++) {
		if (warn_keys[i].key == fmt) {
			slot = i;
			break;
		}
		if (!warn_keys[i].key && slot == WARN_KEYS)
			slot = i;
	}
	if (slot == WARN_KEYS)
		slot = (unsigned)((uintptr_t)fmt % WARN_KEYS);
	if (warn_keys[slot].key != fmt) {
		warn_keys[slot].key = fmt;
		warn_keys[slot].window = now;
		warn_keys[slot].used = 0;
		warn_keys[slot].suppressed = 0;
	}
	if (warn_keys[slot].window != now) {
		if (warn_keys[slot].suppressed)
			sim_log(SIM_LOG_WARN, "(%u similar messages suppressed)",
				warn_keys[slot].suppressed);
		warn_keys[slot].window = now;
		warn_keys[slot].used = 0;
		warn_keys[slot].suppressed = 0;
	}
	if (warn_keys[slot].used >= WARN_PER_SEC) {
		warn_keys[slot].suppressed++;
		return;
	}
	warn_keys[slot].used++;
	char line[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	sim_log(SIM_LOG_WARN, "%s", line);
}

/* Microsoft GUID text: the first three groups are little endian. */
void shv_guid_str(const uint8_t g[16], char out[37])
{
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x",
		 g[3], g[2], g[1], g[0], g[5], g[4], g[7], g[6], g[8], g[9],
		 g[10], g[11], g[12], g[13], g[14], g[15]);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int shv_guid_parse(const char *s, uint8_t g[16])
{
	static const int order[16] = { 3, 2, 1, 0, 5, 4, 7, 6,
				       8, 9, 10, 11, 12, 13, 14, 15 };
	int k = 0;
	bool brace = *s == '{';
	if (brace)
		s++;
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return -EINVAL;
			continue;
		}
		int hi = hexval(s[i]);
		int lo = hi < 0 ? -1 : hexval(s[i + 1]);
		if (lo < 0)
			return -EINVAL;
		g[order[k++]] = (uint8_t)(hi << 4 | lo);
		i++;
	}
	s += 36;
	if (brace && *s++ != '}')
		return -EINVAL;
	return *s ? -EINVAL : 0;
}

void shv_sg_reset(struct shv_sg *sg)
{
	sg->n = 0;
	sg->total = 0;
}

int shv_sg_add(struct shv_sg *sg, uint8_t *p, uint32_t len)
{
	if (!len)
		return 0;
	if (sg->n >= SHV_SG_MAX || sg->total + (uint64_t)len > UINT32_MAX)
		return -E2BIG;
	sg->v[sg->n].p = p;
	sg->v[sg->n].len = len;
	sg->n++;
	sg->total += len;
	return 0;
}

/* Copies bounded by the sg list: callers check off + len <= total. */
void shv_sg_read(const struct shv_sg *sg, uint32_t off, void *dst,
		 uint32_t len)
{
	uint8_t *d = dst;
	for (unsigned i = 0; i < sg->n && len; i++) {
		const struct shv_iov *v = &sg->v[i];
		if (off >= v->len) {
			off -= v->len;
			continue;
		}
		uint32_t n = v->len - off < len ? v->len - off : len;
		memcpy(d, v->p + off, n);
		d += n;
		len -= n;
		off = 0;
	}
	if (len)
		memset(d, 0, len);
}

void shv_sg_write(const struct shv_sg *sg, uint32_t off, const void *src,
		  uint32_t len)
{
	const uint8_t *s = src;
	for (unsigned i = 0; i < sg->n && len; i++) {
		const struct shv_iov *v = &sg->v[i];
		if (off >= v->len) {
			off -= v->len;
			continue;
		}
		uint32_t n = v->len - off < len ? v->len - off : len;
		memcpy(v->p + off, s, n);
		s += n;
		len -= n;
		off = 0;
	}
}
