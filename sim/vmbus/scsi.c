/* SPDX-License-Identifier: MIT */
/*
 * sim/vmbus/scsi.c - a SCSI direct-access device (one LUN) backed by a
 * file, as the simulated StorVSP presents it.
 *
 * It answers the commands a disk driver uses (SPC-4/SBC-3 layouts): TEST
 * UNIT READY, REQUEST SENSE, INQUIRY with VPD pages 00/80/83/B0/B1/B2,
 * READ CAPACITY(10/16), READ/WRITE(6/10/12/16), VERIFY, SYNCHRONIZE
 * CACHE(10/16), UNMAP, MODE SENSE(6/10), REPORT LUNS, START STOP UNIT.
 * Errors are CHECK CONDITION with fixed-format sense: ILLEGAL REQUEST for
 * bad opcodes, fields and LBAs, DATA PROTECT for writes to a read-only
 * image, MEDIUM ERROR when the file fails, a UNIT ATTENTION once after a
 * reset or a capacity change, and injected errors for the next N commands.
 * Vendor and product are those Hyper-V's virtual disks report.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "vmbus/scsi.h"

#define MAX_UNMAP_DESC 256u
#define RESP_MAX 512u

static void set_sense(struct shv_scsi_cmd *c, uint8_t key, uint16_t asc)
{
	c->status = SHV_SAM_CHECK_CONDITION;
	memset(c->sense, 0, sizeof(c->sense));
	c->sense[0] = 0x70;          /* current error, fixed format */
	c->sense[2] = key & 0x0F;
	c->sense[7] = SHV_SENSE_FIXED_LEN - 8;
	c->sense[12] = (uint8_t)(asc >> 8);
	c->sense[13] = (uint8_t)asc;
	c->sense_len = SHV_SENSE_FIXED_LEN;
	c->transferred = 0;
}

static void bad_field(struct shv_scsi_cmd *c)
{
	set_sense(c, SHV_SK_ILLEGAL_REQUEST, SHV_ASC_INVALID_FIELD_IN_CDB);
}

/* Data-in from a response built here, cut to the allocation length. */
static void reply(struct shv_scsi_cmd *c, const uint8_t *buf, uint32_t len,
		  uint32_t alloc)
{
	uint32_t n = len < alloc ? len : alloc;
	if (n > c->data_len) {
		n = c->data_len;
		c->overrun = true;
	}
	if (n && c->data)
		shv_sg_write(c->data, 0, buf, n);
	c->transferred = n;
}

int shv_scsi_dir(const uint8_t *cdb, uint8_t cdb_len)
{
	if (!cdb_len)
		return SHV_DATA_NONE;
	switch (cdb[0]) {
	case SHV_SCSI_REQUEST_SENSE:
	case SHV_SCSI_INQUIRY:
	case SHV_SCSI_MODE_SENSE_6:
	case SHV_SCSI_MODE_SENSE_10:
	case SHV_SCSI_READ_CAPACITY_10:
	case SHV_SCSI_SERVICE_ACTION_IN_16:
	case SHV_SCSI_REPORT_LUNS:
	case SHV_SCSI_READ_6:
	case SHV_SCSI_READ_10:
	case SHV_SCSI_READ_12:
	case SHV_SCSI_READ_16:
		return SHV_DATA_IN;
	case SHV_SCSI_WRITE_6:
	case SHV_SCSI_WRITE_10:
	case SHV_SCSI_WRITE_12:
	case SHV_SCSI_WRITE_16:
	case SHV_SCSI_UNMAP:
	case SHV_SCSI_MODE_SELECT_6:
		return SHV_DATA_OUT;
	default:
		return SHV_DATA_NONE;
	}
}

static unsigned cdb_size(uint8_t op)
{
	switch (op >> 5) {
	case 0: return 6;
	case 1: case 2: return 10;
	case 4: return 16;
	case 5: return 12;
	default: return 0;
	}
}

int shv_disk_open(struct shv_disk *d)
{
	d->fd = open(d->path, (d->ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (d->fd < 0)
		return -errno;
	struct stat st;
	if (fstat(d->fd, &st) < 0) {
		int e = -errno;
		close(d->fd);
		d->fd = -1;
		return e;
	}
	d->blocks = (uint64_t)st.st_size / d->bs;
	return 0;
}

int shv_disk_resize(struct shv_disk *d, uint64_t bytes)
{
	if (d->ro)
		return -EROFS;
	if (ftruncate(d->fd, (off_t)bytes) < 0)
		return -errno;
	d->blocks = bytes / d->bs;
	d->ua = SHV_ASC_CAPACITY_CHANGED;
	return 0;
}

static bool lbp(const struct shv_disk *d)
{
	return !d->ro; /* UNMAP on writable images; reads zeros after */
}

/* A serial number that stays the same for the same image path. */
static uint32_t path_hash(const struct shv_disk *d)
{
	uint32_t h = 2166136261u;
	for (const char *s = d->path; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

static void inquiry(struct shv_disk *d, struct shv_scsi_cmd *c)
{
	uint8_t b[RESP_MAX];
	uint32_t alloc = shv_be16(c->cdb + 3), n = 0;
	uint32_t maxblk = d->max_transfer / d->bs;
	memset(b, 0, sizeof(b));
	if (!(c->cdb[1] & 1)) {
		if (c->cdb[2]) {
			bad_field(c);
			return;
		}
		b[0] = 0x00;              /* direct-access block device */
		b[2] = 0x06;              /* SPC-4 */
		b[3] = 0x02;              /* response data format 2 */
		b[4] = 36 - 5;
		b[7] = 0x02;              /* CMDQUE */
		memcpy(b + 8, "Msft    ", 8);
		memcpy(b + 16, "Virtual Disk    ", 16);
		memcpy(b + 32, "1.0 ", 4);
		reply(c, b, 36, alloc);
		return;
	}
	b[1] = c->cdb[2];
	switch (c->cdb[2]) {
	case 0x00: {
		static const uint8_t pages[] = { 0x00, 0x80, 0x83,
						 0xB0, 0xB1, 0xB2 };
		memcpy(b + 4, pages, sizeof(pages));
		n = sizeof(pages);
		break;
	}
	case 0x80: {
		char serial[16];
		snprintf(serial, sizeof(serial), "PVIO%08X", path_hash(d));
		n = (uint32_t)strlen(serial);
		memcpy(b + 4, serial, n);
		break;
	}
	case 0x83: {
		/* one T10 vendor id designator: "Msft    " + serial */
		char id[32];
		snprintf(id, sizeof(id), "Msft    PVIO%08X", path_hash(d));
		uint32_t idl = (uint32_t)strlen(id);
		b[4] = 0x02;      /* code set ASCII */
		b[5] = 0x01;      /* association LU, type T10 vendor id */
		b[7] = (uint8_t)idl;
		memcpy(b + 8, id, idl);
		n = 4 + idl;
		break;
	}
	case 0xB0:
		n = 0x3C;
		shv_pbe16(b + 6, (uint16_t)(SHV_PAGE / d->bs ? SHV_PAGE / d->bs
							      : 1));
		shv_pbe32(b + 8, maxblk);
		shv_pbe32(b + 12, maxblk);
		if (lbp(d)) {
			shv_pbe32(b + 20, 0xFFFFFFFFu);
			shv_pbe32(b + 24, MAX_UNMAP_DESC);
			shv_pbe32(b + 28, SHV_PAGE / d->bs ? SHV_PAGE / d->bs
							   : 1);
		}
		break;
	case 0xB1:
		n = 0x3C;
		shv_pbe16(b + 4, 1); /* non-rotating medium */
		break;
	case 0xB2:
		n = 4;
		if (lbp(d)) {
			b[5] = 0x80 | 0x04; /* LBPU, LBPRZ */
			b[6] = 0x02;        /* thin provisioned */
		}
		break;
	default:
		bad_field(c);
		return;
	}
	shv_pbe16(b + 2, (uint16_t)n);
	reply(c, b, 4 + n, alloc);
}

static void mode_sense(struct shv_disk *d, struct shv_scsi_cmd *c, bool ten)
{
	uint8_t b[RESP_MAX];
	bool dbd = c->cdb[1] & 0x08;
	uint8_t pc = c->cdb[2] >> 6, page = c->cdb[2] & 0x3F;
	uint32_t alloc = ten ? shv_be16(c->cdb + 7) : c->cdb[4];
	uint32_t hl = ten ? 8 : 4, n;
	memset(b, 0, sizeof(b));
	if (pc == 3) {
		set_sense(c, SHV_SK_ILLEGAL_REQUEST, 0x3900); /* no saving */
		return;
	}
	if (page != 0x08 && page != 0x0A && page != 0x3F) {
		bad_field(c);
		return;
	}
	n = hl;
	if (!dbd) {
		uint64_t nb = d->blocks > 0xFFFFFF ? 0xFFFFFF : d->blocks;
		b[n + 1] = (uint8_t)(nb >> 16);
		b[n + 2] = (uint8_t)(nb >> 8);
		b[n + 3] = (uint8_t)nb;
		b[n + 5] = (uint8_t)(d->bs >> 16);
		b[n + 6] = (uint8_t)(d->bs >> 8);
		b[n + 7] = (uint8_t)d->bs;
		n += 8;
	}
	if (page == 0x08 || page == 0x3F) {
		b[n] = 0x08;
		b[n + 1] = 0x12;
		if (pc != 1)
			b[n + 2] = 0x04; /* WCE: the host caches writes */
		n += 20;
	}
	if (page == 0x0A || page == 0x3F) {
		b[n] = 0x0A;
		b[n + 1] = 0x0A;
		n += 12;
	}
	uint8_t devspec = (uint8_t)((d->ro ? 0x80 : 0) | 0x10); /* WP, DPOFUA */
	if (ten) {
		shv_pbe16(b, (uint16_t)(n - 2));
		b[3] = devspec;
		b[7] = dbd ? 0 : 8;
	} else {
		b[0] = (uint8_t)(n - 1);
		b[2] = devspec;
		b[3] = dbd ? 0 : 8;
	}
	reply(c, b, n, alloc);
}

/* Build iovecs for [0, len) of the guest buffer. */
static int iov_of(const struct shv_sg *sg, uint32_t len, struct iovec *iov,
		  int max)
{
	int n = 0;
	for (unsigned i = 0; i < sg->n && len; i++) {
		if (n == max)
			return -1;
		uint32_t l = sg->v[i].len < len ? sg->v[i].len : len;
		iov[n].iov_base = sg->v[i].p;
		iov[n].iov_len = l;
		n++;
		len -= l;
	}
	return n;
}

static void rw(struct shv_disk *d, struct shv_scsi_cmd *c, bool write)
{
	const uint8_t *cdb = c->cdb;
	uint64_t lba;
	uint32_t nblk;
	bool fua = false;
	switch (cdb[0]) {
	case SHV_SCSI_READ_6:
	case SHV_SCSI_WRITE_6:
		lba = ((uint32_t)(cdb[1] & 0x1F) << 16) | shv_be16(cdb + 2);
		nblk = cdb[4] ? cdb[4] : 256;
		break;
	case SHV_SCSI_READ_10:
	case SHV_SCSI_WRITE_10:
		lba = shv_be32(cdb + 2);
		nblk = shv_be16(cdb + 7);
		fua = cdb[1] & 0x08;
		break;
	case SHV_SCSI_READ_12:
	case SHV_SCSI_WRITE_12:
		lba = shv_be32(cdb + 2);
		nblk = shv_be32(cdb + 6);
		fua = cdb[1] & 0x08;
		break;
	default:
		lba = shv_be64(cdb + 2);
		nblk = shv_be32(cdb + 10);
		fua = cdb[1] & 0x08;
		break;
	}
	if (lba > d->blocks || nblk > d->blocks - lba) {
		set_sense(c, SHV_SK_ILLEGAL_REQUEST, SHV_ASC_LBA_OUT_OF_RANGE);
		return;
	}
	if (write && d->ro) {
		set_sense(c, SHV_SK_DATA_PROTECT, SHV_ASC_WRITE_PROTECTED);
		return;
	}
	if (!nblk)
		return;
	uint64_t bytes = (uint64_t)nblk * d->bs;
	if (bytes > d->max_transfer) {
		bad_field(c);
		return;
	}
	if (bytes > c->data_len || !c->data) {
		c->overrun = true;
		return;
	}
	struct iovec iov[SHV_SG_MAX];
	int niov = iov_of(c->data, (uint32_t)bytes, iov, SHV_SG_MAX);
	off_t off = (off_t)(lba * d->bs);
	size_t done = 0;
	while (niov > 0 && done < bytes) {
		ssize_t r = write ? pwritev(d->fd, iov, niov, off + (off_t)done)
				  : preadv(d->fd, iov, niov, off + (off_t)done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 || (r == 0 && write)) {
			set_sense(c, SHV_SK_MEDIUM_ERROR,
				  write ? SHV_ASC_WRITE_ERROR
					: SHV_ASC_UNRECOVERED_READ_ERROR);
			return;
		}
		if (r == 0) { /* past the end of a file that shrank: zeros */
			for (int i = 0; i < niov; i++)
				memset(iov[i].iov_base, 0, iov[i].iov_len);
			break;
		}
		done += (size_t)r;
		/* advance the iovecs past what was moved */
		size_t skip = (size_t)r;
		int k = 0;
		while (k < niov && skip >= iov[k].iov_len)
			skip -= iov[k++].iov_len;
		memmove(iov, iov + k, sizeof(iov[0]) * (size_t)(niov - k));
		niov -= k;
		if (niov) {
			iov[0].iov_base = (uint8_t *)iov[0].iov_base + skip;
			iov[0].iov_len -= skip;
		}
	}
	if (write && fua && fdatasync(d->fd) < 0) {
		set_sense(c, SHV_SK_MEDIUM_ERROR, SHV_ASC_WRITE_ERROR);
		return;
	}
	c->transferred = (uint32_t)bytes;
}

static int zero_range(struct shv_disk *d, uint64_t off, uint64_t len)
{
	if (fallocate(d->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)off, (off_t)len) == 0)
		return 0;
	static const uint8_t zeros[SHV_PAGE];
	while (len) {
		size_t n = len < sizeof(zeros) ? (size_t)len : sizeof(zeros);
		ssize_t r = pwrite(d->fd, zeros, n, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		off += (uint64_t)r;
		len -= (uint64_t)r;
	}
	return 0;
}

static void unmap(struct shv_disk *d, struct shv_scsi_cmd *c)
{
	uint8_t b[8 + 16 * MAX_UNMAP_DESC];
	uint32_t plen = shv_be16(c->cdb + 7);
	if (!lbp(d)) {
		if (d->ro)
			set_sense(c, SHV_SK_DATA_PROTECT,
				  SHV_ASC_WRITE_PROTECTED);
		else
			set_sense(c, SHV_SK_ILLEGAL_REQUEST,
				  SHV_ASC_INVALID_OPCODE);
		return;
	}
	if (!plen)
		return;
	if (plen < 8) {
		set_sense(c, SHV_SK_ILLEGAL_REQUEST,
			  SHV_ASC_PARAM_LIST_LENGTH_ERROR);
		return;
	}
	if (plen > sizeof(b)) {
		set_sense(c, SHV_SK_ILLEGAL_REQUEST,
			  SHV_ASC_INVALID_FIELD_IN_PARAM);
		return;
	}
	if (plen > c->data_len || !c->data) {
		c->overrun = true;
		return;
	}
	shv_sg_read(c->data, 0, b, plen);
	uint32_t dl = shv_be16(b + 2);
	if (dl % 16 || 8 + dl > plen) {
		set_sense(c, SHV_SK_ILLEGAL_REQUEST,
			  SHV_ASC_PARAM_LIST_LENGTH_ERROR);
		return;
	}
	for (uint32_t o = 8; o < 8 + dl; o += 16) {
		uint64_t lba = shv_be64(b + o);
		uint32_t n = shv_be32(b + o + 8);
		if (lba > d->blocks || n > d->blocks - lba) {
			set_sense(c, SHV_SK_ILLEGAL_REQUEST,
				  SHV_ASC_LBA_OUT_OF_RANGE);
			return;
		}
	}
	for (uint32_t o = 8; o < 8 + dl; o += 16) {
		uint64_t lba = shv_be64(b + o);
		uint32_t n = shv_be32(b + o + 8);
		if (n && zero_range(d, lba * d->bs, (uint64_t)n * d->bs) < 0) {
			set_sense(c, SHV_SK_MEDIUM_ERROR, SHV_ASC_WRITE_ERROR);
			return;
		}
	}
	c->transferred = plen;
}

static bool range_ok(struct shv_disk *d, uint64_t lba, uint64_t n)
{
	return lba <= d->blocks && n <= d->blocks - lba;
}

void shv_scsi_exec(struct shv_disk *d, struct shv_scsi_cmd *c)
{
	uint8_t b[64];
	const uint8_t *cdb = c->cdb;
	c->status = SHV_SAM_GOOD;
	c->sense_len = 0;
	c->transferred = 0;
	c->overrun = false;
	if (!c->cdb_len) {
		bad_field(c);
		return;
	}
	uint8_t op = cdb[0];
	unsigned need = cdb_size(op);
	if (!need || c->cdb_len < need) {
		set_sense(c, SHV_SK_ILLEGAL_REQUEST, SHV_ASC_INVALID_OPCODE);
		return;
	}
	bool ua_exempt = op == SHV_SCSI_INQUIRY || op == SHV_SCSI_REPORT_LUNS ||
			 op == SHV_SCSI_REQUEST_SENSE;
	if (d->ua && !ua_exempt) {
		set_sense(c, SHV_SK_UNIT_ATTENTION, d->ua);
		d->ua = 0;
		return;
	}
	if (d->sense_left && !ua_exempt) {
		d->sense_left--;
		set_sense(c, d->sense_key, d->sense_asc);
		return;
	}
	switch (op) {
	case SHV_SCSI_TEST_UNIT_READY:
	case SHV_SCSI_START_STOP:
	case SHV_SCSI_ALLOW_MEDIUM_REMOVAL:
		return;
	case SHV_SCSI_REQUEST_SENSE:
		memset(b, 0, SHV_SENSE_FIXED_LEN);
		b[0] = 0x70;
		b[7] = SHV_SENSE_FIXED_LEN - 8;
		if (d->ua) {
			b[2] = SHV_SK_UNIT_ATTENTION;
			b[12] = (uint8_t)(d->ua >> 8);
			b[13] = (uint8_t)d->ua;
			d->ua = 0;
		}
		reply(c, b, SHV_SENSE_FIXED_LEN, cdb[4]);
		return;
	case SHV_SCSI_INQUIRY:
		inquiry(d, c);
		return;
	case SHV_SCSI_MODE_SENSE_6:
		mode_sense(d, c, false);
		return;
	case SHV_SCSI_MODE_SENSE_10:
		mode_sense(d, c, true);
		return;
	case SHV_SCSI_READ_CAPACITY_10: {
		uint64_t last = d->blocks ? d->blocks - 1 : 0;
		shv_pbe32(b, last > 0xFFFFFFFFull ? 0xFFFFFFFFu
						  : (uint32_t)last);
		shv_pbe32(b + 4, d->bs);
		reply(c, b, 8, 8);
		return;
	}
	case SHV_SCSI_SERVICE_ACTION_IN_16:
		if ((cdb[1] & 0x1F) != SHV_SCSI_SAI_READ_CAPACITY_16) {
			bad_field(c);
			return;
		}
		memset(b, 0, 32);
		shv_pbe64(b, d->blocks ? d->blocks - 1 : 0);
		shv_pbe32(b + 8, d->bs);
		if (lbp(d))
			b[14] = 0x80 | 0x40; /* LBPME, LBPRZ */
		reply(c, b, 32, shv_be32(cdb + 10));
		return;
	case SHV_SCSI_REPORT_LUNS: {
		uint32_t alloc = shv_be32(cdb + 6);
		if (alloc < 16 || cdb[2] > 2) {
			bad_field(c);
			return;
		}
		memset(b, 0, 16);
		shv_pbe32(b, 8); /* one LUN: 0 */
		reply(c, b, 16, alloc);
		return;
	}
	case SHV_SCSI_READ_6: case SHV_SCSI_READ_10:
	case SHV_SCSI_READ_12: case SHV_SCSI_READ_16:
		rw(d, c, false);
		return;
	case SHV_SCSI_WRITE_6: case SHV_SCSI_WRITE_10:
	case SHV_SCSI_WRITE_12: case SHV_SCSI_WRITE_16:
		rw(d, c, true);
		return;
	case SHV_SCSI_VERIFY_10:
	case SHV_SCSI_VERIFY_16: {
		bool ten = op == SHV_SCSI_VERIFY_10;
		uint64_t lba = ten ? shv_be32(cdb + 2) : shv_be64(cdb + 2);
		uint64_t n = ten ? shv_be16(cdb + 7) : shv_be32(cdb + 10);
		if (cdb[1] & 0x06) { /* BYTCHK: compare data, not supported */
			bad_field(c);
			return;
		}
		if (!range_ok(d, lba, n))
			set_sense(c, SHV_SK_ILLEGAL_REQUEST,
				  SHV_ASC_LBA_OUT_OF_RANGE);
		return;
	}
	case SHV_SCSI_SYNCHRONIZE_CACHE_10:
	case SHV_SCSI_SYNCHRONIZE_CACHE_16: {
		bool ten = op == SHV_SCSI_SYNCHRONIZE_CACHE_10;
		uint64_t lba = ten ? shv_be32(cdb + 2) : shv_be64(cdb + 2);
		uint64_t n = ten ? shv_be16(cdb + 7) : shv_be32(cdb + 10);
		if (!range_ok(d, lba, n)) {
			set_sense(c, SHV_SK_ILLEGAL_REQUEST,
				  SHV_ASC_LBA_OUT_OF_RANGE);
			return;
		}
		if (!d->ro && fdatasync(d->fd) < 0)
			set_sense(c, SHV_SK_MEDIUM_ERROR, SHV_ASC_WRITE_ERROR);
		return;
	}
	case SHV_SCSI_UNMAP:
		unmap(d, c);
		return;
	default:
		set_sense(c, SHV_SK_ILLEGAL_REQUEST, SHV_ASC_INVALID_OPCODE);
		return;
	}
}
