/* SPDX-License-Identifier: MIT */
/*
 * pvio/pvio.h - contexts, devices, device-reachable memory, events.
 *
 * pvio drives paravirtual block and network devices of three hypervisor
 * families - KVM/QEMU (virtio), Xen (blkif/netif) and Hyper-V (VMBus
 * StorVSC/NetVSC) - through one block front end (pvio/blk.h) and one network
 * front end (pvio/net.h).  This header holds what both share.
 *
 * Conventions for the whole API:
 *  - Handles are opaque.  Functions that can fail return 0 (or a count) on
 *    success and a negative errno value on failure; pvio_errmsg() then gives
 *    a one-line, human-readable explanation of the most recent failure on
 *    that context.
 *  - Option and info structs start with struct_size; set it to
 *    sizeof(the struct) so old binaries keep working when structs grow.
 *    Every options pointer may be NULL for all defaults.
 *  - pvio_errmsg() is only meaningful right after a call that failed: a
 *    later call on the same context may replace it (also one that
 *    succeeds after retrying internally), so copy it before calling pvio
 *    again.
 *  - A context and everything opened from it may be used by one thread at
 *    a time.  Different contexts are independent; pvio has no global
 *    mutable state.  Data-path calls on different queues of one front end
 *    may run in different threads (each queue is single-threaded).
 */
#ifndef PVIO_PVIO_H
#define PVIO_PVIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pvio/platform.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PVIO_VERSION_MAJOR 0
#define PVIO_VERSION_MINOR 1
#define PVIO_VERSION_PATCH 0

/* Library version as "major.minor.patch". */
const char *pvio_version(void);

typedef struct pvio_ctx pvio_ctx;
typedef struct pvio_dev pvio_dev;

/* A scatter-gather element; same layout as POSIX struct iovec. */
struct pvio_iovec {
	void *base;
	size_t len;
};

/* ------------------------------------------------------------------ */
/* Contexts                                                            */
/* ------------------------------------------------------------------ */

struct pvio_ctx_opts {
	size_t struct_size;
	/* NULL: the hosted Linux platform (pvio_platform_hosted()). */
	const struct pvio_platform *platform;
	/* Bytes of device-reachable memory the context manages (rounded up to
	 * 4096).  0: 256 MiB hosted (sparse: only touched pages use RAM), 8 MiB
	 * freestanding.  All devices opened on the context share it, which is
	 * what lets a front end move between devices without re-allocating the
	 * caller's buffers. */
	size_t dma_pool_size;
	/* Messages at this level or more severe go to the platform log hook.
	 * Default PVIO_LOG_WARN; the PVIO_LOG environment variable (hosted:
	 * error|warn|info|debug) overrides it. */
	int log_level;
	/* Bound for every wait on a host that should answer (handshakes,
	 * control messages, quiesce).  0: 5000 ms. */
	uint32_t timeout_ms;
};

int pvio_ctx_new(const struct pvio_ctx_opts *opts, pvio_ctx **out);
void pvio_ctx_free(pvio_ctx *ctx);

/* The most recent error on ctx as one line ("" if none).  The pointer
 * stays valid for the life of ctx, but the text is valid only until the
 * next pvio call on ctx. */
const char *pvio_errmsg(const pvio_ctx *ctx);

/* ------------------------------------------------------------------ */
/* Device-reachable ("DMA") memory                                     */
/* ------------------------------------------------------------------ */

/*
 * Buffers from pvio_dma_alloc() can be handed to every device of the
 * context without copying (zero-copy).  Buffers from anywhere else work
 * too; pvio copies them through its own bounce buffers.  align must be a
 * power of two (0 = 64).  Not for the data path: allocation is a control
 * operation.
 */
void *pvio_dma_alloc(pvio_ctx *ctx, size_t size, size_t align);
void pvio_dma_free(pvio_ctx *ctx, void *p);
/* true if [p, p+len) lies entirely in the context's device-reachable memory */
bool pvio_dma_contains(const pvio_ctx *ctx, const void *p, size_t len);

/* ------------------------------------------------------------------ */
/* Devices                                                             */
/* ------------------------------------------------------------------ */

enum pvio_class {
	PVIO_CLASS_NONE = 0,
	PVIO_CLASS_BLK = 1,
	PVIO_CLASS_NET = 2,
};

enum pvio_family {
	PVIO_FAMILY_NONE = 0,
	PVIO_FAMILY_VIRTIO = 1, /* KVM/QEMU and anything else speaking virtio */
	PVIO_FAMILY_XEN = 2,    /* Xen PV split drivers */
	PVIO_FAMILY_VMBUS = 3,  /* Hyper-V VMBus synthetic devices */
};

const char *pvio_class_name(enum pvio_class c);   /* "blk", "net" */
const char *pvio_family_name(enum pvio_family f); /* "virtio", "xen", "vmbus" */
const char *pvio_family_hypervisor(enum pvio_family f); /* "KVM", "Xen", "Hyper-V" */

/*
 * Normalised features: the same name means the same capability whichever
 * protocol provides it.  pvio_feature_name() gives the name of one bit.
 */
enum {
	/* transport */
	PVIO_F_INDIRECT = 1ull << 0,       /* long requests in one ring slot:
					      virtio indirect descriptors, blkif
					      indirect segments, VMBus multi-page
					      GPA ranges */
	PVIO_F_EVENT_SUPPRESS = 1ull << 1, /* notification suppression: virtio
					      EVENT_IDX, Xen req/rsp_event, VMBus
					      interrupt_mask/pending_send_sz */
	PVIO_F_MULTIQUEUE = 1ull << 2,     /* more than one queue negotiated */
	PVIO_F_PACKED_RING = 1ull << 3,    /* virtio packed virtqueues */
	PVIO_F_IN_ORDER = 1ull << 4,       /* completions in submission order */
	PVIO_F_PERSISTENT_MAP = 1ull << 5, /* back end keeps data pages mapped
					      (Xen persistent grants, VMBus
					      send/receive buffers) */
	PVIO_F_MULTI_PAGE_RING = 1ull << 6,/* ring larger than one page */
	/* block */
	PVIO_F_BLK_FLUSH = 1ull << 16,
	PVIO_F_BLK_DISCARD = 1ull << 17,
	PVIO_F_BLK_WRITE_ZEROES = 1ull << 18,
	PVIO_F_BLK_READ_ONLY = 1ull << 19,
	PVIO_F_BLK_BARRIER = 1ull << 20,
	PVIO_F_BLK_TOPOLOGY = 1ull << 21,  /* physical block size reported */
	/* network */
	PVIO_F_NET_MAC = 1ull << 32,       /* device supplies the MAC */
	PVIO_F_NET_MTU = 1ull << 33,       /* device supplies the MTU */
	PVIO_F_NET_LINK_STATUS = 1ull << 34,
	PVIO_F_NET_CSUM_TX = 1ull << 35,   /* device completes partial checksums */
	PVIO_F_NET_CSUM_RX = 1ull << 36,   /* device reports checksum state */
	PVIO_F_NET_TSO4 = 1ull << 37,
	PVIO_F_NET_TSO6 = 1ull << 38,
	PVIO_F_NET_SG = 1ull << 39,        /* multi-buffer frames */
	PVIO_F_NET_CTRL = 1ull << 40,      /* a control channel (virtio ctrl vq,
					      RNDIS set) */
	PVIO_F_NET_SET_MAC = 1ull << 41,   /* the MAC can be changed */
};
/* Name of the single feature bit f ("indirect", "flush", ...), or NULL. */
const char *pvio_feature_name(uint64_t f);

struct pvio_dev_info {
	size_t struct_size;
	enum pvio_class cls;
	enum pvio_family family;
	const char *backend;   /* how it is reached: "vhost-user", "sim-xen",
				  "sim-hyperv", "xen", "virtio-pci", ... */
	const char *address;   /* the address it was opened with */
	const char *protocol;  /* protocol and version as negotiated, e.g.
				  "virtio-blk 1.x split ring", "blkif",
				  "NVSP 6.1 / NDIS 6.30 / RNDIS 1.0" */
	uint64_t features;     /* PVIO_F_* negotiated (in use) */
	uint64_t offered;      /* PVIO_F_* the device offered */
	/* protocol-native detail, e.g. "features=0x130000064" or the xenstore
	 * feature keys; NUL-terminated */
	char native[160];
	uint32_t max_queues;   /* device maximum */
	uint32_t num_queues;   /* in use (0 until a front end attached) */
	uint32_t queue_size;   /* ring slots per queue */
	uint32_t max_segments; /* per request */
	uint32_t max_transfer; /* bytes per request */
	uint32_t max_segment_size;
};
int pvio_dev_get_info(pvio_dev *dev, struct pvio_dev_info *info);

/*
 * Addresses:
 *   vhost-user:PATH[?class=blk|net][&queues=N]
 *                                   a vhost-user back end listening on PATH
 *   sim-xen:SOCKET/vbd/N            device N on pvio's simulated Xen host
 *   sim-xen:SOCKET/vif/N
 *   sim-hyperv:SOCKET/storvscN      pvio's simulated Hyper-V host
 *   sim-hyperv:SOCKET/netvscN
 *   xen:vbd/N, xen:vif/N            a device of the Xen domain we run in,
 *                                   from Linux user space (/dev/xen/gntalloc,
 *                                   evtchn, xenstore): N is the id under
 *                                   device/vbd or device/vif, e.g.
 *                                   xen:vbd/51712 (xvda), xen:vif/0;
 *                                   [?xenstore=PATH] (socket or xenbus device)
 *   vmbus-uio:UUID                  Hyper-V channel handed to user space by
 *                                   Linux uio_hv_generic
 *   virtio-pci:BB:DD.F, virtio-mmio:0xADDR   (freestanding)
 * Not every back end is in every build; pvio_backend_list() names those that
 * are.  Normally opened through pvio_blk_open()/pvio_net_open(); opening the
 * device alone (e.g. for pvio info) reads what the device offers without
 * starting it.
 */
int pvio_dev_open(pvio_ctx *ctx, const char *address, pvio_dev **out);
void pvio_dev_close(pvio_dev *dev);

/* Comma-separated address schemes compiled into this library. */
const char *pvio_backend_list(void);

/* Per-queue counters, kept by the front ends and the back ends together. */
struct pvio_queue_stats {
	uint64_t requests;       /* user requests completed */
	uint64_t device_requests;/* requests the device saw (after splitting) */
	uint64_t bytes;          /* data bytes completed */
	uint64_t errors;         /* requests completed with an error */
	uint64_t notify_sent;    /* notifications to the host (kicks, event
				    channel sends, VMBus signals) */
	uint64_t notify_suppressed; /* notifications the host let us skip */
	uint64_t irqs;           /* notifications from the host we woke for */
	uint64_t copies;         /* data copies made (bounce, send buffer,
				    receive buffer, persistent grant) */
	uint64_t copy_bytes;
	uint64_t replayed;       /* requests resubmitted after a migration or
				    reconnect */
	uint64_t dropped;        /* network: frames lost in flight at a
				    migration or reconnect */
	uint64_t rx_errors;      /* network: frames the host delivered badly
				    (bad length, offsets): dropped */
};


/* What a front end's move to another device (migration, reconnect) did. */
struct pvio_migrate_report {
	size_t struct_size;
	uint32_t completed_during_quiesce; /* finished on the old device */
	uint32_t replayed;                 /* resubmitted on the new device */
	uint32_t failed;                   /* completed with an error because
					      the new device cannot do them */
	uint32_t dropped;                  /* network frames lost in flight */
	uint64_t downtime_ns; /* from the last completion on the old device
				 to the first on the new one; 0 until that
				 first completion happened (ask again later
				 with pvio_blk/net_migration_report()) */
	uint64_t quiesce_ns;  /* time spent draining the old device */
};

/* ------------------------------------------------------------------ */
/* Device state and events                                             */
/* ------------------------------------------------------------------ */

enum pvio_dev_state {
	PVIO_DEV_READY = 0,   /* usable */
	PVIO_DEV_BROKEN = 1,  /* the host misbehaved or failed; I/O fails with
				 -EIO until the front end moves to another
				 device or the device is reopened */
	PVIO_DEV_REMOVED = 2, /* the host removed the device (rescind, Closing,
				 disconnect) */
	PVIO_DEV_STOPPED = 3, /* quiesced or closed by pvio */
};

/* The state, and in *reason (optional) why it is not READY (a stable
 * string owned by the device). */
enum pvio_dev_state pvio_dev_state(pvio_dev *dev, const char **reason);

enum pvio_event_type {
	PVIO_EVENT_NONE = 0,
	PVIO_EVENT_LINK_CHANGE = 1, /* value: 1 up, 0 down */
	PVIO_EVENT_REMOVED = 2,     /* device gone; value: 0 */
	PVIO_EVENT_NEEDS_RESET = 3, /* device broken; see pvio_dev_state() */
	PVIO_EVENT_CONFIG_CHANGE = 4, /* e.g. capacity changed */
};

struct pvio_event {
	enum pvio_event_type type;
	uint32_t value;
};

/*
 * Service the device's control path (xenstore watches, VMBus channel
 * messages, virtio configuration changes) without blocking, then return the
 * next pending event in *ev: 1 if there was one, 0 if none, or -errno.
 */
int pvio_dev_next_event(pvio_dev *dev, struct pvio_event *ev);
/* Hosted: a descriptor that polls readable when control-path work or events
 * may be pending; -ENOTSUP when the device has none. */
int pvio_dev_event_fd(pvio_dev *dev);

#ifdef __cplusplus
}
#endif
#endif /* PVIO_PVIO_H */
