/* SPDX-License-Identifier: MIT */
/*
 * The Xen wire formats of backends/xen/wire.h against Debian's libxen-dev
 * headers (Xen 4.17 public headers, an independent definition): every
 * size, offset and constant pvio relies on.  The layout checks are
 * compile-time; the Check cases re-state them at run time and check the
 * ring-size arithmetic, so the test asserts something when it runs.
 */
#include <check.h>
#include <stddef.h>
#include <stdint.h>

#define __XEN_INTERFACE_VERSION__ __XEN_LATEST_INTERFACE_VERSION__
#define xen_mb() __sync_synchronize()
#define xen_rmb() __sync_synchronize()
#define xen_wmb() __sync_synchronize()
#include <xen/xen.h>
#include <xen/grant_table.h>
#include <xen/io/ring.h>
#include <xen/io/blkif.h>
#include <xen/io/netif.h>
#include <xen/io/xs_wire.h>
#include <xen/io/xenbus.h>

#include "backends/xen/xen.h"

#define SAME_SIZE(a, b) _Static_assert(sizeof(a) == sizeof(b), #a " size")
#define SAME_OFF(a, fa, b, fb) \
	_Static_assert(offsetof(a, fa) == offsetof(b, fb), #a "." #fa)

/* ring header */
SAME_OFF(struct xen_sring, req_prod, struct blkif_sring, req_prod);
SAME_OFF(struct xen_sring, req_event, struct blkif_sring, req_event);
SAME_OFF(struct xen_sring, rsp_prod, struct blkif_sring, rsp_prod);
SAME_OFF(struct xen_sring, rsp_event, struct blkif_sring, rsp_event);
SAME_OFF(struct xen_sring, pvt, struct netif_tx_sring, pvt);
_Static_assert(sizeof(struct xen_sring) == offsetof(struct blkif_sring, ring),
	       "ring header size");
_Static_assert(XEN_SRING_HDR == offsetof(struct netif_rx_sring, ring),
	       "ring entries start");

/* grant table v1 */
SAME_SIZE(struct xen_grant_v1, grant_entry_v1_t);
SAME_OFF(struct xen_grant_v1, flags, grant_entry_v1_t, flags);
SAME_OFF(struct xen_grant_v1, domid, grant_entry_v1_t, domid);
SAME_OFF(struct xen_grant_v1, frame, grant_entry_v1_t, frame);
_Static_assert(XEN_GTF_permit_access == GTF_permit_access, "GTF");
_Static_assert(XEN_GTF_readonly == GTF_readonly, "GTF");
_Static_assert(XEN_GTF_reading == GTF_reading, "GTF");
_Static_assert(XEN_GTF_writing == GTF_writing, "GTF");
_Static_assert(XEN_GTF_type_mask == GTF_type_mask, "GTF");
_Static_assert(XEN_GNTTAB_RESERVED == GNTTAB_NR_RESERVED_ENTRIES, "reserved");

/* blkif */
SAME_SIZE(struct xen_blkif_seg, struct blkif_request_segment);
SAME_OFF(struct xen_blkif_seg, gref, struct blkif_request_segment, gref);
SAME_OFF(struct xen_blkif_seg, first_sect, struct blkif_request_segment,
	 first_sect);
SAME_OFF(struct xen_blkif_seg, last_sect, struct blkif_request_segment,
	 last_sect);
SAME_SIZE(struct xen_blkif_req, struct blkif_request);
SAME_OFF(struct xen_blkif_req, operation, struct blkif_request, operation);
SAME_OFF(struct xen_blkif_req, nr_segments, struct blkif_request, nr_segments);
SAME_OFF(struct xen_blkif_req, handle, struct blkif_request, handle);
SAME_OFF(struct xen_blkif_req, id, struct blkif_request, id);
SAME_OFF(struct xen_blkif_req, sector_number, struct blkif_request,
	 sector_number);
SAME_OFF(struct xen_blkif_req, seg, struct blkif_request, seg);
SAME_SIZE(struct xen_blkif_req_discard, struct blkif_request_discard);
SAME_OFF(struct xen_blkif_req_discard, flag, struct blkif_request_discard, flag);
SAME_OFF(struct xen_blkif_req_discard, handle, struct blkif_request_discard,
	 handle);
SAME_OFF(struct xen_blkif_req_discard, id, struct blkif_request_discard, id);
SAME_OFF(struct xen_blkif_req_discard, sector_number,
	 struct blkif_request_discard, sector_number);
SAME_OFF(struct xen_blkif_req_discard, nr_sectors, struct blkif_request_discard,
	 nr_sectors);
SAME_SIZE(struct xen_blkif_req_indirect, struct blkif_request_indirect);
SAME_OFF(struct xen_blkif_req_indirect, indirect_op,
	 struct blkif_request_indirect, indirect_op);
SAME_OFF(struct xen_blkif_req_indirect, nr_segments,
	 struct blkif_request_indirect, nr_segments);
SAME_OFF(struct xen_blkif_req_indirect, id, struct blkif_request_indirect, id);
SAME_OFF(struct xen_blkif_req_indirect, sector_number,
	 struct blkif_request_indirect, sector_number);
SAME_OFF(struct xen_blkif_req_indirect, handle, struct blkif_request_indirect,
	 handle);
SAME_OFF(struct xen_blkif_req_indirect, indirect_grefs,
	 struct blkif_request_indirect, indirect_grefs);
SAME_SIZE(struct xen_blkif_rsp, struct blkif_response);
SAME_OFF(struct xen_blkif_rsp, id, struct blkif_response, id);
SAME_OFF(struct xen_blkif_rsp, operation, struct blkif_response, operation);
SAME_OFF(struct xen_blkif_rsp, status, struct blkif_response, status);
_Static_assert(XEN_BLKIF_SLOT == sizeof(union blkif_sring_entry), "slot");
_Static_assert(XEN_BLKIF_OP_READ == BLKIF_OP_READ &&
		       XEN_BLKIF_OP_WRITE == BLKIF_OP_WRITE &&
		       XEN_BLKIF_OP_WRITE_BARRIER == BLKIF_OP_WRITE_BARRIER &&
		       XEN_BLKIF_OP_FLUSH_DISKCACHE == BLKIF_OP_FLUSH_DISKCACHE &&
		       XEN_BLKIF_OP_DISCARD == BLKIF_OP_DISCARD &&
		       XEN_BLKIF_OP_INDIRECT == BLKIF_OP_INDIRECT,
	       "blkif ops");
_Static_assert(XEN_BLKIF_MAX_SEGS == BLKIF_MAX_SEGMENTS_PER_REQUEST, "segs");
_Static_assert(XEN_BLKIF_MAX_INDIRECT_PAGES ==
		       BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST,
	       "indirect pages");
_Static_assert(XEN_BLKIF_SEGS_PER_INDIRECT_PAGE ==
		       XEN_PAGE_SIZE / sizeof(struct blkif_request_segment),
	       "segments per indirect page");
_Static_assert(XEN_BLKIF_RSP_OKAY == BLKIF_RSP_OKAY &&
		       XEN_BLKIF_RSP_ERROR == BLKIF_RSP_ERROR &&
		       XEN_BLKIF_RSP_EOPNOTSUPP == BLKIF_RSP_EOPNOTSUPP,
	       "blkif status");
_Static_assert(XEN_VDISK_CDROM == VDISK_CDROM &&
		       XEN_VDISK_REMOVABLE == VDISK_REMOVABLE &&
		       XEN_VDISK_READONLY == VDISK_READONLY,
	       "vdisk info");

/* netif */
SAME_SIZE(struct xen_netif_tx_req, struct netif_tx_request);
SAME_OFF(struct xen_netif_tx_req, gref, struct netif_tx_request, gref);
SAME_OFF(struct xen_netif_tx_req, offset, struct netif_tx_request, offset);
SAME_OFF(struct xen_netif_tx_req, flags, struct netif_tx_request, flags);
SAME_OFF(struct xen_netif_tx_req, id, struct netif_tx_request, id);
SAME_OFF(struct xen_netif_tx_req, size, struct netif_tx_request, size);
SAME_SIZE(struct xen_netif_tx_rsp, struct netif_tx_response);
SAME_OFF(struct xen_netif_tx_rsp, id, struct netif_tx_response, id);
SAME_OFF(struct xen_netif_tx_rsp, status, struct netif_tx_response, status);
SAME_SIZE(struct xen_netif_extra, struct netif_extra_info);
SAME_OFF(struct xen_netif_extra, type, struct netif_extra_info, type);
SAME_OFF(struct xen_netif_extra, flags, struct netif_extra_info, flags);
SAME_OFF(struct xen_netif_extra, u.gso.size, struct netif_extra_info,
	 u.gso.size);
SAME_OFF(struct xen_netif_extra, u.gso.type, struct netif_extra_info,
	 u.gso.type);
SAME_OFF(struct xen_netif_extra, u.gso.features, struct netif_extra_info,
	 u.gso.features);
SAME_SIZE(struct xen_netif_rx_req, struct netif_rx_request);
SAME_OFF(struct xen_netif_rx_req, id, struct netif_rx_request, id);
SAME_OFF(struct xen_netif_rx_req, gref, struct netif_rx_request, gref);
SAME_SIZE(struct xen_netif_rx_rsp, struct netif_rx_response);
SAME_OFF(struct xen_netif_rx_rsp, id, struct netif_rx_response, id);
SAME_OFF(struct xen_netif_rx_rsp, offset, struct netif_rx_response, offset);
SAME_OFF(struct xen_netif_rx_rsp, flags, struct netif_rx_response, flags);
SAME_OFF(struct xen_netif_rx_rsp, status, struct netif_rx_response, status);
_Static_assert(XEN_NETIF_TX_SLOT == sizeof(union netif_tx_sring_entry), "tx");
_Static_assert(XEN_NETIF_RX_SLOT == sizeof(union netif_rx_sring_entry), "rx");
_Static_assert(XEN_NETTXF_csum_blank == NETTXF_csum_blank &&
		       XEN_NETTXF_data_validated == NETTXF_data_validated &&
		       XEN_NETTXF_more_data == NETTXF_more_data &&
		       XEN_NETTXF_extra_info == NETTXF_extra_info,
	       "NETTXF");
_Static_assert(XEN_NETRXF_data_validated == NETRXF_data_validated &&
		       XEN_NETRXF_csum_blank == NETRXF_csum_blank &&
		       XEN_NETRXF_more_data == NETRXF_more_data &&
		       XEN_NETRXF_extra_info == NETRXF_extra_info &&
		       XEN_NETRXF_gso_prefix == NETRXF_gso_prefix,
	       "NETRXF");
_Static_assert(XEN_NETIF_RSP_OKAY == NETIF_RSP_OKAY &&
		       XEN_NETIF_RSP_ERROR == NETIF_RSP_ERROR &&
		       XEN_NETIF_RSP_DROPPED == NETIF_RSP_DROPPED &&
		       XEN_NETIF_RSP_NULL == NETIF_RSP_NULL,
	       "netif status");
_Static_assert(XEN_NETIF_EXTRA_GSO == XEN_NETIF_EXTRA_TYPE_GSO &&
		       XEN_NETIF_EXTRA_MAXTYPE == XEN_NETIF_EXTRA_TYPE_MAX &&
		       XEN_NETIF_EXTRA_MORE == XEN_NETIF_EXTRA_FLAG_MORE &&
		       XEN_NETIF_GSO_TCPV4 == XEN_NETIF_GSO_TYPE_TCPV4 &&
		       XEN_NETIF_GSO_TCPV6 == XEN_NETIF_GSO_TYPE_TCPV6 &&
		       XEN_NETIF_SLOTS_MIN == XEN_NETIF_NR_SLOTS_MIN &&
		       XEN_NETIF_TX_MAX == XEN_NETIF_MAX_TX_SIZE,
	       "netif constants");

/* xenstore */
SAME_SIZE(struct xen_xsd_sockmsg, struct xsd_sockmsg);
SAME_OFF(struct xen_xsd_sockmsg, type, struct xsd_sockmsg, type);
SAME_OFF(struct xen_xsd_sockmsg, req_id, struct xsd_sockmsg, req_id);
SAME_OFF(struct xen_xsd_sockmsg, tx_id, struct xsd_sockmsg, tx_id);
SAME_OFF(struct xen_xsd_sockmsg, len, struct xsd_sockmsg, len);
_Static_assert((int)XEN_XS_DIRECTORY == (int)XS_DIRECTORY && (int)XEN_XS_READ == (int)XS_READ &&
		       (int)XEN_XS_WATCH == (int)XS_WATCH && (int)XEN_XS_UNWATCH == (int)XS_UNWATCH &&
		       (int)XEN_XS_TRANSACTION_START == (int)XS_TRANSACTION_START &&
		       (int)XEN_XS_TRANSACTION_END == (int)XS_TRANSACTION_END &&
		       (int)XEN_XS_GET_DOMAIN_PATH == (int)XS_GET_DOMAIN_PATH &&
		       (int)XEN_XS_WRITE == (int)XS_WRITE && (int)XEN_XS_MKDIR == (int)XS_MKDIR &&
		       (int)XEN_XS_RM == (int)XS_RM && (int)XEN_XS_SET_PERMS == (int)XS_SET_PERMS &&
		       (int)XEN_XS_WATCH_EVENT == (int)XS_WATCH_EVENT &&
		       (int)XEN_XS_ERROR == (int)XS_ERROR &&
		       (int)XEN_XS_RESET_WATCHES == (int)XS_RESET_WATCHES &&
		       (int)XEN_XS_DIRECTORY_PART == (int)XS_DIRECTORY_PART,
	       "xenstore message types");
_Static_assert(XEN_XS_PAYLOAD_MAX == XENSTORE_PAYLOAD_MAX, "payload max");
_Static_assert(XEN_XS_ABS_PATH_MAX == XENSTORE_ABS_PATH_MAX, "path max");

/* xenbus */
_Static_assert((int)XEN_XB_UNKNOWN == (int)XenbusStateUnknown &&
		       (int)XEN_XB_INITIALISING == (int)XenbusStateInitialising &&
		       (int)XEN_XB_INITWAIT == (int)XenbusStateInitWait &&
		       (int)XEN_XB_INITIALISED == (int)XenbusStateInitialised &&
		       (int)XEN_XB_CONNECTED == (int)XenbusStateConnected &&
		       (int)XEN_XB_CLOSING == (int)XenbusStateClosing &&
		       (int)XEN_XB_CLOSED == (int)XenbusStateClosed &&
		       (int)XEN_XB_RECONFIGURING == (int)XenbusStateReconfiguring &&
		       (int)XEN_XB_RECONFIGURED == (int)XenbusStateReconfigured,
	       "xenbus states");
_Static_assert(XEN_DOMID_SELF == DOMID_SELF, "DOMID_SELF");

START_TEST(ring_sizes_match_ring_h)
{
	/* blkif rings of 1..16 pages, netif TX and RX rings */
	for (unsigned order = 0; order <= 4; order++) {
		size_t bytes = (size_t)XEN_PAGE_SIZE << order;
		ck_assert_uint_eq(xen_ring_entries(bytes, XEN_BLKIF_SLOT),
				  __CONST_RING_SIZE(blkif, bytes));
	}
	ck_assert_uint_eq(xen_ring_entries(4096, XEN_BLKIF_SLOT), 32);
	ck_assert_uint_eq(xen_ring_entries(65536, XEN_BLKIF_SLOT), 512);
	ck_assert_uint_eq(xen_ring_entries(4096, XEN_NETIF_TX_SLOT),
			  __CONST_RING_SIZE(netif_tx, 4096));
	ck_assert_uint_eq(xen_ring_entries(4096, XEN_NETIF_RX_SLOT),
			  __CONST_RING_SIZE(netif_rx, 4096));
	ck_assert_uint_eq(xen_ring_entries(4096, XEN_NETIF_TX_SLOT), 256);
	ck_assert_uint_eq(xen_ring_entries(64, 8), 0);
}
END_TEST

START_TEST(layouts_at_run_time)
{
	ck_assert_uint_eq(sizeof(struct xen_blkif_req), 112);
	ck_assert_uint_eq(sizeof(struct xen_blkif_rsp), 16);
	ck_assert_uint_eq(offsetof(struct xen_blkif_req_indirect, indirect_grefs),
			  offsetof(struct blkif_request_indirect, indirect_grefs));
	ck_assert_uint_eq(sizeof(struct xen_netif_tx_req), 12);
	ck_assert_uint_eq(sizeof(struct xen_grant_v1), 8);
	ck_assert_uint_eq(XEN_GRANTS_PER_FRAME, 512);
	ck_assert_uint_eq(sizeof(struct xen_xsd_sockmsg), 16);
	/* the TX/RX checksum bits are swapped, as the headers say */
	ck_assert_uint_eq(NETTXF_csum_blank, NETRXF_data_validated);
	ck_assert_uint_eq(XEN_NETTXF_csum_blank, XEN_NETRXF_data_validated);
	ck_assert_uint_eq(XEN_NETTXF_data_validated, XEN_NETRXF_csum_blank);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("xen_wire");
	TCase *tc = tcase_create("layout");
	tcase_add_test(tc, ring_sizes_match_ring_h);
	tcase_add_test(tc, layouts_at_run_time);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
