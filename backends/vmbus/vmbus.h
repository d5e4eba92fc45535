/* SPDX-License-Identifier: MIT */
/*
 * backends/vmbus/vmbus.h - Hyper-V VMBus back end: wire formats and the
 * interfaces between its files.
 *
 * Layers (one file each):
 *   conn.c      VMBus channel management messages (contact, offers,
 *               GPADLs, open/close, rescind, unload) over a message port
 *   ring.c      the channel ring buffer (packets, trailers, signalling)
 *   chan.c      channel helpers shared by NetVSC and StorVSC: packet
 *               building, transaction-id table
 *   net.c       NetVSC (NVSP + RNDIS) ; rndis.c its pure encoders/decoders
 *   blk.c       StorVSC (VSTOR + SCSI) ; scsi.c its pure encoders/decoders
 *   transport.c the pvio_backend entry and the device ops dispatch
 *   hostif.h    how the back end reaches a host; hostif_sim.c is the
 *               simulated host's socket (docs/sim-hostif.md)
 *
 * All wire structures are little-endian and packed; the tests compare
 * them with DPDK's rte_vmbus_reg.h.  Nothing in here uses the C library
 * beyond what <pvio/transport.h> allows (hostif_sim.c is the exception:
 * it is the hosted Linux way in).
 */
#ifndef PVIO_VMBUS_H
#define PVIO_VMBUS_H

#include <pvio/transport.h>

#define VMBUS_PAGE 4096u
#define VMBUS_PAGE_SHIFT 12

#define VMBUS_PACKED __attribute__((packed))

/* ------------------------------------------------------------------ */
/* GUIDs (Microsoft mixed-endian wire form)                            */
/* ------------------------------------------------------------------ */

struct vmbus_guid {
	uint8_t b[16];
};

extern const struct vmbus_guid vmbus_guid_netvsc;
extern const struct vmbus_guid vmbus_guid_storvsc;

static inline bool vmbus_guid_eq(const struct vmbus_guid *a,
				 const struct vmbus_guid *b)
{
	return memcmp(a->b, b->b, 16) == 0;
}

/* "f8615163-df3e-46c5-913f-f2d2f965ed0e" (buf >= 37 bytes) */
void vmbus_guid_str(const struct vmbus_guid *g, char *buf, size_t size);

/* ------------------------------------------------------------------ */
/* Channel management messages (HvPostMessage / SynIC SINT 2)          */
/* ------------------------------------------------------------------ */

#define VMBUS_MSG_MAX 240u /* payload of one hypervisor message */

enum {
	VMBUS_MSG_OFFERCHANNEL = 1,
	VMBUS_MSG_RESCIND_CHANNELOFFER = 2,
	VMBUS_MSG_REQUESTOFFERS = 3,
	VMBUS_MSG_ALLOFFERS_DELIVERED = 4,
	VMBUS_MSG_OPENCHANNEL = 5,
	VMBUS_MSG_OPENCHANNEL_RESULT = 6,
	VMBUS_MSG_CLOSECHANNEL = 7,
	VMBUS_MSG_GPADL_HEADER = 8,
	VMBUS_MSG_GPADL_BODY = 9,
	VMBUS_MSG_GPADL_CREATED = 10,
	VMBUS_MSG_GPADL_TEARDOWN = 11,
	VMBUS_MSG_GPADL_TORNDOWN = 12,
	VMBUS_MSG_RELID_RELEASED = 13,
	VMBUS_MSG_INITIATE_CONTACT = 14,
	VMBUS_MSG_VERSION_RESPONSE = 15,
	VMBUS_MSG_UNLOAD = 16,
	VMBUS_MSG_UNLOAD_RESPONSE = 17,
};

/* VMBus protocol versions, newest first is how they are tried. */
#define VMBUS_VERSION(maj, min) (((uint32_t)(maj) << 16) | (min))
#define VMBUS_VERSION_WIN8 VMBUS_VERSION(2, 4)
#define VMBUS_VERSION_WIN10_V5 VMBUS_VERSION(5, 0)

/* HvPostMessage connection ids and status codes */
#define VMBUS_CONNID_MESSAGE 1u
#define VMBUS_CONNID_MESSAGE_V5 4u
#define VMBUS_MESSAGE_SINT 2u
#define HV_STATUS_SUCCESS 0u
#define HV_STATUS_INVALID_PARAMETER 5u
#define HV_STATUS_INSUFFICIENT_MEMORY 11u
#define HV_STATUS_INVALID_CONNECTION_ID 18u
#define HV_STATUS_INSUFFICIENT_BUFFERS 19u

struct vmbus_msg_hdr {
	uint32_t type;
	uint32_t padding;
} VMBUS_PACKED;

struct vmbus_msg_offer {
	struct vmbus_msg_hdr hdr;
	struct vmbus_guid if_type;
	struct vmbus_guid if_instance;
	uint8_t reserved1[16];
	uint16_t chn_flags;
	uint16_t mmio_mb;
	uint8_t user_def[120];
	uint16_t sub_channel_index;
	uint16_t reserved2;
	uint32_t child_relid;
	uint8_t monitor_id;
	uint8_t monitor_flags; /* bit0: monitor allocated */
	uint16_t interrupt_flags; /* bit0: dedicated interrupt */
	uint32_t connection_id;
} VMBUS_PACKED;

struct vmbus_msg_relid {          /* RESCIND, CLOSECHANNEL, RELID_RELEASED */
	struct vmbus_msg_hdr hdr;
	uint32_t child_relid;
} VMBUS_PACKED;

struct vmbus_msg_open {
	struct vmbus_msg_hdr hdr;
	uint32_t child_relid;
	uint32_t openid;
	uint32_t ring_gpadl;
	uint32_t target_vp;
	uint32_t downstream_page_offset;
	uint8_t user_data[120];
} VMBUS_PACKED;

struct vmbus_msg_open_result {
	struct vmbus_msg_hdr hdr;
	uint32_t child_relid;
	uint32_t openid;
	uint32_t status;
} VMBUS_PACKED;

struct vmbus_msg_gpadl_header {
	struct vmbus_msg_hdr hdr;
	uint32_t child_relid;
	uint32_t gpadl;
	uint16_t range_buflen;
	uint16_t rangecount;
	/* then struct vmbus_range_hdr + PFNs */
} VMBUS_PACKED;

struct vmbus_msg_gpadl_body {
	struct vmbus_msg_hdr hdr;
	uint32_t msgnumber;
	uint32_t gpadl;
	/* then u64 PFNs */
} VMBUS_PACKED;

struct vmbus_msg_gpadl_created {
	struct vmbus_msg_hdr hdr;
	uint32_t child_relid;
	uint32_t gpadl;
	uint32_t status;
} VMBUS_PACKED;

struct vmbus_msg_gpadl_teardown {
	struct vmbus_msg_hdr hdr;
	uint32_t child_relid;
	uint32_t gpadl;
} VMBUS_PACKED;

struct vmbus_msg_gpadl_torndown {
	struct vmbus_msg_hdr hdr;
	uint32_t gpadl;
} VMBUS_PACKED;

struct vmbus_msg_initiate_contact {
	struct vmbus_msg_hdr hdr;
	uint32_t version;
	uint32_t target_vcpu;
	union {
		uint64_t interrupt_page; /* < 5.0 */
		struct {
			uint8_t msg_sint; /* >= 5.0 */
			uint8_t pad[7];
		} v5;
	} u;
	uint64_t monitor_page1;
	uint64_t monitor_page2;
} VMBUS_PACKED;

struct vmbus_msg_version_response {
	struct vmbus_msg_hdr hdr;
	uint8_t version_supported;
	uint8_t connection_state;
	uint16_t padding;
	uint32_t msg_conn_id;
} VMBUS_PACKED;

/* GPADL: one range, 26 PFNs fit in the header message, 28 in a body */
#define VMBUS_GPADL_HEADER_PFNS 26u
#define VMBUS_GPADL_BODY_PFNS 28u
#define VMBUS_GPADL_FIRST 0xE1E10u

/* ------------------------------------------------------------------ */
/* Ring buffer and packets                                             */
/* ------------------------------------------------------------------ */

struct vmbus_ring_hdr {
	uint32_t write_index;
	uint32_t read_index;
	uint32_t interrupt_mask;
	uint32_t pending_send_sz;
	uint32_t reserved1[12];
	uint32_t feature_bits; /* bit0: pending_send_sz supported */
} VMBUS_PACKED;

enum {
	VMBUS_PKT_INBAND = 0x6,
	VMBUS_PKT_XFER_PAGES = 0x7,
	VMBUS_PKT_GPA_DIRECT = 0x9,
	VMBUS_PKT_COMP = 0xB,
};
#define VMBUS_PKT_FLAG_COMPLETION 0x1u

struct vmbus_pkt_desc {
	uint16_t type;
	uint16_t offset8; /* header length / 8 */
	uint16_t len8;    /* total length / 8, without the trailer */
	uint16_t flags;
	uint64_t trans_id;
} VMBUS_PACKED;

struct vmbus_range_hdr {
	uint32_t byte_count;
	uint32_t byte_offset;
	/* then u64 pfn[] */
} VMBUS_PACKED;

struct vmbus_pkt_gpa_hdr {   /* after the descriptor of a GPA-direct packet */
	uint32_t reserved;
	uint32_t range_count;
} VMBUS_PACKED;

struct vmbus_pkt_xfer_hdr {  /* after the descriptor of a transfer-page packet */
	uint16_t xfer_pageset_id;
	uint8_t sender_owns_set;
	uint8_t reserved;
	uint32_t range_count;
} VMBUS_PACKED;

struct vmbus_xfer_range {
	uint32_t byte_count;
	uint32_t byte_offset;
} VMBUS_PACKED;

/* ------------------------------------------------------------------ */
/* Offers and channels                                                 */
/* ------------------------------------------------------------------ */

/* The parts of an offer pvio keeps (validated copy). */
struct vmbus_offer {
	struct vmbus_guid if_type;
	struct vmbus_guid if_instance;
	uint32_t relid;
	uint32_t connection_id;
	uint16_t sub_index;
	uint8_t monitor_id;
	uint8_t monitor_allocated;
	uint8_t dedicated_interrupt;
	uint8_t rescinded;
	uint8_t present;
};

/* Relids pvio accepts: a bit in the 2048-bit SINT event-flag bitmap,
 * bit 0 is not a channel. */
#define VMBUS_RELID_MAX 2047u

/* One direction of a channel's ring.  hdr/data are host-shared; the rest
 * is private. */
struct vmbus_ring {
	volatile uint8_t *hdr;   /* struct vmbus_ring_hdr, one page */
	volatile uint8_t *data;  /* size bytes */
	uint32_t size;
	/* send ring: our write index (published at kick) and what we last
	 * published; receive ring: our read index and what we last
	 * published. */
	uint32_t priv;
	uint32_t pub;
	/* receive ring: the host's write index as last validated */
	uint32_t host_w;
	bool pending_set;        /* send ring: pending_send_sz is set */
};

struct vmbus_hostif;

/* A channel (primary or sub-channel) as the protocol files see it. */
struct vmbus_chan {
	struct vmbus_offer offer;
	struct vmbus_ring tx;    /* guest -> host */
	struct vmbus_ring rx;    /* host -> guest */
	uint32_t ring_bytes;     /* each direction, header page included */
	void *ring_mem;          /* send ring then receive ring */
	uint64_t ring_dev_addr;
	uint32_t ring_gpadl;
	bool open;
	/* set by the control path when the host rescinded the channel;
	 * read by the data path (atomic accesses) */
	int gone;
	void *hpriv;             /* the host interface's */
	struct vmbus_hostif *hostif;
};

static inline bool vmbus_chan_gone(const struct vmbus_chan *ch)
{
	return __atomic_load_n(&ch->gone, __ATOMIC_ACQUIRE) != 0;
}

/* ---- ring.c ---- */

/* Bind a ring to its memory (ring_bytes = header page + data). */
void vmbus_ring_init(struct vmbus_ring *r, void *mem, uint32_t ring_bytes);
/* Set feature_bits (pending_send_sz supported); done by the guest before
 * the channel is opened. */
void vmbus_ring_setup(struct vmbus_ring *r);

/* Send ring.  Write one packet made of n pieces (they are padded to 8 and
 * followed by the trailer) at the private write index; not visible to
 * the host until vmbus_ring_publish.  0, -EAGAIN (no room: pending_send_sz
 * is set so the host interrupts when there is), -EIO (host index bad:
 * *why says what). */
struct vmbus_iov {
	const void *base;
	uint32_t len;
};
int vmbus_ring_write(struct vmbus_ring *r, const struct vmbus_iov *iov,
		     unsigned n, const char **why);
/* Publish written packets.  Returns 1 if the host must be signalled (the
 * ring was empty before and the host has not masked interrupts), 0 if not,
 * -1 if nothing was written since the last publish. */
int vmbus_ring_publish(struct vmbus_ring *r);
/* Bytes free for the writer (for sizing decisions; -1 bad host index). */
int64_t vmbus_ring_free(struct vmbus_ring *r);

/* Receive ring.  Copy the next packet out into buf (cap bytes): returns
 * its length (len8 * 8), 0 if the ring is empty, -EIO for a malformed
 * packet or index (*why says what), -EMSGSIZE if it does not fit in cap
 * (also broken: pvio sizes cap for every packet the protocol allows).
 * The packet is consumed privately (read_index is published by
 * vmbus_ring_done). */
int vmbus_ring_read(struct vmbus_ring *r, void *buf, uint32_t cap,
		    const char **why);
/* Look at the next packet's descriptor without consuming it: 1, 0 empty,
 * -EIO. */
int vmbus_ring_peek(struct vmbus_ring *r, struct vmbus_pkt_desc *d,
		    const char **why);
/* Publish the read index after a batch of reads.  Returns 1 if the host
 * (a blocked writer, pending_send_sz) must be signalled. */
int vmbus_ring_done(struct vmbus_ring *r);
/* Interrupt mask of the receive ring: mask while polling; unmask returns
 * 1 if data arrived meanwhile (do not sleep). */
void vmbus_ring_mask(struct vmbus_ring *r);
int vmbus_ring_unmask(struct vmbus_ring *r);
/* 1 if the receive ring has unread bytes. */
int vmbus_ring_pending(struct vmbus_ring *r);

/* ---- chan.c: packets and transaction ids ---- */

/* Build a descriptor for a packet of type with hdr_len header bytes
 * (descriptor included, multiple of 8) and payload_len payload bytes. */
void vmbus_pkt_desc(struct vmbus_pkt_desc *d, uint16_t type, uint32_t hdr_len,
		    uint32_t payload_len, uint16_t flags, uint64_t trans_id);
/* Write an inband (or completion) packet; counts nothing. */
int vmbus_send_inband(struct vmbus_chan *ch, uint16_t type, uint16_t flags,
		      uint64_t trans_id, const void *payload, uint32_t len,
		      const char **why);
/* Publish the send ring and signal the host if the rules say so; counts
 * into st when given. */
void vmbus_chan_kick(struct vmbus_chan *ch, struct pvio_queue_stats *st);
/* After reading: publish the read index, signal a blocked host writer. */
void vmbus_chan_read_done(struct vmbus_chan *ch, struct pvio_queue_stats *st);

/*
 * Transaction ids: small integers 1..n naming slots of a per-queue table.
 * The host echoes them; vmbus_tid_lookup() checks range and use before
 * anything is indexed.  No allocation after vmbus_tid_init.
 */
struct vmbus_tid {
	uint32_t n;
	uint32_t nfree;
	uint32_t *free;   /* stack of free slots */
	uint8_t *used;
};
int vmbus_tid_init(pvio_ctx *ctx, struct vmbus_tid *t, uint32_t n);
void vmbus_tid_fini(pvio_ctx *ctx, struct vmbus_tid *t);
/* A free slot's id (slot + 1), or 0 if none. */
uint64_t vmbus_tid_get(struct vmbus_tid *t);
/* slot for an id the host sent, or -1 if it is not outstanding */
int64_t vmbus_tid_lookup(const struct vmbus_tid *t, uint64_t id);
void vmbus_tid_put(struct vmbus_tid *t, uint32_t slot);
uint32_t vmbus_tid_busy(const struct vmbus_tid *t);

/* Ring sizes pvio uses */
#define VMBUS_RING_BYTES_NET (256u * 1024u)
#define VMBUS_RING_BYTES_BLK (256u * 1024u)

#endif /* PVIO_VMBUS_H */
