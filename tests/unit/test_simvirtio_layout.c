/* SPDX-License-Identifier: MIT */
/*
 * The simulated virtio host writes its own wire structures
 * (sim/virtio/svirtio.h).  This file checks every one of them, and every
 * constant it uses, against the Linux uapi headers: mostly at compile time
 * (a mismatch does not build), the ring-size arithmetic at run time.
 */
#include <check.h>
#include <stddef.h>

#include <linux/vhost_types.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include "virtio/svirtio.h"

#define SAME_FIELD(a, fa, b, fb)                                               \
	_Static_assert(offsetof(a, fa) == offsetof(b, fb) &&                   \
			       sizeof(((a *)0)->fa) == sizeof(((b *)0)->fb),   \
		       #a "." #fa " differs from " #b "." #fb)
#define SAME_SIZE(a, b) _Static_assert(sizeof(a) == sizeof(b), #a " size")
#define SAME(x, y) _Static_assert((x) == (y), #x " != " #y)

/* split ring */
SAME_SIZE(struct svirtio_desc, struct vring_desc);
SAME_FIELD(struct svirtio_desc, addr, struct vring_desc, addr);
SAME_FIELD(struct svirtio_desc, len, struct vring_desc, len);
SAME_FIELD(struct svirtio_desc, flags, struct vring_desc, flags);
SAME_FIELD(struct svirtio_desc, next, struct vring_desc, next);
SAME_SIZE(struct svirtio_used_elem, struct vring_used_elem);
SAME_FIELD(struct svirtio_used_elem, id, struct vring_used_elem, id);
SAME_FIELD(struct svirtio_used_elem, len, struct vring_used_elem, len);
SAME(SVIRTIO_AVAIL_FLAGS, offsetof(struct vring_avail, flags));
SAME(SVIRTIO_AVAIL_IDX, offsetof(struct vring_avail, idx));
SAME(SVIRTIO_AVAIL_RING, offsetof(struct vring_avail, ring));
SAME(SVIRTIO_USED_FLAGS, offsetof(struct vring_used, flags));
SAME(SVIRTIO_USED_IDX, offsetof(struct vring_used, idx));
SAME(SVIRTIO_USED_RING, offsetof(struct vring_used, ring));
SAME(SVIRTIO_DESC_F_NEXT, VRING_DESC_F_NEXT);
SAME(SVIRTIO_DESC_F_WRITE, VRING_DESC_F_WRITE);
SAME(SVIRTIO_DESC_F_INDIRECT, VRING_DESC_F_INDIRECT);
SAME(SVIRTIO_AVAIL_F_NO_INTERRUPT, VRING_AVAIL_F_NO_INTERRUPT);
SAME(SVIRTIO_USED_F_NO_NOTIFY, VRING_USED_F_NO_NOTIFY);

/* packed ring */
SAME_SIZE(struct svirtio_pdesc, struct vring_packed_desc);
SAME_FIELD(struct svirtio_pdesc, addr, struct vring_packed_desc, addr);
SAME_FIELD(struct svirtio_pdesc, len, struct vring_packed_desc, len);
SAME_FIELD(struct svirtio_pdesc, id, struct vring_packed_desc, id);
SAME_FIELD(struct svirtio_pdesc, flags, struct vring_packed_desc, flags);
SAME_SIZE(struct svirtio_event, struct vring_packed_desc_event);
SAME_FIELD(struct svirtio_event, off_wrap, struct vring_packed_desc_event,
	   off_wrap);
SAME_FIELD(struct svirtio_event, flags, struct vring_packed_desc_event, flags);
SAME(SVIRTIO_PDESC_F_AVAIL, 1u << VRING_PACKED_DESC_F_AVAIL);
SAME(SVIRTIO_PDESC_F_USED, 1u << VRING_PACKED_DESC_F_USED);
SAME(SVIRTIO_EVENT_F_ENABLE, VRING_PACKED_EVENT_FLAG_ENABLE);
SAME(SVIRTIO_EVENT_F_DISABLE, VRING_PACKED_EVENT_FLAG_DISABLE);
SAME(SVIRTIO_EVENT_F_DESC, VRING_PACKED_EVENT_FLAG_DESC);

/* transport feature bits and status */
SAME(SVIRTIO_F_NOTIFY_ON_EMPTY, VIRTIO_F_NOTIFY_ON_EMPTY);
SAME(SVIRTIO_F_ANY_LAYOUT, VIRTIO_F_ANY_LAYOUT);
SAME(SVIRTIO_F_INDIRECT_DESC, VIRTIO_RING_F_INDIRECT_DESC);
SAME(SVIRTIO_F_EVENT_IDX, VIRTIO_RING_F_EVENT_IDX);
SAME(SVIRTIO_F_VERSION_1, VIRTIO_F_VERSION_1);
SAME(SVIRTIO_F_ACCESS_PLATFORM, VIRTIO_F_ACCESS_PLATFORM);
SAME(SVIRTIO_F_RING_PACKED, VIRTIO_F_RING_PACKED);
SAME(SVIRTIO_F_IN_ORDER, VIRTIO_F_IN_ORDER);
SAME(SVIRTIO_S_ACKNOWLEDGE, VIRTIO_CONFIG_S_ACKNOWLEDGE);
SAME(SVIRTIO_S_DRIVER, VIRTIO_CONFIG_S_DRIVER);
SAME(SVIRTIO_S_DRIVER_OK, VIRTIO_CONFIG_S_DRIVER_OK);
SAME(SVIRTIO_S_FEATURES_OK, VIRTIO_CONFIG_S_FEATURES_OK);
SAME(SVIRTIO_S_NEEDS_RESET, VIRTIO_CONFIG_S_NEEDS_RESET);
SAME(SVIRTIO_S_FAILED, VIRTIO_CONFIG_S_FAILED);

/* virtio-blk */
SAME(SVIRTIO_BLK_F_SIZE_MAX, VIRTIO_BLK_F_SIZE_MAX);
SAME(SVIRTIO_BLK_F_SEG_MAX, VIRTIO_BLK_F_SEG_MAX);
SAME(SVIRTIO_BLK_F_GEOMETRY, VIRTIO_BLK_F_GEOMETRY);
SAME(SVIRTIO_BLK_F_RO, VIRTIO_BLK_F_RO);
SAME(SVIRTIO_BLK_F_BLK_SIZE, VIRTIO_BLK_F_BLK_SIZE);
SAME(SVIRTIO_BLK_F_FLUSH, VIRTIO_BLK_F_FLUSH);
SAME(SVIRTIO_BLK_F_TOPOLOGY, VIRTIO_BLK_F_TOPOLOGY);
SAME(SVIRTIO_BLK_F_CONFIG_WCE, VIRTIO_BLK_F_CONFIG_WCE);
SAME(SVIRTIO_BLK_F_MQ, VIRTIO_BLK_F_MQ);
SAME(SVIRTIO_BLK_F_DISCARD, VIRTIO_BLK_F_DISCARD);
SAME(SVIRTIO_BLK_F_WRITE_ZEROES, VIRTIO_BLK_F_WRITE_ZEROES);
SAME(SVIRTIO_BLK_T_IN, VIRTIO_BLK_T_IN);
SAME(SVIRTIO_BLK_T_OUT, VIRTIO_BLK_T_OUT);
SAME(SVIRTIO_BLK_T_FLUSH, VIRTIO_BLK_T_FLUSH);
SAME(SVIRTIO_BLK_T_GET_ID, VIRTIO_BLK_T_GET_ID);
SAME(SVIRTIO_BLK_T_DISCARD, VIRTIO_BLK_T_DISCARD);
SAME(SVIRTIO_BLK_T_WRITE_ZEROES, VIRTIO_BLK_T_WRITE_ZEROES);
SAME(SVIRTIO_BLK_S_OK, VIRTIO_BLK_S_OK);
SAME(SVIRTIO_BLK_S_IOERR, VIRTIO_BLK_S_IOERR);
SAME(SVIRTIO_BLK_S_UNSUPP, VIRTIO_BLK_S_UNSUPP);
SAME(SVIRTIO_BLK_ID_BYTES, VIRTIO_BLK_ID_BYTES);
SAME(SVIRTIO_BLK_WZ_F_UNMAP, VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP);
SAME_SIZE(struct svirtio_blk_outhdr, struct virtio_blk_outhdr);
SAME_FIELD(struct svirtio_blk_outhdr, type, struct virtio_blk_outhdr, type);
SAME_FIELD(struct svirtio_blk_outhdr, ioprio, struct virtio_blk_outhdr, ioprio);
SAME_FIELD(struct svirtio_blk_outhdr, sector, struct virtio_blk_outhdr, sector);
SAME_SIZE(struct svirtio_blk_seg, struct virtio_blk_discard_write_zeroes);
SAME_FIELD(struct svirtio_blk_seg, sector, struct virtio_blk_discard_write_zeroes,
	   sector);
SAME_FIELD(struct svirtio_blk_seg, num_sectors,
	   struct virtio_blk_discard_write_zeroes, num_sectors);
SAME_FIELD(struct svirtio_blk_seg, flags, struct virtio_blk_discard_write_zeroes,
	   flags);
SAME_SIZE(struct svirtio_blk_config, struct virtio_blk_config);
SAME_FIELD(struct svirtio_blk_config, capacity, struct virtio_blk_config, capacity);
SAME_FIELD(struct svirtio_blk_config, size_max, struct virtio_blk_config, size_max);
SAME_FIELD(struct svirtio_blk_config, seg_max, struct virtio_blk_config, seg_max);
SAME_FIELD(struct svirtio_blk_config, cylinders, struct virtio_blk_config,
	   geometry.cylinders);
SAME_FIELD(struct svirtio_blk_config, heads, struct virtio_blk_config,
	   geometry.heads);
SAME_FIELD(struct svirtio_blk_config, sectors, struct virtio_blk_config,
	   geometry.sectors);
SAME_FIELD(struct svirtio_blk_config, blk_size, struct virtio_blk_config, blk_size);
SAME_FIELD(struct svirtio_blk_config, physical_block_exp,
	   struct virtio_blk_config, physical_block_exp);
SAME_FIELD(struct svirtio_blk_config, alignment_offset,
	   struct virtio_blk_config, alignment_offset);
SAME_FIELD(struct svirtio_blk_config, min_io_size, struct virtio_blk_config,
	   min_io_size);
SAME_FIELD(struct svirtio_blk_config, opt_io_size, struct virtio_blk_config,
	   opt_io_size);
SAME_FIELD(struct svirtio_blk_config, wce, struct virtio_blk_config, wce);
SAME_FIELD(struct svirtio_blk_config, num_queues, struct virtio_blk_config,
	   num_queues);
SAME_FIELD(struct svirtio_blk_config, max_discard_sectors,
	   struct virtio_blk_config, max_discard_sectors);
SAME_FIELD(struct svirtio_blk_config, max_discard_seg, struct virtio_blk_config,
	   max_discard_seg);
SAME_FIELD(struct svirtio_blk_config, discard_sector_alignment,
	   struct virtio_blk_config, discard_sector_alignment);
SAME_FIELD(struct svirtio_blk_config, max_write_zeroes_sectors,
	   struct virtio_blk_config, max_write_zeroes_sectors);
SAME_FIELD(struct svirtio_blk_config, max_write_zeroes_seg,
	   struct virtio_blk_config, max_write_zeroes_seg);
SAME_FIELD(struct svirtio_blk_config, write_zeroes_may_unmap,
	   struct virtio_blk_config, write_zeroes_may_unmap);
SAME_FIELD(struct svirtio_blk_config, max_secure_erase_sectors,
	   struct virtio_blk_config, max_secure_erase_sectors);
SAME_FIELD(struct svirtio_blk_config, max_secure_erase_seg,
	   struct virtio_blk_config, max_secure_erase_seg);
SAME_FIELD(struct svirtio_blk_config, secure_erase_sector_alignment,
	   struct virtio_blk_config, secure_erase_sector_alignment);

/* virtio-net */
SAME(SVIRTIO_NET_F_CSUM, VIRTIO_NET_F_CSUM);
SAME(SVIRTIO_NET_F_GUEST_CSUM, VIRTIO_NET_F_GUEST_CSUM);
SAME(SVIRTIO_NET_F_MTU, VIRTIO_NET_F_MTU);
SAME(SVIRTIO_NET_F_MAC, VIRTIO_NET_F_MAC);
SAME(SVIRTIO_NET_F_MRG_RXBUF, VIRTIO_NET_F_MRG_RXBUF);
SAME(SVIRTIO_NET_F_STATUS, VIRTIO_NET_F_STATUS);
SAME(SVIRTIO_NET_F_CTRL_VQ, VIRTIO_NET_F_CTRL_VQ);
SAME(SVIRTIO_NET_F_MQ, VIRTIO_NET_F_MQ);
SAME(SVIRTIO_NET_S_LINK_UP, VIRTIO_NET_S_LINK_UP);
SAME(SVIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_F_NEEDS_CSUM);
SAME(SVIRTIO_NET_HDR_F_DATA_VALID, VIRTIO_NET_HDR_F_DATA_VALID);
SAME(SVIRTIO_NET_HDR_GSO_NONE, VIRTIO_NET_HDR_GSO_NONE);
SAME(SVIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ);
SAME(SVIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET);
SAME(SVIRTIO_NET_OK, VIRTIO_NET_OK);
SAME(SVIRTIO_NET_ERR, VIRTIO_NET_ERR);
SAME_SIZE(struct svirtio_net_config, struct virtio_net_config);
SAME_FIELD(struct svirtio_net_config, mac, struct virtio_net_config, mac);
SAME_FIELD(struct svirtio_net_config, status, struct virtio_net_config, status);
SAME_FIELD(struct svirtio_net_config, max_virtqueue_pairs,
	   struct virtio_net_config, max_virtqueue_pairs);
SAME_FIELD(struct svirtio_net_config, mtu, struct virtio_net_config, mtu);
SAME_FIELD(struct svirtio_net_config, speed, struct virtio_net_config, speed);
SAME_FIELD(struct svirtio_net_config, duplex, struct virtio_net_config, duplex);
SAME_FIELD(struct svirtio_net_config, rss_max_key_size, struct virtio_net_config,
	   rss_max_key_size);
SAME_FIELD(struct svirtio_net_config, rss_max_indirection_table_length,
	   struct virtio_net_config, rss_max_indirection_table_length);
SAME_FIELD(struct svirtio_net_config, supported_hash_types,
	   struct virtio_net_config, supported_hash_types);
SAME_SIZE(struct svirtio_net_hdr, struct virtio_net_hdr_v1);
SAME_FIELD(struct svirtio_net_hdr, flags, struct virtio_net_hdr_v1, flags);
SAME_FIELD(struct svirtio_net_hdr, gso_type, struct virtio_net_hdr_v1, gso_type);
SAME_FIELD(struct svirtio_net_hdr, hdr_len, struct virtio_net_hdr_v1, hdr_len);
SAME_FIELD(struct svirtio_net_hdr, gso_size, struct virtio_net_hdr_v1, gso_size);
SAME_FIELD(struct svirtio_net_hdr, csum_start, struct virtio_net_hdr_v1,
	   csum_start);
SAME_FIELD(struct svirtio_net_hdr, csum_offset, struct virtio_net_hdr_v1,
	   csum_offset);
SAME_FIELD(struct svirtio_net_hdr, num_buffers, struct virtio_net_hdr_v1,
	   num_buffers);
/* the legacy header without MRG_RXBUF stops before num_buffers */
SAME(offsetof(struct svirtio_net_hdr, num_buffers),
     sizeof(struct virtio_net_hdr));
SAME_SIZE(struct svirtio_net_hdr, struct virtio_net_hdr_mrg_rxbuf);

/* vhost-user payloads that are the kernel vhost structures */
SAME_SIZE(struct svu_state, struct vhost_vring_state);
SAME_FIELD(struct svu_state, index, struct vhost_vring_state, index);
SAME_FIELD(struct svu_state, num, struct vhost_vring_state, num);
SAME_SIZE(struct svu_addr, struct vhost_vring_addr);
SAME_FIELD(struct svu_addr, index, struct vhost_vring_addr, index);
SAME_FIELD(struct svu_addr, flags, struct vhost_vring_addr, flags);
SAME_FIELD(struct svu_addr, desc, struct vhost_vring_addr, desc_user_addr);
SAME_FIELD(struct svu_addr, used, struct vhost_vring_addr, used_user_addr);
SAME_FIELD(struct svu_addr, avail, struct vhost_vring_addr, avail_user_addr);
SAME_FIELD(struct svu_addr, log, struct vhost_vring_addr, log_guest_addr);
SAME(SVU_VRING_F_LOG, 1u << VHOST_VRING_F_LOG);
SAME_SIZE(struct svu_region, struct vhost_memory_region);
SAME_FIELD(struct svu_region, gpa, struct vhost_memory_region, guest_phys_addr);
SAME_FIELD(struct svu_region, size, struct vhost_memory_region, memory_size);
SAME_FIELD(struct svu_region, uva, struct vhost_memory_region, userspace_addr);
/* vhost-user puts mmap_offset where the kernel has flags_padding */
SAME_FIELD(struct svu_region, mmap_offset, struct vhost_memory_region,
	   flags_padding);
SAME_FIELD(struct svu_mem, nregions, struct vhost_memory, nregions);
SAME_FIELD(struct svu_mem, padding, struct vhost_memory, padding);
SAME(offsetof(struct svu_mem, r), offsetof(struct vhost_memory, regions));
SAME(sizeof(struct svu_hdr), 12);
SAME(sizeof(struct svu_mem_single), 8 + sizeof(struct vhost_memory_region));
SAME(offsetof(struct svu_config, data), 12);
SAME(SVU_MEM_REGIONS, 8);

START_TEST(split_ring_sizes)
{
	/* descriptor table, avail ring (with used_event), padding to the
	 * legacy alignment, used ring (with avail_event) */
	for (unsigned q = 1; q <= 32768; q *= 2) {
		size_t a = 16u * q + SVIRTIO_AVAIL_SIZE(q);
		size_t expect = ((a + 4095) & ~(size_t)4095) + SVIRTIO_USED_SIZE(q);
		ck_assert_uint_eq(vring_size(q, 4096), expect);
	}
	/* the event index slots sit right after the rings */
	struct vring vr;
	static uint8_t mem[65536] __attribute__((aligned(4096)));
	vring_init(&vr, 256, mem, 4096);
	ck_assert_ptr_eq((uint8_t *)&vring_used_event(&vr),
			 (uint8_t *)vr.avail + SVIRTIO_AVAIL_RING + 2 * 256);
	ck_assert_ptr_eq((uint8_t *)&vring_avail_event(&vr),
			 (uint8_t *)vr.used + SVIRTIO_USED_RING + 8 * 256);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("simvirtio_layout");
	TCase *tc = tcase_create("layout");
	tcase_add_test(tc, split_ring_sizes);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
