/* SPDX-License-Identifier: MIT */
/*
 * backends/virtio/wire.h - virtio wire formats: ring layouts, feature bits,
 * status bits, virtio-blk and virtio-net structures.
 *
 * pvio defines these itself (prefix VW_ / struct virtio_w*) so that the back
 * end builds freestanding, without <linux/...>.  tests/unit/test_virtio_wire.c
 * checks every size, offset and constant here against the Linux uapi headers
 * (an independent definition of the same wire format).
 *
 * All multi-byte fields are little-endian (VERSION_1 devices); shared memory
 * is only ever accessed through pvio_readN/pvio_writeN at these offsets.
 */
#ifndef PVIO_VIRTIO_WIRE_H
#define PVIO_VIRTIO_WIRE_H

#include <stdint.h>

/* ---- device status (virtio 1.x 2.1) ---- */
#define VW_S_ACKNOWLEDGE 0x01
#define VW_S_DRIVER 0x02
#define VW_S_DRIVER_OK 0x04
#define VW_S_FEATURES_OK 0x08
#define VW_S_NEEDS_RESET 0x40
#define VW_S_FAILED 0x80

/* ---- device ids ---- */
#define VW_ID_NET 1
#define VW_ID_BLK 2

/* ---- transport / ring feature bits ---- */
#define VW_F_NOTIFY_ON_EMPTY 24
#define VW_F_ANY_LAYOUT 27
#define VW_F_INDIRECT_DESC 28
#define VW_F_EVENT_IDX 29
#define VW_F_VERSION_1 32
#define VW_F_ACCESS_PLATFORM 33
#define VW_F_RING_PACKED 34
#define VW_F_IN_ORDER 35
#define VW_F_ORDER_PLATFORM 36
#define VW_F_SR_IOV 37
#define VW_F_NOTIFICATION_DATA 38
#define VW_F_RING_RESET 40
/* bits 28..40 belong to the transport (VIRTIO_TRANSPORT_F_START/END) */
#define VW_TRANSPORT_F_FIRST 28
#define VW_TRANSPORT_F_LAST 40

#define VW_BIT(b) (1ull << (b))

/* ---- split ring ---- */
#define VW_DESC_F_NEXT 1
#define VW_DESC_F_WRITE 2
#define VW_DESC_F_INDIRECT 4
#define VW_AVAIL_F_NO_INTERRUPT 1
#define VW_USED_F_NO_NOTIFY 1

struct virtio_wdesc {          /* 16 bytes, split and indirect tables */
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct virtio_wused_elem {     /* 8 bytes */
	uint32_t id;
	uint32_t len;
};

/* Offsets inside the avail ("driver area") and used ("device area") rings */
#define VW_AVAIL_FLAGS 0
#define VW_AVAIL_IDX 2
#define VW_AVAIL_RING(i) (4u + 2u * (unsigned)(i))
#define VW_AVAIL_USED_EVENT(q) (4u + 2u * (unsigned)(q))
#define VW_AVAIL_SIZE(q) (6u + 2u * (unsigned)(q))
#define VW_USED_FLAGS 0
#define VW_USED_IDX 2
#define VW_USED_RING(i) (4u + 8u * (unsigned)(i))
#define VW_USED_AVAIL_EVENT(q) (4u + 8u * (unsigned)(q))
#define VW_USED_SIZE(q) (6u + 8u * (unsigned)(q))

/* ---- packed ring ---- */
#define VW_PDESC_F_AVAIL (1u << 7)
#define VW_PDESC_F_USED (1u << 15)
#define VW_PEVENT_ENABLE 0
#define VW_PEVENT_DISABLE 1
#define VW_PEVENT_DESC 2
#define VW_PEVENT_WRAP_SHIFT 15

struct virtio_wpdesc {         /* 16 bytes */
	uint64_t addr;
	uint32_t len;
	uint16_t id;
	uint16_t flags;
};

struct virtio_wpevent {        /* 4 bytes */
	uint16_t off_wrap;
	uint16_t flags;
};

#define VW_QUEUE_MAX 32768u

/*
 * vring_need_event(): should a notification be sent, given that the other
 * side asked for one when index "event" is passed, and the index moved from
 * old to new_idx?  True iff event lies in [old, new_idx) modulo 2^16.
 */
static inline int virtio_need_event(uint16_t event, uint16_t new_idx,
				    uint16_t old)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

/* ---- virtio-blk (device id 2) ---- */
#define VW_BLK_F_SIZE_MAX 1
#define VW_BLK_F_SEG_MAX 2
#define VW_BLK_F_GEOMETRY 4
#define VW_BLK_F_RO 5
#define VW_BLK_F_BLK_SIZE 6
#define VW_BLK_F_FLUSH 9
#define VW_BLK_F_TOPOLOGY 10
#define VW_BLK_F_CONFIG_WCE 11
#define VW_BLK_F_MQ 12
#define VW_BLK_F_DISCARD 13
#define VW_BLK_F_WRITE_ZEROES 14

/* config space offsets */
#define VW_BLK_CFG_CAPACITY 0
#define VW_BLK_CFG_SIZE_MAX 8
#define VW_BLK_CFG_SEG_MAX 12
#define VW_BLK_CFG_BLK_SIZE 20
#define VW_BLK_CFG_PHYS_EXP 24
#define VW_BLK_CFG_ALIGN_OFF 25
#define VW_BLK_CFG_MIN_IO 26
#define VW_BLK_CFG_OPT_IO 28
#define VW_BLK_CFG_WRITEBACK 32
#define VW_BLK_CFG_NUM_QUEUES 34
#define VW_BLK_CFG_MAX_DISCARD_SECTORS 36
#define VW_BLK_CFG_MAX_DISCARD_SEG 40
#define VW_BLK_CFG_DISCARD_ALIGN 44
#define VW_BLK_CFG_MAX_WZ_SECTORS 48
#define VW_BLK_CFG_MAX_WZ_SEG 52
#define VW_BLK_CFG_WZ_MAY_UNMAP 56
/* the part of the config space pvio reads (through write_zeroes_may_unmap
 * and its padding); every device with DISCARD/WRITE_ZEROES has it */
#define VW_BLK_CFG_LEN 60u

#define VW_BLK_T_IN 0
#define VW_BLK_T_OUT 1
#define VW_BLK_T_FLUSH 4
#define VW_BLK_T_GET_ID 8
#define VW_BLK_T_DISCARD 11
#define VW_BLK_T_WRITE_ZEROES 13

#define VW_BLK_S_OK 0
#define VW_BLK_S_IOERR 1
#define VW_BLK_S_UNSUPP 2

#define VW_BLK_ID_BYTES 20

struct virtio_wblk_hdr {       /* 16 bytes, device-readable */
	uint32_t type;
	uint32_t ioprio;
	uint64_t sector;
};

struct virtio_wblk_range {     /* 16 bytes: discard / write zeroes segment */
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags;        /* bit 0: unmap (write zeroes only) */
};
#define VW_BLK_WZ_UNMAP 1u

/* ---- virtio-net (device id 1) ---- */
#define VW_NET_F_CSUM 0
#define VW_NET_F_GUEST_CSUM 1
#define VW_NET_F_CTRL_GUEST_OFFLOADS 2
#define VW_NET_F_MTU 3
#define VW_NET_F_MAC 5
#define VW_NET_F_GUEST_TSO4 7
#define VW_NET_F_GUEST_TSO6 8
#define VW_NET_F_GUEST_ECN 9
#define VW_NET_F_GUEST_UFO 10
#define VW_NET_F_HOST_TSO4 11
#define VW_NET_F_HOST_TSO6 12
#define VW_NET_F_HOST_ECN 13
#define VW_NET_F_HOST_UFO 14
#define VW_NET_F_MRG_RXBUF 15
#define VW_NET_F_STATUS 16
#define VW_NET_F_CTRL_VQ 17
#define VW_NET_F_CTRL_RX 18
#define VW_NET_F_CTRL_VLAN 19
#define VW_NET_F_GUEST_ANNOUNCE 21
#define VW_NET_F_MQ 22
#define VW_NET_F_CTRL_MAC_ADDR 23

#define VW_NET_CFG_MAC 0
#define VW_NET_CFG_STATUS 6
#define VW_NET_CFG_MAX_PAIRS 8
#define VW_NET_CFG_MTU 10
#define VW_NET_CFG_LEN 12u
#define VW_NET_S_LINK_UP 1

#define VW_NET_HDR_F_NEEDS_CSUM 1
#define VW_NET_HDR_F_DATA_VALID 2
#define VW_NET_HDR_GSO_NONE 0
#define VW_NET_HDR_GSO_TCPV4 1
#define VW_NET_HDR_GSO_TCPV6 4

struct virtio_wnet_hdr {       /* 12 bytes (VERSION_1 / MRG_RXBUF layout) */
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
};
#define VW_NET_HDR_LEN 12u

#define VW_NET_CTRL_OK 0
#define VW_NET_CTRL_MAC 1
#define VW_NET_CTRL_MAC_ADDR_SET 1
#define VW_NET_CTRL_MQ 4
#define VW_NET_CTRL_MQ_VQ_PAIRS_SET 0
#define VW_NET_MQ_PAIRS_MAX 0x8000u

#endif /* PVIO_VIRTIO_WIRE_H */
