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

#include <signal.h>
#include <sys/types.h>

#include <pvio/blk.h>
#include <pvio/net.h>
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
int cmd_migrate_demo(int argc, char **argv);
int cmd_compare(int argc, char **argv);
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
	/* if not NULL: every intact frame's round trip (from being built,
	 * just before it is handed to the front end, to being received) */
	struct tool_hist *rtt;
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

/* The same loop in steps, so the caller can act (move the front end)
 * while frames are in flight.  o and res must outlive the session. */
struct tool_netloop;
int tool_netloop_new(pvio_net *net, const struct tool_netloop_opts *o,
		     struct tool_netloop_result *res, struct tool_netloop **out);
/* Send and check until until_ns: 0 when that time came, 1 when the run is
 * over (count sent and back, stop_ns passed and back, or stalled), or
 * res->error (-errno) when a library call failed. */
int tool_netloop_step(struct tool_netloop *s, uint64_t until_ns);
/* Send nothing more for now and wait (wait_ns without progress at most)
 * for the frames still out; the run goes on afterwards.  0 or -errno. */
int tool_netloop_settle(struct tool_netloop *s);
/* After an error the caller dealt with (e.g. by reconnecting). */
void tool_netloop_clear_error(struct tool_netloop *s);
/* Stop sending, wait (wait_ns without progress at most) for frames still
 * out, and fill res->lost and res->unsent.  0 or -errno. */
int tool_netloop_finish(struct tool_netloop *s);
void tool_netloop_free(struct tool_netloop *s);
/* Frames sent that have not come back (yet). */
uint64_t tool_netloop_outstanding(const struct tool_netloop *s);
/* n frames in flight will not come back (pvio counted them as dropped):
 * they no longer hold the window open.  They still count as outstanding. */
void tool_netloop_write_off(struct tool_netloop *s, uint64_t n);

/* ---- measurements (tools/measure.c): pvio bench and pvio compare ---- */

#define TOOL_MEASURE_MAX_QD 1024

struct tool_measure_opts {
	uint32_t bs;           /* block request size */
	uint32_t net_size;     /* frame size */
	double seconds, warmup;
};

/* One figure. */
struct tool_result {
	const char *address;
	struct pvio_dev_info dev;
	const char *op;          /* "randread", "randwrite", "loopback" */
	uint32_t size;           /* bytes per op */
	uint32_t depth;          /* queue depth or frame window */
	double secs;
	uint64_t ops;            /* completed requests or frames */
	struct tool_hist *hist;  /* block only (the caller's) */
	struct pvio_queue_stats d; /* counter deltas over the measurement */
	uint64_t lost;           /* network: frames that did not come back */
};

/* Random reads (or writes, which overwrite the device) at depth qd on
 * queue 0: TOOL_OK with res filled, or an exit status (message printed,
 * prefixed "pvio CMD:"). */
int tool_measure_blk(const char *cmd, pvio_blk *blk,
		     const struct tool_measure_opts *o, bool write, uint32_t qd,
		     struct tool_result *res);
/* Loopback through a reflecting peer; TOOL_VERIFY if a frame came back
 * wrong or not at all. */
int tool_measure_net(const char *cmd, pvio_net *net,
		     const struct tool_measure_opts *o, struct tool_result *res);
void tool_stats_sub(struct pvio_queue_stats *d, const struct pvio_queue_stats *a,
		    const struct pvio_queue_stats *b);
void tool_stats_add(struct pvio_queue_stats *d, const struct pvio_queue_stats *a);
/* v per op (0 when no op) */
double tool_per(uint64_t v, uint64_t ops);
/* {"cpu", "cpus", "kernel", "machine", "pvio"} as "host" */
void tool_json_machine(struct tool_json *j);
/* One figure as an object (address, protocol, op, rates, latency, per-op
 * counters, totals). */
void tool_json_result(struct tool_json *j, const struct tool_result *r);

/* ---- simulated hosts and real peers (tools/hosts.c) ---- */

/* Set by SIGINT/SIGTERM once tool_hosts_catch_signals() ran; long loops
 * stop and clean up when they see it. */
extern volatile sig_atomic_t tool_interrupted;
void tool_hosts_catch_signals(void);

enum tool_host_kind {
	TOOL_HOST_XEN = 0,     /* pvio sim xen */
	TOOL_HOST_HYPERV = 1,  /* pvio sim hyperv */
	TOOL_HOST_VIRTIO = 2,  /* pvio sim virtio */
	TOOL_HOST_QSD = 3,     /* qemu-storage-daemon (block only) */
	TOOL_HOST_TESTPMD = 4, /* dpdk-testpmd in io forward mode (network) */
	TOOL_HOST_NKINDS
};

struct tool_host_opts {
	const char *image;     /* the disk image to serve (exists); NULL: none */
	bool net;              /* a network device that reflects frames */
	const uint8_t *mac;    /* its MAC (NULL: the host's default) */
	unsigned timeout_ms;   /* readiness bound (0: 30 s) */
};

struct tool_host {
	int kind;
	const char *name;      /* "xen", "hyperv", "virtio", "qsd", "testpmd" */
	const char *label;     /* "Xen (pvio sim xen)", ... */
	pid_t pid;             /* 0 when not running */
	int status;            /* wait status once it ended */
	unsigned timeout_ms;
	char dir[200];
	char log[256];         /* stdout and stderr */
	char ctl[256];         /* `pvio sim ctl` socket; "" for real peers */
	char sock[256];        /* real peers: the socket that must listen */
	char ready[32];        /* simulated hosts: the ready line */
	long log_from;         /* where the log of the current run starts */
	char blk[320], net[320]; /* device addresses, "" when none */
	char *argv[40];        /* for restarts */
	char args[4096];
};

const char *tool_host_kind_name(int kind);
const char *tool_host_kind_label(int kind);
int tool_host_kind_of(const char *name);   /* -1 if unknown */
/* NULL if this kind of host can run here, else why not (one line). */
const char *tool_host_missing(int kind);
/* Start a host in dir (its sockets and log go there) and wait until it
 * serves.  0, or -errno with a one-line message in err. */
int tool_host_start(struct tool_host *h, int kind, const char *dir,
		    const struct tool_host_opts *o, char *err, size_t errlen);
/* SIGKILL: the host crashes (sockets stay behind, nothing is flushed). */
int tool_host_kill(struct tool_host *h);
/* Start the same command again (after a kill): a back end restarting;
 * wait: until it serves, else return once it runs (tool_host_wait_ready
 * later). */
int tool_host_restart(struct tool_host *h, bool wait, char *err,
		      size_t errlen);
int tool_host_wait_ready(struct tool_host *h, char *err, size_t errlen);
/* `pvio sim ctl` from a child process after delay_ms (a host that comes
 * back while the application waits for it); its pid, for tool_reap. */
pid_t tool_host_ctl_later(struct tool_host *h, const char *cmd,
			  unsigned delay_ms);
/* Wait (bounded) for a child: its exit status, or -errno. */
int tool_reap(pid_t pid, unsigned timeout_ms);
/* SIGTERM, then SIGKILL if it does not end within 5 s; reaps it. */
void tool_host_stop(struct tool_host *h);
/* `pvio sim ctl` on a simulated host: 0 or -errno; its reply in out. */
int tool_host_ctl(struct tool_host *h, const char *cmd, char *out,
		  size_t outlen);
/* A private temporary directory /tmp/pvio-WHAT.XXXXXX ($TMPDIR). */
int tool_tmpdir(char *out, size_t n, const char *what);
/* Remove a temporary directory made by tool_tmpdir (flat). */
void tool_rmtree(const char *dir);
/* A new sparse image of size bytes (zeros). */
int tool_make_image(const char *path, uint64_t size, char *err, size_t errlen);

/* ---- a block workload that checks itself (tools/blkcheck.c) ---- */

struct tool_blkcheck_opts {
	uint64_t offset, size; /* the region used (size 0: to the end); it
				  must read as zeros at the start */
	uint32_t chunk;        /* bytes tagged as one unit (4096) */
	uint32_t max_chunks;   /* chunks per request, 1.. (16) */
	uint32_t depth;        /* requests in flight on queue 0 (32) */
	unsigned read_pct;     /* share of reads, percent (0) */
	uint64_t seed;         /* 0: from the clock */
};

struct tool_blkcheck_stats {
	uint64_t writes, reads;          /* completed successfully */
	uint64_t write_bytes, read_bytes;
	uint64_t failed;                 /* completed with an error */
	int first_error;
	uint64_t chunks_checked;         /* chunk comparisons made */
	uint64_t corrupt;                /* chunks found wrong */
	uint64_t twice;                  /* completions of requests not in
					    flight */
};

struct tool_blkcheck;
int tool_blkcheck_new(pvio_blk *blk, const struct tool_blkcheck_opts *o,
		      struct tool_blkcheck **out, char *err, size_t errlen);
void tool_blkcheck_free(struct tool_blkcheck *b);
/* Keep requests in flight until until_ns (those still out stay out).
 * TOOL_OK; TOOL_VERIFY when a check failed (tool_blkcheck_detail says
 * which); -errno when a call failed - -EIO/-ENODEV when the device failed
 * (with PVIO_BLK_KEEP_ON_FAILURE the requests are held: reconnect or
 * migrate, then run or drain again). */
int tool_blkcheck_run(struct tool_blkcheck *b, uint64_t until_ns);
/* Wait for every request in flight (bounded). */
int tool_blkcheck_drain(struct tool_blkcheck *b);
/* Drain, then read the whole region through the front end and compare. */
int tool_blkcheck_verify_dev(struct tool_blkcheck *b);
/* Compare the region in the image file the device serves (nothing in
 * flight). */
int tool_blkcheck_verify_file(struct tool_blkcheck *b, const char *image);
const struct tool_blkcheck_stats *tool_blkcheck_stats(const struct tool_blkcheck *b);
const char *tool_blkcheck_detail(const struct tool_blkcheck *b);
uint32_t tool_blkcheck_inflight(const struct tool_blkcheck *b);

#endif
