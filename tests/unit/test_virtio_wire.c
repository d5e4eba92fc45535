/* SPDX-License-Identifier: MIT */
/*
 * The virtio back end defines its wire formats itself (backends/virtio/
 * wire.h, vhost_user.h).  Here every size, offset and constant is checked at
 * compile time against an independent definition: the Linux uapi headers
 * (linux-libc-dev).  The few run-time tests check the layouts that are
 * computed rather than declared.
 */
#include <check.h>
#include <stddef.h>
#include <stdlib.h>

#include <linux/vhost_types.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include "backends/virtio/vhost_user.h"
#include "backends/virtio/virtio.h"

#define SAME_LAYOUT(mine, theirs)                                            \
	_Static_assert(sizeof(struct mine) == sizeof(struct theirs),          \
		       #mine " size")
#define SAME_FIELD(mine, mf, theirs, tf)                                      \
	_Static_assert(offsetof(struct mine, mf) == offsetof(struct theirs, tf) && \
		       sizeof(((struct mine *)0)->mf) ==                      \
			       sizeof(((struct theirs *)0)->tf),             \
		       #mine "." #mf)
#define SAME(a, b) _Static_assert((a) == (b), #a " == " #b)

/* ---- status, features ---- */
SAME(VW_S_ACKNOWLEDGE, VIRTIO_CONFIG_S_ACKNOWLEDGE);
SAME(VW_S_DRIVER, VIRTIO_CONFIG_S_DRIVER);
SAME(VW_S_DRIVER_OK, VIRTIO_CONFIG_S_DRIVER_OK);
SAME(VW_S_FEATURES_OK, VIRTIO_CONFIG_S_FEATURES_OK);
SAME(VW_S_NEEDS_RESET, VIRTIO_CONFIG_S_NEEDS_RESET);
SAME(VW_S_FAILED, VIRTIO_CONFIG_S_FAILED);
SAME(VW_F_NOTIFY_ON_EMPTY, VIRTIO_F_NOTIFY_ON_EMPTY);
SAME(VW_F_ANY_LAYOUT, VIRTIO_F_ANY_LAYOUT);
SAME(VW_F_INDIRECT_DESC, VIRTIO_RING_F_INDIRECT_DESC);
SAME(VW_F_EVENT_IDX, VIRTIO_RING_F_EVENT_IDX);
SAME(VW_F_VERSION_1, VIRTIO_F_VERSION_1);
SAME(VW_F_ACCESS_PLATFORM, VIRTIO_F_ACCESS_PLATFORM);
SAME(VW_F_RING_PACKED, VIRTIO_F_RING_PACKED);
SAME(VW_F_IN_ORDER, VIRTIO_F_IN_ORDER);
SAME(VW_F_ORDER_PLATFORM, VIRTIO_F_ORDER_PLATFORM);
SAME(VW_F_SR_IOV, VIRTIO_F_SR_IOV);
/* NOTIFICATION_DATA (38) has no macro in the 6.1 header */
SAME(VW_F_NOTIFICATION_DATA, VIRTIO_F_SR_IOV + 1);
SAME(VW_F_RING_RESET, VIRTIO_F_RING_RESET);
SAME(VW_TRANSPORT_F_FIRST, VIRTIO_TRANSPORT_F_START);
SAME(VW_TRANSPORT_F_LAST + 1, VIRTIO_TRANSPORT_F_END);

/* ---- split ring ---- */
SAME(VW_DESC_F_NEXT, VRING_DESC_F_NEXT);
SAME(VW_DESC_F_WRITE, VRING_DESC_F_WRITE);
SAME(VW_DESC_F_INDIRECT, VRING_DESC_F_INDIRECT);
SAME(VW_AVAIL_F_NO_INTERRUPT, VRING_AVAIL_F_NO_INTERRUPT);
SAME(VW_USED_F_NO_NOTIFY, VRING_USED_F_NO_NOTIFY);
SAME_LAYOUT(virtio_wdesc, vring_desc);
SAME_FIELD(virtio_wdesc, addr, vring_desc, addr);
SAME_FIELD(virtio_wdesc, len, vring_desc, len);
SAME_FIELD(virtio_wdesc, flags, vring_desc, flags);
SAME_FIELD(virtio_wdesc, next, vring_desc, next);
SAME_LAYOUT(virtio_wused_elem, vring_used_elem);
SAME_FIELD(virtio_wused_elem, id, vring_used_elem, id);
SAME_FIELD(virtio_wused_elem, len, vring_used_elem, len);
SAME(VW_AVAIL_FLAGS, offsetof(struct vring_avail, flags));
SAME(VW_AVAIL_IDX, offsetof(struct vring_avail, idx));
SAME(VW_AVAIL_RING(0), offsetof(struct vring_avail, ring));
SAME(VW_USED_FLAGS, offsetof(struct vring_used, flags));
SAME(VW_USED_IDX, offsetof(struct vring_used, idx));
SAME(VW_USED_RING(0), offsetof(struct vring_used, ring));

/* ---- packed ring ---- */
SAME(VW_PDESC_F_AVAIL, 1u << VRING_PACKED_DESC_F_AVAIL);
SAME(VW_PDESC_F_USED, 1u << VRING_PACKED_DESC_F_USED);
SAME(VW_PEVENT_ENABLE, VRING_PACKED_EVENT_FLAG_ENABLE);
SAME(VW_PEVENT_DISABLE, VRING_PACKED_EVENT_FLAG_DISABLE);
SAME(VW_PEVENT_DESC, VRING_PACKED_EVENT_FLAG_DESC);
SAME(VW_PEVENT_WRAP_SHIFT, VRING_PACKED_EVENT_F_WRAP_CTR);
SAME_LAYOUT(virtio_wpdesc, vring_packed_desc);
SAME_FIELD(virtio_wpdesc, addr, vring_packed_desc, addr);
SAME_FIELD(virtio_wpdesc, len, vring_packed_desc, len);
SAME_FIELD(virtio_wpdesc, id, vring_packed_desc, id);
SAME_FIELD(virtio_wpdesc, flags, vring_packed_desc, flags);
SAME_LAYOUT(virtio_wpevent, vring_packed_desc_event);
SAME_FIELD(virtio_wpevent, off_wrap, vring_packed_desc_event, off_wrap);
SAME_FIELD(virtio_wpevent, flags, vring_packed_desc_event, flags);

/* ---- virtio-blk ---- */
SAME(VW_ID_BLK, 2);
SAME(VW_BLK_F_SIZE_MAX, VIRTIO_BLK_F_SIZE_MAX);
SAME(VW_BLK_F_SEG_MAX, VIRTIO_BLK_F_SEG_MAX);
SAME(VW_BLK_F_GEOMETRY, VIRTIO_BLK_F_GEOMETRY);
SAME(VW_BLK_F_RO, VIRTIO_BLK_F_RO);
SAME(VW_BLK_F_BLK_SIZE, VIRTIO_BLK_F_BLK_SIZE);
SAME(VW_BLK_F_FLUSH, VIRTIO_BLK_F_FLUSH);
SAME(VW_BLK_F_TOPOLOGY, VIRTIO_BLK_F_TOPOLOGY);
SAME(VW_BLK_F_CONFIG_WCE, VIRTIO_BLK_F_CONFIG_WCE);
SAME(VW_BLK_F_MQ, VIRTIO_BLK_F_MQ);
SAME(VW_BLK_F_DISCARD, VIRTIO_BLK_F_DISCARD);
SAME(VW_BLK_F_WRITE_ZEROES, VIRTIO_BLK_F_WRITE_ZEROES);
SAME(VW_BLK_CFG_CAPACITY, offsetof(struct virtio_blk_config, capacity));
SAME(VW_BLK_CFG_SIZE_MAX, offsetof(struct virtio_blk_config, size_max));
SAME(VW_BLK_CFG_SEG_MAX, offsetof(struct virtio_blk_config, seg_max));
SAME(VW_BLK_CFG_BLK_SIZE, offsetof(struct virtio_blk_config, blk_size));
SAME(VW_BLK_CFG_PHYS_EXP, offsetof(struct virtio_blk_config, physical_block_exp));
SAME(VW_BLK_CFG_ALIGN_OFF, offsetof(struct virtio_blk_config, alignment_offset));
SAME(VW_BLK_CFG_MIN_IO, offsetof(struct virtio_blk_config, min_io_size));
SAME(VW_BLK_CFG_OPT_IO, offsetof(struct virtio_blk_config, opt_io_size));
SAME(VW_BLK_CFG_WRITEBACK, offsetof(struct virtio_blk_config, wce));
SAME(VW_BLK_CFG_NUM_QUEUES, offsetof(struct virtio_blk_config, num_queues));
SAME(VW_BLK_CFG_MAX_DISCARD_SECTORS,
     offsetof(struct virtio_blk_config, max_discard_sectors));
SAME(VW_BLK_CFG_MAX_DISCARD_SEG, offsetof(struct virtio_blk_config, max_discard_seg));
SAME(VW_BLK_CFG_DISCARD_ALIGN,
     offsetof(struct virtio_blk_config, discard_sector_alignment));
SAME(VW_BLK_CFG_MAX_WZ_SECTORS,
     offsetof(struct virtio_blk_config, max_write_zeroes_sectors));
SAME(VW_BLK_CFG_MAX_WZ_SEG, offsetof(struct virtio_blk_config, max_write_zeroes_seg));
SAME(VW_BLK_CFG_WZ_MAY_UNMAP,
     offsetof(struct virtio_blk_config, write_zeroes_may_unmap));
/* what pvio reads ends where the secure-erase fields begin */
SAME(VW_BLK_CFG_LEN, offsetof(struct virtio_blk_config, max_secure_erase_sectors));
SAME(VW_BLK_T_IN, VIRTIO_BLK_T_IN);
SAME(VW_BLK_T_OUT, VIRTIO_BLK_T_OUT);
SAME(VW_BLK_T_FLUSH, VIRTIO_BLK_T_FLUSH);
SAME(VW_BLK_T_GET_ID, VIRTIO_BLK_T_GET_ID);
SAME(VW_BLK_T_DISCARD, VIRTIO_BLK_T_DISCARD);
SAME(VW_BLK_T_WRITE_ZEROES, VIRTIO_BLK_T_WRITE_ZEROES);
SAME(VW_BLK_S_OK, VIRTIO_BLK_S_OK);
SAME(VW_BLK_S_IOERR, VIRTIO_BLK_S_IOERR);
SAME(VW_BLK_S_UNSUPP, VIRTIO_BLK_S_UNSUPP);
SAME(VW_BLK_ID_BYTES, VIRTIO_BLK_ID_BYTES);
SAME(VW_BLK_WZ_UNMAP, VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP);
SAME_LAYOUT(virtio_wblk_hdr, virtio_blk_outhdr);
SAME_FIELD(virtio_wblk_hdr, type, virtio_blk_outhdr, type);
SAME_FIELD(virtio_wblk_hdr, ioprio, virtio_blk_outhdr, ioprio);
SAME_FIELD(virtio_wblk_hdr, sector, virtio_blk_outhdr, sector);
SAME_LAYOUT(virtio_wblk_range, virtio_blk_discard_write_zeroes);
SAME_FIELD(virtio_wblk_range, sector, virtio_blk_discard_write_zeroes, sector);
SAME_FIELD(virtio_wblk_range, num_sectors, virtio_blk_discard_write_zeroes,
	   num_sectors);
SAME_FIELD(virtio_wblk_range, flags, virtio_blk_discard_write_zeroes, flags);

/* ---- virtio-net ---- */
SAME(VW_ID_NET, 1);
SAME(VW_NET_F_CSUM, VIRTIO_NET_F_CSUM);
SAME(VW_NET_F_GUEST_CSUM, VIRTIO_NET_F_GUEST_CSUM);
SAME(VW_NET_F_CTRL_GUEST_OFFLOADS, VIRTIO_NET_F_CTRL_GUEST_OFFLOADS);
SAME(VW_NET_F_MTU, VIRTIO_NET_F_MTU);
SAME(VW_NET_F_MAC, VIRTIO_NET_F_MAC);
SAME(VW_NET_F_GUEST_TSO4, VIRTIO_NET_F_GUEST_TSO4);
SAME(VW_NET_F_GUEST_TSO6, VIRTIO_NET_F_GUEST_TSO6);
SAME(VW_NET_F_GUEST_ECN, VIRTIO_NET_F_GUEST_ECN);
SAME(VW_NET_F_GUEST_UFO, VIRTIO_NET_F_GUEST_UFO);
SAME(VW_NET_F_HOST_TSO4, VIRTIO_NET_F_HOST_TSO4);
SAME(VW_NET_F_HOST_TSO6, VIRTIO_NET_F_HOST_TSO6);
SAME(VW_NET_F_HOST_ECN, VIRTIO_NET_F_HOST_ECN);
SAME(VW_NET_F_HOST_UFO, VIRTIO_NET_F_HOST_UFO);
SAME(VW_NET_F_MRG_RXBUF, VIRTIO_NET_F_MRG_RXBUF);
SAME(VW_NET_F_STATUS, VIRTIO_NET_F_STATUS);
SAME(VW_NET_F_CTRL_VQ, VIRTIO_NET_F_CTRL_VQ);
SAME(VW_NET_F_CTRL_RX, VIRTIO_NET_F_CTRL_RX);
SAME(VW_NET_F_CTRL_VLAN, VIRTIO_NET_F_CTRL_VLAN);
SAME(VW_NET_F_GUEST_ANNOUNCE, VIRTIO_NET_F_GUEST_ANNOUNCE);
SAME(VW_NET_F_MQ, VIRTIO_NET_F_MQ);
SAME(VW_NET_F_CTRL_MAC_ADDR, VIRTIO_NET_F_CTRL_MAC_ADDR);
SAME(VW_NET_CFG_MAC, offsetof(struct virtio_net_config, mac));
SAME(VW_NET_CFG_STATUS, offsetof(struct virtio_net_config, status));
SAME(VW_NET_CFG_MAX_PAIRS, offsetof(struct virtio_net_config, max_virtqueue_pairs));
SAME(VW_NET_CFG_MTU, offsetof(struct virtio_net_config, mtu));
SAME(VW_NET_CFG_LEN, offsetof(struct virtio_net_config, speed));
SAME(VW_NET_S_LINK_UP, VIRTIO_NET_S_LINK_UP);
SAME(VW_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_F_NEEDS_CSUM);
SAME(VW_NET_HDR_F_DATA_VALID, VIRTIO_NET_HDR_F_DATA_VALID);
SAME(VW_NET_HDR_GSO_NONE, VIRTIO_NET_HDR_GSO_NONE);
SAME(VW_NET_HDR_GSO_TCPV4, VIRTIO_NET_HDR_GSO_TCPV4);
SAME(VW_NET_HDR_GSO_TCPV6, VIRTIO_NET_HDR_GSO_TCPV6);
SAME(VW_NET_HDR_LEN, sizeof(struct virtio_net_hdr_v1));
SAME_LAYOUT(virtio_wnet_hdr, virtio_net_hdr_v1);
SAME_FIELD(virtio_wnet_hdr, flags, virtio_net_hdr_v1, flags);
SAME_FIELD(virtio_wnet_hdr, gso_type, virtio_net_hdr_v1, gso_type);
SAME_FIELD(virtio_wnet_hdr, hdr_len, virtio_net_hdr_v1, hdr_len);
SAME_FIELD(virtio_wnet_hdr, gso_size, virtio_net_hdr_v1, gso_size);
SAME_FIELD(virtio_wnet_hdr, csum_start, virtio_net_hdr_v1, csum_start);
SAME_FIELD(virtio_wnet_hdr, csum_offset, virtio_net_hdr_v1, csum_offset);
SAME_FIELD(virtio_wnet_hdr, num_buffers, virtio_net_hdr_v1, num_buffers);
SAME(VW_NET_CTRL_OK, VIRTIO_NET_OK);
SAME(VW_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC);
SAME(VW_NET_CTRL_MAC_ADDR_SET, VIRTIO_NET_CTRL_MAC_ADDR_SET);
SAME(VW_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ);
SAME(VW_NET_CTRL_MQ_VQ_PAIRS_SET, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET);
SAME(VW_NET_MQ_PAIRS_MAX, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MAX);

/* ---- vhost-user payloads (the kernel vhost structs are the same bytes) */
SAME_LAYOUT(vhu_state, vhost_vring_state);
SAME_FIELD(vhu_state, index, vhost_vring_state, index);
SAME_FIELD(vhu_state, num, vhost_vring_state, num);
SAME_LAYOUT(vhu_addr, vhost_vring_addr);
SAME_FIELD(vhu_addr, index, vhost_vring_addr, index);
SAME_FIELD(vhu_addr, flags, vhost_vring_addr, flags);
SAME_FIELD(vhu_addr, desc, vhost_vring_addr, desc_user_addr);
SAME_FIELD(vhu_addr, used, vhost_vring_addr, used_user_addr);
SAME_FIELD(vhu_addr, avail, vhost_vring_addr, avail_user_addr);
SAME_FIELD(vhu_addr, log, vhost_vring_addr, log_guest_addr);
SAME_LAYOUT(vhu_region, vhost_memory_region);
SAME_FIELD(vhu_region, guest_phys_addr, vhost_memory_region, guest_phys_addr);
SAME_FIELD(vhu_region, memory_size, vhost_memory_region, memory_size);
SAME_FIELD(vhu_region, userspace_addr, vhost_memory_region, userspace_addr);
/* vhost-user puts the mmap offset where the kernel has its padding */
SAME_FIELD(vhu_region, mmap_offset, vhost_memory_region, flags_padding);
SAME_FIELD(vhu_memtab, nregions, vhost_memory, nregions);
SAME_FIELD(vhu_memtab, padding, vhost_memory, padding);
SAME(offsetof(struct vhu_memtab, region), offsetof(struct vhost_memory, regions));
SAME(sizeof(struct vhu_hdr), 12);
SAME(VHU_CONFIG_HDR, offsetof(struct vhu_config, region));
SAME(VHU_F_PROTOCOL_FEATURES, 30);

START_TEST(ring_layout_matches_vring_size)
{
	for (unsigned q = 1; q <= 32768; q *= 2) {
		struct virtio_vq_layout l;
		virtio_vq_layout((uint16_t)q, false, &l);
		ck_assert_uint_eq(l.bytes, vring_size(q, 4096));
		struct vring vr;
		vring_init(&vr, q, (void *)0x10000, 4096);
		ck_assert_uint_eq(l.drv_off, (uintptr_t)vr.avail - 0x10000);
		ck_assert_uint_eq(l.dev_off, (uintptr_t)vr.used - 0x10000);
		ck_assert_uint_eq(VW_AVAIL_USED_EVENT(q),
				  (uintptr_t)&vring_used_event(&vr) -
					  (uintptr_t)vr.avail);
		ck_assert_uint_eq(VW_USED_AVAIL_EVENT(q),
				  (uintptr_t)&vring_avail_event(&vr) -
					  (uintptr_t)vr.used);
		virtio_vq_layout((uint16_t)q, true, &l);
		ck_assert_uint_eq(l.drv_off % 4, 0);
		ck_assert_uint_eq(l.dev_off % 4, 0);
		ck_assert_uint_ge(l.dev_off, l.drv_off + 4);
		ck_assert_uint_ge(l.bytes, l.dev_off + 4);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("virtio_wire");
	TCase *t = tcase_create("layout");
	tcase_add_test(t, ring_layout_matches_vring_size);
	suite_add_tcase(s, t);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
