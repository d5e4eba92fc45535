/* SPDX-License-Identifier: MIT */
/*
 * sim/vmbus/shv.h - pvio's simulated Hyper-V host ("shv"): the objects and
 * the internal interfaces between its parts.
 *
 *   host       configured devices, faults, partitions, the event loop
 *   partition  one guest: its memory, VMBus connection, GPADLs, channels
 *   channel    an offer (primary or sub-channel) and, once opened, its rings
 *   device     a StorVSP disk or a NetVSP NIC; the protocol state of the
 *              partition that has it open hangs off the device
 *
 * How a guest reaches the host is a "door" (struct shv_door_ops): the sim
 * hostif socket (hostif.c) is one, the uio door (uio.c) the other.
 * Nothing below the door knows about sockets, eventfds or files: the
 * channel manager takes channel messages and hands back SynIC messages
 * through door->post, rings are guest pages, a guest signal is
 * shv_chan_signalled() and a host interrupt is door->interrupt().
 *
 * The uio door plays the part of the guest kernel's VMBus driver under
 * Linux uio_hv_generic: it creates a partition whose memory is a device
 * file, posts INITIATE_CONTACT, REQUESTOFFERS, GPADL_HEADER/BODY and
 * OPENCHANNEL itself through shv_vmbus_post() and reads the answers from
 * its post hook; a user-space client (DPDK's netvsc, pvio's vmbus-uio)
 * then talks NVSP/RNDIS on the opened ring.  Guest addresses outside the
 * partition's memory are the client's own, resolved by door->page.
 * Offers with `monitored` set make the host poll monitor page 2, the only
 * way user space signals; rx-reserve keeps received frames out of the
 * part of the receive buffer that the single-file uio layout aliases.
 */
#ifndef PVIO_SIM_VMBUS_SHV_H
#define PVIO_SIM_VMBUS_SHV_H

#include <stdbool.h>
#include <stdint.h>

#include "common/sim.h"
#include "vmbus/wire.h"

struct shv_host;
struct shv_part;
struct shv_chan;
struct shv_dev;
struct shv_gpadl;

#define SHV_MAX_DEVS 16
#define SHV_MAX_RELID 256        /* relids 1..255 per partition */
#define SHV_MAX_PARTS 16
#define SHV_MAX_CHANNELS 16      /* per device, primary included */
#define SHV_MAX_GPADLS 1024      /* per partition */
#define SHV_SG_MAX 520           /* pages described by one GPA packet */
#define SHV_OUTQ_BYTES (64u * 1024u)

/* ------------------------------------------------------------ logging */
/* One line per cause, at most a few per second per cause. */
void shv_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* --------------------------------------------------------------- doors */
struct shv_door_ops {
	const char *name;
	/* Deliver one VMBus channel message (a SINT 2 SynIC message). */
	void (*post)(struct shv_part *p, const void *msg, uint32_t len);
	/* Set the channel's event flag: interrupt the guest. */
	void (*interrupt)(struct shv_part *p, struct shv_chan *c);
	/* The channel's offer is gone (rescinded, released, partition
	 * ending): drop whatever the door keeps for it. */
	void (*chan_gone)(struct shv_part *p, struct shv_chan *c);
	/* Host pointer of a guest page outside the partition's SET_MEMORY
	 * ranges (optional, NULL: there is none).  The uio door resolves
	 * the client process's own addresses here. */
	uint8_t *(*page)(struct shv_part *p, uint64_t pfn);
	/* Offers say "monitor allocated" (the guest signals through monitor
	 * page 2, which the host then polls). */
	bool monitored;
};

/* --------------------------------------------------------------- memory */
struct shv_iov {
	uint8_t *p;
	uint32_t len;
};
/* Host view of guest pages described by GPA ranges or a GPADL. */
struct shv_sg {
	unsigned n;
	uint32_t total;
	struct shv_iov v[SHV_SG_MAX];
};
void shv_sg_reset(struct shv_sg *sg);
int shv_sg_add(struct shv_sg *sg, uint8_t *p, uint32_t len);
/* Copy between a flat buffer and [off, off+len) of the pages. */
void shv_sg_read(const struct shv_sg *sg, uint32_t off, void *dst,
		 uint32_t len);
void shv_sg_write(const struct shv_sg *sg, uint32_t off, const void *src,
		  uint32_t len);

/* GPADL: guest pages the host may use by handle. */
enum shv_gpadl_state { SHV_GPADL_ASSEMBLING, SHV_GPADL_FAILED,
		       SHV_GPADL_READY };
struct shv_gpadl {
	struct shv_gpadl *next;
	uint32_t handle;
	uint32_t relid;
	uint32_t byte_count;
	uint32_t byte_offset;
	uint32_t npages;          /* pages of the range */
	uint32_t expected;        /* PFNs announced by range_buflen */
	uint32_t received;        /* PFNs received so far */
	enum shv_gpadl_state state;
	const char *fail_reason;  /* first reason, for the log line */
	unsigned users;           /* rings and device buffers using it */
	bool teardown_pending;    /* torn down while in use */
	uint8_t **page;           /* host pointer of each page */
};
struct shv_gpadl *shv_gpadl_find(struct shv_part *p, uint32_t handle);
/* Copy to/from [off, off+len) of a ready GPADL's byte range (callers
 * bound it by byte_count). */
void shv_gpadl_read(const struct shv_gpadl *g, uint32_t off, void *dst,
		    uint32_t len);
void shv_gpadl_write(const struct shv_gpadl *g, uint32_t off,
		     const void *src, uint32_t len);
void shv_gpadl_get(struct shv_gpadl *g);
void shv_gpadl_put(struct shv_part *p, struct shv_gpadl *g);
/* Channel messages GPADL_HEADER, GPADL_BODY, GPADL_TEARDOWN. */
void shv_gpadl_header(struct shv_part *p, const uint8_t *msg, uint32_t len);
void shv_gpadl_body(struct shv_part *p, const uint8_t *msg, uint32_t len);
void shv_gpadl_teardown(struct shv_part *p, const uint8_t *msg, uint32_t len);
/* Free every GPADL of a relid (channel released) or all (relid 0). */
void shv_gpadl_drop(struct shv_part *p, uint32_t relid, bool all);

/* ---------------------------------------------------------------- rings */
struct shv_ring {
	struct shv_ring_hdr *hdr;
	uint8_t **data;           /* data pages */
	uint32_t size;            /* data bytes */
	uint32_t priv;            /* host's own read (in) / write (out) index */
};
/* In (guest to host): peek at the next packet.  Returns its total size
 * (descriptor..padding, without the trailer) and copies at most cap bytes
 * to buf, 0 if the ring is empty, -EPROTO if the guest's indices or the
 * descriptor are invalid (reason set). */
int shv_ring_peek(struct shv_ring *r, uint8_t *buf, uint32_t cap,
		  const char **reason);
/* Consume the packet just peeked (size bytes + trailer). */
void shv_ring_consume(struct shv_ring *r, uint32_t size);
/* Publish the read index; returns true when the guest, blocked on a full
 * ring (pending_send_sz), must be signalled.  bytes = consumed in batch. */
bool shv_ring_publish_read(struct shv_ring *r, uint32_t bytes);
/* Out (host to guest): write one packet (len multiple of 8) with its
 * trailer.  0 and *signal set when the guest must be interrupted; -ENOSPC
 * when full (pending_send_sz set if the guest supports it); -EPROTO when
 * the guest's read index is invalid. */
int shv_ring_write(struct shv_ring *r, const void *pkt, uint32_t len,
		   bool *signal, bool *suppressed, const char **reason);
void shv_ring_set_imask(struct shv_ring *r, uint32_t v);
bool shv_ring_in_empty(struct shv_ring *r);
void shv_ring_clear_pending(struct shv_ring *r);

/* --------------------------------------------------------------- packets */
/* An inbound packet, copied out of the ring and checked. */
struct shv_pkt {
	uint16_t type;
	uint16_t flags;
	uint64_t trans_id;
	const uint8_t *raw;       /* descriptor onwards */
	uint32_t hdr_len;         /* offset8 * 8 */
	const uint8_t *data;      /* payload */
	uint32_t len;             /* (len8 - offset8) * 8 */
	uint32_t range_cnt;       /* GPA direct: ranges (checked) */
	const uint8_t *ranges;    /* first struct shv_gpa_range */
};
/* Resolve the GPA ranges of a GPA-direct packet into host pages; -EFAULT
 * when a PFN lies outside guest memory, -E2BIG when too many pages. */
int shv_pkt_sg(struct shv_part *p, const struct shv_pkt *pkt,
	       struct shv_sg *sg, const char **reason);

/* ---------------------------------------------------------------- stats */
struct shv_chan_stats {
	uint64_t pkts_in, pkts_out, bytes_in, bytes_out;
	uint64_t signals_in;          /* guest signals received */
	uint64_t signals_unexpected;  /* ...that a real host would not expect */
	uint64_t interrupts;          /* host interrupts sent */
	uint64_t interrupts_suppressed; /* by interrupt_mask */
	uint64_t ring_full;           /* host found the out ring full */
	uint64_t dropped;             /* host packets dropped (ring full) */
	uint64_t bad;                 /* malformed guest packets */
};

/* ------------------------------------------------------------- channels */
enum shv_chan_state { SHV_CH_OFFERED, SHV_CH_OPEN, SHV_CH_RESCINDED };

struct shv_chan {
	struct shv_chan *next;        /* in part->chans */
	struct shv_part *part;
	struct shv_dev *dev;
	struct shv_chan *primary;     /* itself for a primary */
	uint16_t sub_index;
	uint32_t relid;
	uint32_t conn_id;
	uint8_t monitor_id;
	enum shv_chan_state state;
	bool broken;                  /* guest corrupted the ring: stopped */
	uint32_t openid;
	struct shv_gpadl *ring_gpadl;
	struct shv_ring in, out;
	uint8_t *scratch;             /* one inbound packet */
	uint32_t scratch_len;
	uint8_t *outq;                /* packets waiting for ring space */
	uint32_t outq_len;
	uint64_t timer;               /* delayed service or retry */
	uint64_t read_since_signal;   /* packets read since the last signal
					 was accounted */
	bool servicing;
	bool need_intr;               /* output written that wants a signal */
	void *door_priv;
	void *proto;                  /* device engine, per channel */
	struct shv_chan_stats st;
};

/* Send one packet host to guest.  Returns 0 (written or queued), -ENOSPC
 * when dropped (droppable and no room), -EPIPE when the channel is not
 * open.  Interrupts are batched by the caller's service pass. */
#define SHV_SEND_DROPPABLE 1u
int shv_chan_send(struct shv_chan *c, uint16_t type, uint16_t flags,
		  uint64_t trans_id, const void *hdr, uint32_t hdr_len,
		  const void *data, uint32_t len, unsigned how);
/* Convenience: a COMP packet for trans_id with payload. */
int shv_chan_complete(struct shv_chan *c, uint64_t trans_id,
		      const void *data, uint32_t len);
/* The guest signalled the channel n times since the last call. */
void shv_chan_signalled(struct shv_chan *c, uint64_t n);
/* Process the channel soon (now, or after the slow-host delay). */
void shv_chan_kick(struct shv_chan *c);
/* Channel opened / closing: buffers and timers. */
int shv_chan_start(struct shv_chan *c);
void shv_chan_stop(struct shv_chan *c);
/* Process now (flush queued output, read packets, signal). */
void shv_chan_service(struct shv_chan *c);
/* Interrupt the guest now if output written since the last one asks. */
void shv_chan_flush_intr(struct shv_chan *c);
void shv_chan_break(struct shv_chan *c, const char *why);
bool shv_chan_is_open(const struct shv_chan *c);
/* "part 1 relid 3 netvsc0/1" for log lines */
const char *shv_chan_name(const struct shv_chan *c);

/* ------------------------------------------------------------- devices */
enum shv_dev_kind { SHV_DEV_SCSI, SHV_DEV_NIC };
enum shv_nic_mode { SHV_NIC_REFLECT, SHV_NIC_BRIDGE, SHV_NIC_DROP };

struct shv_dev_ops {
	/* Channel c of this device was opened; refuse with -errno. */
	int (*open)(struct shv_chan *c);
	/* Channel c is closing (close, rescind, partition gone). */
	void (*close)(struct shv_chan *c);
	/* One guest packet on an open channel. */
	void (*packet)(struct shv_chan *c, const struct shv_pkt *pkt);
	/* Management: the guest sees a link change / new capacity. */
	void (*changed)(struct shv_dev *d);
	/* One status line (no newline) into buf. */
	void (*status)(struct shv_dev *d, char *buf, size_t len);
};

/* Fault: corrupt the next host-to-guest packets of a device. */
enum shv_corrupt {
	SHV_CORRUPT_NONE,
	SHV_CORRUPT_TRANSID,    /* completion for a transaction never sent */
	SHV_CORRUPT_OFFSET8,    /* descriptor offset8 beyond len8 */
	SHV_CORRUPT_LEN8,       /* descriptor len8 larger than written */
	SHV_CORRUPT_RNDIS_LEN,  /* RNDIS message length beyond its range */
	SHV_CORRUPT_XFER_RANGE, /* transfer-page range outside the buffer */
	SHV_CORRUPT_STATUS,     /* completion with a failure status */
};

struct shv_disk {
	char path[256];
	int fd;
	bool ro;
	uint32_t bs;              /* logical block size */
	uint64_t blocks;
	uint32_t max_transfer;    /* bytes */
	/* SCSI unit attention pending for the next command (ASC<<8|ASCQ) */
	uint16_t ua;
	/* fault: CHECK CONDITION for the next n commands */
	unsigned sense_left;
	uint8_t sense_key;
	uint16_t sense_asc;
};

struct shv_nic {
	uint8_t mac[6];
	uint32_t mtu;
	enum shv_nic_mode mode;
	int peer;                 /* bridge: index of the other NIC */
	bool link_up;
	uint32_t link_speed;      /* 100 bit/s units */
	uint32_t section_size;    /* send-buffer section size we ask for */
	uint32_t rx_reserve;      /* receive-buffer bytes never used */
	bool no_offload;          /* offer no checksum/LSO offload */
	bool uio;                 /* handed to a client by the uio door */
	uint64_t tx_frames, rx_frames, tx_dropped, rx_dropped, tx_bad;
	/* frames the guest sent from send-buffer sections / GPA ranges */
	uint64_t tx_sect, tx_gpa;
};

struct shv_dev {
	struct shv_host *host;
	const struct shv_dev_ops *ops;
	enum shv_dev_kind kind;
	unsigned index;           /* within its class */
	char name[16];            /* storvsc0, netvsc1 */
	uint8_t type_guid[16];
	uint8_t inst_guid[16];
	unsigned channels;        /* most channels incl. the primary */
	bool offered;             /* false after rescind until re-offered */
	struct shv_part *owner;   /* partition with channels open */
	void *state;              /* owner's protocol state */
	enum shv_corrupt corrupt;
	unsigned corrupt_left;
	union {
		struct shv_disk disk;
		struct shv_nic nic;
	};
};

extern const struct shv_dev_ops shv_storvsp_ops;
extern const struct shv_dev_ops shv_netvsp_ops;

/* Called by the engines: take the next corruption fault, if any. */
enum shv_corrupt shv_dev_take_corrupt(struct shv_dev *d, uint32_t kinds);
#define SHV_CK(k) (1u << (k))

/* ----------------------------------------------------------- partitions */
enum shv_part_state { SHV_P_DISCONNECTED, SHV_P_CONNECTED };

struct shv_part {
	struct shv_part *next;
	struct shv_host *host;
	unsigned id;
	char name[32];
	struct sim_mem mem;
	enum shv_part_state state;
	uint32_t version;
	uint32_t msg_conn_id;
	bool offers_sent;
	uint64_t monitor_page[2];
	struct shv_chan *chans;
	struct shv_gpadl *gpadls;
	unsigned ngpadls;
	const struct shv_door_ops *door;
	void *door_priv;
	uint64_t monitor_timer;
	bool dying;               /* being freed: send nothing */
};

struct shv_part *shv_part_new(struct shv_host *h,
			      const struct shv_door_ops *door, void *priv,
			      const char *name);
/* The guest went away: tear everything down, no messages. */
void shv_part_free(struct shv_part *p);
/* Host pointer for one whole guest page, NULL if outside memory. */
uint8_t *shv_part_page(struct shv_part *p, uint64_t pfn);
struct shv_chan *shv_part_chan(struct shv_part *p, uint32_t relid);

/* Send one channel message to the partition (through its door). */
void shv_vmbus_send(struct shv_part *p, const void *msg, uint32_t len);
/* Channel manager: one HvPostMessage.  Returns the hypercall status. */
uint32_t shv_vmbus_post(struct shv_part *p, uint32_t conn_id,
			uint32_t msg_type, const void *msg, uint32_t len);
/* How many more sub-channels the device of primary may have. */
unsigned shv_vmbus_subchannel_room(struct shv_chan *primary);
/* Offer n more sub-channels of the device whose primary is c; returns
 * how many were offered. */
unsigned shv_vmbus_offer_subchannels(struct shv_chan *primary, unsigned n);
/* Management: rescind / re-offer a device in every partition. */
void shv_vmbus_rescind_dev(struct shv_host *h, struct shv_dev *d);
void shv_vmbus_offer_dev(struct shv_host *h, struct shv_dev *d);
/* Close a channel host-side (engine close, ring released). */
void shv_vmbus_close_chan(struct shv_chan *c);

/* ------------------------------------------------------------------ host */
struct shv_host {
	struct sim_loop *loop;
	struct shv_dev *devs[SHV_MAX_DEVS];
	unsigned ndevs;
	struct shv_part *parts;
	unsigned nparts;
	unsigned next_part_id;
	uint32_t max_version;     /* highest VMBus version accepted */
	uint32_t delay_ms;        /* slow host */
	bool monitor;             /* --monitor: monitored offers */
	char socket_path[108];
	void *hostif;             /* the hostif door's own state */
	void *uio;                /* the uio door's (NULL without --uio) */
};

struct shv_dev *shv_host_dev(struct shv_host *h, const char *name);
/* Text command from SIM_CTL; reply text into out.  Returns 0 or -errno. */
int shv_ctl(struct shv_host *h, const char *cmd, char *out, size_t outlen);
const char *shv_ctl_help(void);

/* Stop: free everything (devices keep their files closed). */
void shv_host_free(struct shv_host *h);

/* ------------------------------------------------------- door: hostif */
int shv_hostif_listen(struct shv_host *h, const char *path);
void shv_hostif_close(struct shv_host *h);

/* ---------------------------------------------------------- door: uio */
/* Expose the NICs marked `uio` as uio_hv_generic devices under dir
 * (dir/vmbus is the sysfs tree, dir/dev/uioN the device files). */
int shv_uio_start(struct shv_host *h, const char *dir);
void shv_uio_stop(struct shv_host *h);
/* One status line part for dev ("" if it is not a uio device). */
void shv_uio_status(struct shv_host *h, const struct shv_dev *dev, char *buf,
		    size_t len);

/* ------------------------------------------------------------- helpers */
static inline uint16_t shv_get16(const void *p)
{
	uint16_t v;
	__builtin_memcpy(&v, p, 2);
	return v;
}
static inline uint32_t shv_get32(const void *p)
{
	uint32_t v;
	__builtin_memcpy(&v, p, 4);
	return v;
}
static inline uint64_t shv_get64(const void *p)
{
	uint64_t v;
	__builtin_memcpy(&v, p, 8);
	return v;
}
static inline void shv_put16(void *p, uint16_t v) { __builtin_memcpy(p, &v, 2); }
static inline void shv_put32(void *p, uint32_t v) { __builtin_memcpy(p, &v, 4); }
static inline void shv_put64(void *p, uint64_t v) { __builtin_memcpy(p, &v, 8); }
static inline uint32_t shv_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}
static inline uint16_t shv_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}
static inline uint64_t shv_be64(const uint8_t *p)
{
	return (uint64_t)shv_be32(p) << 32 | shv_be32(p + 4);
}
static inline void shv_pbe16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}
static inline void shv_pbe32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}
static inline void shv_pbe64(uint8_t *p, uint64_t v)
{
	shv_pbe32(p, (uint32_t)(v >> 32));
	shv_pbe32(p + 4, (uint32_t)v);
}
void shv_guid_str(const uint8_t g[16], char out[37]);
int shv_guid_parse(const char *s, uint8_t g[16]);

#endif /* PVIO_SIM_VMBUS_SHV_H */
