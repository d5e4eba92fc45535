/* SPDX-License-Identifier: MIT */
/*
 * sim/virtio/svirtio.h - pvio's simulated virtio host: a vhost-user back end
 * (the device side) with a block and a network model.
 *
 * Everything this host knows about virtio and vhost-user is written down in
 * this folder, on its own: the wire structures below are checked against
 * the Linux uapi headers by tests/unit/test_simvirtio_layout.c, never
 * taken from include/pvio or backends/ (the guest side).
 *
 * Shape of the program: one process, one sim_loop, any number of devices.
 * Each device listens on its own unix socket and serves one front end at a
 * time (a new one after the previous one closed).  Virtqueues are processed
 * in the loop when their kick eventfd fires; completions go through a small
 * per-queue FIFO so they can be delayed, held back (hang), reversed
 * (out-of-order) or corrupted on request of the management socket.
 */
#ifndef PVIO_SIM_VIRTIO_H
#define PVIO_SIM_VIRTIO_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "common/sim.h"

/* ------------------------------------------------------------------ wire */
/* Virtio ring layouts (split and packed).  Little-endian for VERSION_1
 * devices; the simulated host runs on a little-endian machine and converts
 * with le*toh anyway. */
#define SVIRTIO_DESC_F_NEXT 1u
#define SVIRTIO_DESC_F_WRITE 2u
#define SVIRTIO_DESC_F_INDIRECT 4u
#define SVIRTIO_PDESC_F_AVAIL (1u << 7)
#define SVIRTIO_PDESC_F_USED (1u << 15)
#define SVIRTIO_AVAIL_F_NO_INTERRUPT 1u
#define SVIRTIO_USED_F_NO_NOTIFY 1u
#define SVIRTIO_EVENT_F_ENABLE 0u
#define SVIRTIO_EVENT_F_DISABLE 1u
#define SVIRTIO_EVENT_F_DESC 2u

struct svirtio_desc {            /* split descriptor, 16 bytes */
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct svirtio_pdesc {           /* packed descriptor, 16 bytes */
	uint64_t addr;
	uint32_t len;
	uint16_t id;
	uint16_t flags;
};

struct svirtio_used_elem {
	uint32_t id;
	uint32_t len;
};

struct svirtio_event {           /* packed ring event suppression */
	uint16_t off_wrap;
	uint16_t flags;
};

/* offsets inside the split rings (Q = queue size) */
#define SVIRTIO_AVAIL_FLAGS 0u
#define SVIRTIO_AVAIL_IDX 2u
#define SVIRTIO_AVAIL_RING 4u
#define SVIRTIO_AVAIL_SIZE(q) (6u + 2u * (q))     /* incl. used_event */
#define SVIRTIO_USED_FLAGS 0u
#define SVIRTIO_USED_IDX 2u
#define SVIRTIO_USED_RING 4u
#define SVIRTIO_USED_SIZE(q) (6u + 8u * (q))      /* incl. avail_event */

/* Feature bits: transport / ring */
#define SVIRTIO_F_NOTIFY_ON_EMPTY 24
#define SVIRTIO_F_ANY_LAYOUT 27
#define SVIRTIO_F_INDIRECT_DESC 28
#define SVIRTIO_F_EVENT_IDX 29
#define SVIRTIO_F_PROTOCOL_FEATURES 30  /* vhost-user's use of bit 30 */
#define SVIRTIO_F_VERSION_1 32
#define SVIRTIO_F_ACCESS_PLATFORM 33
#define SVIRTIO_F_RING_PACKED 34
#define SVIRTIO_F_IN_ORDER 35

/* Device status */
#define SVIRTIO_S_ACKNOWLEDGE 1u
#define SVIRTIO_S_DRIVER 2u
#define SVIRTIO_S_DRIVER_OK 4u
#define SVIRTIO_S_FEATURES_OK 8u
#define SVIRTIO_S_NEEDS_RESET 64u
#define SVIRTIO_S_FAILED 128u

/* virtio-blk */
#define SVIRTIO_ID_NET 1
#define SVIRTIO_ID_BLK 2
#define SVIRTIO_BLK_F_SIZE_MAX 1
#define SVIRTIO_BLK_F_SEG_MAX 2
#define SVIRTIO_BLK_F_GEOMETRY 4
#define SVIRTIO_BLK_F_RO 5
#define SVIRTIO_BLK_F_BLK_SIZE 6
#define SVIRTIO_BLK_F_FLUSH 9
#define SVIRTIO_BLK_F_TOPOLOGY 10
#define SVIRTIO_BLK_F_CONFIG_WCE 11
#define SVIRTIO_BLK_F_MQ 12
#define SVIRTIO_BLK_F_DISCARD 13
#define SVIRTIO_BLK_F_WRITE_ZEROES 14

#define SVIRTIO_BLK_T_IN 0u
#define SVIRTIO_BLK_T_OUT 1u
#define SVIRTIO_BLK_T_FLUSH 4u
#define SVIRTIO_BLK_T_GET_ID 8u
#define SVIRTIO_BLK_T_DISCARD 11u
#define SVIRTIO_BLK_T_WRITE_ZEROES 13u
#define SVIRTIO_BLK_S_OK 0u
#define SVIRTIO_BLK_S_IOERR 1u
#define SVIRTIO_BLK_S_UNSUPP 2u
#define SVIRTIO_BLK_ID_BYTES 20u
#define SVIRTIO_BLK_WZ_F_UNMAP 1u

struct svirtio_blk_outhdr {
	uint32_t type;
	uint32_t ioprio;
	uint64_t sector;
};

struct svirtio_blk_seg {         /* DISCARD / WRITE_ZEROES payload */
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags;
};

struct svirtio_blk_config {
	uint64_t capacity;
	uint32_t size_max;
	uint32_t seg_max;
	uint16_t cylinders;
	uint8_t heads;
	uint8_t sectors;
	uint32_t blk_size;
	uint8_t physical_block_exp;
	uint8_t alignment_offset;
	uint16_t min_io_size;
	uint32_t opt_io_size;
	uint8_t wce;
	uint8_t unused0;
	uint16_t num_queues;
	uint32_t max_discard_sectors;
	uint32_t max_discard_seg;
	uint32_t discard_sector_alignment;
	uint32_t max_write_zeroes_sectors;
	uint32_t max_write_zeroes_seg;
	uint8_t write_zeroes_may_unmap;
	uint8_t unused1[3];
	uint32_t max_secure_erase_sectors;
	uint32_t max_secure_erase_seg;
	uint32_t secure_erase_sector_alignment;
} __attribute__((packed));

/* virtio-net */
#define SVIRTIO_NET_F_CSUM 0
#define SVIRTIO_NET_F_GUEST_CSUM 1
#define SVIRTIO_NET_F_MTU 3
#define SVIRTIO_NET_F_MAC 5
#define SVIRTIO_NET_F_MRG_RXBUF 15
#define SVIRTIO_NET_F_STATUS 16
#define SVIRTIO_NET_F_CTRL_VQ 17
#define SVIRTIO_NET_F_MQ 22

#define SVIRTIO_NET_S_LINK_UP 1u
#define SVIRTIO_NET_HDR_F_NEEDS_CSUM 1u
#define SVIRTIO_NET_HDR_F_DATA_VALID 2u
#define SVIRTIO_NET_HDR_GSO_NONE 0u

#define SVIRTIO_NET_CTRL_MQ 4u
#define SVIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET 0u
#define SVIRTIO_NET_OK 0u
#define SVIRTIO_NET_ERR 1u

struct svirtio_net_config {
	uint8_t mac[6];
	uint16_t status;
	uint16_t max_virtqueue_pairs;
	uint16_t mtu;
	uint32_t speed;
	uint8_t duplex;
	uint8_t rss_max_key_size;
	uint16_t rss_max_indirection_table_length;
	uint32_t supported_hash_types;
} __attribute__((packed));

struct svirtio_net_hdr {         /* virtio_net_hdr_v1 / _mrg_rxbuf */
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
};

/* vhost-user */
#define SVU_VERSION 1u
#define SVU_FLAG_VERSION_MASK 3u
#define SVU_FLAG_REPLY (1u << 2)
#define SVU_FLAG_NEED_REPLY (1u << 3)
#define SVU_MAX_FDS 8
#define SVU_MAX_CONFIG 256u
#define SVU_MEM_REGIONS 8u                  /* per SET_MEM_TABLE */
#define SVU_VRING_IDX_MASK 0xffu
#define SVU_VRING_NOFD (1u << 8)
#define SVU_VRING_F_LOG 1u

enum svu_request {
	SVU_GET_FEATURES = 1,
	SVU_SET_FEATURES = 2,
	SVU_SET_OWNER = 3,
	SVU_RESET_OWNER = 4,
	SVU_SET_MEM_TABLE = 5,
	SVU_SET_LOG_BASE = 6,
	SVU_SET_LOG_FD = 7,
	SVU_SET_VRING_NUM = 8,
	SVU_SET_VRING_ADDR = 9,
	SVU_SET_VRING_BASE = 10,
	SVU_GET_VRING_BASE = 11,
	SVU_SET_VRING_KICK = 12,
	SVU_SET_VRING_CALL = 13,
	SVU_SET_VRING_ERR = 14,
	SVU_GET_PROTOCOL_FEATURES = 15,
	SVU_SET_PROTOCOL_FEATURES = 16,
	SVU_GET_QUEUE_NUM = 17,
	SVU_SET_VRING_ENABLE = 18,
	SVU_SEND_RARP = 19,
	SVU_NET_SET_MTU = 20,
	SVU_SET_BACKEND_REQ_FD = 21,
	SVU_IOTLB_MSG = 22,
	SVU_SET_VRING_ENDIAN = 23,
	SVU_GET_CONFIG = 24,
	SVU_SET_CONFIG = 25,
	SVU_GET_INFLIGHT_FD = 31,
	SVU_SET_INFLIGHT_FD = 32,
	SVU_RESET_DEVICE = 34,
	SVU_VRING_KICK = 35,
	SVU_GET_MAX_MEM_SLOTS = 36,
	SVU_ADD_MEM_REG = 37,
	SVU_REM_MEM_REG = 38,
	SVU_SET_STATUS = 39,
	SVU_GET_STATUS = 40,
};
#define SVU_BACKEND_CONFIG_CHANGE_MSG 2u

/* protocol feature bits */
#define SVU_PF_MQ 0
#define SVU_PF_LOG_SHMFD 1
#define SVU_PF_REPLY_ACK 3
#define SVU_PF_BACKEND_REQ 5
#define SVU_PF_CONFIG 9
#define SVU_PF_CONFIGURE_MEM_SLOTS 15
#define SVU_PF_STATUS 16

struct svu_hdr {
	uint32_t request;
	uint32_t flags;
	uint32_t size;
};

struct svu_state {
	uint32_t index;
	uint32_t num;
};

struct svu_addr {
	uint32_t index;
	uint32_t flags;
	uint64_t desc;
	uint64_t used;
	uint64_t avail;
	uint64_t log;
};

struct svu_region {
	uint64_t gpa;
	uint64_t size;
	uint64_t uva;
	uint64_t mmap_offset;
};

struct svu_mem {
	uint32_t nregions;
	uint32_t padding;
	struct svu_region r[SVU_MEM_REGIONS];
};

struct svu_mem_single {
	uint64_t padding;
	struct svu_region r;
};

struct svu_config {
	uint32_t offset;
	uint32_t size;
	uint32_t flags;
	uint8_t data[SVU_MAX_CONFIG];
};

/* A received message: header and payload are read separately, so the
 * padding between them here never meets the wire. */
struct svu_msg {
	struct svu_hdr hdr;
	union {
		uint64_t u64;
		struct svu_state state;
		struct svu_addr addr;
		struct svu_mem mem;
		struct svu_mem_single single;
		struct svu_config config;
		uint8_t raw[4096];
	} u;
};
#define SVU_MAX_PAYLOAD 4096u

/* ---------------------------------------------------------------- limits */
#define SVIRTIO_MAX_QSIZE 32768u
#define SVIRTIO_MAX_VQS 129u            /* 64 net pairs + control queue */
#define SVIRTIO_MAX_SEGS 1024u          /* host segments per buffer */
#define SVIRTIO_MAX_MEM_SLOTS 32u
#define SVIRTIO_MAX_FRAME (65535u + 18u)
#define SVIRTIO_MAX_RXBUFS 256u         /* buffers per merged RX frame */
#define SVIRTIO_MAX_ROUNDS 16u          /* batches per wake-up */

/* ----------------------------------------------------------- guest memory */
struct svirtio_region {
	uint64_t gpa, size, uva;
	uint8_t *hva;      /* first byte of the region in this process */
	void *map;         /* the mapping (page aligned) */
	size_t map_len;
};

struct svirtio_mem {
	struct svirtio_region r[SVIRTIO_MAX_MEM_SLOTS];
	unsigned n;
};

/* A buffer as the device sees it: readable segments then writable ones. */
struct svirtio_seg {
	uint8_t *p;
	uint32_t len;
};

struct svirtio_elem {
	uint16_t id;        /* split: head index; packed: buffer id */
	uint16_t ndesc;     /* packed: ring slots the chain occupied */
	uint32_t out_len;   /* bytes the device may read */
	uint32_t in_len;    /* bytes the device may write */
	unsigned nout, nin; /* segments: seg[0..nout) readable, then nin */
	unsigned ndescs;    /* descriptors in the chain (direct+indirect) */
	uint32_t max_desc_len; /* longest descriptor */
	struct svirtio_seg seg[SVIRTIO_MAX_SEGS];
};

/* A completion waiting to be written to the used ring. */
struct svirtio_done {
	uint64_t due;       /* sim_now_ns() time, 0 = now */
	uint32_t len;
	uint16_t id;
	uint16_t ndesc;
	uint16_t group;     /* see svirtio_complete() */
	uint8_t wrote;
};

struct svirtio_dev;

struct svirtio_vq_stats {
	uint64_t kicks;           /* kick eventfd wake-ups */
	uint64_t bufs;            /* buffers consumed */
	uint64_t used;            /* used entries written */
	uint64_t calls;           /* call eventfd signals */
	uint64_t calls_suppressed;/* used batches the driver asked not to hear of */
	uint64_t kick_enables;    /* times notifications were re-enabled */
	uint64_t delayed;         /* completions held by the delay fault */
	uint64_t reordered;       /* batches completed in reverse order */
	uint64_t corrupted;       /* completions corrupted on request */
	uint64_t bytes;           /* payload bytes moved */
	uint64_t drops;           /* net: frames dropped */
	uint64_t errors;          /* requests failed (IOERR/UNSUPP) */
};

struct svirtio_vq {
	struct svirtio_dev *dev;
	unsigned index;
	uint32_t num;             /* queue size, 0 = not set */
	bool addr_set;
	uint64_t desc_uva, avail_uva, used_uva;

	/* negotiated shape, fixed while started */
	bool packed, event_idx, indirect, in_order;

	/* translated rings (valid while started) */
	struct svirtio_desc *desc;
	uint8_t *avail;
	uint8_t *used;
	struct svirtio_pdesc *pdesc;
	struct svirtio_event *drv_evt;   /* driver area: written by the driver */
	struct svirtio_event *dev_evt;   /* device area: written by us */

	int kick_fd, call_fd, err_fd;
	bool started, enabled, broken, blocked, kicks_on;

	uint16_t last_avail;      /* split: free running; packed: slot */
	bool avail_wrap;
	uint16_t used_idx;        /* split: free running shadow; packed: slot */
	bool used_wrap;
	uint16_t signalled_used;
	bool signalled_valid;
	uint16_t base;            /* from SET_VRING_BASE (split) */
	uint32_t pbase;           /* from SET_VRING_BASE (packed encoding) */
	bool base_set;
	unsigned unpublished;     /* split: used entries not yet in used->idx */

	uint64_t *inflight;       /* bitmap of outstanding heads / ids */
	struct svirtio_done *pend;/* FIFO of completions, num entries */
	unsigned pend_head, pend_count;
	uint64_t timer;           /* delay timer id, 0 = none */
	uint64_t cont_timer;      /* continue processing later, 0 = none */
	bool dirty;               /* net RX: completions to publish */

	struct svirtio_vq_stats st;
};

/* ---------------------------------------------------------------- device */
enum svirtio_kind { SVIRTIO_BLK, SVIRTIO_NET };

/* Complaints about what a front end does are rate limited per cause (the
 * format string of the message): a few lines a second each. */
#define SVIRTIO_RL_SLOTS 32
struct svirtio_ratelimit {
	const void *key;
	uint64_t window;
	unsigned printed;
	unsigned suppressed;
};

enum svirtio_corrupt { SVIRTIO_CORRUPT_NONE, SVIRTIO_CORRUPT_ID,
		       SVIRTIO_CORRUPT_LEN, SVIRTIO_CORRUPT_DUP };

struct svirtio_faults {
	unsigned delay_ms;       /* delay every completion */
	bool hang;               /* hold completions until hang off */
	bool ooo;                /* reverse each batch of completions */
	unsigned ioerr;          /* blk: fail the next N requests (UINT_MAX: all) */
	enum svirtio_corrupt corrupt;
	unsigned corrupt_count;  /* completions left to corrupt */
	uint16_t last_id;        /* for CORRUPT_DUP */
	bool have_last_id;
};

struct svirtio_common_opts {
	unsigned queues;         /* blk: queues, net: queue pairs */
	bool packed, event_idx, indirect, in_order;
	unsigned batch;
};

struct svirtio_blk {
	char image[256];
	int fd;
	bool ro;
	uint64_t sectors;
	uint32_t seg_max, size_max, blk_size;
	uint32_t max_discard_sectors, max_discard_seg;
	uint32_t max_wz_sectors, max_wz_seg;
	char serial[SVIRTIO_BLK_ID_BYTES + 1];
	struct iovec iov[SVIRTIO_MAX_SEGS];
};

struct svirtio_group;

struct svirtio_net {
	struct svirtio_group *group;   /* NULL: reflect */
	struct svirtio_dev *next_in_group;
	uint8_t mac[6];
	uint16_t mtu;
	bool link_up;
	bool mrg_rxbuf, csum, ctrl_vq, rxfull_drop;
	uint16_t curr_pairs;           /* from VQ_PAIRS_SET (ctrl vq) */
	uint8_t *frame;                /* one frame being switched */
	struct svirtio_elem *rxe;      /* scratch: first and further RX buffers */
	uint64_t rx_frames, tx_frames, rx_bytes, tx_bytes;
	uint64_t tx_csum;              /* frames sent with NEEDS_CSUM */
	uint64_t drop_link, drop_norx, drop_bad, drop_full;
};

struct svirtio_host;

struct svirtio_dev {
	struct svirtio_host *host;
	enum svirtio_kind kind;
	char name[32];
	char path[108];
	dev_t sock_dev;
	ino_t sock_ino;
	int listen_fd;
	int sock;                 /* front-end connection, -1 when none */
	int backend_fd;           /* back-end request channel, -1 */
	unsigned conn_count;

	struct svirtio_common_opts o;
	uint64_t features;        /* offered */
	uint64_t acked;
	bool acked_set;
	uint64_t pfeatures;       /* protocol features offered */
	uint64_t pf_acked;        /* protocol features acked */
	uint8_t status;
	bool owner;
	unsigned nvqs;            /* addressable vrings */

	struct svirtio_mem mem;
	struct svirtio_vq vq[SVIRTIO_MAX_VQS];
	struct svirtio_faults f;
	struct svirtio_ratelimit rl[SVIRTIO_RL_SLOTS];
	struct svirtio_elem *elem;  /* scratch buffer for one request */
	char broken_reason[200];

	union {
		struct svirtio_blk blk;
		struct svirtio_net net;
	} u;
};

struct svirtio_group {
	char name[32];
	struct svirtio_dev *first;
	struct svirtio_group *next;
};

struct svirtio_ctl_conn;

struct svirtio_host {
	struct sim_loop *loop;
	struct svirtio_dev *dev[64];
	unsigned ndev;
	struct svirtio_group *groups;
	char ctl_path[108];
	int ctl_fd;
	dev_t ctl_dev;
	ino_t ctl_ino;
	struct svirtio_ctl_conn *ctl_conns;
	bool quit;
};

/* ------------------------------------------------------------ functions */
/* mem.c: the front end's memory table */
int svirtio_mem_add(struct svirtio_mem *m, const struct svu_region *r, int fd,
		    char *why, size_t whylen);
int svirtio_mem_remove(struct svirtio_mem *m, const struct svu_region *r);
void svirtio_mem_clear(struct svirtio_mem *m);
/* Host pointer for [uva, uva+len) inside one region, or NULL. */
void *svirtio_mem_uva(const struct svirtio_mem *m, uint64_t uva, uint64_t len);
/* Host pointer for [gpa, gpa+len) inside one region, or NULL. */
void *svirtio_mem_gpa(const struct svirtio_mem *m, uint64_t gpa, uint64_t len);
/* Map [gpa, gpa+len) into up to max segments (a range may cross regions
 * that are contiguous in guest-physical space).  Returns the number of
 * segments, -EFAULT if a byte is outside guest memory, -E2BIG if more than
 * max segments would be needed. */
int svirtio_mem_map(const struct svirtio_mem *m, uint64_t gpa, uint64_t len,
		    struct svirtio_seg *seg, unsigned max);

/* vq.c: the device side of split and packed rings */
/* Start a queue whose size, addresses and kick fd are set; -errno and a
 * reason if the front end's set-up is unusable. */
int svirtio_vq_start(struct svirtio_vq *vq, char *why, size_t whylen);
void svirtio_vq_stop(struct svirtio_vq *vq);
int svirtio_vq_translate(struct svirtio_vq *vq, char *why, size_t whylen);
/* 1: a buffer in *e, 0: ring empty, -1: ring broken (reason logged) */
int svirtio_vq_pop(struct svirtio_vq *vq, struct svirtio_elem *e);
/* Give back the buffer popped last (LIFO), e.g. a frame did not fit. */
void svirtio_vq_unpop(struct svirtio_vq *vq, uint16_t id, uint16_t ndesc);
bool svirtio_vq_has_avail(struct svirtio_vq *vq);
void svirtio_vq_kicks_off(struct svirtio_vq *vq);
/* Re-enable kicks; true if more buffers arrived meanwhile. */
bool svirtio_vq_kicks_on(struct svirtio_vq *vq);
/* The device is done with buffer id: write its used entry (published by
 * svirtio_vq_flush for split rings). */
void svirtio_vq_push(struct svirtio_vq *vq, uint16_t id, uint16_t ndesc,
		     uint32_t len, bool wrote);
/* Write a used entry naming `id` without touching the in-flight marks
 * (fault injection writes ids the driver never gave). */
void svirtio_vq_push_raw(struct svirtio_vq *vq, uint32_t id, uint16_t ndesc,
			 uint32_t len, bool wrote);
/* Publish pushed entries and signal the driver unless it suppressed it. */
void svirtio_vq_flush(struct svirtio_vq *vq);
void svirtio_vq_fail(struct svirtio_vq *vq, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* packed GET_VRING_BASE encoding / split last_avail */
uint32_t svirtio_vq_base(const struct svirtio_vq *vq);
static inline bool svirtio_vq_inflight(const struct svirtio_vq *vq, unsigned id)
{
	return vq->inflight[id / 64] >> (id % 64) & 1;
}

/* dev.c: processing engine, completions and faults */
bool svirtio_vq_ready(const struct svirtio_vq *vq);
void svirtio_process(struct svirtio_vq *vq);
/* Queue a completion of buffer (id, ndesc).  group: 1 for a buffer on its
 * own; the first of n buffers that must reach the used ring together and
 * in order (one merged RX frame) passes n, the others 0. */
void svirtio_complete(struct svirtio_vq *vq, uint16_t id, uint16_t ndesc,
		      uint32_t len, bool wrote, uint16_t group);
/* Write due completions to the used ring and notify. */
void svirtio_complete_ready(struct svirtio_vq *vq);
/* Push everything pending now (hang: discard). */
void svirtio_complete_all(struct svirtio_vq *vq, bool discard);
void svirtio_kick_cb(struct sim_loop *loop, int fd, uint32_t events, void *arg);
void svirtio_complain_key(struct svirtio_dev *d, const void *key,
			  const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
#define svirtio_complain(d, fmt, ...) \
	svirtio_complain_key(d, fmt, fmt, ##__VA_ARGS__)
/* Device became (un)ready: start/stop processing of all queues. */
void svirtio_dev_kick_all(struct svirtio_dev *d);
/* Tell the front end the config space changed (if it can hear it). */
void svirtio_config_changed(struct svirtio_dev *d);
size_t svirtio_iov_copy_from(const struct svirtio_seg *seg, unsigned nseg,
			     size_t off, void *dst, size_t len);
size_t svirtio_iov_copy_to(const struct svirtio_seg *seg, unsigned nseg,
			   size_t off, const void *src, size_t len);

/* vhost.c: the vhost-user server */
int svirtio_dev_listen(struct svirtio_dev *d);
void svirtio_dev_disconnect(struct svirtio_dev *d, const char *why);
void svirtio_dev_close(struct svirtio_dev *d);
void svirtio_dev_reset_rings(struct svirtio_dev *d);

/* blk.c */
int svirtio_blk_init(struct svirtio_dev *d, char *err, size_t errlen);
void svirtio_blk_fini(struct svirtio_dev *d);
unsigned svirtio_blk_handle(struct svirtio_vq *vq, unsigned budget);
size_t svirtio_blk_config(const struct svirtio_dev *d, uint8_t *buf);

/* net.c */
int svirtio_net_init(struct svirtio_dev *d, char *err, size_t errlen);
void svirtio_net_fini(struct svirtio_dev *d);
unsigned svirtio_net_handle(struct svirtio_vq *vq, unsigned budget);
size_t svirtio_net_config(const struct svirtio_dev *d, uint8_t *buf);
void svirtio_net_rx_kicked(struct svirtio_dev *d);
void svirtio_net_set_link(struct svirtio_dev *d, bool up);
unsigned svirtio_net_ctrl_index(const struct svirtio_dev *d);

/* ctl.c: the management socket */
int svirtio_ctl_listen(struct svirtio_host *h, const char *path);
void svirtio_ctl_close(struct svirtio_host *h);
/* Run one text command; writes a reply (NUL-terminated) into out. */
int svirtio_ctl_exec(struct svirtio_host *h, char *cmd, char *out,
		     size_t outlen);

/* options.c: command line */
int svirtio_parse_device(struct svirtio_host *h, enum svirtio_kind kind,
			 const char *arg, char *err, size_t errlen);

static inline bool svirtio_has(uint64_t features, unsigned bit)
{
	return (features >> bit) & 1;
}

#endif /* PVIO_SIM_VIRTIO_H */
