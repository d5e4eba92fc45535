/* SPDX-License-Identifier: MIT */
/*
 * backends/vmbus/hostif.h - how the VMBus back end reaches a Hyper-V host.
 *
 * The seam is at the level of channels, not of hypercalls, because that is
 * where the ways in differ:
 *
 *  - hostif_sim.c (pvio's simulated host, docs/sim-hostif.md) and a future
 *    hypercall one (freestanding guest on real Hyper-V) post channel
 *    management messages themselves; they implement these ops with conn.c
 *    (contact, offers, GPADLs, OPENCHANNEL ...) on top of a message port.
 *  - hostif_uio.c (Linux uio_hv_generic, shared/specs/vmbus-uio-dpdk.md)
 *    finds the offer in sysfs; the kernel has opened the channel and made
 *    the ring GPADL, so open() maps the rings; buf_get() hands out the
 *    receive/send buffers the kernel already GPADL'd (kind says which,
 *    whatever their size); signal() sets the monitor-page bit; irq_fd()
 *    is /dev/uioN; pfn() gives the addresses the host sees.
 *
 * net.c and blk.c call only these ops (and ring.c/chan.c), so they run
 * unchanged over either.
 */
#ifndef PVIO_VMBUS_HOSTIF_H
#define PVIO_VMBUS_HOSTIF_H

#include "vmbus.h"

/* Shared buffers a device asks for (uio_hv_generic has exactly these) */
enum vmbus_buf_kind {
	VMBUS_BUF_RECV = 0, /* NetVSC receive buffer */
	VMBUS_BUF_SEND = 1, /* NetVSC send (chimney) buffer */
};

/* Memory the host can reach through a GPADL. */
struct vmbus_buf {
	void *va;
	uint64_t dev_addr;
	size_t len;
	uint32_t gpadl;
	bool gpadl_live;    /* created and not torn down */
};

struct vmbus_hostif;

struct vmbus_hostif_ops {
	/* The primary channel offer number idx (0-based, in offer order) of
	 * device class cls: 0 or -ENODEV (with an error message naming what
	 * was found). */
	int (*find)(struct vmbus_hostif *h, const struct vmbus_guid *cls,
		    unsigned idx, struct vmbus_offer *out);
	/* Wait (until deadline) for sub-channel offers of primary until
	 * `want` are known; copies up to want of them (sorted by sub-channel
	 * index) into out.  Returns the number found (may be fewer after the
	 * deadline) or -errno.  NULL: the host interface has no sub-channels
	 * (one queue). */
	int (*subchannels)(struct vmbus_hostif *h,
			   const struct vmbus_offer *primary, unsigned want,
			   uint64_t deadline, struct vmbus_offer *out);
	/* Open ch (ch->offer filled) with rings of ring_bytes per direction:
	 * sets ch->tx, ch->rx, ch->ring_*, ch->hpriv.  0 or -errno with
	 * message. */
	int (*open)(struct vmbus_hostif *h, struct vmbus_chan *ch,
		    uint32_t ring_bytes);
	/* Close ch: CLOSECHANNEL, ring GPADL torn down (or nothing if the
	 * host rescinded it); ring memory freed or, if the host may still
	 * map it, leaked. */
	void (*close)(struct vmbus_hostif *h, struct vmbus_chan *ch);
	/* Shared buffer of at least size bytes (page multiple) for ch's
	 * device, GPADL'd: 0 or -errno.  (uio: the kernel's buffer of that
	 * kind, whatever its size.) */
	int (*buf_get)(struct vmbus_hostif *h, struct vmbus_chan *ch,
		       enum vmbus_buf_kind kind, size_t size,
		       struct vmbus_buf *out);
	/* Tear the buffer's GPADL down and free it (leak if the host did not
	 * confirm). */
	void (*buf_put)(struct vmbus_hostif *h, struct vmbus_chan *ch,
			struct vmbus_buf *b);
	/* Data path: tell the host there is work in ch's send ring (or room
	 * in its receive ring).  No allocation, no lock; one syscall at most. */
	void (*signal)(struct vmbus_hostif *h, struct vmbus_chan *ch);
	/* Hosted: fd readable when the host interrupted ch; -EOPNOTSUPP. */
	int (*irq_fd)(struct vmbus_hostif *h, struct vmbus_chan *ch);
	/* Consume ch's interrupt notification (data path). */
	void (*irq_ack)(struct vmbus_hostif *h, struct vmbus_chan *ch);
	/* Control path: wait until ch may have data, a control message may
	 * have arrived, or deadline; processes control messages (rescinds).
	 * 1, 0 (deadline), -errno. */
	int (*wait)(struct vmbus_hostif *h, struct vmbus_chan *ch,
		    uint64_t deadline);
	/* Control path, non-blocking: process queued control messages
	 * (rescinds mark channels gone).  0 or -errno (connection lost). */
	int (*service)(struct vmbus_hostif *h);
	/* Hosted: fd readable when service() has work; -EOPNOTSUPP. */
	int (*event_fd)(struct vmbus_hostif *h);
	/* Disconnect (UNLOAD where the interface has one) and free h. */
	void (*free)(struct vmbus_hostif *h);
	/* Data path, optional: the guest frame number the host knows the
	 * page holding device address a by (NULL: a >> 12).  uio_hv_generic
	 * needs it, where the host sees physical or virtual addresses, not
	 * pvio's device addresses.  No allocation, no lock, no syscall. */
	uint64_t (*pfn)(const struct vmbus_hostif *h, uint64_t a);
};

struct vmbus_hostif {
	const struct vmbus_hostif_ops *ops;
	pvio_ctx *ctx;
	const char *name;   /* "sim-hyperv", "vmbus-uio" */
	/* VMBus protocol version of the connection (0: not known, e.g. the
	 * guest kernel owns the connection) */
	uint32_t version;
	/* the host removed or lost the connection: every channel is gone */
	int lost;
};

/* Hosts from VMBus 4.0 (Windows 10 / Server 2016) on keep a NetVSC
 * buffer's GPADL until the channel is closed: tear it down after
 * CLOSECHANNEL there, before it on older hosts (Linux netvsc does the
 * same, see shared/specs/hyperv-vmbus.md). */
#define VMBUS_VERSION_WIN10 VMBUS_VERSION(4, 0)

/* Guest frame number of the page holding device address a. */
static inline uint64_t vmbus_pfn(const struct vmbus_hostif *h, uint64_t a)
{
	return h->ops->pfn ? h->ops->pfn(h, a) : a >> VMBUS_PAGE_SHIFT;
}

/* hostif_sim.c: connect to a simulated host's socket. */
int vmbus_hostif_sim_open(pvio_ctx *ctx, const char *path,
			  struct vmbus_hostif **out);
/* hostif_uio.c: the device uuid bound to uio_hv_generic (opts: "iova=va"
 * or "iova=pa", else chosen by the device). */
int vmbus_hostif_uio_open(pvio_ctx *ctx, const char *uuid, const char *opts,
			  struct vmbus_hostif **out);

#endif /* PVIO_VMBUS_HOSTIF_H */
