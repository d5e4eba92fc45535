/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the simulated virtio host's device-side rings
 * (sim/virtio/vq.c, mem.c) and completion path (dev.c), without sockets.
 *
 * The test plays the driver with the Linux uapi ring structures
 * (linux/virtio_ring.h), not the simulator's own, on a memfd mapped at a
 * guest-physical base different from its user address, so both
 * translations are exercised.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include "virtio/svirtio.h"

#define GPA_BASE 0x40000000ull
#define MEM_SIZE (1u << 20)
#define BUF_OFF (256u * 1024)   /* data buffers start here */

struct t {
	struct svirtio_host host;
	struct svirtio_dev *d;
	struct svirtio_vq *vq;
	uint8_t *mem;
	int memfd;
	/* split */
	struct vring vr;
	/* packed */
	struct vring_packed_desc *pd;
	struct vring_packed_desc_event *drv, *dev;
	uint16_t q;
};

static uint64_t gpa(struct t *t, const void *p)
{
	return GPA_BASE + (uint64_t)((const uint8_t *)p - t->mem);
}

static uint8_t *buf(struct t *t, unsigned i)
{
	return t->mem + BUF_OFF + i * 4096u;
}

/* where the device sees p (its own mapping of the same memfd) */
static const uint8_t *dev_ptr(struct t *t, const void *p)
{
	return svirtio_mem_gpa(&t->d->mem, gpa(t, p), 1);
}

static uint64_t calls(struct t *t)
{
	return sim_eventfd_drain(t->vq->call_fd);
}

static void setup(struct t *t, uint64_t acked, uint16_t q)
{
	char why[200];
	memset(t, 0, sizeof(*t));
	t->host.loop = sim_loop_new();
	ck_assert_ptr_nonnull(t->host.loop);
	t->d = calloc(1, sizeof(*t->d));
	ck_assert_ptr_nonnull(t->d);
	t->d->elem = malloc(sizeof(*t->d->elem));
	t->d->host = &t->host;
	t->d->kind = SVIRTIO_BLK;
	t->d->sock = -1;
	t->d->backend_fd = -1;
	t->d->o.batch = 32;
	t->d->nvqs = 1;
	t->d->acked = acked | 1ull << VIRTIO_F_VERSION_1;
	snprintf(t->d->name, sizeof(t->d->name), "test");
	t->vq = &t->d->vq[0];
	t->vq->dev = t->d;
	t->vq->kick_fd = t->vq->err_fd = -1;
	t->vq->call_fd = sim_eventfd();
	t->vq->err_fd = sim_eventfd();

	t->memfd = memfd_create("simvirtio-test", MFD_CLOEXEC);
	ck_assert_int_ge(t->memfd, 0);
	ck_assert_int_eq(ftruncate(t->memfd, MEM_SIZE), 0);
	t->mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		      t->memfd, 0);
	ck_assert_ptr_ne(t->mem, MAP_FAILED);
	struct svu_region r = { GPA_BASE, MEM_SIZE, (uint64_t)(uintptr_t)t->mem,
				0 };
	ck_assert_int_eq(svirtio_mem_add(&t->d->mem, &r, t->memfd, why,
					 sizeof(why)), 0);

	t->q = q;
	t->vq->num = q;
	t->vq->addr_set = true;
	if (acked & 1ull << VIRTIO_F_RING_PACKED) {
		t->pd = (void *)t->mem;
		t->drv = (void *)(t->mem + 16u * q);
		t->dev = (void *)(t->mem + 16u * q + 64);
		t->vq->desc_uva = (uint64_t)(uintptr_t)t->pd;
		t->vq->avail_uva = (uint64_t)(uintptr_t)t->drv;
		t->vq->used_uva = (uint64_t)(uintptr_t)t->dev;
	} else {
		vring_init(&t->vr, q, t->mem, 4096);
		t->vq->desc_uva = (uint64_t)(uintptr_t)t->vr.desc;
		t->vq->avail_uva = (uint64_t)(uintptr_t)t->vr.avail;
		t->vq->used_uva = (uint64_t)(uintptr_t)t->vr.used;
	}
}

static void start(struct t *t)
{
	char why[240];
	ck_assert_msg(svirtio_vq_start(t->vq, why, sizeof(why)) == 0, "%s", why);
}

static void teardown(struct t *t)
{
	svirtio_vq_stop(t->vq);
	svirtio_mem_clear(&t->d->mem);
	close(t->vq->call_fd);
	close(t->vq->err_fd);
	munmap(t->mem, MEM_SIZE);
	close(t->memfd);
	free(t->d->elem);
	free(t->d);
	sim_loop_free(t->host.loop);
}

/* split ring driver side */
static void sdesc(struct t *t, unsigned i, void *p, uint32_t len,
		  uint16_t flags, uint16_t next)
{
	t->vr.desc[i].addr = gpa(t, p);
	t->vr.desc[i].len = len;
	t->vr.desc[i].flags = flags;
	t->vr.desc[i].next = next;
}

static void sput(struct t *t, uint16_t head)
{
	t->vr.avail->ring[t->vr.avail->idx % t->q] = head;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	t->vr.avail->idx++;
}

static void expect_broken(struct t *t, const char *what)
{
	ck_assert_int_eq(svirtio_vq_pop(t->vq, t->d->elem), -1);
	ck_assert(t->vq->broken);
	ck_assert_msg(strstr(t->d->broken_reason, what), "reason '%s' lacks '%s'",
		      t->d->broken_reason, what);
	ck_assert_uint_eq(sim_eventfd_drain(t->vq->err_fd), 1);
	ck_assert_uint_eq(t->vr.used ? t->vr.used->idx : 0, 0);
	/* a broken queue stays broken */
	ck_assert_int_eq(svirtio_vq_pop(t->vq, t->d->elem), -1);
}

START_TEST(split_basic)
{
	struct t t;
	setup(&t, 0, 8);
	start(&t);
	struct svirtio_elem *e = t.d->elem;

	ck_assert_int_eq(svirtio_vq_pop(t.vq, e), 0);
	sdesc(&t, 0, buf(&t, 0), 16, VRING_DESC_F_NEXT, 1);
	sdesc(&t, 1, buf(&t, 1), 512, VRING_DESC_F_NEXT, 2);
	sdesc(&t, 2, buf(&t, 2), 1, VRING_DESC_F_WRITE, 0);
	sput(&t, 0);
	ck_assert_int_eq(svirtio_vq_pop(t.vq, e), 1);
	ck_assert_uint_eq(e->id, 0);
	ck_assert_uint_eq(e->out_len, 528);
	ck_assert_uint_eq(e->in_len, 1);
	ck_assert_uint_eq(e->nout, 2);
	ck_assert_uint_eq(e->nin, 1);
	ck_assert_uint_eq(e->ndescs, 3);
	ck_assert_ptr_eq(e->seg[0].p, dev_ptr(&t, buf(&t, 0)));
	ck_assert_ptr_eq(e->seg[1].p, dev_ptr(&t, buf(&t, 1)));
	ck_assert_ptr_eq(e->seg[2].p, dev_ptr(&t, buf(&t, 2)));
	ck_assert_int_eq(svirtio_vq_pop(t.vq, e), 0);

	svirtio_vq_push(t.vq, 0, 1, 1, true);
	ck_assert_uint_eq(t.vr.used->idx, 0);       /* not yet published */
	svirtio_vq_flush(t.vq);
	ck_assert_uint_eq(t.vr.used->idx, 1);
	ck_assert_uint_eq(t.vr.used->ring[0].id, 0);
	ck_assert_uint_eq(t.vr.used->ring[0].len, 1);
	ck_assert_uint_eq(calls(&t), 1);

	/* the driver asks for no interrupts: none is sent */
	t.vr.avail->flags = VRING_AVAIL_F_NO_INTERRUPT;
	sdesc(&t, 3, buf(&t, 3), 8, 0, 0);
	sput(&t, 3);
	ck_assert_int_eq(svirtio_vq_pop(t.vq, e), 1);
	svirtio_vq_push(t.vq, 3, 1, 0, false);
	svirtio_vq_flush(t.vq);
	ck_assert_uint_eq(t.vr.used->idx, 2);
	ck_assert_uint_eq(calls(&t), 0);
	ck_assert_uint_eq(t.vq->st.calls_suppressed, 1);

	/* kick suppression without EVENT_IDX: used->flags */
	svirtio_vq_kicks_off(t.vq);
	ck_assert_uint_eq(t.vr.used->flags, VRING_USED_F_NO_NOTIFY);
	ck_assert(!svirtio_vq_kicks_on(t.vq));
	ck_assert_uint_eq(t.vr.used->flags, 0);
	sput(&t, 3);
	svirtio_vq_kicks_off(t.vq);
	ck_assert(svirtio_vq_kicks_on(t.vq));   /* saw the new buffer */
	teardown(&t);
}
END_TEST

START_TEST(split_event_idx)
{
	struct t t;
	setup(&t, 1ull << VIRTIO_RING_F_EVENT_IDX, 8);
	start(&t);
	struct svirtio_elem *e = t.d->elem;

	for (unsigned i = 0; i < 4; i++) {
		sdesc(&t, i, buf(&t, i), 64, VRING_DESC_F_WRITE, 0);
		sput(&t, (uint16_t)i);
	}
	for (unsigned i = 0; i < 4; i++)
		ck_assert_int_eq(svirtio_vq_pop(t.vq, e), 1);
	vring_used_event(&t.vr) = 2;     /* interrupt when used idx passes 2 */
	uint64_t got[4];
	for (unsigned i = 0; i < 4; i++) {
		svirtio_vq_push(t.vq, (uint16_t)i, 1, 64, true);
		svirtio_vq_flush(t.vq);
		got[i] = calls(&t);
	}
	/* first signal always goes out; then only the crossing of 2 */
	ck_assert_uint_eq(got[0], 1);
	ck_assert_uint_eq(got[1], 0);
	ck_assert_uint_eq(got[2], 1);
	ck_assert_uint_eq(got[3], 0);
	/* kicks: avail_event follows what the device consumed */
	ck_assert(!svirtio_vq_kicks_on(t.vq));
	ck_assert_uint_eq(vring_avail_event(&t.vr), 4);
	ck_assert_uint_eq(t.vr.used->flags, 0);
	teardown(&t);
}
END_TEST

START_TEST(split_indirect)
{
	struct t t;
	setup(&t, 1ull << VIRTIO_RING_F_INDIRECT_DESC, 8);
	start(&t);
	struct svirtio_elem *e = t.d->elem;
	struct vring_desc *tab = (void *)buf(&t, 10);

	tab[0] = (struct vring_desc){ gpa(&t, buf(&t, 0)), 16, VRING_DESC_F_NEXT, 1 };
	tab[1] = (struct vring_desc){ gpa(&t, buf(&t, 1)), 4096,
				      VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 2 };
	tab[2] = (struct vring_desc){ gpa(&t, buf(&t, 2)), 1, VRING_DESC_F_WRITE, 0 };
	/* a normal descriptor, then the indirect one */
	sdesc(&t, 0, buf(&t, 3), 7, VRING_DESC_F_NEXT, 1);
	sdesc(&t, 1, tab, 3 * 16, VRING_DESC_F_INDIRECT, 0);
	sput(&t, 0);
	ck_assert_int_eq(svirtio_vq_pop(t.vq, e), 1);
	ck_assert_uint_eq(e->out_len, 7 + 16);
	ck_assert_uint_eq(e->in_len, 4097);
	ck_assert_uint_eq(e->ndescs, 4);
	ck_assert_ptr_eq(e->seg[2].p, dev_ptr(&t, buf(&t, 1)));

	/* nested indirect table */
	tab[1].flags = VRING_DESC_F_INDIRECT;
	sdesc(&t, 2, tab, 3 * 16, VRING_DESC_F_INDIRECT, 0);
	sput(&t, 2);
	expect_broken(&t, "nested indirect");
	teardown(&t);

	setup(&t, 1ull << VIRTIO_RING_F_INDIRECT_DESC, 8);
	start(&t);
	sdesc(&t, 0, buf(&t, 4), 32, VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 1);
	sput(&t, 0);
	expect_broken(&t, "both INDIRECT and NEXT");
	teardown(&t);

	setup(&t, 1ull << VIRTIO_RING_F_INDIRECT_DESC, 8);
	start(&t);
	sdesc(&t, 0, buf(&t, 4), 40, VRING_DESC_F_INDIRECT, 0);
	sput(&t, 0);
	expect_broken(&t, "not a non-zero multiple of 16");
	teardown(&t);

	setup(&t, 0, 8);   /* INDIRECT_DESC not negotiated */
	start(&t);
	sdesc(&t, 0, buf(&t, 4), 32, VRING_DESC_F_INDIRECT, 0);
	sput(&t, 0);
	expect_broken(&t, "RING_INDIRECT_DESC was not negotiated");
	teardown(&t);
}
END_TEST

START_TEST(split_strict)
{
	struct t t;

	setup(&t, 0, 8);            /* a loop */
	start(&t);
	sdesc(&t, 0, buf(&t, 0), 16, VRING_DESC_F_NEXT, 1);
	sdesc(&t, 1, buf(&t, 1), 16, VRING_DESC_F_NEXT, 0);
	sput(&t, 0);
	expect_broken(&t, "longer than the queue size");
	teardown(&t);

	setup(&t, 0, 8);            /* outside guest memory */
	start(&t);
	t.vr.desc[0] = (struct vring_desc){ GPA_BASE + MEM_SIZE - 8, 16, 0, 0 };
	sput(&t, 0);
	expect_broken(&t, "outside guest memory");
	teardown(&t);

	setup(&t, 0, 8);            /* user address is not guest-physical */
	start(&t);
	t.vr.desc[0] = (struct vring_desc){ (uint64_t)(uintptr_t)buf(&t, 0), 16,
					    0, 0 };
	sput(&t, 0);
	expect_broken(&t, "outside guest memory");
	teardown(&t);

	setup(&t, 0, 8);            /* readable after writable */
	start(&t);
	sdesc(&t, 0, buf(&t, 0), 16, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	sdesc(&t, 1, buf(&t, 1), 16, 0, 0);
	sput(&t, 0);
	expect_broken(&t, "device-readable descriptor follows");
	teardown(&t);

	setup(&t, 0, 8);            /* head out of range */
	start(&t);
	sput(&t, 9);
	expect_broken(&t, "names descriptor 9");
	teardown(&t);

	setup(&t, 0, 8);            /* next out of range */
	start(&t);
	sdesc(&t, 0, buf(&t, 0), 16, VRING_DESC_F_NEXT, 8);
	sput(&t, 0);
	expect_broken(&t, "next 8 is outside");
	teardown(&t);

	setup(&t, 0, 8);            /* avail idx jumps past the ring */
	start(&t);
	t.vr.avail->idx = 9;
	expect_broken(&t, "9 entries ahead");
	teardown(&t);

	setup(&t, 0, 8);            /* the same head twice while in flight */
	start(&t);
	sdesc(&t, 0, buf(&t, 0), 16, 0, 0);
	sput(&t, 0);
	sput(&t, 0);
	ck_assert_int_eq(svirtio_vq_pop(t.vq, t.d->elem), 1);
	expect_broken(&t, "made available again");
	teardown(&t);

	/* ring set-up the device refuses */
	char why[240];
	setup(&t, 0, 6);            /* split size not a power of two */
	ck_assert_int_lt(svirtio_vq_start(t.vq, why, sizeof(why)), 0);
	ck_assert_ptr_nonnull(strstr(why, "not a power of two"));
	teardown(&t);
	setup(&t, 0, 8);            /* ring outside the memory table */
	t.vq->used_uva = (uint64_t)(uintptr_t)t.mem + MEM_SIZE - 16;
	ck_assert_int_lt(svirtio_vq_start(t.vq, why, sizeof(why)), 0);
	ck_assert_ptr_nonnull(strstr(why, "outside the memory table"));
	teardown(&t);
	setup(&t, 0, 8);            /* misaligned descriptor table */
	t.vq->desc_uva += 8;
	ck_assert_int_lt(svirtio_vq_start(t.vq, why, sizeof(why)), 0);
	ck_assert_ptr_nonnull(strstr(why, "misaligned"));
	teardown(&t);
}
END_TEST

START_TEST(split_unpop)
{
	struct t t;
	setup(&t, 0, 8);
	start(&t);
	struct svirtio_elem *e = t.d->elem;
	sdesc(&t, 0, buf(&t, 0), 16, 0, 0);
	sdesc(&t, 1, buf(&t, 1), 16, 0, 0);
	sput(&t, 0);
	sput(&t, 1);
	ck_assert_int_eq(svirtio_vq_pop(t.vq, e), 1);
	ck_assert_int_eq(svirtio_vq_pop(t.vq, e), 1);
	ck_assert_uint_eq(e->id, 1);
	svirtio_vq_unpop(t.vq, e->id, e->ndesc);
	ck_assert(!svirtio_vq_inflight(t.vq, 1));
	ck_assert(svirtio_vq_inflight(t.vq, 0));
	ck_assert_int_eq(svirtio_vq_pop(t.vq, e), 1);
	ck_assert_uint_eq(e->id, 1);
	ck_assert_uint_eq(svirtio_vq_base(t.vq), 2);
	teardown(&t);
}
END_TEST

START_TEST(memory_table)
{
	char why[200];
	struct svirtio_mem m;
	memset(&m, 0, sizeof(m));
	int a = memfd_create("a", MFD_CLOEXEC), b = memfd_create("b", MFD_CLOEXEC);
	ck_assert_int_eq(ftruncate(a, 65536), 0);
	ck_assert_int_eq(ftruncate(b, 65536), 0);
	struct svu_region ra = { 0x100000, 65536, 0x7f0000000000ull, 0 };
	struct svu_region rb = { 0x110000, 65536, 0x7f1000000000ull, 0 };
	ck_assert_int_eq(svirtio_mem_add(&m, &ra, a, why, sizeof(why)), 0);
	ck_assert_int_eq(svirtio_mem_add(&m, &rb, b, why, sizeof(why)), 0);
	/* a range crossing two regions contiguous in guest-physical space */
	struct svirtio_seg seg[4];
	ck_assert_int_eq(svirtio_mem_map(&m, 0x10fff0, 32, seg, 4), 2);
	ck_assert_uint_eq(seg[0].len, 16);
	ck_assert_uint_eq(seg[1].len, 16);
	ck_assert_ptr_eq(seg[1].p, svirtio_mem_gpa(&m, 0x110000, 16));
	ck_assert_int_eq(svirtio_mem_map(&m, 0x10fff0, 32, seg, 1), -E2BIG);
	ck_assert_int_eq(svirtio_mem_map(&m, 0x11fff0, 32, seg, 4), -EFAULT);
	ck_assert_int_eq(svirtio_mem_map(&m, ~0ull - 4, 16, seg, 4), -EFAULT);
	ck_assert_ptr_null(svirtio_mem_gpa(&m, 0x10fff0, 32));  /* not one region */
	ck_assert_ptr_nonnull(svirtio_mem_uva(&m, 0x7f0000000000ull + 65520, 16));
	ck_assert_ptr_null(svirtio_mem_uva(&m, 0x7f0000000000ull + 65520, 17));
	ck_assert_ptr_null(svirtio_mem_uva(&m, 0x100000, 16));
	/* refused: overlap, longer than the file, not a file, empty, wrap */
	struct svu_region ov = { 0x118000, 4096, 0x7f2000000000ull, 0 };
	ck_assert_int_eq(svirtio_mem_add(&m, &ov, b, why, sizeof(why)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "overlaps"));
	struct svu_region big = { 0x200000, 131072, 0x7f3000000000ull, 0 };
	ck_assert_int_eq(svirtio_mem_add(&m, &big, a, why, sizeof(why)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "only 0x10000 bytes"));
	struct svu_region off = { 0x200000, 65536, 0x7f3000000000ull, 4096 };
	ck_assert_int_eq(svirtio_mem_add(&m, &off, a, why, sizeof(why)), -EINVAL);
	int p[2];
	ck_assert_int_eq(pipe(p), 0);
	struct svu_region pr = { 0x200000, 4096, 0x7f3000000000ull, 0 };
	ck_assert_int_eq(svirtio_mem_add(&m, &pr, p[0], why, sizeof(why)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "not a regular file"));
	struct svu_region wr = { ~0ull - 4095, 8192, 0x7f3000000000ull, 0 };
	ck_assert_int_eq(svirtio_mem_add(&m, &wr, a, why, sizeof(why)), -EINVAL);
	/* unaligned mmap_offset inside the file is fine */
	struct svu_region un = { 0x300000, 4096, 0x7f4000000000ull, 100 };
	ck_assert_int_eq(svirtio_mem_add(&m, &un, a, why, sizeof(why)), 0);
	uint8_t *base = svirtio_mem_gpa(&m, 0x100000, 1);
	base[100] = 0xab;
	ck_assert_uint_eq(*(uint8_t *)svirtio_mem_gpa(&m, 0x300000, 1), 0xab);
	ck_assert_int_eq(svirtio_mem_remove(&m, &ra), 0);
	ck_assert_ptr_null(svirtio_mem_gpa(&m, 0x100000, 1));
	ck_assert_int_eq(svirtio_mem_remove(&m, &ra), -ENOENT);
	svirtio_mem_clear(&m);
	close(a);
	close(b);
	close(p[0]);
	close(p[1]);
}
END_TEST

/* packed ring driver side: make buffer `id` of n descriptors available */
static uint16_t p_slot, p_wrap = 1;
static void ppub(struct t *t, uint16_t id, unsigned n, const uint32_t *len,
		 const uint16_t *flags)
{
	uint16_t head = p_slot, head_flags = 0;
	for (unsigned i = 0; i < n; i++) {
		uint16_t f = flags[i] | (i + 1 < n ? VRING_DESC_F_NEXT : 0);
		f |= p_wrap ? 1u << VRING_PACKED_DESC_F_AVAIL
			    : 1u << VRING_PACKED_DESC_F_USED;
		t->pd[p_slot].addr = gpa(t, buf(t, p_slot));
		t->pd[p_slot].len = len[i];
		t->pd[p_slot].id = id;
		if (i == 0)
			head_flags = f;
		else
			t->pd[p_slot].flags = f;
		if (++p_slot == t->q) {
			p_slot = 0;
			p_wrap ^= 1;
		}
	}
	__atomic_thread_fence(__ATOMIC_RELEASE);
	t->pd[head].flags = head_flags;   /* the head last */
}

static void preset(void)
{
	p_slot = 0;
	p_wrap = 1;
}

START_TEST(packed_basic)
{
	struct t t;
	const uint64_t pk = 1ull << VIRTIO_F_RING_PACKED;
	setup(&t, pk | 1ull << VIRTIO_RING_F_EVENT_IDX, 5);   /* not a power of 2 */
	preset();
	start(&t);
	struct svirtio_elem *e = t.d->elem;
	/* device area: notifications on at the next slot */
	ck_assert_uint_eq(t.dev->flags, VRING_PACKED_EVENT_FLAG_DESC);
	ck_assert_uint_eq(t.dev->off_wrap, 1u << 15);

	ck_assert_int_eq(svirtio_vq_pop(t.vq, e), 0);
	uint32_t len[2] = { 16, 513 };
	uint16_t fl[2] = { 0, VRING_DESC_F_WRITE };
	ppub(&t, 3, 2, len, fl);
	ck_assert_int_eq(svirtio_vq_pop(t.vq, e), 1);
	ck_assert_uint_eq(e->id, 3);
	ck_assert_uint_eq(e->ndesc, 2);
	ck_assert_uint_eq(e->out_len, 16);
	ck_assert_uint_eq(e->in_len, 513);
	svirtio_vq_push(t.vq, 3, 2, 513, true);
	svirtio_vq_flush(t.vq);
	ck_assert_uint_eq(t.pd[0].id, 3);
	ck_assert_uint_eq(t.pd[0].len, 513);
	ck_assert_uint_eq(t.pd[0].flags, (1u << VRING_PACKED_DESC_F_AVAIL) |
						 (1u << VRING_PACKED_DESC_F_USED) |
						 VRING_DESC_F_WRITE);
	ck_assert_uint_eq(calls(&t), 1);

	/* three laps of single-descriptor buffers, ids out of slot order */
	uint16_t used_wrap = 1, used = 2;
	for (unsigned i = 0; i < 15; i++) {
		uint16_t id = (uint16_t)(4 - i % 5);
		uint32_t l = 100 + i;
		uint16_t f = VRING_DESC_F_WRITE;
		ppub(&t, id, 1, &l, &f);
		ck_assert_int_eq(svirtio_vq_pop(t.vq, e), 1);
		ck_assert_uint_eq(e->id, id);
		svirtio_vq_push(t.vq, id, 1, l, true);
		svirtio_vq_flush(t.vq);
		uint16_t uf = t.pd[used].flags;
		ck_assert_uint_eq(!!(uf & (1u << VRING_PACKED_DESC_F_AVAIL)), used_wrap);
		ck_assert_uint_eq(!!(uf & (1u << VRING_PACKED_DESC_F_USED)), used_wrap);
		ck_assert_uint_eq(t.pd[used].id, id);
		if (++used == 5) {
			used = 0;
			used_wrap ^= 1;
		}
	}
	ck_assert(!svirtio_vq_kicks_on(t.vq));
	ck_assert_uint_eq(t.dev->flags, VRING_PACKED_EVENT_FLAG_DESC);
	ck_assert_uint_eq(t.dev->off_wrap, p_slot | (unsigned)p_wrap << 15);
	svirtio_vq_kicks_off(t.vq);
	ck_assert_uint_eq(t.dev->flags, VRING_PACKED_EVENT_FLAG_DISABLE);
	teardown(&t);
}
END_TEST

START_TEST(packed_driver_events)
{
	struct t t;
	const uint64_t pk = 1ull << VIRTIO_F_RING_PACKED;
	setup(&t, pk | 1ull << VIRTIO_RING_F_EVENT_IDX, 8);
	preset();
	start(&t);
	struct svirtio_elem *e = t.d->elem;
	uint32_t l = 8;
	uint16_t f = 0;
	for (unsigned i = 0; i < 6; i++)
		ppub(&t, (uint16_t)i, 1, &l, &f);
	for (unsigned i = 0; i < 6; i++)
		ck_assert_int_eq(svirtio_vq_pop(t.vq, e), 1);

	t.drv->flags = VRING_PACKED_EVENT_FLAG_DISABLE;
	svirtio_vq_push(t.vq, 0, 1, 0, false);
	svirtio_vq_flush(t.vq);
	ck_assert_uint_eq(calls(&t), 0);
	t.drv->flags = VRING_PACKED_EVENT_FLAG_ENABLE;
	svirtio_vq_push(t.vq, 1, 1, 0, false);
	svirtio_vq_flush(t.vq);
	ck_assert_uint_eq(calls(&t), 1);
	/* DESC: interrupt once the device has used slot 4 (wrap 1) */
	t.drv->off_wrap = 4 | 1u << 15;
	t.drv->flags = VRING_PACKED_EVENT_FLAG_DESC;
	uint64_t got[4];
	for (unsigned i = 2; i < 6; i++) {
		svirtio_vq_push(t.vq, (uint16_t)i, 1, 0, false);
		svirtio_vq_flush(t.vq);
		got[i - 2] = calls(&t);
	}
	ck_assert_uint_eq(got[0], 0);   /* used slot 2 */
	ck_assert_uint_eq(got[1], 0);   /* 3 */
	ck_assert_uint_eq(got[2], 1);   /* 4: the one asked for */
	ck_assert_uint_eq(got[3], 0);   /* 5 */
	teardown(&t);
}
END_TEST

START_TEST(packed_strict)
{
	struct t t;
	const uint64_t pk = 1ull << VIRTIO_F_RING_PACKED;
	uint32_t len[2] = { 16, 16 };
	uint16_t fl[2] = { 0, 0 };

	setup(&t, pk, 4);           /* chain into a descriptor not available */
	preset();
	start(&t);
	ppub(&t, 1, 2, len, fl);
	t.pd[1].flags ^= 1u << VRING_PACKED_DESC_F_AVAIL;
	ck_assert_int_eq(svirtio_vq_pop(t.vq, t.d->elem), -1);
	ck_assert_ptr_nonnull(strstr(t.d->broken_reason, "not available"));
	teardown(&t);

	setup(&t, pk, 4);           /* id out of range */
	preset();
	start(&t);
	ppub(&t, 4, 1, len, fl);
	ck_assert_int_eq(svirtio_vq_pop(t.vq, t.d->elem), -1);
	ck_assert_ptr_nonnull(strstr(t.d->broken_reason, "id 4 is out of range"));
	teardown(&t);

	setup(&t, pk, 4);           /* an id still in flight */
	preset();
	start(&t);
	ppub(&t, 2, 1, len, fl);
	ppub(&t, 2, 1, len, fl);
	ck_assert_int_eq(svirtio_vq_pop(t.vq, t.d->elem), 1);
	ck_assert_int_eq(svirtio_vq_pop(t.vq, t.d->elem), -1);
	ck_assert_ptr_nonnull(strstr(t.d->broken_reason, "made available again"));
	teardown(&t);

	setup(&t, pk | 1ull << VIRTIO_RING_F_INDIRECT_DESC, 4);  /* INDIRECT in chain */
	preset();
	start(&t);
	uint16_t fi[2] = { 0, VRING_DESC_F_INDIRECT };
	ppub(&t, 1, 2, len, fi);
	ck_assert_int_eq(svirtio_vq_pop(t.vq, t.d->elem), -1);
	ck_assert_ptr_nonnull(strstr(t.d->broken_reason, "INDIRECT inside a chain"));
	teardown(&t);

	setup(&t, pk, 4);           /* a chain longer than the ring */
	preset();
	start(&t);
	uint32_t l4[4] = { 1, 1, 1, 1 };
	uint16_t f4[4] = { 0, 0, 0, 0 };
	ppub(&t, 0, 4, l4, f4);
	t.pd[3].flags |= VRING_DESC_F_NEXT;
	ck_assert_int_eq(svirtio_vq_pop(t.vq, t.d->elem), -1);
	ck_assert_ptr_nonnull(strstr(t.d->broken_reason, "longer than the queue"));
	teardown(&t);
}
END_TEST

START_TEST(packed_indirect_and_unpop)
{
	struct t t;
	const uint64_t pk = 1ull << VIRTIO_F_RING_PACKED;
	setup(&t, pk | 1ull << VIRTIO_RING_F_INDIRECT_DESC, 3);
	preset();
	start(&t);
	struct svirtio_elem *e = t.d->elem;
	struct vring_packed_desc *tab = (void *)buf(&t, 20);
	tab[0] = (struct vring_packed_desc){ gpa(&t, buf(&t, 21)), 16, 0, 0 };
	tab[1] = (struct vring_packed_desc){ gpa(&t, buf(&t, 22)), 100, 0,
					     VRING_DESC_F_WRITE };
	uint32_t l = 32;
	uint16_t f = VRING_DESC_F_INDIRECT;
	ppub(&t, 2, 1, &l, &f);
	t.pd[0].addr = gpa(&t, tab);
	ck_assert_int_eq(svirtio_vq_pop(t.vq, e), 1);
	ck_assert_uint_eq(e->ndesc, 1);
	ck_assert_uint_eq(e->out_len, 16);
	ck_assert_uint_eq(e->in_len, 100);
	ck_assert_ptr_eq(e->seg[1].p, dev_ptr(&t, buf(&t, 22)));
	svirtio_vq_push(t.vq, 2, 1, 100, true);

	/* a two-descriptor chain across the wrap (slots 1, 2 then 0) */
	uint32_t ln[2] = { 8, 8 };
	uint16_t fl[2] = { 0, 0 };
	ppub(&t, 0, 1, ln, fl);           /* slot 1 */
	ck_assert_int_eq(svirtio_vq_pop(t.vq, e), 1);
	svirtio_vq_push(t.vq, 0, 1, 0, false);
	ppub(&t, 1, 2, ln, fl);           /* slots 2, 0 (wrapped) */
	uint32_t before = svirtio_vq_base(t.vq);
	ck_assert_int_eq(svirtio_vq_pop(t.vq, e), 1);
	ck_assert_uint_eq(e->ndesc, 2);
	ck_assert_uint_eq(svirtio_vq_base(t.vq), 1u | 0u << 15);
	svirtio_vq_unpop(t.vq, e->id, e->ndesc);
	ck_assert_uint_eq(svirtio_vq_base(t.vq), before);
	ck_assert_int_eq(svirtio_vq_pop(t.vq, e), 1);
	ck_assert_uint_eq(e->id, 1);
	teardown(&t);
}
END_TEST

/* ------------------------------------------------------ completion path */
static void pop_n(struct t *t, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		sdesc(t, i, buf(t, i), 64, VRING_DESC_F_WRITE, 0);
		sput(t, (uint16_t)i);
	}
	for (unsigned i = 0; i < n; i++)
		ck_assert_int_eq(svirtio_vq_pop(t->vq, t->d->elem), 1);
}

START_TEST(complete_reverse_and_groups)
{
	struct t t;
	setup(&t, 0, 8);
	start(&t);
	pop_n(&t, 5);
	t.d->f.ooo = true;
	svirtio_complete(t.vq, 0, 1, 10, true, 1);
	svirtio_complete(t.vq, 1, 1, 11, true, 1);
	svirtio_complete(t.vq, 2, 1, 12, true, 2);   /* 2 and 3 stay together */
	svirtio_complete(t.vq, 3, 1, 13, true, 0);
	svirtio_complete(t.vq, 4, 1, 14, true, 1);
	svirtio_complete_ready(t.vq);
	ck_assert_uint_eq(t.vr.used->idx, 5);
	const uint32_t expect[5] = { 4, 2, 3, 1, 0 };
	for (unsigned i = 0; i < 5; i++) {
		ck_assert_uint_eq(t.vr.used->ring[i].id, expect[i]);
		ck_assert_uint_eq(t.vr.used->ring[i].len, 10 + expect[i]);
	}
	ck_assert_uint_eq(t.vq->st.reordered, 1);
	ck_assert_uint_eq(calls(&t), 1);   /* one notification per batch */
	teardown(&t);

	setup(&t, 1ull << VIRTIO_F_IN_ORDER, 8);   /* IN_ORDER wins */
	start(&t);
	pop_n(&t, 3);
	t.d->f.ooo = true;
	for (unsigned i = 0; i < 3; i++)
		svirtio_complete(t.vq, (uint16_t)i, 1, 0, true, 1);
	svirtio_complete_ready(t.vq);
	for (unsigned i = 0; i < 3; i++)
		ck_assert_uint_eq(t.vr.used->ring[i].id, i);
	teardown(&t);
}
END_TEST

START_TEST(complete_corrupt)
{
	struct t t;
	setup(&t, 0, 8);
	start(&t);
	pop_n(&t, 4);
	t.d->f.corrupt = SVIRTIO_CORRUPT_ID;
	t.d->f.corrupt_count = 1;
	svirtio_complete(t.vq, 0, 1, 5, true, 1);
	svirtio_complete(t.vq, 1, 1, 5, true, 1);
	svirtio_complete_ready(t.vq);
	ck_assert_uint_eq(t.vr.used->ring[0].id, 8);   /* = queue size */
	ck_assert_uint_eq(t.vr.used->ring[1].id, 1);   /* only one */
	ck_assert_uint_eq(t.d->f.corrupt, SVIRTIO_CORRUPT_NONE);
	t.d->f.corrupt = SVIRTIO_CORRUPT_DUP;
	t.d->f.corrupt_count = 1;
	svirtio_complete(t.vq, 2, 1, 5, true, 1);
	svirtio_complete_ready(t.vq);
	ck_assert_uint_eq(t.vr.used->ring[2].id, 1);   /* the previous id */
	t.d->f.corrupt = SVIRTIO_CORRUPT_LEN;
	t.d->f.corrupt_count = 1;
	svirtio_complete(t.vq, 3, 1, 5, true, 1);
	svirtio_complete_ready(t.vq);
	ck_assert_uint_eq(t.vr.used->ring[3].len, 5 + 0x10000);
	ck_assert_uint_eq(t.vq->st.corrupted, 3);
	/* the device still considers every buffer completed */
	for (unsigned i = 0; i < 4; i++)
		ck_assert(!svirtio_vq_inflight(t.vq, i));
	teardown(&t);
}
END_TEST

START_TEST(complete_hang_and_delay)
{
	struct t t;
	setup(&t, 0, 8);
	start(&t);
	pop_n(&t, 3);
	t.d->f.hang = true;
	svirtio_complete(t.vq, 0, 1, 1, true, 1);
	svirtio_complete_ready(t.vq);
	ck_assert_uint_eq(t.vr.used->idx, 0);
	ck_assert_uint_eq(t.vq->pend_count, 1);
	t.d->f.hang = false;
	svirtio_complete_ready(t.vq);
	ck_assert_uint_eq(t.vr.used->idx, 1);

	/* a long delay holds the completion and arms a timer */
	t.d->f.delay_ms = 600000;
	svirtio_complete(t.vq, 1, 1, 1, true, 1);
	svirtio_complete_ready(t.vq);
	ck_assert_uint_eq(t.vr.used->idx, 1);
	ck_assert_uint_ne(t.vq->timer, 0);
	/* stopping the ring pushes what is pending (not hung) */
	svirtio_complete_all(t.vq, false);
	ck_assert_uint_eq(t.vr.used->idx, 2);
	ck_assert_uint_eq(t.vq->timer, 0);

	/* a short delay completes from the loop's timer */
	t.d->f.delay_ms = 1;
	svirtio_complete(t.vq, 2, 1, 1, true, 1);
	svirtio_complete_ready(t.vq);
	for (int i = 0; i < 200 && t.vr.used->idx != 3; i++)
		sim_loop_once(t.host.loop, 50);
	ck_assert_uint_eq(t.vr.used->idx, 3);
	ck_assert_uint_eq(t.vq->st.delayed, 2);
	teardown(&t);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("simvirtio_ring");
	TCase *tc = tcase_create("ring");
	tcase_add_test(tc, split_basic);
	tcase_add_test(tc, split_event_idx);
	tcase_add_test(tc, split_indirect);
	tcase_add_test(tc, split_strict);
	tcase_add_test(tc, split_unpop);
	tcase_add_test(tc, memory_table);
	tcase_add_test(tc, packed_basic);
	tcase_add_test(tc, packed_driver_events);
	tcase_add_test(tc, packed_strict);
	tcase_add_test(tc, packed_indirect_and_unpop);
	tcase_add_test(tc, complete_reverse_and_groups);
	tcase_add_test(tc, complete_corrupt);
	tcase_add_test(tc, complete_hang_and_delay);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
