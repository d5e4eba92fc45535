/* SPDX-License-Identifier: MIT */
/*
 * frontends/netfe.h - the network front end's internals.
 *
 * Model.  Each queue owns two pools of packet buffers in DMA memory: an RX
 * pool (ring_size buffers posted to the device plus what the application
 * may hold) and a TX pool (ring_size in flight plus what the application
 * may hold), with struct pvio_pkt descriptors in private memory.  A packet
 * is always in exactly one place: free, the application's, on the device
 * for transmission, or posted for reception.  Tags are slot numbers (TX:
 * TX-pool slot, or TX-pool size + RX-pool slot when a received packet is
 * forwarded; RX: RX-pool slot), so completions find their packet in O(1)
 * and a bad tag from a back end is caught by a bounds and state check.
 *
 * Pools outlive devices: packets the application holds stay valid when the
 * front end moves to another device.
 */
#ifndef PVIO_NETFE_H
#define PVIO_NETFE_H

#include "fe.h"

#define FE_NET_MAX_RING 4096u
#define FE_NET_MAX_POOL 16384u    /* buffers per pool (tags fit 16 bits) */
#define FE_NET_BATCH 32u
#define FE_NET_L2_OVERHEAD 18u    /* Ethernet header + one VLAN tag */
#define FE_NET_TSO_BUF (65536u + 256u)
#define FE_NET_MAX_SEGS 64u       /* TX segments per frame we build */
#define FE_PKT_MAGIC 0x70766b74u  /* "pvkt" */

enum { FE_POOL_RX = 0, FE_POOL_TX = 1 };
/* where a packet is: priv_[2] bits 8..15 */
enum { FE_PKT_FREE = 0, FE_PKT_APP, FE_PKT_TX, FE_PKT_RX, FE_PKT_LOST };

/* priv_ layout: [0] magic, [1] slot, [2] pool | state << 8, [3] buffer
 * size, [4..5] buffer address (pvio_pkt_room needs it without the net). */
#define FE_PKT_POOL(p) ((p)->priv_[2] & 0xffu)
#define FE_PKT_STATE(p) (((p)->priv_[2] >> 8) & 0xffu)

struct fe_pool {
	struct pvio_pkt *pkt;
	uint8_t *mem;             /* n buffers, stride apart (DMA) */
	uint64_t dev_addr;        /* of mem */
	uint32_t n, size, stride, align;
	uint16_t *free;
	uint32_t nfree;
};

struct fe_nq {
	struct fe_pool pool[2];
	uint32_t rx_posted, tx_inflight;
	bool rx_kick;             /* buffers posted since the last RX kick */
	bool fd_mode;
	struct pvio_net_rxc *rxc; /* reap batch */
	uint32_t *tags;           /* reap batch */
	struct pvio_dseg *seg;    /* TX segments of one frame */
	struct pvio_pkt **stash;  /* received while moving, delivered first */
	uint32_t stash_h, stash_n; /* FIFO of RX-pool-size entries */
	bool await_first;
	uint64_t first_ns;
	uint64_t last_ns;         /* time of the latest completion reaped */
	uint64_t tx_done;         /* TX completions (progress marker) */
};

struct pvio_net {
	pvio_ctx *ctx;
	pvio_dev *dev;
	uint32_t nq, ring, flags;
	uint32_t mtu;             /* contract: kept across devices */
	uint8_t mac[6];
	uint64_t offloads;        /* wanted (opts) */
	uint64_t granted;         /* offloads in use */
	uint32_t max_tx_frame;    /* what tx_burst accepts */
	uint32_t max_tx_segs, tx_boundary;
	struct fe_nq *q;
	int *fdset;
	struct pvio_queue_stats *retired;
	struct pvio_migrate_report report;
	bool have_report;
	uint64_t t_last_old;
	bool stopped;
	int stop_ret;
	struct pvio_migrate_report stop_rep;
};

/* net.c */
/* Are dev's network limits usable?  0 or -EINVAL with a message. */
int fe_net_limits_check(pvio_ctx *ctx, const pvio_dev *dev);
/* The largest frame tx accepts on dev with tx buffers of tx_size bytes. */
uint32_t fe_net_tx_max(const pvio_dev *dev, uint32_t mtu, uint32_t tx_size,
		       uint64_t granted);
/* Program net->mac on dev, or adopt dev's (PVIO_NET_ADOPT_MAC): 0 or
 * -EADDRNOTAVAIL with a message. */
int fe_net_mac(pvio_net *net, pvio_dev *dev, const uint8_t *want);

/* net_pool.c */
int fe_pool_init(pvio_ctx *ctx, struct fe_pool *p, unsigned q, unsigned kind,
		 uint32_t n, uint32_t size, uint32_t align);
void fe_pool_fini(pvio_ctx *ctx, struct fe_pool *p, bool leak);
void fe_pkt_set_state(struct pvio_pkt *p, unsigned state);
/* The pool a packet the caller handed back belongs to, or NULL. */
struct fe_pool *fe_pkt_pool(pvio_net *net, const struct pvio_pkt *p);
uint32_t fe_pkt_slot(const struct pvio_pkt *p);
uint8_t *fe_pkt_buf(const struct fe_pool *pool, uint32_t slot);
void fe_pool_put(struct fe_pool *pool, struct pvio_pkt *p);
struct pvio_pkt *fe_pool_get(struct fe_pool *pool);
/* Post free RX buffers until ring_size are on the device. */
void fe_net_refill(pvio_net *net, unsigned q);
int fe_net_rx_kick(pvio_net *net, unsigned q);

/* net_io.c */
int fe_net_reclaim(pvio_net *net, unsigned q);
int fe_net_rx_reap(pvio_net *net, unsigned q, struct pvio_pkt **pkts,
		   unsigned max, bool to_stash);

/* net_csum.c */
/* Fill in the checksum of a CSUM_PARTIAL frame: 0, or -EINVAL when the
 * offsets do not fit in len. */
int fe_net_csum_fill(uint8_t *frame, uint32_t len, uint16_t start,
		     uint16_t offset);

/* net_move.c */
void fe_net_stop(pvio_net *net);

#endif /* PVIO_NETFE_H */
