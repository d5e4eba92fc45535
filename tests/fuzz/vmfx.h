/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/vmfx.h - a Hyper-V host for the VMBus device harnesses:
 * a host interface (backends/vmbus/hostif.h) whose channels are rings in
 * the context's DMA pool and whose buffers are DMA memory, and the host's
 * side of each channel (test_vmbus_host.h's ring helpers).  What the host
 * says is up to the harness: it gets a turn (process) whenever the guest
 * signals or waits, and reads the guest's packets with vmfx_get.
 */
#ifndef PVIO_TESTS_FUZZ_VMFX_H
#define PVIO_TESTS_FUZZ_VMFX_H

#include "fuzz.h"

#include "backends/vmbus/dev.h"
#include "test_vmbus_host.h"

#define VMFX_CHANS 8
#define VMFX_BUFS 8

struct vmfx;

struct vmfx_chan {
	struct vmbus_chan *ch;   /* the guest's */
	struct hring tx, rx;     /* the host's view: it reads tx, writes rx */
	unsigned index;          /* 0: primary */
};

struct vmfx_buf {
	uint32_t gpadl;
	void *va;
	size_t len;
	unsigned chan;
};

struct vmfx {
	struct vmbus_hostif h;
	pvio_ctx *ctx;
	struct fz *f;
	struct vmbus_guid cls;
	unsigned nsub;           /* sub-channels the host offers */
	struct vmfx_chan chans[VMFX_CHANS];
	struct vmfx_buf bufs[VMFX_BUFS];
	uint32_t next_gpadl;
	bool in_turn;
	/* the harness's host */
	void (*process)(struct vmfx *x, unsigned chan, bool waited);
	void *arg;
	unsigned opened, closed;
};

void vmfx_init(struct vmfx *x, pvio_ctx *ctx, struct fz *f,
	       const struct vmbus_guid *cls, unsigned nsub);
/* The channel index of the guest's channel (or -1). */
int vmfx_chan_of(struct vmfx *x, const struct vmbus_chan *ch);
/* Next packet the guest wrote on channel c: its length (padded), 0 none,
 * -1 malformed (the harness asserts). */
int vmfx_get(struct vmfx *x, unsigned c, uint8_t *buf, uint32_t cap);
/* Put a packet into channel c's receive ring (len multiple of 8);
 * interrupts the guest's waits.  -1 if there is no room. */
int vmfx_put(struct vmfx *x, unsigned c, const void *pkt, uint32_t len);
/* Build and put a packet of type with payload (descriptor made here). */
int vmfx_send(struct vmfx *x, unsigned c, uint16_t type, uint16_t flags,
	      uint64_t tid, const void *payload, uint32_t len);
/* Guest memory of a GPA range's page frame number (or NULL). */
void *vmfx_pfn_va(struct vmfx *x, uint64_t pfn);
/* The buffer with GPADL handle g (or NULL). */
struct vmfx_buf *vmfx_buf(struct vmfx *x, uint32_t g);

#endif
