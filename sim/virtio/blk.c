/* SPDX-License-Identifier: MIT */
/*
 * sim/virtio/blk.c - the virtio-blk device model, backed by an image file.
 *
 * Requests are carried out synchronously when they are popped (preadv /
 * pwritev straight between the image and guest memory, fdatasync for
 * FLUSH, fallocate for DISCARD and WRITE_ZEROES); only their completion
 * goes through the fault-injection FIFO.  Every request is checked as a
 * strict device would: header size, the status byte, readable/writable
 * data direction per type, 512-byte (and blk_size) granularity, range
 * against capacity, seg_max/size_max, the discard/write-zeroes limits,
 * writes to a read-only disk.  Malformed requests complete with IOERR,
 * unknown or unnegotiated types with UNSUPP; a chain without room for the
 * header or the status byte cannot be answered at all and stops the queue.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "virtio/svirtio.h"

int svirtio_blk_init(struct svirtio_dev *d, char *err, size_t errlen)
{
	struct svirtio_blk *b = &d->u.blk;
	struct stat st;
	uint64_t size = 0;

	b->fd = open(b->image, (b->ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (b->fd < 0) {
		snprintf(err, errlen, "cannot open disk image %s: %s%s", b->image,
			 strerror(errno),
			 errno == ENOENT ? "; create it first (e.g. truncate "
					   "-s 64M FILE) or pass size=SIZE"
					 : "");
		return -1;
	}
	if (fstat(b->fd, &st) < 0) {
		snprintf(err, errlen, "cannot stat %s: %s", b->image,
			 strerror(errno));
		return -1;
	}
	if (S_ISREG(st.st_mode)) {
		size = (uint64_t)st.st_size;
	} else if (S_ISBLK(st.st_mode)) {
		if (ioctl(b->fd, BLKGETSIZE64, &size) < 0) {
			snprintf(err, errlen, "cannot size block device %s: %s",
				 b->image, strerror(errno));
			return -1;
		}
	} else {
		snprintf(err, errlen, "%s is neither a file nor a block device",
			 b->image);
		return -1;
	}
	b->sectors = size / 512;
	if (b->sectors < b->blk_size / 512) {
		snprintf(err, errlen, "disk image %s is smaller than one block "
				      "(%u bytes); make it larger", b->image,
			 b->blk_size);
		return -1;
	}
	if (size % b->blk_size)
		sim_log(SIM_LOG_WARN, "%s: %s: ignoring the last %llu bytes (not "
				      "a whole %u-byte block)", d->name,
			b->image, (unsigned long long)(size % b->blk_size),
			b->blk_size);
	b->sectors -= b->sectors % (b->blk_size / 512);
	return 0;
}

void svirtio_blk_fini(struct svirtio_dev *d)
{
	if (d->u.blk.fd >= 0)
		close(d->u.blk.fd);
	d->u.blk.fd = -1;
}

size_t svirtio_blk_config(const struct svirtio_dev *d, uint8_t *buf)
{
	const struct svirtio_blk *b = &d->u.blk;
	struct svirtio_blk_config c;
	unsigned exp = 0;

	memset(&c, 0, sizeof(c));
	c.capacity = htole64(b->sectors);
	c.size_max = htole32(b->size_max);
	c.seg_max = htole32(b->seg_max);
	c.blk_size = htole32(b->blk_size);
	c.physical_block_exp = (uint8_t)exp;
	c.alignment_offset = 0;
	c.min_io_size = htole16(1);
	c.opt_io_size = htole32(0);
	c.num_queues = htole16((uint16_t)d->o.queues);
	if (svirtio_has(d->features, SVIRTIO_BLK_F_DISCARD)) {
		c.max_discard_sectors = htole32(b->max_discard_sectors);
		c.max_discard_seg = htole32(b->max_discard_seg);
		c.discard_sector_alignment = htole32(b->blk_size / 512);
	}
	if (svirtio_has(d->features, SVIRTIO_BLK_F_WRITE_ZEROES)) {
		c.max_write_zeroes_sectors = htole32(b->max_wz_sectors);
		c.max_write_zeroes_seg = htole32(b->max_wz_seg);
		c.write_zeroes_may_unmap = 1;
	}
	memcpy(buf, &c, sizeof(c));
	return sizeof(c);
}

/* Build an iovec for bytes [skip, skip+len) of the segments. */
static int build_iov(struct svirtio_blk *b, const struct svirtio_seg *seg,
		     unsigned nseg, size_t skip, size_t len)
{
	int n = 0;
	for (unsigned i = 0; i < nseg && len; i++) {
		if (skip >= seg[i].len) {
			skip -= seg[i].len;
			continue;
		}
		size_t take = seg[i].len - skip;
		if (take > len)
			take = len;
		b->iov[n].iov_base = seg[i].p + skip;
		b->iov[n].iov_len = take;
		n++;
		len -= take;
		skip = 0;
	}
	return n;
}

/* preadv/pwritev of all of iov[0..n) at off; 0 or -errno. */
static int rw_all(int fd, struct iovec *iov, int n, off_t off, bool write)
{
	while (n > 0) {
		ssize_t r = write ? pwritev(fd, iov, n, off) : preadv(fd, iov, n, off);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return -EIO;   /* the image shrank under us */
		off += r;
		while (n > 0 && (size_t)r >= iov->iov_len) {
			r -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + r;
			iov->iov_len -= (size_t)r;
		}
	}
	return 0;
}

struct req {
	struct svirtio_vq *vq;
	struct svirtio_elem *e;
	uint32_t type;
	uint64_t sector;
	uint32_t data_out, data_in;   /* data bytes each way */
	uint32_t written;             /* data bytes written to the driver */
};

__attribute__((format(printf, 3, 4))) static uint8_t bad(struct req *r,
							 uint8_t status,
							 const char *fmt, ...)
{
	struct svirtio_dev *d = r->vq->dev;
	char why[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	svirtio_complain_key(d, fmt, "%s: queue %u: request %u (type %u): "
					    "%s -> %s", d->name, r->vq->index,
			 r->e->id, r->type, why,
			 status == SVIRTIO_BLK_S_UNSUPP ? "UNSUPP" : "IOERR");
	return status;
}

/* Is [sector, sector + bytes/512) a valid, aligned range of the disk? */
static bool range_ok(struct req *r, uint64_t sector, uint64_t bytes,
		     uint8_t *st)
{
	const struct svirtio_blk *b = &r->vq->dev->u.blk;
	uint64_t per = b->blk_size / 512;
	if (bytes % b->blk_size || sector % per) {
		*st = bad(r, SVIRTIO_BLK_S_IOERR,
			  "%llu bytes at sector %llu are not aligned to the "
			  "%u-byte block size",
			  (unsigned long long)bytes, (unsigned long long)sector,
			  b->blk_size);
		return false;
	}
	if (sector > b->sectors || bytes / 512 > b->sectors - sector) {
		*st = bad(r, SVIRTIO_BLK_S_IOERR,
			  "%llu bytes at sector %llu go beyond the end of the "
			  "disk (%llu sectors)",
			  (unsigned long long)bytes, (unsigned long long)sector,
			  (unsigned long long)b->sectors);
		return false;
	}
	return true;
}

static uint8_t do_rw(struct req *r, bool write)
{
	struct svirtio_dev *d = r->vq->dev;
	struct svirtio_blk *b = &d->u.blk;
	struct svirtio_elem *e = r->e;
	uint8_t st;

	if (write && b->ro)
		return bad(r, SVIRTIO_BLK_S_IOERR, "write to a read-only disk");
	if (write ? r->data_in : r->data_out)
		return bad(r, SVIRTIO_BLK_S_IOERR,
			   "%s carries %u device-%s data bytes",
			   write ? "OUT" : "IN",
			   write ? r->data_in : r->data_out,
			   write ? "writable" : "readable");
	uint32_t len = write ? r->data_out : r->data_in;
	if (!range_ok(r, r->sector, len, &st))
		return st;
	int n = write ? build_iov(b, e->seg, e->nout, 16, len)
		      : build_iov(b, e->seg + e->nout, e->nin, 0, len);
	int rc = rw_all(b->fd, b->iov, n, (off_t)(r->sector * 512), write);
	if (rc < 0) {
		svirtio_complain(d, "%s: %s of %u bytes at sector "
						   "%llu in %s failed: %s",
				 d->name, write ? "write" : "read", len,
				 (unsigned long long)r->sector, b->image,
				 strerror(-rc));
		return SVIRTIO_BLK_S_IOERR;
	}
	if (!write)
		r->written = len;
	r->vq->st.bytes += len;
	return SVIRTIO_BLK_S_OK;
}

static int punch(int fd, int mode, uint64_t off, uint64_t len)
{
	if (fallocate(fd, mode | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) == 0)
		return 0;
	return -errno;
}

static int write_zeroes(struct svirtio_blk *b, uint64_t off, uint64_t len,
			bool unmap)
{
	int r = punch(b->fd, unmap ? FALLOC_FL_PUNCH_HOLE : FALLOC_FL_ZERO_RANGE,
		      off, len);
	if (r != -EOPNOTSUPP && r != -EINVAL)
		return r;
	if (unmap) {
		r = punch(b->fd, FALLOC_FL_ZERO_RANGE, off, len);
		if (r != -EOPNOTSUPP && r != -EINVAL)
			return r;
	}
	/* no fallocate support: write zeroes */
	static const uint8_t zero[65536];
	while (len) {
		size_t n = len < sizeof(zero) ? (size_t)len : sizeof(zero);
		ssize_t w = pwrite(b->fd, zero, n, (off_t)off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		off += (uint64_t)w;
		len -= (uint64_t)w;
	}
	return 0;
}

static uint8_t do_segments(struct req *r, bool wz)
{
	struct svirtio_dev *d = r->vq->dev;
	struct svirtio_blk *b = &d->u.blk;
	const char *what = wz ? "WRITE_ZEROES" : "DISCARD";
	uint32_t max_seg = wz ? b->max_wz_seg : b->max_discard_seg;
	uint32_t max_sec = wz ? b->max_wz_sectors : b->max_discard_sectors;
	struct svirtio_blk_seg segs[64];
	uint8_t st;

	if (!svirtio_has(d->acked, wz ? SVIRTIO_BLK_F_WRITE_ZEROES
				       : SVIRTIO_BLK_F_DISCARD))
		return bad(r, SVIRTIO_BLK_S_UNSUPP, "%s was not negotiated", what);
	if (b->ro)
		return bad(r, SVIRTIO_BLK_S_IOERR, "%s on a read-only disk", what);
	if (r->data_in)
		return bad(r, SVIRTIO_BLK_S_IOERR,
			   "%s carries %u device-writable data bytes", what,
			   r->data_in);
	if (!r->data_out || r->data_out % 16)
		return bad(r, SVIRTIO_BLK_S_IOERR,
			   "%s payload of %u bytes is not a non-zero multiple "
			   "of 16", what, r->data_out);
	uint32_t n = r->data_out / 16;
	if (n > max_seg || n > sizeof(segs) / sizeof(segs[0]))
		return bad(r, SVIRTIO_BLK_S_UNSUPP,
			   "%s with %u segments (at most %u)", what, n, max_seg);
	svirtio_iov_copy_from(r->e->seg, r->e->nout, 16, segs, n * 16u);
	for (uint32_t i = 0; i < n; i++) {     /* check all before acting */
		uint64_t sector = le64toh(segs[i].sector);
		uint32_t num = le32toh(segs[i].num_sectors);
		uint32_t flags = le32toh(segs[i].flags);
		segs[i].sector = sector;
		segs[i].num_sectors = num;
		segs[i].flags = flags;
		if (flags & ~SVIRTIO_BLK_WZ_F_UNMAP ||
		    (!wz && (flags & SVIRTIO_BLK_WZ_F_UNMAP)))
			return bad(r, SVIRTIO_BLK_S_UNSUPP,
				   "%s segment %u has flags 0x%x", what, i, flags);
		if (num > max_sec)
			return bad(r, SVIRTIO_BLK_S_IOERR,
				   "%s segment %u of %u sectors (at most %u)",
				   what, i, num, max_sec);
		if (!range_ok(r, sector, (uint64_t)num * 512, &st))
			return st;
	}
	for (uint32_t i = 0; i < n; i++) {
		uint64_t off = segs[i].sector * 512;
		uint64_t len = (uint64_t)segs[i].num_sectors * 512;
		int rc;
		if (!len)
			continue;
		if (wz) {
			rc = write_zeroes(b, off, len,
					  segs[i].flags & SVIRTIO_BLK_WZ_F_UNMAP);
		} else {
			rc = punch(b->fd, FALLOC_FL_PUNCH_HOLE, off, len);
			if (rc == -EOPNOTSUPP)
				rc = 0;   /* discard is only a hint */
		}
		if (rc < 0) {
			svirtio_complain(d, "%s: %s of %llu bytes at %llu in %s "
					 "failed: %s", d->name, what,
					 (unsigned long long)len,
					 (unsigned long long)off, b->image,
					 strerror(-rc));
			return SVIRTIO_BLK_S_IOERR;
		}
	}
	return SVIRTIO_BLK_S_OK;
}

static uint8_t execute(struct req *r)
{
	struct svirtio_dev *d = r->vq->dev;
	struct svirtio_blk *b = &d->u.blk;

	switch (r->type) {
	case SVIRTIO_BLK_T_IN:
		return do_rw(r, false);
	case SVIRTIO_BLK_T_OUT:
		return do_rw(r, true);
	case SVIRTIO_BLK_T_FLUSH:
		if (!svirtio_has(d->acked, SVIRTIO_BLK_F_FLUSH))
			return bad(r, SVIRTIO_BLK_S_UNSUPP,
				   "FLUSH was not negotiated");
		if (r->sector || r->data_in || r->data_out)
			return bad(r, SVIRTIO_BLK_S_IOERR,
				   "FLUSH with sector %llu and %u/%u data bytes",
				   (unsigned long long)r->sector, r->data_out,
				   r->data_in);
		if (fdatasync(b->fd) < 0) {
			svirtio_complain(d, "%s: fdatasync of %s "
							   "failed: %s",
					 d->name, b->image, strerror(errno));
			return SVIRTIO_BLK_S_IOERR;
		}
		return SVIRTIO_BLK_S_OK;
	case SVIRTIO_BLK_T_GET_ID: {
		if (r->data_out || !r->data_in)
			return bad(r, SVIRTIO_BLK_S_IOERR,
				   "GET_ID with %u readable and %u writable "
				   "data bytes", r->data_out, r->data_in);
		char id[SVIRTIO_BLK_ID_BYTES];
		memset(id, 0, sizeof(id));
		memcpy(id, b->serial, strnlen(b->serial, sizeof(id)));
		uint32_t n = r->data_in < sizeof(id) ? r->data_in : sizeof(id);
		svirtio_iov_copy_to(r->e->seg + r->e->nout, r->e->nin, 0, id, n);
		r->written = n;
		return SVIRTIO_BLK_S_OK;
	}
	case SVIRTIO_BLK_T_DISCARD:
		return do_segments(r, false);
	case SVIRTIO_BLK_T_WRITE_ZEROES:
		return do_segments(r, true);
	default:
		return bad(r, SVIRTIO_BLK_S_UNSUPP, "unsupported request type");
	}
}

unsigned svirtio_blk_handle(struct svirtio_vq *vq, unsigned budget)
{
	struct svirtio_dev *d = vq->dev;
	struct svirtio_blk *b = &d->u.blk;
	struct svirtio_elem *e = d->elem;
	unsigned n = 0;

	while (n < budget) {
		if (svirtio_vq_pop(vq, e) <= 0)
			break;
		n++;
		if (e->in_len < 1) {
			svirtio_vq_fail(vq, "request %u has no device-writable "
					    "status byte", e->id);
			break;
		}
		if (e->out_len < sizeof(struct svirtio_blk_outhdr)) {
			svirtio_vq_fail(vq, "request %u has a %u-byte header "
					    "(16 needed)", e->id, e->out_len);
			break;
		}
		struct svirtio_blk_outhdr h;
		svirtio_iov_copy_from(e->seg, e->nout, 0, &h, sizeof(h));
		struct req r = {
			.vq = vq,
			.e = e,
			.type = le32toh(h.type),
			.sector = le64toh(h.sector),
			.data_out = e->out_len - 16,
			.data_in = e->in_len - 1,
		};
		uint8_t st;
		if (d->f.ioerr) {
			if (d->f.ioerr != ~0u)
				d->f.ioerr--;
			st = SVIRTIO_BLK_S_IOERR;
			sim_log(SIM_LOG_INFO, "%s: queue %u: request %u failed "
					      "with IOERR (fault injection)",
				d->name, vq->index, e->id);
		} else if (e->ndescs > b->seg_max + 2) {
			st = bad(&r, SVIRTIO_BLK_S_IOERR,
				 "%u descriptors exceed seg_max %u (+2)",
				 e->ndescs, b->seg_max);
		} else if (e->max_desc_len > b->size_max) {
			st = bad(&r, SVIRTIO_BLK_S_IOERR,
				 "a %u-byte descriptor exceeds size_max %u",
				 e->max_desc_len, b->size_max);
		} else {
			st = execute(&r);
		}
		if (st != SVIRTIO_BLK_S_OK) {
			vq->st.errors++;
			r.written = 0;
		}
		svirtio_iov_copy_to(e->seg + e->nout, e->nin, e->in_len - 1, &st, 1);
		svirtio_complete(vq, e->id, e->ndesc, r.written + 1, true, 1);
	}
	return n;
}
