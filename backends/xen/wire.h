/* SPDX-License-Identifier: MIT */
/*
 * backends/xen/wire.h - the Xen wire formats pvio's Xen back end speaks:
 * shared-ring header, grant table v1 entries, blkif and netif ring
 * entries, the xenstore message header, XenBus states.
 *
 * Written from shared/specs/xen-pv.md (itself written from the Xen 4.17
 * public headers).  Layouts are the x86_64 ones, which are also the Arm
 * ones: 64-bit fields carry an explicit 8-byte alignment so a 32-bit build
 * lays them out the same way.  tests/unit/test_xen_wire.c compares every
 * size and offset here with Debian's libxen-dev headers.  All fields are
 * little-endian; access shared copies with pvio_read / pvio_write.
 */
#ifndef PVIO_XEN_WIRE_H
#define PVIO_XEN_WIRE_H

#include <stdint.h>

#define XEN_PAGE_SHIFT 12
#define XEN_PAGE_SIZE 4096u

typedef uint64_t xen_wire_u64 __attribute__((aligned(8)));

/* ---------------------------------------------------------------- rings */

/* The shared header at the start of every ring (io/ring.h). */
struct xen_sring {
	uint32_t req_prod;
	uint32_t req_event;
	uint32_t rsp_prod;
	uint32_t rsp_event;
	uint8_t pvt[4];
	uint8_t pad[44];
};
#define XEN_SRING_HDR 64u

/* ---------------------------------------------------------------- grants */

struct xen_grant_v1 {
	uint16_t flags;
	uint16_t domid;
	uint32_t frame;
};

#define XEN_GTF_invalid 0u
#define XEN_GTF_permit_access 1u
#define XEN_GTF_type_mask 3u
#define XEN_GTF_readonly (1u << 2)
#define XEN_GTF_reading (1u << 3)
#define XEN_GTF_writing (1u << 4)
#define XEN_GNTTAB_RESERVED 8u
#define XEN_GRANTS_PER_FRAME (XEN_PAGE_SIZE / sizeof(struct xen_grant_v1))

/* ---------------------------------------------------------------- blkif */

#define XEN_BLKIF_OP_READ 0
#define XEN_BLKIF_OP_WRITE 1
#define XEN_BLKIF_OP_WRITE_BARRIER 2
#define XEN_BLKIF_OP_FLUSH_DISKCACHE 3
#define XEN_BLKIF_OP_DISCARD 5
#define XEN_BLKIF_OP_INDIRECT 6

#define XEN_BLKIF_MAX_SEGS 11u
#define XEN_BLKIF_MAX_INDIRECT_PAGES 8u
#define XEN_BLKIF_SEGS_PER_INDIRECT_PAGE 512u /* 4096 / 8 */

#define XEN_BLKIF_RSP_OKAY 0
#define XEN_BLKIF_RSP_ERROR (-1)
#define XEN_BLKIF_RSP_EOPNOTSUPP (-2)

#define XEN_VDISK_CDROM 0x1u
#define XEN_VDISK_REMOVABLE 0x2u
#define XEN_VDISK_READONLY 0x4u

struct xen_blkif_seg {
	uint32_t gref;
	uint8_t first_sect;
	uint8_t last_sect;
	uint16_t pad;
};

struct xen_blkif_req {
	uint8_t operation;
	uint8_t nr_segments;
	uint16_t handle;
	uint32_t pad;
	xen_wire_u64 id;
	xen_wire_u64 sector_number;
	struct xen_blkif_seg seg[XEN_BLKIF_MAX_SEGS];
};

struct xen_blkif_req_discard {
	uint8_t operation;
	uint8_t flag;
	uint16_t handle;
	uint32_t pad;
	xen_wire_u64 id;
	xen_wire_u64 sector_number;
	xen_wire_u64 nr_sectors;
};

struct xen_blkif_req_indirect {
	uint8_t operation;
	uint8_t indirect_op;
	uint16_t nr_segments;
	uint32_t pad;
	xen_wire_u64 id;
	xen_wire_u64 sector_number;
	uint16_t handle;
	uint16_t pad2;
	uint32_t indirect_grefs[XEN_BLKIF_MAX_INDIRECT_PAGES];
	uint32_t pad3;
};

struct xen_blkif_rsp {
	xen_wire_u64 id;
	uint8_t operation;
	uint8_t pad;
	int16_t status;
	uint32_t pad2;
};

/* One ring slot holds a request or a response. */
#define XEN_BLKIF_SLOT 112u

/* ---------------------------------------------------------------- netif */

#define XEN_NETTXF_csum_blank 0x1u
#define XEN_NETTXF_data_validated 0x2u
#define XEN_NETTXF_more_data 0x4u
#define XEN_NETTXF_extra_info 0x8u

/* Bits 0 and 1 are the other way round on the receive side. */
#define XEN_NETRXF_data_validated 0x1u
#define XEN_NETRXF_csum_blank 0x2u
#define XEN_NETRXF_more_data 0x4u
#define XEN_NETRXF_extra_info 0x8u
#define XEN_NETRXF_gso_prefix 0x10u

#define XEN_NETIF_RSP_DROPPED (-2)
#define XEN_NETIF_RSP_ERROR (-1)
#define XEN_NETIF_RSP_OKAY 0
#define XEN_NETIF_RSP_NULL 1

#define XEN_NETIF_EXTRA_GSO 1
#define XEN_NETIF_EXTRA_MAXTYPE 5
#define XEN_NETIF_EXTRA_MORE 0x1u
#define XEN_NETIF_GSO_TCPV4 1
#define XEN_NETIF_GSO_TCPV6 2

#define XEN_NETIF_SLOTS_MIN 18u
#define XEN_NETIF_TX_MAX 0xFFFFu

struct xen_netif_tx_req {
	uint32_t gref;
	uint16_t offset;
	uint16_t flags;
	uint16_t id;
	uint16_t size;
};

struct xen_netif_tx_rsp {
	uint16_t id;
	int16_t status;
};

struct xen_netif_extra {
	uint8_t type;
	uint8_t flags;
	union {
		struct {
			uint16_t size;
			uint8_t type;
			uint8_t pad;
			uint16_t features;
		} gso;
		uint16_t pad[3];
	} u;
};

struct xen_netif_rx_req {
	uint16_t id;
	uint16_t pad;
	uint32_t gref;
};

struct xen_netif_rx_rsp {
	uint16_t id;
	uint16_t offset;
	uint16_t flags;
	int16_t status;
};

#define XEN_NETIF_TX_SLOT 12u
#define XEN_NETIF_RX_SLOT 8u

/* ---------------------------------------------------------------- xenstore */

struct xen_xsd_sockmsg {
	uint32_t type;
	uint32_t req_id;
	uint32_t tx_id;
	uint32_t len;
};

enum xen_xs_type {
	XEN_XS_CONTROL = 0,
	XEN_XS_DIRECTORY = 1,
	XEN_XS_READ = 2,
	XEN_XS_GET_PERMS = 3,
	XEN_XS_WATCH = 4,
	XEN_XS_UNWATCH = 5,
	XEN_XS_TRANSACTION_START = 6,
	XEN_XS_TRANSACTION_END = 7,
	XEN_XS_INTRODUCE = 8,
	XEN_XS_RELEASE = 9,
	XEN_XS_GET_DOMAIN_PATH = 10,
	XEN_XS_WRITE = 11,
	XEN_XS_MKDIR = 12,
	XEN_XS_RM = 13,
	XEN_XS_SET_PERMS = 14,
	XEN_XS_WATCH_EVENT = 15,
	XEN_XS_ERROR = 16,
	XEN_XS_IS_DOMAIN_INTRODUCED = 17,
	XEN_XS_RESUME = 18,
	XEN_XS_SET_TARGET = 19,
	XEN_XS_RESET_WATCHES = 21,
	XEN_XS_DIRECTORY_PART = 22,
};

#define XEN_XS_PAYLOAD_MAX 4096u
#define XEN_XS_ABS_PATH_MAX 3072u

/* ---------------------------------------------------------------- xenbus */

enum xen_xenbus_state {
	XEN_XB_UNKNOWN = 0,
	XEN_XB_INITIALISING = 1,
	XEN_XB_INITWAIT = 2,
	XEN_XB_INITIALISED = 3,
	XEN_XB_CONNECTED = 4,
	XEN_XB_CLOSING = 5,
	XEN_XB_CLOSED = 6,
	XEN_XB_RECONFIGURING = 7,
	XEN_XB_RECONFIGURED = 8,
};

#define XEN_DOMID_SELF 0x7FF0u

#endif /* PVIO_XEN_WIRE_H */
