/* SPDX-License-Identifier: MIT */
/*
 * sim/xen/wire.h - the Xen wire formats the simulated Xen host speaks:
 * xenstore messages, grant table v1 entries, the shared ring header and
 * the blkif / netif ring entries (x86_64 ABI, little-endian).
 *
 * Written from the protocol fact sheet (shared/specs/xen-pv.md); nothing
 * here comes from the Xen headers.  tests/unit/test_simxen_layout.c
 * compares every size and offset with Debian's libxen-dev headers, so a
 * mistake here fails the build's tests rather than a guest.
 */
#ifndef PVIO_SIM_XEN_WIRE_H
#define PVIO_SIM_XEN_WIRE_H

#include <stdint.h>

#define SXEN_PAGE_SIZE 4096u
#define SXEN_PAGE_SHIFT 12

/* ---- xenstore wire protocol ---- */
enum {
	SXS_CONTROL = 0,
	SXS_DIRECTORY = 1,
	SXS_READ = 2,
	SXS_GET_PERMS = 3,
	SXS_WATCH = 4,
	SXS_UNWATCH = 5,
	SXS_TRANSACTION_START = 6,
	SXS_TRANSACTION_END = 7,
	SXS_INTRODUCE = 8,
	SXS_RELEASE = 9,
	SXS_GET_DOMAIN_PATH = 10,
	SXS_WRITE = 11,
	SXS_MKDIR = 12,
	SXS_RM = 13,
	SXS_SET_PERMS = 14,
	SXS_WATCH_EVENT = 15,
	SXS_ERROR = 16,
	SXS_IS_DOMAIN_INTRODUCED = 17,
	SXS_RESUME = 18,
	SXS_SET_TARGET = 19,
	/* 20 was RESTRICT, removed */
	SXS_RESET_WATCHES = 21,
	SXS_DIRECTORY_PART = 22,
	SXS_TYPE_COUNT = 23,
};

struct sxen_xs_hdr {
	uint32_t type;
	uint32_t req_id;
	uint32_t tx_id;
	uint32_t len;
};

#define SXEN_XS_PAYLOAD_MAX 4096u
#define SXEN_XS_ABS_PATH_MAX 3072u
#define SXEN_XS_REL_PATH_MAX 2048u

/* ---- grant table v1 ---- */
struct sxen_grant_entry {
	uint16_t flags;
	uint16_t domid;
	uint32_t frame;
};

#define SXEN_GTF_TYPE_MASK 0x3u
#define SXEN_GTF_PERMIT_ACCESS 0x1u
#define SXEN_GTF_READONLY 0x4u
#define SXEN_GTF_READING 0x8u
#define SXEN_GTF_WRITING 0x10u
#define SXEN_GTF_SUB_PAGE 0x100u
#define SXEN_GNT_PER_FRAME (SXEN_PAGE_SIZE / 8u)
#define SXEN_GNT_MAX_FRAMES 32u

/* ---- event channels ---- */
#define SXEN_DOMID_SELF 0x7FF0u
#define SXEN_EVTCHN_MAX 1024u

/* ---- shared ring header (io/ring.h) ---- */
struct sxen_sring_hdr {
	uint32_t req_prod;
	uint32_t req_event;
	uint32_t rsp_prod;
	uint32_t rsp_event;
	uint8_t pvt[4];
	uint8_t pad[44];
};
#define SXEN_SRING_HDR 64u

/* Entries of a ring of `bytes` bytes whose slots are `entry` bytes: the
 * largest power of two that fits after the header. */
static inline uint32_t sxen_ring_entries(uint32_t bytes, uint32_t entry)
{
	uint32_t n = (bytes - SXEN_SRING_HDR) / entry, p = 1;
	while (p * 2 <= n)
		p *= 2;
	return p;
}

/* ---- XenBus states (io/xenbus.h) ---- */
enum {
	SXB_UNKNOWN = 0,
	SXB_INITIALISING = 1,
	SXB_INITWAIT = 2,
	SXB_INITIALISED = 3,
	SXB_CONNECTED = 4,
	SXB_CLOSING = 5,
	SXB_CLOSED = 6,
	SXB_RECONFIGURING = 7,
	SXB_RECONFIGURED = 8,
};

/* ---- blkif (io/blkif.h) ---- */
enum {
	SBLK_OP_READ = 0,
	SBLK_OP_WRITE = 1,
	SBLK_OP_WRITE_BARRIER = 2,
	SBLK_OP_FLUSH_DISKCACHE = 3,
	SBLK_OP_RESERVED_1 = 4,
	SBLK_OP_DISCARD = 5,
	SBLK_OP_INDIRECT = 6,
};
#define SBLK_RSP_OKAY 0
#define SBLK_RSP_ERROR (-1)
#define SBLK_RSP_EOPNOTSUPP (-2)
#define SBLK_MAX_SEGMENTS 11u
#define SBLK_MAX_INDIRECT_PAGES 8u
#define SBLK_SEGS_PER_INDIRECT_FRAME (SXEN_PAGE_SIZE / 8u)
#define SBLK_DISCARD_SECURE 0x1u
#define SBLK_VDISK_CDROM 0x1u
#define SBLK_VDISK_REMOVABLE 0x2u
#define SBLK_VDISK_READONLY 0x4u

struct sxen_blkif_segment {
	uint32_t gref;
	uint8_t first_sect;
	uint8_t last_sect;
	uint16_t pad;
};

struct sxen_blkif_request {
	uint8_t operation;
	uint8_t nr_segments;
	uint16_t handle;
	uint32_t pad;
	uint64_t id;
	uint64_t sector_number;
	struct sxen_blkif_segment seg[SBLK_MAX_SEGMENTS];
};

struct sxen_blkif_request_discard {
	uint8_t operation;
	uint8_t flag;
	uint16_t handle;
	uint32_t pad;
	uint64_t id;
	uint64_t sector_number;
	uint64_t nr_sectors;
};

struct sxen_blkif_request_indirect {
	uint8_t operation;
	uint8_t indirect_op;
	uint16_t nr_segments;
	uint32_t pad1;
	uint64_t id;
	uint64_t sector_number;
	uint16_t handle;
	uint16_t pad2;
	uint32_t indirect_grefs[SBLK_MAX_INDIRECT_PAGES];
	uint32_t pad3;
};

struct sxen_blkif_response {
	uint64_t id;
	uint8_t operation;
	uint8_t pad;
	int16_t status;
	uint32_t pad2;
};

#define SBLK_ENTRY_SIZE 112u /* union of request and response */

/* One ring slot, copied out of shared memory once and then read as the
 * variant its operation names. */
union sxen_blkif_slot {
	struct sxen_blkif_request rw;
	struct sxen_blkif_request_discard discard;
	struct sxen_blkif_request_indirect indirect;
	uint8_t raw[SBLK_ENTRY_SIZE];
};

/* ---- netif (io/netif.h) ---- */
#define SNET_TXF_CSUM_BLANK 0x1u
#define SNET_TXF_DATA_VALIDATED 0x2u
#define SNET_TXF_MORE_DATA 0x4u
#define SNET_TXF_EXTRA_INFO 0x8u
#define SNET_RXF_DATA_VALIDATED 0x1u
#define SNET_RXF_CSUM_BLANK 0x2u
#define SNET_RXF_MORE_DATA 0x4u
#define SNET_RXF_EXTRA_INFO 0x8u
#define SNET_RSP_OKAY 0
#define SNET_RSP_ERROR (-1)
#define SNET_RSP_DROPPED (-2)
#define SNET_RSP_NULL 1
#define SNET_EXTRA_TYPE_GSO 1u
#define SNET_EXTRA_TYPE_MCAST_ADD 2u
#define SNET_EXTRA_TYPE_MCAST_DEL 3u
#define SNET_EXTRA_TYPE_HASH 4u
#define SNET_EXTRA_TYPE_XDP 5u /* Linux only */
#define SNET_EXTRA_TYPE_MAX 6u /* Linux's bound (Xen 4.17: 5) */
#define SNET_EXTRA_FLAG_MORE 0x1u
#define SNET_GSO_TYPE_NONE 0u
#define SNET_GSO_TYPE_TCPV4 1u
#define SNET_GSO_TYPE_TCPV6 2u
#define SNET_NR_SLOTS_MIN 18u
#define SNET_MAX_TX_SIZE 0xFFFFu

struct sxen_netif_tx_request {
	uint32_t gref;
	uint16_t offset;
	uint16_t flags;
	uint16_t id;
	uint16_t size;
};

struct sxen_netif_tx_response {
	uint16_t id;
	int16_t status;
};

struct sxen_netif_extra_info {
	uint8_t type;
	uint8_t flags;
	union {
		struct {
			uint16_t size;
			uint8_t type;
			uint8_t pad;
			uint16_t features;
		} gso;
		struct {
			uint8_t addr[6];
		} mcast;
		uint16_t pad[3];
	} u;
};

struct sxen_netif_rx_request {
	uint16_t id;
	uint16_t pad;
	uint32_t gref;
};

struct sxen_netif_rx_response {
	uint16_t id;
	uint16_t offset;
	uint16_t flags;
	int16_t status;
};

#define SNET_TX_ENTRY_SIZE 12u
#define SNET_RX_ENTRY_SIZE 8u

_Static_assert(sizeof(struct sxen_xs_hdr) == 16, "xsd_sockmsg");
_Static_assert(sizeof(struct sxen_grant_entry) == 8, "grant_entry_v1");
_Static_assert(sizeof(struct sxen_sring_hdr) == SXEN_SRING_HDR, "ring header");
_Static_assert(sizeof(struct sxen_blkif_request) == SBLK_ENTRY_SIZE, "blkif req");
_Static_assert(sizeof(struct sxen_blkif_request_discard) == 32, "blkif discard");
_Static_assert(sizeof(struct sxen_blkif_request_indirect) == 64, "blkif indirect");
_Static_assert(sizeof(union sxen_blkif_slot) == SBLK_ENTRY_SIZE, "blkif slot");
_Static_assert(sizeof(struct sxen_blkif_response) == 16, "blkif rsp");
_Static_assert(sizeof(struct sxen_netif_tx_request) == SNET_TX_ENTRY_SIZE, "tx req");
_Static_assert(sizeof(struct sxen_netif_extra_info) == 8, "extra info");
_Static_assert(sizeof(struct sxen_netif_rx_request) == SNET_RX_ENTRY_SIZE, "rx req");
_Static_assert(sizeof(struct sxen_netif_rx_response) == SNET_RX_ENTRY_SIZE, "rx rsp");

#endif /* PVIO_SIM_XEN_WIRE_H */
