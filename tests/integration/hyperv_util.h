/* SPDX-License-Identifier: MIT */
/*
 * tests/integration/hyperv_util.h - helpers for the tests that drive pvio's
 * VMBus back end (backends/vmbus) against `pvio sim hyperv` (sim/vmbus):
 * the host is the real binary (started by simvmbus_tguest.c's tg_host_*
 * in a temp dir, stopped by pid), the guest is libpvio, at the level of
 * the transport ops and through the block and network front ends.
 *
 * Frames are built and checked with the tests' own IPv4/IPv6/TCP/UDP
 * code (RFC 791/8200/9293/768 layouts), not the host's.
 */
#ifndef PVIO_TESTS_HYPERV_UTIL_H
#define PVIO_TESTS_HYPERV_UTIL_H

#include <check.h>
#include <stdbool.h>
#include <stdint.h>

#include <pvio/transport.h>

#include "simvmbus_tguest.h"

#define HV_TIMEOUT_MS 5000u

extern struct tg_host hv_host;

/* Start `pvio sim hyperv` with args (NULL-terminated); aborts the test
 * program when it cannot (the fixture runs in the parent). */
void hv_start(const char *const *args);
void hv_stop(void);
/* A temporary image file of size bytes filled with a pattern; the path
 * goes in path (64 bytes).  Removed by hv_rm(). */
void hv_image(char *path, uint64_t size);
void hv_rm(const char *path);

/* A context with the default 5 s bound for waits on the host. */
pvio_ctx *hv_ctx(void);
/* "sim-hyperv:SOCKET/dev" */
const char *hv_addr(const char *dev);
/* One `pvio sim ctl` command through the management connection; fails
 * the test when the host refuses it.  Returns the reply text (static). */
const char *hv_ctl(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Sum of a `key=N` counter over the lines of `status dev` (dev NULL:
 * `status`) that mention match. */
uint64_t hv_status_sum(const char *dev, const char *match, const char *key);
/* The host process (our parent's child, when a test runs forked) has
 * exited: waits, bounded, for it to become a zombie. */
bool hv_host_exited(void);
/* Does the host's log have a line with needle? */
bool hv_log_has(const char *needle);

/* Open dev (pvio_dev_open) and configure it with nq queues. */
pvio_dev *hv_open(pvio_ctx *ctx, const char *dev, unsigned nq,
		  uint32_t max_tags, uint64_t want);

/* Wait (bounded) until queue q has something or the device fails. */
void hv_wait(pvio_dev *dev, unsigned q);

/* ---- block, transport level ---- */
/* Enqueue one request with one segment (buf in the DMA pool; NULL for
 * flush/discard), kick, and wait for its completion: its status. */
int hv_blk_sync(pvio_dev *dev, unsigned q, uint8_t op, uint64_t off,
		void *buf, uint32_t len);

/* ---- frames ---- */
void hv_pattern(uint8_t *p, uint32_t len, uint32_t seed);
/* Ethernet + IPv4/IPv6 + TCP/UDP with payload bytes of pattern seed;
 * checksums complete (partial: the L4 checksum field holds only the
 * pseudo-header sum, as for checksum offload).  Returns the length. */
struct hv_flow {
	const uint8_t *dst, *src;
	bool v6;
	bool udp;
	uint16_t sport, dport;
	uint32_t seq;
};
uint32_t hv_frame(uint8_t *f, const struct hv_flow *fl, uint32_t payload,
		  uint32_t seed, bool partial);
/* Offset of the L4 header and its checksum field in such a frame. */
uint32_t hv_l4_off(const struct hv_flow *fl);
uint32_t hv_csum_off(const struct hv_flow *fl);
/* Is every checksum of the frame right (IPv4 header, TCP/UDP)? */
bool hv_frame_csum_ok(const uint8_t *f, uint32_t len);

#endif /* PVIO_TESTS_HYPERV_UTIL_H */
