/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_xen_fake.h - an in-process fake Xen host for the unit
 * tests of backends/xen, standing in for sim/xen (written separately).
 *
 * It implements the back end's hostif (backends/xen/hostif.h) directly:
 *  - a small xenstored: a node tree, watches, transactions with conflict
 *    detection, errors by name, speaking the real wire protocol (struct
 *    xsd_sockmsg from Debian's xs_wire.h) over a byte stream that can be
 *    cut into pieces, delayed or corrupted by a test;
 *  - the guest's grant table (backends/xen/grant.c, as in the sim) and a
 *    "hypervisor" that maps grants with compare-and-swap on the flags;
 *  - event channels whose upcalls are real eventfds;
 *  - blkback and netback models written against Debian's io/blkif.h,
 *    io/netif.h and io/ring.h back-ring macros, with switches for the
 *    misbehaviours the tests need.
 * Back-end models run when the guest waits for xenstore (as a real back
 * end runs while the front end sleeps) and, for ring work, when the guest
 * kicks an event channel.
 */
#ifndef TEST_XEN_FAKE_H
#define TEST_XEN_FAKE_H

#include <stdbool.h>
#include <stdint.h>

#define __XEN_INTERFACE_VERSION__ __XEN_LATEST_INTERFACE_VERSION__
#define xen_mb() __sync_synchronize()
#define xen_rmb() __sync_synchronize()
#define xen_wmb() __sync_synchronize()
#include <xen/xen.h>
#include <xen/grant_table.h>
#include <xen/io/ring.h>
#include <xen/io/blkif.h>
#include <xen/io/netif.h>
#include <xen/io/xs_wire.h>
#include <xen/io/xenbus.h>

#include "backends/xen/xen.h"

struct fx;

/* ---- xenstore ---- */
struct fx_node {
	char *path;
	char *val;
	size_t vlen;
};

struct fx_store {
	struct fx_node *n;
	size_t nn, cap;
};

struct fx_conn {
	uint8_t *out;
	size_t outlen, outcap;
	uint8_t in[sizeof(struct xsd_sockmsg) + 2 * XENSTORE_PAYLOAD_MAX];
	size_t inlen;
	struct {
		char *path, *token;
	} w[32];
	unsigned nw;
	size_t chunk;      /* at most this many bytes per read (0: all) */
	bool dead;
};

/* ---- event channels ---- */
struct fx_evt {
	uint32_t port;
	int upcall;        /* eventfd: the guest's upcall */
	bool open;
	uint64_t kicks;    /* notifications from the guest */
	uint64_t irqs;     /* notifications to the guest */
	void (*on_kick)(struct fx *fx, struct fx_evt *e);
};

/* ---- blkback model ---- */
struct fxb_cfg {
	uint64_t sectors;      /* 512-byte units */
	uint32_t sector_size;
	uint32_t info;
	int max_order;         /* < 0: key absent */
	int max_queues;        /* < 0: key absent */
	int indirect;          /* feature-max-indirect-segments, 0: absent */
	bool persistent, flush, barrier, discard;
	/* behaviour */
	bool skip_initwait;    /* Initialising -> Connected when the front
				  is Initialised, never InitWait */
	bool connected_early;  /* Connected (with sectors) at attach */
	bool never_ready;      /* stays Initialising */
	bool never_connect;    /* stays InitWait */
	bool manual;           /* rings processed only by fxb_process() */
	bool keep_data_mapped; /* (hostile) a data page stays mapped */
	const char *raw_sectors, *raw_sector_size, *raw_order, *raw_queues;
};

struct fxb_ring {
	blkif_back_ring_t br;
	void *va;
	uint32_t refs[16];
	unsigned npages;
	struct fx_evt *ev;
	bool connected;
};

struct fxb {
	struct fxb_cfg cfg;
	uint8_t *disk;
	uint32_t devid;
	char fe[96], be[96];
	int last_fe;
	unsigned nq, order;
	struct fxb_ring q[16];
	bool persistent_on;
	uint32_t pmaps[4096];  /* persistently mapped refs */
	unsigned npmaps;
	/* what it saw */
	uint64_t reqs, reads, writes, flushes, barriers, discards, indirects;
	uint64_t max_nseg;
	uint64_t notify_sent;
	char protocol[32];
	uint64_t last_discard_sector, last_discard_n;
	uint32_t last_flush_nseg;
};

/* ---- netback model ---- */
struct fxn_cfg {
	bool no_rx_copy, sg, gso4, gso6, split, ipv6csum;
	int max_queues;        /* < 0: absent */
	const char *carrier;   /* NULL: absent */
	const char *mac;       /* NULL: 00:16:3e:01:02:03 */
	const char *mtu;       /* NULL: absent */
	bool manual;
	bool reflect;          /* transmitted frames come back on RX */
	uint16_t rx_offset;
};

struct fxn_frame {
	uint8_t data[65536];
	uint32_t len;
	uint16_t flags;        /* NETTXF_* of the first slot */
	uint8_t gso_type;
	uint16_t gso_size;
	unsigned slots;
};

struct fxn_q {
	netif_tx_back_ring_t tx;
	netif_rx_back_ring_t rx;
	void *txva, *rxva;
	uint32_t txref, rxref;
	struct fx_evt *evtx, *evrx;
	bool connected;
};

struct fxn {
	struct fxn_cfg cfg;
	uint32_t devid;
	char fe[96], be[96];
	int last_fe;
	unsigned nq;
	struct fxn_q q[16];
	struct fxn_frame *frames;  /* transmitted frames, in order */
	unsigned nframes, frames_cap;
	char fe_keys[512];         /* feature keys the front wrote */
	uint64_t notify_sent;
};

/* ---- the fake ---- */
struct fx {
	struct xen_hostif h;
	pvio_ctx *ctx;
	/* xenstore */
	struct fx_store st;
	uint64_t gen;
	struct {
		uint32_t id;
		bool used;
		struct fx_store snap;
		uint64_t gen;
		char *wr[128];
		unsigned nwr;
	} tx[8];
	uint32_t next_tx;
	struct fx_conn c;          /* the guest's connection */
	struct fx_conn *extra;     /* a second (dom0 socket) connection */
	int eagain_commits;        /* commits to fail with EAGAIN */
	bool no_reply;
	/* return true to take over a request */
	bool (*intercept)(struct fx *fx, uint32_t type, uint32_t req_id,
			  const char *pl, uint32_t len);
	void *arg;
	uint64_t requests;
	/* grants */
	void *frames;
	struct xen_gnttab gt;
	uint16_t *maps;
	uint64_t map_refused;
	/* where a guest frame is (default: the DMA pool of ctx) */
	void *(*gfn_to_va)(struct fx *fx, uint64_t gfn);
	/* event channels */
	struct fx_evt ev[64];
	unsigned nev;
	/* toolstack and back ends */
	int attach_err;
	struct fxb *blk;
	struct fxn *net;
	/* scripted back end for XenBus tests: be state to write when the
	 * front end's state reaches a value (index = fe state, -1: none);
	 * script_at_attach is written at attach */
	int script[9];
	int script_at_attach;
	int script_last;
	bool scripted;
	int fe_log[32];            /* every value the front wrote to state */
	unsigned nfe_log;
	unsigned steps;
	bool closed;
	unsigned attached, detached;
};

struct fx *fx_new(pvio_ctx *ctx, uint16_t domid);
void fx_destroy(struct fx *fx);

/* store, as dom0 */
void fx_write(struct fx *fx, const char *path, const char *val);
void fx_printf(struct fx *fx, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
const char *fx_read(struct fx *fx, const char *path);
void fx_rm(struct fx *fx, const char *path);
int fx_read_int(struct fx *fx, const char *path); /* -1 if absent */

/* run back-end models until nothing changes */
void fx_run(struct fx *fx);

/* feed raw bytes to the guest's xenstore stream */
void fx_emit(struct fx *fx, uint32_t type, uint32_t req_id, uint32_t tx,
	     const void *pl, uint32_t len);
void fx_emit_raw(struct fx *fx, const void *buf, size_t len);
/* bytes from a client connection (the guest's is &fx->c) */
void fx_conn_input(struct fx *fx, struct fx_conn *c, const void *buf,
		   size_t len);

/* the hypervisor's grant mapping */
void *fx_map(struct fx *fx, uint32_t ref, bool write);
void fx_unmap(struct fx *fx, uint32_t ref);

struct fx_evt *fx_evt(struct fx *fx, uint32_t port);
struct fx_evt *fx_evt_new(struct fx *fx);
void fx_irq(struct fx *fx, struct fx_evt *e);

/* models */
struct fxb *fxb_new(struct fx *fx, const struct fxb_cfg *cfg);
void fxb_process(struct fx *fx, unsigned q);
struct fxn *fxn_new(struct fx *fx, const struct fxn_cfg *cfg);
/* deliver a frame to queue q's RX ring: 0, or -1 if no buffer posted */
int fxn_inject(struct fx *fx, unsigned q, const void *frame, uint32_t len,
	       uint16_t flags);
void fxn_process_tx(struct fx *fx, unsigned q);

/* a context with a small timeout for tests */
pvio_ctx *fx_ctx(uint32_t timeout_ms);

#endif
