/* SPDX-License-Identifier: MIT */
/*
 * sim/vmbus/rndis.c - the RNDIS device inside the NetVSP: INITIALIZE,
 * QUERY, SET, RESET, KEEPALIVE and HALT; link indications; parsing the
 * guest's PACKET messages and their per-packet info, building the host's.
 *
 * Offloads: the hardware capabilities offer IPv4 header, TCP and UDP
 * checksums both ways for IPv4 and IPv6 and LSOv2 for both (offload.c does
 * them), none with `--nic offload=none`; OID_TCP_OFFLOAD_PARAMETERS
 * enables them (all start disabled) and anything asked beyond the offer
 * is refused.  No RSC, no IPsec, no LSOv1.  RSS is real when the NIC has
 * more than one channel (OID_GEN_RECEIVE_SCALE_*), and answered
 * NOT_SUPPORTED otherwise.
 */
#include <stdio.h>
#include <string.h>

#include "vmbus/netvsp.h"

#define MAX_PKTS_PER_MSG 8u
#define MAX_XFER_SIZE 0x4000u
#define PKT_ALIGN_SHIFT 3u

static const uint32_t supported_oids[] = {
	SHV_OID_GEN_SUPPORTED_LIST, SHV_OID_GEN_HARDWARE_STATUS,
	SHV_OID_GEN_MEDIA_SUPPORTED, SHV_OID_GEN_MEDIA_IN_USE,
	SHV_OID_GEN_MAXIMUM_FRAME_SIZE, SHV_OID_GEN_LINK_SPEED,
	SHV_OID_GEN_CURRENT_PACKET_FILTER, SHV_OID_GEN_MAXIMUM_TOTAL_SIZE,
	SHV_OID_GEN_MEDIA_CONNECT_STATUS, SHV_OID_802_3_PERMANENT_ADDRESS,
	SHV_OID_802_3_CURRENT_ADDRESS, SHV_OID_802_3_MULTICAST_LIST,
	SHV_OID_802_3_MAXIMUM_LIST_SIZE, SHV_OID_TCP_OFFLOAD_HW_CAPS,
	SHV_OID_TCP_OFFLOAD_PARAMETERS,
};

static bool rss_offered(const struct net_state *s)
{
	return s->dev->channels > 1 && s->ndis_ver >= SHV_NDIS_V6_20;
}

/* The offloads offer.c implements. */
static void fill_caps(struct shv_ndis_offload *c)
{
	uint32_t ip4 = SHV_CAP_IP4 | SHV_CAP_IP4OPT | SHV_CAP_TCP |
		       SHV_CAP_TCPOPT | SHV_CAP_UDP;
	uint32_t ip6 = SHV_CAP_IP4OPT /* IPv6 extension headers */ |
		       SHV_CAP_TCP | SHV_CAP_TCPOPT | SHV_CAP_UDP;
	c->csum[SHV_CSUM_IP4_TXENC] = SHV_NDIS_ENCAP_8023;
	c->csum[SHV_CSUM_IP4_TX] = ip4;
	c->csum[SHV_CSUM_IP4_RXENC] = SHV_NDIS_ENCAP_8023;
	c->csum[SHV_CSUM_IP4_RX] = ip4;
	c->csum[SHV_CSUM_IP6_TXENC] = SHV_NDIS_ENCAP_8023;
	c->csum[SHV_CSUM_IP6_TX] = ip6;
	c->csum[SHV_CSUM_IP6_RXENC] = SHV_NDIS_ENCAP_8023;
	c->csum[SHV_CSUM_IP6_RX] = ip6;
	/* LSOv2: ip4 encap, max size, min segments, ip6 the same, ip6 opts */
	c->lsov2[0] = SHV_NDIS_ENCAP_8023;
	c->lsov2[1] = NET_LSO_MAX;
	c->lsov2[2] = NET_LSO_MIN_SEGS;
	c->lsov2[3] = SHV_NDIS_ENCAP_8023;
	c->lsov2[4] = NET_LSO_MAX;
	c->lsov2[5] = NET_LSO_MIN_SEGS;
	c->lsov2[6] = SHV_CAP_IP4OPT /* IPv6 ext */ | SHV_CAP_TCPOPT;
}

/* Answer a QUERY: fills out (at most cap bytes); returns RNDIS status. */
static uint32_t query(struct net_state *s, uint32_t oid, const uint8_t *in,
		      uint32_t inlen, uint8_t *out, uint32_t cap,
		      uint32_t *outlen)
{
	struct shv_nic *nic = &s->dev->nic;
	uint32_t v;
	*outlen = 0;
	switch (oid) {
	case SHV_OID_GEN_SUPPORTED_LIST:
		if (cap < sizeof(supported_oids))
			return SHV_RNDIS_STATUS_INVALID_LENGTH;
		memcpy(out, supported_oids, sizeof(supported_oids));
		*outlen = sizeof(supported_oids);
		return SHV_RNDIS_STATUS_SUCCESS;
	case SHV_OID_GEN_HARDWARE_STATUS:
	case SHV_OID_GEN_MEDIA_SUPPORTED:
	case SHV_OID_GEN_MEDIA_IN_USE:
		v = 0; /* ready; 802.3 */
		break;
	case SHV_OID_GEN_MAXIMUM_FRAME_SIZE:
		v = nic->mtu;
		break;
	case SHV_OID_GEN_MAXIMUM_TOTAL_SIZE:
		v = nic->mtu + 14;
		break;
	case SHV_OID_GEN_LINK_SPEED:
		v = nic->link_speed;
		break;
	case SHV_OID_GEN_MEDIA_CONNECT_STATUS:
		v = nic->link_up ? 0 : 1;
		break;
	case SHV_OID_GEN_CURRENT_PACKET_FILTER:
		v = s->filter;
		break;
	case SHV_OID_802_3_MAXIMUM_LIST_SIZE:
		v = 32;
		break;
	case SHV_OID_802_3_PERMANENT_ADDRESS:
	case SHV_OID_802_3_CURRENT_ADDRESS:
		memcpy(out, nic->mac, 6);
		*outlen = 6;
		return SHV_RNDIS_STATUS_SUCCESS;
	case SHV_OID_TCP_OFFLOAD_HW_CAPS: {
		struct shv_ndis_offload caps;
		if (inlen >= 4 && in[0] != SHV_NDIS_OBJ_OFFLOAD)
			return SHV_RNDIS_STATUS_INVALID_DATA;
		memset(&caps, 0, sizeof(caps));
		caps.h.type = SHV_NDIS_OBJ_OFFLOAD;
		if (!nic->no_offload)
			fill_caps(&caps);
		if (s->ndis_ver >= SHV_NDIS_V6_30) {
			caps.h.revision = 3;
			caps.h.size = SHV_NDIS_OFFLOAD_SIZE;
		} else if (s->ndis_ver >= SHV_NDIS_V6_1) {
			caps.h.revision = 2;
			caps.h.size = SHV_NDIS_OFFLOAD_SIZE_6_1;
		} else {
			caps.h.revision = 1;
			caps.h.size = SHV_NDIS_OFFLOAD_SIZE_6_0;
		}
		memcpy(out, &caps, caps.h.size);
		*outlen = caps.h.size;
		return SHV_RNDIS_STATUS_SUCCESS;
	}
	case SHV_OID_GEN_RSS_CAPABILITIES: {
		if (!rss_offered(s))
			return SHV_RNDIS_STATUS_NOT_SUPPORTED;
		struct shv_ndis_rss_caps rc;
		memset(&rc, 0, sizeof(rc));
		rc.h.type = SHV_NDIS_OBJ_RSS_CAPS;
		rc.h.revision = 2;
		rc.h.size = sizeof(rc);
		rc.caps = SHV_NDIS_RSS_CAP_IPV4 | SHV_NDIS_RSS_CAP_IPV6 |
			  SHV_NDIS_RSS_CAP_TOEPLITZ;
		rc.num_msi = s->dev->channels;
		rc.num_rx_queues = s->dev->channels;
		rc.num_ind_entries = SHV_NDIS_RSS_INDIRECTION;
		memcpy(out, &rc, sizeof(rc));
		*outlen = sizeof(rc);
		return SHV_RNDIS_STATUS_SUCCESS;
	}
	default:
		return SHV_RNDIS_STATUS_NOT_SUPPORTED;
	}
	memcpy(out, &v, 4);
	*outlen = 4;
	return SHV_RNDIS_STATUS_SUCCESS;
}

/* One checksum parameter (0 no change, 1 off, 2 tx, 3 rx, 4 both) into
 * the enabled sets; false for a value outside that range. */
static bool csum_param(uint8_t v, uint32_t bit, uint32_t *tx, uint32_t *rx)
{
	switch (v) {
	case SHV_OLP_NO_CHANGE:
		return true;
	case SHV_OLP_OFF:
		*tx &= ~bit;
		*rx &= ~bit;
		return true;
	case SHV_OLP_TX:
		*tx |= bit;
		*rx &= ~bit;
		return true;
	case SHV_OLP_RX:
		*tx &= ~bit;
		*rx |= bit;
		return true;
	case SHV_OLP_TXRX:
		*tx |= bit;
		*rx |= bit;
		return true;
	default:
		return false;
	}
}

static bool lso_param(uint8_t v, bool *on)
{
	if (v == SHV_OLP_NO_CHANGE)
		return true;
	if (v != SHV_OLP_LSO_OFF && v != SHV_OLP_LSO_ON)
		return false;
	*on = v == SHV_OLP_LSO_ON;
	return true;
}

static uint32_t set_offload(struct net_state *s, const uint8_t *in,
			    uint32_t len)
{
	struct shv_ndis_offload_params p;
	memset(&p, 0, sizeof(p));
	if (len < 4)
		return SHV_RNDIS_STATUS_INVALID_LENGTH;
	memcpy(&p, in, len < sizeof(p) ? len : sizeof(p));
	if (p.h.type != SHV_NDIS_OBJ_DEFAULT || !p.h.revision ||
	    p.h.revision > 3 || p.h.size > len ||
	    p.h.size < SHV_NDIS_OFFLOAD_PARAMS_SIZE_6_1)
		return SHV_RNDIS_STATUS_INVALID_DATA;
	if (p.h.size < sizeof(p)) /* the 6.1 form ends before these */
		p.rsc_ip4 = p.rsc_ip6 = p.encap = p.encap_types = 0;
	/* never offered: LSOv1, IPsec, connection offload, RSC */
	const uint8_t never[] = { p.lsov1, p.ipsecv1, p.tcp4_conn,
				  p.tcp6_conn, p.ipsecv2, p.ipsecv2_ip4,
				  p.rsc_ip4, p.rsc_ip6 };
	for (size_t i = 0; i < sizeof(never); i++)
		if (never[i] > 1) {
			shv_warn("%s: guest asks for an offload the host does "
				 "not offer (LSOv1, IPsec, RSC or connection "
				 "offload)", s->dev->name);
			return SHV_RNDIS_STATUS_NOT_SUPPORTED;
		}
	uint32_t tx = s->ol_tx, rx = s->ol_rx;
	bool lso4 = s->lso4, lso6 = s->lso6;
	if (!csum_param(p.ip4_csum, NET_OL_IP4, &tx, &rx) ||
	    !csum_param(p.tcp4_csum, NET_OL_TCP4, &tx, &rx) ||
	    !csum_param(p.udp4_csum, NET_OL_UDP4, &tx, &rx) ||
	    !csum_param(p.tcp6_csum, NET_OL_TCP6, &tx, &rx) ||
	    !csum_param(p.udp6_csum, NET_OL_UDP6, &tx, &rx) ||
	    !lso_param(p.lsov2_ip4, &lso4) || !lso_param(p.lsov2_ip6, &lso6))
		return SHV_RNDIS_STATUS_INVALID_DATA;
	if (s->dev->nic.no_offload && (tx || rx || lso4 || lso6)) {
		shv_warn("%s: guest asks for an offload the host did not "
			 "offer (offload=none)", s->dev->name);
		return SHV_RNDIS_STATUS_NOT_SUPPORTED;
	}
	s->ol_tx = tx;
	s->ol_rx = rx;
	s->lso4 = lso4;
	s->lso6 = lso6;
	sim_log(SIM_LOG_DEBUG, "%s: offloads tx %#x rx %#x lso4 %d lso6 %d",
		s->dev->name, tx, rx, lso4, lso6);
	return SHV_RNDIS_STATUS_SUCCESS;
}

static uint32_t set_rss(struct net_state *s, const uint8_t *in, uint32_t len)
{
	struct shv_ndis_rss_params p;
	if (!rss_offered(s))
		return SHV_RNDIS_STATUS_NOT_SUPPORTED;
	if (len < SHV_NDIS_RSS_PARAMS_SIZE_6_0)
		return SHV_RNDIS_STATUS_INVALID_LENGTH;
	memset(&p, 0, sizeof(p));
	memcpy(&p, in, len < sizeof(p) ? len : sizeof(p));
	if (p.h.type != SHV_NDIS_OBJ_RSS_PARAMS || !p.h.revision ||
	    p.h.revision > 2 || p.h.size > len ||
	    p.h.size < SHV_NDIS_RSS_PARAMS_SIZE_6_0)
		return SHV_RNDIS_STATUS_INVALID_DATA;
	if (p.flags & SHV_NDIS_RSS_FLAG_DISABLE) {
		s->rss = false;
		return SHV_RNDIS_STATUS_SUCCESS;
	}
	if (p.ind_size % 4 || !p.ind_size ||
	    p.ind_size > 4 * SHV_NDIS_RSS_INDIRECTION ||
	    p.ind_offset > len || p.ind_size > len - p.ind_offset ||
	    p.key_offset > len || p.key_size > len - p.key_offset ||
	    (p.key_size && p.key_size != 40))
		return SHV_RNDIS_STATUS_INVALID_DATA;
	uint32_t n = p.ind_size / 4, tab[SHV_NDIS_RSS_INDIRECTION];
	memcpy(tab, in + p.ind_offset, p.ind_size);
	for (uint32_t i = 0; i < n; i++)
		if (tab[i] >= s->dev->channels)
			return SHV_RNDIS_STATUS_INVALID_DATA;
	for (uint32_t i = 0; i < SHV_NDIS_RSS_INDIRECTION; i++)
		s->rss_ind[i] = tab[i % n];
	s->rss = true;
	return SHV_RNDIS_STATUS_SUCCESS;
}

static uint32_t set(struct net_state *s, uint32_t oid, const uint8_t *in,
		    uint32_t len)
{
	switch (oid) {
	case SHV_OID_GEN_CURRENT_PACKET_FILTER: {
		if (len < 4)
			return SHV_RNDIS_STATUS_INVALID_LENGTH;
		uint32_t f = shv_get32(in);
		if (f & ~SHV_FILTER_KNOWN)
			return SHV_RNDIS_STATUS_INVALID_DATA;
		s->filter = f;
		return SHV_RNDIS_STATUS_SUCCESS;
	}
	case SHV_OID_TCP_OFFLOAD_PARAMETERS:
		return set_offload(s, in, len);
	case SHV_OID_GEN_RSS_PARAMETERS:
		return set_rss(s, in, len);
	case SHV_OID_802_3_MULTICAST_LIST:
		return len % 6 ? SHV_RNDIS_STATUS_INVALID_LENGTH
			       : SHV_RNDIS_STATUS_SUCCESS;
	default:
		return SHV_RNDIS_STATUS_NOT_SUPPORTED;
	}
}

/* Information buffer of a QUERY/SET: offsets are from byte 8. */
static bool info_buf(const uint8_t *msg, uint32_t len, const uint8_t **buf,
		     uint32_t *blen)
{
	uint32_t il = shv_get32(msg + 16), io = shv_get32(msg + 20);
	*buf = NULL;
	*blen = il;
	if (!il)
		return true;
	uint64_t start = 8ull + io;
	if (start < sizeof(struct shv_rndis_oid_req) || start > len ||
	    il > len - start)
		return false;
	*buf = msg + start;
	return true;
}

void net_rndis_control(struct net_state *s, struct shv_chan *c,
		       const uint8_t *msg, uint32_t len)
{
	uint8_t out[NET_CTL_MAX];
	const char *name = shv_chan_name(c);
	if (len < 12) {
		shv_warn("%s: RNDIS control message of %u bytes; dropped", name,
			 len);
		return;
	}
	uint32_t type = shv_get32(msg), mlen = shv_get32(msg + 4);
	uint32_t req = shv_get32(msg + 8);
	if (mlen < 12 || mlen > len) {
		shv_warn("%s: RNDIS message length %u, %u bytes arrived; "
			 "dropped", name, mlen, len);
		return;
	}
	len = mlen;
	memset(out, 0, sizeof(out));
	switch (type) {
	case SHV_RNDIS_INITIALIZE: {
		if (len < sizeof(struct shv_rndis_init_req))
			break;
		struct shv_rndis_init_cmplt r = {
			.h = { SHV_RNDIS_INITIALIZE | SHV_RNDIS_CMPLT,
			       sizeof(r) },
			.req_id = req,
			.major = 1,
			.minor = 0,
			.dev_flags = 1, /* connectionless */
			.medium = 0,    /* 802.3 */
			.max_pkts_per_msg = MAX_PKTS_PER_MSG,
			.max_xfer_size = MAX_XFER_SIZE,
			.pkt_align_shift = PKT_ALIGN_SHIFT,
		};
		if (shv_get32(msg + 12) != 1) {
			shv_warn("%s: RNDIS version %u.%u not supported", name,
				 shv_get32(msg + 12), shv_get32(msg + 16));
			r.status = SHV_RNDIS_STATUS_NOT_SUPPORTED;
		} else {
			s->rndis = RNDIS_READY;
		}
		net_send_control(s, c, &r, sizeof(r));
		return;
	}
	case SHV_RNDIS_HALT:
		s->rndis = RNDIS_HALTED;
		s->filter = 0;
		return;
	case SHV_RNDIS_QUERY:
	case SHV_RNDIS_SET: {
		if (len < sizeof(struct shv_rndis_oid_req))
			break;
		const uint8_t *in;
		uint32_t inlen, st, olen = 0;
		uint32_t oid = shv_get32(msg + 12);
		bool q = type == SHV_RNDIS_QUERY;
		struct shv_rndis_query_cmplt *r = (void *)out;
		uint32_t hl = q ? sizeof(struct shv_rndis_query_cmplt)
				: sizeof(struct shv_rndis_status_cmplt);
		if (!info_buf(msg, len, &in, &inlen)) {
			shv_warn("%s: RNDIS %s %#x information buffer "
				 "outside the message", name,
				 q ? "QUERY" : "SET", oid);
			st = SHV_RNDIS_STATUS_INVALID_DATA;
		} else if (s->rndis != RNDIS_READY) {
			st = SHV_RNDIS_STATUS_FAILURE;
		} else if (q) {
			st = query(s, oid, in, inlen, out + hl,
				   sizeof(out) - hl, &olen);
		} else {
			st = set(s, oid, in, inlen);
		}
		if (st != SHV_RNDIS_STATUS_SUCCESS &&
		    st != SHV_RNDIS_STATUS_NOT_SUPPORTED)
			shv_warn("%s: RNDIS %s of OID %#x failed with %#x",
				 name, q ? "QUERY" : "SET", oid, st);
		if (st != SHV_RNDIS_STATUS_SUCCESS)
			olen = 0;
		r->h.type = type | SHV_RNDIS_CMPLT;
		r->h.len = hl + olen;
		r->req_id = req;
		r->status = st;
		if (q) {
			r->info_len = olen;
			r->info_offset = olen ? hl - 8 : 0;
		}
		net_send_control(s, c, out, hl + olen);
		return;
	}
	case SHV_RNDIS_RESET: {
		struct shv_rndis_reset_cmplt r = {
			.h = { SHV_RNDIS_RESET | SHV_RNDIS_CMPLT, sizeof(r) },
		};
		s->filter = 0;
		net_send_control(s, c, &r, sizeof(r));
		return;
	}
	case SHV_RNDIS_KEEPALIVE: {
		struct shv_rndis_status_cmplt r = {
			.h = { SHV_RNDIS_KEEPALIVE | SHV_RNDIS_CMPLT,
			       sizeof(r) },
			.req_id = req,
		};
		net_send_control(s, c, &r, sizeof(r));
		return;
	}
	default:
		shv_warn("%s: RNDIS control message type %#x not handled; "
			 "dropped", name, type);
		return;
	}
	shv_warn("%s: RNDIS message type %#x of %u bytes is too short; "
		 "dropped", name, type, len);
}

void net_rndis_link(struct net_state *s)
{
	if (s->rndis != RNDIS_READY || !s->chans[0])
		return;
	struct shv_rndis_indicate r = {
		.h = { SHV_RNDIS_INDICATE_STATUS, sizeof(r) },
		.status = s->dev->nic.link_up ? SHV_RNDIS_STATUS_MEDIA_CONNECT
					      : SHV_RNDIS_STATUS_MEDIA_DISCONNECT,
	};
	net_send_control(s, s->chans[0], &r, sizeof(r));
}

const char *net_rndis_parse(uint8_t *msg, uint32_t len, struct net_frame *f)
{
	struct shv_rndis_packet p;
	memset(f, 0, sizeof(*f));
	if (len < sizeof(p))
		return "RNDIS PACKET shorter than its header";
	memcpy(&p, msg, sizeof(p));
	uint64_t body = len - 8u;
	if (p.data_offset < sizeof(p) - 8 || p.data_offset > body ||
	    p.data_len > body - p.data_offset)
		return "RNDIS data offset/length outside the message";
	if (p.oob_len || p.num_oob || p.oob_offset)
		return "RNDIS out-of-band data is not used by NetVSC";
	if (p.ppi_len) {
		if (p.ppi_offset < sizeof(p) - 8 || p.ppi_offset > body ||
		    p.ppi_len > body - p.ppi_offset)
			return "RNDIS per-packet info outside the message";
		const uint8_t *q = msg + 8 + p.ppi_offset;
		uint32_t left = p.ppi_len;
		while (left) {
			if (left < sizeof(struct shv_rndis_ppi))
				return "per-packet info element truncated";
			uint32_t sz = shv_get32(q), type = shv_get32(q + 4);
			uint32_t doff = shv_get32(q + 8);
			if (sz < sizeof(struct shv_rndis_ppi) || sz > left ||
			    doff < sizeof(struct shv_rndis_ppi) || doff > sz)
				return "per-packet info element size/offset bad";
			uint32_t dl = sz - doff;
			switch (type & 0x7FFFFFFFu) {
			case SHV_PPI_VLAN:
				if (dl < 4)
					return "802.1Q per-packet info too short";
				f->has_vlan = true;
				f->vlan = shv_get32(q + doff);
				break;
			case SHV_PPI_CHECKSUM:
				if (dl < 4)
					return "checksum per-packet info too short";
				f->csum = shv_get32(q + doff);
				break;
			case SHV_PPI_LSO:
				if (dl < 4)
					return "large send per-packet info too "
					       "short";
				f->lso = shv_get32(q + doff);
				break;
			default:
				break; /* hash hints and others: ignored */
			}
			q += sz;
			left -= sz;
		}
	}
	f->data = msg + 8 + p.data_offset;
	f->len = p.data_len;
	return NULL;
}

uint32_t net_rndis_build(uint8_t *out, uint32_t cap, const uint8_t *frame,
			 uint32_t len, const struct net_frame *info)
{
	uint32_t ppi = 0;
	if (info && info->has_vlan)
		ppi += 16u;
	if (info && info->rx_csum)
		ppi += 16u;
	uint32_t total = (uint32_t)sizeof(struct shv_rndis_packet) + ppi + len;
	if (total > cap)
		return 0;
	struct shv_rndis_packet p = {
		.h = { SHV_RNDIS_PACKET, total },
		.data_offset = (uint32_t)sizeof(p) - 8 + ppi,
		.data_len = len,
		.ppi_offset = ppi ? (uint32_t)sizeof(p) - 8 : 0,
		.ppi_len = ppi,
	};
	memcpy(out, &p, sizeof(p));
	uint8_t *q = out + sizeof(p);
	if (info && info->has_vlan) {
		struct shv_rndis_ppi e = { 16, SHV_PPI_VLAN, 12 };
		memcpy(q, &e, sizeof(e));
		shv_put32(q + 12, info->vlan);
		q += 16;
	}
	if (info && info->rx_csum) {
		struct shv_rndis_ppi e = { 16, SHV_PPI_CHECKSUM, 12 };
		memcpy(q, &e, sizeof(e));
		shv_put32(q + 12, info->rx_csum);
		q += 16;
	}
	memcpy(q, frame, len);
	return total;
}
