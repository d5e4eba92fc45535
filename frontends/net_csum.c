/* SPDX-License-Identifier: MIT */
/*
 * frontends/net_csum.c - the Internet checksum (RFC 1071) for devices that
 * do not complete partial checksums: a CSUM_PARTIAL frame carries the
 * pseudo-header sum in its checksum field, so summing from csum_start to
 * the end of the frame and storing the complement finishes the job.
 */
#include "netfe.h"

static uint32_t sum16(const uint8_t *p, uint32_t len)
{
	uint64_t s = 0;
	uint32_t i = 0;
	for (; i + 1 < len; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (i < len)
		s += (uint32_t)p[i] << 8; /* odd byte: pad with zero */
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint32_t)s;
}

int fe_net_csum_fill(uint8_t *frame, uint32_t len, uint16_t start,
		     uint16_t offset)
{
	uint32_t at = (uint32_t)start + offset;
	if (start >= len || at + 2 > len)
		return -EINVAL;
	uint16_t c = (uint16_t)~sum16(frame + start, len - start);
	/* 0 means "no checksum" for UDP; 0xffff is the same value in ones'
	 * complement, so use it (as Linux does for every protocol) */
	if (!c)
		c = 0xffff;
	frame[at] = (uint8_t)(c >> 8);
	frame[at + 1] = (uint8_t)c;
	return 0;
}
