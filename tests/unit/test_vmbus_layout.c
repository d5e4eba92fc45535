/* SPDX-License-Identifier: MIT */
/*
 * Compile-time checks of pvio's VMBus wire structures against independent
 * public headers: DPDK's rte_vmbus_reg.h (Debian libdpdk-dev) for the ring
 * buffer header, packet descriptors, GPA ranges and channel messages, and
 * glibc's <scsi/scsi.h> for the SCSI opcodes and sense keys it defines.
 * The back end defines its own structures; only this test includes the
 * other headers.  If it compiles, the layouts agree; the run checks the
 * few values that are not constant expressions.
 */
#include <check.h>
#include <stddef.h>
#include <stdlib.h>

#include <rte_vmbus_reg.h>
#include <scsi/scsi.h>

#include "backends/vmbus/conn.h"
#include "backends/vmbus/storvsc.h"
#include "backends/vmbus/netvsc.h"

#define SAME_SIZE(a, b) _Static_assert(sizeof(a) == sizeof(b), #a " vs " #b)
#define SAME_OFF(a, fa, b, fb) \
	_Static_assert(offsetof(a, fa) == offsetof(b, fb), #a "." #fa)

/* ring buffer header (only the part DPDK declares) */
SAME_OFF(struct vmbus_ring_hdr, write_index, struct vmbus_bufring, windex);
SAME_OFF(struct vmbus_ring_hdr, read_index, struct vmbus_bufring, rindex);
SAME_OFF(struct vmbus_ring_hdr, interrupt_mask, struct vmbus_bufring, imask);
SAME_OFF(struct vmbus_ring_hdr, pending_send_sz, struct vmbus_bufring,
	 pending_send);
SAME_OFF(struct vmbus_ring_hdr, feature_bits, struct vmbus_bufring,
	 feature_bits);
SAME_SIZE(struct vmbus_ring_hdr, struct vmbus_bufring);

/* packet descriptors and ranges */
SAME_SIZE(struct vmbus_pkt_desc, struct vmbus_chanpkt_hdr);
SAME_OFF(struct vmbus_pkt_desc, type, struct vmbus_chanpkt_hdr, type);
SAME_OFF(struct vmbus_pkt_desc, offset8, struct vmbus_chanpkt_hdr, hlen);
SAME_OFF(struct vmbus_pkt_desc, len8, struct vmbus_chanpkt_hdr, tlen);
SAME_OFF(struct vmbus_pkt_desc, flags, struct vmbus_chanpkt_hdr, flags);
SAME_OFF(struct vmbus_pkt_desc, trans_id, struct vmbus_chanpkt_hdr, xactid);
_Static_assert(sizeof(struct vmbus_pkt_desc) + sizeof(struct vmbus_pkt_gpa_hdr) ==
		       offsetof(struct vmbus_chanpkt_sglist, gpa),
	       "GPA-direct header");
_Static_assert(sizeof(struct vmbus_pkt_desc) + sizeof(struct vmbus_pkt_xfer_hdr) ==
		       offsetof(struct vmbus_chanpkt_rxbuf, rxbuf),
	       "transfer-page header");
_Static_assert(sizeof(struct vmbus_pkt_desc) +
			       offsetof(struct vmbus_pkt_xfer_hdr, range_count) ==
		       offsetof(struct vmbus_chanpkt_rxbuf, rxbuf_cnt),
	       "transfer-page range count");
_Static_assert(sizeof(struct vmbus_range_hdr) ==
		       offsetof(struct vmbus_gpa_range, page),
	       "GPA range header");
SAME_SIZE(struct vmbus_xfer_range, struct vmbus_rxbuf_desc);
_Static_assert(VMBUS_PKT_INBAND == VMBUS_CHANPKT_TYPE_INBAND, "inband");
_Static_assert(VMBUS_PKT_XFER_PAGES == VMBUS_CHANPKT_TYPE_RXBUF, "rxbuf");
_Static_assert(VMBUS_PKT_GPA_DIRECT == VMBUS_CHANPKT_TYPE_GPA, "gpa");
_Static_assert(VMBUS_PKT_COMP == VMBUS_CHANPKT_TYPE_COMP, "comp");
_Static_assert(VMBUS_PKT_FLAG_COMPLETION == VMBUS_CHANPKT_FLAG_RC, "rc");

/* channel messages */
SAME_SIZE(struct vmbus_msg_hdr, struct vmbus_chanmsg_hdr);
SAME_SIZE(struct vmbus_msg_offer, struct vmbus_chanmsg_choffer);
SAME_OFF(struct vmbus_msg_offer, if_type, struct vmbus_chanmsg_choffer, chtype);
SAME_OFF(struct vmbus_msg_offer, if_instance, struct vmbus_chanmsg_choffer,
	 chinst);
SAME_OFF(struct vmbus_msg_offer, chn_flags, struct vmbus_chanmsg_choffer,
	 chflags);
SAME_OFF(struct vmbus_msg_offer, user_def, struct vmbus_chanmsg_choffer, udata);
SAME_OFF(struct vmbus_msg_offer, sub_channel_index,
	 struct vmbus_chanmsg_choffer, subidx);
SAME_OFF(struct vmbus_msg_offer, child_relid, struct vmbus_chanmsg_choffer,
	 chanid);
SAME_OFF(struct vmbus_msg_offer, monitor_id, struct vmbus_chanmsg_choffer,
	 montrig);
SAME_OFF(struct vmbus_msg_offer, monitor_flags, struct vmbus_chanmsg_choffer,
	 flags1);
SAME_OFF(struct vmbus_msg_offer, interrupt_flags,
	 struct vmbus_chanmsg_choffer, flags2);
SAME_OFF(struct vmbus_msg_offer, connection_id, struct vmbus_chanmsg_choffer,
	 connid);
SAME_SIZE(struct vmbus_msg_relid, struct vmbus_chanmsg_chrescind);
SAME_SIZE(struct vmbus_msg_relid, struct vmbus_chanmsg_chclose);
SAME_SIZE(struct vmbus_msg_relid, struct vmbus_chanmsg_chfree);
SAME_SIZE(struct vmbus_msg_open, struct vmbus_chanmsg_chopen);
SAME_OFF(struct vmbus_msg_open, child_relid, struct vmbus_chanmsg_chopen, chanid);
SAME_OFF(struct vmbus_msg_open, openid, struct vmbus_chanmsg_chopen, openid);
SAME_OFF(struct vmbus_msg_open, ring_gpadl, struct vmbus_chanmsg_chopen, gpadl);
SAME_OFF(struct vmbus_msg_open, target_vp, struct vmbus_chanmsg_chopen, vcpuid);
SAME_OFF(struct vmbus_msg_open, downstream_page_offset,
	 struct vmbus_chanmsg_chopen, txbr_pgcnt);
SAME_OFF(struct vmbus_msg_open, user_data, struct vmbus_chanmsg_chopen, udata);
SAME_SIZE(struct vmbus_msg_open_result, struct vmbus_chanmsg_chopen_resp);
SAME_OFF(struct vmbus_msg_open_result, status, struct vmbus_chanmsg_chopen_resp,
	 status);
SAME_OFF(struct vmbus_msg_gpadl_header, child_relid,
	 struct vmbus_chanmsg_gpadl_conn, chanid);
SAME_OFF(struct vmbus_msg_gpadl_header, gpadl, struct vmbus_chanmsg_gpadl_conn,
	 gpadl);
SAME_OFF(struct vmbus_msg_gpadl_header, range_buflen,
	 struct vmbus_chanmsg_gpadl_conn, range_len);
SAME_OFF(struct vmbus_msg_gpadl_header, rangecount,
	 struct vmbus_chanmsg_gpadl_conn, range_cnt);
_Static_assert(sizeof(struct vmbus_msg_gpadl_header) ==
		       offsetof(struct vmbus_chanmsg_gpadl_conn, range),
	       "GPADL header: range follows");
SAME_OFF(struct vmbus_msg_gpadl_body, msgnumber,
	 struct vmbus_chanmsg_gpadl_subconn, msgno);
SAME_OFF(struct vmbus_msg_gpadl_body, gpadl, struct vmbus_chanmsg_gpadl_subconn,
	 gpadl);
_Static_assert(sizeof(struct vmbus_msg_gpadl_body) ==
		       offsetof(struct vmbus_chanmsg_gpadl_subconn, gpa_page),
	       "GPADL body: PFNs follow");
SAME_SIZE(struct vmbus_msg_gpadl_created, struct vmbus_chanmsg_gpadl_connresp);
SAME_OFF(struct vmbus_msg_gpadl_created, status,
	 struct vmbus_chanmsg_gpadl_connresp, status);
SAME_SIZE(struct vmbus_msg_gpadl_teardown, struct vmbus_chanmsg_gpadl_disconn);
SAME_SIZE(struct vmbus_msg_initiate_contact, struct vmbus_chanmsg_connect);
SAME_OFF(struct vmbus_msg_initiate_contact, version, struct vmbus_chanmsg_connect,
	 ver);
SAME_OFF(struct vmbus_msg_initiate_contact, u, struct vmbus_chanmsg_connect,
	 evtflags);
SAME_OFF(struct vmbus_msg_initiate_contact, monitor_page1,
	 struct vmbus_chanmsg_connect, mnf1);
SAME_OFF(struct vmbus_msg_initiate_contact, monitor_page2,
	 struct vmbus_chanmsg_connect, mnf2);
SAME_OFF(struct vmbus_msg_version_response, version_supported,
	 struct vmbus_chanmsg_connect_resp, done);
_Static_assert(VMBUS_MSG_MAX == VMBUS_MSG_DSIZE_MAX, "message payload");
_Static_assert(VMBUS_GPADL_HEADER_PFNS == VMBUS_CHANMSG_GPADL_CONN_PGMAX,
	       "PFNs in GPADL_HEADER");
_Static_assert(VMBUS_GPADL_BODY_PFNS == VMBUS_CHANMSG_GPADL_SUBCONN_PGMAX,
	       "PFNs in GPADL_BODY");
_Static_assert(VMBUS_MSG_OFFERCHANNEL == VMBUS_CHANMSG_TYPE_CHOFFER, "1");
_Static_assert(VMBUS_MSG_RESCIND_CHANNELOFFER == VMBUS_CHANMSG_TYPE_CHRESCIND, "2");
_Static_assert(VMBUS_MSG_REQUESTOFFERS == VMBUS_CHANMSG_TYPE_CHREQUEST, "3");
_Static_assert(VMBUS_MSG_ALLOFFERS_DELIVERED == VMBUS_CHANMSG_TYPE_CHOFFER_DONE, "4");
_Static_assert(VMBUS_MSG_OPENCHANNEL == VMBUS_CHANMSG_TYPE_CHOPEN, "5");
_Static_assert(VMBUS_MSG_OPENCHANNEL_RESULT == VMBUS_CHANMSG_TYPE_CHOPEN_RESP, "6");
_Static_assert(VMBUS_MSG_CLOSECHANNEL == VMBUS_CHANMSG_TYPE_CHCLOSE, "7");
_Static_assert(VMBUS_MSG_GPADL_HEADER == VMBUS_CHANMSG_TYPE_GPADL_CONN, "8");
_Static_assert(VMBUS_MSG_GPADL_BODY == VMBUS_CHANMSG_TYPE_GPADL_SUBCONN, "9");
_Static_assert(VMBUS_MSG_GPADL_CREATED == VMBUS_CHANMSG_TYPE_GPADL_CONNRESP, "10");
_Static_assert(VMBUS_MSG_GPADL_TEARDOWN == VMBUS_CHANMSG_TYPE_GPADL_DISCONN, "11");
_Static_assert(VMBUS_MSG_GPADL_TORNDOWN == VMBUS_CHANMSG_TYPE_GPADL_DISCONNRESP, "12");
_Static_assert(VMBUS_MSG_RELID_RELEASED == VMBUS_CHANMSG_TYPE_CHFREE, "13");
_Static_assert(VMBUS_MSG_INITIATE_CONTACT == VMBUS_CHANMSG_TYPE_CONNECT, "14");
_Static_assert(VMBUS_MSG_VERSION_RESPONSE == VMBUS_CHANMSG_TYPE_CONNECT_RESP, "15");
_Static_assert(VMBUS_MSG_UNLOAD == VMBUS_CHANMSG_TYPE_DISCONNECT, "16");

/* SCSI: what glibc's <scsi/scsi.h> defines (it has no 16-byte CDB
 * opcodes, REPORT LUNS or UNMAP; those are checked against T10 values in
 * test_vmbus_proto.c) */
_Static_assert(SCSI_TEST_UNIT_READY == TEST_UNIT_READY, "TUR");
_Static_assert(SCSI_INQUIRY == INQUIRY, "INQUIRY");
_Static_assert(SCSI_SYNCHRONIZE_CACHE_10 == SYNCHRONIZE_CACHE, "SYNC CACHE");
_Static_assert(SENSE_NOT_READY == NOT_READY, "key 2");
_Static_assert(SENSE_MEDIUM_ERROR == MEDIUM_ERROR, "key 3");
_Static_assert(SENSE_HARDWARE_ERROR == HARDWARE_ERROR, "key 4");
_Static_assert(SENSE_ILLEGAL_REQUEST == ILLEGAL_REQUEST, "key 5");
_Static_assert(SENSE_UNIT_ATTENTION == UNIT_ATTENTION, "key 6");
_Static_assert(SENSE_DATA_PROTECT == DATA_PROTECT, "key 7");
_Static_assert(SENSE_ABORTED_COMMAND == ABORTED_COMMAND, "key 0xb");
/* glibc's status codes are the old shifted form (status >> 1) */
_Static_assert(SAM_STAT_CHECK_CONDITION == CHECK_CONDITION << 1, "CHECK");
_Static_assert(SAM_STAT_BUSY == BUSY << 1, "BUSY");
_Static_assert(SAM_STAT_TASK_SET_FULL == QUEUE_FULL << 1, "TASK SET FULL");
_Static_assert(TYPE_DISK == 0, "disk");

START_TEST(guids_match_dpdk_and_spec)
{
	/* DPDK names the NIC class with this UUID; rte_uuid_t is the
	 * textual byte order, pvio keeps the wire (mixed-endian) order */
	rte_uuid_t nic = RTE_UUID_INIT(0xf8615163, 0xdf3e, 0x46c5, 0x913f,
				       0xf2d2f965ed0eULL);
	static const int order[16] = { 3, 2, 1, 0, 5, 4, 7, 6,
				       8, 9, 10, 11, 12, 13, 14, 15 };
	for (int i = 0; i < 16; i++)
		ck_assert_uint_eq(nic[i], vmbus_guid_netvsc.b[order[i]]);
	char b[40];
	vmbus_guid_str(&vmbus_guid_netvsc, b, sizeof(b));
	ck_assert_str_eq(b, "f8615163-df3e-46c5-913f-f2d2f965ed0e");
	vmbus_guid_str(&vmbus_guid_storvsc, b, sizeof(b));
	ck_assert_str_eq(b, "ba6163d9-04a1-4d29-b605-72e2ffb1dc7f");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vmbus_layout");
	TCase *tc = tcase_create("layout");
	tcase_add_test(tc, guids_match_dpdk_and_spec);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
