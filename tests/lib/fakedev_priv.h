/* SPDX-License-Identifier: MIT */
/* tests/lib/fakedev_priv.h - what the fake back end's files share. */
#ifndef PVIO_TEST_FAKEDEV_PRIV_H
#define PVIO_TEST_FAKEDEV_PRIV_H

#include "fakedev.h"

enum { FR_FREE = 0, FR_STAGED, FR_VISIBLE, FR_DONE };

/* A block request or a transmitted frame the fake holds. */
struct fake_req {
	int state;
	uint64_t seq;
	uint32_t tag;
	uint8_t op, fua;
	uint16_t nseg;
	uint64_t off, len;
	struct pvio_dseg *seg;
	bool applied;
	int status;
	/* network TX */
	uint32_t flags;
	uint16_t csum_start, csum_offset;
};

struct fake_q {
	struct fake_req *req;
	struct pvio_dseg *segmem;
	unsigned cap, nseg_max;
	uint64_t seq;
	unsigned *comp;          /* completed request slots, FIFO */
	unsigned ch, ct;
	uint8_t *tag_busy;
	/* network RX */
	struct pvio_net_rxb *rx; /* posted buffers, FIFO */
	unsigned rh, rt;
	struct pvio_net_rxc *rxc;
	unsigned rch, rct;
	uint8_t *rx_busy;
	int efd;
	bool armed;
};

/* fakedev.c */
int fake_state_err(struct fake *f);
void fake_notify(struct fake *f, unsigned q);
void fake_violation(struct fake *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
struct fake *fake_new(pvio_ctx *ctx, const char *address, enum pvio_class cls,
		      const struct pvio_dev_ops *ops);
int fake_configure_queues(struct fake *f, const struct pvio_dev_config *cfg,
			  unsigned cap, unsigned nseg_max);
bool fake_seg_ok(struct fake *f, const struct pvio_dseg *s);
unsigned fake_slot_free(struct fake_q *fq);
/* the generic ops */
int fake_op_queue_fd(pvio_dev *dev, unsigned q);
int fake_op_queue_arm(pvio_dev *dev, unsigned q);
void fake_op_queue_ack(pvio_dev *dev, unsigned q);
void fake_op_queue_disarm(pvio_dev *dev, unsigned q);
int fake_op_quiesce(pvio_dev *dev);
void fake_op_close(pvio_dev *dev);

/* fakedev_blk.c / fakedev_net.c */
unsigned fake_blk_release(struct fake *f, unsigned q, unsigned n, bool rev);
unsigned fake_net_release(struct fake *f, unsigned q, unsigned n);
bool fake_net_pending(struct fake *f, unsigned q);

#endif
