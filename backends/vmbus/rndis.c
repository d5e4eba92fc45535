/* SPDX-License-Identifier: MIT */
/*
 * backends/vmbus/rndis.c - RNDIS messages and NDIS objects for NetVSC.
 *
 * Pure functions over private buffers.  The parsers treat every length
 * and offset as hostile: sums are done in 64 bits and checked against the
 * room the message really has before anything is used.  RNDIS offsets are
 * relative to byte 8 (the first field after type and length).
 */
#include "netvsc.h"

static void put32(uint8_t *b, uint32_t off, uint32_t v)
{
	v = PVIO_LE32(v);
	memcpy(b + off, &v, 4);
}

static uint32_t get32(const uint8_t *b, uint32_t off)
{
	uint32_t v;
	memcpy(&v, b + off, 4);
	return PVIO_LE32(v);
}

uint32_t vmbus_rndis_msg_init(uint8_t *b, uint32_t req_id)
{
	memset(b, 0, 24);
	put32(b, 0, RNDIS_MSG_INIT);
	put32(b, 4, 24);
	put32(b, 8, req_id);
	put32(b, 12, 1);      /* major */
	put32(b, 16, 0);      /* minor */
	put32(b, 20, 0x4000); /* max transfer size */
	return 24;
}

static uint32_t query_set(uint8_t *b, uint32_t type, uint32_t req_id,
			  uint32_t oid, const void *info, uint32_t ilen)
{
	memset(b, 0, 28);
	put32(b, 0, type);
	put32(b, 4, 28 + ilen);
	put32(b, 8, req_id);
	put32(b, 12, oid);
	put32(b, 16, ilen);
	put32(b, 20, ilen ? 20 : 0); /* information buffer at 8 + 20 */
	put32(b, 24, 0);
	if (ilen)
		memcpy(b + 28, info, ilen);
	return 28 + ilen;
}

uint32_t vmbus_rndis_msg_query(uint8_t *b, uint32_t req_id, uint32_t oid,
			 const void *info, uint32_t ilen)
{
	return query_set(b, RNDIS_MSG_QUERY, req_id, oid, info, ilen);
}

uint32_t vmbus_rndis_msg_set(uint8_t *b, uint32_t req_id, uint32_t oid,
		       const void *val, uint32_t vlen)
{
	return query_set(b, RNDIS_MSG_SET, req_id, oid, val, vlen);
}

uint32_t vmbus_rndis_msg_halt(uint8_t *b, uint32_t req_id)
{
	memset(b, 0, 12);
	put32(b, 0, RNDIS_MSG_HALT);
	put32(b, 4, 12);
	put32(b, 8, req_id);
	return 12;
}

uint32_t vmbus_rndis_msg_keepalive_c(uint8_t *b, uint32_t req_id)
{
	memset(b, 0, 16);
	put32(b, 0, RNDIS_MSG_KEEPALIVE_C);
	put32(b, 4, 16);
	put32(b, 8, req_id);
	put32(b, 12, RNDIS_STATUS_SUCCESS);
	return 16;
}

uint32_t vmbus_rndis_pkt_hdr(uint8_t *b, uint32_t frame_len, uint32_t csum,
		       uint32_t lso)
{
	uint32_t ppi_len = 0;
	memset(b, 0, RNDIS_PKT_HDR + 2 * (RNDIS_PPI_HDR + 4));
	uint8_t *p = b + RNDIS_PKT_HDR;
	if (csum) {
		put32(p, 0, RNDIS_PPI_HDR + 4);
		put32(p, 4, PPI_TCPIP_CHECKSUM);
		put32(p, 8, RNDIS_PPI_HDR);
		put32(p, 12, csum);
		p += RNDIS_PPI_HDR + 4;
		ppi_len += RNDIS_PPI_HDR + 4;
	}
	if (lso) {
		put32(p, 0, RNDIS_PPI_HDR + 4);
		put32(p, 4, PPI_LSO);
		put32(p, 8, RNDIS_PPI_HDR);
		put32(p, 12, lso);
		ppi_len += RNDIS_PPI_HDR + 4;
	}
	uint32_t hdr = RNDIS_PKT_HDR + ppi_len;
	put32(b, 0, RNDIS_MSG_PACKET);
	put32(b, 4, hdr + frame_len);
	put32(b, 8, hdr - 8);            /* data offset */
	put32(b, 12, frame_len);
	put32(b, 28, ppi_len ? RNDIS_PKT_HDR - 8 : 0); /* PPI offset */
	put32(b, 32, ppi_len);
	return hdr;
}

/* off..off+len (relative to byte 8) inside a message of msg_len bytes:
 * absolute offset or 0 when out of bounds. */
static bool inside(uint32_t rel, uint32_t len, uint32_t msg_len,
		   uint32_t *abs)
{
	uint64_t a = 8ull + rel;
	if (a + len > msg_len)
		return false;
	*abs = (uint32_t)a;
	return true;
}

int vmbus_rndis_parse(const uint8_t *m, uint32_t room, struct rndis_view *v)
{
	memset(v, 0, sizeof(*v));
	if (room < 8)
		return -EINVAL;
	v->type = get32(m, 0);
	v->len = get32(m, 4);
	if (v->len < 8 || v->len > room)
		return -EINVAL;
	switch (v->type) {
	case RNDIS_MSG_PACKET: {
		if (v->len < RNDIS_PKT_HDR)
			return -EINVAL;
		uint32_t doff = get32(m, 8), dlen = get32(m, 12);
		uint32_t poff = get32(m, 28), plen = get32(m, 32);
		if (doff < RNDIS_PKT_HDR - 8 ||
		    !inside(doff, dlen, v->len, &v->data_off))
			return -EINVAL;
		v->data_len = dlen;
		if (plen) {
			if (poff < RNDIS_PKT_HDR - 8 ||
			    !inside(poff, plen, v->len, &v->ppi_off))
				return -EINVAL;
			v->ppi_len = plen;
		}
		return 0;
	}
	case RNDIS_MSG_INIT_C:
		if (v->len < 52)
			return -EINVAL;
		v->req_id = get32(m, 8);
		v->status = get32(m, 12);
		v->major = get32(m, 16);
		v->minor = get32(m, 20);
		v->max_xfer = get32(m, 36);
		return 0;
	case RNDIS_MSG_QUERY_C: {
		if (v->len < 24)
			return -EINVAL;
		v->req_id = get32(m, 8);
		v->status = get32(m, 12);
		uint32_t ilen = get32(m, 16), ioff = get32(m, 20);
		if (ilen) {
			if (ioff < 16 || !inside(ioff, ilen, v->len, &v->info_off))
				return -EINVAL;
			v->info_len = ilen;
		}
		return 0;
	}
	case RNDIS_MSG_SET_C:
	case RNDIS_MSG_KEEPALIVE_C:
	case RNDIS_MSG_RESET_C:
		if (v->len < 16)
			return -EINVAL;
		v->req_id = get32(m, 8);
		v->status = get32(m, 12);
		return 0;
	case RNDIS_MSG_INDICATE: {
		if (v->len < 20)
			return -EINVAL;
		v->status = get32(m, 8);
		uint32_t blen = get32(m, 12), boff = get32(m, 16);
		if (blen) {
			if (boff < 12 || !inside(boff, blen, v->len, &v->info_off))
				return -EINVAL;
			v->info_len = blen;
		}
		return 0;
	}
	case RNDIS_MSG_KEEPALIVE:
		if (v->len < 12)
			return -EINVAL;
		v->req_id = get32(m, 8);
		return 0;
	default:
		return -EINVAL;
	}
}

int vmbus_rndis_ppi_find(const uint8_t *p, uint32_t len, uint32_t type,
		   uint32_t *val)
{
	uint32_t off = 0;
	/* each element is at least 12 bytes, so this ends */
	while (off < len) {
		if (len - off < RNDIS_PPI_HDR)
			return -EINVAL;
		uint32_t sz = get32(p, off), t = get32(p, off + 4) & 0x7fffffffu;
		uint32_t doff = get32(p, off + 8);
		if (sz < RNDIS_PPI_HDR || sz > len - off || doff < RNDIS_PPI_HDR ||
		    doff > sz)
			return -EINVAL;
		if (t == type) {
			if (sz - doff < 4)
				return -EINVAL;
			*val = get32(p, off + doff);
			return 1;
		}
		off += sz;
	}
	return 0;
}

int vmbus_ndis_parse_caps(const uint8_t *d, uint32_t len, struct ndis_caps *c)
{
	memset(c, 0, sizeof(*c));
	if (len < 112 || d[0] != NDIS_OBJ_OFFLOAD)
		return -EINVAL;
	uint32_t size = (uint32_t)d[2] | (uint32_t)d[3] << 8;
	if (size < 112 || size > len)
		return -EINVAL;
	c->ip4_txcsum = get32(d, 8);
	c->ip4_rxcsum = get32(d, 16);
	c->ip6_txcsum = get32(d, 24);
	c->ip6_rxcsum = get32(d, 32);
	/* LSOv2 at 80: ip4 encap, max size, min segs, ip6 encap, max, min,
	 * ip6 options; usable only for Ethernet frames (and for IPv6 with
	 * extension headers and TCP options, as Linux and DPDK require) */
	if (get32(d, 80) & NDIS_ENCAP_8023) {
		c->lso4_max = get32(d, 84);
		c->lso4_minsg = get32(d, 88);
	}
	uint32_t v6opts = NDIS_LSOV2_IP6_EXT | NDIS_LSOV2_IP6_TCPOPT;
	if ((get32(d, 92) & NDIS_ENCAP_8023) &&
	    (get32(d, 104) & v6opts) == v6opts) {
		c->lso6_max = get32(d, 96);
		c->lso6_minsg = get32(d, 100);
	}
	return 0;
}

uint32_t vmbus_ndis_offload_params(uint8_t *b, bool ndis630, bool csum_tx,
			     bool csum_rx, bool lso4, bool lso6)
{
	uint32_t size = ndis630 ? 28 : 22;
	memset(b, 0, 28);
	b[0] = NDIS_OBJ_DEFAULT;
	b[1] = ndis630 ? 3 : 2;
	b[2] = (uint8_t)size;
	b[3] = 0;
	uint8_t cs = csum_tx && csum_rx ? NDIS_OFFLOAD_PARAM_TXRX
		     : csum_tx		 ? NDIS_OFFLOAD_PARAM_TX
		     : csum_rx		 ? NDIS_OFFLOAD_PARAM_RX
					 : NDIS_OFFLOAD_PARAM_OFF;
	b[4] = cs;  /* ip4 header checksum */
	b[5] = cs;  /* tcp4 */
	b[6] = cs;  /* udp4 */
	b[7] = cs;  /* tcp6 */
	b[8] = cs;  /* udp6 */
	b[9] = 0;   /* LSOv1: no change */
	b[10] = 0;  /* IPsec v1 */
	b[11] = lso4 ? NDIS_LSOV2_ON : NDIS_LSOV2_OFF;
	b[12] = lso6 ? NDIS_LSOV2_ON : NDIS_LSOV2_OFF;
	return size;
}

uint32_t vmbus_ndis_rss_params(uint8_t *b, uint32_t nq)
{
	/* header 40 bytes, 128 u32 indirection entries, 40-byte key */
	const uint32_t hdr = 40, tab = 128 * 4, key = 40;
	memset(b, 0, hdr + tab + key);
	b[0] = NDIS_OBJ_RSS_PARAMS;
	b[1] = 2;
	b[2] = (uint8_t)hdr;
	b[3] = 0;
	/* flags @4 = 0, base cpu @6 = 0 */
	put32(b, 8, 0x1u /* Toeplitz */ | 0x100u /* IPv4 */ |
			    0x200u /* TCP/IPv4 */ | 0x400u /* IPv6 */ |
			    0x1000u /* TCP/IPv6 */);
	b[12] = (uint8_t)(tab & 0xff); /* indirection table size (bytes) */
	b[13] = (uint8_t)(tab >> 8);
	put32(b, 16, hdr);             /* its offset */
	b[20] = (uint8_t)key;          /* key size */
	put32(b, 24, hdr + tab);       /* key offset */
	for (uint32_t i = 0; i < 128; i++)
		put32(b, hdr + 4 * i, nq ? i % nq : 0);
	for (uint32_t i = 0; i < key; i++)
		b[hdr + tab + i] = (uint8_t)(0x6d + 0x3b * i); /* fixed key */
	return hdr + tab + key;
}

int vmbus_ndis_parse_rss_caps(const uint8_t *d, uint32_t len)
{
	if (len < 16 || d[0] != NDIS_OBJ_RSS_CAPS)
		return -EINVAL;
	uint32_t n = get32(d, 12);
	if (n == 0)
		return -EINVAL;
	return n > 64 ? 64 : (int)n;
}
