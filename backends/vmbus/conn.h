/* SPDX-License-Identifier: MIT */
/*
 * backends/vmbus/conn.h - the VMBus connection (channel management
 * messages) for host interfaces that post messages themselves: the
 * simulated host's socket, or hypercalls on real Hyper-V.
 */
#ifndef PVIO_VMBUS_CONN_H
#define PVIO_VMBUS_CONN_H

#include "hostif.h"

/* How messages travel: HvPostMessage and the SynIC message slot. */
struct vmbus_msgport_ops {
	/* Post msg (len <= 240) to connection id: 0 with *hv_status, or
	 * -errno (the port failed). */
	int (*post)(void *port, uint32_t conn_id, const void *msg, uint32_t len,
		    uint32_t *hv_status);
	/* Next host message without blocking: 1 (copied, *len set), 0 none,
	 * -errno (the port failed). buf holds 240 bytes. */
	int (*recv)(void *port, void *buf, uint32_t *len);
	/* Sleep until a message may be there or deadline: 1, 0, -errno.
	 * ch (may be NULL): also wake when its interrupt fires. */
	int (*wait)(void *port, struct vmbus_chan *ch, uint64_t deadline);
};

#define VMBUS_CONN_MAX_OFFERS 64
#define VMBUS_CONN_MAX_CHANS 32

struct vmbus_conn {
	pvio_ctx *ctx;
	const struct vmbus_msgport_ops *ops;
	void *port;
	const char *name;          /* for messages: "sim-hyperv" */
	uint32_t version;
	uint32_t msg_conn_id;
	bool connected;
	void *monitor_pages;       /* two pages, DMA pool */
	void *interrupt_page;      /* < 5.0 only */
	struct vmbus_offer offers[VMBUS_CONN_MAX_OFFERS];
	unsigned noffers;
	bool offers_done;
	uint32_t next_gpadl;
	/* the one reply the control path is waiting for */
	struct {
		uint32_t type, key1, key2;
		bool active, got;
		uint32_t status;
		uint8_t msg[VMBUS_MSG_MAX];
	} want;
	struct vmbus_chan *chans[VMBUS_CONN_MAX_CHANS];
	uint32_t ignored;          /* malformed or unexpected host messages */
	int lost;                  /* the port failed */
};

void vmbus_conn_init(struct vmbus_conn *c, pvio_ctx *ctx,
		     const struct vmbus_msgport_ops *ops, void *port,
		     const char *name);
/* INITIATE_CONTACT (newest version first), REQUESTOFFERS, wait for
 * ALLOFFERS_DELIVERED. */
int vmbus_conn_connect(struct vmbus_conn *c);
/* UNLOAD and wait for the response (bounded); frees what connect made
 * (leaks the monitor pages if the host did not answer). */
void vmbus_conn_disconnect(struct vmbus_conn *c);
/* Process every queued host message (non-blocking): 0 or -errno. */
int vmbus_conn_poll(struct vmbus_conn *c);
int vmbus_conn_find(struct vmbus_conn *c, const struct vmbus_guid *cls,
		    unsigned idx, struct vmbus_offer *out);
int vmbus_conn_subchannels(struct vmbus_conn *c,
			   const struct vmbus_offer *primary, unsigned want,
			   uint64_t deadline, struct vmbus_offer *out);
int vmbus_conn_gpadl_create(struct vmbus_conn *c, uint32_t relid,
			    uint64_t dev_addr, size_t len, uint32_t *gpadl);
/* 0 torn down (memory may be reused), -errno (leak the memory) */
int vmbus_conn_gpadl_teardown(struct vmbus_conn *c, uint32_t relid,
			      uint32_t gpadl);
int vmbus_conn_open(struct vmbus_conn *c, struct vmbus_chan *ch,
		    uint32_t ring_bytes);
void vmbus_conn_close(struct vmbus_conn *c, struct vmbus_chan *ch);
int vmbus_conn_buf_get(struct vmbus_conn *c, struct vmbus_chan *ch,
		       size_t size, struct vmbus_buf *out);
void vmbus_conn_buf_put(struct vmbus_conn *c, struct vmbus_chan *ch,
			struct vmbus_buf *b);

/* GPADL message number i (0 = GPADL_HEADER, then GPADL_BODYs) for one
 * range of npages pages starting at first_pfn: its length, or 0 when
 * i is past the last message.  msg holds 240 bytes. */
uint32_t vmbus_gpadl_msg(uint8_t *msg, uint32_t relid, uint32_t gpadl,
			 uint64_t first_pfn, uint32_t npages, uint32_t i);
/* How many messages a GPADL of npages takes. */
uint32_t vmbus_gpadl_nmsgs(uint32_t npages);

/* Largest GPADL: range_buflen (u16) = 8 + 8 * pages */
#define VMBUS_GPADL_MAX_PAGES ((65535u - 8u) / 8u)

#endif /* PVIO_VMBUS_CONN_H */
