/* SPDX-License-Identifier: MIT */
/*
 * backends/virtio/vhost_user.h - the vhost-user wire protocol, front-end
 * side (QEMU docs/interop/vhost-user.rst).  Host-endian, unix stream
 * socket, descriptors as SCM_RIGHTS.  tests/unit/test_virtio_wire.c checks
 * the payload layouts against <linux/vhost_types.h>.
 */
#ifndef PVIO_VHOST_USER_H
#define PVIO_VHOST_USER_H

#include <stdint.h>

/* front-end requests */
#define VHU_GET_FEATURES 1
#define VHU_SET_FEATURES 2
#define VHU_SET_OWNER 3
#define VHU_SET_MEM_TABLE 5
#define VHU_SET_VRING_NUM 8
#define VHU_SET_VRING_ADDR 9
#define VHU_SET_VRING_BASE 10
#define VHU_GET_VRING_BASE 11
#define VHU_SET_VRING_KICK 12
#define VHU_SET_VRING_CALL 13
#define VHU_GET_PROTOCOL_FEATURES 15
#define VHU_SET_PROTOCOL_FEATURES 16
#define VHU_GET_QUEUE_NUM 17
#define VHU_SET_VRING_ENABLE 18
#define VHU_GET_CONFIG 24
#define VHU_SET_STATUS 39
#define VHU_GET_STATUS 40

/* header flags */
#define VHU_VERSION 0x1u
#define VHU_VERSION_MASK 0x3u
#define VHU_FLAG_REPLY (1u << 2)
#define VHU_FLAG_NEED_REPLY (1u << 3)

/* virtio feature bit 30: the back end speaks protocol features */
#define VHU_F_PROTOCOL_FEATURES 30

/* protocol feature bits */
#define VHU_PF_MQ 0
#define VHU_PF_LOG_SHMFD 1
#define VHU_PF_REPLY_ACK 3
#define VHU_PF_CONFIG 9
#define VHU_PF_CONFIGURE_MEM_SLOTS 15
#define VHU_PF_STATUS 16

/* SET_VRING_KICK/CALL payload: bits 0-7 the ring, bit 8 "no descriptor" */
#define VHU_VRING_IDX_MASK 0xffu
#define VHU_VRING_NOFD (1u << 8)

#define VHU_MAX_REGIONS 8
#define VHU_MAX_CONFIG 256u

struct vhu_hdr {
	uint32_t request;
	uint32_t flags;
	uint32_t size;    /* payload bytes */
};

struct vhu_state {       /* vhost_vring_state */
	uint32_t index;
	uint32_t num;
};

struct vhu_addr {        /* vhost_vring_addr */
	uint32_t index;
	uint32_t flags;
	uint64_t desc;    /* front-end virtual addresses */
	uint64_t used;
	uint64_t avail;
	uint64_t log;
};

struct vhu_region {      /* vhost_memory_region (+ mmap offset) */
	uint64_t guest_phys_addr;
	uint64_t memory_size;
	uint64_t userspace_addr;
	uint64_t mmap_offset;
};

struct vhu_memtab {      /* vhost_memory with at most 8 regions */
	uint32_t nregions;
	uint32_t padding;
	struct vhu_region region[VHU_MAX_REGIONS];
};

struct vhu_config {
	uint32_t offset;
	uint32_t size;
	uint32_t flags;
	uint8_t region[VHU_MAX_CONFIG];
};
#define VHU_CONFIG_HDR 12u

#endif /* PVIO_VHOST_USER_H */
