/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz.h - what every fuzz harness shares.
 *
 * A harness is one file that defines LLVMFuzzerTestOneInput() (the bytes
 * are what the other side - a host, a guest, a peer on a socket - wrote)
 * and fz_seeds() (well-formed inputs built by code, the seed corpus).  It
 * is linked twice:
 *   - with libFuzzer (configure --enable-fuzzing, clang): fuzz/<name>;
 *   - with replay.c: tests/fuzz/replay_<name>, which runs every seed and
 *     every file of tests/fuzz/corpus/<name>/ (the crashes found so far)
 *     and is what `make check` runs with any compiler.
 *
 * Harnesses never wait for real: contexts run on the fuzz platform (a
 * clock that jumps on every reading, so every deadline passes after a
 * bounded number of polls; DMA memory from anonymous pages), and fake hosts
 * answer synchronously.  A violated property aborts with a one-line
 * reason, which libFuzzer reports as a crash.
 */
#ifndef PVIO_TESTS_FUZZ_H
#define PVIO_TESTS_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pvio/pvio.h>

/* ---------------------------------------------------------------- input */

/* The fuzzer's bytes, consumed front to back.  Reading past the end
 * yields zeros, so a harness never has to check lengths. */
struct fz {
	const uint8_t *p;
	size_t n;
};

static inline size_t fz_left(const struct fz *f)
{
	return f->n;
}

static inline uint8_t fz_u8(struct fz *f)
{
	if (!f->n)
		return 0;
	f->n--;
	return *f->p++;
}

static inline uint16_t fz_u16(struct fz *f)
{
	uint16_t v = fz_u8(f);
	return (uint16_t)(v | (uint16_t)fz_u8(f) << 8);
}

static inline uint32_t fz_u32(struct fz *f)
{
	uint32_t v = fz_u16(f);
	return v | (uint32_t)fz_u16(f) << 16;
}

static inline uint64_t fz_u64(struct fz *f)
{
	uint64_t v = fz_u32(f);
	return v | (uint64_t)fz_u32(f) << 32;
}

static inline bool fz_bool(struct fz *f)
{
	return fz_u8(f) & 1;
}

/* A value in [0, n) (n > 0), from one or two bytes. */
static inline uint32_t fz_below(struct fz *f, uint32_t n)
{
	uint32_t v = n <= 256 ? fz_u8(f) : fz_u16(f);
	return v % n;
}

/* Copy up to len bytes into dst, zero-filling what the input lacks;
 * returns the bytes that came from the input. */
static inline size_t fz_bytes(struct fz *f, void *dst, size_t len)
{
	size_t c = len < f->n ? len : f->n;
	memcpy(dst, f->p, c);
	memset((uint8_t *)dst + c, 0, len - c);
	f->p += c;
	f->n -= c;
	return c;
}

/* A pointer to the next len bytes (fewer if the input ends: *got). */
static inline const uint8_t *fz_take(struct fz *f, size_t len, size_t *got)
{
	const uint8_t *p = f->p;
	size_t c = len < f->n ? len : f->n;
	f->p += c;
	f->n -= c;
	*got = c;
	return p;
}

/* A NUL-terminated string of at most cap - 1 bytes: a length byte, then
 * the bytes (a NUL in them ends the string early). */
static inline void fz_str(struct fz *f, char *dst, size_t cap)
{
	size_t len = fz_u8(f);
	if (len > cap - 1)
		len = cap - 1;
	fz_bytes(f, dst, len);
	dst[len] = '\0';
}

/* ---------------------------------------------------------------- checks */

/* A property the code under test broke: report and abort (a "crash"). */
#define FZ_ASSERT(cond, ...)                                                  \
	do {                                                                  \
		if (!(cond)) {                                                \
			fprintf(stderr, "%s:%d: property violated: ",         \
				__FILE__, __LINE__);                          \
			fprintf(stderr, __VA_ARGS__);                         \
			fputc('\n', stderr);                                  \
			abort();                                              \
		}                                                             \
	} while (0)

/* Harness progress notes (FUZZ_VERBOSE set in the environment). */
void fz_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---------------------------------------------------------------- platform */

#define FZ_TICK_NS 1000000ull /* the clock moves 1 ms per reading */

/* A context on the fuzz platform: pool bytes of DMA memory (anonymous
 * pages; guard zones are poisoned by fz_dma_get), log messages dropped
 * unless FUZZ_LOG is set in the environment, waits bounded by timeout_ms
 * of fake time. */
pvio_ctx *fz_ctx(size_t pool, uint32_t timeout_ms);
void fz_ctx_free(pvio_ctx *ctx);
/* The same with device-access hooks (mmio_map, mmio_read/write, port and
 * PCI config access, wait) taken from hooks; they get an opaque pointer
 * from which fz_user() returns user. */
struct pvio_platform;
pvio_ctx *fz_ctx_hooks(size_t pool, uint32_t timeout_ms,
		       const struct pvio_platform *hooks, void *user);
void *fz_user(void *opaque);

/* Make [p, p+len) of DMA memory (or any memory) a no-go zone for the code
 * under test under ASan (a no-op without it); unpoison before freeing. */
void fz_poison(const void *p, size_t len);
void fz_unpoison(const void *p, size_t len);

/* A DMA buffer aligned to align (a power of two) with poisoned guard
 * bytes on both sides, so a copy past either end is reported.  fz_dma_put
 * (same len and align) unpoisons and frees it. */
void *fz_dma_get(pvio_ctx *ctx, size_t len, size_t align);
void fz_dma_put(pvio_ctx *ctx, void *p, size_t len, size_t align);

/* ---------------------------------------------------------------- seeds */

/* A growable byte string for building seeds. */
struct fzb {
	uint8_t *p;
	size_t n, cap;
};

void fzb_put(struct fzb *b, const void *p, size_t len);
static inline void fzb_u8(struct fzb *b, uint8_t v)
{
	fzb_put(b, &v, 1);
}
static inline void fzb_u16(struct fzb *b, uint16_t v)
{
	uint8_t x[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
	fzb_put(b, x, 2);
}
static inline void fzb_u32(struct fzb *b, uint32_t v)
{
	fzb_u16(b, (uint16_t)v);
	fzb_u16(b, (uint16_t)(v >> 16));
}
static inline void fzb_u64(struct fzb *b, uint64_t v)
{
	fzb_u32(b, (uint32_t)v);
	fzb_u32(b, (uint32_t)(v >> 32));
}
/* The fz_str encoding of s. */
void fzb_str(struct fzb *b, const char *s);
void fzb_free(struct fzb *b);

typedef void (*fz_emit_fn)(void *arg, const char *name, const void *data,
			   size_t len);
/* Each harness: call emit once per seed (names are unique per harness). */
void fz_seeds(fz_emit_fn emit, void *arg);
/* Emit b as a seed and empty it. */
void fzb_emit(struct fzb *b, fz_emit_fn emit, void *arg, const char *name);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif /* PVIO_TESTS_FUZZ_H */
