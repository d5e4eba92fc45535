/* SPDX-License-Identifier: MIT */
/*
 * pvio/net.h - the network front end.
 *
 * One front end for virtio-net, Xen netif and Hyper-V NetVSC.  Frames live
 * in packet buffers (struct pvio_pkt) drawn from per-queue pools in
 * device-reachable memory, so the burst calls are zero-copy wherever the
 * protocol allows; pvio_net_send()/pvio_net_recv() are copying conveniences
 * on top.
 *
 *     struct pvio_pkt *p = pvio_net_pkt_alloc(net, q);
 *     memcpy(p->data, frame, len); p->len = len;
 *     n = pvio_net_tx_burst(net, q, &p, 1);     // ownership passes to pvio
 *     n = pvio_net_rx_burst(net, q, pkts, 32);  // caller owns pkts[0..n)
 *     ... pvio_net_pkt_free(net, pkts[i]);
 *
 * Queue q is a receive/transmit pair.  Packets belong to the queue they came
 * from and must be freed or sent by the thread that uses that queue.
 */
#ifndef PVIO_NET_H
#define PVIO_NET_H

#include <pvio/pvio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pvio_net pvio_net;

/* pvio_pkt.flags */
enum {
	/* TX: the L4 checksum is partial; the device completes it (the field
	 * at csum_start + csum_offset holds the pseudo-header sum).
	 * RX: the same state arrived from the host (checksum not yet filled
	 * in, data known good). */
	PVIO_PKT_CSUM_PARTIAL = 1u << 0,
	/* RX: the host verified the checksums. */
	PVIO_PKT_CSUM_VALID = 1u << 1,
	/* TX: segment into gso_size-byte TCP segments (needs TSO4/TSO6). */
	PVIO_PKT_GSO_TCPV4 = 1u << 2,
	PVIO_PKT_GSO_TCPV6 = 1u << 3,
};

/*
 * A packet buffer.  data points into a buffer of pvio_pkt_room() bytes
 * after it (headroom before data is pvio's).  Only the public fields below
 * may be written.
 */
struct pvio_pkt {
	void *data;
	uint32_t len;
	uint32_t flags;        /* PVIO_PKT_* */
	uint16_t csum_start;   /* with PVIO_PKT_CSUM_PARTIAL */
	uint16_t csum_offset;
	uint16_t gso_size;     /* with PVIO_PKT_GSO_* : MSS */
	uint16_t hdr_len;      /* with PVIO_PKT_GSO_* : L2+L3+L4 header bytes */
	uint16_t queue;        /* owning queue (read-only) */
	uint16_t reserved_;
	uint32_t priv_[6];     /* pvio's */
};

/* Bytes available from p->data to the end of its buffer. */
uint32_t pvio_pkt_room(const struct pvio_pkt *p);

/* pvio_net_opts.flags */
enum {
	PVIO_NET_BUSY_POLL = 1u << 0,
	/* Keep the device's MAC when it differs from opts.mac and the
	 * protocol cannot set it (default: fail with -EADDRNOTAVAIL). */
	PVIO_NET_ADOPT_MAC = 1u << 1,
};

struct pvio_net_opts {
	size_t struct_size;
	uint32_t num_queues;    /* 0: 1 */
	uint32_t ring_size;     /* packets in flight per direction; 0: the
				   device's ring size, at most 256 */
	uint32_t buf_size;      /* bytes per packet buffer; 0: enough for the
				   MTU (with TSO: 65536 + headers) */
	uint32_t pool_size;     /* packet buffers per queue beyond what the
				   rings hold (held by the application);
				   0: 2 x ring_size */
	uint64_t offloads;      /* PVIO_F_NET_CSUM_TX|CSUM_RX|TSO4|TSO6
				   wanted; granted ones appear in info.features */
	const uint8_t *mac;     /* wanted MAC, or NULL for the device's */
	uint32_t flags;         /* PVIO_NET_* */
};

struct pvio_net_info {
	size_t struct_size;
	uint8_t mac[6];
	bool link_up;
	uint32_t mtu;           /* L3 MTU; frames up to mtu + 14 bytes (+4 VLAN) */
	uint32_t num_queues;
	uint32_t ring_size;
	uint32_t buf_size;
	uint32_t max_tx_frame;  /* largest frame tx accepts (TSO: up to 64 KiB) */
	uint64_t features;      /* PVIO_F_* in use */
};

int pvio_net_open(pvio_ctx *ctx, const char *address,
		  const struct pvio_net_opts *opts, pvio_net **out);
/* Attach to an open device; the front end takes ownership of dev. */
int pvio_net_attach(pvio_dev *dev, const struct pvio_net_opts *opts,
		    pvio_net **out);
void pvio_net_close(pvio_net *net);

int pvio_net_get_info(pvio_net *net, struct pvio_net_info *info);
pvio_dev *pvio_net_dev(pvio_net *net);
pvio_ctx *pvio_net_ctx(pvio_net *net);

/* ---- zero-copy bursts ---- */

/* A free transmit buffer from queue q's pool (len 0), or NULL when the pool
 * is empty (send or free packets first). */
struct pvio_pkt *pvio_net_pkt_alloc(pvio_net *net, unsigned q);
void pvio_net_pkt_free(pvio_net *net, struct pvio_pkt *p);

/* Queue up to n packets for transmission and notify the device once.
 * Returns how many were taken (pvio owns them from then on; they return to
 * the pool when the device is done) or -errno.  Packets not taken stay the
 * caller's.  Packets longer than info.max_tx_frame are rejected with
 * -EMSGSIZE before any is taken. */
int pvio_net_tx_burst(pvio_net *net, unsigned q, struct pvio_pkt **pkts,
		      unsigned n);

/* Receive up to max packets; the caller owns them and frees them with
 * pvio_net_pkt_free() (which also re-posts buffers to the device). Returns
 * the number received (0 if none) or -errno. */
int pvio_net_rx_burst(pvio_net *net, unsigned q, struct pvio_pkt **pkts,
		      unsigned max);

/* Wait until queue q has received packets or transmit completions, or
 * timeout_ns passes (< 0: until the device fails).  Returns 1 if there may be
 * work, 0 on timeout, or -errno. */
int pvio_net_wait(pvio_net *net, unsigned q, int64_t timeout_ns);

/* Hosted: a descriptor that polls readable when queue q may have work,
 * with the rules of pvio_blk_completion_fd(): once asked for, call
 * pvio_net_rx_burst() when it fires, again while it returns max; it
 * consumes the notification and re-enables it before returning fewer.
 * Stable across migrations. */
int pvio_net_fd(pvio_net *net, unsigned q);

/* ---- copying conveniences ---- */

struct pvio_net_meta {
	uint32_t flags;       /* PVIO_PKT_* */
	uint16_t csum_start, csum_offset, gso_size, hdr_len;
};

/* Copy frame into a packet buffer and transmit it.  Returns 0, -EAGAIN
 * (no buffer or ring space; poll and retry) or -errno. */
int pvio_net_send(pvio_net *net, unsigned q, const void *frame, size_t len,
		  const struct pvio_net_meta *meta);
/* Copy the next received frame into buf.  Returns its length, 0 if none is
 * waiting, -EMSGSIZE if cap is too small (the frame is dropped), or -errno.
 * meta may be NULL. */
int pvio_net_recv(pvio_net *net, unsigned q, void *buf, size_t cap,
		  struct pvio_net_meta *meta);

/* ---- control ---- */

/* Change the MAC where the protocol allows (-EOPNOTSUPP where not). */
int pvio_net_set_mac(pvio_net *net, const uint8_t mac[6]);

int pvio_net_get_stats(pvio_net *net, unsigned q, struct pvio_queue_stats *st);

/* Move to another device (see pvio_blk_migrate()): the MAC, MTU and
 * offloads in use must be kept (the MAC is set on the new device where the
 * protocol allows, else adopted with PVIO_NET_ADOPT_MAC, else the migration
 * fails); transmissions in flight that the old device did not complete are
 * counted as dropped; receive buffers are re-posted on the new device. */
int pvio_net_migrate(pvio_net *net, pvio_dev *new_dev, uint32_t flags,
		     struct pvio_migrate_report *report);
/* Reopen the current device's address and move to it (see
 * pvio_blk_reconnect(): retried while the device is not back yet, for at
 * most the context timeout). */
int pvio_net_reconnect(pvio_net *net, struct pvio_migrate_report *report);
int pvio_net_migration_report(pvio_net *net, struct pvio_migrate_report *r);

#ifdef __cplusplus
}
#endif
#endif /* PVIO_NET_H */
