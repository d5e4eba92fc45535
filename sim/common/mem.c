/* SPDX-License-Identifier: MIT */
/* sim/common/mem.c - the guest's memory as the simulated host sees it. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim.h"

#define PAGE 4096u

int sim_mem_add(struct sim_mem *m, uint64_t gpa, uint64_t size, int fd,
		uint64_t fd_offset)
{
	if (!size || (gpa | size | fd_offset) & (PAGE - 1) ||
	    gpa + size < gpa)
		return -EINVAL;
	if (m->n >= SIM_MEM_MAX_REGIONS)
		return -ENOSPC;
	for (unsigned i = 0; i < m->n; i++)
		if (gpa < m->r[i].gpa + m->r[i].size &&
		    m->r[i].gpa < gpa + size)
			return -EINVAL;
	/* Pages past the end of the file would SIGBUS the host when touched:
	 * refuse a range the file does not hold, and seal a memfd against
	 * shrinking when it allows (a guest that shrinks an unsealed file
	 * later can still crash the host). */
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISREG(st.st_mode) &&
	    (fd_offset + size < size ||
	     (uint64_t)st.st_size < fd_offset + size))
		return -EINVAL;
	(void)fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK);
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		       (off_t)fd_offset);
	if (p == MAP_FAILED)
		return -errno;
	m->r[m->n++] = (struct sim_mem_region){ gpa, size, p, size };
	return 0;
}

void sim_mem_clear(struct sim_mem *m)
{
	for (unsigned i = 0; i < m->n; i++)
		munmap(m->r[i].hva, m->r[i].map_len);
	memset(m, 0, sizeof(*m));
}

void *sim_mem_ptr(const struct sim_mem *m, uint64_t gpa, uint64_t len)
{
	if (gpa + len < gpa)
		return NULL;
	for (unsigned i = 0; i < m->n; i++) {
		const struct sim_mem_region *r = &m->r[i];
		if (gpa >= r->gpa && gpa - r->gpa <= r->size &&
		    len <= r->size - (gpa - r->gpa))
			return r->hva + (gpa - r->gpa);
	}
	return NULL;
}
