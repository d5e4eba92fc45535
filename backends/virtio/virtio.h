/* SPDX-License-Identifier: MIT */
/*
 * backends/virtio/virtio.h - the virtio back end's internal interfaces.
 *
 * Three layers, each in its own files:
 *
 *   virtqueues (ring_split.c, ring_packed.c)   the driver side of both ring
 *        formats: private shadow state, notification suppression, and
 *        validation of everything the device writes;
 *   the generic device (transport.c, blk.c, net.c)   bring-up, feature
 *        negotiation, queues, the pvio transport ops, and the virtio-blk /
 *        virtio-net adapters;
 *   host interfaces ("hostif", struct virtio_hostif)   how the device is
 *        reached: vhost-user now (hostif_vhost_user.c), virtio-pci and
 *        virtio-mmio later.  A hostif is to the generic code what the
 *        common configuration structure is to a PCI driver.
 *
 * Everything except hostif_vhost_user.c uses no C library and no system
 * call, so it also builds into libpvio-freestanding.a.
 */
#ifndef PVIO_BACKENDS_VIRTIO_H
#define PVIO_BACKENDS_VIRTIO_H

#include <pvio/transport.h>

#include "wire.h"

/* ------------------------------------------------------------------ */
/* Virtqueues                                                          */
/* ------------------------------------------------------------------ */

/* One piece of a buffer, as the device sees it. */
struct virtio_sg {
	uint64_t addr;   /* device address */
	uint32_t len;
	uint32_t write;  /* non-zero: device-writable */
};

/* Private per-buffer state (split: per head descriptor; packed: per
 * buffer id).  Never in shared memory, so the device cannot change it. */
struct virtio_vq_buf {
	uint32_t token;  /* the caller's tag */
	uint32_t wlen;   /* device-writable bytes posted (used len is clamped
			    to this) */
	uint16_t ndesc;  /* ring descriptors the buffer occupies */
	uint16_t last;   /* split: last descriptor of the chain */
	uint16_t live;   /* outstanding: made available, not yet used */
	uint32_t seq;    /* value of vq->added when it was added */
};

/* A completion taken off the ring, not yet returned by virtio_vq_get. */
struct virtio_vq_done {
	uint32_t id;     /* buffer id (split: head descriptor) */
	uint32_t len;    /* clamped used length */
};

/* virtio_vq_init flags */
enum {
	VIRTIO_VQ_PACKED = 1u << 0,
	VIRTIO_VQ_EVENT_IDX = 1u << 1,
	VIRTIO_VQ_INDIRECT = 1u << 2,
	VIRTIO_VQ_IN_ORDER = 1u << 3,   /* packed only */
};

/* virtio_vq_publish results */
enum {
	VIRTIO_KICK_NONE = 0,       /* nothing new was published */
	VIRTIO_KICK_SUPPRESSED = 1, /* published; the device asked not to be
				       notified */
	VIRTIO_KICK_NOTIFY = 2,     /* published; notify the device */
};

struct virtio_vq {
	/* ---- configuration ---- */
	uint16_t size;      /* Q */
	uint16_t index;     /* virtqueue number (for messages) */
	uint32_t flags;     /* VIRTIO_VQ_* */
	uint16_t ind_max;   /* descriptors per indirect table, 0: none */
	uint8_t broken;
	uint8_t armed;      /* used-buffer notifications requested */

	/* ---- shared memory (all in the context's DMA pool) ---- */
	uint8_t *desc;      /* descriptor table / packed descriptor ring */
	uint8_t *drv;       /* split: avail ring; packed: driver event area */
	uint8_t *dev;       /* split: used ring; packed: device event area */
	uint64_t desc_addr, drv_addr, dev_addr;
	uint8_t *ind;       /* Q indirect tables of ind_max descriptors */
	uint64_t ind_addr;
	void *ring_mem, *ind_mem;

	/* ---- private state ---- */
	struct virtio_vq_buf *buf;  /* Q entries */
	uint16_t *link;     /* split: free descriptor list; packed: free ids */
	uint16_t *order;    /* packed + IN_ORDER: ids in submission order */
	struct virtio_vq_done *stash; /* completions taken off the ring but
					 not yet returned (Q entries) */
	uint16_t stash_head, stash_n;
	uint16_t free_head; /* split: first free descriptor; packed: free id */
	uint16_t num_free;  /* free descriptors (split) / ring slots (packed) */
	uint16_t nout;      /* buffers outstanding (made available) */
	uint16_t npend;     /* of which not yet published */
	uint32_t num_added; /* since the last notification decision: avail
			       entries (split) / descriptors (packed) */
	uint32_t added;     /* buffers ever added (wraps) */

	/* split */
	uint16_t avail_idx; /* next avail->ring slot, incl. unpublished */
	uint16_t last_used; /* next used entry to consume */

	/* packed */
	uint16_t next_avail, next_used;
	uint8_t avail_wrap, used_wrap;
	uint8_t held;       /* first unpublished head's flags are held back */
	uint8_t held_wrap;
	uint16_t held_slot, held_flags;
	uint16_t order_head, order_n;

	/* ---- counters and the reason once broken ---- */
	uint64_t len_clamped; /* used len larger than the posted buffer */
	char why[112];
};

/* Bytes of ring memory (descriptors + driver area + device area) and the
 * offsets of the two areas, for a queue of size Q. */
struct virtio_vq_layout {
	size_t bytes;
	size_t drv_off, dev_off;
};
void virtio_vq_layout(uint16_t size, bool packed, struct virtio_vq_layout *l);

/* Allocate rings (DMA pool, zeroed) and private state.  ind_max: the
 * longest chain that goes into an indirect table (0: never indirect).
 * 0 or -ENOMEM/-EINVAL (with pvio_set_error). */
int virtio_vq_init(pvio_ctx *ctx, struct virtio_vq *vq, unsigned index,
		   uint16_t size, uint32_t flags, uint16_t ind_max);
/* Free everything.  leak_shared: the device may still access the rings
 * and indirect tables, so they are left allocated (never reused). */
void virtio_vq_fini(pvio_ctx *ctx, struct virtio_vq *vq, bool leak_shared);

/*
 * Data path (no allocation, no lock, no system call).
 *
 * add: place a buffer of n pieces (device-readable ones first) in the ring,
 *      not yet visible to the device.  0; -EAGAIN: no room; -EINVAL: n is 0
 *      or too long for this queue, or a readable piece follows a writable
 *      one; -EIO: the queue is broken.
 * publish: make what was added visible and decide whether to notify
 *      (EVENT_IDX, NO_NOTIFY, packed event suppression): VIRTIO_KICK_*.
 * get: one completion: 1 (token, len set), 0 none, -EIO broken (vq->why
 *      says why).  len is clamped to the buffer's writable size.
 * arm: ask for a used-buffer notification; 1 if completions are already
 *      waiting (do not sleep), 0 armed.  disarm: stop asking.
 */
int virtio_vq_add(struct virtio_vq *vq, const struct virtio_sg *sg,
		  unsigned n, uint32_t token);
int virtio_vq_publish(struct virtio_vq *vq);
int virtio_vq_get(struct virtio_vq *vq, uint32_t *token, uint32_t *len);
int virtio_vq_arm(struct virtio_vq *vq);
void virtio_vq_disarm(struct virtio_vq *vq);
/* The 32-bit NOTIFICATION_DATA value for the next notification. */
uint32_t virtio_vq_notify_data(const struct virtio_vq *vq);

/*
 * Control path, for quiescing: take every completion the device has
 * written into private memory (get returns them later), then compare with
 * the position the device reported when it stopped ("base": split: its next
 * avail index; packed: bits 0-14 slot, bit 15 wrap counter).  1: everything
 * the device took has come back; 0: not yet; -EIO: base is impossible or
 * the ring is broken.
 */
int virtio_vq_drained(struct virtio_vq *vq, uint32_t base);

/* Ring-format implementations behind the dispatchers above. */
int virtio_split_init(struct virtio_vq *vq);
int virtio_split_add(struct virtio_vq *vq, const struct virtio_sg *sg,
		     unsigned n, uint32_t token);
int virtio_split_publish(struct virtio_vq *vq);
int virtio_split_pull(struct virtio_vq *vq);
int virtio_split_arm(struct virtio_vq *vq);
void virtio_split_disarm(struct virtio_vq *vq);
int virtio_split_drained(struct virtio_vq *vq, uint32_t base);
int virtio_packed_init(struct virtio_vq *vq);
int virtio_packed_add(struct virtio_vq *vq, const struct virtio_sg *sg,
		      unsigned n, uint32_t token);
int virtio_packed_publish(struct virtio_vq *vq);
int virtio_packed_pull(struct virtio_vq *vq);
int virtio_packed_arm(struct virtio_vq *vq);
void virtio_packed_disarm(struct virtio_vq *vq);
int virtio_packed_drained(struct virtio_vq *vq, uint32_t base);

/* Shared helpers of the two ring files (ring.c). */
int virtio_vq_fail(struct virtio_vq *vq, const char *fmt, ...)
	PVIO_PRINTF(2, 3);
static inline void virtio_vq_stash(struct virtio_vq *vq, uint16_t id,
				   uint32_t len)
{
	unsigned i = (unsigned)(vq->stash_head + vq->stash_n) % vq->size;
	vq->stash[i].id = id;
	vq->stash[i].len = len;
	vq->stash_n++;
}
/* Validate the sg list of an add: 0 or -EINVAL; *wlen = writable bytes. */
int virtio_vq_check_sg(const struct virtio_sg *sg, unsigned n,
		       uint32_t *wlen);

/* ------------------------------------------------------------------ */
/* Host interfaces                                                     */
/* ------------------------------------------------------------------ */

struct virtio_hostif;

/* What the generic code tells a hostif about one virtqueue. */
struct virtio_queue_cfg {
	uint16_t size;
	uint8_t packed;
	uint32_t irq;         /* notification group: one pvio queue */
	void *desc, *driver, *device;             /* CPU addresses */
	uint64_t desc_addr, driver_addr, device_addr; /* device addresses */
};

/* service() results */
enum {
	VIRTIO_HEV_CONFIG = 1u << 0,  /* the configuration changed */
};

/* hostif flags */
enum {
	/* The front end plays the VMM's part for virtio-net: the device (a
	 * vhost-user net back end) has no config space and no control queue;
	 * MAC, MTU, link and queue pairs are the front end's (as QEMU does for
	 * vhost-user net). */
	VIRTIO_HF_VMM_NET = 1u << 0,
};

/*
 * Every op returns 0 or a negative errno and sets a message with
 * pvio_set_error() on failure; a host that went away also marks h->dev
 * removed (when set).  All waits are bounded by the context timeout.
 */
struct virtio_hostif_ops {
	int (*get_features)(struct virtio_hostif *h, uint64_t *features);
	int (*set_features)(struct virtio_hostif *h, uint64_t features);
	int (*get_status)(struct virtio_hostif *h, uint8_t *status);
	/* status 0 resets the device */
	int (*set_status)(struct virtio_hostif *h, uint8_t status);
	/* device config space; -EOPNOTSUPP when the device has none */
	int (*config_read)(struct virtio_hostif *h, uint32_t off, void *buf,
			   uint32_t len);
	/* largest size of virtqueue vq (0: the queue does not exist) */
	uint16_t (*queue_max)(struct virtio_hostif *h, unsigned vq);
	int (*queue_setup)(struct virtio_hostif *h, unsigned vq,
			   const struct virtio_queue_cfg *cfg);
	int (*queue_enable)(struct virtio_hostif *h, unsigned vq, bool on);
	/* Stop the n queues nums[] so the device no longer takes buffers;
	 * bases[i] gets queue nums[i]'s stop position (virtio_vq_drained), or
	 * UINT32_MAX when the stop also ended everything in flight (reset). */
	int (*stop)(struct virtio_hostif *h, unsigned n, const uint16_t *nums,
		    uint32_t *bases);
	/* Data path: notify the device that queue vq has new buffers. */
	void (*notify)(struct virtio_hostif *h, unsigned vq, uint32_t data);
	/* Hosted: fd readable when notification group irq fired, or
	 * -EOPNOTSUPP.  irq_ack consumes it. */
	int (*irq_fd)(struct virtio_hostif *h, unsigned irq);
	void (*irq_ack)(struct virtio_hostif *h, unsigned irq);
	/* Hosted: fd readable when service() has work, or -EOPNOTSUPP. */
	int (*event_fd)(struct virtio_hostif *h);
	/* Non-blocking control-path check: *what gets VIRTIO_HEV_* bits. */
	int (*service)(struct virtio_hostif *h, unsigned *what);
	/* Sleep until group irq (-1: none) may have fired, the control path
	 * has work, or deadline_ns; spurious returns are fine. */
	void (*wait)(struct virtio_hostif *h, int irq, uint64_t deadline_ns);
	void (*close)(struct virtio_hostif *h);
};

struct virtio_hostif {
	const struct virtio_hostif_ops *ops;
	pvio_ctx *ctx;
	pvio_dev *dev;      /* set by virtio_dev_open */
	const char *name;   /* "vhost-user" */
	uint32_t flags;     /* VIRTIO_HF_* */
	uint32_t device_id; /* VW_ID_* */
	uint32_t max_vqs;   /* virtqueues the device has, 0: unknown */
	/* transport/ring feature bits (28..40) this hostif can carry */
	uint64_t transport_features;
};

/* ------------------------------------------------------------------ */
/* The generic device                                                  */
/* ------------------------------------------------------------------ */

struct virtio_open_args {
	enum pvio_class cls;
	const char *address;  /* the whole address (a stable identity) */
	uint32_t max_queues;  /* from the address; 0: the device's */
	uint16_t queue_size;  /* from the address; 0: default */
	bool no_packed;       /* ?packed=off */
};

struct virtio_dev;

/* A device class adapter (blk.c, net.c). */
struct virtio_class {
	const char *name;          /* "virtio-blk" */
	const struct pvio_dev_ops *dev_ops;
	/* open: read the config space, fill dev->limits and info */
	int (*probe)(struct virtio_dev *vd);
	/* configure: the device-class feature bits to accept */
	uint64_t (*features)(struct virtio_dev *vd,
			     const struct pvio_dev_config *cfg);
	/* configure, after FEATURES_OK: decide the virtqueues: sets vd->nvq,
	 * vd->nirq and, per queue, ind_max and irq in vd->vq_ind/vd->vq_irq */
	int (*layout)(struct virtio_dev *vd, const struct pvio_dev_config *cfg);
	/* configure, after the rings exist, before DRIVER_OK */
	int (*setup)(struct virtio_dev *vd, const struct pvio_dev_config *cfg);
	/* configure, after DRIVER_OK (control commands, GET_ID) */
	int (*start)(struct virtio_dev *vd, const struct pvio_dev_config *cfg);
	/* the config space changed */
	void (*config_changed)(struct virtio_dev *vd);
	void (*fini)(struct virtio_dev *vd, bool leak_shared);
};

#define VIRTIO_MAX_VQS 129u  /* 64 net queue pairs + control */
#define VIRTIO_DEFAULT_QSIZE 256u

struct virtio_dev {
	pvio_dev *dev;
	struct virtio_hostif *h;
	const struct virtio_class *cls;
	uint64_t offered;    /* device features as offered */
	uint64_t features;   /* negotiated */
	uint16_t qsize;      /* ring size of every queue */
	uint32_t max_queues; /* pvio queues the device can have */
	bool no_packed;
	bool configured, quiesced;
	bool leak;           /* the device may still touch shared memory */
	unsigned nvq, nirq;
	struct virtio_vq *vq;
	/* filled by the class's layout(): per vq (array index), the device's
	 * virtqueue number, the indirect table length and the notification
	 * group (a pvio queue); per group, up to two vqs (0xffff: none) */
	uint16_t *vq_num;
	uint16_t *vq_ind;
	uint32_t *vq_irq;
	uint16_t (*irq_vqs)[2];
	void *cls_priv;      /* the adapter's state */
	char address[128];   /* for messages and identity (truncated) */
};

static inline struct virtio_dev *virtio_of(pvio_dev *dev)
{
	return (struct virtio_dev *)dev->priv;
}
static inline bool virtio_has(const struct virtio_dev *vd, unsigned bit)
{
	return (vd->features >> bit) & 1;
}
static inline bool virtio_offers(const struct virtio_dev *vd, unsigned bit)
{
	return (vd->offered >> bit) & 1;
}

/* Open a device through hostif h (ownership passes; closed on failure). */
int virtio_dev_open(pvio_ctx *ctx, struct virtio_hostif *h,
		    const struct virtio_open_args *a, pvio_dev **out);

/* Generic pvio_dev_ops, shared by the class adapters' tables. */
int virtio_op_configure(pvio_dev *dev, const struct pvio_dev_config *cfg);
int virtio_op_quiesce(pvio_dev *dev);
void virtio_op_close(pvio_dev *dev);
int virtio_op_service(pvio_dev *dev);
int virtio_op_event_fd(pvio_dev *dev);
int virtio_op_queue_fd(pvio_dev *dev, unsigned q);
int virtio_op_queue_arm(pvio_dev *dev, unsigned q);
void virtio_op_queue_ack(pvio_dev *dev, unsigned q);
void virtio_op_queue_disarm(pvio_dev *dev, unsigned q);

/* Publish vq and notify the device if it wants to be; counts
 * notify_sent / notify_suppressed in dev->stats[q]. */
void virtio_kick_vq(struct virtio_dev *vd, unsigned vqi, unsigned q);
/* The queue broke (hostile used entry): mark the device broken. */
int virtio_vq_broken(struct virtio_dev *vd, struct virtio_vq *vq);
/* -EIO / -ENODEV / -ESHUTDOWN for a device that cannot take new I/O, 0 if
 * it can; may_reap: a quiesced or removed device still returns the
 * completions its rings hold. */
int virtio_dev_check(const struct virtio_dev *vd, bool may_reap);
/* What a reap that collected n returns: n, or -ENODEV once a removed
 * device's rings hold nothing more. */
int virtio_reaped(const struct virtio_dev *vd, unsigned n);
/* Synchronous use of one queue on the control path: wait (bounded by
 * deadline_ns) for a completion.  1 got, -ETIMEDOUT, -EIO, -ENODEV. */
int virtio_wait_one(struct virtio_dev *vd, unsigned vqi, uint32_t *token,
		    uint32_t *len, uint64_t deadline_ns);
/* layout() helper: allocate the per-vq tables for nvq queues and nirq
 * notification groups. */
int virtio_layout_alloc(struct virtio_dev *vd, unsigned nvq, unsigned nirq);
/* Config space, read as one consistent snapshot (-EOPNOTSUPP if none). */
int virtio_config(struct virtio_dev *vd, uint32_t off, void *buf,
		  uint32_t len);

extern const struct virtio_class virtio_blk_class;
extern const struct virtio_class virtio_net_class;

/* Little-endian loads from a private config snapshot. */
static inline uint16_t virtio_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}
static inline uint32_t virtio_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}
static inline uint64_t virtio_le64(const uint8_t *p)
{
	return (uint64_t)virtio_le32(p) | (uint64_t)virtio_le32(p + 4) << 32;
}

#endif /* PVIO_BACKENDS_VIRTIO_H */
