/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_simxen_layout.c - the simulated Xen host writes its own
 * wire structures (sim/xen/wire.h); here every size, offset and constant
 * is compared at compile time with Debian's libxen-dev headers, and the
 * ring geometry at run time with the headers' ring macros.
 */
#include <check.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#define __XEN_INTERFACE_VERSION__ __XEN_LATEST_INTERFACE_VERSION__
#include <xen/xen.h>
#include <xen/grant_table.h>
#include <xen/event_channel.h>
#include <xen/io/ring.h>
#include <xen/io/blkif.h>
#include <xen/io/netif.h>
#include <xen/io/xenbus.h>
#include <xen/io/xs_wire.h>

#include "xen/wire.h"

#define SAME_SIZE(a, b) _Static_assert(sizeof(a) == sizeof(b), #a " size")
#define SAME_OFF(a, fa, b, fb)                                              \
	_Static_assert(offsetof(a, fa) == offsetof(b, fb), #a "." #fa " offset")
#define SAME(a, b) _Static_assert((long long)(a) == (long long)(b), #a " == " #b)

/* xenstore */
SAME_SIZE(struct sxen_xs_hdr, struct xsd_sockmsg);
SAME_OFF(struct sxen_xs_hdr, type, struct xsd_sockmsg, type);
SAME_OFF(struct sxen_xs_hdr, req_id, struct xsd_sockmsg, req_id);
SAME_OFF(struct sxen_xs_hdr, tx_id, struct xsd_sockmsg, tx_id);
SAME_OFF(struct sxen_xs_hdr, len, struct xsd_sockmsg, len);
SAME(SXS_CONTROL, XS_CONTROL);
SAME(SXS_DIRECTORY, XS_DIRECTORY);
SAME(SXS_READ, XS_READ);
SAME(SXS_GET_PERMS, XS_GET_PERMS);
SAME(SXS_WATCH, XS_WATCH);
SAME(SXS_UNWATCH, XS_UNWATCH);
SAME(SXS_TRANSACTION_START, XS_TRANSACTION_START);
SAME(SXS_TRANSACTION_END, XS_TRANSACTION_END);
SAME(SXS_INTRODUCE, XS_INTRODUCE);
SAME(SXS_RELEASE, XS_RELEASE);
SAME(SXS_GET_DOMAIN_PATH, XS_GET_DOMAIN_PATH);
SAME(SXS_WRITE, XS_WRITE);
SAME(SXS_MKDIR, XS_MKDIR);
SAME(SXS_RM, XS_RM);
SAME(SXS_SET_PERMS, XS_SET_PERMS);
SAME(SXS_WATCH_EVENT, XS_WATCH_EVENT);
SAME(SXS_ERROR, XS_ERROR);
SAME(SXS_IS_DOMAIN_INTRODUCED, XS_IS_DOMAIN_INTRODUCED);
SAME(SXS_RESUME, XS_RESUME);
SAME(SXS_SET_TARGET, XS_SET_TARGET);
SAME(SXS_RESET_WATCHES, XS_RESET_WATCHES);
SAME(SXS_DIRECTORY_PART, XS_DIRECTORY_PART);
SAME(SXS_TYPE_COUNT, XS_TYPE_COUNT);
SAME(SXEN_XS_PAYLOAD_MAX, XENSTORE_PAYLOAD_MAX);
SAME(SXEN_XS_ABS_PATH_MAX, XENSTORE_ABS_PATH_MAX);
SAME(SXEN_XS_REL_PATH_MAX, XENSTORE_REL_PATH_MAX);

/* grant table v1 */
SAME_SIZE(struct sxen_grant_entry, grant_entry_v1_t);
SAME_OFF(struct sxen_grant_entry, flags, grant_entry_v1_t, flags);
SAME_OFF(struct sxen_grant_entry, domid, grant_entry_v1_t, domid);
SAME_OFF(struct sxen_grant_entry, frame, grant_entry_v1_t, frame);
SAME(SXEN_GTF_TYPE_MASK, GTF_type_mask);
SAME(SXEN_GTF_PERMIT_ACCESS, GTF_permit_access);
SAME(SXEN_GTF_READONLY, GTF_readonly);
SAME(SXEN_GTF_READING, GTF_reading);
SAME(SXEN_GTF_WRITING, GTF_writing);
SAME(SXEN_GTF_SUB_PAGE, GTF_sub_page);
SAME(SXEN_DOMID_SELF, DOMID_SELF);

/* xenbus states */
SAME(SXB_UNKNOWN, XenbusStateUnknown);
SAME(SXB_INITIALISING, XenbusStateInitialising);
SAME(SXB_INITWAIT, XenbusStateInitWait);
SAME(SXB_INITIALISED, XenbusStateInitialised);
SAME(SXB_CONNECTED, XenbusStateConnected);
SAME(SXB_CLOSING, XenbusStateClosing);
SAME(SXB_CLOSED, XenbusStateClosed);
SAME(SXB_RECONFIGURING, XenbusStateReconfiguring);
SAME(SXB_RECONFIGURED, XenbusStateReconfigured);

/* blkif */
SAME_SIZE(struct sxen_blkif_request, struct blkif_request);
SAME_OFF(struct sxen_blkif_request, operation, struct blkif_request, operation);
SAME_OFF(struct sxen_blkif_request, nr_segments, struct blkif_request, nr_segments);
SAME_OFF(struct sxen_blkif_request, handle, struct blkif_request, handle);
SAME_OFF(struct sxen_blkif_request, id, struct blkif_request, id);
SAME_OFF(struct sxen_blkif_request, sector_number, struct blkif_request, sector_number);
SAME_OFF(struct sxen_blkif_request, seg, struct blkif_request, seg);
SAME_SIZE(struct sxen_blkif_segment, struct blkif_request_segment);
SAME_OFF(struct sxen_blkif_segment, gref, struct blkif_request_segment, gref);
SAME_OFF(struct sxen_blkif_segment, first_sect, struct blkif_request_segment, first_sect);
SAME_OFF(struct sxen_blkif_segment, last_sect, struct blkif_request_segment, last_sect);
SAME_SIZE(struct sxen_blkif_request_discard, struct blkif_request_discard);
SAME_OFF(struct sxen_blkif_request_discard, flag, struct blkif_request_discard, flag);
SAME_OFF(struct sxen_blkif_request_discard, handle, struct blkif_request_discard, handle);
SAME_OFF(struct sxen_blkif_request_discard, id, struct blkif_request_discard, id);
SAME_OFF(struct sxen_blkif_request_discard, sector_number, struct blkif_request_discard, sector_number);
SAME_OFF(struct sxen_blkif_request_discard, nr_sectors, struct blkif_request_discard, nr_sectors);
SAME_SIZE(struct sxen_blkif_request_indirect, struct blkif_request_indirect);
SAME_OFF(struct sxen_blkif_request_indirect, indirect_op, struct blkif_request_indirect, indirect_op);
SAME_OFF(struct sxen_blkif_request_indirect, nr_segments, struct blkif_request_indirect, nr_segments);
SAME_OFF(struct sxen_blkif_request_indirect, id, struct blkif_request_indirect, id);
SAME_OFF(struct sxen_blkif_request_indirect, sector_number, struct blkif_request_indirect, sector_number);
SAME_OFF(struct sxen_blkif_request_indirect, handle, struct blkif_request_indirect, handle);
SAME_OFF(struct sxen_blkif_request_indirect, indirect_grefs, struct blkif_request_indirect, indirect_grefs);
SAME_SIZE(struct sxen_blkif_response, struct blkif_response);
SAME_OFF(struct sxen_blkif_response, id, struct blkif_response, id);
SAME_OFF(struct sxen_blkif_response, operation, struct blkif_response, operation);
SAME_OFF(struct sxen_blkif_response, status, struct blkif_response, status);
SAME(SBLK_ENTRY_SIZE, sizeof(union blkif_sring_entry));
SAME(SBLK_OP_READ, BLKIF_OP_READ);
SAME(SBLK_OP_WRITE, BLKIF_OP_WRITE);
SAME(SBLK_OP_WRITE_BARRIER, BLKIF_OP_WRITE_BARRIER);
SAME(SBLK_OP_FLUSH_DISKCACHE, BLKIF_OP_FLUSH_DISKCACHE);
SAME(SBLK_OP_RESERVED_1, BLKIF_OP_RESERVED_1);
SAME(SBLK_OP_DISCARD, BLKIF_OP_DISCARD);
SAME(SBLK_OP_INDIRECT, BLKIF_OP_INDIRECT);
SAME(SBLK_RSP_OKAY, BLKIF_RSP_OKAY);
SAME(SBLK_RSP_ERROR, BLKIF_RSP_ERROR);
SAME(SBLK_RSP_EOPNOTSUPP, BLKIF_RSP_EOPNOTSUPP);
SAME(SBLK_MAX_SEGMENTS, BLKIF_MAX_SEGMENTS_PER_REQUEST);
SAME(SBLK_MAX_INDIRECT_PAGES, BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST);
SAME(SBLK_DISCARD_SECURE, BLKIF_DISCARD_SECURE);
SAME(SBLK_VDISK_CDROM, VDISK_CDROM);
SAME(SBLK_VDISK_REMOVABLE, VDISK_REMOVABLE);
SAME(SBLK_VDISK_READONLY, VDISK_READONLY);

/* netif */
SAME_SIZE(struct sxen_netif_tx_request, struct netif_tx_request);
SAME_OFF(struct sxen_netif_tx_request, gref, struct netif_tx_request, gref);
SAME_OFF(struct sxen_netif_tx_request, offset, struct netif_tx_request, offset);
SAME_OFF(struct sxen_netif_tx_request, flags, struct netif_tx_request, flags);
SAME_OFF(struct sxen_netif_tx_request, id, struct netif_tx_request, id);
SAME_OFF(struct sxen_netif_tx_request, size, struct netif_tx_request, size);
SAME_SIZE(struct sxen_netif_tx_response, struct netif_tx_response);
SAME_OFF(struct sxen_netif_tx_response, status, struct netif_tx_response, status);
SAME_SIZE(struct sxen_netif_extra_info, struct netif_extra_info);
SAME_OFF(struct sxen_netif_extra_info, type, struct netif_extra_info, type);
SAME_OFF(struct sxen_netif_extra_info, flags, struct netif_extra_info, flags);
SAME_OFF(struct sxen_netif_extra_info, u.gso.size, struct netif_extra_info, u.gso.size);
SAME_OFF(struct sxen_netif_extra_info, u.gso.type, struct netif_extra_info, u.gso.type);
SAME_OFF(struct sxen_netif_extra_info, u.gso.features, struct netif_extra_info, u.gso.features);
SAME_OFF(struct sxen_netif_extra_info, u.mcast.addr, struct netif_extra_info, u.mcast.addr);
SAME_SIZE(struct sxen_netif_rx_request, struct netif_rx_request);
SAME_OFF(struct sxen_netif_rx_request, gref, struct netif_rx_request, gref);
SAME_SIZE(struct sxen_netif_rx_response, struct netif_rx_response);
SAME_OFF(struct sxen_netif_rx_response, offset, struct netif_rx_response, offset);
SAME_OFF(struct sxen_netif_rx_response, flags, struct netif_rx_response, flags);
SAME_OFF(struct sxen_netif_rx_response, status, struct netif_rx_response, status);
SAME(SNET_TX_ENTRY_SIZE, sizeof(union netif_tx_sring_entry));
SAME(SNET_RX_ENTRY_SIZE, sizeof(union netif_rx_sring_entry));
SAME(SNET_TXF_CSUM_BLANK, NETTXF_csum_blank);
SAME(SNET_TXF_DATA_VALIDATED, NETTXF_data_validated);
SAME(SNET_TXF_MORE_DATA, NETTXF_more_data);
SAME(SNET_TXF_EXTRA_INFO, NETTXF_extra_info);
SAME(SNET_RXF_DATA_VALIDATED, NETRXF_data_validated);
SAME(SNET_RXF_CSUM_BLANK, NETRXF_csum_blank);
SAME(SNET_RXF_MORE_DATA, NETRXF_more_data);
SAME(SNET_RXF_EXTRA_INFO, NETRXF_extra_info);
SAME(SNET_RSP_OKAY, NETIF_RSP_OKAY);
SAME(SNET_RSP_ERROR, NETIF_RSP_ERROR);
SAME(SNET_RSP_DROPPED, NETIF_RSP_DROPPED);
SAME(SNET_RSP_NULL, NETIF_RSP_NULL);
SAME(SNET_EXTRA_TYPE_GSO, XEN_NETIF_EXTRA_TYPE_GSO);
SAME(SNET_EXTRA_TYPE_MCAST_ADD, XEN_NETIF_EXTRA_TYPE_MCAST_ADD);
SAME(SNET_EXTRA_TYPE_MCAST_DEL, XEN_NETIF_EXTRA_TYPE_MCAST_DEL);
SAME(SNET_EXTRA_TYPE_HASH, XEN_NETIF_EXTRA_TYPE_HASH);
/* Linux adds XDP (5) before its MAX; Xen 4.17 stops at HASH */
SAME(SNET_EXTRA_TYPE_MAX, XEN_NETIF_EXTRA_TYPE_MAX + 1);
SAME(SNET_EXTRA_FLAG_MORE, XEN_NETIF_EXTRA_FLAG_MORE);
SAME(SNET_GSO_TYPE_TCPV4, XEN_NETIF_GSO_TYPE_TCPV4);
SAME(SNET_GSO_TYPE_TCPV6, XEN_NETIF_GSO_TYPE_TCPV6);
SAME(SNET_NR_SLOTS_MIN, XEN_NETIF_NR_SLOTS_MIN);
SAME(SNET_MAX_TX_SIZE, XEN_NETIF_MAX_TX_SIZE);

/* The ring header: entries start where Xen's do. */
SAME(SXEN_SRING_HDR, offsetof(struct blkif_sring, ring));
SAME_OFF(struct sxen_sring_hdr, req_prod, struct blkif_sring, req_prod);
SAME_OFF(struct sxen_sring_hdr, req_event, struct blkif_sring, req_event);
SAME_OFF(struct sxen_sring_hdr, rsp_prod, struct blkif_sring, rsp_prod);
SAME_OFF(struct sxen_sring_hdr, rsp_event, struct blkif_sring, rsp_event);

START_TEST(ring_geometry)
{
	/* sxen_ring_entries() against __CONST_RING_SIZE for every case the
	 * host serves: blkif orders 0..4, the netif rings */
	for (unsigned order = 0; order <= 4; order++) {
		uint32_t bytes = 4096u << order;
		unsigned want = __CONST_RING_SIZE(blkif, bytes);
		ck_assert_uint_eq(sxen_ring_entries(bytes, SBLK_ENTRY_SIZE), want);
	}
	ck_assert_uint_eq(sxen_ring_entries(4096, SNET_TX_ENTRY_SIZE),
			  __CONST_RING_SIZE(netif_tx, 4096));
	ck_assert_uint_eq(sxen_ring_entries(4096, SNET_RX_ENTRY_SIZE),
			  __CONST_RING_SIZE(netif_rx, 4096));
	ck_assert_uint_eq(sxen_ring_entries(4096, SBLK_ENTRY_SIZE), 32);
	ck_assert_uint_eq(sxen_ring_entries(4096 << 4, SBLK_ENTRY_SIZE), 512);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("simxen_layout");
	TCase *tc = tcase_create("layout");
	tcase_add_test(tc, ring_geometry);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
