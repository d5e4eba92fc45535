/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_simvmbus_layout.c - the simulated Hyper-V host's wire
 * structures (sim/vmbus/wire.h) against independent public headers:
 * DPDK's rte_vmbus_reg.h (VMBus channel messages, ring header, packet
 * descriptors, monitor page) and glibc's <scsi/scsi.h> (SCSI opcodes,
 * sense keys, status).  Sizes and offsets are checked at compile time; the
 * runtime tests write a message with one definition and read it back with
 * the other.
 */
#include <check.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <scsi/scsi.h>

#include "vmbus/wire.h"

#ifdef SIMVMBUS_HAVE_DPDK
#include <rte_vmbus_reg.h>
#endif

#define SAME_SIZE(a, b) _Static_assert(sizeof(a) == sizeof(b), #a " vs " #b)
#define SAME_OFF(a, fa, b, fb)                                              \
	_Static_assert(offsetof(a, fa) == offsetof(b, fb),                  \
		       #a "." #fa " vs " #b "." #fb)

/* ----------------------------------------------------- glibc scsi.h */
_Static_assert(SHV_SCSI_TEST_UNIT_READY == TEST_UNIT_READY, "TUR");
_Static_assert(SHV_SCSI_REQUEST_SENSE == REQUEST_SENSE, "REQUEST SENSE");
_Static_assert(SHV_SCSI_READ_6 == READ_6, "READ(6)");
_Static_assert(SHV_SCSI_WRITE_6 == WRITE_6, "WRITE(6)");
_Static_assert(SHV_SCSI_INQUIRY == INQUIRY, "INQUIRY");
_Static_assert(SHV_SCSI_MODE_SELECT_6 == MODE_SELECT, "MODE SELECT");
_Static_assert(SHV_SCSI_MODE_SENSE_6 == MODE_SENSE, "MODE SENSE(6)");
_Static_assert(SHV_SCSI_START_STOP == START_STOP, "START STOP");
_Static_assert(SHV_SCSI_ALLOW_MEDIUM_REMOVAL == ALLOW_MEDIUM_REMOVAL, "AMR");
_Static_assert(SHV_SCSI_READ_CAPACITY_10 == READ_CAPACITY, "READ CAP");
_Static_assert(SHV_SCSI_READ_10 == READ_10, "READ(10)");
_Static_assert(SHV_SCSI_WRITE_10 == WRITE_10, "WRITE(10)");
_Static_assert(SHV_SCSI_VERIFY_10 == VERIFY, "VERIFY");
_Static_assert(SHV_SCSI_SYNCHRONIZE_CACHE_10 == SYNCHRONIZE_CACHE, "SYNC");
_Static_assert(SHV_SCSI_WRITE_SAME_10 == WRITE_SAME, "WRITE SAME");
_Static_assert(SHV_SCSI_MODE_SENSE_10 == MODE_SENSE_10, "MODE SENSE(10)");
_Static_assert(SHV_SCSI_READ_12 == READ_12, "READ(12)");
_Static_assert(SHV_SCSI_WRITE_12 == WRITE_12, "WRITE(12)");
/* glibc keeps the old status byte shifted right by one */
_Static_assert(SHV_SAM_CHECK_CONDITION == CHECK_CONDITION << 1, "CHECK COND");
_Static_assert(SHV_SAM_GOOD == GOOD, "GOOD");
_Static_assert(SHV_SK_NOT_READY == NOT_READY, "NOT READY");
_Static_assert(SHV_SK_MEDIUM_ERROR == MEDIUM_ERROR, "MEDIUM ERROR");
_Static_assert(SHV_SK_HARDWARE_ERROR == HARDWARE_ERROR, "HW ERROR");
_Static_assert(SHV_SK_ILLEGAL_REQUEST == ILLEGAL_REQUEST, "ILLEGAL REQ");
_Static_assert(SHV_SK_UNIT_ATTENTION == UNIT_ATTENTION, "UA");
_Static_assert(SHV_SK_DATA_PROTECT == DATA_PROTECT, "DATA PROTECT");
_Static_assert(SHV_SK_ABORTED_COMMAND == ABORTED_COMMAND, "ABORTED");

START_TEST(scsi_opcode_groups)
{
	/* the 16-byte opcodes glibc does not name sit in group 4 (16-byte
	 * CDBs), REPORT LUNS in group 5 (12-byte) as SPC says */
	const uint8_t sixteen[] = { SHV_SCSI_READ_16, SHV_SCSI_WRITE_16,
				    SHV_SCSI_VERIFY_16,
				    SHV_SCSI_SYNCHRONIZE_CACHE_16,
				    SHV_SCSI_WRITE_SAME_16,
				    SHV_SCSI_SERVICE_ACTION_IN_16 };
	for (size_t i = 0; i < sizeof(sixteen); i++)
		ck_assert_uint_eq(sixteen[i] >> 5, 4);
	ck_assert_uint_eq(SHV_SCSI_REPORT_LUNS >> 5, 5);
	ck_assert_uint_eq(SHV_SCSI_UNMAP >> 5, 2);
	ck_assert_uint_eq(TYPE_DISK, 0);
}
END_TEST

#ifdef SIMVMBUS_HAVE_DPDK
/* -------------------------------------------------- DPDK rte_vmbus_reg.h */
_Static_assert(SHV_MSG_OFFERCHANNEL == VMBUS_CHANMSG_TYPE_CHOFFER, "");
_Static_assert(SHV_MSG_RESCIND_CHANNELOFFER == VMBUS_CHANMSG_TYPE_CHRESCIND, "");
_Static_assert(SHV_MSG_REQUESTOFFERS == VMBUS_CHANMSG_TYPE_CHREQUEST, "");
_Static_assert(SHV_MSG_ALLOFFERS_DELIVERED == VMBUS_CHANMSG_TYPE_CHOFFER_DONE, "");
_Static_assert(SHV_MSG_OPENCHANNEL == VMBUS_CHANMSG_TYPE_CHOPEN, "");
_Static_assert(SHV_MSG_OPENCHANNEL_RESULT == VMBUS_CHANMSG_TYPE_CHOPEN_RESP, "");
_Static_assert(SHV_MSG_CLOSECHANNEL == VMBUS_CHANMSG_TYPE_CHCLOSE, "");
_Static_assert(SHV_MSG_GPADL_HEADER == VMBUS_CHANMSG_TYPE_GPADL_CONN, "");
_Static_assert(SHV_MSG_GPADL_BODY == VMBUS_CHANMSG_TYPE_GPADL_SUBCONN, "");
_Static_assert(SHV_MSG_GPADL_CREATED == VMBUS_CHANMSG_TYPE_GPADL_CONNRESP, "");
_Static_assert(SHV_MSG_GPADL_TEARDOWN == VMBUS_CHANMSG_TYPE_GPADL_DISCONN, "");
_Static_assert(SHV_MSG_GPADL_TORNDOWN == VMBUS_CHANMSG_TYPE_GPADL_DISCONNRESP, "");
_Static_assert(SHV_MSG_RELID_RELEASED == VMBUS_CHANMSG_TYPE_CHFREE, "");
_Static_assert(SHV_MSG_INITIATE_CONTACT == VMBUS_CHANMSG_TYPE_CONNECT, "");
_Static_assert(SHV_MSG_VERSION_RESPONSE == VMBUS_CHANMSG_TYPE_CONNECT_RESP, "");
_Static_assert(SHV_MSG_UNLOAD == VMBUS_CHANMSG_TYPE_DISCONNECT, "");
_Static_assert(SHV_MSG_PAYLOAD_MAX == VMBUS_MSG_DSIZE_MAX, "");
_Static_assert(SHV_GPADL_HEADER_PFNS == VMBUS_CHANMSG_GPADL_CONN_PGMAX, "");
_Static_assert(SHV_GPADL_BODY_PFNS == VMBUS_CHANMSG_GPADL_SUBCONN_PGMAX, "");
_Static_assert(SHV_PKT_INBAND == VMBUS_CHANPKT_TYPE_INBAND, "");
_Static_assert(SHV_PKT_XFER_PAGES == VMBUS_CHANPKT_TYPE_RXBUF, "");
_Static_assert(SHV_PKT_GPA_DIRECT == VMBUS_CHANPKT_TYPE_GPA, "");
_Static_assert(SHV_PKT_COMP == VMBUS_CHANPKT_TYPE_COMP, "");
_Static_assert(SHV_PKT_FLAG_RC == VMBUS_CHANPKT_FLAG_RC, "");

SAME_SIZE(struct shv_msg_hdr, struct vmbus_chanmsg_hdr);
SAME_SIZE(struct shv_msg_offer, struct vmbus_chanmsg_choffer);
SAME_OFF(struct shv_msg_offer, if_type, struct vmbus_chanmsg_choffer, chtype);
SAME_OFF(struct shv_msg_offer, if_instance, struct vmbus_chanmsg_choffer, chinst);
SAME_OFF(struct shv_msg_offer, chflags, struct vmbus_chanmsg_choffer, chflags);
SAME_OFF(struct shv_msg_offer, mmio_mb, struct vmbus_chanmsg_choffer, mmio_sz);
SAME_OFF(struct shv_msg_offer, user_def, struct vmbus_chanmsg_choffer, udata);
SAME_OFF(struct shv_msg_offer, sub_index, struct vmbus_chanmsg_choffer, subidx);
SAME_OFF(struct shv_msg_offer, child_relid, struct vmbus_chanmsg_choffer, chanid);
SAME_OFF(struct shv_msg_offer, monitor_id, struct vmbus_chanmsg_choffer, montrig);
SAME_OFF(struct shv_msg_offer, monitor_allocated, struct vmbus_chanmsg_choffer, flags1);
SAME_OFF(struct shv_msg_offer, dedicated_interrupt, struct vmbus_chanmsg_choffer, flags2);
SAME_OFF(struct shv_msg_offer, connection_id, struct vmbus_chanmsg_choffer, connid);
SAME_SIZE(struct shv_msg_relid, struct vmbus_chanmsg_chrescind);
SAME_SIZE(struct shv_msg_relid, struct vmbus_chanmsg_chclose);
SAME_SIZE(struct shv_msg_relid, struct vmbus_chanmsg_chfree);
SAME_OFF(struct shv_msg_relid, relid, struct vmbus_chanmsg_chfree, chanid);
SAME_SIZE(struct shv_msg_open, struct vmbus_chanmsg_chopen);
SAME_OFF(struct shv_msg_open, relid, struct vmbus_chanmsg_chopen, chanid);
SAME_OFF(struct shv_msg_open, openid, struct vmbus_chanmsg_chopen, openid);
SAME_OFF(struct shv_msg_open, ring_gpadl, struct vmbus_chanmsg_chopen, gpadl);
SAME_OFF(struct shv_msg_open, target_vp, struct vmbus_chanmsg_chopen, vcpuid);
SAME_OFF(struct shv_msg_open, downstream_offset, struct vmbus_chanmsg_chopen, txbr_pgcnt);
SAME_OFF(struct shv_msg_open, user_data, struct vmbus_chanmsg_chopen, udata);
SAME_SIZE(struct shv_msg_open_result, struct vmbus_chanmsg_chopen_resp);
SAME_OFF(struct shv_msg_open_result, status, struct vmbus_chanmsg_chopen_resp, status);
SAME_SIZE(struct shv_msg_gpadl_header, struct vmbus_chanmsg_gpadl_conn);
SAME_OFF(struct shv_msg_gpadl_header, relid, struct vmbus_chanmsg_gpadl_conn, chanid);
SAME_OFF(struct shv_msg_gpadl_header, gpadl, struct vmbus_chanmsg_gpadl_conn, gpadl);
SAME_OFF(struct shv_msg_gpadl_header, range_buflen, struct vmbus_chanmsg_gpadl_conn, range_len);
SAME_OFF(struct shv_msg_gpadl_header, rangecount, struct vmbus_chanmsg_gpadl_conn, range_cnt);
SAME_OFF(struct shv_msg_gpadl_header, range.byte_count, struct vmbus_chanmsg_gpadl_conn, range.len);
SAME_OFF(struct shv_msg_gpadl_header, range.byte_offset, struct vmbus_chanmsg_gpadl_conn, range.ofs);
SAME_SIZE(struct shv_msg_gpadl_body, struct vmbus_chanmsg_gpadl_subconn);
SAME_OFF(struct shv_msg_gpadl_body, msgnumber, struct vmbus_chanmsg_gpadl_subconn, msgno);
SAME_OFF(struct shv_msg_gpadl_body, gpadl, struct vmbus_chanmsg_gpadl_subconn, gpadl);
SAME_SIZE(struct shv_msg_gpadl_created, struct vmbus_chanmsg_gpadl_connresp);
SAME_OFF(struct shv_msg_gpadl_created, status, struct vmbus_chanmsg_gpadl_connresp, status);
SAME_SIZE(struct shv_msg_gpadl_teardown, struct vmbus_chanmsg_gpadl_disconn);
SAME_OFF(struct shv_msg_gpadl_teardown, gpadl, struct vmbus_chanmsg_gpadl_disconn, gpadl);
SAME_SIZE(struct shv_msg_initiate_contact, struct vmbus_chanmsg_connect);
SAME_OFF(struct shv_msg_initiate_contact, version, struct vmbus_chanmsg_connect, ver);
SAME_OFF(struct shv_msg_initiate_contact, interrupt_page_or_sint, struct vmbus_chanmsg_connect, evtflags);
SAME_OFF(struct shv_msg_initiate_contact, monitor_page1, struct vmbus_chanmsg_connect, mnf1);
SAME_OFF(struct shv_msg_initiate_contact, monitor_page2, struct vmbus_chanmsg_connect, mnf2);
SAME_OFF(struct shv_msg_version_response, version_supported, struct vmbus_chanmsg_connect_resp, done);

SAME_OFF(struct shv_ring_hdr, write_index, struct vmbus_bufring, windex);
SAME_OFF(struct shv_ring_hdr, read_index, struct vmbus_bufring, rindex);
SAME_OFF(struct shv_ring_hdr, interrupt_mask, struct vmbus_bufring, imask);
SAME_OFF(struct shv_ring_hdr, pending_send_sz, struct vmbus_bufring, pending_send);
SAME_OFF(struct shv_ring_hdr, feature_bits, struct vmbus_bufring, feature_bits);
SAME_SIZE(struct shv_ring_hdr, struct vmbus_bufring);
SAME_SIZE(struct shv_pkt_desc, struct vmbus_chanpkt_hdr);
SAME_OFF(struct shv_pkt_desc, offset8, struct vmbus_chanpkt_hdr, hlen);
SAME_OFF(struct shv_pkt_desc, len8, struct vmbus_chanpkt_hdr, tlen);
SAME_OFF(struct shv_pkt_desc, flags, struct vmbus_chanpkt_hdr, flags);
SAME_OFF(struct shv_pkt_desc, trans_id, struct vmbus_chanpkt_hdr, xactid);
SAME_SIZE(struct shv_gpa_direct_hdr, struct vmbus_chanpkt_sglist);
SAME_OFF(struct shv_gpa_direct_hdr, range_cnt, struct vmbus_chanpkt_sglist, gpa_cnt);
SAME_SIZE(struct shv_gpa_range, struct vmbus_gpa_range);
SAME_SIZE(struct shv_xfer_hdr, struct vmbus_chanpkt_rxbuf);
SAME_OFF(struct shv_xfer_hdr, xfer_pageset_id, struct vmbus_chanpkt_rxbuf, rxbuf_id);
SAME_OFF(struct shv_xfer_hdr, range_cnt, struct vmbus_chanpkt_rxbuf, rxbuf_cnt);
SAME_SIZE(struct shv_xfer_range, struct vmbus_rxbuf_desc);
SAME_OFF(struct shv_xfer_range, byte_offset, struct vmbus_rxbuf_desc, ofs);
_Static_assert(SHV_MON_TRIG_PENDING(0) == offsetof(struct vmbus_mon_page, trigs[0].pending), "");
_Static_assert(SHV_MON_TRIG_PENDING(3) == offsetof(struct vmbus_mon_page, trigs[3].pending), "");
_Static_assert(SHV_MON_LATENCY_OFF == offsetof(struct vmbus_mon_page, lat), "");
_Static_assert(SHV_MON_GROUPS == VMBUS_MONTRIGS_MAX, "");

START_TEST(offer_round_trip)
{
	struct shv_msg_offer mine;
	struct vmbus_chanmsg_choffer theirs;
	memset(&mine, 0, sizeof(mine));
	mine.hdr.type = SHV_MSG_OFFERCHANNEL;
	for (int i = 0; i < 16; i++) {
		mine.if_type[i] = (uint8_t)i;
		mine.if_instance[i] = (uint8_t)(0xF0 + i);
	}
	mine.sub_index = 3;
	mine.child_relid = 0x11223344;
	mine.monitor_id = 77;
	mine.monitor_allocated = 1;
	mine.dedicated_interrupt = 1;
	mine.connection_id = 0x10005;
	memcpy(&theirs, &mine, sizeof(theirs));
	ck_assert_uint_eq(theirs.hdr.type, VMBUS_CHANMSG_TYPE_CHOFFER);
	ck_assert_uint_eq(theirs.chtype[0], 0);
	ck_assert_uint_eq(theirs.chinst[15], 0xFF);
	ck_assert_uint_eq(theirs.subidx, 3);
	ck_assert_uint_eq(theirs.chanid, 0x11223344);
	ck_assert_uint_eq(theirs.montrig, 77);
	ck_assert_uint_eq(theirs.flags1 & VMBUS_CHOFFER_FLAG1_HASMNF, 1);
	ck_assert_uint_eq(theirs.connid, 0x10005);
}
END_TEST

START_TEST(packet_round_trip)
{
	uint8_t buf[64];
	struct shv_gpa_direct_hdr g;
	memset(&g, 0, sizeof(g));
	g.d.type = SHV_PKT_GPA_DIRECT;
	g.d.offset8 = 5;
	g.d.len8 = 13;
	g.d.flags = SHV_PKT_FLAG_RC;
	g.d.trans_id = 0x0102030405060708ull;
	g.range_cnt = 1;
	memcpy(buf, &g, sizeof(g));
	struct vmbus_chanpkt_sglist t;
	memcpy(&t, buf, sizeof(t));
	ck_assert_uint_eq(t.hdr.type, VMBUS_CHANPKT_TYPE_GPA);
	ck_assert_uint_eq(t.hdr.hlen, 5);
	ck_assert_uint_eq(t.hdr.tlen, 13);
	ck_assert_uint_eq(vmbus_chanpkt_datalen(&t.hdr), (13 - 5) * 8);
	ck_assert_uint_eq(t.hdr.xactid, 0x0102030405060708ull);
	ck_assert_uint_eq(t.gpa_cnt, 1);

	struct vmbus_bufring r;
	memset(&r, 0, sizeof(r));
	r.feature_bits.feat_pending_send_sz = 1;
	r.pending_send = 99;
	struct shv_ring_hdr h;
	memcpy(&h, &r, sizeof(h));
	ck_assert_uint_eq(h.feature_bits & SHV_RING_FEAT_PENDING_SEND, 1);
	ck_assert_uint_eq(h.pending_send_sz, 99);
}
END_TEST
#endif /* SIMVMBUS_HAVE_DPDK */

static Suite *suite(void)
{
	Suite *s = suite_create("simvmbus_layout");
	TCase *tc = tcase_create("layout");
	tcase_add_test(tc, scsi_opcode_groups);
#ifdef SIMVMBUS_HAVE_DPDK
	tcase_add_test(tc, offer_round_trip);
	tcase_add_test(tc, packet_round_trip);
#endif
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
#ifndef SIMVMBUS_HAVE_DPDK
	if (!failed) {
		fprintf(stderr, "rte_vmbus_reg.h not found (libdpdk-dev, "
				"scripts/deps.sh): VMBus layouts NOT checked\n");
		return 77;
	}
#endif
	return failed ? 1 : 0;
}
