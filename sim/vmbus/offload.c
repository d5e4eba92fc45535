/* SPDX-License-Identifier: MIT */
/*
 * sim/vmbus/offload.c - the NetVSP's task offloads: transmit checksums,
 * large send (LSOv2) segmentation, and the receive checksum report.
 *
 * A per-packet info is done when the host offered that offload in
 * OID_TCP_OFFLOAD_HARDWARE_CAPABILITIES, whatever OID_TCP_OFFLOAD_PARAMETERS
 * last said for transmit: the per-packet info is the request.  (DPDK
 * 22.11 asks for TX and RX checksums as 2 | 3 = 3, "RX only", and still
 * sends checksum per-packet info, which Hyper-V, where that PMD runs,
 * must be serving.)  The
 * parameters decide the receive checksum report.  A per-packet info for an
 * offload never offered is refused, as is one whose header offset does
 * not point at the TCP/UDP header of the frame.
 *
 * Transmit checksum follows NDIS: the transport has put the pseudo-header
 * sum in the TCP/UDP checksum field, the host sums the L4 header and data
 * over it and stores the complement.  A large send is cut into segments
 * of at most MSS payload bytes; each gets its own IPv4 total length,
 * identification and header checksum (IPv6: payload length), TCP sequence
 * number and flags (FIN/PSH only on the last, CWR only on the first) and a
 * TCP checksum computed from scratch, whatever the guest seeded.
 */
#include <string.h>

#include "vmbus/netvsp.h"

#define ETH_HLEN 14u
#define ETH_P_IP 0x0800u
#define ETH_P_IPV6 0x86DDu
#define ETH_P_8021Q 0x8100u
#define IPPROTO_TCP_ 6u
#define IPPROTO_UDP_ 17u

/* Where the IP and transport headers of an Ethernet frame are. */
struct hdrs {
	uint32_t l3;       /* IP header offset */
	uint32_t l4;       /* transport header offset */
	uint32_t end;      /* end of the IP packet (padding excluded) */
	bool v6;
	uint8_t proto;     /* IPPROTO_* of the transport header */
};

static bool parse_frame(const uint8_t *f, uint32_t len, struct hdrs *h)
{
	if (len < ETH_HLEN)
		return false;
	uint32_t l3 = ETH_HLEN;
	uint16_t et = shv_be16(f + 12);
	if (et == ETH_P_8021Q) {
		if (len < ETH_HLEN + 4)
			return false;
		et = shv_be16(f + 16);
		l3 += 4;
	}
	memset(h, 0, sizeof(*h));
	h->l3 = l3;
	if (et == ETH_P_IP) {
		if (len < l3 + 20 || (f[l3] >> 4) != 4)
			return false;
		uint32_t ihl = (f[l3] & 0xFu) * 4u;
		uint32_t tot = shv_be16(f + l3 + 2);
		if (ihl < 20 || len < l3 + ihl)
			return false;
		/* a large send may leave the total length 0 */
		h->end = tot >= ihl && l3 + tot <= len ? l3 + tot : len;
		h->l4 = l3 + ihl;
		h->proto = f[l3 + 9];
		return true;
	}
	if (et == ETH_P_IPV6) {
		if (len < l3 + 40 || (f[l3] >> 4) != 6)
			return false;
		uint32_t pl = shv_be16(f + l3 + 4);
		h->v6 = true;
		h->end = pl && l3 + 40 + pl <= len ? l3 + 40 + pl : len;
		h->l4 = l3 + 40;
		h->proto = f[l3 + 6]; /* no extension headers here */
		return true;
	}
	return false;
}

static uint64_t sum16(const uint8_t *p, uint32_t len, uint64_t acc)
{
	uint32_t i = 0;
	for (; i + 1 < len; i += 2)
		acc += (uint32_t)p[i] << 8 | p[i + 1];
	if (i < len)
		acc += (uint32_t)p[i] << 8;
	return acc;
}

static uint16_t fold(uint64_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xFFFF) + (acc >> 16);
	return (uint16_t)acc;
}

/* The pseudo-header sum for a transport segment of l4len bytes. */
static uint64_t pseudo(const uint8_t *f, const struct hdrs *h, uint32_t l4len)
{
	uint64_t acc = 0;
	if (h->v6)
		acc = sum16(f + h->l3 + 8, 32, acc); /* source, destination */
	else
		acc = sum16(f + h->l3 + 12, 8, acc);
	acc += l4len;
	acc += h->proto;
	return acc;
}

static void ip4_header_csum(uint8_t *f, const struct hdrs *h)
{
	uint32_t ihl = h->l4 - h->l3;
	shv_pbe16(f + h->l3 + 10, 0);
	shv_pbe16(f + h->l3 + 10, (uint16_t)~fold(sum16(f + h->l3, ihl, 0)));
}

/* Offset of the checksum field in the transport header. */
static uint32_t csum_field(uint8_t proto)
{
	return proto == IPPROTO_TCP_ ? 16u : 6u;
}

/* Enabled transmit offload bit for the frame's L3/L4. */
static uint32_t ol_bit(bool v6, uint8_t proto)
{
	if (proto == IPPROTO_TCP_)
		return v6 ? NET_OL_TCP6 : NET_OL_TCP4;
	return v6 ? NET_OL_UDP6 : NET_OL_UDP4;
}

const char *net_tx_csum(const struct net_state *s, struct net_frame *f)
{
	uint32_t v = f->csum;
	if (!(v & (SHV_CSUM_TX_TCP | SHV_CSUM_TX_UDP | SHV_CSUM_TX_IP)))
		return NULL; /* nothing asked */
	struct hdrs h;
	if (!parse_frame(f->data, f->len, &h))
		return "checksum offload for a frame that is not IPv4/IPv6";
	bool v6 = v & SHV_CSUM_TX_IPV6;
	if (!(v & (SHV_CSUM_TX_IPV4 | SHV_CSUM_TX_IPV6)) ||
	    (v & SHV_CSUM_TX_IPV4 && v & SHV_CSUM_TX_IPV6) || v6 != h.v6)
		return "checksum PPI IP version does not match the frame";
	if (v & SHV_CSUM_TX_IP) {
		if (v6)
			return "IPv4 header checksum asked for an IPv6 frame";
		if (s->dev->nic.no_offload)
			return "IPv4 header checksum offload not offered";
		ip4_header_csum(f->data, &h);
	}
	if (!(v & (SHV_CSUM_TX_TCP | SHV_CSUM_TX_UDP)))
		return NULL;
	if ((v & SHV_CSUM_TX_TCP) && (v & SHV_CSUM_TX_UDP))
		return "checksum PPI asks for TCP and UDP";
	uint8_t proto = v & SHV_CSUM_TX_TCP ? IPPROTO_TCP_ : IPPROTO_UDP_;
	if (s->dev->nic.no_offload)
		return "transmit checksum offload not offered";
	if (SHV_CSUM_TX_THOFF(v) != h.l4 || h.proto != proto)
		return "checksum PPI header offset or protocol does not match "
		       "the frame";
	uint32_t field = csum_field(proto);
	if (h.end < h.l4 + field + 2)
		return "transport header truncated";
	/* the field holds the pseudo-header sum: add the segment to it */
	uint16_t c = (uint16_t)~fold(sum16(f->data + h.l4, h.end - h.l4, 0));
	if (proto == IPPROTO_UDP_ && c == 0)
		c = 0xFFFF;
	shv_pbe16(f->data + h.l4 + field, c);
	return NULL;
}

const char *net_tx_lso(struct net_state *s, struct net_frame *f,
		       void (*emit)(void *arg, struct net_frame *seg),
		       void *arg)
{
	uint32_t v = f->lso;
	uint32_t mss = SHV_LSO_MSS(v);
	struct hdrs h;
	if (!(v & SHV_LSO_V2))
		return "large send v1 is not offered (LSOv2 only)";
	bool v6 = v & SHV_LSO_IPV6;
	if (s->dev->nic.no_offload)
		return "large send offload not offered";
	if (!parse_frame(f->data, f->len, &h) || h.v6 != v6 ||
	    h.proto != IPPROTO_TCP_)
		return "large send of a frame that is not TCP over the IP "
		       "version its PPI names";
	if (SHV_LSO_THOFF(v) != h.l4)
		return "large send PPI header offset is not the TCP header";
	if (f->len < h.l4 + 20)
		return "large send TCP header truncated";
	uint32_t thl = (uint32_t)(f->data[h.l4 + 12] >> 4) * 4u;
	uint32_t hdr = h.l4 + thl;
	if (thl < 20 || f->len < hdr)
		return "large send TCP header length out of range";
	if (f->len - h.l3 > NET_LSO_MAX)
		return "large send above the size the host offered";
	uint32_t payload = f->len - hdr;
	uint32_t limit = s->dev->nic.mtu + ETH_HLEN + (h.l3 - ETH_HLEN);
	if (!mss || hdr + mss > limit || hdr + mss > NET_SEG_MAX)
		return "large send MSS zero or segments above the MTU";
	if (!payload)
		return "large send without payload";
	uint32_t seq = shv_be32(f->data + h.l4 + 4);
	uint16_t id = v6 ? 0 : shv_be16(f->data + h.l3 + 4);
	uint8_t flags = f->data[h.l4 + 13];
	uint32_t off = 0, i = 0;
	do {
		uint32_t n = payload - off < mss ? payload - off : mss;
		bool last = off + n >= payload;
		uint8_t *g = s->seg;
		memcpy(g, f->data, hdr);
		memcpy(g + hdr, f->data + hdr + off, n);
		uint32_t ip_len = hdr - h.l3 + n;
		if (v6) {
			shv_pbe16(g + h.l3 + 4, (uint16_t)(ip_len - 40));
		} else {
			shv_pbe16(g + h.l3 + 2, (uint16_t)ip_len);
			shv_pbe16(g + h.l3 + 4, (uint16_t)(id + i));
			ip4_header_csum(g, &h);
		}
		shv_pbe32(g + h.l4 + 4, seq + off);
		uint8_t fl = flags;
		if (!last)
			fl &= (uint8_t)~0x09u; /* FIN, PSH */
		if (i)
			fl &= (uint8_t)~0x80u; /* CWR */
		g[h.l4 + 13] = fl;
		uint32_t l4len = thl + n;
		shv_pbe16(g + h.l4 + 16, 0);
		uint64_t acc = pseudo(g, &h, l4len);
		shv_pbe16(g + h.l4 + 16,
			  (uint16_t)~fold(sum16(g + h.l4, l4len, acc)));
		struct net_frame seg = *f;
		seg.data = g;
		seg.len = hdr + n;
		seg.csum = 0;
		seg.lso = 0;
		emit(arg, &seg);
		off += n;
		i++;
	} while (off < payload);
	return NULL;
}

uint32_t net_rx_csum(const struct net_state *s, const uint8_t *f,
		     uint32_t len)
{
	struct hdrs h;
	if (!s->ol_rx || !parse_frame(f, len, &h))
		return 0;
	uint32_t r = 0;
	if (!h.v6 && (s->ol_rx & NET_OL_IP4)) {
		uint32_t ihl = h.l4 - h.l3;
		r |= fold(sum16(f + h.l3, ihl, 0)) == 0xFFFF
			     ? SHV_CSUM_RX_IP_OK
			     : SHV_CSUM_RX_IP_FAILED;
	}
	if ((h.proto != IPPROTO_TCP_ && h.proto != IPPROTO_UDP_) ||
	    !(s->ol_rx & ol_bit(h.v6, h.proto)))
		return r;
	uint32_t l4len = h.end - h.l4;
	bool tcp = h.proto == IPPROTO_TCP_;
	if (l4len < (tcp ? 20u : 8u))
		return r | (tcp ? SHV_CSUM_RX_TCP_FAILED
				: SHV_CSUM_RX_UDP_FAILED);
	if (!tcp && !h.v6 && shv_be16(f + h.l4 + 6) == 0)
		return r | SHV_CSUM_RX_UDP_OK; /* IPv4 UDP without checksum */
	bool ok = fold(sum16(f + h.l4, l4len, pseudo(f, &h, l4len))) == 0xFFFF;
	if (tcp)
		return r | (ok ? SHV_CSUM_RX_TCP_OK : SHV_CSUM_RX_TCP_FAILED);
	return r | (ok ? SHV_CSUM_RX_UDP_OK : SHV_CSUM_RX_UDP_FAILED);
}
