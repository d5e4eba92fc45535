/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the VMBus back end's pure encoders and decoders: GPADL
 * message splitting, SCSI CDBs and responses (T10 values), RNDIS messages
 * and per-packet info, NDIS objects - including hostile lengths and
 * offsets.
 */
#include <check.h>
#include <stdlib.h>

#include "backends/vmbus/conn.h"
#include "backends/vmbus/netvsc.h"
#include "backends/vmbus/storvsc.h"

static uint32_t u32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static uint16_t u16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return v;
}

static uint64_t u64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

/* ---------------------------------------------------------------- GPADL */

static void check_gpadl(uint32_t npages)
{
	uint8_t m[VMBUS_MSG_MAX];
	const uint64_t base = 0x100040;
	uint32_t expect_msgs = npages <= 26 ? 1 : 1 + (npages - 26 + 27) / 28;
	ck_assert_uint_eq(vmbus_gpadl_nmsgs(npages), expect_msgs);
	uint64_t next = base;
	for (uint32_t i = 0; i < expect_msgs; i++) {
		uint32_t len = vmbus_gpadl_msg(m, 7, 0xE1E10, base, npages, i);
		ck_assert_uint_le(len, 240);
		uint32_t npfn;
		const uint8_t *pfns;
		if (i == 0) {
			ck_assert_uint_eq(u32(m), VMBUS_MSG_GPADL_HEADER);
			ck_assert_uint_eq(u32(m + 8), 7);       /* relid */
			ck_assert_uint_eq(u32(m + 12), 0xE1E10); /* handle */
			ck_assert_uint_eq(u16(m + 16), 8 + 8 * npages);
			ck_assert_uint_eq(u16(m + 18), 1);      /* one range */
			ck_assert_uint_eq(u32(m + 20), npages * 4096);
			ck_assert_uint_eq(u32(m + 24), 0);      /* byte offset */
			npfn = (len - 28) / 8;
			ck_assert_uint_eq(npfn, npages < 26 ? npages : 26);
			pfns = m + 28;
		} else {
			ck_assert_uint_eq(u32(m), VMBUS_MSG_GPADL_BODY);
			ck_assert_uint_eq(u32(m + 12), 0xE1E10);
			npfn = (len - 16) / 8;
			uint32_t left = npages - 26 - (i - 1) * 28;
			ck_assert_uint_eq(npfn, left < 28 ? left : 28);
			pfns = m + 16;
		}
		for (uint32_t k = 0; k < npfn; k++)
			ck_assert_uint_eq(u64(pfns + 8 * k), next++);
	}
	ck_assert_uint_eq(next, base + npages);
	ck_assert_uint_eq(vmbus_gpadl_msg(m, 7, 1, base, npages, expect_msgs), 0);
}

START_TEST(gpadl_split)
{
	uint32_t sizes[] = { 1, 2, 25, 26, 27, 53, 54, 55, 128, 1024, 4096,
			     VMBUS_GPADL_MAX_PAGES };
	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		check_gpadl(sizes[i]);
	/* full messages are exactly 236 and 240 bytes */
	uint8_t m[VMBUS_MSG_MAX];
	ck_assert_uint_eq(vmbus_gpadl_msg(m, 1, 1, 0, 100, 0), 28 + 26 * 8);
	ck_assert_uint_eq(vmbus_gpadl_msg(m, 1, 1, 0, 100, 1), 240);
}
END_TEST

/* ---------------------------------------------------------------- SCSI */

START_TEST(scsi_cdbs)
{
	uint8_t c[16];
	/* T10 SBC-3 opcodes */
	ck_assert_uint_eq(vmbus_scsi_cdb_rw16(c, false, 0x0102030405060708ull,
					      0x0a0b0c0d, false),
			  16);
	static const uint8_t rd[16] = { 0x88, 0, 1, 2, 3, 4, 5, 6, 7, 8,
					0x0a, 0x0b, 0x0c, 0x0d, 0, 0 };
	ck_assert_mem_eq(c, rd, 16);
	vmbus_scsi_cdb_rw16(c, true, 1, 8, true);
	ck_assert_uint_eq(c[0], 0x8A);
	ck_assert_uint_eq(c[1], 0x08); /* FUA */
	ck_assert_uint_eq(c[9], 1);
	ck_assert_uint_eq(c[13], 8);
	ck_assert_uint_eq(vmbus_scsi_cdb_read_capacity16(c, 32), 16);
	ck_assert_uint_eq(c[0], 0x9E);
	ck_assert_uint_eq(c[1], 0x10);
	ck_assert_uint_eq(c[13], 32);
	ck_assert_uint_eq(vmbus_scsi_cdb_inquiry(c, true, 0xB0, 0x140), 6);
	static const uint8_t inq[6] = { 0x12, 1, 0xB0, 0x01, 0x40, 0 };
	ck_assert_mem_eq(c, inq, 6);
	ck_assert_uint_eq(vmbus_scsi_cdb_report_luns(c, 4096), 12);
	ck_assert_uint_eq(c[0], 0xA0);
	ck_assert_uint_eq(c[8], 0x10);
	ck_assert_uint_eq(vmbus_scsi_cdb_unmap(c, 24), 10);
	ck_assert_uint_eq(c[0], 0x42);
	ck_assert_uint_eq(c[8], 24);
	ck_assert_uint_eq(vmbus_scsi_cdb_sync_cache10(c), 10);
	ck_assert_uint_eq(c[0], 0x35);
	ck_assert_uint_eq(vmbus_scsi_cdb_tur(c), 6);
	ck_assert_uint_eq(c[0], 0x00);
	uint8_t p[24];
	vmbus_scsi_unmap_param(p, 0x1122334455667788ull, 0x99aabbcc);
	static const uint8_t up[24] = { 0, 22, 0, 16, 0, 0, 0, 0,
					0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
					0x99, 0xaa, 0xbb, 0xcc, 0, 0, 0, 0 };
	ck_assert_mem_eq(p, up, 24);
	ck_assert_str_eq(vmbus_scsi_cdb_name(rd), "READ(16)");
}
END_TEST

START_TEST(scsi_sense)
{
	struct scsi_sense s;
	uint8_t fixed[18] = { 0x70, 0, 0x06, 0, 0, 0, 0, 10, 0, 0, 0, 0,
			      0x2A, 0x09 };
	ck_assert_int_eq(vmbus_scsi_sense_parse(fixed, 18, &s), 0);
	ck_assert_uint_eq(s.key, 6);
	ck_assert_uint_eq(s.asc, 0x2A);
	ck_assert_uint_eq(s.ascq, 0x09);
	/* short fixed sense: key only */
	ck_assert_int_eq(vmbus_scsi_sense_parse(fixed, 8, &s), 0);
	ck_assert_uint_eq(s.key, 6);
	ck_assert_uint_eq(s.asc, 0);
	/* additional length too small to cover ASC */
	fixed[7] = 2;
	ck_assert_int_eq(vmbus_scsi_sense_parse(fixed, 18, &s), 0);
	ck_assert_uint_eq(s.asc, 0);
	uint8_t desc[8] = { 0x72, 0x03, 0x11, 0x00 };
	ck_assert_int_eq(vmbus_scsi_sense_parse(desc, 8, &s), 0);
	ck_assert_uint_eq(s.key, 3);
	ck_assert_uint_eq(s.asc, 0x11);
	ck_assert_int_eq(vmbus_scsi_sense_parse(desc, 3, &s), -EINVAL);
	uint8_t junk[4] = { 0x12, 0, 0, 0 };
	ck_assert_int_eq(vmbus_scsi_sense_parse(junk, 4, &s), -EINVAL);
	ck_assert_int_eq(vmbus_scsi_sense_parse(junk, 0, &s), -EINVAL);
	ck_assert_str_eq(vmbus_scsi_sense_key_name(3), "MEDIUM ERROR");
}
END_TEST

START_TEST(scsi_responses)
{
	uint8_t cap[32] = { 0 };
	/* 2^20 blocks of 512, 8 logical per physical, LBPME */
	cap[5] = 0x0f;
	cap[6] = 0xff;
	cap[7] = 0xff;
	cap[10] = 0x02; /* 512 */
	cap[13] = 3;
	cap[14] = 0x80;
	struct scsi_capacity c;
	ck_assert_int_eq(vmbus_scsi_parse_capacity16(cap, 32, &c), 0);
	ck_assert_uint_eq(c.blocks, 1u << 20);
	ck_assert_uint_eq(c.block_len, 512);
	ck_assert_uint_eq(c.phys_exp, 3);
	ck_assert(c.lbpme);
	ck_assert_int_eq(vmbus_scsi_parse_capacity16(cap, 31, &c), -EINVAL);
	cap[10] = 0x03; /* 768: not a power of two */
	ck_assert_int_eq(vmbus_scsi_parse_capacity16(cap, 32, &c), -EINVAL);
	memset(cap, 0xff, 8); /* last LBA = 2^64-1 */
	cap[8] = cap[9] = 0;
	cap[10] = 2;
	cap[11] = 0;
	ck_assert_int_eq(vmbus_scsi_parse_capacity16(cap, 32, &c), -EINVAL);

	uint8_t pages[8] = { 0, 0x00, 0, 3, 0x00, 0xB0, 0xB2 };
	ck_assert_int_eq(vmbus_scsi_vpd_has_page(pages, 8, 0xB0), 1);
	ck_assert_int_eq(vmbus_scsi_vpd_has_page(pages, 8, 0x83), 0);
	/* list longer than the data: bounded by the data */
	pages[3] = 200;
	ck_assert_int_eq(vmbus_scsi_vpd_has_page(pages, 8, 0x99), 0);

	uint8_t bl[64] = { 0, 0xB0, 0, 0x3c };
	bl[11] = 0x80;  /* max transfer 128 blocks */
	bl[23] = 0x10;  /* max unmap 16 blocks */
	bl[27] = 1;     /* 1 descriptor */
	bl[31] = 8;     /* granularity 8 */
	struct scsi_block_limits l;
	ck_assert_int_eq(vmbus_scsi_parse_block_limits(bl, 64, &l), 0);
	ck_assert_uint_eq(l.max_transfer_blocks, 128);
	ck_assert_uint_eq(l.max_unmap_blocks, 16);
	ck_assert_uint_eq(l.max_unmap_descs, 1);
	ck_assert_uint_eq(l.unmap_granularity, 8);
	/* truncated page: only what is there */
	ck_assert_int_eq(vmbus_scsi_parse_block_limits(bl, 16, &l), 0);
	ck_assert_uint_eq(l.max_unmap_blocks, 0);
	uint8_t lbp[8] = { 0, 0xB2, 0, 4, 0, 0x80 };
	ck_assert_int_eq(vmbus_scsi_vpd_lbpu(lbp, 8), 1);
	ck_assert_int_eq(vmbus_scsi_vpd_lbpu(lbp, 5), 0);

	uint8_t luns[24] = { 0, 0, 0, 16 };
	luns[9] = 0;             /* LUN 0 */
	luns[16] = 0x40;         /* flat space LUN 0x105 */
	luns[16] |= 0x01;
	luns[17] = 0x05;
	uint16_t lun;
	ck_assert_int_eq(vmbus_scsi_report_luns_get(luns, 24, 0, &lun), 0);
	ck_assert_uint_eq(lun, 0);
	ck_assert_int_eq(vmbus_scsi_report_luns_get(luns, 24, 1, &lun), 0);
	ck_assert_uint_eq(lun, 0x105);
	ck_assert_int_eq(vmbus_scsi_report_luns_get(luns, 24, 2, &lun), -ENOENT);
	/* list length beyond the data: stops at the data */
	luns[3] = 0xf0;
	ck_assert_int_eq(vmbus_scsi_report_luns_get(luns, 24, 2, &lun), -ENOENT);
	luns[3] = 7; /* not a multiple of 8 */
	ck_assert_int_eq(vmbus_scsi_report_luns_get(luns, 24, 0, &lun), -EINVAL);
}
END_TEST

/* ---------------------------------------------------------------- RNDIS */

START_TEST(rndis_encoders)
{
	uint8_t b[128];
	ck_assert_uint_eq(vmbus_rndis_msg_init(b, 5), 24);
	ck_assert_uint_eq(u32(b), 2);
	ck_assert_uint_eq(u32(b + 4), 24);
	ck_assert_uint_eq(u32(b + 8), 5);
	ck_assert_uint_eq(u32(b + 12), 1);
	uint32_t mac_oid = 0x01010101;
	ck_assert_uint_eq(vmbus_rndis_msg_query(b, 6, mac_oid, NULL, 0), 28);
	ck_assert_uint_eq(u32(b), 4);
	ck_assert_uint_eq(u32(b + 12), mac_oid);
	uint32_t f = 0xd;
	ck_assert_uint_eq(vmbus_rndis_msg_set(b, 7, 0x0001010E, &f, 4), 32);
	ck_assert_uint_eq(u32(b + 16), 4);   /* info length */
	ck_assert_uint_eq(u32(b + 20), 20);  /* info offset (from byte 8) */
	ck_assert_uint_eq(u32(b + 28), 0xd); /* value at 8 + 20 */
	ck_assert_uint_eq(vmbus_rndis_msg_halt(b, 9), 12);
	ck_assert_uint_eq(u32(b), 3);

	/* data packet with checksum and LSO PPIs (Linux layout) */
	uint32_t hl = vmbus_rndis_pkt_hdr(b, 1000, 0x00220005u, 0x40E005B4u);
	ck_assert_uint_eq(hl, 44 + 32);
	ck_assert_uint_eq(u32(b), 1);
	ck_assert_uint_eq(u32(b + 4), hl + 1000);   /* msg_len */
	ck_assert_uint_eq(u32(b + 8), hl - 8);      /* data offset */
	ck_assert_uint_eq(u32(b + 12), 1000);
	ck_assert_uint_eq(u32(b + 28), 36);         /* PPI offset */
	ck_assert_uint_eq(u32(b + 32), 32);         /* PPI length */
	uint32_t v;
	ck_assert_int_eq(vmbus_rndis_ppi_find(b + 44, 32, PPI_TCPIP_CHECKSUM, &v), 1);
	ck_assert_uint_eq(v, 0x00220005u);
	ck_assert_int_eq(vmbus_rndis_ppi_find(b + 44, 32, PPI_LSO, &v), 1);
	ck_assert_uint_eq(v, 0x40E005B4u);
	ck_assert_int_eq(vmbus_rndis_ppi_find(b + 44, 32, PPI_VLAN, &v), 0);
	/* no offloads: no PPIs */
	ck_assert_uint_eq(vmbus_rndis_pkt_hdr(b, 60, 0, 0), 44);
	ck_assert_uint_eq(u32(b + 28), 0);
	/* its own output parses */
	uint8_t msg[44 + 60] = { 0 };
	vmbus_rndis_pkt_hdr(msg, 60, 0, 0);
	struct rndis_view rv;
	ck_assert_int_eq(vmbus_rndis_parse(msg, sizeof(msg), &rv), 0);
	ck_assert_uint_eq(rv.data_off, 44);
	ck_assert_uint_eq(rv.data_len, 60);
}
END_TEST

static void put(uint8_t *b, uint32_t off, uint32_t v)
{
	memcpy(b + off, &v, 4);
}

START_TEST(rndis_hostile)
{
	uint8_t m[128] = { 0 };
	struct rndis_view v;
	put(m, 0, RNDIS_MSG_PACKET);
	put(m, 4, 100);
	put(m, 8, 36);
	put(m, 12, 56); /* 8 + 36 + 56 = 100: fits exactly */
	ck_assert_int_eq(vmbus_rndis_parse(m, 100, &v), 0);
	ck_assert_uint_eq(v.data_off, 44);
	put(m, 12, 57); /* one byte past msg_len */
	ck_assert_int_eq(vmbus_rndis_parse(m, 100, &v), -EINVAL);
	put(m, 12, 0xFFFFFFF0u); /* wraps in 32 bits */
	ck_assert_int_eq(vmbus_rndis_parse(m, 100, &v), -EINVAL);
	put(m, 12, 10);
	put(m, 8, 4); /* data inside the header */
	ck_assert_int_eq(vmbus_rndis_parse(m, 100, &v), -EINVAL);
	put(m, 8, 36);
	put(m, 4, 200); /* msg_len beyond the range it sits in */
	ck_assert_int_eq(vmbus_rndis_parse(m, 100, &v), -EINVAL);
	put(m, 4, 4); /* below the header */
	ck_assert_int_eq(vmbus_rndis_parse(m, 100, &v), -EINVAL);
	put(m, 4, 100);
	put(m, 28, 36);
	put(m, 32, 0xFFFFFFFFu); /* PPI length absurd */
	ck_assert_int_eq(vmbus_rndis_parse(m, 100, &v), -EINVAL);
	put(m, 32, 0);

	/* QUERY_C with info beyond the message */
	memset(m, 0, sizeof(m));
	put(m, 0, RNDIS_MSG_QUERY_C);
	put(m, 4, 30);
	put(m, 16, 6);
	put(m, 20, 16);
	ck_assert_int_eq(vmbus_rndis_parse(m, 128, &v), 0);
	ck_assert_uint_eq(v.info_off, 24);
	put(m, 16, 7);
	ck_assert_int_eq(vmbus_rndis_parse(m, 128, &v), -EINVAL);
	put(m, 0, 0x12345678); /* unknown type */
	ck_assert_int_eq(vmbus_rndis_parse(m, 128, &v), -EINVAL);
	ck_assert_int_eq(vmbus_rndis_parse(m, 4, &v), -EINVAL);

	/* PPI lists: zero size (would loop), size past the end, data offset
	 * past the element */
	uint8_t p[32] = { 0 };
	uint32_t val;
	ck_assert_int_eq(vmbus_rndis_ppi_find(p, 32, 0, &val), -EINVAL);
	put(p, 0, 64);
	put(p, 8, 12);
	ck_assert_int_eq(vmbus_rndis_ppi_find(p, 32, 0, &val), -EINVAL);
	put(p, 0, 16);
	put(p, 8, 14);
	ck_assert_int_eq(vmbus_rndis_ppi_find(p, 32, 0, &val), -EINVAL);
	put(p, 8, 12);
	put(p, 12, 0xabc);
	put(p, 16, 16);
	put(p, 20, 8);
	put(p, 24, 12);
	put(p, 28, 0x55);
	ck_assert_int_eq(vmbus_rndis_ppi_find(p, 32, 8, &val), 1);
	ck_assert_uint_eq(val, 0x55);
	ck_assert_int_eq(vmbus_rndis_ppi_find(p, 20, 8, &val), -EINVAL);
}
END_TEST

START_TEST(ndis_objects)
{
	uint8_t caps[156] = { NDIS_OBJ_OFFLOAD, 3, 156, 0 };
	put(caps, 8, 0x50);   /* ip4 tx: TCP | UDP */
	put(caps, 84, 62780); /* LSOv2 ip4 max */
	put(caps, 88, 2);
	put(caps, 96, 62780); /* LSOv2 ip6 max */
	put(caps, 100, 2);
	struct ndis_caps c;
	/* LSOv2 counts only for Ethernet encapsulation */
	ck_assert_int_eq(vmbus_ndis_parse_caps(caps, 156, &c), 0);
	ck_assert_uint_eq(c.lso4_max, 0);
	ck_assert_uint_eq(c.lso6_max, 0);
	put(caps, 80, 2);     /* ip4 encap: 802.3 */
	put(caps, 92, 2);     /* ip6 encap: 802.3, but no ext-header option */
	ck_assert_int_eq(vmbus_ndis_parse_caps(caps, 156, &c), 0);
	ck_assert_uint_eq(c.ip4_txcsum, 0x50);
	ck_assert_uint_eq(c.lso4_max, 62780);
	ck_assert_uint_eq(c.lso4_minsg, 2);
	ck_assert_uint_eq(c.lso6_max, 0);
	put(caps, 104, 0x5);  /* IPv6 extension headers, TCP options */
	ck_assert_int_eq(vmbus_ndis_parse_caps(caps, 156, &c), 0);
	ck_assert_uint_eq(c.lso6_max, 62780);
	ck_assert_int_eq(vmbus_ndis_parse_caps(caps, 100, &c), -EINVAL);
	caps[2] = 200; /* claims more than was returned */
	ck_assert_int_eq(vmbus_ndis_parse_caps(caps, 156, &c), -EINVAL);
	caps[0] = 0x80;
	caps[2] = 156;
	ck_assert_int_eq(vmbus_ndis_parse_caps(caps, 156, &c), -EINVAL);

	uint8_t op[28];
	ck_assert_uint_eq(vmbus_ndis_offload_params(op, true, true, true, true,
						    false),
			  28);
	ck_assert_uint_eq(op[0], 0x80);
	ck_assert_uint_eq(op[1], 3);
	ck_assert_uint_eq(u16(op + 2), 28);
	ck_assert_uint_eq(op[5], 4); /* tcp4 TX+RX */
	ck_assert_uint_eq(op[11], 2); /* LSOv2 ip4 on */
	ck_assert_uint_eq(op[12], 1); /* LSOv2 ip6 off */
	ck_assert_uint_eq(vmbus_ndis_offload_params(op, false, false, false,
						    false, false),
			  22);
	ck_assert_uint_eq(op[5], 1);

	uint8_t rss[592];
	ck_assert_uint_eq(vmbus_ndis_rss_params(rss, 3), 592);
	ck_assert_uint_eq(rss[0], 0x89);
	ck_assert_uint_eq(u16(rss + 12), 512);
	ck_assert_uint_eq(u32(rss + 16), 40);
	ck_assert_uint_eq(u32(rss + 24), 552);
	ck_assert_uint_eq(u32(rss + 40 + 4 * 4), 1);
	ck_assert_uint_eq(u32(rss + 40 + 4 * 5), 2);

	uint8_t rc[16] = { NDIS_OBJ_RSS_CAPS, 2, 16, 0 };
	put(rc, 12, 8);
	ck_assert_int_eq(vmbus_ndis_parse_rss_caps(rc, 16), 8);
	put(rc, 12, 0);
	ck_assert_int_eq(vmbus_ndis_parse_rss_caps(rc, 16), -EINVAL);
	put(rc, 12, 100000);
	ck_assert_int_eq(vmbus_ndis_parse_rss_caps(rc, 16), 64);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vmbus_proto");
	TCase *tc = tcase_create("proto");
	tcase_add_test(tc, gpadl_split);
	tcase_add_test(tc, scsi_cdbs);
	tcase_add_test(tc, scsi_sense);
	tcase_add_test(tc, scsi_responses);
	tcase_add_test(tc, rndis_encoders);
	tcase_add_test(tc, rndis_hostile);
	tcase_add_test(tc, ndis_objects);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
