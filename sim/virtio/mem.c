/* SPDX-License-Identifier: MIT */
/*
 * sim/virtio/mem.c - the front end's memory table as the vhost-user back
 * end sees it.
 *
 * vhost-user names memory in two address spaces: ring addresses
 * (SET_VRING_ADDR) are front-end user addresses, descriptor addresses are
 * guest-physical.  Each region carries both bases, so this table is kept
 * here rather than in sim/common's sim_mem (which knows guest-physical
 * addresses only).  Every lookup is bounds-checked against one region; a
 * descriptor may span regions that are contiguous in guest-physical space.
 *
 * A region fd must be a regular file (memfd, hugetlbfs, shm) at least as
 * long as mmap_offset + size: mapping past its end would turn a front-end
 * mistake into SIGBUS here.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "virtio/svirtio.h"

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

int svirtio_mem_add(struct svirtio_mem *m, const struct svu_region *r, int fd,
		    char *why, size_t whylen)
{
	struct stat st;
	long pg = sysconf(_SC_PAGESIZE);
	uint64_t page = pg > 0 ? (uint64_t)pg : 4096;

	if (m->n >= SVIRTIO_MAX_MEM_SLOTS) {
		snprintf(why, whylen, "more than %u memory regions",
			 SVIRTIO_MAX_MEM_SLOTS);
		return -ENOSPC;
	}
	if (!r->size || r->gpa + r->size < r->gpa ||
	    r->uva + r->size < r->uva ||
	    r->mmap_offset + r->size < r->mmap_offset ||
	    r->size > (uint64_t)SIZE_MAX / 2) {
		snprintf(why, whylen,
			 "memory region gpa 0x%llx size 0x%llx uva 0x%llx "
			 "offset 0x%llx is empty or wraps around",
			 (unsigned long long)r->gpa, (unsigned long long)r->size,
			 (unsigned long long)r->uva,
			 (unsigned long long)r->mmap_offset);
		return -EINVAL;
	}
	for (unsigned i = 0; i < m->n; i++) {
		if (overlaps(r->gpa, r->size, m->r[i].gpa, m->r[i].size) ||
		    overlaps(r->uva, r->size, m->r[i].uva, m->r[i].size)) {
			snprintf(why, whylen,
				 "memory region gpa 0x%llx size 0x%llx "
				 "overlaps region %u",
				 (unsigned long long)r->gpa,
				 (unsigned long long)r->size, i);
			return -EINVAL;
		}
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(why, whylen,
			 "memory region fd is not a regular file (memfd, "
			 "hugetlbfs or shm)");
		return -EINVAL;
	}
	if ((uint64_t)st.st_size < r->mmap_offset + r->size) {
		snprintf(why, whylen,
			 "memory region needs 0x%llx bytes of its fd but the "
			 "file is only 0x%llx bytes long",
			 (unsigned long long)(r->mmap_offset + r->size),
			 (unsigned long long)st.st_size);
		return -EINVAL;
	}
	uint64_t off = r->mmap_offset & ~(page - 1);
	uint64_t lead = r->mmap_offset - off;
	size_t len = (size_t)(lead + r->size);
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		       (off_t)off);
	if (p == MAP_FAILED) {
		int e = errno;
		snprintf(why, whylen, "cannot map memory region (0x%llx bytes): %s",
			 (unsigned long long)r->size, strerror(e));
		return -e;
	}
	struct svirtio_region *n = &m->r[m->n++];
	n->gpa = r->gpa;
	n->size = r->size;
	n->uva = r->uva;
	n->map = p;
	n->map_len = len;
	n->hva = (uint8_t *)p + lead;
	return 0;
}

int svirtio_mem_remove(struct svirtio_mem *m, const struct svu_region *r)
{
	for (unsigned i = 0; i < m->n; i++) {
		if (m->r[i].gpa == r->gpa && m->r[i].uva == r->uva &&
		    m->r[i].size == r->size) {
			munmap(m->r[i].map, m->r[i].map_len);
			m->r[i] = m->r[m->n - 1];
			memset(&m->r[m->n - 1], 0, sizeof(m->r[0]));
			m->n--;
			return 0;
		}
	}
	return -ENOENT;
}

void svirtio_mem_clear(struct svirtio_mem *m)
{
	for (unsigned i = 0; i < m->n; i++)
		munmap(m->r[i].map, m->r[i].map_len);
	memset(m, 0, sizeof(*m));
}

static const struct svirtio_region *find(const struct svirtio_mem *m,
					 uint64_t a, bool user)
{
	for (unsigned i = 0; i < m->n; i++) {
		uint64_t base = user ? m->r[i].uva : m->r[i].gpa;
		if (a >= base && a - base < m->r[i].size)
			return &m->r[i];
	}
	return NULL;
}

void *svirtio_mem_uva(const struct svirtio_mem *m, uint64_t uva, uint64_t len)
{
	const struct svirtio_region *r = find(m, uva, true);
	if (!r || len > r->size - (uva - r->uva))
		return NULL;
	return r->hva + (uva - r->uva);
}

void *svirtio_mem_gpa(const struct svirtio_mem *m, uint64_t gpa, uint64_t len)
{
	const struct svirtio_region *r = find(m, gpa, false);
	if (!r || len > r->size - (gpa - r->gpa))
		return NULL;
	return r->hva + (gpa - r->gpa);
}

int svirtio_mem_map(const struct svirtio_mem *m, uint64_t gpa, uint64_t len,
		    struct svirtio_seg *seg, unsigned max)
{
	unsigned n = 0;
	if (gpa + len < gpa)
		return -EFAULT;
	while (len) {
		const struct svirtio_region *r = find(m, gpa, false);
		if (!r)
			return -EFAULT;
		uint64_t room = r->size - (gpa - r->gpa);
		uint64_t take = len < room ? len : room;
		if (n >= max)
			return -E2BIG;
		seg[n].p = r->hva + (gpa - r->gpa);
		seg[n].len = (uint32_t)take;   /* len fits u32: caller's */
		n++;
		gpa += take;
		len -= take;
	}
	return (int)n;
}
