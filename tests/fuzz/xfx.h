/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/xfx.h - the Xen harnesses' host: the unit tests' in-process
 * fake Xen (tests/unit/test_xen_fake.c: xenstored, grant table, event
 * channels, blkback/netback models) with two changes for fuzzing:
 *  - waiting never sleeps (the fake clock of the fuzz platform passes
 *    every deadline after a bounded number of polls);
 *  - reads of the keys listed by the harness are answered by the fuzzer
 *    (a value of any bytes, or absent) instead of the store, so every
 *    xenstore value blk.c/net.c parse is fuzzed where they read it.
 */
#ifndef PVIO_TESTS_FUZZ_XFX_H
#define PVIO_TESTS_FUZZ_XFX_H

#include "fuzz.h"
#include "test_xen_fake.h"

struct xfx {
	struct fx *fx;
	struct xen_hostif_ops ops; /* the fake's, with xs_wait replaced */
	struct fz *f;
	const char *const *keys;   /* key names (last path component) */
	uint32_t fuzz_mask;        /* which of keys[] the fuzzer answers */
	bool fuzzed_state;         /* the fuzzer may answer <be>/state too */
	unsigned answered;
};

/* A fake host on ctx for domain domid, reads of keys[i] (NULL-terminated
 * list, at most 32) answered by f when bit i of mask is set. */
void xfx_init(struct xfx *x, pvio_ctx *ctx, uint16_t domid, struct fz *f,
	      const char *const *keys, uint32_t mask);
void xfx_fini(struct xfx *x);

/* Run body(data, size) where the fake's Check assertions work: inside a
 * Check test run in this process (CK_NOFORK).  A failed assertion - the
 * fake found the guest breaking the protocol - aborts like FZ_ASSERT. */
void xfx_run(void (*body)(const uint8_t *data, size_t size),
	     const uint8_t *data, size_t size);

#endif
