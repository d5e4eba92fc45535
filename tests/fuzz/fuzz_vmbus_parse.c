/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_vmbus_parse.c - the VMBus back end's decoders of what a
 * Hyper-V host sends, called directly on host bytes: RNDIS messages
 * (backends/vmbus/rndis.c: vmbus_rndis_parse, per-packet info lists,
 * NDIS offload and RSS capabilities) and SCSI data (scsi.c: sense data,
 * READ CAPACITY(16), Block Limits and other VPD pages, REPORT LUNS, the
 * MODE SENSE header).
 *
 * Each decoder gets an exact-size heap copy, so ASan reports any read
 * past what it was given.  Properties: everything a decoder reports as
 * an offset and length lies inside the message (offsets computed without
 * overflow); lengths and counts are within their documented ranges; the
 * decoders never write the output when they fail where they say so.
 */
#include "fuzz.h"

#include "backends/vmbus/netvsc.h"
#include "backends/vmbus/storvsc.h"

static uint8_t *copy(struct fz *f, uint32_t len)
{
	uint8_t *p = malloc(len ? len : 1);
	FZ_ASSERT(p, "malloc");
	fz_bytes(f, p, len);
	return p;
}

static void t_rndis(struct fz *f)
{
	/* the message's room (what the transfer page range said), and the
	 * private copy the caller makes: at least min(room, 64) bytes */
	uint32_t room = fz_bool(f) ? fz_u32(f) : fz_u16(f) % 600;
	uint32_t have = room < 64 ? room : 64 + fz_below(f, 600);
	if (have > room)
		have = room;
	uint8_t *m = copy(f, have);
	/* header fields the fuzzer may want to set coherently */
	if (have >= 8 && fz_bool(f)) {
		uint32_t v = fz_bool(f) ? have : fz_u16(f);
		memcpy(m + 4, &v, 4);
	}
	struct rndis_view v;
	int r = vmbus_rndis_parse(m, room, &v);
	if (r == 0) {
		FZ_ASSERT(v.len >= 8 && v.len <= room, "len %u, room %u", v.len,
			  room);
		if (v.data_len)
			FZ_ASSERT((uint64_t)v.data_off + v.data_len <= v.len &&
				  v.data_off >= 8, "data %u+%u in %u", v.data_off,
				  v.data_len, v.len);
		if (v.ppi_len)
			FZ_ASSERT((uint64_t)v.ppi_off + v.ppi_len <= v.len,
				  "ppi %u+%u in %u", v.ppi_off, v.ppi_len, v.len);
		if (v.info_len)
			FZ_ASSERT((uint64_t)v.info_off + v.info_len <= v.len,
				  "info %u+%u in %u", v.info_off, v.info_len,
				  v.len);
		/* what a caller does next: the PPIs, from its copy */
		if (v.ppi_len && (uint64_t)v.ppi_off + v.ppi_len <= have) {
			uint32_t val = 0;
			vmbus_rndis_ppi_find(m + v.ppi_off, v.ppi_len, fz_u8(f) % 10,
					     &val);
		}
	} else {
		FZ_ASSERT(r == -EINVAL, "rndis_parse returned %d", r);
	}
	free(m);
}

static void t_ppi(struct fz *f)
{
	uint32_t len = fz_below(f, 200);
	uint8_t *p = copy(f, len);
	uint32_t type = fz_u8(f) % 12, val = 0xdeadbeef;
	int r = vmbus_rndis_ppi_find(p, len, type, &val);
	FZ_ASSERT(r == 0 || r == 1 || r == -EINVAL, "ppi_find returned %d", r);
	if (r != 1)
		FZ_ASSERT(val == 0xdeadbeef, "ppi_find wrote a value it did not "
			  "find");
	free(p);
}

static void t_ndis(struct fz *f)
{
	uint32_t len = fz_below(f, 300);
	uint8_t *d = copy(f, len);
	if (len >= 4 && fz_bool(f)) {
		d[0] = fz_bool(f) ? NDIS_OBJ_OFFLOAD : NDIS_OBJ_RSS_CAPS;
		uint16_t size = (uint16_t)(fz_bool(f) ? len : fz_u16(f));
		memcpy(d + 2, &size, 2);
	}
	struct ndis_caps c;
	int r = vmbus_ndis_parse_caps(d, len, &c);
	FZ_ASSERT(r == 0 || r == -EINVAL, "parse_caps returned %d", r);
	r = vmbus_ndis_parse_rss_caps(d, len);
	FZ_ASSERT(r == -EINVAL || (r >= 1 && r <= 64), "rss caps %d", r);
	free(d);
}

static void t_scsi(struct fz *f)
{
	uint32_t len = fz_below(f, 300);
	uint8_t *d = copy(f, len);
	switch (fz_u8(f) % 7) {
	case 0: {
		struct scsi_sense s = { 0xee, 0xee, 0xee };
		int r = vmbus_scsi_sense_parse(d, len, &s);
		FZ_ASSERT(r == 0 || r == -EINVAL, "sense %d", r);
		if (r == 0)
			FZ_ASSERT(s.key <= 0xf, "sense key %u", s.key);
		(void)vmbus_scsi_sense_key_name(s.key);
		break;
	}
	case 1: {
		struct scsi_capacity c;
		int r = vmbus_scsi_parse_capacity16(d, len, &c);
		if (r == 0)
			FZ_ASSERT(c.blocks && c.block_len >= 512 &&
				  c.block_len <= 65536 &&
				  !(c.block_len & (c.block_len - 1)) &&
				  c.blocks <= UINT64_MAX / c.block_len &&
				  c.phys_exp <= 8,
				  "capacity %llu x %u exp %u",
				  (unsigned long long)c.blocks, c.block_len,
				  c.phys_exp);
		break;
	}
	case 2: {
		struct scsi_block_limits b;
		vmbus_scsi_parse_block_limits(d, len, &b);
		break;
	}
	case 3:
		FZ_ASSERT(vmbus_scsi_vpd_has_page(d, len, fz_u8(f)) >= 0, "vpd");
		FZ_ASSERT(vmbus_scsi_vpd_lbpu(d, len) >= 0, "lbpu");
		break;
	case 4: {
		/* every LUN until the end */
		for (unsigned i = 0; i < 64; i++) {
			uint16_t lun = 0xffff;
			int r = vmbus_scsi_report_luns_get(d, len, i, &lun);
			if (r < 0) {
				FZ_ASSERT(r == -ENOENT || r == -EINVAL, "luns %d",
					  r);
				break;
			}
			FZ_ASSERT(8 + 8ull * i + 8 <= len, "LUN %u outside %u "
				  "bytes", i, len);
		}
		break;
	}
	case 5: {
		int r = vmbus_scsi_mode_wp(d, len);
		FZ_ASSERT(r == 0 || r == 1 || r == -EINVAL, "mode_wp %d", r);
		break;
	}
	default:
		(void)vmbus_scsi_cdb_name(d);
		break;
	}
	free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	switch (fz_u8(&f) % 5) {
	case 0:
		t_rndis(&f);
		break;
	case 1:
		t_ppi(&f);
		break;
	case 2:
		t_ndis(&f);
		break;
	case 3:
		t_scsi(&f);
		break;
	default: {
		/* what the encoders produce must parse */
		uint8_t b[128 + 2048];
		uint32_t flen = fz_u16(&f) % 2048;
		uint32_t h = vmbus_rndis_pkt_hdr(b, flen, fz_u32(&f), fz_u32(&f));
		struct rndis_view v;
		FZ_ASSERT(h <= 128, "header %u", h);
		FZ_ASSERT(vmbus_rndis_parse(b, h + flen, &v) == 0 &&
			  v.data_off == h && v.data_len == flen,
			  "a PACKET pvio builds does not parse");
		break;
	}
	}
	return 0;
}

void fz_seeds(fz_emit_fn emit, void *arg)
{
	struct fzb b = { 0 };
	/* a PACKET with a checksum PPI */
	uint8_t pkt[80] = { 0 };
	uint32_t hdr = vmbus_rndis_pkt_hdr(pkt, 20, 0x8, 0);
	fzb_u8(&b, 0);
	fzb_u8(&b, 0);
	fzb_u16(&b, (uint16_t)(hdr + 20));
	fzb_put(&b, pkt, hdr + 20);
	fzb_u8(&b, 0);
	fzb_u8(&b, 0);
	fzb_emit(&b, emit, arg, "rndis-packet");
	/* QUERY_C with 6 bytes of info, INDICATE, INIT_C */
	static const uint32_t query_c[] = { 0x80000004, 30, 7, 0, 6, 16, 0x11223344, 0x5566 };
	fzb_u8(&b, 0);
	fzb_u8(&b, 0);
	fzb_u16(&b, sizeof(query_c));
	fzb_put(&b, query_c, sizeof(query_c));
	fzb_emit(&b, emit, arg, "rndis-query-c");
	static const uint32_t init_c[13] = { 0x80000002, 52, 1, 0, 1, 0, 0, 1, 0, 4096 };
	fzb_u8(&b, 0);
	fzb_u8(&b, 0);
	fzb_u16(&b, sizeof(init_c));
	fzb_put(&b, init_c, sizeof(init_c));
	fzb_emit(&b, emit, arg, "rndis-init-c");
	/* sense data, capacity, report luns */
	static const uint8_t sense[18] = { 0x70, 0, 6, 0, 0, 0, 0, 10, 0, 0, 0, 0,
					   0x29, 0 };
	fzb_u8(&b, 3);
	fzb_u8(&b, sizeof(sense));
	fzb_put(&b, sense, sizeof(sense));
	fzb_u8(&b, 0);
	fzb_emit(&b, emit, arg, "scsi-sense");
	static const uint8_t cap[32] = { 0, 0, 0, 0, 0, 0, 0x1f, 0xff, 0, 0, 2, 0,
					 0, 3, 0x80 };
	fzb_u8(&b, 3);
	fzb_u8(&b, sizeof(cap));
	fzb_put(&b, cap, sizeof(cap));
	fzb_u8(&b, 1);
	fzb_emit(&b, emit, arg, "scsi-capacity");
	static const uint8_t luns[24] = { 0, 0, 0, 16, 0, 0, 0, 0, 0, 1, 0, 0,
					  0, 0, 0, 0, 0x40, 2 };
	fzb_u8(&b, 3);
	fzb_u8(&b, sizeof(luns));
	fzb_put(&b, luns, sizeof(luns));
	fzb_u8(&b, 4);
	fzb_emit(&b, emit, arg, "scsi-luns");
	fzb_free(&b);
}
