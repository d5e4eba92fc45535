/* SPDX-License-Identifier: MIT */
/*
 * tools/pvio.h - the pvio command: subcommands and the helpers they share.
 *
 * Conventions every subcommand follows (pvio(1) documents them):
 *  - errors are one line on stderr, "pvio SUBCOMMAND: what failed; what to
 *    do", and a non-zero exit status (enum tool_exit);
 *  - `--help` prints the usage on stdout and exits 0; a usage error prints
 *    one line on stderr and exits 2;
 *  - timing (benchmarks, packet rates) lives here, never in the tests.
 */
#ifndef PVIO_TOOL_H
#define PVIO_TOOL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <pvio/pvio.h>

/* Exit statuses of the pvio command. */
enum tool_exit {
	TOOL_OK = 0,
	TOOL_FAIL = 1,     /* the operation failed (device, I/O, peer) */
	TOOL_USAGE = 2,    /* bad command line */
	TOOL_VERIFY = 3,   /* data came back wrong or not at all */
};

/* Each subcommand gets argv with argv[0] = its own name. */
int cmd_info(int argc, char **argv);
int cmd_blk(int argc, char **argv);
int cmd_net(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_sim(int argc, char **argv);
int cmd_virt(int argc, char **argv); /* tools/virt/ */

/* ---- messages (tools/util.c) ---- */

#define TOOL_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* "pvio CMD: msg" on stderr; returns TOOL_FAIL. */
int tool_fail(const char *cmd, const char *fmt, ...) TOOL_PRINTF(2, 3);
/* "pvio CMD: msg; run `pvio CMD --help`" on stderr; returns TOOL_USAGE. */
int tool_usage(const char *cmd, const char *fmt, ...) TOOL_PRINTF(2, 3);
/* A library call failed with r (-errno): prints the context's message if it
 * has one, else "what: strerror".  Returns TOOL_FAIL. */
int tool_lib_fail(const char *cmd, pvio_ctx *ctx, int r, const char *what);
/* A data-path call failed with r on dev: names the device state's reason
 * when the device is broken or removed.  Returns TOOL_FAIL. */
int tool_io_fail(const char *cmd, pvio_dev *dev, int r, const char *what);

/* ---- option parsing (tools/util.c) ---- */

/* Sizes and offsets: decimal or 0x hex, optional suffix k, M, G, T (powers
 * of 1024, either case, optional "iB"/"B").  0 or -EINVAL/-ERANGE. */
int tool_parse_size(const char *s, uint64_t *out);
/* Plain unsigned decimal within [min, max]. */
int tool_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* Seconds as a decimal fraction ("0.5", "10") within (0, max]. */
int tool_parse_seconds(const char *s, double max, double *out);
/* A comma-separated list of unsigned values ("1,32"), at most max of them,
 * each within [min, maxval].  Returns the count or -EINVAL. */
int tool_parse_list(const char *s, uint64_t min, uint64_t maxval,
		    uint64_t *out, unsigned max);
/* getopt_long's unknown/missing-argument report as one usage line.
 * opt is getopt's return ('?' or ':'; the option string must start with
 * ':'), argv and optind as getopt left them.  Returns TOOL_USAGE. */
int tool_bad_option(const char *cmd, int opt, char **argv);

/* ---- context and time (tools/util.c) ---- */

/* A hosted context with the default options; on failure prints one line
 * and returns NULL. */
pvio_ctx *tool_ctx_new(const char *cmd);
/* Open address and check it is a device of class want (else one line
 * saying what it is and which subcommand to use).  TOOL_OK with *out set,
 * or an exit status. */
int tool_open_class(const char *cmd, pvio_ctx *ctx, const char *address,
		    enum pvio_class want, pvio_dev **out);
uint64_t tool_now_ns(void);
/* "64.0 MiB" style rendering of a byte count into buf. */
const char *tool_human_bytes(uint64_t v, char *buf, size_t size);
/* s with every byte that is not printable ASCII replaced by '?' (strings
 * from a host must not drive the terminal). */
const char *tool_printable(const char *s, char *buf, size_t size);
/* 64-bit xorshift* generator; state must be non-zero. */
uint64_t tool_rand(uint64_t *state);
uint64_t tool_seed(void);

/* ---- JSON output (tools/json.c) ---- */

/* A streaming writer that gets commas, nesting and string escaping right
 * (strings from a host may hold any bytes: invalid UTF-8 becomes U+FFFD). */
#define TOOL_JSON_MAX_DEPTH 16
struct tool_json {
	FILE *f;
	int depth;
	bool need_comma[TOOL_JSON_MAX_DEPTH];
};
void tool_json_init(struct tool_json *j, FILE *f);
/* key is NULL for array elements and for the top-level value. */
void tool_json_obj(struct tool_json *j, const char *key);
void tool_json_arr(struct tool_json *j, const char *key);
void tool_json_end(struct tool_json *j, char close);   /* '}' or ']' */
void tool_json_str(struct tool_json *j, const char *key, const char *v);
void tool_json_u64(struct tool_json *j, const char *key, uint64_t v);
void tool_json_dbl(struct tool_json *j, const char *key, double v);
void tool_json_bool(struct tool_json *j, const char *key, bool v);
void tool_json_null(struct tool_json *j, const char *key);
/* Write s as a JSON string literal (with quotes) to f. */
void tool_json_quote(FILE *f, const char *s);
/* Finish the document with a newline. */
void tool_json_done(struct tool_json *j);

/* ---- latency histogram (tools/hist.c) ---- */

/* Log-linear buckets: 32 per power of two, so a percentile is within about
 * 3% of the true value.  Values in nanoseconds. */
#define TOOL_HIST_SUB 32
#define TOOL_HIST_BUCKETS (64 * TOOL_HIST_SUB)
struct tool_hist {
	uint64_t count, sum, min, max;
	uint64_t b[TOOL_HIST_BUCKETS];
};
void tool_hist_reset(struct tool_hist *h);
void tool_hist_add(struct tool_hist *h, uint64_t v);
/* The value below which a fraction p (0..1) of the samples lie. */
uint64_t tool_hist_pct(const struct tool_hist *h, double p);

/* ---- network loopback engine (tools/netloop.c) ---- */

#include <pvio/net.h>

/* The frames pvio sends to a reflecting peer: broadcast destination, our
 * source MAC, ethertype 0x88B5 (IEEE 802 local experimental), then a
 * header (magic, run id, sequence number, length, queue, checksum) and a
 * pattern derived from the sequence number, so every returned byte can be
 * checked. */
#define TOOL_NETLOOP_ETHERTYPE 0x88B5u
#define TOOL_NETLOOP_MIN_FRAME 60u /* Ethernet minimum without FCS */

struct tool_netloop_opts {
	uint64_t count;        /* frames to send */
	uint32_t size;         /* bytes per frame, header included, no FCS */
	uint32_t window;       /* frames in flight at most; 0: automatic */
	uint64_t stop_ns;      /* stop sending at this time (0: never) */
	uint64_t wait_ns;      /* give up when nothing arrives for this long */
};

struct tool_netloop_result {
	uint64_t sent, received, corrupted, duplicate, foreign, lost, unsent;
	uint64_t first_tx_ns, last_rx_ns;
	uint32_t window;
	bool stalled;          /* stopped because nothing came back */
	int error;             /* a library call failed (-errno), else 0 */
	char detail[160];      /* first corruption or error, for the report */
};

/* Run the loopback on every queue of net (frame i goes out on queue
 * i % num_queues; a frame may come back on any queue). */
void tool_netloop_run(pvio_net *net, const struct tool_netloop_opts *o,
		      struct tool_netloop_result *res);

#endif
