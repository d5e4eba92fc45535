/* SPDX-License-Identifier: MIT */
/*
 * tests/lib/fakedev.h - an in-process fake back end for front-end tests.
 *
 * A pvio_dev built with pvio_dev_alloc() and its own ops, with limits the
 * test chooses (profiles shaped like virtio-blk, Xen blkif and StorVSC), a
 * RAM disk that several fake devices can share (so migration can be
 * checked end to end), completion policies, a small ring for -EAGAIN
 * backpressure, fault injection, and a loopback network device.
 *
 * The fake checks every request against the transport contract and counts
 * violations (with the first one's description), so a test can assert the
 * front end never built a request the device could not take.
 *
 * The struct fake outlives its pvio_dev: closing the device (which the
 * front end does) sets closed and dev = NULL; the test frees the fake.
 */
#ifndef PVIO_TEST_FAKEDEV_H
#define PVIO_TEST_FAKEDEV_H

#include <pvio/transport.h>

enum fake_policy {
	FAKE_IMMEDIATE, /* requests complete when kicked, in order */
	FAKE_DEFERRED,  /* they complete at the next reap */
	FAKE_REVERSED,  /* each kicked batch completes in reverse order */
	FAKE_HELD,      /* nothing completes until fake_release() */
};

struct fake_disk {
	uint8_t *data;
	uint64_t size;
};
struct fake_disk *fake_disk_new(uint64_t size);
void fake_disk_free(struct fake_disk *d);

enum fake_profile {
	FAKE_VIRTIO,  /* 512-byte blocks, big segments, no alignment rules */
	FAKE_XEN,     /* dma_align 512, 4 KiB segment boundary, 11 segments */
	FAKE_STORVSC, /* virt_boundary 4096: one page list per request */
};
/* Limits shaped like profile p for a disk of capacity bytes. */
struct pvio_blk_limits fake_blk_limits(enum fake_profile p, uint64_t capacity);

struct fake_q;

struct fake {
	pvio_dev *dev;           /* NULL once closed */
	pvio_ctx *ctx;
	enum pvio_class cls;
	enum fake_policy policy;
	unsigned ring;           /* requests per queue before -EAGAIN */
	struct fake_disk *disk;  /* blk: not owned */
	bool apply_on_hold;      /* HELD: writes reach the disk at once, the
				    completion waits */

	/* fault injection */
	int fail_status;         /* status for requests touching [lo, hi) */
	uint64_t fail_lo, fail_hi;
	unsigned break_after;    /* enqueue number that breaks the device */
	bool no_queue_fd;        /* queue_fd says -EOPNOTSUPP */
	int quiesce_ret;         /* what quiesce returns */
	bool bogus_comp;         /* next reap returns bogus_tag, not in flight */
	uint32_t bogus_tag;

	/* what happened */
	unsigned violations;
	char violation[256];
	uint64_t enqueued, completed, kicks, eagains, configures;
	uint64_t ops[5];
	uint64_t fua_writes;
	unsigned max_nseg;
	/* op and offset of the first requests enqueued, in order */
	uint8_t log_op[4096];
	uint64_t log_off[4096];
	unsigned nlog;
	bool closed, quiesced;
	uint32_t num_queues, max_tags;
	uint64_t want;

	/* network */
	bool can_set_mac;
	uint64_t offered;
	uint32_t rx_offset;      /* where frames start in RX buffers */
	bool hold_tx;            /* TX completions wait for fake_release */
	unsigned rx_errors_next; /* return this many RX buffers with -EPROTO */
	uint64_t tx_frames, rx_frames, rx_no_buffer;
	uint8_t last_tx[65536 + 256];
	uint32_t last_tx_len, last_tx_flags;

	struct fake_q *q;
	unsigned nq_alloc;
};

/* A block device on disk (shared, not owned) with limits lim. */
struct fake *fake_blk_new(pvio_ctx *ctx, const char *address,
			  const struct pvio_blk_limits *lim,
			  struct fake_disk *disk);
/* A loopback network device: what it transmits, it receives. */
struct fake *fake_net_new(pvio_ctx *ctx, const char *address,
			  const struct pvio_net_limits *lim, uint64_t offered);
struct pvio_net_limits fake_net_limits_virtio(void);
struct pvio_net_limits fake_net_limits_xen(void);
/* Free the fake (closing its device first if still open). */
void fake_free(struct fake *f);

/* Complete up to n held requests of queue q (oldest first, or newest
 * first with reverse); returns how many. */
unsigned fake_release(struct fake *f, unsigned q, unsigned n, bool reverse);
/* Requests of queue q the device holds (accepted, not completed). */
unsigned fake_pending(struct fake *f, unsigned q);
/* Mark the device broken, or removed. */
void fake_break(struct fake *f, bool removed);
/* Network: deliver a frame from "outside" into queue q. 0, or -ENOBUFS. */
int fake_net_inject(struct fake *f, unsigned q, const void *frame,
		    uint32_t len, uint32_t flags, uint16_t csum_start,
		    uint16_t csum_offset);
/* Network: RX buffers posted on queue q. */
unsigned fake_rx_posted(struct fake *f, unsigned q);

#endif /* PVIO_TEST_FAKEDEV_H */
