/* SPDX-License-Identifier: MIT */
/*
 * pvio/transport.h - the contract between pvio's front ends and its back
 * ends (virtio, Xen, VMBus, and any a third party adds).
 *
 * Applications do not need this header.  Back ends implement the ops below;
 * front ends (frontends/) call them and nothing else, so a front end never
 * learns which hypervisor it runs on.
 *
 * What the contract absorbs (cf. DESIGN.md):
 *  - discovery and negotiation happen in pvio_backend.open(), which fills
 *    dev->info and the class limits (struct pvio_blk_limits /
 *    pvio_net_limits) in normalised form;
 *  - shared memory: the front end hands the back end segments that lie in
 *    the context's DMA pool with their device addresses already translated
 *    (struct pvio_dseg); the back end turns them into descriptors, grant
 *    references or GPA ranges - or copies them into memory it owns
 *    (persistent grants, VMBus send buffer) and counts the copy;
 *  - queues: the front end numbers its requests with small tags; the back
 *    end keeps its own host-visible ids (descriptor heads, blkif ids, VMBus
 *    transaction ids), validates everything the host returns, and reports
 *    completions by tag;
 *  - notification: enqueue only writes the ring; kick publishes and
 *    notifies if the host asked to be notified (EVENT_IDX, req_event,
 *    interrupt_mask); queue_arm/queue_fd let the front end sleep;
 *  - lifecycle: a host that misbehaves marks the device broken
 *    (pvio_dev_set_broken); one that goes away marks it removed; quiesce
 *    stops the host touching memory so the front end can move elsewhere.
 *
 * Threading: all control ops (open, configure, quiesce, close, service)
 * are called from one thread at a time.  Data-path ops for queue q are
 * called from one thread at a time, possibly concurrently with data-path
 * ops for other queues; they must not allocate, lock or make a syscall
 * except to notify the host.
 *
 * Hostile host: every value read from the host is validated once and
 * copied to private memory before use; shared memory is never read twice
 * for the same value (use pvio_read16/32/64 for single accesses).
 */
#ifndef PVIO_TRANSPORT_H
#define PVIO_TRANSPORT_H

#include <stdarg.h>

#ifdef PVIO_FREESTANDING
/* No C library: E* names from pvio, and the four functions every
 * freestanding GCC/Clang environment provides. */
#include <pvio/errno_names.h>
#define memcpy(d, s, n) __builtin_memcpy((d), (s), (n))
#define memmove(d, s, n) __builtin_memmove((d), (s), (n))
#define memset(d, c, n) __builtin_memset((d), (c), (n))
#define memcmp(a, b, n) __builtin_memcmp((a), (b), (n))
#else
#include <errno.h>
#include <string.h>
#endif

#include <pvio/pvio.h>
#include <pvio/blk.h>
#include <pvio/net.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PVIO_PAGE_SIZE 4096u
#define PVIO_SECTOR_SIZE 512u

/* ------------------------------------------------------------------ */
/* Core services for back ends                                         */
/* ------------------------------------------------------------------ */

#if defined(__GNUC__)
#define PVIO_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define PVIO_PRINTF(a, b)
#endif

/* Record "msg" as ctx's last error and return -err (err > 0, an errno). */
int pvio_set_error(pvio_ctx *ctx, int err, const char *fmt, ...)
	PVIO_PRINTF(3, 4);
int pvio_set_errorv(pvio_ctx *ctx, int err, const char *fmt, va_list ap);
void pvio_log(pvio_ctx *ctx, int level, const char *fmt, ...) PVIO_PRINTF(3, 4);

/* Private (never shared) memory; zeroed.  Control path only. */
void *pvio_zalloc(pvio_ctx *ctx, size_t size);
void pvio_free(pvio_ctx *ctx, void *p);
char *pvio_strdup(pvio_ctx *ctx, const char *s);

uint64_t pvio_now_ns(const pvio_ctx *ctx);
/* Sleep until deadline_ns (pvio_now_ns clock; hosted: poll, else the
 * platform's wait hook or busy polling).  Control path only: for waits on
 * nothing but time, e.g. retrying an open while a device comes back. */
void pvio_sleep_until(const pvio_ctx *ctx, uint64_t deadline_ns);
/* The context's bound for waits on the host, in ms and as a deadline. */
uint32_t pvio_timeout_ms(const pvio_ctx *ctx);
uint64_t pvio_deadline(const pvio_ctx *ctx);
const struct pvio_platform *pvio_ctx_platform(const pvio_ctx *ctx);
/* Non-zero when the context runs on the hosted Linux platform (file
 * descriptors, sockets and eventfds are available). */
int pvio_ctx_hosted(const pvio_ctx *ctx);

/* Bounded formatting usable in the freestanding build (subset of printf:
 * %d %i %u %x %X %s %c %p %% with l, ll, z, h, hh, width, 0 and -). */
int pvio_snprintf(char *buf, size_t size, const char *fmt, ...)
	PVIO_PRINTF(3, 4);
int pvio_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

/* String helpers that work without a C library. */
size_t pvio_strlen(const char *s);
int pvio_strcmp(const char *a, const char *b);
int pvio_strncmp(const char *a, const char *b, size_t n);
const char *pvio_strchr(const char *s, int c);
size_t pvio_strlcpy(char *dst, const char *src, size_t size);
/* "EIO", and "I/O error", for an errno value (either sign). */
const char *pvio_errno_name(int err);
const char *pvio_strerror(int err);

/* ---- DMA pool ---- */

/* Device address of [va, va+len), which must lie in one region of the
 * context's DMA pool: 0, or -EFAULT. */
int pvio_dma_translate(const pvio_ctx *ctx, const void *va, size_t len,
		       uint64_t *dev_addr);
/* CPU address of [dev_addr, dev_addr+len) if it lies in the pool, else
 * NULL.  For back ends whose host hands back device addresses. */
void *pvio_dma_to_va(const pvio_ctx *ctx, uint64_t dev_addr, size_t len);
/* The pool's regions (hosted: each has an fd to share with the host). */
unsigned pvio_dma_regions(const pvio_ctx *ctx,
			  const struct pvio_dma_region **regions);

/* ---- shared-memory access helpers ---- */

/* Single, untorn accesses to memory the host can change.  All pvio wire
 * formats are little-endian; these convert. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define PVIO_LE16(x) __builtin_bswap16(x)
#define PVIO_LE32(x) __builtin_bswap32(x)
#define PVIO_LE64(x) __builtin_bswap64(x)
#else
#define PVIO_LE16(x) ((uint16_t)(x))
#define PVIO_LE32(x) ((uint32_t)(x))
#define PVIO_LE64(x) ((uint64_t)(x))
#endif

static inline uint16_t pvio_read16(const void *p)
{
	return PVIO_LE16(__atomic_load_n((const uint16_t *)p, __ATOMIC_RELAXED));
}
static inline uint32_t pvio_read32(const void *p)
{
	return PVIO_LE32(__atomic_load_n((const uint32_t *)p, __ATOMIC_RELAXED));
}
static inline uint64_t pvio_read64(const void *p)
{
	return PVIO_LE64(__atomic_load_n((const uint64_t *)p, __ATOMIC_RELAXED));
}
static inline void pvio_write16(void *p, uint16_t v)
{
	__atomic_store_n((uint16_t *)p, PVIO_LE16(v), __ATOMIC_RELAXED);
}
static inline void pvio_write32(void *p, uint32_t v)
{
	__atomic_store_n((uint32_t *)p, PVIO_LE32(v), __ATOMIC_RELAXED);
}
static inline void pvio_write64(void *p, uint64_t v)
{
	__atomic_store_n((uint64_t *)p, PVIO_LE64(v), __ATOMIC_RELAXED);
}

/* Barriers for memory shared with a cache-coherent host (software back
 * ends, hypervisors).  mb orders stores before later loads; wmb orders
 * stores; rmb orders loads.  Device MMIO and non-coherent DMA use the
 * platform hooks instead (pvio_dma_mb & co.). */
static inline void pvio_mb(void) { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
static inline void pvio_wmb(void) { __atomic_thread_fence(__ATOMIC_RELEASE); }
static inline void pvio_rmb(void) { __atomic_thread_fence(__ATOMIC_ACQUIRE); }
void pvio_dma_mb(const pvio_ctx *ctx);
void pvio_dma_wmb(const pvio_ctx *ctx);
void pvio_dma_rmb(const pvio_ctx *ctx);

/* ------------------------------------------------------------------ */
/* Devices                                                             */
/* ------------------------------------------------------------------ */

/* A contiguous piece of a request's data: in the DMA pool, translated. */
struct pvio_dseg {
	void *va;
	uint64_t dev_addr;
	uint32_t len;
};

/* ---- block ---- */

struct pvio_blk_limits {
	uint64_t capacity;         /* bytes */
	uint32_t block_size;       /* logical block size (>= 512, power of 2) */
	uint32_t physical_block_size;
	uint32_t max_transfer;     /* bytes per device request (> 0) */
	uint32_t max_segments;     /* segments per device request (> 0) */
	uint32_t max_segment_size; /* bytes per segment (> 0) */
	/* Each segment's address and length must be a multiple of dma_align
	 * (Xen: 512, because blkif addresses sectors inside pages). */
	uint32_t dma_align;
	/* A segment must not cross a multiple of seg_boundary (0: no rule;
	 * Xen: 4096, one granted page per segment). */
	uint32_t seg_boundary;
	/* Segments other than the first must start, and segments other than
	 * the last must end, on a multiple of virt_boundary (0: no rule;
	 * StorVSC: 4096, one GPA range per request). */
	uint32_t virt_boundary;
	uint64_t max_discard;      /* bytes per discard request, 0: none */
	uint64_t max_write_zeroes; /* bytes per write-zeroes request, 0: none */
	uint32_t discard_granularity;
	uint32_t max_queues;
	uint32_t queue_size;       /* device requests in flight per queue */
	bool read_only;
	bool flush;
	bool discard;
	bool write_zeroes;
	bool fua;                  /* the protocol has forced-unit-access writes */
};

enum pvio_blk_op {
	PVIO_BLK_OP_READ = 0,
	PVIO_BLK_OP_WRITE = 1,
	PVIO_BLK_OP_FLUSH = 2,
	PVIO_BLK_OP_DISCARD = 3,
	PVIO_BLK_OP_WRITE_ZEROES = 4,
};

/* One device request, built by the front end within the limits above. */
struct pvio_blk_dreq {
	uint32_t tag;       /* < pvio_dev_config.max_tags; echoed back */
	uint8_t op;         /* enum pvio_blk_op */
	uint8_t fua;        /* write: forced unit access (only if limits.fua) */
	uint16_t nseg;      /* read/write: 1..max_segments; others 0 */
	uint64_t offset;    /* bytes, multiple of block_size (flush: 0) */
	uint64_t len;       /* bytes; read/write: sum of segment lengths */
	const struct pvio_dseg *seg; /* not referenced after enqueue returns */
};

struct pvio_blk_dcomp {
	uint32_t tag;
	int32_t status;     /* 0 or -errno (-EIO, -EOPNOTSUPP, -EROFS, ...) */
};

struct pvio_blk_ops {
	/* Place one request in queue q's ring (not yet visible to the host).
	 * 0; -EAGAIN when the ring has no room (the front end retries after
	 * reaping); -EIO when the device is broken; -EINVAL for a request
	 * outside the limits (a front-end bug). */
	int (*enqueue)(pvio_dev *dev, unsigned q, const struct pvio_blk_dreq *r);
	/* Publish what was enqueued and notify the host if it wants to be. */
	int (*kick)(pvio_dev *dev, unsigned q);
	/* Collect up to max completions; returns the count or -EIO. */
	int (*reap)(pvio_dev *dev, unsigned q, struct pvio_blk_dcomp *out,
		    unsigned max);
};

/* ---- network ---- */

struct pvio_net_limits {
	uint8_t mac[6];
	bool link_up;
	uint32_t mtu;             /* L3 MTU (1500 when the device says nothing) */
	uint32_t max_queues;
	uint32_t queue_size;      /* ring slots per direction */
	uint32_t max_tx_frame;    /* bytes, including TSO frames */
	uint32_t max_tx_segments; /* segments per transmitted frame */
	uint32_t tx_seg_boundary; /* a TX segment must not cross this (0: no) */
	/* Receive buffers must be rx_buf_align-aligned and hold at least
	 * rx_buf_min bytes; rx_buf_exact (if non-zero) is the only size the
	 * device takes (Xen: one whole page). */
	uint32_t rx_buf_align;
	uint32_t rx_buf_min;
	uint32_t rx_buf_exact;
};

/* A frame to transmit. */
struct pvio_net_txd {
	uint32_t tag;
	uint16_t nseg;
	uint16_t reserved;
	uint32_t len;          /* total bytes */
	uint32_t flags;        /* PVIO_PKT_* (offloads granted only) */
	uint16_t csum_start, csum_offset, gso_size, hdr_len;
	const struct pvio_dseg *seg;
};

/* A buffer to receive into. */
struct pvio_net_rxb {
	uint32_t tag;
	struct pvio_dseg seg;
};

/* A received frame: it lies in the buffer posted with tag, at offset. */
struct pvio_net_rxc {
	uint32_t tag;
	uint32_t offset;       /* from the buffer's start */
	uint32_t len;          /* 0 with status < 0 */
	uint32_t flags;        /* PVIO_PKT_CSUM_* */
	uint16_t csum_start, csum_offset;
	int32_t status;        /* 0, or -errno: buffer returned without a frame
				  (bad frame from the host; count it) */
};

enum {
	PVIO_NET_KICK_TX = 1,
	PVIO_NET_KICK_RX = 2,
};

struct pvio_net_ops {
	int (*tx_enqueue)(pvio_dev *dev, unsigned q, const struct pvio_net_txd *t);
	/* Tags of transmissions the host finished with (successfully or not). */
	int (*tx_reap)(pvio_dev *dev, unsigned q, uint32_t *tags, unsigned max);
	int (*rx_post)(pvio_dev *dev, unsigned q, const struct pvio_net_rxb *b);
	int (*rx_reap)(pvio_dev *dev, unsigned q, struct pvio_net_rxc *out,
		       unsigned max);
	/* which: PVIO_NET_KICK_* */
	int (*kick)(pvio_dev *dev, unsigned q, unsigned which);
	/* -EOPNOTSUPP when the protocol cannot change the MAC */
	int (*set_mac)(pvio_dev *dev, const uint8_t mac[6]);
};

/* ---- configuration ---- */

struct pvio_dev_config {
	uint32_t num_queues;  /* 1..limits max_queues */
	uint32_t max_tags;    /* tags per queue are < max_tags */
	uint64_t want;        /* optional PVIO_F_* the front end will use
				 (network offloads); the back end grants a
				 subset and reports it in info.features */
	const uint8_t *mac;   /* network: MAC to program if the protocol can
				 (NULL: keep the device's) */
};

struct pvio_dev_ops {
	/* Set up queues and start the device (virtio: FEATURES_OK, rings,
	 * DRIVER_OK; Xen: grant rings, handshake to Connected; VMBus: open
	 * channels, buffers, RNDIS/VSTOR init).  Fills info.features,
	 * info.num_queues, info.queue_size.  Bounded by the context timeout. */
	int (*configure)(pvio_dev *dev, const struct pvio_dev_config *cfg);
	/* Stop the host from touching the device's memory: after it returns
	 * no further completion will arrive except those reap still returns
	 * from the rings, and requests not reported complete are abandoned.
	 * Bounded; used before migration and close. */
	int (*quiesce)(pvio_dev *dev);
	/* Free everything (quiescing first if needed).  Grants, GPADLs,
	 * channels are revoked; memory the host may still map is leaked, never
	 * reused. */
	void (*close)(pvio_dev *dev);
	/* Non-blocking control-path work: xenstore watches, VMBus channel
	 * messages, configuration changes.  Pushes events. */
	int (*service)(pvio_dev *dev);
	/* Hosted: fd readable when service() has work; -EOPNOTSUPP if none. */
	int (*event_fd)(pvio_dev *dev);
	/* (queue_fd may return the same fd for several queues when the host
	 * has one notification path per device, as uio_hv_generic does; then
	 * queue_ack on one queue consumes the wake-up for all, and front ends
	 * must poll every queue sharing it after waking.) */
	/* Queue waiting.  queue_fd: hosted fd readable when the host notified
	 * queue q (-EOPNOTSUPP: poll).  queue_arm: ask for notifications;
	 * returns 1 if work is already pending (do not sleep), 0 if armed.
	 * queue_ack: consume a notification after waking (read the eventfd).
	 * queue_disarm: stop notifications (busy polling). */
	int (*queue_fd)(pvio_dev *dev, unsigned q);
	int (*queue_arm)(pvio_dev *dev, unsigned q);
	void (*queue_ack)(pvio_dev *dev, unsigned q);
	void (*queue_disarm)(pvio_dev *dev, unsigned q);

	const struct pvio_blk_ops *blk;   /* for PVIO_CLASS_BLK */
	const struct pvio_net_ops *net;   /* for PVIO_CLASS_NET */
};

/*
 * The device object.  Allocated by pvio_dev_alloc(); fields above "core
 * private" are the back end's to fill in open() and configure().
 */
struct pvio_dev {
	const struct pvio_dev_ops *ops;
	pvio_ctx *ctx;
	void *priv;                  /* back end's */
	struct pvio_dev_info info;   /* back end fills; core owns the strings
					set by pvio_dev_set_strings() */
	union {
		struct pvio_blk_limits blk;
		struct pvio_net_limits net;
	} limits;
	/* per-queue counters, info.num_queues of them (allocated by
	 * pvio_dev_configure before ops->configure runs) */
	struct pvio_queue_stats *stats;

	/* ---- core private ---- */
	/* state may change on a data-path thread (a queue finds the host
	 * misbehaving) while the control thread reads it: it is accessed
	 * atomically, and the first thread to claim the change writes reason
	 * before publishing state. */
	enum pvio_dev_state state;
	int state_claimed;
	int state_event;   /* event owed for the change, queued by the
			      control path (pvio_dev_next_event) */
	char reason[200];
	char *address;
	char *backend_name;
	char *protocol;
	struct pvio_event events[32];
	unsigned ev_head, ev_tail;
	uint32_t ev_lost;
	uint32_t stats_n;
};

/* Allocate a device with priv_size bytes of zeroed back-end state. */
pvio_dev *pvio_dev_alloc(pvio_ctx *ctx, const struct pvio_dev_ops *ops,
			 size_t priv_size);
/* Free what pvio_dev_alloc allocated (back ends call it last in close). */
void pvio_dev_free(pvio_dev *dev);
/* Set info.backend and info.protocol (copied). */
int pvio_dev_set_strings(pvio_dev *dev, const char *backend,
			 const char *protocol);

/* Mark the device broken/removed (first reason wins), queue an event, log
 * once.  Returns -EIO / -ENODEV for convenient "return pvio_dev_set_...". */
int pvio_dev_set_broken(pvio_dev *dev, const char *fmt, ...) PVIO_PRINTF(2, 3);
int pvio_dev_set_removed(pvio_dev *dev, const char *fmt, ...) PVIO_PRINTF(2, 3);
void pvio_dev_set_stopped(pvio_dev *dev);
static inline bool pvio_dev_usable(const pvio_dev *dev)
{
	return __atomic_load_n(&dev->state, __ATOMIC_ACQUIRE) == PVIO_DEV_READY;
}
/* Queue an event for pvio_dev_next_event().  Control path only (open,
 * configure, service); data-path code reports trouble through
 * pvio_dev_set_broken/removed, which any thread may call. */
void pvio_dev_push_event(pvio_dev *dev, enum pvio_event_type type,
			 uint32_t value);

/* Front ends call these rather than the ops directly. */
int pvio_dev_configure(pvio_dev *dev, const struct pvio_dev_config *cfg);
/*
 * Wait until queue q may have completions, the device's control path has
 * work, or deadline_ns (absolute, pvio_now_ns clock; UINT64_MAX: none)
 * passes.  Returns 1 (may have work), 0 (deadline), -errno.  Services the
 * control path when it woke for it.  Without file descriptors (freestanding)
 * it calls the platform's wait hook, or returns 1 at once (busy polling).
 */
int pvio_dev_wait(pvio_dev *dev, unsigned q, uint64_t deadline_ns);

/*
 * Hosted: a set of descriptors that is itself a pollable descriptor
 * (epoll), so a front end can give applications one stable fd per queue
 * while the device underneath changes.  -EOPNOTSUPP when not hosted.
 */
int pvio_fdset_new(pvio_ctx *ctx);
int pvio_fdset_add(pvio_ctx *ctx, int set, int fd);
int pvio_fdset_del(pvio_ctx *ctx, int set, int fd);
void pvio_fdset_free(pvio_ctx *ctx, int set);

/* ------------------------------------------------------------------ */
/* Back-end registration                                               */
/* ------------------------------------------------------------------ */

struct pvio_backend {
	const char *scheme;       /* address prefix before ':' */
	enum pvio_family family;
	const char *summary;      /* one line for pvio --help */
	/* address: the whole string; rest: after "scheme:".  Opens and
	 * identifies the device, negotiates what can be negotiated before
	 * queues exist, fills dev->info and dev->limits.  Does not start it. */
	int (*open)(pvio_ctx *ctx, const char *address, const char *rest,
		    pvio_dev **out);
};

/* The back ends compiled in (core/registry.c), NULL-terminated. */
extern const struct pvio_backend *const pvio_backends[];

/* ---- small parsing helpers shared by back ends ---- */

/* Strict decimal/hex (0x) unsigned parse of a whole string within
 * [0, max]: 0 or -EINVAL/-ERANGE.  For host-provided values. */
int pvio_parse_u64(const char *s, uint64_t max, uint64_t *out);
/* Find "key=value" in an option string "a=1&b=2" (after '?'); copies value
 * into buf.  1 found, 0 absent, -ENAMETOOLONG. */
int pvio_opt_get(const char *opts, const char *key, char *buf, size_t size);

#ifdef __cplusplus
}
#endif
#endif /* PVIO_TRANSPORT_H */
