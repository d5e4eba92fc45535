/* SPDX-License-Identifier: MIT */
/*
 * tests/interop/frames.h - the frames the interop clients exchange, so
 * that each side can check every byte the other sent: dst, src,
 * ethertype 0x88B5, "PVIO", u32 sequence (big endian), a pattern letter,
 * then bytes derived from (pattern, sequence).  Sizes cycle through
 * fr_sizes[]: the first six are at most 512 bytes (what DPDK's netvsc
 * and pvio copy into send-buffer sections), the others larger (sent from
 * guest pages).  The DPDK program has its own copy of this generator; the
 * two must stay the same.
 */
#ifndef PVIO_TESTS_INTEROP_FRAMES_H
#define PVIO_TESTS_INTEROP_FRAMES_H

#include <stdint.h>
#include <string.h>

static const uint16_t fr_sizes[] = { 60, 64, 128, 300, 511, 512,
				     513, 700, 1000, 1400, 1514 };
#define FR_NSIZES (sizeof(fr_sizes) / sizeof(fr_sizes[0]))
#define FR_SMALL 6u /* sizes <= 512 in each cycle */

static inline uint16_t fr_make(uint8_t *f, const uint8_t *dst,
			       const uint8_t *src, char pattern, uint32_t seq)
{
	uint16_t len = fr_sizes[seq % FR_NSIZES];
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = 0x88;
	f[13] = 0xB5;
	memcpy(f + 14, "PVIO", 4);
	f[18] = (uint8_t)(seq >> 24);
	f[19] = (uint8_t)(seq >> 16);
	f[20] = (uint8_t)(seq >> 8);
	f[21] = (uint8_t)seq;
	f[22] = (uint8_t)pattern;
	uint32_t x = seq * 2654435761u ^ (uint32_t)pattern * 40503u;
	for (uint16_t i = 23; i < len; i++) {
		x = x * 1103515245u + 12345u;
		f[i] = (uint8_t)(x >> 16);
	}
	return len;
}

static inline int fr_parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char tail;
	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &v[0], &v[1], &v[2], &v[3],
		   &v[4], &v[5], &tail) != 6)
		return -1;
	for (int i = 0; i < 6; i++) {
		if (v[i] > 255)
			return -1;
		mac[i] = (uint8_t)v[i];
	}
	return 0;
}

#endif /* PVIO_TESTS_INTEROP_FRAMES_H */
