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
	/* send buffer */
	struct shv_gpadl *sbuf;
	uint16_t sbuf_id;
	uint32_t section_size, section_count;
	/* RNDIS */
	enum rndis_state rndis;
	uint32_t filter;
	bool rss;
	uint32_t rss_ind[SHV_NDIS_RSS_INDIRECTION];
	unsigned ctl_n;
	struct net_ctl_msg ctl[NET_CTL_QUEUE];
	/* scratch */
	uint8_t *tx;
	struct shv_sg sg;
	uint64_t rx_slots_full, rx_filtered;
};

/* rndis.c */
/* A control message (channel type 1) from the guest. */
void net_rndis_control(struct net_state *s, struct shv_chan *c,
		       const uint8_t *msg, uint32_t len);
/* Link state changed: tell the guest (INDICATE_STATUS). */
void net_rndis_link(struct net_state *s);

/* One RNDIS data message parsed: the frame and what its PPIs ask. */
struct net_frame {
	const uint8_t *data;
	uint32_t len;
	bool has_vlan;
	uint32_t vlan;              /* 802.1Q info PPI value */
};
/* NULL when the PACKET message at msg (len bytes) is valid. */
const char *net_rndis_parse(const uint8_t *msg, uint32_t len,
			    struct net_frame *f);
/* Build an RNDIS PACKET message for a received frame; returns its size,
 * 0 if it does not fit cap. */
uint32_t net_rndis_build(uint8_t *out, uint32_t cap, const uint8_t *frame,
			 uint32_t len, const struct net_frame *info);

/* netvsp.c */
/* Queue a control message (completion or indication) for the guest. */
void net_send_control(struct net_state *s, struct shv_chan *c,
		      const void *msg, uint32_t len);

#endif /* PVIO_SIM_VMBUS_NETVSP_H */
