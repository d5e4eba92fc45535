/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the block front end when devices fail or change: broken
 * and removed devices with and without PVIO_BLK_KEEP_ON_FAILURE,
 * migration between fake devices with requests in flight (data checked on
 * the shared RAM disk), contract refusals, reconnect, counters across
 * devices.  Every request must complete exactly once.
 */
#include <poll.h>
#include <stdio.h>

#include "fe_util.h"

#define CAP (4u << 20)

struct env {
	pvio_ctx *ctx;
	struct fake_disk *disk;
	struct fake *f;     /* the device the front end started on */
	pvio_blk *blk;
	struct fe_track *t;
	uint8_t *buf;       /* 1 MiB of DMA memory */
};

static void env_up(struct env *e, enum fake_profile p, enum fake_policy pol,
		   uint32_t flags, uint32_t timeout_ms)
{
	memset(e, 0, sizeof(*e));
	e->ctx = fe_test_ctx(timeout_ms);
	e->disk = fake_disk_new(CAP);
	struct pvio_blk_limits l = fake_blk_limits(p, CAP);
	e->f = fake_blk_new(e->ctx, "fake:old", &l, e->disk);
	e->f->policy = pol;
	struct pvio_blk_opts o = { .struct_size = sizeof(o), .flags = flags };
	ck_assert_int_eq(pvio_blk_attach(e->f->dev, &o, &e->blk), 0);
	e->t = calloc(1, sizeof(*e->t));
	e->buf = pvio_dma_alloc(e->ctx, 1 << 20, 4096);
}

static void env_down(struct env *e)
{
	pvio_dma_free(e->ctx, e->buf);
	pvio_blk_close(e->blk);
	ck_assert_msg(e->f->violations == 0, "%s", e->f->violation);
	fake_free(e->f);
	fake_disk_free(e->disk);
	free(e->t);
	pvio_ctx_free(e->ctx);
}

static struct fake *new_dev(struct env *e, enum fake_profile p,
			    enum fake_policy pol, uint64_t cap)
{
	struct pvio_blk_limits l = fake_blk_limits(p, cap);
	struct fake *f = fake_blk_new(e->ctx, "fake:new", &l, e->disk);
	f->policy = pol;
	return f;
}

/* n writes of 64 KiB with distinct patterns at i * 64 KiB */
static void write_n(struct env *e, unsigned n, uint8_t salt)
{
	for (unsigned i = 0; i < n; i++) {
		memset(e->buf + (size_t)i * 65536, (int)(salt + i), 65536);
		ck_assert_int_eq(pvio_blk_write(e->blk, 0, (uint64_t)i * 65536,
						e->buf + (size_t)i * 65536, 65536,
						fe_cookie(i), 0), 0);
	}
	ck_assert_int_eq(pvio_blk_submit(e->blk, 0), 0);
}

static void check_disk(struct env *e, unsigned n, uint8_t salt)
{
	for (unsigned i = 0; i < n; i++)
		for (unsigned k = 0; k < 65536; k += 4096)
			ck_assert_uint_eq(e->disk->data[i * 65536 + k],
					  (uint8_t)(salt + i));
}

START_TEST(broken_fails_inflight)
{
	struct env e;
	bool removed = _i == 1;
	env_up(&e, FAKE_XEN, FAKE_HELD, 0, 0);
	write_n(&e, 8, 1);
	ck_assert_uint_eq(fake_pending(e.f, 0), 16);
	fake_release(e.f, 0, 2, false); /* the first request is done */
	fake_break(e.f, removed);
	int err = removed ? -ENODEV : -EIO;
	/* nothing hangs: everything completes, once, via poll */
	struct pvio_blk_completion c[16];
	int n = pvio_blk_poll(e.blk, 0, c, 8, 16, -1);
	ck_assert_int_eq(n, 8);
	fe_track_add(e.t, c, n);
	for (unsigned i = 0; i < 8; i++)
		ck_assert_int_eq(e.t->ret[i], err);
	ck_assert_uint_eq(pvio_blk_inflight(e.blk, 0), 0);
	/* afterwards: the error, no completions; new requests refused */
	ck_assert_int_eq(pvio_blk_poll(e.blk, 0, c, 1, 16, -1), err);
	ck_assert_int_eq(pvio_blk_write(e.blk, 0, 0, e.buf, 4096, NULL, 0), err);
	ck_assert_ptr_nonnull(strstr(pvio_errmsg(e.ctx), "injected"));
	ck_assert_int_eq(pvio_blk_submit(e.blk, 0), err);
	ck_assert_uint_eq(pvio_blk_inflight(e.blk, 0), 0);
	struct pvio_queue_stats st;
	pvio_blk_get_stats(e.blk, 0, &st);
	ck_assert_uint_eq(st.errors, 8);
	env_down(&e);
}
END_TEST

/* The device breaks while the front end enqueues. */
START_TEST(broken_during_enqueue)
{
	struct env e;
	env_up(&e, FAKE_XEN, FAKE_DEFERRED, 0, 0);
	e.f->break_after = 8; /* the second child of the fourth write */
	for (unsigned i = 0; i < 4; i++)
		ck_assert_int_eq(pvio_blk_write(e.blk, 0, (uint64_t)i * 65536,
						e.buf, 65536, fe_cookie(i), 0), 0);
	ck_assert_int_eq(pvio_blk_write(e.blk, 0, 0, e.buf, 4096, NULL, 0), -EIO);
	struct pvio_blk_completion c[8];
	int n = pvio_blk_poll(e.blk, 0, c, 4, 8, -1);
	ck_assert_int_eq(n, 4);
	fe_track_add(e.t, c, n);
	for (unsigned i = 0; i < 4; i++)
		ck_assert_int_eq(e.t->ret[i], -EIO);
	env_down(&e);
}
END_TEST

/* KEEP_ON_FAILURE holds the requests; migrating replays them. */
START_TEST(keep_then_migrate)
{
	struct env e;
	env_up(&e, FAKE_XEN, FAKE_HELD, PVIO_BLK_KEEP_ON_FAILURE, 0);
	write_n(&e, 6, 0x10);
	fake_break(e.f, true);
	struct pvio_blk_completion c[8];
	ck_assert_int_eq(pvio_blk_poll(e.blk, 0, c, 1, 8, -1), -ENODEV);
	ck_assert_int_eq(pvio_blk_poll(e.blk, 0, c, 0, 8, 0), -ENODEV);
	ck_assert_uint_eq(pvio_blk_inflight(e.blk, 0), 6);
	ck_assert_int_eq(pvio_blk_write(e.blk, 0, 0, e.buf, 4096, NULL, 0),
			 -ENODEV);
	/* reconnect cannot reopen a fake address: the requests stay held */
	ck_assert_int_lt(pvio_blk_reconnect(e.blk, NULL), 0);
	ck_assert_uint_eq(pvio_blk_inflight(e.blk, 0), 6);
	ck_assert_int_eq(pvio_blk_poll(e.blk, 0, c, 0, 8, 0), -ENODEV);

	struct fake *f2 = new_dev(&e, FAKE_VIRTIO, FAKE_DEFERRED, CAP);
	struct pvio_migrate_report rep = { .struct_size = sizeof(rep) };
	ck_assert_int_eq(pvio_blk_migrate(e.blk, f2->dev, 0, &rep), 0);
	ck_assert(e.f->closed);
	ck_assert_uint_eq(rep.replayed, 6);
	ck_assert_uint_eq(rep.failed, 0);
	ck_assert_uint_eq(rep.completed_during_quiesce, 0);
	fe_blk_collect(e.blk, 0, e.t, 6);
	for (unsigned i = 0; i < 6; i++)
		ck_assert_int_eq(e.t->ret[i], 0);
	check_disk(&e, 6, 0x10);
	struct pvio_queue_stats st;
	pvio_blk_get_stats(e.blk, 0, &st);
	ck_assert_uint_eq(st.replayed, 6);
	ck_assert_uint_eq(st.requests, 6);
	ck_assert_uint_eq(st.errors, 0);
	/* device requests: 12 on the old device, 6 on the new one */
	ck_assert_uint_eq(st.device_requests, 18);
	ck_assert_msg(f2->violations == 0, "%s", f2->violation);
	pvio_dma_free(e.ctx, e.buf);
	pvio_blk_close(e.blk);
	ck_assert(f2->closed);
	fake_free(f2);
	fake_free(e.f);
	fake_disk_free(e.disk);
	free(e.t);
	pvio_ctx_free(e.ctx);
}
END_TEST

/* Held requests are freed at close without completing (leaks show up
 * under the sanitizers); sync helpers never hold. */
START_TEST(keep_then_close)
{
	struct env e;
	env_up(&e, FAKE_VIRTIO, FAKE_HELD, PVIO_BLK_KEEP_ON_FAILURE, 100);
	write_n(&e, 4, 0x20);
	uint8_t b[512];
	/* the helper times out, breaks the device, and fails rather than
	 * being held */
	ck_assert_int_eq(pvio_blk_pread(e.blk, 0, b, sizeof(b)), -ETIMEDOUT);
	ck_assert_uint_eq(pvio_blk_inflight(e.blk, 0), 4);
	env_down(&e);
}
END_TEST

/*
 * Migration with requests in flight: the old device finished some (they
 * complete during the drain), holds the rest (abandoned at quiesce after
 * the bounded drain, resubmitted whole on the new device, re-split for
 * its limits).  apply_on_hold: the old device had already written some of
 * the data it never acknowledged; replaying is still correct.
 */
START_TEST(migrate_inflight)
{
	struct env e;
	env_up(&e, FAKE_VIRTIO, FAKE_HELD, 0, 150);
	e.f->apply_on_hold = _i == 1;
	/* 12 big writes (one child each on virtio, 2 each on Xen) */
	write_n(&e, 12, 0x40);
	uint8_t *rd = e.buf + (12 << 16);
	ck_assert_int_eq(pvio_blk_read(e.blk, 0, 0, rd, 65536, fe_cookie(12), 0),
			 0);
	ck_assert_int_eq(pvio_blk_discard(e.blk, 0, 2 << 20, 65536,
					  fe_cookie(13), 0), 0);
	ck_assert_int_eq(pvio_blk_submit(e.blk, 0), 0);
	fake_release(e.f, 0, 5, false); /* writes 0-4 finish on the old one */

	struct fake *f2 = new_dev(&e, FAKE_XEN, FAKE_DEFERRED, CAP);
	f2->dev->limits.blk.discard = false; /* it cannot discard */
	struct pvio_migrate_report rep = { .struct_size = sizeof(rep) };
	ck_assert_int_eq(pvio_blk_migrate(e.blk, f2->dev, 0, &rep), 0);
	ck_assert(e.f->closed && e.f->quiesced);
	ck_assert_uint_eq(rep.completed_during_quiesce, 5);
	ck_assert_uint_eq(rep.replayed, 8);
	ck_assert_uint_eq(rep.failed, 1);
	ck_assert_uint_gt(rep.quiesce_ns, 0);
	/* nothing completed on the new device yet */
	struct pvio_migrate_report r2 = { .struct_size = sizeof(r2) };
	ck_assert_int_eq(pvio_blk_migration_report(e.blk, &r2), 0);
	ck_assert_uint_eq(r2.downtime_ns, 0);
	fe_blk_collect(e.blk, 0, e.t, 14);
	for (unsigned i = 0; i < 13; i++)
		ck_assert_int_eq(e.t->ret[i], 0);
	ck_assert_int_eq(e.t->ret[13], -EOPNOTSUPP);
	check_disk(&e, 12, 0x40);
	ck_assert_uint_eq(rd[0], 0x40);
	ck_assert_int_eq(pvio_blk_migration_report(e.blk, &r2), 0);
	ck_assert_uint_gt(r2.downtime_ns, 0);
	ck_assert_uint_eq(r2.replayed, 8);
	/* re-split for Xen limits, checked by the fake */
	ck_assert_uint_eq(f2->violations, 0);
	ck_assert_uint_eq(f2->ops[PVIO_BLK_OP_WRITE], 14);
	struct pvio_blk_info in = { .struct_size = sizeof(in) };
	pvio_blk_get_info(e.blk, &in);
	ck_assert(!in.discard);
	ck_assert_uint_eq(in.max_segments, 11);
	ck_assert_int_eq(pvio_blk_discard(e.blk, 0, 0, 4096, NULL, 0),
			 -EOPNOTSUPP);
	/* I/O goes on, on the new device */
	uint8_t b[4096];
	ck_assert_int_eq(pvio_blk_pread(e.blk, 65536 * 3, b, sizeof(b)), 0);
	ck_assert_uint_eq(b[0], 0x43);
	pvio_dma_free(e.ctx, e.buf);
	pvio_blk_close(e.blk);
	fake_free(f2);
	fake_free(e.f);
	fake_disk_free(e.disk);
	free(e.t);
	pvio_ctx_free(e.ctx);
}
END_TEST

/* The new device must keep the contract; a refusal leaves the front end
 * working on the old device and closes the new one. */
START_TEST(migrate_refusals)
{
	struct env e;
	env_up(&e, FAKE_VIRTIO, FAKE_DEFERRED, 0, 0);
	write_n(&e, 2, 0x60);
	struct {
		uint64_t cap;
		uint32_t bs;
		bool ro;
		uint32_t queues;
		uint32_t flags;
		int err;
		const char *msg;
	} cases[] = {
		{ CAP / 2, 512, false, 4, 0, -EINVAL, "capacity" },
		{ CAP * 2, 512, false, 4, 0, -EINVAL, "ALLOW_GROW" },
		{ CAP, 4096, false, 4, 0, -EINVAL, "block size" },
		{ CAP, 512, true, 4, 0, -EROFS, "read-only" },
		{ CAP, 512, false, 4, 0x100, -EINVAL, "flags" },
	};
	for (unsigned k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct pvio_blk_limits l = fake_blk_limits(FAKE_XEN, cases[k].cap);
		l.block_size = cases[k].bs;
		l.read_only = cases[k].ro;
		l.max_queues = cases[k].queues;
		struct fake *f2 = fake_blk_new(e.ctx, "fake:new", &l, e.disk);
		ck_assert_int_eq(pvio_blk_migrate(e.blk, f2->dev, cases[k].flags,
						  NULL), cases[k].err);
		ck_assert_msg(strstr(pvio_errmsg(e.ctx), cases[k].msg),
			      "case %u: %s", k, pvio_errmsg(e.ctx));
		ck_assert(f2->closed);
		ck_assert(!e.f->closed && !e.f->quiesced);
		fake_free(f2);
	}
	struct pvio_net_limits nl = fake_net_limits_virtio();
	struct fake *fn = fake_net_new(e.ctx, "fake:net", &nl, 0);
	ck_assert_int_eq(pvio_blk_migrate(e.blk, fn->dev, 0, NULL), -EINVAL);
	ck_assert(fn->closed);
	fake_free(fn);
	ck_assert_int_eq(pvio_blk_migrate(e.blk, e.f->dev, 0, NULL), -EINVAL);
	struct pvio_migrate_report r = { .struct_size = sizeof(r) };
	ck_assert_int_eq(pvio_blk_migration_report(e.blk, &r), -ENOENT);
	/* still on the old device */
	fe_blk_collect(e.blk, 0, e.t, 2);
	check_disk(&e, 2, 0x60);

	/* a larger device is fine when allowed, and the capacity grows */
	struct fake *f3 = new_dev(&e, FAKE_STORVSC, FAKE_IMMEDIATE, CAP * 2);
	ck_assert_int_eq(pvio_blk_migrate(e.blk, f3->dev,
					  PVIO_MIGRATE_ALLOW_GROW, NULL), 0);
	struct pvio_blk_info in = { .struct_size = sizeof(in) };
	pvio_blk_get_info(e.blk, &in);
	ck_assert_uint_eq(in.capacity, CAP * 2);
	ck_assert_uint_eq(e.f->closed, true);
	pvio_dma_free(e.ctx, e.buf);
	pvio_blk_close(e.blk);
	fake_free(f3);
	fake_free(e.f);
	fake_disk_free(e.disk);
	free(e.t);
	pvio_ctx_free(e.ctx);
}
END_TEST

/* Migrating a healthy, idle front end several times: counters of every
 * device add up, writes are flushed before leaving a device. */
START_TEST(migrate_chain_stats)
{
	struct env e;
	env_up(&e, FAKE_VIRTIO, FAKE_IMMEDIATE, 0, 0);
	struct fake *devs[4] = { e.f };
	uint64_t total = 0;
	for (unsigned k = 1; k < 4; k++) {
		write_n(&e, 3, (uint8_t)(k * 16));
		memset(e.t, 0, sizeof(*e.t));
		fe_blk_collect(e.blk, 0, e.t, 3);
		total += 3;
		devs[k] = new_dev(&e, (enum fake_profile)(k % 3), FAKE_IMMEDIATE,
				  CAP);
		ck_assert_int_eq(pvio_blk_migrate(e.blk, devs[k]->dev, 0, NULL), 0);
		ck_assert_uint_eq(devs[k - 1]->ops[PVIO_BLK_OP_FLUSH], 1);
		struct pvio_queue_stats st;
		pvio_blk_get_stats(e.blk, 0, &st);
		ck_assert_uint_eq(st.requests, total);
		ck_assert_uint_eq(st.bytes, total * 65536);
	}
	check_disk(&e, 3, 48);
	pvio_dma_free(e.ctx, e.buf);
	pvio_blk_close(e.blk);
	for (unsigned k = 0; k < 4; k++) {
		ck_assert(devs[k]->closed);
		ck_assert_uint_eq(devs[k]->violations, 0);
		fake_free(devs[k]);
	}
	fake_disk_free(e.disk);
	free(e.t);
	pvio_ctx_free(e.ctx);
}
END_TEST

/* A quiesce that fails means the host may still write our bounce
 * buffers: the front end must not crash or complete twice. */
START_TEST(migrate_quiesce_fails)
{
	struct env e;
	env_up(&e, FAKE_XEN, FAKE_HELD, PVIO_BLK_ALWAYS_BOUNCE, 50);
	write_n(&e, 4, 0x70);
	e.f->quiesce_ret = -ETIMEDOUT;
	struct fake *f2 = new_dev(&e, FAKE_XEN, FAKE_IMMEDIATE, CAP);
	ck_assert_int_eq(pvio_blk_migrate(e.blk, f2->dev, 0, NULL), 0);
	fe_blk_collect(e.blk, 0, e.t, 4);
	check_disk(&e, 4, 0x70);
	pvio_dma_free(e.ctx, e.buf);
	pvio_blk_close(e.blk);
	fake_free(f2);
	fake_free(e.f);
	fake_disk_free(e.disk);
	free(e.t);
	pvio_ctx_free(e.ctx);
}
END_TEST


/*
 * Chaos: random requests on two queues, random completion orders and
 * releases, devices breaking or disappearing, migrations to devices of
 * other shapes.  Whatever happens, every accepted request completes
 * exactly once (the tracker asserts "never twice"; the end asserts "not
 * never"), and no device ever sees a request outside its limits.
 */
START_TEST(chaos_exactly_once)
{
	uint64_t seed = 0xc0ffee + (uint64_t)_i;
	bool keep = _i & 1;
	pvio_ctx *ctx = fe_test_ctx(30);
	struct fake_disk *disk = fake_disk_new(CAP);
	struct fake *devs[64];
	unsigned ndev = 0;
	struct pvio_blk_limits l = fake_blk_limits(FAKE_VIRTIO, CAP);
	devs[ndev] = fake_blk_new(ctx, "fake:c0", &l, disk);
	devs[ndev]->policy = FAKE_HELD;
	struct fake *cur = devs[ndev++];
	pvio_blk *blk;
	struct pvio_blk_opts o = {
		.struct_size = sizeof(o), .num_queues = 2, .queue_depth = 16,
		.flags = keep ? PVIO_BLK_KEEP_ON_FAILURE : 0 };
	ck_assert_int_eq(pvio_blk_attach(cur->dev, &o, &blk), 0);
	struct fe_track *t = calloc(1, sizeof(*t));
	uint8_t *buf = pvio_dma_alloc(ctx, 1 << 20, 4096);
	uint8_t *heap = malloc(1 << 20);
	unsigned accepted = 0, migrations = 0, breaks = 0;
	struct pvio_blk_completion c[32];

	for (int step = 0; step < 400 && accepted < 4000; step++) {
		unsigned q = (unsigned)(fe_rand(&seed) % 2);
		unsigned a = (unsigned)(fe_rand(&seed) % 100);
		if (a < 45) {
			uint64_t len = 512 * (1 + fe_rand(&seed) % 256);
			uint64_t off = 512 * (fe_rand(&seed) % ((CAP - len) / 512));
			uint8_t *b = (fe_rand(&seed) & 1 ? buf : heap) +
				     512 * (fe_rand(&seed) % 64);
			int r;
			switch (fe_rand(&seed) % 6) {
			case 0:
			case 1:
				r = pvio_blk_read(blk, q, off, b, len,
						  fe_cookie(accepted), 0);
				break;
			case 2:
				r = pvio_blk_write(blk, q, off, b, len,
						   fe_cookie(accepted),
						   fe_rand(&seed) & 1 ? PVIO_REQ_FUA
								      : 0);
				break;
			case 3:
				r = pvio_blk_flush(blk, q, fe_cookie(accepted), 0);
				break;
			case 4:
				r = pvio_blk_discard(blk, q, off, len,
						     fe_cookie(accepted), 0);
				break;
			default:
				r = pvio_blk_write_zeroes(blk, q, off, len,
							  fe_cookie(accepted), 0);
				break;
			}
			if (r == 0)
				accepted++;
			else
				ck_assert(r == -EAGAIN || r == -EIO ||
					  r == -ENODEV || r == -EOPNOTSUPP);
		} else if (a < 55) {
			pvio_blk_submit(blk, q);
		} else if (a < 75) {
			if (cur->dev)
				fake_release(cur, q,
					     (unsigned)(fe_rand(&seed) % 8),
					     fe_rand(&seed) & 1);
		} else if (a < 93) {
			int n = pvio_blk_poll(blk, q, c, 0, 32, 0);
			if (n > 0)
				fe_track_add(t, c, n);
			else if (n < 0)
				ck_assert(n == -EIO || n == -ENODEV);
		} else if (a < 96) {
			if (cur->dev && pvio_dev_usable(cur->dev)) {
				fake_break(cur, fe_rand(&seed) & 1);
				breaks++;
			}
		} else if (ndev < 64) {
			enum fake_profile p = (enum fake_profile)(fe_rand(&seed) % 3);
			struct pvio_blk_limits nl = fake_blk_limits(p, CAP);
			struct fake *nf = fake_blk_new(ctx, "fake:cn", &nl, disk);
			nf->policy = (enum fake_policy)(fe_rand(&seed) % 4);
			nf->ring = (unsigned)(fe_rand(&seed) % 2) * 4;
			devs[ndev++] = nf;
			if (pvio_blk_migrate(blk, nf->dev, 0, NULL) == 0) {
				cur = nf;
				migrations++;
			}
		}
	}
	/* the end: a device that completes everything */
	struct fake *last = fake_blk_new(ctx, "fake:end", &l, disk);
	last->policy = FAKE_IMMEDIATE;
	devs[ndev++] = last;
	ck_assert_int_eq(pvio_blk_migrate(blk, last->dev, 0, NULL), 0);
	for (unsigned q = 0; q < 2; q++) {
		for (int round = 0; round < 100 && pvio_blk_inflight(blk, q);
		     round++) {
			int n = pvio_blk_poll(blk, q, c, 1, 32, 100000000);
			ck_assert_int_ge(n, 0);
			fe_track_add(t, c, n);
		}
		ck_assert_uint_eq(pvio_blk_inflight(blk, q), 0);
	}
	ck_assert_uint_eq(t->n, accepted);
	for (unsigned i = 0; i < accepted; i++)
		ck_assert_uint_eq(t->count[i], 1);
	ck_assert_uint_gt(accepted, 50);
	pvio_dma_free(ctx, buf);
	pvio_blk_close(blk);
	for (unsigned i = 0; i < ndev; i++) {
		ck_assert_msg(devs[i]->violations == 0, "device %u: %s", i,
			      devs[i]->violation);
		ck_assert(devs[i]->closed);
		fake_free(devs[i]);
	}
	if (getenv("FE_CHAOS_VERBOSE"))
		fprintf(stderr, "chaos %d: %u requests, %u migrations, %u "
			"breaks, %u devices\n", _i, accepted, migrations,
			breaks, ndev);
	free(heap);
	free(t);
	fake_disk_free(disk);
	pvio_ctx_free(ctx);
}
END_TEST

/* A completion for a tag that is not in flight (twice the same, or one
 * never issued) marks the device broken and fails what was in flight,
 * rather than completing a request twice. */
START_TEST(bogus_completion)
{
	struct env e;
	env_up(&e, FAKE_VIRTIO, FAKE_HELD, 0, 0);
	write_n(&e, 3, 0x30);
	fake_release(e.f, 0, 1, false);
	e.f->bogus_comp = true;
	e.f->bogus_tag = _i ? 100000 : 0; /* out of range / already done */
	struct pvio_blk_completion c[8];
	int n = pvio_blk_poll(e.blk, 0, c, 3, 8, -1);
	if (_i) {
		ck_assert_int_eq(n, 3);
		fe_track_add(e.t, c, n);
		ck_assert_int_eq(e.t->ret[0] + e.t->ret[1] + e.t->ret[2], -2 * EIO);
	} else {
		/* the bogus report of tag 0 arrives first and completes it;
		 * the real one is then the second report: the bad one */
		ck_assert_int_eq(n, 3);
		fe_track_add(e.t, c, n);
		ck_assert_int_eq(e.t->ret[0], 0);
		ck_assert_int_eq(e.t->ret[1], -EIO);
		ck_assert_int_eq(e.t->ret[2], -EIO);
	}
	ck_assert_int_eq(pvio_dev_state(e.f->dev, NULL), PVIO_DEV_BROKEN);
	ck_assert_int_eq(pvio_blk_poll(e.blk, 0, c, 1, 8, -1), -EIO);
	env_down(&e);
}
END_TEST

/* The completion fd is the same descriptor before and after a migration,
 * and fires for completions on the new device. */
START_TEST(completion_fd_survives_migration)
{
	struct env e;
	env_up(&e, FAKE_VIRTIO, FAKE_HELD, 0, 0);
	int fd = pvio_blk_completion_fd(e.blk, 0);
	ck_assert_int_ge(fd, 0);
	struct fake *f2 = new_dev(&e, FAKE_XEN, FAKE_HELD, CAP);
	ck_assert_int_eq(pvio_blk_migrate(e.blk, f2->dev, 0, NULL), 0);
	ck_assert_int_eq(pvio_blk_completion_fd(e.blk, 0), fd);
	ck_assert_int_eq(pvio_blk_read(e.blk, 0, 0, e.buf, 4096, fe_cookie(0), 0),
			 0);
	struct pvio_blk_completion c[2];
	ck_assert_int_eq(pvio_blk_poll(e.blk, 0, c, 0, 2, 0), 0);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ck_assert_int_eq(poll(&p, 1, 0), 0);
	fake_release(f2, 0, 1, false);
	ck_assert_int_eq(poll(&p, 1, 2000), 1);
	ck_assert_int_eq(pvio_blk_poll(e.blk, 0, c, 0, 2, 0), 1);
	pvio_dma_free(e.ctx, e.buf);
	f2->policy = FAKE_IMMEDIATE;
	pvio_blk_close(e.blk);
	ck_assert_uint_eq(f2->violations, 0);
	fake_free(f2);
	fake_free(e.f);
	fake_disk_free(e.disk);
	free(e.t);
	pvio_ctx_free(e.ctx);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fe_blk_fail");
	TCase *tc = tcase_create("fail");
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, broken_fails_inflight, 0, 2);
	tcase_add_test(tc, broken_during_enqueue);
	tcase_add_test(tc, keep_then_migrate);
	tcase_add_test(tc, keep_then_close);
	tcase_add_loop_test(tc, migrate_inflight, 0, 2);
	tcase_add_test(tc, migrate_refusals);
	tcase_add_test(tc, migrate_chain_stats);
	tcase_add_test(tc, migrate_quiesce_fails);
	tcase_add_loop_test(tc, bogus_completion, 0, 2);
	tcase_add_test(tc, completion_fd_survives_migration);
	tcase_add_loop_test(tc, chaos_exactly_once, 0, 6);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
