/* SPDX-License-Identifier: MIT */
/*
 * sim/xen/netpkt.c - what the dom0 network stack does to frames between
 * two vifs: find the L4 checksum of a partially checksummed TCP/UDP frame
 * (skb_checksum_setup), fill in the pseudo-header sum (what a
 * CHECKSUM_PARTIAL packet carries in its checksum field), complete a
 * partial checksum for a receiver without checksum offload
 * (skb_checksum_help), and segment a GSO TCP frame for a receiver that
 * cannot take it (software GSO).  Only untagged Ethernet is handled, as
 * netback's checksum setup only looks at IPv4 and IPv6.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sxen.h"

#define ETH_HLEN 14

struct sxen_frame *sxen_frame_new(uint32_t len)
{
	struct sxen_frame *f = malloc(sizeof(*f) + (len ? len : 1));
	if (!f)
		return NULL;
	memset(f, 0, sizeof(*f));
	f->len = len;
	return f;
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

uint32_t sxen_csum_add(uint32_t sum, const uint8_t *p, uint32_t len)
{
	uint64_t s = sum;
	uint32_t i = 0;
	for (; i + 1 < len; i += 2)
		s += rd16(p + i);
	if (i < len)
		s += (uint32_t)p[i] << 8;
	while (s >> 32)
		s = (s & 0xFFFFFFFFu) + (s >> 32);
	return (uint32_t)s;
}

uint16_t sxen_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xFFFF) + (sum >> 16);
	return (uint16_t)sum;
}

/* Offsets of a TCP/UDP frame: l4 start, end of the IP packet (Ethernet
 * padding excluded), IP version and L4 protocol. */
static int parse(const uint8_t *p, uint32_t len, uint32_t *l4,
		 uint32_t *end, int *l3, int *proto)
{
	if (len < ETH_HLEN)
		return -EPROTO;
	uint16_t type = rd16(p + 12);
	const uint8_t *ip = p + ETH_HLEN;
	uint32_t rest = len - ETH_HLEN;
	if (type == 0x0800) {
		if (rest < 20 || (ip[0] >> 4) != 4)
			return -EPROTO;
		uint32_t ihl = (uint32_t)(ip[0] & 0xF) * 4;
		if (ihl < 20 || rest < ihl)
			return -EPROTO;
		if (rd16(ip + 6) & 0x3FFF) /* MF or fragment offset */
			return -EPROTO;
		uint32_t tot = rd16(ip + 2);
		if (tot < ihl || tot > rest)
			return -EPROTO;
		*end = ETH_HLEN + tot;
		*l3 = 4;
		*proto = ip[9];
		*l4 = ETH_HLEN + ihl;
	} else if (type == 0x86DD) {
		if (rest < 40 || (ip[0] >> 4) != 6)
			return -EPROTO;
		uint32_t plen = rd16(ip + 4);
		if (!plen || plen > rest - 40)
			return -EPROTO; /* no jumbograms */
		*end = ETH_HLEN + 40 + plen;
		uint32_t off = 40;
		int nh = ip[6];
		for (int hops = 0; hops < 8; hops++) {
			if (nh == 6 || nh == 17)
				break;
			if (nh != 0 && nh != 43 && nh != 60 && nh != 44)
				return -EPROTO;
			if (rest < off + 8)
				return -EPROTO;
			if (nh == 44) {
				if (rd16(ip + off + 2) & 0xFFF9)
					return -EPROTO; /* a real fragment */
				nh = ip[off];
				off += 8;
			} else {
				uint32_t hl = ((uint32_t)ip[off + 1] + 1) * 8;
				nh = ip[off];
				off += hl;
			}
		}
		if (nh != 6 && nh != 17)
			return -EPROTO;
		*l3 = 6;
		*proto = nh;
		*l4 = ETH_HLEN + off;
	} else {
		return -EPROTO;
	}
	if (*proto != 6 && *proto != 17)
		return -EPROTO;
	uint32_t need = *proto == 6 ? 20 : 8;
	if (*l4 > *end || *end - *l4 < need)
		return -EPROTO;
	return 0;
}

int sxen_pkt_csum_setup(const uint8_t *p, uint32_t len, uint16_t *start,
			uint16_t *off, int *l3, int *l4proto)
{
	uint32_t l4, end;
	int r = parse(p, len, &l4, &end, l3, l4proto);
	if (r)
		return r;
	if (l4 > 0xFFFF)
		return -EPROTO;
	*start = (uint16_t)l4;
	*off = *l4proto == 6 ? 16 : 6;
	return 0;
}

static uint32_t pseudo_sum(const uint8_t *p, uint32_t end, uint32_t l4,
			   int l3, int proto)
{
	const uint8_t *ip = p + ETH_HLEN;
	uint32_t l4len = end - l4, s = 0;
	if (l3 == 4)
		s = sxen_csum_add(0, ip + 12, 8);
	else
		s = sxen_csum_add(0, ip + 8, 32);
	s += (uint32_t)proto;
	s += l4len & 0xFFFF;
	s += l4len >> 16;
	return s;
}

int sxen_pkt_pseudo_csum(uint8_t *p, uint32_t len)
{
	uint32_t l4, end;
	int l3, proto;
	int r = parse(p, len, &l4, &end, &l3, &proto);
	if (r)
		return r;
	uint32_t at = l4 + (proto == 6 ? 16u : 6u);
	wr16(p + at, sxen_csum_fold(pseudo_sum(p, end, l4, l3, proto)));
	return 0;
}

int sxen_pkt_csum_complete(uint8_t *p, uint32_t len)
{
	uint32_t l4, end;
	int l3, proto;
	int r = parse(p, len, &l4, &end, &l3, &proto);
	if (r)
		return r;
	uint32_t at = l4 + (proto == 6 ? 16u : 6u);
	uint16_t c = (uint16_t)~sxen_csum_fold(sxen_csum_add(0, p + l4, end - l4));
	if (!c && proto == 17)
		c = 0xFFFF;
	wr16(p + at, c);
	return 0;
}

struct sxen_frame *sxen_pkt_segment(const struct sxen_frame *f)
{
	uint32_t l4, end;
	int l3, proto;
	if (parse(f->data, f->len, &l4, &end, &l3, &proto) || proto != 6 ||
	    !f->gso_size)
		return NULL;
	const uint8_t *tcp = f->data + l4;
	uint32_t thl = (uint32_t)(tcp[12] >> 4) * 4;
	if (thl < 20 || l4 + thl > end)
		return NULL;
	uint32_t hdr = l4 + thl, payload = end - hdr;
	uint32_t mss = f->gso_size;
	uint32_t seq0 = (uint32_t)tcp[4] << 24 | (uint32_t)tcp[5] << 16 |
			(uint32_t)tcp[6] << 8 | tcp[7];
	uint16_t id0 = l3 == 4 ? rd16(f->data + ETH_HLEN + 4) : 0;
	struct sxen_frame *head = NULL, **tail = &head;
	uint32_t done = 0, n = 0;
	do {
		uint32_t chunk = payload - done > mss ? mss : payload - done;
		bool last = done + chunk >= payload;
		struct sxen_frame *s = sxen_frame_new(hdr + chunk);
		if (!s) {
			while (head) {
				struct sxen_frame *nx = head->next;
				free(head);
				head = nx;
			}
			return NULL;
		}
		memcpy(s->data, f->data, hdr);
		memcpy(s->data + hdr, f->data + hdr + done, chunk);
		uint8_t *ip = s->data + ETH_HLEN, *t = s->data + l4;
		if (l3 == 4) {
			wr16(ip + 2, (uint16_t)(s->len - ETH_HLEN));
			wr16(ip + 4, (uint16_t)(id0 + n));
			wr16(ip + 10, 0);
			uint32_t ihl = (uint32_t)(ip[0] & 0xF) * 4;
			wr16(ip + 10, (uint16_t)~sxen_csum_fold(sxen_csum_add(0, ip, ihl)));
		} else {
			wr16(ip + 4, (uint16_t)(s->len - ETH_HLEN - 40));
		}
		uint32_t seq = seq0 + done;
		t[4] = (uint8_t)(seq >> 24);
		t[5] = (uint8_t)(seq >> 16);
		t[6] = (uint8_t)(seq >> 8);
		t[7] = (uint8_t)seq;
		if (!last)
			t[13] &= (uint8_t)~0x09; /* FIN, PSH only on the last */
		if (n)
			t[13] &= (uint8_t)~0x80; /* CWR only on the first */
		wr16(t + 16, 0);
		uint32_t sum = pseudo_sum(s->data, s->len, l4, l3, 6);
		/* s->len is exactly the new IP packet: no padding copied */
		sum = sxen_csum_add(sum, t, s->len - l4);
		uint16_t c = (uint16_t)~sxen_csum_fold(sum);
		wr16(t + 16, c);
		s->csum = SXEN_CSUM_NONE;
		*tail = s;
		tail = &s->next;
		done += chunk;
		n++;
	} while (done < payload);
	return head;
}
