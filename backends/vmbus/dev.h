/* SPDX-License-Identifier: MIT */
/*
 * backends/vmbus/dev.h - a VMBus device as pvio sees it: a host interface,
 * the primary channel and its sub-channels (one per queue), and the
 * protocol state of NetVSC or StorVSC.
 */
#ifndef PVIO_VMBUS_DEV_H
#define PVIO_VMBUS_DEV_H

#include "hostif.h"

#define VMBUS_MAX_QUEUES 16

struct vmbus_dev {
	struct vmbus_hostif *h;
	pvio_dev *dev;
	char name[24];                 /* "storvsc0", "netvsc1" */
	unsigned nchan;                /* channels open */
	struct vmbus_chan chan[VMBUS_MAX_QUEUES];
	void *proto;                   /* struct vmbus_blk / vmbus_net */
};

/* transport.c: generic parts of struct pvio_dev_ops */
int vmbus_dev_service(pvio_dev *dev);
int vmbus_dev_event_fd(pvio_dev *dev);
int vmbus_dev_queue_fd(pvio_dev *dev, unsigned q);
void vmbus_dev_queue_ack(pvio_dev *dev, unsigned q);
void vmbus_dev_queue_disarm(pvio_dev *dev, unsigned q);
/* Unmask queue q's receive ring: 1 if data is already there. */
int vmbus_dev_queue_arm(pvio_dev *dev, unsigned q);
/* Control path: wait for ch's receive ring to have data: 1, 0 at the
 * deadline, -ENODEV if rescinded, -errno. */
int vmbus_wait_rx(struct vmbus_hostif *h, struct vmbus_chan *ch,
		  uint64_t deadline);
/* Mark dev removed if the host rescinded one of its channels or the
 * connection is lost; returns -ENODEV then, else 0. */
int vmbus_dev_check_gone(struct vmbus_dev *vd);
/* Open sub-channels 1..want-1 after the protocol asked the host for
 * them: returns the number of channels open (>= 1) or -errno. */
int vmbus_dev_open_subchannels(struct vmbus_dev *vd, unsigned want,
			       uint32_t ring_bytes);
/* Close every channel (and free vd's channels). */
void vmbus_dev_close_channels(struct vmbus_dev *vd);

/* blk.c / net.c: open the device on an open host interface; on success
 * the device owns h. */
int vmbus_blk_open(pvio_ctx *ctx, struct vmbus_hostif *h,
		   const struct vmbus_offer *offer, const char *name,
		   const char *opts, pvio_dev **out);
int vmbus_net_open(pvio_ctx *ctx, struct vmbus_hostif *h,
		   const struct vmbus_offer *offer, const char *name,
		   const char *opts, pvio_dev **out);

#endif /* PVIO_VMBUS_DEV_H */
