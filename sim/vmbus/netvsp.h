/* SPDX-License-Identifier: MIT */
/*
 * sim/vmbus/netvsp.h - state shared by the NetVSP (netvsp.c: NVSP, the
 * receive and send buffers, frame delivery) and its RNDIS part (rndis.c).
 */
#ifndef PVIO_SIM_VMBUS_NETVSP_H
#define PVIO_SIM_VMBUS_NETVSP_H

#include "vmbus/shv.h"

#define NET_CTL_QUEUE 8
#define NET_CTL_MAX 256u
#define NET_TX_MAX (256u * 1024u)   /* one SEND_RNDIS_PKT, all frames */
#define NET_RX_BATCH 16             /* frames per transfer-page packet */
#define NET_SEG_MAX 16384u          /* one segment of a large send */

/* Offloads in force (OID_TCP_OFFLOAD_PARAMETERS), per direction */
#define NET_OL_IP4 0x01u            /* IPv4 header checksum */
#define NET_OL_TCP4 0x02u
#define NET_OL_UDP4 0x04u
#define NET_OL_TCP6 0x08u
#define NET_OL_UDP6 0x10u
/* What the host offers in OID_TCP_OFFLOAD_HARDWARE_CAPABILITIES */
#define NET_LSO_MAX 62768u          /* bytes of one large send, from L3 */
#define NET_LSO_MIN_SEGS 2u

enum rndis_state { RNDIS_UNINIT, RNDIS_READY, RNDIS_HALTED };

struct net_ctl_msg {
	struct shv_chan *chan;
	uint32_t len;
	uint8_t msg[NET_CTL_MAX];
};

struct net_state {
	struct shv_dev *dev;
	struct shv_part *part;
	unsigned refs;
	struct shv_chan *chans[SHV_MAX_CHANNELS]; /* by sub-channel index */
	uint32_t nvsp_ver;
	uint32_t ndis_ver;
	uint32_t ndis_mtu;
	uint64_t ndis_caps;
	/* receive buffer: one section of slots */
	struct shv_gpadl *rbuf;
	uint16_t rbuf_id;
	uint32_t slot_size, slot_count, slots_free, slot_hint;
	uint32_t slot_first;        /* slots below it are never used */
	uint32_t *slot_next;        /* chain of one transfer, UINT32_MAX ends */
	uint8_t *slot_state;        /* 0 free, 1 in a transfer, 2 its head */
	/* buffers revoked while the channel is open: from VMBus 4.0 on the
	 * host keeps their GPADLs until the channel closes */
	struct shv_gpadl *held[2];
	/* send buffer */
	struct shv_gpadl *sbuf;
	uint16_t sbuf_id;
	uint32_t section_size, section_count;
	/* RNDIS */
	enum rndis_state rndis;
	uint32_t filter;
	uint32_t ol_tx, ol_rx;      /* NET_OL_* */
	bool lso4, lso6;
	bool rss;
	uint32_t rss_ind[SHV_NDIS_RSS_INDIRECTION];
	unsigned ctl_n;
	struct net_ctl_msg ctl[NET_CTL_QUEUE];
	/* scratch */
	uint8_t *tx;
	uint8_t *seg;               /* one segment of a large send */
	struct shv_sg sg;
	uint64_t rx_slots_full, rx_filtered;
};

/* rndis.c */
/* A control message (channel type 1) from the guest. */
void net_rndis_control(struct net_state *s, struct shv_chan *c,
		       const uint8_t *msg, uint32_t len);
/* Link state changed: tell the guest (INDICATE_STATUS). */
void net_rndis_link(struct net_state *s);

/* One RNDIS data message parsed: the frame and what its PPIs ask.  The
 * frame lies in the host's private copy, so offloads may rewrite it. */
struct net_frame {
	uint8_t *data;
	uint32_t len;
	bool has_vlan;
	uint32_t vlan;              /* 802.1Q info PPI value */
	uint32_t csum;              /* TCP/IP checksum PPI value (TX), 0: none */
	uint32_t lso;               /* large send PPI value, 0: none */
	uint32_t rx_csum;           /* host to guest: checksum PPI, 0: none */
};
/* NULL when the PACKET message at msg (len bytes) is valid. */
const char *net_rndis_parse(uint8_t *msg, uint32_t len, struct net_frame *f);
/* Build an RNDIS PACKET message for a received frame; returns its size,
 * 0 if it does not fit cap. */
uint32_t net_rndis_build(uint8_t *out, uint32_t cap, const uint8_t *frame,
			 uint32_t len, const struct net_frame *info);

/* offload.c */
/* The checksum offloads a transmitted frame asks for, done in place:
 * NULL, or why the frame is refused (offload not enabled, headers
 * not where the PPI says). */
const char *net_tx_csum(const struct net_state *s, struct net_frame *f);
/* Cut a large send into MSS-sized TCP segments (s->seg, one at a time),
 * each with its IP and TCP headers and checksums filled in, and hand each
 * to emit.  NULL, or why the frame is refused. */
const char *net_tx_lso(struct net_state *s, struct net_frame *f,
		       void (*emit)(void *arg, struct net_frame *seg),
		       void *arg);
/* The receive checksum PPI value for a frame delivered to a guest that
 * enabled receive checksum offload (0: nothing to report). */
uint32_t net_rx_csum(const struct net_state *s, const uint8_t *f,
		     uint32_t len);

/* netvsp.c */
/* Queue a control message (completion or indication) for the guest. */
void net_send_control(struct net_state *s, struct shv_chan *c,
		      const void *msg, uint32_t len);

#endif /* PVIO_SIM_VMBUS_NETVSP_H */
