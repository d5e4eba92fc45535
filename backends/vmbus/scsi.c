/* SPDX-License-Identifier: MIT */
/*
 * backends/vmbus/scsi.c - SCSI command blocks and response parsing for
 * StorVSC (T10 SBC-3 / SPC-4 layouts).  Pure functions: blk.c feeds them
 * private copies of what the host returned, and every length is checked
 * against the buffer before a byte is read.
 */
#include "storvsc.h"

static void be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void be32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (24 - 8 * i));
}

static void be64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get_be64(const uint8_t *p)
{
	return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

unsigned vmbus_scsi_cdb_tur(uint8_t *cdb)
{
	memset(cdb, 0, VSTOR_CDB_SIZE);
	cdb[0] = SCSI_TEST_UNIT_READY;
	return 6;
}

unsigned vmbus_scsi_cdb_inquiry(uint8_t *cdb, bool evpd, uint8_t page,
			  uint16_t alloc)
{
	memset(cdb, 0, VSTOR_CDB_SIZE);
	cdb[0] = SCSI_INQUIRY;
	cdb[1] = evpd ? 1 : 0;
	cdb[2] = evpd ? page : 0;
	be16(cdb + 3, alloc);
	return 6;
}

unsigned vmbus_scsi_cdb_read_capacity16(uint8_t *cdb, uint32_t alloc)
{
	memset(cdb, 0, VSTOR_CDB_SIZE);
	cdb[0] = SCSI_SERVICE_ACTION_IN_16;
	cdb[1] = SCSI_SAI_READ_CAPACITY_16;
	be32(cdb + 10, alloc);
	return 16;
}

unsigned vmbus_scsi_cdb_rw16(uint8_t *cdb, bool write, uint64_t lba,
		       uint32_t blocks, bool fua)
{
	memset(cdb, 0, VSTOR_CDB_SIZE);
	cdb[0] = write ? SCSI_WRITE_16 : SCSI_READ_16;
	cdb[1] = fua ? 0x08 : 0;
	be64(cdb + 2, lba);
	be32(cdb + 10, blocks);
	return 16;
}

unsigned vmbus_scsi_cdb_sync_cache10(uint8_t *cdb)
{
	memset(cdb, 0, VSTOR_CDB_SIZE);
	cdb[0] = SCSI_SYNCHRONIZE_CACHE_10;
	return 10; /* LBA 0, 0 blocks: the whole medium */
}

unsigned vmbus_scsi_cdb_unmap(uint8_t *cdb, uint16_t param_len)
{
	memset(cdb, 0, VSTOR_CDB_SIZE);
	cdb[0] = SCSI_UNMAP;
	be16(cdb + 7, param_len);
	return 10;
}

unsigned vmbus_scsi_cdb_report_luns(uint8_t *cdb, uint32_t alloc)
{
	memset(cdb, 0, VSTOR_CDB_SIZE);
	cdb[0] = SCSI_REPORT_LUNS;
	be32(cdb + 6, alloc);
	return 12;
}

unsigned vmbus_scsi_cdb_mode_sense6(uint8_t *cdb, uint8_t alloc)
{
	memset(cdb, 0, VSTOR_CDB_SIZE);
	cdb[0] = SCSI_MODE_SENSE_6;
	cdb[1] = 0x08; /* DBD */
	cdb[2] = 0x3F; /* all pages, current values */
	cdb[4] = alloc;
	return 6;
}

int vmbus_scsi_mode_wp(const uint8_t *d, uint32_t len)
{
	/* mode data length, medium type, device-specific (bit 7: WP) */
	if (len < 4 || (uint32_t)d[0] + 1 < 4)
		return -EINVAL;
	return (d[2] & 0x80) != 0;
}

void vmbus_scsi_unmap_param(uint8_t *p, uint64_t lba, uint32_t blocks)
{
	memset(p, 0, 24);
	be16(p, 22);     /* UNMAP data length: bytes after this field */
	be16(p + 2, 16); /* block descriptor data length */
	be64(p + 8, lba);
	be32(p + 16, blocks);
}

const char *vmbus_scsi_cdb_name(const uint8_t *cdb)
{
	switch (cdb[0]) {
	case SCSI_TEST_UNIT_READY:
		return "TEST UNIT READY";
	case SCSI_INQUIRY:
		return "INQUIRY";
	case SCSI_MODE_SENSE_6:
		return "MODE SENSE(6)";
	case SCSI_SYNCHRONIZE_CACHE_10:
		return "SYNCHRONIZE CACHE(10)";
	case SCSI_UNMAP:
		return "UNMAP";
	case SCSI_READ_16:
		return "READ(16)";
	case SCSI_WRITE_16:
		return "WRITE(16)";
	case SCSI_SERVICE_ACTION_IN_16:
		return "READ CAPACITY(16)";
	case SCSI_REPORT_LUNS:
		return "REPORT LUNS";
	default:
		return "SCSI command";
	}
}

const char *vmbus_scsi_sense_key_name(uint8_t key)
{
	static const char *const n[16] = {
		"NO SENSE", "RECOVERED ERROR", "NOT READY", "MEDIUM ERROR",
		"HARDWARE ERROR", "ILLEGAL REQUEST", "UNIT ATTENTION",
		"DATA PROTECT", "BLANK CHECK", "VENDOR SPECIFIC", "COPY ABORTED",
		"ABORTED COMMAND", "RESERVED", "VOLUME OVERFLOW", "MISCOMPARE",
		"COMPLETED",
	};
	return n[key & 0xf];
}

int vmbus_scsi_sense_parse(const uint8_t *s, uint32_t len, struct scsi_sense *out)
{
	if (len < 1)
		return -EINVAL;
	uint8_t code = s[0] & 0x7f;
	if (code == 0x70 || code == 0x71) {
		if (len < 3)
			return -EINVAL;
		out->key = s[2] & 0xf;
		/* ASC/ASCQ only if the additional length covers them */
		uint32_t add = len >= 8 ? 8u + s[7] : 0;
		out->asc = len >= 13 && add >= 13 ? s[12] : 0;
		out->ascq = len >= 14 && add >= 14 ? s[13] : 0;
		return 0;
	}
	if (code == 0x72 || code == 0x73) {
		if (len < 4)
			return -EINVAL;
		out->key = s[1] & 0xf;
		out->asc = s[2];
		out->ascq = s[3];
		return 0;
	}
	return -EINVAL;
}

int vmbus_scsi_parse_capacity16(const uint8_t *d, uint32_t len,
			  struct scsi_capacity *out)
{
	if (len < 32)
		return -EINVAL;
	uint64_t last = get_be64(d);
	uint32_t bl = get_be32(d + 8);
	if (bl < 512 || bl > 65536 || (bl & (bl - 1)))
		return -EINVAL;
	if (last == UINT64_MAX || last + 1 > UINT64_MAX / bl)
		return -EINVAL;
	out->blocks = last + 1;
	out->block_len = bl;
	out->phys_exp = d[13] & 0xf;
	if (out->phys_exp > 8)
		out->phys_exp = 0; /* nonsense: ignore the hint */
	out->lbpme = (d[14] & 0x80) != 0;
	return 0;
}

int vmbus_scsi_parse_block_limits(const uint8_t *d, uint32_t len,
			    struct scsi_block_limits *out)
{
	memset(out, 0, sizeof(*out));
	if (len < 4 || d[1] != 0xB0)
		return -EINVAL;
	uint32_t plen = 4u + ((uint32_t)d[2] << 8 | d[3]);
	if (plen > len)
		plen = len;
	if (plen >= 12)
		out->max_transfer_blocks = get_be32(d + 8);
	if (plen >= 32) {
		out->max_unmap_blocks = get_be32(d + 20);
		out->max_unmap_descs = get_be32(d + 24);
		out->unmap_granularity = get_be32(d + 28);
	}
	return 0;
}

int vmbus_scsi_vpd_has_page(const uint8_t *d, uint32_t len, uint8_t page)
{
	if (len < 4 || d[1] != 0x00)
		return 0;
	uint32_t n = (uint32_t)d[2] << 8 | d[3];
	for (uint32_t i = 0; i < n && 4 + i < len; i++)
		if (d[4 + i] == page)
			return 1;
	return 0;
}

int vmbus_scsi_vpd_lbpu(const uint8_t *d, uint32_t len)
{
	if (len < 6 || d[1] != 0xB2)
		return 0;
	return (d[5] & 0x80) != 0;
}

int vmbus_scsi_report_luns_get(const uint8_t *d, uint32_t len, unsigned i,
			 uint16_t *lun)
{
	if (len < 8)
		return -EINVAL;
	uint32_t list = get_be32(d);
	if (list % 8)
		return -EINVAL;
	uint64_t off = 8 + 8ull * i;
	if (8ull * i >= list || off + 8 > len)
		return -ENOENT;
	const uint8_t *l = d + off;
	switch (l[0] >> 6) {
	case 0: /* peripheral device addressing */
		*lun = l[1];
		return 0;
	case 1: /* flat space addressing */
		*lun = (uint16_t)((l[0] & 0x3f) << 8 | l[1]);
		return 0;
	default:
		return -EINVAL;
	}
}
